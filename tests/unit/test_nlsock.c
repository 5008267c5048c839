// SPDX-License-Identifier: MIT
/* deps: nl/nlsock.c nl/nlmsg.c base/err.c base/mem.c base/buf.c */
/*
 * test_nlsock.c: the socket against the real kernel. Needs root: main() first moves the
 * process into a fresh network namespace (unshare(CLONE_NEWNET)), which vanishes when it
 * exits, so nothing here can touch the host's links. Covers dumps spanning many datagrams,
 * talk with ACK, GET replies and NLM_F_ECHO copies, kernel errors with extended ack, forged
 * and stale replies, NLM_F_DUMP_INTR restarts, rtnetlink and nf_tables batches with per-seq
 * error mapping, large batches (send and receive buffers), and injected failures.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "tap.h"
#include "base/err.h"
#include "base/mem.h"
#include "nl/nlmsg.h"
#include "nl/nlsock.h"

static struct nlsock s;         /* the socket under test */
static char big[1 << 20] __attribute__((aligned(8)));

/* ---- request builders ------------------------------------------------------------------- */

static void put_veth(struct nlb *b, const char *name, const char *peer_name)
{
	struct nlattr *li, *data, *peer;

	nlb_msg(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	nlb_extra(b, sizeof(struct ifinfomsg));
	nlb_put_strz(b, IFLA_IFNAME, name);
	li = nlb_nest_start(b, IFLA_LINKINFO);
	nlb_put_strz(b, IFLA_INFO_KIND, "veth");
	data = nlb_nest_start(b, IFLA_INFO_DATA);
	peer = nlb_nest_start(b, VETH_INFO_PEER);
	nlb_extra(b, sizeof(struct ifinfomsg));
	nlb_put_strz(b, IFLA_IFNAME, peer_name);
	nlb_nest_end(b, peer);
	nlb_nest_end(b, data);
	nlb_nest_end(b, li);
}

static int add_veth(struct nlsock *sk, const char *name, const char *peer, struct ebuf *eb)
{
	char buf[256] __attribute__((aligned(8)));
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	put_veth(&b, name, peer);
	return nlb_err(&b) ? nlb_err(&b) : nlsock_talk(sk, b.nlh, NULL, NULL, eb);
}

/* 10.a.b.c/24 on ifindex, IFA_LOCAL and IFA_ADDRESS as the kernel stores them. */
static void put_addr(struct nlb *b, uint16_t flags, int ifindex, uint8_t a, uint8_t bb,
		     uint8_t c)
{
	const uint8_t ip[4] = { 10, a, bb, c };
	struct ifaddrmsg *ifa;

	nlb_msg(b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | flags);
	ifa = nlb_extra(b, sizeof(*ifa));
	if (ifa) {
		ifa->ifa_family = AF_INET;
		ifa->ifa_prefixlen = 24;
		ifa->ifa_index = ifindex;
	}
	nlb_put(b, IFA_LOCAL, ip, sizeof(ip));
	nlb_put(b, IFA_ADDRESS, ip, sizeof(ip));
}

/* ---- dumps ------------------------------------------------------------------------------ */

struct count {
	uint16_t type;
	const char *prefix;     /* count only names starting with it (links) */
	size_t n, datagrams, restarts;
	int lo;
	struct nlsock *other;   /* when set, add a veth pair through it while dumping */
	int churn;              /* attempts during which to do that; -1: every attempt */
	size_t made, seen;
};

static int count_cb(const struct nlmsghdr *nlh, void *ctx)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	struct count *c = ctx;
	const char *name;
	char a[16], p[16];

	c->datagrams += (const char *)nlh == s.rbuf;
	if (nlh->nlmsg_type != c->type)
		return 0;
	if (c->type == RTM_NEWLINK) {
		if (nlmsg_parse(tb, IFLA_MAX, nlh, sizeof(struct ifinfomsg)))
			return -EBADMSG;
		name = nla_get_strz(tb[IFLA_IFNAME]);
		if (!name)
			return -EBADMSG;
		c->lo += !strcmp(name, "lo");
		if (c->prefix && strncmp(name, c->prefix, strlen(c->prefix)))
			return 0;
	}
	c->n++;
	/* datagram 1 is being read and 2 is already queued: the change shows up in 3 */
	if (c->other && ++c->seen == 5 && (c->churn < 0 || c->restarts < (size_t)c->churn)) {
		snprintf(a, sizeof(a), "ch%zua", c->made);
		snprintf(p, sizeof(p), "ch%zub", c->made);
		if (add_veth(c->other, a, p, NULL))
			return -EIO;
		c->made++;
	}
	return 0;
}

