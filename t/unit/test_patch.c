
/*
 * Unit tests of PATCH (RFC 7644 3.5.2): the RFC's examples, every Entra ID
 * form (default job and aadOptscim062020), group member deltas, errors.
 *
 * JSON in this file is written with ' for " (see J()); \\' stands for \".
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "tap.h"


#define ENT  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define OPS  "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp']," \
             "'Operations':["


static const scim_resource_type_t  *user, *group;


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


static int
same(json_t *got, const char *want_s)
{
    int      eq;
    char    *g, *w;
    json_t  *want;

    want = J(want_s);
    eq = (want != NULL && json_equal(got, want));

    if (!eq) {
        g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
        w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT
                             | JSON_ENCODE_ANY);
        printf("#   got: %s\n#  want: %s\n", g ? g : "NULL", w ? w : "NULL");
        free(g);
        free(w);
    }

    json_decref(want);

    return eq;
}


/* applies body to doc; checks the result (doc, or the error) */

static void
patch_ok(const scim_resource_type_t *rt, const char *doc_s,
    const char *body_s, const char *want_s, const char *name)
{
    int            rc;
    json_t        *doc, *body, *orig, *r;
    scim_error_t   err;

    memset(&err, 0, sizeof(err));
    doc = J(doc_s);
    orig = J(doc_s);
    body = J(body_s);

    rc = scim_patch_apply(rt, doc, body, NULL, &err);

    if (!ok(rc == 0 && same(doc, want_s), "%s", name) && rc != 0) {
        printf("#   error %d %s: %s\n", err.status,
               err.scim_type ? err.scim_type : "-", err.detail);
    }

    /* the same as a new document, the original left as it is */

    json_decref(doc);
    doc = J(doc_s);
    memset(&err, 0, sizeof(err));

    r = scim_patch_applied(rt, doc, body, NULL, &err);

    ok(r != NULL && same(r, want_s) && json_equal(doc, orig),
       "%s: scim_patch_applied, the document unchanged", name);

    json_decref(r);
    json_decref(doc);
    json_decref(orig);
    json_decref(body);
}


static void
patch_err(const scim_resource_type_t *rt, const char *doc_s,
    const char *body_s, int status, const char *type, const char *detail,
    const char *name)
{
    int                    rc;
    json_t                *doc, *body, *orig;
    scim_error_t           err;
    scim_members_delta_t   delta;

    memset(&err, 0, sizeof(err));
    memset(&delta, 0, sizeof(delta));
    doc = J(doc_s);
    orig = J(doc_s);
    body = J(body_s);

    rc = scim_patch_apply(rt, doc, body, rt == group ? &delta : NULL, &err);

    if (!ok(rc == -1 && err.status == status && err.scim_type != NULL
            && strcmp(err.scim_type, type) == 0, "%s: error", name))
    {
        printf("#   rc %d, %d %s: %s\n", rc, err.status,
               err.scim_type ? err.scim_type : "-", err.detail);
    }

    if (detail != NULL) {
        is_str(err.detail, detail, "%s: detail", name);
    }

    ok(json_equal(doc, orig), "%s: document unchanged", name);
    ok(delta.add == NULL && delta.remove == NULL && delta.clear == 0,
       "%s: delta unchanged", name);

    memset(&err, 0, sizeof(err));

    ok(scim_patch_applied(rt, doc, body, rt == group ? &delta : NULL, &err)
       == NULL && err.status == status && json_equal(doc, orig)
       && delta.add == NULL && delta.remove == NULL,
       "%s: scim_patch_applied fails the same", name);

    json_decref(doc);
    json_decref(orig);
    json_decref(body);
    json_decref(delta.add);
    json_decref(delta.remove);
}


/* a group PATCH: checks the document, then the delta */

static void
group_ok(const char *doc_s, const char *body_s, const char *want_doc,
    int clear, const char *want_add, const char *want_rm, const char *name)
{
    int                    rc;
    json_t                *doc, *body;
    scim_error_t           err;
    scim_members_delta_t   delta;

    memset(&err, 0, sizeof(err));
    memset(&delta, 0, sizeof(delta));
    doc = J(doc_s);
    body = J(body_s);

    rc = scim_patch_apply(group, doc, body, &delta, &err);

    if (!ok(rc == 0, "%s: applied", name)) {
        printf("#   error %d %s: %s\n", err.status,
               err.scim_type ? err.scim_type : "-", err.detail);
    }

    ok(same(doc, want_doc), "%s: document", name);
    is_int(delta.clear, clear, "%s: clear", name);
    ok(same(delta.add, want_add), "%s: add", name);
    ok(same(delta.remove, want_rm), "%s: remove", name);

    json_decref(doc);
    json_decref(body);
    json_decref(delta.add);
    json_decref(delta.remove);
}


static const char  babs[] =
    "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],"
    "'userName':'bjensen','externalId':'bj',"
    "'name':{'familyName':'Jensen','givenName':'Barbara'},"
    "'displayName':'Babs Jensen','active':true,"
    "'emails':[{'value':'bjensen@example.com','type':'work',"
    "'primary':true}],"
    "'addresses':[{'type':'work','streetAddress':'100 Universal City Plaza',"
    "'locality':'Hollywood','region':'CA','postalCode':'91608',"
    "'country':'USA','primary':true}],"
    "'x509Certificates':[{'value':'MIIDQzCCAqygAwIBAgICEAAwDQYJ'}]}";

static const char  tour[] =
    "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:Group'],"
    "'displayName':'Tour Guides','externalId':'g1'}";


