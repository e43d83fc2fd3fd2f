
/*
 * ngx_http_scim_module: the store's configuration (a Redis per distinct
 * address and settings, its scripts), the version tail of a stored
 * document, resource ids.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_scim_redis.h"
#include "ngx_scim_lua.h"
#include "ngx_scim_sentinel.h"
#include "ngx_scim_store.h"
#include "ngx_scim_cluster.h"


/* the version tail of a stored document (see store/lua/lib.lua) */

ngx_int_t
ngx_scim_store_head(ngx_str_t *doc, ngx_str_t *head)
{
    static const char  tail[] = "\"version\":\"\"}}";

    if (doc->len < sizeof(tail) - 1
        || ngx_memcmp(doc->data + doc->len - (sizeof(tail) - 1), tail,
                      sizeof(tail) - 1)
           != 0)
    {
        return NGX_ERROR;
    }

    /* keep ..."version":" */
    head->data = doc->data;
    head->len = doc->len - 3;

    return NGX_OK;
}


ngx_int_t
ngx_scim_store_text(ngx_pool_t *pool, ngx_str_t *head, ngx_int_t version,
    ngx_str_t *text)
{
    u_char  *p;

    p = ngx_pnalloc(pool, head->len + sizeof("W/\\\"\\\"\"}}") - 1
                          + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    text->data = p;
    p = ngx_cpymem(p, head->data, head->len);
    p = ngx_sprintf(p, "W/\\\"%i\\\"\"}}", version);
    text->len = p - text->data;

    return NGX_OK;
}


/* configuration */

/*
 * "host:port", "unix:/path"; a host name is resolved here, at
 * configuration time: hiredis would resolve it with a blocking
 * getaddrinfo() in the worker
 */

ngx_int_t
ngx_scim_store_parse_addr(ngx_conf_t *cf, ngx_str_t *addr,
    ngx_scim_store_conf_t *s)
{
    u_char     *p;
    ngx_url_t   u;

    s->addr = *addr;

    if (s->addr.len > 5 && ngx_strncmp(s->addr.data, "unix:", 5) == 0) {
        if (s->addr.len == 5) {
            goto invalid;
        }

        p = ngx_pnalloc(cf->pool, s->addr.len - 5 + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s->unix_path.data = p;
        s->unix_path.len = s->addr.len - 5;
        ngx_memcpy(p, s->addr.data + 5, s->unix_path.len);
        p[s->unix_path.len] = '\0';

        return NGX_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = s->addr;
    u.default_port = 6379;
    u.no_resolve = 0;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid redis address \"%V\" in "
                               "\"scim_redis\": %s", &s->addr, u.err);
            return NGX_ERROR;
        }

        goto invalid;
    }

    if (u.naddrs == 0 || u.uri.len
        || (u.addrs[0].sockaddr->sa_family != AF_INET
            && u.addrs[0].sockaddr->sa_family != AF_INET6))
    {
        goto invalid;
    }

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s->host.data = p;
    s->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, p,
                                NGX_SOCKADDR_STRLEN, 0);
    p[s->host.len] = '\0';
    s->port = u.port ? u.port : 6379;

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid redis address \"%V\" in \"scim_redis\" "
                       "(expected host:port or unix:/path)", &s->addr);
    return NGX_ERROR;
}


/* two stores are one if every setting and seed is the same */

static ngx_uint_t
ngx_scim_store_same(ngx_scim_store_t *store, ngx_scim_store_conf_t *conf)
{
    ngx_uint_t                i, n;
    ngx_scim_store_conf_t    *a, *b;
    ngx_scim_redis_server_t  *s;

    s = store->server;
    n = conf->nseeds ? conf->nseeds : 1;

    if (store->nseeds != n
        || s->password.len != conf->password.len
        || (conf->password.len
            && ngx_strncmp(s->password.data, conf->password.data,
                           conf->password.len) != 0)
        || s->db != conf->db
        || s->nconns != conf->nconns
        || s->connect_timeout != conf->connect_timeout
        || s->timeout != conf->timeout
        || s->sentinel_password.len != conf->sentinel_password.len
        || (conf->sentinel_password.len
            && ngx_strncmp(s->sentinel_password.data,
                           conf->sentinel_password.data,
                           conf->sentinel_password.len) != 0)
        || store->nwait != conf->wait_replicas
        || store->wait_timeout != conf->wait_timeout)
    {
        return 0;
    }

    for (i = 0; i < n; i++) {
        a = &store->seeds[i];
        b = conf->nseeds ? &conf->seeds[i] : conf;

        if (a->addr.len != b->addr.len
            || ngx_strncmp(a->addr.data, b->addr.data, b->addr.len) != 0)
        {
            return 0;
        }
    }

    return 1;
}


