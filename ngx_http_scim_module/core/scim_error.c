
/*
 * ngx_http_scim_module: SCIM error objects (RFC 7644 3.12).
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scim_core.h"
#include "scim_text.h"


int
scim_error_set(scim_error_t *err, int status, const char *scim_type,
    const char *fmt, ...)
{
    int      n;
    va_list  ap;

    if (err == NULL) {
        return -1;
    }

    err->status = status;
    err->scim_type = scim_type;
    err->detail[0] = '\0';

    if (fmt != NULL) {
        va_start(ap, fmt);
        n = vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
        va_end(ap);

        if (n < 0) {
            err->detail[0] = '\0';
        }
    }

    return -1;
}


json_t *
scim_error_to_json(const scim_error_t *err)
{
    int                   status;
    char                  buf[16], detail[sizeof(err->detail)];
    size_t                i, j, n, len;
    json_t               *o, *schemas;
    const unsigned char  *s;

    status = (err != NULL && err->status >= 100 && err->status <= 999)
             ? err->status : 500;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    schemas = json_array();
    if (schemas == NULL
        || json_object_set_new(o, "schemas", schemas) != 0
        || json_array_append_new(schemas, json_string(SCIM_SCHEMA_ERROR))
           != 0)
    {
        goto failed;
    }

    snprintf(buf, sizeof(buf), "%d", status);

    if (json_object_set_new(o, "status", json_string(buf)) != 0) {
        goto failed;
    }

    if (err != NULL && err->scim_type != NULL) {
        if (json_object_set_new(o, "scimType", json_string(err->scim_type))
            != 0)
        {
            goto failed;
        }
    }

    /*
     * detail may quote client input and may have been cut in the middle
     * of a character: bytes that are not valid UTF-8 become '?'
     */

    len = 0;

    if (err != NULL) {
        s = (const unsigned char *) err->detail;
        len = strnlen(err->detail, sizeof(err->detail) - 1);

        for (i = 0, j = 0; i < len; /* void */) {
            n = scim_utf8_seq(s + i, len - i);

            if (n == 0) {
                detail[j++] = '?';
                i++;
                continue;
            }

            memcpy(detail + j, s + i, n);
            i += n;
            j += n;
        }

        len = j;
    }

    if (len > 0) {
        if (json_object_set_new(o, "detail", json_stringn(detail, len))
            != 0)
        {
            goto failed;
        }
    }

    return o;

failed:

    json_decref(o);
    return NULL;
}


/* the length of the valid UTF-8 sequence at p, 0 if invalid */

