/*
 * The cell renderer (src/lib/duck/value.c). The display form is checked against DuckDB itself:
 * every case selects a value and its CAST(... AS VARCHAR) in one query and compares the
 * renderer's text for the first column with DuckDB's text in the second, over fixed edge cases
 * and over thousands of seeded random values. The JSON form is checked against literals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/duck/duck.h"
#include "lib/duck/value.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    ca_duck_db *db;
    ca_duck_conn *conn;
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ca-test-value-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    ca_duck_config cfg = {.threads = 2, .memory_limit = "1GB", .temp_dir = f->dir};
    if (ca_duck_open(&cfg, &f->db) || ca_duck_connect(f->db, &f->conn))
        return -1;
    /* reproducible "random" values */
    if (ca_duck_exec(f->conn, "SELECT setseed(0.4242)"))
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

/* Runs "SELECT x, x::VARCHAR FROM (<source>)" and checks the renderer's text of every x against
 * DuckDB's VARCHAR cast of it. Returns the number of rows checked. */
static size_t check_display(fixture *f, const char *source)
{
    ca_buf sql = CA_BUF_INIT;
    ca_buf_printf(&sql, "SELECT x, x::VARCHAR AS t FROM (%s) AS s", source);
    ca_duck_result *r = NULL;
    int rc = ca_duck_query(f->conn, ca_buf_cstr(&sql), &r);
    if (rc)
        print_error("query failed: %s\n  %s\n", ca_error_last()->message, ca_buf_cstr(&sql));
    assert_int_equal(rc, CA_OK);
    ca_duck_vtype *vt = NULL;
    assert_int_equal(ca_duck_vtype_new(ca_duck_result_column_ltype(r, 0), &vt), CA_OK);
    size_t rows = 0, bad = 0;
    ca_buf got = CA_BUF_INIT;
    for (;;) {
        ca_duck_chunk *c = NULL;
        assert_int_equal(ca_duck_result_next_chunk(r, &c), CA_OK);
        if (!c)
            break;
        ca_duck_vec *x = ca_duck_chunk_vector(c, 0), *t = ca_duck_chunk_vector(c, 1);
        const ca_duck_str *ts = ca_duck_vec_data(t);
        for (size_t i = 0; i < ca_duck_chunk_size(c); i++, rows++) {
            bool xnull = ca_duck_value_is_null(x, i), tnull = ca_duck_value_is_null(t, i);
            assert_int_equal(xnull, tnull);
            if (xnull)
                continue;
            ca_buf_clear(&got);
            rc = ca_duck_value_text(&got, vt, x, i);
            if (rc)
                print_error("render failed for %s: %s\n", source, ca_error_last()->message);
            assert_int_equal(rc, CA_OK);
            const char *want = ca_duck_str_data(&ts[i]);
            size_t wlen = ca_duck_str_len(&ts[i]);
            if (got.len != wlen || memcmp(ca_buf_cstr(&got), want, wlen) != 0) {
                if (bad++ < 10)
                    print_error("display mismatch for %s\n  duckdb: [%.*s]\n  ours:   [%s]\n", source,
                                (int)wlen, want, ca_buf_cstr(&got));
            }
        }
        ca_duck_chunk_free(c);
    }
    ca_buf_free(&got);
    ca_duck_vtype_free(vt);
    ca_duck_result_free(r);
    ca_buf_free(&sql);
    assert_int_equal(bad, 0);
    assert_true(rows > 0);
    return rows;
}

