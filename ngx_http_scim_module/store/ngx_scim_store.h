
/*
 * ngx_http_scim_module: the store's typed API.
 *
 * The glue asks for an operation on a tenant's users or groups (get,
 * find by index, page, scan, fetch, create, replace, member changes,
 * delete) and gets a typed result in a completion handler: a status,
 * a version, the stored documents' text with what is read with them,
 * ids.  Key names, the Lua scripts, their KEYS/ARGV and Redis replies
 * stay behind this header (store/ngx_scim_store.c, store/lua).
 *
 * Every operation is asynchronous: NGX_OK, and the handler runs once,
 * later (never from inside the call), unless the operation is cancelled;
 * NGX_DECLINED: the store is unavailable now (no handler); NGX_ERROR:
 * out of memory (no handler).  The call's pool holds the arguments; the
 * result and what it points to (documents' text, ids) are valid only
 * while the handler runs: copy what must outlive it.
 */

#ifndef _NGX_SCIM_STORE_H_INCLUDED_
#define _NGX_SCIM_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>


typedef struct ngx_scim_store_s     ngx_scim_store_t;
typedef struct ngx_scim_store_op_s  ngx_scim_store_op_t;


/*
 * a Redis to use: "scim_redis" and the scim_redis_* directives; the
 * address is the first of "scim_redis"; seeds: all of them (addresses
 * only), nseeds 0: the first alone
 */
typedef struct ngx_scim_store_conf_s  ngx_scim_store_conf_t;

struct ngx_scim_store_conf_s {
    ngx_str_t                   addr;          /* as configured */
    ngx_str_t                   host;          /* numeric, NUL-terminated */
    ngx_str_t                   unix_path;     /* NUL-terminated */
    in_port_t                   port;

    ngx_str_t                   password;
    ngx_int_t                   db;
    ngx_uint_t                  nconns;
    ngx_msec_t                  connect_timeout;
    ngx_msec_t                  timeout;

    ngx_scim_store_conf_t      *seeds;
    ngx_uint_t                  nseeds;
    ngx_uint_t                  wait_replicas; /* scim_redis_wait; 0: off */
    ngx_msec_t                  wait_timeout;
    /* scim_redis_sentinel: the primary of sentinel_name, as the
       Sentinels at sentinels[] ("host:port") say; addr is not used */
    ngx_str_t                   sentinel_name;
    ngx_str_t                  *sentinels;
    ngx_uint_t                  nsentinels;
    ngx_str_t                   sentinel_password;
};


typedef enum {
    NGX_SCIM_STORE_USER = 0,
    NGX_SCIM_STORE_GROUP
} ngx_scim_store_type_e;


typedef enum {
    NGX_SCIM_STORE_OK = 0,
    NGX_SCIM_STORE_NOT_FOUND,      /* no such document */
    NGX_SCIM_STORE_STALE,          /* not at the expected version */
    NGX_SCIM_STORE_CONFLICT,       /* a unique value is taken: conflict */
    NGX_SCIM_STORE_EXISTS,         /* the id is taken (create) */
    NGX_SCIM_STORE_BAD_MEMBER,     /* bad_member is no user or group, or
                                      closes a cycle, or is no user as a
                                      manager: see bad */
    NGX_SCIM_STORE_UNAVAILABLE,    /* no answer: connection lost, timeout,
                                      Redis loading or busy */
    NGX_SCIM_STORE_FAILED,         /* Redis refused it (logged) */
    NGX_SCIM_STORE_BAD_REPLY,      /* an answer of an unexpected shape */
    NGX_SCIM_STORE_FOLD,           /* delete_id: nothing changed; docs[0]
                                      is the stored document (bare), whose
                                      index values the caller folds for
                                      ngx_scim_store_delete */
    NGX_SCIM_STORE_CHANGED,        /* replace with sha1: the stored text
                                      is another, nothing was written;
                                      docs[0] is the document as get
                                      reads it */
    NGX_SCIM_STORE_MANY            /* find_external_id: more than one;
                                      ids are theirs */
} ngx_scim_store_status_e;


/* which unique value a CONFLICT is about */
typedef enum {
    NGX_SCIM_STORE_NAME = 1,       /* userName, a group's displayName */
    NGX_SCIM_STORE_EXTERNAL_ID
} ngx_scim_store_unique_e;


