
/*
 * A minimal TAP producer for the core's C unit tests: each test binary
 * prints "ok N - name" lines and a trailing plan, so that prove runs it
 * beside the Perl tests.
 */

#ifndef _SCIM_TAP_H_INCLUDED_
#define _SCIM_TAP_H_INCLUDED_


#include <stdio.h>
#include <string.h>


static int  tap_n;
static int  tap_failed;


#define ok(cond, ...)                                                        \
    tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                               \
    do {                                                                     \
        long long  tap_g_ = (long long) (got), tap_w_ = (long long) (want);  \
        if (!tap_ok(tap_g_ == tap_w_, __FILE__, __LINE__, __VA_ARGS__)) {    \
            printf("#   got: %lld\n#  want: %lld\n", tap_g_, tap_w_);        \
        }                                                                    \
    } while (0)

#define is_str(got, want, ...)                                               \
    do {                                                                     \
        const char  *tap_g_ = (got), *tap_w_ = (want);                       \
        int          tap_eq_ = (tap_g_ == NULL && tap_w_ == NULL)            \
                               || (tap_g_ != NULL && tap_w_ != NULL          \
                                   && strcmp(tap_g_, tap_w_) == 0);          \
        if (!tap_ok(tap_eq_, __FILE__, __LINE__, __VA_ARGS__)) {             \
            printf("#   got: '%s'\n#  want: '%s'\n",                         \
                   tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)");  \
        }                                                                    \
    } while (0)

#define done_testing()                                                       \
    (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)


static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>

static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list  ap;

    tap_n++;
    printf("%s %d - ", pass ? "ok" : "not ok", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");

    if (!pass) {
        tap_failed++;
        printf("#   failed at %s line %d\n", file, line);
    }

    fflush(stdout);
    return pass;
}


#endif /* _SCIM_TAP_H_INCLUDED_ */
