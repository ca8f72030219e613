/*
 * The module's SQL (delta.md §10, §17): C functions registered once per database through the
 * context's own connection, TEMP macros per connection. The macros give the user-facing names,
 * named parameters and the final column types (JSON, MAP, LIST, STRUCT are shaped from JSON text
 * in SQL, which keeps the C side to scalar columns).
 */
#include "lib/delta/delta_int.h"

#include "lib/duck/udf.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ca_delta__last_error_text(void)
{
    const ca_error *e = ca_error_last();
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s: %s", ca_error_name(e->code), e->message);
    return ca_buf_detach(&b, NULL);
}

static void exec_fail(ca_udf_exec *ex)
{
    char *m = ca_delta__last_error_text();
    ca_udf_exec_set_error(ex, m ? m : "delta: out of memory");
    ca__free(m);
}

static void bind_fail(ca_udf_bind *b)
{
    char *m = ca_delta__last_error_text();
    ca_udf_bind_set_error(b, m ? m : "delta: out of memory");
    ca__free(m);
}

static char *vec_text(ca_duck_chunk *in, size_t col, size_t row)
{
    ca_duck_vec *v = ca_duck_chunk_vector(in, col);
    if (!ca_duck_row_valid(ca_duck_vec_validity(v), row))
        return NULL;
    ca_duck_str *d = ca_duck_vec_data(v);
    return ca__strndup(ca_duck_str_data(&d[row]), ca_duck_str_len(&d[row]));
}

static bool vec_valid(ca_duck_chunk *in, size_t col, size_t row)
{
    return ca_duck_row_valid(ca_duck_vec_validity(ca_duck_chunk_vector(in, col)), row);
}

/* ---- __delta_scan_sql(path, version, timestamp, as_of, filter, lineage) -> VARCHAR --------- */

static void scan_sql_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    ca_delta_ctx *ctx = ca_udf_exec_extra(ex);
    size_t n = ca_duck_chunk_size(in);
    for (size_t row = 0; row < n; row++) {
        char *path = vec_text(in, 0, row);
        char *ts = vec_text(in, 2, row);
        char *as_of = vec_text(in, 3, row);
        char *filter = vec_text(in, 4, row);
        bool lineage = vec_valid(in, 5, row) && ((bool *)ca_duck_vec_data(ca_duck_chunk_vector(in, 5)))[row];
        ca_delta_at at = CA_DELTA_AT_INIT;
        int rc = CA_OK;
        if (!path) {
            rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: read_delta: path is NULL");
        } else if (vec_valid(in, 1, row)) {
            at.kind = CA_DELTA_AT_VERSION;
            at.table_version = ((int64_t *)ca_duck_vec_data(ca_duck_chunk_vector(in, 1)))[row];
            if (ts || as_of)
                rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: give version or timestamp, not both", path);
        } else if (ts || as_of) {
            if (ts && as_of)
                rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: give \"timestamp\" or as_of, not both", path);
            at.kind = CA_DELTA_AT_TIMESTAMP;
            at.timestamp = ts ? ts : as_of;
        }
        char *sql = NULL;
        if (rc == CA_OK) {
            ca_delta_snapshot *s = NULL;
            rc = ca_delta__snapshot_open(ctx, path, &at, &s);
            if (rc == CA_OK)
                rc = ca_delta__scan_sql(s, filter, lineage, NULL, 0, &sql, NULL);
            ca_delta_snapshot_close(s);
        }
        ca__free(path);
        ca__free(ts);
        ca__free(as_of);
        ca__free(filter);
        if (rc) {
            exec_fail(ex);
            return;
        }
        ca_duck_vec_set_string(out, row, sql, strlen(sql));
        ca__free(sql);
    }
}

/* ---- __delta_cdf_sql(path, start, end) -> VARCHAR ----------------------------------------- */

static void cdf_sql_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    ca_delta_ctx *ctx = ca_udf_exec_extra(ex);
    size_t n = ca_duck_chunk_size(in);
    for (size_t row = 0; row < n; row++) {
        char *path = vec_text(in, 0, row), *start = vec_text(in, 1, row), *end = vec_text(in, 2, row);
        char *sql = NULL;
        int rc = ca_delta__cdf_sql(ctx, path, start, end, &sql);
        ca__free(path);
        ca__free(start);
        ca__free(end);
        if (rc) {
            exec_fail(ex);
            return;
        }
        ca_duck_vec_set_string(out, row, sql, strlen(sql));
        ca__free(sql);
    }
}

/* ---- __delta_paths(token) -> VARCHAR[] ---------------------------------------------------- */

