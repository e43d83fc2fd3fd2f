
/*
 * ngx_http_scim_module: validation and normalization of resources.
 *
 * scim_resource_normalize() builds the stored document by walking the
 * schemas, not the input: every attribute of the core schema, then of
 * each extension, is looked up in the input case-insensitively, checked,
 * coerced and written under its canonical name.  Whatever the schemas do
 * not define (misspelled attributes, unknown extension URNs, "display"
 * on members, ...) is thereby dropped.
 *
 * Behaviours beyond the header, decided here:
 *  - an input key that equals an attribute name exactly wins over one
 *    that only matches case-insensitively; among the latter the first
 *    in the document wins;
 *  - besides extension blocks, top-level URN-qualified keys
 *    ("urn:...:enterprise:2.0:User:department": "x") are accepted for
 *    attributes that the block does not give;
 *  - "schemas" may also be a single string; entries that are not strings
 *    are ignored;
 *  - "externalId" comes right after "schemas";
 *  - a required string attribute given as "" counts as missing; the
 *    required attributes of an extension are checked only when the
 *    input has that extension's block;
 *  - "$ref" sub-attributes are never stored (scim_resource_present()
 *    rebuilds them); manager is stored as {"value": id};
 *  - a complex value (or element) that ends up empty is absent; a
 *    multi-valued attribute keeps an empty array as sent;
 *  - manager.value and members[].value are references to ids: at most
 *    SCIM_MAX_ID_LEN bytes (400 invalidValue), also in STORED mode, so
 *    that a PATCH leaving a longer value stored before the limit fails
 *    until the value is replaced or removed;
 *  - group members: "value" must be a non-empty string; "type" is
 *    "User" or "Group" in any case (stored canonical), else taken from a
 *    "$ref" containing "/Groups/", else "User"; duplicate values are
 *    kept once (the first);
 *  - canonicalValues are enforced on string values of every attribute
 *    whose schema lists them (a non-empty list), except the "type"
 *    sub-attributes of the RFC 7643 schemas (core User and Group,
 *    enterprise User: emails, phoneNumbers, ims, photos, addresses,
 *    entitlements, roles, x509Certificates), whose values RFC 7643 calls
 *    suggestions and where Entra ID sends its own; a value matching a
 *    canonical value (exactly if the attribute is caseExact, else
 *    ignoring case) is stored in the schema's spelling;
 *  - "primary": true may appear on at most one element of a multi-valued
 *    complex attribute that has a boolean "primary" (RFC 7643 2.4);
 *  - a missing required attribute is 400 invalidValue, but 400
 *    mutability in SCIM_INPUT_STORED mode (the document after a PATCH):
 *    RFC 7644 3.5.2.2, "If an attribute is removed or becomes unassigned
 *    and is defined as a required attribute ..." (the same for required
 *    sub-attributes of a complex value);
 *  - a string where a complex value is expected is decoded if it is a
 *    JSON object (or, for a multi-valued attribute, a JSON array).
 */


#include <stdlib.h>
#include <string.h>

#include "scim_core.h"
#include "scim_json.h"
#include "scim_resource.h"
#include "scim_text.h"


static int scim_norm_block(scim_norm_ctx_t *ctx, const scim_schema_t *s,
    json_t *src, json_t *top, json_t *out);
static int scim_norm_value(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    json_t *v, json_t **out);
static int scim_norm_multi(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    json_t *v, json_t **out);
static int scim_norm_element(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    json_t *v, json_t **out);
static int scim_norm_complex(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    json_t *v, json_t **out);
static int scim_norm_manager(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    json_t *v, json_t **out);
static int scim_norm_member(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    json_t *v, json_t **out);
static int scim_norm_simple(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    json_t *v, json_t **out);
static int scim_base64_valid(const char *s, size_t len);
static int scim_norm_canonical(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    json_t *v, json_t **out);
static int scim_canonical_enforced(const scim_attr_t *a);
static int scim_norm_primary(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    json_t *arr);
static int scim_norm_required(scim_norm_ctx_t *ctx, const scim_attr_t *attrs,
    size_t n, json_t *o);
