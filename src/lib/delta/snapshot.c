/*
 * Snapshot construction (delta.md §6): list _delta_log, pick the newest complete checkpoint at or
 * below the target, replay it and the commits after it, reconcile file actions by
 * (canonical path, DV uniqueId), check protocol and features, parse the schema.
 */
#include "lib/delta/delta_int.h"

#include "util/alloc.h"
#include "util/err.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small string-keyed map of file actions ------------------------------------------- */

typedef struct fmap_slot {
    dl_file *f;
    int64_t add_v, rem_v; /* commit that last wrote an add / remove of this key (-1 none) */
} fmap_slot;

typedef struct fmap {
    fmap_slot *slots;
    size_t cap, count;
} fmap;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static void file_free(dl_file *f)
{
    if (!f)
        return;
    ca__free(f->path);
    ca__free(f->cpath);
    ca__free(f->dv_id);
    ca__free(f->stats_owned);
    json_decref(f->action);
    ca__free(f);
}

static int fmap_grow(fmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 256;
    fmap_slot *ns = ca__calloc(ncap, sizeof *ns);
    if (!ns)
        return ca_err_nomem(DL_MOD, "file map");
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].f)
            continue;
        size_t j = hash_str(m->slots[i].f->dv_id ? m->slots[i].f->dv_id : "") ^
                   hash_str(m->slots[i].f->cpath);
        j &= ncap - 1;
        while (ns[j].f)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    ca__free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return CA_OK;
}

static bool same_key(const dl_file *a, const dl_file *b)
{
    if (strcmp(a->cpath, b->cpath) != 0)
        return false;
    if (!a->dv_id || !b->dv_id)
        return !a->dv_id && !b->dv_id;
    return strcmp(a->dv_id, b->dv_id) == 0;
}

/* Finds the slot for f's key (empty or matching). */
static fmap_slot *fmap_slot_for(fmap *m, const dl_file *f)
{
    size_t j = (hash_str(f->dv_id ? f->dv_id : "") ^ hash_str(f->cpath)) & (m->cap - 1);
    while (m->slots[j].f && !same_key(m->slots[j].f, f))
        j = (j + 1) & (m->cap - 1);
    return &m->slots[j];
}

static void fmap_free(fmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        file_free(m->slots[i].f);
    ca__free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- replay state ----------------------------------------------------------------------- */

typedef struct replay {
    ca_delta_ctx *ctx;
    const char *root;
    fmap files;
    json_t *protocol, *metadata, *commit_info;
    json_t *txns, *domains;
    /* per-commit counters */
    int n_protocol, n_metadata;
    int64_t cur_version;
    bool in_checkpoint;
    /* for V2 checkpoints */
    json_t *sidecars;      /* array of sidecar paths (strings) */
    int n_ckpt_metadata;
    bool vanished;         /* a listed file was gone (concurrent cleanup): re-list and retry */
} replay;

static int corrupt_at(const replay *r, const char *src, size_t line, const char *what)
{
    if (line)
        return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: %s: line %zu: %s", r->root, src,
                          line, what);
    return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: %s: %s", r->root, src, what);
}

static int parse_dv(const replay *r, const char *src, size_t line, json_t *j, dl_dv *dv, char **id)
{
    memset(dv, 0, sizeof *dv);
    *id = NULL;
    if (!j || json_is_null(j))
        return CA_OK;
    const char *st = json_string_value(json_object_get(j, "storageType"));
    const char *pi = json_string_value(json_object_get(j, "pathOrInlineDv"));
    json_t *off = json_object_get(j, "offset");
    json_t *sz = json_object_get(j, "sizeInBytes");
    json_t *card = json_object_get(j, "cardinality");
    if (!st || strlen(st) != 1 || !strchr("uip", st[0]) || !pi || !json_is_integer(sz) ||
        !json_is_integer(card))
        return corrupt_at(r, src, line, "deletionVector: missing or mistyped field");
    dv->storage = st[0];
    dv->path_or_inline = (char *)pi; /* borrowed from the action, which the file keeps */
    dv->has_offset = json_is_integer(off);
    dv->offset = dv->has_offset ? (int32_t)json_integer_value(off) : 0;
    dv->size = (int32_t)json_integer_value(sz);
    dv->cardinality = json_integer_value(card);
    size_t n = strlen(pi) + 32;
    char *u = ca__malloc(n);
    if (!u)
        return ca_err_nomem(DL_MOD, "dv id");
    if (dv->has_offset)
        snprintf(u, n, "%c%s@%" PRId32, dv->storage, pi, dv->offset);
    else
        snprintf(u, n, "%c%s", dv->storage, pi);
    *id = u;
    return CA_OK;
}

/* Builds a dl_file from an add / remove / cdc action (kind names it in messages). */
static int make_file(const replay *r, const char *src, size_t line, json_t *a, bool is_add,
                     const char *kind, dl_file **out)
{
    char what[160];
    *out = NULL;
    const char *path = json_string_value(json_object_get(a, "path"));
    if (!path) {
        snprintf(what, sizeof what, "%s: missing or mistyped field 'path'", kind);
        return corrupt_at(r, src, line, what);
    }
    json_t *size = json_object_get(a, "size");
    json_t *pv = json_object_get(a, "partitionValues");
    if (is_add) {
        if (!json_is_integer(size)) {
            snprintf(what, sizeof what, "%s %s: missing or mistyped field 'size'", kind, path);
            return corrupt_at(r, src, line, what);
        }
        if (!json_is_object(pv) && !(r->in_checkpoint && json_is_null(pv))) {
            snprintf(what, sizeof what, "%s %s: missing or mistyped field 'partitionValues'", kind, path);
            return corrupt_at(r, src, line, what);
        }
    }
    dl_file *f = ca__calloc(1, sizeof *f);
    if (!f)
        return ca_err_nomem(DL_MOD, "file action");
    f->is_add = is_add;
    f->action = json_incref(a);
    f->path = ca__strdup(path);
    f->cpath = ca_delta__canonical_path(path);
    f->pv = json_is_object(pv) ? pv : NULL;
    f->size = json_is_integer(size) ? json_integer_value(size) : -1;
    json_t *mt = json_object_get(a, "modificationTime");
    f->mtime = json_is_integer(mt) ? json_integer_value(mt) : 0;
    f->data_change = !json_is_false(json_object_get(a, "dataChange"));
    f->stats = json_string_value(json_object_get(a, "stats"));
    json_t *sp = json_object_get(a, "stats_parsed");
    if (!f->stats && json_is_object(sp)) {
        /* checkpoint written with stats as a struct only: jansson allocates via ca__malloc */
        f->stats_owned = json_dumps(sp, JSON_COMPACT);
        f->stats = f->stats_owned;
    }
    f->num_records = -1;
    if (!f->path || !f->cpath) {
        file_free(f);
        return ca_err_nomem(DL_MOD, "file action");
    }
    int rc = parse_dv(r, src, line, json_object_get(a, "deletionVector"), &f->dv, &f->dv_id);
    if (rc) {
        file_free(f);
        return rc;
    }
    *out = f;
    return CA_OK;
}

int ca_delta__file_from_action(const char *root, const char *src, size_t line, json_t *a,
                               bool is_add, const char *kind, dl_file **out)
{
    replay r = {0};
    r.root = root;
    return make_file(&r, src, line, a, is_add, kind, out);
}

void ca_delta__file_free(dl_file *f) { file_free(f); }

static int apply_file(replay *r, const char *src, size_t line, json_t *a, bool is_add)
{
    const char *kind = is_add ? "add" : "remove";
    char what[160];
    dl_file *f = NULL;
    int rc = make_file(r, src, line, a, is_add, kind, &f);
    if (rc)
        return rc;
    const char *path = f->path;
    if ((r->files.count + 1) * 2 > r->files.cap && (rc = fmap_grow(&r->files))) {
        file_free(f);
        return rc;
    }
    fmap_slot *s = fmap_slot_for(&r->files, f);
    if (!s->f) {
        r->files.count++;
        s->add_v = s->rem_v = -1;
    } else {
        int64_t last = is_add ? s->add_v : s->rem_v;
        if (!r->in_checkpoint && last == r->cur_version) {
            snprintf(what, sizeof what, "two %s actions for %s in one commit", kind, path);
            file_free(f);
            return corrupt_at(r, src, 0, what);
        }
        file_free(s->f);
    }
    s->f = f;
    if (!r->in_checkpoint) {
        if (is_add)
            s->add_v = r->cur_version;
        else
            s->rem_v = r->cur_version;
    }
    return CA_OK;
}

