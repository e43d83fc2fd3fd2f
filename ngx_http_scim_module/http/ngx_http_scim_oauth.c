
/*
 * ngx_http_scim_module: OAuth 2.0 client credentials (RFC 6749 4.4).
 *
 * A location with "scim_oauth_token" is a token endpoint: a client of
 * "scim_oauth_clients" (by HTTP Basic or client_id/client_secret in the
 * form) gets an access token for its tenant.  The token is
 * self-contained and signed, so that every host sharing the keys
 * accepts it with no lookup:
 *
 *     base64url(payload) "." base64url(HMAC-SHA256(key, payload))
 *
 *     payload: version (1) | issued at (8, big-endian) | expires (8)
 *              | tenant length (1) | tenant | client id length (1)
 *              | client id
 *
 * Version 1: a client of scim_oauth_clients, issued at in seconds; such
 * a token is refused once its client id is no longer in the clients
 * file the scim location sees.  Version 2: a client of Redis
 * (scim_redis_credentials, ngx_http_scim_rcred.c), issued at in
 * milliseconds; checked against the client's record in Redis (it must
 * exist, and revoked_before not be later than the token).
 *
 * Secrets are kept only as SHA-256 digests and compared in constant
 * time; neither secrets nor tokens reach a log line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_monitor.h"


#define NGX_HTTP_SCIM_OAUTH_VERSION   1
#define NGX_HTTP_SCIM_OAUTH_REDIS     2      /* a client of Redis */
#define NGX_HTTP_SCIM_OAUTH_MAX_BODY  16384
#define NGX_HTTP_SCIM_OAUTH_FIXED     18     /* version, iat, exp, tlen */
#define NGX_HTTP_SCIM_OAUTH_PAYLOAD   (NGX_HTTP_SCIM_OAUTH_FIXED + 255 + 1 \
                                       + 255)
#define NGX_HTTP_SCIM_OAUTH_SIG_B64   43     /* 32 bytes, base64url */


typedef struct {
    ngx_str_t    grant_type;
    ngx_str_t    client_id;
    ngx_str_t    client_secret;
    ngx_str_t    scope;
    ngx_str_t    assertion_type;
    ngx_str_t    assertion;
    unsigned     has_grant_type:1;
    unsigned     has_client_id:1;
    unsigned     has_client_secret:1;
    unsigned     has_scope:1;
    unsigned     has_assertion_type:1;
    unsigned     has_assertion:1;
} ngx_http_scim_oauth_form_t;


#define NGX_HTTP_SCIM_OAUTH_JWT_BEARER                                       \
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


static void ngx_http_scim_oauth_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_scim_oauth_grant(ngx_http_request_t *r,
    u_char *body, size_t len);
static const char *ngx_http_scim_oauth_parse(ngx_http_request_t *r,
    u_char *p, u_char *last, ngx_http_scim_oauth_form_t *form);
static ngx_int_t ngx_http_scim_oauth_decode(ngx_pool_t *pool, u_char *p,
    u_char *last, ngx_str_t *out);
static ngx_int_t ngx_http_scim_oauth_basic(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *secret);
static ngx_http_scim_oauth_client_t *ngx_http_scim_oauth_client(
    ngx_http_request_t *r, ngx_http_scim_loc_conf_t *slcf, ngx_str_t *id,
    ngx_str_t *secret);
static ngx_int_t ngx_http_scim_oauth_issue(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_http_scim_oauth_client_t *client);
static ngx_int_t ngx_http_scim_oauth_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *error, const char *description,
    ngx_uint_t basic);
static ngx_int_t ngx_http_scim_oauth_send(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);
static ngx_int_t ngx_http_scim_oauth_redis(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_http_scim_oauth_form_t *form,
    ngx_str_t *id, ngx_str_t *secret);
static void ngx_http_scim_oauth_redis_done(ngx_http_request_t *r,
    ngx_http_scim_oauth_client_t *client, ngx_uint_t status);
static ngx_uint_t ngx_http_scim_oauth_known(ngx_array_t *clients,
    ngx_str_t *tenant, u_char *id, size_t len);


/* the token endpoint's content handler */

