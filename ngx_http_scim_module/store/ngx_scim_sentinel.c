
/*
 * ngx_http_scim_module: Redis Sentinel.
 *
 * Each worker asks the Sentinels of a "scim_redis_sentinel" for the
 * primary's address (SENTINEL get-master-addr-by-name), one after the
 * other until one answers, on a short-lived connection of its own,
 * whenever the store has to make a connection and does not trust the
 * address it has: at start, after a connection was lost or an attempt
 * failed, after a replica's ROLE or a READONLY reply.  The store confirms
 * the address with ROLE in its handshake.
 *
 * Each worker also keeps one connection to a Sentinel subscribed to
 * +switch-master and +promoted-slave, so that a failover moves the
 * connections as soon as that Sentinel knows the new primary; lost,
 * it is made to the next Sentinel after a short delay, and the primary is
 * asked for again once it is back (a switch may have been missed).
 *
 * Both are hiredis asynchronous contexts on nginx's events, with the
 * store's event adapter: never a blocking call.  A Sentinel that names a
 * host instead of an address (resolve-hostnames) is not used: resolving
 * it would block the worker.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"
#include "ngx_scim_sentinel.h"


#define NGX_SCIM_SENTINEL_PORT       26379
#define NGX_SCIM_SENTINEL_REWATCH    500       /* ms after a lost watch */


typedef struct {
    ngx_str_t                   text;          /* as configured */
    u_char                     *host;          /* numeric, NUL-terminated */
    in_port_t                   port;
    unsigned                    failing:1;     /* per worker: logged */
} ngx_scim_sentinel_addr_t;


typedef struct {
    ngx_scim_redis_server_t    *server;
    ngx_scim_sentinel_addr_t   *addrs;
    ngx_uint_t                  naddrs;

    /* per worker; the adapter's view of the two connections: ac, c */
    ngx_scim_redis_conn_t       query;
    ngx_scim_redis_conn_t       watch;
    ngx_event_t                 query_timer;
    ngx_event_t                 watch_timer;
    ngx_uint_t                  asked;         /* the Sentinel asked */
    ngx_uint_t                  tries;         /* in this round */
    ngx_uint_t                  watched;       /* the Sentinel watched */
    ngx_log_t                  *log;

    size_t                      reason_len;    /* the last failure */
    u_char                      reason[NGX_SCIM_REDIS_REASON_LEN];
    u_char                      host[NGX_SOCKADDR_STRLEN + 1];

    unsigned                    exiting:1;
    unsigned                    watch_lost:1;  /* logged */
} ngx_scim_sentinel_t;


#define ngx_scim_sentinel_of(rc, conn)                                       \
    ((ngx_scim_sentinel_t *) ((u_char *) (rc)                                \
                              - offsetof(ngx_scim_sentinel_t, conn)))


static ngx_int_t ngx_scim_sentinel_parse(ngx_conf_t *cf, ngx_str_t *text,
    ngx_scim_sentinel_addr_t *a);
static void ngx_scim_sentinel_resolve(void *data);
static void ngx_scim_sentinel_ask(ngx_scim_sentinel_t *sn);
static void ngx_scim_sentinel_ask_failed(ngx_scim_sentinel_t *sn, u_char *why,
    size_t len);
static void ngx_scim_sentinel_query_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_scim_sentinel_query_timeout(ngx_event_t *ev);
static void ngx_scim_sentinel_watch_start(ngx_event_t *ev);
static void ngx_scim_sentinel_watch_failed(ngx_scim_sentinel_t *sn,
    u_char *why, size_t len);
static void ngx_scim_sentinel_watch_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_scim_sentinel_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_scim_sentinel_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_scim_sentinel_gone(const redisAsyncContext *ac,
    const char *what, const char *err);
static void ngx_scim_sentinel_switch(ngx_scim_sentinel_t *sn,
    redisReply *channel, redisReply *msg);
static redisAsyncContext *ngx_scim_sentinel_open(ngx_scim_sentinel_t *sn,
    ngx_scim_redis_conn_t *rc, ngx_scim_sentinel_addr_t *a,
    redisCallbackFn *reply);
