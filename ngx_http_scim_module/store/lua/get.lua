-- get: a document with its user's groups or its group's members
--   KEYS: User:display, Group:display, User:manager, User:idx:email,
--         doc, own set (User:<id>:groups, Group:<id>:members)
--   ARGV: tenant prefix, type, id, want members ('1'|'0')
--   -> {doc, manager display, id, type, display, ...} | nil

return expand(tenant(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], KEYS[5], KEYS[6])