static int apply_line(replay *r, const char *src, size_t line, json_t *obj)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        if (json_is_null(val))
            continue;
        int rc = CA_OK;
        if (!json_is_object(val) && (strcmp(key, "add") == 0 || strcmp(key, "remove") == 0 ||
                                     strcmp(key, "metaData") == 0 || strcmp(key, "protocol") == 0)) {
            char what[96];
            snprintf(what, sizeof what, "action '%s' is not an object", key);
            return corrupt_at(r, src, line, what);
        }
        if (strcmp(key, "add") == 0) {
            rc = apply_file(r, src, line, val, true);
        } else if (strcmp(key, "remove") == 0) {
            rc = apply_file(r, src, line, val, false);
        } else if (strcmp(key, "metaData") == 0) {
            if (++r->n_metadata > 1)
                return corrupt_at(r, src, 0, "two metaData actions in one commit");
            json_decref(r->metadata);
            r->metadata = json_incref(val);
        } else if (strcmp(key, "protocol") == 0) {
            if (++r->n_protocol > 1)
                return corrupt_at(r, src, 0, "two protocol actions in one commit");
            json_t *rv = json_object_get(val, "minReaderVersion");
            json_t *wv = json_object_get(val, "minWriterVersion");
            if (!json_is_integer(rv) || !json_is_integer(wv))
                return corrupt_at(r, src, line, "protocol: missing or mistyped minReaderVersion/minWriterVersion");
            json_decref(r->protocol);
            r->protocol = json_incref(val);
        } else if (strcmp(key, "txn") == 0) {
            const char *app = json_string_value(json_object_get(val, "appId"));
            if (!app || !json_is_integer(json_object_get(val, "version")))
                return corrupt_at(r, src, line, "txn: missing or mistyped appId/version");
            json_object_set(r->txns, app, val);
        } else if (strcmp(key, "domainMetadata") == 0) {
            const char *d = json_string_value(json_object_get(val, "domain"));
            if (!d)
                return corrupt_at(r, src, line, "domainMetadata: missing domain");
            if (json_is_true(json_object_get(val, "removed")))
                json_object_del(r->domains, d);
            else
                json_object_set(r->domains, d, val);
        } else if (strcmp(key, "commitInfo") == 0) {
            if (!r->in_checkpoint) {
                json_decref(r->commit_info);
                r->commit_info = json_incref(val);
            }
        } else if (strcmp(key, "checkpointMetadata") == 0) {
            r->n_ckpt_metadata++;
        } else if (strcmp(key, "sidecar") == 0) {
            const char *p = json_string_value(json_object_get(val, "path"));
            if (!p)
                return corrupt_at(r, src, line, "sidecar: missing path");
            json_array_append_new(r->sidecars, json_string(p));
        }
        if (rc)
            return rc;
    }
    return CA_OK;
}

/* Parses NDJSON text (a commit or a JSON checkpoint). */
static int apply_ndjson(replay *r, const char *src, char *text, size_t len, bool is_commit)
{
    size_t line = 0, n_actions = 0;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        /* skip blank lines */
        char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < le) {
            json_error_t jerr;
            json_t *obj = json_loadb(p, (size_t)(le - p), JSON_REJECT_DUPLICATES, &jerr);
            if (!obj || !json_is_object(obj)) {
                json_decref(obj);
                char what[256];
                snprintf(what, sizeof what, "%s: %s", nl ? "not one JSON object" : "truncated last line",
                         obj ? "not an object" : jerr.text);
                return corrupt_at(r, src, line, what);
            }
            int rc = apply_line(r, src, line, obj);
            json_decref(obj);
            if (rc)
                return rc;
            n_actions++;
        }
        p = nl ? nl + 1 : end;
    }
    if (is_commit && n_actions == 0)
        return corrupt_at(r, src, 0, "empty commit");
    return CA_OK;
}

/* Starts a replay from an existing snapshot's state (copies: the replay owns its files). */
static int seed_from(replay *r, const ca_delta_snapshot *b)
{
    r->protocol = json_incref(b->protocol);
    r->metadata = json_incref(b->metadata);
    json_decref(r->txns);
    json_decref(r->domains);
    r->txns = json_deep_copy(b->txns);
    r->domains = json_deep_copy(b->domains);
    if (!r->txns || !r->domains)
        return ca_err_nomem(DL_MOD, "snapshot");
    for (int pass = 0; pass < 2; pass++) {
        dl_file *const *src = pass ? b->tombstones : b->files;
        size_t n = pass ? b->n_tombstones : b->n_files;
        for (size_t i = 0; i < n; i++) {
            const dl_file *o = src[i];
            dl_file *f = ca__calloc(1, sizeof *f);
            if (!f)
                return ca_err_nomem(DL_MOD, "snapshot");
            *f = *o;
            f->path = ca__strdup(o->path);
            f->cpath = ca__strdup(o->cpath);
            f->dv_id = o->dv_id ? ca__strdup(o->dv_id) : NULL;
            f->stats_owned = o->stats_owned ? ca__strdup(o->stats_owned) : NULL;
            if (o->stats_owned)
                f->stats = f->stats_owned;
            json_incref(f->action);
            if (!f->path || !f->cpath || (o->dv_id && !f->dv_id) || (o->stats_owned && !f->stats_owned)) {
                file_free(f);
                return ca_err_nomem(DL_MOD, "snapshot");
            }
            int rc = CA_OK;
            if ((r->files.count + 1) * 2 > r->files.cap && (rc = fmap_grow(&r->files))) {
                file_free(f);
                return rc;
            }
            fmap_slot *sl = fmap_slot_for(&r->files, f);
            if (sl->f) /* cannot happen: a snapshot's keys are unique */
                file_free(sl->f);
            else
                r->files.count++;
            sl->f = f;
            sl->add_v = sl->rem_v = -1;
        }
    }
    return CA_OK;
}

/* ---- the module's connection ------------------------------------------------------------ */

int ca_delta__query_rows(ca_delta_ctx *ctx, const char *sql,
                         int (*row)(void *arg, const char *text, size_t len), void *arg)
{
    pthread_mutex_lock(&ctx->conn_lock);
    ca_duck_result *res = NULL;
    int rc = ca_duck_query(ctx->conn, sql, &res);
    while (rc == CA_OK) {
        ca_duck_chunk *ch = NULL;
        rc = ca_duck_result_next_chunk(res, &ch);
        if (rc || !ch)
            break;
        size_t n = ca_duck_chunk_size(ch);
        ca_duck_vec *v = ca_duck_chunk_vector(ch, 0);
        ca_duck_str *d = ca_duck_vec_data(v);
        uint64_t *valid = ca_duck_vec_validity(v);
        for (size_t i = 0; i < n && rc == CA_OK; i++) {
            if (!ca_duck_row_valid(valid, i))
                rc = row(arg, NULL, 0);
            else
                rc = row(arg, ca_duck_str_data(&d[i]), ca_duck_str_len(&d[i]));
        }
        ca_duck_chunk_free(ch);
    }
    ca_duck_result_free(res);
    pthread_mutex_unlock(&ctx->conn_lock);
    return rc;
}

typedef struct ckpt_rows {
    replay *r;
    const char *src;
    size_t rows;
} ckpt_rows;

static int ckpt_row(void *arg, const char *text, size_t len)
{
    ckpt_rows *cr = arg;
    cr->rows++;
    if (!text)
        return CA_OK;
    json_error_t jerr;
    json_t *obj = json_loadb(text, len, 0, &jerr);
    if (!obj)
        return corrupt_at(cr->r, cr->src, cr->rows, jerr.text);
    int rc = apply_line(cr->r, cr->src, cr->rows, obj);
    json_decref(obj);
    return rc;
}

static void sql_list(ca_buf *b, char **paths, size_t n)
{
    ca_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        char *q = ca_duck_quote_literal(paths[i]);
        ca_buf_printf(b, "%s%s", i ? ", " : "", q ? q : "''");
        ca__free(q);
    }
    ca_buf_putc(b, ']');
}

/* Reads parquet checkpoint files (parts of one checkpoint, or sidecars) into the replay. */
static int read_parquet_rows(replay *r, const char *src, char **paths, size_t n, size_t *rows)
{
    ca_buf sql = CA_BUF_INIT;
    ca_buf_puts(&sql, "SELECT CAST(to_json(t) AS VARCHAR) FROM read_parquet(");
    sql_list(&sql, paths, n);
    /* union_by_name only where parts may differ: it costs a schema pass */
    ca_buf_puts(&sql, n > 1 ? ", hive_partitioning = false, union_by_name = true) AS t"
                            : ", hive_partitioning = false) AS t");
    if (ca_buf_status(&sql)) {
        ca_buf_free(&sql);
        return ca_buf_status(&sql);
    }
    ckpt_rows cr = {r, src, 0};
    int rc = ca_delta__query_rows(r->ctx, ca_buf_cstr(&sql), ckpt_row, &cr);
    ca_buf_free(&sql);
    if (rc == CA_E_DUCKDB && strstr(ca_error_last()->message, "No files found"))
        r->vanished = true;
    if (rc == CA_E_DUCKDB)
        rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: checkpoint %s: unreadable: %s",
                        r->root, src, ca_error_last()->message);
    if (rows)
        *rows = cr.rows;
    return rc;
}

/* ---- listing ----------------------------------------------------------------------------- */

typedef struct ckpt_cand {
    int64_t version;
    dl_name_kind kind;
    bool is_json;
    int parts;
    char **files; /* base names */
    size_t n_files;
} ckpt_cand;

