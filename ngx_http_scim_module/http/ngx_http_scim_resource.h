
/*
 * ngx_http_scim_module: /Users and /Groups, what their files share
 * (private to resource.c, read.c, write.c, list.c and scan.c).
 *
 * Calls go one way: list.c -> scan.c, write.c and list.c -> read.c, and
 * all of them -> resource.c.
 */


#ifndef _NGX_HTTP_SCIM_RESOURCE_H_INCLUDED_
#define _NGX_HTTP_SCIM_RESOURCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


typedef struct {
    ngx_array_t                 *args;         /* ngx_str_t */
    ngx_pool_t                  *pool;
} ngx_http_scim_argv_t;


/* ngx_http_scim_resource.c */
ngx_int_t ngx_http_scim_argv_init(ngx_http_scim_argv_t *a,
    ngx_http_scim_ctx_t *ctx, ngx_uint_t n);
ngx_int_t ngx_http_scim_fold(ngx_pool_t *pool, const char *s,
    size_t n, ngx_str_t *out);
ngx_int_t ngx_http_scim_arg_json(ngx_http_scim_argv_t *a,
    json_t *obj, const char *key, ngx_uint_t fold);
ngx_int_t ngx_http_scim_arg_manager(ngx_http_scim_argv_t *a,
    json_t *doc);
ngx_int_t ngx_http_scim_arg_ids(ngx_http_scim_argv_t *a,
    json_t *list, ngx_uint_t objects);
ngx_int_t ngx_http_scim_arg_emails(ngx_http_scim_argv_t *a,
    json_t *doc);
void ngx_http_scim_argv_list(ngx_http_scim_argv_t *a,
    ngx_str_t **list, ngx_uint_t *n);
const char *ngx_http_scim_name_attr(ngx_http_scim_ctx_t *ctx);
json_t *ngx_http_scim_expand_raw(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_doc_t *d, ngx_uint_t members);
json_t *ngx_http_scim_expand(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_doc_t *d, ngx_uint_t members);
json_t *ngx_http_scim_refs(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_doc_t *d);
ngx_int_t ngx_http_scim_manager_display(json_t *doc,
    ngx_str_t *display);
ngx_int_t ngx_http_scim_location(ngx_http_scim_ctx_t *ctx,
    json_t *doc);
ngx_int_t ngx_http_scim_doc_version(json_t *doc);
void ngx_http_scim_iso_time(u_char *buf);
json_t *ngx_http_scim_assemble(ngx_http_scim_ctx_t *ctx,
    json_t *normalized, ngx_str_t *id, json_t *created);
ngx_int_t ngx_http_scim_serialize(ngx_http_scim_ctx_t *ctx,
    json_t *doc);
void ngx_http_scim_set_version(json_t *doc, long long seq);
ngx_int_t ngx_http_scim_display(ngx_http_scim_ctx_t *ctx,
    json_t *doc, ngx_http_scim_argv_t *a);
json_t *ngx_http_scim_present(ngx_http_scim_ctx_t *ctx,
    json_t *doc);
ngx_int_t ngx_http_scim_projection(ngx_http_scim_ctx_t *ctx);
void ngx_http_scim_normalize_failed(ngx_http_scim_ctx_t *ctx,
    scim_error_t *err);
void ngx_http_scim_conflict(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
void ngx_http_scim_list_answer(ngx_http_scim_ctx_t *ctx,
    json_t *resources, ngx_uint_t total);

/* ngx_http_scim_read.c */
void ngx_http_scim_read(ngx_http_scim_ctx_t *ctx,
    ngx_uint_t status, ngx_http_scim_step_pt step);
ngx_int_t ngx_http_scim_fast(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_doc_t *d, ngx_uint_t list);
ngx_int_t ngx_http_scim_fast_written(ngx_http_scim_ctx_t *ctx,
    ngx_uint_t status, long long seq, ngx_str_t *mgr_display);
void ngx_http_scim_get_done(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);

/* ngx_http_scim_stream.c */
ngx_int_t ngx_http_scim_stream_wanted(ngx_http_scim_ctx_t *ctx);
void ngx_http_scim_stream_start(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res, json_t *doc);

/* ngx_http_scim_scan.c */
ngx_int_t ngx_http_scim_scan_start(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *cands);
void ngx_http_scim_scan_next(ngx_http_scim_ctx_t *ctx);
void ngx_http_scim_list_cands(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);
void ngx_http_scim_list_page_of(ngx_http_scim_ctx_t *ctx,
    ngx_scim_store_res_t *res);

/* ngx_http_scim_literal.c: the scans' prefilter */
ngx_int_t ngx_http_scim_literal(ngx_http_scim_ctx_t *ctx);
ngx_int_t ngx_http_scim_may_match(ngx_http_scim_ctx_t *ctx, u_char *p,
    size_t len);


#endif /* _NGX_HTTP_SCIM_RESOURCE_H_INCLUDED_ */
