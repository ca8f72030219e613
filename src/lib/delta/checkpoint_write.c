/* Classic single-file checkpoints, _last_checkpoint and <v>.crc (delta.md §13 step 5, §14). */
#include "lib/delta/delta_write.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DV_T "STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, sizeInBytes INTEGER, cardinality BIGINT)"

static const char ckpt_columns[] =
    "{'txn': 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)', "
    "'add': 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, "
    "dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR), deletionVector " DV_T ", baseRowId BIGINT, "
    "defaultRowCommitVersion BIGINT, clusteringProvider VARCHAR)', "
    "'remove': 'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, "
    "partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, deletionVector " DV_T ", baseRowId BIGINT, "
    "defaultRowCommitVersion BIGINT)', "
    "'metaData': 'STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options "
    "MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), "
    "createdTime BIGINT)', "
    "'protocol': 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], "
    "writerFeatures VARCHAR[])', "
    "'domainMetadata': 'STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)'}";

static json_t *pick(json_t *src, const char *const *keys)
{
    json_t *o = json_object();
    for (; *keys; keys++) {
        json_t *v = json_object_get(src, *keys);
        if (v && !json_is_null(v))
            json_object_set(o, *keys, v);
    }
    return o;
}

static int put_line(ca_buf *b, const char *kind, json_t *v)
{
    json_t *l = json_pack("{s:o}", kind, v);
    int rc = l ? ca_json_dump_buf(l, JSON_COMPACT, b) : ca_err_nomem(DL_MOD, "checkpoint row");
    json_decref(l);
    ca_buf_putc(b, '\n');
    return rc;
}

static int state_ndjson(ca_delta_snapshot *s, ca_buf *b, int64_t *rows, int64_t *adds)
{
    static const char *const add_keys[] = {"path", "partitionValues", "size", "modificationTime", "dataChange",
                                           "stats", "tags", "deletionVector", "baseRowId", "defaultRowCommitVersion",
                                           "clusteringProvider", NULL};
    static const char *const rm_keys[] = {"path", "deletionTimestamp", "dataChange", "extendedFileMetadata",
                                          "partitionValues", "size", "deletionVector", "baseRowId",
                                          "defaultRowCommitVersion", NULL};
    static const char *const md_keys[] = {"id", "name", "description", "format", "schemaString", "partitionColumns",
                                          "configuration", "createdTime", NULL};
    static const char *const pr_keys[] = {"minReaderVersion", "minWriterVersion", "readerFeatures", "writerFeatures", NULL};
    int rc = put_line(b, "protocol", pick(s->protocol, pr_keys));
    *rows = 1;
    if (rc == CA_OK)
        rc = put_line(b, "metaData", pick(s->metadata, md_keys)), ++*rows;
    const char *k;
    json_t *v;
    json_object_foreach(s->txns, k, v) {
        if (rc == CA_OK)
            rc = put_line(b, "txn", json_incref(v)), ++*rows;
    }
    json_object_foreach(s->domains, k, v) {
        if (rc == CA_OK && !json_is_true(json_object_get(v, "removed")))
            rc = put_line(b, "domainMetadata", json_incref(v)), ++*rows;
    }
    const char *json_stats = ca_delta__prop(s, "delta.checkpoint.writeStatsAsJson");
    bool with_stats = !json_stats || strcmp(json_stats, "false") != 0;
    for (size_t i = 0; rc == CA_OK && i < s->n_files; i++) {
        dl_file *f = s->files[i];
        json_t *a = pick(f->action, add_keys);
        if (!json_object_get(a, "partitionValues"))
            json_object_set_new(a, "partitionValues", json_object());
        json_object_del(a, "stats");
        if (with_stats && f->stats)
            json_object_set_new(a, "stats", json_string(f->stats));
        rc = put_line(b, "add", a);
        ++*rows;
    }
    *adds = (int64_t)s->n_files;
    double hours = 168;
    const char *ret = ca_delta__prop(s, "delta.deletedFileRetentionDuration");
    if (ret && ca_delta__interval_hours(ret, &hours) != CA_OK) {
        ca_error_clear();
        hours = 168;
    }
    int64_t cutoff = ca_time_wall_ms() - (int64_t)(hours * 3600000.0);
    for (size_t i = 0; rc == CA_OK && i < s->n_tombstones; i++) {
        dl_file *f = s->tombstones[i];
        json_t *ts = json_object_get(f->action, "deletionTimestamp");
        if (json_is_integer(ts) && json_integer_value(ts) < cutoff)
            continue;
        rc = put_line(b, "remove", pick(f->action, rm_keys));
        ++*rows;
    }
    return rc ? rc : ca_buf_status(b);
}

