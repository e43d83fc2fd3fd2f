
/*
 * libFuzzer target: the filter parser and evaluator (scim_filter.c,
 * scim_path.c).  The input is a filter as a client sends it in
 * ?filter=...; it is parsed for /Users, /Groups and the root .search
 * (no resource type), matched against the fixture documents, and asked
 * for index hints as the nginx glue asks.  The same text is also parsed
 * as a PATCH path.
 *
 * Checks beyond "no crash, no leak, no UB":
 *  - an error is 400 invalidFilter (invalidPath for a PATCH path) with a
 *    terminated detail;
 *  - an index hint is consistent with the match: a document the filter
 *    matches has the hinted attribute equal to the hinted value, as the
 *    index compares it (userName/displayName case-folded, the others
 *    exactly), and when scim_filter_is_simple_eq() says the index hit is
 *    the answer, every document the index finds matches.
 */


#include <strings.h>

#include "fuzz.h"
#include "scim_parse.h"


/* the paths the glue asks for, in its order (ngx_http_scim_list.c) */

static const char *const  fuzz_user_hints[] = {
    "id", "userName", "externalId", "groups.value"
};

static const char *const  fuzz_group_hints[] = {
    "id", "displayName", "externalId", "members.value"
};


/*
 * 1 if the index for hint h holds doc under value v: userName and
 * displayName case-folded, id and externalId exactly (caseExact), and
 * members.value and groups.value ignoring ASCII case: RFC 7643 makes
 * them caseExact false, the filter compares them so, and ids are
 * lower-case, so the glue must fold the value it looks up
 */

static int
fuzz_index_has(json_t *doc, int h, int is_user, const char *v)
{
    int          r;
    char        *a, *b;
    size_t       i, alen, blen;
    json_t      *x, *e;
    const char  *name;

    if (h == 3) {
        x = json_object_get(doc, is_user ? "groups" : "members");

        for (i = 0; i < json_array_size(x); i++) {
            e = json_object_get(json_array_get(x, i), "value");

            if (json_is_string(e)
                && strcasecmp(json_string_value(e), v) == 0)
            {
                return 1;
            }
        }

        return 0;
    }

    name = (h == 0) ? "id" : (h == 2) ? "externalId"
           : is_user ? "userName" : "displayName";

    x = json_object_get(doc, name);
    if (!json_is_string(x)) {
        return 0;
    }

    if (h != 1) {
        return strcmp(json_string_value(x), v) == 0;
    }

    a = scim_casefold(json_string_value(x), json_string_length(x), &alen);
    b = scim_casefold(v, strlen(v), &blen);

    r = (a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0);

    free(a);
    free(b);

    return r;
}


static void
fuzz_one(const scim_resource_type_t *rt, const uint8_t *data, size_t size)
{
    int                          h, m, simple, is_user;
    size_t                       i, n;
    json_t                     **docs;
    fuzz_env_t                  *env;
    const char                  *v;
    scim_error_t                 err;
    scim_filter_t               *f;
    const char *const           *hints;
    const scim_resource_type_t  *other;

    env = fuzz_env();

    memset(&err, 0, sizeof(scim_error_t));

    f = scim_filter_parse(rt, (const char *) data, size, &err);

    if (f == NULL) {
        fuzz_check_error(&err, "filter");
        fuzz_assert(err.status != 400
                    || strcmp(err.scim_type, SCIM_ERR_INVALID_FILTER) == 0,
                    "filter error %s", err.scim_type);
        return;
    }

    if (rt == NULL) {
        /* root .search: every document of either type */

        for (i = 0; i < FUZZ_NUSERS; i++) {
            (void) scim_filter_match(f, NULL, env->users[i]);
            (void) scim_filter_match(f, env->user, env->users[i]);
        }

        for (i = 0; i < FUZZ_NGROUPS; i++) {
            (void) scim_filter_match(f, NULL, env->groups[i]);
            (void) scim_filter_match(f, env->group, env->groups[i]);
        }

        (void) scim_filter_is_simple_eq(f);
        scim_filter_free(f);
        return;
    }

    is_user = (rt == env->user);
    docs = is_user ? env->users : env->groups;
    n = is_user ? FUZZ_NUSERS : FUZZ_NGROUPS;
    hints = is_user ? fuzz_user_hints : fuzz_group_hints;
    other = is_user ? env->group : env->user;

    v = NULL;
    h = scim_filter_eq_hint(f, hints, 4, &v);
    simple = scim_filter_is_simple_eq(f);

    fuzz_assert(h >= -1 && h < 4, "hint %d", h);
    fuzz_assert(h < 0 || (v != NULL && strlen(v) < size + 1),
                "hint value");

    for (i = 0; i < n; i++) {
        m = scim_filter_match(f, rt, docs[i]);
        fuzz_assert(m == 0 || m == 1, "match %d", m);

        if (h >= 0 && m) {
            fuzz_assert(fuzz_index_has(docs[i], h, is_user, v),
                        "doc %zu matches but index %s has no \"%s\"",
                        i, hints[h], v);
        }

        if (h >= 0 && simple && fuzz_index_has(docs[i], h, is_user, v)) {
            fuzz_assert(m, "simple eq: index %s finds doc %zu by \"%s\", "
                        "the filter does not match it", hints[h], i, v);
        }

        /* a document of the other type: no crash */
        (void) scim_filter_match(f, other, docs[i]);
    }

    (void) scim_filter_eq_hint(f, hints + 1, 3, &v);

    scim_filter_free(f);
}


static void
fuzz_path(const scim_resource_type_t *rt, const uint8_t *data, size_t size)
{
    scim_path_t   p;
    scim_error_t  err;

    memset(&err, 0, sizeof(scim_error_t));
    memset(&p, 0, sizeof(scim_path_t));

    if (scim_path_parse(rt, (const char *) data, size, &p, &err) != 0) {
        fuzz_check_error(&err, "path");
    }

    scim_path_clear(&p);
}


/* the documents as the glue expands them: users with their groups,
   groups with their members */

static fuzz_env_t *
fuzz_expanded(void)
{
    fuzz_env_t  *env;
    static int   done;

    env = fuzz_env();

    if (!done) {
        done = 1;

        json_object_set_new(env->users[0], "groups", fuzz_load(
            "[{\"value\":\"e9e30dba-f08f-4109-8486-d5c6a331660a\","
            "\"display\":\"Tour Guides\",\"type\":\"direct\"},"
            "{\"value\":\"g2\",\"display\":\"Empty\","
            "\"type\":\"indirect\"}]"));

        json_object_set_new(env->groups[0], "members", fuzz_load(
            "[{\"value\":\"2819c223-7f76-453a-919d-413861904646\","
            "\"type\":\"User\"},{\"value\":\"g2\",\"type\":\"Group\"}]"));
    }

    return env;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_env_t  *env;

    env = fuzz_expanded();

    fuzz_one(env->user, data, size);
    fuzz_one(env->group, data, size);
    fuzz_one(NULL, data, size);

    fuzz_path(env->user, data, size);
    fuzz_path(env->group, data, size);

    return 0;
}
