
/*
 * ngx_http_scim_module: hiredis's asynchronous API on nginx's event loop.
 *
 * hiredis 0.14 has no timers and no connect timeout of its own, so every
 * timeout here is an nginx timer.  The socket is registered with nginx
 * once (edge-triggered where the event method allows it); writes are
 * posted events, so that all commands issued during one event loop
 * iteration leave in one write(2): pipelining for free.
 *
 * Each hiredis context has its own ngx_connection_t (ac->ev.data), so
 * that a context being freed never touches the connection of the next
 * one, even when the next one is made from inside its callbacks.
 *
 * This file: a connection (connect, the handshake: AUTH, SELECT, PING,
 * ROLE; lost, dropped, made again with backoff) and the commands on it
 * (queued, sent, timed out, answered; a script's: FCALL, the library
 * loaded on demand, see ngx_scim_redis_fn.c).  The server (its
 * configuration, its connections at worker start and exit, its address
 * from Sentinel) is ngx_scim_redis_server.c; failures are logged by
 * ngx_scim_redis_report.c; the socket is ngx_scim_redis_event.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"
#include "ngx_scim_store.h"


#define NGX_SCIM_REDIS_BACKOFF_MIN   100
#define NGX_SCIM_REDIS_BACKOFF_MAX   1000
#define NGX_SCIM_REDIS_ON_DEMAND     100     /* after a failed attempt */
#define NGX_SCIM_REDIS_SHORT_LIVED   1000


static void ngx_scim_redis_ready(ngx_scim_redis_conn_t *rc);
static void ngx_scim_redis_lost(ngx_scim_redis_conn_t *rc, u_char *why,
    size_t len, ngx_uint_t harmful);
static void ngx_scim_redis_gone(ngx_scim_redis_conn_t *rc,
    const redisAsyncContext *ac);
static void ngx_scim_redis_schedule_reconnect(ngx_scim_redis_conn_t *rc,
    ngx_msec_t delay);
static void ngx_scim_redis_arm_deadline(ngx_scim_redis_conn_t *rc);

static ngx_scim_redis_conn_t *ngx_scim_redis_ready_conn(
    ngx_scim_redis_server_t *s);
static ngx_scim_redis_conn_t *ngx_scim_redis_pick(
    ngx_scim_redis_server_t *s);

static void ngx_scim_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_scim_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_scim_redis_handshake_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_scim_redis_cmd_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static ngx_int_t ngx_scim_redis_queue(ngx_scim_redis_server_t *server,
    ngx_scim_redis_conn_t *rc, ngx_scim_redis_script_t *script, int nkeys,
    int argc, const char **argv, size_t *argvlen,
    ngx_scim_redis_handler_pt handler, void *data,
    ngx_scim_redis_cmd_t **cmdp);
static ngx_int_t ngx_scim_redis_send(ngx_scim_redis_conn_t *rc,
    ngx_scim_redis_cmd_t *cmd);
static ngx_uint_t ngx_scim_redis_unavailable_reply(redisReply *reply);
static ngx_uint_t ngx_scim_redis_role(ngx_scim_redis_conn_t *rc,
    redisReply *reply);
static void ngx_scim_redis_readonly(ngx_scim_redis_conn_t *rc,
    redisReply *reply);


