/* Log file names (delta.md §4), URI decoding, canonical paths, Z85. */
#include "lib/delta/delta_int.h"

#include "util/alloc.h"

#include <ctype.h>
#include <string.h>
#include <unistd.h>

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int64_t parse_u(const char *s, size_t n)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool is_uuid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!isxdigit((unsigned char)c)) {
            return false;
        }
    }
    return true;
}

void ca_delta__classify(const char *name, dl_name *out)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(name);
    if (n < 21 || !all_digits(name, 20) || name[20] != '.')
        return;
    int64_t v = parse_u(name, 20);
    if (v < 0)
        return;
    const char *rest = name + 21;
    size_t rn = n - 21;
    out->version = v;
    if (strcmp(rest, "json") == 0) {
        out->kind = DL_NAME_COMMIT;
    } else if (strcmp(rest, "crc") == 0) {
        out->kind = DL_NAME_CRC;
    } else if (strcmp(rest, "checkpoint.parquet") == 0) {
        out->kind = DL_NAME_CKPT_CLASSIC;
    } else if (rn == 20 + 15 && all_digits(rest, 20) && strcmp(rest + 20, ".compacted.json") == 0) {
        out->kind = DL_NAME_COMPACTION;
    } else if (strncmp(rest, "checkpoint.", 11) == 0) {
        const char *c = rest + 11;
        size_t cn = rn - 11;
        if (cn == 10 + 1 + 10 + 8 && all_digits(c, 10) && c[10] == '.' && all_digits(c + 11, 10) &&
            strcmp(c + 21, ".parquet") == 0) {
            out->kind = DL_NAME_CKPT_MULTI;
            out->part = (int)parse_u(c, 10);
            out->parts = (int)parse_u(c + 11, 10);
            if (out->part < 1 || out->parts < 1 || out->part > out->parts)
                out->kind = DL_NAME_OTHER;
        } else if (cn > 37 && is_uuid(c, 36) && c[36] == '.') {
            if (strcmp(c + 37, "json") == 0) {
                out->kind = DL_NAME_CKPT_UUID;
                out->is_json = true;
            } else if (strcmp(c + 37, "parquet") == 0) {
                out->kind = DL_NAME_CKPT_UUID;
            }
        }
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *ca_delta__uri_decode(const char *s)
{
    size_t n = strlen(s);
    char *out = ca__malloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            int h = hexval((unsigned char)s[i + 1]);
            int l = hexval((unsigned char)s[i + 2]);
            if (h >= 0 && l >= 0) {
                out[j++] = (char)(h * 16 + l);
                i += 2;
                continue;
            }
        }
        out[j++] = s[i];
    }
    out[j] = 0;
    return out;
}

char *ca_delta__canonical_path(const char *log_path)
{
    const char *p = log_path;
    if (strncmp(p, "file://", 7) == 0)
        p += 7; /* file:///x -> /x (empty authority) */
    else if (strncmp(p, "file:", 5) == 0)
        p += 5;
    return ca_delta__uri_decode(p);
}

char *ca_delta__abs_path(const char *root, const char *cpath)
{
    if (cpath[0] == '/')
        return ca__strdup(cpath);
    size_t a = strlen(root), b = strlen(cpath);
    char *out = ca__malloc(a + b + 2);
    if (!out)
        return NULL;
    memcpy(out, root, a);
    out[a] = '/';
    memcpy(out + a + 1, cpath, b + 1);
    return out;
}

char *ca_delta__normalize_root(const char *path)
{
    ca_buf in = CA_BUF_INIT;
    if (strncmp(path, "file://", 7) == 0)
        path += 7;
    else if (strncmp(path, "file:", 5) == 0)
        path += 5;
    if (path[0] != '/') {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        ca_buf_puts(&in, cwd);
        ca_buf_putc(&in, '/');
    }
    ca_buf_puts(&in, path);
    if (ca_buf_status(&in)) {
        ca_buf_free(&in);
        return NULL;
    }
    /* Split into segments and resolve "." and ".." lexically. */
    char *src = ca_buf_detach(&in, NULL);
    size_t n = strlen(src);
    char *out = ca__malloc(n + 2);
    if (!out) {
        ca__free(src);
        return NULL;
    }
    size_t j = 0;
    char *save = NULL;
    for (char *seg = strtok_r(src, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            while (j > 0 && out[j - 1] != '/')
                j--;
            if (j > 0)
                j--;
            continue;
        }
        out[j++] = '/';
        size_t sl = strlen(seg);
        memcpy(out + j, seg, sl);
        j += sl;
    }
    if (j == 0)
        out[j++] = '/';
    out[j] = 0;
    ca__free(src);
    return out;
}

static const char z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

long ca_delta__z85_decode(const char *in, size_t n_in, uint8_t *out, size_t out_cap)
{
    static int8_t map[256];
    static bool init;
    if (!__atomic_load_n(&init, __ATOMIC_ACQUIRE)) {
        int8_t m[256];
        memset(m, -1, sizeof m);
        for (int i = 0; i < 85; i++)
            m[(unsigned char)z85_chars[i]] = (int8_t)i;
        memcpy(map, m, sizeof m);
        __atomic_store_n(&init, true, __ATOMIC_RELEASE);
    }
    if (n_in % 5)
        return -1;
    size_t need = n_in / 5 * 4;
    if (need > out_cap)
        return -1;
    size_t j = 0;
    for (size_t i = 0; i < n_in; i += 5) {
        uint64_t v = 0;
        for (int k = 0; k < 5; k++) {
            int d = map[(unsigned char)in[i + (size_t)k]];
            if (d < 0)
                return -1;
            v = v * 85 + (uint64_t)d;
        }
        if (v > 0xFFFFFFFFu)
            return -1;
        out[j++] = (uint8_t)(v >> 24);
        out[j++] = (uint8_t)(v >> 16);
        out[j++] = (uint8_t)(v >> 8);
        out[j++] = (uint8_t)v;
    }
    return (long)j;
}
