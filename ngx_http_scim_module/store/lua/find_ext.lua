-- find_ext: the resources of a type whose externalId is exactly ARGV[1]
-- (not unique: any number of them).  The one there usually is comes
-- back read as get.lua reads it (lib.lua expand()), so that the filter
-- externalId eq is one call; more than one: their ids, which the scan
-- script then reads (candidates, see scan.lua)
--   KEYS: the first 7 (users) or 11 (groups) of the tenant's keys
--         (lib.lua)
--   ARGV: externalId, type, members ('1': a group's members too)
--   -> {doc, manager display, id, type, display, ...} | false (none)
--      | {-7, id, ...} (more than one)
--! keys 7-11

local t = ARGV[2]
local _, _, _, iext = typed(t)
local ids = extids(iext, ARGV[1])
if #ids == 0 then return false end
if #ids > 1 then
  table.insert(ids, 1, -7)
  return ids
end
return expand(t, ids[1], ARGV[3])
