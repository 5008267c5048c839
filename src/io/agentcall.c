// SPDX-License-Identifier: MIT
/*
 * agentcall.c: one blocking request to the node agent over its unix socket, bounded by a
 * deadline on the monotonic clock (a stuck agent must not hang the runtime's ADD forever).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/util.h"
#include "../core/podmsg.h"
#include "agentcall.h"

/* Read until a newline, EOF or the deadline. */
static int read_reply(int fd, char *p, size_t cap, size_t *len, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t now;
	ssize_t n;

	*len = 0;
	while (*len < cap) {
		now = mono_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		n = read(fd, p + *len, cap - *len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return *len ? 0 : -ECONNRESET;
		if (memchr(p + *len, '\n', (size_t)n)) {
			*len += (size_t)n;
			return 0;
		}
		*len += (size_t)n;
	}
	return -EMSGSIZE;
}

static int exchange(int fd, const struct podmsg_req *r, uint64_t deadline, struct ebuf *eb)
{
	char in[PODMSG_MAX], why[256];
	struct buf b = BUF_INIT;
	size_t len;
	bool ok;
	int e;

	e = podmsg_req_encode(r, &b);
	/* one short line into a fresh socket: a single send; an agent that closed early must
	 * give an error, not SIGPIPE the plugin */
	if (!e) {
		ssize_t n = send(fd, b.p, b.len, MSG_NOSIGNAL);

		e = n < 0 ? -errno : (size_t)n != b.len ? -EIO : 0;
	}
	buf_free(&b);
	if (e) {
		ebuf_set(eb, "sending the request: %s", strerror(-e));
		return e;
	}
	e = read_reply(fd, in, sizeof(in), &len, deadline);
	if (e) {
		ebuf_set(eb, "waiting for the answer: %s", strerror(-e));
		return e;
	}
	e = podmsg_reply_decode(in, len, &ok, why, sizeof(why), eb);
	if (e) {
		ebuf_prefix(eb, "malformed answer");
		return e;
	}
	if (!ok) {
		ebuf_set(eb, "%s", why);
		return -EPROTO;
	}
	return 0;
}

int agentcall(const char *path, const struct podmsg_req *r, unsigned timeout_ms,
	      struct ebuf *eb)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = timeout_ms % 1000 * 1000 };
	uint64_t deadline = mono_ms() + timeout_ms;
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		ebuf_set(eb, "%s: path too long for a unix socket", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = -errno;
		ebuf_set(eb, "socket: %s", strerror(-e));
		return e;
	}
	/* a blocked write to a wedged agent must end too */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = -errno;
		ebuf_set(eb, "connecting to %s: %s", path, strerror(-e));
		close(fd);
		return e;
	}
	e = exchange(fd, r, deadline, eb);
	close(fd);
	return e;
}
