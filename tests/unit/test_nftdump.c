// SPDX-License-Identifier: MIT
/* deps: nl/nftdump.c nl/nftdump_msg.c nl/nftdump_expr.c nl/nftdump_set.c nl/nftmsg.c nl/nlsock.c nl/nlmsg.c core/cidr.c base/err.c base/mem.c base/buf.c */
/*
 * test_nftdump.c: reading a table back. One batch builds a table with every kind of object
 * and every expression we emit, and one we do not decode (limit, built by hand here).
 * Its own messages, decoded without a kernel, must render to the golden text; so must the
 * kernel's dump of it, in a private network namespace (unshare(CLONE_NEWNET), gone with the
 * process), and the recorded replies of that dump fed back through the pure decoder. The
 * expression lines are also held against `nft --debug=netlink` in the same namespace. Then
 * malformed and truncated messages (against a guard page), and a failed allocation at every
 * point. With NFTDUMP_SEEDS=dir the recorded replies are written there as fuzz seeds.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include "tap.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "nl/nftdump.h"
#include "nl/nftmsg.h"
#include "nl/nlmsg.h"
#include "nl/nlsock.h"

#define T "vgtest"

static char bbuf[1 << 16] __attribute__((aligned(8)));

/* ---- an expression we do not decode, and hand-built attributes --------------------- */

struct x {
	struct nlattr *elem, *data;
};

static struct x xstart(struct nlb *b, const char *name)
{
	struct x x;

	x.elem = nlb_nest_start(b, NFTA_LIST_ELEM);
	nlb_put_strz(b, NFTA_EXPR_NAME, name);
	x.data = nlb_nest_start(b, NFTA_EXPR_DATA);
	return x;
}

static void xend(struct nlb *b, struct x x)
{
	nlb_nest_end(b, x.data);
	nlb_nest_end(b, x.elem);
}

static void put_value(struct nlb *b, uint16_t type, const void *p, size_t n)
{
	struct nlattr *a = nlb_nest_start(b, type);

	nlb_put(b, NFTA_DATA_VALUE, p, n);
	nlb_nest_end(b, a);
}

/* limit rate 10/second burst 5 packets: one we do not decode, in the kernel's dump order */
static void x_limit(struct nlb *b)
{
	struct x x = xstart(b, "limit");

	nlb_put_be64(b, NFTA_LIMIT_RATE, 10);
	nlb_put_be64(b, NFTA_LIMIT_UNIT, 1);
	nlb_put_be32(b, NFTA_LIMIT_BURST, 5);
	nlb_put_be32(b, NFTA_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nlb_put_be32(b, NFTA_LIMIT_FLAGS, 0);
	xend(b, x);
}

/* ---- the ruleset -------------------------------------------------------------------- */

enum { ID_ADDRS = 1, ID_ADDRS6, ID_RANGES, ID_VM, ID_NAT4, ID_CSET };

static const uint8_t v4 = NFPROTO_IPV4, v6 = NFPROTO_IPV6, tcp = 6;

static void need(struct nlb *b, const uint8_t *proto)
{
	nftmsg_meta(b, NFT_META_NFPROTO, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, proto, 1);
}

static void put_chains(struct nlb *b)
{
	struct nftmsg_hook fwd = { NF_INET_FORWARD, 0, NF_ACCEPT, "filter" };
	struct nftmsg_hook post = { NF_INET_POST_ROUTING, 100, NF_ACCEPT, "nat" };

	nftmsg_newtable(b, T);
	nftmsg_newchain(b, T, "other", NULL);
	nftmsg_newchain(b, T, "forward", &fwd);
	nftmsg_newchain(b, T, "post", &post);
}

static void put_sets(struct nlb *b)
{
	struct nftmsg_set s = { .table = T, .key_type = NFTMSG_TYPE_IPV4, .key_len = 4 };

	s.name = "vm", s.id = ID_VM, s.flags = NFT_SET_MAP, s.data_type = NFT_DATA_VERDICT;
	nftmsg_newset(b, &s);
	s.name = "nat4", s.id = ID_NAT4, s.data_type = NFTMSG_TYPE_IPV4, s.data_len = 4;
	nftmsg_newset(b, &s);
	/* with nft's userdata, which the kernel keeps and we do not show */
	s = (struct nftmsg_set){ .table = T, .name = "addrs", .id = ID_ADDRS,
				 .key_type = NFTMSG_TYPE_IPV4, .key_len = 4, .nft_udata = true };
	nftmsg_newset(b, &s);
	s.nft_udata = false;
	s.name = "addrs6", s.id = ID_ADDRS6, s.key_type = NFTMSG_TYPE_IPV6, s.key_len = 16;
	nftmsg_newset(b, &s);
	s.name = "ranges", s.id = ID_RANGES, s.flags = NFT_SET_INTERVAL;
	s.key_type = NFTMSG_TYPE_IPV4, s.key_len = 4;
	nftmsg_newset(b, &s);
	s = (struct nftmsg_set){
		.table = T, .name = "cset", .id = ID_CSET,
		.flags = NFT_SET_INTERVAL | NFT_SET_CONCAT,
		.key_type = (NFTMSG_TYPE_IPV4 << NFTMSG_CONCAT_BITS | NFTMSG_TYPE_INET_PROTO)
				<< NFTMSG_CONCAT_BITS | NFTMSG_TYPE_INET_SERVICE,
		.key_len = 12, .nfields = 3, .fields = { 4, 1, 2 },
	};
	nftmsg_newset(b, &s);
}

static void put_elem(struct nlb *b, const char *set, uint32_t id, const struct nftmsg_elem *e,
		     size_t n)
{
	struct nlattr *l = nftmsg_elems_begin(b, NFT_MSG_NEWSETELEM, T, set, id);

	for (size_t i = 0; i < n; i++)
		nftmsg_elem(b, &e[i]);
	nftmsg_elems_end(b, l);
}

static void put_elems(struct nlb *b)
{
	static const uint8_t a[3][4] = { { 10, 0, 0, 3 }, { 10, 0, 0, 1 }, { 10, 0, 0, 2 } };
	static const uint8_t a6[2][16] = { { 0xfd, [15] = 1 }, { 0x20, 1, 0x0d, 0xb8, [15] = 10 } };
	static const uint8_t lo[4] = { 10, 1, 0, 0 }, hi[4] = { 10, 2, 0, 0 };
	static const uint8_t to[4] = { 192, 168, 0, 5 }, from[4] = { 10, 0, 0, 5 };
	static const uint8_t ck[12] = { 10, 0, 0, 9, 6, 0, 0, 0, 0, 80, 0, 0 };
	static const uint8_t ce[12] = { 10, 0, 0, 9, 6, 0, 0, 0, 0, 90, 0, 0 };
	const struct nftmsg_elem addrs[] = { { .key = a[0], .key_len = 4 },
					     { .key = a[1], .key_len = 4 },
					     { .key = a[2], .key_len = 4 } };
	const struct nftmsg_elem addrs6[] = { { .key = a6[0], .key_len = 16 },
					      { .key = a6[1], .key_len = 16 } };
	const struct nftmsg_elem ranges[] = {
		{ .key = hi, .key_len = 4, .flags = NFT_SET_ELEM_INTERVAL_END },
		{ .key = lo, .key_len = 4 },
	};
	const struct nftmsg_elem vm[] = {
		{ .key = a[2], .key_len = 4, .has_verdict = true, .verdict = NF_DROP },
		{ .key = a[1], .key_len = 4, .has_verdict = true, .verdict = NFT_JUMP,
		  .chain = "other" },
	};
	const struct nftmsg_elem nat4 = { .key = from, .key_len = 4, .data = to, .data_len = 4 };
	const struct nftmsg_elem cset = { .key = ck, .key_len = 12, .key_end = ce,
					  .key_end_len = 12 };

	put_elem(b, "addrs", ID_ADDRS, addrs, 3);
	put_elem(b, "addrs6", ID_ADDRS6, addrs6, 2);
	put_elem(b, "ranges", ID_RANGES, ranges, 2);
	put_elem(b, "vm", ID_VM, vm, 2);
	put_elem(b, "nat4", ID_NAT4, &nat4, 1);
	put_elem(b, "cset", ID_CSET, &cset, 1);
}

static void put_forward_rules(struct nlb *b)
{
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	static const uint8_t p80[2] = { 0, 80 }, p90[2] = { 0, 90 };
	uint32_t zero = 0;
	char eth0[16] = "eth0";
	struct nlattr *r;

	r = nftmsg_rule_begin(b, T, "forward");     /* ct state established,related accept */
	nftmsg_ct(b, NFT_CT_STATE, NFT_REG_1);
	nftmsg_bitwise(b, NFT_REG_1, NFT_REG_1, &mask, &zero, 4);
	nftmsg_cmp(b, NFT_CMP_NEQ, NFT_REG_1, &zero, 4);
	nftmsg_verdict(b, NF_ACCEPT, NULL);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, T, "forward");     /* ip saddr @addrs counter accept */
	need(b, &v4);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	nftmsg_lookup(b, "addrs", ID_ADDRS, NFT_REG_1, -1, 0);
	nftmsg_counter(b);
	nftmsg_verdict(b, NF_ACCEPT, NULL);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, T, "forward");     /* ip daddr vmap @vm */
	need(b, &v4);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	nftmsg_lookup(b, "vm", ID_VM, NFT_REG_1, NFT_REG_VERDICT, 0);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, T, "forward");     /* iifname "eth0" goto other */
	nftmsg_meta(b, NFT_META_IIFNAME, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, eth0, sizeof(eth0));
	nftmsg_verdict(b, NFT_GOTO, "other");
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, T, "forward");     /* tcp dport 80-90 counter reject */
	nftmsg_meta(b, NFT_META_L4PROTO, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, &tcp, 1);
	nftmsg_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	nftmsg_range(b, NFT_RANGE_EQ, NFT_REG_1, p80, p90, 2);
	nftmsg_counter(b);
	nftmsg_reject(b, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, T, "forward");     /* ip6 saddr @addrs6 limit ... accept */
	need(b, &v6);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
	nftmsg_lookup(b, "addrs6", ID_ADDRS6, NFT_REG_1, -1, 0);
	x_limit(b);
	nftmsg_verdict(b, NF_ACCEPT, NULL);
	nftmsg_rule_end(b, r);
}

