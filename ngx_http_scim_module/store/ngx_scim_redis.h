
/*
 * ngx_http_scim_module: hiredis's asynchronous API on nginx's event loop.
 *
 * One ngx_scim_redis_server_t per distinct Redis (address, password,
 * database, connections, timeouts) in the configuration; each worker
 * keeps scim_redis_connections persistent connections to it, connects in
 * init_process, reconnects by itself, and pipelines every command.
 * Nothing here knows HTTP.
 *
 * A connection that was ready and is lost is made again at once.  A
 * connection attempt that fails (refused, timed out, or a handshake
 * error: AUTH, SELECT, PING: LOADING, NOAUTH) is retried with backoff,
 * 100 ms doubling up to 1 s; a command that finds no connection starts
 * one itself, but at most every 100 ms after a failed attempt.
 *
 * A command gets exactly one callback: with the reply, or with
 * reply == NULL when the connection failed, Redis did not answer within
 * the command timeout, Redis answered LOADING or BUSY (it cannot run
 * commands for now), or the worker is exiting.  A command issued while
 * a connection is being made waits for it (never longer than the connect
 * timeout) in a queue of the connection; it holds no copy of its
 * arguments there, and cancelling it takes it out at once, so the queue
 * is never longer than the worker's live requests.  A command that
 * cannot be sent at all (no connection, none may be started now) is
 * refused synchronously with NGX_DECLINED, so that callers answer
 * "unavailable" at once.
 *
 * Failures are logged once per worker and server when they start (and
 * when their cause changes), then summarized every 60 s while they last;
 * the recovery is logged once.
 *
 * Every handshake ends with ROLE.  A replica given as the address is said
 * once per worker in error.log and used (reads work); a READONLY reply is
 * answered with NULL, like LOADING.  With scim_redis_sentinel
 * (ngx_scim_sentinel.c) the address is the primary's as the Sentinels
 * say: asked for when a connection is to be made after a lost one, a
 * failed attempt, a replica's ROLE or a READONLY reply; a connection
 * waiting for it is CONNECTING without a context, and its commands wait
 * as for any connection being made.
 */

#ifndef _NGX_SCIM_REDIS_H_INCLUDED_
#define _NGX_SCIM_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


typedef struct ngx_scim_redis_server_s  ngx_scim_redis_server_t;
typedef struct ngx_scim_redis_conn_s    ngx_scim_redis_conn_t;
typedef struct ngx_scim_redis_cmd_s     ngx_scim_redis_cmd_t;

typedef void (*ngx_scim_redis_handler_pt)(void *data, redisReply *reply);
typedef void (*ngx_scim_redis_resolve_pt)(void *data);


#define NGX_SCIM_REDIS_REASON_LEN  128


/*
 * a Lua script: FCALL fname of the server's function library, else
 * (a Redis without functions) EVALSHA sha1 (hex), EVAL body on NOSCRIPT
 */
typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   body;
    u_char                      sha1[41];
    ngx_str_t                   fname;
} ngx_scim_redis_script_t;


struct ngx_scim_redis_server_s {
    ngx_str_t                   addr;          /* as configured */
    ngx_str_t                   host;          /* numeric, NUL-terminated */
    ngx_str_t                   unix_path;     /* NUL-terminated */
    in_port_t                   port;

    ngx_str_t                   password;
    ngx_int_t                   db;
    ngx_uint_t                  nconns;
    ngx_msec_t                  connect_timeout;
    ngx_msec_t                  timeout;

    ngx_str_t                   library;       /* FUNCTION LOAD text of
                                                  the scripts' functions;
                                                  empty: EVALSHA */

    /* scim_redis_sentinel: addr names the Sentinel set; per worker,
       host and port are the primary's as the Sentinels said, and a
       connection to be made without them asks with resolve() */
    ngx_str_t                   sentinel_name;
    ngx_str_t                   sentinel_password;
    ngx_scim_redis_resolve_pt   resolve;
    void                       *resolve_data;

    /* per worker */
    ngx_scim_redis_conn_t      *conns;
    ngx_uint_t                  next;
    ngx_log_t                  *log;

    /* failure reporting, per worker */
    ngx_uint_t                  failures;      /* since failing began */
    ngx_uint_t                  logged;        /* lines this period */
    ngx_msec_t                  reported;      /* last summary */
    ngx_msec_t                  failing_start;
    size_t                      reason_len;
    u_char                      reason[NGX_SCIM_REDIS_REASON_LEN];
    u_char                      since[32];     /* failing since, as
                                                  error.log writes it */
    unsigned                    failing:1;
    unsigned                    unavailable:1; /* LOADING, BUSY replies */
    unsigned                    resolved:1;    /* sentinel: the address is
                                                  the primary's, as far as
                                                  we know */
    unsigned                    replica:1;     /* ROLE said replica: said
                                                  once in error.log */
    unsigned                    no_functions:1; /* said once: EVALSHA */
};


