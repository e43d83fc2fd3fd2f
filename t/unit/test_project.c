
/*
 * Unit tests: scim_resource_present(), projections, scim_sort().
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "tap.h"


#define ENT  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define CU   "urn:ietf:params:scim:schemas:core:2.0:User"
#define CG   "urn:ietf:params:scim:schemas:core:2.0:Group"
#define BASE "https://h.example:8443/scim/v2"


static const scim_resource_type_t  *user, *group;
static scim_error_t                 err;
static char                         out[8192];


static const char *
dump(json_t *j)
{
    char  *s;

    if (j == NULL) {
        return "(null)";
    }

    s = json_dumps(j, JSON_COMPACT);
    snprintf(out, sizeof(out), "%s", s ? s : "(dump failed)");
    free(s);

    return out;
}


/* presents doc with the projection (attributes, excluded) */

static const char *
pres(const scim_resource_type_t *rt, const char *doc, const char *attrs,
    const char *excl)
{
    json_t             *d, *r;
    const char         *s;
    scim_projection_t  *p;

    d = json_loads(doc, 0, NULL);
    if (d == NULL) {
        return "BAD TEST JSON";
    }

    p = NULL;

    if (attrs != NULL || excl != NULL) {
        memset(&err, 0, sizeof(err));
        p = scim_projection_create(rt, attrs, excl, &err);
        if (p == NULL) {
            json_decref(d);
            snprintf(out, sizeof(out), "ERR %d %s: %s", err.status,
                     err.scim_type ? err.scim_type : "-", err.detail);
            return out;
        }
    }

    r = scim_resource_present(rt, d, BASE, p);
    s = dump(r);

    json_decref(r);
    json_decref(d);
    scim_projection_free(p);

    return s;
}


static const char *user_doc =
    "{\"schemas\":[\"" CU "\",\"" ENT "\"],"
    "\"id\":\"2819c223\","
    "\"externalId\":\"ext1\","
    "\"meta\":{\"resourceType\":\"User\","
    "\"created\":\"2011-08-01T18:29:49.793Z\","
    "\"lastModified\":\"2011-08-01T18:29:49.793Z\","
    "\"version\":\"W/\\\"3\\\"\"},"
    "\"userName\":\"bjensen\","
    "\"name\":{\"formatted\":\"Ms. Barbara J Jensen\","
    "\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},"
    "\"password\":\"{hash}xyz\","
    "\"emails\":[{\"value\":\"bj@example.com\",\"type\":\"work\","
    "\"primary\":true},{\"value\":\"babs@home.org\",\"type\":\"home\"}],"
    "\"groups\":[{\"value\":\"e9e3\",\"display\":\"Tour Guides\","
    "\"type\":\"direct\"}],"
    "\"" ENT "\":{\"employeeNumber\":\"701984\","
    "\"manager\":{\"value\":\"26118915\"}}}";


