// SPDX-License-Identifier: MIT
/*
 * k8s_req.c: one Kubernetes API request's connection, once k8s.c started it (see k8s.h):
 * connect to each resolved address in turn, TLS handshake, write the request, read the head,
 * read the body by its framing and hand it to the caller whole or line by line; the connect
 * and idle timers, cancelling, and the teardown that frees the request. A connection starts
 * from the pool (k8s_pool.c) when one is idle, goes back to it when the response ended
 * cleanly, and a reused one that fails before the response is replaced once (see k8s.h).
 *
 * Every step after k8s_request() runs from the event loop. Callbacks may cancel the request
 * they belong to: a request is only freed when no handler frame of it is on the stack
 * (busy == 0), and every step checks "dead" after calling out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../codec/http.h"
#include "ev.h"
#include "k8s.h"
#include "k8s_int.h"

/* ---- request teardown -------------------------------------------------------------------- */

static void buf_wipe(struct buf *b)
{
	if (b->p)
		explicit_bzero(b->p, b->cap);
	buf_free(b);
}

void k8s_req_close(struct k8s_req *r)
{
	int e;

	tls_conn_free(r->tls);
	r->tls = NULL;
	if (r->fd >= 0) {
		e = ev_fd_del(r->c->ev, r->fd);	/* registered since connect() */
		(void)e;
		close(r->fd);
		r->fd = -1;
	}
}

/* Everything but the memory a callback on the stack may still be reading. */
static void req_teardown(struct k8s_req *r)
{
	r->dead = true;
	if (r->timer)
		ev_timer_cancel(r->c->ev, r->timer);
	r->timer = 0;
	k8s_req_close(r);
	if (r->ent)
		k8s_cfg_put(r->c, r->ent);
	r->ent = NULL;
	if (r->prev)
		r->prev->next = r->next;
	else
		r->c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	buf_wipe(&r->out);
}

static void req_free(struct k8s_req *r)
{
	buf_wipe(&r->out);
	buf_free(&r->head);
	buf_free(&r->body);
	http_lines_free(&r->lines);
	mem_free(r);
}

/* Leave a handler: the request may have ended inside it. */
static void req_leave(struct k8s_req *r)
{
	if (--r->busy == 0 && r->dead)
		req_free(r);
}

static void req_finish(struct k8s_req *r, int err, const char *why)
{
	if (r->dead)
		return;
	req_teardown(r);
	log_debug("k8s: %s: %s", r->what, err ? why : "complete");
	r->busy++;
	r->ops.done(r->ctx, err, err ? why : "");
	r->busy--;
}

void k8s_cancel(struct k8s_req *r)
{
	if (!r || r->dead)
		return;
	req_teardown(r);
	if (!r->busy)
		req_free(r);
}

/* ---- body delivery ----------------------------------------------------------------------- */

static int req_line(void *ctx, const char *p, size_t n)
{
	struct k8s_req *r = ctx;
	int rc = r->ops.line(r->ctx, p, n);

	if (r->dead)
		return -ECANCELED;
	if (rc < 0) {
		ebuf_set(&r->eb, "stopped by the line callback");
		r->cb_stop = true;
		return rc;
	}
	return 0;
}

static int req_lines(struct k8s_req *r, const char *p, size_t n)
{
	int rc = http_lines_feed(&r->lines, p, n, req_line, r);

	if (!rc || r->dead || r->cb_stop)
		return rc;
	if (rc == -E2BIG) {
		ebuf_set(&r->eb, "a line longer than %zu bytes", r->max_body);
		return -EMSGSIZE;
	}
	ebuf_set(&r->eb, "body: %s", strerror(-rc));
	return rc;
}

/* Chunk mode: hand the bytes on as they come, counting them against max_body. */
static int req_chunk(struct k8s_req *r, const char *p, size_t n)
{
	int rc;

	r->delivered += n;
	if (r->delivered > r->max_body) {
		ebuf_set(&r->eb, "body longer than %zu bytes", r->max_body);
		return -EMSGSIZE;
	}
	rc = r->ops.chunk(r->ctx, p, n);
	if (r->dead)
		return -ECANCELED;
	if (rc < 0) {
		ebuf_set(&r->eb, "stopped by the chunk callback");
		r->cb_stop = true;
	}
	return rc < 0 ? rc : 0;
}

static int req_deliver(struct k8s_req *r, const char *p, size_t n)
{
	int rc;

	if (!n)
		return 0;
	if (r->stream)
		return req_lines(r, p, n);
	if (r->ops.chunk)
		return req_chunk(r, p, n);
	rc = buf_add(&r->body, p, n);
	if (rc == -EMSGSIZE)
		ebuf_set(&r->eb, "body longer than %zu bytes", r->max_body);
	else if (rc)
		ebuf_set(&r->eb, "body: out of memory");
	return rc;
}

