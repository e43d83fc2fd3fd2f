
/*
 * ngx_http_scim_module: the scans' prefilter: the literal every match of
 * a filter holds in its text, and whether a stored document's text can
 * match (ngx_http_scim_scan.c skips those that cannot unparsed).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_resource.h"


/* the filter's required literal and the member it is in: "<key>":" */

ngx_int_t
ngx_http_scim_literal(ngx_http_scim_ctx_t *ctx)
{
    u_char       c, *p, *q;
    size_t       i, n;
    const char  *l, *key;

    ngx_str_null(&ctx->literal);
    ngx_str_null(&ctx->literal_lc);

    l = scim_filter_required_literal(ctx->filter_ast, &n, &key);

    if (l == NULL || n == 0 || key == NULL) {
        return NGX_OK;
    }

    p = ngx_pnalloc(ctx->request->pool, ngx_strlen(key) + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->literal_key.data = p;
    ctx->literal_key.len = ngx_sprintf(p, "\"%s\":\"", key) - p;

    ctx->literal.data = (u_char *) l;
    ctx->literal.len = n;

    /*
     * For the scan script: a Lua pattern that ignores ASCII case, "[xX]"
     * for a letter, "%" before a magic character
     */

    q = ngx_pnalloc(ctx->request->pool, 4 * n);
    if (q == NULL) {
        return NGX_ERROR;
    }

    ctx->literal_lc.data = q;

    for (i = 0; i < n; i++) {
        c = (u_char) l[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            *q++ = '[';
            *q++ = c | 0x20;
            *q++ = c & ~0x20;
            *q++ = ']';

        } else if (ngx_strchr("^$()%.[]*+-?", c) != NULL) {
            *q++ = '%';
            *q++ = c;

        } else {
            *q++ = c;
        }
    }

    ctx->literal_lc.len = q - ctx->literal_lc.data;

    return NGX_OK;
}


/*
 * Whether a stored document's text can match the filter: some string
 * value of a "<key>" member holds the filter's required literal, ASCII
 * case aside.  The stored text escapes only quotes, backslashes and
 * control characters, none of which a required literal holds, so the
 * literal shows in the text exactly where the value holds it.  A text
 * with U+017F (long s, which folds to "s") is always parsed.
 */

ngx_int_t
ngx_http_scim_may_match(ngx_http_scim_ctx_t *ctx, u_char *p, size_t len)
{
    u_char  *last, *v, *end;

    last = p + len;

    if (ngx_strlcasestrn(p, last, (u_char *) "\xc5\xbf", 1) != NULL) {
        return 1;
    }

    for ( ;; ) {
        p = ngx_strlcasestrn(p, last, ctx->literal_key.data,
                             ctx->literal_key.len - 1);
        if (p == NULL) {
            return 0;
        }

        /* the key is "<name>":" , the value runs to an unescaped quote */

        v = p + ctx->literal_key.len;
        p = v;

        for (end = v; end < last && *end != '"'; end++) {
            if (*end == '\\' && end + 1 < last) {
                end++;
            }
        }

        if ((size_t) (end - v) >= ctx->literal.len
            && ngx_strlcasestrn(v, end, ctx->literal.data,
                                ctx->literal.len - 1)
               != NULL)
        {
            return 1;
        }
    }
}