static void count_restart(void *ctx)
{
	struct count *c = ctx;

	c->n = 0;
	c->lo = 0;
	c->seen = 0;
	c->restarts++;
}

static int dump(uint16_t type, size_t hdrlen, struct count *c, struct ebuf *eb)
{
	char buf[64] __attribute__((aligned(8)));
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, type, 0);
	nlb_extra(&b, hdrlen);
	c->type = type == RTM_GETLINK ? RTM_NEWLINK : RTM_NEWADDR;
	return nlsock_dump(&s, b.nlh, count_cb, count_restart, c, eb);
}

static size_t count_links(const char *prefix)
{
	struct count c = { .prefix = prefix };
	struct ebuf eb;

	if (dump(RTM_GETLINK, sizeof(struct ifinfomsg), &c, &eb))
		return SIZE_MAX;
	return c.n;
}

static size_t count_addrs(void)
{
	struct count c = { 0 };
	struct ebuf eb;

	if (dump(RTM_GETADDR, sizeof(struct ifaddrmsg), &c, &eb))
		return SIZE_MAX;
	return c.n;
}

static void test_open_and_dump(void)
{
	struct count c = { 0 };
	struct ebuf eb;
	int r;

	r = nlsock_open(&s, NETLINK_ROUTE);
	is_int(r, 0, "open NETLINK_ROUTE");
	ok(s.fd >= 0 && s.portid != 0 && s.rbuf, "fd, portid and buffer");
	r = dump(RTM_GETLINK, sizeof(struct ifinfomsg), &c, &eb);
	is_int(r, 0, "RTM_GETLINK dump");
	ok(c.n == 1 && c.lo == 1, "a fresh namespace has lo and nothing else");
	ok(ebuf_empty(&eb), "no text on success");
	is_int(s.dropped, 0, "nothing dropped (no ACK follows DONE)");

	c = (struct count){ 0 };
	r = dump(RTM_GETLINK, 1, &c, &eb);
	is_int(r, -EINVAL, "strict checking refuses an rtgenmsg-sized link dump header");
	diag("%s", eb.msg);
	ok(!strncmp(eb.msg, "kernel: ", 8), "refused dump: the kernel's text");
}

/* ---- talk ------------------------------------------------------------------------------- */

struct seen {
	uint16_t type;
	size_t n;
	uint32_t seq;
};

static int seen_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct seen *v = ctx;

	v->type = nlh->nlmsg_type;
	v->seq = nlh->nlmsg_seq;
	v->n++;
	return 0;
}

static int get_link(struct nlsock *sk, const char *name, struct seen *v, struct ebuf *eb)
{
	char buf[128] __attribute__((aligned(8)));
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, RTM_GETLINK, 0);
	nlb_extra(&b, sizeof(struct ifinfomsg));
	nlb_put_strz(&b, IFLA_IFNAME, name);
	return nlsock_talk(sk, b.nlh, seen_cb, v, eb);
}

