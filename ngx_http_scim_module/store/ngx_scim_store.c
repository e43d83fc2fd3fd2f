
/*
 * ngx_http_scim_module: the store's typed API (see ngx_scim_store.h) on
 * the Redis adapter: key names, each script's KEYS/ARGV (their order is
 * that of store/lua/<script>.lua), and the decoding of its reply.
 *
 * Keys of tenant T (layout 3): a fixed set, every one with the hash tag
 * {T} (one Redis Cluster slot), in the order of ngx_scim_store_keys[]
 * (that of the names at the top of lib.lua); a script takes the first n
 * of them as KEYS, n as its "--! keys n" line says (ngx_scim_lua[].nkeys),
 * enough for every key it touches whatever the data; no script builds a
 * key name:
 *
 *   scim:{T}:User:docs                 hash    id -> stored user (JSON)
 *   scim:{T}:Group:docs                hash    id -> stored group (no
 *                                              members)
 *   scim:{T}:User:display              hash    id -> displayName (else
 *                                              userName): "display" of
 *                                              members, type of a member
 *   scim:{T}:Group:display             hash    id -> displayName
 *   scim:{T}:User:manager              hash    id -> manager's id (so that
 *                                              reads show the manager's
 *                                              current displayName)
 *   scim:{T}:members                   zset    "<group id>\0<member id>"
 *                                              of every direct membership
 *   scim:{T}:memberof                  zset    "<member id>\0<group id>":
 *                                              the reverse
 *   scim:{T}:User:idx:userName         hash    folded userName -> id
 *   scim:{T}:User:idx:externalId       zset    "<externalId>\0<id>" of
 *                                              every resource with one
 *                                              (not unique)
 *   scim:{T}:Group:idx:displayName     hash    folded displayName -> id
 *   scim:{T}:Group:idx:externalId      zset    the same for groups
 *   scim:{T}:User:ids                  zset    ids by creation sequence
 *   scim:{T}:Group:ids                 zset
 *   scim:{T}:seq                       string  creation order, versions
 *   scim:{T}:User:idx:email            zset    "<folded e-mail>\0<id>" of
 *                                              every e-mail (any type):
 *                                              e-mail lookups by
 *                                              ZRANGEBYLEX
 *   scim:{T}:User:reports              zset    "<manager id>\0<user id>":
 *                                              the reverse of User:manager
 *   scim:{T}:events                    stream  change events (issue 11):
 *                                              the writes' XADD
 *
 * A stored document always ends with its version, as
 * ..."version":"W/\"<n>\""}} (meta is the last member, version the last
 * member of meta).  Scripts receive the document without that tail and
 * append the version they draw from scim:{T}:seq, so that a write needs
 * one round trip, and they compare versions without decoding JSON.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_scim_redis.h"
#include "ngx_scim_lua.h"
#include "ngx_scim_store.h"
#include "ngx_scim_cluster.h"
#include "ngx_scim_store_int.h"


static ngx_scim_store_ctx_t *ngx_scim_store_ctx(ngx_scim_store_call_t *call,
    ngx_uint_t script, ngx_scim_store_reply_e shape, ngx_uint_t n);
static ngx_scim_store_ctx_t *ngx_scim_store_ctx_keys(
    ngx_scim_store_call_t *call, ngx_uint_t nkeys,
    ngx_scim_store_reply_e shape, ngx_uint_t n);
static ngx_int_t ngx_scim_store_arg(ngx_scim_store_ctx_t *sc, u_char *data,
    size_t len);
static ngx_int_t ngx_scim_store_arg_str(ngx_scim_store_ctx_t *sc,
    ngx_str_t *s);
static ngx_int_t ngx_scim_store_arg_cstr(ngx_scim_store_ctx_t *sc,
    const char *s);
static ngx_int_t ngx_scim_store_arg_int(ngx_scim_store_ctx_t *sc,
    ngx_int_t n);
static ngx_int_t ngx_scim_store_arg_list(ngx_scim_store_ctx_t *sc,
    ngx_str_t *list, ngx_uint_t n);
static ngx_int_t ngx_scim_store_keys_push(ngx_scim_store_ctx_t *sc,
    ngx_uint_t nkeys);
static ngx_int_t ngx_scim_store_arg_event(ngx_scim_store_ctx_t *sc,
    ngx_scim_store_event_t *ev);
static const char *ngx_scim_store_type(ngx_scim_store_type_e type);
static ngx_int_t ngx_scim_store_run(ngx_scim_store_ctx_t *sc,
    ngx_scim_lua_e script);
static void ngx_scim_store_reply(void *data, redisReply *reply);



/*
 * The tenant's keys, every script's KEYS, in this order: that of the
 * names at the top of store/lua/lib.lua (and of ScimLua::keys in t/lib).
 */

