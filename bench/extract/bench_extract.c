/*
 * Extractor benchmark driver (bench/extract/run.sh):
 *   bench_extract ts ROOT THREADS        tree-sitter parse of every scanned file, alone
 *   bench_extract extract ROOT THREADS OUT|- [MEMORY_LIMIT|- [DB_FILE]]  ca_extract_run writing OUT as the CLI
 *                                        does ('-': DuckDB tables only)
 * Prints the wall time in seconds on stdout; the extract mode also prints peak RSS (KiB) and
 * rows per table on stderr.
 */
#include "codeanatomy/error.h"
#include "codeanatomy/extract.h"
#include "codeanatomy/session.h"
#include "lib/extract/extract_int.h"
#include "lib/pyparse/pyparse.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/pool.h"
#include "util/time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct ts_ctx {
    const char *root;
    ca_x_scan scan;
    pthread_mutex_t mu;
    ca_pyparse *free_p[64];
    int n_free;
} ts_ctx;

static int ts_task(void *vctx, size_t i)
{
    ts_ctx *c = vctx;
    ca_pyparse *p = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->n_free)
        p = c->free_p[--c->n_free];
    pthread_mutex_unlock(&c->mu);
    if (!p && ca_pyparse_new(&p) != CA_OK)
        return CA_E_PARSE;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->root, c->scan.files[i].rel);
    char *data = NULL;
    size_t n = 0;
    if (ca_fs_read_file(ca_fs_posix(), path, 10u << 20, &data, &n) == CA_OK) {
        ca_py_tree t;
        ca_pyparse_parse(p, data, n, &t);
        ca__free(data);
    }
    pthread_mutex_lock(&c->mu);
    c->free_p[c->n_free++] = p;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int threads = atoi(argv[3]);
    uint64_t t0 = ca_time_mono_ns();
    if (!strcmp(argv[1], "ts")) {
        ts_ctx c;
        memset(&c, 0, sizeof c);
        c.root = argv[2];
        pthread_mutex_init(&c.mu, NULL);
        const char *exc[] = {"site-packages"};
        if (ca_extract__scan(argv[2], NULL, 0, exc, 1, &c.scan) != CA_OK)
            return 1;
        ca_pool *pool = NULL;
        if (threads > 1)
            ca_pool_new((size_t)threads - 1, 0, &pool);
        ca_pool_parallel_for(pool, c.scan.n, ts_task, &c);
        ca_pool_free(pool);
        for (int k = 0; k < c.n_free; k++)
            ca_pyparse_free(c.free_p[k]);
        ca_extract__scan_free(&c.scan);
    } else {
        if (argc < 5)
            return 2;
        ca_session *s = NULL;
        ca_session_options so = CA_SESSION_OPTIONS_INIT;
        so.threads = threads;
        if (argc > 5 && strcmp(argv[5], "-"))
            so.memory_limit = argv[5];
        if (argc > 6)
            so.db_path = argv[6]; /* a database file lets DuckDB evict table blocks */
        if (ca_session_open(&so, &s) != CA_OK)
            return 1;
        ca_extract_options o = CA_EXTRACT_OPTIONS_INIT;
        o.repo_root = argv[2];
        o.out_dir = strcmp(argv[4], "-") ? argv[4] : NULL;
        o.threads = threads;
        const char *exc[] = {"site-packages"};
        o.exclude = exc;
        o.n_exclude = 1;
        ca_extract_summary sum;
        if (ca_extract_run(s, &o, &sum) != CA_OK) {
            fprintf(stderr, "extract: %s\n", ca_error_last()->message);
            return 1;
        }
        ca_session_close(s);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr, "peak_rss_kib %ld\n", ru.ru_maxrss);
        for (size_t t = 0; t < CA_EXTRACT_TABLE_COUNT; t++)
            fprintf(stderr, "rows %s %llu\n", ca_extract_table_name(t), (unsigned long long)sum.rows[t]);
    }
    printf("%.3f\n", (double)(ca_time_mono_ns() - t0) / 1e9);
    return 0;
}
