/* Copy-on-write DML: delete, update (delta.md §12). Merge by keys lives in write.c. */
#include "lib/delta/delta_write.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct fcount {
    int64_t matched, total;
} fcount;

static int dml(ca_delta_ctx *ctx, ca_duck_conn *conn_in, const char *root_in, const ca_delta_dml_options *o,
               ca_delta_write_result *res, bool update)
{
    memset(res, 0, sizeof *res);
    res->version = -1;
    const char *what = update ? "update" : "delete";
    if (!o || o->version != CA_DELTA_DML_OPTIONS_VERSION)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: %s options version mismatch", root_in, what);
    if (update && o->n_set == 0)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: update needs at least one column to set", root_in);
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta__snapshot_open(ctx, root_in, NULL, &s);
    if (rc) {
        res->reason = "write_failed";
        return rc;
    }
    const char *pred = o->predicate && *o->predicate ? o->predicate : "true";
    rc = ca_delta__check_writable(s);
    const char *ao = ca_delta__prop(s, "delta.appendOnly");
    if (rc == CA_OK && ao && strcasecmp(ao, "true") == 0)
        rc = ca_err_set(CA_E_DELTA_APPEND_ONLY, DL_MOD, "delta: %s: the table is append-only (delta.appendOnly=true)",
                        s->root);
    bool cdf = ca_delta__cdf_enabled(s);
    for (size_t i = 0; rc == CA_OK && update && i < o->n_set; i++) {
        if (!ca_delta__field(s, o->set_columns[i]))
            rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: update: no column %s", s->root, o->set_columns[i]);
    }
    ca_duck_conn *conn = NULL;
    bool owned = false;
    if (rc == CA_OK)
        rc = ca_delta__conn_get(ctx, conn_in, &conn, &owned);
    char *scan = NULL;
    if (rc == CA_OK && s->n_files) {
        ca_delta_scan_options so = CA_DELTA_SCAN_OPTIONS_INIT;
        so.lineage = true;
        rc = ca_delta_scan_sql(s, &so, &scan, NULL);
    }
    fcount *fc = ca__calloc(s->n_files + 1, sizeof *fc);
    if (rc == CA_OK && !fc)
        rc = ca_err_nomem(DL_MOD, "counts");
    /* matching rows per file (one pass over the table) */
    if (rc == CA_OK && s->n_files) {
        ca_buf q = CA_BUF_INIT;
        ca_buf_printf(&q, "SELECT __source_file AS f, count(*) FILTER (WHERE coalesce((%s), false)) AS m, count(*) AS n "
                          "FROM (%s) AS __s GROUP BY ALL",
                      pred, scan);
        json_t *rows = NULL;
        rc = ca_buf_status(&q) ? ca_buf_status(&q) : ca_delta__query_json(conn, ca_buf_cstr(&q), &rows);
        ca_buf_free(&q);
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) {
            const char *f = json_string_value(json_object_get(r, "f"));
            for (size_t k = 0; f && k < s->n_files; k++) {
                if (strcmp(s->files[k]->cpath, f) == 0) {
                    fc[k].matched = json_integer_value(json_object_get(r, "m"));
                    fc[k].total = json_integer_value(json_object_get(r, "n"));
                }
            }
        }
        json_decref(rows);
    }
    /* files to remove / rewrite */
    ca_buf list = CA_BUF_INIT, mlist = CA_BUF_INIT;
    size_t n_rewrite = 0, n_matched = 0;
    for (size_t k = 0; rc == CA_OK && k < s->n_files; k++) {
        if (fc[k].matched == 0)
            continue;
        char *ml = ca_duck_quote_literal(s->files[k]->cpath);
        ca_buf_printf(&mlist, "%s%s", n_matched++ ? ", " : "", ml ? ml : "''");
        ca__free(ml);
        if (update)
            res->rows_updated += fc[k].matched;
        else
            res->rows_deleted += fc[k].matched;
        if (update || fc[k].matched < fc[k].total) {
            char *lit = ca_duck_quote_literal(s->files[k]->cpath);
            ca_buf_printf(&list, "%s%s", n_rewrite++ ? ", " : "", lit ? lit : "''");
            ca__free(lit);
            res->rows_copied += fc[k].total - fc[k].matched;
        }
    }
    json_t *actions = json_array();
    if (rc == CA_OK && n_rewrite) {
        ca_buf q = CA_BUF_INIT, inner = CA_BUF_INIT;
        for (size_t i = 0; i < s->schema.n_fields; i++) {
            const dl_field *f = &s->schema.fields[i];
            char *qn = ca_duck_quote_ident(f->name);
            const char *expr = NULL;
            for (size_t k = 0; update && k < o->n_set; k++)
                if (strcmp(o->set_columns[k], f->name) == 0)
                    expr = o->set_exprs[k];
            if (expr) {
                ca_buf tt = CA_BUF_INIT;
                ca_delta__type_sql(f->type, false, &tt);
                ca_buf_printf(&inner, "%sCASE WHEN __m THEN CAST((%s) AS %s) ELSE %s END AS %s", i ? ", " : "", expr,
                              ca_buf_cstr(&tt), qn, qn);
                ca_buf_free(&tt);
            } else {
                ca_buf_printf(&inner, "%s%s", i ? ", " : "", qn);
            }
            ca__free(qn);
        }
        ca_buf_puts(&q, "SELECT ");
        bool first = true;
        for (size_t i = 0; i < s->schema.n_fields; i++) {
            bool part = false;
            for (size_t p = 0; p < s->n_part_cols; p++)
                part |= strcmp(s->part_cols[p], s->schema.fields[i].name) == 0;
            if (part)
                continue;
            char *qn = ca_duck_quote_ident(s->schema.fields[i].name);
            ca_buf_printf(&q, "%s%s", first ? "" : ", ", qn ? qn : "");
            first = false;
            ca__free(qn);
        }
        rc = ca_delta__partition_exprs(s, &q);
        ca_buf_printf(&q, " FROM (SELECT %s FROM (SELECT *, coalesce((%s), false) AS __m FROM (%s) AS __s "
                          "WHERE __source_file IN (%s)) AS __u%s) AS __w",
                      ca_buf_cstr(&inner), pred, scan, ca_buf_cstr(&list), update ? "" : " WHERE NOT __m");
        if (rc == CA_OK)
            rc = ca_buf_status(&q);
        if (rc == CA_OK) {
            dw_copy c;
            ca_delta__copy_init(&c, ctx, s);
            rc = ca_delta__copy_files(&c, conn, ca_buf_cstr(&q), actions, &res->rows_added, &res->bytes_added);
        }
        /* change data (§15): every deleted row / pre- and post-image of every updated row */
        if (rc == CA_OK && cdf) {
            ca_buf_clear(&q);
            if (update)
                ca_buf_printf(&q, "SELECT * EXCLUDE (__m, __source_file), 'update_preimage' AS _change_type FROM (SELECT *, "
                                  "coalesce((%s), false) AS __m FROM (%s) AS __s WHERE __source_file IN (%s)) AS __u WHERE __m "
                                  "UNION ALL BY NAME SELECT %s, 'update_postimage' AS _change_type FROM (SELECT *, "
                                  "coalesce((%s), false) AS __m FROM (%s) AS __s WHERE __source_file IN (%s)) AS __u WHERE __m",
                              pred, scan, ca_buf_cstr(&mlist), ca_buf_cstr(&inner), pred, scan, ca_buf_cstr(&mlist));
            rc = update ? ca_buf_status(&q) : CA_OK;
            if (rc == CA_OK && update)
                rc = ca_delta__write_cdc(ctx, conn, s, ca_buf_cstr(&q), actions);
        }
        ca_buf_free(&q);
        ca_buf_free(&inner);
    }
    if (rc == CA_OK && cdf && !update && n_matched) {
        ca_buf q = CA_BUF_INIT;
        ca_buf_printf(&q, "SELECT * EXCLUDE (__source_file), 'delete' AS _change_type FROM (%s) AS __s WHERE __source_file IN (%s) "
                          "AND coalesce((%s), false)",
                      scan, ca_buf_cstr(&mlist), pred);
        rc = ca_buf_status(&q) ? ca_buf_status(&q) : ca_delta__write_cdc(ctx, conn, s, ca_buf_cstr(&q), actions);
        ca_buf_free(&q);
    }
    ca_buf_free(&mlist);
    ca_buf_free(&list);
    if (owned)
        ca_duck_disconnect(conn);
    ca_free(scan);
    size_t ai;
    json_t *aj;
    json_array_foreach(actions, ai, aj) res->files_added += json_object_get(aj, "add") != NULL;
    if (rc == CA_OK && (res->rows_deleted || res->rows_updated)) {
        int64_t now = ca_time_wall_ms();
        json_t *all = json_array();
        for (size_t k = 0; k < s->n_files; k++) {
            if (!fc[k].matched)
                continue;
            json_array_append_new(all, ca_delta__remove_of(s->files[k], now, true));
            res->files_removed++;
            res->bytes_removed += s->files[k]->size;
        }
        json_array_extend(all, actions);
        char m1[32], m2[32], m3[32], m4[32];
        snprintf(m1, sizeof m1, "%" PRId64, res->files_added);
        snprintf(m2, sizeof m2, "%" PRId64, res->files_removed);
        snprintf(m3, sizeof m3, "%" PRId64, update ? res->rows_updated : res->rows_deleted);
        snprintf(m4, sizeof m4, "%" PRId64, res->rows_copied);
        json_t *metrics = json_pack("{s:s,s:s,s:s,s:s}", "numAddedFiles", m1, "numRemovedFiles", m2,
                                    update ? "numUpdatedRows" : "numDeletedRows", m3, "numCopiedRows", m4);
        dw_commit cm = {
            .ctx = ctx,
            .root = s->root,
            .snap = s,
            .op = update ? DW_OP_UPDATE : DW_OP_DELETE,
            .operation = update ? "UPDATE" : "DELETE",
            .params = json_pack("{s:s}", "predicate", pred),
            .metrics = metrics,
            .actions = all,
            .custom = o->commit_metadata,
            .n_custom = o->n_commit_metadata,
            .user_metadata = o->user_metadata,
            .max_retries = o->max_commit_retries < 0 ? 10 : o->max_commit_retries,
        };
        rc = ca_delta__commit(&cm, res);
    } else if (rc) {
        res->reason = rc == CA_E_DUCKDB ? "execution_failed" : "write_failed";
    }
    json_decref(actions);
    ca__free(fc);
    ca_delta_snapshot_close(s);
    return rc;
}