static void
test_rfc(void)
{
    /* RFC 7644 3.5.2.1 */

    group_ok(tour,
        OPS "{'op':'add','path':'members','value':[{'display':'Babs Jensen',"
        "'$ref':'https://example.com/v2/Users/2819c223-7f76-453a-919d-"
        "413861904646','value':'2819c223-7f76-453a-919d-413861904646'}]}]}",
        tour, 0, "[{'value':'2819c223-7f76-453a-919d-413861904646'}]", "[]",
        "3.5.2.1 add a member");

    patch_ok(user,
        "{'userName':'bjensen','emails':[{'value':'bjensen@example.com',"
        "'type':'work'}]}",
        OPS "{'op':'add','value':{'emails':[{'value':'babs@jensen.org',"
        "'type':'home'}],'nickname':'Babs'}}]}",
        "{'userName':'bjensen','emails':[{'value':'bjensen@example.com',"
        "'type':'work'},{'value':'babs@jensen.org','type':'home'}],"
        "'nickName':'Babs'}",
        "3.5.2.1 add without path (nickname written as nickName)");

    /* RFC 7644 3.5.2.2 */

    group_ok(tour, OPS "{'op':'remove','path':'members'}]}", tour, 1, "[]",
             "[]", "3.5.2.2 remove all members");

    group_ok(tour,
        OPS "{'op':'remove','path':'members[value eq \\'2819c223-7f76-453a-"
        "919d-413861904646\\']'}]}",
        tour, 0, "[]", "['2819c223-7f76-453a-919d-413861904646']",
        "3.5.2.2 remove one member");

    patch_ok(user, babs,
        OPS "{'op':'remove','path':'emails[type eq \\'work\\' and value ew "
        "\\'example.com\\']'}]}",
        "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],"
        "'userName':'bjensen','externalId':'bj',"
        "'name':{'familyName':'Jensen','givenName':'Barbara'},"
        "'displayName':'Babs Jensen','active':true,"
        "'addresses':[{'type':'work','streetAddress':"
        "'100 Universal City Plaza','locality':'Hollywood','region':'CA',"
        "'postalCode':'91608','country':'USA','primary':true}],"
        "'x509Certificates':[{'value':'MIIDQzCCAqygAwIBAgICEAAwDQYJ'}]}",
        "3.5.2.2 remove emails by a complex filter");

    group_ok(tour,
        OPS "{'op':'remove','path':'members[value eq\\'2819c223-7f76-453a-"
        "919d-413861904646\\']'},{'op':'add','path':'members','value':"
        "[{'display':'James Smith','$ref':'https://example.com/v2/Users/"
        "08e1d05d-121c-4561-8b96-473d93df9210','value':'08e1d05d-121c-4561-"
        "8b96-473d93df9210'}]}]}",
        tour, 0, "[{'value':'08e1d05d-121c-4561-8b96-473d93df9210'}]",
        "['2819c223-7f76-453a-919d-413861904646']",
        "3.5.2.2 remove then add (eq without a blank)");

    patch_ok(user,
        "{'userName':'u','x509Certificates':[{'value':'MIIDQzCCAqygAwIBAgIC"
        "EAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx'}]}",
        OPS "{'op':'remove','path':'x509Certificates[value eq \\'MIIDQzCCAqy"
        "gAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx\\']'}]}",
        "{'userName':'u'}",
        "3.5.2.2 remove a certificate (the attribute goes when empty)");

    /* RFC 7644 3.5.2.3 */

    group_ok(tour,
        OPS "{'op':'replace','path':'members','value':[{'display':"
        "'Babs Jensen','$ref':'https://example.com/v2/Users/2819c223',"
        "'value':'2819c223'},{'display':'James Smith','$ref':'https://"
        "example.com/v2/Users/08e1d05d','value':'08e1d05d'}]}]}",
        tour, 1, "[{'value':'2819c223'},{'value':'08e1d05d'}]", "[]",
        "3.5.2.3 replace members");

    patch_ok(user, babs,
        OPS "{'op':'replace','path':'addresses[type eq \\'work\\']','value':"
        "{'type':'work','streetAddress':'911 Universal City Plaza',"
        "'locality':'Hollywood','region':'CA','postalCode':'91608',"
        "'country':'US','formatted':'911 Universal City Plaza\\nHollywood, "
        "CA 91608 US','primary':true}}]}",
        "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],"
        "'userName':'bjensen','externalId':'bj',"
        "'name':{'familyName':'Jensen','givenName':'Barbara'},"
        "'displayName':'Babs Jensen','active':true,"
        "'emails':[{'value':'bjensen@example.com','type':'work',"
        "'primary':true}],"
        "'addresses':[{'type':'work','streetAddress':"
        "'911 Universal City Plaza','locality':'Hollywood','region':'CA',"
        "'postalCode':'91608','country':'US','formatted':"
        "'911 Universal City Plaza\\nHollywood, CA 91608 US',"
        "'primary':true}],"
        "'x509Certificates':[{'value':'MIIDQzCCAqygAwIBAgICEAAwDQYJ'}]}",
        "3.5.2.3 replace an address by filter");

    patch_ok(user,
        "{'addresses':[{'type':'work','streetAddress':'911 Universal'},"
        "{'type':'home','streetAddress':'1 Home St'}]}",
        OPS "{'op':'replace','path':'addresses[type eq \\'work\\']."
        "streetAddress','value':'1010 Broadway Ave'}]}",
        "{'addresses':[{'type':'work','streetAddress':'1010 Broadway Ave'},"
        "{'type':'home','streetAddress':'1 Home St'}]}",
        "3.5.2.3 replace a sub-attribute by filter");

    patch_ok(user,
        "{'userName':'b','emails':[{'value':'old@example.com',"
        "'type':'work'}],'nickName':'B'}",
        OPS "{'op':'replace','value':{'emails':[{'value':"
        "'bjensen@example.com','type':'work','primary':true},{'value':"
        "'babs@jensen.org','type':'home'}],'nickname':'Babs'}}]}",
        "{'userName':'b','emails':[{'value':'bjensen@example.com',"
        "'type':'work','primary':true},{'value':'babs@jensen.org',"
        "'type':'home'}],'nickName':'Babs'}",
        "3.5.2.3 replace without path");
}


