/*
 * The DuckDB wall: the only module that includes duckdb.h. Everything here is a thin, typed
 * wrapper that (1) copies DuckDB's error text into ca_error_last() before destroying the object
 * that owns it and (2) destroys every result, prepared statement and appender on every path.
 *
 * Threading: a ca_duck_db is thread-safe; a ca_duck_conn, and everything made from it, is used
 * by one thread at a time (DuckDB's rule for connections).
 * Errors: functions return CA_OK or a negative CA_E_* (CA_E_DUCKDB for DuckDB's own failures,
 * message "<what>: <DuckDB text>").
 */
#ifndef CA_DUCK_H
#define CA_DUCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ca_duck_db ca_duck_db;
typedef struct ca_duck_conn ca_duck_conn;
typedef struct ca_duck_result ca_duck_result;
typedef struct ca_duck_chunk ca_duck_chunk;       /* a duckdb_data_chunk */
typedef struct ca_duck_vec ca_duck_vec;           /* a duckdb_vector (borrowed from its chunk) */
typedef struct ca_duck_ltype ca_duck_ltype;       /* a duckdb_logical_type */
typedef struct ca_duck_stmt ca_duck_stmt;
typedef struct ca_duck_appender ca_duck_appender;

/* Same numeric values as DUCKDB_TYPE_* (checked by static assertions in duck.c). */
typedef enum ca_duck_type {
    CA_DUCK_INVALID = 0, CA_DUCK_BOOLEAN = 1, CA_DUCK_TINYINT = 2, CA_DUCK_SMALLINT = 3,
    CA_DUCK_INTEGER = 4, CA_DUCK_BIGINT = 5, CA_DUCK_UTINYINT = 6, CA_DUCK_USMALLINT = 7,
    CA_DUCK_UINTEGER = 8, CA_DUCK_UBIGINT = 9, CA_DUCK_FLOAT = 10, CA_DUCK_DOUBLE = 11,
    CA_DUCK_TIMESTAMP = 12, CA_DUCK_DATE = 13, CA_DUCK_TIME = 14, CA_DUCK_INTERVAL = 15,
    CA_DUCK_HUGEINT = 16, CA_DUCK_VARCHAR = 17, CA_DUCK_BLOB = 18, CA_DUCK_DECIMAL = 19,
    CA_DUCK_TIMESTAMP_S = 20, CA_DUCK_TIMESTAMP_MS = 21, CA_DUCK_TIMESTAMP_NS = 22,
    CA_DUCK_ENUM = 23, CA_DUCK_LIST = 24, CA_DUCK_STRUCT = 25, CA_DUCK_MAP = 26,
    CA_DUCK_UUID = 27, CA_DUCK_UNION = 28, CA_DUCK_BIT = 29, CA_DUCK_TIME_TZ = 30,
    CA_DUCK_TIMESTAMP_TZ = 31, CA_DUCK_UHUGEINT = 32, CA_DUCK_ARRAY = 33, CA_DUCK_ANY = 34,
    CA_DUCK_BIGNUM = 35, CA_DUCK_SQLNULL = 36, CA_DUCK_TIME_NS = 39
} ca_duck_type;

/* Layout-identical to duckdb_string_t (checked in duck.c): strings of at most 12 bytes are
 * inlined. Not NUL-terminated. */
typedef struct ca_duck_str {
    union {
        struct { uint32_t length; char prefix[4]; char *ptr; } pointer;
        struct { uint32_t length; char inlined[12]; } inlined;
    } value;
} ca_duck_str;

static inline uint32_t ca_duck_str_len(const ca_duck_str *s) { return s->value.inlined.length; }
static inline const char *ca_duck_str_data(const ca_duck_str *s)
{
    return s->value.inlined.length <= 12 ? s->value.inlined.inlined : s->value.pointer.ptr;
}

/* 128-bit integers as DuckDB lays them out. */
typedef struct ca_duck_hugeint { uint64_t lower; int64_t upper; } ca_duck_hugeint;
typedef struct ca_duck_uhugeint { uint64_t lower; uint64_t upper; } ca_duck_uhugeint;
typedef struct ca_duck_interval { int32_t months; int32_t days; int64_t micros; } ca_duck_interval;
typedef struct ca_duck_list_entry { uint64_t offset; uint64_t length; } ca_duck_list_entry;

/* ---- database and connections ------------------------------------------------------------ */

typedef struct ca_duck_config {
    const char *path;          /* NULL or "" or ":memory:" = in-memory database */
    int threads;               /* > 0 */
    const char *memory_limit;  /* e.g. "4GB" */
    const char *temp_dir;      /* spill directory; also holds extension_directory */
    const char *timezone;      /* applied with SET on each connection; NULL = "UTC" */
} ca_duck_config;

/* Opens a database with no extension autoinstall/autoload and an extension repository that
 * does not exist, so no query (not even INSTALL) reaches the network. */
