/* SPDX-License-Identifier: MIT */
/*
 * netns_util.h: the scaffolding of the unit tests that speak rtnetlink to the kernel
 * (test_rtnl, test_rtnl_vxlan, test_noderoutes), so each keeps only its cases. Like tap.h, which
 * it includes, it goes in one file per test program; every function is static and may go unused.
 *
 *   ip("10.0.0.1"), net("10.0.0.0/8")    literals that must parse (abort otherwise)
 *   place(), unplace()                   a parser's input against a guard page
 *   parse_built(), parse_truncated()     a test's own parser on a built message, on its prefixes
 *   netns_pair(), netns_socket()         two private namespaces; a socket in the other one
 *   batch(), link_addrs()                a batch (diag line if it fails); a veth end addressed
 *   diag_bytes(), now_us(), cmp_double() byte dumps and timings for diag lines
 *
 * The namespaces come from unshare() and belong to the process alone, so they vanish with it:
 * nothing reaches the machine's namespace and no exit path needs a cleanup.
 */
#ifndef VIRGIL_NETNS_UTIL_H
#define VIRGIL_NETNS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "tap.h"
#include "base/err.h"
#include "core/cidr.h"
#include "nl/nlmsg.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"

static __attribute__((unused)) struct ipaddr ip(const char *s)
{
	struct ipaddr a;

	if (ipaddr_parse(s, strlen(s), &a))
		abort();
	return a;
}

static __attribute__((unused)) struct cidr net(const char *s)
{
	struct cidr c;

	if (cidr_parse(s, strlen(s), &c))
		abort();
	return c;
}

/* ---- parser inputs ---------------------------------------------------------------------- */

/*
 * Where a parser's input goes: against a guard page when that keeps the message 4-byte
 * aligned (as every message in a receive buffer is), else in an exact-size heap copy, where
 * ASan catches a read one byte too far instead.
 */
static __attribute__((unused)) struct nlmsghdr *place(const void *src, size_t n)
{
	void *p;

	if (n % 4 == 0)
		return guard_copy(src, n);
	p = malloc(n);
	if (!p)
		abort();
	memcpy(p, src, n);
	return p;
}

static __attribute__((unused)) void unplace(struct nlmsghdr *p, size_t n)
{
	if (n % 4 == 0)
		guard_free(p, n);
	else
		free(p);
}

/* A test's dispatch to the parser of one kind of message (each test has its own kinds). */
typedef int nl_parse_fn(int kind, const struct nlmsghdr *nlh);

/* One row of a parser table: the message mk builds must parse to want. */
struct parse_case {
	const char *what;
	int kind;
	void (*mk)(struct nlb *b);
	int want;
};

/* What parse says of the single message mk builds, placed against a guard page. */
static __attribute__((unused)) int parse_built(nl_parse_fn *parse, int kind,
					       void (*mk)(struct nlb *b))
{
	uint64_t buf[64];
	struct nlmsghdr *g;
	struct nlb b;
	size_t n;
	int r;

	nlb_init(&b, buf, sizeof(buf));
	mk(&b);
	if (nlb_err(&b))
		abort();
	n = b.nlh->nlmsg_len;
	g = place(buf, n);
	r = parse(kind, g);
	unplace(g, n);
	return r;
}

/* How many prefixes of the message in b (a header or longer) neither parse nor say -EINVAL. */
static __attribute__((unused)) size_t parse_truncated(nl_parse_fn *parse, int kind,
						      const struct nlb *b)
{
	size_t n, bad = 0;

	for (n = NLMSG_HDRLEN; n < b->len; n++) {
		struct nlmsghdr *g = place(b->buf, n);
		int r;

		g->nlmsg_len = (uint32_t)n;
		r = parse(kind, g);
		bad += r != 0 && r != -EINVAL;
		unplace(g, n);
	}
	return bad;
}

/* ---- the kernel, in private namespaces -------------------------------------------------- */

/* Two fresh namespaces, fds in *home and *other; the process is left in *home. */
static __attribute__((unused)) int netns_pair(int *home, int *other)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	*home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*home < 0 || unshare(CLONE_NEWNET))
		return -errno;
	*other = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*other < 0 || setns(*home, CLONE_NEWNET))
		return -errno;
	return 0;
}

/* A socket opened inside ns: it stays bound to ns after the process is back in home. */
static __attribute__((unused)) int netns_socket(int ns, int home, struct nlsock *s)
{
	int r;

	if (setns(ns, CLONE_NEWNET))
		return -errno;
	r = nlsock_open(s, NETLINK_ROUTE);
	if (setns(home, CLONE_NEWNET))
		abort();
	return r;
}

static __attribute__((unused)) int batch(struct nlsock *s, struct nlb *b, const char *what)
{
	struct ebuf eb = { "" };
	size_t failed = 0;
	int r = nlb_err(b);

	if (!r)
		r = nlsock_batch(s, b->buf, b->len, &failed, &eb);
	if (r)
		diag("%s: %d at message %zu: %s", what, r, failed, eb.msg);
	return r;
}

/* One side of a veth: lo up, the link up when asked (the peer end starts down), a4 and a6. */
static __attribute__((unused)) int link_addrs(struct nlsock *s, int ifindex, bool up,
					      const char *a4, const char *a6, const char *what)
{
	struct cidr c4 = net(a4), c6 = net(a6);
	uint64_t buf[64];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_link_up(&b, 1);
	if (up)
		rtnl_put_link_up(&b, ifindex);
	rtnl_put_addr(&b, RTM_NEWADDR, ifindex, &c4, 0);
	rtnl_put_addr(&b, RTM_NEWADDR, ifindex, &c6, IFA_F_NODAD);
	return batch(s, &b, what);
}

/* ---- diag lines ------------------------------------------------------------------------- */

/* What a builder wrote, 16 bytes a line, for comparing with the hand-computed bytes. */
static __attribute__((unused)) void diag_bytes(const struct nlb *b)
{
	for (size_t i = 0; i < b->len; i += 16) {
		char line[64] = "";

		for (size_t j = i; j < b->len && j < i + 16; j++)
			sprintf(line + strlen(line), "%02x ", (uint8_t)b->buf[j]);
		diag("got %3zu: %s", i, line);
	}
}

static __attribute__((unused)) double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* qsort() order for the medians and percentiles of timings. */
static __attribute__((unused)) int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#endif
