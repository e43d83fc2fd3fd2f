
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
 * Shared Lua: membership deltas and reads.
 *
 * members(p, gid, clear, rem, add): applies a group's member changes to
 * its member set and to each member's reverse set (User:<id>:groups or
 * Group:<id>:groups).  check(p, gid, add) returns the first id of add
 * that is neither a user nor a group (or the group itself), or nil.
 * expand(p, t, id, want) returns {doc, manager display, id, type,
 * display, ...}: a user's manager's current display name and groups, or
 * (want == '1') a group's members; nil if there is no doc.  manager()
 * keeps User:manager (id -> manager id) in step with the documents.
 */

#define SCIM_LUA_COMMON                                                      \
    "local function kind(p, id)\n"                                           \
    "  if redis.call('HEXISTS', p .. 'User:display', id) == 1 then\n"        \
    "    return 'User'\n"                                                    \
    "  end\n"                                                                \
    "  if redis.call('HEXISTS', p .. 'Group:display', id) == 1 then\n"       \
    "    return 'Group'\n"                                                   \
    "  end\n"                                                                \
    "  return nil\n"                                                         \
    "end\n"                                                                  \
    "local function check(p, gid, add)\n"                                    \
    "  for _, m in ipairs(add) do\n"                                         \
    "    if m == gid or not kind(p, m) then return m end\n"                  \
    "  end\n"                                                                \
    "  return nil\n"                                                         \
    "end\n"                                                                  \
    "local function members(p, gid, clear, rem, add)\n"                      \
    "  local set = p .. 'Group:' .. gid .. ':members'\n"                     \
    "  if clear then\n"                                                      \
    "    local all = redis.call('SMEMBERS', set)\n"                          \
    "    for _, m in ipairs(all) do\n"                                       \
    "      redis.call('SREM', p .. 'User:' .. m .. ':groups', gid)\n"        \
    "      redis.call('SREM', p .. 'Group:' .. m .. ':groups', gid)\n"       \
    "    end\n"                                                              \
    "    redis.call('DEL', set)\n"                                           \
    "  end\n"                                                                \
    "  for _, m in ipairs(rem) do\n"                                         \
    "    if redis.call('SREM', set, m) == 1 then\n"                          \
    "      redis.call('SREM', p .. 'User:' .. m .. ':groups', gid)\n"        \
    "      redis.call('SREM', p .. 'Group:' .. m .. ':groups', gid)\n"       \
    "    end\n"                                                              \
    "  end\n"                                                                \
    "  for _, m in ipairs(add) do\n"                                         \
    "    if redis.call('SADD', set, m) == 1 then\n"                          \
    "      redis.call('SADD', p .. kind(p, m) .. ':' .. m .. ':groups', gid)\n"\
    "    end\n"                                                              \
    "  end\n"                                                                \
    "end\n"                                                                  \
    "local function mdisplay(p, t, id)\n"                                   \
    "  if t ~= 'User' then return false end\n"                              \
    "  local m = redis.call('HGET', p .. 'User:manager', id)\n"             \
    "  if not m then return false end\n"                                    \
    "  return redis.call('HGET', p .. 'User:display', m)\n"                 \
    "end\n"                                                                  \
    "local function manager(p, t, id, m)\n"                                 \
    "  if t ~= 'User' then return end\n"                                    \
    "  if m == '' then redis.call('HDEL', p .. 'User:manager', id)\n"       \
    "  else redis.call('HSET', p .. 'User:manager', id, m) end\n"           \
    "end\n"                                                                  \
    "local function emails(p, id, old, new)\n"                              \
    "  local k = p .. 'User:idx:email'\n"                                   \
    "  for _, e in ipairs(old) do redis.call('ZREM', k, e .. '\\0' .. id) end\n"\
    "  for _, e in ipairs(new) do\n"                                         \
    "    redis.call('ZADD', k, 0, e .. '\\0' .. id)\n"                       \
    "  end\n"                                                                \
    "end\n"                                                                  \
    "local function expand(p, t, id, want)\n"                                \
    "  local doc = redis.call('GET', p .. t .. ':' .. id)\n"                 \
    "  if not doc then return false end\n"                                   \
    "  local r = {doc, mdisplay(p, t, id)}\n"                                \
    "  local ids\n"                                                          \
    "  if t == 'User' then\n"                                                \
    "    ids = redis.call('SMEMBERS', p .. 'User:' .. id .. ':groups')\n"    \
    "  elseif want == '1' then\n"                                            \
    "    ids = redis.call('SMEMBERS', p .. 'Group:' .. id .. ':members')\n"  \
    "  else\n"                                                               \
    "    return r\n"                                                         \
    "  end\n"                                                                \
    "  for i = 1, #ids, 1000 do\n"                                           \
    "    local chunk = {unpack(ids, i, math.min(i + 999, #ids))}\n"          \
    "    local gn = redis.call('HMGET', p .. 'Group:display',\n"             \
    "                          unpack(chunk))\n"                             \
    "    local un = {}\n"                                                    \
    "    if t == 'Group' then\n"                                             \
    "      un = redis.call('HMGET', p .. 'User:display', unpack(chunk))\n"   \
    "    end\n"                                                              \
    "    for j = 1, #chunk do\n"                                             \
    "      if un[j] then\n"                                                  \
    "        r[#r + 1] = chunk[j]; r[#r + 1] = 'User'; r[#r + 1] = un[j]\n"  \
    "      elseif gn[j] then\n"                                              \
    "        r[#r + 1] = chunk[j]; r[#r + 1] = 'Group'; r[#r + 1] = gn[j]\n" \
    "      end\n"                                                            \
    "    end\n"                                                              \
    "  end\n"                                                                \
    "  return r\n"                                                           \
    "end\n"