static int exec_module(ca_delta_ctx *ctx, const char *sql)
{
    pthread_mutex_lock(&ctx->conn_lock);
    int rc = ca_duck_exec(ctx->conn, sql);
    pthread_mutex_unlock(&ctx->conn_lock);
    return rc;
}

static int write_last_checkpoint(ca_delta_ctx *ctx, const char *root, int64_t v, int64_t rows, int64_t bytes,
                                 int64_t adds)
{
    ca_buf p = CA_BUF_INIT;
    ca_buf_printf(&p, "%s/_delta_log/_last_checkpoint", root);
    /* never move _last_checkpoint backwards */
    char *old = NULL;
    if (ca_fs_read_file(ctx->fs, ca_buf_cstr(&p), 1 << 20, &old, NULL) == CA_OK) {
        json_t *j = json_loads(old, 0, NULL);
        int64_t ov = json_integer_value(json_object_get(j, "version"));
        json_decref(j);
        ca__free(old);
        if (ov > v) {
            ca_buf_free(&p);
            return CA_OK;
        }
    }
    ca_error_clear();
    ca_buf t = CA_BUF_INIT;
    ca_buf_printf(&t, "{\"version\":%" PRId64 ",\"size\":%" PRId64 ",\"sizeInBytes\":%" PRId64 ",\"numOfAddFiles\":%" PRId64 "}",
                  v, rows, bytes, adds);
    char sum[33];
    int rc = ca_buf_status(&t) ? ca_buf_status(&t) : ca_delta__json_checksum(t.data, t.len, sum);
    if (rc == CA_OK) {
        t.len--; /* drop '}' */
        ca_buf_printf(&t, ",\"checksum\":\"%s\"}", sum);
        rc = ca_buf_status(&t) ? ca_buf_status(&t) : ca_fs_write_replace(ctx->fs, ca_buf_cstr(&p), t.data, t.len);
    }
    ca_buf_free(&t);
    ca_buf_free(&p);
    return rc;
}

