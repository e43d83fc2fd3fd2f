
/*
 * ngx_http_scim_module: POST /Bulk (RFC 7644 3.7).
 *
 * Bulk runs every operation through the same code as a single request,
 * in a sub-context whose answer goes to the operation's completion hook
 * (ctx->done) instead of the client; operations run one after another,
 * in request order except that an operation waits for the operations
 * whose bulkId it references.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


typedef struct {
    ngx_http_scim_ctx_t        *main;
    json_t                     *ops;           /* the request's Operations */
    json_t                     *results;       /* index-aligned, or null */
    json_t                     *ids;           /* bulkId -> created id */
    json_t                     *defined;       /* bulkIds of the request */
    size_t                      n;
    size_t                      ndone;
    ngx_uint_t                  errors;
    ngx_uint_t                  fail_on_errors;
    size_t                      current;
    ngx_str_t                   location;      /* the running operation's
                                                  resource */
    unsigned                    running:1;
    unsigned                    again:1;
} ngx_http_scim_bulk_t;


static void ngx_http_scim_bulk_next(ngx_http_scim_bulk_t *b);
static ngx_int_t ngx_http_scim_bulk_start(ngx_http_scim_bulk_t *b,
    size_t i);
static void ngx_http_scim_bulk_result(ngx_http_scim_ctx_t *sub,
    ngx_uint_t status, json_t *json);
static void ngx_http_scim_bulk_record(ngx_http_scim_bulk_t *b, size_t i,
    ngx_uint_t status, json_t *json);
static void ngx_http_scim_bulk_error(ngx_http_scim_bulk_t *b, size_t i,
    ngx_uint_t status, const char *scim_type, const char *detail);
static ngx_int_t ngx_http_scim_bulk_refs(ngx_http_scim_bulk_t *b,
    json_t *v, ngx_uint_t *unknown);
static json_t *ngx_http_scim_bulk_resolve(ngx_http_scim_bulk_t *b,
    json_t *v);
static void ngx_http_scim_bulk_respond(ngx_http_scim_bulk_t *b);


#define NGX_HTTP_SCIM_BULK_PREFIX  "bulkId:"


/* POST /Bulk */

void
ngx_http_scim_bulk(ngx_http_scim_ctx_t *ctx)
{
    size_t                 i;
    json_t                *ops, *v, *op;
    ngx_http_scim_bulk_t  *b;

    if (ngx_http_scim_body_message(ctx, SCIM_SCHEMA_BULK_REQ) != NGX_OK) {
        return;
    }

    ops = ngx_http_scim_json_member(ctx->body, "Operations");

    if (!json_is_array(ops)) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_SYNTAX,
                           "a BulkRequest needs an \"Operations\" array");
        return;
    }

    if (json_array_size(ops) > ctx->slcf->bulk_max_ops) {
        ngx_http_scim_fail(ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
                           "the bulk request has %uz operations; the "
                           "maximum is %ui (maxOperations)",
                           json_array_size(ops), ctx->slcf->bulk_max_ops);
        return;
    }

    b = ngx_pcalloc(ctx->request->pool, sizeof(ngx_http_scim_bulk_t));
    if (b == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b->main = ctx;
    b->ops = ops;
    b->n = json_array_size(ops);
    b->results = ngx_http_scim_track(ctx->request, json_array());
    b->ids = ngx_http_scim_track(ctx->request, json_object());
    b->defined = ngx_http_scim_track(ctx->request, json_object());

    if (b->results == NULL || b->ids == NULL || b->defined == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    v = ngx_http_scim_json_member(ctx->body, "failOnErrors");

    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                               SCIM_ERR_INVALID_VALUE,
                               "\"failOnErrors\" must be a non-negative "
                               "integer");
            return;
        }

        b->fail_on_errors = (ngx_uint_t) json_integer_value(v);
    }

    json_array_foreach(ops, i, op) {
        if (json_array_append_new(b->results, json_null()) != 0) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        v = ngx_http_scim_json_member(op, "bulkId");

        if (json_is_string(v)) {
            json_object_set_new(b->defined, json_string_value(v),
                                json_true());
        }
    }

    ngx_http_scim_bulk_next(b);
}


