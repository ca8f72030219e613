/* DuckDB wall: database, connections, queries, results, vectors, types. */
#include "lib/duck/duck.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

#include <duckdb.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "duck"

_Static_assert(sizeof(ca_duck_str) == sizeof(duckdb_string_t), "ca_duck_str layout");
_Static_assert(sizeof(ca_duck_hugeint) == sizeof(duckdb_hugeint), "hugeint layout");
_Static_assert(sizeof(ca_duck_interval) == sizeof(duckdb_interval), "interval layout");
_Static_assert(sizeof(ca_duck_list_entry) == sizeof(duckdb_list_entry), "list entry layout");
_Static_assert((int)CA_DUCK_UHUGEINT == (int)DUCKDB_TYPE_UHUGEINT, "type ids");
_Static_assert((int)CA_DUCK_ARRAY == (int)DUCKDB_TYPE_ARRAY, "type ids");
_Static_assert((int)CA_DUCK_TIMESTAMP_TZ == (int)DUCKDB_TYPE_TIMESTAMP_TZ, "type ids");
_Static_assert((int)CA_DUCK_BIGNUM == (int)DUCKDB_TYPE_BIGNUM, "type ids");
_Static_assert((int)CA_DUCK_SQLNULL == (int)DUCKDB_TYPE_SQLNULL, "type ids");
_Static_assert((int)CA_DUCK_TIME_NS == (int)DUCKDB_TYPE_TIME_NS, "type ids");

struct ca_duck_db {
    duckdb_database db;
    char *timezone;
    ca_duck_conn_hook hook;
    void *hook_ctx;
};

struct ca_duck_conn {
    duckdb_connection conn;
    ca_duck_db *db;
};

struct ca_duck_result {
    duckdb_result res;
    size_t ncols;
    char **type_text;              /* lazily filled */
    duckdb_logical_type *ltypes;   /* lazily filled */
};

struct ca_duck_stmt {
    duckdb_prepared_statement stmt;
};

struct ca_duck_appender {
    duckdb_appender app;
    char *table;
};

/* Raises CA_E_DUCKDB with DuckDB's text copied out (the owner is destroyed by the caller after). */
static int duck_fail(const char *what, const char *detail)
{
    return ca_err_set(CA_E_DUCKDB, MOD, "%s: %s", what, detail ? detail : "unknown error");
}

/* ---- database ------------------------------------------------------------------------------ */

static int config_set(duckdb_config cfg, const char *name, const char *value)
{
    if (duckdb_set_config(cfg, name, value) == DuckDBError)
        return ca_err_set(CA_E_DUCKDB, MOD, "config %s=%s rejected", name, value);
    return CA_OK;
}

static int build_config(const ca_duck_config *c, duckdb_config cfg)
{
    char buf[4096];
    int rc = 0;
    rc = rc ? rc : config_set(cfg, "autoinstall_known_extensions", "false");
    rc = rc ? rc : config_set(cfg, "autoload_known_extensions", "false");
    rc = rc ? rc : config_set(cfg, "allow_community_extensions", "false");
    snprintf(buf, sizeof buf, "%s/no-extension-repository", c->temp_dir ? c->temp_dir : "/nonexistent");
    rc = rc ? rc : config_set(cfg, "custom_extension_repository", buf);
    rc = rc ? rc : config_set(cfg, "autoinstall_extension_repository", buf);
    snprintf(buf, sizeof buf, "%s/extensions", c->temp_dir ? c->temp_dir : "/nonexistent");
    rc = rc ? rc : config_set(cfg, "extension_directory", buf);
    snprintf(buf, sizeof buf, "%d", c->threads > 0 ? c->threads : 1);
    rc = rc ? rc : config_set(cfg, "threads", buf);
    if (c->memory_limit)
        rc = rc ? rc : config_set(cfg, "memory_limit", c->memory_limit);
    if (c->temp_dir) {
        snprintf(buf, sizeof buf, "%s/spill", c->temp_dir);
        rc = rc ? rc : config_set(cfg, "temp_directory", buf);
    }
    return rc;
}

