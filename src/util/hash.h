/*
 * BLAKE2b over libb2, and the project's hash primitives (functions.md §3, spec.md §17).
 *
 * This is the only file pair that includes <blake2.h> (functions.md R5). Everything that hashes —
 * IDs, spec_hash, plan_digest, registry_hash — goes through the primitives below:
 *
 *   H64(b)   BLAKE2b with digest length 8, read big-endian as uint64, top bit cleared
 *   H128(b)  BLAKE2b with digest length 16, rendered HEX
 *   H256(b)  BLAKE2b with digest length 32, rendered HEX
 *   HEX      each digest byte in order as two lower-case hex digits
 *
 * All are unkeyed. The digest length is part of the parameter block, so BLAKE2b-8 is NOT a prefix
 * of BLAKE2b-16: never truncate a longer digest. How ID parts become bytes (separator, NULL
 * sentinel, number text) is not defined here but in the function library (functions.md R6).
 *
 * Thread-safety: every function is thread-safe; a ca_hash_state is used by one thread at a time.
 * Errors: a non-zero libb2 return raises CA_E_INTERNAL (module "util"); an out-of-range digest
 * length is a programming error (assert).
 */
#ifndef CA_UTIL_HASH_H
#define CA_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CA_HASH_MAX_DIGEST 64
#define CA_HASH_H128_HEX_LEN 32 /* characters, excluding the NUL */
#define CA_HASH_H256_HEX_LEN 64

/* Incremental BLAKE2b state. Opaque storage for libb2's blake2b_state, kept here so callers can
 * hold it on the stack without including <blake2.h> (hash.c checks size and alignment). */
typedef struct ca_hash_state {
    uint64_t opaque[48];
    size_t outlen;
} ca_hash_state;

/* BLAKE2b (unkeyed) of n bytes into out[0..outlen), 1 <= outlen <= 64. data may be NULL when
 * n == 0. Uses libb2's portable implementation when the library exports it (faster than the
 * SIMD dispatcher for the short messages IDs hash; same digest). */
int ca_hash_blake2b(const void *data, size_t n, uint8_t *out, size_t outlen);

/* Incremental BLAKE2b for a message given in several parts: init, any number of updates, final.
 * final writes the state's outlen bytes to out and leaves the state finished (init again to
 * reuse). The digest equals ca_hash_blake2b over the concatenated parts. */
int ca_hash_init(ca_hash_state *st, size_t outlen);
int ca_hash_update(ca_hash_state *st, const void *data, size_t n);
int ca_hash_final(ca_hash_state *st, uint8_t *out);

/* H64(b) as a non-negative int64 (the SQL BIGINT of stable_hash64). */
int ca_hash_h64(const void *data, size_t n, int64_t *out);
/* H64's value from an 8-byte BLAKE2b digest (e.g. the final of a streamed state): big-endian,
 * top bit cleared. */
int64_t ca_hash_h64_of_digest(const uint8_t digest[8]);
/* HEX(H128(b)) and HEX(H256(b)): writes 32 / 64 hex characters and a NUL. */
int ca_hash_h128_hex(const void *data, size_t n, char out[CA_HASH_H128_HEX_LEN + 1]);
int ca_hash_h256_hex(const void *data, size_t n, char out[CA_HASH_H256_HEX_LEN + 1]);

/* HEX: 2*n lower-case hex characters of bytes[0..n) and a NUL into out (2*n + 1 bytes). */
void ca_hash_hex(const uint8_t *bytes, size_t n, char *out);
/* Inverse of HEX: exactly 2*n hex characters (either case) into out[0..n); CA_E_INVALID (raised)
 * on a wrong length or a non-hex character. */
int ca_hash_from_hex(const char *hex, size_t hex_len, uint8_t *out, size_t n);

#endif
