// SPDX-License-Identifier: MIT
/*
 * noderoutes.c: the agent's route reconciler (see noderoutes.h): set-up, planning, the VXLAN
 * devices and the pass driver. A pass is a straight line: read the local view (our VXLAN
 * devices, addresses, uplink MTUs: noderoutes_read.c), plan from the Node cache, make the
 * VXLAN devices the plan needs (planning again if one changed its ifindex), dump what the
 * kernel holds (noderoutes_read.c), diff, and send the operations in batches
 * (noderoutes_apply.c). Everything up to the dumps must succeed or the pass stops without
 * touching routes: the reconciler never acts on a partial view. From there on it is best
 * effort, and the first failure is reported. noderoutes_flush() is in noderoutes_flush.c.
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
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "noderoutes.h"
#include "noderoutes_int.h"

_Static_assert((int)K8SOBJ_V4 == (int)ROUTES_V4 && (int)K8SOBJ_V6 == (int)ROUTES_V6,
	       "family slots differ");

static const uint32_t overhead[ROUTES_NFAM] = { NODEROUTES_VXLAN_OVERHEAD4,
						NODEROUTES_VXLAN_OVERHEAD6 };

/* Room for element n of an array of cap elements: the array (maybe moved), or NULL. */
void *noderoutes_grow(void *v, size_t *cap, size_t n, size_t size)
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
void noderoutes_fail(struct noderoutes_pass *p, int err, const struct ebuf *why)
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
		nr->batch = mem_alloc(NODEROUTES_BATCH_BYTES);
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

/* ---- planning --------------------------------------------------------------------------- */

static int collect_nodes(struct noderoutes_pass *p, const struct cache *nodes)
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

static int plan(struct noderoutes_pass *p)
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
static void decide(struct noderoutes_pass *p)
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

static uint32_t vxlan_mtu(const struct noderoutes_pass *p, int f)
{
	uint32_t m = p->mtu[f] ? p->mtu[f] : NODEROUTES_MTU_DEFAULT;

	return m > overhead[f] ? m - overhead[f] : 0;
}

static void created(const struct noderoutes_pass *p, int f, const struct rtnl_link *l)
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
static void ensure_vxlan(struct noderoutes_pass *p, int f)
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
			noderoutes_fail(p, r, &why);
			return;
		}
		p->vx[f] = 0;
	}
	r = rtnl_vxlan_ensure(&nr->s, &v, &l, &why);
	if (r) {
		noderoutes_fail(p, r, &why);
		return;
	}
	if (!p->vx[f])
		created(p, f, &l);
	p->vx[f] = l.ifindex;
	p->link[f] = l;
}

static int ensure_devices(struct noderoutes_pass *p)
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

/* ---- the pass --------------------------------------------------------------------------- */

static int ipaddr_qcmp(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

/* Peers with a podCIDR over VXLAN: each such leg has the fdb entry to the peer's address. */
static int count_vxlan_nodes(struct noderoutes_pass *p)
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

static void fill_stats(struct noderoutes_pass *p)
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

static int run(struct noderoutes_pass *p, const char *self, const struct cache *nodes)
{
	int r;

	p->self = k8sobj_node(cache_get(nodes, NULL, self));
	if (!p->self) {
		ebuf_set(&p->eb, "node %s is not in the Node cache", self);
		return -ENOENT;
	}
	p->st->nodes = (unsigned)cache_count(nodes) - 1;
	r = noderoutes_read_links(p);
	if (!r)
		r = noderoutes_read_uplinks(p);
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
		r = noderoutes_observe(p);
	if (!r)
		r = routes_diff(&p->plan.want, &p->have, &p->ops);
	if (!r)
		r = noderoutes_apply(p);
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
	struct noderoutes_pass *p;
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
