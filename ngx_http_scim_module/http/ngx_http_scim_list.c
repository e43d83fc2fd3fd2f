
/*
 * ngx_http_scim_module: GET /Users, GET /Groups (and a search's list):
 * the filter, an index lookup when one answers it, an id lookup's match
 * answered at once, else a scan (ngx_http_scim_scan.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_resource.h"


static void ngx_http_scim_list_ext(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_list_one(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_list_page(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_list_members(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static ngx_int_t ngx_http_scim_list_after(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_list_finish(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_list_respond(ngx_http_scim_ctx_t *ctx,
    json_t *docs, ngx_uint_t total, ngx_uint_t paged);


/* filter attributes answered by an index, per resource type */

static const char  *ngx_http_scim_user_hints[] = {
    "id", "userName", "externalId", "groups.value",
    "emails.value", "emails[type eq \"work\"].value"
};

static const char  *ngx_http_scim_group_hints[] = {
    "id", "displayName", "externalId", "members.value"
};


/* GET /Users, GET /Groups: filter, sort, page */

void
ngx_http_scim_list(ngx_http_scim_ctx_t *ctx)
{
    int                    hint;
    u_char                *f;
    ngx_str_t              v;
    ngx_int_t              rc;
    const char            *value;
    scim_error_t           err;
    ngx_http_request_t    *r;

    r = ctx->request;

    if (ngx_http_scim_projection(ctx) != NGX_OK) {
        return;
    }

    ctx->matches = ngx_http_scim_track(r, json_array());

    if (ctx->matches == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->cursor_mode && ctx->has_start_index) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_VALUE,
                           "\"cursor\" and \"startIndex\" exclude each "
                           "other");
        return;
    }

    if (ctx->cursor_mode && ctx->root_search && !ctx->has_sort) {
        /* users and groups in one exact cursor walk: sorted by id */
        ngx_str_set(&ctx->sort_by, "id");
        ctx->has_sort = 1;
    }

    if (!ctx->has_filter) {

        if (ctx->has_sort || ctx->root_search) {
            goto scan;
        }

        if (ctx->cursor_mode) {

            /* RFC 9865: after the creation score of the last page's end */

            rc = ngx_http_scim_cursor_open(ctx, 's');
            if (rc != NGX_OK) {
                if (rc != NGX_ABORT) {
                    ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                }

                return;
            }

            ngx_http_scim_issued(ctx, ngx_scim_store_page(
                                      ngx_http_scim_call(ctx,
                                                      ngx_http_scim_list_page),
                                      0, (ngx_uint_t) ctx->count,
                                      ctx->want_members, &ctx->cursor_pos,
                                      ctx->cursor_back));
            return;
        }

        /* plain paging in creation order, one round trip */

        ngx_http_scim_issued(ctx, ngx_scim_store_page(
                                      ngx_http_scim_call(ctx,
                                                      ngx_http_scim_list_page),
                                      (ngx_uint_t) ctx->start_index - 1,
                                      (ngx_uint_t) ctx->count,
                                      ctx->want_members, NULL, 0));
        return;
    }

    f = ngx_pnalloc(r->pool, ctx->filter.len + 1);
    if (f == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(f, ctx->filter.data, ctx->filter.len);
    f[ctx->filter.len] = '\0';
    ctx->filter.data = f;

    ngx_memzero(&err, sizeof(scim_error_t));

    ctx->filter_ast = scim_filter_parse(ctx->rt, (char *) f, ctx->filter.len,
                                        &err);
    if (ctx->filter_ast == NULL) {
        if (err.status == 0) {
            scim_error_set(&err, 400, SCIM_ERR_INVALID_FILTER,
                           "invalid filter");
        }

        ngx_http_scim_fail_err(ctx, &err);
        return;
    }

    /* root .search always scans */
    value = NULL;
    hint = ctx->root_search
           ? -1
           : scim_filter_eq_hint(ctx->filter_ast,
                                 ctx->resource == NGX_HTTP_SCIM_R_USERS
                                 ? ngx_http_scim_user_hints
                                 : ngx_http_scim_group_hints,
                                 ctx->resource == NGX_HTTP_SCIM_R_USERS
                                 ? 6 : 4,
                                 &value);

    /* what every matching document's text holds, for scans */
    if (ngx_http_scim_literal(ctx) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* meta.location is made for the documents only if the filter names it */
    ctx->filter_location = ngx_strlcasestrn(ctx->filter.data,
                                            ctx->filter.data + ctx->filter.len,
                                            (u_char *) "location", 8 - 1)
                           != NULL;

    /* filters on members evaluate against the member lists */
    if (ctx->resource == NGX_HTTP_SCIM_R_GROUPS
        && ngx_strlcasestrn(ctx->filter.data,
                            ctx->filter.data + ctx->filter.len,
                            (u_char *) "members", 7 - 1) != NULL)
    {
        ctx->want_members = 1;
    }

    if (hint < 0) {
        /* no index answers this filter: scan */
        goto scan;
    }

    if (ctx->cursor_mode && !ctx->has_sort && (hint == 2 || hint >= 4)) {
        /* the candidates of externalId, e-mail: an exact walk by id */
        ngx_str_set(&ctx->sort_by, "id");
        ctx->has_sort = 1;
    }

    if (ctx->cursor_mode) {
        /*
         * the members of a group are paged by member id, the candidates
         * of an index sorted by the last match's sort key and id, others
         * by offset
         */

        rc = ngx_http_scim_cursor_open(ctx,
                                       hint == 3 && !ctx->has_sort ? 'm'
                                       : hint >= 2 && ctx->has_sort ? 'k'
                                       : 'o');
        if (rc != NGX_OK) {
            if (rc != NGX_ABORT) {
                ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            }

            return;
        }
    }

    v.data = (u_char *) value;
    v.len = ngx_strlen(value);

    switch (hint) {

    case 4:     /* emails.value eq, Entra's emails[type eq "work"].value eq */
    case 5:

        if (ngx_http_scim_fold(r->pool, value, v.len, &v) != NGX_OK) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        /* the candidates; the whole filter (the type, ...) decides */

        ngx_http_scim_issued(ctx, ngx_scim_store_find_email(
                                      ngx_http_scim_call(ctx,
                                                     ngx_http_scim_list_cands),
                                      &v));
        return;

    case 0:     /* id eq */
    case 3:     /* groups.value eq, members.value eq */

        if (hint == 3) {
            /*
             * members.value and groups.value compare ignoring case (RFC
             * 7643); the ids this module hands out are lower-case hex
             */

            f = ngx_pnalloc(r->pool, v.len + 1);
            if (f == NULL) {
                ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            ngx_strlow(f, v.data, v.len);
            f[v.len] = '\0';

            v.data = f;
            value = (const char *) f;
        }

        if (!ngx_scim_store_valid_id(v.data, v.len)) {
            ngx_http_scim_list_finish(ctx);
            return;
        }

        if (hint == 0) {
            ctx->id = v;
            ngx_http_scim_read(ctx, NGX_HTTP_OK, ngx_http_scim_list_one);
            return;
        }

        /*
         * the users in group v (the set holds groups too: they have no
         * User document and drop out), or the groups holding member v
         */

        if (ctx->cursor_mode && ctx->cursor_kind == 'm') {

            /*
             * a page of them after the last one (the cursor's, signed:
             * ours), at the same cost in any size of group
             */

            ngx_http_scim_issued(ctx, ngx_scim_store_related(
                                      ngx_http_scim_call(ctx,
                                                  ngx_http_scim_list_members),
                                      &v, &ctx->cursor_pos,
                                      (ngx_uint_t) ctx->count,
                                      ctx->cursor_back));
            return;
        }

        ngx_http_scim_issued(ctx, ngx_scim_store_related(
                                      ngx_http_scim_call(ctx,
                                                     ngx_http_scim_list_cands),
                                      &v, NULL, 0, 0));
        return;

    case 2:     /* externalId eq: not unique, any number of them */

        ngx_http_scim_issued(ctx, ngx_scim_store_find_external_id(
                                      ngx_http_scim_call(ctx,
                                                       ngx_http_scim_list_ext),
                                      &v, ctx->want_members));
        return;

    default:    /* userName / displayName eq (folded) */

        if (ngx_http_scim_fold(r->pool, value, v.len, &v) != NGX_OK) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_scim_issued(ctx, ngx_scim_store_find(
                                      ngx_http_scim_call(ctx,
                                                       ngx_http_scim_list_one),
                                      &v, ctx->want_members));
        return;
    }

scan:

    if (ctx->cursor_mode) {
        /*
         * a walk in creation order is paged by creation score, a sorted
         * one (root .search always) by the last match's sort key and id
         */

        rc = ngx_http_scim_cursor_open(ctx, ctx->has_sort ? 'k' : 'c');
        if (rc != NGX_OK) {
            if (rc != NGX_ABORT) {
                ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            }

            return;
        }
    }

    switch (ngx_http_scim_scan_start(ctx, NULL)) {

    case NGX_OK:
        ngx_http_scim_scan_next(ctx);
        return;

    case NGX_ABORT:
        return;

    default:
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
}


/*
 * externalId eq: the one resource there usually is came with the answer
 * (as find's does); more than one are candidates, read and checked as
 * an index's are
 */

static void
ngx_http_scim_list_ext(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    if (res->status == NGX_SCIM_STORE_MANY) {
        res->status = NGX_SCIM_STORE_OK;
        ngx_http_scim_list_cands(ctx, res);
        return;
    }

    ngx_http_scim_list_one(ctx, res);
}


/* at most one candidate: evaluate the whole filter on it */

static void
ngx_http_scim_list_one(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t     *doc;
    ngx_int_t   rc;

    if (res->status == NGX_SCIM_STORE_OK) {
        /* Entra reads a user by userName before it PATCHes it */
        ngx_http_scim_doccache_put(ctx, NULL, &res->docs[0].text);
    }

    if (res->status == NGX_SCIM_STORE_OK
        && ctx->start_index == 1 && ctx->count > 0 && !ctx->cursor_mode
        && scim_filter_is_simple_eq(ctx->filter_ast))
    {
        /* Entra's check: the index hit is the answer */

        rc = ngx_http_scim_fast(ctx, &res->docs[0], 1);

        if (rc == NGX_OK) {
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (res->status == NGX_SCIM_STORE_OK) {
        doc = ngx_http_scim_expand(ctx, &res->docs[0], ctx->want_members);
        if (doc == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (scim_filter_match(ctx->filter_ast, ctx->rt, doc)) {
            json_array_append(ctx->matches, doc);
        }
    }

    ngx_http_scim_list_finish(ctx);
}


static void
ngx_http_scim_list_page(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t      *doc;
    ngx_uint_t   i;

    for (i = 0; i < res->ndocs; i++) {
        if (!res->docs[i].found) {
            continue;
        }

        doc = ngx_http_scim_expand(ctx, &res->docs[i], ctx->want_members);
        if (doc == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        json_array_append(ctx->matches, doc);
    }

    if (ctx->cursor_mode
        && ngx_http_scim_list_after(ctx, res) != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_list_respond(ctx, ctx->matches, res->total, 1);
}


/* a cursor's page of a group's members (of a member's groups) */

static void
ngx_http_scim_list_members(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res)
{
    if (ngx_http_scim_list_after(ctx, res) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* totalResults: the group's members, whatever this page holds */
    ctx->cursor_total = res->total;
    ctx->cursor_has_total = 1;

    if (scim_filter_is_simple_eq(ctx->filter_ast)) {
        ngx_http_scim_list_page_of(ctx, res);
        return;
    }

    ngx_http_scim_list_cands(ctx, res);
}


/* the next and previous pages' positions, out of the store's result */

static ngx_int_t
ngx_http_scim_list_after(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    ctx->cursor_next.len = 0;
    ctx->cursor_prev.len = 0;

    if (res->after.len) {
        ctx->cursor_next.data = ngx_pstrdup(ctx->request->pool, &res->after);
        if (ctx->cursor_next.data == NULL) {
            return NGX_ERROR;
        }

        ctx->cursor_next.len = res->after.len;
    }

    if (res->before.len) {
        ctx->cursor_prev.data = ngx_pstrdup(ctx->request->pool,
                                            &res->before);
        if (ctx->cursor_prev.data == NULL) {
            return NGX_ERROR;
        }

        ctx->cursor_prev.len = res->before.len;
    }

    return NGX_OK;
}


/* an id lookup's match (at most one): sort, cut the page, answer */

static void
ngx_http_scim_list_finish(ngx_http_scim_ctx_t *ctx)
{
    u_char        *s;
    scim_error_t   err;

    if (ctx->has_sort) {
        s = ngx_pnalloc(ctx->request->pool, ctx->sort_by.len + 1);
        if (s == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memcpy(s, ctx->sort_by.data, ctx->sort_by.len);
        s[ctx->sort_by.len] = '\0';

        ngx_memzero(&err, sizeof(scim_error_t));

        if (scim_sort(ctx->rt, ctx->matches, (char *) s, ctx->descending,
                      &err)
            != 0)
        {
            ngx_http_scim_fail_err(ctx, &err);
            return;
        }
    }

    ngx_http_scim_list_respond(ctx, ctx->matches,
                               json_array_size(ctx->matches), 0);
}


/*
 * docs: all matches (paged == 0: the page is cut here) or the page
 * itself (paged == 1: total counts the whole collection)
 */

static void
ngx_http_scim_list_respond(ngx_http_scim_ctx_t *ctx, json_t *docs,
    ngx_uint_t total, ngx_uint_t paged)
{
    size_t   i, from, to;
    json_t  *resources, *out;

    resources = ngx_http_scim_track(ctx->request, json_array());

    if (resources == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (paged) {
        from = 0;
        to = json_array_size(docs);

    } else {
        from = (size_t) ctx->start_index - 1;
        to = from + (size_t) ctx->count;

        if (to > json_array_size(docs) || to < from) {
            to = json_array_size(docs);
        }
    }

    for (i = from; i < to; i++) {
        out = scim_resource_present(ctx->rt, json_array_get(docs, i),
                                    (const char *) ctx->base_url.data,
                                    ctx->projection);

        if (out == NULL || json_array_append_new(resources, out) != 0) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_http_scim_list_answer(ctx, resources, total);
}
