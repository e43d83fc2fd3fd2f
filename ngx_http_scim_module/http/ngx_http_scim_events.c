
/*
 * ngx_http_scim_module: change events (issue 11).  Every write appends an
 * event to the tenant's Redis Stream scim:{T}:events in the Lua script
 * that writes (store/lua/lib.lua event()); this file says what the glue
 * knows of it: the type of the write, its time, whether it changed a
 * user's "active", a PATCH's paths.  scim_events_maxlen caps the stream
 * (XADD MAXLEN ~); "off": no event, no XADD.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_resource.h"


/* the paths of a PATCH an event names, at most */
#define NGX_HTTP_SCIM_EVENT_PATHS   100

/* a poll's SETs: when maxEvents is absent, and at most */
#define NGX_HTTP_SCIM_FEED_DEFAULT  100
#define NGX_HTTP_SCIM_FEED_MAX      500

/* the JOSE header of an unsecured SET (RFC 8417 2.3, RFC 7519 6) */
#define NGX_HTTP_SCIM_SET_HEADER                                              \
    "{\"typ\":\"secevent+jwt\",\"alg\":\"none\"}"


static ngx_int_t ngx_http_scim_event_paths(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *out);
static ngx_int_t ngx_http_scim_event_dup(ngx_http_scim_ctx_t *ctx,
    const char *s, ngx_str_t *out);
static ngx_int_t ngx_http_scim_feed_acks(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_poll_t *poll);
static void ngx_http_scim_feed_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
static json_t *ngx_http_scim_feed_set(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *claims);


/* scim_events_maxlen <number> | off */

