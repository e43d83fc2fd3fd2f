
/*
 * ngx_http_scim_module: a SCIM 2.0 service provider (RFC 7643, RFC 7644)
 * inside nginx, storing users, groups and memberships in Redis.
 *
 * This file: directives, configuration, worker start and exit.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


static void *ngx_http_scim_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_scim_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_scim_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_scim_init_process(ngx_cycle_t *cycle);
static void ngx_http_scim_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_scim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_scim_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_redis_sentinel(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_tenant(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_base_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_token_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_schema_extension(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_scim_build_registry(ngx_conf_t *cf,
    ngx_http_scim_loc_conf_t *slcf);
static void ngx_http_scim_registry_cleanup(void *data);


static ngx_command_t  ngx_http_scim_commands[] = {

    { ngx_string("scim"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_scim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_redis"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_scim_redis,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, redis_addr),
      NULL },

    { ngx_string("scim_doc_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_doc_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_redis_sentinel"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_scim_redis_sentinel,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_redis_sentinel_password"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, redis_sentinel_password),
      NULL },

    { ngx_string("scim_redis_password"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, redis_password),
      NULL },

    { ngx_string("scim_redis_db"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, redis_db),
      NULL },

    { ngx_string("scim_redis_connections"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, redis_conns),
      NULL },

    { ngx_string("scim_redis_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, redis_connect_timeout),
      NULL },

    { ngx_string("scim_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, redis_timeout),
      NULL },

    { ngx_string("scim_redis_wait"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_scim_redis_wait,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_tenant"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_tenant,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, tenant),
      NULL },

    { ngx_string("scim_base_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_base_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, base_url),
      NULL },

    { ngx_string("scim_bearer_token_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_token_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_oauth_token"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_scim_oauth_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_oauth_clients"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_oauth_clients,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_oauth_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_oauth_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_oauth_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_oauth_ttl,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_oauth_token_uri"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, oauth_token_uri),
      NULL },

    { ngx_string("scim_oauth_jwks"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_jwks,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_oauth_jwks_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, oauth_jwks_refresh),
      NULL },

    { ngx_string("scim_oauth_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, oauth_jwt_leeway),
      NULL },

    { ngx_string("scim_redis_credentials"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, rcred),
      NULL },

    { ngx_string("scim_redis_credentials_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, rcred_cache),
      NULL },

    { ngx_string("scim_schema_extension"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_schema_extension,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_max_results"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, max_results),
      NULL },

    { ngx_string("scim_members_slice"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, members_slice),
      NULL },

    { ngx_string("scim_bulk_max_operations"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, bulk_max_ops),
      NULL },

    { ngx_string("scim_password_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_password_pool,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_filter_max_scan"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, max_scan),
      NULL },

    { ngx_string("scim_cursor_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_cursor_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_cursor_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, cursor_ttl),
      NULL },

    { ngx_string("scim_unique_external_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, unique_external_id),
      NULL },

    { ngx_string("scim_events"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_scim_events_feed,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_events_maxlen"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_events_maxlen,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_scim_module_ctx = {
    ngx_http_scim_add_variables,           /* preconfiguration */
    ngx_http_scim_filter_init,             /* postconfiguration */

    ngx_http_scim_create_main_conf,        /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_scim_create_loc_conf,         /* create location configuration */
    ngx_http_scim_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_scim_module = {
    NGX_MODULE_V1,
    &ngx_http_scim_module_ctx,             /* module context */
    ngx_http_scim_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_scim_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_scim_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_scim_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_scim_main_conf_t  *smcf;

    /* the module's first hook: before its first json_t */
    ngx_http_scim_json_alloc_init();

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_scim_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&smcf->servers, cf->pool, 4,
                       sizeof(ngx_scim_store_t *))
        != NGX_OK)
    {
        return NULL;
    }

    smcf->doc_cache = NGX_CONF_UNSET_UINT;

    return smcf;
}


