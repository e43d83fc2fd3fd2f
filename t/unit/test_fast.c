
/*
 * scim_present_fast: the same JSON object as scim_resource_present for
 * every stored user it accepts, and a refusal (0) for the documents it
 * must leave to the general path.
 */

#include <stdlib.h>

#include "scim_core.h"
#include "tap.h"


#define BASE  "https://scim.example.com/scim/v2"


static const scim_resource_type_t  *rt;


/* what the nginx glue stores: schemas, id, attributes, meta last */

static char *
stored(const char *input, size_t *len)
{
    char          *text;
    size_t         n;
    json_t        *in, *norm, *doc, *v;
    const char    *key;
    scim_error_t   err;

    in = json_loads(input, 0, NULL);
    norm = scim_resource_normalize(rt, in, SCIM_INPUT_CREATE, &err);
    json_decref(in);

    if (norm == NULL) {
        printf("# normalize: %s\n", err.detail);
        return NULL;
    }

    doc = json_object();
    json_object_set(doc, "schemas", json_object_get(norm, "schemas"));
    json_object_set_new(doc, "id",
                        json_string("2819c223-7f76-453a-919d-413861904646"));

    json_object_foreach(norm, key, v) {
        if (strcmp(key, "schemas") != 0) {
            json_object_set(doc, key, v);
        }
    }

    json_object_set_new(doc, "meta",
                        json_pack("{s:s,s:s,s:s,s:s}",
                                  "resourceType", "User",
                                  "created", "2026-11-22T05:00:00.000Z",
                                  "lastModified", "2026-11-22T05:01:00.000Z",
                                  "version", "W/\"17\""));
    json_decref(norm);

    n = scim_json_dumpb(doc, NULL, 0);
    text = malloc(n);
    scim_json_dumpb(doc, text, n);
    json_decref(doc);

    *len = n;
    return text;
}


static void
same(const char *input, const char *mgr, size_t ngroups, const char *name)
{
    char        *doc, *fast;
    size_t       len, n, i;
    json_t      *parsed, *slow, *got, *groups, *m;
    scim_str_t   md, g[6];

    static const char  *gids[] = {
        "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "fc348aa8-3835-40eb-a20b-c726e15c55b5",
        "0b5ef0a4-4cbc-4a3c-8f1d-2e1c6f3c1d11"
    };
    static const char  *gnames[] = { "Tour Guides", "Emp\"loy\\ees",
                                     "Gr\xc3\xbcppe \xe4\xb8\x96" };

    doc = stored(input, &len);
    if (!ok(doc != NULL, "%s: stored document built", name)) {
        return;
    }

    md.s = mgr;
    md.len = mgr ? strlen(mgr) : 0;

    for (i = 0; i < ngroups; i++) {
        g[2 * i].s = gids[i];
        g[2 * i].len = strlen(gids[i]);
        g[2 * i + 1].s = gnames[i];
        g[2 * i + 1].len = strlen(gnames[i]);
    }

    n = scim_present_fast(doc, len, BASE, mgr ? &md : NULL, g, ngroups,
                          NULL, 0);
    if (!ok(n > 0, "%s: the fast path takes it", name)) {
        free(doc);
        return;
    }

    fast = malloc(n);
    is_int(scim_present_fast(doc, len, BASE, mgr ? &md : NULL, g, ngroups,
                             fast, n), n, "%s: size then write agree", name);

    /* the general path, from the same document as the glue expands it */

    parsed = json_loadb(doc, len, 0, NULL);
    m = json_object_get(json_object_get(parsed, SCIM_SCHEMA_ENTERPRISE),
                        "manager");
    if (m && mgr) {
        json_object_set_new(m, "displayName", json_string(mgr));
    }

    if (ngroups) {
        groups = json_array();
        for (i = 0; i < ngroups; i++) {
            json_array_append_new(groups,
                                  json_pack("{s:s,s:s,s:s}", "value", gids[i],
                                            "display", gnames[i],
                                            "type", "direct"));
        }
        json_object_set_new(parsed, "groups", groups);
    }

    slow = scim_resource_present(rt, parsed, BASE, NULL);
    got = json_loadb(fast, n, 0, NULL);

    if (!ok(got != NULL && json_equal(got, slow),
            "%s: same object as the general path", name))
    {
        char  *a = json_dumps(slow, JSON_COMPACT | JSON_SORT_KEYS);
        char  *b = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS)
                       : NULL;
        printf("# slow: %s\n# fast: %s\n", a, b ? b : fast);
        free(a);
        free(b);
    }

    json_decref(got);
    json_decref(slow);
    json_decref(parsed);
    free(fast);
    free(doc);
}


static void
declined(const char *doc, const char *name)
{
    is_int(scim_present_fast(doc, strlen(doc), BASE, NULL, NULL, 0, NULL, 0),
           0, "declined: %s", name);
}