/* ARGV[n] = count, then count ids: a list and the index after it */
#define SCIM_LUA_LIST                                                        \
    "local function list(i)\n"                                               \
    "  local n = tonumber(ARGV[i])\n"                                        \
    "  local l = {}\n"                                                       \
    "  for k = 1, n do l[k] = ARGV[i + k] end\n"                             \
    "  return l, i + n + 1\n"                                                \
    "end\n"


/*
 * create
 *   KEYS: doc, ids, seq, idx name, idx externalId, display hash
 *   ARGV: id, doc prefix, folded name, externalId ('' = none), display,
 *         tenant prefix, type, manager id ('' = none), nadd, member ids...,
 *         nemails, folded e-mails...
 *   -> {1, seq, manager display} | {-2, 1|2} | {-3} | {-4, bad member id}
 */

static const char  ngx_http_scim_lua_create[] =
    SCIM_LUA_COMMON
    SCIM_LUA_LIST
    "if redis.call('EXISTS', KEYS[1]) == 1 then return {-3} end\n"
    "if redis.call('HEXISTS', KEYS[4], ARGV[3]) == 1 then\n"
    "  return {-2, 1}\n"
    "end\n"
    "if ARGV[4] ~= '' and redis.call('HEXISTS', KEYS[5], ARGV[4]) == 1 then\n"
    "  return {-2, 2}\n"
    "end\n"
    "local add, j = list(9)\n"
    "local em = list(j)\n"
    "local bad = check(ARGV[6], ARGV[1], add)\n"
    "if bad then return {-4, bad} end\n"
    "local seq = redis.call('INCR', KEYS[3])\n"
    "redis.call('SET', KEYS[1], "
        SCIM_LUA_WITH_VERSION("ARGV[2]", "seq") ")\n"
    "redis.call('ZADD', KEYS[2], seq, ARGV[1])\n"
    "redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])\n"
    "if ARGV[4] ~= '' then redis.call('HSET', KEYS[5], ARGV[4], ARGV[1]) end\n"
    "redis.call('HSET', KEYS[6], ARGV[1], ARGV[5])\n"
    "if ARGV[7] == 'Group' then members(ARGV[6], ARGV[1], false, {}, add) end\n"
    "manager(ARGV[6], ARGV[7], ARGV[1], ARGV[8])\n"
    "if ARGV[7] == 'User' then emails(ARGV[6], ARGV[1], {}, em) end\n"
    "return {1, seq, mdisplay(ARGV[6], ARGV[7], ARGV[1])}\n";


