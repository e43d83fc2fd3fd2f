
/*
 * ngx_http_scim_module: PATCH on a group's members (RFC 7644 3.5.2).
 * The members are not in the working copy of the document: operations
 * on them make the delta that the store applies (ids to add, ids to
 * remove, or all cleared first); see scim_patch.c for the choices.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_patch.h"


static int scim_patch_member_add(scim_patch_t *ctx, json_t *value);
static int scim_patch_member_remove(scim_patch_t *ctx, json_t *value);


int
scim_patch_members(scim_patch_t *ctx, scim_patch_op_t op,
    const scim_path_t *p, json_t *value)
{
    int      r;
    size_t   i;
    json_t  *ids, *v;

    if (p->sub != NULL) {
        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_PATH,
                              "a member's sub-attributes cannot be "
                              "patched: add or remove members");
    }

    if (p->filter != NULL) {
        if (op != SCIM_PATCH_REMOVE) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_PATH,
                                  "a filter on \"members\" is supported "
                                  "with \"remove\" only");
        }

        ids = json_array();
        if (ids == NULL) {
            return scim_patch_nomem(ctx);
        }

        r = scim_filter_value_ids(p->filter, ids);

        if (r <= 0) {
            json_decref(ids);

            if (r < 0) {
                return scim_patch_nomem(ctx);
            }

            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_PATH,
                                  "members can be removed by "
                                  "members[value eq \"id\"] (or several "
                                  "joined by \"or\") only");
        }

        json_array_foreach(ids, i, v) {
            json_object_del(ctx->adds, json_string_value(v));

            if (json_object_set_new(ctx->removes, json_string_value(v),
                                    json_true())
                != 0)
            {
                json_decref(ids);
                return scim_patch_nomem(ctx);
            }
        }

        json_decref(ids);

        return 0;
    }

    switch (op) {

    case SCIM_PATCH_ADD:
        return scim_patch_member_add(ctx, value);

    case SCIM_PATCH_REPLACE:
        ctx->clear = 1;
        json_object_clear(ctx->adds);
        json_object_clear(ctx->removes);

        return scim_patch_member_add(ctx, value);

    default: /* SCIM_PATCH_REMOVE */
        if (value == NULL || json_is_null(value)) {
            ctx->clear = 1;
            json_object_clear(ctx->adds);
            json_object_clear(ctx->removes);
            return 0;
        }

        return scim_patch_member_remove(ctx, value);
    }
}


/* the id of a member item: {"value": id, ...} or a bare id string */

static const char *
scim_patch_member_id(json_t *item)
{
    json_t  *v;

    v = json_is_object(item) ? scim_json_get_ci(item, "value") : item;

    if (!json_is_string(v) || json_string_length(v) == 0
        || strlen(json_string_value(v)) != json_string_length(v))
    {
        return NULL;
    }

    return json_string_value(v);
}


static int
scim_patch_member_add(scim_patch_t *ctx, json_t *value)
{
    size_t       i, n;
    json_t      *item, *m, *type;
    const char  *id;

    if (value == NULL || json_is_null(value)) {
        return 0;
    }

    n = json_is_array(value) ? json_array_size(value) : 1;

    if (scim_patch_spend(ctx, n) != 0) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        item = json_is_array(value) ? json_array_get(value, i) : value;

        if (json_is_null(item)) {
            continue;
        }

        id = scim_patch_member_id(item);
        if (id == NULL) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                                  "a member must be {\"value\": id}");
        }

        /* removing one stays possible: one may be stored from before */

        if (strlen(id) > SCIM_MAX_ID_LEN) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                                  "\"members.value\" is longer than %d "
                                  "bytes: it must be the id of a resource",
                                  SCIM_MAX_ID_LEN);
        }

        m = json_pack("{ss}", "value", id);
        if (m == NULL) {
            return scim_patch_nomem(ctx);
        }

        type = json_is_object(item) ? scim_json_get_ci(item, "type") : NULL;

        if (json_is_string(type)
            && json_object_set(m, "type", type) != 0)
        {
            json_decref(m);
            return scim_patch_nomem(ctx);
        }

        json_object_del(ctx->removes, id);

        if (json_object_set_new(ctx->adds, id, m) != 0) {
            return scim_patch_nomem(ctx);
        }
    }

    return 0;
}


static int
scim_patch_member_remove(scim_patch_t *ctx, json_t *value)
{
    size_t       i, n;
    json_t      *item;
    const char  *id;

    n = json_is_array(value) ? json_array_size(value) : 1;

    if (scim_patch_spend(ctx, n) != 0) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        item = json_is_array(value) ? json_array_get(value, i) : value;

        if (json_is_null(item)) {
            continue;
        }

        id = scim_patch_member_id(item);
        if (id == NULL) {
            return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                                  "a member to remove must be "
                                  "{\"value\": id}");
        }

        json_object_del(ctx->adds, id);

        if (json_object_set_new(ctx->removes, id, json_true()) != 0) {
            return scim_patch_nomem(ctx);
        }
    }

    return 0;
}