typedef struct log_list {
    dl_commit_meta *commits;
    size_t n_commits;
    ckpt_cand *ckpts;
    size_t n_ckpts;
} log_list;

static void log_list_free(log_list *l)
{
    ca__free(l->commits);
    for (size_t i = 0; i < l->n_ckpts; i++) {
        for (size_t j = 0; j < l->ckpts[i].n_files; j++)
            ca__free(l->ckpts[i].files[j]);
        ca__free(l->ckpts[i].files);
    }
    ca__free(l->ckpts);
    memset(l, 0, sizeof *l);
}

static int cand_add_file(ckpt_cand *c, const char *name)
{
    char **nf = ca__realloc(c->files, (c->n_files + 1) * sizeof *nf);
    if (!nf)
        return ca_err_nomem(DL_MOD, "listing");
    c->files = nf;
    if (!(c->files[c->n_files] = ca__strdup(name)))
        return ca_err_nomem(DL_MOD, "listing");
    c->n_files++;
    return CA_OK;
}

static int list_log(ca_delta_ctx *ctx, const char *root, const char *logdir, log_list *out)
{
    memset(out, 0, sizeof *out);
    ca_fs_entry *ents = NULL;
    size_t n = 0;
    int rc = ca_fs_list(ctx->fs, logdir, &ents, &n);
    if (rc == CA_E_NOT_FOUND)
        return ca_err_set(CA_E_DELTA_NOT_A_TABLE, DL_MOD, "delta: %s: _delta_log: no such directory",
                          root);
    if (rc)
        return rc;
    out->commits = n ? ca__calloc(n, sizeof *out->commits) : NULL;
    out->ckpts = n ? ca__calloc(n, sizeof *out->ckpts) : NULL;
    if (n && (!out->commits || !out->ckpts)) {
        ca_fs_list_free(ents, n);
        return ca_err_nomem(DL_MOD, "listing");
    }
    for (size_t i = 0; i < n && rc == CA_OK; i++) {
        if (ents[i].type != CA_FS_TYPE_FILE)
            continue;
        dl_name nm;
        ca_delta__classify(ents[i].name, &nm);
        if (nm.kind == DL_NAME_COMMIT) {
            out->commits[out->n_commits++] = (dl_commit_meta){nm.version, ents[i].mtime_ms, true, ents[i].size};
        } else if (nm.kind == DL_NAME_CKPT_CLASSIC || nm.kind == DL_NAME_CKPT_UUID ||
                   nm.kind == DL_NAME_CKPT_MULTI) {
            ckpt_cand *c = NULL;
            if (nm.kind == DL_NAME_CKPT_MULTI) {
                for (size_t k = 0; k < out->n_ckpts; k++)
                    if (out->ckpts[k].kind == DL_NAME_CKPT_MULTI &&
                        out->ckpts[k].version == nm.version && out->ckpts[k].parts == nm.parts)
                        c = &out->ckpts[k];
            }
            if (!c) {
                c = &out->ckpts[out->n_ckpts++];
                c->version = nm.version;
                c->kind = nm.kind;
                c->is_json = nm.is_json;
                c->parts = nm.kind == DL_NAME_CKPT_MULTI ? nm.parts : 1;
            }
            rc = cand_add_file(c, ents[i].name);
        }
    }
    ca_fs_list_free(ents, n);
    return rc;
}

static bool cand_complete(const ckpt_cand *c)
{
    return c->kind != DL_NAME_CKPT_MULTI || (int)c->n_files == c->parts;
}

static int cand_rank(const ckpt_cand *c, const char *hint_name)
{
    if (hint_name && c->n_files && strcmp(c->files[0], hint_name) == 0)
        return 0;
    if (c->kind == DL_NAME_CKPT_CLASSIC)
        return 1;
    if (c->kind == DL_NAME_CKPT_UUID)
        return 2;
    return 3;
}

/* ---- _last_checkpoint ------------------------------------------------------------------- */

typedef struct last_ckpt {
    bool valid;
    int64_t version;
    int64_t size;      /* -1 absent */
    int64_t parts;     /* -1 absent */
    char *v2_path;     /* v2Checkpoint.path or NULL */
} last_ckpt;

static void read_last_checkpoint(ca_delta_ctx *ctx, const char *logdir, last_ckpt *lc,
                                 char ***warnings, size_t *n_warnings)
{
    memset(lc, 0, sizeof *lc);
    char *path = NULL, *text = NULL;
    size_t len = 0;
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/_last_checkpoint", logdir);
    path = ca_buf_detach(&b, NULL);
    if (!path)
        return;
    int rc = ca_fs_read_file(ctx->fs, path, 64u << 20, &text, &len);
    ca__free(path);
    if (rc)
        return; /* absent: no hint */
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *v = json_object_get(j, "version");
    const char *why = NULL;
    if (!j || !json_is_integer(v) || json_integer_value(v) < 0) {
        why = "last_checkpoint_invalid: _last_checkpoint is not a valid JSON object with a version";
    } else if (json_is_string(json_object_get(j, "checksum"))) {
        char sum[33];
        if (ca_delta__json_checksum(text, len, sum) ||
            strcmp(sum, json_string_value(json_object_get(j, "checksum"))) != 0)
            why = "last_checkpoint_invalid: _last_checkpoint checksum mismatch (hint not used)";
    }
    ca__free(text);
    if (why) {
        char **nw = ca__realloc(*warnings, (*n_warnings + 1) * sizeof *nw);
        if (nw) {
            *warnings = nw;
            nw[*n_warnings] = ca__strdup(why);
            if (nw[*n_warnings])
                (*n_warnings)++;
        }
        json_decref(j);
        return;
    }
    lc->valid = true;
    lc->version = json_integer_value(v);
    json_t *s = json_object_get(j, "size");
    lc->size = json_is_integer(s) ? json_integer_value(s) : -1;
    json_t *p = json_object_get(j, "parts");
    lc->parts = json_is_integer(p) ? json_integer_value(p) : -1;
    const char *v2 = json_string_value(json_object_get(json_object_get(j, "v2Checkpoint"), "path"));
    lc->v2_path = v2 ? ca__strdup(v2) : NULL;
    json_decref(j);
}

/* ---- snapshot lifecycle ------------------------------------------------------------------ */

static void snapshot_free(ca_delta_snapshot *s)
{
    if (!s)
        return;
    ca__free(s->root);
    json_decref(s->protocol);
    json_decref(s->metadata);
    json_decref(s->commit_info);
    json_decref(s->txns);
    json_decref(s->domains);
    ca_delta__schema_free(&s->schema);
    for (size_t i = 0; i < s->n_part_cols; i++)
        ca__free(s->part_cols[i]);
    ca__free(s->part_cols);
    for (size_t i = 0; i < s->n_files; i++)
        file_free(s->files[i]);
    ca__free(s->files);
    for (size_t i = 0; i < s->n_tombstones; i++)
        file_free(s->tombstones[i]);
    ca__free(s->tombstones);
    for (size_t i = 0; i < s->n_warnings; i++)
        ca__free(s->warnings[i]);
    ca__free(s->warnings);
    ca__free(s->commits);
    ca__free(s);
}

void ca_delta__snapshot_ref(ca_delta_snapshot *s)
{
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void ca_delta_snapshot_close(ca_delta_snapshot *s)
{
    if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
        snapshot_free(s);
}

int64_t ca_delta_snapshot_version(const ca_delta_snapshot *s) { return s->version; }
size_t ca_delta_snapshot_file_count(const ca_delta_snapshot *s) { return s->n_files; }

/* ---- <v>.crc (delta.md §6, option verify_crc) ------------------------------------------- */

static int crc_mismatch(const ca_delta_snapshot *s, const char *field, int64_t logged, int64_t state)
{
    return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                      "delta: %s: %020" PRId64 ".crc: %s is %" PRId64 ", the replayed state has %" PRId64,
                      s->root, s->version, field, logged, state);
}

