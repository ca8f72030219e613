/*
 * Delta write side tests: create / append / overwrite / replaceWhere / partitioned writes read
 * back through read_delta and DuckDB's parquet reader, stats, app transactions, the commit
 * protocol (lost races via the fault layer, conflicts, retries), checkpoints, DML, maintenance.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "codeanatomy/delta.h"
#include "codeanatomy/error.h"
#include "lib/delta/delta_write.h"
#include "lib/duck/duck.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

extern char **environ;

static ca_duck_db *g_db;
static ca_duck_conn *g_conn;
static ca_delta_ctx *g_ctx;
static char g_tmp[256];
static int g_seq;

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ca-delta-write-XXXXXX");
    if (!mkdtemp(g_tmp))
        return -1;
    ca_duck_config cfg = {NULL, 2, "2GB", NULL, "UTC"};
    if (ca_duck_open(&cfg, &g_db) || ca_delta_ctx_new(g_db, NULL, NULL, &g_ctx) || ca_duck_connect(g_db, &g_conn) ||
        ca_delta_register_sql(g_ctx, g_conn)) {
        fprintf(stderr, "setup: %s\n", ca_error_last()->message);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ca_duck_disconnect(g_conn);
    ca_delta_ctx_free(g_ctx);
    ca_duck_close(g_db);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "teardown: could not remove %s\n", g_tmp);
    return 0;
}

/* A fresh table path under the test directory. */
static char *new_table(const char *name)
{
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/%s-%d", g_tmp, name, ++g_seq);
    return ca_buf_detach(&b, NULL);
}

static int64_t q_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int64_t q_int(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    int64_t n = -1;
    bool is_null = false;
    int rc = ca_duck_query_int64(g_conn, sql, &n, &is_null);
    if (rc) {
        fprintf(stderr, "query failed: %s\n  %s\n", ca_error_last()->message, sql);
        return -999;
    }
    return is_null ? -1 : n;
}

static char *q_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *q_text(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *out = NULL;
    if (ca_duck_query_text(g_conn, sql, &out)) {
        fprintf(stderr, "query failed: %s\n  %s\n", ca_error_last()->message, sql);
        return NULL;
    }
    return out;
}

static int do_write(const char *root, const char *sql, ca_delta_write_mode mode, ca_delta_write_result *res)
{
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    o.sql = sql;
    o.mode = mode;
    return ca_delta_write(g_ctx, g_conn, root, &o, res);
}

static char *read_log(const char *root, int64_t v)
{
    char *p = ca_delta__log_path(root, v, "json");
    char *text = NULL;
    if (ca_fs_read_file(ca_fs_posix(), p, 0, &text, NULL) != CA_OK)
        text = NULL;
    ca__free(p);
    return text;
}

/* ---- protocol validator (subset of delta.md §22.3) over every commit of a table ------------ */

static void validate_table(const char *root)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/_delta_log", root);
    ca_fs_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(ca_fs_list(ca_fs_posix(), dir, &e, &n), CA_OK);
    int64_t expect = 0;
    for (size_t i = 0; i < n; i++) {
        dl_name nm;
        ca_delta__classify(e[i].name, &nm);
        if (e[i].name[0] == '.') {
            size_t l = strlen(e[i].name);
            if (l < 4 || strcmp(e[i].name + l - 4, ".tmp") != 0) {
                fprintf(stderr, "unexpected hidden log file %s\n", e[i].name);
                fail();
            }
            continue; /* a crashed writer's temp file: readers ignore it */
        }
        if (nm.kind == DL_NAME_CKPT_CLASSIC) {
            /* checkpoint: schema of §14 and as many rows as _last_checkpoint says */
            int64_t cols = q_int("SELECT count(*) FROM parquet_schema('%s/%s') WHERE name IN ('txn','add','remove','metaData','protocol','domainMetadata')", dir, e[i].name);
            assert_int_equal(cols, 6);
            continue;
        }
        if (strcmp(e[i].name, "_last_checkpoint") == 0) {
            char p[1100], *text = NULL;
            snprintf(p, sizeof p, "%s/%s", dir, e[i].name);
            assert_int_equal(ca_fs_read_file(ca_fs_posix(), p, 0, &text, NULL), CA_OK);
            json_t *j = json_loads(text, 0, NULL);
            assert_non_null(j);
            char sum[40];
            assert_non_null(json_string_value(json_object_get(j, "checksum")));
            snprintf(sum, sizeof sum, "%s", json_string_value(json_object_get(j, "checksum")));
            json_object_del(j, "checksum");
            char *t2 = json_dumps(j, JSON_COMPACT);
            char calc[33];
            assert_int_equal(ca_delta__json_checksum(t2, strlen(t2), calc), CA_OK);
            assert_string_equal(calc, sum);
            int64_t rows = q_int("SELECT count(*) FROM read_parquet('%s/%020" PRId64 ".checkpoint.parquet')", dir,
                                 (int64_t)json_integer_value(json_object_get(j, "version")));
            assert_int_equal(rows, json_integer_value(json_object_get(j, "size")));
            /* checkpoint content equals replay: its adds are the snapshot's active files */
            ca_delta_at at = CA_DELTA_AT_INIT;
            at.kind = CA_DELTA_AT_VERSION;
            at.table_version = json_integer_value(json_object_get(j, "version"));
            ca_delta_snapshot *cs = NULL;
            assert_int_equal(ca_delta_table_open(g_ctx, root, &at, &cs), CA_OK);
            int64_t adds = q_int("SELECT count(*) FROM read_parquet('%s/%020" PRId64 ".checkpoint.parquet') WHERE add IS NOT NULL",
                                 dir, (int64_t)at.table_version);
            assert_int_equal(adds, (int64_t)cs->n_files);
            assert_int_equal(adds, json_integer_value(json_object_get(j, "numOfAddFiles")));
            for (size_t k = 0; k < cs->n_files; k++) {
                int64_t hit = q_int("SELECT count(*) FROM read_parquet('%s/%020" PRId64 ".checkpoint.parquet') WHERE add.path = '%s'",
                                    dir, (int64_t)at.table_version, cs->files[k]->path);
                assert_int_equal(hit, 1);
            }
            ca_delta_snapshot_close(cs);
            free(t2);
            json_decref(j);
            ca__free(text);
            continue;
        }
        if (nm.kind == DL_NAME_CRC)
            continue;
        if (nm.kind != DL_NAME_COMMIT) {
            fprintf(stderr, "unexpected log file %s\n", e[i].name);
            fail();
        }
        assert_int_equal(nm.version, expect);
        expect++;
        char *text = read_log(root, nm.version);
        assert_non_null(text);
        size_t len = strlen(text);
        assert_true(len > 0 && text[len - 1] == '\n');
        char *save = NULL;
        int line = 0;
        json_t *seen = json_object();
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
            json_error_t err;
            json_t *j = json_loads(l, JSON_REJECT_DUPLICATES, &err);
            assert_true(json_is_object(j));
            assert_int_equal(json_object_size(j), 1);
            const char *kind = json_object_iter_key(json_object_iter(j));
            json_t *a = json_object_get(j, kind);
            if (line == 0)
                assert_string_equal(kind, "commitInfo");
            if (!strcmp(kind, "commitInfo")) {
                assert_int_equal(line, 0);
                assert_true(json_is_integer(json_object_get(a, "timestamp")));
                assert_true(json_is_string(json_object_get(a, "operation")));
                assert_true(json_is_object(json_object_get(a, "operationParameters")));
                json_t *m = json_object_get(a, "operationMetrics");
                const char *k;
                json_t *v;
                json_object_foreach(m, k, v) assert_true(json_is_string(v));
                json_object_foreach(json_object_get(a, "operationParameters"), k, v) assert_true(json_is_string(v));
            } else if (!strcmp(kind, "add") || !strcmp(kind, "remove")) {
                const char *p = json_string_value(json_object_get(a, "path"));
                assert_non_null(p);
                for (const char *c = p; *c; c++)
                    assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/%", *c) != NULL);
                assert_true(json_is_object(json_object_get(a, "partitionValues")));
                assert_true(json_is_integer(json_object_get(a, "size")));
                assert_true(json_is_boolean(json_object_get(a, "dataChange")));
                char key[2048];
                snprintf(key, sizeof key, "%s:%s", kind, p);
                assert_null(json_object_get(seen, key)); /* no reconciling duplicates */
                json_object_set_new(seen, key, json_true());
                if (!strcmp(kind, "add")) {
                    assert_true(json_is_integer(json_object_get(a, "modificationTime")));
                    const char *st = json_string_value(json_object_get(a, "stats"));
                    assert_non_null(st);
                    json_t *sj = json_loads(st, 0, NULL);
                    assert_true(json_is_object(sj));
                    assert_true(json_is_integer(json_object_get(sj, "numRecords")));
                    json_decref(sj);
                    /* the file exists with the logged size and DuckDB reads it */
                    char *dec = ca_delta__uri_decode(p);
                    char abs[2048];
                    snprintf(abs, sizeof abs, "%s/%s", root, dec);
                    struct stat sb;
                    if (stat(abs, &sb) == 0)
                        assert_int_equal(sb.st_size, json_integer_value(json_object_get(a, "size")));
                    /* true bounds: every logged integer/string bound holds for the file's rows */
                    json_t *sj2 = json_loads(st, 0, NULL);
                    const char *col;
                    json_t *mv;
                    bool exists = stat(abs, &sb) == 0; /* vacuumed files of old versions are gone */
                    json_object_foreach(exists ? json_object_get(sj2, "minValues") : NULL, col, mv) {
                        json_t *xv = json_object_get(json_object_get(sj2, "maxValues"), col);
                        if (!json_is_integer(mv) && !json_is_string(mv))
                            continue;
                        char lit[512];
                        if (json_is_integer(mv))
                            snprintf(lit, sizeof lit, "%lld", (long long)json_integer_value(mv));
                        else
                            snprintf(lit, sizeof lit, "'%s'", json_string_value(mv));
                        if (strchr(json_is_string(mv) ? json_string_value(mv) : "", '\'') ||
                            (json_is_string(mv) && (strchr(json_string_value(mv), 'T') && strlen(json_string_value(mv)) >= 20)))
                            continue; /* timestamps are rounded to ms; skip quoting edge cases */
                        int64_t bad = q_int("SELECT count(*) FROM read_parquet('%s', hive_partitioning = false) "
                                            "WHERE \"%s\" < %s", abs, col, lit);
                        assert_int_equal(bad, 0);
                        if (json_is_integer(xv)) {
                            bad = q_int("SELECT count(*) FROM read_parquet('%s', hive_partitioning = false) WHERE \"%s\" > %lld",
                                        abs, col, (long long)json_integer_value(xv));
                            assert_int_equal(bad, 0);
                        }
                    }
                    json_decref(sj2);
                    ca__free(dec);
                } else {
                    assert_true(json_is_integer(json_object_get(a, "deletionTimestamp")));
                }
            } else if (!strcmp(kind, "metaData")) {
                const char *ss = json_string_value(json_object_get(a, "schemaString"));
                json_t *sj = ss ? json_loads(ss, 0, NULL) : NULL;
                assert_true(json_is_object(sj));
                assert_string_equal(json_string_value(json_object_get(sj, "type")), "struct");
                json_decref(sj);
                assert_true(json_is_string(json_object_get(a, "id")));
                assert_true(json_is_array(json_object_get(a, "partitionColumns")));
                assert_true(json_is_object(json_object_get(a, "configuration")));
                assert_true(json_is_object(json_object_get(a, "format")));
            } else if (!strcmp(kind, "protocol")) {
                int r = (int)json_integer_value(json_object_get(a, "minReaderVersion"));
                int w = (int)json_integer_value(json_object_get(a, "minWriterVersion"));
                assert_true(r >= 1 && r <= 3 && w >= 2 && w <= 7);
                assert_int_equal(json_object_get(a, "readerFeatures") != NULL, r == 3);
                assert_int_equal(json_object_get(a, "writerFeatures") != NULL, w == 7);
            } else if (!strcmp(kind, "cdc")) {
                assert_true(json_is_string(json_object_get(a, "path")));
                assert_true(json_is_object(json_object_get(a, "partitionValues")));
                assert_true(json_is_integer(json_object_get(a, "size")));
                assert_true(json_is_false(json_object_get(a, "dataChange")));
            } else if (!strcmp(kind, "txn")) {
                assert_true(json_is_string(json_object_get(a, "appId")));
                assert_true(json_is_integer(json_object_get(a, "version")));
            } else {
                fprintf(stderr, "unexpected action %s\n", kind);
                fail();
            }
            json_decref(j);
        }
        json_decref(seen);
        ca__free(text);
    }
    ca_fs_list_free(e, n);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_create_append_overwrite(void **state)
{
    (void)state;
    char *t = new_table("basic");
    ca_delta_write_result r;
    assert_int_equal(do_write(t, "SELECT range AS id, md5(range::VARCHAR) AS s, range / 7.0 AS d FROM range(1000)",
                              CA_DELTA_WRITE_APPEND, &r),
                     CA_OK);
    assert_int_equal(r.version, 0);
    assert_true(r.created);
    assert_int_equal(r.rows_added, 1000);
    assert_int_equal(r.files_added, 1);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 1000);
    assert_int_equal(q_int("SELECT sum(id) FROM read_delta('%s')", t), 499500);
    /* DuckDB's own reader sees the same rows */
    assert_int_equal(q_int("SELECT count(*) FROM read_parquet('%s/*.parquet')", t), 1000);

    assert_int_equal(do_write(t, "SELECT range + 1000 AS id, 'x' AS s, 1.5::DOUBLE AS d FROM range(10)", CA_DELTA_WRITE_APPEND, &r),
                     CA_OK);
    assert_int_equal(r.version, 1);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 1010);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s', version := 0)", t), 1000);

    /* strict schema: an extra column is refused, a missing nullable one is NULL */
    assert_int_equal(do_write(t, "SELECT 1 AS id, 'a' AS s, 1.0 AS d, 2 AS extra", CA_DELTA_WRITE_APPEND, &r),
                     CA_E_DELTA_SCHEMA);
    ca_delta_write_result_clear(&r);
    assert_int_equal(do_write(t, "SELECT 5000::INTEGER AS id", CA_DELTA_WRITE_APPEND, &r), CA_OK); /* upcast + NULLs */
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE id = 5000 AND s IS NULL", t), 1);
    assert_int_equal(do_write(t, "SELECT 'x' AS id", CA_DELTA_WRITE_APPEND, &r), CA_E_DELTA_SCHEMA);
    ca_delta_write_result_clear(&r);

    assert_int_equal(do_write(t, "SELECT range AS id, 'o' AS s, 0.0::DOUBLE AS d FROM range(3)", CA_DELTA_WRITE_OVERWRITE, &r),
                     CA_OK);
    assert_int_equal(r.version, 3);
    assert_int_equal(r.files_removed, 3);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 3);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s', version := 2)", t), 1011);

    /* create on an existing table */
    assert_int_equal(do_write(t, "SELECT 1 AS id", CA_DELTA_WRITE_CREATE, &r), CA_E_DELTA_TABLE_EXISTS);
    ca_delta_write_result_clear(&r);
    validate_table(t);
    ca__free(t);
}