void
ngx_scim_redis_connect(ngx_scim_redis_conn_t *rc)
{
    u_char                   *p;
    const char               *argv[3];
    size_t                    argvlen[3];
    u_char                    db[NGX_INT_T_LEN];
    u_char                    why[NGX_SCIM_REDIS_REASON_LEN];
    redisAsyncContext        *ac;
    ngx_scim_redis_server_t  *s;

    s = rc->server;

    if (rc->state == NGX_SCIM_REDIS_CLOSED || ngx_exiting || ngx_quit
        || ngx_terminate)
    {
        return;
    }

    if (s->resolve && !s->resolved) {
        /*
         * The primary's address is asked for first: the connection is
         * being made, commands wait for it (never longer than the
         * connect timeout), ngx_scim_redis_retarget() goes on.
         */

        rc->state = NGX_SCIM_REDIS_CONNECTING;
        rc->handshake = 0;
        rc->dropped = 0;

        if (!rc->connect_timer.timer_set) {
            rc->connect_timer.cancelable = ngx_queue_empty(&rc->waiting);
            ngx_add_timer(&rc->connect_timer, s->connect_timeout);
        }

        s->resolve(s->resolve_data);
        return;
    }

    if (s->unix_path.len) {
        ac = redisAsyncConnectUnix((char *) s->unix_path.data);

    } else {
        ac = redisAsyncConnect((char *) s->host.data, s->port);
    }

    if (ac == NULL) {
        p = ngx_snprintf(why, sizeof(why), "connect failed: out of memory");
        ngx_scim_redis_attempt_failed(rc, why, p - why);
        return;
    }

    if (ac->err) {
        p = ngx_snprintf(why, sizeof(why), "connect failed: %s", ac->errstr);
        redisAsyncFree(ac);
        ngx_scim_redis_attempt_failed(rc, why, p - why);
        return;
    }

    rc->ac = ac;
    ac->data = rc;

    if (ngx_scim_redis_attach(rc) != NGX_OK) {
        rc->ac = NULL;
        redisAsyncFree(ac);
        p = ngx_snprintf(why, sizeof(why),
                         "connect failed: no nginx connection for it");
        ngx_scim_redis_attempt_failed(rc, why, p - why);
        return;
    }

    /* the adapter is attached first: setting the connect callback asks
       for a write event */

    redisAsyncSetConnectCallback(ac, ngx_scim_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_scim_redis_on_disconnect);

    rc->state = NGX_SCIM_REDIS_CONNECTING;
    rc->handshake = 0;
    rc->dropped = 0;
    rc->evalsha = 0;
    rc->loading = 0;
    rc->load_failed = 0;

    /*
     * Commands wait in rc->waiting until the handshake is done, so that
     * a handshake error never reaches them as a reply of theirs.
     */

    if (s->password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) s->password.data;
        argvlen[1] = s->password.len;

        if (redisAsyncCommandArgv(ac, ngx_scim_redis_handshake_reply,
                                  (void *) "AUTH", 2, argv, argvlen)
            == REDIS_OK)
        {
            rc->handshake++;
        }
    }

    if (s->db) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = ngx_sprintf(db, "%i", s->db) - db;

        if (redisAsyncCommandArgv(ac, ngx_scim_redis_handshake_reply,
                                  (void *) "SELECT", 2, argv, argvlen)
            == REDIS_OK)
        {
            rc->handshake++;
        }
    }

    /* Redis may run commands: not LOADING, no NOAUTH (ROLE may be run
       while loading, and its error is not ours to judge) */

    argv[0] = "PING";
    argvlen[0] = 4;

    if (redisAsyncCommandArgv(ac, ngx_scim_redis_handshake_reply,
                              (void *) "PING", 1, argv, argvlen)
        == REDIS_OK)
    {
        rc->handshake++;
    }

    /* a primary, or a replica where writes fail (ngx_scim_redis_role) */

    argv[0] = "ROLE";
    argvlen[0] = 4;

    if (redisAsyncCommandArgv(ac, ngx_scim_redis_handshake_reply,
                              (void *) "ROLE", 1, argv, argvlen)
        == REDIS_OK)
    {
        rc->handshake++;
    }

    /* a connection made after its address was asked for keeps its timer */

    if (!rc->connect_timer.timer_set) {
        rc->connect_timer.cancelable = ngx_queue_empty(&rc->waiting);
        ngx_add_timer(&rc->connect_timer, s->connect_timeout);
    }
}


static void
ngx_scim_redis_on_connect(const redisAsyncContext *ac, int status)
{
    u_char                 *p;
    u_char                  why[NGX_SCIM_REDIS_REASON_LEN];
    ngx_scim_redis_conn_t  *rc;

    rc = ac->data;

    if (rc == NULL || rc->ac != ac) {
        return;
    }

    if (status == REDIS_OK) {
        /* the handshake replies complete the connection */
        return;
    }

    /* hiredis frees the context itself after this callback */

    p = ngx_snprintf(why, sizeof(why), "connect failed: %s", ac->errstr);
    rc->ac = NULL;

    ngx_scim_redis_attempt_failed(rc, why, p - why);
}


static void
ngx_scim_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_scim_redis_conn_t  *rc;

    rc = ac->data;

    if (rc == NULL || rc->ac != ac) {
        return;
    }

    ngx_scim_redis_gone(rc, ac);
}


/*
 * hiredis is freeing a context after an error (end of file, reset): from
 * the first NULL reply or from the disconnect callback, whichever comes
 * first, so that the handlers of those NULL replies already find the
 * connection gone and may start a new one.
 */

