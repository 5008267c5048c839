/* SPDX-License-Identifier: MIT */
/*
 * k8s.h: the Kubernetes API client: HTTPS requests on non-blocking sockets, driven by the
 * agent's event loop (io/ev.h).
 *
 * Connections are kept alive (HTTP/1.1): a request whose response ended cleanly (framed body
 * read to its end, no "Connection: close", nothing past it) leaves its connection idle, and
 * the next request to the same server (host, port, TLS name) reuses the most recent one
 * instead of a new TCP connection and TLS handshake; a relist (LIST pages, then a WATCH, per
 * resource) then runs on one connection. A watch may start on an idle connection but never
 * leaves one behind. At most 4 idle connections per client (the oldest is closed first), each
 * closed after 60 s unused (k8s_client_set_idle_ms) or as soon as the server closes it. Idle
 * connections keep fds and a timer in the loop, so ev_run() does not return while one is
 * left: k8s_client_free() closes them.
 *
 * Retry: a request on a reused connection that fails before any byte of its response came
 * (the server closed the idle connection as we took it, RFC 9112 §9.3.1) is sent again,
 * once, on a new connection, and the caller sees one request. GET and HEAD are retried
 * after any such failure but a timeout or -ENOMEM: sending them twice is harmless. Any other
 * method (PATCH) only when nothing at all came back: the write failed, or the socket was
 * closed or reset with not even a TLS alert or close_notify read. That is the closing race;
 * a server that read the PATCH and then died without a word is the rare case where it is
 * applied twice, which a merge or strategic-merge patch of the same fields survives.
 *
 * The client knows HTTP, TLS and credentials, not Kubernetes semantics: the caller builds the
 * path (resource, query) and reads statuses and bodies (flow/watch.c turns them into a
 * reflector). Callbacks run from the event loop; none is ever called from inside the
 * function that started the request, so a caller may start, and cancel, from any callback.
 *
 * Secrets: the bearer token and client key are never logged, never put in an error message,
 * and are wiped from memory before it is freed.
 *
 * Costs: a DNS name is resolved with a blocking getaddrinfo() per new connection (an IP
 * literal is not looked up); the CA is parsed once per TLS name (a few names are cached), not
 * per request.
 */
#ifndef VIRGIL_K8S_H
#define VIRGIL_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "tls.h"

struct ev;
struct ebuf;
struct http_response;

struct k8s_server {
	char host[256];     /* IP literal (no brackets) or DNS name: connect() target, Host header */
	uint16_t port;
	char tls_name[256]; /* the name the certificate must carry; "" = host */
};

struct k8s_auth {
	const char *token_file;  /* bearer token file, re-read at most once a minute, and on the
				  * next request after k8s_token_stale() (a 401) */
	const char *token;       /* fixed bearer token (kubeconfig); token_file wins when both */
	struct tls_source ca;    /* verifies the server; required */
	struct tls_source cert;  /* optional client certificate and key (kubeconfig) */
	struct tls_source key;
};

struct k8s_client;
struct k8s_req;

/*
 * Copies what it needs from auth: the token file's path, the fixed token, and the CA, client
 * certificate and key, which are read into memory here, once (a rotated CA or client key
 * needs a new client). 0, or -EINVAL (no CA, a certificate without its key, a token with
 * bytes a header cannot carry), -ENOENT and the like for a file, -ENOMEM; eb says which.
 */
int k8s_client_new(struct ev *ev, const struct k8s_auth *auth, struct k8s_client **out,
		   struct ebuf *eb) __must_check;
/* Cancels every request still running (their done callbacks are not called) and closes the
 * idle connections. NULL-safe. Not from inside a callback of one of its requests. */
void k8s_client_free(struct k8s_client *c);
/* The server for requests started from now on; running requests keep theirs. */
void k8s_client_set_server(struct k8s_client *c, const struct k8s_server *s);
const struct k8s_server *k8s_client_server(const struct k8s_client *c);
/*
 * Re-read the token file before the next request (call on a 401). The file is also re-read
 * after a minute; if that periodic re-read fails the current token is kept (as client-go
 * does), but a failed first read, or re-read after this call, fails the request.
 */
