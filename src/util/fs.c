/* The POSIX backend of the ca_fs vtable and the helpers built on any vtable. */
#include "util/fs.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define M "util"

struct ca_fs_file {
    int fd;
    char *path; /* for error messages */
};

/* ---- POSIX backend ------------------------------------------------------------------------ */

static int64_t mtime_ms_of(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + (int64_t)(st->st_mtim.tv_nsec / 1000000);
}

static void fill_stat(const struct stat *st, ca_fs_type *type, uint64_t *size, int64_t *mtime)
{
    if (S_ISREG(st->st_mode))
        *type = CA_FS_TYPE_FILE;
    else if (S_ISDIR(st->st_mode))
        *type = CA_FS_TYPE_DIR;
    else
        *type = CA_FS_TYPE_OTHER;
    *size = *type == CA_FS_TYPE_FILE ? (uint64_t)st->st_size : 0;
    *mtime = mtime_ms_of(st);
}

static int open_retry(const char *path, int flags, mode_t mode)
{
    int fd;
    do
        fd = open(path, flags, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static int new_handle(int fd, const char *path, ca_fs_file **out)
{
    ca_fs_file *f = ca__malloc(sizeof *f);
    char *p = ca__strdup(path);
    if (!f || !p) {
        ca__free(f);
        ca__free(p);
        close(fd);
        return ca_err_nomem(M, "file handle");
    }
    f->fd = fd;
    f->path = p;
    *out = f;
    return CA_OK;
}

static int px_open_read(void *self, const char *path, ca_fs_file **out)
{
    (void)self;
    *out = NULL;
    int fd = open_retry(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return ca_err_errno(errno, M, "open %s", path);
    return new_handle(fd, path, out);
}

static int px_create_excl(void *self, const char *path, ca_fs_file **out)
{
    (void)self;
    *out = NULL;
    int fd = open_retry(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return ca_err_errno(errno, M, "create %s", path);
    return new_handle(fd, path, out);
}

static int px_read_at(void *self, ca_fs_file *f, void *buf, size_t n, uint64_t off,
                      size_t *n_read)
{
    (void)self;
    size_t done = 0;
    *n_read = 0;
    if (off > (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - off)
        return ca_err_set(CA_E_INVALID, M, "read %s: offset %llu out of range", f->path,
                          (unsigned long long)off);
    while (done < n) {
        ssize_t r = pread(f->fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return ca_err_errno(errno, M, "read %s", f->path);
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *n_read = done;
    return CA_OK;
}

static int px_write(void *self, ca_fs_file *f, const void *buf, size_t n)
{
    (void)self;
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ca_err_errno(errno, M, "write %s", f->path);
        }
        if (w == 0)
            return ca_err_set(CA_E_IO, M, "write %s: wrote 0 bytes", f->path);
        p += w;
        n -= (size_t)w;
    }
    return CA_OK;
}

static int px_fsync(void *self, ca_fs_file *f)
{
    (void)self;
    int r;
    do
        r = fsync(f->fd);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return ca_err_errno(errno, M, "fsync %s", f->path);
    return CA_OK;
}

static int px_close(void *self, ca_fs_file *f)
{
    (void)self;
    if (!f)
        return CA_OK;
    int rc = CA_OK;
    /* Linux releases the descriptor even when close fails: never retry (EINTR is not an error). */
    if (close(f->fd) < 0 && errno != EINTR)
        rc = ca_err_errno(errno, M, "close %s", f->path);
    ca__free(f->path);
    ca__free(f);
    return rc;
}

static int px_link_if_absent(void *self, const char *from, const char *to)
{
    (void)self;
    if (link(from, to) == 0)
        return CA_OK;
    int e = errno;
    if (e == EEXIST)
        return ca_err_set(CA_FS_EXISTS, M, "link %s: target exists", to);
    if (e != EPERM && e != ENOTSUP && e != EOPNOTSUPP && e != ENOSYS)
        return ca_err_errno(e, M, "link %s -> %s", from, to);
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return CA_OK;
    int e2 = errno;
    if (e2 == EEXIST)
        return ca_err_set(CA_FS_EXISTS, M, "link %s: target exists", to);
    if (e2 == EINVAL || e2 == ENOSYS || e2 == ENOTSUP || e2 == EOPNOTSUPP)
        return ca_err_set(CA_E_UNSUPPORTED, M,
                          "link %s: neither link (%s) nor renameat2(RENAME_NOREPLACE) (%s) works "
                          "on this file system",
                          to, strerror(e), strerror(e2));
    return ca_err_errno(e2, M, "renameat2 %s -> %s", from, to);
}

static int px_rename_replace(void *self, const char *from, const char *to)
{
    (void)self;
    if (rename(from, to) < 0)
        return ca_err_errno(errno, M, "rename %s -> %s", from, to);
    return CA_OK;
}

static int fsync_open(const char *path, int flags, bool dir)
{
    int fd = open_retry(path, flags | O_CLOEXEC, 0);
    if (fd < 0)
        return ca_err_errno(errno, M, "open %s", path);
    int r;
    do
        r = fsync(fd);
    while (r < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (r < 0 && !(dir && e == EINVAL))
        return ca_err_errno(e, M, "fsync %s", path);
    return CA_OK;
}

static int px_fsync_path(void *self, const char *path)
{
    (void)self;
    return fsync_open(path, O_RDONLY, false);
}

static int px_fsync_dir(void *self, const char *path)
{
    (void)self;
    return fsync_open(path, O_RDONLY | O_DIRECTORY, true);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const ca_fs_entry *)a)->name, ((const ca_fs_entry *)b)->name);
}

void ca_fs_list_free(ca_fs_entry *entries, size_t n)
{
    if (!entries)
        return;
    for (size_t i = 0; i < n; i++)
        ca__free(entries[i].name);
    ca__free(entries);
}

static int px_list(void *self, const char *dir, ca_fs_entry **out, size_t *n_out)
{
    (void)self;
    *out = NULL;
    *n_out = 0;
    int fd = open_retry(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return ca_err_errno(errno, M, "list %s", dir);
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return ca_err_errno(e, M, "list %s", dir);
    }
    ca_fs_entry *v = NULL;
    size_t n = 0, cap = 0;
    int rc = CA_OK;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                rc = ca_err_errno(errno, M, "list %s", dir);
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) /* removed while listing (vacuum, cleanup): not an entry */
                continue;
            rc = ca_err_errno(errno, M, "list %s: stat %s", dir, de->d_name);
            break;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16, bytes;
            if (!ca__size_mul(ncap, sizeof *v, &bytes)) {
                rc = ca_err_set(CA_E_OVERFLOW, M, "list %s: too many entries", dir);
                break;
            }
            ca_fs_entry *nv = ca__realloc(v, bytes);
            if (!nv) {
                rc = ca_err_nomem(M, "directory listing");
                break;
            }
            v = nv;
            cap = ncap;
        }
        ca_fs_entry *e = &v[n];
        e->name = ca__strdup(de->d_name);
        if (!e->name) {
            rc = ca_err_nomem(M, "directory listing");
            break;
        }
        fill_stat(&st, &e->type, &e->size, &e->mtime_ms);
        n++;
    }
    closedir(d);
    if (rc) {
        ca_fs_list_free(v, n);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_entry);
    else {
        ca__free(v);
        v = NULL;
    }
    *out = v;
    *n_out = n;
    return CA_OK;
}

