
/*
 * ngx_http_scim_module: SCIM filter evaluation (RFC 7644 3.4.2.2) on the
 * tree that scim_parse.c builds.
 *
 * Evaluation:
 *  - a multi-valued attribute matches if any of its values matches; a
 *    complex value compared directly compares its "value" sub-attribute
 *    (emails co "x", manager eq "id");
 *  - "ne" is the negation of "eq" (an absent attribute is "ne" anything);
 *  - "eq null" holds when the attribute is absent, "ne null" when present;
 *  - strings compare per caseExact (case-folded when false; unknown
 *    attributes are case-insensitive), booleans accept "True"/"False"
 *    strings on either side, integers and decimals numerically,
 *    dateTimes chronologically (offsets, fractions), falling back to
 *    strings when a side is not a dateTime;
 *  - attributes that are never returned (password) never match, so that
 *    a filter cannot probe them.
 */


#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_parse.h"


static int scim_filter_eval(const scim_filter_t *f,
    const scim_resource_type_t *rt, const scim_attr_t *parent, int in_elem,
    json_t *obj);
static int scim_filter_eval_attr(const scim_filter_t *f, scim_fop_t op,
    const scim_resource_type_t *rt, const scim_attr_t *parent, int in_elem,
    json_t *obj);
static int scim_filter_test(const scim_filter_t *f, scim_fop_t op,
    const scim_attr_t *leaf, json_t *v);
static int scim_filter_nonempty(json_t *v);
static int scim_filter_cmp_string(const scim_filter_t *f, scim_fop_t op,
    int case_exact, const char *s, size_t len);
static int scim_filter_cmp_number(const scim_filter_t *f, scim_fop_t op,
    json_t *v);
static int scim_filter_order(scim_fop_t op, int c);


int
scim_filter_match(const scim_filter_t *f, const scim_resource_type_t *rt,
    json_t *doc)
{
    if (f == NULL || !json_is_object(doc)) {
        return 0;
    }

    return scim_filter_eval(f, rt, NULL, 0, doc);
}


int
scim_filter_match_elem(const scim_filter_t *f, const scim_resource_type_t *rt,
    const scim_attr_t *parent, json_t *elem)
{
    if (f == NULL || !json_is_object(elem)) {
        return 0;
    }

    return scim_filter_eval(f, rt, parent, 1, elem);
}


static int
scim_filter_eval(const scim_filter_t *f, const scim_resource_type_t *rt,
    const scim_attr_t *parent, int in_elem, json_t *obj)
{
    size_t  i;

    switch (f->type) {

    case SCIM_FN_AND:
        for (i = 0; i < f->nkids; i++) {
            if (!scim_filter_eval(f->kids[i], rt, parent, in_elem, obj)) {
                return 0;
            }
        }

        return 1;

    case SCIM_FN_OR:
        for (i = 0; i < f->nkids; i++) {
            if (scim_filter_eval(f->kids[i], rt, parent, in_elem, obj)) {
                return 1;
            }
        }

        return 0;

    case SCIM_FN_NOT:
        return !scim_filter_eval(f->kids[0], rt, parent, in_elem, obj);

    case SCIM_FN_VPATH:
        return scim_filter_eval_attr(f, SCIM_OP_ANY, rt, parent, in_elem,
                                     obj);

    default: /* SCIM_FN_CMP */
        if (f->op == SCIM_OP_NE) {
            return !scim_filter_eval_attr(f, SCIM_OP_EQ, rt, parent,
                                          in_elem, obj);
        }

        if (f->op != SCIM_OP_PR && f->vtype == SCIM_FV_NULL) {
            if (f->op == SCIM_OP_EQ) {
                return !scim_filter_eval_attr(f, SCIM_OP_PR, rt, parent,
                                              in_elem, obj);
            }

            return 0;
        }

        return scim_filter_eval_attr(f, f->op, rt, parent, in_elem, obj);
    }
}


/* 1 if some value that the node's path designates in obj satisfies op */

