// SPDX-License-Identifier: MIT
/*
 * npcompile_elem.c: what a group's rules contribute, the product of each rule's peers and
 * ports in the shapes npplan.h defines. Pod peers give hash-set elements per member address
 * (a port range a PORTS element, never an interval: pods come and go); ipBlocks and "any
 * peer" give static RANGE boxes, "any peer" over the whole space of both families. Named
 * ports resolve on the target for ingress (all targets of a group resolve alike, the key
 * says so) and on each destination pod for egress, where an ipBlock or any-peer rule
 * reaches only the pods having the name (the rule's NAMED peer).
 *
 * The same walk yields either every contribution (a full build) or only those of the
 * members that joined, left or changed in this compile, withdrawn with their former state
 * and added with the current one, for npcompile_build.c to apply to its counts.
 */
#include <errno.h>
#include <string.h>

#include "../base/mem.h"
#include "npcompile_int.h"

static int put(struct npc_ebld *b, int32_t d, const struct ipaddr *lo, const struct ipaddr *hi,
	       const struct npc_iport *q, uint16_t plo, uint16_t phi, uint8_t shape)
{
	struct npplan_elem e;

	memset(&e, 0, sizeof(e));
	e.lo = *lo;
	e.hi = *hi;
	e.shape = shape;
	if (q->kind == NPC_P_ALL && shape == NPPLAN_RANGE)
		e.prhi = 255;
	if (q->kind != NPC_P_ALL)
		e.prlo = e.prhi = q->proto;
	e.plo = plo;
	e.phi = phi;
	if (!d) {
		if (npc_grow((void **)&b->s, &b->scap, b->ns, sizeof(*b->s)))
			return -ENOMEM;
		b->s[b->ns++] = e;
		return 0;
	}
	if (npc_grow((void **)&b->v, &b->cap, b->n, sizeof(*b->v)))
		return -ENOMEM;
	b->v[b->n++] = (struct npc_selem){ e, d };
	return 0;
}

/* One pod address; port is the resolved number of a named port. */
static int pod_elem(struct npc_ebld *b, int32_t d, const struct ipaddr *a,
		    const struct npc_iport *q, uint16_t port)
{
	switch (q->kind) {
	case NPC_P_ALL:
		return put(b, d, a, a, q, 0, 0, NPPLAN_ADDR);
	case NPC_P_PROTO:
		return put(b, d, a, a, q, 0, 0, NPPLAN_PROTO);
	case NPC_P_RANGE:
		return put(b, d, a, a, q, q->lo, q->hi, q->lo < q->hi ? NPPLAN_PORTS : NPPLAN_EXACT);
	case NPC_P_NUM:
		return put(b, d, a, a, q, q->lo, q->lo, NPPLAN_EXACT);
	default:
		return put(b, d, a, a, q, port, port, NPPLAN_EXACT);
	}
}

/* A static box (d 0). */
static int range_elem(struct npc_ebld *b, const struct ipaddr *lo, const struct ipaddr *hi,
		      const struct npc_iport *q, uint16_t port)
{
	switch (q->kind) {
	case NPC_P_ALL:
	case NPC_P_PROTO:
		return put(b, 0, lo, hi, q, 0, 65535, NPPLAN_RANGE);
	case NPC_P_NAMED:
		return put(b, 0, lo, hi, q, port, port, NPPLAN_RANGE);
	default:
		return put(b, 0, lo, hi, q, q->lo, q->hi, NPPLAN_RANGE);
	}
}

static int whole_space(struct npc_ebld *b, const struct npc_iport *q, uint16_t port)
{
	struct ipaddr lo = { .family = AF_INET }, hi = { .family = AF_INET };
	int r;

	memset(hi.a, 0xff, 4);
	r = range_elem(b, &lo, &hi, q, port);
	lo.family = hi.family = AF_INET6;
	memset(hi.a, 0xff, 16);
	return r ?: range_elem(b, &lo, &hi, q, port);
}

static bool in_ranges(const struct ipaddr *a, const struct ipaddr (*rg)[2], uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (a->family == rg[i][0].family && ipaddr_cmp(a, &rg[i][0]) >= 0 &&
		    ipaddr_cmp(a, &rg[i][1]) <= 0)
			return true;
	return false;
}

/* Where a peer's members go: a named port's number on the target (ingress), or 0 to take
 * each member's own (egress); only addresses inside rg when given. */
struct usage {
	const struct npc_iport *q;
	uint16_t port;
	const struct ipaddr (*rg)[2];
	uint32_t nrg;
};

static int member(struct npc_ebld *b, const struct usage *u, const struct npc_pstate *s,
		  int32_t d)
{
	const struct npc_iport *q = u->q;
	uint16_t port = u->port;
	uint32_t f;
	int r = 0;

	if (q->kind == NPC_P_NAMED && !port)
		port = npc_pod_port(s, q->name, q->kproto);
	if (q->kind == NPC_P_NAMED && !port)
		return 0;
	for (f = 0; !r && f < 2; f++)
		if (s->ip[f].family && (!u->rg || in_ranges(&s->ip[f], u->rg, u->nrg)))
			r = pod_elem(b, d, &s->ip[f], q, port);
	return r;
}

