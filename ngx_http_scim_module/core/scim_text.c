
/*
 * ngx_http_scim_module: text in the SCIM core: UTF-8 (decoding,
 * validation), ASCII and Unicode simple case folding and comparison,
 * xsd:dateTime.  The bottom of the core: calls nothing else in it.
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "scim_text.h"


static uint32_t scim_fold_cp(uint32_t c);


/* ---------------------------------------------------------------- UTF-8 */


size_t
scim_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    size_t    len, i;
    uint32_t  c, min;

    if (n == 0) {
        return 0;
    }

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }

    if ((p[0] & 0xe0) == 0xc0) {
        len = 2;
        c = p[0] & 0x1f;
        min = 0x80;

    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3;
        c = p[0] & 0x0f;
        min = 0x800;

    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4;
        c = p[0] & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (n < len) {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    *cp = c;

    return len;
}


size_t
scim_utf8_seq(const unsigned char *p, size_t n)
{
    size_t    len;
    uint32_t  c;

    len = scim_utf8_decode(p, n, &c);

    return (len == 1 && c == 0) ? 0 : len;
}


int
scim_utf8_valid(const char *s, size_t len)
{
    size_t    i, n;
    uint32_t  c;

    if (s == NULL) {
        return len == 0;
    }

    for (i = 0; i < len; i += n) {
        n = scim_utf8_decode((const unsigned char *) s + i, len - i, &c);
        if (n == 0) {
            return 0;
        }
    }

    return 1;
}


/* ---------------------------------------------------------- case folding */


int
scim_ascii_ncaseeq(const char *a, const char *b, size_t n)
{
    size_t         i;
    unsigned char  ca, cb;

    for (i = 0; i < n; i++) {
        ca = (unsigned char) a[i];
        cb = (unsigned char) b[i];

        if (ca >= 'A' && ca <= 'Z') {
            ca |= 0x20;
        }

        if (cb >= 'A' && cb <= 'Z') {
            cb |= 0x20;
        }

        if (ca != cb) {
            return 0;
        }
    }

    return 1;
}


int
scim_ascii_caseeq(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && scim_ascii_ncaseeq(a, b, alen);
}


/* a and b equal after simple case folding; invalid bytes match only
   themselves */

int
scim_utf8_caseeq(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t                i, j, n, m;
    uint32_t              ca, cb;
    const unsigned char  *p, *q;

    p = (const unsigned char *) a;
    q = (const unsigned char *) b;

    for (i = 0, j = 0; i < alen && j < blen; i += n, j += m) {
        n = scim_utf8_decode(p + i, alen - i, &ca);
        if (n == 0) {
            ca = 0x110000 + p[i];           /* no code point */
            n = 1;
        }

        m = scim_utf8_decode(q + j, blen - j, &cb);
        if (m == 0) {
            cb = 0x110000 + q[j];
            m = 1;
        }

        if (ca != cb && scim_fold_cp(ca) != scim_fold_cp(cb)) {
            return 0;
        }
    }

    return i == alen && j == blen;
}


/* simple case folding (Unicode CaseFolding.txt, C and S) for ASCII,
   Latin-1, Latin Extended-A, Greek and Cyrillic */

static uint32_t
scim_fold_cp(uint32_t c)
{
    if (c < 0x80) {
        return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
    }

    if (c == 0xb5) {
        return 0x3bc;                       /* micro sign */
    }

    if (c >= 0xc0 && c <= 0xde && c != 0xd7) {
        return c + 0x20;
    }

    if (c >= 0x100 && c <= 0x17f) {
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149) {
            return c;                       /* no simple folding */
        }

        if (c == 0x178) {
            return 0xff;
        }

        if (c == 0x17f) {
            return 's';                     /* long s */
        }

        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) {
            return (c & 1) ? c + 1 : c;
        }

        return (c & 1) ? c : c + 1;
    }

    if (c >= 0x370 && c <= 0x3ff) {
        if (c == 0x386) {
            return 0x3ac;
        }

        if (c >= 0x388 && c <= 0x38a) {
            return c + 37;
        }

        if (c == 0x38c) {
            return 0x3cc;
        }

        if (c == 0x38e || c == 0x38f) {
            return c + 63;
        }

        if ((c >= 0x391 && c <= 0x3a1) || (c >= 0x3a3 && c <= 0x3ab)) {
            return c + 32;
        }

        if (c == 0x3c2) {
            return 0x3c3;                   /* final sigma */
        }

        return c;
    }

    if (c >= 0x400 && c <= 0x52f) {
        if (c <= 0x40f) {
            return c + 80;
        }

        if (c <= 0x42f) {
            return c + 32;
        }

        if (c <= 0x45f) {
            return c;
        }

        if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf)
            || c >= 0x4d0)
        {
            return (c & 1) ? c : c + 1;
        }

        if (c == 0x4c0) {
            return 0x4cf;
        }

        if (c >= 0x4c1 && c <= 0x4ce) {
            return (c & 1) ? c + 1 : c;
        }

        return c;
    }

    return c;
}


