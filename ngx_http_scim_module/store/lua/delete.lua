-- delete a document read at version ARGV[2], with its index entries and
-- its memberships (as a member: out of every group; as a group: its
-- members out)
--   KEYS: the first 15 of the tenant's keys (lib.lua)
--   ARGV: id, expected version, folded name, externalId, "User" or
--         "Group", nemails, folded e-mails...
--   -> {1} | {0} (no document) | {-1, current version}
--! keys 15

local id, t = ARGV[1], ARGV[5]
local docs, ids, iname, iext = typed(t)

local cur = redis.call('HGET', docs, id)
if not cur then return {0} end
local v = version_of(cur)
if v ~= ARGV[2] then return {-1, v or ''} end
redis.call('HDEL', docs, id)
redis.call('ZREM', ids, id)
if redis.call('HGET', iname, ARGV[3]) == id then
  redis.call('HDEL', iname, ARGV[3])
end
if ARGV[4] ~= '' then redis.call('ZREM', iext, ARGV[4] .. '\0' .. id) end
redis.call('HDEL', t == 'User' and KEYS[2] or KEYS[3], id)  -- display
-- out of every group: members entries of the groups memberof lists
for _, g in ipairs(related(KEYS[5], id)) do
  redis.call('ZREM', KEYS[9], g .. '\0' .. id)
end
redis.call('ZREMRANGEBYLEX', KEYS[5], '[' .. id .. '\0',
           '(' .. id .. '\1')
if t == 'Group' then members(id, true, {}, {}) end
manager(t, id, '')
if t == 'User' then emails(id, list(6), {}) end
return {1}