static void test_stats(void **state)
{
    (void)state;
    char *t = new_table("stats");
    ca_delta_write_result r;
    assert_int_equal(do_write(t,
                              "SELECT range::INTEGER AS i, (range / 3)::DECIMAL(10,2) AS dc, "
                              "TIMESTAMPTZ '2024-01-01 00:00:00.123456+00' + to_seconds(range) AS ts, "
                              "DATE '2024-02-01' AS dt, {'a': range, 'b': {'c': 'zz'}} AS st, [1,2] AS l, "
                              "CASE WHEN range = 2 THEN NULL ELSE range END AS n, true AS b, "
                              "repeat('y', 40) AS longs, range::DOUBLE / 2 AS f FROM range(5)",
                              CA_DELTA_WRITE_APPEND, &r),
                     CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    assert_int_equal(s->n_files, 1);
    json_t *st = json_loads(s->files[0]->stats, 0, NULL);
    assert_non_null(st);
    assert_int_equal(json_integer_value(json_object_get(st, "numRecords")), 5);
    json_t *mn = json_object_get(st, "minValues"), *mx = json_object_get(st, "maxValues"),
           *nc = json_object_get(st, "nullCount");
    assert_int_equal(json_integer_value(json_object_get(mn, "i")), 0);
    assert_int_equal(json_integer_value(json_object_get(mx, "i")), 4);
    assert_true(strstr(s->files[0]->stats, "\"dc\":1.33") != NULL); /* exact decimal lexeme */
    assert_string_equal(json_string_value(json_object_get(mn, "ts")), "2024-01-01T00:00:00.123Z");
    assert_string_equal(json_string_value(json_object_get(mx, "ts")), "2024-01-01T00:00:04.124Z");
    assert_string_equal(json_string_value(json_object_get(mn, "dt")), "2024-02-01");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(mx, "st"), "b"), "c")), "zz");
    assert_null(json_object_get(mn, "l"));
    assert_null(json_object_get(mn, "b"));
    assert_int_equal(json_integer_value(json_object_get(nc, "n")), 1);
    assert_int_equal(strlen(json_string_value(json_object_get(mn, "longs"))), 32);
    assert_null(json_object_get(mx, "longs"));
    assert_true(json_real_value(json_object_get(mx, "f")) == 2.0 || json_integer_value(json_object_get(mx, "f")) == 2);
    json_decref(st);
    ca_delta_snapshot_close(s);
    /* pruning through the reader uses these stats */
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s', filter := 'i > 100')", t), 0);
    validate_table(t);
    ca__free(t);
}

static void test_partitioned(void **state)
{
    (void)state;
    char *t = new_table("part");
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    const char *pb[] = {"p", "q"};
    o.sql = "SELECT range AS id, CASE WHEN range % 3 = 0 THEN NULL WHEN range % 3 = 1 THEN 'a/b=c%' ELSE 'plain' END AS p, "
            "(range % 2)::INTEGER AS q FROM range(12)";
    o.partition_by = pb;
    o.n_partition_by = 2;
    ca_delta_write_result r;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    assert_int_equal(r.rows_added, 12);
    assert_int_equal(r.files_added, 6);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 12);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE p IS NULL", t), 4);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE p = 'a/b=c%%' AND q = 1", t), 2);
    assert_int_equal(q_int("SELECT sum(id) FROM read_delta('%s') WHERE q = 1", t), 36);
    /* the directory escapes, the log path URI-encodes the escape */
    char *log = read_log(t, 0);
    assert_non_null(log);
    if (!strstr(log, "p%3Da%252Fb%253Dc%2525/q%3D1/"))
        fprintf(stderr, "%s\n", log);
    assert_non_null(strstr(log, "p%3Da%252Fb%253Dc%2525/q%3D1/"));
    assert_non_null(strstr(log, "p%3D__HIVE_DEFAULT_PARTITION__/q%3D0/"));
    ca__free(log);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/p=a%%2Fb%%3Dc%%25/q=1", t);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);

    /* replaceWhere: replace one partition */
    ca_delta_write_options o2 = CA_DELTA_WRITE_OPTIONS_INIT;
    o2.sql = "SELECT 100 AS id, 'plain' AS p, 1 AS q";
    o2.mode = CA_DELTA_WRITE_OVERWRITE;
    o2.replace_where = "p = 'plain'";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o2, &r), CA_OK);
    assert_int_equal(r.files_removed, 2);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 9);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE p = 'plain'", t), 1);
    /* a row outside the predicate is refused */
    o2.sql = "SELECT 101 AS id, 'other' AS p, 1 AS q";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o2, &r), CA_E_DELTA_CONSTRAINT);
    assert_non_null(strstr(ca_error_last()->message, "replaceWhere"));
    ca_delta_write_result_clear(&r);
    /* empty string partition values are refused */
    o2.sql = "SELECT 1 AS id, '' AS p, 1 AS q";
    o2.mode = CA_DELTA_WRITE_APPEND;
    o2.replace_where = NULL;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o2, &r), CA_E_DELTA_CONSTRAINT);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 9);
    validate_table(t);
    ca__free(t);
}

