
/*
 * ngx_http_scim_module: hiredis's asynchronous API on nginx's event loop.
 *
 * hiredis 0.14 has no timers and no connect timeout of its own, so every
 * timeout here is an nginx timer.  The socket is registered with nginx
 * once (edge-triggered where the event method allows it); writes are
 * posted events, so that all commands issued during one event loop
 * iteration leave in one write(2): pipelining for free.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_sha1.h>

#include <sys/ioctl.h>

#include "ngx_scim_redis.h"


#define NGX_SCIM_REDIS_BACKOFF_MIN   100
#define NGX_SCIM_REDIS_BACKOFF_MAX   1000
#define NGX_SCIM_REDIS_ON_DEMAND     100


static void ngx_scim_redis_connect(ngx_scim_redis_conn_t *rc);
static void ngx_scim_redis_fail(ngx_scim_redis_conn_t *rc, const char *why);
static void ngx_scim_redis_schedule_reconnect(ngx_scim_redis_conn_t *rc);
static void ngx_scim_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_scim_redis_connect_timeout_handler(ngx_event_t *ev);
static void ngx_scim_redis_deadline_handler(ngx_event_t *ev);
static void ngx_scim_redis_arm_deadline(ngx_scim_redis_conn_t *rc);

static void ngx_scim_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_scim_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_scim_redis_handshake_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_scim_redis_cmd_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static ngx_int_t ngx_scim_redis_send(ngx_scim_redis_conn_t *rc,
    ngx_scim_redis_cmd_t *cmd);

static ngx_int_t ngx_scim_redis_attach(ngx_scim_redis_conn_t *rc);
static void ngx_scim_redis_add_read(void *privdata);
static void ngx_scim_redis_del_read(void *privdata);
static void ngx_scim_redis_add_write(void *privdata);
static void ngx_scim_redis_del_write(void *privdata);
static void ngx_scim_redis_cleanup(void *privdata);
static void ngx_scim_redis_read_handler(ngx_event_t *ev);
static void ngx_scim_redis_write_handler(ngx_event_t *ev);


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
ngx_scim_redis_script_init(ngx_scim_redis_script_t *script)
{
    u_char     digest[20];
    ngx_sha1_t sha1;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, script->body.data, script->body.len);
    ngx_sha1_final(digest, &sha1);

    ngx_hex_dump(script->sha1, digest, 20);
    script->sha1[40] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_scim_redis_init_worker(ngx_scim_redis_server_t *server, ngx_log_t *log)
{
    ngx_uint_t              i;
    ngx_scim_redis_conn_t  *rc;

    server->log = log;
    server->next = 0;

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

        ngx_scim_redis_connect(rc);
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
        rc = &server->conns[i];

        rc->state = NGX_SCIM_REDIS_CLOSED;

        if (rc->reconnect.timer_set) {
            ngx_del_timer(&rc->reconnect);
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
    }
}


static void
ngx_scim_redis_connect(ngx_scim_redis_conn_t *rc)
{
    int                       argc;
    ngx_uint_t                i;
    const char               *argv[3];
    size_t                    argvlen[3];
    u_char                    db[NGX_INT_T_LEN];
    redisAsyncContext        *ac;
    ngx_scim_redis_server_t  *s;

    s = rc->server;

    if (rc->state == NGX_SCIM_REDIS_CLOSED || ngx_exiting || ngx_quit
        || ngx_terminate)
    {
        return;
    }

    rc->last_attempt = ngx_current_msec;

    if (s->unix_path.len) {
        ac = redisAsyncConnectUnix((char *) s->unix_path.data);

    } else {
        ac = redisAsyncConnect((char *) s->host.data, s->port);
    }

    if (ac == NULL) {
        ngx_scim_redis_fail(rc, "out of memory");
        return;
    }

    if (ac->err) {
        if (!rc->failed_logged) {
            ngx_log_error(NGX_LOG_ERR, s->log, 0,
                          "scim redis %V: connect failed: %s",
                          &s->addr, ac->errstr);
            rc->failed_logged = 1;
        }

        redisAsyncFree(ac);
        rc->state = NGX_SCIM_REDIS_DISCONNECTED;
        ngx_scim_redis_schedule_reconnect(rc);
        return;
    }

    rc->ac = ac;
    ac->data = rc;

    if (ngx_scim_redis_attach(rc) != NGX_OK) {
        rc->ac = NULL;
        redisAsyncFree(ac);
        rc->state = NGX_SCIM_REDIS_DISCONNECTED;
        ngx_scim_redis_schedule_reconnect(rc);
        return;
    }

    /* the adapter is attached first: setting the connect callback asks
       for a write event */

    redisAsyncSetConnectCallback(ac, ngx_scim_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_scim_redis_on_disconnect);

    rc->state = NGX_SCIM_REDIS_CONNECTING;
    rc->handshake = 0;

    /*
     * The handshake goes into the output buffer before any command a
     * request may queue while the connection is being made.
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

    for (i = 0; i < s->nscripts; i++) {
        argc = 3;
        argv[0] = "SCRIPT";
        argvlen[0] = 6;
        argv[1] = "LOAD";
        argvlen[1] = 4;
        argv[2] = (const char *) s->scripts[i].body.data;
        argvlen[2] = s->scripts[i].body.len;

        if (redisAsyncCommandArgv(ac, ngx_scim_redis_handshake_reply,
                                  (void *) "SCRIPT LOAD", argc, argv, argvlen)
            == REDIS_OK)
        {
            rc->handshake++;
        }
    }

    if (rc->handshake == 0) {
        argv[0] = "PING";
        argvlen[0] = 4;

        if (redisAsyncCommandArgv(ac, ngx_scim_redis_handshake_reply,
                                  (void *) "PING", 1, argv, argvlen)
            == REDIS_OK)
        {
            rc->handshake++;
        }
    }

    ngx_add_timer(&rc->connect_timer, s->connect_timeout);
}


static void
ngx_scim_redis_on_connect(const redisAsyncContext *ac, int status)
{
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

    if (!rc->failed_logged) {
        ngx_log_error(NGX_LOG_ERR, rc->server->log, 0,
                      "scim redis %V: connect failed: %s",
                      &rc->server->addr, ac->errstr);
        rc->failed_logged = 1;
    }

    rc->ac = NULL;
    rc->state = NGX_SCIM_REDIS_DISCONNECTED;

    if (rc->connect_timer.timer_set) {
        ngx_del_timer(&rc->connect_timer);
    }

    ngx_scim_redis_schedule_reconnect(rc);
}


static void
ngx_scim_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_scim_redis_conn_t  *rc;

    rc = ac->data;

    if (rc == NULL || rc->ac != ac) {
        return;
    }

    rc->ac = NULL;

    if (rc->state == NGX_SCIM_REDIS_CLOSED) {
        return;
    }

    if (!rc->failed_logged) {
        ngx_log_error(NGX_LOG_ERR, rc->server->log, 0,
                      "scim redis %V: connection lost: %s",
                      &rc->server->addr,
                      ac->errstr[0] ? ac->errstr : "closed");
        rc->failed_logged = 1;
    }

    rc->state = NGX_SCIM_REDIS_DISCONNECTED;

    if (rc->connect_timer.timer_set) {
        ngx_del_timer(&rc->connect_timer);
    }

    ngx_scim_redis_schedule_reconnect(rc);
}


static void
ngx_scim_redis_handshake_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply             *reply = r;
    ngx_scim_redis_conn_t  *rc;

    rc = ac->data;

    if (rc == NULL || rc->ac != ac || reply == NULL) {
        /* the connection failed: on_connect/on_disconnect report it */
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rc->server->log, 0,
                      "scim redis %V: %s failed: %*s",
                      &rc->server->addr, (char *) privdata,
                      (size_t) reply->len, reply->str);
        rc->failed_logged = 1;
        ngx_scim_redis_fail(rc, NULL);
        return;
    }

    if (--rc->handshake > 0) {
        return;
    }

    if (rc->connect_timer.timer_set) {
        ngx_del_timer(&rc->connect_timer);
    }

    rc->state = NGX_SCIM_REDIS_READY;
    rc->backoff = 0;

    if (rc->failed_logged || rc->ever_ready) {
        ngx_log_error(NGX_LOG_NOTICE, rc->server->log, 0,
                      "scim redis %V: connected", &rc->server->addr);
    }

    rc->failed_logged = 0;
    rc->ever_ready = 1;
}


