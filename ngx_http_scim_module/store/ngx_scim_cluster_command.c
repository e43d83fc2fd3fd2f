
/*
 * ngx_http_scim_module: a command of the store on one Redis server or a
 * Redis Cluster (see ngx_scim_cluster.h): sent to the primary of its
 * slot, MOVED and ASK followed, retried with backoff, WAIT after a
 * write.  The slot map and the nodes are ngx_scim_cluster.c's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"
#include "ngx_scim_store.h"
#include "ngx_scim_cluster.h"


#define NGX_SCIM_CLUSTER_BACKOFF_MIN   5
#define NGX_SCIM_CLUSTER_BACKOFF_MAX   200
#define NGX_SCIM_CLUSTER_REPLY_DEPTH   4


static ngx_int_t ngx_scim_cluster_send(ngx_scim_store_op_t *op);
static void ngx_scim_cluster_retry(ngx_scim_store_op_t *op);
static void ngx_scim_cluster_retry_handler(ngx_event_t *ev);
static void ngx_scim_cluster_reply(void *data, redisReply *reply);
static void ngx_scim_cluster_wait_reply(ngx_scim_store_op_t *op,
    redisReply *reply);
static void ngx_scim_cluster_done(ngx_scim_store_op_t *op,
    redisReply *reply);
static void ngx_scim_cluster_ignore(void *data, redisReply *reply);
static ngx_uint_t ngx_scim_cluster_is(redisReply *reply, const char *what);
static redisReply *ngx_scim_cluster_copy(redisReply *r, ngx_uint_t depth);


ngx_int_t
ngx_scim_cluster_eval(ngx_scim_store_t *store, ngx_pool_t *pool,
    ngx_scim_redis_script_t *script, int nkeys, int argc, const char **argv,
    size_t *argvlen, ngx_uint_t write, ngx_scim_redis_handler_pt handler,
    void *data, ngx_scim_store_op_t **opp)
{
    ngx_int_t             rc;
    ngx_scim_store_op_t  *op;

    if (store->cluster == NULL) {
        return NGX_DECLINED;
    }

    op = ngx_pcalloc(pool, sizeof(ngx_scim_store_op_t));
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->store = store;
    op->script = script;
    op->nkeys = nkeys;
    op->argc = argc;
    op->argv = argv;
    op->argvlen = argvlen;
    op->handler = handler;
    op->data = data;
    op->write = write ? 1 : 0;
    op->deadline = ngx_current_msec + store->server->timeout;

    op->retry.handler = ngx_scim_cluster_retry_handler;
    op->retry.data = op;
    op->retry.log = store->cluster->log;

    rc = ngx_scim_cluster_send(op);

    if (rc == NGX_OK && opp) {
        *opp = op;
    }

    return rc;
}


/*
 * NGX_OK: sent, or a retry is scheduled; NGX_DECLINED: nothing to send
 * to (not a cluster and no connection, a slot nobody serves)
 */