static int verify_crc(ca_delta_ctx *ctx, const ca_delta_snapshot *s)
{
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/_delta_log/%020" PRId64 ".crc", s->root, s->version);
    char *text = NULL;
    size_t len = 0;
    int rc = ca_buf_status(&b) ? ca_buf_status(&b) : ca_fs_read_file(ctx->fs, ca_buf_cstr(&b), 0, &text, &len);
    ca_buf_free(&b);
    if (rc == CA_E_NOT_FOUND) {
        ca_error_clear();
        return CA_OK; /* version checksums are optional */
    }
    if (rc)
        return rc;
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    ca__free(text);
    if (!json_is_object(j)) {
        json_decref(j);
        return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: %020" PRId64 ".crc: not a JSON object",
                          s->root, s->version);
    }
    int64_t bytes = 0, dvs = 0;
    for (size_t i = 0; i < s->n_files; i++) {
        bytes += s->files[i]->size > 0 ? s->files[i]->size : 0;
        dvs += s->files[i]->dv.storage != 0;
    }
    struct { const char *field; int64_t state; bool required; } checks[] = {
        {"tableSizeBytes", bytes, true},
        {"numFiles", (int64_t)s->n_files, true},
        {"numMetadata", 1, true},
        {"numProtocol", 1, true},
        {"numDeletionVectorsOpt", dvs, false},
    };
    for (size_t i = 0; rc == CA_OK && i < sizeof checks / sizeof *checks; i++) {
        json_t *v = json_object_get(j, checks[i].field);
        if (!json_is_integer(v)) {
            if (checks[i].required)
                rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: %020" PRId64 ".crc: %s is missing",
                                s->root, s->version, checks[i].field);
        } else if (json_integer_value(v) != checks[i].state) {
            rc = crc_mismatch(s, checks[i].field, json_integer_value(v), checks[i].state);
        }
    }
    json_t *st = json_object_get(j, "setTransactions");
    if (rc == CA_OK && json_is_array(st) && json_array_size(st) != json_object_size(s->txns))
        rc = crc_mismatch(s, "setTransactions (count)", (int64_t)json_array_size(st),
                          (int64_t)json_object_size(s->txns));
    json_t *dm = json_object_get(j, "domainMetadata");
    if (rc == CA_OK && json_is_array(dm) && json_array_size(dm) != json_object_size(s->domains))
        rc = crc_mismatch(s, "domainMetadata (count)", (int64_t)json_array_size(dm),
                          (int64_t)json_object_size(s->domains));
    const char *mid = json_string_value(json_object_get(json_object_get(j, "metadata"), "id"));
    const char *sid = json_string_value(json_object_get(s->metadata, "id"));
    if (rc == CA_OK && mid && sid && strcmp(mid, sid) != 0)
        rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                        "delta: %s: %020" PRId64 ".crc: metadata.id is %s, the replayed state has %s",
                        s->root, s->version, mid, sid);
    json_t *p = json_object_get(j, "protocol");
    json_t *rv = json_object_get(p, "minReaderVersion"), *wv = json_object_get(p, "minWriterVersion");
    if (rc == CA_OK && json_is_integer(rv) && json_integer_value(rv) != s->min_reader)
        rc = crc_mismatch(s, "protocol.minReaderVersion", json_integer_value(rv), s->min_reader);
    if (rc == CA_OK && json_is_integer(wv) && json_integer_value(wv) != s->min_writer)
        rc = crc_mismatch(s, "protocol.minWriterVersion", json_integer_value(wv), s->min_writer);
    json_decref(j);
    return rc;
}

/* ---- the per-context snapshot cache (delta.md §6) ------------------------------------------ */

static const dl_commit_meta *commit_of(const ca_delta_snapshot *s, int64_t v)
{
    for (size_t i = s->n_commits; i-- > 0;)
        if (s->commits[i].version == v)
            return &s->commits[i];
    return NULL;
}

static ca_delta_snapshot *cache_get(ca_delta_ctx *ctx, const char *root, int64_t version,
                                    const dl_commit_meta *cm)
{
    ca_delta_snapshot *hit = NULL;
    pthread_mutex_lock(&ctx->cache_lock);
    for (size_t i = 0; i < DL_SNAPSHOT_CACHE && ctx->cache[i]; i++) {
        ca_delta_snapshot *c = ctx->cache[i];
        if (c->version != version || strcmp(c->root, root) != 0)
            continue;
        const dl_commit_meta *cc = commit_of(c, version);
        bool same = (!cm && !cc) || (cm && cc && cm->mtime_ms == cc->mtime_ms && cm->size == cc->size);
        if (!same)
            continue;
        hit = c;
        memmove(&ctx->cache[1], &ctx->cache[0], i * sizeof *ctx->cache);
        ctx->cache[0] = hit;
        ca_delta__snapshot_ref(hit);
        break;
    }
    pthread_mutex_unlock(&ctx->cache_lock);
    return hit;
}

/* The newest cached snapshot of s->root below target whose commit file is unchanged. */
static ca_delta_snapshot *cache_get_below(ca_delta_ctx *ctx, const ca_delta_snapshot *s, int64_t target)
{
    ca_delta_snapshot *best = NULL;
    pthread_mutex_lock(&ctx->cache_lock);
    for (size_t i = 0; i < DL_SNAPSHOT_CACHE && ctx->cache[i]; i++) {
        ca_delta_snapshot *c = ctx->cache[i];
        if (c->version >= target || strcmp(c->root, s->root) != 0 || (best && best->version >= c->version))
            continue;
        const dl_commit_meta *cm = commit_of(s, c->version), *cc = commit_of(c, c->version);
        if (cm && cc && cm->mtime_ms == cc->mtime_ms && cm->size == cc->size)
            best = c;
    }
    if (best)
        ca_delta__snapshot_ref(best);
    pthread_mutex_unlock(&ctx->cache_lock);
    return best;
}

static void cache_put(ca_delta_ctx *ctx, ca_delta_snapshot *s)
{
    ca_delta__snapshot_ref(s);
    pthread_mutex_lock(&ctx->cache_lock);
    ca_delta_snapshot *evict = ctx->cache[DL_SNAPSHOT_CACHE - 1];
    memmove(&ctx->cache[1], &ctx->cache[0], (DL_SNAPSHOT_CACHE - 1) * sizeof *ctx->cache);
    ctx->cache[0] = s;
    pthread_mutex_unlock(&ctx->cache_lock);
    ca_delta_snapshot_close(evict);
}

void ca_delta__cache_clear(ca_delta_ctx *ctx)
{
    pthread_mutex_lock(&ctx->cache_lock);
    ca_delta_snapshot *all[DL_SNAPSHOT_CACHE];
    memcpy(all, ctx->cache, sizeof all);
    memset(ctx->cache, 0, sizeof ctx->cache);
    pthread_mutex_unlock(&ctx->cache_lock);
    for (size_t i = 0; i < DL_SNAPSHOT_CACHE; i++)
        ca_delta_snapshot_close(all[i]);
}

static int cmp_file(const void *a, const void *b)
{
    const dl_file *x = *(dl_file *const *)a, *y = *(dl_file *const *)b;
    int c = strcmp(x->cpath, y->cpath);
    if (c)
        return c;
    return strcmp(x->dv_id ? x->dv_id : "", y->dv_id ? y->dv_id : "");
}

static const char *const supported_reader_features[] = {
    "columnMapping", "deletionVectors", "timestampNtz", "timestampWithoutTimezone", "v2Checkpoint",
    "vacuumProtocolCheck", "typeWidening", "typeWidening-preview",
};

static int check_protocol(ca_delta_snapshot *s)
{
    json_t *p = s->protocol;
    s->min_reader = (int)json_integer_value(json_object_get(p, "minReaderVersion"));
    s->min_writer = (int)json_integer_value(json_object_get(p, "minWriterVersion"));
    if (s->min_reader > 3 || s->min_reader < 1)
        return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD,
                          "delta: %s: version %" PRId64 ": reader version %d is not supported (1-3)",
                          s->root, s->version, s->min_reader);
    if (s->min_reader < 3)
        return CA_OK;
    json_t *rf = json_object_get(p, "readerFeatures");
    if (rf && !json_is_array(rf))
        return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                          "delta: %s: version %" PRId64 ": protocol.readerFeatures is not an array",
                          s->root, s->version);
    ca_buf bad = CA_BUF_INIT;
    size_t i;
    json_t *f;
    json_array_foreach(rf, i, f)
    {
        const char *name = json_string_value(f);
        bool ok = false;
        for (size_t k = 0; name && k < sizeof supported_reader_features / sizeof *supported_reader_features; k++)
            if (strcmp(name, supported_reader_features[k]) == 0)
                ok = true;
        if (!ok)
            ca_buf_printf(&bad, "%s%s", bad.len ? ", " : "", name ? name : "(non-string)");
    }
    int rc = CA_OK;
    if (bad.len)
        rc = ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD,
                        "delta: %s: version %" PRId64 ": unsupported reader features: %s", s->root,
                        s->version, ca_buf_cstr(&bad));
    ca_buf_free(&bad);
    return rc;
}

static int load_metadata(ca_delta_snapshot *s)
{
    json_t *m = s->metadata;
    const char *ss = json_string_value(json_object_get(m, "schemaString"));
    if (!ss)
        return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                          "delta: %s: version %" PRId64 ": metaData has no schemaString", s->root,
                          s->version);
    const char *mode = json_string_value(
        json_object_get(json_object_get(m, "configuration"), "delta.columnMapping.mode"));
    if (!mode || strcmp(mode, "none") == 0)
        s->cm_mode = DL_CM_NONE;
    else if (strcmp(mode, "name") == 0)
        s->cm_mode = DL_CM_NAME;
    else if (strcmp(mode, "id") == 0)
        s->cm_mode = DL_CM_ID;
    else
        return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD,
                          "delta: %s: version %" PRId64 ": column mapping mode '%s'", s->root,
                          s->version, mode);
    int rc = ca_delta__schema_parse(s->root, ss, s->cm_mode, &s->schema);
    if (rc)
        return rc;
    json_t *pc = json_object_get(m, "partitionColumns");
    if (pc && !json_is_array(pc))
        return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                          "delta: %s: version %" PRId64 ": metaData.partitionColumns is not an array",
                          s->root, s->version);
    size_t n = json_array_size(pc);
    s->part_cols = n ? ca__calloc(n, sizeof *s->part_cols) : NULL;
    if (n && !s->part_cols)
        return ca_err_nomem(DL_MOD, "snapshot");
    for (size_t i = 0; i < n; i++) {
        const char *c = json_string_value(json_array_get(pc, i));
        if (!c || !ca_delta__field(s, c))
            return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                              "delta: %s: version %" PRId64 ": partition column '%s' not in the schema",
                              s->root, s->version, c ? c : "(non-string)");
        if (!(s->part_cols[i] = ca__strdup(c)))
            return ca_err_nomem(DL_MOD, "snapshot");
        s->n_part_cols++;
    }
    return CA_OK;
}

