
/*
 * ngx_http_scim_module: a compact JSON serializer for jansson values.
 *
 * jansson's json_dumpb() writes through a callback per piece and must be
 * called twice to size a buffer; serializing responses was the largest
 * single cost of a read.  This writes the same compact JSON (members in
 * insertion order, UTF-8 kept as is, reals as "%.17g" with a decimal
 * point) in one pass into the caller's buffer.
 *
 * And the core's one set of JSON object lookups that ignore the case of
 * names (scim_json.h).
 */


#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scim_core.h"
#include "scim_json.h"
#include "scim_text.h"


typedef struct {
    char    *p;
    char    *end;
    size_t   len;      /* bytes the whole output needs */
} scim_out_t;


static void scim_out(scim_out_t *o, const char *s, size_t n);
static void scim_out_string(scim_out_t *o, const char *s, size_t n);
static void scim_out_escaped(scim_out_t *o, const char *s, size_t n);
static int scim_out_exponent(char *num, int n);
static void scim_out_value(scim_out_t *o, const json_t *j, int depth);


static void
scim_out(scim_out_t *o, const char *s, size_t n)
{
    size_t  room;

    o->len += n;

    if (o->p < o->end) {
        room = (size_t) (o->end - o->p);

        if (n > room) {
            n = room;
        }

        memcpy(o->p, s, n);
        o->p += n;
    }
}


static void
scim_out_string(scim_out_t *o, const char *s, size_t n)
{
    scim_out(o, "\"", 1);
    scim_out_escaped(o, s, n);
    scim_out(o, "\"", 1);
}


static void
scim_out_escaped(scim_out_t *o, const char *s, size_t n)
{
    size_t          i, run;
    char            esc[8];
    unsigned char   c;

    static const char  hex[] = "0123456789ABCDEF";

    run = 0;

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }

        scim_out(o, s + run, i - run);
        run = i + 1;

        esc[0] = '\\';

        switch (c) {
        case '"':  esc[1] = '"';  scim_out(o, esc, 2); break;
        case '\\': esc[1] = '\\'; scim_out(o, esc, 2); break;
        case '\b': esc[1] = 'b';  scim_out(o, esc, 2); break;
        case '\f': esc[1] = 'f';  scim_out(o, esc, 2); break;
        case '\n': esc[1] = 'n';  scim_out(o, esc, 2); break;
        case '\r': esc[1] = 'r';  scim_out(o, esc, 2); break;
        case '\t': esc[1] = 't';  scim_out(o, esc, 2); break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0x0f];
            scim_out(o, esc, 6);
            break;
        }
    }

    scim_out(o, s + run, n - run);
}


/* as jansson writes it: "1e100", not "1e+100"; "1e-5", not "1e-05" */

static int
scim_out_exponent(char *num, int n)
{
    char  *e, *d, *s;

    e = strchr(num, 'e');
    if (e == NULL) {
        return n;
    }

    d = e + 1;

    if (*d == '-') {
        d++;
    }

    s = d;

    while (*s == '+' || *s == '0') {
        s++;
    }

    if (*s == '\0') {
        s--;
    }

    memmove(d, s, strlen(s) + 1);

    return (int) strlen(num);
}