static void ngx_scim_sentinel_close(ngx_scim_redis_conn_t *rc);
static ngx_int_t ngx_scim_sentinel_address(ngx_scim_sentinel_t *sn,
    u_char *host, size_t hlen, u_char *port, size_t plen, in_port_t *portp);


/* configuration */

ngx_int_t
ngx_scim_sentinel_conf(ngx_conf_t *cf, ngx_scim_redis_server_t *server,
    ngx_str_t *addrs, ngx_uint_t naddrs)
{
    ngx_uint_t                 i;
    ngx_scim_sentinel_t       *sn;
    ngx_scim_sentinel_addr_t  *a;

    a = ngx_pcalloc(cf->pool, naddrs * sizeof(ngx_scim_sentinel_addr_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < naddrs; i++) {
        if (ngx_scim_sentinel_parse(cf, &addrs[i], &a[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (server == NULL) {
        /* a check at the directive's line */
        return NGX_OK;
    }

    sn = ngx_pcalloc(cf->pool, sizeof(ngx_scim_sentinel_t));
    if (sn == NULL) {
        return NGX_ERROR;
    }

    sn->server = server;
    sn->addrs = a;
    sn->naddrs = naddrs;

    server->resolve = ngx_scim_sentinel_resolve;
    server->resolve_data = sn;

    return NGX_OK;
}


static ngx_int_t
ngx_scim_sentinel_parse(ngx_conf_t *cf, ngx_str_t *text,
    ngx_scim_sentinel_addr_t *a)
{
    size_t      len;
    ngx_url_t   u;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *text;
    u.default_port = NGX_SCIM_SENTINEL_PORT;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK
        || u.naddrs == 0 || u.uri.len
        || (u.addrs[0].sockaddr->sa_family != AF_INET
            && u.addrs[0].sockaddr->sa_family != AF_INET6))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid sentinel address \"%V\" in "
                           "\"scim_redis_sentinel\"%s%s (expected host:port)",
                           text, u.err ? ": " : "", u.err ? u.err : "");
        return NGX_ERROR;
    }

    a->host = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (a->host == NULL) {
        return NGX_ERROR;
    }

    len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, a->host,
                        NGX_SOCKADDR_STRLEN, 0);
    a->host[len] = '\0';
    a->port = u.port ? u.port : NGX_SCIM_SENTINEL_PORT;
    a->text = *text;

    return NGX_OK;
}


/* worker */

ngx_int_t
ngx_scim_sentinel_init_worker(ngx_scim_redis_server_t *server,
    ngx_log_t *log)
{
    ngx_scim_sentinel_t  *sn;

    sn = server->resolve_data;

    if (sn == NULL) {
        return NGX_OK;
    }

    /* the event adapter logs to the server's log */
    server->log = log;

    sn->log = log;
    sn->exiting = 0;
    sn->asked = ngx_random() % sn->naddrs;
    sn->watched = ngx_random() % sn->naddrs;

    sn->query.server = server;
    sn->query.state = NGX_SCIM_REDIS_READY;
    sn->watch.server = server;
    sn->watch.state = NGX_SCIM_REDIS_READY;

    sn->query_timer.handler = ngx_scim_sentinel_query_timeout;
    sn->query_timer.data = sn;
    sn->query_timer.log = log;
    sn->query_timer.cancelable = 1;

    sn->watch_timer.handler = ngx_scim_sentinel_watch_start;
    sn->watch_timer.data = sn;
    sn->watch_timer.log = log;
    sn->watch_timer.cancelable = 1;

    ngx_scim_sentinel_watch_start(&sn->watch_timer);

    return NGX_OK;
}


void
ngx_scim_sentinel_exit_worker(ngx_scim_redis_server_t *server)
{
    ngx_scim_sentinel_t  *sn;

    sn = server->resolve_data;

    if (sn == NULL || sn->log == NULL) {
        return;
    }

    sn->exiting = 1;

    if (sn->query_timer.timer_set) {
        ngx_del_timer(&sn->query_timer);
    }

    if (sn->watch_timer.timer_set) {
        ngx_del_timer(&sn->watch_timer);
    }

    ngx_scim_sentinel_close(&sn->query);
    ngx_scim_sentinel_close(&sn->watch);
}


/* the store's resolve hook: ask, unless a question is on its way */

static void
ngx_scim_sentinel_resolve(void *data)
{
    ngx_scim_sentinel_t  *sn = data;

    if (sn->exiting || sn->query.ac != NULL) {
        return;
    }

    sn->tries = 0;

    ngx_scim_sentinel_ask(sn);
}


static void
ngx_scim_sentinel_ask(ngx_scim_sentinel_t *sn)
{
    u_char                    *p;
    const char                *argv[3];
    size_t                     argvlen[3];
    u_char                     why[NGX_SCIM_REDIS_REASON_LEN];
    redisAsyncContext         *ac;
    ngx_scim_redis_server_t   *s;
    ngx_scim_sentinel_addr_t  *a;

    s = sn->server;

    if (sn->tries >= sn->naddrs) {
        /* the waiting commands get NULL; the next attempt asks again */

        p = ngx_snprintf(why, sizeof(why),
                         "no sentinel named the primary of \"%V\" (the "
                         "last: %*s)", &s->sentinel_name, sn->reason_len,
                         sn->reason);
        ngx_scim_redis_unresolved(s, why, p - why);
        return;
    }

    sn->tries++;
    a = &sn->addrs[sn->asked];

    ac = ngx_scim_sentinel_open(sn, &sn->query, a,
                                ngx_scim_sentinel_query_reply);
    if (ac == NULL) {
        p = ngx_snprintf(why, sizeof(why), "connect failed");
        ngx_scim_sentinel_ask_failed(sn, why, p - why);
        return;
    }

    argv[0] = "SENTINEL";
    argvlen[0] = sizeof("SENTINEL") - 1;
    argv[1] = "get-master-addr-by-name";
    argvlen[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = (const char *) s->sentinel_name.data;
    argvlen[2] = s->sentinel_name.len;

    if (redisAsyncCommandArgv(ac, ngx_scim_sentinel_query_reply,
                              (void *) "SENTINEL", 3, argv, argvlen)
        != REDIS_OK)
    {
        p = ngx_snprintf(why, sizeof(why), "out of memory");
        ngx_scim_sentinel_ask_failed(sn, why, p - why);
        return;
    }

    ngx_add_timer(&sn->query_timer, s->connect_timeout);
}


/* the Sentinel asked did not answer: the next one is asked */

static void
ngx_scim_sentinel_ask_failed(ngx_scim_sentinel_t *sn, u_char *why,
    size_t len)
{
    u_char                    *p;
    ngx_scim_sentinel_addr_t  *a;

    if (sn->query_timer.timer_set) {
        ngx_del_timer(&sn->query_timer);
    }

    ngx_scim_sentinel_close(&sn->query);

    a = &sn->addrs[sn->asked];

    p = ngx_snprintf(sn->reason, sizeof(sn->reason), "sentinel %V: %*s",
                     &a->text, len, why);
    sn->reason_len = p - sn->reason;

    /* a line when it starts failing, one when it answers again */

    if (!a->failing) {
        a->failing = 1;
        ngx_log_error(NGX_LOG_WARN, sn->log, 0, "scim redis %V: %*s",
                      &sn->server->sentinel_name, sn->reason_len,
                      sn->reason);
    }

    sn->asked = (sn->asked + 1) % sn->naddrs;

    if (!sn->exiting) {
        ngx_scim_sentinel_ask(sn);
    }
}


static void
ngx_scim_sentinel_query_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    u_char                 *p;
    in_port_t               port;
    redisReply             *reply = r;
    u_char                  why[NGX_SCIM_REDIS_REASON_LEN];
    ngx_scim_sentinel_t    *sn;
    ngx_scim_redis_conn_t  *rc;

    rc = ac->data;
    sn = ngx_scim_sentinel_of(rc, query);

    if (sn->query.ac != ac || reply == NULL) {
        /* closed: the disconnect callback or the closer has it */
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        p = ngx_snprintf(why, sizeof(why), "%s failed: %*s",
                         (char *) privdata,
                         (size_t) ngx_min(reply->len, 80), reply->str);
        ngx_scim_sentinel_ask_failed(sn, why, p - why);
        return;
    }

    if (ngx_strcmp(privdata, "AUTH") == 0) {
        return;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        p = ngx_snprintf(why, sizeof(why), "does not know \"%V\"",
                         &sn->server->sentinel_name);
        ngx_scim_sentinel_ask_failed(sn, why, p - why);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING
        || ngx_scim_sentinel_address(sn, (u_char *) reply->element[0]->str,
                                     reply->element[0]->len,
                                     (u_char *) reply->element[1]->str,
                                     reply->element[1]->len, &port)
           != NGX_OK)
    {
        p = ngx_snprintf(why, sizeof(why),
                         "no numeric address of the primary in its answer");
        ngx_scim_sentinel_ask_failed(sn, why, p - why);
        return;
    }

    if (sn->query_timer.timer_set) {
        ngx_del_timer(&sn->query_timer);
    }

    /* from a callback: hiredis frees the context when it returns */
    ngx_scim_sentinel_close(&sn->query);

    if (sn->addrs[sn->asked].failing) {
        sn->addrs[sn->asked].failing = 0;
        ngx_log_error(NGX_LOG_NOTICE, sn->log, 0,
                      "scim redis %V: sentinel %V answers again",
                      &sn->server->sentinel_name,
                      &sn->addrs[sn->asked].text);
    }

    ngx_scim_redis_retarget(sn->server, sn->host, port);
}




static void
ngx_scim_sentinel_query_timeout(ngx_event_t *ev)
{
    u_char               *p;
    u_char                why[NGX_SCIM_REDIS_REASON_LEN];
    ngx_scim_sentinel_t  *sn = ev->data;

    if (sn->query.ac == NULL) {
        return;
    }

    p = ngx_snprintf(why, sizeof(why), "no answer in time");
    ngx_scim_sentinel_ask_failed(sn, why, p - why);
}


/* the watch: SUBSCRIBE +switch-master +promoted-slave on one Sentinel */

static void
ngx_scim_sentinel_watch_start(ngx_event_t *ev)
{
    u_char               *p;
    const char           *argv[3];
    size_t                argvlen[3];
    u_char                why[NGX_SCIM_REDIS_REASON_LEN];
    redisAsyncContext    *ac;
    ngx_scim_sentinel_t  *sn = ev->data;

    if (sn->exiting || sn->watch.ac != NULL || ngx_exiting || ngx_quit
        || ngx_terminate)
    {
        return;
    }

    ac = ngx_scim_sentinel_open(sn, &sn->watch, &sn->addrs[sn->watched],
                                ngx_scim_sentinel_watch_reply);
    if (ac == NULL) {
        p = ngx_snprintf(why, sizeof(why), "connect failed");
        ngx_scim_sentinel_watch_failed(sn, why, p - why);
        return;
    }

    argv[0] = "SUBSCRIBE";
    argvlen[0] = sizeof("SUBSCRIBE") - 1;
    argv[1] = "+switch-master";
    argvlen[1] = sizeof("+switch-master") - 1;
    argv[2] = "+promoted-slave";
    argvlen[2] = sizeof("+promoted-slave") - 1;

    if (redisAsyncCommandArgv(ac, ngx_scim_sentinel_watch_reply,
                              (void *) "SUBSCRIBE", 3, argv, argvlen)
        != REDIS_OK)
    {
        p = ngx_snprintf(why, sizeof(why), "out of memory");
        ngx_scim_sentinel_watch_failed(sn, why, p - why);
    }
}


static void
ngx_scim_sentinel_watch_failed(ngx_scim_sentinel_t *sn, u_char *why,
    size_t len)
{
    ngx_scim_sentinel_close(&sn->watch);

    if (sn->exiting) {
        return;
    }

    if (!sn->watch_lost) {
        sn->watch_lost = 1;
        ngx_log_error(NGX_LOG_WARN, sn->log, 0,
                      "scim redis sentinel %V: %*s: no failover notices "
                      "from it, watching the next sentinel",
                      &sn->addrs[sn->watched].text, len, why);
    }

    sn->watched = (sn->watched + 1) % sn->naddrs;

    if (!sn->watch_timer.timer_set) {
        ngx_add_timer(&sn->watch_timer, NGX_SCIM_SENTINEL_REWATCH);
    }
}


static void
ngx_scim_sentinel_watch_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    u_char                 *p;
    redisReply             *reply = r, *kind;
    u_char                  why[NGX_SCIM_REDIS_REASON_LEN];
    ngx_scim_sentinel_t    *sn;
    ngx_scim_redis_conn_t  *rc;

    rc = ac->data;
    sn = ngx_scim_sentinel_of(rc, watch);

    if (sn->watch.ac != ac || reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        p = ngx_snprintf(why, sizeof(why), "%s failed: %*s",
                         (char *) privdata,
                         (size_t) ngx_min(reply->len, 80), reply->str);
        ngx_scim_sentinel_watch_failed(sn, why, p - why);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        /* AUTH's OK */
        return;
    }

    kind = reply->element[0];

    if (kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0) {
        if (sn->watch_lost) {
            sn->watch_lost = 0;
            ngx_log_error(NGX_LOG_NOTICE, sn->log, 0,
                          "scim redis sentinel %V: watching for failovers",
                          &sn->addrs[sn->watched].text);
        }

        /* a switch may have been missed while no Sentinel was watched */

        if (sn->server->host.len) {
            ngx_scim_sentinel_resolve(sn);
        }

        return;
    }

    if (kind->len == 7 && ngx_strncmp(kind->str, "message", 7) == 0
        && reply->element[1]->type == REDIS_REPLY_STRING
        && reply->element[2]->type == REDIS_REPLY_STRING)
    {
        ngx_scim_sentinel_switch(sn, reply->element[1], reply->element[2]);
    }
}


