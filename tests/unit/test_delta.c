/*
 * Delta module tests: the golden fixture tables of ../shared/fixtures/delta/manifest.json (one
 * cmocka test per table), plus unit vectors (Z85, the protocol's inline DV example, names).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "codeanatomy/delta.h"
#include "codeanatomy/error.h"
#include "lib/delta/delta_int.h"
#include "util/trace.h"
#include "lib/duck/duck.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES CA_SHARED_DIR "/fixtures/delta"

static ca_duck_db *g_db;
static ca_duck_conn *g_conn;
static ca_delta_ctx *g_ctx;
static json_t *g_manifest;

static int group_setup(void **state)
{
    (void)state;
    ca_duck_config cfg = {NULL, 2, "2GB", NULL, "UTC"};
    if (ca_duck_open(&cfg, &g_db) || ca_delta_ctx_new(g_db, NULL, NULL, &g_ctx) ||
        ca_duck_connect(g_db, &g_conn) || ca_delta_register_sql(g_ctx, g_conn)) {
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
    return 0;
}

static char *fixture_path(const char *rel)
{
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/%s", FIXTURES, rel);
    return ca_buf_detach(&b, NULL);
}

/* count(*) of a query; returns CA_OK or the error. */
static int query_count(const char *sql, int64_t *n)
{
    bool is_null = false;
    return ca_duck_query_int64(g_conn, sql, n, &is_null);
}

static int count_delta(const char *root, int64_t version, int64_t *n)
{
    char *q = ca_duck_quote_literal(root);
    ca_buf b = CA_BUF_INIT;
    if (version >= 0)
        ca_buf_printf(&b, "SELECT count(*) FROM read_delta(%s, version := %" PRId64 ")", q, version);
    else
        ca_buf_printf(&b, "SELECT count(*) FROM read_delta(%s)", q);
    int rc = query_count(ca_buf_cstr(&b), n);
    ca_buf_free(&b);
    ca__free(q);
    return rc;
}

static bool is_type_widening(const json_t *t)
{
    const char *name = json_string_value(json_object_get(t, "name"));
    return strncmp(name, "type-widening", 13) == 0;
}

/* Snapshot fields of the manifest against the C API. */
static void check_snapshot_fields(const json_t *t, ca_delta_snapshot *s)
{
    const char *name = json_string_value(json_object_get(t, "name"));
    json_t *lv = json_object_get(t, "latest_version");
    if (json_is_integer(lv))
        assert_int_equal(ca_delta_snapshot_version(s), json_integer_value(lv));
    json_t *af = json_object_get(t, "active_files");
    if (json_is_integer(af)) {
        if ((int64_t)ca_delta_snapshot_file_count(s) != json_integer_value(af))
            fail_msg("%s: active files %zu, manifest %" PRId64, name, ca_delta_snapshot_file_count(s),
                     (int64_t)json_integer_value(af));
    }
    ca_delta_snapshot_info *info = NULL;
    assert_int_equal(ca_delta_snapshot_info_get(s, &info), CA_OK);
    json_t *p = json_object_get(t, "protocol");
    if (json_is_object(p)) {
        assert_int_equal(info->min_reader_version, json_integer_value(json_object_get(p, "min_reader")));
        assert_int_equal(info->min_writer_version, json_integer_value(json_object_get(p, "min_writer")));
        json_t *rf = json_object_get(p, "reader_features");
        if (json_is_array(rf))
            assert_int_equal(info->n_reader_features, json_array_size(rf));
    }
    json_t *pc = json_object_get(t, "partition_columns");
    assert_int_equal(info->n_partition_columns, json_array_size(pc));
    for (size_t i = 0; i < info->n_partition_columns; i++)
        assert_string_equal(info->partition_columns[i], json_string_value(json_array_get(pc, i)));
    /* the replay starts from the newest checkpoint the manifest lists */
    json_t *cv = json_object_get(t, "checkpoint_versions");
    int64_t want = -1;
    size_t i;
    json_t *v;
    json_array_foreach(cv, i, v)
    {
        if (json_integer_value(v) <= info->version && json_integer_value(v) > want)
            want = json_integer_value(v);
    }
    if (info->checkpoint_version != want)
        fail_msg("%s: replay started from checkpoint %" PRId64 ", manifest's newest is %" PRId64, name,
                 info->checkpoint_version, want);
    for (size_t w = 0; w < info->n_warnings; w++)
        if (strstr(info->warnings[w], "last_checkpoint_invalid"))
            fail_msg("%s: %s", name, info->warnings[w]);
    ca_delta_snapshot_info_free(info);
}

static void test_read_ok(void **state)
{
    const json_t *t = *state;
    const char *name = json_string_value(json_object_get(t, "name"));
    char *root = fixture_path(json_string_value(json_object_get(t, "root")));
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta_table_open(g_ctx, root, NULL, &s);
    if (rc)
        fail_msg("%s: open: %s: %s", name, ca_error_name(rc), ca_error_last()->message);
    check_snapshot_fields(t, s);
    ca_delta_snapshot_close(s);

    json_t *erc = json_object_get(t, "expected_row_count");
    int64_t n = -1;
    rc = count_delta(root, -1, &n);
    if (rc)
        fail_msg("%s: read_delta: %s", name, ca_error_last()->message);
    if (json_is_integer(erc) && n != json_integer_value(erc))
        fail_msg("%s: %" PRId64 " rows, expected %" PRId64, name, n, (int64_t)json_integer_value(erc));

    const char *exp = json_string_value(json_object_get(t, "expected"));
    if (exp) {
        char *ep = fixture_path(exp);
        char *qr = ca_duck_quote_literal(root);
        ca_buf g = CA_BUF_INIT;
        ca_buf_printf(&g, "%s/*.parquet", ep);
        char *qe = ca_duck_quote_literal(ca_buf_cstr(&g));
        ca_buf b = CA_BUF_INIT;
        int64_t d1 = -1, d2 = -1;
        ca_buf_printf(&b, "SELECT count(*) FROM (SELECT * FROM read_delta(%s) EXCEPT ALL "
                          "SELECT * FROM read_parquet(%s))", qr, qe);
        rc = query_count(ca_buf_cstr(&b), &d1);
        if (rc)
            fail_msg("%s: compare: %s", name, ca_error_last()->message);
        ca_buf_clear(&b);
        ca_buf_printf(&b, "SELECT count(*) FROM (SELECT * FROM read_parquet(%s) EXCEPT ALL "
                          "SELECT * FROM read_delta(%s))", qe, qr);
        rc = query_count(ca_buf_cstr(&b), &d2);
        if (rc)
            fail_msg("%s: compare: %s", name, ca_error_last()->message);
        if (d1 || d2)
            fail_msg("%s: rows differ from expected/: %" PRId64 " extra, %" PRId64 " missing", name, d1, d2);
        ca_buf_free(&b);
        ca_buf_free(&g);
        ca__free(qr);
        ca__free(qe);
        ca__free(ep);
    }

    json_t *rbv = json_object_get(t, "row_counts_by_version");
    const char *key;
    json_t *val;
    json_object_foreach(rbv, key, val)
    {
        int64_t v = strtoll(key, NULL, 10), got = -1;
        rc = count_delta(root, v, &got);
        if (json_is_null(val)) {
            if (rc == CA_OK)
                fail_msg("%s: version %" PRId64 " read %" PRId64 " rows; its data files are gone, it must fail",
                         name, v, got);
        } else {
            if (rc)
                fail_msg("%s: version %" PRId64 ": %s", name, v, ca_error_last()->message);
            if (got != json_integer_value(val))
                fail_msg("%s: version %" PRId64 ": %" PRId64 " rows, expected %" PRId64, name, v, got,
                         (int64_t)json_integer_value(val));
        }
    }
    free(root);
}

