
/*
 * ngx_http_scim_module: what a parsed filter says without a document:
 * the index that can answer it (scim_filter_eq_hint), the literal every
 * match must contain (the scan prefilter), and, for PATCH, the element a
 * value filter describes (scim_filter_eq_fill), the member ids it names
 * (scim_filter_value_ids) and its cost (scim_filter_size).
 */


#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_parse.h"


static int scim_filter_hint_find(const scim_filter_t *f, const char *path,
    const char *prefix, const char **value);


int
scim_filter_eq_hint(const scim_filter_t *f, const char *const *paths,
    size_t n, const char **value)
{
    size_t  i;

    if (f == NULL || paths == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (paths[i] != NULL
            && scim_filter_hint_find(f, paths[i], NULL, value))
        {
            return (int) i;
        }
    }

    return -1;
}


static int
scim_filter_hint_find(const scim_filter_t *f, const char *path,
    const char *prefix, const char **value)
{
    size_t  i, n;

    switch (f->type) {

    case SCIM_FN_AND:
        for (i = 0; i < f->nkids; i++) {
            if (scim_filter_hint_find(f->kids[i], path, prefix, value)) {
                return 1;
            }
        }

        return 0;

    case SCIM_FN_VPATH:
        if (prefix != NULL || f->hint == NULL) {
            return 0;
        }

        return scim_filter_hint_find(f->path.filter, path, f->hint, value);

    case SCIM_FN_CMP:
        if (f->op != SCIM_OP_EQ || f->hint == NULL) {
            return 0;
        }

        if (prefix != NULL) {
            n = strlen(prefix);

            if (strncasecmp(path, prefix, n) != 0 || path[n] != '.'
                || strcasecmp(path + n + 1, f->hint) != 0)
            {
                return 0;
            }

        } else if (strcasecmp(path, f->hint) != 0) {
            return 0;
        }

        *value = f->text;
        return 1;

    default:
        return 0;
    }
}


/*
 * The whole filter is one "<attrPath> eq <string>" (no value path): an
 * index hit for that attribute is then the answer, with nothing left to
 * evaluate.
 */

int
scim_filter_is_simple_eq(const scim_filter_t *f)
{
    return f != NULL
           && f->type == SCIM_FN_CMP
           && f->op == SCIM_OP_EQ
           && f->vtype == SCIM_FV_STRING
           && f->path.filter == NULL
           && f->hint != NULL;
}


/*
 * A literal that the stored text of every document f matches must hold
 * (ASCII letters compared ignoring case), within a string value of a
 * member named *key (the attribute's canonical name, or its
 * sub-attribute's): the string of an eq, co, sw or
 * ew comparison that must hold for f to hold (the root, or under "and"
 * only), on a string or reference attribute that is kept in the stored
 * document (not groups, members, meta, manager or "$ref": reads add
 * those).  Only printable ASCII without '"' and '\\', which the stored
 * text holds as they are.  The longest such literal, or NULL.
 *
 * A scan uses it to skip documents without parsing them; the caller must
 * not skip a text that holds U+017F (long s), which folds to "s".
 */

static const char *
scim_filter_literal(const scim_filter_t *f, size_t *len, const char **key,
    int depth)
{
    size_t                  i, n, best_len;
    const char             *l, *best, *k, *best_key;
    const scim_attr_t      *a;
    const scim_path_res_t  *res;

    if (depth > SCIM_FILTER_MAX_DEPTH) {
        return NULL;
    }

    switch (f->type) {

    case SCIM_FN_AND:
        best = NULL;
        best_key = NULL;
        best_len = 0;

        for (i = 0; i < f->nkids; i++) {
            l = scim_filter_literal(f->kids[i], &n, &k, depth + 1);

            if (l != NULL && n > best_len) {
                best = l;
                best_key = k;
                best_len = n;
            }
        }

        *len = best_len;
        *key = best_key;
        return best;

    case SCIM_FN_CMP:
        break;

    default:
        return NULL;
    }

    if ((f->op != SCIM_OP_EQ && f->op != SCIM_OP_CO && f->op != SCIM_OP_SW
         && f->op != SCIM_OP_EW)
        || f->vtype != SCIM_FV_STRING
        || !f->path.resolved || f->text == NULL || f->text_len == 0)
    {
        return NULL;
    }

    res = &f->path.res;

    /*
     * A value path compared on a sub-attribute (Entra's
     * emails[type eq "work"].value eq "x") still needs the literal in
     * that sub-attribute; the bracket filter only narrows further
     */

    if (res->attr == NULL || res->attr_name == NULL
        || (f->path.filter != NULL && res->sub == NULL))
    {
        return NULL;
    }

    a = (res->sub != NULL) ? res->sub : res->attr;

    /* a multi-valued simple attribute is stored as "key":["...", ...] */

    if (a->multi_valued && a->type != SCIM_TYPE_COMPLEX) {
        return NULL;
    }

    if ((a->type != SCIM_TYPE_STRING && a->type != SCIM_TYPE_REFERENCE)
        || strcmp(res->attr->name, "groups") == 0
        || strcmp(res->attr->name, "members") == 0
        || strcmp(res->attr->name, "meta") == 0
        || strcmp(res->attr->name, "manager") == 0
        || (res->sub != NULL && strcmp(res->sub->name, "$ref") == 0))
    {
        return NULL;
    }

    for (i = 0; i < f->text_len; i++) {
        if (f->text[i] < 0x20 || f->text[i] > 0x7e || f->text[i] == '"'
            || f->text[i] == '\\')
        {
            return NULL;
        }
    }

    *len = f->text_len;
    *key = a->name;

    return f->text;
}