static void paths_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    ca_delta_ctx *ctx = ca_udf_exec_extra(ex);
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *tv = ca_duck_chunk_vector(in, 0);
    ca_duck_str *toks = ca_duck_vec_data(tv);
    uint64_t *valid = ca_duck_vec_validity(tv);
    ca_duck_list_entry *le = ca_duck_vec_data(out);
    ca_duck_vec *child = ca_duck_vec_list_child(out);
    size_t total = 0;
    for (size_t row = 0; row < n; row++) {
        if (!ca_duck_row_valid(valid, row)) {
            ca_duck_vec_set_null(out, row);
            le[row].offset = total;
            le[row].length = 0;
            continue;
        }
        dl_reg_entry *e = NULL;
        if (ca_delta__reg_get(ctx, ca_duck_str_data(&toks[row]), ca_duck_str_len(&toks[row]), &e)) {
            exec_fail(ex);
            return;
        }
        size_t nf = ca_delta__reg_n_files(e);
        if (ca_duck_vec_list_reserve(out, total + nf)) {
            ca_delta__reg_release(e);
            exec_fail(ex);
            return;
        }
        child = ca_duck_vec_list_child(out);
        for (size_t i = 0; i < nf; i++) {
            const char *p = ca_delta__reg_abs_path(e, i);
            ca_duck_vec_set_string(child, total + i, p, strlen(p));
        }
        le[row].offset = total;
        le[row].length = nf;
        total += nf;
        ca_delta__reg_release(e);
    }
    ca_duck_vec_list_set_size(out, total);
}

/* ---- __delta_dv_keep(token, file_index, file_row_number) -> BOOLEAN ---------------------- */

static void dv_keep_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    ca_delta_ctx *ctx = ca_udf_exec_extra(ex);
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *tv = ca_duck_chunk_vector(in, 0);
    ca_duck_str *toks = ca_duck_vec_data(tv);
    uint64_t *fidx = ca_duck_vec_data(ca_duck_chunk_vector(in, 1));
    int64_t *rown = ca_duck_vec_data(ca_duck_chunk_vector(in, 2));
    bool *res = ca_duck_vec_data(out);
    dl_reg_entry *e = NULL;
    const char *etok = NULL;
    size_t etok_len = 0;
    for (size_t row = 0; row < n; row++) {
        const char *t = ca_duck_str_data(&toks[row]);
        size_t tl = ca_duck_str_len(&toks[row]);
        if (!e || tl != etok_len || memcmp(t, etok, tl) != 0) {
            ca_delta__reg_release(e);
            e = NULL;
            if (ca_delta__reg_get(ctx, t, tl, &e)) {
                exec_fail(ex);
                return;
            }
            etok = t;
            etok_len = tl;
        }
        int err = CA_OK;
        res[row] = ca_delta__reg_keep(e, (size_t)fidx[row], (uint64_t)rown[row], &err);
        if (err) {
            ca_delta__reg_release(e);
            exec_fail(ex);
            return;
        }
    }
    ca_delta__reg_release(e);
}

/* ---- table function plumbing --------------------------------------------------------------- */

typedef enum col_kind { COL_VARCHAR, COL_BIGINT, COL_INTEGER, COL_BOOL, COL_TSTZ_MS, COL_UBIGINT } col_kind;

typedef struct col_def {
    const char *name;
    col_kind kind;
} col_def;

typedef struct tf_cell {
    bool null;
    int64_t i;
    const char *s;
} tf_cell;

static ca_duck_ltype *col_ltype(col_kind k)
{
    switch (k) {
    case COL_VARCHAR: return ca_duck_ltype_new(CA_DUCK_VARCHAR);
    case COL_BIGINT: return ca_duck_ltype_new(CA_DUCK_BIGINT);
    case COL_INTEGER: return ca_duck_ltype_new(CA_DUCK_INTEGER);
    case COL_BOOL: return ca_duck_ltype_new(CA_DUCK_BOOLEAN);
    case COL_TSTZ_MS: return ca_duck_ltype_new(CA_DUCK_TIMESTAMP_TZ);
    case COL_UBIGINT: return ca_duck_ltype_new(CA_DUCK_UBIGINT);
    }
    return NULL;
}

static void add_col(ca_udf_bind *b, const char *name, col_kind k)
{
    ca_duck_ltype *t = col_ltype(k);
    ca_udf_bind_add_column(b, name, t);
    ca_duck_ltype_free(t);
}

static void put_cell(ca_duck_vec *v, col_kind k, size_t row, const tf_cell *c)
{
    if (c->null || (k == COL_VARCHAR && !c->s)) {
        ca_duck_vec_set_null(v, row);
        return;
    }
    void *d = ca_duck_vec_data(v);
    switch (k) {
    case COL_VARCHAR: ca_duck_vec_set_string(v, row, c->s, strlen(c->s)); break;
    case COL_BIGINT: ((int64_t *)d)[row] = c->i; break;
    case COL_UBIGINT: ((uint64_t *)d)[row] = (uint64_t)c->i; break;
    case COL_INTEGER: ((int32_t *)d)[row] = (int32_t)c->i; break;
    case COL_BOOL: ((bool *)d)[row] = c->i != 0; break;
    case COL_TSTZ_MS: ((int64_t *)d)[row] = c->i * 1000; break;
    }
}

