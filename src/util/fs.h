/*
 * The file-system vtable (delta.md §18). Every file-system access of the library that must stay
 * fault-injectable goes through a `ca_fs`: a struct of function pointers plus a `self` pointer.
 * `ca_fs_posix()` is the process-wide POSIX backend; `ca_fs_fault_new()` wraps any vtable with a
 * fault layer (n-th call of an operation fails with an errno; `_exit(137)` at a named step).
 *
 * Contract shared by every operation:
 *   - returns 0 or a negative CA_E_* code and then sets ca_error_last() (module "util", message
 *     "<op> <path>: <strerror>"); errno mapping: ENOSPC/EDQUOT → CA_E_NOSPC, ENOENT/ENOTDIR →
 *     CA_E_NOT_FOUND, EEXIST → CA_E_EXISTS (== CA_FS_EXISTS), ENOMEM → CA_E_NOMEM, else CA_E_IO;
 *   - paths are NUL-terminated, absolute or relative to the working directory;
 *   - every descriptor is opened with O_CLOEXEC; EINTR is retried;
 *   - thread-safe: the POSIX backend has no shared state; a file handle is used by one thread at
 *     a time (read_at on one handle from several threads is fine, it does not move an offset).
 */
#ifndef CA_UTIL_FS_H
#define CA_UTIL_FS_H

#include "codeanatomy/error.h"

#include <stddef.h>
#include <stdint.h>

/* link_if_absent's "target already exists" (a lost commit race): distinct from every I/O error. */
#define CA_FS_EXISTS CA_E_EXISTS

/* An open file. Opaque; owned by the caller until passed to close. */
typedef struct ca_fs_file ca_fs_file;

typedef enum ca_fs_type {
    CA_FS_TYPE_FILE = 0,  /* regular file */
    CA_FS_TYPE_DIR = 1,   /* directory */
    CA_FS_TYPE_OTHER = 2, /* symlink (list does not follow links), fifo, socket, device */
} ca_fs_type;

typedef struct ca_fs_stat {
    ca_fs_type type;
    uint64_t size;    /* bytes (0 for directories and others) */
    int64_t mtime_ms; /* modification time, milliseconds since the Unix epoch */
} ca_fs_stat;

typedef struct ca_fs_entry {
    char *name; /* base name, never "." or ".."; owned by the list (ca_fs_list_free) */
    ca_fs_type type;
    uint64_t size;
    int64_t mtime_ms;
} ca_fs_entry;

typedef struct ca_fs {
    void *self; /* backend state, passed as the first argument of every operation */

    /* Opens an existing file for reading. */
    int (*open_read)(void *self, const char *path, ca_fs_file **out);
    /* Reads up to n bytes at offset off (pread, looping on short reads); *n_read < n only at
     * end of file. Does not move any file offset. */
    int (*read_at)(void *self, ca_fs_file *f, void *buf, size_t n, uint64_t off, size_t *n_read);
    /* Releases the handle (always, even when it returns an error); NULL is a no-op. */
    int (*close)(void *self, ca_fs_file *f);
    /* Creates a new file for writing (O_CREAT|O_EXCL, mode 0644 & ~umask); CA_E_EXISTS if the
     * path exists. */
    int (*create_excl)(void *self, const char *path, ca_fs_file **out);
    /* Appends all n bytes at the handle's position (EINTR-safe loop over short writes). */
    int (*write)(void *self, ca_fs_file *f, const void *buf, size_t n);
    int (*fsync)(void *self, ca_fs_file *f);
    /* Makes `to` a name of `from`'s file iff `to` does not exist: link(2), falling back to
     * renameat2(RENAME_NOREPLACE) where links are refused (EPERM, ENOTSUP, ENOSYS). Returns
     * CA_FS_EXISTS when `to` exists (nothing changed), CA_E_UNSUPPORTED when neither works.
     * On success `from` may still exist (link) or be gone (rename): remove it and ignore
     * CA_E_NOT_FOUND. */
    int (*link_if_absent)(void *self, const char *from, const char *to);
    /* rename(2): atomically replaces `to` if it exists. */
    int (*rename_replace)(void *self, const char *from, const char *to);
    /* Opens the path (file or directory) and fsyncs it: for files other code (DuckDB) wrote. */
    int (*fsync_path)(void *self, const char *path);
    /* fsyncs a directory, making creations, links, renames and removals in it durable
     * (EINVAL from file systems that cannot fsync a directory counts as success). */
    int (*fsync_dir)(void *self, const char *path);
    /* The entries of a directory sorted by name (bytewise), without "." and "..". Symlinks are
     * not followed (type OTHER); entries that vanish while listing are skipped. *out is NULL
     * when *n_out is 0. Free with ca_fs_list_free. */
    int (*list)(void *self, const char *dir, ca_fs_entry **out, size_t *n_out);
    /* stat(2), following symlinks; CA_E_NOT_FOUND if absent. */
    int (*stat)(void *self, const char *path, ca_fs_stat *out);
    /* mkdir -p (mode 0755 & ~umask); existing directories are fine, an existing non-directory
     * on the way is CA_E_EXISTS. */
    int (*mkdirs)(void *self, const char *path);
    /* unlink(2) of a non-directory; CA_E_NOT_FOUND if absent. */
    int (*remove)(void *self, const char *path);
    /* rmdir(2) of an empty directory; CA_E_NOT_FOUND if absent, CA_E_IO if not empty. */
    int (*rmdir)(void *self, const char *path);
    /* A named fault point ("before_link", "after_link", …); a no-op returning 0 in POSIX. */
    int (*step)(void *self, const char *name);
} ca_fs;

