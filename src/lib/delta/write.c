/* Delta writes: create, append, overwrite, replaceWhere, merge (delta.md §5, §7.2, §7.3, §8, §12). */
#include "lib/delta/delta_write.h"

#include "lib/duck/value.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/time.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

/* ---- small helpers ------------------------------------------------------------------------ */

void ca_delta__uuid4(char out[37])
{
    uint8_t b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n <= 0) { /* never expected; fall back to the clock so names still differ */
            uint64_t t = ca_time_mono_ns() ^ (uint64_t)ca_time_wall_ms() << 20;
            for (; got < sizeof b; got++, t = t * 6364136223846793005ULL + 1442695040888963407ULL)
                b[got] = (uint8_t)(t >> 56);
            break;
        }
        got += (size_t)n;
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void ca_delta__uri_encode(ca_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~' || c == '/') {
            ca_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            ca_buf_append(b, e, 3);
        }
    }
}

void ca_delta__hive_escape(ca_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c < 0x20 || c == 0x7f || strchr("\"#%'*/:=?\\{[]^", c)) {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            ca_buf_append(b, e, 3);
        } else {
            ca_buf_putc(b, (char)c);
        }
    }
}

char *ca_delta__log_path(const char *root, int64_t v, const char *suffix)
{
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/_delta_log/%020" PRId64 ".%s", root, v, suffix);
    return ca_buf_detach(&b, NULL);
}

int ca_delta__conn_get(ca_delta_ctx *ctx, ca_duck_conn *conn, ca_duck_conn **out, bool *owned)
{
    *owned = false;
    if (conn) {
        *out = conn;
        return CA_OK;
    }
    int rc = ca_duck_connect(ctx->db, out);
    if (rc == CA_OK)
        *owned = true;
    return rc;
}

int ca_delta__query_json(ca_duck_conn *conn, const char *sql, json_t **rows)
{
    *rows = NULL;
    ca_duck_result *r = NULL;
    int rc = ca_duck_query(conn, sql, &r);
    if (rc)
        return rc;
    size_t nc = ca_duck_result_column_count(r);
    ca_duck_vtype **vt = ca__calloc(nc ? nc : 1, sizeof *vt);
    json_t *arr = json_array();
    if (!vt || !arr)
        rc = ca_err_nomem(DL_MOD, "query rows");
    for (size_t c = 0; rc == CA_OK && c < nc; c++)
        rc = ca_duck_vtype_new(ca_duck_result_column_ltype(r, c), &vt[c]);
    ca_buf cell = CA_BUF_INIT;
    while (rc == CA_OK) {
        ca_duck_chunk *ch = NULL;
        rc = ca_duck_result_next_chunk(r, &ch);
        if (rc || !ch)
            break;
        size_t n = ca_duck_chunk_size(ch);
        for (size_t i = 0; rc == CA_OK && i < n; i++) {
            json_t *o = json_object();
            for (size_t c = 0; rc == CA_OK && c < nc; c++) {
                ca_buf_clear(&cell);
                rc = ca_duck_value_json(&cell, vt[c], ca_duck_chunk_vector(ch, c), i);
                json_t *v = NULL;
                if (rc == CA_OK)
                    rc = ca_json_load_buffer(cell.data ? cell.data : "null", cell.len ? cell.len : 4, 0,
                                             "query row", &v, NULL);
                if (rc == CA_OK)
                    json_object_set_new(o, ca_duck_result_column_name(r, c), v);
            }
            json_array_append_new(arr, o);
        }
        ca_duck_chunk_free(ch);
    }
    ca_buf_free(&cell);
    for (size_t c = 0; vt && c < nc; c++)
        ca_duck_vtype_free(vt[c]);
    ca__free(vt);
    ca_duck_result_free(r);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *rows = arr;
    return CA_OK;
}

const char *ca_delta__prop(const ca_delta_snapshot *s, const char *key)
{
    if (!s || !s->metadata)
        return NULL;
    return json_string_value(json_object_get(json_object_get(s->metadata, "configuration"), key));
}

int ca_delta__interval_hours(const char *text, double *hours)
{
    const char *p = text;
    while (*p == ' ')
        p++;
    if (strncasecmp(p, "interval", 8) != 0)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: interval '%s': expected 'interval <n> <unit>'", text);
    p += 8;
    double total = 0;
    int items = 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end;
        double n = strtod(p, &end);
        if (end == p)
            return ca_err_set(CA_E_INVALID, DL_MOD, "delta: interval '%s': expected a number", text);
        p = end;
        while (*p == ' ')
            p++;
        const char *u = p;
        while (*p && *p != ' ')
            p++;
        size_t ul = (size_t)(p - u);
        static const struct { const char *unit; double h; } units[] = {
            {"week", 168},        {"day", 24},           {"hour", 1},          {"minute", 1.0 / 60},
            {"second", 1.0 / 3600}, {"millisecond", 1.0 / 3.6e6}, {"microsecond", 1.0 / 3.6e9},
        };
        double h = -1;
        for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
            size_t l = strlen(units[i].unit);
            if ((ul == l || (ul == l + 1 && u[l] == 's')) && strncasecmp(u, units[i].unit, l) == 0)
                h = units[i].h;
        }
        if (h < 0)
            return ca_err_set(CA_E_INVALID, DL_MOD, "delta: interval '%s': unit '%.*s' not allowed", text,
                              (int)ul, u);
        total += n * h;
        items++;
    }
    if (!items)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: interval '%s': empty", text);
    *hours = total;
    return CA_OK;
}

void ca_delta__result_warn(ca_delta_write_result *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **w = ca__realloc(r->warnings, (r->n_warnings + 1) * sizeof *w);
    if (!w)
        return;
    r->warnings = w;
    if ((w[r->n_warnings] = ca__strdup(msg)))
        r->n_warnings++;
}

static bool in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static bool fields_have_meta(const ca_delta_snapshot *s, const char *prefix)
{
    json_t *schema = json_loads(json_string_value(json_object_get(s->metadata, "schemaString")), 0, NULL);
    bool found = false;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(schema, "fields"), i, f) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(f, "metadata"), k, v) {
            (void)v;
            if (strncmp(k, prefix, strlen(prefix)) == 0)
                found = true;
        }
    }
    json_decref(schema);
    return found;
}

int ca_delta__check_writable(const ca_delta_snapshot *s)
{
    static const char *const ok[] = {"appendOnly", "invariants", "checkConstraints", "changeDataFeed",
                                     "columnMapping", "deletionVectors", "timestampNtz", "v2Checkpoint",
                                     "vacuumProtocolCheck", "typeWidening", "typeWidening-preview",
                                     "inCommitTimestamp", "domainMetadata", NULL};
    if (s->min_writer > 7)
        return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD, "delta: %s: protocol: writer version %d is not supported",
                          s->root, s->min_writer);
    if (s->min_writer == 7) {
        size_t i;
        json_t *f;
        ca_buf bad = CA_BUF_INIT;
        json_array_foreach(json_object_get(s->protocol, "writerFeatures"), i, f) {
            const char *name = json_string_value(f);
            if (!name || !in_list(name, ok))
                ca_buf_printf(&bad, "%s%s", bad.len ? ", " : "", name ? name : "?");
        }
        if (bad.len) {
            int rc = ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD, "delta: %s: protocol: writer features not supported: %s",
                                s->root, ca_buf_cstr(&bad));
            ca_buf_free(&bad);
            return rc;
        }
        ca_buf_free(&bad);
    }
    if (s->cm_mode != DL_CM_NONE)
        return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD, "delta: %s: metaData: writes to tables with column mapping are not supported",
                          s->root);
    if (fields_have_meta(s, "delta.identity") || fields_have_meta(s, "delta.generationExpression") ||
        fields_have_meta(s, "CURRENT_DEFAULT"))
        return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD,
                          "delta: %s: metaData: writes to tables with identity, generated or default columns are not supported",
                          s->root);
    const char *st = ca_delta__prop(s, "delta.checkpoint.writeStatsAsStruct");
    if (st && strcasecmp(st, "true") == 0)
        return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD,
                          "delta: %s: metaData: delta.checkpoint.writeStatsAsStruct=true is not supported", s->root);
    return CA_OK;
}

/* ---- types (§7.2) ------------------------------------------------------------------------- */

typedef struct tmap {
    const char *col; /* for messages */
    bool cast;       /* the source type differs from the written one */
    bool ntz;        /* contains timestamp_ntz */
} tmap;

static int type_reject(const char *root, const char *col, const char *type, const char *hint)
{
    return ca_err_set(CA_E_DELTA_TYPE, DL_MOD, "delta: %s: column %s: type %s cannot be stored in Delta%s%s", root, col,
                      type, hint ? ": " : "", hint ? hint : "");
}