ngx_int_t
ngx_http_scim_oauth_handler(ngx_http_request_t *r)
{
    u_char                    *ct;
    size_t                     len;
    ngx_int_t                  rc;
    ngx_http_scim_ctx_t       *ctx;
    ngx_http_scim_loc_conf_t  *slcf;

    static const char  form[] = "application/x-www-form-urlencoded";

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->slcf = slcf;
    ctx->method = r->method;

    ngx_http_set_ctx(r, ctx, ngx_http_scim_module);

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            r->keepalive = 0;
        }

        if (ngx_http_scim_add_header(r, "Allow", "POST", NULL) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_scim_oauth_error(r, NGX_HTTP_NOT_ALLOWED,
                                         "invalid_request",
                                         "only POST is allowed here", 0);
    }

    len = sizeof(form) - 1;

    ct = NULL;

    if (r->headers_in.content_type
        && r->headers_in.content_type->value.len >= len
        && ngx_strncasecmp(r->headers_in.content_type->value.data,
                           (u_char *) form, len)
           == 0)
    {
        ct = r->headers_in.content_type->value.data + len;

        if (r->headers_in.content_type->value.len > len
            && *ct != ';' && *ct != ' ')
        {
            ct = NULL;
        }
    }

    if (ct == NULL) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            r->keepalive = 0;
        }

        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request",
                                         "the request must be "
                                         "application/x-www-form-urlencoded",
                                         0);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_SCIM_OAUTH_MAX_BODY) {
        r->keepalive = 0;
        (void) ngx_http_discard_request_body(r);

        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request",
                                         "the request body is too large", 0);
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_scim_oauth_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        r->keepalive = 0;

        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request",
                                         "cannot read the request body", 0);
    }

    return NGX_DONE;
}


static void
ngx_http_scim_oauth_body(ngx_http_request_t *r)
{
    u_char       *body, *p;
    size_t        len;
    ngx_int_t     rc;
    ngx_chain_t  *cl;

    len = 0;
    body = NULL;

    if (r->request_body) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            if (cl->buf->in_file || !ngx_buf_in_memory(cl->buf)) {
                len = NGX_HTTP_SCIM_OAUTH_MAX_BODY + 1;
                break;
            }

            len += cl->buf->last - cl->buf->pos;
        }
    }

    if (len > NGX_HTTP_SCIM_OAUTH_MAX_BODY) {
        r->keepalive = 0;
        ngx_http_finalize_request(r,
            ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_request",
                                      "the request body is too large", 0));
        return;
    }

    if (len) {
        body = ngx_pnalloc(r->pool, len);
        if (body == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        p = body;

        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }

    rc = ngx_http_scim_oauth_grant(r, body, len);

    if (rc == NGX_DONE) {
        return;                 /* a Redis lookup answers */
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_scim_oauth_grant(ngx_http_request_t *r, u_char *body, size_t len)
{
    ngx_int_t                      rc;
    ngx_str_t                      id, secret;
    ngx_uint_t                     basic;
    const char                    *bad;
    ngx_table_elt_t               *h;
    ngx_http_scim_ctx_t           *ctx;
    ngx_http_scim_loc_conf_t      *slcf;
    ngx_http_scim_oauth_form_t     form;
    ngx_http_scim_oauth_client_t  *client, assertion_client;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    ngx_memzero(&form, sizeof(ngx_http_scim_oauth_form_t));

    bad = ngx_http_scim_oauth_parse(r, body, body + len, &form);
    if (bad) {
        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request", bad, 0);
    }

    h = r->headers_in.authorization;
    basic = (h != NULL && h->value.len >= 6
             && ngx_strncasecmp(h->value.data, (u_char *) "Basic ", 6) == 0);

    if (basic && (form.has_client_id || form.has_client_secret)) {
        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request",
                                         "client credentials both in the "
                                         "Authorization header and in the "
                                         "body", 0);
    }

    if (!form.has_grant_type) {
        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request",
                                         "grant_type is missing", 0);
    }

    /* a JWT client assertion (RFC 7523): ngx_http_scim_jwt.c */

    if (form.has_assertion_type || form.has_assertion) {
        if (basic || form.has_client_secret) {
            return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_request",
                                             "both a client secret and a "
                                             "client assertion", 0);
        }

        if (!form.has_assertion || !form.has_assertion_type
            || form.assertion_type.len
               != sizeof(NGX_HTTP_SCIM_OAUTH_JWT_BEARER) - 1
            || ngx_strncmp(form.assertion_type.data,
                           NGX_HTTP_SCIM_OAUTH_JWT_BEARER,
                           form.assertion_type.len)
               != 0)
        {
            return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_request",
                                             "client_assertion and a "
                                             "client_assertion_type of "
                                             "jwt-bearer are needed", 0);
        }

        rc = ngx_http_scim_jwt_authenticate(r, slcf, &form.assertion,
                                            form.has_client_id
                                            ? &form.client_id : NULL,
                                            &assertion_client);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            return ngx_http_scim_oauth_error(r, NGX_HTTP_UNAUTHORIZED,
                                             "invalid_client",
                                             "client authentication failed",
                                             0);
        }

        client = &assertion_client;

        goto authenticated;
    }

    if (basic) {
        if (ngx_http_scim_oauth_basic(r, &id, &secret) != NGX_OK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "scim oauth: malformed Basic credentials");
            ngx_http_scim_stat_auth_fail(NGX_HTTP_SCIM_AUTH_INVALID_CLIENT);

            return ngx_http_scim_oauth_error(r, NGX_HTTP_UNAUTHORIZED,
                                             "invalid_client",
                                             "malformed Basic credentials",
                                             1);
        }

    } else if (form.has_client_id && form.has_client_secret) {
        id = form.client_id;
        secret = form.client_secret;

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: no client credentials");
        ngx_http_scim_stat_auth_fail(NGX_HTTP_SCIM_AUTH_INVALID_CLIENT);

        return ngx_http_scim_oauth_error(r, NGX_HTTP_UNAUTHORIZED,
                                         "invalid_client",
                                         "client authentication is "
                                         "required", 0);
    }

    client = slcf->oauth_clients
             ? ngx_http_scim_oauth_client(r, slcf, &id, &secret) : NULL;

    if (client == NULL && slcf->rcred == 1) {
        /* not a client of the file: of Redis, maybe */
        return ngx_http_scim_oauth_redis(r, slcf, &form, &id, &secret);
    }

    if (client == NULL) {
        ngx_http_scim_stat_auth_fail(NGX_HTTP_SCIM_AUTH_INVALID_CLIENT);
        return ngx_http_scim_oauth_error(r, NGX_HTTP_UNAUTHORIZED,
                                         "invalid_client",
                                         "client authentication failed",
                                         basic);
    }

