
/*
 * ngx_http_scim_module: a command in the Redis protocol (RESP), written
 * in one pass into one buffer, for redisAsyncFormattedCommand().
 * hiredis's redisAsyncCommandArgv() formats each argument with
 * sdscatfmt() and grows an sds string as it goes; a store command has
 * twenty or more arguments, so this is measurably cheaper.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_scim_redis.h"


#define NGX_SCIM_REDIS_RESP_STACK  4096


static size_t
ngx_scim_redis_resp_digits(size_t n)
{
    size_t  d;

    for (d = 1; n >= 10; n /= 10) {
        d++;
    }

    return d;
}


int
ngx_scim_redis_resp_send(redisAsyncContext *ac, redisCallbackFn *fn,
    void *privdata, int argc, const char **argv, const size_t *argvlen)
{
    int      i, rc;
    char    *buf;
    size_t   len;
    u_char  *p;
    char     stack[NGX_SCIM_REDIS_RESP_STACK];

    /* "*<argc>\r\n", then "$<len>\r\n<arg>\r\n" each */

    len = 1 + ngx_scim_redis_resp_digits(argc) + 2;

    for (i = 0; i < argc; i++) {
        len += 1 + ngx_scim_redis_resp_digits(argvlen[i]) + 2
               + argvlen[i] + 2;
    }

    if (len <= sizeof(stack)) {
        buf = stack;

    } else {
        buf = ngx_alloc(len, ngx_cycle->log);
        if (buf == NULL) {
            return REDIS_ERR;
        }
    }

    p = ngx_sprintf((u_char *) buf, "*%d\r\n", argc);

    for (i = 0; i < argc; i++) {
        p = ngx_sprintf(p, "$%uz\r\n", argvlen[i]);

        if (argvlen[i]) {
            p = ngx_cpymem(p, argv[i], argvlen[i]);
        }

        *p++ = CR;
        *p++ = LF;
    }

    /* hiredis copies the command into its output buffer */

    rc = redisAsyncFormattedCommand(ac, fn, privdata, buf,
                                    (size_t) (p - (u_char *) buf));

    if (buf != stack) {
        ngx_free(buf);
    }

    return rc;
}
