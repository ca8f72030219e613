/*
 * Per-file evidence: one walk over the flat syntax tree collects scopes, bindings (with
 * CPython's symtable flags), defs and the other row kinds; refs are resolved after the walk,
 * when every scope's symbols are known (cpg.md §2 resolution table).
 */
#include "lib/extract/extract_int.h"

#include "codeanatomy/functions.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD CA_EXTRACT_MOD

#include "lib/extract/builtins.inc"

/* symtable flags (CPython's DEF_*) */
enum {
    F_GLOBAL = 1, F_LOCAL = 2, F_PARAM = 4, F_NONLOCAL = 8, F_USE = 16, F_IMPORT = 128,
    F_BOUND = F_LOCAL | F_PARAM | F_IMPORT
};

enum { SC_MODULE, SC_CLASS, SC_FUNCTION, SC_LAMBDA, SC_COMP, SC_TYPE_PARAMS, SC_ANNOT };
static const char *const scope_kind_names[] = {"module", "class", "function", "lambda",
                                               "comprehension", "type_params", "annotation"};

enum { CTX_LOAD, CTX_STORE, CTX_DEL };
static const char *const ctx_names[] = {"load", "store", "del"};

#define MAX_DEPTH 3000 /* deeper subtrees are not walked (no crash on pathological nesting) */

typedef struct scope_t {
    int kind;
    const char *name, *qualname;
    int32_t parent;
    int32_t def;           /* def index or -1 */
    int32_t container_def; /* nearest def for rows in this scope */
    int32_t annot;         /* lazily created annotation scope */
    int32_t emit_scope;    /* the scope reported in rows (annotation scopes report their parent) */
    const char *mangle;    /* class name for private-name mangling, or NULL */
    const char *id;
} scope_t;

typedef struct sym {
    const char *key;
    int32_t scope;
    uint32_t flags;
    int32_t def;
} sym;

typedef struct ref {
    const char *name, *key;
    int ctx;
    int32_t scope;
    uint32_t node;
} ref;

typedef struct fx {
    const ca_x_input *in;
    ca_arena *a;
    ca_x_sink *sink;
    const ca_py_node *nd;
    size_t nn;
    const char *text;
    const char *file_id;
    int rc;
    ca_buf scratch, idbuf;
    scope_t *scopes;
    size_t n_scopes, cap_scopes;
    const char **def_ids;
    size_t n_defs, cap_defs;
    sym *syms;
    size_t n_syms, cap_syms;
    int32_t *hash;
    size_t hash_cap;
    ref *refs;
    size_t n_refs, cap_refs;
    /* qualname → count, for symbol #N */
    const char **qn_keys;
    uint32_t *qn_counts;
    size_t qn_cap, qn_n;
    int cond_depth, tc_depth;
    bool future_annotations;
    int depth;
} fx;

/* ---- small helpers ---------------------------------------------------------------------------- */

static void fail(fx *x, int rc)
{
    if (x->rc == CA_OK)
        x->rc = rc;
}

static int grow(fx *x, void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *p = ca__realloc(*arr, nc * elem);
    if (!p) {
        fail(x, ca_err_nomem(MOD, "file state"));
        return 0;
    }
    *arr = p;
    *cap = nc;
    return 1;
}

static inline const ca_py_node *N(const fx *x, int32_t i) { return &x->nd[i]; }
static inline int K(const fx *x, int32_t i) /* kind of a named node, else OTHER */
{
    return (x->nd[i].flags & CA_PY_NAMED) ? x->nd[i].kind : CA_PY_OTHER;
}
static inline int TOK(const fx *x, int32_t i)
{
    return (x->nd[i].flags & CA_PY_NAMED) ? CA_PY_OTHER : x->nd[i].kind;
}
static int32_t field(const fx *x, int32_t i, int f)
{
    for (int32_t c = x->nd[i].first_child; c != CA_PY_NONE; c = x->nd[c].next_sibling)
        if (x->nd[c].field == f)
            return c;
    return CA_PY_NONE;
}
static int32_t child_kind(const fx *x, int32_t i, int k)
{
    for (int32_t c = x->nd[i].first_child; c != CA_PY_NONE; c = x->nd[c].next_sibling)
        if (K(x, c) == k)
            return c;
    return CA_PY_NONE;
}
static bool has_tok(const fx *x, int32_t i, int k)
{
    for (int32_t c = x->nd[i].first_child; c != CA_PY_NONE; c = x->nd[c].next_sibling)
        if (TOK(x, c) == k)
            return true;
    return false;
}
static bool is_code(const fx *x, int32_t c) /* a named, non-comment child */
{
    return (x->nd[c].flags & CA_PY_NAMED) && x->nd[c].kind != CA_PY_COMMENT;
}

/* Text of a node cut at CA_EXTRACT_TEXT_CAP bytes on a character boundary (arena). */
static const char *capped(fx *x, uint32_t b, uint32_t e)
{
    size_t n = e - b;
    if (n > CA_EXTRACT_TEXT_CAP) {
        n = CA_EXTRACT_TEXT_CAP;
        while (n && ((unsigned char)x->text[b + n] & 0xC0) == 0x80)
            n--;
    }
    const char *s = ca_arena_strndup(x->a, x->text + b, n);
    if (!s)
        fail(x, CA_E_NOMEM);
    return s;
}
static const char *node_capped(fx *x, int32_t i) { return capped(x, N(x, i)->bstart, N(x, i)->bend); }

/* NFKC identifier text (arena). */
static const char *ident(fx *x, int32_t i)
{
    const ca_py_node *n = N(x, i);
    const char *s = x->text + n->bstart;
    size_t len = n->bend - n->bstart;
    if (ca_text_is_ascii(s, len)) {
        const char *r = ca_arena_strndup(x->a, s, len);
        if (!r)
            fail(x, CA_E_NOMEM);
        return r;
    }
    int rc = ca_text_normalize(s, len, CA_TEXT_NFKC, 0, &x->scratch);
    if (rc != CA_OK) {
        fail(x, rc);
        return "";
    }
    const char *r = ca_arena_strndup(x->a, x->scratch.data, x->scratch.len);
    if (!r)
        fail(x, CA_E_NOMEM);
    return r;
}

static const char *make_id(fx *x, const char *prefix, uint32_t b, uint32_t e, const char *kind)
{
    ca_id_part parts[4];
    parts[0].kind = CA_ID_TEXT;
    parts[0].v.text.ptr = x->in->path;
    parts[0].v.text.len = strlen(x->in->path);
    parts[1].kind = CA_ID_I64;
    parts[1].v.i64 = b;
    parts[2].kind = CA_ID_I64;
    parts[2].v.i64 = e;
    size_t np = 3;
    if (kind) {
        parts[3].kind = CA_ID_TEXT;
        parts[3].v.text.ptr = kind;
        parts[3].v.text.len = strlen(kind);
        np = 4;
    }
    ca_buf_clear(&x->idbuf);
    int rc = ca_functions_stable_id(prefix, strlen(prefix), parts, np, &x->idbuf);
    if (rc == CA_OK)
        rc = ca_buf_status(&x->idbuf);
    if (rc != CA_OK) {
        fail(x, rc);
        return "";
    }
    const char *r = ca_arena_strndup(x->a, x->idbuf.data, x->idbuf.len);
    if (!r)
        fail(x, CA_E_NOMEM);
    return r;
}

/* ---- appending -------------------------------------------------------------------------------- */

static ca_duck_appender *AP(fx *x, int t) { return x->sink->ap[t]; }
static void st(fx *x, int rc)
{
    if (rc != CA_OK && x->sink->status == CA_OK)
        x->sink->status = rc;
}
static void a_str(fx *x, int t, const char *s)
{
    st(x, s ? ca_duck_append_text(AP(x, t), s, strlen(s)) : ca_duck_append_null(AP(x, t)));
}
static void a_i64(fx *x, int t, int64_t v) { st(x, ca_duck_append_int64(AP(x, t), v)); }
static void a_bool(fx *x, int t, bool v) { st(x, ca_duck_append_bool(AP(x, t), v)); }
static void a_end(fx *x, int t)
{
    st(x, ca_duck_append_end_row(AP(x, t)));
    x->sink->rows[t]++;
}

/* ---- scopes, symbols, defs ------------------------------------------------------------------- */