static int scim_norm_type_error(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    const char *what);
static int scim_norm_nomem(scim_norm_ctx_t *ctx);
static int scim_norm_too_long(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    const char *sub);
static int scim_is_manager(const scim_attr_t *a);


json_t *
scim_resource_normalize(const scim_resource_type_t *rt, json_t *in,
    scim_input_mode_t mode, scim_error_t *err)
{
    int                  found;
    size_t               i, len;
    json_t              *out, *schemas, *v, *r, *block, *dec;
    scim_attr_ref_t      ref;
    scim_norm_ctx_t      ctx;
    const scim_schema_t *ext;

    if (rt == NULL || rt->schema == NULL) {
        scim_error_set(err, 500, NULL, "no resource type");
        return NULL;
    }

    if (!json_is_object(in)) {
        scim_error_set(err, 400, SCIM_ERR_INVALID_SYNTAX,
                       "the resource must be a JSON object");
        return NULL;
    }

    ctx.rt = rt;
    ctx.err = err;
    ctx.mode = mode;
    ctx.group = (strcmp(rt->schema->id, SCIM_SCHEMA_GROUP) == 0);

    len = strlen(rt->schema->id);

    if (mode != SCIM_INPUT_STORED) {
        found = 0;
        v = scim_json_getn_ci(in, "schemas", 7);

        if (json_is_string(v)) {
            found = scim_ascii_caseeq(json_string_value(v),
                                      json_string_length(v),
                                      rt->schema->id, len);

        } else if (json_is_array(v)) {
            for (i = 0; !found && i < json_array_size(v); i++) {
                r = json_array_get(v, i);

                found = json_is_string(r)
                        && scim_ascii_caseeq(json_string_value(r),
                                             json_string_length(r),
                                             rt->schema->id, len);
            }
        }

        if (!found) {
            scim_error_set(err, 400, SCIM_ERR_INVALID_SYNTAX,
                           "\"schemas\" must list \"%s\"", rt->schema->id);
            return NULL;
        }
    }

    out = json_object();
    schemas = json_array();

    if (out == NULL || schemas == NULL
        || json_object_set_new(out, "schemas", schemas) != 0)
    {
        json_decref(out);
        scim_norm_nomem(&ctx);
        return NULL;
    }

    if (json_array_append_new(schemas, json_string(rt->schema->id)) != 0) {
        goto nomem;
    }

    /* externalId, the only writable common attribute */

    if (scim_attr_resolve(rt, "externalId", 10, &ref) == 0
        && ref.schema == NULL)
    {
        v = scim_json_getn_ci(in, "externalId", 10);

        if (scim_norm_value(&ctx, ref.attr, v, &r) != 0) {
            goto failed;
        }

        if (r != NULL && json_object_set_new(out, "externalId", r) != 0) {
            goto nomem;
        }
    }

    if (scim_norm_block(&ctx, rt->schema, in, in, out) != 0) {
        goto failed;
    }

    if (scim_norm_required(&ctx, rt->schema->attrs, rt->schema->n_attrs, out)
        != 0)
    {
        goto failed;
    }

    for (i = 0; i < rt->n_extensions; i++) {
        ext = rt->extensions[i];
        if (ext == NULL) {
            continue;
        }

        v = scim_json_getn_ci(in, ext->id, strlen(ext->id));
        dec = NULL;

        if (json_is_string(v)) {
            dec = scim_json_decode(v, 0);
            if (dec != NULL) {
                v = dec;
            }
        }

        if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
            json_decref(dec);
            scim_error_set(err, 400, SCIM_ERR_INVALID_VALUE,
                           "\"%s\" must be a JSON object", ext->id);
            goto failed;
        }

        block = json_object();
        if (block == NULL) {
            json_decref(dec);
            goto nomem;
        }

        if (scim_norm_block(&ctx, ext, json_is_object(v) ? v : NULL, in,
                            block)
            != 0)
        {
            json_decref(dec);
            json_decref(block);
            goto failed;
        }

        if (json_is_object(v)
            && scim_norm_required(&ctx, ext->attrs, ext->n_attrs, block)
               != 0)
        {
            json_decref(dec);
            json_decref(block);
            goto failed;
        }

        json_decref(dec);

        if (json_object_size(block) == 0) {
            json_decref(block);
            continue;
        }

        if (json_object_set_new(out, ext->id, block) != 0
            || json_array_append_new(schemas, json_string(ext->id)) != 0)
        {
            goto nomem;
        }
    }

    return out;