static void put_other_rules(struct nlb *b)
{
	static const uint8_t port[2] = { 0, 80 };
	char lo[16] = "lo";
	struct nlattr *r;

	r = nftmsg_rule_begin(b, T, "other");       /* ip daddr != @ranges drop */
	need(b, &v4);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	nftmsg_lookup(b, "ranges", ID_RANGES, NFT_REG_1, -1, NFT_LOOKUP_F_INV);
	nftmsg_verdict(b, NF_DROP, NULL);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, T, "other");       /* oifname "lo" tcp dport 80 return */
	nftmsg_meta(b, NFT_META_OIFNAME, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, lo, sizeof(lo));
	nftmsg_meta(b, NFT_META_L4PROTO, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, &tcp, 1);
	nftmsg_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, port, 2);
	nftmsg_verdict(b, NFT_RETURN, NULL);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, T, "other");  /* ip saddr . meta l4proto . th dport @cset accept */
	need(b, &v4);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	nftmsg_meta(b, NFT_META_L4PROTO, NFT_REG32_01);
	nftmsg_byteorder(b, NFT_BYTEORDER_HTON, NFT_REG32_01, NFT_REG32_01, 1, 2);
	nftmsg_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02);
	nftmsg_lookup(b, "cset", ID_CSET, NFT_REG_1, -1, 0);
	nftmsg_verdict(b, NF_ACCEPT, NULL);
	nftmsg_rule_end(b, r);
}

static void put_post_rules(struct nlb *b)
{
	static const uint8_t dst[4] = { 1, 2, 3, 4 }, p5[2] = { 0, 5 };
	static const uint8_t amin[4] = { 10, 0, 0, 1 }, amax[4] = { 10, 0, 0, 5 };
	static const uint8_t pmin[2] = { 0x03, 0xe8 }, pmax[2] = { 0x07, 0xd0 };
	struct nlattr *r;

	r = nftmsg_rule_begin(b, T, "post");        /* masquerade random,fully-random */
	nftmsg_masq(b, NF_NAT_RANGE_PROTO_RANDOM | NF_NAT_RANGE_PROTO_RANDOM_FULLY);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, T, "post");  /* ip daddr 1.2.3.4 tcp dport 5 snat to a-b:c-d */
	need(b, &v4);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, dst, 4);
	nftmsg_meta(b, NFT_META_L4PROTO, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, &tcp, 1);
	nftmsg_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, p5, 2);
	nftmsg_immediate(b, NFT_REG_1, amin, 4);
	nftmsg_immediate(b, NFT_REG_2, amax, 4);
	nftmsg_immediate(b, NFT_REG_3, pmin, 2);
	nftmsg_immediate(b, NFT_REG_4, pmax, 2);
	nftmsg_nat(b, &(struct nftmsg_nat){ NFT_NAT_SNAT, NFPROTO_IPV4, NFT_REG_1, NFT_REG_2,
					    NFT_REG_3, NFT_REG_4,
					    NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED });
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, T, "post");        /* snat ip to ip saddr map @nat4 */
	need(b, &v4);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	nftmsg_lookup(b, "nat4", ID_NAT4, NFT_REG_1, NFT_REG_1, 0);
	nftmsg_nat(b, &(struct nftmsg_nat){ NFT_NAT_SNAT, NFPROTO_IPV4, NFT_REG_1, NFT_REG_1, 0,
					    0, NF_NAT_RANGE_MAP_IPS });
	nftmsg_rule_end(b, r);
}