static void test_types(void **state)
{
    (void)state;
    char *t = new_table("types");
    ca_delta_write_result r;
    assert_int_equal(do_write(t,
                              "SELECT 1::UTINYINT AS a, 2::USMALLINT AS b, 3::UINTEGER AS c, 'x'::ENUM('x','y') AS e, "
                              "TIMESTAMP '2024-01-02 03:04:05' AS ntz, [1,2]::INTEGER[2] AS arr, MAP {'k': 1} AS m, "
                              "'ab'::BLOB AS bl, true AS bo, 1.5::FLOAT AS fl",
                              CA_DELTA_WRITE_APPEND, &r),
                     CA_OK);
    ca_delta_write_result_clear(&r);
    char *ty = q_text("SELECT typeof(a) || ',' || typeof(b) || ',' || typeof(c) || ',' || typeof(e) || ',' || typeof(ntz) "
                      "|| ',' || typeof(arr) FROM read_delta('%s')",
                      t);
    assert_non_null(ty);
    assert_string_equal(ty, "SMALLINT,INTEGER,BIGINT,VARCHAR,TIMESTAMP,INTEGER[]");
    ca__free(ty);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    assert_int_equal(s->min_reader, 3);
    assert_int_equal(s->min_writer, 7);
    ca_delta_snapshot_close(s);
    validate_table(t);
    ca__free(t);

    static const char *const bad[] = {"SELECT 1::HUGEINT AS h", "SELECT 1::UBIGINT AS u", "SELECT uuid() AS u",
                                      "SELECT INTERVAL 1 DAY AS i", "SELECT TIME '01:00' AS t",
                                      "SELECT TIMESTAMP_NS '2024-01-01' AS t"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *t2 = new_table("bad");
        assert_int_equal(do_write(t2, bad[i], CA_DELTA_WRITE_APPEND, &r), CA_E_DELTA_TYPE);
        ca_delta_write_result_clear(&r);
        ca__free(t2);
    }
}

static void test_app_txn_and_metadata(void **state)
{
    (void)state;
    char *t = new_table("txn");
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    ca_delta_kv md[] = {{"codeanatomy.spec_hash", "abc"}};
    o.sql = "SELECT 1 AS x";
    o.app_id = "app";
    o.app_version = 5;
    o.commit_metadata = md;
    o.n_commit_metadata = 1;
    o.user_metadata = "hello";
    ca_delta_write_result r;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    assert_false(r.skipped);
    ca_delta_write_result_clear(&r);
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    assert_true(r.skipped);
    assert_int_equal(r.version, -1);
    char *oc = NULL;
    assert_int_equal(ca_delta_write_outcome_json(&r, CA_OK, &oc), CA_OK);
    assert_string_equal(oc, "{\"status\":\"unavailable\",\"reason\":\"not_attempted\"}");
    ca_free(oc);
    ca_delta_write_result_clear(&r);
    o.app_version = 6;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    assert_int_equal(r.version, 1);
    assert_int_equal(ca_delta_write_outcome_json(&r, CA_OK, &oc), CA_OK);
    json_t *j = json_loads(oc, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "captured");
    assert_int_equal(json_integer_value(json_object_get(j, "delta_version")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "rows_added")), 1);
    json_decref(j);
    ca_free(oc);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 2);
    ca_delta_history_entry *h = NULL;
    size_t nh = 0;
    assert_int_equal(ca_delta_history(g_ctx, t, 0, &h, &nh), CA_OK);
    assert_int_equal(nh, 2);
    assert_string_equal(h[0].operation, "WRITE");
    assert_string_equal(h[1].operation, "CREATE TABLE");
    assert_string_equal(h[0].user_metadata, "hello");
    assert_non_null(strstr(h[0].custom_json, "spec_hash"));
    ca_delta_history_free(h, nh);
    /* clashing custom key */
    ca_delta_kv bad[] = {{"operation", "x"}};
    o.commit_metadata = bad;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_E_INVALID);
    ca_delta_write_result_clear(&r);
    validate_table(t);
    ca__free(t);
}

/* A lost link race (EEXIST injected) on a blind append: rebase and retry. */
static void test_commit_race_and_faults(void **state)
{
    (void)state;
    char *t = new_table("race");
    ca_fs_fault *ff = NULL;
    assert_int_equal(ca_fs_fault_new(ca_fs_posix(), &ff), CA_OK);
    ca_duck_config cfg = {NULL, 1, "1GB", NULL, "UTC"};
    ca_duck_db *db = NULL;
    ca_delta_ctx *ctx = NULL;
    assert_int_equal(ca_duck_open(&cfg, &db), CA_OK);
    assert_int_equal(ca_delta_ctx_new(db, ca_fs_fault_fs(ff), NULL, &ctx), CA_OK);
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    o.sql = "SELECT range AS x FROM range(10)";
    ca_delta_write_result r;
    assert_int_equal(ca_delta_write(ctx, NULL, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    /* the first link fails as a lost race while no winner exists: retried */
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_LINK_IF_ABSENT, 1, EEXIST), CA_OK);
    assert_int_equal(ca_delta_write(ctx, NULL, t, &o, &r), CA_OK);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.retries, 1);
    ca_delta_write_result_clear(&r);
    /* a real winner: another writer commits v2 while we hold v1 as read version */
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(ctx, t, NULL, &s), CA_OK);
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK); /* v2 by "the other" */
    ca_delta_write_result_clear(&r);
    ca_delta_snapshot_close(s);
    /* ENOSPC / EIO at the temp file: error, table unchanged */
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_WRITE, 1, ENOSPC), CA_OK);
    int rc = ca_delta_write(ctx, NULL, t, &o, &r);
    assert_int_equal(rc, CA_E_NOSPC);
    assert_non_null(strstr(ca_error_last()->message, "00000000000000000003.json"));
    assert_string_equal(r.reason, "commit_failed");
    ca_delta_write_result_clear(&r);
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_FSYNC, 1, EIO), CA_OK);
    assert_int_equal(ca_delta_write(ctx, NULL, t, &o, &r), CA_E_IO);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 30);
    /* the link itself fails with EIO */
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_LINK_IF_ABSENT, 1, EIO), CA_OK);
    assert_int_equal(ca_delta_write(ctx, NULL, t, &o, &r), CA_E_IO);
    ca_delta_write_result_clear(&r);
    /* data file fsync fails (ENOSPC): nothing committed */
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_FSYNC_PATH, 1, ENOSPC), CA_OK);
    assert_int_equal(ca_delta_write(ctx, NULL, t, &o, &r), CA_E_NOSPC);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 30);
    /* retries exhausted */
    o.max_commit_retries = 0;
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_LINK_IF_ABSENT, 1, EEXIST), CA_OK);
    assert_int_equal(ca_delta_write(ctx, NULL, t, &o, &r), CA_E_DELTA_RETRIES);
    assert_string_equal(r.reason, "commit_conflict");
    ca_delta_write_result_clear(&r);
    validate_table(t);
    ca_delta_ctx_free(ctx);
    ca_duck_close(db);
    ca_fs_fault_free(ff);
    /* every .crc written matches the replayed state (the reader's verify_crc) */
    ca_delta_ctx_options vo = CA_DELTA_CTX_OPTIONS_INIT;
    vo.verify_crc = true;
    assert_int_equal(ca_duck_open(&cfg, &db), CA_OK);
    assert_int_equal(ca_delta_ctx_new(db, NULL, &vo, &ctx), CA_OK);
    ca_delta_snapshot *s2 = NULL;
    for (int64_t v = 0; v <= 2; v++) {
        ca_delta_at at = CA_DELTA_AT_INIT;
        at.kind = CA_DELTA_AT_VERSION;
        at.table_version = v;
        assert_int_equal(ca_delta_table_open(ctx, t, &at, &s2), CA_OK);
        ca_delta_snapshot_close(s2);
        char *crc = ca_delta__log_path(t, v, "crc");
        struct stat sb;
        assert_int_equal(stat(crc, &sb), 0);
        ca__free(crc);
    }
    ca_delta_ctx_free(ctx);
    ca_duck_close(db);
    ca__free(t);
}

