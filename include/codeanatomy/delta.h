/*
 * Delta Lake tables, read side: snapshots, scans, change data feed, history. See
 * docs/internals/delta.md (the module) and ../shared/delta.md (the contract).
 *
 * Handles:
 *   ca_delta_ctx       one per DuckDB database: the module's own connection, the scan registry,
 *                      a cache of the 8 most recent snapshots, the SQL functions.
 *                      Thread-safe: every function taking a ctx may be called from several
 *                      threads at once.
 *   ca_delta_snapshot  one table at one version; immutable and reference-counted, so it may be
 *                      shared by threads. It borrows its ctx: close snapshots before the ctx.
 *
 * Errors: every int function returns CA_OK (0) or a negative CA_E_* code and then sets
 * ca_error_last() to one line "delta: <table root>: <object>: <what>". Codes used here:
 * CA_E_DELTA_NOT_A_TABLE (no _delta_log or an empty one), CA_E_DELTA_CORRUPT (log cannot be
 * replayed: bad JSON, missing protocol/metaData/schemaString, non-contiguous versions,
 * unreadable checkpoint), CA_E_DELTA_UNSUPPORTED (reader version > 3 or an unknown reader
 * feature, naming them all; an unmappable type), CA_E_DELTA_VERSION (version or timestamp out
 * of the reachable range), CA_E_DELTA_DV (corrupt deletion vector), CA_E_DELTA_CDF (change data
 * feed unavailable), CA_E_INVALID, CA_E_NOMEM, CA_E_IO, CA_E_DUCKDB. In SQL the same errors
 * surface as DuckDB errors whose text starts with the code name ("delta_corrupt: delta: …");
 * scans of tables with timestamp columns fail with "delta_timezone: …" unless TimeZone is UTC.
 *
 * Ownership: `T **out` results belong to the caller and are released with the matching
 * ca_delta_*_free / _close function; strings returned as `char **` with ca_delta_free.
 */
#ifndef CODEANATOMY_DELTA_H
#define CODEANATOMY_DELTA_H

#include "codeanatomy/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

CA_BEGIN_DECLS

/* The project's own handles (opaque here): a DuckDB database and connection of the DuckDB
 * wall, and the file-system vtable of src/util/fs.h. */
struct ca_duck_db;
struct ca_duck_conn;
struct ca_fs;

typedef struct ca_delta_ctx ca_delta_ctx;
typedef struct ca_delta_snapshot ca_delta_snapshot;

/* ---- context ------------------------------------------------------------------------------ */

#define CA_DELTA_CTX_OPTIONS_VERSION 1

typedef struct ca_delta_ctx_options {
    unsigned version; /* CA_DELTA_CTX_OPTIONS_VERSION */
    bool verify_crc;  /* check <v>.crc (when present) against the replayed state: file count,
                       * bytes, DV count, txn/domain counts, metadata id, protocol */
} ca_delta_ctx_options;

#define CA_DELTA_CTX_OPTIONS_INIT {CA_DELTA_CTX_OPTIONS_VERSION, false}

/* Creates the context of one database: opens the module's own connection on db and registers
 * the C SQL functions (__delta_scan_sql, __delta_cdf_sql, __delta_paths, __delta_scan_files,
 * __delta_dv_keep, __delta_snapshot, __delta_add_actions, __delta_history) in the database
 * catalog, once.
 * db and fs are borrowed and must outlive the context (fs NULL = the POSIX backend). opts may be
 * NULL. One context per database (a second one fails with CA_E_DUCKDB: names taken).
 * Call before installing a connect hook that calls ca_delta_register_sql (the module's own
 * connection needs no macros). */
CA_EXTERN int ca_delta_ctx_new(struct ca_duck_db *db, const struct ca_fs *fs,
                               const ca_delta_ctx_options *opts, ca_delta_ctx **out);

/* Frees the context and its connection. No query using the module's SQL functions may run any
 * more on any connection of the database (their catalog entries point at the context): free it
 * after the last query and before closing the database. Accepts NULL. */
CA_EXTERN void ca_delta_ctx_free(ca_delta_ctx *ctx);

/* Creates the TEMP macros read_delta, read_delta_cdf, delta_snapshot, delta_add_actions and
 * delta_history on conn (per connection; call it for every connection of the database except
 * the module's own, e.g. from the session's connect hook). Not thread-safe for one conn.
 * CA_OK or CA_E_DUCKDB. */