/*
 * +switch-master: "<master-name> <old-ip> <old-port> <new-ip> <new-port>",
 * from every Sentinel once it has switched; +promoted-slave: "slave
 * <ip:port> <ip> <port> @ <master-name> <master-ip> <master-port>", from
 * the Sentinel doing the failover as soon as the replica it chose says it
 * is a primary (a second or more before that Sentinel's +switch-master):
 * either moves the connections at once.
 */

static void
ngx_scim_sentinel_switch(ngx_scim_sentinel_t *sn, redisReply *channel,
    redisReply *msg)
{
    u_char      *p, *last, *f[8];
    size_t       n[8];
    in_port_t    port;
    ngx_str_t   *name;
    ngx_uint_t   i, nf, k;

    p = (u_char *) msg->str;
    last = p + msg->len;

    for (nf = 0; nf < 8 && p < last; nf++) {
        f[nf] = p;

        while (p < last && *p != ' ') {
            p++;
        }

        n[nf] = p - f[nf];

        if (p < last) {
            p++;
        }
    }

    if (channel->len == sizeof("+promoted-slave") - 1
        && ngx_strncmp(channel->str, "+promoted-slave",
                       sizeof("+promoted-slave") - 1) == 0)
    {
        if (nf != 8 || n[0] != 5 || ngx_strncmp(f[0], "slave", 5) != 0) {
            return;
        }

        i = 5;
        k = 2;

    } else {
        if (nf != 5) {
            return;
        }

        i = 0;
        k = 3;
    }

    name = &sn->server->sentinel_name;

    if (n[i] != name->len || ngx_strncmp(f[i], name->data, n[i]) != 0) {
        /* another master of the same Sentinels */
        return;
    }

    if (ngx_scim_sentinel_address(sn, f[k], n[k], f[k + 1], n[k + 1], &port)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, sn->log, 0,
                      "scim redis sentinel %V: %*s without a numeric "
                      "address: \"%*s\", asking for the primary",
                      &sn->addrs[sn->watched].text,
                      (size_t) channel->len, channel->str,
                      (size_t) ngx_min(msg->len, 200), msg->str);
        sn->server->resolved = 0;
        ngx_scim_sentinel_resolve(sn);
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, sn->log, 0,
                  "scim redis sentinel %V: %*s %*s",
                  &sn->addrs[sn->watched].text,
                  (size_t) channel->len, channel->str,
                  (size_t) ngx_min(msg->len, 200), msg->str);

    ngx_scim_redis_retarget(sn->server, sn->host, port);
}