const char *
scim_filter_required_literal(const scim_filter_t *f, size_t *len,
    const char **key)
{
    if (f == NULL) {
        return NULL;
    }

    return scim_filter_literal(f, len, key, 0);
}


size_t
scim_filter_size(const scim_filter_t *f)
{
    size_t  i, n;

    if (f == NULL) {
        return 0;
    }

    n = 1 + scim_filter_size(f->path.filter);

    for (i = 0; i < f->nkids; i++) {
        n += scim_filter_size(f->kids[i]);
    }

    return n;
}


int
scim_filter_eq_fill(const scim_filter_t *f, const scim_attr_t *parent,
    json_t *out)
{
    int                 r, b;
    size_t              i;
    json_t             *v;
    const char         *name;
    const scim_attr_t  *def;

    if (f->type == SCIM_FN_AND) {
        for (i = 0; i < f->nkids; i++) {
            r = scim_filter_eq_fill(f->kids[i], parent, out);
            if (r <= 0) {
                return r;
            }
        }

        return 1;
    }

    if (f->type != SCIM_FN_CMP || f->op != SCIM_OP_EQ
        || f->vtype == SCIM_FV_NULL || f->path.urn != NULL
        || f->path.attr == NULL || f->path.sub != NULL
        || f->path.filter != NULL)
    {
        return 0;
    }

    def = NULL;
    if (parent != NULL) {
        def = scim_attr_find(parent->sub_attrs, parent->n_sub_attrs,
                             f->path.attr, strlen(f->path.attr));
    }

    name = (def != NULL) ? def->name : f->path.attr;

    if (def != NULL && def->type == SCIM_TYPE_BOOLEAN) {
        b = scim_lex_bool(f);
        if (b < 0) {
            return 0;
        }

        v = json_boolean(b);

    } else if (def != NULL
               && (def->type == SCIM_TYPE_INTEGER
                   || def->type == SCIM_TYPE_DECIMAL))
    {
        if (!scim_lex_number(f->text, f->text_len)) {
            return 0;
        }

        if (def->type == SCIM_TYPE_INTEGER
            && strpbrk(f->text, ".eE") == NULL)
        {
            v = json_integer((json_int_t) strtoll(f->text, NULL, 10));

        } else {
            v = json_real(strtod(f->text, NULL));
        }

    } else if (def == NULL && f->vtype == SCIM_FV_BOOL) {
        v = json_boolean(f->vbool);

    } else if (def == NULL && f->vtype == SCIM_FV_NUMBER) {
        v = f->is_int ? json_integer(f->vint) : json_real(f->vnum);

    } else {
        v = json_stringn(f->text, f->text_len);
    }

    if (v == NULL) {
        return -1;
    }

    return (scim_json_set_ci(out, name, v) == 0) ? 1 : -1;
}


int
scim_filter_value_ids(const scim_filter_t *f, json_t *ids)
{
    int     r;
    size_t  i;

    if (f->type == SCIM_FN_OR) {
        for (i = 0; i < f->nkids; i++) {
            r = scim_filter_value_ids(f->kids[i], ids);
            if (r <= 0) {
                return r;
            }
        }

        return 1;
    }

    if (f->type != SCIM_FN_CMP || f->op != SCIM_OP_EQ
        || (f->vtype != SCIM_FV_STRING && f->vtype != SCIM_FV_NUMBER)
        || f->path.urn != NULL || f->path.attr == NULL
        || f->path.sub != NULL || f->path.filter != NULL
        || strcasecmp(f->path.attr, "value") != 0)
    {
        return 0;
    }

    return (json_array_append_new(ids, json_stringn(f->text, f->text_len))
            == 0) ? 1 : -1;
}
