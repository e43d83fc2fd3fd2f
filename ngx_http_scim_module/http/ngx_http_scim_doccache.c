
/*
 * ngx_http_scim_module: the cache of known stored documents
 * (scim_doc_cache) that the workers of one nginx share, so that a PATCH
 * or PUT usually skips the read.
 *
 * An entry is the exact text a resource is stored as (its version tail
 * included), as a worker last read or wrote it, keyed by the store, the
 * tenant, the resource type and the id.  It is only a guess: a PATCH or
 * PUT that uses it sends the SHA1 of the text to replace.lua, which
 * writes only if the stored text is that one, and otherwise answers the
 * current document, which the write then goes on from as if it had read
 * it.  So an entry that another nginx, a restored backup or a late reply
 * made stale costs what the read would have cost, never a lost update;
 * nothing needs to invalidate entries for correctness.  A write puts its
 * new text, so a PATCH on any worker after a read or a write on any
 * other is one call (Entra reads a user by its userName, then PATCHes
 * it, on connections that nginx may give to different workers).
 *
 * The entries live in the shared zone "scim_doc_cache": at most
 * scim_doc_cache of them (texts up to NGX_HTTP_SCIM_DOCCACHE_MAX bytes),
 * each one slab block, in a hash of chains and an LRU list, under the
 * zone's mutex; a full zone gives its least recently used entries to a
 * new one.  The store of an entry is its address in the configuration
 * that made the entry: a reload keeps the zone (the same size) and
 * starts a new epoch, and the entries of an older epoch, whose stores
 * are gone, are never used (they age out of the LRU list).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_DOCCACHE_DEFAULT  1024
#define NGX_HTTP_SCIM_DOCCACHE_LIMIT    262144
#define NGX_HTTP_SCIM_DOCCACHE_MAX      16384
#define NGX_HTTP_SCIM_DOCCACHE_SLOT     2048    /* a typical entry's block */
#define NGX_HTTP_SCIM_DOCCACHE_EVICT    16      /* at most, for one entry */


typedef struct ngx_http_scim_doc_s  ngx_http_scim_doc_t;

struct ngx_http_scim_doc_s {
    ngx_http_scim_doc_t        *next;          /* in its bucket */
    ngx_queue_t                 lru;
    void                       *store;         /* of its epoch's cycle */
    ngx_uint_t                  epoch;
    uint32_t                    hash;
    ngx_uint_t                  type;          /* ngx_http_scim_resource_e */
    size_t                      size;          /* of the block */
    size_t                      tenant_len;
    size_t                      id_len;
    size_t                      text_len;
    u_char                      data[1];       /* tenant, id, text */
};


typedef struct {
    ngx_queue_t                 lru;           /* the most recent first */
    ngx_uint_t                  used;
    ngx_uint_t                  max;
    ngx_atomic_t                epoch;         /* of the newest cycle */
    ngx_uint_t                  mask;          /* buckets - 1 */
    ngx_http_scim_doc_t        *buckets[1];
} ngx_http_scim_doccache_t;


static ngx_int_t ngx_http_scim_doccache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static uint32_t ngx_http_scim_doccache_hash(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *id);
static ngx_http_scim_doc_t *ngx_http_scim_doccache_find(
    ngx_http_scim_ctx_t *ctx, ngx_str_t *id, uint32_t hash);
static void ngx_http_scim_doccache_free(ngx_http_scim_doc_t *e);
static ngx_http_scim_doc_t *ngx_http_scim_doccache_alloc(size_t need);
static ngx_int_t ngx_http_scim_doccache_id(ngx_str_t *text, ngx_str_t *id);


/* this worker's: the zone's table and slab pool, its cycle's epoch */

static ngx_http_scim_doccache_t  *ngx_http_scim_doccache;
static ngx_slab_pool_t           *ngx_http_scim_doccache_pool;
static ngx_uint_t                 ngx_http_scim_doccache_epoch;


/* scim_doc_cache <entries> | off */

char *
ngx_http_scim_doc_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_main_conf_t *smcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (smcf->doc_cache != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        smcf->doc_cache = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n <= 0 || n > NGX_HTTP_SCIM_DOCCACHE_LIMIT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"scim_doc_cache\" takes a number of entries, "
                           "1 to %d, or \"off\", not \"%V\"",
                           NGX_HTTP_SCIM_DOCCACHE_LIMIT, &value[1]);
        return NGX_CONF_ERROR;
    }

    smcf->doc_cache = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


/*
 * the zone, with the first store (the cache is on): a typical entry's
 * block an entry, the buckets, and the slab pool's own pages
 */

