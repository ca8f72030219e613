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
 * ca_delta_*_free / _close function; strings returned as `char **` with ca_free.
 */
#ifndef CODEANATOMY_DELTA_H
#define CODEANATOMY_DELTA_H

#include "codeanatomy/export.h"
#include "codeanatomy/memory.h"

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
 * timestamp columns checks it). *sql owned (ca_free); report may be NULL; opts may be
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
 * actions. *sql owned (ca_free). Thread-safe. */
CA_EXTERN int ca_delta_cdf_sql(ca_delta_ctx *ctx, const char *root, const char *start,
                               const char *end, char **sql);

/* The Delta context of a session's database (borrowed, lives as long as the session); its SQL
 * functions are registered on every connection of the session. Thread-safe. */
typedef struct ca_session ca_session;
CA_EXTERN ca_delta_ctx *ca_session_delta(ca_session *s);


/*
 * ==== The write side (delta.md §12–§16) ====
 *
 * Common rules of every function below:
 *   - ctx is the database's Delta context (ca_delta_ctx_new); root is the table directory.
 *   - conn is the connection the source SQL (and predicates) run on, borrowed and used by this
 *     call only (it must not be used by another thread meanwhile). NULL = a fresh connection of
 *     the ctx's database, made (and closed) by the call; it gets the database's connect hook, so
 *     in a session it sees read_delta and the function library. It must not be the ctx's own
 *     connection.
 *   - Thread-safety: calls on different tables may run concurrently; concurrent commits to one
 *     table (threads or processes) are serialized by the commit protocol (§13).
 *   - Return CA_OK or a negative CA_E_* with ca_error_last() = "delta: <root>: <object>: <what>":
 *     CA_E_DELTA_NOT_A_TABLE, _TABLE_EXISTS, _UNSUPPORTED (writer feature, property, option),
 *     _TYPE (a source type Delta cannot store, naming column, type and hint), _SCHEMA (source
 *     does not match the table), _CONSTRAINT (NOT NULL / CHECK / invariant / replaceWhere
 *     violated by a new row), _APPEND_ONLY, _MERGE_KEYS, _CONFLICT (a concurrent commit
 *     conflicts, §13), _RETRIES (max_commit_retries lost races), _VERSION; CA_E_INVALID,
 *     CA_E_DUCKDB (source SQL), CA_E_IO, CA_E_NOSPC, CA_E_NOMEM.
 *   - Results are caller-provided structs, filled on success and failure alike (counters zero,
 *     `reason` set on failure) and released with their _clear function.
 */


/* ---- writes (create, append, overwrite, replaceWhere, merge) ------------------------------ */

typedef enum ca_delta_write_mode {
    CA_DELTA_WRITE_APPEND = 0,    /* add the rows (creates the table when absent) */
    CA_DELTA_WRITE_OVERWRITE = 1, /* replace every row, or those matching replace_where */
    CA_DELTA_WRITE_MERGE = 2,     /* upsert by merge_keys (copy-on-write) */
    CA_DELTA_WRITE_CREATE = 3,    /* create; CA_E_DELTA_TABLE_EXISTS if the table exists */
} ca_delta_write_mode;

typedef enum ca_delta_schema_mode {
    CA_DELTA_SCHEMA_STRICT = 0, /* §7.3: names must match, safe upcasts only */
    CA_DELTA_SCHEMA_MERGE = 1,  /* append / merge: new top-level columns are added (nullable) */
} ca_delta_schema_mode;

/* A key/value pair; both borrowed for the call. */
typedef struct ca_delta_kv {
    const char *key;
    const char *value;
} ca_delta_kv;

#define CA_DELTA_WRITE_OPTIONS_VERSION 1

