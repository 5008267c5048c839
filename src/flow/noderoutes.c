// SPDX-License-Identifier: MIT
/*
 * noderoutes.c: the agent's route reconciler (see noderoutes.h). A pass is a straight line:
 * read the local view (our VXLAN devices, addresses, uplink MTUs), plan from the Node cache,
 * make the VXLAN devices the plan needs (planning again if one changed its ifindex), dump
 * what the kernel holds, diff, and send the operations in batches. Everything up to the
 * dumps must succeed or the pass stops without touching routes: the reconciler never acts
 * on a partial view. From there on it is best effort, and the first failure is reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>

#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../core/cache.h"
#include "../core/cidr.h"
#include "../core/k8sobj.h"
#include "../core/routes.h"
#include "../nl/nlmsg.h"
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "noderoutes.h"

_Static_assert((int)K8SOBJ_V4 == (int)ROUTES_V4 && (int)K8SOBJ_V6 == (int)ROUTES_V6,
	       "family slots differ");

#define LOOPBACK_IFINDEX 1      /* the kernel registers lo first in every namespace */
#define BATCH_OPS 512           /* messages per sendmsg */
#define OP_MAX_BYTES 192        /* an IPv6 route with every attribute is ~110 bytes */
#define BATCH_BYTES (BATCH_OPS * OP_MAX_BYTES)

struct noderoutes {
	enum noderoutes_mode mode;
	char name[ROUTES_NFAM][IFNAMSIZ];
	uint32_t vni;
	uint16_t port;
	struct nlsock s;
	char *batch;                    /* BATCH_BYTES */
	size_t idx[BATCH_OPS];          /* batch message → op index */
	char fail[EBUF_SIZE];           /* the failure last logged, "" while healthy */
	unsigned nfail;                 /* failed passes since the last success */
};

struct pass {
	struct noderoutes *nr;
	const struct k8sobj_node *self;
	struct noderoutes_stats *st;
	struct ebuf eb;                 /* the first failure */
	int err;
	struct rtnl_link link[ROUTES_NFAM];
	int vx[ROUTES_NFAM];            /* our VXLAN devices, 0 = absent */
	int planned[ROUTES_NFAM];       /* the vx[] the current plan was made with */
	int uplink[ROUTES_NFAM];
	uint32_t mtu[ROUTES_NFAM];      /* the uplinks' MTU, 0 = unknown */
	bool need[ROUTES_NFAM];
	struct routes_prefix *pfx;
	size_t npfx, cap_pfx;
	struct routes_node *nodes;
	size_t nnodes;
	struct routes_plan plan;
	struct routes_set have;
	size_t cap_route, cap_neigh, cap_fdb, mark;
	struct routes_ops ops;
};

static const uint32_t overhead[ROUTES_NFAM] = { NODEROUTES_VXLAN_OVERHEAD4,
						NODEROUTES_VXLAN_OVERHEAD6 };

/* Room for element n of an array of cap elements: the array (maybe moved), or NULL. */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *nv;

	if (n < *cap)
		return v;
	if (c > SIZE_MAX / size)
		return NULL;
	nv = mem_realloc(v, c * size);
	if (nv)
		*cap = c;
	return nv;
}

/* Record a best-effort failure: the first one is what the pass returns. */
static void fail(struct pass *p, int err, const struct ebuf *why)
{
	if (p->err)
		return;
	p->err = err;
	ebuf_set(&p->eb, "%s", ebuf_empty(why) ? strerror(-err) : why->msg);
}

/* ---- setup ------------------------------------------------------------------------------ */

