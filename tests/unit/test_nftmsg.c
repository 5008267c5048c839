// SPDX-License-Identifier: MIT
/* deps: nl/nftmsg.c nl/nlsock.c nl/nlmsg.c base/err.c base/mem.c base/buf.c */
/*
 * test_nftmsg.c: the nf_tables builders. First byte-exact goldens computed by hand from the
 * uapi header (nf_tables.h, nfnetlink.h); then, as root in a private network namespace
 * (unshare(CLONE_NEWNET), gone when the process exits), one batch building a table with every
 * kind of object and expression, checked through the text of `nft list ruleset` run in the same
 * namespace; a batch with a rule naming a missing set must fail at that message and leave
 * nothing behind.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#include "tap.h"
#include "base/err.h"
#include "nl/nftmsg.h"
#include "nl/nlmsg.h"
#include "nl/nlsock.h"

static char buf[1 << 16] __attribute__((aligned(8)));

static void show(const char *got, size_t n)
{
	for (size_t i = 0; i < n; i += 16) {
		char line[64] = "";

		for (size_t j = i; j < n && j < i + 16; j++)
			sprintf(line + strlen(line), "%02x ", (uint8_t)got[j]);
		diag("got %3zu: %s", i, line);
	}
}

static void is_bytes(const char *got, size_t n, const uint8_t *want, size_t wn, const char *what)
{
	if (!ok(n == wn && memcmp(got, want, n) == 0, what))
		show(got, n);
}

/* ---- goldens ---------------------------------------------------------------------------- */

static void test_markers_table(void)
{
	static const uint8_t want[] = {
		/* BEGIN: len 20, type 16, NLM_F_REQUEST; nfgenmsg UNSPEC, v0, res_id be16 10 */
		0x14, 0, 0, 0, 0x10, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x0a,
		/* NEWTABLE: len 32, type 10 << 8 | 0, REQUEST | CREATE; inet, v0, res_id 0 */
		0x20, 0, 0, 0, 0x00, 0x0a, 0x01, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x0b, 0, 0x01, 0, 'v', 'g', 't', 'e', 's', 't', 0, 0,
		/* DELTABLE "t": type 10 << 8 | 2, REQUEST */
		0x1c, 0, 0, 0, 0x02, 0x0a, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x06, 0, 0x01, 0, 't', 0, 0, 0,
		/* END: type 17 */
		0x14, 0, 0, 0, 0x11, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x0a,
	};
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	nftmsg_newtable(&b, "vgtest");
	nftmsg_deltable(&b, "t");
	nftmsg_batch_end(&b);
	is_int(nlb_err(&b), 0, "markers and tables build");
	is_bytes(b.buf, b.len, want, sizeof(want), "golden: BEGIN, NEWTABLE, DELTABLE, END");
}

static void test_chain(void)
{
	static const uint8_t want[] = {
		0x4c, 0, 0, 0, 0x03, 0x0a, 0x01, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x06, 0, 0x01, 0, 't', 0, 0, 0,                 /* NFTA_CHAIN_TABLE */
		0x06, 0, 0x03, 0, 'c', 0, 0, 0,                 /* NFTA_CHAIN_NAME */
		0x14, 0, 0x04, 0x80,                            /* NFTA_CHAIN_HOOK, nested */
		0x08, 0, 0x01, 0, 0, 0, 0, 0x02,                /* HOOKNUM forward, be32 */
		0x08, 0, 0x02, 0, 0xff, 0xff, 0xff, 0x9c,       /* PRIORITY -100, be32 */
		0x08, 0, 0x05, 0, 0, 0, 0, 0x01,                /* NFTA_CHAIN_POLICY accept */
		0x0b, 0, 0x07, 0, 'f', 'i', 'l', 't', 'e', 'r', 0, 0,   /* NFTA_CHAIN_TYPE */
	};
	struct nftmsg_hook h = { NF_INET_FORWARD, -100, NF_ACCEPT, "filter" };
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_newchain(&b, "t", "c", &h);
	is_bytes(b.buf, b.len, want, sizeof(want), "golden: base chain, signed priority");
	nlb_init(&b, buf, sizeof(buf));
	nftmsg_newchain(&b, "t", "c", NULL);
	ok(b.len == 36 && b.nlh->nlmsg_len == 36, "a regular chain has table and name only");
}

static void test_rule(void)
{
	static const uint8_t want[] = {
		0x54, 0, 0, 0, 0x06, 0x0a, 0x01, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x06, 0, 0x01, 0, 't', 0, 0, 0,                 /* NFTA_RULE_TABLE */
		0x06, 0, 0x02, 0, 'c', 0, 0, 0,                 /* NFTA_RULE_CHAIN */
		0x30, 0, 0x04, 0x80,                            /* NFTA_RULE_EXPRESSIONS */
		0x2c, 0, 0x01, 0x80,                            /* NFTA_LIST_ELEM */
		0x08, 0, 0x01, 0, 'c', 'm', 'p', 0,             /* NFTA_EXPR_NAME */
		0x20, 0, 0x02, 0x80,                            /* NFTA_EXPR_DATA */
		0x08, 0, 0x01, 0, 0, 0, 0, 0x01,                /* NFTA_CMP_SREG 1 */
		0x08, 0, 0x02, 0, 0, 0, 0, 0x01,                /* NFTA_CMP_OP neq */
		0x0c, 0, 0x03, 0x80,                            /* NFTA_CMP_DATA */
		0x05, 0, 0x01, 0, 0x02, 0, 0, 0,                /* NFTA_DATA_VALUE 02 */
	};
	uint8_t two = 2;
	struct nlattr *e;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	e = nftmsg_rule_begin(&b, "t", "c");
	nftmsg_cmp(&b, NFT_CMP_NEQ, NFT_REG_1, &two, 1);
	nftmsg_rule_end(&b, e);
	is_bytes(b.buf, b.len, want, sizeof(want), "golden: rule with one cmp");
}

