/* SPDX-License-Identifier: MIT */
/*
 * b64.h: standard base64 (RFC 4648 §4: A-Z a-z 0-9 + /, '=' padding), for the *-data fields
 * of kubeconfig files. Pure functions over caller memory or a struct buf; nothing is logged.
 *
 * Decoding is strict except for whitespace. Space, tab, CR and LF may appear anywhere and are
 * skipped: kubeconfig data is sometimes wrapped by hand, and YAML folds a wrapped plain scalar's
 * line breaks into spaces. Everything else must be canonical: the alphabet only; padding
 * required, so the data without whitespace is a whole number of 4-symbol quanta (what Go's
 * base64.StdEncoding, and so kubectl, demands; an unpadded file would work here and fail
 * there); '=' only as the last one or two symbols, nothing but whitespace after it; and the
 * unused low bits of the last symbol zero (RFC 4648 §3.5). So each byte string has exactly one
 * accepted encoding, up to whitespace. Empty input (or only whitespace) decodes to 0 bytes.
 *
 * Errors are -EINVAL with *bad set to the byte offset in the input of the first offending
 * byte (the input length when the data stops inside a quantum); a caller may report the offset
 * but should not print the byte: the data may be a private key.
 */
#ifndef VIRGIL_B64_H
#define VIRGIL_B64_H

#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct buf;

/* Encoded length of n bytes, without a NUL; n must be below B64_ENCODE_MAX. */
#define B64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)
#define B64_ENCODE_MAX ((SIZE_MAX - 1) / 4 * 3 - 2)
/* The most bytes n input characters can decode to (exact for unwrapped input). */
#define B64_DECODED_MAX(n) ((n) / 4 * 3)

/*
 * Decode in[0..n) into out[0..cap). Returns 0 with *outlen set; -EINVAL (see above; bad may be
 * NULL); -EMSGSIZE when the result does not fit in cap (B64_DECODED_MAX(n) always fits).
 * On error out holds garbage that may include decoded bytes: wipe it if that matters.
 */
int b64_decode(const char *in, size_t n, void *out, size_t cap, size_t *outlen,
	       size_t *bad) __must_check;
/*
 * Append the decoding of in[0..n) to b (kept NUL-terminated). 0, -EINVAL (bad as above),
 * -ENOMEM, -EMSGSIZE (bounded buf). On failure b's length is unchanged and any bytes decoded
 * past it are wiped.
 */
int b64_decode_buf(const char *in, size_t n, struct buf *b, size_t *bad) __must_check;

/*
 * Encode in[0..n) into out, NUL-terminated: cap must be at least B64_ENCODED_LEN(n) + 1.
 * 0 or -EMSGSIZE (nothing written).
 */
int b64_encode(const void *in, size_t n, char *out, size_t cap) __must_check;
/* Append the encoding of in[0..n) to b. 0, -ENOMEM, -EMSGSIZE (bounded buf or n too big). */
int b64_encode_buf(const void *in, size_t n, struct buf *b) __must_check;

#endif
