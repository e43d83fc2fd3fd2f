
/*
 * ngx_http_scim_module: the Redis data model; its Lua scripts are
 * the files in store/lua, embedded by store/lua/gen.pl into store/ngx_scim_lua.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_scim_store.h"
#include "ngx_scim_lua.h"


ngx_int_t
ngx_http_scim_store_init_scripts(ngx_conf_t *cf,
    ngx_scim_redis_script_t **scripts, ngx_uint_t *n)
{
    ngx_uint_t                i;
    ngx_scim_redis_script_t  *s;

    s = ngx_pcalloc(cf->pool,
                    NGX_HTTP_SCIM_SCRIPT_N * sizeof(ngx_scim_redis_script_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_SCIM_SCRIPT_N; i++) {
        s[i].name.data = (u_char *) ngx_scim_lua[i].name;
        s[i].name.len = ngx_strlen(ngx_scim_lua[i].name);
        s[i].body.data = (u_char *) ngx_scim_lua[i].body;
        s[i].body.len = ngx_scim_lua[i].len;
        ngx_memcpy(s[i].sha1, ngx_scim_lua[i].sha1, 41);
    }

    *scripts = s;
    *n = NGX_HTTP_SCIM_SCRIPT_N;

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_store_keys(ngx_pool_t *pool, ngx_str_t *tenant,
    const char *type, ngx_http_scim_keys_t *keys)
{
    size_t   tlen;
    u_char  *p;

    tlen = ngx_strlen(type);

    p = ngx_pnalloc(pool, sizeof("scim:{}:") - 1 + tenant->len
                          + sizeof("scim:{}:") - 1 + tenant->len + tlen + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    keys->tenant.data = p;
    p = ngx_sprintf(p, "scim:{%V}:", tenant);
    keys->tenant.len = p - keys->tenant.data;

    keys->type.data = p;
    p = ngx_sprintf(p, "scim:{%V}:%s:", tenant, type);
    keys->type.len = p - keys->type.data;

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_store_key(ngx_pool_t *pool, ngx_http_scim_keys_t *keys,
    const char *suffix, size_t len, ngx_str_t *out)
{
    u_char  *p;

    p = ngx_pnalloc(pool, keys->type.len + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, keys->type.data, keys->type.len);
    p = ngx_cpymem(p, suffix, len);
    out->len = p - out->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_store_id_key(ngx_pool_t *pool, ngx_http_scim_keys_t *keys,
    ngx_str_t *id, const char *tail, ngx_str_t *out)
{
    size_t   tlen;
    u_char  *p;

    tlen = tail ? ngx_strlen(tail) : 0;

    p = ngx_pnalloc(pool, keys->type.len + id->len + tlen);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, keys->type.data, keys->type.len);
    p = ngx_cpymem(p, id->data, id->len);
    p = ngx_cpymem(p, tail, tlen);
    out->len = p - out->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_store_valid_id(u_char *p, size_t len)
{
    size_t  i;

    if (len != 36) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-') {
                return 0;
            }

            continue;
        }

        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}