int ca_delta_delete(ca_delta_ctx *ctx, struct ca_duck_conn *conn, const char *root, const ca_delta_dml_options *opts,
                    ca_delta_write_result *result)
{
    return dml(ctx, conn, root, opts, result, false);
}

int ca_delta_update(ca_delta_ctx *ctx, struct ca_duck_conn *conn, const char *root, const ca_delta_dml_options *opts,
                    ca_delta_write_result *result)
{
    return dml(ctx, conn, root, opts, result, true);
}

/* ---- table properties and constraints ------------------------------------------------------- */

static bool truthy(const char *v) { return v && strcasecmp(v, "true") == 0; }

/* The protocol after metaData configuration conf (never lowered). New reference. */
static json_t *protocol_for(const ca_delta_snapshot *s, json_t *conf)
{
    json_t *p = json_deep_copy(s->protocol);
    int writer = (int)json_integer_value(json_object_get(p, "minWriterVersion"));
    bool constraints = false;
    const char *k;
    json_t *v;
    json_object_foreach(conf, k, v) constraints |= strncmp(k, "delta.constraints.", 18) == 0;
    bool cdf = truthy(json_string_value(json_object_get(conf, "delta.enableChangeDataFeed")));
    bool ict = truthy(json_string_value(json_object_get(conf, "delta.enableInCommitTimestamps")));
    if (writer < 7 && !ict) {
        int need = cdf ? 4 : constraints ? 3 : writer;
        if (need > writer)
            json_object_set_new(p, "minWriterVersion", json_integer(need));
        return p;
    }
    if (writer < 7) {
        /* to (x,7): list every legacy feature the old version implied and is in use */
        json_t *wf = json_array();
        if (writer >= 2) {
            json_array_append_new(wf, json_string("appendOnly"));
            json_array_append_new(wf, json_string("invariants"));
        }
        if (writer >= 3 || constraints)
            json_array_append_new(wf, json_string("checkConstraints"));
        if (writer >= 4 || cdf)
            json_array_append_new(wf, json_string("changeDataFeed"));
        json_object_set_new(p, "minWriterVersion", json_integer(7));
        json_object_set_new(p, "writerFeatures", wf);
        if (json_integer_value(json_object_get(p, "minReaderVersion")) == 3 && !json_object_get(p, "readerFeatures"))
            json_object_set_new(p, "readerFeatures", json_array());
    }
    json_t *wf = json_object_get(p, "writerFeatures");
    const char *want[] = {constraints ? "checkConstraints" : NULL, cdf ? "changeDataFeed" : NULL,
                          ict ? "inCommitTimestamp" : NULL};
    for (size_t i = 0; i < 3; i++) {
        if (!want[i])
            continue;
        bool have = false;
        size_t j;
        json_t *f;
        json_array_foreach(wf, j, f) have |= json_string_value(f) && strcmp(json_string_value(f), want[i]) == 0;
        if (!have)
            json_array_append_new(wf, json_string(want[i]));
    }
    return p;
}

