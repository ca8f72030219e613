#include "util/json.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/text.h"

#include <assert.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one-time setup ---------------------------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
/* printf/strtod follow LC_NUMERIC: a host that sets a locale with a decimal comma must not
 * change a hash, so number text is produced under a private "C" locale (uselocale, per thread). */
static locale_t c_numeric;

static void init_once_fn(void)
{
    json_set_alloc_funcs(ca__malloc, ca__free);
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

void ca_json_init(void) { pthread_once(&init_once, init_once_fn); }

/* ---- reading ------------------------------------------------------------------------------ */

int ca_json_load_buffer(const char *data, size_t len, size_t flags, const char *where,
                        json_t **out, ca_json_loc *loc)
{
    ca_json_init();
    *out = NULL;
    if (!where)
        where = "<string>";
    if (!data) {
        data = "";
        len = 0;
    }
    size_t skip = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    json_error_t err;
    json_t *v = json_loadb(data + skip, len - skip,
                           flags | JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (v) {
        *out = v;
        return CA_OK;
    }
    if (json_error_code(&err) == json_error_out_of_memory)
        return ca_err_nomem("util", "JSON document");
    if (loc) {
        loc->line = err.line;
        loc->column = err.column;
        loc->offset = (err.position >= 0 ? (size_t)err.position : 0) + skip;
    }
    if (err.line >= 1)
        return ca_err_set(CA_E_INVALID, "util", "json: %s:%d:%d: %s", where, err.line,
                          err.column, err.text);
    return ca_err_set(CA_E_INVALID, "util", "json: %s: %s", where, err.text);
}

int ca_json_load_string(const char *text, size_t flags, const char *where, json_t **out,
                        ca_json_loc *loc)
{
    return ca_json_load_buffer(text, text ? strlen(text) : 0, flags, where, out, loc);
}

int ca_json_load_file(const char *path, size_t flags, json_t **out, ca_json_loc *loc)
{
    *out = NULL;
    FILE *f = fopen(path, "rbe"); /* e: O_CLOEXEC */
    if (!f)
        return ca_err_errno(errno, "util", "json: open %s", path);
    ca_buf b = CA_BUF_INIT;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ca_buf_append(&b, chunk, got) != CA_OK)
            break;
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    int rc = ca_buf_status(&b);
    if (rc == CA_OK && read_errno)
        rc = ca_err_errno(read_errno, "util", "json: read %s", path);
    if (rc == CA_OK)
        rc = ca_json_load_buffer(b.data, b.len, flags, path, out, loc);
    ca_buf_free(&b);
    return rc;
}

/* ---- typed member getters ----------------------------------------------------------------- */

const char *ca_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

static const char *with_article(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* Finds member key: *m = the value, or NULL when an optional member is absent (or a nullable
 * one null) and the caller must leave its output untouched. */
static int find_member(const json_t *obj, const char *key, ca_json_presence p, json_t **m)
{
    ca_json_init();
    *m = NULL;
    if (!json_is_object(obj))
        return ca_err_set(CA_E_INVALID, "util", "json: member '%.128s' read from %s, not an object",
                          key, obj ? with_article(obj) : "nothing");
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (p == CA_JSON_REQUIRED)
            return ca_err_set(CA_E_INVALID, "util", "json: member '%.128s' is missing", key);
        return CA_OK;
    }
    if (json_is_null(v) && p == CA_JSON_NULLABLE)
        return CA_OK;
    *m = v;
    return CA_OK;
}

static int wrong_type(const char *key, const char *want, const json_t *got)
{
    return ca_err_set(CA_E_INVALID, "util", "json: member '%.128s' must be %s, not %s", key, want,
                      with_article(got));
}

int ca_json_get_string(const json_t *obj, const char *key, ca_json_presence p, const char **out,
                       size_t *len)
{
    json_t *m;
    int rc = find_member(obj, key, p, &m);
    if (rc || !m)
        return rc;
    if (!json_is_string(m))
        return wrong_type(key, "a string", m);
    const char *s = json_string_value(m);
    size_t n = json_string_length(m);
    if (!len && memchr(s, '\0', n))
        return ca_err_set(CA_E_INVALID, "util", "json: member '%.128s' contains U+0000", key);
    *out = s;
    if (len)
        *len = n;
    return CA_OK;
}

int ca_json_get_int(const json_t *obj, const char *key, ca_json_presence p, int64_t *out)
{
    json_t *m;
    int rc = find_member(obj, key, p, &m);
    if (rc || !m)
        return rc;
    if (!json_is_integer(m))
        return wrong_type(key, "an integer", m);
    *out = (int64_t)json_integer_value(m);
    return CA_OK;
}

int ca_json_get_double(const json_t *obj, const char *key, ca_json_presence p, double *out)
{
    json_t *m;
    int rc = find_member(obj, key, p, &m);
    if (rc || !m)
        return rc;
    if (!json_is_number(m))
        return wrong_type(key, "a number", m);
    *out = json_number_value(m);
    return CA_OK;
}

int ca_json_get_bool(const json_t *obj, const char *key, ca_json_presence p, bool *out)
{
    json_t *m;
    int rc = find_member(obj, key, p, &m);
    if (rc || !m)
        return rc;
    if (!json_is_boolean(m))
        return wrong_type(key, "a boolean", m);
    *out = json_is_true(m);
    return CA_OK;
}

int ca_json_get_object(const json_t *obj, const char *key, ca_json_presence p, json_t **out)
{
    json_t *m;
    int rc = find_member(obj, key, p, &m);
    if (rc || !m)
        return rc;
    if (!json_is_object(m))
        return wrong_type(key, "an object", m);
    *out = m;
    return CA_OK;
}

int ca_json_get_array(const json_t *obj, const char *key, ca_json_presence p, json_t **out)
{
    json_t *m;
    int rc = find_member(obj, key, p, &m);
    if (rc || !m)
        return rc;
    if (!json_is_array(m))
        return wrong_type(key, "an array", m);
    *out = m;
    return CA_OK;
}

/* ---- writing through jansson -------------------------------------------------------------- */

static int dump_to_buf(const char *bytes, size_t n, void *data)
{
    return ca_buf_append(data, bytes, n) == CA_OK ? 0 : -1;
}

int ca_json_dump_buf(const json_t *v, size_t flags, ca_buf *out)
{
    ca_json_init();
    size_t mark = out->len;
    if (json_dump_callback(v, dump_to_buf, out, flags | JSON_ENCODE_ANY) == 0)
        return CA_OK;
    int rc = ca_buf_status(out);
    if (rc)
        return rc;
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    /* jansson gives no reason: it refuses invalid UTF-8, NaN, cycles, or ran out of memory. */
    return ca_err_set(CA_E_INVALID, "util", "json: the value cannot be encoded");
}

int ca_json_dump(const json_t *v, size_t flags, char **out)
{
    *out = NULL;
    ca_buf b = CA_BUF_INIT;
    int rc = ca_json_dump_buf(v, flags, &b);
    if (rc == CA_OK && !(*out = ca_buf_detach(&b, NULL)))
        rc = ca_err_nomem("util", "JSON text");
    ca_buf_free(&b);
    return rc;
}

/* ---- numbers ------------------------------------------------------------------------------ */

static double parse_back(const char *s, bool as_float)
{
    return as_float ? (double)strtof(s, NULL) : strtod(s, NULL);
}

/* Writes mantissa digits m[0..p) and exponent e as "d.ddde<e>" (C locale). */
static void scientific(char *buf, size_t size, const char *m, int p, int e)
{
    if (p == 1)
        snprintf(buf, size, "%ce%d", m[0], e);
    else
        snprintf(buf, size, "%c.%.*se%d", m[0], p - 1, m + 1, e);
}

void ca_json_shortest_digits(double x, bool as_float, char digits[18], int *ndigits, int *exp10)
{
    ca_json_init();
    locale_t old = c_numeric ? uselocale(c_numeric) : (locale_t)0;
    int pmax = as_float ? 9 : 17;
    char buf[48], m[18] = {0};
    int p, e = 0;
    for (p = 1; p <= pmax; p++) {
        /* %.*e is correctly rounded (glibc): the nearest p-digit decimal. */
        snprintf(buf, sizeof buf, "%.*e", p - 1, x);
        m[0] = buf[0];
        const char *q = buf + 1;
        if (*q == '.')
            memcpy(m + 1, ++q, (size_t)(p - 1));
        q += p - 1;
        e = atoi(q + 1); /* skips the 'e' */
        double back = parse_back(buf, as_float);
        if (back == x || p == pmax)
            break;
        if (back < x) {
            /* The rounding interval of a power of two is wider above it than below: the nearest
             * p-digit decimal may fall below while the next one up still reads back. */
            char r[18];
            memcpy(r, m, (size_t)p);
            int i = p - 1;
            while (i >= 0 && r[i] == '9')
                r[i--] = '0';
            int re = e;
            if (i >= 0) {
                r[i]++;
            } else {
                r[0] = '1'; /* 9.99 → 10.0: renormalize to 1.00 × 10^(e+1) */
                re++;
            }
            scientific(buf, sizeof buf, r, p, re);
            if (parse_back(buf, as_float) == x) {
                memcpy(m, r, (size_t)p);
                e = re;
                break;
            }
        }
    }
    if (c_numeric)
        uselocale(old);
    if (p > pmax)
        p = pmax;
    while (p > 1 && m[p - 1] == '0')
        p--;
    memcpy(digits, m, (size_t)p);
    digits[p] = '\0';
    *ndigits = p;
    *exp10 = e;
}

int ca_json_format_double(double v, char out[CA_JSON_DOUBLE_MAX], size_t *len)
{
    if (!isfinite(v))
        return ca_err_set(CA_E_INVALID, "util", "json: %s has no JSON form",
                          isnan(v) ? "NaN" : "Infinity");
    size_t o = 0;
    if (v == 0) { /* also -0 */
        out[o++] = '0';
        out[o] = '\0';
        if (len)
            *len = o;
        return CA_OK;
    }
    if (v < 0) {
        out[o++] = '-';
        v = -v;
    }
    char d[18];
    int k, e;
    ca_json_shortest_digits(v, false, d, &k, &e);
    /* ECMA-262 Number::toString: value = 0.d1…dk × 10^n. */
    int n = e + 1;
    if (k <= n && n <= 21) {
        memcpy(out + o, d, (size_t)k);
        o += (size_t)k;
        for (int i = 0; i < n - k; i++)
            out[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + o, d, (size_t)n);
        o += (size_t)n;
        out[o++] = '.';
        memcpy(out + o, d + n, (size_t)(k - n));
        o += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -n; i++)
            out[o++] = '0';
        memcpy(out + o, d, (size_t)k);
        o += (size_t)k;
    } else {
        out[o++] = d[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, d + 1, (size_t)(k - 1));
            o += (size_t)(k - 1);
        }
        o += (size_t)snprintf(out + o, CA_JSON_DOUBLE_MAX - o, "e%c%d", n - 1 >= 0 ? '+' : '-',
                              abs(n - 1));
    }
    out[o] = '\0';
    if (len)
        *len = o;
    return CA_OK;
}

