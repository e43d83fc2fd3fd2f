
/*
 * ngx_http_scim_module: a GET of a large group, streamed (issue 11).
 *
 * A GET of a group with its members reads the group and its first
 * slice of members (store/lua/slice.lua, scim_members_slice of them);
 * when that is all of them, the answer is built as before (read.c).
 * Otherwise the answer is sent as it is read: the header (200, ETag, no
 * Content-Length: chunked in HTTP/1.1), then the group up to its
 * "members", then each slice as it arrives, then the end.  The next
 * slice is asked for only once the client has taken the previous one
 * (the output chain drained), so that the worker holds a slice or two
 * whatever the group's size, and each Redis call is short.
 *
 * The bytes are those of the answer built whole: "members" is the last
 * attribute a group's answer shows (read.c appends it to the stored
 * document, whose attributes come first), the members come in the same
 * order (that of their ids), and each slice goes through the same
 * presentation (the projection, "$ref") as the whole list would.
 *
 * Consistency: the group's document and version are those of the first
 * read; each slice shows the members as they are when it is read, and
 * the next one starts after the last id read, so that a member added or
 * removed meanwhile may show or not, but none shows twice.
 *
 * An error of Redis after the header was sent cannot be told to the
 * client but by cutting the answer: the connection is closed (an
 * incomplete chunked answer), and the error logged.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"
#include "ngx_http_scim_resource.h"


#define NGX_HTTP_SCIM_STREAM_POOL  16384


typedef struct {
    ngx_http_scim_ctx_t        *ctx;
    ngx_pool_t                 *pool;          /* the slice being sent */
    ngx_pool_t                 *next;          /* the call in flight's */
    ngx_str_t                   after;         /* the next slice's start */
    ngx_str_t                   whole;         /* the answer without
                                                  members, serialized */
    ngx_chain_t                 out;
    ngx_uint_t                  slices;
    unsigned                    opened:1;      /* "members":[ sent */
    unsigned                    any:1;         /* a member sent */
} ngx_http_scim_stream_t;


static ngx_int_t ngx_http_scim_stream_head(ngx_http_scim_stream_t *st,
    json_t *doc);
static void ngx_http_scim_stream_slice(ngx_http_scim_stream_t *st,
    ngx_scim_store_res_t *res);
static ngx_buf_t *ngx_http_scim_stream_buf(ngx_http_scim_stream_t *st,
    ngx_scim_store_doc_t *d, ngx_uint_t last);
static void ngx_http_scim_stream_next(ngx_http_scim_stream_t *st);
static void ngx_http_scim_stream_done(void *data, ngx_scim_store_res_t *res);
static void ngx_http_scim_stream_write(ngx_http_request_t *r);
static void ngx_http_scim_stream_cleanup(void *data);


/* whether a GET of ctx's group reads its members a slice at a time */

ngx_int_t
ngx_http_scim_stream_wanted(ngx_http_scim_ctx_t *ctx)
{
    return ctx->resource == NGX_HTTP_SCIM_R_GROUPS && ctx->want_members
           && ctx->slcf->members_slice > 0 && ctx->done == NULL
           && ctx->request == ctx->request->main;
}


/*
 * The first read found more members than a slice: doc is the group
 * without them (expanded, not presented); res holds the first slice.
 */

void
ngx_http_scim_stream_start(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res, json_t *doc)
{
    ngx_int_t                rc;
    ngx_pool_cleanup_t      *cln;
    ngx_http_request_t      *r;
    ngx_http_scim_stream_t  *st;

    r = ctx->request;

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_stream_t));
    if (st == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_http_scim_stream_cleanup;
    cln->data = st;

    st->ctx = ctx;
    ctx->stream = st;

    if (ngx_http_scim_stream_head(st, doc) != NGX_OK) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, NGX_HTTP_SCIM_CONTENT_TYPE);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = -1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_scim_finish(ctx, rc);
        return;
    }

    ngx_http_scim_stream_slice(st, res);
}


/* the ETag, and the answer without its members */

