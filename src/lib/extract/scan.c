/* Repository scan: the sorted list of .py files to extract, with their module names. */
#include "lib/extract/extract_int.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MOD CA_EXTRACT_MOD

/* ---- globs ------------------------------------------------------------------------------- */

static bool class_match(const char **pp, char c)
{
    const char *p = *pp + 1; /* after '[' */
    bool neg = false, ok = false;
    if (*p == '!' || *p == '^') {
        neg = true;
        p++;
    }
    bool first = true;
    while (*p && (*p != ']' || first)) {
        char lo = *p, hi = lo;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = p[2];
            p += 2;
        }
        if (c >= lo && c <= hi)
            ok = true;
        p++;
        first = false;
    }
    if (*p != ']')
        return false; /* malformed class: no match */
    *pp = p + 1;
    return ok != neg;
}

static bool glob_at(const char *p, const char *s)
{
    while (*p) {
        if (p[0] == '*' && p[1] == '*') {
            const char *rest = p + 2;
            if (*rest == '/') {
                rest++;
                /* zero or more whole directories */
                for (const char *t = s;; t++) {
                    if ((t == s || t[-1] == '/') && glob_at(rest, t))
                        return true;
                    if (!*t)
                        return false;
                }
            }
            for (const char *t = s;; t++) {
                if (glob_at(rest, t))
                    return true;
                if (!*t)
                    return false;
            }
        }
        if (*p == '*') {
            for (const char *t = s;; t++) {
                if (glob_at(p + 1, t))
                    return true;
                if (!*t || *t == '/')
                    return false;
            }
        }
        if (!*s)
            return false;
        if (*p == '?') {
            if (*s == '/')
                return false;
        } else if (*p == '[') {
            const char *q = p;
            if (*s == '/' || !class_match(&q, *s))
                return false;
            p = q;
            s++;
            continue;
        } else if (*p == '\\' && p[1]) {
            p++;
            if (*p != *s)
                return false;
        } else if (*p != *s) {
            return false;
        }
        p++;
        s++;
    }
    return !*s;
}

bool ca_extract__glob(const char *pattern, const char *path)
{
    if (pattern[0] == '/')
        return glob_at(pattern + 1, path);
    if (!strchr(pattern, '/')) {
        const char *base = strrchr(path, '/');
        return glob_at(pattern, base ? base + 1 : path);
    }
    return glob_at(pattern, path);
}

/* ---- .gitignore (top level) ---------------------------------------------------------------- */

typedef struct ignore_rule {
    char *pat;
    bool negate, dir_only;
} ignore_rule;

typedef struct scan_ctx {
    const ca_fs *fs;
    char *root;      /* as given, no trailing '/' */
    char *root_real; /* realpath */
    ignore_rule *rules;
    size_t n_rules;
    const char *const *include;
    size_t n_include;
    const char *const *exclude;
    size_t n_exclude;
    ca_x_file *files;
    size_t n, cap;
} scan_ctx;

