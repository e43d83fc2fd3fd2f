
/*
 * ngx_http_scim_module: health and metrics, the module (see
 * ngx_http_scim_monitor.h): its directives, the shared zone of
 * counters, the counting of every request of a scim location or token
 * endpoint in the log phase (a few atomic increments, no lock, no
 * allocation), and each worker's slot of connection states, written
 * every second by the worker itself.
 *
 * The zone: "scim_status_zone name [size]" at http level, or one made
 * automatically (named "scim_status") as soon as a location has
 * scim_status.  Without either nothing is counted.  A reload with the
 * same zone name and size keeps the counters (nginx hands the new
 * cycle the same shared memory).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#define NGX_HTTP_SCIM_MONITOR_PRIVATE  1

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_monitor.h"


#define NGX_HTTP_SCIM_TENANTS_DEFAULT  1000
#define NGX_HTTP_SCIM_TENANTS_LIMIT    10000
#define NGX_HTTP_SCIM_SLOT_PERIOD      1000    /* ms */


static void *ngx_http_scim_monitor_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_scim_monitor_init_main_conf(ngx_conf_t *cf,
    void *conf);
static void *ngx_http_scim_monitor_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_scim_monitor_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_scim_monitor_postconf(ngx_conf_t *cf);
static ngx_int_t ngx_http_scim_monitor_init_process(ngx_cycle_t *cycle);
static void ngx_http_scim_monitor_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_scim_health(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_status_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_status_tenants(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static size_t ngx_http_scim_stats_size(ngx_uint_t tenants_max);
static ngx_int_t ngx_http_scim_stats_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_scim_monitor_log(ngx_http_request_t *r);
static ngx_uint_t ngx_http_scim_op(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf);
static void ngx_http_scim_count_tenant(ngx_http_scim_stats_t *st,
    ngx_str_t *tenant, ngx_uint_t cls);
static void ngx_http_scim_slot_handler(ngx_event_t *ev);


static ngx_http_scim_stats_t  *ngx_http_scim_stats_shm;
static ngx_flag_t              ngx_http_scim_stats_tenants;
static ngx_event_t             ngx_http_scim_slot_event;


/* ngx_http_scim_op_text[] (the $scim_op values), then two of our own */
const char  *ngx_http_scim_op_names[NGX_HTTP_SCIM_OP_N] = {
    "create", "read", "list", "replace", "patch", "delete", "search",
    "bulk", "discovery", "token", "other"
};

/* the upper bounds of the latency buckets, tenths of a ms; then +Inf */
const ngx_uint_t  ngx_http_scim_buckets[NGX_HTTP_SCIM_BUCKETS_N - 1] = {
    10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000
};

const char  *ngx_http_scim_auth_names[NGX_HTTP_SCIM_AUTH_N] = {
    "no_token", "unknown_token", "other_tenant", "invalid_access_token",
    "invalid_client"
};


static ngx_command_t  ngx_http_scim_monitor_commands[] = {

    { ngx_string("scim_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_scim_health,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_scim_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_status_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_scim_status_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_status_tenants"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_scim_status_tenants,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_scim_monitor_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_scim_monitor_postconf,        /* postconfiguration */

    ngx_http_scim_monitor_create_main_conf, /* create main configuration */
    ngx_http_scim_monitor_init_main_conf,  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_scim_monitor_create_loc_conf, /* create location configuration */
    ngx_http_scim_monitor_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_scim_monitor_module = {
    NGX_MODULE_V1,
    &ngx_http_scim_monitor_module_ctx,     /* module context */
    ngx_http_scim_monitor_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_scim_monitor_init_process,    /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_scim_monitor_exit_process,    /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_scim_monitor_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_scim_monitor_main_conf_t  *mmcf;

    mmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_scim_monitor_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    mmcf->zone_size = NGX_CONF_UNSET;
    mmcf->tenants = NGX_CONF_UNSET;
    mmcf->tenants_max = NGX_CONF_UNSET_UINT;

    return mmcf;
}


static char *
ngx_http_scim_monitor_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_scim_monitor_main_conf_t *mmcf = conf;

    size_t  need;

    ngx_conf_init_value(mmcf->tenants, 0);
    ngx_conf_init_uint_value(mmcf->tenants_max,
                             NGX_HTTP_SCIM_TENANTS_DEFAULT);

    if (mmcf->zone_name.len == 0 && !mmcf->status_used) {
        return NGX_CONF_OK;
    }

    if (mmcf->zone_name.len == 0) {
        ngx_str_set(&mmcf->zone_name, "scim_status");
    }

    need = ngx_http_scim_stats_size(mmcf->tenants ? mmcf->tenants_max : 0);

    if (mmcf->zone_size == NGX_CONF_UNSET) {
        mmcf->zone_size = ngx_align(need + 8 * ngx_pagesize, ngx_pagesize);

    } else if ((size_t) mmcf->zone_size < need + 8 * ngx_pagesize) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"scim_status_zone\" \"%V\" is too small: it needs "
                      "at least %uzk%s", &mmcf->zone_name,
                      (need + 8 * ngx_pagesize + 1023) / 1024,
                      mmcf->tenants ? " with scim_status_tenants" : "");
        return NGX_CONF_ERROR;
    }

    mmcf->zone = ngx_shared_memory_add(cf, &mmcf->zone_name,
                                       mmcf->zone_size,
                                       &ngx_http_scim_monitor_module);
    if (mmcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (mmcf->zone->data) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "duplicate zone \"%V\"", &mmcf->zone_name);
        return NGX_CONF_ERROR;
    }

    mmcf->zone->init = ngx_http_scim_stats_init_zone;
    mmcf->zone->data = mmcf;

    return NGX_CONF_OK;
}


static void *
ngx_http_scim_monitor_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_scim_monitor_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_scim_monitor_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->health = NGX_CONF_UNSET;
    conf->status = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_scim_monitor_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_scim_monitor_loc_conf_t *conf = child;

    ngx_http_scim_loc_conf_t  *slcf;

    ngx_conf_init_value(conf->health, 0);
    ngx_conf_init_value(conf->status, 0);

    if (!conf->health && !conf->status) {
        return NGX_CONF_OK;
    }

    slcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_scim_module);

    if (slcf->enable == 1 || slcf->oauth_endpoint) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"%s\" cannot be in a location with \"scim\" or "
                      "\"scim_oauth_token\"",
                      conf->health ? "scim_health" : "scim_status");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_scim_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_monitor_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->health != NGX_CONF_UNSET || mlcf->status != NGX_CONF_UNSET) {
        return "is duplicate, or in a location with \"scim_status\"";
    }

    mlcf->health = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_scim_health_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_scim_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_monitor_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_scim_monitor_main_conf_t  *mmcf;

    if (mlcf->health != NGX_CONF_UNSET || mlcf->status != NGX_CONF_UNSET) {
        return "is duplicate, or in a location with \"scim_health\"";
    }

    mlcf->status = 1;

    mmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_scim_monitor_module);
    mmcf->status_used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_scim_status_handler;

    return NGX_CONF_OK;
}


