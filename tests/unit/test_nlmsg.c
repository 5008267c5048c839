// SPDX-License-Identifier: MIT
/* deps: nl/nlmsg.c base/err.c base/mem.c base/buf.c */
/*
 * test_nlmsg.c: the netlink builder and parsers. Golden bytes worked out by hand from the uapi
 * structs; every capacity from 0 to the full size (all or -EMSGSIZE, nothing written past the
 * cap, b->len as before the failing put); malformed and truncated replies; NLMSG_ERROR and
 * NLMSG_DONE with extended acks, capped and echoed; recorded kernel dumps. Every parser input
 * ends against a guard page, odd lengths poisoned up to it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sanitizer/asan_interface.h>

#include "tap.h"
#include "base/err.h"
#include "nl/nlmsg.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "golden bytes below are written for a little-endian host"
#endif

#define R4(n) (((n) + 3) & ~(size_t)3)

/* guard_copy needs a 4-multiple to keep the start aligned: poison the slack instead. */
static void *place(const void *p, size_t n)
{
	char *q = guard_copy(p, R4(n));

	ASAN_POISON_MEMORY_REGION(q + n, R4(n) - n);
	return q;
}

static void unplace(void *q, size_t n)
{
	ASAN_UNPOISON_MEMORY_REGION((char *)q + n, R4(n) - n);
	guard_free(q, R4(n));
}

/* ---- golden bytes ----------------------------------------------------------------------- */

static const uint8_t golden_flat[] = {
	0x78, 0, 0, 0, 0x10, 0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* nlmsghdr */
	0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,           /* ifinfomsg */
	10, 0, 3, 0, 'v', 'e', 't', 'h', '0', 0, 0, 0,             /* IFLA_IFNAME */
	8, 0, 4, 0, 0xdc, 0x05, 0, 0,                              /* IFLA_MTU 1500 */
	5, 0, 16, 0, 6, 0, 0, 0,                                   /* u8 + 3 pad */
	4, 0, 99, 0,                                               /* flag */
	6, 0, 5, 0, 0x34, 0x12, 0, 0,                              /* u16 */
	12, 0, 6, 0, 8, 7, 6, 5, 4, 3, 2, 1,                       /* u64 */
	6, 0, 7, 0, 0x12, 0x34, 0, 0,                              /* be16 */
	8, 0, 8, 0, 10, 0, 0, 1,                                   /* be32 */
	12, 0, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8,                       /* be64 */
	7, 0, 10, 0, 'a', 'b', 'c', 0,                             /* raw, odd length */
};