/*
 * The response ended cleanly: keep the connection for the next request unless the server
 * said close, or sent more than this response (we would be out of step with it), or this is
 * a watch (kept for minutes, it ends on a timeout or a failure). Parked before the body
 * callback runs, so a request started from inside it can take the connection.
 */
static void req_park(struct k8s_req *r)
{
	int e;

	if (r->stream || !r->resp.keep_alive || r->extra || tls_pending(r->tls))
		return;
	e = ev_fd_del(r->c->ev, r->fd);
	(void)e;
	k8s_pool_put(r->c, &r->srv, r->fd, r->tls, r->ent);
	r->fd = -1;
	r->tls = NULL;
	r->ent = NULL;
}

/* The body ended cleanly: an unterminated last line still is one. */
static int req_complete(struct k8s_req *r)
{
	int rc;

	req_park(r);
	if (r->stream && http_lines_pending(&r->lines)) {
		rc = req_lines(r, "\n", 1);
		if (rc || r->dead)
			return rc;
	}
	if (!r->stream && r->ops.body && !r->ops.chunk) {
		rc = r->ops.body(r->ctx, r->body.p ? r->body.p : "", r->body.len);
		if (r->dead)
			return 0;
		if (rc < 0) {
			ebuf_set(&r->eb, "stopped by the body callback");
			return rc;
		}
	}
	req_finish(r, 0, NULL);
	return 0;
}

/* Body bytes by the response's framing; p is ours to decode in place. */
static int req_body(struct k8s_req *r, char *p, size_t n)
{
	size_t outn;
	ssize_t end;
	int rc;

	switch (r->resp.body) {
	case HTTP_BODY_LENGTH:
		if ((uint64_t)n > (uint64_t)r->left) {
			n = (size_t)r->left;
			r->extra = true;
		}
		r->left -= (int64_t)n;
		rc = req_deliver(r, p, n);
		return rc || r->dead || r->left ? rc : req_complete(r);
	case HTTP_BODY_CHUNKED:
		end = http_chunked_feed(&r->ch, p, p, n, &outn, &r->eb);
		if (end == -1) {
			ebuf_prefix(&r->eb, "chunked body");
			return -EPROTO;
		}
		r->extra = end > 0;
		rc = req_deliver(r, p, outn);
		return rc || r->dead || end < 0 ? rc : req_complete(r);
	default:
		return req_deliver(r, p, n);
	}
}

