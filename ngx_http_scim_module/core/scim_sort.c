
/*
 * ngx_http_scim_module: sortBy / sortOrder (RFC 7644 3.4.2.3): the sort
 * key of a document and the comparison of two keys (what a scan keeps
 * while it walks a collection), and scim_sort() for a list in memory.
 *
 * Behaviours beyond the header, decided here:
 *  - a complex sortBy without a sub-attribute sorts by its "value"
 *    sub-attribute (emails: the primary email's value, else the first
 *    one's; manager: manager.value); a complex attribute without "value"
 *    (name, addresses) is 400 invalidValue; a multi-valued simple
 *    attribute sorts by its first value; a value of the wrong JSON type
 *    counts as absent; NULL or "" sort_by leaves docs as they are.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "scim_text.h"


typedef struct {
    json_t           *doc;
    scim_sort_key_t   key;
} scim_sort_item_t;


int
scim_sort_spec(const scim_resource_type_t *rt, const char *sort_by,
    int descending, scim_sort_spec_t *spec, scim_error_t *err)
{
    const scim_attr_t  *sub;

    memset(spec, 0, sizeof(scim_sort_spec_t));

    if (rt == NULL || sort_by == NULL) {
        return scim_error_set(err, 500, NULL, "nothing to sort by");
    }

    if (scim_attr_resolve(rt, sort_by, strlen(sort_by), &spec->ref) != 0) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                              "sortBy: \"%.200s\" is not a known attribute",
                              sort_by);
    }

    sub = spec->ref.sub;

    if (sub == NULL && spec->ref.attr->type == SCIM_TYPE_COMPLEX) {
        sub = scim_attr_find(spec->ref.attr->sub_attrs,
                             spec->ref.attr->n_sub_attrs, "value", 5);

        if (sub == NULL) {
            return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                                  "sortBy: \"%.200s\" is a complex "
                                  "attribute; name one of its "
                                  "sub-attributes", sort_by);
        }
    }

    if (sub != NULL && sub->multi_valued) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                              "sortBy: \"%.200s\" is multi-valued",
                              sort_by);
    }

    spec->rt = rt;
    spec->sub = sub;
    spec->attr = (sub != NULL) ? sub : spec->ref.attr;
    spec->descending = descending ? 1 : 0;

    return 0;
}


/* the value to sort doc by, borrowed, or NULL */

static json_t *
scim_sort_value(const scim_sort_spec_t *spec, json_t *doc)
{
    size_t                  i;
    json_t                 *v, *e, *pick;
    const scim_attr_t      *sub;
    const scim_attr_ref_t  *ref;

    ref = &spec->ref;
    sub = spec->sub;
    v = doc;

    if (ref->schema != NULL && ref->schema != spec->rt->schema) {
        v = json_object_get(doc, ref->schema->id);
    }

    v = json_object_get(v, ref->attr->name);

    if (v == NULL || json_is_null(v)) {
        return NULL;
    }

    if (ref->attr->multi_valued) {
        if (!json_is_array(v)) {
            return NULL;
        }

        pick = NULL;

        if (sub != NULL) {
            for (i = 0; i < json_array_size(v); i++) {
                e = json_array_get(v, i);

                if (json_is_true(json_object_get(e, "primary"))) {
                    pick = e;
                    break;
                }
            }
        }

        for (i = 0; pick == NULL && i < json_array_size(v); i++) {
            e = json_array_get(v, i);

            if (json_is_null(e)) {
                continue;
            }

            if (sub == NULL || json_object_get(e, sub->name) != NULL) {
                pick = e;
            }
        }

        v = pick;
    }

    if (sub != NULL) {
        v = json_object_get(v, sub->name);
    }

    return v;
}


int
scim_sort_key(const scim_sort_spec_t *spec, json_t *doc, scim_sort_key_t *key)
{
    json_t  *v;

    memset(key, 0, sizeof(scim_sort_key_t));

    v = scim_sort_value(spec, doc);

    if (v == NULL) {
        return 0;
    }

    switch (spec->attr->type) {

    case SCIM_TYPE_BOOLEAN:
        if (json_is_boolean(v)) {
            key->present = 1;
            key->is_int = 1;
            key->inum = json_is_true(v);
        }

        return 0;

    case SCIM_TYPE_INTEGER:
    case SCIM_TYPE_DECIMAL:
        if (json_is_number(v)) {
            key->present = 1;
            key->is_int = json_is_integer(v);
            key->inum = json_integer_value(v);
            key->num = json_number_value(v);
        }

        return 0;

    case SCIM_TYPE_DATETIME:
        if (json_is_string(v)
            && scim_datetime_parse(json_string_value(v),
                                   json_string_length(v), &key->sec,
                                   &key->nsec)
               == 0)
        {
            key->present = 1;
        }

        return 0;

    default:
        if (!json_is_string(v)) {
            return 0;
        }

        if (spec->attr->case_exact) {
            key->len = json_string_length(v);
            key->str = malloc(key->len + 1);

            if (key->str != NULL) {
                memcpy(key->str, json_string_value(v), key->len + 1);
            }

        } else {
            key->str = scim_casefold(json_string_value(v),
                                     json_string_length(v), &key->len);
        }

        if (key->str == NULL) {
            key->len = 0;
            return -1;
        }

        key->present = 1;

        return 0;
    }
}


