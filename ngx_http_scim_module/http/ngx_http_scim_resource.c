
/*
 * ngx_http_scim_module: /Users and /Groups, what reading, writing and
 * listing share: script arguments, a stored document parsed and expanded
 * (group members, the manager's displayName), a document assembled,
 * serialized and presented, the projection, the conflict and failed
 * normalization answers, the ListResponse.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_resource.h"


/* a stored document's text up to this size is serialized only once */
#define NGX_HTTP_SCIM_SERIALIZE_STACK  4096


static ngx_int_t ngx_http_scim_arg(ngx_http_scim_argv_t *a, u_char *data,
    size_t len);
static ngx_int_t ngx_http_scim_arg_str(ngx_http_scim_argv_t *a,
    ngx_str_t *s);
static ngx_int_t ngx_http_scim_arg_int(ngx_http_scim_argv_t *a,
    ngx_int_t n);
static json_t *ngx_http_scim_parse_raw(ngx_http_scim_ctx_t *ctx,
    const char *s, size_t len);


/* script arguments */

ngx_int_t
ngx_http_scim_argv_init(ngx_http_scim_argv_t *a, ngx_http_scim_ctx_t *ctx,
    ngx_uint_t n)
{
    a->pool = ctx->request->pool;
    a->args = ngx_array_create(a->pool, n, sizeof(ngx_str_t));

    return a->args ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_scim_arg(ngx_http_scim_argv_t *a, u_char *data, size_t len)
{
    ngx_str_t  *s;

    s = ngx_array_push(a->args);
    if (s == NULL) {
        return NGX_ERROR;
    }

    s->data = data;
    s->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_arg_str(ngx_http_scim_argv_t *a, ngx_str_t *s)
{
    return ngx_http_scim_arg(a, s->data, s->len);
}


static ngx_int_t
ngx_http_scim_arg_int(ngx_http_scim_argv_t *a, ngx_int_t n)
{
    u_char  *p;

    p = ngx_pnalloc(a->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_scim_arg(a, p, ngx_sprintf(p, "%i", n) - p);
}


/* s case-folded (scim_casefold) into pool memory */

ngx_int_t
ngx_http_scim_fold(ngx_pool_t *pool, const char *s, size_t n, ngx_str_t *out)
{
    char    *f;
    size_t   len;

    f = scim_casefold(s, n, &len);
    if (f == NULL) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        free(f);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, f, len);
    out->len = len;
    free(f);

    return NGX_OK;
}


/* a string member (empty if absent), optionally case-folded */

ngx_int_t
ngx_http_scim_arg_json(ngx_http_scim_argv_t *a, json_t *obj,
    const char *key, ngx_uint_t fold)
{
    json_t     *v;
    ngx_str_t   folded;

    v = json_object_get(obj, key);

    if (!json_is_string(v)) {
        return ngx_http_scim_arg(a, (u_char *) "", 0);
    }

    if (!fold) {
        return ngx_http_scim_arg(a, (u_char *) json_string_value(v),
                                 json_string_length(v));
    }

    if (ngx_http_scim_fold(a->pool, json_string_value(v),
                           json_string_length(v), &folded)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_scim_arg_str(a, &folded);
}


/* the enterprise manager's id, '' if none */

ngx_int_t
ngx_http_scim_arg_manager(ngx_http_scim_argv_t *a, json_t *doc)
{
    return ngx_http_scim_arg_json(a,
                                  json_object_get(json_object_get(doc,
                                                  SCIM_SCHEMA_ENTERPRISE),
                                                  "manager"),
                                  "value", 0);
}


/* count, then ids: from strings or from {"value": id} objects */

ngx_int_t
ngx_http_scim_arg_ids(ngx_http_scim_argv_t *a, json_t *list,
    ngx_uint_t objects)
{
    u_char      *id;
    size_t       i, n, slot;
    json_t      *v;
    ngx_str_t   *count;

    if (ngx_http_scim_arg_int(a, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    /* an index, not a pointer: pushing may move the array */
    slot = a->args->nelts - 1;
    n = 0;

    for (i = 0; i < json_array_size(list); i++) {
        v = json_array_get(list, i);

        if (objects) {
            v = json_object_get(v, "value");
        }

        if (!json_is_string(v)) {
            continue;
        }

        /* member ids compare ignoring case: ours are lower-case hex */

        id = ngx_pnalloc(a->pool, json_string_length(v));
        if (id == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(id, (u_char *) json_string_value(v),
                   json_string_length(v));

        if (ngx_http_scim_arg(a, id, json_string_length(v)) != NGX_OK) {
            return NGX_ERROR;
        }

        n++;
    }

    count = (ngx_str_t *) a->args->elts + slot;
    count->len = ngx_sprintf(count->data, "%uz", n) - count->data;

    return NGX_OK;
}


/*
 * count, then the folded values of a user's e-mails (any type), for the
 * e-mail index; 0 for a document without them (or NULL)
 */

ngx_int_t
ngx_http_scim_arg_emails(ngx_http_scim_argv_t *a, json_t *doc)
{
    size_t       i, n, slot;
    json_t      *v;
    ngx_str_t   *count, folded;

    if (ngx_http_scim_arg_int(a, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    slot = a->args->nelts - 1;
    n = 0;

    json_array_foreach(json_object_get(doc, "emails"), i, v) {
        v = json_object_get(v, "value");

        if (!json_is_string(v) || json_string_length(v) == 0) {
            continue;
        }

        if (ngx_http_scim_fold(a->pool, json_string_value(v),
                               json_string_length(v), &folded)
            != NGX_OK
            || ngx_http_scim_arg_str(a, &folded) != NGX_OK)
        {
            return NGX_ERROR;
        }

        n++;
    }

    count = (ngx_str_t *) a->args->elts + slot;
    count->len = ngx_sprintf(count->data, "%uz", n) - count->data;

    return NGX_OK;
}


/* the values of a list built by arg_ids or arg_emails (after its count) */

void
ngx_http_scim_argv_list(ngx_http_scim_argv_t *a, ngx_str_t **list,
    ngx_uint_t *n)
{
    *list = (ngx_str_t *) a->args->elts + 1;
    *n = a->args->nelts - 1;
}


/* the name index: userName for users, displayName for groups */

const char *
ngx_http_scim_name_attr(ngx_http_scim_ctx_t *ctx)
{
    return ctx->resource == NGX_HTTP_SCIM_R_USERS ? "userName"
                                                  : "displayName";
}


/* a stored document (new reference), or NULL */

static json_t *
ngx_http_scim_parse_raw(ngx_http_scim_ctx_t *ctx, const char *s, size_t len)
{
    json_t  *doc;

    doc = json_loadb(s, len, 0, NULL);

    if (doc == NULL || !json_is_object(doc)) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "scim: a stored document is not a JSON object");
        json_decref(doc);
        return NULL;
    }

    return doc;
}


/*
 * A read script's entry {doc, manager display, id, type, display, ...}
 * as a document: a user gets its manager's current displayName and
 * "groups" [{value, display, type: "direct"}], a group (members != 0)
 * gets "members" [{value, display, type}].
 */

json_t *
ngx_http_scim_expand_raw(ngx_http_scim_ctx_t *ctx, ngx_scim_store_doc_t *d,
    ngx_uint_t members)
{
    json_t  *doc, *list;

    if (d->text.data == NULL) {
        return NULL;
    }

    doc = ngx_http_scim_parse_raw(ctx, (const char *) d->text.data,
                                  d->text.len);

    if (doc == NULL || d->bare) {
        return doc;
    }

    if ((ctx->filter_location
         && ngx_http_scim_location(ctx, doc) != NGX_OK)
        || (ctx->resource == NGX_HTTP_SCIM_R_USERS
            && ngx_http_scim_manager_display(doc, d->manager.data
                                                  ? &d->manager : NULL)
               != NGX_OK))
    {
        json_decref(doc);
        return NULL;
    }

    if (ctx->resource == NGX_HTTP_SCIM_R_GROUPS && !members) {
        return doc;
    }

    if (ctx->resource == NGX_HTTP_SCIM_R_USERS && d->nrefs == 0) {
        return doc;
    }

    list = ngx_http_scim_refs(ctx, d);
    if (list == NULL) {
        json_decref(doc);
        return NULL;
    }

    if (json_object_set_new(doc,
                            ctx->resource == NGX_HTTP_SCIM_R_USERS
                            ? "groups" : "members", list)
        != 0)
    {
        json_decref(doc);
        return NULL;
    }

    return doc;
}


/*
 * A read script's references of d as a new array: a user's groups
 * [{value, display, type: "direct"}], a group's members [{value,
 * display, type}]; NULL on failure
 */

json_t *
ngx_http_scim_refs(ngx_http_scim_ctx_t *ctx, ngx_scim_store_doc_t *d)
{
    json_t                *list, *item;
    ngx_uint_t             i;
    ngx_scim_store_ref_t  *ref;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (i = 0; i < d->nrefs; i++) {
        ref = &d->refs[i];

        if (ctx->resource == NGX_HTTP_SCIM_R_USERS) {
            item = json_pack("{s:s%,s:s%,s:s}",
                             "value", ref->id.data, ref->id.len,
                             "display", ref->display.data, ref->display.len,
                             "type", "direct");

        } else {
            item = json_pack("{s:s%,s:s%,s:s%}",
                             "value", ref->id.data, ref->id.len,
                             "display", ref->display.data, ref->display.len,
                             "type", ref->type.data, ref->type.len);
        }

        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


/* the same, freed with the request */

json_t *
ngx_http_scim_expand(ngx_http_scim_ctx_t *ctx, ngx_scim_store_doc_t *d,
    ngx_uint_t members)
{
    return ngx_http_scim_track(ctx->request,
                               ngx_http_scim_expand_raw(ctx, d, members));
}


/*
 * The enterprise manager is returned as {value, $ref, displayName}; the
 * displayName is the manager's current one, which the store reads with
 * the document (User:manager), so a manager's rename shows at once.
 */

ngx_int_t
ngx_http_scim_manager_display(json_t *doc, ngx_str_t *display)
{
    json_t  *mgr;

    mgr = json_object_get(json_object_get(doc, SCIM_SCHEMA_ENTERPRISE),
                          "manager");

    if (!json_is_object(mgr)) {
        return NGX_OK;
    }

    if (display == NULL) {
        json_object_del(mgr, "displayName");
        return NGX_OK;
    }

    return json_object_set_new(mgr, "displayName",
                               json_stringn((const char *) display->data,
                                            display->len))
           == 0 ? NGX_OK : NGX_ERROR;
}


/*
 * meta.location is not stored (it depends on the request); a filter on
 * it sees the value the answer would show
 */

ngx_int_t
ngx_http_scim_location(ngx_http_scim_ctx_t *ctx, json_t *doc)
{
    json_t  *meta, *id;

    meta = json_object_get(doc, "meta");
    id = json_object_get(doc, "id");

    if (!json_is_object(meta) || !json_is_string(id)) {
        return NGX_OK;
    }

    return json_object_set_new(meta, "location",
                               json_sprintf("%s%s/%s",
                                            (char *) ctx->base_url.data,
                                            ctx->rt->endpoint,
                                            json_string_value(id)))
           == 0 ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_scim_doc_version(json_t *doc)
{
    size_t       len;
    const char  *v;

    v = json_string_value(json_object_get(json_object_get(doc, "meta"),
                                          "version"));
    if (v == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(v);

    if (len < 5 || v[0] != 'W' || v[1] != '/' || v[2] != '"'
        || v[len - 1] != '"')
    {
        return NGX_ERROR;
    }

    return ngx_atoi((u_char *) v + 3, len - 4);
}


void
ngx_http_scim_iso_time(u_char *buf)
{
    ngx_tm_t     tm;
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    ngx_gmtime(tp->sec, &tm);

    ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02d.%03MZ%Z",
                tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                tp->msec);
}


/*
 * The stored form: schemas, id, the attributes, meta last with version
 * last (see store/ngx_scim_store.c).  Groups keep no members in it.
 */

json_t *
ngx_http_scim_assemble(ngx_http_scim_ctx_t *ctx, json_t *normalized,
    ngx_str_t *id, json_t *created)
{
    u_char       now[sizeof("2026-01-01T00:00:00.000Z")];
    json_t      *doc, *meta, *value;
    const char  *key;

    doc = json_object();
    meta = json_object();

    if (doc == NULL || meta == NULL) {
        goto failed;
    }

    value = json_object_get(normalized, "schemas");

    if (value && json_object_set(doc, "schemas", value) != 0) {
        goto failed;
    }

    if (json_object_set_new(doc, "id",
                            json_stringn((char *) id->data, id->len))
        != 0)
    {
        goto failed;
    }

    json_object_foreach(normalized, key, value) {
        if (ngx_strcmp(key, "schemas") == 0 || ngx_strcmp(key, "id") == 0
            || ngx_strcmp(key, "meta") == 0 || ngx_strcmp(key, "groups") == 0
            || (ctx->resource == NGX_HTTP_SCIM_R_GROUPS
                && ngx_strcmp(key, "members") == 0))
        {
            continue;
        }

        if (json_object_set(doc, key, value) != 0) {
            goto failed;
        }
    }

    ngx_http_scim_iso_time(now);

    if (json_object_set_new(meta, "resourceType",
                            json_string(ctx->rt->name)) != 0
        || json_object_set_new(meta, "created",
                               created ? json_incref(created)
                                       : json_string((char *) now)) != 0
        || json_object_set_new(meta, "lastModified",
                               json_string((char *) now)) != 0
        || json_object_set_new(meta, "version", json_string("")) != 0)
    {
        goto failed;
    }

    if (json_object_set_new(doc, "meta", meta) != 0) {
        meta = NULL;
        goto failed;
    }

    return ngx_http_scim_track(ctx->request, doc);

failed:

    json_decref(meta);
    json_decref(doc);

    return NULL;
}


/*
 * ctx->prefix = the stored form of doc without its version; serialized
 * once when it fits the stack buffer (most documents do), else twice
 */

ngx_int_t
ngx_http_scim_serialize(ngx_http_scim_ctx_t *ctx, json_t *doc)
{
    u_char      buf[NGX_HTTP_SCIM_SERIALIZE_STACK];
    u_char     *p;
    size_t      size;
    ngx_str_t   text;

    size = scim_json_dumpb(doc, (char *) buf, sizeof(buf));

    p = ngx_pnalloc(ctx->request->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (size <= sizeof(buf)) {
        ngx_memcpy(p, buf, size);

    } else {
        (void) scim_json_dumpb(doc, (char *) p, size);
    }

    text.data = p;
    text.len = size;

    if (ngx_scim_store_head(&text, &ctx->prefix) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, ctx->request->connection->log, 0,
                      "scim: document does not end with its version");
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_scim_set_version(json_t *doc, long long seq)
{
    char  buf[32];

    snprintf(buf, sizeof(buf), "W/\"%lld\"", seq);

    json_object_set_new(json_object_get(doc, "meta"), "version",
                        json_string(buf));
}


/* what members and groups show as "display": displayName, else userName */

ngx_int_t
ngx_http_scim_display(ngx_http_scim_ctx_t *ctx, json_t *doc,
    ngx_http_scim_argv_t *a)
{
    if (json_is_string(json_object_get(doc, "displayName"))) {
        return ngx_http_scim_arg_json(a, doc, "displayName", 0);
    }

    return ngx_http_scim_arg_json(a, doc, ngx_http_scim_name_attr(ctx), 0);
}


json_t *
ngx_http_scim_present(ngx_http_scim_ctx_t *ctx, json_t *doc)
{
    return ngx_http_scim_track(ctx->request,
                               scim_resource_present(ctx->rt, doc,
                                   (const char *) ctx->base_url.data,
                                   ctx->projection));
}


ngx_int_t
ngx_http_scim_projection(ngx_http_scim_ctx_t *ctx)
{
    u_char        *a, *e;
    scim_error_t   err;

    ctx->want_members = 1;

    if (ctx->attributes.len == 0 && ctx->excluded.len == 0) {
        return NGX_OK;
    }

    a = ngx_pnalloc(ctx->request->pool,
                    ctx->attributes.len + ctx->excluded.len + 2);
    if (a == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    /* either may be absent (data NULL): no memcpy from NULL */

    e = a;

    if (ctx->attributes.len) {
        e = ngx_cpymem(e, ctx->attributes.data, ctx->attributes.len);
    }

    *e++ = '\0';

    if (ctx->excluded.len) {
        ngx_memcpy(e, ctx->excluded.data, ctx->excluded.len);
    }

    e[ctx->excluded.len] = '\0';

    ngx_memzero(&err, sizeof(scim_error_t));

    ctx->projection = scim_projection_create(ctx->rt,
                                             ctx->attributes.len
                                             ? (char *) a : NULL,
                                             ctx->excluded.len
                                             ? (char *) e : NULL,
                                             &err);
    if (ctx->projection == NULL) {
        ngx_http_scim_fail_err(ctx, &err);
        return NGX_ERROR;
    }

    ctx->want_members = scim_projection_wants(ctx->projection, "members")
                        ? 1 : 0;

    return NGX_OK;
}


void
ngx_http_scim_normalize_failed(ngx_http_scim_ctx_t *ctx, scim_error_t *err)
{
    if (err->status) {
        ngx_http_scim_fail_err(ctx, err);
        return;
    }

    ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
}


void
ngx_http_scim_conflict(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    if (res->status == NGX_SCIM_STORE_BAD_MEMBER) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_VALUE,
                           res->bad == NGX_SCIM_STORE_BAD_CYCLE
                           ? "member \"%*s\" is a group that holds this "
                             "group, directly or not: no cycles"
                           : res->bad == NGX_SCIM_STORE_BAD_MANAGER
                           ? "manager \"%*s\" is no user of this tenant (or "
                             "is the user itself)"
                           : "member \"%*s\" is neither a user nor a group "
                             "of this tenant (or is the group itself)",
                           res->bad_member.len,
                           res->bad_member.data ? res->bad_member.data
                                                : (u_char *) "");
        return;
    }

    ngx_http_scim_fail(ctx, NGX_HTTP_CONFLICT, SCIM_ERR_UNIQUENESS,
                       "%s is already taken",
                       res->conflict == NGX_SCIM_STORE_EXTERNAL_ID
                       ? "externalId" : ngx_http_scim_name_attr(ctx));
}


/* the ListResponse around the page's presented resources */

void
ngx_http_scim_list_answer(ngx_http_scim_ctx_t *ctx, json_t *resources,
    ngx_uint_t total)
{
    u_char      *p;
    json_t      *list;
    ngx_str_t    next, prev;
    ngx_uint_t   end;

    ngx_str_null(&next);
    ngx_str_null(&prev);

    if (ctx->cursor_mode) {

        /*
         * RFC 9865: nextCursor unless this is the last page,
         * previousCursor unless it is the first (not for offsets)
         */

        if (ctx->cursor_has_total) {
            total = ctx->cursor_total;
        }

        if (ctx->cursor_kind == 'o') {
            end = (ngx_uint_t) ctx->start_index - 1 + (ngx_uint_t) ctx->count;
            ctx->cursor_next.len = 0;

            if (ctx->count > 0 && end < total) {
                p = ngx_pnalloc(ctx->request->pool, NGX_INT_T_LEN);
                if (p == NULL) {
                    ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                ctx->cursor_next.data = p;
                ctx->cursor_next.len = ngx_sprintf(p, "%ui", end) - p;
            }
        }

        if ((ctx->cursor_next.len
             && ngx_http_scim_cursor_make(ctx, &ctx->cursor_next, 0, &next)
                != NGX_OK)
            || (ctx->cursor_prev.len
                && ngx_http_scim_cursor_make(ctx, &ctx->cursor_prev, 1,
                                             &prev)
                   != NGX_OK))
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    list = ngx_http_scim_track(ctx->request, json_object());

    if (list == NULL
        || json_object_set_new(list, "schemas",
                               json_pack("[s]", SCIM_SCHEMA_LIST)) != 0
        || json_object_set_new(list, "totalResults",
                               json_integer((json_int_t) total)) != 0
        || json_object_set_new(list, "itemsPerPage",
                               json_integer((json_int_t)
                                            json_array_size(resources))) != 0
        || (!ctx->cursor_mode
            && json_object_set_new(list, "startIndex",
                                   json_integer(ctx->start_index)) != 0)
        || (next.len
            && json_object_set_new(list, "nextCursor",
                                   json_stringn((char *) next.data,
                                                next.len)) != 0)
        || (prev.len
            && json_object_set_new(list, "previousCursor",
                                   json_stringn((char *) prev.data,
                                                prev.len)) != 0)
        || json_object_set(list, "Resources", resources) != 0)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_reply(ctx, NGX_HTTP_OK, list, 0);
}
