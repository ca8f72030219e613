/*
 * Private internals of the Delta module (delta.md). Not used outside src/lib/delta.
 *
 * Memory: a snapshot owns everything it points to (strings ca__malloc'd, json_t references
 * held); it is immutable once built and reference-counted, so scans and SQL functions share it.
 */
#ifndef CA_DELTA_INT_H
#define CA_DELTA_INT_H

#include "codeanatomy/delta.h"
#include "lib/delta/delta.h"
#include "lib/duck/duck.h"
#include "util/buf.h"
#include "util/fs.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DL_MOD "delta"

/* ---- names (names.c) ------------------------------------------------------------------- */

typedef enum dl_name_kind {
    DL_NAME_OTHER = 0,
    DL_NAME_COMMIT,      /* <v>.json */
    DL_NAME_CKPT_CLASSIC,/* <v>.checkpoint.parquet */
    DL_NAME_CKPT_MULTI,  /* <v>.checkpoint.<o>.<p>.parquet */
    DL_NAME_CKPT_UUID,   /* <v>.checkpoint.<uuid>.(json|parquet) */
    DL_NAME_COMPACTION,  /* <v>.<v>.compacted.json */
    DL_NAME_CRC,         /* <v>.crc */
} dl_name_kind;

typedef struct dl_name {
    dl_name_kind kind;
    int64_t version;
    int part, parts;     /* multi-part */
    bool is_json;        /* UUID checkpoint in JSON */
} dl_name;

void ca_delta__classify(const char *name, dl_name *out);
/* %XX-decodes s (invalid escapes are kept verbatim). Caller frees. NULL on OOM. */
char *ca_delta__uri_decode(const char *s);
/* The canonical key path of a log path: URI-decoded; file:/x and file:///x become /x. */
char *ca_delta__canonical_path(const char *log_path);
/* Absolute path of a canonical path under root. Caller frees. */
char *ca_delta__abs_path(const char *root, const char *cpath);
/* Lexically normalized absolute path (cwd-relative resolution, no "." "..", no trailing /). */
char *ca_delta__normalize_root(const char *path);
/* Z85 decode; n_in must be a multiple of 5. Returns bytes written or -1. */
long ca_delta__z85_decode(const char *in, size_t n_in, uint8_t *out, size_t out_cap);

/* ---- schema (schema.c) ------------------------------------------------------------------ */

typedef enum dl_kind { DL_PRIM, DL_STRUCT, DL_ARRAY, DL_MAP } dl_kind;

typedef struct dl_field dl_field;
typedef struct dl_type {
    dl_kind kind;
    char *prim;          /* Delta primitive name ("long", "decimal(10,2)") */
    char *duck;          /* DuckDB type of a primitive ("BIGINT") */
    dl_field *fields;    /* struct */
    size_t n_fields;
    struct dl_type *elem, *key, *val; /* array / map */
} dl_type;

struct dl_field {
    char *name;          /* logical */
    char *phys;          /* physical (= name without column mapping) */
    int64_t id;          /* column-mapping id, -1 if none */
    bool nullable;
    dl_type *type;
};

typedef enum dl_cm_mode { DL_CM_NONE = 0, DL_CM_NAME, DL_CM_ID } dl_cm_mode;

typedef struct dl_schema {
    dl_field *fields;
    size_t n_fields;
} dl_schema;

/* Parses a schemaString; CA_E_DELTA_CORRUPT (bad JSON/shape) or CA_E_DELTA_UNSUPPORTED (a
 * type this reader cannot map). what names the object for the message. */
int ca_delta__schema_parse(const char *root, const char *schema_string, dl_cm_mode mode,
                           dl_schema *out);
void ca_delta__schema_free(dl_schema *s);
/* DuckDB type text; phys_names: nested struct fields by physical name. */
int ca_delta__type_sql(const dl_type *t, bool phys_names, ca_buf *b);
/* Whether a nested value read with physical names needs renaming to logical ones. */
bool ca_delta__type_needs_rename(const dl_type *t);
/* Appends an expression converting `expr` (physical names) to the logical type. */
void ca_delta__type_rename_expr(const dl_type *t, const char *expr, int depth, ca_buf *b);
/* True when the type contains a Delta `timestamp` (TIMESTAMPTZ). */
bool ca_delta__type_has_tz(const dl_type *t);

/* ---- snapshot (snapshot.c) -------------------------------------------------------------- */

