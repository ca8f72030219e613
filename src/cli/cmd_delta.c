/* codeanatomy delta SUBCOMMAND TABLE [options]: Delta table writes, DML, inspection and
 * maintenance (issue 4 item 3; delta.md §12–§17). */
#include "cli/cli.h"

#include "codeanatomy/delta.h"
#include "codeanatomy/error.h"
#include "codeanatomy/session.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MOD "cli"

extern const cli_command cli_cmd_delta;

typedef struct dopts {
    bool json;
    const char *sql, *mode, *replace_where, *app_id, *where, *timestamp;
    int64_t app_version, version, limit, target_file_size, min_files;
    double retention_hours;
    bool allow_short, dry_run, has_version;
    const char *keys[64], *parts[64], *set_cols[64], *set_exprs[64];
    size_t n_keys, n_parts, n_set;
    ca_delta_kv md[64];
    size_t n_md;
} dopts;

enum {
    O_JSON = 'j', O_SQL = 's', O_MODE = 'm', O_KEY = 'k', O_PART = 'p', O_RW = 'r', O_MD = 'M', O_APPID = 'a',
    O_APPV = 'A', O_WHERE = 'w', O_SET = 'S', O_VERSION = 'v', O_TS = 't', O_LIMIT = 'l', O_TFS = 'T',
    O_MINF = 'f', O_RET = 'R', O_ALLOW = 'X', O_DRY = 'd',
};

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end)
        return false;
    *out = v;
    return true;
}

static int session_ctx(ca_session **s, ca_delta_ctx **ctx)
{
    ca_session_options so = CA_SESSION_OPTIONS_INIT;
    int rc = ca_session_open(&so, s);
    if (rc)
        return rc;
    *ctx = ca_session_delta(*s);
    return CA_OK;
}

static int out_str(const char *s)
{
    if (!cli_write(stdout, s, strlen(s)) || !cli_write(stdout, "\n", 1))
        return ca_err_set(CA_E_IO, MOD, "delta: writing output failed");
    return cli_flush_stdout("delta");
}

static int print_json(json_t *j)
{
    char *t = NULL;
    int rc = j ? ca_json_dump(j, JSON_COMPACT, &t) : ca_err_nomem(MOD, "json");
    if (rc == CA_OK)
        rc = out_str(t);
    ca__free(t);
    return rc;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *json_text_or_null(const char *s)
{
    json_t *j = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    return j ? j : json_null();
}

/* ---- subcommands ------------------------------------------------------------------------- */

static int do_write(ca_delta_ctx *ctx, const char *table, dopts *o)
{
    ca_delta_write_options w = CA_DELTA_WRITE_OPTIONS_INIT;
    w.sql = o->sql;
    if (!o->mode || strcmp(o->mode, "append") == 0)
        w.mode = CA_DELTA_WRITE_APPEND;
    else if (strcmp(o->mode, "overwrite") == 0)
        w.mode = CA_DELTA_WRITE_OVERWRITE;
    else
        w.mode = CA_DELTA_WRITE_MERGE;
    w.merge_keys = o->keys;
    w.n_merge_keys = o->n_keys;
    w.partition_by = o->parts;
    w.n_partition_by = o->n_parts;
    w.replace_where = o->replace_where;
    w.commit_metadata = o->md;
    w.n_commit_metadata = o->n_md;
    w.app_id = o->app_id;
    w.app_version = o->app_version;
    ca_delta_write_result r;
    int rc = ca_delta_write(ctx, NULL, table, &w, &r);
    int code = ca_error_last()->code;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ca_error_last()->message);
    char *oc = NULL;
    int r2 = CA_OK;
    if (o->json) {
        r2 = ca_delta_write_outcome_json(&r, rc, &oc);
        if (r2 == CA_OK)
            r2 = out_str(oc);
        ca_free(oc);
    } else if (rc == CA_OK) {
        ca_buf b = CA_BUF_INIT;
        if (r.skipped)
            ca_buf_printf(&b, "skipped: app transaction %s already at version >= %" PRId64, o->app_id, o->app_version);
        else if (r.version < 0)
            ca_buf_printf(&b, "nothing to commit (0 rows)");
        else
            ca_buf_printf(&b, "version %" PRId64 ": %" PRId64 " rows in %" PRId64 " files added (%" PRId64
                              " bytes), %" PRId64 " files removed",
                          r.version, r.rows_added, r.files_added, r.bytes_added, r.files_removed);
        r2 = ca_buf_status(&b) ? ca_buf_status(&b) : out_str(ca_buf_cstr(&b));
        ca_buf_free(&b);
    }
    for (size_t i = 0; i < r.n_warnings; i++)
        fprintf(stderr, "codeanatomy: warning: %s\n", r.warnings[i]);
    ca_delta_write_result_clear(&r);
    if (rc) {
        ca_err_set(code, "delta", "%s", msg);
        return rc;
    }
    return r2;
}

