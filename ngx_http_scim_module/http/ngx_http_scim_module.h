
/*
 * ngx_http_scim_module: what the nginx glue files share.
 */

#ifndef _NGX_HTTP_SCIM_MODULE_H_INCLUDED_
#define _NGX_HTTP_SCIM_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "scim_core.h"
#include "ngx_scim_store.h"


#define NGX_HTTP_SCIM_TOKEN_LEN  32      /* SHA-256 digest */
#define NGX_HTTP_SCIM_CONTENT_TYPE  "application/scim+json"


typedef struct {
    u_char                      digest[NGX_HTTP_SCIM_TOKEN_LEN];
    ngx_str_t                   tenant;        /* empty: any tenant */
} ngx_http_scim_token_t;


/* scim_oauth_clients: one line */
typedef struct {
    ngx_str_t                   tenant;
    ngx_str_t                   client_id;
    u_char                      digest[NGX_HTTP_SCIM_TOKEN_LEN];
    time_t                      expires;       /* 0: never */
    unsigned                    redis:1;       /* of scim:{T}:auth:clients
                                                  (its tokens say so) */
} ngx_http_scim_oauth_client_t;


/* scim_oauth_key */
typedef struct {
    u_char                     *data;
    size_t                      len;
    void                       *mac;           /* EVP_MAC_CTX, per worker */
} ngx_http_scim_oauth_key_t;


/* scim_oauth_clients: a "jwt" line (workload identity federation);
   tenant and client_id first, as in ngx_http_scim_oauth_client_t */
typedef struct {
    ngx_str_t                   tenant;
    ngx_str_t                   client_id;
    ngx_str_t                   iss;
    ngx_str_t                   sub;
    ngx_str_t                   aud;
    time_t                      expires;       /* 0: never */
} ngx_http_scim_jwt_client_t;


/* a key of a scim_oauth_jwks file */
#define NGX_HTTP_SCIM_JWK_RSA  1               /* RS256 */
#define NGX_HTTP_SCIM_JWK_EC   2               /* ES256, P-256 */

typedef struct {
    ngx_str_t                   kid;           /* empty: none */
    ngx_uint_t                  type;
    void                       *pkey;          /* EVP_PKEY */
} ngx_http_scim_jwk_t;

typedef struct ngx_http_scim_jwks_s  ngx_http_scim_jwks_t;


typedef struct {
    ngx_array_t                 servers;       /* ngx_scim_store_t * */
    ngx_uint_t                  doc_cache;     /* scim_doc_cache; 0: off */
    ngx_shm_zone_t             *doc_zone;      /* its entries */
} ngx_http_scim_main_conf_t;


typedef struct {
    ngx_flag_t                  enable;

    ngx_str_t                   redis_addr;    /* the first seed */
    ngx_array_t                *redis_seeds;   /* ngx_str_t, all of them */
    ngx_str_t                   redis_password;
    ngx_int_t                   redis_db;
    ngx_uint_t                  redis_conns;
    ngx_msec_t                  redis_connect_timeout;
    ngx_msec_t                  redis_timeout;
    ngx_uint_t                  redis_wait;    /* scim_redis_wait */
    ngx_msec_t                  redis_wait_timeout;
    ngx_array_t                *redis_sentinel;  /* ngx_str_t: the master
                                                    name, the Sentinels;
                                                    NULL: scim_redis */
    ngx_str_t                   redis_sentinel_password;

    ngx_http_complex_value_t   *tenant;
    ngx_http_complex_value_t   *base_url;

    ngx_array_t                *tokens;        /* ngx_http_scim_token_t;
                                                  NULL: not set */
    ngx_flag_t                  tokens_bound;  /* some name a tenant */
    ngx_flag_t                  auth_off;

    ngx_array_t                *oauth_clients; /* ngx_http_scim_oauth_
                                                  client_t, or NULL */
    ngx_array_t                *oauth_keys;    /* ngx_http_scim_oauth_key_t,
                                                  the first signs */
    time_t                      oauth_ttl;
    ngx_str_t                   oauth_token_uri;
    ngx_flag_t                  oauth_endpoint; /* scim_oauth_token */
    ngx_array_t                *oauth_jwt_clients; /* ngx_http_scim_jwt_
                                                      client_t, or NULL */
    ngx_array_t                *oauth_jwks;    /* ngx_http_scim_jwks_t *,
                                                  or NULL */
    time_t                      oauth_jwks_refresh;
    time_t                      oauth_jwt_leeway;

    ngx_flag_t                  rcred;         /* scim_redis_credentials */
    ngx_msec_t                  rcred_cache;   /* ..._cache; 0: off */

    ngx_array_t                *extensions;    /* ngx_str_t file names */
    scim_registry_t            *registry;
    ngx_flag_t                  fast;          /* scim_present_fast_ok() */

    ngx_uint_t                  max_results;
    ngx_uint_t                  max_scan;
    ngx_uint_t                  members_slice; /* a GET of a group reads
                                                  its members so many at a
                                                  time; 0: all at once */
    ngx_http_scim_oauth_key_t  *cursor_key;    /* signs cursors */
    time_t                      cursor_ttl;
    ngx_flag_t                  unique_external_id;
    ngx_uint_t                  events_maxlen; /* scim_events_maxlen;
                                                  0: off */
    ngx_flag_t                  events_feed;   /* scim_events */
    ngx_uint_t                  bulk_max_ops;
    size_t                      max_body;

    ngx_scim_store_t           *redis;
    ngx_thread_pool_t          *pw_pool;       /* password hashing */

    /* where the directives that matter were given, for messages */
    ngx_str_t                   conf_file;
    ngx_uint_t                  conf_line;
} ngx_http_scim_loc_conf_t;