/* Conflict: an overwrite whose read version is stale loses to a concurrent overwrite. */
static void test_conflict(void **state)
{
    (void)state;
    char *t = new_table("conflict");
    ca_delta_write_result r;
    assert_int_equal(do_write(t, "SELECT range AS x FROM range(5)", CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    /* winner: overwrite at v1 */
    assert_int_equal(do_write(t, "SELECT 1 AS x", CA_DELTA_WRITE_OVERWRITE, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    /* ours: an overwrite built on v0 */
    dw_commit c = {
        .ctx = g_ctx, .root = s->root, .snap = s, .op = DW_OP_OVERWRITE, .operation = "WRITE",
        .params = json_pack("{s:s}", "mode", "Overwrite"), .metrics = json_object(), .actions = json_array(),
        .max_retries = 3,
    };
    json_array_append_new(c.actions, ca_delta__remove_of(s->files[0], 1, true));
    assert_int_equal(ca_delta__commit(&c, &r), CA_E_DELTA_CONFLICT);
    assert_non_null(strstr(ca_error_last()->message, "winner WRITE, version 1"));
    ca_delta_write_result_clear(&r);
    /* a blind append built on v0 rebases */
    dw_commit c2 = {
        .ctx = g_ctx, .root = s->root, .snap = s, .op = DW_OP_APPEND, .operation = "WRITE",
        .params = json_pack("{s:s}", "mode", "Append"), .metrics = json_object(), .actions = json_array(),
        .blind_append = true, .max_retries = 3,
    };
    assert_int_equal(ca_delta__commit(&c2, &r), CA_OK);
    assert_int_equal(r.version, 2);
    ca_delta_write_result_clear(&r);
    ca_delta_snapshot_close(s);
    ca__free(t);
}


static void test_dml(void **state)
{
    (void)state;
    char *t = new_table("dml");
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    const char *pb[] = {"k"};
    o.sql = "SELECT range AS id, (range % 3)::INTEGER AS k, 'v' AS s FROM range(30)";
    o.partition_by = pb;
    o.n_partition_by = 1;
    ca_delta_write_result r;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    /* delete: a whole partition's file is removed, another rewritten */
    ca_delta_dml_options d = CA_DELTA_DML_OPTIONS_INIT;
    d.predicate = "k = 0 OR id = 1";
    assert_int_equal(ca_delta_delete(g_ctx, g_conn, t, &d, &r), CA_OK);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.rows_deleted, 11);
    assert_int_equal(r.rows_copied, 9);
    assert_int_equal(r.files_removed, 2);
    assert_int_equal(r.files_added, 1);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 19);
    /* a delete matching nothing commits nothing */
    d.predicate = "id > 1000";
    assert_int_equal(ca_delta_delete(g_ctx, g_conn, t, &d, &r), CA_OK);
    assert_int_equal(r.version, -1);
    ca_delta_write_result_clear(&r);
    /* update, including a partition column (rows move partition) */
    const char *cols[] = {"s", "k"};
    const char *exprs[] = {"'u' || id", "2"};
    ca_delta_dml_options u = CA_DELTA_DML_OPTIONS_INIT;
    u.predicate = "id IN (4, 7)";
    u.set_columns = cols;
    u.set_exprs = exprs;
    u.n_set = 2;
    assert_int_equal(ca_delta_update(g_ctx, g_conn, t, &u, &r), CA_OK);
    assert_int_equal(r.rows_updated, 2);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE k = 2 AND s LIKE 'u%%'", t), 2);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 19);
    /* compaction limited to one partition */
    ca_delta_write_options o3 = CA_DELTA_WRITE_OPTIONS_INIT;
    o3.sql = "SELECT 100 + range AS id, (range % 3)::INTEGER AS k, 'w' AS s FROM range(6)";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o3, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_compact_options co = CA_DELTA_COMPACT_OPTIONS_INIT;
    co.partition_filter = "k = 2";
    ca_delta_maint_report rep;
    assert_int_equal(ca_delta_compact(g_ctx, t, &co, &rep), CA_OK);
    assert_int_equal(rep.partitions, 1);
    assert_true(rep.files_removed >= 2);
    ca_delta_maint_report_clear(&rep);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 25);
    assert_int_equal(q_int("SELECT count(*) FROM delta_add_actions('%s') WHERE partition_values['k'] = '1'", t), 2);
    /* update of an unknown column */
    const char *bad[] = {"nope"};
    u.set_columns = bad;
    u.n_set = 1;
    assert_int_equal(ca_delta_update(g_ctx, g_conn, t, &u, &r), CA_E_INVALID);
    ca_delta_write_result_clear(&r);
    validate_table(t);
    ca__free(t);
}

static void test_merge(void **state)
{
    (void)state;
    char *t = new_table("merge");
    ca_delta_write_result r;
    assert_int_equal(do_write(t, "SELECT range AS id, 'old' AS s FROM range(10)", CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    const char *keys[] = {"id"};
    o.mode = CA_DELTA_WRITE_MERGE;
    o.merge_keys = keys;
    o.n_merge_keys = 1;
    o.sql = "SELECT * FROM (VALUES (3, 'new'), (20, 'ins'), (NULL, 'nullkey')) AS v(id, s)";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    assert_int_equal(r.rows_updated, 1);
    assert_int_equal(r.rows_inserted, 2);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 12);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE id = 3 AND s = 'new'", t), 1);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE id IS NULL", t), 1);
    /* duplicate keys */
    o.sql = "SELECT 1 AS id, 'a' AS s UNION ALL SELECT 1, 'b'";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_E_DELTA_MERGE_KEYS);
    assert_string_equal(r.reason, "merge_key_duplicate");
    ca_delta_write_result_clear(&r);
    /* a key that is no column */
    const char *nokey[] = {"nope"};
    o.merge_keys = nokey;
    o.sql = "SELECT 1 AS id, 'a' AS s";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_E_DELTA_MERGE_KEYS);
    ca_delta_write_result_clear(&r);
    o.merge_keys = keys;
    /* not matched by source: delete */
    o.sql = "SELECT 5 AS id, 'only' AS s";
    o.merge_delete_unmatched_target = true;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 1);
    validate_table(t);
    ca__free(t);
}

static void test_checkpoint(void **state)
{
    (void)state;
    char *t = new_table("ckpt");
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    ca_delta_kv props[] = {{"delta.checkpointInterval", "3"}};
    o.properties = props;
    o.n_properties = 1;
    o.sql = "SELECT range AS x, 'a' AS p FROM range(5)";
    const char *pb[] = {"p"};
    o.partition_by = pb;
    o.n_partition_by = 1;
    ca_delta_write_result r;
    for (int i = 0; i < 7; i++) {
        assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
        assert_int_equal(r.checkpoint_written, i == 3 || i == 5); /* v3, v6 (v5 is the delete) */
        assert_int_equal(r.n_warnings, 0);
        ca_delta_write_result_clear(&r);
        if (i == 4) {
            ca_delta_dml_options d = CA_DELTA_DML_OPTIONS_INIT;
            d.predicate = "x = 0";
            assert_int_equal(ca_delta_delete(g_ctx, g_conn, t, &d, &r), CA_OK); /* v5: removes in the state */
            ca_delta_write_result_clear(&r);
        }
    }
    /* a fresh context reads from the checkpoint at 6 */
    ca_duck_config cfg = {NULL, 1, "1GB", NULL, "UTC"};
    ca_duck_db *db = NULL;
    ca_delta_ctx *ctx = NULL;
    assert_int_equal(ca_duck_open(&cfg, &db), CA_OK);
    assert_int_equal(ca_delta_ctx_new(db, NULL, NULL, &ctx), CA_OK);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(ctx, t, NULL, &s), CA_OK);
    assert_int_equal(s->version, 7);
    assert_int_equal(s->checkpoint_version, 6);
    assert_int_equal(s->n_warnings, 0);
    ca_delta_snapshot_close(s);
    ca_delta_ctx_free(ctx);
    ca_duck_close(db);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 30);
    /* explicit checkpoint: new version written, same version a no-op */
    ca_delta_maint_report rep;
    assert_int_equal(ca_delta_checkpoint(g_ctx, t, -1, &rep), CA_OK);
    assert_true(rep.written);
    assert_int_equal(rep.checkpoint_version, 7);
    ca_delta_maint_report_clear(&rep);
    assert_int_equal(ca_delta_checkpoint(g_ctx, t, 7, &rep), CA_OK);
    assert_false(rep.written);
    char *js = NULL;
    assert_int_equal(ca_delta_maint_report_json(&rep, &js), CA_OK);
    assert_non_null(strstr(js, "\"written\":false"));
    ca_free(js);
    ca_delta_maint_report_clear(&rep);
    validate_table(t);
    ca__free(t);
}

