// SPDX-License-Identifier: MIT
/*
 * podsock.c: the agent's unix socket for the CNI plugin (podsock.h). Connections are few
 * (one per pod ADD or DEL) and short, so each is a small heap object on a list; reads are
 * non-blocking and driven by the event loop, the reply is one write of a short line, which
 * a fresh unix socket buffer always takes whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../core/podmsg.h"
#include "../io/ev.h"
#include "podsock.h"

struct podsock_conn {
	struct podsock *s;
	struct podsock_conn *next;
	int fd;
	bool dispatched;	/* handed to the callback: waiting for podsock_reply */
	uint64_t timer;
	size_t len;
	char in[PODMSG_MAX];
};

struct podsock {
	struct ev *ev;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	podsock_fn *fn;
	void *ctx;
	struct podsock_conn *conns;
};

/* Removing an fd we registered cannot fail but for a bug; say so rather than hide it. */
static void fd_forget(struct ev *ev, int fd)
{
	if (ev_fd_del(ev, fd))
		log_debug("agent socket: fd %d was not registered", fd);
}

static void conn_close(struct podsock_conn *c)
{
	struct podsock_conn **pp;

	for (pp = &c->s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->timer)
		ev_timer_cancel(c->s->ev, c->timer);
	if (!c->dispatched)
		fd_forget(c->s->ev, c->fd);
	close(c->fd);
	mem_free(c);
}

void podsock_reply(struct podsock_conn *c, bool ok, const char *why)
{
	struct buf b = BUF_INIT;

	/* a reply line is far below a unix socket's buffer: one send takes it whole; a peer
	 * that left must not SIGPIPE the agent */
	if (podmsg_reply_encode(ok, why, &b) == 0 &&
	    send(c->fd, b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)b.len)
		log_debug("agent socket: the plugin left before the answer");
	buf_free(&b);
	conn_close(c);
}

static void conn_timeout(struct ev *ev, uint64_t id, void *ctx)
{
	struct podsock_conn *c = ctx;

	c->timer = 0;
	podsock_reply(c, false, "request incomplete");
}

static void conn_request(struct podsock_conn *c, size_t n)
{
	struct podmsg_req r;
	struct ebuf eb = { "" };

	if (podmsg_req_decode(c->in, n, &r, &eb)) {
		log_warnx("agent socket: bad request: %s", eb.msg);
		podsock_reply(c, false, eb.msg);
		return;
	}
	/* from here the fd is only written, by podsock_reply */
	fd_forget(c->s->ev, c->fd);
	ev_timer_cancel(c->s->ev, c->timer);
	c->timer = 0;
	c->dispatched = true;
	c->s->fn(c->s->ctx, c, &r);
}

static void conn_readable(struct ev *ev, int fd, unsigned revents, void *ctx)
{
	struct podsock_conn *c = ctx;
	char *nl;
	ssize_t n;

	n = read(fd, c->in + c->len, sizeof(c->in) - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	nl = memchr(c->in + c->len, '\n', (size_t)n);
	c->len += (size_t)n;
	if (nl) {
		conn_request(c, (size_t)(nl - c->in));
		return;
	}
	if (c->len == sizeof(c->in))
		podsock_reply(c, false, "request too long");
}

static void accept_ready(struct ev *ev, int fd, unsigned revents, void *ctx)
{
	struct podsock *s = ctx;
	struct podsock_conn *c;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	c = mem_calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return;
	}
	c->s = s;
	c->fd = cfd;
	c->next = s->conns;
	s->conns = c;
	if (ev_fd_add(ev, cfd, POLLIN, conn_readable, c) ||
	    ev_timer_add(ev, PODSOCK_READ_MS, conn_timeout, c, &c->timer)) {
		c->dispatched = false;
		conn_close(c);
	}
}

static int bind_path(struct podsock *s, const char *path, struct ebuf *eb)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		ebuf_set(eb, "%s: path too long for a unix socket", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ebuf_set(eb, "socket: %s", strerror(errno));
		return -errno;
	}
	/* a socket left by a previous run refuses bind(); nobody else may own this path */
	(void)unlink(path);
	old = umask(0177);
	r = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || listen(s->fd, 64)) {
		r = -errno;
		ebuf_set(eb, "%s: %s", path, strerror(-r));
		return r;
	}
	return 0;
}

int podsock_new(struct ev *ev, const char *path, podsock_fn *fn, void *ctx,
		struct podsock **out, struct ebuf *eb)
{
	struct podsock *s;
	int r;

	*out = NULL;
	s = mem_calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ev = ev;
	s->fn = fn;
	s->ctx = ctx;
	s->fd = -1;
	r = bind_path(s, path, eb);
	if (!r && (r = ev_fd_add(ev, s->fd, POLLIN, accept_ready, s)))
		ebuf_set(eb, "event loop: %s", strerror(-r));
	if (r) {
		if (s->fd >= 0)
			close(s->fd);
		mem_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void podsock_free(struct podsock *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s->conns);
	fd_forget(s->ev, s->fd);
	close(s->fd);
	(void)unlink(s->path);
	mem_free(s);
}