static int px_stat(void *self, const char *path, ca_fs_stat *out)
{
    (void)self;
    struct stat st;
    if (stat(path, &st) < 0)
        return ca_err_errno(errno, M, "stat %s", path);
    fill_stat(&st, &out->type, &out->size, &out->mtime_ms);
    return CA_OK;
}

/* mkdir of one level: 0 when the directory exists afterwards. */
static int mkdir_one(const char *path, const char *full)
{
    if (mkdir(path, 0755) == 0)
        return CA_OK;
    int e = errno;
    struct stat st;
    if (e == EEXIST) {
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return CA_OK;
        return ca_err_set(CA_E_EXISTS, M, "mkdirs %s: %s exists and is not a directory", full,
                          path);
    }
    return ca_err_errno(e, M, "mkdirs %s: mkdir %s", full, path);
}

static int px_mkdirs(void *self, const char *path)
{
    (void)self;
    if (!*path)
        return ca_err_set(CA_E_INVALID, M, "mkdirs: empty path");
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return CA_OK;
    char *p = ca__strdup(path);
    if (!p)
        return ca_err_nomem(M, "path");
    int rc = CA_OK;
    /* Each prefix ending before a '/' (skipping the root and repeated slashes), then the whole. */
    for (char *s = p + 1; *s && rc == CA_OK; s++) {
        if (*s != '/' || s[-1] == '/')
            continue;
        *s = '\0';
        rc = mkdir_one(p, path);
        *s = '/';
    }
    if (rc == CA_OK)
        rc = mkdir_one(p, path);
    ca__free(p);
    return rc;
}