static void
ngx_scim_redis_gone(ngx_scim_redis_conn_t *rc, const redisAsyncContext *ac)
{
    u_char                *p;
    ngx_uint_t             harmful;
    ngx_queue_t           *q;
    ngx_scim_redis_cmd_t  *cmd;
    u_char                 why[NGX_SCIM_REDIS_REASON_LEN];

    rc->ac = NULL;

    if (rc->state == NGX_SCIM_REDIS_CLOSED) {
        return;
    }

    /* did requests lose their answers with it? */

    harmful = rc->dropped;

    for (q = ngx_queue_head(&rc->pending);
         !harmful && q != ngx_queue_sentinel(&rc->pending);
         q = ngx_queue_next(q))
    {
        cmd = ngx_queue_data(q, ngx_scim_redis_cmd_t, queue);
        harmful = (cmd->handler != NULL);
    }

    p = ngx_snprintf(why, sizeof(why), "connection lost: %s",
                     ac->errstr[0] ? ac->errstr : "closed");

    if (rc->state == NGX_SCIM_REDIS_CONNECTING) {
        ngx_scim_redis_attempt_failed(rc, why, p - why);
        return;
    }

    ngx_scim_redis_lost(rc, why, p - why, harmful);
}


static void
ngx_scim_redis_handshake_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    u_char                 *p;
    u_char                  why[NGX_SCIM_REDIS_REASON_LEN];
    redisReply             *reply = r;
    ngx_scim_redis_conn_t  *rc;

    rc = ac->data;

    if (rc == NULL || rc->ac != ac || reply == NULL) {
        /* the connection failed: on_connect/on_disconnect report it */
        return;
    }

    if (ngx_strcmp(privdata, "ROLE") == 0) {
        if (!ngx_scim_redis_role(rc, reply)) {
            return;
        }

    } else if (reply->type == REDIS_REPLY_ERROR) {
        /* a wrong password, LOADING, a bad database number... */
        p = ngx_snprintf(why, sizeof(why), "%s failed: %*s",
                         (char *) privdata, (size_t) reply->len, reply->str);
        ngx_scim_redis_attempt_failed(rc, why, p - why);
        return;
    }

    if (--rc->handshake > 0) {
        return;
    }

    ngx_scim_redis_ready(rc);
}


static void
ngx_scim_redis_ready(ngx_scim_redis_conn_t *rc)
{
    if (rc->connect_timer.timer_set) {
        ngx_del_timer(&rc->connect_timer);
    }

    ngx_scim_store_count(NGX_SCIM_STORE_STAT_CONNECTS);

    if (rc->ready_at || rc->failed) {
        ngx_scim_store_count(NGX_SCIM_STORE_STAT_RECONNECTS);
    }

    rc->state = NGX_SCIM_REDIS_READY;
    rc->backoff = 0;
    rc->failed = 0;
    rc->ready_at = ngx_current_msec;

    ngx_scim_redis_report_ready(rc->server);

    ngx_scim_redis_flush(rc);
}


/*
 * A connection attempt failed: the next one waits for the backoff (a
 * request may start one earlier, but not within NGX_SCIM_REDIS_ON_DEMAND
 * ms); the commands that waited for this one fail, unless another
 * connection to the server is ready.
 */

void
ngx_scim_redis_attempt_failed(ngx_scim_redis_conn_t *rc, u_char *why,
    size_t len)
{
    rc->failed = 1;
    rc->failed_at = ngx_current_msec;

    ngx_scim_store_count(NGX_SCIM_STORE_STAT_FAILED_CONNECTS);

    /* with Sentinel, the next attempt asks where the primary is */
    rc->server->resolved = 0;

    ngx_scim_redis_drop(rc);

    if (rc->state == NGX_SCIM_REDIS_CLOSED) {
        ngx_scim_redis_flush(rc);
        return;
    }

    ngx_scim_redis_report(rc->server, why, len);

    if (rc->backoff == 0) {
        rc->backoff = NGX_SCIM_REDIS_BACKOFF_MIN;

    } else {
        rc->backoff *= 2;

        if (rc->backoff > NGX_SCIM_REDIS_BACKOFF_MAX) {
            rc->backoff = NGX_SCIM_REDIS_BACKOFF_MAX;
        }
    }

    ngx_scim_redis_schedule_reconnect(rc, rc->backoff);

    ngx_scim_redis_flush(rc);
}


/*
 * A ready connection was lost (or dropped because Redis stopped
 * answering): made again at once.  A connection lost soon after it was
 * made, twice in a row, is made again with a growing delay instead, so
 * that a Redis (or a proxy) that keeps closing connections cannot keep
 * a worker busy; requests may still start one at once.
 */

