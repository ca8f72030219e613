/* util/text: strict UTF-8, decode/encode, UTF-16 measures and order, normalization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/text.h"

#include <string.h>

#define LIT(s) s, sizeof(s) - 1

static void expect_valid(const char *s, size_t n)
{
    size_t bad = 12345;
    assert_true(ca_text_utf8_valid(s, n, &bad));
    assert_int_equal(bad, 12345); /* untouched */
}

static void expect_invalid(const char *s, size_t n, size_t at)
{
    size_t bad = 12345;
    assert_false(ca_text_utf8_valid(s, n, &bad));
    assert_int_equal(bad, at);
}

static void test_utf8_valid_accepts(void **state)
{
    (void)state;
    expect_valid(LIT(""));
    expect_valid(LIT("plain ascii, longer than eight bytes for the fast path"));
    expect_valid(LIT("\0embedded\0nul")); /* U+0000 is valid */
    expect_valid(LIT("\xC2\x80"));        /* U+0080, smallest 2-byte */
    expect_valid(LIT("\xDF\xBF"));        /* U+07FF */
    expect_valid(LIT("\xE0\xA0\x80"));    /* U+0800, smallest 3-byte */
    expect_valid(LIT("\xED\x9F\xBF"));    /* U+D7FF, just below the surrogates */
    expect_valid(LIT("\xEE\x80\x80"));    /* U+E000, just above */
    expect_valid(LIT("\xEF\xBF\xBF"));    /* U+FFFF */
    expect_valid(LIT("\xF0\x90\x80\x80")); /* U+10000 */
    expect_valid(LIT("\xF4\x8F\xBF\xBF")); /* U+10FFFF */
    expect_valid(LIT("h\xC3\xA9llo \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 12345678"));
    assert_true(ca_text_utf8_valid(NULL, 0, NULL));
}

static void test_utf8_valid_rejects_with_offset(void **state)
{
    (void)state;
    expect_invalid(LIT("\xC3"), 0);             /* truncated */
    expect_invalid(LIT("ab\xFF"), 2);           /* functions.md §12.4 */
    expect_invalid(LIT("\xC0\xAF"), 0);         /* overlong '/' */
    expect_invalid(LIT("\xC1\xBF"), 0);         /* overlong */
    expect_invalid(LIT("\xE0\x80\xAF"), 0);     /* overlong 3-byte */
    expect_invalid(LIT("\xE0\x9F\xBF"), 0);     /* overlong U+07FF */
    expect_invalid(LIT("\xF0\x80\x80\xAF"), 0); /* overlong 4-byte */
    expect_invalid(LIT("\xF0\x8F\xBF\xBF"), 0); /* overlong U+FFFF */
    expect_invalid(LIT("\xED\xA0\x80"), 0);     /* U+D800 */
    expect_invalid(LIT("\xED\xBF\xBF"), 0);     /* U+DFFF */
    expect_invalid(LIT("\xED\xA0\xBD\xED\xB8\x80"), 0); /* CESU-8 surrogate pair */
    expect_invalid(LIT("\xF4\x90\x80\x80"), 0); /* U+110000 */
    expect_invalid(LIT("\xF5\x80\x80\x80"), 0);
    expect_invalid(LIT("\xFE"), 0);
    expect_invalid(LIT("\x80"), 0); /* stray continuation */
    expect_invalid(LIT("abcdefgh\xC3\xA9\xA9"), 10);
    expect_invalid(LIT("\xC3\xA9\xC3"), 2);
    expect_invalid(LIT("\xE6\x97"), 0);     /* truncated 3-byte */
    expect_invalid(LIT("\xE6\x97x"), 0);    /* bad continuation */
    expect_invalid(LIT("\xF0\x9F\x98"), 0); /* truncated 4-byte */
    expect_invalid(LIT("0123456789abcdef\xF0\x9F\x98\x80\x80"), 20);
    /* the length bounds the scan: a valid sequence cut by n is truncated */
    expect_invalid("\xC3\xA9", 1, 0);
    expect_valid("ab\xFF", 2);
}

