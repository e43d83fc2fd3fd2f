
/*
 * ngx_http_scim_module: jansson's memory.  jansson has one allocator for
 * the process (json_set_alloc_funcs); ours gives the blocks of a write
 * request's own work (its body, the normalized and stored document, the
 * answer) from the request's pool while that pool is "current", and
 * malloc() blocks otherwise.  A 16-byte header in front of every block
 * tells which it is: a pool block's free does nothing (the pool goes with
 * the request) unless it is one of the pool's large blocks, which goes
 * back at once; a malloc() block's free is free().
 *
 * The current pool is per thread (a thread of a thread pool never sees a
 * request's pool) and is set only around a write request's steps (the
 * handler, the body, a store reply, a retry, a hashed password), each
 * setting it and putting the previous one back before it returns to the
 * event loop: ngx_http_scim_json_pool() returns what it replaced.  Nothing
 * that outlives the request (the schema registry, configuration, caches)
 * is made while a pool is current: they are made at configuration time
 * or outside of a write's steps; reads and scans, which may parse many
 * stored documents in one request, never have a pool (see
 * ngx_http_scim_json_pool_for()).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_JSON_HDR        16

/* what a header says: a malloc() block, a pool's small or large block */
#define NGX_HTTP_SCIM_JSON_MALLOC     0x6d616c6c6f63736dULL
#define NGX_HTTP_SCIM_JSON_SMALL      0x706f6f6c736d616cULL
#define NGX_HTTP_SCIM_JSON_LARGE      0x706f6f6c6c617267ULL


typedef struct {
    ngx_pool_t                 *pool;
    uint64_t                    tag;
} ngx_http_scim_json_hdr_t;


static void *ngx_http_scim_json_malloc(size_t size);
static void ngx_http_scim_json_free(void *p);


static __thread ngx_pool_t  *ngx_http_scim_json_current;

static ngx_uint_t  ngx_http_scim_json_installed;


/*
 * Before the first json_t of the process (the configuration's schemas):
 * from the module's first configuration hook.  Blocks made before that
 * (another module's) have no header; they are told apart by the tag and
 * go to free() as they came from malloc().
 */

void
ngx_http_scim_json_alloc_init(void)
{
    if (ngx_http_scim_json_installed) {
        return;
    }

    json_set_alloc_funcs(ngx_http_scim_json_malloc, ngx_http_scim_json_free);
    ngx_http_scim_json_installed = 1;
}


ngx_pool_t *
ngx_http_scim_json_pool(ngx_pool_t *pool)
{
    ngx_pool_t  *prev;

    prev = ngx_http_scim_json_current;
    ngx_http_scim_json_current = pool;

    return prev;
}


/*
 * On entry from the event loop (a handler, a timer, a posted event) no
 * pool may be current: one left over would be a request's that may be
 * gone.  Said loudly (the tests fail on an alert) and put right.
 */

void
ngx_http_scim_json_pool_check(ngx_log_t *log)
{
    if (ngx_http_scim_json_current == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "scim: a request pool was left current for jansson");

    ngx_http_scim_json_current = NULL;
}


/*
 * A write request's work allocates from its pool: POST to a collection,
 * PUT, PATCH and DELETE of one user or group.  Everything else, and a
 * Bulk's operations, use malloc(): a list, a filter or a scan parses many
 * stored documents, freed as it goes.
 */

ngx_pool_t *
ngx_http_scim_json_pool_for(ngx_http_scim_ctx_t *ctx)
{
    if (ctx->search || ctx->done != NULL
        || (ctx->resource != NGX_HTTP_SCIM_R_USERS
            && ctx->resource != NGX_HTTP_SCIM_R_GROUPS))
    {
        return NULL;
    }

    if (ctx->id.len == 0) {
        return ctx->method == NGX_HTTP_POST ? ctx->request->pool : NULL;
    }

    return (ctx->method & (NGX_HTTP_PUT|NGX_HTTP_PATCH|NGX_HTTP_DELETE))
           ? ctx->request->pool : NULL;
}


static void *
ngx_http_scim_json_malloc(size_t size)
{
    u_char                    *p;
    size_t                     n;
    ngx_pool_t                *pool;
    ngx_http_scim_json_hdr_t  *h;

    if (size > (size_t) NGX_MAX_SIZE_T_VALUE - 2 * NGX_HTTP_SCIM_JSON_HDR) {
        return NULL;
    }

    n = size + NGX_HTTP_SCIM_JSON_HDR;
    pool = ngx_http_scim_json_current;

    if (pool == NULL) {
        h = malloc(n);
        if (h == NULL) {
            return NULL;
        }

        h->pool = NULL;
        h->tag = NGX_HTTP_SCIM_JSON_MALLOC;

        return (u_char *) h + NGX_HTTP_SCIM_JSON_HDR;
    }

    if (n + 8 > pool->max) {
        /* a large block: malloc()'s, 16-byte aligned already */

        h = ngx_palloc(pool, ngx_max(n, pool->max + 1));
        if (h == NULL) {
            return NULL;
        }

        h->pool = pool;
        h->tag = NGX_HTTP_SCIM_JSON_LARGE;

        return (u_char *) h + NGX_HTTP_SCIM_JSON_HDR;
    }

    /* ngx_palloc() aligns to 8: 8 more bytes align to 16 */

    p = ngx_palloc(pool, n + 8);
    if (p == NULL) {
        return NULL;
    }

    h = (ngx_http_scim_json_hdr_t *) ngx_align_ptr(p, 16);

    h->pool = pool;
    h->tag = NGX_HTTP_SCIM_JSON_SMALL;

    return (u_char *) h + NGX_HTTP_SCIM_JSON_HDR;
}


static void
ngx_http_scim_json_free(void *p)
{
    ngx_http_scim_json_hdr_t  *h;

    if (p == NULL) {
        return;
    }

    h = (ngx_http_scim_json_hdr_t *) ((u_char *) p - NGX_HTTP_SCIM_JSON_HDR);

    switch (h->tag) {

    case NGX_HTTP_SCIM_JSON_MALLOC:
        h->tag = 0;
        free(h);
        return;

    case NGX_HTTP_SCIM_JSON_SMALL:
        /* the pool frees it with the request */
        return;

    case NGX_HTTP_SCIM_JSON_LARGE:
        h->tag = 0;
        (void) ngx_pfree(h->pool, h);
        return;

    default:
        /* made before our allocator was installed */
        free(p);
        return;
    }
}
