
/*
 * ngx_http_scim_module: RFC 7643 2.2 "immutable" on PUT and PATCH
 * (scim_resource_check_immutable(), see scim_core.h): the new document
 * against the stored one.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "scim_json.h"
#include "scim_resource.h"
#include "scim_text.h"


static int scim_immut_attrs(scim_norm_ctx_t *ctx, const scim_attr_t *attrs,
    size_t n, json_t *oo, json_t *no);
static int scim_immut_unset(json_t *v);
static int scim_immut_equal(const scim_attr_t *a, json_t *x, json_t *y);
static size_t scim_immut_count(const scim_attr_t *a, json_t *arr,
    json_t *v);
static int scim_immut_one(const scim_attr_t *a, json_t *x, json_t *y);


int
scim_resource_check_immutable(const scim_resource_type_t *rt,
    json_t *old_doc, json_t *new_doc, scim_error_t *err)
{
    size_t                i;
    json_t               *ob, *nb;
    scim_norm_ctx_t       ctx;
    const scim_schema_t  *ext;

    if (rt == NULL || rt->schema == NULL || !json_is_object(new_doc)) {
        return scim_error_set(err, 500, NULL, "no resource type or document");
    }

    if (!json_is_object(old_doc)) {
        return 0;
    }

    ctx.rt = rt;
    ctx.err = err;
    ctx.mode = SCIM_INPUT_STORED;
    ctx.group = (strcmp(rt->schema->id, SCIM_SCHEMA_GROUP) == 0);

    if (scim_immut_attrs(&ctx, rt->schema->attrs, rt->schema->n_attrs,
                         old_doc, new_doc)
        != 0)
    {
        return -1;
    }

    for (i = 0; i < rt->n_extensions; i++) {
        ext = rt->extensions[i];
        if (ext == NULL) {
            continue;
        }

        ob = scim_json_getn_ci(old_doc, ext->id, strlen(ext->id));
        if (!json_is_object(ob)) {
            continue;
        }

        nb = scim_json_getn_ci(new_doc, ext->id, strlen(ext->id));

        if (scim_immut_attrs(&ctx, ext->attrs, ext->n_attrs, ob,
                             json_is_object(nb) ? nb : NULL)
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


/*
 * attrs[0..n) as found in oo (old) and no (new, may be NULL): an immutable
 * one that had a value must keep it; the sub-attributes of a singular
 * complex attribute are checked the same way.  Sub-attributes of a
 * multi-valued attribute are not: elements have no identity to pair old
 * and new by, and adding or removing elements is allowed (group members).
 */

static int
scim_immut_attrs(scim_norm_ctx_t *ctx, const scim_attr_t *attrs, size_t n,
    json_t *oo, json_t *no)
{
    size_t              i;
    json_t             *ov, *nv;
    const scim_attr_t  *a;
    char                path[SCIM_NORM_PATH_SIZE];

    for (i = 0; i < n; i++) {
        a = &attrs[i];

        if (a->mutability == SCIM_MUT_READONLY
            || strcmp(a->name, "$ref") == 0)
        {
            continue;
        }

        ov = scim_json_getn_ci(oo, a->name, strlen(a->name));
        nv = scim_json_getn_ci(no, a->name, strlen(a->name));

        if (a->mutability == SCIM_MUT_IMMUTABLE) {
            if (scim_immut_unset(ov)) {
                continue;
            }

            if (scim_immut_unset(nv) || !scim_immut_equal(a, ov, nv)) {
                return scim_error_set(ctx->err, 400, SCIM_ERR_MUTABILITY,
                                      "attribute \"%.300s\" is immutable: "
                                      "once set, it cannot be %s",
                                      scim_norm_path(ctx, a, path,
                                                     sizeof(path)),
                                      scim_immut_unset(nv) ? "removed"
                                                           : "changed");
            }

            continue;
        }

        if (a->type == SCIM_TYPE_COMPLEX && !a->multi_valued
            && a->parent == NULL && json_is_object(ov)
            && scim_immut_attrs(ctx, a->sub_attrs, a->n_sub_attrs, ov,
                                json_is_object(nv) ? nv : NULL)
               != 0)
        {
            return -1;
        }
    }

    return 0;
}


