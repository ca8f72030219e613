/* Unit tests: the ca_fs vtable (POSIX backend), its helpers, and the fault layer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "util/fs.h"
#include "util/time.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
} fixture;

static char *pathf(const fixture *fx, const char *rel)
{
    static _Thread_local char buf[4][512];
    static _Thread_local int k;
    char *p = buf[k++ & 3];
    snprintf(p, 512, "%s/%s", fx->dir, rel);
    return p;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/ca-test-fs-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    nftw(fx->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static void put(const ca_fs *fs, const char *path, const char *text)
{
    ca_fs_file *f = NULL;
    assert_int_equal(ca_fs_create_excl(fs, path, &f), CA_OK);
    assert_non_null(f);
    assert_int_equal(ca_fs_write(fs, f, text, strlen(text)), CA_OK);
    assert_int_equal(ca_fs_fsync(fs, f), CA_OK);
    assert_int_equal(ca_fs_close(fs, f), CA_OK);
}

static char *get(const ca_fs *fs, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(ca_fs_read_file(fs, path, 0, &data, &len), CA_OK);
    assert_int_equal(strlen(data), len);
    return data;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Number of entries of dir whose name ends with ".tmp". */
static int count_temps(const char *dir)
{
    ca_fs_entry *e;
    size_t n;
    assert_int_equal(ca_fs_list(ca_fs_posix(), dir, &e, &n), CA_OK);
    int c = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(e[i].name);
        c += l > 4 && !strcmp(e[i].name + l - 4, ".tmp");
    }
    ca_fs_list_free(e, n);
    return c;
}

/* ---- POSIX backend -------------------------------------------------------------------------- */

static void test_create_write_read(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    const char *p = pathf(fx, "a.txt");
    put(fs, p, "hello, world");

    ca_fs_file *f = NULL;
    assert_int_equal(ca_fs_open_read(fs, p, &f), CA_OK);
    char buf[64];
    size_t got = 99;
    assert_int_equal(ca_fs_read_at(fs, f, buf, 5, 7, &got), CA_OK);
    assert_int_equal(got, 5);
    assert_memory_equal(buf, "world", 5);
    assert_int_equal(ca_fs_read_at(fs, f, buf, 5, 0, &got), CA_OK); /* no moving offset */
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(ca_fs_read_at(fs, f, buf, sizeof buf, 10, &got), CA_OK); /* short: EOF */
    assert_int_equal(got, 2);
    assert_int_equal(ca_fs_read_at(fs, f, buf, sizeof buf, 100, &got), CA_OK);
    assert_int_equal(got, 0);
    assert_int_equal(ca_fs_read_at(fs, f, buf, 1, UINT64_MAX, &got), CA_E_INVALID);
    assert_int_equal(ca_fs_close(fs, f), CA_OK);
    assert_int_equal(ca_fs_close(fs, NULL), CA_OK);

    /* O_EXCL: an existing path is CA_E_EXISTS and keeps its content */
    f = (ca_fs_file *)1;
    assert_int_equal(ca_fs_create_excl(fs, p, &f), CA_E_EXISTS);
    assert_null(f);
    assert_string_equal(ca_error_last()->module, "util");
    assert_non_null(strstr(ca_error_last()->message, p));
    char *d = get(fs, p);
    assert_string_equal(d, "hello, world");
    ca__free(d);

    /* descriptors are close-on-exec: find ours in /proc/self/fd */
    assert_int_equal(ca_fs_open_read(fs, p, &f), CA_OK);
    int found = 0;
    for (int fd = 3; fd < 1024; fd++) {
        char link[64], target[512];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (!strcmp(target, p)) {
            found++;
            assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        }
    }
    assert_int_equal(found, 1);
    ca_fs_close(fs, f);
}