/* A generic materialized result: rows of cells, strings owned. */
typedef struct tf_rows {
    size_t n_cols, n_rows, pos;
    const col_def *cols;
    tf_cell *cells;
    char **strs;
    size_t n_strs;
    dl_reg_entry *entry; /* __delta_scan_files streams from the registry instead */
} tf_rows;

static void tf_rows_free(void *p)
{
    tf_rows *r = p;
    if (!r)
        return;
    for (size_t i = 0; i < r->n_strs; i++)
        ca__free(r->strs[i]);
    ca__free(r->strs);
    ca__free(r->cells);
    ca_delta__reg_release(r->entry);
    ca__free(r);
}

static void tf_init(ca_udf_init *in)
{
    size_t *pos = ca__calloc(1, sizeof *pos);
    ca_udf_init_set_data(in, pos, ca__free);
}

static void tf_rows_fn(ca_udf_exec *ex, ca_duck_chunk *out)
{
    tf_rows *r = ca_udf_exec_bind_data(ex);
    size_t *pos = ca_udf_exec_init_data(ex);
    size_t cap = ca_duck_vector_capacity(), k = 0;
    if (!r || !pos) {
        ca_duck_chunk_set_size(out, 0);
        return;
    }
    for (; k < cap && *pos < r->n_rows; k++, (*pos)++)
        for (size_t c = 0; c < r->n_cols; c++)
            put_cell(ca_duck_chunk_vector(out, c), r->cols[c].kind, k, &r->cells[*pos * r->n_cols + c]);
    ca_duck_chunk_set_size(out, k);
}

static const char *keep_str(tf_rows *r, char *s)
{
    if (!s)
        return NULL;
    r->strs[r->n_strs++] = s;
    return s;
}

/* ---- __delta_scan_files(token) ------------------------------------------------------------ */

static void scan_files_bind(ca_udf_bind *b)
{
    ca_delta_ctx *ctx = ca_udf_bind_extra(b);
    ca_udf_value *v = ca_udf_bind_param(b, 0);
    char *tok = ca_udf_value_text(v);
    ca_udf_value_free(v);
    if (!tok) {
        ca_udf_bind_set_error(b, "invalid: delta: __delta_scan_files: token is NULL");
        return;
    }
    dl_reg_entry *e = NULL;
    int rc = ca_delta__reg_get(ctx, tok, strlen(tok), &e);
    ca__free(tok);
    if (rc) {
        bind_fail(b);
        return;
    }
    tf_rows *r = ca__calloc(1, sizeof *r);
    if (!r) {
        ca_delta__reg_release(e);
        ca_udf_bind_set_error(b, "nomem: delta: out of memory");
        return;
    }
    r->entry = e;
    r->n_rows = ca_delta__reg_n_files(e);
    add_col(b, "file_index", COL_UBIGINT);
    add_col(b, "path", COL_VARCHAR);
    for (size_t p = 0; p < ca_delta__reg_n_parts(e); p++) {
        char name[32];
        snprintf(name, sizeof name, "p%zu", p);
        add_col(b, name, COL_VARCHAR);
    }
    add_col(b, "stats", COL_VARCHAR);
    if (ca_delta__reg_is_cdf(e)) {
        add_col(b, "change_type", COL_VARCHAR);
        add_col(b, "commit_version", COL_BIGINT);
        add_col(b, "commit_timestamp", COL_TSTZ_MS);
    }
    ca_udf_bind_set_cardinality(b, r->n_rows, true);
    ca_udf_bind_set_data(b, r, tf_rows_free, NULL);
}