/* The JSON text of the single value "SELECT <expr>". */
static void check_json(fixture *f, const char *expr, const char *want)
{
    ca_buf sql = CA_BUF_INIT;
    ca_buf_printf(&sql, "SELECT %s", expr);
    ca_duck_result *r = NULL;
    int rc = ca_duck_query(f->conn, ca_buf_cstr(&sql), &r);
    if (rc)
        print_error("query failed: %s\n  %s\n", ca_error_last()->message, ca_buf_cstr(&sql));
    assert_int_equal(rc, CA_OK);
    ca_duck_vtype *vt = NULL;
    assert_int_equal(ca_duck_vtype_new(ca_duck_result_column_ltype(r, 0), &vt), CA_OK);
    ca_duck_chunk *c = NULL;
    assert_int_equal(ca_duck_result_next_chunk(r, &c), CA_OK);
    assert_non_null(c);
    ca_buf got = CA_BUF_INIT;
    assert_int_equal(ca_duck_value_json(&got, vt, ca_duck_chunk_vector(c, 0), 0), CA_OK);
    if (strcmp(ca_buf_cstr(&got), want) != 0)
        print_error("json mismatch for %s\n  want: %s\n  got:  %s\n", expr, want, ca_buf_cstr(&got));
    assert_string_equal(ca_buf_cstr(&got), want);
    ca_buf_free(&got);
    ca_duck_chunk_free(c);
    ca_duck_vtype_free(vt);
    ca_duck_result_free(r);
    ca_buf_free(&sql);
}

/* ---- display text == DuckDB's VARCHAR cast ------------------------------------------------- */

static void test_display_booleans_and_integers(void **state)
{
    fixture *f = *state;
    check_display(f, "SELECT unnest([true, false, NULL]) AS x");
    check_display(f, "SELECT unnest([-128, 127, 0, NULL]::TINYINT[]) AS x");
    check_display(f, "SELECT unnest([-32768, 32767, -1]::SMALLINT[]) AS x");
    check_display(f, "SELECT unnest([-2147483648, 2147483647, 42]::INTEGER[]) AS x");
    check_display(f, "SELECT unnest([-9223372036854775808, 9223372036854775807, 9007199254740993]::BIGINT[]) AS x");
    check_display(f, "SELECT unnest([0, 255]::UTINYINT[]) AS x");
    check_display(f, "SELECT unnest([0, 65535]::USMALLINT[]) AS x");
    check_display(f, "SELECT unnest([0, 4294967295]::UINTEGER[]) AS x");
    check_display(f, "SELECT unnest([0, 18446744073709551615]::UBIGINT[]) AS x");
    check_display(f, "SELECT unnest(['-170141183460469231731687303715884105728', "
                     "'170141183460469231731687303715884105727', '0', '-1', "
                     "'18446744073709551616']::HUGEINT[]) AS x");
    check_display(f, "SELECT unnest(['0', '340282366920938463463374607431768211455', "
                     "'18446744073709551616']::UHUGEINT[]) AS x");
    /* random 64-bit and 128-bit values */
    check_display(f, "SELECT ((random() - 0.5) * 1.8e19)::BIGINT AS x FROM range(3000)");
    check_display(f, "SELECT ((random() - 0.5) * 3e38)::HUGEINT AS x FROM range(3000)");
}

static void test_display_floating_point(void **state)
{
    fixture *f = *state;
    check_display(f, "SELECT unnest([0.1, 2.0, 1e20, 1e-7, 1e15, 1e16, 123456789012345678.0, 5e-324, "
                     "1.7976931348623157e308, -0.0, 0.0, 'nan', 'inf', '-inf', 1.0/3, 0.0001, 0.00001, "
                     "100, 1.5, -1.5, 9007199254740993, 2.2250738585072014e-308, 123.456e-10, "
                     "9999999999999998, 0.30000000000000004]::DOUBLE[]) AS x");
    check_display(f, "SELECT unnest([0.1, 2.0, 1e10, 16777216, 1e-5, 1e16, 1.1e15, 0.3, 1.0/3, "
                     "3.4e38, 1.4e-45, 'nan', '-inf', -0.0, 1e21]::FLOAT[]) AS x");
    /* doubles spread over the whole exponent range, and floats over theirs */
    check_display(f, "SELECT (random() - 0.5) * pow(10, (random() * 600 - 300)::INTEGER) AS x FROM range(5000)");
    check_display(f, "SELECT ((random() - 0.5) * pow(10, (random() * 70 - 35)::INTEGER))::FLOAT AS x "
                     "FROM range(5000)");
    check_display(f, "SELECT (random() * 1e6)::INTEGER / 1000.0 AS x FROM range(1000)");
}

