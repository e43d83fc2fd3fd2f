
/*
 * Unit tests: validation from the schemas (RFC 7643 2.2-2.4, RFC 7644
 * 3.5.2): canonicalValues, at most one "primary", required attributes
 * and sub-attributes (and their removal by PATCH), immutable attributes
 * (scim_resource_check_immutable()).
 *
 * JSON in this file is written with ' for " (see J()).
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "tap.h"


#define CU   "urn:ietf:params:scim:schemas:core:2.0:User"
#define CG   "urn:ietf:params:scim:schemas:core:2.0:Group"
#define XV   "urn:example:v"
#define XR   "urn:example:r"
#define OPS  "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp']," \
             "'Operations':["


static const scim_resource_type_t  *user, *group;
static scim_error_t                 err;
static char                         out[8192];


/* parses s with ' as " */

static json_t *
J(const char *s)
{
    char          *t, *p;
    json_t        *j;
    json_error_t   e;

    t = strdup(s);
    if (t == NULL) {
        return NULL;
    }

    for (p = t; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }

    j = json_loads(t, 0, &e);
    if (j == NULL) {
        printf("# bad test JSON: %s at %d: %s\n", e.text, e.position, t);
    }

    free(t);

    return j;
}


/* s with ' as ", for expected strings */

static const char *
Q(const char *s)
{
    static char  buf[4][4096];
    static int   n;
    char        *b, *p;

    b = buf[n++ % 4];
    snprintf(b, sizeof(buf[0]), "%s", s);

    for (p = b; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }

    return b;
}


static const char *
result(json_t *r)
{
    char  *s;

    if (r == NULL) {
        snprintf(out, sizeof(out), "ERR %d %s: %s", err.status,
                 err.scim_type ? err.scim_type : "-", err.detail);
        return out;
    }

    s = json_dumps(r, JSON_COMPACT);
    snprintf(out, sizeof(out), "%s", s ? s : "(dump failed)");
    free(s);

    return out;
}


static const char *
norm(const scim_resource_type_t *rt, scim_input_mode_t mode,
    const char *text)
{
    json_t  *in, *r;

    in = J(text);
    if (in == NULL) {
        return "BAD TEST JSON";
    }

    memset(&err, 0, sizeof(err));
    r = scim_resource_normalize(rt, in, mode, &err);
    json_decref(in);

    result(r);
    json_decref(r);

    return out;
}


/* scim_resource_check_immutable(): "OK" or "ERR <status> <type>: ..." */

static const char *
imm(const scim_resource_type_t *rt, const char *old_s, const char *new_s)
{
    int      rc;
    json_t  *o, *n;

    o = (old_s != NULL) ? J(old_s) : NULL;
    n = J(new_s);

    memset(&err, 0, sizeof(err));
    rc = scim_resource_check_immutable(rt, o, n, &err);

    json_decref(o);
    json_decref(n);

    if (rc == 0) {
        return "OK";
    }

    result(NULL);

    return out;
}


/*
 * What the glue does for a PATCH: apply to a copy of the stored
 * document, normalize (STORED), check immutables; "OK <doc>" or "ERR ..."
 */

static const char *
patch(const scim_resource_type_t *rt, const char *old_s, const char *body_s)
{
    json_t                *old, *work, *body, *r;
    scim_members_delta_t   delta;

    old = J(old_s);
    body = J(body_s);
    work = json_deep_copy(old);
    r = NULL;

    memset(&err, 0, sizeof(err));
    memset(&delta, 0, sizeof(delta));

    if (scim_patch_apply(rt, work, body, rt == group ? &delta : NULL, &err)
        == 0)
    {
        r = scim_resource_normalize(rt, work, SCIM_INPUT_STORED, &err);

        if (r != NULL
            && scim_resource_check_immutable(rt, old, r, &err) != 0)
        {
            json_decref(r);
            r = NULL;
        }
    }

    json_decref(delta.add);
    json_decref(delta.remove);
    json_decref(old);
    json_decref(work);
    json_decref(body);

    if (r == NULL) {
        return result(NULL);
    }

    result(r);
    json_decref(r);

    memmove(out + 3, out, strlen(out) + 1);
    memcpy(out, "OK ", 3);

    return out;
}


#define U(body)     norm(user, SCIM_INPUT_CREATE, "{'schemas':['" CU "'],"  \
                         "'userName':'u'," body "}")
