
/*
 * ngx_http_scim_module: bearer tokens, resource ids (passwords:
 * ngx_http_scim_password.c).
 *
 * Tokens are kept only as SHA-256 digests; a presented token is hashed
 * and compared with every configured digest in constant time, so that
 * neither the comparison nor the number of tokens leaks timing about
 * the secret.  No token ever reaches a log line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_monitor.h"


#define NGX_HTTP_SCIM_RANDOM_BATCH  1024


static ngx_int_t ngx_http_scim_auth_refused(ngx_http_request_t *r,
    ngx_uint_t reason, const char *why);


/* the random bytes of resource ids (ngx_http_scim_random_id()) */

static u_char     ngx_http_scim_rnd[NGX_HTTP_SCIM_RANDOM_BATCH];
static size_t     ngx_http_scim_rnd_left;
static ngx_pid_t  ngx_http_scim_rnd_pid;


ngx_int_t
ngx_http_scim_load_tokens(ngx_conf_t *cf, ngx_str_t *file,
    ngx_array_t **tokens, ngx_flag_t *bound)
{
    u_char       *buf, *p, *last, *line, *end, *digest, *sp;
    size_t        size;
    ssize_t       n;
    ngx_fd_t      fd;
    ngx_uint_t    lineno;
    ngx_file_t    f;
    ngx_array_t  *a;

    ngx_http_scim_token_t  *t;

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "scim_bearer_token_file \"%V\": "
                           ngx_open_file_n " failed", file);
        return NGX_ERROR;
    }

    ngx_memzero(&f, sizeof(ngx_file_t));
    f.fd = fd;
    f.name = *file;
    f.log = cf->log;

    if (ngx_fd_info(fd, &f.info) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "scim_bearer_token_file \"%V\": "
                           ngx_fd_info_n " failed", file);
        goto failed;
    }

    if (ngx_is_dir(&f.info)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "scim_bearer_token_file \"%V\": is a directory, "
                           "not a file", file);
        goto failed;
    }

    size = (size_t) ngx_file_size(&f.info);

    if (size > 1024 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "scim_bearer_token_file \"%V\": too large", file);
        goto failed;
    }

    buf = ngx_pnalloc(cf->temp_pool, size + 1);
    if (buf == NULL) {
        goto failed;
    }

    n = ngx_read_file(&f, buf, size, 0);
    if (n == NGX_ERROR) {
        goto failed;
    }

    ngx_close_file(fd);
    fd = NGX_INVALID_FILE;

    a = ngx_array_create(cf->pool, 4, sizeof(ngx_http_scim_token_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    last = buf + n;
    lineno = 0;
    *bound = 0;

    for (p = buf; p < last; p = end + 1) {
        lineno++;

        end = ngx_strlchr(p, last, '\n');
        if (end == NULL) {
            end = last;
        }

        line = p;

        while (line < end && (*line == ' ' || *line == '\t')) {
            line++;
        }

        p = end;

        while (p > line && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r'))
        {
            p--;
        }

        if (p == line || *line == '#') {
            continue;
        }

        t = ngx_array_push(a);
        if (t == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(t, sizeof(ngx_http_scim_token_t));
        digest = t->digest;

        /* "<tenant> <token>": the token opens that tenant only */

        for (sp = line; sp < p && *sp != ' ' && *sp != '\t'; sp++) {
            /* void */
        }

        if (sp - line == 6 && ngx_strncasecmp(line, (u_char *) "Bearer", 6)
                              == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "scim_bearer_token_file \"%V\": line %ui: "
                               "write the token without \"Bearer \" "
                               "(the client sends \"Bearer\", the file "
                               "holds the token or its hash)",
                               file, lineno);
            return NGX_ERROR;
        }

        if (sp < p) {
            t->tenant.len = sp - line;
            t->tenant.data = ngx_pstrdup(cf->pool, &(ngx_str_t) {
                                             sp - line, line });
            if (t->tenant.data == NULL) {
                return NGX_ERROR;
            }

            line = sp;

            while (line < p && (*line == ' ' || *line == '\t')) {
                line++;
            }

            for (sp = line; sp < p; sp++) {
                if (*sp == ' ' || *sp == '\t') {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "scim_bearer_token_file \"%V\": "
                                       "line %ui: expected \"<token>\" or "
                                       "\"<tenant> <token>\"", file, lineno);
                    return NGX_ERROR;
                }
            }

            *bound = 1;
        }

        if (p - line > 7 && ngx_strncmp(line, "sha256:", 7) == 0) {
            if (p - line - 7 != 64
                || ngx_http_scim_hex_decode(digest, line + 7, 64) != NGX_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "scim_bearer_token_file \"%V\": line %ui: "
                                   "\"sha256:\" needs 64 hex digits",
                                   file, lineno);
                return NGX_ERROR;
            }

            continue;
        }

        if (p - line < 16) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "scim_bearer_token_file \"%V\": line %ui: "
                               "token shorter than 16 characters",
                               file, lineno);
            return NGX_ERROR;
        }

        SHA256(line, p - line, digest);
    }

    if (a->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "scim_bearer_token_file \"%V\": no token in it",
                           file);
        return NGX_ERROR;
    }

    *tokens = a;

    return NGX_OK;

