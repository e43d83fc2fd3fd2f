-- related: for filters on members.value (listing users) and
-- groups.value / members.value (listing groups): listing users ('User'),
-- the members of group id; listing groups ('Group'), the groups holding
-- member id.  The scan script reads them (candidates)
--   KEYS: the first 9 of the tenant's keys (lib.lua)
--   ARGV: type listed, id
--   -> {id, ...}
-- With ARGV[3] and ARGV[4] (a cursor's page, RFC 9865): at most ARGV[4]
-- of them, those after the id ARGV[3] ('' from the first), read with
-- ZRANGEBYLEX ... LIMIT, so a page costs the same in any size of group:
--   -> {total, next, id, ...}, total the whole range's (ZLEXCOUNT), next
--      the page's last id when more follow, else ''
--! keys 9

typed(ARGV[1])
-- members (KEYS[9]) or memberof (KEYS[5])
local z = ARGV[1] == 'User' and KEYS[9] or KEYS[5]
if not ARGV[3] then
  return related(z, ARGV[2])
end
local n = tonumber(ARGV[4])
local from = '[' .. ARGV[2] .. '\0'
local to = '(' .. ARGV[2] .. '\1'
local r = {redis.call('ZLEXCOUNT', z, from, to), ''}
if n <= 0 then return r end
if ARGV[3] ~= '' then from = '(' .. ARGV[2] .. '\0' .. ARGV[3] end
local page = redis.call('ZRANGEBYLEX', z, from, to, 'LIMIT', 0, n + 1)
local skip = #ARGV[2] + 2
for i = 1, math.min(n, #page) do
  r[i + 2] = string.sub(page[i], skip)
end
if #page > n then r[2] = r[n + 2] end
return r
