#include "util/buf.h"

#include "util/alloc.h"
#include "util/err.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

void ca_buf_init(ca_buf *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
}

static size_t limit_of(const ca_buf *b) { return b->limit ? b->limit : CA_BUF_DEFAULT_LIMIT; }

static int fail(ca_buf *b, int code, size_t want)
{
    if (b->status == CA_OK) {
        b->status = code;
        if (code == CA_E_NOMEM)
            ca_err_nomem("util", "string buffer");
        else
            ca_err_set(code, "util", "string buffer: %zu bytes exceed the limit of %zu", want,
                       limit_of(b));
    }
    return b->status;
}

int ca_buf_reserve(ca_buf *b, size_t extra)
{
    size_t need;
    if (b->status != CA_OK)
        return b->status;
    if (!ca__size_add(b->len, extra, &need) || need > limit_of(b))
        return fail(b, CA_E_OVERFLOW, need);
    if (need + 1 <= b->cap)
        return CA_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
    char *p = ca__realloc(b->data, cap);
    if (!p)
        return fail(b, CA_E_NOMEM, need);
    b->data = p;
    b->cap = cap;
    b->data[b->len] = '\0'; /* the first allocation must already be a valid empty string */
    return CA_OK;
}

int ca_buf_append(ca_buf *b, const void *data, size_t n)
{
    int rc = ca_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CA_OK;
}

int ca_buf_puts(ca_buf *b, const char *s) { return ca_buf_append(b, s, strlen(s)); }

int ca_buf_putc(ca_buf *b, char c) { return ca_buf_append(b, &c, 1); }

int ca_buf_put_quoted(ca_buf *b, const char *s, char quote)
{
    ca_buf_putc(b, quote);
    for (const char *q; (q = strchr(s, quote)) != NULL; s = q + 1) {
        ca_buf_append(b, s, (size_t)(q - s) + 1); /* through the quote ... */
        ca_buf_putc(b, quote);                     /* ... which is doubled */
    }
    ca_buf_puts(b, s);
    return ca_buf_putc(b, quote);
}

int ca_buf_vprintf(ca_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return fail(b, CA_E_OVERFLOW, 0);
    int rc = ca_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return CA_OK;
}

int ca_buf_printf(ca_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ca_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int ca_buf_status(const ca_buf *b) { return b->status; }

const char *ca_buf_cstr(const ca_buf *b) { return b->data ? b->data : ""; }

void ca_buf_clear(ca_buf *b)
{
    b->len = 0;
    b->status = CA_OK;
    if (b->data)
        b->data[0] = '\0';
}

char *ca_buf_detach(ca_buf *b, size_t *len)
{
    if (b->status != CA_OK) {
        ca_buf_free(b);
        return NULL;
    }
    if (!b->data && ca_buf_reserve(b, 0) != CA_OK)
        return NULL;
    char *d = b->data;
    if (len)
        *len = b->len;
    size_t limit = b->limit;
    ca_buf_init(b, limit);
    return d;
}

void ca_buf_free(ca_buf *b)
{
    ca__free(b->data);
    size_t limit = b->limit;
    ca_buf_init(b, limit);
}