/* what is wrong with a BAD_MEMBER's id */
typedef enum {
    NGX_SCIM_STORE_BAD_UNKNOWN = 0,    /* a member that is no user or group
                                          of the tenant, or the group
                                          itself */
    NGX_SCIM_STORE_BAD_CYCLE,          /* a group member that holds the
                                          group, directly or not */
    NGX_SCIM_STORE_BAD_MANAGER         /* a manager that is no user of the
                                          tenant, or the user itself */
} ngx_scim_store_bad_e;


/* a group of a user, or a member of a group, as read with a document */
typedef struct {
    ngx_str_t                   id;
    ngx_str_t                   type;          /* "User" | "Group" */
    ngx_str_t                   display;
} ngx_scim_store_ref_t;


typedef struct {
    ngx_str_t                   text;          /* data NULL: found but of
                                                  an unexpected shape */
    ngx_str_t                   manager;       /* a user's manager's
                                                  display; data NULL:
                                                  none */
    ngx_scim_store_ref_t       *refs;          /* a user's groups, a
                                                  group's members (when
                                                  asked for) */
    ngx_uint_t                  nrefs;
    unsigned                    found:1;       /* not: none (an id deleted
                                                  meanwhile, a nil) */
    unsigned                    bare:1;        /* the text alone: no
                                                  manager, no refs */
} ngx_scim_store_doc_t;


typedef struct {
    ngx_scim_store_status_e     status;

    /* writes */
    ngx_int_t                   version;       /* OK: the new one; STALE:
                                                  the current one, -1 if
                                                  it has none */
    ngx_scim_store_unique_e     conflict;
    ngx_str_t                   bad_member;
    ngx_scim_store_bad_e        bad;
    ngx_str_t                   manager;       /* OK: a user's manager's
                                                  display; data NULL:
                                                  none */
    ngx_str_t                   error;         /* FAILED: Redis's text */

    /* reads */
    ngx_scim_store_doc_t       *docs;          /* get, find: 0 or 1;
                                                  page, fetch, scan;
                                                  replace with sha1: OK,
                                                  a user's groups (refs,
                                                  no text); CHANGED */
    ngx_uint_t                  ndocs;
    ngx_str_t                  *ids;           /* scan (docs[i] is ids[i]'s
                                                  when it read documents),
                                                  find_email, related */
    ngx_uint_t                  nids;
    ngx_uint_t                  total;         /* page, scan: ids in the
                                                  store (or candidates) */
    ngx_uint_t                  walked;        /* scan: ids looked at */
    ngx_str_t                   after;         /* page_after, related_page:
                                                  the page's last position
                                                  when more follow, else
                                                  empty */
    ngx_str_t                   before;        /* the same: its first
                                                  position when some
                                                  precede it, else empty */
} ngx_scim_store_res_t;


typedef void (*ngx_scim_store_handler_pt)(void *data,
    ngx_scim_store_res_t *res);


/* what every operation takes */
typedef struct {
    ngx_scim_store_t           *store;
    ngx_str_t                   tenant;        /* T, as evaluated */
    ngx_scim_store_type_e       type;
    ngx_pool_t                 *pool;          /* arguments, result */
    ngx_log_t                  *log;
    ngx_scim_store_handler_pt   handler;
    void                       *data;
    ngx_scim_store_op_t       **op;            /* set while in flight,
                                                  for cancel */
} ngx_scim_store_call_t;


/*
 * the change event a write appends to scim:{T}:events in the same script
 * (store/lua/lib.lua event()); maxlen 0: events off, no XADD
 */
typedef struct {
    ngx_uint_t                  maxlen;        /* MAXLEN ~ */
    const char                 *type;          /* "create", "replace",
                                                  "patch", "members",
                                                  "delete" */
    ngx_str_t                   time;
    ngx_str_t                   active;        /* "true", "false": the
                                                  write changed it; empty:
                                                  it did not */
    ngx_str_t                   paths;         /* a PATCH's: a JSON array
                                                  of strings, or empty */
} ngx_scim_store_event_t;


