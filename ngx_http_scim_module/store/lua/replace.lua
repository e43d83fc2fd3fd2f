-- replace: a write of a document read at version ARGV[2], and a group's
-- member changes, atomically.  With ARGV[3] == '' the document is kept
-- and only its lastModified and version change (a member-only PATCH,
-- which never reads the document first).
--   KEYS: User:display, Group:display, User:manager, User:idx:email,
--         doc, seq, idx name, idx externalId, own set (as in create)
--   ARGV: id, expected version ('' = any), doc prefix, old name, new
--         name, old externalId, new externalId, display ('' = keep), now,
--         tenant prefix, type, manager id ('' = none), clear ('1'|'0'),
--         nrem, ids..., nadd, ids..., nold, old folded e-mails...,
--         nnew, new ones...
--   -> {1, seq, manager display} | {0} (no document)
--      | {-1, current version} | {-2, 1|2} | {-4, bad member id}

local doc, seq, iname, iext, own = KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local s, id, t = tenant(ARGV[10]), ARGV[1], ARGV[11]

local cur = redis.call('GET', doc)
if not cur then return {0} end
local v = version_of(cur)
if ARGV[2] ~= '' and v ~= ARGV[2] then return {-1, v or ''} end
local rem, i = list(14)
local add, j = list(i)
local oldem, k = list(j)
local newem = list(k)
local bad = check(s, id, add)
if bad then return {-4, bad} end
if ARGV[5] ~= ARGV[4] then
  local o = redis.call('HGET', iname, ARGV[5])
  if o and o ~= id then return {-2, 1} end
end
if ARGV[7] ~= ARGV[6] and ARGV[7] ~= '' then
  local o = redis.call('HGET', iext, ARGV[7])
  if o and o ~= id then return {-2, 2} end
end
local n = redis.call('INCR', seq)
if ARGV[5] ~= ARGV[4] then
  if redis.call('HGET', iname, ARGV[4]) == id then
    redis.call('HDEL', iname, ARGV[4])
  end
  redis.call('HSET', iname, ARGV[5], id)
end
if ARGV[7] ~= ARGV[6] then
  if ARGV[6] ~= '' and redis.call('HGET', iext, ARGV[6]) == id then
    redis.call('HDEL', iext, ARGV[6])
  end
  if ARGV[7] ~= '' then redis.call('HSET', iext, ARGV[7], id) end
end
if ARGV[8] ~= '' then
  redis.call('HSET', t == 'User' and s.udisplay or s.gdisplay, id, ARGV[8])
end
if t == 'Group' then
  members(s, id, own, ARGV[13] == '1', rem, add)
end
if ARGV[3] ~= '' then
  manager(s, t, id, ARGV[12])
  if t == 'User' then emails(s, id, oldem, newem) end
  redis.call('SET', doc, with_version(ARGV[3], n))
else
  local head = string.match(cur,
    '^(.*"lastModified":")[^"]*","version":"W/\\"%d+\\""}}$')
  if not head then return redis.error_reply('bad stored document') end
  redis.call('SET', doc,
             with_version(head .. ARGV[9] .. '","version":"', n))
end
return {1, n, mdisplay(s, t, id)}