/*
 * Drops the connection: every pending command is answered with NULL.
 * Safe from a hiredis callback (hiredis defers the free).
 */

static void
ngx_scim_redis_fail(ngx_scim_redis_conn_t *rc, const char *why)
{
    redisAsyncContext  *ac;

    if (why != NULL && !rc->failed_logged) {
        ngx_log_error(NGX_LOG_ERR, rc->server->log, 0,
                      "scim redis %V: %s", &rc->server->addr, why);
        rc->failed_logged = 1;
    }

    if (rc->connect_timer.timer_set) {
        ngx_del_timer(&rc->connect_timer);
    }

    ac = rc->ac;

    if (rc->state != NGX_SCIM_REDIS_CLOSED) {
        rc->state = NGX_SCIM_REDIS_DISCONNECTED;
    }

    if (ac != NULL) {
        /* on_disconnect will not run for us: we reconnect ourselves */
        rc->ac = NULL;
        redisAsyncFree(ac);
    }

    ngx_scim_redis_schedule_reconnect(rc);
}


static void
ngx_scim_redis_schedule_reconnect(ngx_scim_redis_conn_t *rc)
{
    ngx_msec_t  delay;

    if (rc->state == NGX_SCIM_REDIS_CLOSED || ngx_exiting || ngx_quit
        || ngx_terminate || rc->reconnect.timer_set)
    {
        return;
    }

    if (rc->backoff == 0) {
        rc->backoff = NGX_SCIM_REDIS_BACKOFF_MIN;

    } else {
        rc->backoff *= 2;

        if (rc->backoff > NGX_SCIM_REDIS_BACKOFF_MAX) {
            rc->backoff = NGX_SCIM_REDIS_BACKOFF_MAX;
        }
    }

    /* up to 25% jitter, so that workers do not reconnect in step */
    delay = rc->backoff + ngx_random() % (rc->backoff / 4 + 1);

    ngx_add_timer(&rc->reconnect, delay);
}