/* The process-wide POSIX backend (static; never freed). Thread-safe. */
const ca_fs *ca_fs_posix(void);

/* Frees a list result; NULL is a no-op. */
void ca_fs_list_free(ca_fs_entry *entries, size_t n);

/* ---- call helpers: fs->op(fs->self, …) -------------------------------------------------- */

static inline int ca_fs_open_read(const ca_fs *fs, const char *path, ca_fs_file **out)
{ return fs->open_read(fs->self, path, out); }
static inline int ca_fs_read_at(const ca_fs *fs, ca_fs_file *f, void *buf, size_t n, uint64_t off,
                                size_t *n_read)
{ return fs->read_at(fs->self, f, buf, n, off, n_read); }
static inline int ca_fs_close(const ca_fs *fs, ca_fs_file *f) { return fs->close(fs->self, f); }
static inline int ca_fs_create_excl(const ca_fs *fs, const char *path, ca_fs_file **out)
{ return fs->create_excl(fs->self, path, out); }
static inline int ca_fs_write(const ca_fs *fs, ca_fs_file *f, const void *buf, size_t n)
{ return fs->write(fs->self, f, buf, n); }
static inline int ca_fs_fsync(const ca_fs *fs, ca_fs_file *f) { return fs->fsync(fs->self, f); }
static inline int ca_fs_link_if_absent(const ca_fs *fs, const char *from, const char *to)
{ return fs->link_if_absent(fs->self, from, to); }
static inline int ca_fs_rename_replace(const ca_fs *fs, const char *from, const char *to)
{ return fs->rename_replace(fs->self, from, to); }
static inline int ca_fs_fsync_path(const ca_fs *fs, const char *path)
{ return fs->fsync_path(fs->self, path); }
static inline int ca_fs_fsync_dir(const ca_fs *fs, const char *path)
{ return fs->fsync_dir(fs->self, path); }
static inline int ca_fs_list(const ca_fs *fs, const char *dir, ca_fs_entry **out, size_t *n_out)
{ return fs->list(fs->self, dir, out, n_out); }
static inline int ca_fs_stat_path(const ca_fs *fs, const char *path, ca_fs_stat *out)
{ return fs->stat(fs->self, path, out); }
static inline int ca_fs_mkdirs(const ca_fs *fs, const char *path)
{ return fs->mkdirs(fs->self, path); }
static inline int ca_fs_remove(const ca_fs *fs, const char *path)
{ return fs->remove(fs->self, path); }
static inline int ca_fs_rmdir(const ca_fs *fs, const char *path)
{ return fs->rmdir(fs->self, path); }
static inline int ca_fs_step(const ca_fs *fs, const char *name) { return fs->step(fs->self, name); }

/* ---- helpers built on the vtable (every file access goes through fs) ---------------------- */

/* Reads a whole file. *out is NUL-terminated (not counted in *len), owned by the caller
 * (ca__free). limit bounds the size (0 = 1 GiB); a larger file is CA_E_OVERFLOW. len may be
 * NULL. */
int ca_fs_read_file(const ca_fs *fs, const char *path, size_t limit, char **out, size_t *len);

/* A fresh temp name next to path: "<dir>/.<base>.<uuid-v4>.tmp" (delta.md §13 step 2). *out is
 * owned by the caller (ca__free). Not a file-system call. */
