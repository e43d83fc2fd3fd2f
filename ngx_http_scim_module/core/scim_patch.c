
/*
 * ngx_http_scim_module: PATCH (RFC 7644 3.5.2) on stored documents.
 *
 * The operations apply to a copy of the document; the document (and the
 * member delta) change only when every operation succeeded, so a failed
 * PATCH leaves both as they were.
 *
 * Choices where RFC 7644 is silent or where clients (Entra ID) differ:
 *  - "op" in any case; "Operations", "op", "path", "value" keys in any
 *    case; "schemas" is not checked (a body without it is accepted), an
 *    empty Operations array is a no-op;
 *  - add/replace with a null value remove the target (RFC 7643 2.5:
 *    null is unassigned); add of [] to a multi-valued attribute is a
 *    no-op, replace with [] removes it;
 *  - add or replace of an object on a singular complex attribute merges
 *    its sub-attributes (RFC 7644 3.5.2.1, 3.5.2.3); add to a
 *    multi-valued attribute appends the values not already there;
 *    replace of a multi-valued attribute replaces the whole array;
 *  - add/replace on a value filter that matches nothing creates the
 *    element from the filter's "eq" comparisons (Entra:
 *    emails[type eq "work"].value, roles[primary eq "True"].display);
 *    other filters that match nothing: 400 noTarget;
 *  - replace of a matched element (path with a filter, no sub-attribute)
 *    replaces it, keeping the filter's "eq" values the new one lacks;
 *  - remove on a value filter that matches nothing: 400 noTarget (RFC
 *    7644 3.5.2), but for the manager (Entra's manager[value eq "id"],
 *    idempotent as Entra retries); remove of an absent attribute without
 *    a filter succeeds;
 *  - values added with more than one "primary": true: 400 invalidValue;
 *  - remove with a path and a "value" (Entra's member removal, also
 *    accepted for other multi-valued attributes) removes the listed
 *    values: elements whose "value" equals an item's "value" (per
 *    caseExact), or equal to an item without "value";
 *  - remove of a sub-attribute drops an element left empty, and an
 *    attribute or extension block left empty;
 *  - "schemas" as a target is ignored (the normalizer rebuilds it); in a
 *    no-path value, "schemas", "id", "meta" and other readOnly attributes
 *    are ignored, as PUT ignores them; a path naming a readOnly
 *    attribute (id, meta, meta.*, groups) is 400 mutability;
 *  - unknown attributes are written as named (the normalizer drops them);
 *    known ones under their canonical name, replacing keys that differ
 *    only in case;
 *  - enterprise manager: a string id, {"value": id} or
 *    [{"value": id, "$ref": ...}] is stored as {"value": id}; "", [], {},
 *    null remove it;
 *  - group members (delta != NULL): add [{"value": id}] (several at
 *    once), remove with a value list (those only), remove
 *    members[value eq "id"] (or several "value eq" joined by "or"),
 *    remove without value (all), replace (all, then add); an added
 *    member's value has at most SCIM_MAX_ID_LEN bytes (a removed one
 *    may be longer: it may have been stored before that limit).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_parse.h"
#include "scim_patch.h"
#include "scim_text.h"


#define SCIM_PATCH_MAX_DEPTH  8

static int scim_patch_op(scim_patch_t *ctx, json_t *op);
static int scim_patch_object(scim_patch_t *ctx, scim_patch_op_t op,
    const char *prefix, json_t *value);
static int scim_patch_key(scim_patch_t *ctx, scim_patch_op_t op,
    const char *prefix, const char *key, json_t *value, int nopath);
static int scim_patch_path(scim_patch_t *ctx, scim_patch_op_t op,
    const scim_path_t *p, json_t *value);
static int scim_patch_plain(scim_patch_t *ctx, scim_patch_op_t op,
    const scim_path_t *p, json_t *value);
static int scim_patch_sub(scim_patch_t *ctx, scim_patch_op_t op,
    const scim_path_t *p, json_t *value);
static int scim_patch_filtered(scim_patch_t *ctx, scim_patch_op_t op,
    const scim_path_t *p, json_t *value);
static int scim_patch_manager(scim_patch_t *ctx, scim_patch_op_t op,
    const scim_path_t *p, json_t *value);
static int scim_patch_no_target(scim_patch_t *ctx, const char *name);
static int scim_patch_run(const scim_resource_type_t *rt, json_t *doc,
    json_t *body, scim_members_delta_t *delta, scim_error_t *err,
    json_t **result);


int
scim_patch_apply(const scim_resource_type_t *rt, json_t *doc, json_t *body,
    scim_members_delta_t *delta, scim_error_t *err)
{
    json_t        *r;
    scim_error_t   local;

    if (err == NULL) {
        err = &local;
    }

    if (scim_patch_run(rt, doc, body, delta, err, &r) != 0) {
        return -1;
    }

    /* commit */

    json_object_clear(doc);

    if (json_object_update(doc, r) != 0) {
        json_decref(r);
        return scim_error_set(err, 500, NULL, "out of memory");
    }

    json_decref(r);

    return 0;
}


