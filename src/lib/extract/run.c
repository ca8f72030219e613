/* ca_extract_run: scan, parallel per-file extraction into DuckDB appenders, emit, summary. */
#include "lib/extract/extract_int.h"

#include "codeanatomy/functions.h"
#include "codeanatomy/delta.h"
#include "lib/delta/delta.h"
#include "lib/session/session.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/pool.h"
#include "util/time.h"
#include "util/trace.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MOD CA_EXTRACT_MOD
#define BATCH 128
#define FLUSH_BYTES ((uint64_t)8 << 20)

typedef struct worker {
    ca_x_sink sink;
    ca_pyparse *pp;
    ca_arena *arena;
    uint64_t lines, bytes, parsed, with_errors, skipped[CA_EXTRACT_SKIP_COUNT];
    struct worker *next;
} worker;

typedef struct run_ctx {
    const ca_extract_options *o;
    ca_duck_db *db;
    ca_delta_ctx *delta; /* the session's: evidence tables are committed through it */
    const ca_x_scan *scan;
    size_t base; /* first file of the batch */
    uint64_t max_size;
    pthread_mutex_t mu;
    worker *free_list;
    size_t parts[CA_EXTRACT_TABLE_COUNT]; /* part files written per table */
    ca_trace *trace;                      /* NULL: tracing off */
} run_ctx;

static void worker_free(worker *w)
{
    if (!w)
        return;
    for (size_t t = 0; t < CA_EXTRACT_TABLE_COUNT; t++)
        ca_duck_appender_close(w->sink.ap[t]);
    ca_duck_disconnect(w->sink.conn);
    ca_pyparse_free(w->pp);
    ca_arena_free(w->arena);
    ca__free(w);
}

static int worker_get(run_ctx *r, worker **out)
{
    pthread_mutex_lock(&r->mu);
    worker *w = r->free_list;
    if (w)
        r->free_list = w->next;
    pthread_mutex_unlock(&r->mu);
    if (w) {
        *out = w;
        return CA_OK;
    }
    w = ca__calloc(1, sizeof *w);
    if (!w)
        return ca_err_nomem(MOD, "worker");
    int rc = ca_pyparse_new(&w->pp);
    if (rc == CA_OK && !(w->arena = ca_arena_new(1 << 20)))
        rc = CA_E_NOMEM;
    if (rc == CA_OK)
        rc = ca_duck_connect(r->db, &w->sink.conn);
    for (size_t t = 0; rc == CA_OK && t < CA_EXTRACT_TABLE_COUNT; t++)
        rc = ca_duck_appender_open(w->sink.conn, NULL, ca_extract_table_name(t), &w->sink.ap[t]);
    if (rc != CA_OK) {
        worker_free(w);
        return rc;
    }
    *out = w;
    return CA_OK;
}

/* Every worker goes back on the free list after each file, so after a batch the list holds
 * all of them. */
static void worker_put(run_ctx *r, worker *w)
{
    pthread_mutex_lock(&r->mu);
    w->next = r->free_list;
    r->free_list = w;
    pthread_mutex_unlock(&r->mu);
}

static void repo_files_row(ca_x_sink *s, const char *file_id, const ca_x_file *f, const char *hash,
                           const char *encoding, uint64_t lines, uint64_t perrs, int skip)
{
    ca_duck_appender *a = s->ap[T_REPO_FILES];
    int rc = ca_duck_append_text(a, file_id, strlen(file_id));
    if (!rc) rc = ca_duck_append_text(a, f->rel, strlen(f->rel));
    if (!rc) rc = ca_duck_append_text(a, f->module_name, strlen(f->module_name));
    if (!rc) rc = ca_duck_append_bool(a, f->is_init);
    if (!rc) rc = ca_duck_append_int64(a, (int64_t)f->size);
    if (!rc) rc = hash ? ca_duck_append_text(a, hash, strlen(hash)) : ca_duck_append_null(a);
    if (!rc) rc = encoding ? ca_duck_append_text(a, encoding, strlen(encoding)) : ca_duck_append_null(a);
    if (!rc) rc = ca_duck_append_int64(a, (int64_t)lines);
    if (!rc) rc = ca_duck_append_int64(a, (int64_t)perrs);
    if (!rc) {
        const char *e = skip >= 0 ? ca_extract_skip_reason((size_t)skip) : NULL;
        rc = e ? ca_duck_append_text(a, e, strlen(e)) : ca_duck_append_null(a);
    }
    if (!rc) rc = ca_duck_append_end_row(a);
    if (rc && !s->status)
        s->status = rc;
    s->rows[T_REPO_FILES]++;
}