/* Maps a DuckDB type to a Delta type (JSON, new reference) and the DuckDB type written (text). */
static int map_type(const char *root, ca_duck_ltype *lt, tmap *tm, json_t **dt, ca_buf *duck)
{
    ca_duck_type id = ca_duck_ltype_id(lt);
    static const struct { ca_duck_type id; const char *delta, *duck; bool cast; } prim[] = {
        {CA_DUCK_BOOLEAN, "boolean", "BOOLEAN", false},   {CA_DUCK_TINYINT, "byte", "TINYINT", false},
        {CA_DUCK_SMALLINT, "short", "SMALLINT", false},   {CA_DUCK_INTEGER, "integer", "INTEGER", false},
        {CA_DUCK_BIGINT, "long", "BIGINT", false},        {CA_DUCK_FLOAT, "float", "FLOAT", false},
        {CA_DUCK_DOUBLE, "double", "DOUBLE", false},      {CA_DUCK_BLOB, "binary", "BLOB", false},
        {CA_DUCK_DATE, "date", "DATE", false},            {CA_DUCK_VARCHAR, "string", "VARCHAR", false},
        {CA_DUCK_ENUM, "string", "VARCHAR", true},        {CA_DUCK_UTINYINT, "short", "SMALLINT", true},
        {CA_DUCK_USMALLINT, "integer", "INTEGER", true},  {CA_DUCK_UINTEGER, "long", "BIGINT", true},
        {CA_DUCK_TIMESTAMP_TZ, "timestamp", "TIMESTAMPTZ", false},
        {CA_DUCK_TIMESTAMP, "timestamp_ntz", "TIMESTAMP", false},
        {CA_DUCK_TIMESTAMP_S, "timestamp_ntz", "TIMESTAMP", true},
        {CA_DUCK_TIMESTAMP_MS, "timestamp_ntz", "TIMESTAMP", true},
    };
    for (size_t i = 0; i < sizeof prim / sizeof *prim; i++) {
        if (prim[i].id != id)
            continue;
        *dt = json_string(prim[i].delta);
        ca_buf_puts(duck, prim[i].duck);
        tm->cast |= prim[i].cast;
        if (strcmp(prim[i].delta, "timestamp_ntz") == 0)
            tm->ntz = true;
        return CA_OK;
    }
    if (id == CA_DUCK_DECIMAL) {
        char t[40];
        unsigned w = ca_duck_ltype_decimal_width(lt), s = ca_duck_ltype_decimal_scale(lt);
        snprintf(t, sizeof t, "decimal(%u,%u)", w, s);
        *dt = json_string(t);
        ca_buf_printf(duck, "DECIMAL(%u,%u)", w, s);
        return CA_OK;
    }
    if (id == CA_DUCK_LIST || id == CA_DUCK_ARRAY) {
        ca_duck_ltype *child = id == CA_DUCK_LIST ? ca_duck_ltype_list_child(lt) : ca_duck_ltype_array_child(lt);
        json_t *et = NULL;
        int rc = map_type(root, child, tm, &et, duck);
        ca_duck_ltype_free(child);
        if (rc)
            return rc;
        ca_buf_puts(duck, "[]");
        tm->cast |= id == CA_DUCK_ARRAY;
        *dt = json_pack("{s:s,s:o,s:b}", "type", "array", "elementType", et, "containsNull", 1);
        return CA_OK;
    }
    if (id == CA_DUCK_MAP) {
        /* MAP is LIST(STRUCT(key, value)) */
        ca_duck_ltype *entry = ca_duck_ltype_list_child(lt);
        ca_duck_ltype *k = entry ? ca_duck_ltype_struct_child(entry, 0) : NULL;
        ca_duck_ltype *v = entry ? ca_duck_ltype_struct_child(entry, 1) : NULL;
        json_t *kt = NULL, *vt = NULL;
        ca_buf_puts(duck, "MAP(");
        int rc = k && v ? map_type(root, k, tm, &kt, duck) : ca_err_nomem(DL_MOD, "map type");
        ca_buf_puts(duck, ", ");
        if (rc == CA_OK)
            rc = map_type(root, v, tm, &vt, duck);
        ca_buf_puts(duck, ")");
        ca_duck_ltype_free(k);
        ca_duck_ltype_free(v);
        ca_duck_ltype_free(entry);
        if (rc) {
            json_decref(kt);
            json_decref(vt);
            return rc;
        }
        *dt = json_pack("{s:s,s:o,s:o,s:b}", "type", "map", "keyType", kt, "valueType", vt, "valueContainsNull", 1);
        return CA_OK;
    }
    if (id == CA_DUCK_STRUCT) {
        size_t n = ca_duck_ltype_struct_count(lt);
        json_t *fields = json_array();
        ca_buf_puts(duck, "STRUCT(");
        int rc = CA_OK;
        for (size_t i = 0; rc == CA_OK && i < n; i++) {
            char *name = ca_duck_ltype_struct_name(lt, i);
            ca_duck_ltype *c = ca_duck_ltype_struct_child(lt, i);
            char *q = name ? ca_duck_quote_ident(name) : NULL;
            json_t *ft = NULL;
            if (!q || !c)
                rc = ca_err_nomem(DL_MOD, "struct type");
            if (rc == CA_OK) {
                ca_buf_printf(duck, "%s%s ", i ? ", " : "", q);
                rc = map_type(root, c, tm, &ft, duck);
            }
            if (rc == CA_OK)
                json_array_append_new(fields, json_pack("{s:s,s:o,s:b,s:{}}", "name", name, "type", ft, "nullable", 1,
                                                        "metadata"));
            ca__free(q);
            ca__free(name);
            ca_duck_ltype_free(c);
        }
        ca_buf_puts(duck, ")");
        if (rc) {
            json_decref(fields);
            return rc;
        }
        *dt = json_pack("{s:s,s:o}", "type", "struct", "fields", fields);
        return CA_OK;
    }
    char *text = ca_duck_ltype_text(lt);
    const char *hint = NULL;
    switch (id) {
    case CA_DUCK_HUGEINT:
    case CA_DUCK_UHUGEINT: hint = "Parquet stores it as DOUBLE; use the hex ID string, DECIMAL(38,0) or BLOB"; break;
    case CA_DUCK_UBIGINT: hint = "cast to BIGINT or DECIMAL(20,0)"; break;
    case CA_DUCK_UUID: hint = "cast to VARCHAR or BLOB"; break;
    case CA_DUCK_INTERVAL:
    case CA_DUCK_TIME:
    case CA_DUCK_TIME_NS:
    case CA_DUCK_TIME_TZ: hint = "cast to BIGINT µs or VARCHAR"; break;
    case CA_DUCK_TIMESTAMP_NS: hint = "cast to TIMESTAMP"; break;
    default: break;
    }
    int rc = type_reject(root, tm->col, text ? text : "?", hint);
    ca__free(text);
    return rc;
}

/* Equality of Delta types, ignoring nullability and metadata. */
static bool type_equal(json_t *a, json_t *b)
{
    if (json_is_string(a) || json_is_string(b))
        return json_is_string(a) && json_is_string(b) && strcmp(json_string_value(a), json_string_value(b)) == 0;
    const char *ta = json_string_value(json_object_get(a, "type")), *tb = json_string_value(json_object_get(b, "type"));
    if (!ta || !tb || strcmp(ta, tb) != 0)
        return false;
    if (strcmp(ta, "array") == 0)
        return type_equal(json_object_get(a, "elementType"), json_object_get(b, "elementType"));
    if (strcmp(ta, "map") == 0)
        return type_equal(json_object_get(a, "keyType"), json_object_get(b, "keyType")) &&
               type_equal(json_object_get(a, "valueType"), json_object_get(b, "valueType"));
    json_t *fa = json_object_get(a, "fields"), *fb = json_object_get(b, "fields");
    if (json_array_size(fa) != json_array_size(fb))
        return false;
    for (size_t i = 0; i < json_array_size(fa); i++) {
        json_t *x = json_array_get(fa, i), *y = json_array_get(fb, i);
        const char *nx = json_string_value(json_object_get(x, "name")), *ny = json_string_value(json_object_get(y, "name"));
        if (!nx || !ny || strcmp(nx, ny) != 0 || !type_equal(json_object_get(x, "type"), json_object_get(y, "type")))
            return false;
    }
    return true;
}

static int int_rank(const char *t)
{
    static const char *const r[] = {"byte", "short", "integer", "long"};
    for (int i = 0; i < 4; i++)
        if (strcmp(t, r[i]) == 0)
            return i;
    return -1;
}

/* A safe upcast from src to dst primitive (§7.3). */
static bool safe_upcast(const char *src, const char *dst)
{
    int a = int_rank(src), b = int_rank(dst);
    if (a >= 0 && b >= 0)
        return a <= b;
    if (strcmp(src, "float") == 0 && strcmp(dst, "double") == 0)
        return true;
    unsigned p1, s1, p2, s2;
    if (sscanf(src, "decimal(%u,%u)", &p1, &s1) == 2 && sscanf(dst, "decimal(%u,%u)", &p2, &s2) == 2)
        return s2 >= s1 && p2 - s2 >= p1 - s1;
    return false;
}

/* ---- the source relation ------------------------------------------------------------------ */

typedef struct src_col {
    char *name;
    json_t *dtype;  /* Delta type */
    char *duck;     /* DuckDB type written */
    bool cast;
    bool ntz;
    bool used;
} src_col;

typedef struct src_rel {
    src_col *cols;
    size_t n;
} src_rel;

static void src_free(src_rel *s)
{
    for (size_t i = 0; i < s->n; i++) {
        ca__free(s->cols[i].name);
        json_decref(s->cols[i].dtype);
        ca__free(s->cols[i].duck);
    }
    ca__free(s->cols);
    memset(s, 0, sizeof *s);
}

static int src_describe(const char *root, ca_duck_conn *conn, const char *sql, src_rel *out)
{
    memset(out, 0, sizeof *out);
    ca_buf q = CA_BUF_INIT;
    ca_buf_printf(&q, "SELECT * FROM (%s) AS __src LIMIT 0", sql);
    ca_duck_result *r = NULL;
    int rc = ca_buf_status(&q) ? ca_buf_status(&q) : ca_duck_query(conn, ca_buf_cstr(&q), &r);
    ca_buf_free(&q);
    if (rc)
        return rc;
    size_t n = ca_duck_result_column_count(r);
    out->cols = ca__calloc(n ? n : 1, sizeof *out->cols);
    if (!out->cols)
        rc = ca_err_nomem(DL_MOD, "source columns");
    for (size_t i = 0; rc == CA_OK && i < n; i++) {
        src_col *c = &out->cols[out->n++];
        c->name = ca__strdup(ca_duck_result_column_name(r, i));
        tmap tm = {c->name, false, false};
        ca_buf d = CA_BUF_INIT;
        rc = c->name ? map_type(root, ca_duck_result_column_ltype(r, i), &tm, &c->dtype, &d) : ca_err_nomem(DL_MOD, "name");
        if (rc == CA_OK && ca_buf_status(&d))
            rc = ca_buf_status(&d);
        c->duck = ca_buf_detach(&d, NULL);
        c->cast = tm.cast;
        c->ntz = tm.ntz;
    }
    ca_duck_result_free(r);
    if (rc)
        src_free(out);
    return rc;
}

static bool bad_name(const char *n)
{
    return !*n || strpbrk(n, " ,;{}()\n\t=") != NULL || strcmp(n, "__source_file") == 0;
}

/* ---- data files --------------------------------------------------------------------------- */

static const char *codec_ext(const char *codec)
{
    if (strcmp(codec, "zstd") == 0)
        return "zstd.parquet";
    if (strcmp(codec, "snappy") == 0)
        return "snappy.parquet";
    if (strcmp(codec, "gzip") == 0)
        return "gz.parquet";
    if (strcmp(codec, "lz4_raw") == 0)
        return "lz4raw.parquet";
    return "parquet";
}