static void build_ruleset(struct nlb *b)
{
	nlb_init(b, bbuf, sizeof(bbuf));
	nftmsg_batch_begin(b);
	put_chains(b);
	put_sets(b);
	put_elems(b);
	put_forward_rules(b);
	put_other_rules(b);
	put_post_rules(b);
	nftmsg_batch_end(b);
}

static const char golden[] =
	"table inet vgtest\n"
	"chain forward hook forward prio 0 policy accept type filter\n"
	"chain other\n"
	"chain post hook postrouting prio 100 policy accept type nat\n"
	"set addrs key ipv4_addr/4\n"
	"  elem 0a 00 00 01 (10.0.0.1)\n"
	"  elem 0a 00 00 02 (10.0.0.2)\n"
	"  elem 0a 00 00 03 (10.0.0.3)\n"
	"set addrs6 key ipv6_addr/16\n"
	"  elem 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0a (2001:db8::a)\n"
	"  elem fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 (fd00::1)\n"
	"set cset flags interval,concat key ipv4_addr . inet_proto . inet_service/12 fields 4,1,2\n"
	"  elem 0a 00 00 09 . 06 00 00 00 . 00 50 00 00 (10.0.0.9 . 6 . 80)"
	" - 0a 00 00 09 . 06 00 00 00 . 00 5a 00 00 (10.0.0.9 . 6 . 90)\n"
	"set nat4 flags map key ipv4_addr/4 data ipv4_addr/4\n"
	"  elem 0a 00 00 05 (10.0.0.5) : c0 a8 00 05 (192.168.0.5)\n"
	"set ranges flags interval key ipv4_addr/4\n"
	"  elem 0a 01 00 00 (10.1.0.0)\n"
	"  elem 0a 02 00 00 (10.2.0.0) interval-end\n"
	"set vm flags map key ipv4_addr/4 data verdict\n"
	"  elem 0a 00 00 01 (10.0.0.1) : jump -> other\n"
	"  elem 0a 00 00 02 (10.0.0.2) : drop\n"
	"rule forward\n"
	"  [ ct load state => reg 1 ]\n"
	"  [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]\n"
	"  [ cmp neq reg 1 0x00000000 ]\n"
	"  [ immediate reg 0 accept ]\n"
	"rule forward\n"
	"  [ meta load nfproto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000002 ]\n"
	"  [ payload load 4b @ network header + 12 => reg 1 ]\n"
	"  [ lookup reg 1 set addrs 0x0 ]\n"
	"  [ counter ]\n"
	"  [ immediate reg 0 accept ]\n"
	"rule forward\n"
	"  [ meta load nfproto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000002 ]\n"
	"  [ payload load 4b @ network header + 16 => reg 1 ]\n"
	"  [ lookup reg 1 set vm dreg 0 0x0 ]\n"
	"rule forward\n"
	"  [ meta load iifname => reg 1 ]\n"
	"  [ cmp eq reg 1 0x30687465 0x00000000 0x00000000 0x00000000 ]\n"
	"  [ immediate reg 0 goto -> other ]\n"
	"rule forward\n"
	"  [ meta load l4proto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000006 ]\n"
	"  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
	"  [ range eq reg 1 0x00005000 0x00005a00 ]\n"
	"  [ counter ]\n"
	"  [ reject type 2 code 3 ]\n"
	"rule forward\n"
	"  [ meta load nfproto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x0000000a ]\n"
	"  [ payload load 16b @ network header + 8 => reg 1 ]\n"
	"  [ lookup reg 1 set addrs6 0x0 ]\n"
	"  [ limit 1=000000000000000a 2=0000000000000001 3=00000005 4=00000000 5=00000000 ]\n"
	"  [ immediate reg 0 accept ]\n"
	"rule other\n"
	"  [ meta load nfproto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000002 ]\n"
	"  [ payload load 4b @ network header + 16 => reg 1 ]\n"
	"  [ lookup reg 1 set ranges 0x1 ]\n"
	"  [ immediate reg 0 drop ]\n"
	"rule other\n"
	"  [ meta load oifname => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00006f6c 0x00000000 0x00000000 0x00000000 ]\n"
	"  [ meta load l4proto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000006 ]\n"
	"  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00005000 ]\n"
	"  [ immediate reg 0 return ]\n"
	"rule other\n"
	"  [ meta load nfproto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000002 ]\n"
	"  [ payload load 4b @ network header + 12 => reg 1 ]\n"
	"  [ meta load l4proto => reg 9 ]\n"
	"  [ byteorder reg 9 = hton(reg 9, 2, 1) ]\n"
	"  [ payload load 2b @ transport header + 2 => reg 10 ]\n"
	"  [ lookup reg 1 set cset 0x0 ]\n"
	"  [ immediate reg 0 accept ]\n"
	"rule post\n"
	"  [ masq flags 0x14 ]\n"
	"rule post\n"
	"  [ meta load nfproto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000002 ]\n"
	"  [ payload load 4b @ network header + 16 => reg 1 ]\n"
	"  [ cmp eq reg 1 0x04030201 ]\n"
	"  [ meta load l4proto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000006 ]\n"
	"  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000500 ]\n"
	"  [ immediate reg 1 0x0100000a ]\n"
	"  [ immediate reg 2 0x0500000a ]\n"
	"  [ immediate reg 3 0x0000e803 ]\n"
	"  [ immediate reg 4 0x0000d007 ]\n"
	"  [ nat snat ip addr_min reg 1 addr_max reg 2 proto_min reg 3 proto_max reg 4 flags 0x3 ]\n"
	"rule post\n"
	"  [ meta load nfproto => reg 1 ]\n"
	"  [ cmp eq reg 1 0x00000002 ]\n"
	"  [ payload load 4b @ network header + 12 => reg 1 ]\n"
	"  [ lookup reg 1 set nat4 dreg 1 0x0 ]\n"
	"  [ nat snat ip addr_min reg 1 addr_max reg 1 flags 0x1 ]\n";

/* ---- helpers ------------------------------------------------------------------------ */

