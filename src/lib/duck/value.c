/* Cell rendering: DuckDB's VARCHAR cast text and the project's JSON value form (value.h). */
#include "lib/duck/value.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"

#include <duckdb.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOD "duck"
#define LT(t) ((duckdb_logical_type)(t))

/* 128-bit arithmetic for HUGEINT/UHUGEINT/DECIMAL(>18); __extension__ keeps -Wpedantic quiet. */
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;


struct ca_duck_vtype {
    ca_duck_type id;
    ca_duck_type phys;      /* DECIMAL: storage type; ENUM: index type */
    uint8_t scale, width;   /* DECIMAL */
    size_t nchild;
    ca_duck_vtype **child;  /* LIST/ARRAY: [0]; MAP: [0] key, [1] value; STRUCT/UNION: members */
    char **names;           /* STRUCT/UNION member names */
    bool unnamed;           /* STRUCT whose members all have empty names: printed as a tuple */
    size_t array_size;      /* ARRAY */
    char **dict;            /* ENUM dictionary */
    size_t ndict;
    bool map_object;        /* MAP with VARCHAR keys: a JSON object */
};

/* ---- type compilation ---------------------------------------------------------------------- */

void ca_duck_vtype_free(ca_duck_vtype *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nchild; i++) {
        if (t->child)
            ca_duck_vtype_free(t->child[i]);
        if (t->names)
            ca__free(t->names[i]);
    }
    for (size_t i = 0; t->dict && i < t->ndict; i++)
        ca__free(t->dict[i]);
    ca__free(t->child);
    ca__free(t->names);
    ca__free(t->dict);
    ca__free(t);
}

ca_duck_type ca_duck_vtype_id(const ca_duck_vtype *t) { return t->id; }

static int vtype_build(ca_duck_ltype *lt, ca_duck_vtype **out);

/* Compiles a child logical type that the caller owns (freed here on every path). */
static int child_from(ca_duck_ltype *owned, ca_duck_vtype **out)
{
    if (!owned)
        return ca_err_nomem(MOD, "logical type");
    int rc = vtype_build(owned, out);
    ca_duck_ltype_free(owned);
    return rc;
}

static int alloc_children(ca_duck_vtype *t, size_t n, bool names)
{
    t->child = ca__calloc(n ? n : 1, sizeof *t->child);
    if (names)
        t->names = ca__calloc(n ? n : 1, sizeof *t->names);
    t->nchild = n;
    if (!t->child || (names && !t->names))
        return ca_err_nomem(MOD, "value type");
    return CA_OK;
}

static int build_members(ca_duck_vtype *t, ca_duck_ltype *lt)
{
    size_t n = ca_duck_ltype_struct_count(lt);
    int rc = alloc_children(t, n, true);
    t->unnamed = t->id == CA_DUCK_STRUCT && n > 0;
    for (size_t i = 0; rc == CA_OK && i < n; i++) {
        t->names[i] = ca_duck_ltype_struct_name(lt, i);
        if (!t->names[i])
            return ca_err_nomem(MOD, "member name");
        if (t->names[i][0])
            t->unnamed = false;
        rc = child_from(ca_duck_ltype_struct_child(lt, i), &t->child[i]);
    }
    return rc;
}

static int build_enum(ca_duck_vtype *t, ca_duck_ltype *lt)
{
    t->phys = (ca_duck_type)duckdb_enum_internal_type(LT(lt));
    t->ndict = duckdb_enum_dictionary_size(LT(lt));
    t->dict = ca__calloc(t->ndict ? t->ndict : 1, sizeof *t->dict);
    if (!t->dict)
        return ca_err_nomem(MOD, "enum dictionary");
    for (size_t i = 0; i < t->ndict; i++) {
        t->dict[i] = ca_duck_ltype_enum_value(lt, i);
        if (!t->dict[i])
            return ca_err_nomem(MOD, "enum dictionary");
    }
    return CA_OK;
}

static int vtype_build(ca_duck_ltype *lt, ca_duck_vtype **out)
{
    *out = NULL;
    ca_duck_vtype *t = ca__calloc(1, sizeof *t);
    if (!t)
        return ca_err_nomem(MOD, "value type");
    t->id = ca_duck_ltype_id(lt);
    int rc = CA_OK;
    switch (t->id) {
    case CA_DUCK_DECIMAL:
        t->phys = ca_duck_ltype_decimal_internal(lt);
        t->scale = ca_duck_ltype_decimal_scale(lt);
        t->width = ca_duck_ltype_decimal_width(lt);
        break;
    case CA_DUCK_ENUM:
        rc = build_enum(t, lt);
        break;
    case CA_DUCK_LIST:
        rc = alloc_children(t, 1, false);
        if (rc == CA_OK)
            rc = child_from(ca_duck_ltype_list_child(lt), &t->child[0]);
        break;
    case CA_DUCK_ARRAY:
        t->array_size = ca_duck_ltype_array_size(lt);
        rc = alloc_children(t, 1, false);
        if (rc == CA_OK)
            rc = child_from(ca_duck_ltype_array_child(lt), &t->child[0]);
        break;
    case CA_DUCK_MAP:
        rc = alloc_children(t, 2, false);
        if (rc == CA_OK)
            rc = child_from((ca_duck_ltype *)duckdb_map_type_key_type(LT(lt)), &t->child[0]);
        if (rc == CA_OK)
            rc = child_from((ca_duck_ltype *)duckdb_map_type_value_type(LT(lt)), &t->child[1]);
        if (rc == CA_OK)
            t->map_object = t->child[0]->id == CA_DUCK_VARCHAR;
        break;
    case CA_DUCK_STRUCT:
    case CA_DUCK_UNION:
        rc = build_members(t, lt);
        break;
    default:
        break;
    }
    if (rc) {
        ca_duck_vtype_free(t);
        return rc;
    }
    *out = t;
    return CA_OK;
}

