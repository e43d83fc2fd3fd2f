
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


static ngx_int_t ngx_http_scim_event_paths(ngx_http_scim_ctx_t *ctx,
    ngx_str_t *out);
static ngx_int_t ngx_http_scim_event_dup(ngx_http_scim_ctx_t *ctx,
    const char *s, ngx_str_t *out);


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

    if (ctx->method == NGX_HTTP_PATCH) {
        return ngx_http_scim_event_paths(ctx, &ev->paths);
    }

    return NGX_OK;
}


/*
 * A PATCH's paths, as a JSON array: each operation's "path", or the
 * names in the value of one without; the first NGX_HTTP_SCIM_EVENT_PATHS
 */

static ngx_int_t
ngx_http_scim_event_paths(ngx_http_scim_ctx_t *ctx, ngx_str_t *out)
{
    char        *text;
    size_t       i;
    json_t      *ops, *op, *path, *value, *v, *list;
    ngx_int_t    rc;
    const char  *key;

    ops = json_object_get(ctx->body, "Operations");

    if (!json_is_array(ops)) {
        return NGX_OK;
    }

    list = json_array();
    if (list == NULL) {
        return NGX_ERROR;
    }

    json_array_foreach(ops, i, op) {
        path = NULL;
        value = NULL;

        json_object_foreach(op, key, v) {
            if (ngx_strcasecmp((u_char *) key, (u_char *) "path") == 0) {
                path = v;

            } else if (ngx_strcasecmp((u_char *) key, (u_char *) "value")
                       == 0)
            {
                value = v;
            }
        }

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
    free(text);

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
