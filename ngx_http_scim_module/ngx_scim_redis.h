
/*
 * ngx_http_scim_module: hiredis's asynchronous API on nginx's event loop.
 *
 * One ngx_scim_redis_server_t per distinct Redis (address, password,
 * database, connections, timeouts) in the configuration; each worker
 * keeps scim_redis_connections persistent connections to it, connects in
 * init_process, reconnects by itself with backoff, and pipelines every
 * command.  Nothing here knows HTTP.
 *
 * A command gets exactly one callback: with the reply, or with
 * reply == NULL when the connection failed, Redis did not answer within
 * the command timeout, or the worker is exiting.  A command that cannot
 * be sent at all (no connection) is refused synchronously with
 * NGX_DECLINED, so that callers answer "unavailable" at once.
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


/* a Lua script, loaded on every connection, run by EVALSHA */
typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   body;
    u_char                      sha1[41];
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

    ngx_scim_redis_script_t    *scripts;
    ngx_uint_t                  nscripts;

    /* per worker */
    ngx_scim_redis_conn_t      *conns;
    ngx_uint_t                  next;
    ngx_log_t                  *log;
};


typedef enum {
    NGX_SCIM_REDIS_DISCONNECTED = 0,
    NGX_SCIM_REDIS_CONNECTING,      /* connect + handshake in flight;
                                       commands are buffered behind it */
    NGX_SCIM_REDIS_READY,
    NGX_SCIM_REDIS_CLOSED           /* worker exiting */
} ngx_scim_redis_state_e;


struct ngx_scim_redis_conn_s {
    ngx_scim_redis_server_t    *server;
    redisAsyncContext          *ac;
    ngx_connection_t           *c;
    ngx_scim_redis_state_e      state;

    ngx_queue_t                 pending;       /* ngx_scim_redis_cmd_t */
    ngx_uint_t                  handshake;     /* replies still awaited */

    ngx_event_t                 reconnect;     /* backoff, cancelable */
    ngx_event_t                 connect_timer; /* cancelable */
    ngx_event_t                 deadline;      /* oldest command; keeps
                                                  an exiting worker alive
                                                  until answered */
    ngx_msec_t                  backoff;
    ngx_msec_t                  last_attempt;

    unsigned                    want_write:1;
    unsigned                    failed_logged:1;
    unsigned                    ever_ready:1;
};


struct ngx_scim_redis_cmd_s {
    ngx_queue_t                 queue;
    ngx_scim_redis_conn_t      *conn;
    ngx_msec_t                  deadline;
    ngx_scim_redis_handler_pt   handler;       /* NULL: cancelled */
    void                       *data;

    /* kept for the EVAL retry after NOSCRIPT */
    ngx_scim_redis_script_t    *script;
    int                         argc;
    const char                **argv;
    size_t                     *argvlen;
};


ngx_scim_redis_server_t *ngx_scim_redis_server_add(ngx_conf_t *cf,
    ngx_array_t *servers, ngx_scim_redis_server_t *proto);
ngx_int_t ngx_scim_redis_script_init(ngx_scim_redis_script_t *script);

ngx_int_t ngx_scim_redis_init_worker(ngx_scim_redis_server_t *server,
    ngx_log_t *log);
void ngx_scim_redis_exit_worker(ngx_scim_redis_server_t *server);

/*
 * Sends a command (argv is binary-safe).  NGX_OK: handler will be called
 * once, later (never from inside this call); *cmdp lets the caller cancel.
 * NGX_DECLINED: Redis is unavailable now.  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_scim_redis_command(ngx_scim_redis_server_t *server,
    int argc, const char **argv, size_t *argvlen,
    ngx_scim_redis_handler_pt handler, void *data,
    ngx_scim_redis_cmd_t **cmdp);

/*
 * EVALSHA script->sha1 numkeys keys... args...; falls back to EVAL on
 * NOSCRIPT.  argv/argvlen hold keys then args and must stay valid until
 * the handler runs or the command is cancelled.
 */
ngx_int_t ngx_scim_redis_eval(ngx_scim_redis_server_t *server,
    ngx_scim_redis_script_t *script, int nkeys, int argc, const char **argv,
    size_t *argvlen, ngx_scim_redis_handler_pt handler, void *data,
    ngx_scim_redis_cmd_t **cmdp);

void ngx_scim_redis_cancel(ngx_scim_redis_cmd_t *cmd);


#endif /* _NGX_SCIM_REDIS_H_INCLUDED_ */