/*
 * the query's and the watch's connections: a failed connect or a lost
 * connection is the failure of the one it is (hiredis frees the context
 * after these callbacks)
 */

static void
ngx_scim_sentinel_on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        ngx_scim_sentinel_gone(ac, "connect failed", ac->errstr);
    }
}


static void
ngx_scim_sentinel_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_scim_sentinel_gone(ac, "connection lost",
                           ac->errstr[0] ? ac->errstr : "closed");
}


static void
ngx_scim_sentinel_gone(const redisAsyncContext *ac, const char *what,
    const char *err)
{
    u_char                 *p;
    u_char                  why[NGX_SCIM_REDIS_REASON_LEN];
    ngx_scim_sentinel_t    *sn;
    ngx_scim_redis_conn_t  *rc;

    rc = ac->data;

    if (rc->ac != ac) {
        return;
    }

    rc->ac = NULL;
    sn = rc->server->resolve_data;

    p = ngx_snprintf(why, sizeof(why), "%s: %s", what, err);

    if (rc == &sn->query) {
        ngx_scim_sentinel_ask_failed(sn, why, p - why);

    } else {
        ngx_scim_sentinel_watch_failed(sn, why, p - why);
    }
}


/* a connection to a Sentinel, AUTH sent if it has a password */

static redisAsyncContext *
ngx_scim_sentinel_open(ngx_scim_sentinel_t *sn, ngx_scim_redis_conn_t *rc,
    ngx_scim_sentinel_addr_t *a, redisCallbackFn *reply)
{
    const char               *argv[2];
    size_t                    argvlen[2];
    redisAsyncContext        *ac;
    ngx_scim_redis_server_t  *s;

    s = sn->server;

    ac = redisAsyncConnect((char *) a->host, a->port);

    if (ac == NULL) {
        return NULL;
    }

    if (ac->err) {
        redisAsyncFree(ac);
        return NULL;
    }

    rc->ac = ac;
    ac->data = rc;

    if (ngx_scim_redis_attach(rc) != NGX_OK) {
        rc->ac = NULL;
        redisAsyncFree(ac);
        return NULL;
    }

    redisAsyncSetConnectCallback(ac, ngx_scim_sentinel_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_scim_sentinel_on_disconnect);

    if (s->sentinel_password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) s->sentinel_password.data;
        argvlen[1] = s->sentinel_password.len;

        (void) redisAsyncCommandArgv(ac, reply, (void *) "AUTH", 2, argv,
                                     argvlen);
    }

    return ac;
}