static int copy_name(char *dst, const char *src, const char *def, struct ebuf *eb)
{
	size_t n;

	if (!src)
		src = def;
	n = strlen(src);
	if (n == 0 || n >= IFNAMSIZ || strchr(src, '/') || strchr(src, ' ')) {
		ebuf_set(eb, "bad VXLAN device name \"%s\"", src);
		return -EINVAL;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

static int take_cfg(struct noderoutes *nr, const struct noderoutes_cfg *cfg, struct ebuf *eb)
{
	static const struct noderoutes_cfg none = { .mode = NODEROUTES_AUTO };
	int r;

	if (!cfg)
		cfg = &none;
	if ((unsigned)cfg->mode > NODEROUTES_VXLAN || cfg->vni > RTNL_VXLAN_VNI_MAX) {
		ebuf_set(eb, "bad mode %d or VNI %u", (int)cfg->mode, (unsigned)cfg->vni);
		return -EINVAL;
	}
	nr->mode = cfg->mode;
	nr->vni = cfg->vni ? cfg->vni : NODEROUTES_VNI;
	nr->port = cfg->port ? cfg->port : RTNL_VXLAN_PORT;
	r = copy_name(nr->name[ROUTES_V4], cfg->vxlan4, NODEROUTES_VXLAN4, eb);
	if (!r)
		r = copy_name(nr->name[ROUTES_V6], cfg->vxlan6, NODEROUTES_VXLAN6, eb);
	if (!r && !strcmp(nr->name[ROUTES_V4], nr->name[ROUTES_V6])) {
		ebuf_set(eb, "the IPv4 and IPv6 VXLAN devices need different names");
		r = -EINVAL;
	}
	return r;
}

int noderoutes_new(const struct noderoutes_cfg *cfg, struct noderoutes **out, struct ebuf *eb)
{
	struct noderoutes *nr;
	int r;

	*out = NULL;
	nr = mem_calloc(1, sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	nr->s.fd = -1;
	r = take_cfg(nr, cfg, eb);
	if (!r) {
		nr->batch = mem_alloc(BATCH_BYTES);
		r = nr->batch ? nlsock_open(&nr->s, NETLINK_ROUTE) : -ENOMEM;
		if (r)
			ebuf_set(eb, "cannot open an rtnetlink socket: %s", strerror(-r));
	}
	if (r) {
		noderoutes_free(nr);
		return r;
	}
	*out = nr;
	return 0;
}

void noderoutes_free(struct noderoutes *nr)
{
	if (!nr)
		return;
	nlsock_close(&nr->s);
	mem_free(nr->batch);
	mem_free(nr);
}

/* ---- the local view --------------------------------------------------------------------- */

/* Our VXLAN devices as they are. A link of another kind with our name is an error: it is
 * not ours to delete. */
static int read_links(struct pass *p)
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
			fail(p, r, &why);
			return r;
		}
		p->vx[f] = p->link[f].ifindex;
	}
	return 0;
}

static bool is_vx(const struct pass *p, int ifindex)
{
	return ifindex == p->vx[ROUTES_V4] || ifindex == p->vx[ROUTES_V6];
}

static void addr_restart(void *ctx)
{
	struct pass *p = ctx;

	p->npfx = 0;
	p->uplink[ROUTES_V4] = p->uplink[ROUTES_V6] = 0;
}

static int addr_cb(const struct rtnl_addr *a, void *ctx)
{
	struct pass *p = ctx;
	int f = k8sobj_slot(a->addr.addr.family);
	struct routes_prefix *v;

	if (f < 0 || a->ifindex == LOOPBACK_IFINDEX || is_vx(p, a->ifindex))
		return 0;
	if (!p->uplink[f] && ipaddr_eq(&a->addr.addr, &p->self->internal_ip[f]))
		p->uplink[f] = a->ifindex;
	if (a->scope != RT_SCOPE_UNIVERSE)
		return 0;
	v = grow(p->pfx, &p->cap_pfx, p->npfx, sizeof(*p->pfx));
	if (!v)
		return -ENOMEM;
	p->pfx = v;
	v[p->npfx] = (struct routes_prefix){ .net = a->addr, .ifindex = a->ifindex };
	cidr_first(&v[p->npfx].net, &v[p->npfx].net.addr);
	p->npfx++;
	return 0;
}

static int read_uplinks(struct pass *p)
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
		fail(p, r, &why);
	return r;
}

/* ---- planning --------------------------------------------------------------------------- */

