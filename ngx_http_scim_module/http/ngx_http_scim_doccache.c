
/*
 * ngx_http_scim_module: a worker's cache of known stored documents
 * (scim_doc_cache), so that a PATCH or PUT usually skips the read.
 *
 * An entry is the exact text a resource is stored as (its version tail
 * included), as this worker last read or wrote it, keyed by the store,
 * the tenant, the resource type and the id.  It is only a guess: a PATCH
 * or PUT that uses it sends the SHA1 of the text to replace.lua, which
 * writes only if the stored text is that one, and otherwise answers the
 * current document, which the write then goes on from as if it had read
 * it.  So an entry that another worker, another nginx or a restored
 * backup made stale costs what the read would have cost, never a lost
 * update; nothing needs to invalidate entries for correctness.
 *
 * At most scim_doc_cache entries a worker (texts up to
 * NGX_HTTP_SCIM_DOCCACHE_MAX bytes), in malloc'd memory (never a
 * request's pool), freed at worker exit; a hash of chains and an LRU
 * list: a full cache gives its least recently used entry to a new one.
 *
 * The workers of one nginx share a table of write generations, a
 * counter a slot of the key's hash (shared memory, the zone
 * "scim_doc_cache"): a worker's write bumps its slot, and an entry made
 * at another generation is not used.  So a resource that another worker
 * wrote meanwhile is read, not changed in C from a text that the script
 * would refuse and then changed again (the SHA1 still decides; the table
 * only spares that work).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_DOCCACHE_DEFAULT  1024
#define NGX_HTTP_SCIM_DOCCACHE_MAX      16384
#define NGX_HTTP_SCIM_DOCCACHE_SLOTS    16384   /* generations */


typedef struct ngx_http_scim_doc_s  ngx_http_scim_doc_t;

struct ngx_http_scim_doc_s {
    ngx_http_scim_doc_t        *next;          /* in its bucket */
    ngx_queue_t                 lru;
    ngx_scim_store_t           *store;
    uint32_t                    hash;
    ngx_atomic_uint_t           gen;           /* its slot's, when made */
    ngx_uint_t                  type;          /* ngx_http_scim_resource_e */
    u_char                     *data;          /* tenant, id, text */
    size_t                      size;          /* of data */
    size_t                      tenant_len;
    size_t                      id_len;
    size_t                      text_len;
};


typedef struct {
    ngx_http_scim_doc_t       **buckets;
    ngx_uint_t                  mask;          /* buckets - 1 */
    ngx_http_scim_doc_t        *entries;
    ngx_uint_t                  n;
    ngx_uint_t                  used;
    ngx_queue_t                 lru;           /* the most recent first */
} ngx_http_scim_doccache_t;


static uint32_t ngx_http_scim_doccache_hash(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *id);
static ngx_http_scim_doc_t *ngx_http_scim_doccache_find(
    ngx_http_scim_ctx_t *ctx, ngx_str_t *id, uint32_t *hash);
static void ngx_http_scim_doccache_unlink(ngx_http_scim_doc_t *e);
static ngx_int_t ngx_http_scim_doccache_id(ngx_str_t *text, ngx_str_t *id);
static ngx_int_t ngx_http_scim_doccache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


static ngx_http_scim_doccache_t  *ngx_http_scim_doccache;
static ngx_atomic_t              *ngx_http_scim_doccache_gens;

#define ngx_http_scim_doccache_gen(hash)                                      \
    ngx_http_scim_doccache_gens[(hash) & (NGX_HTTP_SCIM_DOCCACHE_SLOTS - 1)]


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

    if (n <= 0 || n > 1048576) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"scim_doc_cache\" takes a number of entries, "
                           "1 to 1048576, or \"off\", not \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    smcf->doc_cache = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


/* the generations' zone, with the first store (the cache is on) */

