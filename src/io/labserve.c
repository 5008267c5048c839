// SPDX-License-Identifier: MIT
/*
 * labserve.c: the lab's pod server (labserve.h). Separate IPv4 and IPv6 sockets, rather than
 * one dual-stack socket, keep the answer the same whatever net.ipv6.bindv6only says, and let
 * a host without IPv6 still serve IPv4. UDP replies carry the address the request was sent to
 * as their source (IP_PKTINFO / IPV6_PKTINFO): a wildcard socket would otherwise pick the
 * source from the route back, and a prober's connected socket would drop a reply from another
 * of the pod's addresses.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "labserve.h"

#define MAX_SOCKS (LABSERVE_MAX_PORTS * 4)
#define DGRAM_MAX 65536		/* the largest UDP payload, so an echo is never cut */
#define BURST 64		/* clients served per socket per wakeup, so none starves */

struct srv {
	struct pollfd pfd[MAX_SOCKS];
	bool udp[MAX_SOCKS];
	size_t n;
};

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static int wildcard(int family, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
	((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
	((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	return sizeof(struct sockaddr_in6);
}

static int set_opt(int fd, int level, int name)
{
	int one = 1;

	return setsockopt(fd, level, name, &one, sizeof(one)) ? -errno : 0;
}

/* Options, bind and listen on a fresh socket; the name of the step that failed in *step. */
static int prepare(int fd, int family, bool udp, uint16_t port, const char **step)
{
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)wildcard(family, port, &ss);
	int e;

	*step = "setsockopt";
	if ((e = set_opt(fd, SOL_SOCKET, SO_REUSEADDR)))
		return e;
	if (family == AF_INET6 && (e = set_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY)))
		return e;
	if (udp && (e = family == AF_INET ? set_opt(fd, IPPROTO_IP, IP_PKTINFO) :
					    set_opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO)))
		return e;
	*step = "bind";
	if (bind(fd, (struct sockaddr *)&ss, len))
		return -errno;
	*step = "listen";
	if (!udp && listen(fd, SOMAXCONN))
		return -errno;
	return 0;
}

/* One listening socket into s; IPv6 on a kernel without it is skipped, not an error. */
static int open_one(struct srv *s, int family, bool udp, uint16_t port, struct ebuf *eb)
{
	const char *step = "socket";
	int fd, e;

	fd = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && errno == EAFNOSUPPORT && family == AF_INET6)
		return 0;
	e = fd < 0 ? -errno : prepare(fd, family, udp, port, &step);
	if (e) {
		ebuf_set(eb, "%s port %u (%s): %s: %s", udp ? "UDP" : "TCP", port,
			 family_name(family), step, strerror(-e));
		if (fd >= 0)
			close(fd);
		return e;
	}
	s->pfd[s->n] = (struct pollfd){ .fd = fd, .events = POLLIN };
	s->udp[s->n++] = udp;
	return 0;
}

static bool seen_before(const uint16_t *ports, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (ports[j] == ports[i])
			return true;
	return false;
}

static int open_all(struct srv *s, const uint16_t *ports, size_t nports, struct ebuf *eb)
{
	static const int families[] = { AF_INET, AF_INET6 };
	size_t distinct = 0;
	int e = 0;

	for (size_t i = 0; i < nports && !e; i++) {
		if (!ports[i]) {
			ebuf_set(eb, "port 0 cannot be served");
			return -EINVAL;
		}
		if (seen_before(ports, i))
			continue;
		if (++distinct > LABSERVE_MAX_PORTS) {
			ebuf_set(eb, "more than %d ports", LABSERVE_MAX_PORTS);
			return -E2BIG;
		}
		for (size_t f = 0; f < 2 * ARRAY_SIZE(families) && !e; f++)
			e = open_one(s, families[f / 2], f % 2, ports[i], eb);
	}
	return e;
}

/* A fresh socket's send buffer is empty, so the greeting always fits: one send, then close. */
static void greet(int lfd)
{
	for (int k = 0; k < BURST; k++) {
		ssize_t sent;
		int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0)
			return;
		sent = send(c, LABSERVE_GREETING, strlen(LABSERVE_GREETING),
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)sent;
		close(c);
	}
}

/*
 * Turn the received packet info into the one that sends the reply from the address the
 * request came to. IPv6's is already that (address and interface); IPv4's names the local
 * address to use in ipi_spec_dst.
 */
static void reply_source(struct msghdr *m)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		}
	}
}

static void echo(int fd, char *dgram)
{
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		       CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;

	for (int k = 0; k < BURST; k++) {
		struct sockaddr_storage peer;
		struct iovec iov = { dgram, DGRAM_MAX };
		struct msghdr m = { .msg_name = &peer, .msg_namelen = sizeof(peer),
				    .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		ssize_t got = recvmsg(fd, &m, MSG_DONTWAIT);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return;
		iov.iov_len = (size_t)got;
		reply_source(&m);
		/* A broadcast or multicast destination is no source: answer from the route's. */
		if (sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EINVAL) {
			m.msg_control = NULL;
			m.msg_controllen = 0;
			(void)!sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
	}
}

static int signal_ready(int fd)
{
	static const char byte = 1;
	ssize_t n;

	if (fd < 0)
		return 0;
	do
		n = write(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}

static int serve(struct srv *s, char *dgram, struct ebuf *eb)
{
	for (;;) {
		if (poll(s->pfd, s->n, -1) < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			ebuf_set(eb, "poll: %s", strerror(e));
			return -e;
		}
		for (size_t i = 0; i < s->n; i++) {
			if (!s->pfd[i].revents)
				continue;
			if (s->udp[i])
				echo(s->pfd[i].fd, dgram);
			else
				greet(s->pfd[i].fd);
		}
	}
}

int labserve_run(const uint16_t *ports, size_t nports, int ready_fd, struct ebuf *eb)
{
	struct srv s = { .n = 0 };
	char *dgram = mem_alloc(DGRAM_MAX);
	int e = dgram ? 0 : -ENOMEM;

	if (e)
		ebuf_set(eb, "no memory for the datagram buffer");
	if (!e)
		e = open_all(&s, ports, nports, eb);
	if (!e && (e = signal_ready(ready_fd)))
		ebuf_set(eb, "signalling readiness: %s", strerror(-e));
	if (ready_fd >= 0)
		close(ready_fd);
	if (!e)
		e = serve(&s, dgram, eb);
	for (size_t i = 0; i < s.n; i++)
		close(s.pfd[i].fd);
	mem_free(dgram);
	return e;
}