static void test_open_missing(void **state)
{
    fixture *fx = *state;
    ca_fs_file *f = (ca_fs_file *)1;
    const char *p = pathf(fx, "nope");
    assert_int_equal(ca_fs_open_read(ca_fs_posix(), p, &f), CA_E_NOT_FOUND);
    assert_null(f);
    assert_int_equal(ca_error_last()->code, CA_E_NOT_FOUND);
    assert_non_null(strstr(ca_error_last()->message, "nope"));
    assert_non_null(strstr(ca_error_last()->message, "No such file"));
    assert_int_equal(ca_fs_create_excl(ca_fs_posix(), pathf(fx, "no/dir/x"), &f),
                     CA_E_NOT_FOUND);
}

static void test_link_if_absent(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    const char *tmp = pathf(fx, ".1.json.tmp"), *dst = pathf(fx, "1.json");
    put(fs, tmp, "first");
    assert_int_equal(ca_fs_link_if_absent(fs, tmp, dst), CA_OK);
    char *d = get(fs, dst);
    assert_string_equal(d, "first");
    ca__free(d);
    int rc = ca_fs_remove(fs, tmp);
    assert_true(rc == CA_OK || rc == CA_E_NOT_FOUND);

    const char *tmp2 = pathf(fx, ".1.json.tmp2");
    put(fs, tmp2, "second");
    assert_int_equal(ca_fs_link_if_absent(fs, tmp2, dst), CA_FS_EXISTS);
    assert_int_equal(CA_FS_EXISTS, CA_E_EXISTS);
    assert_int_equal(ca_error_last()->code, CA_FS_EXISTS);
    d = get(fs, dst); /* the winner's content stays */
    assert_string_equal(d, "first");
    ca__free(d);
    assert_true(exists(tmp2));
    assert_int_equal(ca_fs_link_if_absent(fs, pathf(fx, "missing"), pathf(fx, "x")),
                     CA_E_NOT_FOUND);
}

static void test_rename_replace(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    const char *a = pathf(fx, "a"), *b = pathf(fx, "b");
    put(fs, a, "new");
    put(fs, b, "old");
    assert_int_equal(ca_fs_rename_replace(fs, a, b), CA_OK);
    assert_false(exists(a));
    char *d = get(fs, b);
    assert_string_equal(d, "new");
    ca__free(d);
    assert_int_equal(ca_fs_rename_replace(fs, a, b), CA_E_NOT_FOUND);
}

static void test_fsync_path_dir(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    put(fs, pathf(fx, "f"), "x");
    assert_int_equal(ca_fs_fsync_path(fs, pathf(fx, "f")), CA_OK);
    assert_int_equal(ca_fs_fsync_path(fs, fx->dir), CA_OK);
    assert_int_equal(ca_fs_fsync_dir(fs, fx->dir), CA_OK);
    assert_int_equal(ca_fs_fsync_dir(fs, pathf(fx, "missing")), CA_E_NOT_FOUND);
    assert_int_equal(ca_fs_fsync_path(fs, pathf(fx, "missing")), CA_E_NOT_FOUND);
    assert_int_not_equal(ca_fs_fsync_dir(fs, pathf(fx, "f")), CA_OK); /* not a directory */
}