int
main(void)
{
    char              *doc;
    size_t             len;
    json_t            *ext;
    scim_error_t       err;
    scim_registry_t   *reg, *reg2;

    reg = scim_registry_create(&err);
    ext = json_load_file("conf-examples/global-relay/"
                         "globalrelay-extension.json", 0, NULL);
    ok(ext != NULL && scim_registry_add_user_extension(reg, ext, &err) == 0,
       "GlobalRelay extension loaded");
    json_decref(ext);
    rt = scim_registry_user(reg);

    ok(scim_present_fast_ok(rt), "core, enterprise, GlobalRelay: fast ok");
    ok(!scim_present_fast_ok(scim_registry_group(reg)), "groups: never");

    same("{\"schemas\":[\"" SCIM_SCHEMA_USER "\"],\"userName\":\"bjensen\"}",
         NULL, 0, "minimal user");

    same("{\"schemas\":[\"" SCIM_SCHEMA_USER "\",\"" SCIM_SCHEMA_ENTERPRISE
         "\"],\"externalId\":\"bjensen\",\"userName\":\"Test_User@contoso.com\","
         "\"active\":true,\"displayName\":\"Babs \\\"B\\\" Jensen \\u00e9\","
         "\"emails\":[{\"primary\":true,\"type\":\"work\","
         "\"value\":\"Test_User@contoso.com\"},{\"type\":\"home\","
         "\"value\":\"b@home.example\"}],\"meta\":{\"resourceType\":\"User\"},"
         "\"name\":{\"formatted\":\"Ms. Barbara J Jensen III\","
         "\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},\"roles\":[],"
         "\"addresses\":[{\"type\":\"work\",\"locality\":\"Hollywood\","
         "\"postalCode\":\"91608\"}],\"phoneNumbers\":[{\"type\":\"mobile\","
         "\"value\":\"555-555-4444\"}],"
         "\"" SCIM_SCHEMA_ENTERPRISE "\":{\"employeeNumber\":\"701984\","
         "\"department\":\"Tour Operations\",\"manager\":"
         "{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\"}},"
         "\"urn:ietf:params:scim:schemas:extension:GlobalRelay:2.0:User\":"
         "{\"proxyAddresses\":\"SMTP:b@x\",\"extensionAttribute7\":\"7\"}}",
         "John \"Boss\" Smith", 3, "Entra user, manager, 3 groups");

    same("{\"schemas\":[\"" SCIM_SCHEMA_USER "\"],\"userName\":\"m\","
         "\"" SCIM_SCHEMA_ENTERPRISE "\":{\"manager\":"
         "{\"value\":\"ghost-id\"}}}", NULL, 1,
         "manager of no known user, one group");

    same("{\"schemas\":[\"" SCIM_SCHEMA_USER "\"],\"userName\":"
         "\"\\u4e16\\u754c\\\\back\\/slash\\n\",\"title\":\"\\u0001\"}",
         NULL, 0, "escapes and unicode kept");

    /* what the general path must do */

    doc = stored("{\"schemas\":[\"" SCIM_SCHEMA_USER "\"],\"userName\":\"p\","
                 "\"password\":\"secret\"}", &len);
    is_int(scim_present_fast(doc, len, BASE, NULL, NULL, 0, NULL, 0), 0,
           "declined: a document with a password");
    free(doc);

    declined("{\"schemas\":[\"x\"],\"id\":\"a\",\"meta\":{\"version\":\"W/\\\"1\\\"\"}",
             "a cut document");
    declined("{\"id\":\"a\",\"schemas\":[\"x\"],\"meta\":{\"version\":\"1\"}}",
             "id not after schemas");
    declined("{\"schemas\":[\"x\"],\"id\":\"a b\",\"meta\":{\"v\":\"1\"}}",
             "an id with a space");
    declined("{\"schemas\":[\"x\"],\"id\":\"a\",\"x\":{\"manager\":"
             "{\"value\":\"m\",\"displayName\":\"d\"}},\"meta\":{\"v\":\"1\"}}",
             "a manager with more than its value");
    declined("{\"schemas\":[\"x\"],\"id\":\"a\",\"x\":{\"$ref\":\"r\"},"
             "\"meta\":{\"v\":\"1\"}}", "a $ref stored");
    declined("{\"schemas\":[\"x\"],\"id\":\"a\",\"groups\":[],"
             "\"meta\":{\"v\":\"1\"}}", "groups stored");

    /* an extension attribute returned "never" disables the fast path */

    reg2 = scim_registry_create(&err);
    ext = json_loads("{\"id\":\"urn:x:hidden:2.0:User\",\"name\":\"H\","
                     "\"attributes\":[{\"name\":\"secret\",\"type\":\"string\","
                     "\"returned\":\"never\"}]}", 0, NULL);
    ok(scim_registry_add_user_extension(reg2, ext, &err) == 0,
       "extension with a returned:never attribute loaded");
    json_decref(ext);
    ok(!scim_present_fast_ok(scim_registry_user(reg2)),
       "... and the fast path is off for it");

    scim_registry_free(reg2);
    scim_registry_free(reg);

    return done_testing();
}