/* ---- canonical JSON ----------------------------------------------------------------------- */

typedef struct member {
    const char *key;
    size_t klen;
    json_t *value;
} member;

static int member_cmp(const void *a, const void *b)
{
    const member *x = a, *y = b;
    return ca_text_utf16_cmp(x->key, x->klen, y->key, y->klen);
}

int ca_json_write_string(ca_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ca_buf_reserve(out, n + 2);
    ca_buf_putc(out, '"');
    size_t run = 0; /* start of the bytes not yet copied: plain bytes are copied in runs */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        ca_buf_append(out, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': ca_buf_append(out, "\\\"", 2); break;
        case '\\': ca_buf_append(out, "\\\\", 2); break;
        case '\b': ca_buf_append(out, "\\b", 2); break;
        case '\t': ca_buf_append(out, "\\t", 2); break;
        case '\n': ca_buf_append(out, "\\n", 2); break;
        case '\f': ca_buf_append(out, "\\f", 2); break;
        case '\r': ca_buf_append(out, "\\r", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ca_buf_append(out, u, 6);
        }
        }
    }
    ca_buf_append(out, s + run, n - run);
    ca_buf_putc(out, '"');
    return ca_buf_status(out);
}

static int write_string(ca_buf *out, const char *s, size_t n, const char *what)
{
    size_t bad;
    if (!ca_text_utf8_valid(s, n, &bad))
        return ca_err_set(CA_E_INVALID, "util",
                          "json: canonical: invalid UTF-8 in %s at byte offset %zu", what, bad);
    return ca_json_write_string(out, s, n);
}

