/*
 * Scans (delta.md §10): the scan SQL over read_parquet and the per-context registry that maps a
 * scan token (canonical JSON of root, version, filter, lineage) to its files, partition strings
 * and lazily decoded deletion vectors.
 */
#include "lib/delta/delta_int.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REG_MAX 256

struct dl_reg_entry {
    dl_reg_entry *prev, *next;
    int refs;
    char *token;
    ca_delta_ctx *ctx;
    ca_delta_snapshot *snap;
    size_t n_files, n_parts;
    char **abs;        /* absolute paths */
    char **parts;      /* n_files * n_parts normalized strings (NULL = SQL NULL) */
    dl_file **files;   /* borrowed from snap */
    dl_bitmap **dv;    /* lazily decoded */
    int *dv_state;     /* 0 not loaded, 1 loaded, <0 error code */
    char **dv_error;
    pthread_mutex_t dv_lock;
    int64_t files_total, conjuncts_used, bad_stats; /* for the scan report */
    /* change data feed entries (cdf.c) own their files and carry per-file commit data */
    bool is_cdf;
    const char **change_type; /* "insert" / "delete", or NULL: the cdc file's own column */
    int64_t *commit_version, *commit_ts;
};

static void entry_free(dl_reg_entry *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_files; i++) {
        ca__free(e->abs ? e->abs[i] : NULL);
        if (e->dv)
            ca_delta__dv_free(e->dv[i]);
        if (e->dv_error)
            ca__free(e->dv_error[i]);
        for (size_t p = 0; e->parts && p < e->n_parts; p++)
            ca__free(e->parts[i * e->n_parts + p]);
    }
    if (e->is_cdf)
        for (size_t i = 0; i < e->n_files; i++)
            ca_delta__file_free(e->files[i]);
    ca__free(e->change_type);
    ca__free(e->commit_version);
    ca__free(e->commit_ts);
    ca__free(e->abs);
    ca__free(e->parts);
    ca__free(e->files);
    ca__free(e->dv);
    ca__free(e->dv_state);
    ca__free(e->dv_error);
    ca__free(e->token);
    ca_delta_snapshot_close(e->snap);
    pthread_mutex_destroy(&e->dv_lock);
    ca__free(e);
}

void ca_delta__reg_release(dl_reg_entry *e)
{
    if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0)
        entry_free(e);
}

size_t ca_delta__reg_n_files(const dl_reg_entry *e) { return e->n_files; }
size_t ca_delta__reg_n_parts(const dl_reg_entry *e) { return e->n_parts; }
const char *ca_delta__reg_abs_path(const dl_reg_entry *e, size_t i) { return e->abs[i]; }
const char *ca_delta__reg_rel_path(const dl_reg_entry *e, size_t i) { return e->files[i]->cpath; }
bool ca_delta__reg_is_cdf(const dl_reg_entry *e) { return e->is_cdf; }
const char *ca_delta__reg_change_type(const dl_reg_entry *e, size_t i) { return e->change_type[i]; }
int64_t ca_delta__reg_commit_version(const dl_reg_entry *e, size_t i) { return e->commit_version[i]; }
int64_t ca_delta__reg_commit_ts(const dl_reg_entry *e, size_t i) { return e->commit_ts[i]; }
const char *ca_delta__reg_stats(const dl_reg_entry *e, size_t i) { return e->files[i]->stats; }
const char *ca_delta__reg_part(const dl_reg_entry *e, size_t i, size_t p)
{
    return e->parts[i * e->n_parts + p];
}

/* ---- partition values (delta.md §8) ------------------------------------------------------ */