typedef struct ca_delta_write_options {
    unsigned version;                  /* CA_DELTA_WRITE_OPTIONS_VERSION */
    const char *sql;                   /* the source: one SELECT (required) */
    ca_delta_write_mode mode;
    const char *const *partition_by;   /* on create: partition columns (in directory order) */
    size_t n_partition_by;
    const char *replace_where;         /* OVERWRITE: predicate over partition columns; every
                                        * new row must satisfy it */
    const char *const *merge_keys;     /* MERGE: key columns (NULL keys never match) */
    size_t n_merge_keys;
    bool merge_delete_unmatched_target;/* MERGE: delete target rows whose key is absent from
                                        * the source ("not matched by source: delete") */
    const ca_delta_kv *properties;     /* on create: table properties (delta.* are checked) */
    size_t n_properties;
    const ca_delta_kv *commit_metadata;/* custom commitInfo keys (top-level strings) */
    size_t n_commit_metadata;
    const char *user_metadata;         /* commitInfo.userMetadata, or NULL */
    const char *app_id;                /* application transaction (txn) id, or NULL */
    int64_t app_version;               /* with app_id: skip when txn[app_id] >= app_version */
    ca_delta_schema_mode schema_mode;
    int max_commit_retries;            /* < 0 = 10 */
    int64_t target_file_size;          /* bytes per data file; 0 = delta.targetFileSize or 128 MiB */
    const char *table_name;            /* on create: metaData.name, or NULL */
    const char *description;           /* on create: metaData.description, or NULL */
} ca_delta_write_options;

#define CA_DELTA_WRITE_OPTIONS_INIT                                                               \
    {CA_DELTA_WRITE_OPTIONS_VERSION, NULL, CA_DELTA_WRITE_APPEND, NULL, 0, NULL, NULL, 0, false,   \
     NULL, 0, NULL, 0, NULL, NULL, -1, CA_DELTA_SCHEMA_STRICT, -1, 0, NULL, NULL}

/* What one commit did (this commit only). */
typedef struct ca_delta_write_result {
    int64_t version;          /* the committed version; -1 if nothing was committed */
    bool skipped;             /* app transaction already applied: nothing written */
    bool created;             /* this commit created the table */
    int64_t rows_written;     /* rows the source produced (merge: source rows) */
    int64_t rows_added;       /* sum of numRecords of the added files */
    int64_t files_added, files_removed;
    int64_t bytes_added, bytes_removed;
    int64_t rows_deleted, rows_updated, rows_inserted, rows_copied; /* DML */
    int retries;              /* lost commit races before the winning attempt */
    bool checkpoint_written;  /* the post-commit checkpoint (§13 step 5) */
    char **warnings;          /* tolerated post-commit failures (.crc, checkpoint) */
    size_t n_warnings;
    const char *reason;       /* on failure: write_outcome reason (spec.md §19):
                               * "execution_failed", "merge_key_duplicate", "write_failed",
                               * "commit_conflict", "commit_failed"; static string */
} ca_delta_write_result;

/* Creates, appends to, overwrites (wholly or by replace_where) or merges into the table at root
 * from opts->sql (run once on conn; rows are checked inside the COPY projection), writing data
 * files with DuckDB and committing them atomically (§12, §13). A merge on a table with change
 * data feed writes update_preimage / update_postimage / insert / delete change rows (§15).
 * With app_id, a table whose txn[app_id] >= app_version returns CA_OK with result->skipped.
 * A 0-row append commits no add.
 * *result is filled (release with ca_delta_write_result_clear). */
CA_EXTERN int ca_delta_write(ca_delta_ctx *ctx, struct ca_duck_conn *conn, const char *root,
                             const ca_delta_write_options *opts, ca_delta_write_result *result);

/* Releases the warnings of a result and zeroes it. Accepts NULL. */
CA_EXTERN void ca_delta_write_result_clear(ca_delta_write_result *result);

/* The spec.md §19 write_outcome JSON of a finished write: rc CA_OK and a committed version →
 * {"status":"captured",delta_version,files_added,files_removed,bytes_written,rows_added};
 * otherwise {"status":"unavailable","reason":…} (a skipped app transaction: "not_attempted").
 * *out owned (ca_free). CA_OK or CA_E_NOMEM. */
CA_EXTERN int ca_delta_write_outcome_json(const ca_delta_write_result *result, int rc, char **out);

/* ---- delete / update ---------------------------------------------------------------------- */

#define CA_DELTA_DML_OPTIONS_VERSION 1

typedef struct ca_delta_dml_options {
    unsigned version;                  /* CA_DELTA_DML_OPTIONS_VERSION */
    const char *predicate;             /* DuckDB SQL over the table's columns; NULL = all rows */
    const char *const *set_columns;    /* update: columns to assign … */
    const char *const *set_exprs;      /* … and their SQL expressions (parallel arrays) */
    size_t n_set;
    const ca_delta_kv *commit_metadata;
    size_t n_commit_metadata;
    const char *user_metadata;
    int max_commit_retries;            /* < 0 = 10 */
} ca_delta_dml_options;