static int do_dml(ca_delta_ctx *ctx, const char *table, dopts *o, bool update)
{
    ca_delta_dml_options d = CA_DELTA_DML_OPTIONS_INIT;
    d.predicate = o->where;
    d.set_columns = o->set_cols;
    d.set_exprs = o->set_exprs;
    d.n_set = o->n_set;
    ca_delta_write_result r;
    int rc = update ? ca_delta_update(ctx, NULL, table, &d, &r) : ca_delta_delete(ctx, NULL, table, &d, &r);
    if (rc == CA_OK) {
        if (o->json) {
            json_t *j = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "delta_version", (json_int_t)r.version,
                                  update ? "rows_updated" : "rows_deleted",
                                  (json_int_t)(update ? r.rows_updated : r.rows_deleted), "rows_copied",
                                  (json_int_t)r.rows_copied, "files_added", (json_int_t)r.files_added, "files_removed",
                                  (json_int_t)r.files_removed, "bytes_added", (json_int_t)r.bytes_added, "bytes_removed",
                                  (json_int_t)r.bytes_removed);
            rc = print_json(j);
            json_decref(j);
        } else {
            ca_buf b = CA_BUF_INIT;
            if (r.version < 0)
                ca_buf_printf(&b, "no matching rows: nothing committed");
            else
                ca_buf_printf(&b, "version %" PRId64 ": %" PRId64 " rows %s, %" PRId64 " files rewritten", r.version,
                              update ? r.rows_updated : r.rows_deleted, update ? "updated" : "deleted", r.files_removed);
            rc = ca_buf_status(&b) ? ca_buf_status(&b) : out_str(ca_buf_cstr(&b));
            ca_buf_free(&b);
        }
    }
    ca_delta_write_result_clear(&r);
    return rc;
}

static json_t *str_array(char **l, size_t n)
{
    if (!l)
        return json_null();
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(l[i]));
    return a;
}

static int do_info(ca_delta_ctx *ctx, const char *table, dopts *o)
{
    ca_delta_at at = CA_DELTA_AT_INIT;
    if (o->has_version) {
        at.kind = CA_DELTA_AT_VERSION;
        at.table_version = o->version;
    } else if (o->timestamp) {
        at.kind = CA_DELTA_AT_TIMESTAMP;
        at.timestamp = o->timestamp;
    }
    ca_delta_snapshot *s = NULL;
    ca_delta_snapshot_info *i = NULL;
    int rc = ca_delta_table_open(ctx, table, &at, &s);
    if (rc == CA_OK)
        rc = ca_delta_snapshot_info_get(s, &i);
    if (rc == CA_OK) {
        json_t *conf = json_object();
        for (size_t k = 0; k < i->n_configuration; k++)
            json_object_set_new(conf, i->configuration_keys[k], json_string(i->configuration_values[k]));
        json_t *j = json_pack("{s:s,s:I,s:I,s:i,s:i,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:o}",
                              "root", i->root, "version", (json_int_t)i->version, "commit_timestamp_ms",
                              (json_int_t)i->commit_timestamp_ms, "min_reader_version", i->min_reader_version,
                              "min_writer_version", i->min_writer_version, "reader_features",
                              str_array(i->reader_features, i->n_reader_features), "writer_features",
                              str_array(i->writer_features, i->n_writer_features), "metadata_id", i->metadata_id,
                              "name", str_or_null(i->name), "description", str_or_null(i->description), "schema",
                              json_text_or_null(i->schema_json), "partition_columns",
                              str_array(i->partition_columns, i->n_partition_columns), "configuration", conf,
                              "created_time_ms", (json_int_t)i->created_time_ms, "files", (json_int_t)i->num_files,
                              "bytes", (json_int_t)i->num_bytes, "records", (json_int_t)i->num_records,
                              "checkpoint_version", (json_int_t)i->checkpoint_version, "warnings",
                              str_array(i->warnings, i->n_warnings));
        if (o->json) {
            rc = print_json(j);
        } else {
            ca_buf b = CA_BUF_INIT;
            ca_buf_printf(&b, "table      %s\nversion    %" PRId64 "\nprotocol   reader %d, writer %d\nfiles      %" PRId64
                              "\nbytes      %" PRId64 "\nrecords    %" PRId64 "\npartitions ",
                          i->root, i->version, i->min_reader_version, i->min_writer_version, i->num_files, i->num_bytes,
                          i->num_records);
            for (size_t k = 0; k < i->n_partition_columns; k++)
                ca_buf_printf(&b, "%s%s", k ? ", " : "", i->partition_columns[k]);
            ca_buf_printf(&b, "\nschema     %s", i->schema_json);
            rc = ca_buf_status(&b) ? ca_buf_status(&b) : out_str(ca_buf_cstr(&b));
            ca_buf_free(&b);
        }
        json_decref(j);
    }
    ca_delta_snapshot_info_free(i);
    ca_delta_snapshot_close(s);
    return rc;
}

