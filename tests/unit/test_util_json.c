/* util/json: loading with positions, typed getters, dumping, RFC 8785 canonical JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/hash.h"
#include "util/json.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *load(const char *text)
{
    json_t *v = NULL;
    assert_int_equal(ca_json_load_string(text, JSON_ALLOW_NUL, "t", &v, NULL), CA_OK);
    assert_non_null(v);
    return v;
}

/* Canonical form of a JSON text, compared with the expected bytes. */
static void expect_canonical(const char *text, const char *want)
{
    json_t *v = load(text);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ca_json_canonical_string(v, &out, &len), CA_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    ca__free(out);
    json_decref(v);
}

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void expect_number(double v, const char *want)
{
    char out[CA_JSON_DOUBLE_MAX];
    size_t len = 0;
    assert_int_equal(ca_json_format_double(v, out, &len), CA_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

/* ---- loading ------------------------------------------------------------------------------ */

static void test_load_string_and_errors(void **state)
{
    (void)state;
    json_t *v = load("{\"a\": [1, 2.5, \"x\"], \"b\": null}");
    assert_true(json_is_object(v));
    json_decref(v);

    ca_json_loc loc = {0, 0, 0};
    ca_error_clear();
    v = (json_t *)1;
    assert_int_equal(ca_json_load_string("{\"a\": 1,\n  \"b\": }", 0, "spec.json", &v, &loc),
                     CA_E_INVALID);
    assert_null(v);
    assert_int_equal(loc.line, 2);
    assert_true(loc.column > 0);
    const ca_error *e = ca_error_last();
    assert_int_equal(e->code, CA_E_INVALID);
    assert_string_equal(e->module, "util");
    char want[128];
    snprintf(want, sizeof want, "json: spec.json:2:%d: ", loc.column);
    assert_memory_equal(e->message, want, strlen(want));
    assert_non_null(strstr(e->message, "unexpected token"));

    /* repeated keys are always rejected (spec.md §2) */
    assert_int_equal(ca_json_load_string("{\"k\":1,\"k\":2}", 0, NULL, &v, &loc), CA_E_INVALID);
    assert_non_null(strstr(ca_error_last()->message, "duplicate object key"));
    assert_memory_equal(ca_error_last()->message, "json: <string>:1:", 17);
    /* integers outside int64 */
    assert_int_equal(ca_json_load_string("[9223372036854775808]", 0, NULL, &v, NULL),
                     CA_E_INVALID);
    /* trailing content, invalid UTF-8, empty input */
    assert_int_equal(ca_json_load_string("{} x", 0, NULL, &v, NULL), CA_E_INVALID);
    assert_int_equal(ca_json_load_string("[\"\xC3\"]", 0, NULL, &v, NULL), CA_E_INVALID);
    assert_int_equal(ca_json_load_string("", 0, NULL, &v, NULL), CA_E_INVALID);
    /* any value may be the root (the caller checks its type) */
    assert_int_equal(ca_json_load_string(" 42 ", 0, NULL, &v, NULL), CA_OK);
    assert_true(json_is_integer(v));
    json_decref(v);
    assert_int_equal(ca_json_load_buffer(NULL, 0, 0, NULL, &v, NULL), CA_E_INVALID);
    /* a lone surrogate escape */
    assert_int_equal(ca_json_load_string("[\"\\ud83d\"]", 0, NULL, &v, NULL), CA_E_INVALID);
}

static void test_load_buffer_bom_and_nul(void **state)
{
    (void)state;
    json_t *v = NULL;
    const char doc[] = "\xEF\xBB\xBF{\"a\":1}";
    assert_int_equal(ca_json_load_buffer(doc, sizeof doc - 1, 0, "bom", &v, NULL), CA_OK);
    json_decref(v);
    /* not NUL-terminated: only len bytes are read */
    assert_int_equal(ca_json_load_buffer("[1]]]]", 3, 0, NULL, &v, NULL), CA_OK);
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
    /* jansson flags pass through */
    assert_int_equal(ca_json_load_string("[\"a\\u0000b\"]", 0, NULL, &v, NULL), CA_E_INVALID);
    assert_int_equal(ca_json_load_string("[\"a\\u0000b\"]", JSON_ALLOW_NUL, NULL, &v, NULL), CA_OK);
    assert_int_equal(json_string_length(json_array_get(v, 0)), 3);
    json_decref(v);
    /* an error after a BOM: the offset counts the BOM's bytes */
    ca_json_loc loc;
    assert_int_equal(ca_json_load_buffer("\xEF\xBB\xBF[1,]", 7, 0, NULL, &v, &loc), CA_E_INVALID);
    assert_int_equal(loc.line, 1);
    assert_true(loc.offset >= 6);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/ca_test_json_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *doc = "{\n  \"name\": \"x\",\n  \"n\": 3\n}\n";
    assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
    close(fd);
    json_t *v = NULL;
    assert_int_equal(ca_json_load_file(path, 0, &v, NULL), CA_OK);
    int64_t n = 0;
    assert_int_equal(ca_json_get_int(v, "n", CA_JSON_REQUIRED, &n), CA_OK);
    assert_int_equal(n, 3);
    json_decref(v);

    FILE *f = fopen(path, "w");
    fputs("{\n\n  \"a\" 1}", f);
    fclose(f);
    ca_json_loc loc;
    assert_int_equal(ca_json_load_file(path, 0, &v, &loc), CA_E_INVALID);
    assert_int_equal(loc.line, 3);
    char want[128];
    snprintf(want, sizeof want, "json: %s:3:", path);
    assert_memory_equal(ca_error_last()->message, want, strlen(want));
    unlink(path);

    assert_int_equal(ca_json_load_file(path, 0, &v, NULL), CA_E_NOT_FOUND);
    assert_null(v);
}

/* ---- typed getters ------------------------------------------------------------------------ */

static void test_getters(void **state)
{
    (void)state;
    json_t *o = load("{\"s\":\"str\",\"i\":-42,\"r\":1.5,\"one\":1.0,\"t\":true,\"f\":false,"
                     "\"o\":{\"x\":1},\"a\":[1,2],\"z\":null}");
    const char *s = NULL;
    size_t len = 0;
    assert_int_equal(ca_json_get_string(o, "s", CA_JSON_REQUIRED, &s, &len), CA_OK);
    assert_string_equal(s, "str");
    assert_int_equal(len, 3);
    int64_t i = 0;
    assert_int_equal(ca_json_get_int(o, "i", CA_JSON_REQUIRED, &i), CA_OK);
    assert_int_equal(i, -42);
    double d = 0;
    assert_int_equal(ca_json_get_double(o, "r", CA_JSON_REQUIRED, &d), CA_OK);
    assert_true(d == 1.5);
    assert_int_equal(ca_json_get_double(o, "i", CA_JSON_REQUIRED, &d), CA_OK);
    assert_true(d == -42.0);
    bool b = false;
    assert_int_equal(ca_json_get_bool(o, "t", CA_JSON_REQUIRED, &b), CA_OK);
    assert_true(b);
    assert_int_equal(ca_json_get_bool(o, "f", CA_JSON_REQUIRED, &b), CA_OK);
    assert_false(b);
    json_t *sub = NULL;
    assert_int_equal(ca_json_get_object(o, "o", CA_JSON_REQUIRED, &sub), CA_OK);
    assert_true(json_is_object(sub));
    assert_int_equal(ca_json_get_array(o, "a", CA_JSON_REQUIRED, &sub), CA_OK);
    assert_int_equal(json_array_size(sub), 2);

    /* optional: absent leaves the default */
    i = 7;
    assert_int_equal(ca_json_get_int(o, "missing", CA_JSON_OPTIONAL, &i), CA_OK);
    assert_int_equal(i, 7);
    s = "default";
    assert_int_equal(ca_json_get_string(o, "missing", CA_JSON_NULLABLE, &s, NULL), CA_OK);
    assert_string_equal(s, "default");
    assert_int_equal(ca_json_get_string(o, "z", CA_JSON_NULLABLE, &s, NULL), CA_OK);
    assert_string_equal(s, "default");

    /* errors name the member, one line */
    ca_error_clear();
    assert_int_equal(ca_json_get_int(o, "missing", CA_JSON_REQUIRED, &i), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "json: member 'missing' is missing");
    assert_int_equal(ca_json_get_int(o, "s", CA_JSON_OPTIONAL, &i), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message,
                        "json: member 's' must be an integer, not a string");
    assert_int_equal(ca_json_get_int(o, "one", CA_JSON_REQUIRED, &i), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message,
                        "json: member 'one' must be an integer, not a real");
    assert_int_equal(ca_json_get_string(o, "z", CA_JSON_OPTIONAL, &s, NULL), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "json: member 'z' must be a string, not null");
    assert_int_equal(ca_json_get_bool(o, "i", CA_JSON_REQUIRED, &b), CA_E_INVALID);
    assert_int_equal(ca_json_get_object(o, "a", CA_JSON_REQUIRED, &sub), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message,
                        "json: member 'a' must be an object, not an array");
    assert_int_equal(ca_json_get_array(o, "o", CA_JSON_REQUIRED, &sub), CA_E_INVALID);
    assert_int_equal(ca_json_get_double(o, "t", CA_JSON_REQUIRED, &d), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message,
                        "json: member 't' must be a number, not a boolean");
    json_t *arr = NULL;
    assert_int_equal(ca_json_get_array(o, "a", CA_JSON_REQUIRED, &arr), CA_OK);
    assert_int_equal(ca_json_get_int(arr, "x", CA_JSON_OPTIONAL, &i), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "json: member 'x' read from an array, not an object");
    json_decref(o);

    /* U+0000 inside a string: only callers that take the length get it */
    json_t *n = NULL;
    assert_int_equal(ca_json_load_string("{\"k\":\"a\\u0000b\"}", JSON_ALLOW_NUL, NULL, &n, NULL),
                     CA_OK);
    assert_int_equal(ca_json_get_string(n, "k", CA_JSON_REQUIRED, &s, NULL), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "json: member 'k' contains U+0000");
    assert_int_equal(ca_json_get_string(n, "k", CA_JSON_REQUIRED, &s, &len), CA_OK);
    assert_int_equal(len, 3);
    json_decref(n);

    assert_string_equal(ca_json_type_name(json_true()), "boolean");
    assert_string_equal(ca_json_type_name(json_null()), "null");
}

/* ---- dumping ------------------------------------------------------------------------------ */

static void test_dump(void **state)
{
    (void)state;
    json_t *v = load("{\"b\": 1, \"a\": [true, null]}");
    char *s = NULL;
    assert_int_equal(ca_json_dump(v, JSON_COMPACT, &s), CA_OK);
    assert_string_equal(s, "{\"b\":1,\"a\":[true,null]}"); /* insertion order, not canonical */
    ca__free(s);
    assert_int_equal(ca_json_dump(v, JSON_COMPACT | JSON_SORT_KEYS, &s), CA_OK);
    assert_string_equal(s, "{\"a\":[true,null],\"b\":1}");
    ca__free(s);
    json_decref(v);

    /* scalars are encodable (JSON_ENCODE_ANY) */
    json_t *str = json_string("x");
    assert_int_equal(ca_json_dump(str, 0, &s), CA_OK);
    assert_string_equal(s, "\"x\"");
    ca__free(s);
    json_decref(str);

    ca_buf b = CA_BUF_INIT;
    ca_buf_puts(&b, "prefix:");
    json_t *i = json_integer(5);
    assert_int_equal(ca_json_dump_buf(i, 0, &b), CA_OK);
    assert_string_equal(ca_buf_cstr(&b), "prefix:5");
    json_decref(i);

    /* a string jansson refuses (invalid UTF-8) leaves the buffer as it was */
    json_t *bad = json_stringn_nocheck("\xC3", 1);
    assert_int_equal(ca_json_dump_buf(bad, 0, &b), CA_E_INVALID);
    assert_string_equal(ca_buf_cstr(&b), "prefix:5");
    json_decref(bad);
    ca_buf_free(&b);
}

/* ---- canonical JSON: numbers -------------------------------------------------------------- */

/* RFC 8785 Appendix B (IEEE 754 bit patterns → ECMAScript text). */
static void test_rfc8785_appendix_b_numbers(void **state)
{
    (void)state;
    struct {
        uint64_t bits;
        const char *want;
    } v[] = {
        {UINT64_C(0x0000000000000000), "0"},
        {UINT64_C(0x8000000000000000), "0"},
        {UINT64_C(0x0000000000000001), "5e-324"},
        {UINT64_C(0x8000000000000001), "-5e-324"},
        {UINT64_C(0x7fefffffffffffff), "1.7976931348623157e+308"},
        {UINT64_C(0xffefffffffffffff), "-1.7976931348623157e+308"},
        {UINT64_C(0x4340000000000000), "9007199254740992"},
        {UINT64_C(0xc340000000000000), "-9007199254740992"},
        {UINT64_C(0x4430000000000000), "295147905179352830000"},
        {UINT64_C(0x44b52d02c7e14af5), "9.999999999999997e+22"},
        {UINT64_C(0x44b52d02c7e14af6), "1e+23"},
        {UINT64_C(0x44b52d02c7e14af7), "1.0000000000000001e+23"},
        {UINT64_C(0x444b1ae4d6e2ef4e), "999999999999999700000"},
        {UINT64_C(0x444b1ae4d6e2ef4f), "999999999999999900000"},
        {UINT64_C(0x444b1ae4d6e2ef50), "1e+21"},
        {UINT64_C(0x3eb0c6f7a0b5ed8c), "9.999999999999997e-7"},
        {UINT64_C(0x3eb0c6f7a0b5ed8d), "0.000001"},
        {UINT64_C(0x41b3de4355555553), "333333333.3333332"},
        {UINT64_C(0x41b3de4355555554), "333333333.33333325"},
        {UINT64_C(0x41b3de4355555555), "333333333.3333333"},
        {UINT64_C(0x41b3de4355555556), "333333333.3333334"},
        {UINT64_C(0x41b3de4355555557), "333333333.33333343"},
        {UINT64_C(0xbecbf647612f3696), "-0.0000033333333333333333"},
        {UINT64_C(0x43143ff3c1cb0959), "1424953923781206.2"},
        /* powers of two whose nearest 16-digit decimal falls outside the rounding interval: the
         * shortest form needs the "raise the last digit" step (checked against Node.js) */
        {UINT64_C(0x0060000000000000), "7.120236347223045e-307"},
        {UINT64_C(0x3730000000000000), "7.174648137343064e-43"},
        {UINT64_C(0x2d70000000000000), "7.854549544476363e-90"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        expect_number(from_bits(v[i].bits), v[i].want);

    ca_error_clear();
    char out[CA_JSON_DOUBLE_MAX];
    assert_int_equal(ca_json_format_double(from_bits(UINT64_C(0x7fffffffffffffff)), out, NULL),
                     CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "json: NaN has no JSON form");
    assert_int_equal(ca_json_format_double(INFINITY, out, NULL), CA_E_INVALID);
    assert_int_equal(ca_json_format_double(-INFINITY, out, NULL), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "json: Infinity has no JSON form");
}

static void test_number_layout(void **state)
{
    (void)state;
    expect_number(1e30, "1e+30");
    expect_number(4.5, "4.5");
    expect_number(0.002, "0.002");
    expect_number(1e-7, "1e-7");
    expect_number(333333333.33333329, "333333333.3333333");
    expect_number(-0.0, "0");
    expect_number(1.0, "1");
    expect_number(100, "100");
    expect_number(0.1, "0.1");
    expect_number(-1.5, "-1.5");
    expect_number(1e21, "1e+21");            /* exponent form from 21 */
    expect_number(1e20, "100000000000000000000");
    expect_number(1.5e20, "150000000000000000000");
    expect_number(1e-6, "0.000001");         /* fixed down to -6 */
    expect_number(1.25e-6, "0.00000125");
    expect_number(1.25e-7, "1.25e-7");
    expect_number(123e-20, "1.23e-18");
    expect_number(1.5e300, "1.5e+300");
    expect_number(9007199254740994.0, "9007199254740994");
    expect_number(123456.789, "123456.789");
    expect_number(5e-324, "5e-324");
    expect_number(2.2250738585072014e-308, "2.2250738585072014e-308");
    expect_number(-1.7976931348623157e308, "-1.7976931348623157e+308");
}

/* Every output reads back to the same double and is no longer than %.17g's digits. */
static void test_number_round_trip_random(void **state)
{
    (void)state;
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
    for (int i = 0; i < 50000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d = from_bits(x);
        if (!isfinite(d))
            continue;
        char out[CA_JSON_DOUBLE_MAX];
        size_t len;
        assert_int_equal(ca_json_format_double(d, out, &len), CA_OK);
        assert_true(len < CA_JSON_DOUBLE_MAX);
        assert_true(strtod(out, NULL) == (d == 0 ? 0.0 : d));
    }
}

static void test_shortest_digits(void **state)
{
    (void)state;
    char d[18];
    int n, e;
    ca_json_shortest_digits(1.0, false, d, &n, &e);
    assert_string_equal(d, "1");
    assert_int_equal(n, 1);
    assert_int_equal(e, 0);
    ca_json_shortest_digits(1e300, false, d, &n, &e);
    assert_string_equal(d, "1");
    assert_int_equal(e, 300);
    ca_json_shortest_digits(0.1, false, d, &n, &e);
    assert_string_equal(d, "1");
    assert_int_equal(e, -1);
    ca_json_shortest_digits(1.0 / 3.0, false, d, &n, &e);
    assert_string_equal(d, "3333333333333333");
    assert_int_equal(n, 16);
    assert_int_equal(e, -1);
    /* FLOAT: 0.1f's exact double value prints as 0.1 with strtof (functions.md H18) */
    ca_json_shortest_digits((double)0.1f, true, d, &n, &e);
    assert_string_equal(d, "1");
    assert_int_equal(e, -1);
    ca_json_shortest_digits((double)16777216.0f, true, d, &n, &e);
    assert_string_equal(d, "16777216");
    assert_int_equal(e, 7);
    ca_json_shortest_digits(9.5, false, d, &n, &e);
    assert_string_equal(d, "95");
    assert_int_equal(e, 0);
}

/* Number text must not follow the host's LC_NUMERIC (a decimal comma would change hashes). */
static void test_number_ignores_locale(void **state)
{
    (void)state;
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    const char *set = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++)
        set = setlocale(LC_NUMERIC, names[i]);
    expect_number(4.5, "4.5");
    expect_number(1.25e-7, "1.25e-7");
    expect_canonical("[0.5, 1e-30]", "[0.5,1e-30]");
    setlocale(LC_NUMERIC, "C");
    if (!set)
        skip(); /* no comma locale installed: the assertions above still ran under "C" */
}

/* ---- canonical JSON: structure ------------------------------------------------------------ */

static void test_rfc8785_key_order(void **state)
{
    (void)state;
    /* RFC 8785 §3.2.3: sorted by UTF-16 code units, so U+1F600 (D83D DE00) precedes U+FB33. */
    expect_canonical("{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", "
                     "\"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\", \"1\": \"One\", "
                     "\"\\ud83d\\ude00\": \"Emoji: Grinning Face\", \"\\u0080\": \"Control\", "
                     "\"\\u00f6\": \"Latin Small Letter O With Diaeresis\"}",
                     "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
                     "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\","
                     "\"\xE2\x82\xAC\":\"Euro Sign\",\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
                     "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

static void test_rfc8785_main_example(void **state)
{
    (void)state;
    /* RFC 8785 §3.2.4 */
    expect_canonical(
        "{\n"
        "  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
        "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
        "  \"literals\": [null, true, false]\n"
        "}",
        "{\"literals\":[null,true,false],"
        "\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
        "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

static void test_canonical_escapes(void **state)
{
    (void)state;
    /* only " \ and C0 controls are escaped; short forms for \b \t \n \f \r; DEL, U+2028 and
     * non-ASCII stay raw; '/' is not escaped */
    expect_canonical("[\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u000e\\u001f \\u007f\"]",
                     "[\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u000e\\u001f \x7f\"]");
    expect_canonical("[\"\\\"\\\\\\/\\u2028\\u00e9\\ud83d\\ude00\"]",
                     "[\"\\\"\\\\/\xE2\x80\xA8\xC3\xA9\xF0\x9F\x98\x80\"]");
    expect_canonical("{\"a\\nb\":\"\\u001F\"}", "{\"a\\nb\":\"\\u001f\"}");
    expect_canonical("\"\"", "\"\"");
}

static void test_canonical_values_and_nesting(void **state)
{
    (void)state;
    expect_canonical("  [ ]  ", "[]");
    expect_canonical("{ }", "{}");
    expect_canonical("null", "null");
    expect_canonical("[true,false,null]", "[true,false,null]");
    /* integers exact, also beyond 2^53 (an extension over RFC 8785's doubles) */
    expect_canonical("[0, -1, 9007199254740993, -9223372036854775808, 9223372036854775807]",
                     "[0,-1,9007199254740993,-9223372036854775808,9223372036854775807]");
    /* reals: integral ones print like integers, -0 as 0 */
    expect_canonical("[2.0, -0.0, 1e2, 0.5, -1e-7]", "[2,0,100,0.5,-1e-7]");
    /* nesting; arrays keep order; nested objects sorted too */
    expect_canonical("{\"b\":[3,1,{\"z\":1,\"y\":[{}]}],\"a\":{\"d\":null,\"c\":\"x\"}}",
                     "{\"a\":{\"c\":\"x\",\"d\":null},\"b\":[3,1,{\"y\":[{}],\"z\":1}]}");
    /* key order is by code units, not insertion; prefixes first */
    expect_canonical("{\"ab\":1,\"a\":2,\"\":3,\"B\":4,\"b\":5}",
                     "{\"\":3,\"B\":4,\"a\":2,\"ab\":1,\"b\":5}");
    /* functions.md H32: the bytes and their H256 */
    json_t *v = json_object();
    json_object_set_new(v, "c", json_integer(1));
    json_object_set_new(v, "b", json_string("x\x1fy"));
    json_object_set_new(v, "a", json_null());
    char *out = NULL;
    assert_int_equal(ca_json_canonical_string(v, &out, NULL), CA_OK);
    assert_string_equal(out, "{\"a\":null,\"b\":\"x\\u001fy\",\"c\":1}");
    char hex[CA_HASH_H256_HEX_LEN + 1];
    assert_int_equal(ca_hash_h256_hex(out, strlen(out), hex), CA_OK);
    assert_string_equal(hex, "958899d5f767e4f5cce9856a425e7f37d881a69c145b8e61e583f5793bc4e54f");
    ca__free(out);
    json_decref(v);
}

static void test_canonical_appends_and_embedded_nul(void **state)
{
    (void)state;
    ca_buf b = CA_BUF_INIT;
    ca_buf_puts(&b, "head|");
    json_t *v = json_pack("{s:i, s:s%}", "k", 1, "n", "a\0b", (size_t)3);
    assert_non_null(v);
    assert_int_equal(ca_json_canonical(v, &b), CA_OK);
    assert_string_equal(ca_buf_cstr(&b), "head|{\"k\":1,\"n\":\"a\\u0000b\"}");
    json_decref(v);
    ca_buf_free(&b);
}

static void test_canonical_errors(void **state)
{
    (void)state;
    ca_buf b = CA_BUF_INIT;
    ca_buf_puts(&b, "keep");

    /* invalid UTF-8 in a value (jansson's _nocheck constructors let it in) */
    json_t *arr = json_array();
    json_array_append_new(arr, json_string("ok"));
    json_array_append_new(arr, json_stringn_nocheck("ab\xFF", 3));
    ca_error_clear();
    assert_int_equal(ca_json_canonical(arr, &b), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message,
                        "json: canonical: invalid UTF-8 in a string at byte offset 2");
    assert_string_equal(ca_buf_cstr(&b), "keep"); /* length restored */
    json_decref(arr);

    /* ... in a member name */
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "\xED\xA0\x80", json_true());
    json_object_set_new(o, "a", json_true());
    assert_int_equal(ca_json_canonical(o, &b), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message,
                        "json: canonical: invalid UTF-8 in a member name at byte offset 0");
    json_decref(o);

    /* a surrogate pair encoded as two 3-byte sequences (CESU-8) */
    json_t *s = json_string_nocheck("\xED\xA0\xBD\xED\xB8\x80");
    assert_int_equal(ca_json_canonical(s, &b), CA_E_INVALID);
    json_decref(s);

    /* jansson keeps NaN out of a tree (json_real_set refuses it), so the writer's own refusal is
     * covered through ca_json_format_double in the number tests */
    json_t *r = json_real(1.0);
    assert_int_equal(json_real_set(r, NAN), -1);
    json_decref(r);

    assert_string_equal(ca_buf_cstr(&b), "keep");
    ca_buf_free(&b);
}

static json_t *nested_arrays(int levels)
{
    json_t *v = json_array();
    for (int i = 1; i < levels; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, v);
        v = outer;
    }
    return v;
}

static void test_canonical_depth_limit(void **state)
{
    (void)state;
    json_t *ok = nested_arrays(CA_JSON_MAX_DEPTH);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ca_json_canonical_string(ok, &out, &len), CA_OK);
    assert_int_equal(len, 2 * CA_JSON_MAX_DEPTH);
    ca__free(out);
    json_decref(ok);

    json_t *deep = nested_arrays(CA_JSON_MAX_DEPTH + 1);
    assert_int_equal(ca_json_canonical_string(deep, &out, &len), CA_E_INVALID);
    assert_null(out);
    assert_string_equal(ca_error_last()->message, "json: canonical: nesting deeper than 2048");
    json_decref(deep);
}

static void test_canonical_bounded_buffer_and_oom(void **state)
{
    (void)state;
    json_t *v = load("{\"key\":\"a fairly long value that will not fit\",\"z\":[1,2,3]}");
    ca_buf small;
    ca_buf_init(&small, 16);
    assert_int_equal(ca_json_canonical(v, &small), CA_E_OVERFLOW);
    assert_int_equal(ca_buf_status(&small), CA_E_OVERFLOW);
    ca_buf_free(&small);

    /* every allocation failure is reported; no leak (ASan) */
    for (long k = 1; k <= 6; k++) {
        char *out = NULL;
        ca__alloc_fail_after(k);
        int rc = ca_json_canonical_string(v, &out, NULL);
        ca__alloc_fail_after(0);
        if (rc == CA_OK)
            ca__free(out);
        else
            assert_int_equal(rc, CA_E_NOMEM);
    }
    json_decref(v);
}

/* JSON with equal data gives equal bytes whatever the member order or number spelling. */
static void test_canonical_is_order_independent(void **state)
{
    (void)state;
    json_t *a = load("{\"x\": 1.50, \"y\": {\"q\": [1E2, \"s\"], \"p\": true}}");
    json_t *b = load("{\"y\":{\"p\":true,\"q\":[100,\"s\"]},\"x\":1.5}");
    char *sa = NULL, *sb = NULL;
    assert_int_equal(ca_json_canonical_string(a, &sa, NULL), CA_OK);
    assert_int_equal(ca_json_canonical_string(b, &sb, NULL), CA_OK);
    assert_string_equal(sa, sb);
    ca__free(sa);
    ca__free(sb);
    json_decref(a);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_string_and_errors),
        cmocka_unit_test(test_load_buffer_bom_and_nul),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_rfc8785_appendix_b_numbers),
        cmocka_unit_test(test_number_layout),
        cmocka_unit_test(test_number_round_trip_random),
        cmocka_unit_test(test_shortest_digits),
        cmocka_unit_test(test_number_ignores_locale),
        cmocka_unit_test(test_rfc8785_key_order),
        cmocka_unit_test(test_rfc8785_main_example),
        cmocka_unit_test(test_canonical_escapes),
        cmocka_unit_test(test_canonical_values_and_nesting),
        cmocka_unit_test(test_canonical_appends_and_embedded_nul),
        cmocka_unit_test(test_canonical_errors),
        cmocka_unit_test(test_canonical_depth_limit),
        cmocka_unit_test(test_canonical_bounded_buffer_and_oom),
        cmocka_unit_test(test_canonical_is_order_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
