-- bench/get.lua: GET one fixed path, with the bearer token.
--   BENCH_PATH   the path (default /baseline), e.g.
--                /scim/v2/Groups/<id>?excludedAttributes=members

local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

setup = common.setup
done = common.done

function init(args)
    local path = os.getenv("BENCH_PATH") or "/baseline"
    req = wrk.format("GET", path, common.headers(false))
end

function request()
    return req
end
