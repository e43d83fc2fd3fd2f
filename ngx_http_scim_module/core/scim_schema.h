
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


#endif /* _SCIM_SCHEMA_H_INCLUDED_ */
