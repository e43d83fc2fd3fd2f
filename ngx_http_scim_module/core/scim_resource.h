
/*
 * ngx_http_scim_module: what validation (scim_resource.c) shares with
 * the immutability check (scim_immutable.c).  Internal to core/: the
 * other layers use scim_core.h only.
 */

#ifndef _SCIM_RESOURCE_H_INCLUDED_
#define _SCIM_RESOURCE_H_INCLUDED_


#include "scim_core.h"


/*
 * scim_norm_path() output: an attribute path for error details,
 * "<URN>:<name>.<sub>" (snprintf: a path longer than this, with a URN
 * near its maximum of 1024 bytes and two names near 256, is cut, which
 * the 512-byte detail it goes into would do anyway)
 */
#define SCIM_NORM_PATH_SIZE  1400


typedef struct {
    const scim_resource_type_t  *rt;
    scim_error_t                *err;
    scim_input_mode_t            mode;
    unsigned                     group:1;
} scim_norm_ctx_t;


/* "name.givenName"; extension attributes URN-qualified */
const char *scim_norm_path(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    char *buf, size_t size);


#endif /* _SCIM_RESOURCE_H_INCLUDED_ */