static int codec_of(const char *root, const char *prop, const char **codec)
{
    if (!prop || strcasecmp(prop, "zstd") == 0)
        *codec = "zstd";
    else if (strcasecmp(prop, "snappy") == 0)
        *codec = "snappy";
    else if (strcasecmp(prop, "gzip") == 0)
        *codec = "gzip";
    else if (strcasecmp(prop, "lz4_raw") == 0 || strcasecmp(prop, "lz4raw") == 0)
        *codec = "lz4_raw";
    else if (strcasecmp(prop, "uncompressed") == 0 || strcasecmp(prop, "none") == 0)
        *codec = "uncompressed";
    else
        return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD, "delta: %s: delta.parquet.compression.codec '%s' is not supported",
                          root, prop);
    return CA_OK;
}

void ca_delta__copy_init(dw_copy *c, ca_delta_ctx *ctx, ca_delta_snapshot *s)
{
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->root = s->root;
    c->schema = &s->schema;
    c->part_cols = s->part_cols;
    c->n_part = s->n_part_cols;
    c->codec = "zstd";
    codec_of(s->root, ca_delta__prop(s, "delta.parquet.compression.codec"), &c->codec);
    const char *pv = ca_delta__prop(s, "delta.parquet.format.version");
    c->parquet_version = pv && pv[0] == '2' ? "V2" : "V1";
    const char *ts = ca_delta__prop(s, "delta.targetFileSize");
    c->target_file_size = ts ? strtoll(ts, NULL, 10) : 0;
    if (c->target_file_size <= 0)
        c->target_file_size = DW_DEFAULT_TARGET;
    const char *ni = ca_delta__prop(s, "delta.dataSkippingNumIndexedCols");
    c->num_indexed = ni ? strtoll(ni, NULL, 10) : 32;
    c->stats_cols = ca_delta__prop(s, "delta.dataSkippingStatsColumns");
    c->data_change = true;
}

static int rm_tree(const ca_fs *fs, const char *dir)
{
    ca_fs_entry *e = NULL;
    size_t n = 0;
    int rc = ca_fs_list(fs, dir, &e, &n);
    if (rc)
        return rc;
    for (size_t i = 0; rc == CA_OK && i < n; i++) {
        char *p = ca_delta__abs_path(dir, e[i].name);
        if (!p)
            rc = ca_err_nomem(DL_MOD, "path");
        else if (e[i].type == CA_FS_TYPE_DIR)
            rc = rm_tree(fs, p);
        else
            rc = ca_fs_remove(fs, p);
        ca__free(p);
    }
    ca_fs_list_free(e, n);
    return rc ? rc : ca_fs_rmdir(fs, dir);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int ca_delta__copy_files(const dw_copy *c, ca_duck_conn *conn, const char *select_sql, json_t *adds, int64_t *rows,
                         int64_t *bytes)
{
    const ca_fs *fs = c->ctx->fs;
    char uuid[37];
    ca_delta__uuid4(uuid);
    ca_buf stage = CA_BUF_INIT, q = CA_BUF_INIT, base = CA_BUF_INIT;
    const char *prefix = c->cdc ? "_change_data/" : "";
    ca_buf_printf(&base, "%s%s%s", c->root, c->cdc ? "/" : "", c->cdc ? "_change_data" : "");
    if (c->n_part)
        ca_buf_printf(&stage, "%s/ca-stage-%s", c->root, uuid);
    ca_buf_printf(&q, "COPY (%s) TO ", select_sql);
    char *lit = ca_duck_quote_literal(c->n_part ? ca_buf_cstr(&stage) : ca_buf_cstr(&base));
    ca_buf_puts(&q, lit ? lit : "''");
    ca__free(lit);
    ca_buf_printf(&q, " (FORMAT parquet, COMPRESSION %s, PARQUET_VERSION %s, RETURN_STATS true, "
                      "FILENAME_PATTERN '%s-{uuid}', FILE_EXTENSION '%s', ",
                  c->codec, c->parquet_version, c->cdc ? "cdc" : "part", codec_ext(c->codec));
    if (c->n_part) {
        ca_buf_puts(&q, "PARTITION_BY (");
        for (size_t i = 0; i < c->n_part; i++)
            ca_buf_printf(&q, "%s__pv%zu", i ? ", " : "", i);
        ca_buf_puts(&q, "), WRITE_PARTITION_COLUMNS false)");
    } else {
        ca_buf_printf(&q, "FILE_SIZE_BYTES %" PRId64 ", APPEND true, WRITE_EMPTY_FILE false)", c->target_file_size);
    }
    int rc = ca_buf_status(&q) ? ca_buf_status(&q) : ca_buf_status(&stage);
    json_t *res = NULL;
    ca_trace_span sp;
    ca_trace_begin(c->ctx->trace, &sp, "delta", "delta.copy");
    if (rc == CA_OK && c->n_part)
        rc = ca_fs_mkdirs(fs, ca_buf_cstr(&stage));
    else if (rc == CA_OK && c->cdc)
        rc = ca_fs_mkdirs(fs, ca_buf_cstr(&base));
    if (rc == CA_OK) {
        rc = ca_delta__query_json(conn, ca_buf_cstr(&q), &res);
        /* a failed row check (§12) surfaces as DuckDB's error(): report it as the constraint */
        const char *m = rc == CA_E_DUCKDB ? strstr(ca_error_last()->message, "delta: ") : NULL;
        if (m && strstr(m, ": constraint ")) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", m);
            rc = ca_err_set(CA_E_DELTA_CONSTRAINT, DL_MOD, "%s", msg);
        }
    }
    ca_trace_end(&sp);
    if (rc == CA_OK)
        rc = ca_fs_step(fs, "after_copy");
    ca_buf_free(&q);
    *rows = 0;
    *bytes = 0;
    size_t i;
    json_t *row;
    ca_buf rel = CA_BUF_INIT, path = CA_BUF_INIT;
    ca_trace_begin(c->ctx->trace, &sp, "delta", "delta.stats");
    json_array_foreach(rc == CA_OK ? res : NULL, i, row) {
        const char *fname = json_string_value(json_object_get(row, "filename"));
        int64_t count = json_integer_value(json_object_get(row, "count"));
        if (!fname) {
            rc = ca_err_set(CA_E_INTERNAL, DL_MOD, "delta: %s: COPY returned no file name", c->root);
            break;
        }
        json_t *pvals = json_object();
        ca_buf_clear(&rel);
        ca_buf_puts(&rel, prefix);
        if (c->n_part) {
            json_t *pk = json_object_get(row, "partition_keys");
            for (size_t p = 0; p < c->n_part; p++) {
                char key[32];
                snprintf(key, sizeof key, "__pv%zu", p);
                const char *v = json_string_value(json_object_get(pk, key));
                json_object_set_new(pvals, c->part_cols[p], v ? json_string(v) : json_null());
                ca_buf_puts(&rel, c->part_cols[p]);
                ca_buf_putc(&rel, '=');
                if (v)
                    ca_delta__hive_escape(&rel, v);
                else
                    ca_buf_puts(&rel, "__HIVE_DEFAULT_PARTITION__");
                ca_buf_putc(&rel, '/');
            }
            ca_buf_clear(&path);
            ca_buf_printf(&path, "%s/%s", c->root, ca_buf_cstr(&rel));
            rc = ca_buf_status(&path);
            if (rc == CA_OK)
                rc = ca_fs_mkdirs(fs, ca_buf_cstr(&path));
            ca_buf_puts(&path, base_name(fname));
            ca_buf_puts(&rel, base_name(fname));
            if (rc == CA_OK)
                rc = ca_buf_status(&path);
            if (rc == CA_OK)
                rc = ca_fs_rename_replace(fs, fname, ca_buf_cstr(&path));
        } else {
            ca_buf_puts(&rel, base_name(fname));
            ca_buf_clear(&path);
            ca_buf_puts(&path, fname);
        }
        ca_fs_stat st = {0};
        if (rc == CA_OK)
            rc = ca_fs_fsync_path(fs, ca_buf_cstr(&path));
        if (rc == CA_OK)
            rc = ca_fs_stat_path(fs, ca_buf_cstr(&path), &st);
        char *stats = NULL;
        if (rc == CA_OK && !c->cdc)
            rc = ca_delta__stats_json(c->schema, c->part_cols, c->n_part, count, json_object_get(row, "column_statistics"),
                                      c->num_indexed, c->stats_cols, &stats);
        if (rc) {
            json_decref(pvals);
            break;
        }
        ca_buf enc = CA_BUF_INIT;
        ca_delta__uri_encode(&enc, ca_buf_cstr(&rel));
        if (c->cdc) {
            json_t *cdc = json_pack("{s:s,s:o,s:I,s:b}", "path", ca_buf_cstr(&enc), "partitionValues", pvals, "size",
                                    (json_int_t)st.size, "dataChange", 0);
            ca_buf_free(&enc);
            if (!cdc) {
                rc = ca_err_nomem(DL_MOD, "cdc action");
                break;
            }
            json_array_append_new(adds, json_pack("{s:o}", "cdc", cdc));
            *rows += count;
            *bytes += (int64_t)st.size;
            continue;
        }
        json_t *add = json_pack("{s:s,s:o,s:I,s:I,s:b,s:s}", "path", ca_buf_cstr(&enc), "partitionValues", pvals, "size",
                                (json_int_t)st.size, "modificationTime", (json_int_t)st.mtime_ms, "dataChange",
                                c->data_change, "stats", stats);
        ca_buf_free(&enc);
        ca__free(stats);
        if (!add) {
            rc = ca_err_nomem(DL_MOD, "add action");
            break;
        }
        json_array_append_new(adds, json_pack("{s:o}", "add", add));
        *rows += count;
        *bytes += (int64_t)st.size;
    }
    ca_trace_end(&sp);
    ca_buf_free(&rel);
    ca_buf_free(&path);
    json_decref(res);
    if (c->n_part) {
        int r2 = rm_tree(fs, ca_buf_cstr(&stage));
        if (rc == CA_OK && r2 != CA_OK && r2 != CA_E_NOT_FOUND)
            rc = r2;
        /* partition directories */
        json_array_foreach(rc == CA_OK ? adds : NULL, i, row) {
            json_t *a = json_object_get(row, c->cdc ? "cdc" : "add");
            const char *p = json_string_value(json_object_get(a, "path"));
            if (!p)
                continue;
            char *dec = ca_delta__uri_decode(p);
            char *abs = dec ? ca_delta__abs_path(c->root, dec) : NULL;
            char *slash = abs ? strrchr(abs, '/') : NULL;
            if (slash) {
                *slash = 0;
                rc = ca_fs_fsync_dir(fs, abs);
            }
            ca__free(dec);
            ca__free(abs);
            if (rc)
                break;
        }
    }
    ca_buf_free(&stage);
    if (rc == CA_OK)
        rc = ca_fs_fsync_dir(fs, ca_buf_cstr(&base));
    ca_buf_free(&base);
    return rc;
}

