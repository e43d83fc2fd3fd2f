
/*
 * ngx_http_scim_module: GET /Users/{id}, GET /Groups/{id}: the read, the
 * fast path that answers from the stored text without parsing it, and
 * If-None-Match.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_resource.h"


static ngx_int_t ngx_http_scim_fast_text(ngx_http_scim_ctx_t *ctx,
    const char *text, size_t len, scim_str_t *mdp, scim_str_t *groups,
    size_t ngroups, size_t before, size_t after, ngx_buf_t **out);
static ngx_int_t ngx_http_scim_not_modified(ngx_http_scim_ctx_t *ctx,
    json_t *doc);
static void ngx_http_scim_get_slice(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);


/* GET /Users/{id}, GET /Groups/{id} */

void
ngx_http_scim_get(ngx_http_scim_ctx_t *ctx)
{
    ngx_str_t  first;

    if (ngx_http_scim_projection(ctx) != NGX_OK) {
        return;
    }

    if (ngx_http_scim_stream_wanted(ctx)) {
        /* the group and its first slice of members (stream.c) */

        ctx->final_status = NGX_HTTP_OK;
        ngx_str_null(&first);

        ngx_http_scim_issued(ctx, ngx_scim_store_slice(
                                 ngx_http_scim_call(ctx,
                                                    ngx_http_scim_get_slice),
                                 &ctx->id, &first, ctx->slcf->members_slice,
                                 1));
        return;
    }

    ngx_http_scim_read(ctx, NGX_HTTP_OK, ngx_http_scim_get_done);
}


/*
 * A group read with its first slice of members: all of them, answered
 * as any read; more, streamed (stream.c)
 */

static void
ngx_http_scim_get_slice(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t  *doc;

    if (res->status != NGX_SCIM_STORE_OK || res->nids == 0) {
        ngx_http_scim_get_done(ctx, res);
        return;
    }

    ngx_http_scim_doccache_put(ctx, &ctx->id, &res->docs[0].text);

    doc = ngx_http_scim_expand(ctx, &res->docs[0], 0);
    if (doc == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_scim_not_modified(ctx, doc) == NGX_OK) {
        return;
    }

    ngx_http_scim_stream_start(ctx, res, doc);
}


/* reads ctx->id and answers status with it (200, or 201 after a create) */

void
ngx_http_scim_read(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    ngx_http_scim_step_pt step)
{
    ctx->final_status = status;

    ngx_http_scim_issued(ctx, ngx_scim_store_get(ngx_http_scim_call(ctx, step),
                                                 &ctx->id,
                                                 ctx->want_members));
}


/*
 * The fast read path (scim_fast.c): a user read by the get or find
 * script, with the default projection, answered from the stored text.
 * list: wrapped as a ListResponse of that one user.  NGX_DECLINED when
 * the general path must answer.
 */