static void test_unsupported(void **state)
{
    const json_t *t = *state;
    if (is_type_widening(t)) {
        test_read_ok(state); /* typeWidening is a supported reader feature (delta.md §1, §22) */
        return;
    }
    const char *name = json_string_value(json_object_get(t, "name"));
    char *root = fixture_path(json_string_value(json_object_get(t, "root")));
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta_table_open(g_ctx, root, NULL, &s);
    if (rc != CA_E_DELTA_UNSUPPORTED)
        fail_msg("%s: expected delta_unsupported, got %s: %s", name, ca_error_name(rc),
                 ca_error_last()->message);
    /* the message names every unsupported reader feature */
    json_t *rf = json_object_get(json_object_get(t, "protocol"), "reader_features");
    size_t i;
    json_t *f;
    bool named = false;
    json_array_foreach(rf, i, f)
    {
        if (strstr(ca_error_last()->message, json_string_value(f)))
            named = true;
    }
    assert_true(named);
    /* SQL gives the same error */
    int64_t n = 0;
    rc = count_delta(root, -1, &n);
    assert_int_equal(rc, CA_E_DUCKDB);
    assert_non_null(strstr(ca_error_last()->message, "delta_unsupported"));
    free(root);
}

static void test_error(void **state)
{
    const json_t *t = *state;
    const char *name = json_string_value(json_object_get(t, "name"));
    char *root = fixture_path(json_string_value(json_object_get(t, "root")));
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta_table_open(g_ctx, root, NULL, &s);
    bool missing_files = false;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(t, "features"), i, f)
    {
        if (strcmp(json_string_value(f), "missing_data_files") == 0)
            missing_files = true;
    }
    if (rc == CA_OK) {
        /* log-only tables: the snapshot opens, the scan fails naming the missing data file */
        check_snapshot_fields(t, s);
        ca_delta_snapshot_close(s);
        if (!missing_files)
            fail_msg("%s: opened, but the manifest expects an error", name);
        int64_t n = 0;
        rc = count_delta(root, -1, &n);
        if (rc == CA_OK)
            fail_msg("%s: read %" PRId64 " rows of a table whose data files are missing", name, n);
        assert_int_equal(rc, CA_E_DUCKDB);
    } else {
        if (rc != CA_E_DELTA_CORRUPT && rc != CA_E_DELTA_NOT_A_TABLE && rc != CA_E_DELTA_VERSION)
            fail_msg("%s: unexpected %s: %s", name, ca_error_name(rc), ca_error_last()->message);
        assert_non_null(strstr(ca_error_last()->message, "delta: "));
        int64_t n = 0;
        assert_int_not_equal(count_delta(root, -1, &n), CA_OK);
    }
    free(root);
}

/* ---- vectors ------------------------------------------------------------------------------- */

static void test_z85(void **state)
{
    (void)state;
    /* ZeroMQ's reference vector */
    uint8_t out[8];
    assert_int_equal(ca_delta__z85_decode("HelloWorld", 10, out, sizeof out), 8);
    const uint8_t want[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
    assert_memory_equal(out, want, 8);
    assert_int_equal(ca_delta__z85_decode("Hell", 4, out, sizeof out), -1);
}

static void test_inline_dv(void **state)
{
    (void)state;
    /* PROTOCOL.md: inline DV with rows 3, 4, 7, 11, 18, 29 */
    dl_dv dv = {'i', (char *)"wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", 0, false, 40, 6};
    dl_bitmap *bm = NULL;
    int rc = ca_delta__dv_load(ca_fs_posix(), "/nonexistent", "f.parquet", &dv, &bm);
    if (rc)
        fail_msg("%s", ca_error_last()->message);
    const uint64_t del[] = {3, 4, 7, 11, 18, 29};
    for (uint64_t r = 0; r < 40; r++) {
        bool d = false;
        for (size_t k = 0; k < 6; k++)
            d |= del[k] == r;
        assert_int_equal(ca_delta__dv_contains(bm, r), d);
    }
    ca_delta__dv_free(bm);
    dv.cardinality = 5;
    assert_int_equal(ca_delta__dv_load(ca_fs_posix(), "/nonexistent", "f.parquet", &dv, &bm),
                     CA_E_DELTA_DV);
}

static void test_checksum(void **state)
{
    (void)state;
    /* PROTOCOL.md "JSON checksum" sample */
    const char *j = "{\"k0\":\"'v 0'\", \"checksum\": \"adsaskfljadfkjadfkj\", \"k1\":{\"k2\": 2, "
                    "\"k3\": [\"v3\", [1, 2], {\"k4\": \"v4\", \"k5\": [\"v5\", \"v6\", \"v7\"]}]}}";
    char sum[33];
    assert_int_equal(ca_delta__json_checksum(j, strlen(j), sum), CA_OK);
    assert_string_equal(sum, "6a92d155a59bf2eecbd4b4ec7fd1f875");
    assert_int_equal(ca_delta__json_checksum("{\"a\":", 5, sum), CA_E_INVALID);
}

static void test_names(void **state)
{
    (void)state;
    dl_name n;
    ca_delta__classify("00000000000000000010.json", &n);
    assert_int_equal(n.kind, DL_NAME_COMMIT);
    assert_int_equal(n.version, 10);
    ca_delta__classify("00000000000000000001.checkpoint.0000000002.0000000003.parquet", &n);
    assert_int_equal(n.kind, DL_NAME_CKPT_MULTI);
    assert_int_equal(n.part, 2);
    assert_int_equal(n.parts, 3);
    ca_delta__classify("00000000000000000002.checkpoint.e8fa2696-9728-4e9c-b285-634743fdd4fb.json", &n);
    assert_int_equal(n.kind, DL_NAME_CKPT_UUID);
    assert_true(n.is_json);
    ca_delta__classify("00000000000000000002.00000000000000000005.compacted.json", &n);
    assert_int_equal(n.kind, DL_NAME_COMPACTION);
    ca_delta__classify(".00000000000000000000.json.crc", &n);
    assert_int_equal(n.kind, DL_NAME_OTHER);
    char *c = ca_delta__canonical_path("file:///some/with%20space/p@%23h");
    assert_string_equal(c, "/some/with space/p@#h");
    ca__free(c);
    c = ca_delta__canonical_path("file:/x/y");
    assert_string_equal(c, "/x/y");
    ca__free(c);
}

static void sql_ok(const char *sql, int64_t *n)
{
    if (query_count(sql, n))
        fail_msg("%s: %s", sql, ca_error_last()->message);
}

static void test_sql_functions(void **state)
{
    (void)state;
    char *root = fixture_path("kernel-rs-golden/basic-with-inserts-deletes-checkpoint/delta");
    char *q = ca_duck_quote_literal(root);
    ca_buf b = CA_BUF_INIT;
    int64_t n = 0;
    ca_buf_printf(&b, "SELECT version FROM delta_snapshot(%s)", q);
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 13);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT num_files FROM delta_snapshot(%s, version := 3)", q);
    sql_ok(ca_buf_cstr(&b), &n);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT count(*) FROM delta_add_actions(%s)", q);
    sql_ok(ca_buf_cstr(&b), &n);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT count(*) FROM delta_history(%s)", q);
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 14);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT max(version) - min(version) FROM delta_history(%s, \"limit\" := 3)", q);
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 2);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT count(*) FROM read_delta(%s, lineage := true) WHERE __source_file LIKE 'part-%%'", q);
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 41);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT count(*) FROM read_delta(%s, filter := 'id < 10')", q);
    sql_ok(ca_buf_cstr(&b), &n);
    ca_buf_free(&b);
    ca__free(q);
    free(root);
}