static void build_flat(struct nlb *b)
{
	struct ifinfomsg *ifi;

	nlb_msg(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	ifi = nlb_extra(b, sizeof(*ifi));
	if (ifi) {
		ifi->ifi_index = 7;
		ifi->ifi_flags = 1;
		ifi->ifi_change = 1;
	}
	nlb_put_strz(b, IFLA_IFNAME, "veth0");
	nlb_put_u32(b, IFLA_MTU, 1500);
	nlb_put_u8(b, IFLA_OPERSTATE, 6);
	nlb_put_flag(b, 99);
	nlb_put_u16(b, 5, 0x1234);
	nlb_put_u64(b, 6, 0x0102030405060708ULL);
	nlb_put_be16(b, 7, 0x1234);
	nlb_put_be32(b, 8, 0x0a000001);
	nlb_put_be64(b, 9, 0x0102030405060708ULL);
	nlb_put(b, 10, "abc", 3);
}

static const uint8_t golden_veth[] = {
	0x58, 0, 0, 0, 0x10, 0, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	6, 0, 3, 0, 'a', 0, 0, 0,                                  /* IFLA_IFNAME "a" */
	0x30, 0, 0x12, 0x80,                                       /* IFLA_LINKINFO, nested */
	9, 0, 1, 0, 'v', 'e', 't', 'h', 0, 0, 0, 0,                /*  IFLA_INFO_KIND */
	0x20, 0, 0x02, 0x80,                                       /*  IFLA_INFO_DATA */
	0x1c, 0, 0x01, 0x80,                                       /*   VETH_INFO_PEER */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,           /*    ifinfomsg */
	6, 0, 3, 0, 'b', 0, 0, 0,                                  /*    IFLA_IFNAME "b" */
};

static void build_veth(struct nlb *b, const char *peer_name)
{
	struct nlattr *li, *data, *peer;

	nlb_msg(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	nlb_extra(b, sizeof(struct ifinfomsg));
	nlb_put_strz(b, IFLA_IFNAME, "a");
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

static const uint8_t golden_batch[] = {
	20, 0, 0, 0, 0x10, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10,
	36, 0, 0, 0, 0x00, 0x0a, 0x01, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	6, 0, 1, 0, 't', 0, 0, 0,
	8, 0, 2, 0, 0, 0, 0, 0,
	20, 0, 0, 0, 0x11, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10,
};

static void build_batch(struct nlb *b)
{
	uint8_t *g;

	nlb_msg(b, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST);
	g = nlb_extra(b, sizeof(struct nfgenmsg));
	if (g)
		g[3] = NFNL_SUBSYS_NFTABLES;    /* res_id, big-endian */
	nlb_msg(b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, NLM_F_REQUEST | NLM_F_CREATE);
	g = nlb_extra(b, sizeof(struct nfgenmsg));
	if (g)
		g[0] = NFPROTO_INET;
	nlb_put_strz(b, NFTA_TABLE_NAME, "t");
	nlb_put_be32(b, NFTA_TABLE_FLAGS, 0);
	nlb_msg(b, NFNL_MSG_BATCH_END, NLM_F_REQUEST);
	g = nlb_extra(b, sizeof(struct nfgenmsg));
	if (g)
		g[3] = NFNL_SUBSYS_NFTABLES;
}

static void build_veth_b(struct nlb *b)
{
	build_veth(b, "b");
}

struct golden {
	const char *name;
	void (*build)(struct nlb *b);
	const uint8_t *want;
	size_t n;
};

static const struct golden goldens[] = {
	{ "flat", build_flat, golden_flat, sizeof(golden_flat) },
	{ "veth nest", build_veth_b, golden_veth, sizeof(golden_veth) },
	{ "nft batch", build_batch, golden_batch, sizeof(golden_batch) },
};

static void test_golden(void)
{
	char buf[512] __attribute__((aligned(8)));
	char what[96];
	struct nlb b;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(goldens); i++) {
		memset(buf, 0xa5, sizeof(buf));
		nlb_init(&b, buf, sizeof(buf));
		goldens[i].build(&b);
		snprintf(what, sizeof(what), "golden %s: no error", goldens[i].name);
		is_int(nlb_err(&b), 0, what);
		snprintf(what, sizeof(what), "golden %s: length", goldens[i].name);
		is_int(b.len, goldens[i].n, what);
		snprintf(what, sizeof(what), "golden %s: bytes", goldens[i].name);
		ok(b.len == goldens[i].n && !memcmp(buf, goldens[i].want, b.len), what);
	}
}

/* ---- every capacity --------------------------------------------------------------------- */

/* After each call: on success remember the state; once failed, nothing may move. */
struct track {
	size_t len;
	const struct nlmsghdr *nlh;
	uint32_t nlmsg_len;
	int moved;
};

static void track(const struct nlb *b, struct track *t)
{
	if (b->err) {
		t->moved += b->len != t->len || b->nlh != t->nlh ||
			    (b->nlh && b->nlh->nlmsg_len != t->nlmsg_len);
		return;
	}
	t->len = b->len;
	t->nlh = b->nlh;
	t->nlmsg_len = b->nlh ? b->nlh->nlmsg_len : 0;
}

/* The three goldens back to back, checked after every call. */
static void build_all_tracked(struct nlb *b, struct track *t)
{
	struct nlattr *li, *data, *peer;

	nlb_msg(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK), track(b, t);
	nlb_extra(b, sizeof(struct ifinfomsg)), track(b, t);
	nlb_put_strz(b, IFLA_IFNAME, "veth0"), track(b, t);
	nlb_put_u8(b, IFLA_OPERSTATE, 6), track(b, t);
	nlb_put_u64(b, 6, 1), track(b, t);
	nlb_put_be64(b, 9, 1), track(b, t);
	nlb_put(b, 10, "abc", 3), track(b, t);
	nlb_put_flag(b, 11), track(b, t);
	li = nlb_nest_start(b, IFLA_LINKINFO), track(b, t);
	nlb_put_strz(b, IFLA_INFO_KIND, "veth"), track(b, t);
	data = nlb_nest_start(b, IFLA_INFO_DATA), track(b, t);
	peer = nlb_nest_start(b, VETH_INFO_PEER), track(b, t);
	nlb_extra(b, sizeof(struct ifinfomsg)), track(b, t);
	nlb_put_strz(b, IFLA_IFNAME, "b"), track(b, t);
	nlb_nest_end(b, peer), track(b, t);
	nlb_nest_end(b, data), track(b, t);
	nlb_nest_end(b, li), track(b, t);
	nlb_msg(b, NFNL_MSG_BATCH_END, NLM_F_REQUEST), track(b, t);
	nlb_extra(b, 1), track(b, t);
	nlb_put_be16(b, 1, 2), track(b, t);
	nlb_put_be32(b, 2, 3), track(b, t);
	nlb_put_u16(b, 3, 4), track(b, t);
	nlb_put_u32(b, 4, 5), track(b, t);
}

/* A built prefix must itself be well-formed: whole messages, nothing left over. */
static bool frames_ok(const char *buf, size_t len)
{
	const struct nlmsghdr *nlh;
	size_t left;

	for_each_nlmsg(nlh, buf, len, left)
		;
	return left == 0;
}

static void test_every_cap(void)
{
	char full[512] __attribute__((aligned(8)));
	struct track t = { 0 };
	struct nlb b;
	size_t cap, n, i;
	int bad = 0, bad_len = 0, bad_tail = 0, bad_frame = 0;
	char *q;

	nlb_init(&b, full, sizeof(full));
	build_all_tracked(&b, &t);
	is_int(nlb_err(&b), 0, "every cap: reference builds");
	n = b.len;
	for (cap = 0; cap <= n + 4; cap++) {
		q = memset(place(full, cap), 0xa5, cap);
		nlb_init(&b, q, cap);
		t = (struct track){ 0 };
		build_all_tracked(&b, &t);
		if (cap >= n)
			bad += b.err != 0 || b.len != n || memcmp(q, full, n);
		else
			bad += b.err != -EMSGSIZE || b.len > cap;
		bad_len += t.moved;
		for (i = b.len; i < cap; i++)
			bad_tail += (uint8_t)q[i] != 0xa5;
		bad_frame += !frames_ok(q, b.len);
		unplace(q, cap);
	}
	is_int(bad, 0, "every cap 0..full+4: all or -EMSGSIZE, same bytes when it fits");
	is_int(bad_len, 0, "every cap: b->len and nlmsg_len unchanged by a failing call");
	is_int(bad_tail, 0, "every cap: nothing written past the last good call");
	is_int(bad_frame, 0, "every cap: the bytes kept are whole messages");
}

/* ---- builder limits and misuse ---------------------------------------------------------- */

static void test_builder_limits(void)
{
	static char big[140000] __attribute__((aligned(8)));
	char buf[64] __attribute__((aligned(8)));
	struct nlattr *nest, *inner;
	struct nlb b;
	size_t before;

	nlb_init(&b, big, sizeof(big));
	nlb_msg(&b, RTM_NEWLINK, 0);
	nlb_put(&b, 1, NULL, UINT16_MAX - NLA_HDRLEN);
	is_int(nlb_err(&b), 0, "largest attribute payload (65531) fits");
	nlb_put(&b, 1, NULL, UINT16_MAX - NLA_HDRLEN + 1);
	is_int(nlb_err(&b), -EMSGSIZE, "payload 65532 cannot be described by nla_len");

	nlb_init(&b, big, sizeof(big));
	nlb_msg(&b, RTM_NEWLINK, 0);
	before = b.len;
	nest = nlb_nest_start(&b, 1);
	nlb_put(&b, 2, NULL, 40000);
	nlb_put(&b, 2, NULL, 40000);
	is_int(nlb_err(&b), 0, "80000 bytes inside a nest: puts fit the buffer");
	nlb_nest_end(&b, nest);
	is_int(nlb_err(&b), -EMSGSIZE, "nest over 65535: -EMSGSIZE at nest_end");
	is_int(b.len, before, "nest over 65535: removed whole");
	is_int(b.nlh->nlmsg_len, before, "nest over 65535: nlmsg_len back too");

	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, RTM_NEWLINK, 0);
	before = b.len;
	nest = nlb_nest_start(&b, 1);
	inner = nlb_nest_start(&b, 2);
	nlb_put_u32(&b, 3, 3);
	nlb_nest_end(&b, inner);
	nlb_nest_cancel(&b, nest);
	ok(!nlb_err(&b) && b.len == before && b.nlh->nlmsg_len == before, "nest_cancel drops it");

	nlb_init(&b, buf + 1, sizeof(buf) - 1);
	ok(!nlb_msg(&b, 1, 0) && nlb_err(&b) == -EINVAL, "misaligned buffer: -EINVAL");
	nlb_init(&b, NULL, 100);
	ok(!nlb_msg(&b, 1, 0) && nlb_err(&b) == -EMSGSIZE, "NULL buffer has no room");
	nlb_init(&b, buf, sizeof(buf));
	nlb_put_u32(&b, 1, 1);
	ok(nlb_err(&b) == -EINVAL && b.len == 0, "put before nlb_msg: -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, 1, 0);
	nlb_put_strz(&b, 1, NULL);
	is_int(nlb_err(&b), -EINVAL, "NULL string: -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, 1, 0);
	nlb_nest_end(&b, (struct nlattr *)(void *)buf);
	is_int(nlb_err(&b), -EINVAL, "nest_end on the message header: -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, 1, 0);
	nlb_put_u32(&b, 1, 1);
	nlb_msg(&b, 2, 0);
	nlb_nest_cancel(&b, (struct nlattr *)(void *)(buf + NLMSG_HDRLEN));
	is_int(nlb_err(&b), -EINVAL, "nest_cancel on a previous message: -EINVAL");
	nlb_init(&b, buf, 16);
	nlb_msg(&b, 1, 0);
	ok(nlb_err(&b) == 0 && !nlb_extra(&b, 1) && nlb_err(&b) == -EMSGSIZE && b.len == 16,
	   "exact fit, then nothing");
	ok(!nlb_msg(&b, 1, 0) && !nlb_nest_start(&b, 1) && b.len == 16, "errors are sticky");
	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, 1, 0);
	ok(!nlb_extra(&b, SIZE_MAX) && nlb_err(&b) == -EMSGSIZE, "nlb_extra(SIZE_MAX)");
}

/* ---- parsing ---------------------------------------------------------------------------- */

static void test_parse_built(void)
{
	char buf[512] __attribute__((aligned(8)));
	const struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1], *data[VETH_INFO_MAX + 1];
	const struct nlattr *peer[IFLA_MAX + 1];
	const struct nlmsghdr *nlh;
	struct nlb b;
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;
	size_t left, n = 0;
	char *q;

	nlb_init(&b, buf, sizeof(buf));
	build_flat(&b);
	build_veth(&b, "peer0");
	q = place(buf, b.len);
	for_each_nlmsg(nlh, q, b.len, left)
		n++;
	ok(n == 2 && left == 0, "two messages, nothing left");
	nlh = (const void *)q;
	is_int(nlmsg_parse(tb, IFLA_MAX, nlh, sizeof(struct ifinfomsg)), 0, "flat parses");
	is_str(nla_get_strz(tb[IFLA_IFNAME]), "veth0", "IFLA_IFNAME");
	ok(!nla_get_u32(tb[IFLA_MTU], &u32) && u32 == 1500, "u32");
	ok(!nla_get_u8(tb[IFLA_OPERSTATE], &u8) && u8 == 6, "u8 (padded)");
	ok(!nla_get_u16(tb[5], &u16) && u16 == 0x1234, "u16");
	ok(!nla_get_u64(tb[6], &u64) && u64 == 0x0102030405060708ULL, "u64 at a 4-aligned spot");
	ok(!nla_get_be16(tb[7], &u16) && u16 == 0x1234, "be16");
	ok(!nla_get_be32(tb[8], &u32) && u32 == 0x0a000001, "be32");
	ok(!nla_get_be64(tb[9], &u64) && u64 == 0x0102030405060708ULL, "be64");
	ok(nla_get_u16(tb[IFLA_MTU], &u16) == -EINVAL, "u16 getter on a u32: -EINVAL");
	ok(nla_get_u64(tb[IFLA_MTU], &u64) == -EINVAL, "u64 getter on a u32: -EINVAL");
	ok(nla_get_u32(tb[IFLA_OPERSTATE], &u32) == -EINVAL, "u32 getter on a u8: -EINVAL");
	ok(nla_get_u32(NULL, &u32) == -EINVAL, "getter on a missing attribute: -EINVAL");
	ok(!nla_get_strz(tb[10]), "\"abc\" without NUL is not a string");
	ok(!nla_get_strz(NULL), "strz of a missing attribute");

	nlh = nlmsg_next(nlh, &(size_t){ b.len });
	is_int(nlmsg_parse(tb, IFLA_MAX, nlh, sizeof(struct ifinfomsg)), 0, "veth parses");
	is_int(nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO]), 0, "linkinfo nest");
	ok(tb[IFLA_LINKINFO]->nla_type & NLA_F_NESTED, "NLA_F_NESTED set on the wire");
	is_int(nla_type(tb[IFLA_LINKINFO]), IFLA_LINKINFO, "nla_type masks the flag");
	is_str(nla_get_strz(li[IFLA_INFO_KIND]), "veth", "kind");
	is_int(nla_parse_nested(data, VETH_INFO_MAX, li[IFLA_INFO_DATA]), 0, "info data nest");
	ok(data[VETH_INFO_PEER] && nla_datalen(data[VETH_INFO_PEER]) >= sizeof(struct ifinfomsg),
	   "peer carries an ifinfomsg");
	is_int(nla_parse(peer, IFLA_MAX,
			 (const char *)nla_data(data[VETH_INFO_PEER]) + sizeof(struct ifinfomsg),
			 nla_datalen(data[VETH_INFO_PEER]) - sizeof(struct ifinfomsg)),
	       0, "peer attributes");
	is_str(nla_get_strz(peer[IFLA_IFNAME]), "peer0", "peer name");
	is_int(nla_parse_nested(data, VETH_INFO_MAX, NULL), -EINVAL, "nested parse of NULL");
	is_int(nlmsg_parse(tb, IFLA_MAX, nlh, nlmsg_datalen(nlh) + 1), -EINVAL,
	       "family header longer than the message: -EINVAL");
	is_int(nlmsg_parse(tb, IFLA_MAX, nlh, nlmsg_datalen(nlh)), 0, "header only: no attrs");
	ok(!tb[IFLA_IFNAME], "header only: tb empty");
	unplace(q, b.len);
}

