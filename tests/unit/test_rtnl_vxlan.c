// SPDX-License-Identifier: MIT
/* deps: nl/rtnl.c nl/rtnl_link.c nl/rtnl_neigh.c nl/nlsock.c nl/nlmsg.c core/cidr.c base/err.c base/mem.c */
/*
 * test_rtnl_vxlan.c: the agent's inter-node pieces of the rtnetlink adapter: the VXLAN device,
 * its fdb, neighbours, and route dumps filtered by protocol. Builders against hand-computed
 * bytes; parsers on valid, truncated and malformed messages (against a guard page); then the
 * kernel, in two private network namespaces standing for two nodes:
 *
 *   node A (this process, unshared)                  node B
 *   ul0 192.168.77.1/24 fd77::1/64 <---- veth ---->  ul0 192.168.77.2/24 fd77::2/64
 *   vx0 vni 42 local 192.168.77.1   (VXLAN, IPv4)    vx0 vni 42 local 192.168.77.2
 *       10.244.0.1/32                                    10.244.1.1/32, lo 10.244.1.5/32
 *   vx6 vni 60 local fd77::1        (VXLAN, IPv6)    vx6 vni 60 local fd77::2
 *       10.245.0.1/32                                    10.245.1.1/32, lo 10.245.1.5/32
 *   10.244.1.0/24 via 10.244.1.1 dev vx0 onlink      10.244.0.0/24 via 10.244.0.1 dev vx0 onlink
 *   neigh 10.244.1.1 -> mac B0, fdb B0 -> .77.2      neigh 10.244.0.1 -> mac A0, fdb A0 -> .77.1
 *   (and the same over vx6 with fd77:: remotes)
 *
 * A pings 10.244.1.5 and 10.245.1.5 (raw ICMP socket) through the tunnels; without the fdb
 * entry the ping must fail. Also measures route dumps filtered by protocol in the kernel
 * against filtering here (diag lines, informative only).
 */
#include <errno.h>
#include <poll.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <arpa/inet.h>
#include <linux/neighbour.h>

#include "tap.h"
#include "netns_util.h"
#include "base/err.h"
#include "base/mem.h"
#include "core/cidr.h"
#include "nl/nlmsg.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"

static const uint8_t mac_a0[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b0[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_a6[6] = { 0x02, 0, 0, 0, 6, 0x01 };
static const uint8_t mac_b6[6] = { 0x02, 0, 0, 0, 6, 0x02 };

/* ---- builders against hand-computed bytes (host order is little-endian here) ------------- */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static void expect_bytes(const struct nlb *b, const uint8_t *want, size_t n, const char *what)
{
	is_int(nlb_err(b), 0, what);
	if (!tap_ok(b->len == n && memcmp(b->buf, want, n) == 0, __FILE__, __LINE__, what)) {
		diag("got %zu bytes, want %zu", b->len, n);
		diag_bytes(b);
	}
}

static void test_put_vxlan(void)
{
	static const uint8_t v4[] = {
		0x78, 0, 0, 0, 0x10, 0, 0x09, 0x06, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, /* ifinfomsg, IFF_UP */
		8, 0, 3, 0, 'v', 'x', '0', 0,                   /* IFLA_IFNAME */
		8, 0, 4, 0, 0xaa, 0x05, 0, 0,                   /* IFLA_MTU 1450 */
		10, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 0,            /* IFLA_ADDRESS */
		60, 0, 18, 0x80,                                /* IFLA_LINKINFO */
		10, 0, 1, 0, 'v', 'x', 'l', 'a', 'n', 0, 0, 0,  /*   IFLA_INFO_KIND */
		44, 0, 2, 0x80,                                 /*   IFLA_INFO_DATA */
		8, 0, 1, 0, 42, 0, 0, 0,                        /*     IFLA_VXLAN_ID */
		8, 0, 4, 0, 192, 168, 77, 1,                    /*     IFLA_VXLAN_LOCAL */
		8, 0, 3, 0, 3, 0, 0, 0,                         /*     IFLA_VXLAN_LINK */
		6, 0, 15, 0, 0x12, 0xb5, 0, 0,                  /*     IFLA_VXLAN_PORT 4789, BE */
		5, 0, 7, 0, 0, 0, 0, 0,                         /*     IFLA_VXLAN_LEARNING 0 */
	};
	static const uint8_t v6[] = {
		0x68, 0, 0, 0, 0x10, 0, 0x09, 0x06, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
		8, 0, 3, 0, 'v', 'x', '6', 0,
		64, 0, 18, 0x80,
		10, 0, 1, 0, 'v', 'x', 'l', 'a', 'n', 0, 0, 0,
		48, 0, 2, 0x80,
		8, 0, 1, 0, 0x56, 0x34, 0x12, 0,                /* VNI 0x123456 */
		20, 0, 17, 0, 0xfd, 0x77, 0, 0, 0, 0, 0, 0,     /* IFLA_VXLAN_LOCAL6 fd77::1 */
		0, 0, 0, 0, 0, 0, 0, 1,
		6, 0, 15, 0, 0x21, 0x18, 0, 0,                  /* port 8472 */
		5, 0, 7, 0, 0, 0, 0, 0,
	};
	struct rtnl_vxlan x4 = { .name = "vx0", .vni = 42, .local = ip("192.168.77.1"),
				 .link = 3, .mac = mac_a0, .mtu = 1450 };
	struct rtnl_vxlan x6 = { .name = "vx6", .vni = 0x123456, .local = ip("fd77::1"),
				 .port = 8472 };
	uint64_t buf[32];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_vxlan(&b, &x4);
	expect_bytes(&b, v4, sizeof(v4), "put_vxlan: IPv4 local, link, default port, no learning");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_vxlan(&b, &x6);
	expect_bytes(&b, v6, sizeof(v6), "put_vxlan: IPv6 local, 24-bit VNI, port 8472");
}

static void test_put_fdb_neigh(void)
{
	static const uint8_t add4[] = {
		0x30, 0, 0, 0, 0x1c, 0, 0x01, 0x05, 0, 0, 0, 0, 0, 0, 0, 0,
		7, 0, 0, 0, 7, 0, 0, 0, 0x80, 0, 2, 0,          /* AF_BRIDGE, PERMANENT, SELF */
		10, 0, 2, 0, 2, 0, 0, 0, 0, 2, 0, 0,            /* NDA_LLADDR */
		8, 0, 1, 0, 192, 168, 77, 2,                    /* NDA_DST */
	};
	static const uint8_t add6[] = {
		0x3c, 0, 0, 0, 0x1c, 0, 0x01, 0x05, 0, 0, 0, 0, 0, 0, 0, 0,
		7, 0, 0, 0, 7, 0, 0, 0, 0x80, 0, 2, 0,
		10, 0, 2, 0, 2, 0, 0, 0, 0, 2, 0, 0,
		20, 0, 1, 0, 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	};
	static const uint8_t del[] = {
		0x28, 0, 0, 0, 0x1d, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		7, 0, 0, 0, 7, 0, 0, 0, 0, 0, 2, 0,             /* no state, SELF */
		10, 0, 2, 0, 2, 0, 0, 0, 0, 2, 0, 0,
	};
	static const uint8_t ndel[] = {
		0x24, 0, 0, 0, 0x1d, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0,
		8, 0, 1, 0, 10, 244, 1, 1,
	};
	struct ipaddr d4 = ip("192.168.77.2"), d6 = ip("fd77::2"), n4 = ip("10.244.1.1");
	uint64_t buf[32];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_NEWNEIGH, 7, mac_b0, &d4);
	expect_bytes(&b, add4, sizeof(add4), "put_fdb: add, IPv4 remote, create|replace");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_NEWNEIGH, 7, mac_b0, &d6);
	expect_bytes(&b, add6, sizeof(add6), "put_fdb: add, IPv6 remote");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_DELNEIGH, 7, mac_b0, NULL);
	expect_bytes(&b, del, sizeof(del), "put_fdb: delete the whole entry");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh_del(&b, 5, &n4);
	expect_bytes(&b, ndel, sizeof(ndel), "put_neigh_del");
}

