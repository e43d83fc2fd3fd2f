-- bench/user_post.lua: POST /Users, a new userName for every request
-- (thread id + a random tag of the thread + a counter).  With
-- BENCH_TENANTS = n > 0, round-robin over the n tenants of bench/run's
-- /t/<k>/scim/v2/ location.

local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

setup = common.setup
done = common.done

function init(args)
    math.randomseed(os.time() * 1000 + (tid or 0))
    prefix = string.format("post-%d-%08x-", tid or 0,
                           math.random(0, 0x7fffffff))
    headers = common.headers(true)
    path = common.base .. "/Users"
    counter = 0
end

function request()
    counter = counter + 1
    local name = prefix .. counter .. "@bench.example.com"
    if common.tenants > 0 then
        return wrk.format("POST", common.tenant_base(counter % common.tenants)
                          .. "/Users", headers, common.user_body(name, counter))
    end
    return wrk.format("POST", path, headers, common.user_body(name, counter))
end