/* ---- hand-written logs in a temp directory ------------------------------------------------ */

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static const char *PROTO = "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n";
static const char *META =
    "{\"metaData\":{\"id\":\"t\",\"format\":{\"provider\":\"parquet\",\"options\":{}},"
    "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\","
    "\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\","
    "\"partitionColumns\":[],\"configuration\":{},\"createdTime\":1}}\n";

static char *make_table(void)
{
    char tmpl[] = "/tmp/ca_delta_test_XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/_delta_log", d);
    assert_int_equal(mkdir(ca_buf_cstr(&b), 0755), 0);
    ca_buf_free(&b);
    return strdup(d);
}

static void write_commit(const char *root, int64_t v, const char *text, int64_t mtime_s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/_delta_log/%020" PRId64 ".json", root, v);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    if (mtime_s > 0) {
        struct timeval tv[2] = {{mtime_s, 0}, {mtime_s, 0}};
        assert_int_equal(utimes(path, tv), 0);
    }
}

static void remove_tree(const char *root)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static int open_at(const char *root, int64_t version, const char *ts, ca_delta_snapshot **s)
{
    ca_delta_at at = CA_DELTA_AT_INIT;
    if (version >= 0) {
        at.kind = CA_DELTA_AT_VERSION;
        at.table_version = version;
    } else if (ts) {
        at.kind = CA_DELTA_AT_TIMESTAMP;
        at.timestamp = ts;
    }
    *s = NULL;
    return ca_delta_table_open(g_ctx, root, &at, s);
}

static void expect_open_error(const char *root, int code, const char *needle)
{
    ca_delta_snapshot *s = NULL;
    int rc = open_at(root, -1, NULL, &s);
    ca_delta_snapshot_close(s);
    if (rc != code)
        fail_msg("expected %s, got %s: %s", ca_error_name(code), ca_error_name(rc), ca_error_last()->message);
    if (needle && !strstr(ca_error_last()->message, needle))
        fail_msg("message lacks '%s': %s", needle, ca_error_last()->message);
}

static void test_not_a_table(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/ca_delta_test_XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    expect_open_error(d, CA_E_DELTA_NOT_A_TABLE, "_delta_log");
    char *t = make_table();
    expect_open_error(t, CA_E_DELTA_NOT_A_TABLE, "no commits");
    remove_tree(t);
    free(t);
    rmdir(d);
}

static void test_corrupt_logs(void **state)
{
    (void)state;
    char *t = make_table();
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s%s", PROTO, META);
    write_commit(t, 0, ca_buf_cstr(&b), 0);
    /* a line that is not JSON */
    write_commit(t, 1, "{\"add\":{\"path\":\"a\"\n", 0);
    expect_open_error(t, CA_E_DELTA_CORRUPT, "00000000000000000001.json: line 1");
    /* empty commit */
    write_commit(t, 1, "", 0);
    expect_open_error(t, CA_E_DELTA_CORRUPT, "empty commit");
    /* add without size */
    write_commit(t, 1, "{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"modificationTime\":1,\"dataChange\":true}}\n", 0);
    expect_open_error(t, CA_E_DELTA_CORRUPT, "'size'");
    /* two adds of one key in one commit */
    const char *add = "{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n";
    ca_buf_clear(&b);
    ca_buf_printf(&b, "%s%s", add, add);
    write_commit(t, 1, ca_buf_cstr(&b), 0);
    expect_open_error(t, CA_E_DELTA_CORRUPT, "two add actions");
    /* two metaData in one commit */
    ca_buf_clear(&b);
    ca_buf_printf(&b, "%s%s", META, META);
    write_commit(t, 1, ca_buf_cstr(&b), 0);
    expect_open_error(t, CA_E_DELTA_CORRUPT, "two metaData");
    /* a gap */
    write_commit(t, 1, add, 0);
    write_commit(t, 3, add, 0);
    expect_open_error(t, CA_E_DELTA_CORRUPT, "not contiguous");
    /* but version 1 is still reachable */
    ca_delta_snapshot *s = NULL;
    assert_int_equal(open_at(t, 1, NULL, &s), CA_OK);
    assert_int_equal(ca_delta_snapshot_file_count(s), 1);
    ca_delta_snapshot_close(s);
    assert_int_equal(open_at(t, 7, NULL, &s), CA_E_DELTA_VERSION);
    ca_buf_free(&b);
    remove_tree(t);
    free(t);
}

static void test_protocol_checks(void **state)
{
    (void)state;
    char *t = make_table();
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "{\"protocol\":{\"minReaderVersion\":4,\"minWriterVersion\":7}}\n%s", META);
    write_commit(t, 0, ca_buf_cstr(&b), 0);
    expect_open_error(t, CA_E_DELTA_UNSUPPORTED, "reader version 4");
    ca_buf_clear(&b);
    ca_buf_printf(&b, "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
                      "\"readerFeatures\":[\"deletionVectors\",\"fancyA\",\"fancyB\"],\"writerFeatures\":[]}}\n%s",
                  META);
    write_commit(t, 0, ca_buf_cstr(&b), 0);
    expect_open_error(t, CA_E_DELTA_UNSUPPORTED, "fancyA, fancyB");
    /* no metaData */
    write_commit(t, 0, PROTO, 0);
    expect_open_error(t, CA_E_DELTA_CORRUPT, "no metaData");
    ca_buf_free(&b);
    remove_tree(t);
    free(t);
}