static ngx_str_t  ngx_scim_store_keys[] = {
    ngx_string("User:docs"),
    ngx_string("User:display"),
    ngx_string("Group:display"),
    ngx_string("User:manager"),
    ngx_string("memberof"),
    ngx_string("User:idx:userName"),
    ngx_string("User:idx:externalId"),
    ngx_string("Group:docs"),
    ngx_string("members"),
    ngx_string("Group:idx:displayName"),
    ngx_string("Group:idx:externalId"),
    ngx_string("User:ids"),
    ngx_string("Group:ids"),
    ngx_string("seq"),
    ngx_string("User:idx:email"),
    ngx_string("User:reports"),
    ngx_string("events")
};

/* the positions of some of them (0-based), for the calls that take fewer */
enum {
    NGX_SCIM_STORE_K_MEMBEROF = 4,
    NGX_SCIM_STORE_K_USER_NAME,
    NGX_SCIM_STORE_K_USER_EXTERNAL_ID,
    NGX_SCIM_STORE_K_GROUP_DOCS,
    NGX_SCIM_STORE_K_MEMBERS,
    NGX_SCIM_STORE_K_GROUP_NAME,
    NGX_SCIM_STORE_K_GROUP_EXTERNAL_ID
};

#define NGX_SCIM_STORE_NKEYS                                                  \
    (sizeof(ngx_scim_store_keys) / sizeof(ngx_str_t))


/*
 * a call's context with the KEYS of script pushed (the most it takes: the
 * first nkeys of the tenant's keys, as its "--! keys" line says); n: the
 * ARGV expected, about
 */

static ngx_scim_store_ctx_t *
ngx_scim_store_ctx(ngx_scim_store_call_t *call, ngx_uint_t script,
    ngx_scim_store_reply_e shape, ngx_uint_t n)
{
    return ngx_scim_store_ctx_keys(call, ngx_scim_lua[script].nkeys, shape,
                                   n);
}


/* the same with the first nkeys of the tenant's keys pushed */

static ngx_scim_store_ctx_t *
ngx_scim_store_ctx_keys(ngx_scim_store_call_t *call, ngx_uint_t nkeys,
    ngx_scim_store_reply_e shape, ngx_uint_t n)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_pcalloc(call->pool, sizeof(ngx_scim_store_ctx_t));
    if (sc == NULL) {
        return NULL;
    }

    sc->call = *call;
    sc->shape = shape;

    sc->args = ngx_array_create(call->pool, nkeys + n, sizeof(ngx_str_t));
    if (sc->args == NULL) {
        return NULL;
    }

    if (ngx_scim_store_keys_push(sc, nkeys) != NGX_OK) {
        return NULL;
    }

    return sc;
}


/* "scim:{T}:" name for the first nkeys names of ngx_scim_store_keys */

