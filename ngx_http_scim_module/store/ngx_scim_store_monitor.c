
/*
 * ngx_http_scim_module: what the store tells about its health (see
 * ngx_scim_store.h): a probe (a PING to every Redis a store serves, on
 * the worker's own connections, bounded by the connect timeout), the
 * worker's connections by state, and the counters the Redis client
 * bumps (ngx_scim_store_stats).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"
#include "ngx_scim_store.h"
#include "ngx_scim_cluster.h"


ngx_atomic_t  *ngx_scim_store_stats;


static ngx_uint_t ngx_scim_store_primaries(ngx_scim_store_t *store,
    ngx_scim_redis_server_t **out, ngx_uint_t max, ngx_uint_t *uncovered);
static void ngx_scim_store_ping_start(ngx_scim_store_ping_t *ping,
    ngx_scim_redis_server_t *server);
static void ngx_scim_store_ping_reply(void *data, redisReply *reply);
static void ngx_scim_store_ping_done(ngx_scim_store_ping_t *ping,
    const char *fmt, ...);
static void ngx_scim_store_probe_event(ngx_event_t *ev);
static uint64_t ngx_scim_store_usec(void);


#define NGX_SCIM_STORE_PING_ERROR  160


ngx_scim_store_probe_t *
ngx_scim_store_probe(ngx_scim_store_t **stores, ngx_uint_t nstores,
    ngx_pool_t *pool, ngx_log_t *log, ngx_scim_store_probe_pt handler,
    void *data)
{
    ngx_uint_t                 i, j, n, total, uncovered;
    ngx_msec_t                 bound;
    ngx_scim_store_ping_t     *ping;
    ngx_scim_store_probe_t    *probe;
    ngx_scim_redis_server_t  **servers;

    probe = ngx_pcalloc(pool, sizeof(ngx_scim_store_probe_t));
    if (probe == NULL) {
        return NULL;
    }

    /* a store: its primaries, and one more for slots no node serves */

    total = 0;

    for (i = 0; i < nstores; i++) {
        total += NGX_SCIM_CLUSTER_NODES + 1;
    }

    servers = ngx_palloc(pool, (NGX_SCIM_CLUSTER_NODES + 1)
                               * sizeof(ngx_scim_redis_server_t *));
    probe->pings = ngx_pcalloc(pool, total * sizeof(ngx_scim_store_ping_t));

    if (servers == NULL || probe->pings == NULL) {
        return NULL;
    }

    probe->pool = pool;
    probe->handler = handler;
    probe->data = data;
    probe->event.handler = ngx_scim_store_probe_event;
    probe->event.data = probe;
    probe->event.log = log;
    probe->event.cancelable = 1;

    bound = 0;

    /* one for the setup: the handler is not posted before it ends */
    probe->left = 1;

    for (i = 0; i < nstores; i++) {
        n = ngx_scim_store_primaries(stores[i], servers,
                                     NGX_SCIM_CLUSTER_NODES, &uncovered);

        for (j = 0; j < n; j++) {
            ping = &probe->pings[probe->npings++];
            ping->probe = probe;
            ping->store = stores[i];
            ping->timeout = servers[j]->connect_timeout;
            bound = ngx_max(bound, ping->timeout);

            probe->left++;
            ngx_scim_store_ping_start(ping, servers[j]);
        }

        if (uncovered) {
            ping = &probe->pings[probe->npings++];
            ping->probe = probe;
            ping->store = stores[i];
            ping->addr = stores[i]->server->addr;
            probe->left++;
            ngx_scim_store_ping_done(ping, "%ui hash slots are served by "
                                     "no node", uncovered);
        }
    }

    if (--probe->left == 0) {
        ngx_post_event(&probe->event, &ngx_posted_events);

    } else {
        ngx_add_timer(&probe->event, bound);
    }

    return probe;
}