int ca_duck_open(const ca_duck_config *c, ca_duck_db **out)
{
    *out = NULL;
    ca_duck_db *db = ca__calloc(1, sizeof *db);
    if (!db)
        return ca_err_nomem(MOD, "database");
    db->timezone = ca__strdup(c->timezone ? c->timezone : "UTC");
    duckdb_config cfg = NULL;
    if (!db->timezone || duckdb_create_config(&cfg) == DuckDBError) {
        ca__free(db->timezone);
        ca__free(db);
        return ca_err_nomem(MOD, "database config");
    }
    int rc = build_config(c, cfg);
    if (rc == CA_OK) {
        char *err = NULL;
        const char *path = c->path && *c->path ? c->path : NULL;
        if (duckdb_open_ext(path, &db->db, cfg, &err) == DuckDBError) {
            rc = ca_err_set(CA_E_DUCKDB, MOD, "open %s: %s", path ? path : ":memory:",
                            err ? err : "unknown error");
        }
        if (err)
            duckdb_free(err);
    }
    duckdb_destroy_config(&cfg);
    if (rc != CA_OK) {
        ca__free(db->timezone);
        ca__free(db);
        return rc;
    }
    *out = db;
    return CA_OK;
}

void ca_duck_close(ca_duck_db *db)
{
    if (!db)
        return;
    duckdb_close(&db->db);
    ca__free(db->timezone);
    ca__free(db);
}

void ca_duck_set_connect_hook(ca_duck_db *db, ca_duck_conn_hook hook, void *ctx)
{
    db->hook = hook;
    db->hook_ctx = ctx;
}

void *ca_duck__raw_conn(ca_duck_conn *conn) { return conn->conn; }
void *ca_duck__raw_db(ca_duck_db *db) { return db->db; }

/* Settings duckdb_config rejects at open in 1.4.4 (dependencies.md) are applied per connection. */
static int apply_connection_settings(ca_duck_conn *conn)
{
    char *tz = ca_duck_quote_literal(conn->db->timezone);
    if (!tz)
        return ca_err_nomem(MOD, "connection settings");
    int rc = ca_duck_execf(conn, "SET TimeZone = %s", tz);
    ca__free(tz);
    return rc;
}

int ca_duck_connect(ca_duck_db *db, ca_duck_conn **out)
{
    *out = NULL;
    ca_duck_conn *conn = ca__calloc(1, sizeof *conn);
    if (!conn)
        return ca_err_nomem(MOD, "connection");
    conn->db = db;
    if (duckdb_connect(db->db, &conn->conn) == DuckDBError) {
        ca__free(conn);
        return ca_err_set(CA_E_DUCKDB, MOD, "connect failed");
    }
    int rc = apply_connection_settings(conn);
    if (rc == CA_OK && db->hook)
        rc = db->hook(conn, db->hook_ctx);
    if (rc != CA_OK) {
        ca_duck_disconnect(conn);
        return rc;
    }
    *out = conn;
    return CA_OK;
}

void ca_duck_disconnect(ca_duck_conn *conn)
{
    if (!conn)
        return;
    duckdb_disconnect(&conn->conn);
    ca__free(conn);
}

void ca_duck_interrupt(ca_duck_conn *conn) { duckdb_interrupt(conn->conn); }

/* ---- queries ------------------------------------------------------------------------------- */

int ca_duck_exec(ca_duck_conn *conn, const char *sql)
{
    duckdb_result res;
    int rc = CA_OK;
    if (duckdb_query(conn->conn, sql, &res) == DuckDBError)
        rc = duck_fail("query", duckdb_result_error(&res));
    duckdb_destroy_result(&res);
    return rc;
}

int ca_duck_execf(ca_duck_conn *conn, const char *fmt, ...)
{
    ca_buf b = CA_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ca_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    int rc = ca_buf_status(&b);
    if (rc == CA_OK)
        rc = ca_duck_exec(conn, ca_buf_cstr(&b));
    ca_buf_free(&b);
    return rc;
}

static int result_new(duckdb_result *res, ca_duck_result **out)
{
    ca_duck_result *r = ca__calloc(1, sizeof *r);
    if (!r) {
        duckdb_destroy_result(res);
        return ca_err_nomem(MOD, "result");
    }
    r->res = *res;
    r->ncols = duckdb_column_count(&r->res);
    r->type_text = ca__calloc(r->ncols ? r->ncols : 1, sizeof *r->type_text);
    r->ltypes = ca__calloc(r->ncols ? r->ncols : 1, sizeof *r->ltypes);
    if (!r->type_text || !r->ltypes) {
        ca_duck_result_free(r);
        return ca_err_nomem(MOD, "result");
    }
    *out = r;
    return CA_OK;
}