static ngx_int_t
ngx_scim_store_keys_push(ngx_scim_store_ctx_t *sc, ngx_uint_t nkeys)
{
    u_char      *p, *q, *prefix;
    size_t       size, plen;
    ngx_uint_t   i;

    plen = sizeof("scim:{}:") - 1 + sc->call.tenant.len;
    size = plen;

    if (nkeys > NGX_SCIM_STORE_NKEYS) {
        return NGX_ERROR;
    }

    for (i = 0; i < nkeys; i++) {
        size += plen + ngx_scim_store_keys[i].len;
    }

    p = ngx_pnalloc(sc->call.pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    prefix = p;
    p = ngx_cpymem(p, "scim:{", sizeof("scim:{") - 1);
    p = ngx_cpymem(p, sc->call.tenant.data, sc->call.tenant.len);
    p = ngx_cpymem(p, "}:", sizeof("}:") - 1);

    for (i = 0; i < nkeys; i++) {
        q = ngx_cpymem(p, prefix, plen);
        q = ngx_cpymem(q, ngx_scim_store_keys[i].data,
                       ngx_scim_store_keys[i].len);

        if (ngx_scim_store_arg(sc, p, q - p) != NGX_OK) {
            return NGX_ERROR;
        }

        p = q;
    }

    sc->nkeys = nkeys;

    return NGX_OK;
}


static ngx_int_t
ngx_scim_store_arg(ngx_scim_store_ctx_t *sc, u_char *data, size_t len)
{
    ngx_str_t  *s;

    s = ngx_array_push(sc->args);
    if (s == NULL) {
        return NGX_ERROR;
    }

    s->data = data;
    s->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_scim_store_arg_str(ngx_scim_store_ctx_t *sc, ngx_str_t *s)
{
    return ngx_scim_store_arg(sc, s->len ? s->data : (u_char *) "", s->len);
}


static ngx_int_t
ngx_scim_store_arg_cstr(ngx_scim_store_ctx_t *sc, const char *s)
{
    return ngx_scim_store_arg(sc, (u_char *) s, ngx_strlen(s));
}


static ngx_int_t
ngx_scim_store_arg_int(ngx_scim_store_ctx_t *sc, ngx_int_t n)
{
    u_char  *p;

    p = ngx_pnalloc(sc->call.pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_scim_store_arg(sc, p, ngx_sprintf(p, "%i", n) - p);
}


/* count, then the values */

static ngx_int_t
ngx_scim_store_arg_list(ngx_scim_store_ctx_t *sc, ngx_str_t *list,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    if (ngx_scim_store_arg_int(sc, (ngx_int_t) n) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ngx_scim_store_arg_str(sc, &list[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static const char *
ngx_scim_store_type(ngx_scim_store_type_e type)
{
    return type == NGX_SCIM_STORE_USER ? "User" : "Group";
}


/* a write's event, after its own ARGV: nothing when events are off */

static ngx_int_t
ngx_scim_store_arg_event(ngx_scim_store_ctx_t *sc, ngx_scim_store_event_t *ev)
{
    if (ev->maxlen == 0 || ev->type == NULL) {
        return NGX_OK;
    }

    if (ngx_scim_store_arg_int(sc, (ngx_int_t) ev->maxlen) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, ev->type) != NGX_OK
        || ngx_scim_store_arg_str(sc, &ev->time) != NGX_OK
        || ngx_scim_store_arg_str(sc, &ev->active) != NGX_OK
        || ngx_scim_store_arg_str(sc, &ev->paths) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* operations: KEYS are pushed by ngx_scim_store_ctx(), then ARGV */

ngx_int_t
ngx_scim_store_get(ngx_scim_store_call_t *call, ngx_str_t *id,
    ngx_uint_t members)
{
    ngx_scim_store_ctx_t  *sc;

    /* a user's: up to memberof; a group's: up to members */

    sc = ngx_scim_store_ctx_keys(call, call->type == NGX_SCIM_STORE_USER
                                       ? NGX_SCIM_STORE_K_MEMBEROF + 1
                                       : NGX_SCIM_STORE_K_MEMBERS + 1,
                                 NGX_SCIM_STORE_R_DOC, 3);
    if (sc == NULL
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || ngx_scim_store_arg_str(sc, id) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, members ? "1" : "0") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_GET);
}


/* a slice of a group's members (store/lua/slice.lua) */

ngx_int_t
ngx_scim_store_slice(ngx_scim_store_call_t *call, ngx_str_t *id,
    ngx_str_t *after, ngx_uint_t count, ngx_uint_t head)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx_keys(call, NGX_SCIM_STORE_K_MEMBERS + 1,
                                 NGX_SCIM_STORE_R_SLICE, 4);
    if (sc == NULL
        || ngx_scim_store_arg_str(sc, id) != NGX_OK
        || ngx_scim_store_arg_str(sc, after) != NGX_OK
        || ngx_scim_store_arg_int(sc, (ngx_int_t) count) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, head ? "1" : "0") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_SLICE);
}


ngx_int_t
ngx_scim_store_find(ngx_scim_store_call_t *call, ngx_str_t *name,
    ngx_uint_t members)
{
    ngx_uint_t             k;
    ngx_scim_store_ctx_t  *sc;

    /* up to the index it reads */

    k = (call->type == NGX_SCIM_STORE_USER) ? NGX_SCIM_STORE_K_USER_NAME
                                            : NGX_SCIM_STORE_K_GROUP_NAME;

    sc = ngx_scim_store_ctx_keys(call, k + 1, NGX_SCIM_STORE_R_DOC, 3);
    if (sc == NULL
        || ngx_scim_store_arg_str(sc, name) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || ngx_scim_store_arg_cstr(sc, members ? "1" : "0") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_FIND);
}


ngx_int_t
ngx_scim_store_find_external_id(ngx_scim_store_call_t *call,
    ngx_str_t *external_id, ngx_uint_t members)
{
    ngx_uint_t             k;
    ngx_scim_store_ctx_t  *sc;

    /* up to the index it reads, which is after what a read needs */

    k = (call->type == NGX_SCIM_STORE_USER)
        ? NGX_SCIM_STORE_K_USER_EXTERNAL_ID
        : NGX_SCIM_STORE_K_GROUP_EXTERNAL_ID;

    sc = ngx_scim_store_ctx_keys(call, k + 1, NGX_SCIM_STORE_R_DOC, 3);
    if (sc == NULL
        || ngx_scim_store_arg_str(sc, external_id) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || ngx_scim_store_arg_cstr(sc, members ? "1" : "0") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_FIND_EXT);
}


/*
 * after: a cursor's page (RFC 9865) after that creation score (back:
 * before it); NULL: none
 */

ngx_int_t
ngx_scim_store_page(ngx_scim_store_call_t *call, ngx_uint_t start,
    ngx_uint_t count, ngx_uint_t members, ngx_str_t *after, ngx_uint_t back)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_PAGE,
                            after ? NGX_SCIM_STORE_R_PAGE_AFTER
                                  : NGX_SCIM_STORE_R_PAGE, 6);
    if (sc == NULL
        || ngx_scim_store_arg_int(sc, (ngx_int_t) start) != NGX_OK
        || ngx_scim_store_arg_int(sc, (ngx_int_t) count) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || ngx_scim_store_arg_cstr(sc, members ? "1" : "0") != NGX_OK
        || (after
            && (ngx_scim_store_arg_str(sc, after) != NGX_OK
                || ngx_scim_store_arg_cstr(sc, back ? "1" : "0") != NGX_OK)))
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_PAGE);
}


ngx_int_t
ngx_scim_store_scan(ngx_scim_store_call_t *call, ngx_scim_store_scan_t *scan)
{
    ngx_uint_t             i, n;
    ngx_scim_store_ctx_t  *sc;

    n = scan->cand ? scan->ncand : 0;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_SCAN,
                            scan->docs ? NGX_SCIM_STORE_R_SCAN
                                       : NGX_SCIM_STORE_R_SCAN_IDS,
                            9 + n);
    if (sc == NULL
        || (scan->cand ? ngx_scim_store_arg_cstr(sc, "")
                       : ngx_scim_store_arg_int(sc, (ngx_int_t) scan->start))
           != NGX_OK
        || ngx_scim_store_arg_int(sc, (ngx_int_t) scan->count) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || ngx_scim_store_arg_cstr(sc, scan->members ? "1" : "0") != NGX_OK
        || ngx_scim_store_arg_str(sc, &scan->literal) != NGX_OK
        || ngx_scim_store_arg_str(sc, scan->literal.len ? &scan->member
                                                        : &scan->literal)
           != NGX_OK
        || ngx_scim_store_arg_int(sc, (ngx_int_t) scan->bytes) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, scan->docs ? "1" : "0") != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ngx_scim_store_arg_str(sc, &scan->cand[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (scan->cand == NULL && scan->scores
        && ngx_scim_store_arg_cstr(sc, "1") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_SCAN);
}


ngx_int_t
ngx_scim_store_fetch(ngx_scim_store_call_t *call, ngx_scim_store_item_t *items,
    ngx_uint_t n, ngx_uint_t members)
{
    ngx_uint_t             i;
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_FETCH, NGX_SCIM_STORE_R_FETCH,
                            1 + 2 * n);
    if (sc == NULL
        || ngx_scim_store_arg_cstr(sc, members ? "1" : "0") != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(items[i].type))
            != NGX_OK
            || ngx_scim_store_arg_str(sc, &items[i].id) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_FETCH);
}


ngx_int_t
ngx_scim_store_find_email(ngx_scim_store_call_t *call, ngx_str_t *email)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_FIND_EMAIL,
                            NGX_SCIM_STORE_R_IDS, 1);
    if (sc == NULL || ngx_scim_store_arg_str(sc, email) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_FIND_EMAIL);
}


