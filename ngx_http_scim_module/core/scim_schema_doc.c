
/*
 * ngx_http_scim_module: schema documents (RFC 7643 section 7) read into
 * scim_schema_t, with the checks and the RFC 7643 2.2 defaults, and the
 * JSON a schema serves on /Schemas, rebuilt from the parsed attributes.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "scim_schema.h"
#include "scim_text.h"


#define SCIM_SCHEMA_MAX_NAME   256
#define SCIM_SCHEMA_MAX_URN    1024


static const char *const  scim_type_names[] = {
    "string", "boolean", "decimal", "integer", "dateTime", "binary",
    "reference", "complex"
};

static const char *const  scim_mutability_names[] = {
    "readWrite", "readOnly", "immutable", "writeOnly"
};

static const char *const  scim_returned_names[] = {
    "default", "always", "never", "request"
};

static const char *const  scim_uniqueness_names[] = {
    "none", "server", "global"
};


static int scim_schema_parse_attrs(json_t *arr, scim_attr_t **out,
    size_t *n, const scim_attr_t *parent, const scim_schema_t *schema,
    const char *urn, scim_error_t *err);
static int scim_schema_parse_attr(json_t *o, scim_attr_t *a,
    const scim_attr_t *parent, const scim_schema_t *schema, const char *urn,
    scim_error_t *err);
static int scim_schema_strings(json_t *arr, char ***out, size_t *n,
    const char *urn, const scim_attr_t *a, const char *key,
    scim_error_t *err);
static int scim_schema_enum(json_t *o, const char *key,
    const char *const *names, size_t n, int dflt, const char *urn,
    const scim_attr_t *a, scim_error_t *err);
static int scim_schema_bool(json_t *o, const char *key, int dflt,
    const char *urn, const scim_attr_t *a, scim_error_t *err);
static int scim_schema_valid_name(const char *s, size_t len);
static int scim_schema_valid_urn(const char *s, size_t len);
static void scim_attrs_free(scim_attr_t *attrs, size_t n);
static json_t *scim_schema_to_json(const scim_schema_t *s);
static json_t *scim_attr_to_json(const scim_attr_t *a);


/* -------------------------------------------------------------- parsing */


scim_schema_t *
scim_schema_parse(json_t *doc, scim_error_t *err)
{
    json_t         *id, *name, *desc, *attrs;
    const char     *urn;
    scim_schema_t  *s;

    if (!json_is_object(doc)) {
        scim_error_set(err, 400, SCIM_ERR_INVALID_SYNTAX,
                       "a schema document must be a JSON object");
        return NULL;
    }

    id = json_object_get(doc, "id");

    if (!json_is_string(id)) {
        scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                       "a schema document needs \"id\", "
                       "a URN string such as "
                       "\"urn:ietf:params:scim:schemas:extension:"
                       "Example:2.0:User\"");
        return NULL;
    }

    urn = json_string_value(id);

    if (!scim_schema_valid_urn(urn, json_string_length(id))) {
        scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                       "schema id \"%.256s\" is not a valid URN "
                       "(\"urn:\", then letters, digits and "
                       "-._~%%!$&'()*+;=:@/ without spaces or commas, "
                       "not ending in ':')", urn);
        return NULL;
    }

    name = json_object_get(doc, "name");
    if (name != NULL && !json_is_string(name) && !json_is_null(name)) {
        scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                       "schema \"%.256s\": \"name\" must be a string", urn);
        return NULL;
    }

    desc = json_object_get(doc, "description");
    if (desc != NULL && !json_is_string(desc) && !json_is_null(desc)) {
        scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                       "schema \"%.256s\": \"description\" must be a string",
                       urn);
        return NULL;
    }

    attrs = json_object_get(doc, "attributes");
    if (!json_is_array(attrs)) {
        scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                       "schema \"%.256s\": \"attributes\" must be an array "
                       "of attribute definitions", urn);
        return NULL;
    }

    s = calloc(1, sizeof(scim_schema_t));
    if (s == NULL) {
        goto nomem;
    }

    s->id = strdup(urn);
    if (s->id == NULL) {
        goto nomem;
    }

    if (json_is_string(name)) {
        s->name = strdup(json_string_value(name));
        if (s->name == NULL) {
            goto nomem;
        }
    }

    if (json_is_string(desc)) {
        s->description = strdup(json_string_value(desc));
        if (s->description == NULL) {
            goto nomem;
        }
    }

    if (scim_schema_parse_attrs(attrs, &s->attrs, &s->n_attrs, NULL, s,
                                s->id, err)
        != 0)
    {
        scim_schema_free(s);
        return NULL;
    }

    s->json = scim_schema_to_json(s);
    if (s->json == NULL) {
        goto nomem;
    }

    return s;