static ngx_int_t
ngx_scim_cluster_send(ngx_scim_store_op_t *op)
{
    static const char   *asking[] = { "ASKING" };
    static size_t        asking_len[] = { 6 };

    ngx_int_t                 rc;
    ngx_uint_t                i;
    ngx_scim_cluster_t       *cl;
    ngx_scim_redis_conn_t    *conn;
    ngx_scim_redis_server_t  *server;
    ngx_scim_cluster_node_t  *node;

    cl = op->store->cluster;

    if (op->ask != NULL) {
        node = op->ask;
        op->ask = NULL;

        /* ASKING and the command on one connection, in one write */

        conn = ngx_scim_redis_any_ready(node->server);

        if (conn == NULL
            || ngx_scim_redis_eval_on(conn, NULL, 0, 1, asking, asking_len,
                                      ngx_scim_cluster_ignore, NULL, NULL)
               != NGX_OK
            || ngx_scim_redis_eval_on(conn, op->script, op->nkeys, op->argc,
                                      op->argv, op->argvlen,
                                      ngx_scim_cluster_reply, op, &op->cmd)
               != NGX_OK)
        {
            /* connecting to it now: ask its owner again a moment later */
            ngx_scim_cluster_retry(op);
        }

        return NGX_OK;
    }

    if (op->to != NULL) {
        server = op->to->server;
        op->to = NULL;

    } else if (cl->mode == NGX_SCIM_CLUSTER_ON) {

        if (!op->slot_known) {
            op->slot_known = 1;
            /* a script's first key; a plain command's: its argv[1] */
            i = op->script ? 0 : 1;
            op->slot = (op->nkeys > 0 && op->argc > (int) i)
                       ? ngx_scim_cluster_slot((u_char *) op->argv[i],
                                               op->argvlen[i])
                       : 0;
        }

        node = cl->slots[op->slot];

        if (node == NULL) {
            ngx_scim_cluster_want_refresh(cl, 0);
            return NGX_DECLINED;
        }

        server = node->server;

    } else {
        server = op->store->server;
    }

    rc = ngx_scim_redis_eval(server, op->script, op->nkeys, op->argc,
                             op->argv, op->argvlen, ngx_scim_cluster_reply,
                             op, &op->cmd);

    if (rc == NGX_DECLINED && cl->mode == NGX_SCIM_CLUSTER_ON) {
        /* the node is down: a failover may be under way */
        ngx_scim_cluster_want_refresh(cl, 0);
        ngx_scim_cluster_retry(op);
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        op->cmd = NULL;
    }

    return rc;
}


static void
ngx_scim_cluster_retry(ngx_scim_store_op_t *op)
{
    ngx_msec_int_t  left;

    /* redirections in a row, without a pause, make a loop */
    op->redirects = 0;

    op->backoff = op->backoff ? ngx_min(op->backoff * 2,
                                        NGX_SCIM_CLUSTER_BACKOFF_MAX)
                              : NGX_SCIM_CLUSTER_BACKOFF_MIN;

    left = (ngx_msec_int_t) (op->deadline - ngx_current_msec);

    if (left < 1) {
        left = 1;
    }

    ngx_add_timer(&op->retry, ngx_min(op->backoff, (ngx_msec_t) left));
}


static void
ngx_scim_cluster_retry_handler(ngx_event_t *ev)
{
    ngx_scim_store_op_t  *op = ev->data;

    if ((ngx_msec_int_t) (op->deadline - ngx_current_msec) <= 0
        || op->store->cluster->exiting)
    {
        ngx_scim_cluster_done(op, NULL);
        return;
    }

    if (ngx_scim_cluster_send(op) != NGX_OK) {
        ngx_scim_cluster_done(op, NULL);
    }
}


void
ngx_scim_cluster_cancel(ngx_scim_store_op_t *op)
{
    if (op->cmd != NULL) {
        ngx_scim_redis_cancel(op->cmd);
        op->cmd = NULL;
    }

    if (op->retry.timer_set) {
        ngx_del_timer(&op->retry);
    }

    if (op->held != NULL) {
        freeReplyObject(op->held);
        op->held = NULL;
    }

    op->handler = NULL;
}