static void
scim_out_value(scim_out_t *o, const json_t *j, int depth)
{
    int          n;
    char         num[64];
    size_t       i, klen;
    void        *it;
    const char  *key;

    if (depth > 2048) {
        /* jansson cannot build deeper values; be safe anyway */
        scim_out(o, "null", 4);
        return;
    }

    switch (json_typeof(j)) {

    case JSON_OBJECT:
        scim_out(o, "{", 1);

        i = 0;

        for (it = json_object_iter((json_t *) j); it != NULL;
             it = json_object_iter_next((json_t *) j, it))
        {
            if (i++) {
                scim_out(o, ",", 1);
            }

            key = json_object_iter_key(it);
            klen = json_object_iter_key_len(it);

            scim_out_string(o, key, klen);
            scim_out(o, ":", 1);
            scim_out_value(o, json_object_iter_value(it), depth + 1);
        }

        scim_out(o, "}", 1);
        return;

    case JSON_ARRAY:
        scim_out(o, "[", 1);

        for (i = 0; i < json_array_size(j); i++) {
            if (i) {
                scim_out(o, ",", 1);
            }

            scim_out_value(o, json_array_get(j, i), depth + 1);
        }

        scim_out(o, "]", 1);
        return;

    case JSON_STRING:
        scim_out_string(o, json_string_value(j), json_string_length(j));
        return;

    case JSON_INTEGER:
        n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(j));
        scim_out(o, num, (size_t) n);
        return;

    case JSON_REAL:
        n = snprintf(num, sizeof(num), "%.17g", json_real_value(j));

        if (n > 0 && strpbrk(num, ".eEnN") == NULL
            && (size_t) n + 2 < sizeof(num))
        {
            num[n++] = '.';
            num[n++] = '0';
            num[n] = '\0';
        }

        n = scim_out_exponent(num, n);

        scim_out(o, num, (size_t) n);
        return;

    case JSON_TRUE:
        scim_out(o, "true", 4);
        return;

    case JSON_FALSE:
        scim_out(o, "false", 5);
        return;

    default:
        scim_out(o, "null", 4);
        return;
    }
}


size_t
scim_json_string(const char *s, size_t n, char *buf, size_t size)
{
    scim_out_t  o;

    o.p = buf;
    o.end = (buf != NULL) ? buf + size : NULL;
    o.len = 0;

    scim_out_string(&o, s, n);

    return o.len;
}


size_t
scim_json_escape(const char *s, size_t n, char *buf, size_t size)
{
    scim_out_t  o;

    o.p = buf;
    o.end = (buf != NULL) ? buf + size : NULL;
    o.len = 0;

    scim_out_escaped(&o, s, n);

    return o.len;
}


void
scim_json_free(void *p)
{
    json_free_t    f;
    json_malloc_t  m;

    json_get_alloc_funcs(&m, &f);

    f(p);
}


void *
scim_json_alloc(size_t n)
{
    json_free_t    f;
    json_malloc_t  m;

    json_get_alloc_funcs(&m, &f);

    return m(n);
}


size_t
scim_json_dumpb(const json_t *j, char *buf, size_t size)
{
    scim_out_t  o;

    o.p = buf;
    o.end = (buf != NULL) ? buf + size : NULL;
    o.len = 0;

    if (j == NULL) {
        return 0;
    }

    scim_out_value(&o, j, 0);

    return o.len;
}


/* ---------------------------------------- case-insensitive lookups */


/*
 * obj's member named name[0..len): the exact key first, else the first
 * one equal but for ASCII case, looked for only in objects of at most
 * max keys; an iterator, or NULL
 */

static void *
scim_json_iter_ci(json_t *obj, const char *name, size_t len, size_t max)
{
    void  *it;

    if (!json_is_object(obj) || name == NULL) {
        return NULL;
    }

    it = json_object_iter_at(obj, name);

    if (it != NULL && json_object_iter_key_len(it) == len) {
        return it;
    }

    if (json_object_size(obj) > max) {
        return NULL;
    }

    for (it = json_object_iter(obj); it != NULL;
         it = json_object_iter_next(obj, it))
    {
        if (scim_ascii_caseeq(json_object_iter_key(it),
                              json_object_iter_key_len(it), name, len))
        {
            return it;
        }
    }

    return NULL;
}


json_t *
scim_json_get_ci(json_t *obj, const char *name)
{
    void  *it;

    it = scim_json_iter_ci(obj, name, name ? strlen(name) : 0,
                           SCIM_JSON_CI_MAX_KEYS);

    return it ? json_object_iter_value(it) : NULL;
}


const char *
scim_json_key_ci(json_t *obj, const char *name)
{
    void  *it;

    it = scim_json_iter_ci(obj, name, name ? strlen(name) : 0,
                           SCIM_JSON_CI_MAX_KEYS);

    return it ? json_object_iter_key(it) : NULL;
}