static int
scim_filter_eval_attr(const scim_filter_t *f, scim_fop_t op,
    const scim_resource_type_t *rt, const scim_attr_t *parent, int in_elem,
    json_t *obj)
{
    size_t              i, j, n, m;
    json_t             *top, *e, *v, *block, *x;
    const char         *key;
    scim_path_res_t     res;
    const scim_attr_t  *leaf;
    const scim_path_t  *p;

    p = &f->path;
    scim_path_resolve(rt, parent, in_elem, p, &res);

    if ((res.attr != NULL && res.attr->returned == SCIM_RET_NEVER)
        || (res.sub != NULL && res.sub->returned == SCIM_RET_NEVER))
    {
        return 0;
    }

    /* the attribute's value */

    if (in_elem) {
        top = scim_json_get_ci(obj, res.attr_name);

    } else if (res.attr_name == NULL) {
        top = res.core_urn ? obj : scim_json_get_ci(obj, res.block);

    } else {
        block = obj;

        if (res.block != NULL) {
            block = scim_json_get_ci(obj, res.block);
        }

        top = scim_json_get_ci(block, res.attr_name);

        if (top == NULL && res.any_block) {
            json_object_foreach(obj, key, x) {
                if (strncasecmp(key, "urn:", 4) == 0 && json_is_object(x)) {
                    top = scim_json_get_ci(x, res.attr_name);
                    if (top != NULL) {
                        break;
                    }
                }
            }
        }
    }

    if (top == NULL || json_is_null(top)) {
        return 0;
    }

    /* the definition that types the compared values */

    leaf = res.sub;

    if (p->sub == NULL) {
        leaf = res.attr;

        if (leaf != NULL && leaf->type == SCIM_TYPE_COMPLEX) {
            leaf = scim_attr_find(leaf->sub_attrs, leaf->n_sub_attrs,
                                  "value", 5);
        }
    }

    n = json_is_array(top) ? json_array_size(top) : 1;

    for (i = 0; i < n; i++) {
        e = json_is_array(top) ? json_array_get(top, i) : top;

        if (e == NULL || json_is_null(e)) {
            continue;
        }

        if (p->filter != NULL) {
            if (!json_is_object(e)
                || !scim_filter_eval(p->filter, rt, res.attr, 1, e))
            {
                continue;
            }

            if (op == SCIM_OP_ANY) {
                return 1;
            }
        }

        if (p->sub != NULL) {
            v = scim_json_get_ci(e, p->sub);

            if (json_is_array(v)) {
                m = json_array_size(v);

                for (j = 0; j < m; j++) {
                    if (scim_filter_test(f, op, leaf, json_array_get(v, j))) {
                        return 1;
                    }
                }

                continue;
            }

            if (scim_filter_test(f, op, leaf, v)) {
                return 1;
            }

            continue;
        }

        if (op == SCIM_OP_PR || op == SCIM_OP_ANY) {
            if (scim_filter_nonempty(e)) {
                return 1;
            }

            continue;
        }

        if (json_is_object(e)) {
            e = scim_json_get_ci(e, "value");
        }

        if (scim_filter_test(f, op, leaf, e)) {
            return 1;
        }
    }

    return 0;
}


static int
scim_filter_nonempty(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    case JSON_NULL:
        return 0;
    default:
        return 1;
    }
}


/* compares one simple value v of the document with the node's value */

static int
scim_filter_test(const scim_filter_t *f, scim_fop_t op,
    const scim_attr_t *leaf, json_t *v)
{
    int           b, c, fb, case_exact;
    long          ns1;
    int64_t       s1;
    scim_type_t   type;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (op == SCIM_OP_PR || op == SCIM_OP_ANY) {
        return scim_filter_nonempty(v);
    }

    if (leaf != NULL && leaf->type != SCIM_TYPE_COMPLEX) {
        type = leaf->type;
        case_exact = leaf->case_exact;

    } else {
        case_exact = 0;

        switch (json_typeof(v)) {
        case JSON_STRING:
            type = SCIM_TYPE_STRING;
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            type = SCIM_TYPE_BOOLEAN;
            break;
        case JSON_INTEGER:
            type = SCIM_TYPE_INTEGER;
            break;
        case JSON_REAL:
            type = SCIM_TYPE_DECIMAL;
            break;
        default:
            return 0;
        }
    }

    switch (type) {

    case SCIM_TYPE_BOOLEAN:
        if (op != SCIM_OP_EQ) {
            return 0;
        }

        b = scim_json_bool(v);
        fb = scim_lex_bool(f);

        return b >= 0 && b == fb;

    case SCIM_TYPE_INTEGER:
    case SCIM_TYPE_DECIMAL:
        return scim_filter_cmp_number(f, op, v);

    default:
        if (!json_is_string(v)) {
            return 0;
        }

        /*
         * dateTimes compare chronologically: known ones, and unknown
         * attributes whose value and operand both are dateTimes
         */

        if ((type == SCIM_TYPE_DATETIME
             || (leaf == NULL && type == SCIM_TYPE_STRING))
            && f->is_dt && op != SCIM_OP_CO && op != SCIM_OP_SW
            && op != SCIM_OP_EW
            && scim_datetime_parse_loose(json_string_value(v),
                                         json_string_length(v), &s1, &ns1)
               == 0)
        {
            c = (s1 < f->dt_sec) ? -1 : (s1 > f->dt_sec) ? 1
                : (ns1 < f->dt_nsec) ? -1 : (ns1 > f->dt_nsec) ? 1 : 0;

            return scim_filter_order(op, c);
        }

        return scim_filter_cmp_string(f, op,
                                      type == SCIM_TYPE_DATETIME
                                      ? 0 : case_exact,
                                      json_string_value(v),
                                      json_string_length(v));
    }
}


