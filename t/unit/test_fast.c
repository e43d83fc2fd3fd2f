
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

static const char  *default_gids[] = {
    "e9e30dba-f08f-4109-8486-d5c6a331660a",
    "fc348aa8-3835-40eb-a20b-c726e15c55b5",
    "0b5ef0a4-4cbc-4a3c-8f1d-2e1c6f3c1d11"
};
static const char  *default_gnames[] = { "Tour Guides", "Emp\"loy\\ees",
                                         "Gr\xc3\xbcppe \xe4\xb8\x96" };

/* what same() gives both paths: the base URL, the groups (id, display) */
static const char   *base = BASE;
static const char  **gids = default_gids;
static const char  **gnames = default_gnames;


static void bounded(const char *doc, size_t len, const scim_str_t *md,
    const scim_str_t *g, size_t ngroups, const char *name);


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


/*
 * Into a buffer shorter than the answer, scim_present_fast() writes the
 * answer's start, exactly up to the buffer's end, and still says the
 * whole length
 */

static void
bounded(const char *doc, size_t len, const scim_str_t *md,
    const scim_str_t *g, size_t ngroups, const char *name)
{
    int      fine;
    char    *whole, *buf;
    size_t   n, i, k, cuts[5];

    n = scim_present_fast(doc, len, base, md, g, ngroups, NULL, 0);
    whole = malloc(n);
    buf = malloc(n + 64);

    if (n == 0 || whole == NULL || buf == NULL) {
        ok(0, "%s: bounded writes tried", name);
        free(whole);
        free(buf);
        return;
    }

    scim_present_fast(doc, len, base, md, g, ngroups, whole, n);

    cuts[0] = 0;
    cuts[1] = 1;
    cuts[2] = n / 3;
    cuts[3] = n - 1;
    cuts[4] = n;
    fine = 1;

    for (i = 0; i < 5; i++) {
        memset(buf, 0x5a, n + 64);

        if (scim_present_fast(doc, len, base, md, g, ngroups,
                              cuts[i] ? buf : NULL, cuts[i])
            != n
            || memcmp(buf, whole, cuts[i]) != 0)
        {
            fine = 0;
        }

        for (k = cuts[i]; k < n + 64; k++) {
            if (buf[k] != 0x5a) {
                fine = 0;
            }
        }
    }

    ok(fine, "%s: into 0, 1, n/3, n-1 and n bytes: the same start, "
       "nothing past the end, the whole length", name);

    free(whole);
    free(buf);
}