static void scan_files_fn(ca_udf_exec *ex, ca_duck_chunk *out)
{
    tf_rows *r = ca_udf_exec_bind_data(ex);
    size_t *pos = ca_udf_exec_init_data(ex);
    size_t cap = ca_duck_vector_capacity(), k = 0;
    dl_reg_entry *e = r->entry;
    size_t np = ca_delta__reg_n_parts(e);
    ca_duck_vec *vi = ca_duck_chunk_vector(out, 0), *vp = ca_duck_chunk_vector(out, 1);
    for (; k < cap && *pos < r->n_rows; k++, (*pos)++) {
        ((uint64_t *)ca_duck_vec_data(vi))[k] = *pos;
        const char *p = ca_delta__reg_rel_path(e, *pos);
        ca_duck_vec_set_string(vp, k, p, strlen(p));
        for (size_t j = 0; j < np; j++) {
            const char *s = ca_delta__reg_part(e, *pos, j);
            ca_duck_vec *vc = ca_duck_chunk_vector(out, 2 + j);
            if (s)
                ca_duck_vec_set_string(vc, k, s, strlen(s));
            else
                ca_duck_vec_set_null(vc, k);
        }
        const char *st = ca_delta__reg_stats(e, *pos);
        ca_duck_vec *vs = ca_duck_chunk_vector(out, 2 + np);
        if (st)
            ca_duck_vec_set_string(vs, k, st, strlen(st));
        else
            ca_duck_vec_set_null(vs, k);
        if (ca_delta__reg_is_cdf(e)) {
            const char *ct = ca_delta__reg_change_type(e, *pos);
            tf_cell c = {ct == NULL, 0, ct};
            put_cell(ca_duck_chunk_vector(out, 3 + np), COL_VARCHAR, k, &c);
            c = (tf_cell){false, ca_delta__reg_commit_version(e, *pos), NULL};
            put_cell(ca_duck_chunk_vector(out, 4 + np), COL_BIGINT, k, &c);
            c = (tf_cell){false, ca_delta__reg_commit_ts(e, *pos), NULL};
            put_cell(ca_duck_chunk_vector(out, 5 + np), COL_TSTZ_MS, k, &c);
        }
    }
    ca_duck_chunk_set_size(out, k);
}

/* ---- snapshot-valued table functions ------------------------------------------------------- */

/* Opens the snapshot named by the bind parameters (path, version, timestamp). */
static int bind_snapshot(ca_udf_bind *b, ca_delta_snapshot **out)
{
    ca_delta_ctx *ctx = ca_udf_bind_extra(b);
    ca_udf_value *pv = ca_udf_bind_param(b, 0), *vv = ca_udf_bind_param(b, 1),
                 *tv = ca_udf_bind_param(b, 2);
    char *path = ca_udf_value_text(pv);
    char *ts = ca_udf_value_text(tv);
    ca_delta_at at = CA_DELTA_AT_INIT;
    int rc = CA_OK;
    if (!path) {
        rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: path is NULL");
    } else if (!ca_udf_value_is_null(vv)) {
        at.kind = CA_DELTA_AT_VERSION;
        at.table_version = ca_udf_value_int64(vv);
    } else if (ts) {
        at.kind = CA_DELTA_AT_TIMESTAMP;
        at.timestamp = ts;
    }
    if (rc == CA_OK)
        rc = ca_delta__snapshot_open(ctx, path, &at, out);
    ca__free(path);
    ca__free(ts);
    ca_udf_value_free(pv);
    ca_udf_value_free(vv);
    ca_udf_value_free(tv);
    return rc;
}

static char *json_text(json_t *j)
{
    if (!j)
        return NULL;
    char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    char *c = t ? ca__strdup(t) : NULL;
    ca__free(t); /* jansson allocates through ca__malloc (ca_json_init) */
    return c;
}

static char *list_json(char **l, size_t n, bool present)
{
    if (!present)
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(l[i] ? l[i] : ""));
    char *t = json_text(a);
    json_decref(a);
    return t;
}

static const col_def snapshot_cols[] = {
    {"root", COL_VARCHAR}, {"version", COL_BIGINT}, {"commit_timestamp", COL_TSTZ_MS},
    {"min_reader_version", COL_INTEGER}, {"min_writer_version", COL_INTEGER},
    {"reader_features", COL_VARCHAR}, {"writer_features", COL_VARCHAR},
    {"metadata_id", COL_VARCHAR}, {"name", COL_VARCHAR}, {"description", COL_VARCHAR},
    {"format_provider", COL_VARCHAR}, {"schema", COL_VARCHAR}, {"partition_columns", COL_VARCHAR},
    {"configuration", COL_VARCHAR}, {"created_time", COL_TSTZ_MS}, {"num_files", COL_BIGINT},
    {"num_bytes", COL_BIGINT}, {"num_records", COL_BIGINT},
    {"num_files_without_records", COL_BIGINT}, {"num_dv_files", COL_BIGINT},
    {"checkpoint_version", COL_BIGINT},
};
#define N_SNAPSHOT_COLS (sizeof snapshot_cols / sizeof snapshot_cols[0])

