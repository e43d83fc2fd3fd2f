-- page: ids in creation order and their documents
--   KEYS: the first 13 of the tenant's keys (lib.lua)
--   ARGV: start (0-based), count, type, want members
--   -> {total, {doc, ...}, {doc, ...}, ...}   (deleted meanwhile: nil)
--! keys 13

local _, ids = typed(ARGV[3])
local r = {redis.call('ZCARD', ids)}
local n = tonumber(ARGV[2])
if n > 0 then
  local start = tonumber(ARGV[1])
  local page = redis.call('ZRANGE', ids, start, start + n - 1)
  for i = 1, #page do
    r[i + 1] = expand(ARGV[3], page[i], ARGV[4])
  end
end
return r
