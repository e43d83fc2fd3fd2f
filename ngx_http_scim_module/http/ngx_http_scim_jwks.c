
/*
 * ngx_http_scim_module: JSON Web Key Sets (RFC 7517) for the client
 * assertions of workload identity federation (ngx_http_scim_jwt.c).
 *
 * "scim_oauth_jwks <file>" reads a JWKS when the configuration is read:
 * RSA keys (RS256) and EC P-256 keys (ES256) become OpenSSL keys once,
 * never per request.  A file named in several places is read once.  Each
 * worker looks at the file's inode, size and mtime every
 * "scim_oauth_jwks_refresh" (default 60s, 0: never) and reads it again
 * when one of them changed; a bad new file keeps the keys it had.  The
 * file is local and small (256 KB at most): reading it costs about what
 * a stat does, and the fetch from the identity provider is done outside
 * nginx (tools/scim-jwks-fetch).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_JWKS_MAX       (256 * 1024)
#define NGX_HTTP_SCIM_JWKS_MAX_KEYS  64
#define NGX_HTTP_SCIM_JWK_MAX_N      1024       /* 8192-bit RSA */


typedef struct {
    ngx_pool_t                 *pool;          /* the set, its keys */
    ngx_http_scim_jwk_t        *keys;
    ngx_uint_t                  nkeys;
} ngx_http_scim_jwk_set_t;


struct ngx_http_scim_jwks_s {
    ngx_str_t                   name;
    ngx_file_uniq_t             uniq;          /* of the file last looked */
    off_t                       size;          /* at, read or not */
    time_t                      mtime;
    time_t                      refresh;       /* 0: never */
    ngx_http_scim_jwk_set_t    *set;
    ngx_event_t                 event;
    ngx_log_t                  *log;
};


typedef struct ngx_http_scim_jwks_list_s  ngx_http_scim_jwks_list_t;

struct ngx_http_scim_jwks_list_s {
    ngx_cycle_t                *cycle;
    ngx_array_t                 files;         /* ngx_http_scim_jwks_t * */
    ngx_http_scim_jwks_list_t  *prev;          /* of the running cycle */
};


static ngx_http_scim_jwk_set_t *ngx_http_scim_jwks_load(
    ngx_http_scim_jwks_t *jwks, ngx_uint_t level, ngx_log_t *log);
static ngx_int_t ngx_http_scim_jwks_key(ngx_http_scim_jwk_set_t *set,
    json_t *k, ngx_str_t *name, ngx_uint_t index, ngx_log_t *log);
static EVP_PKEY *ngx_http_scim_jwks_rsa(json_t *k);
static EVP_PKEY *ngx_http_scim_jwks_ec(json_t *k);
static ngx_int_t ngx_http_scim_jwks_b64(json_t *k, const char *name,
    u_char *buf, size_t max, size_t *len);
static void ngx_http_scim_jwks_set_free(ngx_http_scim_jwk_set_t *set);
static void ngx_http_scim_jwks_pkeys_free(void *data);
static void ngx_http_scim_jwks_cleanup(void *data);
static void ngx_http_scim_jwks_timer(ngx_event_t *ev);


/* the files of the configuration being read, then of the running one */
static ngx_http_scim_jwks_list_t  *ngx_http_scim_jwks_list;


/* scim_oauth_jwks <file>: repeatable */

