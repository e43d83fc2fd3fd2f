-- create a resource
--   KEYS: the tenant's 17 keys (lib.lua)
--   ARGV: id, doc prefix (the document without its version tail),
--         folded name, externalId ('' = none), display, type, manager
--         id ('' = none), nadd, member ids..., nemails, folded
--         e-mails..., unique externalId ('1'|'0'; none: '0'),
--         then the event's (lib.lua event()): maxlen ('' or none: no
--         event), type, time, active, paths
--   -> {1, seq, manager display} | {-2, 1|2} (name | externalId taken,
--      this one only when unique)
--      | {-3} (id taken) | {-4, bad member id} | {-4, id, 'cycle'} (a
--      group that holds this one: never on a create)
--      | {-4, manager id, 'manager'} (no user of the tenant)
--! keys 17

local id, t = ARGV[1], ARGV[6]
local docs, ids, iname, iext = typed(t)

if redis.call('HEXISTS', docs, id) == 1 then return {-3} end
if redis.call('HEXISTS', iname, ARGV[3]) == 1 then
  return {-2, 1}
end
local add, j = list(8)
local em, u = list(j)
if ARGV[4] ~= '' and ARGV[u] == '1' and #extids(iext, ARGV[4], 1) > 0 then
  return {-2, 2}
end
local bad, why = check(id, add)
if bad then return {-4, bad, why} end
if not manager_ok(t, id, ARGV[7]) then return {-4, ARGV[7], 'manager'} end
local n = redis.call('INCR', KEYS[14])                       -- seq
redis.call('HSET', docs, id, with_version(ARGV[2], n))
redis.call('ZADD', ids, n, id)
redis.call('HSET', iname, ARGV[3], id)
if ARGV[4] ~= '' then redis.call('ZADD', iext, 0, ARGV[4] .. '\0' .. id) end
redis.call('HSET', t == 'User' and KEYS[2] or KEYS[3], id, ARGV[5]) -- display
local inn, out
if t == 'Group' then
  inn, out = members(id, false, {}, add, (ARGV[u + 1] or '') ~= '')
end
manager(t, id, ARGV[7])
if t == 'User' then emails(id, {}, em) end
event(u + 1, nil, t, id, n, inn, out)
return {1, n, mdisplay(t, id)}