typedef enum {
    NGX_HTTP_SCIM_R_NONE = 0,
    NGX_HTTP_SCIM_R_USERS,
    NGX_HTTP_SCIM_R_GROUPS,
    NGX_HTTP_SCIM_R_ME,
    NGX_HTTP_SCIM_R_SCHEMAS,
    NGX_HTTP_SCIM_R_RESOURCE_TYPES,
    NGX_HTTP_SCIM_R_SPC,
    NGX_HTTP_SCIM_R_BULK,
    NGX_HTTP_SCIM_R_SEARCH,          /* root /.search */
    NGX_HTTP_SCIM_R_EVENTS           /* a scim_events location */
} ngx_http_scim_resource_e;


typedef struct ngx_http_scim_ctx_s  ngx_http_scim_ctx_t;


/* where jansson's blocks of a write request come from (alloc.c) */
typedef struct {
    ngx_pool_t                 *pool;
    u_char                     *pos;           /* the current chunk */
    u_char                     *end;
    size_t                      next;          /* the next chunk's size */
} ngx_http_scim_json_arena_t;


/* a sorted walk's cursor position: key.str points into the cursor */
typedef struct {
    scim_sort_key_t             key;
    ngx_str_t                   id;
} ngx_http_scim_cursor_key_t;


typedef void (*ngx_http_scim_step_pt)(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);

/*
 * the credentials, as a Redis lookup found them: NGX_OK, NGX_DECLINED
 * (refused: 401), NGX_BUSY (Redis unavailable: 503), NGX_ERROR (500)
 */
typedef void (*ngx_http_scim_authed_pt)(ngx_http_scim_ctx_t *ctx,
    ngx_int_t rc);

/* where the answer of an operation run on behalf of another goes (Bulk) */
typedef void (*ngx_http_scim_done_pt)(ngx_http_scim_ctx_t *ctx,
    ngx_uint_t status, json_t *json);


struct ngx_http_scim_ctx_s {
    ngx_http_request_t         *request;
    ngx_http_scim_loc_conf_t   *slcf;
    ngx_uint_t                  method;        /* of the HTTP request, or
                                                  of a bulk operation */
    ngx_http_scim_done_pt       done;          /* a bulk operation's
                                                  answer goes here, not to
                                                  the client; or NULL */
    void                       *done_data;
    ngx_http_scim_ctx_t        *sub;           /* the bulk operation
                                                  running now */

    ngx_http_scim_resource_e    resource;
    const scim_resource_type_t *rt;
    ngx_str_t                   id;            /* after the resource */
    unsigned                    search:1;      /* .../.search */

