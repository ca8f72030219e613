/*
 * ca_functions_register (functions.md §7): C functions once per database, macros per connection,
 * then the built-in check. Concurrent registration on two connections is safe: a refused C
 * registration is re-checked against the catalog (the other connection won the race).
 */
#include "lib/functions/functions_int.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MOD "functions"
#define REGISTRY_TABLE "__codeanatomy_registry"

int ca_fn__register_simple(ca_duck_conn *c, const char *name, const ca_duck_type *params, size_t n,
                           ca_duck_type ret, ca_udf_scalar_fn fn, ca_udf_bind_fn bind, bool special)
{
    ca_duck_ltype *p[8];
    assert(n <= 8);
    for (size_t i = 0; i < n; i++)
        p[i] = ca_duck_ltype_new(params[i]);
    ca_duck_ltype *r = ca_duck_ltype_new(ret);
    ca_udf_scalar f = {.params = p, .n_params = n, .ret = r, .fn = fn, .bind = bind, .special_nulls = special};
    int rc = ca_udf_register_scalar(c, name, &f, 1);
    for (size_t i = 0; i < n; i++)
        ca_duck_ltype_free(p[i]);
    ca_duck_ltype_free(r);
    return rc;
}

/* ---- the system catalog's names -------------------------------------------------------- */

typedef struct name_set {
    char **names;
    size_t n;
} name_set;