static void test_put_dumps(void)
{
	static const uint8_t nd4[] = {
		0x24, 0, 0, 0, 0x1e, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             /* ndm_ifindex stays 0 */
		8, 0, 8, 0, 5, 0, 0, 0,                         /* NDA_IFINDEX */
	};
	static const uint8_t ndall[] = {
		0x1c, 0, 0, 0, 0x1e, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t fdb[] = {
		0x1c, 0, 0, 0, 0x1e, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		7, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0,             /* the port in ndm_ifindex */
	};
	static const uint8_t rmain[] = {
		0x24, 0, 0, 0, 0x1a, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 0, 0, 0, 254, 86, 0, 0, 0, 0, 0, 0,          /* table main, protocol 86 */
		8, 0, 15, 0, 254, 0, 0, 0,                      /* RTA_TABLE */
	};
	static const uint8_t rany[] = {
		0x1c, 0, 0, 0, 0x1a, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 86, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t rbig[] = {
		0x24, 0, 0, 0, 0x1a, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,            /* table > 255: only in RTA_TABLE */
		8, 0, 15, 0, 0xe8, 0x03, 0, 0,
	};
	struct rtnl_route_filter f1 = { .family = AF_INET, .table = RT_TABLE_MAIN,
					.protocol = RTNL_PROTO_VIRGIL };
	struct rtnl_route_filter f2 = { .protocol = RTNL_PROTO_VIRGIL };
	struct rtnl_route_filter f3 = { .family = AF_INET6, .table = 1000 };
	uint64_t buf[32];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh_dump(&b, AF_INET, 5);
	expect_bytes(&b, nd4, sizeof(nd4), "put_neigh_dump: family, NDA_IFINDEX");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh_dump(&b, AF_UNSPEC, 0);
	expect_bytes(&b, ndall, sizeof(ndall), "put_neigh_dump: everything");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb_dump(&b, 9);
	expect_bytes(&b, fdb, sizeof(fdb), "put_fdb_dump: AF_BRIDGE, device in the header");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route_dump(&b, &f1);
	expect_bytes(&b, rmain, sizeof(rmain), "put_route_dump: main table, protocol 86");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route_dump(&b, &f2);
	expect_bytes(&b, rany, sizeof(rany), "put_route_dump: protocol only");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route_dump(&b, &f3);
	expect_bytes(&b, rbig, sizeof(rbig), "put_route_dump: IPv6, table 1000");
}
#endif

static void test_put_errors(void)
{
	struct rtnl_vxlan x = { .name = "vx0", .vni = RTNL_VXLAN_VNI_MAX + 1,
				.local = ip("10.0.0.1") };
	struct ipaddr none = { 0 }, d = ip("10.0.0.2");
	uint64_t buf[32];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_vxlan(&b, &x);
	is_int(nlb_err(&b), -EINVAL, "put_vxlan: VNI of 25 bits is -EINVAL");
	is_int(b.len, 0, "put_vxlan: nothing written");
	nlb_init(&b, buf, sizeof(buf));
	x.vni = 1;
	x.local = none;
	rtnl_put_vxlan(&b, &x);
	is_int(nlb_err(&b), -EINVAL, "put_vxlan: no local address is -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	x.local = d;
	x.name = "0123456789abcdef";
	rtnl_put_vxlan(&b, &x);
	is_int(nlb_err(&b), -EINVAL, "put_vxlan: 16-byte name is -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	x.name = "vx0";
	x.link = -1;
	rtnl_put_vxlan(&b, &x);
	is_int(nlb_err(&b), -EINVAL, "put_vxlan: negative link is -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_NEWNEIGH, 3, mac_a0, NULL);
	is_int(nlb_err(&b), -EINVAL, "put_fdb: add without a remote is -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_NEWNEIGH, 0, mac_a0, &d);
	is_int(nlb_err(&b), -EINVAL, "put_fdb: ifindex 0 is -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_DELNEIGH, 3, mac_a0, &none);
	is_int(nlb_err(&b), -EINVAL, "put_fdb: remote of no family is -EINVAL");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh_del(&b, 3, &none);
	is_int(nlb_err(&b), -EINVAL, "put_neigh_del: no family is -EINVAL");
	nlb_init(&b, buf, 60);
	x.link = 0;
	rtnl_put_vxlan(&b, &x);
	is_int(nlb_err(&b), -EMSGSIZE, "put_vxlan: 60 bytes do not fit");
	ok(b.len <= 60, "put_vxlan: nothing written past the buffer");
}

/* ---- parsers ---------------------------------------------------------------------------- */

enum kind { NEIGH, FDB, LINK };

/* k is an enum kind; an int, so that parse is an nl_parse_fn for netns_util.h */
static int parse(int k, const struct nlmsghdr *nlh)
{
	struct rtnl_neigh n;
	struct rtnl_fdb f;
	struct rtnl_link l;

	switch (k) {
	case NEIGH:
		return rtnl_parse_neigh(nlh, &n);
	case FDB:
		return rtnl_parse_fdb(nlh, &f);
	default:
		return rtnl_parse_link(nlh, &l);
	}
}

static struct ndmsg *nd(struct nlb *b, int family, int ifindex)
{
	struct ndmsg *m;

	nlb_msg(b, RTM_NEWNEIGH, 0);
	m = nlb_extra(b, sizeof(*m));
	m->ndm_family = (uint8_t)family;
	m->ndm_ifindex = ifindex;
	m->ndm_state = NUD_PERMANENT;
	return m;
}

static void mk_ne_ok(struct nlb *b)
{
	nd(b, AF_INET, 4);
	nlb_put(b, NDA_DST, "\x0a\xf4\1\1", 4);
	nlb_put(b, NDA_LLADDR, mac_b0, 6);
}

static void mk_ne_nomac(struct nlb *b)
{
	nd(b, AF_INET6, 4)->ndm_state = NUD_INCOMPLETE;
	nlb_put(b, NDA_DST, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
}

static void mk_ne_dst3(struct nlb *b)
{
	nd(b, AF_INET, 4);
	nlb_put(b, NDA_DST, "\x0a\xf4\1", 3);
}

static void mk_ne_v6dst4(struct nlb *b)
{
	nd(b, AF_INET6, 4);
	nlb_put(b, NDA_DST, "\x0a\xf4\1\1", 4);
}

static void mk_ne_nodst(struct nlb *b)
{
	nd(b, AF_INET, 4);
	nlb_put(b, NDA_LLADDR, mac_b0, 6);
}

static void mk_ne_mac4(struct nlb *b)
{
	nd(b, AF_INET, 4);
	nlb_put(b, NDA_DST, "\x0a\xf4\1\1", 4);
	nlb_put(b, NDA_LLADDR, "\1\2\3\4", 4);
}

static void mk_ne_idx0(struct nlb *b)
{
	nd(b, AF_INET, 0);
	nlb_put(b, NDA_DST, "\x0a\xf4\1\1", 4);
}

static void mk_ne_short(struct nlb *b)
{
	nlb_msg(b, RTM_NEWNEIGH, 0);
	nlb_extra(b, 8);
}

static void mk_ne_junk(struct nlb *b)
{
	mk_ne_ok(b);
	b->nlh->nlmsg_len -= 3;
}

static void mk_ne_route(struct nlb *b)
{
	struct rtmsg *r;

	nlb_msg(b, RTM_NEWROUTE, 0);
	r = nlb_extra(b, sizeof(*r));
	r->rtm_family = AF_INET;
}

static void mk_fdb_ok(struct nlb *b)
{
	nd(b, AF_BRIDGE, 9)->ndm_flags = NTF_SELF;
	nlb_put(b, NDA_LLADDR, mac_b0, 6);
	nlb_put(b, NDA_DST, "\xc0\xa8\x4d\2", 4);
}

static void mk_fdb_v6(struct nlb *b)
{
	nd(b, AF_BRIDGE, 9);
	nlb_put(b, NDA_LLADDR, mac_b0, 6);
	nlb_put(b, NDA_DST, "\xfd\x77\0\0\0\0\0\0\0\0\0\0\0\0\0\2", 16);
	nlb_put_u32(b, NDA_VNI, 77);
	nlb_put_be16(b, NDA_PORT, 8472);
}

static void mk_fdb_nodst(struct nlb *b)
{
	nd(b, AF_BRIDGE, 9);
	nlb_put(b, NDA_LLADDR, mac_b0, 6);
}

static void mk_fdb_dst5(struct nlb *b)
{
	mk_fdb_nodst(b);
	nlb_put(b, NDA_DST, "\1\2\3\4\5", 5);
}

static void mk_fdb_nomac(struct nlb *b)
{
	nd(b, AF_BRIDGE, 9);
	nlb_put(b, NDA_DST, "\xc0\xa8\x4d\2", 4);
}

static void mk_fdb_mac8(struct nlb *b)
{
	nd(b, AF_BRIDGE, 9);
	nlb_put(b, NDA_LLADDR, "\1\2\3\4\5\6\7\x08", 8);
}

static void mk_fdb_vni2(struct nlb *b)
{
	mk_fdb_ok(b);
	nlb_put_u16(b, NDA_VNI, 1);
}

static void mk_fdb_port4(struct nlb *b)
{
	mk_fdb_ok(b);
	nlb_put_u32(b, NDA_PORT, 4789);
}

static void mk_fdb_idx0(struct nlb *b)
{
	nd(b, AF_BRIDGE, 0);
	nlb_put(b, NDA_LLADDR, mac_b0, 6);
}

/* A vxlan link message; data() fills IFLA_INFO_DATA. */
static void mk_vx(struct nlb *b, const char *kind, void (*data)(struct nlb *b))
{
	struct ifinfomsg *m;
	struct nlattr *li, *d;

	nlb_msg(b, RTM_NEWLINK, 0);
	m = nlb_extra(b, sizeof(*m));
	m->ifi_index = 5;
	nlb_put_strz(b, IFLA_IFNAME, "vx0");
	li = nlb_nest_start(b, IFLA_LINKINFO);
	nlb_put_strz(b, IFLA_INFO_KIND, kind);
	if (data) {
		d = nlb_nest_start(b, IFLA_INFO_DATA);
		data(b);
		nlb_nest_end(b, d);
	}
	nlb_nest_end(b, li);
}

static void vx_ok(struct nlb *b)
{
	nlb_put_u32(b, IFLA_VXLAN_ID, 42);
	nlb_put(b, IFLA_VXLAN_LOCAL, "\xc0\xa8\x4d\1", 4);
	nlb_put_u32(b, IFLA_VXLAN_LINK, 3);
	nlb_put_be16(b, IFLA_VXLAN_PORT, 4789);
	nlb_put_u8(b, IFLA_VXLAN_LEARNING, 1);
	nlb_put_u8(b, 200, 1);  /* a type from a newer kernel: skipped */
}

static void vx_vni(struct nlb *b)
{
	nlb_put_u32(b, IFLA_VXLAN_ID, 0x1000000);
}

static void vx_local5(struct nlb *b)
{
	nlb_put(b, IFLA_VXLAN_LOCAL, "\1\2\3\4\5", 5);
}

static void vx_local6_4(struct nlb *b)
{
	nlb_put(b, IFLA_VXLAN_LOCAL6, "\1\2\3\4", 4);
}

static void vx_both(struct nlb *b)
{
	nlb_put(b, IFLA_VXLAN_LOCAL, "\1\2\3\4", 4);
	nlb_put(b, IFLA_VXLAN_LOCAL6, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
}

static void vx_port4(struct nlb *b)
{
	nlb_put_u32(b, IFLA_VXLAN_PORT, 4789);
}

static void vx_learn4(struct nlb *b)
{
	nlb_put_u32(b, IFLA_VXLAN_LEARNING, 0);
}

static void vx_link(struct nlb *b)
{
	nlb_put_u32(b, IFLA_VXLAN_LINK, 0x80000000u);
}

static void vx_cut(struct nlb *b)
{
	nlb_put(b, IFLA_VXLAN_ID, "\1\0\0\0", 4);
	/* claim 4 bytes more than the nest holds */
	((struct nlattr *)(void *)(b->buf + b->len - 8))->nla_len = 12;
}

static void mk_li_ok(struct nlb *b)
{
	mk_vx(b, "vxlan", vx_ok);
}

static void mk_li_vni(struct nlb *b)
{
	mk_vx(b, "vxlan", vx_vni);
}

static void mk_li_local5(struct nlb *b)
{
	mk_vx(b, "vxlan", vx_local5);
}

static void mk_li_local6_4(struct nlb *b)
{
	mk_vx(b, "vxlan", vx_local6_4);
}

static void mk_li_both(struct nlb *b)
{
	mk_vx(b, "vxlan", vx_both);
}

static void mk_li_port4(struct nlb *b)
{
	mk_vx(b, "vxlan", vx_port4);
}

static void mk_li_learn4(struct nlb *b)
{
	mk_vx(b, "vxlan", vx_learn4);
}

static void mk_li_link(struct nlb *b)
{
	mk_vx(b, "vxlan", vx_link);
}

static void mk_li_cut(struct nlb *b)
{
	mk_vx(b, "vxlan", vx_cut);
}

static void mk_li_nodata(struct nlb *b)
{
	mk_vx(b, "vxlan", NULL);
}

static void mk_li_veth(struct nlb *b)
{
	/* another kind's data is not read as vxlan's */
	mk_vx(b, "veth", vx_port4);
}

static const struct parse_case parse_cases[] = {
	{ "neigh: 10.244.1.1 with a MAC", NEIGH, mk_ne_ok, 0 },
	{ "neigh: IPv6 incomplete, no MAC", NEIGH, mk_ne_nomac, 0 },
	{ "neigh: NDA_DST of 3 bytes", NEIGH, mk_ne_dst3, -EINVAL },
	{ "neigh: IPv6 with a 4-byte NDA_DST", NEIGH, mk_ne_v6dst4, -EINVAL },
	{ "neigh: no NDA_DST", NEIGH, mk_ne_nodst, -EINVAL },
	{ "neigh: 4-byte link-layer address is skipped", NEIGH, mk_ne_mac4, -ENOENT },
	{ "neigh: ifindex 0", NEIGH, mk_ne_idx0, -EINVAL },
	{ "neigh: header shorter than ndmsg", NEIGH, mk_ne_short, -EINVAL },
	{ "neigh: attribute cut short", NEIGH, mk_ne_junk, -EINVAL },
	{ "neigh: an fdb entry is skipped", NEIGH, mk_fdb_ok, -ENOENT },
	{ "neigh: a route is skipped", NEIGH, mk_ne_route, -ENOENT },
	{ "fdb: mac to 192.168.77.2", FDB, mk_fdb_ok, 0 },
	{ "fdb: IPv6 remote, VNI, port", FDB, mk_fdb_v6, 0 },
	{ "fdb: no remote", FDB, mk_fdb_nodst, 0 },
	{ "fdb: remote of 5 bytes", FDB, mk_fdb_dst5, -EINVAL },
	{ "fdb: no NDA_LLADDR", FDB, mk_fdb_nomac, -EINVAL },
	{ "fdb: NDA_LLADDR of 8 bytes", FDB, mk_fdb_mac8, -EINVAL },
	{ "fdb: NDA_VNI of 2 bytes", FDB, mk_fdb_vni2, -EINVAL },
	{ "fdb: NDA_PORT of 4 bytes", FDB, mk_fdb_port4, -EINVAL },
	{ "fdb: ifindex 0", FDB, mk_fdb_idx0, -EINVAL },
	{ "fdb: a neighbour is skipped", FDB, mk_ne_ok, -ENOENT },
	{ "fdb: header shorter than ndmsg", FDB, mk_ne_short, -EINVAL },
	{ "vxlan link: every attribute", LINK, mk_li_ok, 0 },
	{ "vxlan link: VNI over 24 bits", LINK, mk_li_vni, -EINVAL },
	{ "vxlan link: LOCAL of 5 bytes", LINK, mk_li_local5, -EINVAL },
	{ "vxlan link: LOCAL6 of 4 bytes", LINK, mk_li_local6_4, -EINVAL },
	{ "vxlan link: LOCAL and LOCAL6", LINK, mk_li_both, -EINVAL },
	{ "vxlan link: PORT of 4 bytes", LINK, mk_li_port4, -EINVAL },
	{ "vxlan link: LEARNING of 4 bytes", LINK, mk_li_learn4, -EINVAL },
	{ "vxlan link: LINK over INT32_MAX", LINK, mk_li_link, -EINVAL },
	{ "vxlan link: attribute past its nest", LINK, mk_li_cut, -EINVAL },
	{ "vxlan link: no IFLA_INFO_DATA", LINK, mk_li_nodata, 0 },
	{ "veth link: its data is not vxlan's", LINK, mk_li_veth, 0 },
};

static void test_parse_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++)
		is_int(parse_built(parse, parse_cases[i].kind, parse_cases[i].mk),
		       parse_cases[i].want, parse_cases[i].what);
}

static void test_parse_values(void)
{
	uint64_t buf[64];
	struct rtnl_neigh n;
	struct rtnl_fdb f;
	struct rtnl_link l;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	mk_li_ok(&b);
	is_int(rtnl_parse_link(b.nlh, &l), 0, "vxlan link: parses");
	ok(l.has_vxlan && l.vxlan.vni == 42 && l.vxlan.local.family == AF_INET &&
	   l.vxlan.local.a[0] == 192 && l.vxlan.local.a[3] == 1 && l.vxlan.link == 3 &&
	   l.vxlan.port == 4789 && l.vxlan.learning,
	   "vxlan link: vni, local, link, port, learning");
	nlb_init(&b, buf, sizeof(buf));
	mk_li_nodata(&b);
	is_int(rtnl_parse_link(b.nlh, &l), 0, "vxlan link without data: parses");
	ok(!l.has_vxlan && !strcmp(l.kind, "vxlan"), "vxlan link without data: has_vxlan unset");
	nlb_init(&b, buf, sizeof(buf));
	mk_fdb_v6(&b);
	is_int(rtnl_parse_fdb(b.nlh, &f), 0, "fdb v6: parses");
	ok(f.ifindex == 9 && !memcmp(f.mac, mac_b0, 6) && f.dst.family == AF_INET6 &&
	   f.dst.a[0] == 0xfd && f.dst.a[15] == 2 && f.vni == 77 && f.port == 8472 &&
	   f.state == NUD_PERMANENT, "fdb v6: ifindex, mac, remote, vni, port (BE), state");
	nlb_init(&b, buf, sizeof(buf));
	mk_fdb_nodst(&b);
	is_int(rtnl_parse_fdb(b.nlh, &f), 0, "fdb without remote: parses");
	is_int(f.dst.family, 0, "fdb without remote: family 0");
	nlb_init(&b, buf, sizeof(buf));
	mk_ne_nomac(&b);
	is_int(rtnl_parse_neigh(b.nlh, &n), 0, "neigh incomplete: parses");
	ok(n.ip.family == AF_INET6 && n.state == NUD_INCOMPLETE &&
	   !memcmp(n.mac, "\0\0\0\0\0\0", 6), "neigh incomplete: IPv6, state, MAC zero");
}

/* What the builders write, the parsers read back (a request has the shape of a reply). */
static void test_roundtrip(void)
{
	struct rtnl_vxlan x = { .name = "vx6", .vni = 7, .local = ip("fd77::1"), .link = 4,
				.mac = mac_a6, .mtu = 1430 };
	struct ipaddr d = ip("fd77::2"), gw = ip("10.244.1.1");
	struct rtnl_neigh n;
	struct rtnl_fdb f;
	struct rtnl_link l;
	struct ebuf why;
	uint64_t buf[64];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_vxlan(&b, &x);
	((struct ifinfomsg *)NLMSG_DATA(b.nlh))->ifi_index = 12;
	is_int(rtnl_parse_link(b.nlh, &l), 0, "roundtrip vxlan: parses");
	ok(l.ifindex == 12 && l.has_vxlan && l.vxlan.vni == 7 &&
	   ipaddr_eq(&l.vxlan.local, &x.local) && l.vxlan.link == 4 &&
	   l.vxlan.port == RTNL_VXLAN_PORT && !l.vxlan.learning && l.mtu == 1430 &&
	   !memcmp(l.mac, mac_a6, 6), "roundtrip vxlan: every field back");
	ebuf_clear(&why);
	ok(rtnl_vxlan_matches(&l, &x, &why) && ebuf_empty(&why),
	   "roundtrip vxlan: matches its own spec");
	is_int(parse_truncated(parse, LINK, &b), 0,
	       "vxlan link: every truncation parses or is -EINVAL");

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_NEWNEIGH, 9, mac_b6, &d);
	is_int(rtnl_parse_fdb(b.nlh, &f), 0, "roundtrip fdb: parses");
	ok(f.ifindex == 9 && !memcmp(f.mac, mac_b6, 6) && ipaddr_eq(&f.dst, &d) &&
	   f.state == NUD_PERMANENT && f.flags == NTF_SELF && !f.vni && !f.port,
	   "roundtrip fdb: every field back");
	is_int(parse_truncated(parse, FDB, &b), 0, "fdb: every truncation parses or is -EINVAL");

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh(&b, 9, &gw, mac_b0);
	is_int(rtnl_parse_neigh(b.nlh, &n), 0, "roundtrip neigh: parses");
	ok(n.ifindex == 9 && ipaddr_eq(&n.ip, &gw) && !memcmp(n.mac, mac_b0, 6) &&
	   n.state == NUD_PERMANENT, "roundtrip neigh: every field back");
	is_int(parse_truncated(parse, NEIGH, &b), 0,
	       "neigh: every truncation parses or is -EINVAL");
}

static void test_matches(void)
{
	struct rtnl_vxlan x = { .name = "vx0", .vni = 42, .local = ip("192.168.77.1"), .link = 3,
				.mac = mac_a0, .mtu = 1450 };
	struct rtnl_link l = { .ifindex = 5, .name = "vx0", .mtu = 1450, .kind = "vxlan",
			       .has_vxlan = true,
			       .vxlan = { 42, ip("192.168.77.1"), 3, RTNL_VXLAN_PORT, false } };
	struct ebuf why;

	memcpy(l.mac, mac_a0, 6);
	ok(rtnl_vxlan_matches(&l, &x, NULL), "matches: same parameters");
	l.vxlan.vni = 7;
	l.vxlan.port = 8472;
	l.vxlan.learning = true;
	ebuf_clear(&why);
	ok(!rtnl_vxlan_matches(&l, &x, &why), "matches: three differences");
	is_str(why.msg, "vni 7 (want 42), port 8472 (want 4789), learning 1 (want 0)",
	       "matches: each one named, have and want");
	l.vxlan = (struct rtnl_vxlan_info){ 42, ip("fd77::1"), 0, RTNL_VXLAN_PORT, false };
	l.mtu = 1500;
	ok(!rtnl_vxlan_matches(&l, &x, &why), "matches: other family, link and MTU");
	is_str(why.msg, "local fd77::1 (want 192.168.77.1), link 0 (want 3), mtu 1500 (want 1450)",
	       "matches: addresses in text");
	x.mtu = 0;
	x.mac = NULL;
	l.vxlan = (struct rtnl_vxlan_info){ 42, ip("192.168.77.1"), 3, RTNL_VXLAN_PORT, false };
	l.mac[5] = 9;
	ok(rtnl_vxlan_matches(&l, &x, &why), "matches: no MTU or MAC asked, any will do");
	x.mac = mac_a0;
	ok(!rtnl_vxlan_matches(&l, &x, &why), "matches: MAC asked");
	is_str(why.msg, "mac 02:00:00:00:00:09 (want 02:00:00:00:00:01)", "matches: MAC in text");
	strcpy(l.kind, "veth");
	l.has_vxlan = false;
	x.mac = NULL;
	ok(!rtnl_vxlan_matches(&l, &x, &why), "matches: a veth is not a vxlan");
	is_str(why.msg, "kind veth (want vxlan)", "matches: kind in text");
}

/* ---- the kernel: two nodes in private namespaces ---------------------------------------- */

static int ns_a = -1, ns_b = -1;

static int raw_cb(const struct nlmsghdr *nlh, void *ctx)
{
	(void)nlh;
	++*(int *)ctx;
	return 0;
}

/* How many messages the kernel itself sends for a dump request: shows that it applied the
 * filters (the wrappers filter again, so their counts cannot tell). */
static int raw_count(struct nlsock *s, struct nlb *b)
{
	int n = 0;

	if (nlb_err(b) || nlsock_dump(s, b->nlh, raw_cb, NULL, &n, NULL))
		return -1;
	return n;
}

static int set_down(struct nlsock *s, int ifindex)
{
	uint64_t buf[8];
	struct ifinfomsg *ifi;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nlb_msg(&b, RTM_NEWLINK, 0);
	ifi = nlb_extra(&b, sizeof(*ifi));
	if (!ifi)
		return -EMSGSIZE;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	return nlsock_talk(s, b.nlh, NULL, NULL, NULL);
}

struct node {
	struct nlsock s;
	int ul;         /* underlay veth */
};

/* The underlay: one veth pair between the nodes, addressed on both ends, lo up. */
static int underlay(struct node *a, struct node *b)
{
	struct rtnl_veth v = { .name = "ul0", .peer = "ul0", .peer_netns_fd = ns_b, .up = true };
	struct ebuf eb = { "" };
	struct rtnl_link l;
	int r;

	r = rtnl_veth_add_link(&a->s, &v, &l, &eb);
	if (r) {
		diag("underlay: %s", eb.msg);
		return r;
	}
	a->ul = l.ifindex;
	b->ul = l.link;
	r = link_addrs(&a->s, a->ul, false, "192.168.77.1/24", "fd77::1/64", "underlay A");
	if (!r)
		r = link_addrs(&b->s, b->ul, true, "192.168.77.2/24", "fd77::2/64", "underlay B");
	return r;
}

struct links_seen {
	int n;
	struct rtnl_link vx;
};

static int vx_dump_cb(const struct rtnl_link *l, void *ctx)
{
	struct links_seen *ls = ctx;

	if (!strcmp(l->name, "vx0")) {
		ls->vx = *l;
		ls->n++;
	}
	return 0;
}

static void vxlan_found(const struct rtnl_link *l, int ul, const char *what)
{
	ok(l->ifindex > 0 && !strcmp(l->name, "vx0") && !strcmp(l->kind, "vxlan") &&
	   l->has_vxlan && l->vxlan.vni == 42 &&
	   ipaddr_eq(&l->vxlan.local, &(struct ipaddr){ AF_INET, { 192, 168, 77, 1 } }) &&
	   l->vxlan.link == ul && l->vxlan.port == 4789 && !l->vxlan.learning &&
	   !memcmp(l->mac, mac_a0, 6) && l->mtu == 1450 && (l->flags & IFF_UP), what);
}

static int vxlan_case(struct node *a)
{
	struct rtnl_vxlan x = { .name = "vx0", .vni = 42, .local = ip("192.168.77.1"),
				.link = a->ul, .mac = mac_a0, .mtu = 1450 };
	struct rtnl_vxlan y;
	struct links_seen ls = { 0 };
	struct rtnl_link l, again;
	struct ebuf eb = { "" };
	int r;

	r = rtnl_vxlan_ensure(&a->s, &x, &l, &eb);
	is_int(r, 0, "vxlan: created");
	if (r) {
		diag("%s", eb.msg);
		return r;
	}
	vxlan_found(&l, a->ul,
		    "vxlan: the echo has vni, local, link, port, no learning, MAC, MTU, up");
	is_int(rtnl_link_get(&a->s, "vx0", &again, &eb), 0, "vxlan: link_get");
	vxlan_found(&again, a->ul, "vxlan: link_get reads the same parameters");
	is_int(rtnl_link_dump(&a->s, vx_dump_cb, NULL, &ls, &eb), 0, "vxlan: link_dump");
	is_int(ls.n, 1, "vxlan: one vx0 in the dump");
	vxlan_found(&ls.vx, a->ul, "vxlan: the dump reads the same parameters");

	is_int(rtnl_vxlan_ensure(&a->s, &x, &again, &eb), 0, "vxlan: ensure again is a no-op");
	ok(again.ifindex == l.ifindex && ebuf_empty(&eb), "vxlan: same device, no error text");
	is_int(set_down(&a->s, l.ifindex), 0, "vxlan: set down behind our back");
	is_int(rtnl_vxlan_ensure(&a->s, &x, &again, &eb), 0, "vxlan: ensure on a down device");
	is_int(rtnl_link_get_index(&a->s, l.ifindex, &again, &eb), 0, "vxlan: look again");
	ok(again.flags & IFF_UP, "vxlan: ensure brought it up");

	y = x;
	y.vni = 43;
	y.port = 8472;
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), -EEXIST, "vxlan: other VNI and port");
	is_str(eb.msg, "vxlan vx0: exists with other parameters: vni 42 (want 43), port 4789 "
	       "(want 8472)", "vxlan: the difference, spelled out");
	y = x;
	y.mtu = 1400;
	y.local = ip("192.168.77.9");
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), -EEXIST, "vxlan: other local and MTU");
	diag("%s", eb.msg);
	is_int(rtnl_link_get(&a->s, "vx0", &again, &eb), 0, "vxlan: still there ...");
	vxlan_found(&again, a->ul, "vxlan: ... untouched by the refused ensures");
	y = x;
	y.name = "vx1";
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), -EEXIST,
	       "vxlan: another name with the same VNI and port");
	ok(strstr(eb.msg, "kernel:") != NULL, "vxlan: ... with the kernel's reason");
	diag("%s", eb.msg);
	is_int(rtnl_link_get(&a->s, "vx1", &again, &eb), -ENODEV, "vxlan: vx1 not created");
	y.name = "ul0";
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), -EEXIST, "vxlan: name of a veth");
	ok(!strncmp(eb.msg, "vxlan ul0: exists with other parameters: kind veth (want vxlan), ",
		    65), "vxlan: kind named first");
	diag("%s", eb.msg);
	y.name = "vx1";
	y.vni = 1u << 24;
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), -EINVAL, "vxlan: 25-bit VNI");

	/* what the caller does with a mismatch it decides to fix */
	y = x;
	y.name = "vxr";
	y.vni = 50;
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), 0, "replace: a device to replace");
	y.vni = 51;
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), -EEXIST, "replace: differs");
	is_int(rtnl_link_del(&a->s, "vxr", &eb), 0, "replace: delete it");
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), 0, "replace: create it again");
	ok(again.vxlan.vni == 51, "replace: new VNI");
	is_int(rtnl_link_del(&a->s, "vxr", &eb), 0, "replace: clean up");

	y = (struct rtnl_vxlan){ .name = "vx6", .vni = 60, .local = ip("fd77::1"),
				 .link = a->ul, .mtu = 1430, .mac = mac_a6 };
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), 0, "vxlan6: created");
	ok(again.has_vxlan && again.vxlan.local.family == AF_INET6 &&
	   ipaddr_eq(&again.vxlan.local, &y.local) && again.vxlan.vni == 60 &&
	   again.mtu == 1430, "vxlan6: IPv6 local read back");
	is_int(rtnl_vxlan_ensure(&a->s, &y, &again, &eb), 0, "vxlan6: ensure again");
	return 0;
}