static void test_display_decimals(void **state)
{
    fixture *f = *state;
    check_display(f, "SELECT unnest([123.45, -0.05, 0, 999.99, -999.99]::DECIMAL(5,2)[]) AS x");
    check_display(f, "SELECT unnest([0.5, -0.5, 0, 0.001]::DECIMAL(3,3)[]) AS x");
    check_display(f, "SELECT unnest([5, -5, 12345]::DECIMAL(5,0)[]) AS x");
    check_display(f, "SELECT unnest([1.5, -1.5, 123456789012.123456]::DECIMAL(18,6)[]) AS x");
    check_display(f, "SELECT unnest(['12345678901234567890.123456789', '-0.000000001', "
                     "'99999999999999999999999999999.999999999']::DECIMAL(38,9)[]) AS x");
    check_display(f, "SELECT ((random() - 0.5) * 2e5)::DECIMAL(9,3) AS x FROM range(2000)");
    check_display(f, "SELECT ((random() - 0.5) * 2e20)::DECIMAL(30,8) AS x FROM range(2000)");
}

static void test_display_strings_blobs_uuids_enums(void **state)
{
    fixture *f = *state;
    check_display(f, "SELECT unnest(['', 'a', 'it''s', 'tab\there', 'ünïcödé ✓', 'NULL', "
                     "'a long string beyond the inline limit', NULL]) AS x");
    check_display(f, "SELECT unhex(printf('%02x', i)) AS x FROM range(256) AS t(i)");
    check_display(f, "SELECT unnest([from_hex(''), from_hex('00ff7f80205c27227e'), 'abc'::BLOB]) AS x");
    check_display(f, "SELECT unnest(['00000000-0000-0000-0000-000000000000', "
                     "'ffffffff-ffff-ffff-ffff-ffffffffffff', '12345678-9abc-def0-1234-56789abcdef0', "
                     "'80000000-0000-0000-7fff-ffffffffffff']::UUID[]) AS x");
    check_display(f, "SELECT gen_random_uuid() AS x FROM range(500)");
    assert_int_equal(ca_duck_exec(f->conn, "CREATE TYPE mood AS ENUM ('ok', 'sad face', 'x:y', '')"), CA_OK);
    check_display(f, "SELECT unnest(['ok', 'sad face', 'x:y', '', NULL]::mood[]) AS x");
    assert_int_equal(ca_duck_exec(f->conn, "CREATE TABLE big_enum AS SELECT 'v' || range AS v FROM range(70000);"
                                           "CREATE TYPE many AS ENUM (SELECT v FROM big_enum)"), CA_OK);
    check_display(f, "SELECT ('v' || (range * 7))::many AS x FROM range(10000)");
    check_display(f, "SELECT unnest(['101', '0', '1111000011110000111', '00000000']::BIT[]) AS x");
    check_display(f, "SELECT unnest(['0', '-1', '255', '-256', '12345678901234567890123', "
                     "'-99999999999999999999999999999999999999999999']::BIGNUM[]) AS x");
}

