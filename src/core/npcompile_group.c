// SPDX-License-Identifier: MIT
/*
 * npcompile_group.c: local targets and their groups. A target's key per direction is its
 * namespace, the names of the policies isolating it (sorted), and for ingress what each
 * named port those policies use resolves to on the target itself: pods with equal keys
 * get equal allowances, so they share one chain. The key never includes a policy's
 * content, so editing a policy refills a chain instead of replacing it.
 *
 * Names are "in-"/"eg-" and 16 hex digits of the key's FNV-1a hash. Should two keys of one
 * plan collide, the group first in (hash, key) order keeps the hash and the next ones
 * rehash with a counter: the outcome depends on the set of keys only, so an incremental
 * compile and one from scratch name alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/mem.h"
#include "../base/sort.h"
#include "npcompile_int.h"

static bool group_eq(const void *rec, const void *key)
{
	return strcmp(((const struct npc_group *)rec)->key, key) == 0;
}

void npc_group_free(struct npc_group *g)
{
	if (!g)
		return;
	npplan_group_unref(g->g);
	mem_free(g->key);
	mem_free(g->pols);
	mem_free(g->cnt);
	mem_free(g->srng);
	mem_free(g);
}

static int named_cmp(const void *a, const void *b)
{
	const struct npc_iport *x = *(const struct npc_iport *const *)a;
	const struct npc_iport *y = *(const struct npc_iport *const *)b;
	int r = strcmp(x->name, y->name);

	return r ? r : (x->kproto > y->kproto) - (x->kproto < y->kproto);
}

/* The ingress named ports of c->kpols, sorted and unique, in c->knamed. */
static int collect_named(struct npc *c)
{
	uint32_t i, j, k;
	int r = 0;

	c->knamed.n = 0;
	for (i = 0; !r && i < c->kpols.n; i++) {
		const struct npc_pol *p = c->kpols.v[i];

		for (j = 0; !r && j < p->nrules[NPPLAN_IN]; j++) {
			const struct npc_irule *ir = &p->rules[j];

			for (k = ir->qoff; !r && k < ir->qoff + ir->nq; k++)
				if (p->iports[k].kind == NPC_P_NAMED)
					r = npc_vec_push(&c->knamed, &p->iports[k]);
		}
	}
	if (r || c->knamed.n < 2)
		return r;
	sort_vec(c->knamed.v, c->knamed.n, sizeof(*c->knamed.v), named_cmp);
	for (i = 1, k = 1; i < c->knamed.n; i++)
		if (named_cmp(&c->knamed.v[k - 1], &c->knamed.v[i]))
			c->knamed.v[k++] = c->knamed.v[i];
	c->knamed.n = k;
	return 0;
}

/* The key of pod p in dir into c->kbuf; kbn stays 0 when no policy isolates it. */
static int key_for(struct npc *c, const struct npc_pod *p, int dir)
{
	uint32_t i;
	int r = 0;

	npc_kb_reset(c);
	c->kpols.n = 0;
	for (i = 0; !r && i < p->nsr->pols.n; i++)
		if (npc_pol_isolates(p->nsr->pols.v[i], p, dir))
			r = npc_vec_push(&c->kpols, p->nsr->pols.v[i]);
	if (r || !c->kpols.n)
		return r;
	npc_kb_num(c, (unsigned)dir);
	npc_kb_str(c, p->nsr->name);
	npc_kb_num(c, c->kpols.n);
	for (i = 0; i < c->kpols.n; i++)
		npc_kb_str(c, ((struct npc_pol *)c->kpols.v[i])->name);
	if (dir == NPPLAN_IN && (r = collect_named(c)))
		return r;
	for (i = 0; dir == NPPLAN_IN && i < c->knamed.n; i++) {
		const struct npc_iport *q = c->knamed.v[i];

		npc_kb_str(c, q->name);
		npc_kb_num(c, q->kproto);
		npc_kb_num(c, npc_pod_port(&p->cur, q->name, q->kproto));
	}
	return npc_kb_done(c);
}

static struct npc_group *group_get(struct npc *c, int dir)
{
	uint64_t h = npc_fnv_str(NPC_FNV_INIT, c->kbuf);
	struct npc_group *g = npc_map_get(&c->groups, h, group_eq, c->kbuf);

