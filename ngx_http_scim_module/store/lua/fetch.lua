-- fetch: the documents of a page whose ids a scan chose (a page may mix
-- users and groups: root .search)
--   KEYS: the first 7 of the tenant's keys (lib.lua)
--   ARGV: want members, type, id, type, id, ...
--   -> {{doc, ...} | nil, ...}   (deleted meanwhile: nil)
--! keys 9

local r = {}
for i = 2, #ARGV - 1, 2 do
  r[#r + 1] = expand(ARGV[i], ARGV[i + 1], ARGV[1])
end
return r
