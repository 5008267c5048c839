// SPDX-License-Identifier: MIT
/* deps: codec/http.c codec/http_body.c base/buf.c base/err.c base/mem.c */
/*
 * fuzz_http.c: libFuzzer target for the HTTP codec. The first byte picks how the rest is cut
 * into slices (byte by byte, small or large random slices, one split). The rest is a response:
 * its head is parsed in one shot and again as growing prefixes, with and without the prev_len
 * hint; the bytes after the head (all of them when there is no valid head) are chunk-decoded in
 * one shot and in slices, in place; the decoded bytes are line-framed in one shot and in slices
 * and compared with a naive split on '\n'. Tighter head limits may only turn an answer into -1.
 * The same bytes also go through the percent-encoder (decoded back) and the request writer as
 * a header value (no CR or LF may get through). Any disagreement aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "codec/http.h"
#include "fuzz_util.h"

#define NOW 1700000000LL
#define MAXH 32

struct slicer {
	uint32_t s;
	unsigned mode;
	size_t split;
};

static size_t next_end(struct slicer *sl, size_t at, size_t n)
{
	size_t step;

	sl->s ^= sl->s << 13;
	sl->s ^= sl->s >> 17;
	sl->s ^= sl->s << 5;
	switch (sl->mode) {
	case 0:
		step = 1;
		break;
	case 1:
		step = 1 + sl->s % 16;
		break;
	case 2:
		step = 1 + sl->s % 512;
		break;
	default:
		return at < sl->split ? sl->split : n;
	}
	return MIN(n, at + step);
}

static void slicer_init(struct slicer *sl, uint8_t b, size_t n)
{
	sl->s = 0x9e3779b9u ^ (uint32_t)b * 0x01000193u ^ (uint32_t)n;
	if (!sl->s)
		sl->s = 1;
	sl->mode = b & 3;
	sl->split = n ? 1 + (size_t)b * 7919 % n : 0;
}

static bool view_ok(struct str v, const char *base, size_t n)
{
	return v.n == 0 || (v.p >= base && v.p + v.n <= base + n);
}

static bool view_same(struct str a, const char *ab, struct str b, const char *bb)
{
	if (a.n != b.n)
		return false;
	return a.n == 0 || a.p - ab == b.p - bb;
}

static void check_views(const struct http_response *r, const char *p, int rc)
{
	size_t i;

	check(r->nheaders <= MAXH && r->status >= 100 && r->status <= 599);
	check(view_ok(r->reason, p, (size_t)rc) && view_ok(r->content_type, p, (size_t)rc));
	for (i = 0; i < r->nheaders; i++) {
		check(r->headers[i].name.n > 0);
		check(view_ok(r->headers[i].name, p, (size_t)rc));
		check(view_ok(r->headers[i].value, p, (size_t)rc));
	}
	check(!r->chunked || r->content_length < 0);
	check(r->retry_after >= -1 && r->retry_after <= HTTP_RETRY_AFTER_MAX);
	check(r->body != HTTP_BODY_CLOSE || !r->keep_alive);
}

static void check_same(const struct http_response *a, const char *ap,
		       const struct http_response *b, const char *bp)
{
	size_t i;

	check(a->status == b->status && a->minor == b->minor && a->nheaders == b->nheaders);
	check(a->body == b->body && a->content_length == b->content_length);
	check(a->chunked == b->chunked && a->keep_alive == b->keep_alive);
	check(a->retry_after == b->retry_after);
	check(view_same(a->reason, ap, b->reason, bp));
	check(view_same(a->content_type, ap, b->content_type, bp));
	for (i = 0; i < a->nheaders; i++) {
		check(view_same(a->headers[i].name, ap, b->headers[i].name, bp));
		check(view_same(a->headers[i].value, ap, b->headers[i].value, bp));
	}
}

/* Growing prefixes, each an exact-size copy; returns the final answer. */
static int head_sliced(const char *p, size_t n, uint8_t b, bool hint, int rc1,
		       const struct http_response *r1)
{
	struct http_header hs[MAXH];
	struct http_response r;
	struct slicer sl;
	size_t have = 0, prev = 0;
	int rc = -2;

	slicer_init(&sl, b, n);
	http_response_init(&r, hs, MAXH);
	while (rc == -2 && have < n) {
		char *d;

		have = next_end(&sl, have, n);
		d = fuzz_dup(p, have);
		rc = http_parse_response(d, have, hint ? prev : 0, NOW, &r, NULL);
		prev = have;
		if (rc1 >= 0 && !hint)
			check(have < (size_t)rc1 ? rc == -2 : rc == rc1);
		if (rc1 == -2)
			check(rc == -2);
		if (rc >= 0) {
			check(rc == rc1);
			check_views(&r, d, rc);
			check_same(r1, p, &r, d);
		}
		free(d);
	}
	return rc;
}