char *
ngx_http_scim_events_maxlen(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (slcf->events_maxlen != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        slcf->events_maxlen = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n <= 0) {
        return "must be a positive number or \"off\"";
    }

    slcf->events_maxlen = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


/*
 * The event of the write ctx is about to send, of type (create, replace,
 * patch, members, delete): nothing when events are off.
 */

ngx_int_t
ngx_http_scim_event(ngx_http_scim_ctx_t *ctx, const char *type,
    ngx_scim_store_event_t *ev)
{
    u_char       *p;
    json_t       *old, *new;
    const char   *s;

    ngx_memzero(ev, sizeof(ngx_scim_store_event_t));

    if (ctx->slcf->events_maxlen == 0) {
        return NGX_OK;
    }

    ev->maxlen = ctx->slcf->events_maxlen;
    ev->type = type;

    /* the time: the new document's lastModified, else now */

    s = json_string_value(json_object_get(json_object_get(ctx->newdoc,
                                                          "meta"),
                                          "lastModified"));
    if (s != NULL && ctx->newdoc != NULL && *type != 'd') {
        if (ngx_http_scim_event_dup(ctx, s, &ev->time) != NGX_OK) {
            return NGX_ERROR;
        }

    } else {
        p = ngx_pnalloc(ctx->request->pool,
                        sizeof("2026-01-01T00:00:00.000Z"));
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_http_scim_iso_time(p);
        ev->time.data = p;
        ev->time.len = ngx_strlen(p);
    }

    /* a user activated or deactivated by a replace or a patch */

    if (ctx->resource == NGX_HTTP_SCIM_R_USERS && ctx->doc != NULL
        && ctx->newdoc != NULL && *type != 'd')
    {
        old = json_object_get(ctx->doc, "active");
        new = json_object_get(ctx->newdoc, "active");

        if (json_is_true(old) != json_is_true(new)) {
            if (json_is_true(new)) {
                ngx_str_set(&ev->active, "true");

            } else {
                ngx_str_set(&ev->active, "false");
            }
        }
    }

    if (*type == 'd') {
        return NGX_OK;
    }

    return ngx_http_scim_event_paths(ctx, &ev->paths);
}


/*
 * A PATCH's paths, as a JSON array: each operation's "path", or the
 * names in the value of one without; a POST's or PUT's: the attributes
 * of its body but "schemas" (and "id", "meta", which the server sets);
 * the first NGX_HTTP_SCIM_EVENT_PATHS
 */

static ngx_int_t
ngx_http_scim_event_paths(ngx_http_scim_ctx_t *ctx, ngx_str_t *out)
{
    char        *text;
    size_t       i;
    json_t      *ops, *op, *path, *value, *v, *list;
    ngx_int_t    rc;
    const char  *key;

    list = json_array();
    if (list == NULL) {
        return NGX_ERROR;
    }

    ops = scim_json_get_ci(ctx->body, "Operations");

    if (ctx->method != NGX_HTTP_PATCH) {
        ops = NULL;

        json_object_foreach(ctx->body, key, v) {
            if (ngx_strcasecmp((u_char *) key, (u_char *) "schemas") == 0
                || ngx_strcasecmp((u_char *) key, (u_char *) "id") == 0
                || ngx_strcasecmp((u_char *) key, (u_char *) "meta") == 0
                || json_array_size(list) >= NGX_HTTP_SCIM_EVENT_PATHS)
            {
                continue;
            }

            if (json_array_append_new(list, json_string(key)) != 0) {
                json_decref(list);
                return NGX_ERROR;
            }
        }
    }

    json_array_foreach(ops, i, op) {
        /* the keys in any case, as scim_patch_apply() reads them */
        path = scim_json_get_ci(op, "path");
        value = scim_json_get_ci(op, "value");

        if (json_is_string(path)) {
            if (json_array_size(list) < NGX_HTTP_SCIM_EVENT_PATHS
                && json_array_append(list, path) != 0)
            {
                json_decref(list);
                return NGX_ERROR;
            }

            continue;
        }

        if (!json_is_object(value)) {
            continue;
        }

        json_object_foreach(value, key, v) {
            if (json_array_size(list) < NGX_HTTP_SCIM_EVENT_PATHS
                && json_array_append_new(list, json_string(key)) != 0)
            {
                json_decref(list);
                return NGX_ERROR;
            }
        }
    }

    text = json_dumps(list, JSON_COMPACT);
    json_decref(list);

    if (text == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_scim_event_dup(ctx, text, out);
    scim_json_free(text);

    return rc;
}


static ngx_int_t
ngx_http_scim_event_dup(ngx_http_scim_ctx_t *ctx, const char *s,
    ngx_str_t *out)
{
    out->len = ngx_strlen(s);

    out->data = ngx_pnalloc(ctx->request->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, s, out->len + 1);

    return NGX_OK;
}


/*
 * scim_events: the location answers RFC 8936 polls with the tenant's
 * change events as RFC 9967 SETs; authenticated and given its tenant as
 * a scim location is
 */

char *
ngx_http_scim_events_feed(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (slcf->enable != NGX_CONF_UNSET) {
        return "is duplicate, or with \"scim\"";
    }

    slcf->enable = 1;
    slcf->events_feed = 1;
    slcf->conf_file = cf->conf_file->file.name;
    slcf->conf_line = cf->conf_file->line;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_scim_handler;

    return NGX_CONF_OK;
}


/*
 * POST {"maxEvents": N, "returnImmediately": b, "ack": [jti, ...],
 * "setErrs": {jti: {...}}} (RFC 8936 2.4): the SETs acknowledged (and
 * those the receiver reports errors for, which are not sent again) leave
 * the feed's pending ones, then up to N SETs are answered, those
 * delivered before and not acknowledged first.  The answer is at once
 * (returnImmediately false is allowed to wait; this feed does not).
 */

void
ngx_http_scim_feed(ngx_http_scim_ctx_t *ctx)
{
    json_t                 *v;
    json_int_t              n;
    ngx_scim_store_poll_t  *poll;

    poll = ngx_pcalloc(ctx->request->pool, sizeof(ngx_scim_store_poll_t));
    if (poll == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    poll->max = NGX_HTTP_SCIM_FEED_DEFAULT;

    v = json_object_get(ctx->body, "maxEvents");

    if (v != NULL) {
        n = json_is_integer(v) ? json_integer_value(v) : -1;

        if (n < 0) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                               SCIM_ERR_INVALID_VALUE,
                               "\"maxEvents\" must be a non-negative "
                               "integer");
            return;
        }

        poll->max = n > NGX_HTTP_SCIM_FEED_MAX ? NGX_HTTP_SCIM_FEED_MAX
                                               : (ngx_uint_t) n;
    }

    v = json_object_get(ctx->body, "returnImmediately");

    if (v != NULL && !json_is_boolean(v)) {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_VALUE,
                           "\"returnImmediately\" must be a boolean");
        return;
    }

    if (ngx_http_scim_feed_acks(ctx, poll) != NGX_OK) {
        return;
    }

    ngx_str_set(&poll->group, "scim-feed");
    ngx_str_set(&poll->consumer, "feed");
    poll->iss = ctx->base_url;
    poll->aud = ctx->tenant;

    ngx_http_scim_issued(ctx, ngx_scim_store_poll(
                                  ngx_http_scim_call(ctx,
                                                     ngx_http_scim_feed_done),
                                  poll));
}


/* "ack" and the names of "setErrs": the jtis the feed need not resend */

