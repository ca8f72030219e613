/*
 * Status codes and the thread-local last error.
 *
 * Every function of the library returns an int: 0 (CA_OK) on success or a negative CA_E_* code.
 * All codes come from the single X-macro table CA_ERROR_TABLE below; add new codes only there
 * (append-only: the numeric value of a code never changes once released).
 */
#ifndef CODEANATOMY_ERROR_H
#define CODEANATOMY_ERROR_H

#include "codeanatomy/export.h"

CA_BEGIN_DECLS

/* X(NAME, value, "lower_case_name", "one-line description") */
#define CA_ERROR_TABLE(X)                                                                      \
    X(OK, 0, "ok", "success")                                                                 \
    X(E_INVALID, -1, "invalid", "invalid argument or input")                                 \
    X(E_NOMEM, -2, "nomem", "out of memory")                                                  \
    X(E_IO, -3, "io", "input/output error")                                                   \
    X(E_NOSPC, -4, "nospc", "no space left on device")                                        \
    X(E_NOT_FOUND, -5, "not_found", "no such file, table or object")                          \
    X(E_EXISTS, -6, "exists", "object already exists")                                        \
    X(E_OVERFLOW, -7, "overflow", "size arithmetic or bounded buffer overflow")               \
    X(E_UNSUPPORTED, -8, "unsupported", "operation not supported")                            \
    X(E_INTERNAL, -9, "internal", "internal error")                                           \
    X(E_USAGE, -10, "usage", "command-line usage error")                                      \
    X(E_DUCKDB, -20, "duckdb", "DuckDB reported an error")                                    \
    X(E_FUNCTIONS, -30, "functions", "SQL function library registration failed")             \
    X(E_SPEC, -40, "spec", "spec is invalid (diagnostics attached)")                          \
    X(E_COMPILE, -41, "compile", "spec compilation failed")                                   \
    X(E_EXTRACT, -50, "extract", "evidence extraction failed")                                \
    X(E_PARSE, -51, "parse", "source parsing failed")                                         \
    X(E_ENGINE, -60, "engine", "plan execution failed")                                       \
    X(E_DELTA_NOT_A_TABLE, -100, "delta_not_a_table", "path is not a Delta table")            \
    X(E_DELTA_TABLE_EXISTS, -101, "delta_table_exists", "Delta table already exists")         \
    X(E_DELTA_CORRUPT, -102, "delta_corrupt", "Delta log is corrupt")                         \
    X(E_DELTA_UNSUPPORTED, -103, "delta_unsupported", "unsupported Delta protocol feature")   \
    X(E_DELTA_TYPE, -104, "delta_type", "unsupported or mismatched Delta type")               \
    X(E_DELTA_SCHEMA, -105, "delta_schema", "Delta schema mismatch")                          \
    X(E_DELTA_VERSION, -106, "delta_version", "Delta version out of range")                   \
    X(E_DELTA_CONFLICT, -107, "delta_conflict", "concurrent Delta commit conflict")           \
    X(E_DELTA_RETRIES, -108, "delta_retries", "Delta commit retries exhausted")               \
    X(E_DELTA_CONSTRAINT, -109, "delta_constraint", "Delta CHECK constraint violated")        \
    X(E_DELTA_APPEND_ONLY, -110, "delta_append_only", "Delta table is append-only")           \
    X(E_DELTA_MERGE_KEYS, -111, "delta_merge_keys", "invalid or duplicate Delta merge keys")  \
    X(E_DELTA_DV, -112, "delta_dv", "invalid Delta deletion vector")                          \
    X(E_DELTA_CDF, -113, "delta_cdf", "Delta change data feed unavailable")                   \
    X(E_DELTA_TIMEZONE, -114, "delta_timezone", "Delta timestamp timezone error")             \
    X(E_DELTA_FS_UNSUPPORTED, -115, "delta_fs_unsupported", "file system lacks atomic commit")

#define CA__ERROR_ENUM(name, value, str, desc) CA_##name = value,
typedef enum ca_status { CA_ERROR_TABLE(CA__ERROR_ENUM) } ca_status;
#undef CA__ERROR_ENUM

/* The detail of the last error raised on the calling thread. Borrowed, valid until the next
 * library call on the same thread. */
typedef struct ca_error {
    int code;            /* a CA_E_* value, or CA_OK when no error was raised */
    const char *module;  /* "util", "duck", "delta", … ; never NULL */
    const char *message; /* one line, no trailing newline; never NULL */
} ca_error;

/* Lower-case name of a code without the prefix ("delta_conflict"); "unknown" for other values.
 * Thread-safe; returns a static string. */
CA_EXTERN const char *ca_error_name(int code);

/* One-line description of a code; static string, thread-safe. */
CA_EXTERN const char *ca_error_describe(int code);

/* The calling thread's last error; never NULL (code CA_OK and message "" when none).
 * Thread-local: each thread sees its own. */
CA_EXTERN const ca_error *ca_error_last(void);

/* Resets the calling thread's last error to CA_OK. */
CA_EXTERN void ca_error_clear(void);

CA_END_DECLS

#endif
