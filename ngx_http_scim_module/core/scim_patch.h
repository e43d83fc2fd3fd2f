
/*
 * ngx_http_scim_module: the state of one PATCH (scim_patch.c) and what
 * its files share.  Internal to core/: the other layers use scim_core.h
 * only.
 *
 *   scim_patch.c         the operations and their paths
 *   scim_patch_member.c  group members: the delta instead of the document
 *   scim_patch_value.c   values: copy, merge, append, remove, containers,
 *                        the cost and memory errors
 */

#ifndef _SCIM_PATCH_H_INCLUDED_
#define _SCIM_PATCH_H_INCLUDED_


#include "scim_parse.h"


/*
 * Every operation, and every value or element an operation visits, costs
 * one unit: a PATCH that would cost more is refused (400), so that no
 * body, however built, keeps a worker busy for long.  Real clients stay
 * far below (Entra: tens of operations, a few hundred members).
 */
#define SCIM_PATCH_MAX_WORK   1000000


typedef enum {
    SCIM_PATCH_ADD = 0,
    SCIM_PATCH_REPLACE,
    SCIM_PATCH_REMOVE
} scim_patch_op_t;


typedef struct {
    const scim_resource_type_t  *rt;
    json_t                      *doc;       /* the working copy */
    unsigned                     members:1; /* members go to the delta */
    int                          clear;
    json_t                      *adds;      /* id -> {"value": id, ...} */
    json_t                      *removes;   /* id -> true */
    int                          depth;
    size_t                       work;
    scim_error_t                *err;
} scim_patch_t;


/* ---- scim_patch_member.c */

/* an operation on a group's "members" (ctx->members): to the delta */
int scim_patch_members(scim_patch_t *ctx, scim_patch_op_t op,
    const scim_path_t *p, json_t *value);


/* ---- scim_patch_value.c */

/* 500 "out of memory"; -1 */
int scim_patch_nomem(scim_patch_t *ctx);

/* counts n units of work; 400 once over SCIM_PATCH_MAX_WORK, -1 */
int scim_patch_spend(scim_patch_t *ctx, size_t n);

/* the object that holds the attribute: the document or its extension */
json_t *scim_patch_container(scim_patch_t *ctx, const scim_path_res_t *res,
    int create);

/* drops the extension block of res if it was left empty */
void scim_patch_prune(scim_patch_t *ctx, const scim_path_res_t *res);

/* obj[name], moved under name if it was under another case */
json_t *scim_patch_get(json_t *obj, const char *name);

/*
 * A deep copy of a client's value, with booleans given as "True"/"False"
 * made booleans where def (or its sub-attributes) says boolean.
 */
json_t *scim_patch_copy(const scim_attr_t *def, json_t *v);

/* dst's sub-attributes from src (null removes), canonical names */
int scim_patch_merge(json_t *dst, json_t *src, const scim_attr_t *def);

/* add to a multi-valued attribute: append what is not there yet */
int scim_patch_append(scim_patch_t *ctx, json_t *container,
    const char *name, const scim_attr_t *def, json_t *value);

/* "primary": true on keep only (RFC 7643 2.4) */
void scim_patch_primary(json_t *arr, json_t *keep);

/*
 * Removes from arr the values listed: elements whose "value" equals an
 * item's "value" (or the item, if a string), compared per caseExact of
 * the "value" sub-attribute; elements equal to an item without "value".
 */
int scim_patch_remove_values(json_t *arr, json_t *value,
    const scim_attr_t *def);


#endif /* _SCIM_PATCH_H_INCLUDED_ */