static void
test_entra_users(void)
{
    /* E: disable, both forms; enable */

    patch_ok(user, "{'userName':'u','active':true}",
        OPS "{'op':'Replace','path':'active','value':'False'}]}",
        "{'userName':'u','active':false}", "Q2 Replace active \"False\"");

    patch_ok(user, "{'userName':'u','active':true}",
        "{'schemas':['urn:ietf:params:scim:api:messages:2.0:PatchOp'],"
        "'Operations':[{'op':'replace','path':'active','value':false}]}",
        "{'userName':'u','active':false}", "flag form: replace active false");

    patch_ok(user, "{'userName':'u','active':false}",
        OPS "{'op':'Replace','path':'active','value':'True'}]}",
        "{'userName':'u','active':true}", "Replace active \"True\"");

    patch_ok(user, "{'userName':'u','active':false}",
        OPS "{'op':'replace','value':{'active':'true'}}]}",
        "{'userName':'u','active':true}", "pathless active \"true\"");

    /* C: add a single-valued attribute, several replaces */

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'Add','path':'nickName','value':'Babs'}]}",
        "{'userName':'u','nickName':'Babs'}", "Q1 Add nickName");

    patch_ok(user,
        "{'userName':'u','displayName':'Old','externalId':'e0',"
        "'name':{'givenName':'A','familyName':'B','formatted':'A B'},"
        "'emails':[{'type':'work','value':'old@x.com','primary':true}],"
        "'" ENT "':{'employeeNumber':'1','department':'D'}}",
        OPS "{'op':'Replace','path':'displayName','value':'New'},"
        "{'op':'Replace','path':'emails[type eq \\'work\\'].value','value':"
        "'new@x.com'},"
        "{'op':'Replace','path':'name.givenName','value':'C'},"
        "{'op':'Replace','path':'name.familyName','value':'D'},"
        "{'op':'Replace','path':'externalId','value':'e1'},"
        "{'op':'Replace','path':'" ENT ":employeeNumber','value':'2'},"
        "{'op':'Replace','path':'userName','value':'v'}]}",
        "{'userName':'v','displayName':'New','externalId':'e1',"
        "'name':{'givenName':'C','familyName':'D','formatted':'A B'},"
        "'emails':[{'type':'work','value':'new@x.com','primary':true}],"
        "'" ENT "':{'employeeNumber':'2','department':'D'}}",
        "default job: one Replace per path");

    /* Q9: the flag's pathless op with dotted and URN keys */

    patch_ok(user,
        "{'userName':'u','name':{'givenName':'A','familyName':'B'}}",
        OPS "{'op':'replace','path':'emails[type eq \\'work\\'].value',"
        "'value':'w@x.com'},"
        "{'op':'replace','value':{'displayName':'Z','name.givenName':'X',"
        "'name.familyName':'Y','externalId':'e',"
        "'" ENT ":employeeNumber':'42','" ENT ":department':'Ops'}}]}",
        "{'userName':'u','name':{'givenName':'X','familyName':'Y'},"
        "'emails':[{'type':'work','value':'w@x.com'}],'displayName':'Z',"
        "'externalId':'e','" ENT "':{'employeeNumber':'42',"
        "'department':'Ops'}}",
        "Q9 pathless op with dotted and URN keys");

    /* Q5: add/replace on a filter that matches nothing creates */

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'Add','path':'emails[type eq \\'work\\'].value','value':"
        "'a@b.c'}]}",
        "{'userName':'u','emails':[{'type':'work','value':'a@b.c'}]}",
        "Q5 Add emails[type eq work].value creates the element");

    patch_ok(user,
        "{'userName':'u','emails':[{'type':'home','value':'h@b.c'}]}",
        OPS "{'op':'replace','path':'emails[type eq \\'work\\'].value',"
        "'value':'a@b.c'}]}",
        "{'userName':'u','emails':[{'type':'home','value':'h@b.c'},"
        "{'type':'work','value':'a@b.c'}]}",
        "Q5 replace on a non-matching filter appends");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'Add','path':'addresses[type eq \\'work\\'].locality',"
        "'value':'Seattle'},"
        "{'op':'Add','path':'addresses[type eq \\'work\\'].postalCode',"
        "'value':'98052'},"
        "{'op':'Add','path':'phoneNumbers[type eq \\'mobile\\'].value',"
        "'value':'+1 555'}]}",
        "{'userName':'u','addresses':[{'type':'work','locality':'Seattle',"
        "'postalCode':'98052'}],'phoneNumbers':[{'type':'mobile',"
        "'value':'+1 555'}]}",
        "Q5 addresses and phoneNumbers");

    patch_ok(user,
        "{'userName':'u','emails':[{'type':'WORK','value':'a@b.c'}]}",
        OPS "{'op':'replace','path':'Emails[Type eq \\'work\\'].Value',"
        "'value':'z@b.c'}]}",
        "{'userName':'u','emails':[{'type':'WORK','value':'z@b.c'}]}",
        "Q12 path in another case, type compared case-insensitively");

    /* Q7: roles */

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'Add','path':'roles[primary eq \\'True\\'].display',"
        "'value':'Admin'},"
        "{'op':'Add','path':'roles[primary eq \\'True\\'].value','value':"
        "'admin'},"
        "{'op':'Add','path':'roles[primary eq \\'True\\'].type','value':"
        "'WindowsAzureActiveDirectoryRole'}]}",
        "{'userName':'u','roles':[{'primary':true,'display':'Admin',"
        "'value':'admin','type':'WindowsAzureActiveDirectoryRole'}]}",
        "Q7 roles[primary eq \"True\"] creates {primary: true}");

    patch_ok(user,
        "{'userName':'u','roles':[{'primary':true,'value':'a'},"
        "{'primary':false,'value':'b'}]}",
        OPS "{'op':'replace','path':'roles[primary eq \\'True\\'].value',"
        "'value':'c'}]}",
        "{'userName':'u','roles':[{'primary':true,'value':'c'},"
        "{'primary':false,'value':'b'}]}",
        "Q7 \"True\" matches a boolean true");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'Add','path':'roles','value':[{'primary':'False',"
        "'type':'WindowsAzureActiveDirectoryRole','value':"
        "'{\\'id\\':\\'r1\\',\\'displayName\\':\\'Reader\\'}'}]}]}",
        "{'userName':'u','roles':[{'primary':false,"
        "'type':'WindowsAzureActiveDirectoryRole','value':"
        "'{\\'id\\':\\'r1\\',\\'displayName\\':\\'Reader\\'}'}]}",
        "Q7 a JSON-encoded role value stays a string");

    patch_ok(user,
        "{'userName':'u','roles':[{'value':'a'},{'value':'b'}]}",
        OPS "{'op':'replace','path':'roles','value':[{'value':'c',"
        "'primary':true}]}]}",
        "{'userName':'u','roles':[{'value':'c','primary':true}]}",
        "Q7 replace roles with the full array");

    patch_ok(user,
        "{'userName':'u','roles':[{'value':'a','primary':true},"
        "{'value':'b'}]}",
        OPS "{'op':'remove','path':'roles[primary eq \\'True\\']'}]}",
        "{'userName':'u','roles':[{'value':'b'}]}",
        "remove roles[primary eq \"True\"]");
}


