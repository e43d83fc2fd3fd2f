
/*
 * ngx_http_scim_module: small helpers the SCIM core files share.
 */

#ifndef _SCIM_UTIL_H_INCLUDED_
#define _SCIM_UTIL_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


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


#endif /* _SCIM_UTIL_H_INCLUDED_ */
