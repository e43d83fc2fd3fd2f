
/*
 * ngx_http_scim_module: SCIM filters (RFC 7644 3.4.2.2).
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
 *  - when the type is known at parse time, a comparison that cannot
 *    hold is 400 invalidFilter (scim_filter_check_type): gt/ge/lt/le on
 *    a boolean or binary attribute (RFC 7644 3.4.2.2) or a complex one
 *    without "value", co/sw/ew on a boolean, a value of the wrong kind
 *    (meta.created gt "yesterday", level gt "many", hired lt 12);
 *  - attributes that are never returned (password) never match, so that
 *    a filter cannot probe them.
 */


#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_path.h"


typedef enum {
    SCIM_FN_AND = 0,
    SCIM_FN_OR,
    SCIM_FN_NOT,
    SCIM_FN_CMP,              /* attrExp, "pr" included */
    SCIM_FN_VPATH             /* a value path alone: emails[type eq "x"] */
} scim_fnode_type_t;

typedef enum {
    SCIM_OP_EQ = 0,
    SCIM_OP_NE,
    SCIM_OP_CO,
    SCIM_OP_SW,
    SCIM_OP_EW,
    SCIM_OP_GT,
    SCIM_OP_GE,
    SCIM_OP_LT,
    SCIM_OP_LE,
    SCIM_OP_PR,
    SCIM_OP_ANY               /* internal: an element matched (VPATH) */
} scim_fop_t;

typedef enum {
    SCIM_FV_STRING = 0,
    SCIM_FV_NUMBER,
    SCIM_FV_BOOL,
    SCIM_FV_NULL
} scim_fvalue_type_t;


struct scim_filter_s {
    scim_fnode_type_t    type;
    scim_fop_t           op;
    scim_filter_t      **kids;         /* AND, OR: n; NOT: 1 */
    size_t               nkids;
    scim_path_t          path;         /* CMP, VPATH */

    scim_fvalue_type_t   vtype;
    unsigned             quoted:1;
    unsigned             is_int:1;
    unsigned             is_dt:1;      /* text is a dateTime */
    long                 dt_nsec;
    int64_t              dt_sec;
    int                  vbool;
    json_int_t           vint;
    double               vnum;
    char                *text;         /* decoded string, or the literal */
    size_t               text_len;
    char                *folded;       /* text case-folded */
    size_t               folded_len;

    char                *hint;         /* path for scim_filter_eq_hint() */
};


static const char  *scim_fop_names[] = {
    "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"
};


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
static int scim_filter_parse_value(scim_lexer_t *lx, scim_filter_t *f);
static int scim_filter_parse_string(scim_lexer_t *lx, scim_filter_t *f);
static int scim_filter_set_hint(scim_lexer_t *lx, scim_filter_t *f);
static scim_filter_t *scim_filter_node(scim_lexer_t *lx,
    scim_fnode_type_t type);
static int scim_filter_push(scim_lexer_t *lx, scim_filter_t *f,
    scim_filter_t *kid);
static size_t scim_filter_skip_ws(scim_lexer_t *lx);
static size_t scim_filter_word(scim_lexer_t *lx, size_t pos);
static int scim_filter_delim(scim_lexer_t *lx, size_t pos);
static int scim_filter_keyword(scim_lexer_t *lx, const char *kw);
static int scim_filter_op(scim_lexer_t *lx, size_t pos, size_t *wlen);
static int scim_filter_number(const char *s, size_t len);
static void scim_filter_utf8(char *out, size_t *n, uint32_t cp);

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
static int scim_filter_bool(const scim_filter_t *f);
static int scim_filter_hint_find(const scim_filter_t *f, const char *path,
    const char *prefix, const char **value);


/* ------------------------------------------------------------ parsing */


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

    scim_filter_skip_ws(&lx);

    if (lx.pos == lx.len) {
        scim_lex_error(&lx, lx.pos, "empty filter");
        return NULL;
    }

    f = scim_filter_parse_or(&lx, NULL);
    if (f == NULL) {
        return NULL;
    }

    scim_filter_skip_ws(&lx);

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

    scim_filter_skip_ws(lx);

    f = scim_filter_parse_or(lx, parent);
    if (f == NULL) {
        return NULL;
    }

    scim_filter_skip_ws(lx);

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