json_t *
scim_patch_applied(const scim_resource_type_t *rt, json_t *doc, json_t *body,
    scim_members_delta_t *delta, scim_error_t *err)
{
    json_t        *r;
    scim_error_t   local;

    if (err == NULL) {
        err = &local;
    }

    return scim_patch_run(rt, doc, body, delta, err, &r) == 0 ? r : NULL;
}


/* the operations applied to a copy of doc: *result, a new reference */

static int
scim_patch_run(const scim_resource_type_t *rt, json_t *doc, json_t *body,
    scim_members_delta_t *delta, scim_error_t *err, json_t **result)
{
    int            rc;
    char           tmp[sizeof(err->detail) + 64];
    size_t         i;
    json_t        *ops, *v, *add, *rm;
    const char    *key;
    scim_patch_t   ctx;

    *result = NULL;

    if (!json_is_object(doc)) {
        return scim_error_set(err, 500, NULL, "no document to patch");
    }

    if (!json_is_object(body)) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_SYNTAX,
                              "a PATCH body must be a JSON object "
                              "(urn:ietf:params:scim:api:messages:2.0:"
                              "PatchOp)");
    }

    ops = scim_json_get_ci(body, "Operations");
    if (!json_is_array(ops)) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_SYNTAX,
                              "a PatchOp needs an \"Operations\" array");
    }

    memset(&ctx, 0, sizeof(scim_patch_t));
    ctx.rt = rt;
    ctx.err = err;

    ctx.doc = json_deep_copy(doc);
    if (ctx.doc == NULL) {
        return scim_error_set(err, 500, NULL, "out of memory");
    }

    rc = -1;

    if (delta != NULL) {
        ctx.members = 1;
        ctx.clear = delta->clear;
        ctx.adds = json_object();
        ctx.removes = json_object();

        if (ctx.adds == NULL || ctx.removes == NULL) {
            scim_patch_nomem(&ctx);
            goto done;
        }

        json_array_foreach(delta->add, i, v) {
            if (json_is_string(json_object_get(v, "value"))
                && json_object_set(ctx.adds,
                       json_string_value(json_object_get(v, "value")), v)
                   != 0)
            {
                scim_patch_nomem(&ctx);
                goto done;
            }
        }

        json_array_foreach(delta->remove, i, v) {
            if (json_is_string(v)
                && json_object_set_new(ctx.removes, json_string_value(v),
                                       json_true())
                   != 0)
            {
                scim_patch_nomem(&ctx);
                goto done;
            }
        }
    }

    json_array_foreach(ops, i, v) {
        if (scim_patch_op(&ctx, v) != 0) {
            snprintf(tmp, sizeof(tmp), "Operations[%zu]: %s", i,
                     err->detail);
            memcpy(err->detail, tmp, sizeof(err->detail) - 1);
            err->detail[sizeof(err->detail) - 1] = '\0';
            goto done;
        }
    }

    /* commit */

    if (delta != NULL) {
        add = json_array();
        rm = json_array();

        if (add == NULL || rm == NULL) {
            json_decref(add);
            json_decref(rm);
            scim_patch_nomem(&ctx);
            goto done;
        }

        json_object_foreach(ctx.adds, key, v) {
            if (json_array_append(add, v) != 0) {
                json_decref(add);
                json_decref(rm);
                scim_patch_nomem(&ctx);
                goto done;
            }
        }

        json_object_foreach(ctx.removes, key, v) {
            if (json_array_append_new(rm, json_string(key)) != 0) {
                json_decref(add);
                json_decref(rm);
                scim_patch_nomem(&ctx);
                goto done;
            }
        }

        json_decref(delta->add);
        json_decref(delta->remove);
        delta->add = add;
        delta->remove = rm;
        delta->clear = ctx.clear;
    }

    *result = ctx.doc;
    ctx.doc = NULL;

    rc = 0;