/* Feed every message in buf[0..len) to a new collector, render into out. */
static int render_msgs(const void *buf, size_t len, unsigned flags, struct buf *out,
		       struct ebuf *eb)
{
	struct nftdump *d = nftdump_new(T, flags);
	const struct nlmsghdr *nlh;
	size_t left;
	int r = d ? 0 : -ENOMEM;

	for_each_nlmsg(nlh, buf, len, left) {
		if (r)
			break;
		r = nftdump_add(d, nlh, eb);
	}
	if (!r)
		r = nftdump_render(d, out);
	nftdump_free(d);
	return r;
}

static void show_diff(const char *got, const char *want)
{
	size_t i = 0, line = 1;

	while (got[i] && got[i] == want[i])
		line += got[i++] == '\n';
	diag("first difference on line %zu", line);
	diag("got:\n%s", got);
}

static void is_text(const char *got, const char *want, const char *what)
{
	if (!ok(got && !strcmp(got, want), what) && got)
		show_diff(got, want);
}

/* ---- without a kernel --------------------------------------------------------------- */

static void test_pure(void)
{
	struct buf out = BUF_INIT;
	struct ebuf eb = { "" };
	struct nlb b;
	int r;

	build_ruleset(&b);
	is_int(nlb_err(&b), 0, "the ruleset batch builds");
	r = render_msgs(b.buf, b.len, 0, &out, &eb);
	if (r)
		diag("%d: %s", r, eb.msg);
	is_int(r, 0, "our own batch decodes");
	is_text(out.p, golden, "our own batch renders to the golden text");
	buf_free(&out);
}

/* ---- hand-built messages: malformed, skipped, and special renders ------------------- */

static void hdr(struct nlb *b, int msg)
{
	uint8_t *g;

	nlb_msg(b, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | msg), 0);
	g = nlb_extra(b, 4);
	if (g)
		g[0] = NFPROTO_INET;
}

static void rule_hdr(struct nlb *b)
{
	hdr(b, NFT_MSG_NEWRULE);
	nlb_put_strz(b, NFTA_RULE_TABLE, T);
	nlb_put_strz(b, NFTA_RULE_CHAIN, "c");
}

/* A rule with one expression, whose data attributes fill() writes. */
static void rule1(struct nlb *b, const char *name, void (*fill)(struct nlb *b))
{
	struct nlattr *l;
	struct x x;

	rule_hdr(b);
	l = nlb_nest_start(b, NFTA_RULE_EXPRESSIONS);
	x = xstart(b, name);
	fill(b);
	xend(b, x);
	nlb_nest_end(b, l);
}

static void set_hdr(struct nlb *b, const char *name, uint32_t type, uint32_t len)
{
	hdr(b, NFT_MSG_NEWSET);
	nlb_put_strz(b, NFTA_SET_TABLE, T);
	nlb_put_strz(b, NFTA_SET_NAME, name);
	nlb_put_be32(b, NFTA_SET_KEY_TYPE, type);
	nlb_put_be32(b, NFTA_SET_KEY_LEN, len);
}

/* Elements of set "s", one LIST_ELEM whose attributes fill() writes. */
static void elem1(struct nlb *b, void (*fill)(struct nlb *b))
{
	struct nlattr *l, *e;

	hdr(b, NFT_MSG_NEWSETELEM);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_TABLE, T);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_SET, "s");
	l = nlb_nest_start(b, NFTA_SET_ELEM_LIST_ELEMENTS);
	e = nlb_nest_start(b, NFTA_LIST_ELEM);
	fill(b);
	nlb_nest_end(b, e);
	nlb_nest_end(b, l);
}

static void put_verdict(struct nlb *b, uint16_t type, int32_t code, const char *chain)
{
	struct nlattr *d = nlb_nest_start(b, type), *v = nlb_nest_start(b, NFTA_DATA_VERDICT);

	nlb_put_be32(b, NFTA_VERDICT_CODE, (uint32_t)code);
	if (chain)
		nlb_put_strz(b, NFTA_VERDICT_CHAIN, chain);
	nlb_nest_end(b, v);
	nlb_nest_end(b, d);
}

static const uint8_t k4[4] = { 10, 0, 0, 1 };

static void mk_table_noname(struct nlb *b)
{
	hdr(b, NFT_MSG_NEWTABLE);
	nlb_put_be32(b, NFTA_TABLE_FLAGS, 0);
}

static void mk_table_unterminated(struct nlb *b)
{
	hdr(b, NFT_MSG_NEWTABLE);
	nlb_put(b, NFTA_TABLE_NAME, T, 6);
}

static void mk_table_short(struct nlb *b)
{
	nlb_msg(b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, 0);
}

static void mk_chain_flags16(struct nlb *b)
{
	hdr(b, NFT_MSG_NEWCHAIN);
	nlb_put_strz(b, NFTA_CHAIN_TABLE, T);
	nlb_put_strz(b, NFTA_CHAIN_NAME, "c");
	nlb_put_u16(b, NFTA_CHAIN_FLAGS, 1);
}

static void mk_chain_noprio(struct nlb *b)
{
	struct nlattr *h;

	hdr(b, NFT_MSG_NEWCHAIN);
	nlb_put_strz(b, NFTA_CHAIN_TABLE, T);
	nlb_put_strz(b, NFTA_CHAIN_NAME, "c");
	h = nlb_nest_start(b, NFTA_CHAIN_HOOK);
	nlb_put_be32(b, NFTA_HOOK_HOOKNUM, NF_INET_FORWARD);
	nlb_nest_end(b, h);
}

static void mk_set_nokeylen(struct nlb *b)
{
	hdr(b, NFT_MSG_NEWSET);
	nlb_put_strz(b, NFTA_SET_TABLE, T);
	nlb_put_strz(b, NFTA_SET_NAME, "s");
}

static void mk_set_17fields(struct nlb *b)
{
	struct nlattr *d, *c, *f;

	set_hdr(b, "s", NFTMSG_TYPE_IPV4, 68);
	d = nlb_nest_start(b, NFTA_SET_DESC);
	c = nlb_nest_start(b, NFTA_SET_DESC_CONCAT);
	for (int i = 0; i < 17; i++) {
		f = nlb_nest_start(b, NFTA_LIST_ELEM);
		nlb_put_be32(b, NFTA_SET_FIELD_LEN, 4);
		nlb_nest_end(b, f);
	}
	nlb_nest_end(b, c);
	nlb_nest_end(b, d);
}

static void mk_elems_notlist(struct nlb *b)
{
	struct nlattr *l;

	hdr(b, NFT_MSG_NEWSETELEM);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_TABLE, T);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_SET, "s");
	l = nlb_nest_start(b, NFTA_SET_ELEM_LIST_ELEMENTS);
	nlb_put_be32(b, 2, 0);
	nlb_nest_end(b, l);
}