void
ngx_scim_store_probe_cancel(ngx_scim_store_probe_t *probe)
{
    ngx_uint_t              i;
    ngx_scim_store_ping_t  *ping;

    if (probe->event.timer_set) {
        ngx_del_timer(&probe->event);
    }

    if (probe->event.posted) {
        ngx_delete_posted_event(&probe->event);
    }

    for (i = 0; i < probe->npings; i++) {
        ping = &probe->pings[i];

        if (ping->cmd) {
            ngx_scim_redis_cancel(ping->cmd);
            ping->cmd = NULL;
        }
    }

    probe->finished = 1;
}


/*
 * The Redis servers a store serves now: the server (a Sentinel's
 * primary as far as this worker knows), or every node the slot map
 * names as a primary; *uncovered: slots of the map without one.
 */

static ngx_uint_t
ngx_scim_store_primaries(ngx_scim_store_t *store,
    ngx_scim_redis_server_t **out, ngx_uint_t max, ngx_uint_t *uncovered)
{
    ngx_uint_t                i, j, n;
    ngx_scim_cluster_t       *cl;
    ngx_scim_cluster_node_t  *node, *last;

    *uncovered = 0;
    cl = store->cluster;

    if (cl == NULL || cl->mode != NGX_SCIM_CLUSTER_ON || cl->slots == NULL)
    {
        out[0] = store->server;
        return 1;
    }

    n = 0;
    last = NULL;

    for (i = 0; i < NGX_SCIM_CLUSTER_SLOTS; i++) {
        node = cl->slots[i];

        if (node == NULL) {
            (*uncovered)++;
            continue;
        }

        if (node == last) {
            continue;
        }

        last = node;

        for (j = 0; j < n; j++) {
            if (out[j] == node->server) {
                break;
            }
        }

        if (j == n && n < max) {
            out[n++] = node->server;
        }
    }

    return n;
}


static void
ngx_scim_store_ping_start(ngx_scim_store_ping_t *ping,
    ngx_scim_redis_server_t *server)
{
    u_char                *p;
    ngx_int_t              rc;
    ngx_scim_redis_cmd_t  *cmd;

    static const char     *argv[] = { "PING" };
    static size_t          argvlen[] = { 4 };

    /* where it goes: a Sentinel's primary by its address now */

    if (server->sentinel_name.len && server->host.len) {
        p = ngx_pnalloc(ping->probe->pool, server->host.len + 1 + NGX_INT_T_LEN
                                           + 2);
        if (p == NULL) {
            ping->addr = server->addr;

        } else {
            ping->addr.data = p;
            p = (ngx_strlchr(server->host.data,
                             server->host.data + server->host.len, ':')
                 != NULL)
                ? ngx_sprintf(p, "[%V]:%d", &server->host, (int) server->port)
                : ngx_sprintf(p, "%V:%d", &server->host, (int) server->port);
            ping->addr.len = p - ping->addr.data;
        }

        ping->sentinel = server->sentinel_name;

    } else if (server->sentinel_name.len) {
        ping->addr = server->addr;
        ping->sentinel = server->sentinel_name;

    } else {
        ping->addr = server->addr;
    }

    ping->sent = ngx_scim_store_usec();

    rc = ngx_scim_redis_command(server, 1, argv, argvlen,
                                ngx_scim_store_ping_reply, ping, &cmd);

    if (rc == NGX_OK) {
        ping->cmd = cmd;
        return;
    }

    if (rc == NGX_DECLINED && server->failing && server->reason_len) {
        ngx_scim_store_ping_done(ping, "%*s", server->reason_len,
                                 server->reason);
        return;
    }

    ngx_scim_store_ping_done(ping, rc == NGX_DECLINED
                                   ? "no connection" : "out of memory");
}


static void
ngx_scim_store_ping_reply(void *data, redisReply *reply)
{
    ngx_scim_store_ping_t *ping = data;

    ping->cmd = NULL;
    ping->usec = ngx_scim_store_usec() - ping->sent;

    if (reply == NULL) {
        ngx_scim_store_ping_done(ping, "no answer (connection lost, "
                                 "timed out, or Redis loading or busy)");
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_scim_store_ping_done(ping, "%*s",
                                 (size_t) ngx_min(reply->len, 120),
                                 reply->str);
        return;
    }

    if (ping->usec > (uint64_t) ping->timeout * 1000) {
        ngx_scim_store_ping_done(ping, "answered after the connect timeout");
        return;
    }

    ping->ok = 1;
    ngx_scim_store_ping_done(ping, NULL);
}