int ca_fs_temp_path(const char *path, char **out);

/* Writes a file that must not exist yet, atomically: temp (create_excl, write, fsync, close),
 * link_if_absent, remove temp, fsync_dir. CA_FS_EXISTS (nothing changed) when path exists.
 * The temp file is removed on every failure path. */
int ca_fs_write_if_absent(const ca_fs *fs, const char *path, const void *data, size_t n);

/* Writes or replaces a file atomically: temp (create_excl, write, fsync, close),
 * rename_replace, fsync_dir. The temp file is removed on failure. */
int ca_fs_write_replace(const ca_fs *fs, const char *path, const void *data, size_t n);

/* ---- the fault layer (tests) -------------------------------------------------------------- */

#define CA_FS_OPS(X)                                                                           \
    X(OPEN_READ, open_read) X(READ_AT, read_at) X(CLOSE, close) X(CREATE_EXCL, create_excl)     \
    X(WRITE, write) X(FSYNC, fsync) X(LINK_IF_ABSENT, link_if_absent)                          \
    X(RENAME_REPLACE, rename_replace) X(FSYNC_PATH, fsync_path) X(FSYNC_DIR, fsync_dir)          \
    X(LIST, list) X(STAT, stat) X(MKDIRS, mkdirs) X(REMOVE, remove) X(RMDIR, rmdir)             \
    X(STEP, step)

#define CA__FS_OP_ENUM(NAME, name) CA_FS_OP_##NAME,
typedef enum ca_fs_op { CA_FS_OPS(CA__FS_OP_ENUM) CA_FS_OP_COUNT } ca_fs_op;
#undef CA__FS_OP_ENUM

/* "open_read", "write", …; "unknown" for other values. */
const char *ca_fs_op_name(ca_fs_op op);
/* The op named name ("link_if_absent"), or CA_FS_OP_COUNT if none. */
ca_fs_op ca_fs_op_from_name(const char *name);

typedef struct ca_fs_fault ca_fs_fault;

/* A fault layer forwarding every operation to inner (borrowed: must outlive the layer).
 * Disarmed, it only counts calls. Thread-safe: counters are atomic, arming takes a lock. */
int ca_fs_fault_new(const ca_fs *inner, ca_fs_fault **out);
/* Frees the layer; no operation may still run on its vtable. NULL is a no-op. */
void ca_fs_fault_free(ca_fs_fault *ff);
/* The layer's vtable (borrowed, valid until ca_fs_fault_free). */
const ca_fs *ca_fs_fault_fs(ca_fs_fault *ff);

/* The nth call (1-based, counted from now) of op fails with errnum (ENOSPC → CA_E_NOSPC,
 * EIO → CA_E_IO, EEXIST → CA_E_EXISTS: a lost race, …) without reaching inner — except close,
 * which still releases the handle. One shot; re-arming op replaces its previous fault.
 * CA_E_INVALID for nth < 1, errnum <= 0 or op out of range. */
int ca_fs_fault_arm(ca_fs_fault *ff, ca_fs_op op, uint64_t nth, int errnum);
/* The nth step(step_name) call from now calls _exit(137) (a crash: no atexit handlers, no
 * stdio flush). Replaces a previous crash point; NULL disarms it. */
int ca_fs_fault_arm_crash(ca_fs_fault *ff, const char *step_name, uint64_t nth);
/* Arms from text, e.g. from an environment variable of a spawned test writer: comma-separated
 * items "<op>:<nth>:<ERRNO>" (ERRNO one of ENOSPC EIO EEXIST EACCES EPERM ENOENT EROFS EDQUOT
 * ENOTSUP) or "crash:<step>[:<nth>]". CA_E_INVALID (nothing armed) on a malformed item. */
int ca_fs_fault_arm_spec(ca_fs_fault *ff, const char *spec);
/* Disarms every pending fault and the crash point; counters keep counting. */
void ca_fs_fault_disarm(ca_fs_fault *ff);

/* Calls of op since creation or the last reset (including failed and injected ones). */
uint64_t ca_fs_fault_calls(const ca_fs_fault *ff, ca_fs_op op);
/* Faults injected so far (all ops). */
uint64_t ca_fs_fault_injected(const ca_fs_fault *ff);
/* Zeroes the call counters. Pending faults keep their remaining countdown. */
void ca_fs_fault_reset_counts(ca_fs_fault *ff);

#endif