static uint32_t hstr(const char *s, int32_t scope)
{
    uint32_t h = 2166136261u ^ (uint32_t)scope * 16777619u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static sym *lookup(fx *x, int32_t scope, const char *key)
{
    if (!x->hash_cap)
        return NULL;
    size_t m = x->hash_cap - 1;
    for (size_t h = hstr(key, scope) & m;; h = (h + 1) & m) {
        int32_t v = x->hash[h];
        if (v < 0)
            return NULL;
        if (x->syms[v].scope == scope && !strcmp(x->syms[v].key, key))
            return &x->syms[v];
    }
}

static sym *symbol(fx *x, int32_t scope, const char *key)
{
    sym *s = lookup(x, scope, key);
    if (s)
        return s;
    if (!grow(x, (void **)&x->syms, &x->cap_syms, x->n_syms + 1, sizeof *x->syms))
        return NULL;
    if ((x->n_syms + 1) * 2 > x->hash_cap) {
        size_t nc = x->hash_cap ? x->hash_cap * 2 : 256;
        int32_t *nh = ca__malloc(nc * sizeof *nh);
        if (!nh) {
            fail(x, ca_err_nomem(MOD, "symbols"));
            return NULL;
        }
        for (size_t i = 0; i < nc; i++)
            nh[i] = -1;
        for (size_t i = 0; i < x->n_syms; i++) {
            size_t h = hstr(x->syms[i].key, x->syms[i].scope) & (nc - 1);
            while (nh[h] >= 0)
                h = (h + 1) & (nc - 1);
            nh[h] = (int32_t)i;
        }
        ca__free(x->hash);
        x->hash = nh;
        x->hash_cap = nc;
    }
    size_t m = x->hash_cap - 1, h = hstr(key, scope) & m;
    while (x->hash[h] >= 0)
        h = (h + 1) & m;
    x->hash[h] = (int32_t)x->n_syms;
    s = &x->syms[x->n_syms++];
    s->key = key;
    s->scope = scope;
    s->flags = 0;
    s->def = -1;
    return s;
}

/* CPython's private-name mangling within the nearest class. */
static const char *mangle(fx *x, int32_t scope, const char *name)
{
    const char *cls = x->scopes[scope].mangle;
    size_t n = strlen(name);
    if (!cls || n < 3 || name[0] != '_' || name[1] != '_' || (name[n - 1] == '_' && name[n - 2] == '_') ||
        strchr(name, '.'))
        return name;
    while (*cls == '_')
        cls++;
    if (!*cls)
        return name;
    const char *r = ca_arena_printf(x->a, "_%s%s", cls, name);
    if (!r)
        fail(x, CA_E_NOMEM);
    return r ? r : name;
}

static bool fn_like(int k) { return k == SC_FUNCTION || k == SC_LAMBDA || k == SC_COMP || k == SC_TYPE_PARAMS; }

static const char *qualify(fx *x, int32_t s, const char *name)
{
    const scope_t *sc = &x->scopes[s];
    while (sc->kind == SC_ANNOT || sc->kind == SC_TYPE_PARAMS)
        sc = &x->scopes[sc->parent];
    const char *r;
    if (sc->kind == SC_MODULE)
        r = ca_arena_strdup(x->a, name);
    else if (sc->kind == SC_CLASS)
        r = ca_arena_printf(x->a, "%s.%s", sc->qualname, name);
    else
        r = ca_arena_printf(x->a, "%s.<locals>.%s", sc->qualname, name);
    if (!r)
        fail(x, CA_E_NOMEM);
    return r ? r : name;
}

static int32_t new_scope(fx *x, int kind, const char *name, const char *qualname, int32_t parent,
                         uint32_t b, uint32_t e)
{
    if (!grow(x, (void **)&x->scopes, &x->cap_scopes, x->n_scopes + 1, sizeof *x->scopes))
        return 0;
    int32_t i = (int32_t)x->n_scopes++;
    scope_t *s = &x->scopes[i];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->name = name;
    s->qualname = qualname;
    s->parent = parent;
    s->def = -1;
    s->annot = -1;
    s->emit_scope = i;
    s->container_def = parent >= 0 ? x->scopes[parent].container_def : -1;
    s->mangle = parent >= 0 ? x->scopes[parent].mangle : NULL;
    if (kind == SC_ANNOT) {
        s->emit_scope = x->scopes[parent].emit_scope;
        s->id = x->scopes[parent].id;
        return i;
    }
    s->id = make_id(x, "scope", b, e, NULL);
    return i;
}

static void emit_scope_row(fx *x, int32_t i, uint32_t b, uint32_t e)
{
    const scope_t *s = &x->scopes[i];
    a_str(x, T_SCOPES, x->file_id);
    a_str(x, T_SCOPES, s->id);
    a_str(x, T_SCOPES, scope_kind_names[s->kind]);
    a_str(x, T_SCOPES, s->name);
    a_str(x, T_SCOPES, s->qualname);
    a_str(x, T_SCOPES, s->parent >= 0 ? x->scopes[x->scopes[s->parent].emit_scope].id : NULL);
    a_str(x, T_SCOPES, s->def >= 0 ? x->def_ids[s->def] : NULL);
    a_i64(x, T_SCOPES, b);
    a_i64(x, T_SCOPES, e);
    a_end(x, T_SCOPES);
}

static const char *symbol_name(fx *x, const char *qualname)
{
    /* qualname occurrence count (open addressing over arena strings) */
    if ((x->qn_n + 1) * 2 > x->qn_cap) {
        size_t nc = x->qn_cap ? x->qn_cap * 2 : 128;
        const char **nk = ca__calloc(nc, sizeof *nk);
        uint32_t *ncnt = ca__calloc(nc, sizeof *ncnt);
        if (!nk || !ncnt) {
            ca__free(nk);
            ca__free(ncnt);
            fail(x, ca_err_nomem(MOD, "symbols"));
            return NULL;
        }
        for (size_t i = 0; i < x->qn_cap; i++) {
            if (!x->qn_keys[i])
                continue;
            size_t h = hstr(x->qn_keys[i], 0) & (nc - 1);
            while (nk[h])
                h = (h + 1) & (nc - 1);
            nk[h] = x->qn_keys[i];
            ncnt[h] = x->qn_counts[i];
        }
        ca__free(x->qn_keys);
        ca__free(x->qn_counts);
        x->qn_keys = nk;
        x->qn_counts = ncnt;
        x->qn_cap = nc;
    }
    size_t m = x->qn_cap - 1, h = hstr(qualname, 0) & m;
    while (x->qn_keys[h] && strcmp(x->qn_keys[h], qualname))
        h = (h + 1) & m;
    if (!x->qn_keys[h]) {
        x->qn_keys[h] = qualname;
        x->qn_n++;
    }
    uint32_t c = ++x->qn_counts[h];
    const char *r = c == 1 ? ca_arena_printf(x->a, "%s.%s", x->in->module_name, qualname)
                           : ca_arena_printf(x->a, "%s.%s#%u", x->in->module_name, qualname, c);
    if (!r)
        fail(x, CA_E_NOMEM);
    return r;
}

typedef struct defspec {
    const char *kind, *name, *qualname;
    int32_t scope;      /* where bound */
    int32_t body_scope; /* -1 */
    uint32_t b, e;      /* span */
    int32_t name_node;  /* -1: none */
    uint32_t sl, sc, el, ec;
    bool is_async, is_method;
    const char *docstring;
    const char *symbol; /* NULL: computed from qualname */
} defspec;

static int32_t add_def(fx *x, const defspec *d)
{
    if (!grow(x, (void **)&x->def_ids, &x->cap_defs, x->n_defs + 1, sizeof *x->def_ids))
        return -1;
    const char *id = make_id(x, "def", d->b, d->e, NULL);
    int32_t idx = (int32_t)x->n_defs++;
    x->def_ids[idx] = id;
    const char *symb = d->symbol ? d->symbol : symbol_name(x, d->qualname);
    int t = T_DEFS;
    a_str(x, t, x->file_id);
    a_str(x, t, id);
    a_str(x, t, d->kind);
    a_str(x, t, d->name);
    a_str(x, t, d->qualname);
    a_str(x, t, symb);
    a_str(x, t, d->scope >= 0 ? x->scopes[x->scopes[d->scope].emit_scope].id : NULL);
    a_str(x, t, d->body_scope >= 0 ? x->scopes[d->body_scope].id : NULL);
    int32_t cont = d->scope >= 0 ? x->scopes[d->scope].container_def : -1;
    a_str(x, t, cont >= 0 ? x->def_ids[cont] : NULL);
    a_i64(x, t, d->b);
    a_i64(x, t, d->e);
    if (d->name_node >= 0) {
        a_i64(x, t, N(x, d->name_node)->bstart);
        a_i64(x, t, N(x, d->name_node)->bend);
    } else {
        st(x, ca_duck_append_null(AP(x, t)));
        st(x, ca_duck_append_null(AP(x, t)));
    }
    a_i64(x, t, d->sl);
    a_i64(x, t, d->sc);
    a_i64(x, t, d->el);
    a_i64(x, t, d->ec);
    a_bool(x, t, d->is_async);
    a_bool(x, t, d->is_method);
    a_str(x, t, d->docstring);
    a_end(x, t);
    return idx;
}

/* A def whose span is one name token. */
static int32_t add_name_def(fx *x, const char *kind, int32_t name_node, const char *name, int32_t scope)
{
    const ca_py_node *n = N(x, name_node);
    defspec d = {kind, name, qualify(x, scope, name), scope, -1, n->bstart, n->bend, name_node,
                 n->srow + 1, n->scol, n->erow + 1, n->ecol, false, false, NULL, NULL};
    return add_def(x, &d);
}

/* Records a binding of name (node) in scope with flag; creates the variable def of a first
 * plain binding. */
static sym *bind(fx *x, int32_t scope, int32_t node, const char *name, uint32_t flag, const char *defkind)
{
    const char *key = mangle(x, scope, name);
    sym *s = symbol(x, scope, key);
    if (!s)
        return NULL;
    s->flags |= flag;
    if (defkind && s->def < 0 && !(s->flags & (F_GLOBAL | F_NONLOCAL)))
        s->def = add_name_def(x, defkind, node, name, scope);
    return s;
}

/* ---- the walk --------------------------------------------------------------------------------- */

static void visit(fx *x, int32_t i, int32_t s);
static void target(fx *x, int32_t i, int32_t s, int ctx);

static void visit_children(fx *x, int32_t i, int32_t s)
{
    for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling)
        if (N(x, c)->flags & CA_PY_NAMED)
            visit(x, c, s);
}

static void add_ref(fx *x, int32_t i, int32_t s, int ctx)
{
    const char *name = ident(x, i);
    const char *key = mangle(x, s, name);
    sym *sy = symbol(x, s, key);
    if (!sy)
        return;
    if (ctx == CTX_LOAD) {
        sy->flags |= F_USE;
    } else {
        sy->flags |= F_LOCAL;
        if (ctx == CTX_STORE && sy->def < 0 && !(sy->flags & (F_GLOBAL | F_NONLOCAL)))
            sy->def = add_name_def(x, "variable", i, name, s);
    }
    if (!grow(x, (void **)&x->refs, &x->cap_refs, x->n_refs + 1, sizeof *x->refs))
        return;
    ref *r = &x->refs[x->n_refs++];
    r->name = name;
    r->key = key;
    r->ctx = ctx;
    r->scope = s;
    r->node = (uint32_t)i;
}

/* A name occurrence that CPython's symtable does not record (no flags, no def). */
static void add_ref_noflag(fx *x, int32_t i, int32_t s, int ctx)
{
    const char *name = ident(x, i);
    if (!grow(x, (void **)&x->refs, &x->cap_refs, x->n_refs + 1, sizeof *x->refs))
        return;
    ref *r = &x->refs[x->n_refs++];
    r->name = name;
    r->key = mangle(x, s, name);
    r->ctx = ctx;
    r->scope = s;
    r->node = (uint32_t)i;
}

/* Node whose end is the CPython end of i: a block's trailing comments are not part of it. The
 * descent follows children that end where i ends; a node whose end comes from a token the flat
 * tree does not keep (a closing bracket) ends where tree-sitter says. */
