// SPDX-License-Identifier: MIT
/* deps: codec/http.c codec/http_body.c base/buf.c base/err.c base/mem.c */
/*
 * test_http.c: the HTTP/1.1 codec. Request writer goldens and refusals; tables of valid and
 * malformed response heads, each parsed whole, at every prefix, at every split point and byte
 * by byte (with and without the prev_len hint); limits; Retry-After in both forms; chunked
 * bodies decoded at every split (two and three slices, byte by byte, in place and copied) and
 * compared with the one-shot decode; the line framer at every split, its limit and its cost
 * on a huge line; a recorded-shape kube-apiserver watch response run through head parser,
 * decoder and framer under many slicings; allocation failure at every point. Every parser
 * input ends against a guard page.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "codec/http.h"

#define NOW 1700000000LL /* Tue, 14 Nov 2023 22:13:20 GMT */
#define MAXH 16

static void must(int r)
{
	if (r)
		abort();
}

static void fill(struct buf *b, char c, size_t n)
{
	while (n--)
		must(buf_addc(b, c));
}

static bool view_in(struct str v, const char *base, size_t n)
{
	return v.n == 0 || (v.p >= base && v.p + v.n <= base + n);
}

static bool view_is(struct str v, const char *want)
{
	if (!want)
		return v.n == 0 && v.p == NULL;
	return v.n == strlen(want) && (v.n == 0 || memcmp(v.p, want, v.n) == 0);
}

/* ---- Request writer ------------------------------------------------------------------- */

static void test_request_goldens(void)
{
	struct http_header watch_h[] = {
		{ STR_LIT("Authorization"), STR_LIT("Bearer eyJhbGciOi.abc") },
	};
	struct http_header patch_h[] = {
		{ STR_LIT("Authorization"), STR_LIT("Bearer t") },
		{ STR_LIT("Content-Type"), STR_LIT("application/strategic-merge-patch+json") },
	};
	static const char body[] = "{\"status\":{\"conditions\":[]}}";
	struct http_request q = {
		.method = "GET",
		.target = "/api/v1/pods?watch=1&resourceVersion=12345&allowWatchBookmarks=true",
		.host = "10.96.0.1:443",
		.version = "0.3.0",
		.headers = watch_h,
		.nheaders = 1,
	};
	struct buf b = BUF_INIT;

	ok(http_write_request(&b, &q) == 0, "request: watch GET");
	is_str(b.p, "GET /api/v1/pods?watch=1&resourceVersion=12345&allowWatchBookmarks=true "
		    "HTTP/1.1\r\nHost: 10.96.0.1:443\r\nUser-Agent: virgil/0.3.0\r\n"
		    "Accept: application/json\r\nAuthorization: Bearer eyJhbGciOi.abc\r\n\r\n",
	       "request: watch GET golden");
	ok(b.len == strlen(b.p), "request: len matches text");

	buf_reset(&b);
	q = (struct http_request){ .method = "PATCH", .target = "/api/v1/nodes/node-a/status",
				   .host = "[fd00::1]:6443", .version = "1", .headers = patch_h,
				   .nheaders = 2, .body = body, .body_len = sizeof(body) - 1 };
	ok(http_write_request(&b, &q) == 0, "request: PATCH with body");
	is_str(b.p, "PATCH /api/v1/nodes/node-a/status HTTP/1.1\r\nHost: [fd00::1]:6443\r\n"
		    "User-Agent: virgil/1\r\nAccept: application/json\r\n"
		    "Authorization: Bearer t\r\n"
		    "Content-Type: application/strategic-merge-patch+json\r\n"
		    "Content-Length: 28\r\n\r\n{\"status\":{\"conditions\":[]}}",
	       "request: PATCH golden");

	/* appends after what the buffer holds; empty body still says Content-Length: 0 */
	buf_reset(&b);
	must(buf_adds(&b, "prev|"));
	q = (struct http_request){ .method = "POST", .target = "/", .host = "h", .version = "v",
				   .body = "" };
	ok(http_write_request(&b, &q) == 0, "request: POST empty body");
	is_str(b.p, "prev|POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: virgil/v\r\n"
		    "Accept: application/json\r\nContent-Length: 0\r\n\r\n",
	       "request: appended, Content-Length 0");

	/* tab and obs-text are legal in a value; an empty value too */
	buf_reset(&b);
	watch_h[0] = (struct http_header){ STR_LIT("X-Note"), STR_LIT("a\tb \xc3\xa9") };
	q = (struct http_request){ .method = "GET", .target = "/x", .host = "h", .version = "v",
				   .headers = watch_h, .nheaders = 1 };
	ok(http_write_request(&b, &q) == 0 && strstr(b.p, "X-Note: a\tb \xc3\xa9\r\n"),
	   "request: tab and obs-text in a value");
	buf_reset(&b);
	watch_h[0] = (struct http_header){ STR_LIT("X-Empty"), { NULL, 0 } };
	ok(http_write_request(&b, &q) == 0 && strstr(b.p, "X-Empty: \r\n"),
	   "request: empty value");
	buf_free(&b);
}

struct badreq {
	const char *what;
	const char *method, *target, *host, *version;
	struct http_header h;
};

#define NOH { { NULL, 0 }, { NULL, 0 } }

static void test_request_refused(void)
{
	static const struct badreq cases[] = {
		{ "NULL method", NULL, "/", "h", "v", NOH },
		{ "empty method", "", "/", "h", "v", NOH },
		{ "space in method", "GE T", "/", "h", "v", NOH },
		{ "NULL target", "GET", NULL, "h", "v", NOH },
		{ "target without slash", "GET", "api", "h", "v", NOH },
		{ "space in target", "GET", "/a b", "h", "v", NOH },
		{ "CRLF in target", "GET", "/a\r\nX: y", "h", "v", NOH },
		{ "fragment in target", "GET", "/a#b", "h", "v", NOH },
		{ "non-ASCII target", "GET", "/\xc3\xa9", "h", "v", NOH },
		{ "empty host", "GET", "/", "", "v", NOH },
		{ "NULL host", "GET", "/", NULL, "v", NOH },
		{ "space in host", "GET", "/", "a b", "v", NOH },
		{ "LF in host", "GET", "/", "a\nb", "v", NOH },
		{ "path in host", "GET", "/", "a/b", "v", NOH },
		{ "userinfo in host", "GET", "/", "u@h", "v", NOH },
		{ "NULL version", "GET", "/", "h", NULL, NOH },
		{ "space in version", "GET", "/", "h", "1 0", NOH },
		{ "empty header name", "GET", "/", "h", "v", { STR_LIT(""), STR_LIT("x") } },
		{ "space in name", "GET", "/", "h", "v", { STR_LIT("X Y"), STR_LIT("x") } },
		{ "colon in name", "GET", "/", "h", "v", { STR_LIT("X:"), STR_LIT("x") } },
		{ "CR in value", "GET", "/", "h", "v", { STR_LIT("X"), STR_LIT("a\rb") } },
		{ "LF in value", "GET", "/", "h", "v", { STR_LIT("X"), STR_LIT("a\nb") } },
		{ "CRLF injection", "GET", "/", "h", "v",
		  { STR_LIT("X"), STR_LIT("a\r\nHost: evil") } },
		{ "NUL in value", "GET", "/", "h", "v", { STR_LIT("X"), STR_LIT("a\0b") } },
		{ "NUL in name", "GET", "/", "h", "v", { STR_LIT("X\0Y"), STR_LIT("a") } },
		{ "control byte in value", "GET", "/", "h", "v",
		  { STR_LIT("X"), STR_LIT("a\x01") } },
		{ "DEL in value", "GET", "/", "h", "v", { STR_LIT("X"), STR_LIT("a\x7f") } },
		{ "Host is ours", "GET", "/", "h", "v", { STR_LIT("HOST"), STR_LIT("x") } },
		{ "User-Agent is ours", "GET", "/", "h", "v",
		  { STR_LIT("user-agent"), STR_LIT("x") } },
		{ "Accept is ours", "GET", "/", "h", "v", { STR_LIT("Accept"), STR_LIT("x") } },
		{ "no Accept-Encoding", "GET", "/", "h", "v",
		  { STR_LIT("Accept-Encoding"), STR_LIT("gzip") } },
		{ "Content-Length is ours", "GET", "/", "h", "v",
		  { STR_LIT("content-Length"), STR_LIT("1") } },
		{ "no Transfer-Encoding", "GET", "/", "h", "v",
		  { STR_LIT("Transfer-Encoding"), STR_LIT("chunked") } },
	};
	struct buf b = BUF_INIT;
	size_t i;

	must(buf_adds(&b, "keep"));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct badreq *c = &cases[i];
		struct http_request q = { .method = c->method, .target = c->target, .host = c->host,
					  .version = c->version, .headers = &c->h,
					  .nheaders = c->h.name.p ? 1 : 0 };
		char what[96];

		snprintf(what, sizeof(what), "request refused: %s", c->what);
		ok(http_write_request(&b, &q) == -EINVAL && b.len == 4 && !strcmp(b.p, "keep"),
		   what);
	}
	{
		struct http_request q = { .method = "GET", .target = "/", .host = "h",
					  .version = "v", .nheaders = 1 };

		is_int(http_write_request(&b, &q), -EINVAL, "request refused: headers NULL");
	}
	buf_free(&b);
}