static void
ngx_scim_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_scim_redis_conn_t  *rc = ev->data;

    if (rc->state != NGX_SCIM_REDIS_DISCONNECTED || rc->ac != NULL) {
        return;
    }

    ngx_scim_redis_connect(rc);
}


static void
ngx_scim_redis_connect_timeout_handler(ngx_event_t *ev)
{
    ngx_scim_redis_conn_t  *rc = ev->data;

    if (rc->state != NGX_SCIM_REDIS_CONNECTING) {
        return;
    }

    ngx_scim_redis_fail(rc, "connect timed out");
}


static void
ngx_scim_redis_deadline_handler(ngx_event_t *ev)
{
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

    rc->failed_logged = 0;
    ngx_scim_redis_fail(rc, "command timed out");
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
    int                     n, extra;
    u_char                 *p;
    ngx_uint_t              i, k;
    ngx_scim_redis_cmd_t   *cmd;
    ngx_scim_redis_conn_t  *rc;

    if (server->conns == NULL) {
        return NGX_DECLINED;
    }

    /* round robin over the usable connections */

    rc = NULL;

    for (i = 0; i < server->nconns; i++) {
        k = (server->next + i) % server->nconns;

        if (server->conns[k].state == NGX_SCIM_REDIS_READY
            || server->conns[k].state == NGX_SCIM_REDIS_CONNECTING)
        {
            rc = &server->conns[k];
            server->next = k + 1;
            break;
        }
    }

    if (rc == NULL) {
        /*
         * No connection: try one now rather than at the next backoff
         * step, at most every NGX_SCIM_REDIS_ON_DEMAND ms, and queue the
         * command behind it.  If Redis is back the request succeeds; if
         * not, the connect fails at once or within connect_timeout.
         */

        for (i = 0; i < server->nconns; i++) {
            k = (server->next + i) % server->nconns;

            if (server->conns[k].state == NGX_SCIM_REDIS_DISCONNECTED
                && server->conns[k].ac == NULL
                && ngx_current_msec - server->conns[k].last_attempt
                   >= NGX_SCIM_REDIS_ON_DEMAND)
            {
                if (server->conns[k].reconnect.timer_set) {
                    ngx_del_timer(&server->conns[k].reconnect);
                }

                ngx_scim_redis_connect(&server->conns[k]);

                if (server->conns[k].state == NGX_SCIM_REDIS_CONNECTING) {
                    rc = &server->conns[k];
                }

                break;
            }
        }
    }

    if (rc == NULL || rc->ac == NULL) {
        return NGX_DECLINED;
    }

    extra = script ? 3 : 0;
    n = argc + extra;

    cmd = ngx_alloc(sizeof(ngx_scim_redis_cmd_t)
                    + n * (sizeof(char *) + sizeof(size_t)) + NGX_INT_T_LEN,
                    server->log);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->conn = rc;
    cmd->handler = handler;
    cmd->data = data;
    cmd->script = script;
    cmd->argc = n;
    cmd->argv = (const char **) (cmd + 1);
    cmd->argvlen = (size_t *) (cmd->argv + n);

    if (script) {
        p = (u_char *) (cmd->argvlen + n);

        cmd->argv[0] = "EVALSHA";
        cmd->argvlen[0] = 7;
        cmd->argv[1] = (const char *) script->sha1;
        cmd->argvlen[1] = 40;
        cmd->argv[2] = (const char *) p;
        cmd->argvlen[2] = ngx_sprintf(p, "%d", nkeys) - p;
    }

    for (i = 0; i < (ngx_uint_t) argc; i++) {
        cmd->argv[extra + i] = argv[i];
        cmd->argvlen[extra + i] = argvlen[i];
    }

    if (ngx_scim_redis_send(rc, cmd) != NGX_OK) {
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
        || redisAsyncCommandArgv(rc->ac, ngx_scim_redis_cmd_reply, cmd,
                                 cmd->argc, cmd->argv, cmd->argvlen)
           != REDIS_OK)
    {
        return NGX_DECLINED;
    }

    cmd->conn = rc;
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
    cmd->handler = NULL;
    cmd->data = NULL;
}


