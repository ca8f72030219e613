#include "util/arena.h"

#include "util/alloc.h"
#include "util/err.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct block {
    struct block *next;
    size_t cap;
    size_t used;
    alignas(max_align_t) unsigned char data[];
} block;

typedef struct cleanup {
    struct cleanup *next;
    void (*fn)(void *);
    void *arg;
} cleanup;

struct ca_arena {
    block *head;
    cleanup *cleanups;
    size_t chunk;
    size_t used_total;
};

#define ALIGN alignof(max_align_t)

static block *block_new(size_t cap)
{
    size_t total;
    if (!ca__size_add(sizeof(block), cap, &total))
        return NULL;
    block *b = ca__malloc(total);
    if (!b)
        return NULL;
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    return b;
}

ca_arena *ca_arena_new(size_t chunk_size)
{
    ca_arena *a = ca__calloc(1, sizeof *a);
    if (!a) {
        ca_err_nomem("util", "arena");
        return NULL;
    }
    a->chunk = chunk_size ? chunk_size : 64 * 1024;
    return a;
}

static void run_cleanups(ca_arena *a)
{
    while (a->cleanups) {
        cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->arg);
    }
}

void ca_arena_reset(ca_arena *a)
{
    if (!a)
        return;
    run_cleanups(a);
    block *keep = NULL;
    for (block *b = a->head, *next; b; b = next) {
        next = b->next;
        if (!next) {
            keep = b;
            break;
        }
        ca__free(b);
    }
    if (keep)
        keep->used = 0;
    a->head = keep;
    a->used_total = 0;
}

void ca_arena_free(ca_arena *a)
{
    if (!a)
        return;
    run_cleanups(a);
    for (block *b = a->head, *next; b; b = next) {
        next = b->next;
        ca__free(b);
    }
    ca__free(a);
}

void *ca_arena_alloc(ca_arena *a, size_t n)
{
    size_t rounded;
    if (!ca__size_add(n ? n : 1, ALIGN - 1, &rounded)) {
        ca_err_set(CA_E_OVERFLOW, "util", "arena: allocation of %zu bytes overflows", n);
        return NULL;
    }
    rounded &= ~(ALIGN - 1);
    block *b = a->head;
    if (!b || b->cap - b->used < rounded) {
        size_t cap = rounded > a->chunk ? rounded : a->chunk;
        block *nb = block_new(cap);
        if (!nb) {
            ca_err_nomem("util", "arena block");
            return NULL;
        }
        /* A big one-off block goes behind the head so the head keeps serving small requests. */
        if (b && rounded > a->chunk) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += rounded;
    a->used_total += rounded;
    return p;
}

void *ca_arena_calloc(ca_arena *a, size_t count, size_t size)
{
    size_t n;
    if (!ca__size_mul(count, size, &n)) {
        ca_err_set(CA_E_OVERFLOW, "util", "arena: %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = ca_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *ca_arena_strndup(ca_arena *a, const char *s, size_t n)
{
    size_t total;
    if (!ca__size_add(n, 1, &total))
        return NULL;
    char *d = ca_arena_alloc(a, total);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ca_arena_strdup(ca_arena *a, const char *s) { return ca_arena_strndup(a, s, strlen(s)); }

char *ca_arena_printf(ca_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *d = n < 0 ? NULL : ca_arena_alloc(a, (size_t)n + 1);
    if (d)
        vsnprintf(d, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return d;
}

int ca_arena_on_cleanup(ca_arena *a, void (*fn)(void *), void *arg)
{
    cleanup *c = ca_arena_alloc(a, sizeof *c);
    if (!c)
        return CA_E_NOMEM;
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
    return CA_OK;
}

size_t ca_arena_used(const ca_arena *a) { return a->used_total; }
