
/*
 * ngx_http_scim_module: the tokens of filters and PATCH paths (RFC 7644
 * 3.4.2.2, 3.10): blanks, words, the comparison operators, and the
 * values compared, read into a filter node (strings with JSON escapes,
 * numbers, true/false/null, unquoted values); the errors of a parse with
 * their position.  scim_parse.c reads the grammar with these.
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_parse.h"


const char  *scim_fop_names[] = {
    "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"
};


static int scim_lex_delim(scim_lexer_t *lx, size_t pos);
static void scim_lex_utf8(char *out, size_t *n, uint32_t cp);
static int scim_lex_string(scim_lexer_t *lx, scim_filter_t *f);


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


size_t
scim_lex_skip_ws(scim_lexer_t *lx)
{
    size_t  start;

    start = lx->pos;

    while (lx->pos < lx->len && scim_is_ws(lx->s[lx->pos])) {
        lx->pos++;
    }

    return lx->pos - start;
}


size_t
scim_lex_word(scim_lexer_t *lx, size_t pos)
{
    size_t  i;

    for (i = pos; i < lx->len && scim_is_alpha(lx->s[i]); i++) {
        /* void */
    }

    return i - pos;
}


/* 1 if a word may end before s[pos] */

static int
scim_lex_delim(scim_lexer_t *lx, size_t pos)
{
    char  c;

    if (pos >= lx->len) {
        return 1;
    }

    c = lx->s[pos];

    return scim_is_ws(c) || c == '(' || c == ')' || c == '"' || c == ']';
}


/* 1 if the keyword kw ("and", "or") starts at lx->pos and ends there */

int
scim_lex_keyword(scim_lexer_t *lx, const char *kw)
{
    size_t  n;

    n = strlen(kw);

    return scim_lex_word(lx, lx->pos) == n
           && strncasecmp(lx->s + lx->pos, kw, n) == 0
           && (lx->pos + n == lx->len
               || scim_is_ws(lx->s[lx->pos + n])
               || lx->s[lx->pos + n] == '(');
}


/* the comparison operator (or "pr") at pos, -1 if none */

int
scim_lex_op(scim_lexer_t *lx, size_t pos, size_t *wlen)
{
    size_t  n, i;

    n = scim_lex_word(lx, pos);
    *wlen = n;

    if (n != 2 || !scim_lex_delim(lx, pos + 2)) {
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


int
scim_lex_value(scim_lexer_t *lx, scim_filter_t *f)
{
    char        c;
    size_t      ws, start, n;
    const char  *s;

    ws = scim_lex_skip_ws(lx);

    if (lx->pos >= lx->len) {
        return scim_lex_error(lx, lx->pos, "expected a value");
    }

    start = lx->pos;

    if (lx->s[lx->pos] == '"') {
        if (scim_lex_string(lx, f) != 0) {
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

    } else if (scim_lex_number(s, n)) {
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

    f->is_dt = (scim_datetime_parse_loose(f->text, f->text_len,
                                          &f->dt_sec, &f->dt_nsec) == 0);

    f->folded = scim_casefold(f->text, f->text_len, &f->folded_len);
    if (f->folded == NULL) {
        return scim_error_set(lx->err, 500, NULL, "out of memory");
    }

    return 0;
}


/* JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */

int
scim_lex_number(const char *s, size_t len)
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
scim_lex_utf8(char *out, size_t *n, uint32_t cp)
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
scim_lex_hex4(const char *s, uint32_t *cp)
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
scim_lex_string(scim_lexer_t *lx, scim_filter_t *f)
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
            if (i + 4 >= lx->len || scim_lex_hex4(s + i + 1, &cp) != 0) {
                free(out);
                return scim_lex_error(lx, i - 1, "invalid \\u escape");
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                free(out);
                return scim_lex_error(lx, i - 1, "lone low surrogate");
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (i + 10 >= lx->len || s[i + 5] != '\\' || s[i + 6] != 'u'
                    || scim_lex_hex4(s + i + 7, &lo) != 0
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
            scim_lex_utf8(out, &n, cp);
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


/* the node's value as a boolean: true, "True", "false"...; -1 if none */

int
scim_lex_bool(const scim_filter_t *f)
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