/* Runs every statement but the last to completion; the last is executed streaming so a large
 * result is fetched chunk by chunk instead of materialized. */
static int run_statement(ca_duck_conn *conn, duckdb_extracted_statements ex, idx_t i, bool stream,
                         duckdb_result *res)
{
    duckdb_prepared_statement st = NULL;
    int rc = CA_OK;
    if (duckdb_prepare_extracted_statement(conn->conn, ex, i, &st) == DuckDBError) {
        rc = duck_fail("prepare", duckdb_prepare_error(st));
        duckdb_destroy_prepare(&st);
        return rc;
    }
    if (!stream) {
        if (duckdb_execute_prepared(st, res) == DuckDBError)
            rc = duck_fail("query", duckdb_result_error(res));
        duckdb_destroy_prepare(&st);
        return rc;
    }
    duckdb_pending_result pending = NULL;
    if (duckdb_pending_prepared_streaming(st, &pending) == DuckDBError) {
        rc = duck_fail("query", duckdb_pending_error(pending));
    } else if (duckdb_execute_pending(pending, res) == DuckDBError) {
        rc = duck_fail("query", duckdb_result_error(res));
    }
    duckdb_destroy_pending(&pending);
    duckdb_destroy_prepare(&st);
    return rc;
}

int ca_duck_query(ca_duck_conn *conn, const char *sql, ca_duck_result **out)
{
    *out = NULL;
    duckdb_extracted_statements ex = NULL;
    idx_t n = duckdb_extract_statements(conn->conn, sql, &ex);
    if (n == 0) {
        const char *e = duckdb_extract_statements_error(ex);
        int rc = e ? duck_fail("parse", e) : ca_err_set(CA_E_INVALID, MOD, "query: no statement");
        duckdb_destroy_extracted(&ex);
        return rc;
    }
    int rc = CA_OK;
    for (idx_t i = 0; i + 1 < n && rc == CA_OK; i++) {
        duckdb_result res;
        memset(&res, 0, sizeof res);
        rc = run_statement(conn, ex, i, false, &res);
        duckdb_destroy_result(&res);
    }
    duckdb_result res;
    memset(&res, 0, sizeof res);
    if (rc == CA_OK) {
        rc = run_statement(conn, ex, n - 1, true, &res);
        if (rc == CA_OK)
            rc = result_new(&res, out);
        else
            duckdb_destroy_result(&res);
    }
    duckdb_destroy_extracted(&ex);
    return rc;
}

/* Fetches the first row's first column of a result as a borrowed vector. */
static int first_cell(ca_duck_result *r, ca_duck_chunk **chunk, ca_duck_vec **vec)
{
    int rc = ca_duck_result_next_chunk(r, chunk);
    if (rc)
        return rc;
    if (!*chunk || ca_duck_result_column_count(r) < 1 || ca_duck_chunk_size(*chunk) < 1)
        return ca_err_set(CA_E_INVALID, MOD, "query returned no rows");
    *vec = ca_duck_chunk_vector(*chunk, 0);
    return CA_OK;
}

int ca_duck_query_int64(ca_duck_conn *conn, const char *sql, int64_t *out, bool *is_null)
{
    char *text = NULL;
    int rc = ca_duck_query_text(conn, sql, &text);
    if (rc)
        return rc;
    if (is_null)
        *is_null = text == NULL;
    *out = 0;
    if (text) {
        char *end;
        *out = strtoll(text, &end, 10);
        if (*end)
            rc = ca_err_set(CA_E_INVALID, MOD, "expected an integer, got '%s'", text);
    }
    ca__free(text);
    return rc;
}

