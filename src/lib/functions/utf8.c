/* White_Space, message quoting, per-call scratch and error helpers. */
#include "lib/functions/functions_int.h"

#include "util/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool ca_fn__scratch_reserve(ca_fn_scratch *s, size_t n)
{
    if (n <= s->cap)
        return true;
    size_t cap = s->cap;
    while (cap < n) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    char *p;
    if (s->p == s->stack) {
        p = ca__malloc(cap);
        if (p)
            memcpy(p, s->stack, sizeof s->stack);
    } else {
        p = ca__realloc(s->p, cap);
    }
    if (!p)
        return false;
    s->p = p;
    s->cap = cap;
    return true;
}

void ca_fn__scratch_free(ca_fn_scratch *s)
{
    if (s->p != s->stack)
        ca__free(s->p);
    ca_fn_scratch_init(s);
}

size_t ca_fn__ws_len(const unsigned char *p, size_t rem)
{
    unsigned c = p[0];
    if (c < 0x80)
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 ? 1 : 0;
    if (c == 0xC2 && rem >= 2)
        return p[1] == 0x85 || p[1] == 0xA0 ? 2 : 0;
    if (rem < 3)
        return 0;
    if (c == 0xE1)
        return p[1] == 0x9A && p[2] == 0x80 ? 3 : 0; /* U+1680 */
    if (c == 0xE2) {
        if (p[1] == 0x80)                           /* U+2000..200A, 2028, 2029, 202F */
            return (p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF ? 3 : 0;
        return p[1] == 0x81 && p[2] == 0x9F ? 3 : 0; /* U+205F */
    }
    if (c == 0xE3)
        return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0; /* U+3000 */
    return 0;
}

void ca_fn__quote(char *msg, size_t cap, const char *s, size_t n)
{
    size_t used = strlen(msg);
    size_t cut = n;
    bool cutted = false;
    if (n > 64) {
        cut = 64;
        /* back up to a character boundary (the input may be invalid: stop after 3 steps) */
        for (int k = 0; k < 3 && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80; k++)
            cut--;
        cutted = true;
    }
    snprintf(msg + used, cap > used ? cap - used : 0, "'%.*s%s'", (int)cut, s, cutted ? "..." : "");
}

void ca_fn__exec_errorf(ca_udf_exec *ex, const char *fmt, ...)
{
    char msg[CA_FN_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ca_udf_exec_set_error(ex, msg);
}

void ca_fn__bind_errorf(ca_udf_bind *b, const char *fmt, ...)
{
    char msg[CA_FN_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ca_udf_bind_set_error(b, msg);
}

void ca_fn__err_utf8(ca_udf_exec *ex, const char *fn, const char *arg, size_t bad)
{
    ca_fn__exec_errorf(ex, "%s: argument %s is not valid UTF-8 (offset %zu)", fn, arg, bad);
}

void ca_fn__err_utf8_argno(ca_udf_exec *ex, const char *fn, size_t argno, size_t bad)
{
    ca_fn__exec_errorf(ex, "%s: argument %zu is not valid UTF-8 (offset %zu)", fn, argno, bad);
}
