/* Section "hashing": stable_hash64, stable_hash128, prefixed_hash64, stable_id (functions.md
 * §4.1). Vector loops over flat inputs; part texts and digests come from ids.c (R6). */
#include "lib/functions/functions_int.h"

#include "util/alloc.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>

#define NUM_TEXT_MAX 400

static void err_libb2(ca_udf_exec *ex, const char *fn)
{
    const char *m = ca_error_last()->message;
    if (!strncmp(m, "hash: libb2 ", 12))
        m += 12;
    ca_fn__exec_errorf(ex, "%s: internal error: libb2 %s", fn, m);
}

/* Reads row r of a VARCHAR vector, validated; false after setting E1. */
static inline bool read_text(ca_udf_exec *ex, const ca_duck_str *s, const char *fn, const char *arg,
                             const char **p, size_t *n)
{
    size_t bad;
    *p = ca_duck_str_data(s);
    *n = ca_duck_str_len(s);
    if (!ca_fn__utf8_valid(*p, *n, &bad)) {
        ca_fn__err_utf8(ex, fn, arg, bad);
        return false;
    }
    return true;
}

/* ---- stable_hash64 / stable_hash128 ---------------------------------------------------- */

static void hash64_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *v = ca_duck_chunk_vector(in, 0);
    const ca_duck_str *s = ca_duck_vec_data(v);
    const uint64_t *m = ca_duck_vec_validity(v);
    int64_t *o = ca_duck_vec_data(out);
    for (size_t r = 0; r < n; r++) {
        const char *p;
        size_t len;
        if (!ca_duck_row_valid(m, r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        if (!read_text(ex, &s[r], "stable_hash64", "value", &p, &len))
            return;
        if (ca_fn__h64(p, len, &o[r]) != CA_OK) {
            err_libb2(ex, "stable_hash64");
            return;
        }
    }
}

static void hash128_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *v = ca_duck_chunk_vector(in, 0);
    const ca_duck_str *s = ca_duck_vec_data(v);
    const uint64_t *m = ca_duck_vec_validity(v);
    char h[32];
    for (size_t r = 0; r < n; r++) {
        const char *p;
        size_t len;
        if (!ca_duck_row_valid(m, r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        if (!read_text(ex, &s[r], "stable_hash128", "value", &p, &len))
            return;
        if (ca_fn__h128_hex(p, len, h) != CA_OK) {
            err_libb2(ex, "stable_hash128");
            return;
        }
        ca_duck_vec_set_string(out, r, h, 32);
    }
}

int ca_fn__register_stable_hash64(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_type p[1] = {CA_DUCK_VARCHAR};
    return ca_fn__register_simple(c, e->name, p, 1, CA_DUCK_BIGINT, hash64_fn, NULL, false);
}

int ca_fn__register_stable_hash128(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_type p[1] = {CA_DUCK_VARCHAR};
    return ca_fn__register_simple(c, e->name, p, 1, CA_DUCK_VARCHAR, hash128_fn, NULL, false);
}

/* ---- prefixed_hash64 ------------------------------------------------------------------- */

static void prefixed_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    size_t n = ca_duck_chunk_size(in);
    ca_duck_vec *vp = ca_duck_chunk_vector(in, 0), *vv = ca_duck_chunk_vector(in, 1);
    const ca_duck_str *sp = ca_duck_vec_data(vp), *sv = ca_duck_vec_data(vv);
    const uint64_t *mp = ca_duck_vec_validity(vp), *mv = ca_duck_vec_validity(vv);
    ca_fn_scratch buf;
    ca_fn_scratch_init(&buf);
    for (size_t r = 0; r < n; r++) {
        const char *p, *v;
        size_t plen, vlen;
        int64_t h;
        if (!ca_duck_row_valid(mp, r) || !ca_duck_row_valid(mv, r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        if (!read_text(ex, &sp[r], "prefixed_hash64", "prefix", &p, &plen) ||
            !read_text(ex, &sv[r], "prefixed_hash64", "value", &v, &vlen))
            break;
        if (ca_fn__h64(v, vlen, &h) != CA_OK) {
            err_libb2(ex, "prefixed_hash64");
            break;
        }
        if (!ca_fn__scratch_reserve(&buf, plen + 21)) {
            ca_udf_exec_set_error(ex, "prefixed_hash64: out of memory");
            break;
        }
        memcpy(buf.p, p, plen);
        buf.p[plen] = ':';
        size_t k = ca_fn__int_text(h, buf.p + plen + 1);
        ca_duck_vec_set_string(out, r, buf.p, plen + 1 + k);
    }
    ca_fn__scratch_free(&buf);
}

int ca_fn__register_prefixed_hash64(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_type p[2] = {CA_DUCK_VARCHAR, CA_DUCK_VARCHAR};
    return ca_fn__register_simple(c, e->name, p, 2, CA_DUCK_VARCHAR, prefixed_fn, NULL, false);
}

/* ---- stable_id ------------------------------------------------------------------------- */

typedef struct sid_part {
    uint8_t type;     /* ca_duck_type */
    uint8_t internal; /* DECIMAL: physical type */
    uint8_t scale;
} sid_part;

typedef struct sid_bind {
    size_t n_parts;
    size_t n_num; /* parts needing number text */
    sid_part p[CA_ID_MAX_PARTS];
} sid_bind;

static void *sid_copy(void *p)
{
    sid_bind *c = ca__malloc(sizeof *c);
    if (c)
        memcpy(c, p, sizeof *c);
    return c;
}

static const char *type_name(ca_duck_type t)
{
    static const char *const names[] = {
        [CA_DUCK_INVALID] = "INVALID", [CA_DUCK_BOOLEAN] = "BOOLEAN", [CA_DUCK_TINYINT] = "TINYINT",
        [CA_DUCK_SMALLINT] = "SMALLINT", [CA_DUCK_INTEGER] = "INTEGER", [CA_DUCK_BIGINT] = "BIGINT",
        [CA_DUCK_UTINYINT] = "UTINYINT", [CA_DUCK_USMALLINT] = "USMALLINT", [CA_DUCK_UINTEGER] = "UINTEGER",
        [CA_DUCK_UBIGINT] = "UBIGINT", [CA_DUCK_FLOAT] = "FLOAT", [CA_DUCK_DOUBLE] = "DOUBLE",
        [CA_DUCK_TIMESTAMP] = "TIMESTAMP", [CA_DUCK_DATE] = "DATE", [CA_DUCK_TIME] = "TIME",
        [CA_DUCK_INTERVAL] = "INTERVAL", [CA_DUCK_HUGEINT] = "HUGEINT", [CA_DUCK_VARCHAR] = "VARCHAR",
        [CA_DUCK_BLOB] = "BLOB", [CA_DUCK_DECIMAL] = "DECIMAL", [CA_DUCK_TIMESTAMP_S] = "TIMESTAMP_S",
        [CA_DUCK_TIMESTAMP_MS] = "TIMESTAMP_MS", [CA_DUCK_TIMESTAMP_NS] = "TIMESTAMP_NS",
        [CA_DUCK_ENUM] = "ENUM", [CA_DUCK_LIST] = "LIST", [CA_DUCK_STRUCT] = "STRUCT", [CA_DUCK_MAP] = "MAP",
        [CA_DUCK_UUID] = "UUID", [CA_DUCK_UNION] = "UNION", [CA_DUCK_BIT] = "BIT", [CA_DUCK_TIME_TZ] = "TIME_TZ",
        [CA_DUCK_TIMESTAMP_TZ] = "TIMESTAMP_TZ", [CA_DUCK_UHUGEINT] = "UHUGEINT", [CA_DUCK_ARRAY] = "ARRAY",
        [CA_DUCK_ANY] = "ANY", [CA_DUCK_BIGNUM] = "BIGNUM", [CA_DUCK_SQLNULL] = "SQLNULL",
        [37] = "STRING_LITERAL", [38] = "INTEGER_LITERAL", [CA_DUCK_TIME_NS] = "TIME_NS",
    };
    if ((size_t)t < sizeof names / sizeof names[0] && names[t])
        return names[t];
    return "UNKNOWN";
}

static bool part_type_ok(ca_duck_type t)
{
    switch (t) {
    case CA_DUCK_VARCHAR: case CA_DUCK_BOOLEAN: case CA_DUCK_TINYINT: case CA_DUCK_SMALLINT:
    case CA_DUCK_INTEGER: case CA_DUCK_BIGINT: case CA_DUCK_HUGEINT: case CA_DUCK_UTINYINT:
    case CA_DUCK_USMALLINT: case CA_DUCK_UINTEGER: case CA_DUCK_UBIGINT: case CA_DUCK_UHUGEINT:
    case CA_DUCK_DECIMAL: case CA_DUCK_FLOAT: case CA_DUCK_DOUBLE: case CA_DUCK_SQLNULL:
        return true;
    default:
        return false;
    }
}

static void sid_bind_fn(ca_udf_bind *b)
{
    size_t n = ca_udf_bind_arg_count(b);
    if (n < 2 || n > CA_ID_MAX_PARTS + 1) {
        ca_fn__bind_errorf(b, "stable_id: expected 2 to 64 arguments (prefix and 1 to 63 parts), got %zu", n);
        return;
    }
    sid_bind *bd = ca__calloc(1, sizeof *bd);
    if (!bd) {
        ca_udf_bind_set_error(b, "stable_id: out of memory");
        return;
    }
    bd->n_parts = n - 1;
    for (size_t i = 1; i < n; i++) {
        ca_duck_ltype *t = ca_udf_bind_arg_type(b, i);
        ca_duck_type id = t ? ca_duck_ltype_id(t) : CA_DUCK_INVALID;
        sid_part *p = &bd->p[i - 1];
        p->type = (uint8_t)id;
        if (id == CA_DUCK_DECIMAL) {
            p->internal = (uint8_t)ca_duck_ltype_decimal_internal(t);
            p->scale = ca_duck_ltype_decimal_scale(t);
        }
        ca_duck_ltype_free(t);
        if (!part_type_ok(id)) {
            ca_fn__bind_errorf(b, "stable_id: argument %zu has unsupported type %s; use VARCHAR, BOOLEAN, an "
                                  "integer type, DECIMAL, FLOAT or DOUBLE", i + 1, type_name(id));
            ca__free(bd);
            return;
        }
        if (id != CA_DUCK_VARCHAR && id != CA_DUCK_SQLNULL)
            bd->n_num++;
    }
    ca_udf_bind_set_data(b, bd, ca__free, sid_copy);
}

/* Text of a non-VARCHAR part value at row r into num. */
static size_t num_text(const sid_part *p, const void *data, size_t r, char *num)
{
    switch ((ca_duck_type)p->type) {
    case CA_DUCK_BOOLEAN: return (size_t)sprintf(num, "%s", ((const bool *)data)[r] ? "true" : "false");
    case CA_DUCK_TINYINT: return ca_fn__int_text(((const int8_t *)data)[r], num);
    case CA_DUCK_SMALLINT: return ca_fn__int_text(((const int16_t *)data)[r], num);
    case CA_DUCK_INTEGER: return ca_fn__int_text(((const int32_t *)data)[r], num);
    case CA_DUCK_BIGINT: return ca_fn__int_text(((const int64_t *)data)[r], num);
    case CA_DUCK_UTINYINT: return ca_fn__uint_text(((const uint8_t *)data)[r], num);
    case CA_DUCK_USMALLINT: return ca_fn__uint_text(((const uint16_t *)data)[r], num);
    case CA_DUCK_UINTEGER: return ca_fn__uint_text(((const uint32_t *)data)[r], num);
    case CA_DUCK_UBIGINT: return ca_fn__uint_text(((const uint64_t *)data)[r], num);
    case CA_DUCK_HUGEINT: {
        const ca_duck_hugeint *h = &((const ca_duck_hugeint *)data)[r];
        return ca_fn__i128_text(h->lower, h->upper, num);
    }
    case CA_DUCK_UHUGEINT: {
        const ca_duck_uhugeint *h = &((const ca_duck_uhugeint *)data)[r];
        return ca_fn__u128_text(h->lower, h->upper, num);
    }
    case CA_DUCK_FLOAT: return ca_functions__float_text((double)((const float *)data)[r], true, num);
    case CA_DUCK_DOUBLE: return ca_functions__float_text(((const double *)data)[r], false, num);
    case CA_DUCK_DECIMAL: {
        int64_t v;
        switch ((ca_duck_type)p->internal) {
        case CA_DUCK_SMALLINT: v = ((const int16_t *)data)[r]; break;
        case CA_DUCK_INTEGER: v = ((const int32_t *)data)[r]; break;
        case CA_DUCK_BIGINT: v = ((const int64_t *)data)[r]; break;
        default: {
            const ca_duck_hugeint *h = &((const ca_duck_hugeint *)data)[r];
            return ca_fn__decimal_text(h->lower, h->upper, p->scale, num);
        }
        }
        return ca_fn__decimal_text((uint64_t)v, v < 0 ? -1 : 0, p->scale, num);
    }
    default: return 0;
    }
}

static void sid_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    const sid_bind *bd = ca_udf_exec_bind_data(ex);
    size_t n = ca_duck_chunk_size(in);
    size_t np = bd->n_parts;
    ca_duck_vec *vp = ca_duck_chunk_vector(in, 0);
    const ca_duck_str *prefix = ca_duck_vec_data(vp);
    const uint64_t *mp = ca_duck_vec_validity(vp);
    const void *data[CA_ID_MAX_PARTS];
    const uint64_t *mask[CA_ID_MAX_PARTS];
    for (size_t i = 0; i < np; i++) {
        ca_duck_vec *v = ca_duck_chunk_vector(in, i + 1);
        data[i] = ca_duck_vec_data(v);
        mask[i] = ca_duck_vec_validity(v);
    }
    char *num = NULL;
    if (bd->n_num && !(num = ca__malloc(bd->n_num * NUM_TEXT_MAX))) {
        ca_udf_exec_set_error(ex, "stable_id: out of memory");
        return;
    }
    ca_fn_scratch msg, res;
    ca_fn_scratch_init(&msg);
    ca_fn_scratch_init(&res);
    const char *ptrs[CA_ID_MAX_PARTS];
    size_t lens[CA_ID_MAX_PARTS];
    char h[32];
    for (size_t r = 0; r < n; r++) {
        if (!ca_duck_row_valid(mp, r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        const char *p;
        size_t plen, bad;
        if (!read_text(ex, &prefix[r], "stable_id", "prefix", &p, &plen))
            goto done;
        size_t k = 0;
        for (size_t i = 0; i < np; i++) {
            const sid_part *sp = &bd->p[i];
            if (sp->type == CA_DUCK_SQLNULL || !ca_duck_row_valid(mask[i], r)) {
                ptrs[i] = CA_FN_NULL_SENTINEL;
                lens[i] = sizeof CA_FN_NULL_SENTINEL - 1;
            } else if (sp->type == CA_DUCK_VARCHAR) {
                const ca_duck_str *s = &((const ca_duck_str *)data[i])[r];
                ptrs[i] = ca_duck_str_data(s);
                lens[i] = ca_duck_str_len(s);
                if (!ca_fn__utf8_valid(ptrs[i], lens[i], &bad)) {
                    ca_fn__err_utf8_argno(ex, "stable_id", i + 2, bad);
                    goto done;
                }
            } else {
                char *slot = num + (k++) * NUM_TEXT_MAX;
                ptrs[i] = slot;
                lens[i] = num_text(sp, data[i], r, slot);
            }
        }
        if (ca_fn__multi_h128_hex(ptrs, lens, np, &msg, h) != CA_OK) {
            err_libb2(ex, "stable_id");
            goto done;
        }
        if (!ca_fn__scratch_reserve(&res, plen + 33)) {
            ca_udf_exec_set_error(ex, "stable_id: out of memory");
            goto done;
        }
        memcpy(res.p, p, plen);
        res.p[plen] = ':';
        memcpy(res.p + plen + 1, h, 32);
        ca_duck_vec_set_string(out, r, res.p, plen + 33);
    }
done:
    ca_fn__scratch_free(&msg);
    ca_fn__scratch_free(&res);
    ca__free(num);
}

int ca_fn__register_stable_id(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_ltype *p[1] = {ca_duck_ltype_new(CA_DUCK_VARCHAR)};
    ca_duck_ltype *any = ca_duck_ltype_new(CA_DUCK_ANY);
    ca_duck_ltype *ret = ca_duck_ltype_new(CA_DUCK_VARCHAR);
    ca_udf_scalar f = {.params = p, .n_params = 1, .varargs = any, .ret = ret, .fn = sid_fn,
                       .bind = sid_bind_fn, .special_nulls = true};
    int rc = ca_udf_register_scalar(c, e->name, &f, 1);
    ca_duck_ltype_free(p[0]);
    ca_duck_ltype_free(any);
    ca_duck_ltype_free(ret);
    return rc;
}