static void
test_manager(void)
{
    const char  *none = "{'userName':'u'}";
    const char  *m1 = "{'userName':'u','" ENT "':{'manager':{'value':'m1'}}}";

    patch_ok(user, none,
        OPS "{'op':'Add','path':'manager','value':[{'$ref':'https://h/scim/"
        "Users/m1','value':'m1'}]}]}",
        m1, "Q8 Add manager [{$ref, value}]");

    patch_ok(user, none,
        OPS "{'op':'Replace','path':'" ENT ":manager','value':'m1'}]}",
        m1, "Q8 URN path with a bare id");

    patch_ok(user, "{'userName':'u','" ENT "':{'manager':{'value':'m0'},"
        "'department':'D'}}",
        OPS "{'op':'replace','path':'manager','value':{'value':'m1'}}]}",
        "{'userName':'u','" ENT "':{'manager':{'value':'m1'},"
        "'department':'D'}}",
        "manager as {value}");

    patch_ok(user, none,
        OPS "{'op':'add','path':'" ENT ":manager.value','value':'m1'}]}",
        m1, "manager.value");

    patch_ok(user, none,
        OPS "{'op':'add','value':{'" ENT ":manager':'m1'}}]}",
        m1, "pathless URN manager key");

    patch_ok(user, none,
        OPS "{'op':'add','value':{'" ENT "':{'manager':{'value':'m1',"
        "'displayName':'Boss'}}}}]}",
        m1, "pathless extension object with manager");

    patch_ok(user, m1, OPS "{'op':'remove','path':'manager'}]}", none,
             "remove manager (the empty block goes too)");

    patch_ok(user, m1,
        OPS "{'op':'remove','path':'" ENT ":manager[value eq \\'m1\\']'}]}",
        none, "Q8 remove manager[value eq id]");

    patch_ok(user, m1,
        OPS "{'op':'remove','path':'manager[value eq \\'m2\\']'}]}",
        m1, "remove manager[value eq other] keeps it");

    patch_ok(user, m1,
        OPS "{'op':'replace','path':'" ENT ":manager','value':''}]}",
        none, "replace manager with \"\" removes it");

    patch_ok(user, m1,
        OPS "{'op':'replace','path':'manager','value':[]}]}",
        none, "replace manager with [] removes it");

    patch_ok(user, m1,
        OPS "{'op':'replace','path':'manager','value':null}]}",
        none, "replace manager with null removes it");

    patch_ok(user, m1,
        OPS "{'op':'replace','path':'manager','value':{'value':''}}]}",
        none, "replace manager with {value: \"\"} removes it");

    patch_ok(user, m1,
        OPS "{'op':'Remove','path':'manager','value':[{'value':'m1'}]}]}",
        none, "Remove manager with a value");

    patch_err(user, m1,
        OPS "{'op':'replace','path':'manager','value':42}]}",
        400, SCIM_ERR_INVALID_VALUE, NULL, "manager as a number");

    patch_err(user, m1,
        OPS "{'op':'replace','path':'manager.displayName','value':'X'}]}",
        400, SCIM_ERR_MUTABILITY, NULL, "manager.displayName is readOnly");
}