int ca_duck_query_text(ca_duck_conn *conn, const char *sql, char **out)
{
    *out = NULL;
    ca_buf wrapped = CA_BUF_INIT;
    /* Cast in SQL so every type converts with DuckDB's own rules. */
    ca_buf_printf(&wrapped, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (%s) AS q LIMIT 1", sql);
    if (ca_buf_status(&wrapped))
        return ca_buf_status(&wrapped);
    ca_duck_result *r = NULL;
    ca_duck_chunk *chunk = NULL;
    ca_duck_vec *vec = NULL;
    int rc = ca_duck_query(conn, ca_buf_cstr(&wrapped), &r);
    if (rc == CA_OK)
        rc = first_cell(r, &chunk, &vec);
    if (rc == CA_OK && ca_duck_row_valid(ca_duck_vec_validity(vec), 0)) {
        const ca_duck_str *s = ca_duck_vec_data(vec);
        *out = ca__strndup(ca_duck_str_data(s), ca_duck_str_len(s));
        if (!*out)
            rc = ca_err_nomem(MOD, "query text");
    }
    ca_duck_chunk_free(chunk);
    ca_duck_result_free(r);
    ca_buf_free(&wrapped);
    return rc;
}

/* ---- results ------------------------------------------------------------------------------- */

size_t ca_duck_result_column_count(ca_duck_result *r) { return r->ncols; }

const char *ca_duck_result_column_name(ca_duck_result *r, size_t col)
{
    return duckdb_column_name(&r->res, col);
}

ca_duck_type ca_duck_result_column_type(ca_duck_result *r, size_t col)
{
    return (ca_duck_type)duckdb_column_type(&r->res, col);
}

ca_duck_ltype *ca_duck_result_column_ltype(ca_duck_result *r, size_t col)
{
    if (col >= r->ncols)
        return NULL;
    if (!r->ltypes[col])
        r->ltypes[col] = duckdb_column_logical_type(&r->res, col);
    return (ca_duck_ltype *)r->ltypes[col];
}

const char *ca_duck_result_column_type_text(ca_duck_result *r, size_t col)
{
    if (col >= r->ncols)
        return NULL;
    if (!r->type_text[col])
        r->type_text[col] = ca_duck_ltype_text(ca_duck_result_column_ltype(r, col));
    return r->type_text[col] ? r->type_text[col] : "UNKNOWN";
}

int64_t ca_duck_result_rows_changed(ca_duck_result *r) { return (int64_t)duckdb_rows_changed(&r->res); }

int ca_duck_result_next_chunk(ca_duck_result *r, ca_duck_chunk **out)
{
    duckdb_data_chunk c = duckdb_fetch_chunk(r->res);
    *out = (ca_duck_chunk *)c;
    const char *err = duckdb_result_error(&r->res);
    if (!c && err)
        return duck_fail("fetch", err);
    return CA_OK;
}

void ca_duck_result_free(ca_duck_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncols; i++) {
        if (r->type_text)
            ca__free(r->type_text[i]);
        if (r->ltypes && r->ltypes[i])
            duckdb_destroy_logical_type(&r->ltypes[i]);
    }
    ca__free(r->type_text);
    ca__free(r->ltypes);
    duckdb_destroy_result(&r->res);
    ca__free(r);
}

size_t ca_duck_chunk_size(ca_duck_chunk *c) { return duckdb_data_chunk_get_size((duckdb_data_chunk)c); }

size_t ca_duck_chunk_column_count(ca_duck_chunk *c)
{
    return duckdb_data_chunk_get_column_count((duckdb_data_chunk)c);
}

ca_duck_vec *ca_duck_chunk_vector(ca_duck_chunk *c, size_t col)
{
    return (ca_duck_vec *)duckdb_data_chunk_get_vector((duckdb_data_chunk)c, col);
}

void ca_duck_chunk_set_size(ca_duck_chunk *c, size_t n) { duckdb_data_chunk_set_size((duckdb_data_chunk)c, n); }

void ca_duck_chunk_free(ca_duck_chunk *c)
{
    if (!c)
        return;
    duckdb_data_chunk d = (duckdb_data_chunk)c;
    duckdb_destroy_data_chunk(&d);
}

size_t ca_duck_vector_capacity(void) { return duckdb_vector_size(); }

/* ---- vectors ------------------------------------------------------------------------------- */

#define VEC(v) ((duckdb_vector)(v))

void *ca_duck_vec_data(ca_duck_vec *v) { return duckdb_vector_get_data(VEC(v)); }
uint64_t *ca_duck_vec_validity(ca_duck_vec *v) { return duckdb_vector_get_validity(VEC(v)); }

uint64_t *ca_duck_vec_validity_writable(ca_duck_vec *v)
{
    duckdb_vector_ensure_validity_writable(VEC(v));
    return duckdb_vector_get_validity(VEC(v));
}

void ca_duck_vec_set_null(ca_duck_vec *v, size_t row)
{
    duckdb_validity_set_row_invalid(ca_duck_vec_validity_writable(v), row);
}

void ca_duck_vec_set_string(ca_duck_vec *v, size_t row, const char *s, size_t len)
{
    duckdb_vector_assign_string_element_len(VEC(v), row, s, len);
}

