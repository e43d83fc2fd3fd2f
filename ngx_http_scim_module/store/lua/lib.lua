-- The shared library, prepended to every script by gen.pl (so a script's
-- line numbers in a Redis error are those of lib.lua + script).
--
-- Keys.  Every script declares its keys in KEYS.  A script that needs the
-- tenant's shared hashes takes them first, as KEYS[1] .. KEYS[4]:
--
--   User:display   id -> displayName (else userName), the type of an id
--   Group:display  id -> displayName
--   User:manager   id -> the manager's id
--   User:idx:email "<folded e-mail>\0<id>" (a zset)
--
-- and s = tenant(ARGV[...]) holds them with the tenant's key prefix
-- "scim:{T}:".  The prefix builds only the keys whose names come from
-- data the script reads or decides, never from the caller:
--
--   members()  <Type>:<m>:groups of each member m added, removed or (a
--              clear) read from the group's member set; the type of an
--              added member is decided here (kind())
--   delete     Group:<g>:members of each group g read from the deleted
--              resource's own groups set
--   expand()   without dkey/skey: <Type>:<id> and its set, for ids read
--              from an index (find) or the ids zset (page, scan)
--
-- All of them carry the tenant's hash tag {T}, as every declared key
-- does, so each script still touches one Redis Cluster slot.

local function tenant(p)
  return {p = p, udisplay = KEYS[1], gdisplay = KEYS[2],
          manager = KEYS[3], email = KEYS[4]}
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

-- a group's member changes, on its member set (set, declared by the
-- caller) and on each member's reverse set
local function members(s, gid, set, clear, rem, add)
  if clear then
    local all = redis.call('SMEMBERS', set)
    for _, m in ipairs(all) do
      redis.call('SREM', s.p .. 'User:' .. m .. ':groups', gid)
      redis.call('SREM', s.p .. 'Group:' .. m .. ':groups', gid)
    end
    redis.call('DEL', set)
  end
  for _, m in ipairs(rem) do
    if redis.call('SREM', set, m) == 1 then
      redis.call('SREM', s.p .. 'User:' .. m .. ':groups', gid)
      redis.call('SREM', s.p .. 'Group:' .. m .. ':groups', gid)
    end
  end
  for _, m in ipairs(add) do
    if redis.call('SADD', set, m) == 1 then
      redis.call('SADD', s.p .. kind(s, m) .. ':' .. m .. ':groups', gid)
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

-- {doc, manager display, id, type, display, ...}: a document with its
-- user's groups or (want == '1') its group's members, or false if there
-- is no document.  dkey, skey: the document's key and its set
-- (User:<id>:groups, Group:<id>:members) when the caller declared them.
local function expand(s, t, id, want, dkey, skey)
  local doc = redis.call('GET', dkey or s.p .. t .. ':' .. id)
  if not doc then return false end
  local r = {doc, mdisplay(s, t, id)}
  local ids
  if t == 'User' then
    ids = redis.call('SMEMBERS', skey or s.p .. 'User:' .. id .. ':groups')
  elseif want == '1' then
    ids = redis.call('SMEMBERS',
                     skey or s.p .. 'Group:' .. id .. ':members')
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
