
/*
 * ngx_http_scim_module: a Redis server of the configuration and its
 * connections in a worker.
 *
 * ngx_scim_redis_server_add() shares one server between the locations
 * with the same settings; a worker makes its connections at start
 * (ngx_scim_redis_init_worker) and closes them at exit, answering the
 * commands still waiting with NULL.  With Sentinel, the server's address
 * is the primary's as ngx_scim_sentinel.c says: ngx_scim_redis_retarget()
 * moves the connections there, ngx_scim_redis_unresolved() fails the
 * ones waiting for it.  The connections themselves are
 * ngx_scim_redis.c's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"


static void ngx_scim_redis_name(ngx_scim_redis_server_t *s);


ngx_scim_redis_server_t *
ngx_scim_redis_server_add(ngx_conf_t *cf, ngx_array_t *servers,
    ngx_scim_redis_server_t *proto)
{
    ngx_uint_t                 i;
    ngx_scim_redis_server_t   *s, **sp;

    sp = servers->elts;

    for (i = 0; i < servers->nelts; i++) {
        s = sp[i];

        if (s->addr.len == proto->addr.len
            && ngx_strncmp(s->addr.data, proto->addr.data,
                           proto->addr.len) == 0
            && s->password.len == proto->password.len
            && ngx_strncmp(s->password.data, proto->password.data,
                           proto->password.len) == 0
            && s->sentinel_password.len == proto->sentinel_password.len
            && (proto->sentinel_password.len == 0
                || ngx_strncmp(s->sentinel_password.data,
                               proto->sentinel_password.data,
                               proto->sentinel_password.len) == 0)
            && s->db == proto->db
            && s->nconns == proto->nconns
            && s->connect_timeout == proto->connect_timeout
            && s->timeout == proto->timeout)
        {
            return s;
        }
    }

    s = ngx_palloc(cf->pool, sizeof(ngx_scim_redis_server_t));
    if (s == NULL) {
        return NULL;
    }

    *s = *proto;

    sp = ngx_array_push(servers);
    if (sp == NULL) {
        return NULL;
    }

    *sp = s;

    return s;
}


ngx_int_t
ngx_scim_redis_init_worker(ngx_scim_redis_server_t *server, ngx_log_t *log)
{
    ngx_uint_t              i;
    ngx_scim_redis_conn_t  *rc;

    server->log = log;
    server->next = 0;
    server->failing = 0;
    server->replica = 0;
    server->resolved = 0;

    if (server->resolve) {
        /* the primary's address, as the Sentinels say, and its name */

        server->host.data = ngx_pnalloc(ngx_cycle->pool,
                                        NGX_SOCKADDR_STRLEN + 1);
        server->addr.data = ngx_pnalloc(ngx_cycle->pool,
                                        server->sentinel_name.len
                                        + sizeof(" primary ") - 1
                                        + NGX_SOCKADDR_STRLEN
                                        + NGX_INT_T_LEN + 1);
        if (server->host.data == NULL || server->addr.data == NULL) {
            return NGX_ERROR;
        }

        server->host.len = 0;
        server->port = 0;
        ngx_scim_redis_name(server);
    }

    server->conns = ngx_pcalloc(ngx_cycle->pool,
                                server->nconns * sizeof(ngx_scim_redis_conn_t));
    if (server->conns == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < server->nconns; i++) {
        rc = &server->conns[i];

        rc->server = server;
        rc->state = NGX_SCIM_REDIS_DISCONNECTED;
        ngx_queue_init(&rc->pending);
        ngx_queue_init(&rc->waiting);

        rc->reconnect.handler = ngx_scim_redis_reconnect_handler;
        rc->reconnect.data = rc;
        rc->reconnect.log = log;
        rc->reconnect.cancelable = 1;

        rc->connect_timer.handler = ngx_scim_redis_connect_timeout_handler;
        rc->connect_timer.data = rc;
        rc->connect_timer.log = log;
        rc->connect_timer.cancelable = 1;

        rc->deadline.handler = ngx_scim_redis_deadline_handler;
        rc->deadline.data = rc;
        rc->deadline.log = log;
    }

    for (i = 0; i < server->nconns; i++) {
        ngx_scim_redis_connect(&server->conns[i]);
    }

    return NGX_OK;
}