static int32_t end_node(const fx *x, int32_t i)
{
    for (;;) {
        int32_t c = N(x, i)->last_child;
        if (c == CA_PY_NONE || N(x, c)->bend != N(x, i)->bend)
            return i;
        if (N(x, c)->kind == CA_PY_COMMENT || (N(x, c)->flags & CA_PY_IS_MISSING) ||
            N(x, c)->bend == N(x, c)->bstart) {
            int32_t best = CA_PY_NONE;
            for (int32_t d = N(x, i)->first_child; d != CA_PY_NONE; d = N(x, d)->next_sibling)
                if (N(x, d)->kind != CA_PY_COMMENT && !(N(x, d)->flags & CA_PY_IS_MISSING) &&
                    N(x, d)->bend > N(x, d)->bstart)
                    best = d;
            if (best == CA_PY_NONE)
                return i;
            c = best;
        }
        i = c;
    }
}

/* CPython ends a def after a `;` that follows its last statement: the end byte and column. */
static void def_end(const fx *x, int32_t en, uint32_t *e, uint32_t *ec)
{
    uint32_t p = N(x, en)->bend, len = (uint32_t)x->in->len;
    *e = p;
    *ec = N(x, en)->ecol;
    while (p < len && (x->text[p] == ' ' || x->text[p] == '\t'))
        p++;
    if (p < len && x->text[p] == ';') {
        *ec += p + 1 - *e;
        *e = p + 1;
    }
}

static void annotation(fx *x, int32_t i, int32_t s)
{
    if (i == CA_PY_NONE)
        return;
    if (x->future_annotations) {
        if (x->scopes[s].annot < 0) {
            int32_t a = new_scope(x, SC_ANNOT, "_annotation", x->scopes[s].qualname, s, 0, 0);
            x->scopes[s].annot = a;
        }
        visit(x, i, x->scopes[s].annot);
    } else {
        visit(x, i, s);
    }
}

/* Python string literal value (docstrings): escapes decoded, newlines normalized. */
static const char *string_value(fx *x, int32_t str)
{
    uint32_t b = N(x, str)->bstart, e = N(x, str)->bend;
    const char *t = x->text;
    /* prefix */
    bool raw = false;
    uint32_t p = b;
    while (p < e && t[p] != '\'' && t[p] != '"') {
        char c = t[p] | 0x20;
        if (c == 'r')
            raw = true;
        if (c == 'f' || c == 'b')
            return NULL; /* f-strings and bytes are not docstrings */
        p++;
    }
    if (p >= e)
        return NULL;
    char q = t[p];
    size_t ql = (p + 2 < e && t[p + 1] == q && t[p + 2] == q) ? 3 : 1;
    if (e - p < 2 * ql)
        return NULL;
    uint32_t cb = p + (uint32_t)ql, ce = e - (uint32_t)ql;
    ca_buf *o = &x->scratch;
    ca_buf_clear(o);
    for (uint32_t k = cb; k < ce; k++) {
        char c = t[k];
        if (c == '\r') {
            ca_buf_putc(o, '\n');
            if (k + 1 < ce && t[k + 1] == '\n')
                k++;
            continue;
        }
        if (c != '\\' || raw || k + 1 >= ce) {
            if (raw && c == '\\' && k + 1 < ce) { /* raw: keep both, skip the escaped quote */
                ca_buf_putc(o, c);
                ca_buf_putc(o, t[++k]);
                continue;
            }
            ca_buf_putc(o, c);
            continue;
        }
        char d = t[++k];
        uint32_t cp = 0;
        int digits = 0;
        switch (d) {
        case '\n': break;
        case '\r': if (k + 1 < ce && t[k + 1] == '\n') k++; break;
        case '\\': ca_buf_putc(o, '\\'); break;
        case '\'': ca_buf_putc(o, '\''); break;
        case '"': ca_buf_putc(o, '"'); break;
        case 'a': ca_buf_putc(o, '\a'); break;
        case 'b': ca_buf_putc(o, '\b'); break;
        case 'f': ca_buf_putc(o, '\f'); break;
        case 'n': ca_buf_putc(o, '\n'); break;
        case 'r': ca_buf_putc(o, '\r'); break;
        case 't': ca_buf_putc(o, '\t'); break;
        case 'v': ca_buf_putc(o, '\v'); break;
        case 'x': digits = 2; break;
        case 'u': digits = 4; break;
        case 'U': digits = 8; break;
        default:
            if (d >= '0' && d <= '7') {
                cp = (uint32_t)(d - '0');
                for (int j = 0; j < 2 && k + 1 < ce && t[k + 1] >= '0' && t[k + 1] <= '7'; j++)
                    cp = cp * 8 + (uint32_t)(t[++k] - '0');
                digits = -1;
            } else {
                ca_buf_putc(o, '\\');
                ca_buf_putc(o, d);
            }
        }
        if (digits > 0) {
            uint32_t v = 0;
            int j = 0;
            for (; j < digits && k + 1 < ce; j++) {
                char h = t[k + 1];
                int hv = h >= '0' && h <= '9' ? h - '0' : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10 : -1;
                if (hv < 0)
                    break;
                v = v * 16 + (uint32_t)hv;
                k++;
            }
            cp = v;
            digits = j == digits ? -1 : 0;
        }
        if (digits < 0) {
            char enc[4];
            int l = ca_text_utf8_encode(cp, enc);
            if (l > 0)
                ca_buf_append(o, enc, (size_t)l);
        }
    }
    if (ca_buf_status(o)) {
        fail(x, ca_buf_status(o));
        return NULL;
    }
    const char *r = ca_arena_strndup(x->a, o->data ? o->data : "", o->len);
    if (!r)
        fail(x, CA_E_NOMEM);
    return r;
}

static const char *docstring(fx *x, int32_t block)
{
    if (block == CA_PY_NONE)
        return NULL;
    int32_t st0 = CA_PY_NONE;
    for (int32_t c = N(x, block)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling)
        if (is_code(x, c)) {
            st0 = c;
            break;
        }
    if (st0 == CA_PY_NONE || K(x, st0) != CA_PY_EXPRESSION_STATEMENT)
        return NULL;
    int32_t e = CA_PY_NONE;
    int n = 0;
    for (int32_t c = N(x, st0)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling)
        if (is_code(x, c)) {
            e = c;
            n++;
        }
    if (n != 1)
        return NULL;
    if (K(x, e) == CA_PY_STRING)
        return string_value(x, e);
    if (K(x, e) == CA_PY_CONCATENATED_STRING) {
        ca_buf acc = CA_BUF_INIT;
        for (int32_t c = N(x, e)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (K(x, c) != CA_PY_STRING)
                continue;
            const char *v = string_value(x, c);
            if (!v) {
                ca_buf_free(&acc);
                return NULL;
            }
            ca_buf_puts(&acc, v);
        }
        const char *r = ca_arena_strndup(x->a, acc.data ? acc.data : "", acc.len);
        ca_buf_free(&acc);
        return r;
    }
    return NULL;
}

/* The dotted name of a name/attribute chain (NULL otherwise). */
static const char *dotted(fx *x, int32_t i)
{
    if (K(x, i) == CA_PY_IDENTIFIER)
        return ident(x, i);
    if (K(x, i) == CA_PY_ATTRIBUTE) {
        int32_t o = field(x, i, CA_PYF_OBJECT), a = field(x, i, CA_PYF_ATTRIBUTE);
        if (o == CA_PY_NONE || a == CA_PY_NONE)
            return NULL;
        const char *l = dotted(x, o);
        if (!l)
            return NULL;
        return ca_arena_printf(x->a, "%s.%s", l, ident(x, a));
    }
    if (K(x, i) == CA_PY_DOTTED_NAME) {
        const char *r = NULL;
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (K(x, c) != CA_PY_IDENTIFIER)
                continue;
            const char *id = ident(x, c);
            r = r ? ca_arena_printf(x->a, "%s.%s", r, id) : id;
        }
        return r;
    }
    return NULL;
}

/* Parameters of a function or lambda: defaults and annotations evaluate in s (enclosing),
 * names bind in f. */
static void parameters(fx *x, int32_t params, int32_t s, int32_t f, int32_t fdef)
{
    if (params == CA_PY_NONE)
        return;
    bool has_slash = false;
    for (int32_t c = N(x, params)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling)
        if (K(x, c) == CA_PY_POSITIONAL_SEPARATOR)
            has_slash = true;
    bool before_slash = has_slash, kw_only = false;
    int64_t pos = 0;
    for (int32_t c = N(x, params)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
        int k = K(x, c);
        if (k == CA_PY_POSITIONAL_SEPARATOR) {
            before_slash = false;
            continue;
        }
        if (k == CA_PY_KEYWORD_SEPARATOR) {
            kw_only = true;
            continue;
        }
        int32_t name = CA_PY_NONE, def = CA_PY_NONE, ann = CA_PY_NONE;
        const char *pkind = before_slash ? "positional_only" : kw_only ? "keyword_only" : "positional_or_keyword";
        int32_t inner = c;
        if (k == CA_PY_DEFAULT_PARAMETER || k == CA_PY_TYPED_DEFAULT_PARAMETER) {
            name = field(x, c, CA_PYF_NAME);
            def = field(x, c, CA_PYF_VALUE);
            ann = field(x, c, CA_PYF_TYPE);
        } else if (k == CA_PY_TYPED_PARAMETER) {
            ann = field(x, c, CA_PYF_TYPE);
            for (int32_t d = N(x, c)->first_child; d != CA_PY_NONE; d = N(x, d)->next_sibling)
                if (is_code(x, d) && N(x, d)->field != CA_PYF_TYPE) {
                    inner = d;
                    break;
                }
        }
        if (name == CA_PY_NONE) {
            int ik = K(x, inner);
            if (ik == CA_PY_IDENTIFIER) {
                name = inner;
            } else if (ik == CA_PY_LIST_SPLAT_PATTERN || ik == CA_PY_DICTIONARY_SPLAT_PATTERN) {
                name = child_kind(x, inner, CA_PY_IDENTIFIER);
                pkind = ik == CA_PY_LIST_SPLAT_PATTERN ? "var_positional" : "var_keyword";
                if (ik == CA_PY_LIST_SPLAT_PATTERN)
                    kw_only = true;
            } else if (k != CA_PY_DEFAULT_PARAMETER && k != CA_PY_TYPED_DEFAULT_PARAMETER) {
                if (is_code(x, c))
                    visit(x, c, s); /* unexpected (error recovery): still walk it */
                continue;
            }
        }
        if (def != CA_PY_NONE)
            visit(x, def, s);
        annotation(x, ann, s);
        if (name == CA_PY_NONE || K(x, name) != CA_PY_IDENTIFIER)
            continue;
        const char *pname = ident(x, name);
        const char *key = mangle(x, f, pname);
        sym *sy = symbol(x, f, key);
        if (!sy)
            return;
        sy->flags |= F_PARAM;
        int32_t pd = add_name_def(x, "parameter", name, pname, f);
        if (sy->def < 0)
            sy->def = pd;
        int t = T_PARAMS;
        a_str(x, t, x->file_id);
        a_str(x, t, pd >= 0 ? x->def_ids[pd] : NULL);
        a_str(x, t, fdef >= 0 ? x->def_ids[fdef] : NULL);
        a_i64(x, t, pos++);
        a_str(x, t, pname);
        a_str(x, t, pkind);
        a_bool(x, t, def != CA_PY_NONE);
        a_str(x, t, def != CA_PY_NONE ? node_capped(x, def) : NULL);
        a_str(x, t, ann != CA_PY_NONE ? node_capped(x, ann) : NULL);
        a_end(x, t);
    }
}