static void test_talk(void)
{
	char buf[128] __attribute__((aligned(8)));
	struct seen v = { 0 };
	struct ebuf eb;
	struct nlb b;
	int r;

	is_int(add_veth(&s, "vt0", "vt1", &eb), 0, "RTM_NEWLINK veth pair");
	r = get_link(&s, "vt1", &v, &eb);
	ok(r == 0 && v.n == 1 && v.type == RTM_NEWLINK && v.seq == s.seq,
	   "GET by name: one reply with our seq reaches cb, then the ACK");
	is_int(count_links("vt"), 2, "both ends exist");

	r = add_veth(&s, "vt0", "vt2", &eb);
	is_int(r, -EEXIST, "RTM_NEWLINK for an existing name: -EEXIST");
	diag("%s", eb.msg);
	is_str(eb.msg, "kernel: File exists", "no ext-ack text from the kernel for that: strerror");

	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	nlb_extra(&b, sizeof(struct ifinfomsg));
	nlb_put_strz(&b, IFLA_IFNAME, "a-name-longer-than-ifnamsiz");
	r = nlsock_talk(&s, b.nlh, NULL, NULL, &eb);
	is_int(r, -ERANGE, "over-long IFLA_IFNAME: -ERANGE");
	is_str(eb.msg, "kernel: Attribute failed policy validation (offending attribute at byte 32)",
	       "ext-ack text and offset");

	r = get_link(&s, "nonexistent", &v, &eb);
	is_int(r, -ENODEV, "GET of a missing link: -ENODEV");

	v = (struct seen){ 0 };
	nlb_init(&b, buf, sizeof(buf));
	put_addr(&b, NLM_F_ECHO, 1, 99, 0, 1);
	r = nlsock_talk(&s, b.nlh, seen_cb, &v, &eb);
	ok(r == 0 && v.n == 1 && v.type == RTM_NEWADDR && v.seq == s.seq,
	   "NLM_F_ECHO: the copy reaches cb before the ACK");
	r = nlsock_talk(&s, b.nlh, NULL, NULL, &eb);
	is_int(r, -EEXIST, "the same address again: -EEXIST");
	diag("%s", eb.msg);
	ok(!strncmp(eb.msg, "kernel: ", 8) && strlen(eb.msg) > 8, "with the kernel's reason");
	is_int(s.dropped, 0, "still nothing dropped");
}

/* Replies that are not ours: another process's forged ACK, and answers to an old seq. */
static void test_foreign(void)
{
	static char huge[100000] __attribute__((aligned(8)));
	struct { struct nlmsghdr h; struct nlmsgerr e; } forged = { 0 };
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	struct nlsock o = { 0 };
	struct seen v = { 0 };
	struct ebuf eb;
	unsigned long before = s.dropped;
	char buf[128] __attribute__((aligned(8)));
	struct nlb b;
	int r;

	if (!ok(nlsock_open(&o, NETLINK_ROUTE) == 0, "second socket"))
		return;
	to.nl_pid = s.portid;
	forged.h = (struct nlmsghdr){ .nlmsg_len = sizeof(forged), .nlmsg_type = NLMSG_ERROR,
				      .nlmsg_seq = s.seq + 1, .nlmsg_pid = s.portid };
	forged.e.error = -EPERM;
	r = sendto(o.fd, &forged, sizeof(forged), 0, (struct sockaddr *)&to, sizeof(to));
	ok(r == sizeof(forged), "forged -EPERM with our next seq sent from a user socket");
	forged.h.nlmsg_len = sizeof(huge);
	memcpy(huge, &forged, sizeof(forged));
	r = sendto(o.fd, huge, sizeof(huge), 0, (struct sockaddr *)&to, sizeof(to));
	ok(r == sizeof(huge), "and a 100000-byte datagram, over our buffer");

	/* an answer to a request sent behind the socket's back: old seq */
	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
	nlb_extra(&b, sizeof(struct ifinfomsg));
	nlb_put_strz(&b, IFLA_IFNAME, "lo");
	b.nlh->nlmsg_seq = s.seq - 5;
	ok(send(s.fd, buf, b.len, 0) == (ssize_t)b.len, "request with a stale seq");

	r = get_link(&s, "lo", &v, &eb);
	ok(r == 0 && v.n == 1, "talk ignores all of it and gets the real answer");
	is_int(s.dropped - before, 4, "dropped: forged, huge, stale reply, stale ACK");
	nlsock_close(&o);
}

/* ---- dump restarts ---------------------------------------------------------------------- */

