-- replace: a write of a document read at version ARGV[2], and a group's
-- member changes, atomically.  With ARGV[3] == '' the document is kept
-- and only its lastModified and version change (a member-only PATCH,
-- which never reads the document first).
--   KEYS: the tenant's 17 keys (lib.lua)
--   ARGV: id, expected version ('' = any), doc prefix, old name, new
--         name, old externalId, new externalId, display ('' = keep), now,
--         type, manager id ('' = none), clear ('1'|'0'), nrem, ids...,
--         nadd, ids..., nold, old folded e-mails..., nnew, new ones...,
--         unique externalId ('1'|'0'; none: '0'), the SHA1 (hex) of
--         the text the document was changed from ('' or none: no check),
--         then the event's (lib.lua event()): maxlen ('' or none: no
--         event), type, time, active, paths
--   -> {1, seq, manager display} | {0} (no document)
--      | {-1, current version} | {-2, 1|2} | {-4, bad member id}
--      | {-4, id, 'cycle'} (a group that holds this one)
--      | {-4, manager id, 'manager'} (a new manager that is no user)
--      | {-6, {doc, manager display}} (with a SHA1: the stored text is
--        another; nothing changed; what get.lua reads, a user's groups
--        too)
-- With a SHA1 the caller has not read the document (the workers' cache of
-- known texts): the text must be the one it changed, not merely of the
-- same version (a tenant's seq rewinds when a backup is restored), and a
-- user's {1, ...} ends with its groups as get.lua gives them.
--! keys 17

local id, t = ARGV[1], ARGV[10]
local doc, _, iname, iext = typed(t)

local cur = redis.call('HGET', doc, id)
if not cur then return {0} end
local rem, i = list(13)
local add, j = list(i)
local oldem, k = list(j)
local newem, u = list(k)
local sha = ARGV[u + 1] or ''
if sha ~= '' and redis.sha1hex(cur) ~= sha then
  return {-6, expand(t, id, '0')}
end
local v = version_of(cur)
if ARGV[2] ~= '' and v ~= ARGV[2] then return {-1, v or ''} end
local bad, why = check(id, add)
if bad then return {-4, bad, why} end
if ARGV[3] ~= '' and not manager_ok(t, id, ARGV[11]) then
  return {-4, ARGV[11], 'manager'}
end
if ARGV[5] ~= ARGV[4] then
  local o = redis.call('HGET', iname, ARGV[5])
  if o and o ~= id then return {-2, 1} end
end
if ARGV[7] ~= ARGV[6] and ARGV[7] ~= '' and ARGV[u] == '1'
   and #extids(iext, ARGV[7], 1, id) > 0 then
  return {-2, 2}
end
local n = redis.call('INCR', KEYS[14])                       -- seq
if ARGV[5] ~= ARGV[4] then
  if redis.call('HGET', iname, ARGV[4]) == id then
    redis.call('HDEL', iname, ARGV[4])
  end
  redis.call('HSET', iname, ARGV[5], id)
end
if ARGV[7] ~= ARGV[6] then
  if ARGV[6] ~= '' then redis.call('ZREM', iext, ARGV[6] .. '\0' .. id) end
  if ARGV[7] ~= '' then redis.call('ZADD', iext, 0, ARGV[7] .. '\0' .. id) end
end
if ARGV[8] ~= '' then
  -- display
  redis.call('HSET', t == 'User' and KEYS[2] or KEYS[3], id, ARGV[8])
end
local inn, out
if t == 'Group' then
  inn, out = members(id, ARGV[12] == '1', rem, add,
                     (ARGV[u + 2] or '') ~= '')
end
if ARGV[3] ~= '' then
  manager(t, id, ARGV[11])
  if t == 'User' then emails(id, oldem, newem) end
  redis.call('HSET', doc, id, with_version(ARGV[3], n))
else
  local head = string.match(cur,
    '^(.*"lastModified":")[^"]*","version":"W/\\"%d+\\""}}$')
  if not head then return redis.error_reply('bad stored document') end
  redis.call('HSET', doc, id,
             with_version(head .. ARGV[9] .. '","version":"', n))
end
event(u + 2, nil, t, id, n, inn, out)
local r = {1, n, mdisplay(t, id)}
if sha ~= '' and t == 'User' then
  -- the user's groups, as get.lua reads them (lib.lua expand())
  local ids = related(KEYS[5], id)
  for i = 1, #ids, 1000 do
    local chunk = {unpack(ids, i, math.min(i + 999, #ids))}
    local gn = redis.call('HMGET', KEYS[3], unpack(chunk))
    for j = 1, #chunk do
      if gn[j] then
        r[#r + 1] = chunk[j]; r[#r + 1] = 'Group'; r[#r + 1] = gn[j]
      end
    end
  end
end
return r