static void decorators(fx *x, int32_t decorated, int32_t s, int32_t def)
{
    if (decorated == CA_PY_NONE)
        return;
    int64_t pos = 0;
    for (int32_t c = N(x, decorated)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
        if (K(x, c) != CA_PY_DECORATOR)
            continue;
        int32_t e = CA_PY_NONE;
        for (int32_t d = N(x, c)->first_child; d != CA_PY_NONE; d = N(x, d)->next_sibling)
            if (is_code(x, d)) {
                e = d;
                break;
            }
        if (e == CA_PY_NONE)
            continue;
        visit(x, e, s);
        int32_t callee = K(x, e) == CA_PY_CALL ? field(x, e, CA_PYF_FUNCTION) : e;
        int t = T_DECORATORS;
        a_str(x, t, x->file_id);
        a_str(x, t, make_id(x, "dec", N(x, e)->bstart, N(x, e)->bend, NULL));
        a_str(x, t, def >= 0 ? x->def_ids[def] : NULL);
        a_i64(x, t, pos++);
        a_str(x, t, node_capped(x, e));
        a_str(x, t, callee != CA_PY_NONE ? dotted(x, callee) : NULL);
        a_i64(x, t, N(x, e)->bstart);
        a_i64(x, t, N(x, e)->bend);
        a_end(x, t);
    }
}

static int32_t type_params_of(fx *x, int32_t tp, int32_t s, const char *qualname)
{
    if (tp == CA_PY_NONE)
        return s;
    int32_t sc = new_scope(x, SC_TYPE_PARAMS, "<generic parameters>", qualname, s, N(x, tp)->bstart, N(x, tp)->bend);
    emit_scope_row(x, sc, N(x, tp)->bstart, N(x, tp)->bend);
    for (int32_t c = N(x, tp)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
        if (!is_code(x, c))
            continue;
        /* type(identifier) | type(constrained_type(type(T), type(bound))) | type(splat_type(* T)) */
        int32_t inner = c, id = CA_PY_NONE, bound = CA_PY_NONE;
        if (K(x, inner) == CA_PY_TYPE && N(x, inner)->first_child != CA_PY_NONE)
            inner = N(x, inner)->first_child;
        if (K(x, inner) == CA_PY_IDENTIFIER) {
            id = inner;
        } else if (K(x, inner) == CA_PY_SPLAT_TYPE) {
            id = child_kind(x, inner, CA_PY_IDENTIFIER);
        } else if (K(x, inner) == CA_PY_CONSTRAINED_TYPE) {
            int32_t first = child_kind(x, inner, CA_PY_TYPE);
            id = first != CA_PY_NONE ? child_kind(x, first, CA_PY_IDENTIFIER) : CA_PY_NONE;
            for (int32_t d = N(x, inner)->first_child; d != CA_PY_NONE; d = N(x, d)->next_sibling)
                if (d != first && is_code(x, d))
                    bound = d;
        }
        if (id == CA_PY_NONE) {
            visit(x, c, sc);
            continue;
        }
        bind(x, sc, id, ident(x, id), F_LOCAL, "type_param");
        if (bound != CA_PY_NONE)
            visit(x, bound, sc);
    }
    return sc;
}

static int32_t type_params(fx *x, int32_t i, int32_t s, const char *qualname)
{
    return type_params_of(x, field(x, i, CA_PYF_TYPE_PARAMETERS), s, qualname);
}

static void function_def(fx *x, int32_t i, int32_t s, int32_t decorated)
{
    int32_t nm = field(x, i, CA_PYF_NAME);
    const char *name = nm != CA_PY_NONE ? ident(x, nm) : "";
    int32_t en = end_node(x, i);
    uint32_t b = N(x, i)->bstart, e, ec;
    def_end(x, en, &e, &ec);
    const char *qn = qualify(x, s, name);
    int32_t outer = type_params(x, i, s, qn);
    int32_t f = new_scope(x, SC_FUNCTION, name, qn, outer, b, e);
    int32_t body = field(x, i, CA_PYF_BODY);
    int sk = x->scopes[s].kind;
    defspec d = {"function", name, qn, s, f, b, e, nm, N(x, i)->srow + 1, N(x, i)->scol,
                 N(x, en)->erow + 1, ec, has_tok(x, i, CA_PY_KEYWORD_ASYNC),
                 sk == SC_CLASS, docstring(x, body), NULL};
    int32_t di = add_def(x, &d);
    if (nm != CA_PY_NONE) {
        sym *sy = bind(x, s, nm, name, F_LOCAL, NULL);
        if (sy && sy->def < 0 && !(sy->flags & (F_GLOBAL | F_NONLOCAL)))
            sy->def = di;
    }
    x->scopes[f].def = di;
    x->scopes[f].container_def = di;
    emit_scope_row(x, f, b, e);
    decorators(x, decorated, s, di);
    parameters(x, field(x, i, CA_PYF_PARAMETERS), outer, f, di);
    annotation(x, field(x, i, CA_PYF_RETURN_TYPE), outer);
    if (body != CA_PY_NONE)
        visit(x, body, f);
}

static void class_def(fx *x, int32_t i, int32_t s, int32_t decorated)
{
    int32_t nm = field(x, i, CA_PYF_NAME);
    const char *name = nm != CA_PY_NONE ? ident(x, nm) : "";
    int32_t en = end_node(x, i);
    uint32_t b = N(x, i)->bstart, e, ec;
    def_end(x, en, &e, &ec);
    const char *qn = qualify(x, s, name);
    int32_t outer = type_params(x, i, s, qn);
    int32_t c = new_scope(x, SC_CLASS, name, qn, outer, b, e);
    x->scopes[c].mangle = name;
    int32_t body = field(x, i, CA_PYF_BODY);
    defspec d = {"class", name, qn, s, c, b, e, nm, N(x, i)->srow + 1, N(x, i)->scol,
                 N(x, en)->erow + 1, ec, false, false, docstring(x, body), NULL};
    int32_t di = add_def(x, &d);
    if (nm != CA_PY_NONE) {
        sym *sy = bind(x, s, nm, name, F_LOCAL, NULL);
        if (sy && sy->def < 0 && !(sy->flags & (F_GLOBAL | F_NONLOCAL)))
            sy->def = di;
    }
    x->scopes[c].def = di;
    x->scopes[c].container_def = di;
    emit_scope_row(x, c, b, e);
    decorators(x, decorated, s, di);
    int32_t sup = field(x, i, CA_PYF_SUPERCLASSES);
    if (sup != CA_PY_NONE) {
        int64_t pos = 0;
        for (int32_t a = N(x, sup)->first_child; a != CA_PY_NONE; a = N(x, a)->next_sibling) {
            if (!is_code(x, a))
                continue;
            visit(x, a, outer);
            const char *kw = NULL, *bname = NULL;
            int32_t val = a;
            if (K(x, a) == CA_PY_KEYWORD_ARGUMENT) {
                int32_t kn = field(x, a, CA_PYF_NAME);
                kw = kn != CA_PY_NONE ? ident(x, kn) : NULL;
                val = field(x, a, CA_PYF_VALUE);
            } else {
                bname = dotted(x, a);
            }
            int t = T_CLASS_BASES;
            a_str(x, t, x->file_id);
            a_str(x, t, make_id(x, "base", N(x, a)->bstart, N(x, a)->bend, NULL));
            a_str(x, t, x->def_ids[di]);
            a_i64(x, t, pos++);
            a_str(x, t, val != CA_PY_NONE ? node_capped(x, val) : NULL);
            a_str(x, t, bname);
            a_str(x, t, kw);
            a_i64(x, t, N(x, a)->bstart);
            a_i64(x, t, N(x, a)->bend);
            a_end(x, t);
        }
    }
    if (body != CA_PY_NONE)
        visit(x, body, c);
}

static void lambda_def(fx *x, int32_t i, int32_t s)
{
    uint32_t b = N(x, i)->bstart, e = N(x, i)->bend;
    const char *qn = qualify(x, s, "<lambda>");
    int32_t l = new_scope(x, SC_LAMBDA, "<lambda>", qn, s, b, e);
    defspec d = {"lambda", "<lambda>", qn, s, l, b, e, -1, N(x, i)->srow + 1, N(x, i)->scol,
                 N(x, i)->erow + 1, N(x, i)->ecol, false, false, NULL, NULL};
    int32_t di = add_def(x, &d);
    x->scopes[l].def = di;
    x->scopes[l].container_def = di;
    emit_scope_row(x, l, b, e);
    parameters(x, field(x, i, CA_PYF_PARAMETERS), s, l, di);
    int32_t body = field(x, i, CA_PYF_BODY);
    if (body != CA_PY_NONE)
        visit(x, body, l);
}