/* a create, a replace, a member change */
typedef struct {
    ngx_str_t                   id;
    ngx_int_t                   expect;        /* replace, delete: the
                                                  version read */
    ngx_str_t                   text;          /* the document without its
                                                  version tail; replace:
                                                  empty = keep it, change
                                                  only lastModified (now)
                                                  and the version */
    ngx_str_t                   now;
    ngx_str_t                   name;          /* folded userName or
                                                  displayName */
    ngx_str_t                   old_name;      /* replace */
    ngx_str_t                   external_id;   /* empty: none */
    ngx_str_t                   old_external_id;
    ngx_str_t                   display;       /* replace: empty = keep */
    ngx_str_t                   manager;       /* a user's manager's id */
    ngx_uint_t                  clear;         /* a group's members: all
                                                  out first */
    ngx_str_t                  *remove;        /* member ids */
    ngx_uint_t                  nremove;
    ngx_str_t                  *add;
    ngx_uint_t                  nadd;
    ngx_str_t                  *emails;        /* a user's, folded */
    ngx_uint_t                  nemails;
    ngx_str_t                  *old_emails;
    ngx_uint_t                  nold_emails;
    ngx_str_t                   sha1;          /* replace: the SHA1
                                                  (hex) of the text the
                                                  document was changed
                                                  from, not read but
                                                  known; empty: none */
    ngx_scim_store_event_t      event;
    unsigned                    any_version:1; /* replace: not expect */
    unsigned                    unique_external_id:1;  /* create, replace:
                                                  another resource's
                                                  externalId a conflict */
} ngx_scim_store_write_t;


/* an RFC 8936 poll of the change events: see store/lua/feed.lua */
typedef struct {
    ngx_str_t                   group;         /* the consumer group */
    ngx_str_t                   consumer;
    ngx_uint_t                  max;           /* SETs at most */
    ngx_str_t                   iss;
    ngx_str_t                   aud;
    ngx_str_t                  *ack;           /* jtis acknowledged */
    ngx_uint_t                  nack;
} ngx_scim_store_poll_t;


/* a batch of a scan: see store/lua/scan.lua */
typedef struct {
    ngx_uint_t                  start;         /* in creation order */
    ngx_str_t                  *cand;          /* or these candidates */
    ngx_uint_t                  ncand;
    ngx_uint_t                  count;         /* ids at most */
    size_t                      bytes;         /* documents' text, about */
    ngx_str_t                   literal;       /* a Lua pattern, or empty */
    ngx_str_t                   member;        /* '"<name>":"' */
    unsigned                    docs:1;        /* ids alone if not */
    unsigned                    members:1;     /* a group's members too */
    unsigned                    scores:1;      /* in creation order: each
                                                  id as "<id> <score>" */
} ngx_scim_store_scan_t;


/* an item of a fetch */
typedef struct {
    ngx_scim_store_type_e       type;
    ngx_str_t                   id;
} ngx_scim_store_item_t;


/* doc: the document as stored, with a user's groups and manager's
   display, and with a group's members if members is set */
ngx_int_t ngx_scim_store_get(ngx_scim_store_call_t *call, ngx_str_t *id,
    ngx_uint_t members);
/*
 * A slice of group id's members, in the order get reads them (that of
 * their ids), those after member id "after" (empty: from the first), at
 * most count (1 to 1000); head: with the group's document (NOT_FOUND if
 * there is none).  docs[0]: the text (head; data NULL otherwise) and the
 * refs; nids 1: more follow, ids[0] is the "after" of the next slice.
 * Each call is short, whatever the group's size.
 */
ngx_int_t ngx_scim_store_slice(ngx_scim_store_call_t *call, ngx_str_t *id,
    ngx_str_t *after, ngx_uint_t count, ngx_uint_t head);
/* by the folded userName / displayName */
ngx_int_t ngx_scim_store_find(ngx_scim_store_call_t *call, ngx_str_t *name,
    ngx_uint_t members);
/*
 * after: a cursor's page (RFC 9865): count documents created after that
 * creation score ("": from the first; start ignored), or (back) the
 * count created before it; res->after the score of the page's last one
 * when more follow, res->before that of its first when some precede it
 * (empty from the first); NULL: from start
 */
ngx_int_t ngx_scim_store_page(ngx_scim_store_call_t *call,
    ngx_uint_t start, ngx_uint_t count, ngx_uint_t members,
    ngx_str_t *after, ngx_uint_t back);
ngx_int_t ngx_scim_store_scan(ngx_scim_store_call_t *call,
    ngx_scim_store_scan_t *scan);
ngx_int_t ngx_scim_store_fetch(ngx_scim_store_call_t *call,
    ngx_scim_store_item_t *items, ngx_uint_t n, ngx_uint_t members);

/*
 * the resource (of call->type) with that externalId, exactly, as get
 * reads it (NOT_FOUND: none); MANY: more than one, their ids
 */
ngx_int_t ngx_scim_store_find_external_id(ngx_scim_store_call_t *call,
    ngx_str_t *external_id, ngx_uint_t members);