static void snapshot_bind(ca_udf_bind *b)
{
    ca_delta_snapshot *s = NULL;
    ca_delta_snapshot_info *info = NULL;
    if (bind_snapshot(b, &s) || ca_delta_snapshot_info_get(s, &info)) {
        ca_delta_snapshot_close(s);
        bind_fail(b);
        return;
    }
    tf_rows *r = ca__calloc(1, sizeof *r);
    tf_cell *c = ca__calloc(N_SNAPSHOT_COLS, sizeof *c);
    char **strs = ca__calloc(16, sizeof *strs);
    if (!r || !c || !strs) {
        ca__free(r);
        ca__free(c);
        ca__free(strs);
        ca_delta_snapshot_info_free(info);
        ca_delta_snapshot_close(s);
        ca_udf_bind_set_error(b, "nomem: delta: out of memory");
        return;
    }
    r->n_cols = N_SNAPSHOT_COLS;
    r->n_rows = 1;
    r->cols = snapshot_cols;
    r->cells = c;
    r->strs = strs;
    json_t *conf = json_object_get(s->metadata, "configuration");
    c[0].s = keep_str(r, ca__strdup(info->root));
    c[1].i = info->version;
    c[2].i = info->commit_timestamp_ms;
    c[3].i = info->min_reader_version;
    c[4].i = info->min_writer_version;
    c[5].s = keep_str(r, list_json(info->reader_features, info->n_reader_features,
                                   json_is_array(json_object_get(s->protocol, "readerFeatures"))));
    c[6].s = keep_str(r, list_json(info->writer_features, info->n_writer_features,
                                   json_is_array(json_object_get(s->protocol, "writerFeatures"))));
    c[7].s = keep_str(r, info->metadata_id ? ca__strdup(info->metadata_id) : NULL);
    c[8].s = keep_str(r, info->name ? ca__strdup(info->name) : NULL);
    c[9].s = keep_str(r, info->description ? ca__strdup(info->description) : NULL);
    c[10].s = keep_str(r, info->format_provider ? ca__strdup(info->format_provider) : NULL);
    c[11].s = keep_str(r, info->schema_json ? ca__strdup(info->schema_json) : NULL);
    c[12].s = keep_str(r, list_json(info->partition_columns, info->n_partition_columns, true));
    c[13].s = keep_str(r, json_is_object(conf) ? json_text(conf) : ca__strdup("{}"));
    c[14].i = info->created_time_ms;
    c[14].null = info->created_time_ms < 0;
    c[15].i = info->num_files;
    c[16].i = info->num_bytes;
    c[17].i = info->num_records;
    c[18].i = info->files_missing_num_records;
    c[19].i = info->num_dv_files;
    c[20].i = info->checkpoint_version;
    c[20].null = info->checkpoint_version < 0;
    for (size_t i = 0; i < N_SNAPSHOT_COLS; i++) {
        add_col(b, snapshot_cols[i].name, snapshot_cols[i].kind);
    }
    ca_delta_snapshot_info_free(info);
    ca_delta_snapshot_close(s);
    ca_udf_bind_set_cardinality(b, 1, true);
    ca_udf_bind_set_data(b, r, tf_rows_free, NULL);
}

static const col_def add_cols[] = {
    {"path", COL_VARCHAR}, {"size", COL_BIGINT}, {"modification_time", COL_TSTZ_MS},
    {"data_change", COL_BOOL}, {"partition_values", COL_VARCHAR}, {"stats", COL_VARCHAR},
    {"num_records", COL_BIGINT}, {"tags", COL_VARCHAR}, {"deletion_vector", COL_VARCHAR},
};
#define N_ADD_COLS (sizeof add_cols / sizeof add_cols[0])

static void add_actions_bind(ca_udf_bind *b)
{
    ca_delta_snapshot *s = NULL;
    ca_delta_add_action *a = NULL;
    size_t n = 0;
    if (bind_snapshot(b, &s) || ca_delta_add_actions(s, &a, &n)) {
        ca_delta_snapshot_close(s);
        bind_fail(b);
        return;
    }
    ca_delta_snapshot_close(s);
    tf_rows *r = ca__calloc(1, sizeof *r);
    tf_cell *c = ca__calloc((n ? n : 1) * N_ADD_COLS, sizeof *c);
    char **strs = ca__calloc((n ? n : 1) * 6, sizeof *strs);
    if (!r || !c || !strs) {
        ca__free(r);
        ca__free(c);
        ca__free(strs);
        ca_delta_add_actions_free(a, n);
        ca_udf_bind_set_error(b, "nomem: delta: out of memory");
        return;
    }
    r->n_cols = N_ADD_COLS;
    r->n_rows = n;
    r->cols = add_cols;
    r->cells = c;
    r->strs = strs;
    for (size_t i = 0; i < n; i++) {
        tf_cell *row = &c[i * N_ADD_COLS];
        /* hand the strings over to r */
        row[0].s = keep_str(r, a[i].path);
        row[1].i = a[i].size;
        row[2].i = a[i].modification_time;
        row[3].i = a[i].data_change;
        row[4].s = keep_str(r, a[i].partition_values_json);
        row[5].s = keep_str(r, a[i].stats_json);
        row[6].i = a[i].num_records;
        row[6].null = a[i].num_records < 0;
        row[7].s = keep_str(r, a[i].tags_json);
        row[8].s = keep_str(r, a[i].deletion_vector_json);
        a[i].path = a[i].partition_values_json = a[i].stats_json = a[i].tags_json =
            a[i].deletion_vector_json = NULL;
    }
    ca_delta_add_actions_free(a, n);
    for (size_t i = 0; i < N_ADD_COLS; i++) {
        add_col(b, add_cols[i].name, add_cols[i].kind);
    }
    ca_udf_bind_set_cardinality(b, n, true);
    ca_udf_bind_set_data(b, r, tf_rows_free, NULL);
}