/*
 * after: a cursor's page (RFC 9865) of count after that id (back: before
 * it); NULL: all
 */

ngx_int_t
ngx_scim_store_related(ngx_scim_store_call_t *call, ngx_str_t *id,
    ngx_str_t *after, ngx_uint_t count, ngx_uint_t back)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_RELATED,
                            after ? NGX_SCIM_STORE_R_IDS_AFTER
                                  : NGX_SCIM_STORE_R_IDS, 5);
    if (sc == NULL
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || ngx_scim_store_arg_str(sc, id) != NGX_OK
        || (after
            && (ngx_scim_store_arg_str(sc, after) != NGX_OK
                || ngx_scim_store_arg_int(sc, (ngx_int_t) count) != NGX_OK
                || ngx_scim_store_arg_cstr(sc, back ? "1" : "0") != NGX_OK)))
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_RELATED);
}


ngx_int_t
ngx_scim_store_poll(ngx_scim_store_call_t *call, ngx_scim_store_poll_t *poll)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_FEED, NGX_SCIM_STORE_R_IDS,
                            6 + poll->nack);
    if (sc == NULL
        || ngx_scim_store_arg_str(sc, &poll->group) != NGX_OK
        || ngx_scim_store_arg_str(sc, &poll->consumer) != NGX_OK
        || ngx_scim_store_arg_int(sc, (ngx_int_t) poll->max) != NGX_OK
        || ngx_scim_store_arg_str(sc, &poll->iss) != NGX_OK
        || ngx_scim_store_arg_str(sc, &poll->aud) != NGX_OK
        || ngx_scim_store_arg_list(sc, poll->ack, poll->nack) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_FEED);
}


