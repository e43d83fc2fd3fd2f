
/*
 * ngx_http_scim_module: the content handler.
 *
 * authenticate -> route -> read the body -> core (parse, validate,
 * patch) -> Redis (asynchronous) -> core (present) -> response.
 *
 * While Redis answers, the request is suspended (r->main->count++,
 * NGX_DONE); every path ends in exactly one ngx_http_scim_finish().
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_CONTENT_TYPE  "application/scim+json"
#define NGX_HTTP_SCIM_MAX_RETRIES   8
#define NGX_HTTP_SCIM_SCAN_BATCH    500


static ngx_int_t ngx_http_scim_route(ngx_http_scim_ctx_t *ctx);
static ngx_int_t ngx_http_scim_prepare(ngx_http_scim_ctx_t *ctx);
static ngx_int_t ngx_http_scim_parse_query(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_scim_read_body(ngx_http_scim_ctx_t *ctx,
    u_char **data, size_t *len);
static void ngx_http_scim_dispatch(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_cleanup(void *data);

static void ngx_http_scim_finish(ngx_http_scim_ctx_t *ctx, ngx_int_t rc);
static void ngx_http_scim_reply(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    json_t *json, ngx_uint_t resource_headers);
static void ngx_http_scim_fail(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    const char *scim_type, const char *fmt, ...);
static void ngx_http_scim_fail_err(ngx_http_scim_ctx_t *ctx,
    scim_error_t *err);
static void ngx_http_scim_unavailable(ngx_http_scim_ctx_t *ctx);
static ngx_int_t ngx_http_scim_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
static json_t *ngx_http_scim_track(ngx_http_request_t *r, json_t *json);
static void ngx_http_scim_json_cleanup(void *data);

static void ngx_http_scim_redis_done(void *data, redisReply *reply);
static void ngx_http_scim_exec(ngx_http_scim_ctx_t *ctx,
    ngx_http_scim_script_e script, int nkeys, int argc, ngx_str_t *args,
    ngx_http_scim_step_pt step);
static ngx_int_t ngx_http_scim_reply_error(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);

static json_t *ngx_http_scim_parse_doc(ngx_http_scim_ctx_t *ctx,
    const char *s, size_t len);
static ngx_int_t ngx_http_scim_doc_version(json_t *doc);
static json_t *ngx_http_scim_assemble(ngx_http_scim_ctx_t *ctx,
    json_t *normalized, ngx_str_t *id, json_t *created);
static ngx_int_t ngx_http_scim_serialize(ngx_http_scim_ctx_t *ctx,
    json_t *doc);
static void ngx_http_scim_set_version(json_t *doc, long long seq);
static ngx_int_t ngx_http_scim_str(ngx_pool_t *pool, json_t *obj,
    const char *key, ngx_str_t *out, ngx_uint_t fold);
static ngx_int_t ngx_http_scim_if_match(ngx_http_scim_ctx_t *ctx);

static void ngx_http_scim_create(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_create_write(ngx_http_scim_ctx_t *ctx,
    redisReply *unused);
static void ngx_http_scim_create_done(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_scim_get(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_get_done(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_scim_modify(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_modify_read(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_scim_modify_write(ngx_http_scim_ctx_t *ctx,
    redisReply *unused);
static void ngx_http_scim_modify_done(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_scim_manager(ngx_http_scim_ctx_t *ctx,
    ngx_http_scim_step_pt next_write);
static void ngx_http_scim_manager_done(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_scim_delete_done(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_scim_list(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_list_one(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_scim_list_page(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_scim_list_scan(ngx_http_scim_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_scim_scan_next(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_list_respond(ngx_http_scim_ctx_t *ctx,
    json_t *docs, ngx_uint_t total, ngx_uint_t paged);


static const char  *ngx_http_scim_user_hints[] = {
    "id", "userName", "externalId"
};


ngx_int_t
ngx_http_scim_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_scim_ctx_t       *ctx;
    ngx_http_cleanup_t        *cln;
    ngx_http_scim_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->slcf = slcf;
    ctx->expect_version = -1;

    ngx_http_set_ctx(r, ctx, ngx_http_scim_module);

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_scim_cleanup;
    cln->data = ctx;

    /* every path below ends in ngx_http_scim_finish() */
    r->main->count++;

    if (ngx_http_scim_authenticate(r, slcf) != NGX_OK) {
        ngx_http_discard_request_body(r);
        ngx_http_scim_fail(ctx, NGX_HTTP_UNAUTHORIZED, NULL,
                           "missing or invalid bearer token");
        return NGX_DONE;
    }

    if (ngx_http_scim_route(ctx) != NGX_OK) {
        ngx_http_discard_request_body(r);
        return NGX_DONE;
    }

    if (ngx_http_scim_prepare(ctx) != NGX_OK) {
        ngx_http_discard_request_body(r);
        return NGX_DONE;
    }

    if (r->method & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH)) {

        if (slcf->max_body && r->headers_in.content_length_n > 0
            && (size_t) r->headers_in.content_length_n > slcf->max_body)
        {
            ngx_http_discard_request_body(r);
            ngx_http_scim_fail(ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
                               "request body larger than %uz bytes",
                               slcf->max_body);
            return NGX_DONE;
        }

        rc = ngx_http_read_client_request_body(r, ngx_http_scim_body_handler);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            r->keepalive = 0;
            ngx_http_scim_fail(ctx, rc, NULL, "cannot read the request body");
            return NGX_DONE;
        }

        /* read_client_request_body took its own reference */
        r->main->count--;

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        r->keepalive = 0;
    }

    ngx_http_scim_dispatch(ctx);

    return NGX_DONE;
}


/*
 * The location prefix is the base path; the SCIM route is read from the
 * end of the URI, so that regex locations (per-customer paths) work too.
 */

