/* Deletion vectors (delta.md §11): descriptors, files, the 64-bit roaring bucket format. */
#include "lib/delta/delta_int.h"

#include "util/alloc.h"
#include "util/err.h"

#include <inttypes.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define DV_MAGIC 1681511377u
#define DV_MAGIC_NATIVE 1681511376u

struct dl_bitmap {
    size_t n;
    uint32_t *keys;
    roaring_bitmap_t **maps;
};

void ca_delta__dv_free(dl_bitmap *bm)
{
    if (!bm)
        return;
    for (size_t i = 0; i < bm->n; i++)
        roaring_bitmap_free(bm->maps[i]);
    ca__free(bm->keys);
    ca__free(bm->maps);
    ca__free(bm);
}

bool ca_delta__dv_contains(const dl_bitmap *bm, uint64_t row)
{
    uint32_t key = (uint32_t)(row >> 32);
    for (size_t i = 0; i < bm->n; i++)
        if (bm->keys[i] == key)
            return roaring_bitmap_contains(bm->maps[i], (uint32_t)row);
    return false;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

typedef struct dv_where {
    const char *root, *data_file, *dv_file;
    int32_t offset;
} dv_where;

static int dv_err(const dv_where *w, const char *what)
{
    return ca_err_set(CA_E_DELTA_DV, DL_MOD,
                      "delta: %s: data file %s: deletion vector %s @%" PRId32 ": %s", w->root,
                      w->data_file, w->dv_file, w->offset, what);
}

/* Parses the bitmap bytes: the portable RoaringBitmapArray format (little-endian magic
 * 1681511377, u64 bucket count, per bucket u32 key + portable roaring bitmap), or the "native"
 * one the protocol's inline example uses (big-endian magic 1681511376, u32 count, per bitmap a
 * big-endian u32 length + portable roaring bitmap, key = position). */
static int parse_bitmap(const dv_where *w, const uint8_t *p, size_t n, int64_t cardinality,
                        dl_bitmap **out)
{
    bool native = n >= 8 && be32(p) == DV_MAGIC_NATIVE;
    if (!native && (n < 12 || le32(p) != DV_MAGIC))
        return dv_err(w, "bad magic number");
    uint64_t buckets = native ? be32(p + 4) : (uint64_t)le32(p + 4) | (uint64_t)le32(p + 8) << 32;
    size_t pos = native ? 8 : 12;
    if (buckets > n)
        return dv_err(w, "bucket count exceeds the data");
    dl_bitmap *bm = ca__calloc(1, sizeof *bm);
    if (!bm)
        return ca_err_nomem(DL_MOD, "deletion vector");
    if (buckets) {
        bm->keys = ca__calloc((size_t)buckets, sizeof *bm->keys);
        bm->maps = ca__calloc((size_t)buckets, sizeof *bm->maps);
        if (!bm->keys || !bm->maps) {
            ca_delta__dv_free(bm);
            return ca_err_nomem(DL_MOD, "deletion vector");
        }
    }
    uint64_t total = 0;
    for (uint64_t b = 0; b < buckets; b++) {
        if (pos + 4 > n) {
            ca_delta__dv_free(bm);
            return dv_err(w, "truncated bucket");
        }
        uint32_t key = native ? (uint32_t)b : le32(p + pos);
        size_t limit = n;
        if (native) {
            uint32_t len = be32(p + pos);
            if (len > n - pos - 4) {
                ca_delta__dv_free(bm);
                return dv_err(w, "truncated bitmap");
            }
            limit = pos + 4 + len;
        }
        pos += 4;
        if (key & 0x80000000u || (b > 0 && key <= bm->keys[b - 1])) {
            ca_delta__dv_free(bm);
            return dv_err(w, "bucket keys not ascending");
        }
        size_t sz = roaring_bitmap_portable_deserialize_size((const char *)p + pos, limit - pos);
        if (sz == 0 || (native && pos + sz != limit)) {
            ca_delta__dv_free(bm);
            return dv_err(w, "bad roaring bitmap");
        }
        roaring_bitmap_t *r = roaring_bitmap_portable_deserialize_safe((const char *)p + pos, sz);
        if (!r) {
            ca_delta__dv_free(bm);
            return dv_err(w, "bad roaring bitmap");
        }
        bm->keys[bm->n] = key;
        bm->maps[bm->n++] = r;
        total += roaring_bitmap_get_cardinality(r);
        pos += sz;
    }
    if (pos != n) {
        ca_delta__dv_free(bm);
        return dv_err(w, "trailing bytes after the bitmap");
    }
    if ((int64_t)total != cardinality) {
        char what[96];
        snprintf(what, sizeof what, "cardinality %" PRIu64 " differs from the logged %" PRId64, total,
                 cardinality);
        ca_delta__dv_free(bm);
        return dv_err(w, what);
    }
    *out = bm;
    return CA_OK;
}

const char *ca_delta__dv_rel_path(const char *id, char **out)
{
    *out = NULL;
    size_t n = strlen(id);
    if (n < 20)
        return "relative DV id shorter than 20 characters";
    uint8_t u[16];
    if (ca_delta__z85_decode(id + n - 20, 20, u, sizeof u) != 16)
        return "relative DV id is not Z85";
    ca_buf b = CA_BUF_INIT;
    if (n > 20)
        ca_buf_printf(&b, "%.*s/", (int)(n - 20), id);
    ca_buf_puts(&b, "deletion_vector_");
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            ca_buf_putc(&b, '-');
        ca_buf_printf(&b, "%02x", u[i]);
    }
    ca_buf_puts(&b, ".bin");
    *out = ca_buf_detach(&b, NULL);
    return NULL;
}