static size_t
scim_filter_skip_ws(scim_lexer_t *lx)
{
    size_t  start;

    start = lx->pos;

    while (lx->pos < lx->len && scim_is_ws(lx->s[lx->pos])) {
        lx->pos++;
    }

    return lx->pos - start;
}


static size_t
scim_filter_word(scim_lexer_t *lx, size_t pos)
{
    size_t  i;

    for (i = pos; i < lx->len && scim_is_alpha(lx->s[i]); i++) {
        /* void */
    }

    return i - pos;
}


/* 1 if a word may end before s[pos] */

static int
scim_filter_delim(scim_lexer_t *lx, size_t pos)
{
    char  c;

    if (pos >= lx->len) {
        return 1;
    }

    c = lx->s[pos];

    return scim_is_ws(c) || c == '(' || c == ')' || c == '"' || c == ']';
}


/* 1 if the keyword kw ("and", "or") starts at lx->pos and ends there */

static int
scim_filter_keyword(scim_lexer_t *lx, const char *kw)
{
    size_t  n;

    n = strlen(kw);

    return scim_filter_word(lx, lx->pos) == n
           && strncasecmp(lx->s + lx->pos, kw, n) == 0
           && (lx->pos + n == lx->len
               || scim_is_ws(lx->s[lx->pos + n])
               || lx->s[lx->pos + n] == '(');
}


/* the comparison operator (or "pr") at pos, -1 if none */

