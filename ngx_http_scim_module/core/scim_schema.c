
/*
 * ngx_http_scim_module: the schema registry.
 *
 * The built-in schemas (scim_schema_builtin.c) and every configured User
 * extension go through the same parser, so an extension document gets the
 * checks and the RFC 7643 2.2 defaults the built-ins rely on.  The JSON a
 * schema serves on /Schemas is rebuilt from the parsed attributes: every
 * characteristic spelled out, camelCase, no nulls, whatever the source
 * document omitted.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "scim_text.h"


#define SCIM_SCHEMA_MAX_NAME   256
#define SCIM_SCHEMA_MAX_URN    1024


struct scim_registry_s {
    scim_schema_t         **schemas;        /* User, Group, enterprise,
                                               then extensions */
    size_t                  n_schemas;
    size_t                  a_schemas;
    const scim_schema_t   **user_exts;
    size_t                  a_user_exts;
    json_t                 *sources;        /* extension documents */
    scim_resource_type_t    user;
    scim_resource_type_t    group;
};


extern const char  scim_schema_builtin_user[];
extern const char  scim_schema_builtin_group[];
extern const char  scim_schema_builtin_enterprise[];


static scim_schema_t *scim_schema_parse(json_t *doc, scim_error_t *err);
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
static void scim_schema_free(scim_schema_t *s);
static void scim_attrs_free(scim_attr_t *attrs, size_t n);
static json_t *scim_schema_to_json(const scim_schema_t *s);
static json_t *scim_attr_to_json(const scim_attr_t *a);
static int scim_registry_push(scim_registry_t *reg, scim_schema_t *s);


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

#define scim_nelts(a)  (sizeof(a) / sizeof((a)[0]))


/*
 * The common attributes of RFC 7643 3.1 belong to no schema (and are not
 * served by /Schemas); scim_attr_resolve() finds them with schema NULL.
 */

static const scim_attr_t  scim_common_attrs[3];

static const scim_attr_t  scim_meta_attrs[] = {

    { .name = (char *) "resourceType",
      .description = (char *) "The name of the resource type of the "
                              "resource.",
      .type = SCIM_TYPE_STRING, .case_exact = 1,
      .mutability = SCIM_MUT_READONLY, .returned = SCIM_RET_DEFAULT,
      .parent = &scim_common_attrs[2] },

    { .name = (char *) "created",
      .description = (char *) "The DateTime that the resource was added "
                              "to the service provider.",
      .type = SCIM_TYPE_DATETIME,
      .mutability = SCIM_MUT_READONLY, .returned = SCIM_RET_DEFAULT,
      .parent = &scim_common_attrs[2] },

    { .name = (char *) "lastModified",
      .description = (char *) "The most recent DateTime that the details "
                              "of this resource were updated at the "
                              "service provider.",
      .type = SCIM_TYPE_DATETIME,
      .mutability = SCIM_MUT_READONLY, .returned = SCIM_RET_DEFAULT,
      .parent = &scim_common_attrs[2] },

    { .name = (char *) "location",
      .description = (char *) "The URI of the resource being returned.",
      .type = SCIM_TYPE_REFERENCE, .case_exact = 1,
      .mutability = SCIM_MUT_READONLY, .returned = SCIM_RET_DEFAULT,
      .parent = &scim_common_attrs[2] },

    { .name = (char *) "version",
      .description = (char *) "The version of the resource being "
                              "returned.",
      .type = SCIM_TYPE_STRING, .case_exact = 1,
      .mutability = SCIM_MUT_READONLY, .returned = SCIM_RET_DEFAULT,
      .parent = &scim_common_attrs[2] }
};

static const scim_attr_t  scim_common_attrs[3] = {

    { .name = (char *) "id",
      .description = (char *) "A unique identifier for a SCIM resource as "
                              "defined by the service provider.",
      .type = SCIM_TYPE_STRING, .case_exact = 1,
      .mutability = SCIM_MUT_READONLY, .returned = SCIM_RET_ALWAYS,
      .uniqueness = SCIM_UNIQ_SERVER },

    { .name = (char *) "externalId",
      .description = (char *) "A String that is an identifier for the "
                              "resource as defined by the provisioning "
                              "client.",
      .type = SCIM_TYPE_STRING, .case_exact = 1,
      .mutability = SCIM_MUT_READWRITE, .returned = SCIM_RET_DEFAULT },

    { .name = (char *) "meta",
      .description = (char *) "A complex attribute containing resource "
                              "metadata.",
      .type = SCIM_TYPE_COMPLEX,
      .mutability = SCIM_MUT_READONLY, .returned = SCIM_RET_DEFAULT,
      .sub_attrs = (scim_attr_t *) scim_meta_attrs,
      .n_sub_attrs = scim_nelts(scim_meta_attrs) }
};


