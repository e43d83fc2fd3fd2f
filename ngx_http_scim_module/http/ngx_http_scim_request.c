
/*
 * ngx_http_scim_module: what a request asks beyond its route: the
 * versions its If-Match lists, and the message schema of its body
 * (SearchRequest, BulkRequest).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


static ngx_int_t ngx_http_scim_etag_next(u_char **pos, u_char *last,
    ngx_int_t *n);


/*
 * If-Match: W/"n" (or "n", or *).  A list of entity tags (W/"1", "2",
 * ...) is kept as the header has it, however long, and read again for
 * each check: a version we never issued matches nothing.
 */

ngx_int_t
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

    while (p < last && *p == ' ') {
        p++;
    }

    if (last - p == 1 && *p == '*') {
        return NGX_OK;
    }

    ctx->expect_version = 0;
    ctx->n_if_match = 0;
    ctx->if_match.data = p;
    ctx->if_match.len = last - p;

    while (p < last) {
        if (ngx_http_scim_etag_next(&p, last, &n) != NGX_OK) {
            continue;
        }

        if (ctx->n_if_match++ == 0) {
            ctx->expect_version = n;
        }
    }

    return NGX_OK;
}


/* the next entity tag of a list, its version in *n; *pos moves past it */

static ngx_int_t
ngx_http_scim_etag_next(u_char **pos, u_char *last, ngx_int_t *n)
{
    u_char  *p, *q, *end;

    p = *pos;

    end = ngx_strlchr(p, last, ',');
    if (end == NULL) {
        end = last;
    }

    *pos = (end < last) ? end + 1 : last;

    q = end;

    while (p < q && *p == ' ') {
        p++;
    }

    while (q > p && q[-1] == ' ') {
        q--;
    }

    if (q - p >= 2 && (p[0] == 'W' || p[0] == 'w') && p[1] == '/') {
        p += 2;
    }

    if (q - p >= 2 && *p == '"' && q[-1] == '"') {
        p++;
        q--;
    }

    *n = ngx_atoi(p, q - p);

    return (*n == NGX_ERROR) ? NGX_DECLINED : NGX_OK;
}


/* whether version is one that If-Match lists */

ngx_int_t
ngx_http_scim_if_match_ok(ngx_http_scim_ctx_t *ctx, ngx_int_t version)
{
    u_char     *p, *last;
    ngx_int_t   n;

    if (ctx->expect_version < 0) {
        return 1;
    }

    if (ctx->n_if_match == 0) {
        return ctx->expect_version == version;
    }

    p = ctx->if_match.data;
    last = p + ctx->if_match.len;

    while (p < last) {
        if (ngx_http_scim_etag_next(&p, last, &n) == NGX_OK
            && n == version)
        {
            return 1;
        }
    }

    return 0;
}


/* a member by name, exact case first, then any case */

json_t *
ngx_http_scim_json_member(json_t *obj, const char *name)
{
    json_t      *v;
    const char  *key;

    v = json_object_get(obj, name);
    if (v != NULL) {
        return v;
    }

    json_object_foreach(obj, key, v) {
        if (ngx_strcasecmp((u_char *) key, (u_char *) name) == 0) {
            return v;
        }
    }

    return NULL;
}


/*
 * A request body's "schemas", when given, must list its message schema
 * (SearchRequest, BulkRequest); a body without "schemas" is taken as
 * that message.
 */

ngx_int_t
ngx_http_scim_body_message(ngx_http_scim_ctx_t *ctx, const char *urn)
{
    size_t   i;
    json_t  *schemas, *v;

    schemas = ngx_http_scim_json_member(ctx->body, "schemas");

    if (schemas == NULL || json_is_null(schemas)) {
        return NGX_OK;
    }

    if (json_is_string(schemas)
        && ngx_strcasecmp((u_char *) json_string_value(schemas),
                          (u_char *) urn) == 0)
    {
        return NGX_OK;
    }

    json_array_foreach(schemas, i, v) {
        if (json_is_string(v)
            && ngx_strcasecmp((u_char *) json_string_value(v),
                              (u_char *) urn) == 0)
        {
            return NGX_OK;
        }
    }

    ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_SYNTAX,
                       "\"schemas\" must list \"%s\"", urn);

    return NGX_ERROR;
}
