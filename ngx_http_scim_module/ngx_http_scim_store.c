
/*
 * ngx_http_scim_module: the Redis data model and its Lua scripts.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_scim_store.h"


/*
 * The version tail appended to a stored document; see the header.  In
 * Lua source: 'W/\\"' .. seq .. '\\""}}'
 */

#define SCIM_LUA_VERSION_OF(doc)                                             \
    "string.match(" doc ", '\"version\":\"W/\\\\\"(%d+)\\\\\"\"}}$')"
#define SCIM_LUA_WITH_VERSION(prefix, seq)                                   \
    prefix " .. 'W/\\\\\"' .. " seq " .. '\\\\\"\"}}'"


/*
 * create
 *   KEYS: doc, ids, seq, idx name, idx externalId
 *   ARGV: id, doc prefix, folded name, externalId ('' = none)
 *   -> {1, seq} | {-2, 1|2} | {-3}
 */

static const char  ngx_http_scim_lua_create[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return {-3} end\n"
    "if redis.call('HEXISTS', KEYS[4], ARGV[3]) == 1 then\n"
    "  return {-2, 1}\n"
    "end\n"
    "if ARGV[4] ~= '' and redis.call('HEXISTS', KEYS[5], ARGV[4]) == 1 then\n"
    "  return {-2, 2}\n"
    "end\n"
    "local seq = redis.call('INCR', KEYS[3])\n"
    "redis.call('SET', KEYS[1], "
        SCIM_LUA_WITH_VERSION("ARGV[2]", "seq") ")\n"
    "redis.call('ZADD', KEYS[2], seq, ARGV[1])\n"
    "redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])\n"
    "if ARGV[4] ~= '' then redis.call('HSET', KEYS[5], ARGV[4], ARGV[1]) end\n"
    "return {1, seq}\n";


/*
 * replace: a write of a document read at version ARGV[2]
 *   KEYS: doc, seq, idx name, idx externalId
 *   ARGV: id, expected version, doc prefix, old name, new name,
 *         old externalId, new externalId
 *   -> {1, seq} | {0} | {-1, current} | {-2, 1|2}
 */

static const char  ngx_http_scim_lua_replace[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then return {0} end\n"
    "local v = " SCIM_LUA_VERSION_OF("cur") "\n"
    "if v ~= ARGV[2] then return {-1, v or ''} end\n"
    "if ARGV[5] ~= ARGV[4] then\n"
    "  local o = redis.call('HGET', KEYS[3], ARGV[5])\n"
    "  if o and o ~= ARGV[1] then return {-2, 1} end\n"
    "end\n"
    "if ARGV[7] ~= ARGV[6] and ARGV[7] ~= '' then\n"
    "  local o = redis.call('HGET', KEYS[4], ARGV[7])\n"
    "  if o and o ~= ARGV[1] then return {-2, 2} end\n"
    "end\n"
    "local seq = redis.call('INCR', KEYS[2])\n"
    "if ARGV[5] ~= ARGV[4] then\n"
    "  if redis.call('HGET', KEYS[3], ARGV[4]) == ARGV[1] then\n"
    "    redis.call('HDEL', KEYS[3], ARGV[4])\n"
    "  end\n"
    "  redis.call('HSET', KEYS[3], ARGV[5], ARGV[1])\n"
    "end\n"
    "if ARGV[7] ~= ARGV[6] then\n"
    "  if ARGV[6] ~= '' and redis.call('HGET', KEYS[4], ARGV[6]) == ARGV[1]\n"
    "  then\n"
    "    redis.call('HDEL', KEYS[4], ARGV[6])\n"
    "  end\n"
    "  if ARGV[7] ~= '' then redis.call('HSET', KEYS[4], ARGV[7], ARGV[1]) end\n"
    "end\n"
    "redis.call('SET', KEYS[1], "
        SCIM_LUA_WITH_VERSION("ARGV[3]", "seq") ")\n"
    "return {1, seq}\n";


/*
 * delete a document read at version ARGV[2], with its index entries and
 * its memberships
 *   KEYS: doc, ids, idx name, idx externalId, own set (user: groups,
 *         group: members)
 *   ARGV: id, expected version, folded name, externalId, tenant prefix,
 *         "User" or "Group"
 *   -> {1} | {0} | {-1, current}
 */

static const char  ngx_http_scim_lua_delete[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then return {0} end\n"
    "local v = " SCIM_LUA_VERSION_OF("cur") "\n"
    "if v ~= ARGV[2] then return {-1, v or ''} end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "if redis.call('HGET', KEYS[3], ARGV[3]) == ARGV[1] then\n"
    "  redis.call('HDEL', KEYS[3], ARGV[3])\n"
    "end\n"
    "if ARGV[4] ~= '' and redis.call('HGET', KEYS[4], ARGV[4]) == ARGV[1]\n"
    "then\n"
    "  redis.call('HDEL', KEYS[4], ARGV[4])\n"
    "end\n"
    "local p = ARGV[5]\n"
    "if ARGV[6] == 'User' then\n"
    "  for _, g in ipairs(redis.call('SMEMBERS', KEYS[5])) do\n"
    "    redis.call('SREM', p .. 'Group:' .. g .. ':members', ARGV[1])\n"
    "  end\n"
    "else\n"
    "  for _, m in ipairs(redis.call('SMEMBERS', KEYS[5])) do\n"
    "    redis.call('SREM', p .. 'User:' .. m .. ':groups', ARGV[1])\n"
    "    redis.call('SREM', p .. 'Group:' .. m .. ':groups', ARGV[1])\n"
    "  end\n"
    "  for _, g in ipairs(redis.call('SMEMBERS',\n"
    "                    p .. 'Group:' .. ARGV[1] .. ':groups')) do\n"
    "    redis.call('SREM', p .. 'Group:' .. g .. ':members', ARGV[1])\n"
    "  end\n"
    "  redis.call('DEL', p .. 'Group:' .. ARGV[1] .. ':groups')\n"
    "end\n"
    "redis.call('DEL', KEYS[5])\n"
    "return {1}\n";


/*
 * find: an index lookup and the document, in one round trip
 *   KEYS: idx
 *   ARGV: field, document key prefix
 *   -> document | nil
 */

static const char  ngx_http_scim_lua_find[] =
    "local id = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not id then return false end\n"
    "return redis.call('GET', ARGV[2] .. id)\n";


/*
 * page: ids in creation order and their documents
 *   KEYS: ids
 *   ARGV: start (0-based), count, document key prefix
 *   -> {total, doc, doc, ...}   (a document deleted meanwhile: nil)
 */

static const char  ngx_http_scim_lua_page[] =
    "local r = {redis.call('ZCARD', KEYS[1])}\n"
    "local n = tonumber(ARGV[2])\n"
    "if n > 0 then\n"
    "  local s = tonumber(ARGV[1])\n"
    "  local ids = redis.call('ZRANGE', KEYS[1], s, s + n - 1)\n"
    "  if #ids > 0 then\n"
    "    for i = 1, #ids do ids[i] = ARGV[3] .. ids[i] end\n"
    "    local docs = redis.call('MGET', unpack(ids))\n"
    "    for i = 1, #docs do r[i + 1] = docs[i] end\n"
    "  end\n"
    "end\n"
    "return r\n";


static struct {
    const char  *name;
    const char  *body;
    size_t       len;
} ngx_http_scim_scripts[NGX_HTTP_SCIM_SCRIPT_N] = {
    { "create", ngx_http_scim_lua_create,
      sizeof(ngx_http_scim_lua_create) - 1 },
    { "replace", ngx_http_scim_lua_replace,
      sizeof(ngx_http_scim_lua_replace) - 1 },
    { "delete", ngx_http_scim_lua_delete,
      sizeof(ngx_http_scim_lua_delete) - 1 },
    { "find", ngx_http_scim_lua_find,
      sizeof(ngx_http_scim_lua_find) - 1 },
    { "page", ngx_http_scim_lua_page,
      sizeof(ngx_http_scim_lua_page) - 1 },
};


ngx_int_t
ngx_http_scim_store_init_scripts(ngx_conf_t *cf,
    ngx_scim_redis_script_t **scripts, ngx_uint_t *n)
{
    ngx_uint_t                i;
    ngx_scim_redis_script_t  *s;

    s = ngx_pcalloc(cf->pool,
                    NGX_HTTP_SCIM_SCRIPT_N * sizeof(ngx_scim_redis_script_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_SCIM_SCRIPT_N; i++) {
        s[i].name.data = (u_char *) ngx_http_scim_scripts[i].name;
        s[i].name.len = ngx_strlen(ngx_http_scim_scripts[i].name);
        s[i].body.data = (u_char *) ngx_http_scim_scripts[i].body;
        s[i].body.len = ngx_http_scim_scripts[i].len;

        if (ngx_scim_redis_script_init(&s[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    *scripts = s;
    *n = NGX_HTTP_SCIM_SCRIPT_N;

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_store_keys(ngx_pool_t *pool, ngx_str_t *tenant,
    const char *type, ngx_http_scim_keys_t *keys)
{
    size_t   tlen;
    u_char  *p;

    tlen = ngx_strlen(type);

    p = ngx_pnalloc(pool, sizeof("scim:{}:") - 1 + tenant->len
                          + sizeof("scim:{}:") - 1 + tenant->len + tlen + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    keys->tenant.data = p;
    p = ngx_sprintf(p, "scim:{%V}:", tenant);
    keys->tenant.len = p - keys->tenant.data;

    keys->type.data = p;
    p = ngx_sprintf(p, "scim:{%V}:%s:", tenant, type);
    keys->type.len = p - keys->type.data;

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_store_key(ngx_pool_t *pool, ngx_http_scim_keys_t *keys,
    const char *suffix, size_t len, ngx_str_t *out)
{
    u_char  *p;

    p = ngx_pnalloc(pool, keys->type.len + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, keys->type.data, keys->type.len);
    p = ngx_cpymem(p, suffix, len);
    out->len = p - out->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_store_id_key(ngx_pool_t *pool, ngx_http_scim_keys_t *keys,
    ngx_str_t *id, const char *tail, ngx_str_t *out)
{
    size_t   tlen;
    u_char  *p;

    tlen = tail ? ngx_strlen(tail) : 0;

    p = ngx_pnalloc(pool, keys->type.len + id->len + tlen);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, keys->type.data, keys->type.len);
    p = ngx_cpymem(p, id->data, id->len);
    p = ngx_cpymem(p, tail, tlen);
    out->len = p - out->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_store_valid_id(u_char *p, size_t len)
{
    size_t  i;

    if (len != 36) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-') {
                return 0;
            }

            continue;
        }

        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}
