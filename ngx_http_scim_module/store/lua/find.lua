-- find: an index lookup and the document, in one round trip (the
-- document's keys come from the index: see lib.lua)
--   KEYS: User:display, Group:display, User:manager, User:idx:email, idx
--   ARGV: field, tenant prefix, type, want members ('1'|'0')
--   -> {doc, manager display, id, type, display, ...} | nil

local id = redis.call('HGET', KEYS[5], ARGV[1])
if not id then return false end
return expand(tenant(ARGV[2]), ARGV[3], id, ARGV[4])
