
/*
 * ngx_http_scim_module: /ServiceProviderConfig, /ResourceTypes, /Schemas
 * (RFC 7644 section 4).
 *
 * Everything here is generated from the configuration and the schema
 * registry of the location (core schemas, the enterprise extension and
 * every scim_schema_extension), never from a fixed string, so that what
 * is advertised is what is served.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


static json_t *ngx_http_scim_auth_schemes(ngx_http_scim_ctx_t *ctx);
static json_t *ngx_http_scim_spc(ngx_http_scim_ctx_t *ctx);
static json_t *ngx_http_scim_resource_type(ngx_http_scim_ctx_t *ctx,
    const scim_resource_type_t *rt);
static json_t *ngx_http_scim_schema(ngx_http_scim_ctx_t *ctx,
    const scim_schema_t *schema);
static json_t *ngx_http_scim_meta(ngx_http_scim_ctx_t *ctx,
    const char *type, const char *path, const char *name);
static json_t *ngx_http_scim_list_of(json_t *resources);
static ngx_int_t ngx_http_scim_id_is(ngx_http_scim_ctx_t *ctx,
    const char *name);


void
ngx_http_scim_discovery(ngx_http_scim_ctx_t *ctx)
{
    size_t                       i, n;
    json_t                      *out, *list, *item;
    const scim_schema_t         *schema;
    const scim_registry_t       *reg;
    const scim_resource_type_t  *rts[2];

    reg = ctx->slcf->registry;
    out = NULL;

    if (ctx->has_filter) {
        /* RFC 7644 4: filtering the discovery endpoints is not allowed */
        ngx_http_scim_fail(ctx, NGX_HTTP_FORBIDDEN, NULL,
                           "the discovery endpoints take no filter");
        return;
    }

    switch (ctx->resource) {

    case NGX_HTTP_SCIM_R_SPC:
        if (ctx->id.len) {
            break;
        }

        out = ngx_http_scim_spc(ctx);

        if (out && ngx_http_scim_spc_events(ctx, out) != NGX_OK) {
            json_decref(out);
            out = NULL;
        }

        break;

    case NGX_HTTP_SCIM_R_RESOURCE_TYPES:
        rts[0] = scim_registry_user(reg);
        rts[1] = scim_registry_group(reg);

        if (ctx->id.len) {
            for (i = 0; i < 2; i++) {
                if (ngx_http_scim_id_is(ctx, rts[i]->name)) {
                    out = ngx_http_scim_resource_type(ctx, rts[i]);
                    goto done;
                }
            }

            ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                               "no resource type \"%V\"", &ctx->id);
            return;
        }

        list = json_array();

        for (i = 0; list != NULL && i < 2; i++) {
            item = ngx_http_scim_resource_type(ctx, rts[i]);

            if (item == NULL || json_array_append_new(list, item) != 0) {
                json_decref(list);
                list = NULL;
            }
        }

        out = ngx_http_scim_list_of(list);
        break;

    default: /* NGX_HTTP_SCIM_R_SCHEMAS */

        n = scim_registry_n_schemas(reg);

        if (ctx->id.len) {
            schema = scim_registry_find_schema(reg, (char *) ctx->id.data,
                                               ctx->id.len);
            if (schema == NULL) {
                ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                                   "no schema \"%V\"", &ctx->id);
                return;
            }

            out = ngx_http_scim_schema(ctx, schema);
            break;
        }

        list = json_array();

        for (i = 0; list != NULL && i < n; i++) {
            item = ngx_http_scim_schema(ctx, scim_registry_schema(reg, i));

            if (item == NULL || json_array_append_new(list, item) != 0) {
                json_decref(list);
                list = NULL;
            }
        }

        out = ngx_http_scim_list_of(list);
        break;
    }

done:

    if (ctx->resource == NGX_HTTP_SCIM_R_SPC && ctx->id.len) {
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "no SCIM endpoint at \"%V\"",
                           &ctx->request->uri);
        return;
    }

    if (ngx_http_scim_track(ctx->request, out) == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_reply(ctx, NGX_HTTP_OK, out, 0);
}


static ngx_int_t
ngx_http_scim_id_is(ngx_http_scim_ctx_t *ctx, const char *name)
{
    size_t  len;

    len = ngx_strlen(name);

    return ctx->id.len == len
           && ngx_strncasecmp(ctx->id.data, (u_char *) name, len) == 0;
}


/*
 * the schemes this location accepts: bearer tokens (of files or of
 * Redis), access tokens
 */

