/* The fault layer over any ca_fs: counts calls, fails the n-th call of an op, crashes at a step. */
#include "util/fs.h"

#include "util/alloc.h"
#include "util/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define M "util"
#define CRASH_EXIT_CODE 137

struct ca_fs_fault {
    ca_fs vt; /* vt.self == this */
    const ca_fs *inner;
    atomic_uint_fast64_t calls[CA_FS_OP_COUNT];
    atomic_uint_fast64_t countdown[CA_FS_OP_COUNT]; /* 0 = disarmed; the call that takes it 1 → 0 fails */
    atomic_int errnum[CA_FS_OP_COUNT];
    atomic_uint_fast64_t injected;
    pthread_mutex_t mu; /* serializes arming and the crash point */
    char *crash_step;   /* NULL = none */
    uint64_t crash_countdown;
};

#define CA__FS_OP_NAME(NAME, name) #name,
static const char *const op_names[CA_FS_OP_COUNT] = {CA_FS_OPS(CA__FS_OP_NAME)};
#undef CA__FS_OP_NAME

const char *ca_fs_op_name(ca_fs_op op)
{
    return (unsigned)op < CA_FS_OP_COUNT ? op_names[op] : "unknown";
}

ca_fs_op ca_fs_op_from_name(const char *name)
{
    for (int i = 0; i < CA_FS_OP_COUNT; i++)
        if (!strcmp(op_names[i], name))
            return (ca_fs_op)i;
    return CA_FS_OP_COUNT;
}

/* Counts the call; returns the errno to inject, or 0 to forward. */
static int hit(ca_fs_fault *ff, ca_fs_op op)
{
    atomic_fetch_add(&ff->calls[op], 1);
    uint_fast64_t c = atomic_load(&ff->countdown[op]);
    while (c > 0) {
        if (atomic_compare_exchange_weak(&ff->countdown[op], &c, c - 1)) {
            if (c != 1)
                return 0;
            atomic_fetch_add(&ff->injected, 1);
            return atomic_load(&ff->errnum[op]);
        }
    }
    return 0;
}

static int inject(ca_fs_op op, int e, const char *path)
{
    return ca_err_errno(e, M, "%s %s (injected fault)", op_names[op], path ? path : "<handle>");
}

#define FF ca_fs_fault *ff = self
#define IN ff->inner

static int ff_open_read(void *self, const char *path, ca_fs_file **out)
{
    FF;
    int e = hit(ff, CA_FS_OP_OPEN_READ);
    if (e) {
        *out = NULL;
        return inject(CA_FS_OP_OPEN_READ, e, path);
    }
    return IN->open_read(IN->self, path, out);
}

static int ff_read_at(void *self, ca_fs_file *f, void *buf, size_t n, uint64_t off, size_t *n_read)
{
    FF;
    int e = hit(ff, CA_FS_OP_READ_AT);
    if (e) {
        *n_read = 0;
        return inject(CA_FS_OP_READ_AT, e, NULL);
    }
    return IN->read_at(IN->self, f, buf, n, off, n_read);
}

static int ff_close(void *self, ca_fs_file *f)
{
    FF;
    int e = hit(ff, CA_FS_OP_CLOSE);
    int rc = IN->close(IN->self, f); /* the handle is released whatever happens */
    return e ? inject(CA_FS_OP_CLOSE, e, NULL) : rc;
}

static int ff_create_excl(void *self, const char *path, ca_fs_file **out)
{
    FF;
    int e = hit(ff, CA_FS_OP_CREATE_EXCL);
    if (e) {
        *out = NULL;
        return inject(CA_FS_OP_CREATE_EXCL, e, path);
    }
    return IN->create_excl(IN->self, path, out);
}

static int ff_write(void *self, ca_fs_file *f, const void *buf, size_t n)
{
    FF;
    int e = hit(ff, CA_FS_OP_WRITE);
    return e ? inject(CA_FS_OP_WRITE, e, NULL) : IN->write(IN->self, f, buf, n);
}

static int ff_fsync(void *self, ca_fs_file *f)
{
    FF;
    int e = hit(ff, CA_FS_OP_FSYNC);
    return e ? inject(CA_FS_OP_FSYNC, e, NULL) : IN->fsync(IN->self, f);
}

static int ff_link_if_absent(void *self, const char *from, const char *to)
{
    FF;
    int e = hit(ff, CA_FS_OP_LINK_IF_ABSENT);
    return e ? inject(CA_FS_OP_LINK_IF_ABSENT, e, to) : IN->link_if_absent(IN->self, from, to);
}

static int ff_rename_replace(void *self, const char *from, const char *to)
{
    FF;
    int e = hit(ff, CA_FS_OP_RENAME_REPLACE);
    return e ? inject(CA_FS_OP_RENAME_REPLACE, e, to) : IN->rename_replace(IN->self, from, to);
}