/*
 * replace: a write of a document read at version ARGV[2], and a group's
 * member changes, atomically.  With ARGV[3] == '' the document is kept
 * and only its lastModified and version change (a member-only PATCH,
 * which never reads the document first).
 *   KEYS: doc, seq, idx name, idx externalId, display hash
 *   ARGV: id, expected version ('' = any), doc prefix, old name, new name,
 *         old externalId, new externalId, display, now, tenant prefix,
 *         type, manager id ('' = none), clear ('1'|'0'), nrem, ids...,
 *         nadd, ids..., nold, old folded e-mails..., nnew, new ones...
 *   -> {1, seq, manager display} | {0} | {-1, current} | {-2, 1|2}
 *      | {-4, bad member id}
 */

static const char  ngx_http_scim_lua_replace[] =
    SCIM_LUA_COMMON
    SCIM_LUA_LIST
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then return {0} end\n"
    "local v = " SCIM_LUA_VERSION_OF("cur") "\n"
    "if ARGV[2] ~= '' and v ~= ARGV[2] then return {-1, v or ''} end\n"
    "local rem, i = list(14)\n"
    "local add, j = list(i)\n"
    "local oldem, k = list(j)\n"
    "local newem = list(k)\n"
    "local bad = check(ARGV[10], ARGV[1], add)\n"
    "if bad then return {-4, bad} end\n"
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
    "if ARGV[8] ~= '' then redis.call('HSET', KEYS[5], ARGV[1], ARGV[8]) end\n"
    "if ARGV[11] == 'Group' then\n"
    "  members(ARGV[10], ARGV[1], ARGV[13] == '1', rem, add)\n"
    "end\n"
    "if ARGV[3] ~= '' then\n"
    "  manager(ARGV[10], ARGV[11], ARGV[1], ARGV[12])\n"
    "  if ARGV[11] == 'User' then emails(ARGV[10], ARGV[1], oldem, newem) end\n"
    "  redis.call('SET', KEYS[1], "
        SCIM_LUA_WITH_VERSION("ARGV[3]", "seq") ")\n"
    "else\n"
    "  local head = string.match(cur,\n"
    "    '^(.*\"lastModified\":\")[^\"]*\",\"version\":\"W/\\\\\"%d+\\\\\"\"}}$')\n"
    "  if not head then return redis.error_reply('bad stored document') end\n"
    "  redis.call('SET', KEYS[1], "
        SCIM_LUA_WITH_VERSION("head .. ARGV[9] .. '\",\"version\":\"'", "seq")
        ")\n"
    "end\n"
    "return {1, seq, mdisplay(ARGV[10], ARGV[11], ARGV[1])}\n";


/*
 * delete a document read at version ARGV[2], with its index entries and
 * its memberships
 *   KEYS: doc, ids, idx name, idx externalId, display hash
 *   ARGV: id, expected version, folded name, externalId, tenant prefix,
 *         "User" or "Group", nemails, folded e-mails...
 *   -> {1} | {0} | {-1, current}
 */

static const char  ngx_http_scim_lua_delete[] =
    SCIM_LUA_COMMON
    SCIM_LUA_LIST
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then return {0} end\n"
    "local v = " SCIM_LUA_VERSION_OF("cur") "\n"
    "if v ~= ARGV[2] then return {-1, v or ''} end\n"
    "local p, id = ARGV[5], ARGV[1]\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], id)\n"
    "if redis.call('HGET', KEYS[3], ARGV[3]) == id then\n"
    "  redis.call('HDEL', KEYS[3], ARGV[3])\n"
    "end\n"
    "if ARGV[4] ~= '' and redis.call('HGET', KEYS[4], ARGV[4]) == id then\n"
    "  redis.call('HDEL', KEYS[4], ARGV[4])\n"
    "end\n"
    "redis.call('HDEL', KEYS[5], id)\n"
    "local own = p .. ARGV[6] .. ':' .. id .. ':groups'\n"
    "for _, g in ipairs(redis.call('SMEMBERS', own)) do\n"
    "  redis.call('SREM', p .. 'Group:' .. g .. ':members', id)\n"
    "end\n"
    "redis.call('DEL', own)\n"
    "if ARGV[6] == 'Group' then members(p, id, true, {}, {}) end\n"
    "manager(p, ARGV[6], id, '')\n"
    "if ARGV[6] == 'User' then emails(p, id, list(7), {}) end\n"
    "return {1}\n";