static ngx_int_t
ngx_http_scim_route(ngx_http_scim_ctx_t *ctx)
{
    u_char              *p, *start, *end, *last_seg, *prev_seg, *base_end;
    size_t               last_len, prev_len;
    ngx_uint_t           i;
    ngx_http_request_t  *r;

    static struct {
        ngx_str_t                 name;
        ngx_http_scim_resource_e  resource;
        ngx_uint_t                with_id;
    } routes[] = {
        { ngx_string("Users"), NGX_HTTP_SCIM_R_USERS, 1 },
        { ngx_string("Groups"), NGX_HTTP_SCIM_R_GROUPS, 1 },
        { ngx_string("Schemas"), NGX_HTTP_SCIM_R_SCHEMAS, 1 },
        { ngx_string("ResourceTypes"), NGX_HTTP_SCIM_R_RESOURCE_TYPES, 1 },
        { ngx_string("ServiceProviderConfig"), NGX_HTTP_SCIM_R_SPC, 0 },
        { ngx_string("ServiceProviderConfigs"), NGX_HTTP_SCIM_R_SPC, 0 },
        { ngx_string("Bulk"), NGX_HTTP_SCIM_R_BULK, 0 },
        { ngx_string("Me"), NGX_HTTP_SCIM_R_ME, 1 },
        { ngx_string(".search"), NGX_HTTP_SCIM_R_SEARCH, 0 },
    };

    r = ctx->request;

    start = r->uri.data;
    end = start + r->uri.len;

    while (end > start && end[-1] == '/') {
        end--;
    }

    p = end;

    while (p > start && p[-1] != '/') {
        p--;
    }

    last_seg = p;
    last_len = end - p;

    prev_seg = NULL;
    prev_len = 0;

    if (p > start) {
        end = p - 1;
        p = end;

        while (p > start && p[-1] != '/') {
            p--;
        }

        prev_seg = p;
        prev_len = end - p;
    }

    ctx->resource = NGX_HTTP_SCIM_R_NONE;
    base_end = NULL;

    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (prev_seg && routes[i].with_id
            && prev_len == routes[i].name.len
            && ngx_strncasecmp(prev_seg, routes[i].name.data, prev_len) == 0)
        {
            ctx->resource = routes[i].resource;
            ctx->id.data = last_seg;
            ctx->id.len = last_len;
            base_end = prev_seg;
            break;
        }
    }

    if (ctx->resource == NGX_HTTP_SCIM_R_NONE) {
        for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
            if (last_len == routes[i].name.len
                && ngx_strncasecmp(last_seg, routes[i].name.data, last_len)
                   == 0)
            {
                ctx->resource = routes[i].resource;
                base_end = last_seg;
                break;
            }
        }
    }

    if (ctx->resource == NGX_HTTP_SCIM_R_NONE) {
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "no SCIM endpoint at \"%V\"", &r->uri);
        return NGX_ERROR;
    }

    if ((ctx->resource == NGX_HTTP_SCIM_R_USERS
         || ctx->resource == NGX_HTTP_SCIM_R_GROUPS)
        && ctx->id.len == 7
        && ngx_strncmp(ctx->id.data, ".search", 7) == 0)
    {
        ctx->search = 1;
        ctx->id.len = 0;
    }

    /* the base path: the URI before the resource, no trailing slash */

    while (base_end > start && base_end[-1] == '/') {
        base_end--;
    }

    ctx->base_url.data = start;
    ctx->base_url.len = base_end - start;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_prepare(ngx_http_scim_ctx_t *ctx)
{
    u_char                    *p;
    ngx_str_t                  tenant, base, host, scheme;
    ngx_uint_t                 i;
    const char                *type;
    ngx_http_request_t        *r;
    ngx_http_core_srv_conf_t  *cscf;

    r = ctx->request;

    switch (ctx->resource) {

    case NGX_HTTP_SCIM_R_USERS:
        ctx->rt = scim_registry_user(ctx->slcf->registry);
        type = "User";
        break;

    case NGX_HTTP_SCIM_R_GROUPS:
        ctx->rt = scim_registry_group(ctx->slcf->registry);
        type = "Group";
        break;

    case NGX_HTTP_SCIM_R_ME:
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_IMPLEMENTED, NULL,
                           "/Me is not supported: a bearer token carries no "
                           "user identity");
        return NGX_ERROR;

    default:
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_IMPLEMENTED, NULL,
                           "this endpoint is not implemented yet");
        return NGX_ERROR;
    }

    /* tenant */

    if (ctx->slcf->tenant) {
        if (ngx_http_complex_value(r, ctx->slcf->tenant, &tenant) != NGX_OK) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return NGX_ERROR;
        }

    } else {
        ngx_str_set(&tenant, "default");
    }

    for (i = 0; i < tenant.len; i++) {
        if (tenant.data[i] == '{' || tenant.data[i] == '}') {
            break;
        }
    }

    if (tenant.len == 0 || tenant.len > 256 || i < tenant.len) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim: invalid tenant \"%V\" (empty, longer than 256 "
                      "or with braces)", &tenant);
        ngx_http_scim_fail(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                           "the tenant of this location is misconfigured");
        return NGX_ERROR;
    }

    if (ngx_http_scim_store_keys(r->pool, &tenant, type, &ctx->keys)
        != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    /* base URL for meta.location and $ref, NUL-terminated */

    if (ctx->slcf->base_url) {
        if (ngx_http_complex_value(r, ctx->slcf->base_url, &base) != NGX_OK) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return NGX_ERROR;
        }

        while (base.len && base.data[base.len - 1] == '/') {
            base.len--;
        }

        p = ngx_pnalloc(r->pool, base.len + 1);
        if (p == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return NGX_ERROR;
        }

        ngx_memcpy(p, base.data, base.len);
        p[base.len] = '\0';

        ctx->base_url.data = p;
        ctx->base_url.len = base.len;

    } else {
        if (r->headers_in.host) {
            host = r->headers_in.host->value;

        } else {
            cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
            host = cscf->server_name;
        }

#if (NGX_HTTP_SSL)
        if (r->connection->ssl) {
            ngx_str_set(&scheme, "https");

        } else
#endif
        {
            ngx_str_set(&scheme, "http");
        }

        p = ngx_pnalloc(r->pool, scheme.len + 3 + host.len
                                 + ctx->base_url.len + 1);
        if (p == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return NGX_ERROR;
        }

        base.data = p;
        p = ngx_sprintf(p, "%V://%V%V", &scheme, &host, &ctx->base_url);
        *p = '\0';

        ctx->base_url.data = base.data;
        ctx->base_url.len = p - base.data;
    }

    if (ngx_http_scim_parse_query(ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_scim_if_match(ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* decodes %XX and '+' in place */

static void
ngx_http_scim_unescape(ngx_str_t *s)
{
    u_char     *p, *q, *last;
    ngx_int_t   hi, lo;

    p = s->data;
    q = p;
    last = p + s->len;

    while (p < last) {
        if (*p == '+') {
            *q++ = ' ';
            p++;
            continue;
        }

        if (*p == '%' && last - p >= 3) {
            hi = ngx_hextoi(p + 1, 1);
            lo = ngx_hextoi(p + 2, 1);

            if (hi != NGX_ERROR && lo != NGX_ERROR) {
                *q++ = (u_char) (hi * 16 + lo);
                p += 3;
                continue;
            }
        }

        *q++ = *p++;
    }

    s->len = q - s->data;
}


static ngx_int_t
ngx_http_scim_query_int(ngx_http_scim_ctx_t *ctx, ngx_str_t *name,
    ngx_str_t *value, ngx_int_t *out)
{
    u_char     *p;
    ngx_int_t   n, neg;

    p = value->data;
    neg = 0;

    if (value->len && *p == '-') {
        neg = 1;
        p++;
    }

    n = ngx_atoi(p, value->len - neg);

    if (n == NGX_ERROR || value->len - neg > 9) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                           SCIM_ERR_INVALID_VALUE,
                           "\"%V\" must be an integer", name);
        return NGX_ERROR;
    }

    *out = neg ? -n : n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_parse_query(ngx_http_scim_ctx_t *ctx)
{
    u_char              *p, *last, *amp, *eq, *copy;
    ngx_str_t            name, value;
    ngx_int_t            n;
    ngx_http_request_t  *r;

    r = ctx->request;

    ctx->start_index = 1;
    ctx->count = (ngx_int_t) ctx->slcf->max_results;

    if (r->args.len == 0) {
        return NGX_OK;
    }

    copy = ngx_pnalloc(r->pool, r->args.len);
    if (copy == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    ngx_memcpy(copy, r->args.data, r->args.len);

    p = copy;
    last = copy + r->args.len;

    while (p < last) {
        amp = ngx_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        eq = ngx_strlchr(p, amp, '=');

        name.data = p;
        name.len = (eq ? eq : amp) - p;

        if (eq) {
            value.data = eq + 1;
            value.len = amp - eq - 1;

        } else {
            value.data = amp;
            value.len = 0;
        }

        p = amp + 1;

        ngx_http_scim_unescape(&name);
        ngx_http_scim_unescape(&value);

#define ngx_http_scim_is(s)                                                  \
        (name.len == sizeof(s) - 1                                           \
         && ngx_strncasecmp(name.data, (u_char *) s, sizeof(s) - 1) == 0)

        if (ngx_http_scim_is("filter")) {
            ctx->filter = value;
            ctx->has_filter = 1;

        } else if (ngx_http_scim_is("attributes")) {
            ctx->attributes = value;

        } else if (ngx_http_scim_is("excludedAttributes")) {
            ctx->excluded = value;

        } else if (ngx_http_scim_is("sortBy")) {
            ctx->sort_by = value;
            ctx->has_sort = value.len > 0;

        } else if (ngx_http_scim_is("sortOrder")) {
            if (value.len == 10
                && ngx_strncasecmp(value.data, (u_char *) "descending", 10)
                   == 0)
            {
                ctx->descending = 1;

            } else if (!(value.len == 9
                         && ngx_strncasecmp(value.data,
                                            (u_char *) "ascending", 9) == 0)
                       && value.len != 0)
            {
                ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                                   SCIM_ERR_INVALID_VALUE,
                                   "\"sortOrder\" must be \"ascending\" or "
                                   "\"descending\"");
                return NGX_ERROR;
            }

        } else if (ngx_http_scim_is("startIndex")) {
            if (ngx_http_scim_query_int(ctx, &name, &value, &n) != NGX_OK) {
                return NGX_ERROR;
            }

            /* RFC 7644 3.4.2.4: values below 1 mean 1 */
            ctx->start_index = n < 1 ? 1 : n;

        } else if (ngx_http_scim_is("count")) {
            if (ngx_http_scim_query_int(ctx, &name, &value, &n) != NGX_OK) {
                return NGX_ERROR;
            }

            /* negative means 0; above the maximum, the maximum */
            if (n < 0) {
                n = 0;
            }

            if ((ngx_uint_t) n > ctx->slcf->max_results) {
                n = (ngx_int_t) ctx->slcf->max_results;
            }

            ctx->count = n;
        }

        /* unknown parameters (aadOptscim062020, ...) are ignored */

#undef ngx_http_scim_is
    }

    return NGX_OK;
}


/* If-Match: W/"n" (or "n", or *) */

static ngx_int_t
ngx_http_scim_if_match(ngx_http_scim_ctx_t *ctx)
{
    u_char              *p, *last;
    ngx_int_t            n;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (r->headers_in.if_match == NULL) {
        return NGX_OK;
    }

    p = r->headers_in.if_match->value.data;
    last = p + r->headers_in.if_match->value.len;

    if (last - p == 1 && *p == '*') {
        return NGX_OK;
    }

    if (last - p >= 2 && (p[0] == 'W' || p[0] == 'w') && p[1] == '/') {
        p += 2;
    }

    if (last - p >= 2 && *p == '"' && last[-1] == '"') {
        p++;
        last--;
    }

    n = ngx_atoi(p, last - p);

    /* a version we never issued can only be stale */
    ctx->expect_version = (n == NGX_ERROR) ? 0 : n;

    return NGX_OK;
}


static void
ngx_http_scim_body_handler(ngx_http_request_t *r)
{
    u_char               *data;
    size_t                len;
    json_t               *body;
    json_error_t          jerr;
    ngx_http_scim_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

    if (ngx_http_scim_read_body(ctx, &data, &len) != NGX_OK) {
        return;
    }

    if (len == 0) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_SYNTAX,
                           "the request needs a JSON body");
        return;
    }

    body = json_loadb((char *) data, len, JSON_REJECT_DUPLICATES, &jerr);

    if (body == NULL) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_SYNTAX,
                           "invalid JSON at line %d column %d: %s",
                           jerr.line, jerr.column, jerr.text);
        return;
    }

    ctx->body = ngx_http_scim_track(r, body);

    if (ctx->body == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!json_is_object(body)) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_SYNTAX,
                           "the request body must be a JSON object");
        return;
    }

    ngx_http_scim_dispatch(ctx);
}


