
/*
 * ngx_http_scim_module: what the libFuzzer targets of the SCIM core share
 * (t/fuzz/fuzz_*.c): a registry with the built-in schemas and a typed
 * test extension, fixture documents as the store keeps them, and the
 * checks that turn a wrong answer into a crash libFuzzer reports.
 *
 * Each target is one .c file that includes this header; the core is
 * linked in from ngx_http_scim_module/scim_*.c.
 */

#ifndef _SCIM_FUZZ_H_INCLUDED_
#define _SCIM_FUZZ_H_INCLUDED_


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim_core.h"


#define FUZZ_ENT   SCIM_SCHEMA_ENTERPRISE
#define FUZZ_TST   "urn:ietf:params:scim:schemas:extension:test:2.0:User"
#define FUZZ_BASE  "https://scim.example.com/scim/v2"

#define FUZZ_UNUSED  __attribute__((unused))


/* a failed check: print why and abort, so that libFuzzer keeps the input */

#define fuzz_assert(cond, ...)                                               \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz check failed at %s:%d: %s\n",              \
                    __FILE__, __LINE__, #cond);                              \
            fprintf(stderr, "  " __VA_ARGS__);                               \
            fprintf(stderr, "\n");                                           \
            abort();                                                         \
        }                                                                    \
    } while (0)


/* an extension with one attribute of each type, as t/80-filters.t has */

static const char  fuzz_test_ext[] =
    "{\"id\": \"" FUZZ_TST "\", \"name\": \"Test\", \"attributes\": ["
    "{\"name\": \"level\", \"type\": \"integer\"},"
    "{\"name\": \"score\", \"type\": \"decimal\"},"
    "{\"name\": \"vip\", \"type\": \"boolean\"},"
    "{\"name\": \"hired\", \"type\": \"dateTime\"},"
    "{\"name\": \"badge\", \"type\": \"string\", \"caseExact\": true},"
    "{\"name\": \"photo\", \"type\": \"binary\"},"
    "{\"name\": \"site\", \"type\": \"reference\","
    " \"referenceTypes\": [\"external\"]},"
    "{\"name\": \"tags\", \"type\": \"string\", \"multiValued\": true},"
    "{\"name\": \"code\", \"type\": \"string\","
    " \"canonicalValues\": [\"A\", \"B\"]},"
    "{\"name\": \"immut\", \"type\": \"string\","
    " \"mutability\": \"immutable\"},"
    "{\"name\": \"skills\", \"type\": \"complex\", \"multiValued\": true,"
    " \"subAttributes\": ["
    "  {\"name\": \"name\", \"type\": \"string\", \"required\": true},"
    "  {\"name\": \"years\", \"type\": \"integer\"},"
    "  {\"name\": \"primary\", \"type\": \"boolean\"}]},"
    "{\"name\": \"car\", \"type\": \"complex\", \"subAttributes\": ["
    "  {\"name\": \"make\", \"type\": \"string\"},"
    "  {\"name\": \"built\", \"type\": \"dateTime\"}]}"
    "]}";


/* stored users: schemas, id, attributes, meta last (scim_fast.c) */

