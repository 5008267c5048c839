// SPDX-License-Identifier: MIT
/*
 * npplan.c: the policy plan's value primitives (see npplan.h): freeing a plan, reference-counted
 * groups, the element order and ipBlock arithmetic; element normalisation is npplan_norm.c,
 * the nft text renderer npplan_render.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/mem.h"
#include "../base/sort.h"
#include "k8sobj.h"
#include "npplan.h"

void npplan_free(struct npplan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->ngroups; i++)
		npplan_group_unref(p->groups[i]);
	mem_free(p->groups);
	mem_free(p->disp);
	for (i = 0; i < p->nproblems; i++) {
		mem_free(p->problems[i].policy);
		mem_free(p->problems[i].why);
	}
	mem_free(p->problems);
	mem_free(p->src_cidrs);
	mem_free(p->cluster_cidrs);
	memset(p, 0, sizeof(*p));
}

struct npplan_group *npplan_group_new(const char *name, enum npplan_dir dir)
{
	/* identifies a group in npplan_share()'s caches, where a pointer may be reused */
	static uint64_t serials;
	struct npplan_group *g = mem_calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->dir = (uint8_t)dir;
	g->refs = 1;
	g->serial = ++serials;
	return g;
}

struct npplan_group *npplan_group_ref(struct npplan_group *g)
{
	if (g)
		g->refs++;
	return g;
}

void npplan_group_unref(struct npplan_group *g)
{
	if (!g || --g->refs > 0)
		return;
	npplan_group_cache_free(g);
	mem_free(g->elems);
	mem_free(g);
}

