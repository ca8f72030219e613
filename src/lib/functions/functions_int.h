/* Private to src/lib/functions: helpers shared by the function bodies. */
#ifndef CA_FUNCTIONS_INT_H
#define CA_FUNCTIONS_INT_H

#include "codeanatomy/error.h"
#include "lib/duck/udf.h"
#include "lib/functions/functions.h"
#include "util/text.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CA_FN_TEXT_LIMIT ((size_t)16 * 1024 * 1024) /* E13 */
#define CA_FN_MSG_MAX 512

/* ---- per-call scratch (R4): grown geometrically, freed when the call returns ------------- */

typedef struct ca_fn_scratch {
    char *p;
    size_t cap;
    char stack[1024];
} ca_fn_scratch;

static inline void ca_fn_scratch_init(ca_fn_scratch *s)
{
    s->p = s->stack;
    s->cap = sizeof s->stack;
}
/* Ensures room for n bytes (contents kept). false on out-of-memory. */
bool ca_fn__scratch_reserve(ca_fn_scratch *s, size_t n);
void ca_fn__scratch_free(ca_fn_scratch *s);

/* ---- UTF-8 (util/text), White_Space and messages (utf8.c) --------------------------------------------------------------------- */

/* true if s[0..n) is valid UTF-8 (functions.md §1); else *bad = offset of the first byte of the
 * first ill-formed sequence. util/text's validator (8-byte ASCII fast path). */
static inline bool ca_fn__utf8_valid(const char *s, size_t n, size_t *bad)
{
    return ca_text_utf8_valid(s, n, bad);
}
/* Length of the White_Space character at p (functions.md §1), 0 if none. */
size_t ca_fn__ws_len(const unsigned char *p, size_t rem);
/* Appends '<value>' cut to 64 bytes at a character boundary ("..." appended when cut) to msg. */
void ca_fn__quote(char *msg, size_t cap, const char *s, size_t n);

/* Sets E1 on ex: "<fn>: argument <arg> is not valid UTF-8 (offset <k>)". */
void ca_fn__err_utf8(ca_udf_exec *ex, const char *fn, const char *arg, size_t bad);
void ca_fn__err_utf8_argno(ca_udf_exec *ex, const char *fn, size_t argno, size_t bad);
/* printf-style execution / bind errors. */
void ca_fn__exec_errorf(ca_udf_exec *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ca_fn__bind_errorf(ca_udf_bind *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- hashing (ids.c): the one ID authority (R6) ------------------------------------------ */

#define CA_FN_SEP '\x1f'
#define CA_FN_NULL_SENTINEL "__NULL__"

/* H64 of bytes; CA_OK or CA_E_FUNCTIONS (libb2 failure, message without the function name). */
int ca_fn__h64(const void *data, size_t len, int64_t *out);
/* HEX(H128) into out[32] (no NUL). */
int ca_fn__h128_hex(const void *data, size_t len, char out[32]);

/* Text of one part, functions.md §3 "Part -> text", for the scalar kinds (not TEXT/NULL).
 * out >= 400 bytes; returns the length. */
size_t ca_fn__int_text(int64_t v, char *out);
size_t ca_fn__uint_text(uint64_t v, char *out);
size_t ca_fn__i128_text(uint64_t lower, int64_t upper, char *out);
size_t ca_fn__u128_text(uint64_t lower, uint64_t upper, char *out);
size_t ca_fn__decimal_text(uint64_t lower, int64_t upper, unsigned scale, char *out);

/* An incremental multi-part H128 used by stable_id: parts are assembled in the scratch while
 * the message stays <= 64 KiB and streamed beyond. */
int ca_fn__multi_h128_hex(const char *const *ptrs, const size_t *lens, size_t n, ca_fn_scratch *scratch,
                          char out[32]);

/* ---- positions (positions.c) ------------------------------------------------------------ */

typedef enum { CA_UNIT_BYTE = 0, CA_UNIT_UTF8 = 1, CA_UNIT_UTF16 = 2, CA_UNIT_UTF32 = 3 } ca_fn_unit;
/* Parses unit/encoding text (functions.md §4.3); -1 if not a unit. BYTE only when allow_byte. */
int ca_fn__parse_unit(const char *s, size_t n, bool allow_byte);

/* ---- registration entry points (one per C entry; register.c calls them) ------------------ */

int ca_fn__register_stable_hash64(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_stable_hash128(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_prefixed_hash64(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_stable_id(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_interval_align_score(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_position_encoding_norm(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_col_to_byte(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_byte_to_col(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_canonicalize_byte_span(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_utf8_normalize(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_utf8_null_if_blank(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_qname_normalize(ca_duck_conn *c, const ca_fn_entry *e);
int ca_fn__register_function_docs(ca_duck_conn *c, const ca_fn_entry *e);
/* The internal __codeanatomy_registry() table function. */
int ca_fn__register_registry_table(ca_duck_conn *c, const char *name);

/* Simple scalar registration: one form with the given parameter type ids. */
int ca_fn__register_simple(ca_duck_conn *c, const char *name, const ca_duck_type *params, size_t n,
                           ca_duck_type ret, ca_udf_scalar_fn fn, ca_udf_bind_fn bind, bool special);

#endif
