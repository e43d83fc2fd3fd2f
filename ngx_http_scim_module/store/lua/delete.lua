-- delete a document read at version ARGV[2], with its index entries and
-- its memberships
--   KEYS: User:display, Group:display, User:manager, User:idx:email,
--         doc, ids, idx name, idx externalId, <Type>:<id>:groups (the
--         groups it is a member of), own set (a group's
--         Group:<id>:members; a user's User:<id>:groups again)
--   ARGV: id, expected version, folded name, externalId, tenant prefix,
--         "User" or "Group", nemails, folded e-mails...
--   -> {1} | {0} (no document) | {-1, current version}

local doc, ids, iname, iext, groups, own =
  KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local s, id, t = tenant(ARGV[5]), ARGV[1], ARGV[6]

local cur = redis.call('GET', doc)
if not cur then return {0} end
local v = version_of(cur)
if v ~= ARGV[2] then return {-1, v or ''} end
redis.call('DEL', doc)
redis.call('ZREM', ids, id)
if redis.call('HGET', iname, ARGV[3]) == id then
  redis.call('HDEL', iname, ARGV[3])
end
if ARGV[4] ~= '' and redis.call('HGET', iext, ARGV[4]) == id then
  redis.call('HDEL', iext, ARGV[4])
end
redis.call('HDEL', t == 'User' and s.udisplay or s.gdisplay, id)
for _, g in ipairs(redis.call('SMEMBERS', groups)) do
  redis.call('SREM', s.p .. 'Group:' .. g .. ':members', id)
end
redis.call('DEL', groups)
if t == 'Group' then members(s, id, own, true, {}, {}) end
manager(s, t, id, '')
if t == 'User' then emails(s, id, list(7), {}) end
return {1}
