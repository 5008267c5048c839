// SPDX-License-Identifier: MIT
/*
 * noderoutes_read.c: the kernel's view for a reconcile pass (noderoutes_int.h). Before
 * planning: our VXLAN devices as they are, the on-link prefixes and the uplinks holding our
 * InternalIPs with their MTUs. After the devices are made: the routes of our protocol outside
 * our own podCIDRs, and the neighbour and fdb entries on our VXLAN devices. A dump that is
 * interrupted starts its list again (the restart callbacks), so a pass sees one whole view.
 */
#include <errno.h>
#include <string.h>

#include "../base/err.h"
#include "../core/cidr.h"
#include "../core/k8sobj.h"
#include "../core/routes.h"
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "noderoutes_int.h"

#define LOOPBACK_IFINDEX 1      /* the kernel registers lo first in every namespace */

/* ---- the local view --------------------------------------------------------------------- */

/* Our VXLAN devices as they are. A link of another kind with our name is an error: it is
 * not ours to delete. */
int noderoutes_read_links(struct noderoutes_pass *p)
{
	struct ebuf why = { "" };
	int f, r;

	for (f = 0; f < ROUTES_NFAM; f++) {
		r = rtnl_link_get(&p->nr->s, p->nr->name[f], &p->link[f], &why);
		if (r == -ENODEV)
			continue;
		if (!r && strcmp(p->link[f].kind, "vxlan")) {
			ebuf_set(&why, "link %s exists and is not a VXLAN device (kind \"%s\")",
				 p->nr->name[f], p->link[f].kind);
			r = -EEXIST;
		}
		if (r) {
			noderoutes_fail(p, r, &why);
			return r;
		}
		p->vx[f] = p->link[f].ifindex;
	}
	return 0;
}

static bool is_vx(const struct noderoutes_pass *p, int ifindex)
{
	return ifindex == p->vx[ROUTES_V4] || ifindex == p->vx[ROUTES_V6];
}

static void addr_restart(void *ctx)
{
	struct noderoutes_pass *p = ctx;

	p->npfx = 0;
	p->uplink[ROUTES_V4] = p->uplink[ROUTES_V6] = 0;
}

static int addr_cb(const struct rtnl_addr *a, void *ctx)
{
	struct noderoutes_pass *p = ctx;
	int f = k8sobj_slot(a->addr.addr.family);
	struct routes_prefix *v;

	if (f < 0 || a->ifindex == LOOPBACK_IFINDEX || is_vx(p, a->ifindex))
		return 0;
	if (!p->uplink[f] && ipaddr_eq(&a->addr.addr, &p->self->internal_ip[f]))
		p->uplink[f] = a->ifindex;
	if (a->scope != RT_SCOPE_UNIVERSE)
		return 0;
	v = noderoutes_grow(p->pfx, &p->cap_pfx, p->npfx, sizeof(*p->pfx));
	if (!v)
		return -ENOMEM;
	p->pfx = v;
	v[p->npfx] = (struct routes_prefix){ .net = a->addr, .ifindex = a->ifindex };
	cidr_first(&v[p->npfx].net, &v[p->npfx].net.addr);
	p->npfx++;
	return 0;
}

int noderoutes_read_uplinks(struct noderoutes_pass *p)
{
	struct ebuf why = { "" };
	struct rtnl_link l;
	int f, r;

	r = rtnl_addr_dump(&p->nr->s, AF_UNSPEC, addr_cb, addr_restart, p, &why);
	for (f = 0; f < ROUTES_NFAM && !r; f++) {
		if (!p->uplink[f])
			continue;
		if (f == ROUTES_V6 && p->uplink[f] == p->uplink[ROUTES_V4]) {
			p->mtu[f] = p->mtu[ROUTES_V4];
			continue;
		}
		r = rtnl_link_get_index(&p->nr->s, p->uplink[f], &l, &why);
		if (r == -ENODEV) /* gone since the address dump: unknown for this pass */
			r = 0;
		else if (!r)
			p->mtu[f] = l.mtu;
	}
	if (r)
		noderoutes_fail(p, r, &why);
	return r;
}

