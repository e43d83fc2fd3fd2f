
/*
 * Unit tests of the SCIM filter (RFC 7644 3.4.2.2) and of Entra ID's
 * forms: parse, match, errors with positions, index hints.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "tap.h"


#define ENT  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define TST  "urn:ietf:params:scim:schemas:extension:test:2.0:User"


static const scim_resource_type_t  *user, *group;
static json_t                      *bjensen, *grp;


static const char  user_json[] =
    "{"
    "\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "  \"" ENT "\"],"
    "\"id\": \"2819c223-7f76-453a-919d-413861904646\","
    "\"externalId\": \"bjensen\","
    "\"userName\": \"bjensen@example.com\","
    "\"name\": {\"formatted\": \"Ms. Barbara J Jensen, III\","
    "  \"familyName\": \"O'Malley\", \"givenName\": \"Barbara\"},"
    "\"displayName\": \"Babs Jensen\","
    "\"title\": \"Tour \\\"Guide\\\"\","
    "\"userType\": \"Employee\","
    "\"locale\": \"Zo\\u00eb \\u00c5str\\u00f6m \\ud83d\\ude00\","
    "\"active\": true,"
    "\"password\": \"secret\","
    "\"emails\": [{\"value\": \"bjensen@example.com\", \"type\": \"work\","
    "  \"primary\": true},"
    "  {\"value\": \"babs@jensen.org\", \"type\": \"home\"}],"
    "\"ims\": [{\"value\": \"someaimhandle\", \"type\": \"aim\"}],"
    "\"roles\": [{\"value\": \"admin\", \"primary\": true,"
    "  \"display\": \"Admin\", \"type\": \"WindowsAzureActiveDirectoryRole\"}],"
    "\"addresses\": [{\"type\": \"work\", \"locality\": \"Hollywood\","
    "  \"postalCode\": \"91608\"}],"
    "\"x509Certificates\": [{\"value\": \"MIIDQzCC\"}],"
    "\"" ENT "\": {\"employeeNumber\": \"701984\","
    "  \"department\": \"Tour Operations\","
    "  \"manager\": {\"value\": \"26118915-6090-4610-87e4-49d8ca9f808d\"}},"
    "\"" TST "\": {\"level\": 10, \"score\": 2.25,"
    "  \"big\": 9007199254740993, \"vip\": false,"
    "  \"hired\": \"2015-10-10T14:38:21+02:00\"},"
    "\"urn:ietf:params:scim:schemas:extension:GlobalRelay:2.0:User\":"
    "  {\"proxyAddresses\": [\"smtp:babs@relay.example\"]},"
    "\"meta\": {\"resourceType\": \"User\","
    "  \"created\": \"2010-01-23T04:56:22Z\","
    "  \"lastModified\": \"2011-05-13T04:42:34Z\","
    "  \"version\": \"W/\\\"3694e05e9dff591\\\"\"}"
    "}";

static const char  group_json[] =
    "{"
    "\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
    "\"id\": \"e9e30dba-f08f-4109-8486-d5c6a331660a\","
    "\"externalId\": \"g-ext-1\","
    "\"displayName\": \"Tour Guides\","
    "\"members\": [{\"value\": \"u1\", \"type\": \"User\"},"
    "  {\"value\": \"g2\", \"type\": \"Group\"}]"
    "}";

static const char  test_ext[] =
    "{\"id\": \"" TST "\", \"name\": \"Test\", \"attributes\": ["
    "{\"name\": \"level\", \"type\": \"integer\", \"multiValued\": false,"
    " \"required\": false, \"mutability\": \"readWrite\","
    " \"returned\": \"default\", \"uniqueness\": \"none\"},"
    "{\"name\": \"score\", \"type\": \"decimal\", \"multiValued\": false,"
    " \"required\": false, \"mutability\": \"readWrite\","
    " \"returned\": \"default\", \"uniqueness\": \"none\"},"
    "{\"name\": \"big\", \"type\": \"integer\", \"multiValued\": false,"
    " \"required\": false, \"mutability\": \"readWrite\","
    " \"returned\": \"default\", \"uniqueness\": \"none\"},"
    "{\"name\": \"vip\", \"type\": \"boolean\", \"multiValued\": false,"
    " \"required\": false, \"mutability\": \"readWrite\","
    " \"returned\": \"default\", \"uniqueness\": \"none\"},"
    "{\"name\": \"hired\", \"type\": \"dateTime\"},"
    "{\"name\": \"labels\", \"type\": \"string\", \"multiValued\": true}"
    "]}";


/* 1 match, 0 no match, -1 parse error */

static int
fm(const scim_resource_type_t *rt, json_t *doc, const char *filter)
{
    int             r;
    scim_error_t    err;
    scim_filter_t  *f;

    memset(&err, 0, sizeof(err));

    f = scim_filter_parse(rt, filter, strlen(filter), &err);
    if (f == NULL) {
        printf("# parse error: %s\n", err.detail);
        return -1;
    }

    r = scim_filter_match(f, rt, doc);
    scim_filter_free(f);

    return r;
}


#define M(rt, doc, filter, want)                                             \
    is_int(fm(rt, doc, filter), want, "%s", filter)


/* the error's detail for a filter that must not parse, "" if it parsed */

static char  detail[600];

static const char *
fe(const scim_resource_type_t *rt, const char *s, size_t len)
{
    scim_error_t    err;
    scim_filter_t  *f;

    memset(&err, 0, sizeof(err));

    f = scim_filter_parse(rt, s, len, &err);
    if (f != NULL) {
        scim_filter_free(f);
        return "";
    }

    if (err.status != 400 || err.scim_type == NULL
        || strcmp(err.scim_type, SCIM_ERR_INVALID_FILTER) != 0)
    {
        snprintf(detail, sizeof(detail), "wrong error %d %s: %s",
                 err.status, err.scim_type ? err.scim_type : "-",
                 err.detail);
        return detail;
    }

    snprintf(detail, sizeof(detail), "%s", err.detail);
    return detail;
}