struct attr_case {
	const char *what;
	uint8_t in[24];
	size_t n;
	int want;           /* nla_parse result */
	int found;          /* attributes indexed */
};

static const struct attr_case attr_cases[] = {
	{ "empty", { 0 }, 0, 0, 0 },
	{ "one u32", { 8, 0, 1, 0, 1, 2, 3, 4 }, 8, 0, 1 },
	{ "empty attribute (len 4)", { 4, 0, 1, 0 }, 4, 0, 1 },
	{ "last lacks padding", { 8, 0, 1, 0, 1, 2, 3, 4, 5, 0, 2, 0, 9 }, 13, 0, 2 },
	{ "nla_len 0", { 0, 0, 1, 0, 1, 2, 3, 4 }, 8, -EINVAL, 0 },
	{ "nla_len 3", { 3, 0, 1, 0, 1, 2, 3, 4 }, 8, -EINVAL, 0 },
	{ "nla_len 0xffff", { 0xff, 0xff, 1, 0, 1, 2, 3, 4 }, 8, -EINVAL, 0 },
	{ "nla_len past container by 1", { 9, 0, 1, 0, 1, 2, 3, 4 }, 8, -EINVAL, 0 },
	{ "1 byte left over", { 8, 0, 1, 0, 1, 2, 3, 4, 0 }, 9, -EINVAL, 0 },
	{ "2 bytes left over", { 8, 0, 1, 0, 1, 2, 3, 4, 0, 0 }, 10, -EINVAL, 0 },
	{ "3 bytes left over", { 8, 0, 1, 0, 1, 2, 3, 4, 4, 0, 1 }, 11, -EINVAL, 0 },
	{ "second bad", { 8, 0, 1, 0, 1, 2, 3, 4, 12, 0, 2, 0, 1, 2, 3, 4 }, 16, -EINVAL, 0 },
	{ "only 3 bytes", { 4, 0, 1 }, 3, -EINVAL, 0 },
	{ "type above max skipped", { 8, 0, 9, 0, 1, 2, 3, 4 }, 8, 0, 0 },
	{ "flags masked", { 8, 0, 2, 0xc0, 1, 2, 3, 4 }, 8, 0, 1 },
	{ "duplicate: last wins", { 5, 0, 1, 0, 1, 0, 0, 0, 5, 0, 1, 0, 2 }, 13, 0, 1 },
};

