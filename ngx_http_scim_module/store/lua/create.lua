-- create a resource
--   KEYS: User:display, Group:display, User:manager, User:idx:email,
--         doc, ids, seq, idx name, idx externalId, own set (a group's
--         Group:<id>:members, a user's User:<id>:groups)
--   ARGV: id, doc prefix (the document without its version tail),
--         folded name, externalId ('' = none), display, tenant prefix,
--         type, manager id ('' = none), nadd, member ids...,
--         nemails, folded e-mails...
--   -> {1, seq, manager display} | {-2, 1|2} (name | externalId taken)
--      | {-3} (id taken) | {-4, bad member id}

local doc, ids, seq, iname, iext, own =
  KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local s, id, t = tenant(ARGV[6]), ARGV[1], ARGV[7]

if redis.call('EXISTS', doc) == 1 then return {-3} end
if redis.call('HEXISTS', iname, ARGV[3]) == 1 then
  return {-2, 1}
end
if ARGV[4] ~= '' and redis.call('HEXISTS', iext, ARGV[4]) == 1 then
  return {-2, 2}
end
local add, j = list(9)
local em = list(j)
local bad = check(s, id, add)
if bad then return {-4, bad} end
local n = redis.call('INCR', seq)
redis.call('SET', doc, with_version(ARGV[2], n))
redis.call('ZADD', ids, n, id)
redis.call('HSET', iname, ARGV[3], id)
if ARGV[4] ~= '' then redis.call('HSET', iext, ARGV[4], id) end
redis.call('HSET', t == 'User' and s.udisplay or s.gdisplay, id, ARGV[5])
if t == 'Group' then members(s, id, own, false, {}, add) end
manager(s, t, id, ARGV[8])
if t == 'User' then emails(s, id, {}, em) end
return {1, n, mdisplay(s, t, id)}
