-- bench/common.lua: helpers shared by the wrk scripts of bench/run.
--
-- Loaded by every script with
--   local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
-- Configuration comes from the environment that bench/run sets:
--   BENCH_BASE     SCIM base path, e.g. /scim/v2
--   BENCH_TOKEN    bearer token
--   BENCH_NAME     name of this benchmark (first column of the results)
--   BENCH_RESULT   file the done() reporter appends one line to

local M = {}

M.base = os.getenv("BENCH_BASE") or "/scim/v2"
M.token = os.getenv("BENCH_TOKEN") or ""

M.URN_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
M.URN_ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
M.URN_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
M.URN_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

-- headers of every SCIM request
function M.headers(with_body)
    local h = { ["Authorization"] = "Bearer " .. M.token }
    if with_body then
        h["Content-Type"] = "application/scim+json"
    end
    return h
end

-- every non-empty line of a file
function M.read_lines(path)
    local t = {}
    local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
    for line in f:lines() do
        if line ~= "" then
            t[#t + 1] = line
        end
    end
    f:close()
    assert(#t > 0, "no lines in " .. path)
    return t
end

-- RFC 3986 unreserved characters stay, everything else is %XX
function M.urlencode(s)
    return (s:gsub("[^A-Za-z0-9%-%._~]", function(c)
        return string.format("%%%02X", c:byte())
    end))
end

-- JSON string escaping for the few values we put in bodies
function M.json_str(s)
    return '"' .. s:gsub('[%c"\\]', function(c)
        return string.format("\\u%04x", c:byte())
    end) .. '"'
end

M.URN_GR = "urn:ietf:params:scim:schemas:extension:GlobalRelay:2.0:User"

-- the standard write body: a user as Entra provisions it to Global Relay
-- Identity Sync (../shared/seeds, the attribute table of
-- t/34-seeds-roundtrip.t): core with name, emails, addresses and phone
-- numbers, the enterprise extension and the GlobalRelay extension
-- (conf-examples/global-relay/globalrelay-extension.json); about 900
-- bytes with bench/run's userNames (about 40 characters).  One user in a hundred has an "x" in the title: the scan
-- benchmark filters on title co "x".
function M.entra_user(user_name, n)
    local u = M.json_str(user_name)
    return '{"schemas":["' .. M.URN_USER .. '","' .. M.URN_ENT .. '","'
        .. M.URN_GR .. '"],'
        .. '"userName":' .. u .. ','
        .. '"externalId":' .. M.json_str(user_name:match("^[^@]*")) .. ','
        .. '"active":true,'
        .. '"displayName":"Bench User ' .. n .. '",'
        .. '"title":"' .. (n % 100 == 0 and "Sphinx keeper" or "Analyst")
        .. '",'
        .. '"name":{"givenName":"Bench","familyName":"User ' .. n .. '"},'
        .. '"emails":[{"primary":true,"type":"work","value":' .. u .. '}],'
        .. '"addresses":[{"type":"work","streetAddress":"1 Work Way",'
        .. '"locality":"Vancouver","region":"BC","postalCode":"V6B 1A1",'
        .. '"country":"CA"}],'
        .. '"phoneNumbers":[{"type":"work","value":"+1 604 555 0100"}],'
        .. '"' .. M.URN_ENT .. '":{"employeeNumber":"' .. n .. '",'
        .. '"department":"Benchmarks"},'
        .. '"' .. M.URN_GR .. '":{"proxyAddresses":"SMTP:' .. user_name
        .. '","extensionAttribute1":"Vancouver"}}'
end


-- the body every write benchmark and the seeding send
M.user_body = M.entra_user

-- an Entra-shaped User (core + enterprise extension), about 500 bytes:
-- the write body before issue 13 (BENCH_BODY=small)
function M.small_user(user_name, n)
    return '{"schemas":["' .. M.URN_USER .. '","' .. M.URN_ENT .. '"],'
        .. '"userName":' .. M.json_str(user_name) .. ','
        .. '"externalId":' .. M.json_str("ext-" .. user_name) .. ','
        .. '"active":true,'
        .. '"displayName":"Bench User ' .. n .. '",'
        -- one user in a hundred has an "x" in the title: the scan
        -- benchmark filters on title co "x"
        .. '"title":"' .. (n % 100 == 0 and "Sphinx keeper" or "Analyst")
        .. '",'
        .. '"name":{"givenName":"Bench","familyName":"User ' .. n .. '",'
        .. '"formatted":"Bench User ' .. n .. '"},'
        .. '"emails":[{"primary":true,"type":"work","value":'
        .. M.json_str(user_name) .. '}],'
        .. '"' .. M.URN_ENT .. '":{"department":"Benchmarks",'
        .. '"employeeNumber":"' .. n .. '"}}'
end

if os.getenv("BENCH_BODY") == "small" then
    M.user_body = M.small_user
end

-- the SCIM base of tenant k of BENCH_TENANTS (bench/run's regex
-- location /t/<k>/scim/v2/, scim_tenant bench-<k>), or the one base
function M.tenant_base(k)
    if k == nil then
        return M.base
    end
    return "/t/" .. k .. M.base
end

M.tenants = tonumber(os.getenv("BENCH_TENANTS") or "0") or 0

-- setup(): number the threads 1..n (thread-local global "tid")
local next_tid = 0

function M.setup(thread)
    next_tid = next_tid + 1
    thread:set("tid", next_tid)
end

-- done(): one tab-separated line per run into BENCH_RESULT:
-- name requests duration_us rps p50_us p99_us max_us
-- connect_err read_err write_err timeouts status_ge_400
function M.done(summary, latency, requests)
    local e = summary.errors
    local secs = summary.duration / 1e6
    local line = string.format(
        "%s\t%d\t%d\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n",
        os.getenv("BENCH_NAME") or "?", summary.requests,
        summary.duration, summary.requests / secs,
        math.floor(latency:percentile(50.0)),
        math.floor(latency:percentile(99.0)), math.floor(latency.max),
        e.connect, e.read, e.write, e.timeout, e.status)
    local path = os.getenv("BENCH_RESULT")
    if path then
        local f = assert(io.open(path, "a"))
        f:write(line)
        f:close()
    end
    io.write("result: ", line)
end

-- first failed response of a thread, to stderr (once)
local reported = false

function M.report_failure(what, status, body)
    if reported then
        return
    end
    reported = true
    io.stderr:write(string.format("bench: %s: unexpected status %d: %s\n",
                                  what, status, (body or ""):sub(1, 300)))
end

return M
