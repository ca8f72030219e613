/*
 * The one ID authority (functions.md R6, §3): part -> text, the separator, the NULL sentinel,
 * HEX, H64/H128 framing, and the C entry points ca_functions_stable_id / _hash64 /
 * _hash128_hex. The SQL functions in hashing.c call the same helpers.
 */
#include "lib/functions/functions_int.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/hash.h"
#include "util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define MULTI_ASSEMBLE_MAX ((size_t)64 * 1024)

/* ---- digests --------------------------------------------------------------------------- */

int ca_fn__h64(const void *data, size_t len, int64_t *out) { return ca_hash_h64(data, len, out); }

int ca_fn__h128_hex(const void *data, size_t len, char out[32])
{
    uint8_t d[16];
    int rc = ca_hash_blake2b(data, len, d, 16);
    if (rc != CA_OK)
        return rc;
    char tmp[33];
    ca_hash_hex(d, 16, tmp);
    memcpy(out, tmp, 32);
    return CA_OK;
}

int ca_fn__multi_h128_hex(const char *const *ptrs, const size_t *lens, size_t n, ca_fn_scratch *scratch,
                          char out[32])
{
    if (n == 1)
        return ca_fn__h128_hex(ptrs[0], lens[0], out); /* a single part is hashed in place */
    size_t total = n - 1;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    if (total <= MULTI_ASSEMBLE_MAX && ca_fn__scratch_reserve(scratch, total)) {
        char *p = scratch->p;
        for (size_t i = 0; i < n; i++) {
            if (i)
                *p++ = CA_FN_SEP;
            memcpy(p, ptrs[i], lens[i]);
            p += lens[i];
        }
        return ca_fn__h128_hex(scratch->p, total, out);
    }
    /* Long messages are streamed: same digest, no copy. */
    ca_hash_state st;
    int rc = ca_hash_init(&st, 16);
    static const char sep = CA_FN_SEP;
    for (size_t i = 0; i < n && rc == CA_OK; i++) {
        if (i)
            rc = ca_hash_update(&st, &sep, 1);
        if (rc == CA_OK)
            rc = ca_hash_update(&st, ptrs[i], lens[i]);
    }
    uint8_t d[16];
    if (rc == CA_OK)
        rc = ca_hash_final(&st, d);
    if (rc == CA_OK) {
        char tmp[33];
        ca_hash_hex(d, 16, tmp);
        memcpy(out, tmp, 32);
    }
    return rc;
}

/* ---- part -> text ---------------------------------------------------------------------- */

static size_t u128_digits(u128 v, char *out)
{
    char tmp[48];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t ca_fn__int_text(int64_t v, char *out)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + u128_digits((u128)(-(v + 1)) + 1, out + 1);
    }
    return u128_digits((u128)v, out);
}

size_t ca_fn__uint_text(uint64_t v, char *out) { return u128_digits(v, out); }

size_t ca_fn__u128_text(uint64_t lower, uint64_t upper, char *out)
{
    return u128_digits(((u128)upper << 64) | lower, out);
}

size_t ca_fn__i128_text(uint64_t lower, int64_t upper, char *out)
{
    u128 bits = ((u128)(uint64_t)upper << 64) | lower;
    if (upper < 0) {
        out[0] = '-';
        return 1 + u128_digits(~bits + 1, out + 1); /* two's complement magnitude, MIN too */
    }
    return u128_digits(bits, out);
}

size_t ca_fn__decimal_text(uint64_t lower, int64_t upper, unsigned scale, char *out)
{
    u128 bits = ((u128)(uint64_t)upper << 64) | lower;
    size_t k = 0;
    u128 mag = bits;
    if (upper < 0) {
        out[k++] = '-';
        mag = ~bits + 1;
    }
    u128 p10 = 1;
    for (unsigned i = 0; i < scale; i++)
        p10 *= 10;
    k += u128_digits(mag / p10, out + k);
    if (scale > 0) {
        out[k++] = '.';
        u128 frac = mag % p10;
        for (unsigned i = scale; i > 0; i--) {
            out[k + i - 1] = (char)('0' + (int)(frac % 10));
            frac /= 10;
        }
        k += scale;
    }
    return k;
}

/* ---- float text (functions.md §3) ------------------------------------------------------ */

/* The digit search (shortest round trip, with the raise-by-one step) is util/json's, shared with
 * the canonical JSON writer; only the positional layout is the function library's. */