	if (g)
		return g;
	g = mem_calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->h = g->nh = h;
	g->dir = (uint8_t)dir;
	g->kn = c->kbn;
	g->key = mem_strndup(c->kbuf, c->kbn);
	g->pols = mem_alloc(c->kpols.n * sizeof(*g->pols));
	if (!g->key || !g->pols || npc_vec_push(&c->grplist, g))
		goto fail;
	memcpy(g->pols, c->kpols.v, c->kpols.n * sizeof(*g->pols));
	g->npols = c->kpols.n;
	if (npc_map_put(&c->groups, h, g) == 0)
		return g;
	c->grplist.n--;
fail:
	npc_group_free(g);
	return NULL;
}

static int targets_update(struct npc *c, struct npc_pod *p, bool is_t)
{
	struct npc_pod *last;

	if (is_t && p->tpos == NPC_NONE) {
		if (npc_vec_push(&c->targets, p))
			return -ENOMEM;
		p->tpos = c->targets.n - 1;
	} else if (!is_t && p->tpos != NPC_NONE) {
		last = c->targets.v[--c->targets.n];
		c->targets.v[p->tpos] = last;
		last->tpos = p->tpos;
		p->tpos = NPC_NONE;
	}
	return 0;
}

int npc_retarget(struct npc *c, struct npc_pod *p)
{
	bool is_t = p->eligible && strcmp(p->obj->node_name, c->in->node) == 0;
	struct npc_group *g;
	int dir, r;

	if ((r = targets_update(c, p, is_t)))
		return r;
	for (dir = 0; dir < 2; dir++) {
		g = NULL;
		c->kbn = 0;
		if (is_t && (r = key_for(c, p, dir)))
			return r;
		if (c->kbn && !(g = group_get(c, dir)))
			return -ENOMEM;
		if (g == p->grp[dir])
			continue;
		if (p->grp[dir])
			p->grp[dir]->ntargets--;
		if (g)
			g->ntargets++;
		p->grp[dir] = g;
	}
	return 0;
}

static int group_cmp(const void *a, const void *b)
{
	const struct npc_group *x = *(const struct npc_group *const *)a;
	const struct npc_group *y = *(const struct npc_group *const *)b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return strcmp(x->key, y->key);
}

static bool name_used(struct npc_group **v, uint32_t n, uint64_t nh, uint8_t dir)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (v[i]->nh == nh && v[i]->dir == dir)
			return true;
	return false;
}

/* Only reached when two keys of one plan share a hash: quadratic, and practically never. */
static void perturb(struct npc_group **v, uint32_t n)
{
	uint32_t i, k;

	for (i = 0; i < n; i++) {
		v[i]->nh = v[i]->h;
		for (k = 1; name_used(v, i, v[i]->nh, v[i]->dir); k++)
			v[i]->nh = npc_fnv(npc_fnv_str(NPC_FNV_INIT, v[i]->key), &k, sizeof(k));
	}
}

int npc_groups_settle(struct npc *c)
{
	struct npc_group **v;
	bool clash = false;
	uint32_t i;

	for (i = c->grplist.n; i-- > 0;) {
		struct npc_group *g = c->grplist.v[i];

		if (g->ntargets)
			continue;
		npc_map_del(&c->groups, g->h, g);
		c->grplist.v[i] = c->grplist.v[--c->grplist.n];
		npc_group_free(g);
	}
	v = (struct npc_group **)c->grplist.v;
	if (c->grplist.n > 1)
		sort_vec(v, c->grplist.n, sizeof(*v), group_cmp);
	for (i = 0; i < c->grplist.n; i++) {
		v[i]->nh = v[i]->h;
		clash |= i > 0 && v[i]->h == v[i - 1]->h;
	}
	if (clash)
		perturb(v, c->grplist.n);
	return 0;
}

void npc_group_name(const struct npc_group *g, char *out)
{
	snprintf(out, NPPLAN_NAMELEN, "%s-%016llx", g->dir == NPPLAN_IN ? "in" : "eg",
		 (unsigned long long)g->nh);
}

bool npc_group_stale(const struct npc_group *g)
{
	uint32_t i;

	/* the name is the hash's (npc_group_name()): no need to print it every pass */
	if (!g->g || g->built_nh != g->nh)
		return true;
	for (i = 0; i < g->npols; i++)
		if (g->pols[i]->dirty)
			return true;
	return false;
}