static int load_gitignore(scan_ctx *c)
{
    char *path = NULL, *data = NULL;
    size_t len = 0;
    ca_buf b = CA_BUF_INIT;
    ca_buf_printf(&b, "%s/.gitignore", c->root);
    if (ca_buf_status(&b))
        return ca_buf_status(&b);
    path = ca_buf_detach(&b, NULL);
    int rc = ca_fs_read_file(c->fs, path, 1 << 20, &data, &len);
    ca__free(path);
    if (rc != CA_OK) {
        ca_error_clear();
        return CA_OK; /* no (readable) .gitignore: nothing ignored */
    }
    for (char *line = data; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = '\0';
        if (l && line[0] != '#') {
            ignore_rule r = {0};
            char *p = line;
            if (*p == '!') {
                r.negate = true;
                p++;
            } else if (*p == '\\') {
                p++;
            }
            l = strlen(p);
            if (l && p[l - 1] == '/') {
                r.dir_only = true;
                p[--l] = '\0';
            }
            if (l) {
                ignore_rule *nr = ca__realloc(c->rules, (c->n_rules + 1) * sizeof *nr);
                r.pat = ca__strdup(p);
                if (!nr || !r.pat) {
                    if (nr)
                        c->rules = nr;
                    ca__free(r.pat);
                    ca__free(data);
                    return ca_err_nomem(MOD, ".gitignore rules");
                }
                c->rules = nr;
                c->rules[c->n_rules++] = r;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    ca__free(data);
    return CA_OK;
}

static bool ignored(const scan_ctx *c, const char *rel, bool is_dir)
{
    bool ign = false;
    for (size_t i = 0; i < c->n_rules; i++) {
        const ignore_rule *r = &c->rules[i];
        if (r->dir_only && !is_dir)
            continue;
        if (ca_extract__glob(r->pat, rel))
            ign = !r->negate;
    }
    if (!ign) {
        for (size_t i = 0; i < c->n_exclude; i++) {
            if (ca_extract__glob(c->exclude[i], rel))
                return true;
        }
    }
    return ign;
}

static bool included(const scan_ctx *c, const char *rel)
{
    if (!c->n_include)
        return true;
    for (size_t i = 0; i < c->n_include; i++) {
        if (ca_extract__glob(c->include[i], rel))
            return true;
    }
    return false;
}

/* ---- the walk ------------------------------------------------------------------------------- */

static bool skip_dir_name(const char *name)
{
    return name[0] == '.' || !strcmp(name, "__pycache__") || !strcmp(name, "node_modules") ||
           !strcmp(name, "site-packages") || !strcmp(name, "dist-packages");
}

static int add_file(scan_ctx *c, const char *rel, const char *chain, bool dir_is_pkg, uint64_t size)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        ca_x_file *nf = ca__realloc(c->files, nc * sizeof *nf);
        if (!nf)
            return ca_err_nomem(MOD, "file list");
        c->files = nf;
        c->cap = nc;
    }
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    size_t stem_len = strlen(base) - 3; /* ".py" */
    bool is_init = !strcmp(base, "__init__.py");
    ca_buf m = CA_BUF_INIT;
    if (dir_is_pkg && chain[0]) {
        ca_buf_puts(&m, chain);
        if (!is_init) {
            ca_buf_putc(&m, '.');
            ca_buf_append(&m, base, stem_len);
        }
    } else {
        ca_buf_append(&m, base, stem_len);
    }
    if (ca_buf_status(&m)) {
        ca_buf_free(&m);
        return ca_buf_status(&m);
    }
    ca_x_file *f = &c->files[c->n];
    f->rel = ca__strdup(rel);
    f->module_name = ca_buf_detach(&m, NULL);
    f->is_init = is_init;
    f->size = size;
    if (!f->rel || !f->module_name) {
        ca__free(f->rel);
        ca__free(f->module_name);
        return ca_err_nomem(MOD, "file list");
    }
    c->n++;
    return CA_OK;
}

static bool ends_with_py(const char *name)
{
    size_t l = strlen(name);
    return l > 3 && !strcmp(name + l - 3, ".py");
}

/* rel: "" for the root, else "a/b". chain: dotted package chain of rel ("" if rel is not a
 * package). */
static int walk(scan_ctx *c, const char *rel, const char *chain, int depth)
{
    if (depth > 256)
        return CA_OK; /* absurdly deep trees: stop descending */
    ca_buf dir = CA_BUF_INIT;
    ca_buf_puts(&dir, c->root);
    if (rel[0]) {
        ca_buf_putc(&dir, '/');
        ca_buf_puts(&dir, rel);
    }
    if (ca_buf_status(&dir))
        return ca_buf_status(&dir);
    ca_fs_entry *ents = NULL;
    size_t n = 0;
    int rc = ca_fs_list(c->fs, ca_buf_cstr(&dir), &ents, &n);
    if (rc != CA_OK) {
        ca_buf_free(&dir);
        if (rel[0]) { /* an unreadable subdirectory is skipped, the root is an error */
            ca_error_clear();
            return CA_OK;
        }
        return rc;
    }
    bool has_init = false, is_venv = false;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ents[i].name, "__init__.py"))
            has_init = true;
        if (!strcmp(ents[i].name, "pyvenv.cfg"))
            is_venv = true;
    }
    if (is_venv && rel[0]) {
        ca_fs_list_free(ents, n);
        ca_buf_free(&dir);
        return CA_OK;
    }
    bool dir_is_pkg = has_init && rel[0];
    ca_buf sub = CA_BUF_INIT, subchain = CA_BUF_INIT;
    for (size_t i = 0; rc == CA_OK && i < n; i++) {
        const ca_fs_entry *e = &ents[i];
        ca_buf_clear(&sub);
        if (rel[0]) {
            ca_buf_puts(&sub, rel);
            ca_buf_putc(&sub, '/');
        }
        ca_buf_puts(&sub, e->name);
        if ((rc = ca_buf_status(&sub)) != CA_OK)
            break;
        const char *srel = ca_buf_cstr(&sub);
        ca_fs_type type = e->type;
        uint64_t size = e->size;
        if (type == CA_FS_TYPE_OTHER) {
            /* a symlink (or a device): follow only to a regular file inside the root */
            char full[PATH_MAX], real[PATH_MAX];
            struct stat st;
            if ((size_t)snprintf(full, sizeof full, "%s/%s", ca_buf_cstr(&dir), e->name) >= sizeof full ||
                !realpath(full, real) || stat(real, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            size_t rl = strlen(c->root_real);
            if (strncmp(real, c->root_real, rl) != 0 || (real[rl] != '/' && real[rl] != '\0'))
                continue;
            type = CA_FS_TYPE_FILE;
            size = (uint64_t)st.st_size;
        }
        if (type == CA_FS_TYPE_DIR) {
            if (skip_dir_name(e->name) || ignored(c, srel, true))
                continue;
            ca_buf_clear(&subchain);
            /* the chain continues only through packages; the child's own __init__.py is
             * checked when it is listed */
            if (dir_is_pkg && chain[0]) {
                ca_buf_puts(&subchain, chain);
                ca_buf_putc(&subchain, '.');
            }
            ca_buf_puts(&subchain, e->name);
            if ((rc = ca_buf_status(&subchain)) != CA_OK)
                break;
            rc = walk(c, srel, ca_buf_cstr(&subchain), depth + 1);
        } else if (type == CA_FS_TYPE_FILE) {
            if (!ends_with_py(e->name) || e->name[0] == '.' || ignored(c, srel, false) ||
                !included(c, srel))
                continue;
            rc = add_file(c, srel, chain, dir_is_pkg, size);
        }
    }
    ca_buf_free(&sub);
    ca_buf_free(&subchain);
    ca_fs_list_free(ents, n);
    ca_buf_free(&dir);
    return rc;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const ca_x_file *)a)->rel, ((const ca_x_file *)b)->rel);
}

