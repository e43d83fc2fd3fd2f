
/*
 * libFuzzer target: resource validation and output (scim_resource.c,
 * scim_project.c, scim_fast.c, scim_json.c).  The input is a resource
 * body as a client POSTs or PUTs it.  For users and groups, in each
 * input mode, it is normalized; what is accepted is serialized,
 * normalized again, stored as the glue stores it, presented with and
 * without a projection and, for users, written by the fast read path.
 * The raw input is also given to scim_present_fast() as if it were a
 * stored text, and to scim_resource_present() as if it were a stored
 * document.
 *
 * Checks beyond "no crash, no leak, no UB": errors are 400 with a
 * scimType; normalizing the result again (STORED) gives it back;
 * scim_json_dumpb() writes what jansson writes; the fast path, when it
 * takes a document, gives the general path's object.
 */


#include "fuzz.h"


static const char  *fuzz_attributes[] = {
    "userName,emails.value,urn:ietf:params:scim:schemas:extension:"
    "enterprise:2.0:User:manager",
    "displayName,members",
    NULL
};

static const char  *fuzz_excluded[] = {
    NULL,
    "emails,groups,members," FUZZ_TST ":skills.years",
    "meta"
};


static void
fuzz_present(const scim_resource_type_t *rt, json_t *doc)
{
    size_t              i;
    json_t             *out;
    scim_error_t        err;
    scim_projection_t  *p;

    for (i = 0; i < 3; i++) {
        p = NULL;

        if (fuzz_attributes[i] != NULL || fuzz_excluded[i] != NULL) {
            p = scim_projection_create(rt, fuzz_attributes[i],
                                       fuzz_excluded[i], &err);
            fuzz_assert(p != NULL, "projection: %s", err.detail);
        }

        out = scim_resource_present(rt, doc, FUZZ_BASE, p);
        if (out != NULL) {
            fuzz_check_dump(out);
            json_decref(out);
        }

        scim_projection_free(p);
    }
}


static void
fuzz_mode(const scim_resource_type_t *rt, json_t *in, scim_input_mode_t mode,
    json_t *old, int user)
{
    json_t        *norm, *again, *full;
    scim_error_t   err;

    memset(&err, 0, sizeof(scim_error_t));

    norm = scim_resource_normalize(rt, in, mode, &err);
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

    if (mode == SCIM_INPUT_REPLACE
        && scim_resource_check_immutable(rt, old, norm, &err) != 0)
    {
        fuzz_check_error(&err, "immutable");
    }

    full = fuzz_assemble(norm, old);

    if (full != NULL) {
        fuzz_check_dump(full);
        fuzz_present(rt, full);

        if (user) {
            fuzz_fast(rt, full);
        }

        json_decref(full);
    }

    json_decref(norm);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          m;
    char        *buf;
    size_t       n;
    json_t      *in, *out;
    fuzz_env_t  *env;

    env = fuzz_env();

    /* any text as a stored document: declined or written, never read past */

    n = scim_present_fast((const char *) data, size, FUZZ_BASE, NULL, NULL,
                          0, NULL, 0);
    if (n > 0) {
        buf = malloc(n);
        if (buf != NULL) {
            fuzz_assert(scim_present_fast((const char *) data, size,
                                          FUZZ_BASE, NULL, NULL, 0, buf, n)
                        == n, "fast: size pass and write differ");
            free(buf);
        }
    }

    in = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
    if (in == NULL) {
        return 0;
    }

    for (m = SCIM_INPUT_CREATE; m <= SCIM_INPUT_STORED; m++) {
        fuzz_mode(env->user, in, (scim_input_mode_t) m, env->users[0], 1);
        fuzz_mode(env->group, in, (scim_input_mode_t) m, env->groups[0], 0);
    }

    /* presentation must cope with whatever a store might hold */

    if (json_is_object(in)) {
        out = scim_resource_present(env->user, in, FUZZ_BASE, NULL);
        json_decref(out);
        out = scim_resource_present(env->group, in, FUZZ_BASE, NULL);
        json_decref(out);
    }

    json_decref(in);

    return 0;
}