static void
ngx_scim_redis_lost(ngx_scim_redis_conn_t *rc, u_char *why, size_t len,
    ngx_uint_t harmful)
{
    ngx_msec_t  delay;

    rc->failed = 0;

    /* with Sentinel, after a failover: the primary is asked for again */
    rc->server->resolved = 0;

    /* commands answered with NULL during the drop may reconnect at once */
    ngx_scim_redis_drop(rc);

    if (rc->state == NGX_SCIM_REDIS_CLOSED) {
        return;
    }

    if (harmful || rc->server->failing) {
        ngx_scim_redis_report(rc->server, why, len);

    } else {
        /* nothing was lost with it (an idle connection closed by Redis) */
        ngx_log_error(NGX_LOG_NOTICE, rc->server->log, 0,
                      "scim redis %V: %*s, reconnecting",
                      &rc->server->addr, len, why);
    }

    rc->dropped = 0;

    if (ngx_current_msec - rc->ready_at < NGX_SCIM_REDIS_SHORT_LIVED) {
        rc->short_lived++;

    } else {
        rc->short_lived = 0;
    }

    if (rc->short_lived < 2) {
        if (rc->state == NGX_SCIM_REDIS_DISCONNECTED
            && !rc->reconnect.posted)
        {
            if (rc->reconnect.timer_set) {
                ngx_del_timer(&rc->reconnect);
            }

            ngx_post_event(&rc->reconnect, &ngx_posted_events);
        }

        return;
    }

    delay = NGX_SCIM_REDIS_BACKOFF_MIN << ngx_min(rc->short_lived - 2, 4);
    ngx_scim_redis_schedule_reconnect(rc,
                                      ngx_min(delay,
                                              NGX_SCIM_REDIS_BACKOFF_MAX));
}


/*
 * Frees the hiredis context: every command sent on it is answered with
 * NULL (their handlers may issue new commands meanwhile).  Safe from a
 * hiredis callback (hiredis defers the free).
 */

void
ngx_scim_redis_drop(ngx_scim_redis_conn_t *rc)
{
    redisAsyncContext  *ac;

    if (rc->connect_timer.timer_set) {
        ngx_del_timer(&rc->connect_timer);
    }

    if (rc->state != NGX_SCIM_REDIS_CLOSED) {
        rc->state = NGX_SCIM_REDIS_DISCONNECTED;
    }

    ac = rc->ac;

    if (ac != NULL) {
        /* on_disconnect will not run for us: we reconnect ourselves */
        rc->ac = NULL;
        redisAsyncFree(ac);
    }
}


static void
ngx_scim_redis_schedule_reconnect(ngx_scim_redis_conn_t *rc,
    ngx_msec_t delay)
{
    if (rc->state != NGX_SCIM_REDIS_DISCONNECTED || ngx_exiting || ngx_quit
        || ngx_terminate || rc->reconnect.timer_set || rc->reconnect.posted)
    {
        return;
    }

    /* up to 25% jitter, so that workers do not reconnect in step */
    delay += ngx_random() % (delay / 4 + 1);

    ngx_add_timer(&rc->reconnect, delay);
}


void
ngx_scim_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_scim_redis_conn_t  *rc = ev->data;

    if (rc->state != NGX_SCIM_REDIS_DISCONNECTED || rc->ac != NULL) {
        return;
    }

    if (rc->reconnect.timer_set) {
        ngx_del_timer(&rc->reconnect);
    }

    ngx_scim_redis_connect(rc);
}


void
ngx_scim_redis_connect_timeout_handler(ngx_event_t *ev)
{
    u_char                 *p;
    u_char                  why[NGX_SCIM_REDIS_REASON_LEN];
    ngx_scim_redis_conn_t  *rc = ev->data;

    if (rc->state != NGX_SCIM_REDIS_CONNECTING) {
        return;
    }

    if (rc->ac == NULL) {
        p = ngx_snprintf(why, sizeof(why),
                         "connect timed out: no address of the primary "
                         "from the sentinels");
        ngx_scim_redis_attempt_failed(rc, why, p - why);
        return;
    }

    p = ngx_snprintf(why, sizeof(why), "connect timed out");
    ngx_scim_redis_attempt_failed(rc, why, p - why);
}


