/* The commit protocol (delta.md §13): temp file + link_if_absent of _delta_log/<v>.json,
 * conflict detection against winners, retries with backoff, post-commit .crc and checkpoint. */
#include "lib/delta/delta_write.h"

#include "codeanatomy/version.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

json_t *ca_delta__txn_action(const char *app_id, int64_t version, int64_t now_ms)
{
    return json_pack("{s:{s:s,s:I,s:I}}", "txn", "appId", app_id, "version", (json_int_t)version, "lastUpdated",
                     (json_int_t)now_ms);
}

static const char *isolation_of(const dw_commit *c)
{
    if (c->op == DW_OP_COMPACT)
        return "SnapshotIsolation";
    const char *lvl = ca_delta__prop(c->snap, "delta.isolationLevel");
    return lvl && strcmp(lvl, "Serializable") == 0 ? "Serializable" : "WriteSerializable";
}

static bool ict_enabled(const dw_commit *c)
{
    const char *v = NULL;
    if (c->snap)
        v = ca_delta__prop(c->snap, "delta.enableInCommitTimestamps");
    size_t i;
    json_t *a;
    json_array_foreach(c->actions, i, a) {
        json_t *m = json_object_get(a, "metaData");
        if (m)
            v = json_string_value(json_object_get(json_object_get(m, "configuration"), "delta.enableInCommitTimestamps"));
    }
    return v && strcasecmp(v, "true") == 0;
}

/* The inCommitTimestamp of version v (-1 if none or unreadable). */
static int64_t ict_of(const ca_fs *fs, const char *root, int64_t v)
{
    char *p = ca_delta__log_path(root, v, "json");
    char *text = NULL;
    int64_t out = -1;
    if (p && ca_fs_read_file(fs, p, 0, &text, NULL) == CA_OK) {
        char *nl = strchr(text, '\n');
        if (nl)
            *nl = 0;
        json_t *j = json_loads(text, 0, NULL);
        json_t *t = json_object_get(json_object_get(j, "commitInfo"), "inCommitTimestamp");
        if (json_is_integer(t))
            out = json_integer_value(t);
        json_decref(j);
    } else {
        ca_error_clear();
    }
    ca__free(text);
    ca__free(p);
    return out;
}

static int build_text(dw_commit *c, int64_t version, ca_buf *b)
{
    int64_t now = ca_time_wall_ms();
    json_t *ci = json_object();
    json_object_set_new(ci, "timestamp", json_integer(now));
    if (ict_enabled(c)) {
        int64_t prev = version > 0 ? ict_of(c->ctx->fs, c->root, version - 1) : -1;
        json_object_set_new(ci, "inCommitTimestamp", json_integer(prev >= now ? prev + 1 : now));
    }
    json_object_set_new(ci, "operation", json_string(c->operation));
    json_object_set(ci, "operationParameters", c->params ? c->params : json_object());
    if (!c->params)
        json_decref(json_object_get(ci, "operationParameters"));
    if (c->metrics)
        json_object_set(ci, "operationMetrics", c->metrics);
    if (c->snap && c->op != DW_OP_CREATE)
        json_object_set_new(ci, "readVersion", json_integer(c->snap->version));
    json_object_set_new(ci, "isolationLevel", json_string(isolation_of(c)));
    json_object_set_new(ci, "isBlindAppend", json_boolean(c->blind_append));
    json_object_set_new(ci, "engineInfo", json_string("codeanatomy/" CA_VERSION_STRING));
    char id[37];
    ca_delta__uuid4(id);
    json_object_set_new(ci, "txnId", json_string(id));
    for (size_t i = 0; i < c->n_custom; i++)
        json_object_set_new(ci, c->custom[i].key, json_string(c->custom[i].value));
    if (c->user_metadata)
        json_object_set_new(ci, "userMetadata", json_string(c->user_metadata));
    json_t *line = json_pack("{s:o}", "commitInfo", ci);
    int rc = line ? ca_json_dump_buf(line, JSON_COMPACT, b) : ca_err_nomem(DL_MOD, "commitInfo");
    json_decref(line);
    ca_buf_putc(b, '\n');
    size_t i;
    json_t *a;
    json_array_foreach(rc == CA_OK ? c->actions : NULL, i, a) {
        rc = ca_json_dump_buf(a, JSON_COMPACT, b);
        ca_buf_putc(b, '\n');
        if (rc)
            break;
    }
    return rc ? rc : ca_buf_status(b);
}