static int ff_fsync_path(void *self, const char *path)
{
    FF;
    int e = hit(ff, CA_FS_OP_FSYNC_PATH);
    return e ? inject(CA_FS_OP_FSYNC_PATH, e, path) : IN->fsync_path(IN->self, path);
}

static int ff_fsync_dir(void *self, const char *path)
{
    FF;
    int e = hit(ff, CA_FS_OP_FSYNC_DIR);
    return e ? inject(CA_FS_OP_FSYNC_DIR, e, path) : IN->fsync_dir(IN->self, path);
}

static int ff_list(void *self, const char *dir, ca_fs_entry **out, size_t *n_out)
{
    FF;
    int e = hit(ff, CA_FS_OP_LIST);
    if (e) {
        *out = NULL;
        *n_out = 0;
        return inject(CA_FS_OP_LIST, e, dir);
    }
    return IN->list(IN->self, dir, out, n_out);
}

static int ff_stat(void *self, const char *path, ca_fs_stat *out)
{
    FF;
    int e = hit(ff, CA_FS_OP_STAT);
    return e ? inject(CA_FS_OP_STAT, e, path) : IN->stat(IN->self, path, out);
}

static int ff_mkdirs(void *self, const char *path)
{
    FF;
    int e = hit(ff, CA_FS_OP_MKDIRS);
    return e ? inject(CA_FS_OP_MKDIRS, e, path) : IN->mkdirs(IN->self, path);
}

static int ff_remove(void *self, const char *path)
{
    FF;
    int e = hit(ff, CA_FS_OP_REMOVE);
    return e ? inject(CA_FS_OP_REMOVE, e, path) : IN->remove(IN->self, path);
}

static int ff_rmdir(void *self, const char *path)
{
    FF;
    int e = hit(ff, CA_FS_OP_RMDIR);
    return e ? inject(CA_FS_OP_RMDIR, e, path) : IN->rmdir(IN->self, path);
}

static int ff_step(void *self, const char *name)
{
    FF;
    int e = hit(ff, CA_FS_OP_STEP);
    if (e)
        return inject(CA_FS_OP_STEP, e, name);
    pthread_mutex_lock(&ff->mu);
    bool crash = ff->crash_step && !strcmp(ff->crash_step, name) && --ff->crash_countdown == 0;
    pthread_mutex_unlock(&ff->mu);
    if (crash)
        _exit(CRASH_EXIT_CODE);
    return IN->step(IN->self, name);
}

#undef FF
#undef IN

int ca_fs_fault_new(const ca_fs *inner, ca_fs_fault **out)
{
    *out = NULL;
    if (!inner)
        return ca_err_set(CA_E_INVALID, M, "fault layer: no inner file system");
    ca_fs_fault *ff = ca__calloc(1, sizeof *ff);
    if (!ff)
        return ca_err_nomem(M, "fault layer");
    if (pthread_mutex_init(&ff->mu, NULL)) {
        ca__free(ff);
        return ca_err_set(CA_E_INTERNAL, M, "fault layer: mutex init failed");
    }
    ff->inner = inner;
    for (int i = 0; i < CA_FS_OP_COUNT; i++) {
        atomic_init(&ff->calls[i], 0);
        atomic_init(&ff->countdown[i], 0);
        atomic_init(&ff->errnum[i], 0);
    }
    atomic_init(&ff->injected, 0);
    ff->vt = (ca_fs){
        .self = ff,
        .open_read = ff_open_read,
        .read_at = ff_read_at,
        .close = ff_close,
        .create_excl = ff_create_excl,
        .write = ff_write,
        .fsync = ff_fsync,
        .link_if_absent = ff_link_if_absent,
        .rename_replace = ff_rename_replace,
        .fsync_path = ff_fsync_path,
        .fsync_dir = ff_fsync_dir,
        .list = ff_list,
        .stat = ff_stat,
        .mkdirs = ff_mkdirs,
        .remove = ff_remove,
        .rmdir = ff_rmdir,
        .step = ff_step,
    };
    *out = ff;
    return CA_OK;
}

void ca_fs_fault_free(ca_fs_fault *ff)
{
    if (!ff)
        return;
    pthread_mutex_destroy(&ff->mu);
    ca__free(ff->crash_step);
    ca__free(ff);
}

const ca_fs *ca_fs_fault_fs(ca_fs_fault *ff) { return &ff->vt; }

int ca_fs_fault_arm(ca_fs_fault *ff, ca_fs_op op, uint64_t nth, int errnum)
{
    if ((unsigned)op >= CA_FS_OP_COUNT || nth < 1 || errnum <= 0)
        return ca_err_set(CA_E_INVALID, M, "fault layer: bad fault (op %d, call %llu, errno %d)",
                          (int)op, (unsigned long long)nth, errnum);
    pthread_mutex_lock(&ff->mu);
    atomic_store(&ff->countdown[op], 0);
    atomic_store(&ff->errnum[op], errnum);
    atomic_store(&ff->countdown[op], nth);
    pthread_mutex_unlock(&ff->mu);
    return CA_OK;
}