static void test_timestamp_travel(void **state)
{
    (void)state;
    char *t = make_table();
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s%s", PROTO, META);
    write_commit(t, 0, ca_buf_cstr(&b), 1700000000);
    write_commit(t, 1, "{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n",
                 1700000100);
    /* an mtime going backwards is made strictly increasing */
    write_commit(t, 2, "{\"add\":{\"path\":\"b\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n",
                 1700000050);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(open_at(t, -1, "2023-11-14T22:13:20Z", &s), CA_OK); /* = 1700000000 */
    assert_int_equal(ca_delta_snapshot_version(s), 0);
    ca_delta_snapshot_close(s);
    assert_int_equal(open_at(t, -1, "2023-11-14T22:15:00.001Z", &s), CA_OK); /* ts(2) = ts(1) + 1 ms */
    assert_int_equal(ca_delta_snapshot_version(s), 2);
    ca_delta_snapshot_close(s);
    assert_int_equal(open_at(t, -1, "2023-11-14T22:15:00.000+00:00", &s), CA_OK);
    assert_int_equal(ca_delta_snapshot_version(s), 1);
    ca_delta_snapshot_close(s);
    assert_int_equal(open_at(t, -1, "2030-01-01T00:00:00Z", &s), CA_OK);
    assert_int_equal(ca_delta_snapshot_version(s), 2);
    ca_delta_snapshot_info *info = NULL;
    assert_int_equal(ca_delta_snapshot_info_get(s, &info), CA_OK);
    assert_int_equal(info->commit_timestamp_ms, 1700000100001LL);
    ca_delta_snapshot_info_free(info);
    ca_delta_snapshot_close(s);
    assert_int_equal(open_at(t, -1, "2020-01-01T00:00:00Z", &s), CA_E_DELTA_VERSION);
    assert_int_equal(open_at(t, -1, "not a time", &s), CA_E_INVALID);
    /* SQL spellings */
    char *q = ca_duck_quote_literal(t);
    int64_t n = -1;
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT version FROM delta_snapshot(%s, \"timestamp\" := '2023-11-14T22:15:00Z')", q);
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 1);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT version FROM delta_snapshot(%s, as_of := TIMESTAMPTZ '2023-11-14 22:13:21+00')", q);
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 0);
    ca__free(q);
    ca_buf_free(&b);
    remove_tree(t);
    free(t);
}

/* Stats and partition pruning (delta.md §9): kept files and rows against an unpruned scan. */
static void check_prune(const char *rel, const char *filter, int64_t want_kept, int64_t want_used)
{
    char *root = fixture_path(rel);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, root, NULL, &s), CA_OK);
    ca_delta_scan_options o = CA_DELTA_SCAN_OPTIONS_INIT;
    o.filter = filter;
    char *sql = NULL;
    ca_delta_scan_report rep;
    if (ca_delta_scan_sql(s, &o, &sql, &rep))
        fail_msg("%s", ca_error_last()->message);
    if (rep.files_kept != want_kept || rep.conjuncts_used != want_used)
        fail_msg("%s WHERE %s: kept %" PRId64 " of %" PRId64 " (want %" PRId64 "), %" PRId64
                 " conjuncts (want %" PRId64 ")",
                 rel, filter, rep.files_kept, rep.files_total, want_kept, rep.conjuncts_used, want_used);
    ca_buf b = CA_BUF_INIT;
    int64_t n1 = -1, n2 = -2;
    ca_buf_printf(&b, "SELECT count(*) FROM (%s)", sql);
    sql_ok(ca_buf_cstr(&b), &n1);
    char *q = ca_duck_quote_literal(root);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT count(*) FROM read_delta(%s) WHERE %s", q, filter);
    sql_ok(ca_buf_cstr(&b), &n2);
    assert_int_equal(n1, n2);
    ca__free(q);
    ca_buf_free(&b);
    ca_free(sql);
    ca_delta_snapshot_close(s);
    free(root);
}

static void test_pruning(void **state)
{
    (void)state;
    const char *t = "kernel-rs-golden/data-skipping-partition-and-data-column/delta";
    check_prune(t, "part = 1 AND id > 100", 0, 2);
    check_prune(t, "part = 1", 2, 1);
    check_prune(t, "id IN (5, 0)", 2, 1);
    check_prune(t, "1 >= id", 4, 1);
    check_prune(t, "id BETWEEN 1 AND CAST('1' AS INT)", 2, 1);
    check_prune(t, "id IS NULL", 0, 1);
    check_prune(t, "id IS NOT NULL", 4, 1);
    check_prune(t, "part <> 1 OR id = 3", 4, 0);
    check_prune(t, "part + 1 = 2", 4, 0);
    /* partition columns */
    const char *p = "kernel-rs-golden/basic-decimal-table-legacy/delta";
    check_prune(p, "part IS NULL", 0, 1);
    check_prune(p, "part = 234", 1, 1);
    check_prune(p, "part >= 0", 3, 1);
    const char *ts = "delta-repo/kernel-timestamp-partition-col-ISO8601";
    check_prune(ts, "ts = TIMESTAMPTZ '2024-01-01 10:00:00+00'", 1, 1);
    check_prune(ts, "ts > TIMESTAMPTZ '2024-01-02 00:00:00+00'", 1, 1);
}

/* A listed commit that vanishes (concurrent cleanup) is re-listed and retried once; an I/O
 * error is reported. */
static void test_fs_faults(void **state)
{
    (void)state;
    char *root = fixture_path("kernel-rs-golden/snapshot-data1/delta");
    ca_fs_fault *ff = NULL;
    assert_int_equal(ca_fs_fault_new(ca_fs_posix(), &ff), CA_OK);
    ca_duck_db *db2 = NULL;
    ca_delta_ctx *ctx2 = NULL;
    ca_duck_config cfg = {NULL, 1, "1GB", NULL, "UTC"};
    assert_int_equal(ca_duck_open(&cfg, &db2), CA_OK);
    assert_int_equal(ca_delta_ctx_new(db2, ca_fs_fault_fs(ff), NULL, &ctx2), CA_OK);
    /* open_read #1 is _last_checkpoint (absent), #2 is 00000000000000000000.json */
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_OPEN_READ, 2, ENOENT), CA_OK);
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta_table_open(ctx2, root, NULL, &s);
    if (rc)
        fail_msg("%s", ca_error_last()->message);
    assert_int_equal(ca_delta_snapshot_version(s), 1);
    assert_true(ca_fs_fault_injected(ff) == 1);
    ca_delta_snapshot_close(s);
    ca_delta_at at = CA_DELTA_AT_INIT;
    at.kind = CA_DELTA_AT_VERSION; /* version 0 is not cached yet: it replays */
    at.table_version = 0;
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_READ_AT, 1, EIO), CA_OK);
    rc = ca_delta_table_open(ctx2, root, &at, &s);
    assert_int_equal(rc, CA_E_IO);
    ca_delta_ctx_free(ctx2);
    ca_duck_close(db2);
    ca_fs_fault_free(ff);
    free(root);
}