static int req_body_start(struct k8s_req *r)
{
	const struct http_response *h = &r->resp;

	if (h->body == HTTP_BODY_LENGTH) {
		r->left = h->content_length;
		if (!r->stream && (uint64_t)h->content_length > r->max_body) {
			ebuf_set(&r->eb, "body of %lld bytes is longer than %zu",
				 (long long)h->content_length, r->max_body);
			return -EMSGSIZE;
		}
	}
	http_chunked_init(&r->ch);
	if (r->stream)
		http_lines_init(&r->lines, r->max_body);
	r->body.max = r->max_body;
	/* a known length is allocated once, not grown by doubling */
	if (!r->stream && !r->ops.chunk && h->body == HTTP_BODY_LENGTH &&
	    buf_reserve(&r->body, (size_t)r->left)) {
		ebuf_set(&r->eb, "body: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int req_head_done(struct k8s_req *r, size_t hl)
{
	int rc = 0;

	r->phase = K8S_PH_BODY;
	if (r->ops.head) {
		rc = r->ops.head(r->ctx, &r->resp);
		if (r->dead)
			return 0;
		if (rc < 0) {
			ebuf_set(&r->eb, "stopped by the head callback (status %d)",
				 r->resp.status);
			return rc;
		}
	}
	if (r->is_head)
		r->resp.body = HTTP_BODY_NONE;
	rc = req_body_start(r);
	if (rc)
		return rc;
	if (r->resp.body == HTTP_BODY_NONE ||
	    (r->resp.body == HTTP_BODY_LENGTH && r->left == 0)) {
		r->extra = r->head.len > hl;
		rc = req_complete(r);
	} else if (r->head.len > hl) {
		rc = req_body(r, r->head.p + hl, r->head.len - hl);
	}
	buf_free(&r->head);	/* no view into it is held after the callbacks returned */
	return rc;
}

static int req_head(struct k8s_req *r, size_t n)
{
	int rc = buf_add(&r->head, r->rbuf, n);

	if (rc) {
		ebuf_set(&r->eb, "response head: out of memory");
		return rc;
	}
	for (;;) {
		rc = http_parse_response(r->head.p, r->head.len, r->head_prev, time(NULL),
					 &r->resp, &r->eb);
		if (rc == -2) {
			r->head_prev = r->head.len;
			return 0;
		}
		if (rc == -1) {
			ebuf_prefix(&r->eb, "response head");
			return -EPROTO;
		}
		if (r->resp.status >= 200)
			return req_head_done(r, (size_t)rc);
		/* an interim 1xx response: the real one follows it */
		memmove(r->head.p, r->head.p + rc, r->head.len - (size_t)rc);
		r->head.len -= (size_t)rc;
		r->head_prev = 0;
	}
}

/* ---- the connection ---------------------------------------------------------------------- */

static void addr_str(const struct sockaddr_storage *ss, char *s, size_t n)
{
	const struct sockaddr_in *a4 = (const void *)ss;
	const struct sockaddr_in6 *a6 = (const void *)ss;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
		snprintf(s, n, "%s:%u", ip, ntohs(a4->sin_port));
	} else {
		inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
		snprintf(s, n, "[%s]:%u", ip, ntohs(a6->sin6_port));
	}
}

static void req_io(struct ev *ev, int fd, unsigned revents, void *ctx);

static int sock_open(struct k8s_req *r, const struct sockaddr_storage *sa, socklen_t len)
{
	int one = 1, fd, rc;

	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* requests are written whole: no reason to wait for an ACK before the last segment */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r->c->opened++;
	if (connect(fd, (const struct sockaddr *)sa, len) < 0 && errno != EINPROGRESS &&
	    errno != EINTR) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = ev_fd_add(r->c->ev, fd, POLLOUT, req_io, r);
	if (rc) {
		close(fd);
		return rc;
	}
	r->fd = fd;
	return 0;
}

/* Connect to the next address that takes it (POLLOUT tells); err when none is left. */
int k8s_req_connect(struct k8s_req *r, int err)
{
	char a[INET6_ADDRSTRLEN + 8];
	int rc;

	for (; r->ai < r->naddr; r->ai++) {
		rc = sock_open(r, &r->addr[r->ai], r->alen[r->ai]);
		if (!rc)
			return 0;
		addr_str(&r->addr[r->ai], a, sizeof(a));
		ebuf_set(&r->eb, "connecting to %s: %s", a, strerror(-rc));
		err = rc;
		if (rc == -ENOMEM)
			break;
	}
	return err;
}

static int req_connected(struct k8s_req *r)
{
	socklen_t n = sizeof(int);
	char a[INET6_ADDRSTRLEN + 8];
	int err = 0;

	if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &n) < 0)
		err = errno;
	if (err) {
		addr_str(&r->addr[r->ai], a, sizeof(a));
		ebuf_set(&r->eb, "connecting to %s: %s", a, strerror(err));
		k8s_req_close(r);
		r->ai++;
		return k8s_req_connect(r, -err) ?: -EAGAIN;
	}
	r->tls = tls_conn_new(r->ent->cfg, r->fd, &r->eb);
	if (!r->tls)
		return -errno;
	r->phase = K8S_PH_HANDSHAKE;
	return 0;
}

static int req_handshake(struct k8s_req *r)
{
	int rc = tls_handshake(r->tls, &r->eb);

	if (rc)
		return rc;
	(void)ev_timer_reschedule(r->c->ev, r->timer, r->idle_ms);
	r->phase = K8S_PH_WRITE;
	return 0;
}

static int req_write(struct k8s_req *r)
{
	while (r->out_off < r->out.len) {
		ssize_t n = tls_write(r->tls, r->out.p + r->out_off, r->out.len - r->out_off,
				      &r->eb);

		if (n < 0)
			return (int)n;
		r->out_off += (size_t)n;
	}
	if (!r->reused)
		buf_wipe(&r->out);	/* else kept until the response starts, for a retry */
	r->phase = K8S_PH_HEAD;
	return 0;
}

static int req_eof(struct k8s_req *r, int n)
{
	if (n < 0 && n != -ECONNRESET)
		return n;
	/* only close_notify proves that a body without framing was not cut short */
	if (r->phase == K8S_PH_BODY && r->resp.body == HTTP_BODY_CLOSE && n == 0)
		return req_complete(r);
	ebuf_set(&r->eb, "connection closed%s before the end of the response %s",
		 n ? " without close_notify" : "", r->phase == K8S_PH_HEAD ? "head" : "body");
	return -ECONNRESET;
}

