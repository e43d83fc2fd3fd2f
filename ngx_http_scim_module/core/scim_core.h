
/*
 * ngx_http_scim_module: the SCIM core.
 *
 * Plain C on jansson: no nginx, no hiredis.  Everything SCIM means
 * (schemas, validation, filters, PATCH, projection, sorting, errors)
 * lives behind this header, so that it can be unit-tested and fuzzed
 * on its own.
 *
 * Memory: the core allocates with malloc() (jansson's allocator); the
 * nginx glue ties every object's lifetime to a pool cleanup.
 *
 * Conventions:
 *  - functions that can fail take a scim_error_t *err, fill it and
 *    return NULL or -1; on success they return non-NULL or 0;
 *  - attribute names and schema URNs are matched case-insensitively
 *    (RFC 7643 2.1); output always uses the schema's canonical case;
 *  - "stored document" means the resource as kept in Redis: canonical
 *    names, no nulls, no password in clear, "meta" without "location",
 *    no "$ref" (they are added on output from the request's base URL),
 *    groups without "members", users without "groups" (both live in
 *    Redis sets).
 */

#ifndef _SCIM_CORE_H_INCLUDED_
#define _SCIM_CORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <jansson.h>


#define SCIM_SCHEMA_USER        "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_SCHEMA_GROUP       "urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_SCHEMA_ENTERPRISE                                               \
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_SCHEMA_ERROR       "urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_SCHEMA_LIST                                                     \
    "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_SCHEMA_PATCHOP     "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_SCHEMA_SEARCH                                                   \
    "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
#define SCIM_SCHEMA_BULK_REQ                                                 \
    "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define SCIM_SCHEMA_BULK_RESP                                                \
    "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
#define SCIM_SCHEMA_SPC                                                      \
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define SCIM_SCHEMA_RESOURCE_TYPE                                            \
    "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define SCIM_SCHEMA_SCHEMA      "urn:ietf:params:scim:schemas:core:2.0:Schema"


/*
 * The longest id, and the longest reference to one, that a client may
 * send (bytes): enterprise manager.value and Group members[].value are
 * refused above it (400 invalidValue) by scim_resource_normalize() and
 * by PATCH.  The ids this module hands out are 36 bytes (UUIDs), and an
 * id in a URL path is only ever one of those.  Documents stored before
 * the limit, with longer values, are still served (never by the fast
 * read path, which declines them).
 */
#define SCIM_MAX_ID_LEN         256


/* ---------------------------------------------------------------- errors */

/* scimType values of RFC 7644 3.12 (static strings) */
#define SCIM_ERR_INVALID_FILTER  "invalidFilter"
#define SCIM_ERR_TOO_MANY        "tooMany"
#define SCIM_ERR_UNIQUENESS      "uniqueness"
#define SCIM_ERR_MUTABILITY      "mutability"
#define SCIM_ERR_INVALID_SYNTAX  "invalidSyntax"
#define SCIM_ERR_INVALID_PATH    "invalidPath"
#define SCIM_ERR_NO_TARGET       "noTarget"
#define SCIM_ERR_INVALID_VALUE   "invalidValue"
#define SCIM_ERR_INVALID_VERS    "invalidVers"
#define SCIM_ERR_SENSITIVE       "sensitive"
/* RFC 9865 (cursor pagination) */
#define SCIM_ERR_INVALID_CURSOR  "invalidCursor"
#define SCIM_ERR_EXPIRED_CURSOR  "expiredCursor"

typedef struct {
    int          status;          /* HTTP status; 0: no error */
    const char  *scim_type;       /* one of SCIM_ERR_* or NULL */
    char         detail[512];     /* human-readable, NUL-terminated */
} scim_error_t;

