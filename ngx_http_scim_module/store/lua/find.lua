-- find: an index lookup and the document, in one round trip
--   KEYS: the tenant's keys (lib.lua)
--   ARGV: field, index ('name' | 'externalId'), type, want members
--         ('1'|'0')
--   -> {doc, manager display, id, type, display, ...} | nil

local s = tenant(ARGV[3])
local id = redis.call('HGET', ARGV[2] == 'name' and s.iname or s.iext,
                      ARGV[1])
if not id then return false end
return expand(s, ARGV[3], id, ARGV[4])
