
/*
 * ngx_http_scim_module: cursors of RFC 9865 cursor pagination.
 *
 * A cursor is base64url(payload | HMAC-SHA256(key, payload)), opaque to
 * the client and checked before anything in it is used:
 *
 *     1 byte   version (2)
 *     1 byte   kind: 's' the creation score of the page's last resource
 *              (unfiltered lists), 'c' the same for a scan's match
 *              (filters no index answers, without sortBy), 'm' the last
 *              member id of the page (groups.value eq, members.value eq),
 *              'k' the sort key and id of the page's last match (sortBy,
 *              scanned), 'o' an offset (any other query)
 *     1 byte   direction: 'n' a nextCursor (the page after the
 *              position), 'p' a previousCursor (the page before it:
 *              the position is then the first resource of the page the
 *              client holds; kinds 's', 'c' and 'm' only)
 *     8 bytes  expiry, seconds since the epoch, big-endian
 *    12 bytes  the query's hash: SHA-256 of the tenant, the resource,
 *              the filter, sortBy and sortOrder (another query's cursor
 *              is invalidCursor)
 *     n bytes  the position (at most NGX_HTTP_SCIM_CURSOR_POS); for 'k':
 *              present, is_int (1 byte each), inum, num, sec, nsec (8
 *              bytes each, as in memory), the id's length (2 bytes), the
 *              id, then a string key's text (at most
 *              NGX_HTTP_SCIM_CURSOR_TEXT bytes of it)
 *
 * The key: scim_cursor_key, else one derived from the first
 * scim_oauth_key, else 32 random bytes drawn when the configuration is
 * read (the workers share it; a reload or another host does not).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_CURSOR_HEAD  23
#define NGX_HTTP_SCIM_CURSOR_KEY   36
#define NGX_HTTP_SCIM_CURSOR_TEXT  1024
#define NGX_HTTP_SCIM_CURSOR_POS                                             \
    (NGX_HTTP_SCIM_CURSOR_KEY + SCIM_MAX_ID_LEN + NGX_HTTP_SCIM_CURSOR_TEXT)
#define NGX_HTTP_SCIM_CURSOR_MAC   32
#define NGX_HTTP_SCIM_CURSOR_MAX                                             \
    (NGX_HTTP_SCIM_CURSOR_HEAD + NGX_HTTP_SCIM_CURSOR_POS                    \
     + NGX_HTTP_SCIM_CURSOR_MAC)


static ngx_int_t ngx_http_scim_cursor_hash(ngx_http_scim_ctx_t *ctx,
    u_char *out);
static ngx_http_scim_oauth_key_t *ngx_http_scim_cursor_new_key(
    ngx_conf_t *cf, ngx_http_scim_oauth_key_t *from);


char *
ngx_http_scim_cursor_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_http_scim_loc_conf_t   tmp;
    ngx_http_scim_oauth_key_t *key;

    if (slcf->cursor_key != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    /* the file format of scim_oauth_key: 32 bytes or more, raw or hex */

    ngx_memzero(&tmp, sizeof(ngx_http_scim_loc_conf_t));
    tmp.oauth_keys = NGX_CONF_UNSET_PTR;

    if (ngx_http_scim_oauth_key(cf, cmd, &tmp) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    key = tmp.oauth_keys->elts;
    slcf->cursor_key = &key[0];

    return NGX_CONF_OK;
}


