
/*
 * ngx_http_scim_module: JWT client assertions (RFC 7523 2.2), the client
 * authentication of workload identity federation (Microsoft Entra sends
 * a token of its own tenant, signed with a key of its JWKS).
 *
 * A "jwt" line of scim_oauth_clients names what the assertion must
 * carry:
 *
 *     <tenant> <client_id> jwt iss=<issuer> sub=<subject>
 *         aud=<audience> [expires=YYYY-MM-DD]
 *
 * The assertion is a compact JWS: RS256 or ES256 only, signed by a key of
 * the endpoint's scim_oauth_jwks files (by "kid"), with "exp" in the
 * future, "nbf" and "iat" not, and "iss", "sub", "aud" of a line;
 * scim_oauth_jwt_leeway (default 60s) for the clocks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_JWT_MAX  8192


static json_t *ngx_http_scim_jwt_json(ngx_http_request_t *r, u_char *p,
    u_char *last, ngx_str_t *raw, const char *what);
static ngx_int_t ngx_http_scim_jwt_signature(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, json_t *header, u_char *signed_data,
    size_t signed_len, ngx_str_t *sig);
static ngx_int_t ngx_http_scim_jwt_verify(ngx_http_scim_jwk_t *key,
    u_char *data, size_t len, u_char *sig, size_t siglen);
static ngx_int_t ngx_http_scim_jwt_claims(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, json_t *claims, ngx_str_t *client_id,
    ngx_http_scim_oauth_client_t *client);
static ngx_uint_t ngx_http_scim_jwt_eq(json_t *v, ngx_str_t *s);
static ngx_int_t ngx_http_scim_jwt_time(json_t *claims, const char *name,
    double *t);


/*
 * The client a client assertion authenticates: NGX_OK and *client filled
 * in; NGX_DECLINED (the reason logged at info) for invalid_client;
 * NGX_ERROR.  client_id: the form's, or NULL.
 */

ngx_int_t
ngx_http_scim_jwt_authenticate(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_str_t *assertion,
    ngx_str_t *client_id, ngx_http_scim_oauth_client_t *client)
{
    u_char     *p, *last, *dot1, *dot2;
    json_t     *header, *claims;
    ngx_int_t   rc;
    ngx_str_t   raw, sig;

    if (slcf->oauth_jwt_clients == NULL || slcf->oauth_jwks == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: a client assertion, but no \"jwt\" "
                      "client is configured");
        return NGX_DECLINED;
    }

    if (assertion->len > NGX_HTTP_SCIM_JWT_MAX) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion of %uz bytes, more "
                      "than %d", assertion->len, NGX_HTTP_SCIM_JWT_MAX);
        return NGX_DECLINED;
    }

    p = assertion->data;
    last = p + assertion->len;

    dot1 = ngx_strlchr(p, last, '.');
    dot2 = dot1 ? ngx_strlchr(dot1 + 1, last, '.') : NULL;

    if (dot2 == NULL || ngx_strlchr(dot2 + 1, last, '.') != NULL
        || dot1 == p || dot2 == dot1 + 1)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion is not a compact JWS "
                      "(three base64url parts)");
        return NGX_DECLINED;
    }

    if (dot2 + 1 == last) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion is not signed");
        return NGX_DECLINED;
    }

    header = ngx_http_scim_jwt_json(r, p, dot1, &raw, "header");
    if (header == NULL) {
        return NGX_DECLINED;
    }

    /* the signature, base64url */

    sig.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(last - dot2));
    if (sig.data == NULL) {
        json_decref(header);
        return NGX_ERROR;
    }

    raw.data = dot2 + 1;
    raw.len = last - dot2 - 1;

    if (ngx_strlchr(raw.data, last, '=') != NULL
        || ngx_decode_base64url(&sig, &raw) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's signature is not "
                      "base64url");
        json_decref(header);
        return NGX_DECLINED;
    }

    rc = ngx_http_scim_jwt_signature(r, slcf, header, p, dot2 - p, &sig);

    json_decref(header);

    if (rc != NGX_OK) {
        return rc;
    }

    /* signed by a key of ours: the claims */

    claims = ngx_http_scim_jwt_json(r, dot1 + 1, dot2, &raw, "claims");
    if (claims == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_http_scim_jwt_claims(r, slcf, claims, client_id, client);

    json_decref(claims);

    return rc;
}


/* a base64url part decoded and parsed: a JSON object, or NULL (logged) */

