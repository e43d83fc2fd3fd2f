
/*
 * ngx_http_scim_module: credentials in Redis (scim_redis_credentials).
 *
 * Besides the files, a tenant's bearer tokens and OAuth clients can be
 * kept in Redis, written by the SaaS application or tools/scim-
 * credentials, read here with one HGET (ngx_scim_store_credential):
 *
 *   scim:{T}:auth:tokens   hex SHA-256 of a token ->
 *                          "<created> <expires> [<label>]"
 *   scim:{T}:auth:clients  client id ->
 *                          "<created> <revoked_before> <hex>:<expires>
 *                           [<hex>:<expires> ...]"
 *
 * created and expires in seconds since the epoch (expires 0: never; a
 * credential is refused from that second on), revoked_before in
 * milliseconds (0: none): an access token of the client issued before
 * it is refused; <hex>: the SHA-256 of a secret, up to
 * NGX_HTTP_SCIM_RCRED_SECRETS of them.  Redis data is input too: a
 * record is read within NGX_HTTP_SCIM_RCRED_MAX bytes, and one that is
 * not of this shape refuses the credential (logged).
 *
 * A positive answer is kept per worker, by a digest of (kind, tenant,
 * token digest or client id), for scim_redis_credentials_cache; a
 * refusal is never kept.  The cache is a fixed table: a new entry takes
 * the place of the one at its index.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_monitor.h"


#define NGX_HTTP_SCIM_RCRED_CACHE    1024
#define NGX_HTTP_SCIM_RCRED_MAX      4096
#define NGX_HTTP_SCIM_RCRED_SECRETS  16
#define NGX_HTTP_SCIM_RCRED_ITEM     (NGX_SCIM_STORE_TENANT_MAX + 2 + 255)


typedef enum {
    NGX_HTTP_SCIM_RCRED_TOKEN = 0,   /* a bearer token */
    NGX_HTTP_SCIM_RCRED_ACCESS,      /* an access token's client */
    NGX_HTTP_SCIM_RCRED_CLIENT       /* the token endpoint's client */
} ngx_http_scim_rcred_kind_e;


typedef struct {
    u_char                          key[32];
    uint64_t                        value;     /* token: expires (s);
                                                  client: revoked_before
                                                  (ms) */
    ngx_msec_t                      stored;
    ngx_uint_t                      used;
} ngx_http_scim_rcred_entry_t;


typedef struct {
    ngx_http_scim_rcred_kind_e      kind;
    ngx_http_request_t             *request;
    ngx_http_scim_ctx_t            *ctx;       /* scim locations */
    ngx_scim_store_op_t            *op;        /* the token endpoint's */
    ngx_scim_store_call_t           call;
    u_char                          key[32];
    uint64_t                        iat;       /* access: ms */
    ngx_str_t                       id;        /* client */
    u_char                          digest[32]; /* client: its secret's */
    ngx_http_scim_rcred_client_pt   done;
} ngx_http_scim_rcred_lookup_t;


typedef struct {
    uint64_t                        created;
    uint64_t                        second;    /* token: expires; client:
                                                  revoked_before */
    u_char                         *rest;
    u_char                         *last;
} ngx_http_scim_rcred_record_t;


static ngx_http_scim_rcred_lookup_t *ngx_http_scim_rcred_new(
    ngx_http_scim_ctx_t *ctx, ngx_http_scim_rcred_kind_e kind, u_char *key);
static ngx_int_t ngx_http_scim_rcred_key(ngx_http_scim_rcred_kind_e kind,
    ngx_str_t *tenant, u_char *item, size_t len, u_char *key);
static ngx_http_scim_rcred_entry_t *ngx_http_scim_rcred_cached(u_char *key,
    ngx_msec_t ttl);
static void ngx_http_scim_rcred_keep(u_char *key, uint64_t value,
    ngx_msec_t ttl);
static ngx_int_t ngx_http_scim_rcred_lookup(
    ngx_http_scim_rcred_lookup_t *lk, ngx_str_t *tenant,
    ngx_scim_store_auth_e kind, ngx_str_t *field);
