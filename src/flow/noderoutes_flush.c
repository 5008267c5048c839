// SPDX-License-Identifier: MIT
/*
 * noderoutes_flush.c: noderoutes_flush() (noderoutes.h), the clean-up for tests and by hand:
 * delete our VXLAN devices, then the routes of our protocol to a Node's podCIDR. The agent
 * never calls it: routes must survive a restart.
 */
#include <errno.h>
#include <string.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../core/cache.h"
#include "../core/cidr.h"
#include "../core/k8sobj.h"
#include "../core/routes.h"
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "noderoutes.h"
#include "noderoutes_int.h"

/* ---- flush ------------------------------------------------------------------------------ */

struct flush {
	const struct cache *nodes;
	struct rtnl_route *v;
	size_t n, cap;
};

static bool is_pod_cidr(const struct cache *nodes, const struct cidr *dst)
{
	const struct k8sobj_node *n;
	const struct k8sobj *o;
	struct cidr c;
	size_t pos;
	int f;

	cache_for_each(nodes, pos, o) {
		n = k8sobj_node(o);
		for (f = 0; n && f < ROUTES_NFAM; f++) {
			c = n->pod_cidr[f];
			cidr_first(&c, &c.addr);
			if (c.addr.family && c.prefix == dst->prefix &&
			    ipaddr_eq(&c.addr, &dst->addr))
				return true;
		}
	}
	return false;
}

static void flush_restart(void *ctx)
{
	((struct flush *)ctx)->n = 0;
}

static int flush_cb(const struct rtnl_route *r, void *ctx)
{
	struct flush *fl = ctx;
	struct rtnl_route *v;

	if (!is_pod_cidr(fl->nodes, &r->dst))
		return 0;
	v = noderoutes_grow(fl->v, &fl->cap, fl->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	fl->v = v;
	v[fl->n++] = *r;
	return 0;
}

/* Keep the first failure and its text. */
static void first(int *r, struct ebuf *eb, int e, const struct ebuf *why)
{
	if (!e || *r)
		return;
	*r = e;
	*eb = *why;
}

static void flush_devices(struct noderoutes *nr, unsigned *n, int *r, struct ebuf *eb)
{
	struct ebuf why = { "" };
	struct rtnl_link l;
	int f, e;

	for (f = 0; f < ROUTES_NFAM; f++) {
		e = rtnl_link_get(&nr->s, nr->name[f], &l, &why);
		if (!e && strcmp(l.kind, "vxlan"))
			continue; /* not ours */
		if (!e)
			e = rtnl_link_del(&nr->s, nr->name[f], &why);
		*n += !e;
		first(r, eb, e == -ENODEV ? 0 : e, &why);
	}
}

int noderoutes_flush(struct noderoutes *nr, const struct cache *nodes, unsigned *deleted,
		     struct ebuf *eb)
{
	struct rtnl_route_filter rf = { .family = AF_UNSPEC, .table = RT_TABLE_MAIN,
					.protocol = RTNL_PROTO_VIRGIL };
	struct flush fl = { .nodes = nodes };
	struct ebuf why = { "" }, err = { "" };
	unsigned n = 0;
	size_t i;
	int r = 0, e;

	flush_devices(nr, &n, &r, &err);
	e = rtnl_route_dump_filter(&nr->s, &rf, flush_cb, flush_restart, &fl, &why);
	if (e == -ENOMEM && ebuf_empty(&why))
		ebuf_set(&why, "out of memory");
	first(&r, &err, e, &why);
	for (i = 0; i < fl.n; i++) {
		e = rtnl_route_del(&nr->s, &fl.v[i], &why);
		n += !e;
		first(&r, &err, e, &why);
	}
	if (eb)
		*eb = err;
	if (deleted)
		*deleted = n;
	mem_free(fl.v);
	return r;
}