static bool has_zone(const char *s)
{
    size_t n = strlen(s);
    if (n && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
        return true;
    /* an offset after the time part: [+-]HH[:MM] after position 10 */
    for (size_t i = 11; i < n; i++)
        if (s[i] == '+' || s[i] == '-')
            return true;
    return false;
}

/* The string handed to SQL for a partition value: cast there to the column type. */
static char *normalize_part(const dl_type *t, const char *v)
{
    if (!v || !*v)
        return NULL;
    if (t->kind == DL_PRIM && strcmp(t->prim, "timestamp") == 0 && !has_zone(v)) {
        size_t n = strlen(v);
        char *o = ca__malloc(n + 4);
        if (o) {
            memcpy(o, v, n);
            memcpy(o + n, "+00", 4); /* taken as UTC */
        }
        return o;
    }
    if (t->kind == DL_PRIM && strcmp(t->prim, "binary") == 0) {
        /* each code point <= U+00FF is one byte; rendered as \xNN for CAST(... AS BLOB) */
        size_t n = strlen(v);
        char *o = ca__malloc(n * 4 + 1);
        if (!o)
            return NULL;
        size_t j = 0;
        const unsigned char *p = (const unsigned char *)v;
        while (*p) {
            unsigned cp = *p++;
            if (cp >= 0xC0 && cp < 0xE0 && (*p & 0xC0) == 0x80)
                cp = ((cp & 0x1F) << 6) | (*p++ & 0x3F);
            j += (size_t)sprintf(o + j, "\\x%02X", cp & 0xFF);
        }
        o[j] = 0;
        return o;
    }
    return ca__strdup(v);
}

/* ---- building entries --------------------------------------------------------------------- */

/* An entry over snap's files (those with keep[i], all if keep is NULL), or over the explicit
 * list `list` of n_list files (change data feed; borrowed until the caller marks the entry). */
static int entry_build_list(ca_delta_ctx *ctx, ca_delta_snapshot *snap, const char *token,
                            const bool *keep, dl_file *const *list, size_t n_list,
                            dl_reg_entry **out)
{
    dl_reg_entry *e = ca__calloc(1, sizeof *e);
    if (!e)
        return ca_err_nomem(DL_MOD, "scan");
    pthread_mutex_init(&e->dv_lock, NULL);
    e->refs = 1;
    e->ctx = ctx;
    e->snap = snap;
    ca_delta__snapshot_ref(snap);
    e->token = ca__strdup(token);
    e->n_files = 0;
    e->files_total = list ? (int64_t)n_list : (int64_t)snap->n_files;
    if (list)
        e->n_files = n_list;
    else
        for (size_t i = 0; i < snap->n_files; i++)
            e->n_files += !keep || keep[i];
    e->n_parts = snap->n_part_cols;
    size_t n = e->n_files ? e->n_files : 1;
    e->abs = ca__calloc(n, sizeof *e->abs);
    e->files = ca__calloc(n, sizeof *e->files);
    e->dv = ca__calloc(n, sizeof *e->dv);
    e->dv_state = ca__calloc(n, sizeof *e->dv_state);
    e->dv_error = ca__calloc(n, sizeof *e->dv_error);
    e->parts = ca__calloc(n * (e->n_parts ? e->n_parts : 1), sizeof *e->parts);
    if (!e->token || !e->abs || !e->files || !e->dv || !e->dv_state || !e->dv_error || !e->parts) {
        entry_free(e);
        return ca_err_nomem(DL_MOD, "scan");
    }
    for (size_t i = 0, src = 0; i < e->n_files; i++, src++) {
        while (!list && keep && !keep[src])
            src++;
        dl_file *f = list ? list[i] : snap->files[src];
        e->files[i] = f;
        if (strpbrk(f->cpath, "*?[")) {
            int rc = ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD,
                                "delta: %s: data file %s: paths with '*', '?' or '[' are refused (DuckDB would glob them)",
                                snap->root, f->cpath);
            entry_free(e);
            return rc;
        }
        if (!(e->abs[i] = ca_delta__abs_path(snap->root, f->cpath))) {
            entry_free(e);
            return ca_err_nomem(DL_MOD, "scan");
        }
        for (size_t p = 0; p < e->n_parts; p++) {
            const char *v = ca_delta__part_value(snap, f, p);
            const dl_field *fd = ca_delta__field(snap, snap->part_cols[p]);
            if (v && *v && !(e->parts[i * e->n_parts + p] = normalize_part(fd->type, v))) {
                entry_free(e);
                return ca_err_nomem(DL_MOD, "scan");
            }
        }
    }
    *out = e;
    return CA_OK;
}