const dl_field *ca_delta__field(const ca_delta_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->schema.n_fields; i++)
        if (strcmp(s->schema.fields[i].name, name) == 0)
            return &s->schema.fields[i];
    /* Delta column names are case-insensitive */
    for (size_t i = 0; i < s->schema.n_fields; i++)
        if (strcasecmp(s->schema.fields[i].name, name) == 0)
            return &s->schema.fields[i];
    return NULL;
}

const char *ca_delta__part_value(const ca_delta_snapshot *s, const dl_file *f, size_t i)
{
    if (!f->pv)
        return NULL;
    const dl_field *fd = ca_delta__field(s, s->part_cols[i]);
    const char *key = fd ? fd->phys : s->part_cols[i];
    json_t *v = json_object_get(f->pv, key);
    if (!v && fd) {
        v = json_object_get(f->pv, fd->name);
        if (!v) { /* case-insensitive key match */
            const char *k;
            json_t *val;
            json_object_foreach(f->pv, k, val)
            {
                if (strcasecmp(k, key) == 0) {
                    v = val;
                    break;
                }
            }
        }
    }
    return json_string_value(v);
}

/* Commit timestamps: mtime made strictly increasing (delta.md §6). */
static void commit_timestamps(dl_commit_meta *c, size_t n, int64_t *ts)
{
    for (size_t i = 0; i < n; i++) {
        ts[i] = c[i].mtime_ms;
        if (i > 0 && ts[i] <= ts[i - 1])
            ts[i] = ts[i - 1] + 1;
    }
}

static int parse_ts(ca_delta_ctx *ctx, const char *root, const char *text, int64_t *ms)
{
    char *q = ca_duck_quote_literal(text);
    if (!q)
        return ca_err_nomem(DL_MOD, "timestamp");
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "SELECT epoch_ms(CAST(%s AS TIMESTAMPTZ))", q);
    ca__free(q);
    bool is_null = false;
    pthread_mutex_lock(&ctx->conn_lock);
    int rc = ca_buf_status(&b) ? ca_buf_status(&b)
                               : ca_duck_query_int64(ctx->conn, ca_buf_cstr(&b), ms, &is_null);
    pthread_mutex_unlock(&ctx->conn_lock);
    ca_buf_free(&b);
    if (rc || is_null)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: timestamp '%s' is not a valid RFC 3339 timestamp",
                          root, text);
    return CA_OK;
}

/* commitInfo.inCommitTimestamp of commit v (first line). */
static int commit_ict(ca_delta_ctx *ctx, const char *root, const char *logdir, int64_t v, int64_t *out)
{
    char name[32];
    snprintf(name, sizeof name, "%020" PRId64 ".json", v);
    ca_buf pb = CA_BUF_INIT;
    ca_buf_printf(&pb, "%s/%s", logdir, name);
    char *text = NULL;
    size_t len = 0;
    int rc = ca_buf_status(&pb) ? ca_buf_status(&pb)
                                : ca_fs_read_file(ctx->fs, ca_buf_cstr(&pb), 0, &text, &len);
    ca_buf_free(&pb);
    if (rc)
        return rc;
    char *nl = memchr(text, '\n', len);
    json_t *o = json_loadb(text, nl ? (size_t)(nl - text) : len, 0, NULL);
    json_t *ict = json_object_get(json_object_get(o, "commitInfo"), "inCommitTimestamp");
    if (json_is_integer(ict))
        *out = json_integer_value(ict);
    else
        rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                        "delta: %s: %s: in-commit timestamps are on but commitInfo.inCommitTimestamp is missing",
                        root, name);
    json_decref(o);
    ca__free(text);
    return rc;
}

static int cmp_commit(const void *a, const void *b)
{
    const dl_commit_meta *x = a, *y = b;
    return x->version < y->version ? -1 : x->version > y->version;
}

static int replay_commit(replay *r, const char *logdir, int64_t v)
{
    char name[32];
    snprintf(name, sizeof name, "%020" PRId64 ".json", v);
    ca_buf pb = CA_BUF_INIT;
    ca_buf_printf(&pb, "%s/%s", logdir, name);
    char *text = NULL;
    size_t len = 0;
    int rc = ca_buf_status(&pb) ? ca_buf_status(&pb)
                                : ca_fs_read_file(r->ctx->fs, ca_buf_cstr(&pb), 0, &text, &len);
    ca_buf_free(&pb);
    if (rc == CA_E_NOT_FOUND) {
        r->vanished = true;
        return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: version %" PRId64 ": missing file %s",
                          r->root, v, name);
    }
    if (rc)
        return rc;
    r->cur_version = v;
    r->n_protocol = r->n_metadata = 0;
    json_decref(r->commit_info);
    r->commit_info = NULL;
    rc = apply_ndjson(r, name, text, len, true);
    ca__free(text);
    return rc;
}

static int replay_checkpoint(replay *r, const char *logdir, const ckpt_cand *c, const last_ckpt *lc)
{
    r->in_checkpoint = true;
    r->cur_version = c->version;
    int rc = CA_OK;
    char **paths = ca__calloc(c->n_files, sizeof *paths);
    if (!paths)
        return ca_err_nomem(DL_MOD, "checkpoint");
    for (size_t i = 0; i < c->n_files && rc == CA_OK; i++) {
        ca_buf b = CA_BUF_INIT;
        ca_buf_printf(&b, "%s/%s", logdir, c->files[i]);
        if (!(paths[i] = ca_buf_detach(&b, NULL)))
            rc = ca_err_nomem(DL_MOD, "checkpoint");
    }
    const char *src = c->files[0];
    size_t rows = 0;
    if (rc == CA_OK && c->is_json) {
        char *text = NULL;
        size_t len = 0;
        rc = ca_fs_read_file(r->ctx->fs, paths[0], 0, &text, &len);
        if (rc == CA_OK)
            rc = apply_ndjson(r, src, text, len, false);
        ca__free(text);
    } else if (rc == CA_OK) {
        rc = read_parquet_rows(r, src, paths, c->n_files, &rows);
        if (rc == CA_OK && lc->valid && lc->version == c->version && lc->size >= 0 &&
            c->kind != DL_NAME_CKPT_UUID && (int64_t)rows != lc->size)
            rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                            "delta: %s: checkpoint %s: %zu rows, _last_checkpoint says %" PRId64,
                            r->root, src, rows, lc->size);
    }
    for (size_t i = 0; i < c->n_files; i++)
        ca__free(paths[i]);
    ca__free(paths);
    if (rc == CA_OK && c->kind == DL_NAME_CKPT_UUID && r->n_ckpt_metadata != 1)
        rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                        "delta: %s: checkpoint %s: a V2 checkpoint must hold one checkpointMetadata",
                        r->root, src);
    size_t ns = json_array_size(r->sidecars);
    if (rc == CA_OK && ns) {
        char **sp = ca__calloc(ns, sizeof *sp);
        if (!sp)
            rc = ca_err_nomem(DL_MOD, "sidecars");
        for (size_t i = 0; i < ns && rc == CA_OK; i++) {
            const char *p = json_string_value(json_array_get(r->sidecars, i));
            char *cp = ca_delta__canonical_path(p);
            ca_buf b = CA_BUF_INIT;
            if (cp && cp[0] == '/')
                ca_buf_puts(&b, cp);
            else
                ca_buf_printf(&b, "%s/_sidecars/%s", logdir, cp ? cp : "");
            ca__free(cp);
            if (!(sp[i] = ca_buf_detach(&b, NULL)))
                rc = ca_err_nomem(DL_MOD, "sidecars");
        }
        if (rc == CA_OK)
            rc = read_parquet_rows(r, src, sp, ns, NULL);
        for (size_t i = 0; sp && i < ns; i++)
            ca__free(sp[i]);
        ca__free(sp);
    }
    r->in_checkpoint = false;
    return rc;
}

static int add_warning(ca_delta_snapshot *s, const char *w)
{
    char **nw = ca__realloc(s->warnings, (s->n_warnings + 1) * sizeof *nw);
    if (!nw)
        return ca_err_nomem(DL_MOD, "warning");
    s->warnings = nw;
    if (!(nw[s->n_warnings] = ca__strdup(w)))
        return ca_err_nomem(DL_MOD, "warning");
    s->n_warnings++;
    return CA_OK;
}