static void comprehension(fx *x, int32_t i, int32_t s)
{
    const char *name = "<genexpr>";
    switch (K(x, i)) {
    case CA_PY_LIST_COMPREHENSION: name = "<listcomp>"; break;
    case CA_PY_SET_COMPREHENSION: name = "<setcomp>"; break;
    case CA_PY_DICTIONARY_COMPREHENSION: name = "<dictcomp>"; break;
    default: break;
    }
    uint32_t b = N(x, i)->bstart, e = N(x, i)->bend;
    bool first = true;
    int32_t q = -1;
    /* the outermost iterable is evaluated in the enclosing scope */
    for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
        if (K(x, c) == CA_PY_FOR_IN_CLAUSE) {
            for (int32_t d = N(x, c)->first_child; d != CA_PY_NONE; d = N(x, d)->next_sibling)
                if (N(x, d)->field == CA_PYF_RIGHT && is_code(x, d))
                    visit(x, d, s);
            break;
        }
    }
    q = new_scope(x, SC_COMP, name, qualify(x, s, name), s, b, e);
    emit_scope_row(x, q, b, e);
    for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
        if (!is_code(x, c))
            continue;
        if (K(x, c) == CA_PY_FOR_IN_CLAUSE) {
            for (int32_t d = N(x, c)->first_child; d != CA_PY_NONE; d = N(x, d)->next_sibling) {
                if (!is_code(x, d))
                    continue;
                if (N(x, d)->field == CA_PYF_LEFT)
                    target(x, d, q, CTX_STORE);
                else if (N(x, d)->field == CA_PYF_RIGHT && !first)
                    visit(x, d, q);
                else if (N(x, d)->field != CA_PYF_RIGHT)
                    visit(x, d, q);
            }
            first = false;
        } else {
            visit(x, c, q);
        }
    }
}

static void walrus(fx *x, int32_t nm, int32_t s)
{
    if (nm == CA_PY_NONE || K(x, nm) != CA_PY_IDENTIFIER) {
        if (nm != CA_PY_NONE)
            visit(x, nm, s);
        return;
    }
    if (x->scopes[s].kind == SC_COMP) {
        const char *name = ident(x, nm);
        int32_t t = s;
        while (t >= 0 && x->scopes[t].kind == SC_COMP)
            t = x->scopes[t].parent;
        if (t >= 0 && (fn_like(x->scopes[t].kind) || x->scopes[t].kind == SC_MODULE)) {
            const char *key = mangle(x, s, name);
            sym *ts = symbol(x, t, key);
            sym *cs = symbol(x, s, key);
            if (ts && cs) {
                if (x->scopes[t].kind == SC_MODULE || (ts->flags & F_GLOBAL)) {
                    cs->flags |= F_GLOBAL;
                    if (x->scopes[t].kind == SC_MODULE)
                        ts->flags |= F_GLOBAL;
                    else
                        ts->flags |= F_LOCAL;
                } else {
                    cs->flags |= F_NONLOCAL;
                    ts->flags |= F_LOCAL;
                }
                if (ts->def < 0)
                    ts->def = add_name_def(x, "variable", nm, name, t);
            }
        }
    }
    add_ref(x, nm, s, CTX_STORE);
}

static void attribute(fx *x, int32_t i, int32_t s, int ctx)
{
    int32_t o = field(x, i, CA_PYF_OBJECT), a = field(x, i, CA_PYF_ATTRIBUTE);
    if (o != CA_PY_NONE)
        visit(x, o, s);
    if (a == CA_PY_NONE)
        return;
    int32_t root = o;
    while (root != CA_PY_NONE && K(x, root) == CA_PY_ATTRIBUTE)
        root = field(x, root, CA_PYF_OBJECT);
    bool rid = root != CA_PY_NONE && K(x, root) == CA_PY_IDENTIFIER;
    const scope_t *sc = &x->scopes[s];
    int t = T_ATTRIBUTES;
    a_str(x, t, x->file_id);
    a_str(x, t, make_id(x, "attr", N(x, i)->bstart, N(x, i)->bend, NULL));
    a_str(x, t, ident(x, a));
    a_str(x, t, o != CA_PY_NONE ? node_capped(x, o) : NULL);
    a_str(x, t, rid ? ident(x, root) : NULL);
    a_str(x, t, rid ? make_id(x, "ref", N(x, root)->bstart, N(x, root)->bend, NULL) : NULL);
    a_str(x, t, ctx_names[ctx]);
    a_str(x, t, x->scopes[sc->emit_scope].id);
    a_str(x, t, sc->container_def >= 0 ? x->def_ids[sc->container_def] : NULL);
    a_i64(x, t, N(x, i)->bstart);
    a_i64(x, t, N(x, i)->bend);
    a_end(x, t);
}

static void call(fx *x, int32_t i, int32_t s)
{
    int32_t fn = field(x, i, CA_PYF_FUNCTION), args = field(x, i, CA_PYF_ARGUMENTS);
    const char *call_id = make_id(x, "call", N(x, i)->bstart, N(x, i)->bend, NULL);
    const char *cname = NULL, *croot = NULL, *cref = NULL;
    if (fn != CA_PY_NONE) {
        if (K(x, fn) == CA_PY_IDENTIFIER) {
            cname = croot = ident(x, fn);
            cref = make_id(x, "ref", N(x, fn)->bstart, N(x, fn)->bend, NULL);
        } else if (K(x, fn) == CA_PY_ATTRIBUTE) {
            int32_t a = field(x, fn, CA_PYF_ATTRIBUTE);
            cname = a != CA_PY_NONE ? ident(x, a) : NULL;
            int32_t r = field(x, fn, CA_PYF_OBJECT);
            while (r != CA_PY_NONE && K(x, r) == CA_PY_ATTRIBUTE)
                r = field(x, r, CA_PYF_OBJECT);
            if (r != CA_PY_NONE && K(x, r) == CA_PY_IDENTIFIER) {
                croot = ident(x, r);
                cref = make_id(x, "ref", N(x, r)->bstart, N(x, r)->bend, NULL);
            }
        }
        visit(x, fn, s);
    }
    int64_t nargs = 0;
    bool star = false, kwargs = false;
    if (args != CA_PY_NONE) {
        if (K(x, args) == CA_PY_ARGUMENT_LIST) {
            for (int32_t c = N(x, args)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
                if (!is_code(x, c))
                    continue;
                int k = K(x, c);
                const char *kw = NULL;
                int32_t val = c;
                if (k == CA_PY_KEYWORD_ARGUMENT) {
                    int32_t kn = field(x, c, CA_PYF_NAME);
                    kw = kn != CA_PY_NONE ? ident(x, kn) : NULL;
                    val = field(x, c, CA_PYF_VALUE);
                    if (val != CA_PY_NONE)
                        visit(x, val, s);
                } else {
                    visit(x, c, s);
                }
                if (k == CA_PY_LIST_SPLAT)
                    star = true;
                if (k == CA_PY_DICTIONARY_SPLAT)
                    kwargs = true;
                int t = T_CALL_ARGS;
                a_str(x, t, x->file_id);
                a_str(x, t, make_id(x, "arg", N(x, c)->bstart, N(x, c)->bend, NULL));
                a_str(x, t, call_id);
                a_i64(x, t, nargs++);
                a_str(x, t, kw);
                a_bool(x, t, k == CA_PY_LIST_SPLAT);
                a_bool(x, t, k == CA_PY_DICTIONARY_SPLAT);
                a_str(x, t, node_capped(x, c));
                a_i64(x, t, N(x, c)->bstart);
                a_i64(x, t, N(x, c)->bend);
                a_end(x, t);
            }
        } else { /* f(x for x in y) */
            visit(x, args, s);
            int t = T_CALL_ARGS;
            a_str(x, t, x->file_id);
            a_str(x, t, make_id(x, "arg", N(x, args)->bstart, N(x, args)->bend, NULL));
            a_str(x, t, call_id);
            a_i64(x, t, nargs++);
            a_str(x, t, NULL);
            a_bool(x, t, false);
            a_bool(x, t, false);
            a_str(x, t, node_capped(x, args));
            a_i64(x, t, N(x, args)->bstart);
            a_i64(x, t, N(x, args)->bend);
            a_end(x, t);
        }
    }
    const scope_t *sc = &x->scopes[s];
    int t = T_CALLS;
    a_str(x, t, x->file_id);
    a_str(x, t, call_id);
    a_str(x, t, fn != CA_PY_NONE ? node_capped(x, fn) : NULL);
    a_str(x, t, cname);
    a_str(x, t, croot);
    a_str(x, t, cref);
    a_str(x, t, x->scopes[sc->emit_scope].id);
    a_str(x, t, sc->container_def >= 0 ? x->def_ids[sc->container_def] : NULL);
    a_i64(x, t, N(x, i)->bstart);
    a_i64(x, t, N(x, i)->bend);
    a_i64(x, t, N(x, i)->srow + 1);
    a_i64(x, t, N(x, i)->scol);
    a_i64(x, t, nargs);
    a_bool(x, t, star);
    a_bool(x, t, kwargs);
    a_end(x, t);
}

/* absolute module of a relative import (NULL when deeper than the package chain) */
static const char *absolute_module(fx *x, const char *module, int64_t level)
{
    if (level == 0)
        return module;
    const char *mn = x->in->module_name;
    size_t plen;
    if (x->in->is_init) {
        plen = strlen(mn);
    } else {
        const char *dot = strrchr(mn, '.');
        if (!dot)
            return NULL;
        plen = (size_t)(dot - mn);
    }
    for (int64_t l = 1; l < level; l++) {
        while (plen && mn[plen - 1] != '.')
            plen--;
        if (!plen)
            return NULL;
        plen--; /* the dot */
    }
    if (!plen)
        return NULL;
    const char *r = module ? ca_arena_printf(x->a, "%.*s.%s", (int)plen, mn, module)
                           : ca_arena_strndup(x->a, mn, plen);
    if (!r)
        fail(x, CA_E_NOMEM);
    return r;
}

