-- page: ids in creation order and their documents
--   KEYS: the tenant's keys (lib.lua)
--   ARGV: start (0-based), count, type, want members
--   -> {total, {doc, ...}, {doc, ...}, ...}   (deleted meanwhile: nil)

local s = tenant(ARGV[3])
local r = {redis.call('ZCARD', s.ids)}
local n = tonumber(ARGV[2])
if n > 0 then
  local start = tonumber(ARGV[1])
  local ids = redis.call('ZRANGE', s.ids, start, start + n - 1)
  for i = 1, #ids do
    r[i + 1] = expand(s, ARGV[3], ids[i], ARGV[4])
  end
end
return r