static void mk_elems_trailing(struct nlb *b)
{
	/* an empty LIST_ELEM, then two bytes that cannot be an attribute */
	static const uint8_t raw[] = { 4, 0, NFTA_LIST_ELEM, 0x80, 0xaa, 0xbb };

	hdr(b, NFT_MSG_NEWSETELEM);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_TABLE, T);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_SET, "s");
	nlb_put(b, NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED, raw, sizeof(raw));
}

static void f_nokey(struct nlb *b)
{
	nlb_put_be32(b, NFTA_SET_ELEM_FLAGS, 0);
}

static void f_key65(struct nlb *b)
{
	static const uint8_t big[65];

	put_value(b, NFTA_SET_ELEM_KEY, big, sizeof(big));
}

static void f_key_empty(struct nlb *b)
{
	put_value(b, NFTA_SET_ELEM_KEY, NULL, 0);
}

static void f_jump_nochain(struct nlb *b)
{
	put_value(b, NFTA_SET_ELEM_KEY, k4, 4);
	put_verdict(b, NFTA_SET_ELEM_DATA, NFT_JUMP, NULL);
}

static void f_drop_chain(struct nlb *b)
{
	put_value(b, NFTA_SET_ELEM_KEY, k4, 4);
	put_verdict(b, NFTA_SET_ELEM_DATA, NF_DROP, "c");
}

static void f_flags_short(struct nlb *b)
{
	put_value(b, NFTA_SET_ELEM_KEY, k4, 4);
	nlb_put_u8(b, NFTA_SET_ELEM_FLAGS, 1);
}

static void mk_elem_nokey(struct nlb *b) { elem1(b, f_nokey); }
static void mk_elem_key65(struct nlb *b) { elem1(b, f_key65); }
static void mk_elem_key_empty(struct nlb *b) { elem1(b, f_key_empty); }
static void mk_elem_jump_nochain(struct nlb *b) { elem1(b, f_jump_nochain); }
static void mk_elem_drop_chain(struct nlb *b) { elem1(b, f_drop_chain); }
static void mk_elem_flags_short(struct nlb *b) { elem1(b, f_flags_short); }

static void mk_rule_noname(struct nlb *b)
{
	struct nlattr *l, *e, *d;

	rule_hdr(b);
	l = nlb_nest_start(b, NFTA_RULE_EXPRESSIONS);
	e = nlb_nest_start(b, NFTA_LIST_ELEM);
	d = nlb_nest_start(b, NFTA_EXPR_DATA);
	nlb_put_be32(b, NFTA_CMP_SREG, 1);
	nlb_nest_end(b, d);
	nlb_nest_end(b, e);
	nlb_nest_end(b, l);
}

static void f_cmp_nosreg(struct nlb *b)
{
	nlb_put_be32(b, NFTA_CMP_OP, NFT_CMP_EQ);
	put_value(b, NFTA_CMP_DATA, k4, 4);
}

static void f_cmp_verdict(struct nlb *b)
{
	nlb_put_be32(b, NFTA_CMP_SREG, 1);
	nlb_put_be32(b, NFTA_CMP_OP, NFT_CMP_EQ);
	put_verdict(b, NFTA_CMP_DATA, NF_ACCEPT, NULL);
}

static void f_cmp_nodata(struct nlb *b)
{
	nlb_put_be32(b, NFTA_CMP_SREG, 1);
	nlb_put_be32(b, NFTA_CMP_OP, NFT_CMP_EQ);
}

static void f_payload_len64(struct nlb *b)
{
	nlb_put_be32(b, NFTA_PAYLOAD_DREG, 1);
	nlb_put_be32(b, NFTA_PAYLOAD_BASE, 1);
	nlb_put_be32(b, NFTA_PAYLOAD_OFFSET, 12);
	nlb_put_be64(b, NFTA_PAYLOAD_LEN, 4);
}

static void f_lookup_unterminated(struct nlb *b)
{
	nlb_put(b, NFTA_LOOKUP_SET, "abcd", 4);
	nlb_put_be32(b, NFTA_LOOKUP_SREG, 1);
}

static void f_immediate_badnest(struct nlb *b)
{
	/* NFTA_IMMEDIATE_DATA holding an attribute that claims 16 bytes of 8 */
	static const uint8_t raw[] = { 16, 0, NFTA_DATA_VALUE, 0, 1, 2, 3, 4 };

	nlb_put_be32(b, NFTA_IMMEDIATE_DREG, 1);
	nlb_put(b, NFTA_IMMEDIATE_DATA | NLA_F_NESTED, raw, sizeof(raw));
}

static void f_ct_dir32(struct nlb *b)
{
	nlb_put_be32(b, NFTA_CT_DREG, 1);
	nlb_put_be32(b, NFTA_CT_KEY, NFT_CT_STATE);
	nlb_put_be32(b, NFTA_CT_DIRECTION, 0);
}

static void f_bitwise_nomask(struct nlb *b)
{
	nlb_put_be32(b, NFTA_BITWISE_SREG, 1);
	nlb_put_be32(b, NFTA_BITWISE_DREG, 1);
	put_value(b, NFTA_BITWISE_XOR, k4, 4);
}

static void f_nat_notype(struct nlb *b)
{
	nlb_put_be32(b, NFTA_NAT_FAMILY, NFPROTO_IPV4);
}

static void f_reject_code32(struct nlb *b)
{
	nlb_put_be32(b, NFTA_REJECT_TYPE, 0);
	nlb_put_be32(b, NFTA_REJECT_ICMP_CODE, 1);
}

static void f_counter_short(struct nlb *b)
{
	nlb_put_be32(b, NFTA_COUNTER_BYTES, 1);
}

static void mk_cmp_nosreg(struct nlb *b) { rule1(b, "cmp", f_cmp_nosreg); }
static void mk_cmp_verdict(struct nlb *b) { rule1(b, "cmp", f_cmp_verdict); }
static void mk_cmp_nodata(struct nlb *b) { rule1(b, "cmp", f_cmp_nodata); }
static void mk_payload_len64(struct nlb *b) { rule1(b, "payload", f_payload_len64); }
static void mk_lookup_unterm(struct nlb *b) { rule1(b, "lookup", f_lookup_unterminated); }
static void mk_imm_badnest(struct nlb *b) { rule1(b, "immediate", f_immediate_badnest); }
static void mk_ct_dir32(struct nlb *b) { rule1(b, "ct", f_ct_dir32); }
static void mk_bitwise_nomask(struct nlb *b) { rule1(b, "bitwise", f_bitwise_nomask); }
static void mk_nat_notype(struct nlb *b) { rule1(b, "nat", f_nat_notype); }
static void mk_reject_code32(struct nlb *b) { rule1(b, "reject", f_reject_code32); }
static void mk_counter_short(struct nlb *b) { rule1(b, "counter", f_counter_short); }