/* Steps 2–4: temp file, link, unlink, fsync dir. CA_FS_EXISTS on a lost race. */
static int try_commit(dw_commit *c, int64_t version, const char *text, size_t len)
{
    const ca_fs *fs = c->ctx->fs;
    char *final = ca_delta__log_path(c->root, version, "json");
    char *tmp = NULL;
    int rc = final ? ca_fs_temp_path(final, &tmp) : ca_err_nomem(DL_MOD, "path");
    ca_fs_file *f = NULL;
    if (rc == CA_OK)
        rc = ca_fs_create_excl(fs, tmp, &f);
    if (rc == CA_OK)
        rc = ca_fs_write(fs, f, text, len);
    if (rc == CA_OK)
        rc = ca_fs_fsync(fs, f);
    if (f) {
        int r2 = ca_fs_close(fs, f);
        if (rc == CA_OK)
            rc = r2;
    }
    if (rc == CA_OK)
        rc = ca_fs_step(fs, "before_link");
    if (rc == CA_OK)
        rc = ca_fs_link_if_absent(fs, tmp, final);
    bool committed = rc == CA_OK;
    if (committed)
        ca_fs_step(fs, "after_link");
    if (f) {
        /* the temp name goes on every path; keep the error that matters */
        int code = ca_error_last()->code;
        char msg[1024], mod[32];
        snprintf(msg, sizeof msg, "%s", ca_error_last()->message);
        snprintf(mod, sizeof mod, "%s", ca_error_last()->module);
        ca_fs_remove(fs, tmp);
        if (rc)
            ca_err_set(code, mod, "%s", msg);
        else
            ca_error_clear();
    }
    if (rc && rc != CA_FS_EXISTS) {
        const ca_error *e = ca_error_last();
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", e->message);
        if (rc == CA_E_UNSUPPORTED) /* neither link(2) nor renameat2(RENAME_NOREPLACE) works here */
            rc = CA_E_DELTA_FS_UNSUPPORTED;
        rc = ca_err_set(rc, DL_MOD, "delta: %s: commit %020" PRId64 ".json: %s", c->root, version, msg);
    }
    ca__free(tmp);
    ca__free(final);
    return rc;
}

/* The newest commit version in the log (-1 if none). */
static int latest_version(const ca_fs *fs, const char *root, int64_t *out)
{
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/_delta_log", root);
    ca_fs_entry *e = NULL;
    size_t n = 0;
    int rc = ca_buf_status(&b) ? ca_buf_status(&b) : ca_fs_list(fs, ca_buf_cstr(&b), &e, &n);
    ca_buf_free(&b);
    *out = -1;
    for (size_t i = 0; rc == CA_OK && i < n; i++) {
        dl_name nm;
        ca_delta__classify(e[i].name, &nm);
        if (nm.kind == DL_NAME_COMMIT && nm.version > *out)
            *out = nm.version;
    }
    ca_fs_list_free(e, n);
    return rc;
}

static bool ours_removes(const dw_commit *c, const char *cpath)
{
    size_t i;
    json_t *a;
    json_array_foreach(c->actions, i, a) {
        json_t *r = json_object_get(a, "remove");
        const char *p = json_string_value(json_object_get(r, "path"));
        if (p) {
            char *cp = ca_delta__canonical_path(p);
            bool same = cp && strcmp(cp, cpath) == 0;
            ca__free(cp);
            if (same)
                return true;
        }
    }
    return false;
}

static bool ours_reads(const dw_commit *c, const char *cpath)
{
    if (c->op == DW_OP_COMPACT)
        return ours_removes(c, cpath);
    if (!c->snap)
        return false;
    for (size_t i = 0; i < c->snap->n_files; i++)
        if (strcmp(c->snap->files[i]->cpath, cpath) == 0)
            return true;
    return false;
}

/* Checks one winning commit against ours (the §13 matrix). CA_OK = rebase; *skip when the
 * winner applied our app transaction at an equal or newer version. */