static void test_request_limits(void)
{
	struct http_request q = { .method = "GET", .target = "/x", .host = "h", .version = "v" };
	struct buf b = BUF_INIT;
	unsigned long nth, calls;
	int r, bad = 0;

	b.max = 20;
	is_int(http_write_request(&b, &q), -EMSGSIZE, "request: bounded buf -EMSGSIZE");
	ok(b.len == 0, "request: bounded buf unchanged");
	b.max = 0;
	for (nth = 1;; nth++) {
		fault_reset(nth);
		r = http_write_request(&b, &q);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0;
			break;
		}
		bad += r != -ENOMEM || b.len != 0;
	}
	ok(bad == 0 && nth == 2, "request: -ENOMEM at every allocation, one allocation in all");
	buf_free(&b);
}

static bool pct_decodes_to(const char *enc, size_t en, const unsigned char *want, size_t n)
{
	size_t i, k = 0;
	unsigned v;

	for (i = 0; i < en; i++, k++) {
		if (k >= n)
			return false;
		if (enc[i] != '%') {
			if (!strchr("-._~", enc[i]) && !((enc[i] >= '0' && enc[i] <= '9') ||
			    (enc[i] >= 'a' && enc[i] <= 'z') || (enc[i] >= 'A' && enc[i] <= 'Z')))
				return false;
			if ((unsigned char)enc[i] != want[k])
				return false;
			continue;
		}
		if (i + 2 >= en || sscanf(enc + i + 1, "%2X", &v) != 1 || v != want[k])
			return false;
		if (enc[i + 1] >= 'a' || enc[i + 2] >= 'a')
			return false; /* upper-case hex only */
		i += 2;
	}
	return k == n;
}

static void test_query(void)
{
	static const char tok[] = "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==+/";
	unsigned char all[256];
	struct buf b = BUF_INIT;
	unsigned long nth, calls;
	int r, bad = 0;
	size_t i;

	ok(http_pct_encode(&b, "a b/c?d=e&f~_.-Z9", 17) == 0, "pct: encode");
	is_str(b.p, "a%20b%2Fc%3Fd%3De%26f~_.-Z9", "pct: golden");
	buf_reset(&b);
	ok(http_pct_encode(&b, "\0\xff%", 3) == 0, "pct: NUL, 0xff, percent");
	is_str(b.p, "%00%FF%25", "pct: binary golden");
	buf_reset(&b);
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	ok(http_pct_encode(&b, all, 256) == 0 && pct_decodes_to(b.p, b.len, all, 256),
	   "pct: every byte round-trips");
	buf_reset(&b);
	ok(http_pct_encode(&b, NULL, 0) == 0 && b.len == 0, "pct: empty");

	buf_reset(&b);
	must(buf_adds(&b, "/api/v1/pods"));
	ok(http_query_add(&b, "watch", "1", 1) == 0 &&
	   http_query_add(&b, "resourceVersion", "12 34", 5) == 0 &&
	   http_query_add(&b, "continue", tok, sizeof(tok) - 1) == 0 &&
	   http_query_add(&b, "labelSelector", "kubernetes.io/service-name=kubernetes", 37) == 0 &&
	   http_query_add(&b, "empty", "", 0) == 0, "query: add five");
	is_str(b.p, "/api/v1/pods?watch=1&resourceVersion=12%2034"
		    "&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ%3D%3D%2B%2F"
		    "&labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes&empty=",
	       "query: golden");

	buf_reset(&b);
	b.max = 10;
	must(buf_adds(&b, "/p"));
	is_int(http_query_add(&b, "k", "0123456789", 10), -EMSGSIZE, "query: bounded -EMSGSIZE");
	is_str(b.p, "/p", "query: unchanged after error");
	is_int(http_pct_encode(&b, "\x01\x02\x03", 3), -EMSGSIZE, "pct: bounded -EMSGSIZE");
	is_str(b.p, "/p", "pct: unchanged after error");
	buf_free(&b);

	/* a value long enough that the buffer grows several times */
	for (nth = 1;; nth++) {
		b = (struct buf)BUF_INIT;
		r = buf_adds(&b, "/a?x=1");
		fault_reset(nth);
		if (!r) {
			r = http_query_add(&b, "v", all, 256);
			r = r ? r : http_query_add(&b, "w", all, 200);
		}
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0;
			buf_free(&b);
			break;
		}
		bad += r != -ENOMEM || (strcmp(b.p, "/a?x=1") && strncmp(b.p, "/a?x=1&v=", 9));
		buf_free(&b);
	}
	ok(bad == 0 && nth > 2, "query: -ENOMEM at every allocation, buffer unchanged");
}

/* ---- Response heads ------------------------------------------------------------------- */

struct rcase {
	const char *name;
	const char *head;    /* the whole head, blank line included */
	const char *tail;    /* body bytes after it */
	int status, minor;
	const char *reason;
	size_t nh;
	enum http_body body;
	long long cl;
	bool chunked, keep;
	long long retry;
	const char *ctype;
};

