/*
 * The _last_checkpoint checksum (PROTOCOL.md "JSON checksum", delta.md §14): MD5 of the
 * canonical form `path=value` per leaf, sorted bytewise by path, joined by ','. Numbers keep
 * their written lexeme, so this has its own small tokenizer instead of jansson.
 */
#include "lib/delta/delta_int.h"

#include "util/alloc.h"
#include "util/err.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pair {
    char *path;
    char *value;
} pair;

typedef struct canon {
    const char *p, *end;
    pair *pairs;
    size_t n, cap;
    int err;
} canon;

static void ws(canon *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static void url_encode(ca_buf *b, const char *s, size_t n)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            ca_buf_putc(b, (char)ch);
        } else {
            ca_buf_putc(b, '%');
            ca_buf_putc(b, hx[ch >> 4]);
            ca_buf_putc(b, hx[ch & 15]);
        }
    }
}

static void put_utf8(ca_buf *b, unsigned cp)
{
    if (cp < 0x80) {
        ca_buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        ca_buf_putc(b, (char)(0xC0 | cp >> 6));
        ca_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        ca_buf_putc(b, (char)(0xE0 | cp >> 12));
        ca_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        ca_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        ca_buf_putc(b, (char)(0xF0 | cp >> 18));
        ca_buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        ca_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        ca_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned)(ch - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Reads a JSON string (at '"'), appends `"<url-encoded content>"` to out. */
static void read_string(canon *c, ca_buf *out)
{
    ca_buf raw = CA_BUF_INIT;
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if (ch != '\\') {
            ca_buf_putc(&raw, ch);
            continue;
        }
        if (c->p >= c->end) {
            c->err = 1;
            break;
        }
        char e = *c->p++;
        switch (e) {
        case 'n': ca_buf_putc(&raw, '\n'); break;
        case 't': ca_buf_putc(&raw, '\t'); break;
        case 'r': ca_buf_putc(&raw, '\r'); break;
        case 'b': ca_buf_putc(&raw, '\b'); break;
        case 'f': ca_buf_putc(&raw, '\f'); break;
        case 'u': {
            unsigned cp;
            if (c->end - c->p < 4 || hex4(c->p, &cp)) {
                c->err = 1;
                break;
            }
            c->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
                unsigned lo;
                if (!hex4(c->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    c->p += 6;
                }
            }
            put_utf8(&raw, cp);
            break;
        }
        default: ca_buf_putc(&raw, e); break;
        }
    }
    if (c->p >= c->end)
        c->err = 1;
    else
        c->p++;
    ca_buf_putc(out, '"');
    url_encode(out, raw.data ? raw.data : "", raw.len);
    ca_buf_putc(out, '"');
    ca_buf_free(&raw);
}

static void add_pair(canon *c, const char *path, const char *value)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 32;
        pair *np = ca__realloc(c->pairs, nc * sizeof *np);
        if (!np) {
            c->err = 1;
            return;
        }
        c->pairs = np;
        c->cap = nc;
    }
    c->pairs[c->n].path = ca__strdup(path);
    c->pairs[c->n].value = ca__strdup(value);
    c->n++;
}

static void read_value(canon *c, ca_buf *path, int depth, bool top);

static void read_container(canon *c, ca_buf *path, int depth, bool top, bool is_obj)
{
    c->p++;
    ws(c);
    size_t base = path->len;
    long idx = 0;
    if (c->p < c->end && *c->p == (is_obj ? '}' : ']')) {
        c->p++;
        return; /* empty containers have no leaves */
    }
    while (!c->err && c->p < c->end) {
        ws(c);
        path->len = base;
        if (path->data)
            path->data[base] = 0;
        if (base)
            ca_buf_putc(path, '+');
        bool skip = false;
        if (is_obj) {
            if (*c->p != '"') {
                c->err = 1;
                return;
            }
            size_t kstart = path->len;
            read_string(c, path);
            if (top && strcmp(path->data + kstart, "\"checksum\"") == 0)
                skip = true;
            ws(c);
            if (c->p >= c->end || *c->p != ':') {
                c->err = 1;
                return;
            }
            c->p++;
        } else {
            ca_buf_printf(path, "%ld", idx++);
        }
        ws(c);
        if (skip) {
            ca_buf discard = CA_BUF_INIT;
            size_t n0 = c->n;
            read_value(c, &discard, depth + 1, false);
            for (size_t i = n0; i < c->n; i++) {
                ca__free(c->pairs[i].path);
                ca__free(c->pairs[i].value);
            }
            c->n = n0;
            ca_buf_free(&discard);
        } else {
            read_value(c, path, depth + 1, false);
        }
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == (is_obj ? '}' : ']')) {
            c->p++;
            break;
        }
        c->err = 1;
    }
    path->len = base;
    if (path->data)
        path->data[base] = 0;
}

static void read_value(canon *c, ca_buf *path, int depth, bool top)
{
    ws(c);
    if (c->p >= c->end || depth > 64) {
        c->err = 1;
        return;
    }
    char ch = *c->p;
    if (ch == '{' || ch == '[') {
        read_container(c, path, depth, top, ch == '{');
        return;
    }
    ca_buf v = CA_BUF_INIT;
    if (ch == '"') {
        read_string(c, &v);
    } else {
        const char *s = c->p;
        while (c->p < c->end && !strchr(",}] \t\r\n", *c->p))
            c->p++;
        if (c->p == s)
            c->err = 1;
        ca_buf_append(&v, s, (size_t)(c->p - s));
    }
    if (!c->err)
        add_pair(c, ca_buf_cstr(path), ca_buf_cstr(&v));
    ca_buf_free(&v);
}

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(((const pair *)a)->path, ((const pair *)b)->path);
}

int ca_delta__json_checksum(const char *json, size_t len, char out[33])
{
    canon c = {json, json + len, NULL, 0, 0, 0};
    ca_buf path = CA_BUF_INIT;
    ws(&c);
    if (c.p >= c.end || *c.p != '{')
        c.err = 1;
    else
        read_value(&c, &path, 0, true);
    ws(&c);
    if (c.p != c.end)
        c.err = 1;
    ca_buf_free(&path);
    int rc = CA_OK;
    if (c.err) {
        rc = CA_E_INVALID;
    } else {
        if (c.n) qsort(c.pairs, c.n, sizeof *c.pairs, cmp_pair);
        ca_buf s = CA_BUF_INIT;
        for (size_t i = 0; i < c.n; i++)
            ca_buf_printf(&s, "%s%s=%s", i ? "," : "", c.pairs[i].path, c.pairs[i].value);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (ca_buf_status(&s) ||
            !EVP_Digest(s.data ? s.data : "", s.len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16) {
            rc = CA_E_INTERNAL;
        } else {
            for (int i = 0; i < 16; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
        }
        ca_buf_free(&s);
    }
    for (size_t i = 0; i < c.n; i++) {
        ca__free(c.pairs[i].path);
        ca__free(c.pairs[i].value);
    }
    ca__free(c.pairs);
    return rc;
}