static int canonical(const json_t *v, ca_buf *out, int depth);

static int canonical_object(const json_t *v, ca_buf *out, int depth)
{
    size_t n = json_object_size(v), bytes;
    if (n == 0)
        return ca_buf_puts(out, "{}");
    if (!ca__size_mul(n, sizeof(member), &bytes))
        return ca_err_set(CA_E_OVERFLOW, "util", "json: canonical: object too large");
    member *ms = ca__malloc(bytes);
    if (!ms)
        return ca_err_nomem("util", "canonical JSON members");
    size_t i = 0;
    /* jansson's iterator API is not const-correct; iterating does not modify the object. */
    json_t *obj = (json_t *)v;
    for (void *it = json_object_iter(obj); it && i < n; it = json_object_iter_next(obj, it), i++) {
        ms[i].key = json_object_iter_key(it);
        ms[i].klen = json_object_iter_key_len(it);
        ms[i].value = json_object_iter_value(it);
    }
    n = i;
    int rc = CA_OK;
    /* Keys are validated before sorting: the UTF-16 comparison assumes valid UTF-8. */
    for (i = 0; i < n && rc == CA_OK; i++) {
        size_t bad;
        if (!ca_text_utf8_valid(ms[i].key, ms[i].klen, &bad))
            rc = ca_err_set(CA_E_INVALID, "util",
                            "json: canonical: invalid UTF-8 in a member name at byte offset %zu",
                            bad);
    }
    if (rc == CA_OK) {
        qsort(ms, n, sizeof *ms, member_cmp);
        ca_buf_putc(out, '{');
        for (i = 0; i < n && rc == CA_OK; i++) {
            if (i)
                ca_buf_putc(out, ',');
            rc = write_string(out, ms[i].key, ms[i].klen, "a member name");
            if (rc == CA_OK)
                ca_buf_putc(out, ':');
            if (rc == CA_OK)
                rc = canonical(ms[i].value, out, depth + 1);
        }
        if (rc == CA_OK)
            rc = ca_buf_putc(out, '}');
    }
    ca__free(ms);
    return rc;
}