static int do_history(ca_delta_ctx *ctx, const char *table, dopts *o)
{
    ca_delta_history_entry *h = NULL;
    size_t n = 0;
    int rc = ca_delta_history(ctx, table, o->limit, &h, &n);
    if (rc)
        return rc;
    json_t *a = json_array();
    ca_buf b = CA_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "version", (json_int_t)h[i].version, "timestamp_ms",
                              (json_int_t)h[i].timestamp_ms, "operation", str_or_null(h[i].operation),
                              "operation_parameters", json_text_or_null(h[i].operation_parameters_json),
                              "operation_metrics", json_text_or_null(h[i].operation_metrics_json), "user_metadata",
                              str_or_null(h[i].user_metadata), "custom", json_text_or_null(h[i].custom_json),
                              "engine_info", str_or_null(h[i].engine_info));
        json_object_set_new(e, "read_version", h[i].read_version >= 0 ? json_integer(h[i].read_version) : json_null());
        json_object_set_new(e, "is_blind_append", h[i].is_blind_append < 0 ? json_null() : json_boolean(h[i].is_blind_append));
        json_array_append_new(a, e);
        ca_buf_printf(&b, "%s%-8" PRId64 " %-16s %s", i ? "\n" : "", h[i].version, h[i].operation ? h[i].operation : "-",
                      h[i].operation_parameters_json ? h[i].operation_parameters_json : "");
    }
    rc = o->json ? print_json(a) : ca_buf_status(&b) ? ca_buf_status(&b) : n ? out_str(ca_buf_cstr(&b)) : CA_OK;
    ca_buf_free(&b);
    json_decref(a);
    ca_delta_history_free(h, n);
    return rc;
}

static int do_files(ca_delta_ctx *ctx, const char *table, dopts *o)
{
    ca_delta_snapshot *s = NULL;
    int rc = ca_delta_table_open(ctx, table, NULL, &s);
    ca_delta_add_action *a = NULL;
    size_t n = 0;
    if (rc == CA_OK)
        rc = ca_delta_add_actions(s, &a, &n);
    if (rc == CA_OK) {
        json_t *arr = json_array();
        ca_buf b = CA_BUF_INIT;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_pack("{s:s,s:I,s:I,s:b,s:o,s:o,s:I,s:o}", "path", a[i].path, "size", (json_int_t)a[i].size,
                                  "modification_time", (json_int_t)a[i].modification_time, "data_change",
                                  a[i].data_change, "partition_values", json_text_or_null(a[i].partition_values_json),
                                  "stats", json_text_or_null(a[i].stats_json), "num_records",
                                  (json_int_t)a[i].num_records, "deletion_vector",
                                  json_text_or_null(a[i].deletion_vector_json));
            json_array_append_new(arr, e);
            ca_buf_printf(&b, "%s%12" PRId64 " %10" PRId64 " %s", i ? "\n" : "", a[i].size, a[i].num_records, a[i].path);
        }
        rc = o->json ? print_json(arr) : ca_buf_status(&b) ? ca_buf_status(&b) : n ? out_str(ca_buf_cstr(&b)) : CA_OK;
        ca_buf_free(&b);
        json_decref(arr);
    }
    ca_delta_add_actions_free(a, n);
    ca_delta_snapshot_close(s);
    return rc;
}

