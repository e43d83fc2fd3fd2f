
/*
 * Unit tests of attribute paths (RFC 7644 3.10, 3.5.2): parsing,
 * resolution against the registry, errors with positions.  (The
 * case-insensitive JSON helpers are tested in test_json.c.)
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "scim_parse.h"
#include "tap.h"


#define ENT  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define GR   "urn:ietf:params:scim:schemas:extension:GlobalRelay:2.0:User"


static const scim_resource_type_t  *user, *group;


/* parses s; returns 0 and fills p, or -1 and the error's detail */

static char  detail[600];

static int
pp(const scim_resource_type_t *rt, const char *s, scim_path_t *p)
{
    scim_error_t  err;

    memset(&err, 0, sizeof(err));
    detail[0] = '\0';

    if (scim_path_parse(rt, s, strlen(s), p, &err) == 0) {
        return 0;
    }

    if (err.status != 400 || err.scim_type == NULL
        || strcmp(err.scim_type, SCIM_ERR_INVALID_PATH) != 0)
    {
        snprintf(detail, sizeof(detail), "wrong error %d %s: %s",
                 err.status, err.scim_type ? err.scim_type : "-",
                 err.detail);

    } else {
        snprintf(detail, sizeof(detail), "%s", err.detail);
    }

    scim_path_clear(p);

    return -1;
}


static const char *
perr(const char *s)
{
    scim_path_t  p;

    if (pp(user, s, &p) == 0) {
        scim_path_clear(&p);
        return "";
    }

    return detail;
}


#define PE(s, want)  is_str(perr(s), want, "error: %s", s)