static void
test_semantics(void)
{
    /* complex singular: add and replace merge */

    patch_ok(user, "{'userName':'u','name':{'familyName':'J'}}",
        OPS "{'op':'add','path':'name','value':{'givenName':'B'}}]}",
        "{'userName':'u','name':{'familyName':'J','givenName':'B'}}",
        "add to a complex attribute merges");

    patch_ok(user, "{'userName':'u','name':{'familyName':'J',"
        "'givenName':'A'}}",
        OPS "{'op':'replace','path':'name','value':{'GivenName':'B',"
        "'middleName':null}}]}",
        "{'userName':'u','name':{'familyName':'J','givenName':'B'}}",
        "replace of a complex attribute merges, canonical sub names");

    /* multi-valued: append, no duplicates; primary moves */

    patch_ok(user,
        "{'userName':'u','emails':[{'value':'a@x','type':'work',"
        "'primary':true}]}",
        OPS "{'op':'add','path':'emails','value':[{'value':'a@x',"
        "'type':'work','primary':true},{'value':'b@x','type':'home',"
        "'primary':'True'}]}]}",
        "{'userName':'u','emails':[{'value':'a@x','type':'work',"
        "'primary':false},{'value':'b@x','type':'home','primary':true}]}",
        "add appends, skips duplicates, one primary");

    patch_ok(user, "{'userName':'u','emails':[{'value':'a@x'}]}",
        OPS "{'op':'add','path':'emails','value':{'value':'c@x'}}]}",
        "{'userName':'u','emails':[{'value':'a@x'},{'value':'c@x'}]}",
        "add of a single value to a multi-valued attribute");

    patch_ok(user, "{'userName':'u','emails':[{'value':'a@x'}]}",
        OPS "{'op':'add','path':'emails','value':[]}]}",
        "{'userName':'u','emails':[{'value':'a@x'}]}", "add [] is a no-op");

    patch_ok(user,
        "{'userName':'u','emails':[{'value':'a@x'},{'value':'b@x'}]}",
        OPS "{'op':'replace','path':'emails','value':[{'value':'c@x'}]}]}",
        "{'userName':'u','emails':[{'value':'c@x'}]}",
        "replace of a multi-valued attribute replaces the array");

    patch_ok(user,
        "{'userName':'u','emails':[{'value':'a@x'},{'value':'b@x'}]}",
        OPS "{'op':'replace','path':'emails','value':[]}]}",
        "{'userName':'u'}", "replace with [] removes");

    patch_ok(user,
        "{'userName':'u','emails':[{'value':'a@x'},{'value':'B@X'},"
        "{'value':'c@x'}]}",
        OPS "{'op':'remove','path':'emails','value':[{'value':'b@x'}]}]}",
        "{'userName':'u','emails':[{'value':'a@x'},{'value':'c@x'}]}",
        "remove with a value list removes those (caseExact false)");

    patch_ok(user,
        "{'userName':'u','emails':[{'value':'a@x','type':'work'},"
        "{'value':'b@x','type':'home'}]}",
        OPS "{'op':'remove','path':'emails[type eq \\'work\\'].value'}]}",
        "{'userName':'u','emails':[{'type':'work'},{'value':'b@x',"
        "'type':'home'}]}",
        "remove a sub-attribute by filter");

    patch_err(user, "{'userName':'u','emails':[{'value':'a@x'}]}",
        OPS "{'op':'remove','path':'emails[type eq \\'work\\'].value'}]}",
        400, "noTarget", NULL,
        "remove on a filter that matches nothing: noTarget");
    patch_err(user, "{'userName':'u'}",
        OPS "{'op':'remove','path':'phoneNumbers[type eq \\'fax\\']'}]}",
        400, "noTarget", NULL,
        "remove on a filter of an absent attribute: noTarget");
    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'remove','path':'phoneNumbers'}]}",
        "{'userName':'u'}",
        "remove of an absent attribute without a filter succeeds");
    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'remove','path':'" ENT ":department'}]}",
        "{'userName':'u'}",
        "remove of an attribute of an absent extension block succeeds");
    patch_ok(user, "{'userName':'u','" ENT "':{'manager':{'value':'m1'}}}",
        OPS "{'op':'Remove','path':'manager[value eq \\'m2\\']'}]}",
        "{'userName':'u','" ENT "':{'manager':{'value':'m1'}}}",
        "manager[value eq other]: Entra's idempotent removal succeeds");
    patch_err(user, "{'userName':'u'}",
        OPS "{'op':'add','path':'emails','value':[{'value':'a@x',"
        "'primary':true},{'value':'b@x','primary':'True'}]}]}",
        400, "invalidValue", NULL,
        "add of two primary values at once: invalidValue");

    patch_ok(user, "{'userName':'u','emails':[{'value':'a@x'}]}",
        OPS "{'op':'remove','path':'emails[value eq \\'a@x\\'].value'}]}",
        "{'userName':'u'}",
        "an element left empty goes, then the empty attribute");

    patch_ok(user,
        "{'userName':'u','emails':[{'value':'a@x','type':'work',"
        "'primary':true},{'value':'b@x','type':'home'}]}",
        OPS "{'op':'replace','path':'emails[type eq \\'work\\']','value':"
        "{'value':'n@x'}}]}",
        "{'userName':'u','emails':[{'value':'n@x','type':'work'},"
        "{'value':'b@x','type':'home'}]}",
        "replace of a filtered element keeps the filter's eq values");

    patch_ok(user,
        "{'userName':'u','emails':[{'value':'a@x','type':'work'}]}",
        OPS "{'op':'add','path':'emails[type eq \\'work\\']','value':"
        "{'display':'A'}}]}",
        "{'userName':'u','emails':[{'value':'a@x','type':'work',"
        "'display':'A'}]}",
        "add on a filtered element merges");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'add','path':'emails[type eq \\'work\\' and primary eq "
        "true]','value':'a@x'}]}",
        "{'userName':'u','emails':[{'type':'work','primary':true,"
        "'value':'a@x'}]}",
        "create from a conjunction; a scalar value is the \"value\"");

    patch_ok(user,
        "{'userName':'u','emails':[{'value':'a@x','type':'work',"
        "'primary':true}]}",
        OPS "{'op':'add','path':'emails[type eq \\'home\\'].primary','value':"
        "true}]}",
        "{'userName':'u','emails':[{'value':'a@x','type':'work',"
        "'primary':false},{'type':'home','primary':true}]}",
        "a created primary clears the other primary");

    patch_ok(user, "{'userName':'u','emails':[{'value':'a@x'}]}",
        OPS "{'op':'replace','path':'emails.type','value':'work'}]}",
        "{'userName':'u','emails':[{'value':'a@x','type':'work'}]}",
        "sub-attribute of a multi-valued attribute without filter: all");

    patch_ok(user, "{'userName':'u','nickName':'n'}",
        OPS "{'op':'add','path':'nickName','value':null}]}",
        "{'userName':'u'}", "add null removes");

    patch_ok(user, "{'userName':'u','name':{'givenName':'g'}}",
        OPS "{'op':'remove','path':'name.givenName'}]}",
        "{'userName':'u'}", "remove the last sub-attribute");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'remove','path':'nickName'}]}",
        "{'userName':'u'}", "remove of an absent attribute succeeds");

    /* names: canonical case replaces other-case keys */

    patch_ok(user, "{'userName':'u','displayname':'a','NAME':{'GIVENNAME':"
        "'x','familyName':'f'}}",
        OPS "{'op':'replace','path':'DisplayName','value':'b'},"
        "{'op':'replace','path':'Name.GivenName','value':'y'}]}",
        "{'userName':'u','displayName':'b','name':{'givenName':'y',"
        "'familyName':'f'}}",
        "canonical names");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'add','path':'urn:ietf:params:scim:schemas:core:2.0:"
        "User:nickName','value':'n'}]}",
        "{'userName':'u','nickName':'n'}", "core URN prefix");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'add','path':'urn:ietf:params:scim:schemas:core:2.0:User',"
        "'value':{'nickName':'n','title':'t'}}]}",
        "{'userName':'u','nickName':'n','title':'t'}",
        "the core URN as a path");

    /* extensions */

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'add','path':'department','value':'D'}]}",
        "{'userName':'u','" ENT "':{'department':'D'}}",
        "an extension attribute by its bare name");

    patch_ok(user, "{'userName':'u','" ENT "':{'department':'D'}}",
        OPS "{'op':'add','path':'" ENT "','value':{'costCenter':'C',"
        "'Department':'E'}}]}",
        "{'userName':'u','" ENT "':{'department':'E','costCenter':'C'}}",
        "the extension URN as a path merges");

    patch_ok(user, "{'userName':'u','" ENT "':{'department':'D'}}",
        OPS "{'op':'remove','path':'" ENT "'}]}",
        "{'userName':'u'}", "remove the extension URN");

    patch_ok(user, "{'userName':'u','" ENT "':{'department':'D'}}",
        OPS "{'op':'remove','path':'" ENT ":department'}]}",
        "{'userName':'u'}", "an extension block left empty goes");

    patch_ok(user, "{'userName':'u','urn:ietf:params:scim:schemas:"
        "extension:enterprise:2.0:user':{'department':'D'}}",
        OPS "{'op':'add','path':'" ENT ":costCenter','value':'C'}]}",
        "{'userName':'u','" ENT "':{'department':'D','costCenter':'C'}}",
        "an extension block key in another case is renamed");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'Add','path':'urn:ietf:params:scim:schemas:extension:"
        "GlobalRelay:2.0:User:proxyAddresses','value':['smtp:a@b']}]}",
        "{'userName':'u','urn:ietf:params:scim:schemas:extension:"
        "GlobalRelay:2.0:User':{'proxyAddresses':['smtp:a@b']}}",
        "an unknown extension is written as named");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'add','value':{'urn:ietf:params:scim:schemas:extension:"
        "GlobalRelay:2.0:User':{'extensionAttribute1':'x'}}}]}",
        "{'userName':'u','urn:ietf:params:scim:schemas:extension:"
        "GlobalRelay:2.0:User':{'extensionAttribute1':'x'}}",
        "an unknown extension block in a pathless value");

    /* unknown attributes, ignored keys */

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'add','path':'fooBar','value':1},"
        "{'op':'add','value':{'baz':{'q':true}}}]}",
        "{'userName':'u','fooBar':1,'baz':{'q':true}}",
        "unknown attributes are applied as named");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'replace','value':{'schemas':['x'],'id':'i','meta':"
        "{'version':'v'},'groups':[{'value':'g'}],'nickName':'n'}}]}",
        "{'userName':'u','nickName':'n'}",
        "pathless schemas, id, meta, groups are ignored");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'add','path':'schemas','value':['x']}]}",
        "{'userName':'u'}", "a schemas path is ignored");

    /* leniency */

    patch_ok(user, "{'userName':'u'}",
        "{'Operations':[{'op':'ADD','path':'title','value':'t'},"
        "{'Op':'rEpLaCe','Path':'nickName','Value':'n'}]}",
        "{'userName':'u','title':'t','nickName':'n'}",
        "no schemas; op and keys in any case");

    patch_ok(user, "{'userName':'u'}", OPS "]}", "{'userName':'u'}",
             "Q16 empty Operations");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'add','path':'  title  ','value':'t'}]}",
        "{'userName':'u','title':'t'}", "blanks around a path");

    patch_ok(user, "{'userName':'u'}",
        OPS "{'op':'add','path':'','value':{'title':'t'}}]}",
        "{'userName':'u','title':'t'}", "an empty path is no path");
}


