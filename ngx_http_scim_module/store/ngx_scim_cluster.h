
/*
 * ngx_http_scim_module: the store's backend, one Redis server or a Redis
 * Cluster, found out by each worker at start.
 *
 * scim_redis names one or more seeds; the first one is connected as a
 * server of ngx_scim_redis.c, and its first connection is asked
 * CLUSTER SLOTS.  "cluster support disabled": single-server mode, as
 * before (every command on that server).  A slot map: cluster mode,
 * every command goes to the primary serving the slot of its first key
 * (the tenant's hash tag), with scim_redis_connections connections per
 * node per worker, the scripts loaded on each.
 *
 * A command follows MOVED (the slot is updated, the map refreshed) and
 * ASK (ASKING then the command, once, on one connection), and is retried
 * with backoff (5 ms doubling, up to 200 ms) on TRYAGAIN, CLUSTERDOWN,
 * LOADING, READONLY, and on a lost connection (unless it is a write that
 * may have run), within scim_redis_timeout of its start, at most
 * NGX_SCIM_CLUSTER_REDIRECTS redirections; then its reply is NULL.  One
 * map refresh at a time per worker, at most every 500 ms.
 *
 * scim_redis_wait n t: a write script that succeeded is followed by WAIT
 * n t on its connection; fewer than n replicas: reply NULL.
 */

#ifndef _NGX_SCIM_CLUSTER_H_INCLUDED_
#define _NGX_SCIM_CLUSTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"
#include "ngx_scim_store.h"


#define NGX_SCIM_CLUSTER_SLOTS      16384
#define NGX_SCIM_CLUSTER_NODES      128       /* per store and worker */
#define NGX_SCIM_CLUSTER_REDIRECTS  16


typedef struct ngx_scim_cluster_s  ngx_scim_cluster_t;


struct ngx_scim_store_s {
    ngx_scim_redis_server_t    *server;        /* the first seed */
    ngx_scim_store_conf_t      *seeds;         /* every seed (addr) */
    ngx_uint_t                  nseeds;
    ngx_scim_redis_script_t    *scripts;
    ngx_uint_t                  nwait;         /* scim_redis_wait */
    ngx_msec_t                  wait_timeout;

    /* per worker */
    ngx_scim_cluster_t         *cluster;
};


typedef struct {
    u_char                      host[NGX_SOCKADDR_STRLEN + 1];
    size_t                      host_len;
    in_port_t                   port;
    ngx_scim_redis_server_t    *server;
} ngx_scim_cluster_node_t;


typedef enum {
    NGX_SCIM_CLUSTER_UNKNOWN = 0,  /* not asked yet: the first seed */
    NGX_SCIM_CLUSTER_SINGLE,       /* "cluster support disabled" */
    NGX_SCIM_CLUSTER_ON
} ngx_scim_cluster_mode_e;


struct ngx_scim_cluster_s {
    ngx_scim_store_t           *store;
    ngx_log_t                  *log;
    ngx_scim_cluster_mode_e     mode;
    ngx_scim_redis_server_t     proto;         /* the seed's settings */

    ngx_scim_cluster_node_t   **slots;         /* NULL: not covered */
    ngx_scim_cluster_node_t    *nodes;
    ngx_uint_t                  nnodes;
    ngx_uint_t                  ask_next;      /* node asked for the map */
    ngx_scim_redis_server_t    *asked;         /* by the refresh in flight */

    ngx_event_t                 refresh;
    ngx_msec_t                  refreshed_at;
    ngx_uint_t                  uncovered;     /* slots, last logged */
    ngx_uint_t                  moved;         /* MOVED, ASK seen */
    ngx_uint_t                  asks;

    unsigned                    refreshing:1;  /* CLUSTER SLOTS in flight */
    unsigned                    exiting:1;
    unsigned                    full_logged:1; /* too many nodes */
};


struct ngx_scim_store_op_s {
    ngx_scim_store_t           *store;
    ngx_scim_redis_cmd_t       *cmd;           /* in flight */
    ngx_scim_redis_script_t    *script;
    int                         nkeys;
    int                         argc;
    const char                **argv;
    size_t                     *argvlen;
    ngx_scim_redis_handler_pt   handler;
    void                       *data;

    ngx_scim_cluster_node_t    *to;            /* next send: MOVED here */
    ngx_scim_cluster_node_t    *ask;           /* next send: ASKING here */
    redisReply                 *held;          /* a write's, while WAIT */
    ngx_event_t                 retry;
    ngx_msec_t                  deadline;
    ngx_msec_t                  backoff;
    ngx_uint_t                  redirects;
    ngx_uint_t                  slot;

    unsigned                    write:1;
    unsigned                    waiting:1;     /* WAIT in flight */
    unsigned                    slot_known:1;
};


ngx_int_t ngx_scim_cluster_init_worker(ngx_scim_store_t *store,
    ngx_log_t *log);
void ngx_scim_cluster_exit_worker(ngx_scim_store_t *store);

/*
 * As ngx_scim_redis_eval() (argv: KEYS then ARGV, valid until the handler
 * runs or the op is cancelled), on the node serving KEYS[1]'s slot; the
 * op is allocated from pool.  write: a script that changes data (WAIT
 * after it, no retry once it may have run).  script NULL: argv is a
 * plain command (a read), routed by its argv[1] when nkeys is 1.
 */
ngx_int_t ngx_scim_cluster_eval(ngx_scim_store_t *store, ngx_pool_t *pool,
    ngx_scim_redis_script_t *script, int nkeys, int argc, const char **argv,
    size_t *argvlen, ngx_uint_t write, ngx_scim_redis_handler_pt handler,
    void *data, ngx_scim_store_op_t **opp);
void ngx_scim_cluster_cancel(ngx_scim_store_op_t *op);

uint16_t ngx_scim_cluster_crc16(u_char *p, size_t len);
ngx_uint_t ngx_scim_cluster_slot(u_char *key, size_t len);

/*
 * Between ngx_scim_cluster_command.c (the commands) and ngx_scim_cluster.c
 * (the map), called that way only: a map refresh (after delay ms, at
 * most one in flight); the node of a server; the node a "MOVED" or "ASK"
 * reply names (p after the word), *slot its slot.
 */
void ngx_scim_cluster_want_refresh(ngx_scim_cluster_t *cl, ngx_msec_t delay);
ngx_scim_cluster_node_t *ngx_scim_cluster_node_of(ngx_scim_cluster_t *cl,
    ngx_scim_redis_server_t *server);
ngx_scim_cluster_node_t *ngx_scim_cluster_redirect(ngx_scim_cluster_t *cl,
    ngx_scim_redis_server_t *from, u_char *p, size_t len, ngx_uint_t *slot);


#endif /* _NGX_SCIM_CLUSTER_H_INCLUDED_ */