static void
test_present(void)
{
    is_str(pres(user, user_doc, NULL, NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],"
           "\"id\":\"2819c223\",\"externalId\":\"ext1\","
           "\"meta\":{\"resourceType\":\"User\","
           "\"created\":\"2011-08-01T18:29:49.793Z\","
           "\"lastModified\":\"2011-08-01T18:29:49.793Z\","
           "\"location\":\"" BASE "/Users/2819c223\","
           "\"version\":\"W/\\\"3\\\"\"},"
           "\"userName\":\"bjensen\","
           "\"name\":{\"formatted\":\"Ms. Barbara J Jensen\","
           "\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},"
           "\"emails\":[{\"value\":\"bj@example.com\",\"type\":\"work\","
           "\"primary\":true},{\"value\":\"babs@home.org\","
           "\"type\":\"home\"}],"
           "\"groups\":[{\"value\":\"e9e3\","
           "\"$ref\":\"" BASE "/Groups/e9e3\",\"display\":\"Tour Guides\","
           "\"type\":\"direct\"}],"
           "\"" ENT "\":{\"employeeNumber\":\"701984\","
           "\"manager\":{\"value\":\"26118915\","
           "\"$ref\":\"" BASE "/Users/26118915\"}}}",
           "full representation: location, $refs, no password");

    /* meta lacking fields, or missing */
    is_str(pres(user, "{\"schemas\":[\"" CU "\"],\"id\":\"a\","
                "\"userName\":\"u\",\"meta\":{\"created\":"
                "\"2020-01-01T00:00:00Z\"}}", NULL, NULL),
           "{\"schemas\":[\"" CU "\"],\"id\":\"a\",\"meta\":{"
           "\"resourceType\":\"User\",\"created\":\"2020-01-01T00:00:00Z\","
           "\"location\":\"" BASE "/Users/a\"},\"userName\":\"u\"}",
           "meta without resourceType/location");
    is_str(pres(user, "{\"id\":\"a\",\"userName\":\"u\"}", NULL, NULL),
           "{\"schemas\":[\"" CU "\"],\"id\":\"a\",\"meta\":{"
           "\"resourceType\":\"User\",\"location\":\"" BASE "/Users/a\"},"
           "\"userName\":\"u\"}", "no meta, no schemas");
    is_str(pres(user, "{\"userName\":\"u\",\"meta\":5}", NULL, NULL),
           "{\"schemas\":[\"" CU "\"],\"meta\":5,\"userName\":\"u\"}",
           "junk meta and no id do not crash");

    /* group members $ref by type; ids percent-encoded */
    is_str(pres(group, "{\"schemas\":[\"" CG "\"],\"id\":\"g 1/x\","
                "\"displayName\":\"G\",\"members\":["
                "{\"value\":\"u1\",\"type\":\"User\"},"
                "{\"value\":\"g2\",\"type\":\"Group\"},"
                "{\"value\":\"\xc3\xa9?#\"}]}", NULL, NULL),
           "{\"schemas\":[\"" CG "\"],\"id\":\"g 1/x\",\"meta\":{"
           "\"resourceType\":\"Group\","
           "\"location\":\"" BASE "/Groups/g%201%2Fx\"},"
           "\"displayName\":\"G\",\"members\":["
           "{\"value\":\"u1\",\"$ref\":\"" BASE "/Users/u1\","
           "\"type\":\"User\"},"
           "{\"value\":\"g2\",\"$ref\":\"" BASE "/Groups/g2\","
           "\"type\":\"Group\"},"
           "{\"value\":\"\xc3\xa9?#\",\"$ref\":\"" BASE "/Users/%C3%A9%3F%23\""
           "}]}",
           "members $ref by type, percent-encoding");

    ok(scim_resource_present(user, NULL, BASE, NULL) == NULL,
       "NULL doc");
}


