-- related: for filters on members.value (listing users) and
-- groups.value / members.value (listing groups): listing users ('User'),
-- the members of group id; listing groups ('Group'), the groups holding
-- member id.  The scan script reads them (candidates)
--   KEYS: the first 7 of the tenant's keys (lib.lua)
--   ARGV: type listed, id
--   -> {id, ...}
--! keys 9

typed(ARGV[1])
-- members (KEYS[9]) or memberof (KEYS[5])
return related(ARGV[1] == 'User' and KEYS[9] or KEYS[5], ARGV[2])
