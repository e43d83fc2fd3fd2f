
/*
 * ngx_http_scim_module: the variables for log_format.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


static ngx_int_t ngx_http_scim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_scim_vars[] = {

    { ngx_string("scim_tenant"), NULL, ngx_http_scim_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_resource"), NULL, ngx_http_scim_variable,
      1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_id"), NULL, ngx_http_scim_variable,
      2, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_op"), NULL, ngx_http_scim_variable,
      3, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_client"), NULL, ngx_http_scim_variable,
      4, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_scim_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_scim_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * $scim_tenant, $scim_resource ("Users", ...), $scim_id, $scim_op
 * ("create", "read", "list", "replace", "patch", "delete", "search",
 * "bulk", "discovery"), $scim_client (the OAuth client id of an access
 * token, or the client a token endpoint issued one to): for log_format;
 * empty outside a scim location
 */

static ngx_int_t
ngx_http_scim_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t             s;
    ngx_uint_t            op;
    ngx_http_scim_ctx_t  *ctx;

    static ngx_str_t  resources[] = {
        ngx_null_string,
        ngx_string("Users"),
        ngx_string("Groups"),
        ngx_string("Me"),
        ngx_string("Schemas"),
        ngx_string("ResourceTypes"),
        ngx_string("ServiceProviderConfig"),
        ngx_string("Bulk"),
        ngx_string(".search")
    };

    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case 0:
        s = ctx->tenant;
        break;

    case 1:
        s = resources[ctx->resource];
        break;

    case 2:
        s = ctx->id;

        /* a create that stored nothing (409, 400, 503) has no id */

        if (r->method == NGX_HTTP_POST && ctx->id.len && !ctx->search
            && (ctx->resource == NGX_HTTP_SCIM_R_USERS
                || ctx->resource == NGX_HTTP_SCIM_R_GROUPS)
            && r->headers_out.status != NGX_HTTP_CREATED)
        {
            s.len = 0;
        }

        break;

    case 4:
        s = ctx->client;
        break;

    default:
        op = ngx_http_scim_op_of(r, ctx);

        if (op == NGX_HTTP_SCIM_OP_NONE) {
            /* refused before routing (401) or no such endpoint */
            s.len = 0;

        } else {
            s.data = (u_char *) ngx_http_scim_op_text[op];
            s.len = ngx_strlen(s.data);
        }

        break;
    }

    if (s.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s.data;

    return NGX_OK;
}


/* $scim_op and the metrics' operations (monitor.c), in this order */

const char  *ngx_http_scim_op_text[NGX_HTTP_SCIM_OP_NONE] = {
    "create", "read", "list", "replace", "patch", "delete", "search",
    "bulk", "discovery"
};


/* the operation of a request of a scim location: NGX_HTTP_SCIM_OP_* */

ngx_uint_t
ngx_http_scim_op_of(ngx_http_request_t *r, ngx_http_scim_ctx_t *ctx)
{
    if (ctx == NULL || ctx->resource == NGX_HTTP_SCIM_R_NONE) {
        return NGX_HTTP_SCIM_OP_NONE;
    }

    if (ctx->search || ctx->resource == NGX_HTTP_SCIM_R_SEARCH) {
        return NGX_HTTP_SCIM_OP_SEARCH;
    }

    if (ctx->resource == NGX_HTTP_SCIM_R_BULK) {
        return NGX_HTTP_SCIM_OP_BULK;
    }

    if (ctx->resource != NGX_HTTP_SCIM_R_USERS
        && ctx->resource != NGX_HTTP_SCIM_R_GROUPS)
    {
        return NGX_HTTP_SCIM_OP_DISCOVERY;
    }

    switch (r->method) {
    case NGX_HTTP_POST:
        return NGX_HTTP_SCIM_OP_CREATE;
    case NGX_HTTP_PUT:
        return NGX_HTTP_SCIM_OP_REPLACE;
    case NGX_HTTP_PATCH:
        return NGX_HTTP_SCIM_OP_PATCH;
    case NGX_HTTP_DELETE:
        return NGX_HTTP_SCIM_OP_DELETE;
    default:
        return ctx->id.len ? NGX_HTTP_SCIM_OP_READ : NGX_HTTP_SCIM_OP_LIST;
    }
}
