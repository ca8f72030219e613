/* The DuckDB wall: settings, queries, streaming results, types, statements, appenders, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/duck/duck.h"
#include "util/alloc.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct fixture {
    ca_duck_db *db;
    ca_duck_conn *conn;
    char dir[64];
} fixture;

static int hook_calls;
static int count_hook(ca_duck_conn *conn, void *ctx)
{
    (void)conn;
    (void)ctx;
    hook_calls++;
    return CA_OK;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ca-test-duck-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    ca_duck_config cfg = {.threads = 2, .memory_limit = "1GB", .temp_dir = f->dir};
    if (ca_duck_open(&cfg, &f->db) || ca_duck_connect(f->db, &f->conn))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ca_duck_disconnect(f->conn);
    ca_duck_close(f->db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static char *text_of(ca_duck_conn *c, const char *sql)
{
    char *t = NULL;
    assert_int_equal(ca_duck_query_text(c, sql, &t), CA_OK);
    return t;
}

static void expect_setting(ca_duck_conn *c, const char *name, const char *want)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT current_setting('%s')", name);
    char *t = text_of(c, sql);
    assert_non_null(t);
    assert_string_equal(t, want);
    ca__free(t);
}

static void test_settings_are_applied(void **state)
{
    fixture *f = *state;
    expect_setting(f->conn, "autoinstall_known_extensions", "false");
    expect_setting(f->conn, "autoload_known_extensions", "false");
    expect_setting(f->conn, "threads", "2");
    expect_setting(f->conn, "TimeZone", "UTC");
    char want[128];
    snprintf(want, sizeof want, "%s/extensions", f->dir);
    expect_setting(f->conn, "extension_directory", want);
}

static void test_install_never_reaches_the_network(void **state)
{
    fixture *f = *state;
    time_t t0 = time(NULL);
    assert_int_equal(ca_duck_exec(f->conn, "INSTALL spatial"), CA_E_DUCKDB);
    assert_int_equal(ca_duck_exec(f->conn, "LOAD spatial"), CA_E_DUCKDB);
    assert_int_equal(ca_duck_exec(f->conn, "SELECT * FROM st_read('x.shp')"), CA_E_DUCKDB);
    assert_true(time(NULL) - t0 < 10);
    assert_non_null(strstr(ca_error_last()->message, "spatial"));
    char home_duckdb[512];
    snprintf(home_duckdb, sizeof home_duckdb, "%s/.duckdb", getenv("HOME") ? getenv("HOME") : "/nonexistent");
    struct stat st;
    assert_int_not_equal(stat(home_duckdb, &st), 0);
}

static void test_builtin_extensions_work(void **state)
{
    fixture *f = *state;
    char *t = text_of(f->conn, "SELECT json_extract('{\"a\": 5}', '$.a')");
    assert_string_equal(t, "5");
    ca__free(t);
    char path[128];
    snprintf(path, sizeof path, "%s/t.parquet", f->dir);
    assert_int_equal(ca_duck_execf(f->conn, "COPY (SELECT range AS i FROM range(10)) TO '%s' (FORMAT parquet)", path), CA_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT sum(i) FROM read_parquet('%s')", path);
    int64_t v = 0;
    assert_int_equal(ca_duck_query_int64(f->conn, sql, &v, NULL), CA_OK);
    assert_int_equal(v, 45);
}

static void test_errors_copy_duckdb_text(void **state)
{
    fixture *f = *state;
    ca_duck_result *r = NULL;
    assert_int_equal(ca_duck_query(f->conn, "SELEC 1", &r), CA_E_DUCKDB);
    assert_null(r);
    assert_string_equal(ca_error_last()->module, "duck");
    assert_non_null(strstr(ca_error_last()->message, "syntax error"));
    assert_int_equal(ca_duck_query(f->conn, "SELECT * FROM no_such_table", &r), CA_E_DUCKDB);
    assert_non_null(strstr(ca_error_last()->message, "no_such_table"));
}

static void test_streaming_result_over_many_chunks(void **state)
{
    fixture *f = *state;
    ca_duck_result *r = NULL;
    assert_int_equal(ca_duck_query(f->conn, "CREATE TEMP TABLE x AS SELECT 1 AS a; SELECT range AS i, range::VARCHAR || '-long-string-value' AS s FROM range(10000)", &r), CA_OK);
    assert_int_equal(ca_duck_result_column_count(r), 2);
    assert_string_equal(ca_duck_result_column_name(r, 0), "i");
    assert_int_equal(ca_duck_result_column_type(r, 0), CA_DUCK_BIGINT);
    assert_string_equal(ca_duck_result_column_type_text(r, 1), "VARCHAR");
    int64_t sum = 0, rows = 0;
    size_t chunks = 0;
    for (;;) {
        ca_duck_chunk *c = NULL;
        assert_int_equal(ca_duck_result_next_chunk(r, &c), CA_OK);
        if (!c)
            break;
        chunks++;
        size_t n = ca_duck_chunk_size(c);
        const int64_t *iv = ca_duck_vec_data(ca_duck_chunk_vector(c, 0));
        const ca_duck_str *sv = ca_duck_vec_data(ca_duck_chunk_vector(c, 1));
        for (size_t k = 0; k < n; k++) {
            char want[64];
            int len = snprintf(want, sizeof want, "%lld-long-string-value", (long long)iv[k]);
            assert_int_equal(ca_duck_str_len(&sv[k]), len);
            assert_memory_equal(ca_duck_str_data(&sv[k]), want, (size_t)len);
            sum += iv[k];
        }
        rows += (int64_t)n;
        ca_duck_chunk_free(c);
    }
    ca_duck_result_free(r);
    assert_int_equal(rows, 10000);
    assert_int_equal(sum, 49995000);
    assert_true(chunks >= 10000 / ca_duck_vector_capacity());
    int64_t one = 0;
    assert_int_equal(ca_duck_query_int64(f->conn, "SELECT a FROM x", &one, NULL), CA_OK);
    assert_int_equal(one, 1);
}

static void test_type_text_of_nested_types(void **state)
{
    fixture *f = *state;
    ca_duck_result *r = NULL;
    assert_int_equal(ca_duck_query(f->conn,
        "SELECT [1,2]::INTEGER[] AS l, {'a': 1, 'b c': 'x'} AS s, MAP {'k': 1.5} AS m, "
        "1.25::DECIMAL(18,3) AS d, [1,2,3]::INTEGER[3] AS a, NULL AS n, 'x'::ENUM('x','y') AS e", &r), CA_OK);
    assert_string_equal(ca_duck_result_column_type_text(r, 0), "INTEGER[]");
    assert_string_equal(ca_duck_result_column_type_text(r, 1), "STRUCT(\"a\" INTEGER, \"b c\" VARCHAR)");
    assert_string_equal(ca_duck_result_column_type_text(r, 2), "MAP(VARCHAR, DECIMAL(2,1))");
    assert_string_equal(ca_duck_result_column_type_text(r, 3), "DECIMAL(18,3)");
    assert_string_equal(ca_duck_result_column_type_text(r, 4), "INTEGER[3]");
    assert_string_equal(ca_duck_result_column_type_text(r, 5), "INTEGER"); /* DuckDB types a bare NULL column as INTEGER */
    assert_string_equal(ca_duck_result_column_type_text(r, 6), "ENUM('x', 'y')");
    ca_duck_result_free(r);
}

