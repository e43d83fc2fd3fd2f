-- related: the ids of a set (a group's members) or of the union of two
-- (a member's groups), for filters on groups.value / members.value; the
-- scan script reads them (candidates)
--   KEYS: sets
--   -> {id, ...}

return redis.call('SUNION', unpack(KEYS))
