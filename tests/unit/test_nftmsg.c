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

int main(void)
{
	struct nlsock s = { .fd = -1 };

	test_markers_table();
	test_chain();
	test_rule();
	test_verdicts();
	test_set();
	test_overflow();
	if (unshare(CLONE_NEWNET)) {
		printf("ok %d - # SKIP no private network namespace (needs root)\n", ++tap_n);
		return tap_done();
	}
	if (!ok(nlsock_open(&s, NETLINK_NETFILTER) == 0, "netfilter socket in the new namespace"))
		return tap_done();
	test_kernel(&s);
	test_kernel_error(&s);
	nlsock_close(&s);
	return tap_done();
}