static void test_display_dates_and_times(void **state)
{
    fixture *f = *state;
    check_display(f, "SELECT unnest(['0044-03-15 (BC)', '0001-01-01', '0001-01-01 (BC)', '1970-01-01', "
                     "'2024-02-29', '9999-12-31', '12345-06-07', 'infinity', '-infinity']::DATE[]) AS x");
    check_display(f, "SELECT DATE '1970-01-01' + (random() * 4000000 - 2000000)::INTEGER AS x FROM range(3000)");
    check_display(f, "SELECT unnest(['00:00:00', '12:34:56.789', '23:59:59.999999', '24:00:00', "
                     "'01:02:03.000001']::TIME[]) AS x");
    check_display(f, "SELECT TIME '00:00:00' + to_microseconds((random() * 86400e6)::BIGINT) AS x FROM range(2000)");
    check_display(f, "SELECT unnest(['12:00:00+05:30', '12:00:00.5-03:30:15', '12:00:00+00', "
                     "'23:59:59.999999-15:59']::TIMETZ[]) AS x");
    check_display(f, "SELECT unnest(['1992-01-01 12:00:00.5', '1992-01-01 12:00:00', 'infinity', '-infinity', "
                     "'0044-03-15 (BC) 10:00:00', '1969-12-31 23:59:59.999999']::TIMESTAMP[]) AS x");
    check_display(f, "SELECT make_timestamp((random() * 4e17 - 2e17)::BIGINT) AS x FROM range(3000)");
    check_display(f, "SELECT unnest(['1992-01-01 12:00:00.123456789', '1992-01-01 12:00:00.1', "
                     "'1969-12-31 23:59:59.000000001', 'infinity']::TIMESTAMP_NS[]) AS x");
    check_display(f, "SELECT make_timestamp_ns((random() * 1.8e19 - 9e18)::BIGINT) "
                     "AS x FROM range(2000)");
    check_display(f, "SELECT unnest(['1992-01-01 12:00:00.123', '1969-12-31 23:59:59.999', "
                     "'-infinity']::TIMESTAMP_MS[]) AS x");
    check_display(f, "SELECT unnest(['1992-01-01 12:00:01', '0100-01-01 (BC) 00:00:00', "
                     "'infinity']::TIMESTAMP_S[]) AS x");
    check_display(f, "SELECT unnest(['1992-01-01 12:00:00.5+02', '0044-03-15 (BC) 10:00:00+00', "
                     "'infinity', '-infinity']::TIMESTAMPTZ[]) AS x");
    check_display(f, "SELECT make_timestamp((random() * 4e17 - 2e17)::BIGINT)::TIMESTAMPTZ AS x FROM range(2000)");
}

static void test_display_intervals(void **state)
{
    fixture *f = *state;
    check_display(f, "SELECT unnest([INTERVAL 1 YEAR, INTERVAL '1 year 2 months 3 days 04:05:06.7', "
                     "INTERVAL '-1 day', INTERVAL '0 seconds', INTERVAL '-01:00:00', INTERVAL '14 months', "
                     "INTERVAL '1 day -1 hour', INTERVAL '100 hours', INTERVAL '2 years -1 months', "
                     "INTERVAL '-2 years 1 months', INTERVAL '-1 months', INTERVAL '1 microsecond', "
                     "INTERVAL '-5 hours -3 minutes -0.25 seconds']) AS x");
    check_display(f, "SELECT to_months((random() * 400 - 200)::INTEGER) + to_days((random() * 800 - 400)::INTEGER) + "
                     "to_microseconds((random() * 2e12 - 1e12)::BIGINT) AS x FROM range(3000)");
    check_display(f, "SELECT to_microseconds((random() * 2e12 - 1e12)::BIGINT) AS x FROM range(1000)");
}