done:

    json_decref(ctx.doc);
    json_decref(ctx.adds);
    json_decref(ctx.removes);

    return rc;
}


static int
scim_patch_op(scim_patch_t *ctx, json_t *op)
{
    int               rc;
    size_t            i, n;
    json_t           *opv, *pathv, *value;
    const char       *name, *s;
    scim_path_t       p;
    scim_patch_op_t   code;

    if (!json_is_object(op)) {
        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_SYNTAX,
                              "an operation must be a JSON object");
    }

    if (scim_patch_spend(ctx, 1) != 0) {
        return -1;
    }

    opv = scim_json_get_ci(op, "op");
    if (!json_is_string(opv)) {
        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_SYNTAX,
                              "\"op\" must be \"add\", \"replace\" or "
                              "\"remove\"");
    }

    name = json_string_value(opv);

    if (strcasecmp(name, "add") == 0) {
        code = SCIM_PATCH_ADD;

    } else if (strcasecmp(name, "replace") == 0) {
        code = SCIM_PATCH_REPLACE;

    } else if (strcasecmp(name, "remove") == 0) {
        code = SCIM_PATCH_REMOVE;

    } else {
        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_SYNTAX,
                              "unknown op \"%.32s\": \"add\", \"replace\" "
                              "or \"remove\"", name);
    }

    pathv = scim_json_get_ci(op, "path");
    value = scim_json_get_ci(op, "value");

    if (pathv != NULL && !json_is_null(pathv) && !json_is_string(pathv)) {
        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_PATH,
                              "\"path\" must be a string");
    }

    s = json_string_value(pathv);
    n = json_string_length(pathv);

    for (i = 0; s != NULL && i < n && (s[i] == ' ' || s[i] == '\t'); i++) {
        /* void */
    }

    if (s == NULL || i == n) {

        if (code == SCIM_PATCH_REMOVE) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_NO_TARGET,
                                  "\"remove\" needs a \"path\"");
        }

        if (value == NULL) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_SYNTAX,
                                  "\"%s\" needs a \"value\"", name);
        }

        if (!json_is_object(value)) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                                  "without \"path\", \"value\" must be an "
                                  "object of attributes");
        }

        return scim_patch_object(ctx, code, NULL, value);
    }

    if (code != SCIM_PATCH_REMOVE && value == NULL) {
        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_SYNTAX,
                              "\"%s\" needs a \"value\"", name);
    }

    if (scim_path_parse(ctx->rt, s, n, &p, ctx->err) != 0) {
        scim_path_clear(&p);
        return -1;
    }

    rc = scim_patch_path(ctx, code, &p, value);

    scim_path_clear(&p);

    return rc;
}


/*
 * A no-path value, or the value of a schema URN path: each key is an
 * attribute path (relative to the schema URN prefix if given), a schema
 * URN with an object of attributes, or ignored (schemas, id, meta).
 */