bool ca_delta__cdf_enabled(const ca_delta_snapshot *s)
{
    const char *v = ca_delta__prop(s, "delta.enableChangeDataFeed");
    return v && strcasecmp(v, "true") == 0;
}

int ca_delta__write_cdc(ca_delta_ctx *ctx, ca_duck_conn *conn, ca_delta_snapshot *s, const char *rows_sql,
                        json_t *actions)
{
    ca_buf q = CA_BUF_INIT;
    ca_buf_puts(&q, "SELECT ");
    for (size_t i = 0; i < s->schema.n_fields; i++) {
        const dl_field *f = &s->schema.fields[i];
        bool part = false;
        for (size_t p = 0; p < s->n_part_cols; p++)
            part |= strcmp(s->part_cols[p], f->name) == 0;
        if (part)
            continue;
        char *qn = ca_duck_quote_ident(f->name);
        ca_buf tt = CA_BUF_INIT;
        ca_delta__type_sql(f->type, false, &tt);
        ca_buf_printf(&q, "CAST(%s AS %s) AS %s, ", qn ? qn : "", ca_buf_cstr(&tt), qn ? qn : "");
        ca_buf_free(&tt);
        ca__free(qn);
    }
    ca_buf_puts(&q, "CAST(_change_type AS VARCHAR) AS _change_type");
    int rc = ca_delta__partition_exprs(s, &q);
    ca_buf_printf(&q, " FROM (%s) AS __w", rows_sql);
    dw_copy c;
    ca_delta__copy_init(&c, ctx, s);
    c.cdc = true;
    c.data_change = false;
    int64_t rows = 0, bytes = 0;
    if (rc == CA_OK)
        rc = ca_buf_status(&q);
    if (rc == CA_OK)
        rc = ca_delta__copy_files(&c, conn, ca_buf_cstr(&q), actions, &rows, &bytes);
    ca_buf_free(&q);
    return rc;
}

/* The §8 partition string of column `q` (quoted) of Delta type t. */
static void pv_expr(ca_buf *b, const char *q, const char *t)
{
    if (strcmp(t, "timestamp") == 0)
        ca_buf_printf(b, "strftime(timezone('UTC', %s), '%%Y-%%m-%%dT%%H:%%M:%%S.%%fZ')", q);
    else if (strcmp(t, "timestamp_ntz") == 0)
        ca_buf_printf(b, "strftime(%s, '%%Y-%%m-%%d %%H:%%M:%%S.%%f')", q);
    else
        ca_buf_printf(b, "CAST(%s AS VARCHAR)", q);
}

int ca_delta__partition_exprs(const ca_delta_snapshot *s, ca_buf *b)
{
    for (size_t i = 0; i < s->n_part_cols; i++) {
        const dl_field *f = ca_delta__field(s, s->part_cols[i]);
        char *q = ca_duck_quote_ident(s->part_cols[i]);
        if (!f || !q) {
            ca__free(q);
            return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: partition column %s not in the schema", s->root,
                              s->part_cols[i]);
        }
        ca_buf_puts(b, ", ");
        pv_expr(b, q, f->type->prim ? f->type->prim : "");
        ca_buf_printf(b, " AS __pv%zu", i);
        ca__free(q);
    }
    return ca_buf_status(b);
}

json_t *ca_delta__remove_of(const dl_file *f, int64_t now_ms, bool data_change)
{
    json_t *r = json_pack("{s:s,s:I,s:b,s:b}", "path", f->path, "deletionTimestamp", (json_int_t)now_ms, "dataChange",
                          data_change, "extendedFileMetadata", 1);
    if (!r)
        return NULL;
    json_object_set(r, "partitionValues", f->pv ? f->pv : json_object());
    if (!f->pv)
        json_decref(json_object_get(r, "partitionValues")), json_object_set_new(r, "partitionValues", json_object());
    json_object_set_new(r, "size", json_integer(f->size));
    static const char *const keep[] = {"deletionVector", "baseRowId", "defaultRowCommitVersion", "tags"};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
        json_t *v = json_object_get(f->action, keep[i]);
        if (v && !json_is_null(v) && i != 3)
            json_object_set(r, keep[i], v);
    }
    return json_pack("{s:o}", "remove", r);
}

/* ---- ca_delta_write ------------------------------------------------------------------------ */

static const char *const known_props[] = {
    "delta.checkpointInterval", "delta.logRetentionDuration", "delta.deletedFileRetentionDuration",
    "delta.dataSkippingNumIndexedCols", "delta.dataSkippingStatsColumns", "delta.parquet.compression.codec",
    "delta.parquet.format.version", "delta.targetFileSize", "delta.isolationLevel",
    "delta.checkpoint.writeStatsAsJson", "delta.checkpoint.writeStatsAsStruct", "delta.enableExpiredLogCleanup",
    "delta.appendOnly", "delta.enableChangeDataFeed", "delta.enableInCommitTimestamps", NULL};

static bool prop_true(const char *v) { return v && strcasecmp(v, "true") == 0; }

int ca_delta__check_property(const char *root, const char *k, const char *v);

/* A delta.* table property (§5): known, with a valid value. Other keys are stored verbatim. */
int ca_delta__check_property(const char *root, const char *k, const char *v)
{
    if (strncmp(k, "delta.", 6) != 0 || strncmp(k, "delta.constraints.", 18) == 0)
        return CA_OK;
    if (!in_list(k, known_props))
        return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD, "delta: %s: table property %s is not supported", root, k);
    if (strcmp(k, "delta.checkpoint.writeStatsAsStruct") == 0 && prop_true(v))
        return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD, "delta: %s: delta.checkpoint.writeStatsAsStruct=true is not supported",
                          root);
    if (strcmp(k, "delta.logRetentionDuration") == 0 || strcmp(k, "delta.deletedFileRetentionDuration") == 0) {
        double h;
        return ca_delta__interval_hours(v, &h);
    }
    if (strcmp(k, "delta.parquet.compression.codec") == 0) {
        const char *cd;
        return codec_of(root, v, &cd);
    }
    return CA_OK;
}

typedef struct wctx {
    ca_delta_ctx *ctx;
    const char *root;
    const ca_delta_write_options *o;
    ca_delta_write_result *res;
    ca_delta_snapshot *snap;
    ca_duck_conn *conn;
    src_rel src;
    json_t *schema_json;   /* the table schema after this write */
    json_t *new_metadata;  /* metaData action content when created or merged, else NULL */
    json_t *protocol;      /* on create */
    dl_schema schema;      /* parsed schema_json */
    char **part_cols;
    size_t n_part;
    json_t *cdc;           /* cdc actions of a merge on a CDF table */
} wctx;

static int fail_reason(ca_delta_write_result *r, const char *reason, int rc)
{
    if (!r->reason)
        r->reason = reason;
    return rc;
}