static ngx_int_t
ngx_http_scim_feed_acks(ngx_http_scim_ctx_t *ctx, ngx_scim_store_poll_t *poll)
{
    size_t       i, n;
    json_t      *ack, *errs, *v;
    const char  *key;

    ack = json_object_get(ctx->body, "ack");
    errs = json_object_get(ctx->body, "setErrs");

    if ((ack != NULL && !json_is_array(ack))
        || (errs != NULL && !json_is_object(errs)))
    {
        ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST, SCIM_ERR_INVALID_VALUE,
                           "\"ack\" must be an array of jti strings and "
                           "\"setErrs\" an object");
        return NGX_ERROR;
    }

    n = json_array_size(ack) + json_object_size(errs);

    if (n == 0) {
        return NGX_OK;
    }

    poll->ack = ngx_palloc(ctx->request->pool, n * sizeof(ngx_str_t));
    if (poll->ack == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_ERROR;
    }

    json_array_foreach(ack, i, v) {
        if (!json_is_string(v)) {
            ngx_http_scim_fail(ctx, NGX_HTTP_BAD_REQUEST,
                               SCIM_ERR_INVALID_VALUE,
                               "\"ack\" must be an array of jti strings");
            return NGX_ERROR;
        }

        poll->ack[poll->nack].data = (u_char *) json_string_value(v);
        poll->ack[poll->nack++].len = json_string_length(v);
    }

    json_object_foreach(errs, key, v) {
        ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                      "scim events: the receiver could not take SET "
                      "\"%s\" of tenant \"%V\"", key, &ctx->tenant);

        poll->ack[poll->nack].data = (u_char *) key;
        poll->ack[poll->nack++].len = ngx_strlen(key);
    }

    return NGX_OK;
}


/* the store's {more, jti, claims, ...}: {"sets": {...}, "moreAvailable"} */

static void
ngx_http_scim_feed_done(ngx_http_scim_ctx_t *ctx, ngx_scim_store_res_t *res)
{
    json_t      *out, *sets, *set;
    ngx_str_t   *ids;
    ngx_uint_t   i;

    ids = res->ids;

    if (res->nids == 0 || res->nids % 2 != 1) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    out = ngx_http_scim_track(ctx->request, json_object());
    sets = json_object();

    if (out == NULL || sets == NULL
        || json_object_set_new(out, "sets", sets) != 0
        || json_object_set_new(out, "moreAvailable",
                               json_boolean(ids[0].len == 1
                                            && ids[0].data[0] == '1'))
           != 0)
    {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 1; i + 1 < res->nids; i += 2) {
        set = ngx_http_scim_feed_set(ctx, &ids[i + 1]);

        if (set == NULL
            || json_object_setn_new(sets, (char *) ids[i].data, ids[i].len,
                                    set)
               != 0)
        {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_http_scim_reply(ctx, NGX_HTTP_OK, out, 0);
}


/* a SET: an unsecured JWT of the claims, header.payload. (RFC 7519 6.1) */

static json_t *
ngx_http_scim_feed_set(ngx_http_scim_ctx_t *ctx, ngx_str_t *claims)
{
    u_char     *start, *p;
    ngx_str_t   src, dst;

    static ngx_str_t  header = ngx_string(NGX_HTTP_SCIM_SET_HEADER);

    start = ngx_pnalloc(ctx->request->pool,
                        ngx_base64_encoded_length(header.len)
                        + ngx_base64_encoded_length(claims->len) + 2);
    if (start == NULL) {
        return NULL;
    }

    dst.data = start;
    ngx_encode_base64url(&dst, &header);
    p = start + dst.len;
    *p++ = '.';

    dst.data = p;
    src = *claims;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;
    *p++ = '.';

    return json_stringn((char *) start, p - start);
}


/*
 * /ServiceProviderConfig's "securityEvents" (RFC 9967 4) when this
 * location's writes make events: the event URIs of its SETs; no
 * asynchronous requests
 */

ngx_int_t
ngx_http_scim_spc_events(ngx_http_scim_ctx_t *ctx, json_t *spc)
{
    json_t  *ev;

    if (ctx->slcf->events_maxlen == 0) {
        return NGX_OK;
    }

    ev = json_pack("{s:s,s:[s,s,s,s,s,s]}",
                   "asyncRequest", "none",
                   "eventUris",
                   "urn:ietf:params:scim:event:prov:create:notice",
                   "urn:ietf:params:scim:event:prov:put:notice",
                   "urn:ietf:params:scim:event:prov:patch:notice",
                   "urn:ietf:params:scim:event:prov:delete",
                   "urn:ietf:params:scim:event:prov:activate",
                   "urn:ietf:params:scim:event:prov:deactivate");

    if (ev == NULL || json_object_set_new(spc, "securityEvents", ev) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}
