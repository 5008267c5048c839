// SPDX-License-Identifier: MIT
/*
 * http_body.c: the body half of the HTTP/1.1 codec (see http.h): the chunked-body decoder and
 * the line framer for watch streams; the heads are in http.c. The chunked decoder is a
 * byte-level state machine, unlike the head parser, because a body is unbounded and arrives in
 * slices that may split anything, and nothing of it needs to stay addressable. The framer
 * holds only an unterminated tail between feeds and hands whole lines over without copying.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/util.h"
#include "http.h"
#include "http_int.h"

/* ---- Chunked bodies ------------------------------------------------------------------- */

enum {
	CH_SIZE,        /* chunk-size hex digits */
	CH_SIZE_WS,     /* whitespace after the size; only ';' or CR may follow */
	CH_EXT,         /* chunk extensions, ignored up to CR */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER,     /* start of a trailer line, or the final CRLF */
	CH_TRAILER_LINE,
	CH_TRAILER_LF,
	CH_END_LF,
	CH_DONE,
	CH_ERROR,
};

#define CHUNK_SIZE_MAX ((uint64_t)1 << 62)

static int chunk_bad(struct http_chunked *c, struct ebuf *eb, const char *why)
{
	ebuf_set(eb, "chunked body byte %llu: %s", (unsigned long long)c->off, why);
	c->state = CH_ERROR;
	return -1;
}

/*
 * chunk-size [ BWS ";" chunk-ext ] CRLF (RFC 9112 §7.1). Whitespace before the CR is also
 * taken, as Go's reader does; it cannot change where the chunk data starts.
 */
static int size_byte(struct http_chunked *c, unsigned char ch, struct ebuf *eb)
{
	int d = hexval((char)ch);

	if (++c->line > HTTP_CHUNK_LINE_MAX)
		return chunk_bad(c, eb, "chunk size line too long");
	if (c->state == CH_SIZE && d >= 0) {
		if (c->left > (CHUNK_SIZE_MAX - (uint64_t)d) / 16)
			return chunk_bad(c, eb, "chunk size too large");
		c->left = c->left * 16 + (uint64_t)d;
		c->digits = true;
	} else if (!c->digits) {
		return chunk_bad(c, eb, "chunk size expected");
	} else if (c->state != CH_EXT && http_is_ows((char)ch)) {
		c->state = CH_SIZE_WS;
	} else if (c->state != CH_EXT && ch == ';') {
		c->state = CH_EXT;
	} else if (ch == '\r') {
		c->state = CH_SIZE_LF;
	} else if (c->state != CH_EXT || !http_is_fchar(ch)) {
		return chunk_bad(c, eb, "malformed chunk size line");
	}
	return 0;
}

static int trailer_byte(struct http_chunked *c, unsigned char ch, struct ebuf *eb)
{
	if (++c->trailer > HTTP_TRAILER_MAX)
		return chunk_bad(c, eb, "trailer section too long");
	if (++c->line > HTTP_CHUNK_LINE_MAX)
		return chunk_bad(c, eb, "trailer line too long");
	if (c->state == CH_TRAILER && ch == '\r') {
		c->state = CH_END_LF;
	} else if (ch == '\r') {
		c->state = CH_TRAILER_LF;
	} else if (!http_is_fchar(ch)) {
		return chunk_bad(c, eb, "control byte in trailer");
	} else {
		c->state = CH_TRAILER_LINE;
	}
	return 0;
}

