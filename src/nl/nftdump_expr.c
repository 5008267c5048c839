// SPDX-License-Identifier: MIT
/*
 * nftdump_expr.c: the text primitives of nftdump (sticky-error printing, names, data values
 * and verdicts) and the rule expressions, one renderer each, printing what libnftnl's
 * snprintf prints for `nft --debug=netlink` so our goldens can be held against nft's. The
 * attribute sets are the kernel's dump functions' (net/netfilter/nft_*.c, *_dump()).
 * Attributes we do not print are ignored: newer kernels add some (NFTA_BITWISE_OP).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "nftdump_int.h"
#include "nlmsg.h"

/* The largest attribute type any decoded expression uses, with room for newer ones. */
#define XTB_MAX 16
/* NFTA_BITWISE_SREG2 (Linux 6.13), newer than the uapi headers we build with */
#define BITWISE_SREG2 (NFTA_BITWISE_DATA + 1)

/* ---- text primitives ---------------------------------------------------------------- */

void nftdump_printf(struct nftdump_out *o, const char *fmt, ...)
{
	struct buf *b = o->b;
	va_list ap;
	int n;

	if (o->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n)) {
		o->err = -ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void nftdump_name(struct nftdump_out *o, const char *s)
{
	size_t at = o->b->len;

	if (o->err)
		return;
	if (buf_adds(o->b, s)) {
		o->err = -ENOMEM;
		return;
	}
	/* an operator's terminal and the one-line-per-object format both depend on it */
	for (unsigned char *c = (unsigned char *)o->b->p + at; *c; c++) {
		if (*c <= 0x20 || *c == 0x7f)
			*c = '?';
	}
}

void nftdump_fail(struct nftdump_out *o, const void *at, const char *fmt, ...)
{
	const char *base = (const char *)o->nlh, *p = at;
	char what[256];
	va_list ap;

	if (o->err)
		return;
	o->err = -EBADMSG;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (base && p && p >= base)
		ebuf_set(o->eb, "nf_tables dump: %s (at byte %zu)", what, (size_t)(p - base));
	else
		ebuf_set(o->eb, "nf_tables dump: %s", what);
}

uint32_t nftdump_be32(struct nftdump_out *o, const struct nlattr *a, const void *parent,
		      const char *what)
{
	uint32_t v = 0;

	if (nla_get_be32(a, &v))
		nftdump_fail(o, a ? (const void *)a : parent, "%s %s", what,
			     a ? "is not 4 bytes" : "missing");
	return o->err ? 0 : v;
}

bool nftdump_opt_be32(struct nftdump_out *o, const struct nlattr *a, uint32_t *v,
		      const char *what)
{
	if (!a)
		return false;
	*v = nftdump_be32(o, a, a, what);
	return !o->err;
}

void nftdump_hex(struct nftdump_out *o, const uint8_t *p, size_t n, enum nftdump_style style)
{
	uint32_t w;

	if (style == NFTDUMP_BYTES) {
		for (size_t i = 0; i < n; i++)
			nftdump_printf(o, " %02x", p[i]);
		return;
	}
	/* libnftnl prints the register as host u32s; fix that to little-endian for all hosts */
	for (size_t i = 0; i < n; i += 4) {
		w = 0;
		for (size_t j = 0; j < 4 && i + j < n; j++)
			w |= (uint32_t)p[i + j] << (8 * j);
		nftdump_printf(o, " 0x%08x", w);
	}
}

const uint8_t *nftdump_value(struct nftdump_out *o, const struct nlattr *nest, size_t *len,
			     const char *what)
{
	const struct nlattr *tb[NFTA_DATA_MAX + 1];
	const struct nlattr *v;

	if (o->err)
		return NULL;
	if (nla_parse_nested(tb, NFTA_DATA_MAX, nest)) {
		nftdump_fail(o, nest, "%s: malformed data", what);
		return NULL;
	}
	v = tb[NFTA_DATA_VALUE];
	if (!v || tb[NFTA_DATA_VERDICT] || !nla_datalen(v) ||
	    nla_datalen(v) > NFT_DATA_VALUE_MAXLEN) {
		nftdump_fail(o, v ? (const void *)v : nest, "%s: no value of 1 to %d bytes", what,
			     NFT_DATA_VALUE_MAXLEN);
		return NULL;
	}
	*len = nla_datalen(v);
	return nla_data(v);
}

static const char *verdict_name(int32_t code)
{
	static const char *const pos[] = { "drop", "accept", "stolen", "queue", "repeat", "stop" };
	static const char *const neg[] = { "continue", "break", "jump", "goto", "return" };

	if (code >= 0 && (size_t)code < ARRAY_SIZE(pos))
		return pos[code];
	if (code < 0 && code >= -(int32_t)ARRAY_SIZE(neg))
		return neg[-code - 1];
	return NULL;
}

static void verdict(struct nftdump_out *o, const struct nlattr *nest, const char *what)
{
	const struct nlattr *tb[NFTA_VERDICT_MAX + 1];
	const char *name, *chain = NULL;
	int32_t code;

	if (nla_parse_nested(tb, NFTA_VERDICT_MAX, nest)) {
		nftdump_fail(o, nest, "%s: malformed verdict", what);
		return;
	}
	code = (int32_t)nftdump_be32(o, tb[NFTA_VERDICT_CODE], nest, "verdict code");
	if (tb[NFTA_VERDICT_CHAIN] && !(chain = nla_get_strz(tb[NFTA_VERDICT_CHAIN])))
		nftdump_fail(o, tb[NFTA_VERDICT_CHAIN], "%s: verdict chain not a string", what);
	if (o->err)
		return;
	name = verdict_name(code);
	if ((code == NFT_JUMP || code == NFT_GOTO) != !!chain)
		nftdump_fail(o, nest, "%s: a chain goes with jump and goto only", what);
	else if (!name)
		nftdump_printf(o, " verdict %d", code);
	else
		nftdump_printf(o, " %s", name);
	if (chain) {
		nftdump_printf(o, " -> ");
		nftdump_name(o, chain);
	}
}

void nftdump_data(struct nftdump_out *o, const struct nlattr *nest, enum nftdump_style style,
		  bool verdict_ok, const char *what)
{
	const struct nlattr *tb[NFTA_DATA_MAX + 1];
	const uint8_t *p;
	size_t n;

	if (o->err)
		return;
	if (!nest) {
		nftdump_fail(o, NULL, "%s: data missing", what);
		return;
	}
	if (nla_parse_nested(tb, NFTA_DATA_MAX, nest)) {
		nftdump_fail(o, nest, "%s: malformed data", what);
		return;
	}
	if (verdict_ok && tb[NFTA_DATA_VERDICT] && !tb[NFTA_DATA_VALUE]) {
		verdict(o, tb[NFTA_DATA_VERDICT], what);
		return;
	}
	p = nftdump_value(o, nest, &n, what);
	if (p)
		nftdump_hex(o, p, n, style);
}

/* ---- expressions -------------------------------------------------------------------- */

/* One expression being read: its name, its data attributes indexed by type. */
struct xr {
	struct nftdump_out *o;
	const char *name;
	const struct nlattr *at;        /* the NFTA_LIST_ELEM, for error offsets */
	const struct nlattr *tb[XTB_MAX + 1];
};

static uint32_t req(struct xr *x, unsigned t)
{
	uint32_t v = 0;

	if (nla_get_be32(x->tb[t], &v))
		nftdump_fail(x->o, x->tb[t] ? x->tb[t] : x->at, "expression %s: attribute %u %s",
			     x->name, t, x->tb[t] ? "is not 4 bytes" : "missing");
	return x->o->err ? 0 : v;
}

static bool opt(struct xr *x, unsigned t, uint32_t *v)
{
	if (!x->tb[t])
		return false;
	*v = req(x, t);
	return !x->o->err;
}

static void xdata(struct xr *x, unsigned t, bool verdict_ok)
{
	if (!x->tb[t])
		nftdump_fail(x->o, x->at, "expression %s: data attribute %u missing", x->name, t);
	nftdump_data(x->o, x->tb[t], NFTDUMP_WORDS, verdict_ok, x->name);
}

/* names[v], or a number for values past the table or without a name */
static void pick(struct xr *x, const char *const *names, size_t n, uint32_t v)
{
	if (v < n && names[v])
		nftdump_printf(x->o, "%s", names[v]);
	else
		nftdump_printf(x->o, "%u", v);
}

static void x_payload(struct xr *x)
{
	static const char *const bases[] = { "link", "network", "transport", "inner" };
	uint32_t base = req(x, NFTA_PAYLOAD_BASE), off = req(x, NFTA_PAYLOAD_OFFSET);
	uint32_t len = req(x, NFTA_PAYLOAD_LEN), reg, ct = 0, co = 0, cf = 0;

	if (opt(x, NFTA_PAYLOAD_SREG, &reg)) {
		opt(x, NFTA_PAYLOAD_CSUM_TYPE, &ct);
		opt(x, NFTA_PAYLOAD_CSUM_OFFSET, &co);
		opt(x, NFTA_PAYLOAD_CSUM_FLAGS, &cf);
		nftdump_printf(x->o, "[ payload write reg %u => %ub @ ", reg, len);
		pick(x, bases, ARRAY_SIZE(bases), base);
		nftdump_printf(x->o, " header + %u csum_type %u csum_off %u csum_flags 0x%x ]",
			       off, ct, co, cf);
		return;
	}
	reg = req(x, NFTA_PAYLOAD_DREG);
	nftdump_printf(x->o, "[ payload load %ub @ ", len);
	pick(x, bases, ARRAY_SIZE(bases), base);
	nftdump_printf(x->o, " header + %u => reg %u ]", off, reg);
}

static void x_meta(struct xr *x)
{
	static const char *const keys[] = {
		"len", "protocol", "priority", "mark", "iif", "oif", "iifname", "oifname",
		"iiftype", "oiftype", "skuid", "skgid", "nftrace", "rtclassid", "secmark",
		"nfproto", "l4proto", "bri_iifname", "bri_oifname", "pkttype", "cpu", "iifgroup",
		"oifgroup", "cgroup", "prandom", "secpath", "iifkind", "oifkind", "bri_iifpvid",
		"bri_iifvproto", "time", "day", "hour", "sdif", "sdifname", "bri_broute",
	};
	uint32_t key = req(x, NFTA_META_KEY), reg;

	if (opt(x, NFTA_META_SREG, &reg)) {
		nftdump_printf(x->o, "[ meta set ");
		pick(x, keys, ARRAY_SIZE(keys), key);
		nftdump_printf(x->o, " with reg %u ]", reg);
		return;
	}
	reg = req(x, NFTA_META_DREG);
	nftdump_printf(x->o, "[ meta load ");
	pick(x, keys, ARRAY_SIZE(keys), key);
	nftdump_printf(x->o, " => reg %u ]", reg);
}

static void x_ct(struct xr *x)
{
	static const char *const keys[] = {
		"state", "direction", "status", "mark", "secmark", "expiration", "helper",
		"l3protocol", "src", "dst", "protocol", "proto_src", "proto_dst", "label",
		"packets", "bytes", "avgpkt", "zone", "event", "src_ip", "dst_ip", "src_ip6",
		"dst_ip6", "id",
	};
	static const char *const dirs[] = { "original", "reply" };
	uint32_t key = req(x, NFTA_CT_KEY), reg;
	uint8_t dir;

	if (opt(x, NFTA_CT_SREG, &reg)) {
		nftdump_printf(x->o, "[ ct set ");
		pick(x, keys, ARRAY_SIZE(keys), key);
		nftdump_printf(x->o, " with reg %u ]", reg);
		return;
	}
	reg = req(x, NFTA_CT_DREG);
	nftdump_printf(x->o, "[ ct load ");
	pick(x, keys, ARRAY_SIZE(keys), key);
	nftdump_printf(x->o, " => reg %u", reg);
	if (x->tb[NFTA_CT_DIRECTION]) {
		if (nla_get_u8(x->tb[NFTA_CT_DIRECTION], &dir))
			nftdump_fail(x->o, x->tb[NFTA_CT_DIRECTION], "ct: direction not 1 byte");
		nftdump_printf(x->o, " , dir ");
		pick(x, dirs, ARRAY_SIZE(dirs), dir);
	}
	nftdump_printf(x->o, " ]");
}

static const char *const cmp_ops[] = { "eq", "neq", "lt", "lte", "gt", "gte" };

static void x_cmp(struct xr *x)
{
	uint32_t sreg = req(x, NFTA_CMP_SREG), op = req(x, NFTA_CMP_OP);

	nftdump_printf(x->o, "[ cmp ");
	pick(x, cmp_ops, ARRAY_SIZE(cmp_ops), op);
	nftdump_printf(x->o, " reg %u", sreg);
	xdata(x, NFTA_CMP_DATA, false);
	nftdump_printf(x->o, " ]");
}

static void x_range(struct xr *x)
{
	uint32_t sreg = req(x, NFTA_RANGE_SREG), op = req(x, NFTA_RANGE_OP);

	nftdump_printf(x->o, "[ range ");
	pick(x, cmp_ops, 2, op);
	nftdump_printf(x->o, " reg %u", sreg);
	xdata(x, NFTA_RANGE_FROM_DATA, false);
	xdata(x, NFTA_RANGE_TO_DATA, false);
	nftdump_printf(x->o, " ]");
}

static void x_bitwise(struct xr *x)
{
	/* NFT_BITWISE_AND, _OR, _XOR (3..5, Linux 6.13) take their second operand from SREG2 */
	static const char *const ops[] = { NULL, "<<", ">>", "&", "|", "^" };
	uint32_t sreg = req(x, NFTA_BITWISE_SREG), dreg = req(x, NFTA_BITWISE_DREG), op = 0;

	opt(x, NFTA_BITWISE_OP, &op);
	nftdump_printf(x->o, "[ bitwise reg %u = ( reg %u ", dreg, sreg);
	if (op == NFT_BITWISE_MASK_XOR) {
		nftdump_printf(x->o, "&");
		xdata(x, NFTA_BITWISE_MASK, false);
		nftdump_printf(x->o, " ) ^");
		xdata(x, NFTA_BITWISE_XOR, false);
	} else if (op < ARRAY_SIZE(ops)) {
		nftdump_printf(x->o, "%s", ops[op]);
		if (op <= NFT_BITWISE_RSHIFT)
			xdata(x, NFTA_BITWISE_DATA, false);
		else
			nftdump_printf(x->o, " reg %u", req(x, BITWISE_SREG2));
		nftdump_printf(x->o, " )");
	} else {
		nftdump_printf(x->o, "op %u )", op);
	}
	nftdump_printf(x->o, " ]");
}

static void x_lookup(struct xr *x)
{
	const char *set = nla_get_strz(x->tb[NFTA_LOOKUP_SET]);
	uint32_t sreg = req(x, NFTA_LOOKUP_SREG), dreg, flags = 0;

	if (!set)
		nftdump_fail(x->o, x->at, "lookup: set name missing or not a string");
	nftdump_printf(x->o, "[ lookup reg %u set ", sreg);
	if (set)
		nftdump_name(x->o, set);
	if (opt(x, NFTA_LOOKUP_DREG, &dreg))
		nftdump_printf(x->o, " dreg %u", dreg);
	opt(x, NFTA_LOOKUP_FLAGS, &flags);
	nftdump_printf(x->o, " 0x%x ]", flags);
}

static void x_immediate(struct xr *x)
{
	nftdump_printf(x->o, "[ immediate reg %u", req(x, NFTA_IMMEDIATE_DREG));
	xdata(x, NFTA_IMMEDIATE_DATA, true);
	nftdump_printf(x->o, " ]");
}

static void x_counter(struct xr *x)
{
	uint64_t bytes = 0, pkts = 0;

	if ((x->tb[NFTA_COUNTER_BYTES] && nla_get_be64(x->tb[NFTA_COUNTER_BYTES], &bytes)) ||
	    (x->tb[NFTA_COUNTER_PACKETS] && nla_get_be64(x->tb[NFTA_COUNTER_PACKETS], &pkts)))
		nftdump_fail(x->o, x->at, "counter: a value is not 8 bytes");
	if (x->o->flags & NFTDUMP_VOLATILE)
		nftdump_printf(x->o, "[ counter pkts %llu bytes %llu ]", (unsigned long long)pkts,
			       (unsigned long long)bytes);
	else
		nftdump_printf(x->o, "[ counter ]");
}

static void optreg(struct xr *x, unsigned t, const char *what)
{
	uint32_t reg;

	if (opt(x, t, &reg))
		nftdump_printf(x->o, " %s reg %u", what, reg);
}

static void x_nat(struct xr *x)
{
	static const char *const types[] = { "snat", "dnat" };
	uint32_t type = req(x, NFTA_NAT_TYPE), family = 0, flags;

	opt(x, NFTA_NAT_FAMILY, &family);
	nftdump_printf(x->o, "[ nat ");
	pick(x, types, ARRAY_SIZE(types), type);
	nftdump_printf(x->o, " %s", family == NFPROTO_IPV4 ? "ip" : family == NFPROTO_IPV6 ? "ip6" :
		       family == NFPROTO_INET ? "inet" : "unknown");
	optreg(x, NFTA_NAT_REG_ADDR_MIN, "addr_min");
	optreg(x, NFTA_NAT_REG_ADDR_MAX, "addr_max");
	optreg(x, NFTA_NAT_REG_PROTO_MIN, "proto_min");
	optreg(x, NFTA_NAT_REG_PROTO_MAX, "proto_max");
	if (opt(x, NFTA_NAT_FLAGS, &flags) && flags)
		nftdump_printf(x->o, " flags 0x%x", flags);
	nftdump_printf(x->o, " ]");
}

static void x_masq(struct xr *x)
{
	uint32_t flags;

	nftdump_printf(x->o, "[ masq");
	if (opt(x, NFTA_MASQ_FLAGS, &flags) && flags)
		nftdump_printf(x->o, " flags 0x%x", flags);
	optreg(x, NFTA_MASQ_REG_PROTO_MIN, "proto_min");
	optreg(x, NFTA_MASQ_REG_PROTO_MAX, "proto_max");
	nftdump_printf(x->o, " ]");
}

static void x_reject(struct xr *x)
{
	uint8_t code = 0;

	if (x->tb[NFTA_REJECT_ICMP_CODE] && nla_get_u8(x->tb[NFTA_REJECT_ICMP_CODE], &code))
		nftdump_fail(x->o, x->tb[NFTA_REJECT_ICMP_CODE], "reject: code not 1 byte");
	nftdump_printf(x->o, "[ reject type %u code %u ]", req(x, NFTA_REJECT_TYPE), code);
}

static void x_byteorder(struct xr *x)
{
	static const char *const ops[] = { "ntoh", "hton" };
	uint32_t dreg = req(x, NFTA_BYTEORDER_DREG), sreg = req(x, NFTA_BYTEORDER_SREG);
	uint32_t op = req(x, NFTA_BYTEORDER_OP), len = req(x, NFTA_BYTEORDER_LEN);
	uint32_t size = req(x, NFTA_BYTEORDER_SIZE);

	nftdump_printf(x->o, "[ byteorder reg %u = ", dreg);
	pick(x, ops, ARRAY_SIZE(ops), op);
	nftdump_printf(x->o, "(reg %u, %u, %u) ]", sreg, size, len);
}

/* Anything else: its attributes as they are, so nothing the kernel holds goes unseen. */
static void x_raw(struct xr *x, const struct nlattr *data)
{
	const struct nlattr *a;
	size_t left;

	nftdump_printf(x->o, "[ ");
	nftdump_name(x->o, x->name);
	if (data) {
		for_each_nla(a, nla_data(data), nla_datalen(data), left) {
			nftdump_printf(x->o, " %u=", nla_type(a));
			for (size_t i = 0; i < nla_datalen(a); i++)
				nftdump_printf(x->o, "%02x", ((const uint8_t *)nla_data(a))[i]);
		}
	}
	nftdump_printf(x->o, " ]");
}

static const struct {
	const char *name;
	void (*fn)(struct xr *x);
} xdefs[] = {
	{ "payload", x_payload }, { "meta", x_meta }, { "ct", x_ct }, { "cmp", x_cmp },
	{ "range", x_range }, { "bitwise", x_bitwise }, { "lookup", x_lookup },
	{ "immediate", x_immediate }, { "counter", x_counter }, { "nat", x_nat },
	{ "masq", x_masq }, { "reject", x_reject }, { "byteorder", x_byteorder },
};

void nftdump_expr(struct nftdump_out *o, const struct nlattr *elem)
{
	const struct nlattr *tb[NFTA_EXPR_MAX + 1], *data;
	struct xr x = { .o = o, .at = elem };

	if (nla_parse_nested(tb, NFTA_EXPR_MAX, elem) ||
	    !(x.name = nla_get_strz(tb[NFTA_EXPR_NAME]))) {
		nftdump_fail(o, elem, "expression without a name");
		return;
	}
	data = tb[NFTA_EXPR_DATA];
	if (data && nla_parse_nested(x.tb, XTB_MAX, data)) {
		nftdump_fail(o, data, "expression %s: malformed attributes", x.name);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(xdefs); i++) {
		if (!strcmp(x.name, xdefs[i].name)) {
			xdefs[i].fn(&x);
			return;
		}
	}
	x_raw(&x, data);
}
