-- delete a document read at version ARGV[2], with its index entries and
-- its memberships (as a member: out of every group; as a group: its
-- members out)
--   KEYS: the tenant's keys (lib.lua)
--   ARGV: id, expected version, folded name, externalId, "User" or
--         "Group", nemails, folded e-mails...
--   -> {1} | {0} (no document) | {-1, current version}

local id, t = ARGV[1], ARGV[5]
local s = tenant(t)

local cur = redis.call('HGET', s.doc, id)
if not cur then return {0} end
local v = version_of(cur)
if v ~= ARGV[2] then return {-1, v or ''} end
redis.call('HDEL', s.doc, id)
redis.call('ZREM', s.ids, id)
if redis.call('HGET', s.iname, ARGV[3]) == id then
  redis.call('HDEL', s.iname, ARGV[3])
end
if ARGV[4] ~= '' and redis.call('HGET', s.iext, ARGV[4]) == id then
  redis.call('HDEL', s.iext, ARGV[4])
end
redis.call('HDEL', t == 'User' and s.udisplay or s.gdisplay, id)
for _, g in ipairs(related(s.memberof, id)) do
  redis.call('ZREM', s.members, g .. '\0' .. id)
end
redis.call('ZREMRANGEBYLEX', s.memberof, '[' .. id .. '\0',
           '(' .. id .. '\1')
if t == 'Group' then members(s, id, true, {}, {}) end
manager(s, t, id, '')
if t == 'User' then emails(s, id, list(6), {}) end
return {1}