static int too_deep(void)
{
    return ca_err_set(CA_E_INVALID, "util", "json: canonical: nesting deeper than %d",
                      CA_JSON_MAX_DEPTH);
}

/* depth = number of containers enclosing v; a container at depth d nests d + 1 levels. The limit
 * also stops a reference cycle, which jansson's API can build. */
static int canonical(const json_t *v, ca_buf *out, int depth)
{
    int rc;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (depth >= CA_JSON_MAX_DEPTH)
            return too_deep();
        return canonical_object(v, out, depth);
    case JSON_ARRAY: {
        if (depth >= CA_JSON_MAX_DEPTH)
            return too_deep();
        ca_buf_putc(out, '[');
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++) {
            if (i)
                ca_buf_putc(out, ',');
            if ((rc = canonical(json_array_get(v, i), out, depth + 1)) != CA_OK)
                return rc;
        }
        return ca_buf_putc(out, ']');
    }
    case JSON_STRING:
        return write_string(out, json_string_value(v), json_string_length(v), "a string");
    case JSON_INTEGER:
        return ca_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: {
        char num[CA_JSON_DOUBLE_MAX];
        size_t len;
        if ((rc = ca_json_format_double(json_real_value(v), num, &len)) != CA_OK)
            return rc;
        return ca_buf_append(out, num, len);
    }
    case JSON_TRUE:
        return ca_buf_puts(out, "true");
    case JSON_FALSE:
        return ca_buf_puts(out, "false");
    case JSON_NULL:
        return ca_buf_puts(out, "null");
    }
    return ca_err_set(CA_E_INVALID, "util", "json: canonical: unknown JSON type");
}

int ca_json_canonical(const json_t *v, ca_buf *out)
{
    assert(v && out);
    ca_json_init();
    int rc = ca_buf_status(out);
    if (rc)
        return rc;
    size_t mark = out->len;
    rc = canonical(v, out, 0);
    if (rc == CA_OK)
        rc = ca_buf_status(out);
    if (rc != CA_OK && ca_buf_status(out) == CA_OK) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}

int ca_json_canonical_string(const json_t *v, char **out, size_t *len)
{
    *out = NULL;
    ca_buf b = CA_BUF_INIT;
    int rc = ca_json_canonical(v, &b);
    if (rc == CA_OK && !(*out = ca_buf_detach(&b, len)))
        rc = ca_err_nomem("util", "canonical JSON");
    ca_buf_free(&b);
    return rc;
}
