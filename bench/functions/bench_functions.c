/*
 * functions.md §10: the library's overhead against the DuckDB built-ins it is measured with.
 * Table t of N rows (default 10 M), threads=2; per pair one warm-up, then 5 runs interleaved with
 * the baseline; prints the median times and the median of the per-run ratios as a Markdown table.
 *
 * usage: bench_functions [ROWS]
 */
#include "lib/duck/duck.h"
#include "lib/functions/functions.h"
#include "codeanatomy/error.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUNS 5

typedef struct pair {
    const char *label;
    const char *query;
    const char *baseline_label;
    const char *baseline;
    double limit, aim;
} pair;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double run(ca_duck_conn *c, const char *sql, char **value)
{
    double t0 = now_ms();
    char *v = NULL;
    if (ca_duck_query_text(c, sql, &v) != CA_OK) {
        fprintf(stderr, "bench_functions: %s: %s\n", sql, ca_error_last()->message);
        exit(1);
    }
    double t = now_ms() - t0;
    if (value) {
        free(*value);
        *value = v ? strdup(v) : NULL;
    }
    ca__free(v);
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 10000000L;
    char dir[] = "/tmp/ca-bench-functions-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    ca_duck_config cfg = {.threads = 2, .memory_limit = "4GB", .temp_dir = dir};
    ca_duck_db *db = NULL;
    ca_duck_conn *c = NULL;
    if (ca_duck_open(&cfg, &db) || ca_duck_connect(db, &c) || ca_functions_register(c)) {
        fprintf(stderr, "bench_functions: %s\n", ca_error_last()->message);
        return 1;
    }
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE t AS SELECT 'src/pkg/module_' || (i %% 1000) || '.py' AS p1, CAST(i * 7 AS VARCHAR) AS p2, "
             "i AS a_start, i + i %% 50 AS a_end, (i * 31) %% 10000000 AS b_start, (i * 31) %% 10000000 + 40 AS b_end "
             "FROM range(%ld) r(i)",
             rows);
    if (ca_duck_exec(c, sql) != CA_OK) {
        fprintf(stderr, "bench_functions: %s\n", ca_error_last()->message);
        return 1;
    }
    const pair pairs[] = {
        {"max(stable_id('node', p1, p2))", "SELECT max(stable_id('node', p1, p2)) FROM t",
         "max(md5(p1 || chr(31) || p2))", "SELECT max(md5(p1 || chr(31) || p2)) FROM t", 1.25, 1.0},
        {"max(stable_hash64(p1))", "SELECT max(stable_hash64(p1)) FROM t", "max(md5_number(p1))",
         "SELECT max(md5_number(p1)) FROM t", 1.5, 1.0},
        {"count(*) FILTER (WHERE span_overlaps(a_start, a_end, b_start, b_end))",
         "SELECT count(*) FILTER (WHERE span_overlaps(a_start, a_end, b_start, b_end)) FROM t",
         "inline a_start < b_end AND b_start < a_end",
         "SELECT count(*) FILTER (WHERE a_start < b_end AND b_start < a_end) FROM t", 1.5, 1.5},
        {"count(*) FILTER (WHERE span_contains(a_start, a_end, b_start, b_end))",
         "SELECT count(*) FILTER (WHERE span_contains(a_start, a_end, b_start, b_end)) FROM t",
         "inline a_start <= b_start AND b_end <= a_end",
         "SELECT count(*) FILTER (WHERE a_start <= b_start AND b_end <= a_end) FROM t", 1.5, 1.5},
    };
    printf("| query | baseline (same process) | ours, median ms | baseline, median ms | ratio (median of 5) | limit (aim) | result |\n");
    printf("|---|---|---|---|---|---|---|\n");
    int failed = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const pair *p = &pairs[i];
        char *va = NULL, *vb = NULL;
        run(c, p->query, &va); /* warm-up */
        run(c, p->baseline, &vb);
        double ta[RUNS], tb[RUNS], ratio[RUNS];
        for (int r = 0; r < RUNS; r++) {
            ta[r] = run(c, p->query, NULL);
            tb[r] = run(c, p->baseline, NULL);
            ratio[r] = ta[r] / tb[r];
        }
        double rm = median(ratio, RUNS);
        bool ok = rm <= p->limit;
        /* the span pairs must count the same rows as their inline terms */
        if (i >= 2 && (!va || !vb || strcmp(va, vb)))
            ok = false, fprintf(stderr, "bench_functions: %s = %s, baseline = %s\n", p->label, va, vb);
        failed += !ok;
        printf("| `%s` | `%s` | %.1f | %.1f | %.2f x | <= %.2f x (%.2f x) | %s |\n", p->label, p->baseline_label,
               median(ta, RUNS), median(tb, RUNS), rm, p->limit, p->aim, ok ? "pass" : "MISS");
        free(va);
        free(vb);
    }
    printf("\n%ld rows, threads=2, DuckDB %s\n", rows, ca_duck_library_version());
    ca_duck_disconnect(c);
    ca_duck_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_functions: could not remove %s\n", dir);
    return failed ? 1 : 0;
}