int ca_delta__dv_load(const ca_fs *fs, const char *root, const char *data_file, const dl_dv *dv,
                      dl_bitmap **out)
{
    *out = NULL;
    dv_where w = {root, data_file, dv->path_or_inline, dv->offset};
    if (dv->size < 0 || dv->cardinality < 0)
        return dv_err(&w, "negative size or cardinality");
    if (dv->storage == 'i') {
        size_t n = strlen(dv->path_or_inline);
        if (n % 5)
            return dv_err(&w, "inline data is not Z85");
        uint8_t *buf = ca__malloc(n / 5 * 4 + 1);
        if (!buf)
            return ca_err_nomem(DL_MOD, "deletion vector");
        long got = ca_delta__z85_decode(dv->path_or_inline, n, buf, n / 5 * 4 + 1);
        int rc;
        if (got < 0)
            rc = dv_err(&w, "inline data is not Z85");
        else if ((long)dv->size > got)
            rc = dv_err(&w, "sizeInBytes exceeds the inline data");
        else
            rc = parse_bitmap(&w, buf, (size_t)dv->size, dv->cardinality, out);
        ca__free(buf);
        return rc;
    }
    char *path = NULL;
    if (dv->storage == 'u') {
        char *rel = NULL;
        const char *bad = ca_delta__dv_rel_path(dv->path_or_inline, &rel);
        if (bad)
            return dv_err(&w, bad);
        if (rel) {
            ca_buf b = CA_BUF_INIT;
            ca_buf_printf(&b, "%s/%s", root, rel);
            path = ca_buf_detach(&b, NULL);
            ca__free(rel);
        }
    } else if (dv->storage == 'p') {
        path = ca_delta__canonical_path(dv->path_or_inline);
    } else {
        return dv_err(&w, "unknown storage type");
    }
    if (!path)
        return ca_err_nomem(DL_MOD, "deletion vector");
    w.dv_file = path;
    ca_fs_file *fh = NULL;
    int rc = ca_fs_open_read(fs, path, &fh);
    if (rc) {
        rc = ca_err_set(CA_E_DELTA_DV, DL_MOD, "delta: %s: data file %s: deletion vector %s: %s",
                        root, data_file, path, ca_error_last()->message);
        ca__free(path);
        return rc;
    }
    uint8_t ver = 0, hdr[4];
    size_t got = 0;
    uint8_t *buf = NULL;
    rc = ca_fs_read_at(fs, fh, &ver, 1, 0, &got);
    if (rc == CA_OK && (got != 1 || ver != 1))
        rc = dv_err(&w, "unsupported DV file version");
    if (rc == CA_OK)
        rc = ca_fs_read_at(fs, fh, hdr, 4, (uint64_t)dv->offset, &got);
    if (rc == CA_OK && got != 4)
        rc = dv_err(&w, "offset beyond the end of the file");
    if (rc == CA_OK && be32(hdr) != (uint32_t)dv->size)
        rc = dv_err(&w, "stored size differs from sizeInBytes");
    if (rc == CA_OK && !(buf = ca__malloc((size_t)dv->size + 4)))
        rc = ca_err_nomem(DL_MOD, "deletion vector");
    if (rc == CA_OK)
        rc = ca_fs_read_at(fs, fh, buf, (size_t)dv->size + 4, (uint64_t)dv->offset + 4, &got);
    if (rc == CA_OK && got != (size_t)dv->size + 4)
        rc = dv_err(&w, "truncated bitmap");
    if (rc == CA_OK) {
        uint32_t want = be32(buf + dv->size);
        uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)dv->size);
        if (crc != want)
            rc = dv_err(&w, "CRC-32 mismatch");
    }
    if (rc == CA_OK)
        rc = parse_bitmap(&w, buf, (size_t)dv->size, dv->cardinality, out);
    ca__free(buf);
    ca_fs_close(fs, fh);
    ca__free(path);
    return rc;
}