/* ---- fdb -------------------------------------------------------------------------------- */

enum { NFDB = 1000 };

static void fdb_mac(int i, uint8_t mac[6])
{
	static const uint8_t base[6] = { 0x02, 0xaa, 0, 0, 0, 0 };

	memcpy(mac, base, 6);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static struct ipaddr fdb_dst(int i, int gen)
{
	struct ipaddr a = { AF_INET, { 10, (uint8_t)gen, (uint8_t)(i >> 8), (uint8_t)i } };

	return a;
}

struct fdb_seen {
	int ifindex, gen;
	int n, wrong, restarts;
	struct rtnl_fdb last;
};

static void fdb_restart(void *ctx)
{
	struct fdb_seen *fs = ctx;

	fs->n = fs->wrong = 0;
	fs->restarts++;
}

static int fdb_cb(const struct rtnl_fdb *f, void *ctx)
{
	struct fdb_seen *fs = ctx;
	int i = f->mac[4] << 8 | f->mac[5];
	struct ipaddr want = fdb_dst(i, fs->gen);

	fs->n++;
	fs->last = *f;
	if (f->ifindex != fs->ifindex || f->mac[1] != 0xaa || !ipaddr_eq(&f->dst, &want) ||
	    f->state != NUD_PERMANENT)
		fs->wrong++;
	return 0;
}

static int fdb_put_all(struct nlsock *s, int ifindex, uint16_t type, int from, int to, int gen)
{
	size_t cap = (size_t)(to - from) * 64;
	void *buf = malloc(cap);
	struct nlb b;
	uint8_t mac[6];
	int i, r;

	nlb_init(&b, buf, cap);
	for (i = from; i < to; i++) {
		struct ipaddr d = fdb_dst(i, gen);

		fdb_mac(i, mac);
		rtnl_put_fdb(&b, type, ifindex, mac, type == RTM_NEWNEIGH ? &d : NULL);
	}
	r = batch(s, &b, "fdb batch");
	free(buf);
	return r;
}

static int fdb_count(struct nlsock *s, int ifindex, int gen, struct fdb_seen *fs)
{
	*fs = (struct fdb_seen){ .ifindex = ifindex, .gen = gen };
	return rtnl_fdb_dump(s, ifindex, fdb_cb, fdb_restart, fs, NULL);
}

static void fdb_case(struct nlsock *s, int vx0, int vx6)
{
	struct ipaddr d6 = ip("fd77::2");
	uint64_t buf[16];
	struct nlb b;
	struct fdb_seen fs;
	struct ebuf eb = { "" };
	uint8_t mac[6];

	is_int(fdb_count(s, vx0, 1, &fs), 0, "fdb: dump of a new device");
	is_int(fs.n, 0, "fdb: empty (no default remote)");
	is_int(fdb_put_all(s, vx0, RTM_NEWNEIGH, 0, NFDB, 1), 0, "fdb: 1000 entries, one batch");
	is_int(fdb_count(s, vx0, 1, &fs), 0, "fdb: dump");
	is_int(fs.n, NFDB, "fdb: exactly 1000 back (multi-part dump)");
	is_int(fs.wrong, 0, "fdb: each with its remote, permanent, on vx0");
	ok(fs.last.flags & NTF_SELF, "fdb: entries carry NTF_SELF");
	is_int(fdb_put_all(s, vx0, RTM_NEWNEIGH, 0, NFDB, 1), 0, "fdb: the same again");
	is_int(fdb_count(s, vx0, 1, &fs), 0, "fdb: dump");
	ok(fs.n == NFDB && fs.wrong == 0, "fdb: still 1000, unchanged");
	is_int(fdb_put_all(s, vx0, RTM_NEWNEIGH, 0, NFDB, 2), 0, "fdb: 1000 new remotes (replace)");
	is_int(fdb_count(s, vx0, 2, &fs), 0, "fdb: dump");
	ok(fs.n == NFDB && fs.wrong == 0, "fdb: 1000, every remote replaced, none appended");

	/* one more on the IPv6 device: the vx0 dump must not see it */
	fdb_mac(7, mac);
	is_int(rtnl_fdb_set(s, vx6, mac, &d6, &eb), 0, "fdb: IPv6 remote on vx6");
	is_int(rtnl_fdb_set(s, vx6, mac, &d6, &eb), 0, "fdb: set again is a no-op");
	is_int(fdb_count(s, vx6, 0, &fs), 0, "fdb: dump vx6");
	ok(fs.n == 1 && ipaddr_eq(&fs.last.dst, &d6) && fs.last.ifindex == vx6,
	   "fdb: vx6 has exactly its one entry, IPv6 remote");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb_dump(&b, vx6);
	is_int(raw_count(s, &b), 1, "fdb: the kernel itself sends vx6's one entry, not vx0's");
	is_int(rtnl_fdb_set(s, vx0, mac, &d6, &eb), -EAFNOSUPPORT,
	       "fdb: an IPv6 remote on an IPv4 device is refused");
	diag("%s", eb.msg);
	is_int(fdb_count(s, vx0, 2, &fs), 0, "fdb: dump vx0");
	ok(fs.n == NFDB && fs.wrong == 0, "fdb: vx0 still has exactly its 1000");

	is_int(fdb_put_all(s, vx0, RTM_DELNEIGH, 0, NFDB / 2, 0), 0, "fdb: delete 500, one batch");
	is_int(fdb_count(s, vx0, 2, &fs), 0, "fdb: dump");
	ok(fs.n == NFDB / 2 && fs.wrong == 0, "fdb: exactly 500 left");
	for (int i = NFDB / 2; i < NFDB; i++) {
		fdb_mac(i, mac);
		if (rtnl_fdb_del(s, vx0, mac, &eb))
			break;
	}
	is_int(fdb_count(s, vx0, 2, &fs), 0, "fdb: dump");
	is_int(fs.n, 0, "fdb: the other 500 deleted one by one");
	is_int(rtnl_fdb_del(s, vx0, mac, &eb), 0, "fdb: deleting a missing entry is 0");
	ok(ebuf_empty(&eb), "fdb: ... with no error text");
	is_int(rtnl_fdb_dump(s, 0, fdb_cb, NULL, &fs, &eb), -EINVAL, "fdb: dump needs a device");
	fdb_mac(7, mac);
	is_int(rtnl_fdb_del(s, vx6, mac, &eb), 0, "fdb: vx6 entry deleted");
}

/* ---- neighbours ------------------------------------------------------------------------- */

enum { NNEIGH = 1000 };

struct neigh_seen {
	int ifindex;
	int n, perm, wrong, restarts;
	struct rtnl_neigh last;
};

static void neigh_restart(void *ctx)
{
	struct neigh_seen *ns = ctx;

	ns->n = ns->perm = ns->wrong = 0;
	ns->restarts++;
}

static int neigh_cb(const struct rtnl_neigh *n, void *ctx)
{
	struct neigh_seen *ns = ctx;

	ns->n++;
	if (n->ifindex != ns->ifindex)
		ns->wrong++;
	/* the kernel keeps entries of its own too (IPv6 multicast, NUD_NOARP) */
	if (n->state != NUD_PERMANENT)
		return 0;
	ns->perm++;
	ns->last = *n;
	/* the batch's entries: 10.250.x.y -> 02:bb:00:00:x:y */
	if (n->ip.family == AF_INET && n->ip.a[0] == 10 && n->ip.a[1] == 250 &&
	    (n->mac[1] != 0xbb || n->mac[4] != n->ip.a[2] || n->mac[5] != n->ip.a[3]))
		ns->wrong++;
	return 0;
}

static int neigh_count(struct nlsock *s, int family, int ifindex, struct neigh_seen *ns)
{
	*ns = (struct neigh_seen){ .ifindex = ifindex };
	return rtnl_neigh_dump(s, family, ifindex, neigh_cb, neigh_restart, ns, NULL);
}

static int neigh_put_all(struct nlsock *s, int ifindex, bool del)
{
	size_t cap = NNEIGH * 64;
	void *buf = malloc(cap);
	uint8_t mac[6] = { 0x02, 0xbb, 0, 0, 0, 0 };
	struct nlb b;
	int i, r;

	nlb_init(&b, buf, cap);
	for (i = 0; i < NNEIGH; i++) {
		struct ipaddr a = { AF_INET, { 10, 250, (uint8_t)(i >> 8), (uint8_t)i } };

		mac[4] = a.a[2];
		mac[5] = a.a[3];
		if (del)
			rtnl_put_neigh_del(&b, ifindex, &a);
		else
			rtnl_put_neigh(&b, ifindex, &a, mac);
	}
	r = batch(s, &b, "neigh batch");
	free(buf);
	return r;
}

static void neigh_case(struct nlsock *s, int vx0, int ul)
{
	struct ipaddr v6 = ip("fd44::1"), v4 = ip("10.250.0.7"), other = ip("192.168.77.99");
	struct ebuf eb = { "" };
	struct neigh_seen ns;
	uint64_t buf[16];
	struct nlb b;

	is_int(neigh_put_all(s, vx0, false), 0, "neigh: 1000 entries on vx0, one batch");
	is_int(rtnl_neigh_set(s, vx0, &v6, mac_b0, &eb), 0, "neigh: an IPv6 one on vx0");
	is_int(rtnl_neigh_set(s, ul, &other, mac_b0, &eb), 0, "neigh: one on the underlay");
	is_int(neigh_count(s, AF_INET, vx0, &ns), 0, "neigh: dump IPv4 on vx0");
	ok(ns.perm == NNEIGH && ns.n == NNEIGH && ns.wrong == 0,
	   "neigh: exactly the 1000, with their MACs, none from another link");
	is_int(neigh_count(s, AF_INET6, vx0, &ns), 0, "neigh: dump IPv6 on vx0");
	ok(ns.perm == 1 && ipaddr_eq(&ns.last.ip, &v6) && !memcmp(ns.last.mac, mac_b0, 6) &&
	   ns.last.ifindex == vx0 && ns.wrong == 0, "neigh: the one IPv6 entry");
	is_int(neigh_count(s, AF_UNSPEC, vx0, &ns), 0, "neigh: dump both families on vx0");
	is_int(ns.perm, NNEIGH + 1, "neigh: 1001 permanent");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh_dump(&b, AF_INET, vx0);
	is_int(raw_count(s, &b), NNEIGH, "neigh: the kernel itself filters on NDA_IFINDEX");
	is_int(neigh_count(s, AF_INET, ul, &ns), 0, "neigh: dump IPv4 on the underlay");
	ok(ns.perm == 1 && ipaddr_eq(&ns.last.ip, &other) && ns.wrong == 0,
	   "neigh: the underlay's one permanent entry");
	is_int(rtnl_neigh_set(s, vx0, &v4, mac_b6, &eb), 0, "neigh: replace one MAC");
	is_int(rtnl_neigh_del(s, vx0, &v6, &eb), 0, "neigh: delete the IPv6 one");
	is_int(rtnl_neigh_del(s, vx0, &v6, &eb), 0, "neigh: delete it again is 0");
	ok(ebuf_empty(&eb), "neigh: ... with no error text");
	is_int(rtnl_neigh_del(s, ul, &other, &eb), 0, "neigh: delete the underlay one");
	is_int(neigh_count(s, AF_INET, vx0, &ns), 0, "neigh: dump IPv4 on vx0");
	ok(ns.perm == NNEIGH && ns.wrong == 1, "neigh: 1000, the replaced MAC shows");
	is_int(neigh_put_all(s, vx0, true), 0, "neigh: delete the 1000, one batch");
	is_int(neigh_count(s, AF_UNSPEC, vx0, &ns), 0, "neigh: dump both families on vx0");
	is_int(ns.perm, 0, "neigh: none left");
}

/* ---- routes by protocol ----------------------------------------------------------------- */

enum { NROUTES = 2000 };

struct route_seen {
	int n, ours;
	uint8_t want;   /* count only this protocol, 0 = all */
};

static void route_restart(void *ctx)
{
	struct route_seen *rs = ctx;

	rs->n = rs->ours = 0;
}

static int route_cb(const struct rtnl_route *r, void *ctx)
{
	struct route_seen *rs = ctx;

	/* the userspace filter the kernel one is measured against */
	if (rs->want && r->protocol != rs->want)
		return 0;
	rs->n++;
	rs->ours += r->protocol == RTNL_PROTO_VIRGIL;
	return 0;
}

static int routes_put(struct nlsock *s, uint16_t type, uint8_t second, uint8_t proto)
{
	size_t cap = NROUTES * 64;
	void *buf = malloc(cap);
	struct nlb b;
	int i, r;

	nlb_init(&b, buf, cap);
	for (i = 0; i < NROUTES; i++) {
		struct rtnl_route rt = { .dst = net("10.0.0.0/32"), .type = RTN_BLACKHOLE,
					  .protocol = proto };

		rt.dst.addr.a[1] = second;
		rt.dst.addr.a[2] = (uint8_t)(i / 256);
		rt.dst.addr.a[3] = (uint8_t)i;
		rtnl_put_route(&b, type, type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_REPLACE : 0,
			       &rt);
	}
	r = batch(s, &b, "route batch");
	free(buf);
	return r;
}

/* Median time of a dump of the main table for our routes, filtered in the kernel or here. */
static double time_dump(struct nlsock *s, bool in_kernel, int *count)
{
	enum { N = 31 };
	struct rtnl_route_filter f = { .family = AF_INET, .table = RT_TABLE_MAIN,
				       .protocol = RTNL_PROTO_VIRGIL };
	double t[N], t0;
	int i, bad = 0;

	for (i = 0; i < N; i++) {
		struct route_seen rs = { .want = in_kernel ? 0 : RTNL_PROTO_VIRGIL };

		t0 = now_us();
		if (in_kernel)
			bad |= rtnl_route_dump_filter(s, &f, route_cb, route_restart, &rs, NULL);
		else
			bad |= rtnl_route_dump(s, AF_INET, RT_TABLE_MAIN, route_cb, route_restart,
					       &rs, NULL);
		t[i] = now_us() - t0;
		*count = bad ? -1 : rs.n;
	}
	qsort(t, N, sizeof(t[0]), cmp_double);
	return t[N / 2];
}

static void route_filter_case(struct nlsock *s)
{
	struct rtnl_route_filter f = { .family = AF_INET, .table = RT_TABLE_MAIN,
				       .protocol = RTNL_PROTO_VIRGIL };
	struct rtnl_route six = { .dst = net("fd99::/64"), .type = RTN_BLACKHOLE };
	struct route_seen rs = { 0 };
	struct ebuf eb = { "" };
	uint64_t buf[16];
	struct nlb b;
	double k, u;
	int nk = 0, nu = 0;

	is_int(routes_put(s, RTM_NEWROUTE, 100, 0), 0, "routes: 2000 of ours");
	is_int(routes_put(s, RTM_NEWROUTE, 101, RTPROT_STATIC), 0, "routes: 2000 static");
	is_int(rtnl_route_add(s, &six, NLM_F_CREATE | NLM_F_REPLACE, &eb), 0, "routes: one IPv6");
	is_int(rtnl_route_dump_filter(s, &f, route_cb, route_restart, &rs, &eb), 0,
	       "routes: dump main, protocol 86");
	ok(rs.n == NROUTES && rs.ours == NROUTES, "routes: exactly our 2000, nothing else");
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route_dump(&b, &f);
	is_int(raw_count(s, &b), NROUTES, "routes: the kernel itself filters on rtm_protocol");
	f.protocol = RTPROT_STATIC;
	rs = (struct route_seen){ 0 };
	is_int(rtnl_route_dump_filter(s, &f, route_cb, route_restart, &rs, &eb), 0,
	       "routes: dump main, protocol static");
	ok(rs.n == NROUTES && rs.ours == 0, "routes: exactly the 2000 static");
	f = (struct rtnl_route_filter){ .protocol = RTNL_PROTO_VIRGIL };
	rs = (struct route_seen){ 0 };
	is_int(rtnl_route_dump_filter(s, &f, route_cb, route_restart, &rs, &eb), 0,
	       "routes: dump both families, every table, protocol 86");
	ok(rs.n == NROUTES + 1 && rs.ours == NROUTES + 1, "routes: 2001, the IPv6 one too");
	f = (struct rtnl_route_filter){ .family = AF_INET6, .table = 4242,
					.protocol = RTNL_PROTO_VIRGIL };
	rs = (struct route_seen){ 0 };
	is_int(rtnl_route_dump_filter(s, &f, route_cb, route_restart, &rs, &eb), 0,
	       "routes: a table that does not exist ...");
	is_int(rs.n, 0, "routes: ... is empty");

	k = time_dump(s, true, &nk);
	u = time_dump(s, false, &nu);
	ok(nk == NROUTES && nu == NROUTES, "routes: both ways find 2000 among 4000");
	diag("2000 ours among 4000 in main: kernel filter %.0f us, userspace filter %.0f us "
	     "(median of 31)", k, u);
	is_int(routes_put(s, RTM_DELROUTE, 101, RTPROT_STATIC), 0, "routes: static ones deleted");
	k = time_dump(s, true, &nk);
	u = time_dump(s, false, &nu);
	ok(nk == NROUTES && nu == NROUTES, "routes: both ways find 2000 alone");
	diag("2000 ours alone in main: kernel filter %.0f us, userspace filter %.0f us", k, u);
	is_int(routes_put(s, RTM_DELROUTE, 100, 0), 0, "routes: ours deleted");
	f = (struct rtnl_route_filter){ .protocol = RTNL_PROTO_VIRGIL };
	rs = (struct route_seen){ 0 };
	is_int(rtnl_route_del(s, &six, &eb), 0, "routes: IPv6 one deleted");
	is_int(rtnl_route_dump_filter(s, &f, route_cb, route_restart, &rs, &eb), 0,
	       "routes: dump protocol 86");
	is_int(rs.n, 0, "routes: none of ours left");
}

/* ---- two nodes, one ping ---------------------------------------------------------------- */

static uint16_t inet_csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool echo_reply(const uint8_t *pkt, ssize_t n, uint16_t id, uint16_t seq)
{
	size_t ihl;
	const struct icmphdr *ic;

	if (n < (ssize_t)sizeof(struct iphdr))
		return false;
	ihl = (size_t)(pkt[0] & 15) * 4;
	if ((size_t)n < ihl + sizeof(*ic))
		return false;
	ic = (const struct icmphdr *)(const void *)(pkt + ihl);
	return ic->type == ICMP_ECHOREPLY && ntohs(ic->un.echo.id) == id &&
	       ntohs(ic->un.echo.sequence) == seq;
}

/* One ICMP echo from this namespace over a raw socket: 0 when the reply came in time. */
static int ping(const char *dst, int timeout_ms)
{
	static uint16_t seq;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct icmphdr req = { .type = ICMP_ECHO };
	uint16_t id = (uint16_t)getpid();
	uint8_t pkt[256];
	double end = now_us() + timeout_ms * 1e3;
	int fd, r = -ETIMEDOUT;

	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0)
		return -errno;
	inet_pton(AF_INET, dst, &sa.sin_addr);
	req.un.echo.id = htons(id);
	req.un.echo.sequence = htons(++seq);
	req.checksum = htons(inet_csum(&req, sizeof(req)));
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	while (r == -ETIMEDOUT && now_us() < end) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pf, 1, (int)((end - now_us()) / 1e3) + 1) <= 0)
			continue;
		n = recvfrom(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
		if (from.sin_addr.s_addr == sa.sin_addr.s_addr && echo_reply(pkt, n, id, seq))
			r = 0;
	}
	close(fd);
	return r;
}

