// SPDX-License-Identifier: MIT
/*
 * nlsock.c: a netlink socket and the three exchanges over it (see nlsock.h): talk (one
 * request, its replies, its ACK), dump (replies until NLMSG_DONE, restarted when the kernel
 * flags it inconsistent) and batch (many requests in one sendmsg, one answer per acked
 * message). Owns the reply checks: sender, portid, seq, truncation, timeouts.
 *
 * Requests reach the kernel's input handler synchronously inside sendmsg(), so every answer
 * to a request is queued before sendmsg() returns; dumps are the exception, produced as we
 * read. The receive timeout only guards against a kernel that answers nothing at all.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "nlmsg.h"
#include "nlsock.h"

#define NLSOCK_RCVBUF_SIZE (1024 * 1024)
/* Below this many bytes of ACKs the default receive buffer (rmem_default, ~208 KiB) holds. */
#define NLSOCK_RCVBUF_SMALL (64 * 1024)
/* Receive-queue charge of one queued ACK (skb truesize, rounded up generously). */
#define NLSOCK_ACK_COST 2048

/* One exchange: the seqs it owns, where its replies go, and how far it got. */
struct nlsock_x {
	uint32_t seq;           /* first seq of the exchange */
	uint32_t n;             /* it owns seq .. seq + n - 1 */
	nlsock_cb cb;
	void *ctx;
	struct ebuf *eb;
	int err;                /* first error; the exchange is still drained before returning it */
	bool done;
	bool intr;              /* a reply carried NLM_F_DUMP_INTR */
	/* batches */
	bool batch;
	bool nf;                /* first and last message are nfnetlink batch markers (not acked) */
	bool drain;             /* read only what is queued: no answer is known to be missing */
	uint32_t acked;         /* messages sent with NLM_F_ACK */
	uint32_t answered;
	size_t failed;          /* index of the message x->err belongs to, or SIZE_MAX */
	uint32_t err_offset;    /* the attribute of that message the kernel blamed, or 0 */
};

static int nlsock_opt(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) ? -errno : 0;
}

/* The FORCE variants pass rmem_max/wmem_max but need CAP_NET_ADMIN; the plain ones are capped. */
static int nlsock_setbuf(int fd, int force, int plain, size_t size)
{
	int v = size > INT_MAX / 2 ? INT_MAX / 2 : (int)size;

	if (!nlsock_opt(fd, SOL_SOCKET, force, v))
		return 0;
	return nlsock_opt(fd, SOL_SOCKET, plain, v);
}

/* A large receive buffer, once: dumps of thousands of routes arrive faster than we read. */
static void nlsock_big(struct nlsock *s)
{
	if (!s->big)
		s->big = nlsock_setbuf(s->fd, SO_RCVBUFFORCE, SO_RCVBUF, NLSOCK_RCVBUF_SIZE) == 0;
}

static int nlsock_setup(struct nlsock *s)
{
	/* ENOPROTOOPT: a kernel older than the option (4.2, 4.12, 4.20); we do without */
	static const int opts[] = { NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK };
	struct timeval tv = { .tv_sec = NLSOCK_TIMEOUT_MS / 1000,
			      .tv_usec = NLSOCK_TIMEOUT_MS % 1000 * 1000 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t sl = sizeof(sa);
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		r = nlsock_opt(s->fd, SOL_NETLINK, opts[i], 1);
		if (r && r != -ENOPROTOOPT)
			return r;
	}
	/* the receive buffer is raised on first need (nlsock_big): a CNI ADD's sockets mostly
	 * only talk, and every syscall on that path counts */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		r = -errno;
	if (!r && bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)))
		r = -errno;
	if (!r && getsockname(s->fd, (struct sockaddr *)&sa, &sl))
		r = -errno;
	if (!r && (sl != sizeof(sa) || sa.nl_family != AF_NETLINK))
		r = -EPROTO;
	if (!r)
		s->portid = sa.nl_pid;
	return r;
}