nomem:

    scim_schema_free(s);
    scim_error_set(err, 500, NULL, "out of memory");
    return NULL;
}


static int
scim_schema_parse_attrs(json_t *arr, scim_attr_t **out, size_t *n,
    const scim_attr_t *parent, const scim_schema_t *schema, const char *urn,
    scim_error_t *err)
{
    size_t        i, j, count;
    scim_attr_t  *attrs;

    count = json_array_size(arr);

    /* one more element, so that calloc() never gets 0 */
    attrs = calloc(count + 1, sizeof(scim_attr_t));
    if (attrs == NULL) {
        return scim_error_set(err, 500, NULL, "out of memory");
    }

    *out = attrs;
    *n = 0;

    for (i = 0; i < count; i++) {
        if (scim_schema_parse_attr(json_array_get(arr, i), &attrs[i],
                                   parent, schema, urn, err)
            != 0)
        {
            /* the failed element is freed with the others */
            *n = i + 1;
            return -1;
        }

        *n = i + 1;

        for (j = 0; j < i; j++) {
            if (strlen(attrs[j].name) == strlen(attrs[i].name)
                && scim_ascii_ncaseeq(attrs[j].name, attrs[i].name,
                                      strlen(attrs[i].name)))
            {
                return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                           "schema \"%.256s\": attribute \"%s%s%s\" is "
                           "defined twice (names are case-insensitive)",
                           urn, parent ? parent->name : "",
                           parent ? "." : "", attrs[i].name);
            }
        }
    }

    return 0;
}


