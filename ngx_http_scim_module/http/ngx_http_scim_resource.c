
/*
 * ngx_http_scim_module: /Users and /Groups.
 *
 * Writes are one store operation each (store/ngx_scim_store.h); a change
 * of an existing resource reads it, changes it in C, and writes it only
 * if it is still at the version read, retrying a bounded number of times.
 * Group member changes never rewrite a member list: they travel as a
 * delta (clear, remove, add) applied to Redis sets, and a PATCH that only
 * touches members does not read the group at all.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_MAX_RETRIES   16

/*
 * Scans (see ngx_http_scim_scan_start()): a scan call reads at most
 * SCAN_BATCH ids (SCAN_IDS when the ids are all it needs) and stops
 * after SCAN_BYTES of document text; the page is read FETCH_BATCH
 * documents a call.
 */
#define NGX_HTTP_SCIM_SCAN_BATCH    500
#define NGX_HTTP_SCIM_SCAN_IDS      5000
#define NGX_HTTP_SCIM_SCAN_BYTES    65536
#define NGX_HTTP_SCIM_FETCH_BATCH   50
#define NGX_HTTP_SCIM_SCAN_POOL     4096
#define NGX_HTTP_SCIM_SCAN_SKIP_MAX 0x7fffffff


typedef struct {
    ngx_array_t                 *args;         /* ngx_str_t */
    ngx_pool_t                  *pool;
} ngx_http_scim_argv_t;


/* a match that may be on the page: its sort key and id */
typedef struct {
    scim_sort_key_t              key;          /* sortBy only */
    ngx_uint_t                   seq;          /* the order of the match */
    u_char                      *long_id;      /* NULL: in id */
    size_t                       len;
    u_char                       id[36];
    unsigned                     group:1;
} ngx_http_scim_hit_t;


typedef struct {
    ngx_http_scim_ctx_t         *ctx;
    ngx_pool_t                  *batch;        /* the pending call's
                                                  arguments */

    /* an index's candidates; none: the ids in creation order */
    ngx_str_t                   *cand;
    ngx_uint_t                   ncand;
    ngx_pool_t                  *cand_pool;

    ngx_http_scim_hit_t         *hits;         /* sortBy: a max-heap */
    ngx_uint_t                   nhits;
    ngx_uint_t                   nalloc;
    ngx_uint_t                   keep;         /* hits kept at most */
    ngx_uint_t                   skip;         /* startIndex - 1 */
    ngx_uint_t                   matched;      /* totalResults */
    scim_sort_spec_t             spec;

    /* root .search: the users' own, for their page documents */
    scim_filter_t               *user_filter;
    scim_projection_t           *user_projection;

    /* the page: hits[from, to), read from next on, sent at a time */
    ngx_uint_t                   from;
    ngx_uint_t                   to;
    ngx_uint_t                   next;
    ngx_uint_t                   sent;
    json_t                      *resources;

    unsigned                     sorting:1;
    unsigned                     docs:1;       /* the scan reads them */
    unsigned                     members:1;    /* filter/sort reads a
                                                  group's members */
    unsigned                     from_list:1;  /* the candidates */
} ngx_http_scim_scan_t;


static ngx_int_t ngx_http_scim_arg(ngx_http_scim_argv_t *a, u_char *data,
    size_t len);
static ngx_int_t ngx_http_scim_arg_str(ngx_http_scim_argv_t *a,
    ngx_str_t *s);
static ngx_int_t ngx_http_scim_arg_int(ngx_http_scim_argv_t *a,
    ngx_int_t n);
static ngx_int_t ngx_http_scim_fold(ngx_pool_t *pool, const char *s,
    size_t n, ngx_str_t *out);
static ngx_int_t ngx_http_scim_arg_json(ngx_http_scim_argv_t *a,
    json_t *obj, const char *key, ngx_uint_t fold);
static ngx_int_t ngx_http_scim_arg_ids(ngx_http_scim_argv_t *a,
    json_t *list, ngx_uint_t objects);
static ngx_int_t ngx_http_scim_argv_init(ngx_http_scim_argv_t *a,
    ngx_http_scim_ctx_t *ctx, ngx_uint_t n);
static ngx_int_t ngx_http_scim_arg_emails(ngx_http_scim_argv_t *a,
    json_t *doc);
static void ngx_http_scim_argv_list(ngx_http_scim_argv_t *a,
    ngx_str_t **list, ngx_uint_t *n);

static const char *ngx_http_scim_name_attr(ngx_http_scim_ctx_t *ctx);
static json_t *ngx_http_scim_parse_raw(ngx_http_scim_ctx_t *ctx,
    const char *s, size_t len);
static json_t *ngx_http_scim_expand_raw(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_doc_t *d, ngx_uint_t members);
static json_t *ngx_http_scim_expand(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_doc_t *d, ngx_uint_t members);
static ngx_int_t ngx_http_scim_manager_display(json_t *doc,
    ngx_str_t *display);
static ngx_int_t ngx_http_scim_location(ngx_http_scim_ctx_t *ctx,
    json_t *doc);
static ngx_int_t ngx_http_scim_doc_version(json_t *doc);
static ngx_int_t ngx_http_scim_arg_manager(ngx_http_scim_argv_t *a,
    json_t *doc);
static json_t *ngx_http_scim_assemble(ngx_http_scim_ctx_t *ctx,
    json_t *normalized, ngx_str_t *id, json_t *created);
static ngx_int_t ngx_http_scim_serialize(ngx_http_scim_ctx_t *ctx,
    json_t *doc);
