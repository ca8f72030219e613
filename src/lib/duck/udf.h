/*
 * UDF glue: registering C scalar functions (function sets, varargs, special NULL handling,
 * bind callbacks with bind data), aggregates (state init/update/combine/finalize/destroy) and
 * table functions (bind/init/function) on a DuckDB connection, without duckdb.h outside
 * src/lib/duck. Generic: it knows nothing about any function library.
 *
 * Types: every ca_duck_ltype * passed in is borrowed (DuckDB copies it). Callback contexts
 * (ca_udf_bind, ca_udf_exec, ca_udf_init) live for one callback only.
 * Threads: execution callbacks run concurrently on DuckDB's worker threads; extra info is shared
 * by every call and must be immutable; bind data is per bound expression (copied with the copy
 * callback when DuckDB duplicates a plan) and must also be read-only during execution.
 * Errors: registration returns CA_OK or CA_E_DUCKDB ("duckdb: register <name>: refused") —
 * DuckDB gives no reason, typically the name already exists in the system catalog.
 */
#ifndef CA_DUCK_UDF_H
#define CA_DUCK_UDF_H

#include "lib/duck/duck.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ca_udf_bind ca_udf_bind;   /* a bind callback's context */
typedef struct ca_udf_exec ca_udf_exec;   /* an execution callback's context */
typedef struct ca_udf_init ca_udf_init;   /* a table function's init context */
typedef struct ca_udf_value ca_udf_value; /* a constant (a folded argument or a table parameter) */

typedef void (*ca_udf_bind_fn)(ca_udf_bind *b);
typedef void (*ca_udf_free_fn)(void *p);
typedef void *(*ca_udf_copy_fn)(void *p);

/* ---- scalar functions ------------------------------------------------------------------ */

/* The vectorised body: input columns are flat vectors, out has the chunk's row count. A NULL
 * row of a column reaches the body even without special handling; the body marks it NULL. */
typedef void (*ca_udf_scalar_fn)(ca_udf_exec *ex, ca_duck_chunk *input, ca_duck_vec *out);

typedef struct ca_udf_scalar {
    ca_duck_ltype *const *params;  /* positional parameter types */
    size_t n_params;
    ca_duck_ltype *varargs;        /* NULL = none; else trailing arguments of this type (ANY ok) */
    ca_duck_ltype *ret;
    ca_udf_scalar_fn fn;
    ca_udf_bind_fn bind;           /* NULL = none */
    bool special_nulls;            /* NULL arguments reach the function (else constant NULL -> NULL) */
    bool is_volatile;              /* default: immutable (foldable) */
    void *extra;                   /* shared, immutable; NULL allowed */
    ca_udf_free_fn extra_free;     /* called by DuckDB when the function is dropped; NULL allowed */
} ca_udf_scalar;

/* Registers one function set `name` with one overload per form. Every extra is handed over:
 * on success DuckDB owns it; on failure it is released here. */
int ca_udf_register_scalar(ca_duck_conn *conn, const char *name, const ca_udf_scalar *forms,
                           size_t n_forms);

/* ---- aggregates ------------------------------------------------------------------------ */

/* States are opaque blocks of state_size bytes; states[i] is the state of input row i (update),
 * of group i (combine/finalize). */
typedef struct ca_udf_aggregate {
    ca_duck_ltype *const *params;
    size_t n_params;
    ca_duck_ltype *ret;
    size_t state_size;
    void (*init)(void *extra, void *state);
    void (*update)(ca_udf_exec *ex, ca_duck_chunk *input, void **states);
    void (*combine)(ca_udf_exec *ex, void **source, void **target, size_t n);
    void (*finalize)(ca_udf_exec *ex, void **states, ca_duck_vec *out, size_t n, size_t offset);
    void (*destroy)(void **states, size_t n); /* NULL = nothing to release */
    bool special_nulls;
    void *extra;
    ca_udf_free_fn extra_free;
} ca_udf_aggregate;

int ca_udf_register_aggregate(ca_duck_conn *conn, const char *name, const ca_udf_aggregate *forms,
                              size_t n_forms);

/* ---- table functions ------------------------------------------------------------------- */