static const col_def hist_cols[] = {
    {"version", COL_BIGINT}, {"timestamp", COL_TSTZ_MS}, {"operation", COL_VARCHAR},
    {"operation_parameters", COL_VARCHAR}, {"operation_metrics", COL_VARCHAR},
    {"user_metadata", COL_VARCHAR}, {"custom", COL_VARCHAR}, {"commit_info", COL_VARCHAR},
    {"engine_info", COL_VARCHAR}, {"read_version", COL_BIGINT}, {"is_blind_append", COL_BOOL},
};
#define N_HIST_COLS (sizeof hist_cols / sizeof hist_cols[0])

static void history_bind(ca_udf_bind *b)
{
    ca_delta_ctx *ctx = ca_udf_bind_extra(b);
    ca_udf_value *pv = ca_udf_bind_param(b, 0), *lv = ca_udf_bind_param(b, 1);
    char *path = ca_udf_value_text(pv);
    int64_t limit = ca_udf_value_is_null(lv) ? 0 : ca_udf_value_int64(lv);
    ca_udf_value_free(pv);
    ca_udf_value_free(lv);
    ca_delta_history_entry *h = NULL;
    size_t n = 0;
    int rc = path ? ca_delta_history(ctx, path, limit, &h, &n)
                  : ca_err_set(CA_E_INVALID, DL_MOD, "delta: path is NULL");
    ca__free(path);
    if (rc) {
        bind_fail(b);
        return;
    }
    tf_rows *r = ca__calloc(1, sizeof *r);
    tf_cell *c = ca__calloc((n ? n : 1) * N_HIST_COLS, sizeof *c);
    char **strs = ca__calloc((n ? n : 1) * 8, sizeof *strs);
    if (!r || !c || !strs) {
        ca__free(r);
        ca__free(c);
        ca__free(strs);
        ca_delta_history_free(h, n);
        ca_udf_bind_set_error(b, "nomem: delta: out of memory");
        return;
    }
    r->n_cols = N_HIST_COLS;
    r->n_rows = n;
    r->cols = hist_cols;
    r->cells = c;
    r->strs = strs;
    for (size_t i = 0; i < n; i++) {
        tf_cell *row = &c[i * N_HIST_COLS];
        row[0].i = h[i].version;
        row[1].i = h[i].timestamp_ms;
        row[2].s = keep_str(r, h[i].operation);
        row[3].s = keep_str(r, h[i].operation_parameters_json);
        row[4].s = keep_str(r, h[i].operation_metrics_json);
        row[5].s = keep_str(r, h[i].user_metadata);
        row[6].s = keep_str(r, h[i].custom_json);
        row[7].s = keep_str(r, h[i].commit_info_json);
        row[8].s = keep_str(r, h[i].engine_info);
        row[9].i = h[i].read_version;
        row[9].null = h[i].read_version < 0;
        row[10].i = h[i].is_blind_append;
        row[10].null = h[i].is_blind_append < 0;
        h[i].operation = h[i].operation_parameters_json = h[i].operation_metrics_json =
            h[i].user_metadata = h[i].custom_json = h[i].commit_info_json = h[i].engine_info = NULL;
    }
    ca_delta_history_free(h, n);
    for (size_t i = 0; i < N_HIST_COLS; i++) {
        add_col(b, hist_cols[i].name, hist_cols[i].kind);
    }
    ca_udf_bind_set_cardinality(b, n, true);
    ca_udf_bind_set_data(b, r, tf_rows_free, NULL);
}

/* ---- registration -------------------------------------------------------------------------- */