/* In-commit timestamps: enabled at version 2; before it, mtimes. */
static void test_ict_travel(void **state)
{
    (void)state;
    char *t = make_table();
    const char *meta_ict =
        "{\"metaData\":{\"id\":\"t\",\"format\":{\"provider\":\"parquet\",\"options\":{}},"
        "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\","
        "\"partitionColumns\":[],\"configuration\":{\"delta.enableInCommitTimestamps\":\"true\","
        "\"delta.inCommitTimestampEnablementVersion\":\"2\","
        "\"delta.inCommitTimestampEnablementTimestamp\":\"1800000000000\"},\"createdTime\":1}}\n";
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s%s", PROTO, META);
    write_commit(t, 0, ca_buf_cstr(&b), 1700000000);
    write_commit(t, 1, "{\"commitInfo\":{}}\n", 1700000100);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "{\"commitInfo\":{\"inCommitTimestamp\":1800000000000}}\n%s", meta_ict);
    write_commit(t, 2, ca_buf_cstr(&b), 1600000000); /* mtimes no longer count */
    for (int v = 3; v < 9; v++) {
        char c[128];
        snprintf(c, sizeof c, "{\"commitInfo\":{\"inCommitTimestamp\":%lld}}\n", 1800000000000LL + v * 1000);
        write_commit(t, v, c, 1600000000);
    }
    static const struct { const char *ts; int64_t v; } cases[] = {
        {"2023-11-14T22:13:20Z", 0},          /* mtime of 0 */
        {"2023-11-14T22:15:00Z", 1},          /* mtime of 1 */
        {"2027-01-15T08:00:00Z", 2},          /* = 1800000000000 */
        {"2027-01-15T08:00:04.5Z", 4},
        {"2027-01-15T08:00:08Z", 8},
        {"2099-01-01T00:00:00Z", 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ca_delta_snapshot *s = NULL;
        if (open_at(t, -1, cases[i].ts, &s))
            fail_msg("%s: %s", cases[i].ts, ca_error_last()->message);
        if (ca_delta_snapshot_version(s) != cases[i].v)
            fail_msg("%s: version %" PRId64 ", want %" PRId64, cases[i].ts, ca_delta_snapshot_version(s), cases[i].v);
        ca_delta_snapshot_close(s);
    }
    ca_buf_free(&b);
    remove_tree(t);
    free(t);
}

/* Several connections reading at once: the module's connection, registry and cache are shared. */
typedef struct reader_arg {
    const char *rel;
    int64_t want;
    int failures;
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *a = p;
    ca_duck_conn *c = NULL;
    if (ca_duck_connect(g_db, &c) || ca_delta_register_sql(g_ctx, c)) {
        a->failures++;
        return NULL;
    }
    char *root = fixture_path(a->rel);
    char *q = ca_duck_quote_literal(root);
    char sql[4096];
    for (int i = 0; i < 20; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM read_delta(%s, filter := 'true')", q);
        int64_t n = -1;
        bool is_null;
        if (ca_duck_query_int64(c, sql, &n, &is_null) || n != a->want)
            a->failures++;
    }
    ca__free(q);
    free(root);
    ca_duck_disconnect(c);
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    (void)state;
    reader_arg args[4] = {
        {"kernel-rs-golden/basic-with-inserts-deletes-checkpoint/delta", 41, 0},
        {"delta-repo/basic-dv-with-checkpoint", 454, 0},
        {"kernel-rs-golden/v2-checkpoint-parquet/delta", 10, 0},
        {"kernel-rs-golden/dv-partitioned-with-checkpoint/delta", 35, 0},
    };
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &args[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        if (args[i].failures)
            fail_msg("%s: %d failures", args[i].rel, args[i].failures);
}

/* id mode: a nested field whose parquet field_id disagrees with the schema is refused. */
static void test_nested_field_ids(void **state)
{
    (void)state;
    char *t = make_table();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp -r '%s/kernel-rs-golden/table-with-columnmapping-mode-id/delta/.' '%s/'",
             FIXTURES, t);
    assert_int_equal(system(cmd), 0);
    /* the log holds `"delta.columnMapping.id\":13,` inside the schema string */
    snprintf(cmd, sizeof cmd, "%s/_delta_log/00000000000000000000.json", t);
    FILE *f = fopen(cmd, "r+b");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n_read = fread(text, 1, sizeof text - 1, f);
    text[n_read] = 0;
    char *hit = strstr(text, "columnMapping.id\\\":14,"); /* a nested field */
    assert_non_null(hit);
    memcpy(strstr(hit, "14,"), "99", 2);
    fseek(f, 0, SEEK_SET);
    fwrite(text, 1, n_read, f);
    fclose(f);
    int64_t n = 0;
    assert_int_equal(count_delta(t, -1, &n), CA_E_DUCKDB);
    assert_non_null(strstr(ca_error_last()->message, "delta_unsupported"));
    assert_non_null(strstr(ca_error_last()->message, "field_id 14"));
    remove_tree(t);
    free(t);
}

static void test_trace_and_timezone(void **state)
{
    (void)state;
    char path[] = "/tmp/ca_delta_trace_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ca_trace *tr = NULL;
    assert_int_equal(ca_trace_open(path, 0, &tr), CA_OK);
    ca_delta__set_trace(g_ctx, tr);
    char *root = fixture_path("kernel-rs-golden/kernel-timestamp-int96/delta");
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, root, NULL, &s), CA_OK);
    char *sql = NULL;
    assert_int_equal(ca_delta_scan_sql(s, NULL, &sql, NULL), CA_OK);
    ca_delta__set_trace(g_ctx, NULL);
    assert_int_equal(ca_trace_close(tr), CA_OK);
    char *text = NULL;
    assert_int_equal(ca_fs_read_file(ca_fs_posix(), path, 0, &text, NULL), CA_OK);
    assert_non_null(strstr(text, "delta.snapshot_load"));
    assert_non_null(strstr(text, "delta.scan_build"));
    ca__free(text);
    unlink(path);
    /* a table with timestamp columns needs TimeZone = 'UTC' */
    int64_t n = 0;
    assert_int_equal(ca_duck_exec(g_conn, "SET TimeZone = 'America/New_York'"), CA_OK);
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "SELECT count(*) FROM (%s)", sql);
    int rc = query_count(ca_buf_cstr(&b), &n);
    assert_int_equal(ca_duck_exec(g_conn, "SET TimeZone = 'UTC'"), CA_OK);
    assert_int_equal(rc, CA_E_DUCKDB);
    assert_non_null(strstr(ca_error_last()->message, "delta_timezone"));
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 5);
    ca_buf_free(&b);
    ca_free(sql);
    ca_delta_snapshot_close(s);
    free(root);
}

static void test_verify_crc(void **state)
{
    (void)state;
    ca_duck_db *db3 = NULL;
    ca_delta_ctx *ctx3 = NULL;
    ca_duck_config cfg = {NULL, 1, "1GB", NULL, "UTC"};
    ca_delta_ctx_options o = CA_DELTA_CTX_OPTIONS_INIT;
    o.verify_crc = true;
    assert_int_equal(ca_duck_open(&cfg, &db3), CA_OK);
    assert_int_equal(ca_delta_ctx_new(db3, NULL, &o, &ctx3), CA_OK);
    const char *tables[] = {"delta-repo/kernel-timestamp-partition-col-ISO8601",
                            "delta-repo/commit-info-containing-arbitrary-operationParams-types"};
    for (size_t i = 0; i < 2; i++) {
        char *root = fixture_path(tables[i]);
        ca_delta_snapshot *s = NULL;
        if (ca_delta_table_open(ctx3, root, NULL, &s))
            fail_msg("%s: %s", tables[i], ca_error_last()->message);
        ca_delta_snapshot_close(s);
        free(root);
    }
    char *t = make_table();
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cp -r '%s/%s/.' '%s/' && sed -i 's/\"numFiles\":2/\"numFiles\":3/' '%s/_delta_log/00000000000000000000.crc'",
             FIXTURES, tables[0], t, t);
    assert_int_equal(system(cmd), 0);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(ctx3, t, NULL, &s), CA_E_DELTA_CORRUPT);
    assert_non_null(strstr(ca_error_last()->message, "numFiles is 3, the replayed state has 2"));
    ca_delta_ctx_free(ctx3);
    ca_duck_close(db3);
    remove_tree(t);
    free(t);
}

