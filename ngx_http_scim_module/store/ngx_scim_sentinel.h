
/*
 * ngx_http_scim_module: Redis Sentinel ("scim_redis_sentinel"), private
 * to store/.  A store whose primary the Sentinels name: its server's
 * resolve hook asks them, ngx_scim_redis_retarget() takes the answer.
 */

#ifndef _NGX_SCIM_SENTINEL_H_INCLUDED_
#define _NGX_SCIM_SENTINEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_scim_redis.h"


/*
 * "host:port" of each Sentinel (a host name is resolved here, at
 * configuration time); with a server, the server asks them from now on.
 */
ngx_int_t ngx_scim_sentinel_conf(ngx_conf_t *cf,
    ngx_scim_redis_server_t *server, ngx_str_t *addrs, ngx_uint_t naddrs);

/* before ngx_scim_redis_init_worker(); after ngx_scim_redis_exit_worker() */
ngx_int_t ngx_scim_sentinel_init_worker(ngx_scim_redis_server_t *server,
    ngx_log_t *log);
void ngx_scim_sentinel_exit_worker(ngx_scim_redis_server_t *server);


#endif /* _NGX_SCIM_SENTINEL_H_INCLUDED_ */