static void
same(const char *input, const char *mgr, size_t ngroups, const char *name)
{
    char        *doc, *fast;
    size_t       len, n, i;
    json_t      *parsed, *slow, *got, *groups, *m;
    scim_str_t   md, g[6];

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

    n = scim_present_fast(doc, len, base, mgr ? &md : NULL, g, ngroups,
                          NULL, 0);
    if (!ok(n > 0, "%s: the fast path takes it", name)) {
        free(doc);
        return;
    }

    fast = malloc(n);
    is_int(scim_present_fast(doc, len, base, mgr ? &md : NULL, g, ngroups,
                             fast, n), n, "%s: size then write agree", name);
    bounded(doc, len, mgr ? &md : NULL, g, ngroups, name);

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

    slow = scim_resource_present(rt, parsed, base, NULL);
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


/* ------------------------------------------------------------ long values */


/* n characters of [A-Za-z0-9-], different per seed (malloc) */

static char *
plain(size_t n, unsigned seed)
{
    char    *s;
    size_t   i;

    static const char  set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "abcdefghijklmnopqrstuvwxyz0123456789-";

    s = malloc(n + 1);

    for (i = 0; i < n; i++) {
        s[i] = set[(i * 7 + seed * 13) % (sizeof(set) - 1)];
    }

    s[n] = '\0';

    return s;
}


/* fmt with its one "%s" replaced by s (malloc) */

static char *
with(const char *fmt, const char *s)
{
    char    *r;
    size_t   n;

    n = strlen(fmt) + strlen(s) + 1;
    r = malloc(n);
    snprintf(r, n, fmt, s);

    return r;
}


/* text with its first "what" replaced by s (malloc) */

static char *
replaced(const char *text, size_t len, const char *what, const char *s,
    size_t *out_len)
{
    char        *r;
    size_t       wl, sl, at;
    const char  *p;

    p = strstr(text, what);
    if (p == NULL) {
        return NULL;
    }

    wl = strlen(what);
    sl = strlen(s);
    at = (size_t) (p - text);

    r = malloc(len - wl + sl + 1);
    memcpy(r, text, at);
    memcpy(r + at, s, sl);
    memcpy(r + at + sl, p + wl, len - at - wl);
    r[len - wl + sl] = '\0';
    *out_len = len - wl + sl;

    return r;
}


/* normalize(input): the error it gives, "" if it takes it */

static const char *
norm_err(const scim_resource_type_t *t, const char *input,
    scim_input_mode_t mode)
{
    json_t              *in, *norm;
    static char          buf[600];
    static scim_error_t  err;

    memset(&err, 0, sizeof(scim_error_t));

    in = json_loads(input, 0, NULL);
    if (in == NULL) {
        return "bad test JSON";
    }

    norm = scim_resource_normalize(t, in, mode, &err);
    json_decref(in);

    if (norm != NULL) {
        json_decref(norm);
        return "";
    }

    snprintf(buf, sizeof(buf), "%d %s: %s", err.status,
             err.scim_type ? err.scim_type : "-", err.detail);

    return buf;
}


static void
long_values(const scim_resource_type_t *group)
{
    int           rc;
    char         *v, *in, *doc, *legacy, *big, *p, *gl[3], *nl[3], *mgr;
    size_t        i, k, len, llen, lens[2];
    json_t       *parsed, *slow, *body, *gdoc;
    const char   *e;
    scim_str_t    g[2];
    scim_error_t  err;
    scim_members_delta_t  delta;

    static const char  *forms[] = {
        "\"%s\"", "{\"value\":\"%s\"}", "[{\"value\":\"%s\",\"$ref\":\"x\"}]",
        "\"{\\\"value\\\":\\\"%s\\\"}\""
    };
    static const char  *form_names[] = {
        "a string", "{value}", "[{value}]", "{value} as JSON in a string"
    };

    /* ids and references: at most SCIM_MAX_ID_LEN bytes, at entry */

    lens[0] = SCIM_MAX_ID_LEN + 1;
    lens[1] = 5000;

    for (k = 0; k < 2; k++) {
        v = plain(lens[k], (unsigned) k);

        for (i = 0; i < 4; i++) {
            p = with(forms[i], v);
            mgr = with("{\"schemas\":[\"" SCIM_SCHEMA_USER "\"],"
                       "\"userName\":\"u\",\"" SCIM_SCHEMA_ENTERPRISE "\":"
                       "{\"manager\":%s}}", p);

            e = norm_err(rt, mgr, SCIM_INPUT_CREATE);
            if (!ok(strstr(e, "400 invalidValue: \"" SCIM_SCHEMA_ENTERPRISE
                           ":manager.value\" is longer than 256 bytes")
                    == e,
                    "manager of %zu as %s: 400 invalidValue", lens[k],
                    form_names[i]))
            {
                printf("# %s\n", e);
            }

            e = norm_err(rt, mgr, SCIM_INPUT_STORED);
            if (!ok(strncmp(e, "400 invalidValue", 16) == 0,
                    "... also after a PATCH (STORED)"))
            {
                printf("# %s\n", e);
            }

            free(mgr);
            free(p);
        }

        in = with("{\"schemas\":[\"" SCIM_SCHEMA_GROUP "\"],"
                  "\"displayName\":\"g\",\"members\":[{\"value\":\"%s\"}]}", v);
        e = norm_err(group, in, SCIM_INPUT_REPLACE);
        if (!ok(strstr(e, "400 invalidValue: \"members.value\" is longer "
                       "than 256 bytes") == e,
                "a member of %zu: 400 invalidValue", lens[k]))
        {
            printf("# %s\n", e);
        }
        free(in);

        /* PATCH: adding one is refused, removing one is not */

        in = with("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:"
                  "PatchOp\"],\"Operations\":[{\"op\":\"add\","
                  "\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]}",
                  v);
        body = json_loads(in, 0, NULL);
        gdoc = json_object();
        memset(&delta, 0, sizeof(delta));
        memset(&err, 0, sizeof(err));
        rc = scim_patch_apply(group, gdoc, body, &delta, &err);
        if (!ok(rc == -1 && err.status == 400 && err.scim_type != NULL
                && strcmp(err.scim_type, SCIM_ERR_INVALID_VALUE) == 0,
                "PATCH adding a member of %zu: 400 invalidValue", lens[k]))
        {
            printf("# %s\n", err.detail);
        }
        json_decref(delta.add);
        json_decref(delta.remove);
        json_decref(body);
        free(in);

        in = with("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:"
                  "PatchOp\"],\"Operations\":[{\"op\":\"remove\","
                  "\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]}",
                  v);
        body = json_loads(in, 0, NULL);
        memset(&delta, 0, sizeof(delta));
        rc = scim_patch_apply(group, gdoc, body, &delta, &err);
        if (!ok(rc == 0 && json_array_size(delta.remove) == 1,
                "PATCH removing a member of %zu: taken (stored before the "
                "limit)", lens[k]))
        {
            printf("# %s\n", err.detail);
        }
        json_decref(delta.add);
        json_decref(delta.remove);
        json_decref(body);
        json_decref(gdoc);
        free(in);

        free(v);
    }

    v = plain(SCIM_MAX_ID_LEN, 3);

    in = with("{\"schemas\":[\"" SCIM_SCHEMA_GROUP "\"],"
              "\"displayName\":\"g\",\"members\":[{\"value\":\"%s\"}]}", v);
    is_str(norm_err(group, in, SCIM_INPUT_CREATE), "",
           "a member of exactly SCIM_MAX_ID_LEN: taken");
    free(in);

    /*
     * the fast path at the limits: a manager of SCIM_MAX_ID_LEN, group
     * ids of SCIM_MAX_ID_LEN, group names of 20000 bytes with escapes,
     * a base URL of 50000 bytes with characters JSON escapes
     */

    in = with("{\"schemas\":[\"" SCIM_SCHEMA_USER "\",\""
              SCIM_SCHEMA_ENTERPRISE "\"],\"userName\":\"edge\","
              "\"" SCIM_SCHEMA_ENTERPRISE "\":{\"department\":\"d\","
              "\"manager\":{\"value\":\"%s\"}}}", v);

    big = malloc(50001);
    memcpy(big, "https://", 8);

    for (i = 8; i < 50000; i++) {
        big[i] = "ab\"c\\d\x01/\xc3\xa9"[i % 10];
    }

    /* no UTF-8 character cut at the end */
    big[49998] = 'x';
    big[49999] = 'y';
    big[50000] = '\0';

    for (i = 0; i < 3; i++) {
        gl[i] = plain(i < 2 ? SCIM_MAX_ID_LEN : 36, 5 + (unsigned) i);
        nl[i] = malloc(20001);

        for (k = 0; k < 20000; k++) {
            nl[i][k] = "\"\\\n\x02z\xe4\xb8\x96 "[k % 9];
        }

        nl[i][20000] = '\0';
    }

    mgr = malloc(10001);
    memset(mgr, '\\', 10000);
    mgr[10000] = '\0';

    gids = (const char **) gl;
    gnames = (const char **) nl;

    same(in, mgr, 3, "manager and group ids of SCIM_MAX_ID_LEN, long names");

    base = big;
    same(in, mgr, 3, "... and a base URL of 50000 bytes to escape");
    same(in, NULL, 0, "... without groups or a manager's name");

    base = BASE;
    gids = default_gids;
    gnames = default_gnames;

    /* stored before the limit: declined, the general path writes it all */

    doc = stored(in, &len);
    free(in);

    for (k = 0; k < 2; k++) {
        p = plain(lens[k], 9);
        legacy = replaced(doc, len, v, p, &llen);

        is_int(scim_present_fast(legacy, llen, BASE, NULL, NULL, 0, NULL, 0),
               0, "declined: a manager of %zu stored before the limit",
               lens[k]);

        parsed = json_loadb(legacy, llen, 0, NULL);
        slow = scim_resource_present(rt, parsed, BASE, NULL);
        e = json_string_value(json_object_get(json_object_get(
                json_object_get(slow, SCIM_SCHEMA_ENTERPRISE), "manager"),
                "$ref"));
        ok(e != NULL && strncmp(e, BASE "/Users/", sizeof(BASE) + 6) == 0
           && strcmp(e + sizeof(BASE) + 6, p) == 0,
           "... the general path gives its whole $ref");
        json_decref(slow);
        json_decref(parsed);
        free(legacy);

        legacy = replaced(doc, len, "2819c223-7f76-453a-919d-413861904646",
                          p, &llen);
        is_int(scim_present_fast(legacy, llen, BASE, NULL, NULL, 0, NULL, 0),
               0, "declined: an id of %zu stored before the limit", lens[k]);
        free(legacy);

        g[0].s = p;
        g[0].len = lens[k];
        g[1].s = "old";
        g[1].len = 3;
        is_int(scim_present_fast(doc, len, BASE, NULL, g, 1, NULL, 0), 0,
               "declined: a group id of %zu", lens[k]);

        free(p);
    }

    g[0].s = v;
    g[0].len = SCIM_MAX_ID_LEN;
    ok(scim_present_fast(doc, len, BASE, NULL, g, 1, NULL, 0) > 0,
       "taken: a group id of SCIM_MAX_ID_LEN");

    g[1].s = NULL;
    g[1].len = 0;
    is_int(scim_present_fast(doc, len, BASE, NULL, g, 1, NULL, 0), 0,
           "declined: a group without a name");

    free(doc);
    free(v);
    free(big);
    free(mgr);

    for (i = 0; i < 3; i++) {
        free(gl[i]);
        free(nl[i]);
    }
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

    long_values(scim_registry_group(reg));

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

    /* so does another "manager" than the enterprise one */

    reg2 = scim_registry_create(&err);
    ext = json_loads("{\"id\":\"urn:x:boss:2.0:User\",\"name\":\"B\","
                     "\"attributes\":[{\"name\":\"manager\","
                     "\"type\":\"complex\",\"subAttributes\":["
                     "{\"name\":\"value\",\"type\":\"string\"}]}]}",
                     0, NULL);
    ok(scim_registry_add_user_extension(reg2, ext, &err) == 0,
       "extension with its own \"manager\" loaded");
    json_decref(ext);
    ok(!scim_present_fast_ok(scim_registry_user(reg2)),
       "... and the fast path is off for it");

    scim_registry_free(reg2);
    scim_registry_free(reg);

    return done_testing();
}