static void test_maintenance(void **state)
{
    (void)state;
    char *t = new_table("maint");
    ca_delta_write_result r;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(do_write(t, "SELECT range AS x FROM range(100)", CA_DELTA_WRITE_APPEND, &r), CA_OK);
        ca_delta_write_result_clear(&r);
    }
    ca_delta_maint_report rep;
    ca_delta_compact_options co = CA_DELTA_COMPACT_OPTIONS_INIT;
    assert_int_equal(ca_delta_compact(g_ctx, t, &co, &rep), CA_OK);
    assert_int_equal(rep.files_removed, 4);
    assert_int_equal(rep.files_added, 1);
    assert_int_equal(rep.rows, 400);
    assert_int_equal(rep.version_after, 4);
    ca_delta_maint_report_clear(&rep);
    char *log = read_log(t, 4);
    assert_non_null(strstr(log, "\"operation\":\"OPTIMIZE\""));
    assert_non_null(strstr(log, "\"dataChange\":false"));
    ca__free(log);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 400);
    /* a partition filter on an unpartitioned table selects everything or nothing */
    co.partition_filter = "false";
    assert_int_equal(ca_delta_compact(g_ctx, t, &co, &rep), CA_OK);
    assert_int_equal(rep.version_after, 4);
    ca_delta_maint_report_clear(&rep);
    co.partition_filter = NULL;
    /* nothing more to compact */
    assert_int_equal(ca_delta_compact(g_ctx, t, &co, &rep), CA_OK);
    assert_int_equal(rep.version_after, 4);
    ca_delta_maint_report_clear(&rep);
    /* vacuum: short retention refused, dry run lists, zero retention deletes */
    ca_delta_vacuum_options vo = CA_DELTA_VACUUM_OPTIONS_INIT;
    vo.retention_hours = 24;
    assert_int_equal(ca_delta_vacuum(g_ctx, t, &vo, &rep), CA_E_INVALID);
    ca_delta_maint_report_clear(&rep);
    vo.retention_hours = 0;
    vo.allow_short_retention = true;
    vo.dry_run = true;
    /* orphan files from a crashed writer are vacuumed too (mtime before now) */
    char orphan[1024];
    snprintf(orphan, sizeof orphan, "%s/part-orphan.zstd.parquet", t);
    FILE *f = fopen(orphan, "w");
    fputs("x", f);
    fclose(f);
    sleep(1);
    assert_int_equal(ca_delta_vacuum(g_ctx, t, &vo, &rep), CA_OK);
    assert_int_equal(rep.files_deleted, 5);
    ca_delta_maint_report_clear(&rep);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s', version := 2)", t), 300);
    vo.dry_run = false;
    assert_int_equal(ca_delta_vacuum(g_ctx, t, &vo, &rep), CA_OK);
    assert_int_equal(rep.files_deleted, 5);
    ca_delta_maint_report_clear(&rep);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 400);
    struct stat sb;
    assert_int_not_equal(stat(orphan, &sb), 0);
    /* restore to version 1 needs the vacuumed files */
    ca_delta_at at = CA_DELTA_AT_INIT;
    at.kind = CA_DELTA_AT_VERSION;
    at.table_version = 1;
    assert_int_equal(ca_delta_restore(g_ctx, t, &at, &rep), CA_E_DELTA_VERSION);
    ca_delta_maint_report_clear(&rep);
    /* maintain: all four steps, in order */
    ca_delta_maint_report reps[4];
    ca_delta_maintain_options mo = CA_DELTA_MAINTAIN_OPTIONS_INIT;
    assert_int_equal(ca_delta_maintain(g_ctx, t, &mo, reps), CA_OK);
    assert_string_equal(reps[0].step, "compact");
    assert_string_equal(reps[1].step, "checkpoint");
    assert_true(reps[1].written);
    assert_string_equal(reps[2].step, "vacuum");
    assert_string_equal(reps[3].step, "cleanup_log");
    for (int i = 0; i < 4; i++) {
        assert_int_equal(reps[i].status, CA_DELTA_STEP_SUCCEEDED);
        ca_delta_maint_report_clear(&reps[i]);
    }
    /* a failing step skips the later ones */
    mo.vacuum_options.retention_hours = 1;
    assert_int_equal(ca_delta_maintain(g_ctx, t, &mo, reps), CA_E_INVALID);
    assert_int_equal(reps[2].status, CA_DELTA_STEP_FAILED);
    assert_int_equal(reps[3].status, CA_DELTA_STEP_SKIPPED);
    assert_string_equal(reps[3].reason, "previous_step_failed");
    for (int i = 0; i < 4; i++)
        ca_delta_maint_report_clear(&reps[i]);
    /* cleanup_log with zero retention: commits before the newest checkpoint go */
    assert_int_equal(ca_delta_cleanup_log(g_ctx, t, 0, &rep), CA_OK);
    ca_delta_maint_report_clear(&rep);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 400);
    validate_table(t);
    ca__free(t);
}

static void test_restore(void **state)
{
    (void)state;
    char *t = new_table("restore");
    ca_delta_write_result r;
    assert_int_equal(do_write(t, "SELECT range AS x FROM range(10)", CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    assert_int_equal(do_write(t, "SELECT range AS x FROM range(3)", CA_DELTA_WRITE_OVERWRITE, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_maint_report rep;
    ca_delta_at at = CA_DELTA_AT_INIT;
    at.kind = CA_DELTA_AT_VERSION;
    at.table_version = 0;
    assert_int_equal(ca_delta_restore(g_ctx, t, &at, &rep), CA_OK);
    assert_int_equal(rep.version_after, 2);
    assert_int_equal(rep.files_added, 1);
    assert_int_equal(rep.files_removed, 1);
    ca_delta_maint_report_clear(&rep);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 10);
    validate_table(t);
    ca__free(t);
}

static void test_vectors(void **state)
{
    (void)state;
    double h = 0;
    assert_int_equal(ca_delta__interval_hours("interval 1 week", &h), CA_OK);
    assert_true(h == 168);
    assert_int_equal(ca_delta__interval_hours("interval 30 days", &h), CA_OK);
    assert_true(h == 720);
    assert_int_equal(ca_delta__interval_hours("interval 2 hours 30 minutes", &h), CA_OK);
    assert_true(h == 2.5);
    assert_int_equal(ca_delta__interval_hours("interval 1 month", &h), CA_E_INVALID);
    assert_int_equal(ca_delta__interval_hours("interval 1 year", &h), CA_E_INVALID);
    assert_int_equal(ca_delta__interval_hours("7 days", &h), CA_E_INVALID);
    ca_buf b = CA_BUF_INIT;
    ca_delta__hive_escape(&b, "a/b:c=d%e f\x01");
    assert_string_equal(ca_buf_cstr(&b), "a%2Fb%3Ac%3Dd%25e f%01");
    ca_buf_clear(&b);
    ca_delta__uri_encode(&b, "p=a%2F b/part-1.parquet");
    assert_string_equal(ca_buf_cstr(&b), "p%3Da%252F%20b/part-1.parquet");
    ca_buf_free(&b);
    char u[37];
    ca_delta__uuid4(u);
    assert_int_equal(strlen(u), 36);
    assert_int_equal(u[14], '4');
    /* stats: timestamps floored / ceiled to ms, negative years, NaN drops the bounds */
    dl_schema sc = {0};
    assert_int_equal(ca_delta__schema_parse("/x", "{\"type\":\"struct\",\"fields\":[{\"name\":\"t\",\"type\":\"timestamp_ntz\","
                                                   "\"nullable\":true,\"metadata\":{}},{\"name\":\"f\",\"type\":\"double\","
                                                   "\"nullable\":true,\"metadata\":{}}]}",
                                             DL_CM_NONE, &sc),
                     CA_OK);
    json_t *cs = json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s,s:s}}", "\"t\"", "min", "1969-12-31 23:59:59.9995",
                           "max", "2024-02-29 23:59:59.9991", "null_count", "0", "\"f\"", "min", "1.0", "max", "2.0",
                           "null_count", "3", "has_nan", "true");
    char *st = NULL;
    assert_int_equal(ca_delta__stats_json(&sc, NULL, 0, 9, cs, 32, NULL, &st), CA_OK);
    assert_string_equal(st, "{\"numRecords\":9,\"minValues\":{\"t\":\"1969-12-31T23:59:59.999\"},\"maxValues\":{\"t\":"
                            "\"2024-03-01T00:00:00.000\"},\"nullCount\":{\"t\":0,\"f\":3}}");
    ca__free(st);
    /* dataSkippingNumIndexedCols = 1 */
    assert_int_equal(ca_delta__stats_json(&sc, NULL, 0, 9, cs, 1, NULL, &st), CA_OK);
    assert_null(strstr(st, "\"f\""));
    ca__free(st);
    json_decref(cs);
    ca_delta__schema_free(&sc);
}

/* ---- spawned writers (never forked after DuckDB starts: the test binary re-executes itself) -- */

/* Writer mode: --writer ROOT N FAULTSPEC APPID — N appends of 10 rows with app transactions. */
static int writer_main(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    const char *root = argv[2], *spec = argv[4], *app = argv[5];
    int n = atoi(argv[3]);
    ca_fs_fault *ff = NULL;
    ca_duck_config cfg = {NULL, 1, "512MB", NULL, "UTC"};
    ca_duck_db *db = NULL;
    ca_delta_ctx *ctx = NULL;
    if (ca_fs_fault_new(ca_fs_posix(), &ff) || (*spec && ca_fs_fault_arm_spec(ff, spec)) || ca_duck_open(&cfg, &db) ||
        ca_delta_ctx_new(db, ca_fs_fault_fs(ff), NULL, &ctx)) {
        fprintf(stderr, "writer setup: %s\n", ca_error_last()->message);
        return 1;
    }
    int rc = CA_OK;
    const char *mode = argc > 6 ? argv[6] : "append";
    if (strcmp(mode, "append") != 0) {
        /* compact / delete loops; a conflict (§13) re-runs the operation on a fresh snapshot */
        int conflicts = 0;
        for (int i = 0; i < n && rc == CA_OK; i++) {
            if (!strcmp(mode, "compact")) {
                ca_delta_compact_options co = CA_DELTA_COMPACT_OPTIONS_INIT;
                ca_delta_maint_report rep;
                rc = ca_delta_compact(ctx, root, &co, &rep);
                ca_delta_maint_report_clear(&rep);
            } else {
                ca_delta_dml_options d = CA_DELTA_DML_OPTIONS_INIT;
                d.predicate = "x = 3";
                ca_delta_write_result r;
                rc = ca_delta_delete(ctx, NULL, root, &d, &r);
                ca_delta_write_result_clear(&r);
            }
            if (rc == CA_E_DELTA_CONFLICT) {
                conflicts++;
                rc = CA_OK;
            }
        }
        fprintf(stderr, "writer %s: %d conflicts (retried)\n", mode, conflicts);
        n = 0;
    }
    for (int i = 0; i < n && rc == CA_OK; i++) {
        ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
        o.sql = "SELECT range AS x FROM range(10)";
        o.app_id = app;
        o.app_version = i;
        o.max_commit_retries = 1000;
        ca_delta_write_result r;
        rc = ca_delta_write(ctx, NULL, root, &o, &r);
        ca_delta_write_result_clear(&r);
    }
    if (rc)
        fprintf(stderr, "writer: %s\n", ca_error_last()->message);
    ca_delta_ctx_free(ctx);
    ca_duck_close(db);
    ca_fs_fault_free(ff);
    return rc ? 1 : 0;
}

