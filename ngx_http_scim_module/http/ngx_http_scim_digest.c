
/*
 * ngx_http_scim_module: the digests that the bearer tokens (auth.c) and
 * the OAuth client secrets (oauth.c) share.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

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