static ngx_int_t
ngx_http_scim_read_body(ngx_http_scim_ctx_t *ctx, u_char **data,
    size_t *len)
{
    u_char              *p;
    off_t                size;
    ssize_t              n;
    ngx_buf_t           *b;
    ngx_chain_t         *cl;
    ngx_http_request_t  *r;

    r = ctx->request;

    *data = NULL;
    *len = 0;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        size += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    if (ctx->slcf->max_body && (size_t) size > ctx->slcf->max_body) {
        ngx_http_scim_fail(ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
                           "request body larger than %uz bytes",
                           ctx->slcf->max_body);
        return NGX_ERROR;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && !cl->buf->in_file) {
        *data = cl->buf->pos;
        *len = cl->buf->last - cl->buf->pos;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) size + 1);
    if (p == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    *data = p;

    for ( /* void */ ; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n == NGX_ERROR) {
                ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return NGX_ERROR;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *len = p - *data;

    return NGX_OK;
}


static void
ngx_http_scim_dispatch(ngx_http_scim_ctx_t *ctx)
{
    ngx_uint_t           method;
    ngx_http_request_t  *r;

    r = ctx->request;
    method = r->method;

    if (ctx->search) {
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_IMPLEMENTED, NULL,
                           ".search is not implemented yet");
        return;
    }

    if (ctx->id.len == 0) {
        if (method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
            ngx_http_scim_list(ctx);
            return;
        }

        if (method == NGX_HTTP_POST) {
            ngx_http_scim_create(ctx);
            return;
        }

        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_ALLOWED, NULL,
                           "method not allowed on %s",
                           ctx->rt->endpoint);
        return;
    }

    if (!ngx_http_scim_store_valid_id(ctx->id.data, ctx->id.len)) {
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;
    }

    switch (method) {

    case NGX_HTTP_GET:
    case NGX_HTTP_HEAD:
        ngx_http_scim_get(ctx);
        return;

    case NGX_HTTP_PUT:
    case NGX_HTTP_PATCH:
    case NGX_HTTP_DELETE:
        ngx_http_scim_modify(ctx);
        return;

    default:
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_ALLOWED, NULL,
                           "method not allowed on %s/{id}",
                           ctx->rt->endpoint);
        return;
    }
}


static void
ngx_http_scim_cleanup(void *data)
{
    ngx_http_scim_ctx_t  *ctx = data;

    if (ctx->cmd) {
        ngx_scim_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }

    if (ctx->filter_ast) {
        scim_filter_free(ctx->filter_ast);
        ctx->filter_ast = NULL;
    }

    if (ctx->projection) {
        scim_projection_free(ctx->projection);
        ctx->projection = NULL;
    }
}


/* responses */

static void
ngx_http_scim_finish(ngx_http_scim_ctx_t *ctx, ngx_int_t rc)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_scim_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    size_t        size;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    ngx_str_set(&r->headers_out.content_type, NGX_HTTP_SCIM_CONTENT_TYPE);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (json == NULL || status == NGX_HTTP_NO_CONTENT
        || status == NGX_HTTP_NOT_MODIFIED)
    {
        r->header_only = 1;
        r->headers_out.content_length_n = 0;

        if (status == NGX_HTTP_NO_CONTENT || status == NGX_HTTP_NOT_MODIFIED)
        {
            r->headers_out.content_type.len = 0;
            r->headers_out.content_type.data = NULL;
            r->headers_out.content_length_n = -1;
        }

        return ngx_http_send_header(r);
    }

    size = json_dumpb(json, NULL, 0, JSON_COMPACT);
    if (size == 0) {
        return NGX_ERROR;
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = b->pos + json_dumpb(json, (char *) b->pos, size, JSON_COMPACT);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_scim_add_header(ngx_http_request_t *r, const char *name,
    const char *value, ngx_table_elt_t **slot)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);

    h->value.len = ngx_strlen(value);
    h->value.data = ngx_pnalloc(r->pool, h->value.len);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(h->value.data, value, h->value.len);

    if (slot) {
        *slot = h;
    }

    return NGX_OK;
}


/*
 * resource_headers: 0 none, 1 ETag, 2 ETag and Location (create)
 */

static void
ngx_http_scim_reply(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    json_t *json, ngx_uint_t resource_headers)
{
    json_t              *meta, *v;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (json && resource_headers) {
        meta = json_object_get(json, "meta");

        v = json_object_get(meta, "version");
        if (json_is_string(v)) {
            if (ngx_http_scim_add_header(r, "ETag", json_string_value(v),
                                         &r->headers_out.etag)
                != NGX_OK)
            {
                ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }
        }

        v = json_object_get(meta, "location");
        if (resource_headers == 2 && json_is_string(v)) {
            if (ngx_http_scim_add_header(r, "Location", json_string_value(v),
                                         &r->headers_out.location)
                != NGX_OK)
            {
                ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }
        }
    }

    ngx_http_scim_finish(ctx, ngx_http_scim_send_json(r, status, json));
}


