
/*
 * Unit tests: scim_resource_normalize() with what Entra ID and other
 * clients send, and the UTF-8/dateTime helpers.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "tap.h"


#define GR   "urn:ietf:params:scim:schemas:extension:GlobalRelay:2.0:User"
#define ENT  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define CU   "urn:ietf:params:scim:schemas:core:2.0:User"
#define CG   "urn:ietf:params:scim:schemas:core:2.0:Group"


static const scim_resource_type_t  *user, *group;
static scim_error_t                 err;
static char                         out[8192];


/* normalizes text; returns the compact result, or "ERR <status> <type>:
   <detail>" */

static const char *
norm(const scim_resource_type_t *rt, scim_input_mode_t mode,
    const char *text)
{
    char          *s;
    json_t        *in, *r;
    json_error_t   e;

    in = json_loads(text, 0, &e);
    if (in == NULL) {
        snprintf(out, sizeof(out), "BAD TEST JSON: %s", e.text);
        return out;
    }

    memset(&err, 0, sizeof(err));
    r = scim_resource_normalize(rt, in, mode, &err);
    json_decref(in);

    if (r == NULL) {
        snprintf(out, sizeof(out), "ERR %d %s: %s", err.status,
                 err.scim_type ? err.scim_type : "-", err.detail);
        return out;
    }

    s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    snprintf(out, sizeof(out), "%s", s ? s : "(dump failed)");
    free(s);

    return out;
}


#define U(body)    norm(user, SCIM_INPUT_CREATE, body)
#define G(body)    norm(group, SCIM_INPUT_CREATE, body)
#define S(body)    norm(user, SCIM_INPUT_STORED, body)
#define HDR        "{\"schemas\":[\"" CU "\"],"
#define OUTHDR     "{\"schemas\":[\"" CU "\"],"


