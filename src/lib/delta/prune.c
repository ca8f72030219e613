/*
 * File pruning (delta.md §9): the filter is parsed by DuckDB (json_serialize_sql); top-level AND
 * conjuncts of the forms `col op const`, `col IS [NOT] NULL`, `col IN (const, …)`,
 * `col BETWEEN const AND const` are turned into "this file cannot match" predicates over the
 * per-file relation __delta_scan_files(<unpruned token>) (partition strings, stats JSON), run in
 * one query on the module's connection. Anything else stays in the residual WHERE only.
 */
#include "lib/delta/delta_int.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct prune_ctx {
    ca_delta_snapshot *s;
    json_t *select_tmpl;   /* serialized "SELECT 1" */
    ca_buf cond;           /* OR of prune predicates */
    int64_t used;
} prune_ctx;

static int q_text(ca_delta_ctx *ctx, const char *sql, char **out)
{
    pthread_mutex_lock(&ctx->conn_lock);
    int rc = ca_duck_query_text(ctx->conn, sql, out);
    pthread_mutex_unlock(&ctx->conn_lock);
    return rc;
}

static bool is_const(json_t *n)
{
    const char *cls = json_string_value(json_object_get(n, "class"));
    if (!cls)
        return false;
    if (strcmp(cls, "CONSTANT") == 0)
        return !json_is_true(json_object_get(json_object_get(n, "value"), "is_null"));
    if (strcmp(cls, "CAST") == 0)
        return is_const(json_object_get(n, "child"));
    return false;
}

/* Renders a constant node back to SQL text through json_deserialize_sql. Caller frees. */
static char *render_const(prune_ctx *pc, json_t *node)
{
    json_t *t = json_deep_copy(pc->select_tmpl);
    json_t *sel = json_object_get(json_object_get(json_array_get(json_object_get(t, "statements"), 0), "node"),
                                  "select_list");
    if (!json_is_array(sel) || json_array_set(sel, 0, node) != 0) {
        json_decref(t);
        return NULL;
    }
    char *j = json_dumps(t, JSON_COMPACT);
    json_decref(t);
    if (!j)
        return NULL;
    char *lit = ca_duck_quote_literal(j);
    ca__free(j);
    if (!lit)
        return NULL;
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "SELECT json_deserialize_sql(CAST(%s AS JSON))", lit);
    ca__free(lit);
    char *sql = NULL;
    int rc = ca_buf_status(&b) ? ca_buf_status(&b) : q_text(pc->s->ctx, ca_buf_cstr(&b), &sql);
    ca_buf_free(&b);
    if (rc || !sql || strncmp(sql, "SELECT ", 7) != 0) {
        ca__free(sql);
        return NULL;
    }
    char *out = ca__strdup(sql + 7);
    ca__free(sql);
    return out;
}

/* The top-level field a COLUMN_REF names, if usable. */
static const dl_field *column_of(prune_ctx *pc, json_t *n, long *part)
{
    const char *cls = json_string_value(json_object_get(n, "class"));
    if (!cls || strcmp(cls, "COLUMN_REF") != 0)
        return NULL;
    json_t *names = json_object_get(n, "column_names");
    if (json_array_size(names) != 1)
        return NULL;
    const char *name = json_string_value(json_array_get(names, 0));
    const dl_field *f = name ? ca_delta__field(pc->s, name) : NULL;
    if (!f)
        return NULL;
    *part = -1;
    for (size_t i = 0; i < pc->s->n_part_cols; i++)
        if (strcasecmp(pc->s->part_cols[i], f->name) == 0)
            *part = (long)i;
    if (*part < 0) {
        /* data column: stats exist for these types only */
        static const char *const ok[] = {"byte", "short", "integer", "long", "float", "double",
                                         "date", "timestamp", "timestamp_ntz", "string"};
        if (f->type->kind != DL_PRIM)
            return NULL;
        bool good = strncmp(f->type->prim, "decimal", 7) == 0;
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
            good |= strcmp(f->type->prim, ok[i]) == 0;
        if (!good || strpbrk(f->phys, "\"'\\"))
            return NULL;
    }
    return f;
}