static void *
ngx_http_scim_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_scim_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_scim_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->redis_addr = { 0, NULL };
     *     conf->redis_seeds = NULL;
     *     conf->redis_password = { 0, NULL };
     *     conf->redis_sentinel = NULL;
     *     conf->redis_sentinel_password = { 0, NULL };
     *     conf->registry = NULL;
     *     conf->redis = NULL;
     *     conf->oauth_token_uri = { 0, NULL };
     *     conf->oauth_endpoint = 0;
     */

    conf->enable = NGX_CONF_UNSET;
    conf->redis_db = NGX_CONF_UNSET;
    conf->redis_conns = NGX_CONF_UNSET_UINT;
    conf->redis_connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->redis_timeout = NGX_CONF_UNSET_MSEC;
    conf->redis_wait = NGX_CONF_UNSET_UINT;
    conf->redis_wait_timeout = NGX_CONF_UNSET_MSEC;
    conf->tenant = NGX_CONF_UNSET_PTR;
    conf->base_url = NGX_CONF_UNSET_PTR;
    conf->tokens = NGX_CONF_UNSET_PTR;
    conf->auth_off = NGX_CONF_UNSET;
    conf->oauth_clients = NGX_CONF_UNSET_PTR;
    conf->oauth_keys = NGX_CONF_UNSET_PTR;
    conf->oauth_ttl = NGX_CONF_UNSET;
    conf->oauth_jwt_clients = NGX_CONF_UNSET_PTR;
    conf->oauth_jwks = NGX_CONF_UNSET_PTR;
    conf->oauth_jwks_refresh = NGX_CONF_UNSET;
    conf->oauth_jwt_leeway = NGX_CONF_UNSET;
    conf->rcred = NGX_CONF_UNSET;
    conf->rcred_cache = NGX_CONF_UNSET_MSEC;
    conf->extensions = NGX_CONF_UNSET_PTR;
    conf->max_results = NGX_CONF_UNSET_UINT;
    conf->max_scan = NGX_CONF_UNSET_UINT;
    conf->members_slice = NGX_CONF_UNSET_UINT;
    conf->unique_external_id = NGX_CONF_UNSET;
    conf->events_maxlen = NGX_CONF_UNSET_UINT;
    conf->cursor_key = NGX_CONF_UNSET_PTR;
    conf->cursor_ttl = NGX_CONF_UNSET;
    conf->bulk_max_ops = NGX_CONF_UNSET_UINT;
    conf->pw_pool = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_scim_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_scim_loc_conf_t *prev = parent;
    ngx_http_scim_loc_conf_t *conf = child;

    ngx_str_t                  *seed;
    ngx_uint_t                  i;
    ngx_scim_store_conf_t       sconf, *seeds;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_scim_main_conf_t  *smcf;

    if (conf->enable == NGX_CONF_UNSET) {
        conf->events_feed = prev->events_feed;
    }

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    /* scim_redis or scim_redis_sentinel: the nearest one given */

    if (conf->redis_addr.data == NULL && conf->redis_sentinel == NULL) {
        conf->redis_seeds = prev->redis_seeds;
        conf->redis_sentinel = prev->redis_sentinel;
    }

    if (conf->redis_sentinel == NULL) {
        ngx_conf_merge_str_value(conf->redis_addr, prev->redis_addr,
                                 "127.0.0.1:6379");
    }

    ngx_conf_merge_str_value(conf->redis_sentinel_password,
                             prev->redis_sentinel_password, "");
    ngx_conf_merge_str_value(conf->redis_password, prev->redis_password, "");
    ngx_conf_merge_value(conf->redis_db, prev->redis_db, 0);
    ngx_conf_merge_uint_value(conf->redis_conns, prev->redis_conns, 1);
    ngx_conf_merge_msec_value(conf->redis_connect_timeout,
                              prev->redis_connect_timeout, 1000);
    ngx_conf_merge_msec_value(conf->redis_timeout, prev->redis_timeout, 2000);
    ngx_conf_merge_uint_value(conf->redis_wait, prev->redis_wait, 0);
    ngx_conf_merge_msec_value(conf->redis_wait_timeout,
                              prev->redis_wait_timeout, 0);
    ngx_conf_merge_ptr_value(conf->tenant, prev->tenant, NULL);
    ngx_conf_merge_ptr_value(conf->base_url, prev->base_url, NULL);
    if (conf->tokens == NGX_CONF_UNSET_PTR) {
        conf->tokens_bound = prev->tokens_bound;
    }

    ngx_conf_merge_ptr_value(conf->tokens, prev->tokens, NULL);
    ngx_conf_merge_value(conf->auth_off, prev->auth_off, 0);
    ngx_conf_merge_ptr_value(conf->extensions, prev->extensions, NULL);
    ngx_conf_merge_uint_value(conf->max_results, prev->max_results, 200);
    ngx_conf_merge_uint_value(conf->max_scan, prev->max_scan, 100000);
    ngx_conf_merge_uint_value(conf->members_slice, prev->members_slice,
                              1000);
    ngx_conf_merge_value(conf->unique_external_id, prev->unique_external_id,
                         0);
    ngx_conf_merge_uint_value(conf->events_maxlen, prev->events_maxlen,
                              100000);
    ngx_conf_merge_uint_value(conf->bulk_max_ops, prev->bulk_max_ops, 1000);

    if (ngx_http_scim_password_merge(cf, prev, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_value(conf->rcred, prev->rcred, 0);
    ngx_conf_merge_msec_value(conf->rcred_cache, prev->rcred_cache, 10000);

    if (ngx_http_scim_oauth_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_scim_cursor_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->conf_file.len == 0) {
        conf->conf_file = prev->conf_file;
        conf->conf_line = prev->conf_line;
    }

    /* a token endpoint with clients in Redis needs the store too */

    if (!conf->enable && !(conf->oauth_endpoint && conf->rcred)) {
        return NGX_CONF_OK;
    }

    if (conf->enable && conf->tokens == NULL && conf->oauth_keys == NULL
        && !conf->rcred && !conf->auth_off)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"scim\" in %V:%ui needs \"scim_bearer_token_file\" "
                      "or \"scim_oauth_key\" or \"scim_redis_credentials "
                      "on\" (or \"scim_bearer_token_file off\" when "
                      "authentication is done in front of it)",
                      &conf->conf_file, conf->conf_line);
        return NGX_CONF_ERROR;
    }

    if (conf->redis_conns == 0 || conf->redis_conns > 64) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"scim_redis_connections\" must be 1..64");
        return NGX_CONF_ERROR;
    }

    if (conf->members_slice > 1000) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"scim_members_slice\" must be 0..1000");
        return NGX_CONF_ERROR;
    }

    if (conf->max_results == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"scim_max_results\" must be positive");
        return NGX_CONF_ERROR;
    }

    /*
     * nginx's own client_max_body_size check would answer 413 with an
     * HTML page before the handler runs; the module enforces the same
     * limit itself and answers with a SCIM error.
     */

    if (conf->enable) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        conf->max_body = clcf->client_max_body_size;
        clcf->client_max_body_size = 0;
    }

    /* the Redis server this location talks to */

    ngx_memzero(&sconf, sizeof(ngx_scim_store_conf_t));

    if (conf->redis_sentinel) {
        sconf.sentinel_name = ((ngx_str_t *) conf->redis_sentinel->elts)[0];
        sconf.sentinels = (ngx_str_t *) conf->redis_sentinel->elts + 1;
        sconf.nsentinels = conf->redis_sentinel->nelts - 1;
        sconf.sentinel_password = conf->redis_sentinel_password;

    } else if (ngx_scim_store_parse_addr(cf, &conf->redis_addr, &sconf)
               != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_scim_module);

    sconf.password = conf->redis_password;
    sconf.db = conf->redis_db;
    sconf.nconns = conf->redis_conns;
    sconf.connect_timeout = conf->redis_connect_timeout;
    sconf.timeout = conf->redis_timeout;
    sconf.wait_replicas = conf->redis_wait;
    sconf.wait_timeout = conf->redis_wait_timeout;

    if (conf->redis_seeds && conf->redis_seeds->nelts > 1) {
        seed = conf->redis_seeds->elts;
        seeds = ngx_pcalloc(cf->pool, conf->redis_seeds->nelts
                                      * sizeof(ngx_scim_store_conf_t));
        if (seeds == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; i < conf->redis_seeds->nelts; i++) {
            if (ngx_scim_store_parse_addr(cf, &seed[i], &seeds[i]) != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }
        }

        sconf.seeds = seeds;
        sconf.nseeds = conf->redis_seeds->nelts;
    }

    conf->redis = ngx_scim_store_add(cf, &smcf->servers, &sconf);
    if (conf->redis == NULL
        || ngx_http_scim_doccache_zone(cf, smcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->enable && ngx_http_scim_build_registry(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_scim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (slcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    slcf->enable = 1;
    slcf->conf_file = cf->conf_file->file.name;
    slcf->conf_line = cf->conf_file->line;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_scim_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_scim_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t              *value, *seed;
    ngx_uint_t              i;
    ngx_scim_store_conf_t   s;

    if (slcf->redis_addr.data) {
        return "is duplicate";
    }

    if (slcf->redis_sentinel) {
        return "cannot be used with \"scim_redis_sentinel\" in the same "
               "block";
    }

    value = cf->args->elts;
    slcf->redis_addr = value[1];

    slcf->redis_seeds = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                         sizeof(ngx_str_t));
    if (slcf->redis_seeds == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        /* checked here too, so that "nginx -t" names the line */

        ngx_memzero(&s, sizeof(ngx_scim_store_conf_t));

        if (ngx_scim_store_parse_addr(cf, &value[i], &s) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (cf->args->nelts > 2 && s.unix_path.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "a unix socket \"%V\" cannot be one of "
                               "several seeds of a Redis Cluster",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        seed = ngx_array_push(slcf->redis_seeds);
        if (seed == NULL) {
            return NGX_CONF_ERROR;
        }

        *seed = value[i];
    }

    return NGX_CONF_OK;
}


/* scim_redis_wait <replicas> <timeout>: WAIT after every write */

static char *
ngx_http_scim_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_msec_t   t;

    if (slcf->redis_wait != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || n > 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of replicas \"%V\" in "
                           "\"scim_redis_wait\" (0..64)", &value[1]);
        return NGX_CONF_ERROR;
    }

    t = ngx_parse_time(&value[2], 0);
    if (t == (ngx_msec_t) NGX_ERROR || (n > 0 && t == 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid timeout \"%V\" in \"scim_redis_wait\" "
                           "(a positive time: WAIT 0 would wait for ever)",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    slcf->redis_wait = (ngx_uint_t) n;
    slcf->redis_wait_timeout = t;

    return NGX_CONF_OK;
}


/* scim_redis_sentinel <master-name> host:port [host:port ...] */

static char *
ngx_http_scim_redis_sentinel(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t              *value, *v;
    ngx_uint_t              i;
    ngx_scim_store_conf_t   s;

    if (slcf->redis_sentinel) {
        return "is duplicate";
    }

    if (slcf->redis_addr.data) {
        return "cannot be used with \"scim_redis\" in the same block";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a master name";
    }

    slcf->redis_sentinel = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                            sizeof(ngx_str_t));
    if (slcf->redis_sentinel == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        v = ngx_array_push(slcf->redis_sentinel);
        if (v == NULL) {
            return NGX_CONF_ERROR;
        }

        *v = value[i];
    }

    /* checked here, so that "nginx -t" names the line */

    ngx_memzero(&s, sizeof(ngx_scim_store_conf_t));

    s.sentinels = (ngx_str_t *) slcf->redis_sentinel->elts + 1;
    s.nsentinels = slcf->redis_sentinel->nelts - 1;

    if (ngx_scim_store_check_sentinels(cf, &s) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A literal tenant is checked here, so that nginx -t names the file and
 * line; one built from variables is checked per request (500 and an
 * error.log line: the configuration, not the client, is at fault).
 */

static char *
ngx_http_scim_tenant(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    char       *rv;
    ngx_str_t  *value;

    rv = ngx_http_set_complex_value_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (slcf->tenant->lengths != NULL) {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    if (!ngx_scim_store_valid_tenant(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid tenant \"%V\": it must be 1 to %d "
                           "characters without \"{\" or \"}\"",
                           &value[1], NGX_SCIM_STORE_TENANT_MAX);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The base URL makes meta.location and Location: an absolute http(s) URL.
 * One that starts with a variable ($scheme://$host/...) is not checked.
 */

static char *
ngx_http_scim_base_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    size_t      n;
    ngx_str_t  *value;

    value = cf->args->elts;

    if (value[1].len && value[1].data[0] != '$') {
        n = 0;

        if (value[1].len > 7
            && ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) == 0)
        {
            n = 7;

        } else if (value[1].len > 8
                   && ngx_strncasecmp(value[1].data, (u_char *) "https://", 8)
                      == 0)
        {
            n = 8;
        }

        if (n == 0 || value[1].data[n] == '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid base URL \"%V\": it must start with "
                               "\"http://\" or \"https://\" and a host, "
                               "e.g. \"https://scim.example.com/scim/v2\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_set_complex_value_slot(cf, cmd, conf);
}


static char *
ngx_http_scim_token_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t  *value;

    if (slcf->tokens != NGX_CONF_UNSET_PTR || slcf->auth_off != NGX_CONF_UNSET)
    {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        slcf->auth_off = 1;
        slcf->tokens = NULL;
        return NGX_CONF_OK;
    }

    if (ngx_conf_full_name(cf->cycle, &value[1], 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    slcf->auth_off = 0;

    if (ngx_http_scim_load_tokens(cf, &value[1], &slcf->tokens,
                                  &slcf->tokens_bound)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_scim_schema_extension(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    json_t        *schema;
    ngx_str_t     *value, *file;
    json_error_t   jerr;

    value = cf->args->elts;

    if (ngx_conf_full_name(cf->cycle, &value[1], 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* checked here, so that "nginx -t" names the file and the problem */

    schema = json_load_file((char *) value[1].data, JSON_REJECT_DUPLICATES,
                            &jerr);
    if (schema == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "scim_schema_extension \"%V\": line %d column %d: "
                           "%s", &value[1], jerr.line, jerr.column,
                           jerr.text);
        return NGX_CONF_ERROR;
    }

    json_decref(schema);

    if (slcf->extensions == NGX_CONF_UNSET_PTR) {
        slcf->extensions = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (slcf->extensions == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    file = ngx_array_push(slcf->extensions);
    if (file == NULL) {
        return NGX_CONF_ERROR;
    }

    *file = value[1];

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_scim_build_registry(ngx_conf_t *cf, ngx_http_scim_loc_conf_t *slcf)
{
    json_t              *schema;
    ngx_str_t           *file;
    ngx_uint_t           i;
    json_error_t         jerr;
    scim_error_t         err;
    scim_registry_t     *reg;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&err, sizeof(scim_error_t));

    reg = scim_registry_create(&err);
    if (reg == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "scim: cannot build the schema registry: %s",
                      err.detail);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_scim_registry_cleanup;
    cln->data = reg;
    slcf->registry = reg;

    if (slcf->extensions == NULL) {
        slcf->fast = scim_present_fast_ok(scim_registry_user(reg));
        return NGX_OK;
    }

    file = slcf->extensions->elts;

    for (i = 0; i < slcf->extensions->nelts; i++) {
        schema = json_load_file((char *) file[i].data, JSON_REJECT_DUPLICATES,
                                &jerr);
        if (schema == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "scim_schema_extension \"%V\": line %d column %d: "
                          "%s", &file[i], jerr.line, jerr.column, jerr.text);
            return NGX_ERROR;
        }

        if (scim_registry_add_user_extension(reg, schema, &err) != 0) {
            json_decref(schema);
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "scim_schema_extension \"%V\": %s",
                          &file[i], err.detail);
            return NGX_ERROR;
        }

        json_decref(schema);
    }

    slcf->fast = scim_present_fast_ok(scim_registry_user(reg));

    return NGX_OK;
}


static void
ngx_http_scim_registry_cleanup(void *data)
{
    scim_registry_free(data);
}


static ngx_int_t
ngx_http_scim_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    ngx_scim_store_t          **s;
    ngx_http_scim_main_conf_t  *smcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_scim_module);
    if (smcf == NULL) {
        return NGX_OK;
    }

    s = smcf->servers.elts;

    for (i = 0; i < smcf->servers.nelts; i++) {
        if (ngx_scim_store_init_worker(s[i], cycle->log) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_scim_jwks_init_process(cycle) != NGX_OK
        || (smcf->servers.nelts
            && ngx_http_scim_doccache_init(cycle, smcf) != NGX_OK))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_scim_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    ngx_scim_store_t          **s;
    ngx_http_scim_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_scim_module);
    if (smcf == NULL) {
        return;
    }

    s = smcf->servers.elts;

    for (i = 0; i < smcf->servers.nelts; i++) {
        ngx_scim_store_exit_worker(s[i]);
    }

    ngx_http_scim_doccache_exit();
}
