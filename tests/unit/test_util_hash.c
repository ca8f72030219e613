/* util/hash: BLAKE2b over libb2, H64/H128/H256 (functions.md §3), hex helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "util/err.h"
#include "util/hash.h"

#include <string.h>

static void hex_of(const void *data, size_t n, size_t outlen, char *hex)
{
    uint8_t d[CA_HASH_MAX_DIGEST];
    assert_int_equal(ca_hash_blake2b(data, n, d, outlen), CA_OK);
    ca_hash_hex(d, outlen, hex);
}

static void test_blake2b_known_answers(void **state)
{
    (void)state;
    char hex[2 * CA_HASH_MAX_DIGEST + 1];
    hex_of("abc", 3, 64, hex);
    assert_string_equal(hex, "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                             "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
    hex_of("", 0, 64, hex);
    assert_string_equal(hex, "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                             "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
    hex_of(NULL, 0, 64, hex); /* NULL is fine for an empty message */
    assert_string_equal(hex, "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                             "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
    hex_of("abc", 3, 32, hex);
    assert_string_equal(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    /* The digest length is hashed in: BLAKE2b-8 is not a prefix of BLAKE2b-16 (functions.md §3). */
    hex_of("alpha", 5, 8, hex);
    assert_string_equal(hex, "5306d220eac8089a");
    hex_of("alpha", 5, 16, hex);
    assert_string_equal(hex, "b52f7e54cd313e691148cc2c80345831");
    hex_of("x", 1, 1, hex); /* smallest digest length */
    assert_int_equal(strlen(hex), 2);
}

static void test_incremental_equals_one_shot(void **state)
{
    (void)state;
    /* Also compares libb2's portable code (one-shot) with its SIMD dispatcher (incremental). */
    uint8_t msg[1000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 31 + 7);
    size_t lens[] = {0, 1, 63, 64, 127, 128, 129, 255, 256, 257, 999, 1000};
    size_t outlens[] = {1, 8, 16, 32, 33, 64};
    for (size_t a = 0; a < sizeof lens / sizeof lens[0]; a++) {
        for (size_t b = 0; b < sizeof outlens / sizeof outlens[0]; b++) {
            uint8_t one[64], inc[64];
            assert_int_equal(ca_hash_blake2b(msg, lens[a], one, outlens[b]), CA_OK);
            ca_hash_state st;
            assert_int_equal(ca_hash_init(&st, outlens[b]), CA_OK);
            /* uneven parts, an empty one among them */
            size_t cut1 = lens[a] / 3, cut2 = lens[a] / 2;
            assert_int_equal(ca_hash_update(&st, msg, cut1), CA_OK);
            assert_int_equal(ca_hash_update(&st, msg + cut1, 0), CA_OK);
            assert_int_equal(ca_hash_update(&st, msg + cut1, cut2 - cut1), CA_OK);
            assert_int_equal(ca_hash_update(&st, msg + cut2, lens[a] - cut2), CA_OK);
            assert_int_equal(ca_hash_final(&st, inc), CA_OK);
            assert_memory_equal(one, inc, outlens[b]);
        }
    }
}

/* functions.md §12.1 / §12.2 vectors over plain bytes (the SQL-level ones are in test_functions). */
static void test_h64_vectors(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t n;
        int64_t want;
    } v[] = {
        {"alpha", 5, INT64_C(5982700193828047002)},
        {"gamma", 5, INT64_C(8666994792918649077)}, /* raw f84759d8…: top bit cleared */
        {"", 0, INT64_C(7252660547403494068)},
        {"\xC3\xA9", 2, INT64_C(5411848509986117935)},
        {"\xE6\x97\xA5\xE6\x9C\xAC", 6, INT64_C(7508404170711669562)},
        {"\xF0\x9F\x98\x80", 4, INT64_C(8498446342076163952)},
        {"a\x1f"
         "b",
         3, INT64_C(8668388485945676816)},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int64_t h = -1;
        assert_int_equal(ca_hash_h64(v[i].s, v[i].n, &h), CA_OK);
        assert_true(h == v[i].want);
    }
    const uint8_t raw[8] = {0xcb, 0x1a, 0xbf, 0x8b, 0xef, 0xf3, 0x19, 0x2f}; /* H2's raw digest */
    assert_true(ca_hash_h64_of_digest(raw) == INT64_C(5411848509986117935));
    const uint8_t ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_true(ca_hash_h64_of_digest(ones) == INT64_MAX);
}