static dl_reg_entry *reg_insert(ca_delta_ctx *ctx, dl_reg_entry *e);

static int entry_build(ca_delta_ctx *ctx, ca_delta_snapshot *snap, const char *token,
                       const bool *keep, dl_reg_entry **out)
{
    return entry_build_list(ctx, snap, token, keep, NULL, 0, out);
}

int ca_delta__reg_add_cdf(ca_delta_snapshot *snap, const char *token, dl_file **files,
                          const char **change_type, int64_t *versions, int64_t *ts, size_t n,
                          dl_reg_entry **out)
{
    dl_reg_entry *e = NULL;
    int rc = entry_build_list(snap->ctx, snap, token, NULL, files, n, &e);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            ca_delta__file_free(files[i]);
        ca__free(files);
        ca__free(change_type);
        ca__free(versions);
        ca__free(ts);
        return rc;
    }
    ca__free(files); /* e->files holds the same pointers */
    e->is_cdf = true;
    e->change_type = change_type;
    e->commit_version = versions;
    e->commit_ts = ts;
    *out = reg_insert(snap->ctx, e);
    return CA_OK;
}

static char *make_token(const ca_delta_snapshot *s, const char *filter, bool lineage)
{
    json_t *j = json_pack("{s:s?,s:b,s:s,s:I}", "filter", filter, "lineage", lineage, "root",
                          s->root, "version", (json_int_t)s->version);
    if (!j)
        return NULL;
    char *t = NULL;
    if (ca_json_canonical_string(j, &t, NULL))
        t = NULL;
    json_decref(j);
    return t;
}

static void reg_unlink(ca_delta_ctx *ctx, dl_reg_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        ctx->reg_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
    ctx->reg_count--;
}

static void reg_push_front(ca_delta_ctx *ctx, dl_reg_entry *e)
{
    e->prev = NULL;
    e->next = ctx->reg_head;
    if (ctx->reg_head)
        ctx->reg_head->prev = e;
    ctx->reg_head = e;
    ctx->reg_count++;
}

/* Inserts e (the registry takes one reference); evicts the least recently used beyond REG_MAX.
 * Returns the entry to use (an equal one already present wins). Caller gets one reference. */
static dl_reg_entry *reg_insert(ca_delta_ctx *ctx, dl_reg_entry *e)
{
    dl_reg_entry *evict = NULL;
    pthread_mutex_lock(&ctx->reg_lock);
    for (dl_reg_entry *x = ctx->reg_head; x; x = x->next)
        if (strcmp(x->token, e->token) == 0) {
            __atomic_add_fetch(&x->refs, 1, __ATOMIC_RELAXED);
            pthread_mutex_unlock(&ctx->reg_lock);
            ca_delta__reg_release(e);
            return x;
        }
    __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED); /* the registry's */
    reg_push_front(ctx, e);
    if (ctx->reg_count > REG_MAX) {
        /* the least recently used entry nobody holds (in-use entries stay findable) */
        dl_reg_entry *tail = ctx->reg_head;
        while (tail->next)
            tail = tail->next;
        while (tail && __atomic_load_n(&tail->refs, __ATOMIC_ACQUIRE) > 1)
            tail = tail->prev;
        if (tail) {
            reg_unlink(ctx, tail);
            evict = tail;
        }
    }
    pthread_mutex_unlock(&ctx->reg_lock);
    ca_delta__reg_release(evict);
    return e;
}

static void quote_lit(ca_buf *b, const char *s);

/* ---- column mapping `id`: nested field ids (delta.md §7.4) --------------------------------- */

typedef struct nested_ids {
    json_t *seen; /* physical name -> array of field ids found in the files */
} nested_ids;

