/*
 * The Python evidence extractor: a repository becomes the evidence tables of cpg.md §2.
 *
 * ca_extract_run scans a repository (top-level .gitignore honoured, hidden, __pycache__ and
 * virtual-env directories skipped, include/exclude globs, symlinks never followed out of the
 * root, a per-file size limit), parses every .py file on a thread pool and writes one row set
 * per evidence table into DuckDB tables of the session's database (main schema, replaced on
 * every run): repo_files, file_lines, scopes, defs, params, refs, attributes, imports, calls,
 * call_args, decorators, class_bases, parse_errors and, with opts.ast, syntax_nodes.
 * With opts.out_dir set, each table is then written to <out_dir>/evidence/<table>/.
 *
 * Storage: <out_dir>/evidence/<table>/ is a Delta table (delta.md) written through the session's
 * Delta context: the run's first part overwrites it, later parts append, rows in a defined sort
 * order (read it with read_delta('<out_dir>/evidence/<table>')). With out_dir set, rows
 * leave DuckDB in parts as the run goes (bounded memory) and the session's tables are staging
 * only (empty or holding the last part afterwards); without out_dir they keep every row.
 *
 * Thread-safety: ca_extract_run uses the session's default connection and opens one extra
 * connection per worker thread; do not use the session from other threads during the run.
 * Errors: CA_OK, CA_E_INVALID (bad options, repo_root not a directory), CA_E_NOT_FOUND,
 * CA_E_IO, CA_E_NOMEM, CA_E_DUCKDB, CA_E_PARSE (grammar does not load), CA_E_EXTRACT.
 * A file that cannot be read or decoded is not an error: it gets a repo_files row with `error`.
 */
#ifndef CODEANATOMY_EXTRACT_H
#define CODEANATOMY_EXTRACT_H

#include "codeanatomy/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

CA_BEGIN_DECLS

typedef struct ca_session ca_session;

#define CA_EXTRACT_OPTIONS_VERSION 1

/* Progress callback: files done / total and bytes read so far. Called from the thread that
 * called ca_extract_run, at most every few milliseconds and once at the end. */
typedef void (*ca_extract_progress_fn)(void *ctx, uint64_t files_done, uint64_t files_total,
                                       uint64_t bytes_done);

typedef struct ca_extract_options {
    unsigned version;              /* CA_EXTRACT_OPTIONS_VERSION */
    const char *repo_root;         /* directory to scan (required) */
    const char *out_dir;           /* NULL: tables stay in the session only */
    int threads;                   /* 0 = number of online cores */
    bool ast;                      /* also write syntax_nodes */
    const char *const *include;    /* globs over repo-relative paths; none = every .py file */
    size_t n_include;
    const char *const *exclude;    /* globs; a file or directory matching one is skipped */
    size_t n_exclude;
    uint64_t max_file_size;        /* bytes; 0 = 10 MiB */
    ca_extract_progress_fn progress; /* optional */
    void *progress_ctx;
    const char *trace_path;        /* optional: Chrome trace-event JSON with a span per file,
                                      per part written and for the scan */
} ca_extract_options;

#define CA_EXTRACT_OPTIONS_INIT {CA_EXTRACT_OPTIONS_VERSION, NULL, NULL, 0, false, NULL, 0, NULL, 0, 0, NULL, NULL, NULL}

/* The evidence tables, in the order summaries list them. */
#define CA_EXTRACT_TABLE_COUNT 14
/* Name of table i (< CA_EXTRACT_TABLE_COUNT), e.g. "repo_files"; static string. */
CA_EXTERN const char *ca_extract_table_name(size_t i);

/* Why files were skipped (repo_files.error values). */
#define CA_EXTRACT_SKIP_COUNT 5
/* "too_large", "unreadable", "binary", "not_utf8_decodable", "unknown_encoding". */
CA_EXTERN const char *ca_extract_skip_reason(size_t i);

typedef struct ca_extract_summary {
    uint64_t files;                     /* repo_files rows */
    uint64_t files_parsed;              /* files with evidence rows (no error) */
    uint64_t files_with_parse_errors;   /* parsed files with at least one parse_errors row */
    uint64_t files_skipped;             /* files with an error */
    uint64_t skipped[CA_EXTRACT_SKIP_COUNT]; /* by reason, ca_extract_skip_reason order */
    uint64_t lines;                     /* file_lines rows */
    uint64_t bytes;                     /* raw bytes read */
    uint64_t rows[CA_EXTRACT_TABLE_COUNT]; /* rows per table (syntax_nodes 0 without ast) */
    int threads;                        /* worker threads used */
    double elapsed_ms;                  /* wall time of the run (not part of any data) */
} ca_extract_summary;

/* Runs the extractor on session s. summary (may be NULL) is filled on success. */
CA_EXTERN int ca_extract_run(ca_session *s, const ca_extract_options *opts,
                             ca_extract_summary *summary);

/* The summary as a JSON object (field names as in the struct; "rows" and "skipped" as objects
 * keyed by table / reason). *out is NUL-terminated, owned by the caller (ca_free). */
CA_EXTERN int ca_extract_summary_json(const ca_extract_summary *summary, char **out);

CA_END_DECLS

#endif