#define CA_DELTA_DML_OPTIONS_INIT {CA_DELTA_DML_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, 0, NULL, -1}

/* Deletes the rows matching opts->predicate: files whose rows all match are removed, files
 * with some matching rows are rewritten without them (copy-on-write; their deletion vectors are
 * applied). result: rows_deleted, rows_copied, files/bytes. A delete matching nothing commits
 * nothing (version -1). With delta.enableChangeDataFeed=true the commit also carries change
 * files with a `delete` row per deleted row (§15). */
CA_EXTERN int ca_delta_delete(ca_delta_ctx *ctx, struct ca_duck_conn *conn, const char *root,
                              const ca_delta_dml_options *opts, ca_delta_write_result *result);

/* Updates the rows matching opts->predicate with set_columns = set_exprs (evaluated on the old
 * row), rewriting the files that hold a matching row. result: rows_updated, rows_copied. With
 * change data feed: update_preimage / update_postimage change rows. */
CA_EXTERN int ca_delta_update(ca_delta_ctx *ctx, struct ca_duck_conn *conn, const char *root,
                              const ca_delta_dml_options *opts, ca_delta_write_result *result);

/* ---- table properties and constraints ------------------------------------------------------ */

/* Sets (value non-NULL) or unsets (value NULL) table properties in one SET TBLPROPERTIES commit.
 * delta.* keys are checked as on create (unknown ones: CA_E_DELTA_UNSUPPORTED); enabling a
 * feature raises the protocol (never lowers it). result: version. */
CA_EXTERN int ca_delta_set_properties(ca_delta_ctx *ctx, const char *root, const ca_delta_kv *props, size_t n,
                                      ca_delta_write_result *result);

/* Adds CHECK constraint `name` (delta.constraints.<name> = expr) after checking every current
 * row on conn (NULL = a fresh connection): a violating row is CA_E_DELTA_CONSTRAINT, an existing
 * name CA_E_INVALID. One ADD CONSTRAINT commit; writer version raised to 3 (or the
 * checkConstraints feature listed at 7). */
CA_EXTERN int ca_delta_add_constraint(ca_delta_ctx *ctx, struct ca_duck_conn *conn, const char *root, const char *name,
                                      const char *expr, ca_delta_write_result *result);

/* ---- maintenance (§16) -------------------------------------------------------------------- */

typedef enum ca_delta_step_status {
    CA_DELTA_STEP_SUCCEEDED = 0,
    CA_DELTA_STEP_FAILED = 1,
    CA_DELTA_STEP_SKIPPED = 2,
} ca_delta_step_status;

/* One maintenance step's report. Counters a step does not use stay 0. */
typedef struct ca_delta_maint_report {
    const char *step;              /* "compact", "checkpoint", "vacuum", "cleanup_log",
                                    * "restore" (static) */
    ca_delta_step_status status;
    int error_code;                /* failed: the CA_E_* code */
    char *message;                 /* failed: the error message; NULL otherwise */
    const char *reason;            /* skipped: "previous_step_failed", "nothing_to_do",
                                    * "disabled" (static); NULL otherwise */
    int64_t version_before;        /* table version before the step (-1 unknown) */
    int64_t version_after;         /* after it (= before when nothing was committed) */
    double duration_ms;
    /* compact / restore */
    int64_t partitions, bins, files_added, files_removed, bytes_added, bytes_removed, rows;
    /* checkpoint */
    bool written;                  /* false: that version already had a checkpoint */
    int64_t checkpoint_version, checkpoint_bytes, checkpoint_actions, checkpoint_add_files;
    /* vacuum */
    bool dry_run;
    int64_t files_scanned, files_deleted, bytes_deleted, files_too_recent, dirs_deleted;
    double retention_hours_requested, retention_hours_effective;
    char **paths;                  /* vacuum: the deleted (or, dry run, deletable) paths,
                                    * relative to root */
    size_t n_paths;
    /* cleanup_log */
    int64_t cutoff_version, cutoff_checkpoint, log_files_deleted, checkpoints_deleted,
        crc_files_deleted, temp_files_deleted;
} ca_delta_maint_report;

/* Releases a report's strings and zeroes it. Accepts NULL. */
CA_EXTERN void ca_delta_maint_report_clear(ca_delta_maint_report *r);

/* The report as spec.md §19 maintenance step JSON ({step, status, delta_version?, metrics?,
 * reason?, message?}) extended with every counter under "metrics". *out owned (ca_free). */
