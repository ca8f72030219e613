/*
 * The SQL function library: its registry snapshot and the C entry points for stable IDs.
 *
 * The ID functions compute exactly the bytes the SQL functions stable_hash64, stable_hash128 and
 * stable_id compute (functions.md §3), without DuckDB, so C code (the extractor) and SQL agree on
 * every key. They are pure and thread-safe.
 *
 * Errors: CA_OK or a negative CA_E_* (detail in ca_error_last()):
 *   CA_E_INVALID   a text part or the prefix is not valid UTF-8, or 0 / more than 63 parts
 *   CA_E_NOMEM     out of memory
 *   CA_E_FUNCTIONS the hash library failed (functions.md E14)
 */
#ifndef CODEANATOMY_FUNCTIONS_H
#define CODEANATOMY_FUNCTIONS_H

#include "codeanatomy/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

CA_BEGIN_DECLS

typedef struct ca_session ca_session;
/* src/util/buf.h's bounded growable buffer (in-tree callers: extractor, CLI, Python module). */
typedef struct ca_buf ca_buf;

/* One part of a stable ID. TEXT is UTF-8 (not NUL-terminated; len bytes). */
typedef enum ca_id_part_kind {
    CA_ID_NULL = 0, /* hashed as the sentinel __NULL__ */
    CA_ID_TEXT,
    CA_ID_I64,
    CA_ID_U64,
    CA_ID_BOOL,
    CA_ID_F64,
    CA_ID_F32
} ca_id_part_kind;

typedef struct ca_id_part {
    ca_id_part_kind kind;
    union {
        struct {
            const char *ptr;
            size_t len;
        } text;
        int64_t i64;
        uint64_t u64;
        bool b;
        double f64;
        float f32;
    } v;
} ca_id_part;

#define CA_ID_MAX_PARTS 63
#define CA_HASH128_HEX_LEN 32

/* Appends prefix ':' HEX(BLAKE2b-16(text(p1) 0x1F ... 0x1F text(pn))) to out, 1 <= n <= 63,
 * exactly as SQL stable_id(prefix, p1, ..., pn). Text parts must be valid UTF-8
 * (CA_E_INVALID otherwise, before anything is appended); a buffer failure is ca_buf_status(out). */
CA_EXTERN int ca_functions_stable_id(const char *prefix, size_t prefix_len, const ca_id_part *parts,
                                     size_t n, ca_buf *out);

/* SQL stable_hash64(data): BLAKE2b-8, big-endian, top bit cleared (a non-negative int64). */
CA_EXTERN int ca_functions_hash64(const void *data, size_t len, int64_t *out);

/* SQL stable_hash128(data): 32 lowercase hex digits and a NUL into out. */
CA_EXTERN int ca_functions_hash128_hex(const void *data, size_t len, char out[CA_HASH128_HEX_LEN + 1]);

/* The registry snapshot (functions.md §8.4) of the session's default connection: RFC 8785 JSON,
 * a NUL-terminated string owned by the caller (ca_free). User macros of that connection are
 * included. Not concurrent with other calls on the session's default connection. */
CA_EXTERN int ca_functions_registry_json(ca_session *s, char **out);

/* The snapshot's registry_hash: 64 lowercase hex digits, owned by the caller (ca_free). */
CA_EXTERN int ca_functions_registry_hash(ca_session *s, char **out);

CA_END_DECLS

#endif