ca_duck_ltype *ca_duck_vec_ltype(ca_duck_vec *v) { return (ca_duck_ltype *)duckdb_vector_get_column_type(VEC(v)); }
ca_duck_vec *ca_duck_vec_list_child(ca_duck_vec *v) { return (ca_duck_vec *)duckdb_list_vector_get_child(VEC(v)); }
size_t ca_duck_vec_list_size(ca_duck_vec *v) { return duckdb_list_vector_get_size(VEC(v)); }

int ca_duck_vec_list_reserve(ca_duck_vec *v, size_t n)
{
    if (duckdb_list_vector_reserve(VEC(v), n) == DuckDBError)
        return ca_err_nomem(MOD, "list vector");
    return CA_OK;
}

int ca_duck_vec_list_set_size(ca_duck_vec *v, size_t n)
{
    if (duckdb_list_vector_set_size(VEC(v), n) == DuckDBError)
        return ca_err_set(CA_E_INTERNAL, MOD, "list vector size %zu", n);
    return CA_OK;
}

ca_duck_vec *ca_duck_vec_struct_child(ca_duck_vec *v, size_t i)
{
    return (ca_duck_vec *)duckdb_struct_vector_get_child(VEC(v), i);
}

ca_duck_vec *ca_duck_vec_array_child(ca_duck_vec *v) { return (ca_duck_vec *)duckdb_array_vector_get_child(VEC(v)); }

/* ---- logical types ------------------------------------------------------------------------- */

#define LT(t) ((duckdb_logical_type)(t))

ca_duck_ltype *ca_duck_ltype_new(ca_duck_type t) { return (ca_duck_ltype *)duckdb_create_logical_type((duckdb_type)t); }
ca_duck_ltype *ca_duck_ltype_list(ca_duck_ltype *child) { return (ca_duck_ltype *)duckdb_create_list_type(LT(child)); }

ca_duck_ltype *ca_duck_ltype_struct(ca_duck_ltype **members, const char **names, size_t n)
{
    return (ca_duck_ltype *)duckdb_create_struct_type((duckdb_logical_type *)members, names, n);
}

ca_duck_ltype *ca_duck_ltype_decimal(uint8_t width, uint8_t scale)
{
    return (ca_duck_ltype *)duckdb_create_decimal_type(width, scale);
}

void ca_duck_ltype_free(ca_duck_ltype *t)
{
    if (!t)
        return;
    duckdb_logical_type l = LT(t);
    duckdb_destroy_logical_type(&l);
}

ca_duck_type ca_duck_ltype_id(ca_duck_ltype *t) { return (ca_duck_type)duckdb_get_type_id(LT(t)); }
uint8_t ca_duck_ltype_decimal_width(ca_duck_ltype *t) { return duckdb_decimal_width(LT(t)); }
uint8_t ca_duck_ltype_decimal_scale(ca_duck_ltype *t) { return duckdb_decimal_scale(LT(t)); }
ca_duck_type ca_duck_ltype_decimal_internal(ca_duck_ltype *t) { return (ca_duck_type)duckdb_decimal_internal_type(LT(t)); }
ca_duck_ltype *ca_duck_ltype_list_child(ca_duck_ltype *t) { return (ca_duck_ltype *)duckdb_list_type_child_type(LT(t)); }
ca_duck_ltype *ca_duck_ltype_array_child(ca_duck_ltype *t) { return (ca_duck_ltype *)duckdb_array_type_child_type(LT(t)); }
size_t ca_duck_ltype_array_size(ca_duck_ltype *t) { return duckdb_array_type_array_size(LT(t)); }

size_t ca_duck_ltype_struct_count(ca_duck_ltype *t)
{
    ca_duck_type id = ca_duck_ltype_id(t);
    if (id == CA_DUCK_UNION)
        return duckdb_union_type_member_count(LT(t));
    return duckdb_struct_type_child_count(LT(t));
}

/* DuckDB's strings are freed with duckdb_free; the library's callers use ca__free. */
static char *own_duck_string(char *s)
{
    if (!s)
        return NULL;
    char *d = ca__strdup(s);
    duckdb_free(s);
    return d;
}

char *ca_duck_ltype_struct_name(ca_duck_ltype *t, size_t i)
{
    if (ca_duck_ltype_id(t) == CA_DUCK_UNION)
        return own_duck_string(duckdb_union_type_member_name(LT(t), i));
    return own_duck_string(duckdb_struct_type_child_name(LT(t), i));
}