failed:

    if (fd != NGX_INVALID_FILE) {
        ngx_close_file(fd);
    }

    return NGX_ERROR;
}


/* a 401: its reason at info (never token material), and counted */

static ngx_int_t
ngx_http_scim_auth_refused(ngx_http_request_t *r, ngx_uint_t reason,
    const char *why)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "scim: 401: %s", why);

    ngx_http_scim_stat_auth_fail(reason);

    return NGX_DECLINED;
}


/*
 * NGX_OK, or NGX_DECLINED: not authenticated.  A token bound to a tenant
 * ("<tenant> <token>" in the file) opens that tenant only: the location's
 * scim_tenant is evaluated for it.  With scim_oauth_key, an access token
 * of the token endpoint is accepted too, for its own tenant; one that is
 * ours but expired or of another tenant marks the context invalid_token
 * (the 401 says error="invalid_token").  An access token of a client in
 * Redis, and with scim_redis_credentials a token in no file, are looked
 * up in Redis (ngx_http_scim_rcred.c): NGX_AGAIN then, or NGX_BUSY.
 */

ngx_int_t
ngx_http_scim_authenticate(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf)
{
    u_char                  *p, *last;
    u_char                   digest[NGX_HTTP_SCIM_TOKEN_LEN];
    uint64_t                 iat;
    ngx_int_t                rc;
    ngx_str_t                tenant, client;
    ngx_uint_t               i, match, same, other, equal;
    ngx_table_elt_t         *h;
    ngx_http_scim_ctx_t     *ctx;
    ngx_http_scim_token_t   *t;

    if (slcf->auth_off) {
        return NGX_OK;
    }

    h = r->headers_in.authorization;

    if (h == NULL
        || (slcf->tokens == NULL && slcf->oauth_keys == NULL && !slcf->rcred))
    {
        return ngx_http_scim_auth_refused(r, NGX_HTTP_SCIM_AUTH_NO_TOKEN,
                                          "no Authorization header");
        return NGX_DECLINED;
    }

    p = h->value.data;
    last = p + h->value.len;

    if (last - p < 7 || ngx_strncasecmp(p, (u_char *) "Bearer ", 7) != 0) {
        return ngx_http_scim_auth_refused(r, NGX_HTTP_SCIM_AUTH_NO_TOKEN,
                                          "the Authorization header is not "
                                          "\"Bearer <token>\"");
    }

    p += 7;

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && last[-1] == ' ') {
        last--;
    }

    if (p == last) {
        return ngx_http_scim_auth_refused(r, NGX_HTTP_SCIM_AUTH_NO_TOKEN,
                                          "an empty bearer token");
    }

    ngx_str_set(&tenant, "default");

    if ((slcf->tokens_bound || slcf->oauth_keys || slcf->rcred)
        && slcf->tenant
        && ngx_http_complex_value(r, slcf->tenant, &tenant) != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = NGX_DECLINED;

    if (slcf->oauth_keys) {
        rc = ngx_http_scim_oauth_verify(r, slcf, p, last, &tenant, &client,
                                        &iat);

        if (rc == NGX_OK) {
            ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);
            if (ctx == NULL) {
                return NGX_ERROR;
            }

            ctx->client = client;

            if (iat == 0) {
                return NGX_OK;
            }

            /* a client of Redis: still there, its tokens not revoked */

            rc = ngx_http_scim_rcred_access(ctx, &tenant, &client, iat);

            if (rc == NGX_DECLINED) {
                ctx->invalid_token = 1;
                return ngx_http_scim_auth_refused(r,
                                          NGX_HTTP_SCIM_AUTH_INVALID_ACCESS,
                                          "an access token of a Redis "
                                          "client, revoked");
            }

            return rc;
        }

        if (rc == NGX_ABORT) {
            ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);
            if (ctx) {
                ctx->invalid_token = 1;
            }

            ngx_http_scim_stat_auth_fail(NGX_HTTP_SCIM_AUTH_INVALID_ACCESS);
            return NGX_DECLINED;
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    if (slcf->tokens == NULL && (rc == NGX_DONE || !slcf->rcred)) {
        goto invalid;
    }

    ngx_http_scim_token_digest(p, last - p, digest);

    /* every token compared, in constant time, whatever matches */

    match = 0;
    other = 0;
    t = slcf->tokens ? slcf->tokens->elts : NULL;

    for (i = 0; t && i < slcf->tokens->nelts; i++) {
        same = (t[i].tenant.len == 0
                || (t[i].tenant.len == tenant.len
                    && ngx_memcmp(t[i].tenant.data, tenant.data, tenant.len)
                       == 0));

        equal = (CRYPTO_memcmp(digest, t[i].digest, NGX_HTTP_SCIM_TOKEN_LEN)
                 == 0);

        match |= equal & same;
        other |= equal & !same;
    }

    if (match) {
        return NGX_OK;
    }

    if (other) {
        return ngx_http_scim_auth_refused(r, NGX_HTTP_SCIM_AUTH_OTHER_TENANT,
                                          "a bearer token of another tenant "
                                          "(bound to it in the token file)");
    }

    if (rc == NGX_DONE) {
        goto invalid;
    }

    if (slcf->rcred) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        rc = ngx_http_scim_rcred_token(ctx, &tenant, digest);

        if (rc == NGX_DECLINED) {
            return ngx_http_scim_auth_refused(r,
                                              NGX_HTTP_SCIM_AUTH_UNKNOWN_TOKEN,
                                              "a bearer token of the "
                                              "tenant's Redis credentials, "
                                              "expired");
        }

        return rc;
    }

    return ngx_http_scim_auth_refused(r, NGX_HTTP_SCIM_AUTH_UNKNOWN_TOKEN,
                                      "a bearer token in no token file");

