
/*
 * ngx_http_scim_module: what the schema registry (scim_schema.c) uses of
 * the schema documents (scim_schema_doc.c).  Internal to core/: the
 * other layers use scim_core.h only.
 */

#ifndef _SCIM_SCHEMA_H_INCLUDED_
#define _SCIM_SCHEMA_H_INCLUDED_


#include "scim_core.h"


#define scim_nelts(a)  (sizeof(a) / sizeof((a)[0]))


/*
 * A schema document (RFC 7643 section 7) parsed and checked, with the RFC
 * 7643 2.2 defaults, and its JSON for /Schemas; NULL and err set if it is
 * not valid.  Freed with scim_schema_free().
 */
scim_schema_t *scim_schema_parse(json_t *doc, scim_error_t *err);
void scim_schema_free(scim_schema_t *s);


/*
 * The built-in schemas of RFC 7643 section 8.7 (core User and Group,
 * enterprise User) as JSON text: core/schemas/NAME.json, made C by
 * core/schemas/gen.pl (scim_schemas_gen.c), parsed once by
 * scim_registry_create().  They are also what GET /Schemas serves, so
 * every characteristic is spelled out (camelCase, no nulls).
 *
 * Deviations from the RFC's printed representation, on purpose:
 *  - addresses has "primary" (RFC 7643 4.1.2 defines it; 8.7.1 omits it);
 *  - Group displayName is required and unique (RFC 7643 4.2 says
 *    REQUIRED; the module enforces uniqueness, as Entra ID expects).
 */
extern const char  scim_schema_builtin_user[];
extern const char  scim_schema_builtin_group[];
extern const char  scim_schema_builtin_enterprise[];


#endif /* _SCIM_SCHEMA_H_INCLUDED_ */