static int commit_metadata(ca_delta_ctx *ctx, ca_delta_snapshot *s, json_t *md, const char *operation, json_t *params,
                           ca_delta_write_result *res)
{
    json_t *proto = protocol_for(s, json_object_get(md, "configuration"));
    json_t *actions = json_array();
    if (!json_equal(proto, s->protocol))
        json_array_append_new(actions, json_pack("{s:O}", "protocol", proto));
    json_array_append_new(actions, json_pack("{s:O}", "metaData", md));
    json_decref(proto);
    dw_commit cm = {
        .ctx = ctx, .root = s->root, .snap = s, .op = DW_OP_RESTORE /* any concurrent change conflicts */,
        .operation = operation, .params = params, .metrics = json_object(), .actions = actions, .max_retries = 10,
    };
    return ca_delta__commit(&cm, res);
}

int ca_delta__check_property(const char *root, const char *key, const char *value);

int ca_delta_set_properties(ca_delta_ctx *ctx, const char *root, const ca_delta_kv *props, size_t n,
                            ca_delta_write_result *res)
{
    memset(res, 0, sizeof *res);
    res->version = -1;
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta__snapshot_open(ctx, root, NULL, &s);
    if (rc == CA_OK)
        rc = ca_delta__check_writable(s);
    json_t *md = rc == CA_OK ? json_deep_copy(s->metadata) : NULL;
    json_t *conf = md ? json_object_get(md, "configuration") : NULL;
    if (md && !conf) {
        conf = json_object();
        json_object_set_new(md, "configuration", conf);
    }
    json_t *shown = json_object();
    for (size_t i = 0; rc == CA_OK && i < n; i++) {
        if (!props[i].key) {
            rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: property without key", s->root);
            break;
        }
        if (props[i].value)
            rc = ca_delta__check_property(s->root, props[i].key, props[i].value);
        if (rc)
            break;
        if (props[i].value)
            json_object_set_new(conf, props[i].key, json_string(props[i].value));
        else
            json_object_del(conf, props[i].key);
        json_object_set_new(shown, props[i].key, props[i].value ? json_string(props[i].value) : json_null());
    }
    if (rc == CA_OK) {
        char *t = json_dumps(shown, JSON_COMPACT);
        rc = commit_metadata(ctx, s, md, "SET TBLPROPERTIES", json_pack("{s:s}", "properties", t ? t : "{}"), res);
        ca__free(t);
    }
    json_decref(shown);
    json_decref(md);
    ca_delta_snapshot_close(s);
    return rc;
}