ngx_int_t
ngx_scim_store_create(ngx_scim_store_call_t *call, ngx_scim_store_write_t *w)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_CREATE, NGX_SCIM_STORE_R_WRITE,
                            15 + w->nadd + w->nemails);
    if (sc == NULL
        || ngx_scim_store_arg_str(sc, &w->id) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->text) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->name) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->external_id) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->display) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->manager) != NGX_OK
        || ngx_scim_store_arg_list(sc, w->add, w->nadd) != NGX_OK
        || ngx_scim_store_arg_list(sc, w->emails, w->nemails) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, w->unique_external_id ? "1" : "0")
           != NGX_OK
        || ngx_scim_store_arg_event(sc, &w->event) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_CREATE);
}


ngx_int_t
ngx_scim_store_replace(ngx_scim_store_call_t *call, ngx_scim_store_write_t *w)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_REPLACE, NGX_SCIM_STORE_R_WRITE,
                            23 + w->nremove + w->nadd + w->nemails
                            + w->nold_emails);
    if (sc == NULL
        || ngx_scim_store_arg_str(sc, &w->id) != NGX_OK
        || (w->any_version ? ngx_scim_store_arg_cstr(sc, "")
                           : ngx_scim_store_arg_int(sc, w->expect)) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->text) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->old_name) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->name) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->old_external_id) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->external_id) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->display) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->now) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->manager) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, w->clear ? "1" : "0") != NGX_OK
        || ngx_scim_store_arg_list(sc, w->remove, w->nremove) != NGX_OK
        || ngx_scim_store_arg_list(sc, w->add, w->nadd) != NGX_OK
        || ngx_scim_store_arg_list(sc, w->old_emails, w->nold_emails)
           != NGX_OK
        || ngx_scim_store_arg_list(sc, w->emails, w->nemails) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, w->unique_external_id ? "1" : "0")
           != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->sha1) != NGX_OK
        || ngx_scim_store_arg_event(sc, &w->event) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_REPLACE);
}


