
/*
 * ngx_http_scim_module: a Lua script's command, on one connection.
 *
 * The scripts are the functions of one Redis 7 library (store/lua/gen.pl,
 * server->library), called by FCALL: Redis keeps the library, so a call
 * makes none of its helpers again.  Nothing loads it ahead: a Redis that
 * has not got it (a new one, a node of a cluster a redirection leads to,
 * after FUNCTION FLUSH, a primary after a failover that did not
 * replicate it) answers "ERR Function not found"; FUNCTION LOAD REPLACE
 * <library> is then sent on that connection, and the call again after it
 * (twice at most: a library gone again each time is the call's answer).
 * The calls sent before the load and answered after it follow it without
 * another load.
 * A load that fails otherwise (out of memory: FUNCTION LOAD is refused,
 * EVAL is not) is logged, and the connection runs the scripts by EVALSHA
 * for NGX_SCIM_REDIS_FN_RELOAD ms, then tries the library again.
 *
 * A Redis without functions (older than 7.0, FUNCTION or FCALL renamed
 * away, or an ACL that does not allow FCALL or FUNCTION LOAD), and a
 * replica that has not got the library (it cannot load it): the
 * connection runs the scripts by EVALSHA of their texts, and EVAL of the
 * text after NOSCRIPT, until it is made again; said once per worker and
 * server, at notice.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"


#define NGX_SCIM_REDIS_FN_RELOAD  10000   /* ms of EVALSHA after a failed
                                              load */
#define NGX_SCIM_REDIS_FN_AGAIN   2       /* loads a call waits for */


#define ngx_scim_redis_fn_is(r, s)                                           \
    ((r)->len >= sizeof(s) - 1                                               \
     && ngx_strncmp((r)->str, s, sizeof(s) - 1) == 0)


static ngx_uint_t ngx_scim_redis_fn_refused(redisReply *reply);
static void ngx_scim_redis_fn_off(ngx_scim_redis_conn_t *rc, u_char *why,
    size_t len);


void
ngx_scim_redis_fn_argv(ngx_scim_redis_conn_t *rc, ngx_scim_redis_cmd_t *cmd)
{
    ngx_scim_redis_script_t  *script;

    script = cmd->script;

    if (rc->load_failed
        && ngx_current_msec - rc->load_failed >= NGX_SCIM_REDIS_FN_RELOAD)
    {
        /* the library may be loaded now */
        rc->evalsha = 0;
        rc->load_failed = 0;
    }

    if (rc->evalsha || rc->server->library.len == 0
        || script->fname.len == 0)
    {
        cmd->fcall = 0;
        cmd->argv[0] = "EVALSHA";
        cmd->argvlen[0] = 7;
        cmd->argv[1] = (const char *) script->sha1;
        cmd->argvlen[1] = 40;
        return;
    }

    cmd->fcall = 1;
    cmd->argv[0] = "FCALL";
    cmd->argvlen[0] = 5;
    cmd->argv[1] = (const char *) script->fname.data;
    cmd->argvlen[1] = script->fname.len;
}


ngx_int_t
ngx_scim_redis_fn_error(ngx_scim_redis_conn_t *rc, ngx_scim_redis_cmd_t *cmd,
    redisReply *reply, const char **argv, size_t *argvlen)
{
    if (!cmd->fcall) {
        if (!ngx_scim_redis_fn_is(reply, "NOSCRIPT")) {
            return NGX_DECLINED;
        }

        /* the script cache was flushed: send the text once */

        cmd->argv[0] = "EVAL";
        cmd->argvlen[0] = 4;
        cmd->argv[1] = (const char *) cmd->script->body.data;
        cmd->argvlen[1] = cmd->script->body.len;
        cmd->script = NULL;

        return NGX_OK;
    }

    if (ngx_scim_redis_fn_refused(reply)) {
        /* FCALL unknown or not allowed */
        ngx_scim_redis_fn_off(rc, (u_char *) reply->str, reply->len);
        ngx_scim_redis_fn_argv(rc, cmd);
        return NGX_OK;
    }

    if (!ngx_scim_redis_fn_is(reply, "ERR Function not found")) {
        return NGX_DECLINED;
    }

    if (!rc->evalsha && rc->server->replica) {
        ngx_scim_redis_fn_off(rc, (u_char *) "a replica without the library",
                              sizeof("a replica without the library") - 1);
    }

    if (rc->evalsha) {
        /* the load before it was refused (or a replica) */
        ngx_scim_redis_fn_argv(rc, cmd);
        return NGX_OK;
    }

    if (cmd->again >= NGX_SCIM_REDIS_FN_AGAIN) {
        /* loaded, and gone again each time: the answer */
        return NGX_DECLINED;
    }

    cmd->again++;

    if (rc->loading) {
        /* sent before the load under way: after it now */
        return NGX_OK;
    }

    argv[0] = "FUNCTION";
    argvlen[0] = 8;
    argv[1] = "LOAD";
    argvlen[1] = 4;
    argv[2] = "REPLACE";
    argvlen[2] = 7;
    argv[3] = (const char *) rc->server->library.data;
    argvlen[3] = rc->server->library.len;

    return NGX_AGAIN;
}


/* the reply to FUNCTION LOAD REPLACE on rc */

void
ngx_scim_redis_fn_loaded(void *data, redisReply *reply)
{
    ngx_scim_redis_conn_t  *rc = data;

    rc->loading = 0;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        /* loaded; or the connection failed, or Redis is unavailable */
        return;
    }

    if (ngx_scim_redis_fn_refused(reply)) {
        ngx_scim_redis_fn_off(rc, (u_char *) reply->str, reply->len);
        return;
    }

    /* EVALSHA for a while: at most one load, and one line, per period */

    rc->evalsha = 1;
    rc->load_failed = ngx_current_msec ? ngx_current_msec : 1;

    ngx_log_error(NGX_LOG_ERR, rc->server->log, 0,
                  "scim redis %V: FUNCTION LOAD of the scripts failed: %*s; "
                  "EVALSHA on this connection for %M ms", &rc->server->addr,
                  (size_t) ngx_min(reply->len, 256), reply->str,
                  (ngx_msec_t) NGX_SCIM_REDIS_FN_RELOAD);
}


/*
 * an unknown command (Redis < 7, rename-command), or one the user may not
 * run (ACL); not NOPERM for a key
 */

static ngx_uint_t
ngx_scim_redis_fn_refused(redisReply *reply)
{
    return reply->type == REDIS_REPLY_ERROR
           && (ngx_scim_redis_fn_is(reply, "ERR unknown command")
               || ngx_scim_redis_fn_is(reply, "NOPERM this user has no "
                                              "permissions to run"));
}


static void
ngx_scim_redis_fn_off(ngx_scim_redis_conn_t *rc, u_char *why, size_t len)
{
    ngx_scim_redis_server_t  *s;

    rc->evalsha = 1;
    rc->load_failed = 0;

    s = rc->server;

    if (s->no_functions) {
        return;
    }

    s->no_functions = 1;

    ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                  "scim redis %V: no Redis functions (%*s): the scripts run "
                  "by EVALSHA", &s->addr, ngx_min(len, 128), why);
}