int ca_delta__checkpoint_write(ca_delta_ctx *ctx, ca_delta_snapshot *s, bool *written, int64_t *bytes,
                               int64_t *actions, int64_t *adds)
{
    const ca_fs *fs = ctx->fs;
    *written = false;
    *bytes = *actions = *adds = 0;
    char *final = ca_delta__log_path(s->root, s->version, "checkpoint.parquet");
    if (!final)
        return ca_err_nomem(DL_MOD, "path");
    ca_fs_stat st;
    if (ca_fs_stat_path(fs, final, &st) == CA_OK) {
        *bytes = (int64_t)st.size;
        ca__free(final);
        return CA_OK; /* re-checkpointing a version is a no-op */
    }
    ca_error_clear();
    ca_trace_span sp;
    ca_trace_begin(ctx->trace, &sp, "delta", "delta.checkpoint");
    ca_trace_arg_int(&sp, "version", s->version);
    ca_buf nd = CA_BUF_INIT;
    int rc = state_ndjson(s, &nd, actions, adds);
    char *nd_base = ca_delta__log_path(s->root, s->version, "checkpoint.ndjson");
    char *nd_tmp = NULL, *pq_tmp = NULL;
    if (rc == CA_OK)
        rc = nd_base ? ca_fs_temp_path(nd_base, &nd_tmp) : ca_err_nomem(DL_MOD, "path");
    if (rc == CA_OK)
        rc = ca_fs_temp_path(final, &pq_tmp);
    ca_fs_file *f = NULL;
    if (rc == CA_OK)
        rc = ca_fs_create_excl(fs, nd_tmp, &f);
    if (rc == CA_OK)
        rc = ca_fs_write(fs, f, nd.data, nd.len);
    if (f) {
        int r2 = ca_fs_close(fs, f);
        if (rc == CA_OK)
            rc = r2;
    }
    ca_buf_free(&nd);
    const char *codec_prop = ca_delta__prop(s, "delta.parquet.compression.codec");
    const char *codec = codec_prop && (!strcmp(codec_prop, "snappy") || !strcmp(codec_prop, "gzip")) ? codec_prop : "zstd";
    if (rc == CA_OK) {
        char *a = ca_duck_quote_literal(nd_tmp), *b = ca_duck_quote_literal(pq_tmp);
        ca_buf q = CA_BUF_INIT;
        ca_buf_printf(&q, "COPY (SELECT txn, add, remove, metaData, protocol, domainMetadata FROM read_json(%s, format = "
                          "'newline_delimited', columns = %s)) TO %s (FORMAT parquet, COMPRESSION %s, USE_TMP_FILE false)",
                      a ? a : "''", ckpt_columns, b ? b : "''", codec);
        rc = ca_buf_status(&q) ? ca_buf_status(&q) : exec_module(ctx, ca_buf_cstr(&q));
        ca_buf_free(&q);
        ca__free(a);
        ca__free(b);
        if (rc)
            rc = ca_err_set(rc, DL_MOD, "delta: %s: checkpoint %020" PRId64 ": %s", s->root, s->version,
                            ca_error_last()->message);
    }
    if (nd_tmp && f)
        ca_fs_remove(fs, nd_tmp);
    if (rc == CA_OK)
        rc = ca_fs_fsync_path(fs, pq_tmp);
    if (rc == CA_OK)
        rc = ca_fs_step(fs, "after_ckpt_copy");
    if (rc == CA_OK)
        rc = ca_fs_stat_path(fs, pq_tmp, &st);
    if (rc == CA_OK)
        rc = ca_fs_rename_replace(fs, pq_tmp, final);
    else if (pq_tmp)
        ca_fs_remove(fs, pq_tmp), ca_error_last();
    if (rc == CA_OK) {
        char *dir = ca__strdup(final);
        char *sl = dir ? strrchr(dir, '/') : NULL;
        if (sl)
            *sl = 0;
        rc = dir ? ca_fs_fsync_dir(fs, dir) : ca_err_nomem(DL_MOD, "dir");
        ca__free(dir);
    }
    if (rc == CA_OK) {
        *bytes = (int64_t)st.size;
        *written = true;
        rc = ca_fs_step(fs, "after_ckpt_rename");
    }
    if (rc == CA_OK)
        rc = write_last_checkpoint(ctx, s->root, s->version, *actions, *bytes, *adds);
    ca_trace_end(&sp);
    ca__free(nd_base);
    ca__free(nd_tmp);
    ca__free(pq_tmp);
    ca__free(final);
    return rc;
}

int ca_delta__crc_write(ca_delta_ctx *ctx, ca_delta_snapshot *s)
{
    int64_t bytes = 0, dvs = 0;
    for (size_t i = 0; i < s->n_files; i++) {
        bytes += s->files[i]->size > 0 ? s->files[i]->size : 0;
        dvs += s->files[i]->dv.storage != 0;
    }
    json_t *txns = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(s->txns, k, v) json_array_append(txns, v);
    json_t *j = json_pack("{s:I,s:I,s:i,s:i,s:O,s:O,s:o,s:I}", "tableSizeBytes", (json_int_t)bytes, "numFiles",
                          (json_int_t)s->n_files, "numMetadata", 1, "numProtocol", 1, "metadata", s->metadata,
                          "protocol", s->protocol, "setTransactions", txns, "numDeletionVectorsOpt", (json_int_t)dvs);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char *p = ca_delta__log_path(s->root, s->version, "crc");
    int rc = text && p ? ca_fs_write_if_absent(ctx->fs, p, text, strlen(text)) : ca_err_nomem(DL_MOD, "crc");
    ca__free(text);
    ca__free(p);
    return rc;
}
