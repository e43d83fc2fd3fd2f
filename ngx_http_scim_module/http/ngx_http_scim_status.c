
/*
 * ngx_http_scim_module: scim_status, the counters of the shared zone
 * (ngx_http_scim_monitor.c) as JSON, or in the Prometheus text format
 * 0.0.4 with ?format=prometheus.  GET and HEAD only, no token (protect
 * the location with allow/deny), Cache-Control: no-store.  What each
 * value means: README, "Monitoring and alerting".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#define NGX_HTTP_SCIM_MONITOR_PRIVATE  1

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_monitor.h"


#define NGX_HTTP_SCIM_LINE  (128 + 6 * NGX_HTTP_SCIM_TENANT_LEN)
#define NGX_HTTP_SCIM_ROOM  8192     /* what follows the rows, at most */


static size_t ngx_http_scim_status_size(ngx_http_scim_stats_t *st,
    ngx_http_scim_main_conf_t *smcf);
static u_char *ngx_http_scim_status_json(u_char *p, u_char *last,
    ngx_http_scim_stats_t *st, ngx_http_scim_main_conf_t *smcf);
static u_char *ngx_http_scim_status_prom(u_char *p, u_char *last,
    ngx_http_scim_stats_t *st, ngx_http_scim_main_conf_t *smcf);
static ngx_uint_t ngx_http_scim_tenant_first(ngx_http_scim_stats_t *st,
    ngx_uint_t k);
static void ngx_http_scim_tenant_sum(ngx_http_scim_stats_t *st,
    ngx_uint_t k, ngx_atomic_uint_t *sum);
static u_char *ngx_http_scim_bound(u_char *p, ngx_uint_t tenths,
    ngx_uint_t seconds);


static const char  *ngx_http_scim_classes[] = {
    "1xx", "2xx", "3xx", "4xx", "5xx"
};

static const char  *ngx_http_scim_store_names[] = {
    "commands", "unavailable", "refused", "bad_reply", "connects",
    "reconnects", "connect_failures"
};


ngx_int_t
ngx_http_scim_status_handler(ngx_http_request_t *r)
{
    u_char                     *p;
    ngx_int_t                   rc;
    ngx_buf_t                  *b;
    ngx_str_t                   format;
    ngx_uint_t                  prom;
    ngx_http_scim_stats_t      *st;
    ngx_http_scim_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_scim_monitor_refuse(r);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    prom = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            prom = 1;

        } else if (!(format.len == 4
                     && ngx_strncmp(format.data, "json", 4) == 0))
        {
            b = ngx_calloc_buf(r->pool);
            if (b == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            b->pos = (u_char *) "{\"status\":\"error\",\"error\":\"format: "
                                "\\\"json\\\" or \\\"prometheus\\\"\"}\n";
            b->last = b->pos + ngx_strlen(b->pos);
            b->memory = 1;

            return ngx_http_scim_monitor_send(r, NGX_HTTP_BAD_REQUEST,
                                              "application/json", b);
        }
    }

    st = ngx_http_scim_stats();
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    ngx_http_scim_monitor_slot_update();

    b = ngx_create_temp_buf(r->pool, ngx_http_scim_status_size(st, smcf));
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = prom ? ngx_http_scim_status_prom(b->last, b->end, st, smcf)
             : ngx_http_scim_status_json(b->last, b->end, st, smcf);

    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = p;

    return ngx_http_scim_monitor_send(r, NGX_HTTP_OK,
                                      prom ? "text/plain; version=0.0.4; "
                                             "charset=utf-8"
                                           : "application/json", b);
}


/*
 * The fixed part, the rows of the workers and the tenants there are now
 * (an escaped name: 6 bytes a byte at most), and room to close: a row
 * that would not leave it is not written (workers or tenants added
 * meanwhile).
 */