/*
 * Runs operations until one has to wait for Redis; an operation that
 * completes at once (an error found before any I/O) lets the loop go on
 * instead of recursing.
 */

static void
ngx_http_scim_bulk_next(ngx_http_scim_bulk_t *b)
{
    size_t      i, pick;
    json_t     *op;
    ngx_uint_t  unknown;

    if (b->running) {
        b->again = 1;
        return;
    }

    b->running = 1;

    do {
        b->again = 0;

        if (b->ndone == b->n
            || (b->fail_on_errors && b->errors >= b->fail_on_errors))
        {
            b->running = 0;
            ngx_http_scim_bulk_respond(b);
            return;
        }

        /* the first pending operation whose references are all known */

        pick = b->n;

        for (i = 0; i < b->n; i++) {
            if (!json_is_null(json_array_get(b->results, i))) {
                continue;
            }

            op = json_array_get(b->ops, i);
            unknown = 0;

            if (ngx_http_scim_bulk_refs(b, op, &unknown) == NGX_OK) {
                pick = i;
                break;
            }

            if (unknown) {
                ngx_http_scim_bulk_error(b, i, NGX_HTTP_CONFLICT,
                                         SCIM_ERR_INVALID_VALUE,
                                         "a bulkId reference that no "
                                         "operation of this request "
                                         "defines");
                pick = b->n + 1;
                break;
            }
        }

        if (pick == b->n + 1) {
            b->again = 1;
            continue;
        }

        if (pick == b->n) {
            /* what is left waits on itself or on failed operations */

            for (i = 0; i < b->n; i++) {
                if (json_is_null(json_array_get(b->results, i))) {
                    ngx_http_scim_bulk_error(b, i, NGX_HTTP_CONFLICT,
                                             SCIM_ERR_INVALID_VALUE,
                                             "the bulkId references cannot "
                                             "be resolved");
                    break;
                }
            }

            b->again = 1;
            continue;
        }

        if (ngx_http_scim_bulk_start(b, pick) != NGX_OK) {
            b->again = 1;
        }

    } while (b->again);

    b->running = 0;
}


/*
 * NGX_OK: the operation runs (its result arrives through
 * its completion hook, ngx_http_scim_bulk_result); otherwise its error
 * is recorded.
 */