scim_registry_t *
scim_registry_create(scim_error_t *err)
{
    size_t            i;
    json_t           *doc;
    json_error_t      jerr;
    scim_schema_t    *s;
    scim_registry_t  *reg;

    static const char *const  builtins[] = {
        scim_schema_builtin_user,
        scim_schema_builtin_group,
        scim_schema_builtin_enterprise
    };

    reg = calloc(1, sizeof(scim_registry_t));
    if (reg == NULL) {
        scim_error_set(err, 500, NULL, "out of memory");
        return NULL;
    }

    reg->sources = json_array();
    if (reg->sources == NULL) {
        scim_error_set(err, 500, NULL, "out of memory");
        goto failed;
    }

    for (i = 0; i < scim_nelts(builtins); i++) {
        doc = json_loads(builtins[i], JSON_REJECT_DUPLICATES, &jerr);
        if (doc == NULL) {
            scim_error_set(err, 500, NULL,
                           "built-in schema %u: %s at line %d",
                           (unsigned) i, jerr.text, jerr.line);
            goto failed;
        }

        s = scim_schema_parse(doc, err);
        json_decref(doc);

        if (s == NULL) {
            goto failed;
        }

        if (scim_registry_push(reg, s) != 0) {
            scim_schema_free(s);
            scim_error_set(err, 500, NULL, "out of memory");
            goto failed;
        }
    }

    reg->a_user_exts = 4;
    reg->user_exts = calloc(reg->a_user_exts, sizeof(scim_schema_t *));
    if (reg->user_exts == NULL) {
        scim_error_set(err, 500, NULL, "out of memory");
        goto failed;
    }

    reg->user_exts[0] = reg->schemas[2];

    reg->user.name = "User";
    reg->user.endpoint = "/Users";
    reg->user.description = "User Account";
    reg->user.schema = reg->schemas[0];
    reg->user.extensions = reg->user_exts;
    reg->user.n_extensions = 1;

    reg->group.name = "Group";
    reg->group.endpoint = "/Groups";
    reg->group.description = "Group";
    reg->group.schema = reg->schemas[1];
    reg->group.extensions = NULL;
    reg->group.n_extensions = 0;

    return reg;

failed:

    scim_registry_free(reg);
    return NULL;
}


int
scim_registry_add_user_extension(scim_registry_t *reg, json_t *schema,
    scim_error_t *err)
{
    size_t                n;
    json_t               *id;
    scim_schema_t        *s;
    const scim_schema_t **exts;

    if (reg == NULL) {
        return scim_error_set(err, 500, NULL, "no schema registry");
    }

    if (!json_is_object(schema)) {
        return scim_error_set(err, 400, SCIM_ERR_INVALID_SYNTAX,
                              "a schema document must be a JSON object");
    }

    id = json_object_get(schema, "id");

    if (json_is_string(id)
        && scim_registry_find_schema(reg, json_string_value(id),
                                     json_string_length(id))
           != NULL)
    {
        return scim_error_set(err, 400, SCIM_ERR_UNIQUENESS,
                              "schema \"%.256s\" is already defined",
                              json_string_value(id));
    }

    s = scim_schema_parse(schema, err);
    if (s == NULL) {
        return -1;
    }

    if (reg->user.n_extensions == reg->a_user_exts) {
        n = reg->a_user_exts * 2;
        exts = realloc(reg->user_exts, n * sizeof(scim_schema_t *));
        if (exts == NULL) {
            scim_schema_free(s);
            return scim_error_set(err, 500, NULL, "out of memory");
        }

        reg->user_exts = exts;
        reg->a_user_exts = n;
        reg->user.extensions = exts;
    }

    if (json_array_append(reg->sources, schema) != 0) {
        scim_schema_free(s);
        return scim_error_set(err, 500, NULL, "out of memory");
    }

    if (scim_registry_push(reg, s) != 0) {
        json_array_remove(reg->sources, json_array_size(reg->sources) - 1);
        scim_schema_free(s);
        return scim_error_set(err, 500, NULL, "out of memory");
    }

    reg->user_exts[reg->user.n_extensions++] = s;

    return 0;
}


void
scim_registry_free(scim_registry_t *reg)
{
    size_t  i;

    if (reg == NULL) {
        return;
    }

    for (i = 0; i < reg->n_schemas; i++) {
        scim_schema_free(reg->schemas[i]);
    }

    free(reg->schemas);
    free(reg->user_exts);
    json_decref(reg->sources);
    free(reg);
}


const scim_resource_type_t *
scim_registry_user(const scim_registry_t *reg)
{
    return (reg != NULL) ? &reg->user : NULL;
}


const scim_resource_type_t *
scim_registry_group(const scim_registry_t *reg)
{
    return (reg != NULL) ? &reg->group : NULL;
}


size_t
scim_registry_n_schemas(const scim_registry_t *reg)
{
    return (reg != NULL) ? reg->n_schemas : 0;
}


