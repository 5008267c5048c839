// SPDX-License-Identifier: MIT
/*
 * routes.c: the node route planner (see routes.h). Planning builds one "leg" per (node,
 * podCIDR), decides direct or VXLAN, then settles conflicts by sorting: equal podCIDRs end
 * up adjacent in one order, equal VTEP MACs in another, so both checks are O(n log n) and
 * keep the node whose name sorts first. The diff is in routes_diff.c, the text forms in
 * routes_fmt.c.
 */
#include <errno.h>
#include <string.h>

#include "../base/mem.h"
#include "routes.h"
#include "routes_int.h"

static const uint8_t vtep_prefix[2] = { 0x0e, 0x56 };

static int fam_af(int f)
{
	return f == ROUTES_V4 ? AF_INET : AF_INET6;
}

int routes_vtep_mac(const struct ipaddr *underlay, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	memcpy(mac, vtep_prefix, sizeof(vtep_prefix));
	if (underlay->family == AF_INET) {
		memcpy(mac + 2, underlay->a, 4);
		return 0;
	}
	if (underlay->family != AF_INET6)
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		h ^= underlay->a[i];
		h *= 0x100000001b3ull;
	}
	for (i = 0; i < 4; i++)
		mac[2 + i] = (uint8_t)(h >> (24 - 8 * i));
	return 0;
}

bool routes_is_vtep_mac(const uint8_t mac[6])
{
	return memcmp(mac, vtep_prefix, sizeof(vtep_prefix)) == 0;
}

/* ---- planning ------------------------------------------------------------------------ */

struct leg {
	const struct routes_node *node;
	int fam;
	struct cidr dst;        /* host bits cleared */
	struct ipaddr peer;     /* underlay */
	int oif;
	bool vxlan, dead;
	uint8_t mac[6];
};

struct planner {
	const struct routes_local *self;
	struct routes_plan *out;
	struct leg *leg;
	size_t nleg;
};

static void skip(struct planner *pl, const struct routes_node *nd, int af,
		 enum routes_skip_reason why)
{
	struct routes_plan *p = pl->out;

	p->skip[p->nskip++] = (struct routes_skip){ .node = nd->name, .family = (uint8_t)af,
						    .why = why };
	p->nskip_by[why]++;
}

/* ifindex of the longest of our on-link prefixes holding a, or 0. */
static int onlink_ifindex(const struct routes_local *self, const struct ipaddr *a)
{
	const struct routes_prefix *best = NULL, *p;
	size_t i;

	for (i = 0; i < self->nonlink; i++) {
		p = &self->onlink[i];
		if (cidr_contains(&p->net, a) && (!best || p->net.prefix > best->net.prefix))
			best = p;
	}
	return best ? best->ifindex : 0;
}

/* The MAC is that of one of our own VXLAN devices (same device, any family). */
static bool own_mac(const struct routes_local *self, int oif, const uint8_t mac[6])
{
	uint8_t m[6];
	int f;

	for (f = 0; f < ROUTES_NFAM; f++)
		if (self->vxlan_ifindex[f] == oif && !routes_vtep_mac(&self->ip[f], m) &&
		    !memcmp(m, mac, 6))
			return true;
	return false;
}

/* Direct or VXLAN for a leg whose addresses are known to be usable; else the skip reason. */
static int choose_path(const struct routes_local *self, struct leg *l)
{
	l->oif = self->mode == ROUTES_VXLAN ? 0 : onlink_ifindex(self, &l->peer);
	if (l->oif)
		return -1;
	if (self->mode == ROUTES_DIRECT)
		return ROUTES_SKIP_NOT_ONLINK;
	l->vxlan = true;
	l->oif = self->vxlan_ifindex[l->fam];
	if (!l->oif)
		return ROUTES_SKIP_NO_VXLAN;
	if (routes_vtep_mac(&l->peer, l->mac) || own_mac(self, l->oif, l->mac))
		return ROUTES_SKIP_VTEP_CLASH;
	return -1;
}

static bool overlaps_own(const struct routes_local *self, const struct cidr *c)
{
	int f;

	for (f = 0; f < ROUTES_NFAM; f++)
		if (self->pod[f].addr.family && cidr_overlaps(&self->pod[f], c))
			return true;
	return false;
}