int ca_fs_fault_arm_crash(ca_fs_fault *ff, const char *step_name, uint64_t nth)
{
    char *copy = NULL;
    if (step_name) {
        if (nth < 1)
            return ca_err_set(CA_E_INVALID, M, "fault layer: crash at %s: call must be >= 1",
                              step_name);
        if (!(copy = ca__strdup(step_name)))
            return ca_err_nomem(M, "fault layer");
    }
    pthread_mutex_lock(&ff->mu);
    ca__free(ff->crash_step);
    ff->crash_step = copy;
    ff->crash_countdown = copy ? nth : 0;
    pthread_mutex_unlock(&ff->mu);
    return CA_OK;
}

void ca_fs_fault_disarm(ca_fs_fault *ff)
{
    pthread_mutex_lock(&ff->mu);
    for (int i = 0; i < CA_FS_OP_COUNT; i++)
        atomic_store(&ff->countdown[i], 0);
    ca__free(ff->crash_step);
    ff->crash_step = NULL;
    ff->crash_countdown = 0;
    pthread_mutex_unlock(&ff->mu);
}

uint64_t ca_fs_fault_calls(const ca_fs_fault *ff, ca_fs_op op)
{
    if ((unsigned)op >= CA_FS_OP_COUNT)
        return 0;
    return atomic_load(&((ca_fs_fault *)ff)->calls[op]);
}

uint64_t ca_fs_fault_injected(const ca_fs_fault *ff)
{
    return atomic_load(&((ca_fs_fault *)ff)->injected);
}

void ca_fs_fault_reset_counts(ca_fs_fault *ff)
{
    for (int i = 0; i < CA_FS_OP_COUNT; i++)
        atomic_store(&ff->calls[i], 0);
    atomic_store(&ff->injected, 0);
}

/* ---- text form ------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    int value;
} errno_names[] = {
    {"ENOSPC", ENOSPC}, {"EIO", EIO},       {"EEXIST", EEXIST}, {"EACCES", EACCES},
    {"EPERM", EPERM},   {"ENOENT", ENOENT}, {"EROFS", EROFS},   {"EDQUOT", EDQUOT},
    {"ENOTSUP", ENOTSUP},
};

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || *s == '-' || v < 1)
        return false;
    *out = v;
    return true;
}

#define SPEC_MAX_ITEMS 32

int ca_fs_fault_arm_spec(ca_fs_fault *ff, const char *spec)
{
    struct item {
        bool crash;
        ca_fs_op op;
        uint64_t nth;
        int errnum;
        char *step; /* points into copy */
    } items[SPEC_MAX_ITEMS];
    int n = 0, rc = CA_OK;
    char *copy = ca__strdup(spec ? spec : "");
    if (!copy)
        return ca_err_nomem(M, "fault spec");
    char *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        if (n == SPEC_MAX_ITEMS) {
            rc = ca_err_set(CA_E_INVALID, M, "fault spec: more than %d items", SPEC_MAX_ITEMS);
            break;
        }
        char *f2 = strchr(it, ':'), *f3 = NULL;
        if (f2) {
            *f2++ = '\0';
            if ((f3 = strchr(f2, ':')))
                *f3++ = '\0';
        }
        struct item *m = &items[n];
        memset(m, 0, sizeof *m);
        if (!strcmp(it, "crash")) {
            m->crash = true;
            m->step = f2;
            m->nth = 1;
            if (!f2 || !*f2 || (f3 && !parse_u64(f3, &m->nth))) {
                rc = ca_err_set(CA_E_INVALID, M, "fault spec: expected crash:<step>[:<n>]");
                break;
            }
        } else {
            m->op = ca_fs_op_from_name(it);
            if (m->op == CA_FS_OP_COUNT || !parse_u64(f2, &m->nth) || !f3) {
                rc = ca_err_set(CA_E_INVALID, M, "fault spec: expected <op>:<n>:<ERRNO> at '%s'",
                                it);
                break;
            }
            for (size_t k = 0; k < sizeof errno_names / sizeof errno_names[0]; k++)
                if (!strcmp(errno_names[k].name, f3))
                    m->errnum = errno_names[k].value;
            if (!m->errnum) {
                rc = ca_err_set(CA_E_INVALID, M, "fault spec: unknown errno '%s'", f3);
                break;
            }
        }
        n++;
    }
    for (int i = 0; rc == CA_OK && i < n; i++)
        rc = items[i].crash ? ca_fs_fault_arm_crash(ff, items[i].step, items[i].nth)
                            : ca_fs_fault_arm(ff, items[i].op, items[i].nth, items[i].errnum);
    ca__free(copy);
    return rc;
}