typedef enum {
    NGX_SCIM_REDIS_DISCONNECTED = 0,
    NGX_SCIM_REDIS_CONNECTING,      /* connect + handshake in flight;
                                       commands wait in rc->waiting */
    NGX_SCIM_REDIS_READY,
    NGX_SCIM_REDIS_CLOSED           /* worker exiting */
} ngx_scim_redis_state_e;


struct ngx_scim_redis_conn_s {
    ngx_scim_redis_server_t    *server;
    redisAsyncContext          *ac;
    ngx_connection_t           *c;
    ngx_scim_redis_state_e      state;

    ngx_queue_t                 pending;       /* sent to hiredis */
    ngx_queue_t                 waiting;       /* for the connection */
    ngx_uint_t                  handshake;     /* replies still awaited */

    ngx_event_t                 reconnect;     /* backoff timer, or posted
                                                  at once; cancelable */
    ngx_event_t                 connect_timer; /* cancelable unless
                                                  commands wait */
    ngx_event_t                 deadline;      /* oldest command; keeps
                                                  an exiting worker alive
                                                  until answered */
    ngx_msec_t                  backoff;       /* 0 after a success */
    ngx_msec_t                  failed_at;     /* last failed attempt */
    ngx_msec_t                  ready_at;
    ngx_uint_t                  short_lived;   /* lost soon after ready,
                                                  in a row */
    ngx_msec_t                  load_failed;   /* FUNCTION LOAD failed
                                                  (not refused): EVALSHA
                                                  since */

    unsigned                    want_write:1;
    unsigned                    failed:1;      /* the last attempt */
    unsigned                    dropped:1;     /* a command got NULL */
    unsigned                    evalsha:1;     /* no functions here */
    unsigned                    loading:1;     /* FUNCTION LOAD sent, not
                                                  answered */
};


/* valid while its handler runs (sent, conn: where it went) */
struct ngx_scim_redis_cmd_s {
    ngx_queue_t                 queue;         /* rc->pending or waiting */
    ngx_scim_redis_conn_t      *conn;
    ngx_msec_t                  deadline;
    ngx_scim_redis_handler_pt   handler;       /* NULL: cancelled */
    void                       *data;
    unsigned                    sent:1;        /* hiredis has a copy */
    unsigned                    fcall:1;       /* argv: FCALL, not EVALSHA */
    unsigned                    again:2;       /* FCALL sent again after
                                                  a load of the library:
                                                  times */

    /* kept for the retries: FUNCTION LOAD, EVALSHA, EVAL after NOSCRIPT */
    ngx_scim_redis_script_t    *script;
    int                         argc;
    const char                **argv;
    size_t                     *argvlen;
};


ngx_scim_redis_server_t *ngx_scim_redis_server_add(ngx_conf_t *cf,
    ngx_array_t *servers, ngx_scim_redis_server_t *proto);

ngx_int_t ngx_scim_redis_init_worker(ngx_scim_redis_server_t *server,
    ngx_log_t *log);
void ngx_scim_redis_exit_worker(ngx_scim_redis_server_t *server);

/*
 * Sends a command (argv is binary-safe).  NGX_OK: handler will be called
 * once, later (never from inside this call); *cmdp lets the caller cancel.
 * NGX_DECLINED: Redis is unavailable now.  NGX_ERROR: out of memory.
 * argv/argvlen (the array and the strings) must stay valid until the
 * handler runs or the command is cancelled: a command that waits for a
 * connection is only copied when it is sent.
 */
ngx_int_t ngx_scim_redis_command(ngx_scim_redis_server_t *server,
    int argc, const char **argv, size_t *argvlen,
    ngx_scim_redis_handler_pt handler, void *data,
    ngx_scim_redis_cmd_t **cmdp);

/*
 * FCALL script->fname numkeys keys... args... (ngx_scim_redis_fn.c: the
 * library loaded when Redis has not got it; EVALSHA, then EVAL on
 * NOSCRIPT, on a connection to a Redis without functions).  argv/argvlen
 * hold keys then args and must stay valid until the handler runs or the
 * command is cancelled.
 */
