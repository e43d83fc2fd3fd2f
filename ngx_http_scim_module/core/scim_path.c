
/*
 * ngx_http_scim_module: attribute paths (RFC 7644 3.10 and 3.5.2):
 * "userName", "name.givenName", "urn:...:enterprise:2.0:User:manager",
 * "emails[type eq \"work\"].value", "members[value eq \"id\"]".
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_path.h"


#define scim_is_name_start(c)  (scim_is_alpha(c) || (c) == '$')
#define scim_is_name_char(c)                                                 \
    (scim_is_alpha(c) || scim_is_digit(c) || (c) == '-' || (c) == '_'        \
     || (c) == '$')


static int scim_is_urn_char(unsigned char c);
static size_t scim_path_name(const char *s, size_t len, size_t pos);
static char *scim_path_strndup(const char *s, size_t len);
static int scim_path_is_core_urn(const char *urn);


int
scim_lex_error(scim_lexer_t *lx, size_t pos, const char *fmt, ...)
{
    int      n;
    char     what[256];
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);

    if (n < 0) {
        what[0] = '\0';
    }

    return scim_error_set(lx->err, 400,
                          lx->patch ? SCIM_ERR_INVALID_PATH
                                    : SCIM_ERR_INVALID_FILTER,
                          "invalid %s: %s at position %zu",
                          lx->patch ? "path" : "filter", what, pos);
}


int
scim_lex_unexpected(scim_lexer_t *lx, size_t pos, const char *suffix)
{
    unsigned char  c;

    if (pos >= lx->len) {
        return scim_lex_error(lx, pos, "unexpected end%s", suffix);
    }

    c = (unsigned char) lx->s[pos];

    if (c >= 0x20 && c < 0x7f) {
        return scim_lex_error(lx, pos, "unexpected '%c'%s", c, suffix);
    }

    return scim_lex_error(lx, pos, "unexpected byte 0x%02x%s", c, suffix);
}


static int
scim_is_urn_char(unsigned char c)
{
    if (scim_is_alpha(c) || scim_is_digit(c)) {
        return 1;
    }

    return c != '\0' && strchr("-_.:%+$~@!;=,*'/", c) != NULL;
}


/* length of the ATTRNAME at s[pos], 0 if none */

static size_t
scim_path_name(const char *s, size_t len, size_t pos)
{
    size_t  i;

    if (pos >= len || !scim_is_name_start(s[pos])) {
        return 0;
    }

    for (i = pos + 1; i < len && scim_is_name_char(s[i]); i++) {
        /* void */
    }

    return i - pos;
}