static void
test_entra_create(void)
{
    /* TUT "Create User" request, with what the docs show around it */
    is_str(U("{\"schemas\":[\"" CU "\",\"" ENT "\"],"
             "\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\","
             "\"userName\":\"Test_User_ab6490ee@testuser.com\","
             "\"active\":true,"
             "\"addresses\":null,"
             "\"displayName\":\"Test User\","
             "\"emails\":[{\"primary\":true,\"type\":\"work\","
             "\"value\":\"Test_User_fd0ea19b@testuser.com\"}],"
             "\"meta\":{\"resourceType\":\"User\"},"
             "\"name\":{\"formatted\":\"givenName familyName\","
             "\"familyName\":\"familyName\",\"givenName\":\"givenName\"},"
             "\"roles\":[],"
             "\"title\":null,"
             "\"" ENT "\":{\"department\":null,\"manager\":null}}"),
           "{\"schemas\":[\"" CU "\"],"
           "\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\","
           "\"userName\":\"Test_User_ab6490ee@testuser.com\","
           "\"name\":{\"formatted\":\"givenName familyName\","
           "\"familyName\":\"familyName\",\"givenName\":\"givenName\"},"
           "\"displayName\":\"Test User\",\"active\":true,"
           "\"emails\":[{\"value\":\"Test_User_fd0ea19b@testuser.com\","
           "\"type\":\"work\",\"primary\":true}],"
           "\"roles\":[]}",
           "Entra create: nulls and meta dropped, roles [] kept, "
           "all-null enterprise block absent, schema order");

    /* TUT Ex.2: the typo URN in schemas and as a key is ignored */
    is_str(U("{\"schemas\":[\"" CU "\","
             "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0User\"],"
             "\"userName\":\"u1\","
             "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0User\":"
             "{\"department\":\"Sales\"}}"),
           OUTHDR "\"userName\":\"u1\"}",
           "typo enterprise URN ignored");

    /* an enterprise block that schemas does not list */
    is_str(U(HDR "\"userName\":\"u1\","
             "\"" ENT "\":{\"employeeNumber\":\"701984\","
             "\"costCenter\":\"4130\",\"organization\":\"Universal\","
             "\"division\":\"Theme Park\",\"department\":\"Tour\","
             "\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\","
             "\"$ref\":\"../Users/26118915\",\"displayName\":\"John\"}}}"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u1\","
           "\"" ENT "\":{\"employeeNumber\":\"701984\","
           "\"costCenter\":\"4130\",\"organization\":\"Universal\","
           "\"division\":\"Theme Park\",\"department\":\"Tour\","
           "\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\"}"
           "}}",
           "enterprise block: listed in schemas, manager $ref and "
           "displayName dropped");

    /* other-case names, "True" strings */
    is_str(U("{\"SCHEMAS\":[\"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER\"],"
             "\"UserName\":\"u2\",\"Active\":\"False\","
             "\"DisplayName\":\"D\","
             "\"Emails\":[{\"Value\":\"a@b.c\",\"Primary\":\"True\","
             "\"TYPE\":\"work\"}],"
             "\"NAME\":{\"GIVENNAME\":\"g\"}}"),
           OUTHDR "\"userName\":\"u2\",\"name\":{\"givenName\":\"g\"},"
           "\"displayName\":\"D\",\"active\":false,"
           "\"emails\":[{\"value\":\"a@b.c\",\"type\":\"work\","
           "\"primary\":true}]}",
           "case-insensitive names, canonical output, \"True\"/\"False\"");

    is_str(U(HDR "\"userName\":\"u\",\"active\":\"TRUE\"}"),
           OUTHDR "\"userName\":\"u\",\"active\":true}", "\"TRUE\"");
    is_str(U(HDR "\"userName\":\"u\",\"active\":\"yes\"}"),
           "ERR 400 invalidValue: attribute \"active\" must be a boolean",
           "\"yes\" is no boolean");
    is_str(U(HDR "\"userName\":\"u\",\"active\":1}"),
           "ERR 400 invalidValue: attribute \"active\" must be a boolean",
           "1 is no boolean");

    /* exact-case key wins over another-case duplicate */
    is_str(U(HDR "\"USERNAME\":\"upper\",\"userName\":\"exact\"}"),
           OUTHDR "\"userName\":\"exact\"}", "exact key preferred");
    is_str(U(HDR "\"USERNAME\":\"upper\",\"UserName\":\"mixed\"}"),
           OUTHDR "\"userName\":\"upper\"}", "first other-case key wins");

    /* id, meta, groups, unknown and misspelled attributes dropped */
    is_str(U(HDR "\"id\":\"x\",\"userName\":\"u\","
             "\"meta\":{\"created\":\"2020-01-01T00:00:00Z\"},"
             "\"groups\":[{\"value\":\"g1\"}],\"emials\":[],"
             "\"nickname\":\"nick\",\"foo\":{\"bar\":1},"
             "\"name\":{\"givenName\":\"g\",\"givenNam\":\"x\"}}"),
           OUTHDR "\"userName\":\"u\",\"name\":{\"givenName\":\"g\"},"
           "\"nickName\":\"nick\"}",
           "readOnly and unknown attributes dropped");

    /* password kept as given */
    is_str(U(HDR "\"userName\":\"u\",\"password\":\"t1meMa$heen\"}"),
           OUTHDR "\"userName\":\"u\",\"password\":\"t1meMa$heen\"}",
           "password kept");

    /* Entra group create */
    is_str(G("{\"schemas\":[\"" CG "\",\"http://schemas.microsoft.com/2006/"
             "11/ResourceManagement/ADSCIM/2.0/Group\"],"
             "\"externalId\":\"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\","
             "\"displayName\":\"displayName\","
             "\"meta\":{\"resourceType\":\"Group\"}}"),
           "{\"schemas\":[\"" CG "\"],"
           "\"externalId\":\"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\","
           "\"displayName\":\"displayName\"}",
           "Entra group create");
}


static void
test_errors(void)
{
    is_str(U("[]"), "ERR 400 invalidSyntax: the resource must be a JSON "
           "object", "array body");
    is_str(U("{\"userName\":\"u\"}"),
           "ERR 400 invalidSyntax: \"schemas\" must list \"" CU "\"",
           "no schemas");
    is_str(U("{\"schemas\":[\"" CG "\"],\"userName\":\"u\"}"),
           "ERR 400 invalidSyntax: \"schemas\" must list \"" CU "\"",
           "Group schema on a user");
    is_str(U("{\"schemas\":[1,null,{}],\"userName\":\"u\"}"),
           "ERR 400 invalidSyntax: \"schemas\" must list \"" CU "\"",
           "schemas of junk");
    is_str(U("{\"schemas\":\"" CU "\",\"userName\":\"u\"}"),
           OUTHDR "\"userName\":\"u\"}", "schemas as a single string");
    is_str(G("{\"schemas\":[\"" CU "\"],\"displayName\":\"g\"}"),
           "ERR 400 invalidSyntax: \"schemas\" must list \"" CG "\"",
           "User schema on a group");

    is_str(U(HDR "\"displayName\":\"x\"}"),
           "ERR 400 invalidValue: attribute \"userName\" is required",
           "missing userName");
    is_str(U(HDR "\"userName\":null}"),
           "ERR 400 invalidValue: attribute \"userName\" is required",
           "null userName");
    is_str(U(HDR "\"userName\":\"\"}"),
           "ERR 400 invalidValue: attribute \"userName\" is required",
           "empty userName");
    is_str(G("{\"schemas\":[\"" CG "\"]}"),
           "ERR 400 invalidValue: attribute \"displayName\" is required",
           "missing group displayName");

    is_str(U(HDR "\"userName\":5}"),
           "ERR 400 invalidValue: attribute \"userName\" must be a string",
           "number userName");
    is_str(U(HDR "\"userName\":\"u\",\"name\":{\"givenName\":true}}"),
           "ERR 400 invalidValue: attribute \"name.givenName\" must be a "
           "string", "sub-attribute path in detail");
    is_str(U(HDR "\"userName\":\"u\",\"name\":\"Barbara\"}"),
           "ERR 400 invalidValue: attribute \"name\" must be a complex "
           "value (a JSON object)", "string for complex");
    is_str(U(HDR "\"userName\":\"u\",\"name\":[{\"givenName\":\"x\"}]}"),
           "ERR 400 invalidValue: attribute \"name\" must be a complex "
           "value (a JSON object)", "array for single complex");
    is_str(U(HDR "\"userName\":\"u\",\"emails\":[{\"value\":1}]}"),
           "ERR 400 invalidValue: attribute \"emails.value\" must be a "
           "string", "emails.value number");
    is_str(U(HDR "\"userName\":\"u\",\"emails\":[\"a@b.c\"]}"),
           "ERR 400 invalidValue: attribute \"emails\" must be a complex "
           "value (a JSON object)", "string element for complex");
    is_str(U(HDR "\"userName\":\"u\",\"emails\":[[{\"value\":\"x\"}]]}"),
           "ERR 400 invalidValue: attribute \"emails\" must be a value, not "
           "an array of arrays", "nested arrays");
    is_str(U(HDR "\"userName\":\"u\",\"emails\":[{\"primary\":\"maybe\"}]}"),
           "ERR 400 invalidValue: attribute \"emails.primary\" must be a "
           "boolean", "bad primary");
    is_str(U(HDR "\"userName\":\"u\",\"displayName\":[\"x\"]}"),
           "ERR 400 invalidValue: attribute \"displayName\" must be a string",
           "array for single string");
    is_str(U(HDR "\"userName\":\"u\",\"externalId\":42}"),
           "ERR 400 invalidValue: attribute \"externalId\" must be a string",
           "number externalId");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"department\":7}}"),
           "ERR 400 invalidValue: attribute \"" ENT ":department\" must be "
           "a string", "extension path in detail");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":\"Sales\"}"),
           "ERR 400 invalidValue: \"" ENT "\" must be a JSON object",
           "extension block not an object");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":"
             "{\"manager\":{\"value\":5}}}"),
           "ERR 400 invalidValue: attribute \"" ENT ":manager.value\" must "
           "be a string", "manager.value number");
    is_str(U(HDR "\"userName\":\"u\",\"x509Certificates\":"
             "[{\"value\":false}]}"),
           "ERR 400 invalidValue: attribute \"x509Certificates.value\" must "
           "be base64-encoded binary", "binary must be a base64 string");
    is_str(U(HDR "\"userName\":\"u\",\"x509Certificates\":"
             "[{\"value\":\"not base64 !!!\"}]}"),
           "ERR 400 invalidValue: attribute \"x509Certificates.value\" must "
           "be base64-encoded binary", "binary: not base64 refused");
    is_str(U(HDR "\"userName\":\"u\",\"x509Certificates\":"
             "[{\"value\":\"TUlJ=RFU\"}]}"),
           "ERR 400 invalidValue: attribute \"x509Certificates.value\" must "
           "be base64-encoded binary", "binary: padding inside refused");
    is_str(U(HDR "\"userName\":\"u\",\"profileUrl\":{}}"),
           "ERR 400 invalidValue: attribute \"profileUrl\" must be a string",
           "reference must be a string");
}


