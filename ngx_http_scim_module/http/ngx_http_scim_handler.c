
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


static void ngx_http_scim_authed(ngx_http_scim_ctx_t *ctx, ngx_int_t rc);
static ngx_int_t ngx_http_scim_route(ngx_http_scim_ctx_t *ctx);
static ngx_int_t ngx_http_scim_prepare(ngx_http_scim_ctx_t *ctx);
static ngx_int_t ngx_http_scim_parse_query(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_body_handler(ngx_http_request_t *r);
static void ngx_http_scim_body(ngx_http_scim_ctx_t *ctx);
static ngx_int_t ngx_http_scim_read_body(ngx_http_scim_ctx_t *ctx,
    u_char **data, size_t *len);
static void ngx_http_scim_dispatch(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_cleanup(void *data);


ngx_int_t
ngx_http_scim_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_scim_ctx_t       *ctx;
    ngx_http_cleanup_t        *cln;
    ngx_http_scim_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    ngx_http_scim_json_pool_check(r->connection->log);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->slcf = slcf;
    ctx->method = r->method;

    /*
     * If-Match and If-None-Match are evaluated against the stored
     * version by the module itself; nginx's not_modified filter would
     * compare them with the ETag of the answer (the new version).
     */
    r->disable_not_modified = 1;
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

    /* credentials in Redis: authed() runs when Redis has answered */
    ctx->authed = ngx_http_scim_authed;

    rc = ngx_http_scim_authenticate(r, slcf);

    if (rc != NGX_AGAIN) {
        ngx_http_scim_authed(ctx, rc);
    }

    return NGX_DONE;
}


/* authenticated (rc NGX_OK) or not: the rest of the request */

static void
ngx_http_scim_authed(ngx_http_scim_ctx_t *ctx, ngx_int_t rc)
{
    ngx_http_request_t          *r;
    ngx_http_scim_loc_conf_t    *slcf;
    ngx_http_scim_json_arena_t  *prev;

    r = ctx->request;
    slcf = ctx->slcf;

    if (rc != NGX_OK) {
        ngx_http_discard_request_body(r);

        if (rc == NGX_BUSY) {
            ngx_http_scim_unavailable(ctx);

        } else if (rc == NGX_ERROR) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);

        } else {
            ngx_http_scim_fail(ctx, NGX_HTTP_UNAUTHORIZED, NULL,
                               ctx->invalid_token
                               ? "invalid or expired access token"
                               : "missing or invalid bearer token");
        }

        return;
    }

    if (ngx_http_scim_route(ctx) != NGX_OK) {
        ngx_http_discard_request_body(r);
        return;
    }

    if (ngx_http_scim_prepare(ctx) != NGX_OK) {
        ngx_http_discard_request_body(r);
        return;
    }

    ctx->json_pool = ngx_http_scim_json_pool_for(ctx);

    /* a method the endpoint does not take: answered before any body */

    switch (ctx->resource) {

    case NGX_HTTP_SCIM_R_SCHEMAS:
    case NGX_HTTP_SCIM_R_RESOURCE_TYPES:
    case NGX_HTTP_SCIM_R_SPC:
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            ngx_http_discard_request_body(r);
            ngx_http_scim_fail(ctx, NGX_HTTP_NOT_ALLOWED, NULL,
                               "discovery endpoints are read-only");
            return;
        }

        break;

    case NGX_HTTP_SCIM_R_BULK:
    case NGX_HTTP_SCIM_R_SEARCH:
    case NGX_HTTP_SCIM_R_EVENTS:
        if (r->method != NGX_HTTP_POST) {
            ngx_http_discard_request_body(r);
            ngx_http_scim_fail(ctx, NGX_HTTP_NOT_ALLOWED, NULL,
                               "only POST is allowed here");
            return;
        }

        break;

    default:
        if (ctx->search && r->method != NGX_HTTP_POST) {
            ngx_http_discard_request_body(r);
            ngx_http_scim_fail(ctx, NGX_HTTP_NOT_ALLOWED, NULL,
                               "only POST is allowed on .search");
            return;
        }
    }

    if (r->method & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH)) {

        if (slcf->max_body && r->headers_in.content_length_n > 0
            && (size_t) r->headers_in.content_length_n > slcf->max_body)
        {
            ngx_http_discard_request_body(r);
            ngx_http_scim_fail(ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
                               "request body larger than %uz bytes",
                               slcf->max_body);
            return;
        }

        rc = ngx_http_read_client_request_body(r, ngx_http_scim_body_handler);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            r->keepalive = 0;
            ngx_http_scim_fail(ctx, rc, NULL, "cannot read the request body");
            return;
        }

        /* read_client_request_body took its own reference */
        r->main->count--;

        return;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        r->keepalive = 0;
    }

    prev = ngx_http_scim_json_pool(ctx->json_pool);
    ngx_http_scim_dispatch(ctx);
    (void) ngx_http_scim_json_pool(prev);
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

    if (ctx->slcf->events_feed) {
        /* the whole location is the feed; its URI the base */
        ctx->resource = NGX_HTTP_SCIM_R_EVENTS;
        ctx->base_url.data = start;
        ctx->base_url.len = end - start;
        return NGX_OK;
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
    ngx_http_request_t        *r;
    ngx_http_core_srv_conf_t  *cscf;

    r = ctx->request;

    switch (ctx->resource) {

    case NGX_HTTP_SCIM_R_USERS:
        ctx->rt = scim_registry_user(ctx->slcf->registry);
        break;

    case NGX_HTTP_SCIM_R_GROUPS:
        ctx->rt = scim_registry_group(ctx->slcf->registry);
        break;

    case NGX_HTTP_SCIM_R_ME:
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_IMPLEMENTED, NULL,
                           "/Me is not supported: a bearer token carries no "
                           "user identity");
        return NGX_ERROR;

    default:
        /* discovery, root .search and /Bulk: the type is per operation */
        break;
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

    if (!ngx_scim_store_valid_tenant(tenant.data, tenant.len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim: invalid tenant \"%V\" (empty, longer than %d "
                      "or with braces)", &tenant, NGX_SCIM_STORE_TENANT_MAX);
        ngx_http_scim_fail(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                           "the tenant of this location is misconfigured");
        return NGX_ERROR;
    }

    ctx->tenant = tenant;

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

    /*
     * the core takes it as a C string and puts it into JSON strings:
     * bytes that are not UTF-8 (a path with %FF, such a Host) would make
     * it no JSON string at all (no meta.location, or text that is not
     * JSON); a NUL would cut it (nginx refuses %00 in a path: checked
     * all the same)
     */

    if (ngx_strlchr(ctx->base_url.data,
                    ctx->base_url.data + ctx->base_url.len, '\0')
        != NULL
        || !scim_utf8_valid((char *) ctx->base_url.data, ctx->base_url.len))
    {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_VALUE,
                           "the base URL of this request (Host and path) "
                           "must be UTF-8 without NUL");
        return NGX_ERROR;
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
            ctx->has_start_index = 1;

        } else if (ngx_http_scim_is("cursor")) {
            /* RFC 9865: "" asks for the first page */
            ctx->cursor = value;
            ctx->cursor_mode = 1;

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


static void
ngx_http_scim_body_handler(ngx_http_request_t *r)
{
    ngx_http_scim_ctx_t         *ctx;
    ngx_http_scim_json_arena_t  *prev;

    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

    /* (ctx may be gone when the body's work returns) */

    prev = ngx_http_scim_json_pool(ctx->json_pool);
    ngx_http_scim_body(ctx);
    (void) ngx_http_scim_json_pool(prev);
}


/* the body parsed (once, into the tree every step uses), then the work */

static void
ngx_http_scim_body(ngx_http_scim_ctx_t *ctx)
{
    u_char               *data;
    size_t                len;
    json_t               *body;
    json_error_t          jerr;
    ngx_http_request_t   *r;

    r = ctx->request;

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

        } else if (b->last != b->pos) {
            /* (an empty buffer may have no memory at all) */
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *len = p - *data;

    return NGX_OK;
}


static void
ngx_http_scim_dispatch(ngx_http_scim_ctx_t *ctx)
{
    ngx_uint_t  method;

    method = ctx->method;

    switch (ctx->resource) {

    case NGX_HTTP_SCIM_R_SCHEMAS:
    case NGX_HTTP_SCIM_R_RESOURCE_TYPES:
    case NGX_HTTP_SCIM_R_SPC:

        if (!(method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            ngx_http_scim_fail(ctx, NGX_HTTP_NOT_ALLOWED, NULL,
                               "discovery endpoints are read-only");
            return;
        }

        ngx_http_scim_discovery(ctx);
        return;

    case NGX_HTTP_SCIM_R_BULK:
    case NGX_HTTP_SCIM_R_SEARCH:
    case NGX_HTTP_SCIM_R_EVENTS:

        if (method != NGX_HTTP_POST) {
            ngx_http_scim_fail(ctx, NGX_HTTP_NOT_ALLOWED, NULL,
                               "only POST is allowed here");
            return;
        }

        if (ctx->resource == NGX_HTTP_SCIM_R_BULK) {
            ngx_http_scim_bulk(ctx);

        } else if (ctx->resource == NGX_HTTP_SCIM_R_EVENTS) {
            ngx_http_scim_feed(ctx);

        } else {
            ngx_http_scim_search(ctx);
        }

        return;

    default:
        break;
    }

    if (ctx->search) {
        if (method != NGX_HTTP_POST) {
            ngx_http_scim_fail(ctx, NGX_HTTP_NOT_ALLOWED, NULL,
                               "only POST is allowed on .search");
            return;
        }

        ngx_http_scim_search(ctx);
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

    if (!ngx_scim_store_valid_id(ctx->id.data, ctx->id.len)) {
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
        ngx_scim_store_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }

    if (ctx->retry.timer_set) {
        ngx_del_timer(&ctx->retry);
    }

    if (ctx->sub && ctx->sub->cmd) {
        ngx_scim_store_cancel(ctx->sub->cmd);
        ctx->sub->cmd = NULL;
    }

    if (ctx->sub && ctx->sub->retry.timer_set) {
        ngx_del_timer(&ctx->sub->retry);
    }

    /* a password hash running in a thread frees itself when done */

    ngx_http_scim_password_cancel(ctx);

    if (ctx->sub) {
        ngx_http_scim_password_cancel(ctx->sub);
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