static void
ngx_http_scim_fail_err(ngx_http_scim_ctx_t *ctx, scim_error_t *err)
{
    json_t              *json;
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (err->status < NGX_HTTP_BAD_REQUEST) {
        err->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json = scim_error_to_json(err);
    if (json == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (err->status == NGX_HTTP_UNAUTHORIZED) {
        if (ngx_http_scim_add_header(r, "WWW-Authenticate",
                                     "Bearer realm=\"SCIM\"",
                                     &r->headers_out.www_authenticate)
            != NGX_OK)
        {
            json_decref(json);
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (err->status == NGX_HTTP_NOT_ALLOWED) {
        (void) ngx_http_scim_add_header(r, "Allow",
                                        ctx->id.len
                                        ? "GET, PUT, PATCH, DELETE"
                                        : "GET, POST", NULL);
    }

    if (err->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        (void) ngx_http_scim_add_header(r, "Retry-After", "1", NULL);
    }

    /* error responses of a bad request body keep nothing half-read */
    if (err->status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        r->keepalive = 0;
    }

    rc = ngx_http_scim_send_json(r, err->status, json);
    json_decref(json);

    ngx_http_scim_finish(ctx, rc);
}


static void
ngx_http_scim_fail(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    const char *scim_type, const char *fmt, ...)
{
    u_char        *p;
    va_list        args;
    scim_error_t   err;

    ngx_memzero(&err, sizeof(scim_error_t));

    err.status = (int) status;
    err.scim_type = scim_type;

    va_start(args, fmt);
    p = ngx_vslprintf((u_char *) err.detail,
                      (u_char *) err.detail + sizeof(err.detail) - 1,
                      fmt, args);
    va_end(args);

    *p = '\0';

    ngx_http_scim_fail_err(ctx, &err);
}


static void
ngx_http_scim_unavailable(ngx_http_scim_ctx_t *ctx)
{
    ngx_http_scim_fail(ctx, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                       "the directory store is unavailable; retry later");
}


static json_t *
ngx_http_scim_track(ngx_http_request_t *r, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    if (json == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NULL;
    }

    cln->handler = ngx_http_scim_json_cleanup;
    cln->data = json;

    return json;
}


static void
ngx_http_scim_json_cleanup(void *data)
{
    json_decref(data);
}


/* Redis */

static void
ngx_http_scim_redis_done(void *data, redisReply *reply)
{
    ngx_http_scim_ctx_t  *ctx = data;

    ctx->cmd = NULL;

    if (reply == NULL) {
        ngx_http_scim_unavailable(ctx);
        return;
    }

    ctx->step(ctx, reply);
}


/*
 * Runs a script (or, with script == NGX_HTTP_SCIM_SCRIPT_N, the plain
 * command in args) and continues with step; answers 503 itself when
 * Redis is unavailable.
 */

static void
ngx_http_scim_exec(ngx_http_scim_ctx_t *ctx, ngx_http_scim_script_e script,
    int nkeys, int argc, ngx_str_t *args, ngx_http_scim_step_pt step)
{
    int                         i;
    size_t                     *argvlen;
    ngx_int_t                   rc;
    const char                **argv;
    ngx_http_request_t         *r;
    ngx_scim_redis_script_t    *s;

    r = ctx->request;

    argv = ngx_palloc(r->pool, argc * (sizeof(char *) + sizeof(size_t)));
    if (argv == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    argvlen = (size_t *) (argv + argc);

    for (i = 0; i < argc; i++) {
        argv[i] = (const char *) args[i].data;
        argvlen[i] = args[i].len;
    }

    ctx->step = step;

    if (script == NGX_HTTP_SCIM_SCRIPT_N) {
        rc = ngx_scim_redis_command(ctx->slcf->redis, argc, argv, argvlen,
                                    ngx_http_scim_redis_done, ctx, &ctx->cmd);

    } else {
        s = &ctx->slcf->redis->scripts[script];
        rc = ngx_scim_redis_eval(ctx->slcf->redis, s, nkeys, argc, argv,
                                 argvlen, ngx_http_scim_redis_done, ctx,
                                 &ctx->cmd);
    }

    if (rc == NGX_OK) {
        return;
    }

    ctx->cmd = NULL;

    if (rc == NGX_DECLINED) {
        ngx_http_scim_unavailable(ctx);
        return;
    }

    ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
}


/* a Redis error reply is logged and answered with 500 */

static ngx_int_t
ngx_http_scim_reply_error(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ERROR) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                  "scim redis error: %*s", (size_t) reply->len, reply->str);

    ngx_http_scim_fail(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                       "the directory store failed the request");

    return NGX_ERROR;
}


/* documents */

static json_t *
ngx_http_scim_parse_doc(ngx_http_scim_ctx_t *ctx, const char *s, size_t len)
{
    json_t  *doc;

    doc = json_loadb(s, len, 0, NULL);

    if (doc == NULL || !json_is_object(doc)) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "scim: a stored document is not a JSON object");
        json_decref(doc);
        return NULL;
    }

    return ngx_http_scim_track(ctx->request, doc);
}


static ngx_int_t
ngx_http_scim_doc_version(json_t *doc)
{
    size_t       len;
    ngx_int_t    n;
    const char  *v;

    v = json_string_value(json_object_get(json_object_get(doc, "meta"),
                                          "version"));
    if (v == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(v);

    if (len < 5 || v[0] != 'W' || v[1] != '/' || v[2] != '"'
        || v[len - 1] != '"')
    {
        return NGX_ERROR;
    }

    n = ngx_atoi((u_char *) v + 3, len - 4);

    return n;
}


static void
ngx_http_scim_iso_time(u_char *buf)
{
    ngx_tm_t     tm;
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    ngx_gmtime(tp->sec, &tm);

    ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02d.%03MZ%Z",
                tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                tp->msec);
}


/*
 * The stored form: schemas, id, the attributes, meta last with version
 * last (see ngx_http_scim_store.h).
 */

static json_t *
ngx_http_scim_assemble(ngx_http_scim_ctx_t *ctx, json_t *normalized,
    ngx_str_t *id, json_t *created)
{
    u_char       now[sizeof("2026-01-01T00:00:00.000Z")];
    json_t      *doc, *meta, *value;
    const char  *key;

    doc = json_object();
    meta = json_object();

    if (doc == NULL || meta == NULL) {
        goto failed;
    }

    value = json_object_get(normalized, "schemas");

    if (value && json_object_set(doc, "schemas", value) != 0) {
        goto failed;
    }

    if (json_object_set_new(doc, "id", json_stringn((char *) id->data,
                                                    id->len))
        != 0)
    {
        goto failed;
    }

    json_object_foreach(normalized, key, value) {
        if (ngx_strcmp(key, "schemas") == 0 || ngx_strcmp(key, "id") == 0
            || ngx_strcmp(key, "meta") == 0)
        {
            continue;
        }

        if (json_object_set(doc, key, value) != 0) {
            goto failed;
        }
    }

    ngx_http_scim_iso_time(now);

    if (json_object_set_new(meta, "resourceType",
                            json_string(ctx->rt->name)) != 0
        || json_object_set_new(meta, "created",
                               created ? json_incref(created)
                                       : json_string((char *) now)) != 0
        || json_object_set_new(meta, "lastModified",
                               json_string((char *) now)) != 0
        || json_object_set_new(meta, "version", json_string("")) != 0
        || json_object_set_new(doc, "meta", meta) != 0)
    {
        meta = NULL;
        goto failed;
    }

    return ngx_http_scim_track(ctx->request, doc);

failed:

    json_decref(meta);
    json_decref(doc);

    return NULL;
}


/* ctx->prefix = the stored form of doc without its version */

static ngx_int_t
ngx_http_scim_serialize(ngx_http_scim_ctx_t *ctx, json_t *doc)
{
    u_char  *p;
    size_t   size;

    static const char  tail[] = "\"version\":\"\"}}";

    size = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    if (size == 0) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(ctx->request->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    size = json_dumpb(doc, (char *) p, size, JSON_COMPACT);

    if (size < sizeof(tail) - 1
        || ngx_memcmp(p + size - (sizeof(tail) - 1), tail, sizeof(tail) - 1)
           != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, ctx->request->connection->log, 0,
                      "scim: document does not end with its version");
        return NGX_ERROR;
    }

    /* keep ..."version":" */
    ctx->prefix.data = p;
    ctx->prefix.len = size - 3;

    return NGX_OK;
}


static void
ngx_http_scim_set_version(json_t *doc, long long seq)
{
    char  buf[32];

    snprintf(buf, sizeof(buf), "W/\"%lld\"", seq);

    json_object_set_new(json_object_get(doc, "meta"), "version",
                        json_string(buf));
}


/* a string member as ngx_str_t (empty if absent), optionally case-folded */

static ngx_int_t
ngx_http_scim_str(ngx_pool_t *pool, json_t *obj, const char *key,
    ngx_str_t *out, ngx_uint_t fold)
{
    char        *f;
    size_t       len;
    json_t      *v;
    const char  *s;

    v = json_object_get(obj, key);

    if (!json_is_string(v)) {
        out->data = (u_char *) "";
        out->len = 0;
        return NGX_OK;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (!fold) {
        out->data = (u_char *) s;
        out->len = len;
        return NGX_OK;
    }

    f = scim_casefold(s, len, &len);
    if (f == NULL) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        free(f);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, f, len);
    out->len = len;
    free(f);

    return NGX_OK;
}


/* the name index: userName for users, displayName for groups */

static const char *
ngx_http_scim_name_attr(ngx_http_scim_ctx_t *ctx)
{
    return ctx->resource == NGX_HTTP_SCIM_R_USERS ? "userName" : "displayName";
}


static json_t *
ngx_http_scim_present(ngx_http_scim_ctx_t *ctx, json_t *doc)
{
    return ngx_http_scim_track(ctx->request,
                               scim_resource_present(ctx->rt, doc,
                                   (const char *) ctx->base_url.data,
                                   ctx->projection));
}


static ngx_int_t
ngx_http_scim_projection(ngx_http_scim_ctx_t *ctx)
{
    u_char        *a, *e;
    scim_error_t   err;

    if (ctx->attributes.len == 0 && ctx->excluded.len == 0) {
        return NGX_OK;
    }

    a = ngx_pnalloc(ctx->request->pool,
                    ctx->attributes.len + ctx->excluded.len + 2);
    if (a == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    e = ngx_cpymem(a, ctx->attributes.data, ctx->attributes.len);
    *e++ = '\0';
    ngx_memcpy(e, ctx->excluded.data, ctx->excluded.len);
    e[ctx->excluded.len] = '\0';

    ngx_memzero(&err, sizeof(scim_error_t));

    ctx->projection = scim_projection_create(ctx->rt,
                                             ctx->attributes.len
                                             ? (char *) a : NULL,
                                             ctx->excluded.len
                                             ? (char *) e : NULL,
                                             &err);
    if (ctx->projection == NULL) {
        ngx_http_scim_fail_err(ctx, &err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* POST /Users */

static void
ngx_http_scim_create(ngx_http_scim_ctx_t *ctx)
{
    u_char        *idbuf;
    json_t        *normalized;
    ngx_str_t      id;
    scim_error_t   err;

    if (ngx_http_scim_projection(ctx) != NGX_OK) {
        return;
    }

    ngx_memzero(&err, sizeof(scim_error_t));

    normalized = ngx_http_scim_track(ctx->request,
                                     scim_resource_normalize(ctx->rt,
                                                     ctx->body,
                                                     SCIM_INPUT_CREATE,
                                                     &err));
    if (normalized == NULL) {
        if (err.status) {
            ngx_http_scim_fail_err(ctx, &err);

        } else {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (ngx_http_scim_hash_password(ctx->request, normalized) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    idbuf = ngx_pnalloc(ctx->request->pool, 36);
    if (idbuf == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_random_id(idbuf);
    id.data = idbuf;
    id.len = 36;
    ctx->id = id;

    ctx->newdoc = ngx_http_scim_assemble(ctx, normalized, &id, NULL);
    if (ctx->newdoc == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_manager(ctx, ngx_http_scim_create_write);
}


static void
ngx_http_scim_create_write(ngx_http_scim_ctx_t *ctx, redisReply *unused)
{
    ngx_str_t            args[9];
    ngx_pool_t          *pool;

    pool = ctx->request->pool;

    if (ngx_http_scim_serialize(ctx, ctx->newdoc) != NGX_OK
        || ngx_http_scim_store_id_key(pool, &ctx->keys, &ctx->id, NULL,
                                      &args[0]) != NGX_OK
        || ngx_http_scim_store_key(pool, &ctx->keys, "ids", 3, &args[1])
           != NGX_OK
        || ngx_http_scim_store_key(pool, &ctx->keys,
                                   ctx->resource == NGX_HTTP_SCIM_R_USERS
                                   ? "idx:userName" : "idx:displayName",
                                   ctx->resource == NGX_HTTP_SCIM_R_USERS
                                   ? 12 : 15, &args[3]) != NGX_OK
        || ngx_http_scim_store_key(pool, &ctx->keys, "idx:externalId", 14,
                                   &args[4]) != NGX_OK
        || ngx_http_scim_str(pool, ctx->newdoc, ngx_http_scim_name_attr(ctx),
                             &args[7], 1) != NGX_OK
        || ngx_http_scim_str(pool, ctx->newdoc, "externalId", &args[8], 0)
           != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[2].data = ngx_pnalloc(pool, ctx->keys.tenant.len + 3);
    if (args[2].data == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[2].len = ngx_sprintf(args[2].data, "%Vseq", &ctx->keys.tenant)
                  - args[2].data;

    args[5] = ctx->id;
    args[6] = ctx->prefix;

    ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_CREATE, 5, 9, args,
                       ngx_http_scim_create_done);
}


static void
ngx_http_scim_create_done(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    json_t  *out;

    if (ngx_http_scim_reply_error(ctx, reply) != NGX_OK) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    switch (reply->element[0]->integer) {

    case NGX_HTTP_SCIM_STORE_OK:
        ngx_http_scim_set_version(ctx->newdoc,
                                  reply->element[1]->integer);

        out = ngx_http_scim_present(ctx, ctx->newdoc);
        if (out == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_scim_reply(ctx, NGX_HTTP_CREATED, out, 2);
        return;

    case NGX_HTTP_SCIM_STORE_CONFLICT:
        ngx_http_scim_fail(ctx, NGX_HTTP_CONFLICT, SCIM_ERR_UNIQUENESS,
                           "%s is already taken",
                           reply->elements > 1
                           && reply->element[1]->integer
                              == NGX_HTTP_SCIM_STORE_IDX_EXT
                           ? "externalId" : ngx_http_scim_name_attr(ctx));
        return;

    default:
        /* an id collision: not expected with 122 random bits */
        ngx_http_scim_fail(ctx, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                           "id collision, retry");
        return;
    }
}


/* GET /Users/{id} */

static void
ngx_http_scim_get(ngx_http_scim_ctx_t *ctx)
{
    ngx_str_t  args[2];

    if (ngx_http_scim_projection(ctx) != NGX_OK) {
        return;
    }

    ngx_str_set(&args[0], "GET");

    if (ngx_http_scim_store_id_key(ctx->request->pool, &ctx->keys, &ctx->id,
                                   NULL, &args[1])
        != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_N, 0, 2, args,
                       ngx_http_scim_get_done);
}


static void
ngx_http_scim_get_done(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    json_t              *doc, *out;
    ngx_int_t            version;
    ngx_table_elt_t     *inm;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (ngx_http_scim_reply_error(ctx, reply) != NGX_OK) {
        return;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;
    }

    doc = ngx_http_scim_parse_doc(ctx, reply->str, reply->len);
    if (doc == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    inm = r->headers_in.if_none_match;

    if (inm) {
        version = ngx_http_scim_doc_version(doc);
        ctx->expect_version = -1;

        if (version != NGX_ERROR
            && ngx_strlchr(inm->value.data, inm->value.data + inm->value.len,
                           '"'))
        {
            u_char  buf[NGX_INT_T_LEN + 2], *p;

            p = ngx_sprintf(buf, "\"%i\"", version);

            if (ngx_strlcasestrn(inm->value.data,
                                 inm->value.data + inm->value.len,
                                 buf, p - buf - 1)
                != NULL)
            {
                (void) ngx_http_scim_add_header(r, "ETag",
                    json_string_value(json_object_get(
                        json_object_get(doc, "meta"), "version")),
                    &r->headers_out.etag);
                ngx_http_scim_finish(ctx,
                                     ngx_http_scim_send_json(r,
                                                      NGX_HTTP_NOT_MODIFIED,
                                                      NULL));
                return;
            }
        }
    }

    out = ngx_http_scim_present(ctx, doc);
    if (out == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_reply(ctx, NGX_HTTP_OK, out, 1);
}


/* PUT, PATCH, DELETE: read, change, write if still at the version read */

static void
ngx_http_scim_modify(ngx_http_scim_ctx_t *ctx)
{
    ngx_str_t  args[2];

    if (ctx->request->method != NGX_HTTP_DELETE
        && ngx_http_scim_projection(ctx) != NGX_OK)
    {
        return;
    }

    ngx_str_set(&args[0], "GET");

    if (ngx_http_scim_store_id_key(ctx->request->pool, &ctx->keys, &ctx->id,
                                   NULL, &args[1])
        != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_N, 0, 2, args,
                       ngx_http_scim_modify_read);
}


static void
ngx_http_scim_modify_read(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    json_t              *work, *normalized;
    ngx_str_t            args[12];
    ngx_int_t            version;
    ngx_pool_t          *pool;
    scim_error_t         err;
    ngx_http_request_t  *r;

    r = ctx->request;
    pool = r->pool;

    if (ngx_http_scim_reply_error(ctx, reply) != NGX_OK) {
        return;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;
    }

    ctx->doc = ngx_http_scim_parse_doc(ctx, reply->str, reply->len);
    if (ctx->doc == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    version = ngx_http_scim_doc_version(ctx->doc);

    if (ctx->expect_version >= 0 && version != ctx->expect_version) {
        ngx_http_scim_fail(ctx, NGX_HTTP_PRECONDITION_FAILED, NULL,
                           "the resource changed: its version is W/\"%i\"",
                           version);
        return;
    }

    ngx_memzero(&err, sizeof(scim_error_t));

    if (r->method == NGX_HTTP_DELETE) {
        if (ngx_http_scim_store_id_key(pool, &ctx->keys, &ctx->id, NULL,
                                       &args[0]) != NGX_OK
            || ngx_http_scim_store_key(pool, &ctx->keys, "ids", 3, &args[1])
               != NGX_OK
            || ngx_http_scim_store_key(pool, &ctx->keys,
                                       ctx->resource == NGX_HTTP_SCIM_R_USERS
                                       ? "idx:userName" : "idx:displayName",
                                       ctx->resource == NGX_HTTP_SCIM_R_USERS
                                       ? 12 : 15, &args[2]) != NGX_OK
            || ngx_http_scim_store_key(pool, &ctx->keys, "idx:externalId",
                                       14, &args[3]) != NGX_OK
            || ngx_http_scim_store_id_key(pool, &ctx->keys, &ctx->id,
                                          ctx->resource
                                          == NGX_HTTP_SCIM_R_USERS
                                          ? ":groups" : ":members",
                                          &args[4]) != NGX_OK
            || ngx_http_scim_str(pool, ctx->doc, ngx_http_scim_name_attr(ctx),
                                 &args[7], 1) != NGX_OK
            || ngx_http_scim_str(pool, ctx->doc, "externalId", &args[8], 0)
               != NGX_OK)
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        args[5] = ctx->id;

        args[6].data = ngx_pnalloc(pool, NGX_INT_T_LEN);
        if (args[6].data == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        args[6].len = ngx_sprintf(args[6].data, "%i", version)
                      - args[6].data;
        args[9] = ctx->keys.tenant;
        ngx_str_set(&args[10], "User");

        if (ctx->resource == NGX_HTTP_SCIM_R_GROUPS) {
            ngx_str_set(&args[10], "Group");
        }

        ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_DELETE, 5, 11, args,
                           ngx_http_scim_delete_done);
        return;
    }

    if (r->method == NGX_HTTP_PUT) {
        normalized = ngx_http_scim_track(r,
                                 scim_resource_normalize(ctx->rt, ctx->body,
                                                         SCIM_INPUT_REPLACE,
                                                         &err));

    } else {
        work = ngx_http_scim_track(r, json_deep_copy(ctx->doc));
        if (work == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (scim_patch_apply(ctx->rt, work, ctx->body, NULL, &err) != 0) {
            ngx_http_scim_fail_err(ctx, &err);
            return;
        }

        normalized = ngx_http_scim_track(r,
                                 scim_resource_normalize(ctx->rt, work,
                                                         SCIM_INPUT_STORED,
                                                         &err));
    }

    if (normalized == NULL) {
        if (err.status) {
            ngx_http_scim_fail_err(ctx, &err);

        } else {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (r->method == NGX_HTTP_PUT
        && ngx_http_scim_hash_password(r, normalized) != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (r->method == NGX_HTTP_PATCH) {
        json_t  *pw, *oldpw;

        /* a password that the patch did not touch stays hashed */
        pw = json_object_get(normalized, "password");
        oldpw = json_object_get(ctx->doc, "password");

        if (pw && !(oldpw && json_equal(pw, oldpw))
            && ngx_http_scim_hash_password(r, normalized) != NGX_OK)
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ctx->newdoc = ngx_http_scim_assemble(ctx, normalized, &ctx->id,
                                         json_object_get(
                                             json_object_get(ctx->doc, "meta"),
                                             "created"));
    if (ctx->newdoc == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_manager(ctx, ngx_http_scim_modify_write);
}


static void
ngx_http_scim_modify_write(ngx_http_scim_ctx_t *ctx, redisReply *unused)
{
    ngx_str_t    args[11];
    ngx_int_t    version;
    ngx_pool_t  *pool;

    pool = ctx->request->pool;
    version = ngx_http_scim_doc_version(ctx->doc);

    if (ngx_http_scim_serialize(ctx, ctx->newdoc) != NGX_OK
        || ngx_http_scim_store_id_key(pool, &ctx->keys, &ctx->id, NULL,
                                      &args[0]) != NGX_OK
        || ngx_http_scim_store_key(pool, &ctx->keys,
                                   ctx->resource == NGX_HTTP_SCIM_R_USERS
                                   ? "idx:userName" : "idx:displayName",
                                   ctx->resource == NGX_HTTP_SCIM_R_USERS
                                   ? 12 : 15, &args[2]) != NGX_OK
        || ngx_http_scim_store_key(pool, &ctx->keys, "idx:externalId", 14,
                                   &args[3]) != NGX_OK
        || ngx_http_scim_str(pool, ctx->doc, ngx_http_scim_name_attr(ctx),
                             &args[7], 1) != NGX_OK
        || ngx_http_scim_str(pool, ctx->newdoc, ngx_http_scim_name_attr(ctx),
                             &args[8], 1) != NGX_OK
        || ngx_http_scim_str(pool, ctx->doc, "externalId", &args[9], 0)
           != NGX_OK
        || ngx_http_scim_str(pool, ctx->newdoc, "externalId", &args[10], 0)
           != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[1].data = ngx_pnalloc(pool, ctx->keys.tenant.len + 3);
    args[5].data = ngx_pnalloc(pool, NGX_INT_T_LEN);

    if (args[1].data == NULL || args[5].data == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[1].len = ngx_sprintf(args[1].data, "%Vseq", &ctx->keys.tenant)
                  - args[1].data;
    args[4] = ctx->id;
    args[5].len = ngx_sprintf(args[5].data, "%i", version) - args[5].data;
    args[6] = ctx->prefix;

    ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_REPLACE, 4, 11, args,
                       ngx_http_scim_modify_done);
}


static void
ngx_http_scim_modify_done(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    json_t  *out;

    if (ngx_http_scim_reply_error(ctx, reply) != NGX_OK) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    switch (reply->element[0]->integer) {

    case NGX_HTTP_SCIM_STORE_OK:
        ngx_http_scim_set_version(ctx->newdoc, reply->element[1]->integer);

        out = ngx_http_scim_present(ctx, ctx->newdoc);
        if (out == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_scim_reply(ctx, NGX_HTTP_OK, out, 1);
        return;

    case NGX_HTTP_SCIM_STORE_NOT_FOUND:
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;

    case NGX_HTTP_SCIM_STORE_CONFLICT:
        ngx_http_scim_fail(ctx, NGX_HTTP_CONFLICT, SCIM_ERR_UNIQUENESS,
                           "%s is already taken",
                           reply->elements > 1
                           && reply->element[1]->integer
                              == NGX_HTTP_SCIM_STORE_IDX_EXT
                           ? "externalId" : ngx_http_scim_name_attr(ctx));
        return;

    default: /* STALE: someone wrote in between; start again */

        if (ctx->expect_version >= 0) {
            ngx_http_scim_fail(ctx, NGX_HTTP_PRECONDITION_FAILED, NULL,
                               "the resource changed meanwhile");
            return;
        }

        if (++ctx->retries > NGX_HTTP_SCIM_MAX_RETRIES) {
            ngx_http_scim_fail(ctx, NGX_HTTP_CONFLICT, NULL,
                               "the resource keeps changing; retry later");
            return;
        }

        ngx_http_scim_modify(ctx);
        return;
    }
}


static void
ngx_http_scim_delete_done(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    if (ngx_http_scim_reply_error(ctx, reply) != NGX_OK) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    switch (reply->element[0]->integer) {

    case NGX_HTTP_SCIM_STORE_OK:
        ngx_http_scim_finish(ctx,
                             ngx_http_scim_send_json(ctx->request,
                                                     NGX_HTTP_NO_CONTENT,
                                                     NULL));
        return;

    case NGX_HTTP_SCIM_STORE_NOT_FOUND:
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;

    default:
        if (ctx->expect_version >= 0) {
            ngx_http_scim_fail(ctx, NGX_HTTP_PRECONDITION_FAILED, NULL,
                               "the resource changed meanwhile");
            return;
        }

        if (++ctx->retries > NGX_HTTP_SCIM_MAX_RETRIES) {
            ngx_http_scim_fail(ctx, NGX_HTTP_CONFLICT, NULL,
                               "the resource keeps changing; retry later");
            return;
        }

        ngx_http_scim_modify(ctx);
        return;
    }
}


/*
 * The enterprise manager is returned as {value, $ref, displayName}: the
 * displayName is copied from the manager's document when the manager is
 * set or changed.
 */

static void
ngx_http_scim_manager(ngx_http_scim_ctx_t *ctx,
    ngx_http_scim_step_pt next_write)
{
    json_t      *ent, *mgr, *old, *value;
    ngx_str_t    args[2], id;
    const char  *v, *ov;

    ctx->next = next_write;

    ent = json_object_get(ctx->newdoc, SCIM_SCHEMA_ENTERPRISE);
    mgr = json_object_get(ent, "manager");
    value = json_object_get(mgr, "value");

    if (!json_is_string(value)) {
        next_write(ctx, NULL);
        return;
    }

    v = json_string_value(value);

    old = json_object_get(json_object_get(ctx->doc, SCIM_SCHEMA_ENTERPRISE),
                          "manager");
    ov = json_string_value(json_object_get(old, "value"));

    if (ov && ngx_strcmp(ov, v) == 0
        && json_object_get(old, "displayName"))
    {
        json_object_set(mgr, "displayName",
                        json_object_get(old, "displayName"));
        next_write(ctx, NULL);
        return;
    }

    id.data = (u_char *) v;
    id.len = json_string_length(value);

    if (!ngx_http_scim_store_valid_id(id.data, id.len)) {
        next_write(ctx, NULL);
        return;
    }

    ngx_str_set(&args[0], "GET");

    if (ngx_http_scim_store_id_key(ctx->request->pool, &ctx->keys, &id, NULL,
                                   &args[1])
        != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_N, 0, 2, args,
                       ngx_http_scim_manager_done);
}


static void
ngx_http_scim_manager_done(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    json_t  *doc, *name, *mgr;

    if (ngx_http_scim_reply_error(ctx, reply) != NGX_OK) {
        return;
    }

    if (reply->type == REDIS_REPLY_STRING) {
        doc = ngx_http_scim_parse_doc(ctx, reply->str, reply->len);
        name = json_object_get(doc, "displayName");
        mgr = json_object_get(json_object_get(ctx->newdoc,
                                              SCIM_SCHEMA_ENTERPRISE),
                              "manager");

        if (json_is_string(name) && mgr) {
            json_object_set(mgr, "displayName", name);
        }
    }

    ctx->next(ctx, NULL);
}


/* GET /Users?filter=...&startIndex=&count= */

static void
ngx_http_scim_list(ngx_http_scim_ctx_t *ctx)
{
    int                  hint;
    u_char              *f;
    ngx_str_t            args[4], v;
    const char          *value;
    ngx_pool_t          *pool;
    scim_error_t         err;

    pool = ctx->request->pool;

    if (ngx_http_scim_projection(ctx) != NGX_OK) {
        return;
    }

    ctx->matches = ngx_http_scim_track(ctx->request, json_array());
    if (ctx->matches == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->has_filter) {
        f = ngx_pnalloc(pool, ctx->filter.len + 1);
        if (f == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memcpy(f, ctx->filter.data, ctx->filter.len);
        f[ctx->filter.len] = '\0';

        ngx_memzero(&err, sizeof(scim_error_t));

        ctx->filter_ast = scim_filter_parse(ctx->rt, (char *) f,
                                            ctx->filter.len, &err);
        if (ctx->filter_ast == NULL) {
            if (err.status == 0) {
                scim_error_set(&err, 400, SCIM_ERR_INVALID_FILTER,
                               "invalid filter");
            }

            ngx_http_scim_fail_err(ctx, &err);
            return;
        }

        hint = -1;

        if (ctx->resource == NGX_HTTP_SCIM_R_USERS) {
            hint = scim_filter_eq_hint(ctx->filter_ast,
                                       ngx_http_scim_user_hints, 3, &value);
        }

        if (hint == 0) {
            /* id eq "..." */
            v.data = (u_char *) value;
            v.len = ngx_strlen(value);

            if (!ngx_http_scim_store_valid_id(v.data, v.len)) {
                ngx_http_scim_list_respond(ctx, ctx->matches, 0, 0);
                return;
            }

            ngx_str_set(&args[0], "GET");

            if (ngx_http_scim_store_id_key(pool, &ctx->keys, &v, NULL,
                                           &args[1])
                != NGX_OK)
            {
                ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_N, 0, 2, args,
                               ngx_http_scim_list_one);
            return;
        }

        if (hint > 0) {
            if (hint == 1) {
                if (ngx_http_scim_store_key(pool, &ctx->keys,
                                            "idx:userName", 12, &args[0])
                    != NGX_OK)
                {
                    ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                json_t  *tmp = json_pack("{s:s}", "k", value);

                if (tmp == NULL
                    || ngx_http_scim_track(ctx->request, tmp) == NULL
                    || ngx_http_scim_str(pool, tmp, "k", &args[1], 1)
                       != NGX_OK)
                {
                    ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

            } else {
                if (ngx_http_scim_store_key(pool, &ctx->keys,
                                            "idx:externalId", 14, &args[0])
                    != NGX_OK)
                {
                    ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                args[1].data = (u_char *) value;
                args[1].len = ngx_strlen(value);
            }

            args[2] = ctx->keys.type;

            ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_FIND, 1, 3, args,
                               ngx_http_scim_list_one);
            return;
        }

        /* no index answers this filter: scan */
        ngx_http_scim_scan_next(ctx);
        return;
    }

    if (ctx->has_sort) {
        ngx_http_scim_scan_next(ctx);
        return;
    }

    /* plain paging in creation order */

    if (ngx_http_scim_store_key(pool, &ctx->keys, "ids", 3, &args[0])
        != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[1].data = ngx_pnalloc(pool, 2 * NGX_INT_T_LEN);
    if (args[1].data == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[1].len = ngx_sprintf(args[1].data, "%i", ctx->start_index - 1)
                  - args[1].data;
    args[2].data = args[1].data + args[1].len;
    args[2].len = ngx_sprintf(args[2].data, "%i", ctx->count) - args[2].data;
    args[3] = ctx->keys.type;

    ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_PAGE, 1, 4, args,
                       ngx_http_scim_list_page);
}


static void
ngx_http_scim_list_one(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    json_t  *doc;

    if (ngx_http_scim_reply_error(ctx, reply) != NGX_OK) {
        return;
    }

    if (reply->type == REDIS_REPLY_STRING) {
        doc = ngx_http_scim_parse_doc(ctx, reply->str, reply->len);
        if (doc == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (scim_filter_match(ctx->filter_ast, ctx->rt, doc)) {
            json_array_append(ctx->matches, doc);
        }
    }

    ngx_http_scim_list_respond(ctx, ctx->matches,
                               json_array_size(ctx->matches), 0);
}


static void
ngx_http_scim_list_page(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    size_t   i;
    json_t  *doc;

    if (ngx_http_scim_reply_error(ctx, reply) != NGX_OK) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 1; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            continue;
        }

        doc = ngx_http_scim_parse_doc(ctx, reply->element[i]->str,
                                      reply->element[i]->len);
        if (doc == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        json_array_append(ctx->matches, doc);
    }

    ngx_http_scim_list_respond(ctx, ctx->matches,
                               (ngx_uint_t) reply->element[0]->integer, 1);
}


/* a filter no index answers: walk the ids in batches, evaluate in C */

static void
ngx_http_scim_scan_next(ngx_http_scim_ctx_t *ctx)
{
    ngx_str_t    args[4];
    ngx_pool_t  *pool;

    pool = ctx->request->pool;

    if (ngx_http_scim_store_key(pool, &ctx->keys, "ids", 3, &args[0])
        != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[1].data = ngx_pnalloc(pool, 2 * NGX_INT_T_LEN);
    if (args[1].data == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[1].len = ngx_sprintf(args[1].data, "%ui", ctx->scanned)
                  - args[1].data;
    args[2].data = args[1].data + args[1].len;
    args[2].len = ngx_sprintf(args[2].data, "%d", NGX_HTTP_SCIM_SCAN_BATCH)
                  - args[2].data;
    args[3] = ctx->keys.type;

    ngx_http_scim_exec(ctx, NGX_HTTP_SCIM_SCRIPT_PAGE, 1, 4, args,
                       ngx_http_scim_list_scan);
}


static void
ngx_http_scim_list_scan(ngx_http_scim_ctx_t *ctx, redisReply *reply)
{
    size_t         i;
    json_t        *doc;
    ngx_uint_t     got;
    scim_error_t   err;

    if (ngx_http_scim_reply_error(ctx, reply) != NGX_OK) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->total = (ngx_uint_t) reply->element[0]->integer;

    if (ctx->total > ctx->slcf->max_scan) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_TOO_MANY,
                           "this filter or sort needs a scan of %ui "
                           "resources; the limit is %ui "
                           "(scim_filter_max_scan)",
                           ctx->total, ctx->slcf->max_scan);
        return;
    }

    got = reply->elements - 1;

    for (i = 1; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            continue;
        }

        doc = json_loadb(reply->element[i]->str, reply->element[i]->len, 0,
                         NULL);
        if (doc == NULL) {
            continue;
        }

        if (ctx->filter_ast == NULL
            || scim_filter_match(ctx->filter_ast, ctx->rt, doc))
        {
            json_array_append(ctx->matches, doc);
        }

        json_decref(doc);
    }

    ctx->scanned += got;

    if (got == NGX_HTTP_SCIM_SCAN_BATCH && ctx->scanned < ctx->total) {
        ngx_http_scim_scan_next(ctx);
        return;
    }

    if (ctx->has_sort) {
        u_char  *s;

        s = ngx_pnalloc(ctx->request->pool, ctx->sort_by.len + 1);
        if (s == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memcpy(s, ctx->sort_by.data, ctx->sort_by.len);
        s[ctx->sort_by.len] = '\0';

        ngx_memzero(&err, sizeof(scim_error_t));

        if (scim_sort(ctx->rt, ctx->matches, (char *) s, ctx->descending,
                      &err)
            != 0)
        {
            ngx_http_scim_fail_err(ctx, &err);
            return;
        }
    }

    ngx_http_scim_list_respond(ctx, ctx->matches,
                               json_array_size(ctx->matches), 0);
}


/*
 * docs: all matches (paged == 0: the page is cut here) or the page
 * itself (paged == 1: total counts the whole collection)
 */

static void
ngx_http_scim_list_respond(ngx_http_scim_ctx_t *ctx, json_t *docs,
    ngx_uint_t total, ngx_uint_t paged)
{
    size_t   i, from, to;
    json_t  *list, *resources, *out;

    list = ngx_http_scim_track(ctx->request, json_object());
    resources = json_array();

    if (list == NULL || resources == NULL) {
        json_decref(resources);
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (paged) {
        from = 0;
        to = json_array_size(docs);

    } else {
        from = (size_t) ctx->start_index - 1;
        to = from + (size_t) ctx->count;

        if (to > json_array_size(docs)) {
            to = json_array_size(docs);
        }
    }

    for (i = from; i < to; i++) {
        out = scim_resource_present(ctx->rt, json_array_get(docs, i),
                                    (const char *) ctx->base_url.data,
                                    ctx->projection);
        if (out == NULL || json_array_append_new(resources, out) != 0) {
            json_decref(resources);
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (json_object_set_new(list, "schemas",
                            json_pack("[s]", SCIM_SCHEMA_LIST)) != 0
        || json_object_set_new(list, "totalResults",
                               json_integer((json_int_t) total)) != 0
        || json_object_set_new(list, "itemsPerPage",
                               json_integer((json_int_t)
                                            json_array_size(resources))) != 0
        || json_object_set_new(list, "startIndex",
                               json_integer(ctx->start_index)) != 0
        || json_object_set_new(list, "Resources", resources) != 0)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_reply(ctx, NGX_HTTP_OK, list, 0);
}
