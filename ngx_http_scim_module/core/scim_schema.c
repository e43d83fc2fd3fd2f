
/*
 * ngx_http_scim_module: the schema registry.
 *
 * The built-in schemas (core/schemas/NAME.json) and every configured User
 * extension go through the same parser (scim_schema_doc.c), so an
 * extension document gets the checks and the RFC 7643 2.2 defaults the
 * built-ins rely on.  The JSON a schema serves on /Schemas is rebuilt
 * from the parsed attributes: every characteristic spelled out,
 * camelCase, no nulls, whatever the source document omitted.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "scim_schema.h"
#include "scim_text.h"


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


static int scim_registry_push(scim_registry_t *reg, scim_schema_t *s);


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
