-- related: for filters on members.value (listing users) and
-- groups.value / members.value (listing groups): listing users ('User'),
-- the members of group id; listing groups ('Group'), the groups holding
-- member id.  The scan script reads them (candidates)
--   KEYS: the tenant's keys (lib.lua)
--   ARGV: type listed, id
--   -> {id, ...}

typed(ARGV[1])
-- members (KEYS[14]) or memberof (KEYS[15])
return related(ARGV[1] == 'User' and KEYS[14] or KEYS[15], ARGV[2])