char *
scim_casefold(const char *s, size_t len, size_t *out_len)
{
    char                 *out;
    size_t                i, j, n;
    uint32_t              c;
    const unsigned char  *p;

    /* folding never makes a character longer in these ranges */

    out = malloc(len + 1);
    if (out == NULL) {
        return NULL;
    }

    p = (const unsigned char *) s;

    for (i = 0, j = 0; i < len; i += n) {
        n = scim_utf8_decode(p + i, len - i, &c);

        if (n == 0) {
            out[j++] = (char) p[i];
            n = 1;
            continue;
        }

        if (n == 1) {
            out[j++] = (char) ((c >= 'A' && c <= 'Z') ? c + 0x20 : c);
            continue;
        }

        c = scim_fold_cp(c);

        if (c < 0x80) {
            out[j++] = (char) c;

        } else if (c < 0x800) {
            out[j++] = (char) (0xc0 | (c >> 6));
            out[j++] = (char) (0x80 | (c & 0x3f));

        } else if (c < 0x10000) {
            out[j++] = (char) (0xe0 | (c >> 12));
            out[j++] = (char) (0x80 | ((c >> 6) & 0x3f));
            out[j++] = (char) (0x80 | (c & 0x3f));

        } else {
            out[j++] = (char) (0xf0 | (c >> 18));
            out[j++] = (char) (0x80 | ((c >> 12) & 0x3f));
            out[j++] = (char) (0x80 | ((c >> 6) & 0x3f));
            out[j++] = (char) (0x80 | (c & 0x3f));
        }
    }

    out[j] = '\0';

    if (out_len != NULL) {
        *out_len = j;
    }

    return out;
}


/* ------------------------------------------------------------- dateTime */


static int
scim_digits(const char *s, size_t n, int *v)
{
    size_t  i;

    *v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        *v = *v * 10 + (s[i] - '0');
    }

    return 0;
}


/* days since 1970-01-01 of a proleptic Gregorian date */

