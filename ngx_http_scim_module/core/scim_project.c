
/*
 * ngx_http_scim_module: what a client gets back.
 *
 * scim_resource_present() turns a stored document into its representation
 * ("meta.location", "$ref" values, returned:never attributes removed) and
 * applies the attributes / excludedAttributes projection of RFC 7644
 * 3.4.2.5 (and 3.9).  Sorting is in scim_sort.c.
 *
 * Behaviours beyond the header, decided here:
 *  - output order: "schemas", "id", "externalId", "meta", then the other
 *    attributes in document order; "schemas" is copied as stored;
 *  - "meta" is rebuilt in the order resourceType, created, lastModified,
 *    location, version; a missing resourceType is the resource type's
 *    name; a document with an "id" but no "meta" gets one;
 *  - with "attributes", a complex or multi-valued attribute whose
 *    selected sub-attributes are all absent is left out, as is an
 *    extension block with nothing selected; an attribute selected whole
 *    keeps an empty array;
 *  - "attributes" and "excludedAttributes" together: the selection of the
 *    first, minus the second (always-returned attributes stay);
 *  - a whole schema URN (core or extension) in either list selects or
 *    excludes every attribute of that schema;
 *  - ids in URLs are percent-encoded (RFC 3986 path segment);
 *  - a value filter in either list (RFC 7644 is silent; Microsoft's
 *    collection sends them): "emails[type eq \"work\"]" selects (or
 *    excludes) the elements of a multi-valued complex attribute that
 *    match, "emails[type eq \"work\"].value" that sub-attribute of
 *    them.  An element is kept if an item without a filter or with one
 *    it matches selects it; an unfiltered "emails" selects every
 *    element.  A value filter on an attribute that is not multi-valued
 *    and complex is 400 invalidValue, a malformed one 400 invalidFilter;
 *    commas inside the brackets do not split the list.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "scim_parse.h"
#include "scim_text.h"


#define SCIM_PROJ_MAX_ITEMS  1024


typedef struct {
    const scim_schema_t  *schema;   /* a whole schema when attr is NULL */
    const scim_attr_t    *attr;
    const scim_attr_t    *sub;
    scim_filter_t        *filter;   /* attr[filter] or NULL: owned */
} scim_proj_item_t;


typedef struct {
    scim_proj_item_t  *items;
    size_t             n;
    size_t             alloc;
    unsigned           given:1;
} scim_proj_list_t;


struct scim_projection_s {
    const scim_resource_type_t  *rt;
    scim_proj_list_t             incl;
    scim_proj_list_t             excl;
};


typedef struct {
    const scim_resource_type_t  *rt;
    const scim_projection_t     *p;
    const char                  *base_url;
    json_t                      *doc;
    const scim_attr_t           *meta;
} scim_present_ctx_t;


typedef enum {
    SCIM_KIND_NONE = 0,
    SCIM_KIND_META,
    SCIM_KIND_MANAGER,
    SCIM_KIND_MEMBERS,
    SCIM_KIND_GROUPS
} scim_kind_t;


static int scim_proj_parse(const scim_resource_type_t *rt, const char *s,
    scim_proj_list_t *list, const char *param, scim_error_t *err);
static const char *scim_proj_item_end(const char *p, const char *end);
static int scim_proj_filtered(const scim_resource_type_t *rt, const char *p,
    size_t len, scim_proj_item_t *item, const char *param,
    scim_error_t *err);
static void scim_proj_list_free(scim_proj_list_t *l);
static int scim_proj_whole_schema(const scim_proj_list_t *l,
    const scim_schema_t *s);
static int scim_proj_has(const scim_proj_list_t *l, const scim_attr_t *a,
    const scim_attr_t *sub);
static int scim_proj_any_sub(const scim_proj_list_t *l, const scim_attr_t *a);
static int scim_proj_elem_has(const scim_present_ctx_t *ctx,
    const scim_proj_list_t *l, const scim_attr_t *a, const scim_attr_t *sub,
    json_t *elem);