static void
test_projection(void)
{
    scim_projection_t  *p;

    is_str(pres(user, user_doc, "userName", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"userName\":\"bjensen\"}", "attributes=userName");
    is_str(pres(user, user_doc, "USERNAME, externalid", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"externalId\":\"ext1\",\"userName\":\"bjensen\"}",
           "attributes in other case with a space");
    is_str(pres(user, user_doc, "id", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\"}",
           "attributes=id (Entra manager check)");
    is_str(pres(user, user_doc, "name.givenName", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"name\":{\"givenName\":\"Barbara\"}}", "name.givenName");
    is_str(pres(user, user_doc, "name.middleName", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\"}",
           "absent sub-attribute: parent left out");
    is_str(pres(user, user_doc, "emails.value", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"emails\":[{\"value\":\"bj@example.com\"},"
           "{\"value\":\"babs@home.org\"}]}", "emails.value");
    is_str(pres(user, user_doc, ENT, NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"" ENT "\":{\"employeeNumber\":\"701984\","
           "\"manager\":{\"value\":\"26118915\","
           "\"$ref\":\"" BASE "/Users/26118915\"}}}",
           "whole extension URN");
    is_str(pres(user, user_doc, ENT ":manager", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"" ENT "\":{\"manager\":{\"value\":\"26118915\","
           "\"$ref\":\"" BASE "/Users/26118915\"}}}", "URN:manager");
    is_str(pres(user, user_doc, "manager.value", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"" ENT "\":{\"manager\":{\"value\":\"26118915\"}}}",
           "manager.value only");
    is_str(pres(user, user_doc, "meta.lastModified,meta.location", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"meta\":{\"lastModified\":\"2011-08-01T18:29:49.793Z\","
           "\"location\":\"" BASE "/Users/2819c223\"}}", "meta subs");
    is_str(pres(user, user_doc, "password,nosuch,emails[type]x", NULL),
           "ERR 400 invalidFilter: \"attributes\": \"emails[type]x\": "
           "invalid path: unexpected ']' after attribute path at position 11",
           "bad syntax refused");
    is_str(pres(user, user_doc, "password, nosuch, urn:x:y:z,,", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\"}",
           "password never returned; unknown names ignored");
    is_str(pres(user, user_doc, CU, NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"userName\":\"bjensen\","
           "\"name\":{\"formatted\":\"Ms. Barbara J Jensen\","
           "\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},"
           "\"emails\":[{\"value\":\"bj@example.com\",\"type\":\"work\","
           "\"primary\":true},{\"value\":\"babs@home.org\","
           "\"type\":\"home\"}],"
           "\"groups\":[{\"value\":\"e9e3\","
           "\"$ref\":\"" BASE "/Groups/e9e3\",\"display\":\"Tour Guides\","
           "\"type\":\"direct\"}]}",
           "core URN selects the core attributes");

    /* excludedAttributes */
    is_str(pres(user, user_doc, NULL, "id,meta,name,emails,groups,"
                ENT ",externalId"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"userName\":\"bjensen\"}", "excluded: id stays");
    is_str(pres(user, user_doc, NULL, "name.givenName,name.familyName,"
                "emails.type,emails.primary,meta,groups,urn:x:y,"
                ENT ":employeeNumber,manager.$ref"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"externalId\":\"ext1\",\"userName\":\"bjensen\","
           "\"name\":{\"formatted\":\"Ms. Barbara J Jensen\"},"
           "\"emails\":[{\"value\":\"bj@example.com\"},"
           "{\"value\":\"babs@home.org\"}],"
           "\"" ENT "\":{\"manager\":{\"value\":\"26118915\"}}}",
           "excluded sub-attributes");
    is_str(pres(user, user_doc, "userName,emails", "emails"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"userName\":\"bjensen\"}", "attributes minus excluded");
    is_str(pres(group, "{\"schemas\":[\"" CG "\"],\"id\":\"g\","
                "\"displayName\":\"G\",\"members\":[{\"value\":\"u\","
                "\"type\":\"User\"}]}", NULL, "members"),
           "{\"schemas\":[\"" CG "\"],\"id\":\"g\",\"meta\":{"
           "\"resourceType\":\"Group\",\"location\":\"" BASE "/Groups/g\"},"
           "\"displayName\":\"G\"}", "excludedAttributes=members");
    is_str(pres(group, "{\"id\":\"g\",\"displayName\":\"G\"}", NULL,
                "a b"),
           "ERR 400 invalidValue: \"excludedAttributes\": \"a b\" is not an "
           "attribute name", "bad excludedAttributes");

    /* wants */
    ok(scim_projection_wants(NULL, "members"), "no projection wants all");
    p = scim_projection_create(group, NULL, "Members", &err);
    ok(p != NULL && !scim_projection_wants(p, "members"),
       "excluded members not wanted");
    ok(scim_projection_wants(p, "displayName"), "displayName wanted");
    ok(scim_projection_wants(p, "id"), "id wanted");
    scim_projection_free(p);

    p = scim_projection_create(group, "displayName", NULL, &err);
    ok(p != NULL && !scim_projection_wants(p, "members"),
       "attributes=displayName does not want members");
    scim_projection_free(p);

    p = scim_projection_create(group, "members.value", "", &err);
    ok(p != NULL && scim_projection_wants(p, "members"),
       "attributes=members.value wants members");
    scim_projection_free(p);

    p = scim_projection_create(user, "", "", &err);
    ok(p != NULL && scim_projection_wants(p, "groups")
       && !scim_projection_wants(p, "password"),
       "empty strings: defaults (groups yes, password no)");
    scim_projection_free(p);

    p = scim_projection_create(user, NULL, ENT, &err);
    ok(p != NULL && !scim_projection_wants(p, "manager")
       && scim_projection_wants(p, "userName"),
       "excluded extension URN: manager not wanted");
    scim_projection_free(p);

    ok(scim_projection_create(NULL, "a", NULL, &err) == NULL, "NULL rt");
}


static void
test_returned_request(scim_registry_t *reg)
{
    json_t  *doc;
    const char *d = "{\"schemas\":[\"" CU "\",\"urn:example:r\"],"
                    "\"id\":\"1\",\"userName\":\"u\","
                    "\"urn:example:r\":{\"secret\":\"s\",\"open\":\"o\","
                    "\"c\":{\"hidden\":\"h\",\"shown\":\"x\"}}}";

    doc = json_loads("{\"id\":\"urn:example:r\",\"attributes\":["
                     "{\"name\":\"secret\",\"returned\":\"request\"},"
                     "{\"name\":\"open\"},"
                     "{\"name\":\"c\",\"type\":\"complex\",\"subAttributes\":"
                     "[{\"name\":\"hidden\",\"returned\":\"request\"},"
                     "{\"name\":\"shown\"},"
                     "{\"name\":\"gone\",\"returned\":\"never\"}]}]}",
                     0, NULL);
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0,
           "extension with returned:request");
    json_decref(doc);

    is_str(pres(user, d, NULL, NULL),
           "{\"schemas\":[\"" CU "\",\"urn:example:r\"],\"id\":\"1\","
           "\"meta\":{\"resourceType\":\"User\",\"location\":\"" BASE
           "/Users/1\"},\"userName\":\"u\","
           "\"urn:example:r\":{\"open\":\"o\",\"c\":{\"shown\":\"x\"}}}",
           "returned:request not by default");
    is_str(pres(user, d, NULL, "open"),
           "{\"schemas\":[\"" CU "\",\"urn:example:r\"],\"id\":\"1\","
           "\"meta\":{\"resourceType\":\"User\",\"location\":\"" BASE
           "/Users/1\"},\"userName\":\"u\","
           "\"urn:example:r\":{\"c\":{\"shown\":\"x\"}}}",
           "returned:request not with excludedAttributes either");
    is_str(pres(user, d, "secret,c.hidden", NULL),
           "{\"schemas\":[\"" CU "\",\"urn:example:r\"],\"id\":\"1\","
           "\"urn:example:r\":{\"secret\":\"s\",\"c\":{\"hidden\":\"h\"}}}",
           "returned:request when asked");
    is_str(pres(user, d, "urn:example:r", NULL),
           "{\"schemas\":[\"" CU "\",\"urn:example:r\"],\"id\":\"1\","
           "\"urn:example:r\":{\"open\":\"o\",\"c\":{\"shown\":\"x\"}}}",
           "whole URN: request attributes still need naming");
    is_str(pres(user, d, "urn:example:r:c", NULL),
           "{\"schemas\":[\"" CU "\",\"urn:example:r\"],\"id\":\"1\","
           "\"urn:example:r\":{\"c\":{\"shown\":\"x\"}}}",
           "whole complex: request sub-attribute left out");
}


/* value filters in attributes and excludedAttributes (issue 11) */

static void
test_value_filter(void)
{
    scim_projection_t  *p;

    static const char  *g =
        "{\"schemas\":[\"" CG "\"],\"id\":\"g\",\"displayName\":\"G\","
        "\"members\":[{\"value\":\"u1\",\"type\":\"User\","
        "\"display\":\"one\"},{\"value\":\"g2\",\"type\":\"Group\","
        "\"display\":\"two\"}]}";

    is_str(pres(user, user_doc, "emails[type eq \"work\"]", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"emails\":[{\"value\":\"bj@example.com\",\"type\":\"work\","
           "\"primary\":true}]}", "attributes=emails[type eq \"work\"]");
    is_str(pres(user, user_doc, "emails[type eq \"work\"].value", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"emails\":[{\"value\":\"bj@example.com\"}]}",
           "attributes=emails[type eq \"work\"].value");
    is_str(pres(user, user_doc, "EMAILS[TYPE EQ \"Home\" or primary eq true]"
                ".Type", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"emails\":[{\"type\":\"work\"},{\"type\":\"home\"}]}",
           "names and operators in any case, or");
    is_str(pres(user, user_doc, "emails[type eq \"other\"]", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\"}",
           "no element matches: the attribute is left out");
    is_str(pres(user, user_doc, "userName,emails[type eq \"a,b]\\\"\"],"
                "emails[type eq \"home\"].value,name.givenName", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"userName\":\"bjensen\",\"name\":{\"givenName\":\"Barbara\"},"
           "\"emails\":[{\"value\":\"babs@home.org\"}]}",
           "commas, brackets and quotes inside a filter's string");
    is_str(pres(user, user_doc, "emails.type,emails[type eq \"work\"].value",
                NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"emails\":[{\"value\":\"bj@example.com\",\"type\":\"work\"},"
           "{\"type\":\"home\"}]}", "a filtered item and a plain one: union");
    is_str(pres(user, user_doc, "emails,emails[type eq \"work\"].value", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"emails\":[{\"value\":\"bj@example.com\",\"type\":\"work\","
           "\"primary\":true},{\"value\":\"babs@home.org\","
           "\"type\":\"home\"}]}", "emails whole wins over a filter");
    is_str(pres(group, g, "members[type eq \"Group\"]", NULL),
           "{\"schemas\":[\"" CG "\"],\"id\":\"g\","
           "\"members\":[{\"value\":\"g2\",\"$ref\":\"" BASE "/Groups/g2\","
           "\"type\":\"Group\",\"display\":\"two\"}]}",
           "members[type eq \"Group\"]: $ref built");
    is_str(pres(group, g, "members[value eq \"u1\"].display", NULL),
           "{\"schemas\":[\"" CG "\"],\"id\":\"g\","
           "\"members\":[{\"display\":\"one\"}]}", "members[...].display");

    /* excludedAttributes */
    is_str(pres(user, user_doc, "emails", "emails[type eq \"work\"]"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"emails\":[{\"value\":\"babs@home.org\",\"type\":\"home\"}]}",
           "excludedAttributes=emails[type eq \"work\"]: those elements");
    is_str(pres(user, user_doc, "emails", "emails[type eq \"work\"].primary,"
                "emails[value sw \"babs\"].type"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"emails\":[{\"value\":\"bj@example.com\",\"type\":\"work\"},"
           "{\"value\":\"babs@home.org\"}]}",
           "excluded sub-attributes of matching elements");
    is_str(pres(user, user_doc, "emails", "emails[type pr]"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\"}",
           "every element excluded: the attribute is left out");
    is_str(pres(group, g, NULL, "members[type eq \"User\"]"),
           "{\"schemas\":[\"" CG "\"],\"id\":\"g\",\"meta\":{"
           "\"resourceType\":\"Group\",\"location\":\"" BASE "/Groups/g\"},"
           "\"displayName\":\"G\","
           "\"members\":[{\"value\":\"g2\",\"$ref\":\"" BASE "/Groups/g2\","
           "\"type\":\"Group\",\"display\":\"two\"}]}",
           "excludedAttributes=members[type eq \"User\"]");

    /* errors, unknown names */
    is_str(pres(user, user_doc, "name[givenName eq \"x\"]", NULL),
           "ERR 400 invalidValue: \"attributes\": a value filter needs a "
           "multi-valued complex attribute, \"name\" is not one",
           "a filter on a single-valued attribute");
    is_str(pres(user, user_doc, NULL, "userName[x eq 1]"),
           "ERR 400 invalidValue: \"excludedAttributes\": a value filter "
           "needs a multi-valued complex attribute, \"userName\" is not one",
           "a filter on a simple attribute");
    is_str(pres(user, user_doc, "emails[type eq \"work\"", NULL),
           "ERR 400 invalidFilter: \"attributes\": \"emails[type eq "
           "\"work\"\": invalid path: expected ']' at position 21",
           "an unclosed bracket");
    is_str(pres(user, user_doc, "emails[type eq \"work\"]x", NULL),
           "ERR 400 invalidFilter: \"attributes\": \"emails[type eq "
           "\"work\"]x\": invalid path: unexpected 'x' at position 22",
           "text after the bracket");
    is_str(pres(user, user_doc, "emails[type eq]", NULL),
           "ERR 400 invalidFilter: \"attributes\": \"emails[type eq]\": "
           "invalid path: expected a value at position 14",
           "a filter without a value");
    is_str(pres(user, user_doc, "userName,nosuch[type eq \"x\"],"
                "emails[type eq \"work\"].nosuch", NULL),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"id\":\"2819c223\","
           "\"userName\":\"bjensen\"}", "unknown names with filters ignored");

    /* wants */
    p = scim_projection_create(group, "members[type eq \"User\"].value",
                               NULL, &err);
    ok(p != NULL && scim_projection_wants(p, "members"),
       "attributes=members[...].value wants members");
    scim_projection_free(p);
    p = scim_projection_create(group, NULL, "members[type eq \"User\"]", &err);
    ok(p != NULL && scim_projection_wants(p, "members"),
       "excludedAttributes=members[...] still wants members");
    scim_projection_free(p);
}


/* sorts docs (a JSON array text) and returns the "id"s, comma-separated */

static const char *
sorted(const scim_resource_type_t *rt, const char *docs, const char *by,
    int desc)
{
    size_t       i;
    json_t      *a;
    char        *p;
    const char  *id;

    a = json_loads(docs, 0, NULL);
    if (a == NULL) {
        return "BAD TEST JSON";
    }

    memset(&err, 0, sizeof(err));

    if (scim_sort(rt, a, by, desc, &err) != 0) {
        snprintf(out, sizeof(out), "ERR %d %s: %s", err.status,
                 err.scim_type ? err.scim_type : "-", err.detail);
        json_decref(a);
        return out;
    }

    p = out;
    *p = '\0';

    for (i = 0; i < json_array_size(a); i++) {
        id = json_string_value(json_object_get(json_array_get(a, i), "id"));
        p += sprintf(p, "%s%s", i ? "," : "", id ? id : "-");
    }

    json_decref(a);

    return out;
}


/*
 * The order one key at a time, as a scan builds it (the documents are
 * freed once their keys are taken; ties by position): must equal
 * scim_sort()'s
 */

static const char *
keyed(const scim_resource_type_t *rt, const char *docs, const char *by,
    int desc)
{
    int                c;
    char              *p;
    size_t             i, j, n, k, order[16];
    json_t            *a;
    const char        *id;
    scim_sort_key_t    keys[16];
    scim_sort_spec_t   spec;
    static char        ids[16][8];

    a = json_loads(docs, 0, NULL);
    if (a == NULL || json_array_size(a) > 16) {
        json_decref(a);
        return "BAD TEST JSON";
    }

    memset(&err, 0, sizeof(err));

    if (scim_sort_spec(rt, by, desc, &spec, &err) != 0) {
        snprintf(out, sizeof(out), "ERR %d %s: %s", err.status,
                 err.scim_type ? err.scim_type : "-", err.detail);
        json_decref(a);
        return out;
    }

    n = json_array_size(a);

    for (i = 0; i < n; i++) {
        id = json_string_value(json_object_get(json_array_get(a, i), "id"));
        snprintf(ids[i], sizeof(ids[i]), "%s", id ? id : "-");

        if (scim_sort_key(&spec, json_array_get(a, i), &keys[i]) != 0) {
            json_decref(a);
            return "OUT OF MEMORY";
        }
    }

    json_decref(a);

    /* insertion, ties kept in order */

    for (i = 0; i < n; i++) {
        for (j = i; j > 0; j--) {
            c = scim_sort_key_cmp(&spec, &keys[order[j - 1]], &keys[i]);
            if (c <= 0) {
                break;
            }

            order[j] = order[j - 1];
        }

        order[j] = i;
    }

    p = out;
    *p = '\0';

    for (k = 0; k < n; k++) {
        p += sprintf(p, "%s%s", k ? "," : "", ids[order[k]]);
        scim_sort_key_free(&keys[k]);
    }

    return out;
}


static void
test_sort_keys(scim_registry_t *reg)
{
    json_t            *doc;
    scim_sort_key_t    a, b;
    scim_sort_spec_t   spec;

    const scim_resource_type_t  *user = scim_registry_user(reg);

    is_int(scim_sort_spec(user, "userName", 0, &spec, &err), 0, "spec");

    doc = json_loads("{\"userName\":\"\xc3\x89MILE\"}", 0, NULL);
    is_int(scim_sort_key(&spec, doc, &a), 0, "key of a document");
    json_decref(doc);

    doc = json_loads("{\"userName\":\"\xc3\xa9mile\"}", 0, NULL);
    is_int(scim_sort_key(&spec, doc, &b), 0, "key of another");
    json_decref(doc);

    ok(a.present && a.str != NULL, "the key owns its (folded) text");
    is_int(scim_sort_key_cmp(&spec, &a, &b), 0,
           "keys outlive their documents; folded text compares equal");
    is_int(scim_sort_key_size(&a), sizeof(scim_sort_key_t) + a.len + 1,
           "a key's size counts its text");
    scim_sort_key_free(&b);

    doc = json_loads("{\"id\":\"x\"}", 0, NULL);
    is_int(scim_sort_key(&spec, doc, &b), 0, "key of a document without it");
    json_decref(doc);

    ok(!b.present && b.str == NULL, "... missing");
    is_int(scim_sort_key_cmp(&spec, &b, &a), 1, "missing after a value");
    spec.descending = 1;
    is_int(scim_sort_key_cmp(&spec, &b, &a), -1, "... before it descending");
    is_int(scim_sort_key_cmp(&spec, &b, &b), 0, "two missing: equal");

    scim_sort_key_free(&a);
    scim_sort_key_free(&b);
    scim_sort_key_free(&b);
    ok(b.str == NULL && b.len == 0, "freeing twice is harmless");
}


static void
test_sort(scim_registry_t *reg)
{
    json_t  *doc;

    static const char *docs =
        "[{\"id\":\"1\",\"userName\":\"bob\",\"active\":true,"
        "\"meta\":{\"created\":\"2020-01-01T10:00:00+02:00\"},"
        "\"emails\":[{\"value\":\"z@x\"},{\"value\":\"a@x\","
        "\"primary\":true}]},"
        " {\"id\":\"2\",\"userName\":\"Alice\",\"active\":false,"
        "\"meta\":{\"created\":\"2020-01-01T09:00:00Z\"},"
        "\"emails\":[{\"value\":\"m@x\"}]},"
        " {\"id\":\"3\",\"meta\":{}},"
        " {\"id\":\"4\",\"userName\":\"alice\","
        "\"meta\":{\"created\":\"2020-01-01T08:30:00.5Z\"},"
        "\"emails\":[{\"value\":\"B@x\",\"type\":\"work\"}],"
        "\"" ENT "\":{\"manager\":{\"value\":\"m2\"}}},"
        " {\"id\":\"5\",\"userName\":\"\xc3\x89mile\",\"active\":\"x\","
        "\"meta\":{\"created\":\"2020-01-01T08:30:00.25Z\"},"
        "\"" ENT "\":{\"manager\":{\"value\":\"m1\"}}},"
        " 7]";

    {
        size_t       i;
        const char  *by[] = { "userName", "meta.created", "active",
                              "emails", "emails.value", "manager",
                              ENT ":manager.value", "id", "name",
                              "nosuch" };
        char         want[sizeof(out)];

        for (i = 0; i < sizeof(by) / sizeof(by[0]); i++) {
            snprintf(want, sizeof(want), "%s", sorted(user, docs, by[i], 0));
            is_str(keyed(user, docs, by[i], 0), want,
                   "one key at a time = scim_sort: %s", by[i]);
            snprintf(want, sizeof(want), "%s", sorted(user, docs, by[i], 1));
            is_str(keyed(user, docs, by[i], 1), want,
                   "one key at a time = scim_sort: %s descending", by[i]);
        }
    }

    is_str(sorted(user, docs, "userName", 0), "2,4,1,5,3,-",
           "userName ascending, case-insensitive, stable, missing last");
    is_str(sorted(user, docs, "USERNAME", 1), "3,-,5,1,2,4",
           "descending, stable among equals, missing first");
    is_str(sorted(user, docs, "meta.created", 0), "1,5,4,2,3,-",
           "dateTime chronological across offsets (10:00+02:00 first)");
    is_str(sorted(user, docs, "meta.created", 1), "3,-,2,4,5,1",
           "dateTime descending, missing first");
    is_str(sorted(user, docs, "active", 0), "2,1,3,4,5,-",
           "booleans false < true, junk counts as missing");
    is_str(sorted(user, docs, "emails", 0), "1,4,2,3,5,-",
           "emails: primary value else first, case-insensitive");
    is_str(sorted(user, docs, "emails.value", 1), "3,5,-,2,4,1",
           "emails.value descending, missing first");
    is_str(sorted(user, docs, "manager", 0), "5,4,1,2,3,-",
           "manager sorts by manager.value");
    is_str(sorted(user, docs, ENT ":manager.value", 1), "1,2,3,-,4,5",
           "URN manager.value descending, missing first");
    is_str(sorted(user, docs, "id", 1), "-,5,4,3,2,1", "id descending");
    is_str(sorted(user, docs, "name", 0),
           "ERR 400 invalidValue: sortBy: \"name\" is a complex attribute; "
           "name one of its sub-attributes", "complex without value");
    is_str(sorted(user, docs, "nosuch", 0),
           "ERR 400 invalidValue: sortBy: \"nosuch\" is not a known "
           "attribute", "unknown sortBy");
    is_str(sorted(user, docs, "", 0), "1,2,3,4,5,-", "empty sortBy: no-op");
    is_str(sorted(user, "[]", "userName", 0), "", "empty array");

    doc = json_loads("{\"id\":\"urn:example:s\",\"attributes\":["
                     "{\"name\":\"n\",\"type\":\"integer\"},"
                     "{\"name\":\"d\",\"type\":\"decimal\"},"
                     "{\"name\":\"code\",\"caseExact\":true},"
                     "{\"name\":\"tags\",\"multiValued\":true}]}", 0, NULL);
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0,
           "sort extension");
    json_decref(doc);

#define SX(id, body)                                                         \
    "{\"id\":\"" id "\",\"urn:example:s\":" body "}"

    docs = "[" SX("a", "{\"n\":10,\"d\":2.5,\"code\":\"b\","
                  "\"tags\":[\"q\",\"a\"]}") ","
               SX("b", "{\"n\":9,\"d\":10,\"code\":\"B\",\"tags\":[\"b\"]}")
               ","
               SX("c", "{\"n\":-1,\"d\":-0.5,\"code\":\"a\"}") ","
               SX("d", "{\"n\":\"11\",\"d\":2.25}") "]";

    is_str(sorted(user, docs, "n", 0), "c,b,a,d",
           "integers numerically (string counts as missing)");
    is_str(sorted(user, docs, "urn:example:s:d", 0), "c,d,a,b",
           "decimals numerically, mixed with integers");
    is_str(sorted(user, docs, "code", 0), "b,c,a,d",
           "caseExact: byte order (B < a < b)");
    is_str(sorted(user, docs, "tags", 0), "b,a,c,d",
           "multi-valued simple: first value");

#undef SX
}


int
main(void)
{
    scim_registry_t  *reg;

    reg = scim_registry_create(&err);
    ok(reg != NULL, "registry");
    if (reg == NULL) {
        return done_testing();
    }

    user = scim_registry_user(reg);
    group = scim_registry_group(reg);

    test_present();
    test_projection();
    test_value_filter();
    test_returned_request(reg);
    test_sort(reg);
    test_sort_keys(reg);

    scim_registry_free(reg);

    return done_testing();
}