/* Create: schema, partition columns, protocol and metaData from the source (§5, §7.2). */
static int plan_create(wctx *w)
{
    const ca_delta_write_options *o = w->o;
    json_t *fields = json_array();
    bool ntz = false;
    for (size_t i = 0; i < w->src.n; i++) {
        src_col *c = &w->src.cols[i];
        if (bad_name(c->name)) {
            json_decref(fields);
            return ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: column name '%s' is not allowed", w->root, c->name);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcasecmp(w->src.cols[j].name, c->name) == 0) {
                json_decref(fields);
                return ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: duplicate column name '%s' (case-insensitive)",
                                  w->root, c->name);
            }
        }
        ntz |= c->ntz;
        json_array_append_new(fields, json_pack("{s:s,s:O,s:b,s:{}}", "name", c->name, "type", c->dtype, "nullable", 1,
                                                "metadata"));
    }
    w->schema_json = json_pack("{s:s,s:o}", "type", "struct", "fields", fields);
    json_t *pcols = json_array();
    w->part_cols = ca__calloc(o->n_partition_by + 1, sizeof *w->part_cols);
    for (size_t i = 0; i < o->n_partition_by; i++) {
        const src_col *c = NULL;
        for (size_t j = 0; j < w->src.n; j++)
            if (strcmp(w->src.cols[j].name, o->partition_by[i]) == 0)
                c = &w->src.cols[j];
        const char *t = c ? json_string_value(c->dtype) : NULL;
        if (!c || !t || strcmp(t, "float") == 0 || strcmp(t, "double") == 0 || strcmp(t, "binary") == 0)
            json_decref(pcols);
        if (!c)
            return ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: partition column %s is not a column of the source",
                              w->root, o->partition_by[i]);
        if (!t || strcmp(t, "float") == 0 || strcmp(t, "double") == 0 || strcmp(t, "binary") == 0)
            return ca_err_set(CA_E_DELTA_TYPE, DL_MOD, "delta: %s: partition column %s: type %s cannot partition a table",
                              w->root, c->name, t ? t : "nested");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(o->partition_by[j], o->partition_by[i]) == 0) {
                json_decref(pcols);
                return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: partition column %s given twice", w->root, c->name);
            }
        }
        json_array_append_new(pcols, json_string(c->name));
        w->part_cols[w->n_part++] = ca__strdup(c->name);
    }
    /* properties */
    json_t *conf = json_object();
    bool constraints = false, cdf = false, ict = false, append_only = false;
    for (size_t i = 0; i < o->n_properties; i++) {
        const char *k = o->properties[i].key, *v = o->properties[i].value;
        if (!k || !v) {
            json_decref(conf);
            json_decref(pcols);
            return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: property without key or value", w->root);
        }
        int prc = ca_delta__check_property(w->root, k, v);
        if (prc) {
            json_decref(conf);
            json_decref(pcols);
            return prc;
        }
        if (strncmp(k, "delta.constraints.", 18) == 0)
            constraints = true;
        if (strcmp(k, "delta.enableChangeDataFeed") == 0)
            cdf = prop_true(v);
        if (strcmp(k, "delta.enableInCommitTimestamps") == 0)
            ict = prop_true(v);
        if (strcmp(k, "delta.appendOnly") == 0)
            append_only = prop_true(v);
        json_object_set_new(conf, k, json_string(v));
    }
    for (size_t i = 0; cdf && i < w->src.n; i++) {
        const char *n = w->src.cols[i].name;
        if (!strcmp(n, "_change_type") || !strcmp(n, "_commit_version") || !strcmp(n, "_commit_timestamp")) {
            json_decref(conf);
            json_decref(pcols);
            return ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: column name %s is reserved with change data feed",
                              w->root, n);
        }
    }
    /* protocol (§5): (1,2) unless a feature needs more */
    int reader = 1, writer = 2;
    if (constraints)
        writer = 3;
    if (cdf)
        writer = 4;
    json_t *rf = NULL, *wf = NULL;
    if (ntz || ict) {
        writer = 7;
        wf = json_array();
        if (append_only)
            json_array_append_new(wf, json_string("appendOnly"));
        if (constraints)
            json_array_append_new(wf, json_string("checkConstraints"));
        if (cdf)
            json_array_append_new(wf, json_string("changeDataFeed"));
        if (ntz) {
            reader = 3;
            rf = json_pack("[s]", "timestampNtz");
            json_array_append_new(wf, json_string("timestampNtz"));
        }
        if (ict)
            json_array_append_new(wf, json_string("inCommitTimestamp"));
    }
    w->protocol = json_pack("{s:i,s:i}", "minReaderVersion", reader, "minWriterVersion", writer);
    if (rf)
        json_object_set_new(w->protocol, "readerFeatures", rf);
    if (wf)
        json_object_set_new(w->protocol, "writerFeatures", wf);
    char id[37];
    ca_delta__uuid4(id);
    char *schema_text = json_dumps(w->schema_json, JSON_COMPACT);
    w->new_metadata = json_pack("{s:s,s:{s:s,s:{}},s:s,s:o,s:o,s:I}", "id", id, "format", "provider", "parquet",
                                "options", "schemaString", schema_text ? schema_text : "", "partitionColumns", pcols,
                                "configuration", conf, "createdTime", (json_int_t)ca_time_wall_ms());
    if (o->table_name)
        json_object_set_new(w->new_metadata, "name", json_string(o->table_name));
    if (o->description)
        json_object_set_new(w->new_metadata, "description", json_string(o->description));
    int rc = schema_text && w->new_metadata ? ca_delta__schema_parse(w->root, schema_text, DL_CM_NONE, &w->schema)
                                            : ca_err_nomem(DL_MOD, "metaData");
    ca__free(schema_text);
    return rc;
}

/* Existing table: the table schema, and schema merge (§7.3). */
static int plan_existing(wctx *w)
{
    ca_delta_snapshot *s = w->snap;
    w->schema_json = json_loads(json_string_value(json_object_get(s->metadata, "schemaString")), 0, NULL);
    if (!w->schema_json)
        return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: metaData.schemaString unreadable", w->root);
    json_t *fields = json_object_get(w->schema_json, "fields");
    bool merged = false;
    for (size_t i = 0; i < w->src.n; i++) {
        src_col *c = &w->src.cols[i];
        bool found = false;
        size_t k;
        json_t *f;
        json_array_foreach(fields, k, f) {
            const char *fn = json_string_value(json_object_get(f, "name"));
            if (fn && strcmp(fn, c->name) == 0)
                found = true;
            else if (fn && strcasecmp(fn, c->name) == 0)
                return ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: source column %s differs from table column %s only in case",
                                  w->root, c->name, fn);
        }
        if (found)
            continue;
        if (w->o->schema_mode != CA_DELTA_SCHEMA_MERGE)
            return ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: source column %s is not in the table schema (schema_mode strict)",
                              w->root, c->name);
        if (bad_name(c->name))
            return ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: column name '%s' is not allowed", w->root, c->name);
        json_array_append_new(fields, json_pack("{s:s,s:O,s:b,s:{}}", "name", c->name, "type", c->dtype, "nullable", 1,
                                                "metadata"));
        merged = true;
    }
    if (merged) {
        if (w->o->mode == CA_DELTA_WRITE_OVERWRITE)
            return ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: overwrite cannot change the schema", w->root);
        w->new_metadata = json_deep_copy(s->metadata);
        char *t = json_dumps(w->schema_json, JSON_COMPACT);
        json_object_set_new(w->new_metadata, "schemaString", json_string(t ? t : ""));
        int rc = t ? ca_delta__schema_parse(w->root, t, DL_CM_NONE, &w->schema) : ca_err_nomem(DL_MOD, "schema");
        ca__free(t);
        if (rc)
            return rc;
    } else {
        const char *t = json_string_value(json_object_get(s->metadata, "schemaString"));
        int rc = ca_delta__schema_parse(w->root, t, DL_CM_NONE, &w->schema);
        if (rc)
            return rc;
    }
    w->part_cols = ca__calloc(s->n_part_cols + 1, sizeof *w->part_cols);
    for (size_t i = 0; i < s->n_part_cols; i++)
        w->part_cols[w->n_part++] = ca__strdup(s->part_cols[i]);
    return CA_OK;
}

static bool is_part(const wctx *w, const char *name)
{
    for (size_t i = 0; i < w->n_part; i++)
        if (strcmp(w->part_cols[i], name) == 0)
            return true;
    return false;
}

/* The checks of §12 on the projected row (__w): NOT NULL, invariants, CHECK constraints,
 * replaceWhere, empty partition strings. */
static void add_check(ca_buf *b, const char *root, const char *cond, const char *what)
{
    char *msg = NULL;
    ca_buf m = CA_BUF_INIT;
    ca_buf_printf(&m, "delta: %s: constraint %s violated by a new row", root, what);
    msg = ca_duck_quote_literal(ca_buf_cstr(&m));
    ca_buf_free(&m);
    ca_buf_printf(b, " AND (CASE WHEN NOT coalesce((%s), false) THEN error(%s) ELSE true END)", cond, msg ? msg : "''");
    ca__free(msg);
}

/* The full SELECT written by COPY: table data columns in schema order (+ __pv partition strings). */
static int build_select(wctx *w, const char *source_sql, ca_buf *q)
{
    json_t *fields = json_object_get(w->schema_json, "fields");
    ca_buf inner = CA_BUF_INIT, outer = CA_BUF_INIT, checks = CA_BUF_INIT;
    int rc = CA_OK;
    size_t k;
    json_t *f;
    json_array_foreach(fields, k, f) {
        const char *name = json_string_value(json_object_get(f, "name"));
        char *qn = ca_duck_quote_ident(name);
        const src_col *c = NULL;
        for (size_t i = 0; i < w->src.n; i++)
            if (strcmp(w->src.cols[i].name, name) == 0)
                c = &w->src.cols[i];
        const dl_field *df = NULL;
        for (size_t i = 0; i < w->schema.n_fields; i++)
            if (strcmp(w->schema.fields[i].name, name) == 0)
                df = &w->schema.fields[i];
        ca_buf tt = CA_BUF_INIT;
        if (df)
            ca_delta__type_sql(df->type, false, &tt);
        bool nullable = !json_is_false(json_object_get(f, "nullable"));
        if (!c) {
            if (!nullable) {
                rc = ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: source lacks non-nullable column %s", w->root, name);
            } else {
                ca_buf_printf(&inner, "%sCAST(NULL AS %s) AS %s", k ? ", " : "", ca_buf_cstr(&tt), qn);
            }
        } else {
            json_t *tt_json = json_object_get(f, "type");
            bool same = type_equal(c->dtype, tt_json);
            if (!same && !(json_is_string(c->dtype) && json_is_string(tt_json) &&
                           safe_upcast(json_string_value(c->dtype), json_string_value(tt_json)))) {
                char *a = json_dumps(c->dtype, JSON_COMPACT | JSON_ENCODE_ANY), *b = json_dumps(tt_json, JSON_COMPACT | JSON_ENCODE_ANY);
                rc = ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: column %s: source type %s does not match table type %s",
                                w->root, name, a ? a : "?", b ? b : "?");
                ca__free(a);
                ca__free(b);
            } else if (!same || c->cast) {
                ca_buf_printf(&inner, "%sCAST(__src.%s AS %s) AS %s", k ? ", " : "", qn, same ? c->duck : ca_buf_cstr(&tt), qn);
            } else {
                ca_buf_printf(&inner, "%s__src.%s AS %s", k ? ", " : "", qn, qn);
            }
        }
        if (!is_part(w, name))
            ca_buf_printf(&outer, "%s%s", outer.len ? ", " : "", qn);
        if (!nullable) {
            ca_buf c2 = CA_BUF_INIT;
            ca_buf_printf(&c2, "%s IS NOT NULL", qn);
            add_check(&checks, w->root, ca_buf_cstr(&c2), name);
            ca_buf_free(&c2);
        }
        const char *inv = json_string_value(json_object_get(json_object_get(f, "metadata"), "delta.invariants"));
        if (inv) {
            json_t *ij = json_loads(inv, 0, NULL);
            const char *e = json_string_value(json_object_get(json_object_get(ij, "expression"), "expression"));
            if (e)
                add_check(&checks, w->root, e, "invariant");
            json_decref(ij);
        }
        if (is_part(w, name) && json_is_string(json_object_get(f, "type")) &&
            strcmp(json_string_value(json_object_get(f, "type")), "string") == 0) {
            ca_buf c2 = CA_BUF_INIT;
            ca_buf_printf(&c2, "%s IS NULL OR %s <> ''", qn, qn);
            add_check(&checks, w->root, ca_buf_cstr(&c2), "partition value '' (empty string)");
            ca_buf_free(&c2);
        }
        ca_buf_free(&tt);
        ca__free(qn);
        if (rc)
            break;
    }
    /* CHECK constraints */
    json_t *conf = w->new_metadata ? json_object_get(w->new_metadata, "configuration")
                                   : json_object_get(w->snap->metadata, "configuration");
    const char *key;
    json_t *v;
    json_object_foreach(conf, key, v) {
        if (strncmp(key, "delta.constraints.", 18) == 0 && json_is_string(v))
            add_check(&checks, w->root, json_string_value(v), key + 18);
    }
    if (w->o->replace_where && w->o->mode == CA_DELTA_WRITE_OVERWRITE)
        add_check(&checks, w->root, w->o->replace_where, "replaceWhere");
    /* partition strings */
    for (size_t i = 0; i < w->n_part; i++) {
        const dl_field *df = NULL;
        for (size_t j = 0; j < w->schema.n_fields; j++)
            if (strcmp(w->schema.fields[j].name, w->part_cols[i]) == 0)
                df = &w->schema.fields[j];
        char *qn = ca_duck_quote_ident(w->part_cols[i]);
        ca_buf_puts(&outer, outer.len ? ", " : "");
        pv_expr(&outer, qn ? qn : "", df && df->type->prim ? df->type->prim : "");
        ca_buf_printf(&outer, " AS __pv%zu", i);
        ca__free(qn);
    }
    if (rc == CA_OK && outer.len == 0)
        rc = ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: the table has no data column", w->root);
    if (rc == CA_OK)
        ca_buf_printf(q, "SELECT %s FROM (SELECT %s FROM (%s) AS __src) AS __w WHERE true%s", ca_buf_cstr(&outer),
                      ca_buf_cstr(&inner), source_sql, ca_buf_cstr(&checks));
    ca_buf_free(&inner);
    ca_buf_free(&outer);
    ca_buf_free(&checks);
    return rc ? rc : ca_buf_status(q);
}