static void test_list(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    int64_t before = ca_time_wall_ms();
    put(fs, pathf(fx, "b.json"), "12345");
    put(fs, pathf(fx, "a.json"), "");
    put(fs, pathf(fx, "_delta_log"), "z"); /* '_' sorts after upper case, before lower */
    assert_int_equal(ca_fs_mkdirs(fs, pathf(fx, "C")), CA_OK);
    assert_int_equal(symlink("b.json", pathf(fx, "link")), 0);

    ca_fs_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(ca_fs_list(fs, fx->dir, &e, &n), CA_OK);
    assert_int_equal(n, 5);
    const char *names[] = {"C", "_delta_log", "a.json", "b.json", "link"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(e[i].name, names[i]);
    assert_int_equal(e[0].type, CA_FS_TYPE_DIR);
    assert_int_equal(e[0].size, 0);
    assert_int_equal(e[2].type, CA_FS_TYPE_FILE);
    assert_int_equal(e[2].size, 0);
    assert_int_equal(e[3].type, CA_FS_TYPE_FILE);
    assert_int_equal(e[3].size, 5);
    assert_int_equal(e[4].type, CA_FS_TYPE_OTHER); /* symlinks are not followed */
    int64_t after = ca_time_wall_ms();
    assert_true(e[3].mtime_ms >= before - 2000 && e[3].mtime_ms <= after + 2000);
    ca_fs_list_free(e, n);
    ca_fs_list_free(NULL, 0);

    assert_int_equal(ca_fs_list(fs, pathf(fx, "C"), &e, &n), CA_OK);
    assert_int_equal(n, 0);
    assert_null(e);
    assert_int_equal(ca_fs_list(fs, pathf(fx, "missing"), &e, &n), CA_E_NOT_FOUND);
    assert_int_equal(ca_fs_list(fs, pathf(fx, "a.json"), &e, &n), CA_E_NOT_FOUND); /* ENOTDIR */
}

static void test_stat(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    put(fs, pathf(fx, "f"), "abc");
    ca_fs_stat st;
    assert_int_equal(ca_fs_stat_path(fs, pathf(fx, "f"), &st), CA_OK);
    assert_int_equal(st.type, CA_FS_TYPE_FILE);
    assert_int_equal(st.size, 3);
    assert_true(st.mtime_ms > 1600000000000LL);
    assert_int_equal(ca_fs_stat_path(fs, fx->dir, &st), CA_OK);
    assert_int_equal(st.type, CA_FS_TYPE_DIR);
    assert_int_equal(ca_fs_stat_path(fs, pathf(fx, "missing"), &st), CA_E_NOT_FOUND);
    assert_int_equal(symlink("f", pathf(fx, "l")), 0);
    assert_int_equal(ca_fs_stat_path(fs, pathf(fx, "l"), &st), CA_OK); /* follows links */
    assert_int_equal(st.type, CA_FS_TYPE_FILE);
}

static void test_mkdirs(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    ca_fs_stat st;
    assert_int_equal(ca_fs_mkdirs(fs, pathf(fx, "a/b//c/")), CA_OK);
    assert_int_equal(ca_fs_stat_path(fs, pathf(fx, "a/b/c"), &st), CA_OK);
    assert_int_equal(st.type, CA_FS_TYPE_DIR);
    assert_int_equal(ca_fs_mkdirs(fs, pathf(fx, "a/b/c")), CA_OK); /* existing is fine */
    assert_int_equal(ca_fs_mkdirs(fs, pathf(fx, "a")), CA_OK);
    put(fs, pathf(fx, "a/file"), "x");
    assert_int_equal(ca_fs_mkdirs(fs, pathf(fx, "a/file")), CA_E_EXISTS);
    assert_int_equal(ca_fs_mkdirs(fs, pathf(fx, "a/file/sub")), CA_E_EXISTS);
    assert_int_equal(ca_fs_mkdirs(fs, ""), CA_E_INVALID);
    assert_int_equal(ca_fs_mkdirs(fs, "/"), CA_OK);

    /* relative paths */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fx->dir), 0);
    int rc = ca_fs_mkdirs(fs, "rel/x");
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, CA_OK);
    assert_int_equal(ca_fs_stat_path(fs, pathf(fx, "rel/x"), &st), CA_OK);
}

static void test_remove_rmdir(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    assert_int_equal(ca_fs_mkdirs(fs, pathf(fx, "d")), CA_OK);
    put(fs, pathf(fx, "d/f"), "x");
    assert_int_equal(ca_fs_rmdir(fs, pathf(fx, "d")), CA_E_IO); /* not empty */
    assert_int_not_equal(ca_fs_remove(fs, pathf(fx, "d")), CA_OK); /* a directory */
    assert_int_equal(ca_fs_remove(fs, pathf(fx, "d/f")), CA_OK);
    assert_int_equal(ca_fs_remove(fs, pathf(fx, "d/f")), CA_E_NOT_FOUND);
    assert_int_equal(ca_fs_rmdir(fs, pathf(fx, "d")), CA_OK);
    assert_int_equal(ca_fs_rmdir(fs, pathf(fx, "d")), CA_E_NOT_FOUND);
    assert_false(exists(pathf(fx, "d")));
    assert_int_equal(ca_fs_step(fs, "before_link"), CA_OK);
}