static ngx_int_t
ngx_http_scim_bulk_start(ngx_http_scim_bulk_t *b, size_t i)
{
    u_char                *p, *last, *slash;
    json_t                *op, *v, *data;
    ngx_str_t              path, id;
    ngx_int_t              version;
    ngx_uint_t             method;
    const char            *m;
    ngx_http_scim_ctx_t   *sub, *ctx;
    ngx_http_request_t    *r;

    ctx = b->main;
    r = ctx->request;
    op = json_array_get(b->ops, i);

    if (!json_is_object(op)) {
        ngx_http_scim_bulk_error(b, i, NGX_HTTP_BAD_REQUEST,
                                 SCIM_ERR_INVALID_SYNTAX,
                                 "an operation must be an object");
        return NGX_ERROR;
    }

    m = json_string_value(ngx_http_scim_json_member(op, "method"));

    if (m == NULL) {
        method = 0;

    } else if (ngx_strcasecmp((u_char *) m, (u_char *) "POST") == 0) {
        method = NGX_HTTP_POST;

    } else if (ngx_strcasecmp((u_char *) m, (u_char *) "PUT") == 0) {
        method = NGX_HTTP_PUT;

    } else if (ngx_strcasecmp((u_char *) m, (u_char *) "PATCH") == 0) {
        method = NGX_HTTP_PATCH;

    } else if (ngx_strcasecmp((u_char *) m, (u_char *) "DELETE") == 0) {
        method = NGX_HTTP_DELETE;

    } else {
        method = 0;
    }

    if (method == 0) {
        ngx_http_scim_bulk_error(b, i, NGX_HTTP_BAD_REQUEST,
                                 SCIM_ERR_INVALID_SYNTAX,
                                 "\"method\" must be POST, PUT, PATCH or "
                                 "DELETE");
        return NGX_ERROR;
    }

    v = ngx_http_scim_bulk_resolve(b, ngx_http_scim_json_member(op, "path"));

    if (!json_is_string(v)) {
        json_decref(v);
        ngx_http_scim_bulk_error(b, i, NGX_HTTP_BAD_REQUEST,
                                 SCIM_ERR_INVALID_SYNTAX,
                                 "an operation needs a \"path\"");
        return NGX_ERROR;
    }

    path.len = json_string_length(v);
    path.data = ngx_pnalloc(r->pool, path.len);

    if (path.data == NULL) {
        json_decref(v);
        return NGX_ERROR;
    }

    ngx_memcpy(path.data, json_string_value(v), path.len);
    json_decref(v);

    data = NULL;

    if (method != NGX_HTTP_DELETE) {
        data = ngx_http_scim_track(r,
                                   ngx_http_scim_bulk_resolve(b,
                                       ngx_http_scim_json_member(op, "data")));

        if (!json_is_object(data)) {
            ngx_http_scim_bulk_error(b, i, NGX_HTTP_BAD_REQUEST,
                                     SCIM_ERR_INVALID_SYNTAX,
                                     "an operation needs a \"data\" "
                                     "object");
            return NGX_ERROR;
        }
    }

    version = -1;
    v = ngx_http_scim_json_member(op, "version");

    if (json_is_string(v)) {
        p = (u_char *) json_string_value(v);
        last = p + json_string_length(v);

        if (last - p >= 2 && (*p == 'W' || *p == 'w') && p[1] == '/') {
            p += 2;
        }

        if (last - p >= 2 && *p == '"' && last[-1] == '"') {
            p++;
            last--;
        }

        version = ngx_atoi(p, last - p);

        if (version == NGX_ERROR) {
            version = 0;
        }
    }

    /* "/Users", "/Groups", "/Users/<id>", "/Groups/<id>" */

    p = path.data;
    last = p + path.len;

    while (p < last && *p == '/') {
        p++;
    }

    slash = ngx_strlchr(p, last, '/');

    id.data = slash ? slash + 1 : last;
    id.len = last - id.data;

    sub = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_ctx_t));
    if (sub == NULL) {
        return NGX_ERROR;
    }

    sub->request = r;
    sub->slcf = ctx->slcf;
    sub->method = method;
    sub->done = ngx_http_scim_bulk_result;
    sub->done_data = b;
    sub->tenant = ctx->tenant;
    sub->base_url = ctx->base_url;
    sub->start_index = 1;
    sub->count = (ngx_int_t) ctx->slcf->max_results;
    sub->expect_version = version;
    sub->body = data;
    sub->id = id;

    if ((size_t) ((slash ? slash : last) - p) == 5
        && ngx_strncasecmp(p, (u_char *) "Users", 5) == 0)
    {
        sub->resource = NGX_HTTP_SCIM_R_USERS;
        sub->rt = scim_registry_user(ctx->slcf->registry);

    } else if ((size_t) ((slash ? slash : last) - p) == 6
               && ngx_strncasecmp(p, (u_char *) "Groups", 6) == 0)
    {
        sub->resource = NGX_HTTP_SCIM_R_GROUPS;
        sub->rt = scim_registry_group(ctx->slcf->registry);

    } else {
        ngx_http_scim_bulk_error(b, i, NGX_HTTP_NOT_FOUND, NULL,
                                 "\"path\" must name /Users or /Groups");
        return NGX_ERROR;
    }

    if (method == NGX_HTTP_POST
        && !json_is_string(ngx_http_scim_json_member(op, "bulkId")))
    {
        /* RFC 7644 3.7: "bulkId" is REQUIRED with POST */
        ngx_http_scim_bulk_error(b, i, NGX_HTTP_BAD_REQUEST,
                                 SCIM_ERR_INVALID_SYNTAX,
                                 "a POST operation needs a \"bulkId\"");
        return NGX_ERROR;
    }

    if ((method == NGX_HTTP_POST) != (id.len == 0)) {
        ngx_http_scim_bulk_error(b, i, NGX_HTTP_BAD_REQUEST,
                                 SCIM_ERR_INVALID_SYNTAX,
                                 method == NGX_HTTP_POST
                                 ? "POST takes a resource type path"
                                 : "PUT, PATCH and DELETE take a resource "
                                   "path");
        return NGX_ERROR;
    }

    if (id.len && !ngx_scim_store_valid_id(id.data, id.len)) {
        ngx_http_scim_bulk_error(b, i, NGX_HTTP_NOT_FOUND, NULL,
                                 "resource not found");
        return NGX_ERROR;
    }

    b->current = i;
    ctx->sub = sub;

    /* where the resource is, references resolved, for bodiless answers */

    b->location.len = 0;

    if (id.len) {
        b->location.data = ngx_pnalloc(r->pool, ctx->base_url.len
                                                + sizeof("/Groups/")
                                                + id.len);
        if (b->location.data == NULL) {
            return NGX_ERROR;
        }

        b->location.len = ngx_sprintf(b->location.data, "%V%s/%V",
                                      &ctx->base_url, sub->rt->endpoint,
                                      &id)
                          - b->location.data;
    }

    if (method == NGX_HTTP_POST) {
        ngx_http_scim_create(sub);

    } else {
        ngx_http_scim_modify(sub);
    }

    return NGX_OK;
}