static void test_verdicts(void)
{
	static const uint8_t jump[] = {
		0x38, 0, 0x01, 0x80,
		0x0e, 0, 0x01, 0, 'i', 'm', 'm', 'e', 'd', 'i', 'a', 't', 'e', 0, 0, 0,
		0x24, 0, 0x02, 0x80,
		0x08, 0, 0x01, 0, 0, 0, 0, 0,                   /* NFTA_IMMEDIATE_DREG verdict */
		0x18, 0, 0x02, 0x80,                            /* NFTA_IMMEDIATE_DATA */
		0x14, 0, 0x02, 0x80,                            /* NFTA_DATA_VERDICT */
		0x08, 0, 0x01, 0, 0xff, 0xff, 0xff, 0xfd,       /* NFTA_VERDICT_CODE NFT_JUMP */
		0x06, 0, 0x02, 0, 'c', 0, 0, 0,                 /* NFTA_VERDICT_CHAIN */
	};
	static const uint8_t elem[] = {
		0x28, 0, 0x01, 0x80,                            /* NFTA_LIST_ELEM */
		0x0c, 0, 0x01, 0x80,                            /* NFTA_SET_ELEM_KEY */
		0x08, 0, 0x01, 0, 10, 0, 0, 1,
		0x08, 0, 0x03, 0, 0, 0, 0, 0x01,                /* ELEM_FLAGS INTERVAL_END */
		0x10, 0, 0x02, 0x80,                            /* NFTA_SET_ELEM_DATA */
		0x0c, 0, 0x02, 0x80,                            /* NFTA_DATA_VERDICT */
		0x08, 0, 0x01, 0, 0xff, 0xff, 0xff, 0xfb,       /* NFT_RETURN */
	};
	static const uint8_t addr[4] = { 10, 0, 0, 1 };
	struct nftmsg_elem el = { .key = addr, .key_len = 4, .flags = NFT_SET_ELEM_INTERVAL_END,
				  .has_verdict = true, .verdict = NFT_RETURN };
	struct nlb b;
	size_t at;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_rule_begin(&b, "t", "c");
	at = b.len;
	nftmsg_verdict(&b, NFT_JUMP, "c");
	is_bytes(b.buf + at, b.len - at, jump, sizeof(jump), "golden: immediate jump c");
	nftmsg_elems_begin(&b, NFT_MSG_NEWSETELEM, "t", "m", 0);
	at = b.len;
	nftmsg_elem(&b, &el);
	is_bytes(b.buf + at, b.len - at, elem, sizeof(elem), "golden: element with verdict");
}

static void test_set(void)
{
	static const uint8_t want[] = {
		0x6c, 0, 0, 0, 0x09, 0x0a, 0x01, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x06, 0, 0x01, 0, 't', 0, 0, 0,                 /* NFTA_SET_TABLE */
		0x06, 0, 0x02, 0, 's', 0, 0, 0,                 /* NFTA_SET_NAME */
		0x08, 0, 0x03, 0, 0, 0, 0, 0x8c,                /* FLAGS MAP|CONCAT|INTERVAL */
		0x08, 0, 0x04, 0, 0, 0, 0x01, 0xcc,             /* KEY_TYPE 7 << 6 | 12 */
		0x08, 0, 0x05, 0, 0, 0, 0, 0x08,                /* KEY_LEN */
		0x08, 0, 0x06, 0, 0xff, 0xff, 0xff, 0x00,       /* DATA_TYPE verdict, no DATA_LEN */
		0x20, 0, 0x09, 0x80,                            /* NFTA_SET_DESC */
		0x1c, 0, 0x02, 0x80,                            /* NFTA_SET_DESC_CONCAT */
		0x0c, 0, 0x01, 0x80, 0x08, 0, 0x01, 0, 0, 0, 0, 4,
		0x0c, 0, 0x01, 0x80, 0x08, 0, 0x01, 0, 0, 0, 0, 1,
		0x08, 0, 0x0a, 0, 0, 0, 0, 0x07,                /* NFTA_SET_ID */
	};
	struct nftmsg_set s = {
		.table = "t", .name = "s", .id = 7,
		.flags = NFT_SET_MAP | NFT_SET_CONCAT | NFT_SET_INTERVAL,
		.key_type = NFTMSG_TYPE_IPV4 << NFTMSG_CONCAT_BITS | NFTMSG_TYPE_INET_PROTO,
		.key_len = 8, .data_type = NFT_DATA_VERDICT, .nfields = 2, .fields = { 4, 1 },
	};
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_newset(&b, &s);
	is_bytes(b.buf, b.len, want, sizeof(want), "golden: concatenated interval verdict map");
	s.nfields = NFTMSG_MAX_FIELDS + 1;
	nlb_init(&b, buf, sizeof(buf));
	nftmsg_newset(&b, &s);
	ok(nlb_err(&b) == -EINVAL && b.len == 0, "too many fields: -EINVAL, nothing written");
}

static void test_overflow(void)
{
	char small[64] __attribute__((aligned(8)));
	struct nlb b;

	for (size_t cap = 0; cap <= sizeof(small); cap += 4) {
		nlb_init(&b, small, cap);
		nftmsg_batch_begin(&b);
		nftmsg_newchain(&b, "vgtest", "forward", NULL);
		nftmsg_batch_end(&b);
		if (nlb_err(&b) != -EMSGSIZE) {
			ok(0, "every short buffer is -EMSGSIZE");
			return;
		}
	}
	ok(1, "every short buffer is -EMSGSIZE");
}