void
ngx_scim_redis_deadline_handler(ngx_event_t *ev)
{
    u_char                 *p;
    u_char                  why[NGX_SCIM_REDIS_REASON_LEN];
    ngx_queue_t            *q;
    ngx_scim_redis_cmd_t   *cmd;
    ngx_scim_redis_conn_t  *rc = ev->data;

    if (ngx_queue_empty(&rc->pending)) {
        return;
    }

    q = ngx_queue_head(&rc->pending);
    cmd = ngx_queue_data(q, ngx_scim_redis_cmd_t, queue);

    if ((ngx_msec_int_t) (cmd->deadline - ngx_current_msec) > 0) {
        ngx_scim_redis_arm_deadline(rc);
        return;
    }

    /*
     * Redis did not answer in time: the connection is not trusted any
     * more.  Dropping it answers every pending command with NULL.
     */

    p = ngx_snprintf(why, sizeof(why), "command timed out");
    ngx_scim_redis_lost(rc, why, p - why, 1);
}


static void
ngx_scim_redis_arm_deadline(ngx_scim_redis_conn_t *rc)
{
    ngx_msec_int_t         delay;
    ngx_queue_t           *q;
    ngx_scim_redis_cmd_t  *cmd;

    if (ngx_queue_empty(&rc->pending)) {
        if (rc->deadline.timer_set) {
            ngx_del_timer(&rc->deadline);
        }

        return;
    }

    q = ngx_queue_head(&rc->pending);
    cmd = ngx_queue_data(q, ngx_scim_redis_cmd_t, queue);

    delay = cmd->deadline - ngx_current_msec;

    if (delay < 1) {
        delay = 1;
    }

    ngx_add_timer(&rc->deadline, (ngx_msec_t) delay);
}


/*
 * The commands that waited for rc's connection: sent on it when it is
 * ready, else on another ready connection to the server, else answered
 * with NULL.  Handlers may issue or cancel commands meanwhile.
 */

void
ngx_scim_redis_flush(ngx_scim_redis_conn_t *rc)
{
    void                       *data;
    ngx_queue_t                *q, waiting;
    ngx_scim_redis_cmd_t       *cmd;
    ngx_scim_redis_conn_t      *to;
    ngx_scim_redis_handler_pt   handler;

    rc->connect_timer.cancelable = 1;

    if (ngx_queue_empty(&rc->waiting)) {
        return;
    }

    ngx_queue_init(&waiting);
    ngx_queue_add(&waiting, &rc->waiting);
    ngx_queue_init(&rc->waiting);

    while (!ngx_queue_empty(&waiting)) {
        q = ngx_queue_head(&waiting);
        cmd = ngx_queue_data(q, ngx_scim_redis_cmd_t, queue);

        ngx_queue_remove(q);

        to = (rc->state == NGX_SCIM_REDIS_READY && rc->ac != NULL)
             ? rc : ngx_scim_redis_ready_conn(rc->server);

        if (to != NULL && ngx_scim_redis_send(to, cmd) == NGX_OK) {
            continue;
        }

        handler = cmd->handler;
        data = cmd->data;

        /* the command stays valid while its handler runs (not sent) */

        if (handler) {
            ngx_scim_store_count(NGX_SCIM_STORE_STAT_UNAVAILABLE);
            handler(data, NULL);
        }

        ngx_free(cmd);
    }
}


static ngx_scim_redis_conn_t *
ngx_scim_redis_ready_conn(ngx_scim_redis_server_t *s)
{
    ngx_uint_t              i, k;
    ngx_scim_redis_conn_t  *rc;

    for (i = 0; i < s->nconns; i++) {
        k = (s->next + i) % s->nconns;
        rc = &s->conns[k];

        if (rc->state == NGX_SCIM_REDIS_READY && rc->ac != NULL) {
            s->next = k + 1;
            return rc;
        }
    }

    return NULL;
}


/*
 * A ready connection (round robin), else one being made, else a new
 * one: rather than at the next backoff step, unless an attempt failed
 * less than NGX_SCIM_REDIS_ON_DEMAND ms ago.  NULL: none now.
 */

static ngx_scim_redis_conn_t *
ngx_scim_redis_pick(ngx_scim_redis_server_t *s)
{
    ngx_uint_t              i, k;
    ngx_scim_redis_conn_t  *rc;

    rc = ngx_scim_redis_ready_conn(s);
    if (rc != NULL) {
        return rc;
    }

    for (i = 0; i < s->nconns; i++) {
        k = (s->next + i) % s->nconns;

        if (s->conns[k].state == NGX_SCIM_REDIS_CONNECTING) {
            return &s->conns[k];
        }
    }

    for (i = 0; i < s->nconns; i++) {
        k = (s->next + i) % s->nconns;
        rc = &s->conns[k];

        if (rc->state != NGX_SCIM_REDIS_DISCONNECTED || rc->ac != NULL
            || (rc->failed
                && ngx_current_msec - rc->failed_at
                   < NGX_SCIM_REDIS_ON_DEMAND))
        {
            continue;
        }

        if (rc->reconnect.timer_set) {
            ngx_del_timer(&rc->reconnect);
        }

        if (rc->reconnect.posted) {
            ngx_delete_posted_event(&rc->reconnect);
        }

        ngx_scim_redis_connect(rc);

        if (rc->state == NGX_SCIM_REDIS_CONNECTING) {
            return rc;
        }

        /* failed at once: the others would too */
        break;
    }

    return NULL;
}


