
/*
 * ngx_http_scim_module: the event adapter between a hiredis asynchronous
 * context and nginx's event loop.  ac->ev.data is the context's own
 * ngx_connection_t, c->data the context.  The socket is registered with
 * nginx once (edge-triggered where the event method allows it); writes
 * are posted events, so that the commands of one loop iteration leave in
 * one write(2).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <sys/ioctl.h>

#include "ngx_scim_redis.h"


static void ngx_scim_redis_add_read(void *privdata);
static void ngx_scim_redis_del_read(void *privdata);
static void ngx_scim_redis_add_write(void *privdata);
static void ngx_scim_redis_del_write(void *privdata);
static void ngx_scim_redis_cleanup(void *privdata);
static void ngx_scim_redis_read_handler(ngx_event_t *ev);
static void ngx_scim_redis_write_handler(ngx_event_t *ev);


ngx_int_t
ngx_scim_redis_attach(ngx_scim_redis_conn_t *rc)
{
    ngx_event_t       *rev, *wev;
    ngx_connection_t  *c;

    c = ngx_get_connection(rc->ac->c.fd, rc->server->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = rc->ac;
    rc->c = c;
    rc->want_write = 0;

    rev = c->read;
    wev = c->write;

    rev->handler = ngx_scim_redis_read_handler;
    wev->handler = ngx_scim_redis_write_handler;
    rev->log = rc->server->log;
    wev->log = rc->server->log;

    /* the socket is connecting: writable means connected */
    wev->ready = 0;

    if (ngx_add_conn && (ngx_event_flags & NGX_USE_CLEAR_EVENT)) {
        if (ngx_add_conn(c) != NGX_OK) {
            goto failed;
        }

    } else {
        if (ngx_add_event(rev, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            goto failed;
        }
    }

    rc->ac->ev.data = c;
    rc->ac->ev.addRead = ngx_scim_redis_add_read;
    rc->ac->ev.delRead = ngx_scim_redis_del_read;
    rc->ac->ev.addWrite = ngx_scim_redis_add_write;
    rc->ac->ev.delWrite = ngx_scim_redis_del_write;
    rc->ac->ev.cleanup = ngx_scim_redis_cleanup;

    return NGX_OK;

failed:

    /* hiredis closes the fd when the context is freed */
    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);
    rc->c = NULL;

    return NGX_ERROR;
}


static void
ngx_scim_redis_add_read(void *privdata)
{
    /* the read event stays registered for the connection's life */
}


static void
ngx_scim_redis_del_read(void *privdata)
{
}


static void
ngx_scim_redis_add_write(void *privdata)
{
    ngx_event_t            *wev;
    ngx_connection_t       *c = privdata;
    redisAsyncContext      *ac;
    ngx_scim_redis_conn_t  *rc;

    if (c == NULL) {
        return;
    }

    ac = c->data;
    rc = ac->data;

    if (rc->c != c) {
        return;
    }

    rc->want_write = 1;
    wev = c->write;

    if (!(ngx_event_flags & NGX_USE_CLEAR_EVENT) || !ngx_add_conn) {
        if (!wev->active) {
            (void) ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
        }

        return;
    }

    /*
     * Edge-triggered: a socket that is already writable gives no new
     * event, so the write is posted; it runs once per loop iteration for
     * all the commands queued meanwhile.
     */

    if (wev->ready && !wev->posted) {
        ngx_post_event(wev, &ngx_posted_events);
    }
}


static void
ngx_scim_redis_del_write(void *privdata)
{
    ngx_event_t            *wev;
    ngx_connection_t       *c = privdata;
    redisAsyncContext      *ac;
    ngx_scim_redis_conn_t  *rc;

    if (c == NULL) {
        return;
    }

    ac = c->data;
    rc = ac->data;

    if (rc->c != c) {
        return;
    }

    rc->want_write = 0;
    wev = c->write;

    if ((!(ngx_event_flags & NGX_USE_CLEAR_EVENT) || !ngx_add_conn)
        && wev->active)
    {
        (void) ngx_del_event(wev, NGX_WRITE_EVENT, 0);
    }
}


/*
 * hiredis 0.14 may call this more than once for a context (on an error,
 * then when it frees the context): the hooks are removed the first time.
 */

static void
ngx_scim_redis_cleanup(void *privdata)
{
    ngx_connection_t       *c = privdata;
    redisAsyncContext      *ac;
    ngx_scim_redis_conn_t  *rc;

    if (c == NULL) {
        return;
    }

    ac = c->data;
    rc = ac->data;

    if (rc->c == c) {
        rc->c = NULL;
        rc->want_write = 0;
    }

    ac->ev.data = NULL;
    ac->ev.addRead = NULL;
    ac->ev.delRead = NULL;
    ac->ev.addWrite = NULL;
    ac->ev.delWrite = NULL;
    ac->ev.cleanup = NULL;

    /*
     * nginx closes the socket; hiredis must not close it a second time
     * (by then the number may belong to another connection).
     */

    ngx_close_connection(c);
    ac->c.fd = -1;
}


static void
ngx_scim_redis_read_handler(ngx_event_t *ev)
{
    int                     n;
    ngx_connection_t       *c;
    redisAsyncContext      *ac;
    ngx_scim_redis_conn_t  *rc;

    c = ev->data;
    ac = c->data;
    rc = ac->data;

    if (rc->ac != ac) {
        return;
    }

    redisAsyncHandleRead(ac);

    /*
     * hiredis reads at most 16 KB a call; with edge-triggered events the
     * rest would wait for more data to arrive.  The context (and c) may
     * be gone after any call.
     */

    while (rc->ac == ac && rc->c == c) {
        if (ioctl(ac->c.fd, FIONREAD, &n) == -1 || n <= 0) {
            break;
        }

        redisAsyncHandleRead(ac);
    }
}


static void
ngx_scim_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    redisAsyncContext      *ac;
    ngx_scim_redis_conn_t  *rc;

    c = ev->data;
    ac = c->data;
    rc = ac->data;

    if (rc->ac != ac || rc->c != c || !rc->want_write) {
        return;
    }

    redisAsyncHandleWrite(ac);

    if (rc->ac == ac && rc->c == c && rc->want_write) {
        /* the socket buffer is full: wait for the edge */
        c->write->ready = 0;
    }
}
