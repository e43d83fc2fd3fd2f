
/*
 * libFuzzer target: PATCH (scim_patch.c and the paths and value filters
 * it parses), then what the nginx glue does with the result.  The input
 * is a PatchOp body as a client sends it; it is applied to each fixture
 * user (delta NULL) and group (delta non-NULL, as the glue first tries
 * on an empty object for a members-only PATCH, then on the stored
 * group), the result normalized as SCIM_INPUT_STORED, checked for
 * immutable attributes, serialized with scim_json_dumpb() and, for
 * users, written by the fast read path.
 *
 * Checks beyond "no crash, no leak, no UB":
 *  - an error is 400 (or 500) with a scimType, and a failed PATCH leaves
 *    the document and the member delta as they were;
 *  - the delta holds what scim_core.h says: {"value": id} objects to
 *    add, id strings to remove;
 *  - normalizing the normalized document again changes nothing;
 *  - scim_json_dumpb() writes what jansson writes;
 *  - scim_present_fast(), when it takes the document, gives the same
 *    object as scim_resource_present().
 */


#include "fuzz.h"


static void
fuzz_delta(const scim_members_delta_t *d)
{
    size_t   i;
    json_t  *e;

    fuzz_assert(d->add == NULL || json_is_array(d->add), "delta.add");
    fuzz_assert(d->remove == NULL || json_is_array(d->remove),
                "delta.remove");

    for (i = 0; i < json_array_size(d->add); i++) {
        e = json_array_get(d->add, i);
        fuzz_assert(json_is_object(e)
                    && json_is_string(json_object_get(e, "value")),
                    "delta.add[%zu] is no {\"value\": id}", i);
    }

    for (i = 0; i < json_array_size(d->remove); i++) {
        fuzz_assert(json_is_string(json_array_get(d->remove, i)),
                    "delta.remove[%zu] is no id", i);
    }
}


static void
fuzz_apply(const scim_resource_type_t *rt, json_t *stored, json_t *body,
    int group)
{
    int                    rc;
    json_t                *doc, *norm, *again, *full;
    scim_error_t           err;
    scim_members_delta_t   delta;

    doc = json_deep_copy(stored);
    if (doc == NULL) {
        return;
    }

    memset(&err, 0, sizeof(scim_error_t));
    memset(&delta, 0, sizeof(scim_members_delta_t));

    rc = scim_patch_apply(rt, doc, body, group ? &delta : NULL, &err);

    if (rc != 0) {
        fuzz_assert(rc == -1, "patch returned %d", rc);
        fuzz_check_error(&err, "patch");
        fuzz_assert(json_equal(doc, stored),
                    "a failed PATCH changed the document (%s)", err.detail);
        fuzz_assert(delta.add == NULL && delta.remove == NULL
                    && delta.clear == 0,
                    "a failed PATCH left a member delta (%s)", err.detail);
        json_decref(doc);
        return;
    }

    fuzz_delta(&delta);
    json_decref(delta.add);
    json_decref(delta.remove);

    memset(&err, 0, sizeof(scim_error_t));

    norm = scim_resource_normalize(rt, doc, SCIM_INPUT_STORED, &err);
    json_decref(doc);

    if (norm == NULL) {
        fuzz_check_error(&err, "normalize");
        return;
    }

    fuzz_check_dump(norm);

    again = scim_resource_normalize(rt, norm, SCIM_INPUT_STORED, &err);
    fuzz_assert(again != NULL, "normalize of a normalized document: %s",
                err.detail);
    fuzz_assert(json_equal(again, norm),
                "normalize of a normalized document changed it");
    json_decref(again);

    memset(&err, 0, sizeof(scim_error_t));

    if (scim_resource_check_immutable(rt, stored, norm, &err) != 0) {
        fuzz_check_error(&err, "immutable");
        json_decref(norm);
        return;
    }

    full = fuzz_assemble(norm, stored);

    if (full != NULL) {
        fuzz_check_dump(full);

        if (!group) {
            fuzz_fast(rt, full);
        }

        json_decref(full);
    }

    json_decref(norm);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t       i;
    json_t      *body, *empty;
    fuzz_env_t  *env;

    env = fuzz_env();

    body = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                      NULL);
    if (body == NULL) {
        return 0;
    }

    for (i = 0; i < FUZZ_NUSERS; i++) {
        fuzz_apply(env->user, env->users[i], body, 0);
    }

    /* the glue's first try for groups: members only, on an empty object */

    empty = json_object();
    if (empty != NULL) {
        fuzz_apply(env->group, empty, body, 1);
        json_decref(empty);
    }

    for (i = 0; i < FUZZ_NGROUPS; i++) {
        fuzz_apply(env->group, env->groups[i], body, 1);
    }

    json_decref(body);

    return 0;
}