/* scim_status_zone <name> [size] */

static char *
ngx_http_scim_status_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_monitor_main_conf_t *mmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (mmcf->zone_name.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a zone name";
    }

    mmcf->zone_name = value[1];

    if (cf->args->nelts == 3) {
        size = ngx_parse_size(&value[2]);

        if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid zone size \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        mmcf->zone_size = size;
    }

    return NGX_CONF_OK;
}


/* scim_status_tenants on [max] | off */

static char *
ngx_http_scim_status_tenants(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_monitor_main_conf_t *mmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (mmcf->tenants != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "on") == 0) {
        mmcf->tenants = 1;

    } else if (ngx_strcmp(value[1].data, "off") == 0 && cf->args->nelts == 2)
    {
        mmcf->tenants = 0;
        return NGX_CONF_OK;

    } else {
        return "takes \"on [max]\" or \"off\"";
    }

    if (cf->args->nelts == 3) {
        n = ngx_atoi(value[2].data, value[2].len);

        if (n == NGX_ERROR || n < 1 || n > NGX_HTTP_SCIM_TENANTS_LIMIT) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of tenants \"%V\" "
                               "(1..%d)", &value[2],
                               NGX_HTTP_SCIM_TENANTS_LIMIT);
            return NGX_CONF_ERROR;
        }

        mmcf->tenants_max = (ngx_uint_t) n;
    }

    return NGX_CONF_OK;
}