static void name_set_free(name_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        ca__free(s->names[i]);
    ca__free(s->names);
    s->names = NULL;
    s->n = 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool name_set_has(const name_set *s, const char *name)
{
    return s->n && bsearch(&name, s->names, s->n, sizeof *s->names, cmp_str) != NULL;
}

static int fail(const char *name, const char *what)
{
    return ca_err_set(CA_E_FUNCTIONS, MOD, "functions: %s: %s: %s", name, what, ca_error_last()->message);
}

static int query_names(ca_duck_conn *conn, const char *sql, name_set *out)
{
    ca_duck_result *r = NULL;
    int rc = ca_duck_query(conn, sql, &r);
    if (rc != CA_OK)
        return rc;
    size_t cap = 0;
    ca_duck_chunk *ch = NULL;
    while ((rc = ca_duck_result_next_chunk(r, &ch)) == CA_OK && ch) {
        size_t n = ca_duck_chunk_size(ch);
        ca_duck_vec *v = ca_duck_chunk_vector(ch, 0);
        const ca_duck_str *s = ca_duck_vec_data(v);
        const uint64_t *m = ca_duck_vec_validity(v);
        for (size_t i = 0; i < n && rc == CA_OK; i++) {
            if (!ca_duck_row_valid(m, i))
                continue;
            if (out->n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                char **p = ca__realloc(out->names, nc * sizeof *p);
                if (!p) {
                    rc = ca_err_nomem(MOD, "function names");
                    break;
                }
                out->names = p;
                cap = nc;
            }
            out->names[out->n] = ca__strndup(ca_duck_str_data(&s[i]), ca_duck_str_len(&s[i]));
            if (!out->names[out->n])
                rc = ca_err_nomem(MOD, "function names");
            else
                out->n++;
        }
        ca_duck_chunk_free(ch);
        ch = NULL;
        if (rc != CA_OK)
            break;
    }
    ca_duck_result_free(r);
    if (rc != CA_OK) {
        name_set_free(out);
        return rc;
    }
    qsort(out->names, out->n, sizeof *out->names, cmp_str);
    return CA_OK;
}

static int system_has(ca_duck_conn *conn, const char *name, bool *has)
{
    char *lit = ca_duck_quote_literal(name);
    if (!lit)
        return ca_err_nomem(MOD, "query");
    ca_buf sql = CA_BUF_INIT;
    ca_buf_printf(&sql, "SELECT count(*) FROM duckdb_functions() WHERE database_name = 'system' AND "
                        "function_name = %s", lit);
    ca__free(lit);
    int rc = ca_buf_status(&sql);
    int64_t n = 0;
    bool is_null = false;
    if (rc == CA_OK)
        rc = ca_duck_query_int64(conn, ca_buf_cstr(&sql), &n, &is_null);
    ca_buf_free(&sql);
    *has = n > 0;
    return rc;
}

/* Registers one C name unless present; a refusal is re-checked (another connection may be
 * registering the same name right now) a few times before it counts as a failure. */
static int register_c_name(ca_duck_conn *conn, const name_set *present, const char *name,
                           int (*reg)(ca_duck_conn *, const ca_fn_entry *), const ca_fn_entry *e)
{
    if (name_set_has(present, name))
        return CA_OK;
    for (int attempt = 0; attempt < 50; attempt++) {
        int rc = e ? reg(conn, e) : ca_fn__register_registry_table(conn, name);
        if (rc == CA_OK)
            return CA_OK;
        bool has = false;
        if (system_has(conn, name, &has) == CA_OK && has)
            return CA_OK;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return fail(name, "register C function");
}

static int c_phase(ca_duck_conn *conn)
{
    name_set present = {0};
    int rc = query_names(conn, "SELECT DISTINCT function_name FROM duckdb_functions() WHERE database_name = 'system'",
                         &present);
    if (rc != CA_OK)
        return fail("duckdb_functions", "query");
    for (size_t i = 0; i < CA_FUNCTIONS_COUNT && rc == CA_OK; i++) {
        const ca_fn_entry *e = &CA_FUNCTIONS[i];
        if (e->origin != CA_FN_C)
            continue;
        rc = register_c_name(conn, &present, e->name, e->register_c, e);
        for (const char *const *a = e->aliases; a && *a && rc == CA_OK; a++) {
            ca_fn_entry alias = *e;
            alias.name = *a;
            alias.aliases = NULL;
            rc = register_c_name(conn, &present, *a, e->register_c, &alias);
        }
    }
    if (rc == CA_OK)
        rc = register_c_name(conn, &present, REGISTRY_TABLE, NULL, NULL);
    name_set_free(&present);
    return rc;
}

static int create_macro(ca_duck_conn *conn, const char *name, const char *definition)
{
    ca_buf sql = CA_BUF_INIT;
    ca_buf_printf(&sql, "CREATE OR REPLACE TEMP MACRO %s%s", name, definition);
    int rc = ca_buf_status(&sql);
    if (rc == CA_OK)
        rc = ca_duck_exec(conn, ca_buf_cstr(&sql));
    ca_buf_free(&sql);
    return rc == CA_OK ? CA_OK : fail(name, "create macro");
}

static int macro_phase(ca_duck_conn *conn)
{
    for (size_t i = 0; i < CA_FUNCTIONS_COUNT; i++) {
        const ca_fn_entry *e = &CA_FUNCTIONS[i];
        if (e->origin != CA_FN_SQL_MACRO)
            continue;
        int rc = create_macro(conn, e->name, e->definition);
        for (const char *const *a = e->aliases; a && *a && rc == CA_OK; a++)
            rc = create_macro(conn, *a, e->definition);
        if (rc != CA_OK)
            return rc;
    }
    return CA_OK;
}

static int builtin_check(ca_duck_conn *conn)
{
    name_set have = {0};
    int rc = query_names(conn, "SELECT DISTINCT function_name FROM duckdb_functions() WHERE NOT starts_with(function_name, '__')",
                         &have);
    if (rc != CA_OK)
        return fail("duckdb_functions", "query");
    for (size_t i = 0; i < CA_FUNCTIONS_COUNT && rc == CA_OK; i++) {
        const ca_fn_entry *e = &CA_FUNCTIONS[i];
        if (e->origin == CA_FN_BUILTIN && !name_set_has(&have, e->name))
            rc = ca_err_set(CA_E_FUNCTIONS, MOD, "functions: %s: built-in missing from this DuckDB build", e->name);
    }
    name_set_free(&have);
    return rc;
}

int ca_functions_register(ca_duck_conn *conn)
{
    int rc = c_phase(conn);
    if (rc == CA_OK)
        rc = macro_phase(conn);
    if (rc == CA_OK)
        rc = builtin_check(conn);
    return rc;
}