static int snapshot_open_once(ca_delta_ctx *ctx, const char *root_in, const ca_delta_at *at,
                              ca_delta_snapshot **out, bool *vanished)
{
    *out = NULL;
    if (!root_in || !*root_in)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: table root is empty");
    ca_delta_at latest = CA_DELTA_AT_INIT;
    if (!at)
        at = &latest;
    ca_delta_snapshot *s = ca__calloc(1, sizeof *s);
    if (!s)
        return ca_err_nomem(DL_MOD, "snapshot");
    s->ctx = ctx;
    s->refs = 1;
    s->checkpoint_version = -1;
    s->root = ca_delta__normalize_root(root_in);
    char *logdir = NULL;
    log_list ll = {0};
    last_ckpt lc = {0};
    replay r = {0};
    int64_t *ts = NULL;
    int rc = CA_OK;
    if (!s->root) {
        rc = ca_err_nomem(DL_MOD, "snapshot");
        goto done;
    }
    {
        ca_buf b = CA_BUF_INIT;
        ca_buf_printf(&b, "%s/_delta_log", s->root);
        if (!(logdir = ca_buf_detach(&b, NULL))) {
            rc = ca_err_nomem(DL_MOD, "snapshot");
            goto done;
        }
    }
    if ((rc = list_log(ctx, s->root, logdir, &ll)))
        goto done;
    read_last_checkpoint(ctx, logdir, &lc, &s->warnings, &s->n_warnings);
    if (ll.n_commits) qsort(ll.commits, ll.n_commits, sizeof *ll.commits, cmp_commit);

    int64_t latest_v = -1;
    if (ll.n_commits)
        latest_v = ll.commits[ll.n_commits - 1].version;
    for (size_t i = 0; i < ll.n_ckpts; i++)
        if (cand_complete(&ll.ckpts[i]) && ll.ckpts[i].version > latest_v)
            latest_v = ll.ckpts[i].version;
    if (latest_v < 0) {
        rc = ca_err_set(CA_E_DELTA_NOT_A_TABLE, DL_MOD, "delta: %s: _delta_log: no commits", s->root);
        goto done;
    }
    /* oldest reconstructable version: 0 when 0.json exists, else the oldest complete checkpoint */
    int64_t oldest = -1;
    if (ll.n_commits && ll.commits[0].version == 0)
        oldest = 0;
    for (size_t i = 0; i < ll.n_ckpts; i++)
        if (cand_complete(&ll.ckpts[i]) && (oldest < 0 || ll.ckpts[i].version < oldest))
            oldest = ll.ckpts[i].version;
    if (oldest < 0)
        oldest = ll.commits[0].version; /* unreachable; replay will report the gap */

    s->commits = ll.commits;
    s->n_commits = ll.n_commits;
    ll.commits = NULL;
    ts = s->n_commits ? ca__calloc(s->n_commits, sizeof *ts) : NULL;
    if (s->n_commits && !ts) {
        rc = ca_err_nomem(DL_MOD, "snapshot");
        goto done;
    }
    commit_timestamps(s->commits, s->n_commits, ts);

    int64_t target = latest_v;
    if (at->kind == CA_DELTA_AT_VERSION) {
        target = at->table_version;
        if (target < oldest || target > latest_v) {
            rc = ca_err_set(CA_E_DELTA_VERSION, DL_MOD,
                            "delta: %s: version %" PRId64 ": not reachable (versions %" PRId64
                            "..%" PRId64 ")",
                            s->root, target, oldest, latest_v);
            goto done;
        }
    } else if (at->kind == CA_DELTA_AT_TIMESTAMP) {
        int64_t t_ms = 0;
        if (!at->timestamp) {
            rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: timestamp travel without a timestamp",
                            s->root);
            goto done;
        }
        if ((rc = parse_ts(ctx, s->root, at->timestamp, &t_ms)))
            goto done;
        /* in-commit timestamps (delta.md §6): the latest metadata says whether they are on */
        int64_t ict_from = INT64_MAX; /* first version whose ts is its inCommitTimestamp */
        int64_t ict_since = INT64_MIN; /* enablement timestamp */
        {
            ca_delta_snapshot *lat = NULL;
            if ((rc = ca_delta__snapshot_open(ctx, s->root, NULL, &lat)))
                goto done;
            json_t *conf = json_object_get(lat->metadata, "configuration");
            const char *on = json_string_value(json_object_get(conf, "delta.enableInCommitTimestamps"));
            if (on && strcmp(on, "true") == 0) {
                const char *ev = json_string_value(json_object_get(conf, "delta.inCommitTimestampEnablementVersion"));
                const char *et = json_string_value(json_object_get(conf, "delta.inCommitTimestampEnablementTimestamp"));
                ict_from = ev ? strtoll(ev, NULL, 10) : 0;
                ict_since = et ? strtoll(et, NULL, 10) : INT64_MIN;
            }
            ca_delta_snapshot_close(lat);
        }
        target = -1;
        if (ict_from != INT64_MAX && t_ms >= ict_since) {
            /* binary search over the ICT commits: newest v with ict(v) <= T */
            size_t lo = 0, hi = s->n_commits; /* candidates [lo, hi) */
            while (lo < s->n_commits && (s->commits[lo].version < ict_from || s->commits[lo].version < oldest))
                lo++;
            size_t first = lo;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int64_t ict = 0;
                if ((rc = commit_ict(ctx, s->root, logdir, s->commits[mid].version, &ict)))
                    goto done;
                if (ict <= t_ms)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo > first)
                target = s->commits[lo - 1].version;
        }
        if (target < 0) {
            for (size_t i = 0; i < s->n_commits; i++)
                if (s->commits[i].version >= oldest && s->commits[i].version < ict_from && ts[i] <= t_ms)
                    target = s->commits[i].version;
        }
        if (target < 0) {
            rc = ca_err_set(CA_E_DELTA_VERSION, DL_MOD,
                            "delta: %s: timestamp %s: before the oldest reachable commit (version %" PRId64 ")",
                            s->root, at->timestamp, oldest);
            goto done;
        }
    } else if (at->kind != CA_DELTA_AT_LATEST) {
        rc = ca_err_set(CA_E_INVALID, DL_MOD, "delta: %s: bad ca_delta_at kind", s->root);
        goto done;
    }
    s->version = target;

    /* the snapshot cache: same table and version, and <target>.json unchanged */
    {
        const dl_commit_meta *cm = NULL;
        for (size_t i = 0; i < s->n_commits; i++)
            if (s->commits[i].version == target)
                cm = &s->commits[i];
        ca_delta_snapshot *hit = cache_get(ctx, s->root, target, cm);
        if (hit) {
            ca__free(ts);
            ca__free(lc.v2_path);
            log_list_free(&ll);
            ca__free(logdir);
            snapshot_free(s);
            *out = hit;
            return CA_OK;
        }
    }

    /* newest complete checkpoint <= target */
    const ckpt_cand *best = NULL;
    char hint_name[128] = "";
    if (lc.valid) {
        if (lc.v2_path)
            snprintf(hint_name, sizeof hint_name, "%s", lc.v2_path);
        else if (lc.parts > 0)
            snprintf(hint_name, sizeof hint_name, "%020" PRId64 ".checkpoint.%010d.%010" PRId64 ".parquet",
                     lc.version, 1, lc.parts);
        else
            snprintf(hint_name, sizeof hint_name, "%020" PRId64 ".checkpoint.parquet", lc.version);
    }
    for (size_t i = 0; i < ll.n_ckpts; i++) {
        const ckpt_cand *c = &ll.ckpts[i];
        if (!cand_complete(c) || c->version > target)
            continue;
        if (!best || c->version > best->version ||
            (c->version == best->version && cand_rank(c, hint_name) < cand_rank(best, hint_name)))
            best = c;
    }
    for (size_t i = 0; i < ll.n_ckpts; i++)
        if (!cand_complete(&ll.ckpts[i])) {
            char w[160];
            snprintf(w, sizeof w, "incomplete_checkpoint: version %" PRId64 " has %zu of %d parts",
                     ll.ckpts[i].version, ll.ckpts[i].n_files, ll.ckpts[i].parts);
            if ((rc = add_warning(s, w)))
                goto done;
        }

    r.ctx = ctx;
    r.root = s->root;
    r.txns = json_object();
    r.domains = json_object();
    r.sidecars = json_array();
    if (!r.txns || !r.domains || !r.sidecars) {
        rc = ca_err_nomem(DL_MOD, "snapshot");
        goto done;
    }
    int64_t start = 0;
    /* a cached older snapshot at or after the checkpoint: replay only the commits after it */
    ca_delta_snapshot *base = cache_get_below(ctx, s, target);
    if (base && (!best || base->version >= best->version)) {
        rc = seed_from(&r, base);
        s->checkpoint_version = base->checkpoint_version;
        start = base->version + 1;
        ca_delta_snapshot_close(base);
        if (rc)
            goto done;
    } else {
        ca_delta_snapshot_close(base);
        if (best) {
            if ((rc = replay_checkpoint(&r, logdir, best, &lc)))
                goto done;
            s->checkpoint_version = best->version;
            start = best->version + 1;
        }
    }
    /* contiguity: commits start..target must all exist */
    {
        size_t i = 0;
        while (i < s->n_commits && s->commits[i].version < start)
            i++;
        for (int64_t v = start; v <= target; v++, i++) {
            if (i >= s->n_commits || s->commits[i].version != v) {
                rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                                "delta: %s: version %" PRId64 ": missing file %020" PRId64
                                ".json (versions not contiguous)",
                                s->root, v, v);
                goto done;
            }
        }
    }
    for (int64_t v = start; v <= target; v++)
        if ((rc = replay_commit(&r, logdir, v)))
            goto done;

    if (!r.protocol) {
        rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: version %" PRId64 ": no protocol action",
                        s->root, target);
        goto done;
    }
    if (!r.metadata) {
        rc = ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: version %" PRId64 ": no metaData action",
                        s->root, target);
        goto done;
    }
    s->protocol = r.protocol;
    s->metadata = r.metadata;
    s->commit_info = r.commit_info;
    s->txns = r.txns;
    s->domains = r.domains;
    r.protocol = r.metadata = r.commit_info = r.txns = r.domains = NULL;
    if ((rc = check_protocol(s)) || (rc = load_metadata(s)))
        goto done;

    /* commit timestamp of the snapshot version */
    s->timestamp_ms = 0;
    for (size_t i = 0; i < s->n_commits; i++)
        if (s->commits[i].version == target)
            s->timestamp_ms = ts[i];
    const char *ict = json_string_value(json_object_get(
        json_object_get(s->metadata, "configuration"), "delta.enableInCommitTimestamps"));
    json_t *ictv = json_object_get(s->commit_info, "inCommitTimestamp");
    if (ict && strcmp(ict, "true") == 0 && json_is_integer(ictv))
        s->timestamp_ms = json_integer_value(ictv);

    /* split the reconciled set */
    size_t na = 0, nt = 0;
    for (size_t i = 0; i < r.files.cap; i++)
        if (r.files.slots[i].f) {
            if (r.files.slots[i].f->is_add)
                na++;
            else
                nt++;
        }
    s->files = na ? ca__calloc(na, sizeof *s->files) : NULL;
    s->tombstones = nt ? ca__calloc(nt, sizeof *s->tombstones) : NULL;
    if ((na && !s->files) || (nt && !s->tombstones)) {
        rc = ca_err_nomem(DL_MOD, "snapshot");
        goto done;
    }
    for (size_t i = 0; i < r.files.cap; i++) {
        dl_file *f = r.files.slots[i].f;
        if (!f)
            continue;
        if (f->is_add)
            s->files[s->n_files++] = f;
        else
            s->tombstones[s->n_tombstones++] = f;
        r.files.slots[i].f = NULL;
    }
    if (s->n_files) qsort(s->files, s->n_files, sizeof *s->files, cmp_file);
    if (s->n_tombstones) qsort(s->tombstones, s->n_tombstones, sizeof *s->tombstones, cmp_file);

