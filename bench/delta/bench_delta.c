/*
 * delta.md §21: the Delta writer against DuckDB's own COPY, measured in the same process.
 *   append      6 M rows (BIGINT, md5 VARCHAR, INTEGER, DOUBLE) appended to a table (fsync included)
 *               vs COPY (<query>) TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd)
 *   snapshot    open of a table with 10,000 one-file commits (checkpoint at 9,990), fresh context
 *   compaction  200 files × 30,000 rows compacted into one bin vs COPY of read_parquet(same files)
 * threads=2; 5 runs interleaved with the baseline; medians and the median of per-run ratios.
 *
 * usage: bench_delta WORK_DIR [ROWS]
 */
#include "codeanatomy/delta.h"
#include "codeanatomy/error.h"
#include "lib/delta/delta_write.h"
#include "lib/duck/duck.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    double c[RUNS];
    memcpy(c, v, sizeof(double) * (size_t)n);
    qsort(c, (size_t)n, sizeof *c, cmp_d);
    return c[n / 2];
}

static void die(const char *what)
{
    fprintf(stderr, "bench_delta: %s: %s\n", what, ca_error_last()->message);
    exit(1);
}

static void sh(const char *fmt, const char *arg)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, arg);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_delta: %s failed\n", cmd);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_delta WORK_DIR [ROWS]\n");
        return 2;
    }
    const char *work = argv[1];
    long long rows = argc > 2 ? atoll(argv[2]) : 6000000;
    sh("rm -rf '%s'", work);
    sh("mkdir -p '%s'", work);
    ca_duck_config cfg = {NULL, 2, "4GB", NULL, "UTC"};
    ca_duck_db *db = NULL;
    ca_duck_conn *conn = NULL;
    ca_delta_ctx *ctx = NULL;
    if (ca_duck_open(&cfg, &db) || ca_duck_connect(db, &conn) || ca_delta_ctx_new(db, NULL, NULL, &ctx))
        die("setup");
    char src[512], path[1024];
    snprintf(src, sizeof src,
             "SELECT range AS id, md5(range::VARCHAR) AS h, (range %% 1000)::INTEGER AS k, range / 3.0::DOUBLE AS d "
             "FROM range(%lld)",
             rows);

    /* ---- append ---- */
    double ours[RUNS], base[RUNS], based[RUNS], ratio[RUNS], ratiod[RUNS];
    snprintf(path, sizeof path, "%s/append", work);
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    o.sql = "SELECT 0::BIGINT AS id, '' AS h, 0 AS k, 0.0::DOUBLE AS d";
    ca_delta_write_result r;
    if (ca_delta_write(ctx, conn, path, &o, &r))
        die("create");
    ca_delta_write_result_clear(&r);
    o.sql = src;
    for (int i = 0; i < RUNS; i++) {
        char x[1100], q[2048];
        snprintf(x, sizeof x, "%s/baseline-%d.parquet", work, i);
        snprintf(q, sizeof q, "COPY (%s) TO '%s' (FORMAT parquet, COMPRESSION zstd)", src, x);
        double t0 = now_ms();
        if (ca_duck_exec(conn, q))
            die("baseline copy");
        base[i] = now_ms() - t0;
        if (ca_fs_fsync_path(ca_fs_posix(), x))
            die("fsync");
        based[i] = now_ms() - t0;
        t0 = now_ms();
        if (ca_delta_write(ctx, conn, path, &o, &r))
            die("append");
        ours[i] = now_ms() - t0;
        ca_delta_write_result_clear(&r);
        ratio[i] = ours[i] / base[i];
        fprintf(stderr, "append run %d: ours %.1f ms, COPY %.1f ms, COPY+fsync %.1f ms\n", i, ours[i], base[i], based[i]);
        ratiod[i] = ours[i] / based[i];
    }
    double m_ours = median(ours, RUNS), m_base = median(base, RUNS), m_based = median(based, RUNS);
    double r_app = median(ratio, RUNS), r_appd = median(ratiod, RUNS);

    /* ---- snapshot open: 10,000 one-file commits, checkpoint at 9,990 ---- */
    char snap_root[1100], logdir[1200];
    snprintf(snap_root, sizeof snap_root, "%s/snap", work);
    snprintf(logdir, sizeof logdir, "%s/_delta_log", snap_root);
    if (ca_fs_mkdirs(ca_fs_posix(), logdir))
        die("mkdir");
    for (int v = 0; v < 10000; v++) {
        ca_buf b = CA_BUF_INIT;
        ca_buf_printf(&b, "{\"commitInfo\":{\"timestamp\":%d,\"operation\":\"WRITE\"}}\n", 1700000000 + v);
        if (v == 0)
            ca_buf_puts(&b, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
                            "{\"metaData\":{\"id\":\"b\",\"format\":{\"provider\":\"parquet\",\"options\":{}},"
                            "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\","
                            "\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\","
                            "\"partitionColumns\":[],\"configuration\":{},\"createdTime\":1}}\n");
        ca_buf_printf(&b, "{\"add\":{\"path\":\"part-%05d.parquet\",\"partitionValues\":{},\"size\":100,"
                          "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":1,"
                          "\\\"minValues\\\":{\\\"x\\\":%d},\\\"maxValues\\\":{\\\"x\\\":%d},\\\"nullCount\\\":{\\\"x\\\":0}}\"}}\n",
                      v, v, v);
        char *p = ca_delta__log_path(snap_root, v, "json");
        FILE *f = fopen(p, "w");
        if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f))
            die("commit file");
        ca__free(p);
        ca_buf_free(&b);
    }
    ca_delta_maint_report rep;
    if (ca_delta_checkpoint(ctx, snap_root, 9990, &rep))
        die("checkpoint");
    ca_delta_maint_report_clear(&rep);
    double open_ms[RUNS];
    for (int i = 0; i < RUNS; i++) {
        ca_duck_db *db2 = NULL;
        ca_delta_ctx *ctx2 = NULL;
        if (ca_duck_open(&cfg, &db2) || ca_delta_ctx_new(db2, NULL, NULL, &ctx2))
            die("fresh context");
        ca_delta_snapshot *s = NULL;
        double t0 = now_ms();
        if (ca_delta_table_open(ctx2, snap_root, NULL, &s))
            die("open");
        open_ms[i] = now_ms() - t0;
        fprintf(stderr, "snapshot open run %d: %.1f ms\n", i, open_ms[i]);
        if (ca_delta_snapshot_file_count(s) != 10000)
            die("file count");
        ca_delta_snapshot_close(s);
        ca_delta_ctx_free(ctx2);
        ca_duck_close(db2);
    }
    double m_open = median(open_ms, RUNS);

    /* ---- compaction: 200 files × 30,000 rows into one bin ---- */
    char comp[1100];
    snprintf(comp, sizeof comp, "%s/compact", work);
    o = (ca_delta_write_options)CA_DELTA_WRITE_OPTIONS_INIT;
    char csrc[512];
    snprintf(csrc, sizeof csrc,
             "SELECT range AS id, md5(range::VARCHAR) AS h, (range %% 1000)::INTEGER AS k, range / 3.0::DOUBLE AS d "
             "FROM range(30000)");
    o.sql = csrc;
    for (int i = 0; i < 200; i++) {
        if (ca_delta_write(ctx, conn, comp, &o, &r))
            die("compaction input");
        ca_delta_write_result_clear(&r);
    }
    double c_ours[RUNS], c_base[RUNS], c_ratio[RUNS];
    for (int i = 0; i < RUNS; i++) {
        ca_delta_snapshot *s = NULL;
        if (ca_delta_table_open(ctx, comp, NULL, &s))
            die("open compaction table");
        int64_t before = ca_delta_snapshot_version(s);
        ca_buf q = CA_BUF_INIT;
        ca_buf_puts(&q, "COPY (SELECT * FROM read_parquet([");
        for (size_t k = 0; k < s->n_files; k++)
            ca_buf_printf(&q, "%s'%s/%s'", k ? ", " : "", comp, s->files[k]->cpath);
        ca_buf_printf(&q, "])) TO '%s/compact-baseline-%d.parquet' (FORMAT parquet, COMPRESSION zstd)", work, i);
        ca_delta_snapshot_close(s);
        double t0 = now_ms();
        if (ca_duck_exec(conn, ca_buf_cstr(&q)))
            die("compaction baseline");
        c_base[i] = now_ms() - t0;
        ca_buf_free(&q);
        ca_delta_compact_options co = CA_DELTA_COMPACT_OPTIONS_INIT;
        co.target_file_size = (int64_t)1 << 30;
        t0 = now_ms();
        if (ca_delta_compact(ctx, comp, &co, &rep))
            die("compact");
        c_ours[i] = now_ms() - t0;
        if (rep.files_removed != 200 || rep.files_added != 1)
            die("compaction shape");
        ca_delta_maint_report_clear(&rep);
        c_ratio[i] = c_ours[i] / c_base[i];
        fprintf(stderr, "compaction run %d: ours %.1f ms, COPY %.1f ms\n", i, c_ours[i], c_base[i]);
        ca_delta_at at = CA_DELTA_AT_INIT;
        at.kind = CA_DELTA_AT_VERSION;
        at.table_version = before;
        if (ca_delta_restore(ctx, comp, &at, &rep)) /* back to 200 files for the next run */
            die("restore");
        ca_delta_maint_report_clear(&rep);
    }
    double m_c_ours = median(c_ours, RUNS), m_c_base = median(c_base, RUNS), r_c = median(c_ratio, RUNS);

    printf("| target | baseline (same process) | ours, median ms | baseline, median ms | ratio | limit | result |\n");
    printf("|---|---|---|---|---|---|---|\n");
    printf("| append %lld rows | `COPY (...) TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd)` | %.1f | %.1f | %.2f × | ≤ 1.15 × | %s |\n",
           rows, m_ours, m_base, r_app, r_app <= 1.15 ? "pass" : "**miss**");
    printf("| append, baseline + fsync | same COPY, then fsync of the file | %.1f | %.1f | %.2f × | (info) | fsync share of the baseline %.0f %% |\n",
           m_ours, m_based, r_appd, 100.0 * (m_based - m_base) / m_based);
    printf("| snapshot open, 10,000 commits | — | %.1f | — | — | < 100 ms | %s |\n", m_open,
           m_open < 100 ? "pass" : "**miss**");
    printf("| compaction 200 × 30,000 rows | `COPY (SELECT * FROM read_parquet([same files])) TO …` | %.1f | %.1f | %.2f × | ≤ 1.3 × | %s |\n",
           m_c_ours, m_c_base, r_c, r_c <= 1.3 ? "pass" : "**miss**");
    ca_delta_ctx_free(ctx);
    ca_duck_disconnect(conn);
    ca_duck_close(db);
    sh("rm -rf '%s'", work);
    return 0;
}