ngx_int_t ngx_scim_redis_eval(ngx_scim_redis_server_t *server,
    ngx_scim_redis_script_t *script, int nkeys, int argc, const char **argv,
    size_t *argvlen, ngx_scim_redis_handler_pt handler, void *data,
    ngx_scim_redis_cmd_t **cmdp);

/*
 * Redis Cluster (ngx_scim_cluster*.c): a ready connection of the server
 * (NULL: none now), and a command on that very connection (after ASKING,
 * WAIT after a write); NGX_DECLINED if it is not ready any more.
 */
ngx_scim_redis_conn_t *ngx_scim_redis_any_ready(
    ngx_scim_redis_server_t *server);
ngx_int_t ngx_scim_redis_eval_on(ngx_scim_redis_conn_t *rc,
    ngx_scim_redis_script_t *script, int nkeys, int argc, const char **argv,
    size_t *argvlen, ngx_scim_redis_handler_pt handler, void *data,
    ngx_scim_redis_cmd_t **cmdp);

/*
 * The handler will not be called; a command still waiting for its
 * connection is freed at once.  Call it before argv goes away.
 */
void ngx_scim_redis_cancel(ngx_scim_redis_cmd_t *cmd);

/*
 * Sentinel hooks (ngx_scim_sentinel.c): the primary is at host:port now
 * (NUL-terminated, numeric): connections to another address are dropped
 * and made again, commands waiting for the address go there.  Or: the
 * Sentinels could not say (why): the commands waiting for it get NULL.
 */
void ngx_scim_redis_retarget(ngx_scim_redis_server_t *server, u_char *host,
    in_port_t port);
void ngx_scim_redis_unresolved(ngx_scim_redis_server_t *server, u_char *why,
    size_t len);

/*
 * Between the files of the Redis client only (ngx_scim_redis*.c), which
 * call each other in this order, never back:
 * ngx_scim_redis_server.c -> ngx_scim_redis.c -> ngx_scim_redis_report.c,
 * ngx_scim_redis_event.c, ngx_scim_redis_resp.c, ngx_scim_redis_fn.c.
 */

/* ngx_scim_redis.c: a connection, started, failed, dropped; its timers */
void ngx_scim_redis_connect(ngx_scim_redis_conn_t *rc);
void ngx_scim_redis_attempt_failed(ngx_scim_redis_conn_t *rc, u_char *why,
    size_t len);
void ngx_scim_redis_drop(ngx_scim_redis_conn_t *rc);
void ngx_scim_redis_flush(ngx_scim_redis_conn_t *rc);
void ngx_scim_redis_reconnect_handler(ngx_event_t *ev);
void ngx_scim_redis_connect_timeout_handler(ngx_event_t *ev);
void ngx_scim_redis_deadline_handler(ngx_event_t *ev);

/* ngx_scim_redis_report.c: a failure of the server, its recovery */
void ngx_scim_redis_report(ngx_scim_redis_server_t *s, u_char *why,
    size_t len);
void ngx_scim_redis_report_ready(ngx_scim_redis_server_t *s);

/*
 * ngx_scim_redis_resp.c: redisAsyncCommandArgv(), with the command
 * written in one pass (REDIS_OK, REDIS_ERR)
 */
int ngx_scim_redis_resp_send(redisAsyncContext *ac, redisCallbackFn *fn,
    void *privdata, int argc, const char **argv, const size_t *argvlen);

/* ngx_scim_redis_event.c: the context's socket on nginx's events */
ngx_int_t ngx_scim_redis_attach(ngx_scim_redis_conn_t *rc);

/*
 * ngx_scim_redis_fn.c: a script's command (argv[0] and argv[1]: FCALL
 * fname, or EVALSHA sha1 where rc has no functions), and what an error
 * reply to it asks for: NGX_DECLINED: nothing, it is the answer; NGX_OK:
 * send cmd again (its argv rewritten); NGX_AGAIN: send the command in
 * argv/argvlen (4: FUNCTION LOAD REPLACE <library>) with the handler
 * ngx_scim_redis_fn_loaded (data: rc) on rc, then cmd again.
 */
void ngx_scim_redis_fn_argv(ngx_scim_redis_conn_t *rc,
    ngx_scim_redis_cmd_t *cmd);
ngx_int_t ngx_scim_redis_fn_error(ngx_scim_redis_conn_t *rc,
    ngx_scim_redis_cmd_t *cmd, redisReply *reply, const char **argv,
    size_t *argvlen);
void ngx_scim_redis_fn_loaded(void *data, redisReply *reply);


#endif /* _NGX_SCIM_REDIS_H_INCLUDED_ */