/* the hash table of tenants has twice the slots, a power of two */

static ngx_uint_t
ngx_http_scim_tenant_slots(ngx_uint_t tenants_max)
{
    ngx_uint_t  n;

    if (tenants_max == 0) {
        return 0;
    }

    for (n = 1; n < 2 * tenants_max; n <<= 1) { /* void */ }

    return n;
}


static size_t
ngx_http_scim_stats_size(ngx_uint_t tenants_max)
{
    ngx_uint_t  n;

    n = ngx_http_scim_tenant_slots(tenants_max);

    return sizeof(ngx_http_scim_stats_t)
           + n * sizeof(ngx_http_scim_tenant_stat_t);
}


static ngx_int_t
ngx_http_scim_stats_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_scim_monitor_main_conf_t *mmcf = shm_zone->data;

    size_t                  size;
    ngx_uint_t              max;
    ngx_slab_pool_t        *shpool;
    ngx_http_scim_stats_t  *st;

    max = mmcf->tenants ? mmcf->tenants_max : 0;

    if (data) {
        /* a reload, same name and size: the same counters */

        shm_zone->data = data;
        st = ((ngx_slab_pool_t *) shm_zone->shm.addr)->data;
        st->reloads++;

        if (st->tenants_limit != max) {
            ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                          "scim_status_tenants: the zone \"%V\" keeps "
                          "counting %ui tenants by name until it is made "
                          "again (another size, or a restart)",
                          &shm_zone->shm.name, st->tenants_limit);
        }

        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    size = ngx_http_scim_stats_size(max);

    st = ngx_slab_calloc(shpool, size);
    if (st == NULL) {
        return NGX_ERROR;
    }

    st->start = ngx_time();
    st->tenants_max = ngx_http_scim_tenant_slots(max);
    st->tenants_limit = max;

    shpool->data = st;
    shm_zone->data = shpool;

    return NGX_OK;
}


ngx_http_scim_stats_t *
ngx_http_scim_stats(void)
{
    return ngx_http_scim_stats_shm;
}


static ngx_int_t
ngx_http_scim_monitor_postconf(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_scim_monitor_log;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_monitor_init_process(ngx_cycle_t *cycle)
{
    ngx_slab_pool_t                    *shpool;
    ngx_http_scim_stats_t              *st;
    ngx_http_scim_worker_stat_t        *w;
    ngx_http_scim_monitor_main_conf_t  *mmcf;

    ngx_http_scim_stats_shm = NULL;
    ngx_scim_store_stats = NULL;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_scim_monitor_module);
    if (mmcf == NULL || mmcf->zone == NULL) {
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) mmcf->zone->shm.addr;
    st = shpool->data;

    ngx_http_scim_stats_shm = st;
    ngx_http_scim_stats_tenants = mmcf->tenants && st->tenants_max;
    ngx_scim_store_stats = st->store;

    if (ngx_worker < NGX_HTTP_SCIM_WORKERS_MAX) {
        w = &st->workers[ngx_worker];
        ngx_memzero(w, sizeof(ngx_http_scim_worker_stat_t));
        w->pid = ngx_pid;

        ngx_http_scim_slot_event.handler = ngx_http_scim_slot_handler;
        ngx_http_scim_slot_event.log = cycle->log;
        ngx_http_scim_slot_event.data = w;
        ngx_http_scim_slot_event.cancelable = 1;

        ngx_add_timer(&ngx_http_scim_slot_event, 1);
    }

    return NGX_OK;
}


static void
ngx_http_scim_monitor_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_scim_worker_stat_t  *w;

    if (ngx_http_scim_stats_shm == NULL
        || ngx_worker >= NGX_HTTP_SCIM_WORKERS_MAX)
    {
        return;
    }

    w = &ngx_http_scim_stats_shm->workers[ngx_worker];

    if (ngx_http_scim_slot_event.timer_set) {
        ngx_del_timer(&ngx_http_scim_slot_event);
    }

    /* a new worker of the same index may have taken the slot */

    (void) ngx_atomic_cmp_set(&w->pid, (ngx_atomic_uint_t) ngx_pid, 0);
}


/* this worker's connections, every store's, in its slot: every second */

