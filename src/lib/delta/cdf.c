/*
 * Change data feed reads (delta.md §15): read_delta_cdf(path, start, end) and ca_delta_cdf_sql.
 * Versions start..end are read commit by commit (no replay): a version with `cdc` actions gives
 * only its change files (their own _change_type column), else its data-changing adds are
 * `insert`s and removes `delete`s, each with its action's deletion vector applied. One
 * read_parquet covers the range; __delta_scan_files adds change type, version and timestamp per
 * file (a file may appear twice).
 */
#include "lib/delta/delta_int.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cdf_err(const char *root, int64_t v, const char *what)
{
    return ca_err_set(CA_E_DELTA_CDF, DL_MOD, "delta: %s: version %" PRId64 ": %s", root, v, what);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* A bound: digits = a version; else an RFC 3339 timestamp (start: first version at or after it,
 * end: last version at or before it). */
static int resolve(ca_delta_ctx *ctx, const char *root, const char *text, bool is_start, int64_t latest,
                   int64_t *out)
{
    if (all_digits(text)) {
        *out = strtoll(text, NULL, 10);
        return CA_OK;
    }
    ca_delta_at at = CA_DELTA_AT_INIT;
    at.kind = CA_DELTA_AT_TIMESTAMP;
    at.timestamp = text;
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta__snapshot_open(ctx, root, &at, &s);
    if (rc == CA_E_DELTA_VERSION && is_start) {
        /* before the first commit: the feed starts at the oldest version */
        ca_error_clear();
        *out = 0;
        return CA_OK;
    }
    if (rc)
        return rc;
    *out = s->version;
    /* a start between commits begins at the next one */
    if (is_start && s->version < latest) {
        int64_t t_ms = 0;
        ca_delta_snapshot_info *info = NULL;
        if (ca_delta_snapshot_info_get(s, &info) == CA_OK) {
            ca_buf q = CA_BUF_INIT;
            char *lit = ca_duck_quote_literal(text);
            ca_buf_printf(&q, "SELECT epoch_ms(CAST(%s AS TIMESTAMPTZ))", lit ? lit : "NULL");
            ca__free(lit);
            bool is_null = true;
            pthread_mutex_lock(&ctx->conn_lock);
            int qrc = ca_duck_query_int64(ctx->conn, ca_buf_cstr(&q), &t_ms, &is_null);
            pthread_mutex_unlock(&ctx->conn_lock);
            if (qrc == CA_OK && !is_null && info->commit_timestamp_ms < t_ms)
                (*out)++;
            ca_buf_free(&q);
            ca_delta_snapshot_info_free(info);
        }
    }
    ca_delta_snapshot_close(s);
    return CA_OK;
}

static char *cdf_token(const char *root, int64_t start, int64_t end)
{
    json_t *j = json_pack("{s:b,s:I,s:s,s:I}", "cdf", 1, "end", (json_int_t)end, "root", root, "start",
                          (json_int_t)start);
    char *t = NULL;
    if (!j || ca_json_canonical_string(j, &t, NULL))
        t = NULL;
    json_decref(j);
    return t;
}

/* Every field of an intermediate schema must still be in the end schema with the same type. */
static int check_additive(const ca_delta_snapshot *end, json_t *meta, int64_t v)
{
    const char *ss = json_string_value(json_object_get(meta, "schemaString"));
    if (!ss)
        return cdf_err(end->root, v, "metaData without schemaString");
    const char *mode = json_string_value(
        json_object_get(json_object_get(meta, "configuration"), "delta.columnMapping.mode"));
    dl_cm_mode cm = !mode || strcmp(mode, "none") == 0 ? DL_CM_NONE
                    : strcmp(mode, "name") == 0          ? DL_CM_NAME
                                                         : DL_CM_ID;
    dl_schema sc;
    int rc = ca_delta__schema_parse(end->root, ss, cm, &sc);
    if (rc)
        return rc;
    ca_buf a = CA_BUF_INIT, b = CA_BUF_INIT;
    for (size_t i = 0; rc == CA_OK && i < sc.n_fields; i++) {
        const dl_field *f = ca_delta__field(end, sc.fields[i].name);
        ca_buf_clear(&a);
        ca_buf_clear(&b);
        if (f) {
            ca_delta__type_sql(sc.fields[i].type, false, &a);
            ca_delta__type_sql(f->type, false, &b);
        }
        if (!f || strcmp(ca_buf_cstr(&a), ca_buf_cstr(&b)) != 0) {
            char what[256];
            snprintf(what, sizeof what, "non-additive schema change (column '%s')", sc.fields[i].name);
            rc = cdf_err(end->root, v, what);
        }
    }
    ca_buf_free(&a);
    ca_buf_free(&b);
    ca_delta__schema_free(&sc);
    return rc;
}

typedef struct cdf_list {
    dl_file **files;
    const char **type;
    int64_t *version, *ts;
    size_t n, cap;
} cdf_list;

static int list_push(cdf_list *l, dl_file *f, const char *type, int64_t v, int64_t ts)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        dl_file **nf = ca__realloc(l->files, nc * sizeof *nf);
        if (nf)
            l->files = nf;
        const char **nt = ca__realloc(l->type, nc * sizeof *nt);
        if (nt)
            l->type = nt;
        int64_t *nv = ca__realloc(l->version, nc * sizeof *nv);
        if (nv)
            l->version = nv;
        int64_t *ns = ca__realloc(l->ts, nc * sizeof *ns);
        if (ns)
            l->ts = ns;
        if (!nf || !nt || !nv || !ns) {
            ca_delta__file_free(f);
            return ca_err_nomem(DL_MOD, "change data feed");
        }
        l->cap = nc;
    }
    l->files[l->n] = f;
    l->type[l->n] = type;
    l->version[l->n] = v;
    l->ts[l->n] = ts;
    l->n++;
    return CA_OK;
}