static int scim_proj_elem_excluded(const scim_present_ctx_t *ctx,
    const scim_attr_t *a, json_t *elem);
static int scim_present_select(scim_present_ctx_t *ctx, const scim_attr_t *a,
    int *whole);
static json_t *scim_present_attr(scim_present_ctx_t *ctx,
    const scim_attr_t *a, json_t *v);
static json_t *scim_present_complex(scim_present_ctx_t *ctx,
    const scim_attr_t *a, json_t *v, int whole);
static json_t *scim_present_block(scim_present_ctx_t *ctx,
    const scim_schema_t *s, json_t *v);
static json_t *scim_present_synth(scim_present_ctx_t *ctx,
    const scim_attr_t *a, const scim_attr_t *sub, json_t *obj);
static scim_kind_t scim_present_kind(scim_present_ctx_t *ctx,
    const scim_attr_t *a);
static json_t *scim_url(const char *base, const char *path, json_t *id);
static const scim_schema_t *scim_find_ext(const scim_resource_type_t *rt,
    const char *key, size_t len);


/* ------------------------------------------------------------ projection */


scim_projection_t *
scim_projection_create(const scim_resource_type_t *rt,
    const char *attributes, const char *excluded, scim_error_t *err)
{
    scim_projection_t  *p;

    if (rt == NULL || rt->schema == NULL) {
        scim_error_set(err, 500, NULL, "no resource type");
        return NULL;
    }

    p = calloc(1, sizeof(scim_projection_t));
    if (p == NULL) {
        scim_error_set(err, 500, NULL, "out of memory");
        return NULL;
    }

    p->rt = rt;

    if (scim_proj_parse(rt, attributes, &p->incl, "attributes", err) != 0
        || scim_proj_parse(rt, excluded, &p->excl, "excludedAttributes", err)
           != 0)
    {
        scim_projection_free(p);
        return NULL;
    }

    return p;
}


void
scim_projection_free(scim_projection_t *p)
{
    if (p == NULL) {
        return;
    }

    scim_proj_list_free(&p->incl);
    scim_proj_list_free(&p->excl);
    free(p);
}


static void
scim_proj_list_free(scim_proj_list_t *l)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        scim_filter_free(l->items[i].filter);
    }

    free(l->items);
}