ca_duck_ltype *ca_duck_ltype_struct_child(ca_duck_ltype *t, size_t i)
{
    if (ca_duck_ltype_id(t) == CA_DUCK_UNION)
        return (ca_duck_ltype *)duckdb_union_type_member_type(LT(t), i);
    return (ca_duck_ltype *)duckdb_struct_type_child_type(LT(t), i);
}

char *ca_duck_ltype_enum_value(ca_duck_ltype *t, size_t index)
{
    return own_duck_string(duckdb_enum_dictionary_value(LT(t), index));
}

static const char *base_type_name(ca_duck_type id)
{
    switch (id) {
    case CA_DUCK_BOOLEAN: return "BOOLEAN";
    case CA_DUCK_TINYINT: return "TINYINT";
    case CA_DUCK_SMALLINT: return "SMALLINT";
    case CA_DUCK_INTEGER: return "INTEGER";
    case CA_DUCK_BIGINT: return "BIGINT";
    case CA_DUCK_UTINYINT: return "UTINYINT";
    case CA_DUCK_USMALLINT: return "USMALLINT";
    case CA_DUCK_UINTEGER: return "UINTEGER";
    case CA_DUCK_UBIGINT: return "UBIGINT";
    case CA_DUCK_FLOAT: return "FLOAT";
    case CA_DUCK_DOUBLE: return "DOUBLE";
    case CA_DUCK_TIMESTAMP: return "TIMESTAMP";
    case CA_DUCK_DATE: return "DATE";
    case CA_DUCK_TIME: return "TIME";
    case CA_DUCK_INTERVAL: return "INTERVAL";
    case CA_DUCK_HUGEINT: return "HUGEINT";
    case CA_DUCK_UHUGEINT: return "UHUGEINT";
    case CA_DUCK_VARCHAR: return "VARCHAR";
    case CA_DUCK_BLOB: return "BLOB";
    case CA_DUCK_TIMESTAMP_S: return "TIMESTAMP_S";
    case CA_DUCK_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case CA_DUCK_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case CA_DUCK_UUID: return "UUID";
    case CA_DUCK_BIT: return "BIT";
    case CA_DUCK_TIME_TZ: return "TIME WITH TIME ZONE";
    case CA_DUCK_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case CA_DUCK_BIGNUM: return "BIGNUM";
    case CA_DUCK_SQLNULL: return "\"NULL\"";
    case CA_DUCK_TIME_NS: return "TIME_NS";
    case CA_DUCK_ANY: return "ANY";
    default: return "UNKNOWN";
    }
}

static void type_text(ca_buf *b, ca_duck_ltype *t);

static void member_list_text(ca_buf *b, ca_duck_ltype *t, const char *open)
{
    size_t n = ca_duck_ltype_struct_count(t);
    ca_buf_puts(b, open);
    for (size_t i = 0; i < n; i++) {
        char *name = ca_duck_ltype_struct_name(t, i);
        char *q = name ? ca_duck_quote_ident(name) : NULL;
        ca_duck_ltype *child = ca_duck_ltype_struct_child(t, i);
        ca_buf_printf(b, "%s%s ", i ? ", " : "", q ? q : "?");
        type_text(b, child);
        ca_duck_ltype_free(child);
        ca__free(q);
        ca__free(name);
    }
    ca_buf_putc(b, ')');
}