nomem:

    scim_norm_nomem(&ctx);

failed:

    json_decref(out);
    return NULL;
}


/*
 * The attributes of schema s, looked up in src (the input or an extension
 * block; may be NULL) and as URN-qualified keys of top, into out.
 */

static int
scim_norm_block(scim_norm_ctx_t *ctx, const scim_schema_t *s, json_t *src,
    json_t *top, json_t *out)
{
    int                 flat;
    size_t              i;
    json_t             *v, *r;
    const scim_attr_t  *a;

    /* URN-qualified keys are rare: top is searched for them only once */
    flat = scim_json_has_flat(top, s->id);

    for (i = 0; i < s->n_attrs; i++) {
        a = &s->attrs[i];

        if (a->mutability == SCIM_MUT_READONLY) {
            continue;
        }

        v = NULL;

        if (src != NULL) {
            v = scim_json_getn_ci(src, a->name, strlen(a->name));
        }

        if ((v == NULL || json_is_null(v)) && flat) {
            v = scim_json_get_flat(top, s->id, a->name);
        }

        if (scim_norm_value(ctx, a, v, &r) != 0) {
            return -1;
        }

        if (r != NULL && json_object_set_new(out, a->name, r) != 0) {
            return scim_norm_nomem(ctx);
        }
    }

    return 0;
}


/* *out: a new reference, or NULL when the value is absent */

static int
scim_norm_value(scim_norm_ctx_t *ctx, const scim_attr_t *a, json_t *v,
    json_t **out)
{
    *out = NULL;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (a->multi_valued) {
        return scim_norm_multi(ctx, a, v, out);
    }

    if (scim_is_manager(a)) {
        return scim_norm_manager(ctx, a, v, out);
    }

    if (a->type == SCIM_TYPE_COMPLEX) {
        return scim_norm_complex(ctx, a, v, out);
    }

    return scim_norm_simple(ctx, a, v, out);
}


static int
scim_norm_multi(scim_norm_ctx_t *ctx, const scim_attr_t *a, json_t *v,
    json_t **out)
{
    size_t   i;
    json_t  *arr, *dec, *e, *r, *rv, *seen;

    dec = NULL;
    seen = NULL;

    if (a->type == SCIM_TYPE_COMPLEX && json_is_string(v)) {
        dec = scim_json_decode(v, 1);
        if (dec != NULL) {
            v = dec;
        }
    }

    arr = json_array();
    if (arr == NULL) {
        json_decref(dec);
        return scim_norm_nomem(ctx);
    }

    for (i = 0; i < (json_is_array(v) ? json_array_size(v) : 1); i++) {
        e = json_is_array(v) ? json_array_get(v, i) : v;

        if (json_is_null(e)) {
            continue;
        }

        if (scim_norm_element(ctx, a, e, &r) != 0) {
            goto failed;
        }

        if (r == NULL) {
            continue;
        }

        /* group members are a set: "seen" holds the values so far */

        if (ctx->group && a->parent == NULL
            && strcmp(a->name, "members") == 0)
        {
            rv = json_object_get(r, "value");

            if (seen == NULL) {
                seen = json_object();
                if (seen == NULL) {
                    json_decref(r);
                    scim_norm_nomem(ctx);
                    goto failed;
                }
            }

            if (json_object_getn(seen, json_string_value(rv),
                                 json_string_length(rv))
                != NULL)
            {
                json_decref(r);
                continue;
            }

            if (json_object_setn_new(seen, json_string_value(rv),
                                     json_string_length(rv), json_true())
                != 0)
            {
                json_decref(r);
                scim_norm_nomem(ctx);
                goto failed;
            }
        }

        if (json_array_append_new(arr, r) != 0) {
            scim_norm_nomem(ctx);
            goto failed;
        }
    }

    if (scim_norm_primary(ctx, a, arr) != 0) {
        goto failed;
    }

    json_decref(seen);
    json_decref(dec);
    *out = arr;

    return 0;

failed:

    json_decref(seen);
    json_decref(dec);
    json_decref(arr);
    return -1;
}


