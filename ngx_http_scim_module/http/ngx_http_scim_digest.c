
/*
 * ngx_http_scim_module: the digests that the bearer tokens (auth.c) and
 * the OAuth client secrets (oauth.c) share.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
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
 * SHA-256 with the digest fetched once per worker and one context
 * reused: OpenSSL 3's SHA256() fetches the algorithm from the provider
 * (under a lock) and allocates a context on every call, which cost a
 * request about as much as the hash itself
 */

void
ngx_http_scim_sha256(u_char *p, size_t len, u_char *digest)
{
    static EVP_MD      *md;
    static EVP_MD_CTX  *ctx;
    static ngx_uint_t   failed;

    if (ctx == NULL && !failed) {
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
        ctx = EVP_MD_CTX_new();

        if (md == NULL || ctx == NULL) {
            EVP_MD_free(md);
            EVP_MD_CTX_free(ctx);
            md = NULL;
            ctx = NULL;
            failed = 1;
        }
    }

    if (ctx == NULL
        || EVP_DigestInit_ex2(ctx, md, NULL) != 1
        || EVP_DigestUpdate(ctx, p, len) != 1
        || EVP_DigestFinal_ex(ctx, digest, NULL) != 1)
    {
        SHA256(p, len, digest);
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