static int
scim_filter_op(scim_lexer_t *lx, size_t pos, size_t *wlen)
{
    size_t  n, i;

    n = scim_filter_word(lx, pos);
    *wlen = n;

    if (n != 2 || !scim_filter_delim(lx, pos + 2)) {
        return -1;
    }

    for (i = 0; i < sizeof(scim_fop_names) / sizeof(scim_fop_names[0]); i++)
    {
        if (strncasecmp(lx->s + pos, scim_fop_names[i], 2) == 0) {
            return (int) i;
        }
    }

    return -1;
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
        scim_filter_skip_ws(lx);

        if (!scim_filter_keyword(lx, kw)) {
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

    scim_filter_skip_ws(lx);

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

        scim_filter_skip_ws(lx);

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

    if (scim_filter_word(lx, lx->pos) == 3
        && strncasecmp(lx->s + lx->pos, "not", 3) == 0
        && lx->pos + 3 < lx->len
        && (scim_is_ws(lx->s[lx->pos + 3]) || lx->s[lx->pos + 3] == '('))
    {
        save = lx->pos;
        lx->pos += 3;
        ws = scim_filter_skip_ws(lx);

        if (lx->pos < lx->len) {
            if (lx->s[lx->pos] == '(') {
                is_not = 1;

            } else if (ws > 0 && scim_filter_op(lx, lx->pos, &wlen) < 0) {
                /* "not userName eq x"; "not eq x" is attribute "not" */
                is_not = 1;
            }
        }

        lx->pos = save;
    }

    if (is_not) {
        lx->pos += 3;
        scim_filter_skip_ws(lx);

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
    ws = scim_filter_skip_ws(lx);

    if (f->path.filter != NULL && f->path.sub == NULL
        && (ws == 0 || scim_filter_op(lx, lx->pos, &wlen) < 0))
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

    op = scim_filter_op(lx, lx->pos, &wlen);
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
        if (scim_filter_parse_value(lx, f) != 0) {
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

        if (scim_filter_bool(f) < 0) {
            want = "true or false";
        }

        break;

    case SCIM_TYPE_INTEGER:
    case SCIM_TYPE_DECIMAL:
        if (f->vtype != SCIM_FV_NUMBER
            && !(f->vtype == SCIM_FV_STRING
                 && scim_filter_number(f->text, f->text_len)))
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


static int
scim_filter_parse_value(scim_lexer_t *lx, scim_filter_t *f)
{
    char        c;
    size_t      ws, start, n;
    const char  *s;

    ws = scim_filter_skip_ws(lx);

    if (lx->pos >= lx->len) {
        return scim_lex_error(lx, lx->pos, "expected a value");
    }

    start = lx->pos;

    if (lx->s[lx->pos] == '"') {
        if (scim_filter_parse_string(lx, f) != 0) {
            return -1;
        }

        goto fold;
    }

    if (ws == 0) {
        return scim_lex_error(lx, lx->pos, "expected a value");
    }

    /* an unquoted value: up to a blank, ")" or "]" */

    start = lx->pos;

    while (lx->pos < lx->len) {
        c = lx->s[lx->pos];

        if (scim_is_ws(c) || c == ')' || c == ']' || c == '\0') {
            break;
        }

        lx->pos++;
    }

    n = lx->pos - start;
    s = lx->s + start;

    if (n == 0) {
        return scim_lex_error(lx, start, "expected a value");
    }

    f->text = malloc(n + 1);
    if (f->text == NULL) {
        return scim_error_set(lx->err, 500, NULL, "out of memory");
    }

    memcpy(f->text, s, n);
    f->text[n] = '\0';
    f->text_len = n;

    if (n == 4 && strncasecmp(s, "true", 4) == 0) {
        f->vtype = SCIM_FV_BOOL;
        f->vbool = 1;

    } else if (n == 5 && strncasecmp(s, "false", 5) == 0) {
        f->vtype = SCIM_FV_BOOL;
        f->vbool = 0;

    } else if (n == 4 && strncasecmp(s, "null", 4) == 0) {
        f->vtype = SCIM_FV_NULL;

    } else if (scim_filter_number(s, n)) {
        f->vtype = SCIM_FV_NUMBER;

        errno = 0;
        f->vnum = strtod(f->text, NULL);
        if (strpbrk(f->text, ".eE") == NULL) {
            errno = 0;
            f->vint = strtoll(f->text, NULL, 10);
            f->is_int = (errno == 0);
        }

    } else {
        f->vtype = SCIM_FV_STRING;
    }

fold:

    if (!scim_utf8_valid(f->text, f->text_len)) {
        return scim_lex_error(lx, start, "invalid UTF-8 in value");
    }

    f->is_dt = (scim_datetime_parse_loose(f->text, f->text_len, &f->dt_sec,
                                     &f->dt_nsec) == 0);

    f->folded = scim_casefold(f->text, f->text_len, &f->folded_len);
    if (f->folded == NULL) {
        return scim_error_set(lx->err, 500, NULL, "out of memory");
    }

    return 0;
}


/* JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */

static int
scim_filter_number(const char *s, size_t len)
{
    size_t  i;

    i = 0;

    if (i < len && s[i] == '-') {
        i++;
    }

    if (i >= len || !scim_is_digit(s[i])) {
        return 0;
    }

    if (s[i] == '0') {
        i++;

    } else {
        while (i < len && scim_is_digit(s[i])) {
            i++;
        }
    }

    if (i < len && s[i] == '.') {
        i++;

        if (i >= len || !scim_is_digit(s[i])) {
            return 0;
        }

        while (i < len && scim_is_digit(s[i])) {
            i++;
        }
    }

    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;

        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }

        if (i >= len || !scim_is_digit(s[i])) {
            return 0;
        }

        while (i < len && scim_is_digit(s[i])) {
            i++;
        }
    }

    return i == len;
}


static void
scim_filter_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char) cp;

    } else if (cp < 0x800) {
        out[(*n)++] = (char) (0xc0 | (cp >> 6));
        out[(*n)++] = (char) (0x80 | (cp & 0x3f));

    } else if (cp < 0x10000) {
        out[(*n)++] = (char) (0xe0 | (cp >> 12));
        out[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char) (0x80 | (cp & 0x3f));

    } else {
        out[(*n)++] = (char) (0xf0 | (cp >> 18));
        out[(*n)++] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char) (0x80 | (cp & 0x3f));
    }
}