static void
test_groups(void)
{
    group_ok(tour,
        OPS "{'op':'Remove','path':'members','value':[{'value':'u1'}]}]}",
        tour, 0, "[]", "['u1']", "Q3 Remove with a value list: those only");

    group_ok(tour,
        OPS "{'op':'Add','path':'members','value':[{'$ref':null,'value':"
        "'u1'},{'$ref':null,'value':'u2'},{'value':'g3','type':'Group'}]}]}",
        tour, 0, "[{'value':'u1'},{'value':'u2'},{'value':'g3',"
        "'type':'Group'}]", "[]", "Q4 Add several members");

    group_ok(tour,
        OPS "{'op':'remove','path':'members[value eq \\'u1\\' or value eq "
        "\\'u2\\']'}]}",
        tour, 0, "[]", "['u1','u2']", "remove members[value eq or ...]");

    group_ok(tour,
        OPS "{'op':'Replace','path':'displayName','value':'Guides'},"
        "{'op':'Add','path':'members','value':[{'value':'u1'}]},"
        "{'op':'Remove','path':'members','value':[{'value':'u2'}]}]}",
        "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:Group'],"
        "'displayName':'Guides','externalId':'g1'}",
        0, "[{'value':'u1'}]", "['u2']",
        "G7 rename + add + remove in one PATCH");

    group_ok(tour,
        OPS "{'op':'add','path':'members','value':[{'value':'u1'}]},"
        "{'op':'remove','path':'members[value eq \\'u1\\']'},"
        "{'op':'remove','path':'members','value':[{'value':'u2'}]},"
        "{'op':'add','path':'members','value':[{'value':'u2'}]}]}",
        tour, 0, "[{'value':'u2'}]", "['u1']",
        "operations compose in order");

    group_ok(tour,
        OPS "{'op':'add','path':'members','value':[{'value':'u1'}]},"
        "{'op':'replace','path':'members','value':[{'value':'u4'}]},"
        "{'op':'remove','path':'members','value':[{'value':'u5'}]}]}",
        tour, 1, "[{'value':'u4'}]", "['u5']",
        "replace clears what came before");

    group_ok(tour,
        OPS "{'op':'replace','value':{'displayName':'X','members':"
        "[{'value':'u1'}]}}]}",
        "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:Group'],"
        "'displayName':'X','externalId':'g1'}",
        1, "[{'value':'u1'}]", "[]", "pathless replace with members");

    group_ok(tour,
        OPS "{'op':'add','path':'members','value':[]}]}",
        tour, 0, "[]", "[]", "add no members");

    group_ok(tour,
        OPS "{'op':'remove','path':'members','value':[]}]}",
        tour, 0, "[]", "[]", "remove an empty list: nothing");

    patch_err(group, tour,
        OPS "{'op':'remove','path':'members[type eq \\'User\\']'}]}",
        400, SCIM_ERR_INVALID_PATH, NULL, "members filter other than value");

    patch_err(group, tour,
        OPS "{'op':'add','path':'members','value':[{'display':'x'}]}]}",
        400, SCIM_ERR_INVALID_VALUE, NULL, "a member without value");

    patch_err(group, tour,
        OPS "{'op':'add','path':'members','value':[{'value':'u1'}]},"
        "{'op':'remove','path':'members.display'}]}",
        400, SCIM_ERR_MUTABILITY, NULL,
        "a failed PATCH leaves the delta as it was");

    /* without a delta, members are patched in the document */

    patch_ok(group, "{'displayName':'G','members':[{'value':'u1'}]}",
        OPS "{'op':'add','path':'members','value':[{'value':'u2'}]},"
        "{'op':'remove','path':'members[value eq \\'u1\\']'}]}",
        "{'displayName':'G','members':[{'value':'u2'}]}",
        "members in the document when there is no delta");

    /* a delta the caller already holds is extended */
    {
        int                    rc;
        json_t                *doc, *body;
        scim_error_t           err;
        scim_members_delta_t   delta;

        memset(&delta, 0, sizeof(delta));
        delta.add = J("[{'value':'a'}]");
        delta.remove = J("['b']");
        doc = J(tour);
        body = J(OPS "{'op':'remove','path':'members','value':"
                 "[{'value':'a'}]},{'op':'add','path':'members','value':"
                 "[{'value':'b'}]}]}");

        rc = scim_patch_apply(group, doc, body, &delta, &err);
        is_int(rc, 0, "second PATCH on a delta");
        ok(same(delta.add, "[{'value':'b'}]"), "delta add after");
        ok(same(delta.remove, "['a']"), "delta remove after");

        json_decref(doc);
        json_decref(body);
        json_decref(delta.add);
        json_decref(delta.remove);
    }
}


