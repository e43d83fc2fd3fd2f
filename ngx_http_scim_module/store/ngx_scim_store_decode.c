
/*
 * ngx_http_scim_module: the store's replies decoded into its typed
 * results (ngx_scim_store_res_t): a reply of each shape (see
 * ngx_scim_store_int.h) checked for its shape, strings copied into a pool
 * made when the first is needed.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_scim_store.h"
#include "ngx_scim_store_int.h"


static void *ngx_scim_store_alloc(ngx_pool_t **pool, size_t size);
static void ngx_scim_store_decode_write(redisReply *reply,
    ngx_scim_store_res_t *res, ngx_scim_store_doc_t *one);
static ngx_int_t ngx_scim_store_decode_doc(ngx_pool_t **pool, redisReply *e,
    ngx_scim_store_doc_t *doc);
static ngx_int_t ngx_scim_store_decode_refs(ngx_pool_t **pool,
    redisReply *e, size_t first, ngx_scim_store_doc_t *doc);
static void ngx_scim_store_str(redisReply *e, ngx_str_t *s);
static void ngx_scim_store_bare(ngx_scim_store_res_t *res,
    ngx_scim_store_doc_t *one, redisReply *e);
static ngx_int_t ngx_scim_store_decode_after(redisReply *reply,
    ngx_scim_store_res_t *res);
static ngx_int_t ngx_scim_store_decode_ids(ngx_pool_t **pool,
    redisReply *reply, size_t first, ngx_scim_store_res_t *res);


ngx_int_t
ngx_scim_store_decode(ngx_scim_store_ctx_t *sc, ngx_pool_t **pool,
    redisReply *reply, ngx_scim_store_res_t *res, ngx_scim_store_doc_t *one)
{
    size_t                 i, first;
    ngx_scim_store_doc_t  *doc;

    switch (sc->shape) {

    case NGX_SCIM_STORE_R_WRITE:

        if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1
            || reply->element[0]->type != REDIS_REPLY_INTEGER)
        {
            return NGX_ERROR;
        }

        ngx_scim_store_decode_write(reply, res, one);

        if (res->status == NGX_SCIM_STORE_BAD_REPLY) {
            return NGX_ERROR;
        }

        /*
         * a replace with a SHA1: {1, seq, manager display, a user's
         * groups...} | {-6, {doc, ...}}
         */

        if (res->status == NGX_SCIM_STORE_CHANGED) {
            if (reply->elements < 2
                || reply->element[1]->type != REDIS_REPLY_ARRAY)
            {
                return NGX_ERROR;
            }

            ngx_memzero(one, sizeof(ngx_scim_store_doc_t));

            res->docs = one;
            res->ndocs = 1;

            return ngx_scim_store_decode_doc(pool, reply->element[1], one);
        }

        if (res->status == NGX_SCIM_STORE_OK && reply->elements > 3) {
            ngx_memzero(one, sizeof(ngx_scim_store_doc_t));

            res->docs = one;
            res->ndocs = 1;

            return ngx_scim_store_decode_refs(pool, reply, 3, one);
        }

        return NGX_OK;

    case NGX_SCIM_STORE_R_DOC:

        if (reply->type != REDIS_REPLY_ARRAY) {
            res->status = NGX_SCIM_STORE_NOT_FOUND;
            return NGX_OK;
        }

        if (reply->elements > 0
            && reply->element[0]->type == REDIS_REPLY_INTEGER)
        {
            /* find_ext: {-7, id, ...}, more than one */

            if (reply->element[0]->integer != -7) {
                return NGX_ERROR;
            }

            res->status = NGX_SCIM_STORE_MANY;

            return ngx_scim_store_decode_ids(pool, reply, 1, res);
        }

        ngx_memzero(one, sizeof(ngx_scim_store_doc_t));

        res->docs = one;
        res->ndocs = 1;

        return ngx_scim_store_decode_doc(pool, reply, res->docs);

    case NGX_SCIM_STORE_R_SLICE:

        if (reply->type != REDIS_REPLY_ARRAY) {
            res->status = NGX_SCIM_STORE_NOT_FOUND;
            return NGX_OK;
        }

        if (reply->elements < 2) {
            return NGX_ERROR;
        }

        ngx_memzero(one, sizeof(ngx_scim_store_doc_t));

        res->docs = one;
        res->ndocs = 1;

        one->found = 1;
        ngx_scim_store_str(reply->element[0], &one->text);

        if (ngx_scim_store_decode_refs(pool, reply, 2, one) != NGX_OK) {
            return NGX_ERROR;
        }

        /* the second element is where the next slice starts */

        if (ngx_scim_store_is_str(reply->element[1])) {
            res->ids = ngx_scim_store_alloc(pool, sizeof(ngx_str_t));
            if (res->ids == NULL) {
                return NGX_ERROR;
            }

            ngx_scim_store_str(reply->element[1], &res->ids[0]);
            res->nids = 1;
        }

        return NGX_OK;

    case NGX_SCIM_STORE_R_PAGE:
    case NGX_SCIM_STORE_R_PAGE_AFTER:
    case NGX_SCIM_STORE_R_FETCH:

        if (reply->type != REDIS_REPLY_ARRAY) {
            return NGX_ERROR;
        }

        first = 0;

        if (sc->shape == NGX_SCIM_STORE_R_PAGE_AFTER) {
            if (ngx_scim_store_decode_after(reply, res) != NGX_OK) {
                return NGX_ERROR;
            }

            first = 3;
        }

        if (sc->shape == NGX_SCIM_STORE_R_PAGE) {
            if (reply->elements < 1) {
                return NGX_ERROR;
            }

            res->total = (ngx_uint_t) reply->element[0]->integer;
            first = 1;
        }

        res->ndocs = reply->elements - first;

        if (res->ndocs == 0) {
            return NGX_OK;
        }

        res->docs = ngx_scim_store_alloc(pool,
                                res->ndocs * sizeof(ngx_scim_store_doc_t));
        if (res->docs == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < res->ndocs; i++) {
            if (reply->element[first + i]->type != REDIS_REPLY_ARRAY) {
                continue;           /* deleted meanwhile */
            }

            if (ngx_scim_store_decode_doc(pool, reply->element[first + i],
                                          &res->docs[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    case NGX_SCIM_STORE_R_SCAN:
    case NGX_SCIM_STORE_R_SCAN_IDS:

        if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2
            || reply->element[0]->type != REDIS_REPLY_INTEGER
            || reply->element[1]->type != REDIS_REPLY_INTEGER)
        {
            return NGX_ERROR;
        }

        res->total = (ngx_uint_t) reply->element[0]->integer;
        res->walked = (ngx_uint_t) reply->element[1]->integer;

        if (sc->shape == NGX_SCIM_STORE_R_SCAN_IDS) {
            res->nids = reply->elements - 2;

        } else {
            /* pairs: id, {doc, ...}; a last id alone is dropped */
            res->nids = (reply->elements - 2) / 2;
            res->ndocs = res->nids;
        }

        if (res->nids == 0) {
            return NGX_OK;
        }

        res->ids = ngx_scim_store_alloc(pool, res->nids * sizeof(ngx_str_t));
        if (res->ids == NULL) {
            return NGX_ERROR;
        }

        if (res->ndocs) {
            res->docs = ngx_scim_store_alloc(pool,
                                    res->ndocs * sizeof(ngx_scim_store_doc_t));
            if (res->docs == NULL) {
                return NGX_ERROR;
            }
        }

        for (i = 0; i < res->nids; i++) {
            if (sc->shape == NGX_SCIM_STORE_R_SCAN_IDS) {
                ngx_scim_store_str(reply->element[2 + i], &res->ids[i]);
                continue;
            }

            doc = &res->docs[i];

            ngx_scim_store_str(reply->element[2 + 2 * i], &res->ids[i]);

            if (res->ids[i].data == NULL
                || reply->element[3 + 2 * i]->type != REDIS_REPLY_ARRAY)
            {
                continue;
            }

            if (ngx_scim_store_decode_doc(pool, reply->element[3 + 2 * i],
                                          doc)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    case NGX_SCIM_STORE_R_VALUE:

        if (reply->type == REDIS_REPLY_NIL) {
            res->status = NGX_SCIM_STORE_NOT_FOUND;
            return NGX_OK;
        }

        if (reply->type != REDIS_REPLY_STRING) {
            return NGX_ERROR;
        }

        ngx_scim_store_bare(res, one, reply);

        return NGX_OK;

    default: /* NGX_SCIM_STORE_R_IDS, NGX_SCIM_STORE_R_IDS_AFTER */

        if (reply->type != REDIS_REPLY_ARRAY) {
            return NGX_ERROR;
        }

        first = 0;

        if (sc->shape == NGX_SCIM_STORE_R_IDS_AFTER) {
            if (ngx_scim_store_decode_after(reply, res) != NGX_OK) {
                return NGX_ERROR;
            }

            first = 3;
        }

        return ngx_scim_store_decode_ids(pool, reply, first, res);
    }
}


/* the strings of reply from its element first on, as res->ids */

static ngx_int_t
ngx_scim_store_decode_ids(ngx_pool_t **pool, redisReply *reply,
    size_t first, ngx_scim_store_res_t *res)
{
    size_t  i;

    res->nids = reply->elements - first;

    if (res->nids == 0) {
        return NGX_OK;
    }

    res->ids = ngx_scim_store_alloc(pool, res->nids * sizeof(ngx_str_t));
    if (res->ids == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < res->nids; i++) {
        ngx_scim_store_str(reply->element[first + i], &res->ids[i]);
    }

    return NGX_OK;
}


/* a cursor's page (RFC 9865): {total, next, prev, ...} */

static ngx_int_t
ngx_scim_store_decode_after(redisReply *reply, ngx_scim_store_res_t *res)
{
    if (reply->elements < 3
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_STRING
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        return NGX_ERROR;
    }

    res->total = (ngx_uint_t) reply->element[0]->integer;
    ngx_scim_store_str(reply->element[1], &res->after);
    ngx_scim_store_str(reply->element[2], &res->before);

    return NGX_OK;
}


/*
 * {1, seq, manager display} | {0} | {-1, current version}
 * | {-2, 1|2} | {-3} | {-4, bad member id} | {-6, ...}: see
 * store/lua/create.lua and replace.lua; {-5, doc}: store/lua/delete_id.lua
 * (the document in one)
 */

static void
ngx_scim_store_decode_write(redisReply *reply, ngx_scim_store_res_t *res,
    ngx_scim_store_doc_t *one)
{
    ngx_int_t    n;
    redisReply  *e;

    e = reply->elements > 1 ? reply->element[1] : NULL;

    switch (reply->element[0]->integer) {

    case 1:
        res->status = NGX_SCIM_STORE_OK;

        /* a delete: {1} */

        if (e && e->type == REDIS_REPLY_INTEGER) {
            res->version = (ngx_int_t) e->integer;
        }

        if (reply->elements > 2) {
            ngx_scim_store_str(reply->element[2], &res->manager);
        }

        return;

    case 0:
        res->status = NGX_SCIM_STORE_NOT_FOUND;
        return;

    case -1:
        res->status = NGX_SCIM_STORE_STALE;
        res->version = -1;

        if (e && ngx_scim_store_is_str(e) && e->len) {
            n = ngx_atoi((u_char *) e->str, e->len);
            res->version = n == NGX_ERROR ? -1 : n;
        }

        return;

    case -2:
        res->status = NGX_SCIM_STORE_CONFLICT;
        res->conflict = (e && e->type == REDIS_REPLY_INTEGER && e->integer == 2)
                        ? NGX_SCIM_STORE_EXTERNAL_ID : NGX_SCIM_STORE_NAME;
        return;

    case -3:
        res->status = NGX_SCIM_STORE_EXISTS;
        return;

    case -6:
        res->status = NGX_SCIM_STORE_CHANGED;
        return;

    case -4:
        res->status = NGX_SCIM_STORE_BAD_MEMBER;
        res->bad = NGX_SCIM_STORE_BAD_UNKNOWN;

        if (reply->elements > 2 && ngx_scim_store_is_str(reply->element[2])) {
            e = reply->element[2];

            if (e->len == 5 && ngx_strncmp(e->str, "cycle", 5) == 0) {
                res->bad = NGX_SCIM_STORE_BAD_CYCLE;

            } else if (e->len == 7 && ngx_strncmp(e->str, "manager", 7) == 0) {
                res->bad = NGX_SCIM_STORE_BAD_MANAGER;
            }

            e = reply->element[1];
        }

        if (e) {
            ngx_scim_store_str(e, &res->bad_member);
        }

        return;

    case -5:

        if (e == NULL || !ngx_scim_store_is_str(e)) {
            res->status = NGX_SCIM_STORE_BAD_REPLY;
            return;
        }

        res->status = NGX_SCIM_STORE_FOLD;

        ngx_scim_store_bare(res, one, e);

        return;

    default:
        res->status = NGX_SCIM_STORE_BAD_REPLY;
        return;
    }
}


/* {doc, manager display, id, type, display, ...}, or a bare doc */

static ngx_int_t
ngx_scim_store_decode_doc(ngx_pool_t **pool, redisReply *e,
    ngx_scim_store_doc_t *doc)
{
    doc->found = 1;

    if (ngx_scim_store_is_str(e)) {
        doc->bare = 1;
        ngx_scim_store_str(e, &doc->text);
        return NGX_OK;
    }

    if (e->type != REDIS_REPLY_ARRAY || e->elements < 1
        || !ngx_scim_store_is_str(e->element[0]))
    {
        return NGX_OK;              /* found, no text */
    }

    ngx_scim_store_str(e->element[0], &doc->text);

    if (e->elements < 2) {
        return NGX_OK;
    }

    ngx_scim_store_str(e->element[1], &doc->manager);

    return ngx_scim_store_decode_refs(pool, e, 2, doc);
}


/* the {id, type, display} triples from e's element first on */

static ngx_int_t
ngx_scim_store_decode_refs(ngx_pool_t **pool, redisReply *e, size_t first,
    ngx_scim_store_doc_t *doc)
{
    size_t                 i, n;
    ngx_scim_store_ref_t  *ref;

    n = e->elements > first ? (e->elements - first) / 3 : 0;

    if (n == 0) {
        return NGX_OK;
    }

    doc->refs = ngx_scim_store_alloc(pool, n * sizeof(ngx_scim_store_ref_t));
    if (doc->refs == NULL) {
        return NGX_ERROR;
    }

    for (i = first; i + 2 < e->elements; i += 3) {
        if (!ngx_scim_store_is_str(e->element[i])
            || !ngx_scim_store_is_str(e->element[i + 1])
            || !ngx_scim_store_is_str(e->element[i + 2]))
        {
            continue;
        }

        ref = &doc->refs[doc->nrefs++];

        ngx_scim_store_str(e->element[i], &ref->id);
        ngx_scim_store_str(e->element[i + 1], &ref->type);
        ngx_scim_store_str(e->element[i + 2], &ref->display);
    }

    return NGX_OK;
}


/* zeroed memory of the result's pool, made at the first call */

static void *
ngx_scim_store_alloc(ngx_pool_t **pool, size_t size)
{
    if (*pool == NULL) {
        *pool = ngx_create_pool(NGX_SCIM_STORE_POOL_SIZE, ngx_cycle->log);
        if (*pool == NULL) {
            return NULL;
        }
    }

    return ngx_pcalloc(*pool, size);
}


/* a string element; anything else: data NULL */

static void
ngx_scim_store_str(redisReply *e, ngx_str_t *s)
{
    if (e->type == REDIS_REPLY_STRING) {
        s->data = (u_char *) e->str;
        s->len = e->len;
        return;
    }

    s->data = NULL;
    s->len = 0;
}


/* the answer is one stored document, its text alone (bare) */

static void
ngx_scim_store_bare(ngx_scim_store_res_t *res, ngx_scim_store_doc_t *one,
    redisReply *e)
{
    ngx_memzero(one, sizeof(ngx_scim_store_doc_t));

    one->found = 1;
    one->bare = 1;
    ngx_scim_store_str(e, &one->text);

    res->docs = one;
    res->ndocs = 1;
}