/* Malformed elements of a set not seen: not even the set's name is kept. */
static void test_malformed_orphan(void)
{
	uint64_t mbuf[64];
	struct nftdump *d = nftdump_new(T, 0);
	struct buf out = BUF_INIT;
	struct nlb b;
	int r;

	nlb_init(&b, mbuf, sizeof(mbuf));
	mk_elem_jump_nochain(&b);
	r = d ? nftdump_add(d, b.nlh, NULL) : -ENOMEM;
	r = r == -EBADMSG ? nftdump_render(d, &out) : -1;
	ok(r == 0 && out.len == 0, "malformed elements of an unseen set leave nothing");
	buf_free(&out);
	nftdump_free(d);
}

static void test_malformed(void)
{
	static const struct {
		const char *what;
		void (*mk)(struct nlb *b);
	} cases[] = {
		{ "table without a name", mk_table_noname },
		{ "table name without NUL", mk_table_unterminated },
		{ "message shorter than nfgenmsg", mk_table_short },
		{ "chain flags of 2 bytes", mk_chain_flags16 },
		{ "hook without priority", mk_chain_noprio },
		{ "set without key length", mk_set_nokeylen },
		{ "set of 17 fields", mk_set_17fields },
		{ "element list holding another attribute", mk_elems_notlist },
		{ "element list with trailing bytes", mk_elems_trailing },
		{ "element without key", mk_elem_nokey },
		{ "element key of 65 bytes", mk_elem_key65 },
		{ "element key of 0 bytes", mk_elem_key_empty },
		{ "jump without chain", mk_elem_jump_nochain },
		{ "drop with a chain", mk_elem_drop_chain },
		{ "element flags of 1 byte", mk_elem_flags_short },
		{ "expression without name", mk_rule_noname },
		{ "cmp without sreg", mk_cmp_nosreg },
		{ "cmp against a verdict", mk_cmp_verdict },
		{ "cmp without data", mk_cmp_nodata },
		{ "payload length of 8 bytes", mk_payload_len64 },
		{ "lookup set name without NUL", mk_lookup_unterm },
		{ "immediate data overrunning its nest", mk_imm_badnest },
		{ "ct direction of 4 bytes", mk_ct_dir32 },
		{ "bitwise without mask", mk_bitwise_nomask },
		{ "nat without type", mk_nat_notype },
		{ "reject code of 4 bytes", mk_reject_code32 },
		{ "counter bytes of 4 bytes", mk_counter_short },
	};
	uint64_t mbuf[512];
	char what[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct nftdump *d = nftdump_new(T, 0);
		struct ebuf eb = { "" };
		struct buf out = BUF_INIT;
		struct nlmsghdr *g;
		struct nlb b;
		int r;

		nlb_init(&b, mbuf, sizeof(mbuf));
		set_hdr(&b, "s", NFTMSG_TYPE_IPV4, 4);  /* so elements have their set */
		cases[i].mk(&b);
		if (!d || nlb_err(&b))
			abort();
		g = guard_copy(b.nlh, b.nlh->nlmsg_len);
		r = nftdump_add(d, (const struct nlmsghdr *)(const void *)mbuf, NULL);
		r = r ? r : nftdump_add(d, g, &eb);
		snprintf(what, sizeof(what), "malformed: %s: -EBADMSG with a reason", cases[i].what);
		if (!ok(r == -EBADMSG && strstr(eb.msg, "nf_tables dump: "), what))
			diag("%d: %s", r, eb.msg);
		/* nothing of it kept: only the set line comes out */
		if (nftdump_render(d, &out) || strcmp(out.p, "set s key ipv4_addr/4\n"))
			ok(0, "a malformed message leaves nothing behind");
		guard_free(g, b.nlh->nlmsg_len);
		buf_free(&out);
		nftdump_free(d);
	}
	test_malformed_orphan();
}

static void f_catchall(struct nlb *b)
{
	nlb_put_be32(b, NFTA_SET_ELEM_FLAGS, NFT_SET_ELEM_CATCHALL);
	put_verdict(b, NFTA_SET_ELEM_DATA, NF_DROP, NULL);
}

static void mk_catchall(struct nlb *b)
{
	set_hdr(b, "s", NFTMSG_TYPE_IPV4, 4);
	nlb_put_be32(b, NFTA_SET_FLAGS, NFT_SET_MAP);
	nlb_put_be32(b, NFTA_SET_DATA_TYPE, NFT_DATA_VERDICT);
	elem1(b, f_catchall);
}

static void f_key4(struct nlb *b)
{
	put_value(b, NFTA_SET_ELEM_KEY, k4, 4);
	put_verdict(b, NFTA_SET_ELEM_DATA, 7, NULL);
}

static void mk_orphan_elems(struct nlb *b)
{
	elem1(b, f_key4);
}

static void f_weird(struct nlb *b)
{
	nlb_put_be32(b, NFTA_META_KEY, 200);
	nlb_put_be32(b, NFTA_META_SREG, 1);
}

/* a name with control bytes, an unknown key type, an odd expression and a new bitwise op */
static void f_bitwise_and(struct nlb *b)
{
	nlb_put_be32(b, NFTA_BITWISE_SREG, 1);
	nlb_put_be32(b, NFTA_BITWISE_DREG, 2);
	nlb_put_be32(b, NFTA_BITWISE_OP, 3);
	nlb_put_be32(b, NFTA_BITWISE_DATA + 1, 3);
}

static void mk_odd(struct nlb *b)
{
	hdr(b, NFT_MSG_NEWCHAIN);
	nlb_put_strz(b, NFTA_CHAIN_TABLE, T);
	nlb_put_strz(b, NFTA_CHAIN_NAME, "a b\n\x7f");
	set_hdr(b, "s", 42 << 6 | 7, 8);
	elem1(b, f_key4);
	rule1(b, "meta", f_weird);
	rule1(b, "bitwise", f_bitwise_and);
	rule1(b, "notrack", f_nokey);
}

/* all skipped: another table, another family, NEWGEN, another subsystem, a DELRULE */
static void mk_skipped(struct nlb *b)
{
	uint8_t *g;

	hdr(b, NFT_MSG_NEWTABLE);
	nlb_put_strz(b, NFTA_TABLE_NAME, "other");
	nlb_msg(b, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, 0);
	g = nlb_extra(b, 4);
	if (g)
		g[0] = NFPROTO_IPV4;
	nlb_put_strz(b, NFTA_TABLE_NAME, T);
	hdr(b, NFT_MSG_NEWGEN);
	nlb_put_be32(b, NFTA_GEN_ID, 7);
	nlb_msg(b, NFNL_SUBSYS_IPSET << 8 | 1, 0);
	hdr(b, NFT_MSG_DELRULE);
	nlb_put_strz(b, NFTA_RULE_TABLE, T);
}