ngx_int_t
ngx_http_scim_doccache_zone(ngx_conf_t *cf, ngx_http_scim_main_conf_t *smcf)
{
    size_t      size;
    ngx_uint_t  n, nb;
    ngx_str_t   name = ngx_string("scim_doc_cache");

    if (smcf->doc_cache == NGX_CONF_UNSET_UINT) {
        smcf->doc_cache = NGX_HTTP_SCIM_DOCCACHE_DEFAULT;
    }

    n = smcf->doc_cache;

    if (n == 0 || smcf->doc_zone != NULL) {
        return NGX_OK;
    }

    for (nb = 1; nb < n; nb <<= 1) { /* void */ }

    size = n * NGX_HTTP_SCIM_DOCCACHE_SLOT
           + sizeof(ngx_http_scim_doccache_t)
           + nb * sizeof(ngx_http_scim_doc_t *)
           + 2 * NGX_HTTP_SCIM_DOCCACHE_MAX + 16 * ngx_pagesize;

    smcf->doc_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_scim_module);
    if (smcf->doc_zone == NULL) {
        return NGX_ERROR;
    }

    if (smcf->doc_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"scim_doc_cache\" is "
                           "already used");
        return NGX_ERROR;
    }

    smcf->doc_zone->init = ngx_http_scim_doccache_init_zone;
    smcf->doc_zone->data = smcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_doccache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_uint_t                  nb;
    ngx_slab_pool_t            *shpool;
    ngx_http_scim_doccache_t   *c;
    ngx_http_scim_main_conf_t  *smcf;

    smcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data) {
        /*
         * a reload, with the zone of the same size: the same entries, in
         * a new epoch (the old workers still use theirs meanwhile); no
         * lock in the master, which must not wait on a worker
         */

        c = data;

        (void) ngx_atomic_fetch_add(&c->epoch, 1);

        shm_zone->data = c;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    for (nb = 1; nb < smcf->doc_cache; nb <<= 1) { /* void */ }

    c = ngx_slab_calloc(shpool, sizeof(ngx_http_scim_doccache_t)
                                + (nb - 1) * sizeof(ngx_http_scim_doc_t *));
    if (c == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&c->lru);
    c->max = smcf->doc_cache;
    c->mask = nb - 1;
    c->epoch = 1;

    /* a full zone is the normal state: entries make room, no [crit] */
    shpool->log_nomem = 0;

    shpool->data = c;
    shm_zone->data = c;

    return NGX_OK;
}


/* at worker start */

ngx_int_t
ngx_http_scim_doccache_init(ngx_cycle_t *cycle,
    ngx_http_scim_main_conf_t *smcf)
{
    ngx_slab_pool_t           *shpool;
    ngx_http_scim_doccache_t  *c;

    if (smcf->doc_cache == 0 || smcf->doc_zone == NULL
        || smcf->doc_zone->data == NULL)
    {
        return NGX_OK;
    }

    c = smcf->doc_zone->data;
    shpool = (ngx_slab_pool_t *) smcf->doc_zone->shm.addr;

    ngx_http_scim_doccache_epoch = (ngx_uint_t) c->epoch;

    ngx_http_scim_doccache_pool = shpool;
    ngx_http_scim_doccache = c;

    return NGX_OK;
}


void
ngx_http_scim_doccache_exit(void)
{
    ngx_http_scim_doccache = NULL;
    ngx_http_scim_doccache_pool = NULL;
}


static uint32_t
ngx_http_scim_doccache_hash(ngx_http_scim_ctx_t *ctx, ngx_str_t *id)
{
    return ngx_murmur_hash2(id->data, id->len)
           ^ (ngx_murmur_hash2(ctx->tenant.data, ctx->tenant.len) * 31)
           ^ (uint32_t) ctx->resource;
}


/* the entry of (ctx's store, tenant and type, id), or NULL; locked */

static ngx_http_scim_doc_t *
ngx_http_scim_doccache_find(ngx_http_scim_ctx_t *ctx, ngx_str_t *id,
    uint32_t hash)
{
    ngx_http_scim_doc_t  *e;

    for (e = ngx_http_scim_doccache->buckets[hash
                                             & ngx_http_scim_doccache->mask];
         e;
         e = e->next)
    {
        if (e->hash == hash && e->store == ctx->slcf->redis
            && e->epoch == ngx_http_scim_doccache_epoch
            && e->type == (ngx_uint_t) ctx->resource
            && e->id_len == id->len && e->tenant_len == ctx->tenant.len
            && ngx_memcmp(e->data + e->tenant_len, id->data, id->len) == 0
            && ngx_memcmp(e->data, ctx->tenant.data, ctx->tenant.len) == 0)
        {
            return e;
        }
    }

    return NULL;
}


