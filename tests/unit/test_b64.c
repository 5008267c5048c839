// SPDX-License-Identifier: MIT
/* deps: codec/b64.c base/buf.c base/mem.c */
/*
 * test_b64.c: base64 for kubeconfig data. RFC 4648 §10 vectors both ways, every byte value and
 * every length round-tripping through both APIs, whitespace anywhere, malformed input with the
 * exact offset blamed (alphabet, padding, trailing bits, data after '='), buffer limits,
 * bounded bufs, wiping on failure, and allocation failure at every point. Decoder inputs sit
 * against a guard page.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "base/buf.h"
#include "base/mem.h"
#include "codec/b64.h"

static int decode_g(const char *in, size_t n, void *out, size_t cap, size_t *len, size_t *bad)
{
	void *g = guard_copy(in, n);
	int r = b64_decode(g, n, out, cap, len, bad);

	guard_free(g, n);
	return r;
}

static void test_rfc_vectors(void)
{
	static const struct {
		const char *plain, *enc;
	} v[] = {
		{ "", "" },           { "f", "Zg==" },         { "fo", "Zm8=" },
		{ "foo", "Zm9v" },    { "foob", "Zm9vYg==" },  { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char enc[32], dec[32];
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		is_int(b64_encode(v[i].plain, strlen(v[i].plain), enc, sizeof(enc)), 0, "encode");
		is_str(enc, v[i].enc, "RFC 4648 §10 encoding");
		is_int(B64_ENCODED_LEN(strlen(v[i].plain)), strlen(v[i].enc), "B64_ENCODED_LEN");
		len = 99;
		is_int(decode_g(v[i].enc, strlen(v[i].enc), dec, sizeof(dec), &len, NULL), 0,
		       "decode");
		ok(len == strlen(v[i].plain) && !memcmp(dec, v[i].plain, len),
		   "RFC 4648 §10 decoding");
	}
}

/* Every length 0..300 of every byte pattern: encode, decode, compare; also through bufs. */
static void test_roundtrip(void)
{
	unsigned char in[300], out[300];
	char enc[B64_ENCODED_LEN(300) + 1];
	struct buf e = BUF_INIT, d = BUF_INIT;
	size_t n, i, len, bad;
	int fails = 0;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 167 + 13);
	for (n = 0; n <= sizeof(in); n++) {
		buf_reset(&e);
		buf_reset(&d);
		fails += b64_encode(in, n, enc, B64_ENCODED_LEN(n) + 1) != 0;
		fails += strlen(enc) != B64_ENCODED_LEN(n);
		fails += decode_g(enc, strlen(enc), out, B64_DECODED_MAX(strlen(enc)), &len, &bad);
		fails += len != n || memcmp(in, out, n) != 0;
		fails += b64_encode_buf(in, n, &e) != 0 || strcmp(e.p, enc) != 0;
		fails += b64_decode_buf(e.p, e.len, &d, &bad) != 0;
		fails += d.len != n || memcmp(d.p, in, n) != 0 || d.p[n] != '\0';
	}
	is_int(fails, 0, "301 lengths round-trip through both APIs");
	for (i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	buf_reset(&e);
	buf_reset(&d);
	ok(b64_encode_buf(in, 256, &e) == 0 && b64_decode_buf(e.p, e.len, &d, &bad) == 0 &&
		   d.len == 256 && !memcmp(d.p, in, 256),
	   "all 256 byte values");
	buf_free(&e);
	buf_free(&d);
}

static void test_whitespace(void)
{
	static const char *const ok_in[] = {
		"Zm9vYmFy", "Zm9v\nYmFy", " Zm9vYmFy ", "Zm9\r\nvYm\tFy", "\n\nZm9vYmFy\n\n",
		"Z m 9 v Y m F y",
	};
	char out[16];
	size_t i, len;
	int r;

	for (i = 0; i < ARRAY_SIZE(ok_in); i++) {
		r = decode_g(ok_in[i], strlen(ok_in[i]), out, sizeof(out), &len, NULL);
		ok(r == 0 && len == 6 && !memcmp(out, "foobar", 6), "whitespace is skipped");
	}
	r = decode_g("", 0, out, 0, &len, NULL);
	ok(r == 0 && len == 0, "empty input decodes to nothing");
	r = decode_g(" \r\n\t ", 5, out, 0, &len, NULL);
	ok(r == 0 && len == 0, "only whitespace decodes to nothing");
	r = decode_g("Zm8 =\n", 6, out, sizeof(out), &len, NULL);
	ok(r == 0 && len == 2 && !memcmp(out, "fo", 2), "whitespace before the padding");
	r = decode_g("Zg=\n=", 5, out, sizeof(out), &len, NULL);
	ok(r == 0 && len == 1 && out[0] == 'f', "whitespace between the padding");
}