static int
scim_norm_element(scim_norm_ctx_t *ctx, const scim_attr_t *a, json_t *v,
    json_t **out)
{
    *out = NULL;

    if (json_is_array(v)) {
        return scim_norm_type_error(ctx, a, "a value, not an array of "
                                    "arrays");
    }

    if (a->type != SCIM_TYPE_COMPLEX) {
        return scim_norm_simple(ctx, a, v, out);
    }

    if (ctx->group && a->parent == NULL && strcmp(a->name, "members") == 0) {
        return scim_norm_member(ctx, a, v, out);
    }

    return scim_norm_complex(ctx, a, v, out);
}


static int
scim_norm_complex(scim_norm_ctx_t *ctx, const scim_attr_t *a, json_t *v,
    json_t **out)
{
    size_t              i;
    json_t             *o, *dec, *sv, *r;
    const scim_attr_t  *sub;

    *out = NULL;
    dec = NULL;

    if (json_is_string(v)) {
        dec = scim_json_decode(v, 0);
        if (dec != NULL) {
            v = dec;
        }
    }

    if (!json_is_object(v)) {
        json_decref(dec);
        return scim_norm_type_error(ctx, a, "a complex value (a JSON "
                                    "object)");
    }

    o = json_object();
    if (o == NULL) {
        json_decref(dec);
        return scim_norm_nomem(ctx);
    }

    for (i = 0; i < a->n_sub_attrs; i++) {
        sub = &a->sub_attrs[i];

        if (sub->mutability == SCIM_MUT_READONLY
            || strcmp(sub->name, "$ref") == 0)
        {
            continue;
        }

        sv = scim_json_getn_ci(v, sub->name, strlen(sub->name));

        if (scim_norm_value(ctx, sub, sv, &r) != 0) {
            goto failed;
        }

        if (r != NULL && json_object_set_new(o, sub->name, r) != 0) {
            scim_norm_nomem(ctx);
            goto failed;
        }
    }

    json_decref(dec);
    dec = NULL;

    if (json_object_size(o) == 0) {
        json_decref(o);
        return 0;
    }

    if (scim_norm_required(ctx, a->sub_attrs, a->n_sub_attrs, o) != 0) {
        goto failed;
    }

    *out = o;

    return 0;

failed:

    json_decref(dec);
    json_decref(o);
    return -1;
}


/*
 * enterprise manager: "id", {"value": id}, [{"value": id, "$ref": ...}],
 * ["id"], or any of these JSON-encoded in a string; stored {"value": id}
 */

static int
scim_norm_manager(scim_norm_ctx_t *ctx, const scim_attr_t *a, json_t *v,
    json_t **out)
{
    int      rc;
    size_t   i;
    json_t  *dec, *e, *o, *val;

    *out = NULL;
    dec = NULL;

    if (json_is_string(v)) {
        dec = scim_json_decode(v, 1);
        if (dec != NULL) {
            v = dec;
        }
    }

    if (json_is_array(v)) {
        e = NULL;

        for (i = 0; i < json_array_size(v); i++) {
            e = json_array_get(v, i);
            if (!json_is_null(e)) {
                break;
            }
        }

        v = (i < json_array_size(v)) ? e : NULL;
    }

    if (v == NULL || json_is_null(v)) {
        json_decref(dec);
        return 0;
    }

    if (json_is_string(v)) {
        if (json_string_length(v) == 0) {
            json_decref(dec);
            return 0;
        }

        if (json_string_length(v) > SCIM_MAX_ID_LEN) {
            json_decref(dec);
            return scim_norm_too_long(ctx, a, "value");
        }

        o = json_pack("{sO}", "value", v);
        json_decref(dec);

        if (o == NULL) {
            return scim_norm_nomem(ctx);
        }

        *out = o;
        return 0;
    }

    rc = scim_norm_complex(ctx, a, v, &o);
    json_decref(dec);

    if (rc != 0 || o == NULL) {
        return rc;
    }

    val = json_object_get(o, "value");

    if (!json_is_string(val) || json_string_length(val) == 0) {
        /* no manager id: absent (Entra ID "removes" a manager so) */
        json_decref(o);
        return 0;
    }

    if (json_string_length(val) > SCIM_MAX_ID_LEN) {
        json_decref(o);
        return scim_norm_too_long(ctx, a, "value");
    }

    *out = o;

    return 0;
}