int ca_delta_add_constraint(ca_delta_ctx *ctx, struct ca_duck_conn *conn_in, const char *root, const char *name,
                            const char *expr, ca_delta_write_result *res)
{
    memset(res, 0, sizeof *res);
    res->version = -1;
    if (!name || !*name || !expr || !*expr)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: a constraint needs a name and an expression", root);
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta__snapshot_open(ctx, root, NULL, &s);
    if (rc == CA_OK)
        rc = ca_delta__check_writable(s);
    char key[512];
    snprintf(key, sizeof key, "delta.constraints.%s", name);
    if (rc == CA_OK && ca_delta__prop(s, key))
        rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: constraint %s exists", s->root, name);
    ca_duck_conn *conn = NULL;
    bool owned = false;
    if (rc == CA_OK)
        rc = ca_delta__conn_get(ctx, conn_in, &conn, &owned);
    char *scan = NULL;
    if (rc == CA_OK && s->n_files)
        rc = ca_delta_scan_sql(s, NULL, &scan, NULL);
    if (rc == CA_OK && scan) {
        ca_buf q = CA_BUF_INIT;
        ca_buf_printf(&q, "SELECT count(*) FROM (%s) AS __s WHERE NOT coalesce((%s), false)", scan, expr);
        int64_t bad = 0;
        bool is_null = false;
        rc = ca_buf_status(&q) ? ca_buf_status(&q) : ca_duck_query_int64(conn, ca_buf_cstr(&q), &bad, &is_null);
        ca_buf_free(&q);
        if (rc == CA_OK && bad > 0)
            rc = ca_err_set(CA_E_DELTA_CONSTRAINT, DL_MOD, "delta: %s: constraint %s: %" PRId64 " existing rows violate %s",
                            s->root, name, bad, expr);
    }
    ca_free(scan);
    if (owned)
        ca_duck_disconnect(conn);
    if (rc == CA_OK) {
        json_t *md = json_deep_copy(s->metadata);
        json_t *conf = json_object_get(md, "configuration");
        if (!conf) {
            conf = json_object();
            json_object_set_new(md, "configuration", conf);
        }
        json_object_set_new(conf, key, json_string(expr));
        rc = commit_metadata(ctx, s, md, "ADD CONSTRAINT", json_pack("{s:s,s:s}", "name", name, "expr", expr), res);
        json_decref(md);
    }
    ca_delta_snapshot_close(s);
    return rc;
}
