/*
 * The SQL function library (functions.md §13): registry examples, every test vector of §12, the
 * C ID entry points, float text against Python's repr, no shadowing, idempotent and concurrent
 * registration, robustness, aggregate determinism, the registry snapshot, span joins, UDF glue.
 *
 * Set CA_UPDATE_GOLDEN=1 to (re)write tests/golden/functions/registry.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codeanatomy/functions.h"
#include "lib/duck/duck.h"
#include "lib/duck/udf.h"
#include "lib/functions/functions.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/hash.h"
#include "util/json.h"

#include <blake2.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern int blake2b_ref(uint8_t *out, const void *in, const void *key, size_t outlen, size_t inlen,
                       size_t keylen) __attribute__((weak));

/* ---- fixtures -------------------------------------------------------------------------- */

typedef struct db {
    ca_duck_db *db;
    ca_duck_conn *conn;
    char dir[64];
} db;

/* The test binary alone registers __ca_test_raw(BLOB) -> VARCHAR: bytes copied unchecked. */
static void raw_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    (void)ex;
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *v = ca_duck_chunk_vector(in, 0);
    const ca_duck_str *s = ca_duck_vec_data(v);
    const uint64_t *m = ca_duck_vec_validity(v);
    for (size_t r = 0; r < n; r++) {
        if (!ca_duck_row_valid(m, r))
            ca_duck_vec_set_null(out, r);
        else
            ca_duck_vec_set_string(out, r, ca_duck_str_data(&s[r]), ca_duck_str_len(&s[r]));
    }
}

static void register_raw(ca_duck_conn *c)
{
    ca_duck_ltype *p[1] = {ca_duck_ltype_new(CA_DUCK_BLOB)};
    ca_duck_ltype *ret = ca_duck_ltype_new(CA_DUCK_VARCHAR);
    ca_udf_scalar f = {.params = p, .n_params = 1, .ret = ret, .fn = raw_fn};
    (void)ca_udf_register_scalar(c, "__ca_test_raw", &f, 1); /* a second registration is refused */
    ca_duck_ltype_free(p[0]);
    ca_duck_ltype_free(ret);
}