static int one_file(run_ctx *r, worker *w, const ca_x_file *f)
{
    char full[4096];
    if ((size_t)snprintf(full, sizeof full, "%s/%s", r->o->repo_root, f->rel) >= sizeof full)
        return ca_err_set(CA_E_INVALID, MOD, "extract: path too long: %s", f->rel);
    char file_id[80];
    {
        ca_buf b = CA_BUF_INIT;
        ca_id_part p = {.kind = CA_ID_TEXT};
        p.v.text.ptr = f->rel;
        p.v.text.len = strlen(f->rel);
        int rc = ca_functions_stable_id("file", 4, &p, 1, &b);
        if (rc == CA_OK)
            rc = ca_buf_status(&b);
        if (rc != CA_OK) {
            ca_buf_free(&b);
            return rc;
        }
        snprintf(file_id, sizeof file_id, "%s", ca_buf_cstr(&b));
        ca_buf_free(&b);
    }
    if (f->size > r->max_size) {
        w->skipped[SKIP_TOO_LARGE]++;
        repo_files_row(&w->sink, file_id, f, NULL, NULL, 0, 0, SKIP_TOO_LARGE);
        return w->sink.status;
    }
    char *raw = NULL;
    size_t n = 0;
    int rc = ca_fs_read_file(ca_fs_posix(), full, (size_t)r->max_size, &raw, &n);
    if (rc != CA_OK) {
        ca_error_clear();
        int why = rc == CA_E_OVERFLOW ? SKIP_TOO_LARGE : SKIP_UNREADABLE;
        w->skipped[why]++;
        repo_files_row(&w->sink, file_id, f, NULL, NULL, 0, 0, why);
        return w->sink.status;
    }
    w->bytes += n;
    char hash[CA_HASH_H128_HEX_LEN + 1];
    rc = ca_hash_h128_hex(raw, n, hash);
    if (rc != CA_OK) {
        ca__free(raw);
        return rc;
    }
    ca_x_decoded dec;
    ca_extract__decode(raw, n, &dec);
    if (dec.skip >= 0) {
        w->skipped[dec.skip]++;
        repo_files_row(&w->sink, file_id, f, hash, NULL, 0, 0, dec.skip);
        ca__free(dec.owned);
        ca__free(raw);
        return w->sink.status;
    }
    ca_x_input in = {f->rel, f->module_name, f->is_init, r->o->ast, dec.text, dec.len};
    ca_x_file_stats stats;
    rc = ca_extract__file(w->pp, w->arena, &in, &w->sink, &stats);
    ca_arena_reset(w->arena);
    if (rc == CA_OK) {
        w->parsed++;
        w->lines += stats.lines;
        w->with_errors += stats.parse_errors > 0;
        repo_files_row(&w->sink, file_id, f, hash, dec.encoding, stats.lines, stats.parse_errors, -1);
        rc = w->sink.status;
    }
    ca__free(dec.owned);
    ca__free(raw);
    return rc;
}

static int task(void *ctx, size_t i)
{
    run_ctx *r = ctx;
    worker *w = NULL;
    int rc = worker_get(r, &w);
    if (rc != CA_OK)
        return rc;
    ca_trace_span sp;
    ca_trace_begin(r->trace, &sp, "extract", "extract_file");
    ca_trace_arg_str(&sp, "path", r->scan->files[r->base + i].rel);
    ca_trace_arg_int(&sp, "bytes", (int64_t)r->scan->files[r->base + i].size);
    rc = one_file(r, w, &r->scan->files[r->base + i]);
    ca_trace_end(&sp);
    worker_put(r, w);
    return rc;
}

