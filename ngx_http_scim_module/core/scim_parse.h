
/*
 * ngx_http_scim_module: the grammar of filters and attribute paths (RFC
 * 7644 3.4.2.2, 3.10, 3.5.2): the filter's syntax tree, paths, the lexer.
 * Internal to core/: the other layers use scim_core.h only.
 *
 *   scim_lex.c     tokens and values
 *   scim_parse.c   paths and the filter grammar (the recursion: a path
 *                  holds a value filter, a filter holds paths)
 *   scim_resolve.c where a path points in a resource type's schemas
 *   scim_plan.c    what a filter says without a document
 *   scim_filter.c  matching a document
 *
 *   PATH      = attrPath / valuePath [subAttr]
 *   attrPath  = [URI ":"] ATTRNAME *1subAttr
 *   valuePath = attrPath "[" valFilter "]"
 *
 * Beyond the grammar: names start with ALPHA or "$" ("$ref"); the schema
 * URN may be given alone ("urn:...:enterprise:2.0:User") and then names
 * an extension block.  Value filters do not nest (RFC 7644 errata 4690).
 */

#ifndef _SCIM_PARSE_H_INCLUDED_
#define _SCIM_PARSE_H_INCLUDED_


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


typedef enum {
    SCIM_FN_AND = 0,
    SCIM_FN_OR,
    SCIM_FN_NOT,
    SCIM_FN_CMP,              /* attrExp, "pr" included */
    SCIM_FN_VPATH             /* a value path alone: emails[type eq "x"] */
} scim_fnode_type_t;

typedef enum {
    SCIM_OP_EQ = 0,
    SCIM_OP_NE,
    SCIM_OP_CO,
    SCIM_OP_SW,
    SCIM_OP_EW,
    SCIM_OP_GT,
    SCIM_OP_GE,
    SCIM_OP_LT,
    SCIM_OP_LE,
    SCIM_OP_PR,
    SCIM_OP_ANY               /* internal: an element matched (VPATH) */
} scim_fop_t;

typedef enum {
    SCIM_FV_STRING = 0,
    SCIM_FV_NUMBER,
    SCIM_FV_BOOL,
    SCIM_FV_NULL
} scim_fvalue_type_t;


struct scim_filter_s {
    scim_fnode_type_t    type;
    scim_fop_t           op;
    scim_filter_t      **kids;         /* AND, OR: n; NOT: 1 */
    size_t               nkids;
    scim_path_t          path;         /* CMP, VPATH */

    scim_fvalue_type_t   vtype;
    unsigned             quoted:1;
    unsigned             is_int:1;
    unsigned             is_dt:1;      /* text is a dateTime */
    long                 dt_nsec;
    int64_t              dt_sec;
    int                  vbool;
    json_int_t           vint;
    double               vnum;
    char                *text;         /* decoded string, or the literal */
    size_t               text_len;
    char                *folded;       /* text case-folded */
    size_t               folded_len;

    char                *hint;         /* path for scim_filter_eq_hint() */
};


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


/* ---- scim_lex.c */

/* "eq", "ne", ... "pr", indexed by scim_fop_t */
extern const char  *scim_fop_names[];

/* sets the error of lx: "invalid filter: <what> at position N"; -1 */
int scim_lex_error(scim_lexer_t *lx, size_t pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* "unexpected 'c'<suffix>" (or "unexpected byte 0xNN<suffix>"); -1 */
int scim_lex_unexpected(scim_lexer_t *lx, size_t pos, const char *suffix);

/* skips blanks at lx->pos; the number skipped */
size_t scim_lex_skip_ws(scim_lexer_t *lx);

/* the length of the run of letters at pos */
size_t scim_lex_word(scim_lexer_t *lx, size_t pos);

/* 1 if the keyword kw ("and", "or") starts at lx->pos and ends there */
int scim_lex_keyword(scim_lexer_t *lx, const char *kw);

/* the comparison operator (or "pr") at pos, -1 if none */
int scim_lex_op(scim_lexer_t *lx, size_t pos, size_t *wlen);

/* reads the compared value at lx->pos into f (vtype, text, number, ...) */
int scim_lex_value(scim_lexer_t *lx, scim_filter_t *f);

/* JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
int scim_lex_number(const char *s, size_t len);

/* the node's value as a boolean: true, "True", "false"...; -1 if none */
int scim_lex_bool(const scim_filter_t *f);


/* ---- scim_parse.c */

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

/* reads a valFilter up to, not including, "]" */
scim_filter_t *scim_filter_lex_valfilter(scim_lexer_t *lx,
    const scim_attr_t *parent);


/* ---- scim_resolve.c */

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


/* ---- scim_filter.c */

/*
 * Matches one element of a multi-valued attribute (an object) against a
 * value filter; parent: the attribute's definition or NULL.
 */
int scim_filter_match_elem(const scim_filter_t *f,
    const scim_resource_type_t *rt, const scim_attr_t *parent,
    json_t *elem);


/* ---- scim_plan.c */

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


#endif /* _SCIM_PARSE_H_INCLUDED_ */