static int nested_row(void *arg, const char *text, size_t len)
{
    nested_ids *n = arg;
    if (!text)
        return CA_OK;
    const char *sep = memchr(text, 1, len);
    if (!sep)
        return CA_OK;
    char *name = ca__strndup(text, (size_t)(sep - text));
    if (!name)
        return ca_err_nomem(DL_MOD, "scan");
    json_t *arr = json_object_get(n->seen, name);
    if (!arr) {
        arr = json_array();
        json_object_set_new(n->seen, name, arr);
    }
    json_array_append_new(arr, json_integer(strtoll(sep + 1, NULL, 10)));
    ca__free(name);
    return CA_OK;
}

static int check_type_ids(const ca_delta_snapshot *s, const dl_type *t, json_t *seen)
{
    switch (t->kind) {
    case DL_PRIM:
        return CA_OK;
    case DL_ARRAY:
        return check_type_ids(s, t->elem, seen);
    case DL_MAP: {
        int rc = check_type_ids(s, t->key, seen);
        return rc ? rc : check_type_ids(s, t->val, seen);
    }
    case DL_STRUCT:
        for (size_t i = 0; i < t->n_fields; i++) {
            const dl_field *f = &t->fields[i];
            json_t *ids = json_object_get(seen, f->phys);
            size_t k;
            json_t *v;
            json_array_foreach(ids, k, v)
            {
                if (json_integer_value(v) != f->id)
                    return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD,
                                      "delta: %s: scan: nested field %s (%s) has parquet field_id %" PRId64
                                      ", the schema says %" PRId64
                                      "; nested fields are matched by physical name only",
                                      s->root, f->name, f->phys, (int64_t)json_integer_value(v), f->id);
            }
            int rc = check_type_ids(s, f->type, seen);
            if (rc)
                return rc;
        }
        return CA_OK;
    }
    return CA_OK;
}

/* In `id` mode DuckDB maps only top-level field ids; nested fields are read by physical name,
 * which is right only if the files' nested field ids agree with the schema. */
static int check_nested_ids(ca_delta_snapshot *s, const dl_reg_entry *e)
{
    bool nested = false;
    for (size_t i = 0; i < s->schema.n_fields; i++)
        nested |= s->schema.fields[i].type->kind != DL_PRIM;
    if (s->cm_mode != DL_CM_ID || !nested || !e->n_files)
        return CA_OK;
    ca_buf q = CA_BUF_INIT;
    ca_buf_puts(&q, "SELECT DISTINCT name || chr(1) || CAST(field_id AS VARCHAR) FROM parquet_schema([");
    for (size_t i = 0; i < e->n_files; i++) {
        ca_buf_puts(&q, i ? ", " : "");
        quote_lit(&q, e->abs[i]);
    }
    ca_buf_puts(&q, "]) WHERE field_id IS NOT NULL");
    nested_ids n = {json_object()};
    int rc = ca_buf_status(&q) ? ca_buf_status(&q)
                               : ca_delta__query_rows(s->ctx, ca_buf_cstr(&q), nested_row, &n);
    ca_buf_free(&q);
    for (size_t i = 0; rc == CA_OK && i < s->schema.n_fields; i++)
        rc = check_type_ids(s, s->schema.fields[i].type, n.seen);
    json_decref(n.seen);
    return rc;
}

static void entry_report(const dl_reg_entry *e, ca_delta_scan_report *report)
{
    memset(report, 0, sizeof *report);
    report->files_total = e->files_total;
    report->files_kept = (int64_t)e->n_files;
    report->conjuncts_used = e->conjuncts_used;
    report->bad_stats = e->bad_stats;
    for (size_t i = 0; i < e->n_files; i++)
        if (e->files[i]->dv.storage)
            report->files_with_dv++;
}