/* Files of the snapshot whose partition values satisfy pred (evaluated by DuckDB). */
int ca_delta__files_matching_partitions(ca_duck_conn *conn, ca_delta_snapshot *s, const char *pred, bool *keep)
{
    if (s->n_files == 0)
        return CA_OK;
    ca_buf q = CA_BUF_INIT;
    ca_buf_puts(&q, "SELECT CAST(__i AS VARCHAR) AS i FROM (SELECT __i");
    for (size_t p = 0; p < s->n_part_cols; p++) {
        const dl_field *f = ca_delta__field(s, s->part_cols[p]);
        char *qn = ca_duck_quote_ident(s->part_cols[p]);
        ca_buf tt = CA_BUF_INIT;
        if (f)
            ca_delta__type_sql(f->type, false, &tt);
        ca_buf_printf(&q, ", CAST(__p%zu AS %s) AS %s", p, ca_buf_cstr(&tt), qn ? qn : "");
        ca_buf_free(&tt);
        ca__free(qn);
    }
    ca_buf_puts(&q, " FROM (VALUES ");
    for (size_t i = 0; i < s->n_files; i++) {
        ca_buf_printf(&q, "%s(%zu", i ? ", " : "", i);
        for (size_t p = 0; p < s->n_part_cols; p++) {
            const char *v = ca_delta__part_value(s, s->files[i], p);
            char *lit = v && *v ? ca_duck_quote_literal(v) : NULL;
            ca_buf_printf(&q, ", %s", lit ? lit : "NULL::VARCHAR");
            ca__free(lit);
        }
        ca_buf_putc(&q, ')');
    }
    ca_buf_puts(&q, ") AS __t(__i");
    for (size_t p = 0; p < s->n_part_cols; p++)
        ca_buf_printf(&q, ", __p%zu", p);
    ca_buf_printf(&q, ")) WHERE %s", pred);
    json_t *rows = NULL;
    int rc = ca_buf_status(&q) ? ca_buf_status(&q) : ca_delta__query_json(conn, ca_buf_cstr(&q), &rows);
    ca_buf_free(&q);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *t = json_string_value(json_object_get(r, "i"));
        size_t idx = t ? (size_t)strtoull(t, NULL, 10) : 0;
        if (t && idx < s->n_files)
            keep[idx] = true;
    }
    json_decref(rows);
    return rc;
}

/* Merge by keys (§12): the source goes to a TEMP table; touched files are those holding a row
 * whose key matches a source key (with merge_delete_unmatched_target: every file holding an
 * unmatched row too). The rows written are the untouched rows of touched files plus every
 * source row (matched: update all columns; not matched: insert). */
static int plan_merge(wctx *w, bool *touched, char **merged_sql, char **tmp_name)
{
    const ca_delta_write_options *o = w->o;
    ca_delta_snapshot *s = w->snap;
    char uuid[37];
    ca_delta__uuid4(uuid);
    ca_buf tn = CA_BUF_INIT, q = CA_BUF_INIT, match = CA_BUF_INIT, keys = CA_BUF_INIT;
    ca_buf_puts(&tn, "__ca_merge_");
    for (const char *c = uuid; *c; c++)
        if (*c != '-')
            ca_buf_putc(&tn, *c);
    int rc = CA_OK;
    for (size_t i = 0; i < o->n_merge_keys; i++) {
        char *qk = ca_duck_quote_ident(o->merge_keys[i]);
        ca_buf_printf(&match, "%st.%s = s.%s", i ? " AND " : "", qk, qk);
        ca_buf_printf(&keys, "%s%s", i ? ", " : "", qk);
        ca__free(qk);
        if (rc == CA_OK && !ca_delta__field(s, o->merge_keys[i]))
            rc = ca_err_set(CA_E_DELTA_MERGE_KEYS, DL_MOD, "delta: %s: merge key %s is not a table column", w->root,
                            o->merge_keys[i]);
    }
    *tmp_name = ca_buf_detach(&tn, NULL);
    if (rc == CA_OK)
        rc = *tmp_name ? ca_duck_execf(w->conn, "CREATE TEMP TABLE %s AS SELECT * FROM (%s) AS __src", *tmp_name, o->sql)
                       : ca_err_nomem(DL_MOD, "merge");
    if (rc == CA_OK) {
        ca_buf_printf(&q, "SELECT * FROM %s", *tmp_name);
        rc = src_describe(w->root, w->conn, ca_buf_cstr(&q), &w->src);
    }
    for (size_t i = 0; rc == CA_OK && i < o->n_merge_keys; i++) {
        bool found = false;
        for (size_t k = 0; k < w->src.n; k++)
            found |= strcmp(w->src.cols[k].name, o->merge_keys[i]) == 0;
        if (!found)
            rc = ca_err_set(CA_E_DELTA_MERGE_KEYS, DL_MOD, "delta: %s: merge key %s is not a source column", w->root,
                            o->merge_keys[i]);
    }
    if (rc == CA_OK)
        rc = plan_existing(w);
    int64_t dups = 0;
    bool is_null = false;
    if (rc == CA_OK) {
        ca_buf_clear(&q);
        ca_buf_printf(&q, "SELECT count(*) FROM (SELECT 1 FROM %s AS t GROUP BY %s HAVING count(*) > 1 AND bool_and(", *tmp_name,
                      ca_buf_cstr(&keys));
        for (size_t i = 0; i < o->n_merge_keys; i++) {
            char *qk = ca_duck_quote_ident(o->merge_keys[i]);
            ca_buf_printf(&q, "%s%s IS NOT NULL", i ? " AND " : "", qk);
            ca__free(qk);
        }
        ca_buf_puts(&q, "))");
        rc = ca_buf_status(&q) ? ca_buf_status(&q) : ca_duck_query_int64(w->conn, ca_buf_cstr(&q), &dups, &is_null);
        if (rc == CA_OK && dups > 0)
            rc = ca_err_set(CA_E_DELTA_MERGE_KEYS, DL_MOD, "delta: %s: merge source has %" PRId64 " duplicate keys (%s)",
                            w->root, dups, ca_buf_cstr(&keys));
    }
    char *scan = NULL;
    if (rc == CA_OK && s->n_files) {
        ca_delta_scan_options so = CA_DELTA_SCAN_OPTIONS_INIT;
        so.lineage = true;
        rc = ca_delta_scan_sql(s, &so, &scan, NULL);
    }
    ca_buf list = CA_BUF_INIT;
    size_t n_touched = 0;
    if (rc == CA_OK && scan) {
        ca_buf_clear(&q);
        ca_buf_printf(&q, "SELECT DISTINCT t.__source_file AS f FROM (%s) AS t WHERE EXISTS (SELECT 1 FROM %s AS s WHERE %s)",
                      scan, *tmp_name, ca_buf_cstr(&match));
        if (o->merge_delete_unmatched_target)
            ca_buf_printf(&q, " OR NOT EXISTS (SELECT 1 FROM %s AS s WHERE %s)", *tmp_name, ca_buf_cstr(&match));
        json_t *rows = NULL;
        rc = ca_buf_status(&q) ? ca_buf_status(&q) : ca_delta__query_json(w->conn, ca_buf_cstr(&q), &rows);
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) {
            const char *f = json_string_value(json_object_get(r, "f"));
            for (size_t k = 0; f && k < s->n_files; k++) {
                if (!touched[k] && strcmp(s->files[k]->cpath, f) == 0) {
                    touched[k] = true;
                    char *lit = ca_duck_quote_literal(f);
                    ca_buf_printf(&list, "%s%s", n_touched++ ? ", " : "", lit ? lit : "''");
                    ca__free(lit);
                }
            }
        }
        json_decref(rows);
    }
    /* counts: updated (matched source rows), inserted, deleted (unmatched target rows), copied */
    if (rc == CA_OK) {
        int64_t n_src = 0, n_matched = 0, n_unmatched_target = 0;
        ca_buf_clear(&q);
        ca_buf_printf(&q, "SELECT count(*) FROM %s", *tmp_name);
        rc = ca_duck_query_int64(w->conn, ca_buf_cstr(&q), &n_src, &is_null);
        if (rc == CA_OK && n_touched) {
            ca_buf_clear(&q);
            ca_buf_printf(&q, "SELECT count(*) FROM %s AS s WHERE EXISTS (SELECT 1 FROM (%s) AS t WHERE t.__source_file IN (%s) AND %s)",
                          *tmp_name, scan, ca_buf_cstr(&list), ca_buf_cstr(&match));
            rc = ca_duck_query_int64(w->conn, ca_buf_cstr(&q), &n_matched, &is_null);
            if (rc == CA_OK) {
                ca_buf_clear(&q);
                ca_buf_printf(&q, "SELECT count(*) FROM (%s) AS t WHERE t.__source_file IN (%s) AND NOT EXISTS (SELECT 1 FROM %s AS s WHERE %s)",
                              scan, ca_buf_cstr(&list), *tmp_name, ca_buf_cstr(&match));
                rc = ca_duck_query_int64(w->conn, ca_buf_cstr(&q), &n_unmatched_target, &is_null);
            }
        }
        w->res->rows_updated = n_matched;
        w->res->rows_inserted = n_src - n_matched;
        if (o->merge_delete_unmatched_target)
            w->res->rows_deleted = n_unmatched_target;
        else
            w->res->rows_copied = n_unmatched_target;
    }
    /* change data (§15): update_preimage / update_postimage / insert / delete */
    if (rc == CA_OK && ca_delta__cdf_enabled(s)) {
        ca_buf c = CA_BUF_INIT, cols = CA_BUF_INIT;
        for (size_t i = 0; i < s->schema.n_fields; i++) {
            char *qn = ca_duck_quote_ident(s->schema.fields[i].name);
            ca_buf_printf(&cols, "%st.%s", i ? ", " : "", qn ? qn : "");
            ca__free(qn);
        }
        ca_buf_printf(&c, "SELECT s.*, 'insert' AS _change_type FROM %s AS s", *tmp_name);
        if (scan)
            ca_buf_printf(&c, " WHERE NOT EXISTS (SELECT 1 FROM (%s) AS t WHERE %s)", scan, ca_buf_cstr(&match));
        if (n_touched) {
            ca_buf_printf(&c, " UNION ALL BY NAME SELECT s.*, 'update_postimage' AS _change_type FROM %s AS s WHERE EXISTS "
                              "(SELECT 1 FROM (%s) AS t WHERE t.__source_file IN (%s) AND %s)",
                          *tmp_name, scan, ca_buf_cstr(&list), ca_buf_cstr(&match));
            ca_buf_printf(&c, " UNION ALL BY NAME SELECT %s, 'update_preimage' AS _change_type FROM (%s) AS t WHERE "
                              "t.__source_file IN (%s) AND EXISTS (SELECT 1 FROM %s AS s WHERE %s)",
                          ca_buf_cstr(&cols), scan, ca_buf_cstr(&list), *tmp_name, ca_buf_cstr(&match));
            if (o->merge_delete_unmatched_target)
                ca_buf_printf(&c, " UNION ALL BY NAME SELECT %s, 'delete' AS _change_type FROM (%s) AS t WHERE "
                                  "t.__source_file IN (%s) AND NOT EXISTS (SELECT 1 FROM %s AS s WHERE %s)",
                              ca_buf_cstr(&cols), scan, ca_buf_cstr(&list), *tmp_name, ca_buf_cstr(&match));
        }
        rc = ca_buf_status(&c) ? ca_buf_status(&c) : ca_delta__write_cdc(w->ctx, w->conn, s, ca_buf_cstr(&c), w->cdc);
        ca_buf_free(&c);
        ca_buf_free(&cols);
    }
    /* the merged relation */
    if (rc == CA_OK) {
        ca_buf m = CA_BUF_INIT;
        if (n_touched && !o->merge_delete_unmatched_target) {
            ca_buf_puts(&m, "SELECT * FROM (SELECT ");
            for (size_t i = 0; i < s->schema.n_fields; i++) {
                char *qn = ca_duck_quote_ident(s->schema.fields[i].name);
                ca_buf_printf(&m, "%st.%s", i ? ", " : "", qn ? qn : "");
                ca__free(qn);
            }
            ca_buf_printf(&m, " FROM (%s) AS t WHERE t.__source_file IN (%s) AND NOT EXISTS (SELECT 1 FROM %s AS s WHERE %s)) "
                              "UNION ALL BY NAME SELECT * FROM %s",
                          scan, ca_buf_cstr(&list), *tmp_name, ca_buf_cstr(&match), *tmp_name);
        } else {
            ca_buf_printf(&m, "SELECT * FROM %s", *tmp_name);
        }
        rc = ca_buf_status(&m);
        *merged_sql = ca_buf_detach(&m, NULL);
        if (rc == CA_OK) {
            /* describe the merged relation (types may widen in the union) */
            src_free(&w->src);
            json_decref(w->schema_json);
            w->schema_json = NULL;
            json_decref(w->new_metadata);
            w->new_metadata = NULL;
            ca_delta__schema_free(&w->schema);
            for (size_t i = 0; i < w->n_part; i++)
                ca__free(w->part_cols[i]);
            ca__free(w->part_cols);
            w->part_cols = NULL;
            w->n_part = 0;
            rc = src_describe(w->root, w->conn, *merged_sql, &w->src);
            if (rc == CA_OK)
                rc = plan_existing(w);
        }
    }
    ca_free(scan);
    ca_buf_free(&list);
    ca_buf_free(&q);
    ca_buf_free(&match);
    ca_buf_free(&keys);
    return rc;
}

