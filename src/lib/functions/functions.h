/*
 * The SQL function library (functions.md): registration on DuckDB connections, the static
 * registry (single source of truth for every entry), the snapshot and its hash.
 *
 * Threads: ca_functions_register may run concurrently on different connections of one database
 * (a connection is used by one thread at a time, as always). The registry table is immutable.
 */
#ifndef CA_FUNCTIONS_MODULE_H
#define CA_FUNCTIONS_MODULE_H

#include "codeanatomy/functions.h"
#include "lib/duck/duck.h"

#include <stdbool.h>
#include <stddef.h>

/* Installs the library into conn: C functions once per database (whichever connection comes
 * first), macros on every connection, then checks the built-ins the library relies on.
 * Idempotent. CA_OK or CA_E_FUNCTIONS (message "functions: <name>: <what>: <DuckDB text>"). */
int ca_functions_register(ca_duck_conn *conn);

/* The registry snapshot of conn as RFC 8785 JSON (caller frees with ca__free), and its hash
 * (64 hex digits + NUL into out). */
int ca_functions_snapshot_json(ca_duck_conn *conn, char **out);
int ca_functions_snapshot_hash(ca_duck_conn *conn, char out[65]);

/* ---- the static registry (functions.md §8.1) ------------------------------------------- */

typedef enum { CA_FN_SCALAR = 1, CA_FN_AGGREGATE, CA_FN_TABLE } ca_fn_kind;
typedef enum { CA_FN_C = 1, CA_FN_SQL_MACRO, CA_FN_BUILTIN, CA_FN_STORAGE } ca_fn_origin;
typedef enum { CA_FN_IMMUTABLE = 1, CA_FN_STABLE, CA_FN_VOLATILE } ca_fn_volatility;
typedef enum { CA_FN_STRICT = 1, CA_FN_SPECIAL, CA_FN_SQL } ca_fn_nulls;

typedef struct { const char *name, *type, *doc; } ca_fn_arg;

typedef struct ca_fn_entry {
    const char *name;
    const char *const *aliases;  /* NULL-terminated or NULL */
    ca_fn_kind kind;
    ca_fn_origin origin;
    const char *section;
    const char *signature;       /* §4 text, forms joined by " | " */
    const char *return_type;     /* "BIGINT", "SPAN", "T[]", "TABLE", ... */
    ca_fn_volatility volatility;
    ca_fn_nulls nulls;
    const char *description;     /* one line ending in '.' */
    const ca_fn_arg *args;
    size_t n_args;
    const char *const *errors;   /* NULL-terminated E-templates */
    const char *definition;      /* SQL_MACRO: §5 text after the name; else NULL */
    const char *example;         /* one SELECT, one row, one column; NULL only for STORAGE */
    const char *expected;        /* its value CAST to VARCHAR; NULL = SQL NULL; "ERROR: <substring>" */
    /* C only: registers the entry's implementation under e->name (the registration passes a
     * copy with name = an alias for each alias). Messages always use the primary name. */
    int (*register_c)(ca_duck_conn *, const struct ca_fn_entry *);
} ca_fn_entry;

extern const ca_fn_entry CA_FUNCTIONS[];
extern const size_t CA_FUNCTIONS_COUNT;

const ca_fn_entry *ca_functions_find(const char *name_or_alias);
const char *ca_fn_kind_name(ca_fn_kind k);
const char *ca_fn_origin_name(ca_fn_origin o);
const char *ca_fn_volatility_name(ca_fn_volatility v);
const char *ca_fn_nulls_name(ca_fn_nulls n);

/* ---- exposed for tests ------------------------------------------------------------------ */

/* functions.md §3 "Float text" of v (a FLOAT's exact value when is_float) into out (>= 400
 * bytes: 1e308 prints 309 digits); returns the length. */
size_t ca_functions__float_text(double v, bool is_float, char *out);

#endif