CA_EXTERN int ca_delta_register_sql(ca_delta_ctx *ctx, struct ca_duck_conn *conn);

/* ---- snapshots ---------------------------------------------------------------------------- */

typedef enum ca_delta_at_kind {
    CA_DELTA_AT_LATEST = 0,
    CA_DELTA_AT_VERSION = 1,
    CA_DELTA_AT_TIMESTAMP = 2,
} ca_delta_at_kind;

#define CA_DELTA_AT_VERSION_1 1

/* Which version to open. */
typedef struct ca_delta_at {
    unsigned version;          /* CA_DELTA_AT_VERSION_1 (the struct version) */
    ca_delta_at_kind kind;
    int64_t table_version;     /* CA_DELTA_AT_VERSION */
    const char *timestamp;     /* CA_DELTA_AT_TIMESTAMP: RFC 3339 with zone ("2024-01-01T00:00:00Z") */
} ca_delta_at;

#define CA_DELTA_AT_INIT {CA_DELTA_AT_VERSION_1, CA_DELTA_AT_LATEST, 0, NULL}

/* Opens the table at root (a directory holding _delta_log) at `at` (NULL = latest): log replay
 * from the newest usable checkpoint, protocol and reader-feature checks. *out is owned by the
 * caller (ca_delta_snapshot_close). Thread-safe. */
CA_EXTERN int ca_delta_table_open(ca_delta_ctx *ctx, const char *root, const ca_delta_at *at,
                                  ca_delta_snapshot **out);

/* Drops the caller's reference. Accepts NULL. */
CA_EXTERN void ca_delta_snapshot_close(ca_delta_snapshot *snap);

/* The snapshot's version (borrowed accessors; thread-safe). */
CA_EXTERN int64_t ca_delta_snapshot_version(const ca_delta_snapshot *snap);
CA_EXTERN size_t ca_delta_snapshot_file_count(const ca_delta_snapshot *snap);

/* ---- snapshot info (delta_snapshot) ------------------------------------------------------ */

typedef struct ca_delta_snapshot_info {
    char *root;
    int64_t version;
    int64_t commit_timestamp_ms;     /* commit time (mtime or inCommitTimestamp), ms since epoch */
    int32_t min_reader_version;
    int32_t min_writer_version;
    char **reader_features;          /* NULL when the protocol's list is absent or empty */
    size_t n_reader_features;
    char **writer_features;          /* NULL when the protocol's list is absent or empty */
    size_t n_writer_features;
    char *metadata_id;
    char *name;                      /* NULL if absent */
    char *description;               /* NULL if absent */
    char *format_provider;
    char *schema_json;               /* the schemaString */
    char **partition_columns;
    size_t n_partition_columns;
    char **configuration_keys;       /* parallel arrays */
    char **configuration_values;
    size_t n_configuration;
    int64_t created_time_ms;         /* -1 if absent */
    int64_t num_files;
    int64_t num_bytes;
    int64_t num_records;             /* sum of numRecords over files that have it */
    int64_t files_missing_num_records;
    int64_t num_dv_files;
    int64_t checkpoint_version;      /* the checkpoint the replay started from, -1 none */
    char **warnings;                 /* e.g. "last_checkpoint_invalid: …" */
    size_t n_warnings;
} ca_delta_snapshot_info;

/* Fills *out (owned: ca_delta_snapshot_info_free). Thread-safe. */
CA_EXTERN int ca_delta_snapshot_info_get(const ca_delta_snapshot *snap, ca_delta_snapshot_info **out);
CA_EXTERN void ca_delta_snapshot_info_free(ca_delta_snapshot_info *info); /* accepts NULL */

/* ---- add actions (delta_add_actions) ----------------------------------------------------- */

typedef struct ca_delta_add_action {
    char *path;                 /* as written in the log */
    int64_t size;
    int64_t modification_time;  /* ms */
    bool data_change;
    char *partition_values_json;/* JSON object text */
    char *stats_json;           /* NULL if absent */
    int64_t num_records;        /* -1 if unknown */
    char *tags_json;            /* NULL if absent */
    char *deletion_vector_json; /* NULL if none: {storageType, pathOrInlineDv, offset, sizeInBytes, cardinality} */
} ca_delta_add_action;

/* The active files in path order. *out owned (ca_delta_add_actions_free). Thread-safe. */
CA_EXTERN int ca_delta_add_actions(const ca_delta_snapshot *snap, ca_delta_add_action **out,
                                   size_t *n_out);