/* ids: the users with an e-mail (folded) */
ngx_int_t ngx_scim_store_find_email(ngx_scim_store_call_t *call,
    ngx_str_t *email);
/*
 * ids: listing users, the members of group id; listing groups, the
 * groups holding member id.  after: a cursor's page (RFC 9865), count
 * of them after the id after ("": from the first), or (back) before it,
 * at a cost independent of their number; res->total all of them,
 * res->after the page's last id when more follow, res->before its first
 * when some precede it; NULL: all of them
 */
ngx_int_t ngx_scim_store_related(ngx_scim_store_call_t *call,
    ngx_str_t *id, ngx_str_t *after, ngx_uint_t count, ngx_uint_t back);

/* ids: more ("1" | "0"), then jti, the SET's claims (JSON), ... */
ngx_int_t ngx_scim_store_poll(ngx_scim_store_call_t *call,
    ngx_scim_store_poll_t *poll);

ngx_int_t ngx_scim_store_create(ngx_scim_store_call_t *call,
    ngx_scim_store_write_t *w);
ngx_int_t ngx_scim_store_replace(ngx_scim_store_call_t *call,
    ngx_scim_store_write_t *w);
/* a group's member changes alone, without reading or rewriting the
   group (only its lastModified and version change); w: id, expect or
   any_version, now, clear, remove, add */
ngx_int_t ngx_scim_store_members(ngx_scim_store_call_t *call,
    ngx_scim_store_write_t *w);
/* w: id, expect, name, external_id, emails (as stored), now (a user's
   reports lose it as their manager, at that lastModified) */
ngx_int_t ngx_scim_store_delete(ngx_scim_store_call_t *call,
    ngx_scim_store_write_t *w);
/*
 * The same in one call, given the id alone (store/lua/delete_id.lua): w:
 * id, expect or any_version, now; the store reads the document and folds
 * its name and e-mails itself when they are ASCII; otherwise nothing
 * changes and the result is FOLD, with the document: the caller folds
 * them and calls ngx_scim_store_delete at that document's version
 */
ngx_int_t ngx_scim_store_delete_id(ngx_scim_store_call_t *call,
    ngx_scim_store_write_t *w);

void ngx_scim_store_cancel(ngx_scim_store_op_t *op);


/*
 * Credentials of a tenant, outside its data keys (no script touches
 * them; the hash tag {T} keeps them in the tenant's slot):
 *   scim:{T}:auth:tokens   hash  hex SHA-256 of a bearer token -> record
 *   scim:{T}:auth:clients  hash  OAuth client id -> record
 * (the records' text is the glue's: ngx_http_scim_rcred.c).  One HGET of
 * field; OK: docs[0].text is the value (ndocs 1), NOT_FOUND: no such
 * field.  call->type is not used.
 */
typedef enum {
    NGX_SCIM_STORE_AUTH_TOKENS = 0,
    NGX_SCIM_STORE_AUTH_CLIENTS
} ngx_scim_store_auth_e;

ngx_int_t ngx_scim_store_credential(ngx_scim_store_call_t *call,
    ngx_scim_store_auth_e kind, ngx_str_t *field);


/*
 * Configuration: "host:port" or "unix:/path" into conf (a host name is
 * resolved here, at configuration time); the store for conf, one per
 * distinct conf in stores (ngx_scim_store_t *), with its scripts; each
 * worker connects to its stores in init_process.
 */
ngx_int_t ngx_scim_store_parse_addr(ngx_conf_t *cf, ngx_str_t *addr,
    ngx_scim_store_conf_t *conf);
/* the Sentinels' addresses in conf (sentinels[]), checked */
ngx_int_t ngx_scim_store_check_sentinels(ngx_conf_t *cf,
    ngx_scim_store_conf_t *conf);
ngx_scim_store_t *ngx_scim_store_add(ngx_conf_t *cf, ngx_array_t *stores,
    ngx_scim_store_conf_t *conf);
ngx_int_t ngx_scim_store_init_worker(ngx_scim_store_t *store,
    ngx_log_t *log);
void ngx_scim_store_exit_worker(ngx_scim_store_t *store);

/*
 * A stored document ends with its version: the glue serializes it with
 * an empty one (..."version":""}}, meta last, version last in meta) and
 * head gives what create and replace take as text; text gives the
 * document as stored at version (what a read would return).
 */
ngx_int_t ngx_scim_store_head(ngx_str_t *doc, ngx_str_t *head);
ngx_int_t ngx_scim_store_text(ngx_pool_t *pool, ngx_str_t *head,
    ngx_int_t version, ngx_str_t *text);

