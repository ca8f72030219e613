/* Maintenance (delta.md §16): checkpoint, compact, vacuum, cleanup_log, restore, maintain. */
#include "lib/delta/delta_write.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ca_delta_maint_report_clear(ca_delta_maint_report *r)
{
    if (!r)
        return;
    ca__free(r->message);
    for (size_t i = 0; i < r->n_paths; i++)
        ca__free(r->paths[i]);
    ca__free(r->paths);
    memset(r, 0, sizeof *r);
}

static const char *status_name(ca_delta_step_status s)
{
    return s == CA_DELTA_STEP_SUCCEEDED ? "succeeded" : s == CA_DELTA_STEP_FAILED ? "failed" : "skipped";
}

int ca_delta_maint_report_json(const ca_delta_maint_report *r, char **out)
{
    json_t *j = json_pack("{s:s,s:s}", "step", r->step ? r->step : "?", "status", status_name(r->status));
    if (r->status != CA_DELTA_STEP_SKIPPED && r->version_after >= 0)
        json_object_set_new(j, "delta_version", json_integer(r->version_after));
    json_t *m = json_object();
    const char *s = r->step ? r->step : "";
    if (!strcmp(s, "compact") || !strcmp(s, "restore")) {
        json_object_set_new(m, "files_removed", json_integer(r->files_removed));
        json_object_set_new(m, "files_added", json_integer(r->files_added));
        json_object_set_new(m, "bytes_removed", json_integer(r->bytes_removed));
        json_object_set_new(m, "bytes_added", json_integer(r->bytes_added));
        if (!strcmp(s, "compact")) {
            json_object_set_new(m, "partitions", json_integer(r->partitions));
            json_object_set_new(m, "bins", json_integer(r->bins));
            json_object_set_new(m, "rows", json_integer(r->rows));
        }
    } else if (!strcmp(s, "checkpoint")) {
        json_object_set_new(m, "written", json_boolean(r->written));
        json_object_set_new(m, "version", json_integer(r->checkpoint_version));
        json_object_set_new(m, "bytes", json_integer(r->checkpoint_bytes));
        json_object_set_new(m, "actions", json_integer(r->checkpoint_actions));
        json_object_set_new(m, "add_files", json_integer(r->checkpoint_add_files));
    } else if (!strcmp(s, "vacuum")) {
        json_object_set_new(m, "files_deleted", json_integer(r->files_deleted));
        json_object_set_new(m, "bytes_deleted", json_integer(r->bytes_deleted));
        json_object_set_new(m, "dry_run", json_boolean(r->dry_run));
        json_object_set_new(m, "files_scanned", json_integer(r->files_scanned));
        json_object_set_new(m, "files_too_recent", json_integer(r->files_too_recent));
        json_object_set_new(m, "dirs_deleted", json_integer(r->dirs_deleted));
        json_object_set_new(m, "retention_hours_requested", json_real(r->retention_hours_requested));
        json_object_set_new(m, "retention_hours_effective", json_real(r->retention_hours_effective));
    } else if (!strcmp(s, "cleanup_log")) {
        json_object_set_new(m, "log_files_deleted", json_integer(r->log_files_deleted));
        json_object_set_new(m, "checkpoints_deleted", json_integer(r->checkpoints_deleted));
        json_object_set_new(m, "crc_files_deleted", json_integer(r->crc_files_deleted));
        json_object_set_new(m, "temp_files_deleted", json_integer(r->temp_files_deleted));
        json_object_set_new(m, "cutoff_version", json_integer(r->cutoff_version));
        json_object_set_new(m, "cutoff_checkpoint", json_integer(r->cutoff_checkpoint));
    }
    if (r->status == CA_DELTA_STEP_SUCCEEDED)
        json_object_set_new(j, "metrics", m);
    else
        json_decref(m);
    if (r->reason)
        json_object_set_new(j, "reason", json_string(r->reason));
    if (r->message)
        json_object_set_new(j, "message", json_string(r->message));
    json_object_set_new(j, "duration_ms", json_real(r->duration_ms));
    *out = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(j);
    return *out ? CA_OK : ca_err_nomem(DL_MOD, "report");
}