static void
test_shapes(void)
{
    /* multi-valued given a single complex value: wrapped */
    is_str(U(HDR "\"userName\":\"u\",\"emails\":{\"value\":\"a@b.c\"}}"),
           OUTHDR "\"userName\":\"u\",\"emails\":[{\"value\":\"a@b.c\"}]}",
           "single complex wrapped");

    /* nulls inside arrays dropped, empty elements dropped */
    is_str(U(HDR "\"userName\":\"u\",\"emails\":[null,{\"value\":\"a\"},"
             "{\"value\":null,\"display\":null},{}]}"),
           OUTHDR "\"userName\":\"u\",\"emails\":[{\"value\":\"a\"}]}",
           "nulls and empty elements dropped");
    is_str(U(HDR "\"userName\":\"u\",\"emails\":[]}"),
           OUTHDR "\"userName\":\"u\",\"emails\":[]}", "emails [] kept");
    is_str(U(HDR "\"userName\":\"u\",\"name\":{\"givenName\":null}}"),
           OUTHDR "\"userName\":\"u\"}", "all-null complex is absent");

    /* roles: JSON-encoded values (Q7) */
    is_str(U(HDR "\"userName\":\"u\",\"roles\":[{\"primary\":\"True\","
             "\"type\":\"WindowsAzureActiveDirectoryRole\","
             "\"value\":\"{\\\"id\\\":\\\"06b0\\\",\\\"value\\\":\\\"25\\\","
             "\\\"displayName\\\":\\\"Role1\\\"}\"}]}"),
           OUTHDR "\"userName\":\"u\",\"roles\":[{\"value\":"
           "\"{\\\"id\\\":\\\"06b0\\\",\\\"value\\\":\\\"25\\\","
           "\\\"displayName\\\":\\\"Role1\\\"}\","
           "\"type\":\"WindowsAzureActiveDirectoryRole\",\"primary\":true}]}",
           "role value that is JSON text stays a string");
    is_str(U(HDR "\"userName\":\"u\",\"roles\":\"[{\\\"value\\\":\\\"r1\\\","
             "\\\"primary\\\":true}]\"}"),
           OUTHDR "\"userName\":\"u\",\"roles\":[{\"value\":\"r1\","
           "\"primary\":true}]}",
           "roles given as a JSON-encoded array are decoded");
    is_str(U(HDR "\"userName\":\"u\",\"roles\":\"{\\\"value\\\":\\\"r1\\\"}"
             "\"}"),
           OUTHDR "\"userName\":\"u\",\"roles\":[{\"value\":\"r1\"}]}",
           "roles given as a JSON-encoded object are decoded and wrapped");
    is_str(U(HDR "\"userName\":\"u\",\"name\":\"{\\\"givenName\\\":"
             "\\\"g\\\"}\"}"),
           OUTHDR "\"userName\":\"u\",\"name\":{\"givenName\":\"g\"}}",
           "JSON-encoded single complex decoded");
    is_str(U(HDR "\"userName\":\"u\",\"name\":\"[{\\\"givenName\\\":"
             "\\\"g\\\"}]\"}"),
           "ERR 400 invalidValue: attribute \"name\" must be a complex "
           "value (a JSON object)", "JSON-encoded array for single complex");
    is_str(U(HDR "\"userName\":\"u\",\"name\":\"{bad json\"}"),
           "ERR 400 invalidValue: attribute \"name\" must be a complex "
           "value (a JSON object)", "bad JSON text for complex");

    /* manager forms (Q8) */
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"manager\":\"271\"}}"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u\","
           "\"" ENT "\":{\"manager\":{\"value\":\"271\"}}}",
           "manager as a string id");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"Manager\":"
             "[{\"$ref\":\"https://x/Users/272\",\"value\":\"272\"}]}}"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u\","
           "\"" ENT "\":{\"manager\":{\"value\":\"272\"}}}",
           "manager as [{$ref, value}]");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"manager\":"
             "[null,\"273\"]}}"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u\","
           "\"" ENT "\":{\"manager\":{\"value\":\"273\"}}}",
           "manager as [null, id]");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"manager\":"
             "\"{\\\"value\\\":\\\"274\\\"}\"}}"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u\","
           "\"" ENT "\":{\"manager\":{\"value\":\"274\"}}}",
           "manager as JSON text");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"manager\":\"\"}}"),
           OUTHDR "\"userName\":\"u\"}", "manager \"\" is absent");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"manager\":[]}}"),
           OUTHDR "\"userName\":\"u\"}", "manager [] is absent");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"manager\":{}}}"),
           OUTHDR "\"userName\":\"u\"}", "manager {} is absent");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"manager\":"
             "{\"value\":\"\",\"displayName\":\"x\"}}}"),
           OUTHDR "\"userName\":\"u\"}", "manager value \"\" is absent");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":{\"manager\":true}}"),
           "ERR 400 invalidValue: attribute \"" ENT ":manager\" must be a "
           "complex value (a JSON object)", "manager true refused");

    /* URN-qualified flat keys */
    is_str(U(HDR "\"userName\":\"u\",\"" ENT ":department\":\"Flat\","
             "\"" ENT "\":{\"division\":\"Block\"}}"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u\","
           "\"" ENT "\":{\"division\":\"Block\",\"department\":\"Flat\"}}",
           "URN-qualified top-level key");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT ":department\":\"Flat\","
             "\"" ENT "\":{\"department\":\"Block\"}}"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u\","
           "\"" ENT "\":{\"department\":\"Block\"}}",
           "block wins over a flat key");
    is_str(U(HDR "\"" CU ":userName\":\"flat\"}"),
           OUTHDR "\"userName\":\"flat\"}", "core URN-qualified userName");
    is_str(U(HDR "\"userName\":\"u\",\"" ENT "\":null,"
             "\"urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:USER\":"
             "{\"department\":\"D\"}}"),
           OUTHDR "\"userName\":\"u\"}",
           "exact block key (null) wins over another-case key");
    is_str(U(HDR "\"userName\":\"u\","
             "\"urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:USER\":"
             "{\"DEPARTMENT\":\"D\"}}"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u\","
           "\"" ENT "\":{\"department\":\"D\"}}",
           "block URN in another case, canonical output");

    /* types */
    is_str(U(HDR "\"userName\":\"u\",\"x509Certificates\":"
             "[{\"value\":\"TUlJREFU\"}],\"profileUrl\":\"https://x/u\"}"),
           OUTHDR "\"userName\":\"u\",\"profileUrl\":\"https://x/u\","
           "\"x509Certificates\":[{\"value\":\"TUlJREFU\"}]}",
           "binary and reference strings");

    /* multi-valued order preserved, sub-attributes in schema order */
    is_str(U(HDR "\"userName\":\"u\",\"phoneNumbers\":["
             "{\"type\":\"work\",\"value\":\"1\"},"
             "{\"value\":\"2\",\"type\":\"mobile\",\"primary\":false}],"
             "\"addresses\":[{\"country\":\"US\",\"type\":\"work\","
             "\"streetAddress\":\"1 Main\",\"primary\":\"true\"}]}"),
           OUTHDR "\"userName\":\"u\",\"phoneNumbers\":["
           "{\"value\":\"1\",\"type\":\"work\"},"
           "{\"value\":\"2\",\"type\":\"mobile\",\"primary\":false}],"
           "\"addresses\":[{\"streetAddress\":\"1 Main\",\"country\":\"US\","
           "\"type\":\"work\",\"primary\":true}]}",
           "multi-valued order kept, sub-attributes in schema order");

    /* canonicalValues not enforced */
    is_str(U(HDR "\"userName\":\"u\",\"emails\":[{\"value\":\"a\","
             "\"type\":\"personal\"}]}"),
           OUTHDR "\"userName\":\"u\",\"emails\":[{\"value\":\"a\","
           "\"type\":\"personal\"}]}", "non-canonical type kept");

    /* stored mode: no schemas needed, id/meta dropped */
    is_str(S("{\"id\":\"abc\",\"userName\":\"u\",\"meta\":{\"resourceType\":"
             "\"User\",\"created\":\"2020-01-01T00:00:00Z\"},"
             "\"" ENT "\":{\"manager\":{\"value\":\"m\"}}}"),
           "{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u\","
           "\"" ENT "\":{\"manager\":{\"value\":\"m\"}}}",
           "stored: rebuilt schemas, id/meta dropped");
    is_str(S("{\"schemas\":[\"" CU "\",\"" ENT "\"],\"userName\":\"u\","
             "\"" ENT "\":{}}"),
           OUTHDR "\"userName\":\"u\"}",
           "stored: empty block drops its URN from schemas");
    is_str(S("{\"schemas\":[],\"displayName\":\"x\"}"),
           "ERR 400 mutability: attribute \"userName\" is required: it "
           "cannot be removed or left without a value",
           "stored: userName still required (mutability, RFC 7644 "
           "3.5.2.2)");
    is_str(norm(user, SCIM_INPUT_REPLACE, "{\"userName\":\"u\"}"),
           "ERR 400 invalidSyntax: \"schemas\" must list \"" CU "\"",
           "replace checks schemas");

    /* groups: members */
    is_str(G("{\"schemas\":[\"" CG "\"],\"displayName\":\"g\","
             "\"members\":[{\"$ref\":null,\"value\":\"u1\"},"
             "{\"value\":\"g2\",\"type\":\"group\",\"display\":\"G2\"},"
             "{\"value\":\"g3\",\"$ref\":\"https://x/Groups/g3\"},"
             "{\"value\":\"u1\",\"type\":\"User\"},null]}"),
           "{\"schemas\":[\"" CG "\"],\"displayName\":\"g\","
           "\"members\":[{\"value\":\"u1\",\"type\":\"User\"},"
           "{\"value\":\"g2\",\"type\":\"Group\"},"
           "{\"value\":\"g3\",\"type\":\"Group\"}]}",
           "members normalized, typed, deduplicated");
    is_str(G("{\"schemas\":[\"" CG "\"],\"displayName\":\"g\","
             "\"members\":[]}"),
           "{\"schemas\":[\"" CG "\"],\"displayName\":\"g\","
           "\"members\":[]}", "members [] kept");
    is_str(G("{\"schemas\":[\"" CG "\"],\"displayName\":\"g\","
             "\"members\":[{\"display\":\"x\"}]}"),
           "ERR 400 invalidValue: every element of \"members\" needs "
           "\"value\", a non-empty string", "member without value");
    is_str(G("{\"schemas\":[\"" CG "\"],\"displayName\":\"g\","
             "\"members\":[{\"value\":\"x\",\"type\":\"Device\"}]}"),
           "ERR 400 invalidValue: \"members.type\" must be \"User\" or "
           "\"Group\"", "member of unknown type");
    is_str(G("{\"schemas\":[\"" CG "\"],\"displayName\":\"g\","
             "\"members\":{\"value\":\"u9\"}}"),
           "{\"schemas\":[\"" CG "\"],\"displayName\":\"g\","
           "\"members\":[{\"value\":\"u9\",\"type\":\"User\"}]}",
           "single member wrapped");
    is_str(G("{\"schemas\":[\"" CG "\"],\"displayName\":\"g\","
             "\"members\":[\"u9\"]}"),
           "ERR 400 invalidValue: attribute \"members\" must be an array of "
           "{\"value\": id} objects", "member as a bare string");
}