static void list_free(cdf_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        ca_delta__file_free(l->files[i]);
    ca__free(l->files);
    ca__free(l->type);
    ca__free(l->version);
    ca__free(l->ts);
}

static bool cdf_on(json_t *meta)
{
    const char *v = json_string_value(
        json_object_get(json_object_get(meta, "configuration"), "delta.enableChangeDataFeed"));
    return v && strcmp(v, "true") == 0;
}

/* One commit's change files into l. meta is the metadata in effect before v (updated). */
static int read_version(ca_delta_ctx *ctx, const ca_delta_snapshot *end, int64_t v, int64_t ts_mtime,
                        json_t **meta, cdf_list *l)
{
    char name[32];
    snprintf(name, sizeof name, "%020" PRId64 ".json", v);
    ca_buf pb = CA_BUF_INIT;
    ca_buf_printf(&pb, "%s/_delta_log/%s", end->root, name);
    char *text = NULL;
    size_t len = 0;
    int rc = ca_buf_status(&pb) ? ca_buf_status(&pb) : ca_fs_read_file(ctx->fs, ca_buf_cstr(&pb), 0, &text, &len);
    ca_buf_free(&pb);
    if (rc == CA_E_NOT_FOUND)
        return cdf_err(end->root, v, "the commit was cleaned up");
    if (rc)
        return rc;
    json_t *adds = json_array(), *removes = json_array(), *cdcs = json_array();
    int64_t ts = ts_mtime;
    char *p = text, *e = text + len;
    size_t line = 0;
    while (rc == CA_OK && p < e) {
        char *nl = memchr(p, '\n', (size_t)(e - p));
        char *le = nl ? nl : e;
        line++;
        if (le > p) {
            json_error_t jerr;
            json_t *o = json_loadb(p, (size_t)(le - p), JSON_REJECT_DUPLICATES, &jerr);
            if (!json_is_object(o)) {
                rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: %s: line %zu: not one JSON object",
                                end->root, name, line);
            } else {
                json_t *a;
                if ((a = json_object_get(o, "add")) && !json_is_false(json_object_get(a, "dataChange")))
                    json_array_append(adds, a);
                if ((a = json_object_get(o, "remove")) && !json_is_false(json_object_get(a, "dataChange")))
                    json_array_append(removes, a);
                if ((a = json_object_get(o, "cdc")))
                    json_array_append(cdcs, a);
                if ((a = json_object_get(o, "metaData"))) {
                    json_decref(*meta);
                    *meta = json_incref(a);
                    rc = check_additive(end, a, v);
                }
                json_t *ict = json_object_get(json_object_get(o, "commitInfo"), "inCommitTimestamp");
                if (json_is_integer(ict))
                    ts = json_integer_value(ict);
            }
            json_decref(o);
        }
        p = nl ? nl + 1 : e;
    }
    ca__free(text);
    if (rc == CA_OK && !cdf_on(*meta))
        rc = cdf_err(end->root, v, "the change data feed is off (delta.enableChangeDataFeed)");
    size_t i;
    json_t *a;
    if (rc == CA_OK && json_array_size(cdcs)) {
        json_array_foreach(cdcs, i, a)
        {
            dl_file *f = NULL;
            if ((rc = ca_delta__file_from_action(end->root, name, 0, a, true, "cdc", &f)) ||
                (rc = list_push(l, f, NULL, v, ts)))
                break;
        }
    } else if (rc == CA_OK) {
        /* without change files, a file removed and re-added with another DV hides which rows
         * changed */
        json_array_foreach(removes, i, a)
        {
            size_t k;
            json_t *b;
            json_array_foreach(adds, k, b)
            {
                if (json_equal(json_object_get(a, "path"), json_object_get(b, "path")) &&
                    !json_equal(json_object_get(a, "deletionVector"), json_object_get(b, "deletionVector")))
                    rc = cdf_err(end->root, v, "a file re-added with another deletion vector and no cdc "
                                               "actions: the changed rows are unknown");
            }
        }
        json_array_foreach(adds, i, a)
        {
            dl_file *f = NULL;
            if (rc || (rc = ca_delta__file_from_action(end->root, name, 0, a, true, "add", &f)) ||
                (rc = list_push(l, f, "insert", v, ts)))
                break;
        }
        json_array_foreach(removes, i, a)
        {
            dl_file *f = NULL;
            if (rc || (rc = ca_delta__file_from_action(end->root, name, 0, a, false, "remove", &f)) ||
                (rc = list_push(l, f, "delete", v, ts)))
                break;
        }
    }
    json_decref(adds);
    json_decref(removes);
    json_decref(cdcs);
    return rc;
}