static void
ngx_scim_cluster_reply(void *data, redisReply *reply)
{
    ngx_scim_store_op_t *op = data;

    ngx_uint_t                 slot, sent, again;
    ngx_scim_cluster_t        *cl;
    ngx_scim_redis_cmd_t      *cmd;
    ngx_scim_redis_conn_t     *conn;
    ngx_scim_cluster_node_t   *node;
    ngx_scim_redis_server_t   *from;

    size_t                     wait_len[3];
    const char                *wait[3];
    u_char                     n[NGX_INT_T_LEN], t[NGX_INT_T_LEN];

    cmd = op->cmd;
    op->cmd = NULL;

    cl = op->store->cluster;

    if (op->waiting) {
        ngx_scim_cluster_wait_reply(op, reply);
        return;
    }

    /* still valid while the handler runs */
    sent = cmd->sent;
    conn = cmd->conn;
    from = conn->server;

    again = (ngx_msec_int_t) (op->deadline - ngx_current_msec) > 0
            && !cl->exiting;

    if (reply == NULL) {

        if (cl->mode == NGX_SCIM_CLUSTER_ON) {
            ngx_scim_cluster_want_refresh(cl, 0);

            /* a write that may have run is not run twice */

            if (again && (!op->write || !sent)) {
                ngx_scim_cluster_retry(op);
                return;
            }
        }

        ngx_scim_cluster_done(op, NULL);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {

        if (ngx_scim_cluster_is(reply, "MOVED ")
            || ngx_scim_cluster_is(reply, "ASK "))
        {
            if (++op->redirects > NGX_SCIM_CLUSTER_REDIRECTS || !again) {
                ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                              "scim redis cluster %V: gave up after %ui "
                              "redirections, the last: %*s",
                              &op->store->server->addr, op->redirects,
                              (size_t) reply->len, reply->str);
                ngx_scim_cluster_done(op, NULL);
                return;
            }

            if (reply->str[1] == 'O') {
                node = ngx_scim_cluster_redirect(cl, from,
                                                 (u_char *) reply->str + 6,
                                                 reply->len - 6, &slot);
            } else {
                node = ngx_scim_cluster_redirect(cl, from,
                                                 (u_char *) reply->str + 4,
                                                 reply->len - 4, &slot);
            }

            if (node == NULL) {
                ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                              "scim redis cluster %V: cannot follow \"%*s\"",
                              &op->store->server->addr,
                              (size_t) reply->len, reply->str);
                ngx_scim_cluster_done(op, NULL);
                return;
            }

            if (reply->str[1] == 'O') {
                cl->moved++;

                ngx_log_error(NGX_LOG_INFO, cl->log, 0,
                              "scim redis cluster: slot %ui moved to %V "
                              "(MOVED from %V; %ui seen)",
                              slot, &node->server->addr, &from->addr,
                              cl->moved);

                if (cl->mode == NGX_SCIM_CLUSTER_ON) {
                    cl->slots[slot] = node;

                } else {
                    op->to = node;
                }

                ngx_scim_cluster_want_refresh(cl, 0);

            } else {
                cl->asks++;

                ngx_log_error(NGX_LOG_INFO, cl->log, 0,
                              "scim redis cluster: slot %ui being moved to "
                              "%V (ASK from %V; %ui seen)",
                              slot, &node->server->addr, &from->addr,
                              cl->asks);

                op->ask = node;
            }

            if (ngx_scim_cluster_send(op) != NGX_OK) {
                ngx_scim_cluster_done(op, NULL);
            }

            return;
        }

        if (ngx_scim_cluster_is(reply, "TRYAGAIN")
            || ngx_scim_cluster_is(reply, "CLUSTERDOWN")
            || ngx_scim_cluster_is(reply, "MASTERDOWN")
            || ngx_scim_cluster_is(reply, "READONLY")
            || ngx_scim_cluster_is(reply, "LOADING"))
        {
            /* not run: once more a moment later, if there is time */

            if (!ngx_scim_cluster_is(reply, "TRYAGAIN")) {
                ngx_scim_cluster_want_refresh(cl, 0);
            }

            if (again) {
                ngx_scim_cluster_retry(op);
                return;
            }

            ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                          "scim redis %V: %*s (no answer within "
                          "scim_redis_timeout)", &from->addr,
                          (size_t) reply->len, reply->str);

            ngx_scim_cluster_done(op, NULL);
            return;
        }

        ngx_scim_cluster_done(op, reply);
        return;
    }

    if (!op->write || op->store->nwait == 0
        || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[0]->integer != 1)
    {
        ngx_scim_cluster_done(op, reply);
        return;
    }

    /* a write done: WAIT for the replicas on its connection */

    op->held = ngx_scim_cluster_copy(reply, 0);

    if (op->held == NULL) {
        ngx_scim_cluster_done(op, NULL);
        return;
    }

    wait[0] = "WAIT";
    wait[1] = (const char *) n;
    wait_len[0] = 4;
    wait_len[1] = ngx_sprintf(n, "%ui", op->store->nwait) - n;
    wait[2] = (const char *) t;
    wait_len[2] = ngx_sprintf(t, "%M", op->store->wait_timeout) - t;

    op->waiting = 1;

    if (ngx_scim_redis_eval_on(conn, NULL, 0, 3, wait, wait_len,
                               ngx_scim_cluster_reply, op, &op->cmd)
        != NGX_OK)
    {
        op->cmd = NULL;
        ngx_scim_cluster_wait_reply(op, NULL);
    }
}