static void
ngx_scim_redis_cmd_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply             *reply = r;
    ngx_scim_redis_cmd_t   *cmd = privdata;
    ngx_scim_redis_conn_t  *rc;

    rc = cmd->conn;

    ngx_queue_remove(&cmd->queue);

    if (rc->state != NGX_SCIM_REDIS_CLOSED) {
        ngx_scim_redis_arm_deadline(rc);
    }

    if (reply != NULL
        && reply->type == REDIS_REPLY_ERROR
        && cmd->script != NULL
        && cmd->handler != NULL
        && reply->len >= 8
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        /* the script cache was flushed: send the body once */

        cmd->argv[0] = "EVAL";
        cmd->argvlen[0] = 4;
        cmd->argv[1] = (const char *) cmd->script->body.data;
        cmd->argvlen[1] = cmd->script->body.len;
        cmd->script = NULL;

        if (rc->ac == ac && ngx_scim_redis_send(rc, cmd) == NGX_OK) {
            return;
        }

        reply = NULL;
    }

    if (cmd->handler) {
        cmd->handler(cmd->data, reply);
    }

    ngx_free(cmd);
}


/* the event adapter */

static ngx_int_t
ngx_scim_redis_attach(ngx_scim_redis_conn_t *rc)
{
    ngx_event_t       *rev, *wev;
    ngx_connection_t  *c;

    c = ngx_get_connection(rc->ac->c.fd, rc->server->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = rc;
    rc->c = c;
    rc->want_write = 0;

    rev = c->read;
    wev = c->write;

    rev->handler = ngx_scim_redis_read_handler;
    wev->handler = ngx_scim_redis_write_handler;
    rev->log = rc->server->log;
    wev->log = rc->server->log;

    /* the socket is connecting: writable means connected */
    wev->ready = 0;

    if (ngx_add_conn && (ngx_event_flags & NGX_USE_CLEAR_EVENT)) {
        if (ngx_add_conn(c) != NGX_OK) {
            goto failed;
        }

    } else {
        if (ngx_add_event(rev, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            goto failed;
        }
    }

    rc->ac->ev.data = rc->ac;
    rc->ac->ev.addRead = ngx_scim_redis_add_read;
    rc->ac->ev.delRead = ngx_scim_redis_del_read;
    rc->ac->ev.addWrite = ngx_scim_redis_add_write;
    rc->ac->ev.delWrite = ngx_scim_redis_del_write;
    rc->ac->ev.cleanup = ngx_scim_redis_cleanup;

    return NGX_OK;

failed:

    /* hiredis closes the fd when the context is freed */
    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);
    rc->c = NULL;

    return NGX_ERROR;
}


static void
ngx_scim_redis_add_read(void *privdata)
{
    /* the read event stays registered for the connection's life */
}


static void
ngx_scim_redis_del_read(void *privdata)
{
}


static void
ngx_scim_redis_add_write(void *privdata)
{
    ngx_event_t            *wev;
    redisAsyncContext      *ac = privdata;
    ngx_scim_redis_conn_t  *rc = ac->data;

    if (rc->c == NULL || rc->c->fd != ac->c.fd) {
        return;
    }

    rc->want_write = 1;
    wev = rc->c->write;

    if (!(ngx_event_flags & NGX_USE_CLEAR_EVENT) || !ngx_add_conn) {
        if (!wev->active) {
            (void) ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
        }

        return;
    }

    /*
     * Edge-triggered: a socket that is already writable gives no new
     * event, so the write is posted; it runs once per loop iteration for
     * all the commands queued meanwhile.
     */

    if (wev->ready && !wev->posted) {
        ngx_post_event(wev, &ngx_posted_events);
    }
}


static void
ngx_scim_redis_del_write(void *privdata)
{
    ngx_event_t            *wev;
    redisAsyncContext      *ac = privdata;
    ngx_scim_redis_conn_t  *rc = ac->data;

    if (rc->c == NULL || rc->c->fd != ac->c.fd) {
        return;
    }

    rc->want_write = 0;
    wev = rc->c->write;

    if ((!(ngx_event_flags & NGX_USE_CLEAR_EVENT) || !ngx_add_conn)
        && wev->active)
    {
        (void) ngx_del_event(wev, NGX_WRITE_EVENT, 0);
    }
}


static void
ngx_scim_redis_cleanup(void *privdata)
{
    redisAsyncContext      *ac = privdata;
    ngx_connection_t       *c;
    ngx_scim_redis_conn_t  *rc;

    rc = ac->data;
    c = rc->c;

    if (c == NULL || c->fd != ac->c.fd) {
        return;
    }

    rc->c = NULL;
    rc->want_write = 0;

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /*
     * nginx closes the socket; hiredis must not close it a second time
     * (by then the number may belong to another connection).
     */

    ngx_close_connection(c);
    ac->c.fd = -1;
}


static void
ngx_scim_redis_read_handler(ngx_event_t *ev)
{
    int                     n;
    ngx_connection_t       *c;
    redisAsyncContext      *ac;
    ngx_scim_redis_conn_t  *rc;

    c = ev->data;
    rc = c->data;
    ac = rc->ac;

    if (ac == NULL) {
        return;
    }

    redisAsyncHandleRead(ac);

    /*
     * hiredis reads at most 16 KB a call; with edge-triggered events the
     * rest would wait for more data to arrive.
     */

    while (rc->ac == ac && rc->c != NULL) {
        if (ioctl(ac->c.fd, FIONREAD, &n) == -1 || n <= 0) {
            break;
        }

        redisAsyncHandleRead(ac);
    }
}


static void
ngx_scim_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    redisAsyncContext      *ac;
    ngx_scim_redis_conn_t  *rc;

    c = ev->data;
    rc = c->data;
    ac = rc->ac;

    if (ac == NULL || !rc->want_write) {
        return;
    }

    redisAsyncHandleWrite(ac);

    if (rc->ac == ac && rc->c != NULL && rc->want_write) {
        /* the socket buffer is full: wait for the edge */
        rc->c->write->ready = 0;
    }
}