/* DuckDB writes "no location" as UINT64_MAX, which jansson (int64) rejects: zero it in place. */
static void fix_locations(char *t)
{
    static const char pat[] = "\"query_location\":18446744073709551615";
    size_t pl = sizeof pat - 1;
    char *p;
    while (t && (p = strstr(t, pat)) != NULL) {
        size_t keep = strlen("\"query_location\":");
        p[keep] = '0';
        memmove(p + keep + 1, p + pl, strlen(p + pl) + 1);
        t = p + keep + 1;
    }
}

typedef enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } op;

static bool cmp_op(const char *type, op *o)
{
    static const struct { const char *n; op o; } m[] = {
        {"COMPARE_EQUAL", OP_EQ}, {"COMPARE_NOTEQUAL", OP_NE}, {"COMPARE_LESSTHAN", OP_LT},
        {"COMPARE_LESSTHANOREQUALTO", OP_LE}, {"COMPARE_GREATERTHAN", OP_GT},
        {"COMPARE_GREATERTHANOREQUALTO", OP_GE},
    };
    for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        if (strcmp(type, m[i].n) == 0) {
            *o = m[i].o;
            return true;
        }
    return false;
}

static op flip(op o)
{
    switch (o) {
    case OP_LT: return OP_GT;
    case OP_LE: return OP_GE;
    case OP_GT: return OP_LT;
    case OP_GE: return OP_LE;
    default: return o;
    }
}

static const char *op_sql(op o)
{
    static const char *const s[] = {"=", "<>", "<", "<=", ">", ">="};
    return s[o];
}

/* SQL of the bound expressions of a data column. */
static void stat_expr(ca_buf *b, const dl_field *f, const char *what)
{
    ca_buf ty = CA_BUF_INIT;
    ca_delta__type_sql(f->type, false, &ty);
    bool ts = strcmp(f->type->prim, "timestamp") == 0 || strcmp(f->type->prim, "timestamp_ntz") == 0;
    ca_buf_printf(b, "(TRY_CAST(json_extract_string(f.stats, '$.%s.\"%s\"') AS %s)%s)", what, f->phys,
                  ca_buf_cstr(&ty), ts && strcmp(what, "maxValues") == 0 ? " + INTERVAL 1 MILLISECOND" : "");
    ca_buf_free(&ty);
}

static void part_expr(ca_buf *b, prune_ctx *pc, const dl_field *f, long part)
{
    (void)pc;
    ca_buf ty = CA_BUF_INIT;
    ca_delta__type_sql(f->type, false, &ty);
    ca_buf_printf(b, "CAST(f.p%ld AS %s)", part, ca_buf_cstr(&ty));
    ca_buf_free(&ty);
}

static void add_cond(prune_ctx *pc, const char *c)
{
    ca_buf_printf(&pc->cond, "%s(%s)", pc->cond.len ? " OR " : "", c);
    pc->used++;
}