int ca_extract__scan(const char *root, const char *const *include, size_t n_include,
                     const char *const *exclude, size_t n_exclude, ca_x_scan *out)
{
    out->files = NULL;
    out->n = 0;
    scan_ctx c = {0};
    c.fs = ca_fs_posix();
    c.include = include;
    c.n_include = n_include;
    c.exclude = exclude;
    c.n_exclude = n_exclude;
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    c.root = ca__strndup(root, rl);
    char real[PATH_MAX];
    if (!c.root)
        return ca_err_nomem(MOD, "root");
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode) || !realpath(root, real)) {
        ca__free(c.root);
        return ca_err_set(CA_E_INVALID, MOD, "extract: %s is not a directory", root);
    }
    c.root_real = ca__strdup(real);
    int rc = c.root_real ? load_gitignore(&c) : ca_err_nomem(MOD, "root");
    if (rc == CA_OK)
        rc = walk(&c, "", "", 0);
    for (size_t i = 0; i < c.n_rules; i++)
        ca__free(c.rules[i].pat);
    ca__free(c.rules);
    ca__free(c.root);
    ca__free(c.root_real);
    out->files = c.files;
    out->n = c.n;
    if (rc != CA_OK) {
        ca_extract__scan_free(out);
        return rc;
    }
    if (out->n)
        qsort(out->files, out->n, sizeof *out->files, cmp_file);
    return CA_OK;
}

void ca_extract__scan_free(ca_x_scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        ca__free(s->files[i].rel);
        ca__free(s->files[i].module_name);
    }
    ca__free(s->files);
    s->files = NULL;
    s->n = 0;
}
