-- bench/user_delete.lua: DELETE /Users/{id}, each id once: thread t of n
-- takes the ids t, t + n, t + 2n, ... of BENCH_IDS.  bench/run seeds more
-- users than the run can delete; a thread that runs out of ids sends
-- GET /baseline (counted, and flagged by bench/run) instead of deleting
-- an id twice.  The answer is 204.
--   BENCH_IDS      file with one user id a line (users to delete)
--   BENCH_THREADS  wrk threads

local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

setup = common.setup
done = common.done

function init(args)
    local ids = common.read_lines(os.getenv("BENCH_IDS"))
    local nthreads = tonumber(os.getenv("BENCH_THREADS"))
    local h = common.headers(false)
    reqs = {}
    for j = tid, #ids, nthreads do
        reqs[#reqs + 1] = wrk.format("DELETE", common.base .. "/Users/"
                                     .. ids[j], h)
    end
    idle = wrk.format("GET", "/baseline")
    i = 0
end

function request()
    i = i + 1
    if i > #reqs then
        if i == #reqs + 1 then
            io.stderr:write("bench: user_delete.lua: thread ", tid,
                            " ran out of ids to delete\n")
        end
        return idle
    end
    return reqs[i]
end

function response(status, hdrs, body)
    if status ~= 204 and body ~= '{"ok":true}' then
        common.report_failure("DELETE /Users/{id}", status, body)
    end
end