const scim_schema_t *
scim_registry_schema(const scim_registry_t *reg, size_t i)
{
    if (reg == NULL || i >= reg->n_schemas) {
        return NULL;
    }

    return reg->schemas[i];
}


const scim_schema_t *
scim_registry_find_schema(const scim_registry_t *reg, const char *urn,
    size_t len)
{
    size_t  i;

    if (reg == NULL || urn == NULL) {
        return NULL;
    }

    for (i = 0; i < reg->n_schemas; i++) {
        if (strlen(reg->schemas[i]->id) == len
            && scim_ascii_ncaseeq(reg->schemas[i]->id, urn, len))
        {
            return reg->schemas[i];
        }
    }

    return NULL;
}


const scim_attr_t *
scim_attr_find(const scim_attr_t *attrs, size_t n, const char *name,
    size_t len)
{
    size_t  i;

    if (attrs == NULL || name == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (strlen(attrs[i].name) == len
            && scim_ascii_ncaseeq(attrs[i].name, name, len))
        {
            return &attrs[i];
        }
    }

    return NULL;
}


int
scim_attr_resolve(const scim_resource_type_t *rt, const char *path,
    size_t len, scim_attr_ref_t *out)
{
    size_t                i, idlen, best_len, nlen, slen;
    const char           *name, *dot, *sub;
    const scim_attr_t    *attr, *sattr;
    const scim_schema_t  *s, *best, *schema;

    if (rt == NULL || rt->schema == NULL || path == NULL || out == NULL
        || len == 0)
    {
        return -1;
    }

    attr = NULL;
    schema = NULL;

    if (len > 4 && scim_ascii_ncaseeq(path, "urn:", 4)) {

        /* the longest schema URN that prefixes the path, then ':' */

        best = NULL;
        best_len = 0;

        for (i = 0; i <= rt->n_extensions; i++) {
            s = (i == 0) ? rt->schema : rt->extensions[i - 1];
            if (s == NULL) {
                continue;
            }

            idlen = strlen(s->id);

            if (idlen + 1 < len && idlen > best_len && path[idlen] == ':'
                && scim_ascii_ncaseeq(s->id, path, idlen))
            {
                best = s;
                best_len = idlen;
            }
        }

        if (best == NULL) {
            return -1;
        }

        name = path + best_len + 1;
        len -= best_len + 1;

        dot = memchr(name, '.', len);
        nlen = (dot != NULL) ? (size_t) (dot - name) : len;

        attr = scim_attr_find(best->attrs, best->n_attrs, name, nlen);
        schema = best;

        if (attr == NULL && best == rt->schema) {
            attr = scim_attr_find(scim_common_attrs,
                                  scim_nelts(scim_common_attrs), name, nlen);
            schema = NULL;
        }

    } else {
        name = path;

        dot = memchr(name, '.', len);
        nlen = (dot != NULL) ? (size_t) (dot - name) : len;

        attr = scim_attr_find(scim_common_attrs,
                              scim_nelts(scim_common_attrs), name, nlen);

        if (attr == NULL) {
            schema = rt->schema;
            attr = scim_attr_find(schema->attrs, schema->n_attrs, name, nlen);
        }

        for (i = 0; attr == NULL && i < rt->n_extensions; i++) {
            schema = rt->extensions[i];
            if (schema == NULL) {
                continue;
            }

            attr = scim_attr_find(schema->attrs, schema->n_attrs, name, nlen);
        }
    }

    if (attr == NULL) {
        return -1;
    }

    sattr = NULL;

    if (dot != NULL) {
        sub = dot + 1;
        slen = len - nlen - 1;

        if (attr->type != SCIM_TYPE_COMPLEX || slen == 0) {
            return -1;
        }

        sattr = scim_attr_find(attr->sub_attrs, attr->n_sub_attrs, sub, slen);
        if (sattr == NULL) {
            return -1;
        }
    }

    out->schema = schema;
    out->attr = attr;
    out->sub = sattr;

    return 0;
}


/* -------------------------------------------------------------- parsing */


static scim_schema_t *
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


static void
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


/* -------------------------------------------------------------- helpers */


static int
scim_registry_push(scim_registry_t *reg, scim_schema_t *s)
{
    size_t           n;
    scim_schema_t  **schemas;

    if (reg->n_schemas == reg->a_schemas) {
        n = (reg->a_schemas == 0) ? 8 : reg->a_schemas * 2;

        schemas = realloc(reg->schemas, n * sizeof(scim_schema_t *));
        if (schemas == NULL) {
            return -1;
        }

        reg->schemas = schemas;
        reg->a_schemas = n;
    }

    reg->schemas[reg->n_schemas++] = s;

    return 0;
}


/* 1 if a[0..n) and b[0..n) are equal ignoring ASCII case */