static int
scim_schema_parse_attr(json_t *o, scim_attr_t *a, const scim_attr_t *parent,
    const scim_schema_t *schema, const char *urn, scim_error_t *err)
{
    int          v;
    json_t      *name, *desc, *subs;
    const char  *pname;

    pname = (parent != NULL) ? parent->name : NULL;

    a->parent = parent;
    a->schema = schema;

    if (!json_is_object(o)) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                   "schema \"%.256s\": an attribute definition%s%s must be "
                   "a JSON object", urn, pname ? " in " : "",
                   pname ? pname : "");
    }

    name = json_object_get(o, "name");

    if (!json_is_string(name)
        || !scim_schema_valid_name(json_string_value(name),
                                   json_string_length(name)))
    {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                   "schema \"%.256s\": an attribute%s%s has no valid "
                   "\"name\" (a letter, then letters, digits, '-' or '_')",
                   urn, pname ? " of " : "", pname ? pname : "");
    }

    a->name = strdup(json_string_value(name));
    if (a->name == NULL) {
        return scim_error_set(err, 500, NULL, "out of memory");
    }

    desc = json_object_get(o, "description");

    if (desc != NULL && !json_is_null(desc)) {
        if (!json_is_string(desc)) {
            return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                       "schema \"%.256s\": attribute \"%s\": "
                       "\"description\" must be a string", urn, a->name);
        }

        a->description = strdup(json_string_value(desc));
        if (a->description == NULL) {
            return scim_error_set(err, 500, NULL, "out of memory");
        }
    }

    v = scim_schema_enum(o, "type", scim_type_names,
                         scim_nelts(scim_type_names), SCIM_TYPE_STRING, urn,
                         a, err);
    if (v < 0) {
        return -1;
    }
    a->type = v;

    v = scim_schema_bool(o, "multiValued", 0, urn, a, err);
    if (v < 0) {
        return -1;
    }
    a->multi_valued = v;

    v = scim_schema_bool(o, "required", 0, urn, a, err);
    if (v < 0) {
        return -1;
    }
    a->required = v;

    v = scim_schema_bool(o, "caseExact", 0, urn, a, err);
    if (v < 0) {
        return -1;
    }
    a->case_exact = v;

    v = scim_schema_enum(o, "mutability", scim_mutability_names,
                         scim_nelts(scim_mutability_names),
                         SCIM_MUT_READWRITE, urn, a, err);
    if (v < 0) {
        return -1;
    }
    a->mutability = v;

    v = scim_schema_enum(o, "returned", scim_returned_names,
                         scim_nelts(scim_returned_names), SCIM_RET_DEFAULT,
                         urn, a, err);
    if (v < 0) {
        return -1;
    }
    a->returned = v;

    v = scim_schema_enum(o, "uniqueness", scim_uniqueness_names,
                         scim_nelts(scim_uniqueness_names), SCIM_UNIQ_NONE,
                         urn, a, err);
    if (v < 0) {
        return -1;
    }
    a->uniqueness = v;

    if (scim_schema_strings(json_object_get(o, "canonicalValues"),
                            &a->canonical_values, &a->n_canonical_values,
                            urn, a, "canonicalValues", err)
        != 0)
    {
        return -1;
    }

    if (scim_schema_strings(json_object_get(o, "referenceTypes"),
                            &a->reference_types, &a->n_reference_types,
                            urn, a, "referenceTypes", err)
        != 0)
    {
        return -1;
    }

    subs = json_object_get(o, "subAttributes");

    if (a->type != SCIM_TYPE_COMPLEX) {
        if (subs != NULL && !json_is_null(subs)
            && !(json_is_array(subs) && json_array_size(subs) == 0))
        {
            return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                       "schema \"%.256s\": attribute \"%s\" has "
                       "\"subAttributes\" but is not of type \"complex\"",
                       urn, a->name);
        }

        if (strcmp(a->name, "$ref") == 0 && a->type != SCIM_TYPE_REFERENCE) {
            return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                       "schema \"%.256s\": attribute \"$ref\" must be of "
                       "type \"reference\"", urn);
        }

        return 0;
    }

    if (parent != NULL) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                   "schema \"%.256s\": sub-attribute \"%s.%s\" is complex, "
                   "but a complex attribute cannot contain complex "
                   "sub-attributes (RFC 7643 2.3.8)", urn, parent->name,
                   a->name);
    }

    if (!json_is_array(subs) || json_array_size(subs) == 0) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                   "schema \"%.256s\": complex attribute \"%s\" needs a "
                   "non-empty \"subAttributes\" array", urn, a->name);
    }

    return scim_schema_parse_attrs(subs, &a->sub_attrs, &a->n_sub_attrs, a,
                                   schema, urn, err);
}


static int
scim_schema_strings(json_t *arr, char ***out, size_t *n, const char *urn,
    const scim_attr_t *a, const char *key, scim_error_t *err)
{
    size_t   i, count;
    json_t  *v;
    char   **list;

    *out = NULL;
    *n = 0;

    if (arr == NULL || json_is_null(arr)) {
        return 0;
    }

    if (!json_is_array(arr)) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                              "schema \"%.256s\": attribute \"%s\": \"%s\" "
                              "must be an array of strings", urn, a->name,
                              key);
    }

    count = json_array_size(arr);

    list = calloc(count + 1, sizeof(char *));
    if (list == NULL) {
        return scim_error_set(err, 500, NULL, "out of memory");
    }

    *out = list;

    for (i = 0; i < count; i++) {
        v = json_array_get(arr, i);

        if (!json_is_string(v)) {
            return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                                  "schema \"%.256s\": attribute \"%s\": "
                                  "\"%s\" must be an array of strings", urn,
                                  a->name, key);
        }

        list[i] = strdup(json_string_value(v));
        if (list[i] == NULL) {
            return scim_error_set(err, 500, NULL, "out of memory");
        }

        *n = i + 1;
    }

    return 0;
}