/* One end of a tunnel: what node `me` programs to reach `peer`. */
struct end {
	const char *local, *inner, *net;
	const uint8_t *mac;
};

struct tunnel {
	const char *name;
	uint32_t vni;
	uint32_t mtu;
	struct end a, b;
	const char *target;     /* on B's lo: the address behind B's tunnel end */
};

static const struct tunnel tun4 = {
	"vx0", 42, 1450,
	{ "192.168.77.1", "10.244.0.1/32", "10.244.0.0/24", mac_a0 },
	{ "192.168.77.2", "10.244.1.1/32", "10.244.1.0/24", mac_b0 },
	"10.244.1.5",
};

static const struct tunnel tun6 = {
	"vx6", 60, 1430,
	{ "fd77::1", "10.245.0.1/32", "10.245.0.0/24", mac_a6 },
	{ "fd77::2", "10.245.1.1/32", "10.245.1.0/24", mac_b6 },
	"10.245.1.5",
};

/* Everything the agent programs on one node for one peer, with the functions under test. */
static int program(struct node *me, const struct tunnel *t, const struct end *my,
		   const struct end *peer, int *vx)
{
	struct rtnl_vxlan x = { .name = t->name, .vni = t->vni, .local = ip(my->local),
				.link = me->ul, .mac = my->mac, .mtu = t->mtu };
	struct cidr inner = net(my->inner), pinner = net(peer->inner);
	struct ipaddr premote = ip(peer->local);
	struct rtnl_route r = { .dst = net(peer->net), .gw = pinner.addr, .has_gw = true,
				.onlink = true };
	struct rtnl_link l;
	struct ebuf eb = { "" };
	int err;

	cidr_first(&r.dst, &r.dst.addr);
	err = rtnl_vxlan_ensure(&me->s, &x, &l, &eb);
	r.oif = *vx = l.ifindex;
	if (!err)
		err = rtnl_addr_add(&me->s, l.ifindex, &inner, 0, &eb);
	if (!err)
		err = rtnl_fdb_set(&me->s, l.ifindex, peer->mac, &premote, &eb);
	if (!err)
		err = rtnl_neigh_set(&me->s, l.ifindex, &pinner.addr, peer->mac, &eb);
	if (!err)
		err = rtnl_route_add(&me->s, &r, NLM_F_CREATE | NLM_F_REPLACE, &eb);
	if (err)
		diag("program %s: %s", t->name, eb.msg);
	return err;
}

