/*
 * Private internals of the Delta write side (write.c, commit.c, stats.c, checkpoint_write.c,
 * dml.c, maintain.c). Builds on delta_int.h (the read side: snapshots, schema, names).
 */
#ifndef CA_DELTA_WRITE_H
#define CA_DELTA_WRITE_H

#include "lib/delta/delta_int.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define DW_DEFAULT_TARGET ((int64_t)128 * 1024 * 1024)

/* ---- small helpers (write.c) -------------------------------------------------------------- */

/* UUIDv4 text (36 chars + NUL) from getrandom. */
void ca_delta__uuid4(char out[37]);
/* Appends s URI-encoded: every byte outside A-Za-z0-9-._~/ as %XX (§8). */
void ca_delta__uri_encode(ca_buf *b, const char *s);
/* Appends a partition value escaped for a directory name (§8). */
void ca_delta__hive_escape(ca_buf *b, const char *s);
/* "<root>/_delta_log/<v20>.<suffix>" (caller frees). */
char *ca_delta__log_path(const char *root, int64_t v, const char *suffix);
/* A connection for source SQL: conn itself, or a fresh one of the ctx's database (*owned). */
int ca_delta__conn_get(ca_delta_ctx *ctx, ca_duck_conn *conn, ca_duck_conn **out, bool *owned);
/* Runs sql on conn; *rows = array of objects {column: JSON value} (new reference). */
int ca_delta__query_json(ca_duck_conn *conn, const char *sql, json_t **rows);
/* Table property value (configuration) or NULL. */
const char *ca_delta__prop(const ca_delta_snapshot *s, const char *key);
/* Parses "interval <n> <unit>…" into hours; CA_E_INVALID (months, years, junk). */
int ca_delta__interval_hours(const char *text, double *hours);
/* Adds a warning string to a result (copy). */
void ca_delta__result_warn(ca_delta_write_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Checks that this writer may write to the table (writer version/features, §5). */
int ca_delta__check_writable(const ca_delta_snapshot *s);

/* ---- statistics (stats.c) ----------------------------------------------------------------- */

/* Builds the add.stats JSON text of one data file from DuckDB's COPY RETURN_STATS
 * column_statistics (colstats: object keyed by quoted dotted paths), for the data (non-partition)
 * fields of schema. num_indexed: dataSkippingNumIndexedCols (-1 = all); stats_cols: comma list
 * (dataSkippingStatsColumns) or NULL. Caller frees *out. */
int ca_delta__stats_json(const dl_schema *schema, char *const *part_cols, size_t n_part,
                         int64_t num_records, json_t *colstats, int64_t num_indexed,
                         const char *stats_cols, char **out);

/* ---- data files (write.c) ------------------------------------------------------------------ */

/* A COPY of `select_sql` (already projected to the table's physical columns, plus __pv<i>
 * partition-string columns when partitioned) into the table; the new files become add actions
 * appended to adds (dataChange as given). Totals into *rows / *bytes. */
typedef struct dw_copy {
    ca_delta_ctx *ctx;
    const char *root;
    const dl_schema *schema;     /* the table's (new) schema */
    char *const *part_cols;
    size_t n_part;
    const char *codec;           /* COPY COMPRESSION */
    const char *parquet_version; /* "V1" / "V2" */
    int64_t target_file_size;
    int64_t num_indexed;
    const char *stats_cols;
    bool data_change;
    bool cdc;                    /* change data files: _change_data/…/cdc-<uuid>, cdc actions, no stats */
} dw_copy;

int ca_delta__copy_files(const dw_copy *c, ca_duck_conn *conn, const char *select_sql, json_t *adds,
                         int64_t *rows, int64_t *bytes);
/* Fills a dw_copy from a snapshot's properties. */
void ca_delta__copy_init(dw_copy *c, ca_delta_ctx *ctx, ca_delta_snapshot *s);
/* The SELECT list projecting table columns of s (scan output) to the write projection:
 * appends "<cols>, <__pv exprs>" for rewriting existing rows. */
int ca_delta__partition_exprs(const ca_delta_snapshot *s, ca_buf *b);
/* Writes change data files (§15) of snapshot s's table from rows_sql, a relation holding the
 * table's columns (logical names) and _change_type; cdc actions are appended to actions.
 * Nothing is written for an empty relation. */
int ca_delta__write_cdc(ca_delta_ctx *ctx, ca_duck_conn *conn, ca_delta_snapshot *s, const char *rows_sql,
                        json_t *actions);
/* keep[i] = file i's partition values satisfy pred (SQL over partition columns, run on conn). */
int ca_delta__files_matching_partitions(ca_duck_conn *conn, ca_delta_snapshot *s, const char *pred, bool *keep);
/* Whether the table has delta.enableChangeDataFeed=true. */
bool ca_delta__cdf_enabled(const ca_delta_snapshot *s);
/* The remove action of an active file (deletionTimestamp now, dataChange as given). */
json_t *ca_delta__remove_of(const dl_file *f, int64_t now_ms, bool data_change);

/* ---- commit (commit.c) --------------------------------------------------------------------- */

typedef enum dw_op {
    DW_OP_CREATE,
    DW_OP_APPEND,
    DW_OP_OVERWRITE,  /* also replaceWhere */
    DW_OP_DELETE,
    DW_OP_UPDATE,
    DW_OP_MERGE,
    DW_OP_COMPACT,
    DW_OP_RESTORE,
} dw_op;

typedef struct dw_commit {
    ca_delta_ctx *ctx;
    const char *root;
    ca_delta_snapshot *snap;      /* read snapshot (NULL on create); borrowed */
    dw_op op;
    const char *operation;        /* commitInfo.operation */
    json_t *params;               /* operationParameters (reference stolen) */
    json_t *metrics;              /* operationMetrics (reference stolen) */
    json_t *actions;              /* array: protocol, metaData, txn, add, remove (stolen) */
    const ca_delta_kv *custom;    /* custom commitInfo keys */
    size_t n_custom;
    const char *user_metadata;
    const char *app_id;           /* our txn appId (conflict rule), or NULL */
    int64_t app_version;
    bool blind_append;
    bool create_if_missing;       /* create: lose to an existing v0 by becoming an append */
    int max_retries;
} dw_commit;

/* Commits (steps 2–5 of §13, with conflict checks and retries). Fills result->version, retries,
 * skipped (app txn applied concurrently), checkpoint_written, warnings. Frees the stolen json. */
int ca_delta__commit(dw_commit *c, ca_delta_write_result *result);
/* commitInfo-free action list helpers. */
json_t *ca_delta__txn_action(const char *app_id, int64_t version, int64_t now_ms);

/* ---- checkpoints (checkpoint_write.c) ------------------------------------------------------ */

/* Checkpoint of snapshot s; *written false when one exists already. */
int ca_delta__checkpoint_write(ca_delta_ctx *ctx, ca_delta_snapshot *s, bool *written, int64_t *bytes,
                               int64_t *actions, int64_t *adds);
/* The <v>.crc of snapshot s (link_if_absent: never overwrites). */
int ca_delta__crc_write(ca_delta_ctx *ctx, ca_delta_snapshot *s);

#endif