static void test_genid(void)
{
	static const uint8_t begin[] = {
		/* BEGIN: len 28, type 16; res_id 10; NFNL_BATCH_GENID be32 0x01020304 */
		0x1c, 0, 0, 0, 0x10, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x0a,
		0x08, 0, 0x01, 0, 0x01, 0x02, 0x03, 0x04,
	};
	static const uint8_t getgen[] = {
		/* GETGEN: len 20, type 10 << 8 | 16, REQUEST; UNSPEC, v0, res_id 0 */
		0x14, 0, 0, 0, 0x10, 0x0a, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t newgen[] = {
		/* NEWGEN: len 36; GEN_ID 7, GEN_PROC_PID 1234 */
		0x24, 0, 0, 0, 0x0f, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x08, 0, 0x01, 0, 0, 0, 0, 7, 0x08, 0, 0x02, 0, 0, 0, 0x04, 0xd2,
	};
	uint64_t m[8];
	struct nlmsghdr *h = (struct nlmsghdr *)m;
	uint32_t id = 0;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin_genid(&b, 0x01020304);
	is_bytes(b.buf, b.len, begin, sizeof(begin), "golden: BEGIN with NFNL_BATCH_GENID");
	nlb_init(&b, buf, sizeof(buf));
	nftmsg_getgen(&b);
	is_bytes(b.buf, b.len, getgen, sizeof(getgen), "golden: GETGEN");
	memcpy(m, newgen, sizeof(newgen));
	ok(nftmsg_gen_parse(h, &id) == 0 && id == 7, "NEWGEN: the generation id");
	h->nlmsg_type = 0x0a00;
	is_int(nftmsg_gen_parse(h, &id), -ENOMSG, "another message type: -ENOMSG");
	h->nlmsg_type = 0x0a0f;
	h->nlmsg_len = 28;
	((uint8_t *)m)[22] = 2;         /* only GEN_PROC_PID left */
	is_int(nftmsg_gen_parse(h, &id), -EINVAL, "no NFTA_GEN_ID: -EINVAL");
	h->nlmsg_len = 26;
	((uint8_t *)m)[20] = 6;         /* GEN_ID of 2 bytes */
	((uint8_t *)m)[22] = 1;
	is_int(nftmsg_gen_parse(h, &id), -EINVAL, "a short NFTA_GEN_ID: -EINVAL");
}

static void test_deletes(void)
{
	static const uint8_t want[] = {
		/* DELCHAIN t c: type 10 << 8 | 5, REQUEST; CHAIN_TABLE, CHAIN_NAME */
		0x24, 0, 0, 0, 0x05, 0x0a, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x06, 0, 0x01, 0, 't', 0, 0, 0, 0x06, 0, 0x03, 0, 'c', 0, 0, 0,
		/* DELRULE t c (flush): type 8; RULE_TABLE, RULE_CHAIN */
		0x24, 0, 0, 0, 0x08, 0x0a, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x06, 0, 0x01, 0, 't', 0, 0, 0, 0x06, 0, 0x02, 0, 'c', 0, 0, 0,
		/* DELRULE t c handle 5: RULE_HANDLE be64 */
		0x30, 0, 0, 0, 0x08, 0x0a, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x06, 0, 0x01, 0, 't', 0, 0, 0, 0x06, 0, 0x02, 0, 'c', 0, 0, 0,
		0x0c, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 5,
		/* DELSET t s: type 11; SET_TABLE, SET_NAME */
		0x24, 0, 0, 0, 0x0b, 0x0a, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x06, 0, 0x01, 0, 't', 0, 0, 0, 0x06, 0, 0x02, 0, 's', 0, 0, 0,
		/* flush set t s: DELSETELEM (14) without NFTA_SET_ELEM_LIST_ELEMENTS */
		0x24, 0, 0, 0, 0x0e, 0x0a, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x06, 0, 0x01, 0, 't', 0, 0, 0, 0x06, 0, 0x02, 0, 's', 0, 0, 0,
	};
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_delchain(&b, "t", "c");
	nftmsg_delrule(&b, "t", "c", 0);
	nftmsg_delrule(&b, "t", "c", 5);
	nftmsg_delset(&b, "t", "s");
	nftmsg_flushset(&b, "t", "s");
	is_int(nlb_err(&b), 0, "deletes build");
	is_bytes(b.buf, b.len, want, sizeof(want), "golden: DELCHAIN, DELRULE (flush, handle), "
		 "DELSET, flush set");
}

/* NFTA_SET_USERDATA: the bytes nft 1.0.6 sends (nft --debug=mnl) for the same declarations. */
static void test_udata(void)
{
	static const uint8_t vmap[] = {
		/* type ipv4_addr : verdict: key big-endian, data invalid, data interval 0 */
		0x16, 0, 0x0d, 0, 0, 4, 2, 0, 0, 0, 1, 4, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t addrs[] = {
		0x0a, 0, 0x0d, 0, 0, 4, 2, 0, 0, 0, 0, 0,       /* type ipv6_addr */
	};
	static const uint8_t concat[] = {
		/* type ipv4_addr . inet_proto . inet_service: key invalid, typeof { concat, {} } */
		0x14, 0, 0x0d, 0, 0, 4, 0, 0, 0, 0, 3, 8, 0, 4, 0x0d, 0, 0, 0, 1, 0,
	};
	struct nftmsg_set s = { .table = "t", .name = "s", .id = 1, .flags = NFT_SET_MAP,
				.key_type = NFTMSG_TYPE_IPV4, .key_len = 4,
				.data_type = NFT_DATA_VERDICT, .nft_udata = true };
	struct nlb b;
	size_t at;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_newset(&b, &s);
	at = b.len - sizeof(vmap);
	is_bytes(b.buf + at, sizeof(vmap), vmap, sizeof(vmap), "golden: verdict map userdata");
	s.flags = NFT_SET_INTERVAL, s.key_type = NFTMSG_TYPE_IPV6, s.key_len = 16;
	nlb_init(&b, buf, sizeof(buf));
	nftmsg_newset(&b, &s);
	at = b.len - sizeof(addrs);
	is_bytes(b.buf + at, sizeof(addrs), addrs, sizeof(addrs), "golden: address set userdata");
	s.flags = 0, s.key_len = 12;
	s.key_type = (NFTMSG_TYPE_IPV4 << NFTMSG_CONCAT_BITS | NFTMSG_TYPE_INET_PROTO)
		     << NFTMSG_CONCAT_BITS | NFTMSG_TYPE_INET_SERVICE;
	nlb_init(&b, buf, sizeof(buf));
	nftmsg_newset(&b, &s);
	at = b.len - sizeof(concat);
	is_bytes(b.buf + at, sizeof(concat), concat, sizeof(concat),
		 "golden: concatenation userdata");
}

static void test_exprs(void)
{
	static const uint8_t range[] = {
		0x3c, 0, 0x01, 0x80,
		0x0a, 0, 0x01, 0, 'r', 'a', 'n', 'g', 'e', 0, 0, 0,
		0x2c, 0, 0x02, 0x80,
		0x08, 0, 0x01, 0, 0, 0, 0, 1,                   /* NFTA_RANGE_SREG 1 */
		0x08, 0, 0x02, 0, 0, 0, 0, 0,                   /* NFTA_RANGE_OP eq */
		0x0c, 0, 0x03, 0x80, 0x06, 0, 0x01, 0, 0, 80, 0, 0,     /* FROM_DATA { 00 50 } */
		0x0c, 0, 0x04, 0x80, 0x06, 0, 0x01, 0, 0, 90, 0, 0,     /* TO_DATA { 00 5a } */
	};
	static const uint8_t byteorder[] = {       /* as nft: hton(reg 9, 2, 1) */
		0x40, 0, 0x01, 0x80,
		0x0e, 0, 0x01, 0, 'b', 'y', 't', 'e', 'o', 'r', 'd', 'e', 'r', 0, 0, 0,
		0x2c, 0, 0x02, 0x80,
		0x08, 0, 0x01, 0, 0, 0, 0, 9, 0x08, 0, 0x02, 0, 0, 0, 0, 9,     /* SREG, DREG */
		0x08, 0, 0x03, 0, 0, 0, 0, 1, 0x08, 0, 0x04, 0, 0, 0, 0, 1,     /* OP hton, LEN */
		0x08, 0, 0x05, 0, 0, 0, 0, 2,                                   /* SIZE */
	};
	static const uint8_t reject[] = {
		0x24, 0, 0x01, 0x80,
		0x0b, 0, 0x01, 0, 'r', 'e', 'j', 'e', 'c', 't', 0, 0,
		0x14, 0, 0x02, 0x80,
		0x08, 0, 0x01, 0, 0, 0, 0, 2,                   /* ICMPX_UNREACH */
		0x05, 0, 0x02, 0, 3, 0, 0, 0,                   /* u8 admin-prohibited */
	};
	static const uint8_t masq[] = {
		0x14, 0, 0x01, 0x80, 0x09, 0, 0x01, 0, 'm', 'a', 's', 'q', 0, 0, 0, 0,
		0x04, 0, 0x02, 0x80,                            /* empty NFTA_EXPR_DATA */
		0x1c, 0, 0x01, 0x80, 0x09, 0, 0x01, 0, 'm', 'a', 's', 'q', 0, 0, 0, 0,
		0x0c, 0, 0x02, 0x80, 0x08, 0, 0x01, 0, 0, 0, 0, 0x10,   /* NFTA_MASQ_FLAGS */
	};
	static const uint8_t nat[] = {
		0x28, 0, 0x01, 0x80, 0x08, 0, 0x01, 0, 'n', 'a', 't', 0,
		0x1c, 0, 0x02, 0x80,
		0x08, 0, 0x01, 0, 0, 0, 0, 0,                   /* NFTA_NAT_TYPE snat */
		0x08, 0, 0x02, 0, 0, 0, 0, 2,                   /* NFTA_NAT_FAMILY ipv4 */
		0x08, 0, 0x03, 0, 0, 0, 0, 1,                   /* REG_ADDR_MIN reg 1 */
	};
	static const uint8_t lo[2] = { 0, 80 }, hi[2] = { 0, 90 };
	struct nftmsg_nat n = { .type = NFT_NAT_SNAT, .family = NFPROTO_IPV4,
				.reg_addr_min = NFT_REG_1 };
	struct nlb b;
	size_t at;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_rule_begin(&b, "t", "c");
	at = b.len;
	nftmsg_range(&b, NFT_RANGE_EQ, NFT_REG_1, lo, hi, 2);
	is_bytes(b.buf + at, b.len - at, range, sizeof(range), "golden: range 80-90");
	at = b.len;
	nftmsg_byteorder(&b, NFT_BYTEORDER_HTON, NFT_REG32_01, NFT_REG32_01, 1, 2);
	is_bytes(b.buf + at, b.len - at, byteorder, sizeof(byteorder), "golden: byteorder");
	at = b.len;
	nftmsg_reject(&b, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
	is_bytes(b.buf + at, b.len - at, reject, sizeof(reject), "golden: reject icmpx");
	at = b.len;
	nftmsg_masq(&b, 0);
	nftmsg_masq(&b, 0x10);
	is_bytes(b.buf + at, b.len - at, masq, sizeof(masq), "golden: masq, masq with flags");
	at = b.len;
	nftmsg_nat(&b, &n);
	is_bytes(b.buf + at, b.len - at, nat, sizeof(nat), "golden: snat from reg 1");
}

static void test_elem_at(void)
{
	static const uint8_t k1[4] = { 10, 0, 0, 1 }, k2[4] = { 10, 0, 0, 2 };
	const struct nlattr *a;
	struct nlattr *l;
	struct nlb b;
	size_t e2;

	nlb_init(&b, buf, sizeof(buf));
	l = nftmsg_elems_begin(&b, NFT_MSG_NEWSETELEM, "t", "s", 0);
	nftmsg_elem(&b, &(struct nftmsg_elem){ .key = k1, .key_len = 4 });
	e2 = b.len;
	nftmsg_elem(&b, &(struct nftmsg_elem){ .key = k2, .key_len = 4 });
	nftmsg_elems_end(&b, l);
	a = nftmsg_elem_at(b.nlh, (uint32_t)e2);
	ok(a && (const char *)a == b.buf + e2, "elem_at: the element starting there");
	a = nftmsg_elem_at(b.nlh, (uint32_t)e2 + 7);
	ok(a && (const char *)a == b.buf + e2, "elem_at: a byte inside it");
	ok(nftmsg_elem_at(b.nlh, (uint32_t)b.len) == NULL, "elem_at: past the end: NULL");
	ok(nftmsg_elem_at(b.nlh, 4) == NULL, "elem_at: in the header: NULL");
}

/* ---- the kernel ------------------------------------------------------------------------- */

enum { ID_ADDRS = 1, ID_RANGES, ID_VMAP, ID_CSET };

static const uint8_t v4 = NFPROTO_IPV4, tcp = 6;

/* meta nfproto ipv4: the dependency nft expects before a network-header load in inet */
static void need_ipv4(struct nlb *b)
{
	nftmsg_meta(b, NFT_META_NFPROTO, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, &v4, 1);
}

static void put_sets(struct nlb *b)
{
	struct nftmsg_set s = { .table = "vgtest", .key_type = NFTMSG_TYPE_IPV4, .key_len = 4 };

	s.name = "addrs", s.id = ID_ADDRS;
	nftmsg_newset(b, &s);
	s.name = "ranges", s.id = ID_RANGES, s.flags = NFT_SET_INTERVAL;
	nftmsg_newset(b, &s);
	s.name = "vm", s.id = ID_VMAP, s.flags = NFT_SET_MAP, s.data_type = NFT_DATA_VERDICT;
	nftmsg_newset(b, &s);
	s = (struct nftmsg_set){
		.table = "vgtest", .name = "cset", .id = ID_CSET,
		.flags = NFT_SET_INTERVAL | NFT_SET_CONCAT,
		.key_type = (NFTMSG_TYPE_IPV4 << NFTMSG_CONCAT_BITS | NFTMSG_TYPE_INET_PROTO)
				<< NFTMSG_CONCAT_BITS | NFTMSG_TYPE_INET_SERVICE,
		.key_len = 12, .nfields = 3, .fields = { 4, 1, 2 },
	};
	nftmsg_newset(b, &s);
}

static void put_elems(struct nlb *b)
{
	static const uint8_t a[3][4] = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 }, { 10, 0, 0, 3 } };
	static const uint8_t lo[4] = { 10, 1, 0, 0 }, hi[4] = { 10, 2, 0, 0 };
	static const uint8_t ck[12] = { 10, 0, 0, 9, 6, 0, 0, 0, 0, 80, 0, 0 };
	static const uint8_t ce[12] = { 10, 0, 0, 9, 6, 0, 0, 0, 0, 90, 0, 0 };
	struct nftmsg_elem e = { .key_len = 4 };
	struct nlattr *l;

	l = nftmsg_elems_begin(b, NFT_MSG_NEWSETELEM, "vgtest", "addrs", ID_ADDRS);
	for (int i = 0; i < 3; i++) {
		e.key = a[i];
		nftmsg_elem(b, &e);
	}
	nftmsg_elems_end(b, l);
	/* [10.1.0.0, 10.2.0.0): an interval ends at its first address outside */
	l = nftmsg_elems_begin(b, NFT_MSG_NEWSETELEM, "vgtest", "ranges", ID_RANGES);
	nftmsg_elem(b, &(struct nftmsg_elem){ .key = lo, .key_len = 4 });
	nftmsg_elem(b, &(struct nftmsg_elem){ .key = hi, .key_len = 4,
					       .flags = NFT_SET_ELEM_INTERVAL_END });
	nftmsg_elems_end(b, l);
	l = nftmsg_elems_begin(b, NFT_MSG_NEWSETELEM, "vgtest", "vm", ID_VMAP);
	nftmsg_elem(b, &(struct nftmsg_elem){ .key = a[0], .key_len = 4, .has_verdict = true,
					       .verdict = NFT_JUMP, .chain = "other" });
	nftmsg_elem(b, &(struct nftmsg_elem){ .key = a[1], .key_len = 4, .has_verdict = true,
					       .verdict = NF_DROP });
	nftmsg_elems_end(b, l);
	l = nftmsg_elems_begin(b, NFT_MSG_NEWSETELEM, "vgtest", "cset", ID_CSET);
	nftmsg_elem(b, &(struct nftmsg_elem){ .key = ck, .key_len = 12, .key_end = ce,
					       .key_end_len = 12 });
	nftmsg_elems_end(b, l);
}

static void put_forward_rules(struct nlb *b)
{
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;
	char eth0[16] = "eth0";
	struct nlattr *r;

	/* ct state established,related accept */
	r = nftmsg_rule_begin(b, "vgtest", "forward");
	nftmsg_ct(b, NFT_CT_STATE, NFT_REG_1);
	nftmsg_bitwise(b, NFT_REG_1, NFT_REG_1, &mask, &zero, 4);
	nftmsg_cmp(b, NFT_CMP_NEQ, NFT_REG_1, &zero, 4);
	nftmsg_verdict(b, NF_ACCEPT, NULL);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, "vgtest", "forward");      /* ip saddr @addrs counter accept */
	need_ipv4(b);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	nftmsg_lookup(b, "addrs", ID_ADDRS, NFT_REG_1, -1, 0);
	nftmsg_counter(b);
	nftmsg_verdict(b, NF_ACCEPT, NULL);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, "vgtest", "forward");      /* ip daddr vmap @vm */
	need_ipv4(b);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	nftmsg_lookup(b, "vm", ID_VMAP, NFT_REG_1, NFT_REG_VERDICT, 0);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, "vgtest", "forward");      /* iifname "eth0" goto other */
	nftmsg_meta(b, NFT_META_IIFNAME, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, eth0, sizeof(eth0));
	nftmsg_verdict(b, NFT_GOTO, "other");
	nftmsg_rule_end(b, r);
}