/* ---- helpers -------------------------------------------------------------------------------- */

static void test_read_file(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    put(fs, pathf(fx, "empty"), "");
    char *d = NULL;
    size_t len = 99;
    assert_int_equal(ca_fs_read_file(fs, pathf(fx, "empty"), 0, &d, &len), CA_OK);
    assert_int_equal(len, 0);
    assert_string_equal(d, "");
    ca__free(d);

    /* larger than one read chunk */
    size_t big = 200 * 1024 + 7;
    char *src = malloc(big + 1);
    assert_non_null(src);
    for (size_t i = 0; i < big; i++)
        src[i] = (char)('a' + i % 26);
    src[big] = '\0';
    put(fs, pathf(fx, "big"), src);
    assert_int_equal(ca_fs_read_file(fs, pathf(fx, "big"), 0, &d, &len), CA_OK);
    assert_int_equal(len, big);
    assert_memory_equal(d, src, big);
    assert_int_equal(d[big], '\0');
    ca__free(d);
    free(src);

    put(fs, pathf(fx, "ten"), "0123456789");
    assert_int_equal(ca_fs_read_file(fs, pathf(fx, "ten"), 10, &d, NULL), CA_OK);
    ca__free(d);
    d = (char *)1;
    assert_int_equal(ca_fs_read_file(fs, pathf(fx, "ten"), 9, &d, &len), CA_E_OVERFLOW);
    assert_null(d);
    assert_int_equal(ca_fs_read_file(fs, pathf(fx, "none"), 0, &d, &len), CA_E_NOT_FOUND);
}

static void test_temp_path(void **state)
{
    (void)state;
    char *t = NULL;
    assert_int_equal(ca_fs_temp_path("/x/_delta_log/00000000000000000001.json", &t), CA_OK);
    const char *prefix = "/x/_delta_log/.00000000000000000001.json.";
    assert_int_equal(strncmp(t, prefix, strlen(prefix)), 0);
    const char *u = t + strlen(prefix);
    assert_int_equal(strlen(u), 36 + 4);
    assert_string_equal(u + 36, ".tmp");
    assert_int_equal(u[8], '-');
    assert_int_equal(u[14], '4'); /* version 4 */
    assert_non_null(strchr("89ab", u[19]));
    char *t2 = NULL;
    assert_int_equal(ca_fs_temp_path("/x/_delta_log/00000000000000000001.json", &t2), CA_OK);
    assert_string_not_equal(t, t2);
    ca__free(t);
    ca__free(t2);
    assert_int_equal(ca_fs_temp_path("plain", &t), CA_OK);
    assert_int_equal(t[0], '.');
    assert_int_equal(strncmp(t, ".plain.", 7), 0);
    ca__free(t);
    assert_int_equal(ca_fs_temp_path("/x/", &t), CA_E_INVALID);
}

static void test_write_if_absent_and_replace(void **state)
{
    fixture *fx = *state;
    const ca_fs *fs = ca_fs_posix();
    const char *p = pathf(fx, "00000000000000000000.crc");
    assert_int_equal(ca_fs_write_if_absent(fs, p, "v1", 2), CA_OK);
    assert_int_equal(ca_fs_write_if_absent(fs, p, "v2", 2), CA_FS_EXISTS);
    char *d = get(fs, p);
    assert_string_equal(d, "v1");
    ca__free(d);
    assert_int_equal(count_temps(fx->dir), 0);

    const char *q = pathf(fx, "_last_checkpoint");
    assert_int_equal(ca_fs_write_replace(fs, q, "{\"version\":10}", 14), CA_OK);
    assert_int_equal(ca_fs_write_replace(fs, q, "{\"version\":20}", 14), CA_OK);
    d = get(fs, q);
    assert_string_equal(d, "{\"version\":20}");
    ca__free(d);
    assert_int_equal(count_temps(fx->dir), 0);
    assert_int_equal(ca_fs_write_replace(fs, pathf(fx, "no/dir/f"), "x", 1), CA_E_NOT_FOUND);
}

/* ---- fault layer ---------------------------------------------------------------------------- */

