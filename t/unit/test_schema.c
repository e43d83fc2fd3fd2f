
/*
 * Unit tests: scim_error.c and the schema registry (scim_schema.c).
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "tap.h"


#define GR_URN  "urn:ietf:params:scim:schemas:extension:GlobalRelay:2.0:User"


static json_t *
load(const char *text)
{
    json_t        *j;
    json_error_t   e;

    j = json_loads(text, 0, &e);
    if (j == NULL) {
        printf("# bad test JSON: %s\n", e.text);
    }

    return j;
}


static const char *
jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}


/* resolves and returns "schema-name|attr|sub" in buf, "-" if unknown */

static const char *
res(const scim_resource_type_t *rt, const char *path)
{
    scim_attr_ref_t  ref;
    static char      buf[512];

    memset(&ref, 0xff, sizeof(ref));

    if (scim_attr_resolve(rt, path, strlen(path), &ref) != 0) {
        return "-";
    }

    snprintf(buf, sizeof(buf), "%s|%s|%s",
             ref.schema == NULL ? "common"
             : ref.schema->name ? ref.schema->name : ref.schema->id,
             ref.attr->name, ref.sub ? ref.sub->name : "");

    return buf;
}


static void
test_error(void)
{
    scim_error_t  err;
    json_t       *j;
    char          big[600];

    memset(&err, 0, sizeof(err));

    is_int(scim_error_set(&err, 409, SCIM_ERR_UNIQUENESS,
                          "userName \"%s\" is taken", "bjensen"), -1,
           "scim_error_set returns -1");
    is_int(err.status, 409, "status set");
    is_str(err.scim_type, "uniqueness", "scimType set");
    is_str(err.detail, "userName \"bjensen\" is taken", "detail formatted");

    j = scim_error_to_json(&err);
    ok(j != NULL, "error to json");
    is_str(json_string_value(json_array_get(json_object_get(j, "schemas"),
                                            0)),
           SCIM_SCHEMA_ERROR, "error schemas");
    is_str(jstr(j, "status"), "409", "status is a string");
    is_str(jstr(j, "scimType"), "uniqueness", "scimType in json");
    is_str(jstr(j, "detail"), "userName \"bjensen\" is taken",
           "detail in json");
    json_decref(j);

    scim_error_set(&err, 404, NULL, "no such user");
    j = scim_error_to_json(&err);
    ok(json_object_get(j, "scimType") == NULL, "no scimType when NULL");
    is_str(jstr(j, "status"), "404", "404 status");
    json_decref(j);

    /* invalid UTF-8 and truncation in the middle of a character */
    memset(big, 'a', sizeof(big));
    big[508] = (char) 0xc3;
    big[509] = (char) 0xa9;
    big[510] = (char) 0xc3;
    big[511] = (char) 0xa9;
    big[599] = '\0';
    scim_error_set(&err, 400, SCIM_ERR_INVALID_VALUE, "%s\xff", big);
    is_int(strlen(err.detail), 511, "detail truncated to the buffer");
    j = scim_error_to_json(&err);
    ok(j != NULL, "error json with bad UTF-8");
    ok(jstr(j, "detail") != NULL
       && strlen(jstr(j, "detail")) == 511
       && jstr(j, "detail")[510] == '?'
       && (unsigned char) jstr(j, "detail")[508] == 0xc3,
       "cut character replaced by '?', whole one kept");
    json_decref(j);

    /* no detail */
    scim_error_set(&err, 500, NULL, NULL);
    j = scim_error_to_json(&err);
    ok(j != NULL && json_object_get(j, "detail") == NULL,
       "empty detail omitted");
    json_decref(j);

    j = scim_error_to_json(NULL);
    is_str(jstr(j, "status"), "500", "NULL error is a 500");
    json_decref(j);
}