static void start(ca_delta_maint_report *r, const char *step, ca_stopwatch *sw)
{
    memset(r, 0, sizeof *r);
    r->step = step;
    r->version_before = r->version_after = -1;
    ca_stopwatch_start(sw);
}

static int finish(ca_delta_maint_report *r, ca_stopwatch *sw, int rc)
{
    r->duration_ms = ca_stopwatch_elapsed_ms_f(sw);
    if (rc) {
        r->status = CA_DELTA_STEP_FAILED;
        r->error_code = rc;
        r->message = ca__strdup(ca_error_last()->message);
    }
    return rc;
}

/* ---- checkpoint ---------------------------------------------------------------------------- */

int ca_delta_checkpoint(ca_delta_ctx *ctx, const char *root, int64_t version, ca_delta_maint_report *r)
{
    ca_stopwatch sw;
    start(r, "checkpoint", &sw);
    ca_delta_at at = CA_DELTA_AT_INIT;
    if (version >= 0) {
        at.kind = CA_DELTA_AT_VERSION;
        at.table_version = version;
    }
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta__snapshot_open(ctx, root, &at, &s);
    if (rc == CA_OK) {
        r->version_before = r->version_after = r->checkpoint_version = s->version;
        rc = ca_delta__checkpoint_write(ctx, s, &r->written, &r->checkpoint_bytes, &r->checkpoint_actions,
                                        &r->checkpoint_add_files);
    }
    ca_delta_snapshot_close(s);
    return finish(r, &sw, rc);
}

/* ---- compact ------------------------------------------------------------------------------- */

static bool same_partition(const ca_delta_snapshot *s, const dl_file *a, const dl_file *b)
{
    for (size_t p = 0; p < s->n_part_cols; p++) {
        const char *x = ca_delta__part_value(s, a, p), *y = ca_delta__part_value(s, b, p);
        if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
            return false;
    }
    return true;
}