static void test_fault_nth_call(void **state)
{
    fixture *fx = *state;
    ca_fs_fault *ff = NULL;
    assert_int_equal(ca_fs_fault_new(ca_fs_posix(), &ff), CA_OK);
    const ca_fs *fs = ca_fs_fault_fs(ff);
    ca_fs_file *f;
    assert_int_equal(ca_fs_create_excl(fs, pathf(fx, "w"), &f), CA_OK);
    assert_int_equal(ca_fs_write(fs, f, "a", 1), CA_OK); /* before arming: not counted in n */

    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_WRITE, 3, ENOSPC), CA_OK);
    assert_int_equal(ca_fs_write(fs, f, "b", 1), CA_OK);
    assert_int_equal(ca_fs_write(fs, f, "c", 1), CA_OK);
    assert_int_equal(ca_fs_write(fs, f, "X", 1), CA_E_NOSPC);
    assert_int_equal(ca_error_last()->code, CA_E_NOSPC);
    assert_non_null(strstr(ca_error_last()->message, "injected"));
    assert_non_null(strstr(ca_error_last()->message, "No space left"));
    assert_int_equal(ca_fs_write(fs, f, "d", 1), CA_OK); /* one shot */
    assert_int_equal(ca_fs_fault_calls(ff, CA_FS_OP_WRITE), 5);
    assert_int_equal(ca_fs_fault_injected(ff), 1);

    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_FSYNC, 1, EIO), CA_OK);
    assert_int_equal(ca_fs_fsync(fs, f), CA_E_IO);
    assert_int_equal(ca_fs_fsync(fs, f), CA_OK);
    assert_int_equal(ca_fs_close(fs, f), CA_OK);
    char *d = get(ca_fs_posix(), pathf(fx, "w"));
    assert_string_equal(d, "abcd"); /* the failed write wrote nothing */
    ca__free(d);

    /* a lost race: EEXIST on link_if_absent is CA_FS_EXISTS and links nothing */
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_LINK_IF_ABSENT, 1, EEXIST), CA_OK);
    assert_int_equal(ca_fs_link_if_absent(fs, pathf(fx, "w"), pathf(fx, "1.json")), CA_FS_EXISTS);
    assert_false(exists(pathf(fx, "1.json")));
    assert_int_equal(ca_fs_link_if_absent(fs, pathf(fx, "w"), pathf(fx, "1.json")), CA_OK);

    /* re-arming replaces; disarm clears; reset zeroes counters */
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_STAT, 1, EIO), CA_OK);
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_STAT, 2, ENOSPC), CA_OK);
    ca_fs_stat st;
    assert_int_equal(ca_fs_stat_path(fs, fx->dir, &st), CA_OK);
    assert_int_equal(ca_fs_stat_path(fs, fx->dir, &st), CA_E_NOSPC);
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_STAT, 1, EIO), CA_OK);
    ca_fs_fault_disarm(ff);
    assert_int_equal(ca_fs_stat_path(fs, fx->dir, &st), CA_OK);
    ca_fs_fault_reset_counts(ff);
    assert_int_equal(ca_fs_fault_calls(ff, CA_FS_OP_STAT), 0);
    assert_int_equal(ca_fs_fault_injected(ff), 0);

    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_STAT, 0, EIO), CA_E_INVALID);
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_STAT, 1, 0), CA_E_INVALID);
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_COUNT, 1, EIO), CA_E_INVALID);
    ca_fs_fault_free(ff);
    ca_fs_fault_free(NULL);
}