static int print_reports(ca_delta_maint_report *r, size_t n, bool json)
{
    int rc = CA_OK;
    json_t *arr = json_array();
    for (size_t i = 0; i < n && rc == CA_OK; i++) {
        char *t = NULL;
        rc = ca_delta_maint_report_json(&r[i], &t);
        if (rc == CA_OK) {
            json_array_append_new(arr, json_text_or_null(t));
            if (!json) {
                const char *st = r[i].status == CA_DELTA_STEP_SUCCEEDED ? "succeeded"
                                 : r[i].status == CA_DELTA_STEP_FAILED  ? "failed"
                                                                        : "skipped";
                ca_buf b = CA_BUF_INIT;
                ca_buf_printf(&b, "%-12s %-9s version %" PRId64 " -> %" PRId64 "  %s", r[i].step, st,
                              r[i].version_before, r[i].version_after, t);
                rc = ca_buf_status(&b) ? ca_buf_status(&b) : out_str(ca_buf_cstr(&b));
                ca_buf_free(&b);
                for (size_t p = 0; rc == CA_OK && p < r[i].n_paths && r[i].dry_run; p++)
                    rc = out_str(r[i].paths[p]);
            }
        }
        ca_free(t);
    }
    if (rc == CA_OK && json)
        rc = print_json(n == 1 ? json_array_get(arr, 0) : arr);
    json_decref(arr);
    return rc;
}

static int do_maint(ca_delta_ctx *ctx, const char *sub, const char *table, dopts *o)
{
    ca_delta_maint_report r[4];
    memset(r, 0, sizeof r);
    int rc;
    size_t n = 1;
    if (!strcmp(sub, "checkpoint")) {
        rc = ca_delta_checkpoint(ctx, table, o->has_version ? o->version : -1, &r[0]);
    } else if (!strcmp(sub, "compact")) {
        ca_delta_compact_options c = CA_DELTA_COMPACT_OPTIONS_INIT;
        c.target_file_size = o->target_file_size;
        c.min_files = o->min_files;
        rc = ca_delta_compact(ctx, table, &c, &r[0]);
    } else if (!strcmp(sub, "vacuum")) {
        ca_delta_vacuum_options v = CA_DELTA_VACUUM_OPTIONS_INIT;
        v.retention_hours = o->retention_hours;
        v.allow_short_retention = o->allow_short;
        v.dry_run = o->dry_run;
        rc = ca_delta_vacuum(ctx, table, &v, &r[0]);
    } else if (!strcmp(sub, "cleanup-log")) {
        rc = ca_delta_cleanup_log(ctx, table, o->retention_hours, &r[0]);
    } else if (!strcmp(sub, "restore")) {
        ca_delta_at at = CA_DELTA_AT_INIT;
        if (o->has_version) {
            at.kind = CA_DELTA_AT_VERSION;
            at.table_version = o->version;
        } else {
            at.kind = CA_DELTA_AT_TIMESTAMP;
            at.timestamp = o->timestamp;
        }
        rc = ca_delta_restore(ctx, table, &at, &r[0]);
    } else {
        ca_delta_maintain_options m = CA_DELTA_MAINTAIN_OPTIONS_INIT;
        rc = ca_delta_maintain(ctx, table, &m, r);
        n = 4;
    }
    int code = ca_error_last()->code;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ca_error_last()->message);
    int r2 = rc == CA_OK || n == 4 ? print_reports(r, n, o->json) : CA_OK;
    for (size_t i = 0; i < 4; i++)
        ca_delta_maint_report_clear(&r[i]);
    if (rc) {
        ca_err_set(code, "delta", "%s", msg);
        return rc;
    }
    return r2;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static const char *const subs[] = {"write", "delete", "update", "info", "history", "files", "checkpoint",
                                   "compact", "vacuum", "maintain", "cleanup-log", "restore", NULL};