static size_t
ngx_http_scim_status_size(ngx_http_scim_stats_t *st,
    ngx_http_scim_main_conf_t *smcf)
{
    size_t              size, row;
    ngx_uint_t          i, nworkers, nstores;
    ngx_scim_store_t  **s;

    nworkers = 0;

    for (i = 0; i < NGX_HTTP_SCIM_WORKERS_MAX; i++) {
        if (st->workers[i].pid) {
            nworkers++;
        }
    }

    nstores = 0;
    row = 0;

    if (smcf) {
        s = smcf->servers.elts;
        nstores = ngx_min(smcf->servers.nelts, NGX_HTTP_SCIM_STORES_MAX);

        for (i = 0; i < nstores; i++) {
            row = ngx_max(row, ngx_scim_store_name(s[i])->len);
        }
    }

    size = (64 + NGX_HTTP_SCIM_OP_N * NGX_HTTP_SCIM_CLASS_N
            + 2 * NGX_HTTP_SCIM_BUCKETS_N + NGX_HTTP_SCIM_AUTH_N + 32)
           * 256;

    size += nworkers * nstores * 3 * (160 + 6 * row);

    if (st->tenants_limit) {
        size += (ngx_min(st->ntenants, st->tenants_limit) + 1)
                * NGX_HTTP_SCIM_CLASS_N * NGX_HTTP_SCIM_LINE;
    }

    return size + NGX_HTTP_SCIM_ROOM;
}


static u_char *
ngx_http_scim_status_json(u_char *p, u_char *last, ngx_http_scim_stats_t *st,
    ngx_http_scim_main_conf_t *smcf)
{
    ngx_str_t                    *name;
    ngx_uint_t                    i, j, k, first, count;
    ngx_atomic_uint_t             sum[NGX_HTTP_SCIM_CLASS_N], cum;
    ngx_scim_store_t            **s;
    ngx_http_scim_worker_stat_t  *w;

    p = ngx_sprintf(p, "{\"since\":%uA,\"reloads\":%uA,\"requests\":{",
                    st->start, st->reloads);

    for (i = 0; i < NGX_HTTP_SCIM_OP_N; i++) {
        p = ngx_sprintf(p, "%s\"%s\":{", i ? "," : "",
                        ngx_http_scim_op_names[i]);

        for (j = 1; j < NGX_HTTP_SCIM_CLASS_N; j++) {
            p = ngx_sprintf(p, "%s\"%s\":%uA", j > 1 ? "," : "",
                            ngx_http_scim_classes[j], st->requests[i][j]);
        }

        *p++ = '}';
    }

    /* cumulative, as Prometheus has them */

    p = ngx_cpymem(p, "},\"latency_ms\":{\"buckets\":{",
                   sizeof("},\"latency_ms\":{\"buckets\":{") - 1);

    cum = 0;

    for (i = 0; i < NGX_HTTP_SCIM_BUCKETS_N; i++) {
        cum += st->latency[i];

        if (i) {
            *p++ = ',';
        }

        *p++ = '"';

        if (i < NGX_HTTP_SCIM_BUCKETS_N - 1) {
            p = ngx_http_scim_bound(p, ngx_http_scim_buckets[i], 0);

        } else {
            p = ngx_cpymem(p, "+Inf", 4);
        }

        p = ngx_sprintf(p, "\":%uA", cum);
    }

    p = ngx_sprintf(p, "},\"sum\":%uA,\"count\":%uA},\"redis\":{",
                    st->latency_sum, cum);

    for (i = 0; i < NGX_SCIM_STORE_STAT_N; i++) {
        p = ngx_sprintf(p, "%s\"%s\":%uA", i ? "," : "",
                        ngx_http_scim_store_names[i], st->store[i]);
    }

    p = ngx_cpymem(p, "},\"connections\":[",
                   sizeof("},\"connections\":[") - 1);

    s = smcf ? smcf->servers.elts : NULL;
    first = 1;

    for (i = 0; s && i < NGX_HTTP_SCIM_WORKERS_MAX; i++) {
        w = &st->workers[i];

        if (w->pid == 0) {
            continue;
        }

        for (j = 0; j < w->nstores && j < smcf->servers.nelts; j++) {
            name = ngx_scim_store_name(s[j]);

            if ((size_t) (last - p) < 160 + 6 * name->len
                                      + NGX_HTTP_SCIM_ROOM)
            {
                break;
            }

            p = ngx_sprintf(p, "%s{\"worker\":%ui,\"pid\":%uA,\"redis\":\"",
                            first ? "" : ",", i, w->pid);
            p = ngx_http_scim_monitor_escape(p, last, name->data, name->len,
                                             0);
            p = ngx_sprintf(p, "\",\"connected\":%uA,\"connecting\":%uA,"
                            "\"down\":%uA}",
                            w->ready[j], w->connecting[j], w->down[j]);
            first = 0;
        }
    }

    p = ngx_cpymem(p, "],\"auth_failures\":{",
                   sizeof("],\"auth_failures\":{") - 1);

    for (i = 0; i < NGX_HTTP_SCIM_AUTH_N; i++) {
        p = ngx_sprintf(p, "%s\"%s\":%uA", i ? "," : "",
                        ngx_http_scim_auth_names[i], st->auth[i]);
    }

    *p++ = '}';

    if (st->tenants_limit) {
        p = ngx_sprintf(p, ",\"tenants\":{");
        count = 0;

        for (k = 0; k < st->tenants_max; k++) {
            if (st->tenants[k].len < 2
                || ngx_http_scim_tenant_first(st, k) != k)
            {
                continue;
            }

            if ((size_t) (last - p) < NGX_HTTP_SCIM_CLASS_N
                                      * NGX_HTTP_SCIM_LINE
                                      + NGX_HTTP_SCIM_ROOM)
            {
                break;
            }

            ngx_http_scim_tenant_sum(st, k, sum);

            p = ngx_cpymem(p, count ? ",\"" : "\"", count ? 2 : 1);
            p = ngx_http_scim_monitor_escape(p, last, st->tenants[k].name,
                                             st->tenants[k].len - 2, 0);
            p = ngx_cpymem(p, "\":{", 3);

            for (j = 1; j < NGX_HTTP_SCIM_CLASS_N; j++) {
                p = ngx_sprintf(p, "%s\"%s\":%uA", j > 1 ? "," : "",
                                ngx_http_scim_classes[j], sum[j]);
            }

            *p++ = '}';
            count++;
        }

        p = ngx_sprintf(p, "},\"tenants_other\":{");

        for (j = 1; j < NGX_HTTP_SCIM_CLASS_N; j++) {
            p = ngx_sprintf(p, "%s\"%s\":%uA", j > 1 ? "," : "",
                            ngx_http_scim_classes[j], st->tenants_other[j]);
        }

        *p++ = '}';
    }

    p = ngx_cpymem(p, "}\n", 2);

    return (p <= last) ? p : NULL;
}