static void test_many_links(void)
{
	struct count c = { 0 };
	struct ebuf eb;
	char a[16], p[16];
	struct nlb b;
	size_t i, fi, links = count_links(NULL);
	int r;

	nlb_init(&b, big, sizeof(big));
	for (i = 0; i < 300; i++) {
		snprintf(a, sizeof(a), "m%zua", i);
		snprintf(p, sizeof(p), "m%zub", i);
		put_veth(&b, a, p);
	}
	is_int(nlb_err(&b), 0, "300 veth requests built");
	r = nlsock_batch(&s, big, b.len, &fi, &eb);
	is_int(r, 0, "one rtnetlink batch creates 300 pairs (RTM_NEWLINK is not a batch marker)");
	c.prefix = "m";
	r = dump(RTM_GETLINK, sizeof(struct ifinfomsg), &c, &eb);
	is_int(r, 0, "dump of 600+ links");
	is_int(c.n, 600, "exactly the 600 we made");
	diag("%zu links in %zu datagrams", links + 600, c.datagrams);
	ok(c.datagrams > 3, "the dump spanned several datagrams");
	is_int(count_links(NULL), links + 600, "and nothing else appeared");
}

static void test_dump_intr(void)
{
	struct nlsock o = { 0 };
	struct count c = { 0 };
	struct ebuf eb;
	size_t links = count_links(NULL);
	int r;

	if (!ok(nlsock_open(&o, NETLINK_ROUTE) == 0, "socket for churn"))
		return;
	c.other = &o;
	c.churn = 2;
	r = dump(RTM_GETLINK, sizeof(struct ifinfomsg), &c, &eb);
	is_int(r, 0, "links added during two attempts: the third succeeds");
	is_int(c.restarts, 2, "restart called twice");
	is_int(c.made, 2, "two pairs were added");
	is_int(c.n, links + 4, "the final attempt counts every link once");

	c = (struct count){ .other = &o, .churn = -1, .made = 2 };
	r = dump(RTM_GETLINK, sizeof(struct ifinfomsg), &c, &eb);
	is_int(r, -EAGAIN, "links added during every attempt: -EAGAIN");
	is_int(c.restarts, NLSOCK_DUMP_RETRIES, "after NLSOCK_DUMP_RETRIES restarts");
	diag("%s", eb.msg);
	ok(strstr(eb.msg, "dump changed") != NULL, "and says why");
	is_int(count_links(NULL), links + 2 * (c.made), "the socket is still in step");
	nlsock_close(&o);
}

/* ---- batches ---------------------------------------------------------------------------- */

static void test_batch_addr(void)
{
	struct ebuf eb;
	struct nlb b;
	size_t i, fi, before = count_addrs();
	unsigned long dropped = s.dropped;
	void *q;
	int r;

	nlb_init(&b, big, sizeof(big));
	for (i = 0; i < 5; i++)
		put_addr(&b, 0, i == 3 ? 9999 : 1, 1, 0, (uint8_t)(i + 1));
	r = nlsock_batch(&s, big, b.len, &fi, &eb);
	is_int(r, -ENODEV, "batch of 5 RTM_NEWADDR, #3 on a missing ifindex: -ENODEV");
	is_int(fi, 3, "failed_index points at it");
	diag("%s", eb.msg);
	ok(!ebuf_empty(&eb), "with a reason");
	is_int(count_addrs(), before + 4, "rtnetlink is not atomic: the other four exist");

	nlb_init(&b, big, sizeof(big));
	for (i = 0; i < 5; i++)
		put_addr(&b, 0, i == 1 || i == 4 ? 9999 : 1, 2, 0, (uint8_t)(i + 1));
	put_addr(&b, 0, 1, 1, 0, 1);
	r = nlsock_batch(&s, big, b.len, &fi, &eb);
	ok(r == -ENODEV && fi == 1, "several failures: the lowest index is reported");
	is_int(count_addrs(), before + 7, "three more");

	nlb_init(&b, big, sizeof(big));
	for (i = 0; i < 6000; i++)
		put_addr(&b, 0, 1, 3 + (uint8_t)(i / 250), (uint8_t)(i % 250), 1);
	diag("6000 messages, %zu bytes", b.len);
	r = nlsock_batch(&s, big, b.len, &fi, &eb);
	is_int(r, 0, "6000-message batch: send buffer raised, 6000 ACKs fit the receive buffer");
	is_int(fi, SIZE_MAX, "failed_index SIZE_MAX on success");
	is_int(count_addrs(), before + 7 + 6000, "all 6000 there");
	is_int(s.dropped, dropped, "no stray answers");

	is_int(nlsock_batch(&s, big, 0, &fi, &eb), 0, "empty batch: nothing sent, 0");
	q = guard_copy(big, 20);
	is_int(nlsock_batch(&s, q, 20, &fi, &eb), -EINVAL, "framing: nlmsg_len past len");
	ok(!strncmp(eb.msg, "netlink: ", 9), "a local reason");
	guard_free(q, 20);
	q = guard_copy(big, 40);
	r = nlsock_batch(&s, q, 40, &fi, &eb);
	ok(r == -EEXIST && fi == 0, "a batch of one against a guard page: the address exists");
	guard_free(q, 40);
}