/* One byte outside chunk data. */
static int chunk_byte(struct http_chunked *c, unsigned char ch, struct ebuf *eb)
{
	switch (c->state) {
	case CH_SIZE:
	case CH_SIZE_WS:
	case CH_EXT:
		return size_byte(c, ch, eb);
	case CH_SIZE_LF:
		if (ch != '\n')
			return chunk_bad(c, eb, "chunk size line not ended by CRLF");
		c->state = c->left ? CH_DATA : CH_TRAILER;
		c->line = 0;
		return 0;
	case CH_DATA_CR:
	case CH_DATA_LF:
		if (ch != (c->state == CH_DATA_CR ? '\r' : '\n'))
			return chunk_bad(c, eb, "chunk data not followed by CRLF");
		c->state = c->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE;
		c->digits = false;
		return 0;
	case CH_TRAILER_LF:
	case CH_END_LF:
		if (ch != '\n')
			return chunk_bad(c, eb, "trailer line not ended by CRLF");
		c->state = c->state == CH_END_LF ? CH_DONE : CH_TRAILER;
		c->line = 0;
		return 0;
	default:
		return trailer_byte(c, ch, eb);
	}
}

void http_chunked_init(struct http_chunked *c)
{
	*c = (struct http_chunked){ .state = CH_SIZE };
}

ssize_t http_chunked_feed(struct http_chunked *c, char *out, const char *in, size_t n,
			  size_t *outn, struct ebuf *eb)
{
	size_t i = 0, o = 0, k;

	*outn = 0;
	if (c->state == CH_DONE)
		return (ssize_t)n;
	if (c->state == CH_ERROR)
		return chunk_bad(c, eb, "body already failed");
	while (i < n && c->state != CH_DONE) {
		if (c->state == CH_DATA) {
			k = (size_t)MIN((uint64_t)(n - i), c->left);
			memmove(out + o, in + i, k);
			o += k;
			i += k;
			c->off += k;
			c->left -= k;
			if (!c->left)
				c->state = CH_DATA_CR;
			continue;
		}
		if (chunk_byte(c, (unsigned char)in[i], eb)) {
			*outn = o;
			return -1;
		}
		i++;
		c->off++;
	}
	*outn = o;
	return c->state == CH_DONE ? (ssize_t)(n - i) : -2;
}

bool http_chunked_done(const struct http_chunked *c)
{
	return c->state == CH_DONE;
}

/* ---- Lines ---------------------------------------------------------------------------- */

/* A buffer that once held a huge event is not kept for the quiet hours after it. */
#define LINES_KEEP (64u << 10)

void http_lines_init(struct http_lines *l, size_t max)
{
	*l = (struct http_lines){ .held = BUF_INIT, .max = max };
}

static int deliver(const char *s, size_t n, http_line_fn fn, void *ctx)
{
	if (n && s[n - 1] == '\r')
		n--;
	return fn(ctx, s, n);
}

/* The line completed by p[0..k): whole in p, or the held tail plus p[0..k). */
static int complete(struct http_lines *l, const char *p, size_t k, http_line_fn fn, void *ctx)
{
	int rc;

	if (k > l->max - l->held.len)
		return -E2BIG;
	if (!l->held.len)
		return deliver(p, k, fn, ctx);
	rc = buf_add(&l->held, p, k);
	if (rc)
		return rc;
	rc = deliver(l->held.p, l->held.len, fn, ctx);
	if (l->held.cap > LINES_KEEP)
		buf_free(&l->held);
	else
		buf_reset(&l->held);
	return rc;
}

int http_lines_feed(struct http_lines *l, const char *p, size_t n, http_line_fn fn, void *ctx)
{
	const char *end, *lf;
	int rc;

	if (l->err || !n)
		return l->err;
	end = p + n;
	while ((lf = memchr(p, '\n', (size_t)(end - p)))) {
		rc = complete(l, p, (size_t)(lf - p), fn, ctx);
		if (rc)
			return l->err = rc;
		p = lf + 1;
	}
	if (p == end)
		return 0;
	if ((size_t)(end - p) > l->max - l->held.len)
		return l->err = -E2BIG;
	rc = buf_add(&l->held, p, (size_t)(end - p));
	return rc ? (l->err = rc) : 0;
}

size_t http_lines_pending(const struct http_lines *l)
{
	return l->held.len;
}

void http_lines_free(struct http_lines *l)
{
	if (l)
		buf_free(&l->held);
}