static void
test_global_relay(scim_registry_t *reg)
{
    int      i;
    char     body[6000], want[6000], *p, *q;
    json_t  *doc;

    doc = json_load_file("conf-examples/global-relay/"
                         "globalrelay-extension.json", 0, NULL);
    ok(doc != NULL, "Global Relay extension file loads");
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0,
           "Global Relay extension added");
    json_decref(doc);

    /* the whole Global Relay attribute table, in table order (which is not
       the schema order), as Entra ID would send it */

    p = body;
    p += sprintf(p,
        "{\"schemas\":[\"" CU "\",\"" ENT "\"],"
        "\"userName\":\"jdoe@contoso.com\",\"active\":\"True\","
        "\"displayName\":\"John Doe\",\"title\":\"Engineer\","
        "\"emails\":[{\"type\":\"work\",\"value\":\"jdoe@contoso.com\","
        "\"primary\":true},{\"type\":\"home\",\"value\":\"j@home.com\"},"
        "{\"type\":\"other\",\"value\":\"j@other.com\"}],"
        "\"preferredLanguage\":\"en-US\","
        "\"name\":{\"givenName\":\"John\",\"familyName\":\"Doe\","
        "\"formatted\":\"John Doe\",\"honorificPrefix\":\"Mr\","
        "\"honorificSuffix\":\"Jr\"},"
        "\"addresses\":[{\"type\":\"work\",\"formatted\":\"1 Way\","
        "\"streetAddress\":\"1 Way\",\"locality\":\"Redmond\","
        "\"region\":\"WA\",\"postalCode\":\"98052\",\"country\":\"US\"},"
        "{\"type\":\"other\",\"formatted\":\"2 Way\","
        "\"streetAddress\":\"2 Way\",\"locality\":\"L\",\"region\":\"R\","
        "\"postalCode\":\"P\",\"country\":\"C\"},"
        "{\"type\":\"home\",\"streetAddress\":\"3 Way\",\"locality\":\"L\","
        "\"region\":\"R\",\"postalCode\":\"P\",\"country\":\"C\","
        "\"formatted\":\"3 Way\"}],"
        "\"phoneNumbers\":[{\"type\":\"work\",\"value\":\"1\"},"
        "{\"type\":\"mobile\",\"value\":\"2\"},{\"type\":\"fax\","
        "\"value\":\"3\"},{\"type\":\"home\",\"value\":\"4\"},"
        "{\"type\":\"other\",\"value\":\"5\"},{\"type\":\"pager\","
        "\"value\":\"6\"}],"
        "\"externalId\":\"jdoe\",\"nickName\":\"Johnny\","
        "\"userType\":\"Employee\",\"locale\":\"en-US\","
        "\"timezone\":\"America/Los_Angeles\","
        "\"roles\":[{\"primary\":\"True\",\"display\":\"Admin\","
        "\"type\":\"WindowsAzureActiveDirectoryRole\",\"value\":\"admin\"}],"
        "\"" ENT "\":{\"employeeNumber\":\"42\",\"costCenter\":\"CC\","
        "\"organization\":\"Org\",\"division\":\"Div\","
        "\"department\":\"Dep\",\"manager\":{\"value\":\"mgr-1\"}},"
        "\"" GR "\":{\"proxyAddresses\":\"SMTP:jdoe@contoso.com\"");

    for (i = 1; i <= 15; i++) {
        p += sprintf(p, ",\"extensionAttribute%d\":\"ea%d\"", i, i);
    }

    p += sprintf(p, "}}");

    q = want;
    q += sprintf(q,
        "{\"schemas\":[\"" CU "\",\"" ENT "\",\"" GR "\"],"
        "\"externalId\":\"jdoe\","
        "\"userName\":\"jdoe@contoso.com\","
        "\"name\":{\"formatted\":\"John Doe\",\"familyName\":\"Doe\","
        "\"givenName\":\"John\",\"honorificPrefix\":\"Mr\","
        "\"honorificSuffix\":\"Jr\"},"
        "\"displayName\":\"John Doe\",\"nickName\":\"Johnny\","
        "\"title\":\"Engineer\",\"userType\":\"Employee\","
        "\"preferredLanguage\":\"en-US\",\"locale\":\"en-US\","
        "\"timezone\":\"America/Los_Angeles\",\"active\":true,"
        "\"emails\":[{\"value\":\"jdoe@contoso.com\",\"type\":\"work\","
        "\"primary\":true},{\"value\":\"j@home.com\",\"type\":\"home\"},"
        "{\"value\":\"j@other.com\",\"type\":\"other\"}],"
        "\"phoneNumbers\":[{\"value\":\"1\",\"type\":\"work\"},"
        "{\"value\":\"2\",\"type\":\"mobile\"},{\"value\":\"3\","
        "\"type\":\"fax\"},{\"value\":\"4\",\"type\":\"home\"},"
        "{\"value\":\"5\",\"type\":\"other\"},{\"value\":\"6\","
        "\"type\":\"pager\"}],"
        "\"addresses\":[{\"formatted\":\"1 Way\",\"streetAddress\":\"1 Way\","
        "\"locality\":\"Redmond\",\"region\":\"WA\",\"postalCode\":\"98052\","
        "\"country\":\"US\",\"type\":\"work\"},"
        "{\"formatted\":\"2 Way\",\"streetAddress\":\"2 Way\","
        "\"locality\":\"L\",\"region\":\"R\",\"postalCode\":\"P\","
        "\"country\":\"C\",\"type\":\"other\"},"
        "{\"formatted\":\"3 Way\",\"streetAddress\":\"3 Way\","
        "\"locality\":\"L\",\"region\":\"R\",\"postalCode\":\"P\","
        "\"country\":\"C\",\"type\":\"home\"}],"
        "\"roles\":[{\"value\":\"admin\",\"display\":\"Admin\","
        "\"type\":\"WindowsAzureActiveDirectoryRole\",\"primary\":true}],"
        "\"" ENT "\":{\"employeeNumber\":\"42\",\"costCenter\":\"CC\","
        "\"organization\":\"Org\",\"division\":\"Div\","
        "\"department\":\"Dep\",\"manager\":{\"value\":\"mgr-1\"}},"
        "\"" GR "\":{\"proxyAddresses\":\"SMTP:jdoe@contoso.com\"");

    for (i = 1; i <= 15; i++) {
        q += sprintf(q, ",\"extensionAttribute%d\":\"ea%d\"", i, i);
    }

    q += sprintf(q, "}}");

    is_str(U(body), want, "Global Relay table round-trips");

    /* the stored form normalizes to itself */
    is_str(S(want), want, "stored Global Relay doc is a fixed point");

    /* Entra does not list the custom URN in schemas (CAA) */
    is_str(U(HDR "\"userName\":\"u\",\"" GR "\":"
             "{\"ExtensionAttribute3\":\"x\",\"unknown\":\"y\"}}"),
           "{\"schemas\":[\"" CU "\",\"" GR "\"],\"userName\":\"u\","
           "\"" GR "\":{\"extensionAttribute3\":\"x\"}}",
           "undeclared custom block accepted, unknown attr dropped");
    is_str(U(HDR "\"userName\":\"u\",\"" GR "\":"
             "{\"proxyAddresses\":[\"SMTP:a\",\"smtp:b\"]}}"),
           "ERR 400 invalidValue: attribute \"" GR ":proxyAddresses\" must "
           "be a string", "proxyAddresses is single-valued");
    is_str(U(HDR "\"userName\":\"u\",\"" GR ":extensionAttribute1\":\"f\"}"),
           "{\"schemas\":[\"" CU "\",\"" GR "\"],\"userName\":\"u\","
           "\"" GR "\":{\"extensionAttribute1\":\"f\"}}",
           "flat custom extension key");
}