#define US(body)    norm(user, SCIM_INPUT_STORED, "{'userName':'u'," body "}")
#define OUT(body)   Q("{'schemas':['" CU "']," "'userName':'u'," body "}")
#define XOUT(body)  Q("{'schemas':['" CU "','" XV "'],'userName':'u',"      \
                      "'" XV "':" body "}")


static void
test_extension(scim_registry_t *reg)
{
    int      i;
    char     buf[4096], *p;
    json_t  *doc;

    doc = J("{'id':'" XV "','name':'V','attributes':["
            "{'name':'level','canonicalValues':['Gold','Silver',"
            "'\xc3\x89" "clair']},"
            "{'name':'code','caseExact':true,"
            "'canonicalValues':['A1','B2']},"
            "{'name':'tags','multiValued':true,"
            "'canonicalValues':['red','green']},"
            "{'name':'badge','type':'complex','multiValued':true,"
            "'subAttributes':["
            "{'name':'value','required':true},"
            "{'name':'type','canonicalValues':['x','y']},"
            "{'name':'primary','type':'boolean'}]},"
            "{'name':'free','canonicalValues':[]},"
            "{'name':'empl','mutability':'immutable'},"
            "{'name':'serial','mutability':'immutable','caseExact':true},"
            "{'name':'hired','type':'dateTime','mutability':'immutable'},"
            "{'name':'rank','type':'decimal','mutability':'immutable'},"
            "{'name':'keys','multiValued':true,'mutability':'immutable'},"
            "{'name':'card','type':'complex','subAttributes':["
            "{'name':'number','mutability':'immutable'},"
            "{'name':'label'}]},"
            "{'name':'pins','type':'complex','multiValued':true,"
            "'subAttributes':["
            "{'name':'value','mutability':'immutable'},"
            "{'name':'note'}]},"
            "{'name':'loc','type':'complex','subAttributes':["
            "{'name':'city','required':true},{'name':'zip'}]}]}");
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0,
           "validation extension added (%s)", err.detail);
    json_decref(doc);

    doc = J("{'id':'" XR "','name':'R','attributes':["
            "{'name':'must','multiValued':true,'required':true},"
            "{'name':'other'}]}");
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0,
           "required-list extension added (%s)", err.detail);
    json_decref(doc);

    /* an extension with a very long canonical list */

    p = buf;
    p += sprintf(p, "{'id':'urn:example:long','attributes':[{'name':'l',"
                 "'canonicalValues':[");
    for (i = 0; i < 60; i++) {
        p += sprintf(p, "%s'value-number-%02d'", i ? "," : "", i);
    }
    sprintf(p, "]}]}");

    doc = J(buf);
    is_int(scim_registry_add_user_extension(reg, doc, &err), 0,
           "long-list extension added (%s)", err.detail);
    json_decref(doc);
}