static int
scim_patch_object(scim_patch_t *ctx, scim_patch_op_t op, const char *prefix,
    json_t *value)
{
    int          rc;
    json_t      *v;
    const char  *key;

    if (ctx->depth >= SCIM_PATCH_MAX_DEPTH) {
        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                              "schema URNs nested too deeply");
    }

    if (scim_patch_spend(ctx, json_object_size(value)) != 0) {
        return -1;
    }

    ctx->depth++;
    rc = 0;

    json_object_foreach(value, key, v) {
        rc = scim_patch_key(ctx, op, prefix, key, v, 1);
        if (rc != 0) {
            break;
        }
    }

    ctx->depth--;

    return rc;
}


static int
scim_patch_key(scim_patch_t *ctx, scim_patch_op_t op, const char *prefix,
    const char *key, json_t *value, int nopath)
{
    int           rc;
    char         *full, tmp[sizeof(ctx->err->detail) + 128];
    size_t        n, m;
    scim_path_t   p;

    if (prefix == NULL
        && (strcasecmp(key, "schemas") == 0 || strcasecmp(key, "id") == 0
            || strcasecmp(key, "meta") == 0))
    {
        return 0;
    }

    full = NULL;

    if (prefix != NULL) {
        n = strlen(prefix) + 1 + strlen(key);

        if (n > SCIM_PATH_MAX_LEN) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_PATH,
                                  "attribute path too long");
        }

        full = malloc(n + 1);
        if (full == NULL) {
            return scim_patch_nomem(ctx);
        }

        m = strlen(prefix);
        memcpy(full, prefix, m);
        full[m] = ':';
        memcpy(full + m + 1, key, n - m - 1);
        full[n] = '\0';
        key = full;
    }

    if (scim_path_parse(ctx->rt, key, strlen(key), &p, ctx->err) != 0) {
        snprintf(tmp, sizeof(tmp), "\"%.100s\": %s", key, ctx->err->detail);
        memcpy(ctx->err->detail, tmp, sizeof(ctx->err->detail) - 1);
        ctx->err->detail[sizeof(ctx->err->detail) - 1] = '\0';

        scim_path_clear(&p);
        free(full);
        return -1;
    }

    if (nopath
        && ((p.res.attr != NULL
             && p.res.attr->mutability == SCIM_MUT_READONLY)
            || (p.res.sub != NULL
                && p.res.sub->mutability == SCIM_MUT_READONLY)))
    {
        /* readOnly values in a no-path value are ignored, as in PUT */
        rc = 0;

    } else {
        rc = scim_patch_path(ctx, op, &p, value);
    }

    scim_path_clear(&p);
    free(full);

    return rc;
}