authenticated:

    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);
    ctx->client = client->client_id;
    ctx->tenant = client->tenant;

    if (form.grant_type.len != sizeof("client_credentials") - 1
        || ngx_strncmp(form.grant_type.data, "client_credentials",
                       form.grant_type.len)
           != 0)
    {
        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "unsupported_grant_type",
                                         "only client_credentials is "
                                         "supported", 0);
    }

    if (form.has_scope && form.scope.len
        && (form.scope.len != 4
            || ngx_strncmp(form.scope.data, "scim", 4) != 0))
    {
        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_scope",
                                         "the only scope is \\\"scim\\\"",
                                         0);
    }

    return ngx_http_scim_oauth_issue(r, slcf, client);
}


/* application/x-www-form-urlencoded; a parameter given twice: an error */

static const char *
ngx_http_scim_oauth_parse(ngx_http_request_t *r, u_char *p, u_char *last,
    ngx_http_scim_oauth_form_t *form)
{
    u_char     *end, *eq;
    unsigned    seen;
    ngx_str_t   name, *value;

    for ( /* void */ ; p < last; p = end + 1) {

        end = ngx_strlchr(p, last, '&');
        if (end == NULL) {
            end = last;
        }

        if (end == p) {
            continue;
        }

        eq = ngx_strlchr(p, end, '=');
        if (eq == NULL) {
            eq = end;
        }

        name.data = p;
        name.len = eq - p;

#define ngx_http_scim_oauth_is(n)                                            \
        (name.len == sizeof(n) - 1 && ngx_strncmp(name.data, n, name.len) == 0)

        if (ngx_http_scim_oauth_is("grant_type")) {
            seen = form->has_grant_type;
            form->has_grant_type = 1;
            value = &form->grant_type;

        } else if (ngx_http_scim_oauth_is("client_id")) {
            seen = form->has_client_id;
            form->has_client_id = 1;
            value = &form->client_id;

        } else if (ngx_http_scim_oauth_is("client_secret")) {
            seen = form->has_client_secret;
            form->has_client_secret = 1;
            value = &form->client_secret;

        } else if (ngx_http_scim_oauth_is("scope")) {
            seen = form->has_scope;
            form->has_scope = 1;
            value = &form->scope;

        } else if (ngx_http_scim_oauth_is("client_assertion_type")) {
            seen = form->has_assertion_type;
            form->has_assertion_type = 1;
            value = &form->assertion_type;

        } else if (ngx_http_scim_oauth_is("client_assertion")) {
            seen = form->has_assertion;
            form->has_assertion = 1;
            value = &form->assertion;

        } else {
            continue;
        }

#undef ngx_http_scim_oauth_is

        if (seen) {
            return "a parameter is repeated";
        }

        if (ngx_http_scim_oauth_decode(r->pool, eq < end ? eq + 1 : end,
                                       end, value)
            != NGX_OK)
        {
            return "a parameter is not properly encoded";
        }
    }

    return NULL;
}


