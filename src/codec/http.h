/* SPDX-License-Identifier: MIT */
/*
 * http.h: the HTTP/1.1 wire format our Kubernetes API client speaks (RFC 9110, RFC 9112): a
 * request writer, an incremental response-head parser, an incremental chunked-body decoder and
 * a line framer for watch streams. Pure codec: no I/O, no clock (the caller passes "now"), no
 * globals; only the writer and the framer allocate, through a struct buf.
 *
 * Contract of the two parsers, after picohttpparser: a call returns what it consumed (>= 0),
 * -1 when the input is malformed (the ebuf, which may be NULL, says why and at which byte
 * offset), or -2 when the input is a valid prefix and more bytes are needed. -1 is final:
 * feeding more never makes malformed input valid. Everything else returns 0 or -errno.
 *
 * Policy: we accept what a kube-apiserver (Go net/http) sends and reject what could smuggle a
 * second message past us: lines end in CRLF (a bare CR or LF is an error), obsolete line
 * folding, whitespace before a colon, differing Content-Length values, Transfer-Encoding
 * together with Content-Length or in an HTTP/1.0 response, and any transfer coding other than
 * a single final "chunked" (we never ask for gzip, so we cannot decode it) are all errors.
 */
#ifndef VIRGIL_HTTP_H
#define VIRGIL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../base/buf.h"
#include "../base/compat.h"
#include "../base/str.h"

struct ebuf;

/* A header: a view of its name and of its value (without surrounding whitespace). */
struct http_header {
	struct str name;
	struct str value;
};

/* ---- Requests ------------------------------------------------------------------------- */

struct http_request {
	const char *method;   /* "GET", "PATCH", ...: an RFC 9110 token */
	const char *target;   /* origin-form: "/api/v1/pods?watch=1", already percent-encoded */
	const char *host;     /* Host header: "10.96.0.1:6443", "[fd00::1]:443", a DNS name */
	const char *version;  /* ours, sent as "User-Agent: virgil/<version>" */
	const struct http_header *headers; /* extra headers, written in this order */
	size_t nheaders;
	const void *body;     /* NULL: no body and no Content-Length; else body_len bytes */
	size_t body_len;
};

/*
 * Append one request to b: the request line, Host, User-Agent, "Accept: application/json",
 * the caller's headers, Content-Length when body is not NULL, the blank line and the body.
 * We never send Accept-Encoding or Transfer-Encoding, so responses come unencoded.
 * Returns 0, -EINVAL (a NULL or malformed method, target, host or version; a header name that
 * is not a token; a value holding CR, LF, NUL or another control character; a header we write
 * ourselves: Host, User-Agent, Accept, Accept-Encoding, Content-Length, Transfer-Encoding),
 * -ENOMEM or -EMSGSIZE. On error b is unchanged. The whole request is sized first and
 * reserved in one step, so an Authorization value is copied into b exactly once and no
 * reallocation leaves stale copies behind: the caller wipes b when done.
 */
int http_write_request(struct buf *b, const struct http_request *req) __must_check;

/*
 * Percent-encode p[0..n) onto b: the RFC 3986 unreserved bytes (A-Z a-z 0-9 - . _ ~) as they
 * are, every other byte (any value, NUL included) as %XX with upper-case hex. Fit for query
 * names and values such as resourceVersion and continue tokens, which are opaque.
 * 0, -ENOMEM or -EMSGSIZE; b is unchanged on error.
 */
int http_pct_encode(struct buf *b, const void *p, size_t n) __must_check;

/*
 * Append one query parameter to the target in b: '?' if b holds no '?' yet, else '&', then
 * name=value, both percent-encoded. 0, -ENOMEM or -EMSGSIZE; b is unchanged on error.
 */
int http_query_add(struct buf *b, const char *name, const void *val, size_t n) __must_check;

/* ---- Response head -------------------------------------------------------------------- */

#define HTTP_MAX_HEAD (64u << 10)  /* default limit on the whole head, blank line included */
#define HTTP_MAX_LINE (16u << 10)  /* default limit on one line, CRLF not counted */
#define HTTP_RETRY_AFTER_MAX 0x7fffffff /* larger Retry-After values are clamped to this */

/* How the body that follows a head is delimited. */
enum http_body {
	HTTP_BODY_NONE,     /* 1xx, 204, 304: no body whatever the headers say */
	HTTP_BODY_LENGTH,   /* exactly content_length bytes (maybe 0) */
	HTTP_BODY_CHUNKED,  /* feed it to http_chunked_feed() */
	HTTP_BODY_CLOSE,    /* no framing: the body runs until the server closes */
};

struct http_response {
	/* Set by http_response_init(); the caller may change the limits afterwards. */
	struct http_header *headers; /* the caller's array, filled in order of arrival */
	size_t max_headers;          /* its size: more headers is an error (32 is ample) */
	size_t max_head;             /* head size limit in bytes (INT_MAX at most counts) */
	size_t max_line;             /* line length limit in bytes (max_head at most counts) */

	/* Filled by a successful http_parse_response(). */
	size_t nheaders;
	int minor;                   /* HTTP/1.<minor> */
	int status;                  /* 100..599 */
	struct str reason;           /* may be empty */
	enum http_body body;
	int64_t content_length;      /* -1 when absent */
	bool chunked;                /* Transfer-Encoding: chunked */
	bool keep_alive;             /* the connection may carry another request after this body */
	int64_t retry_after;         /* seconds from "now", >= 0; -1 absent or not understood */
	struct str content_type;     /* the first Content-Type, empty when absent */
};