/* The first entry not below (dir, family): disp is sorted by (dir, family, address). */
static size_t disp_bound(const struct npplan *p, int dir, int family)
{
	size_t lo = 0, hi = p->ndisp;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct npplan_disp *d = &p->disp[mid];

		if (d->dir < dir || (d->dir == dir && d->addr.family < family))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void npplan_disp_run(const struct npplan *p, int dir, int family, size_t *from, size_t *to)
{
	*from = disp_bound(p, dir, family);
	*to = disp_bound(p, dir, family + 1);
}

struct npplan_self npplan_self_begin(const struct npplan *p, int family)
{
	struct npplan_self it = { .d = p->disp };

	npplan_disp_run(p, NPPLAN_IN, family, &it.i, &it.iend);
	npplan_disp_run(p, NPPLAN_EG, family, &it.j, &it.jend);
	return it;
}

const struct ipaddr *npplan_self_peek(const struct npplan_self *it)
{
	const struct ipaddr *a = it->i < it->iend ? &it->d[it->i].addr : NULL;
	const struct ipaddr *b = it->j < it->jend ? &it->d[it->j].addr : NULL;

	if (!a || !b)
		return a ? a : b;
	return ipaddr_cmp(a, b) <= 0 ? a : b;
}

void npplan_self_skip(struct npplan_self *it, const struct ipaddr *a)
{
	if (it->i < it->iend && !ipaddr_cmp(&it->d[it->i].addr, a))
		it->i++;
	if (it->j < it->jend && !ipaddr_cmp(&it->d[it->j].addr, a))
		it->j++;
}

static int cmp_u(unsigned a, unsigned b)
{
	return (a > b) - (a < b);
}

/* Elements in one set: the identity npplan_gset_cmp() orders. */
static bool same_set(const struct npplan_elem *a, const struct npplan_elem *b)
{
	return a->shape == b->shape && a->lo.family == b->lo.family &&
	       (a->shape != NPPLAN_PORTS || (a->plo == b->plo && a->phi == b->phi));
}

bool npplan_gset_next(const struct npplan_group *g, struct npplan_gsit *it,
		      struct npplan_gset *s)
{
	const struct npplan_elem *e = g->elems;

	for (; !g->allow_all && it->f < 2; it->f++, it->i = 0) {
		int family = it->f ? AF_INET6 : AF_INET;

		/* The sort puts families within each shape: skip the other family's runs. */
		while (it->i < g->nelems && (e[it->i].lo.family != family ||
					     e[it->i].shape >= NPPLAN_NSHAPES))
			it->i++;
		if (it->i == g->nelems)
			continue;
		s->a = it->i;
		while (it->i < g->nelems && same_set(&e[s->a], &e[it->i]))
			it->i++;
		s->b = it->i;
		s->shape = e[s->a].shape;
		s->v = it->f ? 6 : 4;
		s->plo = s->shape == NPPLAN_PORTS ? e[s->a].plo : 0;
		s->phi = s->shape == NPPLAN_PORTS ? e[s->a].phi : 0;
		return true;
	}
	return false;
}

void npplan_gset_name(char out[NPPLAN_SETNAMELEN], const char *group,
		      const struct npplan_gset *s)
{
	static const char letter[NPPLAN_NSHAPES] = "xpaqr";

	if (s->shape == NPPLAN_PORTS)
		snprintf(out, NPPLAN_SETNAMELEN, "%s-q%d-%u-%u", group, s->v, s->plo, s->phi);
	else
		snprintf(out, NPPLAN_SETNAMELEN, "%s-%c%d", group, letter[s->shape % NPPLAN_NSHAPES],
			 s->v);
}

int npplan_gset_cmp(const struct npplan_gset *a, const struct npplan_gset *b)
{
	int r;

	if ((r = cmp_u(a->v, b->v)) || (r = cmp_u(a->shape, b->shape)) ||
	    (r = cmp_u(a->plo, b->plo)))
		return r;
	return cmp_u(a->phi, b->phi);
}

bool npplan_group_same(const struct npplan_group *a, const struct npplan_group *b)
{
	size_t i;

	if (a == b)
		return true;
	/* A different direction is a different chain body (accept vs return), never "same". */
	if (a->dir != b->dir || a->allow_all != b->allow_all || a->nelems != b->nelems)
		return false;
	for (i = 0; i < a->nelems; i++)
		if (npplan_elem_cmp(&a->elems[i], &b->elems[i]))
			return false;
	return true;
}

int npplan_elem_cmp(const struct npplan_elem *a, const struct npplan_elem *b)
{
	int r;

	if ((r = cmp_u(a->shape, b->shape)))
		return r;
	/* A PORTS set is keyed by its range: its elements sort together. */
	if (a->shape == NPPLAN_PORTS && a->lo.family == b->lo.family &&
	    ((r = cmp_u(a->plo, b->plo)) || (r = cmp_u(a->phi, b->phi))))
		return r;
	if ((r = ipaddr_cmp(&a->lo, &b->lo)))
		return r;
	if ((r = ipaddr_cmp(&a->hi, &b->hi)))
		return r;
	if ((r = cmp_u(a->prlo, b->prlo)))
		return r;
	if ((r = cmp_u(a->prhi, b->prhi)))
		return r;
	if ((r = cmp_u(a->plo, b->plo)))
		return r;
	return cmp_u(a->phi, b->phi);
}

const struct npplan_group *npplan_group_find(const struct npplan *p, const char *name)
{
	size_t lo = 0, hi = p->ngroups;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(p->groups[mid]->name, name);

		if (r == 0)
			return p->groups[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- ipBlock ---------------------------------------------------------------------------- */

static int range_qcmp(const void *a, const void *b)
{
	const struct ipaddr *x = a, *y = b;

	return ipaddr_cmp(&x[0], &y[0]);
}

static int push_range(struct ipaddr (**out)[2], size_t *n, size_t *cap, const struct ipaddr *lo,
		      const struct ipaddr *hi)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *v = mem_realloc(*out, ncap * sizeof(**out));

		if (!v)
			return -ENOMEM;
		*out = v;
		*cap = ncap;
	}
	(*out)[*n][0] = *lo;
	(*out)[*n][1] = *hi;
	(*n)++;
	return 0;
}

/* The excepts that cut into c, clipped to it, sorted by their first address. */
static int cut_ranges(const struct k8sobj_ipblock *b, struct ipaddr (**cuts)[2], size_t *n)
{
	struct ipaddr first, last;
	uint32_t i;

	*n = 0;
	*cuts = mem_alloc((b->nexcept ? b->nexcept : 1) * sizeof(**cuts));
	if (!*cuts)
		return -ENOMEM;
	cidr_first(&b->cidr, &first);
	cidr_last(&b->cidr, &last);
	for (i = 0; i < b->nexcept; i++) {
		const struct cidr *e = &b->except[i];
		struct ipaddr *r = (*cuts)[*n];

		if (!cidr_overlaps(&b->cidr, e))
			continue;
		cidr_first(e, &r[0]);
		cidr_last(e, &r[1]);
		/* an except wider than the cidr removes all of it */
		if (ipaddr_cmp(&r[0], &first) < 0)
			r[0] = first;
		if (ipaddr_cmp(&r[1], &last) > 0)
			r[1] = last;
		(*n)++;
	}
	sort_vec(*cuts, *n, sizeof(**cuts), range_qcmp);
	return 0;
}

int npplan_ipblock_ranges(const struct k8sobj_ipblock *b, struct ipaddr (**out)[2], size_t *n,
			  size_t *cap)
{
	struct ipaddr (*cuts)[2] = NULL;
	struct ipaddr cur, last;
	size_t ncut, i, n0 = *n;
	bool more = true;
	int r;

	r = cut_ranges(b, &cuts, &ncut);
	if (r)
		goto out;
	cidr_first(&b->cidr, &cur);
	cidr_last(&b->cidr, &last);
	/* cur is the first address not yet emitted nor cut; more is false once past last */
	for (i = 0; i < ncut && more; i++) {
		struct ipaddr gap = cuts[i][0];

		if (ipaddr_cmp(&gap, &cur) > 0) {
			ipaddr_dec(&gap);
			r = push_range(out, n, cap, &cur, &gap);
			if (r)
				goto out;
		}
		if (ipaddr_cmp(&cuts[i][1], &cur) >= 0) {
			cur = cuts[i][1];
			more = ipaddr_cmp(&cur, &last) < 0 && ipaddr_inc(&cur);
		}
	}
	if (more)
		r = push_range(out, n, cap, &cur, &last);
out:
	if (r)
		*n = n0;
	mem_free(cuts);
	return r;
}
