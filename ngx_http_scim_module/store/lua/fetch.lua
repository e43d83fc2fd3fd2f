-- fetch: the documents of a page whose ids a scan chose (a page may mix
-- users and groups: root .search)
--   KEYS: User:display, Group:display, User:manager, User:idx:email,
--         then for each document: its key, its set (User:<id>:groups,
--         Group:<id>:members)
--   ARGV: tenant prefix, want members, type, id, type, id, ...
--   -> {{doc, ...} | nil, ...}   (deleted meanwhile: nil)

local s = tenant(ARGV[1])
local r = {}
local k = 5
for i = 3, #ARGV - 1, 2 do
  r[#r + 1] = expand(s, ARGV[i], ARGV[i + 1], ARGV[2], KEYS[k], KEYS[k + 1])
  k = k + 2
end
return r