static int
scim_patch_path(scim_patch_t *ctx, scim_patch_op_t op, const scim_path_t *p,
    json_t *value)
{
    json_t                 *c, *ex;
    const scim_path_res_t  *res;

    res = &p->res;

    if (p->urn == NULL && p->attr != NULL && p->sub == NULL
        && strcasecmp(p->attr, "schemas") == 0)
    {
        return 0;
    }

    if (res->attr_name == NULL) {

        /* a schema URN alone */

        if (res->core_urn) {
            if (op == SCIM_PATCH_REMOVE || !json_is_object(value)) {
                return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_PATH,
                                      "the core schema URN names the "
                                      "resource itself: give an object of "
                                      "attributes");
            }

            return scim_patch_object(ctx, op, p->urn, value);
        }

        if (op == SCIM_PATCH_REMOVE || json_is_null(value)) {
            scim_json_del_ci(ctx->doc, res->block);
            return 0;
        }

        if (!json_is_object(value)) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                                  "the value of \"%.200s\" must be an "
                                  "object", res->block);
        }

        return scim_patch_object(ctx, op, res->block, value);
    }

    if ((res->attr != NULL && res->attr->mutability == SCIM_MUT_READONLY)
        || (res->sub != NULL && res->sub->mutability == SCIM_MUT_READONLY))
    {
        return scim_error_set(ctx->err, 400, SCIM_ERR_MUTABILITY,
                              "attribute \"%s%s%s\" is readOnly",
                              res->attr_name, res->sub_name ? "." : "",
                              res->sub_name ? res->sub_name : "");
    }

    if (ctx->members && res->block == NULL
        && strcasecmp(res->attr_name, "members") == 0)
    {
        return scim_patch_members(ctx, op, p, value);
    }

    if (res->attr != NULL && res->attr->mutability == SCIM_MUT_IMMUTABLE
        && p->sub == NULL && p->filter == NULL)
    {
        c = scim_patch_container(ctx, res, 0);
        ex = scim_json_get_ci(c, res->attr_name);

        if (ex != NULL && !json_is_null(ex)
            && (op == SCIM_PATCH_REMOVE || !json_equal(ex, value)))
        {
            return scim_error_set(ctx->err, 400, SCIM_ERR_MUTABILITY,
                                  "attribute \"%s\" is immutable",
                                  res->attr_name);
        }
    }

    if (res->attr != NULL && res->schema != NULL && p->filter == NULL
        && strcmp(res->attr->name, "manager") == 0
        && strcasecmp(res->schema->id, SCIM_SCHEMA_ENTERPRISE) == 0
        && (p->sub == NULL || strcasecmp(p->sub, "value") == 0))
    {
        return scim_patch_manager(ctx, op, p, value);
    }

    if (p->filter != NULL) {
        return scim_patch_filtered(ctx, op, p, value);
    }

    if (p->sub != NULL) {
        return scim_patch_sub(ctx, op, p, value);
    }

    return scim_patch_plain(ctx, op, p, value);
}


/* ------------------------------------------------- attribute, no filter */


static int
scim_patch_plain(scim_patch_t *ctx, scim_patch_op_t op, const scim_path_t *p,
    json_t *value)
{
    int                     multi, removing;
    json_t                 *c, *ex, *v, *arr;
    const char             *name;
    const scim_attr_t      *def;
    const scim_path_res_t  *res;

    res = &p->res;
    def = res->attr;
    name = res->attr_name;

    removing = (op == SCIM_PATCH_REMOVE || json_is_null(value));

    c = scim_patch_container(ctx, res, !removing);
    if (c == NULL) {
        /* an absent extension block: nothing to remove */
        return removing ? 0 : -1;
    }

    ex = scim_patch_get(c, name);

    multi = (def != NULL) ? def->multi_valued
            : (json_is_array(ex) || (ex == NULL && json_is_array(value)));

    if (removing) {
        if (ex == NULL) {
            return 0;
        }

        if (op == SCIM_PATCH_REMOVE && value != NULL && !json_is_null(value)
            && json_is_array(ex))
        {
            if (scim_patch_spend(ctx, json_array_size(ex)
                                      + json_array_size(value) + 1)
                != 0)
            {
                return -1;
            }

            if (scim_patch_remove_values(ex, value, def) != 0) {
                return scim_patch_nomem(ctx);
            }

            if (json_array_size(ex) > 0) {
                return 0;
            }
        }

        scim_json_del_ci(c, name);
        scim_patch_prune(ctx, res);

        return 0;
    }

    if (multi && json_is_array(value) && json_array_size(value) == 0) {
        if (op == SCIM_PATCH_REPLACE) {
            scim_json_del_ci(c, name);
            scim_patch_prune(ctx, res);
        }

        return 0;
    }

    if (multi) {
        if (op == SCIM_PATCH_ADD) {
            return scim_patch_append(ctx, c, name, def, value);
        }

        if (scim_patch_spend(ctx, json_array_size(value)) != 0) {
            return -1;
        }

        if (json_is_array(value)) {
            arr = scim_patch_copy(def, value);

        } else {
            arr = json_array();
            if (arr != NULL
                && json_array_append_new(arr, scim_patch_copy(def, value))
                   != 0)
            {
                json_decref(arr);
                arr = NULL;
            }
        }

        if (arr == NULL || scim_json_set_ci(c, name, arr) != 0) {
            return scim_patch_nomem(ctx);
        }

        return 0;
    }

    if (json_is_object(value)
        && ((def != NULL && def->type == SCIM_TYPE_COMPLEX)
            || (def == NULL && json_is_object(ex))))
    {
        if (!json_is_object(ex)) {
            ex = json_object();
            if (ex == NULL || scim_json_set_ci(c, name, ex) != 0) {
                return scim_patch_nomem(ctx);
            }
        }

        if (scim_patch_merge(ex, value, def) != 0) {
            return scim_patch_nomem(ctx);
        }

        return 0;
    }

    v = scim_patch_copy(def, value);
    if (v == NULL || scim_json_set_ci(c, name, v) != 0) {
        return scim_patch_nomem(ctx);
    }

    return 0;
}