static pid_t spawn_mode(const char *root, int n, const char *spec, const char *app, const char *mode)
{
    char nbuf[16];
    snprintf(nbuf, sizeof nbuf, "%d", n);
    char *args[] = {"/proc/self/exe", "--writer", (char *)root, nbuf, (char *)spec, (char *)app, (char *)mode, NULL};
    pid_t pid = -1;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ) != 0)
        return -1;
    return pid;
}

static pid_t spawn_writer(const char *root, int n, const char *spec, const char *app)
{
    return spawn_mode(root, n, spec, app, "append");
}

static int wait_status(pid_t pid)
{
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Two processes × 40 appends: contiguous versions, every commit once, rows = appends. */
static void test_concurrent_writers(void **state)
{
    (void)state;
    char *t = new_table("conc");
    ca_delta_write_result r;
    assert_int_equal(do_write(t, "SELECT range AS x FROM range(10)", CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    pid_t a = spawn_writer(t, 40, "", "app-a"), b = spawn_writer(t, 40, "", "app-b");
    assert_true(a > 0 && b > 0);
    assert_int_equal(wait_status(a), 0);
    assert_int_equal(wait_status(b), 0);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 810);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    assert_int_equal(s->version, 80);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s->txns, "app-a"), "version")), 39);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s->txns, "app-b"), "version")), 39);
    ca_delta_snapshot_close(s);
    /* each app transaction version appears in exactly one commit */
    int seen[2][40] = {{0}};
    for (int64_t v = 1; v <= 80; v++) {
        char *log = read_log(t, v);
        assert_non_null(log);
        static const char key[] = "\"txn\":{\"appId\":\"app-";
        size_t off = (size_t)(strstr(log, key) - log);
        assert_true(strstr(log, key) != NULL);
        int which = log[off + sizeof key - 1] == 'a' ? 0 : 1;
        size_t voff = (size_t)(strstr(log + off, "\"version\":") - log);
        int k = atoi(log + voff + 10);
        assert_true(k >= 0 && k < 40);
        seen[which][k]++;
        ca__free(log);
    }
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 40; k++)
            assert_int_equal(seen[i][k], 1);
    /* re-running a writer applies nothing twice */
    pid_t c = spawn_writer(t, 40, "", "app-a");
    assert_int_equal(wait_status(c), 0);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 810);
    validate_table(t);
    ca__free(t);
}

/* A writer killed at each fault step: the table opens at a committed state, rows intact;
 * a zero-retention vacuum removes the orphans. */
static void test_crash(void **state)
{
    (void)state;
    static const char *const steps[] = {"crash:after_copy", "crash:before_link", "crash:after_link",
                                        "crash:after_ckpt_copy", "crash:after_ckpt_rename", "crash:before_link:3"};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        char *t = new_table("crash");
        ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
        ca_delta_kv props[] = {{"delta.checkpointInterval", "1"}};
        o.sql = "SELECT range AS x FROM range(10)";
        o.properties = props;
        o.n_properties = 1;
        ca_delta_write_result r;
        assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
        ca_delta_write_result_clear(&r);
        pid_t p = spawn_writer(t, 5, steps[i], "crasher");
        assert_true(p > 0);
        assert_int_equal(wait_status(p), 137);
        ca_delta_snapshot *s = NULL;
        assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
        int64_t v = s->version;
        ca_delta_snapshot_close(s);
        assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 10 * (v + 1));
        /* the next writer continues from there */
        pid_t p2 = spawn_writer(t, 1, "", "after");
        assert_int_equal(wait_status(p2), 0);
        assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 10 * (v + 2));
        usleep(20000);
        ca_delta_vacuum_options vo = CA_DELTA_VACUUM_OPTIONS_INIT;
        vo.retention_hours = 0;
        vo.allow_short_retention = true;
        ca_delta_maint_report rep;
        assert_int_equal(ca_delta_vacuum(g_ctx, t, &vo, &rep), CA_OK);
        ca_delta_maint_report_clear(&rep);
        int64_t files = q_int("SELECT count(*) FROM glob('%s/*.parquet')", t);
        assert_int_equal(files, v + 2);
        assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 10 * (v + 2));
        validate_table(t);
        ca__free(t);
    }
}

/* ENOSPC / EIO on every vtable operation, at several call numbers: the write fails with an error
 * naming the table, or commits; the table is unchanged or committed (never half). */
static void test_fault_sweep(void **state)
{
    (void)state;
    char *t = new_table("faults");
    ca_fs_fault *ff = NULL;
    assert_int_equal(ca_fs_fault_new(ca_fs_posix(), &ff), CA_OK);
    ca_duck_config cfg = {NULL, 1, "1GB", NULL, "UTC"};
    ca_duck_db *db = NULL;
    ca_delta_ctx *ctx = NULL;
    assert_int_equal(ca_duck_open(&cfg, &db), CA_OK);
    assert_int_equal(ca_delta_ctx_new(db, ca_fs_fault_fs(ff), NULL, &ctx), CA_OK);
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    ca_delta_kv props[] = {{"delta.checkpointInterval", "2"}};
    o.properties = props;
    o.n_properties = 1;
    o.sql = "SELECT range AS x, (range % 2)::INTEGER AS p FROM range(10)";
    const char *pb[] = {"p"};
    o.partition_by = pb;
    o.n_partition_by = 1;
    ca_delta_write_result r;
    assert_int_equal(ca_delta_write(ctx, NULL, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    int64_t rows = 10, failures = 0, commits = 0;
    static const int errs[] = {ENOSPC, EIO};
    for (int op = 0; op < CA_FS_OP_COUNT; op++) {
        if (op == CA_FS_OP_STEP)
            continue;
        for (uint64_t nth = 1; nth <= 3; nth++) {
            for (size_t e = 0; e < 2; e++) {
                ca_delta_snapshot *s = NULL;
                assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
                int64_t before = s->version;
                ca_delta_snapshot_close(s);
                ca_fs_fault_disarm(ff);
                assert_int_equal(ca_fs_fault_arm(ff, (ca_fs_op)op, nth, errs[e]), CA_OK);
                int rc = ca_delta_write(ctx, NULL, t, &o, &r);
                ca_fs_fault_disarm(ff);
                if (rc == CA_OK) {
                    commits++;
                    rows += 10;
                    assert_int_equal(r.version, before + 1);
                } else {
                    failures++;
                    const char *msg = ca_error_last()->message;
                    if (!strstr(msg, t) && !strstr(msg, "/tmp/")) {
                        fprintf(stderr, "op %s nth %d: message names no path: %s\n", ca_fs_op_name((ca_fs_op)op),
                                (int)nth, msg);
                        fail();
                    }
                    assert_true(rc == CA_E_NOSPC || rc == CA_E_IO || rc == CA_E_NOT_FOUND || rc == CA_E_DUCKDB);
                    /* a commit may have landed before a post-commit step failed only as a warning */
                }
                ca_delta_write_result_clear(&r);
                /* fresh context: the table opens and its rows match its commits */
                assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
                int64_t after = s->version;
                ca_delta_snapshot_close(s);
                assert_true(after == before || after == before + 1);
                if (rc != CA_OK && after == before + 1)
                    rows += 10; /* committed, then a later step failed */
                assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 10 * (after + 1));
            }
        }
    }
    assert_true(failures > 0 && commits > 0);
    (void)rows;
    validate_table(t);
    ca_delta_ctx_free(ctx);
    ca_duck_close(db);
    ca_fs_fault_free(ff);
    ca__free(t);
}

static void test_constraints_and_schema_merge(void **state)
{
    (void)state;
    char *t = new_table("checks");
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    ca_delta_kv props[] = {{"delta.constraints.positive", "x > 0"}, {"owner", "me"}};
    o.properties = props;
    o.n_properties = 2;
    o.sql = "SELECT range + 1 AS x FROM range(5)";
    ca_delta_write_result r;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    assert_int_equal(s->min_writer, 3);
    ca_delta_snapshot_close(s);
    o.properties = NULL;
    o.n_properties = 0;
    o.sql = "SELECT 0 AS x";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_E_DELTA_CONSTRAINT);
    assert_non_null(strstr(ca_error_last()->message, "positive"));
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 5);
    /* schema merge adds a nullable column */
    o.sql = "SELECT 9 AS x, 'new' AS y";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_E_DELTA_SCHEMA);
    ca_delta_write_result_clear(&r);
    o.schema_mode = CA_DELTA_SCHEMA_MERGE;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE y IS NULL", t), 5);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE y = 'new'", t), 1);
    /* unknown delta.* properties and bad names are refused on create */
    char *t2 = new_table("badprop");
    ca_delta_kv bad[] = {{"delta.nope", "1"}};
    ca_delta_write_options o2 = CA_DELTA_WRITE_OPTIONS_INIT;
    o2.sql = "SELECT 1 AS x";
    o2.properties = bad;
    o2.n_properties = 1;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t2, &o2, &r), CA_E_DELTA_UNSUPPORTED);
    ca_delta_write_result_clear(&r);
    o2.properties = NULL;
    o2.n_properties = 0;
    o2.sql = "SELECT 1 AS \"a b\"";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t2, &o2, &r), CA_E_DELTA_SCHEMA);
    ca_delta_write_result_clear(&r);
    /* append-only tables refuse overwrite and delete */
    ca_delta_kv ao[] = {{"delta.appendOnly", "true"}};
    o2.sql = "SELECT 1 AS a";
    o2.properties = ao;
    o2.n_properties = 1;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t2, &o2, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    o2.mode = CA_DELTA_WRITE_OVERWRITE;
    o2.properties = NULL;
    o2.n_properties = 0;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t2, &o2, &r), CA_E_DELTA_APPEND_ONLY);
    ca_delta_write_result_clear(&r);
    ca_delta_dml_options d = CA_DELTA_DML_OPTIONS_INIT;
    assert_int_equal(ca_delta_delete(g_ctx, g_conn, t2, &d, &r), CA_E_DELTA_APPEND_ONLY);
    ca_delta_write_result_clear(&r);
    validate_table(t);
    validate_table(t2);
    ca__free(t2);
    ca__free(t);
}