ngx_int_t
ngx_scim_store_members(ngx_scim_store_call_t *call, ngx_scim_store_write_t *w)
{
    ngx_scim_store_write_t  m;

    /* replace.lua with no text keeps the document */

    ngx_memzero(&m, sizeof(ngx_scim_store_write_t));

    m.id = w->id;
    m.expect = w->expect;
    m.any_version = w->any_version;
    m.now = w->now;
    m.clear = w->clear;
    m.remove = w->remove;
    m.nremove = w->nremove;
    m.add = w->add;
    m.nadd = w->nadd;
    m.event = w->event;

    return ngx_scim_store_replace(call, &m);
}


ngx_int_t
ngx_scim_store_delete(ngx_scim_store_call_t *call, ngx_scim_store_write_t *w)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_DELETE, NGX_SCIM_STORE_R_WRITE,
                            12 + w->nemails);
    if (sc == NULL
        || ngx_scim_store_arg_str(sc, &w->id) != NGX_OK
        || ngx_scim_store_arg_int(sc, w->expect) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->name) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->external_id) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || ngx_scim_store_arg_list(sc, w->emails, w->nemails) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->now) != NGX_OK
        || ngx_scim_store_arg_event(sc, &w->event) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_DELETE);
}


ngx_int_t
ngx_scim_store_delete_id(ngx_scim_store_call_t *call,
    ngx_scim_store_write_t *w)
{
    ngx_scim_store_ctx_t  *sc;

    sc = ngx_scim_store_ctx(call, NGX_SCIM_LUA_DELETE_ID,
                            NGX_SCIM_STORE_R_WRITE, 9);
    if (sc == NULL
        || ngx_scim_store_arg_str(sc, &w->id) != NGX_OK
        || ngx_scim_store_arg_cstr(sc, ngx_scim_store_type(call->type))
           != NGX_OK
        || (w->any_version ? ngx_scim_store_arg_cstr(sc, "")
                           : ngx_scim_store_arg_int(sc, w->expect)) != NGX_OK
        || ngx_scim_store_arg_str(sc, &w->now) != NGX_OK
        || ngx_scim_store_arg_event(sc, &w->event) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_scim_store_run(sc, NGX_SCIM_LUA_DELETE_ID);
}


/* HGET scim:{T}:auth:<kind> field: a plain command, no script */

ngx_int_t
ngx_scim_store_credential(ngx_scim_store_call_t *call,
    ngx_scim_store_auth_e kind, ngx_str_t *field)
{
    u_char                *p, *key;
    size_t                 len;
    ngx_int_t              rc;
    const char           **argv;
    ngx_scim_store_ctx_t  *sc;

    static const char  *names[] = { "tokens", "clients" };

    sc = ngx_pcalloc(call->pool, sizeof(ngx_scim_store_ctx_t));
    if (sc == NULL) {
        return NGX_ERROR;
    }

    sc->call = *call;
    sc->shape = NGX_SCIM_STORE_R_VALUE;

    len = sizeof("scim:{}:auth:clients") - 1 + call->tenant.len;

    key = ngx_pnalloc(call->pool, len);
    argv = ngx_palloc(call->pool, 3 * (sizeof(char *) + sizeof(size_t)));

    if (key == NULL || argv == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(key, "scim:{%V}:auth:%s", &call->tenant, names[kind]);

    argv[0] = "HGET";
    argv[1] = (const char *) key;
    argv[2] = field->len ? (const char *) field->data : "";

    ((size_t *) (argv + 3))[0] = 4;
    ((size_t *) (argv + 3))[1] = p - key;
    ((size_t *) (argv + 3))[2] = field->len;

    rc = ngx_scim_cluster_eval(call->store, call->pool, NULL, 1, 3, argv,
                               (size_t *) (argv + 3), 0,
                               ngx_scim_store_reply, sc, call->op);

    if (rc != NGX_OK && call->op) {
        *call->op = NULL;
    }

    return rc;
}


void
ngx_scim_store_cancel(ngx_scim_store_op_t *op)
{
    ngx_scim_cluster_cancel(op);
}


/* the command, and its reply */

static ngx_int_t
ngx_scim_store_run(ngx_scim_store_ctx_t *sc, ngx_scim_lua_e script)
{
    int                 argc;
    size_t             *argvlen;
    ngx_int_t           rc;
    ngx_str_t          *args;
    ngx_uint_t          i;
    const char        **argv;
    ngx_scim_store_t   *store;

    store = sc->call.store;
    argc = (int) sc->args->nelts;
    args = sc->args->elts;

    argv = ngx_palloc(sc->call.pool, argc * (sizeof(char *) + sizeof(size_t)));
    if (argv == NULL) {
        return NGX_ERROR;
    }

    argvlen = (size_t *) (argv + argc);

    for (i = 0; i < (ngx_uint_t) argc; i++) {
        argv[i] = (const char *) args[i].data;
        argvlen[i] = args[i].len;
    }

    rc = ngx_scim_cluster_eval(store, sc->call.pool, &store->scripts[script],
                               (int) sc->nkeys, argc, argv, argvlen,
                               script == NGX_SCIM_LUA_CREATE
                               || script == NGX_SCIM_LUA_REPLACE
                               || script == NGX_SCIM_LUA_DELETE
                               || script == NGX_SCIM_LUA_DELETE_ID
                               || script == NGX_SCIM_LUA_FEED,
                               ngx_scim_store_reply, sc, sc->call.op);

    if (rc != NGX_OK && sc->call.op) {
        *sc->call.op = NULL;
    }

    return rc;
}


/*
 * The decoded result lives on the stack and, for what it must allocate
 * (lists of documents, ids, a document's groups or members), in a pool
 * of its own made on demand and freed when the handler returns (the text
 * it points to is hiredis's, freed then too): a reply leaves nothing in
 * the request's pool, nor in the call's, which the handler may destroy.
 * Its log is the cycle's: the handler may close the request's
 * connection.
 */

static void
ngx_scim_store_reply(void *data, redisReply *reply)
{
    ngx_scim_store_ctx_t  *sc = data;

    ngx_pool_t                 *pool;
    ngx_scim_store_res_t        res;
    ngx_scim_store_doc_t        one;
    ngx_scim_store_handler_pt   handler;

    if (sc->call.op) {
        *sc->call.op = NULL;
    }

    ngx_memzero(&res, sizeof(ngx_scim_store_res_t));

    pool = NULL;

    if (reply == NULL) {
        res.status = NGX_SCIM_STORE_UNAVAILABLE;

    } else if (reply->type == REDIS_REPLY_ERROR) {
        res.status = NGX_SCIM_STORE_FAILED;
        res.error.data = (u_char *) reply->str;
        res.error.len = reply->len;
        ngx_scim_store_count(NGX_SCIM_STORE_STAT_REFUSED);

        ngx_log_error(NGX_LOG_ERR, sc->call.log, 0,
                      "scim redis error: %V", &res.error);

    } else if (ngx_scim_store_decode(sc, &pool, reply, &res, &one)
               != NGX_OK)
    {
        res.status = NGX_SCIM_STORE_BAD_REPLY;
        ngx_scim_store_count(NGX_SCIM_STORE_STAT_BAD_REPLY);
    }

    handler = sc->call.handler;

    /* sc may be gone after this */
    handler(sc->call.data, &res);

    if (pool) {
        ngx_destroy_pool(pool);
    }
}