/* Pure cases with an exact rendering: several messages, then the text they give. */
static void test_renders(void)
{
	static const struct {
		const char *what;
		void (*mk)(struct nlb *b);
		const char *want;
	} cases[] = {
		{ "catch-all element", mk_catchall,
		  "set s flags map key ipv4_addr/4 data verdict\n  elem * : drop\n" },
		{ "elements before their set: bytes only", mk_orphan_elems,
		  "set s\n  elem 0a 00 00 01 : verdict 7\n" },
		{ "odd names, types, expressions", mk_odd,
		  "chain a?b??\n"
		  "set s key type42 . ipv4_addr/8\n  elem 0a 00 00 01 : verdict 7\n"
		  "rule c\n  [ meta set 200 with reg 1 ]\n"
		  "rule c\n  [ bitwise reg 2 = ( reg 1 & reg 3 ) ]\n"
		  "rule c\n  [ notrack 3=00000000 ]\n" },
		{ "other tables, families, kinds: skipped", mk_skipped, "" },
	};
	uint64_t mbuf[512];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf out = BUF_INIT;
		struct ebuf eb = { "" };
		struct nlb b;
		int r;

		nlb_init(&b, mbuf, sizeof(mbuf));
		cases[i].mk(&b);
		if (nlb_err(&b))
			abort();
		r = render_msgs(mbuf, b.len, 0, &out, &eb);
		if (r)
			diag("%d: %s", r, eb.msg);
		is_text(out.p ? out.p : "", cases[i].want, cases[i].what);
		buf_free(&out);
	}
}

static void test_generations(void)
{
	uint64_t mbuf[64];
	struct nftdump *d = nftdump_new(T, 0);
	struct nlb b;
	int r;

	nlb_init(&b, mbuf, sizeof(mbuf));
	hdr(&b, NFT_MSG_NEWTABLE);
	nlb_put_strz(&b, NFTA_TABLE_NAME, T);
	r = nftdump_add(d, b.nlh, NULL);
	((uint8_t *)NLMSG_DATA(b.nlh))[3] = 1;     /* res_id: the next generation */
	r = r ? r : nftdump_add(d, b.nlh, NULL);
	ok(!r && nftdump_mixed(d), "messages of two generations are noticed");
	nftdump_reset(d);
	r = nftdump_add(d, b.nlh, NULL);
	ok(!r && !nftdump_mixed(d), "reset forgets them");
	nftdump_free(d);
	nftdump_free(NULL);
}

/* Every prefix of every message of the ruleset, against a guard page: 0 or -EBADMSG. */
static void test_truncated(void)
{
	const struct nlmsghdr *nlh, *s;
	size_t left, left2, bad = 0, runs = 0;
	struct nlb b;

	build_ruleset(&b);
	for_each_nlmsg(nlh, b.buf, b.len, left) {
		for (size_t n = NLMSG_HDRLEN; n <= nlh->nlmsg_len; n++) {
			struct nftdump *d = nftdump_new(T, NFTDUMP_VOLATILE);
			struct nlmsghdr *g = n % 4 ? malloc(n) : guard_copy(nlh, n);
			int r = 0;

			if (!d || !g)
				abort();
			memcpy(g, nlh, n);
			g->nlmsg_len = (uint32_t)n;
			/* the sets first, so elements are decoded by their types */
			for_each_nlmsg(s, b.buf, b.len, left2) {
				if (s->nlmsg_type == (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSET))
					r |= nftdump_add(d, s, NULL);
			}
			r = r ? r : nftdump_add(d, g, NULL);
			bad += (r && r != -EBADMSG) || (n == nlh->nlmsg_len && r);
			runs++;
			if (n % 4)
				free(g);
			else
				guard_free(g, n);
			nftdump_free(d);
		}
	}
	if (!ok(bad == 0, "every truncated message is decoded or -EBADMSG"))
		diag("%zu of %zu bad", bad, runs);
}

/* A failed allocation at every point: -ENOMEM, no leak; past the last, the golden text. */
static void test_faults(void)
{
	size_t bad = 0;
	unsigned long nth, calls;
	struct nlb b;

	build_ruleset(&b);
	for (nth = 1;; nth++) {
		struct buf out = BUF_INIT;
		int r;

		fault_reset(nth);
		r = render_msgs(b.buf, b.len, 0, &out, NULL);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0 || !out.p || strcmp(out.p, golden);
			buf_free(&out);
			break;
		}
		bad += r != -ENOMEM;
		buf_free(&out);
	}
	if (!ok(bad == 0, "an allocation failing anywhere gives -ENOMEM"))
		diag("%zu bad of %lu", bad, nth);
}

/* ---- the kernel --------------------------------------------------------------------- */

static const char *const set_names[] = { "addrs", "addrs6", "cset", "nat4", "ranges", "vm" };

/* Keep each reply message as received, padded as in a receive buffer. */
static int rec_cb(const struct nlmsghdr *nlh, void *ctx)
{
	static const char pad[4];
	struct buf *raw = ctx;
	int r = buf_add(raw, nlh, nlh->nlmsg_len);

	return r ? r : buf_add(raw, pad, (4 - nlh->nlmsg_len % 4) % 4);
}

static int record(struct nlsock *s, int msg, const char *set, struct buf *raw)
{
	uint64_t req[96];
	struct ebuf eb = { "" };
	struct nlb b;
	int r;

	nlb_init(&b, req, sizeof(req));
	nftdump_put_request(&b, msg, T, set);
	if (msg == NFT_MSG_GETTABLE)
		r = nlsock_talk(s, b.nlh, rec_cb, raw, &eb);
	else
		r = nlsock_dump(s, b.nlh, rec_cb, NULL, raw, &eb);
	if (r)
		diag("recording %d: %d %s", msg, r, eb.msg);
	return r;
}

static void save_seed(const char *name, const void *p, size_t n)
{
	const char *dir = getenv("NFTDUMP_SEEDS");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n)
		diag("cannot write %s", path);
	if (f)
		fclose(f);
}

