
/*
 * ngx_http_scim_module: POST, PUT, PATCH and DELETE of /Users and /Groups.
 *
 * Writes are one store operation each (store/ngx_scim_store.h); a change
 * of an existing resource reads it, changes it in C, and writes it only
 * if it is still at the version read, retrying a bounded number of times.
 * A DELETE is one call that reads and deletes (the store folds the
 * document's ASCII index values itself), unless its name or an e-mail is
 * not ASCII: then the store gives the document back, and it is deleted
 * as a change is, at the version read.
 * A PATCH or PUT of a text the workers know (doccache.c) skips the read:
 * the write goes only if the stored text is still that one, and
 * otherwise brings back the current one, which it goes on from.
 * Group member changes never rewrite a member list: they travel as a
 * delta (clear, remove, add) applied to Redis sets, and a PATCH that only
 * touches members does not read the group at all.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_resource.h"


#define NGX_HTTP_SCIM_MAX_RETRIES   16


static void ngx_http_scim_create_write(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *unused);
static void ngx_http_scim_create_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_written(ngx_http_scim_ctx_t *ctx,
    ngx_uint_t status, ngx_scim_store_res_t *res);
static ngx_int_t ngx_http_scim_is_members(const char *path);
static ngx_int_t ngx_http_scim_members_only(json_t *body);
static void ngx_http_scim_members_patch(ngx_http_scim_ctx_t *ctx);
static ngx_int_t ngx_http_scim_modify_cached(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_modify_read(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_delete_id(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_delete_id_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_delete(ngx_http_scim_ctx_t *ctx,
    ngx_int_t version);
static ngx_int_t ngx_http_scim_delete_args(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_write_t *w);
static void ngx_http_scim_modify_write(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *unused);
static void ngx_http_scim_modify_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static ngx_int_t ngx_http_scim_written_groups(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_retry(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_retry_handler(ngx_event_t *ev);
static void ngx_http_scim_delete_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);


/* POST /Users, POST /Groups */