static int check_winner(dw_commit *c, int64_t wv, int64_t ours_v, bool *skip)
{
    const ca_fs *fs = c->ctx->fs;
    char *p = ca_delta__log_path(c->root, wv, "json");
    char *text = NULL;
    size_t len = 0;
    int rc = p ? ca_fs_read_file(fs, p, 0, &text, &len) : ca_err_nomem(DL_MOD, "path");
    ca__free(p);
    if (rc)
        return rc;
    const char *winner_op = "unknown";
    char opbuf[64] = "";
    bool winner_blind = false;
    char why[1200] = "";
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !*why; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j)) {
            json_decref(j);
            continue;
        }
        json_t *ci = json_object_get(j, "commitInfo");
        if (ci) {
            const char *op = json_string_value(json_object_get(ci, "operation"));
            if (op) {
                snprintf(opbuf, sizeof opbuf, "%s", op);
                winner_op = opbuf;
            }
            winner_blind = json_is_true(json_object_get(ci, "isBlindAppend"));
        }
        if (json_object_get(j, "metaData") || json_object_get(j, "protocol")) {
            snprintf(why, sizeof why, "concurrent %s change", json_object_get(j, "metaData") ? "metadata" : "protocol");
        }
        json_t *t = json_object_get(j, "txn");
        if (t && c->app_id && json_string_value(json_object_get(t, "appId")) &&
            strcmp(json_string_value(json_object_get(t, "appId")), c->app_id) == 0) {
            if (json_integer_value(json_object_get(t, "version")) >= c->app_version)
                *skip = true;
            else
                snprintf(why, sizeof why, "concurrent transaction of app %s", c->app_id);
        }
        json_t *dm = json_object_get(j, "domainMetadata");
        (void)dm; /* we never write domainMetadata */
        json_t *rm = json_object_get(j, "remove");
        const char *rp = json_string_value(json_object_get(rm, "path"));
        if (rp && c->op != DW_OP_APPEND && c->op != DW_OP_CREATE) {
            char *cp = ca_delta__canonical_path(rp);
            if (cp && ours_removes(c, cp))
                snprintf(why, sizeof why, "conflicting concurrent remove of %s", rp);
            else if (cp && json_is_true(json_object_get(rm, "dataChange")) && ours_reads(c, cp))
                snprintf(why, sizeof why, "concurrent delete of %s, which this commit read", rp);
            else if (c->op == DW_OP_RESTORE)
                snprintf(why, sizeof why, "concurrent remove of %s during restore", rp);
            ca__free(cp);
        }
        json_t *ad = json_object_get(j, "add");
        if (ad && !*why) {
            const char *ap = json_string_value(json_object_get(ad, "path"));
            bool matters = false;
            switch (c->op) {
            case DW_OP_OVERWRITE:
            case DW_OP_DELETE:
            case DW_OP_UPDATE:
            case DW_OP_MERGE:
                /* whole-table or predicate reads: unknown ⇒ match */
                matters = json_is_true(json_object_get(ad, "dataChange")) &&
                          (!winner_blind || strcmp(isolation_of(c), "Serializable") == 0);
                break;
            case DW_OP_RESTORE: matters = true; break;
            default: break;
            }
            /* commitInfo comes first, so winner_blind is known here */
            if (matters)
                snprintf(why, sizeof why, "concurrent add of %s matching this commit's read", ap ? ap : "?");
        }
        json_decref(j);
    }
    ca__free(text);
    if (*why && !*skip)
        return ca_err_set(CA_E_DELTA_CONFLICT, DL_MOD, "delta: %s: commit %020" PRId64 ".json: %s (winner %s, version %" PRId64 ")",
                          c->root, ours_v, why, winner_op, wv);
    return CA_OK;
}

