-- slice: a slice of a group's members, in the order of a GET (that of
-- their ids, as expand() reads them), with display and type, and the
-- group's document with the first slice: a GET of a large group reads
-- its members a slice a call, each call short (issue 11)
--   KEYS: the first 9 of the tenant's keys (lib.lua)
--   ARGV: group id, after (the slice starts after this member id; '':
--         at the first), count (at most 1000), head ('1': the document
--         too)
--   -> {doc | false, next | false, id, type, display, ...} | nil
--      nil: head asked for and no such group; doc: false without head;
--      next: the last member id this slice read, when more follow (the
--      next slice's "after"); members in neither display hash (never
--      left by the scripts) are skipped, as expand() does
--! keys 9

local id, after = ARGV[1], ARGV[2]
local n = math.min(math.max(tonumber(ARGV[3]) or 1, 1), 1000)
local r = {false, false}
if ARGV[4] == '1' then
  r[1] = redis.call('HGET', KEYS[8], id)
  if not r[1] then return false end
end
local e = id .. '\0'
local from = after == '' and '[' .. e or '(' .. e .. after
local ids = redis.call('ZRANGEBYLEX', KEYS[9], from, '(' .. id .. '\1',
                       'LIMIT', 0, n + 1)
if #ids > n then
  ids[n + 1] = nil
  r[2] = string.sub(ids[n], #e + 1)
end
if #ids == 0 then return r end
for i = 1, #ids do ids[i] = string.sub(ids[i], #e + 1) end
local un = redis.call('HMGET', KEYS[2], unpack(ids))
local gn = redis.call('HMGET', KEYS[3], unpack(ids))
for j = 1, #ids do
  if un[j] then
    r[#r + 1] = ids[j]; r[#r + 1] = 'User'; r[#r + 1] = un[j]
  elseif gn[j] then
    r[#r + 1] = ids[j]; r[#r + 1] = 'Group'; r[#r + 1] = gn[j]
  end
end
return r