static int collect_nodes(struct pass *p, const struct cache *nodes)
{
	const struct k8sobj_node *n;
	const struct k8sobj *o;
	size_t pos;
	int f;

	p->nodes = mem_calloc(cache_count(nodes) + 1, sizeof(*p->nodes));
	if (!p->nodes)
		return -ENOMEM;
	cache_for_each(nodes, pos, o) {
		n = k8sobj_node(o);
		if (!n)
			continue;
		p->nodes[p->nnodes].name = n->obj.name;
		for (f = 0; f < ROUTES_NFAM; f++) {
			p->nodes[p->nnodes].pod[f] = n->pod_cidr[f];
			p->nodes[p->nnodes].ip[f] = n->internal_ip[f];
		}
		p->nnodes++;
	}
	return 0;
}

static int plan(struct pass *p)
{
	static const enum routes_mode mode[] = { [NODEROUTES_AUTO] = ROUTES_AUTO,
						 [NODEROUTES_DIRECT] = ROUTES_DIRECT,
						 [NODEROUTES_VXLAN] = ROUTES_VXLAN };
	struct routes_local loc = { .name = p->self->obj.name, .onlink = p->pfx,
				    .nonlink = p->npfx, .mode = mode[p->nr->mode] };
	int f;

	for (f = 0; f < ROUTES_NFAM; f++) {
		loc.ip[f] = p->self->internal_ip[f];
		loc.pod[f] = p->self->pod_cidr[f];
		loc.vxlan_ifindex[f] = p->vx[f];
		p->planned[f] = p->vx[f];
	}
	routes_plan_free(&p->plan);
	return routes_plan(&loc, p->nodes, p->nnodes, &p->plan);
}

/* Which families need their VXLAN device: every family we have an address of in mode VXLAN;
 * in mode AUTO those of a peer that is routed (or was skipped for want of a device) so. */
static void decide(struct pass *p)
{
	const struct routes_plan *pl = &p->plan;
	size_t i;
	int f;

	for (f = 0; f < ROUTES_NFAM; f++)
		p->need[f] = p->nr->mode == NODEROUTES_VXLAN && p->self->internal_ip[f].family;
	if (p->nr->mode != NODEROUTES_AUTO)
		return;
	for (i = 0; i < pl->want.nroute; i++)
		if (pl->want.route[i].onlink)
			p->need[k8sobj_slot(pl->want.route[i].dst.addr.family)] = true;
	for (i = 0; i < pl->nskip; i++) {
		f = k8sobj_slot(pl->skip[i].family);
		if (pl->skip[i].why == ROUTES_SKIP_NO_VXLAN && f >= 0)
			p->need[f] = true;
	}
}

static uint32_t vxlan_mtu(const struct pass *p, int f)
{
	uint32_t m = p->mtu[f] ? p->mtu[f] : NODEROUTES_MTU_DEFAULT;

	return m > overhead[f] ? m - overhead[f] : 0;
}

static void created(const struct pass *p, int f, const struct rtnl_link *l)
{
	char a[IPADDR_STRLEN];

	if (ipaddr_format(&p->self->internal_ip[f], a, sizeof(a)))
		strcpy(a, "?");
	log_info("routes: vxlan device %s up: vni %u port %u local %s dev %d mtu %u",
		 l->name, (unsigned)p->nr->vni, (unsigned)p->nr->port, a, p->uplink[f],
		 (unsigned)l->mtu);
}

/* Make family f's device as wanted: create it, bring it up, or replace one with other
 * parameters (which drops its routes, neighbours and fdb: the pass adds them back). */
