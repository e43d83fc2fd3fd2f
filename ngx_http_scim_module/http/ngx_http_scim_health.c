
/*
 * ngx_http_scim_module: scim_health.
 *
 * GET (or HEAD) answers 200 when this worker reaches every Redis it
 * serves, 503 otherwise, as JSON with Cache-Control: no-store:
 *
 *   {"status":"ok","redis":[{"addr":"127.0.0.1:6379","ok":true,
 *    "ms":0.213}]}
 *   {"status":"unavailable","redis":[{"addr":"127.0.0.1:6379",
 *    "ok":false,"ms":1000.4,"error":"no answer within ..."}]}
 *
 * "Every Redis it serves": every store of the configuration (each
 * distinct scim_redis or scim_redis_sentinel of any location), and of
 * each the server, the current Sentinel primary (with "sentinel": the
 * master name), or every primary of a cluster's slot map.  A PING on
 * the worker's own connections (the store's probe, asynchronous), each
 * bounded by its scim_redis_connect_timeout.  No token: protect the
 * location with allow/deny.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#define NGX_HTTP_SCIM_MONITOR_PRIVATE  1

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_monitor.h"


static void ngx_http_scim_health_done(ngx_scim_store_probe_t *probe);
static void ngx_http_scim_health_cleanup(void *data);
static ngx_int_t ngx_http_scim_health_answer(ngx_http_request_t *r,
    ngx_scim_store_probe_t *probe);


ngx_int_t
ngx_http_scim_health_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_cleanup_t         *cln;
    ngx_scim_store_probe_t     *probe;
    ngx_http_scim_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_scim_monitor_refuse(r);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    if (smcf == NULL || smcf->servers.nelts == 0) {
        /* no Redis to reach */
        return ngx_http_scim_health_answer(r, NULL);
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    probe = ngx_scim_store_probe(smcf->servers.elts, smcf->servers.nelts,
                                 r->pool, r->connection->log,
                                 ngx_http_scim_health_done, r);
    if (probe == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the answer is sent within the bound, even by an exiting worker */
    probe->event.cancelable = 0;

    cln->handler = ngx_http_scim_health_cleanup;
    cln->data = probe;

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_scim_health_done(ngx_scim_store_probe_t *probe)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = probe->data;
    c = r->connection;

    ngx_http_finalize_request(r, ngx_http_scim_health_answer(r, probe));
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_scim_health_cleanup(void *data)
{
    ngx_scim_store_probe_t *probe = data;

    ngx_scim_store_probe_cancel(probe);
}


static ngx_int_t
ngx_http_scim_health_answer(ngx_http_request_t *r,
    ngx_scim_store_probe_t *probe)
{
    size_t                  size;
    u_char                 *p, *last;
    ngx_buf_t              *b;
    ngx_uint_t              i, ok;
    ngx_scim_store_ping_t  *ping;

    ok = 1;
    size = sizeof("{\"status\":\"unavailable\",\"redis\":[]}\n");

    for (i = 0; probe && i < probe->npings; i++) {
        ping = &probe->pings[i];
        ok &= ping->ok;

        size += sizeof("{\"addr\":\"\",\"sentinel\":\"\",\"ok\":false,"
                       "\"ms\":.000,\"error\":\"\"},")
                + NGX_INT64_LEN
                + 6 * (ping->addr.len + ping->sentinel.len
                       + ping->error.len);
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    last = b->end;

    p = ngx_sprintf(p, "{\"status\":\"%s\",\"redis\":[",
                    ok ? "ok" : "unavailable");

    for (i = 0; probe && i < probe->npings; i++) {
        ping = &probe->pings[i];

        p = ngx_cpymem(p, "{\"addr\":\"", sizeof("{\"addr\":\"") - 1);
        p = ngx_http_scim_monitor_escape(p, last, ping->addr.data,
                                         ping->addr.len, 0);

        if (ping->sentinel.len) {
            p = ngx_cpymem(p, "\",\"sentinel\":\"",
                           sizeof("\",\"sentinel\":\"") - 1);
            p = ngx_http_scim_monitor_escape(p, last, ping->sentinel.data,
                                             ping->sentinel.len, 0);
        }

        p = ngx_sprintf(p, "\",\"ok\":%s,\"ms\":%uL.%03uL",
                        ping->ok ? "true" : "false",
                        ping->usec / 1000, ping->usec % 1000);

        if (!ping->ok) {
            p = ngx_cpymem(p, ",\"error\":\"", sizeof(",\"error\":\"") - 1);
            p = ngx_http_scim_monitor_escape(p, last, ping->error.data,
                                             ping->error.len, 0);
            *p++ = '"';
        }

        *p++ = '}';

        if (i + 1 < probe->npings) {
            *p++ = ',';
        }
    }

    p = ngx_cpymem(p, "]}\n", 3);
    b->last = p;

    if (!ok) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim health: %*s", (size_t) (p - b->pos - 1), b->pos);
    }

    return ngx_http_scim_monitor_send(r, ok ? NGX_HTTP_OK
                                            : NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "application/json", b);
}
