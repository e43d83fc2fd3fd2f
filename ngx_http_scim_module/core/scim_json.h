
/*
 * ngx_http_scim_module: JSON object helpers of the SCIM core
 * (scim_json.c), on names compared ignoring ASCII case.  Internal to
 * core/: the other layers use scim_core.h only.
 */

#ifndef _SCIM_JSON_H_INCLUDED_
#define _SCIM_JSON_H_INCLUDED_


#include <stddef.h>
#include <jansson.h>


/*
 * Case-insensitive key lookups scan an object; in objects with more keys
 * (never a stored document, only hostile input) only exact keys count,
 * so that no lookup is quadratic.  (scim_json_getn_ci and
 * scim_json_get_flat, which validation uses on the input, scan any
 * object.)
 */
#define SCIM_JSON_CI_MAX_KEYS   1024


/* obj[name], the exact key first, else one equal but for ASCII case */
json_t *scim_json_get_ci(json_t *obj, const char *name);
const char *scim_json_key_ci(json_t *obj, const char *name);
/* sets obj[name] = value (stolen), dropping keys equal but for case */
int scim_json_set_ci(json_t *obj, const char *name, json_t *value);
void scim_json_del_ci(json_t *obj, const char *name);

/* o's member named name[0..len): the exact key first, else the first one
   that matches ignoring ASCII case (embedded NULs compared) */
json_t *scim_json_getn_ci(json_t *o, const char *name, size_t len);

/* top's member "<urn>:<name>", ignoring ASCII case; NULL if none or null */
json_t *scim_json_get_flat(json_t *top, const char *urn, const char *name);

/* whether top has a member "<urn>:...", ignoring ASCII case: when not,
   scim_json_get_flat(top, urn, any name) is NULL */
int scim_json_has_flat(json_t *top, const char *urn);

/* a JSON object (or array, if arrays) encoded in the string v, or NULL */
json_t *scim_json_decode(json_t *v, int arrays);

/* value true/false of a JSON boolean or of a "true"/"false" string in any
   case; -1 otherwise */
int scim_json_bool(json_t *v);


#endif /* _SCIM_JSON_H_INCLUDED_ */