static void ngx_http_scim_rcred_found(void *data, ngx_scim_store_res_t *res);
static ngx_int_t ngx_http_scim_rcred_check(ngx_http_scim_rcred_lookup_t *lk,
    ngx_str_t *text, ngx_log_t *log);
static ngx_int_t ngx_http_scim_rcred_parse(ngx_str_t *text,
    ngx_http_scim_rcred_record_t *rec);
static ngx_int_t ngx_http_scim_rcred_num(u_char **pp, u_char *last,
    uint64_t *n);
static ngx_int_t ngx_http_scim_rcred_secret(ngx_http_scim_rcred_lookup_t *lk,
    ngx_http_scim_rcred_record_t *rec, ngx_log_t *log);
static void ngx_http_scim_rcred_cleanup(void *data);


/* per worker */
static ngx_http_scim_rcred_entry_t
    ngx_http_scim_rcred_cache[NGX_HTTP_SCIM_RCRED_CACHE];


ngx_int_t
ngx_http_scim_rcred_token(ngx_http_scim_ctx_t *ctx, ngx_str_t *tenant,
    u_char *digest)
{
    u_char                        *hex;
    u_char                         key[32];
    ngx_str_t                      field;
    ngx_http_scim_rcred_entry_t   *e;
    ngx_http_scim_rcred_lookup_t  *lk;

    if (ngx_http_scim_rcred_key(NGX_HTTP_SCIM_RCRED_TOKEN, tenant, digest, 32,
                                key)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    e = ngx_http_scim_rcred_cached(key, ctx->slcf->rcred_cache);

    if (e) {
        return (e->value == 0 || e->value > (uint64_t) ngx_time())
               ? NGX_OK : NGX_DECLINED;
    }

    lk = ngx_http_scim_rcred_new(ctx, NGX_HTTP_SCIM_RCRED_TOKEN, key);
    hex = ngx_pnalloc(ctx->request->pool, 64);

    if (lk == NULL || hex == NULL) {
        return NGX_ERROR;
    }

    field.data = hex;
    field.len = ngx_hex_dump(hex, digest, 32) - hex;

    return ngx_http_scim_rcred_lookup(lk, tenant, NGX_SCIM_STORE_AUTH_TOKENS,
                                      &field);
}


ngx_int_t
ngx_http_scim_rcred_access(ngx_http_scim_ctx_t *ctx, ngx_str_t *tenant,
    ngx_str_t *client, uint64_t iat)
{
    u_char                         key[32];
    ngx_http_scim_rcred_entry_t   *e;
    ngx_http_scim_rcred_lookup_t  *lk;

    if (ngx_http_scim_rcred_key(NGX_HTTP_SCIM_RCRED_ACCESS, tenant,
                                client->data, client->len, key)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    e = ngx_http_scim_rcred_cached(key, ctx->slcf->rcred_cache);

    if (e) {
        return iat >= e->value ? NGX_OK : NGX_DECLINED;
    }

    lk = ngx_http_scim_rcred_new(ctx, NGX_HTTP_SCIM_RCRED_ACCESS, key);
    if (lk == NULL) {
        return NGX_ERROR;
    }

    lk->iat = iat;
    lk->id = *client;

    return ngx_http_scim_rcred_lookup(lk, tenant,
                                      NGX_SCIM_STORE_AUTH_CLIENTS, client);
}


/* a lookup of a scim location's request, made only on a cache miss */

static ngx_http_scim_rcred_lookup_t *
ngx_http_scim_rcred_new(ngx_http_scim_ctx_t *ctx,
    ngx_http_scim_rcred_kind_e kind, u_char *key)
{
    ngx_http_scim_rcred_lookup_t  *lk;

    lk = ngx_pcalloc(ctx->request->pool,
                     sizeof(ngx_http_scim_rcred_lookup_t));
    if (lk == NULL) {
        return NULL;
    }

    lk->kind = kind;
    lk->ctx = ctx;
    lk->request = ctx->request;
    ngx_memcpy(lk->key, key, 32);

    return lk;
}


/* the token endpoint: never cached (a client asks once an hour or so) */

ngx_int_t
ngx_http_scim_rcred_client(ngx_http_request_t *r, ngx_str_t *tenant,
    ngx_str_t *id, ngx_str_t *secret, ngx_http_scim_rcred_client_pt done)
{
    ngx_http_cleanup_t            *cln;
    ngx_http_scim_rcred_lookup_t  *lk;

    if (id->len == 0 || id->len > 255) {
        return NGX_DECLINED;
    }

    lk = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_rcred_lookup_t));
    if (lk == NULL) {
        return NGX_ERROR;
    }

    lk->kind = NGX_HTTP_SCIM_RCRED_CLIENT;
    lk->request = r;
    lk->id = *id;
    lk->done = done;

    ngx_http_scim_sha256(secret->data, secret->len, lk->digest);

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_scim_rcred_cleanup;
    cln->data = lk;

    return ngx_http_scim_rcred_lookup(lk, tenant,
                                      NGX_SCIM_STORE_AUTH_CLIENTS, id);
}


