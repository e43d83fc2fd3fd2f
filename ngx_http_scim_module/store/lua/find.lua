-- find: a name index lookup and the document, in one round trip
--   KEYS: the first 10 of the tenant's keys (lib.lua)
--   ARGV: folded name, type, want members ('1'|'0')
--   -> {doc, manager display, id, type, display, ...} | nil
--! keys 6-10

local _, _, iname = typed(ARGV[2])
local id = redis.call('HGET', iname, ARGV[1])
if not id then return false end
return expand(ARGV[2], id, ARGV[3])