static void type_text(ca_buf *b, ca_duck_ltype *t)
{
    ca_duck_type id = ca_duck_ltype_id(t);
    ca_duck_ltype *child;
    switch (id) {
    case CA_DUCK_DECIMAL:
        ca_buf_printf(b, "DECIMAL(%u,%u)", ca_duck_ltype_decimal_width(t), ca_duck_ltype_decimal_scale(t));
        return;
    case CA_DUCK_LIST:
        child = ca_duck_ltype_list_child(t);
        type_text(b, child);
        ca_duck_ltype_free(child);
        ca_buf_puts(b, "[]");
        return;
    case CA_DUCK_ARRAY:
        child = ca_duck_ltype_array_child(t);
        type_text(b, child);
        ca_duck_ltype_free(child);
        ca_buf_printf(b, "[%zu]", ca_duck_ltype_array_size(t));
        return;
    case CA_DUCK_MAP: {
        duckdb_logical_type k = duckdb_map_type_key_type(LT(t));
        duckdb_logical_type v = duckdb_map_type_value_type(LT(t));
        ca_buf_puts(b, "MAP(");
        type_text(b, (ca_duck_ltype *)k);
        ca_buf_puts(b, ", ");
        type_text(b, (ca_duck_ltype *)v);
        ca_buf_putc(b, ')');
        duckdb_destroy_logical_type(&k);
        duckdb_destroy_logical_type(&v);
        return;
    }
    case CA_DUCK_STRUCT:
        member_list_text(b, t, "STRUCT(");
        return;
    case CA_DUCK_UNION:
        member_list_text(b, t, "UNION(");
        return;
    case CA_DUCK_ENUM: {
        char *alias = duckdb_logical_type_get_alias(LT(t));
        if (alias) {
            ca_buf_puts(b, alias);
            duckdb_free(alias);
            return;
        }
        ca_buf_puts(b, "ENUM(");
        uint32_t n = duckdb_enum_dictionary_size(LT(t));
        for (uint32_t i = 0; i < n; i++) {
            char *v = ca_duck_ltype_enum_value(t, i);
            char *q = v ? ca_duck_quote_literal(v) : NULL;
            ca_buf_printf(b, "%s%s", i ? ", " : "", q ? q : "?");
            ca__free(q);
            ca__free(v);
        }
        ca_buf_putc(b, ')');
        return;
    }
    default:
        ca_buf_puts(b, base_type_name(id));
    }
}

char *ca_duck_ltype_text(ca_duck_ltype *t)
{
    if (!t)
        return NULL;
    ca_buf b = CA_BUF_INIT;
    type_text(&b, t);
    return ca_buf_detach(&b, NULL);
}

/* ---- prepared statements ------------------------------------------------------------------- */

int ca_duck_prepare(ca_duck_conn *conn, const char *sql, ca_duck_stmt **out)
{
    *out = NULL;
    ca_duck_stmt *s = ca__calloc(1, sizeof *s);
    if (!s)
        return ca_err_nomem(MOD, "prepared statement");
    if (duckdb_prepare(conn->conn, sql, &s->stmt) == DuckDBError) {
        int rc = duck_fail("prepare", duckdb_prepare_error(s->stmt));
        ca_duck_stmt_free(s);
        return rc;
    }
    *out = s;
    return CA_OK;
}

size_t ca_duck_stmt_param_count(ca_duck_stmt *s) { return duckdb_nparams(s->stmt); }

static int bind_result(ca_duck_stmt *s, duckdb_state st, size_t i)
{
    if (st == DuckDBError)
        return duck_fail("bind", duckdb_prepare_error(s->stmt) ? duckdb_prepare_error(s->stmt)
                                                                 : "parameter index out of range");
    (void)i;
    return CA_OK;
}

int ca_duck_stmt_bind_null(ca_duck_stmt *s, size_t i) { return bind_result(s, duckdb_bind_null(s->stmt, i), i); }
int ca_duck_stmt_bind_bool(ca_duck_stmt *s, size_t i, bool v) { return bind_result(s, duckdb_bind_boolean(s->stmt, i, v), i); }
int ca_duck_stmt_bind_int64(ca_duck_stmt *s, size_t i, int64_t v) { return bind_result(s, duckdb_bind_int64(s->stmt, i, v), i); }
int ca_duck_stmt_bind_uint64(ca_duck_stmt *s, size_t i, uint64_t v) { return bind_result(s, duckdb_bind_uint64(s->stmt, i, v), i); }
int ca_duck_stmt_bind_double(ca_duck_stmt *s, size_t i, double v) { return bind_result(s, duckdb_bind_double(s->stmt, i, v), i); }

int ca_duck_stmt_bind_text(ca_duck_stmt *s, size_t i, const char *v, size_t len)
{
    return bind_result(s, duckdb_bind_varchar_length(s->stmt, i, v, len), i);
}

int ca_duck_stmt_bind_blob(ca_duck_stmt *s, size_t i, const void *v, size_t len)
{
    return bind_result(s, duckdb_bind_blob(s->stmt, i, v, len), i);
}

int ca_duck_stmt_clear(ca_duck_stmt *s) { return bind_result(s, duckdb_clear_bindings(s->stmt), 0); }