static int register_functions(ca_delta_ctx *ctx)
{
    ca_duck_ltype *vc = ca_duck_ltype_new(CA_DUCK_VARCHAR);
    ca_duck_ltype *bi = ca_duck_ltype_new(CA_DUCK_BIGINT);
    ca_duck_ltype *ub = ca_duck_ltype_new(CA_DUCK_UBIGINT);
    ca_duck_ltype *bo = ca_duck_ltype_new(CA_DUCK_BOOLEAN);
    ca_duck_ltype *vl = vc ? ca_duck_ltype_list(vc) : NULL;
    int rc = CA_OK;
    if (!vc || !bi || !ub || !bo || !vl) {
        rc = ca_err_nomem(DL_MOD, "types");
        goto done;
    }
    {
        ca_duck_ltype *p[] = {vc, bi, vc, vc, vc, bo};
        ca_udf_scalar f = {.params = p, .n_params = 6, .ret = vc, .fn = scan_sql_fn,
                           .special_nulls = true, .extra = ctx};
        if ((rc = ca_udf_register_scalar(ctx->conn, "__delta_scan_sql", &f, 1)))
            goto done;
    }
    {
        ca_duck_ltype *p[] = {vc, vc, vc};
        ca_udf_scalar f = {.params = p, .n_params = 3, .ret = vc, .fn = cdf_sql_fn,
                           .special_nulls = true, .extra = ctx};
        if ((rc = ca_udf_register_scalar(ctx->conn, "__delta_cdf_sql", &f, 1)))
            goto done;
    }
    {
        ca_duck_ltype *p[] = {vc};
        ca_udf_scalar f = {.params = p, .n_params = 1, .ret = vl, .fn = paths_fn,
                           .special_nulls = true, .extra = ctx};
        if ((rc = ca_udf_register_scalar(ctx->conn, "__delta_paths", &f, 1)))
            goto done;
    }
    {
        ca_duck_ltype *p[] = {vc, ub, bi};
        ca_udf_scalar f = {.params = p, .n_params = 3, .ret = bo, .fn = dv_keep_fn, .extra = ctx};
        if ((rc = ca_udf_register_scalar(ctx->conn, "__delta_dv_keep", &f, 1)))
            goto done;
    }
    {
        ca_duck_ltype *p[] = {vc};
        ca_udf_table t = {.params = p, .n_params = 1, .bind = scan_files_bind, .init = tf_init,
                          .fn = scan_files_fn, .extra = ctx};
        if ((rc = ca_udf_register_table(ctx->conn, "__delta_scan_files", &t)))
            goto done;
    }
    {
        ca_duck_ltype *p[] = {vc, bi, vc};
        ca_udf_table t = {.params = p, .n_params = 3, .bind = snapshot_bind, .init = tf_init,
                          .fn = tf_rows_fn, .extra = ctx};
        if ((rc = ca_udf_register_table(ctx->conn, "__delta_snapshot", &t)))
            goto done;
        t.bind = add_actions_bind;
        if ((rc = ca_udf_register_table(ctx->conn, "__delta_add_actions", &t)))
            goto done;
    }
    {
        ca_duck_ltype *p[] = {vc, bi};
        ca_udf_table t = {.params = p, .n_params = 2, .bind = history_bind, .init = tf_init,
                          .fn = tf_rows_fn, .extra = ctx};
        rc = ca_udf_register_table(ctx->conn, "__delta_history", &t);
    }
done:
    ca_duck_ltype_free(vc);
    ca_duck_ltype_free(bi);
    ca_duck_ltype_free(ub);
    ca_duck_ltype_free(bo);
    ca_duck_ltype_free(vl);
    return rc;
}