ngx_int_t
ngx_http_scim_fast(ngx_http_scim_ctx_t *ctx, ngx_scim_store_doc_t *d,
    ngx_uint_t list)
{
    u_char       *p, *v;
    size_t        i, ngroups;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_str_t     etag, *doc;
    scim_str_t   *groups, md, *mdp;

    static const char  head[] =
        "{\"schemas\":[\"" SCIM_SCHEMA_LIST "\"],\"totalResults\":1,"
        "\"itemsPerPage\":1,\"startIndex\":1,\"Resources\":[";
    static const char  version[] = "\"version\":\"";

    if (!ctx->slcf->fast || ctx->projection != NULL || ctx->done != NULL
        || ctx->resource != NGX_HTTP_SCIM_R_USERS
        || ctx->request->headers_in.if_none_match != NULL
        || d->text.data == NULL || d->bare)
    {
        return NGX_DECLINED;
    }

    doc = &d->text;

    mdp = NULL;

    if (d->manager.data) {
        md.s = (const char *) d->manager.data;
        md.len = d->manager.len;
        mdp = &md;
    }

    ngroups = d->nrefs;
    groups = NULL;

    if (ngroups) {
        groups = ngx_palloc(ctx->request->pool, 2 * ngroups
                                                * sizeof(scim_str_t));
        if (groups == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < ngroups; i++) {
            groups[2 * i].s = (const char *) d->refs[i].id.data;
            groups[2 * i].len = d->refs[i].id.len;
            groups[2 * i + 1].s = (const char *) d->refs[i].display.data;
            groups[2 * i + 1].len = d->refs[i].display.len;
        }
    }

    /* the document, then the ListResponse around it */

    rc = ngx_http_scim_fast_text(ctx, (const char *) doc->data, doc->len,
                                 mdp, groups, ngroups,
                                 list ? sizeof(head) - 1 : 0,
                                 list ? 2 : 0, &b);
    if (rc != NGX_OK) {
        return rc;
    }

    if (list) {
        ngx_memcpy(b->pos, head, sizeof(head) - 1);
        *b->last++ = ']';
        *b->last++ = '}';
    }

    /* ETag: the version at the stored document's end, unescaped */

    etag.len = 0;
    etag.data = NULL;

    /* the last "version": meta's, which ends every stored document */

    v = NULL;

    for (p = doc->data + doc->len - (sizeof(version) - 1);
         p >= doc->data;
         p--)
    {
        if (*p == '"' && ngx_strncmp(p, version, sizeof(version) - 1) == 0) {
            v = p;
            break;
        }
    }

    while (v != NULL && !list) {
        u_char  *last, *q, *w;

        v += sizeof(version) - 1;
        last = doc->data + doc->len - 3;                /* before "}} */

        if (last <= v) {
            break;
        }

        w = ngx_pnalloc(ctx->request->pool, last - v);
        if (w == NULL) {
            return NGX_ERROR;
        }

        etag.data = w;

        for (q = v; q < last; q++) {
            if (*q != '\\') {
                *w++ = *q;
            }
        }

        etag.len = w - etag.data;
        break;
    }

    ngx_http_scim_reply_raw(ctx, NGX_HTTP_OK, b, &etag, NULL);

    return NGX_OK;
}


/*
 * A buffer holding the fast path's text of a stored user, with room for
 * "before" bytes in front of it (b->pos) and "after" bytes behind it
 * (b->last); NGX_DECLINED when the general path must answer.  The text
 * is written into a buffer of an estimated size, or, when the answer
 * needs more (long group names, a long base URL), into one of the size
 * scim_present_fast() said it needs.
 */

static ngx_int_t
ngx_http_scim_fast_text(ngx_http_scim_ctx_t *ctx, const char *text,
    size_t len, scim_str_t *mdp, scim_str_t *groups, size_t ngroups,
    size_t before, size_t after, ngx_buf_t **out)
{
    size_t      n, size;
    ngx_buf_t  *b;

    size = 2 * len + 1024;

    b = ngx_create_temp_buf(ctx->request->pool, before + size + after);
    if (b == NULL) {
        return NGX_ERROR;
    }

    n = scim_present_fast(text, len, (const char *) ctx->base_url.data, mdp,
                          groups, ngroups, (char *) b->pos + before, size);

    if (n == 0) {
        return NGX_DECLINED;
    }

    if (n > size) {
        b = ngx_create_temp_buf(ctx->request->pool, before + n + after);
        if (b == NULL) {
            return NGX_ERROR;
        }

        if (scim_present_fast(text, len, (const char *) ctx->base_url.data,
                              mdp, groups, ngroups, (char *) b->pos + before,
                              n)
            != n)
        {
            return NGX_ERROR;
        }
    }

    b->last = b->pos + before + n;
    *out = b;

    return NGX_OK;
}


/*
 * The answer to a user write, from the text just stored: ctx->prefix
 * plus the version the script appended (the same text a read returns).
 */