/* Calls op once on fs with valid arguments rooted in dir; returns its status. */
static int call_op(const ca_fs *fs, const fixture *fx, ca_fs_op op, int round)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/op-%d-a", fx->dir, round);
    snprintf(b, sizeof b, "%s/op-%d-b", fx->dir, round);
    ca_fs_file *f = NULL;
    ca_fs_entry *e = NULL;
    size_t n = 0, got = 0;
    char buf[4];
    ca_fs_stat st;
    int rc;
    /* fixtures made without the fault layer */
    put(ca_fs_posix(), a, "abc");
    switch (op) {
    case CA_FS_OP_OPEN_READ:
        rc = ca_fs_open_read(fs, a, &f);
        ca_fs_posix()->close(NULL, f);
        return rc;
    case CA_FS_OP_READ_AT:
    case CA_FS_OP_CLOSE:
        assert_int_equal(ca_fs_open_read(ca_fs_posix(), a, &f), CA_OK);
        if (op == CA_FS_OP_READ_AT) {
            rc = ca_fs_read_at(fs, f, buf, 3, 0, &got);
            ca_fs_close(ca_fs_posix(), f);
            return rc;
        }
        return ca_fs_close(fs, f); /* releases f even when failing (ASan checks) */
    case CA_FS_OP_CREATE_EXCL:
        rc = ca_fs_create_excl(fs, b, &f);
        ca_fs_close(ca_fs_posix(), f);
        return rc;
    case CA_FS_OP_WRITE:
    case CA_FS_OP_FSYNC:
        assert_int_equal(ca_fs_create_excl(ca_fs_posix(), b, &f), CA_OK);
        rc = op == CA_FS_OP_WRITE ? ca_fs_write(fs, f, "x", 1) : ca_fs_fsync(fs, f);
        ca_fs_close(ca_fs_posix(), f);
        return rc;
    case CA_FS_OP_LINK_IF_ABSENT:
        return ca_fs_link_if_absent(fs, a, b);
    case CA_FS_OP_RENAME_REPLACE:
        return ca_fs_rename_replace(fs, a, b);
    case CA_FS_OP_FSYNC_PATH:
        return ca_fs_fsync_path(fs, a);
    case CA_FS_OP_FSYNC_DIR:
        return ca_fs_fsync_dir(fs, fx->dir);
    case CA_FS_OP_LIST:
        rc = ca_fs_list(fs, fx->dir, &e, &n);
        ca_fs_list_free(e, n);
        return rc;
    case CA_FS_OP_STAT:
        return ca_fs_stat_path(fs, a, &st);
    case CA_FS_OP_MKDIRS:
        return ca_fs_mkdirs(fs, b);
    case CA_FS_OP_REMOVE:
        return ca_fs_remove(fs, a);
    case CA_FS_OP_RMDIR:
        assert_int_equal(mkdir(b, 0755), 0);
        return ca_fs_rmdir(fs, b);
    case CA_FS_OP_STEP:
        return ca_fs_step(fs, "after_copy");
    default:
        fail();
        return -1;
    }
}

static void test_fault_every_op(void **state)
{
    fixture *fx = *state;
    ca_fs_fault *ff = NULL;
    assert_int_equal(ca_fs_fault_new(ca_fs_posix(), &ff), CA_OK);
    const ca_fs *fs = ca_fs_fault_fs(ff);
    int round = 0;
    const int errs[] = {ENOSPC, EIO};
    const int codes[] = {CA_E_NOSPC, CA_E_IO};
    for (int op = 0; op < CA_FS_OP_COUNT; op++) {
        assert_string_not_equal(ca_fs_op_name((ca_fs_op)op), "unknown");
        assert_int_equal(ca_fs_op_from_name(ca_fs_op_name((ca_fs_op)op)), op);
        for (int k = 0; k < 2; k++) {
            uint64_t before = ca_fs_fault_calls(ff, (ca_fs_op)op);
            /* undisturbed call works */
            assert_int_equal(call_op(fs, fx, (ca_fs_op)op, round++), CA_OK);
            assert_int_equal(ca_fs_fault_arm(ff, (ca_fs_op)op, 2, errs[k]), CA_OK);
            assert_int_equal(call_op(fs, fx, (ca_fs_op)op, round++), CA_OK);
            int rc = call_op(fs, fx, (ca_fs_op)op, round++);
            if (rc != codes[k])
                fail_msg("op %s: got %d, want %d", ca_fs_op_name((ca_fs_op)op), rc, codes[k]);
            assert_non_null(strstr(ca_error_last()->message, ca_fs_op_name((ca_fs_op)op)));
            assert_int_equal(call_op(fs, fx, (ca_fs_op)op, round++), CA_OK);
            assert_int_equal(ca_fs_fault_calls(ff, (ca_fs_op)op), before + 4);
        }
    }
    assert_int_equal(ca_fs_op_from_name("nope"), CA_FS_OP_COUNT);
    assert_string_equal(ca_fs_op_name(CA_FS_OP_COUNT), "unknown");
    assert_int_equal(ca_fs_fault_injected(ff), 2 * CA_FS_OP_COUNT);
    ca_fs_fault_free(ff);
}