static void
test_builtins(scim_registry_t *reg)
{
    size_t                       i;
    json_t                      *j, *a;
    const scim_attr_t           *attr, *sub;
    const scim_schema_t         *s;
    const scim_resource_type_t  *user, *group;

    is_int(scim_registry_n_schemas(reg), 3, "three built-in schemas");
    is_str(scim_registry_schema(reg, 0)->id, SCIM_SCHEMA_USER, "0: User");
    is_str(scim_registry_schema(reg, 1)->id, SCIM_SCHEMA_GROUP, "1: Group");
    is_str(scim_registry_schema(reg, 2)->id, SCIM_SCHEMA_ENTERPRISE,
           "2: enterprise");
    ok(scim_registry_schema(reg, 3) == NULL, "schema 3 is NULL");

    user = scim_registry_user(reg);
    group = scim_registry_group(reg);
    is_str(user->name, "User", "user rt name");
    is_str(user->endpoint, "/Users", "user endpoint");
    is_str(group->endpoint, "/Groups", "group endpoint");
    is_int(user->n_extensions, 1, "user has one extension");
    ok(user->extensions[0] == scim_registry_schema(reg, 2),
       "enterprise is the user's first extension");
    is_int(group->n_extensions, 0, "group has no extension");

    s = scim_registry_find_schema(reg,
            "URN:IETF:params:scim:schemas:core:2.0:user", 42);
    ok(s == user->schema, "find_schema is case-insensitive");
    ok(scim_registry_find_schema(reg, SCIM_SCHEMA_USER,
                                 strlen(SCIM_SCHEMA_USER) - 1) == NULL,
       "find_schema honours len");
    ok(scim_registry_find_schema(reg,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0User",
            56) == NULL, "typo URN unknown");

    s = user->schema;
    is_int(s->n_attrs, 21, "core User has 21 attributes");
    is_str(s->attrs[0].name, "userName", "first is userName");
    ok(s->attrs[0].required && !s->attrs[0].case_exact
       && s->attrs[0].uniqueness == SCIM_UNIQ_SERVER, "userName chars");

    attr = scim_attr_find(s->attrs, s->n_attrs, "PASSWORD", 8);
    ok(attr != NULL && attr->mutability == SCIM_MUT_WRITEONLY
       && attr->returned == SCIM_RET_NEVER, "password writeOnly/never");

    attr = scim_attr_find(s->attrs, s->n_attrs, "emails", 6);
    ok(attr != NULL && attr->multi_valued && attr->type == SCIM_TYPE_COMPLEX,
       "emails multi complex");
    is_int(attr->n_sub_attrs, 4, "emails has 4 sub-attributes");
    sub = scim_attr_find(attr->sub_attrs, attr->n_sub_attrs, "Primary", 7);
    ok(sub != NULL && sub->type == SCIM_TYPE_BOOLEAN && sub->parent == attr
       && sub->schema == s, "emails.primary boolean, parent, schema");
    sub = scim_attr_find(attr->sub_attrs, attr->n_sub_attrs, "type", 4);
    ok(sub != NULL && sub->n_canonical_values == 3
       && strcmp(sub->canonical_values[0], "work") == 0,
       "emails.type canonical values");

    attr = scim_attr_find(s->attrs, s->n_attrs, "groups", 6);
    ok(attr != NULL && attr->mutability == SCIM_MUT_READONLY,
       "groups readOnly");
    sub = scim_attr_find(attr->sub_attrs, attr->n_sub_attrs, "$ref", 4);
    ok(sub != NULL && sub->type == SCIM_TYPE_REFERENCE
       && sub->n_reference_types == 2, "groups.$ref reference User, Group");

    attr = scim_attr_find(s->attrs, s->n_attrs, "addresses", 9);
    ok(attr != NULL && scim_attr_find(attr->sub_attrs, attr->n_sub_attrs,
                                      "primary", 7) != NULL,
       "addresses.primary");

    attr = scim_attr_find(s->attrs, s->n_attrs, "x509Certificates", 16);
    sub = attr ? scim_attr_find(attr->sub_attrs, attr->n_sub_attrs,
                                "value", 5) : NULL;
    ok(sub != NULL && sub->type == SCIM_TYPE_BINARY, "x509 value binary");

    attr = scim_attr_find(s->attrs, s->n_attrs, "roles", 5);
    sub = attr ? scim_attr_find(attr->sub_attrs, attr->n_sub_attrs,
                                "type", 4) : NULL;
    ok(sub != NULL && sub->canonical_values != NULL
       && sub->n_canonical_values == 0,
       "roles.type has an empty canonicalValues");

    attr = scim_attr_find(group->schema->attrs, group->schema->n_attrs,
                          "displayname", 11);
    ok(attr != NULL && attr->required, "group displayName required");
    attr = scim_attr_find(group->schema->attrs, group->schema->n_attrs,
                          "members", 7);
    ok(attr != NULL && attr->multi_valued && attr->n_sub_attrs == 4,
       "group members value/$ref/type/display");
    sub = attr ? scim_attr_find(attr->sub_attrs, attr->n_sub_attrs,
                                "display", 7) : NULL;
    ok(sub != NULL && sub->type == SCIM_TYPE_STRING
       && sub->mutability == SCIM_MUT_READONLY,
       "group members.display: a readOnly string (what a read returns)");

    s = user->extensions[0];
    is_int(s->n_attrs, 6, "enterprise has 6 attributes");
    attr = scim_attr_find(s->attrs, s->n_attrs, "manager", 7);
    ok(attr != NULL && attr->type == SCIM_TYPE_COMPLEX
       && !attr->multi_valued, "manager single complex");
    sub = attr ? scim_attr_find(attr->sub_attrs, attr->n_sub_attrs,
                                "displayName", 11) : NULL;
    ok(sub != NULL && sub->mutability == SCIM_MUT_READONLY,
       "manager.displayName readOnly");
    sub = attr ? scim_attr_find(attr->sub_attrs, attr->n_sub_attrs,
                                "$ref", 4) : NULL;
    ok(sub != NULL && sub->n_reference_types == 1
       && strcmp(sub->reference_types[0], "User") == 0,
       "manager.$ref references User");

    /* the /Schemas JSON: camelCase, complete, no nulls */
    j = user->schema->json;
    is_str(jstr(j, "id"), SCIM_SCHEMA_USER, "json id");
    is_str(jstr(j, "name"), "User", "json name");
    is_str(json_string_value(json_array_get(json_object_get(j, "schemas"),
                                            0)),
           SCIM_SCHEMA_SCHEMA, "json schemas");
    a = json_array_get(json_object_get(j, "attributes"), 0);
    is_str(jstr(a, "name"), "userName", "json attr name");
    is_str(jstr(a, "mutability"), "readWrite", "json mutability camelCase");
    is_str(jstr(a, "uniqueness"), "server", "json uniqueness");
    ok(json_is_true(json_object_get(a, "required")), "json required");
    ok(json_is_false(json_object_get(a, "caseExact")), "json caseExact");

    a = NULL;
    for (i = 0; i < json_array_size(json_object_get(j, "attributes")); i++) {
        a = json_array_get(json_object_get(j, "attributes"), i);
        if (strcmp(jstr(a, "name"), "profileUrl") == 0) {
            break;
        }
    }
    is_str(json_string_value(json_array_get(
                json_object_get(a, "referenceTypes"), 0)), "external",
           "profileUrl referenceTypes");

    j = json_array_get(json_object_get(user->extensions[0]->json,
                                       "attributes"), 5);
    is_str(jstr(j, "name"), "manager", "enterprise json manager");
    is_int(json_array_size(json_object_get(j, "subAttributes")), 3,
           "manager json subAttributes");
    is_str(jstr(json_array_get(json_object_get(j, "subAttributes"), 2),
                "mutability"), "readOnly", "manager.displayName json");
}


