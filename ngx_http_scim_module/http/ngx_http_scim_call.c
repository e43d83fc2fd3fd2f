
/*
 * ngx_http_scim_module: a request's calls to the store.  The result of
 * an operation goes to the request's next step (ctx->step); a store that
 * is unavailable or fails is answered here, 503 or 500.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


static void ngx_http_scim_store_done(void *data, ngx_scim_store_res_t *res);
static void ngx_http_scim_store_step(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);


static void
ngx_http_scim_store_done(void *data, ngx_scim_store_res_t *res)
{
    ngx_http_scim_ctx_t  *ctx = data;

    ngx_http_scim_json_arena_t  *prev;

    ctx->cmd = NULL;

    /* (ctx may be gone when the step returns: the request finished) */

    prev = ngx_http_scim_json_pool(ctx->json_pool);
    ngx_http_scim_store_step(ctx, res);
    (void) ngx_http_scim_json_pool(prev);
}


static void
ngx_http_scim_store_step(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    switch (res->status) {

    case NGX_SCIM_STORE_UNAVAILABLE:
        ngx_http_scim_unavailable(ctx);
        return;

    case NGX_SCIM_STORE_FAILED:
        /* the store logged Redis's error */
        ngx_http_scim_fail(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                           "the directory store failed the request");
        return;

    case NGX_SCIM_STORE_BAD_REPLY:
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;

    default:
        ctx->step(ctx, res);
    }
}


/*
 * What a store operation of ctx takes: its result goes to step, or, when
 * Redis is unavailable or fails, to a 503 or a 500 answered here.  The
 * arguments live in ctx->args_pool (a scan's batch) or the request pool.
 */

ngx_scim_store_call_t *
ngx_http_scim_call(ngx_http_scim_ctx_t *ctx, ngx_http_scim_step_pt step)
{
    ngx_scim_store_call_t  *call;

    call = &ctx->call;

    call->store = ctx->slcf->redis;
    call->tenant = ctx->tenant;
    call->type = ctx->resource == NGX_HTTP_SCIM_R_GROUPS
                 ? NGX_SCIM_STORE_GROUP : NGX_SCIM_STORE_USER;
    call->pool = ctx->args_pool ? ctx->args_pool : ctx->request->pool;
    call->log = ctx->request->connection->log;
    call->handler = ngx_http_scim_store_done;
    call->data = ctx;
    call->op = &ctx->cmd;

    ctx->step = step;

    return call;
}


/* what a store operation returned when it was asked for */

void
ngx_http_scim_issued(ngx_http_scim_ctx_t *ctx, ngx_int_t rc)
{
    if (rc == NGX_OK) {
        return;
    }

    ctx->cmd = NULL;

    if (rc == NGX_DECLINED) {
        ngx_http_scim_unavailable(ctx);
        return;
    }

    ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
}