ngx_int_t
ngx_http_scim_fast_written(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    long long seq, ngx_str_t *mgr_display)
{
    u_char       *out;
    size_t        i, ngroups;
    json_t       *g, *v, *d;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_str_t     etag, location, stored;
    scim_str_t   *groups, md, *mdp;

    if (!ctx->slcf->fast || ctx->projection != NULL || ctx->done != NULL
        || ctx->resource != NGX_HTTP_SCIM_R_USERS)
    {
        return NGX_DECLINED;
    }

    if (ngx_scim_store_text(ctx->request->pool, &ctx->prefix,
                            (ngx_int_t) seq, &stored)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    mdp = NULL;

    if (mgr_display) {
        md.s = (const char *) mgr_display->data;
        md.len = mgr_display->len;
        mdp = &md;
    }

    ngroups = json_array_size(ctx->related);
    groups = NULL;

    if (ngroups) {
        groups = ngx_palloc(ctx->request->pool,
                            2 * ngroups * sizeof(scim_str_t));
        if (groups == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < ngroups; i++) {
            g = json_array_get(ctx->related, i);
            v = json_object_get(g, "value");
            d = json_object_get(g, "display");

            if (!json_is_string(v) || !json_is_string(d)) {
                return NGX_DECLINED;
            }

            /* lengths as stored: a display may hold a NUL (\u0000) */

            groups[2 * i].s = json_string_value(v);
            groups[2 * i].len = json_string_length(v);
            groups[2 * i + 1].s = json_string_value(d);
            groups[2 * i + 1].len = json_string_length(d);
        }
    }

    rc = ngx_http_scim_fast_text(ctx, (char *) stored.data, stored.len,
                                 mdp, groups, ngroups, 0, 0, &b);
    if (rc != NGX_OK) {
        return rc;
    }

    out = ngx_pnalloc(ctx->request->pool, NGX_INT_T_LEN + 4
                                          + ctx->base_url.len
                                          + sizeof("/Users/") + ctx->id.len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    etag.data = out;
    etag.len = ngx_sprintf(out, "W/\"%L\"", (int64_t) seq) - out;

    location.data = out + etag.len;
    location.len = ngx_sprintf(location.data, "%V/Users/%V", &ctx->base_url,
                               &ctx->id) - location.data;

    ngx_http_scim_reply_raw(ctx, status, b, &etag,
                            status == NGX_HTTP_CREATED ? &location : NULL);

    return NGX_OK;
}


void
ngx_http_scim_get_done(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t     *doc, *out;
    ngx_int_t   rc;

    if (res->status == NGX_SCIM_STORE_NOT_FOUND) {
        ngx_http_scim_doccache_drop(ctx);
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;
    }

    /* the text as stored: a PATCH or PUT that follows need not read it */
    ngx_http_scim_doccache_put(ctx, &ctx->id, &res->docs[0].text);

    if (ctx->final_status == NGX_HTTP_OK) {
        rc = ngx_http_scim_fast(ctx, &res->docs[0], 0);

        if (rc == NGX_OK) {
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    doc = ngx_http_scim_expand(ctx, &res->docs[0], ctx->want_members);
    if (doc == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->final_status == NGX_HTTP_OK
        && ngx_http_scim_not_modified(ctx, doc) == NGX_OK)
    {
        return;
    }

    if (ctx->projection != NULL) {
        if (ngx_http_scim_location(ctx, doc) != NGX_OK) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ctx->headers_from = doc;
    }

    out = ngx_http_scim_present(ctx, doc);
    if (out == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_reply(ctx, ctx->final_status, out,
                        ctx->final_status == NGX_HTTP_CREATED ? 2 : 1);
}


/* If-None-Match with the current version: 304 */

static ngx_int_t
ngx_http_scim_not_modified(ngx_http_scim_ctx_t *ctx, json_t *doc)
{
    u_char              *p, buf[NGX_INT_T_LEN + 2];
    ngx_int_t            version;
    ngx_table_elt_t     *inm;
    ngx_http_request_t  *r;

    r = ctx->request;
    inm = r->headers_in.if_none_match;

    if (inm == NULL) {
        return NGX_DECLINED;
    }

    version = ngx_http_scim_doc_version(doc);
    if (version == NGX_ERROR) {
        return NGX_DECLINED;
    }

    p = ngx_sprintf(buf, "\"%i\"", version);

    if (!(inm->value.len == 1 && inm->value.data[0] == '*')
        && ngx_strlcasestrn(inm->value.data, inm->value.data + inm->value.len,
                            buf, p - buf - 1) == NULL)
    {
        return NGX_DECLINED;
    }

    ngx_http_scim_reply(ctx, NGX_HTTP_NOT_MODIFIED,
                        ngx_http_scim_present(ctx, doc), 1);

    return NGX_OK;
}