    ngx_str_t                   tenant;
    ngx_str_t                   base_url;
    ngx_str_t                   client;        /* of an access token */
    unsigned                    invalid_token:1;
    ngx_http_scim_authed_pt     authed;        /* after a Redis lookup of
                                                  the credentials */

    /* query */
    ngx_str_t                   filter;
    ngx_str_t                   attributes;
    ngx_str_t                   excluded;
    ngx_str_t                   sort_by;
    ngx_int_t                   start_index;
    ngx_int_t                   count;
    unsigned                    descending:1;
    unsigned                    has_filter:1;
    unsigned                    has_sort:1;
    unsigned                    has_start_index:1;

    /* cursor pagination (RFC 9865, ngx_http_scim_cursor.c) */
    ngx_str_t                   cursor;        /* as sent; "": first page */
    ngx_str_t                   cursor_pos;    /* its position; "": none */
    ngx_str_t                   cursor_next;   /* the next page's; "":
                                                  none (the last page) */
    ngx_str_t                   cursor_prev;   /* the previous page's;
                                                  "": none (the first) */
    ngx_uint_t                  cursor_total;
    u_char                      cursor_kind;   /* 's', 'c', 'm', 'k', 'o' */
    ngx_http_scim_cursor_key_t  cursor_key;    /* 'k': the position */
    u_char                      cursor_hash[12];  /* of the query, made
                                                  when it starts */
    unsigned                    cursor_mode:1;
    unsigned                    cursor_has_total:1;
    unsigned                    cursor_back:1; /* a previousCursor: the
                                                  page before cursor_pos */

    json_t                     *body;
    json_t                     *doc;           /* as stored */
    json_t                     *newdoc;
    json_t                     *matches;       /* list/filter results */
    scim_filter_t              *filter_ast;
    scim_projection_t          *projection;
    ngx_int_t                   expect_version; /* If-Match, or -1 */
    ngx_str_t                   if_match;      /* If-Match's list */
    ngx_uint_t                  n_if_match;    /* its versions */
    json_t                     *headers_from;  /* ETag, Location source */

    ngx_uint_t                  total;         /* ids in the store */
    ngx_uint_t                  scanned;
    ngx_uint_t                  retries;

    ngx_scim_store_op_t        *cmd;          /* in flight */
    ngx_scim_store_call_t       call;
    ngx_event_t                 retry;         /* backoff between attempts */
    ngx_http_scim_step_pt       step;          /* on the Redis reply */

    ngx_str_t                   prefix;        /* serialized new doc,
                                                  without its version */
    json_t                     *related;       /* a user's groups as read
                                                  with the document */
    ngx_str_t                   doc_sha1;      /* ctx->doc is a worker's
                                                  cached text of this SHA1
                                                  (doccache.c), not read;
                                                  empty: read */
    scim_members_delta_t        delta;         /* a group's member changes */
    ngx_uint_t                  final_status;  /* for a read after write */
    unsigned                    want_members:1;
    unsigned                    members_only:1;
    unsigned                    failing:1;
    unsigned                    root_search:1;
    unsigned                    filter_location:1;
    ngx_str_t                   literal;       /* filter's required text */
    ngx_str_t                   literal_key;   /* in a "<name>":" value */
    ngx_str_t                   literal_lc;    /* as a Lua pattern ignoring
                                                  ASCII case, for Redis */
    void                       *scan;          /* a scan's state
                                                  (scan.c) */
    void                       *stream;        /* a group's members
                                                  streamed (stream.c) */
    ngx_pool_t                 *args_pool;     /* where a store call keeps
                                                  its arguments and result;
                                                  NULL: r->pool */
    ngx_buf_t                  *error_page;    /* a SCIM error in place of
                                                  nginx's own error page */
    unsigned                    error_page_sent:1;

    void                       *pw_task;       /* a password being hashed */
    json_t                     *pw_clear;      /* what was hashed last, */
    json_t                     *pw_hash;       /* and into what */

    ngx_http_scim_json_arena_t *json_pool;     /* jansson's blocks of the
                                                  request's steps:
                                                  &json_arena (a write's
                                                  own work) or NULL
                                                  (malloc) */
    ngx_http_scim_json_arena_t  json_arena;
};


extern ngx_module_t  ngx_http_scim_module;


