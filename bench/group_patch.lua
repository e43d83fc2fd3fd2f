-- bench/group_patch.lua: PATCH /Groups/{id} adding one member per request
-- (RFC 7644 3.5.2.1, op "add", path "members"), rotating over a pool of
-- user ids.  The answer is 204 No Content.
--   BENCH_GROUP   the group id
--   BENCH_IDS     file with the pool of user ids, one a line

local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

setup = common.setup
done = common.done

function init(args)
    local ids = common.read_lines(os.getenv("BENCH_IDS"))
    local h = common.headers(true)
    local path = common.base .. "/Groups/" .. os.getenv("BENCH_GROUP")
    reqs = {}
    for i, id in ipairs(ids) do
        reqs[i] = wrk.format("PATCH", path, h,
            '{"schemas":["' .. common.URN_PATCH .. '"],"Operations":'
            .. '[{"op":"add","path":"members","value":[{"value":"'
            .. id .. '"}]}]}')
    end
    -- the threads walk the pool from different ends
    n = #reqs
    i = ((tid or 1) - 1) * math.floor(n / 2)
end

function request()
    i = i % n + 1
    return reqs[i]
end
