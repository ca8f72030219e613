/* Releasing memory the library hands out (strings and buffers documented as "ca_free"). */
#ifndef CODEANATOMY_MEMORY_H
#define CODEANATOMY_MEMORY_H

#include "codeanatomy/export.h"

CA_BEGIN_DECLS

/* Frees memory returned by the library (never use free() on it: the library has its own
 * allocator seam). Accepts NULL. Thread-safe. */
CA_EXTERN void ca_free(void *p);

CA_END_DECLS

#endif