char *
ngx_http_scim_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t                   *value;
    ngx_uint_t                   i;
    ngx_file_info_t              fi;
    ngx_pool_cleanup_t          *cln;
    ngx_http_scim_jwks_t        *jwks, **f;
    ngx_http_scim_jwks_list_t   *list;

    value = cf->args->elts;

    if (ngx_conf_full_name(cf->cycle, &value[1], 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    list = ngx_http_scim_jwks_list;

    if (list == NULL || list->cycle != cf->cycle) {
        list = ngx_pcalloc(cf->cycle->pool,
                           sizeof(ngx_http_scim_jwks_list_t));
        if (list == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_array_init(&list->files, cf->cycle->pool, 2,
                           sizeof(ngx_http_scim_jwks_t *))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->cycle->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        list->cycle = cf->cycle;
        list->prev = ngx_http_scim_jwks_list;
        cln->handler = ngx_http_scim_jwks_cleanup;
        cln->data = list;

        ngx_http_scim_jwks_list = list;
    }

    jwks = NULL;
    f = list->files.elts;

    for (i = 0; i < list->files.nelts; i++) {
        if (f[i]->name.len == value[1].len
            && ngx_strncmp(f[i]->name.data, value[1].data, value[1].len) == 0)
        {
            jwks = f[i];
            break;
        }
    }

    if (jwks == NULL) {
        jwks = ngx_pcalloc(cf->cycle->pool, sizeof(ngx_http_scim_jwks_t));
        if (jwks == NULL) {
            return NGX_CONF_ERROR;
        }

        jwks->name = value[1];

        if (ngx_file_info(jwks->name.data, &fi) == NGX_FILE_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "scim_oauth_jwks \"%V\": "
                               ngx_file_info_n " failed", &jwks->name);
            return NGX_CONF_ERROR;
        }

        jwks->uniq = ngx_file_uniq(&fi);
        jwks->size = ngx_file_size(&fi);
        jwks->mtime = ngx_file_mtime(&fi);

        jwks->set = ngx_http_scim_jwks_load(jwks, NGX_LOG_EMERG, cf->log);
        if (jwks->set == NULL) {
            return NGX_CONF_ERROR;
        }

        f = ngx_array_push(&list->files);
        if (f == NULL) {
            ngx_http_scim_jwks_set_free(jwks->set);
            return NGX_CONF_ERROR;
        }

        *f = jwks;
    }

    if (slcf->oauth_jwks == NGX_CONF_UNSET_PTR) {
        slcf->oauth_jwks = ngx_array_create(cf->pool, 1,
                                            sizeof(ngx_http_scim_jwks_t *));
        if (slcf->oauth_jwks == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    f = slcf->oauth_jwks->elts;

    for (i = 0; i < slcf->oauth_jwks->nelts; i++) {
        if (f[i] == jwks) {
            return "names the same file twice";
        }
    }

    f = ngx_array_push(slcf->oauth_jwks);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    *f = jwks;

    return NGX_CONF_OK;
}


/* a token endpoint's files: the shortest refresh of those that have one */

void
ngx_http_scim_jwks_refresh(ngx_array_t *files, time_t refresh)
{
    ngx_uint_t              i;
    ngx_http_scim_jwks_t  **f;

    if (files == NULL || refresh <= 0) {
        return;
    }

    f = files->elts;

    for (i = 0; i < files->nelts; i++) {
        if (f[i]->refresh == 0 || refresh < f[i]->refresh) {
            f[i]->refresh = refresh;
        }
    }
}


ngx_http_scim_jwk_t *
ngx_http_scim_jwks_keys(ngx_http_scim_jwks_t *jwks, ngx_uint_t *n)
{
    *n = jwks->set->nkeys;

    return jwks->set->keys;
}


ngx_int_t
ngx_http_scim_jwks_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                   i;
    ngx_http_scim_jwks_t       **f;
    ngx_http_scim_jwks_list_t   *list;

    list = ngx_http_scim_jwks_list;

    if (list == NULL || list->cycle != cycle) {
        return NGX_OK;
    }

    f = list->files.elts;

    for (i = 0; i < list->files.nelts; i++) {
        if (f[i]->refresh == 0) {
            continue;
        }

        f[i]->log = cycle->log;
        f[i]->event.handler = ngx_http_scim_jwks_timer;
        f[i]->event.data = f[i];
        f[i]->event.log = cycle->log;
        f[i]->event.cancelable = 1;

        ngx_add_timer(&f[i]->event, (ngx_msec_t) f[i]->refresh * 1000);
    }

    return NGX_OK;
}


static void
ngx_http_scim_jwks_timer(ngx_event_t *ev)
{
    ngx_http_scim_jwks_t  *jwks = ev->data;

    ngx_file_info_t           fi;
    ngx_http_scim_jwk_set_t  *set;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    /* the key set outlives requests: never from a request's pool */
    ngx_http_scim_json_pool_check(ev->log);

    if (ngx_file_info(jwks->name.data, &fi) == NGX_FILE_ERROR) {
        /* gone (between a fetch's unlink and rename?): the old keys */

        if (jwks->size != -1) {
            ngx_log_error(NGX_LOG_ERR, jwks->log, ngx_errno,
                          "scim_oauth_jwks \"%V\": " ngx_file_info_n
                          " failed, the keys read before stay",
                          &jwks->name);
            jwks->size = -1;
        }

    } else if (ngx_file_uniq(&fi) != jwks->uniq
               || ngx_file_size(&fi) != jwks->size
               || ngx_file_mtime(&fi) != jwks->mtime)
    {
        jwks->uniq = ngx_file_uniq(&fi);
        jwks->size = ngx_file_size(&fi);
        jwks->mtime = ngx_file_mtime(&fi);

        set = ngx_http_scim_jwks_load(jwks, NGX_LOG_ERR, jwks->log);

        if (set == NULL) {
            ngx_log_error(NGX_LOG_ERR, jwks->log, 0,
                          "scim_oauth_jwks \"%V\": the keys read before "
                          "stay", &jwks->name);

        } else {
            ngx_log_error(NGX_LOG_NOTICE, jwks->log, 0,
                          "scim_oauth_jwks \"%V\": reread, %ui key(s)",
                          &jwks->name, set->nkeys);

            ngx_http_scim_jwks_set_free(jwks->set);
            jwks->set = set;
        }
    }

    ngx_add_timer(ev, (ngx_msec_t) jwks->refresh * 1000);
}


/* the file read and its usable keys made; NULL (and logged) if none */

static ngx_http_scim_jwk_set_t *
ngx_http_scim_jwks_load(ngx_http_scim_jwks_t *jwks, ngx_uint_t level,
    ngx_log_t *log)
{
    u_char                   *buf;
    size_t                    i;
    ssize_t                   n;
    ngx_fd_t                  fd;
    ngx_file_t                file;
    json_t                   *root, *keys;
    ngx_pool_t               *pool;
    json_error_t              err;
    ngx_pool_cleanup_t       *cln;
    ngx_http_scim_jwk_set_t  *set;

    fd = ngx_open_file(jwks->name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(level, log, ngx_errno,
                      "scim_oauth_jwks \"%V\": " ngx_open_file_n " failed",
                      &jwks->name);
        return NULL;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = jwks->name;
    file.log = log;

    if (ngx_fd_info(fd, &file.info) == NGX_FILE_ERROR) {
        ngx_log_error(level, log, ngx_errno,
                      "scim_oauth_jwks \"%V\": " ngx_fd_info_n " failed",
                      &jwks->name);
        ngx_close_file(fd);
        return NULL;
    }

    if (ngx_file_size(&file.info) > NGX_HTTP_SCIM_JWKS_MAX) {
        ngx_log_error(level, log, 0,
                      "scim_oauth_jwks \"%V\": larger than 256 KB",
                      &jwks->name);
        ngx_close_file(fd);
        return NULL;
    }

    buf = ngx_alloc(NGX_HTTP_SCIM_JWKS_MAX + 1, log);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NULL;
    }

    n = ngx_read_file(&file, buf, NGX_HTTP_SCIM_JWKS_MAX + 1, 0);

    ngx_close_file(fd);

    if (n == NGX_ERROR || n > NGX_HTTP_SCIM_JWKS_MAX) {
        ngx_log_error(level, log, 0,
                      "scim_oauth_jwks \"%V\": cannot be read whole",
                      &jwks->name);
        ngx_free(buf);
        return NULL;
    }

    root = json_loadb((char *) buf, n, JSON_REJECT_DUPLICATES, &err);

    ngx_free(buf);

    if (root == NULL) {
        ngx_log_error(level, log, 0,
                      "scim_oauth_jwks \"%V\": not JSON (line %d: %s)",
                      &jwks->name, err.line, err.text);
        return NULL;
    }

    keys = json_object_get(root, "keys");

    if (!json_is_object(root) || !json_is_array(keys)) {
        ngx_log_error(level, log, 0,
                      "scim_oauth_jwks \"%V\": not a JSON Web Key Set "
                      "(an object with a \"keys\" array)", &jwks->name);
        json_decref(root);
        return NULL;
    }

    if (json_array_size(keys) > NGX_HTTP_SCIM_JWKS_MAX_KEYS) {
        ngx_log_error(level, log, 0,
                      "scim_oauth_jwks \"%V\": more than %d keys",
                      &jwks->name, NGX_HTTP_SCIM_JWKS_MAX_KEYS);
        json_decref(root);
        return NULL;
    }

    pool = ngx_create_pool(1024, log);
    if (pool == NULL) {
        json_decref(root);
        return NULL;
    }

    set = ngx_pcalloc(pool, sizeof(ngx_http_scim_jwk_set_t));
    if (set == NULL) {
        goto failed;
    }

    set->pool = pool;

    set->keys = ngx_pcalloc(pool, (json_array_size(keys) + 1)
                                  * sizeof(ngx_http_scim_jwk_t));
    if (set->keys == NULL) {
        goto failed;
    }

    /* the keys made are freed with the pool */

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        goto failed;
    }

    cln->handler = ngx_http_scim_jwks_pkeys_free;
    cln->data = set;

    for (i = 0; i < json_array_size(keys); i++) {
        if (ngx_http_scim_jwks_key(set, json_array_get(keys, i), &jwks->name,
                                   i, log)
            != NGX_OK)
        {
            goto failed;
        }
    }

    json_decref(root);

    if (set->nkeys == 0) {
        ngx_log_error(level, log, 0,
                      "scim_oauth_jwks \"%V\": no usable key (RS256: kty "
                      "\"RSA\" with n and e; ES256: kty \"EC\", crv "
                      "\"P-256\" with x and y)", &jwks->name);
        ngx_destroy_pool(pool);
        return NULL;
    }

    return set;

failed:

    json_decref(root);
    ngx_destroy_pool(pool);

    return NULL;
}


/* one key of "keys": added if usable, skipped with a notice if not */

static ngx_int_t
ngx_http_scim_jwks_key(ngx_http_scim_jwk_set_t *set, json_t *k,
    ngx_str_t *name, ngx_uint_t index, ngx_log_t *log)
{
    json_t               *kty, *use, *alg, *kid, *crv;
    EVP_PKEY             *pkey;
    ngx_uint_t            type;
    const char           *why;
    ngx_http_scim_jwk_t  *key;

    kty = json_object_get(k, "kty");
    use = json_object_get(k, "use");
    alg = json_object_get(k, "alg");
    kid = json_object_get(k, "kid");
    crv = json_object_get(k, "crv");

    pkey = NULL;
    type = 0;
    why = NULL;

    if (!json_is_object(k) || !json_is_string(kty)) {
        why = "not an object with a \"kty\"";

    } else if (use != NULL
               && !(json_is_string(use)
                    && ngx_strcmp(json_string_value(use), "sig") == 0))
    {
        why = "\"use\" is not \"sig\"";

    } else if (kid != NULL
               && (!json_is_string(kid) || json_string_length(kid) > 255))
    {
        why = "\"kid\" is not a string of up to 255 bytes";

    } else if (ngx_strcmp(json_string_value(kty), "RSA") == 0) {
        type = NGX_HTTP_SCIM_JWK_RSA;

        if (alg != NULL
            && !(json_is_string(alg)
                 && ngx_strcmp(json_string_value(alg), "RS256") == 0))
        {
            why = "an RSA key for another \"alg\" than RS256";

        } else {
            pkey = ngx_http_scim_jwks_rsa(k);

            if (pkey == NULL) {
                why = "an RSA key without a valid \"n\" and \"e\"";

            } else if (EVP_PKEY_get_bits(pkey) < 2048) {
                why = "an RSA key of less than 2048 bits";
            }
        }

    } else if (ngx_strcmp(json_string_value(kty), "EC") == 0) {
        type = NGX_HTTP_SCIM_JWK_EC;

        if (!json_is_string(crv)
            || ngx_strcmp(json_string_value(crv), "P-256") != 0)
        {
            why = "an EC key on another curve than P-256";

        } else if (alg != NULL
                   && !(json_is_string(alg)
                        && ngx_strcmp(json_string_value(alg), "ES256")
                           == 0))
        {
            why = "an EC key for another \"alg\" than ES256";

        } else {
            pkey = ngx_http_scim_jwks_ec(k);

            if (pkey == NULL) {
                why = "an EC key without a valid \"x\" and \"y\"";
            }
        }

    } else {
        why = "of an unsupported \"kty\"";
    }

    if (why) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "scim_oauth_jwks \"%V\": key %ui%s%s%s is ignored: %s",
                      name, index, json_is_string(kid) ? " (kid \"" : "",
                      json_is_string(kid) ? json_string_value(kid) : "",
                      json_is_string(kid) ? "\")" : "", why);
        return NGX_OK;
    }

    key = &set->keys[set->nkeys++];

    key->type = type;
    key->pkey = pkey;

    if (json_is_string(kid)) {
        key->kid.len = json_string_length(kid);
        key->kid.data = ngx_pnalloc(set->pool, key->kid.len + 1);
        if (key->kid.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(key->kid.data, json_string_value(kid), key->kid.len);
    }

    return NGX_OK;
}