static const char  *fuzz_user_docs[] = {

    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"" FUZZ_ENT "\",\"" FUZZ_TST "\"],"
    "\"id\":\"2819c223-7f76-453a-919d-413861904646\","
    "\"externalId\":\"bjensen\",\"userName\":\"bjensen@example.com\","
    "\"name\":{\"formatted\":\"Ms. Barbara J Jensen, III\","
    "\"familyName\":\"O'Malley\",\"givenName\":\"Barbara\"},"
    "\"displayName\":\"Babs Jensen\",\"nickName\":\"Babs\","
    "\"title\":\"Tour \\\"Guide\\\"\",\"userType\":\"Employee\","
    "\"preferredLanguage\":\"en-US\","
    "\"locale\":\"Zo\\u00eb \\u00c5str\\u00f6m \\ud83d\\ude00\","
    "\"timezone\":\"America/Los_Angeles\",\"active\":true,"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
    "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"phoneNumbers\":[{\"value\":\"555-555-8377\",\"type\":\"work\"}],"
    "\"ims\":[{\"value\":\"someaimhandle\",\"type\":\"aim\"}],"
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"100 Universal\","
    "\"locality\":\"Hollywood\",\"postalCode\":\"91608\",\"primary\":true}],"
    "\"roles\":[{\"value\":\"admin\",\"primary\":true,\"display\":\"Admin\","
    "\"type\":\"WindowsAzureActiveDirectoryRole\"}],"
    "\"entitlements\":[{\"value\":\"e1\"}],"
    "\"x509Certificates\":[{\"value\":\"MIIDQzCC\"}],"
    "\"" FUZZ_ENT "\":{\"employeeNumber\":\"701984\","
    "\"costCenter\":\"4130\",\"department\":\"Tour Operations\","
    "\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\"}},"
    "\"" FUZZ_TST "\":{\"level\":10,\"score\":2.25,\"vip\":false,"
    "\"hired\":\"2015-10-10T14:38:21+02:00\",\"badge\":\"AbC\","
    "\"tags\":[\"red\",\"blue\"],\"code\":\"A\",\"immut\":\"fixed\","
    "\"skills\":[{\"name\":\"perl\",\"years\":10},{\"name\":\"c\","
    "\"years\":3,\"primary\":true}],"
    "\"car\":{\"make\":\"Volvo\",\"built\":\"1999-12-31T23:59:59.5Z\"}},"
    "\"meta\":{\"resourceType\":\"User\","
    "\"created\":\"2010-01-23T04:56:22Z\","
    "\"lastModified\":\"2011-05-13T04:42:34Z\","
    "\"version\":\"W/\\\"3694e05e9dff591\\\"\"}}",

    /* what Entra ID creates */
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"" FUZZ_ENT "\"],\"id\":\"6c5bb468-14b2-4183-baf2-06d523e03bd3\","
    "\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\","
    "\"userName\":\"Test_User_ab6490ee@contoso.com\",\"active\":true,"
    "\"displayName\":\"Test User\","
    "\"name\":{\"formatted\":\"givenName familyName\","
    "\"familyName\":\"familyName\",\"givenName\":\"givenName\"},"
    "\"emails\":[{\"value\":\"Test_User_fd0ea19b@contoso.com\","
    "\"type\":\"work\",\"primary\":true}],"
    "\"" FUZZ_ENT "\":{\"department\":\"R&D\"},"
    "\"meta\":{\"resourceType\":\"User\","
    "\"created\":\"2026-11-22T05:00:00.000Z\","
    "\"lastModified\":\"2026-11-22T05:01:00.000Z\","
    "\"version\":\"W/\\\"17\\\"\"}}",

    /* the least a user has */
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
    "\"id\":\"a\",\"userName\":\"J\\u00fcrgen.M\\u00fcller\","
    "\"meta\":{\"resourceType\":\"User\",\"created\":\"2026-01-01T00:00:00Z\","
    "\"lastModified\":\"2026-01-01T00:00:00Z\",\"version\":\"W/\\\"1\\\"\"}}"
};

static const char  *fuzz_group_docs[] = {

    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
    "\"id\":\"e9e30dba-f08f-4109-8486-d5c6a331660a\","
    "\"externalId\":\"g-ext-1\",\"displayName\":\"Tour Guides\","
    "\"meta\":{\"resourceType\":\"Group\","
    "\"created\":\"2010-01-23T04:56:22Z\","
    "\"lastModified\":\"2011-05-13T04:42:34Z\","
    "\"version\":\"W/\\\"3694e05e9dff592\\\"\"}}",

    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
    "\"id\":\"g2\",\"displayName\":\"Empty\","
    "\"meta\":{\"resourceType\":\"Group\","
    "\"created\":\"2026-01-01T00:00:00Z\","
    "\"lastModified\":\"2026-01-01T00:00:00Z\",\"version\":\"W/\\\"1\\\"\"}}"
};

#define FUZZ_NUSERS   (sizeof(fuzz_user_docs) / sizeof(fuzz_user_docs[0]))
#define FUZZ_NGROUPS  (sizeof(fuzz_group_docs) / sizeof(fuzz_group_docs[0]))


typedef struct {
    scim_registry_t              *reg;
    const scim_resource_type_t   *user;
    const scim_resource_type_t   *group;
    json_t                       *users[FUZZ_NUSERS];
    json_t                       *groups[FUZZ_NGROUPS];
} fuzz_env_t;


FUZZ_UNUSED static json_t *
fuzz_load(const char *text)
{
    json_t        *j;
    json_error_t   jerr;

    j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        fprintf(stderr, "fixture: %s at %d\n", jerr.text, jerr.position);
        abort();
    }

    return j;
}


/* built once; libFuzzer runs every input in the same process */