static void
test_canonical(void)
{
    const char  *r;

    /* extension attributes that list canonicalValues: enforced */

    is_str(U("'" XV "':{'level':'gold'}"), XOUT("{'level':'Gold'}"),
           "canonical value in another case stored in the schema's case");
    is_str(U("'" XV "':{'level':'SILVER'}"), XOUT("{'level':'Silver'}"),
           "upper case matched");
    is_str(U("'" XV "':{'level':'Silver'}"), XOUT("{'level':'Silver'}"),
           "exact spelling kept");
    is_str(U("'" XV "':{'level':'\xc3\xa9" "CLAIR'}"),
           XOUT("{'level':'\xc3\x89" "clair'}"),
           "non-ASCII case folding (\xc3\xa9" "CLAIR -> \xc3\x89" "clair)");
    is_str(U("'" XV "':{'level':'Platinum'}"),
           Q("ERR 400 invalidValue: attribute '" XV ":level' must be one "
             "of 'Gold', 'Silver', '\xc3\x89" "clair'"),
           "value outside canonicalValues refused, allowed values named");
    is_str(U("'" XV "':{'level':''}"),
           Q("ERR 400 invalidValue: attribute '" XV ":level' must be one "
             "of 'Gold', 'Silver', '\xc3\x89" "clair'"),
           "empty string is not a canonical value");
    is_str(U("'" XV "':{'level':'Gold '}"),
           Q("ERR 400 invalidValue: attribute '" XV ":level' must be one "
             "of 'Gold', 'Silver', '\xc3\x89" "clair'"),
           "no trimming");
    is_str(U("'" XV "':{'level':'Gol'}"),
           Q("ERR 400 invalidValue: attribute '" XV ":level' must be one "
             "of 'Gold', 'Silver', '\xc3\x89" "clair'"),
           "prefix is no match");
    is_str(U("'" XV ":level':'gold'"), XOUT("{'level':'Gold'}"),
           "flat URN-qualified key canonicalized too");

    /* caseExact */

    is_str(U("'" XV "':{'code':'B2'}"), XOUT("{'code':'B2'}"),
           "caseExact canonical value");
    is_str(U("'" XV "':{'code':'b2'}"),
           Q("ERR 400 invalidValue: attribute '" XV ":code' must be one of "
             "'A1', 'B2' (case-sensitive)"),
           "caseExact: other case refused");

    /* multi-valued primitives, complex sub-attributes */

    is_str(U("'" XV "':{'tags':['RED','green']}"),
           XOUT("{'tags':['red','green']}"), "each element canonicalized");
    is_str(U("'" XV "':{'tags':'Green'}"), XOUT("{'tags':['green']}"),
           "single value wrapped and canonicalized");
    is_str(U("'" XV "':{'tags':['red','blue']}"),
           Q("ERR 400 invalidValue: attribute '" XV ":tags' must be one of "
             "'red', 'green'"), "one bad element refuses the whole");
    is_str(U("'" XV "':{'badge':[{'value':'1','type':'Y'}]}"),
           XOUT("{'badge':[{'value':'1','type':'y'}]}"),
           "extension 'type' sub-attribute is enforced and canonicalized");
    is_str(U("'" XV "':{'badge':[{'value':'1','type':'z'}]}"),
           Q("ERR 400 invalidValue: attribute '" XV ":badge.type' must be "
             "one of 'x', 'y'"), "extension 'type' outside its list");
    is_str(U("'" XV "':{'free':'anything'}"), XOUT("{'free':'anything'}"),
           "empty canonicalValues: no constraint");

    /* the stored mode (after PATCH) enforces too */

    is_str(US("'" XV "':{'level':'x'}"),
           Q("ERR 400 invalidValue: attribute '" XV ":level' must be one "
             "of 'Gold', 'Silver', '\xc3\x89" "clair'"),
           "stored mode enforces canonicalValues");

    /* a long list is cut, the detail stays whole */

    r = U("'urn:example:long':{'l':'nope'}");
    ok(strncmp(r, Q("ERR 400 invalidValue: attribute 'urn:example:long:l' "
                    "must be one of 'value-number-00', 'value-number-01'"),
               100) == 0, "long list: starts with the values");
    ok(strlen(r) > 5 && strcmp(r + strlen(r) - 5, ", ...") == 0,
       "long list: ends with ', ...' (%s)", r);
    is_str(U("'urn:example:long':{'l':'VALUE-NUMBER-59'}"),
           Q("{'schemas':['" CU "','urn:example:long'],'userName':'u',"
             "'urn:example:long':{'l':'value-number-59'}}"),
           "long list: last value matched");

    /* the RFC 7643 schemas: "type" values are suggestions (Entra) */

    is_str(U("'emails':[{'value':'a@b','type':'personal'}]"),
           OUT("'emails':[{'value':'a@b','type':'personal'}]"),
           "core emails.type: other value kept");
    is_str(U("'emails':[{'value':'a@b','type':'WORK'}]"),
           OUT("'emails':[{'value':'a@b','type':'WORK'}]"),
           "core emails.type: kept as sent");
    is_str(U("'phoneNumbers':[{'value':'1','type':'Cell'}],"
             "'ims':[{'value':'i','type':'Teams'}],"
             "'photos':[{'value':'https://p/1','type':'avatar'}],"
             "'addresses':[{'locality':'L','type':'billing'}],"
             "'entitlements':[{'value':'e','type':'license'}],"
             "'roles':[{'value':'r','type':"
             "'WindowsAzureActiveDirectoryRole'}],"
             "'x509Certificates':[{'value':'Y2VydA==','type':'signing'}]"),
           OUT("'phoneNumbers':[{'value':'1','type':'Cell'}],"
               "'ims':[{'value':'i','type':'Teams'}],"
               "'photos':[{'value':'https://p/1','type':'avatar'}],"
               "'addresses':[{'locality':'L','type':'billing'}],"
               "'entitlements':[{'value':'e','type':'license'}],"
               "'roles':[{'value':'r','type':"
               "'WindowsAzureActiveDirectoryRole'}],"
               "'x509Certificates':[{'value':'Y2VydA==','type':'signing'}]"),
           "every core 'type' sub-attribute accepts custom values");

    /* group members keep their own strict rule */

    is_str(norm(group, SCIM_INPUT_CREATE, "{'schemas':['" CG "'],"
                "'displayName':'g','members':[{'value':'1','type':'Role'}]}"),
           Q("ERR 400 invalidValue: 'members.type' must be 'User' or "
             "'Group'"), "members.type stays strict");
}