static void plan_family(struct planner *pl, const struct routes_node *nd, int f)
{
	const struct routes_local *self = pl->self;
	struct leg *l = &pl->leg[pl->nleg];
	int af = fam_af(f), why = -1;

	if (!nd->ip[f].family)
		why = ROUTES_SKIP_NO_INTERNAL_IP;
	else if (!self->ip[f].family)
		why = ROUTES_SKIP_NO_LOCAL_IP;
	else if (overlaps_own(self, &nd->pod[f]))
		why = ROUTES_SKIP_OVERLAP;
	else if (ipaddr_eq(&nd->ip[f], &self->ip[f]))
		why = ROUTES_SKIP_VTEP_CLASH;
	if (why < 0) {
		*l = (struct leg){ .node = nd, .fam = f, .dst = nd->pod[f], .peer = nd->ip[f] };
		cidr_first(&nd->pod[f], &l->dst.addr);
		why = choose_path(self, l);
	}
	if (why >= 0)
		skip(pl, nd, af, (enum routes_skip_reason)why);
	else
		pl->nleg++;
}

static bool node_valid(const struct routes_node *nd)
{
	int f;

	for (f = 0; f < ROUTES_NFAM; f++) {
		if (nd->pod[f].addr.family && nd->pod[f].addr.family != fam_af(f))
			return false;
		if (nd->ip[f].family && nd->ip[f].family != fam_af(f))
			return false;
	}
	return nd->name != NULL;
}

static int plan_node(struct planner *pl, const struct routes_node *nd)
{
	int f;

	if (!node_valid(nd))
		return -EINVAL;
	if (!strcmp(nd->name, pl->self->name))
		return 0;
	if (!nd->pod[ROUTES_V4].addr.family && !nd->pod[ROUTES_V6].addr.family) {
		skip(pl, nd, 0, ROUTES_SKIP_NO_PODCIDR);
		return 0;
	}
	if (!nd->ip[ROUTES_V4].family && !nd->ip[ROUTES_V6].family) {
		skip(pl, nd, 0, ROUTES_SKIP_NO_INTERNAL_IP);
		return 0;
	}
	for (f = 0; f < ROUTES_NFAM; f++)
		if (nd->pod[f].addr.family)
			plan_family(pl, nd, f);
	return 0;
}

static int leg_by_node(const struct leg *a, const struct leg *b)
{
	int c = strcmp(a->node->name, b->node->name);

	return c ? c : ipaddr_cmp(&a->peer, &b->peer);
}

static int leg_by_dst(const void *pa, const void *pb)
{
	const struct leg *a = pa, *b = pb;
	int c = routes_cidr_cmp(&a->dst, &b->dst);

	return c ? c : leg_by_node(a, b);
}

/* Live VXLAN legs first, grouped by device and MAC. */
static int leg_by_mac(const void *pa, const void *pb)
{
	const struct leg *a = pa, *b = pb;
	bool la = a->vxlan && !a->dead, lb = b->vxlan && !b->dead;
	int c;

	if (la != lb)
		return la ? -1 : 1;
	if (a->oif != b->oif)
		return a->oif < b->oif ? -1 : 1;
	c = memcmp(a->mac, b->mac, 6);
	return c ? c : leg_by_node(a, b);
}

static void settle(struct planner *pl, int (*cmp)(const void *, const void *),
		   bool (*same)(const struct leg *, const struct leg *),
		   enum routes_skip_reason why)
{
	size_t i, keep = 0;

	routes_sort(pl->leg, pl->nleg, sizeof(*pl->leg), cmp);
	for (i = 1; i < pl->nleg; i++) {
		if (pl->leg[i].dead)
			continue;
		if (!pl->leg[keep].dead && same(&pl->leg[keep], &pl->leg[i])) {
			pl->leg[i].dead = true;
			skip(pl, pl->leg[i].node, fam_af(pl->leg[i].fam), why);
		} else {
			keep = i;
		}
	}
}

static bool same_dst(const struct leg *a, const struct leg *b)
{
	return routes_cidr_cmp(&a->dst, &b->dst) == 0;
}

static bool same_mac(const struct leg *a, const struct leg *b)
{
	return a->vxlan && b->vxlan && a->oif == b->oif && !memcmp(a->mac, b->mac, 6);
}