/* nf_tables: BEGIN, NEWTABLE/DELTABLE..., END on a NETLINK_NETFILTER socket. */
static void nft_marker(struct nlb *b, uint16_t type, uint16_t res_id)
{
	uint8_t *g;

	nlb_msg(b, type, 0);
	g = nlb_extra(b, sizeof(struct nfgenmsg));
	if (g)
		g[3] = (uint8_t)res_id;    /* res_id is big-endian */
}

static void nft_table(struct nlb *b, int msg, uint16_t flags, const char *name)
{
	uint8_t *g;

	nlb_msg(b, NFNL_SUBSYS_NFTABLES << 8 | msg, flags);
	g = nlb_extra(b, sizeof(struct nfgenmsg));
	if (g)
		g[0] = NFPROTO_INET;
	nlb_put_strz(b, NFTA_TABLE_NAME, name);
}

static int nft_exists(struct nlsock *n, const char *name)
{
	char buf[128] __attribute__((aligned(8)));
	struct seen v = { 0 };
	struct ebuf eb;
	struct nlb b;
	int r;

	nlb_init(&b, buf, sizeof(buf));
	nft_table(&b, NFT_MSG_GETTABLE, 0, name);
	r = nlsock_talk(n, b.nlh, seen_cb, &v, &eb);
	if (r == 0 && v.n == 1 && v.type == (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE))
		return 1;
	return r == -ENOENT ? 0 : -1;
}

static void test_nft(void)
{
	struct nlsock n = { 0 };
	struct ebuf eb;
	struct nlb b;
	size_t fi;
	int r;

	if (!ok(nlsock_open(&n, NETLINK_NETFILTER) == 0, "open NETLINK_NETFILTER"))
		return;
	nlb_init(&b, big, sizeof(big));
	nft_marker(&b, NFNL_MSG_BATCH_BEGIN, NFNL_SUBSYS_NFTABLES);
	nft_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, "vgtest");
	nft_marker(&b, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES);
	r = nlsock_batch(&n, big, b.len, &fi, &eb);
	if (r == -EOPNOTSUPP || r == -EPROTONOSUPPORT) {
		ok(1, "skipped: no nf_tables in this kernel");
		nlsock_close(&n);
		return;
	}
	is_int(r, 0, "nft batch creates table inet vgtest");
	is_int(nft_exists(&n, "vgtest"), 1, "GETTABLE finds it");

	nlb_init(&b, big, sizeof(big));
	nft_marker(&b, NFNL_MSG_BATCH_BEGIN, NFNL_SUBSYS_NFTABLES);
	nft_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, "vgtest2");
	nft_table(&b, NFT_MSG_DELTABLE, 0, "nonexistent");
	nft_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, "vgtest3");
	nft_marker(&b, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES);
	r = nlsock_batch(&n, big, b.len, &fi, &eb);
	ok(r == -ENOENT && fi == 2, "DELTABLE of a missing table: -ENOENT at index 2");
	diag("%s", eb.msg);
	ok(nft_exists(&n, "vgtest2") == 0 && nft_exists(&n, "vgtest3") == 0,
	   "the batch is atomic: neither new table exists");

	nlb_init(&b, big, sizeof(big));
	nft_marker(&b, NFNL_MSG_BATCH_BEGIN, 99);
	nft_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, "vgtest4");
	nft_marker(&b, NFNL_MSG_BATCH_END, 99);
	r = nlsock_batch(&n, big, b.len, &fi, &eb);
	ok(r == -EINVAL && fi == 0, "unknown subsystem: batch-wide -EINVAL against BEGIN");

	nlb_init(&b, big, sizeof(big));
	nft_marker(&b, NFNL_MSG_BATCH_BEGIN, NFNL_SUBSYS_NFTABLES);
	nft_marker(&b, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES);
	is_int(nlsock_batch(&n, big, b.len, &fi, &eb), 0, "BEGIN, END alone: nothing to wait for");

	nlb_init(&b, big, sizeof(big));
	nft_marker(&b, NFNL_MSG_BATCH_BEGIN, NFNL_SUBSYS_NFTABLES);
	nft_table(&b, NFT_MSG_DELTABLE, 0, "vgtest");
	r = nlsock_batch(&n, big, b.len, &fi, &eb);
	is_int(r, -EINVAL, "BEGIN without END: refused before sending");
	nft_marker(&b, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES);
	nft_marker(&b, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES);
	is_int(nlsock_batch(&n, big, b.len, &fi, &eb), -EINVAL, "END twice: refused");
	b.len -= NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct nfgenmsg)));
	is_int(nlsock_batch(&n, big, b.len, &fi, &eb), 0, "BEGIN, DELTABLE vgtest, END");
	is_int(nft_exists(&n, "vgtest"), 0, "the table is gone");

	/* a message too short for nfgenmsg makes the kernel drop the batch without a word */
	nlb_init(&b, big, sizeof(big));
	nft_marker(&b, NFNL_MSG_BATCH_BEGIN, NFNL_SUBSYS_NFTABLES);
	nlb_msg(&b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_marker(&b, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES);
	r = nlsock_batch(&n, big, b.len, &fi, &eb);
	ok(r == -ETIMEDOUT && fi == SIZE_MAX, "a batch the kernel never answers: -ETIMEDOUT");
	diag("%s", eb.msg);
	is_int(nft_exists(&n, "vgtest"), 0, "the socket still works afterwards");
	nlsock_close(&n);
}