/* out of its bucket and the LRU list, and freed; locked */

static void
ngx_http_scim_doccache_free(ngx_http_scim_doc_t *e)
{
    ngx_http_scim_doc_t       **pe;
    ngx_http_scim_doccache_t   *c;

    c = ngx_http_scim_doccache;

    for (pe = &c->buckets[e->hash & c->mask]; *pe != e; pe = &(*pe)->next) {
        /* void */
    }

    *pe = e->next;

    ngx_queue_remove(&e->lru);
    c->used--;

    ngx_slab_free_locked(ngx_http_scim_doccache_pool, e);
}


/*
 * a block of need bytes for a new entry, the least recently used ones
 * making room (at most a few: a long text that finds no run of free
 * pages is not cached, rather than emptying the cache); locked
 */

static ngx_http_scim_doc_t *
ngx_http_scim_doccache_alloc(size_t need)
{
    ngx_uint_t                 i;
    ngx_queue_t               *q;
    ngx_http_scim_doc_t       *e;
    ngx_http_scim_doccache_t  *c;

    c = ngx_http_scim_doccache;

    for (i = 0; /* void */; i++) {
        if (c->used < c->max) {
            e = ngx_slab_alloc_locked(ngx_http_scim_doccache_pool, need);
            if (e != NULL) {
                return e;
            }
        }

        if (i == NGX_HTTP_SCIM_DOCCACHE_EVICT || ngx_queue_empty(&c->lru)) {
            return NULL;
        }

        q = ngx_queue_last(&c->lru);
        ngx_http_scim_doccache_free(ngx_queue_data(q, ngx_http_scim_doc_t,
                                                   lru));
    }
}


/*
 * text is what resource id of ctx's tenant is stored as now (id NULL:
 * the id the text holds); a text too long for an entry drops the one
 * there may be
 */

void
ngx_http_scim_doccache_put(ngx_http_scim_ctx_t *ctx, ngx_str_t *id,
    ngx_str_t *text)
{
    u_char                    *p;
    size_t                     need, size;
    uint32_t                   hash;
    ngx_str_t                  own;
    ngx_http_scim_doc_t       *e;
    ngx_http_scim_doccache_t  *c;

    c = ngx_http_scim_doccache;

    if (c == NULL || text->data == NULL
        || (ctx->resource != NGX_HTTP_SCIM_R_USERS
            && ctx->resource != NGX_HTTP_SCIM_R_GROUPS))
    {
        return;
    }

    if (id == NULL) {
        if (ngx_http_scim_doccache_id(text, &own) != NGX_OK) {
            return;
        }

        id = &own;
    }

    hash = ngx_http_scim_doccache_hash(ctx, id);

    need = offsetof(ngx_http_scim_doc_t, data) + ctx->tenant.len + id->len
           + text->len;

    /* the size the slab allocator gives anyway: room to grow in place */

    if (need <= ngx_pagesize / 2) {
        for (size = 64; size < need; size <<= 1) { /* void */ }

    } else {
        size = ngx_align(need, ngx_pagesize);
    }

    ngx_shmtx_lock(&ngx_http_scim_doccache_pool->mutex);

    e = ngx_http_scim_doccache_find(ctx, id, hash);

    if (e != NULL && (text->len > NGX_HTTP_SCIM_DOCCACHE_MAX
                      || e->size < need))
    {
        ngx_http_scim_doccache_free(e);
        e = NULL;
    }

    if (text->len > NGX_HTTP_SCIM_DOCCACHE_MAX) {
        ngx_shmtx_unlock(&ngx_http_scim_doccache_pool->mutex);
        return;
    }

    if (e == NULL) {
        e = ngx_http_scim_doccache_alloc(size);
        if (e == NULL) {
            ngx_shmtx_unlock(&ngx_http_scim_doccache_pool->mutex);
            return;
        }

        e->store = ctx->slcf->redis;
        e->epoch = ngx_http_scim_doccache_epoch;
        e->hash = hash;
        e->type = (ngx_uint_t) ctx->resource;
        e->size = size;
        e->tenant_len = ctx->tenant.len;
        e->id_len = id->len;

        p = ngx_cpymem(e->data, ctx->tenant.data, ctx->tenant.len);
        ngx_memcpy(p, id->data, id->len);

        e->next = c->buckets[hash & c->mask];
        c->buckets[hash & c->mask] = e;
        c->used++;

    } else {
        ngx_queue_remove(&e->lru);
    }

    ngx_queue_insert_head(&c->lru, &e->lru);

    ngx_memcpy(e->data + e->tenant_len + e->id_len, text->data, text->len);
    e->text_len = text->len;

    ngx_shmtx_unlock(&ngx_http_scim_doccache_pool->mutex);
}


