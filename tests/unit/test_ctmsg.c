// SPDX-License-Identifier: MIT
/* deps: nl/ctmsg.c nl/nlsock.c nl/nlmsg.c base/err.c base/mem.c base/buf.c */
/*
 * test_ctmsg.c: the conntrack flush, byte by byte and against the real kernel. Needs root:
 * main() moves the process into a fresh network namespace (unshare(CLONE_NEWNET)) first, so
 * only that namespace's table is ever touched. Entries are made with ctnetlink itself
 * (IPCTNL_MSG_CT_NEW, a test-only builder below): no traffic is needed to fill the table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "tap.h"
#include "base/err.h"
#include "nl/ctmsg.h"
#include "nl/nlmsg.h"
#include "nl/nlsock.h"

static struct nlsock s;

static void test_bytes(void)
{
	uint64_t buf[8];
	struct nlb b;
	const struct nfgenmsg *g;

	nlb_init(&b, buf, sizeof(buf));
	ctmsg_flush(&b);
	is_int(nlb_err(&b), 0, "flush: built");
	is_int((int)b.len, (int)(NLMSG_HDRLEN + sizeof(struct nfgenmsg)),
	       "flush: a header and an nfgenmsg, no attribute (no tuple: everything)");
	is_int(b.nlh->nlmsg_type, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE,
	       "flush: ctnetlink DELETE");
	is_int(b.nlh->nlmsg_flags, NLM_F_REQUEST, "flush: a request");
	g = nlmsg_data(b.nlh);
	ok(g->nfgen_family == AF_UNSPEC && g->version == NFNETLINK_V0 && g->res_id == 0,
	   "flush: family AF_UNSPEC, version 0 (every family)");

	nlb_init(&b, buf, NLMSG_HDRLEN);
	ctmsg_flush(&b);
	is_int(nlb_err(&b), -EMSGSIZE, "flush: no room for the nfgenmsg is -EMSGSIZE");
}

/* One direction of a UDP tuple. */
static void put_tuple(struct nlb *b, uint16_t type, const char *src, const char *dst,
		      uint16_t sport, uint16_t dport)
{
	struct nlattr *t = nlb_nest_start(b, type), *n;
	struct in_addr a;

	n = nlb_nest_start(b, CTA_TUPLE_IP);
	inet_pton(AF_INET, src, &a);
	nlb_put(b, CTA_IP_V4_SRC, &a, sizeof(a));
	inet_pton(AF_INET, dst, &a);
	nlb_put(b, CTA_IP_V4_DST, &a, sizeof(a));
	nlb_nest_end(b, n);
	n = nlb_nest_start(b, CTA_TUPLE_PROTO);
	nlb_put_u8(b, CTA_PROTO_NUM, IPPROTO_UDP);
	nlb_put_be16(b, CTA_PROTO_SRC_PORT, sport);
	nlb_put_be16(b, CTA_PROTO_DST_PORT, dport);
	nlb_nest_end(b, n);
	nlb_nest_end(b, t);
}

/* A replied UDP flow src:sport -> dst:80, as a probe leaves behind. The kernel marks an entry
 * made over ctnetlink confirmed before it applies CTA_STATUS, so the status must say so too. */
static int make_entry(const char *src, const char *dst, uint16_t sport)
{
	uint64_t buf[64];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nlb_nfmsg(&b, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW, NLM_F_CREATE | NLM_F_EXCL,
		  AF_INET, 0);
	put_tuple(&b, CTA_TUPLE_ORIG, src, dst, sport, 80);
	put_tuple(&b, CTA_TUPLE_REPLY, dst, src, 80, sport);
	nlb_put_be32(&b, CTA_TIMEOUT, 30);
	nlb_put_be32(&b, CTA_STATUS, IPS_SEEN_REPLY | IPS_CONFIRMED);
	if (nlb_err(&b))
		return nlb_err(&b);
	return nlsock_talk(&s, b.nlh, NULL, NULL, NULL);
}

static int count_cb(const struct nlmsghdr *nlh, void *ctx)
{
	if (nlh->nlmsg_type == (NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW))
		++*(int *)ctx;
	return 0;
}

/* Entries in the table, all families; -errno when the dump fails. */
static int count_entries(void)
{
	uint64_t buf[8];
	struct nlb b;
	int n = 0, r;

	nlb_init(&b, buf, sizeof(buf));
	nlb_nfmsg(&b, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET, 0, AF_UNSPEC, 0);
	r = nlsock_dump(&s, b.nlh, count_cb, NULL, &n, NULL);
	return r ? r : n;
}

static int flush(struct ebuf *eb)
{
	uint64_t buf[8];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	ctmsg_flush(&b);
	return nlsock_talk(&s, b.nlh, NULL, NULL, eb);
}

static void test_kernel(void)
{
	struct ebuf eb = { 0 };
	int i, made = 0;

	if (!ok(nlsock_open(&s, NETLINK_NETFILTER) == 0, "a NETLINK_NETFILTER socket"))
		return;
	is_int(count_entries(), 0, "a new namespace's table is empty");
	is_int(flush(&eb), 0, "flushing an empty table is fine");
	for (i = 0; i < 50; i++)
		made += make_entry("10.244.1.4", i % 2 ? "10.244.1.5" : "10.244.2.7",
				   (uint16_t)(40000 + i)) == 0;
	is_int(made, 50, "50 UDP entries made over ctnetlink");
	is_int(count_entries(), 50, "the dump lists all 50");
	is_int(make_entry("10.244.1.4", "10.244.1.5", 40001), -EEXIST,
	       "the same tuple again is -EEXIST: the entry is really there");
	is_int(flush(&eb), 0, "flush: acked");
	is_int(count_entries(), 0, "after the flush the table is empty");
	is_int(make_entry("10.244.1.4", "10.244.1.5", 40001), 0,
	       "the tuple can be made again: the old entry is gone, not just hidden");
	is_int(flush(&eb), 0, "a second flush");
	is_int(count_entries(), 0, "empty again");
	nlsock_close(&s);
}

int main(void)
{
	test_bytes();
	if (unshare(CLONE_NEWNET)) {
		ok(0, "unshare(CLONE_NEWNET): this test needs root");
		return tap_done();
	}
	test_kernel();
	return tap_done();
}
