
/*
 * ngx_http_scim_module: attribute paths (RFC 7644 3.10, 3.5.2), shared by
 * the filter (scim_filter.c) and PATCH (scim_patch.c).  Internal to the
 * core: the nginx glue uses scim_core.h only.
 *
 *   PATH      = attrPath / valuePath [subAttr]
 *   attrPath  = [URI ":"] ATTRNAME *1subAttr
 *   valuePath = attrPath "[" valFilter "]"
 *
 * Beyond the grammar: names start with ALPHA or "$" ("$ref"); the schema
 * URN may be given alone ("urn:...:enterprise:2.0:User") and then names
 * an extension block.  Value filters do not nest (RFC 7644 errata 4690).
 */

#ifndef _SCIM_PATH_H_INCLUDED_
#define _SCIM_PATH_H_INCLUDED_


#include "scim_core.h"
#include "scim_json.h"
#include "scim_text.h"


#define SCIM_PATH_MAX_LEN       4096     /* a PATCH path or no-path key */
#define SCIM_FILTER_MAX_LEN     16384    /* a whole filter */
#define SCIM_FILTER_MAX_DEPTH   64       /* parentheses, "not", brackets */


/*
 * Where a path points, against a resource type: the definitions (NULL
 * when unknown), the names to use (canonical when known, else as
 * written) and the extension block that holds the attribute.
 */
typedef struct {
    const scim_schema_t  *schema;     /* owning schema, NULL if unknown or
                                         a common attribute (id, meta) */
    const scim_attr_t    *attr;       /* top-level attribute or NULL */
    const scim_attr_t    *sub;        /* sub-attribute or NULL */
    const char           *attr_name;  /* NULL: the path is a schema URN */
    const char           *sub_name;   /* NULL: no sub-attribute */
    const char           *block;      /* extension block key (URN) or NULL
                                         for the top level */
    unsigned              core_urn:1; /* the path is the core schema URN */
    unsigned              any_block:1;/* rt unknown: look in the top level,
                                         then in every extension block */
} scim_path_res_t;


typedef struct {
    char                 *urn;        /* URN prefix as written, or NULL */
    char                 *attr;       /* ATTRNAME as written; NULL when the
                                         path is a schema URN alone */
    char                 *sub;        /* subAttr as written, or NULL */
    scim_filter_t        *filter;     /* "[...]" or NULL */
    size_t                pos;        /* byte offset of the path */
    scim_path_res_t       res;        /* valid if resolved */
    unsigned              resolved:1;
} scim_path_t;


/* the state of one parse: a filter or a PATCH path */
typedef struct {
    const scim_resource_type_t  *rt;        /* may be NULL */
    const char                  *s;
    size_t                       len;
    size_t                       pos;
    int                          depth;
    unsigned                     in_brackets:1;
    unsigned                     patch:1;   /* errors are invalidPath */
    scim_error_t                *err;
} scim_lexer_t;


/*
 * Parses a whole PATCH path (surrounding blanks allowed) and resolves it
 * against rt.  Errors: 400 invalidPath with "at position N".  The caller
 * releases p with scim_path_clear() (also after an error).
 */
int scim_path_parse(const scim_resource_type_t *rt, const char *s,
    size_t len, scim_path_t *p, scim_error_t *err);
void scim_path_clear(scim_path_t *p);

/*
 * Reads one path at lx->pos (attrPath, valuePath, valuePath.subAttr) and
 * advances lx->pos past it.  parent: the multi-valued attribute whose
 * value filter is being read (lx->in_brackets), or NULL.  Errors carry
 * scimType invalidFilter, or invalidPath when lx->patch.
 */
int scim_path_lex(scim_lexer_t *lx, const scim_attr_t *parent,
    scim_path_t *p);

/* sets the error of lx: "invalid filter: <what> at position N"; -1 */
int scim_lex_error(scim_lexer_t *lx, size_t pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* "unexpected 'c'<suffix>" (or "unexpected byte 0xNN<suffix>"); -1 */
int scim_lex_unexpected(scim_lexer_t *lx, size_t pos, const char *suffix);

/*
 * Fills res for p: from the parse-time cache when p->resolved, else
 * against rt (NULL: any_block) or, inside a value filter, against the
 * sub-attributes of parent (in_elem: names are sub-attributes).
 */
void scim_path_resolve(const scim_resource_type_t *rt,
    const scim_attr_t *parent, int in_elem, const scim_path_t *p,
    scim_path_res_t *res);

/* the schema of rt (core or extension) whose id is urn[0..len), or NULL */
const scim_schema_t *scim_path_find_schema(const scim_resource_type_t *rt,
    const char *urn, size_t len);

/* 1 if s[0..len) looks like a schema URN alone ("urn:...:2.0:User") */
int scim_path_is_schema_urn(const scim_resource_type_t *rt, const char *s,
    size_t len);


/* ---- filter internals used by the path parser and by PATCH */

/* reads a valFilter up to, not including, "]" */
scim_filter_t *scim_filter_lex_valfilter(scim_lexer_t *lx,
    const scim_attr_t *parent);

/*
 * Matches one element of a multi-valued attribute (an object) against a
 * value filter; parent: the attribute's definition or NULL.
 */
int scim_filter_match_elem(const scim_filter_t *f,
    const scim_resource_type_t *rt, const scim_attr_t *parent,
    json_t *elem);

/*
 * For PATCH add/replace on a value filter that matches nothing: if f is
 * "a eq v" or a conjunction of those, on plain sub-attribute names with
 * non-null values, sets out[a] = v (typed per parent's sub-attribute:
 * "True" for a boolean becomes true) and returns 1; else 0, -1 on
 * allocation failure.
 */
int scim_filter_eq_fill(const scim_filter_t *f, const scim_attr_t *parent,
    json_t *out);

/*
 * For group member removal: if f is "value eq id" or a disjunction of
 * those, appends each id (string) to ids and returns 1; else 0, -1 on
 * allocation failure.
 */
int scim_filter_value_ids(const scim_filter_t *f, json_t *ids);

/* the number of nodes of f (the cost of matching one element) */
size_t scim_filter_size(const scim_filter_t *f);


#endif /* _SCIM_PATH_H_INCLUDED_ */
