// SPDX-License-Identifier: MIT
/* deps: nl/rtnl.c nl/rtnl_link.c nl/rtnl_neigh.c nl/nlsock.c nl/nlmsg.c core/cidr.c base/err.c base/mem.c */
/*
 * test_rtnl.c: the rtnetlink adapter. Builders against hand-computed bytes; parsers on valid,
 * truncated and malformed messages (against a guard page); then the real kernel, inside a
 * private network namespace this process unshares first ("host") and a second one ("pod"):
 *
 *   host netns (private)                    pod netns
 *   vh-t0  <------------- veth ----------->  eth0
 *   10.1.2.3/32, fd00::3/128 dev vh-t0       10.1.2.3/32, fd00::3/128 (nodad)
 *   table 1000: 2,000 blackhole routes       169.254.1.1/32 scope link, default via it onlink
 *                                            ::/0 via fe80::1 onlink, neighbours for both
 *
 * Ends with a timing of the CNI ADD plumbing (diag lines, informative only).
 */
#include <errno.h>
#include <net/if.h>

#include "tap.h"
#include "netns_util.h"
#include "base/err.h"
#include "base/mem.h"
#include "core/cidr.h"
#include "nl/nlmsg.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"

static const uint8_t host_mac[6] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0x01 };
static const uint8_t pod_mac[6] = { 0x02, 0x00, 0x0a, 0x01, 0x02, 0x03 };

/* ---- builders against hand-computed bytes (host order is little-endian here) ------------- */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static void expect_bytes(const struct nlb *b, const uint8_t *want, size_t n, const char *what)
{
	is_int(nlb_err(b), 0, what);
	is_int(b->len, n, what);
	if (!tap_ok(b->len == n && memcmp(b->buf, want, n) == 0, __FILE__, __LINE__, what))
		diag_bytes(b);
}