static void import_row(fx *x, int32_t span, int32_t s, const char *kind, const char *module,
                       int64_t level, const char *name, const char *alias, const char *bound,
                       int32_t bound_node)
{
    int32_t di = -1;
    if (bound && bound_node != CA_PY_NONE) {
        const char *key = mangle(x, s, bound);
        sym *sy = symbol(x, s, key);
        if (sy) {
            sy->flags |= F_IMPORT;
            const ca_py_node *sp = N(x, span);
            defspec d = {"import", bound, qualify(x, s, bound), s, -1, sp->bstart, sp->bend, bound_node,
                         sp->srow + 1, sp->scol, sp->erow + 1, sp->ecol, false, false, NULL, NULL};
            di = add_def(x, &d);
            if (sy->def < 0 && !(sy->flags & (F_GLOBAL | F_NONLOCAL)))
                sy->def = di;
        }
    }
    const scope_t *sc = &x->scopes[s];
    int t = T_IMPORTS;
    a_str(x, t, x->file_id);
    a_str(x, t, make_id(x, "import", N(x, span)->bstart, N(x, span)->bend, NULL));
    a_str(x, t, kind);
    a_str(x, t, module);
    a_i64(x, t, level);
    a_str(x, t, absolute_module(x, module, level));
    a_str(x, t, name);
    a_str(x, t, alias);
    a_str(x, t, bound);
    a_str(x, t, di >= 0 ? x->def_ids[di] : NULL);
    a_str(x, t, x->scopes[sc->emit_scope].id);
    a_i64(x, t, N(x, span)->bstart);
    a_i64(x, t, N(x, span)->bend);
    a_bool(x, t, x->cond_depth > 0);
    a_bool(x, t, x->tc_depth > 0);
    a_end(x, t);
}

static int32_t first_ident(const fx *x, int32_t i)
{
    if (K(x, i) == CA_PY_IDENTIFIER)
        return i;
    return child_kind(x, i, CA_PY_IDENTIFIER);
}

static void import_stmt(fx *x, int32_t i, int32_t s)
{
    int k = K(x, i);
    const char *module = NULL;
    int64_t level = 0;
    if (k != CA_PY_IMPORT_STATEMENT) {
        int32_t m = field(x, i, CA_PYF_MODULE_NAME);
        if (k == CA_PY_FUTURE_IMPORT_STATEMENT) {
            module = "__future__";
        } else if (m != CA_PY_NONE && K(x, m) == CA_PY_RELATIVE_IMPORT) {
            int32_t pre = child_kind(x, m, CA_PY_IMPORT_PREFIX);
            if (pre != CA_PY_NONE)
                level = N(x, pre)->bend - N(x, pre)->bstart;
            int32_t dn = child_kind(x, m, CA_PY_DOTTED_NAME);
            module = dn != CA_PY_NONE ? dotted(x, dn) : NULL;
        } else if (m != CA_PY_NONE) {
            module = dotted(x, m);
        }
    }
    for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
        if (K(x, c) == CA_PY_WILDCARD_IMPORT) {
            import_row(x, c, s, "from", module, level, "*", NULL, NULL, CA_PY_NONE);
            continue;
        }
        if (N(x, c)->field != CA_PYF_NAME)
            continue;
        int32_t dn = c, al = CA_PY_NONE;
        if (K(x, c) == CA_PY_ALIASED_IMPORT) {
            dn = field(x, c, CA_PYF_NAME);
            al = field(x, c, CA_PYF_ALIAS);
        }
        if (dn == CA_PY_NONE)
            continue;
        const char *dname = dotted(x, dn);
        if (!dname)
            continue;
        const char *alias = al != CA_PY_NONE ? ident(x, al) : NULL;
        if (k == CA_PY_IMPORT_STATEMENT) {
            int32_t fi = first_ident(x, dn);
            const char *bound = alias ? alias : fi != CA_PY_NONE ? ident(x, fi) : NULL;
            import_row(x, c, s, "import", dname, 0, NULL, alias, bound, al != CA_PY_NONE ? al : fi);
        } else {
            if (k == CA_PY_FUTURE_IMPORT_STATEMENT && !strcmp(dname, "annotations"))
                x->future_annotations = true;
            int32_t fi = first_ident(x, dn);
            import_row(x, c, s, "from", module, level, dname, alias, alias ? alias : dname,
                       al != CA_PY_NONE ? al : fi);
        }
    }
}

/* match-statement patterns: captures bind without a ref, value patterns load. */
static void capture(fx *x, int32_t id, int32_t s)
{
    const char *name = ident(x, id);
    if (!strcmp(name, "_"))
        return;
    bind(x, s, id, name, F_LOCAL, "variable");
}

static void pattern(fx *x, int32_t i, int32_t s)
{
    switch (K(x, i)) {
    case CA_PY_DOTTED_NAME: {
        int n = 0;
        int32_t first = CA_PY_NONE;
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling)
            if (K(x, c) == CA_PY_IDENTIFIER) {
                if (first == CA_PY_NONE)
                    first = c;
                n++;
            }
        if (first == CA_PY_NONE)
            return;
        if (n == 1)
            capture(x, first, s);
        else
            add_ref(x, first, s, CTX_LOAD);
        return;
    }
    case CA_PY_IDENTIFIER:
        capture(x, i, s);
        return;
    case CA_PY_CLASS_PATTERN: {
        bool first = true;
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            if (first && K(x, c) == CA_PY_DOTTED_NAME) {
                int32_t id = child_kind(x, c, CA_PY_IDENTIFIER);
                if (id != CA_PY_NONE)
                    add_ref(x, id, s, CTX_LOAD);
            } else {
                pattern(x, c, s);
            }
            first = false;
        }
        return;
    }
    case CA_PY_KEYWORD_PATTERN: {
        bool first = true;
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            if (!first)
                pattern(x, c, s);
            first = false;
        }
        return;
    }
    case CA_PY_SPLAT_PATTERN: {
        int32_t id = child_kind(x, i, CA_PY_IDENTIFIER);
        if (id != CA_PY_NONE)
            capture(x, id, s);
        return;
    }
    case CA_PY_DICT_PATTERN:
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            if (N(x, c)->field == CA_PYF_KEY) {
                if (K(x, c) == CA_PY_DOTTED_NAME) {
                    int32_t id = child_kind(x, c, CA_PY_IDENTIFIER);
                    if (id != CA_PY_NONE)
                        add_ref(x, id, s, CTX_LOAD);
                } else {
                    visit(x, c, s);
                }
            } else {
                pattern(x, c, s);
            }
        }
        return;
    case CA_PY_AS_PATTERN:
    case CA_PY_CASE_PATTERN:
    case CA_PY_LIST_PATTERN:
    case CA_PY_TUPLE_PATTERN:
    case CA_PY_UNION_PATTERN:
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            if (K(x, c) == CA_PY_AS_PATTERN_TARGET) {
                int32_t id = child_kind(x, c, CA_PY_IDENTIFIER);
                if (id != CA_PY_NONE)
                    capture(x, id, s);
            } else {
                pattern(x, c, s);
            }
        }
        return;
    default:
        visit(x, i, s);
    }
}

static void match_stmt(fx *x, int32_t i, int32_t s)
{
    for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
        if (!is_code(x, c))
            continue;
        if (K(x, c) != CA_PY_BLOCK) {
            visit(x, c, s);
            continue;
        }
        for (int32_t cc = N(x, c)->first_child; cc != CA_PY_NONE; cc = N(x, cc)->next_sibling) {
            if (K(x, cc) != CA_PY_CASE_CLAUSE) {
                if (is_code(x, cc))
                    visit(x, cc, s);
                continue;
            }
            for (int32_t p = N(x, cc)->first_child; p != CA_PY_NONE; p = N(x, p)->next_sibling) {
                if (!is_code(x, p))
                    continue;
                if (K(x, p) == CA_PY_CASE_PATTERN)
                    pattern(x, p, s);
                else
                    visit(x, p, s);
            }
        }
    }
}

static void target(fx *x, int32_t i, int32_t s, int ctx)
{
    switch (K(x, i)) {
    case CA_PY_IDENTIFIER:
        add_ref(x, i, s, ctx);
        return;
    case CA_PY_TUPLE:
    case CA_PY_LIST:
    case CA_PY_PATTERN_LIST:
    case CA_PY_TUPLE_PATTERN:
    case CA_PY_LIST_PATTERN:
    case CA_PY_PARENTHESIZED_EXPRESSION:
    case CA_PY_EXPRESSION_LIST:
    case CA_PY_LIST_SPLAT:
    case CA_PY_LIST_SPLAT_PATTERN:
    case CA_PY_AS_PATTERN_TARGET:
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling)
            if (is_code(x, c))
                target(x, c, s, ctx);
        return;
    case CA_PY_ATTRIBUTE:
        attribute(x, i, s, ctx);
        return;
    default:
        visit(x, i, s);
    }
}

static bool is_type_checking(fx *x, int32_t cond)
{
    if (cond == CA_PY_NONE)
        return false;
    const char *d = dotted(x, cond);
    if (!d)
        return false;
    size_t n = strlen(d);
    return !strcmp(d, "TYPE_CHECKING") || (n > 14 && !strcmp(d + n - 14, ".TYPE_CHECKING"));
}