static int px_remove(void *self, const char *path)
{
    (void)self;
    if (unlink(path) < 0)
        return ca_err_errno(errno, M, "remove %s", path);
    return CA_OK;
}

static int px_rmdir(void *self, const char *path)
{
    (void)self;
    if (rmdir(path) < 0)
        return ca_err_errno(errno, M, "rmdir %s", path);
    return CA_OK;
}

static int px_step(void *self, const char *name)
{
    (void)self;
    (void)name;
    return CA_OK;
}

static const ca_fs posix_fs = {
    .self = NULL,
    .open_read = px_open_read,
    .read_at = px_read_at,
    .close = px_close,
    .create_excl = px_create_excl,
    .write = px_write,
    .fsync = px_fsync,
    .link_if_absent = px_link_if_absent,
    .rename_replace = px_rename_replace,
    .fsync_path = px_fsync_path,
    .fsync_dir = px_fsync_dir,
    .list = px_list,
    .stat = px_stat,
    .mkdirs = px_mkdirs,
    .remove = px_remove,
    .rmdir = px_rmdir,
    .step = px_step,
};

const ca_fs *ca_fs_posix(void) { return &posix_fs; }

/* ---- helpers -------------------------------------------------------------------------------- */

/* Cleanup after a failure must not overwrite the error that caused it. */
typedef struct saved_err {
    int code;
    char module[32];
    char message[1024];
} saved_err;

static void err_save(saved_err *s)
{
    const ca_error *e = ca_error_last();
    s->code = e->code;
    snprintf(s->module, sizeof s->module, "%s", e->module);
    snprintf(s->message, sizeof s->message, "%s", e->message);
}

static int err_restore(const saved_err *s)
{
    return ca_err_set(s->code, s->module, "%s", s->message);
}

#define READ_CHUNK ((size_t)64 * 1024)
#define READ_DEFAULT_LIMIT ((size_t)1 << 30)

int ca_fs_read_file(const ca_fs *fs, const char *path, size_t limit, char **out, size_t *len)
{
    *out = NULL;
    if (len)
        *len = 0;
    if (!limit)
        limit = READ_DEFAULT_LIMIT;
    size_t cap; /* read one byte beyond the limit to tell "exactly limit" from "larger" */
    if (!ca__size_add(limit, 1, &cap))
        cap = limit;
    ca_fs_file *f;
    int rc = ca_fs_open_read(fs, path, &f);
    if (rc)
        return rc;
    ca_buf b;
    ca_buf_init(&b, cap);
    for (;;) {
        size_t want = cap - b.len < READ_CHUNK ? cap - b.len : READ_CHUNK, got;
        if (!want)
            break;
        if ((rc = ca_buf_reserve(&b, want)))
            break;
        if ((rc = ca_fs_read_at(fs, f, b.data + b.len, want, b.len, &got)))
            break;
        b.len += got;
        b.data[b.len] = '\0';
        if (got < want)
            break;
    }
    if (rc == CA_OK && b.len > limit)
        rc = ca_err_set(CA_E_OVERFLOW, M, "read %s: file larger than %zu bytes", path, limit);
    if (rc) {
        saved_err s;
        err_save(&s);
        ca_fs_close(fs, f);
        ca_buf_free(&b);
        return err_restore(&s);
    }
    if ((rc = ca_fs_close(fs, f))) {
        ca_buf_free(&b);
        return rc;
    }
    size_t n = b.len;
    if (!b.data) { /* empty file: hand out "" */
        if ((rc = ca_buf_reserve(&b, 0)))
            return rc;
        b.data[0] = '\0';
    }
    *out = ca_buf_detach(&b, NULL);
    if (!*out)
        return ca_err_nomem(M, "file contents");
    if (len)
        *len = n;
    return CA_OK;
}