static void test_malformed(void)
{
	static const struct {
		const char *in;
		size_t n, bad;
		const char *why;
	} v[] = {
		{ "Zm9", 3, 3, "missing padding" },
		{ "Zg", 2, 2, "missing padding (two symbols)" },
		{ "Z", 1, 1, "one symbol carries no byte" },
		{ "Zg=", 3, 3, "half the padding" },
		{ "Zm9v!", 5, 4, "'!' is not in the alphabet" },
		{ "Zm9v-_==", 8, 4, "the URL-safe alphabet is refused" },
		{ "Zg===", 5, 4, "three pad characters" },
		{ "=Zg=", 4, 0, "padding first" },
		{ "Z===", 4, 1, "padding after one symbol" },
		{ "Zh==", 4, 1, "non-zero trailing bits (1 byte)" },
		{ "Zm9=", 4, 2, "non-zero trailing bits (2 bytes)" },
		{ "Zg==Zg==", 8, 4, "data after the padding" },
		{ "Zg== x", 6, 5, "data after padding and whitespace" },
		{ "Zm=v", 4, 3, "a symbol after '='" },
		{ "Zm9v\0", 5, 4, "NUL" },
		{ "Zm9v\xc3\xa9", 6, 4, "non-ASCII" },
		{ "Zm9v\f", 5, 4, "form feed is not whitespace here" },
	};
	char out[16];
	size_t i, len, bad;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		bad = 1234;
		is_int(decode_g(v[i].in, v[i].n, out, sizeof(out), &len, &bad), -EINVAL, v[i].why);
		is_int(bad, v[i].bad, "offset of the offending byte");
	}
}

static void test_limits(void)
{
	struct buf b = BUF_INIT;
	char out[8], enc[9];
	size_t len, bad;

	is_int(decode_g("Zm9vYmFy", 8, out, 5, &len, NULL), -EMSGSIZE, "decode: cap too small");
	is_int(decode_g("Zm9vYmFy", 8, out, 6, &len, NULL), 0, "decode: exact cap");
	is_int(B64_DECODED_MAX(8), 6, "B64_DECODED_MAX is exact without whitespace");
	is_int(b64_encode("foobar", 6, enc, 8), -EMSGSIZE, "encode: no room for the NUL");
	is_int(b64_encode("foobar", 6, enc, 9), 0, "encode: exact cap");
	is_int(b64_encode("x", B64_ENCODE_MAX + 1, enc, sizeof(enc)), -EMSGSIZE,
	       "encode: length whose encoding overflows");
	is_int(b64_encode_buf("x", B64_ENCODE_MAX + 1, &b), -EMSGSIZE,
	       "encode_buf: length whose encoding overflows");

	/* appending, and a failed decode leaves the buf as it was with the tail wiped */
	ok(buf_adds(&b, "ab") == 0 && b64_decode_buf("Zm9v", 4, &b, &bad) == 0 &&
		   !strcmp(b.p, "abfoo"),
	   "decode_buf appends");
	is_int(b64_decode_buf("Zm9vYmFyZm9v!", 13, &b, &bad), -EINVAL, "decode_buf: bad input");
	ok(b.len == 5 && !strcmp(b.p, "abfoo") && b.p[6] == 0 && b.p[7] == 0 && b.p[8] == 0,
	   "decode_buf: length unchanged and the decoded tail wiped");
	is_int(bad, 12, "decode_buf: offset");
	ok(b64_encode_buf("fo", 2, &b) == 0 && !strcmp(b.p, "abfooZm8="), "encode_buf appends");
	buf_free(&b);

	b.max = 4;
	is_int(b64_decode_buf("Zm9vYmFy", 8, &b, &bad), -EMSGSIZE, "decode_buf: bounded buf");
	is_int(b64_encode_buf("foo", 3, &b), 0, "encode_buf: fits the bound");
	is_int(b64_encode_buf("f", 1, &b), -EMSGSIZE, "encode_buf: over the bound");
	buf_free(&b);
}

static void test_faults(void)
{
	struct buf b = BUF_INIT;
	unsigned long nth, calls;
	int bad = 0, r;

	for (nth = 1;; nth++) {
		fault_reset(nth);
		r = b64_decode_buf("Zm9vYmFy", 8, &b, NULL);
		if (!r)
			r = b64_encode_buf("foobar", 6, &b);
		calls = fault_reset(0);
		buf_free(&b);
		if (calls < nth) {
			bad += r != 0;
			break;
		}
		bad += r != -ENOMEM;
	}
	ok(bad == 0 && nth > 1, "allocation failure at every point: -ENOMEM, no leak");
	if (bad)
		diag("%d bad results over %lu runs", bad, nth);
}

int main(void)
{
	test_rfc_vectors();
	test_roundtrip();
	test_whitespace();
	test_malformed();
	test_limits();
	test_faults();
	return tap_done();
}