static void ngx_http_scim_set_version(json_t *doc, long long seq);
static ngx_int_t ngx_http_scim_display(ngx_http_scim_ctx_t *ctx,
    json_t *doc, ngx_http_scim_argv_t *a);
static json_t *ngx_http_scim_present(ngx_http_scim_ctx_t *ctx,
    json_t *doc);
static ngx_int_t ngx_http_scim_projection(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_iso_time(u_char *buf);
static void ngx_http_scim_normalize_failed(ngx_http_scim_ctx_t *ctx,
    scim_error_t *err);
static void ngx_http_scim_conflict(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);

static void ngx_http_scim_create_write(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *unused);
static void ngx_http_scim_create_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_written(ngx_http_scim_ctx_t *ctx,
    ngx_uint_t status, ngx_scim_store_res_t *res);
static void ngx_http_scim_read(ngx_http_scim_ctx_t *ctx,
    ngx_uint_t status, ngx_http_scim_step_pt step);
static ngx_int_t ngx_http_scim_fast(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_doc_t *d, ngx_uint_t list);
static ngx_int_t ngx_http_scim_fast_text(ngx_http_scim_ctx_t *ctx,
    const char *text, size_t len, scim_str_t *mdp, scim_str_t *groups,
    size_t ngroups, size_t before, size_t after, ngx_buf_t **out);
static ngx_int_t ngx_http_scim_fast_written(ngx_http_scim_ctx_t *ctx,
    ngx_uint_t status, long long seq, ngx_str_t *mgr_display);
static void ngx_http_scim_get_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static ngx_int_t ngx_http_scim_not_modified(ngx_http_scim_ctx_t *ctx,
    json_t *doc);
static ngx_int_t ngx_http_scim_is_members(const char *path);
static ngx_int_t ngx_http_scim_members_only(json_t *body);
static void ngx_http_scim_members_patch(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_modify_read(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_delete(ngx_http_scim_ctx_t *ctx,
    ngx_int_t version);
static void ngx_http_scim_modify_write(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *unused);
static void ngx_http_scim_modify_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_retry(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_retry_handler(ngx_event_t *ev);
static void ngx_http_scim_delete_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_list_one(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_list_page(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static ngx_int_t ngx_http_scim_scan_start(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *cands);
static void ngx_http_scim_scan_cleanup(void *data);
static ngx_int_t ngx_http_scim_scan_batch(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_scan_done(ngx_http_scim_scan_t *scan);
static void ngx_http_scim_scan_next(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_list_scan(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static ngx_int_t ngx_http_scim_hit_cmp(ngx_http_scim_scan_t *scan,
    ngx_http_scim_hit_t *a, ngx_http_scim_hit_t *b);
static void ngx_http_scim_heap_down(ngx_http_scim_scan_t *scan,
    ngx_uint_t i, ngx_uint_t n);
static void ngx_http_scim_heap_up(ngx_http_scim_scan_t *scan, ngx_uint_t i);
static ngx_int_t ngx_http_scim_hit_set_id(ngx_http_scim_hit_t *hit,
    u_char *id, size_t len);
static void ngx_http_scim_hit_free(ngx_http_scim_hit_t *hit);
static ngx_int_t ngx_http_scim_scan_hit(ngx_http_scim_ctx_t *ctx, u_char *id,
    size_t len, json_t *doc);
static ngx_int_t ngx_http_scim_root_next(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_page(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_page_fetch(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_page_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static void ngx_http_scim_list_cands(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static ngx_int_t ngx_http_scim_literal(ngx_http_scim_ctx_t *ctx);
static ngx_int_t ngx_http_scim_may_match(ngx_http_scim_ctx_t *ctx,
    u_char *p, size_t len);
static void ngx_http_scim_list_finish(ngx_http_scim_ctx_t *ctx);
static void ngx_http_scim_list_respond(ngx_http_scim_ctx_t *ctx,
    json_t *docs, ngx_uint_t total, ngx_uint_t paged);
static void ngx_http_scim_list_answer(ngx_http_scim_ctx_t *ctx,
    json_t *resources, ngx_uint_t total);


/* filter attributes answered by an index, per resource type */

static const char  *ngx_http_scim_user_hints[] = {
    "id", "userName", "externalId", "groups.value",
    "emails.value", "emails[type eq \"work\"].value"
};

static const char  *ngx_http_scim_group_hints[] = {
    "id", "displayName", "externalId", "members.value"
};


/* script arguments */

static ngx_int_t
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

static ngx_int_t
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

static ngx_int_t
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

static ngx_int_t
ngx_http_scim_arg_manager(ngx_http_scim_argv_t *a, json_t *doc)
{
    return ngx_http_scim_arg_json(a,
                                  json_object_get(json_object_get(doc,
                                                  SCIM_SCHEMA_ENTERPRISE),
                                                  "manager"),
                                  "value", 0);
}


/* count, then ids: from strings or from {"value": id} objects */

static ngx_int_t
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

static ngx_int_t
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

static void
ngx_http_scim_argv_list(ngx_http_scim_argv_t *a, ngx_str_t **list,
    ngx_uint_t *n)
{
    *list = (ngx_str_t *) a->args->elts + 1;
    *n = a->args->nelts - 1;
}


/* the name index: userName for users, displayName for groups */

static const char *
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

static json_t *
ngx_http_scim_expand_raw(ngx_http_scim_ctx_t *ctx, ngx_scim_store_doc_t *d,
    ngx_uint_t members)
{
    json_t                *doc, *list, *item;
    ngx_uint_t             i;
    ngx_scim_store_ref_t  *ref;

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

    list = json_array();
    if (list == NULL) {
        json_decref(doc);
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
            json_decref(doc);
            return NULL;
        }
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


/* the same, freed with the request */

static json_t *
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

static ngx_int_t
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

static ngx_int_t
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


static ngx_int_t
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


static void
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

static json_t *
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


/* ctx->prefix = the stored form of doc without its version */

static ngx_int_t
ngx_http_scim_serialize(ngx_http_scim_ctx_t *ctx, json_t *doc)
{
    u_char     *p;
    size_t      size;
    ngx_str_t   text;

    size = scim_json_dumpb(doc, NULL, 0);

    p = ngx_pnalloc(ctx->request->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    (void) scim_json_dumpb(doc, (char *) p, size);

    text.data = p;
    text.len = size;

    if (ngx_scim_store_head(&text, &ctx->prefix) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, ctx->request->connection->log, 0,
                      "scim: document does not end with its version");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_scim_set_version(json_t *doc, long long seq)
{
    char  buf[32];

    snprintf(buf, sizeof(buf), "W/\"%lld\"", seq);

    json_object_set_new(json_object_get(doc, "meta"), "version",
                        json_string(buf));
}


/* what members and groups show as "display": displayName, else userName */

static ngx_int_t
ngx_http_scim_display(ngx_http_scim_ctx_t *ctx, json_t *doc,
    ngx_http_scim_argv_t *a)
{
    if (json_is_string(json_object_get(doc, "displayName"))) {
        return ngx_http_scim_arg_json(a, doc, "displayName", 0);
    }

    return ngx_http_scim_arg_json(a, doc, ngx_http_scim_name_attr(ctx), 0);
}


static json_t *
ngx_http_scim_present(ngx_http_scim_ctx_t *ctx, json_t *doc)
{
    return ngx_http_scim_track(ctx->request,
                               scim_resource_present(ctx->rt, doc,
                                   (const char *) ctx->base_url.data,
                                   ctx->projection));
}


static ngx_int_t
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


static void
ngx_http_scim_normalize_failed(ngx_http_scim_ctx_t *ctx, scim_error_t *err)
{
    if (err->status) {
        ngx_http_scim_fail_err(ctx, err);
        return;
    }

    ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
}


static void
ngx_http_scim_conflict(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    if (res->status == NGX_SCIM_STORE_BAD_MEMBER) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_VALUE,
                           "member \"%*s\" is neither a user nor a group "
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
    ngx_http_scim_argv_list(&add, &w.add, &w.nadd);
    ngx_http_scim_argv_list(&em, &w.emails, &w.nemails);

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

        if (json_array_size(ctx->delta.add) > 0) {
            /* the members' display names are in the store */
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


/* GET /Users/{id}, GET /Groups/{id} */

void
ngx_http_scim_get(ngx_http_scim_ctx_t *ctx)
{
    if (ngx_http_scim_projection(ctx) != NGX_OK) {
        return;
    }

    ngx_http_scim_read(ctx, NGX_HTTP_OK, ngx_http_scim_get_done);
}


/* reads ctx->id and answers status with it (200, or 201 after a create) */

static void
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

static ngx_int_t
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

static ngx_int_t
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


static void
ngx_http_scim_get_done(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t     *doc, *out;
    ngx_int_t   rc;

    if (res->status == NGX_SCIM_STORE_NOT_FOUND) {
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;
    }

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


/*
 * PUT, PATCH, DELETE of one resource.  A group PATCH that touches only
 * members goes straight to the store; everything else reads first.
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

    ngx_http_scim_issued(ctx, ngx_scim_store_get(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_modify_read),
                                  &ctx->id, 0));
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

    ops = json_object_get(body, "Operations");

    if (!json_is_array(ops) || json_array_size(ops) == 0) {
        return 0;
    }

    json_array_foreach(ops, i, op) {
        path = NULL;
        value = NULL;

        json_object_foreach(op, key, v) {
            if (ngx_strcasecmp((u_char *) key, (u_char *) "path") == 0) {
                path = v;

            } else if (ngx_strcasecmp((u_char *) key, (u_char *) "value")
                       == 0)
            {
                value = v;
            }
        }

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

    version = ngx_http_scim_doc_version(ctx->doc);

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
        work = ngx_http_scim_track(r, json_deep_copy(ctx->doc));
        if (work == NULL) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (scim_patch_apply(ctx->rt, work, ctx->body,
                             ctx->resource == NGX_HTTP_SCIM_R_GROUPS
                             ? &ctx->delta : NULL, &err)
            != 0)
        {
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

    ngx_http_scim_issued(ctx, ngx_scim_store_delete(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_delete_done),
                                  &w));
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
    w.clear = ctx->delta.clear;
    ngx_http_scim_argv_list(&rem, &w.remove, &w.nremove);
    ngx_http_scim_argv_list(&add, &w.add, &w.nadd);
    ngx_http_scim_argv_list(&oldem, &w.old_emails, &w.nold_emails);
    ngx_http_scim_argv_list(&newem, &w.emails, &w.nemails);

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

            ngx_http_scim_read(ctx, NGX_HTTP_OK, ngx_http_scim_get_done);
            return;
        }

        ngx_http_scim_written(ctx, NGX_HTTP_OK, res);
        return;

    case NGX_SCIM_STORE_NOT_FOUND:
        ngx_http_scim_fail(ctx, NGX_HTTP_NOT_FOUND, NULL,
                           "%s \"%V\" not found", ctx->rt->name, &ctx->id);
        return;

    case NGX_SCIM_STORE_CONFLICT:
    case NGX_SCIM_STORE_BAD_MEMBER:
        ngx_http_scim_conflict(ctx, res);
        return;

    default:
        ngx_http_scim_retry(ctx);
        return;
    }
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
    ngx_http_scim_modify(ev->data);
}


static void
ngx_http_scim_delete_done(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
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


/* GET /Users, GET /Groups: filter, sort, page */

void
ngx_http_scim_list(ngx_http_scim_ctx_t *ctx)
{
    int                    hint;
    u_char                *f;
    ngx_str_t              v;
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

    if (!ctx->has_filter) {

        if (ctx->has_sort || ctx->root_search) {
            goto scan;
        }

        /* plain paging in creation order, one round trip */

        ngx_http_scim_issued(ctx, ngx_scim_store_page(
                                      ngx_http_scim_call(ctx,
                                                      ngx_http_scim_list_page),
                                      (ngx_uint_t) ctx->start_index - 1,
                                      (ngx_uint_t) ctx->count,
                                      ctx->want_members));
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

        ngx_http_scim_issued(ctx, ngx_scim_store_related(
                                      ngx_http_scim_call(ctx,
                                                     ngx_http_scim_list_cands),
                                      &v));
        return;

    default:    /* userName / displayName eq (folded), externalId eq */

        if (hint == 1
            && ngx_http_scim_fold(r->pool, value, v.len, &v) != NGX_OK)
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_scim_issued(ctx, ngx_scim_store_find(
                                      ngx_http_scim_call(ctx,
                                                       ngx_http_scim_list_one),
                                      hint == 2
                                      ? NGX_SCIM_STORE_BY_EXTERNAL_ID
                                      : NGX_SCIM_STORE_BY_NAME,
                                      &v, ctx->want_members));
        return;
    }

scan:

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


/* at most one candidate: evaluate the whole filter on it */

static void
ngx_http_scim_list_one(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t     *doc;
    ngx_int_t   rc;

    if (res->status == NGX_SCIM_STORE_OK
        && ctx->start_index == 1 && ctx->count > 0
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

    ngx_http_scim_list_respond(ctx, ctx->matches, res->total, 1);
}


/*
 * Scans: a filter no index answers, a sortBy, root .search, and the
 * candidates an index gives (group members, e-mail owners).
 *
 * The ids are walked in batches, one Redis call each, bounded in ids and
 * in document bytes (the scan script); each batch is evaluated in C and
 * its documents are freed before the next call is sent, so a request
 * holds the worker for one batch at a time.  Of the matches only the
 * page's candidates are kept, as (sort key, id) hits: without sortBy the
 * matches startIndex..startIndex+count-1, with sortBy a max-heap of the
 * best startIndex+count-1 (the worst kept on top).  Then the page's
 * documents are read by id (the fetch script) and presented.  Memory is
 * the hits, one batch and the page, whatever the tenant's size.
 */

static ngx_int_t
ngx_http_scim_scan_start(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *cands)
{
    u_char                *s;
    size_t                 i;
    ngx_uint_t             skip;
    scim_error_t           err;
    ngx_pool_cleanup_t    *cln;
    ngx_http_scim_scan_t  *scan;
    ngx_http_request_t    *r;

    r = ctx->request;

    scan = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_scan_t));
    if (scan == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_scim_scan_cleanup;
    cln->data = scan;

    scan->ctx = ctx;
    ctx->scan = scan;
    ctx->scanned = 0;
    ctx->total = 0;

    skip = (ngx_uint_t) ctx->start_index - 1;
    if (skip > NGX_HTTP_SCIM_SCAN_SKIP_MAX) {
        skip = NGX_HTTP_SCIM_SCAN_SKIP_MAX;
    }

    scan->skip = skip;
    scan->sorting = ctx->has_sort;

    if (scan->sorting) {
        s = ngx_pnalloc(r->pool, ctx->sort_by.len + 1);
        if (s == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(s, ctx->sort_by.data, ctx->sort_by.len);
        s[ctx->sort_by.len] = '\0';

        /*
         * root .search: one order over users and groups, by the user
         * schema's attribute definitions (displayName, externalId and
         * meta.* are alike in both)
         */

        ngx_memzero(&err, sizeof(scim_error_t));

        if (scim_sort_spec(ctx->root_search
                           ? scim_registry_user(ctx->slcf->registry)
                           : ctx->rt,
                           (char *) s, ctx->descending, &scan->spec, &err)
            != 0)
        {
            ngx_http_scim_fail_err(ctx, &err);
            return NGX_ABORT;
        }

        /* the keys see what the answer shows */
        if (ngx_strlcasestrn(ctx->sort_by.data,
                             ctx->sort_by.data + ctx->sort_by.len,
                             (u_char *) "location", 8 - 1)
            != NULL)
        {
            ctx->filter_location = 1;
        }
    }

    /* with sortBy, the best skip + count; else the count after skip */
    scan->keep = (ngx_uint_t) ctx->count;

    if (scan->sorting && ctx->count > 0) {
        scan->keep += skip;
    }

    /* without a filter and without sortBy, an id is all a match needs */
    scan->docs = (ctx->filter_ast != NULL
                  || (scan->sorting && scan->keep > 0));

    if ((ctx->filter.len
         && ngx_strlcasestrn(ctx->filter.data,
                             ctx->filter.data + ctx->filter.len,
                             (u_char *) "members", 7 - 1) != NULL)
        || (scan->sorting
            && ngx_strlcasestrn(ctx->sort_by.data,
                                ctx->sort_by.data + ctx->sort_by.len,
                                (u_char *) "members", 7 - 1) != NULL))
    {
        scan->members = 1;
    }

    if (cands == NULL) {
        return NGX_OK;
    }

    /* an index's candidates: kept (ids only) until the scan is over */

    scan->from_list = 1;

    if (cands->nids == 0) {
        return NGX_OK;
    }

    scan->cand_pool = ngx_create_pool(NGX_HTTP_SCIM_SCAN_POOL,
                                      r->connection->log);
    if (scan->cand_pool == NULL) {
        return NGX_ERROR;
    }

    scan->cand = ngx_palloc(scan->cand_pool, cands->nids * sizeof(ngx_str_t));
    if (scan->cand == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < cands->nids; i++) {
        if (cands->ids[i].data == NULL || cands->ids[i].len == 0) {
            continue;
        }

        s = ngx_pnalloc(scan->cand_pool, cands->ids[i].len);
        if (s == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(s, cands->ids[i].data, cands->ids[i].len);

        scan->cand[scan->ncand].data = s;
        scan->cand[scan->ncand].len = cands->ids[i].len;
        scan->ncand++;
    }

    return NGX_OK;
}


static void
ngx_http_scim_scan_cleanup(void *data)
{
    ngx_uint_t             i;
    ngx_http_scim_scan_t  *scan;

    scan = data;

    /* the request is gone: its pending call (if any) was cancelled */

    if (scan->batch) {
        ngx_destroy_pool(scan->batch);
        scan->batch = NULL;
    }

    if (scan->cand_pool) {
        ngx_destroy_pool(scan->cand_pool);
        scan->cand_pool = NULL;
    }

    for (i = 0; i < scan->nhits; i++) {
        ngx_http_scim_hit_free(&scan->hits[i]);
    }

    ngx_free(scan->hits);
    scan->hits = NULL;
    scan->nhits = 0;

    if (scan->user_filter) {
        scim_filter_free(scan->user_filter);
        scan->user_filter = NULL;
    }

    if (scan->user_projection) {
        scim_projection_free(scan->user_projection);
        scan->user_projection = NULL;
    }
}


/* a pool for one call's arguments, destroyed when its reply is read */

static ngx_int_t
ngx_http_scim_scan_batch(ngx_http_scim_ctx_t *ctx)
{
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    ngx_http_scim_scan_done(scan);

    scan->batch = ngx_create_pool(NGX_HTTP_SCIM_SCAN_POOL,
                                  ctx->request->connection->log);
    if (scan->batch == NULL) {
        return NGX_ERROR;
    }

    /* the store call keeps its arguments there */
    ctx->args_pool = scan->batch;

    return NGX_OK;
}


static void
ngx_http_scim_scan_done(ngx_http_scim_scan_t *scan)
{
    if (scan->batch) {
        ngx_destroy_pool(scan->batch);
        scan->batch = NULL;
        scan->ctx->args_pool = NULL;
    }
}


static void
ngx_http_scim_scan_next(ngx_http_scim_ctx_t *ctx)
{
    ngx_uint_t              n;
    ngx_scim_store_scan_t   q;
    ngx_http_scim_scan_t   *scan;

    scan = ctx->scan;

    n = scan->docs ? NGX_HTTP_SCIM_SCAN_BATCH : NGX_HTTP_SCIM_SCAN_IDS;

    if (scan->from_list && n > scan->ncand - ctx->scanned) {
        n = scan->ncand - ctx->scanned;
    }

    if (ngx_http_scim_scan_batch(ctx) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&q, sizeof(ngx_scim_store_scan_t));

    if (scan->from_list) {
        q.cand = &scan->cand[ctx->scanned];
        q.ncand = n;

    } else {
        q.start = ctx->scanned;
    }

    q.count = n;
    q.bytes = NGX_HTTP_SCIM_SCAN_BYTES;
    q.docs = scan->docs;
    q.members = scan->members;

    if (ctx->literal_lc.len) {
        q.literal = ctx->literal_lc;
        q.member = ctx->literal_key;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_scan(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_list_scan),
                                  &q));
}


static void
ngx_http_scim_list_scan(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t                *doc;
    ngx_int_t              rc;
    ngx_str_t             *id;
    ngx_uint_t             i, walked;
    ngx_scim_store_doc_t  *d;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    /* the batch held the call's arguments only: the result is the store's */
    ngx_http_scim_scan_done(scan);

    walked = res->walked;

    if (scan->from_list) {
        ctx->total = scan->ncand;

    } else {
        ctx->total = res->total;

        if (ctx->total > ctx->slcf->max_scan) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_TOO_MANY,
                               "this filter or sort needs a scan of %ui "
                               "resources; the limit is %ui "
                               "(scim_filter_max_scan)",
                               ctx->total, ctx->slcf->max_scan);
            return;
        }
    }

    for (i = 0; i < res->nids; i++) {
        id = &res->ids[i];

        if (!scan->docs) {
            if (id->data
                && ngx_http_scim_scan_hit(ctx, id->data, id->len, NULL)
                   != NGX_OK)
            {
                ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            continue;
        }

        d = &res->docs[i];

        if (id->data == NULL || !d->found) {
            continue;
        }

        /*
         * A document whose text lacks the filter's required literal
         * cannot match: skipped without being parsed.  (U+017F, long s,
         * folds to "s": a text holding it is parsed all the same.)
         */

        if (ctx->literal.len && d->text.data
            && !ngx_http_scim_may_match(ctx, d->text.data, d->text.len))
        {
            continue;
        }

        doc = ngx_http_scim_expand_raw(ctx, d, scan->members);
        if (doc == NULL) {
            continue;
        }

        rc = NGX_OK;

        if (ctx->filter_ast == NULL
            || scim_filter_match(ctx->filter_ast, ctx->rt, doc))
        {
            rc = ngx_http_scim_scan_hit(ctx, id->data, id->len, doc);
        }

        json_decref(doc);

        if (rc != NGX_OK) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ctx->scanned += walked;

    if (walked > 0 && ctx->scanned < ctx->total) {
        /* the next batch: the worker serves others meanwhile */
        ngx_http_scim_scan_next(ctx);
        return;
    }

    if (ctx->root_search && ctx->resource == NGX_HTTP_SCIM_R_USERS) {
        rc = ngx_http_scim_root_next(ctx);

        if (rc == NGX_OK) {
            ngx_http_scim_scan_next(ctx);
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    ngx_http_scim_page(ctx);
}


/* hits: ties go by the order of the matches (scim_sort() is stable) */

static ngx_int_t
ngx_http_scim_hit_cmp(ngx_http_scim_scan_t *scan, ngx_http_scim_hit_t *a,
    ngx_http_scim_hit_t *b)
{
    int  c;

    c = scim_sort_key_cmp(&scan->spec, &a->key, &b->key);

    if (c != 0) {
        return c;
    }

    return (a->seq > b->seq) - (a->seq < b->seq);
}


static void
ngx_http_scim_heap_down(ngx_http_scim_scan_t *scan, ngx_uint_t i,
    ngx_uint_t n)
{
    ngx_uint_t            c;
    ngx_http_scim_hit_t   h, *hits;

    hits = scan->hits;

    for ( ;; ) {
        c = 2 * i + 1;

        if (c >= n) {
            return;
        }

        if (c + 1 < n && ngx_http_scim_hit_cmp(scan, &hits[c + 1], &hits[c])
                         > 0)
        {
            c++;
        }

        if (ngx_http_scim_hit_cmp(scan, &hits[c], &hits[i]) <= 0) {
            return;
        }

        h = hits[i];
        hits[i] = hits[c];
        hits[c] = h;
        i = c;
    }
}


static void
ngx_http_scim_heap_up(ngx_http_scim_scan_t *scan, ngx_uint_t i)
{
    ngx_uint_t            p;
    ngx_http_scim_hit_t   h, *hits;

    hits = scan->hits;

    while (i > 0) {
        p = (i - 1) / 2;

        if (ngx_http_scim_hit_cmp(scan, &hits[i], &hits[p]) <= 0) {
            return;
        }

        h = hits[i];
        hits[i] = hits[p];
        hits[p] = h;
        i = p;
    }
}


static ngx_int_t
ngx_http_scim_hit_set_id(ngx_http_scim_hit_t *hit, u_char *id, size_t len)
{
    hit->long_id = NULL;
    hit->len = len;

    if (len <= sizeof(hit->id)) {
        ngx_memcpy(hit->id, id, len);
        return NGX_OK;
    }

    hit->long_id = ngx_alloc(len, ngx_cycle->log);
    if (hit->long_id == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(hit->long_id, id, len);

    return NGX_OK;
}


static void
ngx_http_scim_hit_free(ngx_http_scim_hit_t *hit)
{
    scim_sort_key_free(&hit->key);

    if (hit->long_id) {
        ngx_free(hit->long_id);
        hit->long_id = NULL;
    }
}


/* a match: kept if it can be on the page (doc NULL: no sortBy) */

static ngx_int_t
ngx_http_scim_scan_hit(ngx_http_scim_ctx_t *ctx, u_char *id, size_t len,
    json_t *doc)
{
    size_t                 size;
    ngx_uint_t             n;
    ngx_http_scim_hit_t    hit, *hits;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    ngx_memzero(&hit, sizeof(ngx_http_scim_hit_t));
    hit.seq = scan->matched++;
    hit.group = (ctx->resource == NGX_HTTP_SCIM_R_GROUPS);

    if (scan->keep == 0) {
        return NGX_OK;
    }

    if (!scan->sorting) {
        if (hit.seq < scan->skip || scan->nhits == scan->keep) {
            return NGX_OK;
        }

    } else {
        if (doc == NULL || scim_sort_key(&scan->spec, doc, &hit.key) != 0) {
            return NGX_ERROR;
        }

        if (scan->nhits == scan->keep) {
            /* full: only a match before the worst kept gets in */

            if (ngx_http_scim_hit_cmp(scan, &hit, &scan->hits[0]) >= 0) {
                scim_sort_key_free(&hit.key);
                return NGX_OK;
            }

            if (ngx_http_scim_hit_set_id(&hit, id, len) != NGX_OK) {
                scim_sort_key_free(&hit.key);
                return NGX_ERROR;
            }

            ngx_http_scim_hit_free(&scan->hits[0]);
            scan->hits[0] = hit;
            ngx_http_scim_heap_down(scan, 0, scan->nhits);

            return NGX_OK;
        }
    }

    if (scan->nhits == scan->nalloc) {
        n = scan->nalloc ? 2 * scan->nalloc : 64;

        if (n > scan->keep) {
            n = scan->keep;
        }

        size = n * sizeof(ngx_http_scim_hit_t);

        hits = ngx_alloc(size, ctx->request->connection->log);
        if (hits == NULL) {
            scim_sort_key_free(&hit.key);
            return NGX_ERROR;
        }

        if (scan->nhits) {
            ngx_memcpy(hits, scan->hits,
                       scan->nhits * sizeof(ngx_http_scim_hit_t));
        }

        ngx_free(scan->hits);
        scan->hits = hits;
        scan->nalloc = n;
    }

    if (ngx_http_scim_hit_set_id(&hit, id, len) != NGX_OK) {
        scim_sort_key_free(&hit.key);
        return NGX_ERROR;
    }

    scan->hits[scan->nhits++] = hit;

    if (scan->sorting) {
        ngx_http_scim_heap_up(scan, scan->nhits - 1);
    }

    return NGX_OK;
}


/*
 * Root .search: the users are scanned, then the same search runs over
 * the groups; the users' filter and projection are kept for the page.
 */

static ngx_int_t
ngx_http_scim_root_next(ngx_http_scim_ctx_t *ctx)
{
    scim_error_t           err;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    ctx->resource = NGX_HTTP_SCIM_R_GROUPS;
    ctx->rt = scim_registry_group(ctx->slcf->registry);
    ctx->scanned = 0;
    ctx->total = 0;

    scan->user_projection = ctx->projection;
    ctx->projection = NULL;

    if (ngx_http_scim_projection(ctx) != NGX_OK) {
        return NGX_ABORT;
    }

    if (ctx->filter_ast) {
        scan->user_filter = ctx->filter_ast;
        ctx->filter_ast = NULL;
        ngx_str_null(&ctx->literal);
        ngx_memzero(&err, sizeof(scim_error_t));

        ctx->filter_ast = scim_filter_parse(ctx->rt,
                                            (char *) ctx->filter.data,
                                            ctx->filter.len, &err);
        if (ctx->filter_ast == NULL) {
            ngx_http_scim_fail_err(ctx, &err);
            return NGX_ABORT;
        }

        if (ngx_http_scim_literal(ctx) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the scan is over: cut the page out of the hits, then read it */

static void
ngx_http_scim_page(ngx_http_scim_ctx_t *ctx)
{
    ngx_uint_t             i, n;
    ngx_http_scim_hit_t    h, *hits;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;
    hits = scan->hits;
    n = scan->nhits;

    scan->resources = ngx_http_scim_track(ctx->request, json_array());
    if (scan->resources == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (scan->sorting) {
        /*
         * The heap holds the best min(matches, skip + count) with the
         * worst on top: taking the top out n - skip times leaves the page
         * in order at hits[skip, n) (the tail of a heapsort)
         */

        if (n > scan->skip) {
            for (i = n; i > scan->skip; i--) {
                h = hits[0];
                hits[0] = hits[i - 1];
                hits[i - 1] = h;
                ngx_http_scim_heap_down(scan, 0, i - 1);
            }

            scan->from = scan->skip;

        } else {
            scan->from = n;
        }

    } else {
        scan->from = 0;
    }

    scan->to = n;
    scan->next = scan->from;

    if (scan->from == scan->to) {
        ngx_http_scim_list_answer(ctx, scan->resources, scan->matched);
        return;
    }

    ngx_http_scim_page_fetch(ctx);
}


static void
ngx_http_scim_page_fetch(ngx_http_scim_ctx_t *ctx)
{
    ngx_uint_t              i, n, want;
    ngx_http_scim_hit_t    *hit;
    ngx_http_scim_scan_t   *scan;
    ngx_scim_store_item_t  *items;

    scan = ctx->scan;

    n = scan->to - scan->next;
    if (n > NGX_HTTP_SCIM_FETCH_BATCH) {
        n = NGX_HTTP_SCIM_FETCH_BATCH;
    }

    scan->sent = n;

    /* a group's members: if the answer shows them or the filter reads them */
    want = (ctx->want_members || scan->members);

    if (ngx_http_scim_scan_batch(ctx) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    items = ngx_palloc(scan->batch, n * sizeof(ngx_scim_store_item_t));
    if (items == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 0; i < n; i++) {
        hit = &scan->hits[scan->next + i];

        items[i].type = hit->group ? NGX_SCIM_STORE_GROUP
                                   : NGX_SCIM_STORE_USER;
        items[i].id.data = hit->long_id ? hit->long_id : hit->id;
        items[i].id.len = hit->len;
    }

    ngx_http_scim_issued(ctx, ngx_scim_store_fetch(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_page_done),
                                  items, n, want));
}


static void
ngx_http_scim_page_done(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t                *doc, *out;
    ngx_uint_t             i, want, own;
    scim_filter_t         *filter;
    scim_projection_t     *projection;
    ngx_http_scim_hit_t   *hit;
    ngx_http_scim_scan_t  *scan;

    scan = ctx->scan;

    ngx_http_scim_scan_done(scan);

    want = (ctx->want_members || scan->members);

    for (i = 0; i < res->ndocs && i < scan->sent; i++) {
        if (!res->docs[i].found) {
            continue;               /* deleted since the scan */
        }

        hit = &scan->hits[scan->next + i];

        /* root .search: the users' own filter and projection */
        own = (ctx->root_search && !hit->group);

        ctx->resource = hit->group ? NGX_HTTP_SCIM_R_GROUPS
                                   : NGX_HTTP_SCIM_R_USERS;
        ctx->rt = hit->group ? scim_registry_group(ctx->slcf->registry)
                             : scim_registry_user(ctx->slcf->registry);

        filter = own ? scan->user_filter : ctx->filter_ast;
        projection = own ? scan->user_projection : ctx->projection;

        doc = ngx_http_scim_expand_raw(ctx, &res->docs[i], want);
        if (doc == NULL) {
            continue;
        }

        /* changed since the scan so that it no longer matches */
        if (filter && !scim_filter_match(filter, ctx->rt, doc)) {
            json_decref(doc);
            continue;
        }

        out = scim_resource_present(ctx->rt, doc,
                                    (const char *) ctx->base_url.data,
                                    projection);
        json_decref(doc);

        if (out == NULL || json_array_append_new(scan->resources, out) != 0)
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    scan->next += scan->sent;

    if (scan->next < scan->to) {
        ngx_http_scim_page_fetch(ctx);
        return;
    }

    ngx_http_scim_list_answer(ctx, scan->resources, scan->matched);
}


/* an index's candidates (ids): scanned like the whole collection */

static void
ngx_http_scim_list_cands(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    ngx_int_t              rc;
    ngx_http_scim_scan_t  *scan;

    rc = ngx_http_scim_scan_start(ctx, res);

    if (rc == NGX_ABORT) {
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    scan = ctx->scan;

    if (scan->ncand == 0) {
        ngx_http_scim_page(ctx);
        return;
    }

    ngx_http_scim_scan_next(ctx);
}


/* the filter's required literal and the member it is in: "<key>":" */

static ngx_int_t
ngx_http_scim_literal(ngx_http_scim_ctx_t *ctx)
{
    u_char       c, *p, *q;
    size_t       i, n;
    const char  *l, *key;

    ngx_str_null(&ctx->literal);
    ngx_str_null(&ctx->literal_lc);

    l = scim_filter_required_literal(ctx->filter_ast, &n, &key);

    if (l == NULL || n == 0 || key == NULL) {
        return NGX_OK;
    }

    p = ngx_pnalloc(ctx->request->pool, ngx_strlen(key) + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->literal_key.data = p;
    ctx->literal_key.len = ngx_sprintf(p, "\"%s\":\"", key) - p;

    ctx->literal.data = (u_char *) l;
    ctx->literal.len = n;

    /*
     * For the scan script: a Lua pattern that ignores ASCII case, "[xX]"
     * for a letter, "%" before a magic character
     */

    q = ngx_pnalloc(ctx->request->pool, 4 * n);
    if (q == NULL) {
        return NGX_ERROR;
    }

    ctx->literal_lc.data = q;

    for (i = 0; i < n; i++) {
        c = (u_char) l[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            *q++ = '[';
            *q++ = c | 0x20;
            *q++ = c & ~0x20;
            *q++ = ']';

        } else if (ngx_strchr("^$()%.[]*+-?", c) != NULL) {
            *q++ = '%';
            *q++ = c;

        } else {
            *q++ = c;
        }
    }

    ctx->literal_lc.len = q - ctx->literal_lc.data;

    return NGX_OK;
}


/*
 * Whether a stored document's text can match the filter: some string
 * value of a "<key>" member holds the filter's required literal, ASCII
 * case aside.  The stored text escapes only quotes, backslashes and
 * control characters, none of which a required literal holds, so the
 * literal shows in the text exactly where the value holds it.  A text
 * with U+017F (long s, which folds to "s") is always parsed.
 */

static ngx_int_t
ngx_http_scim_may_match(ngx_http_scim_ctx_t *ctx, u_char *p, size_t len)
{
    u_char  *last, *v, *end;

    last = p + len;

    if (ngx_strlcasestrn(p, last, (u_char *) "\xc5\xbf", 1) != NULL) {
        return 1;
    }

    for ( ;; ) {
        p = ngx_strlcasestrn(p, last, ctx->literal_key.data,
                             ctx->literal_key.len - 1);
        if (p == NULL) {
            return 0;
        }

        /* the key is "<name>":" , the value runs to an unescaped quote */

        v = p + ctx->literal_key.len;
        p = v;

        for (end = v; end < last && *end != '"'; end++) {
            if (*end == '\\' && end + 1 < last) {
                end++;
            }
        }

        if ((size_t) (end - v) >= ctx->literal.len
            && ngx_strlcasestrn(v, end, ctx->literal.data,
                                ctx->literal.len - 1)
               != NULL)
        {
            return 1;
        }
    }
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


/* the ListResponse around the page's presented resources */

static void
ngx_http_scim_list_answer(ngx_http_scim_ctx_t *ctx, json_t *resources,
    ngx_uint_t total)
{
    json_t  *list;

    list = ngx_http_scim_track(ctx->request, json_object());

    if (list == NULL
        || json_object_set_new(list, "schemas",
                               json_pack("[s]", SCIM_SCHEMA_LIST)) != 0
        || json_object_set_new(list, "totalResults",
                               json_integer((json_int_t) total)) != 0
        || json_object_set_new(list, "itemsPerPage",
                               json_integer((json_int_t)
                                            json_array_size(resources))) != 0
        || json_object_set_new(list, "startIndex",
                               json_integer(ctx->start_index)) != 0
        || json_object_set(list, "Resources", resources) != 0)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_scim_reply(ctx, NGX_HTTP_OK, list, 0);
}
