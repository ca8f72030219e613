#include "util/hash.h"

#include "util/err.h"

#include <assert.h>
#include <blake2.h>
#include <stdalign.h>
#include <string.h>

/* Debian's libb2.so.1 exports its portable implementation but blake2.h does not declare it.
 * Weak, so a libb2 without it still links; we then use the dispatcher (same digest). On the
 * project's machines the portable code is about twice as fast for ID-sized messages. */
extern int blake2b_ref(uint8_t *out, const void *in, const void *key, size_t outlen, size_t inlen,
                       size_t keylen) __attribute__((weak));

_Static_assert(sizeof(blake2b_state) <= sizeof(((ca_hash_state *)0)->opaque),
               "ca_hash_state too small for blake2b_state");
_Static_assert(alignof(blake2b_state) <= alignof(uint64_t), "blake2b_state over-aligned");

static const char HEXDIGITS[] = "0123456789abcdef";

static int libb2_failed(const char *what)
{
    return ca_err_set(CA_E_INTERNAL, "util", "hash: libb2 %s failed", what);
}

int ca_hash_blake2b(const void *data, size_t n, uint8_t *out, size_t outlen)
{
    assert(out && outlen >= 1 && outlen <= CA_HASH_MAX_DIGEST);
    assert(data || n == 0);
    /* libb2 rejects a NULL input pointer even for n == 0 in some builds. */
    static const uint8_t empty[1];
    if (!data)
        data = empty;
    int rc = blake2b_ref ? blake2b_ref(out, data, NULL, outlen, n, 0)
                         : blake2b(out, data, NULL, outlen, n, 0);
    return rc == 0 ? CA_OK : libb2_failed("blake2b");
}

int ca_hash_init(ca_hash_state *st, size_t outlen)
{
    assert(st && outlen >= 1 && outlen <= CA_HASH_MAX_DIGEST);
    st->outlen = outlen;
    if (blake2b_init((blake2b_state *)(void *)st->opaque, outlen) != 0)
        return libb2_failed("blake2b_init");
    return CA_OK;
}

int ca_hash_update(ca_hash_state *st, const void *data, size_t n)
{
    assert(st && (data || n == 0));
    if (n == 0)
        return CA_OK;
    if (blake2b_update((blake2b_state *)(void *)st->opaque, data, n) != 0)
        return libb2_failed("blake2b_update");
    return CA_OK;
}

int ca_hash_final(ca_hash_state *st, uint8_t *out)
{
    assert(st && out);
    if (blake2b_final((blake2b_state *)(void *)st->opaque, out, st->outlen) != 0)
        return libb2_failed("blake2b_final");
    return CA_OK;
}

int64_t ca_hash_h64_of_digest(const uint8_t digest[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | digest[i];
    return (int64_t)(v & UINT64_C(0x7FFFFFFFFFFFFFFF));
}

int ca_hash_h64(const void *data, size_t n, int64_t *out)
{
    uint8_t d[8];
    int rc = ca_hash_blake2b(data, n, d, sizeof d);
    if (rc)
        return rc;
    *out = ca_hash_h64_of_digest(d);
    return CA_OK;
}

static int hash_hex(const void *data, size_t n, size_t outlen, char *out)
{
    uint8_t d[CA_HASH_MAX_DIGEST];
    int rc = ca_hash_blake2b(data, n, d, outlen);
    if (rc)
        return rc;
    ca_hash_hex(d, outlen, out);
    return CA_OK;
}

int ca_hash_h128_hex(const void *data, size_t n, char out[CA_HASH_H128_HEX_LEN + 1])
{
    return hash_hex(data, n, 16, out);
}

int ca_hash_h256_hex(const void *data, size_t n, char out[CA_HASH_H256_HEX_LEN + 1])
{
    return hash_hex(data, n, 32, out);
}

void ca_hash_hex(const uint8_t *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEXDIGITS[bytes[i] >> 4];
        out[2 * i + 1] = HEXDIGITS[bytes[i] & 0xF];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ca_hash_from_hex(const char *hex, size_t hex_len, uint8_t *out, size_t n)
{
    if (hex_len / 2 != n || hex_len % 2 != 0)
        return ca_err_set(CA_E_INVALID, "util", "hash: expected %zu hex characters, got %zu",
                          2 * n, hex_len);
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ca_err_set(CA_E_INVALID, "util", "hash: not a hex digit at offset %zu",
                              hi < 0 ? 2 * i : 2 * i + 1);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return CA_OK;
}