static void visit(fx *x, int32_t i, int32_t s)
{
    if (x->rc != CA_OK || x->sink->status != CA_OK)
        return;
    if (++x->depth > MAX_DEPTH) {
        x->depth--;
        return;
    }
    switch (K(x, i)) {
    case CA_PY_IDENTIFIER:
        add_ref(x, i, s, CTX_LOAD);
        break;
    case CA_PY_COMMENT:
        break;
    case CA_PY_FUNCTION_DEFINITION:
        function_def(x, i, s, CA_PY_NONE);
        break;
    case CA_PY_CLASS_DEFINITION:
        class_def(x, i, s, CA_PY_NONE);
        break;
    case CA_PY_DECORATED_DEFINITION: {
        int32_t d = field(x, i, CA_PYF_DEFINITION);
        if (d != CA_PY_NONE && K(x, d) == CA_PY_FUNCTION_DEFINITION)
            function_def(x, d, s, i);
        else if (d != CA_PY_NONE && K(x, d) == CA_PY_CLASS_DEFINITION)
            class_def(x, d, s, i);
        else
            visit_children(x, i, s);
        break;
    }
    case CA_PY_LAMBDA:
        lambda_def(x, i, s);
        break;
    case CA_PY_LIST_COMPREHENSION:
    case CA_PY_SET_COMPREHENSION:
    case CA_PY_DICTIONARY_COMPREHENSION:
    case CA_PY_GENERATOR_EXPRESSION:
        comprehension(x, i, s);
        break;
    case CA_PY_ASSIGNMENT:
    case CA_PY_AUGMENTED_ASSIGNMENT: {
        /* `(x): int` (a non-simple annotated name, no value) binds nothing in CPython */
        bool bare_annot = K(x, i) == CA_PY_ASSIGNMENT && field(x, i, CA_PYF_TYPE) != CA_PY_NONE &&
                          field(x, i, CA_PYF_RIGHT) == CA_PY_NONE;
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            bool paren = K(x, c) == CA_PY_PARENTHESIZED_EXPRESSION ||
                         (K(x, c) == CA_PY_TUPLE_PATTERN && !has_tok(x, c, CA_PY_COMMA));
            if (N(x, c)->field == CA_PYF_LEFT && bare_annot && paren) {
                int32_t id = c;
                while (id != CA_PY_NONE && (K(x, id) == CA_PY_PARENTHESIZED_EXPRESSION ||
                                            K(x, id) == CA_PY_TUPLE_PATTERN)) {
                    int32_t inner = CA_PY_NONE;
                    for (int32_t d = N(x, id)->first_child; d != CA_PY_NONE; d = N(x, d)->next_sibling)
                        if (is_code(x, d)) {
                            inner = d;
                            break;
                        }
                    id = inner;
                }
                if (id != CA_PY_NONE && K(x, id) == CA_PY_IDENTIFIER)
                    add_ref_noflag(x, id, s, CTX_STORE);
                else
                    target(x, c, s, CTX_STORE);
            } else if (N(x, c)->field == CA_PYF_LEFT)
                target(x, c, s, CTX_STORE);
            else if (N(x, c)->field == CA_PYF_TYPE)
                annotation(x, c, s);
            else
                visit(x, c, s);
        }
        break;
    }
    case CA_PY_NAMED_EXPRESSION: {
        int32_t v = field(x, i, CA_PYF_VALUE);
        if (v != CA_PY_NONE)
            visit(x, v, s);
        walrus(x, field(x, i, CA_PYF_NAME), s);
        break;
    }
    case CA_PY_FOR_STATEMENT:
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            if (N(x, c)->field == CA_PYF_LEFT)
                target(x, c, s, CTX_STORE);
            else
                visit(x, c, s);
        }
        break;
    case CA_PY_WITH_ITEM:
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            if (K(x, c) == CA_PY_AS_PATTERN) {
                for (int32_t d = N(x, c)->first_child; d != CA_PY_NONE; d = N(x, d)->next_sibling) {
                    if (!is_code(x, d))
                        continue;
                    if (K(x, d) == CA_PY_AS_PATTERN_TARGET)
                        target(x, d, s, CTX_STORE);
                    else
                        visit(x, d, s);
                }
            } else {
                visit(x, c, s);
            }
        }
        break;
    case CA_PY_EXCEPT_CLAUSE:
    case CA_PY_EXCEPT_GROUP_CLAUSE:
        x->cond_depth++;
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            if (K(x, c) == CA_PY_AS_PATTERN) {
                for (int32_t d = N(x, c)->first_child; d != CA_PY_NONE; d = N(x, d)->next_sibling) {
                    if (!is_code(x, d))
                        continue;
                    if (K(x, d) == CA_PY_AS_PATTERN_TARGET) {
                        int32_t id = child_kind(x, d, CA_PY_IDENTIFIER);
                        if (id != CA_PY_NONE)
                            bind(x, s, id, ident(x, id), F_LOCAL, "variable");
                    } else {
                        visit(x, d, s);
                    }
                }
            } else {
                visit(x, c, s);
            }
        }
        x->cond_depth--;
        break;
    case CA_PY_TRY_STATEMENT:
        x->cond_depth++;
        visit_children(x, i, s);
        x->cond_depth--;
        break;
    case CA_PY_IF_STATEMENT: {
        int32_t cond = field(x, i, CA_PYF_CONDITION);
        bool tc = is_type_checking(x, cond);
        x->cond_depth++;
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            bool in_tc = tc && N(x, c)->field == CA_PYF_CONSEQUENCE;
            x->tc_depth += in_tc;
            visit(x, c, s);
            x->tc_depth -= in_tc;
        }
        x->cond_depth--;
        break;
    }
    case CA_PY_GLOBAL_STATEMENT:
    case CA_PY_NONLOCAL_STATEMENT: {
        bool g = K(x, i) == CA_PY_GLOBAL_STATEMENT;
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (K(x, c) != CA_PY_IDENTIFIER)
                continue;
            const char *name = ident(x, c);
            sym *sy = symbol(x, s, mangle(x, s, name));
            if (!sy)
                break;
            sy->flags |= g ? F_GLOBAL : F_NONLOCAL;
            if (g && x->scopes[s].kind != SC_MODULE) {
                /* a global declaration also marks the module's symbol (CPython's st_global) */
                sym *ms = symbol(x, 0, mangle(x, s, name));
                if (ms)
                    ms->flags |= F_GLOBAL;
            }
            add_name_def(x, g ? "global_decl" : "nonlocal_decl", c, name, s);
        }
        break;
    }
    case CA_PY_IMPORT_STATEMENT:
    case CA_PY_IMPORT_FROM_STATEMENT:
    case CA_PY_FUTURE_IMPORT_STATEMENT:
        import_stmt(x, i, s);
        break;
    case CA_PY_CALL:
        call(x, i, s);
        break;
    case CA_PY_KEYWORD_ARGUMENT: {
        int32_t v = field(x, i, CA_PYF_VALUE);
        if (v != CA_PY_NONE)
            visit(x, v, s);
        break;
    }
    case CA_PY_ATTRIBUTE:
        attribute(x, i, s, CTX_LOAD);
        break;
    case CA_PY_DELETE_STATEMENT:
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling)
            if (is_code(x, c))
                target(x, c, s, CTX_DEL);
        break;
    case CA_PY_MATCH_STATEMENT:
        match_stmt(x, i, s);
        break;
    case CA_PY_TYPE_ALIAS_STATEMENT: {
        /* tree-sitter reads `type(x).a = v` as a type alias: the `type` keyword token is then
         * the builtin name and the "alias" is an ordinary assignment target */
        int32_t left = field(x, i, CA_PYF_LEFT), kw = N(x, i)->first_child;
        int32_t inner = left != CA_PY_NONE ? N(x, left)->first_child : CA_PY_NONE;
        if (inner != CA_PY_NONE && K(x, inner) != CA_PY_IDENTIFIER && K(x, inner) != CA_PY_GENERIC_TYPE &&
            kw != CA_PY_NONE && TOK(x, kw) == CA_PY_TYPE) {
            add_ref(x, kw, s, CTX_LOAD);
            target(x, inner, s, CTX_STORE);
            int32_t right = field(x, i, CA_PYF_RIGHT);
            if (right != CA_PY_NONE)
                visit(x, right, s);
            break;
        }
        /* type Alias[K] = ...: left is type(identifier) or type(generic_type(identifier,
         * type_parameter)); the value is evaluated in the type-parameter scope */
        int32_t id = CA_PY_NONE, tp = CA_PY_NONE, in = inner;
        if (in != CA_PY_NONE && K(x, in) == CA_PY_GENERIC_TYPE) {
            tp = child_kind(x, in, CA_PY_TYPE_PARAMETER);
            in = child_kind(x, in, CA_PY_IDENTIFIER);
        }
        if (in != CA_PY_NONE && K(x, in) == CA_PY_IDENTIFIER)
            id = in;
        int32_t vs = s;
        if (id != CA_PY_NONE) {
            bind(x, s, id, ident(x, id), F_LOCAL, "type_alias");
            add_ref(x, id, s, CTX_STORE);
            vs = type_params_of(x, tp, s, qualify(x, s, ident(x, id)));
        } else if (left != CA_PY_NONE) {
            visit(x, left, s);
        }
        int32_t right = field(x, i, CA_PYF_RIGHT);
        if (right != CA_PY_NONE)
            visit(x, right, vs);
        break;
    }
    case CA_PY_PARAMETERS:
    case CA_PY_LAMBDA_PARAMETERS:
        break; /* handled by their definition */
    case CA_PY_INTERPOLATION:
        /* f'{x:=10}' is x with the format spec '=10', not a walrus (tree-sitter reads one) */
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            if (K(x, c) == CA_PY_NAMED_EXPRESSION) {
                int32_t nm = field(x, c, CA_PYF_NAME);
                if (nm != CA_PY_NONE)
                    visit(x, nm, s);
            } else {
                visit(x, c, s);
            }
        }
        break;
    case CA_PY_AS_PATTERN: /* a parenthesized with-item: (cm() as x) */
        for (int32_t c = N(x, i)->first_child; c != CA_PY_NONE; c = N(x, c)->next_sibling) {
            if (!is_code(x, c))
                continue;
            if (K(x, c) == CA_PY_AS_PATTERN_TARGET)
                target(x, c, s, CTX_STORE);
            else
                visit(x, c, s);
        }
        break;
    case CA_PY_PRINT_STATEMENT: {
        /* Python 2 `print >>f, x` parses in Python 3 as an expression on the name print */
        int32_t kw = N(x, i)->first_child;
        if (kw != CA_PY_NONE && TOK(x, kw) == CA_PY_KEYWORD_PRINT)
            add_ref(x, kw, s, CTX_LOAD);
        visit_children(x, i, s);
        break;
    }
    default:
        visit_children(x, i, s);
    }
    x->depth--;
}

/* ---- resolution ------------------------------------------------------------------------------- */