static int req_read(struct k8s_req *r)
{
	ssize_t n = tls_read(r->tls, r->rbuf, sizeof(r->rbuf), &r->eb);

	if (n == -EAGAIN)
		return -EAGAIN;
	if (n <= 0) {
		r->spoke = n == 0 || (n != -ECONNRESET && n != -EPIPE);
		return req_eof(r, (int)n);
	}
	if (!r->got)
		buf_wipe(&r->out);
	r->got = true;
	(void)ev_timer_reschedule(r->c->ev, r->timer, r->idle_ms);
	if (r->phase == K8S_PH_HEAD)
		return req_head(r, (size_t)n);
	return req_body(r, r->rbuf, (size_t)n);
}

/*
 * Run the request as far as the socket allows. Reading until -EAGAIN also drains what mbedtls
 * holds already decrypted (tls_pending()), which poll() would not report.
 */
static int req_run(struct k8s_req *r)
{
	int rc = 0;

	while (!rc && !r->dead) {
		if (r->phase == K8S_PH_HANDSHAKE)
			rc = req_handshake(r);
		else if (r->phase == K8S_PH_WRITE)
			rc = req_write(r);
		else
			rc = req_read(r);
	}
	if (r->dead)
		return 0;
	if (rc == -EAGAIN)
		rc = ev_fd_mod(r->c->ev, r->fd, (unsigned)tls_want(r->tls)) ?: -EAGAIN;
	return rc;
}

/*
 * A reused connection that failed before the response started: most likely the server closed
 * it as we took it. Send the request again on a new connection, once, if the method allows
 * (k8s.h: GET and HEAD after anything but a timeout or -ENOMEM, others only when nothing at
 * all came back). true: handled, the request goes on or has finished.
 */
static bool req_retry(struct k8s_req *r, int err)
{
	int rc;

	if (!r->reused || r->retried || r->got || err == -ENOMEM || err == -ETIMEDOUT)
		return false;
	if (!r->safe && (r->spoke || (err != -ECONNRESET && err != -EPIPE)))
		return false;
	log_debug("k8s: %s: reused connection failed before the response (%s), "
		  "sending again on a new one", r->what, r->eb.msg);
	k8s_req_close(r);
	r->reused = false;
	r->retried = true;
	r->out_off = 0;
	r->phase = K8S_PH_CONNECT;
	ebuf_clear(&r->eb);
	(void)ev_timer_reschedule(r->c->ev, r->timer, r->connect_ms);
	rc = k8s_req_dial(r);
	if (rc)
		req_finish(r, rc, r->eb.msg);
	return true;
}

static void req_io(struct ev *ev, int fd, unsigned revents, void *ctx)
{
	struct k8s_req *r = ctx;
	int rc = 0;

	r->busy++;
	if (r->phase == K8S_PH_CONNECT)
		rc = req_connected(r);
	if (!rc)
		rc = req_run(r);
	if (rc && rc != -EAGAIN && !req_retry(r, rc))
		req_finish(r, rc, r->eb.msg);
	req_leave(r);
}

bool k8s_req_reuse(struct k8s_req *r)
{
	struct k8s_client *c = r->c;

	if (!k8s_pool_take(c, &r->srv, &r->fd, &r->tls, &r->ent))
		return false;
	if (ev_fd_add(c->ev, r->fd, POLLOUT, req_io, r)) {
		k8s_req_close(r);	/* not registered: the -ENOENT inside is harmless */
		k8s_cfg_put(c, r->ent);
		r->ent = NULL;
		return false;
	}
	log_debug("k8s: %s: on an idle connection", r->what);
	r->reused = true;
	r->phase = K8S_PH_WRITE;
	(void)ev_timer_reschedule(c->ev, r->timer, r->idle_ms);
	return true;
}

void k8s_req_timer(struct ev *ev, uint64_t id, void *ctx)
{
	struct k8s_req *r = ctx;

	r->timer = 0;	/* spent once this returns */
	r->busy++;
	if (r->fail) {
		req_finish(r, r->fail, r->eb.msg);
	} else if (r->phase <= K8S_PH_HANDSHAKE) {
		ebuf_set(&r->eb, "connect and TLS handshake took longer than %u ms",
			 r->connect_ms);
		req_finish(r, -ETIMEDOUT, r->eb.msg);
	} else {
		ebuf_set(&r->eb, "nothing received for %u ms", r->idle_ms);
		req_finish(r, -ETIMEDOUT, r->eb.msg);
	}
	req_leave(r);
}
