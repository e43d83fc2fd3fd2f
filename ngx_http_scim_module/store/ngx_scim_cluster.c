
/*
 * ngx_http_scim_module: one Redis server or a Redis Cluster behind the
 * store (see ngx_scim_cluster.h), as a worker knows it: discovery, the
 * slot map (CLUSTER SLOTS, refreshed), the nodes, a key's slot, the node
 * a MOVED or ASK names.  The commands are ngx_scim_cluster_command.c's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"
#include "ngx_scim_store.h"
#include "ngx_scim_cluster.h"


#define NGX_SCIM_CLUSTER_REFRESH_MIN   500     /* ms between refreshes */
#define NGX_SCIM_CLUSTER_DISCOVER      1000    /* retry of a failed first
                                                  CLUSTER SLOTS */


static void ngx_scim_cluster_refresh_handler(ngx_event_t *ev);
static void ngx_scim_cluster_slots_reply(void *data, redisReply *reply);
static ngx_int_t ngx_scim_cluster_map(ngx_scim_cluster_t *cl,
    ngx_scim_redis_server_t *asked, redisReply *reply);
static void ngx_scim_cluster_log_uncovered(ngx_scim_cluster_t *cl);
static ngx_scim_cluster_node_t *ngx_scim_cluster_node(ngx_scim_cluster_t *cl,
    u_char *host, size_t len, in_port_t port);


/* CRC16/XMODEM (polynomial 0x1021, initial value 0), as in the spec */