static void
test_extension_types(scim_registry_t *reg)
{
    json_t  *doc;

    doc = json_loads("{\"id\":\"urn:example:t\",\"attributes\":["
        "{\"name\":\"n\",\"type\":\"integer\"},"
        "{\"name\":\"d\",\"type\":\"decimal\"},"
        "{\"name\":\"t\",\"type\":\"dateTime\"},"
        "{\"name\":\"tags\",\"multiValued\":true},"
        "{\"name\":\"flags\",\"type\":\"boolean\",\"multiValued\":true},"
        "{\"name\":\"ro\",\"mutability\":\"readOnly\"},"
        "{\"name\":\"req\",\"required\":true},"
        "{\"name\":\"c\",\"type\":\"complex\",\"subAttributes\":["
        "{\"name\":\"k\",\"required\":true},{\"name\":\"v\"}]}]}",
        0, NULL);
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0,
           "test extension added (%s)", err.detail);
    json_decref(doc);

#define X(body)  U(HDR "\"userName\":\"u\",\"urn:example:t\":" body "}")
#define XOK(body)                                                            \
    "{\"schemas\":[\"" CU "\",\"urn:example:t\"],\"userName\":\"u\","        \
    "\"urn:example:t\":" body "}"

    is_str(X("{\"req\":\"r\",\"n\":5,\"d\":1.5,"
             "\"t\":\"2015-10-10T14:38:21.123+02:00\"}"),
           XOK("{\"n\":5,\"d\":1.5,\"t\":\"2015-10-10T14:38:21.123+02:00\","
               "\"req\":\"r\"}"), "integer, decimal, dateTime");
    is_str(X("{\"req\":\"r\",\"d\":2}"), XOK("{\"d\":2,\"req\":\"r\"}"),
           "decimal accepts an integer");
    is_str(X("{\"req\":\"r\",\"n\":5.5}"),
           "ERR 400 invalidValue: attribute \"urn:example:t:n\" must be an "
           "integer", "integer refuses a real");
    is_str(X("{\"req\":\"r\",\"n\":\"5\"}"),
           "ERR 400 invalidValue: attribute \"urn:example:t:n\" must be an "
           "integer", "integer refuses a string");
    is_str(X("{\"req\":\"r\",\"d\":\"1.5\"}"),
           "ERR 400 invalidValue: attribute \"urn:example:t:d\" must be a "
           "number", "decimal refuses a string");
    is_str(X("{\"req\":\"r\",\"t\":\"2015-13-10T14:38:21Z\"}"),
           "ERR 400 invalidValue: attribute \"urn:example:t:t\" must be an "
           "xsd:dateTime string such as \"2024-01-31T12:00:00Z\"",
           "bad month");
    is_str(X("{\"req\":\"r\",\"tags\":\"one\"}"),
           XOK("{\"tags\":[\"one\"],\"req\":\"r\"}"),
           "multi-valued primitive scalar wrapped");
    is_str(X("{\"req\":\"r\",\"tags\":[\"a\",null,\"b\"],"
             "\"flags\":[\"True\",false]}"),
           XOK("{\"tags\":[\"a\",\"b\"],\"flags\":[true,false],"
               "\"req\":\"r\"}"), "multi-valued primitives");
    is_str(X("{\"req\":\"r\",\"tags\":[1]}"),
           "ERR 400 invalidValue: attribute \"urn:example:t:tags\" must be a "
           "string", "multi-valued element type");
    is_str(X("{\"req\":\"r\",\"ro\":\"x\"}"), XOK("{\"req\":\"r\"}"),
           "readOnly extension attribute dropped");
    is_str(X("{\"n\":1}"),
           "ERR 400 invalidValue: attribute \"urn:example:t:req\" is "
           "required", "required extension attribute");
    is_str(U(HDR "\"userName\":\"u\"}"), OUTHDR "\"userName\":\"u\"}",
           "extension required attrs only checked when block given");
    is_str(X("{\"req\":\"r\",\"c\":{\"v\":\"x\"}}"),
           "ERR 400 invalidValue: attribute \"urn:example:t:c.k\" is "
           "required", "required sub-attribute");
    is_str(X("{\"req\":\"r\",\"c\":{\"K\":\"k\",\"v\":\"x\"}}"),
           XOK("{\"req\":\"r\",\"c\":{\"k\":\"k\",\"v\":\"x\"}}"),
           "complex with required sub");