CA_EXTERN void ca_delta_add_actions_free(ca_delta_add_action *a, size_t n); /* accepts NULL */

/* ---- history (delta_history) -------------------------------------------------------------- */

typedef struct ca_delta_history_entry {
    int64_t version;
    int64_t timestamp_ms;           /* commit timestamp (as time travel uses it) */
    char *operation;                /* NULL if absent */
    char *operation_parameters_json;/* NULL if absent */
    char *operation_metrics_json;   /* NULL if absent */
    char *user_metadata;            /* NULL if absent */
    char *custom_json;              /* object of the non-standard top-level keys ("{}" if none) */
    char *commit_info_json;         /* the whole commitInfo ("null" if the commit has none) */
    char *engine_info;              /* NULL if absent */
    int64_t read_version;           /* -1 if absent */
    int is_blind_append;            /* 1, 0, or -1 if absent */
} ca_delta_history_entry;

/* Commits still in the log, newest first, at most limit (<= 0 = all). root is the table root.
 * *out owned (ca_delta_history_free). Thread-safe. */
CA_EXTERN int ca_delta_history(ca_delta_ctx *ctx, const char *root, int64_t limit,
                               ca_delta_history_entry **out, size_t *n_out);
CA_EXTERN void ca_delta_history_free(ca_delta_history_entry *h, size_t n); /* accepts NULL */

/* ---- scans -------------------------------------------------------------------------------- */

#define CA_DELTA_SCAN_OPTIONS_VERSION 1

typedef struct ca_delta_scan_options {
    unsigned version;   /* CA_DELTA_SCAN_OPTIONS_VERSION */
    const char *filter; /* DuckDB SQL predicate over logical column names, or NULL */
    bool lineage;       /* add __source_file VARCHAR (decoded, table-relative add path) */
    const char *const *columns; /* project these columns in this order (NULL = all, schema order);
                                 * "__source_file" allowed with lineage. Borrowed for the call. */
    size_t n_columns;
} ca_delta_scan_options;

#define CA_DELTA_SCAN_OPTIONS_INIT {CA_DELTA_SCAN_OPTIONS_VERSION, NULL, false, NULL, 0}

typedef struct ca_delta_scan_report {
    int64_t files_total;
    int64_t files_kept;
    int64_t files_with_dv;
    int64_t conjuncts_used;  /* filter conjuncts used for pruning */
    int64_t bad_stats;       /* files whose stats could not be parsed */
} ca_delta_scan_report;

/* The SQL of the snapshot's rows (delta.md §10): logical columns in schema order (or opts'
 * columns), partition values typed, column mapping and deletion vectors applied, files pruned
 * with the filter (§9), which also stays as a residual WHERE; CA_E_INVALID for an unknown
 * column. It runs on any connection of the ctx's database with TimeZone='UTC' (a table with
 * timestamp columns checks it). *sql owned (ca_delta_free); report may be NULL; opts may be
 * NULL. Thread-safe. */
CA_EXTERN int ca_delta_scan_sql(ca_delta_snapshot *snap, const ca_delta_scan_options *opts,
                                char **sql, ca_delta_scan_report *report);

/* ---- change data feed (read_delta_cdf) ---------------------------------------------------- */

/* The SQL of the change data feed of versions start..end (delta.md §15): the table columns (the
 * schema at end), then _change_type VARCHAR, _commit_version BIGINT, _commit_timestamp
 * TIMESTAMPTZ. start and end are version numbers ("12") or RFC 3339 timestamps (start: first
 * version at or after it; end: last version at or before it); end NULL = latest.
 * CA_E_DELTA_CDF when start > end, the feed is off at a version in range, a commit was cleaned
 * up, the schema changed non-additively, or a file was re-added with another DV without cdc
 * actions. *sql owned (ca_delta_free). Thread-safe. */
CA_EXTERN int ca_delta_cdf_sql(ca_delta_ctx *ctx, const char *root, const char *start,
                               const char *end, char **sql);

/* The Delta context of a session's database (borrowed, lives as long as the session); its SQL
 * functions are registered on every connection of the session. Thread-safe. */
typedef struct ca_session ca_session;
CA_EXTERN ca_delta_ctx *ca_session_delta(ca_session *s);

/* Releases a string returned by this module. Accepts NULL. */
CA_EXTERN void ca_delta_free(void *p);

CA_END_DECLS

#endif