/* the answer of the running operation: its completion hook */

static void
ngx_http_scim_bulk_result(ngx_http_scim_ctx_t *sub, ngx_uint_t status,
    json_t *json)
{
    ngx_http_scim_bulk_t  *b = sub->done_data;

    b->main->sub = NULL;
    sub->cmd = NULL;

    if (json == NULL && status >= NGX_HTTP_BAD_REQUEST) {
        ngx_http_scim_bulk_error(b, b->current, status, NULL,
                                 "the operation failed");

    } else {
        ngx_http_scim_bulk_record(b, b->current, status, json);
    }

    ngx_http_scim_bulk_next(b);
}


static void
ngx_http_scim_bulk_record(ngx_http_scim_bulk_t *b, size_t i,
    ngx_uint_t status, json_t *json)
{
    u_char       buf[NGX_INT_T_LEN + 1];
    json_t      *op, *res, *meta, *v, *bulk_id;
    const char  *m;

    op = json_array_get(b->ops, i);
    res = json_object();

    if (res == NULL) {
        return;
    }

    m = json_string_value(ngx_http_scim_json_member(op, "method"));
    bulk_id = ngx_http_scim_json_member(op, "bulkId");

    json_object_set_new(res, "method", json_string(m ? m : ""));

    if (json_is_string(bulk_id)) {
        json_object_set(res, "bulkId", bulk_id);
    }

    meta = json_object_get(json, "meta");

    v = json_object_get(meta, "version");
    if (json_is_string(v) && status < NGX_HTTP_BAD_REQUEST) {
        json_object_set(res, "version", v);
    }

    v = json_object_get(meta, "location");
    if (json_is_string(v) && status < NGX_HTTP_BAD_REQUEST) {
        json_object_set(res, "location", v);

    } else if (status < NGX_HTTP_BAD_REQUEST && b->location.len
               && i == b->current)
    {
        json_object_set_new(res, "location",
                            json_stringn((char *) b->location.data,
                                         b->location.len));
    }

    ngx_sprintf(buf, "%ui%Z", status);
    json_object_set_new(res, "status", json_string((char *) buf));

    if (status >= NGX_HTTP_BAD_REQUEST) {
        b->errors++;

        if (json) {
            json_object_set(res, "response", json);
        }

    } else if (json_is_string(bulk_id)
               && json_is_string(json_object_get(json, "id")))
    {
        json_object_set(b->ids, json_string_value(bulk_id),
                        json_object_get(json, "id"));
    }

    json_array_set_new(b->results, i, res);
    b->ndone++;
}


