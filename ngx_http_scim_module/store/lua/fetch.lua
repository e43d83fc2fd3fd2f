-- fetch: the documents of a page whose ids a scan chose (a page may mix
-- users and groups: root .search)
--   KEYS: the tenant's keys (lib.lua)
--   ARGV: want members, type, id, type, id, ...
--   -> {{doc, ...} | nil, ...}   (deleted meanwhile: nil)

local s = tenant(nil)
local r = {}
for i = 2, #ARGV - 1, 2 do
  if not s.docs[ARGV[i]] then error('scim: no type ' .. ARGV[i]) end
  r[#r + 1] = expand(s, ARGV[i], ARGV[i + 1], ARGV[1])
end
return r
