#include "lib/pyparse/pyparse.h"

#include "util/alloc.h"
#include "util/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#define MOD "pyparse"

const TSLanguage *tree_sitter_python(void);

int ca_pyparse_grammar_abi(void) { return (int)ts_language_version(tree_sitter_python()); }

int ca_pyparse_check_abi(void)
{
    int abi = ca_pyparse_grammar_abi();
    if (abi < TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION || abi > TREE_SITTER_LANGUAGE_VERSION)
        return ca_err_set(CA_E_PARSE, "pyparse",
                          "pyparse: grammar ABI %d is outside the runtime's range %d..%d", abi,
                          TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION, TREE_SITTER_LANGUAGE_VERSION);
    return CA_OK;
}

/* ---- symbol and field maps (built once) ---------------------------------------------------- */

#define CA__PY_KIND_NAME(e, s) s,
static const char *const kind_names[CA_PY_KIND_COUNT] = {"", CA_PY_KINDS(CA__PY_KIND_NAME)};
#define CA__PY_FIELD_NAME(e, s) s,
static const char *const field_names[CA_PYF_COUNT] = {NULL, CA_PY_FIELDS(CA__PY_FIELD_NAME)};

static pthread_once_t maps_once = PTHREAD_ONCE_INIT;
static uint16_t *symbol_kind;  /* symbol → ca_py_kind */
static uint16_t *field_map;    /* TSFieldId → ca_py_field */
static uint32_t n_symbols, n_fields;

static void build_maps(void)
{
    const TSLanguage *lang = tree_sitter_python();
    n_symbols = ts_language_symbol_count(lang);
    n_fields = ts_language_field_count(lang);
    /* Process-lifetime tables: allocated once, never freed (static data in effect). */
    symbol_kind = calloc(n_symbols ? n_symbols : 1, sizeof *symbol_kind);
    field_map = calloc((size_t)n_fields + 1, sizeof *field_map);
    if (!symbol_kind || !field_map)
        return;
    for (uint32_t s = 0; s < n_symbols; s++) {
        const char *name = ts_language_symbol_name(lang, (TSSymbol)s);
        if (!name)
            continue;
        for (int k = 1; k < CA_PY_KIND_COUNT; k++) {
            if (!strcmp(name, kind_names[k])) {
                symbol_kind[s] = (uint16_t)k;
                break;
            }
        }
    }
    for (uint32_t f = 1; f <= n_fields; f++) {
        const char *name = ts_language_field_name_for_id(lang, (TSFieldId)f);
        if (!name)
            continue;
        for (int k = 1; k < CA_PYF_COUNT; k++) {
            if (!strcmp(name, field_names[k])) {
                field_map[f] = (uint16_t)k;
                break;
            }
        }
    }
}

static int maps_ready(void)
{
    pthread_once(&maps_once, build_maps);
    if (!symbol_kind || !field_map)
        return ca_err_nomem(MOD, "symbol tables");
    return CA_OK;
}

const char *ca_pyparse_symbol_name(uint16_t symbol)
{
    const char *s = ts_language_symbol_name(tree_sitter_python(), symbol);
    return s ? s : "";
}

const char *ca_pyparse_kind_name(ca_py_kind kind)
{
    return (unsigned)kind < CA_PY_KIND_COUNT ? kind_names[kind] : "";
}

const char *ca_pyparse_field_name(ca_py_field field)
{
    return (unsigned)field < CA_PYF_COUNT ? field_names[field] : NULL;
}

/* ---- parser --------------------------------------------------------------------------------- */

struct ca_pyparse {
    TSParser *parser;
    TSTree *tree;
    ca_py_node *nodes;
    size_t n, cap;
    int32_t *stack; /* nearest kept ancestor per cursor depth */
    size_t stack_cap;
};

int ca_pyparse_new(ca_pyparse **out)
{
    *out = NULL;
    int rc = ca_pyparse_check_abi();
    if (rc == CA_OK)
        rc = maps_ready();
    if (rc != CA_OK)
        return rc;
    ca_pyparse *p = ca__calloc(1, sizeof *p);
    if (!p)
        return ca_err_nomem(MOD, "parser");
    p->parser = ts_parser_new();
    if (!p->parser || !ts_parser_set_language(p->parser, tree_sitter_python())) {
        ca_pyparse_free(p);
        return ca_err_set(CA_E_PARSE, MOD, "pyparse: cannot load the tree-sitter-python grammar");
    }
    *out = p;
    return CA_OK;
}

void ca_pyparse_free(ca_pyparse *p)
{
    if (!p)
        return;
    if (p->tree)
        ts_tree_delete(p->tree);
    if (p->parser)
        ts_parser_delete(p->parser);
    ca__free(p->nodes);
    ca__free(p->stack);
    ca__free(p);
}