void
ngx_http_scim_create(ngx_http_scim_ctx_t *ctx)
{
    u_char        *idbuf;
    json_t        *normalized;
    scim_error_t   err;

    if (ngx_http_scim_projection(ctx) != NGX_OK) {
        return;
    }

    ngx_memzero(&err, sizeof(scim_error_t));

    normalized = ngx_http_scim_track(ctx->request,
                                     scim_resource_normalize(ctx->rt,
                                                     ctx->body,
                                                     SCIM_INPUT_CREATE,
                                                     &err));
    if (normalized == NULL) {
        ngx_http_scim_normalize_failed(ctx, &err);
        return;
    }

    idbuf = ngx_pnalloc(ctx->request->pool, 36);
    if (idbuf == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_random_id(idbuf);
    ctx->id.data = idbuf;
    ctx->id.len = 36;

    if (ctx->resource == NGX_HTTP_SCIM_R_GROUPS) {
        ctx->delta.add = json_object_get(normalized, "members");
    }

    ctx->newdoc = ngx_http_scim_assemble(ctx, normalized, &ctx->id, NULL);
    if (ctx->newdoc == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* a password is hashed in a thread, then the write goes on */

    ngx_http_scim_password_hash(ctx, ctx->newdoc,
                                ngx_http_scim_create_write);
}


static void
ngx_http_scim_create_write(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *unused)
{
    ngx_str_t               *v;
    ngx_http_scim_argv_t     a, add, em;
    ngx_scim_store_write_t   w;

    if (ngx_http_scim_serialize(ctx, ctx->newdoc) != NGX_OK
        || ngx_http_scim_argv_init(&a, ctx, 4) != NGX_OK
        || ngx_http_scim_argv_init(&add, ctx, 8) != NGX_OK
        || ngx_http_scim_argv_init(&em, ctx, 4) != NGX_OK
        || ngx_http_scim_arg_json(&a, ctx->newdoc,
                                  ngx_http_scim_name_attr(ctx), 1) != NGX_OK
        || ngx_http_scim_arg_json(&a, ctx->newdoc, "externalId", 0) != NGX_OK
        || ngx_http_scim_display(ctx, ctx->newdoc, &a) != NGX_OK
        || ngx_http_scim_arg_manager(&a, ctx->newdoc) != NGX_OK
        || ngx_http_scim_arg_ids(&add, ctx->delta.add, 1) != NGX_OK
        || ngx_http_scim_arg_emails(&em, ctx->newdoc) != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&w, sizeof(ngx_scim_store_write_t));

    v = a.args->elts;

    w.id = ctx->id;
    w.text = ctx->prefix;
    w.name = v[0];
    w.external_id = v[1];
    w.display = v[2];
    w.manager = v[3];
    w.unique_external_id = ctx->slcf->unique_external_id ? 1 : 0;
    ngx_http_scim_argv_list(&add, &w.add, &w.nadd);
    ngx_http_scim_argv_list(&em, &w.emails, &w.nemails);

    if (ngx_http_scim_event(ctx, "create", &w.event) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_create(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_create_done),
                                  &w));
}


static void
ngx_http_scim_create_done(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    switch (res->status) {

    case NGX_SCIM_STORE_OK:

        ngx_http_scim_doccache_put_head(ctx, &ctx->prefix, res->version);

        if (json_array_size(ctx->delta.add) > 0) {
            /* the members' display names are in the store */
            ctx->json_pool = NULL;
            ngx_http_scim_read(ctx, NGX_HTTP_CREATED, ngx_http_scim_get_done);
            return;
        }

        ngx_http_scim_written(ctx, NGX_HTTP_CREATED, res);
        return;

    case NGX_SCIM_STORE_CONFLICT:
    case NGX_SCIM_STORE_BAD_MEMBER:
        ngx_http_scim_conflict(ctx, res);
        return;

    default:
        /* an id collision: not expected with 122 random bits */
        ngx_http_scim_fail(ctx, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                           "id collision, retry");
        return;
    }
}


/*
 * The answer to a successful create (201) or replace (200) of what is in
 * ctx->newdoc; the script's reply is {1, version, manager display}.
 */

static void
ngx_http_scim_written(ngx_http_scim_ctx_t *ctx, ngx_uint_t status,
    ngx_scim_store_res_t *res)
{
    json_t     *out;
    ngx_int_t   rc;
    ngx_str_t  *mgr;

    mgr = res->manager.data ? &res->manager : NULL;

    rc = ngx_http_scim_fast_written(ctx, status, res->version, mgr);
    if (rc == NGX_OK) {
        return;
    }

    if (rc == NGX_ERROR) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_set_version(ctx->newdoc, res->version);

    if (ngx_http_scim_manager_display(ctx->newdoc, mgr) != NGX_OK
        || (ctx->related
            && json_object_set(ctx->newdoc, "groups", ctx->related) != 0)
        || (ctx->resource == NGX_HTTP_SCIM_R_GROUPS
            && json_object_set_new(ctx->newdoc, "members", json_array())
               != 0))
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->projection != NULL) {
        /* the projected answer may lack meta: headers from the whole */

        if (ngx_http_scim_location(ctx, ctx->newdoc) != NGX_OK) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ctx->headers_from = ctx->newdoc;
    }

    out = ngx_http_scim_present(ctx, ctx->newdoc);
    if (out == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_reply(ctx, status, out,
                        status == NGX_HTTP_CREATED ? 2 : 1);
}


/*
 * PUT, PATCH, DELETE of one resource.  A group PATCH that touches only
 * members, and a DELETE that expects one version or any, go straight to
 * the store; everything else reads first.
 */

void
ngx_http_scim_modify(ngx_http_scim_ctx_t *ctx)
{
    json_t                *dummy;
    scim_error_t           err;
    ngx_http_request_t    *r;

    r = ctx->request;

    if (ctx->retries == 0 && ctx->method != NGX_HTTP_DELETE
        && ngx_http_scim_projection(ctx) != NGX_OK)
    {
        return;
    }

    if (ctx->retries == 0 && ctx->method == NGX_HTTP_PATCH
        && ctx->resource == NGX_HTTP_SCIM_R_GROUPS)
    {
        dummy = ngx_http_scim_track(r, json_object());
        if (dummy == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memzero(&err, sizeof(scim_error_t));
        ngx_memzero(&ctx->delta, sizeof(scim_members_delta_t));

        if (ngx_http_scim_members_only(ctx->body)
            && ctx->n_if_match <= 1
            && scim_patch_apply(ctx->rt, dummy, ctx->body, &ctx->delta, &err)
               == 0
            && json_object_size(dummy) == 0)
        {
            ngx_http_scim_track(r, ctx->delta.add);
            ngx_http_scim_track(r, ctx->delta.remove);
            ngx_http_scim_members_patch(ctx);
            return;
        }

        json_decref(ctx->delta.add);
        json_decref(ctx->delta.remove);
        ngx_memzero(&ctx->delta, sizeof(scim_members_delta_t));
    }

    if (ctx->method == NGX_HTTP_DELETE && ctx->n_if_match <= 1) {
        ngx_http_scim_delete_id(ctx);
        return;
    }

    if (ctx->method != NGX_HTTP_DELETE && ngx_http_scim_modify_cached(ctx)) {
        return;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_get(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_modify_read),
                                  &ctx->id, 0));
}


/*
 * A PATCH or PUT from the workers' cache of the stored text, when it has
 * one: 1 when it went on so (or failed), 0 when the document must be read
 */

static ngx_int_t
ngx_http_scim_modify_cached(ngx_http_scim_ctx_t *ctx)
{
    ngx_int_t              rc;
    ngx_scim_store_res_t   res;
    ngx_scim_store_doc_t   doc;

    ngx_str_null(&ctx->doc_sha1);
    ngx_memzero(&doc, sizeof(ngx_scim_store_doc_t));

    rc = ngx_http_scim_doccache_get(ctx, &doc.text);

    if (rc == NGX_DECLINED) {
        return 0;
    }

    if (rc != NGX_OK
        || ngx_http_scim_doccache_sha1(ctx, &doc.text, &ctx->doc_sha1)
           != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return 1;
    }

    doc.found = 1;
    doc.bare = 1;

    ngx_memzero(&res, sizeof(ngx_scim_store_res_t));

    res.status = NGX_SCIM_STORE_OK;
    res.docs = &doc;
    res.ndocs = 1;

    ngx_http_scim_modify_read(ctx, &res);

    return 1;
}


/* "members", "members[...]" or "members.x", in any case */

static ngx_int_t
ngx_http_scim_is_members(const char *path)
{
    if (path == NULL || ngx_strncasecmp((u_char *) path,
                                        (u_char *) "members", 7) != 0)
    {
        return 0;
    }

    return path[7] == '\0' || path[7] == '[' || path[7] == '.';
}


/*
 * Whether every operation of a PatchOp names only "members": then the
 * group document itself cannot change, and it need not be read.
 */

static ngx_int_t
ngx_http_scim_members_only(json_t *body)
{
    size_t       i;
    json_t      *ops, *op, *path, *value, *v;
    const char  *key;

    ops = scim_json_get_ci(body, "Operations");

    if (!json_is_array(ops) || json_array_size(ops) == 0) {
        return 0;
    }

    json_array_foreach(ops, i, op) {
        /* the keys in any case, as scim_patch_apply() reads them */
        path = scim_json_get_ci(op, "path");
        value = scim_json_get_ci(op, "value");

        if (path != NULL && !json_is_null(path)) {
            if (!ngx_http_scim_is_members(json_string_value(path))) {
                return 0;
            }

            continue;
        }

        if (!json_is_object(value) || json_object_size(value) == 0) {
            return 0;
        }

        json_object_foreach(value, key, v) {
            if (!ngx_http_scim_is_members(key)) {
                return 0;
            }
        }
    }

    return 1;
}


static void
ngx_http_scim_members_patch(ngx_http_scim_ctx_t *ctx)
{
    u_char                   now[sizeof("2026-01-01T00:00:00.000Z")];
    u_char                  *p;
    ngx_http_scim_argv_t     rem, add;
    ngx_scim_store_write_t   w;

    ctx->members_only = 1;

    ngx_http_scim_iso_time(now);

    p = ngx_pnalloc(ctx->request->pool, sizeof(now));
    if (p == NULL
        || ngx_http_scim_argv_init(&rem, ctx, 8) != NGX_OK
        || ngx_http_scim_argv_init(&add, ctx, 8) != NGX_OK
        || ngx_http_scim_arg_ids(&rem, ctx->delta.remove, 0) != NGX_OK
        || ngx_http_scim_arg_ids(&add, ctx->delta.add, 1) != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(p, now, sizeof(now));

    ngx_memzero(&w, sizeof(ngx_scim_store_write_t));

    w.id = ctx->id;
    w.expect = ctx->expect_version;
    w.any_version = (ctx->expect_version < 0);
    w.now.data = p;
    w.now.len = ngx_strlen(p);
    w.clear = ctx->delta.clear;
    ngx_http_scim_argv_list(&rem, &w.remove, &w.nremove);
    ngx_http_scim_argv_list(&add, &w.add, &w.nadd);

    if (ngx_http_scim_event(ctx, "members", &w.event) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_members(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_modify_done),
                                  &w));
}


static void
ngx_http_scim_modify_read(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t              *work, *normalized, *pw, *oldpw;
    ngx_int_t            version;
    scim_error_t         err;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (res->status == NGX_SCIM_STORE_NOT_FOUND) {
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;
    }

    ctx->doc = ngx_http_scim_expand(ctx, &res->docs[0], 0);
    version = ngx_http_scim_doc_version(ctx->doc);

    if (ctx->doc_sha1.len
        && (version == NGX_ERROR || !ngx_http_scim_if_match_ok(ctx, version)))
    {
        /* the cached version may be a stale one: If-Match on the stored */

        ngx_http_scim_doccache_drop(ctx);
        ngx_str_null(&ctx->doc_sha1);

        ngx_http_scim_issued(ctx, ngx_scim_store_get(
                                      ngx_http_scim_call(ctx,
                                                    ngx_http_scim_modify_read),
                                      &ctx->id, 0));
        return;
    }

    if (ctx->doc == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* a user's groups: shown in the answer, never written */
    ctx->related = json_object_get(ctx->doc, "groups");

    if (ctx->related) {
        json_incref(ctx->related);
        ngx_http_scim_track(r, ctx->related);
        json_object_del(ctx->doc, "groups");
    }

    if (!ngx_http_scim_if_match_ok(ctx, version)) {
        ngx_http_scim_fail(ctx, NGX_HTTP_PRECONDITION_FAILED, NULL,
                           "the resource changed: its version is W/\"%i\"",
                           version);
        return;
    }

    if (ctx->method == NGX_HTTP_DELETE) {
        ngx_http_scim_delete(ctx, version);
        return;
    }

    ngx_memzero(&err, sizeof(scim_error_t));

    /* a retry starts over; the pool frees what an attempt allocated */
    ngx_memzero(&ctx->delta, sizeof(scim_members_delta_t));

    if (ctx->method == NGX_HTTP_PUT) {
        normalized = ngx_http_scim_track(r,
                                 scim_resource_normalize(ctx->rt, ctx->body,
                                                         SCIM_INPUT_REPLACE,
                                                         &err));
        if (normalized && ctx->resource == NGX_HTTP_SCIM_R_GROUPS) {
            /* PUT replaces the members too */
            ctx->delta.clear = 1;
            ctx->delta.add = json_incref(json_object_get(normalized,
                                                         "members"));
        }

    } else {
        /* ctx->doc stays as read: the old names, immutables, password */

        work = ngx_http_scim_track(r,
                           scim_patch_applied(ctx->rt, ctx->doc, ctx->body,
                                              ctx->resource
                                              == NGX_HTTP_SCIM_R_GROUPS
                                              ? &ctx->delta : NULL, &err));
        if (work == NULL) {
            ngx_http_scim_track(r, ctx->delta.add);
            ngx_http_scim_track(r, ctx->delta.remove);
            ngx_http_scim_fail_err(ctx, &err);
            return;
        }

        normalized = ngx_http_scim_track(r,
                                 scim_resource_normalize(ctx->rt, work,
                                                         SCIM_INPUT_STORED,
                                                         &err));
    }

    ngx_http_scim_track(r, ctx->delta.add);
    ngx_http_scim_track(r, ctx->delta.remove);

    if (normalized == NULL) {
        ngx_http_scim_normalize_failed(ctx, &err);
        return;
    }

    /* immutable attributes, once set, keep their value (RFC 7643 2.2) */

    if (scim_resource_check_immutable(ctx->rt, ctx->doc, normalized, &err)
        != 0)
    {
        ngx_http_scim_fail_err(ctx, &err);
        return;
    }

    pw = json_object_get(normalized, "password");
    oldpw = json_object_get(ctx->doc, "password");

    /*
     * A PUT without "password" keeps the stored one: it is never
     * returned, so a client cannot send it back (RFC 7644 3.5.1 lets an
     * omitted attribute be "not asserted").  PATCH "remove" clears it.
     */

    if (pw == NULL && oldpw != NULL && ctx->method == NGX_HTTP_PUT) {
        if (json_object_set(normalized, "password", oldpw) != 0) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        pw = oldpw;
    }

    ctx->newdoc = ngx_http_scim_assemble(ctx, normalized, &ctx->id,
                                         json_object_get(
                                             json_object_get(ctx->doc, "meta"),
                                             "created"));
    if (ctx->newdoc == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* a password that the request did not change stays as hashed */

    if (pw == NULL || (oldpw && json_equal(pw, oldpw))) {
        ngx_http_scim_modify_write(ctx, NULL);
        return;
    }

    ngx_http_scim_password_hash(ctx, ctx->newdoc,
                                ngx_http_scim_modify_write);
}


/*
 * A DELETE in one call: the store reads the document, checks the version
 * (If-Match's one, or any) and deletes it with its index entries, whose
 * values it takes from the document; a name or an e-mail that is not
 * ASCII it leaves to the C core's folding (FOLD: ngx_http_scim_delete
 * at the version read, as a change is).
 */

static void
ngx_http_scim_delete_id(ngx_http_scim_ctx_t *ctx)
{
    ngx_scim_store_write_t  w;

    ngx_memzero(&w, sizeof(ngx_scim_store_write_t));

    w.id = ctx->id;
    w.expect = ctx->expect_version;
    w.any_version = (ctx->expect_version < 0);

    if (ngx_http_scim_delete_args(ctx, &w) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_delete_id(
                                  ngx_http_scim_call(ctx,
                                               ngx_http_scim_delete_id_done),
                                  &w));
}


static void
ngx_http_scim_delete_id_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res)
{
    switch (res->status) {

    case NGX_SCIM_STORE_FOLD:
        /* docs[0]: the document, read as a change reads it */
        ngx_http_scim_modify_read(ctx, res);
        return;

    case NGX_SCIM_STORE_STALE:

        if (ctx->expect_version >= 0) {
            ngx_http_scim_fail(ctx, NGX_HTTP_PRECONDITION_FAILED, NULL,
                               "the resource changed: its version is "
                               "W/\"%i\"", res->version);
            return;
        }

        ngx_http_scim_retry(ctx);
        return;

    default:
        ngx_http_scim_delete_done(ctx, res);
        return;
    }
}


static void
ngx_http_scim_delete(ngx_http_scim_ctx_t *ctx, ngx_int_t version)
{
    ngx_str_t               *v;
    ngx_http_scim_argv_t     a, em;
    ngx_scim_store_write_t   w;

    if (ngx_http_scim_argv_init(&a, ctx, 2) != NGX_OK
        || ngx_http_scim_argv_init(&em, ctx, 4) != NGX_OK
        || ngx_http_scim_arg_json(&a, ctx->doc, ngx_http_scim_name_attr(ctx),
                                  1) != NGX_OK
        || ngx_http_scim_arg_json(&a, ctx->doc, "externalId", 0) != NGX_OK
        || ngx_http_scim_arg_emails(&em, ctx->doc) != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&w, sizeof(ngx_scim_store_write_t));

    v = a.args->elts;

    w.id = ctx->id;
    w.expect = version;
    w.name = v[0];
    w.external_id = v[1];
    ngx_http_scim_argv_list(&em, &w.emails, &w.nemails);

    if (ngx_http_scim_delete_args(ctx, &w) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_delete(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_delete_done),
                                  &w));
}


/*
 * what both deletes take besides the document's values: the
 * lastModified of a user's reports, which lose their manager, and the
 * event
 */

static ngx_int_t
ngx_http_scim_delete_args(ngx_http_scim_ctx_t *ctx, ngx_scim_store_write_t *w)
{
    u_char  *p;

    p = ngx_pnalloc(ctx->request->pool, sizeof("2026-01-01T00:00:00.000Z"));
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_scim_iso_time(p);
    w->now.data = p;
    w->now.len = ngx_strlen(p);

    return ngx_http_scim_event(ctx, "delete", &w->event);
}


static void
ngx_http_scim_modify_write(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *unused)
{
    json_t                  *meta;
    ngx_str_t               *v;
    ngx_http_scim_argv_t     a, rem, add, oldem, newem;
    ngx_scim_store_write_t   w;

    if (ngx_http_scim_serialize(ctx, ctx->newdoc) != NGX_OK
        || ngx_http_scim_argv_init(&a, ctx, 8) != NGX_OK
        || ngx_http_scim_argv_init(&rem, ctx, 8) != NGX_OK
        || ngx_http_scim_argv_init(&add, ctx, 8) != NGX_OK
        || ngx_http_scim_argv_init(&oldem, ctx, 4) != NGX_OK
        || ngx_http_scim_argv_init(&newem, ctx, 4) != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    meta = json_object_get(ctx->newdoc, "meta");

    if (ngx_http_scim_arg_json(&a, ctx->doc, ngx_http_scim_name_attr(ctx),
                               1) != NGX_OK
        || ngx_http_scim_arg_json(&a, ctx->newdoc,
                                  ngx_http_scim_name_attr(ctx), 1) != NGX_OK
        || ngx_http_scim_arg_json(&a, ctx->doc, "externalId", 0) != NGX_OK
        || ngx_http_scim_arg_json(&a, ctx->newdoc, "externalId", 0) != NGX_OK
        || ngx_http_scim_display(ctx, ctx->newdoc, &a) != NGX_OK
        || ngx_http_scim_arg_json(&a, meta, "lastModified", 0) != NGX_OK
        || ngx_http_scim_arg_manager(&a, ctx->newdoc) != NGX_OK
        || ngx_http_scim_arg_ids(&rem, ctx->delta.remove, 0) != NGX_OK
        || ngx_http_scim_arg_ids(&add, ctx->delta.add, 1) != NGX_OK
        || ngx_http_scim_arg_emails(&oldem, ctx->doc) != NGX_OK
        || ngx_http_scim_arg_emails(&newem, ctx->newdoc) != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&w, sizeof(ngx_scim_store_write_t));

    v = a.args->elts;

    w.id = ctx->id;
    w.expect = ngx_http_scim_doc_version(ctx->doc);
    w.text = ctx->prefix;
    w.old_name = v[0];
    w.name = v[1];
    w.old_external_id = v[2];
    w.external_id = v[3];
    w.display = v[4];
    w.now = v[5];
    w.manager = v[6];
    w.unique_external_id = ctx->slcf->unique_external_id ? 1 : 0;
    w.sha1 = ctx->doc_sha1;
    w.clear = ctx->delta.clear;
    ngx_http_scim_argv_list(&rem, &w.remove, &w.nremove);
    ngx_http_scim_argv_list(&add, &w.add, &w.nadd);
    ngx_http_scim_argv_list(&oldem, &w.old_emails, &w.nold_emails);
    ngx_http_scim_argv_list(&newem, &w.emails, &w.nemails);

    if (ngx_http_scim_event(ctx, ctx->method == NGX_HTTP_PATCH
                                 ? "patch" : "replace", &w.event)
        != NGX_OK)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_replace(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_modify_done),
                                  &w));
}