static db *db_open_raw(int threads)
{
    db *d = calloc(1, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/tmp/ca-test-fn-XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    ca_duck_config cfg = {.threads = threads, .memory_limit = "2GB", .temp_dir = d->dir};
    assert_int_equal(ca_duck_open(&cfg, &d->db), CA_OK);
    assert_int_equal(ca_duck_connect(d->db, &d->conn), CA_OK);
    return d;
}

static db *db_open(int threads)
{
    db *d = db_open_raw(threads);
    int rc = ca_functions_register(d->conn);
    if (rc != CA_OK)
        fail_msg("register: %s", ca_error_last()->message);
    register_raw(d->conn);
    return d;
}

static void db_close(db *d)
{
    ca_duck_disconnect(d->conn);
    ca_duck_close(d->db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", d->dir);
    free(d);
}

static int setup(void **state)
{
    *state = db_open(2);
    return 0;
}

static int teardown(void **state)
{
    db_close(*state);
    return 0;
}

/* ---- checking one SELECT against an expected text -------------------------------------- */

typedef struct vec {
    const char *sql;      /* a SELECT */
    const char *expected; /* CAST to VARCHAR; NULL = SQL NULL; "ERROR: <substring>" */
} vec;

#define ERR(s) "ERROR: " s

static int failures;

/* Runs sql and compares with expected; reports and counts mismatches. */
static bool check_one(ca_duck_conn *c, const char *sql, const char *expected)
{
    char *got = NULL;
    int rc = ca_duck_query_text(c, sql, &got);
    bool ok;
    char shown[600];
    if (rc != CA_OK) {
        const char *msg = ca_error_last()->message;
        ok = expected && !strncmp(expected, "ERROR: ", 7) && strstr(msg, expected + 7);
        snprintf(shown, sizeof shown, "ERROR %s", msg);
    } else {
        ok = expected ? (strncmp(expected, "ERROR: ", 7) && !strcmp(got, expected)) : got == NULL;
        snprintf(shown, sizeof shown, "%.580s", got ? got : "NULL");
    }
    if (!ok) {
        fprintf(stderr, "MISMATCH %s\n  expected: %s\n  got:      %s\n", sql, expected ? expected : "NULL", shown);
        failures++;
    }
    ca__free(got);
    return ok;
}

static void check_all(ca_duck_conn *c, const vec *v, size_t n)
{
    failures = 0;
    for (size_t i = 0; i < n; i++)
        check_one(c, v[i].sql, v[i].expected);
    assert_int_equal(failures, 0);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- examples (§12.1) ------------------------------------------------------------------ */

static char *replace_once(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    assert_non_null(p);
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *r = malloc(n);
    snprintf(r, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
    return r;
}

static void test_examples(void **state)
{
    db *d = *state;
    failures = 0;
    size_t checked = 0;
    for (size_t i = 0; i < CA_FUNCTIONS_COUNT; i++) {
        const ca_fn_entry *e = &CA_FUNCTIONS[i];
        if (!e->example) {
            assert_int_equal(e->origin, CA_FN_STORAGE);
            continue;
        }
        check_one(d->conn, e->example, e->expected);
        checked++;
        for (const char *const *a = e->aliases; a && *a; a++) {
            char *sql = replace_once(e->example, e->name, *a);
            check_one(d->conn, sql, e->expected);
            free(sql);
            checked++;
        }
    }
    assert_int_equal(failures, 0);
    assert_int_equal(checked, 37 + 8);
}

/* ---- §12.2 hashes and IDs -------------------------------------------------------------- */

static const vec HASH_VECTORS[] = {
    {"SELECT stable_hash64('gamma')", "8666994792918649077"},
    {"SELECT stable_hash64('')", "7252660547403494068"},
    {"SELECT stable_hash64('é')", "5411848509986117935"},
    {"SELECT stable_hash64('日本')", "7508404170711669562"},
    {"SELECT stable_hash64('😀')", "8498446342076163952"},
    {"SELECT stable_hash64('a' || chr(31) || 'b')", "8668388485945676816"},
    {"SELECT stable_hash64(repeat('é', 50000000))", "1209451180859318060"},
    {"SELECT stable_hash128('beta')", "3fbcb3213a60fe28c29ec4283042c6e2"},
    {"SELECT stable_hash128('')", "cae66941d9efbd404e4d88758ea67670"},
    {"SELECT stable_hash128('é')", "d4b1b0202b21bb84e60a3d272ecab0db"},
    {"SELECT stable_hash128('日本')", "f1ce8b3b662c4ad195390fde84f6fd79"},
    {"SELECT stable_hash128('😀')", "742a00cb7e7d4effd92d39ffe41c72cf"},
    {"SELECT prefixed_hash64('', 'alpha')", ":5982700193828047002"},
    {"SELECT stable_id('ns', 'delta')", "ns:7fe3792fbdd937674be221ed030739da"},
    {"SELECT stable_id('', 'alpha')", ":b52f7e54cd313e691148cc2c80345831"},
    {"SELECT stable_id('node', 'a' || chr(31) || 'b')", "node:065ab5741cdfad44687cf119c1eb4ec9"},
    {"SELECT stable_id('node', 'a', 'b')", "node:065ab5741cdfad44687cf119c1eb4ec9"},
    {"SELECT stable_id('node', 'a', NULL)", "node:e572d4f485d45f5df562e024a5aa26e5"},
    {"SELECT stable_id('node', NULL)", "node:a57b800059f43b1b7b599199eb6e1b74"},
    {"SELECT stable_id('node', '__NULL__')", "node:a57b800059f43b1b7b599199eb6e1b74"},
    {"SELECT stable_id('x', 42)", "x:755345b7ef54b0d592c17e04737ab3d9"},
    {"SELECT stable_id('x', '42')", "x:755345b7ef54b0d592c17e04737ab3d9"},
    {"SELECT stable_id('x', -7)", "x:1cd2d5e0bebdbf965f96c60388a415e2"},
    {"SELECT stable_id('x', true)", "x:b30ee95ec6cda01eb712d912431fe867"},
    {"SELECT stable_id('x', false, 0)", "x:fb2a64e7d274e6d9d11646a94e3085f6"},
    {"SELECT stable_id('x', 1.5::DOUBLE)", "x:af8f4c865eb374cdeeffd25493060e80"},
    {"SELECT stable_id('x', 1.5)", "x:af8f4c865eb374cdeeffd25493060e80"},
    {"SELECT stable_id('x', 2.0::DOUBLE)", "x:4129e2a8044a57ce7635fd6023661cd6"},
    {"SELECT stable_id('x', 2)", "x:4129e2a8044a57ce7635fd6023661cd6"},
    {"SELECT stable_id('x', 0.1::FLOAT)", "x:8857a128fe69b49792e563135c5774e9"},
    {"SELECT stable_id('x', 0.1::DOUBLE)", "x:8857a128fe69b49792e563135c5774e9"},
    {"SELECT stable_id('x', 1e300::DOUBLE)", "x:0c3a29edf3c651cd832da4dd7f1da3a7"},
    {"SELECT stable_id('x', -0.0::DOUBLE)", "x:ff19f19d3ce03510884d63c63d4ca34c"},
    {"SELECT stable_id('x', 'NaN'::DOUBLE)", "x:4523863be0252b2eabedc7f0d52adcd7"},
    {"SELECT stable_id('x', 'inf'::DOUBLE)", "x:61bbaa9a90d2679c5aad286b3d439c3f"},
    {"SELECT stable_id('x', 1.50::DECIMAL(3,2))", "x:28e93957adf546e6574e99ba63408b11"},
    {"SELECT stable_id('x', 9223372036854775807)", "x:4898f4a4323181babf47286c18675318"},
    {"SELECT stable_id('x', 18446744073709551615::UBIGINT)", "x:5a3480c65c534951efdc65ce36e6a2ff"},
    {"SELECT stable_id('x', '-170141183460469231731687303715884105728'::HUGEINT)", "x:b987f5348fdb9ec9c0c848a1356f6769"},
    {"SELECT stable_id('file', 'é', '日本', '😀')", "file:54cd4514466b9c5cb4326f974227c801"},
    {"SELECT stable_id('n', '')", "n:cae66941d9efbd404e4d88758ea67670"},
    {"SELECT stable_id('n', '', '')", "n:01d40548a78e70851885ebb185b56016"},
    {"SELECT stable_id(NULL, 'a')", NULL},
    {"SELECT stable_id('def', 'a.py', 0, 10)", "def:90a6928209d1e25ff2290615b7e5e183"},
    {"SELECT stable_id('file', 'a.py')", "file:59ea7f0accf0518ae914c887f2ded8f0"},
    {"SELECT span_id('span', 'f.py', 0, 10)", "span:cdd40d6c1b55b33c6f4054bb4b1f94b2"},
    {"SELECT span_id('cst_def', 'pkg/é.py', 11, 93, NULL)", "cst_def:7cced87e4b0fac19c68a3237c6b7921a"},
    /* integer, DECIMAL and BOOLEAN part text = DuckDB's own CAST(x AS VARCHAR) */
    {"SELECT bool_and(stable_id('x', v) = stable_id('x', CAST(v AS VARCHAR))) FROM (VALUES "
     "(-12345678901234567890.05::DECIMAL(38,2)), (0.0005::DECIMAL(4,4)), (-0.05::DECIMAL(3,2)), "
     "(99999.9::DECIMAL(6,1)), (-7::DECIMAL(9,0)), (123456789012.345678::DECIMAL(18,6))) t(v)", "true"},
    {"SELECT stable_id('x', (-128)::TINYINT, 32767::SMALLINT, (-2147483648)::INTEGER, 255::UTINYINT, "
     "65535::USMALLINT, 4294967295::UINTEGER, 170141183460469231731687303715884105727::HUGEINT, "
     "340282366920938463463374607431768211455::UHUGEINT, true) = stable_id('x', '-128', '32767', '-2147483648', "
     "'255', '65535', '4294967295', '170141183460469231731687303715884105727', "
     "'340282366920938463463374607431768211455', 'true')", "true"},
    {"SELECT stable_id('x', 1e-7::DOUBLE, 1e22::DOUBLE, 0.1::FLOAT, -1.5::FLOAT) = "
     "stable_id('x', '0.0000001', '10000000000000000000000', '0.1', '-1.5')", "true"},
    {"SELECT stable_id('x', NULL::INTEGER, NULL::DOUBLE) = stable_id('x', '__NULL__', NULL)", "true"},
    /* the same through columns (flat vectors, NULL rows reach the callback) */
    {"SELECT string_agg(stable_id(p, v), ',' ORDER BY o) FROM (VALUES (1, 'ns', 'delta'), (2, NULL, 'a'), "
     "(3, 'node', NULL)) t(o, p, v)",
     "ns:7fe3792fbdd937674be221ed030739da,node:a57b800059f43b1b7b599199eb6e1b74"},
    {"SELECT string_agg(coalesce(CAST(stable_hash64(v) AS VARCHAR), 'null'), ',' ORDER BY o) FROM (VALUES (1, "
     "'gamma'), (2, NULL), (3, '')) t(o, v)",
     "8666994792918649077,null,7252660547403494068"},
};

static void test_hash_vectors(void **state)
{
    db *d = *state;
    check_all(d->conn, HASH_VECTORS, N(HASH_VECTORS));
}

/* H32: H256 of the JCS bytes. */
static void test_h256_jcs(void **state)
{
    (void)state;
    json_t *o = json_pack("{s:n, s:s, s:i}", "a", "b", "x\x1fy", "c", 1);
    char *canon = NULL;
    size_t len = 0;
    assert_int_equal(ca_json_canonical_string(o, &canon, &len), CA_OK);
    assert_string_equal(canon, "{\"a\":null,\"b\":\"x\\u001fy\",\"c\":1}");
    char h[65];
    assert_int_equal(ca_hash_h256_hex(canon, len, h), CA_OK);
    assert_string_equal(h, "958899d5f767e4f5cce9856a425e7f37d881a69c145b8e61e583f5793bc4e54f");
    ca__free(canon);
    json_decref(o);
}

/* ---- the C ID API reproduces the SQL values without DuckDB ----------------------------- */

#define T(s) {.kind = CA_ID_TEXT, .v.text = {s, sizeof(s) - 1}}
#define I(x) {.kind = CA_ID_I64, .v.i64 = (x)}
#define U(x) {.kind = CA_ID_U64, .v.u64 = (x)}
#define B(x) {.kind = CA_ID_BOOL, .v.b = (x)}
#define F64(x) {.kind = CA_ID_F64, .v.f64 = (x)}
#define F32(x) {.kind = CA_ID_F32, .v.f32 = (x)}
#define NUL {.kind = CA_ID_NULL}

typedef struct c_id_case {
    const char *prefix;
    ca_id_part parts[4];
    size_t n;
    const char *expected;
} c_id_case;

static void test_c_ids(void **state)
{
    (void)state;
    const c_id_case cases[] = {
        {"node", {T("a"), T("b")}, 2, "node:065ab5741cdfad44687cf119c1eb4ec9"},
        {"span", {T("f.py"), I(0), I(10), T("def")}, 4, "span:9a0b2a20a98d67b3ee837ad28d1fa359"},
        {"ns", {T("delta")}, 1, "ns:7fe3792fbdd937674be221ed030739da"},
        {"", {T("alpha")}, 1, ":b52f7e54cd313e691148cc2c80345831"},
        {"node", {T("a\x1f" "b")}, 1, "node:065ab5741cdfad44687cf119c1eb4ec9"},
        {"node", {T("a"), NUL}, 2, "node:e572d4f485d45f5df562e024a5aa26e5"},
        {"node", {NUL}, 1, "node:a57b800059f43b1b7b599199eb6e1b74"},
        {"node", {T("__NULL__")}, 1, "node:a57b800059f43b1b7b599199eb6e1b74"},
        {"x", {I(42)}, 1, "x:755345b7ef54b0d592c17e04737ab3d9"},
        {"x", {T("42")}, 1, "x:755345b7ef54b0d592c17e04737ab3d9"},
        {"x", {I(-7)}, 1, "x:1cd2d5e0bebdbf965f96c60388a415e2"},
        {"x", {B(true)}, 1, "x:b30ee95ec6cda01eb712d912431fe867"},
        {"x", {B(false), I(0)}, 2, "x:fb2a64e7d274e6d9d11646a94e3085f6"},
        {"x", {F64(1.5)}, 1, "x:af8f4c865eb374cdeeffd25493060e80"},
        {"x", {F64(2.0)}, 1, "x:4129e2a8044a57ce7635fd6023661cd6"},
        {"x", {F32(0.1f)}, 1, "x:8857a128fe69b49792e563135c5774e9"},
        {"x", {F64(0.1)}, 1, "x:8857a128fe69b49792e563135c5774e9"},
        {"x", {F64(1e300)}, 1, "x:0c3a29edf3c651cd832da4dd7f1da3a7"},
        {"x", {F64(-0.0)}, 1, "x:ff19f19d3ce03510884d63c63d4ca34c"},
        {"x", {F64(NAN)}, 1, "x:4523863be0252b2eabedc7f0d52adcd7"},
        {"x", {F64(INFINITY)}, 1, "x:61bbaa9a90d2679c5aad286b3d439c3f"},
        {"x", {T("1.50")}, 1, "x:28e93957adf546e6574e99ba63408b11"},
        {"x", {I(INT64_MAX)}, 1, "x:4898f4a4323181babf47286c18675318"},
        {"x", {U(UINT64_MAX)}, 1, "x:5a3480c65c534951efdc65ce36e6a2ff"},
        {"x", {T("-170141183460469231731687303715884105728")}, 1, "x:b987f5348fdb9ec9c0c848a1356f6769"},
        {"file", {T("é"), T("日本"), T("😀")}, 3, "file:54cd4514466b9c5cb4326f974227c801"},
        {"n", {T("")}, 1, "n:cae66941d9efbd404e4d88758ea67670"},
        {"n", {T(""), T("")}, 2, "n:01d40548a78e70851885ebb185b56016"},
        {"def", {T("a.py"), I(0), I(10)}, 3, "def:90a6928209d1e25ff2290615b7e5e183"},
        {"file", {T("a.py")}, 1, "file:59ea7f0accf0518ae914c887f2ded8f0"},
        {"span", {T("f.py"), I(0), I(10)}, 3, "span:cdd40d6c1b55b33c6f4054bb4b1f94b2"},
        {"cst_def", {T("pkg/é.py"), I(11), I(93), NUL}, 4, "cst_def:7cced87e4b0fac19c68a3237c6b7921a"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        ca_buf b = CA_BUF_INIT;
        assert_int_equal(ca_functions_stable_id(cases[i].prefix, strlen(cases[i].prefix), cases[i].parts,
                                                cases[i].n, &b),
                         CA_OK);
        if (strcmp(ca_buf_cstr(&b), cases[i].expected))
            fail_msg("case %zu: %s != %s", i, ca_buf_cstr(&b), cases[i].expected);
        ca_buf_free(&b);
    }
    /* the hashes */
    int64_t h64;
    assert_int_equal(ca_functions_hash64("alpha", 5, &h64), CA_OK);
    assert_int_equal(h64, INT64_C(5982700193828047002));
    assert_int_equal(ca_functions_hash64("", 0, &h64), CA_OK);
    assert_int_equal(h64, INT64_C(7252660547403494068));
    char hex[33];
    assert_int_equal(ca_functions_hash128_hex("alpha", 5, hex), CA_OK);
    assert_string_equal(hex, "b52f7e54cd313e691148cc2c80345831");
    /* errors */
    ca_buf b = CA_BUF_INIT;
    ca_id_part bad[1] = {T("\xC3")};
    assert_int_equal(ca_functions_stable_id("n", 1, bad, 1, &b), CA_E_INVALID);
    assert_non_null(strstr(ca_error_last()->message, "argument 2 is not valid UTF-8 (offset 0)"));
    assert_int_equal(ca_functions_stable_id("n", 1, bad, 0, &b), CA_E_INVALID);
    assert_int_equal(b.len, 0);
    /* a long multi-part message is streamed: same digest as the assembled SQL value */
    size_t big = 70000;
    char *s = malloc(big);
    memset(s, 'a', big);
    ca_id_part two[2] = {{.kind = CA_ID_TEXT, .v.text = {s, big}}, T("b")};
    assert_int_equal(ca_functions_stable_id("p", 1, two, 2, &b), CA_OK);
    char *joined = malloc(big + 2);
    memcpy(joined, s, big);
    joined[big] = 0x1f;
    joined[big + 1] = 'b';
    ca_id_part one[1] = {{.kind = CA_ID_TEXT, .v.text = {joined, big + 2}}};
    ca_buf b2 = CA_BUF_INIT;
    assert_int_equal(ca_functions_stable_id("p", 1, one, 1, &b2), CA_OK);
    assert_string_equal(ca_buf_cstr(&b), ca_buf_cstr(&b2));
    ca_buf_free(&b);
    ca_buf_free(&b2);
    free(s);
    free(joined);
}

/* libb2's portable code and its dispatcher agree on H1–H7's messages and lengths. */
static void test_blake2b_ref(void **state)
{
    (void)state;
    const char *msgs[] = {"gamma", "", "é", "日本", "😀", "a\x1f" "b", "beta", "alpha"};
    if (!blake2b_ref)
        skip();
    for (size_t i = 0; i < N(msgs); i++) {
        size_t lens[] = {8, 16, 32};
        for (size_t k = 0; k < 3; k++) {
            uint8_t a[32], b[32];
            assert_int_equal(blake2b_ref(a, msgs[i], NULL, lens[k], strlen(msgs[i]), 0), 0);
            assert_int_equal(blake2b(b, msgs[i], NULL, lens[k], strlen(msgs[i]), 0), 0);
            assert_memory_equal(a, b, lens[k]);
        }
    }
    /* H5: 100 MB */
    size_t n = 100000000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i += 2) {
        big[i] = (char)0xC3;
        big[i + 1] = (char)0xA9;
    }
    uint8_t a[8], b[8];
    assert_int_equal(blake2b_ref(a, big, NULL, 8, n, 0), 0);
    assert_int_equal(blake2b(b, big, NULL, 8, n, 0), 0);
    assert_memory_equal(a, b, 8);
    int64_t h;
    assert_int_equal(ca_functions_hash64(big, n, &h), CA_OK);
    assert_int_equal(h, INT64_C(1209451180859318060));
    free(big);
}

/* ---- §12.3 positions, spans, intervals ------------------------------------------------- */

static const vec POSITION_VECTORS[] = {
    {"SELECT col_to_byte('abcdef', 3, 'BYTE')", "3"},
    {"SELECT col_to_byte('héllo', 2, 'utf32')", "3"},
    {"SELECT col_to_byte('héllo', 2, 'UTF-16')", "3"},
    {"SELECT col_to_byte('héllo', 3, 'utf8')", "3"},
    {"SELECT col_to_byte('héllo', 2, 'byte')", "2"},
    {"SELECT col_to_byte('héllo', 2, 'utf8')", ERR("col_to_byte: col 2 splits a UTF-8 sequence")},
    {"SELECT col_to_byte('a😀b', 2, 'utf32')", "5"},
    {"SELECT col_to_byte('a😀b', 4, 'UTF_16')", "6"},
    {"SELECT col_to_byte('a😀b', 99, 'utf16')", "6"},
    {"SELECT col_to_byte('日本語', 2, 'utf16')", "6"},
    {"SELECT col_to_byte('', 5, 'utf16')", "0"},
    {"SELECT col_to_byte(NULL, 1, 'utf8')", NULL},
    {"SELECT col_to_byte('a😀b', 2, 'utf16')", ERR("col_to_byte: col 2 splits a UTF-16 surrogate pair")},
    {"SELECT col_to_byte('abc', -1, 'utf32')", ERR("col_to_byte: col -1 is negative")},
    {"SELECT col_to_byte('abc', 1, 'UTF-9')", ERR("col_to_byte: unit 'UTF-9' is not one of BYTE, UTF8, UTF16, UTF32")},
    {"SELECT col_to_byte(l, 1, u) FROM (VALUES ('abc', 'UTF-9')) t(l, u)",
     ERR("Invalid Input Error: col_to_byte: unit 'UTF-9' is not one of BYTE, UTF8, UTF16, UTF32")},
    {"SELECT col_to_byte('abc', 1, 'UTF-9')", ERR("Binder Error: col_to_byte: unit 'UTF-9'")},
    {"SELECT string_agg(CAST(col_to_byte(l, c, u) AS VARCHAR), ',' ORDER BY o) FROM (VALUES (1, 'a😀b', 4, "
     "'utf16'), (2, 'a😀b', 2, 'UTF32'), (3, 'héllo', 3, 'utf8'), (4, NULL, 1, 'utf8'), (5, 'x', 1, NULL)) "
     "t(o, l, c, u)",
     "6,5,3"},
    {"SELECT byte_to_col('a😀b', 5, 'utf32')", "2"},
    {"SELECT byte_to_col('a😀b', 99, 'utf16')", "4"},
    {"SELECT byte_to_col('héllo', 3, 'utf16')", "2"},
    {"SELECT byte_to_col('a😀b', 3, 'utf16')", ERR("byte_to_col: byte_col 3 splits a UTF-8 sequence")},
    {"SELECT byte_to_col('abc', -2, 'byte')", ERR("byte_to_col: byte_col -2 is negative")},
    {"SELECT canonicalize_byte_span(100, 'x = \"😀\"', 5, 100, 'x = \"😀\"', 8, 'utf-16')", "{'bstart': 105, 'bend': 110}"},
    {"SELECT canonicalize_byte_span(100, 'x = \"😀\"', 5, 100, 'x = \"😀\"', 7, 'UTF32')", "{'bstart': 105, 'bend': 110}"},
    {"SELECT canonicalize_byte_span(100, 'x = \"😀\"', 5, 100, 'x = \"😀\"', 6, 'utf16')",
     ERR("canonicalize_byte_span: end_col 6 splits a UTF-16 surrogate pair")},
    {"SELECT canonicalize_byte_span(0, 'é', 0, 3, 'ab', NULL, 'utf8')", NULL},
    {"SELECT canonicalize_byte_span(0, 'é', 1, 3, 'ab', 1, 'utf8')",
     ERR("canonicalize_byte_span: start_col 1 splits a UTF-8 sequence")},
    {"SELECT canonicalize_byte_span(-1, 'é', 0, 3, 'ab', 1, 'utf8')",
     ERR("canonicalize_byte_span: start_line_start_byte -1 is negative")},
    {"SELECT canonicalize_byte_span(0, 'é', 0, 9223372036854775807, 'ab', 1, 'utf8')",
     ERR("canonicalize_byte_span: bend overflows BIGINT")},
    {"SELECT count(*) FROM (SELECT canonicalize_byte_span(s, l, c, s, l, c, 'utf8') AS b FROM (VALUES (0, 'a', "
     "NULL), (1, 'b', 1)) t(s, l, c)) WHERE b IS NULL",
     "1"},
    {"SELECT position_encoding_norm('utf-8')", "1"},
    {"SELECT position_encoding_norm('UTF_8')", "1"},
    {"SELECT position_encoding_norm('utf 8')", "1"},
    {"SELECT position_encoding_norm('utf32')", "3"},
    {"SELECT position_encoding_norm('2')", "2"},
    {"SELECT position_encoding_norm('UTF16CodeUnitOffsetFromLineStart')", "2"},
    {"SELECT position_encoding_norm('byte')",
     ERR("Binder Error: position_encoding_norm: encoding 'byte' is not one of UTF8, UTF16, UTF32")},
    {"SELECT position_encoding_norm(e) FROM (VALUES ('byte')) t(e)",
     ERR("Invalid Input Error: position_encoding_norm: encoding 'byte' is not one of UTF8, UTF16, UTF32")},
    {"SELECT span_make(3, 10, NULL)", "{'bstart': 3, 'bend': 10, 'line_base': NULL, 'col_unit': byte, 'end_exclusive': true}"},
    {"SELECT span_len(span_make(10, 25))", "15"},
    {"SELECT span_len(10, 25)", "15"},
    {"SELECT span_overlaps(0, 10, 10, 20)", "false"},
    {"SELECT span_overlaps(0, 10, 5, 5)", "true"},
    {"SELECT span_overlaps(0, 10, 10, 10)", "false"},
    {"SELECT span_overlaps(5, 5, 5, 5)", "false"},
    {"SELECT span_overlaps(NULL, 10, 5, 15)", NULL},
    {"SELECT span_overlaps(NULL, 10, 20, 30)", "false"},
    {"SELECT span_overlaps(span_make(0, 9), span_make(9, 12))", "false"},
    {"SELECT span_overlaps(span_make(0, 9, end_exclusive := false), span_make(9, 12))", "true"},
    {"SELECT span_contains(0, 10, 2, 5)", "true"},
    {"SELECT span_contains(0, 10, 5, 15)", "false"},
    {"SELECT span_contains(span_make(0, 10, end_exclusive := false), span_make(10, 11))", "true"},
    {"SELECT span_end({'bstart': 1, 'bend': 2})", ERR("Could not find key \"end_exclusive\" in struct")},
    {"SELECT interval_align_score(0, 10, 0, 10)", "1.0"},
    {"SELECT interval_align_score(0, 10, 2, 4)", "0.2"},
    {"SELECT interval_align_score(0, 5, 10, 20)", "0.0"},
    {"SELECT interval_align_score(3, 3, 3, 3)", "1.0"},
    {"SELECT interval_align_score(3, 3, 4, 4)", "0.0"},
    {"SELECT interval_align_score(3, 3, 0, 10)", "0.0"},
    {"SELECT interval_align_score(5, 2, 0, 1)", ERR("interval_align_score: left interval has end 2 < start 5")},
    {"SELECT interval_align_score(0, 1, 5, 2)", ERR("interval_align_score: right interval has end 2 < start 5")},
    {"SELECT interval_align_score(-9223372036854775807, 9223372036854775807, -9223372036854775807, "
     "9223372036854775806) < 1.0", "true"},
};

static void test_position_vectors(void **state)
{
    db *d = *state;
    check_all(d->conn, POSITION_VECTORS, N(POSITION_VECTORS));
}

/* ---- §12.4 text, errors ---------------------------------------------------------------- */

static const vec TEXT_VECTORS[] = {
    {"SELECT utf8_normalize('ﬁle')", "file"},
    {"SELECT utf8_normalize('ﬁle', 'NFC')", "ﬁle"},
    {"SELECT utf8_normalize('Ｆｏｏ')", "Foo"},
    {"SELECT utf8_normalize('①')", "1"},
    {"SELECT utf8_normalize('Straße', 'NFKC', true)", "strasse"},
    {"SELECT utf8_normalize('ΣΑΣ ς', 'nfc', true)", "σασ σ"},
    {"SELECT utf8_normalize('e' || chr(769)) = chr(233)", "true"},
    {"SELECT utf8_normalize(chr(233), 'NFD') = 'e' || chr(769)", "true"},
    {"SELECT utf8_normalize(chr(304), 'NFC', true) = 'i' || chr(775)", "true"},
    {"SELECT utf8_normalize('A' || chr(160) || 'B')", "A B"},
    {"SELECT utf8_normalize('A' || chr(160) || 'B', 'NFC') = 'A' || chr(160) || 'B'", "true"},
    {"SELECT utf8_normalize('A' || chr(160) || chr(8195) || ' B', 'NFC', false, true)", "A B"},
    {"SELECT utf8_normalize('   ', 'NFKC', false, true) = ''", "true"},
    {"SELECT utf8_normalize('x', NULL, NULL, NULL)", "x"},
    {"SELECT utf8_normalize(NULL)", NULL},
    {"SELECT utf8_normalize('x', ' nfd ')", "x"},
    {"SELECT utf8_normalize('x', 'NFX')", ERR("utf8_normalize: form 'NFX' is not one of NFC, NFD, NFKC, NFKD")},
    {"SELECT utf8_normalize(v, 'NFC', b) FROM (VALUES ('x', true)) t(v, b)",
     ERR("utf8_normalize: argument casefold must be a constant")},
    {"SELECT utf8_normalize(v, f) FROM (VALUES ('x', 'NFC')) t(v, f)",
     ERR("utf8_normalize: argument form must be a constant")},
    {"SELECT utf8_normalize(repeat('a', 16777217))",
     ERR("utf8_normalize: argument value of 16777217 bytes exceeds the 16777216-byte limit")},
    {"SELECT string_agg(coalesce(utf8_normalize(v, 'NFKC', true, true), 'null'), '|' ORDER BY o) FROM (VALUES "
     "(1, ' Ａ  B '), (2, NULL), (3, ''), (4, 'ß')) t(o, v)",
     "a b|null||ss"},
    {"SELECT stable_hash64(__ca_test_raw('\\xC3'::BLOB))",
     ERR("stable_hash64: argument value is not valid UTF-8 (offset 0)")},
    {"SELECT utf8_normalize(__ca_test_raw('ab\\xFF'::BLOB))",
     ERR("utf8_normalize: argument value is not valid UTF-8 (offset 2)")},
    {"SELECT stable_id('n', __ca_test_raw('\\xC0\\xAF'::BLOB))", ERR("stable_id: argument 2 is not valid UTF-8 (offset 0)")},
    {"SELECT stable_id(__ca_test_raw('\\xED\\xA0\\x80'::BLOB), 'a')",
     ERR("stable_id: argument prefix is not valid UTF-8 (offset 0)")},
    {"SELECT stable_id('n', DATE '2020-01-01')", ERR("stable_id: argument 2 has unsupported type DATE")},
    {"SELECT stable_id('n', 'a', [1])", ERR("stable_id: argument 3 has unsupported type LIST; use VARCHAR")},
    {"SELECT stable_id('n')", ERR("stable_id: expected 2 to 64 arguments")},
    {"SELECT stable_id('n', 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,"
     "33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64)",
     ERR("stable_id: expected 2 to 64 arguments (prefix and 1 to 63 parts), got 65")},
    {"SELECT length(stable_id('n', 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,"
     "30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63))",
     "34"},
    {"SELECT utf8_null_if_blank('')", NULL},
    {"SELECT utf8_null_if_blank(' a ') = ' a '", "true"},
    {"SELECT utf8_null_if_blank(chr(8203)) = chr(8203)", "true"},
    {"SELECT qname_normalize('.a.')", "a"},
    {"SELECT qname_normalize('a．b')", "a.b"},
    {"SELECT qname_normalize('ﬁle.Ｘ')", "file.X"},
    {"SELECT qname_normalize('a. b ' || chr(12288) || ' c .d')", "a.b c.d"},
    {"SELECT qname_normalize(' ... ')", NULL},
    {"SELECT qname_normalize(repeat('a', 16777217))",
     ERR("qname_normalize: argument value of 16777217 bytes exceeds the 16777216-byte limit")},
    {"SELECT semantic_tag('span-id')", "SpanId"},
    {"SELECT semantic_tag('cst_def')", "cst_def"},
    {"SELECT semantic_tag('  ')", NULL},
};

/* Wrong argument types: DuckDB's binder (no implicit cast) or its cast error, never a crash. */
static const vec TYPE_VECTORS[] = {
    {"SELECT stable_hash64(42)", ERR("No function matches the given name and argument types 'stable_hash64(INTEGER_LITERAL)'")},
    {"SELECT stable_hash128(x) FROM (VALUES (42)) t(x)", ERR("No function matches")},
    {"SELECT prefixed_hash64('p', [1])", ERR("No function matches")},
    {"SELECT stable_id(1, 'a')", ERR("No function matches")},
    {"SELECT stable_id('x', {'a': 1})", ERR("stable_id: argument 2 has unsupported type STRUCT")},
    {"SELECT stable_id('x', 'a'::BLOB)", ERR("stable_id: argument 2 has unsupported type BLOB")},
    {"SELECT interval_align_score('a', 1, 2, 3)", ERR("Could not convert string 'a' to INT64")},
    {"SELECT position_encoding_norm(x) FROM (VALUES (1)) t(x)", ERR("No function matches")},
    {"SELECT col_to_byte('a', 'x', 'utf8')", ERR("Could not convert string 'x' to INT64")},
    {"SELECT byte_to_col(x, 1, 'utf8') FROM (VALUES (1)) t(x)", ERR("No function matches")},
    {"SELECT canonicalize_byte_span(1, 2, 3, 4, 5, 6, 7)", ERR("No function matches")},
    {"SELECT utf8_normalize('x', 1)", ERR("No function matches")},
    {"SELECT utf8_null_if_blank(x) FROM (VALUES (1)) t(x)", ERR("No function matches")},
    {"SELECT qname_normalize([1])", ERR("No function matches")},
    {"SELECT codeanatomy_function_docs(1)", ERR("")},
    {"SELECT span_make('a', 1)", ERR("Could not convert string 'a' to INT64")},
};

static void test_text_vectors(void **state)
{
    db *d = *state;
    check_all(d->conn, TEXT_VECTORS, N(TEXT_VECTORS));
    check_all(d->conn, TYPE_VECTORS, N(TYPE_VECTORS));
}

/* ---- §12.5 collections, CDF, aggregates ------------------------------------------------ */

static const vec COLLECTION_VECTORS[] = {
    {"SELECT list_compact([NULL, NULL]::VARCHAR[])", "[]"},
    {"SELECT list_unique_sorted([3, 1, 3, 2])", "[1, 2, 3]"},
    {"SELECT map_get_default(MAP {'a': 'x', 'b': NULL}, 'a', 'fallback')", "x"},
    {"SELECT map_get_default(MAP {'a': 'x', 'b': NULL}, 'b', 'fallback')", "fallback"},
    {"SELECT map_get_default(MAP {'a': 'x', 'b': NULL}, NULL, 'fallback')", "fallback"},
    {"SELECT cdf_change_rank('delete')", "1"},
    {"SELECT cdf_change_rank('update_preimage')", "0"},
    {"SELECT cdf_change_rank('merge')", NULL},
    {"SELECT cdf_is_delete('bogus')", NULL},
    {"SELECT collect_set(x) FROM (VALUES (NULL::VARCHAR)) t(x)", "[]"},
    {"SELECT count_distinct_agg(x) FROM (SELECT 1 AS x WHERE false)", "0"},
    {"SELECT count_if(x) FROM (SELECT true AS x WHERE false)", NULL},
    {"SELECT asof_select(v, k) FROM (VALUES ('a', 3), ('b', 3), ('c', 2), ('d', NULL)) t(v, k)", "b"},
    {"SELECT first_value_agg(v, k) FROM (VALUES ('a', 2), ('b', 1), ('c', NULL), ('d', 1)) t(v, k)", "b"},
    {"SELECT last_value_agg(v, k) FROM (VALUES ('a', 2), ('b', 1), ('c', NULL), ('d', 1)) t(v, k)", "a"},
    {"SELECT first_value_agg(v, k) FROM (VALUES (NULL, 1), ('x', 2), ('y', 3), (NULL, 3)) t(v, k)", NULL},
    {"SELECT last_value_agg(v, k) FROM (VALUES (NULL, 1), ('x', 2), ('y', 3), (NULL, 3)) t(v, k)", "y"},
    {"SELECT first_value_agg(v, k) FROM (VALUES ('p', NULL::INTEGER), ('q', NULL)) t(v, k)", "p"},
    {"SELECT last_value_agg(v, k) FROM (VALUES ('p', NULL::INTEGER), ('q', NULL)) t(v, k)", "q"},
    {"SELECT string_agg(CAST(c AS VARCHAR), ', ' ORDER BY rn) FROM (SELECT row_number() OVER (ORDER BY x ROWS 1 "
     "PRECEDING) AS rn, count_distinct_agg(x) OVER (ORDER BY x ROWS 1 PRECEDING) AS c FROM (VALUES ('a'), ('b'), "
     "('b')) t(x))",
     "1, 2, 1"},
    {"SELECT collect_set(x) FILTER (WHERE x <> 'a') FROM (VALUES ('a'), ('b')) t(x)", ERR("is a Macro Function")},
};

static void test_collection_vectors(void **state)
{
    db *d = *state;
    check_all(d->conn, COLLECTION_VECTORS, N(COLLECTION_VECTORS));
}

/* ---- float text = Python's repr digits ------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_float_text(void **state)
{
    (void)state;
    char out[512];
    struct { double v; bool f; const char *text; } fixed[] = {
        {1.0, false, "1"}, {1e-7, false, "0.0000001"}, {0.1, false, "0.1"}, {(double)0.1f, true, "0.1"},
        {-0.0, false, "-0"}, {0.0, false, "0"}, {NAN, false, "NaN"}, {-INFINITY, false, "-inf"},
        {INFINITY, false, "inf"}, {1.5, false, "1.5"}, {-2.5e-3, false, "-0.0025"}, {123456.0, false, "123456"},
        {(double)3.4028234663852886e38f, true, "340282350000000000000000000000000000000"},
    };
    for (size_t i = 0; i < N(fixed); i++) {
        ca_functions__float_text(fixed[i].v, fixed[i].f, out);
        if (strcmp(out, fixed[i].text))
            fail_msg("float text %zu: %s != %s", i, out, fixed[i].text);
    }
    ca_functions__float_text(1e300, false, out);
    assert_int_equal(strlen(out), 301);
    ca_functions__float_text(5e-324, false, out); /* 0. then 323 zeros then 5 */
    assert_int_equal(strlen(out), 326);
    assert_true(!strncmp(out, "0.000", 5) && out[325] == '5' && strspn(out + 2, "0") == 323);

    /* 2098 powers of two and 10^5 random finite doubles, against /usr/bin/python3 */
    char in_path[] = "/tmp/ca-float-in-XXXXXX";
    int fd = mkstemp(in_path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    size_t n = 0;
    double *vals = malloc(sizeof(double) * 110000);
    for (int e = -1074; e <= 1023; e++)
        vals[n++] = ldexp(1.0, e);
    while (n < 2098 + 100000) {
        uint64_t bits = rng();
        double x;
        memcpy(&x, &bits, 8);
        if (!isfinite(x) || x == 0)
            continue;
        vals[n++] = x;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &vals[i], 8);
        fprintf(f, "%016llx\n", (unsigned long long)bits);
    }
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c '\n"
             "import struct, sys\n"
             "from decimal import Decimal\n"
             "for line in open(sys.argv[1]):\n"
             "    x = struct.unpack(\">d\", bytes.fromhex(line.strip()))[0]\n"
             "    t = Decimal(repr(x)).normalize().as_tuple()\n"
             "    d = \"\".join(map(str, t.digits))\n"
             "    print(\"-\" if t.sign else \"\", d, t.exponent + len(d) - 1)\n"
             "' %s",
             in_path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[128];
    size_t i = 0, bad = 0;
    while (fgets(line, sizeof line, p) && i < n) {
        char sign[4] = "", digits[40];
        int e;
        if (line[0] == '-') {
            strcpy(sign, "-");
            if (sscanf(line + 1, "%39s %d", digits, &e) != 2)
                fail_msg("python: %s", line);
        } else if (sscanf(line, "%39s %d", digits, &e) != 2) {
            fail_msg("python: %s", line);
        }
        /* lay out Python's digits by functions.md §3 */
        char want[512];
        size_t k = 0, nd = strlen(digits);
        k += (size_t)sprintf(want, "%s", sign);
        if (e >= (int)nd - 1) {
            k += (size_t)sprintf(want + k, "%s", digits);
            for (int z = 0; z < e - (int)nd + 1; z++)
                want[k++] = '0';
        } else if (e >= 0) {
            k += (size_t)sprintf(want + k, "%.*s.%s", e + 1, digits, digits + e + 1);
        } else {
            want[k++] = '0';
            want[k++] = '.';
            for (int z = 0; z < -e - 1; z++)
                want[k++] = '0';
            k += (size_t)sprintf(want + k, "%s", digits);
        }
        want[k] = '\0';
        ca_functions__float_text(vals[i], false, out);
        if (strcmp(out, want)) {
            if (bad++ < 10)
                fprintf(stderr, "float %a: ours %s python %s\n", vals[i], out, want);
        }
        i++;
    }
    pclose(p);
    unlink(in_path);
    free(vals);
    assert_int_equal(i, n);
    assert_int_equal(bad, 0);
}

/* ---- no shadowing ---------------------------------------------------------------------- */

static int64_t count_of(ca_duck_conn *c, const char *fmt, const char *arg)
{
    char sql[512];
    snprintf(sql, sizeof sql, fmt, arg);
    int64_t n = -1;
    bool is_null;
    if (ca_duck_query_int64(c, sql, &n, &is_null) != CA_OK)
        fail_msg("%s: %s", sql, ca_error_last()->message);
    return n;
}

static void test_no_shadowing(void **state)
{
    (void)state;
    db *d = db_open_raw(1); /* a fresh DuckDB 1.4.4 database, nothing registered */
    const char *q = "SELECT count(*) FROM duckdb_functions() WHERE function_name = '%s'";
    size_t checked = 0;
    for (size_t i = 0; i < CA_FUNCTIONS_COUNT; i++) {
        const ca_fn_entry *e = &CA_FUNCTIONS[i];
        if (e->origin == CA_FN_BUILTIN) {
            if (count_of(d->conn, q, e->name) == 0)
                fail_msg("built-in %s missing", e->name);
            continue;
        }
        if (e->origin == CA_FN_STORAGE)
            continue;
        if (count_of(d->conn, q, e->name) != 0)
            fail_msg("%s shadows a built-in", e->name);
        checked++;
        for (const char *const *a = e->aliases; a && *a; a++) {
            if (count_of(d->conn, q, *a) != 0)
                fail_msg("alias %s shadows a built-in", *a);
            checked++;
        }
    }
    assert_int_equal(checked, 13 + 21 + 8);
    /* and the internal names too */
    assert_int_equal(count_of(d->conn, q, "__codeanatomy_registry"), 0);
    db_close(d);
}

/* ---- idempotence and concurrent registration ------------------------------------------- */

static char *snapshot(ca_duck_conn *c)
{
    char *s = NULL;
    if (ca_functions_snapshot_json(c, &s) != CA_OK)
        fail_msg("snapshot: %s", ca_error_last()->message);
    return s;
}

typedef struct reg_arg {
    ca_duck_db *db;
    int rc;
    char msg[256];
} reg_arg;

static void *register_thread(void *p)
{
    reg_arg *a = p;
    ca_duck_conn *c = NULL;
    a->rc = ca_duck_connect(a->db, &c);
    if (a->rc == CA_OK)
        a->rc = ca_functions_register(c);
    if (a->rc != CA_OK)
        snprintf(a->msg, sizeof a->msg, "%s", ca_error_last()->message);
    /* the connection must see the library */
    int64_t n = 0;
    bool is_null;
    if (a->rc == CA_OK && (ca_duck_query_int64(c, "SELECT count(*) FROM codeanatomy_functions()", &n, &is_null) ||
                           n != 50))
        a->rc = -1;
    ca_duck_disconnect(c);
    return NULL;
}

static void test_idempotence(void **state)
{
    db *d = *state;
    char *s1 = snapshot(d->conn);
    assert_int_equal(ca_functions_register(d->conn), CA_OK);
    char *s2 = snapshot(d->conn);
    ca_duck_conn *c2 = NULL;
    assert_int_equal(ca_duck_connect(d->db, &c2), CA_OK);
    assert_int_equal(ca_functions_register(c2), CA_OK);
    char *s3 = snapshot(c2);
    assert_string_equal(s1, s2);
    assert_string_equal(s1, s3);
    ca_duck_disconnect(c2);
    ca__free(s1);
    ca__free(s2);
    ca__free(s3);

    /* two connections of a fresh database registering at the same time */
    for (int round = 0; round < 5; round++) {
        db *f = db_open_raw(2);
        reg_arg args[3] = {{.db = f->db}, {.db = f->db}, {.db = f->db}};
        pthread_t t[3];
        for (int i = 0; i < 3; i++)
            pthread_create(&t[i], NULL, register_thread, &args[i]);
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
        for (int i = 0; i < 3; i++)
            if (args[i].rc != CA_OK)
                fail_msg("concurrent register %d: %d %s", i, args[i].rc, args[i].msg);
        db_close(f);
    }
}

/* ---- robustness ------------------------------------------------------------------------ */

static void test_robustness(void **state)
{
    db *d = *state;
    /* {v} = a text value, {i} = an integer value; each function with each in turn */
    static const char *const templates[] = {
        "stable_hash64({v})", "stable_hash128({v})", "prefixed_hash64({v}, {v})", "prefixed_hash64('p', {v})",
        "stable_id({v}, 'a')", "stable_id('p', {v}, {i})", "stable_id('p', {i}, {i}::HUGEINT, {i}::DOUBLE)",
        "interval_align_score({i}, {i}, 0, {i})", "interval_align_score(0, {i}, {i}, {i})",
        "position_encoding_norm({v})", "col_to_byte({v}, {i}, 'utf16')", "col_to_byte('abc', 1, {v})",
        "col_to_byte({v}, {i}, 'utf8')", "byte_to_col({v}, {i}, 'utf32')", "byte_to_col({v}, {i}, 'byte')",
        "canonicalize_byte_span({i}, {v}, {i}, {i}, {v}, {i}, 'utf16')",
        "canonicalize_byte_span({i}, 'ab', 1, {i}, 'ab', 2, {v})", "utf8_normalize({v})",
        "utf8_normalize({v}, 'NFD', true, true)", "utf8_null_if_blank({v})", "qname_normalize({v})",
    };
    static const char *const texts[] = {
        "NULL", "NULL::VARCHAR", "''", "__ca_test_raw('\\xC3'::BLOB)", "__ca_test_raw('ab\\xFF'::BLOB)",
        "__ca_test_raw('\\xED\\xA0\\x80'::BLOB)", "__ca_test_raw('\\xC0\\xAF'::BLOB)", "repeat('é', 50000000)",
        "'x = \"😀\"'", "repeat(' ', 100)",
    };
    static const char *const ints[] = {"NULL", "NULL::BIGINT", "0", "9223372036854775807", "-9223372036854775807", "1"};
    size_t runs = 0;
    for (size_t t = 0; t < N(templates); t++) {
        char fn[64];
        snprintf(fn, sizeof fn, "%.*s: ", (int)strcspn(templates[t], "("), templates[t]);
        for (size_t vi = 0; vi < N(texts); vi++) {
            for (size_t ii = 0; ii < N(ints); ii++) {
                /* every text with i = 1, every integer with v = 'abc' */
                if (!(ii == N(ints) - 1 || vi == N(texts) - 2))
                    continue;
                ca_buf sql = CA_BUF_INIT;
                ca_buf_puts(&sql, "SELECT ");
                for (const char *p = templates[t]; *p;) {
                    if (!strncmp(p, "{v}", 3)) {
                        ca_buf_puts(&sql, texts[vi]);
                        p += 3;
                    } else if (!strncmp(p, "{i}", 3)) {
                        ca_buf_puts(&sql, ints[ii]);
                        p += 3;
                    } else {
                        ca_buf_putc(&sql, *p++);
                    }
                }
                char *got = NULL;
                int rc = ca_duck_query_text(d->conn, ca_buf_cstr(&sql), &got);
                if (rc != CA_OK && !strstr(ca_error_last()->message, fn))
                    fail_msg("%s: not an E-error: %s", ca_buf_cstr(&sql), ca_error_last()->message);
                ca__free(got);
                ca_buf_free(&sql);
                runs++;
            }
        }
    }
    assert_true(runs > 300);
}

/* ---- aggregate determinism ------------------------------------------------------------- */

static char *aggregate_digest(int threads, int shuffle)
{
    db *d = db_open(threads);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE t AS SELECT i %% 997 AS g, CASE WHEN i %% 13 = 0 THEN NULL ELSE (i * 7919) %% 101 END AS v, "
             "CASE WHEN i %% 17 = 0 THEN NULL ELSE (i * 31) %% 29 END AS k, CAST((i * 13) %% 53 AS VARCHAR) AS s "
             "FROM range(2000000) r(i) ORDER BY hash(i + %d)",
             shuffle * 1000003);
    assert_int_equal(ca_duck_exec(d->conn, sql), CA_OK);
    char *digest = NULL;
    int rc = ca_duck_query_text(
        d->conn,
        "SELECT md5(string_agg(CAST(r AS VARCHAR), '|' ORDER BY g)) FROM (SELECT g, {'cs': collect_set(v), 'css': "
        "collect_set(s), 'cd': count_distinct_agg(v), 'avd': any_value_det(v, k), 'as': asof_select(s, k), 'fv': "
        "first_value_agg(v, k), 'lv': last_value_agg(s, k), 'fvs': first_value_agg(s, v), 'lvv': "
        "last_value_agg(v, s)} AS r FROM t GROUP BY g)",
        &digest);
    if (rc != CA_OK)
        fail_msg("aggregate: %s", ca_error_last()->message);
    char *all = NULL;
    rc = ca_duck_query_text(d->conn,
                            "SELECT CAST({'cs': collect_set(v), 'cd': count_distinct_agg(s), 'avd': any_value_det(s, "
                            "k), 'as': asof_select(v, k), 'fv': first_value_agg(s, k), 'lv': last_value_agg(v, k)} "
                            "AS VARCHAR) FROM t",
                            &all);
    if (rc != CA_OK)
        fail_msg("aggregate: %s", ca_error_last()->message);
    size_t n = strlen(digest) + strlen(all) + 2;
    char *r = malloc(n);
    snprintf(r, n, "%s %s", digest, all);
    ca__free(digest);
    ca__free(all);
    db_close(d);
    return r;
}

static void test_determinism(void **state)
{
    (void)state;
    char *first = NULL;
    for (int threads = 1; threads <= 2; threads++) {
        for (int shuffle = 0; shuffle < 3; shuffle++) {
            char *r = aggregate_digest(threads, shuffle);
            if (!first)
                first = r;
            else {
                if (strcmp(first, r))
                    fail_msg("threads=%d shuffle=%d: %s != %s", threads, shuffle, r, first);
                free(r);
            }
        }
    }
    free(first);
}

/* ---- the registry ---------------------------------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static void test_registry(void **state)
{
    db *d = *state;
    ca_duck_conn *c = NULL;
    assert_int_equal(ca_duck_connect(d->db, &c), CA_OK); /* a clean connection: no user macros */
    assert_int_equal(ca_functions_register(c), CA_OK);
    /* the shape: 50 rows, 42 entries (C 13, M 21, B 3, S 5) and 8 aliases */
    const vec shape[] = {
        {"SELECT count(*) FROM codeanatomy_functions()", "50"},
        {"SELECT count(*) FROM codeanatomy_functions() WHERE alias_of IS NULL", "42"},
        {"SELECT string_agg(origin || '=' || n, ',' ORDER BY origin) FROM (SELECT origin, count(*) AS n FROM "
         "codeanatomy_functions() WHERE alias_of IS NULL GROUP BY origin)",
         "builtin=3,c=13,sql_macro=21,storage=5"},
        {"SELECT count(*) FROM codeanatomy_function_docs()", "42"},
        {"SELECT list_sort(aliases) FROM codeanatomy_function_docs() WHERE name = 'stable_id'", "[stable_id_parts]"},
        {"SELECT arguments[2].type FROM codeanatomy_function_docs() WHERE name = 'col_to_byte'", "BIGINT"},
        {"SELECT len(errors) FROM codeanatomy_function_docs() WHERE name = 'col_to_byte'", "5"},
        {"SELECT alias_of FROM codeanatomy_functions() WHERE name = 'hash64'", "stable_hash64"},
        /* every C name is in the system catalog, every macro a temp macro */
        {"SELECT count(*) FROM codeanatomy_functions() r WHERE origin = 'c' AND NOT EXISTS (SELECT 1 FROM "
         "duckdb_functions() f WHERE f.function_name = r.name AND f.database_name = 'system')", "0"},
        {"SELECT count(*) FROM codeanatomy_functions() r WHERE origin = 'sql_macro' AND NOT EXISTS (SELECT 1 FROM "
         "duckdb_functions() f WHERE f.function_name = r.name AND f.database_name = 'temp')", "0"},
        {"SELECT count(*) FROM codeanatomy_functions() WHERE origin = 'sql_macro' AND definition IS NULL", "0"},
    };
    check_all(c, shape, N(shape));
    for (size_t i = 0; i < CA_FUNCTIONS_COUNT; i++) {
        const ca_fn_entry *e = &CA_FUNCTIONS[i];
        assert_non_null(e->description);
        assert_int_equal(e->description[strlen(e->description) - 1], '.');
        assert_true((e->origin == CA_FN_SQL_MACRO) == (e->definition != NULL));
        assert_true((e->origin == CA_FN_C) == (e->register_c != NULL));
    }

    /* golden snapshot, byte for byte */
    char *snap = snapshot(c);
    const char *golden = CA_SOURCE_DIR "/tests/golden/functions/registry.json";
    if (getenv("CA_UPDATE_GOLDEN")) {
        mkdir(CA_SOURCE_DIR "/tests/golden", 0755);
        mkdir(CA_SOURCE_DIR "/tests/golden/functions", 0755);
        FILE *f = fopen(golden, "wb");
        assert_non_null(f);
        fputs(snap, f);
        fclose(f);
    }
    char *want = read_file(golden);
    if (!want)
        fail_msg("%s missing: run with CA_UPDATE_GOLDEN=1", golden);
    assert_string_equal(snap, want);
    free(want);
    json_t *j = NULL;
    assert_int_equal(ca_json_load_string(snap, 0, "snapshot", &j, NULL), CA_OK);
    const char *hash = NULL;
    assert_int_equal(ca_json_get_string(j, "registry_hash", CA_JSON_REQUIRED, &hash, NULL), CA_OK);
    char h[65];
    assert_int_equal(ca_functions_snapshot_hash(c, h), CA_OK);
    assert_string_equal(hash, h);
    assert_int_equal(json_array_size(json_object_get(j, "entries")), 50);
    /* the hash covers the JCS of the object without registry_hash */
    json_object_del(j, "registry_hash");
    char *canon = NULL;
    size_t len = 0;
    assert_int_equal(ca_json_canonical_string(j, &canon, &len), CA_OK);
    char h2[65];
    assert_int_equal(ca_hash_h256_hex(canon, len, h2), CA_OK);
    assert_string_equal(h, h2);
    ca__free(canon);
    json_decref(j);

    /* a user macro appears as kind macro, origin user, and changes the hash */
    assert_int_equal(ca_duck_exec(c, "CREATE MACRO add_one(x) AS x + 1, (x, y) AS x + y + 1"), CA_OK);
    assert_int_equal(ca_duck_exec(c, "COMMENT ON MACRO add_one IS 'adds one'"), CA_OK);
    const vec user[] = {
        {"SELECT name || '|' || kind || '|' || origin || '|' || signature || '|' || description FROM "
         "codeanatomy_functions() WHERE name = 'add_one'",
         "add_one|macro|user|add_one(x) | add_one(x, y)|adds one"},
        {"SELECT count(*) FROM codeanatomy_functions() WHERE origin <> 'user'", "50"},
        {"SELECT definition FROM codeanatomy_functions() WHERE name = 'add_one'", "(x + 1) | ((x + y) + 1)"},
    };
    check_all(c, user, N(user));
    char h3[65];
    assert_int_equal(ca_functions_snapshot_hash(c, h3), CA_OK);
    assert_string_not_equal(h, h3);
    assert_int_equal(ca_duck_exec(c, "DROP MACRO add_one"), CA_OK);
    assert_int_equal(ca_functions_snapshot_hash(c, h3), CA_OK);
    assert_string_equal(h, h3);
    ca__free(snap);
    ca_duck_disconnect(c);
}

/* ---- span predicates become range joins ------------------------------------------------ */

static char *all_text(ca_duck_conn *c, const char *sql)
{
    ca_duck_result *r = NULL;
    if (ca_duck_query(c, sql, &r) != CA_OK)
        fail_msg("%s: %s", sql, ca_error_last()->message);
    ca_buf b = CA_BUF_INIT;
    ca_duck_chunk *ch = NULL;
    while (ca_duck_result_next_chunk(r, &ch) == CA_OK && ch) {
        size_t cols = ca_duck_chunk_column_count(ch);
        for (size_t col = 0; col < cols; col++) {
            ca_duck_vec *v = ca_duck_chunk_vector(ch, col);
            const ca_duck_str *s = ca_duck_vec_data(v);
            for (size_t i = 0; i < ca_duck_chunk_size(ch); i++)
                if (ca_duck_row_valid(ca_duck_vec_validity(v), i))
                    ca_buf_append(&b, ca_duck_str_data(&s[i]), ca_duck_str_len(&s[i]));
        }
        ca_duck_chunk_free(ch);
    }
    ca_duck_result_free(r);
    return ca_buf_detach(&b, NULL);
}

static void test_joins(void **state)
{
    db *d = *state;
    failures = 0;
    assert_int_equal(ca_duck_exec(d->conn,
                                  "CREATE TEMP TABLE ja AS SELECT i AS s, i + 10 AS e, span_make(i, i + 10) AS sp "
                                  "FROM range(1000) r(i);"
                                  "CREATE TEMP TABLE jb AS SELECT i AS s, i + 2 AS e, span_make(i, i + 2) AS sp "
                                  "FROM range(1000) r(i)"),
                     CA_OK);
    const char *queries[] = {
        "EXPLAIN SELECT count(*) FROM ja JOIN jb ON span_contains(ja.s, ja.e, jb.s, jb.e)",
        "EXPLAIN SELECT count(*) FROM ja JOIN jb ON span_overlaps(ja.s, ja.e, jb.s, jb.e)",
        "EXPLAIN SELECT count(*) FROM ja JOIN jb ON span_contains(ja.sp, jb.sp)",
    };
    for (size_t i = 0; i < N(queries); i++) {
        char *plan = all_text(d->conn, queries[i]);
        if (!(strstr(plan, "IE_JOIN") || strstr(plan, "PIECEWISE_MERGE_JOIN")) || strstr(plan, "NESTED_LOOP"))
            fail_msg("%s:\n%s", queries[i], plan);
        ca__free(plan);
    }
    check_one(d->conn, "SELECT count(*) FROM ja JOIN jb ON span_contains(ja.s, ja.e, jb.s, jb.e)", "8964");
    assert_int_equal(failures, 0);
}

/* ---- the UDF glue: an aggregate and errors ---------------------------------------------- */

typedef struct sum_state {
    int64_t sum;
    bool any;
} sum_state;

static void sum_init(void *extra, void *st)
{
    (void)extra;
    memset(st, 0, sizeof(sum_state));
}

static void sum_update(ca_udf_exec *ex, ca_duck_chunk *in, void **states)
{
    (void)ex;
    ca_duck_vec *v = ca_duck_chunk_vector(in, 0);
    const int64_t *x = ca_duck_vec_data(v);
    const uint64_t *m = ca_duck_vec_validity(v);
    for (size_t i = 0; i < ca_duck_chunk_size(in); i++) {
        if (!ca_duck_row_valid(m, i))
            continue;
        sum_state *s = states[i];
        s->sum += x[i];
        s->any = true;
    }
}

static void sum_combine(ca_udf_exec *ex, void **src, void **dst, size_t n)
{
    (void)ex;
    for (size_t i = 0; i < n; i++) {
        sum_state *a = src[i], *b = dst[i];
        b->sum += a->sum;
        b->any |= a->any;
    }
}

static void sum_finalize(ca_udf_exec *ex, void **states, ca_duck_vec *out, size_t n, size_t offset)
{
    (void)ex;
    int64_t *o = ca_duck_vec_data(out);
    for (size_t i = 0; i < n; i++) {
        sum_state *s = states[i];
        if (s->any)
            o[offset + i] = s->sum;
        else
            ca_duck_vec_set_null(out, offset + i);
    }
}

static int freed_extra;
static void count_free(void *p)
{
    (void)p;
    freed_extra++;
}

static void test_udf_glue(void **state)
{
    (void)state;
    failures = 0;
    db *d = db_open(2);
    ca_duck_ltype *bi = ca_duck_ltype_new(CA_DUCK_BIGINT);
    ca_duck_ltype *p[1] = {bi};
    static int extra;
    ca_udf_aggregate agg = {.params = p, .n_params = 1, .ret = bi, .state_size = sizeof(sum_state),
                            .init = sum_init, .update = sum_update, .combine = sum_combine,
                            .finalize = sum_finalize, .extra = &extra, .extra_free = count_free};
    assert_int_equal(ca_udf_register_aggregate(d->conn, "__ca_test_sum", &agg, 1), CA_OK);
    check_one(d->conn, "SELECT __ca_test_sum(i) FROM range(1000000) r(i)", "499999500000");
    check_one(d->conn, "SELECT __ca_test_sum(i) FROM range(0) r(i)", NULL);
    check_one(d->conn, "SELECT sum(s) FROM (SELECT __ca_test_sum(i) s FROM range(100000) r(i) GROUP BY i % 7)",
              "4999950000");
    assert_int_equal(failures, 0);
    /* a second registration of the same name is refused, and the extra handed over is released */
    int before = freed_extra;
    assert_int_equal(ca_udf_register_aggregate(d->conn, "__ca_test_sum", &agg, 1), CA_E_DUCKDB);
    assert_int_equal(freed_extra, before + 1);
    ca_duck_ltype_free(bi);
    db_close(d);
    assert_true(freed_extra >= before + 2); /* the registered one, with the database */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_examples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_vectors, setup, teardown),
        cmocka_unit_test(test_h256_jcs),
        cmocka_unit_test(test_c_ids),
        cmocka_unit_test(test_blake2b_ref),
        cmocka_unit_test_setup_teardown(test_position_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collection_vectors, setup, teardown),
        cmocka_unit_test(test_float_text),
        cmocka_unit_test(test_no_shadowing),
        cmocka_unit_test_setup_teardown(test_idempotence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_robustness, setup, teardown),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_joins, setup, teardown),
        cmocka_unit_test(test_udf_glue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