int ca_duck_stmt_execute(ca_duck_stmt *s, ca_duck_result **out)
{
    duckdb_result res;
    memset(&res, 0, sizeof res);
    if (out)
        *out = NULL;
    if (duckdb_execute_prepared(s->stmt, &res) == DuckDBError) {
        int rc = duck_fail("execute", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    if (!out) {
        duckdb_destroy_result(&res);
        return CA_OK;
    }
    return result_new(&res, out);
}

void ca_duck_stmt_free(ca_duck_stmt *s)
{
    if (!s)
        return;
    duckdb_destroy_prepare(&s->stmt);
    ca__free(s);
}

/* ---- appenders ----------------------------------------------------------------------------- */

static int append_result(ca_duck_appender *a, duckdb_state st, const char *what)
{
    if (st == DuckDBError)
        return ca_err_set(CA_E_DUCKDB, MOD, "append %s to %s: %s", what, a->table,
                          duckdb_appender_error(a->app) ? duckdb_appender_error(a->app) : "failed");
    return CA_OK;
}

int ca_duck_appender_open(ca_duck_conn *conn, const char *schema, const char *table, ca_duck_appender **out)
{
    *out = NULL;
    ca_duck_appender *a = ca__calloc(1, sizeof *a);
    if (!a || !(a->table = ca__strdup(table))) {
        ca__free(a);
        return ca_err_nomem(MOD, "appender");
    }
    if (duckdb_appender_create(conn->conn, schema, table, &a->app) == DuckDBError) {
        int rc = append_result(a, DuckDBError, "open");
        duckdb_appender_destroy(&a->app);
        ca__free(a->table);
        ca__free(a);
        return rc;
    }
    *out = a;
    return CA_OK;
}

int ca_duck_append_null(ca_duck_appender *a) { return append_result(a, duckdb_append_null(a->app), "null"); }
int ca_duck_append_bool(ca_duck_appender *a, bool v) { return append_result(a, duckdb_append_bool(a->app, v), "bool"); }
int ca_duck_append_int32(ca_duck_appender *a, int32_t v) { return append_result(a, duckdb_append_int32(a->app, v), "int32"); }
int ca_duck_append_int64(ca_duck_appender *a, int64_t v) { return append_result(a, duckdb_append_int64(a->app, v), "int64"); }
int ca_duck_append_uint64(ca_duck_appender *a, uint64_t v) { return append_result(a, duckdb_append_uint64(a->app, v), "uint64"); }
int ca_duck_append_double(ca_duck_appender *a, double v) { return append_result(a, duckdb_append_double(a->app, v), "double"); }

int ca_duck_append_text(ca_duck_appender *a, const char *v, size_t len)
{
    return append_result(a, duckdb_append_varchar_length(a->app, v, len), "text");
}

int ca_duck_append_blob(ca_duck_appender *a, const void *v, size_t len)
{
    return append_result(a, duckdb_append_blob(a->app, v, len), "blob");
}

int ca_duck_append_end_row(ca_duck_appender *a) { return append_result(a, duckdb_appender_end_row(a->app), "row"); }
int ca_duck_appender_flush(ca_duck_appender *a) { return append_result(a, duckdb_appender_flush(a->app), "flush"); }

int ca_duck_appender_close(ca_duck_appender *a)
{
    if (!a)
        return CA_OK;
    int rc = append_result(a, duckdb_appender_close(a->app), "close");
    duckdb_appender_destroy(&a->app);
    ca__free(a->table);
    ca__free(a);
    return rc;
}

/* ---- misc ---------------------------------------------------------------------------------- */

const char *ca_duck_library_version(void) { return duckdb_library_version(); }

static char *quote_with(const char *s, char q)
{
    ca_buf b = CA_BUF_INIT;
    ca_buf_put_quoted(&b, s, q);
    return ca_buf_detach(&b, NULL);
}

char *ca_duck_quote_ident(const char *name) { return quote_with(name, '"'); }
char *ca_duck_quote_literal(const char *s) { return quote_with(s, '\''); }

void ca_duck_date_parts(int32_t days, int32_t *year, int8_t *month, int8_t *day)
{
    duckdb_date d = {days};
    duckdb_date_struct ds = duckdb_from_date(d);
    *year = ds.year;
    *month = ds.month;
    *day = ds.day;
}

void ca_duck_time_parts(int64_t micros, int8_t *hour, int8_t *min, int8_t *sec, int32_t *micro)
{
    duckdb_time t = {micros};
    duckdb_time_struct ts = duckdb_from_time(t);
    *hour = ts.hour;
    *min = ts.min;
    *sec = ts.sec;
    *micro = ts.micros;
}
