/* Section "text": utf8_normalize, utf8_null_if_blank, qname_normalize (functions.md §4.4).
 * Normalization is util/text's (the one utf8proc user); one ca_buf per call is its scratch. */
#include "lib/functions/functions_int.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/text.h"

#include <string.h>

/* Trims White_Space and turns each inner run into one U+0020, in place; returns the length. */
static size_t collapse_ws(char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0, i = 0;
    bool pending = false;
    while (i < n) {
        size_t k = ca_fn__ws_len(p + i, n - i);
        if (k) {
            pending = w > 0;
            i += k;
            continue;
        }
        if (pending) {
            s[w++] = ' ';
            pending = false;
        }
        s[w++] = s[i++];
    }
    return w;
}

static bool is_blank(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = ca_fn__ws_len(p + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

static bool check_limit(ca_udf_exec *ex, const char *fn, size_t n)
{
    if (n <= CA_FN_TEXT_LIMIT)
        return true;
    ca_fn__exec_errorf(ex, "%s: argument value of %zu bytes exceeds the %zu-byte limit", fn, n, CA_FN_TEXT_LIMIT);
    return false;
}

static void err_norm(ca_udf_exec *ex, const char *fn, int rc)
{
    if (rc == CA_E_NOMEM || rc == CA_E_OVERFLOW)
        ca_fn__exec_errorf(ex, "%s: out of memory", fn);
    else
        ca_fn__exec_errorf(ex, "%s: internal error: utf8proc %s", fn, ca_error_last()->message);
}

/* ---- utf8_normalize -------------------------------------------------------------------- */

typedef struct norm_bind {
    ca_text_form form;
    bool casefold;
    bool collapse;
} norm_bind;

static void *norm_copy(void *p)
{
    norm_bind *c = ca__malloc(sizeof *c);
    if (c)
        *c = *(norm_bind *)p;
    return c;
}

static bool parse_form(const char *s, size_t n, ca_text_form *out)
{
    size_t a = 0, b = n;
    while (a < b && (s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r')))
        a++;
    while (b > a && (s[b - 1] == ' ' || (s[b - 1] >= '\t' && s[b - 1] <= '\r')))
        b--;
    static const struct { const char *name; ca_text_form form; } forms[] = {
        {"NFC", CA_TEXT_NFC}, {"NFD", CA_TEXT_NFD}, {"NFKC", CA_TEXT_NFKC}, {"NFKD", CA_TEXT_NFKD}};
    for (size_t i = 0; i < 4; i++) {
        size_t len = strlen(forms[i].name);
        if (b - a != len)
            continue;
        bool eq = true;
        for (size_t j = 0; j < len && eq; j++) {
            char c = s[a + j];
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            eq = c == forms[i].name[j];
        }
        if (eq) {
            *out = forms[i].form;
            return true;
        }
    }
    return false;
}

static void norm_bind_fn(ca_udf_bind *b)
{
    static const char *const names[] = {"value", "form", "casefold", "collapse_ws"};
    size_t n = ca_udf_bind_arg_count(b);
    norm_bind nb = {CA_TEXT_NFKC, false, false};
    for (size_t i = 1; i < n && i < 4; i++) {
        if (!ca_udf_bind_arg_foldable(b, i)) {
            ca_fn__bind_errorf(b, "utf8_normalize: argument %s must be a constant", names[i]);
            return;
        }
        ca_udf_value *v = NULL;
        if (ca_udf_bind_arg_fold(b, i, &v) != CA_OK) {
            ca_fn__bind_errorf(b, "utf8_normalize: argument %s: %s", names[i], ca_error_last()->message);
            return;
        }
        if (ca_udf_value_is_null(v)) {
            ca_udf_value_free(v);
            continue;
        }
        if (i == 1) {
            char *s = ca_udf_value_text(v);
            size_t len = s ? strlen(s) : 0, bad;
            if (!s) {
                ca_udf_bind_set_error(b, "utf8_normalize: out of memory");
            } else if (!ca_fn__utf8_valid(s, len, &bad)) {
                ca_fn__bind_errorf(b, "utf8_normalize: argument form is not valid UTF-8 (offset %zu)", bad);
            } else if (!parse_form(s, len, &nb.form)) {
                char msg[CA_FN_MSG_MAX] = "utf8_normalize: form ";
                ca_fn__quote(msg, sizeof msg, s, len);
                strncat(msg, " is not one of NFC, NFD, NFKC, NFKD", sizeof msg - strlen(msg) - 1);
                ca_udf_bind_set_error(b, msg);
            }
            ca__free(s);
        } else if (i == 2) {
            nb.casefold = ca_udf_value_bool(v);
        } else {
            nb.collapse = ca_udf_value_bool(v);
        }
        ca_udf_value_free(v);
    }
    norm_bind *bd = ca__malloc(sizeof *bd);
    if (!bd) {
        ca_udf_bind_set_error(b, "utf8_normalize: out of memory");
        return;
    }
    *bd = nb;
    ca_udf_bind_set_data(b, bd, ca__free, norm_copy);
}

static void normalize_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    static const char *fn = "utf8_normalize";
    const norm_bind *bd = ca_udf_exec_bind_data(ex);
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *v = ca_duck_chunk_vector(in, 0);
    const ca_duck_str *s = ca_duck_vec_data(v);
    const uint64_t *m = ca_duck_vec_validity(v);
    ca_buf buf = CA_BUF_INIT;
    unsigned flags = bd->casefold ? CA_TEXT_CASEFOLD : 0;
    for (size_t r = 0; r < n; r++) {
        if (!ca_duck_row_valid(m, r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        const char *p = ca_duck_str_data(&s[r]);
        size_t len = ca_duck_str_len(&s[r]), bad;
        if (!check_limit(ex, fn, len))
            break;
        if (!ca_fn__utf8_valid(p, len, &bad)) {
            ca_fn__err_utf8(ex, fn, "value", bad);
            break;
        }
        int rc = ca_text_normalize(p, len, bd->form, flags, &buf);
        if (rc != CA_OK) {
            err_norm(ex, fn, rc);
            break;
        }
        size_t olen = buf.len;
        if (bd->collapse && olen)
            olen = collapse_ws(buf.data, olen);
        ca_duck_vec_set_string(out, r, olen ? buf.data : "", olen);
    }
    ca_buf_free(&buf);
}

int ca_fn__register_utf8_normalize(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_ltype *vc = ca_duck_ltype_new(CA_DUCK_VARCHAR), *bo = ca_duck_ltype_new(CA_DUCK_BOOLEAN);
    ca_duck_ltype *p[4] = {vc, vc, bo, bo};
    ca_udf_scalar forms[4];
    for (size_t i = 0; i < 4; i++)
        forms[i] = (ca_udf_scalar){.params = p, .n_params = i + 1, .ret = vc, .fn = normalize_fn,
                                   .bind = norm_bind_fn, .special_nulls = true};
    int rc = ca_udf_register_scalar(c, e->name, forms, 4);
    ca_duck_ltype_free(vc);
    ca_duck_ltype_free(bo);
    return rc;
}

/* ---- utf8_null_if_blank ---------------------------------------------------------------- */

static void null_if_blank_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *v = ca_duck_chunk_vector(in, 0);
    const ca_duck_str *s = ca_duck_vec_data(v);
    const uint64_t *m = ca_duck_vec_validity(v);
    for (size_t r = 0; r < n; r++) {
        if (!ca_duck_row_valid(m, r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        const char *p = ca_duck_str_data(&s[r]);
        size_t len = ca_duck_str_len(&s[r]), bad;
        if (!ca_fn__utf8_valid(p, len, &bad)) {
            ca_fn__err_utf8(ex, "utf8_null_if_blank", "value", bad);
            return;
        }
        if (is_blank(p, len))
            ca_duck_vec_set_null(out, r);
        else
            ca_duck_vec_set_string(out, r, p, len);
    }
}

int ca_fn__register_utf8_null_if_blank(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_type p[1] = {CA_DUCK_VARCHAR};
    return ca_fn__register_simple(c, e->name, p, 1, CA_DUCK_VARCHAR, null_if_blank_fn, NULL, false);
}

/* ---- qname_normalize ------------------------------------------------------------------- */

static void qname_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    static const char *fn = "qname_normalize";
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *v = ca_duck_chunk_vector(in, 0);
    const ca_duck_str *s = ca_duck_vec_data(v);
    const uint64_t *m = ca_duck_vec_validity(v);
    ca_buf buf = CA_BUF_INIT;
    for (size_t r = 0; r < n; r++) {
        if (!ca_duck_row_valid(m, r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        const char *p = ca_duck_str_data(&s[r]);
        size_t len = ca_duck_str_len(&s[r]), bad;
        if (!check_limit(ex, fn, len))
            break;
        if (!ca_fn__utf8_valid(p, len, &bad)) {
            ca_fn__err_utf8(ex, fn, "value", bad);
            break;
        }
        int rc = ca_text_normalize(p, len, CA_TEXT_NFKC, 0, &buf);
        if (rc != CA_OK) {
            err_norm(ex, fn, rc);
            break;
        }
        /* Segments are rewritten in place: the output never outruns the input. */
        char *d = buf.data;
        size_t L = buf.len, w = 0, start = 0;
        for (size_t i = 0; i <= L; i++) {
            if (i < L && d[i] != '.')
                continue;
            size_t seg = collapse_ws(d + start, i - start);
            if (seg) {
                if (w)
                    d[w++] = '.';
                memmove(d + w, d + start, seg);
                w += seg;
            }
            start = i + 1;
        }
        if (w == 0)
            ca_duck_vec_set_null(out, r);
        else
            ca_duck_vec_set_string(out, r, d, w);
    }
    ca_buf_free(&buf);
}

int ca_fn__register_qname_normalize(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_type p[1] = {CA_DUCK_VARCHAR};
    return ca_fn__register_simple(c, e->name, p, 1, CA_DUCK_VARCHAR, qname_fn, NULL, false);
}