static int ping_tries(const char *dst)
{
	int i, r = -ETIMEDOUT;

	/* the underlay resolves its neighbour on the first packet; the kernel queues it */
	for (i = 0; i < 3 && r; i++)
		r = ping(dst, 1000);
	return r;
}

static void tunnel_case(struct node *a, struct node *b, const struct tunnel *t)
{
	struct cidr target = { ip(t->target), 32 };
	struct ebuf eb = { "" };
	char what[96];
	int vxa = 0, vxb = 0;

	snprintf(what, sizeof(what), "%s: node A programmed", t->name);
	is_int(program(a, t, &t->a, &t->b, &vxa), 0, what);
	snprintf(what, sizeof(what), "%s: node B programmed", t->name);
	is_int(program(b, t, &t->b, &t->a, &vxb), 0, what);
	is_int(rtnl_addr_add(&b->s, 1, &target, 0, &eb), 0, "target address on B's lo");
	snprintf(what, sizeof(what), "%s: A pings %s behind B's tunnel end", t->name, t->target);
	is_int(ping_tries(t->target), 0, what);
	is_int(rtnl_fdb_del(&a->s, vxa, t->b.mac, &eb), 0, "A drops its fdb entry for B");
	snprintf(what, sizeof(what), "%s: without it the ping fails", t->name);
	is_int(ping(t->target, 500), -ETIMEDOUT, what);
	is_int(rtnl_fdb_set(&a->s, vxa, t->b.mac, &(struct ipaddr){ 0 }, &eb), -EINVAL,
	       "fdb_set: a remote of no family is -EINVAL");
	{
		struct ipaddr rb = ip(t->b.local);

		is_int(rtnl_fdb_set(&a->s, vxa, t->b.mac, &rb, &eb), 0, "A restores it");
	}
	snprintf(what, sizeof(what), "%s: the ping works again", t->name);
	is_int(ping_tries(t->target), 0, what);
}