char *
ngx_http_scim_cursor_merge(ngx_conf_t *cf, ngx_http_scim_loc_conf_t *prev,
    ngx_http_scim_loc_conf_t *conf)
{
    ngx_http_scim_oauth_key_t  *key;

    static ngx_cycle_t                *random_cycle;
    static ngx_http_scim_oauth_key_t  *random_key;

    ngx_conf_merge_value(conf->cursor_ttl, prev->cursor_ttl, 3600);

    if (conf->cursor_ttl <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"scim_cursor_ttl\" must be positive");
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_ptr_value(conf->cursor_key, prev->cursor_key, NULL);

    if (conf->cursor_key != NULL || !conf->enable) {
        return NGX_CONF_OK;
    }

    if (conf->oauth_keys != NULL && conf->oauth_keys != NGX_CONF_UNSET_PTR) {
        key = conf->oauth_keys->elts;
        conf->cursor_key = ngx_http_scim_cursor_new_key(cf, &key[0]);

        return conf->cursor_key ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    /* one random key a configuration, for every location without one */

    if (random_cycle != cf->cycle) {
        random_key = ngx_http_scim_cursor_new_key(cf, NULL);
        if (random_key == NULL) {
            return NGX_CONF_ERROR;
        }

        random_cycle = cf->cycle;
    }

    conf->cursor_key = random_key;

    return NGX_CONF_OK;
}


/* derived from an oauth key (HMAC of a label), or random */

static ngx_http_scim_oauth_key_t *
ngx_http_scim_cursor_new_key(ngx_conf_t *cf, ngx_http_scim_oauth_key_t *from)
{
    unsigned int                n;
    ngx_http_scim_oauth_key_t  *key;

    static u_char  label[] = "ngx_http_scim_module cursor key 1";

    key = ngx_pcalloc(cf->pool, sizeof(ngx_http_scim_oauth_key_t));
    if (key == NULL) {
        return NULL;
    }

    key->len = 32;
    key->data = ngx_pnalloc(cf->pool, 32);
    if (key->data == NULL) {
        return NULL;
    }

    if (from == NULL) {
        if (RAND_bytes(key->data, 32) != 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "RAND_bytes() failed for the cursor key");
            return NULL;
        }

        return key;
    }

    if (HMAC(EVP_sha256(), from->data, (int) from->len, label,
             sizeof(label) - 1, key->data, &n)
        == NULL || n != 32)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "HMAC() failed for the cursor key");
        return NULL;
    }

    return key;
}


/* the first 12 bytes of SHA-256 of what a cursor is bound to */

static ngx_int_t
ngx_http_scim_cursor_hash(ngx_http_scim_ctx_t *ctx, u_char *out)
{
    u_char  *buf, *p;
    size_t   len;
    u_char   digest[32];

    len = ctx->tenant.len + ctx->filter.len + ctx->sort_by.len + 16;

    buf = ngx_pnalloc(ctx->request->pool, len);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(buf, ctx->tenant.data, ctx->tenant.len);
    *p++ = '\0';
    *p++ = (u_char) ('0' + ctx->resource);
    *p++ = ctx->root_search ? 'r' : '-';
    *p++ = ctx->has_filter ? 'f' : '-';
    *p++ = '\0';

    /* (either may be empty, its data NULL) */

    if (ctx->filter.len) {
        p = ngx_cpymem(p, ctx->filter.data, ctx->filter.len);
    }

    *p++ = '\0';
    *p++ = ctx->has_sort ? (ctx->descending ? 'd' : 'a') : '-';

    if (ctx->sort_by.len) {
        p = ngx_cpymem(p, ctx->sort_by.data, ctx->sort_by.len);
    }

    ngx_http_scim_sha256(buf, p - buf, digest);
    ngx_memcpy(out, digest, 12);

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_cursor_open(ngx_http_scim_ctx_t *ctx, u_char kind)
{
    u_char     *p;
    time_t      expires;
    uint64_t    t;
    ngx_str_t   src, dst;
    ngx_int_t   n;
    ngx_uint_t  i;
    u_char      mac[NGX_HTTP_SCIM_CURSOR_MAC];

    ctx->cursor_kind = kind;
    ctx->cursor_back = 0;
    ngx_str_set(&ctx->cursor_pos, "");
    ngx_str_set(&ctx->cursor_next, "");
    ngx_str_set(&ctx->cursor_prev, "");

    /* now: a root .search moves on to the groups before it answers */

    if (ngx_http_scim_cursor_hash(ctx, ctx->cursor_hash) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->cursor.len == 0) {
        return NGX_OK;              /* the first page */
    }

    if (ctx->cursor.len > ngx_base64_encoded_length(NGX_HTTP_SCIM_CURSOR_MAX))
    {
        goto invalid;
    }

    src = ctx->cursor;

    dst.data = ngx_pnalloc(ctx->request->pool,
                           ngx_base64_decoded_length(src.len) + 1);
    if (dst.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&dst, &src) != NGX_OK
        || dst.len < NGX_HTTP_SCIM_CURSOR_HEAD + NGX_HTTP_SCIM_CURSOR_MAC)
    {
        goto invalid;
    }

    dst.len -= NGX_HTTP_SCIM_CURSOR_MAC;

    if (ngx_http_scim_hmac(ctx->slcf->cursor_key, dst.data, dst.len, mac)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (CRYPTO_memcmp(mac, dst.data + dst.len, NGX_HTTP_SCIM_CURSOR_MAC)
        != 0)
    {
        goto invalid;
    }

    /* ours: the layout holds */

    p = dst.data;

    if (p[0] != 2 || p[1] != kind
        || ngx_memcmp(p + 11, ctx->cursor_hash, 12) != 0)
    {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                           SCIM_ERR_INVALID_CURSOR,
                           "the cursor is of another query");
        return NGX_ABORT;
    }

    if (p[2] != 'n' && (p[2] != 'p' || kind == 'o' || kind == 'k')) {
        goto invalid;
    }

    ctx->cursor_back = (p[2] == 'p');

    for (t = 0, i = 3; i < 11; i++) {
        t = (t << 8) | p[i];
    }

    expires = (time_t) t;

    if (expires < ngx_time()) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                           SCIM_ERR_EXPIRED_CURSOR, "the cursor has expired");
        return NGX_ABORT;
    }

    ctx->cursor_pos.data = p + NGX_HTTP_SCIM_CURSOR_HEAD;
    ctx->cursor_pos.len = dst.len - NGX_HTTP_SCIM_CURSOR_HEAD;

    if (ctx->cursor_back && ctx->cursor_pos.len == 0) {
        goto invalid;
    }

    if (kind == 'o') {
        n = ngx_atoi(ctx->cursor_pos.data, ctx->cursor_pos.len);
        if (n < 0 || n >= NGX_MAX_INT32_VALUE) {
            goto invalid;
        }

        ctx->start_index = n + 1;

    } else if ((kind == 's' || kind == 'c')
               && ngx_atoof(ctx->cursor_pos.data, ctx->cursor_pos.len) < 0)
    {
        goto invalid;

    } else if (kind == 'k'
               && ngx_http_scim_cursor_key_get(&ctx->cursor_pos,
                                               &ctx->cursor_key)
                  != NGX_OK)
    {
        goto invalid;
    }

    return NGX_OK;

