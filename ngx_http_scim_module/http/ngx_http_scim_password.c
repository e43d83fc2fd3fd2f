
/*
 * ngx_http_scim_module: "password" hashing, off the event loop.
 *
 * A password (writeOnly, returned never) is stored only as the PHC string
 * of an Argon2id hash with OWASP's parameters:
 *
 *     $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
 *
 * 16 random bytes of salt (OpenSSL RAND_bytes), a 32-byte hash, both in
 * unpadded standard base64: what libargon2, argon2-cffi, node-argon2,
 * golang.org/x/crypto users and others verify.
 *
 * One hash costs some 20 ms of CPU and 19 MiB of memory, so it runs in a
 * thread of the pool that scim_password_thread_pool names ("default" if
 * none) while the request waits; the event loop goes on serving.  The
 * threads of that pool bound the memory: 19 MiB each, kept by a thread
 * between its hashes but given back to the kernel whenever it needs
 * memory (MADV_FREE, ngx_http_scim_argon2_alloc()).
 *
 * A task owns its memory (a pool of its own, never the request's): a
 * request freed while its hash runs only detaches the task
 * (ngx_http_scim_password_cancel() from the request's cleanup), and the
 * completion handler then frees the task without touching the request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <argon2.h>
#include <openssl/rand.h>

#include "ngx_http_scim_module.h"


#if !(NGX_THREADS)
#error ngx_http_scim_module needs nginx built with --with-threads
#endif


#define NGX_HTTP_SCIM_ARGON2_T        2
#define NGX_HTTP_SCIM_ARGON2_M        19456     /* KiB */
#define NGX_HTTP_SCIM_ARGON2_P        1
#define NGX_HTTP_SCIM_SALT_LEN        16
#define NGX_HTTP_SCIM_HASH_LEN        32
#define NGX_HTTP_SCIM_HASH_NICE       10        /* below the event loop */

#define NGX_HTTP_SCIM_PHC_PREFIX                                              \
    "$argon2id$v=19$m=19456,t=2,p=1$"


typedef struct {
    ngx_http_scim_ctx_t        *ctx;           /* NULL: request gone */
    ngx_pool_t                 *pool;          /* the task's own */
    json_t                     *doc;
    ngx_http_scim_step_pt       next;

    ngx_event_t                 keep;          /* the worker's exit waits */

    u_char                     *clear;
    size_t                      len;
    u_char                      salt[NGX_HTTP_SCIM_SALT_LEN];
    u_char                      hash[NGX_HTTP_SCIM_HASH_LEN];
    int                         rc;
} ngx_http_scim_pw_task_t;


static void ngx_http_scim_password_thread(void *data, ngx_log_t *log);
static void ngx_http_scim_password_nice(void);
static void ngx_http_scim_password_done(ngx_event_t *ev);
static void ngx_http_scim_password_next(ngx_http_scim_ctx_t *ctx,
    ngx_http_scim_pw_task_t *t);
static void ngx_http_scim_password_free(ngx_http_scim_pw_task_t *t);
static void ngx_http_scim_password_keep(ngx_event_t *ev);
static u_char *ngx_http_scim_base64(u_char *p, u_char *src, size_t len);
static int ngx_http_scim_argon2_alloc(uint8_t **memory, size_t size);
static void ngx_http_scim_argon2_free(uint8_t *memory, size_t size);


/* scim_password_thread_pool <name>; the pool must exist (thread_pool) */