#undef X
#undef XOK
}


static void
test_datetime(void)
{
    int64_t  sec;
    long     nsec;

    struct {
        const char  *s;
        int          rc;
        int64_t      sec;
        long         nsec;
    } t[] = {
        { "1970-01-01T00:00:00Z", 0, 0, 0 },
        { "1970-01-01T00:00:00", 0, 0, 0 },
        { "2015-10-10T14:38:21Z", 0, 1444487901, 0 },
        { "2015-10-10T16:38:21+02:00", 0, 1444487901, 0 },
        { "2015-10-10T09:38:21-05:00", 0, 1444487901, 0 },
        { "2011-08-01T21:32:44.882Z", 0, 1312234364, 882000000 },
        { "2011-08-01T21:32:44.1234567891Z", 0, 1312234364, 123456789 },
        { "2000-02-29T00:00:00Z", 0, 951782400, 0 },
        { "1969-12-31T23:59:59Z", 0, -1, 0 },
        { "2024-01-01T24:00:00Z", 0, 1704153600, 0 },
        { "1900-02-29T00:00:00Z", -1, 0, 0 },
        { "2023-02-29T00:00:00Z", -1, 0, 0 },
        { "2015-10-10 14:38:21Z", -1, 0, 0 },
        { "2015-10-10T14:38:60Z", -1, 0, 0 },
        { "2015-10-10T24:00:01Z", -1, 0, 0 },
        { "2015-10-10T14:38:21.Z", -1, 0, 0 },
        { "2015-10-10T14:38:21+2:00", -1, 0, 0 },
        { "2015-10-10T14:38:21+15:00", -1, 0, 0 },
        { "2015-10-10T14:38:21Zjunk", -1, 0, 0 },
        { "2015-10-10", -1, 0, 0 },
        { "0000-01-01T00:00:00Z", -1, 0, 0 },
        { "", -1, 0, 0 },
    };

    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        sec = -12345;
        nsec = -1;

        is_int(scim_datetime_parse(t[i].s, strlen(t[i].s), &sec, &nsec),
               t[i].rc, "dateTime '%s' %s", t[i].s,
               t[i].rc ? "refused" : "accepted");

        if (t[i].rc == 0) {
            is_int(sec, t[i].sec, "'%s' seconds", t[i].s);
            is_int(nsec, t[i].nsec, "'%s' nanoseconds", t[i].s);
        }
    }

    is_int(scim_datetime_parse("2015-10-10T14:38:21Z", 19, NULL, NULL), 0,
           "len honoured (no zone)");
    is_int(scim_datetime_parse(NULL, 0, NULL, NULL), -1, "NULL refused");
}