static int check_range_listed(ca_delta_ctx *ctx, const char *root, int64_t start, int64_t end)
{
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/_delta_log", root);
    ca_fs_entry *ents = NULL;
    size_t n = 0;
    int rc = ca_buf_status(&b) ? ca_buf_status(&b) : ca_fs_list(ctx->fs, ca_buf_cstr(&b), &ents, &n);
    ca_buf_free(&b);
    if (rc)
        return rc;
    uint8_t *seen = ca__calloc((size_t)(end - start + 1), 1);
    if (!seen) {
        ca_fs_list_free(ents, n);
        return ca_err_nomem(DL_MOD, "change data feed");
    }
    for (size_t i = 0; i < n; i++) {
        dl_name nm;
        ca_delta__classify(ents[i].name, &nm);
        if (nm.kind == DL_NAME_COMMIT && nm.version >= start && nm.version <= end)
            seen[nm.version - start] = 1;
    }
    ca_fs_list_free(ents, n);
    for (int64_t v = start; rc == CA_OK && v <= end; v++)
        if (!seen[v - start])
            rc = cdf_err(root, v, "the commit was cleaned up");
    ca__free(seen);
    return rc;
}

int ca_delta__cdf_rebuild(ca_delta_ctx *ctx, json_t *tj, const char *token, dl_reg_entry **out)
{
    const char *root = json_string_value(json_object_get(tj, "root"));
    int64_t start = json_integer_value(json_object_get(tj, "start"));
    int64_t end = json_integer_value(json_object_get(tj, "end"));
    /* every commit of the range must still be in the log (a fresh listing: cached snapshots
     * keep the listing of their own open) */
    int rc = check_range_listed(ctx, root, start, end);
    if (rc)
        return rc;
    ca_delta_at at = CA_DELTA_AT_INIT;
    at.kind = CA_DELTA_AT_VERSION;
    at.table_version = end;
    ca_delta_snapshot *se = NULL, *ss = NULL;
    if ((rc = ca_delta__snapshot_open(ctx, root, &at, &se)))
        return rc;
    at.table_version = start;
    if ((rc = ca_delta__snapshot_open(ctx, root, &at, &ss))) {
        ca_delta_snapshot_close(se);
        if (rc == CA_E_DELTA_VERSION)
            rc = cdf_err(root, start, ca_error_last()->message);
        return rc;
    }
    /* commit timestamps from the listing (mtime made strictly increasing) */
    int64_t *ts = ca__calloc(se->n_commits ? se->n_commits : 1, sizeof *ts);
    if (!ts) {
        ca_delta_snapshot_close(se);
        ca_delta_snapshot_close(ss);
        return ca_err_nomem(DL_MOD, "change data feed");
    }
    for (size_t i = 0; i < se->n_commits; i++) {
        ts[i] = se->commits[i].mtime_ms;
        if (i && ts[i] <= ts[i - 1])
            ts[i] = ts[i - 1] + 1;
    }
    /* the metadata in effect before `start` is the one at start unless commit start changes it;
     * read_version applies commit start's metaData itself */
    json_t *meta = json_incref(ss->metadata);
    cdf_list l = {0};
    for (int64_t v = start; rc == CA_OK && v <= end; v++) {
        int64_t t = 0;
        for (size_t i = 0; i < se->n_commits; i++)
            if (se->commits[i].version == v)
                t = ts[i];
        rc = read_version(ctx, se, v, t, &meta, &l);
    }
    json_decref(meta);
    ca__free(ts);
    if (rc == CA_OK) {
        rc = ca_delta__reg_add_cdf(se, token, l.files, l.type, l.version, l.ts, l.n, out);
        memset(&l, 0, sizeof l); /* handed over */
    }
    list_free(&l);
    ca_delta_snapshot_close(se);
    ca_delta_snapshot_close(ss);
    return rc;
}