static void test_attr_cases(void)
{
	const struct nlattr *tb[4];
	char what[96];
	size_t i, j;
	int r, found;
	char *q;

	for (i = 0; i < ARRAY_SIZE(attr_cases); i++) {
		const struct attr_case *c = &attr_cases[i];

		q = place(c->in, c->n);
		r = nla_parse(tb, 3, q, c->n);
		for (found = 0, j = 0; j < ARRAY_SIZE(tb); j++)
			found += tb[j] != NULL;
		snprintf(what, sizeof(what), "nla_parse %s: %d", c->what, c->want);
		is_int(r, c->want, what);
		snprintf(what, sizeof(what), "nla_parse %s: %d indexed", c->what, c->found);
		is_int(found, c->found, what);
		if (i == ARRAY_SIZE(attr_cases) - 1)
			ok(tb[1] && ((const uint8_t *)nla_data(tb[1]))[0] == 2, "last duplicate kept");
		unplace(q, c->n);
	}
}

struct msg_case {
	const char *what;
	uint8_t in[40];
	size_t n;
	size_t msgs;        /* messages for_each_nlmsg yields */
	size_t left;        /* bytes it leaves */
};

static const struct msg_case msg_cases[] = {
	{ "header only", { 16 }, 16, 1, 0 },
	{ "nlmsg_len 8", { 8 }, 16, 0, 16 },
	{ "nlmsg_len 15", { 15 }, 16, 0, 16 },
	{ "nlmsg_len 0", { 0 }, 16, 0, 16 },
	{ "nlmsg_len past buffer", { 20 }, 16, 0, 16 },
	{ "nlmsg_len huge", { 0xff, 0xff, 0xff, 0xff }, 16, 0, 16 },
	{ "short buffer", { 16 }, 12, 0, 12 },
	{ "two, last unpadded", { 20, [20] = 17 }, 37, 2, 0 },
	{ "good then junk", { 16, [16] = 3 }, 20, 1, 4 },
	{ "good then short header", { 16, [16] = 32 }, 32, 1, 16 },
};