invalid:

    ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_CURSOR,
                       "the cursor is not valid");
    return NGX_ABORT;
}


/* the cursor of position pos: the page after it, or (back) before it */

ngx_int_t
ngx_http_scim_cursor_make(ngx_http_scim_ctx_t *ctx, ngx_str_t *pos,
    ngx_uint_t back, ngx_str_t *out)
{
    u_char     *p;
    uint64_t    t;
    ngx_str_t   src;
    ngx_uint_t  i;
    u_char      buf[NGX_HTTP_SCIM_CURSOR_MAX];

    if (pos->len > NGX_HTTP_SCIM_CURSOR_POS) {
        return NGX_ERROR;
    }

    p = buf;
    *p++ = 2;
    *p++ = ctx->cursor_kind;
    *p++ = back ? 'p' : 'n';

    t = (uint64_t) (ngx_time() + ctx->slcf->cursor_ttl);

    for (i = 0; i < 8; i++) {
        *p++ = (u_char) (t >> (56 - 8 * i));
    }

    p = ngx_cpymem(p, ctx->cursor_hash, 12);
    p = ngx_cpymem(p, pos->data, pos->len);

    if (ngx_http_scim_hmac(ctx->slcf->cursor_key, buf, p - buf, p)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p += NGX_HTTP_SCIM_CURSOR_MAC;

    src.data = buf;
    src.len = p - buf;

    out->data = ngx_pnalloc(ctx->request->pool,
                            ngx_base64_encoded_length(src.len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_encode_base64url(out, &src);

    return NGX_OK;
}


/* a sorted walk's position: the sort key and id of the page's last match */

ngx_int_t
ngx_http_scim_cursor_key_pos(ngx_http_scim_ctx_t *ctx, scim_sort_key_t *key,
    u_char *id, size_t len, ngx_str_t *pos)
{
    u_char   *p;
    size_t    text;
    int64_t   v;

    text = key->str ? ngx_min(key->len, NGX_HTTP_SCIM_CURSOR_TEXT) : 0;

    if (len > SCIM_MAX_ID_LEN) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(ctx->request->pool,
                    NGX_HTTP_SCIM_CURSOR_KEY + len + text);
    if (p == NULL) {
        return NGX_ERROR;
    }

    pos->data = p;

    *p++ = (u_char) (key->present != 0);
    *p++ = (u_char) (key->is_int != 0);
    p = ngx_cpymem(p, &key->inum, 8);
    p = ngx_cpymem(p, &key->num, 8);
    v = key->sec;
    p = ngx_cpymem(p, &v, 8);
    v = key->nsec;
    p = ngx_cpymem(p, &v, 8);
    *p++ = (u_char) (len >> 8);
    *p++ = (u_char) len;
    p = ngx_cpymem(p, id, len);

    if (text) {
        p = ngx_cpymem(p, key->str, text);
    }

    pos->len = p - pos->data;

    return NGX_OK;
}


/* the position back: key->str points into pos (not to be freed) */

ngx_int_t
ngx_http_scim_cursor_key_get(ngx_str_t *pos, ngx_http_scim_cursor_key_t *ck)
{
    u_char   *p;
    size_t    len;
    int64_t   v;

    ngx_memzero(ck, sizeof(ngx_http_scim_cursor_key_t));

    if (pos->len < NGX_HTTP_SCIM_CURSOR_KEY) {
        return NGX_ERROR;
    }

    p = pos->data;

    ck->key.present = p[0];
    ck->key.is_int = p[1];
    ngx_memcpy(&ck->key.inum, p + 2, 8);
    ngx_memcpy(&ck->key.num, p + 10, 8);
    ngx_memcpy(&v, p + 18, 8);
    ck->key.sec = v;
    ngx_memcpy(&v, p + 26, 8);
    ck->key.nsec = (long) v;

    len = ((size_t) p[34] << 8) | p[35];

    if (len == 0 || len > pos->len - NGX_HTTP_SCIM_CURSOR_KEY) {
        return NGX_ERROR;
    }

    ck->id.data = p + NGX_HTTP_SCIM_CURSOR_KEY;
    ck->id.len = len;

    ck->key.str = (char *) ck->id.data + len;
    ck->key.len = pos->len - NGX_HTTP_SCIM_CURSOR_KEY - len;

    return NGX_OK;
}


int
ngx_http_scim_cursor_id_cmp(u_char *a, size_t alen, u_char *b, size_t blen)
{
    int  c;

    c = ngx_memcmp(a, b, ngx_min(alen, blen));

    if (c != 0) {
        return c < 0 ? -1 : 1;
    }

    return (alen > blen) - (alen < blen);
}


/*
 * a match against a sorted walk's position: > 0 after it in (sort key,
 * id) order; a string key as far as the position holds its text
 */

int
ngx_http_scim_cursor_key_cmp(scim_sort_spec_t *spec, scim_sort_key_t *key,
    u_char *id, size_t len, ngx_http_scim_cursor_key_t *ck)
{
    int              c;
    scim_sort_key_t  k;

    k = *key;

    if (k.str && k.len > NGX_HTTP_SCIM_CURSOR_TEXT) {
        k.len = NGX_HTTP_SCIM_CURSOR_TEXT;
    }

    c = scim_sort_key_cmp(spec, &k, &ck->key);

    if (c != 0) {
        return c;
    }

    return ngx_http_scim_cursor_id_cmp(id, len, ck->id.data, ck->id.len);
}


/* the ServiceProviderConfig's "pagination" (RFC 9865) */

json_t *
ngx_http_scim_cursor_spc(ngx_http_scim_loc_conf_t *slcf)
{
    return json_pack("{s:b,s:b,s:s,s:I,s:I,s:I}",
                     "cursor", 1,
                     "index", 1,
                     "defaultPaginationMethod", "index",
                     "defaultPageSize", (json_int_t) slcf->max_results,
                     "maxPageSize", (json_int_t) slcf->max_results,
                     "cursorTimeout", (json_int_t) slcf->cursor_ttl);
}