static int run_delta(const cli_command *cmd, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(cmd, "missing subcommand");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return cli_help(cmd);
    const char *sub = argv[1];
    bool known = false;
    for (size_t i = 0; subs[i]; i++)
        known |= strcmp(subs[i], sub) == 0;
    if (!known)
        return cli_usage_error(cmd, "unknown subcommand '%s'", sub);
    static const struct option longopts[] = {
        {"json", no_argument, NULL, O_JSON},
        {"sql", required_argument, NULL, O_SQL},
        {"mode", required_argument, NULL, O_MODE},
        {"key", required_argument, NULL, O_KEY},
        {"partition-by", required_argument, NULL, O_PART},
        {"replace-where", required_argument, NULL, O_RW},
        {"metadata", required_argument, NULL, O_MD},
        {"app-id", required_argument, NULL, O_APPID},
        {"app-version", required_argument, NULL, O_APPV},
        {"where", required_argument, NULL, O_WHERE},
        {"set", required_argument, NULL, O_SET},
        {"version", required_argument, NULL, O_VERSION},
        {"timestamp", required_argument, NULL, O_TS},
        {"limit", required_argument, NULL, O_LIMIT},
        {"target-file-size", required_argument, NULL, O_TFS},
        {"min-files", required_argument, NULL, O_MINF},
        {"retention-hours", required_argument, NULL, O_RET},
        {"allow-short-retention", no_argument, NULL, O_ALLOW},
        {"dry-run", no_argument, NULL, O_DRY},
        CLI_OPTION_HELP,
        {0, 0, 0, 0},
    };
    dopts o;
    memset(&o, 0, sizeof o);
    o.app_version = -1;
    o.retention_hours = -1;
    cli_parser p;
    cli_parser_init(&p, cmd, argc - 1, argv + 1, longopts);
    const char *arg;
    int c;
    while ((c = cli_parser_next(&p, &arg)) >= 0) {
        switch (c) {
        case O_JSON: o.json = true; break;
        case O_SQL: o.sql = arg; break;
        case O_MODE:
            if (strcmp(arg, "append") && strcmp(arg, "overwrite") && strcmp(arg, "merge"))
                return cli_usage_error(cmd, "--mode expects append, overwrite or merge, got '%s'", arg);
            o.mode = arg;
            break;
        case O_KEY:
        case O_PART:
            if ((c == O_KEY ? o.n_keys : o.n_parts) >= 64)
                return cli_usage_error(cmd, "too many columns");
            if (c == O_KEY)
                o.keys[o.n_keys++] = arg;
            else
                o.parts[o.n_parts++] = arg;
            break;
        case O_RW: o.replace_where = arg; break;
        case O_MD:
        case O_SET: {
            const char *eq = strchr(arg, '=');
            if (!eq || eq == arg)
                return cli_usage_error(cmd, "--%s expects K=V, got '%s'", c == O_MD ? "metadata" : "set", arg);
            if ((c == O_MD ? o.n_md : o.n_set) >= 64)
                return cli_usage_error(cmd, "too many --%s", c == O_MD ? "metadata" : "set");
            char *k = (char *)arg; /* argv strings are writable */
            k[eq - arg] = 0;
            if (c == O_MD)
                o.md[o.n_md++] = (ca_delta_kv){k, eq + 1};
            else {
                o.set_cols[o.n_set] = k;
                o.set_exprs[o.n_set++] = eq + 1;
            }
            break;
        }
        case O_APPID: o.app_id = arg; break;
        case O_APPV:
            if (!parse_i64(arg, &o.app_version) || o.app_version < 0)
                return cli_usage_error(cmd, "--app-version expects a non-negative integer, got '%s'", arg);
            break;
        case O_WHERE: o.where = arg; break;
        case O_VERSION:
            if (!parse_i64(arg, &o.version) || o.version < 0)
                return cli_usage_error(cmd, "--version expects a non-negative integer, got '%s'", arg);
            o.has_version = true;
            break;
        case O_TS: o.timestamp = arg; break;
        case O_LIMIT:
            if (!parse_i64(arg, &o.limit) || o.limit < 0)
                return cli_usage_error(cmd, "--limit expects a non-negative integer, got '%s'", arg);
            break;
        case O_TFS:
            if (!parse_i64(arg, &o.target_file_size) || o.target_file_size <= 0)
                return cli_usage_error(cmd, "--target-file-size expects a positive integer, got '%s'", arg);
            break;
        case O_MINF:
            if (!parse_i64(arg, &o.min_files) || o.min_files <= 0)
                return cli_usage_error(cmd, "--min-files expects a positive integer, got '%s'", arg);
            break;
        case O_RET: {
            char *end;
            o.retention_hours = strtod(arg, &end);
            if (!*arg || *end || o.retention_hours < 0)
                return cli_usage_error(cmd, "--retention-hours expects a non-negative number, got '%s'", arg);
            break;
        }
        case O_ALLOW: o.allow_short = true; break;
        case O_DRY: o.dry_run = true; break;
        default: return cli_usage_error(cmd, "unhandled option");
        }
    }
    if (c != CLI_OPT_END)
        return cli_parser_stop(&p, c);
    int nops;
    char **ops = cli_parser_operands(&p, &nops);
    if (nops < 1)
        return cli_usage_error(cmd, "%s: missing TABLE", sub);
    if (nops > 1)
        return cli_usage_error(cmd, "%s: unexpected argument '%s'", sub, ops[1]);
    const char *table = ops[0];
    bool is_write = !strcmp(sub, "write");
    if (is_write && !o.sql)
        return cli_usage_error(cmd, "write: missing --sql");
    if (!is_write && (o.sql || o.mode || o.n_keys || o.n_parts || o.replace_where || o.n_md || o.app_id))
        return cli_usage_error(cmd, "%s: write options given", sub);
    if (is_write && o.mode && !strcmp(o.mode, "merge") && !o.n_keys)
        return cli_usage_error(cmd, "write: --mode merge needs --key");
    if (is_write && o.n_keys && (!o.mode || strcmp(o.mode, "merge")))
        return cli_usage_error(cmd, "write: --key needs --mode merge");
    if (is_write && o.replace_where && (!o.mode || strcmp(o.mode, "overwrite")))
        return cli_usage_error(cmd, "write: --replace-where needs --mode overwrite");
    if ((o.app_id != NULL) != (o.app_version >= 0))
        return cli_usage_error(cmd, "write: --app-id and --app-version go together");
    if (!strcmp(sub, "delete") && !o.where)
        return cli_usage_error(cmd, "delete: missing --where");
    if (!strcmp(sub, "update") && (!o.where || !o.n_set))
        return cli_usage_error(cmd, "update: needs --set COL=EXPR and --where");
    if (!strcmp(sub, "restore") && !o.has_version && !o.timestamp)
        return cli_usage_error(cmd, "restore: missing --version or --timestamp");

    ca_session *s = NULL;
    ca_delta_ctx *ctx = NULL;
    int rc = session_ctx(&s, &ctx);
    if (rc == CA_OK) {
        if (is_write)
            rc = do_write(ctx, table, &o);
        else if (!strcmp(sub, "delete") || !strcmp(sub, "update"))
            rc = do_dml(ctx, table, &o, sub[0] == 'u');
        else if (!strcmp(sub, "info"))
            rc = do_info(ctx, table, &o);
        else if (!strcmp(sub, "history"))
            rc = do_history(ctx, table, &o);
        else if (!strcmp(sub, "files"))
            rc = do_files(ctx, table, &o);
        else
            rc = do_maint(ctx, sub, table, &o);
    }
    int code = rc;
    if (rc) {
        code = cli_fail(rc);
    }
    ca_session_close(s);
    return rc ? code : CLI_EXIT_OK;
}

