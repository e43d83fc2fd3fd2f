-- get: a document with its user's groups or its group's members
--   KEYS: the first 7 of the tenant's keys (lib.lua)
--   ARGV: type, id, want members ('1'|'0')
--   -> {doc, manager display, id, type, display, ...} | nil
--! keys 5-9

return expand(ARGV[1], ARGV[2], ARGV[3])
