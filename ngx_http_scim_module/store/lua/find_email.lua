-- find_email: the ids of the users that have an e-mail (folded), any
-- type; the scan script reads them (candidates, see scan.lua)
--   KEYS: the first 15 of the tenant's keys (lib.lua)
--   ARGV: folded e-mail
--   -> {id, ...}
--! keys 15

local r = {}
local e = ARGV[1] .. '\0'
for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[15], '[' .. e,  -- e-mails
                              '[' .. e .. '\255')) do
  r[#r + 1] = string.sub(m, #e + 1)
end
return r