static void
test_utf8(void)
{
    char    *f;
    size_t   n;

    ok(scim_utf8_valid("abc", 3), "ascii valid");
    ok(scim_utf8_valid("", 0), "empty valid");
    ok(scim_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
       "2, 3, 4-byte sequences valid");
    ok(!scim_utf8_valid("\xc3", 1), "truncated invalid");
    ok(!scim_utf8_valid("\xc0\xaf", 2), "overlong invalid");
    ok(!scim_utf8_valid("\xed\xa0\x80", 3), "surrogate invalid");
    ok(!scim_utf8_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF invalid");
    ok(!scim_utf8_valid("\xff", 1), "0xff invalid");
    ok(scim_utf8_valid("a\0b", 3), "NUL is valid UTF-8");

    f = scim_casefold("BJensen@Example.COM", 19, &n);
    is_str(f, "bjensen@example.com", "ASCII fold");
    is_int(n, 19, "ASCII fold length");
    free(f);

    f = scim_casefold("\xc3\x89MILE \xc3\x98ST\xc3\x9e \xc3\x97", 16, &n);
    is_str(f, "\xc3\xa9mile \xc3\xb8st\xc3\xbe \xc3\x97",
           "Latin-1 fold (x sign kept)");
    free(f);

    /* Ł -> ł, Ÿ -> ÿ, ſ -> s, Ĳ -> ĳ, Ź -> ź */
    f = scim_casefold("\xc5\x81\xc5\xb8\xc5\xbf\xc4\xb2\xc5\xb9", 10, &n);
    is_str(f, "\xc5\x82\xc3\xbfs\xc4\xb3\xc5\xba", "Latin Extended-A fold");
    is_int(n, 9, "long s shrinks");
    free(f);

    /* ΣΊΣΥΦΟΣ -> σίσυφοσ, final sigma ς -> σ */
    f = scim_casefold("\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f"
                      "\xcf\x82", 14, NULL);
    is_str(f, "\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x83",
           "Greek fold");
    free(f);

    /* ЁЖИК Ѣ -> ёжик ѣ */
    f = scim_casefold("\xd0\x81\xd0\x96\xd0\x98\xd0\x9a \xd1\xa2", 11, NULL);
    is_str(f, "\xd1\x91\xd0\xb6\xd0\xb8\xd0\xba \xd1\xa3", "Cyrillic fold");
    free(f);

    f = scim_casefold("A\xff" "B\xc3", 4, &n);
    ok(f != NULL && n == 4 && memcmp(f, "a\xff" "b\xc3", 4) == 0,
       "invalid bytes copied unchanged");
    free(f);

    f = scim_casefold("", 0, &n);
    ok(f != NULL && n == 0 && f[0] == '\0', "empty fold");
    free(f);

    f = scim_casefold("\xe2\x82\xac\xf0\x9f\x98\x80", 7, &n);
    ok(f != NULL && n == 7
       && memcmp(f, "\xe2\x82\xac\xf0\x9f\x98\x80", 7) == 0,
       "other characters unchanged");
    free(f);
}


int
main(void)
{
    json_t           *j;
    scim_registry_t  *reg;

    reg = scim_registry_create(&err);
    ok(reg != NULL, "registry");
    if (reg == NULL) {
        return done_testing();
    }

    user = scim_registry_user(reg);
    group = scim_registry_group(reg);

    test_entra_create();
    test_errors();
    test_shapes();
    test_global_relay(reg);
    test_extension_types(reg);
    test_datetime();
    test_utf8();

    /* hostile calls */
    ok(scim_resource_normalize(NULL, NULL, SCIM_INPUT_CREATE, &err) == NULL,
       "NULL rt");
    ok(scim_resource_normalize(user, NULL, SCIM_INPUT_CREATE, &err) == NULL
       && err.status == 400, "NULL body is a 400");
    j = json_string("x");
    ok(scim_resource_normalize(user, j, SCIM_INPUT_STORED, &err) == NULL
       && err.status == 400, "string body is a 400");
    json_decref(j);

    scim_registry_free(reg);

    return done_testing();
}
