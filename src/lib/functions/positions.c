/* Section "positions": position_encoding_norm, col_to_byte, byte_to_col, canonicalize_byte_span
 * (functions.md §4.3). Units are parsed at bind when constant, else per row with a one-entry
 * cache; line texts are walked in place. */
#include "lib/functions/functions_int.h"

#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

/* ---- unit text ------------------------------------------------------------------------- */

int ca_fn__parse_unit(const char *s, size_t n, bool allow_byte)
{
    char t[40];
    size_t k = 0;
    size_t a = 0, b = n;
    while (a < b && (s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r')))
        a++;
    while (b > a && (s[b - 1] == ' ' || (s[b - 1] >= '\t' && s[b - 1] <= '\r')))
        b--;
    for (size_t i = a; i < b; i++) {
        char c = s[i];
        if (c == '-' || c == '_' || c == ' ')
            continue;
        if (k + 1 >= sizeof t)
            return -1;
        t[k++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    t[k] = '\0';
    if (allow_byte && (!strcmp(t, "BYTE") || !strcmp(t, "BYTES")))
        return CA_UNIT_BYTE;
    if (!strcmp(t, "UTF8") || !strcmp(t, "1") || !strcmp(t, "UTF8CODEUNITOFFSETFROMLINESTART"))
        return CA_UNIT_UTF8;
    if (!strcmp(t, "UTF16") || !strcmp(t, "2") || !strcmp(t, "UTF16CODEUNITOFFSETFROMLINESTART"))
        return CA_UNIT_UTF16;
    if (!strcmp(t, "UTF32") || !strcmp(t, "3") || !strcmp(t, "UTF32CODEUNITOFFSETFROMLINESTART"))
        return CA_UNIT_UTF32;
    return -1;
}

/* Bind data: the unit when the argument is a constant; -1 = per row. */
typedef struct unit_bind {
    int unit;
} unit_bind;

static void *unit_bind_copy(void *p)
{
    unit_bind *c = ca__malloc(sizeof *c);
    if (c)
        *c = *(unit_bind *)p;
    return c;
}

/* What a function needs to know to check its unit argument. */
typedef struct unit_fn {
    const char *fn;     /* primary name for messages */
    size_t unit_arg;    /* index of the unit argument */
    bool allow_byte;
    bool is_encoding;   /* position_encoding_norm: E4 wording */
} unit_fn;

static void unit_error_msg(char *msg, size_t cap, const unit_fn *u, const char *s, size_t n)
{
    if (u->is_encoding) {
        snprintf(msg, cap, "%s: encoding ", u->fn);
        ca_fn__quote(msg, cap, s, n);
        size_t used = strlen(msg);
        snprintf(msg + used, cap - used, " is not one of UTF8, UTF16, UTF32");
    } else {
        snprintf(msg, cap, "%s: unit ", u->fn);
        ca_fn__quote(msg, cap, s, n);
        size_t used = strlen(msg);
        snprintf(msg + used, cap - used, " is not one of BYTE, UTF8, UTF16, UTF32");
    }
}

static void unit_bind_fn(ca_udf_bind *b)
{
    const unit_fn *u = ca_udf_bind_extra(b);
    unit_bind *bd = ca__malloc(sizeof *bd);
    if (!bd) {
        ca_udf_bind_set_error(b, "out of memory");
        return;
    }
    bd->unit = -1;
    if (ca_udf_bind_arg_foldable(b, u->unit_arg)) {
        ca_udf_value *v = NULL;
        if (ca_udf_bind_arg_fold(b, u->unit_arg, &v) == CA_OK && !ca_udf_value_is_null(v)) {
            char *s = ca_udf_value_text(v);
            if (s) {
                size_t n = strlen(s), bad;
                if (!ca_fn__utf8_valid(s, n, &bad)) {
                    ca_fn__bind_errorf(b, "%s: argument %s is not valid UTF-8 (offset %zu)", u->fn,
                                       u->is_encoding ? "encoding" : "unit", bad);
                } else if ((bd->unit = ca_fn__parse_unit(s, n, u->allow_byte)) < 0) {
                    char msg[CA_FN_MSG_MAX];
                    unit_error_msg(msg, sizeof msg, u, s, n);
                    ca_udf_bind_set_error(b, msg);
                }
                ca__free(s);
            }
        }
        ca_udf_value_free(v);
    }
    ca_udf_bind_set_data(b, bd, ca__free, unit_bind_copy);
}

/* Per-row unit resolution with a one-entry cache. */
typedef struct unit_cache {
    char text[48];
    size_t len; /* SIZE_MAX = empty */
    int unit;
} unit_cache;

/* Returns the unit or -1 after setting the execution error. */
static int row_unit(ca_udf_exec *ex, const unit_fn *u, const unit_bind *bd, unit_cache *cache,
                    const ca_duck_str *s)
{
    if (bd && bd->unit >= 0)
        return bd->unit;
    const char *p = ca_duck_str_data(s);
    size_t n = ca_duck_str_len(s);
    if (cache->len == n && n <= sizeof cache->text && !memcmp(cache->text, p, n))
        return cache->unit;
    size_t bad;
    if (!ca_fn__utf8_valid(p, n, &bad)) {
        ca_fn__err_utf8(ex, u->fn, u->is_encoding ? "encoding" : "unit", bad);
        return -1;
    }
    int unit = ca_fn__parse_unit(p, n, u->allow_byte);
    if (unit < 0) {
        char msg[CA_FN_MSG_MAX];
        unit_error_msg(msg, sizeof msg, u, p, n);
        ca_udf_exec_set_error(ex, msg);
        return -1;
    }
    if (n <= sizeof cache->text) {
        memcpy(cache->text, p, n);
        cache->len = n;
        cache->unit = unit;
    }
    return unit;
}

/* ---- walking a line -------------------------------------------------------------------- */

enum { POS_OK = 0, POS_NEGATIVE = 6, POS_SPLIT_UTF8 = 7, POS_SPLIT_UTF16 = 8 };

static inline size_t cp_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* col_to_byte on valid UTF-8 s[0..L). */
static int col_to_byte_core(const unsigned char *s, size_t L, int64_t col, int unit, int64_t *res)
{
    if (col < 0)
        return POS_NEGATIVE;
    uint64_t c = (uint64_t)col;
    if (unit == CA_UNIT_BYTE) {
        *res = (int64_t)(c < L ? c : L);
        return POS_OK;
    }
    if (unit == CA_UNIT_UTF8) {
        size_t r = c < L ? (size_t)c : L;
        if (r < L && (s[r] & 0xC0) == 0x80)
            return POS_SPLIT_UTF8;
        *res = (int64_t)r;
        return POS_OK;
    }
    uint64_t units = 0;
    size_t bytes = 0;
    while (units < c && bytes < L) {
        size_t k = cp_len(s[bytes]);
        uint64_t u = (unit == CA_UNIT_UTF16 && k == 4) ? 2 : 1;
        if (units + u > c)
            return POS_SPLIT_UTF16;
        units += u;
        bytes += k;
    }
    *res = (int64_t)bytes;
    return POS_OK;
}

static int byte_to_col_core(const unsigned char *s, size_t L, int64_t byte_col, int unit, int64_t *res)
{
    if (byte_col < 0)
        return POS_NEGATIVE;
    size_t r = (uint64_t)byte_col < L ? (size_t)byte_col : L;
    if (unit != CA_UNIT_BYTE && r < L && (s[r] & 0xC0) == 0x80)
        return POS_SPLIT_UTF8;
    if (unit == CA_UNIT_BYTE || unit == CA_UNIT_UTF8) {
        *res = (int64_t)r;
        return POS_OK;
    }
    int64_t units = 0;
    for (size_t i = 0; i < r;) {
        size_t k = cp_len(s[i]);
        units += (unit == CA_UNIT_UTF16 && k == 4) ? 2 : 1;
        i += k;
    }
    *res = units;
    return POS_OK;
}

static void pos_error(ca_udf_exec *ex, const char *fn, const char *arg, int64_t v, int code)
{
    switch (code) {
    case POS_NEGATIVE: ca_fn__exec_errorf(ex, "%s: %s %lld is negative", fn, arg, (long long)v); break;
    case POS_SPLIT_UTF8: ca_fn__exec_errorf(ex, "%s: %s %lld splits a UTF-8 sequence", fn, arg, (long long)v); break;
    default: ca_fn__exec_errorf(ex, "%s: %s %lld splits a UTF-16 surrogate pair", fn, arg, (long long)v); break;
    }
}

/* ---- position_encoding_norm ------------------------------------------------------------ */

static const unit_fn ENC_FN = {"position_encoding_norm", 0, false, true};

static void encoding_norm_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *v = ca_duck_chunk_vector(in, 0);
    const ca_duck_str *s = ca_duck_vec_data(v);
    const uint64_t *val = ca_duck_vec_validity(v);
    int32_t *o = ca_duck_vec_data(out);
    unit_cache cache = {.len = SIZE_MAX};
    for (size_t r = 0; r < n; r++) {
        if (!ca_duck_row_valid(val, r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        int u = row_unit(ex, &ENC_FN, NULL, &cache, &s[r]);
        if (u < 0)
            return;
        o[r] = u;
    }
}

int ca_fn__register_position_encoding_norm(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_ltype *p[1] = {ca_duck_ltype_new(CA_DUCK_VARCHAR)};
    ca_duck_ltype *ret = ca_duck_ltype_new(CA_DUCK_INTEGER);
    ca_udf_scalar f = {.params = p, .n_params = 1, .ret = ret, .fn = encoding_norm_fn,
                       .bind = unit_bind_fn, .extra = (void *)&ENC_FN};
    int rc = ca_udf_register_scalar(c, e->name, &f, 1);
    ca_duck_ltype_free(p[0]);
    ca_duck_ltype_free(ret);
    return rc;
}

/* ---- col_to_byte / byte_to_col --------------------------------------------------------- */

static const unit_fn C2B_FN = {"col_to_byte", 2, true, false};
static const unit_fn B2C_FN = {"byte_to_col", 2, true, false};

static void convert_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out, bool to_byte)
{
    const unit_fn *u = to_byte ? &C2B_FN : &B2C_FN;
    const unit_bind *bd = ca_udf_exec_bind_data(ex);
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *vl = ca_duck_chunk_vector(in, 0), *vc = ca_duck_chunk_vector(in, 1),
                *vu = ca_duck_chunk_vector(in, 2);
    const ca_duck_str *line = ca_duck_vec_data(vl);
    const int64_t *col = ca_duck_vec_data(vc);
    const ca_duck_str *unit = ca_duck_vec_data(vu);
    const uint64_t *m0 = ca_duck_vec_validity(vl), *m1 = ca_duck_vec_validity(vc),
                   *m2 = ca_duck_vec_validity(vu);
    int64_t *o = ca_duck_vec_data(out);
    unit_cache cache = {.len = SIZE_MAX};
    for (size_t r = 0; r < n; r++) {
        if (!ca_duck_row_valid(m0, r) || !ca_duck_row_valid(m1, r) || !ca_duck_row_valid(m2, r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        int un = row_unit(ex, u, bd, &cache, &unit[r]);
        if (un < 0)
            return;
        const char *p = ca_duck_str_data(&line[r]);
        size_t L = ca_duck_str_len(&line[r]), bad;
        if (!ca_fn__utf8_valid(p, L, &bad)) {
            ca_fn__err_utf8(ex, u->fn, "line_text", bad);
            return;
        }
        int code = to_byte ? col_to_byte_core((const unsigned char *)p, L, col[r], un, &o[r])
                           : byte_to_col_core((const unsigned char *)p, L, col[r], un, &o[r]);
        if (code) {
            pos_error(ex, u->fn, to_byte ? "col" : "byte_col", col[r], code);
            return;
        }
    }
}

static void col_to_byte_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out) { convert_fn(ex, in, out, true); }
static void byte_to_col_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out) { convert_fn(ex, in, out, false); }

static int register_convert(ca_duck_conn *c, const char *name, ca_udf_scalar_fn fn, const unit_fn *u)
{
    ca_duck_ltype *p[3] = {ca_duck_ltype_new(CA_DUCK_VARCHAR), ca_duck_ltype_new(CA_DUCK_BIGINT),
                           ca_duck_ltype_new(CA_DUCK_VARCHAR)};
    ca_duck_ltype *ret = ca_duck_ltype_new(CA_DUCK_BIGINT);
    ca_udf_scalar f = {.params = p, .n_params = 3, .ret = ret, .fn = fn, .bind = unit_bind_fn,
                       .extra = (void *)u};
    int rc = ca_udf_register_scalar(c, name, &f, 1);
    for (int i = 0; i < 3; i++)
        ca_duck_ltype_free(p[i]);
    ca_duck_ltype_free(ret);
    return rc;
}

int ca_fn__register_col_to_byte(ca_duck_conn *c, const ca_fn_entry *e)
{
    return register_convert(c, e->name, col_to_byte_fn, &C2B_FN);
}

int ca_fn__register_byte_to_col(ca_duck_conn *c, const ca_fn_entry *e)
{
    return register_convert(c, e->name, byte_to_col_fn, &B2C_FN);
}

/* ---- canonicalize_byte_span ------------------------------------------------------------ */

static const unit_fn CBS_FN = {"canonicalize_byte_span", 6, true, false};

/* One end: line start + col_to_byte; returns false after setting the error. */
static bool span_end_byte(ca_udf_exec *ex, int64_t line_start, const ca_duck_str *text, int64_t col,
                          int unit, bool is_start, int64_t *res)
{
    const char *fn = CBS_FN.fn;
    if (line_start < 0) {
        pos_error(ex, fn, is_start ? "start_line_start_byte" : "end_line_start_byte", line_start, POS_NEGATIVE);
        return false;
    }
    const char *p = ca_duck_str_data(text);
    size_t L = ca_duck_str_len(text), bad;
    if (!ca_fn__utf8_valid(p, L, &bad)) {
        ca_fn__err_utf8(ex, fn, is_start ? "start_line_text" : "end_line_text", bad);
        return false;
    }
    int64_t off;
    int code = col_to_byte_core((const unsigned char *)p, L, col, unit, &off);
    if (code) {
        pos_error(ex, fn, is_start ? "start_col" : "end_col", col, code);
        return false;
    }
    if (__builtin_add_overflow(line_start, off, res)) {
        ca_fn__exec_errorf(ex, "%s: %s overflows BIGINT", fn, is_start ? "bstart" : "bend");
        return false;
    }
    return true;
}

static void canonicalize_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    const unit_bind *bd = ca_udf_exec_bind_data(ex);
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *v[7];
    const uint64_t *m[7];
    for (size_t i = 0; i < 7; i++) {
        v[i] = ca_duck_chunk_vector(in, i);
        m[i] = ca_duck_vec_validity(v[i]);
    }
    const int64_t *sls = ca_duck_vec_data(v[0]), *scol = ca_duck_vec_data(v[2]),
                  *els = ca_duck_vec_data(v[3]), *ecol = ca_duck_vec_data(v[5]);
    const ca_duck_str *stext = ca_duck_vec_data(v[1]), *etext = ca_duck_vec_data(v[4]),
                      *unit = ca_duck_vec_data(v[6]);
    int64_t *ob = ca_duck_vec_data(ca_duck_vec_struct_child(out, 0));
    int64_t *oe = ca_duck_vec_data(ca_duck_vec_struct_child(out, 1));
    unit_cache cache = {.len = SIZE_MAX};
    for (size_t r = 0; r < n; r++) {
        bool ok = true;
        for (size_t i = 0; i < 7 && ok; i++)
            ok = ca_duck_row_valid(m[i], r);
        if (!ok) {
            ca_udf_vec_set_null_struct(out, 2, r);
            continue;
        }
        int un = row_unit(ex, &CBS_FN, bd, &cache, &unit[r]);
        if (un < 0)
            return;
        if (!span_end_byte(ex, sls[r], &stext[r], scol[r], un, true, &ob[r]) ||
            !span_end_byte(ex, els[r], &etext[r], ecol[r], un, false, &oe[r]))
            return;
    }
}

int ca_fn__register_canonicalize_byte_span(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_type ids[7] = {CA_DUCK_BIGINT, CA_DUCK_VARCHAR, CA_DUCK_BIGINT, CA_DUCK_BIGINT,
                           CA_DUCK_VARCHAR, CA_DUCK_BIGINT, CA_DUCK_VARCHAR};
    ca_duck_ltype *p[7];
    for (int i = 0; i < 7; i++)
        p[i] = ca_duck_ltype_new(ids[i]);
    ca_duck_ltype *members[2] = {ca_duck_ltype_new(CA_DUCK_BIGINT), ca_duck_ltype_new(CA_DUCK_BIGINT)};
    const char *names[2] = {"bstart", "bend"};
    ca_duck_ltype *ret = ca_duck_ltype_struct(members, names, 2);
    ca_udf_scalar f = {.params = p, .n_params = 7, .ret = ret, .fn = canonicalize_fn,
                       .bind = unit_bind_fn, .extra = (void *)&CBS_FN};
    int rc = ca_udf_register_scalar(c, e->name, &f, 1);
    for (int i = 0; i < 7; i++)
        ca_duck_ltype_free(p[i]);
    ca_duck_ltype_free(members[0]);
    ca_duck_ltype_free(members[1]);
    ca_duck_ltype_free(ret);
    return rc;
}
