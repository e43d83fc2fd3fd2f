-- bench/entra_cycle.lua: Entra's provisioning of a new user, as its cycle
-- does it (README "Connecting Microsoft Entra ID"): GET
-- /Users?filter=userName eq "<name>" (a miss: an empty ListResponse),
-- then POST /Users with that name.  Each thread alternates the two on
-- its connection (run it with as many connections as threads, so that
-- every POST follows its own filter); users/s is half the req/s.
-- A filter that finds the user or a POST that is not 201 is reported.

local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

setup = common.setup
done = common.done

function init(args)
    math.randomseed(os.time() * 1000 + (tid or 0))
    prefix = string.format("cycle-%d-%08x-", tid or 0,
                           math.random(0, 0x7fffffff))
    hget = common.headers(false)
    hpost = common.headers(true)
    counter = 0
    post_next = false
end

function request()
    if post_next then
        post_next = false
        return wrk.format("POST", common.base .. "/Users", hpost,
                          common.user_body(name, counter))
    end
    counter = counter + 1
    name = prefix .. counter .. "@bench.example.com"
    post_next = true
    return wrk.format("GET", common.base .. "/Users?filter="
                      .. common.urlencode('userName eq "' .. name .. '"'),
                      hget)
end

function response(status, hdrs, body)
    if status == 200 then
        if not body:find('"totalResults":0', 1, true) then
            common.report_failure("filter before POST (not a miss)",
                                  status, body)
        end
    elseif status ~= 201 then
        common.report_failure("Entra cycle", status, body)
    end
end
