
/*
 * ngx_http_scim_module: where an attribute path points (RFC 7643 2.1,
 * RFC 7644 3.10): a parsed path resolved against a resource type's
 * schemas (core, extensions, the common attributes) or, inside a value
 * filter, against the sub-attributes of the filtered attribute; and the
 * schema URNs a path may start with.
 */


#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_parse.h"


static int scim_path_is_core_urn(const char *urn);


static int
scim_path_is_core_urn(const char *urn)
{
    return strcasecmp(urn, SCIM_SCHEMA_USER) == 0
           || strcasecmp(urn, SCIM_SCHEMA_GROUP) == 0;
}


const scim_schema_t *
scim_path_find_schema(const scim_resource_type_t *rt, const char *urn,
    size_t len)
{
    size_t  i;

    if (rt == NULL) {
        return NULL;
    }

    if (rt->schema != NULL && strlen(rt->schema->id) == len
        && strncasecmp(rt->schema->id, urn, len) == 0)
    {
        return rt->schema;
    }

    for (i = 0; i < rt->n_extensions; i++) {
        if (strlen(rt->extensions[i]->id) == len
            && strncasecmp(rt->extensions[i]->id, urn, len) == 0)
        {
            return rt->extensions[i];
        }
    }

    return NULL;
}


/*
 * A schema URN alone: a known schema, or "urn:...:<version>:<Name>" where
 * the segment before the last is a version ("2.0"), as every SCIM schema
 * URN is (urn:ietf:params:scim:schemas:extension:GlobalRelay:2.0:User).
 */

int
scim_path_is_schema_urn(const scim_resource_type_t *rt, const char *s,
    size_t len)
{
    size_t  i, last, prev;
    int     dot, digits;

    if (len < 4 || strncasecmp(s, "urn:", 4) != 0) {
        return 0;
    }

    if (scim_path_find_schema(rt, s, len) != NULL) {
        return 1;
    }

    last = len;
    for (i = len; i > 0; i--) {
        if (s[i - 1] == ':') {
            last = i - 1;
            break;
        }
    }

    if (last == len || last + 1 >= len || !scim_is_alpha(s[last + 1])) {
        return 0;
    }

    prev = last;
    for (i = last; i > 0; i--) {
        if (s[i - 1] == ':') {
            prev = i - 1;
            break;
        }
    }

    if (prev == last || prev < 3) {
        return 0;
    }

    /* s[prev + 1 .. last) must be digits "." digits */
    dot = 0;
    digits = 0;

    for (i = prev + 1; i < last; i++) {
        if (scim_is_digit(s[i])) {
            digits++;

        } else if (s[i] == '.' && digits > 0 && !dot) {
            dot = 1;
            digits = 0;

        } else {
            return 0;
        }
    }

    return dot && digits > 0;
}


void
scim_path_resolve(const scim_resource_type_t *rt, const scim_attr_t *parent,
    int in_elem, const scim_path_t *p, scim_path_res_t *res)
{
    scim_attr_ref_t       ref;
    const scim_attr_t    *a;
    const scim_schema_t  *s;

    if (p->resolved) {
        *res = p->res;
        return;
    }

    memset(res, 0, sizeof(scim_path_res_t));
    res->attr_name = p->attr;
    res->sub_name = p->sub;

    if (in_elem) {
        if (parent != NULL && p->attr != NULL) {
            a = scim_attr_find(parent->sub_attrs, parent->n_sub_attrs,
                               p->attr, strlen(p->attr));
            if (a != NULL) {
                res->attr = a;
                res->attr_name = a->name;
                res->schema = parent->schema;
            }
        }

        return;
    }

    if (p->attr == NULL) {
        /* a schema URN alone */
        s = scim_path_find_schema(rt, p->urn, strlen(p->urn));
        res->schema = s;

        if ((rt != NULL && s != NULL && s == rt->schema)
            || (s == NULL && scim_path_is_core_urn(p->urn)))
        {
            res->core_urn = 1;

        } else {
            res->block = (s != NULL) ? s->id : p->urn;
        }

        return;
    }

    if (rt == NULL) {
        if (p->urn != NULL) {
            if (!scim_path_is_core_urn(p->urn)) {
                res->block = p->urn;
            }

        } else {
            res->any_block = 1;
        }

        return;
    }

    a = NULL;
    s = NULL;

    if (p->urn != NULL) {
        s = scim_path_find_schema(rt, p->urn, strlen(p->urn));
        if (s == NULL) {
            res->block = p->urn;
            return;
        }

        a = scim_attr_find(s->attrs, s->n_attrs, p->attr, strlen(p->attr));

        if (a == NULL && s == rt->schema
            && scim_attr_resolve(rt, p->attr, strlen(p->attr), &ref) == 0
            && ref.schema == NULL)
        {
            /* a common attribute: urn:...:User:id */
            a = ref.attr;
            s = NULL;
        }

        if (s != NULL && s != rt->schema) {
            res->block = s->id;
        }

    } else if (scim_attr_resolve(rt, p->attr, strlen(p->attr), &ref) == 0) {
        a = ref.attr;
        s = ref.schema;

        if (s != NULL && s != rt->schema) {
            res->block = s->id;
        }
    }

    res->schema = s;

    if (a == NULL) {
        return;
    }

    res->attr = a;
    res->attr_name = a->name;

    if (p->sub != NULL && a->n_sub_attrs > 0) {
        res->sub = scim_attr_find(a->sub_attrs, a->n_sub_attrs, p->sub,
                                  strlen(p->sub));
        if (res->sub != NULL) {
            res->sub_name = res->sub->name;
        }
    }
}