uint16_t
ngx_scim_cluster_crc16(u_char *p, size_t len)
{
    size_t      i;
    uint16_t    crc;
    ngx_uint_t  bit;

    crc = 0;

    for (i = 0; i < len; i++) {
        crc ^= (uint16_t) p[i] << 8;

        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc;
}


/* a key's slot: the text between the first "{" and the next "}", if any */

ngx_uint_t
ngx_scim_cluster_slot(u_char *key, size_t len)
{
    u_char  *open, *close;

    open = ngx_strlchr(key, key + len, '{');

    if (open != NULL) {
        close = ngx_strlchr(open + 1, key + len, '}');

        if (close != NULL && close > open + 1) {
            key = open + 1;
            len = close - key;
        }
    }

    return ngx_scim_cluster_crc16(key, len) & (NGX_SCIM_CLUSTER_SLOTS - 1);
}


ngx_int_t
ngx_scim_cluster_init_worker(ngx_scim_store_t *store, ngx_log_t *log)
{
    static const char   *argv[] = { "CLUSTER", "SLOTS" };
    static size_t        argvlen[] = { 7, 5 };

    ngx_scim_cluster_t  *cl;

    cl = ngx_pcalloc(ngx_cycle->pool, sizeof(ngx_scim_cluster_t));
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->nodes = ngx_pcalloc(ngx_cycle->pool, NGX_SCIM_CLUSTER_NODES
                                            * sizeof(ngx_scim_cluster_node_t));
    if (cl->nodes == NULL) {
        return NGX_ERROR;
    }

    cl->store = store;
    cl->log = log;
    cl->proto = *store->server;

    /* a node is where the slot map says: never a Sentinel's primary */
    cl->proto.resolve = NULL;
    cl->proto.resolve_data = NULL;
    ngx_str_null(&cl->proto.sentinel_name);

    cl->refresh.handler = ngx_scim_cluster_refresh_handler;
    cl->refresh.data = cl;
    cl->refresh.log = log;
    cl->refresh.cancelable = 1;

    store->cluster = cl;

    if (ngx_scim_redis_init_worker(store->server, log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the seed is a node: not connected twice if the map names it */

    if (store->server->unix_path.len == 0
        && store->server->host.len < sizeof(cl->nodes[0].host))
    {
        ngx_memcpy(cl->nodes[0].host, store->server->host.data,
                   store->server->host.len);
        cl->nodes[0].host_len = store->server->host.len;
        cl->nodes[0].port = store->server->port;
        cl->nodes[0].server = store->server;
        cl->nnodes = 1;
    }

    /* waits for the first connection's handshake */

    cl->refreshing = 1;
    cl->refreshed_at = ngx_current_msec;

    cl->asked = store->server;

    if (ngx_scim_redis_command(store->server, 2, argv, argvlen,
                               ngx_scim_cluster_slots_reply, cl, NULL)
        != NGX_OK)
    {
        cl->refreshing = 0;
        ngx_scim_cluster_want_refresh(cl, NGX_SCIM_CLUSTER_DISCOVER);
    }

    return NGX_OK;
}


void
ngx_scim_cluster_exit_worker(ngx_scim_store_t *store)
{
    ngx_uint_t           i;
    ngx_scim_cluster_t  *cl;

    cl = store->cluster;

    if (cl == NULL) {
        ngx_scim_redis_exit_worker(store->server);
        return;
    }

    cl->exiting = 1;

    if (cl->refresh.timer_set) {
        ngx_del_timer(&cl->refresh);
    }

    ngx_scim_redis_exit_worker(store->server);

    for (i = 0; i < cl->nnodes; i++) {
        if (cl->nodes[i].server != store->server) {
            ngx_scim_redis_exit_worker(cl->nodes[i].server);
        }
    }
}


/* the slot map */

void
ngx_scim_cluster_want_refresh(ngx_scim_cluster_t *cl, ngx_msec_t delay)
{
    ngx_msec_int_t  left;

    if (cl->refreshing || cl->exiting || cl->refresh.timer_set || ngx_exiting
        || ngx_quit || ngx_terminate)
    {
        return;
    }

    left = (ngx_msec_int_t) (cl->refreshed_at + NGX_SCIM_CLUSTER_REFRESH_MIN
                             - ngx_current_msec);

    if (left > (ngx_msec_int_t) delay) {
        delay = (ngx_msec_t) left;
    }

    ngx_add_timer(&cl->refresh, delay ? delay : 1);
}


/*
 * CLUSTER SLOTS to a node with a ready connection (each in turn), else
 * to the next seed or known node, which connects for it
 */

static void
ngx_scim_cluster_refresh_handler(ngx_event_t *ev)
{
    static const char   *argv[] = { "CLUSTER", "SLOTS" };
    static size_t        argvlen[] = { 7, 5 };

    ngx_uint_t                i, k, n;
    ngx_scim_store_t         *store;
    ngx_scim_cluster_t       *cl = ev->data;
    ngx_scim_store_conf_t    *seed;
    ngx_scim_redis_server_t  *server;
    ngx_scim_cluster_node_t  *node;

    store = cl->store;

    if (cl->refreshing || cl->exiting) {
        return;
    }

    server = NULL;
    n = cl->nnodes;

    for (i = 0; i < n; i++) {
        k = (cl->ask_next + i) % n;

        if (ngx_scim_redis_any_ready(cl->nodes[k].server) != NULL) {
            server = cl->nodes[k].server;
            cl->ask_next = k + 1;
            break;
        }
    }

    if (server == NULL) {
        /* none is ready: the seeds in turn (each connects for it) */

        k = cl->ask_next++ % store->nseeds;
        seed = &store->seeds[k];
        server = store->server;

        if (k > 0 && seed->unix_path.len == 0) {
            node = ngx_scim_cluster_node(cl, seed->host.data, seed->host.len,
                                         seed->port);
            if (node != NULL) {
                server = node->server;
            }
        }
    }

    cl->refreshing = 1;
    cl->refreshed_at = ngx_current_msec;
    cl->asked = server;

    if (ngx_scim_redis_command(server, 2, argv, argvlen,
                               ngx_scim_cluster_slots_reply, cl, NULL)
        != NGX_OK)
    {
        cl->refreshing = 0;
        ngx_scim_cluster_want_refresh(cl, cl->mode == NGX_SCIM_CLUSTER_UNKNOWN
                                          ? NGX_SCIM_CLUSTER_DISCOVER
                                          : NGX_SCIM_CLUSTER_REFRESH_MIN);
    }
}


static void
ngx_scim_cluster_slots_reply(void *data, redisReply *reply)
{
    ngx_scim_cluster_t *cl = data;

    ngx_scim_store_t         *store;
    ngx_scim_redis_server_t  *asked;

    if (cl->exiting) {
        return;
    }

    store = cl->store;
    asked = cl->asked;
    cl->refreshing = 0;

    if (reply == NULL) {
        /* no connection: another node next time */
        ngx_scim_cluster_want_refresh(cl,
                                      cl->mode == NGX_SCIM_CLUSTER_UNKNOWN
                                      ? NGX_SCIM_CLUSTER_DISCOVER
                                      : NGX_SCIM_CLUSTER_REFRESH_MIN);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {

        if (ngx_strlcasestrn((u_char *) reply->str,
                             (u_char *) reply->str + reply->len,
                             (u_char *) "cluster support disabled",
                             sizeof("cluster support disabled") - 2)
            != NULL)
        {
            if (cl->mode == NGX_SCIM_CLUSTER_ON) {
                ngx_log_error(NGX_LOG_WARN, cl->log, 0,
                              "scim redis %V is not a cluster node any more",
                              &asked->addr);
            }

            cl->mode = NGX_SCIM_CLUSTER_SINGLE;

            if (store->nseeds > 1) {
                ngx_log_error(NGX_LOG_WARN, cl->log, 0,
                              "scim redis %V is a single server, not a "
                              "cluster node: the other addresses of "
                              "\"scim_redis\" are not used",
                              &asked->addr);
            }

            return;
        }

        ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                      "scim redis %V: CLUSTER SLOTS failed: %*s",
                      &asked->addr, (size_t) reply->len, reply->str);

        ngx_scim_cluster_want_refresh(cl, NGX_SCIM_CLUSTER_DISCOVER);
        return;
    }

    if (ngx_scim_cluster_map(cl, asked, reply) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                      "scim redis %V: CLUSTER SLOTS: an answer of an "
                      "unexpected shape", &asked->addr);
        ngx_scim_cluster_want_refresh(cl, NGX_SCIM_CLUSTER_DISCOVER);
        return;
    }

    if (cl->mode != NGX_SCIM_CLUSTER_ON) {
        cl->mode = NGX_SCIM_CLUSTER_ON;

        ngx_log_error(NGX_LOG_INFO, cl->log, 0,
                      "scim redis %V is a node of a Redis Cluster: %ui "
                      "slot ranges, %ui nodes known",
                      &asked->addr, (ngx_uint_t) reply->elements,
                      cl->nnodes);

        if (store->server->db != 0) {
            ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                          "\"scim_redis_db %i\" with a Redis Cluster, "
                          "which has database 0 only", store->server->db);
        }
    }

    ngx_scim_cluster_log_uncovered(cl);
}


/* CLUSTER SLOTS: {{start, end, {host, port, id, ...}, replicas...}...} */

static ngx_int_t
ngx_scim_cluster_map(ngx_scim_cluster_t *cl, ngx_scim_redis_server_t *asked,
    redisReply *reply)
{
    u_char                    *host;
    size_t                     i, j, len, size;
    ngx_int_t                  start, end, port;
    redisReply                *e, *m;
    ngx_scim_cluster_node_t   *node, *at;

    size = NGX_SCIM_CLUSTER_SLOTS * sizeof(ngx_scim_cluster_node_t *);

    if (reply->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    /* the whole answer is checked before the map changes */

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3
            || e->element[0]->type != REDIS_REPLY_INTEGER
            || e->element[1]->type != REDIS_REPLY_INTEGER
            || e->element[2]->type != REDIS_REPLY_ARRAY
            || e->element[2]->elements < 2
            || e->element[2]->element[0]->type != REDIS_REPLY_STRING
            || e->element[2]->element[1]->type != REDIS_REPLY_INTEGER
            || e->element[0]->integer < 0
            || e->element[1]->integer >= NGX_SCIM_CLUSTER_SLOTS
            || e->element[0]->integer > e->element[1]->integer
            || e->element[2]->element[1]->integer <= 0
            || e->element[2]->element[1]->integer > 65535)
        {
            return NGX_ERROR;
        }
    }

    if (cl->slots == NULL) {
        cl->slots = ngx_pcalloc(ngx_cycle->pool, size);
        if (cl->slots == NULL) {
            return NGX_ERROR;
        }

    } else {
        ngx_memzero(cl->slots, size);
    }

    at = ngx_scim_cluster_node_of(cl, asked);

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        start = (ngx_int_t) e->element[0]->integer;
        end = (ngx_int_t) e->element[1]->integer;
        m = e->element[2];
        port = (ngx_int_t) m->element[1]->integer;

        host = (u_char *) m->element[0]->str;
        len = m->element[0]->len;

        if ((len == 0 || (len == 1 && host[0] == '?')) && at != NULL) {
            /* the node does not know its own address: the one we used */
            host = at->host;
            len = at->host_len;
        }

        node = ngx_scim_cluster_node(cl, host, len, (in_port_t) port);

        if (node == NULL) {
            continue;
        }

        for (j = (size_t) start; j <= (size_t) end; j++) {
            cl->slots[j] = node;
        }
    }

    return NGX_OK;
}