/* --------------------------------------------- attr.sub, no filter */


static int
scim_patch_sub(scim_patch_t *ctx, scim_patch_op_t op, const scim_path_t *p,
    json_t *value)
{
    int                     removing, multi;
    size_t                  i;
    json_t                 *c, *ex, *e, *el, *arr;
    const char             *name, *sub;
    const scim_attr_t      *def;
    const scim_path_res_t  *res;

    res = &p->res;
    def = res->attr;
    name = res->attr_name;
    sub = res->sub_name;

    removing = (op == SCIM_PATCH_REMOVE || json_is_null(value));

    c = scim_patch_container(ctx, res, !removing);
    if (c == NULL) {
        /* an absent extension block: nothing to remove */
        return removing ? 0 : -1;
    }

    ex = scim_patch_get(c, name);
    multi = json_is_array(ex)
            || (ex == NULL && def != NULL && def->multi_valued);

    if (scim_patch_spend(ctx, json_array_size(ex)) != 0) {
        return -1;
    }

    if (multi) {
        if (removing) {
            if (ex == NULL) {
                return 0;
            }

            for (i = json_array_size(ex); i-- > 0; /* void */) {
                e = json_array_get(ex, i);

                if (json_is_object(e)) {
                    scim_json_del_ci(e, sub);

                    if (json_object_size(e) == 0) {
                        json_array_remove(ex, i);
                    }
                }
            }

            if (json_array_size(ex) == 0) {
                scim_json_del_ci(c, name);
                scim_patch_prune(ctx, res);
            }

            return 0;
        }

        if (ex != NULL && json_array_size(ex) > 0) {
            json_array_foreach(ex, i, e) {
                if (json_is_object(e)
                    && scim_json_set_ci(e, sub,
                                        scim_patch_copy(res->sub, value))
                       != 0)
                {
                    return scim_patch_nomem(ctx);
                }
            }

            return 0;
        }

        arr = json_array();
        el = json_object();

        if (arr == NULL || el == NULL
            || json_array_append_new(arr, el) != 0)
        {
            json_decref(arr);
            json_decref(el);
            return scim_patch_nomem(ctx);
        }

        if (scim_json_set_ci(el, sub, scim_patch_copy(res->sub, value)) != 0
            || scim_json_set_ci(c, name, arr) != 0)
        {
            return scim_patch_nomem(ctx);
        }

        return 0;
    }

    if (removing) {
        if (json_is_object(ex)) {
            scim_json_del_ci(ex, sub);

            if (json_object_size(ex) == 0) {
                scim_json_del_ci(c, name);
                scim_patch_prune(ctx, res);
            }
        }

        return 0;
    }

    if (!json_is_object(ex)) {
        ex = json_object();
        if (ex == NULL || scim_json_set_ci(c, name, ex) != 0) {
            return scim_patch_nomem(ctx);
        }
    }

    if (scim_json_set_ci(ex, sub, scim_patch_copy(res->sub, value)) != 0) {
        return scim_patch_nomem(ctx);
    }

    return 0;
}


