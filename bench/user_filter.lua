-- bench/user_filter.lua: GET /Users?filter=userName eq "<name>", rotating
-- over the seeded userNames (URL-encoded as Entra sends them).
--   BENCH_NAMES   file with one userName a line

local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

setup = common.setup
done = common.done

function init(args)
    local names = common.read_lines(os.getenv("BENCH_NAMES"))
    local h = common.headers(false)
    reqs = {}
    for i, name in ipairs(names) do
        local filter = 'userName eq "' .. name .. '"'
        reqs[i] = wrk.format("GET", common.base .. "/Users?filter="
                             .. common.urlencode(filter), h)
    end
    math.randomseed(os.time() * 1000 + (tid or 0))
    n = #reqs
    i = math.random(n)
end

function request()
    i = i % n + 1
    return reqs[i]
end
