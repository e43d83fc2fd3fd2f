
/*
 * ngx_http_scim_module: the grammar of attribute paths (RFC 7644 3.10 and
 * 3.5.2): "userName", "name.givenName",
 * "urn:...:enterprise:2.0:User:manager", "emails[type eq \"work\"].value",
 * "members[value eq \"id\"]"; and of SCIM filters (RFC 7644 3.4.2.2).
 * The two call each other (a value path holds a filter), so both live
 * here; tokens and values are read by scim_lex.c.
 *
 *   FILTER  = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
 *   or < and < not < "(...)", attrExp, valuePath
 *
 * A recursive-descent parser builds an AST ("and"/"or" nodes are n-ary,
 * so that a long chain does not make a deep tree); recursion is bounded
 * by SCIM_FILTER_MAX_DEPTH levels of parentheses, "not" and brackets.
 *
 * Leniencies, for what clients send (Entra ID above all): operators,
 * "and", "or", "not" and attribute names in any case; any run of blanks
 * where the grammar has SP, none before a quoted value
 * (members[value eq"id"], RFC 7644 3.5.2.2 prints it so); unquoted values
 * (userName sw O, meta.created gt 2015-10-10T14:38:21Z), ending at a
 * blank, ")" or "]"; "not x" without parentheses; a sub-attribute after
 * a value path, compared (emails[type eq "work"].value eq "x"); a value
 * path compared directly (compares the elements' "value").
 *
 * When the type is known at parse time, a comparison that cannot hold
 * is 400 invalidFilter (scim_filter_check_type): gt/ge/lt/le on a
 * boolean or binary attribute (RFC 7644 3.4.2.2) or a complex one
 * without "value", co/sw/ew on a boolean, a value of the wrong kind
 * (meta.created gt "yesterday", level gt "many", hired lt 12).
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_parse.h"


#define scim_is_name_start(c)  (scim_is_alpha(c) || (c) == '$')
#define scim_is_name_char(c)                                                 \
    (scim_is_alpha(c) || scim_is_digit(c) || (c) == '-' || (c) == '_'        \
     || (c) == '$')


static int scim_is_urn_char(unsigned char c);
static size_t scim_path_name(const char *s, size_t len, size_t pos);
static char *scim_path_strndup(const char *s, size_t len);
static scim_filter_t *scim_filter_node(scim_lexer_t *lx,
    scim_fnode_type_t type);
static int scim_filter_push(scim_lexer_t *lx, scim_filter_t *f,
    scim_filter_t *kid);
static scim_filter_t *scim_filter_parse_chain(scim_lexer_t *lx,
    const scim_attr_t *parent, int is_or);
static scim_filter_t *scim_filter_parse_or(scim_lexer_t *lx,
    const scim_attr_t *parent);
static scim_filter_t *scim_filter_parse_and(scim_lexer_t *lx,
    const scim_attr_t *parent);
static scim_filter_t *scim_filter_parse_unary(scim_lexer_t *lx,
    const scim_attr_t *parent);
static scim_filter_t *scim_filter_parse_attrexp(scim_lexer_t *lx,
    const scim_attr_t *parent);
static int scim_filter_check_type(scim_lexer_t *lx, scim_filter_t *f,
    const scim_attr_t *parent, size_t oppos, size_t vpos);
static const char *scim_filter_type_name(scim_type_t type);
static int scim_filter_set_hint(scim_lexer_t *lx, scim_filter_t *f);


/* --------------------------------------------------------------- paths */


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


/* ------------------------------------------------------------- filters */


scim_filter_t *
scim_filter_parse(const scim_resource_type_t *rt, const char *s, size_t len,
    scim_error_t *err)
{
    scim_lexer_t    lx;
    scim_filter_t  *f;

    memset(&lx, 0, sizeof(scim_lexer_t));
    lx.rt = rt;
    lx.s = s;
    lx.len = (s != NULL) ? len : 0;
    lx.err = err;

    if (lx.len > SCIM_FILTER_MAX_LEN) {
        scim_lex_error(&lx, SCIM_FILTER_MAX_LEN,
                       "longer than %d bytes", SCIM_FILTER_MAX_LEN);
        return NULL;
    }

    scim_lex_skip_ws(&lx);

    if (lx.pos == lx.len) {
        scim_lex_error(&lx, lx.pos, "empty filter");
        return NULL;
    }

    f = scim_filter_parse_or(&lx, NULL);
    if (f == NULL) {
        return NULL;
    }

    scim_lex_skip_ws(&lx);

    if (lx.pos != lx.len) {
        if (lx.s[lx.pos] == ')') {
            scim_lex_error(&lx, lx.pos, "unbalanced ')'");

        } else if (lx.s[lx.pos] == ']') {
            scim_lex_error(&lx, lx.pos, "unbalanced ']'");

        } else {
            scim_lex_error(&lx, lx.pos, "unexpected text");
        }

        scim_filter_free(f);
        return NULL;
    }

    return f;
}