static void test_display_nested(void **state)
{
    fixture *f = *state;
    check_display(f, "SELECT unnest([[1, 2, NULL], [], NULL, [3]]) AS x");
    check_display(f, "SELECT ['a', 'b c', NULL, '', 'it''s', 'x,y', '[z]', 'NULL', 'null', ' lead', "
                     "'trail ', 'q\"r', 'back\\slash', 'a(b', 'c)d', 'e=f', 'g:h', '{i}', 'tab\tx', "
                     "' ', 'x', 'Null'] AS x");
    check_display(f, "SELECT {'a': 1, 'b': 'x y', 'c d': NULL, 'e''f': [1], 'g\\h': 'i:j'} AS x");
    check_display(f, "SELECT unnest([MAP {'k': 1, 'j': NULL, 'a b': 2, 'x=y': 3}, MAP {}, NULL]) AS x");
    check_display(f, "SELECT MAP {1: 'a', 2: 'b:c', 3: NULL} AS x");
    check_display(f, "SELECT [[1], [2, 3], [], NULL] AS x");
    check_display(f, "SELECT [1, 2, 3]::INTEGER[3] AS x");
    check_display(f, "SELECT unnest([['a', NULL], NULL, ['b c', 'd']]::VARCHAR[2][]) AS x");
    check_display(f, "SELECT [{'a': [MAP {'x': {'y': 1}}]}, NULL] AS x");
    check_display(f, "SELECT unnest([{'a': NULL, 'b': [NULL]}, NULL]) AS x");
    check_display(f, "SELECT row(1, 'a b', 'c:d', NULL) AS x");
    check_display(f, "SELECT [row(1, 'x')] AS x");
    check_display(f, "SELECT [1.5, 'nan', 1e20]::DOUBLE[] AS x");
    check_display(f, "SELECT ['2020-01-01 10:00:00'::TIMESTAMP] AS x");
    check_display(f, "SELECT ['10:00:00'::TIME] AS x");
    check_display(f, "SELECT [INTERVAL 1 DAY, INTERVAL '-1 hour'] AS x");
    check_display(f, "SELECT ['2020-01-01 10:00:00+00'::TIMESTAMPTZ] AS x");
    check_display(f, "SELECT [from_hex('00275c'), from_hex('2c'), ''::BLOB] AS x");
    check_display(f, "SELECT [1.5::DECIMAL(3,1), -0.5::DECIMAL(3,1)] AS x");
    check_display(f, "SELECT ['2020-01-01'::DATE, '0044-03-15 (BC)'::DATE] AS x");
    check_display(f, "SELECT [uuid '12345678-9abc-def0-1234-56789abcdef0'] AS x");
    check_display(f, "SELECT [true, NULL] AS x");
    assert_int_equal(ca_duck_exec(f->conn, "CREATE TYPE mood AS ENUM ('ok', 'sad face', 'x:y', '')"), CA_OK);
    check_display(f, "SELECT ['ok', 'sad face', 'x:y', '', NULL]::mood[] AS x");
}

static void test_display_unions_and_generated_nested(void **state)
{
    fixture *f = *state;
    check_display(f, "SELECT union_value(a := 1) AS x");
    check_display(f, "SELECT [union_value(a := 'x y'), union_value(a := 'p:q')] AS x");
    assert_int_equal(ca_duck_exec(f->conn, "CREATE TABLE u (x UNION(n INTEGER, s VARCHAR));"
                                           "INSERT INTO u VALUES (1), ('two'), (NULL), ('a,b')"), CA_OK);
    check_display(f, "SELECT x FROM u");
    check_display(f, "SELECT [x] AS x FROM u");
    /* many rows of nested values, over several chunks */
    check_display(f, "SELECT list_transform(range(i % 5), j -> CASE WHEN j = 2 THEN NULL ELSE j * i END) AS x "
                     "FROM range(3000) AS t(i)");
    check_display(f, "SELECT {'i': i, 's': CASE WHEN i % 3 = 0 THEN NULL ELSE 's' || i END, "
                     "'l': [i, -i]} AS x FROM range(3000) AS t(i)");
    check_display(f, "SELECT map_from_entries([('k' || i, i), ('j' || i, NULL)]) AS x FROM range(3000) AS t(i)");
    check_display(f, "SELECT list(i) AS x FROM range(5000) AS t(i) GROUP BY i % 7");
}

/* ---- JSON values --------------------------------------------------------------------------- */

static void test_json_numbers(void **state)
{
    fixture *f = *state;
    check_json(f, "42::INTEGER", "42");
    check_json(f, "(-7)::TINYINT", "-7");
    check_json(f, "9007199254740992::BIGINT", "9007199254740992");
    check_json(f, "(-9007199254740992)::BIGINT", "-9007199254740992");
    check_json(f, "9007199254740993::BIGINT", "\"9007199254740993\"");
    check_json(f, "(-9007199254740993)::BIGINT", "\"-9007199254740993\"");
    check_json(f, "18446744073709551615::UBIGINT", "\"18446744073709551615\"");
    check_json(f, "'170141183460469231731687303715884105727'::HUGEINT", "\"170141183460469231731687303715884105727\"");
    check_json(f, "5::HUGEINT", "5");
    check_json(f, "5::UHUGEINT", "5");
    check_json(f, "0.1::DOUBLE", "0.1");
    check_json(f, "2.0::DOUBLE", "2.0");
    check_json(f, "1e20::DOUBLE", "1e+20");
    check_json(f, "1e-7::DOUBLE", "1e-07");
    check_json(f, "'-0.0'::DOUBLE", "-0.0");
    check_json(f, "0.1::FLOAT", "0.1");
    check_json(f, "'nan'::DOUBLE", "\"NaN\"");
    check_json(f, "'inf'::DOUBLE", "\"Infinity\"");
    check_json(f, "'-inf'::FLOAT", "\"-Infinity\"");
    check_json(f, "123.45::DECIMAL(10,2)", "\"123.45\"");
    check_json(f, "(-0.5)::DECIMAL(3,3)", "\"-.500\"");
    check_json(f, "true", "true");
    check_json(f, "'12345'::BIGNUM", "12345");
    check_json(f, "'-9007199254740992'::BIGNUM", "-9007199254740992");
    check_json(f, "'9007199254740993'::BIGNUM", "\"9007199254740993\"");
    check_json(f, "'123456789012345678901234567890'::BIGNUM", "\"123456789012345678901234567890\"");
}