ngx_int_t
ngx_http_scim_doccache_zone(ngx_conf_t *cf, ngx_http_scim_main_conf_t *smcf)
{
    size_t     size;
    ngx_str_t  name = ngx_string("scim_doc_cache");

    if (smcf->doc_cache == 0 || smcf->doc_zone != NULL) {
        return NGX_OK;
    }

    /* the table and the slab pool's own pages */

    size = NGX_HTTP_SCIM_DOCCACHE_SLOTS * sizeof(ngx_atomic_t);
    size = 2 * size + 8 * ngx_pagesize;

    smcf->doc_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_scim_module);
    if (smcf->doc_zone == NULL) {
        return NGX_ERROR;
    }

    smcf->doc_zone->init = ngx_http_scim_doccache_init_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_doccache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        shm_zone->data = data;          /* a reload: the same table */
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    shpool->data = ngx_slab_calloc(shpool, NGX_HTTP_SCIM_DOCCACHE_SLOTS
                                           * sizeof(ngx_atomic_t));
    if (shpool->data == NULL) {
        return NGX_ERROR;
    }

    shm_zone->data = shpool->data;

    return NGX_OK;
}


/* at worker start: the entries and the buckets (a power of two) */

ngx_int_t
ngx_http_scim_doccache_init(ngx_cycle_t *cycle,
    ngx_http_scim_main_conf_t *smcf)
{
    ngx_uint_t                 n, nb;
    ngx_http_scim_doccache_t  *c;

    n = smcf->doc_cache;

    if (n == NGX_CONF_UNSET_UINT) {
        n = NGX_HTTP_SCIM_DOCCACHE_DEFAULT;
    }

    if (n == 0 || smcf->doc_zone == NULL || smcf->doc_zone->data == NULL) {
        return NGX_OK;
    }

    ngx_http_scim_doccache_gens = smcf->doc_zone->data;

    for (nb = 1; nb < n; nb <<= 1) { /* void */ }

    c = ngx_calloc(sizeof(ngx_http_scim_doccache_t), cycle->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->buckets = ngx_calloc(nb * sizeof(ngx_http_scim_doc_t *), cycle->log);
    c->entries = ngx_calloc(n * sizeof(ngx_http_scim_doc_t), cycle->log);

    if (c->buckets == NULL || c->entries == NULL) {
        ngx_free(c->buckets);
        ngx_free(c->entries);
        ngx_free(c);
        return NGX_ERROR;
    }

    c->mask = nb - 1;
    c->n = n;
    ngx_queue_init(&c->lru);

    ngx_http_scim_doccache = c;

    return NGX_OK;
}


void
ngx_http_scim_doccache_exit(void)
{
    ngx_uint_t                 i;
    ngx_http_scim_doccache_t  *c;

    c = ngx_http_scim_doccache;

    if (c == NULL) {
        return;
    }

    ngx_http_scim_doccache = NULL;

    for (i = 0; i < c->used; i++) {
        ngx_free(c->entries[i].data);
    }

    ngx_free(c->entries);
    ngx_free(c->buckets);
    ngx_free(c);
}


static uint32_t
ngx_http_scim_doccache_hash(ngx_http_scim_ctx_t *ctx, ngx_str_t *id)
{
    return ngx_murmur_hash2(id->data, id->len)
           ^ (ngx_murmur_hash2(ctx->tenant.data, ctx->tenant.len) * 31)
           ^ (uint32_t) ctx->resource;
}


/* the entry of (ctx's store, tenant and type, id), or NULL */

static ngx_http_scim_doc_t *
ngx_http_scim_doccache_find(ngx_http_scim_ctx_t *ctx, ngx_str_t *id,
    uint32_t *hash)
{
    uint32_t              h;
    ngx_http_scim_doc_t  *e;

    h = ngx_http_scim_doccache_hash(ctx, id);

    *hash = h;

    for (e = ngx_http_scim_doccache->buckets[h & ngx_http_scim_doccache->mask];
         e;
         e = e->next)
    {
        if (e->hash == h && e->store == ctx->slcf->redis
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


/* out of its bucket and of the LRU list */

static void
ngx_http_scim_doccache_unlink(ngx_http_scim_doc_t *e)
{
    ngx_http_scim_doc_t  **pe;

    pe = &ngx_http_scim_doccache->buckets[e->hash
                                          & ngx_http_scim_doccache->mask];

    while (*pe != e) {
        pe = &(*pe)->next;
    }

    *pe = e->next;
    e->next = NULL;

    ngx_queue_remove(&e->lru);
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
    size_t                     size, need;
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

    e = ngx_http_scim_doccache_find(ctx, id, &hash);

    if (text->len > NGX_HTTP_SCIM_DOCCACHE_MAX) {
        if (e) {
            ngx_http_scim_doccache_unlink(e);
            ngx_queue_insert_tail(&c->lru, &e->lru);
            e->text_len = 0;
            e->id_len = 0;
            e->store = NULL;
        }

        return;
    }

    if (e == NULL) {
        if (c->used < c->n) {
            e = &c->entries[c->used++];

        } else {
            e = ngx_queue_data(ngx_queue_last(&c->lru), ngx_http_scim_doc_t,
                               lru);

            if (e->store != NULL) {
                ngx_http_scim_doccache_unlink(e);

            } else {
                ngx_queue_remove(&e->lru);   /* dropped: in no bucket */
            }
        }

        e->store = ctx->slcf->redis;
        e->hash = hash;
        e->type = (ngx_uint_t) ctx->resource;
        e->tenant_len = ctx->tenant.len;
        e->id_len = id->len;

        e->next = c->buckets[hash & c->mask];
        c->buckets[hash & c->mask] = e;

    } else {
        ngx_queue_remove(&e->lru);
    }

    ngx_queue_insert_head(&c->lru, &e->lru);

    e->gen = ngx_http_scim_doccache_gen(hash);

    need = e->tenant_len + e->id_len + text->len;

    if (need > e->size) {
        /*
         * a power of two: a text that grows by a few bytes, or a new
         * entry in a reused one, rarely needs another buffer (a malloc()
         * of this size consolidates glibc's fast bins: every request's
         * allocations paid for it)
         */

        for (size = 512; size < need; size <<= 1) { /* void */ }

        p = ngx_alloc(size, ngx_cycle->log);
        if (p == NULL) {
            ngx_http_scim_doccache_unlink(e);
            ngx_queue_insert_tail(&c->lru, &e->lru);
            e->store = NULL;
            return;
        }

        ngx_free(e->data);
        e->data = p;
        e->size = size;
    }

    p = ngx_cpymem(e->data, ctx->tenant.data, ctx->tenant.len);
    p = ngx_cpymem(p, id->data, id->len);
    ngx_memcpy(p, text->data, text->len);

    e->text_len = text->len;
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
    uint32_t              hash;
    ngx_http_scim_doc_t  *e;

    if (ngx_http_scim_doccache == NULL) {
        return NGX_DECLINED;
    }

    e = ngx_http_scim_doccache_find(ctx, &ctx->id, &hash);
    if (e == NULL) {
        return NGX_DECLINED;
    }

    if (e->gen != ngx_http_scim_doccache_gen(hash)) {
        /* another worker wrote it since */
        ngx_http_scim_doccache_drop(ctx);
        return NGX_DECLINED;
    }

    text->data = ngx_pnalloc(ctx->request->pool, e->text_len);
    if (text->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(text->data, e->data + e->tenant_len + e->id_len,
               e->text_len);
    text->len = e->text_len;

    ngx_queue_remove(&e->lru);
    ngx_queue_insert_head(&ngx_http_scim_doccache->lru, &e->lru);

    return NGX_OK;
}


/* ctx->id's entry goes (its text is not what is stored, or is gone) */

void
ngx_http_scim_doccache_drop(ngx_http_scim_ctx_t *ctx)
{
    uint32_t              hash;
    ngx_http_scim_doc_t  *e;

    if (ngx_http_scim_doccache == NULL) {
        return;
    }

    e = ngx_http_scim_doccache_find(ctx, &ctx->id, &hash);
    if (e == NULL) {
        return;
    }

    /* the least recent: the next to be given to a new entry */

    ngx_http_scim_doccache_unlink(e);
    ngx_queue_insert_tail(&ngx_http_scim_doccache->lru, &e->lru);
    e->store = NULL;
}


/*
 * ctx->id was written by this worker: a new generation, which the
 * entries of the other workers do not have
 */

void
ngx_http_scim_doccache_written(ngx_http_scim_ctx_t *ctx)
{
    if (ngx_http_scim_doccache == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(
               &ngx_http_scim_doccache_gen(
                   ngx_http_scim_doccache_hash(ctx, &ctx->id)),
               1);
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