static void
ngx_http_scim_bulk_error(ngx_http_scim_bulk_t *b, size_t i,
    ngx_uint_t status, const char *scim_type, const char *detail)
{
    json_t        *json;
    scim_error_t   err;

    scim_error_set(&err, (int) status, scim_type, "%s", detail);

    json = scim_error_to_json(&err);

    ngx_http_scim_bulk_record(b, i, status, json);

    json_decref(json);
}


/*
 * NGX_OK when every "bulkId:x" in v is known; *unknown set when one
 * names a bulkId that no operation of the request defines
 */

static ngx_int_t
ngx_http_scim_bulk_refs(ngx_http_scim_bulk_t *b, json_t *v,
    ngx_uint_t *unknown)
{
    size_t       i, len;
    json_t      *item;
    ngx_int_t    rc;
    const char  *s, *ref, *key;

    rc = NGX_OK;

    if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);

        ref = ngx_strstr(s, NGX_HTTP_SCIM_BULK_PREFIX);

        if (ref == NULL) {
            return NGX_OK;
        }

        ref += sizeof(NGX_HTTP_SCIM_BULK_PREFIX) - 1;

        if (json_object_get(b->ids, ref) != NULL) {
            return NGX_OK;
        }

        if (json_object_get(b->defined, ref) == NULL) {
            *unknown = 1;
        }

        (void) len;

        return NGX_DECLINED;
    }

    if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            if (ngx_http_scim_bulk_refs(b, item, unknown) != NGX_OK) {
                rc = NGX_DECLINED;
            }
        }
    }

    if (json_is_object(v)) {
        json_object_foreach(v, key, item) {
            if (ngx_strcasecmp((u_char *) key, (u_char *) "bulkId") == 0) {
                continue;
            }

            if (ngx_http_scim_bulk_refs(b, item, unknown) != NGX_OK) {
                rc = NGX_DECLINED;
            }
        }
    }

    return rc;
}


/* a copy of v with every "bulkId:x" replaced by x's id (new reference) */

static json_t *
ngx_http_scim_bulk_resolve(ngx_http_scim_bulk_t *b, json_t *v)
{
    size_t       i, pre;
    json_t      *out, *item, *id;
    const char  *s, *ref, *key;

    if (v == NULL) {
        return NULL;
    }

    if (json_is_string(v)) {
        s = json_string_value(v);
        ref = ngx_strstr(s, NGX_HTTP_SCIM_BULK_PREFIX);

        if (ref == NULL) {
            return json_incref(v);
        }

        id = json_object_get(b->ids,
                             ref + sizeof(NGX_HTTP_SCIM_BULK_PREFIX) - 1);
        if (id == NULL) {
            return json_incref(v);
        }

        pre = ref - s;

        return json_sprintf("%.*s%s", (int) pre, s, json_string_value(id));
    }

    if (json_is_array(v)) {
        out = json_array();

        json_array_foreach(v, i, item) {
            json_array_append_new(out, ngx_http_scim_bulk_resolve(b, item));
        }

        return out;
    }

    if (json_is_object(v)) {
        out = json_object();

        json_object_foreach(v, key, item) {
            json_object_set_new(out, key,
                                ngx_strcasecmp((u_char *) key,
                                               (u_char *) "bulkId") == 0
                                ? json_incref(item)
                                : ngx_http_scim_bulk_resolve(b, item));
        }

        return out;
    }

    return json_incref(v);
}


static void
ngx_http_scim_bulk_respond(ngx_http_scim_bulk_t *b)
{
    size_t   i;
    json_t  *out, *ops, *res;

    ops = json_array();

    json_array_foreach(b->results, i, res) {
        if (!json_is_null(res)) {
            json_array_append(ops, res);
        }
    }

    out = ngx_http_scim_track(b->main->request,
                              json_pack("{s:[s],s:o}",
                                        "schemas", SCIM_SCHEMA_BULK_RESP,
                                        "Operations", ops));
    if (out == NULL) {
        ngx_http_scim_finish(b->main, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_reply(b->main, NGX_HTTP_OK, out, 0);
}