static int
scim_schema_enum(json_t *o, const char *key, const char *const *names,
    size_t n, int dflt, const char *urn, const scim_attr_t *a,
    scim_error_t *err)
{
    size_t       i, len;
    json_t      *v;
    const char  *s;

    v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        return dflt;
    }

    if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);

        for (i = 0; i < n; i++) {
            if (strlen(names[i]) == len
                && scim_ascii_ncaseeq(names[i], s, len))
            {
                return (int) i;
            }
        }
    }

    return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                          "schema \"%.256s\": attribute \"%s\": \"%s\" "
                          "must be one of \"%s\"%s%s%s%s%s%s%s", urn, a->name,
                          key, names[0],
                          n > 1 ? ", \"" : "", n > 1 ? names[1] : "",
                          n > 1 ? "\"" : "",
                          n > 2 ? ", \"" : "", n > 2 ? names[2] : "",
                          n > 2 ? "\"" : "",
                          n > 3 ? ", ..." : "");
}


static int
scim_schema_bool(json_t *o, const char *key, int dflt, const char *urn,
    const scim_attr_t *a, scim_error_t *err)
{
    json_t  *v;

    v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        return dflt;
    }

    if (!json_is_boolean(v)) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                              "schema \"%.256s\": attribute \"%s\": \"%s\" "
                              "must be true or false", urn, a->name, key);
    }

    return json_is_true(v) ? 1 : 0;
}


/* ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA;
   plus "$ref" (RFC 7643 2.1) */

static int
scim_schema_valid_name(const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len == 4 && memcmp(s, "$ref", 4) == 0) {
        return 1;
    }

    if (len == 0 || len > SCIM_SCHEMA_MAX_NAME) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            continue;
        }

        if (i > 0 && ((c >= '0' && c <= '9') || c == '-' || c == '_')) {
            continue;
        }

        return 0;
    }

    return 1;
}


static int
scim_schema_valid_urn(const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len <= 4 || len > SCIM_SCHEMA_MAX_URN
        || !scim_ascii_ncaseeq(s, "urn:", 4)
        || s[len - 1] == ':')
    {
        return 0;
    }

    for (i = 4; i < len; i++) {
        c = (unsigned char) s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9'))
        {
            continue;
        }

        if (c != '\0' && strchr("-._~%!$&'()*+;=:@/", c) != NULL) {
            continue;
        }

        return 0;
    }

    return 1;
}


/* ------------------------------------------------------------- freeing */


void
scim_schema_free(scim_schema_t *s)
{
    if (s == NULL) {
        return;
    }

    free(s->id);
    free(s->name);
    free(s->description);
    scim_attrs_free(s->attrs, s->n_attrs);
    json_decref(s->json);
    free(s);
}


static void
scim_attrs_free(scim_attr_t *attrs, size_t n)
{
    size_t        i, j;
    scim_attr_t  *a;

    if (attrs == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        a = &attrs[i];

        free(a->name);
        free(a->description);

        if (a->canonical_values != NULL) {
            for (j = 0; j < a->n_canonical_values; j++) {
                free(a->canonical_values[j]);
            }

            free(a->canonical_values);
        }

        if (a->reference_types != NULL) {
            for (j = 0; j < a->n_reference_types; j++) {
                free(a->reference_types[j]);
            }

            free(a->reference_types);
        }

        scim_attrs_free(a->sub_attrs, a->n_sub_attrs);
    }

    free(attrs);
}