done:
    *vanished = r.vanished;
    fmap_free(&r.files);
    json_decref(r.protocol);
    json_decref(r.metadata);
    json_decref(r.commit_info);
    json_decref(r.txns);
    json_decref(r.domains);
    json_decref(r.sidecars);
    ca__free(ts);
    ca__free(lc.v2_path);
    log_list_free(&ll);
    ca__free(logdir);
    if (rc) {
        snapshot_free(s);
        return rc;
    }
    if (ctx->verify_crc && (rc = verify_crc(ctx, s)) != CA_OK) {
        snapshot_free(s);
        return rc;
    }
    cache_put(ctx, s);
    *out = s;
    return CA_OK;
}

int ca_delta__snapshot_open(ca_delta_ctx *ctx, const char *root, const ca_delta_at *at,
                            ca_delta_snapshot **out)
{
    ca_trace_span span;
    ca_trace_begin(ctx->trace, &span, "delta", "delta.snapshot_load");
    ca_trace_arg_str(&span, "root", root);
    bool vanished = false;
    int rc = snapshot_open_once(ctx, root, at, out, &vanished);
    if (rc && vanished) /* a file listed a moment ago is gone: re-list and retry once (§6 step 5) */
        rc = snapshot_open_once(ctx, root, at, out, &vanished);
    if (rc == CA_OK) {
        ca_trace_arg_int(&span, "version", (*out)->version);
        ca_trace_arg_int(&span, "files", (int64_t)(*out)->n_files);
        ca_trace_arg_int(&span, "checkpoint", (*out)->checkpoint_version);
    } else {
        ca_trace_arg_str(&span, "error", ca_error_name(rc));
    }
    ca_trace_end(&span);
    return rc;
}

int ca_delta_table_open(ca_delta_ctx *ctx, const char *root, const ca_delta_at *at,
                        ca_delta_snapshot **out)
{
    if (!ctx || !out)
        return ca_err_set(CA_E_INVALID, DL_MOD, "delta: ca_delta_table_open: NULL argument");
    return ca_delta__snapshot_open(ctx, root, at, out);
}

/* ---- history ----------------------------------------------------------------------------- */

void ca_delta_history_free(ca_delta_history_entry *h, size_t n)
{
    if (!h)
        return;
    for (size_t i = 0; i < n; i++) {
        ca__free(h[i].operation);
        ca__free(h[i].operation_parameters_json);
        ca__free(h[i].operation_metrics_json);
        ca__free(h[i].user_metadata);
        ca__free(h[i].custom_json);
        ca__free(h[i].commit_info_json);
        ca__free(h[i].engine_info);
    }
    ca__free(h);
}

static char *dup_json(json_t *j)
{
    if (!j)
        return NULL;
    char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t)
        return NULL;
    char *c = ca__strdup(t);
    ca__free(t); /* jansson allocates through ca__malloc (ca_json_init) */
    return c;
}

static char *dup_str(const char *s) { return s ? ca__strdup(s) : NULL; }

static const char *const std_commit_keys[] = {
    "timestamp", "operation", "operationParameters", "operationMetrics", "userMetadata",
    "engineInfo", "readVersion", "isBlindAppend", "isolationLevel", "txnId", "inCommitTimestamp",
    "userId", "userName", "job", "notebook", "clusterId", "tags",
};

static int history_entry(ca_delta_ctx *ctx, const char *root, const char *logdir, int64_t v,
                         int64_t ts_ms, ca_delta_history_entry *e)
{
    char name[32];
    snprintf(name, sizeof name, "%020" PRId64 ".json", v);
    ca_buf pb = CA_BUF_INIT;
    ca_buf_printf(&pb, "%s/%s", logdir, name);
    char *text = NULL;
    size_t len = 0;
    int rc = ca_buf_status(&pb) ? ca_buf_status(&pb)
                                : ca_fs_read_file(ctx->fs, ca_buf_cstr(&pb), 0, &text, &len);
    ca_buf_free(&pb);
    if (rc)
        return rc;
    json_t *ci = NULL;
    char *p = text, *end = text + len;
    size_t line = 0;
    while (p < end && !ci) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        if (le > p) {
            json_error_t jerr;
            json_t *o = json_loadb(p, (size_t)(le - p), 0, &jerr);
            if (!o) {
                ca__free(text);
                return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: %s: line %zu: %s", root,
                                  name, line, jerr.text);
            }
            json_t *c = json_object_get(o, "commitInfo");
            if (json_is_object(c))
                ci = json_incref(c);
            json_decref(o);
        }
        p = nl ? nl + 1 : end;
    }
    ca__free(text);
    memset(e, 0, sizeof *e);
    e->version = v;
    e->timestamp_ms = ts_ms;
    json_t *ictv = json_object_get(ci, "inCommitTimestamp");
    if (json_is_integer(ictv))
        e->timestamp_ms = json_integer_value(ictv);
    e->operation = dup_str(json_string_value(json_object_get(ci, "operation")));
    e->operation_parameters_json = dup_json(json_object_get(ci, "operationParameters"));
    e->operation_metrics_json = dup_json(json_object_get(ci, "operationMetrics"));
    e->user_metadata = dup_str(json_string_value(json_object_get(ci, "userMetadata")));
    e->engine_info = dup_str(json_string_value(json_object_get(ci, "engineInfo")));
    json_t *rv = json_object_get(ci, "readVersion");
    e->read_version = json_is_integer(rv) ? json_integer_value(rv) : -1;
    json_t *ba = json_object_get(ci, "isBlindAppend");
    e->is_blind_append = json_is_boolean(ba) ? json_is_true(ba) : -1;
    json_t *custom = json_object();
    const char *k;
    json_t *val;
    json_object_foreach(ci, k, val)
    {
        bool std = false;
        for (size_t i = 0; i < sizeof std_commit_keys / sizeof *std_commit_keys; i++)
            if (strcmp(k, std_commit_keys[i]) == 0)
                std = true;
        if (!std)
            json_object_set(custom, k, val);
    }
    e->custom_json = dup_json(custom);
    json_decref(custom);
    e->commit_info_json = ci ? dup_json(ci) : ca__strdup("null");
    json_decref(ci);
    if (!e->custom_json || !e->commit_info_json)
        return ca_err_nomem(DL_MOD, "history");
    return CA_OK;
}