/* H5: 100 MB of 'é', streamed in 64 KiB parts as the function library does for long messages. */
static void test_h64_streamed_100mb(void **state)
{
    (void)state;
    static char chunk[65536];
    for (size_t i = 0; i < sizeof chunk; i += 2) {
        chunk[i] = (char)0xC3;
        chunk[i + 1] = (char)0xA9;
    }
    ca_hash_state st;
    assert_int_equal(ca_hash_init(&st, 8), CA_OK);
    size_t total = 100000000, done = 0;
    while (done < total) {
        size_t n = total - done < sizeof chunk ? total - done : sizeof chunk;
        assert_int_equal(ca_hash_update(&st, chunk, n), CA_OK);
        done += n;
    }
    uint8_t d[8];
    assert_int_equal(ca_hash_final(&st, d), CA_OK);
    assert_true(ca_hash_h64_of_digest(d) == INT64_C(1209451180859318060));
}

/* HEX(H128(bytes)): the bytes stable_id hashes for the §12 vectors (parts joined by 0x1F, NULL as
 * "__NULL__", numbers as their text); the prefix is never hashed. */
static void test_h128_vectors(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t n;
        const char *want;
    } v[] = {
#define V(lit, hex) {lit, sizeof(lit) - 1, hex}
        V("alpha", "b52f7e54cd313e691148cc2c80345831"),
        V("beta", "3fbcb3213a60fe28c29ec4283042c6e2"),
        V("", "cae66941d9efbd404e4d88758ea67670"),
        V("\xC3\xA9", "d4b1b0202b21bb84e60a3d272ecab0db"),
        V("\xE6\x97\xA5\xE6\x9C\xAC", "f1ce8b3b662c4ad195390fde84f6fd79"),
        V("\xF0\x9F\x98\x80", "742a00cb7e7d4effd92d39ffe41c72cf"),
        V("delta", "7fe3792fbdd937674be221ed030739da"),
        V("a\x1f"
          "b",
          "065ab5741cdfad44687cf119c1eb4ec9"),
        V("a\x1f__NULL__", "e572d4f485d45f5df562e024a5aa26e5"),
        V("__NULL__", "a57b800059f43b1b7b599199eb6e1b74"),
        V("42", "755345b7ef54b0d592c17e04737ab3d9"),
        V("-7", "1cd2d5e0bebdbf965f96c60388a415e2"),
        V("true", "b30ee95ec6cda01eb712d912431fe867"),
        V("false\x1f"
          "0",
          "fb2a64e7d274e6d9d11646a94e3085f6"),
        V("1.5", "af8f4c865eb374cdeeffd25493060e80"),
        V("2", "4129e2a8044a57ce7635fd6023661cd6"),
        V("0.1", "8857a128fe69b49792e563135c5774e9"),
        V("-0", "ff19f19d3ce03510884d63c63d4ca34c"),
        V("NaN", "4523863be0252b2eabedc7f0d52adcd7"),
        V("inf", "61bbaa9a90d2679c5aad286b3d439c3f"),
        V("1.50", "28e93957adf546e6574e99ba63408b11"),
        V("9223372036854775807", "4898f4a4323181babf47286c18675318"),
        V("18446744073709551615", "5a3480c65c534951efdc65ce36e6a2ff"),
        V("-170141183460469231731687303715884105728", "b987f5348fdb9ec9c0c848a1356f6769"),
        V("\xC3\xA9\x1f\xE6\x97\xA5\xE6\x9C\xAC\x1f\xF0\x9F\x98\x80",
          "54cd4514466b9c5cb4326f974227c801"),
        V("\x1f", "01d40548a78e70851885ebb185b56016"),
        V("a.py\x1f"
          "0\x1f"
          "10",
          "90a6928209d1e25ff2290615b7e5e183"),
        V("a.py", "59ea7f0accf0518ae914c887f2ded8f0"),
        V("f.py\x1f"
          "0\x1f"
          "10",
          "cdd40d6c1b55b33c6f4054bb4b1f94b2"),
        V("f.py\x1f"
          "0\x1f"
          "10\x1f"
          "def",
          "9a0b2a20a98d67b3ee837ad28d1fa359"),
        V("pkg/\xC3\xA9.py\x1f"
          "11\x1f"
          "93\x1f__NULL__",
          "7cced87e4b0fac19c68a3237c6b7921a"),
#undef V
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[CA_HASH_H128_HEX_LEN + 1];
        assert_int_equal(ca_hash_h128_hex(v[i].s, v[i].n, hex), CA_OK);
        assert_string_equal(hex, v[i].want);
    }
    /* H19: 1e300 as float text is "1" and 300 zeros. */
    char big[302];
    big[0] = '1';
    memset(big + 1, '0', 300);
    big[301] = '\0';
    char hex[CA_HASH_H128_HEX_LEN + 1];
    assert_int_equal(ca_hash_h128_hex(big, 301, hex), CA_OK);
    assert_string_equal(hex, "0c3a29edf3c651cd832da4dd7f1da3a7");
}