/* Builds (with pruning when filter is set) and registers the scan entry of token. */
static int scan_entry(ca_delta_snapshot *s, const char *filter, const char *token,
                      dl_reg_entry **out, ca_delta_scan_report *report)
{
    *out = NULL;
    bool *keep = NULL;
    int64_t used = 0;
    int rc = CA_OK;
    if (filter && s->n_files) {
        char *full = make_token(s, NULL, false);
        keep = ca__calloc(s->n_files, sizeof *keep);
        dl_reg_entry *fe = NULL;
        if (!full || !keep)
            rc = ca_err_nomem(DL_MOD, "scan");
        if (rc == CA_OK)
            rc = entry_build(s->ctx, s, full, NULL, &fe);
        if (rc == CA_OK) {
            fe = reg_insert(s->ctx, fe);
            rc = ca_delta__prune(s, filter, full, keep, &used);
            ca_delta__reg_release(fe);
        }
        ca__free(full);
    }
    dl_reg_entry *e = NULL;
    if (rc == CA_OK)
        rc = entry_build(s->ctx, s, token, keep, &e);
    if (rc == CA_OK && (rc = check_nested_ids(s, e)) != CA_OK)
        ca_delta__reg_release(e);
    if (rc == CA_OK) {
        e->files_total = (int64_t)s->n_files;
        e->conjuncts_used = used;
        if (used)
            for (size_t i = 0; i < s->n_files; i++) {
                const char *st = s->files[i]->stats;
                json_t *j = st ? json_loads(st, 0, NULL) : NULL;
                if (st && !json_is_object(j))
                    e->bad_stats++;
                json_decref(j);
            }
        *out = reg_insert(s->ctx, e);
    }
    if (rc == CA_OK && report)
        entry_report(*out, report);
    ca__free(keep);
    return rc;
}

/* A registered entry, or NULL (no rebuild). */
static dl_reg_entry *reg_find(ca_delta_ctx *ctx, const char *token)
{
    pthread_mutex_lock(&ctx->reg_lock);
    dl_reg_entry *x = ctx->reg_head;
    for (; x; x = x->next)
        if (strcmp(x->token, token) == 0) {
            __atomic_add_fetch(&x->refs, 1, __ATOMIC_RELAXED);
            break;
        }
    pthread_mutex_unlock(&ctx->reg_lock);
    return x;
}

void ca_delta__reg_clear(ca_delta_ctx *ctx)
{
    pthread_mutex_lock(&ctx->reg_lock);
    dl_reg_entry *e = ctx->reg_head;
    ctx->reg_head = NULL;
    ctx->reg_count = 0;
    pthread_mutex_unlock(&ctx->reg_lock);
    while (e) {
        dl_reg_entry *n = e->next;
        e->prev = e->next = NULL;
        ca_delta__reg_release(e);
        e = n;
    }
}

int ca_delta__reg_get(ca_delta_ctx *ctx, const char *token, size_t token_len, dl_reg_entry **out)
{
    *out = NULL;
    char *tok = ca__strndup(token, token_len);
    if (!tok)
        return ca_err_nomem(DL_MOD, "scan");
    pthread_mutex_lock(&ctx->reg_lock);
    for (dl_reg_entry *x = ctx->reg_head; x; x = x->next)
        if (strcmp(x->token, tok) == 0) {
            __atomic_add_fetch(&x->refs, 1, __ATOMIC_RELAXED);
            if (x != ctx->reg_head) {
                reg_unlink(ctx, x);
                reg_push_front(ctx, x);
            }
            pthread_mutex_unlock(&ctx->reg_lock);
            ca__free(tok);
            *out = x;
            return CA_OK;
        }
    pthread_mutex_unlock(&ctx->reg_lock);
    /* miss: rebuild from the token */
    json_error_t jerr;
    json_t *j = json_loads(tok, 0, &jerr);
    const char *root = json_string_value(json_object_get(j, "root"));
    json_t *ver = json_object_get(j, "version");
    int rc;
    if (root && json_is_true(json_object_get(j, "cdf"))) {
        rc = ca_delta__cdf_rebuild(ctx, j, tok, out);
    } else if (!root || !json_is_integer(ver)) {
        rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: scan token is not valid: %.200s", tok);
    } else {
        ca_delta_at at = CA_DELTA_AT_INIT;
        at.kind = CA_DELTA_AT_VERSION;
        at.table_version = json_integer_value(ver);
        ca_delta_snapshot *s = NULL;
        rc = ca_delta__snapshot_open(ctx, root, &at, &s);
        if (rc == CA_OK)
            rc = scan_entry(s, json_string_value(json_object_get(j, "filter")), tok, out, NULL);
        ca_delta_snapshot_close(s);
    }
    json_decref(j);
    ca__free(tok);
    return rc;
}