/* "latest" after new commits: replayed from the cached older snapshot. */
static void test_incremental_latest(void **state)
{
    (void)state;
    char *t = make_table();
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s%s{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n",
                  PROTO, META);
    write_commit(t, 0, ca_buf_cstr(&b), 0);
    ca_delta_snapshot *s = NULL;
    assert_int_equal(open_at(t, -1, NULL, &s), CA_OK);
    assert_int_equal(ca_delta_snapshot_file_count(s), 1);
    ca_delta_snapshot_close(s);
    write_commit(t, 1, "{\"remove\":{\"path\":\"a\",\"deletionTimestamp\":5,\"dataChange\":true}}\n"
                       "{\"add\":{\"path\":\"b\",\"partitionValues\":{},\"size\":2,\"modificationTime\":1,\"dataChange\":true}}\n",
                 0);
    write_commit(t, 2, "{\"add\":{\"path\":\"c\",\"partitionValues\":{},\"size\":4,\"modificationTime\":1,\"dataChange\":true}}\n"
                       "{\"txn\":{\"appId\":\"app\",\"version\":7}}\n",
                 0);
    assert_int_equal(open_at(t, -1, NULL, &s), CA_OK);
    assert_int_equal(ca_delta_snapshot_version(s), 2);
    ca_delta_add_action *a = NULL;
    size_t n = 0;
    assert_int_equal(ca_delta_add_actions(s, &a, &n), CA_OK);
    assert_int_equal(n, 2);
    assert_string_equal(a[0].path, "b");
    assert_string_equal(a[1].path, "c");
    ca_delta_add_actions_free(a, n);
    ca_delta_snapshot_info *info = NULL;
    assert_int_equal(ca_delta_snapshot_info_get(s, &info), CA_OK);
    assert_int_equal(info->num_bytes, 6);
    ca_delta_snapshot_info_free(info);
    ca_delta_snapshot_close(s);
    /* the cached version 0 is untouched */
    assert_int_equal(open_at(t, 0, NULL, &s), CA_OK);
    assert_int_equal(ca_delta_snapshot_file_count(s), 1);
    ca_delta_snapshot_close(s);
    ca_buf_free(&b);
    remove_tree(t);
    free(t);
}

static void test_scan_columns(void **state)
{
    (void)state;
    char *root = fixture_path("kernel-rs-golden/basic-decimal-table-legacy/delta");
    ca_delta_snapshot *s = NULL;
    assert_int_equal(ca_delta_table_open(g_ctx, root, NULL, &s), CA_OK);
    const char *cols[] = {"PART", "__source_file"};
    ca_delta_scan_options o = CA_DELTA_SCAN_OPTIONS_INIT;
    o.columns = cols;
    o.n_columns = 2;
    o.lineage = true;
    o.filter = "part > 0";
    char *sql = NULL;
    assert_int_equal(ca_delta_scan_sql(s, &o, &sql, NULL), CA_OK);
    ca_duck_result *r = NULL;
    assert_int_equal(ca_duck_query(g_conn, sql, &r), CA_OK);
    assert_int_equal(ca_duck_result_column_count(r), 2);
    assert_string_equal(ca_duck_result_column_name(r, 0), "part");
    assert_string_equal(ca_duck_result_column_name(r, 1), "__source_file");
    ca_duck_result_free(r);
    ca_buf b = CA_BUF_INIT;
    int64_t n = 0;
    ca_buf_printf(&b, "SELECT count(*) FROM (%s)", sql);
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 3); /* part: -2342342.23423, 0.00004, 234.00000, 2342222.23454 */
    ca_buf_free(&b);
    ca_free(sql);
    const char *bad[] = {"nope"};
    o.columns = bad;
    o.n_columns = 1;
    assert_int_equal(ca_delta_scan_sql(s, &o, &sql, NULL), CA_E_INVALID);
    ca_delta_snapshot_close(s);
    free(root);
}

/* Robustness (a poor man's fuzzer, replayed under ASan): every truncation and many byte flips
 * of a commit, _last_checkpoint and an inline DV give OK or a Delta error, never a crash. */
static void test_mangled_inputs(void **state)
{
    (void)state;
    char *src = NULL;
    size_t len = 0;
    char *p = fixture_path("delta-repo/basic-dv-no-checkpoint/_delta_log/00000000000000000001.json");
    assert_int_equal(ca_fs_read_file(ca_fs_posix(), p, 0, &src, &len), CA_OK);
    free(p);
    char *t = make_table();
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s%s{\"add\":{\"path\":\"part-00000-a489737f-d477-4d9a-8b4a-bd6a6536df5b-c000.snappy.parquet\","
                      "\"partitionValues\":{},\"size\":500,\"modificationTime\":1,\"dataChange\":true}}\n",
                  PROTO, META);
    write_commit(t, 0, ca_buf_cstr(&b), 0);
    char *m = malloc(len + 1);
    uint32_t seed = 12345;
    for (size_t k = 0; k < len + 300; k++) {
        memcpy(m, src, len);
        size_t n = len;
        if (k < len) {
            n = k; /* truncation */
        } else {
            for (int f = 0; f < 3; f++) {
                seed = seed * 1103515245u + 12345u;
                m[(seed >> 8) % len] = (char)(seed >> 24);
            }
        }
        m[n] = 0;
        char path[4096];
        snprintf(path, sizeof path, "%s/_delta_log/%020d.json", t, 1);
        FILE *f = fopen(path, "wb");
        fwrite(m, 1, n, f);
        fclose(f);
        ca_delta_snapshot *s = NULL;
        int rc = open_at(t, 1, NULL, &s);
        if (rc != CA_OK && !(rc <= CA_E_DELTA_NOT_A_TABLE && rc >= CA_E_DELTA_FS_UNSUPPORTED))
            fail_msg("offset %zu: %s: %s", k, ca_error_name(rc), ca_error_last()->message);
        ca_delta_snapshot_close(s);
    }
    /* _last_checkpoint garbage is a warning, never an error */
    char path[4096];
    snprintf(path, sizeof path, "%s/_delta_log/_last_checkpoint", t);
    const char *lcs[] = {"", "{", "[]", "{\"version\":\"x\"}", "{\"version\":0,\"checksum\":\"00\"}",
                         "{\"version\":99999999999999999999999}", "{\"version\":0,\"size\":5,\"parts\":-1}"};
    for (size_t i = 0; i < sizeof lcs / sizeof *lcs; i++) {
        FILE *f = fopen(path, "wb");
        fputs(lcs[i], f);
        fclose(f);
        ca_delta_snapshot *s = NULL;
        if (open_at(t, 0, NULL, &s))
            fail_msg("_last_checkpoint '%s': %s", lcs[i], ca_error_last()->message);
        ca_delta_snapshot_close(s);
        char sum[33];
        (void)ca_delta__json_checksum(lcs[i], strlen(lcs[i]), sum);
    }
    /* inline DV bytes */
    char dvtext[] = "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L";
    for (size_t k = 0; k < 400; k++) {
        char d[sizeof dvtext];
        memcpy(d, dvtext, sizeof dvtext);
        seed = seed * 1103515245u + 12345u;
        d[(seed >> 8) % (sizeof dvtext - 1)] = "0123456789abcdefghij.-:+=^!/*?&<>()[]{}@%$#"[(seed >> 20) % 43];
        dl_dv dv = {'i', d, 0, false, (int32_t)((seed >> 16) % 48), 6};
        dl_bitmap *bm = NULL;
        int rc = ca_delta__dv_load(ca_fs_posix(), "/x", "f", &dv, &bm);
        assert_true(rc == CA_OK || rc == CA_E_DELTA_DV);
        ca_delta__dv_free(bm);
    }
    free(m);
    ca__free(src);
    ca_buf_free(&b);
    remove_tree(t);
    free(t);
}