int ca_delta_compact(ca_delta_ctx *ctx, const char *root, const ca_delta_compact_options *o, ca_delta_maint_report *r)
{
    ca_stopwatch sw;
    start(r, "compact", &sw);
    ca_delta_compact_options def = CA_DELTA_COMPACT_OPTIONS_INIT;
    if (!o)
        o = &def;
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta__snapshot_open(ctx, root, NULL, &s);
    if (rc)
        return finish(r, &sw, rc);
    r->version_before = r->version_after = s->version;
    rc = ca_delta__check_writable(s);
    dw_copy c;
    ca_delta__copy_init(&c, ctx, s);
    c.data_change = false;
    if (o->target_file_size > 0)
        c.target_file_size = o->target_file_size;
    int64_t min_files = o->min_files > 0 ? o->min_files : 2;
    bool *done = ca__calloc(s->n_files + 1, sizeof *done);
    json_t *actions = json_array();
    ca_duck_conn *conn = NULL;
    if (rc == CA_OK)
        rc = ca_duck_connect(ctx->db, &conn);
    /* a partition filter leaves the other partitions alone */
    if (rc == CA_OK && o->partition_filter && done) {
        bool *in = ca__calloc(s->n_files + 1, sizeof *in);
        rc = in ? ca_delta__files_matching_partitions(conn, s, o->partition_filter, in) : ca_err_nomem(DL_MOD, "filter");
        for (size_t i = 0; rc == CA_OK && i < s->n_files; i++)
            done[i] = !in[i];
        ca__free(in);
    }
    char *scan = NULL; /* the scan path, for bins holding a file with a DV (applied on rewrite) */
    int64_t now = ca_time_wall_ms();
    for (size_t i = 0; rc == CA_OK && i < s->n_files; i++) {
        if (done[i])
            continue;
        /* the candidates of this file's partition: below target, without DV (DV files are kept) */
        size_t *cand = ca__calloc(s->n_files, sizeof *cand);
        size_t nc = 0;
        for (size_t k = i; k < s->n_files; k++) {
            if (done[k] || !same_partition(s, s->files[i], s->files[k]))
                continue;
            done[k] = true;
            if (s->files[k]->size < c.target_file_size || s->files[k]->dv.storage != 0)
                cand[nc++] = k;
        }
        bool has_dv = false;
        for (size_t k = 0; k < nc; k++)
            has_dv |= s->files[cand[k]]->dv.storage != 0;
        if ((int64_t)nc < min_files && !has_dv) {
            ca__free(cand);
            continue;
        }
        r->partitions++;
        /* greedy bins in path order, input <= target */
        size_t b0 = 0;
        while (rc == CA_OK && b0 < nc) {
            size_t b1 = b0;
            int64_t sum = 0;
            while (b1 < nc && (b1 == b0 || sum + s->files[cand[b1]]->size <= c.target_file_size))
                sum += s->files[cand[b1++]]->size;
            bool bin_dv = false;
            for (size_t k = b0; k < b1; k++)
                bin_dv |= s->files[cand[k]]->dv.storage != 0;
            if (b1 - b0 >= 2 || bin_dv) {
                ca_buf q = CA_BUF_INIT;
                ca_buf_puts(&q, "SELECT ");
                bool first = true;
                for (size_t f = 0; f < s->schema.n_fields; f++) {
                    bool part = false;
                    for (size_t p = 0; p < s->n_part_cols; p++)
                        part |= strcmp(s->part_cols[p], s->schema.fields[f].name) == 0;
                    if (part)
                        continue;
                    char *qn = ca_duck_quote_ident(s->schema.fields[f].name);
                    ca_buf tt = CA_BUF_INIT;
                    ca_delta__type_sql(s->schema.fields[f].type, false, &tt);
                    ca_buf_printf(&q, "%s%s", first ? "" : ", ", qn ? qn : "");
                    first = false;
                    ca_buf_free(&tt);
                    ca__free(qn);
                }
                for (size_t p = 0; p < s->n_part_cols; p++) {
                    const char *v = ca_delta__part_value(s, s->files[cand[b0]], p);
                    char *lit = v ? ca_duck_quote_literal(v) : NULL;
                    ca_buf_printf(&q, ", %s AS __pv%zu", lit ? lit : "NULL::VARCHAR", p);
                    ca__free(lit);
                }
                if (bin_dv && !scan) {
                    ca_delta_scan_options so = CA_DELTA_SCAN_OPTIONS_INIT;
                    so.lineage = true;
                    rc = ca_delta_scan_sql(s, &so, &scan, NULL);
                }
                if (bin_dv) {
                    /* deleted rows are dropped: through the scan, restricted to the bin */
                    ca_buf_printf(&q, " FROM (%s) AS __s WHERE __source_file IN (", scan ? scan : "SELECT 1");
                    for (size_t k = b0; k < b1; k++) {
                        char *lit = ca_duck_quote_literal(s->files[cand[k]]->cpath);
                        ca_buf_printf(&q, "%s%s", k > b0 ? ", " : "", lit ? lit : "''");
                        ca__free(lit);
                    }
                    ca_buf_putc(&q, ')');
                } else {
                    ca_buf_puts(&q, " FROM read_parquet([");
                    for (size_t k = b0; k < b1; k++) {
                        char *abs = ca_delta__abs_path(s->root, s->files[cand[k]]->cpath);
                        char *lit = abs ? ca_duck_quote_literal(abs) : NULL;
                        ca_buf_printf(&q, "%s%s", k > b0 ? ", " : "", lit ? lit : "''");
                        ca__free(lit);
                        ca__free(abs);
                    }
                    ca_buf_puts(&q, "], hive_partitioning = false, union_by_name = true)");
                }
                int64_t rows = 0, bytes = 0;
                if (rc == CA_OK)
                    rc = ca_buf_status(&q) ? ca_buf_status(&q)
                                       : ca_delta__copy_files(&c, conn, ca_buf_cstr(&q), actions, &rows, &bytes);
                ca_buf_free(&q);
                r->bins++;
                r->rows += rows;
                r->bytes_added += bytes;
                for (size_t k = b0; rc == CA_OK && k < b1; k++) {
                    json_array_append_new(actions, ca_delta__remove_of(s->files[cand[k]], now, false));
                    r->files_removed++;
                    r->bytes_removed += s->files[cand[k]]->size;
                }
            }
            b0 = b1;
        }
        ca__free(cand);
    }
    ca_free(scan);
    ca_duck_disconnect(conn);
    ca__free(done);
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) r->files_added += json_object_get(a, "add") != NULL;
    if (rc == CA_OK && r->bins > 0) {
        char m1[32], m2[32], t[32];
        snprintf(m1, sizeof m1, "%" PRId64, r->files_added);
        snprintf(m2, sizeof m2, "%" PRId64, r->files_removed);
        snprintf(t, sizeof t, "%" PRId64, c.target_file_size);
        ca_delta_write_result res;
        memset(&res, 0, sizeof res);
        dw_commit cm = {
            .ctx = ctx, .root = s->root, .snap = s, .op = DW_OP_COMPACT, .operation = "OPTIMIZE",
            .params = json_pack("{s:s,s:s}", "predicate", "[]", "targetSize", t),
            .metrics = json_pack("{s:s,s:s}", "numAddedFiles", m1, "numRemovedFiles", m2),
            .actions = actions, .max_retries = 10,
        };
        actions = NULL;
        rc = ca_delta__commit(&cm, &res);
        if (rc == CA_OK)
            r->version_after = res.version;
        ca_delta_write_result_clear(&res);
    }
    json_decref(actions);
    ca_delta_snapshot_close(s);
    return finish(r, &sw, rc);
}

