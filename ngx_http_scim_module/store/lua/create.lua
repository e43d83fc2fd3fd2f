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
local m = t == 'User' and ARGV[7] or ''

-- User:manager has no entry of an id without a document (delete and
-- manager() keep it so): a new user has no manager yet, so that
-- manager_ok(), manager() and mdisplay() need not read it.  The name
-- index entry is written by the check of its name, and taken back when a
-- later check fails (the script is atomic): one command less.
if redis.call('HEXISTS', docs, id) == 1 then return {-3} end
if redis.call('HSETNX', iname, ARGV[3], id) == 0 then
  return {-2, 1}
end
local add, j = list(8)
local em, u = list(j)
local r
if ARGV[4] ~= '' and ARGV[u] == '1' and #extids(iext, ARGV[4], 1) > 0 then
  r = {-2, 2}
else
  local bad, why = check(id, add)
  if bad then
    r = {-4, bad, why}
  elseif m ~= '' and (m == id or redis.call('HEXISTS', KEYS[2], m) == 0) then
    r = {-4, m, 'manager'}
  end
end
if r then
  redis.call('HDEL', iname, ARGV[3])
  return r
end
local n = redis.call('INCR', KEYS[14])                       -- seq
redis.call('HSET', docs, id, with_version(ARGV[2], n))
redis.call('ZADD', ids, n, id)
if ARGV[4] ~= '' then redis.call('ZADD', iext, 0, ARGV[4] .. '\0' .. id) end
redis.call('HSET', t == 'User' and KEYS[2] or KEYS[3], id, ARGV[5]) -- display
local inn, out
if t == 'Group' then
  inn, out = members(id, false, {}, add, (ARGV[u + 1] or '') ~= '')
end
if m ~= '' then                                              -- manager()
  redis.call('HSET', KEYS[4], id, m)
  redis.call('ZADD', KEYS[16], 0, m .. '\0' .. id)
end
if t == 'User' then emails(id, {}, em) end
event(u + 1, nil, t, id, n, inn, out)
-- mdisplay()
return {1, n, t == 'User' and m ~= '' and redis.call('HGET', KEYS[2], m)}
