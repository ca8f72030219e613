/*
 * Bounded growable byte/string buffer. Always NUL-terminated. An append that would exceed the
 * bound (or fails to allocate) marks the buffer failed: later appends are no-ops and
 * ca_buf_status() reports the first failure, so callers check once at the end.
 */
#ifndef CA_UTIL_BUF_H
#define CA_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ca_buf {
    char *data;   /* NUL-terminated; NULL until the first append */
    size_t len;   /* bytes used, excluding the NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* maximum len; 0 = CA_BUF_DEFAULT_LIMIT */
    int status;   /* CA_OK, or the first failure (CA_E_NOMEM / CA_E_OVERFLOW) */
} ca_buf;

#define CA_BUF_DEFAULT_LIMIT ((size_t)1 << 34) /* 16 GiB */
#define CA_BUF_INIT {NULL, 0, 0, 0, 0}

void ca_buf_init(ca_buf *b, size_t limit);
int ca_buf_reserve(ca_buf *b, size_t extra);
int ca_buf_append(ca_buf *b, const void *data, size_t n);
int ca_buf_puts(ca_buf *b, const char *s);
int ca_buf_putc(ca_buf *b, char c);
/* Appends s between two `quote` characters, doubling each quote inside: SQL identifiers ('"'),
 * SQL string literals ('\''), CSV fields ('"'). */
int ca_buf_put_quoted(ca_buf *b, const char *s, char quote);
int ca_buf_printf(ca_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ca_buf_vprintf(ca_buf *b, const char *fmt, va_list ap);
/* First failure (also raised as ca_error_last when it happened), CA_OK otherwise. */
int ca_buf_status(const ca_buf *b);
/* Returns a NUL-terminated string, never NULL ("" for an empty buffer). Borrowed. */
const char *ca_buf_cstr(const ca_buf *b);
void ca_buf_clear(ca_buf *b);
/* Hands the data to the caller (free with ca__free) and resets the buffer; NULL on failure. */
char *ca_buf_detach(ca_buf *b, size_t *len);
void ca_buf_free(ca_buf *b);

#endif