static void
ngx_http_scim_rcred_cleanup(void *data)
{
    ngx_http_scim_rcred_lookup_t  *lk = data;

    if (lk->op) {
        ngx_scim_store_cancel(lk->op);
        lk->op = NULL;
    }
}


/*
 * NGX_AGAIN: the lookup runs; NGX_DECLINED: the tenant cannot name keys;
 * NGX_BUSY: the store is unavailable now
 */

static ngx_int_t
ngx_http_scim_rcred_lookup(ngx_http_scim_rcred_lookup_t *lk,
    ngx_str_t *tenant, ngx_scim_store_auth_e kind, ngx_str_t *field)
{
    ngx_int_t                  rc;
    ngx_scim_store_call_t     *call;
    ngx_http_scim_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(lk->request, ngx_http_scim_module);

    if (slcf->redis == NULL
        || !ngx_scim_store_valid_tenant(tenant->data, tenant->len))
    {
        return NGX_DECLINED;
    }

    call = &lk->call;

    call->store = slcf->redis;
    call->tenant = *tenant;
    call->type = NGX_SCIM_STORE_USER;
    call->pool = lk->request->pool;
    call->log = lk->request->connection->log;
    call->handler = ngx_http_scim_rcred_found;
    call->data = lk;
    call->op = lk->ctx ? &lk->ctx->cmd : &lk->op;

    rc = ngx_scim_store_credential(call, kind, field);

    if (rc == NGX_OK) {
        return NGX_AGAIN;
    }

    return rc == NGX_DECLINED ? NGX_BUSY : NGX_ERROR;
}


static void
ngx_http_scim_rcred_found(void *data, ngx_scim_store_res_t *res)
{
    ngx_http_scim_rcred_lookup_t  *lk = data;

    ngx_int_t                    rc;
    ngx_log_t                   *log;
    ngx_http_scim_ctx_t         *ctx;
    ngx_http_scim_rcred_kind_e   kind;

    /* the token endpoint's answer may free lk with the request */
    kind = lk->kind;
    log = lk->request->connection->log;

    switch (res->status) {

    case NGX_SCIM_STORE_OK:
        rc = ngx_http_scim_rcred_check(lk, &res->docs[0].text, log);
        break;

    case NGX_SCIM_STORE_NOT_FOUND:

        /* an unknown id at the token endpoint may be a misplaced secret */

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      kind == NGX_HTTP_SCIM_RCRED_TOKEN
                      ? "scim: bearer token not in the tenant's Redis "
                        "credentials"
                      : kind == NGX_HTTP_SCIM_RCRED_CLIENT
                        ? "scim oauth: unknown client id (in no file, not "
                          "in the tenant's Redis credentials)"
                        : "scim: client \"%V\" of the access token no "
                          "longer in the tenant's Redis credentials",
                      &lk->id);
        rc = NGX_DECLINED;
        break;

    case NGX_SCIM_STORE_UNAVAILABLE:
        rc = NGX_BUSY;
        break;

    default:
        rc = NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_scim_stat_auth_fail(kind == NGX_HTTP_SCIM_RCRED_CLIENT
                                     ? NGX_HTTP_SCIM_AUTH_INVALID_CLIENT
                                     : kind == NGX_HTTP_SCIM_RCRED_ACCESS
                                       ? NGX_HTTP_SCIM_AUTH_INVALID_ACCESS
                                       : NGX_HTTP_SCIM_AUTH_UNKNOWN_TOKEN);
    }

    if (kind == NGX_HTTP_SCIM_RCRED_CLIENT) {
        if (rc == NGX_DONE) {
            return;                 /* answered */
        }

        lk->done(lk->request, NULL, rc == NGX_BUSY
                                    ? NGX_HTTP_SERVICE_UNAVAILABLE
                                    : rc == NGX_ERROR
                                      ? NGX_HTTP_INTERNAL_SERVER_ERROR : 0);
        return;
    }

    ctx = lk->ctx;
    ctx->cmd = NULL;

    if (rc == NGX_DECLINED && lk->kind == NGX_HTTP_SCIM_RCRED_ACCESS) {
        ctx->invalid_token = 1;
    }

    ctx->authed(ctx, rc);
}