/*
 * get: a document with its user's groups or its group's members
 *   ARGV: tenant prefix, type, id, want members ('1'|'0')
 *   -> {doc, manager display, id, type, display, ...} | nil
 */

static const char  ngx_http_scim_lua_get[] =
    SCIM_LUA_COMMON
    "return expand(ARGV[1], ARGV[2], ARGV[3], ARGV[4])\n";


/*
 * find: an index lookup and the document, in one round trip
 *   KEYS: idx
 *   ARGV: field, tenant prefix, type, want members
 *   -> {doc, ...} | nil
 */

static const char  ngx_http_scim_lua_find[] =
    SCIM_LUA_COMMON
    "local id = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not id then return false end\n"
    "return expand(ARGV[2], ARGV[3], id, ARGV[4])\n";


/*
 * find_email: the ids of the users that have an e-mail (folded), any
 * type; the scan script reads them (candidates, see "scan")
 *   KEYS: User:idx:email
 *   ARGV: folded e-mail
 *   -> {id, ...}
 */

static const char  ngx_http_scim_lua_find_email[] =
    "local r = {}\n"
    "local e = ARGV[1] .. '\\0'\n"
    "for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], '[' .. e,\n"
    "                              '[' .. e .. '\\255')) do\n"
    "  r[#r + 1] = string.sub(m, #e + 1)\n"
    "end\n"
    "return r\n";


/*
 * page: ids in creation order and their documents
 *   KEYS: ids
 *   ARGV: start (0-based), count, tenant prefix, type, want members
 *   -> {total, {doc, ...}, {doc, ...}, ...}   (deleted meanwhile: nil)
 */

static const char  ngx_http_scim_lua_page[] =
    SCIM_LUA_COMMON
    "local r = {redis.call('ZCARD', KEYS[1])}\n"
    "local n = tonumber(ARGV[2])\n"
    "if n > 0 then\n"
    "  local s = tonumber(ARGV[1])\n"
    "  local ids = redis.call('ZRANGE', KEYS[1], s, s + n - 1)\n"
    "  for i = 1, #ids do\n"
    "    r[i + 1] = expand(ARGV[3], ARGV[4], ids[i], ARGV[5])\n"
    "  end\n"
    "end\n"
    "return r\n";


/*
 * scan: a batch of a walk over the ids in creation order (ARGV[1], the
 * start, 0-based) or over candidates the caller holds (ARGV[1] == '':
 * the ids from ARGV[10] on).  A batch is bounded: at most ARGV[2] ids,
 * and it ends after the document that brings what it returns (the
 * documents' text, 32 bytes per group or member listed with them) to
 * ARGV[8] bytes or what it searched for the literal to 4 * ARGV[8]
 * bytes, so that neither Redis nor nginx is held long by one call.
 *
 * With ARGV[9] == '0' (the documents are not needed: no filter, no
 * sort) the ids alone come back.  Otherwise only the documents that can
 * match leave Redis: those holding the filter's required literal in a
 * string value of a member ARGV[7] ('"<name>":"', the canonical name
 * the stored documents use); ARGV[6] is the literal as a Lua pattern
 * that ignores ASCII case ("[sS][aA]%-1"), '' for none.  The C side
 * evaluates the filter on them.  A text with U+017F (long s, which folds
 * to "s") always leaves.
 *   KEYS: ids
 *   ARGV: start | '', count, tenant prefix, type, want members, literal,
 *         member, bytes, documents ('1'|'0'), ids...
 *   -> {total, ids walked, id, {doc, ...}, id, {doc, ...}, ...}
 *      | {total, ids walked, id, id, ...}
 */

