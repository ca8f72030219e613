/* The allocator seam: every heap allocation of the library goes through these. */
#ifndef CA_UTIL_ALLOC_H
#define CA_UTIL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *ca__malloc(size_t n);
void *ca__calloc(size_t count, size_t size);
void *ca__realloc(void *p, size_t n);
void ca__free(void *p);
char *ca__strdup(const char *s);
char *ca__strndup(const char *s, size_t n);

/* Overflow-checked size arithmetic: false on overflow (and *out untouched). */
bool ca__size_add(size_t a, size_t b, size_t *out);
bool ca__size_mul(size_t a, size_t b, size_t *out);

/* Test hook: the n-th allocation from now (1-based) fails; 0 disables. Not thread-safe. */
void ca__alloc_fail_after(long n);

#endif