ngx_scim_store_t *
ngx_scim_store_add(ngx_conf_t *cf, ngx_array_t *stores,
    ngx_scim_store_conf_t *conf)
{
    u_char                   *p;
    size_t                    len;
    ngx_uint_t                i;
    ngx_scim_store_t         *store, **sp;
    ngx_scim_redis_server_t  *proto;
    ngx_scim_redis_script_t  *s;

    if (conf->sentinel_name.len) {
        /* the same master through the same Sentinels: the same store */

        len = conf->sentinel_name.len + sizeof("sentinel ") - 1;

        for (i = 0; i < conf->nsentinels; i++) {
            len += 1 + conf->sentinels[i].len;
        }

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NULL;
        }

        conf->addr.data = p;
        p = ngx_sprintf(p, "sentinel %V", &conf->sentinel_name);

        for (i = 0; i < conf->nsentinels; i++) {
            p = ngx_sprintf(p, " %V", &conf->sentinels[i]);
        }

        conf->addr.len = p - conf->addr.data;
        conf->host.len = 0;
        conf->unix_path.len = 0;
    }

    sp = stores->elts;

    for (i = 0; i < stores->nelts; i++) {
        if (ngx_scim_store_same(sp[i], conf)) {
            return sp[i];
        }
    }

    if (conf->wait_replicas && conf->wait_timeout >= conf->timeout) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the timeout of \"scim_redis_wait\" (%M ms) must "
                           "be shorter than \"scim_redis_timeout\" (%M ms)",
                           conf->wait_timeout, conf->timeout);
        return NULL;
    }

    s = ngx_pcalloc(cf->pool, NGX_SCIM_LUA_N * sizeof(ngx_scim_redis_script_t));
    if (s == NULL) {
        return NULL;
    }

    for (i = 0; i < NGX_SCIM_LUA_N; i++) {
        s[i].name.data = (u_char *) ngx_scim_lua[i].name;
        s[i].name.len = ngx_strlen(ngx_scim_lua[i].name);
        s[i].body.data = (u_char *) ngx_scim_lua[i].body;
        s[i].body.len = ngx_scim_lua[i].len;
        ngx_memcpy(s[i].sha1, ngx_scim_lua[i].sha1, 41);
        s[i].fname.data = (u_char *) ngx_scim_lua[i].fname;
        s[i].fname.len = ngx_strlen(ngx_scim_lua[i].fname);
    }

    store = ngx_pcalloc(cf->pool, sizeof(ngx_scim_store_t));
    proto = ngx_pcalloc(cf->pool, sizeof(ngx_scim_redis_server_t));
    if (store == NULL || proto == NULL) {
        return NULL;
    }

    proto->addr = conf->addr;
    proto->host = conf->host;
    proto->unix_path = conf->unix_path;
    proto->port = conf->port;
    proto->password = conf->password;
    proto->db = conf->db;
    proto->nconns = conf->nconns;
    proto->connect_timeout = conf->connect_timeout;
    proto->timeout = conf->timeout;
    proto->library = ngx_scim_lua_library;
    proto->sentinel_name = conf->sentinel_name;
    proto->sentinel_password = conf->sentinel_password;

    if (conf->sentinel_name.len
        && ngx_scim_sentinel_conf(cf, proto, conf->sentinels,
                                  conf->nsentinels)
           != NGX_OK)
    {
        return NULL;
    }

    store->server = proto;
    store->scripts = s;
    store->nwait = conf->wait_replicas;
    store->wait_timeout = conf->wait_timeout;

    if (conf->nseeds) {
        store->seeds = conf->seeds;
        store->nseeds = conf->nseeds;

    } else {
        store->seeds = ngx_palloc(cf->pool, sizeof(ngx_scim_store_conf_t));
        if (store->seeds == NULL) {
            return NULL;
        }

        *store->seeds = *conf;
        store->nseeds = 1;
    }

    sp = ngx_array_push(stores);
    if (sp == NULL) {
        return NULL;
    }

    *sp = store;

    return store;
}


ngx_int_t
ngx_scim_store_check_sentinels(ngx_conf_t *cf, ngx_scim_store_conf_t *conf)
{
    return ngx_scim_sentinel_conf(cf, NULL, conf->sentinels,
                                  conf->nsentinels);
}


ngx_int_t
ngx_scim_store_init_worker(ngx_scim_store_t *store, ngx_log_t *log)
{
    ngx_scim_redis_server_t  *server;

    server = store->server;

    if (ngx_scim_sentinel_init_worker(server, log) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_scim_cluster_init_worker(store, log);
}


void
ngx_scim_store_exit_worker(ngx_scim_store_t *store)
{
    ngx_scim_cluster_exit_worker(store);
    ngx_scim_sentinel_exit_worker(store->server);
}


ngx_int_t
ngx_scim_store_valid_id(u_char *p, size_t len)
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


ngx_int_t
ngx_scim_store_valid_tenant(u_char *p, size_t len)
{
    if (len == 0 || len > NGX_SCIM_STORE_TENANT_MAX) {
        return 0;
    }

    return ngx_strlchr(p, p + len, '{') == NULL
           && ngx_strlchr(p, p + len, '}') == NULL;
}