static void test_prepared_statements_bind_and_rerun(void **state)
{
    fixture *f = *state;
    ca_duck_stmt *s = NULL;
    assert_int_equal(ca_duck_prepare(f->conn, "SELECT $1::BIGINT + 1, $2 || '!', $3 IS NULL, octet_length($4)", &s), CA_OK);
    assert_int_equal(ca_duck_stmt_param_count(s), 4);
    for (int64_t i = 0; i < 3; i++) {
        assert_int_equal(ca_duck_stmt_bind_int64(s, 1, i), CA_OK);
        assert_int_equal(ca_duck_stmt_bind_text(s, 2, "ab\0c", 2), CA_OK);
        assert_int_equal(ca_duck_stmt_bind_null(s, 3), CA_OK);
        assert_int_equal(ca_duck_stmt_bind_blob(s, 4, "\0\1\2", 3), CA_OK);
        ca_duck_result *r = NULL;
        assert_int_equal(ca_duck_stmt_execute(s, &r), CA_OK);
        ca_duck_chunk *c = NULL;
        assert_int_equal(ca_duck_result_next_chunk(r, &c), CA_OK);
        assert_int_equal(((int64_t *)ca_duck_vec_data(ca_duck_chunk_vector(c, 0)))[0], i + 1);
        const ca_duck_str *str = ca_duck_vec_data(ca_duck_chunk_vector(c, 1));
        assert_int_equal(ca_duck_str_len(str), 3);
        assert_memory_equal(ca_duck_str_data(str), "ab!", 3);
        assert_true(((bool *)ca_duck_vec_data(ca_duck_chunk_vector(c, 2)))[0]);
        assert_int_equal(((int64_t *)ca_duck_vec_data(ca_duck_chunk_vector(c, 3)))[0], 3);
        ca_duck_chunk_free(c);
        ca_duck_result_free(r);
    }
    assert_int_equal(ca_duck_stmt_bind_int64(s, 9, 1), CA_E_DUCKDB);
    ca_duck_stmt_free(s);
    assert_int_equal(ca_duck_prepare(f->conn, "SELECT * FROM nope", &s), CA_E_DUCKDB);
    assert_null(s);
}