/* write_if_absent / write_replace under a fault at every call they make: the target is either
 * written completely or untouched, and no temp file is left behind. */
static void test_fault_helpers_atomic(void **state)
{
    fixture *fx = *state;
    ca_fs_fault *ff = NULL;
    assert_int_equal(ca_fs_fault_new(ca_fs_posix(), &ff), CA_OK);
    const ca_fs *fs = ca_fs_fault_fs(ff);
    const char *p = pathf(fx, "target");
    int faults = 0;
    for (int mode = 0; mode < 2; mode++) {
        for (int op = 0; op < CA_FS_OP_COUNT; op++) {
            /* count this op's calls in an undisturbed run */
            remove(p);
            ca_fs_fault_reset_counts(ff);
            int rc = mode ? ca_fs_write_replace(fs, p, "data", 4)
                          : ca_fs_write_if_absent(fs, p, "data", 4);
            assert_int_equal(rc, CA_OK);
            uint64_t calls = ca_fs_fault_calls(ff, (ca_fs_op)op);
            for (uint64_t nth = 1; nth <= calls; nth++) {
                if (mode)
                    ca_fs_write_replace(ca_fs_posix(), p, "old", 3);
                else
                    remove(p);
                assert_int_equal(ca_fs_fault_arm(ff, (ca_fs_op)op, nth, EIO), CA_OK);
                rc = mode ? ca_fs_write_replace(fs, p, "data", 4)
                          : ca_fs_write_if_absent(fs, p, "data", 4);
                ca_fs_fault_disarm(ff);
                faults++;
                if (op == CA_FS_OP_REMOVE) /* removing the temp after the link: not an error */
                    assert_int_equal(rc, CA_OK);
                else
                    assert_int_equal(rc, CA_E_IO);
                struct stat st;
                if (stat(p, &st) == 0) {
                    char *d = get(ca_fs_posix(), p);
                    /* the file is whole: new after the commit point, else untouched */
                    if (op == CA_FS_OP_FSYNC_DIR || op == CA_FS_OP_REMOVE)
                        assert_string_equal(d, "data");
                    else
                        assert_string_equal(d, mode ? "old" : "data");
                    if (!mode)
                        assert_true(op == CA_FS_OP_FSYNC_DIR || op == CA_FS_OP_REMOVE);
                    ca__free(d);
                } else {
                    assert_int_equal(mode, 0);
                }
                if (op == CA_FS_OP_REMOVE) { /* the leftover temp is harmless: start over */
                    nftw(fx->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
                    assert_int_equal(mkdir(fx->dir, 0700), 0);
                }
                assert_int_equal(count_temps(fx->dir), 0);
            }
        }
    }
    assert_true(faults >= 10);
    ca_fs_fault_free(ff);
}

static void test_fault_spec(void **state)
{
    fixture *fx = *state;
    ca_fs_fault *ff = NULL;
    assert_int_equal(ca_fs_fault_new(ca_fs_posix(), &ff), CA_OK);
    const ca_fs *fs = ca_fs_fault_fs(ff);
    assert_int_equal(ca_fs_fault_arm_spec(ff, "stat:2:ENOSPC,link_if_absent:1:EEXIST"), CA_OK);
    ca_fs_stat st;
    assert_int_equal(ca_fs_stat_path(fs, fx->dir, &st), CA_OK);
    assert_int_equal(ca_fs_stat_path(fs, fx->dir, &st), CA_E_NOSPC);
    assert_int_equal(ca_fs_link_if_absent(fs, "a", "b"), CA_FS_EXISTS);
    const char *bad[] = {"stat", "stat:0:EIO", "stat:1", "stat:1:EWHAT", "nope:1:EIO",
                         "crash", "crash:", "crash:x:0", "stat:x:EIO", "stat:-1:EIO"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ca_fs_fault_arm_spec(ff, bad[i]), CA_E_INVALID);
    /* nothing armed by a spec with a bad item */
    assert_int_equal(ca_fs_fault_arm_spec(ff, "stat:1:EIO,bogus"), CA_E_INVALID);
    assert_int_equal(ca_fs_stat_path(fs, fx->dir, &st), CA_OK);
    assert_int_equal(ca_fs_fault_arm_spec(ff, ""), CA_OK);
    assert_int_equal(ca_fs_fault_arm_spec(ff, "crash:before_link:3"), CA_OK);
    ca_fs_fault_free(ff);
}

/* A forked child (no DuckDB here) runs steps on an armed layer; returns its wait status. */
static int run_child(const char *spec, const char *const *steps, int n_steps)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ca_fs_fault *ff;
        if (ca_fs_fault_new(ca_fs_posix(), &ff) || ca_fs_fault_arm_spec(ff, spec))
            _exit(2);
        for (int i = 0; i < n_steps; i++)
            if (ca_fs_step(ca_fs_fault_fs(ff), steps[i]))
                _exit(3);
        ca_fs_fault_free(ff);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_fault_crash_step(void **state)
{
    (void)state;
    const char *steps[] = {"after_copy", "before_link", "after_link", "before_link"};
    int st = run_child("crash:before_link", steps, 4);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 137);
    st = run_child("crash:before_link:2", steps, 3); /* second hit never comes */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    st = run_child("crash:before_link:2", steps, 4);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 137);
    st = run_child("crash:after_ckpt_copy", steps, 4);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);

    /* disarming in-process */
    ca_fs_fault *ff;
    assert_int_equal(ca_fs_fault_new(ca_fs_posix(), &ff), CA_OK);
    assert_int_equal(ca_fs_fault_arm_crash(ff, "x", 1), CA_OK);
    assert_int_equal(ca_fs_fault_arm_crash(ff, NULL, 0), CA_OK);
    assert_int_equal(ca_fs_step(ca_fs_fault_fs(ff), "x"), CA_OK);
    assert_int_equal(ca_fs_fault_arm_crash(ff, "x", 0), CA_E_INVALID);
    assert_int_equal(ca_fs_fault_calls(ff, CA_FS_OP_STEP), 1);
    ca_fs_fault_free(ff);
}