/* The column lists documented in docs/internals/delta.md (the spec compiler relies on them). */
static void test_sql_column_lists(void **state)
{
    (void)state;
    char *root = fixture_path("delta-repo/basic-dv-no-checkpoint");
    char *q = ca_duck_quote_literal(root);
    static const struct { const char *fn, *cols; } want[] = {
        {"delta_snapshot(%s)",
         "root VARCHAR, version BIGINT, commit_timestamp TIMESTAMP WITH TIME ZONE, min_reader_version INTEGER, "
         "min_writer_version INTEGER, reader_features VARCHAR[], writer_features VARCHAR[], metadata_id VARCHAR, "
         "name VARCHAR, description VARCHAR, format_provider VARCHAR, schema JSON, partition_columns VARCHAR[], "
         "configuration MAP(VARCHAR, VARCHAR), created_time TIMESTAMP WITH TIME ZONE, num_files BIGINT, "
         "num_bytes BIGINT, num_records BIGINT, num_files_without_records BIGINT, num_dv_files BIGINT, "
         "checkpoint_version BIGINT"},
        {"delta_add_actions(%s)",
         "path VARCHAR, size BIGINT, modification_time TIMESTAMP WITH TIME ZONE, data_change BOOLEAN, "
         "partition_values MAP(VARCHAR, VARCHAR), stats JSON, num_records BIGINT, tags MAP(VARCHAR, VARCHAR), "
         "deletion_vector STRUCT(storage_type VARCHAR, path_or_inline_dv VARCHAR, \"offset\" INTEGER, "
         "size_in_bytes INTEGER, cardinality BIGINT)"},
        {"delta_history(%s)",
         "version BIGINT, timestamp TIMESTAMP WITH TIME ZONE, operation VARCHAR, operation_parameters JSON, "
         "operation_metrics JSON, user_metadata VARCHAR, custom JSON, commit_info JSON, engine_info VARCHAR, "
         "read_version BIGINT, is_blind_append BOOLEAN"},
        {"read_delta(%s, lineage := true)", "id BIGINT, __source_file VARCHAR"},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        ca_buf f = CA_BUF_INIT, b = CA_BUF_INIT;
        ca_buf_printf(&f, want[i].fn, q);
        ca_buf_printf(&b, "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM %s)",
                      ca_buf_cstr(&f));
        char *got = NULL;
        if (ca_duck_query_text(g_conn, ca_buf_cstr(&b), &got))
            fail_msg("%s: %s", ca_buf_cstr(&f), ca_error_last()->message);
        assert_string_equal(got, want[i].cols);
        ca__free(got);
        ca_buf_free(&f);
        ca_buf_free(&b);
    }
    /* read_delta_cdf */
    {
        char *cr = fixture_path("delta-repo/commit-info-containing-arbitrary-operationParams-types");
        char *cq = ca_duck_quote_literal(cr);
        ca_buf b2 = CA_BUF_INIT;
        ca_buf_printf(&b2, "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM "
                           "(DESCRIBE SELECT * FROM read_delta_cdf(%s, 0, NULL))", cq);
        char *got = NULL;
        if (ca_duck_query_text(g_conn, ca_buf_cstr(&b2), &got))
            fail_msg("read_delta_cdf: %s", ca_error_last()->message);
        assert_string_equal(got, "id INTEGER, month INTEGER, _change_type VARCHAR, _commit_version BIGINT, "
                                 "_commit_timestamp TIMESTAMP WITH TIME ZONE");
        ca__free(got);
        ca_buf_free(&b2);
        ca__free(cq);
        free(cr);
    }
    /* values of the DV file row */
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "SELECT deletion_vector.cardinality FROM delta_add_actions(%s) WHERE deletion_vector IS NOT NULL", q);
    int64_t n = 0;
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 2);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT num_records FROM delta_snapshot(%s)", q);
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 8); /* 10 records minus 2 deleted */
    ca_buf_free(&b);
    ca__free(q);
    free(root);
}

static void cdf_rows(const char *t, const char *args, const char *want)
{
    char *q = ca_duck_quote_literal(t);
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "SELECT string_agg(concat_ws(':', id, month, _change_type, _commit_version), ' ' "
                      "ORDER BY _commit_version, _change_type, id) FROM read_delta_cdf(%s, %s)", q, args);
    char *got = NULL;
    if (ca_duck_query_text(g_conn, ca_buf_cstr(&b), &got))
        fail_msg("%s: %s", args, ca_error_last()->message);
    if (strcmp(got ? got : "", want) != 0)
        fail_msg("%s: got '%s', want '%s'", args, got ? got : "", want);
    ca__free(got);
    ca_buf_free(&b);
    ca__free(q);
}