static void conjunct(prune_ctx *pc, json_t *n)
{
    const char *cls = json_string_value(json_object_get(n, "class"));
    const char *type = json_string_value(json_object_get(n, "type"));
    if (!cls || !type)
        return;
    if (strcmp(type, "CONJUNCTION_AND") == 0) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(n, "children"), i, c)
            conjunct(pc, c);
        return;
    }
    ca_buf e = CA_BUF_INIT, mn = CA_BUF_INIT, mx = CA_BUF_INIT;
    long part = -1;
    const dl_field *f = NULL;
    char **k = NULL;
    size_t nk = 0;
    op o = OP_EQ;
    enum { F_CMP, F_NULL, F_NOTNULL, F_IN, F_BETWEEN } form;
    if (strcmp(cls, "COMPARISON") == 0 && cmp_op(type, &o)) {
        json_t *l = json_object_get(n, "left"), *r = json_object_get(n, "right");
        if ((f = column_of(pc, l, &part)) && is_const(r)) {
            k = ca__calloc(1, sizeof *k);
            if (k && (k[0] = render_const(pc, r)))
                nk = 1;
        } else if ((f = column_of(pc, r, &part)) && is_const(l)) {
            o = flip(o);
            k = ca__calloc(1, sizeof *k);
            if (k && (k[0] = render_const(pc, l)))
                nk = 1;
        }
        form = F_CMP;
        if (nk != 1)
            f = NULL;
    } else if (strcmp(type, "OPERATOR_IS_NULL") == 0 || strcmp(type, "OPERATOR_IS_NOT_NULL") == 0) {
        json_t *ch = json_object_get(n, "children");
        if (json_array_size(ch) == 1)
            f = column_of(pc, json_array_get(ch, 0), &part);
        form = strcmp(type, "OPERATOR_IS_NULL") == 0 ? F_NULL : F_NOTNULL;
    } else if (strcmp(type, "COMPARE_IN") == 0) {
        json_t *ch = json_object_get(n, "children");
        size_t m = json_array_size(ch);
        if (m >= 2 && (f = column_of(pc, json_array_get(ch, 0), &part))) {
            k = ca__calloc(m - 1, sizeof *k);
            for (size_t i = 1; k && i < m; i++) {
                json_t *c = json_array_get(ch, i);
                if (!is_const(c) || !(k[nk] = render_const(pc, c)))
                    break;
                nk++;
            }
            if (nk != m - 1)
                f = NULL;
        }
        form = F_IN;
    } else if (strcmp(type, "COMPARE_BETWEEN") == 0) {
        json_t *lo = json_object_get(n, "lower"), *hi = json_object_get(n, "upper");
        if ((f = column_of(pc, json_object_get(n, "input"), &part)) && is_const(lo) && is_const(hi)) {
            k = ca__calloc(2, sizeof *k);
            if (k && (k[0] = render_const(pc, lo)) && (k[1] = render_const(pc, hi)))
                nk = 2;
        }
        if (nk != 2)
            f = NULL;
        form = F_BETWEEN;
    } else {
        return;
    }
    if (!f)
        goto out;
    if (part >= 0) {
        /* partition column: prune unless the conjunct is TRUE for the file's value */
        ca_buf v = CA_BUF_INIT;
        part_expr(&v, pc, f, part);
        const char *pv = ca_buf_cstr(&v);
        ca_buf_puts(&e, "(");
        switch (form) {
        case F_CMP: ca_buf_printf(&e, "%s %s %s", pv, op_sql(o), k[0]); break;
        case F_NULL: ca_buf_printf(&e, "%s IS NULL", pv); break;
        case F_NOTNULL: ca_buf_printf(&e, "%s IS NOT NULL", pv); break;
        case F_IN:
            ca_buf_printf(&e, "%s IN (", pv);
            for (size_t i = 0; i < nk; i++)
                ca_buf_printf(&e, "%s%s", i ? ", " : "", k[i]);
            ca_buf_puts(&e, ")");
            break;
        case F_BETWEEN: ca_buf_printf(&e, "%s BETWEEN %s AND %s", pv, k[0], k[1]); break;
        }
        ca_buf_puts(&e, ") IS NOT TRUE");
        ca_buf_free(&v);
    } else {
        stat_expr(&mn, f, "minValues");
        stat_expr(&mx, f, "maxValues");
        const char *MN = ca_buf_cstr(&mn), *MX = ca_buf_cstr(&mx);
        switch (form) {
        case F_CMP:
            switch (o) {
            case OP_EQ: ca_buf_printf(&e, "%s > %s OR %s < %s", MN, k[0], MX, k[0]); break;
            case OP_NE: ca_buf_printf(&e, "%s = %s AND %s = %s", MN, k[0], MX, k[0]); break;
            case OP_LT: ca_buf_printf(&e, "%s >= %s", MN, k[0]); break;
            case OP_LE: ca_buf_printf(&e, "%s > %s", MN, k[0]); break;
            case OP_GT: ca_buf_printf(&e, "%s <= %s", MX, k[0]); break;
            case OP_GE: ca_buf_printf(&e, "%s < %s", MX, k[0]); break;
            }
            break;
        case F_NULL:
            ca_buf_printf(&e, "TRY_CAST(json_extract(f.stats, '$.nullCount.\"%s\"') AS BIGINT) = 0", f->phys);
            break;
        case F_NOTNULL:
            ca_buf_printf(&e, "TRY_CAST(json_extract(f.stats, '$.nullCount.\"%s\"') AS BIGINT) = "
                              "TRY_CAST(json_extract(f.stats, '$.numRecords') AS BIGINT)", f->phys);
            break;
        case F_IN:
            for (size_t i = 0; i < nk; i++)
                ca_buf_printf(&e, "%s(%s > %s OR %s < %s)", i ? " AND " : "", MN, k[i], MX, k[i]);
            break;
        case F_BETWEEN: ca_buf_printf(&e, "%s < %s OR %s > %s", MX, k[0], MN, k[1]); break;
        }
    }
    if (ca_buf_status(&e) == CA_OK)
        add_cond(pc, ca_buf_cstr(&e));