/* form-urlencoded: '+' is a space, %XX a byte */

static ngx_int_t
ngx_http_scim_oauth_decode(ngx_pool_t *pool, u_char *p, u_char *last,
    ngx_str_t *out)
{
    u_char     *d;
    ngx_int_t   hi, lo;

    d = ngx_pnalloc(pool, last - p + 1);
    if (d == NULL) {
        return NGX_ERROR;
    }

    out->data = d;

    while (p < last) {
        if (*p == '+') {
            *d++ = ' ';
            p++;

        } else if (*p == '%') {
            if (last - p < 3) {
                return NGX_ERROR;
            }

            hi = ngx_hextoi(p + 1, 1);
            lo = ngx_hextoi(p + 2, 1);

            if (hi == NGX_ERROR || lo == NGX_ERROR) {
                return NGX_ERROR;
            }

            *d++ = (u_char) (hi * 16 + lo);
            p += 3;

        } else {
            *d++ = *p++;
        }
    }

    out->len = d - out->data;

    return NGX_OK;
}


/* RFC 6749 2.3.1: Basic base64(urlencoded id ":" urlencoded secret) */

static ngx_int_t
ngx_http_scim_oauth_basic(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *secret)
{
    u_char     *colon;
    ngx_str_t   in, dec;

    in = r->headers_in.authorization->value;
    in.data += 6;
    in.len -= 6;

    while (in.len && *in.data == ' ') {
        in.data++;
        in.len--;
    }

    while (in.len && in.data[in.len - 1] == ' ') {
        in.len--;
    }

    if (in.len == 0 || in.len > 4096) {
        return NGX_DECLINED;
    }

    dec.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(in.len));
    if (dec.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(&dec, &in) != NGX_OK) {
        return NGX_DECLINED;
    }

    colon = ngx_strlchr(dec.data, dec.data + dec.len, ':');
    if (colon == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_scim_oauth_decode(r->pool, dec.data, colon, id) != NGX_OK
        || ngx_http_scim_oauth_decode(r->pool, colon + 1,
                                      dec.data + dec.len, secret)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The client whose id and secret these are, with an unexpired secret:
 * every secret line of the client is compared, in constant time
 */

static ngx_http_scim_oauth_client_t *
ngx_http_scim_oauth_client(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_str_t *id, ngx_str_t *secret)
{
    u_char                         digest[SHA256_DIGEST_LENGTH];
    time_t                         now;
    ngx_uint_t                     i, known, expired, same;
    ngx_http_scim_oauth_client_t  *c, *found;

    ngx_http_scim_sha256(secret->data, secret->len, digest);

    now = ngx_time();
    found = NULL;
    known = 0;
    expired = 0;

    c = slcf->oauth_clients->elts;

    for (i = 0; i < slcf->oauth_clients->nelts; i++) {
        if (c[i].client_id.len != id->len
            || ngx_memcmp(c[i].client_id.data, id->data, id->len) != 0)
        {
            continue;
        }

        known = 1;

        same = (CRYPTO_memcmp(digest, c[i].digest, SHA256_DIGEST_LENGTH)
                == 0);

        if (same && c[i].expires && c[i].expires <= now) {
            expired = 1;
            continue;
        }

        if (same && found == NULL) {
            found = &c[i];
        }
    }

    if (found) {
        return found;
    }

    if (!known) {
        if (slcf->rcred != 1) {     /* else Redis says */
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "scim oauth: unknown client id");
        }

    } else if (expired) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client \"%V\": the secret has expired",
                      id);

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client \"%V\": wrong secret", id);
    }

    return NULL;
}


