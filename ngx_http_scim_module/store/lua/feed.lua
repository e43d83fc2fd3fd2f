-- an RFC 8936 poll of the tenant's change events as RFC 9967 SETs (issue
-- 11), on the stream KEYS[17] through its consumer group ARGV[1] (made
-- at the first poll, from the stream's first entry): the acknowledged
-- SETs out of the group's pending ones (XACK), then at most ARGV[3]
-- entries: the consumer's pending ones first (delivered before and not
-- acknowledged: re-delivered), then new ones.  A SET's jti is its entry's
-- id, so that a re-delivered one is the same SET; a pending entry that
-- trimming removed is acknowledged and skipped.
--   KEYS: the tenant's 17 keys (lib.lua); only the 17th is used
--   ARGV: group, consumer, maxEvents, iss, aud, nack, jtis...
--   -> {more ('1'|'0'), jti, claims (JSON), ...}
--! keys 17

local s, g, c = KEYS[17], ARGV[1], ARGV[2]
local max = tonumber(ARGV[3])

local ok = redis.pcall('XGROUP', 'CREATE', s, g, '0', 'MKSTREAM')
if type(ok) == 'table' and ok.err and not string.find(ok.err, 'BUSYGROUP') then
  return redis.error_reply(ok.err)
end

local ack, _ = list(6)
for i = 1, #ack, 500 do
  local part = {unpack(ack, i, math.min(i + 499, #ack))}
  local valid = {}
  for _, id in ipairs(part) do
    if string.match(id, '^%d+%-%d+$') then valid[#valid + 1] = id end
  end
  if #valid > 0 then redis.call('XACK', s, g, unpack(valid)) end
end

local PROV = 'urn:ietf:params:scim:event:prov:'
local URI = {create = 'create:notice', replace = 'put:notice',
             patch = 'patch:notice', members = 'patch:notice',
             delete = 'delete'}

-- the claims of the SET of entry id, fields f (a flat list)
local function claims(id, f)
  local e = {}
  for i = 1, #f, 2 do e[f[i]] = f[i + 1] end
  local ev, attrs = {}, {}
  if e.paths then attrs = cjson.decode(e.paths) end
  if e.type == 'members' then attrs = {'members'} end
  if #attrs == 0 then attrs = {'id'} end
  if e.type == 'delete' then
    ev[PROV .. 'delete'] = {}
  else
    ev[PROV .. (URI[e.type] or 'patch:notice')] = {
      attributes = attrs, version = 'W/"' .. (e.version or '') .. '"'}
  end
  if e.active == 'true' then ev[PROV .. 'activate'] = {} end
  if e.active == 'false' then ev[PROV .. 'deactivate'] = {} end
  return cjson.encode({
    jti = id, txn = id, iss = ARGV[4], aud = ARGV[5],
    iat = math.floor(tonumber(string.match(id, '^(%d+)')) / 1000),
    sub_id = {format = 'scim',
              uri = '/' .. (e.resourceType or 'User') .. 's/'
                    .. (e.id or '')},
    events = ev})
end

local out, n, used = {'0'}, 0, 0

-- a read's entries into out; the trimmed ones acknowledged
local function take(r)
  if not r or not r[1] then return end
  local gone = {}
  for _, en in ipairs(r[1][2]) do
    used = used + 1
    if en[2] then
      out[#out + 1] = en[1]
      out[#out + 1] = claims(en[1], en[2])
      n = n + 1
    else
      gone[#gone + 1] = en[1]
    end
  end
  if #gone > 0 then redis.call('XACK', s, g, unpack(gone)) end
end

if max > 0 then
  take(redis.call('XREADGROUP', 'GROUP', g, c, 'COUNT', max,
                  'STREAMS', s, '0'))
end
if used < max then
  take(redis.call('XREADGROUP', 'GROUP', g, c, 'COUNT', max - used,
                  'STREAMS', s, '>'))
end

-- more: pending ones not in this answer, or entries never delivered
if used >= max then
  local pending = redis.call('XPENDING', s, g)[1]
  local last
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', s)) do
    local h = {}
    for i = 1, #info, 2 do h[info[i]] = info[i + 1] end
    if h.name == g then last = h['last-delivered-id'] end
  end
  local newest = redis.call('XREVRANGE', s, '+', '-', 'COUNT', 1)[1]
  if pending > n or (newest and newest[1] ~= last) then out[1] = '1' end
end

return out