static void
test_errors(void)
{
    const char  *u = "{'userName':'u','displayName':'d'}";

    patch_err(user, u, "[]", 400, SCIM_ERR_INVALID_SYNTAX, NULL,
              "body is not an object");
    patch_err(user, u, "{'schemas':['urn:ietf:params:scim:api:messages:2.0:"
              "PatchOp']}", 400, SCIM_ERR_INVALID_SYNTAX, NULL,
              "no Operations");
    patch_err(user, u, "{'Operations':{'op':'add'}}", 400,
              SCIM_ERR_INVALID_SYNTAX, NULL, "Operations not an array");
    patch_err(user, u, OPS "'add']}", 400, SCIM_ERR_INVALID_SYNTAX, NULL,
              "an operation that is not an object");
    patch_err(user, u, OPS "{'op':'copy','path':'title','value':'x'}]}", 400,
              SCIM_ERR_INVALID_SYNTAX,
              "Operations[0]: unknown op \"copy\": \"add\", \"replace\" or "
              "\"remove\"", "unknown op");
    patch_err(user, u, OPS "{'path':'title','value':'x'}]}", 400,
              SCIM_ERR_INVALID_SYNTAX, NULL, "no op");
    patch_err(user, u, OPS "{'op':'add','path':'title'}]}", 400,
              SCIM_ERR_INVALID_SYNTAX, NULL, "add without value");
    patch_err(user, u, OPS "{'op':'remove'}]}", 400, SCIM_ERR_NO_TARGET,
              "Operations[0]: \"remove\" needs a \"path\"",
              "remove without path");
    patch_err(user, u, OPS "{'op':'add','value':'x'}]}", 400,
              SCIM_ERR_INVALID_VALUE, NULL, "pathless value not an object");
    patch_err(user, u, OPS "{'op':'add','path':7,'value':'x'}]}", 400,
              SCIM_ERR_INVALID_PATH, NULL, "path not a string");

    /* readOnly */
    patch_err(user, u, OPS "{'op':'replace','path':'id','value':'x'}]}", 400,
              SCIM_ERR_MUTABILITY,
              "Operations[0]: attribute \"id\" is readOnly", "id");
    patch_err(user, u, OPS "{'op':'replace','path':'meta.created','value':"
              "'2020-01-01T00:00:00Z'}]}", 400, SCIM_ERR_MUTABILITY,
              "Operations[0]: attribute \"meta.created\" is readOnly",
              "meta.created");
    patch_err(user, u, OPS "{'op':'remove','path':'meta'}]}", 400,
              SCIM_ERR_MUTABILITY, NULL, "meta");
    patch_err(user, u, OPS "{'op':'add','path':'groups','value':"
              "[{'value':'g'}]}]}", 400, SCIM_ERR_MUTABILITY, NULL,
              "groups of a user");
    patch_err(user, u, OPS "{'op':'add','path':'urn:ietf:params:scim:schemas"
              ":core:2.0:User:id','value':'x'}]}", 400, SCIM_ERR_MUTABILITY,
              NULL, "id by URN");

    /* malformed paths */
    patch_err(user, u, OPS "{'op':'add','path':'emails[type eq','value':"
              "'x'}]}", 400, SCIM_ERR_INVALID_PATH,
              "Operations[0]: invalid path: expected a value at position 14",
              "unterminated filter");
    patch_err(user, u, OPS "{'op':'add','path':'emails[type eq \\'work\\'',"
              "'value':'x'}]}", 400, SCIM_ERR_INVALID_PATH,
              "Operations[0]: invalid path: expected ']' at position 21",
              "missing ]");
    patch_err(user, u, OPS "{'op':'add','path':'name..givenName','value':"
              "'x'}]}", 400, SCIM_ERR_INVALID_PATH,
              "Operations[0]: invalid path: expected a sub-attribute name at "
              "position 5", "double dot");
    patch_err(user, u, OPS "{'op':'add','path':'display name','value':"
              "'x'}]}", 400, SCIM_ERR_INVALID_PATH,
              "Operations[0]: invalid path: unexpected ' ' at position 7",
              "blank inside");
    patch_err(user, u, OPS "{'op':'add','path':'emails[type eq \\'work\\']"
              ".value.x','value':'x'}]}", 400, SCIM_ERR_INVALID_PATH,
              "Operations[0]: invalid path: unexpected '.' at position 28",
              "two sub-attributes");
    patch_err(user, u, OPS "{'op':'add','value':{'display name':'x'}}]}",
              400, SCIM_ERR_INVALID_PATH,
              "Operations[0]: \"display name\": invalid path: unexpected ' ' "
              "at position 7", "a malformed pathless key");

    /* filters that cannot create */
    patch_err(user, "{'userName':'u','emails':[{'value':'a@x'}]}",
              OPS "{'op':'replace','path':'emails[value co \\'zz\\'].type',"
              "'value':'work'}]}", 400, SCIM_ERR_NO_TARGET, NULL,
              "replace on a co filter that matches nothing");
    patch_err(user, "{'userName':'u'}",
              OPS "{'op':'add','path':'emails[type ne \\'work\\'].value',"
              "'value':'a@x'}]}", 400, SCIM_ERR_NO_TARGET, NULL,
              "add on an ne filter that matches nothing");

    /* atomicity: a later failure undoes the earlier operations */
    patch_err(user, u, OPS "{'op':'replace','path':'displayName','value':"
              "'new'},{'op':'add','path':'title','value':'t'},"
              "{'op':'bogus'}]}", 400, SCIM_ERR_INVALID_SYNTAX, NULL,
              "nothing changes when an operation fails");

    /* hostile sizes: the work budget */
    {
        int                    rc;
        char                   id[32];
        size_t                 i;
        json_t                *doc, *body, *arr, *ops;
        scim_error_t           err;
        scim_members_delta_t   delta;

        arr = json_array();
        for (i = 0; i < 2000; i++) {
            snprintf(id, sizeof(id), "e%zu@x", i);
            json_array_append_new(arr, json_pack("{ss}", "value", id));
        }

        doc = json_pack("{sssO}", "userName", "u", "emails", arr);
        ops = json_array();
        for (i = 0; i < 600; i++) {
            json_array_append_new(ops, J("{'op':'remove','path':"
                                         "'emails[value co \\'@\\'].display'}"));
        }

        body = json_pack("{so}", "Operations", ops);
        memset(&err, 0, sizeof(err));

        rc = scim_patch_apply(user, doc, body, NULL, &err);
        is_int(rc, -1, "600 filtered removes on 2000 emails: refused");
        is_str(err.detail, "Operations[499]: the PATCH is too large: send "
               "fewer operations or values", "too large, at the 500th");
        is_int(json_array_size(json_object_get(doc, "emails")), 2000,
               "emails untouched");

        json_decref(body);
        json_decref(doc);
        json_decref(arr);

        /* 5000 members in one operation are fine */

        arr = json_array();
        for (i = 0; i < 5000; i++) {
            snprintf(id, sizeof(id), "u%zu", i);
            json_array_append_new(arr, json_pack("{ss}", "value", id));
        }

        body = json_pack("{s[{ssssso}]}", "Operations", "op", "add", "path",
                         "members", "value", arr);
        doc = J(tour);
        memset(&delta, 0, sizeof(delta));

        rc = scim_patch_apply(group, doc, body, &delta, &err);
        is_int(rc, 0, "5000 members in one operation");
        is_int(json_array_size(delta.add), 5000, "5000 added");

        json_decref(delta.add);
        json_decref(delta.remove);
        json_decref(body);
        json_decref(doc);
    }

    /* hostile sizes */
    {
        char    *big, *body;
        size_t   i;

        big = malloc(10000);
        body = malloc(10200);

        if (big != NULL && body != NULL) {
            for (i = 0; i < 5000; i++) {
                big[i] = 'a';
            }
            big[5000] = '\0';

            snprintf(body, 10200, OPS "{'op':'add','path':'%s','value':1}]}",
                     big);
            patch_err(user, u, body, 400, SCIM_ERR_INVALID_PATH,
                      "Operations[0]: invalid path: path too long at "
                      "position 4096", "a path too long");

            for (i = 0; i < 200; i++) {
                memcpy(big + i * 8, "((((((((", 8);
            }
            snprintf(body, 10200, OPS "{'op':'remove','path':"
                     "'emails[%.1600stype pr]'}]}", big);
            patch_err(user, u, body, 400, SCIM_ERR_INVALID_PATH,
                      NULL, "deeply nested parentheses in a path");
        }

        free(big);
        free(body);
    }
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

    test_rfc();
    test_entra_users();
    test_manager();
    test_semantics();
    test_groups();
    test_errors();

    /* NULL err is tolerated */
    {
        json_t  *doc, *body;

        doc = J("{'userName':'u'}");
        body = J("{}");
        is_int(scim_patch_apply(user, doc, body, NULL, NULL), -1,
               "NULL err");
        json_decref(doc);
        json_decref(body);
    }

    scim_registry_free(reg);

    return done_testing();
}