typedef struct thr_arg {
    const ca_fs *fs;
    const char *dir;
    int fails;
} thr_arg;

static void *stat_loop(void *p)
{
    thr_arg *a = p;
    ca_fs_stat st;
    for (int i = 0; i < 2000; i++)
        if (ca_fs_stat_path(a->fs, a->dir, &st))
            a->fails++;
    return NULL;
}

static void test_fault_threads(void **state)
{
    fixture *fx = *state;
    ca_fs_fault *ff;
    assert_int_equal(ca_fs_fault_new(ca_fs_posix(), &ff), CA_OK);
    assert_int_equal(ca_fs_fault_arm(ff, CA_FS_OP_STAT, 3000, EIO), CA_OK);
    pthread_t th[4];
    thr_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thr_arg){ca_fs_fault_fs(ff), fx->dir, 0};
        assert_int_equal(pthread_create(&th[i], NULL, stat_loop, &args[i]), 0);
    }
    int fails = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        fails += args[i].fails;
    }
    assert_int_equal(ca_fs_fault_calls(ff, CA_FS_OP_STAT), 8000);
    assert_int_equal(fails, 1); /* exactly one call failed */
    ca_fs_fault_free(ff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_write_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_if_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_path_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_rmdir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
        cmocka_unit_test(test_temp_path),
        cmocka_unit_test_setup_teardown(test_write_if_absent_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_nth_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_every_op, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_helpers_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_spec, setup, teardown),
        cmocka_unit_test(test_fault_crash_step),
        cmocka_unit_test_setup_teardown(test_fault_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