int ca_delta__reg_dv_prepare(dl_reg_entry *e, size_t i)
{
    int st = __atomic_load_n(&e->dv_state[i], __ATOMIC_ACQUIRE);
    if (st == 1)
        return CA_OK;
    pthread_mutex_lock(&e->dv_lock);
    st = e->dv_state[i];
    if (st == 0) {
        const dl_file *f = e->files[i];
        dl_bitmap *bm = NULL;
        int rc = CA_OK;
        if (f->dv.storage)
            rc = ca_delta__dv_load(e->ctx->fs, e->snap->root, f->cpath, &f->dv, &bm);
        if (rc == CA_OK) {
            e->dv[i] = bm;
            st = 1;
        } else {
            e->dv_error[i] = ca__strdup(ca_error_last()->message);
            st = rc;
        }
        __atomic_store_n(&e->dv_state[i], st, __ATOMIC_RELEASE);
    }
    int rc = CA_OK;
    if (st < 0)
        rc = ca_err_set(st, DL_MOD, "%s", e->dv_error[i] ? e->dv_error[i] : "deletion vector failed");
    pthread_mutex_unlock(&e->dv_lock);
    return rc;
}

bool ca_delta__reg_keep(dl_reg_entry *e, size_t i, uint64_t row, int *err)
{
    *err = CA_OK;
    if (i >= e->n_files) {
        *err = ca_err_set(CA_E_INVALID, DL_MOD, "delta: scan: file index %zu out of range", i);
        return false;
    }
    if (!e->files[i]->dv.storage)
        return true;
    if ((*err = ca_delta__reg_dv_prepare(e, i)))
        return false;
    return !ca_delta__dv_contains(e->dv[i], row);
}

/* ---- the scan SQL ------------------------------------------------------------------------ */

static void quote_ident(ca_buf *b, const char *s) { ca_buf_put_quoted(b, s, '"'); }
static void quote_lit(ca_buf *b, const char *s) { ca_buf_put_quoted(b, s, '\''); }

static long part_index(const ca_delta_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->n_part_cols; i++)
        if (strcasecmp(s->part_cols[i], name) == 0)
            return (long)i;
    return -1;
}

static bool is_void(const dl_type *t) { return t->kind == DL_PRIM && strcmp(t->prim, "void") == 0; }

int ca_delta__scan_sql(ca_delta_snapshot *s, const char *filter, bool lineage,
                       const char *const *columns, size_t n_columns, char **sql,
                       ca_delta_scan_report *report)
{
    *sql = NULL;
    if (report)
        memset(report, 0, sizeof *report);
    char *token = make_token(s, filter, lineage);
    if (!token)
        return ca_err_nomem(DL_MOD, "scan");
    /* register the entry now so the SQL functions find it without a rebuild */
    ca_delta_scan_report rep;
    ca_trace_span span;
    ca_trace_begin(s->ctx->trace, &span, "delta", "delta.scan_build");
    ca_trace_arg_str(&span, "root", s->root);
    ca_trace_arg_int(&span, "version", s->version);
    dl_reg_entry *e = reg_find(s->ctx, token);
    int rc = CA_OK;
    if (e)
        entry_report(e, &rep);
    else
        rc = scan_entry(s, filter, token, &e, &rep);
    if (rc == CA_OK) {
        ca_trace_arg_int(&span, "files_total", rep.files_total);
        ca_trace_arg_int(&span, "files_kept", rep.files_kept);
        ca_trace_arg_int(&span, "conjuncts_used", rep.conjuncts_used);
    }
    ca_trace_end(&span);
    if (rc) {
        ca__free(token);
        return rc;
    }
    if (report)
        *report = rep;
    rc = ca_delta__entry_sql(s, e, token, filter, lineage, columns, n_columns, sql);
    ca_delta__reg_release(e);
    ca__free(token);
    return rc;
}

