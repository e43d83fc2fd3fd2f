-- page: ids in creation order and their documents (their keys come from
-- the ids zset: see lib.lua)
--   KEYS: User:display, Group:display, User:manager, User:idx:email, ids
--   ARGV: start (0-based), count, tenant prefix, type, want members
--   -> {total, {doc, ...}, {doc, ...}, ...}   (deleted meanwhile: nil)

local s = tenant(ARGV[3])
local r = {redis.call('ZCARD', KEYS[5])}
local n = tonumber(ARGV[2])
if n > 0 then
  local start = tonumber(ARGV[1])
  local ids = redis.call('ZRANGE', KEYS[5], start, start + n - 1)
  for i = 1, #ids do
    r[i + 1] = expand(s, ARGV[4], ids[i], ARGV[5])
  end
end
return r