int ca_duck_open(const ca_duck_config *cfg, ca_duck_db **out);
void ca_duck_close(ca_duck_db *db); /* accepts NULL; all connections must be closed first */

/* New connection with the per-connection SET settings applied (TimeZone, …). */
int ca_duck_connect(ca_duck_db *db, ca_duck_conn **out);
void ca_duck_disconnect(ca_duck_conn *conn); /* accepts NULL */

/* Called for every new connection of a database, before the connection is returned (the
 * session registers the function library and the Delta SQL functions here). Not thread-safe:
 * set it before connections are made. */
typedef int (*ca_duck_conn_hook)(ca_duck_conn *conn, void *ctx);
void ca_duck_set_connect_hook(ca_duck_db *db, ca_duck_conn_hook hook, void *ctx);

/* The underlying handles, for the UDF glue inside src/lib/duck only (void * keeps duckdb.h out
 * of this header). */
void *ca_duck__raw_conn(ca_duck_conn *conn);
void *ca_duck__raw_db(ca_duck_db *db);

/* Runs SQL (one or more statements), discarding any result. */
int ca_duck_exec(ca_duck_conn *conn, const char *sql);
/* printf-style convenience for ca_duck_exec. */
int ca_duck_execf(ca_duck_conn *conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs one query and returns a streaming result; read it with ca_duck_result_next_chunk. */
int ca_duck_query(ca_duck_conn *conn, const char *sql, ca_duck_result **out);
/* Runs a query expected to return one row of one column and converts it: */
int ca_duck_query_int64(ca_duck_conn *conn, const char *sql, int64_t *out, bool *is_null);
int ca_duck_query_text(ca_duck_conn *conn, const char *sql, char **out /* ca__free; NULL if NULL */);

/* Interrupts the query running on conn (thread-safe). */
void ca_duck_interrupt(ca_duck_conn *conn);

/* ---- results and chunks ------------------------------------------------------------------ */

size_t ca_duck_result_column_count(ca_duck_result *r);
const char *ca_duck_result_column_name(ca_duck_result *r, size_t col);   /* borrowed */
ca_duck_type ca_duck_result_column_type(ca_duck_result *r, size_t col);
/* Type as SQL text ("INTEGER", "VARCHAR[]", "STRUCT(a INTEGER)"); borrowed, lives with r. */
const char *ca_duck_result_column_type_text(ca_duck_result *r, size_t col);
/* Borrowed logical type of a column, lives with r. */
ca_duck_ltype *ca_duck_result_column_ltype(ca_duck_result *r, size_t col);
/* Rows changed by an INSERT/UPDATE/DELETE (0 for queries). */
int64_t ca_duck_result_rows_changed(ca_duck_result *r);
/* Next chunk (caller owns: ca_duck_chunk_free) or *out = NULL at the end. */
int ca_duck_result_next_chunk(ca_duck_result *r, ca_duck_chunk **out);
void ca_duck_result_free(ca_duck_result *r); /* accepts NULL */

size_t ca_duck_chunk_size(ca_duck_chunk *c);
size_t ca_duck_chunk_column_count(ca_duck_chunk *c);
ca_duck_vec *ca_duck_chunk_vector(ca_duck_chunk *c, size_t col); /* borrowed */
void ca_duck_chunk_set_size(ca_duck_chunk *c, size_t n);
void ca_duck_chunk_free(ca_duck_chunk *c); /* accepts NULL */
size_t ca_duck_vector_capacity(void);     /* rows per chunk (STANDARD_VECTOR_SIZE) */

/* ---- vectors: direct access for vectorised loops ------------------------------------------ */

void *ca_duck_vec_data(ca_duck_vec *v);
/* NULL means every row is valid. */
uint64_t *ca_duck_vec_validity(ca_duck_vec *v);
static inline bool ca_duck_row_valid(const uint64_t *validity, size_t row)
{
    return !validity || (validity[row >> 6] >> (row & 63)) & 1u;
}
/* Makes the validity mask writable (allocating it all-valid) and returns it. */
uint64_t *ca_duck_vec_validity_writable(ca_duck_vec *v);
void ca_duck_vec_set_null(ca_duck_vec *v, size_t row);
void ca_duck_vec_set_string(ca_duck_vec *v, size_t row, const char *s, size_t len);
ca_duck_ltype *ca_duck_vec_ltype(ca_duck_vec *v); /* caller frees: ca_duck_ltype_free */
ca_duck_vec *ca_duck_vec_list_child(ca_duck_vec *v);
size_t ca_duck_vec_list_size(ca_duck_vec *v);
int ca_duck_vec_list_reserve(ca_duck_vec *v, size_t n);
int ca_duck_vec_list_set_size(ca_duck_vec *v, size_t n);
ca_duck_vec *ca_duck_vec_struct_child(ca_duck_vec *v, size_t i);
ca_duck_vec *ca_duck_vec_array_child(ca_duck_vec *v);

/* ---- logical types ------------------------------------------------------------------------ */

ca_duck_ltype *ca_duck_ltype_new(ca_duck_type t);  /* NULL only on out-of-memory */
ca_duck_ltype *ca_duck_ltype_list(ca_duck_ltype *child);
ca_duck_ltype *ca_duck_ltype_struct(ca_duck_ltype **members, const char **names, size_t n);
ca_duck_ltype *ca_duck_ltype_decimal(uint8_t width, uint8_t scale);
void ca_duck_ltype_free(ca_duck_ltype *t); /* accepts NULL */
ca_duck_type ca_duck_ltype_id(ca_duck_ltype *t);
/* SQL text of a type ("DECIMAL(18,3)"); caller frees with ca__free. */
char *ca_duck_ltype_text(ca_duck_ltype *t);
uint8_t ca_duck_ltype_decimal_width(ca_duck_ltype *t);
uint8_t ca_duck_ltype_decimal_scale(ca_duck_ltype *t);
ca_duck_type ca_duck_ltype_decimal_internal(ca_duck_ltype *t);
ca_duck_ltype *ca_duck_ltype_list_child(ca_duck_ltype *t);  /* caller frees */
ca_duck_ltype *ca_duck_ltype_array_child(ca_duck_ltype *t); /* caller frees */
size_t ca_duck_ltype_array_size(ca_duck_ltype *t);
size_t ca_duck_ltype_struct_count(ca_duck_ltype *t);
char *ca_duck_ltype_struct_name(ca_duck_ltype *t, size_t i);         /* ca__free */
ca_duck_ltype *ca_duck_ltype_struct_child(ca_duck_ltype *t, size_t i); /* caller frees */
char *ca_duck_ltype_enum_value(ca_duck_ltype *t, size_t index);      /* ca__free */

/* ---- prepared statements ------------------------------------------------------------------ */

int ca_duck_prepare(ca_duck_conn *conn, const char *sql, ca_duck_stmt **out);
size_t ca_duck_stmt_param_count(ca_duck_stmt *s);
/* Parameters are 1-based, as in DuckDB. */
int ca_duck_stmt_bind_null(ca_duck_stmt *s, size_t i);
int ca_duck_stmt_bind_bool(ca_duck_stmt *s, size_t i, bool v);
int ca_duck_stmt_bind_int64(ca_duck_stmt *s, size_t i, int64_t v);
int ca_duck_stmt_bind_uint64(ca_duck_stmt *s, size_t i, uint64_t v);
int ca_duck_stmt_bind_double(ca_duck_stmt *s, size_t i, double v);
int ca_duck_stmt_bind_text(ca_duck_stmt *s, size_t i, const char *v, size_t len);
int ca_duck_stmt_bind_blob(ca_duck_stmt *s, size_t i, const void *v, size_t len);
int ca_duck_stmt_clear(ca_duck_stmt *s);
/* Executes; *out may be NULL to discard the result. */
int ca_duck_stmt_execute(ca_duck_stmt *s, ca_duck_result **out);
void ca_duck_stmt_free(ca_duck_stmt *s); /* accepts NULL */

/* ---- appenders ---------------------------------------------------------------------------- */

int ca_duck_appender_open(ca_duck_conn *conn, const char *schema /* NULL = main */,
                          const char *table, ca_duck_appender **out);
int ca_duck_append_null(ca_duck_appender *a);
int ca_duck_append_bool(ca_duck_appender *a, bool v);
int ca_duck_append_int32(ca_duck_appender *a, int32_t v);
int ca_duck_append_int64(ca_duck_appender *a, int64_t v);
int ca_duck_append_uint64(ca_duck_appender *a, uint64_t v);
int ca_duck_append_double(ca_duck_appender *a, double v);
int ca_duck_append_text(ca_duck_appender *a, const char *v, size_t len);
int ca_duck_append_blob(ca_duck_appender *a, const void *v, size_t len);
int ca_duck_append_end_row(ca_duck_appender *a);
int ca_duck_appender_flush(ca_duck_appender *a);
/* Flushes and destroys; returns the flush status. Accepts NULL. */
int ca_duck_appender_close(ca_duck_appender *a);

/* ---- misc --------------------------------------------------------------------------------- */

const char *ca_duck_library_version(void);
/* Quotes an identifier ("a""b") into a ca__malloc'd string. */
char *ca_duck_quote_ident(const char *name);
/* Quotes a string literal ('it''s') into a ca__malloc'd string. */
char *ca_duck_quote_literal(const char *s);
/* Date/time decomposition helpers (DuckDB's calendar rules). */
void ca_duck_date_parts(int32_t days, int32_t *year, int8_t *month, int8_t *day);
void ca_duck_time_parts(int64_t micros, int8_t *hour, int8_t *min, int8_t *sec, int32_t *micro);

#endif
