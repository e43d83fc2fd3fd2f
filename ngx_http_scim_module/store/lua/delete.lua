-- delete a document read at version ARGV[2], with its index entries and
-- its memberships, as lib.lua drop() says; the caller gives the index
-- values it read from the document (delete_id.lua: the same in one call
-- when they are ASCII)
--   KEYS: the tenant's 17 keys (lib.lua)
--   ARGV: id, expected version, folded name, externalId, "User" or
--         "Group", nemails, folded e-mails..., now (the reports'
--         lastModified), then the event's (lib.lua event(): a delete, and
--         a patch of each report that loses its manager)
--   -> {1} | {0} (no document) | {-1, current version}
--! keys 17

local id, t = ARGV[1], ARGV[5]

local cur = redis.call('HGET', (typed(t)), id)
if not cur then return {0} end
local v = version_of(cur)
if v ~= ARGV[2] then return {-1, v or ''} end
local em, k = list(6)
drop(t, id, v, ARGV[3], ARGV[4], em, ARGV[k], k + 1)
return {1}