/* a valid resource id (the store only ever hands out UUIDs) */
ngx_int_t ngx_scim_store_valid_id(u_char *p, size_t len);

/*
 * A tenant names the keys' hash tag {T}: 1 to NGX_SCIM_STORE_TENANT_MAX
 * bytes, no brace.
 */
#define NGX_SCIM_STORE_TENANT_MAX  256

ngx_int_t ngx_scim_store_valid_tenant(u_char *p, size_t len);


/*
 * Health and metrics (ngx_scim_store_monitor.c).
 *
 * A probe: a PING to every Redis each store serves in this worker (the
 * server, the current Sentinel primary, every primary of a cluster's
 * slot map) through the worker's own connections; each counts as down
 * if it gets no answer within its store's scim_redis_connect_timeout.
 * NULL: out of memory; otherwise handler runs once, later (never from
 * inside the call), unless the probe is cancelled; pings[] is valid
 * until the pool goes.
 */

typedef struct ngx_scim_store_probe_s  ngx_scim_store_probe_t;

typedef void (*ngx_scim_store_probe_pt)(ngx_scim_store_probe_t *probe);

typedef struct {
    ngx_str_t                   addr;          /* host:port, unix:path */
    ngx_str_t                   sentinel;      /* the master name, or
                                                  empty */
    ngx_str_t                   error;         /* empty: it answered */
    ngx_msec_t                  timeout;
    uint64_t                    usec;          /* the round trip */
    uint64_t                    sent;          /* when, usec */
    void                       *cmd;           /* in flight */
    ngx_scim_store_t           *store;
    ngx_scim_store_probe_t     *probe;
    unsigned                    done:1;
    unsigned                    ok:1;
} ngx_scim_store_ping_t;

struct ngx_scim_store_probe_s {
    ngx_scim_store_ping_t      *pings;
    ngx_uint_t                  npings;
    ngx_uint_t                  left;          /* still in flight */
    ngx_event_t                 event;         /* the bound, or posted */
    ngx_pool_t                 *pool;
    ngx_scim_store_probe_pt     handler;
    void                       *data;
    unsigned                    finished:1;
};

ngx_scim_store_probe_t *ngx_scim_store_probe(ngx_scim_store_t **stores,
    ngx_uint_t nstores, ngx_pool_t *pool, ngx_log_t *log,
    ngx_scim_store_probe_pt handler, void *data);
void ngx_scim_store_probe_cancel(ngx_scim_store_probe_t *probe);

/* the connections of a store in this worker, every node's, by state */
typedef struct {
    ngx_uint_t                  ready;
    ngx_uint_t                  connecting;
    ngx_uint_t                  down;
} ngx_scim_store_conns_t;

void ngx_scim_store_conns(ngx_scim_store_t *store,
    ngx_scim_store_conns_t *conns);
/* as configured: the first seed, or the Sentinels' master name */
ngx_str_t *ngx_scim_store_name(ngx_scim_store_t *store);

/*
 * Counters the store bumps (ngx_atomic_fetch_add): NGX_SCIM_STORE_STAT_N
 * of them, in shared memory, set by the glue at worker start; NULL: not
 * counted.
 */
typedef enum {
    NGX_SCIM_STORE_STAT_COMMANDS = 0,  /* commands answered (round
                                          trips), errors included */
    NGX_SCIM_STORE_STAT_UNAVAILABLE,   /* no answer: lost, timed out,
                                          no connection, LOADING, BUSY */
    NGX_SCIM_STORE_STAT_REFUSED,       /* an operation: an error reply
                                          (FAILED) */
    NGX_SCIM_STORE_STAT_BAD_REPLY,     /* an operation: an answer of an
                                          unexpected shape */
    NGX_SCIM_STORE_STAT_CONNECTS,      /* connections made (ready) */
    NGX_SCIM_STORE_STAT_RECONNECTS,    /* of them, after a lost one or
                                          a failed attempt */
    NGX_SCIM_STORE_STAT_FAILED_CONNECTS, /* attempts that failed */
    NGX_SCIM_STORE_STAT_N
} ngx_scim_store_stat_e;

extern ngx_atomic_t  *ngx_scim_store_stats;

#define ngx_scim_store_count(k)                                               \
    if (ngx_scim_store_stats) {                                               \
        (void) ngx_atomic_fetch_add(&ngx_scim_store_stats[k], 1);             \
    }


#endif /* _NGX_SCIM_STORE_H_INCLUDED_ */