#define E(filter, want)                                                      \
    is_str(fe(user, filter, strlen(filter)), want, "error: %s", filter)


static int
hint(const scim_resource_type_t *rt, const char *filter,
    const char *const *paths, size_t n, const char **value)
{
    int             r;
    scim_error_t    err;
    scim_filter_t  *f;
    static char     buf[256];

    memset(&err, 0, sizeof(err));
    *value = NULL;

    f = scim_filter_parse(rt, filter, strlen(filter), &err);
    if (f == NULL) {
        printf("# parse error: %s\n", err.detail);
        return -2;
    }

    r = scim_filter_eq_hint(f, paths, n, value);

    if (*value != NULL) {
        snprintf(buf, sizeof(buf), "%s", *value);
        *value = buf;
    }

    scim_filter_free(f);

    return r;
}


static void
test_rfc_examples(void)
{
    /* RFC 7644 3.4.2.2, the examples in order */

    M(user, bjensen, "userName eq \"bjensen@example.com\"", 1);
    M(user, bjensen, "userName eq \"bjensen\"", 0);
    M(user, bjensen, "name.familyName co \"O'Malley\"", 1);
    M(user, bjensen, "userName sw \"J\"", 0);
    M(user, bjensen, "userName sw \"bj\"", 1);
    M(user, bjensen, "urn:ietf:params:scim:schemas:core:2.0:User:userName "
      "sw \"bj\"", 1);
    M(user, bjensen, "urn:ietf:params:scim:schemas:core:2.0:User:userName "
      "sw \"J\"", 0);
    M(user, bjensen, "title pr", 1);
    M(user, bjensen, "nickName pr", 0);
    M(user, bjensen, "meta.lastModified gt \"2011-05-13T04:42:34Z\"", 0);
    M(user, bjensen, "meta.lastModified ge \"2011-05-13T04:42:34Z\"", 1);
    M(user, bjensen, "meta.lastModified lt \"2011-05-13T04:42:34Z\"", 0);
    M(user, bjensen, "meta.lastModified le \"2011-05-13T04:42:34Z\"", 1);
    M(user, bjensen, "title pr and userType eq \"Employee\"", 1);
    M(user, bjensen, "title pr or userType eq \"Intern\"", 1);
    M(user, bjensen, "nickName pr or userType eq \"Intern\"", 0);
    M(user, bjensen, "schemas eq \"" ENT "\"", 1);
    M(user, bjensen, "schemas eq \"urn:x:y\"", 0);
    M(user, bjensen, "userType eq \"Employee\" and (emails co \"example.com\""
      " or emails.value co \"example.org\")", 1);
    M(user, bjensen, "userType ne \"Employee\" and not (emails co "
      "\"example.com\" or emails.value co \"example.org\")", 0);
    M(user, bjensen, "userType ne \"Intern\" and not (emails co "
      "\"example.net\" or emails.value co \"example.org\")", 1);
    M(user, bjensen, "userType eq \"Employee\" and (emails.type eq \"work\")",
      1);
    M(user, bjensen, "userType eq \"Employee\" and emails[type eq \"work\" "
      "and value co \"@example.com\"]", 1);
    M(user, bjensen, "userType eq \"Employee\" and emails[type eq \"home\" "
      "and value co \"@example.com\"]", 0);
    M(user, bjensen, "emails[type eq \"work\" and value co \"@example.com\"] "
      "or ims[type eq \"xmpp\" and value co \"@foo.com\"]", 1);
    M(user, bjensen, "emails[type eq \"home\" and value co \"@example.com\"] "
      "or ims[type eq \"xmpp\" and value co \"@foo.com\"]", 0);
    M(user, bjensen, "emails[type eq \"home\" and value co \"@example.com\"] "
      "or ims[type eq \"aim\"]", 1);

    /* errata 7322: parentheses inside a value filter */
    M(user, bjensen, "emails[type eq \"other\" or (type eq \"home\" and "
      "value ew \"@jensen.org\")]", 1);
    M(user, bjensen, "emails[not (type eq \"work\") and primary eq true]", 0);
    M(user, bjensen, "emails[not (type eq \"home\") and primary eq true]", 1);
}


