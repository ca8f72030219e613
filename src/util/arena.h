/*
 * Arena allocator for one unit of work (a compile, a file being extracted), with a cleanup list
 * for objects that need destructors. Everything is released at once by ca_arena_free (cleanups
 * run in reverse registration order). Not thread-safe: one arena per thread or per unit.
 */
#ifndef CA_UTIL_ARENA_H
#define CA_UTIL_ARENA_H

#include <stddef.h>

typedef struct ca_arena ca_arena;

/* chunk_size: bytes per block (0 = 64 KiB). Returns NULL (CA_E_NOMEM raised) on failure. */
ca_arena *ca_arena_new(size_t chunk_size);
/* Accepts NULL. Runs cleanups, releases every block. */
void ca_arena_free(ca_arena *a);
/* Releases all allocations and runs cleanups but keeps the first block for reuse. */
void ca_arena_reset(ca_arena *a);

/* Aligned to max_align_t; NULL (CA_E_NOMEM raised) on failure or overflow. */
void *ca_arena_alloc(ca_arena *a, size_t n);
void *ca_arena_calloc(ca_arena *a, size_t count, size_t size);
char *ca_arena_strdup(ca_arena *a, const char *s);
char *ca_arena_strndup(ca_arena *a, const char *s, size_t n);
char *ca_arena_printf(ca_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers fn(arg) to run when the arena is reset or freed. CA_OK or CA_E_NOMEM. */
int ca_arena_on_cleanup(ca_arena *a, void (*fn)(void *), void *arg);

/* Bytes handed out since the last reset (for tests and memory reports). */
size_t ca_arena_used(const ca_arena *a);

#endif