static void
ngx_http_scim_modify_done(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    switch (res->status) {

    case NGX_SCIM_STORE_OK:

        if (ctx->members_only) {
            ngx_http_scim_doccache_drop(ctx);

        } else {
            ngx_http_scim_doccache_put_head(ctx, &ctx->prefix, res->version);
        }

        if (ctx->doc_sha1.len
            && ngx_http_scim_written_groups(ctx, res) != NGX_OK)
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (ctx->resource == NGX_HTTP_SCIM_R_GROUPS) {
            /*
             * Group PATCH: 204 (Entra expects it, and never loads the
             * member list); the group only when the request names
             * attributes or excludedAttributes.  PUT: the group.
             */

            if (ctx->method == NGX_HTTP_PATCH && ctx->projection == NULL) {
                ngx_http_scim_reply(ctx, NGX_HTTP_NO_CONTENT, NULL, 0);
                return;
            }

            /* a read, which may stream many members: malloc() */
            ctx->json_pool = NULL;
            ngx_http_scim_read(ctx, NGX_HTTP_OK, ngx_http_scim_get_done);
            return;
        }

        ngx_http_scim_written(ctx, NGX_HTTP_OK, res);
        return;

    case NGX_SCIM_STORE_CHANGED:

        /* the cached text was not the stored one: go on from this one */

        ngx_http_scim_doccache_drop(ctx);
        ngx_str_null(&ctx->doc_sha1);

        res->status = NGX_SCIM_STORE_OK;
        ngx_http_scim_modify_read(ctx, res);
        return;

    case NGX_SCIM_STORE_NOT_FOUND:
        ngx_http_scim_doccache_drop(ctx);
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;

    case NGX_SCIM_STORE_CONFLICT:
    case NGX_SCIM_STORE_BAD_MEMBER:
        ngx_http_scim_conflict(ctx, res);
        return;

    default:
        ngx_http_scim_doccache_drop(ctx);
        ngx_http_scim_retry(ctx);
        return;
    }
}


