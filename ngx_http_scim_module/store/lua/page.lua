-- page: ids in creation order and their documents
--   KEYS: the first 13 of the tenant's keys (lib.lua)
--   ARGV: start (0-based), count, type, want members
--   -> {total, {doc, ...}, {doc, ...}, ...}   (deleted meanwhile: nil)
-- With a fifth argument (a cursor's page, RFC 9865): the ids created
-- after the score ARGV[5] ('' from the first), ARGV[1] ignored; with
-- ARGV[6] == '1' (a previousCursor) the ids created before it instead
-- (ZREVRANGEBYSCORE ... LIMIT, reversed):
--   -> {total, next, prev, {doc, ...}, ...}, next the score of the
--      page's last id when ids follow it, else ''; prev the score of its
--      first id when ids precede it (not on a first page), else ''
--! keys 13

local _, ids = typed(ARGV[3])
local r = {redis.call('ZCARD', ids)}
local n = tonumber(ARGV[2])
if ARGV[5] then
  r[2], r[3] = '', ''
  if n <= 0 then return r end
  local p, page, m = ARGV[5]
  if ARGV[6] == '1' then
    page = redis.call('ZREVRANGEBYSCORE', ids, '(' .. p, '-inf',
                      'WITHSCORES', 'LIMIT', 0, n + 1)
    m = math.min(n, #page / 2)
    for i = 1, m do
      r[i + 3] = expand(ARGV[3], page[2 * (m - i) + 1], ARGV[4])
    end
    if m == 0 then return r end
    if #page / 2 > n then r[3] = page[2 * m] end
    if redis.call('ZCOUNT', ids, '(' .. page[2], '+inf') > 0 then
      r[2] = page[2]
    end
    return r
  end
  local from = p == '' and '-inf' or '(' .. p
  page = redis.call('ZRANGEBYSCORE', ids, from, '+inf',
                    'WITHSCORES', 'LIMIT', 0, n + 1)
  m = math.min(n, #page / 2)
  for i = 1, m do
    r[i + 3] = expand(ARGV[3], page[2 * i - 1], ARGV[4])
  end
  if #page / 2 > n then r[2] = page[2 * n] end
  if m > 0 and p ~= ''
     and redis.call('ZCOUNT', ids, '-inf', '(' .. page[2]) > 0 then
    r[3] = page[2]
  end
  return r
end
if n > 0 then
  local start = tonumber(ARGV[1])
  local page = redis.call('ZRANGE', ids, start, start + n - 1)
  for i = 1, #page do
    r[i + 1] = expand(ARGV[3], page[i], ARGV[4])
  end
end
return r