int ca_duck_vtype_new(ca_duck_ltype *lt, ca_duck_vtype **out)
{
    if (!lt) {
        *out = NULL;
        return ca_err_set(CA_E_INVALID, MOD, "duck: value type: no logical type");
    }
    return vtype_build(lt, out);
}

/* ---- small formatting helpers -------------------------------------------------------------- */

bool ca_duck_value_is_null(ca_duck_vec *v, size_t row)
{
    return !ca_duck_row_valid(ca_duck_vec_validity(v), row);
}

static int put_u128(ca_buf *b, u128 v)
{
    char tmp[48];
    char *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    return ca_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

static int put_i128(ca_buf *b, i128 v)
{
    if (v < 0) {
        ca_buf_putc(b, '-');
        return put_u128(b, (u128)0 - (u128)v);
    }
    return put_u128(b, (u128)v);
}

static i128 hugeint_of(const ca_duck_hugeint *h)
{
    return (i128)(((u128)(uint64_t)h->upper << 64) | h->lower);
}

static u128 uhugeint_of(const ca_duck_uhugeint *h) { return ((u128)h->upper << 64) | h->lower; }

/* JSON: an integer within ±2^53 as a number, otherwise as a string. */
static int json_i128(ca_buf *b, i128 v)
{
    bool safe = v >= -(i128)9007199254740992LL && v <= (i128)9007199254740992LL;
    if (!safe)
        ca_buf_putc(b, '"');
    put_i128(b, v);
    if (!safe)
        ca_buf_putc(b, '"');
    return ca_buf_status(b);
}

static int json_u128(ca_buf *b, u128 v)
{
    bool safe = v <= (u128)9007199254740992ULL;
    if (!safe)
        ca_buf_putc(b, '"');
    put_u128(b, v);
    if (!safe)
        ca_buf_putc(b, '"');
    return ca_buf_status(b);
}

/* ---- floating point ------------------------------------------------------------------------ */

/* Shortest digits that read back as v: "%.{p}e" is correctly rounded by glibc, so the first
 * precision that round-trips gives the shortest (and nearest) digit string. */
static void shortest_digits(double v, bool is_float, char *digits, int *ndigits, int *exp10)
{
    char tmp[40];
    int max_p = is_float ? 8 : 16;
    for (int p = 0; p <= max_p; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p, v);
        if (p == max_p)
            break;
        if (is_float ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
            break;
    }
    /* tmp = "d[.ddd]e±XX" */
    int n = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *ndigits = n;
    *exp10 = atoi(p + 1);
}

int ca_duck_format_double(ca_buf *b, double v, bool is_float)
{
    if (isnan(v))
        return ca_buf_puts(b, "nan");
    if (isinf(v))
        return ca_buf_puts(b, v < 0 ? "-inf" : "inf");
    if (signbit(v)) {
        ca_buf_putc(b, '-');
        v = -v;
    }
    char digits[24];
    int n, e;
    shortest_digits(v, is_float, digits, &n, &e);
    /* DuckDB prints doubles like Python's repr: scientific below 1e-4 and from 1e16 on. */
    if (e < -4 || e >= 16) {
        ca_buf_putc(b, digits[0]);
        if (n > 1) {
            ca_buf_putc(b, '.');
            ca_buf_append(b, digits + 1, (size_t)n - 1);
        }
        return ca_buf_printf(b, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    if (e >= 0) {
        if (n <= e + 1) {
            ca_buf_append(b, digits, (size_t)n);
            for (int i = n; i < e + 1; i++)
                ca_buf_putc(b, '0');
            return ca_buf_puts(b, ".0");
        }
        ca_buf_append(b, digits, (size_t)e + 1);
        ca_buf_putc(b, '.');
        return ca_buf_append(b, digits + e + 1, (size_t)(n - e - 1));
    }
    ca_buf_puts(b, "0.");
    for (int i = 0; i < -e - 1; i++)
        ca_buf_putc(b, '0');
    return ca_buf_append(b, digits, (size_t)n);
}

/* DuckDB prints FLOAT with fmt's Grisu: the shortest float digits, except for the ~1% of values
 * where Grisu gives up and its fallback prints the shortest digits of the value widened to
 * double ("2923611.25" where "2923611.2" already reads back). Rather than re-implement that
 * quirk, the display text of a FLOAT is DuckDB's own conversion. */
static int float_text(ca_buf *b, float f)
{
    duckdb_value v = duckdb_create_float(f);
    char *s = v ? duckdb_get_varchar(v) : NULL;
    duckdb_destroy_value(&v);
    if (!s)
        return ca_err_nomem(MOD, "float text");
    ca_buf_puts(b, s);
    duckdb_free(s);
    return ca_buf_status(b);
}

/* JSON: finite values as numbers (the display text is valid JSON: "2.0", "1e+20", "-0.0"),
 * NaN and infinities as the strings "NaN", "Infinity", "-Infinity". */
static int json_double(ca_buf *b, double v, bool is_float)
{
    if (isnan(v))
        return ca_buf_puts(b, "\"NaN\"");
    if (isinf(v))
        return ca_buf_puts(b, v < 0 ? "\"-Infinity\"" : "\"Infinity\"");
    return ca_duck_format_double(b, v, is_float);
}

/* ---- decimal --------------------------------------------------------------------------------- */

static i128 decimal_raw(const ca_duck_vtype *t, const void *data, size_t row)
{
    switch (t->phys) {
    case CA_DUCK_SMALLINT: return ((const int16_t *)data)[row];
    case CA_DUCK_INTEGER: return ((const int32_t *)data)[row];
    case CA_DUCK_BIGINT: return ((const int64_t *)data)[row];
    default: return hugeint_of(&((const ca_duck_hugeint *)data)[row]);
    }
}

/* DuckDB's form: "-1.50"; with width == scale there is no integer part (".500", "-.500"). */
static int decimal_text(ca_buf *b, const ca_duck_vtype *t, i128 v)
{
    if (v < 0)
        ca_buf_putc(b, '-');
    u128 mag = v < 0 ? (u128)0 - (u128)v : (u128)v;
    if (t->scale == 0)
        return put_u128(b, mag);
    u128 pow10 = 1;
    for (unsigned i = 0; i < t->scale; i++)
        pow10 *= 10;
    if (t->width > t->scale)
        put_u128(b, mag / pow10);
    ca_buf_putc(b, '.');
    char frac[48];
    u128 minor = mag % pow10;
    for (int i = t->scale - 1; i >= 0; i--) {
        frac[i] = (char)('0' + (int)(minor % 10));
        minor /= 10;
    }
    return ca_buf_append(b, frac, t->scale);
}

/* ---- dates and times ------------------------------------------------------------------------- */

#define DATE_INF INT32_MAX
#define TS_INF INT64_MAX
#define MICROS_PER_DAY INT64_C(86400000000)

static int64_t floordiv64(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Fraction digits with trailing zeros dropped; nothing when zero. */
static void put_fraction(ca_buf *b, int64_t frac, int digits)
{
    if (frac == 0)
        return;
    char tmp[16];
    for (int i = digits - 1; i >= 0; i--) {
        tmp[i] = (char)('0' + (int)(frac % 10));
        frac /= 10;
    }
    while (digits > 1 && tmp[digits - 1] == '0')
        digits--;
    ca_buf_putc(b, '.');
    ca_buf_append(b, tmp, (size_t)digits);
}

/* json: ISO 8601 (astronomical years: 1 BC = 0000, 2 BC = -0001; years past 9999 get '+');
 * text: DuckDB's "YYYY-MM-DD" with " (BC)" for years <= 0. */
static void date_body(ca_buf *b, int32_t days, bool json)
{
    int32_t y;
    int8_t m, d;
    ca_duck_date_parts(days, &y, &m, &d);
    if (json) {
        if (y < 0)
            ca_buf_printf(b, "-%04" PRId32, -y);
        else if (y > 9999)
            ca_buf_printf(b, "+%" PRId32, y);
        else
            ca_buf_printf(b, "%04" PRId32, y);
        ca_buf_printf(b, "-%02d-%02d", m, d);
    } else {
        bool bc = y <= 0;
        ca_buf_printf(b, "%04" PRId32 "-%02d-%02d%s", bc ? -y + 1 : y, m, d, bc ? " (BC)" : "");
    }
}

static void time_body(ca_buf *b, int64_t micros, int64_t sub_nanos, bool nanos)
{
    int8_t h, mi, s;
    int32_t us;
    ca_duck_time_parts(micros, &h, &mi, &s, &us);
    ca_buf_printf(b, "%02d:%02d:%02d", h, mi, s);
    if (nanos)
        put_fraction(b, (int64_t)us * 1000 + sub_nanos, 9);
    else
        put_fraction(b, us, 6);
}

/* A timestamp in units per second (1, 1000, 1e6, 1e9). */
static int timestamp_body(ca_buf *b, int64_t v, int64_t per_sec, bool tz, bool json)
{
    if (v == TS_INF || v == -TS_INF) {
        const char *s = v > 0 ? "infinity" : "-infinity";
        return json ? ca_buf_printf(b, "\"%s\"", s) : ca_buf_puts(b, s);
    }
    int64_t per_day = 86400 * per_sec;
    int64_t days = floordiv64(v, per_day);
    int64_t rem = v - days * per_day; /* [0, per_day) */
    int64_t micros, sub_nanos = 0;
    if (per_sec == 1000000000) {
        micros = rem / 1000;
        sub_nanos = rem % 1000;
    } else {
        micros = rem * (1000000 / per_sec);
    }
    if (json)
        ca_buf_putc(b, '"');
    date_body(b, (int32_t)days, json);
    ca_buf_putc(b, json ? 'T' : ' ');
    time_body(b, micros, sub_nanos, per_sec == 1000000000);
    if (tz)
        ca_buf_puts(b, json ? "Z" : "+00");
    if (json)
        ca_buf_putc(b, '"');
    return ca_buf_status(b);
}

static int date_value(ca_buf *b, int32_t days, bool json)
{
    if (days == DATE_INF || days == -DATE_INF) {
        const char *s = days > 0 ? "infinity" : "-infinity";
        return json ? ca_buf_printf(b, "\"%s\"", s) : ca_buf_puts(b, s);
    }
    if (json)
        ca_buf_putc(b, '"');
    date_body(b, days, json);
    if (json)
        ca_buf_putc(b, '"');
    return ca_buf_status(b);
}

/* TIME WITH TIME ZONE: DuckDB prints the offset as ±HH[:MM[:SS]]; JSON uses ±HH:MM[:SS]. */
static int timetz_value(ca_buf *b, uint64_t bits, bool json)
{
    duckdb_time_tz tz = {bits};
    duckdb_time_tz_struct ts = duckdb_from_time_tz(tz);
    if (json)
        ca_buf_putc(b, '"');
    ca_buf_printf(b, "%02d:%02d:%02d", ts.time.hour, ts.time.min, ts.time.sec);
    put_fraction(b, ts.time.micros, 6);
    int32_t off = ts.offset;
    ca_buf_putc(b, off < 0 ? '-' : '+');
    if (off < 0)
        off = -off;
    int32_t oh = off / 3600, om = off / 60 % 60, os = off % 60;
    ca_buf_printf(b, "%02" PRId32, oh);
    if (om || os || json)
        ca_buf_printf(b, ":%02" PRId32, om);
    if (os)
        ca_buf_printf(b, ":%02" PRId32, os);
    if (json)
        ca_buf_putc(b, '"');
    return ca_buf_status(b);
}

static void interval_part(ca_buf *b, bool *any, int32_t v, const char *unit)
{
    if (v == 0)
        return;
    ca_buf_printf(b, "%s%" PRId32 " %s%s", *any ? " " : "", v, unit, v == 1 || v == -1 ? "" : "s");
    *any = true;
}

/* DuckDB's interval text: "1 year 2 months 3 days 04:05:06.7", "-1 year -11 months",
 * "100:00:00", and "00:00:00" when zero. */
static int interval_text(ca_buf *b, const ca_duck_interval *iv)
{
    bool any = false;
    interval_part(b, &any, iv->months / 12, "year");
    interval_part(b, &any, iv->months % 12, "month");
    interval_part(b, &any, iv->days, "day");
    if (iv->micros != 0) {
        uint64_t us = iv->micros < 0 ? (uint64_t)0 - (uint64_t)iv->micros : (uint64_t)iv->micros;
        uint64_t h = us / UINT64_C(3600000000), mi = us / 60000000 % 60, s = us / 1000000 % 60;
        ca_buf_printf(b, "%s%s%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, any ? " " : "",
                      iv->micros < 0 ? "-" : "", h, mi, s);
        put_fraction(b, (int64_t)(us % 1000000), 6);
    } else if (!any) {
        ca_buf_puts(b, "00:00:00");
    }
    return ca_buf_status(b);
}

/* ISO 8601 duration with signed components: "P1Y2M3DT4H5M6.7S", "PT-1H-30M", "PT0S". */
static int interval_json(ca_buf *b, const ca_duck_interval *iv)
{
    ca_buf_puts(b, "\"P");
    int32_t years = iv->months / 12, months = iv->months % 12;
    if (years)
        ca_buf_printf(b, "%" PRId32 "Y", years);
    if (months)
        ca_buf_printf(b, "%" PRId32 "M", months);
    if (iv->days)
        ca_buf_printf(b, "%" PRId32 "D", iv->days);
    if (iv->micros || (!iv->months && !iv->days)) {
        ca_buf_putc(b, 'T');
        const char *sign = iv->micros < 0 ? "-" : "";
        uint64_t us = iv->micros < 0 ? (uint64_t)0 - (uint64_t)iv->micros : (uint64_t)iv->micros;
        uint64_t h = us / UINT64_C(3600000000), mi = us / 60000000 % 60, s = us / 1000000 % 60;
        uint64_t frac = us % 1000000;
        if (h)
            ca_buf_printf(b, "%s%" PRIu64 "H", sign, h);
        if (mi)
            ca_buf_printf(b, "%s%" PRIu64 "M", sign, mi);
        if (s || frac || !us) {
            ca_buf_printf(b, "%s%" PRIu64, us ? sign : "", s);
            put_fraction(b, (int64_t)frac, 6);
            ca_buf_putc(b, 'S');
        }
    }
    return ca_buf_putc(b, '"');
}

/* ---- strings, blobs, uuid, bit, bignum ------------------------------------------------------- */

/* DuckDB's BLOB text: printable ASCII except \ ' " as itself, everything else as \xNN. */
static int blob_text(ca_buf *b, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    ca_buf_reserve(b, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c >= 32 && c <= 126 && c != '\\' && c != '\'' && c != '"') {
            ca_buf_putc(b, (char)c);
        } else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            ca_buf_append(b, e, 4);
        }
    }
    return ca_buf_status(b);
}

static int base64(ca_buf *b, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ca_buf_putc(b, '"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            w |= p[i + 2];
        char q[4] = {tab[w >> 18], tab[(w >> 12) & 63], i + 1 < n ? tab[(w >> 6) & 63] : '=',
                     i + 2 < n ? tab[w & 63] : '='};
        ca_buf_append(b, q, 4);
    }
    return ca_buf_putc(b, '"');
}

/* UUIDs are stored as a HUGEINT with the top bit flipped (so they sort as unsigned). */
static int uuid_text(ca_buf *b, const ca_duck_hugeint *h)
{
    uint64_t hi = (uint64_t)h->upper ^ (UINT64_C(1) << 63), lo = h->lower;
    return ca_buf_printf(b, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                         hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48, lo & UINT64_C(0xFFFFFFFFFFFF));
}

/* BIT: first byte = number of padding bits at the front of the first data byte. */
static int bit_text(ca_buf *b, const unsigned char *p, size_t n)
{
    if (n < 1)
        return ca_buf_status(b);
    size_t pad = p[0], bits = (n - 1) * 8;
    ca_buf_reserve(b, bits);
    for (size_t i = pad; i < bits; i++)
        ca_buf_putc(b, (p[1 + i / 8] >> (7 - i % 8)) & 1 ? '1' : '0');
    return ca_buf_status(b);
}

/* BIGNUM: 3 header bytes (top bit set = non-negative) then the big-endian magnitude, every byte
 * inverted when negative. Converted by repeated division by 10^9. */
static int bignum_text(ca_buf *b, const unsigned char *p, size_t n)
{
    if (n < 4)
        return ca_err_set(CA_E_INVALID, MOD, "duck: malformed BIGNUM value");
    bool neg = (p[0] & 0x80) == 0;
    size_t len = n - 3;
    unsigned char *mag = ca__malloc(len);
    uint32_t *chunks = ca__malloc(sizeof *chunks * (len * 8 / 29 + 2));
    if (!mag || !chunks) {
        ca__free(mag);
        ca__free(chunks);
        return ca_err_nomem(MOD, "bignum");
    }
    for (size_t i = 0; i < len; i++)
        mag[i] = neg ? (unsigned char)~p[3 + i] : p[3 + i];
    size_t nchunks = 0, start = 0;
    while (start < len && mag[start] == 0)
        start++;
    while (start < len) {
        uint64_t rem = 0;
        for (size_t i = start; i < len; i++) {
            uint64_t cur = (rem << 8) | mag[i];
            mag[i] = (unsigned char)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        chunks[nchunks++] = (uint32_t)rem;
        while (start < len && mag[start] == 0)
            start++;
    }
    if (neg && nchunks > 0)
        ca_buf_putc(b, '-');
    if (nchunks == 0)
        ca_buf_putc(b, '0');
    else
        ca_buf_printf(b, "%" PRIu32, chunks[nchunks - 1]);
    for (size_t i = nchunks ? nchunks - 1 : 0; i-- > 0;)
        ca_buf_printf(b, "%09" PRIu32, chunks[i]);
    ca__free(mag);
    ca__free(chunks);
    return ca_buf_status(b);
}

/* ---- the renderer ---------------------------------------------------------------------------- */

static bool is_nested(ca_duck_type id)
{
    return id == CA_DUCK_LIST || id == CA_DUCK_ARRAY || id == CA_DUCK_STRUCT || id == CA_DUCK_MAP ||
           id == CA_DUCK_UNION;
}

static int unsupported(ca_duck_type id)
{
    return ca_err_set(CA_E_UNSUPPORTED, MOD,
                      "duck: cannot render values of DuckDB type id %d (cast the column to VARCHAR)", (int)id);
}

static int render(ca_buf *b, const ca_duck_vtype *t, ca_duck_vec *v, size_t row, bool json);

/* Characters that make DuckDB quote a scalar written inside a LIST/STRUCT/MAP. */
static bool nested_special(unsigned char c)
{
    return c == '"' || c == '\'' || c == '(' || c == ')' || c == ',' || c == ':' || c == '=' || c == '[' ||
           c == ']' || c == '{' || c == '}';
}

static bool c_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static bool needs_quotes(const char *s, size_t n)
{
    if (n == 0 || c_space((unsigned char)s[0]) || (n >= 2 && c_space((unsigned char)s[n - 1])))
        return true;
    if (n == 4 && strncasecmp(s, "null", 4) == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (nested_special((unsigned char)s[i]))
            return true;
    return false;
}

/* Rewrites b[start..len) as a quoted literal: '...' with ' and \ escaped by a backslash. */
static int quote_tail(ca_buf *b, size_t start)
{
    size_t n = b->len - start;
    char *copy = NULL;
    if (n) {
        if (!(copy = ca__strndup(b->data + start, n)))
            return ca_err_nomem(MOD, "value text");
        b->len = start;
        b->data[start] = '\0';
    }
    ca_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (copy[i] == '\'' || copy[i] == '\\')
            ca_buf_putc(b, '\\');
        ca_buf_putc(b, copy[i]);
    }
    ca__free(copy);
    return ca_buf_putc(b, '\'');
}

/* A value inside a LIST/STRUCT/MAP (text form): nested values as they are, scalars quoted when
 * their text would be ambiguous (DuckDB's rule), NULL spelled out. */
static int text_child(ca_buf *b, const ca_duck_vtype *t, ca_duck_vec *v, size_t row)
{
    if (ca_duck_value_is_null(v, row))
        return ca_buf_puts(b, "NULL");
    size_t start = b->len;
    int rc = render(b, t, v, row, false);
    if (rc || is_nested(t->id))
        return rc;
    if (needs_quotes(b->data ? b->data + start : "", b->len - start))
        return quote_tail(b, start);
    return CA_OK;
}

static int child_value(ca_buf *b, const ca_duck_vtype *t, ca_duck_vec *v, size_t row, bool json)
{
    if (json)
        return ca_duck_value_is_null(v, row) ? ca_buf_puts(b, "null") : render(b, t, v, row, true);
    return text_child(b, t, v, row);
}

static int list_like(ca_buf *b, const ca_duck_vtype *t, ca_duck_vec *child, uint64_t off, uint64_t len, bool json)
{
    ca_buf_putc(b, '[');
    int rc = CA_OK;
    for (uint64_t i = 0; rc == CA_OK && i < len; i++) {
        if (i)
            ca_buf_puts(b, json ? "," : ", ");
        rc = child_value(b, t->child[0], child, (size_t)(off + i), json);
    }
    return rc ? rc : ca_buf_putc(b, ']');
}

static int struct_value(ca_buf *b, const ca_duck_vtype *t, ca_duck_vec *v, size_t row, bool json)
{
    bool tuple = t->unnamed;
    ca_buf_putc(b, tuple ? (json ? '[' : '(') : '{');
    int rc = CA_OK;
    for (size_t i = 0; rc == CA_OK && i < t->nchild; i++) {
        if (i)
            ca_buf_puts(b, json ? "," : ", ");
        if (!tuple) {
            const char *name = t->names[i];
            if (json) {
                ca_json_write_string(b, name, strlen(name));
                ca_buf_putc(b, ':');
            } else { /* struct keys are always quoted */
                size_t start = b->len;
                ca_buf_puts(b, name);
                quote_tail(b, start);
                ca_buf_puts(b, ": ");
            }
        }
        rc = child_value(b, t->child[i], ca_duck_vec_struct_child(v, i), row, json);
    }
    return rc ? rc : ca_buf_putc(b, tuple ? (json ? ']' : ')') : '}');
}

/* MAP: text "{k=v, ...}"; JSON an object when keys are VARCHAR, else [{"key":k,"value":v}, ...]. */
static int map_value(ca_buf *b, const ca_duck_vtype *t, ca_duck_vec *v, size_t row, bool json)
{
    const ca_duck_list_entry *e = &((const ca_duck_list_entry *)ca_duck_vec_data(v))[row];
    ca_duck_vec *entries = ca_duck_vec_list_child(v);
    ca_duck_vec *keys = ca_duck_vec_struct_child(entries, 0);
    ca_duck_vec *vals = ca_duck_vec_struct_child(entries, 1);
    bool object = json && t->map_object;
    ca_buf_putc(b, json && !object ? '[' : '{');
    int rc = CA_OK;
    for (uint64_t i = 0; rc == CA_OK && i < e->length; i++) {
        size_t r = (size_t)(e->offset + i);
        if (i)
            ca_buf_puts(b, json ? "," : ", ");
        if (!json) {
            rc = text_child(b, t->child[0], keys, r);
            ca_buf_putc(b, '=');
            rc = rc ? rc : text_child(b, t->child[1], vals, r);
        } else if (object) {
            if (ca_duck_value_is_null(keys, r)) { /* DuckDB forbids NULL keys; be total anyway */
                ca_buf_puts(b, "\"\"");
            } else {
                const ca_duck_str *s = &((const ca_duck_str *)ca_duck_vec_data(keys))[r];
                ca_json_write_string(b, ca_duck_str_data(s), ca_duck_str_len(s));
            }
            ca_buf_putc(b, ':');
            rc = child_value(b, t->child[1], vals, r, true);
        } else {
            ca_buf_puts(b, "{\"key\":");
            rc = child_value(b, t->child[0], keys, r, true);
            ca_buf_puts(b, ",\"value\":");
            rc = rc ? rc : child_value(b, t->child[1], vals, r, true);
            ca_buf_putc(b, '}');
        }
    }
    return rc ? rc : ca_buf_putc(b, json && !object ? ']' : '}');
}

/* UNION: the value of the member the tag selects (struct child 0 is the tag). */
static int union_value(ca_buf *b, const ca_duck_vtype *t, ca_duck_vec *v, size_t row, bool json)
{
    uint8_t tag = ((const uint8_t *)ca_duck_vec_data(ca_duck_vec_struct_child(v, 0)))[row];
    if (tag >= t->nchild)
        return ca_err_set(CA_E_INVALID, MOD, "duck: UNION tag %u out of range", tag);
    ca_duck_vec *member = ca_duck_vec_struct_child(v, (size_t)tag + 1);
    if (ca_duck_value_is_null(member, row))
        return ca_buf_puts(b, json ? "null" : "NULL");
    return render(b, t->child[tag], member, row, json);
}

static uint64_t enum_index(const ca_duck_vtype *t, const void *data, size_t row)
{
    switch (t->phys) {
    case CA_DUCK_UTINYINT: return ((const uint8_t *)data)[row];
    case CA_DUCK_USMALLINT: return ((const uint16_t *)data)[row];
    default: return ((const uint32_t *)data)[row];
    }
}

#define INT_CASE(ID, CTYPE)                                                                     \
    case ID: {                                                                                 \
        CTYPE x = ((const CTYPE *)data)[row];                                                  \
        return json ? json_i128(b, (i128)x) : put_i128(b, (i128)x);                            \
    }

/* Renders a non-NULL value. */
static int render(ca_buf *b, const ca_duck_vtype *t, ca_duck_vec *v, size_t row, bool json)
{
    const void *data = ca_duck_vec_data(v);
    switch (t->id) {
    case CA_DUCK_BOOLEAN:
        return ca_buf_puts(b, ((const bool *)data)[row] ? "true" : "false");
    INT_CASE(CA_DUCK_TINYINT, int8_t)
    INT_CASE(CA_DUCK_SMALLINT, int16_t)
    INT_CASE(CA_DUCK_INTEGER, int32_t)
    INT_CASE(CA_DUCK_BIGINT, int64_t)
    INT_CASE(CA_DUCK_UTINYINT, uint8_t)
    INT_CASE(CA_DUCK_USMALLINT, uint16_t)
    INT_CASE(CA_DUCK_UINTEGER, uint32_t)
    case CA_DUCK_UBIGINT: {
        uint64_t x = ((const uint64_t *)data)[row];
        return json ? json_u128(b, x) : put_u128(b, x);
    }
    case CA_DUCK_HUGEINT: {
        i128 x = hugeint_of(&((const ca_duck_hugeint *)data)[row]);
        return json ? json_i128(b, x) : put_i128(b, x);
    }
    case CA_DUCK_UHUGEINT: {
        u128 x = uhugeint_of(&((const ca_duck_uhugeint *)data)[row]);
        return json ? json_u128(b, x) : put_u128(b, x);
    }
    case CA_DUCK_FLOAT: {
        float x = ((const float *)data)[row];
        return json ? json_double(b, x, true) : float_text(b, x);
    }
    case CA_DUCK_DOUBLE: {
        double x = ((const double *)data)[row];
        return json ? json_double(b, x, false) : ca_duck_format_double(b, x, false);
    }
    case CA_DUCK_DECIMAL: {
        if (json)
            ca_buf_putc(b, '"');
        decimal_text(b, t, decimal_raw(t, data, row));
        return json ? ca_buf_putc(b, '"') : ca_buf_status(b);
    }
    case CA_DUCK_VARCHAR: {
        const ca_duck_str *s = &((const ca_duck_str *)data)[row];
        if (json)
            return ca_json_write_string(b, ca_duck_str_data(s), ca_duck_str_len(s));
        return ca_buf_append(b, ca_duck_str_data(s), ca_duck_str_len(s));
    }
    case CA_DUCK_BLOB: {
        const ca_duck_str *s = &((const ca_duck_str *)data)[row];
        const unsigned char *p = (const unsigned char *)ca_duck_str_data(s);
        return json ? base64(b, p, ca_duck_str_len(s)) : blob_text(b, p, ca_duck_str_len(s));
    }
    case CA_DUCK_BIT: {
        const ca_duck_str *s = &((const ca_duck_str *)data)[row];
        if (json)
            ca_buf_putc(b, '"');
        bit_text(b, (const unsigned char *)ca_duck_str_data(s), ca_duck_str_len(s));
        return json ? ca_buf_putc(b, '"') : ca_buf_status(b);
    }
    case CA_DUCK_BIGNUM: {
        const ca_duck_str *s = &((const ca_duck_str *)data)[row];
        size_t start = b->len;
        int rc = bignum_text(b, (const unsigned char *)ca_duck_str_data(s), ca_duck_str_len(s));
        if (rc || !json)
            return rc;
        /* JSON: a number when |v| <= 2^53 (equal-length digit strings compare like numbers) */
        const char *txt = b->data + start;
        const char *mag = txt + (txt[0] == '-');
        size_t n = b->len - start, nd = strlen(mag);
        if (nd < 16 || (nd == 16 && strcmp(mag, "9007199254740992") <= 0))
            return CA_OK;
        ca_buf_putc(b, '"');
        memmove(b->data + start + 1, b->data + start, n);
        b->data[start] = '"';
        return ca_buf_putc(b, '"');
    }
    case CA_DUCK_UUID: {
        if (json)
            ca_buf_putc(b, '"');
        uuid_text(b, &((const ca_duck_hugeint *)data)[row]);
        return json ? ca_buf_putc(b, '"') : ca_buf_status(b);
    }
    case CA_DUCK_ENUM: {
        uint64_t i = enum_index(t, data, row);
        if (i >= t->ndict)
            return ca_err_set(CA_E_INVALID, MOD, "duck: ENUM index %" PRIu64 " out of range", i);
        return json ? ca_json_write_string(b, t->dict[i], strlen(t->dict[i])) : ca_buf_puts(b, t->dict[i]);
    }
    case CA_DUCK_DATE:
        return date_value(b, ((const int32_t *)data)[row], json);
    case CA_DUCK_TIME: {
        if (json)
            ca_buf_putc(b, '"');
        time_body(b, ((const int64_t *)data)[row], 0, false);
        return json ? ca_buf_putc(b, '"') : ca_buf_status(b);
    }
    case CA_DUCK_TIME_NS: {
        int64_t ns = ((const int64_t *)data)[row];
        if (json)
            ca_buf_putc(b, '"');
        time_body(b, ns / 1000, ns % 1000, true);
        return json ? ca_buf_putc(b, '"') : ca_buf_status(b);
    }
    case CA_DUCK_TIME_TZ:
        return timetz_value(b, ((const uint64_t *)data)[row], json);
    case CA_DUCK_TIMESTAMP:
        return timestamp_body(b, ((const int64_t *)data)[row], 1000000, false, json);
    case CA_DUCK_TIMESTAMP_TZ:
        return timestamp_body(b, ((const int64_t *)data)[row], 1000000, true, json);
    case CA_DUCK_TIMESTAMP_S:
        return timestamp_body(b, ((const int64_t *)data)[row], 1, false, json);
    case CA_DUCK_TIMESTAMP_MS:
        return timestamp_body(b, ((const int64_t *)data)[row], 1000, false, json);
    case CA_DUCK_TIMESTAMP_NS:
        return timestamp_body(b, ((const int64_t *)data)[row], 1000000000, false, json);
    case CA_DUCK_INTERVAL: {
        const ca_duck_interval *iv = &((const ca_duck_interval *)data)[row];
        return json ? interval_json(b, iv) : interval_text(b, iv);
    }
    case CA_DUCK_LIST: {
        const ca_duck_list_entry *e = &((const ca_duck_list_entry *)data)[row];
        return list_like(b, t, ca_duck_vec_list_child(v), e->offset, e->length, json);
    }
    case CA_DUCK_ARRAY:
        return list_like(b, t, ca_duck_vec_array_child(v), (uint64_t)row * t->array_size, t->array_size, json);
    case CA_DUCK_STRUCT:
        return struct_value(b, t, v, row, json);
    case CA_DUCK_MAP:
        return map_value(b, t, v, row, json);
    case CA_DUCK_UNION:
        return union_value(b, t, v, row, json);
    case CA_DUCK_SQLNULL: /* every value of the NULL type is NULL */
        return ca_buf_puts(b, json ? "null" : "NULL");
    default:
        return unsupported(t->id);
    }
}

int ca_duck_value_text(ca_buf *out, const ca_duck_vtype *t, ca_duck_vec *v, size_t row)
{
    if (ca_duck_value_is_null(v, row))
        return ca_buf_puts(out, "NULL");
    int rc = render(out, t, v, row, false);
    return rc ? rc : ca_buf_status(out);
}

int ca_duck_value_json(ca_buf *out, const ca_duck_vtype *t, ca_duck_vec *v, size_t row)
{
    if (ca_duck_value_is_null(v, row))
        return ca_buf_puts(out, "null");
    int rc = render(out, t, v, row, true);
    return rc ? rc : ca_buf_status(out);
}