static void random_bytes(unsigned char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = getrandom(p + done, n - done, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        done += (size_t)r;
    }
    if (done < n) {
        /* No getrandom: still unique enough per process (O_EXCL catches a collision). */
        static atomic_uint_fast64_t counter;
        uint64_t x = ca_time_mono_ns() ^ ((uint64_t)getpid() << 32) ^
                     atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15ull;
        for (size_t i = done; i < n; i++) {
            x ^= x >> 33;
            x *= 0xff51afd7ed558ccdull;
            x ^= x >> 29;
            p[i] = (unsigned char)x;
        }
    }
}

int ca_fs_temp_path(const char *path, char **out)
{
    *out = NULL;
    unsigned char u[16];
    random_bytes(u, sizeof u);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* variant 10 */
    char uuid[37];
    snprintf(uuid, sizeof uuid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!*base)
        return ca_err_set(CA_E_INVALID, M, "temp path for %s: no file name", path);
    ca_buf b = CA_BUF_INIT;
    if (slash)
        ca_buf_append(&b, path, (size_t)(base - path));
    ca_buf_printf(&b, ".%s.%s.tmp", base, uuid);
    int rc = ca_buf_status(&b);
    if (rc) {
        ca_buf_free(&b);
        return rc;
    }
    *out = ca_buf_detach(&b, NULL);
    return CA_OK;
}

/* The directory holding path, for fsync_dir: "." or "/" at the ends. */
static int parent_dir(const char *path, char **out)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        *out = ca__strdup(".");
    else if (slash == path)
        *out = ca__strdup("/");
    else
        *out = ca__strndup(path, (size_t)(slash - path));
    return *out ? CA_OK : ca_err_nomem(M, "path");
}

static void discard_temp(const ca_fs *fs, ca_fs_file *f, const char *tmp)
{
    saved_err s;
    err_save(&s);
    ca_fs_close(fs, f);
    ca_fs_remove(fs, tmp);
    err_restore(&s);
}

static int stage(const ca_fs *fs, const char *path, const void *data, size_t n, char **tmp_out,
                 char **dir_out)
{
    *tmp_out = NULL;
    *dir_out = NULL;
    int rc = ca_fs_temp_path(path, tmp_out);
    if (rc == CA_OK)
        rc = parent_dir(path, dir_out);
    if (rc)
        goto fail;
    ca_fs_file *f;
    if ((rc = ca_fs_create_excl(fs, *tmp_out, &f)))
        goto fail;
    if ((rc = ca_fs_write(fs, f, data, n)) || (rc = ca_fs_fsync(fs, f))) {
        discard_temp(fs, f, *tmp_out);
        goto fail;
    }
    if ((rc = ca_fs_close(fs, f))) {
        discard_temp(fs, NULL, *tmp_out);
        goto fail;
    }
    return CA_OK;
fail:
    ca__free(*tmp_out);
    ca__free(*dir_out);
    *tmp_out = *dir_out = NULL;
    return rc;
}

int ca_fs_write_if_absent(const ca_fs *fs, const char *path, const void *data, size_t n)
{
    char *tmp, *dir;
    int rc = stage(fs, path, data, n, &tmp, &dir);
    if (rc)
        return rc;
    rc = ca_fs_link_if_absent(fs, tmp, path);
    if (rc) {
        discard_temp(fs, NULL, tmp);
    } else {
        /* Committed: a leftover temp (rename fallback already moved it) is harmless. */
        saved_err s;
        err_save(&s);
        if (ca_fs_remove(fs, tmp))
            err_restore(&s);
        rc = ca_fs_fsync_dir(fs, dir);
    }
    ca__free(tmp);
    ca__free(dir);
    return rc;
}

int ca_fs_write_replace(const ca_fs *fs, const char *path, const void *data, size_t n)
{
    char *tmp, *dir;
    int rc = stage(fs, path, data, n, &tmp, &dir);
    if (rc)
        return rc;
    rc = ca_fs_rename_replace(fs, tmp, path);
    if (rc)
        discard_temp(fs, NULL, tmp);
    else
        rc = ca_fs_fsync_dir(fs, dir);
    ca__free(tmp);
    ca__free(dir);
    return rc;
}