static void ensure_vxlan(struct pass *p, int f)
{
	struct noderoutes *nr = p->nr;
	struct rtnl_vxlan v = { .name = nr->name[f], .vni = nr->vni, .port = nr->port,
				.local = p->self->internal_ip[f], .link = p->uplink[f],
				.mtu = vxlan_mtu(p, f) };
	struct ebuf why = { "" };
	struct rtnl_link l;
	uint8_t mac[6];
	int r;

	if (routes_vtep_mac(&v.local, mac))
		return;
	v.mac = mac;
	if (p->vx[f] && rtnl_vxlan_matches(&p->link[f], &v, &why)) {
		if (p->link[f].flags & IFF_UP)
			return;
	} else if (p->vx[f]) {
		log_info("routes: recreating vxlan device %s: %s", v.name, why.msg);
		r = rtnl_link_del(&nr->s, v.name, &why);
		if (r && r != -ENODEV) {
			fail(p, r, &why);
			return;
		}
		p->vx[f] = 0;
	}
	r = rtnl_vxlan_ensure(&nr->s, &v, &l, &why);
	if (r) {
		fail(p, r, &why);
		return;
	}
	if (!p->vx[f])
		created(p, f, &l);
	p->vx[f] = l.ifindex;
	p->link[f] = l;
}

static int ensure_devices(struct pass *p)
{
	int f;

	decide(p);
	for (f = 0; f < ROUTES_NFAM; f++)
		if (p->need[f])
			ensure_vxlan(p, f);
	for (f = 0; f < ROUTES_NFAM; f++)
		if (p->vx[f] != p->planned[f])
			return plan(p);
	return 0;
}

/* ---- the kernel's view ------------------------------------------------------------------ */

static bool in_own_pods(const struct pass *p, const struct cidr *dst)
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
	((struct pass *)ctx)->have.nroute = 0;
}

static int route_cb(const struct rtnl_route *r, void *ctx)
{
	struct pass *p = ctx;
	struct routes_route *v;

	/* a pod's host route has no gateway: the CNI plugin's, not ours */
	if (!r->has_gw || r->type != RTN_UNICAST || in_own_pods(p, &r->dst))
		return 0;
	v = grow(p->have.route, &p->cap_route, p->have.nroute, sizeof(*v));
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
	struct pass *p = ctx;

	p->have.nneigh = p->mark;
}

static int neigh_cb(const struct rtnl_neigh *n, void *ctx)
{
	struct pass *p = ctx;
	struct routes_neigh *v;

	v = grow(p->have.neigh, &p->cap_neigh, p->have.nneigh, sizeof(*v));
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
	struct pass *p = ctx;

	p->have.nfdb = p->mark;
}

static int fdb_cb(const struct rtnl_fdb *e, void *ctx)
{
	struct pass *p = ctx;
	struct routes_fdb *v;

	if (!e->dst.family)
		return 0;
	v = grow(p->have.fdb, &p->cap_fdb, p->have.nfdb, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->have.fdb = v;
	v += p->have.nfdb++;
	*v = (struct routes_fdb){ .ifindex = e->ifindex, .dst = e->dst };
	memcpy(v->mac, e->mac, sizeof(v->mac));
	return 0;
}

static int observe(struct pass *p)
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
		fail(p, r, &why);
	return r;
}

/* ---- applying --------------------------------------------------------------------------- */

static void put_route(struct nlb *b, const struct routes_route *x, bool del)
{
	struct rtnl_route r = { .dst = x->dst, .gw = x->gw, .has_gw = x->gw.family != 0,
				.oif = x->oif, .table = x->table, .priority = x->metric,
				.onlink = x->onlink };

	if (del)
		rtnl_put_route(b, RTM_DELROUTE, 0, &r);
	else
		rtnl_put_route(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &r);
}

/*
 * One request per op. Every replace is done in place: the IPv6 VXLAN gateway is link-local
 * (core/routes.h), so a podCIDR's own direct route never blocks its move to the tunnel.
 */
static void put_op(struct nlb *b, const struct routes_op *op)
{
	const struct routes_neigh *n = &op->item.neigh;
	const struct routes_fdb *e = &op->item.fdb;
	bool del = op->kind == ROUTES_OP_DEL;

	if (op->obj == ROUTES_OBJ_ROUTE)
		put_route(b, &op->item.route, del);
	else if (op->obj == ROUTES_OBJ_NEIGH && del)
		rtnl_put_neigh_del(b, n->ifindex, &n->ip);
	else if (op->obj == ROUTES_OBJ_NEIGH)
		rtnl_put_neigh(b, n->ifindex, &n->ip, n->mac);
	else
		rtnl_put_fdb(b, del ? RTM_DELNEIGH : RTM_NEWNEIGH, e->ifindex, e->mac, &e->dst);
}