static void
ngx_scim_cluster_log_uncovered(ngx_scim_cluster_t *cl)
{
    u_char      *p, *last;
    ngx_uint_t   i, start, n, ranges;
    u_char       text[256];

    n = 0;
    ranges = 0;
    p = text;
    last = text + sizeof(text) - 8;

    for (i = 0; i < NGX_SCIM_CLUSTER_SLOTS; i++) {
        if (cl->slots[i] != NULL) {
            continue;
        }

        start = i;

        while (i + 1 < NGX_SCIM_CLUSTER_SLOTS && cl->slots[i + 1] == NULL) {
            i++;
        }

        n += i - start + 1;

        if (ranges++ < 8 && p < last) {
            p = ngx_slprintf(p, last, "%s%ui-%ui", ranges > 1 ? ", " : "",
                             start, i);

        } else if (ranges == 9) {
            p = ngx_slprintf(p, last, ", ...");
        }
    }

    if (n == cl->uncovered) {
        return;
    }

    cl->uncovered = n;

    if (n == 0) {
        ngx_log_error(NGX_LOG_NOTICE, cl->log, 0,
                      "scim redis cluster %V: every slot is covered again",
                      &cl->store->server->addr);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                  "scim redis cluster %V: %ui slots not covered by any "
                  "node: %*s (requests of tenants in them get 503)",
                  &cl->store->server->addr, n, (size_t) (p - text), text);
}