/* ------------------------------------------------------------ to JSON */


static json_t *
scim_schema_to_json(const scim_schema_t *s)
{
    size_t   i;
    json_t  *o, *arr;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    arr = json_array();
    if (arr == NULL || json_object_set_new(o, "schemas", arr) != 0
        || json_array_append_new(arr, json_string(SCIM_SCHEMA_SCHEMA)) != 0
        || json_object_set_new(o, "id", json_string(s->id)) != 0)
    {
        goto failed;
    }

    if (s->name != NULL
        && json_object_set_new(o, "name", json_string(s->name)) != 0)
    {
        goto failed;
    }

    if (s->description != NULL
        && json_object_set_new(o, "description",
                               json_string(s->description))
           != 0)
    {
        goto failed;
    }

    arr = json_array();
    if (arr == NULL || json_object_set_new(o, "attributes", arr) != 0) {
        goto failed;
    }

    for (i = 0; i < s->n_attrs; i++) {
        if (json_array_append_new(arr, scim_attr_to_json(&s->attrs[i])) != 0)
        {
            goto failed;
        }
    }

    return o;

failed:

    json_decref(o);
    return NULL;
}


static json_t *
scim_attr_to_json(const scim_attr_t *a)
{
    size_t   i;
    json_t  *o, *arr;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    if (json_object_set_new(o, "name", json_string(a->name)) != 0
        || json_object_set_new(o, "type",
                               json_string(scim_type_names[a->type]))
           != 0)
    {
        goto failed;
    }

    if (a->type == SCIM_TYPE_COMPLEX) {
        arr = json_array();
        if (arr == NULL || json_object_set_new(o, "subAttributes", arr) != 0)
        {
            goto failed;
        }

        for (i = 0; i < a->n_sub_attrs; i++) {
            if (json_array_append_new(arr,
                                      scim_attr_to_json(&a->sub_attrs[i]))
                != 0)
            {
                goto failed;
            }
        }
    }

    if (json_object_set_new(o, "multiValued",
                            json_boolean(a->multi_valued))
        != 0)
    {
        goto failed;
    }

    if (a->description != NULL
        && json_object_set_new(o, "description",
                               json_string(a->description))
           != 0)
    {
        goto failed;
    }

    if (json_object_set_new(o, "required", json_boolean(a->required)) != 0) {
        goto failed;
    }

    if (a->canonical_values != NULL) {
        arr = json_array();
        if (arr == NULL
            || json_object_set_new(o, "canonicalValues", arr) != 0)
        {
            goto failed;
        }

        for (i = 0; i < a->n_canonical_values; i++) {
            if (json_array_append_new(arr,
                                      json_string(a->canonical_values[i]))
                != 0)
            {
                goto failed;
            }
        }
    }

    if (a->type != SCIM_TYPE_COMPLEX
        && json_object_set_new(o, "caseExact", json_boolean(a->case_exact))
           != 0)
    {
        goto failed;
    }

    if (json_object_set_new(o, "mutability",
                    json_string(scim_mutability_names[a->mutability])) != 0
        || json_object_set_new(o, "returned",
                    json_string(scim_returned_names[a->returned])) != 0
        || json_object_set_new(o, "uniqueness",
                    json_string(scim_uniqueness_names[a->uniqueness])) != 0)
    {
        goto failed;
    }

    if (a->type == SCIM_TYPE_REFERENCE) {
        arr = json_array();
        if (arr == NULL || json_object_set_new(o, "referenceTypes", arr) != 0)
        {
            goto failed;
        }

        for (i = 0; i < a->n_reference_types; i++) {
            if (json_array_append_new(arr,
                                      json_string(a->reference_types[i]))
                != 0)
            {
                goto failed;
            }
        }
    }

    return o;

failed:

    json_decref(o);
    return NULL;
}