static void
ngx_http_scim_slot_handler(ngx_event_t *ev)
{
    if (ngx_exiting) {
        return;
    }

    ngx_http_scim_monitor_slot_update();

    ngx_add_timer(ev, NGX_HTTP_SCIM_SLOT_PERIOD);
}


/* and when this worker answers scim_status */

void
ngx_http_scim_monitor_slot_update(void)
{
    ngx_uint_t                    i, n;
    ngx_scim_store_t            **s;
    ngx_scim_store_conns_t        conns;
    ngx_http_scim_main_conf_t    *smcf;
    ngx_http_scim_worker_stat_t  *w;

    w = ngx_http_scim_slot_event.data;

    if (w == NULL || w->pid != (ngx_atomic_uint_t) ngx_pid) {
        return;
    }

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_scim_module);
    n = 0;

    if (smcf) {
        s = smcf->servers.elts;
        n = ngx_min(smcf->servers.nelts, NGX_HTTP_SCIM_STORES_MAX);

        for (i = 0; i < n; i++) {
            ngx_memzero(&conns, sizeof(ngx_scim_store_conns_t));
            ngx_scim_store_conns(s[i], &conns);

            w->ready[i] = conns.ready;
            w->connecting[i] = conns.connecting;
            w->down[i] = conns.down;
        }
    }

    w->nstores = n;
}


/* the log phase: every request of a scim location or a token endpoint */