/* ---- vacuum -------------------------------------------------------------------------------- */

typedef struct vac {
    const ca_fs *fs;
    ca_delta_snapshot *s;
    json_t *keep;      /* canonical path -> true: active files and tombstones too recent or undated */
    int64_t cutoff;
    bool dry_run;
    ca_delta_maint_report *r;
} vac;

static int add_path(ca_delta_maint_report *r, const char *p)
{
    char **n = ca__realloc(r->paths, (r->n_paths + 1) * sizeof *n);
    if (!n)
        return ca_err_nomem(DL_MOD, "paths");
    r->paths = n;
    n[r->n_paths] = ca__strdup(p);
    if (!n[r->n_paths])
        return ca_err_nomem(DL_MOD, "paths");
    r->n_paths++;
    return CA_OK;
}

static int vac_dir(vac *v, const char *rel, int depth, bool cdc, bool *empty)
{
    char *abs = *rel ? ca_delta__abs_path(v->s->root, rel) : ca__strdup(v->s->root);
    ca_fs_entry *e = NULL;
    size_t n = 0;
    int rc = abs ? ca_fs_list(v->fs, abs, &e, &n) : ca_err_nomem(DL_MOD, "path");
    size_t left = n;
    for (size_t i = 0; rc == CA_OK && i < n; i++) {
        const char *name = e[i].name;
        if (depth == 0 && (name[0] == '_' || name[0] == '.') && strcmp(name, "_change_data") != 0)
            continue;
        if (depth > 0 && name[0] == '.' && e[i].type == CA_FS_TYPE_DIR)
            continue;
        ca_buf b = CA_BUF_INIT;
        ca_buf_printf(&b, "%s%s%s", rel, *rel ? "/" : "", name);
        const char *p = ca_buf_cstr(&b);
        if (e[i].type == CA_FS_TYPE_DIR) {
            bool sub_empty = false;
            bool is_part = strchr(name, '=') != NULL || (depth == 0 && !strcmp(name, "_change_data")) || cdc;
            if (is_part || depth == 0) {
                rc = vac_dir(v, p, depth + 1, cdc || (depth == 0 && !strcmp(name, "_change_data")), &sub_empty);
                if (rc == CA_OK && sub_empty) {
                    char *d = ca_delta__abs_path(v->s->root, p);
                    if (!v->dry_run && d && ca_fs_rmdir(v->fs, d) == CA_OK) {
                        v->r->dirs_deleted++;
                        left--;
                    }
                    ca_error_clear();
                    ca__free(d);
                }
            }
        } else if (e[i].type == CA_FS_TYPE_FILE) {
            v->r->files_scanned++;
            bool needed = !cdc && json_object_get(v->keep, p) != NULL;
            if (!needed) {
                if (e[i].mtime_ms >= v->cutoff) {
                    v->r->files_too_recent++;
                } else {
                    rc = add_path(v->r, p);
                    if (rc == CA_OK && !v->dry_run) {
                        char *d = ca_delta__abs_path(v->s->root, p);
                        rc = d ? ca_fs_remove(v->fs, d) : ca_err_nomem(DL_MOD, "path");
                        if (rc == CA_E_NOT_FOUND) {
                            ca_error_clear();
                            rc = CA_OK;
                        }
                        ca__free(d);
                        left--;
                    }
                    v->r->files_deleted++;
                    v->r->bytes_deleted += (int64_t)e[i].size;
                }
            }
        }
        ca_buf_free(&b);
    }
    ca_fs_list_free(e, n);
    ca__free(abs);
    *empty = left == 0 && depth > 0;
    return rc;
}