static char *
scim_path_strndup(const char *s, size_t len)
{
    char  *p;

    p = malloc(len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


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


int
scim_path_lex(scim_lexer_t *lx, const scim_attr_t *parent, scim_path_t *p)
{
    size_t              start, end, colon, i, n, rest;
    const char         *s;
    scim_path_res_t     res;
    const scim_attr_t  *inner_parent;

    s = lx->s;
    start = lx->pos;
    p->pos = start;

    if (lx->len - start >= 4 && strncasecmp(s + start, "urn:", 4) == 0) {

        for (end = start; end < lx->len; end++) {
            if (!scim_is_urn_char((unsigned char) s[end])) {
                break;
            }
        }

        if (end - start > SCIM_PATH_MAX_LEN) {
            return scim_lex_error(lx, start, "attribute path too long");
        }

        if (scim_path_is_schema_urn(lx->rt, s + start, end - start)) {
            p->urn = scim_path_strndup(s + start, end - start);
            if (p->urn == NULL) {
                return scim_error_set(lx->err, 500, NULL,
                                      "out of memory");
            }

            lx->pos = end;

            if (end < lx->len && s[end] == '[') {
                return scim_lex_error(lx, end,
                                      "value filter after a schema URN");
            }

            goto resolve;
        }

        colon = end;
        for (i = end; i > start; i--) {
            if (s[i - 1] == ':') {
                colon = i - 1;
                break;
            }
        }

        if (colon - start < 5) {
            return scim_lex_error(lx, start, "invalid schema URN");
        }

        n = scim_path_name(s, end, colon + 1);
        if (n == 0) {
            return scim_lex_error(lx, colon + 1,
                                  "expected an attribute name");
        }

        p->urn = scim_path_strndup(s + start, colon - start);
        p->attr = scim_path_strndup(s + colon + 1, n);
        if (p->urn == NULL || p->attr == NULL) {
            return scim_error_set(lx->err, 500, NULL, "out of memory");
        }

        i = colon + 1 + n;

        if (i < end && s[i] == '.') {
            rest = scim_path_name(s, end, i + 1);
            if (rest == 0) {
                return scim_lex_error(lx, i + 1,
                                      "expected a sub-attribute name");
            }

            p->sub = scim_path_strndup(s + i + 1, rest);
            if (p->sub == NULL) {
                return scim_error_set(lx->err, 500, NULL, "out of memory");
            }

            i += 1 + rest;
        }

        if (i != end) {
            return scim_lex_unexpected(lx, i, "");
        }

        lx->pos = end;

    } else {
        n = scim_path_name(s, lx->len, start);
        if (n == 0) {
            return scim_lex_error(lx, start, "expected an attribute name");
        }

        if (n > SCIM_PATH_MAX_LEN) {
            return scim_lex_error(lx, start, "attribute path too long");
        }

        p->attr = scim_path_strndup(s + start, n);
        if (p->attr == NULL) {
            return scim_error_set(lx->err, 500, NULL, "out of memory");
        }

        i = start + n;

        if (i < lx->len && s[i] == '.') {
            rest = scim_path_name(s, lx->len, i + 1);
            if (rest == 0) {
                return scim_lex_error(lx, i + 1,
                                      "expected a sub-attribute name");
            }

            if (rest > SCIM_PATH_MAX_LEN) {
                return scim_lex_error(lx, i + 1, "attribute path too long");
            }

            p->sub = scim_path_strndup(s + i + 1, rest);
            if (p->sub == NULL) {
                return scim_error_set(lx->err, 500, NULL, "out of memory");
            }

            i += 1 + rest;
        }

        lx->pos = i;
    }

    if (lx->pos < lx->len && s[lx->pos] == '[') {

        if (lx->in_brackets) {
            return scim_lex_error(lx, lx->pos, "nested value filter");
        }

        if (p->sub != NULL) {
            return scim_lex_error(lx, lx->pos,
                                  "value filter after a sub-attribute");
        }

        if (lx->depth >= SCIM_FILTER_MAX_DEPTH) {
            return scim_lex_error(lx, lx->pos, "nesting too deep");
        }

        inner_parent = NULL;
        if (lx->rt != NULL) {
            scim_path_resolve(lx->rt, parent, 0, p, &res);
            inner_parent = res.attr;
        }

        lx->depth++;
        lx->pos++;
        lx->in_brackets = 1;

        p->filter = scim_filter_lex_valfilter(lx, inner_parent);

        lx->in_brackets = 0;
        lx->depth--;

        if (p->filter == NULL) {
            return -1;
        }

        if (lx->pos >= lx->len || s[lx->pos] != ']') {
            return scim_lex_error(lx, lx->pos, "expected ']'");
        }

        lx->pos++;

        if (lx->pos < lx->len && s[lx->pos] == '.') {
            n = scim_path_name(s, lx->len, lx->pos + 1);
            if (n == 0) {
                return scim_lex_error(lx, lx->pos + 1,
                                      "expected a sub-attribute name");
            }

            if (n > SCIM_PATH_MAX_LEN) {
                return scim_lex_error(lx, lx->pos + 1,
                                      "attribute path too long");
            }

            p->sub = scim_path_strndup(s + lx->pos + 1, n);
            if (p->sub == NULL) {
                return scim_error_set(lx->err, 500, NULL, "out of memory");
            }

            lx->pos += 1 + n;
        }
    }

resolve:

    if (lx->rt != NULL && (!lx->in_brackets || parent != NULL)) {
        scim_path_resolve(lx->rt, parent, lx->in_brackets, p, &p->res);
        p->resolved = 1;
    }

    return 0;
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


int
scim_path_parse(const scim_resource_type_t *rt, const char *s, size_t len,
    scim_path_t *p, scim_error_t *err)
{
    scim_lexer_t  lx;

    memset(p, 0, sizeof(scim_path_t));
    memset(&lx, 0, sizeof(scim_lexer_t));

    lx.rt = rt;
    lx.s = s;
    lx.len = len;
    lx.patch = 1;
    lx.err = err;

    if (s == NULL) {
        lx.len = 0;
    }

    if (lx.len > SCIM_PATH_MAX_LEN) {
        return scim_lex_error(&lx, SCIM_PATH_MAX_LEN, "path too long");
    }

    while (lx.pos < lx.len && (s[lx.pos] == ' ' || s[lx.pos] == '\t')) {
        lx.pos++;
    }

    while (lx.len > lx.pos
           && (s[lx.len - 1] == ' ' || s[lx.len - 1] == '\t'))
    {
        lx.len--;
    }

    if (lx.pos == lx.len) {
        return scim_lex_error(&lx, lx.pos, "empty path");
    }

    if (scim_path_lex(&lx, NULL, p) != 0) {
        return -1;
    }

    if (lx.pos != lx.len) {
        return scim_lex_unexpected(&lx, lx.pos, "");
    }

    if (!p->resolved) {
        scim_path_resolve(rt, NULL, 0, p, &p->res);
        p->resolved = 1;
    }

    return 0;
}


void
scim_path_clear(scim_path_t *p)
{
    if (p == NULL) {
        return;
    }

    free(p->urn);
    free(p->attr);
    free(p->sub);
    scim_filter_free(p->filter);

    memset(p, 0, sizeof(scim_path_t));
}
