/* Per-file statistics (delta.md §9 "Writing"): DuckDB's COPY … RETURN_STATS column statistics
 * rendered as the add.stats JSON text. Own emitter: integers and decimals keep their exact
 * lexeme (jansson cannot print exact decimals). */
#include "lib/delta/delta_write.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/text.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SEC_MIN, SEC_MAX, SEC_NULL };

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

/* "YYYY-MM-DD HH:MM:SS[.f…][+00[:00]]" → µs since epoch (UTC); false if it does not parse. */
static bool parse_ts(const char *s, int64_t *us)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return false;
    const char *p = s + n;
    int64_t frac = 0;
    int digits = 0;
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++)
            if (digits < 6) {
                frac = frac * 10 + (*p - '0');
                digits++;
            }
        for (; digits < 6; digits++)
            frac *= 10;
    }
    if (*p == '+' || *p == '-') {
        /* DuckDB prints TIMESTAMPTZ in the connection's zone: the module's are UTC */
        int oh = atoi(p + 1), om = 0;
        const char *c = strchr(p, ':');
        if (c)
            om = atoi(c + 1);
        int64_t off = ((int64_t)oh * 60 + om) * 60 * 1000000;
        frac -= *p == '+' ? off : -off;
    } else if (*p) {
        return false;
    }
    *us = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) * 1000000 + frac;
    return true;
}

static void fmt_ts(ca_buf *b, int64_t us, bool ceil_ms, bool utc)
{
    int64_t ms = us / 1000 - (us % 1000 < 0 ? 1 : 0); /* floor */
    if (ceil_ms && us % 1000 != 0)
        ms++;
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    ca_buf_printf(b, "\"%04lld-%02u-%02uT%02d:%02d:%02d.%03d%s\"", (long long)y, m, d, (int)(rem / 3600000),
                  (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000), utc ? "Z" : "");
}

static bool number_lexeme(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == 0;
}

/* Appends the JSON value of one bound; false when there is none. */
static bool render(ca_buf *b, int sec, const char *prim, json_t *st)
{
    if (sec == SEC_NULL) {
        const char *nc = json_string_value(json_object_get(st, "null_count"));
        if (!nc || !number_lexeme(nc) || *nc == '-')
            return false;
        ca_buf_puts(b, nc);
        return true;
    }
    const char *v = json_string_value(json_object_get(st, sec == SEC_MIN ? "min" : "max"));
    if (!v)
        return false;
    if (!strcmp(prim, "byte") || !strcmp(prim, "short") || !strcmp(prim, "integer") || !strcmp(prim, "long") ||
        !strncmp(prim, "decimal", 7)) {
        if (!number_lexeme(v))
            return false;
        ca_buf_puts(b, v);
        return true;
    }
    if (!strcmp(prim, "float") || !strcmp(prim, "double")) {
        const char *nan = json_string_value(json_object_get(st, "has_nan"));
        if (nan && strcmp(nan, "false") != 0)
            return false;
        char *end;
        double d = strtod(v, &end);
        if (*end || !isfinite(d))
            return false;
        char out[CA_JSON_DOUBLE_MAX];
        size_t n;
        if (ca_json_format_double(d, out, &n) != CA_OK)
            return false;
        ca_buf_append(b, out, n);
        return true;
    }
    if (!strcmp(prim, "date")) {
        int y, m, d, n = 0;
        if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || v[10])
            return false;
        ca_buf_printf(b, "\"%s\"", v);
        return true;
    }
    if (!strcmp(prim, "timestamp") || !strcmp(prim, "timestamp_ntz")) {
        int64_t us;
        if (!parse_ts(v, &us))
            return false;
        fmt_ts(b, us, sec == SEC_MAX, prim[9] == 0);
        return true;
    }
    if (!strcmp(prim, "string")) {
        size_t len = strlen(v);
        if (!ca_text_utf8_valid(v, len, NULL))
            return false;
        size_t cps = 0, cut = len;
        for (size_t i = 0; i < len; i++) {
            if (((unsigned char)v[i] & 0xC0) != 0x80) {
                if (cps == 32) {
                    cut = i;
                    break;
                }
                cps++;
            }
        }
        if (cut < len && sec == SEC_MAX)
            return false; /* a truncated max would not bound the column */
        ca_json_write_string(b, v, cut);
        return true;
    }
    return false; /* boolean, binary */
}

