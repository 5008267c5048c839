// SPDX-License-Identifier: MIT
/*
 * npplan_share.c: which groups share which sets (npplan_share() in npplan.h).
 *
 * Groups differ by their policies, but many hold the very same set: every group whose
 * policies include "allow from namespaces of team X on 8080-8090" holds the same PORTS set
 * of team X's pods, whatever else they allow. In the benchmark's cluster two thirds of all
 * elements were such copies, and a namespace relabel rewrote each copy. So a set exists
 * once in the kernel, named after the first group (by name) that holds it, and the chains of
 * the other groups name that set; a relabel then changes one set. Sharing follows from the
 * plan alone, so a restarted agent names every set as the one before did.
 *
 * Finding equal sets costs one hash per set of a group, kept in the group (groups do not
 * change once built), and one comparison of elements per pair of groups found equal, also
 * kept: a pass over an unchanged plan compares nothing.
 */
#include <errno.h>
#include <string.h>

#include "../base/mem.h"
#include "npplan.h"

/* A group's cached facts about its sets, in npplan_gset_next() order. */
struct npplan_gcache {
	struct npplan_gset s;
	uint64_t hash;
	uint64_t same_as;	/* the serial of a group whose set was found equal, or 0 */
	char name[NPPLAN_SETNAMELEN];	/* the set's name were this group its owner */
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

/* Over the fields, never the bytes: padding and address tails are not part of a value. */
static uint64_t elem_hash(uint64_t h, const struct npplan_elem *e)
{
	size_t n = ipaddr_len(e->lo.family);
	uint64_t w;

	for (size_t i = 0; i < n; i += 4) {
		w = (uint64_t)e->lo.a[i] << 24 | (uint64_t)e->lo.a[i + 1] << 16 |
		    (uint64_t)e->lo.a[i + 2] << 8 | e->lo.a[i + 3];
		w = w << 32 | ((uint64_t)e->hi.a[i] << 24 | (uint64_t)e->hi.a[i + 1] << 16 |
			       (uint64_t)e->hi.a[i + 2] << 8 | e->hi.a[i + 3]);
		h = mix(h, w);
	}
	w = (uint64_t)e->plo << 48 | (uint64_t)e->phi << 32 | (uint64_t)e->prlo << 24 |
	    (uint64_t)e->prhi << 16 | (uint64_t)e->shape << 8 | e->lo.family;
	return mix(h, w);
}

static int group_cache(struct npplan_group *g)
{
	struct npplan_gsit it = { 0 };
	struct npplan_gset s;
	size_t n = 0;

	if (g->cache || g->allow_all)
		return 0;
	while (npplan_gset_next(g, &it, &s))
		n++;
	g->cache = mem_calloc(n + 1, sizeof(*g->cache));
	if (!g->cache)
		return -ENOMEM;
	memset(&it, 0, sizeof(it));
	for (n = 0; npplan_gset_next(g, &it, &s); n++) {
		uint64_t h = mix(s.shape, (uint64_t)s.v << 32 | (uint64_t)s.plo << 16 | s.phi);

		for (size_t i = s.a; i < s.b; i++)
			h = elem_hash(h, &g->elems[i]);
		g->cache[n] = (struct npplan_gcache){ .s = s, .hash = h ? h : 1 };
		npplan_gset_name(g->cache[n].name, g->name, &s);
	}
	g->ncache = n;
	return 0;
}

void npplan_group_cache_free(struct npplan_group *g)
{
	mem_free(g->cache);
	g->cache = NULL;
	g->ncache = 0;
}

/* Same shape, family, ports and elements. */
static bool equal_runs(const struct npplan_group *a, const struct npplan_gset *sa,
		       const struct npplan_group *b, const struct npplan_gset *sb)
{
	if (npplan_gset_cmp(sa, sb) || sa->b - sa->a != sb->b - sb->a)
		return false;
	for (size_t i = 0; i < sa->b - sa->a; i++)
		if (npplan_elem_cmp(&a->elems[sa->a + i], &b->elems[sb->a + i]))
			return false;
	return true;
}

bool npplan_kset_same(const struct npplan_kset *a, const struct npplan_kset *b)
{
	/* a group never changes: the same group's set of one identity is the same set */
	if (a->g == b->g)
		return !npplan_gset_cmp(&a->s, &b->s);
	return a->hash == b->hash && equal_runs(a->g, &a->s, b->g, &b->s);
}

/* Open addressing over the kernel sets found so far, by content hash. */
struct table {
	uint32_t *slot;		/* kernel set index + 1; 0 empty */
	size_t mask;
};

static bool equal(struct npplan_shares *sh, uint32_t k, struct npplan_group *g,
		  struct npplan_gcache *c)
{
	const struct npplan_kset *ks = &sh->sets[k];

	/* a group has one set per identity: the identity and the serial name one set */
	if (ks->hash != c->hash || npplan_gset_cmp(&ks->s, &c->s))
		return false;
	if (c->same_as == ks->g->serial)
		return true;
	if (!equal_runs(ks->g, &ks->s, g, &c->s))
		return false;
	c->same_as = ks->g->serial;
	return true;
}

/* The kernel set of g's k-th set: an equal one found before, or a new one g owns. */
static uint32_t place(struct npplan_shares *sh, struct table *t, struct npplan_group *g,
		      size_t k)
{
	struct npplan_gcache *c = &g->cache[k];
	size_t i = c->hash & t->mask;
	uint32_t n;

	for (; t->slot[i]; i = (i + 1) & t->mask)
		if (equal(sh, t->slot[i] - 1, g, c))
			return t->slot[i] - 1;
	n = (uint32_t)sh->nsets++;
	t->slot[i] = n + 1;
	sh->sets[n] = (struct npplan_kset){ .g = g, .s = c->s, .hash = c->hash, .name = c->name };
	return n;
}

static int fill(const struct npplan *p, struct npplan_shares *sh, struct table *t)
{
	size_t total = 0, i, k;

	for (i = 0; i < p->ngroups; i++) {
		if (group_cache(p->groups[i]))
			return -ENOMEM;
		total += p->groups[i]->ncache;
	}
	for (t->mask = 1; t->mask < 2 * total + 2; t->mask <<= 1)
		;
	t->slot = mem_calloc(t->mask, sizeof(*t->slot));
	t->mask--;
	sh->first = mem_alloc((p->ngroups + 1) * sizeof(*sh->first));
	sh->ref = mem_alloc((total + 1) * sizeof(*sh->ref));
	sh->sets = mem_alloc((total + 1) * sizeof(*sh->sets));
	if (!t->slot || !sh->first || !sh->ref || !sh->sets)
		return -ENOMEM;
	for (i = 0, total = 0; i < p->ngroups; i++) {
		sh->first[i] = total;
		for (k = 0; k < p->groups[i]->ncache; k++)
			sh->ref[total++] = place(sh, t, p->groups[i], k);
	}
	sh->first[p->ngroups] = total;
	return 0;
}

int npplan_share(const struct npplan *p, struct npplan_shares *sh)
{
	struct table t = { 0 };
	int r;

	memset(sh, 0, sizeof(*sh));
	r = fill(p, sh, &t);
	mem_free(t.slot);
	if (r)
		npplan_shares_free(sh);
	return r;
}

void npplan_shares_free(struct npplan_shares *sh)
{
	mem_free(sh->sets);
	mem_free(sh->first);
	mem_free(sh->ref);
	memset(sh, 0, sizeof(*sh));
}