static void test_json_text_and_binary(void **state)
{
    fixture *f = *state;
    check_json(f, "'a'", "\"a\"");
    check_json(f, "'q\"b\\s' || chr(10) || chr(9) || chr(1) || chr(127) || 'ü✓'",
               "\"q\\\"b\\\\s\\n\\t\\u0001\x7fü✓\"");
    check_json(f, "from_hex('00ff10')", "\"AP8Q\"");
    check_json(f, "from_hex('')", "\"\"");
    check_json(f, "'a'::BLOB", "\"YQ==\"");
    check_json(f, "'ab'::BLOB", "\"YWI=\"");
    check_json(f, "'12345678-9abc-def0-1234-56789abcdef0'::UUID", "\"12345678-9abc-def0-1234-56789abcdef0\"");
    check_json(f, "'101'::BIT", "\"101\"");
    assert_int_equal(ca_duck_exec(f->conn, "CREATE TYPE mood2 AS ENUM ('ok', 'sad')"), CA_OK);
    check_json(f, "'sad'::mood2", "\"sad\"");
    check_json(f, "NULL", "null");
    check_json(f, "NULL::INTEGER", "null");
}

static void test_json_dates_and_times(void **state)
{
    fixture *f = *state;
    check_json(f, "DATE '2024-02-29'", "\"2024-02-29\"");
    check_json(f, "DATE '0044-03-15 (BC)'", "\"-0043-03-15\"");
    check_json(f, "DATE '0001-01-01 (BC)'", "\"0000-01-01\"");
    check_json(f, "DATE '12345-06-07'", "\"+12345-06-07\"");
    check_json(f, "'infinity'::DATE", "\"infinity\"");
    check_json(f, "TIME '12:34:56'", "\"12:34:56\"");
    check_json(f, "TIME '12:34:56.5'", "\"12:34:56.5\"");
    check_json(f, "'12:00:00+05:30'::TIMETZ", "\"12:00:00+05:30\"");
    check_json(f, "'12:00:00+00'::TIMETZ", "\"12:00:00+00:00\"");
    check_json(f, "TIMESTAMP '2024-01-02 03:04:05.5'", "\"2024-01-02T03:04:05.5\"");
    check_json(f, "TIMESTAMP '2024-01-02 03:04:05'", "\"2024-01-02T03:04:05\"");
    check_json(f, "'2024-01-02 03:04:05.123456789'::TIMESTAMP_NS", "\"2024-01-02T03:04:05.123456789\"");
    check_json(f, "'2024-01-02 03:04:05.5+02'::TIMESTAMPTZ", "\"2024-01-02T01:04:05.5Z\"");
    check_json(f, "'-infinity'::TIMESTAMP", "\"-infinity\"");
    check_json(f, "INTERVAL '1 year 2 months 3 days 04:05:06.7'", "\"P1Y2M3DT4H5M6.7S\"");
    check_json(f, "INTERVAL '-01:30:00'", "\"PT-1H-30M\"");
    check_json(f, "INTERVAL '0 seconds'", "\"PT0S\"");
    check_json(f, "INTERVAL '-1 day'", "\"P-1D\"");
    check_json(f, "INTERVAL '-0.5 seconds'", "\"PT-0.5S\"");
}