static ngx_int_t
ngx_http_scim_oauth_issue(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_http_scim_oauth_client_t *client)
{
    u_char                     *p, *out;
    u_char                      payload[NGX_HTTP_SCIM_OAUTH_PAYLOAD];
    u_char                      mac[32];
    time_t                      now;
    uint64_t                    t;
    ngx_str_t                   src, dst;
    ngx_uint_t                  i;
    ngx_time_t                 *tp;
    ngx_http_scim_oauth_key_t  *key;

    static const char  head[] = "{\"access_token\":\"";
    static const char  tail[] = "\",\"token_type\":\"Bearer\",\"expires_in\":";

    tp = ngx_timeofday();
    now = tp->sec;

    p = payload;

    if (client->redis) {
        /* issued at in ms: revoked_before is, too */
        *p++ = NGX_HTTP_SCIM_OAUTH_REDIS;
        t = (uint64_t) tp->sec * 1000 + tp->msec;

    } else {
        *p++ = NGX_HTTP_SCIM_OAUTH_VERSION;
        t = (uint64_t) now;
    }

    for (i = 0; i < 8; i++) {
        *p++ = (u_char) (t >> (56 - 8 * i));
    }

    t = (uint64_t) (now + slcf->oauth_ttl);
    for (i = 0; i < 8; i++) {
        *p++ = (u_char) (t >> (56 - 8 * i));
    }

    *p++ = (u_char) client->tenant.len;
    p = ngx_cpymem(p, client->tenant.data, client->tenant.len);
    *p++ = (u_char) client->client_id.len;
    p = ngx_cpymem(p, client->client_id.data, client->client_id.len);

    key = slcf->oauth_keys->elts;

    if (ngx_http_scim_hmac(&key[0], payload, p - payload, mac) != NGX_OK) {
        return ngx_http_scim_oauth_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         "server_error",
                                         "cannot sign the token", 0);
    }

    out = ngx_pnalloc(r->pool, sizeof(head) - 1
                               + ngx_base64_encoded_length(p - payload) + 1
                               + ngx_base64_encoded_length(sizeof(mac))
                               + sizeof(tail) - 1 + NGX_TIME_T_LEN + 1);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dst.data = ngx_cpymem(out, head, sizeof(head) - 1);

    src.data = payload;
    src.len = p - payload;
    ngx_encode_base64url(&dst, &src);
    dst.data += dst.len;
    *dst.data++ = '.';

    src.data = mac;
    src.len = sizeof(mac);
    ngx_encode_base64url(&dst, &src);
    dst.data += dst.len;

    p = ngx_cpymem(dst.data, tail, sizeof(tail) - 1);
    p = ngx_sprintf(p, "%T}", slcf->oauth_ttl);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "scim oauth: client \"%V\" of tenant \"%V\": access token "
                  "issued", &client->client_id, &client->tenant);

    return ngx_http_scim_oauth_send(r, NGX_HTTP_OK, out, p - out);
}


static ngx_int_t
ngx_http_scim_oauth_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *description, ngx_uint_t basic)
{
    u_char  *body, *p;
    size_t   len;

    /* both are this file's own literals: nothing to escape */

    len = sizeof("{\"error\":\"\",\"error_description\":\"\"}") - 1
          + ngx_strlen(error) + ngx_strlen(description);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body, "{\"error\":\"%s\",\"error_description\":\"%s\"}",
                    error, description);

    if (basic
        && ngx_http_scim_add_header(r, "WWW-Authenticate",
                                      "Basic realm=\"scim\"",
                                      &r->headers_out.www_authenticate)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_scim_oauth_send(r, status, body, p - body);
}


static ngx_int_t
ngx_http_scim_oauth_send(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_scim_add_header(r, "Cache-Control", "no-store", NULL)
        != NGX_OK
        || ngx_http_scim_add_header(r, "Pragma", "no-cache", NULL) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}



/*
 * An access token in "Authorization: Bearer": NGX_OK and the client id
 * when it is valid for this tenant (*redis_iat: 0, or the time it was
 * issued at, in ms, when its client is of Redis and still to be checked
 * there); NGX_DECLINED when it does not have the shape of one (maybe a
 * bearer file token); NGX_DONE when it has, but no key signed it (maybe
 * still a bearer file token); NGX_ABORT when it is ours but expired, of
 * another tenant, or of a client no longer in the clients file.
 */