/* the text stored as prefix with version (a create's, a write's) */

void
ngx_http_scim_doccache_put_head(ngx_http_scim_ctx_t *ctx, ngx_str_t *head,
    ngx_int_t version)
{
    ngx_str_t  text;

    if (ngx_http_scim_doccache == NULL) {
        return;
    }

    if (version < 0
        || ngx_scim_store_text(ctx->request->pool, head, version, &text)
           != NGX_OK)
    {
        ngx_http_scim_doccache_drop(ctx);
        return;
    }

    ngx_http_scim_doccache_put(ctx, &ctx->id, &text);
}


/*
 * ctx->id's entry: its text copied into the request's pool (the entry
 * may change while the request waits), and made the most recent
 */

ngx_int_t
ngx_http_scim_doccache_get(ngx_http_scim_ctx_t *ctx, ngx_str_t *text)
{
    ngx_int_t             rc;
    ngx_http_scim_doc_t  *e;

    if (ngx_http_scim_doccache == NULL) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&ngx_http_scim_doccache_pool->mutex);

    e = ngx_http_scim_doccache_find(ctx, &ctx->id,
                                    ngx_http_scim_doccache_hash(ctx,
                                                                &ctx->id));

    if (e != NULL) {
        text->data = ngx_pnalloc(ctx->request->pool, e->text_len);

        if (text->data == NULL) {
            rc = NGX_ERROR;

        } else {
            ngx_memcpy(text->data, e->data + e->tenant_len + e->id_len,
                       e->text_len);
            text->len = e->text_len;

            ngx_queue_remove(&e->lru);
            ngx_queue_insert_head(&ngx_http_scim_doccache->lru, &e->lru);

            rc = NGX_OK;
        }
    }

    ngx_shmtx_unlock(&ngx_http_scim_doccache_pool->mutex);

    return rc;
}


/* ctx->id's entry goes (its text is not what is stored, or is gone) */

void
ngx_http_scim_doccache_drop(ngx_http_scim_ctx_t *ctx)
{
    ngx_http_scim_doc_t  *e;

    if (ngx_http_scim_doccache == NULL) {
        return;
    }

    ngx_shmtx_lock(&ngx_http_scim_doccache_pool->mutex);

    e = ngx_http_scim_doccache_find(ctx, &ctx->id,
                                    ngx_http_scim_doccache_hash(ctx,
                                                                &ctx->id));
    if (e != NULL) {
        ngx_http_scim_doccache_free(e);
    }

    ngx_shmtx_unlock(&ngx_http_scim_doccache_pool->mutex);
}


/* the SHA1 of text, as 40 lower-case hex digits (redis.sha1hex) */

ngx_int_t
ngx_http_scim_doccache_sha1(ngx_http_scim_ctx_t *ctx, ngx_str_t *text,
    ngx_str_t *hex)
{
    u_char  md[SHA_DIGEST_LENGTH];

    hex->data = ngx_pnalloc(ctx->request->pool, 2 * SHA_DIGEST_LENGTH);
    if (hex->data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_scim_sha1(text->data, text->len, md);

    hex->len = ngx_hex_dump(hex->data, md, SHA_DIGEST_LENGTH) - hex->data;

    return NGX_OK;
}


/*
 * The id of a stored text: the stored form is {"schemas":[...],"id":"..."
 * (ngx_http_scim_assemble()), and '"id":"' cannot occur inside a string
 * (its quotes would be escaped), nor before the id (schemas holds
 * strings only)
 */

static ngx_int_t
ngx_http_scim_doccache_id(ngx_str_t *text, ngx_str_t *id)
{
    u_char  *p, *last;

    static const char  key[] = "\"id\":\"";

    last = text->data + ngx_min(text->len, 4096);

    p = ngx_strnstr(text->data, (char *) key, last - text->data);

    if (p == NULL || last - p < (ssize_t) (sizeof(key) - 1 + 36 + 1)) {
        return NGX_ERROR;
    }

    p += sizeof(key) - 1;

    if (p[36] != '"' || !ngx_scim_store_valid_id(p, 36)) {
        return NGX_ERROR;
    }

    id->data = p;
    id->len = 36;

    return NGX_OK;
}