/* fills err and returns -1, so that "return scim_error_set(...)" works */
int scim_error_set(scim_error_t *err, int status, const char *scim_type,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/*
 * {"schemas":[Error],"status":"400","scimType":"...","detail":"..."};
 * status is a string as RFC 7644 3.12 shows it
 */
json_t *scim_error_to_json(const scim_error_t *err);


/* ---------------------------------------------------------------- schema */

typedef enum {
    SCIM_TYPE_STRING = 0,
    SCIM_TYPE_BOOLEAN,
    SCIM_TYPE_DECIMAL,
    SCIM_TYPE_INTEGER,
    SCIM_TYPE_DATETIME,
    SCIM_TYPE_BINARY,
    SCIM_TYPE_REFERENCE,
    SCIM_TYPE_COMPLEX
} scim_type_t;

typedef enum {
    SCIM_MUT_READWRITE = 0,
    SCIM_MUT_READONLY,
    SCIM_MUT_IMMUTABLE,
    SCIM_MUT_WRITEONLY
} scim_mutability_t;

typedef enum {
    SCIM_RET_DEFAULT = 0,
    SCIM_RET_ALWAYS,
    SCIM_RET_NEVER,
    SCIM_RET_REQUEST
} scim_returned_t;

typedef enum {
    SCIM_UNIQ_NONE = 0,
    SCIM_UNIQ_SERVER,
    SCIM_UNIQ_GLOBAL
} scim_uniqueness_t;

typedef struct scim_schema_s  scim_schema_t;
typedef struct scim_attr_s    scim_attr_t;

struct scim_attr_s {
    char                 *name;            /* canonical case */
    char                 *description;
    scim_type_t           type;
    unsigned              multi_valued:1;
    unsigned              required:1;
    unsigned              case_exact:1;
    scim_mutability_t     mutability;
    scim_returned_t       returned;
    scim_uniqueness_t     uniqueness;
    char                **canonical_values;
    size_t                n_canonical_values;
    char                **reference_types;
    size_t                n_reference_types;
    scim_attr_t          *sub_attrs;       /* COMPLEX only */
    size_t                n_sub_attrs;
    const scim_attr_t    *parent;          /* NULL for top-level */
    const scim_schema_t  *schema;          /* owning schema */
};

struct scim_schema_s {
    char                 *id;              /* the URN, canonical case */
    char                 *name;
    char                 *description;
    scim_attr_t          *attrs;
    size_t                n_attrs;
    json_t               *json;            /* the Schema resource as
                                              served by /Schemas, without
                                              "meta" (owned) */
};

typedef struct {
    const char           *name;            /* "User", "Group" */
    const char           *endpoint;        /* "/Users", "/Groups" */
    const char           *description;
    const scim_schema_t  *schema;          /* core schema */
    const scim_schema_t **extensions;      /* enterprise + configured */
    size_t                n_extensions;
} scim_resource_type_t;

typedef struct scim_registry_s  scim_registry_t;

/*
 * A registry holds the built-in schemas (core User and Group, enterprise
 * User; RFC 7643 section 8.7) and the resource types User and Group.
 * The User type has the enterprise extension first, then every extension
 * added, in the order added.
 */
scim_registry_t *scim_registry_create(scim_error_t *err);

/* an RFC 7643 section 7 schema document; the registry keeps a reference */
int scim_registry_add_user_extension(scim_registry_t *reg, json_t *schema,
    scim_error_t *err);

void scim_registry_free(scim_registry_t *reg);

const scim_resource_type_t *scim_registry_user(const scim_registry_t *reg);
const scim_resource_type_t *scim_registry_group(const scim_registry_t *reg);

/* all schemas, core first: for /Schemas */
size_t scim_registry_n_schemas(const scim_registry_t *reg);
const scim_schema_t *scim_registry_schema(const scim_registry_t *reg,
    size_t i);
/* case-insensitive URN lookup; NULL if unknown */
const scim_schema_t *scim_registry_find_schema(const scim_registry_t *reg,
    const char *urn, size_t len);

/* case-insensitive lookup among attrs[0..n); NULL if none */
const scim_attr_t *scim_attr_find(const scim_attr_t *attrs, size_t n,
    const char *name, size_t len);

/*
 * A reference to an attribute, resolved against a resource type:
 * "userName", "name.givenName", "emails", "emails.value",
 * "urn:...:enterprise:2.0:User:manager", "urn:...:User:manager.value",
 * "meta.lastModified", "id".  A name that the core schema lacks is also
 * looked up in the extensions (so "manager" or "department" resolve to
 * the enterprise extension), core first.
 */
typedef struct {
    const scim_schema_t  *schema;   /* owning schema; NULL for the common
                                       attributes id, externalId, meta */
    const scim_attr_t    *attr;     /* top-level attribute */
    const scim_attr_t    *sub;      /* sub-attribute or NULL */
} scim_attr_ref_t;

/* 0 and *out filled; -1 with invalidPath/invalidFilter left to caller:
   returns -1 without touching err when the name is unknown */
int scim_attr_resolve(const scim_resource_type_t *rt, const char *path,
    size_t len, scim_attr_ref_t *out);


/* --------------------------------------------------------------- resource */

typedef enum {
    SCIM_INPUT_CREATE = 0,   /* POST body: "schemas" must list the core
                                schema */
    SCIM_INPUT_REPLACE,      /* PUT body: same checks as CREATE */
    SCIM_INPUT_STORED        /* a document after PATCH (no "schemas"
                                check; rebuilt from what is present) */
} scim_input_mode_t;

/*
 * Validates a client's resource and returns a new stored document.
 *
 * Accepts what real clients (Entra ID above all) send: unknown URNs in
 * "schemas"; extension blocks of known schemas that "schemas" does not
 * list; null values (absent); "meta", "id" and other readOnly values
 * (dropped); attribute names and sub-attribute names in any case
 * (output in canonical case); booleans as "True"/"False"/"true"/"false"
 * strings; a single complex value for a multi-valued attribute (wrapped
 * in an array); enterprise "manager" given as a string id, as
 * {"value": id} or as [{"value": id, "$ref": ...}] (stored as
 * {"value": id}; empty string/array/object: absent); role values that
 * are JSON-encoded strings are kept as strings.  Unknown attributes and
 * unknown extension URNs are dropped.
 *
 * Refuses: a body that is not an object, "schemas" missing the core
 * schema (CREATE/REPLACE: 400 invalidSyntax); a value of the wrong type
 * (400 invalidValue); more than one element with "primary": true in a
 * multi-valued attribute (RFC 7643 2.4; 400 invalidValue); a manager
 * or member "value" longer than SCIM_MAX_ID_LEN (400 invalidValue); a string
 * that is none of the attribute's canonicalValues (400 invalidValue
 * listing them), for every attribute whose schema lists canonicalValues
 * EXCEPT the "type" sub-attributes of the RFC 7643 schemas (emails,
 * phoneNumbers, ims, photos, addresses, entitlements, roles,
 * x509Certificates: RFC 7643 calls those values suggestions, and Entra
 * ID sends its own, e.g. "WindowsAzureActiveDirectoryRole"); a match
 * ignores case unless the attribute is caseExact, and the schema's
 * spelling is stored.
 *
 * A required attribute that is missing, "" or [] (userName, displayName,
 * required attributes of an extension whose block is present, required
 * sub-attributes of a complex value that is present): CREATE/REPLACE ->
 * 400 invalidValue; STORED -> 400 mutability, because STORED is the
 * document after a PATCH and RFC 7644 3.5.2.2 says "If an attribute is
 * removed or becomes unassigned and is defined as a required attribute
 * ..., the server SHALL return ... a "scimType" error code of
 * "mutability"" (a PATCH that adds an element lacking a required
 * sub-attribute gets mutability too: normalize cannot tell the cases
 * apart).
 *
 * Immutable attributes are not checked here (there is no old document):
 * see scim_resource_check_immutable().
 *
 * uniqueness: the core does not enforce "uniqueness": "server" or
 * "global"; the store enforces it for userName (users), displayName
 * (groups) and externalId, whatever an extension schema declares for
 * its own attributes.
 *
 * The result: "schemas" (core first, then each extension present),
 * then the attributes in schema order, extension blocks last.  No "id",
 * no "meta": the caller adds them.  "password" is kept as given (the
 * caller hashes it).  For groups "members" is kept, normalized to
 * [{"value": id, "type": "User"|"Group"}] (display dropped).
 */
json_t *scim_resource_normalize(const scim_resource_type_t *rt, json_t *in,
    scim_input_mode_t mode, scim_error_t *err);

/*
 * RFC 7643 2.2 "immutable" on PUT and PATCH: old_doc is the stored
 * document before the request, new_doc what scim_resource_normalize()
 * made of the request (REPLACE for PUT, STORED after scim_patch_apply()
 * for PATCH).  For every immutable attribute of the core schema and of
 * each extension (whose block old_doc has), and every immutable
 * sub-attribute of a singular complex attribute: if old_doc has a value
 * (not absent, null, [] or {}), new_doc must have the same value, else
 * -1 with 400 mutability naming the attribute ("changed" or "removed").
 * Setting a value that old_doc lacked is allowed ("may be defined ... in
 * a replacement if not already set").  "The same": strings per caseExact
 * (ignoring case unless caseExact), dateTimes as instants, numbers by
 * value, complex values sub-attribute by sub-attribute, multi-valued
 * ones as multisets (order ignored).  readOnly attributes and "$ref" are
 * not compared.  Sub-attributes of multi-valued complex attributes are
 * not checked (Group "members" value/type are immutable per element;
 * adding and removing members is allowed).  A PUT that omits an
 * immutable attribute that is set is refused ("removed").
 *
 * old_doc NULL or not an object: 0 (nothing was set).  0 on success.
 */
int scim_resource_check_immutable(const scim_resource_type_t *rt,
    json_t *old_doc, json_t *new_doc, scim_error_t *err);

/*
 * Case-folds UTF-8 for case-insensitive indexes and comparisons (ASCII
 * and the common Latin-1/Latin Extended-A, Greek and Cyrillic upper-case
 * letters).  Returns malloc()ed NUL-terminated string; *out_len if not
 * NULL.  Invalid UTF-8 bytes are copied unchanged.
 */
char *scim_casefold(const char *s, size_t len, size_t *out_len);

/* 1 if s[0..len) is valid UTF-8 */
int scim_utf8_valid(const char *s, size_t len);

/*
 * Parses an xsd:dateTime ("2015-10-10T14:38:21Z", fractional seconds and
 * a "+hh:mm"/"-hh:mm" offset optional, no offset meaning UTC; years
 * 0001-9999) into seconds since 1970-01-01T00:00:00Z and nanoseconds
 * (digits beyond the ninth are ignored), for chronological comparisons.
 * 0, or -1 if s is no valid dateTime.  sec and nsec may be NULL.
 */
int scim_datetime_parse(const char *s, size_t len, int64_t *sec,
    long *nsec);


/*
 * Compact JSON of j written into buf[0..size) in one pass; returns the
 * length the whole text needs (like snprintf: larger than size means it
 * was cut, call again with a buffer that large).  Not NUL-terminated.
 */
size_t scim_json_dumpb(const json_t *j, char *buf, size_t size);

/*
 * Frees what jansson allocated for the caller (json_dumps()' text) with
 * jansson's own free function, which need not be free(): the nginx module
 * gives jansson an allocator of its own (json_set_alloc_funcs).
 */
void scim_json_free(void *p);
/* obj[name], the exact key first, else one equal but for ASCII case: how
 * the core reads a request's keys (scim_json.h) */
json_t *scim_json_get_ci(json_t *obj, const char *name);
/* memory that scim_json_free() frees */
void *scim_json_alloc(size_t n);

/* the same for one string: "...", escaped, quotes included */
size_t scim_json_string(const char *s, size_t n, char *buf, size_t size);

/* ... and for the inside of a string: escaped, without the quotes */
size_t scim_json_escape(const char *s, size_t n, char *buf, size_t size);


typedef struct {
    const char  *s;
    size_t       len;
} scim_str_t;

/*
 * The representation of a stored user written from its text, for the
 * default projection (scim_fast.c explains what it splices in).
 * scim_present_fast_ok(rt): whether the loaded schemas allow it at all
 * (no attribute returned "never"/"request" but password).
 * scim_present_fast(): manager_display may be NULL; groups holds ngroups
 * pairs (id, display).  Returns the length the text needs (snprintf
 * style: out may be NULL or short, nothing is written past out + size),
 * or 0 when this document needs scim_resource_present(): among others,
 * an id, a manager value or a group id that is not 1 to SCIM_MAX_ID_LEN
 * bytes of [A-Za-z0-9-].  No length of doc, base_url or the values is
 * assumed: the output is written straight from them.
 */
int scim_present_fast_ok(const scim_resource_type_t *rt);
size_t scim_present_fast(const char *doc, size_t len, const char *base_url,
    const scim_str_t *manager_display, const scim_str_t *groups,
    size_t ngroups, char *out, size_t size);


/* ------------------------------------------------------------- projection */

typedef struct scim_projection_s  scim_projection_t;

/*
 * attributes / excludedAttributes (comma-separated, as in a query string
 * or a .search body; NULL or "" means not given).  Unknown names are
 * ignored; a syntactically bad one is 400 invalidValue...
 */
scim_projection_t *scim_projection_create(const scim_resource_type_t *rt,
    const char *attributes, const char *excluded, scim_error_t *err);
void scim_projection_free(scim_projection_t *p);

/* whether the output will contain the top-level attribute: lets the glue
   skip reading e.g. a group's member set ("members") */
int scim_projection_wants(const scim_projection_t *p, const char *attr);

/*
 * Builds the representation of a stored document for the client (new
 * reference): removes returned:never attributes (password), adds
 * "meta.location" = base_url + endpoint + "/" + id, "$ref" on manager
 * (base_url + "/Users/" + value), on members and groups elements
 * (base_url + "/Users/" or "/Groups/" + value, per "type"), then applies
 * the projection p (NULL: defaults).  base_url has no trailing slash.
 */
json_t *scim_resource_present(const scim_resource_type_t *rt, json_t *doc,
    const char *base_url, const scim_projection_t *p);

/*
 * Sorts an array of stored documents in place by sort_by (any singular
 * attribute or sub-attribute; for a multi-valued one, RFC 7644 3.4.2.3:
 * the primary value, else the first), ascending unless descending;
 * stable; documents lacking the attribute sort as if greater than any
 * value: last ascending, first descending.
 * -1 with 400 invalidValue for an unknown sort_by or a complex one
 * without a "value" sub-attribute.
 */
int scim_sort(const scim_resource_type_t *rt, json_t *docs,
    const char *sort_by, int descending, scim_error_t *err);

/*
 * The same order, one document at a time, for who cannot hold them all
 * (a scan keeps only the keys): scim_sort_spec() resolves sort_by as
 * scim_sort() does (same errors); scim_sort_key() extracts a document's
 * key, owning its text (0, or -1 out of memory; free it with
 * scim_sort_key_free()); scim_sort_key_cmp() compares two keys (missing
 * values included, descending applied).  Ties are left to the caller:
 * scim_sort() keeps them in their original order.
 */
typedef struct {
    const scim_resource_type_t *rt;
    scim_attr_ref_t             ref;
    const scim_attr_t          *sub;      /* "value" of a complex one */
    const scim_attr_t          *attr;     /* what is compared */
    int                         descending;
} scim_sort_spec_t;

typedef struct {
    int                         present;
    int                         is_int;
    char                       *str;      /* owned: folded unless
                                             caseExact */
    size_t                      len;
    double                      num;
    json_int_t                  inum;
    int64_t                     sec;
    long                        nsec;
} scim_sort_key_t;

int scim_sort_spec(const scim_resource_type_t *rt, const char *sort_by,
    int descending, scim_sort_spec_t *spec, scim_error_t *err);
int scim_sort_key(const scim_sort_spec_t *spec, json_t *doc,
    scim_sort_key_t *key);
void scim_sort_key_free(scim_sort_key_t *key);
size_t scim_sort_key_size(const scim_sort_key_t *key);
int scim_sort_key_cmp(const scim_sort_spec_t *spec, const scim_sort_key_t *a,
    const scim_sort_key_t *b);


/* ----------------------------------------------------------------- filter */

typedef struct scim_filter_s  scim_filter_t;

/*
 * RFC 7644 3.4.2.2 filter, plus what clients send beyond the grammar:
 * "emails[type eq \"work\"].value eq \"x\"", booleans as "True",
 * unquoted values (userName sw O, meta.created gt 2015-10-10T14:38:21Z),
 * operators and attribute names in any case.  rt may be NULL (root
 * .search: attributes then resolve when matching).  Errors: 400
 * invalidFilter with the byte position in detail, also for a value of
 * the wrong type for a known attribute (a dateTime, integer, decimal or
 * boolean attribute compared with what is none) and for gt/ge/lt/le on a
 * boolean, binary or complex (without "value") attribute.
 */
scim_filter_t *scim_filter_parse(const scim_resource_type_t *rt,
    const char *s, size_t len, scim_error_t *err);
void scim_filter_free(scim_filter_t *f);

/* 1 match, 0 no match */
int scim_filter_match(const scim_filter_t *f, const scim_resource_type_t *rt,
    json_t *doc);

/*
 * Index planning: looks for an "<path> eq <string>" comparison that must
 * hold for the whole filter to hold (the root, or reachable from the root
 * through "and" only), whose attribute path equals, case-insensitively,
 * one of paths[0..n) ("userName", "externalId", "id", "displayName",
 * "members.value", ...).  Returns the index into paths and sets *value
 * (borrowed from f, NUL-terminated) or returns -1.
 */
int scim_filter_eq_hint(const scim_filter_t *f, const char *const *paths,
    size_t n, const char **value);

/*
 * 1 when the whole filter is that one "<path> eq <string>" comparison, so
 * that an index lookup answers it without evaluating it on the document
 */
int scim_filter_is_simple_eq(const scim_filter_t *f);

/*
 * A literal that the stored text of every matching document holds (ASCII
 * case aside) within a string value of a member named *key, so that a
 * scan can skip documents without parsing them; NULL if the filter has
 * none.  See scim_filter.c for the rules.
 */
const char *scim_filter_required_literal(const scim_filter_t *f,
    size_t *len, const char **key);


/* ------------------------------------------------------------------ patch */

/*
 * Group member changes that a PATCH asks for, in set terms, so that the
 * store applies them as SADD/SREM and never rewrites a member list.
 * Equivalent to applying the operations in order: "clear" first, then
 * "remove", then "add".
 */
typedef struct {
    int      clear;       /* remove every member first */
    json_t  *add;         /* array of {"value": id[, "type": ...]} */
    json_t  *remove;      /* array of id strings */
} scim_members_delta_t;

/*
 * Applies a PatchOp body (RFC 7644 3.5.2) to a stored document in place.
 * Accepts: "op" in any case; "path" with value filters
 * (emails[type eq "work"].value), add/replace on a value filter that
 * matches nothing creating the element ({type:"work", value:...});
 * no-path ops whose value keys are attribute paths or URN-prefixed
 * attributes; "active" as "True"/"False"; manager forms; roles
 * [primary eq "True"]; an empty Operations array.
 *
 * For groups (delta != NULL), operations on "members" are not applied
 * to doc but accumulated into *delta (caller initialises it to zeros
 * and decrefs add/remove).  For users, delta is NULL and "groups" is
 * readOnly.
 *
 * Errors: body not a PatchOp -> 400 invalidSyntax; unknown op -> 400
 * invalidSyntax; malformed path -> 400 invalidPath; readOnly target
 * (id, meta, groups) -> 400 mutability; remove without path -> 400
 * noTarget.  The caller re-validates the result with
 * scim_resource_normalize(..., SCIM_INPUT_STORED, ...).
 */
int scim_patch_apply(const scim_resource_type_t *rt, json_t *doc,
    json_t *body, scim_members_delta_t *delta, scim_error_t *err);

/*
 * The same, doc left as it is: the patched document is a new reference
 * (one copy of doc, where a caller that keeps doc would copy it, then
 * scim_patch_apply() copy it again), or NULL and *err.
 */
json_t *scim_patch_applied(const scim_resource_type_t *rt, json_t *doc,
    json_t *body, scim_members_delta_t *delta, scim_error_t *err);


#endif /* _SCIM_CORE_H_INCLUDED_ */