/* Open + the agent's requests: the socket's allocation or any send may fail; only cleanly. */
static void fault_case(int ul)
{
	struct rtnl_vxlan x = { .name = "vx0", .vni = 42, .local = ip("192.168.77.1"),
				.link = ul, .mac = mac_a0, .mtu = 1450 };
	struct rtnl_route_filter f = { .protocol = RTNL_PROTO_VIRGIL };
	struct ipaddr d = ip("192.168.77.2");
	struct neigh_seen ns;
	struct fdb_seen fs;
	struct route_seen rs;
	struct rtnl_link l;
	unsigned long n;
	int bad = 0, ok0 = 0;

	for (n = 1;; n++) {
		struct nlsock s;
		int r;

		fault_reset(n);
		r = nlsock_open(&s, NETLINK_ROUTE);
		if (!r) {
			r = rtnl_vxlan_ensure(&s, &x, &l, NULL);
			if (!r)
				r = rtnl_fdb_set(&s, l.ifindex, mac_b0, &d, NULL);
			if (!r)
				r = rtnl_fdb_dump(&s, l.ifindex, fdb_cb, fdb_restart, &fs, NULL);
			if (!r)
				r = rtnl_neigh_dump(&s, AF_UNSPEC, l.ifindex, neigh_cb,
						    neigh_restart, &ns, NULL);
			if (!r)
				r = rtnl_route_dump_filter(&s, &f, route_cb, route_restart, &rs,
							   NULL);
			nlsock_close(&s);
		}
		ok0 += r == 0;
		bad += r != 0 && r != -ENOMEM && r != -ENOBUFS;
		if (fault_reset(0) < n)
			break;
	}
	is_int(bad, 0, "fault injection: ensure, fdb, dumps fail only with ENOMEM/ENOBUFS");
	is_int(ok0, 1, "fault injection: and succeed once nothing fails");
}