static void test_h256_vector(void **state)
{
    (void)state;
    /* H32: H256 of JCS bytes. */
    const char *jcs = "{\"a\":null,\"b\":\"x\\u001fy\",\"c\":1}";
    char hex[CA_HASH_H256_HEX_LEN + 1];
    assert_int_equal(ca_hash_h256_hex(jcs, strlen(jcs), hex), CA_OK);
    assert_string_equal(hex, "958899d5f767e4f5cce9856a425e7f37d881a69c145b8e61e583f5793bc4e54f");
    assert_int_equal(strlen(hex), CA_HASH_H256_HEX_LEN);
}

static void test_hex_helpers(void **state)
{
    (void)state;
    const uint8_t b[] = {0x00, 0x0f, 0xa0, 0xff, 0x5e};
    char hex[11];
    ca_hash_hex(b, sizeof b, hex);
    assert_string_equal(hex, "000fa0ff5e");
    ca_hash_hex(b, 0, hex);
    assert_string_equal(hex, "");

    uint8_t back[5];
    assert_int_equal(ca_hash_from_hex("000FA0ff5e", 10, back, 5), CA_OK);
    assert_memory_equal(back, b, 5);
    ca_error_clear();
    assert_int_equal(ca_hash_from_hex("000fa0ff5", 9, back, 5), CA_E_INVALID);
    assert_int_equal(ca_error_last()->code, CA_E_INVALID);
    assert_string_equal(ca_error_last()->module, "util");
    assert_int_equal(ca_hash_from_hex("000fa0ff5e00", 12, back, 5), CA_E_INVALID);
    assert_int_equal(ca_hash_from_hex("000fa0fg5e", 10, back, 5), CA_E_INVALID);
    assert_string_equal(ca_error_last()->message, "hash: not a hex digit at offset 7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blake2b_known_answers),
        cmocka_unit_test(test_incremental_equals_one_shot),
        cmocka_unit_test(test_h64_vectors),
        cmocka_unit_test(test_h64_streamed_100mb),
        cmocka_unit_test(test_h128_vectors),
        cmocka_unit_test(test_h256_vector),
        cmocka_unit_test(test_hex_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
