
/*
 * libFuzzer target: the fast read path, scim_present_fast() (scim_fast.c),
 * with every one of its inputs under the fuzzer's control and of any
 * length: the stored text, the base URL, the manager's display name and
 * the user's groups (id, display name).
 *
 * The input is a flags byte, then fields separated by 0x1e:
 *
 *   <flags> <doc> 0x1e <base URL> 0x1e <manager display>
 *           0x1e <group id> 0x1e <group display> ...
 *
 *   flags & 1   the manager display is given (else NULL)
 *   flags & 2   <doc> is a client's body: it is normalized (CREATE) and
 *               stored as the glue stores it, with its "id" (a string)
 *               as the id, so that the text is always one the store
 *               could hold; else <doc> is taken as the stored text
 *
 * The base URL ends at its first NUL (the core takes a C string); a
 * group id without a display gets "".  At most 64 groups.
 *
 * Checks beyond "no crash, no leak, no UB" (a short buffer is its own
 * allocation, so that ASan sees a byte written past it):
 *  - the size pass and the write agree, and a write into a shorter
 *    buffer fills exactly its start and still says the whole length;
 *  - what it writes for a JSON text is JSON, as long as the base URL and
 *    the names it is given are UTF-8 (strings from Redis always are);
 *  - for a text in the store's own form (schemas, id, the attributes as
 *    scim_resource_normalize() writes them, meta as the store writes
 *    it), the object is the one the general path, scim_resource_present(),
 *    makes of the document as the glue expands it.
 */


#include "fuzz.h"


#define FUZZ_SEP         0x1e
#define FUZZ_MAX_GROUPS  64


/* the store's meta: resourceType "User", created, lastModified, version */

static int
fuzz_stored_meta(json_t *meta)
{
    size_t       i;
    void        *it;
    json_t      *v;
    const char  *key;

    static const char  *keys[] = {
        "resourceType", "created", "lastModified", "version"
    };

    if (!json_is_object(meta) || json_object_size(meta) != 4) {
        return 0;
    }

    it = json_object_iter(meta);

    for (i = 0; i < 4 && it != NULL; i++) {
        key = json_object_iter_key(it);
        v = json_object_iter_value(it);

        if (strcmp(key, keys[i]) != 0 || !json_is_string(v)) {
            return 0;
        }

        it = json_object_iter_next(meta, it);
    }

    return strcmp(json_string_value(json_object_get(meta, "resourceType")),
                  "User") == 0;
}


/*
 * whether text is in the store's own form: the glue's assembly of what
 * normalizing the document gives, byte for byte
 */

static int
fuzz_canonical(const scim_resource_type_t *rt, json_t *doc, const char *text,
    size_t len)
{
    int            same;
    char          *again;
    size_t         n;
    json_t        *norm, *full;
    scim_error_t   err;

    if (!json_is_object(doc) || !json_is_string(json_object_get(doc, "id"))
        || !fuzz_stored_meta(json_object_get(doc, "meta")))
    {
        return 0;
    }

    memset(&err, 0, sizeof(scim_error_t));

    norm = scim_resource_normalize(rt, doc, SCIM_INPUT_STORED, &err);
    if (norm == NULL) {
        return 0;
    }

    full = fuzz_assemble(norm, doc);
    json_decref(norm);

    if (full == NULL) {
        return 0;
    }

    n = scim_json_dumpb(full, NULL, 0);
    same = 0;

    if (n == len) {
        again = malloc(n);

        if (again != NULL) {
            (void) scim_json_dumpb(full, again, n);
            same = (memcmp(again, text, n) == 0);
            free(again);
        }
    }

    json_decref(full);

    return same;
}


/* the general path, from the document as the glue expands it */

static json_t *
fuzz_general(const scim_resource_type_t *rt, json_t *doc,
    const char *base, const scim_str_t *md, const scim_str_t *groups,
    size_t ngroups)
{
    size_t   i;
    json_t  *d, *mgr, *list, *item, *out;

    d = json_deep_copy(doc);
    if (d == NULL) {
        return NULL;
    }

    mgr = json_object_get(json_object_get(d, SCIM_SCHEMA_ENTERPRISE),
                          "manager");

    if (json_is_object(mgr)) {
        if (md == NULL) {
            json_object_del(mgr, "displayName");

        } else {
            json_object_set_new(mgr, "displayName",
                                json_stringn(md->s, md->len));
        }
    }

    if (ngroups) {
        list = json_array();

        for (i = 0; i < ngroups; i++) {
            item = json_pack("{s:s%,s:s%,s:s}",
                             "value", groups[2 * i].s, groups[2 * i].len,
                             "display", groups[2 * i + 1].s,
                             groups[2 * i + 1].len,
                             "type", "direct");
            json_array_append_new(list, item);
        }

        json_object_set_new(d, "groups", list);
    }

    out = scim_resource_present(rt, d, base, NULL);
    json_decref(d);

    return out;
}


/* the body made a stored text: its "id" (if a string) and a fixed meta */