static void
test_resolve(scim_registry_t *reg)
{
    scim_attr_ref_t              ref;
    const scim_resource_type_t  *user, *group;

    user = scim_registry_user(reg);
    group = scim_registry_group(reg);

    is_str(res(user, "userName"), "User|userName|", "userName");
    is_str(res(user, "USERNAME"), "User|userName|", "USERNAME");
    is_str(res(user, "name.givenName"), "User|name|givenName",
           "name.givenName");
    is_str(res(user, "Name.FamilyName"), "User|name|familyName",
           "Name.FamilyName");
    is_str(res(user, "emails"), "User|emails|", "emails");
    is_str(res(user, "emails.value"), "User|emails|value", "emails.value");
    is_str(res(user, "emails.Value"), "User|emails|value", "emails.Value");
    is_str(res(user, "id"), "common|id|", "id is common");
    is_str(res(user, "externalId"), "common|externalId|", "externalId");
    is_str(res(user, "meta.lastModified"), "common|meta|lastModified",
           "meta.lastModified");
    is_str(res(user, "Meta.Created"), "common|meta|created", "Meta.Created");
    is_str(res(user, "meta.nothing"), "-", "meta.nothing unknown");
    is_str(res(user, "manager"), "EnterpriseUser|manager|",
           "manager falls to enterprise");
    is_str(res(user, "department"), "EnterpriseUser|department|",
           "department falls to enterprise");
    is_str(res(user, "manager.value"), "EnterpriseUser|manager|value",
           "manager.value");
    is_str(res(user, SCIM_SCHEMA_ENTERPRISE ":manager.value"),
           "EnterpriseUser|manager|value", "URN:manager.value");
    is_str(res(user, "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0"
                     ":USER:Manager.$ref"),
           "EnterpriseUser|manager|$ref", "upper-case URN path");
    is_str(res(user, SCIM_SCHEMA_USER ":name.givenName"),
           "User|name|givenName", "core URN prefix");
    is_str(res(user, SCIM_SCHEMA_USER ":id"), "common|id|",
           "core URN prefix on a common attribute");
    is_str(res(user, SCIM_SCHEMA_USER ":department"), "-",
           "core URN does not reach the extension");
    is_str(res(user, SCIM_SCHEMA_ENTERPRISE), "-", "bare URN is no attribute");
    is_str(res(user, SCIM_SCHEMA_ENTERPRISE ":"), "-", "URN: alone");
    is_str(res(user, "urn:x:y:department"), "-", "unknown URN");
    is_str(res(user, "nosuch"), "-", "unknown name");
    is_str(res(user, "userName.x"), "-", "sub of a simple attribute");
    is_str(res(user, "name."), "-", "empty sub");
    is_str(res(user, ".name"), "-", "empty name");
    is_str(res(user, "name.givenName.x"), "-", "three levels");
    is_str(res(user, "emails[type eq \"work\"].value"), "-",
           "value paths are not attribute names");
    is_str(res(group, "members.value"), "Group|members|value",
           "group members.value");
    is_str(res(group, "manager"), "-", "group has no manager");
    is_str(res(group, "DISPLAYNAME"), "Group|displayName|",
           "group DISPLAYNAME");
    is_str(res(group, "meta.version"), "common|meta|version",
           "group meta.version");

    ok(scim_attr_resolve(user, "userNameX", 8, &ref) == 0
       && strcmp(ref.attr->name, "userName") == 0, "len is honoured");
    ok(scim_attr_resolve(user, "user\0Name", 9, &ref) == -1,
       "embedded NUL is no match");
    ok(scim_attr_resolve(NULL, "userName", 8, &ref) == -1, "NULL rt");
    ok(scim_attr_resolve(user, "", 0, &ref) == -1, "empty path");

    /* common attribute characteristics */
    ok(scim_attr_resolve(user, "id", 2, &ref) == 0
       && ref.attr->returned == SCIM_RET_ALWAYS
       && ref.attr->mutability == SCIM_MUT_READONLY
       && ref.attr->case_exact, "id: readOnly, always, caseExact");
    ok(scim_attr_resolve(user, "externalId", 10, &ref) == 0
       && ref.attr->mutability == SCIM_MUT_READWRITE
       && ref.attr->case_exact, "externalId: readWrite, caseExact");
    ok(scim_attr_resolve(user, "meta.version", 12, &ref) == 0
       && ref.sub->parent == ref.attr
       && ref.attr->mutability == SCIM_MUT_READONLY
       && ref.sub->type == SCIM_TYPE_STRING, "meta.version parent");
    ok(scim_attr_resolve(user, "meta.created", 12, &ref) == 0
       && ref.sub->type == SCIM_TYPE_DATETIME, "meta.created dateTime");
}


