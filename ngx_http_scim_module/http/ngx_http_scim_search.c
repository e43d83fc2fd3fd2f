
/*
 * ngx_http_scim_module: POST .search (RFC 7644 3.4.3).
 *
 * .search maps a SearchRequest onto the query parameters of a list.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


static ngx_int_t ngx_http_scim_search_list(ngx_http_scim_ctx_t *ctx,
    json_t *v, const char *name, ngx_str_t *out);


/* POST /Users/.search, /Groups/.search, /.search */

void
ngx_http_scim_search(ngx_http_scim_ctx_t *ctx)
{
    json_t      *v;
    ngx_int_t    n;
    const char  *s;

    if (ngx_http_scim_body_message(ctx, SCIM_SCHEMA_SEARCH) != NGX_OK) {
        return;
    }

    v = ngx_http_scim_json_member(ctx->body, "filter");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                               SCIM_ERR_INVALID_VALUE,
                               "\"filter\" must be a string");
            return;
        }

        ctx->filter.data = (u_char *) json_string_value(v);
        ctx->filter.len = json_string_length(v);
        ctx->has_filter = 1;
    }

    if (ngx_http_scim_search_list(ctx, ngx_http_scim_json_member(ctx->body,
                                                            "attributes"),
                                  "attributes", &ctx->attributes)
           != NGX_OK
        || ngx_http_scim_search_list(ctx,
                                     ngx_http_scim_json_member(ctx->body,
                                                  "excludedAttributes"),
                                     "excludedAttributes", &ctx->excluded)
           != NGX_OK)
    {
        return;
    }

    v = ngx_http_scim_json_member(ctx->body, "sortBy");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                               SCIM_ERR_INVALID_VALUE,
                               "\"sortBy\" must be a string");
            return;
        }

        ctx->sort_by.data = (u_char *) json_string_value(v);
        ctx->sort_by.len = json_string_length(v);
        ctx->has_sort = ctx->sort_by.len > 0;
    }

    v = ngx_http_scim_json_member(ctx->body, "sortOrder");

    if (v && !json_is_null(v)) {
        s = json_string_value(v);

        if (s != NULL && ngx_strcasecmp((u_char *) s,
                                        (u_char *) "descending") == 0)
        {
            ctx->descending = 1;

        } else if (s == NULL
                   || ngx_strcasecmp((u_char *) s,
                                     (u_char *) "ascending") != 0)
        {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                               SCIM_ERR_INVALID_VALUE,
                               "\"sortOrder\" must be \"ascending\" or "
                               "\"descending\"");
            return;
        }
    }

    v = ngx_http_scim_json_member(ctx->body, "startIndex");

    if (v && !json_is_null(v)) {
        if (!json_is_integer(v)) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                               SCIM_ERR_INVALID_VALUE,
                               "\"startIndex\" must be an integer");
            return;
        }

        n = (ngx_int_t) json_integer_value(v);
        ctx->start_index = n < 1 ? 1 : n;
        ctx->has_start_index = 1;
    }

    v = ngx_http_scim_json_member(ctx->body, "cursor");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                               SCIM_ERR_INVALID_CURSOR,
                               "\"cursor\" must be a string");
            return;
        }

        /* RFC 9865: "" asks for the first page */
        ctx->cursor.data = (u_char *) json_string_value(v);
        ctx->cursor.len = json_string_length(v);
        ctx->cursor_mode = 1;
    }

    v = ngx_http_scim_json_member(ctx->body, "count");

    if (v && !json_is_null(v)) {
        if (!json_is_integer(v)) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                               SCIM_ERR_INVALID_VALUE,
                               "\"count\" must be an integer");
            return;
        }

        n = (ngx_int_t) json_integer_value(v);
        ctx->count = n < 0 ? 0
                     : (ngx_uint_t) n > ctx->slcf->max_results
                       ? (ngx_int_t) ctx->slcf->max_results : n;
    }

    if (ctx->resource == NGX_HTTP_SCIM_R_SEARCH) {
        /* the root: users, then groups */
        ctx->root_search = 1;
        ctx->resource = NGX_HTTP_SCIM_R_USERS;
        ctx->rt = scim_registry_user(ctx->slcf->registry);
    }

    ngx_http_scim_list(ctx);
}


/* "attributes": ["a", "b"] or "a,b" -> "a,b" */

static ngx_int_t
ngx_http_scim_search_list(ngx_http_scim_ctx_t *ctx, json_t *v,
    const char *name, ngx_str_t *out)
{
    u_char  *p;
    size_t   i, len;
    json_t  *item;

    if (v == NULL || json_is_null(v)) {
        return NGX_OK;
    }

    if (json_is_string(v)) {
        out->data = (u_char *) json_string_value(v);
        out->len = json_string_length(v);
        return NGX_OK;
    }

    if (!json_is_array(v)) {
        goto invalid;
    }

    len = 0;

    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) {
            goto invalid;
        }

        len += json_string_length(item) + 1;
    }

    p = ngx_pnalloc(ctx->request->pool, len + 1);
    if (p == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    out->data = p;

    json_array_foreach(v, i, item) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, json_string_value(item), json_string_length(item));
    }

    out->len = p - out->data;

    return NGX_OK;

invalid:

    ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_VALUE,
                       "\"%s\" must be an array of attribute names", name);
    return NGX_ERROR;
}