static void
test_parse(void)
{
    json_t       *e;
    scim_path_t   p;

    ok(pp(user, "userName", &p) == 0, "userName parses");
    is_str(p.attr, "userName", "attr");
    ok(p.urn == NULL && p.sub == NULL && p.filter == NULL, "nothing else");
    ok(p.resolved && p.res.attr != NULL, "resolved");
    is_str(p.res.attr_name, "userName", "canonical name");
    ok(p.res.block == NULL, "top level");
    scim_path_clear(&p);

    ok(pp(user, "Name.GivenName", &p) == 0, "Name.GivenName parses");
    is_str(p.attr, "Name", "attr as written");
    is_str(p.sub, "GivenName", "sub as written");
    is_str(p.res.attr_name, "name", "canonical attr");
    is_str(p.res.sub_name, "givenName", "canonical sub");
    ok(p.res.sub != NULL && p.res.sub->type == SCIM_TYPE_STRING, "sub def");
    scim_path_clear(&p);

    ok(pp(user, ENT ":manager", &p) == 0, "enterprise manager parses");
    is_str(p.urn, ENT, "urn");
    is_str(p.attr, "manager", "attr");
    is_str(p.res.block, ENT, "block");
    ok(p.res.schema != NULL && strcmp(p.res.schema->id, ENT) == 0,
       "schema");
    scim_path_clear(&p);

    ok(pp(user, "urn:ietf:params:scim:schemas:extension:Enterprise:2.0:user"
          ":Manager.Value", &p) == 0, "enterprise URN in another case");
    is_str(p.res.block, ENT, "canonical block");
    is_str(p.res.attr_name, "manager", "canonical manager");
    is_str(p.res.sub_name, "value", "canonical value");
    scim_path_clear(&p);

    ok(pp(user, "manager", &p) == 0, "bare manager parses");
    is_str(p.res.block, ENT, "bare manager lives in the enterprise block");
    scim_path_clear(&p);

    ok(pp(user, ENT, &p) == 0, "the enterprise URN alone parses");
    ok(p.attr == NULL, "no attribute");
    is_str(p.res.block, ENT, "names the block");
    ok(!p.res.core_urn, "not core");
    scim_path_clear(&p);

    ok(pp(user, "urn:ietf:params:scim:schemas:core:2.0:User", &p) == 0,
       "the core URN alone parses");
    ok(p.res.core_urn && p.res.block == NULL, "names the resource");
    scim_path_clear(&p);

    ok(pp(user, "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
          &p) == 0, "core URN prefix");
    ok(p.res.block == NULL, "core is the top level");
    is_str(p.res.sub_name, "familyName", "sub");
    scim_path_clear(&p);

    ok(pp(user, GR ":proxyAddresses", &p) == 0, "unknown extension parses");
    is_str(p.urn, GR, "its urn");
    is_str(p.res.block, GR, "block as written");
    ok(p.res.attr == NULL, "unknown attribute");
    scim_path_clear(&p);

    ok(pp(user, GR, &p) == 0, "unknown extension URN alone");
    ok(p.attr == NULL, "is a schema URN by its shape");
    is_str(p.res.block, GR, "block");
    scim_path_clear(&p);

    ok(pp(user, "emails[type eq \"work\"].value", &p) == 0,
       "Entra email path parses");
    is_str(p.attr, "emails", "attr");
    is_str(p.sub, "value", "sub after the filter");
    ok(p.filter != NULL, "filter");
    e = json_pack("{s:s, s:s}", "type", "Work", "value", "a@b");
    is_int(scim_filter_match_elem(p.filter, user, p.res.attr, e), 1,
           "filter matches {type: Work}");
    json_object_set_new(e, "type", json_string("home"));
    is_int(scim_filter_match_elem(p.filter, user, p.res.attr, e), 0,
           "filter does not match {type: home}");
    json_decref(e);
    scim_path_clear(&p);

    ok(pp(user, "roles[primary eq \"True\"].display", &p) == 0,
       "roles path parses");
    e = json_pack("{s:b}", "primary", 1);
    is_int(scim_filter_match_elem(p.filter, user, p.res.attr, e), 1,
           "\"True\" matches true");
    json_decref(e);
    e = json_object();
    is_int(scim_filter_eq_fill(p.filter, p.res.attr, e), 1, "eq_fill");
    ok(json_is_true(json_object_get(e, "primary")),
       "eq_fill makes primary a boolean");
    json_decref(e);
    scim_path_clear(&p);

    ok(pp(user, "addresses[type eq \"work\"].locality", &p) == 0,
       "addresses path parses");
    is_str(p.res.sub_name, "locality", "locality");
    scim_path_clear(&p);

    ok(pp(group, "members[value eq \"2819c223\"]", &p) == 0,
       "members path parses");
    e = json_array();
    is_int(scim_filter_value_ids(p.filter, e), 1, "value ids");
    is_str(json_string_value(json_array_get(e, 0)), "2819c223", "the id");
    json_decref(e);
    scim_path_clear(&p);

    ok(pp(group, "members[value eq\"2819c223\"]", &p) == 0,
       "RFC's members[value eq\"id\"] without a blank");
    scim_path_clear(&p);

    ok(pp(user, "emails[type eq \"work\" and value ew \"example.com\"]",
          &p) == 0, "complex value filter");
    e = json_object();
    is_int(scim_filter_eq_fill(p.filter, p.res.attr, e), 0,
           "no eq_fill through ew");
    json_decref(e);
    scim_path_clear(&p);

    ok(pp(user, "  displayName\t", &p) == 0, "blanks around");
    is_str(p.attr, "displayName", "trimmed");
    scim_path_clear(&p);

    ok(pp(user, "$ref", &p) == 0, "$ref is a name");
    scim_path_clear(&p);

    ok(pp(user, "meta.lastModified", &p) == 0, "meta.lastModified");
    ok(p.res.attr != NULL && p.res.attr->mutability == SCIM_MUT_READONLY,
       "meta is readOnly");
    ok(p.res.sub != NULL && p.res.sub->type == SCIM_TYPE_DATETIME,
       "lastModified is a dateTime");
    scim_path_clear(&p);

    ok(pp(user, "groups", &p) == 0, "groups");
    ok(p.res.attr != NULL && p.res.attr->mutability == SCIM_MUT_READONLY,
       "groups is readOnly");
    scim_path_clear(&p);

    ok(pp(NULL, "employeeNumber", &p) == 0, "no rt");
    ok(p.res.any_block && p.res.attr == NULL, "any block, unknown");
    scim_path_clear(&p);

    ok(pp(NULL, ENT ":department", &p) == 0, "no rt, URN");
    is_str(p.res.block, ENT, "block as written");
    scim_path_clear(&p);

    ok(pp(user, "fooBar.baz", &p) == 0, "an unknown attribute parses");
    ok(p.res.attr == NULL && p.res.block == NULL, "unknown, top level");
    is_str(p.res.attr_name, "fooBar", "name as written");
    scim_path_clear(&p);

    ok(pp(user, "name.nosuch", &p) == 0, "an unknown sub-attribute parses");
    ok(p.res.attr != NULL && p.res.sub == NULL, "attr known, sub not");
    is_str(p.res.sub_name, "nosuch", "sub as written");
    scim_path_clear(&p);

    scim_path_clear(NULL);
}