static void test_msg_cases(void)
{
	const struct nlmsghdr *nlh;
	char what[96];
	size_t i, left, n;
	char *q;

	for (i = 0; i < ARRAY_SIZE(msg_cases); i++) {
		const struct msg_case *c = &msg_cases[i];

		q = place(c->in, c->n);
		n = 0;
		for_each_nlmsg(nlh, q, c->n, left)
			n++;
		snprintf(what, sizeof(what), "messages: %s", c->what);
		ok(n == c->msgs && left == c->left, what);
		unplace(q, c->n);
	}
	ok(!nlmsg_ok((const void *)(golden_flat + 2), 64), "misaligned message is not ok");
	ok(!nla_ok((const void *)(golden_flat + 34), 8), "misaligned attribute is not ok");
}

/* Every prefix of a real message, byte by byte, and a nested walk of whatever parses. */
static size_t walk(const void *data, size_t len, int depth)
{
	const struct nlattr *a;
	size_t left, n = 0;

	for_each_nla(a, data, len, left) {
		n++;
		if (depth < 4)
			n += walk(nla_data(a), nla_datalen(a), depth + 1);
	}
	return n;
}

static void test_partial(void)
{
	char buf[256] __attribute__((aligned(8)));
	const struct nlmsghdr *nlh;
	struct nlb b;
	size_t k, left, whole = 0, attrs = 0;
	char *q;

	nlb_init(&b, buf, sizeof(buf));
	build_veth(&b, "b");
	build_flat(&b);
	for (k = 0; k <= b.len; k++) {
		q = place(buf, k);
		for_each_nlmsg(nlh, q, k, left) {
			whole++;
			attrs += walk((const char *)nlmsg_data(nlh) + sizeof(struct ifinfomsg),
				      nlmsg_datalen(nlh) - sizeof(struct ifinfomsg), 0);
		}
		unplace(q, k);
	}
	/* veth (88 bytes) is whole in prefixes 88..208, flat (120) only in the full buffer */
	is_int(whole, (b.len - 88 + 1) + 1, "prefixes: only whole messages come out");
	/* veth: 5 attributes, nested ones included, seen 121 times; flat: 10 once (walking a
	 * payload that is not a nest stops at once: its first bytes make an impossible nla_len) */
	is_int(attrs, 121 * 5 + 10, "prefixes: nested walk sees every attribute");
}