#define ngx_http_scim_prom_head(p, name, type, help)                         \
    ngx_cpymem(p, "# HELP " name " " help "\n# TYPE " name " " type "\n",     \
               sizeof("# HELP " name " " help "\n# TYPE " name " " type "\n") \
               - 1)


static u_char *
ngx_http_scim_status_prom(u_char *p, u_char *last, ngx_http_scim_stats_t *st,
    ngx_http_scim_main_conf_t *smcf)
{
    ngx_str_t                    *name;
    ngx_uint_t                    i, j, k;
    ngx_atomic_uint_t             sum[NGX_HTTP_SCIM_CLASS_N], cum;
    ngx_scim_store_t            **s;
    ngx_http_scim_worker_stat_t  *w;

    p = ngx_http_scim_prom_head(p, "scim_requests_total", "counter",
                                "Requests of scim locations and token "
                                "endpoints, by operation and status class.");

    for (i = 0; i < NGX_HTTP_SCIM_OP_N; i++) {
        for (j = 1; j < NGX_HTTP_SCIM_CLASS_N; j++) {
            p = ngx_sprintf(p, "scim_requests_total{op=\"%s\",class=\"%s\"} "
                            "%uA\n", ngx_http_scim_op_names[i],
                            ngx_http_scim_classes[j], st->requests[i][j]);
        }
    }

    p = ngx_http_scim_prom_head(p, "scim_request_duration_seconds",
                                "histogram",
                                "Time from the request's first byte to its "
                                "log phase.");
    cum = 0;

    for (i = 0; i < NGX_HTTP_SCIM_BUCKETS_N; i++) {
        cum += st->latency[i];

        p = ngx_cpymem(p, "scim_request_duration_seconds_bucket{le=\"",
                       sizeof("scim_request_duration_seconds_bucket{le=\"")
                       - 1);

        if (i < NGX_HTTP_SCIM_BUCKETS_N - 1) {
            p = ngx_http_scim_bound(p, ngx_http_scim_buckets[i], 1);

        } else {
            p = ngx_cpymem(p, "+Inf", 4);
        }

        p = ngx_sprintf(p, "\"} %uA\n", cum);
    }

    p = ngx_sprintf(p, "scim_request_duration_seconds_sum %uA.%03uA\n"
                    "scim_request_duration_seconds_count %uA\n",
                    st->latency_sum / 1000, st->latency_sum % 1000, cum);

    p = ngx_http_scim_prom_head(p, "scim_redis_commands_total", "counter",
                                "Redis commands answered or failed "
                                "(round trips).");
    p = ngx_sprintf(p, "scim_redis_commands_total %uA\n",
                    st->store[NGX_SCIM_STORE_STAT_COMMANDS]);

    p = ngx_http_scim_prom_head(p, "scim_redis_errors_total", "counter",
                                "Redis command failures by kind.");

    for (i = NGX_SCIM_STORE_STAT_UNAVAILABLE;
         i <= NGX_SCIM_STORE_STAT_BAD_REPLY;
         i++)
    {
        p = ngx_sprintf(p, "scim_redis_errors_total{kind=\"%s\"} %uA\n",
                        ngx_http_scim_store_names[i], st->store[i]);
    }

    p = ngx_http_scim_prom_head(p, "scim_redis_connects_total", "counter",
                                "Redis connections made (ready).");
    p = ngx_sprintf(p, "scim_redis_connects_total %uA\n",
                    st->store[NGX_SCIM_STORE_STAT_CONNECTS]);

    p = ngx_http_scim_prom_head(p, "scim_redis_reconnects_total", "counter",
                                "Redis connections made again after a lost "
                                "one or a failed attempt.");
    p = ngx_sprintf(p, "scim_redis_reconnects_total %uA\n",
                    st->store[NGX_SCIM_STORE_STAT_RECONNECTS]);

    p = ngx_http_scim_prom_head(p, "scim_redis_connect_failures_total",
                                "counter",
                                "Redis connection attempts that failed.");
    p = ngx_sprintf(p, "scim_redis_connect_failures_total %uA\n",
                    st->store[NGX_SCIM_STORE_STAT_FAILED_CONNECTS]);

    p = ngx_http_scim_prom_head(p, "scim_redis_connections", "gauge",
                                "Each worker's Redis connections by state, "
                                "as of the last second.");

    s = smcf ? smcf->servers.elts : NULL;

    for (i = 0; s && i < NGX_HTTP_SCIM_WORKERS_MAX; i++) {
        w = &st->workers[i];

        if (w->pid == 0) {
            continue;
        }

        for (j = 0; j < w->nstores && j < smcf->servers.nelts; j++) {
            name = ngx_scim_store_name(s[j]);

            if ((size_t) (last - p) < 3 * (160 + 6 * name->len)
                                      + NGX_HTTP_SCIM_ROOM)
            {
                break;
            }

            for (k = 0; k < 3; k++) {
                p = ngx_sprintf(p, "scim_redis_connections{worker=\"%ui\","
                                "redis=\"", i);
                p = ngx_http_scim_monitor_escape(p, last, name->data,
                                                 name->len, 1);
                p = ngx_sprintf(p, "\",state=\"%s\"} %uA\n",
                                k == 0 ? "connected"
                                : (k == 1 ? "connecting" : "down"),
                                k == 0 ? w->ready[j]
                                : (k == 1 ? w->connecting[j] : w->down[j]));
            }
        }
    }

    p = ngx_http_scim_prom_head(p, "scim_auth_failures_total", "counter",
                                "Requests refused 401 by reason.");

    for (i = 0; i < NGX_HTTP_SCIM_AUTH_N; i++) {
        p = ngx_sprintf(p, "scim_auth_failures_total{reason=\"%s\"} %uA\n",
                        ngx_http_scim_auth_names[i], st->auth[i]);
    }

    p = ngx_http_scim_prom_head(p, "scim_status_start_time_seconds", "gauge",
                                "When the counters started (Unix time).");
    p = ngx_sprintf(p, "scim_status_start_time_seconds %uA\n", st->start);

    if (st->tenants_limit) {
        p = ngx_http_scim_prom_head(p, "scim_tenant_requests_total",
                                    "counter",
                                    "Requests by tenant (the first ones "
                                    "seen) and status class.");

        for (k = 0; k < st->tenants_max; k++) {
            if (st->tenants[k].len < 2
                || ngx_http_scim_tenant_first(st, k) != k)
            {
                continue;
            }

            if ((size_t) (last - p) < NGX_HTTP_SCIM_CLASS_N
                                      * NGX_HTTP_SCIM_LINE
                                      + NGX_HTTP_SCIM_ROOM)
            {
                break;
            }

            ngx_http_scim_tenant_sum(st, k, sum);

            for (j = 1; j < NGX_HTTP_SCIM_CLASS_N; j++) {
                p = ngx_cpymem(p, "scim_tenant_requests_total{tenant=\"",
                               sizeof("scim_tenant_requests_total{tenant=\"")
                               - 1);
                p = ngx_http_scim_monitor_escape(p, last, st->tenants[k].name,
                                                 st->tenants[k].len - 2, 1);
                p = ngx_sprintf(p, "\",class=\"%s\"} %uA\n",
                                ngx_http_scim_classes[j], sum[j]);
            }
        }

        p = ngx_http_scim_prom_head(p, "scim_tenant_other_requests_total",
                                    "counter",
                                    "Requests of the tenants not counted "
                                    "by name, by status class.");

        for (j = 1; j < NGX_HTTP_SCIM_CLASS_N; j++) {
            p = ngx_sprintf(p, "scim_tenant_other_requests_total{"
                            "class=\"%s\"} %uA\n",
                            ngx_http_scim_classes[j], st->tenants_other[j]);
        }
    }

    return (p <= last) ? p : NULL;
}