/* Table-relative path of a file's relative ('u') deletion vector (§11), for the keep set; NULL
 * when it has none or it is not relative. */
static char *dv_rel_path(const dl_file *f)
{
    char *rel = NULL;
    if (f->dv.storage == 'u' && f->dv.path_or_inline && !ca_delta__dv_rel_path(f->dv.path_or_inline, &rel))
        return rel;
    return NULL;
}

static void keep_file(json_t *keep, const dl_file *f)
{
    json_object_set_new(keep, f->cpath, json_true());
    char *dv = dv_rel_path(f);
    if (dv)
        json_object_set_new(keep, dv, json_true());
    ca__free(dv);
}

int ca_delta_vacuum(ca_delta_ctx *ctx, const char *root, const ca_delta_vacuum_options *o, ca_delta_maint_report *r)
{
    ca_stopwatch sw;
    start(r, "vacuum", &sw);
    ca_delta_vacuum_options def = CA_DELTA_VACUUM_OPTIONS_INIT;
    if (!o)
        o = &def;
    r->dry_run = o->dry_run;
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta__snapshot_open(ctx, root, NULL, &s);
    if (rc)
        return finish(r, &sw, rc);
    r->version_before = r->version_after = s->version;
    rc = ca_delta__check_writable(s);
    double hours = 168;
    const char *prop = ca_delta__prop(s, "delta.deletedFileRetentionDuration");
    if (rc == CA_OK && prop)
        rc = ca_delta__interval_hours(prop, &hours);
    if (o->retention_hours >= 0)
        hours = o->retention_hours;
    r->retention_hours_requested = o->retention_hours >= 0 ? o->retention_hours : hours;
    r->retention_hours_effective = hours;
    if (rc == CA_OK && hours < 168 && !o->allow_short_retention)
        rc = ca_err_set(CA_E_INVALID, DL_MOD,
                        "delta: %s: vacuum: retention %.6g h is below 168 h; set allow_short_retention to proceed", s->root,
                        hours);
    vac v = {ctx->fs, s, json_object(), ca_time_wall_ms() - (int64_t)(hours * 3600000.0), o->dry_run, r};
    for (size_t i = 0; i < s->n_files; i++)
        keep_file(v.keep, s->files[i]);
    for (size_t i = 0; i < s->n_tombstones; i++) {
        json_t *ts = json_object_get(s->tombstones[i]->action, "deletionTimestamp");
        if (!json_is_integer(ts) || json_integer_value(ts) >= v.cutoff)
            keep_file(v.keep, s->tombstones[i]);
    }
    bool empty;
    if (rc == CA_OK)
        rc = vac_dir(&v, "", 0, false, &empty);
    json_decref(v.keep);
    ca_delta_snapshot_close(s);
    return finish(r, &sw, rc);
}

/* ---- cleanup_log --------------------------------------------------------------------------- */

