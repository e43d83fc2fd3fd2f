-- bench/user_get.lua: GET /Users/{id}, rotating over the seeded ids.
--   BENCH_IDS   file with one user id a line, or "id<TAB>k": the user
--               is tenant k's (bench/run's /t/<k>/scim/v2/ location)

local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

setup = common.setup
done = common.done

function init(args)
    local ids = common.read_lines(os.getenv("BENCH_IDS"))
    local h = common.headers(false)
    reqs = {}
    for i, line in ipairs(ids) do
        local id, k = line:match("^([^\t]+)\t?([0-9]*)")
        reqs[i] = wrk.format("GET", common.tenant_base(k ~= "" and k or nil)
                             .. "/Users/" .. id, h)
    end
    -- each thread starts at a different place in the list
    math.randomseed(os.time() * 1000 + (tid or 0))
    n = #reqs
    i = math.random(n)
end

function request()
    i = i % n + 1
    return reqs[i]
end
