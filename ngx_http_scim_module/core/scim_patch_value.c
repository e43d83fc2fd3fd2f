
/*
 * ngx_http_scim_module: the values a PATCH writes (RFC 7644 3.5.2): deep
 * copies with booleans coerced, merges into complex values, appends to
 * and removals from multi-valued attributes, "primary" kept on one
 * element; the object that holds an attribute; the cost of a PATCH.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_patch.h"


static char *scim_patch_value_key(json_t *v, int case_exact);
static char *scim_patch_key_dup(const char *s);


int
scim_patch_nomem(scim_patch_t *ctx)
{
    return scim_error_set(ctx->err, 500, NULL, "out of memory");
}


int
scim_patch_spend(scim_patch_t *ctx, size_t n)
{
    ctx->work += n;

    if (ctx->work > SCIM_PATCH_MAX_WORK) {
        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                              "the PATCH is too large: send fewer "
                              "operations or values");
    }

    return 0;
}


/* the object that holds the attribute: the document or its extension */

json_t *
scim_patch_container(scim_patch_t *ctx, const scim_path_res_t *res,
    int create)
{
    json_t  *b;

    if (res->block == NULL) {
        return ctx->doc;
    }

    b = scim_patch_get(ctx->doc, res->block);

    if (json_is_object(b)) {
        return b;
    }

    if (!create) {
        return NULL;
    }

    b = json_object();
    if (b == NULL || scim_json_set_ci(ctx->doc, res->block, b) != 0) {
        scim_patch_nomem(ctx);
        return NULL;
    }

    return b;
}


void
scim_patch_prune(scim_patch_t *ctx, const scim_path_res_t *res)
{
    json_t  *b;

    if (res->block == NULL) {
        return;
    }

    b = scim_json_get_ci(ctx->doc, res->block);

    if (json_is_object(b) && json_object_size(b) == 0) {
        scim_json_del_ci(ctx->doc, res->block);
    }
}


/* obj[name], moved under name if it was under another case */

json_t *
scim_patch_get(json_t *obj, const char *name)
{
    json_t      *v;
    const char  *key;

    key = scim_json_key_ci(obj, name);
    if (key == NULL) {
        return NULL;
    }

    v = json_object_get(obj, key);

    if (strcmp(key, name) != 0) {
        json_incref(v);

        if (scim_json_set_ci(obj, name, v) != 0) {
            return NULL;
        }
    }

    return v;
}


/*
 * A deep copy of a client's value, with booleans given as "True"/"False"
 * made booleans where def (or its sub-attributes) says boolean.
 */

json_t *
scim_patch_copy(const scim_attr_t *def, json_t *v)
{
    int                 b;
    size_t              i;
    json_t             *c, *e, *x;
    const char         *key;
    const scim_attr_t  *sd;

    if (def != NULL && def->type == SCIM_TYPE_BOOLEAN && json_is_string(v)) {
        b = scim_json_bool(v);
        if (b >= 0) {
            return json_boolean(b);
        }
    }

    c = json_deep_copy(v);

    if (c == NULL || def == NULL || def->type != SCIM_TYPE_COMPLEX) {
        return c;
    }

    /* the sub-attributes of a complex value, or of each element */

    for (i = 0; i < (json_is_array(c) ? json_array_size(c) : 1); i++) {
        e = json_is_array(c) ? json_array_get(c, i) : c;

        if (!json_is_object(e)) {
            continue;
        }

        json_object_foreach(e, key, x) {
            sd = scim_attr_find(def->sub_attrs, def->n_sub_attrs, key,
                                strlen(key));

            if (sd != NULL && sd->type == SCIM_TYPE_BOOLEAN
                && json_is_string(x) && (b = scim_json_bool(x)) >= 0)
            {
                /* replacing a key's value keeps the iteration valid */
                json_object_set_new(e, key, json_boolean(b));
            }
        }
    }

    return c;
}


/* dst's sub-attributes from src (null removes), canonical names */