static void fuzz_head(const char *p, size_t n, uint8_t b, int *head)
{
	struct http_header hs[MAXH];
	struct http_response r, t;
	struct ebuf eb = { "" };
	int rc1, rc;

	http_response_init(&r, hs, MAXH);
	rc1 = http_parse_response(p, n, 0, NOW, &r, &eb);
	check(rc1 >= -2 && rc1 <= (int)n);
	check(rc1 != -1 || !strncmp(eb.msg, "offset ", 7));
	if (rc1 >= 0)
		check_views(&r, p, rc1);
	rc = head_sliced(p, n, b, false, rc1, &r);
	check(rc == rc1);
	rc = head_sliced(p, n, b, true, rc1, &r);
	/* with the hint, a refusal may wait for a blank line that never comes */
	check(rc == rc1 || (rc1 == -1 && rc == -2));

	{
		struct http_header th[4];

		http_response_init(&t, th, 4);
		t.max_head = 200;
		t.max_line = 40;
		rc = http_parse_response(p, n, 0, NOW, &t, NULL);
		check(rc == rc1 || rc == -1);
		if (rc >= 0)
			check_same(&r, p, &t, p);
	}
	*head = rc1;
}

/* Chunk-decode in one shot, then in slices in place: same status, data, bytes after. */
static void fuzz_chunked(const char *p, size_t n, uint8_t b, struct buf *dec, int *status)
{
	struct http_chunked c;
	struct buf got = BUF_INIT;
	struct slicer sl;
	size_t outn, have, from, after1 = 0, after = 0;
	ssize_t rc1, rc = -2;
	char *out = malloc(n ? n : 1), *d;

	check(out);
	http_chunked_init(&c);
	rc1 = http_chunked_feed(&c, out, p, n, &outn, NULL);
	check(rc1 >= -2 && rc1 <= (ssize_t)n && outn <= n);
	check((rc1 >= 0) == http_chunked_done(&c));
	if (rc1 >= 0)
		after1 = (size_t)rc1;
	check(buf_add(dec, out, outn) == 0);
	free(out);

	slicer_init(&sl, b, n);
	http_chunked_init(&c);
	for (from = 0; from < n && rc != -1; from = have) {
		have = next_end(&sl, from, n);
		d = fuzz_dup(p + from, have - from);
		rc = http_chunked_feed(&c, d, d, have - from, &outn, NULL);
		check(outn <= have - from);
		check(buf_add(&got, d, outn) == 0);
		if (rc >= 0) {
			check(!memcmp(d + (have - from) - rc, p + have - rc, (size_t)rc));
			after += (size_t)rc;
		}
		free(d);
	}
	check(rc1 >= 0 ? rc >= 0 && after == after1 : rc == rc1);
	check(got.len == dec->len && (!got.len || !memcmp(got.p, dec->p, got.len)));
	buf_free(&got);
	*status = (int)(rc1 >= 0 ? 0 : rc1);
}

static int collect(void *ctx, const char *line, size_t n)
{
	struct buf *b = ctx;

	check(!memchr(line, '\n', n));
	check(buf_add(b, line, n) == 0 && buf_addc(b, '\n') == 0);
	return 0;
}

