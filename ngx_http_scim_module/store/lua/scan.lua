-- scan: a batch of a walk over the ids in creation order (ARGV[1], the
-- start, 0-based) or over candidates the caller holds (ARGV[1] == '':
-- the ids from ARGV[9] on).  A batch is bounded: at most ARGV[2] ids,
-- and it ends after the document that brings what it returns (the
-- documents' text, 32 bytes per group or member listed with them) to
-- ARGV[7] bytes or what it searched for the literal to 4 * ARGV[7]
-- bytes, so that neither Redis nor nginx is held long by one call.
--
-- With ARGV[8] == '0' (the documents are not needed: no filter, no
-- sort) the ids alone come back.  Otherwise only the documents that can
-- match leave Redis: those holding the filter's required literal in a
-- string value of a member ARGV[6] ('"<name>":"', the canonical name
-- the stored documents use); ARGV[5] is the literal as a Lua pattern
-- that ignores ASCII case ("[sS][aA]%-1"), '' for none.  The C side
-- evaluates the filter on them.  A text with U+017F (long s, which folds
-- to "s") always leaves.  The candidates were read from Redis by
-- find_email or related.
--
-- A walk in creation order with ARGV[9] == '1' (cursor pagination)
-- returns each id as '<id> <score>', its creation score after a space.
--   KEYS: the first 13 of the tenant's keys (lib.lua)
--   ARGV: start | '', count, type, want members, literal, member,
--         bytes, documents ('1'|'0'), ids... | scores ('1')
--   -> {total, ids walked, id, {doc, ...}, id, {doc, ...}, ...}
--      | {total, ids walked, id, id, ...}
--! keys 13

local function holds(d, key, lit)
  local i = 1
  while true do
    local _, b = string.find(d, key, i, true)
    if not b then return false end
    local j, k = b + 1, b + 1
    while true do
      local q = string.find(d, '"', k, true)
      if not q then return false end
      local m = q - 1
      while m >= j and string.byte(d, m) == 92 do m = m - 1 end
      if (q - 1 - m) % 2 == 0 then
        local a = string.find(d, lit, j)
        if a and a < q then return true end
        i = q + 1
        break
      end
      k = q + 1
    end
  end
end
local n = tonumber(ARGV[2])
local t, lit, key = ARGV[3], ARGV[5], ARGV[6]
local docs, all = typed(t)
local ids, total, out
if ARGV[1] == '' then
  ids = {}
  for i = 9, math.min(#ARGV, 8 + n) do ids[#ids + 1] = ARGV[i] end
  total = #ids
else
  local start = tonumber(ARGV[1])
  total = redis.call('ZCARD', all)
  if ARGV[9] == '1' then
    local w = redis.call('ZRANGE', all, start, start + n - 1, 'WITHSCORES')
    ids, out = {}, {}
    for i = 1, #w / 2 do
      ids[i] = w[2 * i - 1]
      out[i] = w[2 * i - 1] .. ' ' .. w[2 * i]
    end
  else
    ids = redis.call('ZRANGE', all, start, start + n - 1)
  end
end
out = out or ids
local r = {total, #ids}
if ARGV[8] == '0' then
  for i = 1, #ids do r[i + 2] = out[i] end
  return r
end
local budget, bytes, seen = tonumber(ARGV[7]), 0, 0
for i = 1, #ids do
  local keep = true
  if lit ~= '' then
    local doc = redis.call('HGET', docs, ids[i])
    keep = doc and (string.find(doc, '\197\191', 1, true)
                    or holds(doc, key, lit))
    seen = seen + (doc and #doc or 0)
  end
  if keep then
    local e = expand(t, ids[i], ARGV[4])
    if e then
      r[#r + 1] = out[i]
      r[#r + 1] = e
      bytes = bytes + #e[1] + 32 * #e
    end
  end
  if bytes >= budget or seen >= 4 * budget then
    r[2] = i
    break
  end
end
return r
