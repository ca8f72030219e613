#include "util/text.h"

#include "util/alloc.h"
#include "util/err.h"

#include <assert.h>
#include <string.h>
#include <utf8proc.h>

#define HIGH_BITS UINT64_C(0x8080808080808080)

static bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

int ca_text_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    assert(s && n >= 1 && cp);
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    /* The allowed range of the second byte encodes every strictness rule at once: E0 and F0
     * exclude overlongs, ED excludes surrogates, F4 excludes > U+10FFFF (RFC 3629 §4). */
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return CA_E_INVALID; /* stray continuation, C0/C1 overlong lead, F5–FF */
    }
    if (n < len || u[1] < lo || u[1] > hi)
        return CA_E_INVALID;
    v = (v << 6) | (u[1] & 0x3F);
    for (size_t i = 2; i < len; i++) {
        if (!is_cont(u[i]))
            return CA_E_INVALID;
        v = (v << 6) | (u[i] & 0x3F);
    }
    *cp = v;
    return (int)len;
}

int ca_text_utf8_encode(uint32_t cp, char out[4])
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return CA_E_INVALID;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF)
        return CA_E_INVALID;
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the ASCII prefix of s[0..n), eight bytes at a time. */
static size_t ascii_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8); /* memcpy: s has no alignment guarantee */
        if (w & HIGH_BITS)
            break;
        i += 8;
    }
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    return i;
}

bool ca_text_is_ascii(const char *s, size_t n) { return ascii_prefix(s, n) == n; }

bool ca_text_utf8_valid(const char *s, size_t n, size_t *bad_offset)
{
    size_t i = 0;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i += ascii_prefix(s + i, n - i);
            continue;
        }
        uint32_t cp;
        int len = ca_text_utf8_decode(s + i, n - i, &cp);
        if (len < 0) {
            if (bad_offset)
                *bad_offset = i;
            return false;
        }
        i += (size_t)len;
    }
    return true;
}

static int invalid_at(const char *s, size_t n)
{
    size_t bad = 0;
    (void)ca_text_utf8_valid(s, n, &bad);
    return ca_err_set(CA_E_INVALID, "util", "text: invalid UTF-8 at byte offset %zu", bad);
}

int ca_text_utf16_length(const char *s, size_t n, size_t *out)
{
    if (!ca_text_utf8_valid(s, n, NULL))
        return invalid_at(s, n);
    /* Valid input: one unit per lead byte, one more per 4-byte lead (a surrogate pair). */
    size_t units = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        units += !is_cont(c) + (c >= 0xF0);
    }
    *out = units;
    return CA_OK;
}

/* First UTF-16 code unit of cp, and the second one (0 when cp is in the BMP). */
static void utf16_units(uint32_t cp, uint32_t *first, uint32_t *second)
{
    if (cp < 0x10000) {
        *first = cp;
        *second = 0;
    } else {
        *first = 0xD800 + ((cp - 0x10000) >> 10);
        *second = 0xDC00 + ((cp - 0x10000) & 0x3FF);
    }
}

int ca_text_utf16_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    if (i == n)
        return an < bn ? -1 : an > bn;
    /* Equal prefixes of valid strings: the code point holding byte i starts at the same offset
     * in both; compare the two code points as UTF-16 unit sequences. */
    while (i > 0 && is_cont((unsigned char)a[i]))
        i--;
    uint32_t ca = 0, cb = 0;
    int la = ca_text_utf8_decode(a + i, an - i, &ca);
    int lb = ca_text_utf8_decode(b + i, bn - i, &cb);
    assert(la > 0 && lb > 0);
    (void)la;
    (void)lb;
    uint32_t a1, a2, b1, b2;
    utf16_units(ca, &a1, &a2);
    utf16_units(cb, &b1, &b2);
    if (a1 != b1)
        return a1 < b1 ? -1 : 1;
    return a2 < b2 ? -1 : a2 > b2;
}

static utf8proc_option_t options_of(ca_text_form form, unsigned flags)
{
    utf8proc_option_t o = UTF8PROC_STABLE;
    switch (form) {
    case CA_TEXT_NFC:
        o |= UTF8PROC_COMPOSE;
        break;
    case CA_TEXT_NFD:
        o |= UTF8PROC_DECOMPOSE;
        break;
    case CA_TEXT_NFKC:
        o |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        break;
    case CA_TEXT_NFKD:
        o |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
        break;
    }
    if (flags & CA_TEXT_CASEFOLD)
        o |= UTF8PROC_CASEFOLD;
    return o;
}

