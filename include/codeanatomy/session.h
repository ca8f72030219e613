/*
 * A session: one embedded DuckDB database and its connections. Every connection of a session
 * has the SQL function library and the Delta SQL functions registered before first use.
 *
 * Thread-safety: a ca_session may be shared by threads only through ca_session_connect (each
 * thread queries on its own ca_connection); ca_session_query/exec use the session's default
 * connection and must not be called concurrently on one session.
 */
#ifndef CODEANATOMY_SESSION_H
#define CODEANATOMY_SESSION_H

#include "codeanatomy/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

CA_BEGIN_DECLS

typedef struct ca_session ca_session;
typedef struct ca_connection ca_connection;
typedef struct ca_result ca_result;

#define CA_SESSION_OPTIONS_VERSION 1

typedef struct ca_session_options {
    unsigned version;         /* CA_SESSION_OPTIONS_VERSION */
    const char *db_path;      /* NULL = in-memory database */
    int threads;              /* 0 = number of online cores */
    const char *memory_limit; /* NULL = "75%" of physical memory as DuckDB computes it */
    const char *temp_dir;     /* NULL = a fresh directory under $TMPDIR, removed at close */
} ca_session_options;

#define CA_SESSION_OPTIONS_INIT {CA_SESSION_OPTIONS_VERSION, NULL, 0, NULL, NULL}

/* Opens a session. opts may be NULL (defaults). On success *out is owned by the caller
 * (ca_session_close). Returns CA_OK, CA_E_INVALID (bad options), CA_E_DUCKDB, CA_E_IO,
 * CA_E_FUNCTIONS (function library registration failed). */
CA_EXTERN int ca_session_open(const ca_session_options *opts, ca_session **out);

/* Closes the session, its default connection and its temporary directory. Every connection
 * from ca_session_connect must be closed first. Accepts NULL. */
CA_EXTERN void ca_session_close(ca_session *s);

/* A new connection of the session for another thread (owned: ca_connection_close). */
CA_EXTERN int ca_session_connect(ca_session *s, ca_connection **out);
CA_EXTERN void ca_connection_close(ca_connection *c); /* accepts NULL */

/* The session's default connection (borrowed, lives as long as the session). */
CA_EXTERN ca_connection *ca_session_connection(ca_session *s);

/* Runs SQL (one or more statements) and discards results. CA_OK or CA_E_DUCKDB. */
CA_EXTERN int ca_session_exec(ca_session *s, const char *sql);
CA_EXTERN int ca_connection_exec(ca_connection *c, const char *sql);

/* Runs one query; *out (owned: ca_result_free) streams its rows. CA_OK or CA_E_DUCKDB. */
CA_EXTERN int ca_session_query(ca_session *s, const char *sql, ca_result **out);
CA_EXTERN int ca_connection_query(ca_connection *c, const char *sql, ca_result **out);

/* ---- results: a forward-only cursor over rows ---------------------------------------------- */

CA_EXTERN size_t ca_result_column_count(const ca_result *r);
/* Column name and SQL type text ("BIGINT", "VARCHAR[]"); borrowed, live with r. */
CA_EXTERN const char *ca_result_column_name(const ca_result *r, size_t col);
CA_EXTERN const char *ca_result_column_type(const ca_result *r, size_t col);

/* Advances to the next row: 1 = a row is current, 0 = end, negative CA_E_* on error. */
CA_EXTERN int ca_result_next(ca_result *r);

/* Cells of the current row (col < column count). */
CA_EXTERN bool ca_result_is_null(const ca_result *r, size_t col);
/* The value as text, as CAST(value AS VARCHAR) would print it; NULL for SQL NULL. Borrowed,
 * valid until the next call on r. */
CA_EXTERN const char *ca_result_text(ca_result *r, size_t col);
/* The value as a JSON text under the project's machine-output rules (DESIGN.md §2): integers
 * within ±2^53 and finite doubles as numbers; larger integers, DECIMAL, NaN/Inf, dates, times
 * and timestamps (ISO 8601) as strings; BLOB as base64; LIST/ARRAY as arrays, STRUCT/MAP as
 * objects; NULL as null. Borrowed, valid until the next call on r. */
CA_EXTERN const char *ca_result_json(ca_result *r, size_t col);

CA_EXTERN void ca_result_free(ca_result *r); /* accepts NULL */

CA_END_DECLS

#endif
