// SPDX-License-Identifier: MIT
/* deps: nl/rtnl.c nl/rtnl_link.c nl/rtnl_neigh.c nl/nlsock.c nl/nlmsg.c core/cidr.c base/err.c base/mem.c */
/*
 * fuzz_rtnl.c: the input is a dump as the kernel would send it (messages back to back); each
 * message goes through all five rtnetlink parsers, and what they accept must hold up: names
 * terminated and short, prefixes within their family, addresses of a known family, VNIs of
 * 24 bits. What the fdb, neighbour and VXLAN parsers accept must also survive a round trip
 * through our own builders. Seeds are recorded link (veth, vxlan), address, route, fdb and
 * neighbour dumps from a private namespace.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/neighbour.h>

#include "base/err.h"
#include "nl/nlmsg.h"
#include "nl/rtnl.h"
#include "fuzz_util.h"

static void check_link(const struct rtnl_link *l)
{
	if (l->ifindex <= 0 || l->link < 0 || !memchr(l->name, 0, sizeof(l->name)) ||
	    !l->name[0] || !memchr(l->kind, 0, sizeof(l->kind)))
		__builtin_trap();
}

static bool family_ok(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* The parsed vxlan info, built back into a request and parsed again, is the same. */
static void roundtrip_vxlan(const struct rtnl_link *l)
{
	const struct rtnl_vxlan_info *x = &l->vxlan;
	struct rtnl_vxlan v = { .name = l->name, .vni = x->vni, .local = x->local,
				.link = x->link, .port = x->port, .mtu = l->mtu };
	uint64_t buf[64];
	struct rtnl_link back;
	struct ebuf why;
	struct nlb b;

	if (!family_ok(x->local.family))
		return;
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_vxlan(&b, &v);
	if (nlb_err(&b))
		__builtin_trap();
	((struct ifinfomsg *)NLMSG_DATA(b.nlh))->ifi_index = l->ifindex;
	if (rtnl_parse_link(b.nlh, &back) || !back.has_vxlan || back.vxlan.vni != x->vni ||
	    !ipaddr_eq(&back.vxlan.local, &x->local) || back.vxlan.link != x->link ||
	    (x->port && back.vxlan.port != x->port) || back.vxlan.learning)
		__builtin_trap();
	if (!rtnl_vxlan_matches(&back, &v, &why))
		__builtin_trap();
	/* the original differs only where the builder always writes its own value */
	if (rtnl_vxlan_matches(l, &v, &why) != (!x->learning && x->port))
		__builtin_trap();
	/* the difference text of arbitrary values stays within its buffer */
	rtnl_vxlan_matches(l, &(struct rtnl_vxlan){ .name = "vx0", .vni = 1, .mtu = 9000 }, &why);
}

static void check_vxlan(const struct rtnl_link *l)
{
	const struct rtnl_vxlan_info *x = &l->vxlan;

	if (!l->has_vxlan)
		return;
	if (strcmp(l->kind, "vxlan") || x->vni > RTNL_VXLAN_VNI_MAX || x->link < 0 ||
	    (x->local.family && !family_ok(x->local.family)))
		__builtin_trap();
	roundtrip_vxlan(l);
}

static void check_neigh(const struct rtnl_neigh *n)
{
	uint64_t buf[16];
	struct rtnl_neigh back;
	struct nlb b;

	if (n->ifindex <= 0 || !family_ok(n->ip.family))
		__builtin_trap();
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh(&b, n->ifindex, &n->ip, n->mac);
	if (nlb_err(&b) || rtnl_parse_neigh(b.nlh, &back) || !ipaddr_eq(&back.ip, &n->ip) ||
	    memcmp(back.mac, n->mac, 6) || back.ifindex != n->ifindex)
		__builtin_trap();
}

static void check_fdb(const struct rtnl_fdb *f)
{
	uint64_t buf[16];
	struct rtnl_fdb back;
	struct nlb b;

	if (f->ifindex <= 0 || (f->dst.family && !family_ok(f->dst.family)) ||
	    f->vni > UINT32_MAX)
		__builtin_trap();
	if (!f->dst.family)
		return;
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_NEWNEIGH, f->ifindex, f->mac, &f->dst);
	if (nlb_err(&b) || rtnl_parse_fdb(b.nlh, &back) || !ipaddr_eq(&back.dst, &f->dst) ||
	    memcmp(back.mac, f->mac, 6) || back.ifindex != f->ifindex)
		__builtin_trap();
}

static void check_cidr(const struct cidr *c)
{
	size_t n = ipaddr_len(c->addr.family);

	if (!n || c->prefix > 8 * n)
		__builtin_trap();
}

static void check_route(const struct rtnl_route *r)
{
	check_cidr(&r->dst);
	if (r->oif < 0 || (r->has_gw && r->gw.family != r->dst.addr.family))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh;
	struct rtnl_link l;
	struct rtnl_addr a;
	struct rtnl_route r;
	struct rtnl_neigh n;
	struct rtnl_fdb f;
	size_t left;
	/* a receive buffer is aligned; libFuzzer's copy usually is too, but do not rely on it */
	void *buf = fuzz_dup(data, size);

	for_each_nlmsg(nlh, buf, size, left) {
		if (rtnl_parse_link(nlh, &l) == 0) {
			check_link(&l);
			check_vxlan(&l);
		}
		if (rtnl_parse_addr(nlh, &a) == 0) {
			check_cidr(&a.addr);
			if (a.ifindex <= 0)
				__builtin_trap();
		}
		if (rtnl_parse_route(nlh, &r) == 0)
			check_route(&r);
		if (rtnl_parse_neigh(nlh, &n) == 0)
			check_neigh(&n);
		if (rtnl_parse_fdb(nlh, &f) == 0)
			check_fdb(&f);
	}
	free(buf);
	return 0;
}
