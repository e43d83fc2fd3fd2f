
/*
 * ngx_http_scim_module: the failures of a Redis server, in error.log.
 *
 * Per worker and server: a failure is logged when it starts and when its
 * cause changes (at most NGX_SCIM_REDIS_CHANGES lines a period), then a
 * summary every NGX_SCIM_REDIS_SUMMARY ms while it lasts; the recovery
 * is logged once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"


#define NGX_SCIM_REDIS_SUMMARY       60000
#define NGX_SCIM_REDIS_CHANGES       4       /* cause changes logged in a
                                                summary period */


void
ngx_scim_redis_report(ngx_scim_redis_server_t *s, u_char *why, size_t len)
{
    size_t  n;

    len = ngx_min(len, sizeof(s->reason));

    if (!s->failing) {
        s->failing = 1;
        s->failures = 1;
        s->logged = 1;
        s->failing_start = ngx_current_msec;
        s->reported = ngx_current_msec;

        n = ngx_min(ngx_cached_err_log_time.len, sizeof(s->since) - 1);
        ngx_memcpy(s->since, ngx_cached_err_log_time.data, n);
        s->since[n] = '\0';

        ngx_memcpy(s->reason, why, len);
        s->reason_len = len;

        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "scim redis %V: %*s (retrying; while this lasts, "
                      "a summary every %M s)",
                      &s->addr, len, why,
                      (ngx_msec_t) (NGX_SCIM_REDIS_SUMMARY / 1000));
        return;
    }

    s->failures++;

    if (len != s->reason_len || ngx_memcmp(why, s->reason, len) != 0) {
        ngx_memcpy(s->reason, why, len);
        s->reason_len = len;

        /* a new cause is a change worth a line, within reason */

        if (s->logged < NGX_SCIM_REDIS_CHANGES) {
            s->logged++;
            ngx_log_error(NGX_LOG_ERR, s->log, 0, "scim redis %V: %*s",
                          &s->addr, len, why);
            return;
        }
    }

    if (ngx_current_msec - s->reported >= NGX_SCIM_REDIS_SUMMARY) {
        s->reported = ngx_current_msec;
        s->logged = 0;

        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "scim redis %V: still failing: %ui failures since %s, "
                      "the last: %*s",
                      &s->addr, s->failures, s->since,
                      s->reason_len, s->reason);
    }
}


void
ngx_scim_redis_report_ready(ngx_scim_redis_server_t *s)
{
    s->unavailable = 0;

    if (!s->failing) {
        return;
    }

    s->failing = 0;

    ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                  "scim redis %V: connected again, %M ms after the first "
                  "failure (%ui failures)",
                  &s->addr, (ngx_msec_t) (ngx_current_msec - s->failing_start),
                  s->failures);
}