size_t ca_functions__float_text(double v, bool is_float, char *out)
{
    if (isnan(v))
        return (size_t)sprintf(out, "NaN");
    if (isinf(v))
        return (size_t)sprintf(out, v > 0 ? "inf" : "-inf");
    if (v == 0)
        return (size_t)sprintf(out, signbit(v) ? "-0" : "0");
    char digits[18];
    int nd, e;
    ca_json_shortest_digits(fabs(v), is_float, digits, &nd, &e);
    size_t k = 0;
    if (v < 0)
        out[k++] = '-';
    if (e >= nd - 1) {
        memcpy(out + k, digits, (size_t)nd);
        k += (size_t)nd;
        for (int z = 0; z < e - nd + 1; z++)
            out[k++] = '0';
    } else if (e >= 0) {
        memcpy(out + k, digits, (size_t)e + 1);
        k += (size_t)e + 1;
        out[k++] = '.';
        memcpy(out + k, digits + e + 1, (size_t)(nd - e - 1));
        k += (size_t)(nd - e - 1);
    } else {
        out[k++] = '0';
        out[k++] = '.';
        for (int z = 0; z < -e - 1; z++)
            out[k++] = '0';
        memcpy(out + k, digits, (size_t)nd);
        k += (size_t)nd;
    }
    out[k] = '\0';
    return k;
}

/* ---- C entry points -------------------------------------------------------------------- */

#define NUM_TEXT_MAX 400

static size_t part_text(const ca_id_part *p, char *num, const char **ptr)
{
    size_t n = 0;
    *ptr = num;
    switch (p->kind) {
    case CA_ID_NULL:
        *ptr = CA_FN_NULL_SENTINEL;
        return sizeof CA_FN_NULL_SENTINEL - 1;
    case CA_ID_TEXT:
        *ptr = p->v.text.ptr ? p->v.text.ptr : "";
        return p->v.text.ptr ? p->v.text.len : 0;
    case CA_ID_I64: n = ca_fn__int_text(p->v.i64, num); break;
    case CA_ID_U64: n = ca_fn__uint_text(p->v.u64, num); break;
    case CA_ID_BOOL: n = (size_t)sprintf(num, "%s", p->v.b ? "true" : "false"); break;
    case CA_ID_F64: n = ca_functions__float_text(p->v.f64, false, num); break;
    case CA_ID_F32: n = ca_functions__float_text((double)p->v.f32, true, num); break;
    }
    return n;
}

int ca_functions_stable_id(const char *prefix, size_t prefix_len, const ca_id_part *parts, size_t n,
                           ca_buf *out)
{
    if (n < 1 || n > CA_ID_MAX_PARTS)
        return ca_err_set(CA_E_INVALID, "functions",
                          "stable_id: expected 2 to 64 arguments (prefix and 1 to 63 parts), got %zu", n + 1);
    size_t bad;
    if (!ca_fn__utf8_valid(prefix, prefix_len, &bad))
        return ca_err_set(CA_E_INVALID, "functions", "stable_id: argument prefix is not valid UTF-8 (offset %zu)", bad);
    const char *ptrs[CA_ID_MAX_PARTS];
    size_t lens[CA_ID_MAX_PARTS];
    size_t n_num = 0;
    for (size_t i = 0; i < n; i++)
        if (parts[i].kind != CA_ID_NULL && parts[i].kind != CA_ID_TEXT)
            n_num++;
    char *num = n_num ? ca__malloc(n_num * NUM_TEXT_MAX) : NULL;
    if (n_num && !num)
        return ca_err_nomem("functions", "stable_id");
    size_t used = 0;
    int rc = CA_OK;
    for (size_t i = 0; i < n && rc == CA_OK; i++) {
        lens[i] = part_text(&parts[i], num ? num + used * NUM_TEXT_MAX : NULL, &ptrs[i]);
        if (parts[i].kind != CA_ID_NULL && parts[i].kind != CA_ID_TEXT)
            used++;
        if (parts[i].kind == CA_ID_TEXT && !ca_fn__utf8_valid(ptrs[i], lens[i], &bad))
            rc = ca_err_set(CA_E_INVALID, "functions", "stable_id: argument %zu is not valid UTF-8 (offset %zu)",
                            i + 2, bad);
    }
    char h[32];
    ca_fn_scratch scratch;
    ca_fn_scratch_init(&scratch);
    if (rc == CA_OK)
        rc = ca_fn__multi_h128_hex(ptrs, lens, n, &scratch, h);
    ca_fn__scratch_free(&scratch);
    ca__free(num);
    if (rc != CA_OK)
        return rc;
    ca_buf_append(out, prefix, prefix_len);
    ca_buf_putc(out, ':');
    ca_buf_append(out, h, 32);
    return ca_buf_status(out);
}

int ca_functions_hash64(const void *data, size_t len, int64_t *out)
{
    return ca_fn__h64(data, len, out);
}

int ca_functions_hash128_hex(const void *data, size_t len, char out[CA_HASH128_HEX_LEN + 1])
{
    int rc = ca_fn__h128_hex(data, len, out);
    out[rc == CA_OK ? 32 : 0] = '\0';
    return rc;
}