/* The SELECT over a registered entry e (token names it). */
int ca_delta__entry_sql(ca_delta_snapshot *s, dl_reg_entry *e, const char *token,
                        const char *filter, bool lineage, const char *const *columns,
                        size_t n_columns, char **sql)
{
    int rc = CA_OK;
    size_t n_dv = 0;
    for (size_t i = 0; i < e->n_files; i++)
        n_dv += e->files[i]->dv.storage != 0;
    size_t n_files = e->n_files;
    bool has_tz = false;
    for (size_t i = 0; i < s->schema.n_fields; i++)
        if (ca_delta__type_has_tz(s->schema.fields[i].type))
            has_tz = true;

    ca_buf b = CA_BUF_INIT, tok = CA_BUF_INIT, ty = CA_BUF_INIT;
    quote_lit(&tok, token);
    bool wrap = filter || has_tz || n_columns;
    if (n_columns) {
        /* the projection is outside so the filter may use any column */
        ca_buf_puts(&b, "SELECT ");
        for (size_t i = 0; i < n_columns; i++) {
            const dl_field *fd = columns[i] ? ca_delta__field(s, columns[i]) : NULL;
            const char *name = fd ? fd->name : NULL;
            if (!fd && lineage && columns[i] && strcmp(columns[i], "__source_file") == 0)
                name = "__source_file";
            if (!name) {
                rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: scan: no column '%s' in the table",
                                s->root, columns[i] ? columns[i] : "(null)");
                ca_buf_free(&b);
                ca_buf_free(&tok);
                ca_buf_free(&ty);
                return rc;
            }
            if (i)
                ca_buf_puts(&b, ", ");
            quote_ident(&b, name);
        }
        ca_buf_puts(&b, " FROM (");
    } else if (wrap) {
        ca_buf_puts(&b, "SELECT * FROM (");
    }
    ca_buf_puts(&b, "SELECT ");
    bool first = true;
    size_t n_data = 0;
    for (size_t i = 0; i < s->schema.n_fields; i++) {
        const dl_field *fd = &s->schema.fields[i];
        if (!first)
            ca_buf_puts(&b, ", ");
        first = false;
        long pi = part_index(s, fd->name);
        ca_buf_clear(&ty);
        ca_delta__type_sql(fd->type, false, &ty);
        if (n_files == 0 || is_void(fd->type)) {
            ca_buf_printf(&b, "CAST(NULL AS %s)", ca_buf_cstr(&ty));
        } else if (pi >= 0) {
            ca_buf_printf(&b, "CAST(f.p%ld AS %s)", pi, ca_buf_cstr(&ty));
        } else {
            char col[32];
            snprintf(col, sizeof col, "d.__c%zu", i);
            ca_delta__type_rename_expr(fd->type, col, 0, &b);
            n_data++;
        }
        ca_buf_puts(&b, " AS ");
        quote_ident(&b, fd->name);
    }
    if (lineage) {
        if (!first)
            ca_buf_puts(&b, ", ");
        first = false;
        ca_buf_puts(&b, n_files ? "f.path AS __source_file" : "CAST(NULL AS VARCHAR) AS __source_file");
    }
    if (e->is_cdf) {
        if (!first)
            ca_buf_puts(&b, ", ");
        first = false;
        if (!n_files)
            ca_buf_puts(&b, "CAST(NULL AS VARCHAR) AS _change_type, CAST(NULL AS BIGINT) AS _commit_version, "
                            "CAST(NULL AS TIMESTAMPTZ) AS _commit_timestamp");
        else
            ca_buf_printf(&b, "%s AS _change_type, f.commit_version AS _commit_version, "
                              "f.commit_timestamp AS _commit_timestamp",
                          s->cm_mode != DL_CM_ID ? "coalesce(f.change_type, d.__ct)" : "f.change_type");
    }
    if (first)
        ca_buf_puts(&b, "NULL AS __no_columns");
    if (n_files == 0) {
        ca_buf_puts(&b, " WHERE false");
    } else {
        ca_buf_printf(&b, " FROM read_parquet(__delta_paths(%s)", ca_buf_cstr(&tok));
        /* change files carry _change_type (ignored by ordinary scans); an `id`-keyed map cannot
         * name it, so column-mapping-id tables read it as NULL */
        bool ct = e->is_cdf && s->cm_mode != DL_CM_ID;
        if (n_data || ct) {
            ca_buf_puts(&b, ", schema = MAP {");
            bool f1 = true;
            if (ct) {
                ca_buf_puts(&b, "'_change_type': {name: '__ct', type: 'VARCHAR', default_value: NULL}");
                f1 = false;
            }
            for (size_t i = 0; i < s->schema.n_fields; i++) {
                const dl_field *fd = &s->schema.fields[i];
                if (part_index(s, fd->name) >= 0 || is_void(fd->type))
                    continue;
                if (!f1)
                    ca_buf_puts(&b, ", ");
                f1 = false;
                if (s->cm_mode == DL_CM_ID)
                    ca_buf_printf(&b, "%" PRId64, fd->id);
                else
                    quote_lit(&b, fd->phys);
                ca_buf_clear(&ty);
                ca_delta__type_sql(fd->type, true, &ty);
                ca_buf_printf(&b, ": {name: '__c%zu', type: ", i);
                quote_lit(&b, ca_buf_cstr(&ty));
                ca_buf_puts(&b, ", default_value: NULL}");
            }
            ca_buf_puts(&b, "}");
        }
        ca_buf_puts(&b, ", hive_partitioning = false) AS d");
        if (s->n_part_cols || lineage || e->is_cdf)
            ca_buf_printf(&b, " JOIN __delta_scan_files(%s) AS f ON f.file_index = d.file_index",
                          ca_buf_cstr(&tok));
        if (n_dv)
            ca_buf_printf(&b, " WHERE __delta_dv_keep(%s, d.file_index, d.file_row_number)",
                          ca_buf_cstr(&tok));
    }
    if (wrap) {
        ca_buf_puts(&b, ") AS __delta_scan");
        if (has_tz || filter)
            ca_buf_puts(&b, " WHERE ");
        if (has_tz) {
            ca_buf_puts(&b, "(CASE WHEN current_setting('TimeZone') IN ('UTC', 'Etc/UTC') THEN true ELSE error(");
            ca_buf_clear(&ty);
            ca_buf_printf(&ty, "delta_timezone: delta: %s: scan: the table has timestamp columns; run with SET TimeZone = 'UTC'",
                          s->root);
            quote_lit(&b, ca_buf_cstr(&ty));
            ca_buf_puts(&b, ") END)");
        }
        if (filter)
            ca_buf_printf(&b, "%s(%s)", has_tz ? " AND " : "", filter);
    }
    rc = ca_buf_status(&b) ? ca_buf_status(&b) : ca_buf_status(&tok) ? ca_buf_status(&tok) : ca_buf_status(&ty);
    if (rc == CA_OK)
        *sql = ca_buf_detach(&b, NULL);
    ca_buf_free(&b);
    ca_buf_free(&tok);
    ca_buf_free(&ty);
    return rc;
}

int ca_delta_scan_sql(ca_delta_snapshot *snap, const ca_delta_scan_options *opts, char **sql,
                      ca_delta_scan_report *report)
{
    ca_delta_scan_options def = CA_DELTA_SCAN_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (!snap || !sql)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: ca_delta_scan_sql: NULL argument");
    if (opts->version != CA_DELTA_SCAN_OPTIONS_VERSION)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: ca_delta_scan_options: unknown version %u",
                          opts->version);
    return ca_delta__scan_sql(snap, opts->filter, opts->lineage, opts->columns, opts->n_columns, sql,
                              report);
}
