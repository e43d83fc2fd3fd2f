-- The shared library, prepended to every script by gen.pl (so a script's
-- line numbers in a Redis error are those of lib.lua + script).
--
-- Keys (layout 2).  A tenant T has a fixed set of keys, all with the
-- prefix "scim:{T}:" (the hash tag {T}: one Redis Cluster slot), and
-- every script takes all of them as KEYS, in this order (the same in
-- ngx_scim_store_keys[] in store/ngx_scim_store.c and in ScimLua::keys
-- in t/lib/ScimLua.pm):
--
--    1 User:display           hash    id -> displayName (else userName);
--                                     the type of an id
--    2 Group:display          hash    id -> displayName
--    3 User:manager           hash    id -> the manager's id
--    4 User:idx:email         zset    "<folded e-mail>\0<id>" (score 0)
--    5 User:docs              hash    id -> stored user (JSON, version
--                                     last)
--    6 Group:docs             hash    id -> stored group (no members)
--    7 User:ids               zset    id, scored by creation sequence
--    8 Group:ids              zset
--    9 seq                    string  creation order, versions
--   10 User:idx:userName      hash    folded userName -> id
--   11 User:idx:externalId    hash    externalId -> id
--   12 Group:idx:displayName  hash    folded displayName -> id
--   13 Group:idx:externalId   hash    externalId -> id
--   14 members                zset    "<group id>\0<member id>" (score 0)
--   15 memberof               zset    "<member id>\0<group id>": the
--                                     reverse
--
-- No script builds a key name: whatever it reads or decides (a member's
-- id, an id from an index or the ids zset) is a field of a hash or a
-- member of a zset among these keys, never part of a key.  So every key
-- a script touches is declared, whatever the data (the Redis Cluster
-- precondition), at the price of a fixed KEYS list a call.
--
-- The members of group g: ZRANGEBYLEX members "[g\0" "(g\1"; the groups
-- of m: the same on memberof (ids never hold \0 or \1).
--
-- s = tenant(t) names the keys, with those of type t ('User' | 'Group',
-- nil for a script that takes no type): s.doc, s.ids, s.iname, s.iext.

local function tenant(t)
  if #KEYS ~= 15 then
    error('scim: a script takes the tenant\'s 15 keys, got ' .. #KEYS)
  end
  local s = {udisplay = KEYS[1], gdisplay = KEYS[2], manager = KEYS[3],
             email = KEYS[4], docs = {User = KEYS[5], Group = KEYS[6]},
             seq = KEYS[9], members = KEYS[14], memberof = KEYS[15]}
  if t == 'User' then
    s.doc, s.ids, s.iname, s.iext = KEYS[5], KEYS[7], KEYS[10], KEYS[11]
  elseif t == 'Group' then
    s.doc, s.ids, s.iname, s.iext = KEYS[6], KEYS[8], KEYS[12], KEYS[13]
  elseif t then
    error('scim: no type ' .. t)
  end
  return s
end

-- the ids paired with id in a membership zset (members: the members of
-- group id; memberof: the groups of member id)
local function related(z, id)
  local e = id .. '\0'
  local r = redis.call('ZRANGEBYLEX', z, '[' .. e, '(' .. id .. '\1')
  for i = 1, #r do r[i] = string.sub(r[i], #e + 1) end
  return r
end

-- the version at the end of a stored document, and a document ending
-- with one: ..."version":"W/\"<n>\""}}
local function version_of(doc)
  return string.match(doc, '"version":"W/\\"(%d+)\\""}}$')
end

local function with_version(head, seq)
  return head .. 'W/\\"' .. seq .. '\\""}}'
end

-- ARGV[i] = count, then count values: the list and the index after it
local function list(i)
  local n = tonumber(ARGV[i])
  local l = {}
  for k = 1, n do l[k] = ARGV[i + k] end
  return l, i + n + 1
end

-- 'User', 'Group' or nil
local function kind(s, id)
  if redis.call('HEXISTS', s.udisplay, id) == 1 then
    return 'User'
  end
  if redis.call('HEXISTS', s.gdisplay, id) == 1 then
    return 'Group'
  end
  return nil
end

-- the first id of add that is neither a user nor a group (or is the
-- group gid itself), or nil
local function check(s, gid, add)
  for _, m in ipairs(add) do
    if m == gid or not kind(s, m) then return m end
  end
  return nil
end

-- a group's member changes, on members and memberof
local function members(s, gid, clear, rem, add)
  if clear then
    for _, m in ipairs(related(s.members, gid)) do
      redis.call('ZREM', s.memberof, m .. '\0' .. gid)
    end
    redis.call('ZREMRANGEBYLEX', s.members, '[' .. gid .. '\0',
               '(' .. gid .. '\1')
  end
  for _, m in ipairs(rem) do
    if redis.call('ZREM', s.members, gid .. '\0' .. m) == 1 then
      redis.call('ZREM', s.memberof, m .. '\0' .. gid)
    end
  end
  for _, m in ipairs(add) do
    if redis.call('ZADD', s.members, 0, gid .. '\0' .. m) == 1 then
      redis.call('ZADD', s.memberof, 0, m .. '\0' .. gid)
    end
  end
end

-- a user's manager's current display name, or false
local function mdisplay(s, t, id)
  if t ~= 'User' then return false end
  local m = redis.call('HGET', s.manager, id)
  if not m then return false end
  return redis.call('HGET', s.udisplay, m)
end

-- keeps User:manager in step with a user's document ('' = none)
local function manager(s, t, id, m)
  if t ~= 'User' then return end
  if m == '' then redis.call('HDEL', s.manager, id)
  else redis.call('HSET', s.manager, id, m) end
end

-- a user's e-mails in the e-mail index: old ones out, new ones in
local function emails(s, id, old, new)
  for _, e in ipairs(old) do
    redis.call('ZREM', s.email, e .. '\0' .. id)
  end
  for _, e in ipairs(new) do
    redis.call('ZADD', s.email, 0, e .. '\0' .. id)
  end
end

-- {doc, manager display, id, type, display, ...}: a document of type t
-- with its user's groups or (want == '1') its group's members, or false
-- if there is no document
local function expand(s, t, id, want)
  local doc = redis.call('HGET', s.docs[t], id)
  if not doc then return false end
  local r = {doc, mdisplay(s, t, id)}
  local ids
  if t == 'User' then
    ids = related(s.memberof, id)
  elseif want == '1' then
    ids = related(s.members, id)
  else
    return r
  end
  for i = 1, #ids, 1000 do
    local chunk = {unpack(ids, i, math.min(i + 999, #ids))}
    local gn = redis.call('HMGET', s.gdisplay, unpack(chunk))
    local un = {}
    if t == 'Group' then
      un = redis.call('HMGET', s.udisplay, unpack(chunk))
    end
    for j = 1, #chunk do
      if un[j] then
        r[#r + 1] = chunk[j]; r[#r + 1] = 'User'; r[#r + 1] = un[j]
      elseif gn[j] then
        r[#r + 1] = chunk[j]; r[#r + 1] = 'Group'; r[#r + 1] = gn[j]
      end
    end
  end
  return r
end

-- (end of the library)