/* The kernel refused an op (err, its text in why): count it, keep the first reason. */
static void op_failed(struct pass *p, const struct routes_op *op, int err,
		      const struct ebuf *why)
{
	char txt[ROUTES_OP_STRLEN];
	struct ebuf e;

	if (op->kind == ROUTES_OP_DEL && (err == -ENOENT || err == -ESRCH))
		return; /* already gone: what we wanted */
	if (op->kind == ROUTES_OP_ADD)
		p->st->added--;
	else if (op->kind == ROUTES_OP_REPLACE)
		p->st->replaced--;
	else
		p->st->deleted--;
	p->st->failed++;
	if (routes_op_format(op, txt, sizeof(txt)))
		strcpy(txt, "?");
	ebuf_set(&e, "%s: %s", txt, ebuf_empty(why) ? strerror(-err) : why->msg);
	fail(p, err, &e);
}

/*
 * Send ops from `from` on, as many as one batch holds; returns where to go on. rtnetlink
 * processes every message of a batch whatever happens to the others, but reports only the
 * first error: the messages after it are sent again (every request here is idempotent, and a
 * repeated delete is an ENOENT we ignore), so each failure is seen and counted.
 */
static size_t apply_batch(struct pass *p, size_t from)
{
	struct noderoutes *nr = p->nr;
	const struct routes_op *v = p->ops.v;
	size_t i, k = 0, len = 0, bad, n = p->ops.n;
	uint64_t one[OP_MAX_BYTES / 8];
	struct ebuf why = { "" };
	struct nlb b;
	int r;

	for (i = from; i < n && k < BATCH_OPS; i++) {
		nlb_init(&b, one, sizeof(one));
		put_op(&b, &v[i]);
		if (nlb_err(&b)) {
			ebuf_set(&why, "cannot encode the request");
			op_failed(p, &v[i], nlb_err(&b), &why);
			continue;
		}
		memcpy(nr->batch + len, one, b.len);
		len += b.len;
		nr->idx[k++] = i;
	}
	r = nlsock_batch(&nr->s, nr->batch, len, &bad, &why);
	if (!r)
		return i;
	if (bad >= k) { /* not one message's fault (send, timeout): the rest waits a pass */
		fail(p, r, &why);
		return n;
	}
	op_failed(p, &v[nr->idx[bad]], r, &why);
	return nr->idx[bad] + 1;
}

static int apply(struct pass *p)
{
	size_t i;

	p->st->added = (unsigned)p->ops.nadd;
	p->st->replaced = (unsigned)p->ops.nreplace;
	p->st->deleted = (unsigned)p->ops.ndel;
	for (i = 0; i < p->ops.n;)
		i = apply_batch(p, i);
	return 0;
}

/* ---- the pass --------------------------------------------------------------------------- */