scim_filter_t *
scim_filter_lex_valfilter(scim_lexer_t *lx, const scim_attr_t *parent)
{
    scim_filter_t  *f;

    scim_lex_skip_ws(lx);

    f = scim_filter_parse_or(lx, parent);
    if (f == NULL) {
        return NULL;
    }

    scim_lex_skip_ws(lx);

    return f;
}


void
scim_filter_free(scim_filter_t *f)
{
    size_t  i;

    if (f == NULL) {
        return;
    }

    for (i = 0; i < f->nkids; i++) {
        scim_filter_free(f->kids[i]);
    }

    free(f->kids);
    scim_path_clear(&f->path);
    free(f->text);
    free(f->folded);
    free(f->hint);
    free(f);
}


static scim_filter_t *
scim_filter_node(scim_lexer_t *lx, scim_fnode_type_t type)
{
    scim_filter_t  *f;

    f = calloc(1, sizeof(scim_filter_t));
    if (f == NULL) {
        scim_error_set(lx->err, 500, NULL, "out of memory");
        return NULL;
    }

    f->type = type;

    return f;
}


static int
scim_filter_push(scim_lexer_t *lx, scim_filter_t *f, scim_filter_t *kid)
{
    size_t           n;
    scim_filter_t  **kids;

    if ((f->nkids & (f->nkids - 1)) == 0) {
        n = (f->nkids == 0) ? 2 : f->nkids * 2;

        kids = realloc(f->kids, n * sizeof(scim_filter_t *));
        if (kids == NULL) {
            scim_filter_free(kid);
            return scim_error_set(lx->err, 500, NULL, "out of memory");
        }

        f->kids = kids;
    }

    f->kids[f->nkids++] = kid;

    return 0;
}


/*
 * An "or" chain of "and" chains (is_or), or an "and" chain of unary
 * expressions: kept flat, so that recursion grows only with parentheses
 */

static scim_filter_t *
scim_filter_parse_chain(scim_lexer_t *lx, const scim_attr_t *parent,
    int is_or)
{
    size_t          save, klen;
    const char     *kw;
    scim_filter_t  *first, *f, *kid;

    kw = is_or ? "or" : "and";
    klen = is_or ? 2 : 3;

    first = is_or ? scim_filter_parse_and(lx, parent)
                  : scim_filter_parse_unary(lx, parent);
    if (first == NULL) {
        return NULL;
    }

    f = NULL;

    for ( ;; ) {
        save = lx->pos;
        scim_lex_skip_ws(lx);

        if (!scim_lex_keyword(lx, kw)) {
            lx->pos = save;
            break;
        }

        lx->pos += klen;

        if (f == NULL) {
            f = scim_filter_node(lx, is_or ? SCIM_FN_OR : SCIM_FN_AND);
            if (f == NULL) {
                scim_filter_free(first);
                return NULL;
            }

            if (scim_filter_push(lx, f, first) != 0) {
                scim_filter_free(f);
                return NULL;
            }
        }

        kid = is_or ? scim_filter_parse_and(lx, parent)
                    : scim_filter_parse_unary(lx, parent);
        if (kid == NULL || scim_filter_push(lx, f, kid) != 0) {
            scim_filter_free(f);
            return NULL;
        }
    }

    return (f != NULL) ? f : first;
}


static scim_filter_t *
scim_filter_parse_or(scim_lexer_t *lx, const scim_attr_t *parent)
{
    return scim_filter_parse_chain(lx, parent, 1);
}


static scim_filter_t *
scim_filter_parse_and(scim_lexer_t *lx, const scim_attr_t *parent)
{
    return scim_filter_parse_chain(lx, parent, 0);
}


