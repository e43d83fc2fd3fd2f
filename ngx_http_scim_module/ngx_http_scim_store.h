
/*
 * ngx_http_scim_module: the Redis data model.
 *
 * Keys of tenant T (all with the hash tag {T}, so that each script
 * touches one Redis Cluster slot):
 *
 *   scim:{T}:User:<id>                 string  stored resource (JSON)
 *   scim:{T}:User:ids                  zset    ids by creation sequence
 *   scim:{T}:User:idx:userName         hash    folded userName -> id
 *   scim:{T}:User:idx:externalId       hash    externalId -> id
 *   scim:{T}:User:idx:email            zset    "<folded e-mail>\0<id>" of
 *                                              every e-mail (any type):
 *                                              e-mail lookups by
 *                                              ZRANGEBYLEX
 *   scim:{T}:User:<id>:groups          set     ids of the user's groups
 *   scim:{T}:Group:<id>                string  stored group (no members)
 *   scim:{T}:Group:ids                 zset
 *   scim:{T}:Group:idx:displayName     hash    folded displayName -> id
 *   scim:{T}:Group:idx:externalId      hash
 *   scim:{T}:Group:<id>:members        set     member ids
 *   scim:{T}:Group:<id>:groups         set     ids of a nested group's
 *                                              parent groups
 *   scim:{T}:User:display              hash    id -> displayName (else
 *                                              userName): "display" of
 *                                              members, type of a member
 *   scim:{T}:Group:display             hash    id -> displayName
 *   scim:{T}:User:manager              hash    id -> manager's id (so that
 *                                              reads show the manager's
 *                                              current displayName)
 *   scim:{T}:seq                       string  creation order, versions
 *
 * A stored document always ends with its version, as
 * ..."version":"W/\"<n>\""}} (meta is the last member, version the last
 * member of meta).  Scripts receive the document without that tail and
 * append the version they draw from scim:{T}:seq, so that a write needs
 * one round trip, and they compare versions without decoding JSON.
 */

#ifndef _NGX_HTTP_SCIM_STORE_H_INCLUDED_
#define _NGX_HTTP_SCIM_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_scim_redis.h"
#include "ngx_scim_lua.h"


/* the scripts (store/lua) */
typedef ngx_scim_lua_e  ngx_http_scim_script_e;

#define NGX_HTTP_SCIM_SCRIPT_CREATE      NGX_SCIM_LUA_CREATE
#define NGX_HTTP_SCIM_SCRIPT_REPLACE     NGX_SCIM_LUA_REPLACE
#define NGX_HTTP_SCIM_SCRIPT_DELETE      NGX_SCIM_LUA_DELETE
#define NGX_HTTP_SCIM_SCRIPT_GET         NGX_SCIM_LUA_GET
#define NGX_HTTP_SCIM_SCRIPT_FIND        NGX_SCIM_LUA_FIND
#define NGX_HTTP_SCIM_SCRIPT_FIND_EMAIL  NGX_SCIM_LUA_FIND_EMAIL
#define NGX_HTTP_SCIM_SCRIPT_PAGE        NGX_SCIM_LUA_PAGE
#define NGX_HTTP_SCIM_SCRIPT_RELATED     NGX_SCIM_LUA_RELATED
#define NGX_HTTP_SCIM_SCRIPT_SCAN        NGX_SCIM_LUA_SCAN
#define NGX_HTTP_SCIM_SCRIPT_FETCH       NGX_SCIM_LUA_FETCH
#define NGX_HTTP_SCIM_SCRIPT_N           NGX_SCIM_LUA_N


/* script results (first element of the reply array) */
#define NGX_HTTP_SCIM_STORE_OK          1
#define NGX_HTTP_SCIM_STORE_NOT_FOUND   0
#define NGX_HTTP_SCIM_STORE_STALE      -1
#define NGX_HTTP_SCIM_STORE_CONFLICT   -2
#define NGX_HTTP_SCIM_STORE_EXISTS     -3
#define NGX_HTTP_SCIM_STORE_BAD_MEMBER -4

/* which index a CONFLICT is about (second element) */
#define NGX_HTTP_SCIM_STORE_IDX_NAME    1
#define NGX_HTTP_SCIM_STORE_IDX_EXT     2


/* the tail a script appends to a stored document */
#define NGX_HTTP_SCIM_DOC_TAIL_OPEN     "\"version\":\""


typedef struct {
    ngx_str_t                   tenant;        /* "scim:{T}:" */
    ngx_str_t                   type;          /* "scim:{T}:User:" */
} ngx_http_scim_keys_t;


ngx_int_t ngx_http_scim_store_init_scripts(ngx_conf_t *cf,
    ngx_scim_redis_script_t **scripts, ngx_uint_t *n);

ngx_int_t ngx_http_scim_store_keys(ngx_pool_t *pool, ngx_str_t *tenant,
    const char *type, ngx_http_scim_keys_t *keys);

/* "scim:{T}:<Type>:" + suffix */
ngx_int_t ngx_http_scim_store_key(ngx_pool_t *pool,
    ngx_http_scim_keys_t *keys, const char *suffix, size_t len,
    ngx_str_t *out);
ngx_int_t ngx_http_scim_store_id_key(ngx_pool_t *pool,
    ngx_http_scim_keys_t *keys, ngx_str_t *id, const char *tail,
    ngx_str_t *out);

/* a valid resource id (we only ever hand out UUIDs) */
ngx_int_t ngx_http_scim_store_valid_id(u_char *p, size_t len);


#endif /* _NGX_HTTP_SCIM_STORE_H_INCLUDED_ */