int ca_delta_cleanup_log(ca_delta_ctx *ctx, const char *root, double retention_hours, ca_delta_maint_report *r)
{
    ca_stopwatch sw;
    start(r, "cleanup_log", &sw);
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta__snapshot_open(ctx, root, NULL, &s);
    if (rc)
        return finish(r, &sw, rc);
    r->version_before = r->version_after = s->version;
    r->cutoff_version = r->cutoff_checkpoint = -1;
    const char *en = ca_delta__prop(s, "delta.enableExpiredLogCleanup");
    if (en && strcasecmp(en, "false") == 0) {
        r->status = CA_DELTA_STEP_SKIPPED;
        r->reason = "disabled";
        ca_delta_snapshot_close(s);
        return finish(r, &sw, CA_OK);
    }
    double hours = 720;
    const char *prop = ca_delta__prop(s, "delta.logRetentionDuration");
    if (prop)
        rc = ca_delta__interval_hours(prop, &hours);
    if (retention_hours >= 0)
        hours = retention_hours;
    int64_t now = ca_time_wall_ms();
    int64_t cutoff = now - (int64_t)(hours * 3600000.0);
    cutoff -= ((cutoff % 86400000) + 86400000) % 86400000; /* midnight UTC */
    /* cutoff commit: newest with mtime <= cutoff */
    for (size_t i = 0; i < s->n_commits; i++)
        if (s->commits[i].present && s->commits[i].mtime_ms <= cutoff)
            r->cutoff_version = s->commits[i].version;
    ca_buf ld = CA_BUF_INIT;
    ca_buf_printf(&ld, "%s/_delta_log", s->root);
    ca_fs_entry *e = NULL;
    size_t n = 0;
    if (rc == CA_OK)
        rc = ca_fs_list(ctx->fs, ca_buf_cstr(&ld), &e, &n);
    for (size_t i = 0; rc == CA_OK && i < n; i++) {
        dl_name nm;
        ca_delta__classify(e[i].name, &nm);
        if (nm.kind == DL_NAME_CKPT_CLASSIC && nm.version <= r->cutoff_version && nm.version > r->cutoff_checkpoint)
            r->cutoff_checkpoint = nm.version;
    }
    for (size_t i = 0; rc == CA_OK && i < n; i++) {
        dl_name nm;
        ca_delta__classify(e[i].name, &nm);
        bool del = false;
        int64_t *counter = NULL;
        if (r->cutoff_checkpoint >= 0 && nm.version < r->cutoff_checkpoint) {
            if (nm.kind == DL_NAME_COMMIT)
                del = true, counter = &r->log_files_deleted;
            else if (nm.kind == DL_NAME_CKPT_CLASSIC || nm.kind == DL_NAME_CKPT_MULTI || nm.kind == DL_NAME_CKPT_UUID)
                del = true, counter = &r->checkpoints_deleted;
            else if (nm.kind == DL_NAME_CRC)
                del = true, counter = &r->crc_files_deleted;
        }
        if (nm.kind == DL_NAME_COMPACTION && r->cutoff_checkpoint >= 0 && nm.version <= r->cutoff_checkpoint)
            del = true, counter = &r->log_files_deleted;
        size_t l = strlen(e[i].name);
        if (e[i].name[0] == '.' && l > 4 && !strcmp(e[i].name + l - 4, ".tmp") && e[i].mtime_ms < now - 86400000)
            del = true, counter = &r->temp_files_deleted;
        if (!del)
            continue;
        char *p = ca_delta__abs_path(ca_buf_cstr(&ld), e[i].name);
        rc = p ? ca_fs_remove(ctx->fs, p) : ca_err_nomem(DL_MOD, "path");
        if (rc == CA_E_NOT_FOUND) {
            ca_error_clear();
            rc = CA_OK;
        }
        ca__free(p);
        if (rc == CA_OK)
            ++*counter;
    }
    ca_fs_list_free(e, n);
    ca_buf_free(&ld);
    ca_delta_snapshot_close(s);
    return finish(r, &sw, rc);
}

/* ---- restore ------------------------------------------------------------------------------- */