/* safe from the context's own callbacks: hiredis defers the free */

static void
ngx_scim_sentinel_close(ngx_scim_redis_conn_t *rc)
{
    redisAsyncContext  *ac;

    ac = rc->ac;

    if (ac == NULL) {
        return;
    }

    rc->ac = NULL;
    ac->onConnect = NULL;
    ac->onDisconnect = NULL;
    redisAsyncFree(ac);
}


/* a numeric address as hiredis takes it (it would resolve a name) */

static ngx_int_t
ngx_scim_sentinel_address(ngx_scim_sentinel_t *sn, u_char *host,
    size_t hlen, u_char *port, size_t plen, in_port_t *portp)
{
    ngx_int_t  n;
#if (NGX_HAVE_INET6)
    u_char     addr6[16];
#endif

    if (hlen == 0 || hlen > NGX_SOCKADDR_STRLEN) {
        return NGX_ERROR;
    }

    n = ngx_atoi(port, plen);

    if (n < 1 || n > 65535) {
        return NGX_ERROR;
    }

    if (ngx_inet_addr(host, hlen) == INADDR_NONE
#if (NGX_HAVE_INET6)
        && ngx_inet6_addr(host, hlen, addr6) != NGX_OK
#endif
       )
    {
        return NGX_ERROR;
    }

    ngx_memcpy(sn->host, host, hlen);
    sn->host[hlen] = '\0';
    *portp = (in_port_t) n;

    return NGX_OK;
}