const cli_command cli_cmd_delta = {
    .name = "delta",
    .summary = "write, change, inspect and maintain Delta tables",
    .synopsis = "delta SUBCOMMAND TABLE [OPTIONS]",
    .help = "Subcommands (each accepts --json for machine output):\n"
            "  write TABLE --sql SELECT [--mode append|overwrite|merge] [--key COL]... [--partition-by COL]...\n"
            "        [--replace-where PRED] [--metadata K=V]... [--app-id ID --app-version N]\n"
            "        append (default; creates the table when absent), overwrite or merge the query's rows;\n"
            "        --json prints the write_outcome\n"
            "  delete TABLE --where PRED                 delete matching rows\n"
            "  update TABLE --set COL=EXPR... --where PRED\n"
            "  info TABLE [--version N | --timestamp TS] snapshot: protocol, schema, files, bytes, records\n"
            "  history TABLE [--limit N]                 commits, newest first\n"
            "  files TABLE                               active data files with stats\n"
            "  checkpoint TABLE [--version N]            write a checkpoint\n"
            "  compact TABLE [--target-file-size BYTES] [--min-files N]\n"
            "  vacuum TABLE [--retention-hours H] [--allow-short-retention] [--dry-run]\n"
            "  maintain TABLE                            compact, checkpoint, vacuum, cleanup-log in order\n"
            "  cleanup-log TABLE [--retention-hours H]   delete expired log files\n"
            "  restore TABLE --version N | --timestamp TS\n",
    .run = run_delta,
};
