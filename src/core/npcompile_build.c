// SPDX-License-Identifier: MIT
/*
 * npcompile_build.c: plan groups from contributions (npcompile_elem.c). A full build counts
 * every contribution; later, when only the members of the group's peers changed, the
 * withdrawn and added contributions adjust those counts, and only the elements whose count
 * crosses zero edit the sorted array (binary search per change, then one copy of the
 * array), so a pod joining a peer of 10,000 members costs a few microseconds, not a sort.
 * Pods never contribute RANGE boxes (npplan.h): the tail, the ipBlocks' and any-peer boxes
 * normalised, changes only with the policies, which rebuild the group.
 *
 * Whatever the path, the result equals npplan_normalize() over all contributions, and a
 * result equal to the group built before under the same name is that group (same
 * pointer), which tells the reconciler that nothing changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/mem.h"
#include "../base/sort.h"
#include "npcompile_int.h"

static int selem_cmp(const void *a, const void *b)
{
	return npplan_elem_cmp(&((const struct npc_selem *)a)->e,
			       &((const struct npc_selem *)b)->e);
}

/* Sort, sum the counts of equal elements, drop those summing to 0. */
static void combine(struct npc_selem *v, uint32_t *n)
{
	uint32_t i, k = 0;

	if (*n > 1)
		sort_vec(v, *n, sizeof(*v), selem_cmp);
	for (i = 0; i < *n; i++) {
		if (k && npplan_elem_cmp(&v[k - 1].e, &v[i].e) == 0) {
			v[k - 1].d += v[i].d;
			continue;
		}
		if (k && v[k - 1].d == 0)
			k--;
		v[k++] = v[i];
	}
	if (k && v[k - 1].d == 0)
		k--;
	*n = k;
}