int
scim_projection_wants(const scim_projection_t *p, const char *attr)
{
    int                 whole;
    scim_attr_ref_t     ref;
    scim_present_ctx_t  ctx;

    if (p == NULL || attr == NULL) {
        return 1;
    }

    if (scim_attr_resolve(p->rt, attr, strlen(attr), &ref) != 0) {
        /* unknown names are kept unless "attributes" is given */
        return !p->incl.given;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.rt = p->rt;
    ctx.p = p;

    return scim_present_select(&ctx, ref.attr, &whole);
}


/*
 * A comma-separated list of attribute names, each optionally URN-prefixed
 * or a bare schema URN, or a value path ("emails[type eq \"work\"]",
 * optionally ".value").  Names are made of the characters of URNs and
 * attribute names; anything else (spaces inside a name, quotes, control
 * or non-ASCII bytes) outside brackets is a syntax error.  Unknown names
 * are ignored.
 */

static int
scim_proj_parse(const scim_resource_type_t *rt, const char *s,
    scim_proj_list_t *list, const char *param, scim_error_t *err)
{
    int                  rc;
    size_t               n, len, i;
    const char          *p, *e, *end;
    unsigned char        c;
    scim_attr_ref_t      ref;
    scim_proj_item_t    *items;
    const scim_schema_t *schema;

    if (s == NULL || *s == '\0') {
        return 0;
    }

    list->given = 1;

    end = s + strlen(s);

    for (p = s; p < end; p = e + 1) {
        e = scim_proj_item_end(p, end);

        len = e - p;

        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }

        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
            len--;
        }

        if (len == 0) {
            continue;
        }

        for (i = 0; i < len; i++) {
            c = (unsigned char) p[i];

            if (c == '[') {
                break;
            }

            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || strchr("-._~%!$&'()*+;=:@/", c) != NULL)
            {
                continue;
            }

            return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                                  "\"%s\": \"%.*s\" is not an attribute "
                                  "name", param,
                                  (int) (len > 200 ? 200 : len), p);
        }

        if (list->n >= SCIM_PROJ_MAX_ITEMS) {
            return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                                  "\"%s\" lists more than %d attributes",
                                  param, SCIM_PROJ_MAX_ITEMS);
        }

        if (list->n == list->alloc) {
            n = (list->alloc == 0) ? 8 : list->alloc * 2;

            items = realloc(list->items, n * sizeof(scim_proj_item_t));
            if (items == NULL) {
                return scim_error_set(err, 500, NULL, "out of memory");
            }

            list->items = items;
            list->alloc = n;
        }

        if (i < len) {
            /* a '[': a value path */

            list->items[list->n].filter = NULL;

            rc = scim_proj_filtered(rt, p, len, &list->items[list->n], param,
                                    err);
            if (rc < 0) {
                return -1;
            }

            if (rc == 1) {
                list->n++;
            }

            continue;
        }

        schema = scim_ascii_caseeq(p, len, rt->schema->id, strlen(rt->schema->id))
                 ? rt->schema : scim_find_ext(rt, p, len);

        if (schema != NULL) {
            list->items[list->n].schema = schema;
            list->items[list->n].attr = NULL;
            list->items[list->n].sub = NULL;
            list->items[list->n].filter = NULL;
            list->n++;
            continue;
        }

        if (scim_attr_resolve(rt, p, len, &ref) != 0) {
            continue;
        }

        list->items[list->n].schema = ref.schema;
        list->items[list->n].attr = ref.attr;
        list->items[list->n].sub = ref.sub;
        list->items[list->n].filter = NULL;
        list->n++;
    }

    return 0;
}


/*
 * The end of the list item at p: the next ',' outside brackets and
 * outside the quoted strings within them (with their backslash escapes),
 * else end.  An unclosed bracket runs to end (the path parser says so).
 */

static const char *
scim_proj_item_end(const char *p, const char *end)
{
    int  depth, quoted;

    depth = 0;
    quoted = 0;

    for ( /* void */ ; p < end; p++) {

        if (quoted) {
            if (*p == '\\' && p + 1 < end) {
                p++;

            } else if (*p == '"') {
                quoted = 0;
            }

            continue;
        }

        switch (*p) {

        case '"':
            quoted = (depth > 0);
            break;

        case '[':
            depth++;
            break;

        case ']':
            if (depth > 0) {
                depth--;
            }
            break;

        case ',':
            if (depth == 0) {
                return p;
            }
            break;
        }
    }

    return end;
}


/*
 * One item holding a value filter: 1 and *item filled (it owns the
 * filter), 0 if its attribute is unknown (ignored like any unknown
 * name), -1 on error.
 */

static int
scim_proj_filtered(const scim_resource_type_t *rt, const char *p, size_t len,
    scim_proj_item_t *item, const char *param, scim_error_t *err)
{
    scim_path_t   path;
    scim_error_t  perr;

    memset(&perr, 0, sizeof(scim_error_t));

    if (scim_path_parse(rt, p, len, &path, &perr) != 0) {
        scim_path_clear(&path);

        if (perr.status != 400) {
            *err = perr;
            return -1;
        }

        return scim_error_set(err, 400, SCIM_ERR_INVALID_FILTER,
                              "\"%s\": \"%.*s\": %s", param,
                              (int) (len > 100 ? 100 : len), p, perr.detail);
    }

    if (path.filter == NULL || path.res.attr == NULL
        || (path.sub != NULL && path.res.sub == NULL))
    {
        /* an unknown attribute or sub-attribute */
        scim_path_clear(&path);
        return 0;
    }

    if (!path.res.attr->multi_valued
        || path.res.attr->type != SCIM_TYPE_COMPLEX)
    {
        scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                       "\"%s\": a value filter needs a multi-valued "
                       "complex attribute, \"%s\" is not one", param,
                       path.res.attr->name);
        scim_path_clear(&path);
        return -1;
    }

    item->schema = path.res.schema;
    item->attr = path.res.attr;
    item->sub = path.res.sub;
    item->filter = path.filter;
    path.filter = NULL;

    scim_path_clear(&path);

    return 1;
}


