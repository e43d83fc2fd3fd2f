
/*
 * ngx_http_scim_module: the representation of a stored user written from
 * its text, without building a JSON tree.
 *
 * A read of one user (GET /Users/{id}, Entra's userName eq check) spent
 * most of its time parsing the stored JSON, copying it into the output
 * tree and serializing that.  With the default projection the answer
 * differs from the stored text only in a few known places, because the
 * stored form is this module's own (scim_resource_normalize output,
 * "id" second, "meta" last with "version" last):
 *
 *   - "meta" gains "location" (base_url + "/Users/" + id);
 *   - the enterprise manager {"value": id} gains "$ref" and the
 *     manager's current "displayName";
 *   - the user's groups are appended as "groups".
 *
 * Anything else (a password, attributes returned "never" or "request"
 * in the loaded schemas, a manager or tail of another shape, "$ref"
 * anywhere) makes scim_present_fast() decline, and the caller takes the
 * general path, scim_resource_present().  The answer is the same JSON
 * object as the general path's (t/unit/test_fast.c and the fuzz target
 * t/fuzz/fuzz_fast.c compare them); only the order of members may
 * differ.
 *
 * Nothing here has a fixed size or assumes a length: every "$ref" and
 * the location are written straight into the output (the base URL
 * escaped, then the path and the id), and the length the whole answer
 * needs is returned as snprintf does.  Ids, manager values and group
 * ids must be plain ([A-Za-z0-9-], at most SCIM_MAX_ID_LEN bytes, which
 * the general path would not percent-encode); a document stored with
 * longer ones, before that limit, is declined.
 */


#include <string.h>

#include "scim_core.h"


typedef struct {
    char    *p;
    char    *end;
    size_t   len;
} scim_buf_t;


static void scim_put(scim_buf_t *b, const char *s, size_t n);
static void scim_put_esc(scim_buf_t *b, const char *s, size_t n);
static void scim_put_str(scim_buf_t *b, const char *s, size_t n);
static void scim_put_url(scim_buf_t *b, const char *base, size_t base_len,
    const char *path, size_t path_len, const char *id, size_t id_len);
static int scim_fast_hidden(const scim_attr_t *attrs, size_t n);
static int scim_fast_keys(const char *s, size_t len, const char **mgr);
static int scim_plain_id(const char *s, size_t n);


static void
scim_put(scim_buf_t *b, const char *s, size_t n)
{
    size_t  room;

    b->len += n;

    if (b->p < b->end) {
        room = (size_t) (b->end - b->p);
        memcpy(b->p, s, n < room ? n : room);
        b->p += n < room ? n : room;
    }
}


/* the inside of a JSON string: s escaped */

static void
scim_put_esc(scim_buf_t *b, const char *s, size_t n)
{
    size_t  need, room;

    room = (b->p < b->end) ? (size_t) (b->end - b->p) : 0;

    need = scim_json_escape(s, n, room ? b->p : NULL, room);

    b->len += need;

    if (room) {
        b->p += (need < room) ? need : room;
    }
}


/* an escaped JSON string, quotes included */

static void
scim_put_str(scim_buf_t *b, const char *s, size_t n)
{
    scim_put(b, "\"", 1);
    scim_put_esc(b, s, n);
    scim_put(b, "\"", 1);
}


/*
 * "base + path + id" as a JSON string, written in pieces: the base URL
 * escaped, path and id (a plain id: nothing to escape or percent-encode)
 * as they are
 */

static void
scim_put_url(scim_buf_t *b, const char *base, size_t base_len,
    const char *path, size_t path_len, const char *id, size_t id_len)
{
    scim_put(b, "\"", 1);
    scim_put_esc(b, base, base_len);
    scim_put(b, path, path_len);
    scim_put(b, id, id_len);
    scim_put(b, "\"", 1);
}


/* attributes whose presence the general path would hide */