/* The user-facing macros (documented in docs/internals/delta.md). */
static const char macros_sql[] =
    "CREATE OR REPLACE TEMP MACRO read_delta(path, version := NULL, \"timestamp\" := NULL, "
    "as_of := NULL, filter := NULL, lineage := false) AS TABLE "
    "FROM query(__delta_scan_sql(path, CAST(version AS BIGINT), CAST(\"timestamp\" AS VARCHAR), "
    "CAST(as_of AS VARCHAR), CAST(filter AS VARCHAR), CAST(lineage AS BOOLEAN)));\n"
    "CREATE OR REPLACE TEMP MACRO read_delta_cdf(path, start, \"end\") AS TABLE "
    "FROM query(__delta_cdf_sql(path, CAST(start AS VARCHAR), CAST(\"end\" AS VARCHAR)));\n"
    /* macro parameters shadow column names: every column is qualified */
    "CREATE OR REPLACE TEMP MACRO delta_snapshot(path, version := NULL, \"timestamp\" := NULL, "
    "as_of := NULL) AS TABLE "
    "SELECT s.root AS root, s.version AS version, s.commit_timestamp AS commit_timestamp, "
    "s.min_reader_version AS min_reader_version, s.min_writer_version AS min_writer_version, "
    "CAST(CAST(s.reader_features AS JSON) AS VARCHAR[]) AS reader_features, "
    "CAST(CAST(s.writer_features AS JSON) AS VARCHAR[]) AS writer_features, "
    "s.metadata_id AS metadata_id, s.name AS name, s.description AS description, "
    "s.format_provider AS format_provider, CAST(s.schema AS JSON) AS schema, "
    "CAST(CAST(s.partition_columns AS JSON) AS VARCHAR[]) AS partition_columns, "
    "CAST(CAST(s.configuration AS JSON) AS MAP(VARCHAR, VARCHAR)) AS configuration, "
    "s.created_time AS created_time, s.num_files AS num_files, s.num_bytes AS num_bytes, "
    "s.num_records AS num_records, s.num_files_without_records AS num_files_without_records, "
    "s.num_dv_files AS num_dv_files, s.checkpoint_version AS checkpoint_version "
    "FROM __delta_snapshot(path, CAST(version AS BIGINT), "
    "CAST(coalesce(\"timestamp\", as_of) AS VARCHAR)) AS s;\n"
    "CREATE OR REPLACE TEMP MACRO delta_add_actions(path, version := NULL, \"timestamp\" := NULL, "
    "as_of := NULL) AS TABLE "
    "SELECT a.path AS path, a.size AS size, a.modification_time AS modification_time, "
    "a.data_change AS data_change, "
    "CAST(CAST(a.partition_values AS JSON) AS MAP(VARCHAR, VARCHAR)) AS partition_values, "
    "CASE WHEN json_valid(a.stats) THEN CAST(a.stats AS JSON) END AS stats, "
    "a.num_records AS num_records, "
    "CAST(CAST(a.tags AS JSON) AS MAP(VARCHAR, VARCHAR)) AS tags, "
    "CASE WHEN a.deletion_vector IS NULL THEN NULL ELSE struct_pack("
    "storage_type := json_extract_string(a.deletion_vector, '$.storageType'), "
    "path_or_inline_dv := json_extract_string(a.deletion_vector, '$.pathOrInlineDv'), "
    "\"offset\" := CAST(json_extract(a.deletion_vector, '$.offset') AS INTEGER), "
    "size_in_bytes := CAST(json_extract(a.deletion_vector, '$.sizeInBytes') AS INTEGER), "
    "cardinality := CAST(json_extract(a.deletion_vector, '$.cardinality') AS BIGINT)) END "
    "AS deletion_vector "
    "FROM __delta_add_actions(path, CAST(version AS BIGINT), "
    "CAST(coalesce(\"timestamp\", as_of) AS VARCHAR)) AS a;\n"
    "CREATE OR REPLACE TEMP MACRO delta_history(path, \"limit\" := NULL) AS TABLE "
    "SELECT h.version AS version, h.\"timestamp\" AS \"timestamp\", h.operation AS operation, "
    "CAST(h.operation_parameters AS JSON) AS operation_parameters, "
    "CAST(h.operation_metrics AS JSON) AS operation_metrics, h.user_metadata AS user_metadata, "
    "CAST(h.custom AS JSON) AS custom, CAST(h.commit_info AS JSON) AS commit_info, "
    "h.engine_info AS engine_info, h.read_version AS read_version, "
    "h.is_blind_append AS is_blind_append "
    "FROM __delta_history(path, CAST(\"limit\" AS BIGINT)) AS h;\n";

int ca_delta_register_sql(ca_delta_ctx *ctx, struct ca_duck_conn *conn)
{
    if (!ctx || !conn)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: ca_delta_register_sql: NULL argument");
    return ca_duck_exec(conn, macros_sql);
}

/* ---- context ----------------------------------------------------------------------------- */

int ca_delta_ctx_new(struct ca_duck_db *db, const struct ca_fs *fs, const ca_delta_ctx_options *opts,
                     ca_delta_ctx **out)
{
    if (!db || !out)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: ca_delta_ctx_new: NULL argument");
    if (opts && opts->version != CA_DELTA_CTX_OPTIONS_VERSION)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: ca_delta_ctx_options: unknown version %u",
                          opts->version);
    ca_json_init();
    ca_delta_ctx *ctx = ca__calloc(1, sizeof *ctx);
    if (!ctx)
        return ca_err_nomem(DL_MOD, "context");
    ctx->db = db;
    ctx->fs = fs ? fs : ca_fs_posix();
    ctx->verify_crc = opts && opts->verify_crc;
    pthread_mutex_init(&ctx->conn_lock, NULL);
    pthread_mutex_init(&ctx->reg_lock, NULL);
    pthread_mutex_init(&ctx->cache_lock, NULL);
    int rc = ca_duck_connect(db, &ctx->conn);
    if (rc == CA_OK)
        rc = ca_duck_exec(ctx->conn, "SET TimeZone = 'UTC'");
    if (rc == CA_OK)
        rc = register_functions(ctx);
    if (rc) {
        ca_delta_ctx_free(ctx);
        return rc;
    }
    ctx->functions_registered = true;
    *out = ctx;
    return CA_OK;
}

void ca_delta__set_trace(ca_delta_ctx *ctx, ca_trace *t) { ctx->trace = t; }

void ca_delta_ctx_free(ca_delta_ctx *ctx)
{
    if (!ctx)
        return;
    ca_delta__reg_clear(ctx);
    ca_delta__cache_clear(ctx);
    ca_duck_disconnect(ctx->conn);
    pthread_mutex_destroy(&ctx->conn_lock);
    pthread_mutex_destroy(&ctx->reg_lock);
    pthread_mutex_destroy(&ctx->cache_lock);
    ca__free(ctx);
}