static int
scim_proj_whole_schema(const scim_proj_list_t *l, const scim_schema_t *s)
{
    size_t  i;

    if (s == NULL) {
        return 0;
    }

    for (i = 0; i < l->n; i++) {
        if (l->items[i].attr == NULL && l->items[i].schema == s) {
            return 1;
        }
    }

    return 0;
}


/* a selected whole (sub NULL), or its sub-attribute sub, of every
   element (no value filter) */

static int
scim_proj_has(const scim_proj_list_t *l, const scim_attr_t *a,
    const scim_attr_t *sub)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        if (l->items[i].attr == a && l->items[i].sub == sub
            && l->items[i].filter == NULL)
        {
            return 1;
        }
    }

    return 0;
}


/* a part of a selected: a sub-attribute or the elements of a filter */

static int
scim_proj_any_sub(const scim_proj_list_t *l, const scim_attr_t *a)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        if (l->items[i].attr == a
            && (l->items[i].sub != NULL || l->items[i].filter != NULL))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Whether an item of l names sub-attribute sub of the element elem of a:
 * "a.sub" or "a[f].sub" with elem matching f, or "a[f]" (all of them) with
 * elem matching f.
 */

static int
scim_proj_elem_has(const scim_present_ctx_t *ctx, const scim_proj_list_t *l,
    const scim_attr_t *a, const scim_attr_t *sub, json_t *elem)
{
    size_t                   i;
    const scim_proj_item_t  *it;

    for (i = 0; i < l->n; i++) {
        it = &l->items[i];

        if (it->attr != a) {
            continue;
        }

        if (it->filter == NULL) {
            if (it->sub == sub) {
                return 1;
            }

            continue;
        }

        if ((it->sub == sub
             || (it->sub == NULL && sub->returned != SCIM_RET_REQUEST))
            && scim_filter_match_elem(it->filter, ctx->rt, a, elem))
        {
            return 1;
        }
    }

    return 0;
}


/* an item "a[f]" of excludedAttributes that elem matches */