/* The index of the first element not below e. */
static size_t lower_bound(const struct npplan_elem *v, size_t n, const struct npplan_elem *e)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (npplan_elem_cmp(&v[mid], e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct npplan_group *reusable(struct npc *c, const struct npc_group *g, const char *name)
{
	uint32_t i;

	if (g->g && strcmp(g->g->name, name) == 0)
		return g->g;
	for (i = 0; i < c->pool.n; i++)
		if (strcmp(((struct npplan_group *)c->pool.v[i])->name, name) == 0)
			return c->pool.v[i];
	return NULL;
}

/* Make elems (consumed) g's content: the group built before when equal, else a new one. */
static int publish(struct npc *c, struct npc_group *g, bool all, struct npplan_elem *elems,
		   size_t n)
{
	struct npplan_group tmp = { .dir = g->dir, .allow_all = all, .elems = elems, .nelems = n };
	struct npplan_group *old, *ng;
	char name[NPPLAN_NAMELEN];

	npc_group_name(g, name);
	old = reusable(c, g, name);
	if (old && npplan_group_same(old, &tmp)) {
		ng = npplan_group_ref(old);
		mem_free(elems);
	} else if ((ng = npplan_group_new(name, g->dir))) {
		ng->allow_all = all;
		ng->elems = elems;
		ng->nelems = n;
	} else {
		mem_free(elems);
		return -ENOMEM;
	}
	npplan_group_unref(g->g);
	g->g = ng;
	g->built_nh = g->nh;
	return 0;
}

/* The static boxes normalised. */
static int range_tail(const struct npc_group *g, struct npplan_elem **out, size_t *n)
{
	*n = g->nsrng;
	*out = mem_alloc((*n + 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	if (g->nsrng)
		memcpy(*out, g->srng, g->nsrng * sizeof(**out));
	return npplan_normalize(out, n);
}

/* fix elements, then the tail, into one new array. */
static struct npplan_elem *concat(const struct npplan_elem *fix, size_t nfix,
				  const struct npplan_elem *tail, size_t ntail)
{
	struct npplan_elem *e = mem_alloc((nfix + ntail + 1) * sizeof(*e));

	if (!e)
		return NULL;
	if (nfix)
		memcpy(e, fix, nfix * sizeof(*e));
	if (ntail)
		memcpy(e + nfix, tail, ntail * sizeof(*e));
	return e;
}

static void counts_drop(struct npc_group *g)
{
	mem_free(g->cnt);
	mem_free(g->srng);
	g->cnt = NULL;
	g->srng = NULL;
	g->nfix = g->nsrng = 0;
}

/* Counted, sorted contributions: the pods' elements and how often each. */
struct counted {
	struct npplan_elem *fix;
	uint32_t *cnt;
	size_t nfix;
};

static int count_split(const struct npc_selem *v, uint32_t n, struct counted *k)
{
	size_t i;

	k->nfix = n;
	k->fix = mem_alloc((k->nfix + 1) * sizeof(*k->fix));
	k->cnt = mem_alloc((k->nfix + 1) * sizeof(*k->cnt));
	if (!k->fix || !k->cnt)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		k->fix[i] = v[i].e;
		k->cnt[i] = (uint32_t)v[i].d;
	}
	return 0;
}

static int full_publish(struct npc *c, struct npc_group *g, struct counted *k)
{
	struct npplan_elem *tail = NULL, *elems;
	size_t ntail;
	int r = range_tail(g, &tail, &ntail);

	if (r)
		goto out;
	elems = concat(k->fix, k->nfix, tail, ntail);
	r = elems ? publish(c, g, false, elems, k->nfix + ntail) : -ENOMEM;
	if (r)
		goto out;
	mem_free(g->cnt);
	g->cnt = k->cnt;
	g->nfix = k->nfix;
	k->cnt = NULL;
out:
	mem_free(tail);
	return r;
}

static int build_full(struct npc *c, struct npc_group *g)
{
	struct npc_ebld b = { .c = c, .g = g };
	struct counted k = { 0 };
	int r = npc_contrib_all(&b);

	c->stats.full++;
	if (r)
		goto out;
	if (b.all) {
		r = publish(c, g, true, NULL, 0);
		if (!r)
			counts_drop(g);
		goto out;
	}
	combine(b.v, &b.n);
	/* the static boxes are kept as collected: the tail is normalised with the pods' */
	mem_free(g->srng);
	g->srng = b.s;
	g->nsrng = b.ns;
	b.s = NULL;
	r = count_split(b.v, b.n, &k);
	if (!r)
		r = full_publish(c, g, &k);
out:
	mem_free(k.fix);
	mem_free(k.cnt);
	mem_free(b.v);
	mem_free(b.s);
	return r;
}

/* ---- edits ---------------------------------------------------------------------------- */

struct cset {
	const struct npplan_elem *e;
	uint32_t *cnt;
	size_t n;
};

/* An element entering the set (add) before index at, or leaving it (add NULL) at at. */
struct cedit {
	size_t at;
	const struct npc_selem *add;
};

/*
 * Count the changes d[0..nd) (sorted, combined) into s in place and list the elements that
 * enter or leave, in merge order. 1 when the counts disagree with the changes (a withdrawal
 * of something never counted): the caller rebuilds from the rules instead.
 */
static int edit_plan(struct cset *s, const struct npc_selem *d, size_t nd, struct cedit *ed,
		     size_t *ned)
{
	size_t i, at;
	int64_t v;

	for (i = 0; i < nd; i++) {
		at = lower_bound(s->e, s->n, &d[i].e);
		if (at == s->n || npplan_elem_cmp(&s->e[at], &d[i].e)) {
			if (d[i].d < 0)
				return 1;
			ed[(*ned)++] = (struct cedit){ at, &d[i] };
			continue;
		}
		v = (int64_t)s->cnt[at] + d[i].d;
		if (v < 0)
			return 1;
		s->cnt[at] = (uint32_t)v;
		if (!v)
			ed[(*ned)++] = (struct cedit){ at, NULL };
	}
	return 0;
}

/* The size of s after the edits. */
static size_t edited_size(const struct cset *s, const struct cedit *ed, size_t ned)
{
	size_t j, nadd = 0;

	for (j = 0; j < ned; j++)
		nadd += ed[j].add != NULL;
	return s->n + nadd - (ned - nadd);
}

/* s with the edits applied, into oe and oc (edited_size entries each). */
static void edit_apply(const struct cset *s, const struct cedit *ed, size_t ned,
		       struct npplan_elem *oe, uint32_t *oc)
{
	size_t i = 0, j, k = 0, seg;

	for (j = 0; j <= ned; j++) {
		seg = (j < ned ? ed[j].at : s->n) - i;
		if (seg) {
			memcpy(oe + k, s->e + i, seg * sizeof(*oe));
			memcpy(oc + k, s->cnt + i, seg * sizeof(*oc));
		}
		i += seg;
		k += seg;
		if (j == ned)
			break;
		if (!ed[j].add) {
			i++;
			continue;
		}
		oe[k] = ed[j].add->e;
		oc[k++] = (uint32_t)ed[j].add->d;
	}
}

/*
 * The new content in one array: the edited pods' elements, then the tail as it was. g's
 * counts follow once it is published (a failure resets the whole compiler).
 */
static int delta_publish(struct npc *c, struct npc_group *g, struct cset *fs, struct cedit *ed,
			 size_t ned)
{
	const struct npplan_elem *tail = g->g->elems + g->nfix;
	size_t ntail = g->g->nelems - g->nfix, nfix = edited_size(fs, ed, ned);
	struct npplan_elem *elems = mem_alloc((nfix + ntail + 1) * sizeof(*elems));
	uint32_t *cnt = mem_alloc((nfix + 1) * sizeof(*cnt));
	int r = -ENOMEM;

	if (elems && cnt) {
		edit_apply(fs, ed, ned, elems, cnt);
		if (ntail)
			memcpy(elems + nfix, tail, ntail * sizeof(*elems));
		r = publish(c, g, false, elems, nfix + ntail);
		elems = NULL;
	}
	if (!r) {
		mem_free(g->cnt);
		g->cnt = cnt;
		g->nfix = nfix;
		cnt = NULL;
	}
	mem_free(elems);
	mem_free(cnt);
	return r;
}

/* 0, -ENOMEM, or 1 when the group must be built from its rules after all. */
static int build_delta(struct npc *c, struct npc_group *g)
{
	struct npc_ebld b = { .c = c, .g = g };
	struct cset fs = { g->g->elems, g->cnt, g->nfix };
	struct cedit *ed = NULL;
	size_t ned = 0;
	int r = npc_contrib_delta(&b);

	c->stats.delta++;
	if (r)
		goto out;
	combine(b.v, &b.n);
	/* members contribute no RANGE box (npcompile_elem.c); if one did, build in full */
	if (b.n && b.v[b.n - 1].e.shape == NPPLAN_RANGE) {
		r = 1;
		goto out;
	}
	ed = mem_alloc((b.n + 1) * sizeof(*ed));
	if (!ed) {
		r = -ENOMEM;
		goto out;
	}
	r = edit_plan(&fs, b.v, b.n, ed, &ned);
	if (!r && !ned)
		c->stats.kept++;
	else if (!r)
		r = delta_publish(c, g, &fs, ed, ned);
out:
	mem_free(ed);
	mem_free(b.v);
	mem_free(b.s);
	return r;
}

int npc_group_build(struct npc *c, struct npc_group *g)
{
	int r;

	if (npc_group_stale(g))
		return build_full(c, g);
	if (g->g->allow_all || !npc_group_touched(g))
		return 0;
	r = build_delta(c, g);
	if (r != 1)
		return r;
	c->stats.fallback++;
	return build_full(c, g);
}
