
/*
 * ngx_http_scim_module: scans of /Users and /Groups: over an index's
 * candidates or the whole collection, in bounded batches; the matches
 * kept as hits (a max-heap for sortBy; a ring for a previousCursor's
 * page); the page read and answered.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_resource.h"


/*
 * Scans (see ngx_http_scim_scan_start()): a scan call reads at most
 * SCAN_BATCH ids (SCAN_IDS when the ids are all it needs) and stops
 * after SCAN_BYTES of document text; the page is read FETCH_BATCH
 * documents a call.
 */
#define NGX_HTTP_SCIM_SCAN_BATCH    500
#define NGX_HTTP_SCIM_SCAN_IDS      5000
#define NGX_HTTP_SCIM_SCAN_BYTES    65536
#define NGX_HTTP_SCIM_FETCH_BATCH   50
#define NGX_HTTP_SCIM_SCAN_POOL     4096
#define NGX_HTTP_SCIM_SCAN_SKIP_MAX 0x7fffffff


/* a match that may be on the page: its sort key and id */
typedef struct {
    scim_sort_key_t              key;          /* sortBy only */
    ngx_uint_t                   seq;          /* the order of the match */
    uint64_t                     score;        /* its creation score
                                                  (cursor pages) */
    u_char                      *long_id;      /* NULL: in id */
    size_t                       len;
    u_char                       id[36];
    unsigned                     group:1;
} ngx_http_scim_hit_t;


typedef struct {
    ngx_http_scim_ctx_t         *ctx;
    ngx_pool_t                  *batch;        /* the pending call's
                                                  arguments */

    /* an index's candidates; none: the ids in creation order */
    ngx_str_t                   *cand;
    ngx_uint_t                   ncand;
    ngx_pool_t                  *cand_pool;

    ngx_http_scim_hit_t         *hits;         /* sortBy: a max-heap */
    ngx_uint_t                   nhits;
    ngx_uint_t                   nalloc;
    ngx_uint_t                   keep;         /* hits kept at most */
    ngx_uint_t                   skip;         /* startIndex - 1 */
    ngx_uint_t                   matched;      /* totalResults */
    uint64_t                     after;        /* cursor: the position */
    ngx_uint_t                   more;         /* cursor: matches after
                                                  the page */
    ngx_uint_t                   before;       /* cursor: matches before
                                                  the page */
    ngx_uint_t                   ring;         /* back: the oldest hit */
    scim_sort_spec_t             spec;

    /* root .search: the users' own, for their page documents */
    scim_filter_t               *user_filter;
    scim_projection_t           *user_projection;

    /* the page: hits[from, to), read from next on, sent at a time */
    ngx_uint_t                   from;
    ngx_uint_t                   to;
    ngx_uint_t                   next;
    ngx_uint_t                   sent;
    json_t                      *resources;

    unsigned                     sorting:1;
    unsigned                     docs:1;       /* the scan reads them */
    unsigned                     members:1;    /* filter/sort reads a
                                                  group's members */
    unsigned                     from_list:1;  /* the candidates */
    unsigned                     scored:1;     /* cursor pages: keyed on
                                                  the creation score */
    unsigned                     has_after:1;
    unsigned                     back:1;       /* a previousCursor's */
    unsigned                     keyed:1;      /* sorted cursor pages:
                                                  after (key, id) */
} ngx_http_scim_scan_t;