/* Writes the rows appended since the last call as the next part of every table (tables without new rows are
 * skipped, except that the last part gives every table at least one file) and empties the
 * tables. Runs between batches, when every worker is idle on the free list. */
static int flush_part(run_ctx *r, ca_duck_conn *conn, uint64_t *emitted, bool last)
{
    uint64_t rows[CA_EXTRACT_TABLE_COUNT] = {0};
    int rc = CA_OK;
    for (worker *w = r->free_list; w; w = w->next) {
        for (size_t t = 0; t < CA_EXTRACT_TABLE_COUNT; t++) {
            int frc = ca_duck_appender_close(w->sink.ap[t]);
            w->sink.ap[t] = NULL;
            if (rc == CA_OK)
                rc = frc;
            rows[t] += w->sink.rows[t];
        }
    }
    for (size_t t = 0; rc == CA_OK && t < CA_EXTRACT_TABLE_COUNT; t++) {
        if (t == T_SYNTAX_NODES && !r->o->ast)
            continue;
        bool fresh = rows[t] > emitted[t];
        if (fresh || (last && r->parts[t] == 0)) {
            ca_trace_span sp;
            ca_trace_begin(r->trace, &sp, "extract", "emit_part");
            ca_trace_arg_str(&sp, "table", ca_extract_table_name(t));
            ca_trace_arg_int(&sp, "part", (int64_t)r->parts[t]);
            rc = ca_extract__emit_table(r->delta, conn, r->o->out_dir, t, r->parts[t]++);
            ca_trace_end(&sp);
            emitted[t] = rows[t];
        }
    }
    if (!last && rc == CA_OK) {
        rc = ca_extract__create_tables(conn);
        for (worker *w = r->free_list; rc == CA_OK && w; w = w->next)
            for (size_t t = 0; rc == CA_OK && t < CA_EXTRACT_TABLE_COUNT; t++)
                rc = ca_duck_appender_open(w->sink.conn, NULL, ca_extract_table_name(t), &w->sink.ap[t]);
    }
    return rc;
}