static scim_filter_t *
scim_filter_parse_unary(scim_lexer_t *lx, const scim_attr_t *parent)
{
    int             is_not;
    size_t          save, ws, wlen, open;
    scim_filter_t  *f, *kid;

    if (lx->depth >= SCIM_FILTER_MAX_DEPTH) {
        scim_lex_error(lx, lx->pos, "nesting too deep");
        return NULL;
    }

    scim_lex_skip_ws(lx);

    if (lx->pos >= lx->len) {
        scim_lex_error(lx, lx->pos, "expected an expression");
        return NULL;
    }

    if (lx->s[lx->pos] == '(') {
        open = lx->pos;
        lx->pos++;
        lx->depth++;

        f = scim_filter_parse_or(lx, parent);

        lx->depth--;

        if (f == NULL) {
            return NULL;
        }

        scim_lex_skip_ws(lx);

        if (lx->pos >= lx->len || lx->s[lx->pos] != ')') {
            scim_lex_error(lx, lx->pos, "expected ')' to close '(' at %zu",
                           open);
            scim_filter_free(f);
            return NULL;
        }

        lx->pos++;

        return f;
    }

    /* "not" followed by "(" or, leniently, by an expression */

    is_not = 0;

    if (scim_lex_word(lx, lx->pos) == 3
        && strncasecmp(lx->s + lx->pos, "not", 3) == 0
        && lx->pos + 3 < lx->len
        && (scim_is_ws(lx->s[lx->pos + 3]) || lx->s[lx->pos + 3] == '('))
    {
        save = lx->pos;
        lx->pos += 3;
        ws = scim_lex_skip_ws(lx);

        if (lx->pos < lx->len) {
            if (lx->s[lx->pos] == '(') {
                is_not = 1;

            } else if (ws > 0 && scim_lex_op(lx, lx->pos, &wlen) < 0) {
                /* "not userName eq x"; "not eq x" is attribute "not" */
                is_not = 1;
            }
        }

        lx->pos = save;
    }

    if (is_not) {
        lx->pos += 3;
        scim_lex_skip_ws(lx);

        f = scim_filter_node(lx, SCIM_FN_NOT);
        if (f == NULL) {
            return NULL;
        }

        lx->depth++;
        kid = scim_filter_parse_unary(lx, parent);
        lx->depth--;

        if (kid == NULL || scim_filter_push(lx, f, kid) != 0) {
            scim_filter_free(f);
            return NULL;
        }

        return f;
    }

    return scim_filter_parse_attrexp(lx, parent);
}


static scim_filter_t *
scim_filter_parse_attrexp(scim_lexer_t *lx, const scim_attr_t *parent)
{
    int             op;
    size_t          save, ws, wlen, oppos, vpos;
    scim_filter_t  *f;

    f = scim_filter_node(lx, SCIM_FN_CMP);
    if (f == NULL) {
        return NULL;
    }

    if (scim_path_lex(lx, parent, &f->path) != 0) {
        scim_filter_free(f);
        return NULL;
    }

    save = lx->pos;
    ws = scim_lex_skip_ws(lx);

    if (f->path.filter != NULL && f->path.sub == NULL
        && (ws == 0 || scim_lex_op(lx, lx->pos, &wlen) < 0))
    {
        /* a value path alone */
        lx->pos = save;
        f->type = SCIM_FN_VPATH;
        f->op = SCIM_OP_ANY;

        if (scim_filter_set_hint(lx, f) != 0) {
            scim_filter_free(f);
            return NULL;
        }

        return f;
    }

    oppos = lx->pos;

    if (lx->pos >= lx->len) {
        scim_lex_error(lx, lx->pos, "expected an operator");
        scim_filter_free(f);
        return NULL;
    }

    if (ws == 0) {
        scim_lex_unexpected(lx, lx->pos, " after attribute path");
        scim_filter_free(f);
        return NULL;
    }

    op = scim_lex_op(lx, lx->pos, &wlen);
    if (op < 0) {
        scim_lex_error(lx, lx->pos, "unknown operator \"%.*s\"",
                       (int) (wlen > 0 ? (wlen > 16 ? 16 : wlen) : 1),
                       lx->s + lx->pos);
        scim_filter_free(f);
        return NULL;
    }

    f->op = (scim_fop_t) op;
    lx->pos += 2;

    for (vpos = lx->pos; vpos < lx->len && scim_is_ws(lx->s[vpos]); vpos++) {
        /* void */
    }

    if (f->op != SCIM_OP_PR) {
        if (scim_lex_value(lx, f) != 0) {
            scim_filter_free(f);
            return NULL;
        }
    }

    if (lx->rt != NULL && f->op != SCIM_OP_PR
        && scim_filter_check_type(lx, f, parent, oppos, vpos) != 0)
    {
        scim_filter_free(f);
        return NULL;
    }

    if (scim_filter_set_hint(lx, f) != 0) {
        scim_filter_free(f);
        return NULL;
    }

    return f;
}