/* ngx_http_scim_auth.c */
ngx_int_t ngx_http_scim_load_tokens(ngx_conf_t *cf, ngx_str_t *file,
    ngx_array_t **tokens, ngx_flag_t *bound);
/* NGX_OK, NGX_DECLINED (401), NGX_BUSY (503), NGX_ERROR, or NGX_AGAIN: a
   Redis lookup runs, ctx->authed will say */
ngx_int_t ngx_http_scim_authenticate(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf);
void ngx_http_scim_random_id(u_char *buf);  /* 36 bytes, UUID v4 */

/* ngx_http_scim_digest.c */
void ngx_http_scim_sha256(u_char *p, size_t len, u_char *digest);
void ngx_http_scim_sha1(u_char *p, size_t len, u_char *digest);
void ngx_http_scim_token_digest(u_char *p, size_t len, u_char *digest);
ngx_int_t ngx_http_scim_hex_decode(u_char *dst, u_char *src, size_t len);

/* ngx_http_scim_variables.c: the operation of a request ($scim_op) */
typedef enum {
    NGX_HTTP_SCIM_OP_CREATE = 0,
    NGX_HTTP_SCIM_OP_READ,
    NGX_HTTP_SCIM_OP_LIST,
    NGX_HTTP_SCIM_OP_REPLACE,
    NGX_HTTP_SCIM_OP_PATCH,
    NGX_HTTP_SCIM_OP_DELETE,
    NGX_HTTP_SCIM_OP_SEARCH,
    NGX_HTTP_SCIM_OP_BULK,
    NGX_HTTP_SCIM_OP_DISCOVERY,
    NGX_HTTP_SCIM_OP_NONE          /* refused before routing, no endpoint */
} ngx_http_scim_op_e;

extern const char *ngx_http_scim_op_text[NGX_HTTP_SCIM_OP_NONE];
ngx_uint_t ngx_http_scim_op_of(ngx_http_request_t *r,
    ngx_http_scim_ctx_t *ctx);

/* ngx_http_scim_oauth.c: OAuth 2.0 client credentials */
ngx_int_t ngx_http_scim_oauth_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_scim_oauth_verify(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, u_char *p, u_char *last,
    ngx_str_t *tenant, ngx_str_t *client, uint64_t *redis_iat);
