/* SPDX-License-Identifier: MIT */
/*
 * k8s_int.h: private to the Kubernetes API client (io/k8s.c, io/k8s_req.c, io/k8s_pool.c);
 * nothing else includes it. It holds the client and request structures these files reach
 * into, and the few functions one file calls in another: k8s.c owns the credentials, the TLS
 * configuration cache and starting a request; k8s_req.c owns the request's connection state
 * machine from connect to done, and its teardown; k8s_pool.c owns the idle connections kept
 * for the next request to the same server.
 */
#ifndef VIRGIL_K8S_INT_H
#define VIRGIL_K8S_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../codec/http.h"
#include "k8s.h"

#define K8S_ADDRS 4        /* addresses of a DNS name tried in turn */
#define K8S_HEADERS 64
#define K8S_RBUF 16384     /* one TLS record */
#define K8S_POOL_MAX 4     /* idle connections kept per client */
#define K8S_POOL_IDLE_MS 60000

/* Bytes we own; size covers all that ever held data (what was allocated, less for a file
 * that shrank while read), so a trimmed secret is still wiped whole. */
struct k8s_blob {
	char *p;
	size_t len;
	size_t size;
};

struct k8s_tlsent {
	struct k8s_tlsent *next;
	struct tls_config *cfg;
	unsigned refs;
	char name[sizeof(((struct k8s_server *)0)->tls_name)];
};

/*
 * An idle connection (k8s_pool.c); a slot is free when tls is NULL. It holds a reference to
 * the TLS configuration its session was made with, which must outlive the session. key is
 * the server it talks to, with tls_name filled in (as k8s_req.srv).
 */
struct k8s_idle {
	struct k8s_client *c;
	int fd;
	struct tls_conn *tls;
	struct k8s_tlsent *ent;
	uint64_t since;		/* ev_now() when parked */
	uint64_t seq;		/* parking order: higher is more recent */
	struct k8s_server key;
};

struct k8s_client {
	struct ev *ev;
	struct k8s_server server;
	char *token_file;
	struct k8s_blob token_fixed;
	struct k8s_blob token;	/* last read from token_file */
	uint64_t token_at;	/* ev_now() of that read */
	bool token_stale;
	struct k8s_blob ca, cert, key;
	struct k8s_tlsent *tls;	/* most recently used first */
	struct k8s_req *reqs;
	uint64_t started;
	uint64_t opened;	/* TCP connections opened (connect() started) */
	struct k8s_idle pool[K8S_POOL_MAX];
	uint64_t pool_seq;
	uint64_t pool_timer;	/* armed while the pool holds a connection */
	uint32_t pool_idle_ms;
};

enum k8s_phase { K8S_PH_CONNECT, K8S_PH_HANDSHAKE, K8S_PH_WRITE, K8S_PH_HEAD, K8S_PH_BODY };

struct k8s_req {
	struct k8s_client *c;
	struct k8s_req *prev, *next;
	struct k8s_req_ops ops;
	void *ctx;
	struct k8s_tlsent *ent;
	struct tls_conn *tls;
	int fd;
	enum k8s_phase phase;
	bool stream;
	bool is_head;		/* a HEAD request: the response's framing describes no body */
	bool dead;		/* done has run (or runs) or it was cancelled: no more calls out */
	bool cb_stop;		/* a line or chunk callback ended it */
	bool safe;		/* GET or HEAD: may be sent twice (see k8s_req_retry) */
	bool reused;		/* the connection came from the pool */
	bool retried;		/* the one retry on a new connection is spent */
	bool got;		/* a byte of the response arrived */
	bool spoke;		/* the failure was something the server sent, not a plain close */
	bool extra;		/* bytes past the response were read: the connection is spent */
	unsigned busy;		/* handler frames on the stack: freed only at 0 */
	int fail;		/* what k8s_request met, reported by the 0 ms timer */
	uint64_t timer;		/* connect bound, then idle bound, or the deferred failure */
	uint32_t connect_ms, idle_ms;
	size_t max_body;
	size_t delivered;	/* body bytes handed to the chunk callback */
	struct k8s_server srv;	/* where it goes; tls_name filled in (the pool's key) */
	struct sockaddr_storage addr[K8S_ADDRS];
	socklen_t alen[K8S_ADDRS];
	unsigned naddr, ai;
	char what[96];		/* "GET /api/v1/pods" for debug lines */
	struct buf out;		/* the request, token included: wiped once written, or on a
				 * reused connection once the response starts (for a retry) */
	size_t out_off;
	struct buf head;
	size_t head_prev;
	struct http_response resp;
	struct http_header hdr[K8S_HEADERS];
	int64_t left;		/* Content-Length bytes still to come */
	struct http_chunked ch;
	struct http_lines lines;
	struct buf body;
	struct ebuf eb;
	char rbuf[K8S_RBUF];
};

/* k8s.c: give back a request's reference to its TLS configuration (may free idle ones). */
void k8s_cfg_put(struct k8s_client *c, struct k8s_tlsent *e);
/* k8s.c: open a new connection for r: resolve r->srv unless done, take its TLS configuration
 * unless held, connect (k8s_req_connect). 0, or -errno with r->eb saying why. */
int k8s_req_dial(struct k8s_req *r);

/* k8s_req.c */
/* Connect to r->addr[r->ai] or the next address that takes it; POLLOUT then tells whether the
 * connection was made. 0, or err (or the last address's -errno) when none is left; r->eb says
 * why. */
int k8s_req_connect(struct k8s_req *r, int err);
/* Close the TLS session and the socket, if any; idempotent. */
void k8s_req_close(struct k8s_req *r);
/* The request's one timer (ev.h callback): connect or idle bound, or a failure that
 * k8s_request() met and reports from the loop through r->fail. */
void k8s_req_timer(struct ev *ev, uint64_t id, void *ctx);
/* Take an idle connection to r->srv from the pool, if there is a live one, and wait to
 * write the request on it. false: none (r unchanged), dial a new one. */
bool k8s_req_reuse(struct k8s_req *r);

/* k8s_pool.c */
/* Keep a connection whose last response ended cleanly, for the next request to key. Takes
 * fd (not registered in the loop) and tls whatever happens: closes them when it cannot keep
 * them; takes its own reference to ent. Evicts the oldest idle connection when full. */
void k8s_pool_put(struct k8s_client *c, const struct k8s_server *key, int fd,
		  struct tls_conn *tls, struct k8s_tlsent *ent);
/* The most recently parked live connection to key, no longer registered in the loop: its fd,
 * session and configuration reference are the caller's. Stale ones met on the way (expired,
 * readable, hung up) are closed. false when none. */
bool k8s_pool_take(struct k8s_client *c, const struct k8s_server *key, int *fd,
		   struct tls_conn **tls, struct k8s_tlsent **ent);
/* Close every idle connection (client teardown). */
void k8s_pool_clear(struct k8s_client *c);

#endif