out:
    for (size_t i = 0; k && i < nk; i++)
        ca__free(k[i]);
    ca__free(k);
    ca_buf_free(&e);
    ca_buf_free(&mn);
    ca_buf_free(&mx);
}

typedef struct kept {
    bool *keep;
    size_t n;
} kept;

static int kept_row(void *arg, const char *text, size_t len)
{
    kept *k = arg;
    if (!text)
        return CA_OK;
    char buf[32];
    if (len >= sizeof buf)
        return CA_OK;
    memcpy(buf, text, len);
    buf[len] = 0;
    unsigned long long i = strtoull(buf, NULL, 10);
    if (i < k->n)
        k->keep[i] = true;
    return CA_OK;
}

int ca_delta__prune(ca_delta_snapshot *s, const char *filter, const char *full_token, bool *keep,
                    int64_t *conjuncts_used)
{
    *conjuncts_used = 0;
    for (size_t i = 0; i < s->n_files; i++)
        keep[i] = true;
    if (!filter || !s->n_files)
        return CA_OK;
    prune_ctx pc = {s, NULL, CA_BUF_INIT, 0};
    /* parse the filter; a filter DuckDB cannot parse is left to the residual WHERE (which fails
     * with DuckDB's own message) */
    ca_buf b = CA_BUF_INIT;
    char *lit = NULL, *ser = NULL, *tmpl = NULL;
    ca_buf_printf(&b, "SELECT * FROM t WHERE (%s)", filter);
    lit = ca_duck_quote_literal(ca_buf_cstr(&b));
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT CAST(json_serialize_sql(%s) AS VARCHAR)", lit ? lit : "''");
    int rc = q_text(s->ctx, ca_buf_cstr(&b), &ser);
    if (rc == CA_OK)
        rc = q_text(s->ctx, "SELECT CAST(json_serialize_sql('SELECT 1') AS VARCHAR)", &tmpl);
    ca_buf_free(&b);
    ca__free(lit);
    if (rc) {
        ca__free(ser);
        ca__free(tmpl);
        ca_error_clear();
        return CA_OK;
    }
    fix_locations(ser);
    fix_locations(tmpl);
    json_t *ast = ser ? json_loads(ser, 0, NULL) : NULL;
    pc.select_tmpl = tmpl ? json_loads(tmpl, 0, NULL) : NULL;
    ca__free(ser);
    ca__free(tmpl);
    json_t *where = json_object_get(
        json_object_get(json_array_get(json_object_get(ast, "statements"), 0), "node"), "where_clause");
    if (where && pc.select_tmpl && !json_is_true(json_object_get(ast, "error")))
        conjunct(&pc, where);
    json_decref(ast);
    json_decref(pc.select_tmpl);
    if (pc.used && ca_buf_status(&pc.cond) == CA_OK) {
        char *tok = ca_duck_quote_literal(full_token);
        ca_buf q = CA_BUF_INIT;
        ca_buf_printf(&q, "SELECT CAST(f.file_index AS VARCHAR) FROM __delta_scan_files(%s) AS f "
                          "WHERE NOT coalesce(%s, false)",
                      tok ? tok : "''", ca_buf_cstr(&pc.cond));
        ca__free(tok);
        for (size_t i = 0; i < s->n_files; i++)
            keep[i] = false;
        kept k = {keep, s->n_files};
        rc = ca_buf_status(&q) ? ca_buf_status(&q) : ca_delta__query_rows(s->ctx, ca_buf_cstr(&q), kept_row, &k);
        ca_buf_free(&q);
        if (rc) {
            /* a conjunct the per-file relation cannot evaluate (e.g. a constant of another type):
             * no pruning rather than a failed scan */
            for (size_t i = 0; i < s->n_files; i++)
                keep[i] = true;
            ca_error_clear();
            pc.used = 0;
        }
    }
    *conjuncts_used = pc.used;
    ca_buf_free(&pc.cond);
    return CA_OK;
}