static int
scim_filter_hex4(const char *s, uint32_t *cp)
{
    int       i;
    char      c;
    uint32_t  v;

    v = 0;

    for (i = 0; i < 4; i++) {
        c = s[i];
        v <<= 4;

        if (c >= '0' && c <= '9') {
            v |= (uint32_t) (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            v |= (uint32_t) (c - 'a' + 10);

        } else if (c >= 'A' && c <= 'F') {
            v |= (uint32_t) (c - 'A' + 10);

        } else {
            return -1;
        }
    }

    *cp = v;

    return 0;
}


/* a JSON string at lx->pos (on the opening quote) */

static int
scim_filter_parse_string(scim_lexer_t *lx, scim_filter_t *f)
{
    char        c, *out;
    size_t      open, n, i;
    uint32_t    cp, lo;
    const char  *s;

    s = lx->s;
    open = lx->pos;

    /* the decoded string is never longer than the quoted text */

    for (i = open + 1; i < lx->len && s[i] != '"'; i++) {
        if (s[i] == '\\') {
            i++;
        }
    }

    if (i >= lx->len) {
        return scim_lex_error(lx, open, "unterminated string");
    }

    out = malloc(i - open + 1);
    if (out == NULL) {
        return scim_error_set(lx->err, 500, NULL, "out of memory");
    }

    n = 0;

    for (i = open + 1; s[i] != '"'; i++) {
        c = s[i];

        if (c == '\0') {
            free(out);
            return scim_lex_error(lx, i, "NUL in string");
        }

        if (c != '\\') {
            out[n++] = c;
            continue;
        }

        i++;

        switch (s[i]) {
        case '"':
        case '\\':
        case '/':
            out[n++] = s[i];
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;

        case 'u':
            if (i + 4 >= lx->len || scim_filter_hex4(s + i + 1, &cp) != 0) {
                free(out);
                return scim_lex_error(lx, i - 1, "invalid \\u escape");
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                free(out);
                return scim_lex_error(lx, i - 1, "lone low surrogate");
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (i + 10 >= lx->len || s[i + 5] != '\\' || s[i + 6] != 'u'
                    || scim_filter_hex4(s + i + 7, &lo) != 0
                    || lo < 0xdc00 || lo > 0xdfff)
                {
                    free(out);
                    return scim_lex_error(lx, i - 1, "lone high surrogate");
                }

                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }

            if (cp == 0) {
                free(out);
                return scim_lex_error(lx, i - 1, "NUL in string");
            }

            i += 4;
            scim_filter_utf8(out, &n, cp);
            break;

        default:
            free(out);
            return scim_lex_error(lx, i - 1, "invalid escape");
        }
    }

    out[n] = '\0';

    f->vtype = SCIM_FV_STRING;
    f->quoted = 1;
    f->text = out;
    f->text_len = n;

    lx->pos = i + 1;

    return 0;
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


/* ---------------------------------------------------------- evaluation */


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
        fb = scim_filter_bool(f);

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
                                    json_string_length(v), &s1, &ns1) == 0)
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


/* the node's value as a boolean: true, "True", "false"...; -1 if none */

static int
scim_filter_bool(const scim_filter_t *f)
{
    if (f->vtype == SCIM_FV_BOOL) {
        return f->vbool;
    }

    if (f->vtype == SCIM_FV_STRING) {
        if (strcasecmp(f->text, "true") == 0) {
            return 1;
        }

        if (strcasecmp(f->text, "false") == 0) {
            return 0;
        }
    }

    return -1;
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
        if (!scim_filter_number(s, json_string_length(v))) {
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
               && scim_filter_number(f->text, f->text_len))
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


/* ------------------------------------------------------- PATCH helpers */


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
        b = scim_filter_bool(f);
        if (b < 0) {
            return 0;
        }

        v = json_boolean(b);

    } else if (def != NULL
               && (def->type == SCIM_TYPE_INTEGER
                   || def->type == SCIM_TYPE_DECIMAL))
    {
        if (!scim_filter_number(f->text, f->text_len)) {
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