/* The naive framer: lines up to the first one over max; its verdict and the held tail. */
static int naive_lines(const char *p, size_t n, size_t max, struct buf *out, size_t *tail)
{
	const char *s = p, *e = p + n, *lf;
	size_t k;

	while (s < e && (lf = memchr(s, '\n', (size_t)(e - s)))) {
		k = (size_t)(lf - s);
		if (k > max)
			return -E2BIG;
		check(collect(out, s, k && s[k - 1] == '\r' ? k - 1 : k) == 0);
		s = lf + 1;
	}
	*tail = (size_t)(e - s);
	return *tail > max ? -E2BIG : 0;
}

static void fuzz_lines(const char *p, size_t n, uint8_t b, size_t max)
{
	struct buf want = BUF_INIT, got = BUF_INIT;
	struct http_lines l;
	struct slicer sl;
	size_t from, have, tail = 0;
	int rw, rc = 0;

	rw = naive_lines(p, n, max, &want, &tail);
	slicer_init(&sl, (uint8_t)(b >> 2), n);
	http_lines_init(&l, max);
	for (from = 0; from < n && !rc; from = have) {
		char *d;

		have = next_end(&sl, from, n);
		d = fuzz_dup(p + from, have - from);
		rc = http_lines_feed(&l, d, have - from, collect, &got);
		free(d);
	}
	check(rc == rw);
	check(got.len == want.len && (!got.len || !memcmp(got.p, want.p, got.len)));
	check(rc || http_lines_pending(&l) == tail);
	check(http_lines_pending(&l) <= max);
	http_lines_free(&l);
	buf_free(&want);
	buf_free(&got);
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void fuzz_pct(const char *p, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i, k = 0;

	check(http_pct_encode(&b, p, n) == 0);
	for (i = 0; i < b.len; i++, k++) {
		unsigned char c = (unsigned char)b.p[i];

		check(k < n);
		if (c == '%') {
			check(i + 2 < b.len && unhex(b.p[i + 1]) >= 0 && unhex(b.p[i + 2]) >= 0);
			check((unhex(b.p[i + 1]) << 4 | unhex(b.p[i + 2])) == (unsigned char)p[k]);
			i += 2;
			continue;
		}
		check(c == (unsigned char)p[k] && c > ' ' && c < 0x7f && !strchr("?&=#%+/", c));
	}
	check(k == n);
	buf_free(&b);
}

/* The bytes as a header value: refused exactly when they hold a control byte. */
static void fuzz_request(const char *p, size_t n)
{
	struct http_header h = { STR_LIT("X-Fuzz"), { p, n } };
	struct http_request q = { .method = "GET", .target = "/", .host = "h", .version = "1",
				  .headers = &h, .nheaders = 1 };
	struct buf b = BUF_INIT;
	bool ctl = false;
	size_t i, crlf = 0;
	int rc;

	for (i = 0; i < n; i++)
		ctl |= p[i] != '\t' && ((unsigned char)p[i] < ' ' || (unsigned char)p[i] == 0x7f);
	rc = http_write_request(&b, &q);
	check(ctl ? rc == -EINVAL && b.len == 0 : rc == 0);
	for (i = 0; i + 1 < b.len; i++)
		crlf += b.p[i] == '\r' && b.p[i + 1] == '\n';
	check(ctl || crlf == 6);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf dec = BUF_INIT;
	const char *p = (const char *)data + 1;
	size_t n = size ? size - 1 : 0, body;
	int head, st;
	uint8_t b;

	if (!size)
		return 0;
	b = data[0];
	fuzz_head(p, n, b, &head);
	body = head >= 0 ? (size_t)head : 0;
	fuzz_chunked(p + body, n - body, b, &dec, &st);
	/* frame what decoded, or the raw bytes when nothing did */
	if (dec.len)
		fuzz_lines(dec.p, dec.len, b, b & 0x80 ? 1u << 20 : b & 0x3f);
	else
		fuzz_lines(p, n, b, b & 0x80 ? 1u << 20 : b & 0x3f);
	fuzz_pct(p, MIN(n, (size_t)256));
	fuzz_request(p, MIN(n, (size_t)256));
	buf_free(&dec);
	return 0;
}
