
/*
 * scim_json_dumpb: the same JSON as jansson's compact dump, in one pass,
 * with snprintf-style truncation.  The case-insensitive lookups of
 * scim_json.h.
 */

#include <stdlib.h>

#include "scim_core.h"
#include "scim_json.h"
#include "tap.h"


static void
same_as_jansson(const char *text, const char *name)
{
    char    *ours, *theirs;
    size_t   n, m;
    json_t  *j, *back;

    j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!ok(j != NULL, "%s: test input parses", name)) {
        return;
    }

    n = scim_json_dumpb(j, NULL, 0);
    ours = malloc(n + 1);
    is_int(scim_json_dumpb(j, ours, n), n, "%s: size then dump agree", name);
    ours[n] = '\0';

    theirs = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    m = strlen(theirs);

    is_str(ours, theirs, "%s: same text as jansson", name);
    is_int(n, m, "%s: same length", name);

    back = json_loadb(ours, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    ok(back != NULL && json_equal(back, j), "%s: parses back equal", name);

    json_decref(back);
    json_decref(j);
    free(ours);
    free(theirs);
}


static void
test_json_helpers(void)
{
    json_t  *o;

    o = json_pack("{s:i, s:i}", "UserName", 1, "other", 2);

    is_int(json_integer_value(scim_json_get_ci(o, "username")), 1,
           "get_ci");
    ok(scim_json_get_ci(o, "nope") == NULL, "get_ci miss");
    ok(scim_json_get_ci(NULL, "x") == NULL, "get_ci NULL");
    is_str(scim_json_key_ci(o, "USERNAME"), "UserName", "key_ci");

    is_int(scim_json_set_ci(o, "userName", json_integer(3)), 0, "set_ci");
    ok(json_object_get(o, "UserName") == NULL, "other-case key gone");
    is_int(json_integer_value(json_object_get(o, "userName")), 3,
           "canonical key set");
    is_int(json_object_size(o), 2, "two keys");

    is_int(scim_json_set_ci(NULL, "x", json_integer(1)), -1,
           "set_ci on NULL (the value is released)");
    is_int(scim_json_set_ci(o, "x", NULL), -1, "set_ci of NULL");

    scim_json_del_ci(o, "OTHER");
    is_int(json_object_size(o), 1, "del_ci");

    json_decref(o);

    o = json_string("TRUE");
    is_int(scim_json_bool(o), 1, "\"TRUE\"");
    json_decref(o);
    o = json_string("False");
    is_int(scim_json_bool(o), 0, "\"False\"");
    json_decref(o);
    o = json_string("yes");
    is_int(scim_json_bool(o), -1, "\"yes\"");
    json_decref(o);
    is_int(scim_json_bool(json_true()), 1, "true");
    is_int(scim_json_bool(NULL), -1, "NULL");

    /* names with a NUL: compared whole, never up to the NUL */
    o = json_object();
    json_object_setn_new(o, "ab\0c", 4, json_integer(1));
    json_object_set_new(o, "Ab", json_integer(2));
    is_int(json_integer_value(scim_json_getn_ci(o, "AB\0C", 4)), 1,
           "getn_ci: a name with a NUL");
    is_int(json_integer_value(scim_json_get_ci(o, "ab")), 2,
           "get_ci: a key with a NUL is not a prefix match");
    ok(scim_json_getn_ci(o, "ab\0", 3) == NULL,
       "getn_ci: the length counts");
    json_decref(o);

    /* objects too big for case-insensitive scans: exact keys only */
    {
        char    key[32];
        size_t  i;

        o = json_object();
        for (i = 0; i < SCIM_JSON_CI_MAX_KEYS + 1; i++) {
            snprintf(key, sizeof(key), "k%zu", i);
            json_object_set_new(o, key, json_integer((json_int_t) i));
        }

        ok(scim_json_get_ci(o, "k7") != NULL, "big object: exact key");
        ok(scim_json_get_ci(o, "K7") == NULL, "big object: no scan");
        is_str(scim_json_key_ci(o, "k9"), "k9", "big object: key_ci exact");
        scim_json_set_ci(o, "K7", json_true());
        ok(json_object_get(o, "k7") != NULL && json_object_get(o, "K7"),
           "big object: set_ci leaves other cases");
        scim_json_del_ci(o, "K7");
        ok(json_object_get(o, "k7") != NULL
           && json_object_get(o, "K7") == NULL,
           "big object: del_ci exact");
        is_int(json_integer_value(scim_json_getn_ci(o, "K8", 2)), 8,
               "big object: getn_ci (validation) still scans");

        json_decref(o);
    }
}


int
main(void)
{
    char    buf[8];
    size_t  n;
    json_t *j;

    same_as_jansson("{}", "empty object");
    same_as_jansson("[]", "empty array");
    same_as_jansson("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
                    "nested");
    same_as_jansson("{\"z\":1,\"a\":2,\"m\":3}", "member order kept");
    same_as_jansson("\"quote \\\" backslash \\\\ slash / tab \\t nl \\n"
                    " cr \\r bs \\b ff \\f ctl \\u0001 \\u001f\"",
                    "escapes");
    same_as_jansson("\"h\\u00e9llo \\u4e16\\u754c \\ud83d\\ude00\"",
                    "UTF-8 kept as is");
    same_as_jansson("[0,-1,9223372036854775807,-9223372036854775808]",
                    "integers");
    same_as_jansson("[1.5,-0.25,1e100,3.0,0.1,1e-5,-2.5e-300,123456789e10]",
                    "reals");
    same_as_jansson("{\"key\":\"v\\u0000al\"}", "NUL in a value");
    same_as_jansson("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", "deep arrays");

    /* truncation: writes what fits, returns the full length */
    j = json_pack("{s:s}", "key", "value");
    memset(buf, 'x', sizeof(buf));
    n = scim_json_dumpb(j, buf, 5);
    is_int(n, 15, "cut output still reports the full length");
    ok(memcmp(buf, "{\"key", 5) == 0 && buf[5] == 'x',
       "cut output writes exactly the room given");
    json_decref(j);

    is_int(scim_json_dumpb(NULL, buf, sizeof(buf)), 0, "NULL value: nothing");

    /*
     * sizing without a buffer (the glue's first call): no pointer
     * arithmetic on NULL (found by t/fuzz: UBSan "applying zero offset
     * to null pointer"), also when a size comes with the NULL
     */
    j = json_pack("{s:[i,s]}", "k", 1, "v\"");
    is_int(scim_json_dumpb(j, NULL, 0), 15, "NULL buffer: the length");
    is_int(scim_json_dumpb(j, NULL, 100), 15,
           "NULL buffer with a size: the length, nothing written");
    is_int(scim_json_string("a\"b", 3, NULL, 0), 6,
           "scim_json_string, NULL buffer: the length");
    is_int(scim_json_string("a\"b", 3, NULL, 50), 6,
           "scim_json_string, NULL buffer with a size: the length");
    json_decref(j);

    test_json_helpers();

    return done_testing();
}