/* The kernel's replies, recorded, give the same text through the pure decoder. */
static void test_recorded(struct nlsock *s, const struct nlb *batch)
{
	struct buf all = BUF_INIT, sets = BUF_INIT, rules = BUF_INIT, out = BUF_INIT;
	int r = 0;

	r |= record(s, NFT_MSG_GETTABLE, NULL, &all);
	r |= record(s, NFT_MSG_GETCHAIN, NULL, &all);
	for (size_t i = 0; i < ARRAY_SIZE(set_names); i++) {
		r |= record(s, NFT_MSG_GETSET, NULL, i ? &out : &sets);
		r |= record(s, NFT_MSG_GETSETELEM, set_names[i], &sets);
	}
	r |= record(s, NFT_MSG_GETRULE, NULL, &rules);
	r |= buf_add(&all, sets.p, sets.len) | buf_add(&all, rules.p, rules.len);
	is_int(r, 0, "the dumps are recorded");
	buf_reset(&out);
	is_int(render_msgs(all.p, all.len, 0, &out, NULL), 0, "recorded replies decode");
	is_text(out.p, golden, "recorded replies render to the golden text");
	save_seed("dump-all.bin", all.p, all.len);
	save_seed("dump-sets.bin", sets.p, sets.len);
	save_seed("dump-rules.bin", rules.p, rules.len);
	save_seed("batch.bin", batch->buf, batch->len);
	buf_free(&all);
	buf_free(&sets);
	buf_free(&rules);
	buf_free(&out);
}

static int sort_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t nx = strcspn(x, "\n"), ny = strcspn(y, "\n");
	int c = memcmp(x, y, nx < ny ? nx : ny);

	return c ? c : (nx > ny) - (nx < ny);
}

/* The expression lines of a listing, sorted, one per line; limit is ours in raw form only. */
static void expr_lines(const char *text, struct buf *out)
{
	const char *lines[512], *p = text, *e;
	size_t n = 0;

	for (; p && *p && n < ARRAY_SIZE(lines); p = e ? e + 1 : NULL) {
		e = strchr(p, '\n');
		if (!strncmp(p, "  [ ", 4) && strncmp(p, "  [ limit", 9))
			lines[n++] = p;
	}
	qsort(lines, n, sizeof(*lines), sort_cmp);
	for (size_t i = 0; i < n; i++) {
		e = strchr(lines[i], '\n');
		if (buf_add(out, lines[i], e ? (size_t)(e - lines[i]) : strlen(lines[i])) ||
		    buf_addc(out, '\n'))
			abort();
	}
}

/* Our expression lines are libnftnl's: nft --debug=netlink prints the same, counters too. */
static void test_vs_nft(const char *ours)
{
	struct buf nft = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	FILE *f = popen("/usr/sbin/nft --debug=netlink list table inet " T " 2>&1", "r");
	char chunk[4096];
	size_t n;

	if (!f) {
		printf("ok %d - # SKIP no nft\n", ++tap_n);
		return;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(&nft, chunk, n))
			abort();
	if (pclose(f) || !nft.p) {
		printf("ok %d - # SKIP nft failed\n", ++tap_n);
		buf_free(&nft);
		return;
	}
	expr_lines(nft.p, &a);
	expr_lines(ours, &b);
	ok(a.len > 1000, "nft lists the expressions");
	is_text(b.p, a.p, "our expression lines are nft's (limit aside)");
	buf_free(&nft);
	buf_free(&a);
	buf_free(&b);
}

static int apply(struct nlsock *s, struct nlb *b)
{
	struct ebuf eb = { "" };
	size_t failed = 0;
	int r = nlb_err(b);

	if (!r)
		r = nlsock_batch(s, b->buf, b->len, &failed, &eb);
	if (r)
		diag("batch: %d at message %zu: %s", r, failed, eb.msg);
	return r;
}

static void test_kernel_faults(struct nlsock *s)
{
	unsigned long nth, calls;
	size_t bad = 0;

	for (nth = 1;; nth++) {
		struct buf out = BUF_INIT;
		struct ebuf eb = { "" };
		int r;

		if (buf_adds(&out, "keep\n"))
			abort();
		fault_reset(nth);
		r = nftdump_table(s, T, 0, &out, &eb);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0 || strncmp(out.p, "keep\n", 5) || strcmp(out.p + 5, golden);
			buf_free(&out);
			break;
		}
		/* a failed send (the injected fault in nlsock) is -ENOBUFS */
		if ((r != -ENOMEM && r != -ENOBUFS) || strcmp(out.p, "keep\n") || !eb.msg[0]) {
			diag("fault %lu: %d %s", nth, r, eb.msg);
			bad++;
		}
		buf_free(&out);
	}
	if (!ok(bad == 0, "reading the table with an allocation or send failing anywhere"))
		diag("%zu bad of %lu", bad, nth);
}

static void test_kernel(struct nlsock *s)
{
	struct buf out = BUF_INIT;
	struct ebuf eb = { "" };
	struct nlb b;
	int r;

	build_ruleset(&b);
	if (!ok(apply(s, &b) == 0, "the kernel takes the ruleset"))
		return;
	r = nftdump_table(s, T, 0, &out, &eb);
	if (r)
		diag("%d: %s", r, eb.msg);
	is_int(r, 0, "the table is read back");
	is_text(out.p, golden, "the kernel's table renders to the golden text");
	buf_reset(&out);
	r = nftdump_table(s, T, NFTDUMP_VOLATILE, &out, &eb);
	ok(!r && strstr(out.p, "table inet " T " handle ") && strstr(out.p, "rule forward handle ") &&
	   strstr(out.p, "[ counter pkts 0 bytes 0 ]"), "NFTDUMP_VOLATILE adds handles, counts");
	test_vs_nft(out.p ? out.p : "");
	test_recorded(s, &b);
	test_kernel_faults(s);
	buf_reset(&out);
	if (buf_adds(&out, "keep"))
		abort();
	r = nftdump_table(s, "vgmissing", 0, &out, &eb);
	ok(r == -ENOENT && !strcmp(out.p, "keep") && strstr(eb.msg, "vgmissing"),
	   "a missing table: -ENOENT with a reason, out untouched");
	diag("%s", eb.msg);
	ok(nftdump_table(s, NULL, 0, &out, &eb) == -EINVAL, "no table name: -EINVAL");
	buf_free(&out);
}

int main(void)
{
	struct nlsock s = { .fd = -1 };

	test_pure();
	test_malformed();
	test_renders();
	test_generations();
	test_truncated();
	test_faults();
	if (unshare(CLONE_NEWNET)) {
		printf("ok %d - # SKIP no private network namespace (needs root)\n", ++tap_n);
		return tap_done();
	}
	if (!ok(nlsock_open(&s, NETLINK_NETFILTER) == 0, "netfilter socket in the new namespace"))
		return tap_done();
	test_kernel(&s);
	nlsock_close(&s);
	return tap_done();
}