static void test_json_nested(void **state)
{
    fixture *f = *state;
    check_json(f, "[1, NULL, 3]", "[1,null,3]");
    check_json(f, "[]::INTEGER[]", "[]");
    check_json(f, "[1, 2]::INTEGER[2]", "[1,2]");
    check_json(f, "{'a': 1, 'b': 'x', 'c\"': NULL}", "{\"a\":1,\"b\":\"x\",\"c\\\"\":null}");
    check_json(f, "MAP {'k': 1, 'j': NULL}", "{\"k\":1,\"j\":null}");
    check_json(f, "MAP {1: 'a', 2: 'b'}", "[{\"key\":1,\"value\":\"a\"},{\"key\":2,\"value\":\"b\"}]");
    check_json(f, "row(1, 'a')", "[1,\"a\"]");
    check_json(f, "[{'d': DATE '2024-01-01', 'big': 9007199254740993::BIGINT}]",
               "[{\"d\":\"2024-01-01\",\"big\":\"9007199254740993\"}]");
    check_json(f, "union_value(s := 'x')", "\"x\"");
    check_json(f, "[from_hex('ff')]", "[\"/w==\"]");
}

/* ---- the helpers --------------------------------------------------------------------------- */

static void test_json_string_escapes(void **state)
{
    (void)state;
    ca_buf b = CA_BUF_INIT;
    assert_int_equal(ca_json_write_string(&b, "a\0b\x1f\"\\/", 7), CA_OK);
    assert_string_equal(ca_buf_cstr(&b), "\"a\\u0000b\\u001f\\\"\\\\/\"");
    ca_buf_free(&b);
}