static int64_t
scim_days_from_civil(int64_t y, int m, int d)
{
    int64_t  era, yoe, doy, doe;

    y -= (m <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


int
scim_datetime_parse(const char *s, size_t len, int64_t *sec, long *nsec)
{
    int      year, mon, day, hour, min, secs, tzh, tzm, mdays, leap;
    long     frac;
    size_t   i, nd;
    int64_t  t;

    static const int  days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                 30, 31 };

    /* YYYY-MM-DDThh:mm:ss */

    if (s == NULL || len < 19
        || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':'
        || s[16] != ':'
        || scim_digits(s, 4, &year) != 0
        || scim_digits(s + 5, 2, &mon) != 0
        || scim_digits(s + 8, 2, &day) != 0
        || scim_digits(s + 11, 2, &hour) != 0
        || scim_digits(s + 14, 2, &min) != 0
        || scim_digits(s + 17, 2, &secs) != 0)
    {
        return -1;
    }

    if (year == 0 || mon < 1 || mon > 12 || day < 1 || hour > 24
        || min > 59 || secs > 59)
    {
        return -1;
    }

    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    mdays = days[mon - 1] + (mon == 2 && leap);

    if (day > mdays) {
        return -1;
    }

    i = 19;
    frac = 0;

    if (i < len && s[i] == '.') {
        i++;

        for (nd = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
            if (nd < 9) {
                frac = frac * 10 + (s[i] - '0');
            }

            if (hour == 24 && s[i] != '0') {
                return -1;
            }
        }

        if (nd == 0) {
            return -1;
        }

        for ( /* void */ ; nd < 9; nd++) {
            frac *= 10;
        }
    }

    if (hour == 24 && (min != 0 || secs != 0)) {
        return -1;
    }

    t = scim_days_from_civil(year, mon, day) * 86400
        + (int64_t) hour * 3600 + min * 60 + secs;

    if (i < len && s[i] == 'Z') {
        i++;

    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        if (len - i < 6 || s[i + 3] != ':'
            || scim_digits(s + i + 1, 2, &tzh) != 0
            || scim_digits(s + i + 4, 2, &tzm) != 0
            || tzm > 59 || tzh > 14 || (tzh == 14 && tzm != 0))
        {
            return -1;
        }

        if (s[i] == '+') {
            t -= (int64_t) tzh * 3600 + tzm * 60;

        } else {
            t += (int64_t) tzh * 3600 + tzm * 60;
        }

        i += 6;
    }

    if (i != len) {
        return -1;
    }

    if (sec != NULL) {
        *sec = t;
    }

    if (nsec != NULL) {
        *nsec = frac;
    }

    return 0;
}


static int
scim_loose_digits(const char *s, size_t len, size_t *i, size_t n, int *out)
{
    size_t  k;
    int     v;

    if (*i + n > len) {
        return -1;
    }

    v = 0;

    for (k = 0; k < n; k++) {
        if (!scim_is_digit(s[*i + k])) {
            return -1;
        }

        v = v * 10 + (s[*i + k] - '0');
    }

    *i += n;
    *out = v;

    return 0;
}


/*
 * xsd:dateTime as RFC 7643 2.3.5 uses it: YYYY-MM-DDThh:mm:ss[.frac]
 * [Z|(+|-)hh:mm]; "t" or a blank may separate, seconds and the offset
 * may be missing (UTC), as may the whole time.
 */

int
scim_datetime_parse_loose(const char *s, size_t len, int64_t *sec, long *nsec)
{
    int      y, mo, d, h, mi, se, oh, om, sign, k;
    long     ns;
    size_t   i;

    i = 0;
    h = mi = se = 0;
    ns = 0;

    if (scim_loose_digits(s, len, &i, 4, &y) != 0
        || i >= len || s[i++] != '-'
        || scim_loose_digits(s, len, &i, 2, &mo) != 0
        || i >= len || s[i++] != '-'
        || scim_loose_digits(s, len, &i, 2, &d) != 0)
    {
        return -1;
    }

    if (mo < 1 || mo > 12 || d < 1 || d > 31) {
        return -1;
    }

    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;

        if (scim_loose_digits(s, len, &i, 2, &h) != 0
            || i >= len || s[i++] != ':'
            || scim_loose_digits(s, len, &i, 2, &mi) != 0)
        {
            return -1;
        }

        if (i < len && s[i] == ':') {
            i++;

            if (scim_loose_digits(s, len, &i, 2, &se) != 0) {
                return -1;
            }

            if (i < len && s[i] == '.') {
                i++;

                if (i >= len || !scim_is_digit(s[i])) {
                    return -1;
                }

                for (k = 0; i < len && scim_is_digit(s[i]); i++, k++) {
                    if (k < 9) {
                        ns = ns * 10 + (s[i] - '0');
                    }
                }

                for ( /* void */ ; k < 9; k++) {
                    ns *= 10;
                }
            }
        }

        if (h > 24 || mi > 59 || se > 60) {
            return -1;
        }
    }

    oh = om = 0;
    sign = 0;

    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;

    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = (s[i] == '-') ? -1 : 1;
        i++;

        if (scim_loose_digits(s, len, &i, 2, &oh) != 0) {
            return -1;
        }

        if (i < len && s[i] == ':') {
            i++;
        }

        if (scim_loose_digits(s, len, &i, 2, &om) != 0
            || oh > 23 || om > 59)
        {
            return -1;
        }
    }

    if (i != len) {
        return -1;
    }

    *sec = scim_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se
           - sign * (oh * 3600 + om * 60);
    *nsec = ns;

    return 0;
}
