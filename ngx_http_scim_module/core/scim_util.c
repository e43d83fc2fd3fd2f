
/*
 * ngx_http_scim_module: small helpers the SCIM core files share.
 */


#include "scim_util.h"


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