static void test_format_double_shapes(void **state)
{
    (void)state;
    struct { double v; bool is_float; const char *want; } cases[] = {
        {0.1, false, "0.1"}, {2.0, false, "2.0"}, {1e20, false, "1e+20"}, {1e-7, false, "1e-07"},
        {1e15, false, "1000000000000000.0"}, {1e16, false, "1e+16"}, {0.0001, false, "0.0001"},
        {0.00001, false, "1e-05"}, {-0.0, false, "-0.0"}, {0.0, false, "0.0"},
        {1.0 / 3, false, "0.3333333333333333"}, {(double)(1.0f / 3), true, "0.33333334"},
        {(double)0.1f, true, "0.1"}, {5e-324, false, "5e-324"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ca_buf b = CA_BUF_INIT;
        assert_int_equal(ca_duck_format_double(&b, cases[i].v, cases[i].is_float), CA_OK);
        assert_string_equal(ca_buf_cstr(&b), cases[i].want);
        ca_buf_free(&b);
    }
}

/* TIME_NS reaches the C API of DuckDB 1.4 as an INVALID type: refused with a clear error. */
static void test_unknown_types_are_refused(void **state)
{
    fixture *f = *state;
    ca_duck_result *r = NULL;
    assert_int_equal(ca_duck_query(f->conn, "SELECT '12:00:00.5'::TIME_NS AS x, NULL::TIME_NS AS y", &r), CA_OK);
    ca_duck_vtype *vx = NULL, *vy = NULL;
    assert_int_equal(ca_duck_vtype_new(ca_duck_result_column_ltype(r, 0), &vx), CA_OK);
    assert_int_equal(ca_duck_vtype_new(ca_duck_result_column_ltype(r, 1), &vy), CA_OK);
    ca_duck_chunk *c = NULL;
    assert_int_equal(ca_duck_result_next_chunk(r, &c), CA_OK);
    ca_buf b = CA_BUF_INIT;
    assert_int_equal(ca_duck_value_text(&b, vx, ca_duck_chunk_vector(c, 0), 0), CA_E_UNSUPPORTED);
    assert_non_null(strstr(ca_error_last()->message, "VARCHAR"));
    ca_buf_clear(&b);
    assert_int_equal(ca_duck_value_json(&b, vy, ca_duck_chunk_vector(c, 1), 0), CA_OK); /* NULL is fine */
    assert_string_equal(ca_buf_cstr(&b), "null");
    ca_buf_free(&b);
    ca_duck_chunk_free(c);
    ca_duck_vtype_free(vx);
    ca_duck_vtype_free(vy);
    ca_duck_result_free(r);
}

/* JSON floats: the shortest text that reads back as the same FLOAT / DOUBLE. */
static void test_json_floats_round_trip(void **state)
{
    fixture *f = *state;
    ca_duck_result *r = NULL;
    assert_int_equal(ca_duck_query(f->conn, "SELECT ((random() - 0.5) * pow(10, (random() * 70 - 35)::INTEGER))::FLOAT AS x, "
                                            "(random() - 0.5) * pow(10, (random() * 600 - 300)::INTEGER) AS y "
                                            "FROM range(5000)", &r), CA_OK);
    ca_duck_vtype *vx = NULL, *vy = NULL;
    assert_int_equal(ca_duck_vtype_new(ca_duck_result_column_ltype(r, 0), &vx), CA_OK);
    assert_int_equal(ca_duck_vtype_new(ca_duck_result_column_ltype(r, 1), &vy), CA_OK);
    ca_buf b = CA_BUF_INIT;
    size_t rows = 0;
    for (;;) {
        ca_duck_chunk *c = NULL;
        assert_int_equal(ca_duck_result_next_chunk(r, &c), CA_OK);
        if (!c)
            break;
        const float *xs = ca_duck_vec_data(ca_duck_chunk_vector(c, 0));
        const double *ys = ca_duck_vec_data(ca_duck_chunk_vector(c, 1));
        for (size_t i = 0; i < ca_duck_chunk_size(c); i++, rows++) {
            ca_buf_clear(&b);
            assert_int_equal(ca_duck_value_json(&b, vx, ca_duck_chunk_vector(c, 0), i), CA_OK);
            assert_true(strtof(ca_buf_cstr(&b), NULL) == xs[i]);
            ca_buf_clear(&b);
            assert_int_equal(ca_duck_value_json(&b, vy, ca_duck_chunk_vector(c, 1), i), CA_OK);
            assert_true(strtod(ca_buf_cstr(&b), NULL) == ys[i]);
        }
        ca_duck_chunk_free(c);
    }
    assert_int_equal(rows, 5000);
    ca_buf_free(&b);
    ca_duck_vtype_free(vx);
    ca_duck_vtype_free(vy);
    ca_duck_result_free(r);
}

static void test_buffer_limit_is_reported(void **state)
{
    fixture *f = *state;
    ca_duck_result *r = NULL;
    assert_int_equal(ca_duck_query(f->conn, "SELECT repeat('x', 100) AS x", &r), CA_OK);
    ca_duck_vtype *vt = NULL;
    assert_int_equal(ca_duck_vtype_new(ca_duck_result_column_ltype(r, 0), &vt), CA_OK);
    assert_int_equal(ca_duck_vtype_id(vt), CA_DUCK_VARCHAR);
    ca_duck_chunk *c = NULL;
    assert_int_equal(ca_duck_result_next_chunk(r, &c), CA_OK);
    ca_buf b;
    ca_buf_init(&b, 10);
    assert_int_equal(ca_duck_value_json(&b, vt, ca_duck_chunk_vector(c, 0), 0), CA_E_OVERFLOW);
    ca_buf_free(&b);
    ca_duck_chunk_free(c);
    ca_duck_vtype_free(vt);
    ca_duck_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_display_booleans_and_integers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_display_floating_point, setup, teardown),
        cmocka_unit_test_setup_teardown(test_display_decimals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_display_strings_blobs_uuids_enums, setup, teardown),
        cmocka_unit_test_setup_teardown(test_display_dates_and_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_display_intervals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_display_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_display_unions_and_generated_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_text_and_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_dates_and_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_nested, setup, teardown),
        cmocka_unit_test(test_json_string_escapes),
        cmocka_unit_test(test_format_double_shapes),
        cmocka_unit_test_setup_teardown(test_unknown_types_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_floats_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_limit_is_reported, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