static void wctx_free(wctx *w)
{
    json_decref(w->cdc);
    src_free(&w->src);
    json_decref(w->schema_json);
    json_decref(w->new_metadata);
    json_decref(w->protocol);
    ca_delta__schema_free(&w->schema);
    for (size_t i = 0; i < w->n_part; i++)
        ca__free(w->part_cols[i]);
    ca__free(w->part_cols);
}

static int check_options(const char *root, const ca_delta_write_options *o)
{
    if (!o || o->version != CA_DELTA_WRITE_OPTIONS_VERSION)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: write options version %u, expected %u", root,
                          o ? o->version : 0, CA_DELTA_WRITE_OPTIONS_VERSION);
    if (!o->sql || !*o->sql)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: write needs a source query", root);
    if (o->replace_where && o->mode != CA_DELTA_WRITE_OVERWRITE)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: replace_where needs mode overwrite", root);
    if (o->mode == CA_DELTA_WRITE_MERGE && o->n_merge_keys == 0)
        return ca_err_set(CA_E_DELTA_MERGE_KEYS, DL_MOD, "delta: %s: merge needs at least one key column", root);
    if (o->mode != CA_DELTA_WRITE_MERGE && o->n_merge_keys)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: merge keys need mode merge", root);
    if ((int)o->mode < 0 || o->mode > CA_DELTA_WRITE_CREATE)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: unknown write mode %d", root, (int)o->mode);
    static const char *const std_keys[] = {"timestamp", "inCommitTimestamp", "operation", "operationParameters",
                                           "operationMetrics", "readVersion", "isolationLevel", "isBlindAppend",
                                           "engineInfo", "txnId", "userMetadata", NULL};
    for (size_t i = 0; i < o->n_commit_metadata; i++) {
        const char *k = o->commit_metadata[i].key;
        if (!k || !o->commit_metadata[i].value || in_list(k, std_keys))
            return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: commit metadata key '%s' clashes with commitInfo", root,
                              k ? k : "(null)");
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->commit_metadata[j].key, k) == 0)
                return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: commit metadata key '%s' given twice", root, k);
    }
    return CA_OK;
}