int ca_delta__cdf_sql(ca_delta_ctx *ctx, const char *root_in, const char *start, const char *end,
                      char **sql)
{
    *sql = NULL;
    if (!root_in || !start)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: read_delta_cdf: path and start are required");
    ca_delta_snapshot *latest = NULL;
    int rc = ca_delta__snapshot_open(ctx, root_in, NULL, &latest);
    if (rc)
        return rc;
    int64_t sv = 0, ev = latest->version;
    rc = resolve(ctx, latest->root, start, true, latest->version, &sv);
    if (rc == CA_OK && end)
        rc = resolve(ctx, latest->root, end, false, latest->version, &ev);
    if (rc == CA_OK && sv > ev)
        rc = ca_err_set(CA_E_DELTA_CDF, DL_MOD, "delta: %s: change data feed: start version %" PRId64
                                                " is after end version %" PRId64, latest->root, sv, ev);
    if (rc == CA_OK && ev > latest->version)
        rc = ca_err_set(CA_E_DELTA_VERSION, DL_MOD, "delta: %s: version %" PRId64 ": beyond the latest version %" PRId64,
                        latest->root, ev, latest->version);
    char *token = rc == CA_OK ? cdf_token(latest->root, sv, ev) : NULL;
    if (rc == CA_OK && !token)
        rc = ca_err_nomem(DL_MOD, "change data feed");
    dl_reg_entry *e = NULL;
    if (rc == CA_OK)
        rc = ca_delta__reg_get(ctx, token, strlen(token), &e);
    ca_delta_snapshot *se = NULL;
    if (rc == CA_OK) {
        ca_delta_at at = CA_DELTA_AT_INIT;
        at.kind = CA_DELTA_AT_VERSION;
        at.table_version = ev;
        rc = ca_delta__snapshot_open(ctx, latest->root, &at, &se);
    }
    if (rc == CA_OK)
        rc = ca_delta__entry_sql(se, e, token, NULL, false, NULL, 0, sql);
    ca_delta__reg_release(e);
    ca_delta_snapshot_close(se);
    ca_delta_snapshot_close(latest);
    ca__free(token);
    return rc;
}

int ca_delta_cdf_sql(ca_delta_ctx *ctx, const char *root, const char *start, const char *end, char **sql)
{
    if (!ctx || !sql)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: ca_delta_cdf_sql: NULL argument");
    return ca_delta__cdf_sql(ctx, root, start, end, sql);
}
