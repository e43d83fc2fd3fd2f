
/*
 * ngx_http_scim_module: what ngx_scim_store.c (the calls) and
 * ngx_scim_store_decode.c (their replies) share; not for other files.
 */

#ifndef _NGX_SCIM_STORE_INT_H_INCLUDED_
#define _NGX_SCIM_STORE_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "ngx_scim_store.h"


/* the reply shapes */
typedef enum {
    NGX_SCIM_STORE_R_WRITE = 0,    /* {status, ...} */
    NGX_SCIM_STORE_R_DOC,          /* {doc, ...} | nil */
    NGX_SCIM_STORE_R_PAGE,         /* {total, {doc, ...} | nil, ...} */
    NGX_SCIM_STORE_R_FETCH,        /* {{doc, ...} | nil, ...} */
    NGX_SCIM_STORE_R_SCAN,         /* {total, walked, id, {doc}, ...} */
    NGX_SCIM_STORE_R_SCAN_IDS,     /* {total, walked, id, ...} */
    NGX_SCIM_STORE_R_IDS,          /* {id, ...} */
    NGX_SCIM_STORE_R_PAGE_AFTER,   /* {total, next, prev, {doc, ...}
                                      | nil, ...} (cursor) */
    NGX_SCIM_STORE_R_IDS_AFTER,    /* {total, next, prev, id, ...} */
    NGX_SCIM_STORE_R_VALUE,        /* string | nil (a plain HGET) */
    NGX_SCIM_STORE_R_SLICE         /* {doc | nil, next | nil, ...} | nil */
} ngx_scim_store_reply_e;


typedef struct {
    ngx_scim_store_call_t       call;
    ngx_scim_store_reply_e      shape;
    ngx_array_t                *args;          /* ngx_str_t: KEYS, ARGV */
    ngx_uint_t                  nkeys;
} ngx_scim_store_ctx_t;


#define NGX_SCIM_STORE_POOL_SIZE  4096

#define ngx_scim_store_is_str(e)  ((e)->type == REDIS_REPLY_STRING)


/* the reply of a call into res (one: the document of a DOC reply) */
ngx_int_t ngx_scim_store_decode(ngx_scim_store_ctx_t *sc, ngx_pool_t **pool,
    redisReply *reply, ngx_scim_store_res_t *res, ngx_scim_store_doc_t *one);


#endif /* _NGX_SCIM_STORE_INT_H_INCLUDED_ */