static EVP_PKEY *
ngx_http_scim_jwks_rsa(json_t *k)
{
    u_char           n[NGX_HTTP_SCIM_JWK_MAX_N + 3], e[8];
    size_t           nlen, elen;
    BIGNUM          *bn, *be;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    if (ngx_http_scim_jwks_b64(k, "n", n, sizeof(n), &nlen) != NGX_OK
        || ngx_http_scim_jwks_b64(k, "e", e, sizeof(e), &elen) != NGX_OK)
    {
        return NULL;
    }

    pkey = NULL;
    params = NULL;
    ctx = NULL;

    bn = BN_bin2bn(n, nlen, NULL);
    be = BN_bin2bn(e, elen, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (bn == NULL || be == NULL || bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
    {
        goto done;
    }

    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);

    if (params == NULL || ctx == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

done:

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);

    return pkey;
}


static EVP_PKEY *
ngx_http_scim_jwks_ec(json_t *k)
{
    u_char        pub[65], x[48], y[48];
    size_t        xlen, ylen;
    EVP_PKEY     *pkey;
    OSSL_PARAM    params[3];
    EVP_PKEY_CTX *ctx;

    /* an uncompressed point: 04 | x | y */

    if (ngx_http_scim_jwks_b64(k, "x", x, sizeof(x), &xlen) != NGX_OK
        || ngx_http_scim_jwks_b64(k, "y", y, sizeof(y), &ylen) != NGX_OK
        || xlen != 32 || ylen != 32)
    {
        return NULL;
    }

    pub[0] = 0x04;
    ngx_memcpy(pub + 1, x, 32);
    ngx_memcpy(pub + 33, y, 32);

    params[0] = OSSL_PARAM_construct_utf8_string(
                    OSSL_PKEY_PARAM_GROUP_NAME, (char *) "prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  pub, sizeof(pub));
    params[2] = OSSL_PARAM_construct_end();

    pkey = NULL;

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

    if (ctx == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);

    return pkey;
}


/*
 * A base64url member of a key into buf, max bytes (the decoder's
 * rounding up included)
 */

static ngx_int_t
ngx_http_scim_jwks_b64(json_t *k, const char *name, u_char *buf,
    size_t max, size_t *len)
{
    json_t     *v;
    ngx_str_t   src, dst;

    v = json_object_get(k, name);

    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > ngx_base64_encoded_length(max)
        || ngx_strlchr((u_char *) json_string_value(v),
                       (u_char *) json_string_value(v)
                       + json_string_length(v), '=')
           != NULL)
    {
        return NGX_ERROR;
    }

    src.data = (u_char *) json_string_value(v);
    src.len = json_string_length(v);

    if (ngx_base64_decoded_length(src.len) > max) {
        return NGX_ERROR;
    }

    dst.data = buf;

    if (ngx_decode_base64url(&dst, &src) != NGX_OK || dst.len == 0) {
        return NGX_ERROR;
    }

    *len = dst.len;

    return NGX_OK;
}


static void
ngx_http_scim_jwks_set_free(ngx_http_scim_jwk_set_t *set)
{
    if (set) {
        /*
         * the log the pool was made with may be gone: at configuration
         * time it is the previous cycle's (ngx_init_cycle() gives
         * cf->log = old_cycle->log), freed by the master after a reload
         */
        set->pool->log = ngx_cycle->log;
        ngx_destroy_pool(set->pool);
    }
}


static void
ngx_http_scim_jwks_pkeys_free(void *data)
{
    ngx_http_scim_jwk_set_t  *set = data;

    ngx_uint_t  i;

    for (i = 0; i < set->nkeys; i++) {
        EVP_PKEY_free(set->keys[i].pkey);
    }
}


/* the cycle's pool is destroyed: its files' keys go with it */

static void
ngx_http_scim_jwks_cleanup(void *data)
{
    ngx_http_scim_jwks_list_t  *list = data;

    ngx_uint_t              i;
    ngx_http_scim_jwks_t  **f;

    f = list->files.elts;

    for (i = 0; i < list->files.nelts; i++) {
        if (f[i]->event.timer_set) {
            ngx_del_timer(&f[i]->event);
        }

        ngx_http_scim_jwks_set_free(f[i]->set);
        f[i]->set = NULL;
    }

    /* a configuration that failed: the running one's files again */

    if (ngx_http_scim_jwks_list == list) {
        ngx_http_scim_jwks_list = list->prev;

    } else if (ngx_http_scim_jwks_list
               && ngx_http_scim_jwks_list->prev == list)
    {
        ngx_http_scim_jwks_list->prev = NULL;
    }
}