static const struct rcase valid[] = {
	{ "minimal", "HTTP/1.1 200 OK\r\n\r\n", "", 200, 1, "OK", 0, HTTP_BODY_CLOSE, -1, false,
	  false, -1, NULL },
	{ "content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "hello", 200, 1,
	  "OK", 1, HTTP_BODY_LENGTH, 5, false, true, -1, NULL },
	{ "chunked json", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", "0\r\n\r\n", 200, 1, "OK", 2, HTTP_BODY_CHUNKED,
	  -1, true, true, -1, "application/json" },
	{ "chunked any case, empty list elements",
	  "HTTP/1.1 200 OK\r\ntransfer-encoding: , Chunked ,\r\n\r\n", "", 200, 1, "OK", 1,
	  HTTP_BODY_CHUNKED, -1, true, true, -1, NULL },
	{ "HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", "{}", 200, 0, "OK",
	  1, HTTP_BODY_LENGTH, 2, false, false, -1, NULL },
	{ "HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
	  "Content-Length: 0\r\n\r\n", "", 200, 0, "OK", 2, HTTP_BODY_LENGTH, 0, false, true, -1,
	  NULL },
	{ "close", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: upgrade, Close\r\n\r\n",
	  "", 200, 1, "OK", 2, HTTP_BODY_LENGTH, 0, false, false, -1, NULL },
	{ "no reason", "HTTP/1.1 204\r\n\r\n", "", 204, 1, "", 0, HTTP_BODY_NONE, -1, false, true,
	  -1, NULL },
	{ "empty reason", "HTTP/1.1 204 \r\n\r\n", "", 204, 1, "", 0, HTTP_BODY_NONE, -1, false,
	  true, -1, NULL },
	{ "304 with length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "", 304,
	  1, "Not Modified", 1, HTTP_BODY_NONE, 10, false, true, -1, NULL },
	{ "100 continue", "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 200 OK\r\n", 100, 1,
	  "Continue", 0, HTTP_BODY_NONE, -1, false, true, -1, NULL },
	{ "reason with tab and UTF-8", "HTTP/1.1 599 Very\tOK \xe2\x9c\x93\r\n\r\n", "", 599, 1,
	  "Very\tOK \xe2\x9c\x93", 0, HTTP_BODY_CLOSE, -1, false, false, -1, NULL },
	{ "value whitespace trimmed", "HTTP/1.1 200 OK\r\nContent-Type:   text/plain \t\r\n"
	  "X-Empty:\r\nX-Spaces:   \r\nContent-Length:1\r\n\r\n", "x", 200, 1, "OK", 4,
	  HTTP_BODY_LENGTH, 1, false, true, -1, "text/plain" },
	{ "repeated equal lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	  "Content-Length: 3, 3\r\n\r\n", "abc", 200, 1, "OK", 2, HTTP_BODY_LENGTH, 3, false, true,
	  -1, NULL },
	{ "length with leading zeros", "HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n",
	  "1234567", 200, 1, "OK", 1, HTTP_BODY_LENGTH, 7, false, true, -1, NULL },
	{ "every tchar in a name", "HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09azAZ: x\r\n"
	  "Content-Length: 0\r\n\r\n", "", 200, 1, "OK", 2, HTTP_BODY_LENGTH, 0, false, true, -1,
	  NULL },
	{ "obs-text in a value", "HTTP/1.1 200 OK\r\nX: \x80\xff caf\xc3\xa9\r\n"
	  "Content-Length: 0\r\n\r\n", "", 200, 1, "OK", 2, HTTP_BODY_LENGTH, 0, false, true, -1,
	  NULL },
	{ "first content-type wins", "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\n"
	  "content-type: c/d\r\nContent-Length: 0\r\n\r\n", "", 200, 1, "OK", 3, HTTP_BODY_LENGTH,
	  0, false, true, -1, "a/b" },
	{ "410 Gone", "HTTP/1.1 410 Gone\r\nAudit-Id: 8d5f3a8e-2b1c-4f8e-9d3a-0a1b2c3d4e5f\r\n"
	  "Cache-Control: no-cache, private\r\nContent-Type: application/json\r\n"
	  "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\nContent-Length: 155\r\n\r\n",
	  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	  "\"message\":\"too old resource version: 1 (1050)\",\"reason\":\"Expired\",\"code\":410}",
	  410, 1, "Gone", 5, HTTP_BODY_LENGTH, 155, false, true, -1, "application/json" },
	{ "429 delta seconds", "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json"
	  "\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n", "{}", 429, 1, "Too Many Requests", 3,
	  HTTP_BODY_LENGTH, 2, false, true, 1, "application/json" },
	{ "429 IMF-fixdate", "HTTP/1.1 429 Too Many Requests\r\n"
	  "Retry-After: Tue, 14 Nov 2023 22:13:50 GMT\r\nContent-Length: 0\r\n\r\n", "", 429, 1,
	  "Too Many Requests", 2, HTTP_BODY_LENGTH, 0, false, true, 30, NULL },
	{ "503 date in the past", "HTTP/1.1 503 Service Unavailable\r\n"
	  "Retry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n", "", 503, 1,
	  "Service Unavailable", 2, HTTP_BODY_LENGTH, 0, false, true, 0, NULL },
	{ "Retry-After 0", "HTTP/1.1 503 X\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n", "",
	  503, 1, "X", 2, HTTP_BODY_LENGTH, 0, false, true, 0, NULL },
	{ "Retry-After huge is clamped", "HTTP/1.1 503 X\r\n"
	  "Retry-After: 99999999999999999999999\r\nContent-Length: 0\r\n\r\n", "", 503, 1, "X", 2,
	  HTTP_BODY_LENGTH, 0, false, true, HTTP_RETRY_AFTER_MAX, NULL },
	{ "Retry-After garbage is absent", "HTTP/1.1 503 X\r\nRetry-After: soon\r\n"
	  "Content-Length: 0\r\n\r\n", "", 503, 1, "X", 2, HTTP_BODY_LENGTH, 0, false, true, -1,
	  NULL },
	{ "Retry-After RFC 850 is not understood", "HTTP/1.1 503 X\r\n"
	  "Retry-After: Sunday, 06-Nov-94 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n", "", 503, 1,
	  "X", 2, HTTP_BODY_LENGTH, 0, false, true, -1, NULL },
	{ "Retry-After negative is absent", "HTTP/1.1 503 X\r\nRetry-After: -5\r\n"
	  "Content-Length: 0\r\n\r\n", "", 503, 1, "X", 2, HTTP_BODY_LENGTH, 0, false, true, -1,
	  NULL },
	{ "first Retry-After counts", "HTTP/1.1 503 X\r\nRetry-After: 7\r\nRetry-After: 9\r\n"
	  "Content-Length: 0\r\n\r\n", "", 503, 1, "X", 3, HTTP_BODY_LENGTH, 0, false, true, 7,
	  NULL },
	{ "Retry-After date out of range", "HTTP/1.1 503 X\r\n"
	  "Retry-After: Fri, 30 Feb 2024 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n", "", 503, 1,
	  "X", 2, HTTP_BODY_LENGTH, 0, false, true, -1, NULL },
	{ "Retry-After leap day", "HTTP/1.1 503 X\r\n"
	  "Retry-After: Thu, 29 Feb 2024 12:00:00 GMT\r\nContent-Length: 0\r\n\r\n", "", 503, 1,
	  "X", 2, HTTP_BODY_LENGTH, 0, false, true, 1709208000 - NOW, NULL },
	{ "Retry-After date far ahead is clamped", "HTTP/1.1 503 X\r\n"
	  "Retry-After: Mon, 01 Mar 2100 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n", "", 503, 1,
	  "X", 2, HTTP_BODY_LENGTH, 0, false, true, HTTP_RETRY_AFTER_MAX, NULL },
	{ "Retry-After lower-case gmt", "HTTP/1.1 503 X\r\n"
	  "Retry-After: Tue, 14 Nov 2023 22:13:50 gmt\r\nContent-Length: 0\r\n\r\n", "", 503, 1,
	  "X", 2, HTTP_BODY_LENGTH, 0, false, true, -1, NULL },
	{ "watch head", "HTTP/1.1 200 OK\r\nAudit-Id: 1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b\r\n"
	  "Cache-Control: no-cache, private\r\nContent-Type: application/json\r\n"
	  "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
	  "X-Kubernetes-Pf-Flowschema-Uid: 0a6c3f0e-6e0e-4b8b-9d55-7d2c4f3b2a10\r\n"
	  "X-Kubernetes-Pf-Prioritylevel-Uid: 3c9d1f7a-1b2c-4d5e-8f90-a1b2c3d4e5f6\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", "1\r\n\n\r\n", 200, 1, "OK", 7,
	  HTTP_BODY_CHUNKED, -1, true, true, -1, "application/json" },
};

struct mcase {
	const char *name;
	const char *in;
	size_t len;          /* 0: strlen(in) */
	const char *why;     /* expected in the ebuf */
};

#define M(name, lit, why) { name, lit, sizeof(lit) - 1, why }

