/* Extractor internals shared by the files of src/lib/extract. */
#ifndef CA_EXTRACT_INT_H
#define CA_EXTRACT_INT_H

#include "codeanatomy/extract.h"
#include "lib/duck/duck.h"
#include "lib/pyparse/pyparse.h"
#include "util/arena.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CA_EXTRACT_MOD "extract"
#define CA_EXTRACT_DEFAULT_MAX_SIZE ((uint64_t)10 << 20)
#define CA_EXTRACT_TEXT_CAP 200 /* free-text columns are cut here (on a character boundary) */

enum {
    T_REPO_FILES, T_FILE_LINES, T_SCOPES, T_DEFS, T_PARAMS, T_REFS, T_ATTRIBUTES, T_IMPORTS,
    T_CALLS, T_CALL_ARGS, T_DECORATORS, T_CLASS_BASES, T_PARSE_ERRORS, T_SYNTAX_NODES
};

enum { SKIP_TOO_LARGE, SKIP_UNREADABLE, SKIP_BINARY, SKIP_NOT_UTF8, SKIP_UNKNOWN_ENCODING };

/* ---- scan (scan.c) ----------------------------------------------------------------------- */

typedef struct ca_x_file {
    char *rel;          /* repo-relative path, '/'-separated */
    char *module_name;
    bool is_init;
    uint64_t size;
} ca_x_file;

typedef struct ca_x_scan {
    ca_x_file *files; /* sorted by rel (bytewise) */
    size_t n;
} ca_x_scan;

int ca_extract__scan(const char *root, const char *const *include, size_t n_include,
                     const char *const *exclude, size_t n_exclude, ca_x_scan *out);
void ca_extract__scan_free(ca_x_scan *s);
/* Glob match over a '/'-separated path: '*' and '?' do not cross '/', '**' does, "[...]"
 * classes. A pattern without '/' matches the last path component. */
bool ca_extract__glob(const char *pattern, const char *path);
/* module_name of cpg.md §1 from the path and the package chain (dirs with __init__.py). */

/* ---- decode (decode.c) ------------------------------------------------------------------- */

typedef struct ca_x_decoded {
    const char *text;  /* UTF-8 text (BOM removed); points into raw or into owned */
    size_t len;
    char *owned;       /* ca__free; set when transcoded */
    char encoding[40]; /* "utf-8" or the cookie's codec name, normalized */
    int skip;          /* -1 or SKIP_* */
} ca_x_decoded;

void ca_extract__decode(const char *raw, size_t n, ca_x_decoded *out);

/* ---- rows (rows.c / file.c) -------------------------------------------------------------- */

/* A worker's appenders (one per table) on its own connection. */
typedef struct ca_x_sink {
    ca_duck_conn *conn;
    ca_duck_appender *ap[CA_EXTRACT_TABLE_COUNT];
    uint64_t rows[CA_EXTRACT_TABLE_COUNT];
    int status; /* first append failure */
} ca_x_sink;

/* Per-file input handed to ca_extract__file. */
typedef struct ca_x_input {
    const char *path;
    const char *module_name;
    bool is_init;
    bool ast;
    const char *text; /* decoded UTF-8 */
    size_t len;
} ca_x_input;

/* Output counters of one file. */
typedef struct ca_x_file_stats {
    uint64_t lines;
    uint64_t parse_errors;
} ca_x_file_stats;

/* Extracts every table but repo_files for one decoded file into sink. */
int ca_extract__file(ca_pyparse *pp, ca_arena *arena, const ca_x_input *in, ca_x_sink *sink,
                     ca_x_file_stats *stats);

/* CREATE OR REPLACE the evidence tables on conn. */
int ca_extract__create_tables(ca_duck_conn *conn);
/* Sort key of table i for the ORDER BY of the emitted files. */
const char *ca_extract__table_order(size_t i);

/* ---- emit (emit.c) ----------------------------------------------------------------------- */

/* Writes the rows of table i of conn's database as part `part` of <out_dir>/evidence/<name>/
 * (part 0 first removes what an earlier run left there). */
typedef struct ca_delta_ctx ca_delta_ctx;
/* Commits the rows of evidence table i as part `part` of OUT/evidence/<table> (Delta): part 0
 * overwrites, later parts append. */
int ca_extract__emit_table(ca_delta_ctx *delta, ca_duck_conn *conn, const char *out_dir, size_t i,
                           size_t part);

#endif
