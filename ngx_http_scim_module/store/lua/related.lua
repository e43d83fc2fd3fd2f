-- related: for filters on members.value (listing users) and
-- groups.value / members.value (listing groups): listing users ('User'),
-- the members of group id; listing groups ('Group'), the groups holding
-- member id.  The scan script reads them (candidates)
--   KEYS: the first 9 of the tenant's keys (lib.lua)
--   ARGV: type listed, id
--   -> {id, ...}
-- With ARGV[3] and ARGV[4] (a cursor's page, RFC 9865): at most ARGV[4]
-- of them, those after the id ARGV[3] ('' from the first), read with
-- ZRANGEBYLEX ... LIMIT, so a page costs the same in any size of group;
-- with ARGV[5] == '1' (a previousCursor) those before it instead
-- (ZREVRANGEBYLEX ... LIMIT, reversed):
--   -> {total, next, prev, id, ...}, total the whole range's
--      (ZLEXCOUNT), next the page's last id when ids follow it, prev
--      its first id when ids precede it (not on a first page), else ''
--! keys 9

typed(ARGV[1])
-- members (KEYS[9]) or memberof (KEYS[5])
local z = ARGV[1] == 'User' and KEYS[9] or KEYS[5]
if not ARGV[3] then
  return related(z, ARGV[2])
end
local n = tonumber(ARGV[4])
local pre = ARGV[2] .. '\0'
local lo, hi = '[' .. pre, '(' .. ARGV[2] .. '\1'
local r = {redis.call('ZLEXCOUNT', z, lo, hi), '', ''}
if n <= 0 then return r end
local skip = #ARGV[2] + 2
local page, m
if ARGV[5] == '1' then
  page = redis.call('ZREVRANGEBYLEX', z, '(' .. pre .. ARGV[3], lo,
                    'LIMIT', 0, n + 1)
  m = math.min(n, #page)
  for i = 1, m do r[i + 3] = string.sub(page[m - i + 1], skip) end
  if m == 0 then return r end
  if #page > n then r[3] = r[4] end
  if redis.call('ZLEXCOUNT', z, '(' .. page[1], hi) > 0 then
    r[2] = r[m + 3]
  end
  return r
end
local from = ARGV[3] == '' and lo or '(' .. pre .. ARGV[3]
page = redis.call('ZRANGEBYLEX', z, from, hi, 'LIMIT', 0, n + 1)
m = math.min(n, #page)
for i = 1, m do r[i + 3] = string.sub(page[i], skip) end
if #page > n then r[2] = r[n + 3] end
if m > 0 and ARGV[3] ~= ''
   and redis.call('ZLEXCOUNT', z, lo, '(' .. page[1]) > 0 then
  r[3] = r[4]
end
return r
