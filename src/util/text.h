/*
 * UTF-8 text: strict validation, decoding, UTF-16 measures and order, Unicode normalization.
 *
 * "Valid UTF-8" is RFC 3629 (functions.md §1): no overlong forms, no encoded surrogates
 * (U+D800–U+DFFF), nothing above U+10FFFF, no truncated sequence and no stray continuation byte.
 * U+0000 is valid. Strings are (pointer, length) pairs and may contain NUL bytes.
 *
 * text.c is the only file that includes <utf8proc.h> (functions.md R5): every normalization of the
 * project goes through ca_text_normalize.
 *
 * Thread-safety: every function is thread-safe (no shared state). The predicates and the decode
 * step never raise an error (they sit on per-row hot paths where the caller words the message);
 * functions returning a status raise one through ca_err_set (module "util").
 */
#ifndef CA_UTIL_TEXT_H
#define CA_UTIL_TEXT_H

#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True iff s[0..n) is valid UTF-8. Otherwise false and, when bad_offset is not NULL, the byte
 * offset at which the first invalid sequence starts (e.g. 2 for "ab\xFF", 0 for "\xC3",
 * "\xC0\xAF" and "\xED\xA0\x80"). Has an 8-byte ASCII fast path. */
bool ca_text_utf8_valid(const char *s, size_t n, size_t *bad_offset);

/* True iff every byte of s[0..n) is below 0x80. */
bool ca_text_is_ascii(const char *s, size_t n);

/* Decodes one code point from s[0..n), n >= 1: returns its length in bytes (1–4) and stores the
 * code point in *cp, or returns CA_E_INVALID (not raised) when the sequence at s is invalid or
 * truncated by n. */
int ca_text_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Encodes a Unicode scalar value (not a surrogate, <= U+10FFFF) into out: returns 1–4, or
 * CA_E_INVALID (not raised) for anything else. */
int ca_text_utf8_encode(uint32_t cp, char out[4]);

/* Number of UTF-16 code units of s[0..n) (2 per code point above U+FFFF). CA_E_INVALID (raised,
 * "text: invalid UTF-8 at byte offset N") when s is not valid UTF-8. */
int ca_text_utf16_length(const char *s, size_t n, size_t *out);

/* Compares two VALID UTF-8 strings by their UTF-16 code units (RFC 8785 member order); returns
 * <0, 0, >0. Differs from byte order only between code points above U+FFFF (surrogates
 * D800–DFFF) and U+E000–U+FFFF. Invalid input is a programming error. */
int ca_text_utf16_cmp(const char *a, size_t an, const char *b, size_t bn);

typedef enum ca_text_form { CA_TEXT_NFC, CA_TEXT_NFD, CA_TEXT_NFKC, CA_TEXT_NFKD } ca_text_form;

/* Flags of ca_text_normalize. */
#define CA_TEXT_CASEFOLD 1u /* full Unicode case folding (ß → ss, ς → σ, İ → i + U+0307) */

/* Normalizes s[0..n) to form (optionally case-folded) and REPLACES the content of out with the
 * result (NUL-terminated; out->len is its length). out doubles as scratch space: reuse one buffer
 * across calls to avoid an allocation per value. Pure-ASCII input skips utf8proc (every form is the
 * identity on ASCII; case folding is then A–Z → a–z). Invalid UTF-8 → CA_E_INVALID
 * ("text: invalid UTF-8 at byte offset N"); CA_E_NOMEM / CA_E_OVERFLOW from the buffer. */
int ca_text_normalize(const char *s, size_t n, ca_text_form form, unsigned flags, ca_buf *out);

/* NFKC of s[0..n) as a new NUL-terminated string (free with ca__free); *out_len (if not NULL)
 * gets its length. Errors as ca_text_normalize; *out is NULL on failure. */
int ca_text_nfkc(const char *s, size_t n, char **out, size_t *out_len);

#endif