/*
 * Two workers meeting a new tenant at once may give it two slots of its
 * probe sequence: the first one (from the name's hash) stands for all.
 */

static ngx_uint_t
ngx_http_scim_tenant_first(ngx_http_scim_stats_t *st, ngx_uint_t k)
{
    size_t                        len;
    ngx_uint_t                    h, mask;
    ngx_http_scim_tenant_stat_t  *t, *o;

    mask = st->tenants_max - 1;
    t = &st->tenants[k];
    len = t->len;

    for (h = ngx_hash_key(t->name, len - 2) & mask; h != k;
         h = (h + 1) & mask)
    {
        o = &st->tenants[h];

        if (o->len == len && ngx_memcmp(o->name, t->name, len - 2) == 0) {
            return h;
        }
    }

    return k;
}


static void
ngx_http_scim_tenant_sum(ngx_http_scim_stats_t *st, ngx_uint_t k,
    ngx_atomic_uint_t *sum)
{
    size_t                        len;
    ngx_uint_t                    h, j, mask;
    ngx_http_scim_tenant_stat_t  *t, *o;

    mask = st->tenants_max - 1;
    t = &st->tenants[k];
    len = t->len;

    for (j = 0; j < NGX_HTTP_SCIM_CLASS_N; j++) {
        sum[j] = t->requests[j];
    }

    for (h = (k + 1) & mask; st->tenants[h].len != 0 && h != k;
         h = (h + 1) & mask)
    {
        o = &st->tenants[h];

        if (o->len == len && ngx_memcmp(o->name, t->name, len - 2) == 0) {
            for (j = 0; j < NGX_HTTP_SCIM_CLASS_N; j++) {
                sum[j] += o->requests[j];
            }
        }
    }
}


/* a bucket's bound: tenths of a ms as ms, or as seconds */

static u_char *
ngx_http_scim_bound(u_char *p, ngx_uint_t tenths, ngx_uint_t seconds)
{
    ngx_uint_t  v, scale, d;

    /* in units of 1/10000 s: print v / scale without trailing zeros */

    v = tenths;
    scale = seconds ? 10000 : 10;

    p = ngx_sprintf(p, "%ui", v / scale);
    v %= scale;

    if (v == 0) {
        return p;
    }

    *p++ = '.';

    for (d = scale / 10; v && d; d /= 10) {
        *p++ = (u_char) ('0' + v / d);
        v %= d;
    }

    return p;
}