/*
 * the record found: NGX_OK or NGX_DECLINED; the token endpoint's client:
 * NGX_DONE once done() has it
 */

static ngx_int_t
ngx_http_scim_rcred_check(ngx_http_scim_rcred_lookup_t *lk, ngx_str_t *text,
    ngx_log_t *log)
{
    ngx_http_scim_loc_conf_t      *slcf;
    ngx_http_scim_oauth_client_t  *client;
    ngx_http_scim_rcred_record_t   rec;

    if (ngx_http_scim_rcred_parse(text, &rec) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "scim: a Redis credential record of an unexpected "
                      "shape (%s)", lk->kind == NGX_HTTP_SCIM_RCRED_TOKEN
                                    ? "auth:tokens" : "auth:clients");
        return NGX_DECLINED;
    }

    slcf = ngx_http_get_module_loc_conf(lk->request, ngx_http_scim_module);

    switch (lk->kind) {

    case NGX_HTTP_SCIM_RCRED_TOKEN:

        if (rec.second && rec.second <= (uint64_t) ngx_time()) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "scim: Redis bearer token expired");
            return NGX_DECLINED;
        }

        ngx_http_scim_rcred_keep(lk->key, rec.second, slcf->rcred_cache);

        return NGX_OK;

    case NGX_HTTP_SCIM_RCRED_ACCESS:

        ngx_http_scim_rcred_keep(lk->key, rec.second, slcf->rcred_cache);

        if (lk->iat < rec.second) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "scim: access token of client \"%V\" issued "
                          "before its tokens were revoked", &lk->id);
            return NGX_DECLINED;
        }

        return NGX_OK;

    default: /* NGX_HTTP_SCIM_RCRED_CLIENT */

        if (ngx_http_scim_rcred_secret(lk, &rec, log) != NGX_OK) {
            return NGX_DECLINED;
        }

        client = ngx_pcalloc(lk->request->pool,
                             sizeof(ngx_http_scim_oauth_client_t));
        if (client == NULL) {
            return NGX_ERROR;
        }

        client->tenant = lk->call.tenant;
        client->client_id = lk->id;
        client->redis = 1;

        lk->done(lk->request, client, 0);

        return NGX_DONE;
    }
}


/* the secrets of a client record: one that matches and has not expired */

static ngx_int_t
ngx_http_scim_rcred_secret(ngx_http_scim_rcred_lookup_t *lk,
    ngx_http_scim_rcred_record_t *rec, ngx_log_t *log)
{
    u_char      *p, *end;
    u_char       digest[32];
    time_t       now;
    uint64_t     expires;
    ngx_uint_t   n, match, expired, same;

    now = ngx_time();
    match = 0;
    expired = 0;
    n = 0;

    for (p = rec->rest; p < rec->last; p = end) {

        if (++n > NGX_HTTP_SCIM_RCRED_SECRETS) {
            goto bad;
        }

        if (rec->last - p < 66 || p[64] != ':') {
            goto bad;
        }

        if (ngx_http_scim_hex_decode(digest, p, 64) != NGX_OK) {
            goto bad;
        }

        p += 65;

        if (ngx_http_scim_rcred_num(&p, rec->last, &expires) != NGX_OK) {
            goto bad;
        }

        end = p;

        same = (CRYPTO_memcmp(digest, lk->digest, 32) == 0);

        if (same && expires && expires <= (uint64_t) now) {
            expired = 1;
            continue;
        }

        match |= same;
    }

    if (match) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  expired ? "scim oauth: client \"%V\": the secret has "
                            "expired"
                          : "scim oauth: client \"%V\": wrong secret",
                  &lk->id);

    return NGX_DECLINED;