static void
test_extensions(scim_registry_t *reg)
{
    json_t                      *doc;
    scim_error_t                 err;
    scim_attr_ref_t              ref;
    const scim_attr_t           *a;
    const scim_schema_t         *s;
    const scim_resource_type_t  *user;

    struct {
        const char  *json;
        const char  *detail_part;
    } bad[] = {
        { "[]", "JSON object" },
        { "{\"attributes\": []}", "\"id\"" },
        { "{\"id\": 5, \"attributes\": []}", "\"id\"" },
        { "{\"id\": \"foo:bar\", \"attributes\": []}", "not a valid URN" },
        { "{\"id\": \"urn:a b\", \"attributes\": []}", "not a valid URN" },
        { "{\"id\": \"urn:a,b\", \"attributes\": []}", "not a valid URN" },
        { "{\"id\": \"urn:a:\", \"attributes\": []}", "not a valid URN" },
        { "{\"id\": \"urn:x:y\"}", "\"attributes\" must be an array" },
        { "{\"id\": \"urn:x:y\", \"attributes\": {}}",
          "\"attributes\" must be an array" },
        { "{\"id\": \"urn:x:y\", \"attributes\": [5]}", "JSON object" },
        { "{\"id\": \"urn:x:y\", \"attributes\": [{}]}", "valid \"name\"" },
        { "{\"id\": \"urn:x:y\", \"attributes\": [{\"name\": \"a.b\"}]}",
          "valid \"name\"" },
        { "{\"id\": \"urn:x:y\", \"attributes\": [{\"name\": \"1a\"}]}",
          "valid \"name\"" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"type\": \"str\"}]}", "\"type\" must be one" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"multiValued\": \"yes\"}]}",
          "\"multiValued\" must be true or false" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"mutability\": \"rw\"}]}",
          "\"mutability\" must be one" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"returned\": 1}]}",
          "\"returned\" must be one" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"uniqueness\": \"all\"}]}",
          "\"uniqueness\" must be one" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"canonicalValues\": [1]}]}",
          "array of strings" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\"}, {\"name\": \"A\"}]}", "defined twice" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"type\": \"complex\"}]}",
          "non-empty \"subAttributes\"" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"subAttributes\": [{\"name\": \"b\"}]}]}",
          "not of type \"complex\"" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"type\": \"complex\", \"subAttributes\": "
          "[{\"name\": \"b\", \"type\": \"complex\", \"subAttributes\": "
          "[{\"name\": \"c\"}]}]}]}", "cannot contain complex" },
        { "{\"id\": \"urn:x:y\", \"attributes\": "
          "[{\"name\": \"a\", \"type\": \"complex\", \"subAttributes\": "
          "[{\"name\": \"b\"}, {\"name\": \"B\"}]}]}",
          "\"a.B\" is defined twice" },
        { "{\"id\": \"" SCIM_SCHEMA_ENTERPRISE "\", \"attributes\": []}",
          "already defined" },
        { "{\"id\": \"URN:ietf:params:scim:schemas:core:2.0:USER\", "
          "\"attributes\": []}", "already defined" },
    };

    size_t  i;

    user = scim_registry_user(reg);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc = load(bad[i].json);
        memset(&err, 0, sizeof(err));
        is_int(scim_registry_add_user_extension(reg, doc, &err), -1,
               "bad extension %u refused", (unsigned) i);
        ok(err.status == 400 && strstr(err.detail, bad[i].detail_part),
           "bad extension %u detail mentions '%s' (%s)", (unsigned) i,
           bad[i].detail_part, err.detail);
        json_decref(doc);
    }

    is_int(scim_registry_n_schemas(reg), 3, "nothing was added");
    is_int(user->n_extensions, 1, "still one extension");

    /* defaults of RFC 7643 2.2 */
    doc = load("{\"id\": \"urn:example:x:2.0:User\", \"name\": \"X\", "
               "\"attributes\": [{\"name\": \"plain\"}, "
               "{\"name\": \"badge\", \"type\": \"INTEGER\", "
               "\"multiValued\": true, \"required\": true, "
               "\"caseExact\": true, \"mutability\": \"immutable\", "
               "\"returned\": \"request\", \"uniqueness\": \"global\"},"
               "{\"name\": \"department\"}]}");
    memset(&err, 0, sizeof(err));
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0,
           "extension added (%s)", err.detail);
    json_decref(doc);

    s = scim_registry_find_schema(reg, "urn:example:x:2.0:user", 22);
    ok(s != NULL && s == user->extensions[1], "extension after enterprise");
    is_int(user->n_extensions, 2, "two extensions");
    a = s ? &s->attrs[0] : NULL;
    ok(a != NULL && a->type == SCIM_TYPE_STRING && !a->multi_valued
       && !a->required && !a->case_exact
       && a->mutability == SCIM_MUT_READWRITE
       && a->returned == SCIM_RET_DEFAULT
       && a->uniqueness == SCIM_UNIQ_NONE && a->schema == s
       && a->parent == NULL, "defaults filled in");
    a = s ? &s->attrs[1] : NULL;
    ok(a != NULL && a->type == SCIM_TYPE_INTEGER && a->multi_valued
       && a->required && a->case_exact
       && a->mutability == SCIM_MUT_IMMUTABLE
       && a->returned == SCIM_RET_REQUEST
       && a->uniqueness == SCIM_UNIQ_GLOBAL, "explicit characteristics");
    is_str(jstr(json_array_get(json_object_get(s->json, "attributes"), 0),
                "mutability"), "readWrite", "defaults appear in json");
    is_str(jstr(json_array_get(json_object_get(s->json, "attributes"), 1),
                "type"), "integer", "type canonical in json");

    /* plain "department" is the enterprise one (extension order) */
    is_str(res(user, "department"), "EnterpriseUser|department|",
           "first extension wins for a plain name");
    is_str(res(user, "urn:example:x:2.0:User:department"),
           "X|department|", "URN selects the second extension");
    is_str(res(user, "plain"), "X|plain|", "plain name in extension");
    ok(scim_attr_resolve(user, "badge", 5, &ref) == 0
       && ref.schema == s, "badge in extension");

    /* Global Relay */
    doc = json_load_file("conf-examples/global-relay/"
                         "globalrelay-extension.json", 0, NULL);
    ok(doc != NULL, "globalrelay-extension.json loads");
    memset(&err, 0, sizeof(err));
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0,
           "Global Relay extension added (%s)", err.detail);
    json_decref(doc);

    s = scim_registry_find_schema(reg, GR_URN, strlen(GR_URN));
    ok(s != NULL, "Global Relay schema found");
    is_int(s ? s->n_attrs : 0, 16, "proxyAddresses + 15 attributes");
    is_str(res(user, GR_URN ":proxyAddresses"),
           "GlobalRelayUser|proxyAddresses|", "GR proxyAddresses");
    is_str(res(user, GR_URN ":extensionAttribute15"),
           "GlobalRelayUser|extensionAttribute15|",
           "GR extensionAttribute15");
    is_str(res(user, "extensionattribute7"),
           "GlobalRelayUser|extensionAttribute7|",
           "plain extensionattribute7");
    ok(scim_attr_resolve(user, GR_URN ":proxyAddresses",
                         strlen(GR_URN ":proxyAddresses"), &ref) == 0
       && !ref.attr->multi_valued && ref.attr->type == SCIM_TYPE_STRING
       && ref.attr->mutability == SCIM_MUT_READWRITE,
       "proxyAddresses single-valued string readWrite");

    is_int(scim_registry_n_schemas(reg), 5, "five schemas");

    /* the registry keeps its own reference */
    doc = load("{\"id\": \"urn:example:kept\", \"attributes\": "
               "[{\"name\": \"k\"}]}");
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0, "kept");
    json_decref(doc);
    is_str(res(user, "urn:example:kept:k"), "urn:example:kept|k|",
           "schema without name");

    doc = load("{\"id\": \"urn:example:kept\", \"attributes\": []}");
    is_int(scim_registry_add_user_extension(reg, doc, &err), -1,
           "duplicate refused");
    ok(strstr(err.detail, "already defined") != NULL, "duplicate detail");
    json_decref(doc);

    is_int(scim_registry_add_user_extension(reg, NULL, &err), -1,
           "NULL document refused");
    is_int(scim_registry_add_user_extension(NULL, NULL, &err), -1,
           "NULL registry refused");
}


int
main(void)
{
    scim_error_t      err;
    scim_registry_t  *reg;

    test_error();

    memset(&err, 0, sizeof(err));
    reg = scim_registry_create(&err);
    ok(reg != NULL, "registry created (%s)", err.detail);
    if (reg == NULL) {
        return done_testing();
    }

    test_builtins(reg);
    test_resolve(reg);
    test_extensions(reg);

    scim_registry_free(reg);
    scim_registry_free(NULL);

    return done_testing();
}