/* -------------------------------------------- attr[filter][.sub] */


/*
 * A remove whose value filter matches nothing: 400 noTarget (RFC 7644
 * 3.5.2), except the manager's: Entra removes manager[value eq "id"]
 * again on retries, and gone is what it wants
 */

static int
scim_patch_no_target(scim_patch_t *ctx, const char *name)
{
    if (name != NULL && scim_ascii_caseeq(name, strlen(name), "manager", 7)) {
        return 0;
    }

    return scim_error_set(ctx->err, 400, SCIM_ERR_NO_TARGET,
                          "no value of \"%s\" matches the filter",
                          name != NULL ? name : "?");
}


static int
scim_patch_filtered(scim_patch_t *ctx, scim_patch_op_t op,
    const scim_path_t *p, json_t *value)
{
    int                     removing, is_arr, is_obj, r;
    size_t                  i, n, nmatch;
    json_t                 *c, *ex, *e, *objval, *ne, *fill, *v, *arr,
                           *written;
    const char             *name, *sub, *key;
    const scim_attr_t      *def;
    const scim_path_res_t  *res;

    res = &p->res;
    def = res->attr;
    name = res->attr_name;
    sub = res->sub_name;

    removing = (op == SCIM_PATCH_REMOVE || json_is_null(value));

    c = scim_patch_container(ctx, res, !removing);
    if (c == NULL) {
        if (op == SCIM_PATCH_REMOVE) {
            return scim_patch_no_target(ctx, name);
        }

        return removing ? 0 : -1;
    }

    ex = scim_patch_get(c, name);
    is_arr = json_is_array(ex);
    is_obj = json_is_object(ex);
    n = is_arr ? json_array_size(ex) : is_obj ? 1 : 0;

    if (scim_patch_spend(ctx, n * scim_filter_size(p->filter)) != 0) {
        return -1;
    }

    objval = NULL;

    if (!removing && sub == NULL) {
        if (json_is_object(value)) {
            objval = json_incref(value);

        } else {
            objval = json_pack("{sO}", "value", value);
            if (objval == NULL) {
                return scim_patch_nomem(ctx);
            }
        }
    }

    nmatch = 0;
    written = NULL;

    for (i = n; i-- > 0; /* void */) {
        e = is_arr ? json_array_get(ex, i) : ex;

        if (!json_is_object(e)
            || !scim_filter_match_elem(p->filter, ctx->rt, def, e))
        {
            continue;
        }

        nmatch++;

        if (removing) {
            if (sub != NULL) {
                scim_json_del_ci(e, sub);

                if (json_object_size(e) > 0) {
                    continue;
                }
            }

            if (is_arr) {
                json_array_remove(ex, i);

            } else {
                scim_json_del_ci(c, name);
                ex = NULL;
            }

            continue;
        }

        if (sub != NULL) {
            if (scim_json_set_ci(e, sub, scim_patch_copy(res->sub, value))
                != 0)
            {
                return scim_patch_nomem(ctx);
            }

            written = e;
            continue;
        }

        if (op == SCIM_PATCH_ADD) {
            if (scim_patch_merge(e, objval, def) != 0) {
                json_decref(objval);
                return scim_patch_nomem(ctx);
            }

            written = e;
            continue;
        }

        /* replace the element, keeping the filter's "eq" values */

        ne = scim_patch_copy(def, objval);
        fill = json_object();

        if (ne == NULL || fill == NULL
            || scim_filter_eq_fill(p->filter, def, fill) < 0)
        {
            json_decref(ne);
            json_decref(fill);
            json_decref(objval);
            return scim_patch_nomem(ctx);
        }

        json_object_foreach(fill, key, v) {
            if (scim_json_get_ci(ne, key) == NULL
                && json_object_set(ne, key, v) != 0)
            {
                json_decref(ne);
                json_decref(fill);
                json_decref(objval);
                return scim_patch_nomem(ctx);
            }
        }

        json_decref(fill);

        written = ne;

        if (is_arr) {
            r = json_array_set_new(ex, i, ne);

        } else {
            r = scim_json_set_ci(c, name, ne);
            ex = ne;
        }

        if (r != 0) {
            json_decref(objval);
            return scim_patch_nomem(ctx);
        }
    }

    if (removing) {
        if (nmatch == 0 && op == SCIM_PATCH_REMOVE) {
            return scim_patch_no_target(ctx, name);
        }

        if (is_arr && json_array_size(ex) == 0) {
            scim_json_del_ci(c, name);
        }

        scim_patch_prune(ctx, res);

        return 0;
    }

    if (nmatch == 0) {

        /* none matched: create the element from the filter */

        ne = json_object();
        if (ne == NULL) {
            json_decref(objval);
            return scim_patch_nomem(ctx);
        }

        r = scim_filter_eq_fill(p->filter, def, ne);

        if (r <= 0) {
            json_decref(ne);
            json_decref(objval);

            if (r < 0) {
                return scim_patch_nomem(ctx);
            }

            return scim_error_set(ctx->err, 400, SCIM_ERR_NO_TARGET,
                                  "no value of \"%s\" matches the filter, "
                                  "and only \"eq\" filters can create one",
                                  name);
        }

        if (sub != NULL) {
            r = scim_json_set_ci(ne, sub, scim_patch_copy(res->sub, value));

        } else {
            r = scim_patch_merge(ne, objval, def);
        }

        if (r != 0) {
            json_decref(ne);
            json_decref(objval);
            return scim_patch_nomem(ctx);
        }

        written = ne;

        if (is_arr) {
            r = json_array_append_new(ex, ne);

        } else if (def != NULL && !def->multi_valued) {
            r = scim_json_set_ci(c, name, ne);

        } else {
            arr = json_array();

            if (arr == NULL
                || (is_obj && json_array_append(arr, ex) != 0)
                || json_array_append_new(arr, ne) != 0)
            {
                json_decref(arr);
                json_decref(objval);
                return scim_patch_nomem(ctx);
            }

            r = scim_json_set_ci(c, name, arr);
            ex = arr;
        }

        if (r != 0) {
            json_decref(objval);
            return scim_patch_nomem(ctx);
        }
    }

    json_decref(objval);

    ex = scim_json_get_ci(c, name);

    if (json_is_array(ex) && written != NULL) {
        scim_patch_primary(ex, written);
    }

    return 0;
}