static void
test_entra(void)
{
    /* Q6: a sub-attribute after a value path, compared */
    M(user, bjensen, "emails[type eq \"work\"].value eq "
      "\"bjensen@example.com\"", 1);
    M(user, bjensen, "emails[type eq \"home\"].value eq "
      "\"bjensen@example.com\"", 0);
    M(user, bjensen, "emails[type eq \"work\"].value eq "
      "\"BJensen@Example.com\"", 1);
    M(user, bjensen, "addresses[type eq \"work\"].postalCode eq \"91608\"",
      1);
    M(user, bjensen, "emails[type eq \"work\"].value pr", 1);
    M(user, bjensen, "emails[type eq \"other\"].value pr", 0);

    /* Q7: booleans as strings in value filters */
    M(user, bjensen, "roles[primary eq \"True\"].display eq \"Admin\"", 1);
    M(user, bjensen, "roles[primary eq true].value eq \"admin\"", 1);
    M(user, bjensen, "roles[primary eq \"False\"]", 0);
    M(user, bjensen, "roles[primary eq \"True\"]", 1);
    M(user, bjensen, "roles[Primary Eq \"TRUE\"].Type eq "
      "\"WindowsAzureActiveDirectoryRole\"", 1);

    /* Q2: booleans */
    M(user, bjensen, "active eq \"True\"", 1);
    M(user, bjensen, "active eq true", 1);
    M(user, bjensen, "active eq True", 1);
    M(user, bjensen, "active eq \"false\"", 0);
    M(user, bjensen, "active ne false", 1);
    M(user, bjensen, "active eq \"yes\"", -1);

    /* Q11: unquoted values (MS Postman collection) */
    M(user, bjensen, "externalId eq bjensen", 1);
    M(user, bjensen, "userName sw B", 1);
    M(user, bjensen, "userName sw O", 0);
    M(user, bjensen, "meta.created gt 2009-10-10T14:38:21Z", 1);
    M(user, bjensen, "meta.Created gt 2015-10-10T14:38:21.0Z", 0);
    M(user, bjensen, "name.FamilyName eq O'Malley and (emails.Value co "
      "example.com or emails.Value co example.org)", 1);
    M(user, bjensen, "(userName eq bjensen@example.com)", 1);

    /* Q12: names and operators in any case */
    M(user, bjensen, "UserName EQ \"bjensen@example.com\"", 1);
    M(user, bjensen, "DisplayName eq \"babs jensen\"", 1);
    M(user, bjensen, "EMAILS[TYPE EQ \"WORK\"].VALUE Sw \"BJ\"", 1);
    M(user, bjensen, "title PR AND userType eq \"Employee\" OR nickName pr",
      1);
    M(user, bjensen, "NOT (title pr)", 0);

    /* Q13: userName caseExact false; Q14: a GUID never matches */
    M(user, bjensen, "userName eq \"BJENSEN@EXAMPLE.COM\"", 1);
    M(user, bjensen, "userName eq \"2a5d6e1c-0d59-4b69-9f84-2f53b5f1c4aa\"",
      0);
    M(user, bjensen, "externalId eq \"BJENSEN\"", 0);

    /* D: the manager check */
    M(user, bjensen, "id eq \"2819c223-7f76-453a-919d-413861904646\" and "
      "manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"", 1);
    M(user, bjensen, "id eq \"2819c223-7f76-453a-919d-413861904646\" and "
      "manager eq \"someone-else\"", 0);
    M(user, bjensen, "id eq \"2819C223-7F76-453A-919D-413861904646\"", 0);
}


static void
test_attributes(void)
{
    /* extension attributes, by URN and by bare name */
    M(user, bjensen, ENT ":employeeNumber eq \"701984\"", 1);
    M(user, bjensen, ENT ":EmployeeNumber eq \"701985\"", 0);
    M(user, bjensen, "employeeNumber eq \"701984\"", 1);
    M(user, bjensen, "department co \"tour\"", 1);
    M(user, bjensen, ENT ":manager.value eq "
      "\"26118915-6090-4610-87e4-49d8ca9f808d\"", 1);
    M(user, bjensen, "manager.value eq \"x\"", 0);
    M(user, bjensen, ENT ":manager pr", 1);
    M(user, bjensen, ENT " pr", 1);
    M(user, bjensen, "urn:ietf:params:scim:schemas:extension:GlobalRelay:"
      "2.0:User:proxyAddresses co \"babs@relay\"", 1);
    M(user, bjensen, "urn:ietf:params:scim:schemas:extension:GlobalRelay:"
      "2.0:User:proxyAddresses co \"nobody\"", 0);
    M(user, bjensen, "costCenter pr", 0);

    /* meta and common attributes */
    M(user, bjensen, "meta.resourceType eq \"User\"", 1);
    M(user, bjensen, "meta.resourceType eq \"user\"", 0);
    M(user, bjensen, "meta.version pr", 1);

    /* multi-valued: any value; complex compared directly: "value" */
    M(user, bjensen, "emails.value eq \"babs@jensen.org\"", 1);
    M(user, bjensen, "emails eq \"babs@jensen.org\"", 1);
    M(user, bjensen, "emails eq \"work\"", 0);
    M(user, bjensen, "emails.type eq \"home\"", 1);
    M(user, bjensen, "emails pr", 1);
    M(user, bjensen, "phoneNumbers pr", 0);
    M(user, bjensen, "name pr", 1);

    /* precedence: not > and > or */
    M(user, bjensen, "title pr or nickName pr and userType eq \"Intern\"", 1);
    M(user, bjensen, "nickName pr and userType eq \"Intern\" or title pr", 1);
    M(user, bjensen, "not (title pr) or userType eq \"Employee\"", 1);
    M(user, bjensen, "not (title pr) and userType eq \"Employee\"", 0);
    M(user, bjensen, "not (nickName pr) and not (userType eq \"Intern\")",
      1);
    M(user, bjensen, "not(nickName pr)", 1);
    M(user, bjensen, "not nickName pr", 1);
    M(user, bjensen, "not not (title pr)", 1);
    M(user, bjensen, "((((title pr))))", 1);
    M(user, bjensen, "(title pr)and(userType eq \"Employee\")", 1);

    /* ne, null */
    M(user, bjensen, "nickName ne \"x\"", 1);
    M(user, bjensen, "userType ne \"employee\"", 0);
    M(user, bjensen, "nickName eq null", 1);
    M(user, bjensen, "title eq null", 0);
    M(user, bjensen, "title ne null", 1);
    M(user, bjensen, "title gt null", 0);

    /* strings: ordering, escapes, unicode */
    M(user, bjensen, "userName gt \"a\"", 1);
    M(user, bjensen, "userName lt \"a\"", 0);
    M(user, bjensen, "userName ge \"BJENSEN@EXAMPLE.COM\"", 1);
    M(user, bjensen, "userName gt \"BJENSEN@EXAMPLE.COM\"", 0);
    M(user, bjensen, "title eq \"Tour \\\"Guide\\\"\"", 1);
    M(user, bjensen, "title eq \"tour \\u0022guide\\u0022\"", 1);
    M(user, bjensen, "title co \"\"", 1);
    M(user, bjensen, "title sw \"\"", 1);
    M(user, bjensen, "title eq \"\"", 0);
    M(user, bjensen, "nickName co \"\"", 0);
    M(user, bjensen, "locale eq \"zo\\u00eb \\u00e5str\\u00f6m "
      "\\ud83d\\ude00\"", 1);
    M(user, bjensen, "locale sw \"ZO\xc3\x8b \xc3\x85STR\"", 1);
    M(user, bjensen, "locale ew \"\xf0\x9f\x98\x80\"", 1);
    M(user, bjensen, "name.givenName eq \"Barbara\\/x\"", 0);

    /* dateTime: chronological, offsets, fractions */
    M(user, bjensen, "meta.lastModified eq \"2011-05-13T06:42:34+02:00\"",
      1);
    M(user, bjensen, "meta.lastModified eq \"2011-05-13T04:42:34.000Z\"", 1);
    M(user, bjensen, "meta.lastModified lt \"2011-05-13T04:42:34.001Z\"", 1);
    M(user, bjensen, "meta.lastModified gt \"2011-05-13T04:42:33.999Z\"", 1);
    M(user, bjensen, "meta.lastModified lt \"2011-05-13T04:42:34-00:01\"",
      1);
    M(user, bjensen, "meta.lastModified gt \"2011-05-13T05:42:34+01:30\"",
      1);
    M(user, bjensen, "meta.lastModified gt \"2011-05-12\"", 1);
    M(user, bjensen, "meta.lastModified sw \"2011-05\"", 1);
    M(user, bjensen, "meta.created lt \"1999-12-31T23:59:60Z\"", 0);
    M(user, bjensen, "meta.created gt \"not a date\"", -1);

    /* integer, decimal, boolean of an extension */
    M(user, bjensen, "level gt 5", 1);
    M(user, bjensen, "level gt \"5\"", 1);
    M(user, bjensen, "level eq 10", 1);
    M(user, bjensen, "level eq 10.0", 1);
    M(user, bjensen, "level le 9", 0);
    M(user, bjensen, "level co 1", 0);
    M(user, bjensen, "level eq \"ten\"", -1);
    M(user, bjensen, "score lt 2.5", 1);
    M(user, bjensen, "score gt 2.25", 0);
    M(user, bjensen, "score ge 2.25", 1);
    M(user, bjensen, "score eq 225e-2", 1);
    M(user, bjensen, "big eq 9007199254740993", 1);
    M(user, bjensen, "big eq 9007199254740992", 0);
    M(user, bjensen, "vip eq false", 1);
    M(user, bjensen, "vip eq \"False\"", 1);
    M(user, bjensen, TST ":vip eq true", 0);

    /* attributes never returned never match */
    M(user, bjensen, "password eq \"secret\"", 0);
    M(user, bjensen, "password pr", 0);
    M(user, bjensen, "password sw \"s\"", 0);
}


static void
test_generic(void)
{
    json_t  *doc;

    /* names in the document in another case; unknown attributes */
    doc = json_pack("{s:s, s:{s:s}, s:[s, s], s:{s:s}, s:i, s:b}",
                    "UserName", "Alice", "NAME", "GivenName", "Al",
                    "Tags", "Red", "blue",
                    "urn:ietf:params:scim:schemas:extension:x:2.0:User",
                    "Badge", "B-42", "count", 3, "flag", 1);

    M(user, doc, "userName eq \"alice\"", 1);
    M(user, doc, "name.givenName eq \"AL\"", 1);
    M(user, doc, "tags eq \"RED\"", 1);
    M(user, doc, "tags eq \"green\"", 0);
    M(user, doc, "count gt 2", 1);
    M(user, doc, "count lt 2", 0);
    M(user, doc, "flag eq \"True\"", 1);
    M(user, doc, "urn:ietf:params:scim:schemas:extension:x:2.0:User:badge "
      "eq \"b-42\"", 1);
    M(NULL, doc, "badge eq \"b-42\"", 1);
    M(NULL, doc, "userName eq \"ALICE\"", 1);

    json_decref(doc);

    /* strings longer than the stack buffer fold the same */
    {
        char  longv[400], flt[500];

        memset(longv, 'a', 300);
        longv[300] = '\0';
        doc = json_pack("{ss}", "userName", longv);
        memset(longv, 'A', 300);
        snprintf(flt, sizeof(flt), "userName eq \"%s\"", longv);
        is_int(fm(user, doc, flt), 1, "300 characters, other case");
        snprintf(flt, sizeof(flt), "userName ew \"%sb\"", longv + 200);
        is_int(fm(user, doc, flt), 0, "300 characters, ew differs");
        json_decref(doc);
    }

    /* rt unknown when parsing (root .search) */
    M(NULL, bjensen, "meta.lastModified eq \"2011-05-13T06:42:34+02:00\"",
      1);
    M(NULL, bjensen, "meta.lastModified gt \"2011-05-13T05:42:34+01:30\"",
      1);
    M(NULL, bjensen, "meta.lastModified lt \"2011-05-13T04:42:34.5Z\"", 1);
    M(NULL, bjensen, "meta.lastModified sw \"2011-05-13T04\"", 1);
    M(NULL, bjensen, "employeeNumber eq \"701984\"", 1);
    M(NULL, bjensen, "userName eq \"BJENSEN@example.com\"", 1);
    M(NULL, bjensen, "externalId eq \"BJENSEN\"", 1);
    M(NULL, bjensen, "emails[type eq \"work\"].value eq "
      "\"bjensen@example.com\"", 1);
    M(NULL, bjensen, "roles[primary eq \"True\"]", 1);

    /* parsed without rt, matched with rt: caseExact applies then */
    {
        scim_error_t        err;
        scim_filter_t      *f;
        static const char   fs[] = "externalId eq \"BJENSEN\"";

        f = scim_filter_parse(NULL, fs, sizeof(fs) - 1, &err);
        ok(f != NULL, "parse without rt");
        is_int(scim_filter_match(f, user, bjensen), 0,
               "caseExact resolved when matching");
        is_int(scim_filter_match(f, NULL, bjensen), 1,
               "case-insensitive without rt");
        is_int(scim_filter_match(f, user, NULL), 0, "NULL doc");
        is_int(scim_filter_match(NULL, user, bjensen), 0, "NULL filter");
        scim_filter_free(f);
        scim_filter_free(NULL);
    }

    /* groups */
    M(group, grp, "displayName eq \"tour guides\"", 1);
    M(group, grp, "members[value eq \"u1\"]", 1);
    M(group, grp, "members eq \"u1\"", 1);
    M(group, grp, "members.value eq \"u3\"", 0);
    /* RFC 7643 8.7.1: members.value is caseExact false */
    M(group, grp, "members.value eq \"U1\"", 1);
    M(group, grp, "members[type eq \"Group\"].value eq \"g2\"", 1);
    M(group, grp, "members[type eq \"user\" and value eq \"g2\"]", 0);
    M(group, grp, "externalId eq \"g-ext-1\"", 1);
    M(group, grp, "userName pr", 0);
}


static void
test_errors(void)
{
    char    *big;
    size_t   i, n;

    E("", "invalid filter: empty filter at position 0");
    E("   ", "invalid filter: empty filter at position 3");
    E("userName eq", "invalid filter: expected a value at position 11");
    E("userName eq ", "invalid filter: expected a value at position 12");
    E("userName", "invalid filter: expected an operator at position 8");
    E("userName ", "invalid filter: expected an operator at position 9");
    E("userName xx \"a\"",
      "invalid filter: unknown operator \"xx\" at position 9");
    E("userName equals \"a\"",
      "invalid filter: unknown operator \"equals\" at position 9");
    E("userName eq \"abc",
      "invalid filter: unterminated string at position 12");
    E("userName eq \"abc\\\"",
      "invalid filter: unterminated string at position 12");
    E("(userName eq \"a\"",
      "invalid filter: expected ')' to close '(' at 0 at position 16");
    E("userName eq \"a\")", "invalid filter: unbalanced ')' at position 15");
    E("emails[type eq \"work\"",
      "invalid filter: expected ']' at position 21");
    E("emails[type eq \"work\"]]",
      "invalid filter: unbalanced ']' at position 22");
    E("emails[type eq \"work\"]x",
      "invalid filter: unexpected text at position 22");
    E("userName eq \"a\" garbage",
      "invalid filter: unexpected text at position 16");
    E("userName eq \"a\" and",
      "invalid filter: expected an expression at position 19");
    E("userName eq \"a\" and ()",
      "invalid filter: expected an attribute name at position 21");
    E("emails[type[value eq \"x\"] eq \"y\"]",
      "invalid filter: nested value filter at position 11");
    E("emails[]", "invalid filter: expected an attribute name at position 7");
    E("emails.value[type eq \"x\"]",
      "invalid filter: value filter after a sub-attribute at position 12");
    E("userName eq \"\\x\"", "invalid filter: invalid escape at position 13");
    E("userName eq \"\\u12\"",
      "invalid filter: invalid \\u escape at position 13");
    E("userName eq \"\\ud800\"",
      "invalid filter: lone high surrogate at position 13");
    E("userName eq \"\\udc00x\"",
      "invalid filter: lone low surrogate at position 13");
    E("userName eq \"\\u0000\"",
      "invalid filter: NUL in string at position 13");
    E("userName eq \"\xff\"",
      "invalid filter: invalid UTF-8 in value at position 12");
    E("userName eq a\xc3", "invalid filter: invalid UTF-8 in value at "
      "position 12");
    E(".userName eq \"x\"",
      "invalid filter: expected an attribute name at position 0");
    E("name. eq \"x\"",
      "invalid filter: expected a sub-attribute name at position 5");
    E("name.givenName.x eq \"x\"",
      "invalid filter: unexpected '.' after attribute path at position 14");
    E("urn:x eq \"a\"", "invalid filter: invalid schema URN at position 0");
    E("userName=\"a\"",
      "invalid filter: unexpected '=' after attribute path at position 8");
    E("userName eq(\"a\")", "invalid filter: expected a value at position 11");
    E("active gt true", "invalid filter: \"gt\" is not allowed on boolean "
      "attribute \"active\" at position 7");
    E("emails[primary le false]", "invalid filter: \"le\" is not allowed on "
      "boolean attribute \"primary\" at position 15");
    E("x509Certificates.value gt \"a\"", "invalid filter: \"gt\" is not "
      "allowed on binary attribute \"value\" at position 23");
    E("emails[type eq \"work\"].value eq",
      "invalid filter: expected a value at position 31");
    E("not (", "invalid filter: expected an expression at position 5");
    E("userName eq \"a\" or or pr", "");
    E("userName eq \"a\" or or", "invalid filter: expected an operator at "
      "position 21");

    is_str(fe(user, "userName eq \"a\0\"", 16),
           "invalid filter: NUL in string at position 14", "raw NUL");
    is_str(fe(user, "userName\0eq \"a\"", 15),
           "invalid filter: unexpected byte 0x00 after attribute path "
           "at position 8",
           "raw NUL after a name");
    is_str(fe(user, NULL, 10), "invalid filter: empty filter at position 0",
           "NULL string");

    /* nesting: 60 levels parse, 100 do not, neither crash */

    big = malloc(400000);
    if (big == NULL) {
        ok(0, "malloc");
        return;
    }

    n = 0;
    for (i = 0; i < 60; i++) {
        big[n++] = '(';
    }
    memcpy(big + n, "title pr", 8);
    n += 8;
    for (i = 0; i < 60; i++) {
        big[n++] = ')';
    }
    big[n] = '\0';
    M(user, bjensen, big, 1);

    n = 0;
    for (i = 0; i < 100; i++) {
        big[n++] = '(';
    }
    memcpy(big + n, "title pr", 8);
    n += 8;
    for (i = 0; i < 100; i++) {
        big[n++] = ')';
    }
    big[n] = '\0';
    is_str(fe(user, big, n), "invalid filter: nesting too deep at position 64",
           "100 parentheses");

    n = 0;
    for (i = 0; i < 1000; i++) {
        memcpy(big + n, "not ", 4);
        n += 4;
    }
    memcpy(big + n, "title pr", 9);
    is_str(fe(user, big, strlen(big)),
           "invalid filter: nesting too deep at position 256",
           "1000 times \"not\"");

    n = 0;
    for (i = 0; i < 30; i++) {
        memcpy(big + n, "not (", 5);
        n += 5;
    }
    memcpy(big + n, "title pr", 8);
    n += 8;
    for (i = 0; i < 30; i++) {
        big[n++] = ')';
    }
    big[n] = '\0';
    M(user, bjensen, big, 1);

    /* a long flat chain is no deep tree: 1000 terms */
    n = 0;
    for (i = 0; i < 1000; i++) {
        memcpy(big + n, "nickName pr or ", 15);
        n += 15;
    }
    memcpy(big + n, "title pr", 9);
    is_int(fm(user, bjensen, big), 1, "1001 terms joined by or");

    n = 0;
    for (i = 0; i < 1000; i++) {
        memcpy(big + n, "title pr and ", 13);
        n += 13;
    }
    memcpy(big + n, "nickName pr", 12);
    is_int(fm(user, bjensen, big), 0, "1001 terms joined by and");

    /* too long */
    memset(big, ' ', 70000);
    memcpy(big + 69990, "title pr", 9);
    E(big, "invalid filter: longer than 16384 bytes at position 16384");
    memcpy(big + 16376, "title pr", 9);
    E(big, "");
    memcpy(big + 16376, " title pr", 10);
    E(big, "invalid filter: longer than 16384 bytes at position 16384");

    /* unbalanced brackets of every kind */
    for (i = 0; i < 1000; i++) {
        big[i] = "([])"[i % 4];
    }
    big[1000] = '\0';
    ok(strstr(fe(user, big, 1000), "at position") != NULL,
       "bracket soup is an error with a position");

    free(big);
}


/*
 * A value of the wrong kind for the attribute's type, or an operator the
 * type has no use for: 400 invalidFilter naming the position, when the
 * resource type is known; what clients send that makes sense parses.
 */

static void
test_types(void)
{
    /* t/80-filters.t */
    E("meta.created gt \"yesterday\"", "invalid filter: \"yesterday\" is "
      "not a dateTime (dateTime attribute \"created\") at position 16");
    E(TST ":level gt \"many\"", "invalid filter: \"many\" is not an "
      "integer (integer attribute \"level\") at position 62");
    E("hired lt 12", "invalid filter: 12 is not a dateTime (dateTime "
      "attribute \"hired\") at position 9");
    E(TST ":hired lt 12", "invalid filter: 12 is not a dateTime (dateTime "
      "attribute \"hired\") at position 62");
    E("level gt \"many\"", "invalid filter: \"many\" is not an integer "
      "(integer attribute \"level\") at position 9");

    /* dateTime: eq ne gt ge lt le need an xsd:dateTime, quoted or not */
    E("meta.lastModified lt 12", "invalid filter: 12 is not a dateTime "
      "(dateTime attribute \"lastModified\") at position 21");
    E("meta.created eq true", "invalid filter: true is not a dateTime "
      "(dateTime attribute \"created\") at position 16");
    E("meta.created ne \"2011-13-01\"", "invalid filter: \"2011-13-01\" is "
      "not a dateTime (dateTime attribute \"created\") at position 16");
    E("meta.created gt 2011-05-13T04:42:34Z", "");
    E("meta.created gt \"2011-05-13T04:42:34.5+02:00\"", "");
    E("meta.created ge \"2011-05-13\"", "");
    E("meta.created sw \"2011-05\"", "");
    E("meta.created co 2011", "");
    E("meta.created ew \"Z\"", "");
    E("meta.created eq null", "");
    E("meta.created ne null", "");
    E("meta.created pr", "");

    /* integer and decimal: numbers, quoted numbers too */
    E("level gt 5", "");
    E("level gt \"5\"", "");
    E("level gt 6.5", "");
    E("level lt -1e3", "");
    E("score ge 1e1", "");
    E("score eq \"2.25\"", "");
    E("level eq null", "");
    E("level eq true", "invalid filter: true is not an integer (integer "
      "attribute \"level\") at position 9");
    E("level eq 0x10", "invalid filter: 0x10 is not an integer (integer "
      "attribute \"level\") at position 9");
    E("score lt \"2,5\"", "invalid filter: \"2,5\" is not a number "
      "(decimal attribute \"score\") at position 9");
    E("score eq \"\"", "invalid filter: \"\" is not a number (decimal "
      "attribute \"score\") at position 9");

    /* boolean: true/false in any case, quoted or not (Entra: "True") */
    E("active eq true", "");
    E("active eq \"True\"", "");
    E("active ne FALSE", "");
    E("active eq \"fAlSe\"", "");
    E("emails[primary eq \"True\"]", "");
    E("active eq null", "");
    E("active eq \"yes\"", "invalid filter: \"yes\" is not true or false "
      "(boolean attribute \"active\") at position 10");
    E("active eq 1", "invalid filter: 1 is not true or false (boolean "
      "attribute \"active\") at position 10");
    E("vip ne \"true \"", "invalid filter: \"true \" is not true or false "
      "(boolean attribute \"vip\") at position 7");
    E("emails[primary eq \"yes\"]", "invalid filter: \"yes\" is not true "
      "or false (boolean attribute \"primary\") at position 18");
    E("emails[type eq \"work\"].primary eq 0", "invalid filter: 0 is not "
      "true or false (boolean attribute \"primary\") at position 34");
    E("active co \"t\"", "invalid filter: \"co\" is not allowed on boolean "
      "attribute \"active\" at position 7");
    E("active sw true", "invalid filter: \"sw\" is not allowed on boolean "
      "attribute \"active\" at position 7");
    E("vip ew \"e\"", "invalid filter: \"ew\" is not allowed on boolean "
      "attribute \"vip\" at position 4");
    E("active ge true", "invalid filter: \"ge\" is not allowed on boolean "
      "attribute \"active\" at position 7");

    /* complex without "value": no order; with "value": its type */
    E("name gt \"x\"", "invalid filter: \"gt\" is not allowed on complex "
      "attribute \"name\" at position 5");
    E("meta le \"x\"", "invalid filter: \"le\" is not allowed on complex "
      "attribute \"meta\" at position 5");
    E("name pr", "");
    E("emails gt \"a\"", "");
    E("emails[primary eq true] and name.givenName lt \"z\"", "");

    /* strings, references, binaries: any value, compared as text */
    E("userName eq 123", "");
    E("userName gt true", "");
    E("title eq null", "");
    E("x509Certificates.value eq \"MIIDQzCC\"", "");
    E("externalId eq 2011-05-13", "");

    /* a long value is cut in the message, at a character boundary */
    E("meta.created gt \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9"
      "\xc3\xa9\"", "invalid filter: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxx...\" is not a dateTime (dateTime attribute \"created\") at "
      "position 16");

    /* unknown attributes, and no resource type: compared as found */
    E("noSuch gt \"many\"", "");
    E("emails.noSuch eq true", "");
    is_str(fe(NULL, "meta.created gt \"yesterday\"", 27), "",
           "no resource type: no type check");
    is_str(fe(NULL, "active co \"t\"", 13), "",
           "no resource type: co on active parses");

    /* evaluation of what parses */
    M(user, bjensen, "level gt \"9\"", 1);
    M(user, bjensen, "level lt 10.5", 1);
    M(user, bjensen, "score eq \"2.25\"", 1);
    M(user, bjensen, "vip eq \"FALSE\"", 1);
    M(user, bjensen, "meta.created lt 2010-01-24", 1);
    M(user, bjensen, "hired eq \"2015-10-10T12:38:21Z\"", 1);
    M(user, bjensen, "hired gt 2015-10-10T13:00:00Z", 0);
    M(user, bjensen, "hired sw \"2015-10-10T14\"", 1);
    M(user, bjensen, "meta.created sw \"2010-01\"", 1);
    M(user, bjensen, "emails gt \"babs@jensen.orf\"", 1);
    M(user, bjensen, "emails gt \"c\"", 0);
}


static void
test_hints(void)
{
    int          r;
    const char  *v;

    static const char *const  upaths[] = {
        "id", "userName", "externalId", "emails[type eq \"work\"].value"
    };
    static const char *const  gpaths[] = {
        "id", "displayName", "externalId", "members.value"
    };

    r = hint(user, "userName eq \"bjensen\"", upaths, 4, &v);
    is_int(r, 1, "hint userName");
    is_str(v, "bjensen", "hint value");

    r = hint(user, "UserName Eq \"x\" and active eq true", upaths, 4, &v);
    is_int(r, 1, "hint under and");
    is_str(v, "x", "hint value under and");

    r = hint(user, "active eq true and (title pr and externalId eq \"e1\")",
             upaths, 4, &v);
    is_int(r, 2, "hint in nested and");
    is_str(v, "e1", "hint value in nested and");

    r = hint(user, "userName eq \"a\" and id eq \"i1\"", upaths, 4, &v);
    is_int(r, 0, "the first path listed wins");
    is_str(v, "i1", "hint value of id");

    r = hint(user, "userName eq \"a\" or externalId eq \"b\"", upaths, 4, &v);
    is_int(r, -1, "no hint through or");

    r = hint(user, "not (userName eq \"a\")", upaths, 4, &v);
    is_int(r, -1, "no hint through not");

    r = hint(user, "userName ne \"a\"", upaths, 4, &v);
    is_int(r, -1, "no hint for ne");

    r = hint(user, "userName eq null", upaths, 4, &v);
    is_int(r, -1, "no hint for null");

    r = hint(user, "userName co \"a\"", upaths, 4, &v);
    is_int(r, -1, "no hint for co");

    r = hint(user, "externalId eq 123", upaths, 4, &v);
    is_int(r, 2, "hint for an unquoted number");
    is_str(v, "123", "its text");

    r = hint(user, "urn:ietf:params:scim:schemas:core:2.0:User:userName eq "
             "\"u\"", upaths, 4, &v);
    is_int(r, 1, "hint through the core URN");

    r = hint(user, "emails[type eq \"work\"].value eq \"x@y\"", upaths, 4,
             &v);
    is_int(r, 3, "hint for Entra's email path");
    is_str(v, "x@y", "hint value for Entra's email path");

    r = hint(user, "emails[Type eq \"Work\"].Value eq \"x@y\"", upaths, 4,
             &v);
    is_int(r, 3, "hint for Entra's email path in another case");

    r = hint(user, "emails[type eq \"home\"].value eq \"x@y\"", upaths, 4,
             &v);
    is_int(r, -1, "no hint for another type");

    r = hint(group, "displayName eq \"Tour Guides\"", gpaths, 4, &v);
    is_int(r, 1, "hint displayName");
    is_str(v, "Tour Guides", "hint value displayName");

    r = hint(group, "members[value eq \"u1\"]", gpaths, 4, &v);
    is_int(r, 3, "hint members[value eq]");
    is_str(v, "u1", "hint value members[value eq]");

    r = hint(group, "members eq \"u2\"", gpaths, 4, &v);
    is_int(r, 3, "hint members eq (complex)");
    is_str(v, "u2", "hint value members eq");

    r = hint(group, "id eq \"g\" and members.value eq \"u3\"", gpaths + 3, 1,
             &v);
    is_int(r, 0, "hint members.value");
    is_str(v, "u3", "hint value members.value");

    r = hint(group, "members[value eq \"u1\" or value eq \"u2\"]", gpaths, 4,
             &v);
    is_int(r, -1, "no hint through an inner or");

    r = hint(group, "members[type eq \"User\" and value eq \"u9\"]", gpaths,
             4, &v);
    is_int(r, 3, "hint through an inner and");
    is_str(v, "u9", "hint value through an inner and");

    r = hint(user, "userName eq \"a\"", NULL, 0, &v);
    is_int(r, -1, "no paths");
}


/* scim_filter_required_literal: what a scan may look for in the text */

static void
literal_is(const char *filter, const char *want, const char *name)
{
    size_t          n;
    const char     *l, *key;
    char            buf[256];
    scim_error_t    err;
    scim_filter_t  *f;

    memset(&err, 0, sizeof(err));

    f = scim_filter_parse(user, filter, strlen(filter), &err);
    if (!ok(f != NULL, "%s: parses", name)) {
        printf("#   %s\n", err.detail);
        return;
    }

    l = scim_filter_required_literal(f, &n, &key);

    if (l != NULL && n < sizeof(buf)) {
        memcpy(buf, l, n);
        buf[n] = '\0';
        l = buf;
    }

    is_str(l, want, "%s", name);

    if (want != NULL) {
        ok(key != NULL && strchr(filter, key[0]) != NULL
           && strstr(filter, key) != NULL, "%s: key %s", name,
           key ? key : "(null)");
    }

    scim_filter_free(f);
}


static void
test_literal(void)
{
    literal_is("title co \"x\"", "x", "title co: its literal");
    literal_is("userName eq \"bjensen\" and title co \"Boss\"", "bjensen",
               "and: the longest literal");
    literal_is("(title sw \"Tour\") and active eq true", "Tour",
               "and with a boolean: the string's");
    literal_is("title co \"x\" or userName eq \"y\"", NULL,
               "or: none (either may hold)");
    literal_is("not (title co \"x\")", NULL, "not: none");
    literal_is("title pr", NULL, "pr: none");
    literal_is("title ne \"x\"", NULL, "ne: none");
    literal_is("title gt \"x\"", NULL, "gt: none");
    literal_is("emails[type eq \"work\"].value eq \"a@x\"", "a@x",
               "Entra's value path on a sub-attribute: its literal");
    literal_is("emails[type eq \"work\"]", NULL,
               "a value path alone: none");
    literal_is("groups.display eq \"Sales\"", NULL,
               "groups: added on read, none");
    literal_is("meta.location co \"x\"", NULL, "meta: none");
    literal_is("manager.displayName eq \"Boss\"", NULL,
               "manager: its displayName is added on read, none");
    literal_is("title co \"a\\\"b\"", NULL, "a quote in it: none");
    literal_is("title co \"caf\u00e9\"", NULL, "non-ASCII: none");
    literal_is("emails.value co \"@example\"", "@example",
               "a sub-attribute kept in the document");
    literal_is(TST ":level eq 5", NULL, "an integer: none");
    literal_is(TST ":labels co \"x\"", NULL,
               "a multi-valued string (stored as an array): none");
}


int
main(void)
{
    scim_error_t      err;
    json_t           *ext;
    json_error_t      jerr;
    scim_registry_t  *reg;

    memset(&err, 0, sizeof(err));

    reg = scim_registry_create(&err);
    if (reg == NULL) {
        printf("Bail out! registry: %s\n", err.detail);
        return 1;
    }

    ext = json_loads(test_ext, 0, &jerr);
    if (ext == NULL
        || scim_registry_add_user_extension(reg, ext, &err) != 0)
    {
        printf("Bail out! extension: %s %s\n", jerr.text, err.detail);
        return 1;
    }
    json_decref(ext);

    user = scim_registry_user(reg);
    group = scim_registry_group(reg);

    bjensen = json_loads(user_json, 0, &jerr);
    grp = json_loads(group_json, 0, &jerr);

    if (bjensen == NULL || grp == NULL) {
        printf("Bail out! fixture: %s at %d\n", jerr.text, jerr.position);
        return 1;
    }

    test_literal();
    test_rfc_examples();
    test_entra();
    test_attributes();
    test_generic();
    test_errors();
    test_types();
    test_hints();

    json_decref(bjensen);
    json_decref(grp);
    scim_registry_free(reg);

    return done_testing();
}