/* Point r at the caller's header array and set the default limits. */
void http_response_init(struct http_response *r, struct http_header *headers, size_t max);

/*
 * Parse the response head at the start of p[0..n) into r. Returns the head's length (bytes
 * consumed: status line, header lines and the blank line; the body starts at p + return), -1
 * when malformed or over a limit, -2 when incomplete. On -1 and -2 the output fields of r are
 * unspecified. Views in r (reason, header names and values, content_type) point into p: they
 * live as long as those bytes stay where they are, so after the buffer moves or is refilled,
 * parse again.
 *
 * Call again with the grown buffer after -2. prev_len is the n of that earlier call (0 the
 * first time, or always): the new call then only looks for the end of the head in the new
 * bytes and returns -2 at once if it is not there, so feeding a head in small pieces stays
 * linear. The price is that errors in a head fed that way surface when a blank line (CRLF or
 * bare LF) arrives or the head passes max_head; with prev_len 0, errors surface as soon as
 * their line is complete, or for a line over max_line or a peer that does not start with
 * "HTTP/1.", as soon as that is certain.
 *
 * Derived fields follow RFC 9112 §6.3: Content-Length may repeat (as headers or as a list) only
 * with one value; keep_alive is the HTTP/1.1 default unless "Connection: close", or for
 * HTTP/1.0 only with "Connection: keep-alive", and never for HTTP_BODY_CLOSE. Retry-After is
 * delta-seconds or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") taken relative to now
 * (Unix seconds), clamped to 0..HTTP_RETRY_AFTER_MAX; the obsolete RFC 850 and asctime forms
 * (Go never sends them) and garbage give -1 but do not fail the response. The first
 * Retry-After and Content-Type count. A 1xx status is an interim response:
 * the real one follows it. The caller of a HEAD request must ignore the body fields.
 */
int http_parse_response(const char *p, size_t n, size_t prev_len, int64_t now,
			struct http_response *r, struct ebuf *eb) __must_check;

/* First header named name (ASCII case-insensitive), or NULL. */
const struct http_header *http_find(const struct http_response *r, const char *name);

/* ---- Chunked bodies ------------------------------------------------------------------- */

#define HTTP_CHUNK_LINE_MAX 4096     /* a chunk-size line or a trailer line */
#define HTTP_TRAILER_MAX (16u << 10) /* the whole trailer section */

/* Decoder state: plain data, no allocation, no teardown. One per body; init it first. */
struct http_chunked {
	uint64_t left;   /* data bytes left in the current chunk, or the size being read */
	uint64_t off;    /* body bytes fed so far, for error messages */
	size_t line;     /* bytes of the current size or trailer line so far */
	size_t trailer;  /* bytes of the trailer section so far */
	int state;
	bool digits;     /* the size line has a digit */
};

void http_chunked_init(struct http_chunked *c);

/*
 * Decode the next slice in[0..n) of a chunked body. Slices may be split anywhere. The chunk
 * data is written to out, which has room for n bytes (out == in decodes in place; any other
 * overlap is not allowed), and its length is stored in *outn (also on -1: data decoded before the error). Chunk
 * extensions are ignored; trailer fields are checked for framing and dropped. Returns:
 *   -2   every byte consumed, the body goes on: feed the next slice;
 *   >= 0 the body ended in this slice; the value is how many bytes at the end of in (at
 *        in + n - value, untouched even in place) are past it and belong to the next response;
 *   -1   malformed (bad size, size over 2^62, missing CRLF, overlong line or trailer).
 * After the end every further call returns n (all of it is past the end); after -1, -1.
 */
ssize_t http_chunked_feed(struct http_chunked *c, char *out, const char *in, size_t n,
			  size_t *outn, struct ebuf *eb) __must_check;

/* The terminating zero-size chunk and the trailer section have been consumed. */
bool http_chunked_done(const struct http_chunked *c);

/* ---- Lines (watch streams) ------------------------------------------------------------ */

/*
 * Called once per complete line: the bytes before its '\n', without one '\r' right before it.
 * The view is valid only during the call, which must not feed the same framer. A nonzero
 * return (a -errno, by convention) stops http_lines_feed(), which returns it; the framer is
 * then spent (every later feed returns the same value).
 */
typedef int (*http_line_fn)(void *ctx, const char *line, size_t n);

struct http_lines {
	struct buf held;  /* the unterminated tail carried to the next feed */
	size_t max;
	int err;
};

/*
 * max bounds one line: the bytes before its '\n' ('\r' included). Watch events are single
 * JSON objects of up to several MiB, so the caller picks it. At most max bytes are held (in a
 * buffer that grows by doubling and is released after a line over 64 KiB).
 */
void http_lines_init(struct http_lines *l, size_t max);

/*
 * Feed body bytes; fn runs for each line they complete. Each byte is searched once and copied
 * at most once (a line split across feeds is gathered in a buffer; whole lines are passed from
 * p without copying), so the cost is linear however the stream is sliced. Returns 0, -E2BIG (a
 * line, complete or not, passed max), -ENOMEM, or fn's nonzero return. Errors are sticky.
 */
int http_lines_feed(struct http_lines *l, const char *p, size_t n, http_line_fn fn, void *ctx)
	__must_check;

/* Bytes of an unterminated last line held: nonzero at the end of a stream means truncation. */
size_t http_lines_pending(const struct http_lines *l);

/* Release the held tail; l may be reused after http_lines_init(). NULL-safe. */
void http_lines_free(struct http_lines *l);

#endif