FUZZ_UNUSED static fuzz_env_t *
fuzz_env(void)
{
    size_t             i;
    json_t            *ext;
    scim_error_t       err;
    static fuzz_env_t  env;

    if (env.reg != NULL) {
        return &env;
    }

    memset(&err, 0, sizeof(scim_error_t));

    env.reg = scim_registry_create(&err);
    if (env.reg == NULL) {
        fprintf(stderr, "registry: %s\n", err.detail);
        abort();
    }

    ext = fuzz_load(fuzz_test_ext);

    if (scim_registry_add_user_extension(env.reg, ext, &err) != 0) {
        fprintf(stderr, "extension: %s\n", err.detail);
        abort();
    }

    json_decref(ext);

    env.user = scim_registry_user(env.reg);
    env.group = scim_registry_group(env.reg);

    for (i = 0; i < FUZZ_NUSERS; i++) {
        env.users[i] = fuzz_load(fuzz_user_docs[i]);
    }

    for (i = 0; i < FUZZ_NGROUPS; i++) {
        env.groups[i] = fuzz_load(fuzz_group_docs[i]);
    }

    return &env;
}


/* a failure must be a SCIM error with a readable detail */

FUZZ_UNUSED static void
fuzz_check_error(const scim_error_t *err, const char *what)
{
    fuzz_assert(err->status == 400 || err->status == 413
                || err->status == 500,
                "%s: status %d (%s)", what, err->status, err->detail);

    fuzz_assert(err->status != 400 || err->scim_type != NULL,
                "%s: 400 without scimType (%s)", what, err->detail);

    fuzz_assert(memchr(err->detail, '\0', sizeof(err->detail)) != NULL,
                "%s: detail not terminated", what);
}


/*
 * scim_json_dumpb() on j: the size pass and the write agree, a short
 * buffer is filled exactly up to its end, and the text is what jansson
 * writes compact (members in order, reals alike).
 */

FUZZ_UNUSED static void
fuzz_check_dump(const json_t *j)
{
    char    *buf, *ref;
    size_t   n, m, cut;

    n = scim_json_dumpb(j, NULL, 0);
    fuzz_assert(n > 0, "dumpb: empty output");

    buf = malloc(n + 1);
    if (buf == NULL) {
        return;
    }

    buf[n] = '\x5a';
    m = scim_json_dumpb(j, buf, n);
    fuzz_assert(m == n && buf[n] == '\x5a',
                "dumpb: size pass %zu, write %zu", n, m);

    ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (ref != NULL) {
        fuzz_assert(strlen(ref) == n && memcmp(ref, buf, n) == 0,
                    "dumpb differs from jansson:\n  %.*s\n  %s",
                    (int) n, buf, ref);
        free(ref);
    }

    /* a buffer too small: cut, same length needed, nothing written past */

    cut = n / 2;
    memset(buf, 0, n + 1);
    m = scim_json_dumpb(j, buf, cut);
    fuzz_assert(m == n && buf[cut] == '\0', "dumpb into %zu bytes", cut);

    free(buf);
}


/* the stored form as the glue assembles it: schemas, id, the rest, meta */

FUZZ_UNUSED static json_t *
fuzz_assemble(json_t *norm, json_t *old)
{
    json_t      *doc, *v;
    const char  *key;

    doc = json_object();
    if (doc == NULL) {
        return NULL;
    }

    v = json_object_get(norm, "schemas");
    if (v != NULL) {
        json_object_set(doc, "schemas", v);
    }

    json_object_set(doc, "id", json_object_get(old, "id"));

    json_object_foreach(norm, key, v) {
        if (strcmp(key, "schemas") != 0) {
            json_object_set(doc, key, v);
        }
    }

    json_object_set(doc, "meta", json_object_get(old, "meta"));

    return doc;
}


/* the fast read path writes the same object as the general one */

FUZZ_UNUSED static void
fuzz_fast(const scim_resource_type_t *rt, json_t *doc)
{
    char    *text, *out;
    size_t   len, n;
    json_t  *slow, *got;

    len = scim_json_dumpb(doc, NULL, 0);

    text = malloc(len);
    if (text == NULL) {
        return;
    }

    (void) scim_json_dumpb(doc, text, len);

    n = scim_present_fast(text, len, FUZZ_BASE, NULL, NULL, 0, NULL, 0);

    if (n == 0) {
        free(text);
        return;
    }

    out = malloc(n);
    if (out == NULL) {
        free(text);
        return;
    }

    fuzz_assert(scim_present_fast(text, len, FUZZ_BASE, NULL, NULL, 0, out,
                                  n) == n,
                "fast: size pass and write differ");

    got = json_loadb(out, n, JSON_REJECT_DUPLICATES, NULL);
    slow = scim_resource_present(rt, doc, FUZZ_BASE, NULL);

    fuzz_assert(got != NULL && json_equal(got, slow),
                "fast path differs from the general path:\n  %.*s",
                (int) n, out);

    json_decref(got);
    json_decref(slow);
    free(out);
    free(text);
}


#endif /* _SCIM_FUZZ_H_INCLUDED_ */