/* ---- the kernel's view ------------------------------------------------------------------ */

static bool in_own_pods(const struct noderoutes_pass *p, const struct cidr *dst)
{
	const struct cidr *pod;
	int f;

	for (f = 0; f < ROUTES_NFAM; f++) {
		pod = &p->self->pod_cidr[f];
		if (pod->addr.family && dst->prefix >= pod->prefix &&
		    cidr_contains(pod, &dst->addr))
			return true;
	}
	return false;
}

static void route_restart(void *ctx)
{
	((struct noderoutes_pass *)ctx)->have.nroute = 0;
}

static int route_cb(const struct rtnl_route *r, void *ctx)
{
	struct noderoutes_pass *p = ctx;
	struct routes_route *v;

	/* a pod's host route has no gateway: the CNI plugin's, not ours */
	if (!r->has_gw || r->type != RTN_UNICAST || in_own_pods(p, &r->dst))
		return 0;
	v = noderoutes_grow(p->have.route, &p->cap_route, p->have.nroute, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->have.route = v;
	v[p->have.nroute++] = (struct routes_route){ .dst = r->dst, .gw = r->gw, .oif = r->oif,
						     .table = r->table, .metric = r->priority,
						     .onlink = r->onlink };
	return 0;
}

static void neigh_restart(void *ctx)
{
	struct noderoutes_pass *p = ctx;

	p->have.nneigh = p->mark;
}

static int neigh_cb(const struct rtnl_neigh *n, void *ctx)
{
	struct noderoutes_pass *p = ctx;
	struct routes_neigh *v;

	v = noderoutes_grow(p->have.neigh, &p->cap_neigh, p->have.nneigh, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->have.neigh = v;
	v += p->have.nneigh++;
	*v = (struct routes_neigh){ .ifindex = n->ifindex, .ip = n->ip };
	/* an entry the kernel made (reachable, stale...) may expire: seen as not ours, so a
	 * wanted one is written again as permanent and an unwanted one is left to age out */
	if (n->state & NUD_PERMANENT)
		memcpy(v->mac, n->mac, sizeof(v->mac));
	return 0;
}

static void fdb_restart(void *ctx)
{
	struct noderoutes_pass *p = ctx;

	p->have.nfdb = p->mark;
}

static int fdb_cb(const struct rtnl_fdb *e, void *ctx)
{
	struct noderoutes_pass *p = ctx;
	struct routes_fdb *v;

	if (!e->dst.family)
		return 0;
	v = noderoutes_grow(p->have.fdb, &p->cap_fdb, p->have.nfdb, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->have.fdb = v;
	v += p->have.nfdb++;
	*v = (struct routes_fdb){ .ifindex = e->ifindex, .dst = e->dst };
	memcpy(v->mac, e->mac, sizeof(v->mac));
	return 0;
}

int noderoutes_observe(struct noderoutes_pass *p)
{
	struct rtnl_route_filter rf = { .family = AF_UNSPEC, .table = RT_TABLE_MAIN,
					.protocol = RTNL_PROTO_VIRGIL };
	struct nlsock *s = &p->nr->s;
	struct ebuf why = { "" };
	int f, r;

	r = rtnl_route_dump_filter(s, &rf, route_cb, route_restart, p, &why);
	for (f = 0; f < ROUTES_NFAM && !r; f++) {
		if (!p->vx[f])
			continue;
		p->mark = p->have.nneigh;
		r = rtnl_neigh_dump(s, AF_UNSPEC, p->vx[f], neigh_cb, neigh_restart, p, &why);
		p->mark = p->have.nfdb;
		if (!r)
			r = rtnl_fdb_dump(s, p->vx[f], fdb_cb, fdb_restart, p, &why);
	}
	if (r)
		noderoutes_fail(p, r, &why);
	return r;
}