static const struct mcase malformed[] = {
	M("HTTP/2", "HTTP/2 200 OK\r\n\r\n", "not an HTTP/1.x response"),
	M("lower-case http", "http/1.1 200 OK\r\n\r\n", "not an HTTP/1.x response"),
	M("SSH banner", "SSH-2.0-OpenSSH_9.2\r\n", "not an HTTP/1.x response"),
	M("TLS alert", "\x15\x03\x03\x00\x02\x02\x50", "not an HTTP/1.x response"),
	M("minor not a digit", "HTTP/1.x 200 OK\r\n\r\n", "malformed status line"),
	M("two-digit minor", "HTTP/1.11 200 OK\r\n\r\n", "malformed status line"),
	M("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "malformed status line"),
	M("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"),
	M("double space", "HTTP/1.1  200 OK\r\n\r\n", "malformed status line"),
	M("status 099", "HTTP/1.1 099 X\r\n\r\n", "status code 99 out of range"),
	M("status 600", "HTTP/1.1 600 X\r\n\r\n", "status code 600 out of range"),
	M("bare LF after status", "HTTP/1.1 200 OK\n\r\n", "not ended by CRLF"),
	M("bare LF after header", "HTTP/1.1 200 OK\r\nA: b\n\r\n", "not ended by CRLF"),
	M("bare LF blank line", "HTTP/1.1 200 OK\r\nA: b\r\n\n", "not ended by CRLF"),
	M("CR in reason", "HTTP/1.1 200 O\rK\r\n\r\n", "control byte 0x0d in reason"),
	M("NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n", "control byte 0x00 in reason"),
	M("space before first header", "HTTP/1.1 200 OK\r\n X: y\r\n\r\n",
	  "whitespace before the first header"),
	M("obsolete folding", "HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\n\r\n", "obsolete line folding"),
	M("space before colon", "HTTP/1.1 200 OK\r\nA : b\r\n\r\n", "offset 18: malformed header"),
	M("empty name", "HTTP/1.1 200 OK\r\n: b\r\n\r\n", "malformed header name"),
	M("no colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "malformed header name"),
	M("quote in name", "HTTP/1.1 200 OK\r\nA\"b: c\r\n\r\n", "malformed header name"),
	M("NUL in value", "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n", "control byte 0x00 in header"),
	M("CR in value", "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "control byte 0x0d in header"),
	M("DEL in value", "HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", "control byte 0x7f in header"),
	M("ESC in value", "HTTP/1.1 200 OK\r\nA: \x1b[0m\r\n\r\n", "control byte 0x1b"),
	M("length not a number", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
	  "malformed Content-Length"),
	M("negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	  "malformed Content-Length"),
	M("space inside length", "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
	  "malformed Content-Length"),
	M("plus sign length", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
	  "malformed Content-Length"),
	M("empty length", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "empty Content-Length"),
	M("conflicting lengths",
	  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	  "conflicting Content-Length"),
	M("conflicting length list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
	  "conflicting Content-Length"),
	M("length overflow", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	  "Content-Length too large"),
	M("length just over 2^62", "HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387905\r\n\r\n",
	  "Content-Length too large"),
	M("gzip then chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	  "unsupported transfer coding gzip"),
	M("chunked then gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	  "unsupported transfer coding gzip"),
	M("identity", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
	  "unsupported transfer coding"),
	M("chunked with a parameter", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
	  "unsupported transfer coding"),
	M("chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	  "chunked applied twice"),
	M("chunked in two headers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", "chunked applied twice"),
	M("empty transfer-encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n",
	  "empty Transfer-Encoding"),
	M("chunked and length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	  "Content-Length: 5\r\n\r\n", "both Transfer-Encoding and Content-Length"),
	M("length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", "both Transfer-Encoding and Content-Length"),
	M("HTTP/1.0 chunked", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	  "Transfer-Encoding in an HTTP/1.0 response"),
};

static bool resp_match(const struct rcase *c, const char *g, size_t n, int rc,
		       const struct http_response *r)
{
	size_t i, hn = strlen(c->head);
	bool views = view_in(r->reason, g, hn) && view_in(r->content_type, g, hn);

	for (i = 0; i < r->nheaders; i++)
		views &= view_in(r->headers[i].name, g, hn) && view_in(r->headers[i].value, g, hn);
	return rc == (int)hn && views && r->status == c->status && r->minor == c->minor &&
	       view_is(r->reason, c->reason) && r->nheaders == c->nh && r->body == c->body &&
	       r->content_length == c->cl && r->chunked == c->chunked &&
	       r->keep_alive == c->keep && r->retry_after == c->retry &&
	       view_is(r->content_type, c->ctype) && (size_t)rc <= n;
}

struct gcopy {
	char *p;
	size_t n;
};

static int parse_g(struct gcopy *g, const char *in, size_t n, size_t prev,
		   struct http_response *r, struct ebuf *eb)
{
	g->p = guard_copy(in, n);
	g->n = n;
	return http_parse_response(g->p, n, prev, NOW, r, eb);
}

static void gfree(struct gcopy *g)
{
	guard_free(g->p, g->n);
}

static char *concat(const char *a, const char *b, size_t *n)
{
	size_t an = strlen(a), bn = strlen(b);
	char *s = malloc(an + bn + 1);

	if (!s)
		abort();
	memcpy(s, a, an);
	memcpy(s + an, b, bn + 1);
	*n = an + bn;
	return s;
}

/* Every prefix alone, then every split point (prefix first, then all with prev_len). */
static int valid_splits(const struct rcase *c, const char *in, size_t n)
{
	struct http_header hs[MAXH];
	struct http_response r;
	struct gcopy g, g2;
	size_t k, hn = strlen(c->head);
	int rc, bad = 0;

	http_response_init(&r, hs, MAXH);
	for (k = 0; k <= n; k++) {
		rc = parse_g(&g, in, k, 0, &r, NULL);
		bad += k < hn ? rc != -2 : !resp_match(c, g.p, k, rc, &r);
		gfree(&g);
		if (k == 0 || k == n)
			continue;
		rc = parse_g(&g, in, k, 0, &r, NULL);
		gfree(&g);
		rc = parse_g(&g2, in, n, rc == -2 ? k : 0, &r, NULL);
		bad += !resp_match(c, g2.p, n, rc, &r);
		gfree(&g2);
	}
	return bad;
}

/* Byte by byte, passing the previous length as the hint, as a reading loop would. */
static int feed_bytewise(const char *in, size_t n, struct http_response *r, struct ebuf *eb,
			 struct gcopy *last, bool *monotone)
{
	size_t k, prev = 0;
	int rc = -2;

	*monotone = true;
	for (k = 1; k <= n; k++) {
		rc = parse_g(last, in, k, prev, r, eb);
		if (rc != -2)
			break;
		prev = k;
		if (k < n)
			gfree(last);
	}
	/* once decided, more input never changes the answer */
	if (k < n) {
		struct gcopy g2;
		struct http_header hs[MAXH];
		struct http_response r2;
		int rc2;

		http_response_init(&r2, hs, MAXH);
		rc2 = parse_g(&g2, in, n, 0, &r2, NULL);
		*monotone = rc2 == rc;
		gfree(&g2);
	}
	return rc;
}

static void test_valid_heads(void)
{
	struct http_header hs[MAXH];
	struct http_response r;
	struct gcopy g;
	struct ebuf eb = { "" };
	char what[128];
	bool mono;
	size_t i, n;
	int rc;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		const struct rcase *c = &valid[i];
		char *in = concat(c->head, c->tail, &n);

		http_response_init(&r, hs, MAXH);
		rc = parse_g(&g, in, n, 0, &r, &eb);
		snprintf(what, sizeof(what), "head %s: one shot", c->name);
		if (!ok(resp_match(c, g.p, n, rc, &r), what))
			diag("rc %d status %d body %d cl %lld keep %d retry %lld ebuf %s", rc,
			     r.status, r.body, (long long)r.content_length, r.keep_alive,
			     (long long)r.retry_after, eb.msg);
		gfree(&g);

		snprintf(what, sizeof(what), "head %s: every prefix and split", c->name);
		is_int(valid_splits(c, in, n), 0, what);

		rc = feed_bytewise(in, n, &r, NULL, &g, &mono);
		snprintf(what, sizeof(what), "head %s: byte by byte with prev_len", c->name);
		ok(resp_match(c, g.p, g.n, rc, &r) && mono, what);
		gfree(&g);
		free(in);
	}
}

static void test_malformed_heads(void)
{
	struct http_header hs[MAXH];
	struct http_response r;
	struct ebuf eb;
	struct gcopy g;
	char what[128];
	size_t i, k;
	bool mono;
	int rc, bad;

	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		const struct mcase *c = &malformed[i];

		http_response_init(&r, hs, MAXH);
		ebuf_clear(&eb);
		rc = parse_g(&g, c->in, c->len, 0, &r, &eb);
		gfree(&g);
		snprintf(what, sizeof(what), "malformed %s: -1, \"%s\"", c->name, c->why);
		if (!ok(rc == -1 && strstr(eb.msg, c->why), what))
			diag("rc %d, ebuf \"%s\"", rc, eb.msg);

		/* prefixes: -2 until the error shows, then -1 for good */
		for (k = 0, bad = 0, rc = -2; k <= c->len; k++) {
			int rk = parse_g(&g, c->in, k, 0, &r, NULL);

			gfree(&g);
			bad += rk != -2 && rk != -1;
			bad += rc == -1 && rk != -1;
			rc = rk;
		}
		snprintf(what, sizeof(what), "malformed %s: prefixes -2 then -1", c->name);
		ok(bad == 0 && rc == -1, what);

		rc = feed_bytewise(c->in, c->len, &r, NULL, &g, &mono);
		gfree(&g);
		snprintf(what, sizeof(what), "malformed %s: byte by byte", c->name);
		ok(rc == -1 && mono, what);
	}
}

static void test_head_misc(void)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nAudit-Id: abc\r\nWARNING: 299 - \"x\"\r\n\r\n";
	struct http_header hs[MAXH];
	const struct http_header *h;
	struct http_response r;
	struct gcopy g;
	unsigned long calls;
	int rc;

	http_response_init(&r, hs, MAXH);
	fault_reset(ULONG_MAX);
	rc = parse_g(&g, in, sizeof(in) - 1, 0, &r, NULL);
	calls = fault_reset(0);
	is_int(rc, sizeof(in) - 1, "find: parsed");
	is_int(calls, 0, "head parser never allocates");
	h = http_find(&r, "audit-id");
	ok(h && view_is(h->value, "abc") && view_is(h->name, "Audit-Id"), "find: any case");
	h = http_find(&r, "Warning");
	ok(h && view_is(h->value, "299 - \"x\""), "find: second header");
	ok(!http_find(&r, "Audit"), "find: no prefix match");
	gfree(&g);

	/* a stale hint larger than the input is ignored */
	rc = parse_g(&g, in, sizeof(in) - 1, sizeof(in) + 5, &r, NULL);
	is_int(rc, sizeof(in) - 1, "prev_len past the end is ignored");
	gfree(&g);
	rc = parse_g(&g, in, 0, 0, &r, NULL);
	is_int(rc, -2, "empty input is partial");
	gfree(&g);

	/* the ebuf names the offset */
	{
		struct ebuf eb = { "" };

		rc = parse_g(&g, "HTTP/1.1 200 OK\r\nA: \x01\r\n\r\n", 25, 0, &r, &eb);
		gfree(&g);
		is_str(eb.msg, "offset 20: control byte 0x01 in header value", "ebuf: offset");
	}
}

/* IMF-fixdate conversion against "now" = 0 and against a near "now". */
static void test_retry_dates(void)
{
	static const struct {
		const char *date;
		long long t;
	} dates[] = {
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
		{ "Wed, 01 Mar 2000 00:00:00 GMT", 951868800 },
		{ "Tue, 29 Feb 2000 00:00:00 GMT", 951782400 },
		{ "Thu, 29 Feb 2024 12:00:00 GMT", 1709208000 },
		{ "Sun, 31 Dec 2023 23:59:59 GMT", 1704067199 },
		{ "Thu, 01 Jan 1970 00:00:01 GMT", 1 },
		{ "Tue, 19 Jan 2038 03:14:07 GMT", 2147483647 },
		{ "Thu, 29 Feb 1900 00:00:00 GMT", -1 },
		{ "Wed, 29 Feb 2023 00:00:00 GMT", -1 },
		{ "Sun, 31 Apr 2023 00:00:00 GMT", -1 },
		{ "Sun, 00 Apr 2023 00:00:00 GMT", -1 },
		{ "Sun, 01 Apr 2023 24:00:00 GMT", -1 },
		{ "Sun, 01 Apr 2023 23:60:00 GMT", -1 },
		{ "Sun, 01 Apr 2023 23:59:61 GMT", -1 },
		{ "Xyz, 01 Apr 2023 00:00:00 GMT", -1 },
		{ "Sun, 01 Apr 2023 00:00:00 UTC", -1 },
		{ "Sun, 01 apr 2023 00:00:00 GMT", -1 },
		{ "Sun, 1 Apr 2023 00:00:00 GMT", -1 },
		{ "Sun Nov  6 08:49:37 1994", -1 },
		{ "1 2", -1 },
		{ "", -1 },
	};
	struct http_header hs[MAXH];
	struct http_response r;
	struct buf b = BUF_INIT;
	size_t i;
	int bad = 0, rc;

	for (i = 0; i < ARRAY_SIZE(dates); i++) {
		char *g;

		buf_reset(&b);
		must(buf_printf(&b, "HTTP/1.1 503 X\r\nRetry-After: %s\r\n\r\n", dates[i].date));
		g = guard_copy(b.p, b.len);
		http_response_init(&r, hs, MAXH);
		rc = http_parse_response(g, b.len, 0, 0, &r, NULL);
		if (rc != (int)b.len || r.retry_after != dates[i].t) {
			diag("%s: rc %d retry %lld", dates[i].date, rc, (long long)r.retry_after);
			bad++;
		}
		if (dates[i].t > 10) {
			rc = http_parse_response(g, b.len, 0, dates[i].t - 10, &r, NULL);
			bad += r.retry_after != 10;
			rc = http_parse_response(g, b.len, 0, dates[i].t + 10, &r, NULL);
			bad += r.retry_after != 0;
			rc = http_parse_response(g, b.len, 0, INT64_MIN, &r, NULL);
			bad += r.retry_after != HTTP_RETRY_AFTER_MAX;
		}
		guard_free(g, b.len);
	}
	is_int(bad, 0, "Retry-After: IMF-fixdate conversion and calendar checks");
	buf_free(&b);
}

/* A head with nh header lines "X-<i>: vvv..." of vlen value bytes each. */
static char *make_head(size_t nh, size_t vlen, size_t *n)
{
	struct buf b = BUF_INIT;
	size_t i;

	must(buf_adds(&b, "HTTP/1.1 200 OK\r\n"));
	for (i = 0; i < nh; i++) {
		must(buf_printf(&b, "X-%zu: ", i));
		fill(&b, 'v', vlen);
		must(buf_adds(&b, "\r\n"));
	}
	must(buf_adds(&b, "\r\n"));
	*n = b.len;
	return buf_steal(&b);
}

static int parse_lim(const char *in, size_t n, size_t prev, size_t maxh, size_t head,
		     size_t line, struct ebuf *eb)
{
	struct http_header hs[64];
	struct http_response r;
	struct gcopy g;
	int rc;

	http_response_init(&r, hs, maxh);
	if (head)
		r.max_head = head;
	if (line)
		r.max_line = line;
	rc = parse_g(&g, in, n, prev, &r, eb);
	gfree(&g);
	return rc;
}

static void test_head_limits(void)
{
	struct ebuf eb = { "" };
	struct buf b = BUF_INIT;
	char *h;
	size_t n;

	h = make_head(8, 3, &n);
	is_int(parse_lim(h, n, 0, 8, 0, 0, NULL), (int)n, "limit: exactly max headers");
	is_int(parse_lim(h, n, 0, 7, 0, 0, &eb), -1, "limit: one header too many");
	ok(strstr(eb.msg, "more than 7 headers") != NULL, "limit: header count message");
	is_int(parse_lim(h, n, 0, 0, 0, 0, NULL), -1, "limit: no room for any header");
	is_int(parse_lim(h, n, 0, 8, n, 0, NULL), (int)n, "limit: head exactly max_head");
	is_int(parse_lim(h, n, 0, 8, n - 1, 0, &eb), -1, "limit: head one byte over");
	ok(strstr(eb.msg, "head longer than") != NULL, "limit: head size message");
	is_int(parse_lim(h, n - 2, 0, 8, n - 2, 0, NULL), -1,
	       "limit: partial head at max_head fails early");
	is_int(parse_lim(h, n - 2, 0, 8, n - 1, 0, NULL), -2, "limit: partial head below max");
	is_int(parse_lim(h, n - 2, n - 3, 8, n - 2, 0, NULL), -1,
	       "limit: partial head at max_head fails on the fast path too");
	free(h);

	/* a 100-byte header line after the 17-byte status line */
	must(buf_adds(&b, "HTTP/1.1 200 OK\r\nX-0: "));
	fill(&b, 'v', 95);
	must(buf_adds(&b, "\r\n\r\n"));
	is_int(parse_lim(b.p, b.len, 0, 8, 0, 100, NULL), (int)b.len, "limit: line exactly max");
	is_int(parse_lim(b.p, b.len, 0, 8, 0, 99, &eb), -1, "limit: line one over");
	ok(strstr(eb.msg, "line longer than 99 bytes") != NULL, "limit: line message");
	is_int(parse_lim(b.p, 17 + 100, 0, 8, 0, 99, NULL), -1,
	       "limit: partial line that cannot end in time fails early");
	is_int(parse_lim(b.p, 17 + 101, 0, 8, 0, 100, NULL), -2,
	       "limit: partial line ending in CR at the limit waits");
	is_int(parse_lim(b.p, 17 + 99, 0, 8, 0, 99, NULL), -2, "limit: partial line at the limit");
	is_int(parse_lim(b.p, 10, 0, 8, 0, 10, NULL), -2, "limit: partial status line");
	is_int(parse_lim(b.p, 11, 0, 8, 0, 10, NULL), -1, "limit: status line over max_line");
	buf_free(&b);

	/* defaults: 16 KiB lines, 64 KiB heads */
	h = make_head(1, HTTP_MAX_LINE - 5, &n);
	is_int(parse_lim(h, n, 0, 8, 0, 0, NULL), (int)n, "limit: default line fits");
	free(h);
	h = make_head(1, HTTP_MAX_LINE - 4, &n);
	is_int(parse_lim(h, n, 0, 8, 0, 0, NULL), -1, "limit: default line exceeded");
	free(h);
	h = make_head(5, 15000, &n);
	is_int(parse_lim(h, n, 0, 8, 0, 0, NULL), -1, "limit: default head exceeded");
	free(h);
}

/* ---- Chunked bodies ------------------------------------------------------------------- */

struct ccase {
	const char *name;
	const char *in;
	size_t len;
	const char *out;
	size_t outlen;
	size_t after;
	const char *why;     /* malformed: expected in the ebuf */
};

#define C(name, in, out, after) { name, in, sizeof(in) - 1, out, sizeof(out) - 1, after, NULL }
#define CB(name, in, out, why) { name, in, sizeof(in) - 1, out, sizeof(out) - 1, 0, why }

static const struct ccase chunked_ok[] = {
	C("empty body", "0\r\n\r\n", "", 0),
	C("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", 0),
	C("two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", 0),
	C("upper hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", 0),
	C("lower hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789", 0),
	C("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", 0),
	C("extensions", "5;foo=bar\r\nhello\r\n0;x;y=\"q; \\\"r\"\r\n\r\n", "hello", 0),
	C("whitespace before extension", "5 \t;a\r\nhello\r\n0\r\n\r\n", "hello", 0),
	C("whitespace after size", "5  \r\nhello\r\n0\r\n\r\n", "hello", 0),
	C("trailers", "3\r\nabc\r\n0\r\nX-Trailer: 1\r\nY:2\r\n\r\n", "abc", 0),
	C("next response after", "2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n", "ok", 17),
	C("framing bytes inside data", "9\r\n0\r\n\r\n\r\n\n\r\r\n0\r\n\r\n",
	  "0\r\n\r\n\r\n\n\r", 0),
	C("NUL and high bytes in data", "4\r\n\0\xff\r\x80\r\n0\r\n\r\n", "\0\xff\r\x80", 0),
	C("watch events", "18\r\n{\"type\":\"ADDED\"}\n{\"type\"\r\n"
	  "d\r\n:\"DELETED\"}\n\n\r\n0\r\n\r\n", "{\"type\":\"ADDED\"}\n{\"type\":\"DELETED\"}\n\n",
	  0),
};

static const struct ccase chunked_bad[] = {
	CB("not hex", "x\r\n", "", "chunk size expected"),
	CB("no size", "\r\n", "", "chunk size expected"),
	CB("extension without size", ";a\r\n", "", "chunk size expected"),
	CB("0x prefix", "0x5\r\nhello\r\n", "", "byte 1: malformed chunk size line"),
	CB("negative", "-1\r\n", "", "chunk size expected"),
	CB("bare LF after size", "5\nhello\r\n0\r\n\r\n", "", "byte 1: malformed chunk size line"),
	CB("LF in extension", "5;a\nb\r\n", "", "byte 3: malformed chunk size line"),
	CB("control byte in extension", "5;a\x01\r\n", "", "malformed chunk size line"),
	CB("digit after whitespace", "5 5\r\n", "", "byte 2: malformed chunk size line"),
	CB("size CR not LF", "5\rhello", "", "byte 2: chunk size line not ended by CRLF"),
	CB("data too long", "5\r\nhelloX\r\n0\r\n\r\n", "hello",
	   "byte 8: chunk data not followed by CRLF"),
	CB("bare LF after data", "5\r\nhello\n0\r\n\r\n", "hello",
	   "byte 8: chunk data not followed by CRLF"),
	CB("CR without LF after data", "5\r\nhello\r0\r\n\r\n", "hello",
	   "byte 9: chunk data not followed by CRLF"),
	CB("size over 2^62", "4000000000000001\r\n", "", "chunk size too large"),
	CB("size 2^64", "10000000000000000\r\n", "", "chunk size too large"),
	CB("bare LF in trailer", "0\r\nX: y\n\r\n", "", "control byte in trailer"),
	CB("control byte in trailer", "0\r\nX: \x02\r\n\r\n", "", "control byte in trailer"),
	CB("final CR without LF", "0\r\n\rx", "", "byte 4: trailer line not ended by CRLF"),
	CB("bare LF at end", "0\r\n\n", "", "byte 3: control byte in trailer"),
	CB("second chunk bad", "2\r\nok\r\nzz\r\n", "ok", "byte 7: chunk size expected"),
	CB("two junk bytes for a CRLF", "5\r\nhelloXY0\r\n\r\n", "hello",
	   "chunk data not followed by CRLF"),
};

/* Decode in[0..n) in slices ending at cuts[]; returns 0 done, -1 error, -2 unfinished. */
static int decode_slices(const char *in, size_t n, const size_t *cuts, size_t ncuts,
			 bool inplace, struct buf *out, size_t *after)
{
	struct http_chunked c;
	size_t i, from = 0, to, got;
	int st = -2;

	http_chunked_init(&c);
	buf_reset(out);
	*after = 0;
	for (i = 0; i <= ncuts && st != -1; i++, from = to) {
		char *g, *dst;
		ssize_t rc;

		to = i < ncuts ? cuts[i] : n;
		g = guard_copy(in + from, to - from);
		dst = inplace ? g : malloc(to - from + 1);
		if (!dst)
			abort();
		rc = http_chunked_feed(&c, dst, g, to - from, &got, NULL);
		if (got && buf_add(out, dst, got))
			abort();
		if (rc >= 0) {
			/* the bytes past the end are untouched, even in place */
			if (memcmp(g + (to - from) - rc, in + to - rc, (size_t)rc))
				abort();
			*after += (size_t)rc;
			st = 0;
		} else if (rc == -1) {
			st = -1;
		}
		if (!inplace)
			free(dst);
		guard_free(g, to - from);
	}
	if (st == 0 && !http_chunked_done(&c))
		abort();
	return st;
}

static int chunk_splits(const struct ccase *c, bool valid_case, bool inplace)
{
	struct buf ref = BUF_INIT, got = BUF_INIT;
	size_t cuts[2], i, j, after_ref, after;
	int st_ref, st, bad = 0;

	st_ref = decode_slices(c->in, c->len, NULL, 0, inplace, &ref, &after_ref);
	bad += st_ref != (valid_case ? 0 : -1);
	for (i = 1; i < c->len; i++) {
		cuts[0] = i;
		st = decode_slices(c->in, c->len, cuts, 1, inplace, &got, &after);
		bad += st != st_ref || after != after_ref || got.len != ref.len ||
		       memcmp(got.p ? got.p : "", ref.p ? ref.p : "", ref.len);
		for (j = i + 1; c->len <= 80 && j < c->len; j++) {
			cuts[1] = j;
			st = decode_slices(c->in, c->len, cuts, 2, inplace, &got, &after);
			bad += st != st_ref || after != after_ref || got.len != ref.len ||
			       memcmp(got.p ? got.p : "", ref.p ? ref.p : "", ref.len);
		}
	}
	if (valid_case)
		bad += ref.len != c->outlen || memcmp(ref.p ? ref.p : "", c->out, c->outlen) ||
		       after_ref != c->after;
	buf_free(&ref);
	buf_free(&got);
	return bad;
}

static int chunk_bytewise(const struct ccase *c, bool valid_case)
{
	struct buf got = BUF_INIT;
	size_t *cuts = malloc(c->len * sizeof(*cuts) + 1), i, after;
	int st, bad;

	if (!cuts)
		abort();
	for (i = 1; i < c->len; i++)
		cuts[i - 1] = i;
	st = decode_slices(c->in, c->len, cuts, c->len ? c->len - 1 : 0, true, &got, &after);
	bad = st != (valid_case ? 0 : -1);
	if (valid_case)
		bad += got.len != c->outlen || memcmp(got.p ? got.p : "", c->out, c->outlen) ||
		       after != c->after;
	buf_free(&got);
	free(cuts);
	return bad;
}

/* One shot, in place: the reason and the byte it names. */
static void chunk_why(const struct ccase *c)
{
	struct http_chunked ch;
	struct ebuf eb = { "" };
	char *g = guard_copy(c->in, c->len), what[128];
	size_t got;
	ssize_t rc;

	http_chunked_init(&ch);
	rc = http_chunked_feed(&ch, g, g, c->len, &got, &eb);
	snprintf(what, sizeof(what), "chunked malformed %s: \"%s\"", c->name, c->why);
	if (!ok(rc == -1 && strstr(eb.msg, c->why), what))
		diag("ebuf: %s", eb.msg);
	guard_free(g, c->len);
}

static void test_chunked_tables(void)
{
	struct buf out = BUF_INIT;
	char what[128];
	size_t i, k, after;

	for (i = 0; i < ARRAY_SIZE(chunked_ok); i++) {
		const struct ccase *c = &chunked_ok[i];

		snprintf(what, sizeof(what), "chunked %s: every split, in place", c->name);
		is_int(chunk_splits(c, true, true), 0, what);
		snprintf(what, sizeof(what), "chunked %s: every split, copied", c->name);
		is_int(chunk_splits(c, true, false), 0, what);
		snprintf(what, sizeof(what), "chunked %s: byte by byte", c->name);
		is_int(chunk_bytewise(c, true), 0, what);
		/* every proper prefix is unfinished, never an error */
		for (k = 0; k < c->len - c->after; k++)
			if (decode_slices(c->in, k, NULL, 0, true, &out, &after) != -2)
				break;
		snprintf(what, sizeof(what), "chunked %s: prefixes need more", c->name);
		ok(k == c->len - c->after, what);
	}
	for (i = 0; i < ARRAY_SIZE(chunked_bad); i++) {
		const struct ccase *c = &chunked_bad[i];

		snprintf(what, sizeof(what), "chunked malformed %s: every split", c->name);
		is_int(chunk_splits(c, false, true), 0, what);
		snprintf(what, sizeof(what), "chunked malformed %s: byte by byte", c->name);
		is_int(chunk_bytewise(c, false), 0, what);
		decode_slices(c->in, c->len, NULL, 0, false, &out, &after);
		snprintf(what, sizeof(what), "chunked malformed %s: data before the error kept",
			 c->name);
		ok(out.len == c->outlen && !memcmp(out.p ? out.p : "", c->out, c->outlen), what);
		chunk_why(c);
	}
	buf_free(&out);
}

static void test_chunked_misc(void)
{
	static const char body[] = "3\r\nabc\r\n0\r\n\r\nrest";
	struct http_chunked c;
	struct ebuf eb = { "" };
	struct buf b = BUF_INIT;
	char out[64], *g;
	unsigned long calls;
	size_t got, i;
	ssize_t rc;

	http_chunked_init(&c);
	fault_reset(ULONG_MAX);
	rc = http_chunked_feed(&c, out, body, sizeof(body) - 1, &got, NULL);
	calls = fault_reset(0);
	ok(rc == 4 && got == 3 && !memcmp(out, "abc", 3), "chunked: end and bytes after");
	is_int(calls, 0, "chunked decoder never allocates");
	ok(http_chunked_done(&c), "chunked: done");
	is_int(http_chunked_feed(&c, out, "more", 4, &got, NULL), 4,
	       "chunked: after the end, all is past it");
	is_int(got, 0, "chunked: after end, nothing decoded");

	http_chunked_init(&c);
	rc = http_chunked_feed(&c, out, "3\r\nabc\r\nz", 9, &got, &eb);
	ok(rc == -1 && got == 3, "chunked: error keeps decoded data");
	is_str(eb.msg, "chunked body byte 8: chunk size expected", "chunked: ebuf byte offset");
	is_int(http_chunked_feed(&c, out, "0\r\n\r\n", 5, &got, NULL), -1, "chunked: error sticky");
	ok(!http_chunked_done(&c), "chunked: not done after error");

	/* exactly 2^62 is a valid size: the decoder waits for data */
	http_chunked_init(&c);
	is_int(http_chunked_feed(&c, out, "4000000000000000\r\nab", 20, &got, NULL), -2,
	       "chunked: 2^62 accepted");
	is_int(got, 2, "chunked: 2^62 data flows");

	/* limits on size lines and trailers */
	must(buf_adds(&b, "1;"));
	fill(&b, 'e', HTTP_CHUNK_LINE_MAX - 3);
	must(buf_adds(&b, "\r\nx\r\n0\r\n\r\n"));
	g = guard_copy(b.p, b.len);
	http_chunked_init(&c);
	rc = http_chunked_feed(&c, g, g, b.len, &got, NULL);
	guard_free(g, b.len);
	ok(rc == 0 && got == 1, "chunked: size line at the limit");
	buf_reset(&b);
	must(buf_adds(&b, "1;"));
	fill(&b, 'e', HTTP_CHUNK_LINE_MAX - 1);
	http_chunked_init(&c);
	rc = http_chunked_feed(&c, out, b.p, b.len, &got, &eb);
	ok(rc == -1 && strstr(eb.msg, "chunk size line too long"),
	   "chunked: size line over the limit, before its end");

	buf_reset(&b);
	must(buf_adds(&b, "0\r\n"));
	for (i = 0; i < 20; i++)
		must(buf_printf(&b, "X-%02zu: %0990d\r\n", i, 0));
	http_chunked_init(&c);
	rc = http_chunked_feed(&c, out, b.p, b.len, &got, &eb);
	ok(rc == -1 && strstr(eb.msg, "trailer section too long"), "chunked: trailer limit");
	buf_reset(&b);
	must(buf_printf(&b, "0\r\nX: %05000d\r\n\r\n", 0));
	http_chunked_init(&c);
	rc = http_chunked_feed(&c, out, b.p, b.len, &got, &eb);
	ok(rc == -1 && strstr(eb.msg, "trailer line too long"), "chunked: trailer line limit");
	buf_free(&b);

	/* a big chunk split at an awkward place, in place */
	must(buf_printf(&b, "%x\r\n", 100000));
	for (i = 0; i < 100000; i++)
		must(buf_addc(&b, (char)('a' + i % 26)));
	must(buf_adds(&b, "\r\n0\r\n\r\n"));
	{
		size_t cut[] = { 3, 4, 50000, b.len - 6 }, a;
		struct buf dec = BUF_INIT;
		bool same;

		same = decode_slices(b.p, b.len, cut, 4, true, &dec, &a) == 0 && dec.len == 100000;
		for (i = 0; same && i < dec.len; i++)
			same = dec.p[i] == (char)('a' + i % 26);
		ok(same && a == 0, "chunked: 100 KB chunk in four slices");
		buf_free(&dec);
	}
	buf_free(&b);
}

/* ---- Lines ---------------------------------------------------------------------------- */

struct sink {
	struct buf b;    /* each line followed by '\n' */
	size_t lines;
	size_t stop_at;  /* return 42 on this line (1-based); 0: never */
	const char *lo, *hi; /* record whether a line was passed without copying */
	size_t direct;
};

static int collect(void *ctx, const char *line, size_t n)
{
	struct sink *s = ctx;

	s->lines++;
	if (s->lo && line >= s->lo && line + n <= s->hi)
		s->direct++;
	if (buf_add(&s->b, line, n) || buf_addc(&s->b, '\n'))
		abort();
	return s->lines == s->stop_at ? 42 : 0;
}

/* Frame in[0..n) fed in slices ending at cuts[]; each slice against a guard page. */
static int frame(const char *in, size_t n, const size_t *cuts, size_t ncuts, size_t max,
		 struct sink *s, size_t *pending)
{
	struct http_lines l;
	size_t i, from = 0, to;
	int rc = 0;

	http_lines_init(&l, max);
	buf_reset(&s->b);
	s->lines = 0;
	for (i = 0; i <= ncuts && !rc; i++, from = to) {
		char *g;

		to = i < ncuts ? cuts[i] : n;
		g = guard_copy(in + from, to - from);
		rc = http_lines_feed(&l, g, to - from, collect, s);
		guard_free(g, to - from);
	}
	*pending = http_lines_pending(&l);
	http_lines_free(&l);
	return rc;
}

static void test_lines(void)
{
	static const char text[] = "{\"a\":1}\n\r\nline\r\r\n\nx\r\ny\nabc\rdef\ntail";
	static const char want[] = "{\"a\":1}\n\nline\r\n\nx\ny\nabc\rdef\n";
	struct sink s = { BUF_INIT, 0, 0, NULL, NULL, 0 };
	size_t n = sizeof(text) - 1, i, j, pend, cuts[2];
	struct http_lines l;
	int rc, bad = 0;

	rc = frame(text, n, NULL, 0, 100, &s, &pend);
	ok(rc == 0 && s.b.p && !strcmp(s.b.p, want) && s.lines == 7 && pend == 4,
	   "lines: one shot, CR stripped once, tail held");
	for (i = 1; i < n; i++) {
		cuts[0] = i;
		for (j = i; j < n; j++) {
			cuts[1] = j;
			rc = frame(text, n, cuts, 2, 100, &s, &pend);
			bad += rc || strcmp(s.b.p, want) || pend != 4;
		}
	}
	is_int(bad, 0, "lines: every two- and three-way split");
	{
		size_t cut[sizeof(text)];

		for (i = 1; i < n; i++)
			cut[i - 1] = i;
		rc = frame(text, n, cut, n - 1, 100, &s, &pend);
		ok(rc == 0 && !strcmp(s.b.p, want) && pend == 4, "lines: byte by byte");
	}

	/* limit: the bytes before '\n', a '\r' included */
	rc = frame("abcd\nabcd\r\n", 11, NULL, 0, 5, &s, &pend);
	ok(rc == 0 && s.lines == 2, "lines: at the limit");
	rc = frame("abcd\nabcdef\n", 12, NULL, 0, 5, &s, &pend);
	ok(rc == -E2BIG && s.lines == 1, "lines: over the limit");
	cuts[0] = 3;
	rc = frame("abcdef", 6, cuts, 1, 5, &s, &pend);
	ok(rc == -E2BIG, "lines: unterminated line over the limit fails before its end");
	cuts[0] = 3;
	rc = frame("abcdef\n", 7, cuts, 1, 5, &s, &pend);
	is_int(rc, -E2BIG, "lines: held part plus new part over the limit");
	rc = frame("\n\n", 2, NULL, 0, 0, &s, &pend);
	ok(rc == 0 && s.lines == 2 && !strcmp(s.b.p, "\n\n"), "lines: max 0 allows empty lines");

	/* sticky errors, and the callback's own */
	http_lines_init(&l, 3);
	is_int(http_lines_feed(&l, "abcd", 4, collect, &s), -E2BIG, "lines: E2BIG");
	is_int(http_lines_feed(&l, "\n", 1, collect, &s), -E2BIG, "lines: E2BIG is sticky");
	http_lines_free(&l);
	http_lines_free(NULL);
	s.stop_at = 2;
	s.lines = 0;
	http_lines_init(&l, 100);
	is_int(http_lines_feed(&l, "a\nb\nc\n", 6, collect, &s), 42, "lines: callback stops feed");
	is_int(s.lines, 2, "lines: no line after the stop");
	is_int(http_lines_feed(&l, "d\n", 2, collect, &s), 42, "lines: stop is sticky");
	http_lines_free(&l);
	s.stop_at = 0;

	/* whole lines go straight from the caller's bytes */
	{
		static const char two[] = "first\nsecond\nthi";
		char *g = guard_copy(two, sizeof(two) - 1);

		s.lo = g;
		s.hi = g + sizeof(two) - 1;
		s.direct = 0;
		http_lines_init(&l, 100);
		rc = http_lines_feed(&l, g, sizeof(two) - 1, collect, &s);
		ok(rc == 0 && s.direct == 2 && http_lines_pending(&l) == 3, "lines: zero copy");
		s.lo = s.hi = NULL;
		rc = http_lines_feed(&l, "rd\n", 3, collect, &s);
		ok(rc == 0 && http_lines_pending(&l) == 0 && l.held.len == 0,
		   "lines: tail joined and released");
		http_lines_free(&l);
		guard_free(g, sizeof(two) - 1);
	}
	http_lines_init(&l, 4);
	ok(http_lines_feed(&l, NULL, 0, collect, &s) == 0, "lines: empty feed is a no-op");
	http_lines_free(&l);
	buf_free(&s.b);
}

static int count_line(void *ctx, const char *line, size_t n)
{
	size_t *got = ctx, i;

	for (i = 0; i < n; i++)
		if (line[i] != (char)('A' + i % 23))
			return -EIO;
	got[0]++;
	got[1] = n;
	return 0;
}

/*
 * An 8 MiB event fed 13 bytes at a time: 645,000 feeds. A framer that rescans what it holds
 * would do ~2.7e12 byte visits here and never finish; ours visits each byte once.
 */
static void test_lines_huge(void)
{
	const size_t big = 8u << 20;
	char *ev = malloc(big + 2);
	size_t got[2] = { 0, 0 }, i, step;
	struct http_lines l;
	int rc = 0;

	if (!ev)
		abort();
	for (i = 0; i < big; i++)
		ev[i] = (char)('A' + i % 23);
	ev[big] = '\r';
	ev[big + 1] = '\n';
	http_lines_init(&l, big + 1);
	for (i = 0; i < big + 2 && !rc; i += step) {
		step = MIN((size_t)13, big + 2 - i);
		rc = http_lines_feed(&l, ev + i, step, count_line, got);
	}
	ok(rc == 0 && got[0] == 1 && got[1] == big, "lines: 8 MiB event in 13-byte feeds");
	ok(l.held.cap == 0, "lines: big buffer released after the event");
	http_lines_free(&l);

	http_lines_init(&l, big - 1);
	rc = 0;
	for (i = 0; i < big + 2 && !rc; i += 4096)
		rc = http_lines_feed(&l, ev + i, MIN((size_t)4096, big + 2 - i), count_line, got);
	ok(rc == -E2BIG && l.held.len <= big - 1, "lines: over a large max, memory stays bounded");
	http_lines_free(&l);
	free(ev);
}

static void test_lines_enomem(void)
{
	static const char *const feeds[] = {
		"{\"type\":\"ADD", "ED\"}\n{\"type\":\"BOOK",
		"MARK\",\"object\":{\"metadata\":{\"resourceVersion\":", "\"1050\"}}}\npartial",
	};
	struct sink s = { BUF_INIT, 0, 0, NULL, NULL, 0 };
	char pad[300];
	unsigned long nth, calls;
	struct http_lines l;
	size_t i;
	int rc, bad = 0;

	memset(pad, 'p', sizeof(pad));
	must(buf_reserve(&s.b, 1 << 16));
	for (nth = 1;; nth++) {
		http_lines_init(&l, 1 << 20);
		buf_reset(&s.b);
		fault_reset(nth);
		for (i = 0, rc = 0; i < ARRAY_SIZE(feeds) && !rc; i++)
			rc = http_lines_feed(&l, feeds[i], strlen(feeds[i]), collect, &s);
		for (i = 0; i < 4 && !rc; i++) /* grow the held tail past its first size */
			rc = http_lines_feed(&l, pad, sizeof(pad), collect, &s);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += rc != 0 || http_lines_pending(&l) != 7 + 4 * sizeof(pad);
			http_lines_free(&l);
			break;
		}
		bad += rc != -ENOMEM;
		bad += http_lines_feed(&l, "\n", 1, collect, &s) != -ENOMEM;
		http_lines_free(&l);
	}
	ok(bad == 0 && nth > 3, "lines: -ENOMEM at every allocation, sticky, no leak");
	buf_free(&s.b);
}

/* ---- A whole watch response ----------------------------------------------------------- */

static const char *const events[] = {
	"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
	"{\"name\":\"web-0\",\"namespace\":\"default\",\"uid\":\"6f1c0f4e-3b8a-4d7e-9c2b-"
	"1a2b3c4d5e6f\",\"resourceVersion\":\"1001\",\"labels\":{\"app\":\"web\"}},\"spec\":"
	"{\"nodeName\":\"node-a\",\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\","
	"\"ports\":[{\"name\":\"http\",\"containerPort\":80,\"protocol\":\"TCP\"}]}]},"
	"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.1.5\",\"podIPs\":[{\"ip\":"
	"\"10.244.1.5\"}]}}}",
	"{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
	"{\"name\":\"web-0\",\"namespace\":\"default\",\"resourceVersion\":\"1002\","
	"\"annotations\":{\"note\":\"\\u003cb\\u003e \\u0026 \\ud83d\\ude00\"},\"labels\":"
	"{\"app\":\"web\",\"tier\":\"front\"}},\"spec\":{\"nodeName\":\"node-a\"},\"status\":"
	"{\"phase\":\"Running\",\"podIP\":\"10.244.1.5\"}}}",
	"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
	"{\"resourceVersion\":\"1050\",\"annotations\":{\"k8s.io/initial-events-end\":"
	"\"true\"}}}}",
	"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
	"\"status\":\"Failure\",\"message\":\"too old resource version: 1 (1050)\",\"reason\":"
	"\"Expired\",\"code\":410}}",
};

static void add_chunk(struct buf *b, const char *p, size_t n)
{
	if (buf_printf(b, "%zx\r\n", n) || buf_add(b, p, n) || buf_adds(b, "\r\n"))
		abort();
}

/* Head as the apiserver writes it, then events cut across chunks mid-line, like its flushes. */
static void build_watch(struct buf *raw, struct buf *want)
{
	struct buf body = BUF_INIT;
	size_t i, cut;

	for (i = 0; i < ARRAY_SIZE(events); i++) {
		must(buf_adds(&body, events[i]));
		must(buf_addc(&body, '\n'));
		must(buf_adds(want, events[i]));
		must(buf_addc(want, '\n'));
	}
	if (buf_adds(raw, valid[ARRAY_SIZE(valid) - 1].head))
		abort();
	cut = strlen(events[0]) + 1 + 40;
	add_chunk(raw, body.p, cut);                              /* ev1, half of ev2 */
	add_chunk(raw, body.p + cut, strlen(events[1]) - 40);     /* rest of ev2, no '\n' */
	cut += strlen(events[1]) - 40;
	add_chunk(raw, body.p + cut, 1);                          /* the '\n' alone */
	cut++;
	add_chunk(raw, body.p + cut, strlen(events[2]) + 20);     /* ev3, start of ev4 */
	cut += strlen(events[2]) + 20;
	add_chunk(raw, body.p + cut, body.len - cut);             /* the rest */
	if (buf_adds(raw, "0\r\n\r\n"))
		abort();
	buf_free(&body);
}

struct slicer {
	const size_t *cuts;  /* explicit slice ends, or NULL */
	size_t ncuts, i;
	uint32_t seed;       /* else pseudo-random sizes 1..max */
	size_t max;
};

static size_t next_end(struct slicer *s, size_t at, size_t n)
{
	if (s->cuts) {
		while (s->i < s->ncuts && s->cuts[s->i] <= at)
			s->i++;
		return s->i < s->ncuts ? s->cuts[s->i] : n;
	}
	s->seed ^= s->seed << 13;
	s->seed ^= s->seed >> 17;
	s->seed ^= s->seed << 5;
	return MIN(n, at + 1 + s->seed % s->max);
}

/* What the API client does: read, parse the head, then de-chunk and frame the rest. */
static int run_watch(const char *raw, size_t n, struct slicer *sl, struct sink *s,
		     size_t *after)
{
	struct http_header hs[MAXH];
	struct http_response r;
	struct http_chunked ch;
	struct http_lines l;
	size_t have = 0, prev = 0, from, got;
	ssize_t rc = -2;
	int head = -2, lrc = 0;

	http_response_init(&r, hs, MAXH);
	while (head == -2 && have < n) {
		struct gcopy g;

		have = next_end(sl, have, n);
		head = parse_g(&g, raw, have, prev, &r, NULL);
		gfree(&g);
		prev = have;
	}
	if (head < 0 || r.status != 200 || r.body != HTTP_BODY_CHUNKED || !r.keep_alive)
		return -100;
	http_chunked_init(&ch);
	http_lines_init(&l, 4096);
	buf_reset(&s->b);
	s->lines = 0;
	for (from = (size_t)head; rc == -2 && !lrc && from < n; from = have) {
		char *g;

		if (have == from)
			have = next_end(sl, from, n);
		g = guard_copy(raw + from, have - from);
		rc = http_chunked_feed(&ch, g, g, have - from, &got, NULL);
		if (rc != -1 && got)
			lrc = http_lines_feed(&l, g, got, collect, s);
		guard_free(g, have - from);
	}
	*after = rc >= 0 ? (size_t)rc + (n - have) : 0;
	if (http_lines_pending(&l))
		lrc = -200;
	http_lines_free(&l);
	return lrc ? lrc : rc >= 0 ? 0 : (int)rc;
}

static void test_watch_stream(void)
{
	struct buf raw = BUF_INIT, want = BUF_INIT;
	struct sink s = { BUF_INIT, 0, 0, NULL, NULL, 0 };
	struct slicer sl;
	size_t i, after, cut;
	int rc, bad = 0;
	uint32_t seed;

	build_watch(&raw, &want);
	sl = (struct slicer){ .cuts = NULL, .seed = 1, .max = 1 << 20 };
	rc = run_watch(raw.p, raw.len, &sl, &s, &after);
	ok(rc == 0 && after == 0 && s.lines == 4 && !strcmp(s.b.p, want.p),
	   "watch: one read, four events");
	for (i = 1; i < raw.len; i++) {
		cut = i;
		sl = (struct slicer){ .cuts = &cut, .ncuts = 1 };
		rc = run_watch(raw.p, raw.len, &sl, &s, &after);
		bad += rc != 0 || after != 0 || s.lines != 4 || strcmp(s.b.p, want.p);
	}
	is_int(bad, 0, "watch: every split point");
	for (seed = 1, bad = 0; seed <= 300; seed++) {
		sl = (struct slicer){ .seed = seed * 2654435761u, .max = seed % 3 ? 7 : 300 };
		rc = run_watch(raw.p, raw.len, &sl, &s, &after);
		bad += rc != 0 || after != 0 || s.lines != 4 || strcmp(s.b.p, want.p);
	}
	is_int(bad, 0, "watch: 300 random slicings");
	sl = (struct slicer){ .seed = 7, .max = 1 };
	rc = run_watch(raw.p, raw.len, &sl, &s, &after);
	ok(rc == 0 && !strcmp(s.b.p, want.p), "watch: byte by byte");

	/* the next response on the same connection starts right after the last chunk */
	if (buf_adds(&raw, "HTTP/1.1 200 OK\r\n"))
		abort();
	sl = (struct slicer){ .seed = 99, .max = 64 };
	rc = run_watch(raw.p, raw.len, &sl, &s, &after);
	ok(rc == 0 && after == 17, "watch: bytes after the body reported for reuse");

	/* the connection drops mid-event: the framer holds a partial line */
	sl = (struct slicer){ .seed = 5, .max = 50 };
	rc = run_watch(raw.p, raw.len - 17 - 5 - 30, &sl, &s, &after);
	is_int(rc, -200, "watch: truncated stream leaves a pending line");
	buf_free(&raw);
	buf_free(&want);
	buf_free(&s.b);
}

int main(void)
{
	test_request_goldens();
	test_request_refused();
	test_request_limits();
	test_query();
	test_valid_heads();
	test_malformed_heads();
	test_head_misc();
	test_head_limits();
	test_retry_dates();
	test_chunked_tables();
	test_chunked_misc();
	test_lines();
	test_lines_huge();
	test_lines_enomem();
	test_watch_stream();
	return tap_done();
}
