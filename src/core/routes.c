// SPDX-License-Identifier: MIT
/*
 * routes.c: the node route planner and its diff (see routes.h). Planning builds one "leg"
 * per (node, podCIDR), decides direct or VXLAN, then settles conflicts by sorting: equal
 * podCIDRs end up adjacent in one order, equal VTEP MACs in another, so both checks are
 * O(n log n) and keep the node whose name sorts first. The diff sorts both sets by identity
 * and merges them, once per object kind, through a small table of comparators.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/mem.h"
#include "routes.h"

static const uint8_t vtep_prefix[2] = { 0x0e, 0x56 };

/* qsort's arguments are declared nonnull even for an empty array */
static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

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

static int cidr_cmp(const struct cidr *a, const struct cidr *b)
{
	int c = ipaddr_cmp(&a->addr, &b->addr);

	return c ? c : (int)a->prefix - (int)b->prefix;
}

static int leg_by_node(const struct leg *a, const struct leg *b)
{
	int c = strcmp(a->node->name, b->node->name);

	return c ? c : ipaddr_cmp(&a->peer, &b->peer);
}

static int leg_by_dst(const void *pa, const void *pb)
{
	const struct leg *a = pa, *b = pb;
	int c = cidr_cmp(&a->dst, &b->dst);

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

	sort(pl->leg, pl->nleg, sizeof(*pl->leg), cmp);
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
	return cidr_cmp(&a->dst, &b->dst) == 0;
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
		sort(out->skip, out->nskip, sizeof(*out->skip), skip_cmp);
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

/* ---- normalising and ordering ------------------------------------------------------------ */

static int u32_cmp(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

static int route_key(const void *pa, const void *pb)
{
	const struct routes_route *a = pa, *b = pb;
	int c = u32_cmp(a->table, b->table);

	return c ? c : cidr_cmp(&a->dst, &b->dst);
}

static int route_full(const void *pa, const void *pb)
{
	const struct routes_route *a = pa, *b = pb;
	int c = route_key(a, b);

	if (!c)
		c = u32_cmp(a->metric, b->metric);
	if (!c)
		c = ipaddr_cmp(&a->gw, &b->gw);
	if (!c)
		c = a->oif != b->oif ? (a->oif < b->oif ? -1 : 1) : 0;
	return c ? c : (int)a->onlink - (int)b->onlink;
}

/* A replace with a hits b in place: the kernel keys routes on the metric too. */
static bool route_samekey(const void *a, const void *b)
{
	return ((const struct routes_route *)a)->metric == ((const struct routes_route *)b)->metric;
}

static int neigh_key(const void *pa, const void *pb)
{
	const struct routes_neigh *a = pa, *b = pb;

	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	return ipaddr_cmp(&a->ip, &b->ip);
}

static int neigh_full(const void *pa, const void *pb)
{
	const struct routes_neigh *a = pa, *b = pb;
	int c = neigh_key(a, b);

	return c ? c : memcmp(a->mac, b->mac, 6);
}

static int fdb_full(const void *pa, const void *pb)
{
	const struct routes_fdb *a = pa, *b = pb;
	int c;

	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	c = memcmp(a->mac, b->mac, 6);
	return c ? c : ipaddr_cmp(&a->dst, &b->dst);
}

static bool neigh_ours(const void *p)
{
	return routes_is_vtep_mac(((const struct routes_neigh *)p)->mac);
}

static bool fdb_ours(const void *p)
{
	return routes_is_vtep_mac(((const struct routes_fdb *)p)->mac);
}

void routes_set_normalise(struct routes_set *s)
{
	struct routes_route *r;
	size_t i;

	for (i = 0; i < s->nroute; i++) {
		r = &s->route[i];
		if (!r->table)
			r->table = ROUTES_TABLE_MAIN;
		if (r->dst.addr.family == AF_INET6 && !r->metric)
			r->metric = ROUTES_V6_METRIC;
		cidr_first(&r->dst, &r->dst.addr);
	}
	sort(s->route, s->nroute, sizeof(*s->route), route_full);
	sort(s->neigh, s->nneigh, sizeof(*s->neigh), neigh_full);
	sort(s->fdb, s->nfdb, sizeof(*s->fdb), fdb_full);
}

/* ---- diff ------------------------------------------------------------------------------ */

struct kind {
	enum routes_obj obj;
	size_t size;
	int (*key)(const void *, const void *);         /* identity order */
	int (*full)(const void *, const void *);        /* identity, then payload */
	bool (*samekey)(const void *want, const void *have);    /* NULL: always */
	bool (*ours)(const void *have);                         /* NULL: always */
};

static const struct kind kinds[] = {
	{ ROUTES_OBJ_FDB, sizeof(struct routes_fdb), fdb_full, fdb_full, NULL, fdb_ours },
	{ ROUTES_OBJ_NEIGH, sizeof(struct routes_neigh), neigh_key, neigh_full, NULL, neigh_ours },
	{ ROUTES_OBJ_ROUTE, sizeof(struct routes_route), route_key, route_full, route_samekey,
	  NULL },
};

static bool ours(const struct kind *k, const void *have)
{
	return !k->ours || k->ours(have);
}

static bool samekey(const struct kind *k, const void *want, const void *have)
{
	return !k->samekey || k->samekey(want, have);
}

struct differ {
	struct routes_ops *out;
	struct routes_op *dels;
	size_t ndels;
};

static void put_op(struct routes_op *op, const struct kind *k, enum routes_op_kind kind,
		   const void *item, const void *old)
{
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->obj = k->obj;
	memcpy(&op->item, item, k->size);
	if (old)
		memcpy(&op->old, old, k->size);
}

static void add_op(struct differ *d, const struct kind *k, enum routes_op_kind kind,
		   const void *item, const void *old)
{
	put_op(&d->out->v[d->out->n++], k, kind, item, old);
	if (kind == ROUTES_OP_ADD)
		d->out->nadd++;
	else
		d->out->nreplace++;
}

static void del_op(struct differ *d, const struct kind *k, const void *item)
{
	put_op(&d->dels[d->ndels++], k, ROUTES_OP_DEL, item, NULL);
}

/*
 * One wanted item against the n observed items with its identity (h, sorted). An exact
 * match means nothing to do; else the first with the same kernel key is replaced in place,
 * or the item is added. Observed items with another kernel key are deleted. Other same-key
 * items are left alone: only NLM_F_APPEND makes them, which we never send, and deleting one
 * could hit the wanted route (the kernel matches a delete on gateway and device, not flags).
 */
static void settle_group(struct differ *d, const struct kind *k, const void *want,
			 const char *h, size_t n)
{
	const void *exact = NULL, *old = NULL, *m;
	size_t i;

	for (i = 0; i < n; i++) {
		m = h + i * k->size;
		if (!ours(k, m))
			continue;
		if (!exact && !k->full(want, m))
			exact = m;
		if (!old && samekey(k, want, m))
			old = m;
	}
	if (!exact)
		add_op(d, k, old ? ROUTES_OP_REPLACE : ROUTES_OP_ADD, want, old);
	for (i = 0; i < n; i++) {
		m = h + i * k->size;
		if (ours(k, m) && m != exact && m != old && !samekey(k, want, m))
			del_op(d, k, m);
	}
}

/* Both arrays sorted by k->full, hence grouped by identity. */
static void merge(struct differ *d, const struct kind *k, const char *w, size_t nw,
		  const char *h, size_t nh)
{
	size_t i = 0, j = 0, g, sz = k->size;
	int c;

	while (i < nw || j < nh) {
		c = i == nw ? 1 : j == nh ? -1 : k->key(w + i * sz, h + j * sz);
		if (c > 0) {
			if (ours(k, h + j * sz))
				del_op(d, k, h + j * sz);
			j++;
			continue;
		}
		if (c < 0) {
			add_op(d, k, ROUTES_OP_ADD, w + i * sz, NULL);
		} else {
			for (g = j + 1; g < nh && !k->key(w + i * sz, h + g * sz); g++)
				;
			settle_group(d, k, w + i * sz, h + j * sz, g - j);
			j = g;
		}
		/* a duplicate identity in want: the first counts */
		for (i++; i < nw && !k->key(w + (i - 1) * sz, w + i * sz); i++)
			;
	}
}

int routes_diff(struct routes_set *want, struct routes_set *have, struct routes_ops *out)
{
	const void *w[] = { want->fdb, want->neigh, want->route };
	const void *h[] = { have->fdb, have->neigh, have->route };
	size_t nw[] = { want->nfdb, want->nneigh, want->nroute };
	size_t nh[] = { have->nfdb, have->nneigh, have->nroute };
	size_t cap = 1, start[ARRAY_SIZE(kinds) + 1], i;
	struct differ d = { .out = out };
	int k;

	memset(out, 0, sizeof(*out));
	routes_set_normalise(want);
	if (have != want)
		routes_set_normalise(have);
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		cap += nw[i] + nh[i];
	out->v = mem_calloc(cap, sizeof(*out->v));
	d.dels = mem_calloc(cap, sizeof(*d.dels));
	if (!out->v || !d.dels) {
		mem_free(d.dels);
		return -ENOMEM;
	}
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		start[i] = d.ndels;
		merge(&d, &kinds[i], w[i], nw[i], h[i], nh[i]);
	}
	start[i] = d.ndels;
	/* deletes undo in reverse: routes, then neighbours, then fdb entries */
	for (k = (int)ARRAY_SIZE(kinds) - 1; k >= 0; k--) {
		i = start[k + 1] - start[k];
		memcpy(out->v + out->n, d.dels + start[k], i * sizeof(*d.dels));
		out->n += i;
	}
	out->ndel = d.ndels;
	mem_free(d.dels);
	return 0;
}

void routes_ops_free(struct routes_ops *o)
{
	if (!o)
		return;
	mem_free(o->v);
	memset(o, 0, sizeof(*o));
}

/* ---- text ------------------------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t cap, n;
	bool over;
};

static void __printf(2, 3) sb_put(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (s->over)
		return;
	va_start(ap, fmt);
	r = vsnprintf(s->p + s->n, s->cap - s->n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= s->cap - s->n)
		s->over = true;
	else
		s->n += (size_t)r;
}

static const char *addr_txt(const struct ipaddr *a, char *buf)
{
	return ipaddr_format(a, buf, IPADDR_STRLEN) ? "?" : buf;
}

int routes_mac_format(const uint8_t m[6], char *out, size_t cap)
{
	int r = snprintf(out, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
			 m[5]);

	if (r < 0 || (size_t)r >= cap) {
		if (cap)
			out[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

static void fmt_route(struct sbuf *s, const struct routes_route *r)
{
	char a[IPADDR_STRLEN], d[CIDR_STRLEN];
	uint32_t def = r->dst.addr.family == AF_INET6 ? ROUTES_V6_METRIC : 0;

	sb_put(s, "route %s", cidr_format(&r->dst, d, sizeof(d)) ? "?" : d);
	if (r->gw.family)
		sb_put(s, " via %s", addr_txt(&r->gw, a));
	if (r->oif)
		sb_put(s, " dev %d", r->oif);
	if (r->onlink)
		sb_put(s, " onlink");
	if (r->table && r->table != ROUTES_TABLE_MAIN)
		sb_put(s, " table %u", (unsigned)r->table);
	if (r->metric && r->metric != def)
		sb_put(s, " metric %u", (unsigned)r->metric);
}

int routes_op_format(const struct routes_op *op, char *out, size_t cap)
{
	static const char *const verb[] = { "add", "replace", "del" };
	struct sbuf s = { .p = out, .cap = cap };
	char a[IPADDR_STRLEN], m[ROUTES_MAC_STRLEN];

	sb_put(&s, "%s ", verb[op->kind]);
	if (op->obj == ROUTES_OBJ_ROUTE) {
		fmt_route(&s, &op->item.route);
	} else if (op->obj == ROUTES_OBJ_NEIGH) {
		if (routes_mac_format(op->item.neigh.mac, m, sizeof(m)))
			m[0] = '\0';
		sb_put(&s, "neigh %s lladdr %s dev %d", addr_txt(&op->item.neigh.ip, a), m,
		       op->item.neigh.ifindex);
	} else {
		if (routes_mac_format(op->item.fdb.mac, m, sizeof(m)))
			m[0] = '\0';
		sb_put(&s, "fdb %s dst %s dev %d", m, addr_txt(&op->item.fdb.dst, a),
		       op->item.fdb.ifindex);
	}
	if (s.over) {
		if (cap)
			out[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

const char *routes_skip_str(enum routes_skip_reason why)
{
	static const char *const txt[ROUTES_SKIP_N] = {
		[ROUTES_SKIP_NO_PODCIDR] = "no podCIDR",
		[ROUTES_SKIP_NO_INTERNAL_IP] = "no InternalIP of this family",
		[ROUTES_SKIP_NO_LOCAL_IP] = "this node has no InternalIP of this family",
		[ROUTES_SKIP_NOT_ONLINK] = "direct mode, InternalIP not on-link",
		[ROUTES_SKIP_NO_VXLAN] = "needs VXLAN, no VXLAN device for this family",
		[ROUTES_SKIP_OVERLAP] = "podCIDR overlaps this node's",
		[ROUTES_SKIP_DUP_PODCIDR] = "podCIDR taken by another node",
		[ROUTES_SKIP_VTEP_CLASH] = "VTEP MAC or InternalIP clashes with another node's",
	};

	return (unsigned)why < ROUTES_SKIP_N ? txt[why] : "unknown";
}