CA_EXTERN int ca_delta_maint_report_json(const ca_delta_maint_report *r, char **out);

/* Writes a classic single-file checkpoint of `version` (< 0 = latest) and _last_checkpoint
 * (§14). Re-checkpointing a version is a reported no-op (written = false). */
CA_EXTERN int ca_delta_checkpoint(ca_delta_ctx *ctx, const char *root, int64_t version,
                                  ca_delta_maint_report *report);

#define CA_DELTA_COMPACT_OPTIONS_VERSION 1

typedef struct ca_delta_compact_options {
    unsigned version;         /* CA_DELTA_COMPACT_OPTIONS_VERSION */
    int64_t target_file_size; /* 0 = delta.targetFileSize or 128 MiB */
    int64_t min_files;        /* 0 = 2: a partition is compacted from this many candidates */
    const char *partition_filter; /* SQL over partition columns, or NULL = all partitions */
} ca_delta_compact_options;

#define CA_DELTA_COMPACT_OPTIONS_INIT {CA_DELTA_COMPACT_OPTIONS_VERSION, 0, 0, NULL}

/* Bin-packs small files per partition into target-size files (one OPTIMIZE commit,
 * dataChange=false; DVs applied). Nothing to do: succeeded, version unchanged. */
CA_EXTERN int ca_delta_compact(ca_delta_ctx *ctx, const char *root, const ca_delta_compact_options *opts,
                               ca_delta_maint_report *report);

#define CA_DELTA_VACUUM_OPTIONS_VERSION 1

typedef struct ca_delta_vacuum_options {
    unsigned version;           /* CA_DELTA_VACUUM_OPTIONS_VERSION */
    double retention_hours;     /* < 0 = delta.deletedFileRetentionDuration or 168 */
    bool allow_short_retention; /* permit retention < 168 h */
    bool dry_run;               /* list, delete nothing */
} ca_delta_vacuum_options;

#define CA_DELTA_VACUUM_OPTIONS_INIT {CA_DELTA_VACUUM_OPTIONS_VERSION, -1.0, false, false}

/* Deletes files under root that no version within the retention needs (§16). Retention below
 * 168 h without allow_short_retention is CA_E_INVALID (nothing deleted). */
CA_EXTERN int ca_delta_vacuum(ca_delta_ctx *ctx, const char *root, const ca_delta_vacuum_options *opts,
                              ca_delta_maint_report *report);

/* Deletes log files older than the retention (< 0 = delta.logRetentionDuration or 720 h) below
 * the newest checkpoint before the cutoff (§16). */
CA_EXTERN int ca_delta_cleanup_log(ca_delta_ctx *ctx, const char *root, double retention_hours,
                                   ca_delta_maint_report *report);

/* Restores the table to `at` (a version or timestamp): one RESTORE commit adding the files only
 * in the target and removing those only in the latest version. */
CA_EXTERN int ca_delta_restore(ca_delta_ctx *ctx, const char *root, const ca_delta_at *at,
                               ca_delta_maint_report *report);

#define CA_DELTA_MAINTAIN_OPTIONS_VERSION 1

typedef struct ca_delta_maintain_options {
    unsigned version; /* CA_DELTA_MAINTAIN_OPTIONS_VERSION */
    bool compact, checkpoint, vacuum, cleanup_log; /* steps to run */
    ca_delta_compact_options compact_options;
    ca_delta_vacuum_options vacuum_options;
    double log_retention_hours; /* < 0 = table property or 720 */
} ca_delta_maintain_options;

#define CA_DELTA_MAINTAIN_OPTIONS_INIT                                                            \
    {CA_DELTA_MAINTAIN_OPTIONS_VERSION, true, true, true, true, CA_DELTA_COMPACT_OPTIONS_INIT,      \
     CA_DELTA_VACUUM_OPTIONS_INIT, -1.0}

/* Runs the enabled steps in the order compact → checkpoint → vacuum → cleanup_log, filling
 * reports[0..3] in that order (disabled steps: skipped, reason "disabled"); a failed step skips
 * the later ones ("previous_step_failed"). Returns the first failure's code, else CA_OK. */
CA_EXTERN int ca_delta_maintain(ca_delta_ctx *ctx, const char *root, const ca_delta_maintain_options *opts,
                                ca_delta_maint_report reports[4]);

CA_END_DECLS

#endif