static void
ngx_scim_cluster_wait_reply(ngx_scim_store_op_t *op, redisReply *reply)
{
    redisReply  *held;

    held = op->held;
    op->held = NULL;
    op->waiting = 0;

    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER
        && reply->integer >= (long long) op->store->nwait)
    {
        ngx_scim_cluster_done(op, held);
        freeReplyObject(held);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, op->store->cluster->log, 0,
                  "scim redis %V: write not confirmed by %ui replicas "
                  "within %M ms (%s; it may persist or not): answered "
                  "as unavailable",
                  &op->store->server->addr, op->store->nwait,
                  op->store->wait_timeout,
                  reply == NULL ? "no answer"
                  : reply->type == REDIS_REPLY_INTEGER ? "fewer acknowledged"
                  : "WAIT failed");

    freeReplyObject(held);
    ngx_scim_cluster_done(op, NULL);
}


static void
ngx_scim_cluster_done(ngx_scim_store_op_t *op, redisReply *reply)
{
    ngx_scim_redis_handler_pt  handler;

    handler = op->handler;
    op->handler = NULL;

    if (handler) {
        /* op may be gone after this */
        handler(op->data, reply);
    }
}


static void
ngx_scim_cluster_ignore(void *data, redisReply *reply)
{
}


static ngx_uint_t
ngx_scim_cluster_is(redisReply *reply, const char *what)
{
    size_t  len;

    len = ngx_strlen(what);

    return reply->len >= len && ngx_strncmp(reply->str, what, len) == 0;
}


/* a copy freeReplyObject() frees (hiredis allocates with malloc) */

static redisReply *
ngx_scim_cluster_copy(redisReply *r, ngx_uint_t depth)
{
    size_t       i;
    redisReply  *c;

    if (depth > NGX_SCIM_CLUSTER_REPLY_DEPTH) {
        return NULL;
    }

    c = calloc(1, sizeof(redisReply));
    if (c == NULL) {
        return NULL;
    }

    c->type = r->type;
    c->integer = r->integer;

    if (r->str != NULL) {
        c->str = malloc(r->len + 1);
        if (c->str == NULL) {
            freeReplyObject(c);
            return NULL;
        }

        ngx_memcpy(c->str, r->str, r->len);
        c->str[r->len] = '\0';
        c->len = r->len;
    }

    if (r->type == REDIS_REPLY_ARRAY && r->elements) {
        c->element = calloc(r->elements, sizeof(redisReply *));
        if (c->element == NULL) {
            freeReplyObject(c);
            return NULL;
        }

        c->elements = r->elements;

        for (i = 0; i < r->elements; i++) {
            c->element[i] = ngx_scim_cluster_copy(r->element[i], depth + 1);

            if (c->element[i] == NULL) {
                c->elements = i;
                freeReplyObject(c);
                return NULL;
            }
        }
    }

    return c;
}