int
scim_json_set_ci(json_t *obj, const char *name, json_t *value)
{
    void        *tmp;
    json_t      *v;
    const char  *key;

    if (value == NULL) {
        return -1;
    }

    if (!json_is_object(obj) || name == NULL) {
        json_decref(value);
        return -1;
    }

    if (json_object_size(obj) <= SCIM_JSON_CI_MAX_KEYS) {
        json_object_foreach_safe(obj, tmp, key, v) {
            if (strcasecmp(key, name) == 0 && strcmp(key, name) != 0) {
                json_object_del(obj, key);
            }
        }
    }

    return json_object_set_new(obj, name, value);
}


void
scim_json_del_ci(json_t *obj, const char *name)
{
    void        *tmp;
    json_t      *v;
    const char  *key;

    if (!json_is_object(obj) || name == NULL) {
        return;
    }

    if (json_object_size(obj) > SCIM_JSON_CI_MAX_KEYS) {
        json_object_del(obj, name);
        return;
    }

    json_object_foreach_safe(obj, tmp, key, v) {
        if (strcasecmp(key, name) == 0) {
            json_object_del(obj, key);
        }
    }
}


int
scim_json_bool(json_t *v)
{
    const char  *s;

    if (json_is_true(v)) {
        return 1;
    }

    if (json_is_false(v)) {
        return 0;
    }

    if (json_is_string(v)) {
        s = json_string_value(v);

        if (strcasecmp(s, "true") == 0) {
            return 1;
        }

        if (strcasecmp(s, "false") == 0) {
            return 0;
        }
    }

    return -1;
}


/* validation reads the input this way: any object is scanned */

json_t *
scim_json_getn_ci(json_t *o, const char *name, size_t len)
{
    void  *it;

    it = scim_json_iter_ci(o, name, len, (size_t) -1);

    return it ? json_object_iter_value(it) : NULL;
}


/* top's member "<urn>:<name>", ignoring ASCII case; NULL if none or null */

json_t *
scim_json_get_flat(json_t *top, const char *urn, const char *name)
{
    void        *it;
    size_t       klen, ulen, nlen;
    json_t      *v;
    const char  *key;

    if (!json_is_object(top)) {
        return NULL;
    }

    ulen = strlen(urn);
    nlen = strlen(name);

    for (it = json_object_iter(top); it != NULL;
         it = json_object_iter_next(top, it))
    {
        key = json_object_iter_key(it);
        klen = json_object_iter_key_len(it);

        if (klen == ulen + 1 + nlen && key[ulen] == ':'
            && scim_ascii_caseeq(key, ulen, urn, ulen)
            && scim_ascii_caseeq(key + ulen + 1, nlen, name, nlen))
        {
            v = json_object_iter_value(it);

            if (!json_is_null(v)) {
                return v;
            }
        }
    }

    return NULL;
}


int
scim_json_has_flat(json_t *top, const char *urn)
{
    void        *it;
    size_t       klen, ulen;
    const char  *key;

    if (!json_is_object(top)) {
        return 0;
    }

    ulen = strlen(urn);

    for (it = json_object_iter(top); it != NULL;
         it = json_object_iter_next(top, it))
    {
        key = json_object_iter_key(it);
        klen = json_object_iter_key_len(it);

        if (klen > ulen && key[ulen] == ':'
            && scim_ascii_caseeq(key, ulen, urn, ulen))
        {
            return 1;
        }
    }

    return 0;
}


/* a JSON object (or array, if arrays) encoded in the string v, or NULL */

json_t *
scim_json_decode(json_t *v, int arrays)
{
    size_t       i, len;
    json_t      *j;
    const char  *s;

    s = json_string_value(v);
    len = json_string_length(v);

    for (i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            break;
        }
    }

    if (i == len || (s[i] != '{' && !(arrays && s[i] == '['))) {
        return NULL;
    }

    j = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);

    if (j != NULL && !json_is_object(j) && !(arrays && json_is_array(j))) {
        json_decref(j);
        return NULL;
    }

    return j;
}
