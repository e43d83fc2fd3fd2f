
/*
 * ngx_http_scim_module: the digests that the bearer tokens (auth.c), the
 * OAuth client secrets and access tokens (oauth.c), the cursors
 * (cursor.c) and the document cache (doccache.c) share.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "ngx_http_scim_module.h"


ngx_int_t
ngx_http_scim_hex_decode(u_char *dst, u_char *src, size_t len)
{
    ngx_int_t  hi, lo;

    while (len >= 2) {
        hi = ngx_hextoi(src, 1);
        lo = ngx_hextoi(src + 1, 1);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        *dst++ = (u_char) (hi * 16 + lo);
        src += 2;
        len -= 2;
    }

    return NGX_OK;
}


/*
 * SHA-256 and SHA-1 with the algorithm fetched once per worker and one
 * context reused each: OpenSSL 3's SHA256() and SHA1() fetch the
 * algorithm from the provider (under a lock) and allocate a context on
 * every call, which cost a request about as much as the hash itself
 */

typedef struct {
    const char                 *name;
    EVP_MD                     *md;
    EVP_MD_CTX                 *ctx;
    ngx_uint_t                  failed;
} ngx_http_scim_md_t;


static ngx_int_t
ngx_http_scim_md(ngx_http_scim_md_t *m, u_char *p, size_t len,
    u_char *digest)
{
    if (m->ctx == NULL && !m->failed) {
        m->md = EVP_MD_fetch(NULL, m->name, NULL);
        m->ctx = EVP_MD_CTX_new();

        if (m->md == NULL || m->ctx == NULL) {
            EVP_MD_free(m->md);
            EVP_MD_CTX_free(m->ctx);
            m->md = NULL;
            m->ctx = NULL;
            m->failed = 1;
        }
    }

    if (m->ctx == NULL
        || EVP_DigestInit_ex2(m->ctx, m->md, NULL) != 1
        || EVP_DigestUpdate(m->ctx, p, len) != 1
        || EVP_DigestFinal_ex(m->ctx, digest, NULL) != 1)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_scim_sha256(u_char *p, size_t len, u_char *digest)
{
    static ngx_http_scim_md_t  m = { "SHA256", NULL, NULL, 0 };

    if (ngx_http_scim_md(&m, p, len, digest) != NGX_OK) {
        SHA256(p, len, digest);
    }
}


/* SHA-1: what a script's redis.sha1hex() gives (the document cache) */

void
ngx_http_scim_sha1(u_char *p, size_t len, u_char *digest)
{
    static ngx_http_scim_md_t  m = { "SHA1", NULL, NULL, 0 };

    if (ngx_http_scim_md(&m, p, len, digest) != NGX_OK) {
        SHA1(p, len, digest);
    }
}


/*
 * A bearer token's digest, from a small table per worker: a client
 * (Entra, a load test) sends the same token on every request, so its
 * SHA-256 is made once.  The slot is chosen by a cheap hash of the token
 * and holds the token itself, compared in constant time, so a slot
 * never gives another token's digest; a new token takes the slot over.
 * Longer tokens than a slot holds are hashed every time.
 */

#define NGX_HTTP_SCIM_TOKEN_SLOTS    64
#define NGX_HTTP_SCIM_TOKEN_SLOT_MAX  128

typedef struct {
    size_t   len;
    u_char   token[NGX_HTTP_SCIM_TOKEN_SLOT_MAX];
    u_char   digest[NGX_HTTP_SCIM_TOKEN_LEN];
} ngx_http_scim_token_slot_t;


void
ngx_http_scim_token_digest(u_char *p, size_t len, u_char *digest)
{
    ngx_http_scim_token_slot_t  *s;

    static ngx_http_scim_token_slot_t  slots[NGX_HTTP_SCIM_TOKEN_SLOTS];

    if (len == 0 || len > NGX_HTTP_SCIM_TOKEN_SLOT_MAX) {
        ngx_http_scim_sha256(p, len, digest);
        return;
    }

    s = &slots[ngx_murmur_hash2(p, len) % NGX_HTTP_SCIM_TOKEN_SLOTS];

    if (s->len == len && CRYPTO_memcmp(s->token, p, len) == 0) {
        ngx_memcpy(digest, s->digest, NGX_HTTP_SCIM_TOKEN_LEN);
        return;
    }

    ngx_http_scim_sha256(p, len, digest);

    s->len = len;
    ngx_memcpy(s->token, p, len);
    ngx_memcpy(s->digest, digest, NGX_HTTP_SCIM_TOKEN_LEN);
}


/*
 * HMAC-SHA256 with one context per key and worker: set up with the key
 * once (HMAC's inner and outer pads), then only reinitialised, so that
 * a check costs the hash and not a fetch of the algorithm and a context
 */

ngx_int_t
ngx_http_scim_hmac(ngx_http_scim_oauth_key_t *key, u_char *p, size_t len,
    u_char *mac)
{
    size_t        outl;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;
    unsigned int  n;

    static EVP_MAC     *hmac;
    static ngx_uint_t   failed;

    ctx = key->mac;

    if (ctx == NULL && !failed) {
        if (hmac == NULL) {
            hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        }

        ctx = (hmac != NULL) ? EVP_MAC_CTX_new(hmac) : NULL;

        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *) "SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();

        if (ctx == NULL
            || EVP_MAC_init(ctx, key->data, key->len, params) != 1)
        {
            EVP_MAC_CTX_free(ctx);
            ctx = NULL;
            failed = 1;

        } else {
            key->mac = ctx;

            if (EVP_MAC_update(ctx, p, len) == 1
                && EVP_MAC_final(ctx, mac, &outl, 32) == 1
                && outl == 32)
            {
                return NGX_OK;
            }
        }

    } else if (ctx != NULL
               && EVP_MAC_init(ctx, NULL, 0, NULL) == 1
               && EVP_MAC_update(ctx, p, len) == 1
               && EVP_MAC_final(ctx, mac, &outl, 32) == 1
               && outl == 32)
    {
        return NGX_OK;
    }

    /* not expected: one-shot */

    if (HMAC(EVP_sha256(), key->data, (int) key->len, p, len, mac, &n)
        == NULL || n != 32)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