static int
scim_filter_order(scim_fop_t op, int c)
{
    switch (op) {
    case SCIM_OP_EQ:
        return c == 0;
    case SCIM_OP_GT:
        return c > 0;
    case SCIM_OP_GE:
        return c >= 0;
    case SCIM_OP_LT:
        return c < 0;
    case SCIM_OP_LE:
        return c <= 0;
    default:
        return 0;
    }
}


static int
scim_filter_cmp_number(const scim_filter_t *f, scim_fop_t op, json_t *v)
{
    int          c, vi, fi;
    char        *end;
    double       vd, fd;
    json_int_t   vn, fn;
    const char  *s;

    if (op == SCIM_OP_CO || op == SCIM_OP_SW || op == SCIM_OP_EW) {
        return 0;
    }

    vi = 0;
    vn = 0;

    if (json_is_integer(v)) {
        vi = 1;
        vn = json_integer_value(v);
        vd = (double) vn;

    } else if (json_is_real(v)) {
        vd = json_real_value(v);

    } else if (json_is_string(v)) {
        s = json_string_value(v);
        if (!scim_lex_number(s, json_string_length(v))) {
            return 0;
        }

        vd = strtod(s, &end);

    } else {
        return 0;
    }

    fi = 0;
    fn = 0;

    if (f->vtype == SCIM_FV_NUMBER) {
        fi = f->is_int;
        fn = f->vint;
        fd = f->vnum;

    } else if (f->vtype == SCIM_FV_STRING
               && scim_lex_number(f->text, f->text_len))
    {
        fd = strtod(f->text, &end);

    } else {
        return 0;
    }

    if (vi && fi) {
        c = (vn < fn) ? -1 : (vn > fn) ? 1 : 0;

    } else {
        c = (vd < fd) ? -1 : (vd > fd) ? 1 : 0;
    }

    return scim_filter_order(op, c);
}


static int
scim_filter_cmp_string(const scim_filter_t *f, scim_fop_t op, int case_exact,
    const char *s, size_t len)
{
    int          c, rc;
    char        *folded, buf[256];
    size_t       i, flen, n;
    const char  *a, *b;

    folded = NULL;

    if (case_exact) {
        b = f->text;
        n = f->text_len;

    } else {
        b = f->folded;
        n = f->folded_len;

        /* short ASCII folds here as scim_casefold() would, A-Z only */

        for (i = 0; i < len && i < sizeof(buf); i++) {
            c = (unsigned char) s[i];

            if (c >= 0x80) {
                break;
            }

            buf[i] = (char) ((c >= 'A' && c <= 'Z') ? c + 0x20 : c);
        }

        if (i == len) {
            s = buf;

        } else {
            folded = scim_casefold(s, len, &flen);
            if (folded == NULL) {
                return 0;
            }

            s = folded;
            len = flen;
        }
    }

    a = s;
    rc = 0;

    switch (op) {

    case SCIM_OP_EQ:
        rc = (len == n && memcmp(a, b, n) == 0);
        break;

    case SCIM_OP_SW:
        rc = (len >= n && memcmp(a, b, n) == 0);
        break;

    case SCIM_OP_EW:
        rc = (len >= n && memcmp(a + len - n, b, n) == 0);
        break;

    case SCIM_OP_CO:
        if (n == 0) {
            rc = 1;
            break;
        }

        for (i = 0; i + n <= len; i++) {
            if (a[i] == b[0] && memcmp(a + i, b, n) == 0) {
                rc = 1;
                break;
            }
        }

        break;

    default:
        c = memcmp(a, b, len < n ? len : n);
        if (c == 0) {
            c = (len < n) ? -1 : (len > n) ? 1 : 0;
        }

        rc = scim_filter_order(op, c);
        break;
    }

    free(folded);

    return rc;
}


/* ------------------------------------------------------ index planning */


/* ------------------------------------------------------- PATCH helpers */
