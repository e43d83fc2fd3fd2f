-- bench/user_post.lua: POST /Users, a new userName for every request
-- (thread id + a random tag of the thread + a counter).

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
    return wrk.format("POST", path, headers, common.user_body(name, counter))
end
