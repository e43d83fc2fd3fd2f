
/*
 * ngx_http_scim_module: the answers.  Every request ends here, in exactly
 * one ngx_http_scim_finish(): a SCIM resource or list, a SCIM error, or a
 * bulk operation's result handed to its completion hook (ctx->done).
 * Nothing here calls up into the handler, the resources or Bulk.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_DUMP_ESTIMATE 4096


static void ngx_http_scim_json_cleanup(void *data);


void
ngx_http_scim_finish(ngx_http_scim_ctx_t *ctx, ngx_int_t rc)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    if (ctx->done && (ctx->failing || rc < NGX_HTTP_SPECIAL_RESPONSE)) {
        /* a bulk operation's answer is recorded, never sent */
        ctx->done(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL);
        return;
    }

    /*
     * An error status that no response was sent for yet (an internal
     * failure) gets a SCIM error body too, never nginx's HTML page.
     */

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE && (!r->header_sent || ctx->done)
        && !ctx->failing
        && rc != NGX_HTTP_CLOSE && rc != NGX_HTTP_REQUEST_TIME_OUT
        && rc != NGX_HTTP_CLIENT_CLOSED_REQUEST)
    {
        if (rc == NGX_HTTP_INTERNAL_SERVER_ERROR) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "scim: internal error answering the request");
        }

        ctx->failing = 1;

        ngx_http_scim_fail(ctx, (ngx_uint_t) rc, NULL,
                           rc == NGX_HTTP_INTERNAL_SERVER_ERROR
                           ? "internal error: the server could not complete "
                             "the request"
                           : "the request failed");
        return;
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


ngx_int_t
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

    /* one pass usually: the estimate fits most answers */

    b = ngx_create_temp_buf(r->pool, NGX_HTTP_SCIM_DUMP_ESTIMATE);
    if (b == NULL) {
        return NGX_ERROR;
    }

    size = scim_json_dumpb(json, (char *) b->pos, NGX_HTTP_SCIM_DUMP_ESTIMATE);

    if (size > NGX_HTTP_SCIM_DUMP_ESTIMATE) {
        b = ngx_create_temp_buf(r->pool, size);
        if (b == NULL) {
            return NGX_ERROR;
        }

        (void) scim_json_dumpb(json, (char *) b->pos, size);
    }

    b->last = b->pos + size;
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


/* an answer already serialized (the fast read path) */

void
ngx_http_scim_reply_raw(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    ngx_buf_t *b, ngx_str_t *etag, ngx_str_t *location)
{
    ngx_int_t            rc;
    ngx_chain_t          out;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = ctx->request;

    r->headers_out.status = status;
    ngx_str_set(&r->headers_out.content_type, NGX_HTTP_SCIM_CONTENT_TYPE);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    if (etag && etag->len) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "ETag");
        h->value = *etag;
        r->headers_out.etag = h;
    }

    if (location && location->len) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Location");
        h->value = *location;
        r->headers_out.location = h;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_scim_finish(ctx, rc);
        return;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_scim_finish(ctx, ngx_http_output_filter(r, &out));
}


ngx_int_t
ngx_http_scim_add_header(ngx_http_request_t *r, const char *name,
    const char *value, ngx_table_elt_t **slot)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
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

void
ngx_http_scim_reply(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    json_t *json, ngx_uint_t resource_headers)
{
    json_t              *meta, *v;
    ngx_http_request_t  *r;

    if (ctx->done) {
        ctx->done(ctx, status, json);
        return;
    }

    r = ctx->request;

    if (json && resource_headers) {
        /*
         * From the whole resource (ctx->headers_from) when the answer is
         * projected and may lack "meta"
         */

        meta = json_object_get(ctx->headers_from ? ctx->headers_from : json,
                               "meta");

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


void
ngx_http_scim_fail_err(ngx_http_scim_ctx_t *ctx, scim_error_t *err)
{
    json_t              *json;
    ngx_int_t            rc;
    const char          *allow;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (err->status < NGX_HTTP_BAD_REQUEST) {
        err->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json = scim_error_to_json(err);

    if (ctx->done) {
        ctx->done(ctx, err->status,
                                  ngx_http_scim_track(r, json));
        return;
    }

    if (json == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (err->status == NGX_HTTP_UNAUTHORIZED) {
        if (ngx_http_scim_add_header(r, "WWW-Authenticate",
                                     ctx->invalid_token
                                     ? "Bearer realm=\"SCIM\", "
                                       "error=\"invalid_token\""
                                     : "Bearer realm=\"SCIM\"",
                                     &r->headers_out.www_authenticate)
            != NGX_OK)
        {
            json_decref(json);
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (err->status == NGX_HTTP_NOT_ALLOWED) {
        switch (ctx->resource) {

        case NGX_HTTP_SCIM_R_SCHEMAS:
        case NGX_HTTP_SCIM_R_RESOURCE_TYPES:
        case NGX_HTTP_SCIM_R_SPC:
            allow = "GET, HEAD";
            break;

        case NGX_HTTP_SCIM_R_BULK:
        case NGX_HTTP_SCIM_R_SEARCH:
            allow = "POST";
            break;

        default:
            allow = ctx->search ? "POST"
                    : ctx->id.len ? "GET, HEAD, PUT, PATCH, DELETE"
                    : "GET, HEAD, POST";
        }

        (void) ngx_http_scim_add_header(r, "Allow", allow, NULL);
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


void
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


void
ngx_http_scim_unavailable(ngx_http_scim_ctx_t *ctx)
{
    ngx_http_scim_fail(ctx, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                       "the directory store is unavailable; retry later");
}


json_t *
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