static void test_appender_rows_and_errors(void **state)
{
    fixture *f = *state;
    assert_int_equal(ca_duck_exec(f->conn, "CREATE TABLE ap (a INTEGER, b BIGINT, c VARCHAR, d DOUBLE, e BOOLEAN, g BLOB)"), CA_OK);
    ca_duck_appender *a = NULL;
    assert_int_equal(ca_duck_appender_open(f->conn, NULL, "ap", &a), CA_OK);
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(ca_duck_append_int32(a, i), CA_OK);
        assert_int_equal(ca_duck_append_int64(a, (int64_t)i * 1000000000LL), CA_OK);
        if (i % 2)
            assert_int_equal(ca_duck_append_null(a), CA_OK);
        else
            assert_int_equal(ca_duck_append_text(a, "héllo", strlen("héllo")), CA_OK);
        assert_int_equal(ca_duck_append_double(a, i * 0.5), CA_OK);
        assert_int_equal(ca_duck_append_bool(a, i % 3 == 0), CA_OK);
        assert_int_equal(ca_duck_append_blob(a, "\x00\xff", 2), CA_OK);
        assert_int_equal(ca_duck_append_end_row(a), CA_OK);
    }
    assert_int_equal(ca_duck_appender_close(a), CA_OK);
    int64_t v = 0;
    assert_int_equal(ca_duck_query_int64(f->conn, "SELECT count(*) FILTER (c IS NULL) * 100000 + sum(a) % 100000 FROM ap", &v, NULL), CA_OK);
    assert_int_equal(v, 2500LL * 100000 + (4999LL * 5000 / 2) % 100000);
    assert_int_equal(ca_duck_appender_open(f->conn, NULL, "missing_table", &a), CA_E_DUCKDB);
    assert_null(a);
    assert_non_null(strstr(ca_error_last()->message, "missing_table"));
}

static void test_connect_hook_runs_for_every_connection(void **state)
{
    fixture *f = *state;
    hook_calls = 0;
    ca_duck_set_connect_hook(f->db, count_hook, NULL);
    ca_duck_conn *c1 = NULL, *c2 = NULL;
    assert_int_equal(ca_duck_connect(f->db, &c1), CA_OK);
    assert_int_equal(ca_duck_connect(f->db, &c2), CA_OK);
    assert_int_equal(hook_calls, 2);
    expect_setting(c2, "TimeZone", "UTC");
    ca_duck_disconnect(c1);
    ca_duck_disconnect(c2);
    ca_duck_set_connect_hook(f->db, NULL, NULL);
}

static void test_quoting_and_dates(void **state)
{
    (void)state;
    char *q = ca_duck_quote_ident("a\"b");
    assert_string_equal(q, "\"a\"\"b\"");
    ca__free(q);
    q = ca_duck_quote_literal("it's");
    assert_string_equal(q, "'it''s'");
    ca__free(q);
    int32_t y;
    int8_t m, d;
    ca_duck_date_parts(19723, &y, &m, &d); /* 2024-01-01 */
    assert_int_equal(y, 2024);
    assert_int_equal(m, 1);
    assert_int_equal(d, 1);
    assert_non_null(strstr(ca_duck_library_version(), "1.4.4"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_settings_are_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_install_never_reaches_the_network, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builtin_extensions_work, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_copy_duckdb_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streaming_result_over_many_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_text_of_nested_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepared_statements_bind_and_rerun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appender_rows_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_hook_runs_for_every_connection, setup, teardown),
        cmocka_unit_test(test_quoting_and_dates),
    };
    return cmocka_run_group_tests_name("duck", tests, NULL, NULL);
}