ngx_int_t
ngx_scim_redis_command(ngx_scim_redis_server_t *server, int argc,
    const char **argv, size_t *argvlen, ngx_scim_redis_handler_pt handler,
    void *data, ngx_scim_redis_cmd_t **cmdp)
{
    return ngx_scim_redis_eval(server, NULL, 0, argc, argv, argvlen,
                               handler, data, cmdp);
}


ngx_int_t
ngx_scim_redis_eval(ngx_scim_redis_server_t *server,
    ngx_scim_redis_script_t *script, int nkeys, int argc, const char **argv,
    size_t *argvlen, ngx_scim_redis_handler_pt handler, void *data,
    ngx_scim_redis_cmd_t **cmdp)
{
    ngx_scim_redis_conn_t  *rc;

    if (server->conns == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_scim_redis_pick(server);

    if (rc == NULL) {
        ngx_scim_store_count(NGX_SCIM_STORE_STAT_UNAVAILABLE);
        return NGX_DECLINED;
    }

    return ngx_scim_redis_queue(server, rc, script, nkeys, argc, argv,
                                argvlen, handler, data, cmdp);
}


ngx_scim_redis_conn_t *
ngx_scim_redis_any_ready(ngx_scim_redis_server_t *server)
{
    if (server->conns == NULL) {
        return NULL;
    }

    return ngx_scim_redis_ready_conn(server);
}


ngx_int_t
ngx_scim_redis_eval_on(ngx_scim_redis_conn_t *rc,
    ngx_scim_redis_script_t *script, int nkeys, int argc, const char **argv,
    size_t *argvlen, ngx_scim_redis_handler_pt handler, void *data,
    ngx_scim_redis_cmd_t **cmdp)
{
    if (rc->state != NGX_SCIM_REDIS_READY || rc->ac == NULL) {
        return NGX_DECLINED;
    }

    return ngx_scim_redis_queue(rc->server, rc, script, nkeys, argc, argv,
                                argvlen, handler, data, cmdp);
}


static ngx_int_t
ngx_scim_redis_queue(ngx_scim_redis_server_t *server,
    ngx_scim_redis_conn_t *rc, ngx_scim_redis_script_t *script, int nkeys,
    int argc, const char **argv, size_t *argvlen,
    ngx_scim_redis_handler_pt handler, void *data,
    ngx_scim_redis_cmd_t **cmdp)
{
    int                     n, extra;
    size_t                  size;
    u_char                 *p;
    ngx_uint_t              i, wait;
    ngx_scim_redis_cmd_t   *cmd;

    /*
     * A command that waits for the connection keeps a copy of its
     * arguments: nothing has to stay valid for it but the handler's data,
     * and cancelling it frees the copy at once.
     */

    wait = (rc->state == NGX_SCIM_REDIS_CONNECTING);

    extra = script ? 3 : 0;
    n = argc + extra;

    size = sizeof(ngx_scim_redis_cmd_t)
           + n * (sizeof(char *) + sizeof(size_t)) + NGX_INT_T_LEN;

    if (wait) {
        for (i = 0; i < (ngx_uint_t) argc; i++) {
            size += argvlen[i];
        }
    }

    cmd = ngx_alloc(size, server->log);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->conn = rc;
    cmd->deadline = 0;
    cmd->handler = handler;
    cmd->data = data;
    cmd->sent = 0;
    cmd->fcall = 0;
    cmd->again = 0;
    cmd->script = script;
    cmd->argc = n;
    cmd->argv = (const char **) (cmd + 1);
    cmd->argvlen = (size_t *) (cmd->argv + n);

    p = (u_char *) (cmd->argvlen + n);

    if (script) {
        ngx_scim_redis_fn_argv(rc, cmd);
        cmd->argv[2] = (const char *) p;
        cmd->argvlen[2] = ngx_sprintf(p, "%d", nkeys) - p;
    }

    p += NGX_INT_T_LEN;

    for (i = 0; i < (ngx_uint_t) argc; i++) {
        cmd->argvlen[extra + i] = argvlen[i];

        if (!wait) {
            cmd->argv[extra + i] = argv[i];
            continue;
        }

        cmd->argv[extra + i] = (const char *) p;

        if (argvlen[i]) {
            p = ngx_cpymem(p, argv[i], argvlen[i]);
        }
    }

    if (wait) {
        ngx_queue_insert_tail(&rc->waiting, &cmd->queue);

        /* an exiting worker stays until the connection is made or not */
        rc->connect_timer.cancelable = 0;

    } else if (ngx_scim_redis_send(rc, cmd) != NGX_OK) {
        ngx_free(cmd);
        return NGX_DECLINED;
    }

    if (cmdp) {
        *cmdp = cmd;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_scim_redis_send(ngx_scim_redis_conn_t *rc, ngx_scim_redis_cmd_t *cmd)
{
    if (rc->ac == NULL
        || ngx_scim_redis_resp_send(rc->ac, ngx_scim_redis_cmd_reply, cmd,
                                    cmd->argc, cmd->argv, cmd->argvlen)
           != REDIS_OK)
    {
        return NGX_DECLINED;
    }

    cmd->conn = rc;
    cmd->sent = 1;
    cmd->deadline = ngx_current_msec + rc->server->timeout;
    ngx_queue_insert_tail(&rc->pending, &cmd->queue);

    if (!rc->deadline.timer_set) {
        ngx_scim_redis_arm_deadline(rc);
    }

    return NGX_OK;
}


void
ngx_scim_redis_cancel(ngx_scim_redis_cmd_t *cmd)
{
    ngx_scim_redis_conn_t  *rc;

    if (!cmd->sent) {
        /* still waiting for its connection: nothing else refers to it */

        rc = cmd->conn;

        ngx_queue_remove(&cmd->queue);
        ngx_free(cmd);

        if (ngx_queue_empty(&rc->waiting)) {
            rc->connect_timer.cancelable = 1;
        }

        return;
    }

    cmd->handler = NULL;
    cmd->data = NULL;
}


static void
ngx_scim_redis_cmd_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    u_char                 *p;
    ngx_int_t               rv;
    redisReply             *reply = r;
    const char             *argv[4];
    size_t                  argvlen[4];
    ngx_scim_redis_cmd_t   *cmd = privdata;
    ngx_scim_redis_conn_t  *rc;
    u_char                  why[NGX_SCIM_REDIS_REASON_LEN];

    rc = cmd->conn;

    ngx_queue_remove(&cmd->queue);

    if (rc->state != NGX_SCIM_REDIS_CLOSED) {
        ngx_scim_redis_arm_deadline(rc);
    }

    if (reply == NULL) {
        if (cmd->handler) {
            rc->dropped = 1;
        }

        if (rc->ac == ac
            && (ac->c.flags & (REDIS_DISCONNECTING|REDIS_FREEING)))
        {
            /* hiredis lost the connection (see ngx_scim_redis_gone()) */
            ngx_scim_redis_gone(rc, ac);
        }
    }

    if (reply != NULL && rc->state != NGX_SCIM_REDIS_CLOSED) {
        if (ngx_scim_redis_unavailable_reply(reply)) {
            /*
             * Redis is loading its data (DEBUG RELOAD, a replica's full
             * sync) or runs a script too long: unavailable for now, the
             * same to the caller as no connection, reported once
             */

            rc->server->unavailable = 1;
            p = ngx_snprintf(why, sizeof(why), "command failed: %*s",
                             (size_t) reply->len, reply->str);
            ngx_scim_redis_report(rc->server, why, p - why);
            reply = NULL;

        } else if (rc->server->unavailable) {
            rc->server->unavailable = 0;
            ngx_scim_redis_report_ready(rc->server);
        }

        if (reply != NULL
            && reply->type == REDIS_REPLY_ERROR
            && reply->len >= 8
            && ngx_strncmp(reply->str, "READONLY", 8) == 0)
        {
            /* a replica: unavailable for writes, 503, never a 500 */

            if (rc->ac == ac) {
                ngx_scim_redis_readonly(rc, reply);
            }

            reply = NULL;
        }
    }

    if (reply != NULL
        && reply->type == REDIS_REPLY_ERROR
        && cmd->script != NULL
        && cmd->handler != NULL)
    {
        /* no library (FCALL), no functions, NOSCRIPT (EVALSHA) */

        rv = ngx_scim_redis_fn_error(rc, cmd, reply, argv, argvlen);

        if (rv == NGX_AGAIN) {
            /* FUNCTION LOAD REPLACE <library> first, on this connection */
            rv = (rc->ac != ac) ? NGX_ERROR
                 : ngx_scim_redis_queue(rc->server, rc, NULL, 0, 4, argv,
                                        argvlen, ngx_scim_redis_fn_loaded,
                                        rc, NULL);
            rc->loading = (rv == NGX_OK);
        }

        if (rv == NGX_OK && rc->ac == ac
            && ngx_scim_redis_send(rc, cmd) == NGX_OK)
        {
            return;
        }

        if (rv != NGX_DECLINED) {
            reply = NULL;
        }
    }

    if (cmd->handler) {
        ngx_scim_store_count(NGX_SCIM_STORE_STAT_COMMANDS);

        if (reply == NULL) {
            ngx_scim_store_count(NGX_SCIM_STORE_STAT_UNAVAILABLE);
        }

        cmd->handler(cmd->data, reply);
    }

    ngx_free(cmd);
}


/* LOADING, BUSY: Redis cannot run commands for now */

static ngx_uint_t
ngx_scim_redis_unavailable_reply(redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ERROR) {
        return 0;
    }

    return (reply->len >= 8 && ngx_strncmp(reply->str, "LOADING ", 8) == 0)
           || (reply->len >= 5 && ngx_strncmp(reply->str, "BUSY ", 5) == 0);
}


/*
 * The handshake's ROLE.  A primary goes on.  A replica with Sentinel:
 * the address is stale, the attempt fails and the next one (after the
 * backoff) asks the Sentinels again.  A replica given as the address:
 * said once in error.log and used all the same (reads work, writes get
 * READONLY, answered 503).  An error (ROLE not allowed to the user) is
 * not ours to judge.  1: the handshake goes on.
 */

static ngx_uint_t
ngx_scim_redis_role(ngx_scim_redis_conn_t *rc, redisReply *reply)
{
    u_char                   *p;
    long long                 port;
    ngx_str_t                 of;
    redisReply               *e;
    u_char                    why[NGX_SCIM_REDIS_REASON_LEN];
    ngx_scim_redis_server_t  *s;

    s = rc->server;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        return 1;
    }

    e = reply->element[0];

    if (e->len != 5 || ngx_strncmp(e->str, "slave", 5) != 0) {
        if (e->len == 6 && ngx_strncmp(e->str, "master", 6) == 0) {
            s->replica = 0;
        }

        return 1;
    }

    ngx_str_set(&of, "?");
    port = 0;

    if (reply->elements >= 3
        && reply->element[1]->type == REDIS_REPLY_STRING
        && reply->element[2]->type == REDIS_REPLY_INTEGER)
    {
        of.data = (u_char *) reply->element[1]->str;
        of.len = ngx_min(reply->element[1]->len, NGX_SOCKADDR_STRLEN);
        port = reply->element[2]->integer;
    }

    if (s->resolve) {
        p = ngx_snprintf(why, sizeof(why),
                         "is a replica of %V:%L, asking the sentinels again",
                         &of, port);
        ngx_scim_redis_attempt_failed(rc, why, p - why);
        return 0;
    }

    if (!s->replica) {
        s->replica = 1;
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "scim redis %V is a replica of %V:%L; writes will "
                      "fail: point scim_redis at the primary or use "
                      "scim_redis_sentinel", &s->addr, &of, port);
    }

    return 1;
}


/*
 * A READONLY reply: the command gets NULL.  With Sentinel the primary
 * became a replica (a failover): the connection is made again, to the
 * primary the Sentinels name.  Else it is said once in error.log.
 */

static void
ngx_scim_redis_readonly(ngx_scim_redis_conn_t *rc, redisReply *reply)
{
    u_char                   *p;
    u_char                    why[NGX_SCIM_REDIS_REASON_LEN];
    ngx_scim_redis_server_t  *s;

    s = rc->server;

    if (s->resolve) {
        p = ngx_snprintf(why, sizeof(why),
                         "READONLY: a replica now, asking the sentinels "
                         "for the primary");
        ngx_scim_redis_lost(rc, why, p - why, 1);
        return;
    }

    if (!s->replica) {
        s->replica = 1;
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "scim redis %V is a replica (it answered %*s); "
                      "writes will fail: point scim_redis at the primary "
                      "or use scim_redis_sentinel", &s->addr,
                      (size_t) ngx_min(reply->len, 64), reply->str);
    }
}