char *
ngx_http_scim_password_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t  *value;

    if (slcf->pw_pool != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs the name of a thread pool";
    }

    /* nginx checks at the end of the configuration that it is defined */

    slcf->pw_pool = ngx_thread_pool_add(cf, &value[1]);
    if (slcf->pw_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* in a scim location without the directive: nginx's pool "default" */

ngx_int_t
ngx_http_scim_password_merge(ngx_conf_t *cf, ngx_http_scim_loc_conf_t *prev,
    ngx_http_scim_loc_conf_t *conf)
{
    ngx_conf_merge_ptr_value(conf->pw_pool, prev->pw_pool, NULL);

    if (conf->enable && conf->pw_pool == NULL) {
        conf->pw_pool = ngx_thread_pool_add(cf, NULL);
        if (conf->pw_pool == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Hashes doc's "password" (a string) in place, then continues with
 * next(ctx, NULL); without a password next runs at once.  An error is
 * answered here.
 */

void
ngx_http_scim_password_hash(ngx_http_scim_ctx_t *ctx, json_t *doc,
    ngx_http_scim_step_pt next)
{
    json_t                   *pw;
    ngx_pool_t               *pool;
    ngx_thread_task_t        *task;
    ngx_http_request_t       *r;
    ngx_http_scim_pw_task_t  *t;

    r = ctx->request;

    pw = json_object_get(doc, "password");

    if (!json_is_string(pw)) {
        next(ctx, NULL);
        return;
    }

    /* a modify that retries after a conflict hashes the same only once */

    if (ctx->pw_hash && ctx->pw_clear && json_equal(pw, ctx->pw_clear)) {
        if (json_object_set(doc, "password", ctx->pw_hash) != 0) {
            ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        next(ctx, NULL);
        return;
    }

    /*
     * Not the request's pool, nor its log: the task may outlive the
     * request (see ngx_http_scim_password_cancel()).
     */

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    task = ngx_thread_task_alloc(pool, sizeof(ngx_http_scim_pw_task_t));
    if (task == NULL) {
        ngx_destroy_pool(pool);
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    t = task->ctx;
    t->pool = pool;
    t->len = json_string_length(pw);

    t->clear = ngx_pnalloc(pool, t->len + 1);
    if (t->clear == NULL) {
        ngx_destroy_pool(pool);
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(t->clear, json_string_value(pw), t->len);

    if (RAND_bytes(t->salt, sizeof(t->salt)) != 1) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim: RAND_bytes() failed for a password salt");
        ngx_http_scim_password_free(t);
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the clear text, to know it again on a retry */

    ctx->pw_clear = ngx_http_scim_track(r, json_incref(pw));
    ctx->pw_hash = NULL;

    if (ctx->pw_clear == NULL) {
        ngx_http_scim_password_free(t);
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    t->ctx = ctx;
    t->doc = doc;
    t->next = next;

    task->handler = ngx_http_scim_password_thread;
    task->event.handler = ngx_http_scim_password_done;
    task->event.data = t;
    task->event.log = ngx_cycle->log;

    if (ngx_thread_task_post(ctx->slcf->pw_pool, task) != NGX_OK) {
        /* the pool's queue is full: logged by nginx */
        ngx_http_scim_password_free(t);
        ngx_http_scim_fail(ctx, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                           "too many passwords are being hashed; "
                           "retry later");
        return;
    }

    ctx->pw_task = t;

    /*
     * A worker that shuts down (a reload) exits once no timer it may not
     * cancel is left, closing the connections still open: this one keeps
     * it until the hash is done and answered.
     */

    t->keep.handler = ngx_http_scim_password_keep;
    t->keep.data = t;
    t->keep.log = ngx_cycle->log;
    t->keep.cancelable = 0;

    ngx_add_timer(&t->keep, 60000);
}


static void
ngx_http_scim_password_keep(ngx_event_t *ev)
{
    /* still hashing (a long queue): wait on */

    ngx_add_timer(ev, 60000);
}


/* from the request's cleanup: the task runs on, and frees itself */

void
ngx_http_scim_password_cancel(ngx_http_scim_ctx_t *ctx)
{
    ngx_http_scim_pw_task_t  *t;

    t = ctx->pw_task;

    if (t == NULL) {
        return;
    }

    t->ctx = NULL;
    t->doc = NULL;
    ctx->pw_task = NULL;
}


/* in a thread of the pool: nothing here may touch the request */

static void
ngx_http_scim_password_thread(void *data, ngx_log_t *log)
{
    ngx_http_scim_pw_task_t  *t = data;

    argon2_context  a;

    ngx_http_scim_password_nice();

    ngx_memzero(&a, sizeof(argon2_context));

    a.out = t->hash;
    a.outlen = sizeof(t->hash);
    a.pwd = t->clear;
    a.pwdlen = (uint32_t) t->len;
    a.salt = t->salt;
    a.saltlen = sizeof(t->salt);
    a.t_cost = NGX_HTTP_SCIM_ARGON2_T;
    a.m_cost = NGX_HTTP_SCIM_ARGON2_M;
    a.lanes = NGX_HTTP_SCIM_ARGON2_P;
    a.threads = NGX_HTTP_SCIM_ARGON2_P;
    a.version = ARGON2_VERSION_13;
    a.allocate_cbk = ngx_http_scim_argon2_alloc;
    a.free_cbk = ngx_http_scim_argon2_free;
    a.flags = ARGON2_DEFAULT_FLAGS;

    if (t->len > ARGON2_MAX_PWD_LENGTH) {
        t->rc = ARGON2_PWD_TOO_LONG;

    } else {
        t->rc = argon2_ctx(&a, Argon2_id);
    }

    ngx_explicit_memzero(t->clear, t->len);
}


/*
 * A thread that hashes runs at a lower priority than the worker's event
 * loop (Linux: a nice value per thread), so that with every core busy
 * hashing the requests of the worker still get the CPU first.
 */

static void
ngx_http_scim_password_nice(void)
{
    int         prio;
    ngx_tid_t   tid;

    static __thread ngx_uint_t  done;

    if (done) {
        return;
    }

    done = 1;
    tid = ngx_thread_tid();

    errno = 0;
    prio = getpriority(PRIO_PROCESS, (id_t) tid);

    if (errno == 0 && prio < NGX_HTTP_SCIM_HASH_NICE) {
        (void) setpriority(PRIO_PROCESS, (id_t) tid,
                           ngx_min(prio + NGX_HTTP_SCIM_HASH_NICE, 19));
    }
}


/* back on the event loop */

static void
ngx_http_scim_password_done(ngx_event_t *ev)
{
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_scim_ctx_t         *ctx;
    ngx_http_scim_pw_task_t     *t;
    ngx_http_scim_json_arena_t  *prev;

    t = ev->data;
    ctx = t->ctx;

    ngx_http_scim_json_pool_check(ev->log);

    if (ctx == NULL) {
        /* the request was freed meanwhile */
        ngx_http_scim_password_free(t);
        return;
    }

    ctx->pw_task = NULL;

    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    /* (ctx may be gone when next returns) */

    prev = ngx_http_scim_json_pool(ctx->json_pool);
    ngx_http_scim_password_next(ctx, t);
    (void) ngx_http_scim_json_pool(prev);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_scim_password_next(ngx_http_scim_ctx_t *ctx,
    ngx_http_scim_pw_task_t *t)
{
    u_char                    phc[sizeof(NGX_HTTP_SCIM_PHC_PREFIX)
                                  + ngx_base64_encoded_length(
                                        NGX_HTTP_SCIM_SALT_LEN)
                                  + ngx_base64_encoded_length(
                                        NGX_HTTP_SCIM_HASH_LEN)];
    u_char                   *p;
    json_t                   *h;
    ngx_connection_t         *c;
    ngx_http_request_t       *r;
    ngx_http_scim_step_pt     next;

    r = ctx->request;
    c = r->connection;

    if (t->rc != ARGON2_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "scim: hashing a password failed: %s",
                      argon2_error_message(t->rc));
        ngx_http_scim_password_free(t);
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_cpymem(phc, NGX_HTTP_SCIM_PHC_PREFIX,
                   sizeof(NGX_HTTP_SCIM_PHC_PREFIX) - 1);
    p = ngx_http_scim_base64(p, t->salt, sizeof(t->salt));
    *p++ = '$';
    p = ngx_http_scim_base64(p, t->hash, sizeof(t->hash));

    h = ngx_http_scim_track(r, json_stringn((char *) phc, p - phc));

    if (h == NULL || json_object_set(t->doc, "password", h) != 0) {
        ngx_http_scim_password_free(t);
        ngx_http_scim_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->pw_hash = h;
    next = t->next;

    ngx_http_scim_password_free(t);

    next(ctx, NULL);
}


static void
ngx_http_scim_password_free(ngx_http_scim_pw_task_t *t)
{
    if (t->keep.timer_set) {
        ngx_del_timer(&t->keep);
    }

    ngx_explicit_memzero(t->clear, t->len);
    ngx_explicit_memzero(t->hash, sizeof(t->hash));

    ngx_destroy_pool(t->pool);
}


/* standard base64 without padding, as the PHC string format has it */

static u_char *
ngx_http_scim_base64(u_char *p, u_char *src, size_t len)
{
    ngx_str_t  dst, in;

    in.data = src;
    in.len = len;
    dst.data = p;

    ngx_encode_base64(&dst, &in);

    while (dst.len && dst.data[dst.len - 1] == '=') {
        dst.len--;
    }

    return p + dst.len;
}


/*
 * Argon2's 19 MiB straight from the kernel, kept by the thread for its
 * next hash: a fresh mapping costs a page fault for each of its 4,864
 * pages, a fifth of a hash's time.  Between hashes the pages are
 * MADV_FREE: the kernel takes them back whenever it needs memory, and
 * until then the next hash reuses them without a fault.  libargon2 wipes
 * the memory before it calls the free callback (clear_internal_memory),
 * so nothing of a password stays in them.  malloc() would instead keep
 * the memory in each thread's arena, in use, for good.
 */

static __thread uint8_t  *ngx_http_scim_argon2_mem;
static __thread size_t    ngx_http_scim_argon2_size;


static int
ngx_http_scim_argon2_alloc(uint8_t **memory, size_t size)
{
    void  *p;

    if (ngx_http_scim_argon2_mem != NULL
        && ngx_http_scim_argon2_size == size)
    {
        p = ngx_http_scim_argon2_mem;
        ngx_http_scim_argon2_mem = NULL;

        *memory = p;
        return ARGON2_OK;
    }

    p = mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS,
             -1, 0);

    *memory = (p == MAP_FAILED) ? NULL : p;

    return *memory ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}


static void
ngx_http_scim_argon2_free(uint8_t *memory, size_t size)
{
#ifdef MADV_FREE

    if (ngx_http_scim_argon2_mem == NULL
        && madvise(memory, size, MADV_FREE) == 0)
    {
        ngx_http_scim_argon2_mem = memory;
        ngx_http_scim_argon2_size = size;
        return;
    }

#endif

    (void) munmap(memory, size);
}
