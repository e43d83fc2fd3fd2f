
/*
 * ngx_http_scim_module: jansson's memory.  jansson has one allocator for
 * the process (json_set_alloc_funcs); ours gives the blocks of a write
 * request's own work (its body, the normalized and stored document, the
 * answer) from the request's pool while the request's arena is
 * "current", and malloc() blocks otherwise.  The arena cuts blocks from
 * chunks that the pool owns (8K, then larger), so that a block costs a
 * pointer bump instead of ngx_palloc()'s walk of the pool's small blocks.
 *
 * A 16-byte header in front of every block tells which it is: an arena
 * block's free does nothing (the pool goes with the request), a block
 * too large for a chunk is the pool's own large block and goes back at
 * once (ngx_pfree), a malloc() block's free is free().
 *
 * The current arena is per thread (a thread of a thread pool never sees
 * a request's pool) and is set only around a write request's steps (the
 * handler, the body, a store reply, a retry, a hashed password), each
 * setting it and putting the previous one back before it returns to the
 * event loop: ngx_http_scim_json_pool() returns what it replaced.  Nothing
 * that outlives the request (the schema registry, configuration, caches)
 * is made while an arena is current: they are made at configuration time
 * or outside of a write's steps; reads and scans, which may parse many
 * stored documents in one request, and Bulk never have one (see
 * ngx_http_scim_json_pool_for()).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_JSON_HDR        16
#define NGX_HTTP_SCIM_JSON_CHUNK      8192
#define NGX_HTTP_SCIM_JSON_CHUNK_MAX  65536

/* what a header says: a malloc() block, an arena's, a pool's large one */
#define NGX_HTTP_SCIM_JSON_MALLOC     0x6d616c6c6f63736dULL
#define NGX_HTTP_SCIM_JSON_SMALL      0x706f6f6c736d616cULL
#define NGX_HTTP_SCIM_JSON_LARGE      0x706f6f6c6c617267ULL


typedef struct {
    ngx_pool_t                 *pool;          /* a large block's */
    uint64_t                    tag;
} ngx_http_scim_json_hdr_t;


static void *ngx_http_scim_json_malloc(size_t size);
static void *ngx_http_scim_json_large(ngx_http_scim_json_arena_t *a,
    size_t n);
static void ngx_http_scim_json_free(void *p);


static __thread ngx_http_scim_json_arena_t  *ngx_http_scim_json_current;

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


ngx_http_scim_json_arena_t *
ngx_http_scim_json_pool(ngx_http_scim_json_arena_t *a)
{
    ngx_http_scim_json_arena_t  *prev;

    prev = ngx_http_scim_json_current;
    ngx_http_scim_json_current = a;

    return prev;
}


/*
 * On entry from the event loop (a handler, a timer, a posted event) no
 * arena may be current: one left over would be a request's that may be
 * gone.  Said loudly (the tests fail on an alert) and put right.
 */

void
ngx_http_scim_json_pool_check(ngx_log_t *log)
{
    if (ngx_http_scim_json_current == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "scim: a request's pool was left current for jansson");

    ngx_http_scim_json_current = NULL;
}


/*
 * A write request's work allocates from its pool: POST to a collection,
 * PUT, PATCH and DELETE of one user or group (its memory is bounded by
 * its body and one stored document).  Everything else, and a Bulk's
 * operations, use malloc(): a list, a filter or a scan parses many
 * stored documents, freed as it goes.
 */

ngx_http_scim_json_arena_t *
ngx_http_scim_json_pool_for(ngx_http_scim_ctx_t *ctx)
{
    ngx_uint_t  write;

    if (ctx->search || ctx->done != NULL
        || (ctx->resource != NGX_HTTP_SCIM_R_USERS
            && ctx->resource != NGX_HTTP_SCIM_R_GROUPS))
    {
        return NULL;
    }

    if (ctx->id.len == 0) {
        write = (ctx->method == NGX_HTTP_POST);

    } else {
        write = (ctx->method
                 & (NGX_HTTP_PUT|NGX_HTTP_PATCH|NGX_HTTP_DELETE)) != 0;
    }

    if (!write) {
        return NULL;
    }

    ngx_memzero(&ctx->json_arena, sizeof(ngx_http_scim_json_arena_t));
    ctx->json_arena.pool = ctx->request->pool;
    ctx->json_arena.next = NGX_HTTP_SCIM_JSON_CHUNK;

    return &ctx->json_arena;
}


static void *
ngx_http_scim_json_malloc(size_t size)
{
    u_char                      *p;
    size_t                       n;
    ngx_http_scim_json_hdr_t    *h;
    ngx_http_scim_json_arena_t  *a;

    if (size > (size_t) NGX_MAX_SIZE_T_VALUE / 2) {
        return NULL;
    }

    a = ngx_http_scim_json_current;

    if (a == NULL) {
        h = malloc(size + NGX_HTTP_SCIM_JSON_HDR);
        if (h == NULL) {
            return NULL;
        }

        h->pool = NULL;
        h->tag = NGX_HTTP_SCIM_JSON_MALLOC;

        return (u_char *) h + NGX_HTTP_SCIM_JSON_HDR;
    }

    n = ngx_align(size, 16) + NGX_HTTP_SCIM_JSON_HDR;

    if ((size_t) (a->end - a->pos) < n) {

        if (n > NGX_HTTP_SCIM_JSON_CHUNK / 4) {
            return ngx_http_scim_json_large(a, n);
        }

        /* a new chunk (the rest of the last one is left) */

        p = ngx_palloc(a->pool, a->next);
        if (p == NULL) {
            return NULL;
        }

        a->pos = ngx_align_ptr(p, 16);
        a->end = p + a->next;

        if (a->next < NGX_HTTP_SCIM_JSON_CHUNK_MAX) {
            a->next *= 2;
        }
    }

    h = (ngx_http_scim_json_hdr_t *) a->pos;
    a->pos += n;

    h->pool = NULL;
    h->tag = NGX_HTTP_SCIM_JSON_SMALL;

    return (u_char *) h + NGX_HTTP_SCIM_JSON_HDR;
}


/* one of the pool's large blocks (malloc()'s: 16-byte aligned) */

static void *
ngx_http_scim_json_large(ngx_http_scim_json_arena_t *a, size_t n)
{
    ngx_http_scim_json_hdr_t  *h;

    h = ngx_palloc(a->pool, ngx_max(n, a->pool->max + 1));
    if (h == NULL) {
        return NULL;
    }

    h->pool = a->pool;
    h->tag = NGX_HTTP_SCIM_JSON_LARGE;

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
        /* the pool frees its chunk with the request */
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