/* --------------------------------------------------- enterprise manager */


static int
scim_patch_manager(scim_patch_t *ctx, scim_patch_op_t op,
    const scim_path_t *p, json_t *value)
{
    json_t                 *c, *v, *m;
    const char             *id;
    const scim_path_res_t  *res;

    res = &p->res;
    id = NULL;

    if (op != SCIM_PATCH_REMOVE) {
        v = value;

        if (p->sub == NULL) {
            if (json_is_array(v)) {
                v = json_array_get(v, 0);
            }

            if (json_is_object(v)) {
                v = scim_json_get_ci(v, "value");
            }
        }

        if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                                  "\"manager\" must be a user id, "
                                  "{\"value\": id} or [{\"value\": id}]");
        }

        if (json_is_string(v) && json_string_length(v) > 0) {
            id = json_string_value(v);
        }
    }

    c = scim_patch_container(ctx, res, id != NULL);
    if (c == NULL) {
        return (id == NULL) ? 0 : -1;
    }

    if (id == NULL) {
        scim_json_del_ci(c, res->attr_name);
        scim_patch_prune(ctx, res);
        return 0;
    }

    m = json_pack("{ss}", "value", id);
    if (m == NULL || scim_json_set_ci(c, res->attr_name, m) != 0) {
        return scim_patch_nomem(ctx);
    }

    return 0;
}


/* ---------------------------------------------------- group members */


/* --------------------------------------------------------------- helpers */