static void
test_primary(void)
{
    is_str(U("'emails':[{'value':'a','primary':true},"
             "{'value':'b','primary':true}]"),
           Q("ERR 400 invalidValue: attribute 'emails' has 2 values with "
             "'primary': true; at most one may be primary"),
           "two primary emails refused");
    is_str(U("'emails':[{'value':'a','primary':'True'},"
             "{'value':'b','primary':'true'},{'value':'c','primary':true}]"),
           Q("ERR 400 invalidValue: attribute 'emails' has 3 values with "
             "'primary': true; at most one may be primary"),
           "\"True\" strings count once coerced");
    is_str(U("'emails':[{'value':'a','primary':true},"
             "{'value':'b','primary':false},{'value':'c'}]"),
           OUT("'emails':[{'value':'a','primary':true},"
               "{'value':'b','primary':false},{'value':'c'}]"),
           "one primary, one false, one unset: fine");
    is_str(U("'emails':[{'value':'a','primary':false},"
             "{'value':'b','primary':false}]"),
           OUT("'emails':[{'value':'a','primary':false},"
               "{'value':'b','primary':false}]"),
           "no primary at all: fine");
    is_str(U("'roles':[{'value':'Admin','primary':'False',"
             "'type':'WindowsAzureActiveDirectoryRole'},"
             "{'value':'User','primary':'False',"
             "'type':'WindowsAzureActiveDirectoryRole'}]"),
           OUT("'roles':[{'value':'Admin',"
               "'type':'WindowsAzureActiveDirectoryRole','primary':false},"
               "{'value':'User',"
               "'type':'WindowsAzureActiveDirectoryRole','primary':false}]"),
           "Entra AppRoleAssignmentsComplex roles (primary False)");
    is_str(U("'phoneNumbers':[{'value':'1','primary':true}],"
             "'addresses':[{'locality':'L','primary':true}],"
             "'roles':[{'value':'r','primary':'True'}]"),
           OUT("'phoneNumbers':[{'value':'1','primary':true}],"
               "'addresses':[{'locality':'L','primary':true}],"
               "'roles':[{'value':'r','primary':true}]"),
           "one primary in each of several attributes");
    is_str(U("'addresses':[{'locality':'a','primary':true},"
             "{'locality':'b','primary':true}]"),
           Q("ERR 400 invalidValue: attribute 'addresses' has 2 values with "
             "'primary': true; at most one may be primary"),
           "two primary addresses refused");
    is_str(U("'" XV "':{'badge':[{'value':'1','primary':true},"
             "{'value':'2','primary':true}]}"),
           Q("ERR 400 invalidValue: attribute '" XV ":badge' has 2 values "
             "with 'primary': true; at most one may be primary"),
           "extension multi-valued attribute: attribute named with URN");
    is_str(US("'emails':[{'value':'a','primary':true},"
              "{'value':'b','primary':true}]"),
           Q("ERR 400 invalidValue: attribute 'emails' has 2 values with "
             "'primary': true; at most one may be primary"),
           "stored mode refuses two primaries too");

    /* PATCH adding a primary clears the other (RFC 7644 3.5.2) */

    is_str(patch(user, "{'schemas':['" CU "'],'userName':'u',"
                 "'emails':[{'value':'a','primary':true}]}",
                 OPS "{'op':'add','path':'emails','value':"
                 "[{'value':'b','primary':true}]}]}"),
           Q("OK {'schemas':['" CU "'],'userName':'u','emails':["
             "{'value':'a','primary':false},{'value':'b','primary':true}]}"),
           "PATCH add of a second primary leaves one primary");
}