static ngx_int_t
ngx_http_scim_stream_head(ngx_http_scim_stream_t *st, json_t *doc)
{
    size_t                n;
    json_t               *out, *v;
    ngx_http_scim_ctx_t  *ctx;

    ctx = st->ctx;

    v = json_object_get(json_object_get(doc, "meta"), "version");

    if (json_is_string(v)
        && ngx_http_scim_add_header(ctx->request, "ETag",
                                    json_string_value(v),
                                    &ctx->request->headers_out.etag)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    out = ngx_http_scim_present(ctx, doc);
    if (out == NULL) {
        return NGX_ERROR;
    }

    n = scim_json_dumpb(out, NULL, 0);

    st->whole.data = ngx_pnalloc(ctx->request->pool, n);
    if (st->whole.data == NULL) {
        return NGX_ERROR;
    }

    st->whole.len = scim_json_dumpb(out, (char *) st->whole.data, n);

    if (st->whole.len != n || n < 2 || st->whole.data[n - 1] != '}') {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a slice read: out to the client, then the next one when it took it */

static void
ngx_http_scim_stream_slice(ngx_http_scim_stream_t *st,
    ngx_scim_store_res_t *res)
{
    ngx_int_t             rc;
    ngx_buf_t            *b;
    ngx_uint_t            last;
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_scim_ctx_t  *ctx;

    ctx = st->ctx;
    r = ctx->request;
    c = r->connection;

    /* the previous slice was sent whole: its pool goes */

    if (st->pool) {
        ngx_destroy_pool(st->pool);
    }

    st->pool = st->next;
    st->next = NULL;
    ctx->args_pool = NULL;

    if (st->pool == NULL) {
        st->pool = ngx_create_pool(NGX_HTTP_SCIM_STREAM_POOL, c->log);
        if (st->pool == NULL) {
            ngx_http_scim_finish(ctx, NGX_ERROR);
            return;
        }
    }

    st->slices++;

    last = (res->nids == 0);

    if (!last) {
        st->after.len = res->ids[0].len;
        st->after.data = ngx_pstrdup(st->pool, &res->ids[0]);

        if (st->after.data == NULL) {
            ngx_http_scim_finish(ctx, NGX_ERROR);
            return;
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "scim stream: slice %ui, %ui members%s", st->slices,
                   res->docs[0].nrefs, last ? ", the last" : "");

    b = ngx_http_scim_stream_buf(st, &res->docs[0], last);
    if (b == NULL) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "scim: a group's members could not be presented: "
                      "the answer is cut");
        ngx_http_scim_finish(ctx, NGX_ERROR);
        return;
    }

    st->out.buf = b;
    st->out.next = NULL;

    rc = ngx_http_output_filter(r, &st->out);

    if (last || rc == NGX_ERROR) {
        ngx_http_scim_finish(ctx, rc);
        return;
    }

    if (r->buffered || c->buffered || r->out) {
        /* the client has not taken it all: wait until it has */
        r->write_event_handler = ngx_http_scim_stream_write;
        ngx_http_scim_stream_write(r);
        return;
    }

    ngx_http_scim_stream_next(st);
}


/*
 * The bytes of a slice: the group up to "members" before the first
 * member, the members presented (the projection, "$ref") as the whole
 * list would be, and the end after the last slice.  A projection may
 * leave no member at all ("members[type eq ...]"): the answer is then
 * the group without "members", as when it is built whole.
 */

static ngx_buf_t *
ngx_http_scim_stream_buf(ngx_http_scim_stream_t *st,
    ngx_scim_store_doc_t *d, ngx_uint_t last)
{
    size_t                 size, n;
    json_t                *mini, *list, *item, *out, *m;
    ngx_buf_t             *b;
    ngx_uint_t             i;
    ngx_scim_store_ref_t  *ref;
    ngx_http_scim_ctx_t   *ctx;

    static const char      open[] = "\"members\":[";

    ctx = st->ctx;
    out = NULL;
    m = NULL;

    mini = json_object();
    list = json_array();

    if (mini == NULL || list == NULL
        || json_object_set_new(mini, "members", list) != 0)
    {
        json_decref(mini);
        return NULL;
    }

    /* as ngx_http_scim_expand_raw() makes them */

    for (i = 0; i < d->nrefs; i++) {
        ref = &d->refs[i];

        item = json_pack("{s:s%,s:s%,s:s%}",
                         "value", ref->id.data, ref->id.len,
                         "display", ref->display.data, ref->display.len,
                         "type", ref->type.data, ref->type.len);

        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(mini);
            return NULL;
        }
    }

    if (d->nrefs) {
        out = scim_resource_present(ctx->rt, mini,
                                    (const char *) ctx->base_url.data,
                                    ctx->projection);
        if (out == NULL) {
            json_decref(mini);
            return NULL;
        }

        m = json_object_get(out, "members");
    }

    /* the size: what comes before, the members, the end */

    size = st->whole.len + sizeof(open) + 2;

    for (i = 0; i < json_array_size(m); i++) {
        size += scim_json_dumpb(json_array_get(m, i), NULL, 0) + 1;
    }

    b = ngx_create_temp_buf(st->pool, size);
    if (b == NULL) {
        json_decref(out);
        json_decref(mini);
        return NULL;
    }

    for (i = 0; i < json_array_size(m); i++) {
        if (!st->opened) {
            /* the group without its closing brace, then "members" */

            b->last = ngx_cpymem(b->last, st->whole.data, st->whole.len - 1);

            if (st->whole.len > 2) {
                *b->last++ = ',';
            }

            b->last = ngx_cpymem(b->last, open, sizeof(open) - 1);
            st->opened = 1;
        }

        if (st->any) {
            *b->last++ = ',';
        }

        item = json_array_get(m, i);
        n = scim_json_dumpb(item, NULL, 0);
        b->last += scim_json_dumpb(item, (char *) b->last, n);
        st->any = 1;
    }

    json_decref(out);
    json_decref(mini);

    if (last) {
        if (st->opened) {
            *b->last++ = ']';
            *b->last++ = '}';

        } else {
            b->last = ngx_cpymem(b->last, st->whole.data, st->whole.len);
        }

        b->last_buf = 1;
        b->last_in_chain = 1;

    } else {
        b->flush = 1;
    }

    if (b->last == b->pos) {
        /* nothing to send yet: a flush alone */
        b->temporary = 0;
        b->sync = 1;
    }

    return b;
}


/* the next slice, once the previous one was taken */

static void
ngx_http_scim_stream_next(ngx_http_scim_stream_t *st)
{
    ngx_int_t               rc;
    ngx_scim_store_call_t  *call;
    ngx_http_scim_ctx_t    *ctx;

    ctx = st->ctx;

    st->next = ngx_create_pool(NGX_HTTP_SCIM_STREAM_POOL,
                               ctx->request->connection->log);
    if (st->next == NULL) {
        ngx_http_scim_finish(ctx, NGX_ERROR);
        return;
    }

    /* the call keeps its arguments there until its reply */
    ctx->args_pool = st->next;

    call = ngx_http_scim_call(ctx, NULL);

    /* no SCIM error can follow the bytes sent: a failure cuts them */
    call->handler = ngx_http_scim_stream_done;

    rc = ngx_scim_store_slice(call, &ctx->id, &st->after,
                              ctx->slcf->members_slice, 0);

    if (rc != NGX_OK) {
        ctx->cmd = NULL;

        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "scim: the store is unavailable while a group's "
                      "members are sent: the answer is cut");

        ngx_http_scim_finish(ctx, NGX_ERROR);
    }
}