static int
scim_fast_hidden(const scim_attr_t *attrs, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (attrs[i].returned == SCIM_RET_NEVER
            || attrs[i].returned == SCIM_RET_REQUEST)
        {
            if (attrs[i].parent == NULL
                && strcmp(attrs[i].name, "password") == 0)
            {
                /* declined per document instead */
                continue;
            }

            return 1;
        }

        if (attrs[i].type == SCIM_TYPE_COMPLEX
            && scim_fast_hidden(attrs[i].sub_attrs, attrs[i].n_sub_attrs))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * One pass over the stored text for the keys the fast path cares about:
 * returns -1 when "password", "$ref" or "groups" is there, or "manager"
 * twice (declined), else 0 with *mgr at "\"manager\":" or NULL.  The
 * same as a search for each of the four strings, in a fourth of the
 * time: a search stops at every quote of the text, and a user of ~900
 * bytes has some 150 of them.
 */

static int
scim_fast_keys(const char *s, size_t len, const char **mgr)
{
    size_t       n;
    const char  *p, *end, *what;

    *mgr = NULL;
    end = s + len;

    for (p = s; p < end; p++) {
        p = memchr(p, '"', (size_t) (end - p));

        if (p == NULL || p + 1 >= end) {
            break;
        }

        switch (p[1]) {
        case 'p':
            what = "\"password\":";
            break;
        case '$':
            what = "\"$ref\":";
            break;
        case 'g':
            what = "\"groups\":";
            break;
        case 'm':
            what = "\"manager\":";
            break;
        default:
            continue;
        }

        n = strlen(what);

        if ((size_t) (end - p) < n || memcmp(p, what, n) != 0) {
            continue;
        }

        if (p[1] != 'm' || *mgr != NULL) {
            return -1;
        }

        *mgr = p;
    }

    return 0;
}


/*
 * ids put into a "$ref" as they are: no escaping or encoding needed;
 * longer ones (stored before SCIM_MAX_ID_LEN) go the general way
 */

static int
scim_plain_id(const char *s, size_t n)
{
    size_t  i;

    if (s == NULL || n == 0 || n > SCIM_MAX_ID_LEN) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
scim_present_fast_ok(const scim_resource_type_t *rt)
{
    size_t  i;

    if (rt == NULL || strcmp(rt->name, "User") != 0) {
        return 0;
    }

    if (scim_fast_hidden(rt->schema->attrs, rt->schema->n_attrs)) {
        return 0;
    }

    for (i = 0; i < rt->n_extensions; i++) {
        if (scim_fast_hidden(rt->extensions[i]->attrs,
                             rt->extensions[i]->n_attrs))
        {
            return 0;
        }

        /*
         * the text's first "manager" must be the enterprise one: another
         * extension's attribute of that name would take its "$ref"
         */

        if (strcmp(rt->extensions[i]->id, SCIM_SCHEMA_ENTERPRISE) != 0
            && scim_attr_find(rt->extensions[i]->attrs,
                              rt->extensions[i]->n_attrs, "manager", 7)
               != NULL)
        {
            return 0;
        }
    }

    if (scim_attr_find(rt->schema->attrs, rt->schema->n_attrs, "manager", 7)
        != NULL)
    {
        return 0;
    }

    return 1;
}


size_t
scim_present_fast(const char *doc, size_t len, const char *base_url,
    const scim_str_t *manager_display, const scim_str_t *groups,
    size_t ngroups, char *out, size_t size)
{
    size_t       i, base_len;
    scim_buf_t   b;
    const char  *id, *id_end, *mgr, *mval, *mval_end, *p;

    static const char  head[] = "{\"schemas\":[";
    static const char  id_key[] = "],\"id\":\"";
    static const char  mgr_key[] = "\"manager\":{\"value\":\"";
    static const char  tail[] = "\"}}";

    if (doc == NULL || base_url == NULL
        || len < sizeof(head) - 1 + sizeof(tail) - 1
        || memcmp(doc, head, sizeof(head) - 1) != 0
        || memcmp(doc + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1)
           != 0
        || scim_fast_keys(doc, len, &mgr) != 0)
    {
        return 0;
    }

    /* the id follows the schemas, which hold only schema URNs */

    p = memchr(doc, ']', len);
    if (p == NULL || (size_t) (doc + len - p) < sizeof(id_key)
        || memcmp(p, id_key, sizeof(id_key) - 1) != 0)
    {
        return 0;
    }

    id = p + sizeof(id_key) - 1;
    id_end = memchr(id, '"', (size_t) (doc + len - id));

    if (id_end == NULL || !scim_plain_id(id, (size_t) (id_end - id))) {
        return 0;
    }

    /* the manager, if any, exactly as the normalizer stores it */

    mval = NULL;
    mval_end = NULL;

    if (mgr != NULL) {
        if ((size_t) (doc + len - mgr) < sizeof(mgr_key)
            || memcmp(mgr, mgr_key, sizeof(mgr_key) - 1) != 0)
        {
            return 0;
        }

        mval = mgr + sizeof(mgr_key) - 1;
        mval_end = memchr(mval, '"', (size_t) (doc + len - mval));

        /* mval_end[1] exists: the document ends with "}} */

        if (mval_end == NULL || mval_end[1] != '}'
            || !scim_plain_id(mval, (size_t) (mval_end - mval)))
        {
            return 0;
        }
    }

    for (i = 0; i < ngroups; i++) {
        if (!scim_plain_id(groups[2 * i].s, groups[2 * i].len)
            || groups[2 * i + 1].s == NULL)
        {
            return 0;
        }
    }

    if (manager_display != NULL && manager_display->s == NULL) {
        return 0;
    }

    base_len = strlen(base_url);

    b.p = out;
    b.end = (out != NULL) ? out + size : NULL;
    b.len = 0;

    p = doc;

    if (mgr != NULL) {
        /* ...{"value":"<id>"  +  ,"$ref":"...","displayName":"..."  +  } */

        scim_put(&b, p, (size_t) (mval_end + 1 - p));

        scim_put(&b, ",\"$ref\":", 8);
        scim_put_url(&b, base_url, base_len, "/Users/", 7, mval,
                     (size_t) (mval_end - mval));

        if (manager_display != NULL) {
            scim_put(&b, ",\"displayName\":", 15);
            scim_put_str(&b, manager_display->s, manager_display->len);
        }

        p = mval_end + 1;
    }

    /* ..."version":"W/\"n\""  +  ,"location":"..."  +  }  [groups]  } */

    scim_put(&b, p, (size_t) (doc + len - 2 - p));

    scim_put(&b, ",\"location\":", 12);
    scim_put_url(&b, base_url, base_len, "/Users/", 7, id,
                 (size_t) (id_end - id));
    scim_put(&b, "}", 1);

    if (ngroups) {
        scim_put(&b, ",\"groups\":[", 11);

        for (i = 0; i < ngroups; i++) {
            scim_put(&b, i ? ",{\"value\":" : "{\"value\":", i ? 10 : 9);
            scim_put_str(&b, groups[2 * i].s, groups[2 * i].len);
            scim_put(&b, ",\"$ref\":", 8);
            scim_put_url(&b, base_url, base_len, "/Groups/", 8,
                         groups[2 * i].s, groups[2 * i].len);
            scim_put(&b, ",\"display\":", 11);
            scim_put_str(&b, groups[2 * i + 1].s, groups[2 * i + 1].len);
            scim_put(&b, ",\"type\":\"direct\"}", 17);
        }

        scim_put(&b, "]", 1);
    }

    scim_put(&b, "}", 1);

    return b.len;
}