static void backoff(int attempt)
{
    char id[37];
    ca_delta__uuid4(id);
    long base = 1L << (attempt < 7 ? attempt : 7); /* ms */
    long jitter = (long)(strtoul(id + 24, NULL, 16) % (unsigned long)(base * 1000 + 1));
    struct timespec ts = {0, (base * 1000 + jitter) * 1000};
    while (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    nanosleep(&ts, NULL);
}

/* A create lost to an existing table: continue as a blind append if it is the same table shape. */
static int become_append(dw_commit *c, ca_delta_snapshot **reloaded)
{
    int rc = ca_delta__snapshot_open(c->ctx, c->root, NULL, reloaded);
    if (rc)
        return rc;
    json_t *ours_md = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(c->actions, i, a) {
        if (json_object_get(a, "metaData"))
            ours_md = json_object_get(a, "metaData");
    }
    json_t *theirs = (*reloaded)->metadata;
    if (!ours_md ||
        !json_equal(json_object_get(ours_md, "schemaString"), json_object_get(theirs, "schemaString")) ||
        !json_equal(json_object_get(ours_md, "partitionColumns"), json_object_get(theirs, "partitionColumns")))
        return ca_err_set(CA_E_DELTA_CONFLICT, DL_MOD,
                          "delta: %s: commit 00000000000000000000.json: the table was created concurrently with another schema",
                          c->root);
    json_t *rest = json_array();
    json_array_foreach(c->actions, i, a) {
        if (!json_object_get(a, "metaData") && !json_object_get(a, "protocol"))
            json_array_append(rest, a);
    }
    json_decref(c->actions);
    c->actions = rest;
    c->op = DW_OP_APPEND;
    c->operation = "WRITE";
    c->blind_append = true;
    c->snap = *reloaded;
    json_object_set_new(c->params, "mode", json_string("Append"));
    return ca_delta__check_writable(*reloaded);
}

int ca_delta__commit(dw_commit *c, ca_delta_write_result *res)
{
    const ca_fs *fs = c->ctx->fs;
    ca_trace_span sp;
    ca_trace_begin(c->ctx->trace, &sp, "delta", "delta.commit");
    ca_trace_arg_str(&sp, "root", c->root);
    int rc = CA_OK;
    char *logdir = NULL;
    ca_buf ld = CA_BUF_INIT;
    ca_buf_printf(&ld, "%s/_delta_log", c->root);
    logdir = ca_buf_detach(&ld, NULL);
    if (!logdir)
        rc = ca_err_nomem(DL_MOD, "log dir");
    if (rc == CA_OK && !c->snap)
        rc = ca_fs_mkdirs(fs, logdir);
    int64_t v = c->snap ? c->snap->version + 1 : 0;
    ca_delta_snapshot *reloaded = NULL;
    int attempt = 0;
    ca_buf text = CA_BUF_INIT;
    while (rc == CA_OK) {
        ca_buf_clear(&text);
        rc = build_text(c, v, &text);
        if (rc)
            break;
        rc = try_commit(c, v, text.data, text.len);
        if (rc == CA_OK) {
            /* step 4: make the link durable */
            rc = ca_fs_fsync_dir(fs, logdir);
            break;
        }
        if (rc != CA_FS_EXISTS)
            break;
        ca_error_clear();
        rc = CA_OK;
        if (v == 0 && c->op == DW_OP_CREATE) {
            if (!c->create_if_missing) {
                rc = ca_err_set(CA_E_DELTA_TABLE_EXISTS, DL_MOD, "delta: %s: commit 00000000000000000000.json: the table was created concurrently",
                                c->root);
                break;
            }
            rc = become_append(c, &reloaded);
            if (rc)
                break;
            v = reloaded->version + 1;
            bool skip = false;
            if (c->app_id) {
                json_t *t = json_object_get(reloaded->txns, c->app_id);
                skip = t && json_integer_value(json_object_get(t, "version")) >= c->app_version;
            }
            if (skip) {
                res->skipped = true;
                break;
            }
            continue;
        }
        if (++attempt > c->max_retries) {
            rc = ca_err_set(CA_E_DELTA_RETRIES, DL_MOD, "delta: %s: commit %020" PRId64 ".json: lost %d commit races (max_commit_retries %d)",
                            c->root, v, attempt, c->max_retries);
            break;
        }
        int64_t latest;
        rc = latest_version(fs, c->root, &latest);
        bool skip = false;
        for (int64_t w = v; rc == CA_OK && w <= latest && !skip; w++)
            rc = check_winner(c, w, v, &skip);
        if (rc)
            break;
        if (skip) {
            res->skipped = true;
            break;
        }
        res->retries = attempt;
        v = latest + 1;
        backoff(attempt);
    }
    ca_buf_free(&text);
    ca_trace_arg_int(&sp, "version", rc == CA_OK && !res->skipped ? v : -1);
    ca_trace_end(&sp);
    if (rc) {
        res->reason = rc == CA_E_DELTA_CONFLICT || rc == CA_E_DELTA_RETRIES ? "commit_conflict" : "commit_failed";
    } else if (!res->skipped) {
        res->version = v;
        /* step 5: .crc and checkpoint; failures are warnings */
        ca_delta_at at = CA_DELTA_AT_INIT;
        at.kind = CA_DELTA_AT_VERSION;
        at.table_version = v;
        ca_delta_snapshot *s = NULL;
        int r2 = ca_delta__snapshot_open(c->ctx, c->root, &at, &s);
        if (r2 == CA_OK)
            r2 = ca_delta__crc_write(c->ctx, s);
        if (r2 && r2 != CA_FS_EXISTS)
            ca_delta__result_warn(res, "crc_failed: %s", ca_error_last()->message);
        const char *iv = s ? ca_delta__prop(s, "delta.checkpointInterval") : NULL;
        int64_t interval = iv ? strtoll(iv, NULL, 10) : 10;
        if (s && interval > 0 && v > 0 && v % interval == 0) {
            bool written = false;
            int64_t b, a, n;
            r2 = ca_delta__checkpoint_write(c->ctx, s, &written, &b, &a, &n);
            if (r2)
                ca_delta__result_warn(res, "checkpoint_failed: %s", ca_error_last()->message);
            res->checkpoint_written = written;
        }
        ca_delta_snapshot_close(s);
        ca_error_clear();
    }
    ca_delta_snapshot_close(reloaded);
    json_decref(c->actions);
    json_decref(c->params);
    json_decref(c->metrics);
    c->actions = c->params = c->metrics = NULL;
    ca__free(logdir);
    return rc;
}