static json_t *
ngx_http_scim_auth_schemes(ngx_http_scim_ctx_t *ctx)
{
    json_t                    *a, *o;
    ngx_http_scim_loc_conf_t  *slcf = ctx->slcf;

    a = json_array();
    if (a == NULL) {
        return NULL;
    }

    if (slcf->tokens || slcf->rcred || slcf->oauth_keys == NULL) {
        o = json_pack("{s:s,s:s,s:s,s:b}",
                      "type", "oauthbearertoken",
                      "name", "OAuth Bearer Token",
                      "description", "A long-lived bearer token (the Secret "
                      "Token), sent as \"Authorization: Bearer <token>\"",
                      "primary", slcf->oauth_keys == NULL);

        if (json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }

    if (slcf->oauth_keys) {
        o = json_pack("{s:s,s:s,s:s,s:s,s:b}",
                      "type", "oauth2",
                      "name", "OAuth 2.0 client credentials",
                      "description", "An access token of the token "
                      "endpoint (RFC 6749 client credentials grant), sent "
                      "as \"Authorization: Bearer <token>\"",
                      "specUri", "https://www.rfc-editor.org/rfc/rfc6749",
                      "primary", 1);

        if (o && slcf->oauth_token_uri.len
            && json_object_set_new(o, "tokenUri",
                                   json_stringn((char *)
                                                slcf->oauth_token_uri.data,
                                                slcf->oauth_token_uri.len))
               != 0)
        {
            json_decref(o);
            o = NULL;
        }

        if (json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }

    return a;
}


/* RFC 7643 section 5, truthful to what this module does */

static json_t *
ngx_http_scim_spc(ngx_http_scim_ctx_t *ctx)
{
    ngx_http_scim_loc_conf_t  *slcf = ctx->slcf;

    return json_pack("{s:[s],s:s,"
                     "s:{s:b},s:{s:b,s:I,s:I},s:{s:b,s:I},"
                     "s:{s:b},s:{s:b},s:{s:b},s:o,"
                     "s:o,s:o}",
                     "schemas", SCIM_SCHEMA_SPC,
                     "documentationUri",
                     "https://datatracker.ietf.org/doc/html/rfc7644",
                     "patch", "supported", 1,
                     "bulk", "supported", 1,
                     "maxOperations", (json_int_t) slcf->bulk_max_ops,
                     "maxPayloadSize",
                     (json_int_t) (slcf->max_body ? slcf->max_body
                                                  : NGX_MAX_INT32_VALUE),
                     "filter", "supported", 1,
                     "maxResults", (json_int_t) slcf->max_results,
                     "changePassword", "supported", 1,
                     "sort", "supported", 1,
                     "etag", "supported", 1,
                     "pagination", ngx_http_scim_cursor_spc(slcf),
                     "authenticationSchemes",
                     ngx_http_scim_auth_schemes(ctx),
                     "meta", ngx_http_scim_meta(ctx, "ServiceProviderConfig",
                                                "/ServiceProviderConfig",
                                                NULL));
}


static json_t *
ngx_http_scim_resource_type(ngx_http_scim_ctx_t *ctx,
    const scim_resource_type_t *rt)
{
    size_t   i;
    json_t  *out, *ext;

    ext = json_array();
    if (ext == NULL) {
        return NULL;
    }

    for (i = 0; i < rt->n_extensions; i++) {
        if (json_array_append_new(ext,
                                  json_pack("{s:s,s:b}",
                                            "schema", rt->extensions[i]->id,
                                            "required", 0))
            != 0)
        {
            json_decref(ext);
            return NULL;
        }
    }

    out = json_pack("{s:[s],s:s,s:s,s:s,s:s,s:s}",
                    "schemas", SCIM_SCHEMA_RESOURCE_TYPE,
                    "id", rt->name,
                    "name", rt->name,
                    "endpoint", rt->endpoint,
                    "description", rt->description ? rt->description
                                                   : rt->name,
                    "schema", rt->schema->id);
    if (out == NULL) {
        json_decref(ext);
        return NULL;
    }

    if (json_array_size(ext)) {
        json_object_set_new(out, "schemaExtensions", ext);

    } else {
        json_decref(ext);
    }

    json_object_set_new(out, "meta",
                        ngx_http_scim_meta(ctx, "ResourceType",
                                           "/ResourceTypes/", rt->name));

    return out;
}


static json_t *
ngx_http_scim_schema(ngx_http_scim_ctx_t *ctx, const scim_schema_t *schema)
{
    json_t  *out;

    if (schema == NULL || schema->json == NULL) {
        return NULL;
    }

    out = json_deep_copy(schema->json);
    if (out == NULL) {
        return NULL;
    }

    if (json_object_get(out, "schemas") == NULL) {
        json_object_set_new(out, "schemas",
                            json_pack("[s]", SCIM_SCHEMA_SCHEMA));
    }

    json_object_set_new(out, "meta",
                        ngx_http_scim_meta(ctx, "Schema", "/Schemas/",
                                           schema->id));

    return out;
}


static json_t *
ngx_http_scim_meta(ngx_http_scim_ctx_t *ctx, const char *type,
    const char *path, const char *name)
{
    json_t  *meta;
    char    *location;
    size_t   len;

    len = ctx->base_url.len + ngx_strlen(path) + (name ? ngx_strlen(name) : 0);

    location = ngx_pnalloc(ctx->request->pool, len + 1);
    if (location == NULL) {
        return NULL;
    }

    ngx_sprintf((u_char *) location, "%V%s%s%Z", &ctx->base_url, path,
                name ? name : "");

    meta = json_pack("{s:s,s:s}", "resourceType", type,
                     "location", location);

    return meta;
}


static json_t *
ngx_http_scim_list_of(json_t *resources)
{
    if (resources == NULL) {
        return NULL;
    }

    return json_pack("{s:[s],s:I,s:I,s:i,s:o}",
                     "schemas", SCIM_SCHEMA_LIST,
                     "totalResults", (json_int_t) json_array_size(resources),
                     "itemsPerPage", (json_int_t) json_array_size(resources),
                     "startIndex", 1,
                     "Resources", resources);
}