int
scim_patch_merge(json_t *dst, json_t *src, const scim_attr_t *def)
{
    json_t             *v;
    const char         *key, *name;
    const scim_attr_t  *sd;

    json_object_foreach(src, key, v) {
        sd = NULL;

        if (def != NULL) {
            sd = scim_attr_find(def->sub_attrs, def->n_sub_attrs, key,
                                strlen(key));
        }

        name = (sd != NULL) ? sd->name : key;

        if (json_is_null(v)) {
            scim_json_del_ci(dst, name);
            continue;
        }

        if (scim_json_set_ci(dst, name, scim_patch_copy(sd, v)) != 0) {
            return -1;
        }
    }

    return 0;
}


/* add to a multi-valued attribute: append what is not there yet */

int
scim_patch_append(scim_patch_t *ctx, json_t *container, const char *name,
    const scim_attr_t *def, json_t *value)
{
    char    *k;
    size_t   i, n;
    json_t  *arr, *ex, *seen, *item, *c, *last;

    ex = scim_json_get_ci(container, name);

    if (scim_patch_spend(ctx, json_array_size(ex) + json_array_size(value))
        != 0)
    {
        return -1;
    }

    if (json_is_array(ex)) {
        arr = ex;

    } else {
        arr = json_array();
        if (arr == NULL) {
            return scim_patch_nomem(ctx);
        }

        if ((ex != NULL && !json_is_null(ex)
             && json_array_append(arr, ex) != 0)
            || scim_json_set_ci(container, name, arr) != 0)
        {
            return scim_patch_nomem(ctx);
        }
    }

    seen = json_object();
    if (seen == NULL) {
        return scim_patch_nomem(ctx);
    }

    json_array_foreach(arr, i, item) {
        k = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS
                             | JSON_ENCODE_ANY);
        if (k == NULL || json_object_set_new(seen, k, json_true()) != 0) {
            scim_json_free(k);
            json_decref(seen);
            return scim_patch_nomem(ctx);
        }

        scim_json_free(k);
    }

    last = NULL;
    n = json_is_array(value) ? json_array_size(value) : 1;

    for (i = 0; i < n; i++) {
        item = json_is_array(value) ? json_array_get(value, i) : value;

        if (json_is_null(item)) {
            continue;
        }

        c = scim_patch_copy(def, item);
        k = (c != NULL) ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS
                                        | JSON_ENCODE_ANY)
                        : NULL;

        if (k == NULL) {
            json_decref(c);
            json_decref(seen);
            return scim_patch_nomem(ctx);
        }

        if (json_object_get(seen, k) != NULL) {
            scim_json_free(k);
            json_decref(c);
            continue;
        }

        if (json_object_set_new(seen, k, json_true()) != 0
            || json_array_append_new(arr, c) != 0)
        {
            scim_json_free(k);
            json_decref(seen);
            return scim_patch_nomem(ctx);
        }

        scim_json_free(k);

        if (json_is_object(c)
            && scim_json_bool(scim_json_get_ci(c, "primary")) == 1)
        {
            if (last != NULL) {
                /* RFC 7643 2.4: "true" at most once */
                json_decref(seen);
                return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                                      "the values added to \"%s\" have more "
                                      "than one \"primary\": true",
                                      def != NULL ? def->name : "?");
            }

            last = c;
        }
    }

    json_decref(seen);

    if (last != NULL) {
        scim_patch_primary(arr, last);
    }

    return 0;
}


/* "primary": true on keep only (RFC 7643 2.4) */

void
scim_patch_primary(json_t *arr, json_t *keep)
{
    size_t       i;
    json_t      *e;
    const char  *key;

    if (scim_json_bool(scim_json_get_ci(keep, "primary")) != 1) {
        return;
    }

    json_array_foreach(arr, i, e) {
        if (e == keep || !json_is_object(e)) {
            continue;
        }

        key = scim_json_key_ci(e, "primary");

        if (key != NULL && scim_json_bool(json_object_get(e, key)) == 1) {
            json_object_set_new(e, key, json_false());
        }
    }
}