ngx_int_t
ngx_http_scim_oauth_verify(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, u_char *p, u_char *last,
    ngx_str_t *tenant, ngx_str_t *client, uint64_t *redis_iat)
{
    u_char                     *dot, *q;
    u_char                      payload[NGX_HTTP_SCIM_OAUTH_PAYLOAD + 3];
    u_char                      sig[32 + 3], mac[32];
    time_t                      now;
    uint64_t                    exp, iat;
    ngx_str_t                   src, dst, t;
    ngx_uint_t                  i, match, version;
    ngx_http_scim_oauth_key_t  *key;

    dot = ngx_strlchr(p, last, '.');

    if (dot == NULL
        || last - dot - 1 != NGX_HTTP_SCIM_OAUTH_SIG_B64
        || (size_t) (dot - p) > ngx_base64_encoded_length(
                                    NGX_HTTP_SCIM_OAUTH_PAYLOAD))
    {
        return NGX_DECLINED;
    }

    src.data = dot + 1;
    src.len = NGX_HTTP_SCIM_OAUTH_SIG_B64;
    dst.data = sig;

    if (ngx_decode_base64url(&dst, &src) != NGX_OK || dst.len != 32) {
        return NGX_DECLINED;
    }

    src.data = p;
    src.len = dot - p;
    dst.data = payload;

    if (ngx_decode_base64url(&dst, &src) != NGX_OK
        || dst.len < NGX_HTTP_SCIM_OAUTH_FIXED + 1)
    {
        return NGX_DECLINED;
    }

    /* any key: the first signs, the others are accepted for rotation */

    match = 0;
    key = slcf->oauth_keys->elts;

    for (i = 0; i < slcf->oauth_keys->nelts; i++) {
        if (ngx_http_scim_hmac(&key[i], payload, dst.len, mac) != NGX_OK) {
            return NGX_ERROR;
        }

        if (CRYPTO_memcmp(mac, sig, 32) == 0) {
            match = 1;
            break;
        }
    }

    if (!match) {
        return NGX_DONE;
    }

    /* signed by us: the layout is ours, still checked */

    q = payload;
    version = *q++;
    *redis_iat = 0;

    if (version != NGX_HTTP_SCIM_OAUTH_VERSION
        && version != NGX_HTTP_SCIM_OAUTH_REDIS)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: access token of an unknown version");
        return NGX_ABORT;
    }

    iat = 0;
    for (i = 0; i < 8; i++) {
        iat = (iat << 8) | *q++;
    }

    exp = 0;
    for (i = 0; i < 8; i++) {
        exp = (exp << 8) | *q++;
    }

    t.len = *q++;
    t.data = q;

    if ((size_t) (q - payload) + t.len + 1 > dst.len) {
        return NGX_ABORT;
    }

    q += t.len;
    client->len = *q++;

    if ((size_t) (q - payload) + client->len != dst.len) {
        return NGX_ABORT;
    }

    now = ngx_time();

    if (exp <= (uint64_t) now) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: access token of client \"%*s\" expired",
                      client->len, q);
        return NGX_ABORT;
    }

    if (t.len != tenant->len
        || ngx_memcmp(t.data, tenant->data, t.len) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: access token of client \"%*s\" is for "
                      "tenant \"%V\", not \"%V\"", client->len, q, &t,
                      tenant);
        return NGX_ABORT;
    }

    /* a client removed from the clients file: its tokens with it */

    if (version == NGX_HTTP_SCIM_OAUTH_VERSION
        && (slcf->oauth_clients || slcf->oauth_jwt_clients)
        && !ngx_http_scim_oauth_known(slcf->oauth_clients, &t, q,
                                      client->len)
        && !ngx_http_scim_oauth_known(slcf->oauth_jwt_clients, &t, q,
                                      client->len))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: access token of client \"%*s\", no "
                      "longer in scim_oauth_clients", client->len, q);
        return NGX_ABORT;
    }

    if (version == NGX_HTTP_SCIM_OAUTH_REDIS) {
        *redis_iat = iat ? iat : 1;
    }

    client->data = ngx_pnalloc(r->pool, client->len + 1);
    if (client->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(client->data, q, client->len);

    return NGX_OK;
}


/* ---- credentials in Redis: the token endpoint's part ---- */


/*
 * a client of tenant in clients (any of its lines): an array of
 * ngx_http_scim_oauth_client_t or ngx_http_scim_jwt_client_t, which both
 * begin with tenant and client_id
 */