static int push_node(ca_pyparse *p, TSNode n, uint16_t kind, uint16_t field, int32_t parent,
                     uint16_t flags)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 4096;
        if (nc > (size_t)INT32_MAX)
            return ca_err_set(CA_E_OVERFLOW, MOD, "pyparse: too many nodes");
        ca_py_node *nn = ca__realloc(p->nodes, nc * sizeof *nn);
        if (!nn)
            return ca_err_nomem(MOD, "syntax nodes");
        p->nodes = nn;
        p->cap = nc;
    }
    int32_t idx = (int32_t)p->n++;
    ca_py_node *d = &p->nodes[idx];
    TSPoint sp = ts_node_start_point(n), ep = ts_node_end_point(n);
    d->bstart = ts_node_start_byte(n);
    d->bend = ts_node_end_byte(n);
    d->srow = sp.row;
    d->scol = sp.column;
    d->erow = ep.row;
    d->ecol = ep.column;
    d->parent = parent;
    d->first_child = d->next_sibling = d->last_child = CA_PY_NONE;
    d->kind = kind;
    d->field = field;
    d->symbol = ts_node_symbol(n);
    d->flags = flags;
    if (parent != CA_PY_NONE) {
        ca_py_node *pa = &p->nodes[parent];
        if (pa->last_child == CA_PY_NONE)
            pa->first_child = idx;
        else
            p->nodes[pa->last_child].next_sibling = idx;
        pa->last_child = idx;
    }
    return idx;
}

static int stack_set(ca_pyparse *p, size_t depth, int32_t v)
{
    if (depth >= p->stack_cap) {
        size_t nc = p->stack_cap ? p->stack_cap * 2 : 256;
        while (nc <= depth)
            nc *= 2;
        int32_t *ns = ca__realloc(p->stack, nc * sizeof *ns);
        if (!ns)
            return ca_err_nomem(MOD, "cursor stack");
        p->stack = ns;
        p->stack_cap = nc;
    }
    p->stack[depth] = v;
    return CA_OK;
}

int ca_pyparse_parse(ca_pyparse *p, const char *text, size_t len, ca_py_tree *out)
{
    memset(out, 0, sizeof *out);
    if (len > UINT32_MAX)
        return ca_err_set(CA_E_OVERFLOW, MOD, "pyparse: source over 4 GiB");
    if (p->tree) {
        ts_tree_delete(p->tree);
        p->tree = NULL;
    }
    p->n = 0;
    p->tree = ts_parser_parse_string(p->parser, NULL, text ? text : "", (uint32_t)len);
    if (!p->tree)
        return ca_err_set(CA_E_PARSE, MOD, "pyparse: tree-sitter returned no tree");
    TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(p->tree));
    size_t depth = 0, max_depth = 0;
    int rc = CA_OK;
    for (;;) {
        TSNode n = ts_tree_cursor_current_node(&c);
        TSSymbol sym = ts_node_symbol(n);
        bool named = ts_node_is_named(n);
        uint16_t kind = sym == (TSSymbol)-1 ? CA_PY_ERROR : sym < n_symbols ? symbol_kind[sym] : 0;
        int32_t parent = depth ? p->stack[depth - 1] : CA_PY_NONE;
        int32_t self = parent;
        if (named || kind != CA_PY_OTHER) {
            uint16_t flags = (uint16_t)((named ? CA_PY_NAMED : 0) |
                                        (sym == (TSSymbol)-1 ? CA_PY_IS_ERROR : 0) |
                                        (ts_node_is_missing(n) ? CA_PY_IS_MISSING : 0) |
                                        (ts_node_is_extra(n) ? CA_PY_EXTRA : 0));
            TSFieldId fid = ts_tree_cursor_current_field_id(&c);
            uint16_t field = fid && fid <= n_fields ? field_map[fid] : 0;
            self = push_node(p, n, kind, field, parent, flags);
            if (self < 0) {
                rc = self;
                break;
            }
            if (depth > max_depth)
                max_depth = depth;
        }
        if ((rc = stack_set(p, depth, self)) != CA_OK)
            break;
        if (ts_tree_cursor_goto_first_child(&c)) {
            depth++;
            continue;
        }
        bool done = false;
        while (!ts_tree_cursor_goto_next_sibling(&c)) {
            if (!ts_tree_cursor_goto_parent(&c)) {
                done = true;
                break;
            }
            depth--;
        }
        if (done)
            break;
    }
    ts_tree_cursor_delete(&c);
    if (rc != CA_OK)
        return rc;
    out->nodes = p->nodes;
    out->n = p->n;
    out->max_depth = max_depth;
    return CA_OK;
}

char *ca_pyparse_sexp(ca_pyparse *p)
{
    if (!p || !p->tree)
        return NULL;
    char *s = ts_node_string(ts_tree_root_node(p->tree));
    if (!s)
        return NULL;
    char *copy = ca__strdup(s);
    free(s); /* tree-sitter allocates with the C allocator */
    return copy;
}