/* Produces up to ca_duck_vector_capacity() rows into out and sets its size; size 0 = done. */
typedef void (*ca_udf_table_fn)(ca_udf_exec *ex, ca_duck_chunk *out);
typedef void (*ca_udf_init_fn)(ca_udf_init *in);

typedef struct ca_udf_table {
    ca_duck_ltype *const *params;
    size_t n_params;
    ca_udf_bind_fn bind;           /* required: declares the result columns */
    ca_udf_init_fn init;           /* NULL = no init data */
    ca_udf_table_fn fn;
    void *extra;
    ca_udf_free_fn extra_free;
} ca_udf_table;

int ca_udf_register_table(ca_duck_conn *conn, const char *name, const ca_udf_table *tf);

/* ---- bind context ---------------------------------------------------------------------- */

void *ca_udf_bind_extra(ca_udf_bind *b);
/* Scalar binds: the arguments of the call. */
size_t ca_udf_bind_arg_count(ca_udf_bind *b);
/* Type of argument i (caller frees with ca_duck_ltype_free); NULL on out-of-memory. */
ca_duck_ltype *ca_udf_bind_arg_type(ca_udf_bind *b, size_t i);
bool ca_udf_bind_arg_foldable(ca_udf_bind *b, size_t i);
/* Folds a foldable argument to a constant (caller frees with ca_udf_value_free). CA_OK or
 * CA_E_DUCKDB (the error also goes to ca_udf_bind_set_error's caller's discretion). */
int ca_udf_bind_arg_fold(ca_udf_bind *b, size_t i, ca_udf_value **out);
/* Table binds: parameter i (caller frees), result columns. */
size_t ca_udf_bind_param_count(ca_udf_bind *b);
ca_udf_value *ca_udf_bind_param(ca_udf_bind *b, size_t i);
void ca_udf_bind_add_column(ca_udf_bind *b, const char *name, ca_duck_ltype *type);
void ca_udf_bind_set_cardinality(ca_udf_bind *b, size_t rows, bool exact);
/* Bind data: owned by DuckDB from here on (freed with free_fn; copy_fn duplicates it when
 * DuckDB copies the bound expression — required for scalar binds that set data). */
void ca_udf_bind_set_data(ca_udf_bind *b, void *data, ca_udf_free_fn free_fn, ca_udf_copy_fn copy_fn);
/* Fails the bind: DuckDB raises "Binder Error: <msg>". */
void ca_udf_bind_set_error(ca_udf_bind *b, const char *msg);

/* ---- execution context ----------------------------------------------------------------- */

void *ca_udf_exec_extra(ca_udf_exec *ex);
void *ca_udf_exec_bind_data(ca_udf_exec *ex);   /* NULL when the bind set none */
void *ca_udf_exec_init_data(ca_udf_exec *ex);   /* table functions only */
/* Fails the query: DuckDB raises "Invalid Input Error: <msg>" after the callback returns. */
void ca_udf_exec_set_error(ca_udf_exec *ex, const char *msg);

/* ---- table init context ---------------------------------------------------------------- */

void *ca_udf_init_bind_data(ca_udf_init *in);
void ca_udf_init_set_data(ca_udf_init *in, void *data, ca_udf_free_fn free_fn);
void ca_udf_init_set_error(ca_udf_init *in, const char *msg);

/* ---- constants ------------------------------------------------------------------------- */

bool ca_udf_value_is_null(ca_udf_value *v);
ca_duck_type ca_udf_value_type(ca_udf_value *v);
/* Text of the value as CAST(v AS VARCHAR) (ca__free); NULL for SQL NULL or out-of-memory. */
char *ca_udf_value_text(ca_udf_value *v);
bool ca_udf_value_bool(ca_udf_value *v);
int64_t ca_udf_value_int64(ca_udf_value *v);
void ca_udf_value_free(ca_udf_value *v); /* accepts NULL */

/* ---- vectors --------------------------------------------------------------------------- */

/* Marks row NULL in a STRUCT vector and in each of its n_children children. */
void ca_udf_vec_set_null_struct(ca_duck_vec *v, size_t n_children, size_t row);


#endif
