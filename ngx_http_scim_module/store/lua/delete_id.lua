-- delete_id: a delete in one call, given the id alone: it reads the
-- document, checks its version, and takes the values of its index
-- entries from the document itself (cjson): the externalId as it is, the
-- name (userName, a group's displayName) and a user's e-mails (the
-- non-empty string "value" of each element of "emails") folded, then
-- deletes as delete.lua does (lib.lua drop()).  It folds only ASCII,
-- where folding (core/scim_text.c scim_casefold) is exactly ASCII
-- lower-casing: string.lower, byte by byte, in Redis's C locale (it sets
-- LC_COLLATE alone).  A name or an e-mail with any other character
-- (whose folding is the C core's: the Kelvin sign folds to "k"), or a
-- document it cannot decode or without a version, changes nothing: it
-- returns the document, and the caller folds the values and deletes it
-- with delete.lua at the version it read (two calls, as before).
--   KEYS: the tenant's 17 keys (lib.lua)
--   ARGV: id, "User" or "Group", expected version ('' = any), now (the
--         reports' lastModified), then the event's (lib.lua event(): a
--         delete, and a patch of each report that loses its manager)
--   -> {1} | {0} (no document) | {-1, current version}
--      | {-5, document} (not deleted: the caller folds)
--! keys 17

local id, t = ARGV[1], ARGV[2]

local cur = redis.call('HGET', (typed(t)), id)
if not cur then return {0} end
local v = version_of(cur)
if ARGV[3] ~= '' and v ~= ARGV[3] then return {-1, v or ''} end
local ok, d = pcall(cjson.decode, cur)
if not v or not ok or type(d) ~= 'table' then return {-5, cur} end
local s = d[t == 'User' and 'userName' or 'displayName']
local name = type(s) == 'string' and s or ''
if string.find(name, '[\128-\255]') then return {-5, cur} end
local em = {}
if t == 'User' and type(d.emails) == 'table' then
  for _, e in ipairs(d.emails) do
    s = type(e) == 'table' and e.value
    if type(s) == 'string' and s ~= '' then
      if string.find(s, '[\128-\255]') then return {-5, cur} end
      em[#em + 1] = string.lower(s)
    end
  end
end
s = d.externalId
drop(t, id, v, string.lower(name), type(s) == 'string' and s or '', em,
     ARGV[4], 5)
return {1}
