// SPDX-License-Identifier: MIT
/*
 * b64.c: standard base64 encode and decode (see b64.h for what the decoder accepts). Decoding
 * walks the input once with a small state machine; the rules that make it canonical (padding,
 * trailing bits, nothing after '=') are checked where the quantum ends.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "../base/buf.h"
#include "b64.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool b64_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct b64_state {
	unsigned char *out;
	size_t cap, len;
	uint32_t acc;   /* symbols of the current quantum, 6 bits each */
	unsigned q;     /* symbols (padding included) in the current quantum */
	unsigned pad;
	size_t last;    /* offset of the last data symbol, blamed for stray low bits */
	bool done;      /* a padded quantum ended the data */
};

/* The quantum is complete: emit its 3 - pad bytes, which must use every bit the symbols carry. */
static int b64_flush(struct b64_state *st, size_t *bad)
{
	static const uint32_t low_mask[3] = { 0, 0x3, 0xf };
	unsigned k = 3 - st->pad, i;
	uint32_t v = st->acc;

	if (v & low_mask[st->pad]) {
		*bad = st->last;
		return -EINVAL;
	}
	v >>= 2 * st->pad;
	v <<= 8 * st->pad;
	if (st->len + k > st->cap)
		return -EMSGSIZE;
	for (i = 0; i < k; i++)
		st->out[st->len++] = (unsigned char)(v >> (16 - 8 * i));
	st->acc = 0;
	st->q = 0;
	st->done = st->pad != 0;
	return 0;
}

static int b64_step(struct b64_state *st, unsigned char c, size_t i, size_t *bad)
{
	int v;

	*bad = i;
	if (st->done)
		return -EINVAL;
	if (c == '=') {
		/* "x===" and "====" carry less than a byte; "xx=x" is caught below */
		if (st->q < 2)
			return -EINVAL;
		st->pad++;
		st->q++;
		return st->q == 4 ? b64_flush(st, bad) : 0;
	}
	v = b64_val(c);
	if (v < 0 || st->pad)
		return -EINVAL;
	st->acc = st->acc << 6 | (uint32_t)v;
	st->last = i;
	st->q++;
	return st->q == 4 ? b64_flush(st, bad) : 0;
}

int b64_decode(const char *in, size_t n, void *out, size_t cap, size_t *outlen, size_t *bad)
{
	struct b64_state st = { .out = out, .cap = cap };
	size_t i, where = 0;
	int r;

	for (i = 0; i < n; i++) {
		if (b64_space((unsigned char)in[i]))
			continue;
		r = b64_step(&st, (unsigned char)in[i], i, &where);
		if (r)
			goto fail;
	}
	if (st.q) {
		where = n;
		r = -EINVAL;
		goto fail;
	}
	*outlen = st.len;
	return 0;
fail:
	if (bad && r == -EINVAL)
		*bad = where;
	return r;
}

int b64_decode_buf(const char *in, size_t n, struct buf *b, size_t *bad)
{
	size_t max = B64_DECODED_MAX(n), got = 0;
	int r;

	r = buf_reserve(b, max);
	if (r)
		return r;
	r = b64_decode(in, n, b->p + b->len, max, &got, bad);
	if (r) {
		explicit_bzero(b->p + b->len, max);
		b->p[b->len] = '\0';
		return r;
	}
	b->len += got;
	b->p[b->len] = '\0';
	return 0;
}

static void b64_encode_raw(const unsigned char *in, size_t n, char *out)
{
	uint32_t v;
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

int b64_encode(const void *in, size_t n, char *out, size_t cap)
{
	if (n > B64_ENCODE_MAX || cap < B64_ENCODED_LEN(n) + 1)
		return -EMSGSIZE;
	b64_encode_raw(in, n, out);
	return 0;
}

int b64_encode_buf(const void *in, size_t n, struct buf *b)
{
	size_t k;
	int r;

	if (n > B64_ENCODE_MAX)
		return -EMSGSIZE;
	k = B64_ENCODED_LEN(n);
	r = buf_reserve(b, k);
	if (r)
		return r;
	b64_encode_raw(in, n, b->p + b->len);
	b->len += k;
	return 0;
}
