
/*
 * ngx_http_scim_module: text helpers of the SCIM core (scim_text.c).
 * Internal to core/: the other layers use scim_core.h only, which
 * declares the public ones (scim_utf8_valid, scim_casefold,
 * scim_datetime_parse).
 */

#ifndef _SCIM_TEXT_H_INCLUDED_
#define _SCIM_TEXT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define scim_is_ws(c)                                                        \
    ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')
#define scim_is_alpha(c)                                                     \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define scim_is_digit(c)     ((c) >= '0' && (c) <= '9')


/* the length of the valid UTF-8 sequence at p and its code point;
   0 if invalid or n == 0 */
size_t scim_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* the same, but a NUL byte counts as invalid (for error details) */
size_t scim_utf8_seq(const unsigned char *p, size_t n);

/* ASCII case-insensitive comparison of n bytes */
int scim_ascii_ncaseeq(const char *a, const char *b, size_t n);

/* ... of two strings with their lengths */
int scim_ascii_caseeq(const char *a, size_t alen, const char *b,
    size_t blen);

/* a and b equal after simple case folding; invalid bytes match only
   themselves */
int scim_utf8_caseeq(const char *a, size_t alen, const char *b,
    size_t blen);

/*
 * An xsd:dateTime as filters take it (RFC 7643 2.3.5, leniently): "t" or
 * a blank may separate, seconds and the offset may be missing (UTC), as
 * may the whole time; 0 and the instant, or -1.  scim_datetime_parse()
 * (scim_core.h) is the strict one that validation uses.
 */
int scim_datetime_parse_loose(const char *s, size_t len, int64_t *sec,
    long *nsec);


#endif /* _SCIM_TEXT_H_INCLUDED_ */
