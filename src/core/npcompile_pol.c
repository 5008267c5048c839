// SPDX-License-Identifier: MIT
/*
 * npcompile_pol.c: a policy's rules in compiled form. Each rule becomes its peers (shared
 * pod sets from npcompile_peer.c, or an ipBlock's disjoint address ranges, computed once
 * here) and its ports classified by shape, so building a group's elements never goes back
 * to the JSON-shaped object. Egress named ports towards any address or an ipBlock also
 * take a NAMED peer: the pods that have the name are the only destinations they can reach.
 */
#include <errno.h>
#include <string.h>

#include "../base/mem.h"
#include "cache.h"
#include "npcompile_int.h"
#include "selector.h"

static uint8_t ip_proto(uint8_t kproto)
{
	switch (kproto) {
	case K8SOBJ_UDP:
		return 17;
	case K8SOBJ_SCTP:
		return 132;
	default:
		return 6;
	}
}

static void port_classify(struct npc_iport *q, const struct k8sobj_npport *kp)
{
	q->kproto = kp->proto;
	q->proto = ip_proto(kp->proto);
	if (kp->name[0]) {
		q->kind = NPC_P_NAMED;
		q->name = kp->name;
	} else if (!kp->port) {
		q->kind = NPC_P_PROTO;
	} else if (kp->end_port) {
		q->kind = NPC_P_RANGE;
		q->lo = kp->port;
		q->hi = kp->end_port;
	} else {
		q->kind = NPC_P_NUM;
		q->lo = q->hi = kp->port;
	}
}

static int rule_peers(struct npc *c, struct npc_pol *p, const struct k8sobj_rule *kr,
		      bool *addr_peer)
{
	uint32_t i;
	size_t n0;

	*addr_peer = !kr->has_peers || kr->npeers == 0;
	for (i = 0; i < kr->npeers; i++) {
		const struct k8sobj_peer *kp = &kr->peers[i];
		struct npc_ipeer *ip = &p->ipeers[p->nipeers++];

		if (!(kp->has & K8SOBJ_PEER_IPBLOCK)) {
			ip->peer = npc_peer_sel(c, p->nsr, kp);
			if (!ip->peer)
				return -ENOMEM;
			continue;
		}
		*addr_peer = true;
		n0 = p->nranges;
		if (npplan_ipblock_ranges(&kp->ipblock, &p->ranges, &p->nranges, &p->capranges))
			return -ENOMEM;
		ip->roff = (uint32_t)n0;
		ip->nr = (uint32_t)(p->nranges - n0);
	}
	return 0;
}

static int rule_build(struct npc *c, struct npc_pol *p, const struct k8sobj_rule *kr, int dir,
		      struct npc_irule *ir)
{
	bool addr_peer = true;
	uint32_t i;
	int r;

	ir->poff = p->nipeers;
	ir->qoff = p->niports;
	if (kr->has_peers && (r = rule_peers(c, p, kr, &addr_peer)))
		return r;
	ir->np = p->nipeers - ir->poff;
	for (i = 0; kr->has_ports && i < kr->nports; i++) {
		struct npc_iport *q = &p->iports[p->niports++];

		port_classify(q, &kr->ports[i]);
		if (q->kind != NPC_P_NAMED || dir != NPPLAN_EG || !addr_peer)
			continue;
		q->named = npc_peer_named(c, q->name, q->kproto);
		if (!q->named)
			return -ENOMEM;
	}
	ir->nq = p->niports - ir->qoff;
	return 0;
}

