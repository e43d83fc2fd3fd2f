-- find: an index lookup and the document, in one round trip
--   KEYS: the first 11 of the tenant's keys (lib.lua)
--   ARGV: field, index ('name' | 'externalId'), type, want members
--         ('1'|'0')
--   -> {doc, manager display, id, type, display, ...} | nil
--! keys 6-11

local _, _, iname, iext = typed(ARGV[3])
local id = redis.call('HGET', ARGV[2] == 'name' and iname or iext, ARGV[1])
if not id then return false end
return expand(ARGV[3], id, ARGV[4])