bad:

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "scim oauth: client \"%V\": a Redis record of an "
                  "unexpected shape", &lk->id);

    return NGX_DECLINED;
}


/*
 * "<created> <second>" then, after one space, the rest (a token's
 * label, a client's secrets), each of them separated by one space
 */

static ngx_int_t
ngx_http_scim_rcred_parse(ngx_str_t *text, ngx_http_scim_rcred_record_t *rec)
{
    u_char  *p, *last;

    if (text->data == NULL || text->len == 0
        || text->len > NGX_HTTP_SCIM_RCRED_MAX)
    {
        return NGX_ERROR;
    }

    p = text->data;
    last = p + text->len;

    if (ngx_http_scim_rcred_num(&p, last, &rec->created) != NGX_OK
        || ngx_http_scim_rcred_num(&p, last, &rec->second) != NGX_OK)
    {
        return NGX_ERROR;
    }

    rec->rest = p;
    rec->last = last;

    return NGX_OK;
}


/* decimal digits (at most 19), then one space or the end, skipped */

static ngx_int_t
ngx_http_scim_rcred_num(u_char **pp, u_char *last, uint64_t *n)
{
    u_char      *p;
    ngx_uint_t   digits;

    p = *pp;
    *n = 0;
    digits = 0;

    while (p < last && *p >= '0' && *p <= '9') {
        if (++digits > 19) {
            return NGX_ERROR;
        }

        *n = *n * 10 + (*p++ - '0');
    }

    if (digits == 0) {
        return NGX_ERROR;
    }

    if (p < last) {
        if (*p != ' ') {
            return NGX_ERROR;
        }

        p++;
    }

    *pp = p;

    return NGX_OK;
}


/* the cache's key: SHA-256 of kind, tenant, NUL, item */

static ngx_int_t
ngx_http_scim_rcred_key(ngx_http_scim_rcred_kind_e kind, ngx_str_t *tenant,
    u_char *item, size_t len, u_char *key)
{
    u_char  *p;
    u_char   buf[NGX_HTTP_SCIM_RCRED_ITEM];

    if (tenant->len == 0 || tenant->len > NGX_SCIM_STORE_TENANT_MAX
        || len > 255
        || !ngx_scim_store_valid_tenant(tenant->data, tenant->len))
    {
        return NGX_DECLINED;
    }

    p = buf;
    *p++ = (u_char) ('0' + kind);
    p = ngx_cpymem(p, tenant->data, tenant->len);
    *p++ = '\0';
    p = ngx_cpymem(p, item, len);

    ngx_http_scim_sha256(buf, p - buf, key);

    return NGX_OK;
}


static ngx_http_scim_rcred_entry_t *
ngx_http_scim_rcred_cached(u_char *key, ngx_msec_t ttl)
{
    ngx_http_scim_rcred_entry_t  *e;

    if (ttl == 0) {
        return NULL;
    }

    e = &ngx_http_scim_rcred_cache[(key[0] | (key[1] << 8))
                                   % NGX_HTTP_SCIM_RCRED_CACHE];

    if (!e->used
        || (ngx_msec_int_t) (ngx_current_msec - e->stored)
           >= (ngx_msec_int_t) ttl
        || ngx_memcmp(e->key, key, 32) != 0)
    {
        return NULL;
    }

    return e;
}


static void
ngx_http_scim_rcred_keep(u_char *key, uint64_t value, ngx_msec_t ttl)
{
    ngx_http_scim_rcred_entry_t  *e;

    if (ttl == 0) {
        return;
    }

    e = &ngx_http_scim_rcred_cache[(key[0] | (key[1] << 8))
                                   % NGX_HTTP_SCIM_RCRED_CACHE];

    ngx_memcpy(e->key, key, 32);
    e->value = value;
    e->stored = ngx_current_msec;
    e->used = 1;
}