/* group members: {"value": id, "type": "User"|"Group"} */

static int
scim_norm_member(scim_norm_ctx_t *ctx, const scim_attr_t *a, json_t *v,
    json_t **out)
{
    json_t      *dec, *val, *type, *ref, *o;
    const char  *t, *s;
    char         buf[SCIM_NORM_PATH_SIZE];

    *out = NULL;
    dec = NULL;

    if (json_is_string(v)) {
        dec = scim_json_decode(v, 0);
        if (dec != NULL) {
            v = dec;
        }
    }

    if (!json_is_object(v)) {
        json_decref(dec);
        return scim_norm_type_error(ctx, a, "an array of {\"value\": id} "
                                    "objects");
    }

    val = scim_json_getn_ci(v, "value", 5);
    type = scim_json_getn_ci(v, "type", 4);
    ref = scim_json_getn_ci(v, "$ref", 4);

    if (!json_is_string(val) || json_string_length(val) == 0) {
        json_decref(dec);
        scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                       "every element of \"%s\" needs \"value\", "
                       "a non-empty string",
                       scim_norm_path(ctx, a, buf, sizeof(buf)));
        return -1;
    }

    if (json_string_length(val) > SCIM_MAX_ID_LEN) {
        json_decref(dec);
        return scim_norm_too_long(ctx, a, "value");
    }

    if (type != NULL && !json_is_null(type)) {
        s = json_is_string(type) ? json_string_value(type) : "";

        if (json_is_string(type)
            && scim_ascii_caseeq(s, json_string_length(type), "User", 4))
        {
            t = "User";

        } else if (json_is_string(type)
                   && scim_ascii_caseeq(s, json_string_length(type),
                                        "Group", 5))
        {
            t = "Group";

        } else {
            json_decref(dec);
            scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                           "\"%s.type\" must be \"User\" or \"Group\"",
                           scim_norm_path(ctx, a, buf, sizeof(buf)));
            return -1;
        }

    } else if (json_is_string(ref)
               && strstr(json_string_value(ref), "/Groups/") != NULL)
    {
        t = "Group";

    } else {
        t = "User";
    }

    o = json_pack("{sOss}", "value", val, "type", t);
    json_decref(dec);

    if (o == NULL) {
        return scim_norm_nomem(ctx);
    }

    *out = o;

    return 0;
}


static int
scim_norm_simple(scim_norm_ctx_t *ctx, const scim_attr_t *a, json_t *v,
    json_t **out)
{
    const char  *s;
    size_t       len;

    *out = NULL;

    switch (a->type) {

    case SCIM_TYPE_BOOLEAN:
        if (json_is_boolean(v)) {
            break;
        }

        if (json_is_string(v)) {
            s = json_string_value(v);
            len = json_string_length(v);

            if (scim_ascii_caseeq(s, len, "true", 4)) {
                *out = json_true();
                return 0;
            }

            if (scim_ascii_caseeq(s, len, "false", 5)) {
                *out = json_false();
                return 0;
            }
        }

        return scim_norm_type_error(ctx, a, "a boolean");

    case SCIM_TYPE_INTEGER:
        if (json_is_integer(v)) {
            break;
        }

        return scim_norm_type_error(ctx, a, "an integer");

    case SCIM_TYPE_DECIMAL:
        if (json_is_number(v)) {
            break;
        }

        return scim_norm_type_error(ctx, a, "a number");

    case SCIM_TYPE_DATETIME:
        if (json_is_string(v)
            && scim_datetime_parse(json_string_value(v),
                                   json_string_length(v), NULL, NULL)
               == 0)
        {
            break;
        }

        return scim_norm_type_error(ctx, a, "an xsd:dateTime string such "
                                    "as \"2024-01-31T12:00:00Z\"");

    case SCIM_TYPE_COMPLEX:
        return scim_norm_complex(ctx, a, v, out);

    case SCIM_TYPE_BINARY:
        /* RFC 7643 2.3.6: base64 (RFC 4648 section 4), padding optional */
        if (json_is_string(v)
            && scim_base64_valid(json_string_value(v), json_string_length(v)))
        {
            break;
        }

        return scim_norm_type_error(ctx, a, "base64-encoded binary");

    default: /* string, reference */
        if (!json_is_string(v)) {
            return scim_norm_type_error(ctx, a, "a string");
        }

        if (scim_canonical_enforced(a)) {
            return scim_norm_canonical(ctx, a, v, out);
        }

        break;
    }

    *out = json_incref(v);

    return 0;
}