typedef struct dl_dv {
    char storage;        /* 'u', 'i', 'p'; 0 = no DV */
    char *path_or_inline;
    int32_t offset;      /* 0 when absent */
    bool has_offset;
    int32_t size;
    int64_t cardinality;
} dl_dv;

typedef struct dl_file {
    bool is_add;
    char *path;          /* as written in the log */
    char *cpath;         /* canonical (decoded) path */
    char *dv_id;         /* uniqueId or NULL */
    json_t *action;      /* the add/remove object (reference held) */
    json_t *pv;          /* partitionValues (borrowed from action) or NULL */
    int64_t size;
    int64_t mtime;
    bool data_change;
    const char *stats;   /* borrowed from action (or stats_owned); NULL if absent */
    char *stats_owned;   /* a checkpoint's lone stats_parsed, as JSON text */
    int64_t num_records; /* -1 if unknown */
    dl_dv dv;
} dl_file;

typedef struct dl_commit_meta {
    int64_t version;
    int64_t mtime_ms;
    bool present;
    uint64_t size;
} dl_commit_meta;

#define DL_SNAPSHOT_CACHE 8

struct ca_delta_ctx {
    struct ca_duck_db *db;
    const ca_fs *fs;
    ca_duck_conn *conn;          /* the module's own connection (guarded by conn_lock) */
    pthread_mutex_t conn_lock;
    pthread_mutex_t reg_lock;    /* scan registry */
    struct dl_reg_entry *reg_head; /* MRU first */
    size_t reg_count;
    bool functions_registered;
    pthread_mutex_t cache_lock;  /* snapshot cache: most recently used first */
    struct ca_delta_snapshot *cache[DL_SNAPSHOT_CACHE];
    bool verify_crc;
    ca_trace *trace;             /* NULL: no spans */
};

struct ca_delta_snapshot {
    ca_delta_ctx *ctx;
    int refs;                    /* atomic via __atomic builtins */
    char *root;                  /* normalized absolute root, no trailing '/' */
    int64_t version;
    int64_t timestamp_ms;
    int64_t checkpoint_version;  /* -1 none */
    json_t *protocol;
    json_t *metadata;
    json_t *commit_info;         /* of the snapshot version, or NULL */
    json_t *txns;                /* appId -> txn object */
    json_t *domains;             /* domain -> domainMetadata object */
    int min_reader, min_writer;
    dl_cm_mode cm_mode;
    dl_schema schema;
    char **part_cols;            /* logical names */
    size_t n_part_cols;
    dl_file **files;             /* active adds, sorted by cpath */
    size_t n_files;
    dl_file **tombstones;
    size_t n_tombstones;
    char **warnings;
    size_t n_warnings;
    dl_commit_meta *commits;     /* every listed commit (ascending) */
    size_t n_commits;
};

int ca_delta__snapshot_open(ca_delta_ctx *ctx, const char *root, const ca_delta_at *at,
                            ca_delta_snapshot **out);
void ca_delta__snapshot_ref(ca_delta_snapshot *s);
void ca_delta__cache_clear(ca_delta_ctx *ctx);
/* A dl_file from an add/remove/cdc action object (borrowed; the file takes a reference).
 * src/line/kind name the object in CA_E_DELTA_CORRUPT messages. */
int ca_delta__file_from_action(const char *root, const char *src, size_t line, json_t *a,
                               bool is_add, const char *kind, dl_file **out);
void ca_delta__file_free(dl_file *f);

/* Finds a schema field by logical name (top level); NULL if none. */
const dl_field *ca_delta__field(const ca_delta_snapshot *s, const char *name);
/* Partition value of file f for partition column i (logical index), or NULL. */
const char *ca_delta__part_value(const ca_delta_snapshot *s, const dl_file *f, size_t i);

/* Runs a query on the module's connection returning one VARCHAR column; calls row(text) per
 * row (NULL for SQL NULL). Holds conn_lock. */
int ca_delta__query_rows(ca_delta_ctx *ctx, const char *sql,
                         int (*row)(void *arg, const char *text, size_t len), void *arg);

/* ---- _last_checkpoint (lastckpt.c) ------------------------------------------------------- */

/* The protocol's JSON checksum of a _last_checkpoint text: lowercase MD5 hex into out.
 * CA_E_INVALID (nothing raised) when the text is not one JSON object. */
