
/*
 * ngx_http_scim_module: every answer from a scim location is SCIM JSON.
 *
 * The module answers its own errors as SCIM error objects, but nginx
 * itself can end a request in a scim location with one of its HTML
 * error pages: a request body that cannot be written to
 * client_body_temp_path (found while the body is still arriving, in
 * nginx's own read handler), a body over client_max_body_size, a bad
 * chunked body, a limit_req or access denial before the module runs.
 * This header and body filter pair replaces any such error answer of a
 * scim location with a SCIM error object of the same status.  An answer
 * whose Content-Type is already application/scim+json is the module's
 * own and passes untouched.  An error_page of the location takes
 * precedence: nginx then sends another location's answer instead.
 *
 * A token endpoint (scim_oauth_token) gets an OAuth error object
 * (RFC 6749 5.2) instead; its own answers are application/json.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


static ngx_int_t ngx_http_scim_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_scim_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static const char *ngx_http_scim_status_detail(ngx_uint_t status);
static const char *ngx_http_scim_oauth_status_error(ngx_uint_t status);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_scim_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_scim_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_scim_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_header_filter(ngx_http_request_t *r)
{
    u_char                    *p;
    size_t                     size;
    ngx_buf_t                 *b;
    ngx_uint_t                 status;
    ngx_table_elt_t           *h;
    const char                *detail;
    ngx_http_scim_ctx_t       *ctx;
    ngx_http_scim_loc_conf_t  *slcf;

    static const char  head[] =
        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],"
        "\"status\":\"";
    static const char  oauth[] = "{\"error\":\"\",\"error_description\":\"\"}";

    status = r->headers_out.status;

    if (r != r->main || status < NGX_HTTP_BAD_REQUEST || status > 599) {
        return ngx_http_next_header_filter(r);
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    if (slcf == NULL || (!slcf->enable && !slcf->oauth_endpoint)) {
        return ngx_http_next_header_filter(r);
    }

    if (slcf->oauth_endpoint
        && r->headers_out.content_type.len == sizeof("application/json") - 1
        && ngx_strncmp(r->headers_out.content_type.data, "application/json",
                       sizeof("application/json") - 1)
           == 0)
    {
        /* the token endpoint's own answer */
        return ngx_http_next_header_filter(r);
    }

    if (!slcf->oauth_endpoint
        && r->headers_out.content_type.len
           == sizeof(NGX_HTTP_SCIM_CONTENT_TYPE) - 1
        && ngx_strncmp(r->headers_out.content_type.data,
                       NGX_HTTP_SCIM_CONTENT_TYPE,
                       sizeof(NGX_HTTP_SCIM_CONTENT_TYPE) - 1) == 0)
    {
        /* the module's own answer */
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

    if (ctx == NULL) {
        /* refused before the module ran: limit_req, access, a size */

        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ctx->request = r;
        ctx->slcf = slcf;
        ctx->expect_version = -1;

        ngx_http_set_ctx(r, ctx, ngx_http_scim_module);
    }

    detail = ngx_http_scim_status_detail(status);

    size = sizeof(head) - 1 + NGX_INT_T_LEN
           + sizeof("\",\"detail\":\"\"}") - 1 + ngx_strlen(detail)
           + sizeof(oauth) + sizeof("temporarily_unavailable");

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (slcf->oauth_endpoint) {
        p = ngx_sprintf(b->last,
                        "{\"error\":\"%s\",\"error_description\":\"%s\"}",
                        ngx_http_scim_oauth_status_error(status), detail);

    } else {
        p = ngx_cpymem(b->last, head, sizeof(head) - 1);
        p = ngx_sprintf(p, "%ui\",\"detail\":\"%s\"}", status, detail);
    }

    b->last = p;

    b->last_buf = 1;
    b->last_in_chain = 1;

    ctx->error_page = b;

    if (slcf->oauth_endpoint) {
        ngx_str_set(&r->headers_out.content_type, "application/json");

    } else {
        ngx_str_set(&r->headers_out.content_type,
                    NGX_HTTP_SCIM_CONTENT_TYPE);
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    r->headers_out.content_length_n = b->last - b->pos;

    if (status == 429 || status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        /* limit_req, limit_conn: as the module's own 503 says */

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        ngx_str_set(&h->key, "Retry-After");
        ngx_str_set(&h->value, "1");
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_scim_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t          *cl, out;
    ngx_http_scim_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

    if (ctx == NULL || ctx->error_page == NULL || r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    /* the page nginx wrote is dropped */

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->error_page_sent) {
        return ngx_http_next_body_filter(r, NULL);
    }

    ctx->error_page_sent = 1;

    out.buf = ctx->error_page;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static const char *
ngx_http_scim_status_detail(ngx_uint_t status)
{
    switch (status) {

    case NGX_HTTP_BAD_REQUEST:
        return "the request is malformed";

    case NGX_HTTP_UNAUTHORIZED:
        return "missing or invalid credentials";

    case NGX_HTTP_FORBIDDEN:
        return "access to this resource is denied";

    case NGX_HTTP_NOT_FOUND:
        return "no such endpoint";

    case NGX_HTTP_NOT_ALLOWED:
        return "the method is not allowed here";

    case NGX_HTTP_REQUEST_TIME_OUT:
        return "the request was not received in time";

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "the request body is too large";

    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        return "the request URI is too long";

    case 429:
        return "too many requests; retry later";

    case NGX_HTTP_INTERNAL_SERVER_ERROR:
        return "internal error: the server could not complete the request";

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return "the service is unavailable; retry later";

    default:
        return "the request failed";
    }
}


/* the RFC 6749 5.2 code nearest to an error nginx answered itself */

static const char *
ngx_http_scim_oauth_status_error(ngx_uint_t status)
{
    switch (status) {

    case NGX_HTTP_UNAUTHORIZED:
        return "invalid_client";

    case 429:
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return "temporarily_unavailable";

    default:
        return status >= NGX_HTTP_INTERNAL_SERVER_ERROR ? "server_error"
                                                        : "invalid_request";
    }
}
