/*
 * JSON: reading and writing through jansson, and the project's RFC 8785 canonical writer (JCS).
 *
 * Memory. ca_json_init() points jansson's allocator at ca__malloc/ca__free, once per process
 * (idempotent, thread-safe; every ca_json_* function calls it first). So every json_t and every
 * string jansson returns is ca__free-compatible, and the fault-injection seam covers jansson too.
 * Modules that call jansson directly before any ca_json_* call should call ca_json_init() first;
 * an object allocated before the switch is still freed correctly because ca__malloc is malloc.
 * The setting is process-wide: a host process that uses jansson itself gets our allocator, which
 * is malloc-compatible.
 *
 * Canonical form (spec.md §17, RFC 8785): members sorted by the UTF-16 code units of their keys,
 * no whitespace, strings escape only `"`, `\` and U+0000–U+001F (\b \t \n \f \r, else \u00xx in
 * lower-case hex), all else raw UTF-8, arrays in order, integers as exact decimal (also beyond
 * 2^53: a deliberate extension of RFC 8785, whose numbers are all doubles), reals as ECMAScript
 * Number.prototype.toString with -0 → 0. NaN/Infinity, invalid UTF-8 and nesting deeper than
 * CA_JSON_MAX_DEPTH are CA_E_INVALID. Real 2.0 and integer 2 both write `2`.
 *
 * Errors are raised through ca_err_set with module "util" and messages starting "json: ".
 * Thread-safety: all functions are thread-safe on distinct values; a json_t is not safe for
 * concurrent mutation (jansson's reference counts are atomic, reads are fine).
 */
#ifndef CA_UTIL_JSON_H
#define CA_UTIL_JSON_H

#include "util/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting limit of the canonical writer (jansson's own parser stops at 2048 as well). */
#define CA_JSON_MAX_DEPTH 2048
/* Buffer size for ca_json_format_double (longest output is 25 characters). */
#define CA_JSON_DOUBLE_MAX 32

/* Points jansson's allocator at ca__malloc/ca__free. Idempotent and thread-safe. */
void ca_json_init(void);

/* ---- reading ------------------------------------------------------------------------------ */

/* Where a syntax error is, as jansson reports it: line and column 1-based (column counts
 * characters; -1 when jansson gives none), offset in bytes from the start of the input. */
typedef struct ca_json_loc {
    int line;
    int column;
    size_t offset;
} ca_json_loc;

/* Parses data[0..len) as one JSON document. A leading UTF-8 BOM is skipped (spec.md §2).
 * flags are jansson decoding flags (e.g. JSON_ALLOW_NUL); JSON_REJECT_DUPLICATES and
 * JSON_DECODE_ANY (any value at the root, RFC 8259; callers check the root's type) are added. where names the input
 * in messages (NULL → "<string>"). On success *out is a new reference (json_decref it). Syntax
 * errors, invalid UTF-8, repeated keys, integers outside int64 → CA_E_INVALID with the message
 * "json: <where>:<line>:<col>: <jansson text>" and, if loc is not NULL, *loc filled in;
 * jansson out of memory → CA_E_NOMEM. *out is NULL on failure. */
int ca_json_load_buffer(const char *data, size_t len, size_t flags, const char *where,
                        json_t **out, ca_json_loc *loc);
/* Same over a NUL-terminated string. */
int ca_json_load_string(const char *text, size_t flags, const char *where, json_t **out,
                        ca_json_loc *loc);
/* Same over a whole file (where = path). Open/read errors map errno as ca_err_errno does. */
int ca_json_load_file(const char *path, size_t flags, json_t **out, ca_json_loc *loc);

/* ---- typed member getters ----------------------------------------------------------------- */

typedef enum ca_json_presence {
    CA_JSON_REQUIRED, /* absent or null → error */
    CA_JSON_OPTIONAL, /* absent → CA_OK with *out untouched; null → error */
    CA_JSON_NULLABLE  /* absent or null → CA_OK with *out untouched */
} ca_json_presence;

/* Each getter reads member key of object obj. Present with the right type → CA_OK and *out set.
 * Missing (when required) or of another type → CA_E_INVALID with a one-line message naming the
 * member: "json: member 'key' is missing", "json: member 'key' must be a string, not an
 * integer". obj not an object → CA_E_INVALID. Set a default in *out before an optional get. */

/* Borrowed string (valid while obj holds it). len may be NULL only if the caller wants a C string:
 * a value containing U+0000 is then an error rather than silently cut short. */
int ca_json_get_string(const json_t *obj, const char *key, ca_json_presence p, const char **out,
                       size_t *len);
/* JSON integers only: 1.0 is not an integer (spec.md §2). */
int ca_json_get_int(const json_t *obj, const char *key, ca_json_presence p, int64_t *out);
/* Any JSON number (integer or real) as a double. */
int ca_json_get_double(const json_t *obj, const char *key, ca_json_presence p, double *out);
int ca_json_get_bool(const json_t *obj, const char *key, ca_json_presence p, bool *out);
/* Borrowed object / array. */
int ca_json_get_object(const json_t *obj, const char *key, ca_json_presence p, json_t **out);
int ca_json_get_array(const json_t *obj, const char *key, ca_json_presence p, json_t **out);

/* Lower-case JSON type name of v ("object", "array", "string", "integer", "real", "boolean",
 * "null"). Static string. */
const char *ca_json_type_name(const json_t *v);

/* ---- writing through jansson (human-facing output; NOT canonical) ------------------------- */

/* jansson's json_dumps with JSON_ENCODE_ANY added: *out is NUL-terminated, free with ca__free. */
int ca_json_dump(const json_t *v, size_t flags, char **out);
/* Appends jansson's encoding of v to out. */
int ca_json_dump_buf(const json_t *v, size_t flags, ca_buf *out);

/* ---- canonical JSON (RFC 8785) ------------------------------------------------------------ */

/* Appends the canonical form of v to out. On failure out's length is restored (unless the
 * buffer itself failed, which it reports). */
int ca_json_canonical(const json_t *v, ca_buf *out);

/* Appends s[0..n) as a JSON string literal with the canonical escapes (only '"', '\\' and
 * U+0000–U+001F; \b \t \n \f \r short forms, else \u00xx); other bytes are copied as they are,
 * so s must be valid UTF-8 (not checked: the caller knows its source). Returns
 * ca_buf_status(out). The single JSON string writer of the project. */
int ca_json_write_string(ca_buf *out, const char *s, size_t n);
/* The canonical form as a new NUL-terminated string (free with ca__free); len may be NULL. */
int ca_json_canonical_string(const json_t *v, char **out, size_t *len);

/* ECMAScript Number.prototype.toString of a finite v into out (CA_JSON_DOUBLE_MAX bytes, NUL
 * terminated); *len (if not NULL) gets the length. NaN/±Infinity → CA_E_INVALID. */
int ca_json_format_double(double v, char out[CA_JSON_DOUBLE_MAX], size_t *len);

/* The shortest decimal digits that read back (strtod; strtof when as_float) as x, for finite
 * x > 0; among equally short candidates the nearest to x. digits gets d1…dn (no trailing zeros,
 * NUL terminated, n <= 17), *ndigits = n, *exp10 = e with x ≈ d1.d2…dn × 10^e. For as_float,
 * x must be a float's exact value and at most 9 digits are tried. Shared with the function
 * library's float text (functions.md §3) so the digit search has one implementation. */
void ca_json_shortest_digits(double x, bool as_float, char digits[18], int *ndigits, int *exp10);

#endif