static json_t *
ngx_http_scim_jwt_json(ngx_http_request_t *r, u_char *p, u_char *last,
    ngx_str_t *raw, const char *what)
{
    json_t        *j;
    ngx_str_t      src;
    json_error_t   err;

    src.data = p;
    src.len = last - p;

    raw->data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(src.len));
    if (raw->data == NULL) {
        return NULL;
    }

    if (ngx_strlchr(p, last, '=') != NULL
        || ngx_decode_base64url(raw, &src) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's %s is not base64url",
                      what);
        return NULL;
    }

    j = json_loadb((char *) raw->data, raw->len, JSON_REJECT_DUPLICATES,
                   &err);

    if (!json_is_object(j)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's %s is not a JSON "
                      "object", what);
        json_decref(j);
        return NULL;
    }

    return j;
}


/* "alg", "kid": a key of the endpoint's JWKS files signed data */

static ngx_int_t
ngx_http_scim_jwt_signature(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, json_t *header, u_char *signed_data,
    size_t signed_len, ngx_str_t *sig)
{
    json_t                 *alg, *kid;
    ngx_int_t               rc;
    ngx_str_t               k;
    ngx_uint_t              i, j, n, type, kid_seen, tried;
    ngx_http_scim_jwk_t    *keys;
    ngx_http_scim_jwks_t  **files;

    alg = json_object_get(header, "alg");
    kid = json_object_get(header, "kid");

    if (!json_is_string(alg)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion without \"alg\"");
        return NGX_DECLINED;
    }

    if (ngx_strcmp(json_string_value(alg), "RS256") == 0) {
        type = NGX_HTTP_SCIM_JWK_RSA;

    } else if (ngx_strcmp(json_string_value(alg), "ES256") == 0) {
        type = NGX_HTTP_SCIM_JWK_EC;

        if (sig->len != 64) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "scim oauth: client assertion's ES256 signature "
                          "is not 64 bytes");
            return NGX_DECLINED;
        }

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's \"alg\" is not "
                      "RS256 or ES256");
        return NGX_DECLINED;
    }

    if (json_object_get(header, "crit") != NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion with \"crit\" "
                      "extensions");
        return NGX_DECLINED;
    }

    if (kid != NULL && !json_is_string(kid)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's \"kid\" is not a "
                      "string");
        return NGX_DECLINED;
    }

    k.data = kid ? (u_char *) json_string_value(kid) : NULL;
    k.len = kid ? json_string_length(kid) : 0;

    kid_seen = 0;
    tried = 0;
    files = slcf->oauth_jwks->elts;

    for (i = 0; i < slcf->oauth_jwks->nelts; i++) {
        keys = ngx_http_scim_jwks_keys(files[i], &n);

        for (j = 0; j < n; j++) {
            if (kid) {
                if (keys[j].kid.len != k.len
                    || ngx_memcmp(keys[j].kid.data, k.data, k.len) != 0)
                {
                    continue;
                }

                kid_seen = 1;
            }

            if (keys[j].type != type) {
                continue;
            }

            tried++;

            rc = ngx_http_scim_jwt_verify(&keys[j], signed_data, signed_len,
                                          sig->data, sig->len);
            if (rc != NGX_DECLINED) {
                return rc;
            }
        }
    }

    if (kid && !kid_seen) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's \"kid\" is of no key "
                      "of scim_oauth_jwks");

    } else if (tried == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's \"alg\" %s does not "
                      "fit the type of its key", json_string_value(alg));

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's signature does not "
                      "verify");
    }

    return NGX_DECLINED;
}


/* NGX_OK: the signature is the key's; NGX_DECLINED: it is not */

static ngx_int_t
ngx_http_scim_jwt_verify(ngx_http_scim_jwk_t *key, u_char *data, size_t len,
    u_char *sig, size_t siglen)
{
    int            n;
    u_char        *der, *p;
    BIGNUM        *br, *bs;
    ngx_int_t      rc;
    ECDSA_SIG     *es;
    EVP_MD_CTX    *md;

    der = NULL;

    if (key->type == NGX_HTTP_SCIM_JWK_EC) {

        /* JWS: r | s, 32 bytes each; OpenSSL: DER */

        es = ECDSA_SIG_new();
        br = BN_bin2bn(sig, 32, NULL);
        bs = BN_bin2bn(sig + 32, 32, NULL);

        if (es == NULL || br == NULL || bs == NULL
            || ECDSA_SIG_set0(es, br, bs) != 1)
        {
            ECDSA_SIG_free(es);
            BN_free(br);
            BN_free(bs);
            return NGX_ERROR;
        }

        n = i2d_ECDSA_SIG(es, NULL);

        der = (n > 0) ? OPENSSL_malloc(n) : NULL;
        p = der;

        if (der == NULL || i2d_ECDSA_SIG(es, &p) != n) {
            ECDSA_SIG_free(es);
            OPENSSL_free(der);
            return NGX_ERROR;
        }

        ECDSA_SIG_free(es);

        sig = der;
        siglen = n;
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        OPENSSL_free(der);
        return NGX_ERROR;
    }

    rc = NGX_DECLINED;

    if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1
        && EVP_DigestVerify(md, sig, siglen, data, len) == 1)
    {
        rc = NGX_OK;
    }

    EVP_MD_CTX_free(md);
    OPENSSL_free(der);

    /* a wrong signature leaves errors in OpenSSL's queue: not ours */

    ERR_clear_error();

    return rc;
}