/* ---- misuse and injected failures ------------------------------------------------------- */

static void test_misuse(void)
{
	char buf[64] __attribute__((aligned(8)));
	struct nlsock z = { 0 };
	struct ebuf eb;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, RTM_GETLINK, 0);
	nlb_extra(&b, sizeof(struct ifinfomsg));
	is_int(nlsock_talk(&z, b.nlh, NULL, NULL, &eb), -EBADF, "talk on a zeroed socket: -EBADF");
	nlsock_close(&z);
	nlsock_close(&z);
	ok(z.fd == -1 && !z.rbuf, "close of a zeroed socket, twice");
	is_int(nlsock_talk(&s, NULL, NULL, NULL, &eb), -EINVAL, "NULL request: -EINVAL");
	is_int(nlsock_open(&z, 4242), -EPROTONOSUPPORT, "unknown protocol");
	ok(z.fd == -1 && !z.rbuf, "a failed open leaves it closed");
}

static void test_faults(void)
{
	struct nlsock f = { 0 };
	struct seen v = { 0 };
	struct count c = { 0 };
	unsigned long n, calls;
	struct ebuf eb;
	int r1, r2, bad = 0;
	struct nlsock keep = s;

	for (n = 1;; n++) {
		fault_reset(n);
		r1 = nlsock_open(&f, NETLINK_ROUTE);
		r2 = r1 ? r1 : get_link(&f, "lo", &v, &eb);
		if (!r1) {
			s = f;    /* count_cb spots datagrams by s.rbuf */
			r2 = r2 ? r2 : dump(RTM_GETLINK, sizeof(struct ifinfomsg), &c, &eb);
			s = keep;
		}
		nlsock_close(&f);
		calls = fault_reset(0);
		bad += (r1 && r1 != -ENOMEM) || (r2 && r2 != -ENOBUFS && r2 != -ENOMEM);
		if (calls < n)
			break;
	}
	diag("%lu fallible calls", n - 1);
	is_int(bad, 0, "every injected failure: -ENOMEM or -ENOBUFS, no crash, no leak");
	ok(n > 3, "the loop reached the open and both sends");
}

int main(void)
{
	if (unshare(CLONE_NEWNET)) {
		ok(0, "unshare(CLONE_NEWNET): this test needs root");
		return tap_done();
	}
	test_open_and_dump();
	test_talk();
	test_foreign();
	test_many_links();
	test_dump_intr();
	test_batch_addr();
	test_nft();
	test_misuse();
	test_faults();
	nlsock_close(&s);
	return tap_done();
}