static void
test_required(void)
{
    /* required sub-attributes of a present complex value */

    is_str(U("'" XV "':{'loc':{'zip':'1'}}"),
           Q("ERR 400 invalidValue: attribute '" XV ":loc.city' is "
             "required"), "singular complex: required sub missing");
    is_str(U("'" XV "':{'loc':{'city':'','zip':'1'}}"),
           Q("ERR 400 invalidValue: attribute '" XV ":loc.city' is "
             "required"), "singular complex: required sub empty");
    is_str(U("'" XV "':{'loc':{'CITY':'c'}}"), XOUT("{'loc':{'city':'c'}}"),
           "singular complex: required sub given (any case)");
    is_str(U("'" XV "':{'loc':{'zip':null}}"),
           Q("{'schemas':['" CU "'],'userName':'u'}"),
           "a complex value that is all null is absent: nothing required");
    is_str(U("'" XV "':{'badge':[{'value':'1'},{'type':'x'}]}"),
           Q("ERR 400 invalidValue: attribute '" XV ":badge.value' is "
             "required"), "multi-valued complex: required sub per element");
    is_str(US("'" XV "':{'loc':{'zip':'1'}}"),
           Q("ERR 400 mutability: attribute '" XV ":loc.city' is required: "
             "it cannot be removed or left without a value"),
           "stored mode: required sub missing is mutability");

    /* a required multi-valued attribute: [] is no value */

    is_str(U("'" XR "':{'must':['a']}"),
           Q("{'schemas':['" CU "','" XR "'],'userName':'u',"
             "'" XR "':{'must':['a']}}"), "required list given");
    is_str(U("'" XR "':{'must':[],'other':'o'}"),
           Q("ERR 400 invalidValue: attribute '" XR ":must' is required"),
           "required list empty");
    is_str(U("'" XR "':{'must':[null],'other':'o'}"),
           Q("ERR 400 invalidValue: attribute '" XR ":must' is required"),
           "required list of nulls");

    /* REPLACE (PUT) keeps invalidValue */

    is_str(norm(user, SCIM_INPUT_REPLACE, "{'schemas':['" CU "'],"
                "'displayName':'d'}"),
           "ERR 400 invalidValue: attribute \"userName\" is required",
           "PUT without userName: invalidValue");
    is_str(norm(group, SCIM_INPUT_STORED, "{'displayName':''}"),
           Q("ERR 400 mutability: attribute 'displayName' is required: it "
             "cannot be removed or left without a value"),
           "stored group without displayName: mutability");

    /* PATCH: RFC 7644 3.5.2.2, removing a required attribute */

    is_str(patch(user, "{'schemas':['" CU "'],'userName':'u',"
                 "'displayName':'d'}",
                 OPS "{'op':'remove','path':'userName'}]}"),
           Q("ERR 400 mutability: attribute 'userName' is required: it "
             "cannot be removed or left without a value"),
           "PATCH remove userName -> 400 mutability");
    is_str(patch(user, "{'schemas':['" CU "'],'userName':'u'}",
                 OPS "{'op':'replace','path':'userName','value':''}]}"),
           Q("ERR 400 mutability: attribute 'userName' is required: it "
             "cannot be removed or left without a value"),
           "PATCH replace userName with \"\" -> 400 mutability");
    is_str(patch(user, "{'schemas':['" CU "'],'userName':'u'}",
                 OPS "{'op':'replace','value':{'userName':null}}]}"),
           Q("ERR 400 mutability: attribute 'userName' is required: it "
             "cannot be removed or left without a value"),
           "PATCH replace userName with null -> 400 mutability");
    is_str(patch(group, "{'schemas':['" CG "'],'displayName':'g'}",
                 OPS "{'op':'remove','path':'displayName'}]}"),
           Q("ERR 400 mutability: attribute 'displayName' is required: it "
             "cannot be removed or left without a value"),
           "PATCH remove group displayName -> 400 mutability");
    is_str(patch(user, "{'schemas':['" CU "','" XV "'],'userName':'u',"
                 "'" XV "':{'loc':{'city':'c','zip':'1'}}}",
                 OPS "{'op':'remove','path':'" XV ":loc.city'}]}"),
           Q("ERR 400 mutability: attribute '" XV ":loc.city' is required: "
             "it cannot be removed or left without a value"),
           "PATCH remove a required sub-attribute -> 400 mutability");
    is_str(patch(user, "{'schemas':['" CU "','" XV "'],'userName':'u',"
                 "'" XV "':{'loc':{'city':'c','zip':'1'}}}",
                 OPS "{'op':'remove','path':'" XV ":loc'}]}"),
           Q("OK {'schemas':['" CU "'],'userName':'u'}"),
           "PATCH remove the whole optional complex value: fine");
    is_str(patch(user, "{'schemas':['" CU "','" XR "'],'userName':'u',"
                 "'" XR "':{'must':['a'],'other':'o'}}",
                 OPS "{'op':'remove','path':'" XR ":must'}]}"),
           Q("ERR 400 mutability: attribute '" XR ":must' is required: it "
             "cannot be removed or left without a value"),
           "PATCH remove a required extension list -> 400 mutability");
    is_str(patch(user, "{'schemas':['" CU "'],'userName':'u',"
                 "'displayName':'d'}",
                 OPS "{'op':'remove','path':'displayName'}]}"),
           Q("OK {'schemas':['" CU "'],'userName':'u'}"),
           "PATCH remove an optional attribute: fine");
}