int nlsock_open(struct nlsock *s, int proto)
{
	int r;

	*s = (struct nlsock){ .fd = -1, .proto = proto };
	s->rbuf = mem_alloc(NLSOCK_RBUF);
	if (!s->rbuf)
		return -ENOMEM;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	r = s->fd < 0 ? -errno : nlsock_setup(s);
	if (r)
		nlsock_close(s);
	return r;
}

void nlsock_close(struct nlsock *s)
{
	/* rbuf marks an open socket: a zeroed struct's fd 0 is not ours to close */
	if (s->rbuf && s->fd >= 0)
		close(s->fd);
	mem_free(s->rbuf);
	s->rbuf = NULL;
	s->fd = -1;
}

static int nlsock_send(struct nlsock *s, const void *buf, size_t len, struct ebuf *eb)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n;

	if (fault_fail_now()) {
		errno = ENOBUFS;
		n = -1;
	} else {
		do
			n = sendto(s->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa));
		while (n < 0 && errno == EINTR);
	}
	if (n < 0) {
		ebuf_set(eb, "netlink: send %zu bytes: %s", len, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Receive one datagram into rbuf: its length, 0 for one dropped, -EAGAIN when nothing came. */
static ssize_t nlsock_recv(struct nlsock *s, int flags)
{
	struct sockaddr_nl sa;
	struct iovec iov = { .iov_base = s->rbuf, .iov_len = NLSOCK_RBUF };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
			     .msg_iovlen = 1 };
	ssize_t n;

	do
		n = recvmsg(s->fd, &mh, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/* any local process may send to our portid: only the kernel (port 0) can answer */
	if (mh.msg_namelen != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0) {
		s->dropped++;
		return 0;
	}
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	return n;
}

/* Keep the first error and its reason; later ones only drain. */
static void nlsock_seterr(struct nlsock_x *x, int err, const char *why)
{
	if (x->err)
		return;
	x->err = err;
	if (ebuf_empty(x->eb))
		ebuf_set(x->eb, "%s: %s", why, strerror(-err));
}

/* A reply to talk or dump. */
static void nlsock_on_reply(struct nlsock_x *x, const struct nlmsghdr *nlh)
{
	int r = 0;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		x->intr = true;
	switch (nlh->nlmsg_type) {
	case NLMSG_NOOP:
		return;
	case NLMSG_ERROR:
		/* a dump start the kernel refused ends here too; a dump itself is never acked */
		x->done = true;
		r = nlmsg_decode_error(nlh, x->err ? NULL : x->eb);
		break;
	case NLMSG_DONE:
		x->done = true;
		r = nlmsg_decode_done(nlh, x->err ? NULL : x->eb);
		break;
	default:
		/* after an error or NLM_F_DUMP_INTR the rest is only drained */
		if (!x->cb || x->err || x->intr)
			return;
		r = x->cb(nlh, x->ctx);
		if (r < 0)
			nlsock_seterr(x, r, "netlink: reply handler");
		return;
	}
	if (r < 0)
		nlsock_seterr(x, r, "kernel");
}

/*
 * An answer within a batch. nfnetlink_rcv_batch() answers every acked message (errors and
 * ACKs are queued together after the whole batch ran); it reports batch-wide failures (no
 * subsystem, stale generation, commit failed, ENOMEM) against the BEGIN seq, and after those
 * some or all per-message answers may never come.
 */
static void nlsock_on_batch(struct nlsock_x *x, const struct nlmsghdr *nlh)
{
	size_t i = (uint32_t)(nlh->nlmsg_seq - x->seq);
	bool marker = x->nf && (i == 0 || i == x->n - 1);
	struct ebuf why;
	int r;

	if (nlh->nlmsg_type != NLMSG_ERROR)
		return;
	ebuf_clear(&why);
	r = nlmsg_decode_error(nlh, &why);
	if (marker && r)
		x->drain = true;
	else if (!marker && ++x->answered == x->acked)
		x->done = true;
	if (r >= 0 || (x->err && i >= x->failed))
		return;
	x->err = r;
	x->failed = i;
	if (nlmsg_error_offset(nlh, &x->err_offset))
		x->err_offset = 0;
	if (ebuf_empty(&why))
		ebuf_set(&why, "kernel: %s", strerror(-r));
	if (x->eb)
		*x->eb = why;
}

static void nlsock_feed(struct nlsock *s, struct nlsock_x *x, size_t len)
{
	const struct nlmsghdr *nlh;
	size_t left;

	for_each_nlmsg(nlh, s->rbuf, len, left) {
		if (x->done)
			return;
		if (nlh->nlmsg_pid != s->portid || (uint32_t)(nlh->nlmsg_seq - x->seq) >= x->n) {
			s->dropped++;
			continue;
		}
		if (x->batch)
			nlsock_on_batch(x, nlh);
		else
			nlsock_on_reply(x, nlh);
	}
	if (left && !x->done) {
		/* the kernel never sends this; whatever the rest said is lost with it */
		nlsock_seterr(x, -EBADMSG, "netlink: malformed reply");
		x->done = true;
	}
}

/* Read until the exchange is complete; returns its first error. */
static int nlsock_collect(struct nlsock *s, struct nlsock_x *x)
{
	ssize_t n;

	while (!x->done) {
		n = nlsock_recv(s, x->drain ? MSG_DONTWAIT : 0);
		if (n == -EAGAIN && x->drain)
			break;
		if (n == -EMSGSIZE) {
			nlsock_seterr(x, -EMSGSIZE, "netlink: reply truncated to 64 KiB");
			continue;
		}
		if (n == -EAGAIN) {
			nlsock_seterr(x, -ETIMEDOUT, "netlink: waiting for the kernel's answer");
			break;
		}
		if (n < 0) {
			/* ENOBUFS: the receive queue overflowed and answers were lost */
			nlsock_seterr(x, (int)n, "netlink: receive");
			break;
		}
		nlsock_feed(s, x, (size_t)n);
	}
	return x->err;
}

static int nlsock_ready(const struct nlsock *s, struct ebuf *eb)
{
	ebuf_clear(eb);
	if (!s->rbuf || s->fd < 0) {
		ebuf_set(eb, "netlink: socket not open");
		return -EBADF;
	}
	return 0;
}

static int nlsock_check(const struct nlsock *s, const struct nlmsghdr *req, struct ebuf *eb)
{
	int r = nlsock_ready(s, eb);

	if (r)
		return r;
	if (!req || req->nlmsg_len < NLMSG_HDRLEN) {
		ebuf_set(eb, "netlink: bad request");
		return -EINVAL;
	}
	return 0;
}

static int nlsock_exchange(struct nlsock *s, struct nlmsghdr *req, struct nlsock_x *x)
{
	int r;

	x->seq = req->nlmsg_seq = ++s->seq;
	x->n = 1;
	r = nlsock_send(s, req, req->nlmsg_len, x->eb);
	return r ? r : nlsock_collect(s, x);
}

int nlsock_talk(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb, void *ctx,
		struct ebuf *eb)
{
	struct nlsock_x x = { .cb = cb, .ctx = ctx, .eb = eb };
	int r = nlsock_check(s, req, eb);

	if (r)
		return r;
	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	return nlsock_exchange(s, req, &x);
}

int nlsock_dump(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb, void (*restart)(void *ctx),
		void *ctx, struct ebuf *eb)
{
	struct nlsock_x x;
	int r = nlsock_check(s, req, eb), try;

	if (r)
		return r;
	nlsock_big(s);
	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK;
	for (try = 0;; try++) {
		x = (struct nlsock_x){ .cb = cb, .ctx = ctx, .eb = eb };
		r = nlsock_exchange(s, req, &x);
		if (r || !x.intr)
			return r;
		if (try == NLSOCK_DUMP_RETRIES)
			break;
		if (restart)
			restart(ctx);
	}
	ebuf_set(eb, "netlink: dump changed under us %d times in a row", try + 1);
	return -EAGAIN;
}

static bool nlsock_marker(const struct nlsock *s, const struct nlmsghdr *nlh)
{
	/* only on NETLINK_NETFILTER: 0x10 and 0x11 are RTM_NEWLINK and RTM_DELLINK elsewhere */
	return s->proto == NETLINK_NETFILTER && (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN ||
						 nlh->nlmsg_type == NFNL_MSG_BATCH_END);
}

/* Count the messages; BEGIN may only open and END only close an nfnetlink batch, together. */
static int nlsock_batch_frame(const struct nlsock *s, const void *buf, size_t len,
			      struct nlsock_x *x)
{
	const struct nlmsghdr *nlh, *first = buf, *last = NULL;
	size_t left, n = 0, markers = 0;

	if (!buf && len)
		return -EINVAL;
	for_each_nlmsg(nlh, buf, len, left) {
		markers += nlsock_marker(s, nlh);
		last = nlh;
		n++;
	}
	if (left || n > UINT32_MAX / 2)
		return -EINVAL;
	x->nf = n >= 2 && nlsock_marker(s, first) && first->nlmsg_type == NFNL_MSG_BATCH_BEGIN &&
		nlsock_marker(s, last) && last->nlmsg_type == NFNL_MSG_BATCH_END;
	if (markers != (x->nf ? 2u : 0u))
		return -EINVAL;
	x->n = (uint32_t)n;
	x->acked = x->nf ? x->n - 2 : x->n;
	return 0;
}

static void nlsock_batch_seq(struct nlsock *s, void *buf, size_t len, struct nlsock_x *x)
{
	const struct nlmsghdr *c;
	struct nlmsghdr *nlh;
	size_t left, i = 0;

	x->seq = s->seq + 1;
	s->seq += x->n;
	for_each_nlmsg(c, buf, len, left) {
		nlh = (struct nlmsghdr *)c;
		nlh->nlmsg_seq = x->seq + (uint32_t)i;
		nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
		/* the kernel does not ack the markers (before 6.10 it ignores the flag) */
		if (x->nf && (i == 0 || i == x->n - 1u))
			nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
		i++;
	}
}

/* Make room: netlink_sendmsg() refuses a datagram over sk_sndbuf - 32, and every ACK is
 * charged to the receive buffer while the batch runs, before we read any. */
static void nlsock_batch_room(struct nlsock *s, size_t len, uint32_t acked)
{
	int cur = 0;
	socklen_t sl = sizeof(cur);

	/* wmem_default (~208 KiB) holds a small batch: skip the probe on the pod start path */
	if (len + 64 > NLSOCK_RCVBUF_SMALL &&
	    (getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl) || cur < 0 ||
	     (size_t)cur < len + 64))
		nlsock_setbuf(s->fd, SO_SNDBUFFORCE, SO_SNDBUF, len + 64);
	if ((size_t)acked * NLSOCK_ACK_COST > NLSOCK_RCVBUF_SIZE)
		nlsock_setbuf(s->fd, SO_RCVBUFFORCE, SO_RCVBUF, (size_t)acked * NLSOCK_ACK_COST);
	else if ((size_t)acked * NLSOCK_ACK_COST > NLSOCK_RCVBUF_SMALL)
		nlsock_big(s);
}

int nlsock_batch(struct nlsock *s, void *buf, size_t len, size_t *failed_index,
		 struct ebuf *eb)
{
	struct nlsock_x x = { .batch = true, .eb = eb, .failed = SIZE_MAX };
	int r = nlsock_ready(s, eb);

	if (failed_index)
		*failed_index = SIZE_MAX;
	s->err_offset = 0;
	if (!r && nlsock_batch_frame(s, buf, len, &x)) {
		ebuf_set(eb, "netlink: batch framing (lengths, or BEGIN/END not first/last)");
		r = -EINVAL;
	}
	if (r || !x.n)
		return r;
	nlsock_batch_seq(s, buf, len, &x);
	nlsock_batch_room(s, len, x.acked);
	r = nlsock_send(s, buf, len, eb);
	if (r)
		return r;
	/* with nothing acked only a batch-wide error can come, and it is already queued */
	x.drain = x.acked == 0;
	r = nlsock_collect(s, &x);
	if (r && failed_index)
		*failed_index = x.failed;
	if (r)
		s->err_offset = x.err_offset;
	return r;
}