static void kernel_tests(void)
{
	struct node a = { .s = { .fd = -1 } }, b = { .s = { .fd = -1 } };
	struct rtnl_link vx0, vx6;
	struct ebuf eb = { "" };
	int r = netns_pair(&ns_a, &ns_b);

	is_int(r, 0, "two private namespaces (needs root)");
	if (r)
		return;
	is_int(nlsock_open(&a.s, NETLINK_ROUTE), 0, "node A socket");
	is_int(netns_socket(ns_b, ns_a, &b.s), 0, "node B socket, opened inside B");
	r = underlay(&a, &b);
	is_int(r, 0, "underlay veth between the nodes, addressed");
	if (r)
		goto out;
	if (vxlan_case(&a) == 0 && !rtnl_link_get(&a.s, "vx0", &vx0, &eb) &&
	    !rtnl_link_get(&a.s, "vx6", &vx6, &eb)) {
		fdb_case(&a.s, vx0.ifindex, vx6.ifindex);
		neigh_case(&a.s, vx0.ifindex, a.ul);
	}
	route_filter_case(&a.s);
	tunnel_case(&a, &b, &tun4);
	tunnel_case(&a, &b, &tun6);
	fault_case(a.ul);
out:
	nlsock_close(&a.s);
	nlsock_close(&b.s);
}

int main(void)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	test_put_vxlan();
	test_put_fdb_neigh();
	test_put_dumps();
#endif
	test_put_errors();
	test_parse_table();
	test_parse_values();
	test_roundtrip();
	test_matches();
	kernel_tests();
	return tap_done();
}