static int utf8proc_failed(utf8proc_ssize_t rc)
{
    if (rc == UTF8PROC_ERROR_NOMEM)
        return ca_err_nomem("util", "text normalization");
    if (rc == UTF8PROC_ERROR_OVERFLOW)
        return ca_err_set(CA_E_OVERFLOW, "util", "text: normalization result too long");
    return ca_err_set(CA_E_INTERNAL, "util", "text: utf8proc: %s", utf8proc_errmsg(rc));
}

/* Makes out hold room for cps code points (4 bytes each, plus the NUL utf8proc_reencode writes),
 * and returns that room in code points. */
static int reserve_cps(ca_buf *out, size_t cps, size_t *room)
{
    size_t bytes;
    if (!ca__size_mul(cps, sizeof(utf8proc_int32_t), &bytes))
        return ca_err_set(CA_E_OVERFLOW, "util", "text: normalization result too long");
    ca_buf_clear(out);
    int rc = ca_buf_reserve(out, bytes);
    if (rc)
        return rc;
    *room = (out->cap - 1) / sizeof(utf8proc_int32_t);
    return CA_OK;
}

int ca_text_normalize(const char *s, size_t n, ca_text_form form, unsigned flags, ca_buf *out)
{
    int rc = ca_buf_status(out);
    if (rc)
        return rc;
    size_t ascii = ascii_prefix(s, n);
    if (ascii == n) {
        ca_buf_clear(out);
        if ((rc = ca_buf_append(out, s, n)) != CA_OK)
            return rc;
        if (flags & CA_TEXT_CASEFOLD)
            for (size_t i = 0; i < n; i++)
                if (out->data[i] >= 'A' && out->data[i] <= 'Z')
                    out->data[i] = (char)(out->data[i] - 'A' + 'a');
        return CA_OK;
    }
    size_t bad;
    if (!ca_text_utf8_valid(s + ascii, n - ascii, &bad))
        return ca_err_set(CA_E_INVALID, "util", "text: invalid UTF-8 at byte offset %zu",
                          ascii + bad);
    if (n > (size_t)PTRDIFF_MAX / sizeof(utf8proc_int32_t))
        return ca_err_set(CA_E_OVERFLOW, "util", "text: %zu bytes are too long to normalize", n);

    /* Decompose into code points in out's storage (n + 1 covers the input's code points; a
     * longer decomposition reports its size and we retry once), then let utf8proc compose and
     * re-encode in place — utf8proc_map without utf8proc's own malloc. */
    utf8proc_option_t opt = options_of(form, flags);
    size_t room;
    if ((rc = reserve_cps(out, n + 1, &room)) != CA_OK)
        return rc;
    const utf8proc_uint8_t *in = (const utf8proc_uint8_t *)s;
    utf8proc_int32_t *cps = (utf8proc_int32_t *)(void *)out->data;
    utf8proc_ssize_t got = utf8proc_decompose(in, (utf8proc_ssize_t)n, cps,
                                              (utf8proc_ssize_t)room, opt);
    if (got >= 0 && (size_t)got > room) {
        if ((rc = reserve_cps(out, (size_t)got, &room)) != CA_OK)
            return rc;
        cps = (utf8proc_int32_t *)(void *)out->data;
        got = utf8proc_decompose(in, (utf8proc_ssize_t)n, cps, (utf8proc_ssize_t)room, opt);
    }
    if (got < 0)
        return utf8proc_failed(got);
    utf8proc_ssize_t len = utf8proc_reencode(cps, got, opt);
    if (len < 0)
        return utf8proc_failed(len);
    out->len = (size_t)len;
    out->data[out->len] = '\0';
    return CA_OK;
}

int ca_text_nfkc(const char *s, size_t n, char **out, size_t *out_len)
{
    *out = NULL;
    ca_buf b = CA_BUF_INIT;
    int rc = ca_text_normalize(s, n, CA_TEXT_NFKC, 0, &b);
    if (rc) {
        ca_buf_free(&b);
        return rc;
    }
    size_t len = b.len;
    /* The scratch holds 4 bytes per code point: give most of it back. */
    char *d = ca_buf_detach(&b, NULL);
    if (!d)
        return ca_err_nomem("util", "text normalization");
    char *shrunk = ca__realloc(d, len + 1);
    *out = shrunk ? shrunk : d;
    if (out_len)
        *out_len = len;
    return CA_OK;
}
