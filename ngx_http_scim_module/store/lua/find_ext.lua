-- find_ext: the ids of the resources of a type whose externalId is
-- exactly ARGV[1] (not unique: any number of them); the scan script
-- reads them (candidates, see scan.lua)
--   KEYS: the first 11 of the tenant's keys (lib.lua)
--   ARGV: externalId, type
--   -> {id, ...}
--! keys 7-11

local _, _, _, iext = typed(ARGV[2])
return extids(iext, ARGV[1])