/* ---- NLMSG_ERROR and NLMSG_DONE --------------------------------------------------------- */

/* EEXIST for a 40-byte RTM_NEWLINK, capped, with "Device exists" at byte 32 and a cookie. */
static const uint8_t err_capped[] = {
	0x50, 0, 0, 0, 0x02, 0, 0x00, 0x03, 1, 0, 0, 0, 0x39, 0x30, 0, 0,  /* CAPPED|ACK_TLVS */
	0xef, 0xff, 0xff, 0xff,                                         /* -17 */
	40, 0, 0, 0, 0x10, 0, 0x05, 0x06, 1, 0, 0, 0, 0x39, 0x30, 0, 0,  /* request header */
	18, 0, 1, 0, 'D', 'e', 'v', 'i', 'c', 'e', ' ', 'e', 'x', 'i', 's', 't', 's', 0, 0, 0,
	8, 0, 2, 0, 32, 0, 0, 0,                                        /* NLMSGERR_ATTR_OFFS */
	8, 0, 3, 0, 0xde, 0xad, 0xbe, 0xef,                             /* cookie, ignored */
	8, 0, 5, 0, 3, 0, 0, 0,                                         /* MISS_TYPE 3 */
};

static void put_err(struct nlb *b, int error, uint16_t flags, uint32_t echo_len)
{
	struct nlmsgerr *e;

	nlb_msg(b, NLMSG_ERROR, flags);
	e = nlb_extra(b, sizeof(*e));
	if (!e)
		return;
	e->error = error;
	e->msg.nlmsg_len = echo_len;
	e->msg.nlmsg_type = RTM_NEWLINK;
}

typedef void (*err_build)(struct nlb *b);

static void eb_ack(struct nlb *b)
{
	put_err(b, 0, NLM_F_CAPPED, 16);
}

static void eb_ack_warn(struct nlb *b)
{
	put_err(b, 0, NLM_F_CAPPED | NLM_F_ACK_TLVS, 16);
	nlb_put_strz(b, NLMSGERR_ATTR_MSG, "just a warning");
}

static void eb_plain(struct nlb *b)
{
	put_err(b, -ENOENT, NLM_F_CAPPED, 16);
}

static void eb_echo(struct nlb *b)
{
	/* not capped: the 37-byte request follows the nlmsgerr, padded to 40 */
	put_err(b, -EINVAL, NLM_F_ACK_TLVS, 37);
	nlb_extra(b, 37 - 16);
	nlb_put_strz(b, NLMSGERR_ATTR_MSG, "Unknown device type");
	nlb_put_u32(b, NLMSGERR_ATTR_OFFS, 36);
}

static void eb_offs_only(struct nlb *b)
{
	put_err(b, -ERANGE, NLM_F_CAPPED | NLM_F_ACK_TLVS, 16);
	nlb_put_u32(b, NLMSGERR_ATTR_OFFS, 20);
}

static void eb_ctrl(struct nlb *b)
{
	put_err(b, -EPERM, NLM_F_CAPPED | NLM_F_ACK_TLVS, 16);
	nlb_put_strz(b, NLMSGERR_ATTR_MSG, "two\nlines\t\x1b[1m");
}

static void eb_no_nul(struct nlb *b)
{
	put_err(b, -EPERM, NLM_F_CAPPED | NLM_F_ACK_TLVS, 16);
	nlb_put(b, NLMSGERR_ATTR_MSG, "abc", 3);
}

static void eb_offs_short(struct nlb *b)
{
	put_err(b, -EPERM, NLM_F_CAPPED | NLM_F_ACK_TLVS, 16);
	nlb_put_u16(b, NLMSGERR_ATTR_OFFS, 1);
}

static void eb_positive(struct nlb *b)
{
	put_err(b, 5, NLM_F_CAPPED, 16);
}

static void eb_huge_errno(struct nlb *b)
{
	put_err(b, -100000, NLM_F_CAPPED, 16);
}

static void eb_echo_short(struct nlb *b)
{
	put_err(b, -EPERM, NLM_F_ACK_TLVS, 12);
}

static void eb_echo_past(struct nlb *b)
{
	put_err(b, -EPERM, NLM_F_ACK_TLVS, 200);
}

static void eb_tlv_bad(struct nlb *b)
{
	put_err(b, -EPERM, NLM_F_CAPPED | NLM_F_ACK_TLVS, 16);
	nlb_put_u32(b, NLMSGERR_ATTR_OFFS, 1);
	if (!nlb_err(b))
		((struct nlattr *)(void *)(b->buf + b->len - 8))->nla_len = 9;
}

static void eb_short(struct nlb *b)
{
	nlb_msg(b, NLMSG_ERROR, 0);
	nlb_extra(b, 16);
}