void
scim_sort_key_free(scim_sort_key_t *key)
{
    free(key->str);
    key->str = NULL;
    key->len = 0;
}


size_t
scim_sort_key_size(const scim_sort_key_t *key)
{
    return sizeof(scim_sort_key_t) + (key->str ? key->len + 1 : 0);
}


/* a missing value is greater than any: last, or first when descending
   (RFC 7644 3.4.2.3) */

int
scim_sort_key_cmp(const scim_sort_spec_t *spec, const scim_sort_key_t *a,
    const scim_sort_key_t *b)
{
    int  c;

    if (a->present != b->present) {
        c = a->present ? -1 : 1;
        return spec->descending ? -c : c;
    }

    if (!a->present) {
        return 0;
    }

    switch (spec->attr->type) {

    case SCIM_TYPE_BOOLEAN:
    case SCIM_TYPE_INTEGER:
    case SCIM_TYPE_DECIMAL:
        if (a->is_int && b->is_int) {
            c = (a->inum > b->inum) - (a->inum < b->inum);

        } else {
            c = (a->num > b->num) - (a->num < b->num);
        }

        break;

    case SCIM_TYPE_DATETIME:
        if (a->sec != b->sec) {
            c = (a->sec > b->sec) ? 1 : -1;

        } else {
            c = (a->nsec > b->nsec) - (a->nsec < b->nsec);
        }

        break;

    default:
        c = memcmp(a->str, b->str, a->len < b->len ? a->len : b->len);

        if (c == 0) {
            c = (a->len > b->len) - (a->len < b->len);

        } else {
            c = c < 0 ? -1 : 1;
        }
    }

    return spec->descending ? -c : c;
}


/* merge sort: stable */

static void
scim_sort_merge(const scim_sort_spec_t *spec, scim_sort_item_t **v,
    scim_sort_item_t **tmp, size_t n)
{
    size_t  i, j, k, mid;

    if (n < 2) {
        return;
    }

    mid = n / 2;
    scim_sort_merge(spec, v, tmp, mid);
    scim_sort_merge(spec, v + mid, tmp, n - mid);

    for (i = 0, j = mid, k = 0; i < mid && j < n; k++) {
        tmp[k] = (scim_sort_key_cmp(spec, &v[i]->key, &v[j]->key) <= 0)
                 ? v[i++] : v[j++];
    }

    while (i < mid) {
        tmp[k++] = v[i++];
    }

    while (j < n) {
        tmp[k++] = v[j++];
    }

    memcpy(v, tmp, n * sizeof(scim_sort_item_t *));
}


int
scim_sort(const scim_resource_type_t *rt, json_t *docs, const char *sort_by,
    int descending, scim_error_t *err)
{
    int                 rc;
    size_t              i, n;
    scim_sort_spec_t    spec;
    scim_sort_item_t   *items, **order, **tmp;

    if (sort_by == NULL || *sort_by == '\0') {
        return 0;
    }

    if (rt == NULL || !json_is_array(docs)) {
        return scim_error_set(err, 500, NULL, "nothing to sort");
    }

    if (scim_sort_spec(rt, sort_by, descending, &spec, err) != 0) {
        return -1;
    }

    n = json_array_size(docs);
    if (n < 2) {
        return 0;
    }

    items = calloc(n, sizeof(scim_sort_item_t));
    order = calloc(n, sizeof(scim_sort_item_t *));
    tmp = calloc(n, sizeof(scim_sort_item_t *));

    rc = -1;

    if (items == NULL || order == NULL || tmp == NULL) {
        goto done;
    }

    for (i = 0; i < n; i++) {
        items[i].doc = json_incref(json_array_get(docs, i));
        order[i] = &items[i];

        if (scim_sort_key(&spec, items[i].doc, &items[i].key) != 0) {
            goto done;
        }
    }

    scim_sort_merge(&spec, order, tmp, n);

    /* the items hold a reference to each document: no replacement frees */

    for (i = 0; i < n; i++) {
        json_array_set(docs, i, order[i]->doc);
    }

    rc = 0;

done:

    for (i = 0; items != NULL && i < n; i++) {
        scim_sort_key_free(&items[i].key);
        json_decref(items[i].doc);
    }

    free(items);
    free(order);
    free(tmp);

    if (rc != 0) {
        return scim_error_set(err, 500, NULL, "out of memory");
    }

    return 0;
}
