// SPDX-License-Identifier: MIT
/*
 * http.c: the message-head half of the HTTP/1.1 codec (see http.h): the request writer, the
 * percent-encoder for query strings and the response-head parser, plus the character classes
 * shared with the body half (http_int.h; the chunked decoder and line framer are in
 * http_body.c). The head parser re-reads the head from its first byte on every call instead of
 * keeping positions between calls, because the caller's buffer may move when it grows and views
 * into the old one would dangle; the prev_len hint keeps small feeds cheap.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "http.h"
#include "http_int.h"

/* ---- Characters and lists ------------------------------------------------------------- */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9110 §5.6.2 tchar */
static bool is_tchar(unsigned char c)
{
	if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static bool is_token(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return n > 0;
}

bool http_is_fchar(unsigned char c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

bool http_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c;
}

/* ASCII case-insensitive comparison, for field names and tokens. */
static bool ieq(struct str a, const char *b)
{
	size_t i;

	if (a.n != strlen(b))
		return false;
	for (i = 0; i < a.n; i++)
		if (lower(a.p[i]) != lower(b[i]))
			return false;
	return true;
}

static struct str trim(struct str s)
{
	while (s.n && http_is_ows(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && http_is_ows(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Next element of a comma-separated list (RFC 9110 §5.6.1); empty elements are skipped. */
static bool list_next(struct str *rest, struct str *elem)
{
	while (rest->n) {
		const char *comma = memchr(rest->p, ',', rest->n);
		size_t k = comma ? (size_t)(comma - rest->p) : rest->n;

		*elem = trim((struct str){ rest->p, k });
		k += comma != NULL;
		rest->p += k;
		rest->n -= k;
		if (elem->n)
			return true;
	}
	return false;
}

/* ---- Request writer ------------------------------------------------------------------- */

/* Output that is first only measured (p NULL), then written into reserved space. */
struct out {
	char *p;
	size_t n;
	bool over;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (n > SIZE_MAX - o->n) {
		o->over = true;
		return;
	}
	if (o->p && n)
		memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void emit_request(struct out *o, const struct http_request *q)
{
	char cl[40];
	size_t i;

	puts_(o, q->method);
	puts_(o, " ");
	puts_(o, q->target);
	puts_(o, " HTTP/1.1\r\nHost: ");
	puts_(o, q->host);
	puts_(o, "\r\nUser-Agent: virgil/");
	puts_(o, q->version);
	puts_(o, "\r\nAccept: application/json\r\n");
	for (i = 0; i < q->nheaders; i++) {
		put(o, q->headers[i].name.p, q->headers[i].name.n);
		puts_(o, ": ");
		put(o, q->headers[i].value.p, q->headers[i].value.n);
		puts_(o, "\r\n");
	}
	if (q->body) {
		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", q->body_len);
		puts_(o, cl);
	}
	puts_(o, "\r\n");
	if (q->body)
		put(o, q->body, q->body_len);
}

/* Printable ASCII without space, minus the bytes listed. */
static bool is_graph(const char *s, const char *except)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || strchr(except, *s))
			return false;
	return true;
}

static bool header_ok(const struct http_header *h)
{
	static const char *const ours[] = { "host", "user-agent", "accept", "accept-encoding",
					    "content-length", "transfer-encoding" };
	size_t i;

	if (!h->name.p || !is_token(h->name.p, h->name.n) || (h->value.n && !h->value.p))
		return false;
	for (i = 0; i < ARRAY_SIZE(ours); i++)
		if (ieq(h->name, ours[i]))
			return false;
	for (i = 0; i < h->value.n; i++)
		if (!http_is_fchar((unsigned char)h->value.p[i]))
			return false;
	return true;
}

static bool request_ok(const struct http_request *q)
{
	size_t i;

	if (!q->method || !q->target || !q->host || !q->version)
		return false;
	if (!is_token(q->method, strlen(q->method)) || !is_token(q->version, strlen(q->version)))
		return false;
	/* origin-form; a fragment is never sent and userinfo never goes in Host */
	if (q->target[0] != '/' || !is_graph(q->target, "#") || !q->host[0] ||
	    !is_graph(q->host, "/?#@\\"))
		return false;
	if (q->nheaders && !q->headers)
		return false;
	for (i = 0; i < q->nheaders; i++)
		if (!header_ok(&q->headers[i]))
			return false;
	return true;
}

int http_write_request(struct buf *b, const struct http_request *req)
{
	struct out o = { 0 };
	int r;

	if (!request_ok(req))
		return -EINVAL;
	emit_request(&o, req);
	if (o.over)
		return -ENOMEM;
	r = buf_reserve(b, o.n);
	if (r)
		return r;
	o = (struct out){ .p = b->p + b->len };
	emit_request(&o, req);
	b->len += o.n;
	b->p[b->len] = '\0';
	return 0;
}

static bool unreserved(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int http_pct_encode(struct buf *b, const void *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = p;
	size_t need = 0, i;
	char *o;
	int r;

	if (n > SIZE_MAX / 3)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		need += unreserved(s[i]) ? 1 : 3;
	r = buf_reserve(b, need);
	if (r)
		return r;
	o = b->p + b->len;
	for (i = 0; i < n; i++) {
		if (unreserved(s[i])) {
			*o++ = (char)s[i];
			continue;
		}
		*o++ = '%';
		*o++ = hex[s[i] >> 4];
		*o++ = hex[s[i] & 15];
	}
	b->len += need;
	b->p[b->len] = '\0';
	return 0;
}

int http_query_add(struct buf *b, const char *name, const void *val, size_t n)
{
	size_t old = b->len;
	bool first = !b->len || !memchr(b->p, '?', b->len);
	int r;

	r = buf_addc(b, first ? '?' : '&');
	if (!r)
		r = http_pct_encode(b, name, strlen(name));
	if (!r)
		r = buf_addc(b, '=');
	if (!r)
		r = http_pct_encode(b, val, n);
	if (r) {
		b->len = old;
		if (b->p)
			b->p[old] = '\0';
	}
	return r;
}

/* ---- Response head -------------------------------------------------------------------- */

struct hp {
	const char *p;
	size_t n, pos;
	size_t max_head, max_line;
	struct ebuf *eb;
};

static int bad(struct hp *h, size_t off, const char *fmt, ...) __printf(3, 4);
static int bad(struct hp *h, size_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ebuf_vset(h->eb, fmt, ap);
	va_end(ap);
	ebuf_prefix(h->eb, "offset %zu", off);
	return -1;
}

/*
 * The line at h->pos: *len gets its length without CRLF. Only max_line + 2 bytes are searched,
 * and a line that can no longer end in time fails before the rest of it arrives.
 */
static int next_line(struct hp *h, size_t *len)
{
	size_t avail = h->n - h->pos, scan = MIN(avail, h->max_line + 2);
	const char *s = h->p + h->pos, *lf = memchr(s, '\n', scan);

	if (!lf) {
		if (avail > h->max_line && (avail > h->max_line + 1 || s[h->max_line] != '\r'))
			return bad(h, h->pos, "line longer than %zu bytes", h->max_line);
		if (h->n >= h->max_head)
			return bad(h, h->n, "head longer than %zu bytes", h->max_head);
		return -2;
	}
	if (lf == s || lf[-1] != '\r')
		return bad(h, (size_t)(lf - h->p), "line not ended by CRLF");
	*len = (size_t)(lf - s) - 1;
	if (h->pos + *len + 2 > h->max_head)
		return bad(h, h->pos, "head longer than %zu bytes", h->max_head);
	return 0;
}

static int check_fchars(struct hp *h, struct str v, const char *what)
{
	size_t i;

	for (i = 0; i < v.n; i++)
		if (!http_is_fchar((unsigned char)v.p[i]))
			return bad(h, (size_t)(v.p + i - h->p), "control byte 0x%02x in %s",
				   (unsigned char)v.p[i], what);
	return 0;
}

/* status-line = "HTTP/1." DIGIT SP 3DIGIT [ SP reason-phrase ] CRLF */
static int status_line(struct hp *h, struct http_response *r)
{
	const char *s = h->p;
	size_t len;
	int rc;

	/* fail fast on a peer that does not speak HTTP/1.x at all */
	if (memcmp(s, "HTTP/1.", MIN(h->n, 7)))
		return bad(h, 0, "not an HTTP/1.x response");
	rc = next_line(h, &len);
	if (rc)
		return rc;
	if (len < 12 || !is_digit(s[7]) || s[8] != ' ' || !is_digit(s[9]) || !is_digit(s[10]) ||
	    !is_digit(s[11]) || (len > 12 && s[12] != ' '))
		return bad(h, 0, "malformed status line");
	r->minor = s[7] - '0';
	r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (r->status < 100 || r->status > 599)
		return bad(h, 9, "status code %d out of range", r->status);
	r->reason = len > 12 ? (struct str){ s + 13, len - 13 } : (struct str){ s + len, 0 };
	h->pos = len + 2;
	return check_fchars(h, r->reason, "reason phrase");
}

/* field-line = field-name ":" OWS field-value OWS; no space before the colon, no folding */
static int header_line(struct hp *h, struct http_response *r, size_t len)
{
	const char *s = h->p + h->pos, *colon = s;
	struct str v;

	if (http_is_ows(*s))
		return bad(h, h->pos, r->nheaders ? "obsolete line folding" :
			   "whitespace before the first header");
	while (colon < s + len && is_tchar((unsigned char)*colon))
		colon++;
	if (colon == s || colon == s + len || *colon != ':')
		return bad(h, (size_t)(colon - h->p), "malformed header name");
	v = trim((struct str){ colon + 1, len - (size_t)(colon + 1 - s) });
	if (check_fchars(h, v, "header value"))
		return -1;
	if (r->nheaders == r->max_headers)
		return bad(h, h->pos, "more than %zu headers", r->max_headers);
	r->headers[r->nheaders++] = (struct http_header){ { s, (size_t)(colon - s) }, v };
	return 0;
}

/*
 * Could a head end at or after byte from? Besides CRLF CRLF this matches the blank lines of
 * a peer using bare LF, so such a head is parsed (and refused) instead of awaited forever.
 */
static bool has_blank_line(const char *p, size_t n, size_t from)
{
	const char *q = p + (from >= 2 ? from - 2 : 0), *lf;

	while ((lf = memchr(q, '\n', (size_t)(p + n - q)))) {
		if ((lf - p >= 1 && lf[-1] == '\n') ||
		    (lf - p >= 2 && lf[-1] == '\r' && lf[-2] == '\n'))
			return true;
		q = lf + 1;
	}
	return false;
}

#define CONTENT_LENGTH_MAX ((int64_t)1 << 62)

static int content_length(struct hp *h, struct http_response *r, struct str v)
{
	struct str e;
	int64_t x;
	size_t i;

	if (!v.n)
		return bad(h, (size_t)(v.p - h->p), "empty Content-Length");
	while (list_next(&v, &e)) {
		for (x = 0, i = 0; i < e.n; i++) {
			if (!is_digit((unsigned char)e.p[i]))
				return bad(h, (size_t)(e.p - h->p), "malformed Content-Length");
			if (x > (CONTENT_LENGTH_MAX - (e.p[i] - '0')) / 10)
				return bad(h, (size_t)(e.p - h->p), "Content-Length too large");
			x = x * 10 + (e.p[i] - '0');
		}
		if (r->content_length >= 0 && r->content_length != x)
			return bad(h, (size_t)(e.p - h->p), "conflicting Content-Length values");
		r->content_length = x;
	}
	return 0;
}

/* Only "chunked", once: we never offer a coding, so any other is an attack or a bug. */
static int transfer_encoding(struct hp *h, struct http_response *r, struct str v)
{
	struct str e;
	bool any = false;

	while (list_next(&v, &e)) {
		if (!ieq(e, "chunked"))
			return bad(h, (size_t)(e.p - h->p), "unsupported transfer coding %.*s",
				   (int)MIN(e.n, 32), e.p);
		if (r->chunked)
			return bad(h, (size_t)(e.p - h->p), "chunked applied twice");
		r->chunked = any = true;
	}
	if (!any)
		return bad(h, (size_t)(v.p - h->p), "empty Transfer-Encoding");
	return 0;
}

static int two_digits(const char *s)
{
	return is_digit(s[0]) && is_digit(s[1]) ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

/* Index of the three letters at s in a list of 3-letter names, or -1. */
static int name3(const char *list, int count, const char *s)
{
	int i;

	for (i = 0; i < count; i++)
		if (!memcmp(list + 3 * i, s, 3))
			return i;
	return -1;
}

static bool is_leap(int y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int64_t leaps_before(int64_t y)
{
	return (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
}

/* IMF-fixdate (RFC 9110 §5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT", to Unix seconds. */
static bool imf_fixdate(struct str v, int64_t *out)
{
	static const unsigned short before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273,
						 304, 334 };
	static const unsigned char mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *s = v.p;
	int mon, day, year, hh, mm, ss;
	int64_t days;

	if (v.n != 29 || memcmp(s + 3, ", ", 2) || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
	    s[19] != ':' || s[22] != ':' || memcmp(s + 25, " GMT", 4) ||
	    name3("SunMonTueWedThuFriSat", 7, s) < 0)
		return false;
	mon = name3("JanFebMarAprMayJunJulAugSepOctNovDec", 12, s + 8);
	day = two_digits(s + 5);
	hh = two_digits(s + 17);
	mm = two_digits(s + 20);
	ss = two_digits(s + 23);
	if (two_digits(s + 12) < 0 || two_digits(s + 14) < 0)
		return false;
	year = two_digits(s + 12) * 100 + two_digits(s + 14);
	if (mon < 0 || day < 1 || day > mdays[mon] + (mon == 1 && is_leap(year)) || hh < 0 ||
	    hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return false;
	days = 365 * (int64_t)(year - 1970) + leaps_before(year) - leaps_before(1970) +
	       before[mon] + (mon > 1 && is_leap(year)) + day - 1;
	*out = days * 86400 + hh * 3600 + mm * 60 + ss;
	return true;
}

static int64_t retry_after(struct str v, int64_t now)
{
	int64_t x = 0, t;
	size_t i;

	for (i = 0; i < v.n && is_digit((unsigned char)v.p[i]); i++)
		x = MIN(x * 10 + (v.p[i] - '0'), (int64_t)HTTP_RETRY_AFTER_MAX);
	if (v.n && i == v.n)
		return x;
	if (!imf_fixdate(v, &t))
		return -1;
	if (now >= t)
		return 0;
	if (now < t - HTTP_RETRY_AFTER_MAX)
		return HTTP_RETRY_AFTER_MAX;
	return t - now;
}

static void connection(struct str v, bool *conn_close, bool *conn_keep)
{
	struct str e;

	while (list_next(&v, &e)) {
		*conn_close |= ieq(e, "close");
		*conn_keep |= ieq(e, "keep-alive");
	}
}

static enum http_body body_kind(const struct http_response *r)
{
	if (r->status < 200 || r->status == 204 || r->status == 304)
		return HTTP_BODY_NONE;
	if (r->chunked)
		return HTTP_BODY_CHUNKED;
	return r->content_length >= 0 ? HTTP_BODY_LENGTH : HTTP_BODY_CLOSE;
}

/* The fields the caller acts on, and the framing checks of RFC 9112 §6. */
static int derive(struct hp *h, struct http_response *r, int64_t now)
{
	bool conn_close = false, conn_keep = false, te = false, ra = false;
	const struct http_header *x;
	int rc = 0;

	for (x = r->headers; !rc && x < r->headers + r->nheaders; x++) {
		if (ieq(x->name, "content-length")) {
			rc = content_length(h, r, x->value);
		} else if (ieq(x->name, "transfer-encoding")) {
			te = true;
			rc = transfer_encoding(h, r, x->value);
		} else if (ieq(x->name, "connection")) {
			connection(x->value, &conn_close, &conn_keep);
		} else if (ieq(x->name, "retry-after") && !ra) {
			ra = true;
			r->retry_after = retry_after(x->value, now);
		} else if (ieq(x->name, "content-type") && !r->content_type.p) {
			r->content_type = x->value;
		}
	}
	if (rc)
		return rc;
	if (te && r->content_length >= 0)
		return bad(h, 0, "both Transfer-Encoding and Content-Length");
	if (te && r->minor == 0)
		return bad(h, 0, "Transfer-Encoding in an HTTP/1.0 response");
	r->body = body_kind(r);
	r->keep_alive = (r->minor ? !conn_close : conn_keep && !conn_close) &&
			r->body != HTTP_BODY_CLOSE;
	return 0;
}

void http_response_init(struct http_response *r, struct http_header *headers, size_t max)
{
	*r = (struct http_response){ .headers = headers, .max_headers = max,
				     .max_head = HTTP_MAX_HEAD, .max_line = HTTP_MAX_LINE };
}

static void reset_out(struct http_response *r)
{
	r->nheaders = 0;
	r->minor = r->status = 0;
	r->reason = (struct str){ 0 };
	r->body = HTTP_BODY_NONE;
	r->content_length = -1;
	r->chunked = r->keep_alive = false;
	r->retry_after = -1;
	r->content_type = (struct str){ 0 };
}

int http_parse_response(const char *p, size_t n, size_t prev_len, int64_t now,
			struct http_response *r, struct ebuf *eb)
{
	struct hp h = { .p = p, .n = n, .eb = eb };
	size_t len;
	int rc;

	h.max_head = MIN(r->max_head, (size_t)INT_MAX);
	h.max_line = MIN(r->max_line, h.max_head);
	if (!n)
		return -2;
	if (prev_len && prev_len <= n && !has_blank_line(p, n, prev_len)) {
		if (n >= h.max_head)
			return bad(&h, n, "head longer than %zu bytes", h.max_head);
		return -2;
	}
	reset_out(r);
	rc = status_line(&h, r);
	while (!rc) {
		rc = next_line(&h, &len);
		if (rc)
			break;
		if (!len) {
			h.pos += 2;
			return derive(&h, r, now) ? -1 : (int)h.pos;
		}
		rc = header_line(&h, r, len);
		h.pos += len + 2;
	}
	return rc;
}

const struct http_header *http_find(const struct http_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (ieq(r->headers[i].name, name))
			return &r->headers[i];
	return NULL;
}