int ca_delta_write(ca_delta_ctx *ctx, struct ca_duck_conn *conn_in, const char *root_in,
                   const ca_delta_write_options *o, ca_delta_write_result *res)
{
    memset(res, 0, sizeof *res);
    res->version = -1;
    char *root = ca_delta__normalize_root(root_in);
    if (!root)
        return fail_reason(res, "write_failed", ca_err_nomem(DL_MOD, "root"));
    wctx w = {.ctx = ctx, .root = root, .o = o, .res = res, .cdc = json_array()};
    bool owned = false;
    int rc = check_options(root, o);
    if (rc == CA_OK) {
        rc = ca_delta__snapshot_open(ctx, root, NULL, &w.snap);
        if (rc == CA_E_DELTA_NOT_A_TABLE) {
            ca_error_clear();
            rc = CA_OK;
            w.snap = NULL;
        }
    }
    if (rc == CA_OK && w.snap && o->mode == CA_DELTA_WRITE_CREATE)
        rc = ca_err_set(CA_E_DELTA_TABLE_EXISTS, DL_MOD, "delta: %s: the table exists (version %" PRId64 ")", root,
                        w.snap->version);
    if (rc == CA_OK && w.snap)
        rc = ca_delta__check_writable(w.snap);
    if (rc == CA_OK && w.snap && prop_true(ca_delta__prop(w.snap, "delta.appendOnly")) &&
        o->mode != CA_DELTA_WRITE_APPEND)
        rc = ca_err_set(CA_E_DELTA_APPEND_ONLY, DL_MOD, "delta: %s: the table is append-only (delta.appendOnly=true)", root);
    if (rc == CA_OK && w.snap && o->n_partition_by) {
        bool same = o->n_partition_by == w.snap->n_part_cols;
        for (size_t i = 0; same && i < o->n_partition_by; i++)
            same = strcmp(o->partition_by[i], w.snap->part_cols[i]) == 0;
        if (!same)
            rc = ca_err_set(CA_E_DELTA_SCHEMA, DL_MOD, "delta: %s: partition columns differ from the table's", root);
    }
    /* application transaction: already applied? */
    if (rc == CA_OK && w.snap && o->app_id) {
        json_t *t = json_object_get(w.snap->txns, o->app_id);
        if (t && json_integer_value(json_object_get(t, "version")) >= o->app_version) {
            res->skipped = true;
            json_decref(w.cdc);
            ca_delta_snapshot_close(w.snap);
            ca__free(root);
            return CA_OK;
        }
    }
    if (rc)
        fail_reason(res, "write_failed", rc);
    if (rc == CA_OK)
        rc = ca_delta__conn_get(ctx, conn_in, &w.conn, &owned);
    bool merge_existing = w.snap && o->mode == CA_DELTA_WRITE_MERGE;
    if (rc == CA_OK && !merge_existing) {
        rc = src_describe(root, w.conn, o->sql, &w.src);
        if (rc)
            fail_reason(res, rc == CA_E_DUCKDB ? "execution_failed" : "write_failed", rc);
    }
    if (rc == CA_OK && !merge_existing) {
        rc = w.snap ? plan_existing(&w) : plan_create(&w);
        if (rc)
            fail_reason(res, "write_failed", rc);
    }
    bool *matching = NULL;
    char *merged_sql = NULL, *merge_tmp = NULL;
    if (rc == CA_OK && w.snap && o->mode == CA_DELTA_WRITE_MERGE) {
        matching = ca__calloc(w.snap->n_files + 1, sizeof *matching);
        rc = matching ? plan_merge(&w, matching, &merged_sql, &merge_tmp) : ca_err_nomem(DL_MOD, "files");
        if (rc)
            fail_reason(res, rc == CA_E_DELTA_MERGE_KEYS ? "merge_key_duplicate" : rc == CA_E_DUCKDB ? "execution_failed" : "write_failed", rc);
    }
    if (rc == CA_OK && w.snap && o->mode == CA_DELTA_WRITE_OVERWRITE) {
        matching = ca__calloc(w.snap->n_files + 1, sizeof *matching);
        if (!matching)
            rc = ca_err_nomem(DL_MOD, "files");
        else if (o->replace_where)
            rc = ca_delta__files_matching_partitions(w.conn, w.snap, o->replace_where, matching);
        else
            for (size_t i = 0; i < w.snap->n_files; i++)
                matching[i] = true;
        if (rc)
            fail_reason(res, "write_failed", rc);
    }
    ca_buf q = CA_BUF_INIT;
    json_t *actions = json_array();
    if (rc == CA_OK) {
        rc = build_select(&w, merged_sql ? merged_sql : o->sql, &q);
        if (rc)
            fail_reason(res, "write_failed", rc);
    }
    if (rc == CA_OK) {
        dw_copy c;
        if (w.snap) {
            ca_delta__copy_init(&c, ctx, w.snap);
        } else {
            memset(&c, 0, sizeof c);
            c.ctx = ctx;
            c.root = root;
            c.codec = "zstd";
            json_t *conf = json_object_get(w.new_metadata, "configuration");
            codec_of(root, json_string_value(json_object_get(conf, "delta.parquet.compression.codec")), &c.codec);
            const char *pv = json_string_value(json_object_get(conf, "delta.parquet.format.version"));
            c.parquet_version = pv && pv[0] == '2' ? "V2" : "V1";
            const char *ts = json_string_value(json_object_get(conf, "delta.targetFileSize"));
            c.target_file_size = ts ? strtoll(ts, NULL, 10) : 0;
            const char *ni = json_string_value(json_object_get(conf, "delta.dataSkippingNumIndexedCols"));
            c.num_indexed = ni ? strtoll(ni, NULL, 10) : 32;
            c.stats_cols = json_string_value(json_object_get(conf, "delta.dataSkippingStatsColumns"));
            c.data_change = true;
            rc = ca_fs_mkdirs(ctx->fs, root);
        }
        c.root = root;
        c.schema = &w.schema;
        c.part_cols = w.part_cols;
        c.n_part = w.n_part;
        if (o->target_file_size > 0)
            c.target_file_size = o->target_file_size;
        if (c.target_file_size <= 0)
            c.target_file_size = DW_DEFAULT_TARGET;
        if (rc == CA_OK)
            rc = ca_delta__copy_files(&c, w.conn, ca_buf_cstr(&q), actions, &res->rows_added, &res->bytes_added);
        if (rc)
            fail_reason(res, rc == CA_E_DUCKDB ? "execution_failed" : "write_failed", rc);
        res->rows_written = res->rows_added;
        res->files_added = (int64_t)json_array_size(actions);
    }
    ca_buf_free(&q);
    if (merge_tmp) {
        int code = ca_error_last()->code;
        char msg[1024], mod[32];
        snprintf(msg, sizeof msg, "%s", ca_error_last()->message);
        snprintf(mod, sizeof mod, "%s", ca_error_last()->module);
        ca_duck_execf(w.conn, "DROP TABLE IF EXISTS %s", merge_tmp);
        if (rc)
            ca_err_set(code, mod, "%s", msg);
    }
    ca__free(merged_sql);
    ca__free(merge_tmp);
    if (owned)
        ca_duck_disconnect(w.conn);
    if (rc == CA_OK) {
        int64_t now = ca_time_wall_ms();
        json_t *pre = json_array();
        if (!w.snap) {
            json_array_append_new(pre, json_pack("{s:O}", "protocol", w.protocol));
            json_array_append_new(pre, json_pack("{s:O}", "metaData", w.new_metadata));
        } else if (w.new_metadata) {
            json_array_append_new(pre, json_pack("{s:O}", "metaData", w.new_metadata));
        }
        if (o->app_id)
            json_array_append_new(pre, ca_delta__txn_action(o->app_id, o->app_version, now));
        for (size_t i = 0; matching && i < w.snap->n_files; i++) {
            if (!matching[i])
                continue;
            json_array_append_new(pre, ca_delta__remove_of(w.snap->files[i], now, true));
            res->files_removed++;
            res->bytes_removed += w.snap->files[i]->size;
        }
        json_array_extend(pre, actions);
        json_array_extend(pre, w.cdc);
        json_decref(actions);
        actions = pre;
        bool create = !w.snap;
        bool merge = o->mode == CA_DELTA_WRITE_MERGE && !create;
        const char *mode = o->mode == CA_DELTA_WRITE_OVERWRITE ? "Overwrite"
                           : o->mode == CA_DELTA_WRITE_CREATE   ? "ErrorIfExists"
                                                                : "Append";
        json_t *params = json_pack("{s:s}", "mode", mode);
        if (w.n_part || create) {
            json_t *pb = json_array();
            for (size_t i = 0; i < w.n_part; i++)
                json_array_append_new(pb, json_string(w.part_cols[i]));
            char *t = json_dumps(pb, JSON_COMPACT);
            json_object_set_new(params, "partitionBy", json_string(t ? t : "[]"));
            ca__free(t);
            json_decref(pb);
        }
        if (o->replace_where)
            json_object_set_new(params, "predicate", json_string(o->replace_where));
        char n1[32], n2[32], n3[32], n4[32];
        snprintf(n1, sizeof n1, "%" PRId64, res->files_added);
        snprintf(n2, sizeof n2, "%" PRId64, res->rows_added);
        snprintf(n3, sizeof n3, "%" PRId64, res->bytes_added);
        snprintf(n4, sizeof n4, "%" PRId64, res->files_removed);
        json_t *metrics = json_pack("{s:s,s:s,s:s}", "numFiles", n1, "numOutputRows", n2, "numOutputBytes", n3);
        if (o->mode == CA_DELTA_WRITE_OVERWRITE || merge)
            json_object_set_new(metrics, "numRemovedFiles", json_string(n4));
        if (merge) {
            char m1[32], m2[32], m3[32], m4[32];
            snprintf(m1, sizeof m1, "%" PRId64, res->rows_inserted);
            snprintf(m2, sizeof m2, "%" PRId64, res->rows_updated);
            snprintf(m3, sizeof m3, "%" PRId64, res->rows_deleted);
            snprintf(m4, sizeof m4, "%" PRId64, res->rows_inserted + res->rows_updated);
            json_object_set_new(metrics, "numTargetRowsInserted", json_string(m1));
            json_object_set_new(metrics, "numTargetRowsUpdated", json_string(m2));
            json_object_set_new(metrics, "numTargetRowsDeleted", json_string(m3));
            json_object_set_new(metrics, "numSourceRows", json_string(m4));
            json_object_del(params, "mode");
            json_object_del(params, "partitionBy");
            char *keys = NULL;
            json_t *ka = json_array();
            for (size_t i = 0; i < o->n_merge_keys; i++)
                json_array_append_new(ka, json_string(o->merge_keys[i]));
            keys = json_dumps(ka, JSON_COMPACT);
            json_decref(ka);
            json_object_set_new(params, "predicate", json_string(keys ? keys : "[]"));
            ca__free(keys);
        }
        dw_commit cm = {
            .ctx = ctx,
            .root = root,
            .snap = w.snap,
            .op = create ? DW_OP_CREATE : merge ? DW_OP_MERGE : o->mode == CA_DELTA_WRITE_OVERWRITE ? DW_OP_OVERWRITE : DW_OP_APPEND,
            .operation = create ? "CREATE TABLE" : merge ? "MERGE" : "WRITE",
            .params = params,
            .metrics = metrics,
            .actions = actions,
            .custom = o->commit_metadata,
            .n_custom = o->n_commit_metadata,
            .user_metadata = o->user_metadata,
            .app_id = o->app_id,
            .app_version = o->app_version,
            .blind_append = !create && o->mode == CA_DELTA_WRITE_APPEND,
            .create_if_missing = o->mode != CA_DELTA_WRITE_CREATE,
            .max_retries = o->max_commit_retries < 0 ? 10 : o->max_commit_retries,
        };
        actions = NULL;
        /* a 0-row append commits nothing (no add, nothing else to record) */
        if (!create && res->files_added == 0 && json_array_size(cm.actions) == 0) {
            json_decref(cm.params);
            json_decref(cm.metrics);
            json_decref(cm.actions);
        } else {
            rc = ca_delta__commit(&cm, res);
            res->created = create && rc == CA_OK && !res->skipped && cm.op == DW_OP_CREATE;
        }
    }
    json_decref(actions);
    ca__free(matching);
    wctx_free(&w);
    ca_delta_snapshot_close(w.snap);
    ca__free(root);
    return rc;
}

void ca_delta_write_result_clear(ca_delta_write_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_warnings; i++)
        ca__free(r->warnings[i]);
    ca__free(r->warnings);
    memset(r, 0, sizeof *r);
    r->version = -1;
}

int ca_delta_write_outcome_json(const ca_delta_write_result *r, int rc, char **out)
{
    json_t *o;
    if (rc == CA_OK && r->version >= 0)
        o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "status", "captured", "delta_version", (json_int_t)r->version,
                      "files_added", (json_int_t)r->files_added, "files_removed", (json_int_t)r->files_removed,
                      "bytes_written", (json_int_t)r->bytes_added, "rows_added", (json_int_t)r->rows_added);
    else
        o = json_pack("{s:s,s:s}", "status", "unavailable", "reason",
                      rc == CA_OK ? "not_attempted" : r->reason ? r->reason : "write_failed");
    *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *out ? CA_OK : ca_err_nomem(DL_MOD, "write_outcome");
}