/* absent, null, [] or {}: "not already set" */

static int
scim_immut_unset(json_t *v)
{
    return v == NULL || json_is_null(v)
           || (json_is_array(v) && json_array_size(v) == 0)
           || (json_is_object(v) && json_object_size(v) == 0);
}


/* a's values x and y are the same; multi-valued ones in any order */

static int
scim_immut_equal(const scim_attr_t *a, json_t *x, json_t *y)
{
    size_t  i;
    json_t  *e;

    if (!a->multi_valued || !json_is_array(x) || !json_is_array(y)) {
        return scim_immut_one(a, x, y);
    }

    if (json_array_size(x) != json_array_size(y)) {
        return 0;
    }

    /* the same multiset: every value as often in x as in y */

    for (i = 0; i < json_array_size(x); i++) {
        e = json_array_get(x, i);

        if (scim_immut_count(a, x, e) != scim_immut_count(a, y, e)) {
            return 0;
        }
    }

    return 1;
}


static size_t
scim_immut_count(const scim_attr_t *a, json_t *arr, json_t *v)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < json_array_size(arr); i++) {
        if (scim_immut_one(a, json_array_get(arr, i), v)) {
            n++;
        }
    }

    return n;
}


/*
 * One value (or element) of a: strings compared per caseExact, dateTimes
 * as instants, numbers as numbers, complex values sub-attribute by
 * sub-attribute (readOnly ones and "$ref" aside)
 */

static int
scim_immut_one(const scim_attr_t *a, json_t *x, json_t *y)
{
    long                xn, yn;
    size_t              i, xl, yl;
    json_t             *sx, *sy;
    int64_t             xs, ys;
    double              xd, yd;
    const char         *xp, *yp;
    const scim_attr_t  *sub;

    if (a->type == SCIM_TYPE_COMPLEX && json_is_object(x)
        && json_is_object(y))
    {
        for (i = 0; i < a->n_sub_attrs; i++) {
            sub = &a->sub_attrs[i];

            if (sub->mutability == SCIM_MUT_READONLY
                || strcmp(sub->name, "$ref") == 0)
            {
                continue;
            }

            sx = scim_json_getn_ci(x, sub->name, strlen(sub->name));
            sy = scim_json_getn_ci(y, sub->name, strlen(sub->name));

            if (scim_immut_unset(sx) != scim_immut_unset(sy)) {
                return 0;
            }

            if (!scim_immut_unset(sx) && !scim_immut_equal(sub, sx, sy)) {
                return 0;
            }
        }

        return 1;
    }

    if (json_is_string(x) && json_is_string(y)) {
        xp = json_string_value(x);
        xl = json_string_length(x);
        yp = json_string_value(y);
        yl = json_string_length(y);

        if (a->type == SCIM_TYPE_DATETIME
            && scim_datetime_parse(xp, xl, &xs, &xn) == 0
            && scim_datetime_parse(yp, yl, &ys, &yn) == 0)
        {
            return xs == ys && xn == yn;
        }

        if (a->case_exact || a->type == SCIM_TYPE_BINARY) {
            return xl == yl && memcmp(xp, yp, xl) == 0;
        }

        return scim_utf8_caseeq(xp, xl, yp, yl);
    }

    if (json_is_integer(x) && json_is_integer(y)) {
        return json_integer_value(x) == json_integer_value(y);
    }

    if (json_is_number(x) && json_is_number(y)) {
        xd = json_number_value(x);
        yd = json_number_value(y);

        return !(xd < yd) && !(xd > yd);
    }

    return json_equal(x, y);
}