/* the time claims, then the "jwt" line of iss, sub and aud */

static ngx_int_t
ngx_http_scim_jwt_claims(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, json_t *claims, ngx_str_t *client_id,
    ngx_http_scim_oauth_client_t *client)
{
    double                       now, exp, nbf, iat, leeway;
    json_t                      *iss, *sub, *aud, *a;
    size_t                       k;
    ngx_uint_t                   i, other;
    ngx_http_scim_jwt_client_t  *c, *matched, *expired;

    now = (double) ngx_time();
    leeway = (double) slcf->oauth_jwt_leeway;

    if (ngx_http_scim_jwt_time(claims, "exp", &exp) != NGX_OK
        || ngx_http_scim_jwt_time(claims, "nbf", &nbf) != NGX_OK
        || ngx_http_scim_jwt_time(claims, "iat", &iat) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's \"exp\", \"nbf\" or "
                      "\"iat\" is not a number");
        return NGX_DECLINED;
    }

    if (exp < 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion without \"exp\"");
        return NGX_DECLINED;
    }

    if (exp + leeway <= now) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion expired %T s ago",
                      (time_t) (now - exp));
        return NGX_DECLINED;
    }

    if (nbf > now + leeway || iat > now + leeway) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion's \"nbf\" or \"iat\" "
                      "is in the future");
        return NGX_DECLINED;
    }

    iss = json_object_get(claims, "iss");
    sub = json_object_get(claims, "sub");
    aud = json_object_get(claims, "aud");

    if (!json_is_string(iss) || !json_is_string(sub)
        || !(json_is_string(aud) || json_is_array(aud)))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim oauth: client assertion without \"iss\", "
                      "\"sub\" or \"aud\"");
        return NGX_DECLINED;
    }

    matched = NULL;
    expired = NULL;
    other = 0;
    c = slcf->oauth_jwt_clients->elts;

    for (i = 0; i < slcf->oauth_jwt_clients->nelts; i++) {
        if (!ngx_http_scim_jwt_eq(iss, &c[i].iss)
            || !ngx_http_scim_jwt_eq(sub, &c[i].sub))
        {
            continue;
        }

        if (json_is_string(aud)) {
            if (!ngx_http_scim_jwt_eq(aud, &c[i].aud)) {
                continue;
            }

        } else {
            json_array_foreach(aud, k, a) {
                if (ngx_http_scim_jwt_eq(a, &c[i].aud)) {
                    break;
                }
            }

            if (k == json_array_size(aud)) {
                continue;
            }
        }

        if (client_id
            && (client_id->len != c[i].client_id.len
                || ngx_memcmp(client_id->data, c[i].client_id.data,
                              client_id->len)
                   != 0))
        {
            other = 1;
            continue;
        }

        if (c[i].expires && c[i].expires <= ngx_time()) {
            expired = &c[i];
            continue;
        }

        matched = &c[i];
        break;
    }

    if (!matched) {
        if (expired) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "scim oauth: client assertion: the \"jwt\" line "
                          "of client \"%V\" has expired",
                          &expired->client_id);

        } else if (other) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "scim oauth: client assertion of another client "
                          "than client_id \"%V\"", client_id);

        } else {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "scim oauth: client assertion's \"iss\", \"sub\" "
                          "and \"aud\" are of no \"jwt\" client");
        }

        return NGX_DECLINED;
    }

    ngx_memzero(client, sizeof(ngx_http_scim_oauth_client_t));
    client->tenant = matched->tenant;
    client->client_id = matched->client_id;
    client->expires = matched->expires;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "scim oauth: client \"%V\": client assertion accepted",
                  &client->client_id);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_scim_jwt_eq(json_t *v, ngx_str_t *s)
{
    return json_is_string(v)
           && json_string_length(v) == s->len
           && ngx_memcmp(json_string_value(v), s->data, s->len) == 0;
}


/* a NumericDate claim: *t, or -1 if absent; NGX_ERROR if not a number */

