
/*
 * ngx_http_scim_module: the configuration of OAuth 2.0 client
 * credentials (ngx_http_scim_oauth.c is the token endpoint and the
 * access tokens): the scim_oauth_* directives, the clients file and the
 * key files, read and checked when the configuration is.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "ngx_http_scim_module.h"


static ngx_int_t ngx_http_scim_oauth_date(u_char *p, size_t len,
    time_t *t);
static ngx_int_t ngx_http_scim_oauth_read(ngx_conf_t *cf, ngx_str_t *file,
    const char *directive, size_t max, ngx_str_t *out);


char *
ngx_http_scim_oauth_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (slcf->oauth_endpoint) {
        return "is duplicate";
    }

    slcf->oauth_endpoint = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_scim_oauth_handler;

    return NGX_CONF_OK;
}


char *
ngx_http_scim_oauth_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    time_t      t;
    ngx_str_t  *value;

    if (slcf->oauth_ttl != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    t = ngx_parse_time(&value[1], 1);

    if (t == (time_t) NGX_ERROR || t < 60 || t > 86400) {
        return "must be a time from 1m to 24h";
    }

    slcf->oauth_ttl = t;

    return NGX_CONF_OK;
}


/* scim_oauth_key <file>: 32 or more bytes, raw or as hex; repeatable */