static void test_cdf(void **state)
{
    (void)state;
    char *t = make_table();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp -r '%s/delta-repo/commit-info-containing-arbitrary-operationParams-types/.' '%s/'",
             FIXTURES, t);
    assert_int_equal(system(cmd), 0);
    cdf_rows(t, "0, NULL", "1:1:insert:0 2:2:insert:1"); /* v2 is OPTIMIZE: dataChange false */
    cdf_rows(t, "'1970-01-01T00:00:00Z', 1", "1:1:insert:0 2:2:insert:1");
    /* v3 deletes the month=1 file; v4 has change files (its add is then ignored) */
    write_commit(t, 3, "{\"commitInfo\":{}}\n{\"remove\":{\"path\":\"month=1/part-00000-c5babbd8-6013-484c-818f-22d546976866.c000.snappy.parquet\","
                       "\"deletionTimestamp\":1,\"dataChange\":true,\"partitionValues\":{\"month\":\"1\"},\"size\":452}}\n", 0);
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "COPY (SELECT * FROM (VALUES (5, 'insert'), (6, 'update_preimage'), (7, 'update_postimage')) "
                      "v(id, _change_type)) TO '%s/_change_data/cdc-1.parquet' (FORMAT parquet)", t);
    snprintf(cmd, sizeof cmd, "%s/_change_data", t);
    assert_int_equal(mkdir(cmd, 0755), 0);
    assert_int_equal(ca_duck_exec(g_conn, ca_buf_cstr(&b)), CA_OK);
    write_commit(t, 4, "{\"commitInfo\":{\"inCommitTimestamp\":1800000000000}}\n"
                       "{\"cdc\":{\"path\":\"_change_data/cdc-1.parquet\",\"partitionValues\":{\"month\":\"3\"},\"size\":1,\"dataChange\":false}}\n"
                       "{\"add\":{\"path\":\"month=2/part-00000-129a0441-5f41-4e46-be33-fd0289e53614.c000.snappy.parquet\","
                       "\"partitionValues\":{\"month\":\"2\"},\"size\":452,\"modificationTime\":1,\"dataChange\":true}}\n", 0);
    cdf_rows(t, "3, 4", "1:1:delete:3 5:3:insert:4 7:3:update_postimage:4 6:3:update_preimage:4");
    /* the commit timestamp of v4 is its inCommitTimestamp */
    char *q = ca_duck_quote_literal(t);
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT epoch_ms(max(_commit_timestamp)) FROM read_delta_cdf(%s, 4, 4)", q);
    int64_t n = 0;
    sql_ok(ca_buf_cstr(&b), &n);
    assert_int_equal(n, 1800000000000LL);
    /* start after end, version beyond the latest */
    ca_buf_clear(&b);
    ca_buf_printf(&b, "SELECT count(*) FROM read_delta_cdf(%s, 4, 3)", q);
    assert_int_equal(query_count(ca_buf_cstr(&b), &n), CA_E_DUCKDB);
    assert_non_null(strstr(ca_error_last()->message, "delta_cdf"));
    char *sql = NULL;
    assert_int_equal(ca_delta_cdf_sql(g_ctx, t, "0", "9", &sql), CA_E_DELTA_VERSION);
    /* the feed turned off at v5 */
    write_commit(t, 5, "{\"metaData\":{\"id\":\"da00fe29-8b6e-4f3b-b91f-a3729283bc1a\",\"format\":{\"provider\":\"parquet\",\"options\":{}},"
                       "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},"
                       "{\\\"name\\\":\\\"month\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\","
                       "\"partitionColumns\":[\"month\"],\"configuration\":{}}}\n", 0);
    assert_int_equal(ca_delta_cdf_sql(g_ctx, t, "3", "5", &sql), CA_E_DELTA_CDF);
    assert_non_null(strstr(ca_error_last()->message, "version 5"));
    assert_int_equal(ca_delta_cdf_sql(g_ctx, t, "3", "4", &sql), CA_OK);
    ca_free(sql);
    /* a cleaned-up commit */
    snprintf(cmd, sizeof cmd, "%s/_delta_log/00000000000000000001.json", t);
    assert_int_equal(unlink(cmd), 0);
    assert_int_equal(ca_delta_cdf_sql(g_ctx, t, "1", "3", &sql), CA_E_DELTA_CDF);
    assert_non_null(strstr(ca_error_last()->message, "cleaned up"));
    ca__free(q);
    ca_buf_free(&b);
    remove_tree(t);
    free(t);
}

static void test_dv_corruption(void **state)
{
    (void)state;
    char *t = make_table();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp -r '%s/delta-repo/basic-dv-no-checkpoint/.' '%s/'", FIXTURES, t);
    assert_int_equal(system(cmd), 0);
    int64_t n = -1;
    assert_int_equal(count_delta(t, -1, &n), CA_OK);
    assert_int_equal(n, 8);
    /* flip one byte of the bitmap: the CRC catches it */
    snprintf(cmd, sizeof cmd, "%s/deletion_vector_899cef78-06b3-4c14-b024-03860e62cd40.bin", t);
    FILE *f = fopen(cmd, "r+b");
    assert_non_null(f);
    fseek(f, 12, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 12, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
    /* a fresh context: the registry of g_ctx caches decoded bitmaps */
    ca_delta_ctx *ctx2 = NULL;
    ca_duck_db *db2 = NULL;
    ca_duck_conn *c2 = NULL;
    ca_duck_config cfg = {NULL, 1, "1GB", NULL, "UTC"};
    assert_int_equal(ca_duck_open(&cfg, &db2), CA_OK);
    assert_int_equal(ca_delta_ctx_new(db2, NULL, NULL, &ctx2), CA_OK);
    assert_int_equal(ca_duck_connect(db2, &c2), CA_OK);
    assert_int_equal(ca_delta_register_sql(ctx2, c2), CA_OK);
    char *q = ca_duck_quote_literal(t);
    snprintf(cmd, sizeof cmd, "SELECT count(*) FROM read_delta(%s)", q);
    bool is_null;
    assert_int_equal(ca_duck_query_int64(c2, cmd, &n, &is_null), CA_E_DUCKDB);
    assert_non_null(strstr(ca_error_last()->message, "delta_dv"));
    assert_non_null(strstr(ca_error_last()->message, "CRC"));
    ca__free(q);
    ca_duck_disconnect(c2);
    ca_delta_ctx_free(ctx2);
    ca_duck_close(db2);
    remove_tree(t);
    free(t);
}

int main(void)
{
    json_error_t jerr;
    g_manifest = json_load_file(FIXTURES "/manifest.json", 0, &jerr);
    if (!g_manifest) {
        fprintf(stderr, "manifest: %s\n", jerr.text);
        return 1;
    }
    json_t *tables = json_object_get(g_manifest, "tables");
    size_t nt = json_array_size(tables);
    size_t n_static = 40;
    struct CMUnitTest *tests = calloc(nt + n_static, sizeof *tests);
    char **names = calloc(nt, sizeof *names);
    size_t k = 0;
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_z85);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_inline_dv);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_names);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_checksum);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_not_a_table);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_corrupt_logs);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_protocol_checks);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_timestamp_travel);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_dv_corruption);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_pruning);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_fs_faults);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_ict_travel);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_concurrent_readers);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_nested_field_ids);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_trace_and_timezone);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_verify_crc);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_incremental_latest);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_scan_columns);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_mangled_inputs);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_sql_column_lists);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_cdf);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_sql_functions);
    for (size_t i = 0; i < nt; i++) {
        json_t *t = json_array_get(tables, i);
        const char *expect = json_string_value(json_object_get(t, "expect"));
        const char *name = json_string_value(json_object_get(t, "name"));
        names[i] = malloc(strlen(name) + 32);
        sprintf(names[i], "%s/%s", expect, name);
        CMUnitTestFunction fn = strcmp(expect, "read_ok") == 0       ? test_read_ok
                                : strcmp(expect, "error") == 0       ? test_error
                                                                     : test_unsupported;
        tests[k++] = (struct CMUnitTest){names[i], fn, NULL, NULL, t};
    }
    int rc = _cmocka_run_group_tests("delta", tests, k, group_setup, group_teardown);
    for (size_t i = 0; i < nt; i++)
        free(names[i]);
    free(names);
    free(tests);
    json_decref(g_manifest);
    return rc;
}
