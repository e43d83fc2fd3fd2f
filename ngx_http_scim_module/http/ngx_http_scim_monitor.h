
/*
 * ngx_http_scim_module: health and metrics (issue 12), a module of its
 * own in the same .so (ngx_http_scim_monitor_module): scim_health,
 * scim_status, scim_status_zone, scim_status_tenants.
 *
 *   ngx_http_scim_monitor.c   the module: directives, the shared zone,
 *                             counting in the log phase, worker slots
 *   ngx_http_scim_health.c    scim_health: a PING to every Redis
 *   ngx_http_scim_status.c    scim_status: JSON and Prometheus text
 */

#ifndef _NGX_HTTP_SCIM_MONITOR_H_INCLUDED_
#define _NGX_HTTP_SCIM_MONITOR_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* why a request was refused 401 (auth.c, oauth.c) */
typedef enum {
    NGX_HTTP_SCIM_AUTH_NO_TOKEN = 0,   /* no Authorization: Bearer */
    NGX_HTTP_SCIM_AUTH_UNKNOWN_TOKEN,  /* in no token file */
    NGX_HTTP_SCIM_AUTH_OTHER_TENANT,   /* a token bound to another tenant */
    NGX_HTTP_SCIM_AUTH_INVALID_ACCESS, /* an access token: expired, not
                                          ours, of another tenant */
    NGX_HTTP_SCIM_AUTH_INVALID_CLIENT, /* the token endpoint: OAuth
                                          invalid_client */
    NGX_HTTP_SCIM_AUTH_N
} ngx_http_scim_auth_fail_e;


/* one counter call at each refusal point; nothing if no zone */
void ngx_http_scim_stat_auth_fail(ngx_http_scim_auth_fail_e reason);

extern ngx_module_t  ngx_http_scim_monitor_module;


#ifdef NGX_HTTP_SCIM_MONITOR_PRIVATE

/* between the monitor's own files only */

#define NGX_HTTP_SCIM_OP_N        11   /* create .. token, other */
#define NGX_HTTP_SCIM_CLASS_N     5    /* 1xx..5xx */
#define NGX_HTTP_SCIM_BUCKETS_N   12   /* the last: +Inf */
#define NGX_HTTP_SCIM_STORES_MAX  16   /* stores with a connection row */
#define NGX_HTTP_SCIM_WORKERS_MAX 128  /* worker slots */
#define NGX_HTTP_SCIM_TENANT_LEN  64   /* longer names: cut */


typedef struct {
    ngx_atomic_t                requests[NGX_HTTP_SCIM_CLASS_N];
    u_char                      name[NGX_HTTP_SCIM_TENANT_LEN];
    ngx_atomic_t                len;           /* 0: free; set last */
} ngx_http_scim_tenant_stat_t;


typedef struct {
    ngx_atomic_t                pid;           /* 0: never used */
    ngx_atomic_t                generation;    /* of the cycle */
    ngx_atomic_t                ready[NGX_HTTP_SCIM_STORES_MAX];
    ngx_atomic_t                connecting[NGX_HTTP_SCIM_STORES_MAX];
    ngx_atomic_t                down[NGX_HTTP_SCIM_STORES_MAX];
    ngx_atomic_t                nstores;
} ngx_http_scim_worker_stat_t;


/* the shared zone: every counter is an ngx_atomic_t */
typedef struct {
    ngx_atomic_t                start;         /* when the zone was made */
    ngx_atomic_t                requests[NGX_HTTP_SCIM_OP_N]
                                        [NGX_HTTP_SCIM_CLASS_N];
    ngx_atomic_t                latency[NGX_HTTP_SCIM_BUCKETS_N];
                                               /* not cumulative */
    ngx_atomic_t                latency_sum;   /* ms */
    ngx_atomic_t                auth[NGX_HTTP_SCIM_AUTH_N];
    ngx_atomic_t                store[16];     /* ngx_scim_store_stat_e */
    ngx_atomic_t                reloads;
    ngx_http_scim_worker_stat_t workers[NGX_HTTP_SCIM_WORKERS_MAX];
    ngx_atomic_t                ntenants;      /* slots taken */
    ngx_atomic_t                tenants_other[NGX_HTTP_SCIM_CLASS_N];
    ngx_uint_t                  tenants_max;   /* slots in tenants[] */
    ngx_uint_t                  tenants_limit; /* names at most */
    ngx_http_scim_tenant_stat_t tenants[1];
} ngx_http_scim_stats_t;


typedef struct {
    ngx_shm_zone_t             *zone;
    ngx_str_t                   zone_name;
    ssize_t                     zone_size;
    ngx_flag_t                  tenants;       /* scim_status_tenants */
    ngx_uint_t                  tenants_max;
    ngx_flag_t                  status_used;   /* a scim_status location */
} ngx_http_scim_monitor_main_conf_t;


typedef struct {
    ngx_flag_t                  health;
    ngx_flag_t                  status;
} ngx_http_scim_monitor_loc_conf_t;


extern const char *ngx_http_scim_op_names[NGX_HTTP_SCIM_OP_N];
extern const ngx_uint_t ngx_http_scim_buckets[NGX_HTTP_SCIM_BUCKETS_N - 1];
extern const char *ngx_http_scim_auth_names[NGX_HTTP_SCIM_AUTH_N];

/* ngx_http_scim_monitor.c */
ngx_http_scim_stats_t *ngx_http_scim_stats(void);
void ngx_http_scim_monitor_slot_update(void);
ngx_int_t ngx_http_scim_monitor_send(ngx_http_request_t *r,
    ngx_uint_t status, const char *ctype, ngx_buf_t *b);
ngx_int_t ngx_http_scim_monitor_refuse(ngx_http_request_t *r);
u_char *ngx_http_scim_monitor_escape(u_char *p, u_char *last, u_char *s,
    size_t len, ngx_uint_t prometheus);

/* ngx_http_scim_health.c, ngx_http_scim_status.c */
ngx_int_t ngx_http_scim_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_scim_status_handler(ngx_http_request_t *r);

#endif


#endif /* _NGX_HTTP_SCIM_MONITOR_H_INCLUDED_ */