static int ir_build(struct npc *c, struct npc_pol *p)
{
	const struct k8sobj_netpol *np = p->obj;
	const struct k8sobj_rule *kr[2] = { np->ingress, np->egress };
	uint32_t n[2] = { np->ningress, np->negress }, npeers = 0, nports = 0, d, i;
	int r = 0;

	for (d = 0; d < 2; d++)
		for (i = 0; i < n[d]; i++) {
			npeers += kr[d][i].has_peers ? kr[d][i].npeers : 0;
			nports += kr[d][i].has_ports ? kr[d][i].nports : 0;
		}
	p->rules = mem_calloc(n[0] + n[1] + 1, sizeof(*p->rules));
	p->ipeers = mem_calloc(npeers + 1, sizeof(*p->ipeers));
	p->iports = mem_calloc(nports + 1, sizeof(*p->iports));
	if (!p->rules || !p->ipeers || !p->iports)
		return -ENOMEM;
	for (d = 0; !r && d < 2; d++) {
		for (i = 0; !r && i < n[d]; i++)
			r = rule_build(c, p, &kr[d][i], (int)d, &p->rules[p->nrules[0] + i]);
		p->nrules[d] = n[d];
	}
	return r;
}

/* The compiled rules as they were, to release once the new ones hold their peers. */
struct ir_old {
	struct npc_ipeer *ipeers;
	uint32_t nipeers;
	struct npc_iport *iports;
	uint32_t niports;
	struct npc_irule *rules;
	struct ipaddr (*ranges)[2];
};

static void ir_drop(struct npc *c, struct ir_old *o)
{
	uint32_t i;

	for (i = 0; i < o->nipeers; i++)
		npc_peer_unref(c, o->ipeers[i].peer);
	for (i = 0; i < o->niports; i++)
		npc_peer_unref(c, o->iports[i].named);
	mem_free(o->ipeers);
	mem_free(o->iports);
	mem_free(o->rules);
	mem_free(o->ranges);
}

static struct ir_old ir_detach(struct npc_pol *p)
{
	struct ir_old o = { p->ipeers, p->nipeers, p->iports, p->niports, p->rules, p->ranges };

	p->ipeers = NULL;
	p->iports = NULL;
	p->rules = NULL;
	p->ranges = NULL;
	p->nipeers = p->niports = p->nrules[0] = p->nrules[1] = 0;
	p->nranges = p->capranges = 0;
	return o;
}

void npc_pol_release(struct npc *c, struct npc_pol *p)
{
	struct ir_old o = ir_detach(p);

	ir_drop(c, &o);
}

static int pol_cmp(const struct npc_pol *a, const struct npc_pol *b)
{
	return strcmp(a->name, b->name);
}

/* nsr->pols stays sorted by name: group keys list policies in that order. */
static int list_sorted(struct npc_pol *p)
{
	struct npc_vec *v = &p->nsr->pols;
	uint32_t lo = 0, hi = v->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pol_cmp(v->v[mid], p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return npc_vec_insert(v, lo, p);
}

int npc_pol_refresh(struct npc *c, struct npc_pol *p)
{
	const struct k8sobj *o = cache_get(c->in->policies, p->nsr->name, p->name);
	struct ir_old old = ir_detach(p);
	int r = 0;

	p->nsr->poldirty = true;
	p->obj = k8sobj_netpol(o);
	p->invalid = p->obj && p->obj->invalid && p->obj->invalid[0];
	if (p->obj && !p->invalid)
		r = ir_build(c, p);
	ir_drop(c, &old);
	if (!r && p->obj && !p->listed)
		r = list_sorted(p);
	if (!r && p->obj)
		p->listed = true;
	if (!p->obj && p->listed)
		p->listed = !npc_vec_remove(&p->nsr->pols, p, true);
	return r;
}

bool npc_pol_isolates(const struct npc_pol *p, const struct npc_pod *pod, int dir)
{
	const struct k8sobj_netpol *np = p->obj;
	uint8_t bit = dir == NPPLAN_IN ? K8SOBJ_NP_INGRESS : K8SOBJ_NP_EGRESS;

	if (!np)
		return false;
	if (p->invalid)
		return !np->target_ok || selector_match_obj(&np->pod_selector, &pod->obj->obj);
	return (k8sobj_netpol_types(np) & bit) &&
	       selector_match_obj(&np->pod_selector, &pod->obj->obj);
}