static void test_put_addr(void)
{
	static const uint8_t v4[] = {
		0x28, 0, 0, 0, 0x14, 0, 0x01, 0x05, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 32, 0x02, 0, 5, 0, 0, 0,                     /* ifaddrmsg */
		8, 0, 2, 0, 10, 1, 2, 3,                        /* IFA_LOCAL */
		8, 0, 1, 0, 10, 1, 2, 3,                        /* IFA_ADDRESS */
	};
	static const uint8_t v6[] = {
		0x48, 0, 0, 0, 0x14, 0, 0x01, 0x05, 0, 0, 0, 0, 0, 0, 0, 0,
		10, 128, 0x02, 0, 2, 0, 0, 0,
		20, 0, 2, 0, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3,
		20, 0, 1, 0, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3,
		8, 0, 8, 0, 0x02, 0x02, 0, 0,                   /* IFA_FLAGS: NODAD|NOPREFIXROUTE */
	};
	static const uint8_t del[] = {
		0x28, 0, 0, 0, 0x15, 0, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 24, 0, 0, 7, 0, 0, 0,
		8, 0, 2, 0, 192, 168, 0, 1,
		8, 0, 1, 0, 192, 168, 0, 1,
	};
	uint64_t buf[32];
	struct nlb b;
	struct cidr c;

	nlb_init(&b, buf, sizeof(buf));
	c = net("10.1.2.3/32");
	rtnl_put_addr(&b, RTM_NEWADDR, 5, &c, IFA_F_NODAD);
	expect_bytes(&b, v4, sizeof(v4), "put_addr: IPv4 with NODAD in ifa_flags");
	nlb_init(&b, buf, sizeof(buf));
	c = net("fd00::3/128");
	rtnl_put_addr(&b, RTM_NEWADDR, 2, &c, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
	expect_bytes(&b, v6, sizeof(v6), "put_addr: IPv6, flags over 8 bits add IFA_FLAGS");
	nlb_init(&b, buf, sizeof(buf));
	c = net("192.168.0.1/24");
	rtnl_put_addr(&b, RTM_DELADDR, 7, &c, 0);
	expect_bytes(&b, del, sizeof(del), "put_addr: RTM_DELADDR has no create flags");
}

static void test_put_route(void)
{
	static const uint8_t dflt[] = {
		0x2c, 0, 0, 0, 0x18, 0, 0x01, 0x05, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 0, 0, 0, 254, 86, 0, 1, 4, 0, 0, 0,          /* rtmsg, RTNH_F_ONLINK */
		8, 0, 5, 0, 169, 254, 1, 1,                     /* RTA_GATEWAY */
		8, 0, 4, 0, 2, 0, 0, 0,                         /* RTA_OIF */
	};
	static const uint8_t del[] = {
		0x34, 0, 0, 0, 0x19, 0, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 16, 0, 0, 0, 86, 255, 6, 0, 0, 0, 0,         /* table UNSPEC, scope NOWHERE */
		8, 0, 1, 0, 10, 100, 0, 0,                      /* RTA_DST */
		8, 0, 15, 0, 0xe8, 0x03, 0, 0,                  /* RTA_TABLE 1000 */
		8, 0, 6, 0, 100, 0, 0, 0,                       /* RTA_PRIORITY */
	};
	static const uint8_t v6[] = {
		0x38, 0, 0, 0, 0x18, 0, 0x01, 0x04, 0, 0, 0, 0, 0, 0, 0, 0,
		10, 64, 0, 0, 10, 4, 253, 1, 0, 0, 0, 0,        /* table 10, proto static, link */
		20, 0, 1, 0, 0xfd, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0,
		8, 0, 4, 0, 9, 0, 0, 0,
	};
	struct rtnl_route r = { .dst = net("0.0.0.0/0"), .gw = ip("169.254.1.1"), .has_gw = true,
				.oif = 2, .onlink = true };
	struct rtnl_route d = { .dst = net("10.100.0.0/16"), .type = RTN_BLACKHOLE, .table = 1000,
				.priority = 100 };
	struct rtnl_route s = { .dst = net("fd00:0:0:7::/64"), .oif = 9, .table = 10,
				.protocol = RTPROT_STATIC, .scope = RT_SCOPE_LINK };
	uint64_t buf[32];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route(&b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &r);
	expect_bytes(&b, dflt, sizeof(dflt), "put_route: default via onlink, our protocol");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route(&b, RTM_DELROUTE, 0, &d);
	expect_bytes(&b, del, sizeof(del), "put_route: delete in table 1000 matches any scope");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route(&b, RTM_NEWROUTE, NLM_F_CREATE, &s);
	expect_bytes(&b, v6, sizeof(v6), "put_route: IPv6 with explicit protocol and scope");
}

static void test_put_neigh_link(void)
{
	static const uint8_t neigh[] = {
		0x30, 0, 0, 0, 0x1c, 0, 0x01, 0x05, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 0, 0, 0, 3, 0, 0, 0, 0x80, 0, 0, 0,          /* ndmsg, NUD_PERMANENT */
		8, 0, 1, 0, 169, 254, 1, 1,                     /* NDA_DST */
		10, 0, 2, 0, 0xee, 0xee, 0xee, 0xee, 0xee, 0x01, 0, 0, /* NDA_LLADDR */
	};
	static const uint8_t getname[] = {
		0x34, 0, 0, 0, 0x12, 0, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		9, 0, 3, 0, 'e', 't', 'h', '0', 0, 0, 0, 0,      /* IFLA_IFNAME */
		8, 0, 29, 0, 8, 0, 0, 0,                        /* IFLA_EXT_MASK: SKIP_STATS */
	};
	static const uint8_t veth[] = {
		0x8c, 0, 0, 0, 0x10, 0, 0x09, 0x06, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, /* ifinfomsg, IFF_UP */
		8, 0, 3, 0, 'v', 'h', '0', 0,
		8, 0, 4, 0, 0x78, 0x05, 0, 0,                   /* IFLA_MTU 1400 */
		10, 0, 1, 0, 0xee, 0xee, 0xee, 0xee, 0xee, 0x01, 0, 0,
		0x50, 0, 18, 0x80,                              /* IFLA_LINKINFO */
		9, 0, 1, 0, 'v', 'e', 't', 'h', 0, 0, 0, 0,      /*   IFLA_INFO_KIND */
		0x40, 0, 2, 0x80,                               /*   IFLA_INFO_DATA */
		0x3c, 0, 1, 0x80,                               /*     VETH_INFO_PEER */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /*     peer starts down */
		9, 0, 3, 0, 'e', 't', 'h', '0', 0, 0, 0, 0,
		8, 0, 4, 0, 0x78, 0x05, 0, 0,
		10, 0, 1, 0, 0x02, 0x00, 0x0a, 0x01, 0x02, 0x03, 0, 0,
		8, 0, 28, 0, 7, 0, 0, 0,                        /* IFLA_NET_NS_FD */
	};
	static const uint8_t up[] = {
		0x20, 0, 0, 0, 0x10, 0, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
	};
	struct rtnl_veth v = { .name = "vh0", .peer = "eth0", .peer_netns_fd = 7, .mtu = 1400,
			       .mac = host_mac, .peer_mac = pod_mac, .up = true };
	struct ipaddr gw = ip("169.254.1.1");
	uint64_t buf[32];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh(&b, 3, &gw, host_mac);
	expect_bytes(&b, neigh, sizeof(neigh), "put_neigh: permanent, replace");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_link_getname(&b, "eth0");
	expect_bytes(&b, getname, sizeof(getname), "put_link_getname: name and no stats");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_veth(&b, &v);
	expect_bytes(&b, veth, sizeof(veth), "put_veth: peer nest with ifinfomsg and netns fd");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_link_up(&b, 5);
	expect_bytes(&b, up, sizeof(up), "put_link_up: index, IFF_UP in flags and change");
}
#endif

static void test_put_errors(void)
{
	struct rtnl_route r = { .dst = net("10.0.0.0/8"), .gw = ip("fe80::1"), .has_gw = true };
	struct cidr bad = { .addr = { .family = AF_UNIX } };
	struct ipaddr none = { 0 };
	uint64_t buf[32];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route(&b, RTM_NEWROUTE, 0, &r);
	is_int(nlb_err(&b), -EINVAL, "put_route: gateway of another family is -EINVAL");
	is_int(b.len, 0, "put_route: nothing written on -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_addr(&b, RTM_NEWADDR, 1, &bad, 0);
	is_int(nlb_err(&b), -EINVAL, "put_addr: unknown family is -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	bad = net("10.0.0.1/32");
	bad.prefix = 33;
	rtnl_put_addr(&b, RTM_NEWADDR, 1, &bad, 0);
	is_int(nlb_err(&b), -EINVAL, "put_addr: prefix 33 is -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh(&b, 1, &none, host_mac);
	is_int(nlb_err(&b), -EINVAL, "put_neigh: no family is -EINVAL");
	/* too small: sticky -EMSGSIZE, and later puts change nothing */
	nlb_init(&b, buf, 40);
	r.gw = ip("10.0.0.1");
	rtnl_put_route(&b, RTM_NEWROUTE, 0, &r);
	is_int(nlb_err(&b), -EMSGSIZE, "put_route: 40 bytes do not fit");
	rtnl_put_link_getname(&b, "x");
	is_int(nlb_err(&b), -EMSGSIZE, "put after overflow keeps -EMSGSIZE");
	ok(b.len <= 40, "nothing written past the buffer");
}

/* ---- parsers ---------------------------------------------------------------------------- */

enum kind { LINK, ADDR, ROUTE };

/* k is an enum kind; an int, so that parse is an nl_parse_fn for netns_util.h */
static int parse(int k, const struct nlmsghdr *nlh)
{
	struct rtnl_link l;
	struct rtnl_addr a;
	struct rtnl_route r;

	switch (k) {
	case LINK:
		return rtnl_parse_link(nlh, &l);
	case ADDR:
		return rtnl_parse_addr(nlh, &a);
	default:
		return rtnl_parse_route(nlh, &r);
	}
}

static void *hdr(struct nlb *b, uint16_t type, size_t len)
{
	nlb_msg(b, type, 0);
	return nlb_extra(b, len);
}

static void *rt(struct nlb *b, int family, int dst_len)
{
	struct rtmsg *m = hdr(b, RTM_NEWROUTE, sizeof(*m));

	m->rtm_family = (uint8_t)family;
	m->rtm_dst_len = (uint8_t)dst_len;
	m->rtm_table = RT_TABLE_MAIN;
	m->rtm_type = RTN_UNICAST;
	return m;
}

static void *ifa(struct nlb *b, int family, int prefix)
{
	struct ifaddrmsg *m = hdr(b, RTM_NEWADDR, sizeof(*m));

	m->ifa_family = (uint8_t)family;
	m->ifa_prefixlen = (uint8_t)prefix;
	m->ifa_index = 3;
	return m;
}

static void *ifi(struct nlb *b, int ifindex)
{
	struct ifinfomsg *m = hdr(b, RTM_NEWLINK, sizeof(*m));

	m->ifi_index = ifindex;
	return m;
}

static void mk_rt_ok(struct nlb *b)
{
	rt(b, AF_INET, 24);
	nlb_put(b, RTA_DST, "\x0a\0\0\0", 4);
}

static void mk_rt_short_dst(struct nlb *b)
{
	rt(b, AF_INET, 24);
	nlb_put(b, RTA_DST, "\x0a\0\0", 3);
}

static void mk_rt_v6_dst4(struct nlb *b)
{
	rt(b, AF_INET6, 24);
	nlb_put(b, RTA_DST, "\x0a\0\0\0", 4);
}

static void mk_rt_len33(struct nlb *b)
{
	rt(b, AF_INET, 33);
}

static void mk_rt_bad_gw(struct nlb *b)
{
	rt(b, AF_INET, 0);
	nlb_put(b, RTA_GATEWAY, "", 1);
}

static void mk_rt_bad_oif(struct nlb *b)
{
	rt(b, AF_INET, 0);
	nlb_put_u16(b, RTA_OIF, 1);
}

static void mk_rt_oif_neg(struct nlb *b)
{
	rt(b, AF_INET, 0);
	nlb_put_u32(b, RTA_OIF, 0x80000000u);
}

static void mk_rt_bad_table(struct nlb *b)
{
	rt(b, AF_INET, 0);
	nlb_put_u8(b, RTA_TABLE, 1);
}

static void mk_rt_mpath(struct nlb *b)
{
	rt(b, AF_INET, 0);
	nlb_put(b, RTA_MULTIPATH, "\0\0\0\0\0\0\0\0", 8);
}

static void mk_rt_nhid(struct nlb *b)
{
	rt(b, AF_INET, 0);
	nlb_put_u32(b, RTA_NH_ID, 5);
}

static void mk_rt_mroute(struct nlb *b)
{
	rt(b, RTNL_FAMILY_IPMR, 0);
}

static void mk_rt_src(struct nlb *b)
{
	((struct rtmsg *)rt(b, AF_INET6, 0))->rtm_src_len = 64;
}

static void mk_rt_cloned(struct nlb *b)
{
	((struct rtmsg *)rt(b, AF_INET, 0))->rtm_flags = RTM_F_CLONED;
}

static void mk_rt_short(struct nlb *b)
{
	hdr(b, RTM_NEWROUTE, 8);
}

static void mk_rt_junk(struct nlb *b)
{
	rt(b, AF_INET, 0);
	nlb_put(b, RTA_OIF, "\1\0\0\0", 4);
	b->nlh->nlmsg_len -= 2;
}

static void mk_rt_link(struct nlb *b)
{
	ifi(b, 1);
	nlb_put_strz(b, IFLA_IFNAME, "lo");
}

static void mk_ad_ok(struct nlb *b)
{
	ifa(b, AF_INET6, 64);
	nlb_put(b, IFA_ADDRESS, "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
}

static void mk_ad_none(struct nlb *b)
{
	ifa(b, AF_INET, 24);
}

static void mk_ad_len(struct nlb *b)
{
	ifa(b, AF_INET, 24);
	nlb_put(b, IFA_LOCAL, "\1\2\3\4\5", 5);
}

static void mk_ad_len33(struct nlb *b)
{
	ifa(b, AF_INET, 33);
	nlb_put(b, IFA_LOCAL, "\1\2\3\4", 4);
}

static void mk_ad_idx0(struct nlb *b)
{
	((struct ifaddrmsg *)ifa(b, AF_INET, 8))->ifa_index = 0;
	nlb_put(b, IFA_LOCAL, "\1\2\3\4", 4);
}

static void mk_ad_flags(struct nlb *b)
{
	ifa(b, AF_INET, 8);
	nlb_put(b, IFA_LOCAL, "\1\2\3\4", 4);
	nlb_put_u16(b, IFA_FLAGS, 1);
}

static void mk_ad_pkt(struct nlb *b)
{
	ifa(b, AF_PACKET, 0);
}

static void mk_li_ok(struct nlb *b)
{
	ifi(b, 1);
	nlb_put_strz(b, IFLA_IFNAME, "lo");
}

static void mk_li_noname(struct nlb *b)
{
	ifi(b, 1);
	nlb_put_u32(b, IFLA_MTU, 1500);
}

static void mk_li_nonul(struct nlb *b)
{
	ifi(b, 1);
	nlb_put(b, IFLA_IFNAME, "eth0", 4);
}

static void mk_li_long(struct nlb *b)
{
	ifi(b, 1);
	nlb_put_strz(b, IFLA_IFNAME, "0123456789abcdef");
}

static void mk_li_empty(struct nlb *b)
{
	ifi(b, 1);
	nlb_put_strz(b, IFLA_IFNAME, "");
}

static void mk_li_idx0(struct nlb *b)
{
	ifi(b, 0);
	nlb_put_strz(b, IFLA_IFNAME, "lo");
}

static void mk_li_mtu(struct nlb *b)
{
	mk_li_ok(b);
	nlb_put_u16(b, IFLA_MTU, 1500);
}

static void mk_li_link(struct nlb *b)
{
	mk_li_ok(b);
	nlb_put_u32(b, IFLA_LINK, 0xffffffffu);
}

static void mk_li_kind(struct nlb *b, const char *kind, size_t n)
{
	struct nlattr *li;

	mk_li_ok(b);
	li = nlb_nest_start(b, IFLA_LINKINFO);
	nlb_put(b, IFLA_INFO_KIND, kind, n);
	nlb_nest_end(b, li);
}

static void mk_li_kind_long(struct nlb *b)
{
	mk_li_kind(b, "a-very-long-link-kind", 22);
}

static void mk_li_kind_nonul(struct nlb *b)
{
	mk_li_kind(b, "veth", 4);
}

static void mk_li_badnest(struct nlb *b)
{
	mk_li_ok(b);
	nlb_put(b, IFLA_LINKINFO, "\xff\0\1\0", 4);
}


static const struct parse_case parse_cases[] = {
	{ "route: 10.0.0.0/24", ROUTE, mk_rt_ok, 0 },
	{ "route: RTA_DST of 3 bytes", ROUTE, mk_rt_short_dst, -EINVAL },
	{ "route: IPv6 with a 4-byte RTA_DST", ROUTE, mk_rt_v6_dst4, -EINVAL },
	{ "route: dst_len 33", ROUTE, mk_rt_len33, -EINVAL },
	{ "route: RTA_GATEWAY of 1 byte", ROUTE, mk_rt_bad_gw, -EINVAL },
	{ "route: RTA_OIF of 2 bytes", ROUTE, mk_rt_bad_oif, -EINVAL },
	{ "route: RTA_OIF over INT32_MAX", ROUTE, mk_rt_oif_neg, -EINVAL },
	{ "route: RTA_TABLE of 1 byte", ROUTE, mk_rt_bad_table, -EINVAL },
	{ "route: multipath is skipped", ROUTE, mk_rt_mpath, -ENOENT },
	{ "route: nexthop object is skipped", ROUTE, mk_rt_nhid, -ENOENT },
	{ "route: multicast family is skipped", ROUTE, mk_rt_mroute, -ENOENT },
	{ "route: source-specific is skipped", ROUTE, mk_rt_src, -ENOENT },
	{ "route: cloned exception is skipped", ROUTE, mk_rt_cloned, -ENOENT },
	{ "route: header shorter than rtmsg", ROUTE, mk_rt_short, -EINVAL },
	{ "route: attribute cut short", ROUTE, mk_rt_junk, -EINVAL },
	{ "route: a link message is skipped", ROUTE, mk_rt_link, -ENOENT },
	{ "addr: fe80::1/64", ADDR, mk_ad_ok, 0 },
	{ "addr: no address attribute", ADDR, mk_ad_none, -EINVAL },
	{ "addr: IFA_LOCAL of 5 bytes", ADDR, mk_ad_len, -EINVAL },
	{ "addr: prefix 33", ADDR, mk_ad_len33, -EINVAL },
	{ "addr: ifindex 0", ADDR, mk_ad_idx0, -EINVAL },
	{ "addr: IFA_FLAGS of 2 bytes", ADDR, mk_ad_flags, -EINVAL },
	{ "addr: AF_PACKET is skipped", ADDR, mk_ad_pkt, -ENOENT },
	{ "addr: a route message is skipped", ADDR, mk_rt_ok, -ENOENT },
	{ "link: lo", LINK, mk_li_ok, 0 },
	{ "link: no name", LINK, mk_li_noname, -EINVAL },
	{ "link: name without NUL", LINK, mk_li_nonul, -EINVAL },
	{ "link: name of 16 bytes", LINK, mk_li_long, -EINVAL },
	{ "link: empty name", LINK, mk_li_empty, -EINVAL },
	{ "link: ifindex 0", LINK, mk_li_idx0, -EINVAL },
	{ "link: IFLA_MTU of 2 bytes", LINK, mk_li_mtu, -EINVAL },
	{ "link: IFLA_LINK over INT32_MAX", LINK, mk_li_link, -EINVAL },
	{ "link: kind too long is left empty", LINK, mk_li_kind_long, 0 },
	{ "link: kind without NUL", LINK, mk_li_kind_nonul, -EINVAL },
	{ "link: malformed IFLA_LINKINFO", LINK, mk_li_badnest, -EINVAL },
	{ "link: an address message is skipped", LINK, mk_ad_ok, -ENOENT },
};

static void test_parse_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++)
		is_int(parse_built(parse, parse_cases[i].kind, parse_cases[i].mk),
		       parse_cases[i].want, parse_cases[i].what);
}

static void test_roundtrip(void)
{
	struct rtnl_route r = { .dst = net("fd00:1::/48"), .gw = ip("fe80::1"), .has_gw = true,
				.oif = 4, .scope = RT_SCOPE_UNIVERSE, .table = 70000,
				.priority = 1024, .onlink = true };
	struct rtnl_veth v = { .name = "a", .peer = "b", .peer_netns_fd = -1, .mac = host_mac,
			       .mtu = 9000 };
	struct cidr c = net("10.9.8.7/31");
	struct rtnl_route ro;
	struct rtnl_addr ao;
	struct rtnl_link lo;
	uint64_t buf[64];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route(&b, RTM_NEWROUTE, 0, &r);
	is_int(rtnl_parse_route(b.nlh, &ro), 0, "roundtrip route: parses");
	r.protocol = RTNL_PROTO_VIRGIL;
	r.type = RTN_UNICAST;
	ok(memcmp(&ro.dst, &r.dst, sizeof(r.dst)) == 0 && ipaddr_eq(&ro.gw, &r.gw) &&
	   ro.has_gw && ro.oif == 4 && ro.table == 70000 && ro.priority == 1024 && ro.onlink &&
	   ro.protocol == RTNL_PROTO_VIRGIL && ro.type == RTN_UNICAST && ro.scope == 0,
	   "roundtrip route: every field back");
	is_int(parse_truncated(parse, ROUTE, &b), 0,
	       "route: every truncation parses or is -EINVAL");

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_addr(&b, RTM_NEWADDR, 6, &c, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
	is_int(rtnl_parse_addr(b.nlh, &ao), 0, "roundtrip addr: parses");
	ok(ipaddr_eq(&ao.addr.addr, &c.addr) && ao.addr.prefix == 31 && ao.ifindex == 6 &&
	   ao.flags == (IFA_F_NODAD | IFA_F_NOPREFIXROUTE), "roundtrip addr: every field back");
	is_int(parse_truncated(parse, ADDR, &b), 0, "addr: every truncation parses or is -EINVAL");

	/* a veth request is an RTM_NEWLINK too: the parser reads the outer end */
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_veth(&b, &v);
	((struct ifinfomsg *)NLMSG_DATA(b.nlh))->ifi_index = 12;
	is_int(rtnl_parse_link(b.nlh, &lo), 0, "roundtrip link: parses");
	ok(lo.ifindex == 12 && !strcmp(lo.name, "a") && !memcmp(lo.mac, host_mac, 6) &&
	   lo.mtu == 9000 && !strcmp(lo.kind, "veth") && lo.link == 0,
	   "roundtrip link: name, MAC, MTU, kind");
	is_int(parse_truncated(parse, LINK, &b), 0, "link: every truncation parses or is -EINVAL");
}

/* ---- the kernel, in private namespaces -------------------------------------------------- */

static int host_ns = -1, pod_ns = -1;

struct found {
	int n, restarts;
	int ifindex;            /* addresses: only this link */
	struct rtnl_addr addr[8];
	struct rtnl_route route[8];
};

static void found_restart(void *ctx)
{
	struct found *f = ctx;

	f->restarts++;
	f->n = 0;
}

static int addr_cb(const struct rtnl_addr *a, void *ctx)
{
	struct found *f = ctx;

	if (a->ifindex != f->ifindex || a->scope == RT_SCOPE_LINK)
		return 0;
	if (f->n < 8)
		f->addr[f->n] = *a;
	f->n++;
	return 0;
}

static int ours_cb(const struct rtnl_route *r, void *ctx)
{
	struct found *f = ctx;

	if (r->protocol != RTNL_PROTO_VIRGIL)
		return 0;
	if (f->n < 8)
		f->route[f->n] = *r;
	f->n++;
	return 0;
}

static int count_cb(const struct rtnl_route *r, void *ctx)
{
	(void)r;
	((struct found *)ctx)->n++;
	return 0;
}

static int table_cb(const struct rtnl_route *r, void *ctx)
{
	((struct found *)ctx)->n += r->table == 1000;
	return 0;
}

static int stop_cb(const struct rtnl_route *r, void *ctx)
{
	(void)r;
	return ++((struct found *)ctx)->n == 10 ? -ECANCELED : 0;
}

static int link_cb(const struct rtnl_link *l, void *ctx)
{
	struct found *f = ctx;

	f->n++;
	if (!strcmp(l->name, "vh-t0"))
		f->ifindex = l->ifindex;
	return 0;
}

static int veth_case(struct nlsock *h, struct nlsock *p, struct rtnl_link *hl)
{
	struct rtnl_veth v = { .name = "vh-t0", .peer = "eth0", .peer_netns_fd = pod_ns,
			       .mtu = 1400, .mac = host_mac, .peer_mac = pod_mac, .up = true };
	struct rtnl_link pl, again;
	struct ebuf eb = { "" };
	int idx = 0, r;

	r = rtnl_veth_add_link(h, &v, hl, &eb);
	is_int(r, 0, "veth: created with the peer in the pod netns");
	if (r) {
		diag("%s", eb.msg);
		return r;
	}
	ok(hl->ifindex > 0 && !strcmp(hl->name, "vh-t0") && !memcmp(hl->mac, host_mac, 6) &&
	   hl->mtu == 1400 && (hl->flags & IFF_UP) && !strcmp(hl->kind, "veth") && hl->link > 0,
	   "veth: echoed host link has name, MAC, MTU, up, kind, peer index");
	is_int(rtnl_link_get(h, "vh-t0", &again, &eb), 0, "link_get: host side");
	ok(again.ifindex == hl->ifindex && !strcmp(again.name, hl->name) &&
	   !memcmp(again.mac, hl->mac, 6) && again.mtu == hl->mtu && again.link == hl->link &&
	   !strcmp(again.kind, hl->kind), "link_get: same as the echo");
	if (again.flags != hl->flags)
		diag("flags: echo %#x, now %#x", hl->flags, again.flags);
	is_int(rtnl_link_get(p, "eth0", &pl, &eb), 0, "link_get: pod side, in the pod netns");
	ok(pl.ifindex == hl->link && !memcmp(pl.mac, pod_mac, 6) && pl.mtu == 1400 &&
	   !(pl.flags & IFF_UP) && !strcmp(pl.kind, "veth") && pl.link == hl->ifindex,
	   "link_get: pod eth0 has its MAC, MTU, kind, is down; indexes cross-link");
	is_int(rtnl_link_get_index(p, hl->link, &again, &eb), 0, "link_get_index: pod side");
	is_str(again.name, "eth0", "link_get_index: finds eth0");
	is_int(rtnl_link_get(h, "eth0", &again, &eb), -ENODEV, "link_get: eth0 not in host netns");
	is_int(rtnl_link_get_index(h, 99999, &again, &eb), -ENODEV, "link_get_index: absent");
	v.peer_netns_fd = pod_ns;
	r = rtnl_veth_add(h, &v, &idx, &eb);
	is_int(r, -EEXIST, "veth: same names again is -EEXIST");
	ok(!ebuf_empty(&eb), "veth: -EEXIST comes with a reason");
	diag("duplicate veth: %s", eb.msg);
	v.name = "vh-t1";
	is_int(rtnl_veth_add(h, &v, &idx, &eb), -EEXIST, "veth: peer name taken is -EEXIST");
	diag("duplicate peer: %s", eb.msg);
	is_int(rtnl_link_get(h, "vh-t1", &again, &eb), -ENODEV, "veth: nothing left behind");
	v.name = "0123456789abcdef";
	is_int(rtnl_veth_add(h, &v, &idx, &eb), -EINVAL, "veth: 16-byte name is -EINVAL");

	/* both ends here, every option left to the kernel */
	v = (struct rtnl_veth){ .name = "vs-a", .peer = "vs-b", .peer_netns_fd = -1 };
	is_int(rtnl_veth_add(h, &v, &idx, &eb), 0, "veth: pair in one netns");
	is_int(rtnl_link_get(h, "vs-b", &again, &eb), 0, "veth: peer beside it");
	ok(idx > 0 && again.link == idx && again.mtu == 1500 && !(again.flags & IFF_UP),
	   "veth: peer points at the returned index, default MTU, down");
	is_int(rtnl_link_del(h, "vs-a", &eb), 0, "veth: delete one end");
	is_int(rtnl_link_get(h, "vs-b", &again, &eb), -ENODEV, "veth: the other end went too");
	return 0;
}

static void put_pod(struct nlb *b, int eth0, const uint8_t *gwmac)
{
	struct cidr a4 = net("10.1.2.3/32"), a6 = net("fd00::3/128");
	struct ipaddr gw4 = ip("169.254.1.1"), gw6 = ip("fe80::1");
	struct rtnl_route r4 = { .dst = net("169.254.1.1/32"), .oif = eth0,
				 .scope = RT_SCOPE_LINK };
	struct rtnl_route d4 = { .dst = net("0.0.0.0/0"), .gw = gw4, .has_gw = true, .oif = eth0,
				 .onlink = true };
	struct rtnl_route d6 = { .dst = net("::/0"), .gw = gw6, .has_gw = true, .oif = eth0,
				 .onlink = true };

	rtnl_put_link_up(b, eth0);
	rtnl_put_addr(b, RTM_NEWADDR, eth0, &a4, 0);
	rtnl_put_addr(b, RTM_NEWADDR, eth0, &a6, IFA_F_NODAD);
	rtnl_put_neigh(b, eth0, &gw4, gwmac);
	rtnl_put_route(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &r4);
	rtnl_put_route(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &d4);
	rtnl_put_neigh(b, eth0, &gw6, gwmac);
	rtnl_put_route(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &d6);
}

static void pod_case(struct nlsock *p, int eth0)
{
	uint64_t buf[128];
	struct ebuf eb = { "" };
	struct found f = { .ifindex = eth0 };
	struct rtnl_link l;
	size_t failed = 0;
	struct nlb b;
	int r;

	nlb_init(&b, buf, sizeof(buf));
	put_pod(&b, eth0, host_mac);
	is_int(nlb_err(&b), 0, "pod batch: 8 messages fit 1 KiB");
	r = nlsock_batch(p, buf, b.len, &failed, &eb);
	is_int(r, 0, "pod batch: all 8 acked");
	if (r)
		diag("failed at %zu: %s", failed, eb.msg);
	is_int(rtnl_link_get_index(p, eth0, &l, &eb), 0, "pod batch: eth0 ...");
	ok(l.flags & IFF_UP, "... is up");
	is_int(rtnl_addr_dump(p, AF_UNSPEC, addr_cb, found_restart, &f, &eb), 0, "addr_dump");
	is_int(f.n, 2, "addr_dump: the two global addresses on eth0");
	ok(f.n == 2 && f.addr[0].addr.addr.family == AF_INET &&
	   ipaddr_eq(&f.addr[0].addr.addr, &(struct ipaddr){ AF_INET, { 10, 1, 2, 3 } }) &&
	   f.addr[0].addr.prefix == 32, "addr_dump: 10.1.2.3/32 first");
	ok(f.n == 2 && f.addr[1].addr.addr.family == AF_INET6 && f.addr[1].addr.prefix == 128 &&
	   f.addr[1].addr.addr.a[0] == 0xfd && f.addr[1].addr.addr.a[15] == 3 &&
	   (f.addr[1].flags & IFA_F_NODAD) && !(f.addr[1].flags & IFA_F_TENTATIVE),
	   "addr_dump: fd00::3/128, nodad, not tentative");
	f.n = 0;
	is_int(rtnl_addr_dump(p, AF_INET6, addr_cb, NULL, &f, &eb), 0, "addr_dump AF_INET6");
	is_int(f.n, 1, "addr_dump AF_INET6: only fd00::3");

	f.n = 0;
	is_int(rtnl_route_dump(p, AF_UNSPEC, 0, ours_cb, found_restart, &f, &eb), 0, "route_dump");
	is_int(f.n, 3, "route_dump: three routes with our protocol");
	/* IPv4 dumps in trie order: the default route comes first */
	ok(f.n == 3 && f.route[1].dst.prefix == 32 && f.route[1].scope == RT_SCOPE_LINK &&
	   f.route[1].oif == eth0 && !f.route[1].has_gw && f.route[1].table == RT_TABLE_MAIN &&
	   f.route[1].dst.addr.a[0] == 169 && f.route[1].dst.addr.a[3] == 1,
	   "route_dump: 169.254.1.1/32 scope link dev eth0");
	ok(f.n == 3 && f.route[0].dst.prefix == 0 && f.route[0].has_gw && f.route[0].onlink &&
	   f.route[0].gw.a[0] == 169 && f.route[0].type == RTN_UNICAST &&
	   f.route[0].scope == RT_SCOPE_UNIVERSE, "route_dump: default via 169.254.1.1 onlink");
	ok(f.n == 3 && f.route[2].dst.addr.family == AF_INET6 && f.route[2].dst.prefix == 0 &&
	   f.route[2].has_gw && f.route[2].gw.a[0] == 0xfe && f.route[2].oif == eth0,
	   "route_dump: ::/0 via fe80::1");
	is_int(f.restarts, 0, "route_dump: no restart needed");

	/* the same batch again replaces everything: still acked, nothing doubled */
	nlb_init(&b, buf, sizeof(buf));
	put_pod(&b, eth0, pod_mac);
	is_int(nlsock_batch(p, buf, b.len, &failed, &eb), 0, "pod batch: repeat is a no-op");
	f.n = 0;
	is_int(rtnl_route_dump(p, AF_UNSPEC, 0, ours_cb, NULL, &f, &eb), 0, "route_dump again");
	is_int(f.n, 3, "route_dump: still three");
}

static void bad_batch_case(struct nlsock *p, int eth0)
{
	struct cidr a = net("10.1.2.4/32");
	struct rtnl_route bad = { .dst = net("10.50.0.0/16"), .gw = ip("10.1.2.1"), .has_gw = true,
				  .oif = 9999 };
	uint64_t buf[64];
	struct ebuf eb = { "" };
	size_t failed = 0;
	struct nlb b;
	int r;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_addr(&b, RTM_NEWADDR, eth0, &a, 0);
	rtnl_put_route(&b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &bad);
	rtnl_put_addr(&b, RTM_DELADDR, eth0, &a, 0);
	r = nlsock_batch(p, buf, b.len, &failed, &eb);
	ok(r < 0, "bad batch: fails");
	is_int(failed, 1, "bad batch: the route (index 1) is the culprit");
	ok(!ebuf_empty(&eb), "bad batch: with the kernel's reason");
	diag("bad batch: %d %s", r, eb.msg);
}

static void host_route_case(struct nlsock *h, int ifindex)
{
	struct rtnl_route r = { .dst = net("10.1.2.3/32"), .oif = ifindex, .scope = RT_SCOPE_LINK };
	struct rtnl_route other = { .dst = net("10.7.0.0/16"), .oif = ifindex,
				    .scope = RT_SCOPE_LINK, .protocol = RTPROT_STATIC };
	struct rtnl_route missing = { .dst = net("10.9.9.9/32"), .table = 4242 };
	struct rtnl_route missing6 = { .dst = net("fd00:99::/64"), .oif = ifindex };
	struct rtnl_route any;
	struct ebuf eb = { "" };
	struct found f = { 0 };

	is_int(rtnl_route_add(h, &r, NLM_F_CREATE | NLM_F_REPLACE, &eb), 0, "host route: add");
	is_int(rtnl_route_add(h, &r, NLM_F_CREATE | NLM_F_REPLACE, &eb), 0,
	       "host route: replace again is a no-op");
	is_int(rtnl_route_dump(h, AF_INET, RT_TABLE_MAIN, ours_cb, NULL, &f, &eb), 0,
	       "host route: dump main table");
	is_int(f.n, 1, "host route: exactly one");
	is_int(rtnl_route_add(h, &r, NLM_F_CREATE | NLM_F_EXCL, &eb), -EEXIST,
	       "host route: EXCL add of the same is -EEXIST");
	is_int(rtnl_route_add(h, &other, NLM_F_CREATE, &eb), 0, "host route: a static route");
	other.protocol = 0;
	is_int(rtnl_route_del(h, &other, &eb), 0, "route_del: someone else's route: 0 ...");
	f.n = 0;
	is_int(rtnl_route_dump(h, AF_INET, 0, count_cb, NULL, &f, &eb), 0, "dump all tables");
	ok(f.n >= 2, "... and it is still there (protocol must match)");
	any = r;
	any.scope = 0;
	is_int(rtnl_route_del(h, &any, &eb), 0, "route_del: ours; scope 0 matches scope link");
	f.n = 0;
	is_int(rtnl_route_dump(h, AF_INET, RT_TABLE_MAIN, ours_cb, NULL, &f, &eb), 0,
	       "host route: dump main table again");
	is_int(f.n, 0, "route_del: it is gone");
	is_int(rtnl_route_del(h, &r, &eb), 0, "route_del: again (ESRCH) is 0");
	ok(ebuf_empty(&eb), "route_del: missing leaves no error text");
	is_int(rtnl_route_del(h, &missing6, &eb), 0, "route_del: missing IPv6 route is 0");
	is_int(rtnl_route_del(h, &missing, &eb), 0, "route_del: in a table that does not exist");
	f.n = 0;
	is_int(rtnl_route_dump(h, AF_INET, 4242, count_cb, NULL, &f, &eb), 0,
	       "route_dump: AF_INET table that does not exist is empty");
	is_int(f.n, 0, "route_dump: nothing in it");
	is_int(rtnl_route_dump(h, AF_UNSPEC, 4242, count_cb, NULL, &f, &eb), 0,
	       "route_dump: AF_UNSPEC table that does not exist is empty");
	is_int(rtnl_route_add(h, &r, NLM_F_CREATE | NLM_F_REPLACE, &eb), 0, "host route: re-add");
}

static void many_routes_case(struct nlsock *h)
{
	enum { N = 2000 };
	size_t cap = N * 64, failed = 0;
	void *buf = malloc(cap);
	struct ebuf eb = { "" };
	struct found f = { 0 };
	struct nlb b;
	int i, r;

	nlb_init(&b, buf, cap);
	for (i = 0; i < N; i++) {
		struct rtnl_route rt = { .dst = net("10.100.0.0/32"), .type = RTN_BLACKHOLE,
					  .table = 1000 };

		rt.dst.addr.a[2] = (uint8_t)(i / 256);
		rt.dst.addr.a[3] = (uint8_t)(i % 256);
		rtnl_put_route(&b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt);
	}
	is_int(nlb_err(&b), 0, "2000 routes: built");
	r = nlsock_batch(h, buf, b.len, &failed, &eb);
	is_int(r, 0, "2000 routes: one batch, all acked");
	if (r)
		diag("failed at %zu: %s", failed, eb.msg);
	is_int(rtnl_route_dump(h, AF_INET, 1000, count_cb, found_restart, &f, &eb), 0,
	       "2000 routes: dump table 1000");
	is_int(f.n, N, "2000 routes: exactly 2000 back (multi-part dump)");
	f.n = 0;
	is_int(rtnl_route_dump(h, AF_UNSPEC, 0, table_cb, found_restart, &f, &eb), 0,
	       "2000 routes: dump everything");
	is_int(f.n, N, "2000 routes: 2000 of them in table 1000");
	f.n = 0;
	is_int(rtnl_route_dump(h, AF_UNSPEC, 0, stop_cb, NULL, &f, &eb), -ECANCELED,
	       "dump: callback stops it with its own error");
	f.n = 0;
	is_int(rtnl_route_dump(h, AF_INET, 1000, count_cb, NULL, &f, &eb), 0,
	       "dump: socket still in step after a stopped dump");
	is_int(f.n, N, "dump: 2000 again");
	free(buf);
}

static void link_dump_del_case(struct nlsock *h, struct nlsock *p, int ifindex)
{
	struct ebuf eb = { "" };
	struct found f = { 0 };
	struct rtnl_link l;

	is_int(rtnl_link_dump(h, link_cb, found_restart, &f, &eb), 0, "link_dump");
	ok(f.n >= 2 && f.ifindex == ifindex, "link_dump: lo and vh-t0 at least, vh-t0 by index");
	is_int(rtnl_link_del(h, "vh-t0", &eb), 0, "link_del");
	is_int(rtnl_link_del(h, "vh-t0", &eb), -ENODEV, "link_del: again is -ENODEV");
	diag("second delete: %s", eb.msg);
	is_int(rtnl_link_get(p, "eth0", &l, &eb), -ENODEV, "link_del: took the pod's eth0 along");
	is_int(rtnl_link_del(h, "", &eb), -ENODEV, "link_del: empty name is -ENODEV");
}

/* Socket set-up is the only allocation on these paths: every failure must be clean. */
static void fault_case(void)
{
	struct rtnl_link l;
	unsigned long n;
	int bad = 0;

	for (n = 1;; n++) {
		struct nlsock s;
		int r;

		fault_reset(n);
		r = nlsock_open(&s, NETLINK_ROUTE);
		if (!r) {
			r = rtnl_link_get(&s, "lo", &l, NULL);
			nlsock_close(&s);
		}
		bad += r != 0 && r != -ENOMEM && r != -ENOBUFS;
		if (fault_reset(0) < n)
			break;
	}
	is_int(bad, 0, "fault injection: open + link_get fail only with ENOMEM/ENOBUFS");
}

/*
 * One CNI ADD's kernel work: the veth, the pod side (enter the netns, open a socket there,
 * one batch), the host routes (one batch). t[] gets a timestamp after each step.
 */
static int plumb(struct nlsock *h, double t[5])
{
	struct rtnl_veth v = { .name = "vb0", .peer = "eth0", .peer_netns_fd = pod_ns,
			       .mtu = 1400, .mac = host_mac, .peer_mac = pod_mac, .up = true };
	struct rtnl_route h4 = { .dst = net("10.1.2.3/32"), .scope = RT_SCOPE_LINK };
	struct rtnl_route h6 = { .dst = net("fd00::3/128") };
	struct nlsock p = { .fd = -1 };
	struct rtnl_link hl;
	uint64_t buf[128];
	struct nlb b;
	int r;

	t[0] = now_us();
	r = rtnl_veth_add_link(h, &v, &hl, NULL);
	t[1] = now_us();
	if (!r)
		r = netns_socket(pod_ns, host_ns, &p);
	t[2] = now_us();
	if (!r) {
		nlb_init(&b, buf, sizeof(buf));
		put_pod(&b, hl.link, host_mac);
		r = nlsock_batch(&p, buf, b.len, NULL, NULL);
	}
	nlsock_close(&p);
	t[3] = now_us();
	h4.oif = h6.oif = hl.ifindex;
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route(&b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &h4);
	rtnl_put_route(&b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &h6);
	if (!r)
		r = nlsock_batch(h, buf, b.len, NULL, NULL);
	t[4] = now_us();
	return r;
}

static void bench(struct nlsock *h)
{
	enum { N = 200 };
	static double total[N];
	double sum[4] = { 0 }, t[5], del = 0, d0;
	int i, j, fails = 0;

	for (i = 0; i < N; i++) {
		fails += plumb(h, t) != 0;
		total[i] = t[4] - t[0];
		for (j = 0; j < 4; j++)
			sum[j] += t[j + 1] - t[j];
		d0 = now_us();
		fails += rtnl_link_del(h, "vb0", NULL) != 0;
		del += now_us() - d0;
	}
	is_int(fails, 0, "bench: 200 plumbing sequences and deletes succeed");
	qsort(total, N, sizeof(total[0]), cmp_double);
	diag("plumbing x%d: mean %.0f us, median %.0f us, p90 %.0f us", N,
	     (sum[0] + sum[1] + sum[2] + sum[3]) / N, total[N / 2], total[N * 9 / 10]);
	diag("  mean: veth add %.0f us, enter pod netns + socket %.0f us, pod batch (8) %.0f us,"
	     " host routes (2) %.0f us", sum[0] / N, sum[1] / N, sum[2] / N, sum[3] / N);
	diag("  link delete (not in the budget) %.0f us", del / N);
}

static void kernel_tests(void)
{
	struct nlsock h = { .fd = -1 }, p = { .fd = -1 };
	struct rtnl_link hl;
	int r = netns_pair(&host_ns, &pod_ns);

	is_int(r, 0, "private host and pod netns (needs root)");
	if (r)
		return;
	is_int(nlsock_open(&h, NETLINK_ROUTE), 0, "host socket");
	is_int(netns_socket(pod_ns, host_ns, &p), 0, "pod socket, opened inside the pod netns");
	if (veth_case(&h, &p, &hl) == 0) {
		pod_case(&p, hl.link);
		bad_batch_case(&p, hl.link);
		host_route_case(&h, hl.ifindex);
		link_dump_del_case(&h, &p, hl.ifindex);
	}
	many_routes_case(&h);
	fault_case();
	bench(&h);
	nlsock_close(&p);
	nlsock_close(&h);
}

int main(void)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	test_put_addr();
	test_put_route();
	test_put_neigh_link();
#endif
	test_put_errors();
	test_parse_table();
	test_roundtrip();
	kernel_tests();
	return tap_done();
}