static int members(struct npc_ebld *b, const struct npc_peer *pe, const struct usage *u,
		   bool delta)
{
	uint32_t i;
	int r = 0;

	for (i = 0; !delta && !r && i < pe->nmembers; i++)
		r = member(b, u, &pe->members[i]->cur, 1);
	for (i = 0; delta && pe->changed && !r && i < pe->ndelta; i++) {
		const struct npc_pdelta *dl = &pe->delta[i];

		if (dl->was)
			r = member(b, u, npc_pod_was(dl->pod), -1);
		if (!r && dl->is)
			r = member(b, u, &dl->pod->cur, 1);
	}
	return r;
}

static uint16_t resolve_in(struct npc_ebld *b, const struct npc_iport *q)
{
	const struct npc_vec *t = &b->c->targets;
	uint32_t i;

	for (i = 0; !b->rep && i < t->n; i++)
		if (((struct npc_pod *)t->v[i])->grp[NPPLAN_IN] == b->g)
			b->rep = t->v[i];
	return b->rep ? npc_pod_port(&b->rep->cur, q->name, q->kproto) : 0;
}

static int rule_port(struct npc_ebld *b, const struct npc_pol *p, const struct npc_irule *ir,
		     const struct npc_iport *q, bool delta)
{
	bool eg_named = q->kind == NPC_P_NAMED && b->g->dir == NPPLAN_EG;
	struct usage u = { q, 0, NULL, 0 };
	uint32_t i, k;
	int r = 0;

	if (q->kind == NPC_P_NAMED && !eg_named && !(u.port = resolve_in(b, q)))
		return 0;	/* resolves nowhere: nothing allowed, the target stays isolated */
	if (!ir->np && eg_named)
		return members(b, q->named, &u, delta);
	if (!ir->np)
		return delta ? 0 : whole_space(b, q, u.port);
	for (i = ir->poff; !r && i < ir->poff + ir->np; i++) {
		const struct npc_ipeer *ip = &p->ipeers[i];

		u.rg = ip->peer ? NULL : p->ranges + ip->roff;
		u.nrg = ip->nr;
		if (ip->peer)
			r = members(b, ip->peer, &u, delta);
		else if (eg_named)
			r = members(b, q->named, &u, delta);
		for (k = ip->roff; !delta && !ip->peer && !eg_named && !r && k < ip->roff + ip->nr;
		     k++)
			r = range_elem(b, &p->ranges[k][0], &p->ranges[k][1], q, u.port);
	}
	return r;
}

static int walk(struct npc_ebld *b, bool delta)
{
	static const struct npc_iport all = { .kind = NPC_P_ALL };
	const struct npc_group *g = b->g;
	uint32_t i, j, k, r0;
	int r = 0;

	for (i = 0; !r && i < g->npols; i++) {
		const struct npc_pol *p = g->pols[i];

		r0 = g->dir == NPPLAN_IN ? 0 : p->nrules[NPPLAN_IN];
		for (j = r0; !r && j < r0 + p->nrules[g->dir]; j++) {
			const struct npc_irule *ir = &p->rules[j];

			if (!ir->np && !ir->nq) {
				b->all = true;
				return 0;
			}
			if (!ir->nq)
				r = rule_port(b, p, ir, &all, delta);
			for (k = ir->qoff; !r && k < ir->qoff + ir->nq; k++)
				r = rule_port(b, p, ir, &p->iports[k], delta);
		}
	}
	return r;
}

int npc_contrib_all(struct npc_ebld *b)
{
	return walk(b, false);
}

int npc_contrib_delta(struct npc_ebld *b)
{
	return walk(b, true);
}

static bool rule_touched(const struct npc_pol *p, const struct npc_irule *ir)
{
	uint32_t i;

	for (i = ir->poff; i < ir->poff + ir->np; i++)
		if (p->ipeers[i].peer && p->ipeers[i].peer->changed)
			return true;
	for (i = ir->qoff; i < ir->qoff + ir->nq; i++)
		if (p->iports[i].named && p->iports[i].named->changed)
			return true;
	return false;
}

void npc_pols_touched(struct npc *c)
{
	uint32_t i, j;

	/* only a changed peer touches a rule: with none, the flags need clearing at most */
	if (!c->chpeers.n && !c->pols_touched)
		return;
	c->pols_touched = c->chpeers.n > 0;
	for (i = 0; i < c->pols.cap; i++) {
		struct npc_pol *p = c->pols.s[i].v;

		if (!p)
			continue;
		p->touched[NPPLAN_IN] = p->touched[NPPLAN_EG] = false;
		for (j = 0; c->pols_touched && j < p->nrules[NPPLAN_IN] + p->nrules[NPPLAN_EG]; j++)
			if (rule_touched(p, &p->rules[j]))
				p->touched[j >= p->nrules[NPPLAN_IN]] = true;
	}
}

bool npc_group_touched(const struct npc_group *g)
{
	uint32_t i;

	for (i = 0; i < g->npols; i++)
		if (g->pols[i]->touched[g->dir])
			return true;
	return false;
}