static void
ngx_http_scim_stream_done(void *data, ngx_scim_store_res_t *res)
{
    ngx_http_scim_ctx_t  *ctx = data;

    ctx->cmd = NULL;

    if (res->status != NGX_SCIM_STORE_OK || res->ndocs != 1) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "scim: the store failed while a group's members are "
                      "sent: the answer is cut");
        ngx_http_scim_finish(ctx, NGX_ERROR);
        return;
    }

    ngx_http_scim_stream_slice(ctx->stream, res);
}


/* the client is slow: the next slice once it took what was sent */

static void
ngx_http_scim_stream_write(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_http_scim_ctx_t       *ctx;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;
    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "client timed out");
        c->timedout = 1;
        ngx_http_scim_finish(ctx, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    rc = ngx_http_output_filter(r, NULL);

    if (rc == NGX_ERROR) {
        ngx_http_scim_finish(ctx, NGX_ERROR);
        return;
    }

    if (r->buffered || c->buffered || r->out) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        if (!wev->delayed) {
            ngx_add_timer(wev, clcf->send_timeout);
        }

        if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
            ngx_http_scim_finish(ctx, NGX_ERROR);
        }

        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_scim_stream_next(ctx->stream);
}


static void
ngx_http_scim_stream_cleanup(void *data)
{
    ngx_http_scim_stream_t  *st = data;

    /* the request's cleanup cancelled the call in flight before */

    if (st->next) {
        ngx_destroy_pool(st->next);
        st->next = NULL;
    }

    if (st->pool) {
        ngx_destroy_pool(st->pool);
        st->pool = NULL;
    }

    st->ctx->args_pool = NULL;
}