/*
 * A user's groups as the write of a cached text read them (a read
 * brings them with the document): "groups" as ngx_http_scim_expand()
 * makes them
 */

static ngx_int_t
ngx_http_scim_written_groups(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res)
{
    ctx->related = NULL;

    if (ctx->resource != NGX_HTTP_SCIM_R_USERS || res->ndocs == 0
        || res->docs[0].nrefs == 0)
    {
        return NGX_OK;
    }

    ctx->related = ngx_http_scim_track(ctx->request,
                                       ngx_http_scim_refs(ctx, &res->docs[0]));

    return ctx->related ? NGX_OK : NGX_ERROR;
}


/* the resource was written by someone else between our read and write */

static void
ngx_http_scim_retry(ngx_http_scim_ctx_t *ctx)
{
    ngx_msec_t  cap;

    if (ctx->expect_version >= 0) {
        ngx_http_scim_fail(ctx, NGX_HTTP_PRECONDITION_FAILED, NULL,
                           "the resource changed meanwhile");
        return;
    }

    if (++ctx->retries > NGX_HTTP_SCIM_MAX_RETRIES) {
        ngx_http_scim_fail(ctx, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                           "the resource is being changed by other requests "
                           "at the same time; retry later");
        return;
    }

    if (ctx->retries <= 2) {
        ngx_http_scim_modify(ctx);
        return;
    }

    /*
     * Writers racing on one resource: back off for a random time that
     * grows with each attempt, so that they stop colliding.
     */

    cap = (ngx_msec_t) 1 << (ctx->retries < 7 ? ctx->retries : 6);

    ctx->retry.handler = ngx_http_scim_retry_handler;
    ctx->retry.data = ctx;
    ctx->retry.log = ctx->request->connection->log;

    ngx_add_timer(&ctx->retry, 1 + ngx_random() % cap);
}


static void
ngx_http_scim_retry_handler(ngx_event_t *ev)
{
    ngx_http_scim_ctx_t         *ctx;
    ngx_http_scim_json_arena_t  *prev;

    ctx = ev->data;

    ngx_http_scim_json_pool_check(ev->log);

    prev = ngx_http_scim_json_pool(ctx->json_pool);
    ngx_http_scim_modify(ctx);
    (void) ngx_http_scim_json_pool(prev);
}


static void
ngx_http_scim_delete_done(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    if (res->status == NGX_SCIM_STORE_OK
        || res->status == NGX_SCIM_STORE_NOT_FOUND)
    {
        ngx_http_scim_doccache_drop(ctx);
    }

    switch (res->status) {

    case NGX_SCIM_STORE_OK:
        ngx_http_scim_reply(ctx, NGX_HTTP_NO_CONTENT, NULL, 0);
        return;

    case NGX_SCIM_STORE_NOT_FOUND:
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;

    default:
        ngx_http_scim_retry(ctx);
        return;
    }
}