static void emit_leg(struct planner *pl, const struct leg *l)
{
	const struct routes_local *self = pl->self;
	struct routes_set *w = &pl->out->want;
	struct routes_route *r = &w->route[w->nroute++];

	*r = (struct routes_route){ .dst = l->dst, .gw = l->peer, .oif = l->oif,
				    .table = self->table, .metric = self->metric };
	if (!l->vxlan) {
		pl->out->ndirect++;
		return;
	}
	pl->out->nvxlan++;
	routes_vtep_gw(&l->dst, l->mac, &r->gw);
	r->onlink = true;
	w->neigh[w->nneigh] = (struct routes_neigh){ .ifindex = l->oif, .ip = r->gw };
	memcpy(w->neigh[w->nneigh++].mac, l->mac, 6);
	w->fdb[w->nfdb] = (struct routes_fdb){ .ifindex = l->oif, .dst = l->peer };
	memcpy(w->fdb[w->nfdb++].mac, l->mac, 6);
}

void routes_vtep_gw(const struct cidr *pod, const uint8_t mac[6], struct ipaddr *gw)
{
	if (pod->addr.family == AF_INET) {
		cidr_first(pod, gw);
		return;
	}
	/* fe80::/64 + modified EUI-64 of the MAC (RFC 4291 appendix A) */
	memset(gw, 0, sizeof(*gw));
	gw->family = AF_INET6;
	gw->a[0] = 0xfe;
	gw->a[1] = 0x80;
	gw->a[8] = (uint8_t)(mac[0] ^ 0x02);
	gw->a[9] = mac[1];
	gw->a[10] = mac[2];
	gw->a[11] = 0xff;
	gw->a[12] = 0xfe;
	gw->a[13] = mac[3];
	gw->a[14] = mac[4];
	gw->a[15] = mac[5];
}

static int skip_cmp(const void *pa, const void *pb)
{
	const struct routes_skip *a = pa, *b = pb;
	int c = strcmp(a->node, b->node);

	return c ? c : (int)a->family - (int)b->family;
}

static int plan_alloc(struct routes_plan *p, size_t n)
{
	size_t legs = 2 * n;

	if (n > SIZE_MAX / (4 * sizeof(struct routes_route)))
		return -ENOMEM;
	p->skip = mem_calloc(legs, sizeof(*p->skip));
	p->want.route = mem_calloc(legs, sizeof(*p->want.route));
	p->want.neigh = mem_calloc(legs, sizeof(*p->want.neigh));
	p->want.fdb = mem_calloc(legs, sizeof(*p->want.fdb));
	if (!p->skip || !p->want.route || !p->want.neigh || !p->want.fdb)
		return -ENOMEM;
	return 0;
}

int routes_plan(const struct routes_local *self, const struct routes_node *nodes, size_t n,
		struct routes_plan *out)
{
	struct planner pl = { .self = self, .out = out };
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = self->name ? plan_alloc(out, n) : -EINVAL;
	if (rc)
		return rc;
	/* a node yields at most one leg or skip per family: 2n bounds both */
	pl.leg = mem_calloc(2 * n, sizeof(*pl.leg));
	if (!pl.leg)
		return -ENOMEM;
	for (i = 0; i < n && !rc; i++)
		rc = plan_node(&pl, &nodes[i]);
	if (!rc) {
		settle(&pl, leg_by_dst, same_dst, ROUTES_SKIP_DUP_PODCIDR);
		settle(&pl, leg_by_mac, same_mac, ROUTES_SKIP_VTEP_CLASH);
		for (i = 0; i < pl.nleg; i++)
			if (!pl.leg[i].dead)
				emit_leg(&pl, &pl.leg[i]);
		routes_set_normalise(&out->want);
		routes_sort(out->skip, out->nskip, sizeof(*out->skip), skip_cmp);
	}
	mem_free(pl.leg);
	return rc;
}

void routes_set_free(struct routes_set *s)
{
	if (!s)
		return;
	mem_free(s->route);
	mem_free(s->neigh);
	mem_free(s->fdb);
	memset(s, 0, sizeof(*s));
}

void routes_plan_free(struct routes_plan *p)
{
	if (!p)
		return;
	routes_set_free(&p->want);
	mem_free(p->skip);
	memset(p, 0, sizeof(*p));
}