/* a node by address, made (and connected) if new */

static ngx_scim_cluster_node_t *
ngx_scim_cluster_node(ngx_scim_cluster_t *cl, u_char *host, size_t len,
    in_port_t port)
{
    u_char                   *p;
    ngx_uint_t                i;
    ngx_scim_cluster_node_t  *node;
    ngx_scim_redis_server_t  *s;

    for (i = 0; i < cl->nnodes; i++) {
        node = &cl->nodes[i];

        if (node->port == port && node->host_len == len
            && ngx_strncmp(node->host, host, len) == 0)
        {
            return node;
        }
    }

    /* hiredis would resolve a name with a blocking getaddrinfo() */

    if (len == 0 || len >= sizeof(node->host)
        || (ngx_inet_addr(host, len) == INADDR_NONE
#if (NGX_HAVE_INET6)
            && ngx_inet6_addr(host, len, NULL) != NGX_OK
#endif
           ))
    {
        ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                      "scim redis cluster %V: node \"%*s:%d\" is not a "
                      "numeric address (set cluster-preferred-endpoint-type "
                      "ip), not used", &cl->store->server->addr, len, host,
                      (int) port);
        return NULL;
    }

    if (cl->nnodes == NGX_SCIM_CLUSTER_NODES) {
        if (!cl->full_logged) {
            cl->full_logged = 1;
            ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                          "scim redis cluster %V: more than %d nodes, "
                          "\"%*s:%d\" not used", &cl->store->server->addr,
                          NGX_SCIM_CLUSTER_NODES, len, host, (int) port);
        }

        return NULL;
    }

    s = ngx_palloc(ngx_cycle->pool, sizeof(ngx_scim_redis_server_t));
    p = ngx_pnalloc(ngx_cycle->pool, NGX_SOCKADDR_STRLEN + 1 + 2 * len + 8);

    if (s == NULL || p == NULL) {
        return NULL;
    }

    *s = cl->proto;

    s->db = 0;
    s->unix_path.len = 0;
    s->unix_path.data = NULL;

    s->host.data = p;
    s->host.len = len;
    p = ngx_cpymem(p, host, len);
    *p++ = '\0';

    s->addr.data = p;
    p = (ngx_strlchr(host, host + len, ':') != NULL)
        ? ngx_sprintf(p, "[%*s]:%d", len, host, (int) port)
        : ngx_sprintf(p, "%*s:%d", len, host, (int) port);
    s->addr.len = p - s->addr.data;
    s->port = port;

    node = &cl->nodes[cl->nnodes];

    ngx_memcpy(node->host, host, len);
    node->host_len = len;
    node->port = port;
    node->server = s;

    if (ngx_scim_redis_init_worker(s, cl->log) != NGX_OK) {
        return NULL;
    }

    cl->nnodes++;

    return node;
}