int ca_delta_restore(ca_delta_ctx *ctx, const char *root, const ca_delta_at *at, ca_delta_maint_report *r)
{
    ca_stopwatch sw;
    start(r, "restore", &sw);
    ca_delta_snapshot *cur = NULL, *old = NULL;
    int rc = ca_delta__snapshot_open(ctx, root, NULL, &cur);
    if (rc == CA_OK) {
        r->version_before = r->version_after = cur->version;
        rc = ca_delta__check_writable(cur);
    }
    if (rc == CA_OK)
        rc = ca_delta__snapshot_open(ctx, root, at, &old);
    json_t *actions = json_array();
    json_t *cur_set = json_object();
    int64_t now = ca_time_wall_ms();
    for (size_t i = 0; rc == CA_OK && i < cur->n_files; i++)
        json_object_set_new(cur_set, cur->files[i]->cpath, json_true());
    for (size_t i = 0; rc == CA_OK && i < old->n_files; i++) {
        dl_file *f = old->files[i];
        if (json_object_get(cur_set, f->cpath)) {
            json_object_set_new(cur_set, f->cpath, json_false()); /* in both */
            continue;
        }
        char *abs = ca_delta__abs_path(cur->root, f->cpath);
        ca_fs_stat st;
        rc = abs ? ca_fs_stat_path(ctx->fs, abs, &st) : ca_err_nomem(DL_MOD, "path");
        ca__free(abs);
        if (rc) {
            rc = ca_err_set(CA_E_DELTA_VERSION, DL_MOD, "delta: %s: restore: data file %s of version %" PRId64 " is gone",
                            cur->root, f->path, old->version);
            break;
        }
        json_t *a = json_deep_copy(f->action);
        json_object_set_new(a, "dataChange", json_true());
        json_array_append_new(actions, json_pack("{s:o}", "add", a));
        r->files_added++;
        r->bytes_added += f->size;
    }
    for (size_t i = 0; rc == CA_OK && i < cur->n_files; i++) {
        if (json_is_true(json_object_get(cur_set, cur->files[i]->cpath))) {
            json_array_append_new(actions, ca_delta__remove_of(cur->files[i], now, true));
            r->files_removed++;
            r->bytes_removed += cur->files[i]->size;
        }
    }
    json_decref(cur_set);
    if (rc == CA_OK && !json_equal(old->metadata, cur->metadata)) {
        json_t *pre = json_array();
        json_array_append_new(pre, json_pack("{s:O}", "metaData", old->metadata));
        json_array_extend(pre, actions);
        json_decref(actions);
        actions = pre;
    }
    if (rc == CA_OK) {
        char v[32];
        snprintf(v, sizeof v, "%" PRId64, old->version);
        ca_delta_write_result res;
        memset(&res, 0, sizeof res);
        dw_commit cm = {
            .ctx = ctx, .root = cur->root, .snap = cur, .op = DW_OP_RESTORE, .operation = "RESTORE",
            .params = json_pack("{s:s}", "version", v), .metrics = json_object(), .actions = actions,
            .max_retries = 10,
        };
        actions = NULL;
        rc = ca_delta__commit(&cm, &res);
        if (rc == CA_OK)
            r->version_after = res.version;
        ca_delta_write_result_clear(&res);
    }
    json_decref(actions);
    ca_delta_snapshot_close(old);
    ca_delta_snapshot_close(cur);
    return finish(r, &sw, rc);
}

/* ---- maintain ------------------------------------------------------------------------------ */

int ca_delta_maintain(ca_delta_ctx *ctx, const char *root, const ca_delta_maintain_options *o,
                      ca_delta_maint_report reports[4])
{
    ca_delta_maintain_options def = CA_DELTA_MAINTAIN_OPTIONS_INIT;
    if (!o)
        o = &def;
    static const char *const names[] = {"compact", "checkpoint", "vacuum", "cleanup_log"};
    bool enabled[] = {o->compact, o->checkpoint, o->vacuum, o->cleanup_log};
    int first = CA_OK;
    for (int i = 0; i < 4; i++) {
        if (!enabled[i] || first) {
            memset(&reports[i], 0, sizeof reports[i]);
            reports[i].step = names[i];
            reports[i].status = CA_DELTA_STEP_SKIPPED;
            reports[i].reason = first ? "previous_step_failed" : "disabled";
            reports[i].version_before = reports[i].version_after = -1;
            continue;
        }
        int rc;
        switch (i) {
        case 0: rc = ca_delta_compact(ctx, root, &o->compact_options, &reports[i]); break;
        case 1: rc = ca_delta_checkpoint(ctx, root, -1, &reports[i]); break;
        case 2: rc = ca_delta_vacuum(ctx, root, &o->vacuum_options, &reports[i]); break;
        default: rc = ca_delta_cleanup_log(ctx, root, o->log_retention_hours, &reports[i]); break;
        }
        if (rc)
            first = rc;
    }
    return first;
}