static ngx_uint_t
ngx_http_scim_oauth_known(ngx_array_t *clients, ngx_str_t *tenant,
    u_char *id, size_t len)
{
    u_char      *e;
    ngx_str_t   *f;
    ngx_uint_t   i;

    if (clients == NULL) {
        return 0;
    }

    e = clients->elts;

    for (i = 0; i < clients->nelts; i++, e += clients->size) {
        f = (ngx_str_t *) e;            /* f[0]: tenant, f[1]: client_id */

        if (f[1].len == len && ngx_memcmp(f[1].data, id, len) == 0
            && f[0].len == tenant->len
            && ngx_memcmp(f[0].data, tenant->data, tenant->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * A client in no file, with scim_redis_credentials: looked up in the
 * tenant of the location (scim_tenant) in Redis; the grant is checked
 * first, the answer comes from ngx_http_scim_oauth_redis_done()
 */

static ngx_int_t
ngx_http_scim_oauth_redis(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_http_scim_oauth_form_t *form,
    ngx_str_t *id, ngx_str_t *secret)
{
    ngx_int_t  rc;
    ngx_str_t  tenant;

    if (form->grant_type.len != sizeof("client_credentials") - 1
        || ngx_strncmp(form->grant_type.data, "client_credentials",
                       form->grant_type.len)
           != 0)
    {
        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "unsupported_grant_type",
                                         "only client_credentials is "
                                         "supported", 0);
    }

    if (form->has_scope && form->scope.len
        && (form->scope.len != 4
            || ngx_strncmp(form->scope.data, "scim", 4) != 0))
    {
        return ngx_http_scim_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_scope",
                                         "the only scope is \\\"scim\\\"",
                                         0);
    }

    ngx_str_set(&tenant, "default");

    if (slcf->tenant
        && ngx_http_complex_value(r, slcf->tenant, &tenant) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ngx_scim_store_valid_tenant(tenant.data, tenant.len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim oauth: invalid tenant \"%V\" (empty, longer "
                      "than %d or with braces)", &tenant,
                      NGX_SCIM_STORE_TENANT_MAX);

        return ngx_http_scim_oauth_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         "server_error",
                                         "the tenant of this endpoint is "
                                         "misconfigured", 0);
    }

    rc = ngx_http_scim_rcred_client(r, &tenant, id, secret,
                                    ngx_http_scim_oauth_redis_done);

    switch (rc) {

    case NGX_AGAIN:
        return NGX_DONE;

    case NGX_BUSY:
        ngx_http_scim_oauth_redis_done(r, NULL, NGX_HTTP_SERVICE_UNAVAILABLE);
        return NGX_DONE;

    case NGX_DECLINED:
        ngx_http_scim_oauth_redis_done(r, NULL, 0);
        return NGX_DONE;

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


static void
ngx_http_scim_oauth_redis_done(ngx_http_request_t *r,
    ngx_http_scim_oauth_client_t *client, ngx_uint_t status)
{
    ngx_int_t                  rc;
    ngx_uint_t                 basic;
    ngx_table_elt_t           *h;
    ngx_connection_t          *c;
    ngx_http_scim_ctx_t       *ctx;
    ngx_http_scim_loc_conf_t  *slcf;

    c = r->connection;
    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        rc = ngx_http_scim_add_header(r, "Retry-After", "1", NULL);

        rc = (rc != NGX_OK) ? NGX_HTTP_INTERNAL_SERVER_ERROR
             : ngx_http_scim_oauth_error(r, status,
                                         "temporarily_unavailable",
                                         "the credential store is "
                                         "unavailable; retry later", 0);

    } else if (status) {
        rc = ngx_http_scim_oauth_error(r, status, "server_error",
                                       "the credential store failed", 0);

    } else if (client == NULL) {
        h = r->headers_in.authorization;
        basic = (h != NULL && h->value.len >= 6
                 && ngx_strncasecmp(h->value.data, (u_char *) "Basic ", 6)
                    == 0);

        rc = ngx_http_scim_oauth_error(r, NGX_HTTP_UNAUTHORIZED,
                                       "invalid_client",
                                       "client authentication failed",
                                       basic);

    } else {
        ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);
        ctx->client = client->client_id;
        ctx->tenant = client->tenant;

        rc = ngx_http_scim_oauth_issue(r, slcf, client);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}