invalid:

    /* not a bearer file token: an access token not signed by our keys */

    ngx_http_scim_stat_auth_fail(NGX_HTTP_SCIM_AUTH_INVALID_ACCESS);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "scim: bearer token not signed by any scim_oauth_key");

    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);
    if (ctx) {
        ctx->invalid_token = 1;
    }

    return NGX_DECLINED;
}


/*
 * A new resource's id: a version 4 UUID from OpenSSL's generator.  Its
 * bytes come 1 KB at a time (RAND_bytes() costs about as much for 16
 * bytes as for 1,024: its locks and checks were 5% of a POST's worker
 * CPU); the bytes handed out are zeroed, and a buffer filled by another
 * process (before a fork) is never used.  Event loop only.
 */

void
ngx_http_scim_random_id(u_char *buf)
{
    u_char  *p, rnd[16], hex[32];

    if (ngx_http_scim_rnd_pid != ngx_pid) {
        ngx_http_scim_rnd_pid = ngx_pid;
        ngx_http_scim_rnd_left = 0;
    }

    if (ngx_http_scim_rnd_left < sizeof(rnd)) {
        ngx_http_scim_rnd_left = 0;

        if (RAND_bytes(ngx_http_scim_rnd, sizeof(ngx_http_scim_rnd)) == 1) {
            ngx_http_scim_rnd_left = sizeof(ngx_http_scim_rnd);
        }
    }

    if (ngx_http_scim_rnd_left >= sizeof(rnd)) {
        p = ngx_http_scim_rnd + sizeof(ngx_http_scim_rnd)
            - ngx_http_scim_rnd_left;
        ngx_memcpy(rnd, p, sizeof(rnd));
        ngx_memzero(p, sizeof(rnd));
        ngx_http_scim_rnd_left -= sizeof(rnd);

    } else {
        /* not expected; ngx_random() is still unique enough with time */
        *(uint32_t *) &rnd[0] = (uint32_t) ngx_random();
        *(uint32_t *) &rnd[4] = (uint32_t) ngx_random();
        *(uint32_t *) &rnd[8] = (uint32_t) ngx_time();
        *(uint32_t *) &rnd[12] = (uint32_t) ngx_random();
    }

    rnd[6] = (rnd[6] & 0x0f) | 0x40;
    rnd[8] = (rnd[8] & 0x3f) | 0x80;

    ngx_hex_dump(hex, rnd, sizeof(rnd));

    ngx_sprintf(buf, "%*s-%*s-%*s-%*s-%*s",
                (size_t) 8, hex, (size_t) 4, hex + 8, (size_t) 4, hex + 12,
                (size_t) 4, hex + 16, (size_t) 12, hex + 20);
}