int ca_delta__json_checksum(const char *json, size_t len, char out[33]);

/* ---- deletion vectors (dv.c) ------------------------------------------------------------ */

typedef struct dl_bitmap dl_bitmap; /* buckets of 32-bit roaring bitmaps */

/* Table-relative path of a relative ('u') DV id (§11): NULL with *out set (ca__free; NULL on
 * out-of-memory), or a static reason when the id is malformed (*out NULL). */
const char *ca_delta__dv_rel_path(const char *id, char **out);

/* Loads and checks a DV. data_file names the file for messages. */
int ca_delta__dv_load(const ca_fs *fs, const char *root, const char *data_file, const dl_dv *dv,
                      dl_bitmap **out);
bool ca_delta__dv_contains(const dl_bitmap *bm, uint64_t row);
void ca_delta__dv_free(dl_bitmap *bm);

/* ---- scan (scan.c) ----------------------------------------------------------------------- */

typedef struct dl_reg_entry dl_reg_entry;

/* Looks up (or rebuilds from the token) a scan entry; the caller holds a reference. */
int ca_delta__reg_get(ca_delta_ctx *ctx, const char *token, size_t token_len, dl_reg_entry **out);
void ca_delta__reg_release(dl_reg_entry *e);
void ca_delta__reg_clear(ca_delta_ctx *ctx);
size_t ca_delta__reg_n_files(const dl_reg_entry *e);
size_t ca_delta__reg_n_parts(const dl_reg_entry *e);
const char *ca_delta__reg_abs_path(const dl_reg_entry *e, size_t i);
const char *ca_delta__reg_rel_path(const dl_reg_entry *e, size_t i);
const char *ca_delta__reg_part(const dl_reg_entry *e, size_t i, size_t p);
/* Whether row `row` of file i survives its DV (true when the file has none). Decodes the DV on
 * first use; *err set (and message raised) when the DV is corrupt. */
bool ca_delta__reg_keep(dl_reg_entry *e, size_t i, uint64_t row, int *err);
int ca_delta__reg_dv_prepare(dl_reg_entry *e, size_t i);

/* File pruning (prune.c): keep[i] for snapshot file i; full_token names the unpruned registry
 * entry (which must be registered and referenced by the caller). */
int ca_delta__prune(ca_delta_snapshot *s, const char *filter, const char *full_token, bool *keep,
                    int64_t *conjuncts_used);
const char *ca_delta__reg_stats(const dl_reg_entry *e, size_t i);

/* Scan SQL of the snapshot (shared by ca_delta_scan_sql and __delta_scan_sql). */
int ca_delta__scan_sql(ca_delta_snapshot *s, const char *filter, bool lineage,
                       const char *const *columns, size_t n_columns, char **sql,
                       ca_delta_scan_report *report);

/* The SELECT over a registered entry (shared by scans and the change data feed). */
int ca_delta__entry_sql(ca_delta_snapshot *s, dl_reg_entry *e, const char *token,
                        const char *filter, bool lineage, const char *const *columns,
                        size_t n_columns, char **sql);
bool ca_delta__reg_is_cdf(const dl_reg_entry *e);
/* Registers a change-data-feed entry over n files of snap's table; takes ownership of every
 * array (also on failure). *out is referenced for the caller. */
int ca_delta__reg_add_cdf(ca_delta_snapshot *snap, const char *token, dl_file **files,
                          const char **change_type, int64_t *versions, int64_t *ts, size_t n,
                          dl_reg_entry **out);
/* cdf.c: the SQL of read_delta_cdf (start/end: version digits or RFC 3339; end NULL = latest). */
int ca_delta__cdf_sql(ca_delta_ctx *ctx, const char *root, const char *start, const char *end,
                      char **sql);
/* cdf.c: rebuilds a CDF entry from its parsed token. */
int ca_delta__cdf_rebuild(ca_delta_ctx *ctx, json_t *token_json, const char *token, dl_reg_entry **out);
const char *ca_delta__reg_change_type(const dl_reg_entry *e, size_t i);
int64_t ca_delta__reg_commit_version(const dl_reg_entry *e, size_t i);
int64_t ca_delta__reg_commit_ts(const dl_reg_entry *e, size_t i);

/* Formats "<code name>: <message>" of the last error (for SQL errors). Caller frees. */
char *ca_delta__last_error_text(void);

#endif