/*
 * Removes from arr the values listed: elements whose "value" equals an
 * item's "value" (or the item, if a string), compared per caseExact of
 * the "value" sub-attribute; elements equal to an item without "value".
 */

int
scim_patch_remove_values(json_t *arr, json_t *value, const scim_attr_t *def)
{
    int                 case_exact;
    char               *k;
    size_t              i, n;
    json_t             *byval, *whole, *item, *v, *e;
    const scim_attr_t  *vd;

    vd = NULL;
    if (def != NULL && def->type == SCIM_TYPE_COMPLEX) {
        vd = scim_attr_find(def->sub_attrs, def->n_sub_attrs, "value", 5);

    } else {
        vd = def;
    }

    case_exact = (vd != NULL) ? vd->case_exact : 0;

    byval = json_object();
    whole = json_object();

    if (byval == NULL || whole == NULL) {
        goto failed;
    }

    n = json_is_array(value) ? json_array_size(value) : 1;

    for (i = 0; i < n; i++) {
        item = json_is_array(value) ? json_array_get(value, i) : value;

        v = json_is_object(item) ? scim_json_get_ci(item, "value") : item;

        if (v != NULL && !json_is_null(v)) {
            k = scim_patch_value_key(v, case_exact);
            if (k == NULL || json_object_set_new(byval, k, json_true()) != 0)
            {
                scim_json_free(k);
                goto failed;
            }

        } else if (json_is_object(item) && json_object_size(item) > 0) {
            k = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS);
            if (k == NULL || json_object_set_new(whole, k, json_true()) != 0)
            {
                scim_json_free(k);
                goto failed;
            }

        } else {
            continue;
        }

        scim_json_free(k);
    }

    for (i = json_array_size(arr); i-- > 0; /* void */) {
        e = json_array_get(arr, i);
        v = json_is_object(e) ? scim_json_get_ci(e, "value") : e;

        if (v != NULL && !json_is_null(v)) {
            k = scim_patch_value_key(v, case_exact);
            if (k == NULL) {
                goto failed;
            }

            if (json_object_get(byval, k) != NULL) {
                json_array_remove(arr, i);
                scim_json_free(k);
                continue;
            }

            scim_json_free(k);
        }

        if (json_object_size(whole) > 0 && json_is_object(e)) {
            k = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
            if (k == NULL) {
                goto failed;
            }

            if (json_object_get(whole, k) != NULL) {
                json_array_remove(arr, i);
            }

            scim_json_free(k);
        }
    }

    json_decref(byval);
    json_decref(whole);

    return 0;

failed:

    json_decref(byval);
    json_decref(whole);

    return -1;
}


/* a set key for a value: case-folded strings unless caseExact */

static char *
scim_patch_value_key(json_t *v, int case_exact)
{
    int      b;
    char    *k, *f;
    size_t   n;

    if (json_is_string(v)) {
        b = scim_json_bool(v);

        if (b >= 0) {
            return scim_patch_key_dup(b ? "b:true" : "b:false");
        }

        n = json_string_length(v);
        f = case_exact ? NULL : scim_casefold(json_string_value(v), n, &n);

        if (!case_exact && f == NULL) {
            return NULL;
        }

        k = scim_json_alloc(n + 3);
        if (k != NULL) {
            memcpy(k, "s:", 2);
            memcpy(k + 2, case_exact ? json_string_value(v) : f, n);
            k[n + 2] = '\0';

            if (strlen(k) != n + 2) {
                /* a NUL inside: the escaped JSON text, matched exactly */
                scim_json_free(k);
                k = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            }
        }

        free(f);
        return k;
    }

    if (json_is_boolean(v)) {
        return scim_patch_key_dup(json_is_true(v) ? "b:true" : "b:false");
    }

    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}


/* a key's memory is jansson's (json_dumps() makes most of them) */

static char *
scim_patch_key_dup(const char *s)
{
    char    *k;
    size_t   n;

    n = strlen(s) + 1;

    k = scim_json_alloc(n);
    if (k != NULL) {
        memcpy(k, s, n);
    }

    return k;
}
