-- bench/user_patch.lua: PATCH /Users/{id} as Entra sends an attribute
-- change (RFC 7644 3.5.2.3, "Replace" with a path, Entra's capital R):
-- the title, an enterprise and a GlobalRelay attribute, with a counter in
-- the values so that every request changes the stored user; rotating
-- over the seeded ids.  The answer is 200 with the user.
--   BENCH_IDS   file with one user id a line

local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

setup = common.setup
done = common.done

function init(args)
    ids = common.read_lines(os.getenv("BENCH_IDS"))
    headers = common.headers(true)
    math.randomseed(os.time() * 1000 + (tid or 0))
    n = #ids
    i = math.random(n)
    counter = 0
end

function request()
    i = i % n + 1
    counter = counter + 1
    local v = tid .. "-" .. counter
    return wrk.format("PATCH", common.base .. "/Users/" .. ids[i], headers,
        '{"schemas":["' .. common.URN_PATCH .. '"],"Operations":['
        .. '{"op":"Replace","path":"title","value":"Analyst ' .. v .. '"},'
        .. '{"op":"Replace","path":"' .. common.URN_ENT .. ':department",'
        .. '"value":"Benchmarks ' .. v .. '"},'
        .. '{"op":"Replace","path":"' .. common.URN_GR
        .. ':extensionAttribute3","value":"' .. v .. '"}]}')
end

function response(status, hdrs, body)
    if status ~= 200 and status ~= 204 then
        common.report_failure("PATCH /Users/{id}", status, body)
    end
end