static void
test_errors(void)
{
    char  big[5000];

    PE("", "invalid path: empty path at position 0");
    PE("   ", "invalid path: empty path at position 3");
    PE("1abc", "invalid path: expected an attribute name at position 0");
    PE("a.b.c", "invalid path: unexpected '.' at position 3");
    PE("name.", "invalid path: expected a sub-attribute name at position 5");
    PE("user name", "invalid path: unexpected ' ' at position 4");
    PE("emails[type eq \"work\"",
       "invalid path: expected ']' at position 21");
    PE("emails[type eq \"work\"].",
       "invalid path: expected a sub-attribute name at position 23");
    PE("emails[type eq \"work\"]x", "invalid path: unexpected 'x' at "
       "position 22");
    PE("emails.value[type eq \"x\"]",
       "invalid path: value filter after a sub-attribute at position 12");
    PE("emails[type[x eq 1] eq 2]",
       "invalid path: nested value filter at position 11");
    PE("emails[]", "invalid path: expected an attribute name at position 7");
    PE("emails[type eq]", "invalid path: expected a value at position 14");
    PE("emails[type]", "invalid path: unexpected ']' after attribute path "
       "at position 11");
    PE("urn:x", "invalid path: invalid schema URN at position 0");
    PE("urn:a:b:1x", "invalid path: expected an attribute name at "
       "position 8");
    PE(ENT ":manager.", "invalid path: expected a sub-attribute name at "
       "position 67");
    PE(ENT "[type eq \"x\"]", "invalid path: value filter after a schema URN "
       "at position 58");
    PE("emails[type eq \"\\q\"]", "invalid path: invalid escape at "
       "position 16");
    PE("emails[type eq \"\xff\"]", "invalid path: invalid UTF-8 in value at "
       "position 15");
    PE("[type eq \"x\"]", "invalid path: expected an attribute name at "
       "position 0");
    PE("emails]", "invalid path: unexpected ']' at position 6");

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    PE(big, "invalid path: path too long at position 4096");

    big[4096] = '\0';
    PE(big, "");
}


static void
test_urn_shape(void)
{
    ok(scim_path_is_schema_urn(NULL, ENT, strlen(ENT)), "enterprise URN");
    ok(scim_path_is_schema_urn(NULL, GR, strlen(GR)), "GlobalRelay URN");
    ok(!scim_path_is_schema_urn(NULL, ENT ":manager", strlen(ENT) + 8),
       "URN with an attribute");
    ok(!scim_path_is_schema_urn(NULL, "urn:a:b", 7), "no version");
    ok(!scim_path_is_schema_urn(NULL, "urn:a:2.:User", 13), "bad version");
    ok(!scim_path_is_schema_urn(NULL, "urn:a:2.0:", 10), "empty name");
    ok(!scim_path_is_schema_urn(NULL, "userName", 8), "not a URN");
    ok(scim_path_is_schema_urn(user, "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:"
       "ENTERPRISE:2.0:USER", strlen(ENT)), "known, in another case");

    ok(scim_path_find_schema(user, ENT, strlen(ENT)) != NULL,
       "find the enterprise schema");
    ok(scim_path_find_schema(group, ENT, strlen(ENT)) == NULL,
       "groups have no enterprise extension");
    ok(scim_path_find_schema(NULL, ENT, strlen(ENT)) == NULL, "no rt");
}


int
main(void)
{
    scim_error_t      err;
    scim_registry_t  *reg;

    memset(&err, 0, sizeof(err));

    reg = scim_registry_create(&err);
    if (reg == NULL) {
        printf("Bail out! registry: %s\n", err.detail);
        return 1;
    }

    user = scim_registry_user(reg);
    group = scim_registry_group(reg);

    test_parse();
    test_errors();
    test_urn_shape();

    scim_registry_free(reg);

    return done_testing();
}