static void eb_wrong_type(struct nlb *b)
{
	put_err(b, -EPERM, NLM_F_CAPPED, 16);
	b->nlh->nlmsg_type = NLMSG_DONE;
}

struct err_case {
	const char *what;
	err_build build;
	int want;
	const char *msg;    /* eb after decoding, which starts as "untouched" */
};

static const struct err_case err_cases[] = {
	{ "ACK", eb_ack, 0, "untouched" },
	{ "ACK with a warning", eb_ack_warn, 0, "untouched" },
	{ "error without TLVs", eb_plain, -ENOENT, "untouched" },
	{ "echoed request", eb_echo, -EINVAL,
	  "kernel: Unknown device type (offending attribute at byte 36)" },
	{ "offset only", eb_offs_only, -ERANGE, "kernel: offending attribute at byte 20" },
	{ "control characters", eb_ctrl, -EPERM, "kernel: two?lines??[1m" },
	{ "message without NUL", eb_no_nul, -EBADMSG, "untouched" },
	{ "OFFS of 2 bytes", eb_offs_short, -EBADMSG, "untouched" },
	{ "positive error", eb_positive, -EBADMSG, "untouched" },
	{ "error below -4095", eb_huge_errno, -EBADMSG, "untouched" },
	{ "echo shorter than a header", eb_echo_short, -EBADMSG, "untouched" },
	{ "echo past the message", eb_echo_past, -EBADMSG, "untouched" },
	{ "TLV past the message", eb_tlv_bad, -EBADMSG, "untouched" },
	{ "shorter than nlmsgerr", eb_short, -EBADMSG, "untouched" },
	{ "not NLMSG_ERROR", eb_wrong_type, -EBADMSG, "untouched" },
};

static void test_errors(void)
{
	char buf[256] __attribute__((aligned(8)));
	struct ebuf eb;
	struct nlb b;
	char what[128];
	size_t i;
	char *q;

	for (i = 0; i < ARRAY_SIZE(err_cases); i++) {
		nlb_init(&b, buf, sizeof(buf));
		err_cases[i].build(&b);
		q = place(buf, b.len);
		ebuf_set(&eb, "untouched");
		snprintf(what, sizeof(what), "decode %s: %d", err_cases[i].what, err_cases[i].want);
		is_int(nlmsg_decode_error((const void *)q, &eb), err_cases[i].want, what);
		snprintf(what, sizeof(what), "decode %s: text", err_cases[i].what);
		is_str(eb.msg, err_cases[i].msg, what);
		is_int(nlmsg_decode_error((const void *)q, NULL), err_cases[i].want,
		       "same without an ebuf");
		unplace(q, b.len);
	}
	q = place(err_capped, sizeof(err_capped));
	is_int(nlmsg_decode_error((const void *)q, &eb), -EEXIST, "hand-made capped: -EEXIST");
	is_str(eb.msg, "kernel: Device exists (offending attribute at byte 32, missing attribute "
		       "type 3)", "hand-made capped: text");
	unplace(q, sizeof(err_capped));
}

static void test_done(void)
{
	char buf[128] __attribute__((aligned(8)));
	struct ebuf eb;
	struct nlb b;
	int *e;
	char *q;

	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, NLMSG_DONE, NLM_F_MULTI);
	q = place(buf, b.len);
	is_int(nlmsg_decode_done((const void *)q, &eb), 0, "DONE without payload: 0");
	unplace(q, b.len);

	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS);
	e = nlb_extra(&b, sizeof(int));
	*e = -EMSGSIZE;
	nlb_put_strz(&b, NLMSGERR_ATTR_MSG, "dump failed");
	q = place(buf, b.len);
	ebuf_clear(&eb);
	is_int(nlmsg_decode_done((const void *)q, &eb), -EMSGSIZE, "DONE with error");
	is_str(eb.msg, "kernel: dump failed", "DONE with ext-ack text");
	unplace(q, b.len);

	*e = 0;
	q = place(buf, b.len);
	is_int(nlmsg_decode_done((const void *)q, NULL), 0, "DONE 0 with a warning: 0");
	unplace(q, b.len);
	*e = 3;
	q = place(buf, b.len);
	is_int(nlmsg_decode_done((const void *)q, NULL), -EBADMSG, "DONE positive: -EBADMSG");
	unplace(q, b.len);
	*e = -1;
	b.nlh->nlmsg_len -= 4;
	q = place(buf, b.len - 4);
	is_int(nlmsg_decode_done((const void *)q, NULL), -EBADMSG, "DONE TLV cut: -EBADMSG");
	unplace(q, b.len - 4);
	b.nlh->nlmsg_type = NLMSG_ERROR;
	is_int(nlmsg_decode_done(b.nlh, NULL), -EBADMSG, "not DONE: -EBADMSG");
}

/* ---- recorded kernel replies (tests/fixtures/netlink, one datagram per file) ------------ */

static char fixture[65536] __attribute__((aligned(8)));