int ca_delta_history(ca_delta_ctx *ctx, const char *root_in, int64_t limit,
                     ca_delta_history_entry **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    char *root = ca_delta__normalize_root(root_in);
    if (!root)
        return ca_err_nomem(DL_MOD, "history");
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/_delta_log", root);
    char *logdir = ca_buf_detach(&b, NULL);
    log_list ll = {0};
    int64_t *ts = NULL;
    ca_delta_history_entry *h = NULL;
    size_t nh = 0;
    int rc = logdir ? list_log(ctx, root, logdir, &ll) : ca_err_nomem(DL_MOD, "history");
    if (rc == CA_OK && ll.n_commits == 0)
        rc = ca_err_set(CA_E_DELTA_NOT_A_TABLE, DL_MOD, "delta: %s: _delta_log: no commits", root);
    if (rc == CA_OK) {
        if (ll.n_commits) qsort(ll.commits, ll.n_commits, sizeof *ll.commits, cmp_commit);
        ts = ca__calloc(ll.n_commits, sizeof *ts);
        size_t want = ll.n_commits;
        if (limit > 0 && (uint64_t)limit < want)
            want = (size_t)limit;
        h = ca__calloc(want, sizeof *h);
        if (!ts || !h)
            rc = ca_err_nomem(DL_MOD, "history");
        else
            commit_timestamps(ll.commits, ll.n_commits, ts);
        for (size_t i = 0; rc == CA_OK && i < want; i++) {
            size_t k = ll.n_commits - 1 - i;
            rc = history_entry(ctx, root, logdir, ll.commits[k].version, ts[k], &h[i]);
            nh++;
        }
    }
    ca__free(ts);
    log_list_free(&ll);
    ca__free(logdir);
    ca__free(root);
    if (rc) {
        ca_delta_history_free(h, nh);
        return rc;
    }
    *out = h;
    *n_out = nh;
    return CA_OK;
}

/* ---- info and add actions ---------------------------------------------------------------- */

static int64_t num_records_of(const dl_file *f)
{
    if (!f->stats)
        return -1;
    json_t *j = json_loads(f->stats, 0, NULL);
    json_t *n = json_object_get(j, "numRecords");
    int64_t v = json_is_integer(n) ? json_integer_value(n) : -1;
    json_decref(j);
    return v;
}

static char **str_list(json_t *arr, size_t *n)
{
    *n = json_array_size(arr);
    if (!*n)
        return NULL;
    char **o = ca__calloc(*n, sizeof *o);
    for (size_t i = 0; o && i < *n; i++)
        o[i] = dup_str(json_string_value(json_array_get(arr, i)));
    return o;
}

static void str_list_free(char **l, size_t n)
{
    for (size_t i = 0; l && i < n; i++)
        ca__free(l[i]);
    ca__free(l);
}

void ca_delta_snapshot_info_free(ca_delta_snapshot_info *i)
{
    if (!i)
        return;
    ca__free(i->root);
    str_list_free(i->reader_features, i->n_reader_features);
    str_list_free(i->writer_features, i->n_writer_features);
    ca__free(i->metadata_id);
    ca__free(i->name);
    ca__free(i->description);
    ca__free(i->format_provider);
    ca__free(i->schema_json);
    str_list_free(i->partition_columns, i->n_partition_columns);
    str_list_free(i->configuration_keys, i->n_configuration);
    str_list_free(i->configuration_values, i->n_configuration);
    str_list_free(i->warnings, i->n_warnings);
    ca__free(i);
}

int ca_delta_snapshot_info_get(const ca_delta_snapshot *s, ca_delta_snapshot_info **out)
{
    ca_delta_snapshot_info *i = ca__calloc(1, sizeof *i);
    if (!i)
        return ca_err_nomem(DL_MOD, "snapshot info");
    i->root = dup_str(s->root);
    i->version = s->version;
    i->commit_timestamp_ms = s->timestamp_ms;
    i->min_reader_version = s->min_reader;
    i->min_writer_version = s->min_writer;
    i->reader_features = str_list(json_object_get(s->protocol, "readerFeatures"), &i->n_reader_features);
    i->writer_features = str_list(json_object_get(s->protocol, "writerFeatures"), &i->n_writer_features);
    json_t *m = s->metadata;
    i->metadata_id = dup_str(json_string_value(json_object_get(m, "id")));
    i->name = dup_str(json_string_value(json_object_get(m, "name")));
    i->description = dup_str(json_string_value(json_object_get(m, "description")));
    i->format_provider =
        dup_str(json_string_value(json_object_get(json_object_get(m, "format"), "provider")));
    i->schema_json = dup_str(json_string_value(json_object_get(m, "schemaString")));
    i->partition_columns = str_list(json_object_get(m, "partitionColumns"), &i->n_partition_columns);
    json_t *conf = json_object_get(m, "configuration");
    size_t nc = json_object_size(conf);
    if (nc) {
        i->configuration_keys = ca__calloc(nc, sizeof(char *));
        i->configuration_values = ca__calloc(nc, sizeof(char *));
        if (i->configuration_keys && i->configuration_values) {
            const char *k;
            json_t *v;
            json_object_foreach(conf, k, v)
            {
                i->configuration_keys[i->n_configuration] = dup_str(k);
                i->configuration_values[i->n_configuration] = dup_str(json_string_value(v));
                i->n_configuration++;
            }
        }
    }
    json_t *ct = json_object_get(m, "createdTime");
    i->created_time_ms = json_is_integer(ct) ? json_integer_value(ct) : -1;
    for (size_t k = 0; k < s->n_files; k++) {
        const dl_file *f = s->files[k];
        i->num_files++;
        i->num_bytes += f->size > 0 ? f->size : 0;
        int64_t nr = num_records_of(f);
        if (nr >= 0)
            i->num_records += nr - (f->dv.storage ? f->dv.cardinality : 0);
        else
            i->files_missing_num_records++;
        if (f->dv.storage)
            i->num_dv_files++;
    }
    i->checkpoint_version = s->checkpoint_version;
    i->n_warnings = s->n_warnings;
    if (s->n_warnings) {
        i->warnings = ca__calloc(s->n_warnings, sizeof(char *));
        for (size_t k = 0; i->warnings && k < s->n_warnings; k++)
            i->warnings[k] = dup_str(s->warnings[k]);
        if (!i->warnings)
            i->n_warnings = 0;
    }
    *out = i;
    return CA_OK;
}

void ca_delta_add_actions_free(ca_delta_add_action *a, size_t n)
{
    if (!a)
        return;
    for (size_t i = 0; i < n; i++) {
        ca__free(a[i].path);
        ca__free(a[i].partition_values_json);
        ca__free(a[i].stats_json);
        ca__free(a[i].tags_json);
        ca__free(a[i].deletion_vector_json);
    }
    ca__free(a);
}

int ca_delta_add_actions(const ca_delta_snapshot *s, ca_delta_add_action **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (!s->n_files)
        return CA_OK;
    ca_delta_add_action *a = ca__calloc(s->n_files, sizeof *a);
    if (!a)
        return ca_err_nomem(DL_MOD, "add actions");
    for (size_t i = 0; i < s->n_files; i++) {
        const dl_file *f = s->files[i];
        a[i].path = dup_str(f->path);
        a[i].size = f->size;
        a[i].modification_time = f->mtime;
        a[i].data_change = f->data_change;
        a[i].partition_values_json = f->pv ? dup_json(f->pv) : ca__strdup("{}");
        a[i].stats_json = dup_str(f->stats);
        a[i].num_records = num_records_of(f);
        json_t *tags = json_object_get(f->action, "tags");
        a[i].tags_json = json_is_object(tags) ? dup_json(tags) : NULL;
        json_t *dv = json_object_get(f->action, "deletionVector");
        if (json_is_object(dv)) {
            json_t *o = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?}", "storageType",
                                  json_object_get(dv, "storageType"), "pathOrInlineDv",
                                  json_object_get(dv, "pathOrInlineDv"), "offset",
                                  json_object_get(dv, "offset"), "sizeInBytes",
                                  json_object_get(dv, "sizeInBytes"), "cardinality",
                                  json_object_get(dv, "cardinality"));
            a[i].deletion_vector_json = dup_json(o);
            json_decref(o);
        }
        if (!a[i].path || !a[i].partition_values_json) {
            ca_delta_add_actions_free(a, s->n_files);
            return ca_err_nomem(DL_MOD, "add actions");
        }
    }
    *out = a;
    *n_out = s->n_files;
    return CA_OK;
}