#define IX(body)  "{'schemas':['" CU "','" XV "'],'userName':'u','" XV "':" \
                  body "}"
#define IMMERR(attr, what)                                                   \
    Q("ERR 400 mutability: attribute '" XV ":" attr "' is immutable: once " \
      "set, it cannot be " what)


static void
test_immutable(void)
{
    /* set once */

    is_str(imm(user, IX("{}"), IX("{'empl':'E1'}")), "OK",
           "immutable: set when unset (empty block)");
    is_str(imm(user, "{'schemas':['" CU "'],'userName':'u'}",
               IX("{'empl':'E1'}")), "OK",
           "immutable: set when the block was absent");
    is_str(imm(user, NULL, IX("{'empl':'E1'}")), "OK",
           "no old document: nothing to keep");
    is_str(imm(user, IX("{'empl':'E1'}"), IX("{'empl':'E1'}")), "OK",
           "immutable: same value");
    is_str(imm(user, IX("{'empl':'E1'}"), IX("{'empl':'e1'}")), "OK",
           "immutable, caseExact false: other case is the same value");
    is_str(imm(user, IX("{'empl':'E1'}"), IX("{'empl':'E2'}")),
           IMMERR("empl", "changed"), "immutable: changed");
    is_str(imm(user, IX("{'empl':'E1','level':'Gold'}"),
               IX("{'level':'Gold'}")),
           IMMERR("empl", "removed"), "immutable: removed from the block");
    is_str(imm(user, IX("{'empl':'E1'}"),
               "{'schemas':['" CU "'],'userName':'u'}"),
           IMMERR("empl", "removed"), "immutable: block removed");
    is_str(imm(user, IX("{'serial':'S1'}"), IX("{'serial':'S1'}")), "OK",
           "caseExact immutable: same");
    is_str(imm(user, IX("{'serial':'S1'}"), IX("{'serial':'s1'}")),
           IMMERR("serial", "changed"), "caseExact immutable: case differs");

    /* types */

    is_str(imm(user, IX("{'hired':'2015-10-10T14:38:21Z'}"),
               IX("{'hired':'2015-10-10T16:38:21+02:00'}")), "OK",
           "dateTime: the same instant");
    is_str(imm(user, IX("{'hired':'2015-10-10T14:38:21Z'}"),
               IX("{'hired':'2015-10-10T14:38:22Z'}")),
           IMMERR("hired", "changed"), "dateTime: another instant");
    is_str(imm(user, IX("{'rank':5}"), IX("{'rank':5.0}")), "OK",
           "decimal: 5 == 5.0");
    is_str(imm(user, IX("{'rank':5}"), IX("{'rank':5.5}")),
           IMMERR("rank", "changed"), "decimal: other number");
    is_str(imm(user, IX("{'keys':['a','b']}"), IX("{'keys':['b','A']}")),
           "OK", "multi-valued immutable: same values in any order/case");
    is_str(imm(user, IX("{'keys':['a','b']}"), IX("{'keys':['a']}")),
           IMMERR("keys", "changed"), "multi-valued immutable: one less");
    is_str(imm(user, IX("{'keys':['a','a']}"), IX("{'keys':['a','b']}")),
           IMMERR("keys", "changed"), "multi-valued immutable: multiset");
    is_str(imm(user, IX("{'keys':['a']}"), IX("{'keys':['a','b']}")),
           IMMERR("keys", "changed"), "multi-valued immutable: one more");
    is_str(imm(user, IX("{'keys':[]}"), IX("{'keys':['a']}")), "OK",
           "multi-valued immutable: [] is unset");

    /* sub-attributes of a singular complex attribute */

    is_str(imm(user, IX("{'card':{'number':'1','label':'a'}}"),
               IX("{'card':{'number':'1','label':'b'}}")), "OK",
           "complex: readWrite sub changes, immutable sub kept");
    is_str(imm(user, IX("{'card':{'number':'1','label':'a'}}"),
               IX("{'card':{'number':'2','label':'a'}}")),
           IMMERR("card.number", "changed"), "complex: immutable sub changed");
    is_str(imm(user, IX("{'card':{'number':'1'}}"), IX("{'empl':'x'}")),
           IMMERR("card.number", "removed"),
           "complex: value removed with its immutable sub");
    is_str(imm(user, IX("{'card':{'label':'a'}}"),
               IX("{'card':{'number':'9','label':'a'}}")), "OK",
           "complex: immutable sub set when unset");

    /* sub-attributes of multi-valued attributes: per element, unchecked */

    is_str(imm(user, IX("{'pins':[{'value':'1'},{'value':'2'}]}"),
               IX("{'pins':[{'value':'3','note':'n'}]}")), "OK",
           "multi-valued complex: elements may come and go");
    is_str(imm(group, "{'schemas':['" CG "'],'displayName':'g',"
               "'members':[{'value':'1','type':'User'}]}",
               "{'schemas':['" CG "'],'displayName':'h',"
               "'members':[{'value':'2','type':'Group'}]}"), "OK",
           "group members (immutable value/type per element) may change");

    /* the built-in schemas have no other immutable attribute */

    is_str(imm(user, "{'schemas':['" CU "'],'userName':'u','id':'1',"
               "'externalId':'e','name':{'givenName':'g'}}",
               "{'schemas':['" CU "'],'userName':'v','externalId':'f',"
               "'name':{'givenName':'h'}}"), "OK",
           "core User: nothing immutable");

    /* hostile calls */

    ok(scim_resource_check_immutable(NULL, NULL, NULL, &err) == -1
       && err.status == 500, "NULL rt");

    /* PATCH (the glue's order: apply, normalize, check) */

    is_str(patch(user, IX("{'card':{'number':'1','label':'a'}}"),
                 OPS "{'op':'replace','path':'" XV ":card.number',"
                 "'value':'2'}]}"),
           IMMERR("card.number", "changed"),
           "PATCH replace of an immutable sub-attribute");
    is_str(patch(user, IX("{'card':{'number':'1','label':'a'}}"),
                 OPS "{'op':'replace','path':'" XV ":card.label',"
                 "'value':'b'}]}"),
           Q("OK " IX("{'card':{'number':'1','label':'b'}}")),
           "PATCH replace of the readWrite sibling");
    /* (the PATCH engine may refuse these first, with its own words) */
    ok(strstr(patch(user, IX("{'empl':'E1'}"),
                    OPS "{'op':'replace','value':{'" XV ":empl':'E2'}}]}"),
              "ERR 400 mutability:") == out,
       "PATCH without path changing it -> 400 mutability");
    is_str(patch(user, IX("{'level':'Gold'}"),
                 OPS "{'op':'add','path':'" XV ":empl','value':'E1'}]}"),
           Q("OK " IX("{'level':'Gold','empl':'E1'}")),
           "PATCH add of an unset immutable attribute");
    is_str(patch(user, IX("{'empl':'E1','level':'Gold'}"),
                 OPS "{'op':'remove','path':'" XV "'}]}"),
           IMMERR("empl", "removed"),
           "PATCH removing the whole extension block");
    ok(strstr(patch(user, IX("{'empl':'E1','level':'Gold'}"),
                    OPS "{'op':'remove','path':'" XV ":empl'}]}"),
              "ERR 400 mutability:") == out,
       "PATCH remove of a set immutable attribute -> 400 mutability");
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

    test_extension(reg);
    test_canonical();
    test_primary();
    test_required();
    test_immutable();

    scim_registry_free(reg);

    return done_testing();
}