static ngx_int_t
ngx_http_scim_jwt_time(json_t *claims, const char *name, double *t)
{
    json_t  *v;

    v = json_object_get(claims, name);

    if (v == NULL) {
        *t = -1;
        return NGX_OK;
    }

    if (!json_is_number(v) || json_number_value(v) < 0) {
        return NGX_ERROR;
    }

    *t = json_number_value(v);

    return NGX_OK;
}


/*
 * A "jwt" line of scim_oauth_clients, but for "expires=" (done by the
 * caller): field[0] tenant, field[1] client id, field[2] "jwt", then
 * iss=, sub=, aud= in any order.  NULL, or what is wrong with it.
 */

char *
ngx_http_scim_jwt_client_line(ngx_conf_t *cf, ngx_array_t **clients,
    ngx_str_t *field, ngx_uint_t n, time_t expires)
{
    ngx_str_t                   *v;
    ngx_uint_t                   i;
    ngx_http_scim_jwt_client_t  *c, jc;

    if (field[0].len > 255
        || !ngx_scim_store_valid_tenant(field[0].data, field[0].len))
    {
        return "invalid tenant (empty, longer than 255 or with braces)";
    }

    if (field[1].len > 255) {
        return "client id longer than 255";
    }

    ngx_memzero(&jc, sizeof(ngx_http_scim_jwt_client_t));

    for (i = 3; i < n; i++) {
        if (field[i].len > 4 && ngx_strncmp(field[i].data, "iss=", 4) == 0) {
            v = &jc.iss;

        } else if (field[i].len > 4
                   && ngx_strncmp(field[i].data, "sub=", 4) == 0)
        {
            v = &jc.sub;

        } else if (field[i].len > 4
                   && ngx_strncmp(field[i].data, "aud=", 4) == 0)
        {
            v = &jc.aud;

        } else {
            return "expected \"<tenant> <client_id> jwt iss=<issuer> "
                   "sub=<subject> aud=<audience> [expires=YYYY-MM-DD]\"";
        }

        if (v->data) {
            return "\"iss=\", \"sub=\" or \"aud=\" is repeated";
        }

        if (field[i].len - 4 > 1024) {
            return "\"iss=\", \"sub=\" or \"aud=\" longer than 1024";
        }

        v->len = field[i].len - 4;
        v->data = ngx_pnalloc(cf->pool, v->len);
        if (v->data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(v->data, field[i].data + 4, v->len);
    }

    if (jc.iss.data == NULL || jc.sub.data == NULL || jc.aud.data == NULL) {
        return "a \"jwt\" line needs \"iss=\", \"sub=\" and \"aud=\"";
    }

    jc.tenant.len = field[0].len;
    jc.tenant.data = ngx_pstrdup(cf->pool, &field[0]);
    jc.client_id.len = field[1].len;
    jc.client_id.data = ngx_pstrdup(cf->pool, &field[1]);
    jc.expires = expires;

    if (jc.tenant.data == NULL || jc.client_id.data == NULL) {
        return NGX_CONF_ERROR;
    }

    if (*clients == NULL) {
        *clients = ngx_array_create(cf->pool, 2,
                                    sizeof(ngx_http_scim_jwt_client_t));
        if (*clients == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    c = ngx_array_push(*clients);
    if (c == NULL) {
        return NGX_CONF_ERROR;
    }

    *c = jc;

    return NULL;
}


/* from ngx_http_scim_oauth_merge(), for every location */

char *
ngx_http_scim_jwt_merge(ngx_conf_t *cf, ngx_http_scim_loc_conf_t *prev,
    ngx_http_scim_loc_conf_t *conf)
{
    ngx_conf_merge_ptr_value(conf->oauth_jwt_clients,
                             prev->oauth_jwt_clients, NULL);
    ngx_conf_merge_ptr_value(conf->oauth_jwks, prev->oauth_jwks, NULL);
    ngx_conf_merge_sec_value(conf->oauth_jwks_refresh,
                             prev->oauth_jwks_refresh, 60);
    ngx_conf_merge_sec_value(conf->oauth_jwt_leeway, prev->oauth_jwt_leeway,
                             60);

    if (!conf->oauth_endpoint) {
        return NGX_CONF_OK;
    }

    if (conf->oauth_jwt_clients && conf->oauth_jwks == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"scim_oauth_token\": \"jwt\" clients in "
                      "\"scim_oauth_clients\" need \"scim_oauth_jwks\"");
        return NGX_CONF_ERROR;
    }

    if (conf->oauth_jwt_leeway > 600) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"scim_oauth_jwt_leeway\" must be at most 10m");
        return NGX_CONF_ERROR;
    }

    ngx_http_scim_jwks_refresh(conf->oauth_jwks, conf->oauth_jwks_refresh);

    return NGX_CONF_OK;
}