/* Load a recorded datagram and place it against a guard page; 0 when missing. */
static size_t load(const char *file, char **q)
{
	char path[128], what[160];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "../fixtures/netlink/%s", file);
	f = fopen(path, "rb");
	n = f ? fread(fixture, 1, sizeof(fixture), f) : 0;
	if (f)
		fclose(f);
	snprintf(what, sizeof(what), "fixture %s read", file);
	if (!ok(n > 0, what))
		return 0;
	diag("%s: %zu bytes", file, n);
	*q = place(fixture, n);
	return n;
}

static void test_fixture(const char *file, uint16_t type, size_t hdrlen, unsigned maxtype,
			 uint16_t name_attr, const char *name)
{
	const struct nlattr *tb[128];
	const struct nlmsghdr *nlh;
	size_t n, left, msgs = 0, bad = 0, named = 0;
	char what[160];
	char *q;

	n = load(file, &q);
	if (!n)
		return;
	for_each_nlmsg(nlh, q, n, left) {
		if (nlh->nlmsg_type != type)
			continue;
		msgs++;
		bad += nlmsg_parse(tb, maxtype, nlh, hdrlen) != 0 || !tb[name_attr];
		named += tb[name_attr] && name && nla_get_strz(tb[name_attr]) &&
			 !strcmp(nla_get_strz(tb[name_attr]), name);
	}
	snprintf(what, sizeof(what), "fixture %s: whole datagram, %zu messages parse", file, msgs);
	ok(left == 0 && msgs > 0 && bad == 0, what);
	if (name) {
		snprintf(what, sizeof(what), "fixture %s: finds %s", file, name);
		ok(named == 1, what);
	}
	unplace(q, n);
}

/* RTM_NEWLINK with a 29-character IFLA_IFNAME, answered capped and with the request echoed. */
static void test_error_fixture(const char *file)
{
	struct ebuf eb;
	char what[160];
	size_t n;
	char *q;

	n = load(file, &q);
	if (!n)
		return;
	ebuf_clear(&eb);
	snprintf(what, sizeof(what), "fixture %s: -ERANGE", file);
	is_int(nlmsg_decode_error((const void *)q, &eb), -ERANGE, what);
	snprintf(what, sizeof(what), "fixture %s: text", file);
	is_str(eb.msg, "kernel: Attribute failed policy validation (offending attribute at byte 32)",
	       what);
	unplace(q, n);
}

/* nlb_nfmsg: the nfnetlink header every nf_tables and ctnetlink builder starts with. */
static void test_nfmsg(void)
{
	static const uint8_t want[] = {
		20, 0, 0, 0,		/* nlmsg_len: header + nfgenmsg */
		0x10, 0, 0, 0,		/* NFNL_MSG_BATCH_BEGIN (0x10), flags 0 */
		0, 0, 0, 0, 0, 0, 0, 0,	/* seq, pid: the socket's */
		0, 0, 0, 10,		/* AF_UNSPEC, NFNETLINK_V0, res_id 10 big-endian */
	};
	uint64_t buf[8];
	struct nlb b;
	struct nlmsghdr *nlh;

	nlb_init(&b, buf, sizeof(buf));
	nlh = nlb_nfmsg(&b, NFNL_MSG_BATCH_BEGIN, 0, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
	ok(nlh == (struct nlmsghdr *)buf, "nfmsg: the message starts the buffer");
	is_int(nlh ? nlh->nlmsg_flags : -1, NLM_F_REQUEST, "nfmsg: a request");
	is_int((int)b.len, (int)sizeof(want), "nfmsg: header + nfgenmsg");
	is_mem(buf, want, 4, "nfmsg: length");
	is_mem((char *)buf + 16, want + 16, 4, "nfmsg: family, version, res_id big-endian");

	nlb_init(&b, buf, sizeof(buf));
	nlb_nfmsg(&b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, NLM_F_CREATE, NFPROTO_INET, 0);
	is_int(((struct nlmsghdr *)buf)->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE,
	       "nfmsg: the caller's flags with NLM_F_REQUEST");
	is_int(((uint8_t *)buf)[16], NFPROTO_INET, "nfmsg: family");

	nlb_init(&b, buf, NLMSG_HDRLEN + 2);
	ok(!nlb_nfmsg(&b, NFNL_MSG_BATCH_END, 0, NFPROTO_UNSPEC, 0) && nlb_err(&b) == -EMSGSIZE,
	   "nfmsg: no room for the nfgenmsg is NULL and -EMSGSIZE");
}

int main(void)
{
	test_golden();
	test_every_cap();
	test_builder_limits();
	test_parse_built();
	test_attr_cases();
	test_msg_cases();
	test_partial();
	test_errors();
	test_done();
	test_nfmsg();
	test_fixture("getlink.bin", RTM_NEWLINK, sizeof(struct ifinfomsg), IFLA_MAX, IFLA_IFNAME,
		     "lo");
	test_fixture("getaddr.bin", RTM_NEWADDR, sizeof(struct ifaddrmsg), IFA_MAX, IFA_ADDRESS,
		     NULL);
	test_fixture("getroute.bin", RTM_NEWROUTE, sizeof(struct rtmsg), RTA_MAX, RTA_TABLE,
		     NULL);
	test_error_fixture("error-capped.bin");
	test_error_fixture("error-echo.bin");
	return tap_done();
}