/*
 * base64 of RFC 4648 section 4 (the "+/" alphabet); also accepted: the
 * URL-safe "-_" alphabet, no padding, and line breaks as PEM certificates
 * carry them
 */

static int
scim_base64_valid(const char *s, size_t len)
{
    size_t  i, n, pad;

    n = 0;
    pad = 0;

    for (i = 0; i < len; i++) {
        unsigned char  c = (unsigned char) s[i];

        if (c == '\r' || c == '\n') {
            continue;
        }

        if (c == '=') {
            if (++pad > 2) {
                return 0;
            }

            continue;
        }

        if (pad
            || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                 || (c >= '0' && c <= '9') || c == '+' || c == '/'
                 || c == '-' || c == '_'))
        {
            return 0;
        }

        n++;
    }

    if (pad) {
        return (n + pad) % 4 == 0;
    }

    return n % 4 != 1;
}


/* v, a string, must be one of a's canonical values: *out their spelling */

static int
scim_norm_canonical(scim_norm_ctx_t *ctx, const scim_attr_t *a, json_t *v,
    json_t **out)
{
    int          k;
    size_t       i, len, clen, n, room;
    const char  *s, *c;
    char         path[SCIM_NORM_PATH_SIZE], list[320];

    s = json_string_value(v);
    len = json_string_length(v);

    for (i = 0; i < a->n_canonical_values; i++) {
        c = a->canonical_values[i];
        clen = strlen(c);

        if (a->case_exact ? (clen == len && memcmp(c, s, len) == 0)
                          : scim_utf8_caseeq(c, clen, s, len))
        {
            *out = json_stringn(c, clen);
            return (*out == NULL) ? scim_norm_nomem(ctx) : 0;
        }
    }

    /* the allowed values, as many as fit, then ", ..." */

    n = 0;
    list[0] = '\0';

    for (i = 0; i < a->n_canonical_values; i++) {
        room = sizeof(list) - sizeof(", ...") - n;

        k = snprintf(list + n, room, "%s\"%s\"", (i > 0) ? ", " : "",
                     a->canonical_values[i]);

        if (k < 0 || (size_t) k >= room) {
            memcpy(list + n, (n > 0) ? ", ..." : "...",
                   (n > 0) ? sizeof(", ...") : sizeof("..."));
            break;
        }

        n += k;
    }

    return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                          "attribute \"%.200s\" must be one of %s%s",
                          scim_norm_path(ctx, a, path, sizeof(path)), list,
                          a->case_exact ? " (case-sensitive)" : "");
}


/*
 * Whether a's canonicalValues are a rule: a non-empty list, except on the
 * "type" sub-attributes of the RFC 7643 schemas, which RFC 7643 calls
 * suggestions ("work", "home", ...) and where clients send their own.
 */

static int
scim_canonical_enforced(const scim_attr_t *a)
{
    const char  *id;

    if (a->n_canonical_values == 0) {
        return 0;
    }

    if (a->parent != NULL && a->schema != NULL
        && strcmp(a->name, "type") == 0)
    {
        id = a->schema->id;

        if (strcmp(id, SCIM_SCHEMA_USER) == 0
            || strcmp(id, SCIM_SCHEMA_GROUP) == 0
            || strcmp(id, SCIM_SCHEMA_ENTERPRISE) == 0)
        {
            return 0;
        }
    }

    return 1;
}


/* RFC 7643 2.4: "primary": true on at most one element of arr */

