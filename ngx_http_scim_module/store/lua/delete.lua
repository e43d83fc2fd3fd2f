-- delete a document read at version ARGV[2], with its index entries and
-- its memberships (as a member: out of every group; as a group: its
-- members out); a user's reports lose it as their manager, each at a new
-- version and lastModified (a document not of this module's shape keeps
-- its text, and leaves the indexes all the same)
--   KEYS: the tenant's 17 keys (lib.lua)
--   ARGV: id, expected version, folded name, externalId, "User" or
--         "Group", nemails, folded e-mails..., now (the reports'
--         lastModified), then the event's (lib.lua event(): a delete, and
--         a patch of each report that loses its manager)
--   -> {1} | {0} (no document) | {-1, current version}
--! keys 17

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
local em, k = list(6)
event(k + 1, nil, t, id, v)
if t == 'User' then
  emails(id, em, {})
  for _, r in ipairs(related(KEYS[16], id)) do
    local d = redis.call('HGET', KEYS[1], r)
    if d then
      local rn = redis.call('INCR', KEYS[14])
      local nd = unmanaged(d, id, ARGV[k], rn)
      if nd then
        redis.call('HSET', KEYS[1], r, nd)
        event(k + 1, 'patch', 'User', r, rn, nil, nil, '["urn:ietf:params:'
              .. 'scim:schemas:extension:enterprise:2.0:User:manager"]')
      end
    end
    redis.call('HDEL', KEYS[4], r)
  end
  redis.call('ZREMRANGEBYLEX', KEYS[16], '[' .. id .. '\0',
             '(' .. id .. '\1')
end
return {1}