static void ngx_http_scim_scan_cleanup(void *data);
static ngx_int_t ngx_http_scim_scan_batch(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_scan_done(ngx_http_scim_scan_t *scan);
static void ngx_http_scim_list_scan(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static ngx_int_t ngx_http_scim_hit_cmp(ngx_http_scim_scan_t *scan,
    ngx_http_scim_hit_t *a, ngx_http_scim_hit_t *b);
static void ngx_http_scim_heap_down(ngx_http_scim_scan_t *scan,
    ngx_uint_t i, ngx_uint_t n);
static void ngx_http_scim_heap_up(ngx_http_scim_scan_t *scan, ngx_uint_t i);
static ngx_int_t ngx_http_scim_hit_set_id(ngx_http_scim_hit_t *hit,
    u_char *id, size_t len);
static void ngx_http_scim_hit_free(ngx_http_scim_hit_t *hit);
static ngx_int_t ngx_http_scim_scan_hit(ngx_http_scim_ctx_t *ctx, u_char *id,
    size_t len, json_t *doc, uint64_t score);
static ngx_int_t ngx_http_scim_scan_score(ngx_str_t *id, uint64_t *score);
static void ngx_http_scim_hits_reverse(ngx_http_scim_hit_t *hits,
    ngx_uint_t from, ngx_uint_t to);
static ngx_int_t ngx_http_scim_scan_pos(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *pos, uint64_t score);
static ngx_int_t ngx_http_scim_root_next(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_page(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_page_fetch(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_page_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);


/*
 * Scans: a filter no index answers, a sortBy, root .search, and the
 * candidates an index gives (group members, e-mail owners).
 *
 * The ids are walked in batches, one Redis call each, bounded in ids and
 * in document bytes (the scan script); each batch is evaluated in C and
 * its documents are freed before the next call is sent, so a request
 * holds the worker for one batch at a time.  Of the matches only the
 * page's candidates are kept, as (sort key, id) hits: without sortBy the
 * matches startIndex..startIndex+count-1, with sortBy a max-heap of the
 * best startIndex+count-1 (the worst kept on top).  Then the page's
 * documents are read by id (the fetch script) and presented.  Memory is
 * the hits, one batch and the page, whatever the tenant's size.
 */

ngx_int_t
ngx_http_scim_scan_start(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *cands)
{
    u_char                *s;
    size_t                 i;
    ngx_uint_t             skip;
    scim_error_t           err;
    ngx_pool_cleanup_t    *cln;
    ngx_http_scim_scan_t  *scan;
    ngx_http_request_t    *r;

    r = ctx->request;

    scan = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_scan_t));
    if (scan == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_scim_scan_cleanup;
    cln->data = scan;

    scan->ctx = ctx;
    ctx->scan = scan;
    ctx->scanned = 0;
    ctx->total = 0;

    skip = (ngx_uint_t) ctx->start_index - 1;
    if (skip > NGX_HTTP_SCIM_SCAN_SKIP_MAX) {
        skip = NGX_HTTP_SCIM_SCAN_SKIP_MAX;
    }

    scan->skip = skip;
    scan->sorting = ctx->has_sort;

    if (scan->sorting) {
        s = ngx_pnalloc(r->pool, ctx->sort_by.len + 1);
        if (s == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(s, ctx->sort_by.data, ctx->sort_by.len);
        s[ctx->sort_by.len] = '\0';

        /*
         * root .search: one order over users and groups, by the user
         * schema's attribute definitions (displayName, externalId and
         * meta.* are alike in both)
         */

        ngx_memzero(&err, sizeof(scim_error_t));

        if (scim_sort_spec(ctx->root_search
                           ? scim_registry_user(ctx->slcf->registry)
                           : ctx->rt,
                           (char *) s, ctx->descending, &scan->spec, &err)
            != 0)
        {
            ngx_http_scim_fail_err(ctx, &err);
            return NGX_ABORT;
        }

        /* the keys see what the answer shows */
        if (ngx_strlcasestrn(ctx->sort_by.data,
                             ctx->sort_by.data + ctx->sort_by.len,
                             (u_char *) "location", 8 - 1)
            != NULL)
        {
            ctx->filter_location = 1;
        }
    }

    /* with sortBy, the best skip + count; else the count after skip */
    scan->keep = (ngx_uint_t) ctx->count;

    if (scan->sorting && ctx->count > 0) {
        scan->keep += skip;
    }

    /*
     * cursor pages of a walk in creation order (no sortBy, no index):
     * the matches after the creation score of the last page's end (a
     * previousCursor's: the last ones before that of the next page's
     * start), all of them counted for totalResults
     */

    if (ctx->cursor_mode && ctx->cursor_kind == 'c') {
        scan->scored = 1;
        scan->back = ctx->cursor_back;

        if (ctx->cursor_pos.len) {
            scan->after = (uint64_t) ngx_atoof(ctx->cursor_pos.data,
                                               ctx->cursor_pos.len);
            scan->has_after = 1;
        }
    }

    /* sorted cursor pages: the best after the last (sort key, id) */

    if (ctx->cursor_mode && ctx->cursor_kind == 'k') {
        scan->keyed = 1;
        scan->has_after = (ctx->cursor_pos.len != 0);
    }

    /* without a filter and without sortBy, an id is all a match needs */
    scan->docs = (ctx->filter_ast != NULL
                  || (scan->sorting && scan->keep > 0));

    if ((ctx->filter.len
         && ngx_strlcasestrn(ctx->filter.data,
                             ctx->filter.data + ctx->filter.len,
                             (u_char *) "members", 7 - 1) != NULL)
        || (scan->sorting
            && ngx_strlcasestrn(ctx->sort_by.data,
                                ctx->sort_by.data + ctx->sort_by.len,
                                (u_char *) "members", 7 - 1) != NULL))
    {
        scan->members = 1;
    }

    if (cands == NULL) {
        return NGX_OK;
    }

    /* an index's candidates: kept (ids only) until the scan is over */

    scan->from_list = 1;

    if (cands->nids == 0) {
        return NGX_OK;
    }

    scan->cand_pool = ngx_create_pool(NGX_HTTP_SCIM_SCAN_POOL,
                                      r->connection->log);
    if (scan->cand_pool == NULL) {
        return NGX_ERROR;
    }

    scan->cand = ngx_palloc(scan->cand_pool, cands->nids * sizeof(ngx_str_t));
    if (scan->cand == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < cands->nids; i++) {
        if (cands->ids[i].data == NULL || cands->ids[i].len == 0) {
            continue;
        }

        s = ngx_pnalloc(scan->cand_pool, cands->ids[i].len);
        if (s == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(s, cands->ids[i].data, cands->ids[i].len);

        scan->cand[scan->ncand].data = s;
        scan->cand[scan->ncand].len = cands->ids[i].len;
        scan->ncand++;
    }

    return NGX_OK;
}


static void
ngx_http_scim_scan_cleanup(void *data)
{
    ngx_uint_t             i;
    ngx_http_scim_scan_t  *scan;

    scan = data;

    /* the request is gone: its pending call (if any) was cancelled */

    if (scan->batch) {
        ngx_destroy_pool(scan->batch);
        scan->batch = NULL;
    }

    if (scan->cand_pool) {
        ngx_destroy_pool(scan->cand_pool);
        scan->cand_pool = NULL;
    }

    for (i = 0; i < scan->nhits; i++) {
        ngx_http_scim_hit_free(&scan->hits[i]);
    }

    ngx_free(scan->hits);
    scan->hits = NULL;
    scan->nhits = 0;

    if (scan->user_filter) {
        scim_filter_free(scan->user_filter);
        scan->user_filter = NULL;
    }

    if (scan->user_projection) {
        scim_projection_free(scan->user_projection);
        scan->user_projection = NULL;
    }
}


/* a pool for one call's arguments, destroyed when its reply is read */

static ngx_int_t
ngx_http_scim_scan_batch(ngx_http_scim_ctx_t *ctx)
{
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    ngx_http_scim_scan_done(scan);

    scan->batch = ngx_create_pool(NGX_HTTP_SCIM_SCAN_POOL,
                                  ctx->request->connection->log);
    if (scan->batch == NULL) {
        return NGX_ERROR;
    }

    /* the store call keeps its arguments there */
    ctx->args_pool = scan->batch;

    return NGX_OK;
}


static void
ngx_http_scim_scan_done(ngx_http_scim_scan_t *scan)
{
    if (scan->batch) {
        ngx_destroy_pool(scan->batch);
        scan->batch = NULL;
        scan->ctx->args_pool = NULL;
    }
}


void
ngx_http_scim_scan_next(ngx_http_scim_ctx_t *ctx)
{
    ngx_uint_t              n;
    ngx_scim_store_scan_t   q;
    ngx_http_scim_scan_t   *scan;

    scan = ctx->scan;

    n = scan->docs ? NGX_HTTP_SCIM_SCAN_BATCH : NGX_HTTP_SCIM_SCAN_IDS;

    if (scan->from_list && n > scan->ncand - ctx->scanned) {
        n = scan->ncand - ctx->scanned;
    }

    if (ngx_http_scim_scan_batch(ctx) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&q, sizeof(ngx_scim_store_scan_t));

    if (scan->from_list) {
        q.cand = &scan->cand[ctx->scanned];
        q.ncand = n;

    } else {
        q.start = ctx->scanned;
    }

    q.count = n;
    q.bytes = NGX_HTTP_SCIM_SCAN_BYTES;
    q.docs = scan->docs;
    q.members = scan->members;
    q.scores = scan->scored;

    if (ctx->literal_lc.len) {
        q.literal = ctx->literal_lc;
        q.member = ctx->literal_key;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_scan(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_list_scan),
                                  &q));
}


static void
ngx_http_scim_list_scan(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t                *doc;
    uint64_t               score;
    ngx_int_t              rc;
    ngx_str_t             *id;
    ngx_uint_t             i, walked;
    ngx_scim_store_doc_t  *d;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    /* the batch held the call's arguments only: the result is the store's */
    ngx_http_scim_scan_done(scan);

    walked = res->walked;

    if (scan->from_list) {
        ctx->total = scan->ncand;

    } else {
        ctx->total = res->total;

        if (ctx->total > ctx->slcf->max_scan) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_TOO_MANY,
                               "this filter or sort needs a scan of %ui "
                               "resources; the limit is %ui "
                               "(scim_filter_max_scan)",
                               ctx->total, ctx->slcf->max_scan);
            return;
        }
    }

    for (i = 0; i < res->nids; i++) {
        id = &res->ids[i];
        score = 0;

        if (id->data && scan->scored
            && ngx_http_scim_scan_score(id, &score) != NGX_OK)
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (!scan->docs) {
            if (id->data
                && ngx_http_scim_scan_hit(ctx, id->data, id->len, NULL,
                                          score)
                   != NGX_OK)
            {
                ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            continue;
        }

        d = &res->docs[i];

        if (id->data == NULL || !d->found) {
            continue;
        }

        /*
         * A document whose text lacks the filter's required literal
         * cannot match: skipped without being parsed.  (U+017F, long s,
         * folds to "s": a text holding it is parsed all the same.)
         */

        if (ctx->literal.len && d->text.data
            && !ngx_http_scim_may_match(ctx, d->text.data, d->text.len))
        {
            continue;
        }

        doc = ngx_http_scim_expand_raw(ctx, d, scan->members);
        if (doc == NULL) {
            continue;
        }

        rc = NGX_OK;

        if (ctx->filter_ast == NULL
            || scim_filter_match(ctx->filter_ast, ctx->rt, doc))
        {
            rc = ngx_http_scim_scan_hit(ctx, id->data, id->len, doc, score);
        }

        json_decref(doc);

        if (rc != NGX_OK) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ctx->scanned += walked;

    if (walked > 0 && ctx->scanned < ctx->total) {
        /* the next batch: the worker serves others meanwhile */
        ngx_http_scim_scan_next(ctx);
        return;
    }

    if (ctx->root_search && ctx->resource == NGX_HTTP_SCIM_R_USERS) {
        rc = ngx_http_scim_root_next(ctx);

        if (rc == NGX_OK) {
            ngx_http_scim_scan_next(ctx);
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    ngx_http_scim_page(ctx);
}


/* "<id> <score>" (scan->scored): id cut to the id, the score */

static ngx_int_t
ngx_http_scim_scan_score(ngx_str_t *id, uint64_t *score)
{
    off_t    n;
    u_char  *sp;

    sp = ngx_strlchr(id->data, id->data + id->len, ' ');
    if (sp == NULL) {
        return NGX_ERROR;
    }

    n = ngx_atoof(sp + 1, id->data + id->len - sp - 1);
    if (n < 0) {
        return NGX_ERROR;
    }

    id->len = sp - id->data;
    *score = (uint64_t) n;

    return NGX_OK;
}


/* hits: ties go by the order of the matches (scim_sort() is stable) */

static ngx_int_t
ngx_http_scim_hit_cmp(ngx_http_scim_scan_t *scan, ngx_http_scim_hit_t *a,
    ngx_http_scim_hit_t *b)
{
    int  c;

    c = scim_sort_key_cmp(&scan->spec, &a->key, &b->key);

    if (c != 0) {
        return c;
    }

    if (scan->keyed) {
        return ngx_http_scim_cursor_id_cmp(a->long_id ? a->long_id : a->id,
                                           a->len,
                                           b->long_id ? b->long_id : b->id,
                                           b->len);
    }

    return (a->seq > b->seq) - (a->seq < b->seq);
}


static void
ngx_http_scim_heap_down(ngx_http_scim_scan_t *scan, ngx_uint_t i,
    ngx_uint_t n)
{
    ngx_uint_t            c;
    ngx_http_scim_hit_t   h, *hits;

    hits = scan->hits;

    for ( ;; ) {
        c = 2 * i + 1;

        if (c >= n) {
            return;
        }

        if (c + 1 < n && ngx_http_scim_hit_cmp(scan, &hits[c + 1], &hits[c])
                         > 0)
        {
            c++;
        }

        if (ngx_http_scim_hit_cmp(scan, &hits[c], &hits[i]) <= 0) {
            return;
        }

        h = hits[i];
        hits[i] = hits[c];
        hits[c] = h;
        i = c;
    }
}


static void
ngx_http_scim_heap_up(ngx_http_scim_scan_t *scan, ngx_uint_t i)
{
    ngx_uint_t            p;
    ngx_http_scim_hit_t   h, *hits;

    hits = scan->hits;

    while (i > 0) {
        p = (i - 1) / 2;

        if (ngx_http_scim_hit_cmp(scan, &hits[i], &hits[p]) <= 0) {
            return;
        }

        h = hits[i];
        hits[i] = hits[p];
        hits[p] = h;
        i = p;
    }
}


static ngx_int_t
ngx_http_scim_hit_set_id(ngx_http_scim_hit_t *hit, u_char *id, size_t len)
{
    hit->long_id = NULL;
    hit->len = len;

    if (len <= sizeof(hit->id)) {
        ngx_memcpy(hit->id, id, len);
        return NGX_OK;
    }

    hit->long_id = ngx_alloc(len, ngx_cycle->log);
    if (hit->long_id == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(hit->long_id, id, len);

    return NGX_OK;
}


static void
ngx_http_scim_hit_free(ngx_http_scim_hit_t *hit)
{
    scim_sort_key_free(&hit->key);

    if (hit->long_id) {
        ngx_free(hit->long_id);
        hit->long_id = NULL;
    }
}


/* a match: kept if it can be on the page (doc NULL: no sortBy) */

static ngx_int_t
ngx_http_scim_scan_hit(ngx_http_scim_ctx_t *ctx, u_char *id, size_t len,
    json_t *doc, uint64_t score)
{
    size_t                 size;
    ngx_uint_t             n;
    ngx_http_scim_hit_t    hit, *hits;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    ngx_memzero(&hit, sizeof(ngx_http_scim_hit_t));
    hit.seq = scan->matched++;
    hit.score = score;
    hit.group = (ctx->resource == NGX_HTTP_SCIM_R_GROUPS);

    if (scan->keep == 0) {
        return NGX_OK;
    }

    if (scan->scored && scan->back) {
        /* a previousCursor's page: the last matches before its position */

        if (score >= scan->after) {
            scan->more++;
            return NGX_OK;
        }

        if (scan->nhits == scan->keep) {
            /* full: the oldest kept goes, the ring turns */

            if (ngx_http_scim_hit_set_id(&hit, id, len) != NGX_OK) {
                return NGX_ERROR;
            }

            scan->before++;
            ngx_http_scim_hit_free(&scan->hits[scan->ring]);
            scan->hits[scan->ring] = hit;
            scan->ring = (scan->ring + 1) % scan->keep;

            return NGX_OK;
        }

    } else if (scan->scored) {
        /* a cursor's page: the first matches after its position */

        if (scan->has_after && score <= scan->after) {
            scan->before++;
            return NGX_OK;
        }

        if (scan->nhits == scan->keep) {
            scan->more++;
            return NGX_OK;
        }

    } else if (!scan->sorting) {
        if (hit.seq < scan->skip || scan->nhits == scan->keep) {
            return NGX_OK;
        }

    } else {
        if (doc == NULL || scim_sort_key(&scan->spec, doc, &hit.key) != 0) {
            return NGX_ERROR;
        }

        if (scan->keyed) {
            /* a sorted cursor's page: only matches after its position */

            if (ngx_http_scim_hit_set_id(&hit, id, len) != NGX_OK) {
                scim_sort_key_free(&hit.key);
                return NGX_ERROR;
            }

            if (scan->has_after
                && ngx_http_scim_cursor_key_cmp(&scan->spec, &hit.key, id,
                                                len, &ctx->cursor_key)
                   <= 0)
            {
                ngx_http_scim_hit_free(&hit);
                return NGX_OK;
            }

            scan->more++;
        }

        if (scan->nhits == scan->keep) {
            /* full: only a match before the worst kept gets in */

            if (ngx_http_scim_hit_cmp(scan, &hit, &scan->hits[0]) >= 0) {
                ngx_http_scim_hit_free(&hit);
                return NGX_OK;
            }

            if (!scan->keyed
                && ngx_http_scim_hit_set_id(&hit, id, len) != NGX_OK)
            {
                scim_sort_key_free(&hit.key);
                return NGX_ERROR;
            }

            ngx_http_scim_hit_free(&scan->hits[0]);
            scan->hits[0] = hit;
            ngx_http_scim_heap_down(scan, 0, scan->nhits);

            return NGX_OK;
        }
    }

    if (scan->nhits == scan->nalloc) {
        n = scan->nalloc ? 2 * scan->nalloc : 64;

        if (n > scan->keep) {
            n = scan->keep;
        }

        size = n * sizeof(ngx_http_scim_hit_t);

        hits = ngx_alloc(size, ctx->request->connection->log);
        if (hits == NULL) {
            ngx_http_scim_hit_free(&hit);
            return NGX_ERROR;
        }

        if (scan->nhits) {
            ngx_memcpy(hits, scan->hits,
                       scan->nhits * sizeof(ngx_http_scim_hit_t));
        }

        ngx_free(scan->hits);
        scan->hits = hits;
        scan->nalloc = n;
    }

    if (!scan->keyed && ngx_http_scim_hit_set_id(&hit, id, len) != NGX_OK) {
        scim_sort_key_free(&hit.key);
        return NGX_ERROR;
    }

    scan->hits[scan->nhits++] = hit;

    if (scan->sorting) {
        ngx_http_scim_heap_up(scan, scan->nhits - 1);
    }

    return NGX_OK;
}


/*
 * Root .search: the users are scanned, then the same search runs over
 * the groups; the users' filter and projection are kept for the page.
 */

static ngx_int_t
ngx_http_scim_root_next(ngx_http_scim_ctx_t *ctx)
{
    scim_error_t           err;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    ctx->resource = NGX_HTTP_SCIM_R_GROUPS;
    ctx->rt = scim_registry_group(ctx->slcf->registry);
    ctx->scanned = 0;
    ctx->total = 0;

    scan->user_projection = ctx->projection;
    ctx->projection = NULL;

    if (ngx_http_scim_projection(ctx) != NGX_OK) {
        return NGX_ABORT;
    }

    if (ctx->filter_ast) {
        scan->user_filter = ctx->filter_ast;
        ctx->filter_ast = NULL;
        ngx_str_null(&ctx->literal);
        ngx_memzero(&err, sizeof(scim_error_t));

        ctx->filter_ast = scim_filter_parse(ctx->rt,
                                            (char *) ctx->filter.data,
                                            ctx->filter.len, &err);
        if (ctx->filter_ast == NULL) {
            ngx_http_scim_fail_err(ctx, &err);
            return NGX_ABORT;
        }

        if (ngx_http_scim_literal(ctx) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the scan is over: cut the page out of the hits, then read it */

static void
ngx_http_scim_page(ngx_http_scim_ctx_t *ctx)
{
    ngx_uint_t             i, n;
    ngx_http_scim_hit_t    h, *hits;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;
    hits = scan->hits;
    n = scan->nhits;

    scan->resources = ngx_http_scim_track(ctx->request, json_array());
    if (scan->resources == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (scan->sorting) {
        /*
         * The heap holds the best min(matches, skip + count) with the
         * worst on top: taking the top out n - skip times leaves the page
         * in order at hits[skip, n) (the tail of a heapsort)
         */

        if (n > scan->skip) {
            for (i = n; i > scan->skip; i--) {
                h = hits[0];
                hits[0] = hits[i - 1];
                hits[i - 1] = h;
                ngx_http_scim_heap_down(scan, 0, i - 1);
            }

            scan->from = scan->skip;

        } else {
            scan->from = n;
        }

    } else {
        scan->from = 0;
    }

    scan->to = n;
    scan->next = scan->from;

    if (scan->back && scan->ring) {
        /* the ring in the order of the matches: rotated left by ring */
        ngx_http_scim_hits_reverse(hits, 0, scan->ring);
        ngx_http_scim_hits_reverse(hits, scan->ring, n);
        ngx_http_scim_hits_reverse(hits, 0, n);
    }

    /* the next cursor page after this one's last, the previous before */

    if (scan->scored && n > 0
        && ((scan->more
             && ngx_http_scim_scan_pos(ctx, &ctx->cursor_next,
                                       hits[n - 1].score)
                != NGX_OK)
            || (scan->before
                && ngx_http_scim_scan_pos(ctx, &ctx->cursor_prev,
                                          hits[0].score)
                   != NGX_OK)))
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* a sorted walk's next page: after this one's last (key, id) */

    if (scan->keyed && n > 0 && scan->more > n
        && ngx_http_scim_cursor_key_pos(ctx, &hits[n - 1].key,
                                        hits[n - 1].long_id
                                        ? hits[n - 1].long_id
                                        : hits[n - 1].id,
                                        hits[n - 1].len, &ctx->cursor_next)
           != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (scan->from == scan->to) {
        ngx_http_scim_list_answer(ctx, scan->resources, scan->matched);
        return;
    }

    ngx_http_scim_page_fetch(ctx);
}


static void
ngx_http_scim_hits_reverse(ngx_http_scim_hit_t *hits, ngx_uint_t from,
    ngx_uint_t to)
{
    ngx_http_scim_hit_t  h;

    while (from + 1 < to) {
        h = hits[from];
        hits[from++] = hits[--to];
        hits[to] = h;
    }
}


/* a cursor's position: a creation score */

static ngx_int_t
ngx_http_scim_scan_pos(ngx_http_scim_ctx_t *ctx, ngx_str_t *pos,
    uint64_t score)
{
    pos->data = ngx_pnalloc(ctx->request->pool, NGX_INT64_LEN);
    if (pos->data == NULL) {
        return NGX_ERROR;
    }

    pos->len = ngx_sprintf(pos->data, "%uL", score) - pos->data;

    return NGX_OK;
}


static void
ngx_http_scim_page_fetch(ngx_http_scim_ctx_t *ctx)
{
    ngx_uint_t              i, n, want;
    ngx_http_scim_hit_t    *hit;
    ngx_http_scim_scan_t   *scan;
    ngx_scim_store_item_t  *items;

    scan = ctx->scan;

    n = scan->to - scan->next;
    if (n > NGX_HTTP_SCIM_FETCH_BATCH) {
        n = NGX_HTTP_SCIM_FETCH_BATCH;
    }

    scan->sent = n;

    /* a group's members: if the answer shows them or the filter reads them */
    want = (ctx->want_members || scan->members);

    if (ngx_http_scim_scan_batch(ctx) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    items = ngx_palloc(scan->batch, n * sizeof(ngx_scim_store_item_t));
    if (items == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 0; i < n; i++) {
        hit = &scan->hits[scan->next + i];

        items[i].type = hit->group ? NGX_SCIM_STORE_GROUP
                                   : NGX_SCIM_STORE_USER;
        items[i].id.data = hit->long_id ? hit->long_id : hit->id;
        items[i].id.len = hit->len;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_fetch(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_page_done),
                                  items, n, want));
}


static void
ngx_http_scim_page_done(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t                *doc, *out;
    ngx_uint_t             i, want, own;
    scim_filter_t         *filter;
    scim_projection_t     *projection;
    ngx_http_scim_hit_t   *hit;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    ngx_http_scim_scan_done(scan);

    want = (ctx->want_members || scan->members);

    for (i = 0; i < res->ndocs && i < scan->sent; i++) {
        if (!res->docs[i].found) {
            continue;               /* deleted since the scan */
        }

        hit = &scan->hits[scan->next + i];

        /* root .search: the users' own filter and projection */
        own = (ctx->root_search && !hit->group);

        ctx->resource = hit->group ? NGX_HTTP_SCIM_R_GROUPS
                                   : NGX_HTTP_SCIM_R_USERS;
        ctx->rt = hit->group ? scim_registry_group(ctx->slcf->registry)
                             : scim_registry_user(ctx->slcf->registry);

        filter = own ? scan->user_filter : ctx->filter_ast;
        projection = own ? scan->user_projection : ctx->projection;

        doc = ngx_http_scim_expand_raw(ctx, &res->docs[i], want);
        if (doc == NULL) {
            continue;
        }

        /* changed since the scan so that it no longer matches */
        if (filter && !scim_filter_match(filter, ctx->rt, doc)) {
            json_decref(doc);
            continue;
        }

        out = scim_resource_present(ctx->rt, doc,
                                    (const char *) ctx->base_url.data,
                                    projection);
        json_decref(doc);

        if (out == NULL || json_array_append_new(scan->resources, out) != 0)
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    scan->next += scan->sent;

    if (scan->next < scan->to) {
        ngx_http_scim_page_fetch(ctx);
        return;
    }

    ngx_http_scim_list_answer(ctx, scan->resources, scan->matched);
}


/* an index's candidates (ids): scanned like the whole collection */

void
ngx_http_scim_list_cands(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    ngx_int_t              rc;
    ngx_http_scim_scan_t  *scan;

    rc = ngx_http_scim_scan_start(ctx, res);

    if (rc == NGX_ABORT) {
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    scan = ctx->scan;

    if (scan->ncand == 0) {
        ngx_http_scim_page(ctx);
        return;
    }

    ngx_http_scim_scan_next(ctx);
}


/*
 * A cursor's page of a group's members when the filter is that alone
 * (groups.value eq): every candidate matches, so none is read twice:
 * the page is read at once (its groups drop out, having no User
 * document) and checked there, as any page is
 */

void
ngx_http_scim_list_page_of(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res)
{
    ngx_int_t              rc;
    ngx_uint_t             i;
    ngx_http_scim_scan_t  *scan;

    rc = ngx_http_scim_scan_start(ctx, res);

    if (rc == NGX_ABORT) {
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    scan = ctx->scan;

    for (i = 0; i < scan->ncand; i++) {
        if (ngx_http_scim_scan_hit(ctx, scan->cand[i].data, scan->cand[i].len,
                                   NULL, 0)
            != NGX_OK)
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_http_scim_page(ctx);
}