static void put_other_rules(struct nlb *b)
{
	static const uint8_t port[2] = { 0, 80 };
	char lo[16] = "lo";
	struct nlattr *r;

	r = nftmsg_rule_begin(b, "vgtest", "other");        /* ip daddr != @ranges drop */
	need_ipv4(b);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	nftmsg_lookup(b, "ranges", ID_RANGES, NFT_REG_1, -1, NFT_LOOKUP_F_INV);
	nftmsg_verdict(b, NF_DROP, NULL);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, "vgtest", "other");        /* oifname "lo" tcp dport 80 return */
	nftmsg_meta(b, NFT_META_OIFNAME, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, lo, sizeof(lo));
	nftmsg_meta(b, NFT_META_L4PROTO, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, &tcp, 1);
	nftmsg_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, port, 2);
	nftmsg_verdict(b, NFT_RETURN, NULL);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, "vgtest", "other"); /* ip saddr . meta l4proto . th dport @cset */
	need_ipv4(b);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	nftmsg_meta(b, NFT_META_L4PROTO, NFT_REG32_01);
	nftmsg_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02);
	nftmsg_lookup(b, "cset", ID_CSET, NFT_REG_1, -1, 0);
	nftmsg_verdict(b, NF_ACCEPT, NULL);
	nftmsg_rule_end(b, r);
}