static int
scim_proj_elem_excluded(const scim_present_ctx_t *ctx, const scim_attr_t *a,
    json_t *elem)
{
    size_t                   i;
    const scim_proj_item_t  *it;

    for (i = 0; i < ctx->p->excl.n; i++) {
        it = &ctx->p->excl.items[i];

        if (it->attr == a && it->sub == NULL && it->filter != NULL
            && scim_filter_match_elem(it->filter, ctx->rt, a, elem))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Whether the top-level attribute a appears in the output; *whole: all
 * its (default) sub-attributes, rather than only the selected ones.
 */

static int
scim_present_select(scim_present_ctx_t *ctx, const scim_attr_t *a,
    int *whole)
{
    const scim_projection_t  *p;

    *whole = 1;
    p = ctx->p;

    if (a->returned == SCIM_RET_NEVER) {
        return 0;
    }

    if (a->returned == SCIM_RET_ALWAYS) {
        return 1;
    }

    if (p != NULL && p->incl.given) {

        /* returned:request attributes must be named, a whole schema URN
           is not enough */

        if (!scim_proj_has(&p->incl, a, NULL)
            && (a->returned == SCIM_RET_REQUEST
                || !scim_proj_whole_schema(&p->incl, a->schema)))
        {
            if (!scim_proj_any_sub(&p->incl, a)) {
                return 0;
            }

            *whole = 0;
        }

    } else if (a->returned == SCIM_RET_REQUEST) {
        return 0;
    }

    if (p != NULL
        && (scim_proj_whole_schema(&p->excl, a->schema)
            || scim_proj_has(&p->excl, a, NULL)))
    {
        return 0;
    }

    return 1;
}


/* ---------------------------------------------------------- presentation */


json_t *
scim_resource_present(const scim_resource_type_t *rt, json_t *doc,
    const char *base_url, const scim_projection_t *p)
{
    void                 *it;
    size_t                klen;
    json_t               *out, *v, *r, *empty;
    const char           *key;
    scim_attr_ref_t       ref;
    const scim_attr_t    *a;
    const scim_schema_t  *ext;
    scim_present_ctx_t    ctx;

    static const char *const  first[] = { "id", "externalId", "meta" };
    size_t                    i;

    if (rt == NULL || rt->schema == NULL || !json_is_object(doc)) {
        return NULL;
    }

    ctx.rt = rt;
    ctx.p = p;
    ctx.base_url = (base_url != NULL) ? base_url : "";
    ctx.doc = doc;
    ctx.meta = (scim_attr_resolve(rt, "meta", 4, &ref) == 0) ? ref.attr
                                                               : NULL;

    out = json_object();
    if (out == NULL) {
        return NULL;
    }

    v = json_object_get(doc, "schemas");
    r = json_is_array(v) ? json_deep_copy(v)
                         : json_pack("[s]", rt->schema->id);

    if (json_object_set_new(out, "schemas", r) != 0) {
        goto failed;
    }

    /* the common attributes first */

    for (i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
        v = json_object_get(doc, first[i]);

        if (scim_attr_resolve(rt, first[i], strlen(first[i]), &ref) != 0) {
            continue;
        }

        empty = NULL;

        if (v == NULL && ref.attr == ctx.meta
            && json_is_string(json_object_get(doc, "id")))
        {
            empty = json_object();
            v = empty;
        }

        if (v == NULL || json_is_null(v)) {
            continue;
        }

        r = scim_present_attr(&ctx, ref.attr, v);
        json_decref(empty);

        if (r != NULL && json_object_set_new(out, ref.attr->name, r) != 0) {
            goto failed;
        }
    }

    for (it = json_object_iter(doc); it != NULL;
         it = json_object_iter_next(doc, it))
    {
        key = json_object_iter_key(it);
        klen = json_object_iter_key_len(it);
        v = json_object_iter_value(it);

        if (klen != strlen(key) || json_is_null(v)
            || strcmp(key, "schemas") == 0 || strcmp(key, "id") == 0
            || strcmp(key, "externalId") == 0 || strcmp(key, "meta") == 0)
        {
            continue;
        }

        ext = scim_find_ext(rt, key, klen);

        if (ext != NULL) {
            r = scim_present_block(&ctx, ext, v);

        } else {
            a = scim_attr_find(rt->schema->attrs, rt->schema->n_attrs, key,
                               klen);

            if (a != NULL) {
                r = scim_present_attr(&ctx, a, v);

            } else {
                /* not in the schema: kept unless "attributes" is given */
                r = (p != NULL && p->incl.given) ? NULL : json_deep_copy(v);
            }
        }

        if (r != NULL && json_object_set_new(out, key, r) != 0) {
            goto failed;
        }
    }

    return out;

failed:

    json_decref(out);
    return NULL;
}


static json_t *
scim_present_block(scim_present_ctx_t *ctx, const scim_schema_t *s,
    json_t *v)
{
    void               *it;
    json_t             *o, *r;
    const char         *key;
    const scim_attr_t  *a;

    if (!json_is_object(v)) {
        return NULL;
    }

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    for (it = json_object_iter(v); it != NULL;
         it = json_object_iter_next(v, it))
    {
        key = json_object_iter_key(it);

        a = scim_attr_find(s->attrs, s->n_attrs, key,
                           json_object_iter_key_len(it));

        if (a != NULL) {
            r = scim_present_attr(ctx, a, json_object_iter_value(it));

        } else {
            r = (ctx->p != NULL && ctx->p->incl.given)
                ? NULL : json_deep_copy(json_object_iter_value(it));
        }

        if (r != NULL && json_object_set_new(o, a ? a->name : key, r) != 0) {
            json_decref(o);
            return NULL;
        }
    }

    if (json_object_size(o) == 0) {
        json_decref(o);
        return NULL;
    }

    return o;
}


/* the representation of top-level attribute a, or NULL if left out */

static json_t *
scim_present_attr(scim_present_ctx_t *ctx, const scim_attr_t *a, json_t *v)
{
    int      whole;
    size_t   i;
    json_t  *arr, *r, *e;

    if (json_is_null(v) || !scim_present_select(ctx, a, &whole)) {
        return NULL;
    }

    if (a->type != SCIM_TYPE_COMPLEX) {
        return json_deep_copy(v);
    }

    if (!json_is_array(v)) {
        return scim_present_complex(ctx, a, v, whole);
    }

    arr = json_array();
    if (arr == NULL) {
        return NULL;
    }

    for (i = 0; i < json_array_size(v); i++) {
        e = json_array_get(v, i);

        /* "a[f]" in excludedAttributes: the elements matching f */

        if (ctx->p != NULL && scim_proj_elem_excluded(ctx, a, e)) {
            continue;
        }

        r = scim_present_complex(ctx, a, e, whole);

        if (r != NULL && json_array_append_new(arr, r) != 0) {
            json_decref(arr);
            return NULL;
        }
    }

    if (json_array_size(arr) == 0 && json_array_size(v) > 0) {
        json_decref(arr);
        return NULL;
    }

    return arr;
}


/* one complex value: sub-attributes in schema order, then unknown ones */

static json_t *
scim_present_complex(scim_present_ctx_t *ctx, const scim_attr_t *a,
    json_t *v, int whole)
{
    int                       in;
    void                     *it;
    size_t                    i;
    json_t                   *o, *sv, *r;
    const char               *key;
    const scim_attr_t        *sub;
    const scim_projection_t  *p;

    if (!json_is_object(v)) {
        return json_deep_copy(v);
    }

    p = ctx->p;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    for (i = 0; i < a->n_sub_attrs; i++) {
        sub = &a->sub_attrs[i];

        if (sub->returned == SCIM_RET_NEVER) {
            continue;
        }

        if (sub->returned != SCIM_RET_ALWAYS) {
            in = 1;

            if (p != NULL && (!whole || sub->returned == SCIM_RET_REQUEST)) {
                in = scim_proj_elem_has(ctx, &p->incl, a, sub, v);

            } else if (p == NULL && sub->returned == SCIM_RET_REQUEST) {
                in = 0;
            }

            /* an excluding "a[f]" matching v left v out before */

            if (!in
                || (p != NULL && scim_proj_elem_has(ctx, &p->excl, a, sub, v)))
            {
                continue;
            }
        }

        sv = NULL;

        for (it = json_object_iter(v); it != NULL;
             it = json_object_iter_next(v, it))
        {
            key = json_object_iter_key(it);

            if (scim_ascii_caseeq(key, json_object_iter_key_len(it), sub->name,
                            strlen(sub->name)))
            {
                sv = json_object_iter_value(it);
                break;
            }
        }

        r = (sv != NULL && !json_is_null(sv))
            ? json_deep_copy(sv) : scim_present_synth(ctx, a, sub, v);

        if (r != NULL && json_object_set_new(o, sub->name, r) != 0) {
            json_decref(o);
            return NULL;
        }
    }

    if (whole) {
        for (it = json_object_iter(v); it != NULL;
             it = json_object_iter_next(v, it))
        {
            key = json_object_iter_key(it);

            if (json_object_iter_key_len(it) != strlen(key)
                || scim_attr_find(a->sub_attrs, a->n_sub_attrs, key,
                                  strlen(key)) != NULL)
            {
                continue;
            }

            r = json_deep_copy(json_object_iter_value(it));

            if (r != NULL && json_object_set_new(o, key, r) != 0) {
                json_decref(o);
                return NULL;
            }
        }
    }

    if (json_object_size(o) == 0) {
        json_decref(o);
        return NULL;
    }

    return o;
}


/* values the stored document lacks: meta.location, meta.resourceType,
   "$ref" */

static json_t *
scim_present_synth(scim_present_ctx_t *ctx, const scim_attr_t *a,
    const scim_attr_t *sub, json_t *obj)
{
    json_t      *type;
    const char  *path;

    switch (scim_present_kind(ctx, a)) {

    case SCIM_KIND_META:
        if (strcmp(sub->name, "resourceType") == 0) {
            return json_string(ctx->rt->name);
        }

        if (strcmp(sub->name, "location") == 0) {
            return scim_url(ctx->base_url, ctx->rt->endpoint,
                            json_object_get(ctx->doc, "id"));
        }

        return NULL;

    case SCIM_KIND_MANAGER:
        path = "/Users";
        break;

    case SCIM_KIND_GROUPS:
        path = "/Groups";
        break;

    case SCIM_KIND_MEMBERS:
        type = json_object_get(obj, "type");
        path = (json_is_string(type)
                && strcmp(json_string_value(type), "Group") == 0)
               ? "/Groups" : "/Users";
        break;

    default:
        return NULL;
    }

    if (strcmp(sub->name, "$ref") != 0) {
        return NULL;
    }

    return scim_url(ctx->base_url, path, json_object_get(obj, "value"));
}


static scim_kind_t
scim_present_kind(scim_present_ctx_t *ctx, const scim_attr_t *a)
{
    if (a == ctx->meta) {
        return SCIM_KIND_META;
    }

    if (a->schema == NULL || a->parent != NULL) {
        return SCIM_KIND_NONE;
    }

    if (strcmp(a->name, "manager") == 0
        && strcmp(a->schema->id, SCIM_SCHEMA_ENTERPRISE) == 0)
    {
        return SCIM_KIND_MANAGER;
    }

    if (strcmp(a->name, "members") == 0
        && strcmp(a->schema->id, SCIM_SCHEMA_GROUP) == 0)
    {
        return SCIM_KIND_MEMBERS;
    }

    if (strcmp(a->name, "groups") == 0
        && strcmp(a->schema->id, SCIM_SCHEMA_USER) == 0)
    {
        return SCIM_KIND_GROUPS;
    }

    return SCIM_KIND_NONE;
}


/* base + path + "/" + the percent-encoded id; NULL if id is no string */

static json_t *
scim_url(const char *base, const char *path, json_t *id)
{
    char                 *buf, *p;
    size_t                i, len, blen, plen;
    json_t               *r;
    const unsigned char  *s;

    static const char  hex[] = "0123456789ABCDEF";

    if (!json_is_string(id) || json_string_length(id) == 0) {
        return NULL;
    }

    s = (const unsigned char *) json_string_value(id);
    len = json_string_length(id);
    blen = strlen(base);
    plen = strlen(path);

    if (len > ((size_t) -1 - blen - plen - 2) / 3) {
        return NULL;
    }

    buf = malloc(blen + plen + 1 + len * 3 + 1);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;
    memcpy(p, base, blen);
    p += blen;
    memcpy(p, path, plen);
    p += plen;
    *p++ = '/';

    for (i = 0; i < len; i++) {
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
            || (s[i] >= '0' && s[i] <= '9')
            || strchr("-._~!$&'()*+,;=:@", s[i]) != NULL)
        {
            if (s[i] != '\0') {
                *p++ = (char) s[i];
                continue;
            }
        }

        *p++ = '%';
        *p++ = hex[s[i] >> 4];
        *p++ = hex[s[i] & 0xf];
    }

    r = json_stringn(buf, p - buf);
    free(buf);

    return r;
}


/* -------------------------------------------------------------- helpers */


static const scim_schema_t *
scim_find_ext(const scim_resource_type_t *rt, const char *key, size_t len)
{
    size_t  i;

    for (i = 0; i < rt->n_extensions; i++) {
        if (rt->extensions[i] != NULL
            && scim_ascii_caseeq(key, len, rt->extensions[i]->id,
                           strlen(rt->extensions[i]->id)))
        {
            return rt->extensions[i];
        }
    }

    return NULL;
}