/*
 * The comparison against the attribute's type, when the type is known
 * at parse time (RFC 7644 3.4.2.2, "Any malformed filter -> 400"):
 *  - gt/ge/lt/le on a boolean or binary attribute, or on a complex one
 *    without a "value" sub-attribute (name, meta);
 *  - co/sw/ew on a boolean;
 *  - a value of the wrong kind: a dateTime attribute compared (eq, ne,
 *    gt, ge, lt, le) with what is no xsd:dateTime, quoted or not; an
 *    integer or decimal one with what is no number ("12" is one); a
 *    boolean one with anything but true/false ("True", "false", quoted
 *    or not, in any case, as Entra writes them).
 * "eq null" and "ne null" test presence and take any attribute; co, sw
 * and ew on a dateTime compare its text.  Strings, references and
 * binaries take any value (userName eq 123 compares the text "123").
 */

static int
scim_filter_check_type(scim_lexer_t *lx, scim_filter_t *f,
    const scim_attr_t *parent, size_t oppos, size_t vpos)
{
    size_t              n;
    const char         *want, *op;
    scim_path_res_t     res;
    const scim_attr_t  *leaf, *attr;

    scim_path_resolve(lx->rt, parent, lx->in_brackets, &f->path, &res);

    attr = (res.sub != NULL) ? res.sub
           : (f->path.sub == NULL) ? res.attr : NULL;

    if (attr == NULL) {
        /* an attribute no schema defines: compared as found */
        return 0;
    }

    leaf = attr;

    if (leaf->type == SCIM_TYPE_COMPLEX) {
        leaf = scim_attr_find(leaf->sub_attrs, leaf->n_sub_attrs, "value", 5);
    }

    op = scim_fop_names[f->op];

    if (f->op >= SCIM_OP_GT && f->op <= SCIM_OP_LE) {

        if (leaf == NULL) {
            return scim_lex_error(lx, oppos, "\"%s\" is not allowed on "
                                  "complex attribute \"%s\"", op,
                                  attr->name);
        }

        if (leaf->type == SCIM_TYPE_BOOLEAN
            || leaf->type == SCIM_TYPE_BINARY)
        {
            return scim_lex_error(lx, oppos, "\"%s\" is not allowed on %s "
                                  "attribute \"%s\"", op,
                                  leaf->type == SCIM_TYPE_BOOLEAN
                                  ? "boolean" : "binary", leaf->name);
        }
    }

    if (leaf == NULL || f->vtype == SCIM_FV_NULL) {
        return 0;
    }

    want = NULL;

    switch (leaf->type) {

    case SCIM_TYPE_BOOLEAN:
        if (f->op == SCIM_OP_CO || f->op == SCIM_OP_SW
            || f->op == SCIM_OP_EW)
        {
            return scim_lex_error(lx, oppos, "\"%s\" is not allowed on "
                                  "boolean attribute \"%s\"", op,
                                  leaf->name);
        }

        if (scim_lex_bool(f) < 0) {
            want = "true or false";
        }

        break;

    case SCIM_TYPE_INTEGER:
    case SCIM_TYPE_DECIMAL:
        if (f->vtype != SCIM_FV_NUMBER
            && !(f->vtype == SCIM_FV_STRING
                 && scim_lex_number(f->text, f->text_len)))
        {
            want = (leaf->type == SCIM_TYPE_INTEGER) ? "an integer"
                                                     : "a number";
        }

        break;

    case SCIM_TYPE_DATETIME:
        if (!f->is_dt && f->op != SCIM_OP_CO && f->op != SCIM_OP_SW
            && f->op != SCIM_OP_EW)
        {
            want = "a dateTime";
        }

        break;

    default:
        break;
    }

    if (want == NULL) {
        return 0;
    }

    /* the value as written, cut at a character boundary */

    n = (f->text_len > 40) ? 40 : f->text_len;

    while (n < f->text_len && n > 0
           && ((unsigned char) f->text[n] & 0xc0) == 0x80)
    {
        n--;
    }

    return scim_lex_error(lx, vpos, "%s%.*s%s%s is not %s (%s attribute "
                          "\"%s\")", f->quoted ? "\"" : "", (int) n,
                          f->text, n < f->text_len ? "..." : "",
                          f->quoted ? "\"" : "", want,
                          scim_filter_type_name(leaf->type), leaf->name);
}