static char *
fuzz_store_body(const scim_resource_type_t *rt, const char *s, size_t n,
    size_t *len)
{
    char          *text;
    json_t        *in, *norm, *old, *id, *full;
    scim_error_t   err;

    in = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
    if (in == NULL) {
        return NULL;
    }

    memset(&err, 0, sizeof(scim_error_t));

    norm = scim_resource_normalize(rt, in, SCIM_INPUT_CREATE, &err);
    if (norm == NULL) {
        fuzz_check_error(&err, "normalize");
        json_decref(in);
        return NULL;
    }

    id = json_object_get(in, "id");

    old = json_pack("{s:O,s:{s:s,s:s,s:s,s:s}}",
                    "id", json_is_string(id)
                          ? id : json_object_get(fuzz_env()->users[0], "id"),
                    "meta",
                    "resourceType", "User",
                    "created", "2026-01-01T00:00:00.000Z",
                    "lastModified", "2026-01-02T00:00:00.000Z",
                    "version", "W/\"42\"");

    full = (old != NULL) ? fuzz_assemble(norm, old) : NULL;

    json_decref(old);
    json_decref(norm);
    json_decref(in);

    if (full == NULL) {
        return NULL;
    }

    *len = scim_json_dumpb(full, NULL, 0);
    text = malloc(*len);

    if (text != NULL) {
        (void) scim_json_dumpb(full, text, *len);
    }

    json_decref(full);

    return text;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            flags, utf8;
    char          *text, *base, *out, *cut;
    size_t         i, nf, len, n, m, ngroups;
    json_t        *doc, *got, *slow;
    fuzz_env_t    *env;
    const char    *p, *end, *sep;
    scim_str_t   f[3 + 2 * FUZZ_MAX_GROUPS], groups[2 * FUZZ_MAX_GROUPS];
    scim_str_t  *md;

    static const char  empty[] = "";

    env = fuzz_env();

    if (size == 0) {
        return 0;
    }

    fuzz_assert(scim_present_fast_ok(env->user),
                "the fixture schemas allow the fast path");

    flags = data[0];

    /* the fields */

    p = (const char *) data + 1;
    end = (const char *) data + size;
    nf = 0;

    while (nf < sizeof(f) / sizeof(f[0])) {
        sep = memchr(p, FUZZ_SEP, (size_t) (end - p));

        f[nf].s = p;
        f[nf].len = (size_t) ((sep ? sep : end) - p);
        nf++;

        if (sep == NULL) {
            break;
        }

        p = sep + 1;
    }

    /* the base URL: a C string */

    base = malloc(nf > 1 ? f[1].len + 1 : 1);
    if (base == NULL) {
        return 0;
    }

    if (nf > 1) {
        memcpy(base, f[1].s, f[1].len);
    }

    base[nf > 1 ? f[1].len : 0] = '\0';

    md = ((flags & 1) && nf > 2) ? &f[2] : NULL;

    ngroups = (nf > 3) ? (nf - 3 + 1) / 2 : 0;

    for (i = 0; i < ngroups; i++) {
        groups[2 * i] = f[3 + 2 * i];

        if (3 + 2 * i + 1 < nf) {
            groups[2 * i + 1] = f[3 + 2 * i + 1];

        } else {
            groups[2 * i + 1].s = empty;
            groups[2 * i + 1].len = 0;
        }
    }

    /* the document's text */

    if (flags & 2) {
        text = fuzz_store_body(env->user, f[0].s, f[0].len, &len);

        if (text == NULL) {
            free(base);
            return 0;
        }

    } else {
        len = f[0].len;
        text = malloc(len ? len : 1);

        if (text == NULL) {
            free(base);
            return 0;
        }

        memcpy(text, f[0].s, len);
    }

    /* sizes, and writes into short buffers of their own */

    n = scim_present_fast(text, len, base, md,
                          groups, ngroups, NULL, 0);

    if (n == 0) {
        goto done;
    }

    out = malloc(n);
    if (out == NULL) {
        goto done;
    }

    m = scim_present_fast(text, len, base, md,
                          groups, ngroups, out, n);
    fuzz_assert(m == n, "size pass %zu, write %zu", n, m);

    for (i = 0; i < 3; i++) {
        m = (i == 0) ? 1 : (i == 1) ? n / 2 : n - 1;

        if (m == 0 || m >= n) {
            continue;
        }

        cut = malloc(m);
        if (cut == NULL) {
            continue;
        }

        fuzz_assert(scim_present_fast(text, len, base, md,
                                      groups, ngroups, cut, m)
                    == n && memcmp(cut, out, m) == 0,
                    "a write into %zu of %zu bytes", m, n);
        free(cut);
    }

    /*
     * JSON in, JSON out; the store's form: the general path's object.
     * The text is read as the glue reads it (no \u0000: the glue takes
     * no body with one, so no stored text has one).
     */

    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);

    utf8 = scim_utf8_valid(base, strlen(base))
           && (md == NULL || scim_utf8_valid(md->s, md->len));

    for (i = 0; i < 2 * ngroups; i++) {
        utf8 = utf8 && scim_utf8_valid(groups[i].s, groups[i].len);
    }

    if (doc != NULL && utf8) {
        /* a name may hold a NUL: written as \u0000 */
        got = json_loadb(out, n, JSON_ALLOW_NUL, NULL);
        fuzz_assert(got != NULL, "JSON in, no JSON out:\n  %.*s",
                    (int) (n > 2000 ? 2000 : n), out);

        if (fuzz_canonical(env->user, doc, text, len)) {
            slow = fuzz_general(env->user, doc, base, md, groups, ngroups);

            fuzz_assert(slow != NULL && json_equal(got, slow),
                        "fast path differs from the general path:\n  %.*s",
                        (int) (n > 2000 ? 2000 : n), out);
            json_decref(slow);
        }

        json_decref(got);
    }

    json_decref(doc);
    free(out);

done:

    free(text);
    free(base);

    return 0;
}
