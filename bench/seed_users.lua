-- bench/seed_users.lua: create at least BENCH_SEED_COUNT users through
-- POST /Users, spread over the wrk threads, and write "id<TAB>userName"
-- lines to BENCH_SEED_OUT.<tid>.
--
-- With BENCH_TENANTS = n > 0 the users go round-robin to the n tenants
-- of bench/run's /t/<k>/scim/v2/ location, and the lines are
-- "id<TAB>userName<TAB>k".
--
-- A thread keeps sending POSTs until its share has been answered (a few
-- more may be in flight then: they are recorded too), then writes
-- BENCH_SEED_OUT.<tid>.done (the line "created failed"), sends only
-- GET /baseline, and stops; bench/run interrupts wrk once every thread is
-- done.  (Counting answers, not requests: wrk calls request() once more
-- than it sends, to check the script.)
--   BENCH_SEED_COUNT, BENCH_SEED_OUT, BENCH_SEED_PREFIX, BENCH_THREADS

local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

setup = common.setup

function init(args)
    local total = tonumber(os.getenv("BENCH_SEED_COUNT"))
    local nthreads = tonumber(os.getenv("BENCH_THREADS"))
    quota = math.floor(total / nthreads)
    if tid <= total % nthreads then
        quota = quota + 1
    end
    prefix = (os.getenv("BENCH_SEED_PREFIX") or "seed") .. "-" .. tid .. "-"
    outname = os.getenv("BENCH_SEED_OUT") .. "." .. tid
    out = assert(io.open(outname, "w"))
    headers = common.headers(true)
    path = common.base .. "/Users"
    idle = wrk.format("GET", "/baseline")
    sent, created, failed, finished = 0, 0, 0, false
    if quota == 0 then
        finish()
    end
end

function finish()
    finished = true
    out:close()
    local d = assert(io.open(outname .. ".done", "w"))
    d:write(created, " ", failed, "\n")
    d:close()
    wrk.thread:stop()
end

function request()
    if finished then
        return idle
    end
    sent = sent + 1
    local name = prefix .. sent .. "@bench.example.com"
    if common.tenants > 0 then
        local k = sent % common.tenants
        return wrk.format("POST", common.tenant_base(k) .. "/Users", headers,
                          common.user_body(name .. "#" .. k, sent))
    end
    return wrk.format("POST", path, headers, common.user_body(name, sent))
end

function response(status, hdrs, body)
    if finished or body == '{"ok":true}' then
        return
    end
    if status == 201 then
        local id = body:match('"id"%s*:%s*"([^"]+)"')
        local name = body:match('"userName"%s*:%s*"([^"]+)"')
        if id and name then
            created = created + 1
            local k = name:match("#(%d+)$")
            if k then
                out:write(id, "\t", name, "\t", k, "\n")
            else
                out:write(id, "\t", name, "\n")
            end
        else
            failed = failed + 1
            common.report_failure("POST /Users (no id in the answer)",
                                  status, body)
        end
    else
        failed = failed + 1
        common.report_failure("POST /Users", status, body)
    end
    if created + failed >= quota then
        finish()
    end
end