static const char *
scim_filter_type_name(scim_type_t type)
{
    switch (type) {
    case SCIM_TYPE_BOOLEAN:
        return "boolean";
    case SCIM_TYPE_DECIMAL:
        return "decimal";
    case SCIM_TYPE_INTEGER:
        return "integer";
    case SCIM_TYPE_DATETIME:
        return "dateTime";
    default:
        return "string";
    }
}


/*
 * The path that scim_filter_eq_hint() compares: "userName", "name.givenName",
 * "urn:...:enterprise:2.0:User:employeeNumber", "emails.value" (also for
 * "emails eq" when emails is known to be complex), and for Entra's form
 * "emails[type eq \"work\"].value".  For a value path alone, the
 * attribute ("members"), prefixed to its inner comparisons.
 */

static int
scim_filter_set_hint(scim_lexer_t *lx, scim_filter_t *f)
{
    int                 complex;
    size_t              n;
    scim_filter_t      *in;
    scim_path_res_t     res;
    const scim_path_t  *p;

    p = &f->path;

    if (p->attr == NULL) {
        return 0;
    }

    if (f->type == SCIM_FN_CMP) {
        if (f->op != SCIM_OP_EQ
            || (f->vtype != SCIM_FV_STRING && f->vtype != SCIM_FV_NUMBER)
            || strlen(f->text) != f->text_len)
        {
            return 0;
        }
    }

    complex = 0;
    in = NULL;

    if (p->filter != NULL && f->type == SCIM_FN_CMP) {
        in = p->filter;

        if (p->sub == NULL || in->type != SCIM_FN_CMP
            || in->op != SCIM_OP_EQ || in->vtype != SCIM_FV_STRING
            || in->path.urn != NULL || in->path.sub != NULL
            || strpbrk(in->text, "\"\\") != NULL
            || strlen(in->text) != in->text_len)
        {
            return 0;
        }

    } else if (f->type == SCIM_FN_CMP && p->filter == NULL
               && p->sub == NULL && lx->rt != NULL && !lx->in_brackets)
    {
        scim_path_resolve(lx->rt, NULL, 0, p, &res);
        complex = (res.attr != NULL && res.attr->type == SCIM_TYPE_COMPLEX);
    }

    n = 8 + strlen(p->attr) + (p->urn ? strlen(p->urn) : 0)
        + (p->sub ? strlen(p->sub) : 0)
        + (in != NULL ? strlen(in->path.attr) + in->text_len + 8 : 0);

    f->hint = malloc(n);
    if (f->hint == NULL) {
        return scim_error_set(lx->err, 500, NULL, "out of memory");
    }

    f->hint[0] = '\0';

    if (p->urn != NULL && strcasecmp(p->urn, SCIM_SCHEMA_USER) != 0
        && strcasecmp(p->urn, SCIM_SCHEMA_GROUP) != 0)
    {
        strcat(f->hint, p->urn);
        strcat(f->hint, ":");
    }

    strcat(f->hint, p->attr);

    if (in != NULL) {
        strcat(f->hint, "[");
        strcat(f->hint, in->path.attr);
        strcat(f->hint, " eq \"");
        strcat(f->hint, in->text);
        strcat(f->hint, "\"]");
    }

    if (p->sub != NULL) {
        strcat(f->hint, ".");
        strcat(f->hint, p->sub);

    } else if (complex) {
        strcat(f->hint, ".value");
    }

    return 0;
}