ngx_scim_cluster_node_t *
ngx_scim_cluster_node_of(ngx_scim_cluster_t *cl,
    ngx_scim_redis_server_t *server)
{
    ngx_uint_t  i;

    for (i = 0; i < cl->nnodes; i++) {
        if (cl->nodes[i].server == server) {
            return &cl->nodes[i];
        }
    }

    return NULL;
}


/* "MOVED <slot> <host>:<port>", "ASK ...": p after the word */

ngx_scim_cluster_node_t *
ngx_scim_cluster_redirect(ngx_scim_cluster_t *cl,
    ngx_scim_redis_server_t *from, u_char *p, size_t len, ngx_uint_t *slot)
{
    u_char                   *last, *sp, *colon;
    ngx_int_t                 n, port;
    ngx_scim_cluster_node_t  *at;

    last = p + len;

    sp = ngx_strlchr(p, last, ' ');
    if (sp == NULL) {
        return NULL;
    }

    n = ngx_atoi(p, sp - p);
    if (n == NGX_ERROR || n >= NGX_SCIM_CLUSTER_SLOTS) {
        return NULL;
    }

    p = sp + 1;

    for (colon = last - 1; colon >= p && *colon != ':'; colon--) {
        /* void */
    }

    if (colon < p) {
        return NULL;
    }

    port = ngx_atoi(colon + 1, last - colon - 1);
    if (port == NGX_ERROR || port == 0 || port > 65535) {
        return NULL;
    }

    *slot = (ngx_uint_t) n;

    if (colon == p) {
        /* no host: that of the node which answered */

        at = ngx_scim_cluster_node_of(cl, from);
        if (at == NULL) {
            return NULL;
        }

        return ngx_scim_cluster_node(cl, at->host, at->host_len,
                                     (in_port_t) port);
    }

    if (*p == '[' && colon[-1] == ']') {
        p++;
        colon--;
    }

    return ngx_scim_cluster_node(cl, p, colon - p, (in_port_t) port);
}