static ngx_int_t
ngx_http_scim_monitor_log(ngx_http_request_t *r)
{
    ngx_int_t                  ms;
    ngx_uint_t                 status, cls, op, b;
    ngx_time_t                *tp;
    ngx_http_scim_ctx_t       *ctx;
    ngx_http_scim_stats_t     *st;
    ngx_http_scim_loc_conf_t  *slcf;

    st = ngx_http_scim_stats_shm;

    if (st == NULL || r != r->main) {
        return NGX_OK;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    if (slcf == NULL || (slcf->enable != 1 && !slcf->oauth_endpoint)) {
        return NGX_OK;
    }

    status = r->err_status ? r->err_status : r->headers_out.status;

    if (status == 0) {
        /* no answer: the client went away first */
        status = NGX_HTTP_CLIENT_CLOSED_REQUEST;
    }

    cls = (status >= 100 && status < 600) ? status / 100 - 1 : 4;
    op = ngx_http_scim_op(r, slcf);

    tp = ngx_timeofday();
    ms = (ngx_int_t) ((tp->sec - r->start_sec) * 1000
                      + (tp->msec - r->start_msec));
    ms = ngx_max(ms, 0);

    for (b = 0; b < NGX_HTTP_SCIM_BUCKETS_N - 1; b++) {
        if ((ngx_uint_t) ms * 10 <= ngx_http_scim_buckets[b]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&st->requests[op][cls], 1);
    (void) ngx_atomic_fetch_add(&st->latency[b], 1);
    (void) ngx_atomic_fetch_add(&st->latency_sum, (ngx_atomic_int_t) ms);

    if (ngx_http_scim_stats_tenants) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

        if (ctx && ctx->tenant.len) {
            ngx_http_scim_count_tenant(st, &ctx->tenant, cls);
        }
    }

    return NGX_OK;
}


/* as $scim_op, with "token" and "other" (refused before routing) */

/* the operation: $scim_op's, then "token" and "other" */

static ngx_uint_t
ngx_http_scim_op(ngx_http_request_t *r, ngx_http_scim_loc_conf_t *slcf)
{
    ngx_uint_t  op;

    if (slcf->oauth_endpoint) {
        return NGX_HTTP_SCIM_OP_NONE;                   /* "token" */
    }

    op = ngx_http_scim_op_of(r, ngx_http_get_module_ctx(r,
                                                        ngx_http_scim_module));

    return op == NGX_HTTP_SCIM_OP_NONE ? NGX_HTTP_SCIM_OP_NONE + 1 : op;
}


/*
 * A tenant's counters: open addressing in the zone, without a lock.  A
 * slot is claimed with compare-and-set (len: 0 free, 1 being written,
 * 2 + the name's length when written), the name written, then len set.
 * Two workers that meet the same new tenant at once may give it two
 * slots: the output adds them up.  Once tenants_limit names are taken
 * (or a name is longer than NGX_HTTP_SCIM_TENANT_LEN), the rest count as
 * "other".
 */

static void
ngx_http_scim_count_tenant(ngx_http_scim_stats_t *st, ngx_str_t *tenant,
    ngx_uint_t cls)
{
    ngx_uint_t                    i, k, mask, want;
    ngx_http_scim_tenant_stat_t  *t;

    mask = st->tenants_max - 1;
    want = tenant->len + 2;

    if (tenant->len > NGX_HTTP_SCIM_TENANT_LEN) {
        goto other;
    }

    k = ngx_hash_key(tenant->data, tenant->len) & mask;

    for (i = 0; i <= mask; i++, k = (k + 1) & mask) {
        t = &st->tenants[k];

        if (t->len == want
            && ngx_memcmp(t->name, tenant->data, tenant->len) == 0)
        {
            (void) ngx_atomic_fetch_add(&t->requests[cls], 1);
            return;
        }

        if (t->len != 0) {
            continue;
        }

        /* a free slot: the name is new */

        if (st->ntenants >= st->tenants_limit) {
            break;
        }

        if (!ngx_atomic_cmp_set(&t->len, 0, 1)) {
            i--;
            k = (k - 1) & mask;     /* taken meanwhile: look again */
            continue;
        }

        (void) ngx_atomic_fetch_add(&st->ntenants, 1);

        ngx_memcpy(t->name, tenant->data, tenant->len);
        (void) ngx_atomic_fetch_add(&t->requests[cls], 1);

        ngx_memory_barrier();
        t->len = want;

        return;
    }

other:

    (void) ngx_atomic_fetch_add(&st->tenants_other[cls], 1);
}


void
ngx_http_scim_stat_auth_fail(ngx_http_scim_auth_fail_e reason)
{
    if (ngx_http_scim_stats_shm && reason < NGX_HTTP_SCIM_AUTH_N) {
        (void) ngx_atomic_fetch_add(&ngx_http_scim_stats_shm->auth[reason],
                                    1);
    }
}


/*
 * An answer of the monitor's own: status, Content-Type, the body (b may
 * be NULL: none), Cache-Control: no-store.
 */

ngx_int_t
ngx_http_scim_monitor_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *ctype, ngx_buf_t *b)
{
    ngx_int_t         rc;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    r->headers_out.status = status;
    r->headers_out.content_type.data = (u_char *) ctype;
    r->headers_out.content_type.len = ngx_strlen(ctype);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b ? b->last - b->pos : 0;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    if (b == NULL || b->last == b->pos) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* a method other than GET and HEAD: 405, JSON */

ngx_int_t
ngx_http_scim_monitor_refuse(ngx_http_request_t *r)
{
    ngx_buf_t        *b;
    ngx_table_elt_t  *h;

    static u_char  body[] = "{\"status\":\"error\",\"error\":"
                            "\"only GET and HEAD are allowed here\"}\n";

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    h = ngx_list_push(&r->headers_out.headers);

    if (b == NULL || h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = body + sizeof(body) - 1;
    b->memory = 1;

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Allow");
    ngx_str_set(&h->value, "GET, HEAD");

    return ngx_http_scim_monitor_send(r, NGX_HTTP_NOT_ALLOWED,
                                      "application/json", b);
}


/*
 * s as the inside of a JSON string, or of a Prometheus label value
 * (prometheus: only \\, \" and \n escaped); bytes outside printable
 * ASCII as \u00XX in JSON, as '?' in a label.  Stops at last.
 */

u_char *
ngx_http_scim_monitor_escape(u_char *p, u_char *last, u_char *s, size_t len,
    ngx_uint_t prometheus)
{
    u_char      c;
    ngx_uint_t  i;

    static u_char  hex[] = "0123456789abcdef";

    for (i = 0; i < len && last - p >= 6; i++) {
        c = s[i];

        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = c;

        } else if (c >= 0x20 && c < 0x7f) {
            *p++ = c;

        } else if (prometheus) {
            if (c == '\n') {
                *p++ = '\\';
                *p++ = 'n';

            } else {
                *p++ = '?';
            }

        } else {
            p = ngx_cpymem(p, "\\u00", 4);
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
        }
    }

    return p;
}