char *
ngx_http_scim_oauth_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    u_char                     *p, *last;
    ngx_str_t                  *value, data;
    ngx_uint_t                  hex;
    ngx_http_scim_oauth_key_t  *key;

    value = cf->args->elts;

    if (ngx_conf_full_name(cf->cycle, &value[1], 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* also scim_cursor_key's file (ngx_http_scim_cursor.c) */

    if (ngx_http_scim_oauth_read(cf, &value[1], (char *) cmd->name.data, 4096,
                                 &data)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* all hex digits (but a final line end): hex */

    p = data.data;
    last = p + data.len;

    while (last > p && (last[-1] == '\n' || last[-1] == '\r')) {
        last--;
    }

    hex = (last > p && (last - p) % 2 == 0);

    for (p = data.data; hex && p < last; p++) {
        hex = ((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a'
                                            && (*p | 0x20) <= 'f'));
    }

    if (hex) {
        if (ngx_http_scim_hex_decode(data.data, data.data,
                                     last - data.data)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        data.len = (last - data.data) / 2;
    }

    if (data.len < 32) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\": the key is %uz bytes, "
                           "needs at least 32 (64 hex digits)",
                           &cmd->name, &value[1], data.len);
        return NGX_CONF_ERROR;
    }

    if (slcf->oauth_keys == NGX_CONF_UNSET_PTR) {
        slcf->oauth_keys = ngx_array_create(cf->pool, 2,
                                            sizeof(ngx_http_scim_oauth_key_t));
        if (slcf->oauth_keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    key = ngx_array_push(slcf->oauth_keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    key->data = ngx_pnalloc(cf->pool, data.len);
    if (key->data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(key->data, data.data, data.len);
    key->len = data.len;
    key->mac = NULL;

    ngx_explicit_memzero(data.data, data.len);

    return NGX_CONF_OK;
}


/*
 * scim_oauth_clients <file>: lines
 *     <tenant> <client_id> <secret | sha256:<hex>> [expires=YYYY-MM-DD]
 *     <tenant> <client_id> jwt iss=<issuer> sub=<subject> aud=<audience>
 *         [expires=YYYY-MM-DD]
 */

char *
ngx_http_scim_oauth_clients(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    u_char                        *p, *last, *line, *end, *eol;
    char                          *rv;
    time_t                         expires;
    ngx_str_t                     *value, data, field[8];
    ngx_uint_t                     lineno, n;
    ngx_array_t                   *a, *jwt;
    ngx_http_scim_oauth_client_t  *c;

    if (slcf->oauth_clients != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_conf_full_name(cf->cycle, &value[1], 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_scim_oauth_read(cf, &value[1], "scim_oauth_clients",
                                 1024 * 1024, &data)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    a = ngx_array_create(cf->pool, 4, sizeof(ngx_http_scim_oauth_client_t));
    if (a == NULL) {
        return NGX_CONF_ERROR;
    }

    last = data.data + data.len;
    lineno = 0;
    jwt = NULL;

    for (p = data.data; p < last; p = eol + 1) {
        lineno++;

        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        /* whitespace separated fields, up to a '#' comment */

        n = 0;
        line = p;

        for ( ;; ) {
            while (line < eol
                   && (*line == ' ' || *line == '\t' || *line == '\r'))
            {
                line++;
            }

            if (line == eol || *line == '#') {
                break;
            }

            for (end = line;
                 end < eol && *end != ' ' && *end != '\t' && *end != '\r';
                 end++)
            {
                /* void */
            }

            if (n == 7) {
                n++;
                break;
            }

            field[n].data = line;
            field[n].len = end - line;
            n++;

            line = end;
        }

        if (n == 0) {
            continue;
        }

        /* workload identity federation: ngx_http_scim_jwt.c */

        if (n >= 3
            && field[2].len == 3 && ngx_strncmp(field[2].data, "jwt", 3) == 0)
        {
            if (n > 7) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "scim_oauth_clients \"%V\": line %ui: "
                                   "too many fields for a \"jwt\" line",
                                   &value[1], lineno);
                return NGX_CONF_ERROR;
            }

            expires = 0;

            if (field[n - 1].len >= 8
                && ngx_strncmp(field[n - 1].data, "expires=", 8) == 0)
            {
                if (ngx_http_scim_oauth_date(field[n - 1].data + 8,
                                             field[n - 1].len - 8, &expires)
                    != NGX_OK)
                {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "scim_oauth_clients \"%V\": line "
                                       "%ui: expected \"expires=YYYY-MM-DD\"",
                                       &value[1], lineno);
                    return NGX_CONF_ERROR;
                }

                n--;
            }

            rv = ngx_http_scim_jwt_client_line(cf, &jwt, field, n, expires);

            if (rv == NGX_CONF_ERROR) {
                return NGX_CONF_ERROR;
            }

            if (rv != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "scim_oauth_clients \"%V\": line %ui: %s",
                                   &value[1], lineno, rv);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (n < 3 || n > 4) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "scim_oauth_clients \"%V\": line %ui: "
                               "expected \"<tenant> <client_id> <secret> "
                               "[expires=YYYY-MM-DD]\"", &value[1], lineno);
            return NGX_CONF_ERROR;
        }

        c = ngx_array_push(a);
        if (c == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(c, sizeof(ngx_http_scim_oauth_client_t));

        if (field[0].len > 255
            || !ngx_scim_store_valid_tenant(field[0].data, field[0].len))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "scim_oauth_clients \"%V\": line %ui: "
                               "invalid tenant (empty, longer than 255 or "
                               "with braces)", &value[1], lineno);
            return NGX_CONF_ERROR;
        }

        if (field[1].len > 255) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "scim_oauth_clients \"%V\": line %ui: "
                               "client id longer than 255", &value[1],
                               lineno);
            return NGX_CONF_ERROR;
        }

        c->tenant.len = field[0].len;
        c->tenant.data = ngx_pstrdup(cf->pool, &field[0]);
        c->client_id.len = field[1].len;
        c->client_id.data = ngx_pstrdup(cf->pool, &field[1]);

        if (c->tenant.data == NULL || c->client_id.data == NULL) {
            return NGX_CONF_ERROR;
        }

        if (field[2].len > 7 && ngx_strncmp(field[2].data, "sha256:", 7) == 0)
        {
            if (field[2].len - 7 != 64
                || ngx_http_scim_hex_decode(c->digest, field[2].data + 7, 64)
                   != NGX_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "scim_oauth_clients \"%V\": line %ui: "
                                   "\"sha256:\" needs 64 hex digits",
                                   &value[1], lineno);
                return NGX_CONF_ERROR;
            }

        } else if (field[2].len < 16) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "scim_oauth_clients \"%V\": line %ui: "
                               "secret shorter than 16 characters",
                               &value[1], lineno);
            return NGX_CONF_ERROR;

        } else {
            SHA256(field[2].data, field[2].len, c->digest);
        }

        if (n == 4) {
            if (field[3].len < 8
                || ngx_strncmp(field[3].data, "expires=", 8) != 0
                || ngx_http_scim_oauth_date(field[3].data + 8,
                                            field[3].len - 8, &c->expires)
                   != NGX_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "scim_oauth_clients \"%V\": line %ui: "
                                   "expected \"expires=YYYY-MM-DD\"",
                                   &value[1], lineno);
                return NGX_CONF_ERROR;
            }
        }
    }

    ngx_explicit_memzero(data.data, data.len);

    if (a->nelts == 0 && jwt == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "scim_oauth_clients \"%V\": no client in it",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    slcf->oauth_clients = a;
    slcf->oauth_jwt_clients = jwt;

    return NGX_CONF_OK;
}