static void
ngx_scim_store_ping_done(ngx_scim_store_ping_t *ping, const char *fmt, ...)
{
    u_char                  *p;
    va_list                  args;
    ngx_scim_store_probe_t  *probe;

    if (ping->done) {
        return;
    }

    ping->done = 1;
    probe = ping->probe;

    if (fmt != NULL) {
        p = ngx_pnalloc(probe->pool, NGX_SCIM_STORE_PING_ERROR);

        if (p == NULL) {
            ngx_str_set(&ping->error, "failed");

        } else {
            va_start(args, fmt);
            ping->error.data = p;
            ping->error.len = ngx_vslprintf(p, p + NGX_SCIM_STORE_PING_ERROR,
                                            fmt, args)
                              - p;
            va_end(args);

            if (ping->error.len == 0) {
                ngx_str_set(&ping->error, "failed");
            }
        }
    }

    if (--probe->left > 0 || probe->finished) {
        return;
    }

    /* the last one: the handler runs from the event loop, never inside */

    if (probe->event.timer_set) {
        ngx_del_timer(&probe->event);
    }

    if (!probe->event.posted) {
        ngx_post_event(&probe->event, &ngx_posted_events);
    }
}


/* the bound (pings still in flight are down), or all answered */

static void
ngx_scim_store_probe_event(ngx_event_t *ev)
{
    ngx_uint_t               i;
    ngx_scim_store_ping_t   *ping;
    ngx_scim_store_probe_t  *probe = ev->data;

    if (probe->finished) {
        return;
    }

    for (i = 0; i < probe->npings; i++) {
        ping = &probe->pings[i];

        if (ping->done) {
            continue;
        }

        if (ping->cmd) {
            ngx_scim_redis_cancel(ping->cmd);
            ping->cmd = NULL;
        }

        ping->usec = ngx_scim_store_usec() - ping->sent;
        ngx_scim_store_ping_done(ping, "no answer within the connect "
                                 "timeout (%M ms)", ping->timeout);
    }

    if (ev->posted) {
        ngx_delete_posted_event(ev);
    }

    /* a cluster node down: the slot map may have changed (a failover) */

    for (i = 0; i < probe->npings; i++) {
        ping = &probe->pings[i];

        if (!ping->ok && ping->store->cluster
            && ping->store->cluster->mode == NGX_SCIM_CLUSTER_ON)
        {
            ngx_scim_cluster_want_refresh(ping->store->cluster, 0);
        }
    }

    probe->finished = 1;
    probe->handler(probe);
}


void
ngx_scim_store_conns(ngx_scim_store_t *store, ngx_scim_store_conns_t *conns)
{
    ngx_uint_t                i, j, n;
    ngx_scim_cluster_t       *cl;
    ngx_scim_redis_server_t  *s;

    cl = store->cluster;

    if (cl != NULL && cl->mode == NGX_SCIM_CLUSTER_ON) {
        n = cl->nnodes;

    } else {
        cl = NULL;
        n = 1;
    }

    for (i = 0; i < n; i++) {
        s = cl ? cl->nodes[i].server : store->server;

        if (s->conns == NULL) {
            continue;
        }

        for (j = 0; j < s->nconns; j++) {
            switch (s->conns[j].state) {

            case NGX_SCIM_REDIS_READY:
                conns->ready++;
                break;

            case NGX_SCIM_REDIS_CONNECTING:
                conns->connecting++;
                break;

            default:
                conns->down++;
            }
        }
    }
}


ngx_str_t *
ngx_scim_store_name(ngx_scim_store_t *store)
{
    if (store->server->sentinel_name.len) {
        return &store->server->sentinel_name;
    }

    return &store->server->addr;
}


static uint64_t
ngx_scim_store_usec(void)
{
    struct timeval  tv;

    ngx_gettimeofday(&tv);

    return (uint64_t) tv.tv_sec * 1000000 + tv.tv_usec;
}