static int send_batch(struct nlsock *s, struct nlb *b, size_t *failed, const char *what)
{
	struct ebuf eb = { "" };
	int r = nlb_err(b);

	*failed = SIZE_MAX;
	if (!r)
		r = nlsock_batch(s, b->buf, b->len, failed, &eb);
	if (r)
		diag("%s: %d at message %zu: %s", what, r, *failed, eb.msg);
	return r;
}

/* The text of `nft list ruleset` in this namespace (the child inherits it), in out. */
static int list_ruleset(char *out, size_t cap)
{
	FILE *f = popen("/usr/sbin/nft list ruleset 2>&1", "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	return pclose(f) == 0 ? 0 : -EIO;
}

static bool has(const char *text, const char *want)
{
	if (strstr(text, want))
		return true;
	diag("missing: %s", want);
	return false;
}

static void test_kernel(struct nlsock *s)
{
	static const char *want[] = {
		"table inet vgtest {",
		"type filter hook forward priority filter; policy accept;",
		"chain other {",
		"elements = { 10.0.0.1, 10.0.0.2,",     /* nft wraps long element lists */
		"10.0.0.3 }",
		"flags interval",
		"elements = { 10.1.0.0/16 }",
		"type ipv4_addr : verdict",
		"10.0.0.1 : jump other",
		"10.0.0.2 : drop",
		"type ipv4_addr . inet_proto . inet_service",
		"10.0.0.9 . tcp . 80-90",
		"ct state established,related accept",
		"ip saddr @addrs counter packets 0 bytes 0 accept",
		"ip daddr vmap @vm",
		"iifname \"eth0\" goto other",
		"ip daddr != @ranges drop",
		"oifname \"lo\" tcp dport 80 return",
		"ip saddr . meta l4proto . th dport @cset accept",
	};
	struct nftmsg_hook fwd = { NF_INET_FORWARD, 0, NF_ACCEPT, "filter" };
	static char text[16384];
	size_t failed, bad = 0;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	nftmsg_newtable(&b, "vgtest");
	nftmsg_newchain(&b, "vgtest", "forward", &fwd);
	nftmsg_newchain(&b, "vgtest", "other", NULL);
	put_sets(&b);
	put_elems(&b);
	put_forward_rules(&b);
	put_other_rules(&b);
	nftmsg_batch_end(&b);
	is_int(send_batch(s, &b, &failed, "build"), 0, "the kernel takes the whole batch");
	is_int(list_ruleset(text, sizeof(text)), 0, "nft list ruleset runs");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		bad += !has(text, want[i]);
	if (!ok(bad == 0, "nft renders every object and rule as meant"))
		diag("%s", text);
}

static void test_kernel_error(struct nlsock *s)
{
	static const uint8_t a[4] = { 10, 9, 9, 9 };
	static char text[16384];
	struct nlattr *l;
	size_t failed;
	struct nlb b;
	int r;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	nftmsg_newtable(&b, "vgtest2");                                 /* 1 */
	l = nftmsg_elems_begin(&b, NFT_MSG_NEWSETELEM, "vgtest", "addrs", 0);   /* 2 */
	nftmsg_elem(&b, &(struct nftmsg_elem){ .key = a, .key_len = 4 });
	nftmsg_elems_end(&b, l);
	l = nftmsg_rule_begin(&b, "vgtest", "forward");                 /* 3 */
	need_ipv4(&b);
	nftmsg_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	nftmsg_lookup(&b, "missing", 0, NFT_REG_1, -1, 0);
	nftmsg_rule_end(&b, l);
	nftmsg_batch_end(&b);
	r = send_batch(s, &b, &failed, "missing set (expected to fail)");
	ok(r == -ENOENT && failed == 3, "a rule naming a missing set: -ENOENT at its message");
	is_int(list_ruleset(text, sizeof(text)), 0, "nft list ruleset runs");
	ok(!strstr(text, "vgtest2") && !strstr(text, "10.9.9.9"), "nothing of that batch applied");

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	nftmsg_deltable(&b, "vgtest");
	nftmsg_batch_end(&b);
	is_int(send_batch(s, &b, &failed, "delete"), 0, "DELTABLE removes the table");
	is_int(list_ruleset(text, sizeof(text)), 0, "nft list ruleset runs");
	is_str(text, "", "the ruleset is empty again");
}

static int gen_cb(const struct nlmsghdr *nlh, void *ctx)
{
	int r = nftmsg_gen_parse(nlh, ctx);

	return r == -ENOMSG ? 0 : r;
}

static uint32_t read_gen(struct nlsock *s)
{
	struct ebuf eb = { "" };
	uint64_t m[8];
	uint32_t id = 0;
	struct nlb b;

	nlb_init(&b, m, sizeof(m));
	nftmsg_getgen(&b);
	if (nlsock_talk(s, b.nlh, gen_cb, &id, &eb))
		diag("getgen: %s", eb.msg);
	return id;
}

/* A generation-guarded batch: refused when stale, applied when current. */
static void test_kernel_genid(struct nlsock *s)
{
	uint32_t g = read_gen(s);
	size_t failed;
	struct nlb b;
	int r;

	ok(g != 0, "GETGEN: the namespace's generation");
	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin_genid(&b, g + 1);
	nftmsg_newtable(&b, "vgtest3");
	nftmsg_batch_end(&b);
	r = send_batch(s, &b, &failed, "stale genid (expected to fail)");
	ok(r == -ERESTART && failed == 0, "a stale genid: -ERESTART against BEGIN");
	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin_genid(&b, g);
	nftmsg_newtable(&b, "vgtest3");
	nftmsg_batch_end(&b);
	is_int(send_batch(s, &b, &failed, "current genid"), 0, "the current genid: applied");
	is_int(read_gen(s), g + 1, "one commit, one generation");
}

static void put_nat_rules(struct nlb *b)
{
	static const uint8_t lo[2] = { 0, 80 }, hi[2] = { 0, 90 }, tcp6 = 6;
	static const uint8_t a[4] = { 10, 7, 0, 1 };
	struct nftmsg_nat n = { .type = NFT_NAT_SNAT, .family = NFPROTO_IPV4,
				.reg_addr_min = NFT_REG_1 };
	struct nlattr *r;

	r = nftmsg_rule_begin(b, "vgtest3", "post");        /* tcp dport 80-90 masquerade */
	nftmsg_meta(b, NFT_META_L4PROTO, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, &tcp6, 1);
	nftmsg_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	nftmsg_range(b, NFT_RANGE_EQ, NFT_REG_1, lo, hi, 2);
	nftmsg_masq(b, 0);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, "vgtest3", "post");        /* meta nfproto ipv4 snat to 10.7.0.1 */
	need_ipv4(b);
	nftmsg_immediate(b, NFT_REG_1, a, 4);
	nftmsg_nat(b, &n);
	nftmsg_rule_end(b, r);
	/* meta l4proto tcp reject with tcp reset; reject with icmpx admin-prohibited */
	r = nftmsg_rule_begin(b, "vgtest3", "fwd");
	nftmsg_meta(b, NFT_META_L4PROTO, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, &tcp6, 1);
	nftmsg_reject(b, NFT_REJECT_TCP_RST, 0);
	nftmsg_rule_end(b, r);
	r = nftmsg_rule_begin(b, "vgtest3", "fwd");
	nftmsg_reject(b, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
	nftmsg_rule_end(b, r);
}

/* nat, masq, range and reject through the kernel and nft's listing. */
static void test_kernel_exprs(struct nlsock *s)
{
	static const char *want[] = {
		"type nat hook postrouting priority srcnat; policy accept;",
		"tcp dport 80-90 masquerade",
		"snat ip to 10.7.0.1",
		"meta l4proto tcp reject with tcp reset",
		"reject with icmpx admin-prohibited",
	};
	struct nftmsg_hook post = { NF_INET_POST_ROUTING, 100, NF_ACCEPT, "nat" };
	struct nftmsg_hook fwd = { NF_INET_FORWARD, 0, NF_ACCEPT, "filter" };
	static char text[16384];
	size_t failed, bad = 0;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	nftmsg_newchain(&b, "vgtest3", "post", &post);
	nftmsg_newchain(&b, "vgtest3", "fwd", &fwd);
	put_nat_rules(&b);
	nftmsg_batch_end(&b);
	is_int(send_batch(s, &b, &failed, "nat"), 0, "nat, masq, range, reject: accepted");
	is_int(list_ruleset(text, sizeof(text)), 0, "nft list ruleset runs");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		bad += !has(text, want[i]);
	if (!ok(bad == 0, "nft renders them as meant"))
		diag("%s", text);
}

/*
 * In one batch: the last map element sending to a chain goes, then the chain (DELCHAIN would
 * be EBUSY while the element refers to it); a chain flushed, then the set its rule looked up.
 */
static void test_kernel_deletes(struct nlsock *s)
{
	static const uint8_t a[4] = { 10, 0, 0, 1 };
	struct nftmsg_set set = { .table = "vgtest3", .name = "vm", .id = 1, .flags = NFT_SET_MAP,
				  .key_type = NFTMSG_TYPE_IPV4, .key_len = 4,
				  .data_type = NFT_DATA_VERDICT, .nft_udata = true };
	struct nftmsg_elem e = { .key = a, .key_len = 4, .has_verdict = true, .verdict = NFT_GOTO,
				 .chain = "grp" };
	static char text[16384];
	struct nlattr *l;
	const char *t3;
	size_t failed;
	struct nlb b;
	int r;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	nftmsg_newchain(&b, "vgtest3", "grp", NULL);
	nftmsg_newset(&b, &set);
	l = nftmsg_elems_begin(&b, NFT_MSG_NEWSETELEM, "vgtest3", "vm", 1);
	nftmsg_elem(&b, &e);
	nftmsg_elems_end(&b, l);
	l = nftmsg_rule_begin(&b, "vgtest3", "fwd");
	need_ipv4(&b);
	nftmsg_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	nftmsg_lookup(&b, "vm", 1, NFT_REG_1, NFT_REG_VERDICT, 0);
	nftmsg_rule_end(&b, l);
	nftmsg_batch_end(&b);
	is_int(send_batch(s, &b, &failed, "map"), 0, "a verdict map sending to a chain");

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	nftmsg_delchain(&b, "vgtest3", "grp");
	nftmsg_batch_end(&b);
	r = send_batch(s, &b, &failed, "busy chain (expected to fail)");
	ok(r == -EBUSY && failed == 1, "DELCHAIN of a chain a map element uses: EBUSY");

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	l = nftmsg_elems_begin(&b, NFT_MSG_DELSETELEM, "vgtest3", "vm", 0);
	nftmsg_elem(&b, &(struct nftmsg_elem){ .key = a, .key_len = 4 });
	nftmsg_elems_end(&b, l);
	nftmsg_delchain(&b, "vgtest3", "grp");
	nftmsg_delrule(&b, "vgtest3", "fwd", 0);
	nftmsg_flushset(&b, "vgtest3", "vm");
	nftmsg_delset(&b, "vgtest3", "vm");
	nftmsg_batch_end(&b);
	is_int(send_batch(s, &b, &failed, "deletes"), 0,
	       "element, then its chain; rules, then their set: one batch");
	is_int(list_ruleset(text, sizeof(text)), 0, "nft list ruleset runs");
	t3 = strstr(text, "table inet vgtest3");
	ok(t3 && !strstr(t3, "grp") && !strstr(t3, "vm") && !strstr(t3, "reject") &&
	   strstr(t3, "masquerade"), "exactly those are gone");
	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	nftmsg_deltable(&b, "vgtest3");
	nftmsg_batch_end(&b);
	is_int(send_batch(s, &b, &failed, "drop vgtest3"), 0, "DELTABLE vgtest3");
}

/* The kernel's extended ack points at the element it refused; elem_at finds it. */
static void test_kernel_offset(struct nlsock *s)
{
	static const uint8_t k1[4] = { 10, 0, 0, 1 }, k2[4] = { 10, 0, 0, 9 };
	const struct nlmsghdr *m;
	struct nlattr *l;
	size_t failed, e2;
	struct nlb b;
	int r;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_batch_begin(&b);
	l = nftmsg_elems_begin(&b, NFT_MSG_DELSETELEM, "vgtest", "addrs", 0);
	nftmsg_elem(&b, &(struct nftmsg_elem){ .key = k1, .key_len = 4 });
	m = b.nlh;
	e2 = b.len - (size_t)((char *)m - b.buf);
	nftmsg_elem(&b, &(struct nftmsg_elem){ .key = k2, .key_len = 4 });
	nftmsg_elems_end(&b, l);
	nftmsg_batch_end(&b);
	r = send_batch(s, &b, &failed, "missing element (expected to fail)");
	ok(r == -ENOENT && failed == 1 && s->err_offset == e2,
	   "a missing element: ENOENT, the offset of that element");
	ok(nftmsg_elem_at(m, s->err_offset) == (const void *)((const char *)m + e2),
	   "and elem_at finds it");
}

int main(void)
{
	struct nlsock s = { .fd = -1 };

	test_markers_table();
	test_chain();
	test_rule();
	test_verdicts();
	test_set();
	test_overflow();
	test_genid();
	test_deletes();
	test_udata();
	test_exprs();
	test_elem_at();
	if (unshare(CLONE_NEWNET)) {
		printf("ok %d - # SKIP no private network namespace (needs root)\n", ++tap_n);
		return tap_done();
	}
	if (!ok(nlsock_open(&s, NETLINK_NETFILTER) == 0, "netfilter socket in the new namespace"))
		return tap_done();
	test_kernel(&s);
	test_kernel_genid(&s);
	test_kernel_exprs(&s);
	test_kernel_deletes(&s);
	test_kernel_offset(&s);
	test_kernel_error(&s);
	nlsock_close(&s);
	return tap_done();
}