typedef struct walk {
    json_t *colstats;
    int64_t limit;      /* -1 = all */
    const char *stats_cols;
    int64_t counter;
    char *const *part_cols;
    size_t n_part;
} walk;

static bool listed(const char *stats_cols, const char *dotted)
{
    const char *p = stats_cols;
    size_t dl = strlen(dotted);
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        size_t l = (size_t)(t - p);
        if (l && l <= dl && strncmp(p, dotted, l) == 0 && (dotted[l] == 0 || dotted[l] == '.'))
            return true;
        p = e;
    }
    return false;
}

static void quote_seg(ca_buf *b, const char *name)
{
    ca_buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            ca_buf_putc(b, '"');
        ca_buf_putc(b, *p);
    }
    ca_buf_putc(b, '"');
}

static void section(ca_buf *out, walk *w, int sec, const dl_field *fields, size_t n, const char *qpath,
                    const char *dpath, bool top)
{
    bool first = true;
    ca_buf_putc(out, '{');
    for (size_t i = 0; i < n; i++) {
        const dl_field *f = &fields[i];
        if (top) {
            bool part = false;
            for (size_t p = 0; p < w->n_part; p++)
                part |= strcmp(w->part_cols[p], f->name) == 0;
            if (part)
                continue;
        }
        ca_buf q = CA_BUF_INIT, d = CA_BUF_INIT;
        if (*qpath)
            ca_buf_printf(&q, "%s.", qpath);
        quote_seg(&q, f->phys ? f->phys : f->name);
        if (*dpath)
            ca_buf_printf(&d, "%s.", dpath);
        ca_buf_puts(&d, f->name);
        size_t mark = out->len;
        if (!first)
            ca_buf_putc(out, ',');
        ca_json_write_string(out, f->name, strlen(f->name));
        ca_buf_putc(out, ':');
        bool wrote = false;
        if (f->type->kind == DL_STRUCT) {
            size_t before = out->len;
            section(out, w, sec, f->type->fields, f->type->n_fields, ca_buf_cstr(&q), ca_buf_cstr(&d), false);
            wrote = out->len - before > 2;
        } else if (f->type->kind == DL_PRIM) {
            int64_t idx = w->counter++;
            bool indexed = w->stats_cols ? listed(w->stats_cols, ca_buf_cstr(&d)) : (w->limit < 0 || idx < w->limit);
            json_t *st = json_object_get(w->colstats, ca_buf_cstr(&q));
            if (indexed && st)
                wrote = render(out, sec, f->type->prim ? f->type->prim : "", st);
        } else {
            w->counter++; /* an array or map is one leaf without stats */
        }
        if (wrote) {
            first = false;
        } else {
            out->len = mark; /* drop the key */
            out->data[mark] = 0;
        }
        ca_buf_free(&q);
        ca_buf_free(&d);
    }
    ca_buf_putc(out, '}');
}

int ca_delta__stats_json(const dl_schema *schema, char *const *part_cols, size_t n_part, int64_t num_records,
                         json_t *colstats, int64_t num_indexed, const char *stats_cols, char **out)
{
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "{\"numRecords\":%lld", (long long)num_records);
    static const char *const names[] = {"minValues", "maxValues", "nullCount"};
    for (int sec = 0; sec < 3; sec++) {
        walk w = {colstats, num_indexed, stats_cols, 0, part_cols, n_part};
        ca_buf_printf(&b, ",\"%s\":", names[sec]);
        section(&b, &w, sec, schema->fields, schema->n_fields, "", "", true);
    }
    ca_buf_putc(&b, '}');
    int rc = ca_buf_status(&b);
    if (rc) {
        ca_buf_free(&b);
        return rc;
    }
    *out = ca_buf_detach(&b, NULL);
    return *out ? CA_OK : ca_err_nomem(DL_MOD, "stats");
}