static void test_typed_partitions(void **state)
{
    (void)state;
    char *t = new_table("tparts");
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    const char *pb[] = {"ts", "d", "dec", "b"};
    o.sql = "SELECT range AS v, TIMESTAMPTZ '2024-05-06 07:08:09.123456+00' + to_hours(range % 2) AS ts, "
            "DATE '2024-01-31' AS d, 12.30::DECIMAL(6,2) AS dec, range % 2 = 0 AS b FROM range(6)";
    o.partition_by = pb;
    o.n_partition_by = 4;
    ca_delta_write_result r;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    char *log = read_log(t, 0);
    assert_non_null(strstr(log, "\"ts\":\"2024-05-06T07:08:09.123456Z\""));
    assert_non_null(strstr(log, "\"d\":\"2024-01-31\""));
    assert_non_null(strstr(log, "\"dec\":\"12.30\""));
    assert_non_null(strstr(log, "\"b\":\"true\""));
    ca__free(log);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE ts = TIMESTAMPTZ '2024-05-06 08:08:09.123456+00' "
                           "AND d = DATE '2024-01-31' AND dec = 12.30 AND NOT b",
                           t),
                     3);
    validate_table(t);
    ca__free(t);
}

/* Concurrent appends against deletes and compaction: conflicts only where §13 says. */
static void test_conflict_matrix(void **state)
{
    (void)state;
    char *t = new_table("matrix");
    ca_delta_write_result r;
    assert_int_equal(do_write(t, "SELECT range AS x FROM range(10)", CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    assert_int_equal(do_write(t, "SELECT range + 10 AS x FROM range(10)", CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK); /* read version 1 */
    /* winner: a blind append (v2) */
    assert_int_equal(do_write(t, "SELECT 100 AS x", CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    /* ours: a delete removing file 0, read at v1: rebases over the blind append */
    dw_commit del = {
        .ctx = g_ctx, .root = s->root, .snap = s, .op = DW_OP_DELETE, .operation = "DELETE",
        .params = json_pack("{s:s}", "predicate", "x < 10"), .metrics = json_object(), .actions = json_array(),
        .max_retries = 3,
    };
    json_array_append_new(del.actions, ca_delta__remove_of(s->files[0], 1, true));
    assert_int_equal(ca_delta__commit(&del, &r), CA_OK);
    assert_int_equal(r.version, 3);
    ca_delta_write_result_clear(&r);
    /* ours: a compaction of both v1 files, read at v1: the delete (v3) removed one of them */
    dw_commit cmp = {
        .ctx = g_ctx, .root = s->root, .snap = s, .op = DW_OP_COMPACT, .operation = "OPTIMIZE",
        .params = json_object(), .metrics = json_object(), .actions = json_array(), .max_retries = 3,
    };
    json_array_append_new(cmp.actions, ca_delta__remove_of(s->files[0], 1, false));
    json_array_append_new(cmp.actions, ca_delta__remove_of(s->files[1], 1, false));
    assert_int_equal(ca_delta__commit(&cmp, &r), CA_E_DELTA_CONFLICT);
    assert_non_null(strstr(ca_error_last()->message, "remove"));
    ca_delta_write_result_clear(&r);
    /* ours: a compaction of file 1 only: rebases (the winners touched other files) */
    dw_commit cmp2 = {
        .ctx = g_ctx, .root = s->root, .snap = s, .op = DW_OP_COMPACT, .operation = "OPTIMIZE",
        .params = json_object(), .metrics = json_object(), .actions = json_array(), .max_retries = 3,
    };
    json_array_append_new(cmp2.actions, ca_delta__remove_of(s->files[1], 1, false));
    assert_int_equal(ca_delta__commit(&cmp2, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    /* ours: a restore read at v1 conflicts with any newer data change */
    dw_commit rs = {
        .ctx = g_ctx, .root = s->root, .snap = s, .op = DW_OP_RESTORE, .operation = "RESTORE",
        .params = json_object(), .metrics = json_object(), .actions = json_array(), .max_retries = 3,
    };
    assert_int_equal(ca_delta__commit(&rs, &r), CA_E_DELTA_CONFLICT);
    ca_delta_write_result_clear(&r);
    /* ours: an app transaction someone else already applied: skipped */
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    o.sql = "SELECT 1 AS x";
    o.app_id = "job";
    o.app_version = 1;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    dw_commit tx = {
        .ctx = g_ctx, .root = s->root, .snap = s, .op = DW_OP_APPEND, .operation = "WRITE",
        .params = json_object(), .metrics = json_object(), .actions = json_array(), .app_id = "job",
        .app_version = 1, .blind_append = true, .max_retries = 3,
    };
    json_array_append_new(tx.actions, ca_delta__txn_action("job", 1, 1));
    assert_int_equal(ca_delta__commit(&tx, &r), CA_OK);
    assert_true(r.skipped);
    ca_delta_write_result_clear(&r);
    ca_delta_snapshot_close(s);
    validate_table(t);
    ca__free(t);
}

static void test_in_commit_timestamps(void **state)
{
    (void)state;
    char *t = new_table("ict");
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    ca_delta_kv props[] = {{"delta.enableInCommitTimestamps", "true"}};
    o.properties = props;
    o.n_properties = 1;
    o.sql = "SELECT 1 AS x";
    ca_delta_write_result r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
        ca_delta_write_result_clear(&r);
    }
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    assert_int_equal(s->min_writer, 7);
    assert_int_equal(s->min_reader, 1);
    ca_delta_snapshot_close(s);
    int64_t prev = -1;
    for (int64_t v = 0; v < 3; v++) {
        char *log = read_log(t, v);
        json_t *j = json_loadb(log, strcspn(log, "\n"), 0, NULL);
        json_t *ict = json_object_get(json_object_get(j, "commitInfo"), "inCommitTimestamp");
        assert_true(json_is_integer(ict));
        assert_true(json_integer_value(ict) > prev);
        prev = json_integer_value(ict);
        json_decref(j);
        ca__free(log);
    }
    ca_delta_history_entry *h = NULL;
    size_t nh = 0;
    assert_int_equal(ca_delta_history(g_ctx, t, 1, &h, &nh), CA_OK);
    assert_int_equal(h[0].timestamp_ms, prev);
    ca_delta_history_free(h, nh);
    validate_table(t);
    ca__free(t);
}

static void test_properties_and_constraints(void **state)
{
    (void)state;
    char *t = new_table("props");
    ca_delta_write_result r;
    assert_int_equal(do_write(t, "SELECT range AS x FROM range(10)", CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_kv p1[] = {{"delta.checkpointInterval", "5"}, {"team", "graph"}};
    assert_int_equal(ca_delta_set_properties(g_ctx, t, p1, 2, &r), CA_OK);
    assert_int_equal(r.version, 1);
    ca_delta_write_result_clear(&r);
    ca_delta_kv bad[] = {{"delta.unknownThing", "1"}};
    assert_int_equal(ca_delta_set_properties(g_ctx, t, bad, 1, &r), CA_E_DELTA_UNSUPPORTED);
    ca_delta_write_result_clear(&r);
    ca_delta_kv unset[] = {{"team", NULL}};
    assert_int_equal(ca_delta_set_properties(g_ctx, t, unset, 1, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    assert_string_equal(ca_delta__prop(s, "delta.checkpointInterval"), "5");
    assert_null(ca_delta__prop(s, "team"));
    ca_delta_snapshot_close(s);
    /* a constraint the rows violate is refused; one they satisfy is added and enforced */
    assert_int_equal(ca_delta_add_constraint(g_ctx, g_conn, t, "small", "x < 5", &r), CA_E_DELTA_CONSTRAINT);
    ca_delta_write_result_clear(&r);
    assert_int_equal(ca_delta_add_constraint(g_ctx, g_conn, t, "nonneg", "x >= 0", &r), CA_OK);
    ca_delta_write_result_clear(&r);
    assert_int_equal(ca_delta_add_constraint(g_ctx, g_conn, t, "nonneg", "x >= 0", &r), CA_E_INVALID);
    ca_delta_write_result_clear(&r);
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    assert_int_equal(s->min_writer, 3);
    ca_delta_snapshot_close(s);
    assert_int_equal(do_write(t, "SELECT -1 AS x", CA_DELTA_WRITE_APPEND, &r), CA_E_DELTA_CONSTRAINT);
    assert_non_null(strstr(ca_error_last()->message, "nonneg"));
    ca_delta_write_result_clear(&r);
    char *log = read_log(t, 3);
    assert_non_null(strstr(log, "\"operation\":\"ADD CONSTRAINT\""));
    assert_non_null(strstr(log, "\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":3}"));
    ca__free(log);
    validate_table(t);
    ca__free(t);
}

/* Appends, compactions and deletes in three processes: versions contiguous, every row that no
 * delete targets is there exactly once (compaction neither loses nor duplicates rows). */
static void test_concurrent_mixed(void **state)
{
    (void)state;
    char *t = new_table("mixed");
    ca_delta_write_result r;
    assert_int_equal(do_write(t, "SELECT range AS x FROM range(10)", CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    pid_t a = spawn_mode(t, 30, "", "app", "append"), b = spawn_mode(t, 15, "", "-", "compact"),
          c = spawn_mode(t, 15, "", "-", "delete");
    assert_true(a > 0 && b > 0 && c > 0);
    assert_int_equal(wait_status(a), 0);
    assert_int_equal(wait_status(b), 0);
    assert_int_equal(wait_status(c), 0);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s') WHERE x <> 3", t), 9 * 31);
    assert_int_equal(q_int("SELECT count(*) FROM (SELECT x, count(*) AS n FROM read_delta('%s') WHERE x <> 3 GROUP BY x "
                           "HAVING n <> 31)",
                           t),
                     0);
    validate_table(t);
    ca__free(t);
}

/* Rows of the change files a commit lists, by _change_type. */
static int64_t cdc_rows(const char *root, int64_t v, const char *type)
{
    char *log = read_log(root, v);
    assert_non_null(log);
    ca_buf files = CA_BUF_INIT;
    char *save = NULL;
    for (char *l = strtok_r(log, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(l, 0, NULL);
        json_t *c = json_object_get(j, "cdc");
        if (c) {
            assert_false(json_is_true(json_object_get(c, "dataChange")));
            char *dec = ca_delta__uri_decode(json_string_value(json_object_get(c, "path")));
            assert_true(strncmp(dec, "_change_data/", 13) == 0);
            ca_buf_printf(&files, "%s'%s/%s'", files.len ? ", " : "", root, dec);
            ca__free(dec);
        }
        json_decref(j);
    }
    ca__free(log);
    int64_t n = files.len ? q_int("SELECT count(*) FROM read_parquet([%s], hive_partitioning = false) WHERE _change_type = '%s'",
                                  ca_buf_cstr(&files), type)
                          : 0;
    ca_buf_free(&files);
    return n;
}

static void test_change_data_feed(void **state)
{
    (void)state;
    char *t = new_table("cdf");
    ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
    ca_delta_kv props[] = {{"delta.enableChangeDataFeed", "true"}};
    const char *pb[] = {"k"};
    o.properties = props;
    o.n_properties = 1;
    o.partition_by = pb;
    o.n_partition_by = 1;
    o.sql = "SELECT range AS id, (range % 2)::INTEGER AS k, 'v' AS s FROM range(20)";
    ca_delta_write_result r;
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    assert_int_equal(s->min_writer, 4);
    ca_delta_snapshot_close(s);
    ca_delta_dml_options d = CA_DELTA_DML_OPTIONS_INIT;
    d.predicate = "id < 3";
    assert_int_equal(ca_delta_delete(g_ctx, g_conn, t, &d, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    assert_int_equal(cdc_rows(t, 1, "delete"), 3);
    const char *cols[] = {"s"};
    const char *exprs[] = {"'u'"};
    ca_delta_dml_options u = CA_DELTA_DML_OPTIONS_INIT;
    u.predicate = "id IN (10, 11)";
    u.set_columns = cols;
    u.set_exprs = exprs;
    u.n_set = 1;
    assert_int_equal(ca_delta_update(g_ctx, g_conn, t, &u, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    assert_int_equal(cdc_rows(t, 2, "update_preimage"), 2);
    assert_int_equal(cdc_rows(t, 2, "update_postimage"), 2);
    ca_delta_write_options m = CA_DELTA_WRITE_OPTIONS_INIT;
    const char *keys[] = {"id"};
    m.mode = CA_DELTA_WRITE_MERGE;
    m.merge_keys = keys;
    m.n_merge_keys = 1;
    m.sql = "SELECT * FROM (VALUES (5, 1, 'm'), (100, 0, 'i')) AS v(id, k, s)";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &m, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    assert_int_equal(cdc_rows(t, 3, "insert"), 1);
    assert_int_equal(cdc_rows(t, 3, "update_postimage"), 1);
    assert_int_equal(cdc_rows(t, 3, "update_preimage"), 1);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 18);
    /* the reader's change data feed sees exactly these rows */
    assert_int_equal(q_int("SELECT count(*) FROM read_delta_cdf('%s', '1', '3') WHERE _change_type = 'delete'", t), 3);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta_cdf('%s', '1', '3') WHERE _change_type = 'update_preimage' "
                           "AND s = 'v'", t), 3);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta_cdf('%s', '1', '3') WHERE _change_type = 'update_postimage' "
                           "AND _commit_version = 2 AND s = 'u'", t), 2);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta_cdf('%s', '3', '3') WHERE _change_type = 'insert' AND id = 100 "
                           "AND k = 0", t), 1);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta_cdf('%s', '0', '0') WHERE _change_type = 'insert'", t), 20);
    /* appends write no change files */
    o.properties = NULL;
    o.n_properties = 0;
    o.partition_by = NULL;
    o.n_partition_by = 0;
    o.sql = "SELECT 200 AS id, 1 AS k, 'a' AS s";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t, &o, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    char *log = read_log(t, 4);
    assert_null(strstr(log, "\"cdc\""));
    ca__free(log);
    /* reserved names */
    char *t2 = new_table("cdfbad");
    o.properties = props;
    o.n_properties = 1;
    o.sql = "SELECT 1 AS _change_type";
    assert_int_equal(ca_delta_write(g_ctx, g_conn, t2, &o, &r), CA_E_DELTA_SCHEMA);
    ca_delta_write_result_clear(&r);
    ca__free(t2);
    validate_table(t);
    ca__free(t);
}

/* A table written by another implementation with deletion vectors: vacuum keeps the DV files of
 * live files, appends and deletes work (a rewrite drops the deleted rows). */
static void test_foreign_dv_table(void **state)
{
    (void)state;
    char *t = new_table("dvcopy");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cp -r '%s/fixtures/delta/kernel-rs-golden/dv-partitioned-with-checkpoint/delta' '%s' && "
             "find '%s' -type f -exec touch -d '30 days ago' {} +",
             CA_SHARED_DIR, t, t);
    if (system(cmd) != 0)
        skip();
    int64_t n0 = q_int("SELECT count(*) FROM read_delta('%s')", t);
    assert_int_equal(n0, 35);
    ca_delta_vacuum_options vo = CA_DELTA_VACUUM_OPTIONS_INIT;
    vo.retention_hours = 0;
    vo.allow_short_retention = true;
    ca_delta_maint_report rep;
    assert_int_equal(ca_delta_vacuum(g_ctx, t, &vo, &rep), CA_OK);
    ca_delta_maint_report_clear(&rep);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 35);
    /* compaction rewrites the files with a DV through the scan: deleted rows stay deleted */
    ca_delta_compact_options co = CA_DELTA_COMPACT_OPTIONS_INIT;
    assert_int_equal(ca_delta_compact(g_ctx, t, &co, &rep), CA_OK);
    assert_true(rep.files_removed > 0);
    ca_delta_maint_report_clear(&rep);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 35);
    assert_int_equal(q_int("SELECT count(*) FROM delta_add_actions('%s') WHERE deletion_vector IS NOT NULL", t), 0);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, t, NULL, &s), CA_OK);
    char *part = ca__strdup(s->part_cols[0]);
    ca_delta_snapshot_close(s);
    /* append rows copied from the table itself, then delete some of the original ones */
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT * FROM read_delta('%s') LIMIT 5", t);
    ca_delta_write_result r;
    assert_int_equal(do_write(t, sql, CA_DELTA_WRITE_APPEND, &r), CA_OK);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 40);
    int64_t some = q_int("SELECT count(*) FROM read_delta('%s') WHERE \"%s\" IS NOT NULL", t, part);
    ca_delta_dml_options d = CA_DELTA_DML_OPTIONS_INIT;
    char pred[256];
    snprintf(pred, sizeof pred, "\"%s\" IS NOT NULL", part);
    d.predicate = pred;
    assert_int_equal(ca_delta_delete(g_ctx, g_conn, t, &d, &r), CA_OK);
    assert_int_equal(r.rows_deleted, some);
    ca_delta_write_result_clear(&r);
    assert_int_equal(q_int("SELECT count(*) FROM read_delta('%s')", t), 40 - some);
    ca__free(part);
    ca__free(t);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--writer") == 0)
        return writer_main(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_append_overwrite),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_partitioned),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_app_txn_and_metadata),
        cmocka_unit_test(test_commit_race_and_faults),
        cmocka_unit_test(test_conflict),
        cmocka_unit_test(test_dml),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_maintenance),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_fault_sweep),
        cmocka_unit_test(test_constraints_and_schema_merge),
        cmocka_unit_test(test_typed_partitions),
        cmocka_unit_test(test_conflict_matrix),
        cmocka_unit_test(test_in_commit_timestamps),
        cmocka_unit_test(test_properties_and_constraints),
        cmocka_unit_test(test_change_data_feed),
        cmocka_unit_test(test_foreign_dv_table),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_concurrent_mixed),
        cmocka_unit_test(test_crash),
    };
    return cmocka_run_group_tests_name("delta_write", tests, group_setup, group_teardown);
}
