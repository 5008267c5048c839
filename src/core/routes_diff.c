// SPDX-License-Identifier: MIT
/*
 * routes_diff.c: normalising route sets and diffing the planner's wanted set against the
 * kernel's (see routes.h). The diff sorts both sets by identity and merges them, once per
 * object kind, through a small table of comparators.
 */
#include <errno.h>
#include <string.h>

#include "../base/mem.h"
#include "routes.h"
#include "routes_int.h"

/* ---- normalising and ordering ------------------------------------------------------------ */

static int u32_cmp(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

static int route_key(const void *pa, const void *pb)
{
	const struct routes_route *a = pa, *b = pb;
	int c = u32_cmp(a->table, b->table);

	return c ? c : routes_cidr_cmp(&a->dst, &b->dst);
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
	routes_sort(s->route, s->nroute, sizeof(*s->route), route_full);
	routes_sort(s->neigh, s->nneigh, sizeof(*s->neigh), neigh_full);
	routes_sort(s->fdb, s->nfdb, sizeof(*s->fdb), fdb_full);
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