/* YYYY-MM-DD: the secret works through that day (UTC) */

static ngx_int_t
ngx_http_scim_oauth_date(u_char *p, size_t len, time_t *t)
{
    ngx_int_t  y, m, d, days;

    static ngx_int_t  mdays[] = { 31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31 };

    if (len != 10 || p[4] != '-' || p[7] != '-') {
        return NGX_ERROR;
    }

    y = ngx_atoi(p, 4);
    m = ngx_atoi(p + 5, 2);
    d = ngx_atoi(p + 8, 2);

    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1) {
        return NGX_ERROR;
    }

    if (d > mdays[m - 1]
               + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
    {
        return NGX_ERROR;
    }

    /* days since 1970-01-01 (the civil-from-days inverse) */

    if (m <= 2) {
        y--;
        m += 12;
    }

    days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5
           + d - 1 - 719468;

    *t = (time_t) (days + 1) * 86400;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_oauth_read(ngx_conf_t *cf, ngx_str_t *file,
    const char *directive, size_t max, ngx_str_t *out)
{
    size_t      size;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_file_t  f;

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%s \"%V\": " ngx_open_file_n " failed",
                           directive, file);
        return NGX_ERROR;
    }

    ngx_memzero(&f, sizeof(ngx_file_t));
    f.fd = fd;
    f.name = *file;
    f.log = cf->log;

    if (ngx_fd_info(fd, &f.info) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%s \"%V\": " ngx_fd_info_n " failed",
                           directive, file);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    if (ngx_is_dir(&f.info)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\": is a directory, not a file",
                           directive, file);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    size = (size_t) ngx_file_size(&f.info);

    if (size > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s \"%V\": too large",
                           directive, file);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(cf->temp_pool, size + 1);
    if (out->data == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_file(&f, out->data, size, 0);

    ngx_close_file(fd);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    out->len = n;

    return NGX_OK;
}


/* for the token endpoint and for the locations that accept its tokens */

char *
ngx_http_scim_oauth_merge(ngx_conf_t *cf, ngx_http_scim_loc_conf_t *prev,
    ngx_http_scim_loc_conf_t *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_ptr_value(conf->oauth_clients, prev->oauth_clients, NULL);
    ngx_conf_merge_ptr_value(conf->oauth_keys, prev->oauth_keys, NULL);
    ngx_conf_merge_sec_value(conf->oauth_ttl, prev->oauth_ttl, 3600);
    ngx_conf_merge_str_value(conf->oauth_token_uri, prev->oauth_token_uri,
                             "");

    if (ngx_http_scim_jwt_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (!conf->oauth_endpoint) {
        return NGX_CONF_OK;
    }

    if (conf->enable == 1) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"scim_oauth_token\" and \"scim\" cannot share a "
                      "location");
        return NGX_CONF_ERROR;
    }

    /* scim_redis_credentials on: clients in Redis, a file or not */

    if ((conf->oauth_clients == NULL && conf->rcred != 1)
        || conf->oauth_keys == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"scim_oauth_token\" needs \"scim_oauth_clients\" "
                      "(or \"scim_redis_credentials on\") and "
                      "\"scim_oauth_key\"");
        return NGX_CONF_ERROR;
    }

    /* the endpoint limits its body itself, with an OAuth error */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->client_max_body_size = 0;

    return NGX_CONF_OK;
}