static bool is_builtin(const char *name)
{
    size_t lo = 0, hi = sizeof py_builtins / sizeof py_builtins[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, py_builtins[mid]);
        if (!c)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

static int32_t enclosing_binding(fx *x, int32_t s, const char *key)
{
    for (int32_t a = x->scopes[s].parent; a >= 0; a = x->scopes[a].parent) {
        int k = x->scopes[a].kind;
        if (k == SC_CLASS || k == SC_ANNOT)
            continue;
        sym *sy = lookup(x, a, key);
        if (k == SC_MODULE)
            return sy && (sy->flags & F_BOUND) ? sy->def : -1;
        if (sy && (sy->flags & F_GLOBAL))
            return -1;
        if (sy && (sy->flags & F_BOUND))
            return sy->def;
    }
    return -1;
}

static const char *resolve(fx *x, int32_t s, const char *key, int32_t *def)
{
    *def = -1;
    sym *m = lookup(x, 0, key);
    if (x->scopes[s].kind == SC_MODULE) {
        *def = m ? m->def : -1;
        return "global";
    }
    sym *sy = lookup(x, s, key);
    uint32_t fl = sy ? sy->flags : 0;
    if (fl & F_GLOBAL) {
        *def = m && (m->flags & F_BOUND) ? m->def : (m ? m->def : -1);
        return "global";
    }
    if (fl & F_NONLOCAL) {
        *def = enclosing_binding(x, s, key);
        return "nonlocal";
    }
    if (fl & F_BOUND) {
        *def = sy->def;
        return "local";
    }
    for (int32_t a = x->scopes[s].parent; a >= 0; a = x->scopes[a].parent) {
        int k = x->scopes[a].kind;
        if (k == SC_CLASS) {
            if (!strcmp(key, "__class__"))
                return "free";
            continue;
        }
        if (k == SC_ANNOT)
            continue;
        if (k == SC_MODULE)
            break;
        sym *as = lookup(x, a, key);
        if (!as)
            continue;
        if (as->flags & F_GLOBAL)
            break;
        if (as->flags & (F_BOUND | F_NONLOCAL)) {
            *def = enclosing_binding(x, s, key);
            return "free";
        }
    }
    if (m && (m->flags & F_BOUND)) {
        *def = m->def;
        return "global";
    }
    return is_builtin(key) ? "builtin" : "unresolved";
}

static void emit_refs(fx *x)
{
    for (size_t i = 0; i < x->n_refs && x->sink->status == CA_OK; i++) {
        const ref *r = &x->refs[i];
        const ca_py_node *n = N(x, (int32_t)r->node);
        int32_t def;
        const char *res = resolve(x, r->scope, r->key, &def);
        const scope_t *sc = &x->scopes[r->scope];
        int t = T_REFS;
        a_str(x, t, x->file_id);
        a_str(x, t, make_id(x, "ref", n->bstart, n->bend, NULL));
        a_str(x, t, r->name);
        a_str(x, t, ctx_names[r->ctx]);
        a_str(x, t, x->scopes[sc->emit_scope].id);
        a_str(x, t, res);
        a_str(x, t, def >= 0 ? x->def_ids[def] : NULL);
        a_str(x, t, sc->container_def >= 0 ? x->def_ids[sc->container_def] : NULL);
        a_i64(x, t, n->bstart);
        a_i64(x, t, n->bend);
        a_i64(x, t, n->srow + 1);
        a_i64(x, t, n->scol);
        a_end(x, t);
    }
}

/* ---- lines, errors, syntax nodes -------------------------------------------------------------- */

static uint64_t emit_lines(fx *x, const char *t, size_t len)
{
    uint64_t line = 0;
    size_t start = 0;
    for (size_t i = 0; i < len;) {
        if (t[i] == '\n' || t[i] == '\r') {
            size_t end = i;
            i += (t[i] == '\r' && i + 1 < len && t[i + 1] == '\n') ? 2 : 1;
            a_str(x, T_FILE_LINES, x->file_id);
            a_i64(x, T_FILE_LINES, (int64_t)++line);
            a_i64(x, T_FILE_LINES, (int64_t)start);
            a_i64(x, T_FILE_LINES, (int64_t)end);
            a_end(x, T_FILE_LINES);
            start = i;
        } else {
            i++;
        }
    }
    if (start < len) {
        a_str(x, T_FILE_LINES, x->file_id);
        a_i64(x, T_FILE_LINES, (int64_t)++line);
        a_i64(x, T_FILE_LINES, (int64_t)start);
        a_i64(x, T_FILE_LINES, (int64_t)len);
        a_end(x, T_FILE_LINES);
    }
    return line;
}

static uint64_t emit_errors(fx *x)
{
    uint64_t n = 0;
    for (size_t i = 0; i < x->nn; i++) {
        const ca_py_node *d = &x->nd[i];
        if (!(d->flags & (CA_PY_IS_ERROR | CA_PY_IS_MISSING)))
            continue;
        bool missing = d->flags & CA_PY_IS_MISSING;
        int t = T_PARSE_ERRORS;
        a_str(x, t, x->file_id);
        a_i64(x, t, d->bstart);
        a_i64(x, t, d->bend);
        a_i64(x, t, d->srow + 1);
        a_i64(x, t, d->scol);
        a_str(x, t, missing ? "missing" : "error");
        a_str(x, t, missing ? ca_pyparse_symbol_name(d->symbol) : capped(x, d->bstart, d->bend));
        a_end(x, t);
        n++;
    }
    return n;
}

static void emit_syntax(fx *x)
{
    int32_t *child_idx = ca_arena_calloc(x->a, x->nn ? x->nn : 1, sizeof *child_idx);
    const char **ids = ca_arena_calloc(x->a, x->nn ? x->nn : 1, sizeof *ids);
    if (!child_idx || !ids) {
        fail(x, CA_E_NOMEM);
        return;
    }
    for (size_t i = 0; i < x->nn && x->sink->status == CA_OK; i++) {
        const ca_py_node *d = &x->nd[i];
        if (!(d->flags & CA_PY_NAMED))
            continue;
        const char *kind = ca_pyparse_symbol_name(d->symbol);
        ids[i] = make_id(x, "ast", d->bstart, d->bend, kind);
        int32_t p = d->parent;
        while (p != CA_PY_NONE && !(x->nd[p].flags & CA_PY_NAMED))
            p = x->nd[p].parent;
        int t = T_SYNTAX_NODES;
        a_str(x, t, x->file_id);
        a_str(x, t, ids[i]);
        a_str(x, t, kind);
        a_i64(x, t, d->bstart);
        a_i64(x, t, d->bend);
        a_i64(x, t, d->srow + 1);
        a_i64(x, t, d->scol);
        a_i64(x, t, d->erow + 1);
        a_i64(x, t, d->ecol);
        a_str(x, t, p != CA_PY_NONE ? ids[p] : NULL);
        if (p != CA_PY_NONE)
            a_i64(x, t, child_idx[p]++);
        else
            a_i64(x, t, 0);
        a_str(x, t, ca_pyparse_field_name((ca_py_field)d->field));
        a_bool(x, t, (d->flags & CA_PY_IS_ERROR) != 0);
        int k = d->kind;
        bool leaf_text = k == CA_PY_IDENTIFIER || k == CA_PY_INTEGER || k == CA_PY_FLOAT ||
                         k == CA_PY_STRING || k == CA_PY_TRUE || k == CA_PY_FALSE || k == CA_PY_NONE;
        a_str(x, t, leaf_text ? capped(x, d->bstart, d->bend) : NULL);
        a_end(x, t);
    }
}

/* ---- entry ------------------------------------------------------------------------------------ */

int ca_extract__file(ca_pyparse *pp, ca_arena *arena, const ca_x_input *in, ca_x_sink *sink,
                     ca_x_file_stats *stats)
{
    fx x;
    memset(&x, 0, sizeof x);
    x.in = in;
    x.a = arena;
    x.sink = sink;
    x.text = in->text;
    stats->lines = stats->parse_errors = 0;
    ca_id_part part = {.kind = CA_ID_TEXT};
    part.v.text.ptr = in->path;
    part.v.text.len = strlen(in->path);
    int rc = ca_functions_stable_id("file", 4, &part, 1, &x.idbuf);
    if (rc == CA_OK)
        rc = ca_buf_status(&x.idbuf);
    if (rc != CA_OK) {
        ca_buf_free(&x.idbuf);
        return rc;
    }
    x.file_id = ca_arena_strndup(arena, x.idbuf.data, x.idbuf.len);
    stats->lines = emit_lines(&x, in->text, in->len);

    /* tree-sitter breaks lines at '\n' only: parse a copy with lone '\r' turned into '\n' */
    const char *ptext = in->text;
    if (memchr(in->text, '\r', in->len)) {
        char *copy = ca_arena_alloc(arena, in->len + 1);
        if (!copy) {
            ca_buf_free(&x.idbuf);
            return ca_err_nomem(MOD, "source copy");
        }
        memcpy(copy, in->text, in->len);
        for (size_t i = 0; i < in->len; i++)
            if (copy[i] == '\r' && (i + 1 >= in->len || copy[i + 1] != '\n'))
                copy[i] = '\n';
        ptext = copy;
    }
    ca_py_tree tree;
    rc = ca_pyparse_parse(pp, ptext, in->len, &tree);
    if (rc == CA_OK) {
        x.nd = tree.nodes;
        x.nn = tree.n;
        stats->parse_errors = emit_errors(&x);
        /* module scope and def */
        const char *mn = in->module_name;
        int32_t ms = new_scope(&x, SC_MODULE, mn, mn, -1, 0, (uint32_t)in->len);
        /* the module docstring: first statement of the module node (nodes[0]) */
        defspec d = {"module", mn, mn, -1, ms, 0, (uint32_t)in->len, -1, 1, 0, 1, 0, false, false,
                     x.nn ? docstring(&x, 0) : NULL, mn};
        if (x.nn) {
            /* end point: the root's end */
            d.el = x.nd[0].erow + 1;
            d.ec = x.nd[0].ecol;
        }
        int32_t di = add_def(&x, &d);
        x.scopes[ms].def = di;
        x.scopes[ms].container_def = di;
        emit_scope_row(&x, ms, 0, (uint32_t)in->len);
        if (x.nn)
            visit_children(&x, 0, ms);
        emit_refs(&x);
        if (in->ast)
            emit_syntax(&x);
    }
    if (rc == CA_OK)
        rc = x.rc;
    if (rc == CA_OK)
        rc = sink->status;
    ca_buf_free(&x.idbuf);
    ca_buf_free(&x.scratch);
    ca__free(x.scopes);
    ca__free(x.def_ids);
    ca__free(x.syms);
    ca__free(x.hash);
    ca__free(x.refs);
    ca__free(x.qn_keys);
    ca__free(x.qn_counts);
    return rc;
}