void k8s_token_stale(struct k8s_client *c);

struct k8s_req_opts {
	const char *method;       /* "GET", "PATCH", ... */
	const char *path;         /* origin-form target, query included and already encoded */
	const char *content_type; /* for a body; NULL otherwise */
	const void *body;
	size_t body_len;
	bool stream;              /* deliver the body line by line (watch); else whole */
	uint32_t connect_ms;      /* connect + TLS handshake bound; 0 = 10 s */
	uint32_t idle_ms;         /* no byte received for this long ends the request; 0 = 60 s */
	size_t max_body;          /* whole-body (or one line) limit; 0 = 64 MiB */
	const struct k8s_server *server; /* NULL = the client's current server (discovery probes
					  * name their candidate here) */
};

struct k8s_req_ops {
	/* Status line and headers. Return < 0 to end the request (done then gets that value).
	 * r and the views in it live only during the call. Any status lands here: a 401 or a
	 * 410 is a response, not an error; its body follows as for a 200. */
	int (*head)(void *ctx, const struct http_response *r);
	/* stream: one complete line of the body, without its "\n" (and a "\r" before it)
	 * (watch events). The unterminated tail of a body that ended cleanly counts as a line.
	 * The view lives only during the call. < 0 ends the request like head's. */
	int (*line)(void *ctx, const char *p, size_t n);
	/* not stream: the whole body, once, also when it is empty; may be NULL. < 0 as above.
	 * A body without framing (neither Content-Length nor chunked) counts as whole only when
	 * the server ends it with TLS close_notify; otherwise done gets -ECONNRESET. */
	int (*body)(void *ctx, const char *p, size_t n);
	/*
	 * not stream, optional: the body as it arrives, decoded from its framing, in pieces split
	 * anywhere (a LIST fed to an incremental parser, so no body is held whole). When set,
	 * body is not called; max_body bounds the total. Return < 0 to end the request.
	 */
	int (*chunk)(void *ctx, const char *p, size_t n);
	/*
	 * Exactly once, last: 0 after a complete response, else -errno with a reason for the
	 * log: -ETIMEDOUT (connect or idle bound), -ECONNREFUSED, -ECONNRESET (closed early),
	 * -EKEYREJECTED (certificate refused), -EPROTO (TLS or HTTP violation), -EMSGSIZE (over
	 * max_body), or a callback's own negative value; before connecting: the token file's
	 * -errno or -EINVAL (empty or unusable token, CA the TLS library refused),
	 * -EHOSTUNREACH (name not resolved), -EDESTADDRREQ (no server set), -ENOMEM.
	 * why is "" after success, and never holds the token. The request
	 * is freed after it returns; k8s_cancel() from inside done does nothing.
	 */
	void (*done)(void *ctx, int err, const char *why);
};

/*
 * Start a request. *out (may be NULL) can be passed to k8s_cancel() until done runs.
 * 0: started, and done runs exactly once, later, from the loop (unless cancelled): every
 * failure after this point, from an unreadable token file or a bad CA to a refused
 * connection, is reported there. -EINVAL (no method, path or done; stream without line;
 * body_len without body) or -ENOMEM: nothing started, done never runs, *out is NULL.
 */
int k8s_request(struct k8s_client *c, const struct k8s_req_opts *o, const struct k8s_req_ops *ops,
		void *ctx, struct k8s_req **out) __must_check;
/* Stop a running request at once; its done callback is not called. NULL-safe. Safe from
 * inside any callback, that request's own included (its memory is freed on return). */
void k8s_cancel(struct k8s_req *r);

/* Requests started since the client was made, for metrics and tests. */
uint64_t k8s_requests_started(const struct k8s_client *c);
/* TCP connections opened (connect() started, retries and failed attempts included) since
 * the client was made: k8s_requests_started() minus this is what keep-alive saved. */
uint64_t k8s_connections_opened(const struct k8s_client *c);
/*
 * For tests and tuning: close idle connections after ms unused instead of 60 s; 0 keeps none
 * (closes those idle now, and every later one as its response ends). Applies to connections
 * already idle too.
 */
void k8s_client_set_idle_ms(struct k8s_client *c, uint32_t ms);

#endif
