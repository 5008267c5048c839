// SPDX-License-Identifier: MIT
/* deps: nl/nlmsg.c base/err.c base/mem.c base/buf.c */
/*
 * fuzz_nlmsg.c: the input is a receive buffer, as recvmsg() would fill it. Every message is
 * iterated, parsed with the rtnetlink/nfnetlink family header its type implies, every
 * attribute read with every typed getter and parsed as a nest, recursively (bounded), and
 * NLMSG_ERROR / NLMSG_DONE decoded. The same bytes then drive the builder as a list of
 * operations, checking that it never writes past its cap and that what it keeps is framed.
 * Seeds: recorded GETLINK/GETADDR/GETROUTE/GETNEIGH datagrams and ext-ack error replies.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "base/err.h"
#include "nl/nlmsg.h"
#include "fuzz_util.h"

#define MAXTYPE 63
#define DEPTH 8

static size_t hdrlen_of(uint16_t type)
{
	if (type >= RTM_NEWLINK && type <= RTM_SETLINK)
		return sizeof(struct ifinfomsg);
	if (type >= RTM_NEWADDR && type <= RTM_GETADDR)
		return sizeof(struct ifaddrmsg);
	if (type >= RTM_NEWROUTE && type <= RTM_GETROUTE)
		return sizeof(struct rtmsg);
	if (type >= RTM_NEWNEIGH && type <= RTM_GETNEIGH)
		return sizeof(struct ndmsg);
	if (type >= RTM_NEWQDISC && type <= RTM_GETTFILTER)
		return sizeof(struct tcmsg);
	return 4;       /* nfgenmsg, and anything else */
}

static volatile uint64_t sink;

static void use(const struct nlattr *a)
{
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;
	const char *s;

	if (!nla_get_u8(a, &u8))
		sink += u8;
	if (!nla_get_u16(a, &u16) && !nla_get_be16(a, &u16))
		sink += u16;
	if (!nla_get_u32(a, &u32) && !nla_get_be32(a, &u32))
		sink += u32;
	if (!nla_get_u64(a, &u64) && !nla_get_be64(a, &u64))
		sink += u64;
	s = nla_get_strz(a);
	if (s)
		sink += strlen(s);
}

static void walk(const void *p, size_t len, int depth)
{
	const struct nlattr *tb[MAXTYPE + 1], *a;
	size_t left, i;

	if (!nla_parse(tb, MAXTYPE, p, len)) {
		for (i = 0; i <= MAXTYPE; i++)
			sink += tb[i] ? nla_datalen(tb[i]) : 0;
	}
	for_each_nla(a, p, len, left) {
		if ((const char *)a + a->nla_len > (const char *)p + len)
			__builtin_trap();
		use(a);
		if (depth < DEPTH) {
			if (!nla_parse_nested(tb, MAXTYPE, a))
				sink++;
			walk(nla_data(a), nla_datalen(a), depth + 1);
		}
	}
}

static void check_ebuf(const struct ebuf *eb)
{
	size_t i;

	for (i = 0; i < sizeof(eb->msg) && eb->msg[i]; i++) {
		if ((unsigned char)eb->msg[i] < 0x20)
			__builtin_trap();
	}
	if (i == sizeof(eb->msg))
		__builtin_trap();
}

static void parse(const uint8_t *data, size_t size)
{
	const struct nlattr *tb[MAXTYPE + 1];
	const struct nlmsghdr *nlh;
	struct ebuf eb;
	size_t left, h;
	int r;

	for_each_nlmsg(nlh, data, size, left) {
		if (nlh->nlmsg_len > left)
			__builtin_trap();
		ebuf_clear(&eb);
		r = nlh->nlmsg_type == NLMSG_DONE ? nlmsg_decode_done(nlh, &eb)
						  : nlmsg_decode_error(nlh, &eb);
		if (r > 0 || r < -4095)
			__builtin_trap();
		check_ebuf(&eb);
		h = hdrlen_of(nlh->nlmsg_type);
		if (!nlmsg_parse(tb, MAXTYPE, nlh, h))
			sink++;
		if (nlmsg_datalen(nlh) >= h)
			walk((const char *)nlmsg_data(nlh) + NLMSG_ALIGN(h),
			     nlmsg_datalen(nlh) > NLMSG_ALIGN(h) ? nlmsg_datalen(nlh) - NLMSG_ALIGN(h)
								 : 0, 0);
	}
}

/* ---- the builder, driven by the same bytes ---------------------------------------------- */

struct ops {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct ops *o)
{
	uint8_t c = 0;

	if (o->n) {
		c = *o->p++;
		o->n--;
	}
	return c;
}

static void op(struct nlb *b, struct ops *o, struct nlattr **nest, int *depth)
{
	uint8_t c = next(o), t = next(o), len = next(o);
	char str[256];

	switch (c % 12) {
	case 0: nlb_msg(b, t, len); break;
	case 1: nlb_extra(b, len); break;
	case 2: nlb_put(b, t, o->p, MIN((size_t)len, o->n)); break;
	case 3: nlb_put_flag(b, t); break;
	case 4: nlb_put_u8(b, t, len); break;
	case 5: nlb_put_u16(b, t, len); break;
	case 6: nlb_put_be32(b, t, len); break;
	case 7: nlb_put_be64(b, t, len); break;
	case 8:
		memset(str, 'x', len);
		str[len] = '\0';
		nlb_put_strz(b, t, str);
		break;
	case 9:
		if (*depth < 8)
			nest[(*depth)++] = nlb_nest_start(b, t);
		break;
	case 10:
		if (*depth)
			nlb_nest_end(b, nest[--*depth]);
		break;
	default:
		if (*depth)
			nlb_nest_cancel(b, nest[--*depth]);
	}
}

static void build(const uint8_t *data, size_t size)
{
	static char buf[4096 + 64] __attribute__((aligned(8)));
	struct ops o = { data, size };
	struct nlattr *nest[8];
	const struct nlmsghdr *nlh;
	size_t cap, left, i;
	struct nlb b;
	int depth = 0, steps;

	cap = (size_t)next(&o) << 4 | (next(&o) & 15);
	memset(buf, 0xa5, sizeof(buf));
	nlb_init(&b, buf, cap);
	for (steps = 0; o.n && steps < 512; steps++)
		op(&b, &o, nest, &depth);
	while (depth)
		nlb_nest_end(&b, nest[--depth]);
	for (i = cap; i < sizeof(buf); i++) {
		if ((uint8_t)buf[i] != 0xa5)
			__builtin_trap();
	}
	/* -EINVAL: a put before the first message, or a nest left from an earlier one */
	if (b.len > cap || (b.err && b.err != -EMSGSIZE && b.err != -EINVAL))
		__builtin_trap();
	for_each_nlmsg(nlh, buf, b.len, left)
		;
	if (left)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse(data, size);
	build(data, size);
	return 0;
}