static void test_is_ascii(void **state)
{
    (void)state;
    assert_true(ca_text_is_ascii(LIT("")));
    assert_true(ca_text_is_ascii(LIT("0123456789abcdefXYZ\x7f")));
    assert_false(ca_text_is_ascii(LIT("0123456789abcdef\x80")));
    assert_false(ca_text_is_ascii(LIT("\xC3\xA9")));
    assert_false(ca_text_is_ascii(LIT("abcdefg\xC3\xA9")));
}

static void test_decode_encode(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(ca_text_utf8_decode(LIT("A"), &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(ca_text_utf8_decode(LIT("\xC3\xA9x"), &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(ca_text_utf8_decode(LIT("\xE2\x82\xAC"), &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(ca_text_utf8_decode(LIT("\xF0\x9F\x98\x80"), &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(ca_text_utf8_decode(LIT("\xF4\x8F\xBF\xBF"), &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
    assert_int_equal(ca_text_utf8_decode("\0", 1, &cp), 1);
    assert_int_equal(cp, 0);
    assert_int_equal(ca_text_utf8_decode(LIT("\xED\xA0\x80"), &cp), CA_E_INVALID);
    assert_int_equal(ca_text_utf8_decode("\xF0\x9F\x98\x80", 3, &cp), CA_E_INVALID);
    assert_int_equal(ca_text_utf8_decode(LIT("\xC0\x80"), &cp), CA_E_INVALID);

    /* encode ∘ decode round-trips every scalar value; surrogates and > U+10FFFF are refused */
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        char b[4];
        int n = ca_text_utf8_encode(c, b);
        if (c >= 0xD800 && c <= 0xDFFF) {
            assert_int_equal(n, CA_E_INVALID);
            continue;
        }
        assert_true(n >= 1 && n <= 4);
        uint32_t back = 0;
        assert_int_equal(ca_text_utf8_decode(b, (size_t)n, &back), n);
        assert_int_equal(back, c);
    }
    char b[4];
    assert_int_equal(ca_text_utf8_encode(0x110000, b), CA_E_INVALID);
}

static void test_utf16_length(void **state)
{
    (void)state;
    size_t n = 99;
    assert_int_equal(ca_text_utf16_length(LIT(""), &n), CA_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ca_text_utf16_length(LIT("abc"), &n), CA_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ca_text_utf16_length(LIT("a\xF0\x9F\x98\x80"
                                              "b"),
                                          &n),
                     CA_OK);
    assert_int_equal(n, 4);
    assert_int_equal(ca_text_utf16_length(LIT("h\xC3\xA9llo"), &n), CA_OK);
    assert_int_equal(n, 5);
    assert_int_equal(ca_text_utf16_length(LIT("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"), &n), CA_OK);
    assert_int_equal(n, 3);
    ca_error_clear();
    assert_int_equal(ca_text_utf16_length(LIT("ab\xFF"), &n), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "text: invalid UTF-8 at byte offset 2");
}

static void test_utf16_order(void **state)
{
    (void)state;
    /* U+FB33 (EF AC B3) sorts AFTER U+1F600 (F0 9F 98 80) in UTF-16 (D83D DE00) though before
     * it in bytes: RFC 8785 §3.2.3. */
    assert_true(ca_text_utf16_cmp(LIT("\xEF\xAC\xB3"), LIT("\xF0\x9F\x98\x80")) > 0);
    assert_true(ca_text_utf16_cmp(LIT("\xF0\x9F\x98\x80"), LIT("\xEF\xAC\xB3")) < 0);
    assert_true(memcmp("\xEF\xAC\xB3", "\xF0\x9F\x98\x80", 3) < 0);
    /* below the surrogates, byte order and UTF-16 order agree */
    assert_true(ca_text_utf16_cmp(LIT("\xE2\x82\xAC"), LIT("\xF0\x9F\x98\x80")) < 0);
    assert_true(ca_text_utf16_cmp(LIT("\xED\x9F\xBF"), LIT("\xF0\x90\x80\x80")) < 0);
    /* two supplementary characters sharing a high surrogate */
    assert_true(ca_text_utf16_cmp(LIT("\xF0\x9F\x98\x80"), LIT("\xF0\x9F\x98\x81")) < 0);
    /* prefix, equality, shared prefix then difference */
    assert_int_equal(ca_text_utf16_cmp(LIT("abc"), LIT("abc")), 0);
    assert_true(ca_text_utf16_cmp(LIT("ab"), LIT("abc")) < 0);
    assert_true(ca_text_utf16_cmp(LIT("abc"), LIT("ab")) > 0);
    assert_true(ca_text_utf16_cmp(LIT(""), LIT("a")) < 0);
    assert_true(ca_text_utf16_cmp(LIT("x\xEF\xBF\xBF"), LIT("x\xF4\x8F\xBF\xBF")) > 0);
    /* the difference sits in a continuation byte */
    assert_true(ca_text_utf16_cmp(LIT("\xEF\xAC\xB3"), LIT("\xEF\xAC\xB4")) < 0);
    assert_true(ca_text_utf16_cmp(LIT("\x00"
                                      "a"),
                                  LIT("\x00"
                                      "b")) < 0);
}

static void expect_norm(const char *in, size_t n, ca_text_form form, unsigned flags,
                        const char *want, size_t want_len, ca_buf *b)
{
    assert_int_equal(ca_text_normalize(in, n, form, flags, b), CA_OK);
    assert_int_equal(b->len, want_len);
    assert_memory_equal(b->data, want, want_len);
    assert_int_equal(b->data[b->len], '\0');
}

static void test_nfkc(void **state)
{
    (void)state;
    struct {
        const char *in, *want;
    } v[] = {
        {"\xEF\xAC\x81", "fi"},                       /* ﬁ */
        {"\xEF\xBC\xA1", "A"},                        /* Ａ */
        {"\xE2\x84\x8C", "H"},                        /* ℌ */
        {"\xEF\xAC\x81le", "file"},                   /* functions.md §12.4 */
        {"\xEF\xBC\xA6\xEF\xBD\x8F\xEF\xBD\x8F", "Foo"}, /* Ｆｏｏ */
        {"\xE2\x91\xA0", "1"},                        /* ① */
        {"e\xCC\x81", "\xC3\xA9"},                    /* e + U+0301 composes */
        {"A\xC2\xA0" "B", "A B"},                     /* NBSP is a compatibility space */
        {"\xE3\x8C\x80", "\xE3\x82\xA2\xE3\x83\x91\xE3\x83\xBC\xE3\x83\x88"}, /* ㌀ → アパート */
        {"Stra\xC3\x9F" "e", "Stra\xC3\x9F" "e"},     /* NFKC keeps ß */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *out = NULL;
        size_t len = 0;
        assert_int_equal(ca_text_nfkc(v[i].in, strlen(v[i].in), &out, &len), CA_OK);
        assert_string_equal(out, v[i].want);
        assert_int_equal(len, strlen(v[i].want));
        ca__free(out);
    }
    /* U+FDFA expands to 18 code points from 3 bytes: the scratch must grow past its first guess */
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ca_text_nfkc(LIT("\xEF\xB7\xBA"), &out, &len), CA_OK);
    assert_true(len > 30);
    assert_true(ca_text_utf8_valid(out, len, NULL));
    ca__free(out);
    /* embedded NUL survives */
    assert_int_equal(ca_text_nfkc(LIT("a\0\xEF\xAC\x81"), &out, &len), CA_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "a\0fi", 4);
    ca__free(out);
}

static void test_nfkc_ascii_fast_path_and_errors(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 99;
    assert_int_equal(ca_text_nfkc(LIT(""), &out, &len), CA_OK);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    ca__free(out);
    assert_int_equal(ca_text_nfkc(LIT("Plain ASCII stays put, ~!@#\x01\x7f"), &out, NULL), CA_OK);
    assert_string_equal(out, "Plain ASCII stays put, ~!@#\x01\x7f");
    ca__free(out);

    ca_error_clear();
    out = (char *)1;
    assert_int_equal(ca_text_nfkc(LIT("ab\xFF"), &out, &len), CA_E_INVALID);
    assert_null(out);
    assert_string_equal(ca_error_last()->message, "text: invalid UTF-8 at byte offset 2");
    assert_int_equal(ca_text_nfkc(LIT("\xEF\xAC\x81\xED\xA0\x80"), &out, &len), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "text: invalid UTF-8 at byte offset 3");
    assert_int_equal(ca_text_nfkc(LIT("abcdefghij\xC0\xAF"), &out, &len), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "text: invalid UTF-8 at byte offset 10");

    /* allocation failure is reported, nothing leaks */
    for (long k = 1; k <= 3; k++) {
        ca__alloc_fail_after(k);
        int rc = ca_text_nfkc(LIT("\xEF\xAC\x81le"), &out, &len);
        ca__alloc_fail_after(0);
        if (rc == CA_OK) {
            assert_string_equal(out, "file");
            ca__free(out);
        } else {
            assert_int_equal(rc, CA_E_NOMEM);
            assert_null(out);
        }
    }
}

static void test_normalize_forms_and_casefold(void **state)
{
    (void)state;
    ca_buf b = CA_BUF_INIT; /* one scratch buffer reused across calls */
    expect_norm(LIT("\xEF\xAC\x81le"), CA_TEXT_NFC, 0, LIT("\xEF\xAC\x81le"), &b);
    expect_norm(LIT("e\xCC\x81"), CA_TEXT_NFC, 0, LIT("\xC3\xA9"), &b);
    expect_norm(LIT("\xC3\xA9"), CA_TEXT_NFD, 0, LIT("e\xCC\x81"), &b);
    expect_norm(LIT("\xEF\xAC\x81"), CA_TEXT_NFKD, 0, LIT("fi"), &b);
    expect_norm(LIT("\xE1\xBA\x9B\xCC\xA3"), CA_TEXT_NFKD, 0, LIT("s\xCC\xA3\xCC\x87"), &b);
    expect_norm(LIT("Stra\xC3\x9F"
                    "e"),
                CA_TEXT_NFKC, CA_TEXT_CASEFOLD, LIT("strasse"), &b);
    expect_norm(LIT("\xCE\xA3\xCE\x91\xCE\xA3 \xCF\x82"), CA_TEXT_NFC, CA_TEXT_CASEFOLD,
                LIT("\xCF\x83\xCE\xB1\xCF\x83 \xCF\x83"), &b); /* ΣΑΣ ς → σασ σ */
    expect_norm(LIT("\xC4\xB0"), CA_TEXT_NFC, CA_TEXT_CASEFOLD, LIT("i\xCC\x87"), &b); /* İ */
    /* ASCII fast path, with and without folding */
    expect_norm(LIT("MiXeD 123 Case!"), CA_TEXT_NFKC, CA_TEXT_CASEFOLD, LIT("mixed 123 case!"),
                &b);
    expect_norm(LIT("MiXeD"), CA_TEXT_NFD, 0, LIT("MiXeD"), &b);
    expect_norm(LIT(""), CA_TEXT_NFC, 0, LIT(""), &b);
    /* the ASCII fast path agrees with utf8proc (forced through it by one non-ASCII byte) */
    expect_norm(LIT("ABCxyz\xC3\xA9"), CA_TEXT_NFKC, CA_TEXT_CASEFOLD, LIT("abcxyz\xC3\xA9"), &b);

    ca_error_clear();
    assert_int_equal(ca_text_normalize(LIT("x\xC3"), CA_TEXT_NFC, 0, &b), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "text: invalid UTF-8 at byte offset 1");
    /* a failed call leaves the scratch usable */
    expect_norm(LIT("\xEF\xBC\xA1"), CA_TEXT_NFKC, 0, LIT("A"), &b);
    ca_buf_free(&b);

    /* a bounded scratch that is too small reports the overflow */
    ca_buf small;
    ca_buf_init(&small, 8);
    assert_int_equal(ca_text_normalize(LIT("\xEF\xAC\x81\xEF\xAC\x81"), CA_TEXT_NFKC, 0, &small),
                     CA_E_OVERFLOW);
    ca_buf_free(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_accepts),
        cmocka_unit_test(test_utf8_valid_rejects_with_offset),
        cmocka_unit_test(test_is_ascii),
        cmocka_unit_test(test_decode_encode),
        cmocka_unit_test(test_utf16_length),
        cmocka_unit_test(test_utf16_order),
        cmocka_unit_test(test_nfkc),
        cmocka_unit_test(test_nfkc_ascii_fast_path_and_errors),
        cmocka_unit_test(test_normalize_forms_and_casefold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