void
ngx_scim_redis_exit_worker(ngx_scim_redis_server_t *server)
{
    ngx_uint_t              i;
    redisAsyncContext      *ac;
    ngx_scim_redis_conn_t  *rc;

    if (server->conns == NULL) {
        return;
    }

    for (i = 0; i < server->nconns; i++) {
        server->conns[i].state = NGX_SCIM_REDIS_CLOSED;
    }

    for (i = 0; i < server->nconns; i++) {
        rc = &server->conns[i];

        if (rc->reconnect.timer_set) {
            ngx_del_timer(&rc->reconnect);
        }

        if (rc->reconnect.posted) {
            ngx_delete_posted_event(&rc->reconnect);
        }

        if (rc->connect_timer.timer_set) {
            ngx_del_timer(&rc->connect_timer);
        }

        if (rc->deadline.timer_set) {
            ngx_del_timer(&rc->deadline);
        }

        ac = rc->ac;

        if (ac != NULL) {
            rc->ac = NULL;
            ac->onDisconnect = NULL;
            ac->onConnect = NULL;
            redisAsyncFree(ac);
        }

        ngx_scim_redis_flush(rc);
    }
}


/* with Sentinel: "<master-name> primary <host:port>" in error.log */

static void
ngx_scim_redis_name(ngx_scim_redis_server_t *s)
{
    u_char  *p;

    p = ngx_sprintf(s->addr.data, "%V primary ", &s->sentinel_name);

    if (s->host.len == 0) {
        p = ngx_sprintf(p, "(not known yet)");

    } else if (ngx_strlchr(s->host.data, s->host.data + s->host.len, ':')) {
        p = ngx_sprintf(p, "[%V]:%d", &s->host, (int) s->port);

    } else {
        p = ngx_sprintf(p, "%V:%d", &s->host, (int) s->port);
    }

    s->addr.len = p - s->addr.data;
}


void
ngx_scim_redis_retarget(ngx_scim_redis_server_t *s, u_char *host,
    in_port_t port)
{
    size_t                  len;
    ngx_uint_t              i, same;
    ngx_scim_redis_conn_t  *rc;

    if (s->conns == NULL) {
        return;
    }

    len = ngx_min(ngx_strlen(host), NGX_SOCKADDR_STRLEN);

    same = (s->host.len == len && s->port == port
            && ngx_strncmp(s->host.data, host, len) == 0);

    if (!same) {
        if (s->host.len) {
            ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                          "scim redis %V: the sentinels name a new "
                          "primary: %*s:%d", &s->addr, len, host,
                          (int) port);
        }

        ngx_memcpy(s->host.data, host, len);
        s->host.data[len] = '\0';
        s->host.len = len;
        s->port = port;
        ngx_scim_redis_name(s);

        if (!s->failing) {
            ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                          "scim redis %V: connecting", &s->addr);
        }
    }

    s->resolved = 1;

    /* handlers of commands that get NULL may issue others meanwhile */

    for (i = 0; i < s->nconns; i++) {
        rc = &s->conns[i];

        if (rc->state == NGX_SCIM_REDIS_CLOSED) {
            continue;
        }

        if (!same && rc->ac != NULL) {
            /* made to the old primary: its commands get NULL */
            ngx_scim_redis_drop(rc);
            rc->dropped = 0;
        }

        if (rc->ac != NULL
            || (rc->state == NGX_SCIM_REDIS_DISCONNECTED && same))
        {
            continue;
        }

        /* waits for the address, or not made to the new one yet */

        if (rc->reconnect.timer_set) {
            ngx_del_timer(&rc->reconnect);
        }

        if (rc->reconnect.posted) {
            ngx_delete_posted_event(&rc->reconnect);
        }

        ngx_scim_redis_connect(rc);
    }
}


void
ngx_scim_redis_unresolved(ngx_scim_redis_server_t *s, u_char *why,
    size_t len)
{
    ngx_uint_t              i;
    ngx_scim_redis_conn_t  *rc;

    if (s->conns == NULL) {
        return;
    }

    for (i = 0; i < s->nconns; i++) {
        rc = &s->conns[i];

        if (rc->state == NGX_SCIM_REDIS_CONNECTING && rc->ac == NULL) {
            ngx_scim_redis_attempt_failed(rc, why, len);
        }
    }
}