static int ipaddr_qcmp(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

/* Peers with a podCIDR over VXLAN: each such leg has the fdb entry to the peer's address. */
static int count_vxlan_nodes(struct pass *p)
{
	const struct routes_set *w = &p->plan.want;
	struct ipaddr *v;
	size_t i;
	int f;

	if (!w->nfdb)
		return 0;
	v = mem_calloc(w->nfdb, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < w->nfdb; i++)
		v[i] = w->fdb[i].dst;
	qsort(v, w->nfdb, sizeof(*v), ipaddr_qcmp);
	for (i = 0; i < p->nnodes; i++) {
		for (f = 0; f < ROUTES_NFAM; f++)
			if (p->nodes[i].ip[f].family &&
			    bsearch(&p->nodes[i].ip[f], v, w->nfdb, sizeof(*v), ipaddr_qcmp))
				break;
		p->st->vxlan_nodes += f < ROUTES_NFAM;
	}
	mem_free(v);
	return 0;
}

static void fill_stats(struct pass *p)
{
	struct noderoutes_stats *st = p->st;
	uint32_t m;
	int f;

	st->pod_mtu = 0;
	for (f = 0; f < ROUTES_NFAM; f++) {
		if (!p->self->internal_ip[f].family)
			continue;
		m = p->need[f] ? vxlan_mtu(p, f) : p->mtu[f] ? p->mtu[f] : NODEROUTES_MTU_DEFAULT;
		if (!st->pod_mtu || m < st->pod_mtu)
			st->pod_mtu = m;
		st->vxlan_used |= p->need[f];
	}
	if (!st->pod_mtu)
		st->pod_mtu = NODEROUTES_MTU_DEFAULT;
	st->skipped = (unsigned)p->plan.nskip;
	st->direct = (unsigned)p->plan.ndirect;
	st->vxlan = (unsigned)p->plan.nvxlan;
}

static int run(struct pass *p, const char *self, const struct cache *nodes)
{
	int r;

	p->self = k8sobj_node(cache_get(nodes, NULL, self));
	if (!p->self) {
		ebuf_set(&p->eb, "node %s is not in the Node cache", self);
		return -ENOENT;
	}
	p->st->nodes = (unsigned)cache_count(nodes) - 1;
	r = read_links(p);
	if (!r)
		r = read_uplinks(p);
	if (!r)
		r = collect_nodes(p, nodes);
	if (!r)
		r = plan(p);
	if (!r)
		r = ensure_devices(p);
	if (!r) {
		fill_stats(p);
		r = count_vxlan_nodes(p);
	}
	if (!r)
		r = observe(p);
	if (!r)
		r = routes_diff(&p->plan.want, &p->have, &p->ops);
	if (!r)
		r = apply(p);
	return r ? r : p->err;
}

/* Changes are logged per pass that made some; a failure once, until it changes or clears. */
static void log_pass(struct noderoutes *nr, const struct noderoutes_stats *st, int r,
		     const struct ebuf *eb)
{
	char failed[32] = "";

	if (st->failed)
		snprintf(failed, sizeof(failed), ", %u failed", st->failed);
	if (st->added || st->replaced || st->deleted)
		log_info("routes: %u added, %u replaced, %u deleted%s; %u node%s via vxlan",
			 st->added, st->replaced, st->deleted, failed, st->vxlan_nodes,
			 st->vxlan_nodes == 1 ? "" : "s");
	if (!r) {
		if (nr->nfail)
			log_info("routes: programmed again after %u failed passes", nr->nfail);
		nr->nfail = 0;
		nr->fail[0] = '\0';
		return;
	}
	nr->nfail++;
	if (!strcmp(nr->fail, eb->msg))
		return;
	if (st->failed > 1)
		log_warnx("routes: %s (and %u more refused)", eb->msg, st->failed - 1);
	else
		log_warnx("routes: %s", eb->msg);
	memcpy(nr->fail, eb->msg, sizeof(nr->fail));
}

int noderoutes_sync(struct noderoutes *nr, const char *self, const struct cache *nodes,
		    struct noderoutes_stats *st, struct ebuf *eb)
{
	struct noderoutes_stats local;
	struct pass *p;
	int r;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	p = mem_calloc(1, sizeof(*p));
	if (!p) {
		ebuf_set(eb, "out of memory");
		return -ENOMEM;
	}
	p->nr = nr;
	p->st = st;
	r = run(p, self, nodes);
	if (r && ebuf_empty(&p->eb))
		ebuf_set(&p->eb, "%s", strerror(-r));
	log_pass(nr, st, r, &p->eb);
	if (eb)
		*eb = p->eb;
	routes_ops_free(&p->ops);
	routes_set_free(&p->have);
	routes_plan_free(&p->plan);
	mem_free(p->nodes);
	mem_free(p->pfx);
	mem_free(p);
	return r;
}

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
	v = grow(fl->v, &fl->cap, fl->n, sizeof(*v));
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