char *ngx_http_scim_oauth_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_oauth_clients(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_oauth_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_oauth_ttl(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_oauth_merge(ngx_conf_t *cf,
    ngx_http_scim_loc_conf_t *prev, ngx_http_scim_loc_conf_t *conf);

ngx_int_t ngx_http_scim_hmac(ngx_http_scim_oauth_key_t *key, u_char *p,
    size_t len, u_char *mac);

/*
 * ngx_http_scim_cursor.c: RFC 9865 cursors.  open: checks ctx->cursor
 * for a query whose pages are kind 's' or 'c' (creation scores: plain
 * lists, scans), 'm' (member ids), 'k' (sort key and id: sorted scans,
 * ctx->cursor_key) or 'o' (offsets), sets
 * ctx->cursor_pos, ctx->cursor_back (and, for 'o', start_index);
 * NGX_ABORT when it answered 400.  make: the cursor of position pos,
 * back: a previousCursor (the page before pos).
 */
char *ngx_http_scim_cursor_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_cursor_merge(ngx_conf_t *cf,
    ngx_http_scim_loc_conf_t *prev, ngx_http_scim_loc_conf_t *conf);
ngx_int_t ngx_http_scim_cursor_open(ngx_http_scim_ctx_t *ctx, u_char kind);
ngx_int_t ngx_http_scim_cursor_make(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *pos, ngx_uint_t back, ngx_str_t *out);
json_t *ngx_http_scim_cursor_spc(ngx_http_scim_loc_conf_t *slcf);
/* sorted walks ('k'): the position of a match, read back, compared */
ngx_int_t ngx_http_scim_cursor_key_pos(ngx_http_scim_ctx_t *ctx,
    scim_sort_key_t *key, u_char *id, size_t len, ngx_str_t *pos);
ngx_int_t ngx_http_scim_cursor_key_get(ngx_str_t *pos,
    ngx_http_scim_cursor_key_t *ck);
int ngx_http_scim_cursor_id_cmp(u_char *a, size_t alen, u_char *b,
    size_t blen);
int ngx_http_scim_cursor_key_cmp(scim_sort_spec_t *spec,
    scim_sort_key_t *key, u_char *id, size_t len,
    ngx_http_scim_cursor_key_t *ck);

/* ngx_http_scim_jwt.c: JWT client assertions (RFC 7523) */
ngx_int_t ngx_http_scim_jwt_authenticate(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_str_t *assertion,
    ngx_str_t *client_id, ngx_http_scim_oauth_client_t *client);
char *ngx_http_scim_jwt_client_line(ngx_conf_t *cf, ngx_array_t **clients,
    ngx_str_t *field, ngx_uint_t n, time_t expires);
char *ngx_http_scim_jwt_merge(ngx_conf_t *cf,
    ngx_http_scim_loc_conf_t *prev, ngx_http_scim_loc_conf_t *conf);

/* ngx_http_scim_jwks.c: scim_oauth_jwks files, refreshed by workers */
char *ngx_http_scim_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void ngx_http_scim_jwks_refresh(ngx_array_t *files, time_t refresh);
ngx_http_scim_jwk_t *ngx_http_scim_jwks_keys(ngx_http_scim_jwks_t *jwks,
    ngx_uint_t *n);
ngx_int_t ngx_http_scim_jwks_init_process(ngx_cycle_t *cycle);

/*
 * ngx_http_scim_rcred.c: credentials in Redis (scim_redis_credentials).
 * token: a bearer token's digest in tenant's scim:{T}:auth:tokens;
 * access: a client of scim:{T}:auth:clients still there, and its token
 * issued (iat, ms) at or after its revoked_before.  NGX_OK, NGX_DECLINED
 * (refused), NGX_BUSY (Redis unavailable), NGX_ERROR, or NGX_AGAIN: a
 * lookup runs, ctx->authed will say.  client: the token endpoint's
 * lookup of a client and its secret (NGX_AGAIN, or as above); done gets
 * the client (NULL: refused; status 503 or 500 when not 0).
 */
typedef void (*ngx_http_scim_rcred_client_pt)(ngx_http_request_t *r,
    ngx_http_scim_oauth_client_t *client, ngx_uint_t status);

ngx_int_t ngx_http_scim_rcred_token(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *tenant, u_char *digest);
ngx_int_t ngx_http_scim_rcred_access(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *tenant, ngx_str_t *client, uint64_t iat);
ngx_int_t ngx_http_scim_rcred_client(ngx_http_request_t *r,
    ngx_str_t *tenant, ngx_str_t *id, ngx_str_t *secret,
    ngx_http_scim_rcred_client_pt done);

/*
 * ngx_http_scim_doccache.c: the workers' shared cache of known stored
 * texts (scim_doc_cache), by the store, tenant, type (ctx's) and id;
 * put: id NULL for the id the text holds; get: a copy in the request's
 * pool
 */
char *ngx_http_scim_doc_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_scim_doccache_zone(ngx_conf_t *cf,
    ngx_http_scim_main_conf_t *smcf);
ngx_int_t ngx_http_scim_doccache_init(ngx_cycle_t *cycle,
    ngx_http_scim_main_conf_t *smcf);
void ngx_http_scim_doccache_exit(void);
void ngx_http_scim_doccache_put(ngx_http_scim_ctx_t *ctx, ngx_str_t *id,
    ngx_str_t *text);
void ngx_http_scim_doccache_put_head(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *head, ngx_int_t version);
ngx_int_t ngx_http_scim_doccache_get(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *text);
void ngx_http_scim_doccache_drop(ngx_http_scim_ctx_t *ctx);
ngx_int_t ngx_http_scim_doccache_sha1(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *text, ngx_str_t *hex);

/* ngx_http_scim_variables.c: $scim_tenant, $scim_resource, ... */
ngx_int_t ngx_http_scim_add_variables(ngx_conf_t *cf);

/* ngx_http_scim_filter.c: SCIM errors in place of nginx's error pages */
ngx_int_t ngx_http_scim_filter_init(ngx_conf_t *cf);

/* ngx_http_scim_password.c: Argon2id in a thread pool */
/* ngx_http_scim_events.c */
char *ngx_http_scim_events_maxlen(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_scim_event(ngx_http_scim_ctx_t *ctx, const char *type,
    ngx_scim_store_event_t *ev);
char *ngx_http_scim_events_feed(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_scim_feed(ngx_http_scim_ctx_t *ctx);
ngx_int_t ngx_http_scim_spc_events(ngx_http_scim_ctx_t *ctx, json_t *spc);

char *ngx_http_scim_password_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_scim_password_merge(ngx_conf_t *cf,
    ngx_http_scim_loc_conf_t *prev, ngx_http_scim_loc_conf_t *conf);
void ngx_http_scim_password_hash(ngx_http_scim_ctx_t *ctx, json_t *doc,
    ngx_http_scim_step_pt next);
void ngx_http_scim_password_cancel(ngx_http_scim_ctx_t *ctx);

/* ngx_http_scim_handler.c: the content handler: route, query, body */
ngx_int_t ngx_http_scim_handler(ngx_http_request_t *r);

/* ngx_http_scim_request.c: If-Match, a body's message schema */
ngx_int_t ngx_http_scim_if_match(ngx_http_scim_ctx_t *ctx);
ngx_int_t ngx_http_scim_if_match_ok(ngx_http_scim_ctx_t *ctx,
    ngx_int_t version);
json_t *ngx_http_scim_json_member(json_t *obj, const char *name);
ngx_int_t ngx_http_scim_body_message(ngx_http_scim_ctx_t *ctx,
    const char *urn);

/* ngx_http_scim_alloc.c: jansson's blocks from a write request's pool */
void ngx_http_scim_json_alloc_init(void);
/* makes a request's arena (or NULL: malloc) current, returns the
   previous one */
ngx_http_scim_json_arena_t *ngx_http_scim_json_pool(
    ngx_http_scim_json_arena_t *a);
void ngx_http_scim_json_pool_check(ngx_log_t *log);
ngx_http_scim_json_arena_t *ngx_http_scim_json_pool_for(
    ngx_http_scim_ctx_t *ctx);

/* ngx_http_scim_call.c: a request's calls to the store */
ngx_scim_store_call_t *ngx_http_scim_call(ngx_http_scim_ctx_t *ctx,
    ngx_http_scim_step_pt step);
void ngx_http_scim_issued(ngx_http_scim_ctx_t *ctx, ngx_int_t rc);

/* ngx_http_scim_reply.c: the answers */
void ngx_http_scim_finish(ngx_http_scim_ctx_t *ctx, ngx_int_t rc);
void ngx_http_scim_reply(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    json_t *json, ngx_uint_t resource_headers);
void ngx_http_scim_fail(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    const char *scim_type, const char *fmt, ...);
void ngx_http_scim_fail_err(ngx_http_scim_ctx_t *ctx, scim_error_t *err);
void ngx_http_scim_unavailable(ngx_http_scim_ctx_t *ctx);
ngx_int_t ngx_http_scim_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json);
void ngx_http_scim_reply_raw(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    ngx_buf_t *b, ngx_str_t *etag, ngx_str_t *location);
json_t *ngx_http_scim_track(ngx_http_request_t *r, json_t *json);
/* a response header; value is copied into the request's pool */
ngx_int_t ngx_http_scim_add_header(ngx_http_request_t *r, const char *name,
    const char *value, ngx_table_elt_t **slot);

/* ngx_http_scim_discovery.c */
void ngx_http_scim_discovery(ngx_http_scim_ctx_t *ctx);

/* ngx_http_scim_search.c, ngx_http_scim_bulk.c */
void ngx_http_scim_search(ngx_http_scim_ctx_t *ctx);
void ngx_http_scim_bulk(ngx_http_scim_ctx_t *ctx);

/* Users and Groups: ngx_http_scim_write.c, _read.c, _list.c */
void ngx_http_scim_create(ngx_http_scim_ctx_t *ctx);
void ngx_http_scim_get(ngx_http_scim_ctx_t *ctx);
void ngx_http_scim_modify(ngx_http_scim_ctx_t *ctx);
void ngx_http_scim_list(ngx_http_scim_ctx_t *ctx);


#endif /* _NGX_HTTP_SCIM_MODULE_H_INCLUDED_ */