static const char  ngx_http_scim_lua_scan[] =
    SCIM_LUA_COMMON
    "local function holds(d, key, lit)\n"
    "  local i = 1\n"
    "  while true do\n"
    "    local _, b = string.find(d, key, i, true)\n"
    "    if not b then return false end\n"
    "    local j, k = b + 1, b + 1\n"
    "    while true do\n"
    "      local q = string.find(d, '\"', k, true)\n"
    "      if not q then return false end\n"
    "      local m = q - 1\n"
    "      while m >= j and string.byte(d, m) == 92 do m = m - 1 end\n"
    "      if (q - 1 - m) % 2 == 0 then\n"
    "        local a = string.find(d, lit, j)\n"
    "        if a and a < q then return true end\n"
    "        i = q + 1\n"
    "        break\n"
    "      end\n"
    "      k = q + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local n = tonumber(ARGV[2])\n"
    "local ids, total\n"
    "if ARGV[1] == '' then\n"
    "  ids = {}\n"
    "  for i = 10, math.min(#ARGV, 9 + n) do ids[#ids + 1] = ARGV[i] end\n"
    "  total = #ids\n"
    "else\n"
    "  local s = tonumber(ARGV[1])\n"
    "  total = redis.call('ZCARD', KEYS[1])\n"
    "  ids = redis.call('ZRANGE', KEYS[1], s, s + n - 1)\n"
    "end\n"
    "local r = {total, #ids}\n"
    "local p, t, lit, key = ARGV[3], ARGV[4], ARGV[6], ARGV[7]\n"
    "if ARGV[9] == '0' then\n"
    "  for i = 1, #ids do r[i + 2] = ids[i] end\n"
    "  return r\n"
    "end\n"
    "local budget, bytes, seen = tonumber(ARGV[8]), 0, 0\n"
    "for i = 1, #ids do\n"
    "  local keep = true\n"
    "  if lit ~= '' then\n"
    "    local doc = redis.call('GET', p .. t .. ':' .. ids[i])\n"
    "    keep = doc and (string.find(doc, '\\197\\191', 1, true)\n"
    "                    or holds(doc, key, lit))\n"
    "    seen = seen + (doc and #doc or 0)\n"
    "  end\n"
    "  if keep then\n"
    "    local e = expand(p, t, ids[i], ARGV[5])\n"
    "    if e then\n"
    "      r[#r + 1] = ids[i]\n"
    "      r[#r + 1] = e\n"
    "      bytes = bytes + #e[1] + 32 * #e\n"
    "    end\n"
    "  end\n"
    "  if bytes >= budget or seen >= 4 * budget then\n"
    "    r[2] = i\n"
    "    break\n"
    "  end\n"
    "end\n"
    "return r\n";


/*
 * fetch: the documents of a page whose ids a scan chose (a page may mix
 * users and groups: root .search)
 *   ARGV: tenant prefix, want members, type, id, type, id, ...
 *   -> {{doc, ...} | nil, ...}   (deleted meanwhile: nil)
 */

static const char  ngx_http_scim_lua_fetch[] =
    SCIM_LUA_COMMON
    "local r = {}\n"
    "for i = 3, #ARGV - 1, 2 do\n"
    "  r[#r + 1] = expand(ARGV[1], ARGV[i], ARGV[i + 1], ARGV[2])\n"
    "end\n"
    "return r\n";


/*
 * related: the ids of a set (a group's members) or of the union of two
 * (a member's groups), for filters on groups.value / members.value; the
 * scan script reads them (candidates)
 *   KEYS: sets
 *   -> {id, ...}
 */

static const char  ngx_http_scim_lua_related[] =
    "return redis.call('SUNION', unpack(KEYS))\n";


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
    { "get", ngx_http_scim_lua_get,
      sizeof(ngx_http_scim_lua_get) - 1 },
    { "find", ngx_http_scim_lua_find,
      sizeof(ngx_http_scim_lua_find) - 1 },
    { "find_email", ngx_http_scim_lua_find_email,
      sizeof(ngx_http_scim_lua_find_email) - 1 },
    { "page", ngx_http_scim_lua_page,
      sizeof(ngx_http_scim_lua_page) - 1 },
    { "related", ngx_http_scim_lua_related,
      sizeof(ngx_http_scim_lua_related) - 1 },
    { "scan", ngx_http_scim_lua_scan,
      sizeof(ngx_http_scim_lua_scan) - 1 },
    { "fetch", ngx_http_scim_lua_fetch,
      sizeof(ngx_http_scim_lua_fetch) - 1 },
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