int ca_extract_run(ca_session *s, const ca_extract_options *o, ca_extract_summary *summary)
{
    if (!s || !o || o->version != CA_EXTRACT_OPTIONS_VERSION || !o->repo_root || o->threads < 0)
        return ca_err_set(CA_E_INVALID, MOD, "extract: invalid options");
    ca_stopwatch sw;
    ca_stopwatch_start(&sw);
    int rc = ca_pyparse_check_abi();
    if (rc != CA_OK)
        return rc;
    ca_trace *trace = NULL;
    if (o->trace_path && (rc = ca_trace_open(o->trace_path, 0, &trace)) != CA_OK)
        return rc;
    ca_trace_span scan_span;
    ca_trace_begin(trace, &scan_span, "extract", "scan");
    ca_x_scan scan = {0};
    rc = ca_extract__scan(o->repo_root, o->include, o->n_include, o->exclude, o->n_exclude, &scan);
    ca_trace_arg_int(&scan_span, "files", (int64_t)scan.n);
    ca_trace_end(&scan_span);
    if (rc != CA_OK) {
        ca_trace_close(trace);
        return rc;
    }
    ca_duck_conn *conn = ca_session__duck_conn(ca_session_connection(s));
    rc = ca_extract__create_tables(conn);
    run_ctx r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.db = ca_session__duck_db(s);
    r.delta = ca_session_delta(s);
    r.scan = &scan;
    r.trace = trace;
    /* the run's trace also records the Delta commits of the evidence tables */
    ca_delta__set_trace(r.delta, trace);
    r.max_size = o->max_file_size ? o->max_file_size : CA_EXTRACT_DEFAULT_MAX_SIZE;
    pthread_mutex_init(&r.mu, NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = o->threads ? o->threads : (int)(ncpu > 0 ? ncpu : 1);
    ca_pool *pool = NULL;
    if (rc == CA_OK && threads > 1)
        rc = ca_pool_new((size_t)threads - 1, 0, &pool);
    uint64_t done = 0, flushed_bytes = 0;
    uint64_t emitted[CA_EXTRACT_TABLE_COUNT] = {0};
    for (size_t b = 0; rc == CA_OK && b < scan.n; b += BATCH) {
        r.base = b;
        size_t n = scan.n - b < BATCH ? scan.n - b : BATCH;
        rc = ca_pool_parallel_for(pool, n, task, &r);
        done += n;
        uint64_t bytes = 0;
        for (worker *w = r.free_list; w; w = w->next)
            bytes += w->bytes;
        if (o->progress)
            o->progress(o->progress_ctx, done, scan.n, bytes);
        /* with an output directory, rows leave DuckDB every FLUSH_BYTES of source (batch
         * boundaries, so parts do not depend on the thread count): memory stays bounded */
        if (rc == CA_OK && o->out_dir && bytes - flushed_bytes >= FLUSH_BYTES && b + n < scan.n) {
            rc = flush_part(&r, conn, emitted, false);
            flushed_bytes = bytes;
        }
    }
    if (rc == CA_OK && o->out_dir)
        rc = flush_part(&r, conn, emitted, true);
    ca_pool_free(pool);
    ca_extract_summary sum;
    memset(&sum, 0, sizeof sum);
    sum.threads = threads;
    /* every worker is back on the free list now: flush and close */
    for (worker *w = r.free_list; w;) {
        worker *next = w->next;
        for (size_t t = 0; t < CA_EXTRACT_TABLE_COUNT; t++) {
            int frc = ca_duck_appender_close(w->sink.ap[t]);
            w->sink.ap[t] = NULL;
            if (rc == CA_OK && frc != CA_OK)
                rc = frc;
            sum.rows[t] += w->sink.rows[t];
        }
        sum.lines += w->lines;
        sum.bytes += w->bytes;
        sum.files_parsed += w->parsed;
        sum.files_with_parse_errors += w->with_errors;
        for (size_t k = 0; k < CA_EXTRACT_SKIP_COUNT; k++) {
            sum.skipped[k] += w->skipped[k];
            sum.files_skipped += w->skipped[k];
        }
        worker_free(w);
        w = next;
    }
    pthread_mutex_destroy(&r.mu);
    sum.files = sum.rows[T_REPO_FILES];
    ca_extract__scan_free(&scan);
    ca_delta__set_trace(r.delta, NULL);
    int trc = ca_trace_close(trace);
    if (rc == CA_OK)
        rc = trc;
    sum.elapsed_ms = ca_stopwatch_elapsed_ms_f(&sw);
    if (rc == CA_OK && summary)
        *summary = sum;
    return rc;
}

int ca_extract_summary_json(const ca_extract_summary *s, char **out)
{
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b,
                  "{\"files\":%llu,\"files_parsed\":%llu,\"files_with_parse_errors\":%llu,"
                  "\"files_skipped\":%llu,\"skipped\":{",
                  (unsigned long long)s->files, (unsigned long long)s->files_parsed,
                  (unsigned long long)s->files_with_parse_errors, (unsigned long long)s->files_skipped);
    for (size_t k = 0; k < CA_EXTRACT_SKIP_COUNT; k++)
        ca_buf_printf(&b, "%s\"%s\":%llu", k ? "," : "", ca_extract_skip_reason(k),
                      (unsigned long long)s->skipped[k]);
    ca_buf_printf(&b, "},\"lines\":%llu,\"bytes\":%llu,\"rows\":{", (unsigned long long)s->lines,
                  (unsigned long long)s->bytes);
    for (size_t t = 0; t < CA_EXTRACT_TABLE_COUNT; t++)
        ca_buf_printf(&b, "%s\"%s\":%llu", t ? "," : "", ca_extract_table_name(t),
                      (unsigned long long)s->rows[t]);
    ca_buf_printf(&b, "},\"threads\":%d,\"elapsed_ms\":%.3f}", s->threads, s->elapsed_ms);
    int rc = ca_buf_status(&b);
    if (rc != CA_OK) {
        ca_buf_free(&b);
        *out = NULL;
        return rc;
    }
    *out = ca_buf_detach(&b, NULL);
    return CA_OK;
}