static int
scim_norm_primary(scim_norm_ctx_t *ctx, const scim_attr_t *a, json_t *arr)
{
    size_t              i, n;
    const scim_attr_t  *p;
    char                path[SCIM_NORM_PATH_SIZE];

    if (a->type != SCIM_TYPE_COMPLEX || a->parent != NULL) {
        return 0;
    }

    p = scim_attr_find(a->sub_attrs, a->n_sub_attrs, "primary", 7);

    if (p == NULL || p->type != SCIM_TYPE_BOOLEAN || p->multi_valued) {
        return 0;
    }

    n = 0;

    for (i = 0; i < json_array_size(arr); i++) {
        if (json_is_true(json_object_get(json_array_get(arr, i), p->name))) {
            n++;
        }
    }

    if (n > 1) {
        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                              "attribute \"%.200s\" has %zu values with "
                              "\"primary\": true; at most one may be "
                              "primary", scim_norm_path(ctx, a, path,
                                                        sizeof(path)), n);
    }

    return 0;
}


static int
scim_norm_required(scim_norm_ctx_t *ctx, const scim_attr_t *attrs, size_t n,
    json_t *o)
{
    size_t              i;
    json_t             *v;
    const scim_attr_t  *a;
    char                buf[SCIM_NORM_PATH_SIZE];

    for (i = 0; i < n; i++) {
        a = &attrs[i];

        if (!a->required || a->mutability == SCIM_MUT_READONLY
            || strcmp(a->name, "$ref") == 0)
        {
            continue;
        }

        v = json_object_get(o, a->name);

        if (v != NULL
            && !(json_is_string(v) && json_string_length(v) == 0)
            && !(json_is_array(v) && json_array_size(v) == 0))
        {
            continue;
        }

        if (ctx->mode == SCIM_INPUT_STORED) {
            /* RFC 7644 3.5.2.2: removed or unassigned by a PATCH */
            return scim_error_set(ctx->err, 400, SCIM_ERR_MUTABILITY,
                                  "attribute \"%s\" is required: it cannot "
                                  "be removed or left without a value",
                                  scim_norm_path(ctx, a, buf, sizeof(buf)));
        }

        return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                              "attribute \"%s\" is required",
                              scim_norm_path(ctx, a, buf, sizeof(buf)));
    }

    return 0;
}


static int
scim_norm_type_error(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    const char *what)
{
    char  buf[SCIM_NORM_PATH_SIZE];

    return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                          "attribute \"%s\" must be %s",
                          scim_norm_path(ctx, a, buf, sizeof(buf)), what);
}


static int
scim_norm_nomem(scim_norm_ctx_t *ctx)
{
    return scim_error_set(ctx->err, 500, NULL, "out of memory");
}


/* a reference to an id longer than any id can be (SCIM_MAX_ID_LEN) */

static int
scim_norm_too_long(scim_norm_ctx_t *ctx, const scim_attr_t *a,
    const char *sub)
{
    char  buf[SCIM_NORM_PATH_SIZE];

    return scim_error_set(ctx->err, 400, SCIM_ERR_INVALID_VALUE,
                          "\"%s.%s\" is longer than %d bytes: it must be "
                          "the id of a resource",
                          scim_norm_path(ctx, a, buf, sizeof(buf)), sub,
                          SCIM_MAX_ID_LEN);
}


/* "name.givenName"; extension attributes URN-qualified */

const char *
scim_norm_path(scim_norm_ctx_t *ctx, const scim_attr_t *a, char *buf,
    size_t size)
{
    const scim_attr_t    *top;
    const scim_schema_t  *s;

    top = (a->parent != NULL) ? a->parent : a;
    s = top->schema;

    snprintf(buf, size, "%.1100s%s%s%s%s",
             (s != NULL && s != ctx->rt->schema) ? s->id : "",
             (s != NULL && s != ctx->rt->schema) ? ":" : "",
             top->name, (a != top) ? "." : "", (a != top) ? a->name : "");

    return buf;
}


static int
scim_is_manager(const scim_attr_t *a)
{
    return a->parent == NULL && a->schema != NULL
           && strcmp(a->name, "manager") == 0
           && strcmp(a->schema->id, SCIM_SCHEMA_ENTERPRISE) == 0;
}
