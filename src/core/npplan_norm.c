// SPDX-License-Identifier: MIT
/*
 * npplan_norm.c: element normalisation of the policy plan (npplan_normalize(), npplan.h).
 *
 * Normalisation is what makes two plans comparable element by element, and what keeps the
 * kernel from refusing an interval set (overlapping elements are EEXIST). The RANGE boxes of a
 * family are cut at every protocol boundary; within a protocol interval a sweep over the port
 * boundaries unites the address ranges alive between two boundaries; a united range that stays
 * the same across boundaries is one box, and a box then stretches over neighbouring protocol
 * intervals holding exactly the same address and port ranges. The result depends only on the
 * union of the input boxes (maximal address ranges, then maximal port runs, then maximal
 * protocol runs): an "any port" CIDR stays one element however many port-specific boxes cut
 * through it, and the same union written differently gives the same elements.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/mem.h"
#include "../base/sort.h"
#include "npplan.h"

/* ---- normalisation ---------------------------------------------------------------------- */

struct evec {
	struct npplan_elem *v;
	size_t n, cap;
};

static int evec_push(struct evec *e, const struct npplan_elem *x)
{
	if (e->n == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 16;
		void *v = mem_realloc(e->v, ncap * sizeof(*e->v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = ncap;
	}
	e->v[e->n++] = *x;
	return 0;
}

static int elem_qcmp(const void *a, const void *b)
{
	return npplan_elem_cmp(a, b);
}

static int addr_qcmp(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

/* A port boundary of a box: where it starts covering (plo) or stops (phi + 1). */
struct pev {
	uint32_t port;
	bool end;
	size_t pos;
};

static int pev_qcmp(const void *a, const void *b)
{
	const struct pev *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * How many boxes cover each address segment (the space between two consecutive box
 * boundaries), in a min/max segment tree with range add. Runs of covered segments are the
 * united address ranges; the tree finds their ends in logarithmic time, so a port boundary
 * costs only where the coverage changed, not the number of boxes alive across it (one
 * 0.0.0.0/0 box must not make thousands of port boundaries quadratic).
 */
struct seg {
	int *mn, *mx, *lz;
	size_t k;
};

static void seg_apply(struct seg *t, size_t n, int d)
{
	t->mn[n] += d;
	t->mx[n] += d;
	t->lz[n] += d;
}

static void seg_push(struct seg *t, size_t n)
{
	if (t->lz[n]) {
		seg_apply(t, 2 * n, t->lz[n]);
		seg_apply(t, 2 * n + 1, t->lz[n]);
		t->lz[n] = 0;
	}
}

/* Add d to segments [a, b) in node n, which spans [l, r). */
static void seg_add(struct seg *t, size_t n, size_t l, size_t r, size_t a, size_t b, int d)
{
	size_t m = l + (r - l) / 2;

	if (b <= l || r <= a)
		return;
	if (a <= l && r <= b) {
		seg_apply(t, n, d);
		return;
	}
	seg_push(t, n);
	seg_add(t, 2 * n, l, m, a, b, d);
	seg_add(t, 2 * n + 1, m, r, a, b, d);
	t->mn[n] = MIN(t->mn[2 * n], t->mn[2 * n + 1]);
	t->mx[n] = MAX(t->mx[2 * n], t->mx[2 * n + 1]);
}

/* The first segment at or after i that is uncovered (zero) or covered (!zero); k if none. */
static size_t seg_next(struct seg *t, size_t n, size_t l, size_t r, size_t i, bool zero)
{
	size_t m = l + (r - l) / 2, j;

	if (r <= i || (zero ? t->mn[n] > 0 : t->mx[n] == 0))
		return t->k;
	if (r - l == 1)
		return l;
	seg_push(t, n);
	j = seg_next(t, 2 * n, l, m, i, zero);
	return j < t->k ? j : seg_next(t, 2 * n + 1, m, r, i, zero);
}

/* One past the last uncovered segment before i; 0 if there is none. */
static size_t seg_after_zero(struct seg *t, size_t n, size_t l, size_t r, size_t i)
{
	size_t m = l + (r - l) / 2, j;

	if (i <= l || t->mn[n] > 0)
		return 0;
	if (r - l == 1)
		return l + 1;
	seg_push(t, n);
	j = seg_after_zero(t, 2 * n + 1, m, r, i);
	return j ? j : seg_after_zero(t, 2 * n, l, m, i);
}

/* Segments [a, b); for an open run, the port where it began. */
struct run {
	size_t a, b;
	uint32_t plo;
};

static int run_qcmp(const void *x, const void *y)
{
	const struct run *p = x, *q = y;

	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return (p->b > q->b) - (p->b < q->b);
}

/*
 * One family's RANGE boxes being made disjoint, a protocol interval at a time. A sweep over
 * the port boundaries of the boxes covering the interval keeps each address segment's cover
 * count; a run of covered segments that stays the same across port boundaries is one 2-D
 * (address x port) box, closed into flat when it changes. Each interval's flat boxes then
 * stretch the 3-D boxes of open3 that have exactly the same address and port ranges, and
 * the others are closed into out.
 */
struct norm {
	const struct npplan_elem *r;
	size_t m;
	struct pev *ev;
	size_t nev;
	struct ipaddr *pt;	/* segment i starts at pt[i] and ends before pt[i + 1] */
	size_t *sa, *sb;	/* box i covers segments [sa[i], sb[i]) */
	struct seg t;
	struct run *dirty, *old;
	uint32_t *plo;		/* by first segment: the port where an open run began */
	struct evec flat, open3, next3;
	struct evec *out;
};

/* The address ranges of the boxes covering protocols [pa, pb] become the segments. */
static void segments(struct norm *nm, unsigned pa, unsigned pb)
{
	size_t i, k = 0;

	nm->nev = 0;
	for (i = 0; i < nm->m; i++) {
		const struct npplan_elem *e = &nm->r[i];
		struct ipaddr end = e->hi;

		if (e->prlo > pa || e->prhi < pb)
			continue;
		nm->ev[nm->nev++] = (struct pev){ e->plo, false, i };
		nm->ev[nm->nev++] = (struct pev){ (uint32_t)e->phi + 1, true, i };
		nm->pt[k++] = e->lo;
		if (ipaddr_inc(&end))
			nm->pt[k++] = end;
	}
	sort_vec(nm->pt, k, sizeof(*nm->pt), addr_qcmp);
	for (nm->t.k = 0, i = 0; i < k; i++)
		if (i == 0 || ipaddr_cmp(&nm->pt[i], &nm->pt[nm->t.k - 1]))
			nm->pt[nm->t.k++] = nm->pt[i];
	sort_vec(nm->ev, nm->nev, sizeof(*nm->ev), pev_qcmp);
	memset(nm->t.mn, 0, 4 * nm->t.k * sizeof(int));
	memset(nm->t.mx, 0, 4 * nm->t.k * sizeof(int));
	memset(nm->t.lz, 0, 4 * nm->t.k * sizeof(int));
}

static size_t seg_of(const struct norm *nm, const struct ipaddr *a)
{
	const struct ipaddr *p = bsearch(a, nm->pt, nm->t.k, sizeof(*a), addr_qcmp);

	return (size_t)(p - nm->pt);
}

static void spans(struct norm *nm)
{
	for (size_t i = 0; i < nm->nev; i++) {
		const struct npplan_elem *e = &nm->r[nm->ev[i].pos];
		struct ipaddr end = e->hi;

		if (nm->ev[i].end)
			continue;
		nm->sa[nm->ev[i].pos] = seg_of(nm, &e->lo);
		nm->sb[nm->ev[i].pos] = ipaddr_inc(&end) ? seg_of(nm, &end) : nm->t.k;
	}
}

/* The tree operations on the whole of the current segments. */
static size_t next_seg(struct norm *nm, size_t i, bool zero)
{
	return seg_next(&nm->t, 1, 0, nm->t.k, i, zero);
}

static size_t after_zero(struct norm *nm, size_t i)
{
	return seg_after_zero(&nm->t, 1, 0, nm->t.k, i);
}

/* A run that ends at port boundary x becomes a 2-D box. */
static int close_run(struct norm *nm, const struct run *u, uint32_t x)
{
	struct npplan_elem e = { .shape = NPPLAN_RANGE };

	e.lo = nm->pt[u->a];
	if (u->b < nm->t.k) {
		e.hi = nm->pt[u->b];
		ipaddr_dec(&e.hi);
	} else {
		/* only a box reaching the top of the space covers the last segment */
		e.hi = nm->r[0].hi;
		memset(e.hi.a, 0xff, ipaddr_len(e.hi.family));
	}
	e.plo = (uint16_t)u->plo;
	e.phi = (uint16_t)(x - 1);
	return evec_push(&nm->flat, &e);
}

/*
 * The regions where the boundaries in ev[from..to) can change the runs (each box's segments
 * and the runs touching them), sorted and merged; then the runs in them before the change.
 */
static size_t dirty_runs(struct norm *nm, size_t from, size_t to, size_t *nold)
{
	size_t i, nd = 0;

	for (i = from; i < to; i++) {
		size_t p = nm->ev[i].pos;

		nm->dirty[i - from].a = after_zero(nm, nm->sa[p]);
		nm->dirty[i - from].b = next_seg(nm, nm->sb[p], true);
	}
	sort_vec(nm->dirty, to - from, sizeof(*nm->dirty), run_qcmp);
	for (i = 0; i < to - from; i++) {
		if (nd && nm->dirty[i].a <= nm->dirty[nd - 1].b)
			nm->dirty[nd - 1].b = MAX(nm->dirty[nd - 1].b, nm->dirty[i].b);
		else
			nm->dirty[nd++] = nm->dirty[i];
	}
	*nold = 0;
	for (i = 0; i < nd; i++) {
		size_t a = next_seg(nm, nm->dirty[i].a, false);

		while (a < nm->dirty[i].b) {
			size_t b = next_seg(nm, a, true);

			nm->old[(*nold)++] = (struct run){ a, b, nm->plo[a] };
			a = next_seg(nm, b, false);
		}
	}
	return nd;
}

/*
 * Apply the port boundary at ev[*i].port: the runs of the dirty regions that are still
 * there stay open, the others close, and the new ones open at this port.
 */
static int port_step(struct norm *nm, size_t *i)
{
	uint32_t x = nm->ev[*i].port;
	size_t e, d, o = 0, nd, nold;
	int r = 0;

	for (e = *i; e < nm->nev && nm->ev[e].port == x; e++)
		;
	nd = dirty_runs(nm, *i, e, &nold);
	for (; *i < e; (*i)++) {
		size_t p = nm->ev[*i].pos;

		seg_add(&nm->t, 1, 0, nm->t.k, nm->sa[p], nm->sb[p], nm->ev[*i].end ? -1 : 1);
	}
	for (d = 0; !r && d < nd; d++) {
		size_t a = next_seg(nm, nm->dirty[d].a, false);

		while (!r && a < nm->dirty[d].b) {
			struct run u = { a, next_seg(nm, a, true), x };

			while (!r && o < nold && run_qcmp(&nm->old[o], &u) < 0)
				r = close_run(nm, &nm->old[o++], x);
			if (o < nold && !run_qcmp(&nm->old[o], &u))
				o++;
			else
				nm->plo[a] = x;
			a = next_seg(nm, u.b, false);
		}
	}
	while (!r && o < nold)
		r = close_run(nm, &nm->old[o++], x);
	return r;
}

/* The union of the boxes that cover protocols [pa, pb], as disjoint 2-D boxes in flat. */
static int port_sweep(struct norm *nm, unsigned pa, unsigned pb)
{
	size_t i = 0;
	int r = 0;

	nm->flat.n = 0;
	segments(nm, pa, pb);
	spans(nm);
	while (!r && i < nm->nev)
		r = port_step(nm, &i);
	return r;
}

/* lo is at most one past hi: the ranges ending at hi and starting at lo touch or overlap. */
static bool touches(const struct ipaddr *hi, const struct ipaddr *lo)
{
	struct ipaddr t = *hi;

	return !ipaddr_inc(&t) || ipaddr_cmp(lo, &t) <= 0;
}

/* (lo, hi, plo, phi): the order of open3 and flat. */
static int key_cmp(const struct npplan_elem *a, const struct npplan_elem *b)
{
	int r = ipaddr_cmp(&a->lo, &b->lo);

	if (r || (r = ipaddr_cmp(&a->hi, &b->hi)))
		return r;
	if (a->plo != b->plo)
		return a->plo < b->plo ? -1 : 1;
	return (a->phi > b->phi) - (a->phi < b->phi);
}

/*
 * Stretch the open 3-D boxes over protocols [lo, hi]: a box whose address and port ranges
 * flat also holds grows, any other is closed into out, and flat's new boxes open at lo.
 * Both lists are sorted by key_cmp, so one merge pass does it.
 */
static int stretch(struct norm *nm, unsigned lo, unsigned hi)
{
	struct evec *open = &nm->open3, *next = &nm->next3, t;
	size_t i = 0, j = 0;
	int r = 0;

	next->n = 0;
	while (!r && (i < open->n || j < nm->flat.n)) {
		int c = i == open->n ? 1 : j == nm->flat.n ? -1 :
			key_cmp(&open->v[i], &nm->flat.v[j]);
		struct npplan_elem e;

		if (c < 0) {
			r = evec_push(nm->out, &open->v[i++]);
			continue;
		}
		e = c == 0 ? open->v[i++] : nm->flat.v[j];
		if (c > 0)
			e.prlo = (uint8_t)lo;
		e.prhi = (uint8_t)hi;
		j++;
		r = evec_push(next, &e);
	}
	t = *open;
	*open = *next;
	*next = t;
	return r;
}

static int norm_protocols(struct norm *nm)
{
	bool bound[257] = { false };
	unsigned p, q;
	size_t i;
	int r = 0;

	for (i = 0; i < nm->m; i++) {
		bound[nm->r[i].prlo] = true;
		bound[nm->r[i].prhi + 1] = true;
	}
	for (p = 0; !r && p < 256; p = q) {
		for (q = p + 1; q < 256 && !bound[q]; q++)
			;
		r = port_sweep(nm, p, q - 1);
		if (r)
			break;
		if (nm->flat.n > 1)
			sort_vec(nm->flat.v, nm->flat.n, sizeof(*nm->flat.v), elem_qcmp);
		r = stretch(nm, p, q - 1);
	}
	for (i = 0; !r && i < nm->open3.n; i++)
		r = evec_push(nm->out, &nm->open3.v[i]);
	nm->open3.n = 0;
	return r;
}

/*
 * Boxes whose address ranges neither overlap nor touch, not even through other boxes, never
 * interact: such runs of the address-sorted boxes are solved one at a time, which keeps the
 * segments few (scattered peers cost next to nothing).
 */
static int norm_runs(struct norm *nm, const struct npplan_elem *r, size_t m)
{
	size_t s, e;
	int ret = 0;

	for (s = 0; !ret && s < m; s = e) {
		struct ipaddr top = r[s].hi;

		for (e = s + 1; e < m && touches(&top, &r[e].lo); e++)
			if (ipaddr_cmp(&r[e].hi, &top) > 0)
				top = r[e].hi;
		if (e - s == 1) {
			ret = evec_push(nm->out, &r[s]);
			continue;
		}
		nm->r = r + s;
		nm->m = e - s;
		ret = norm_protocols(nm);
	}
	return ret;
}

/* Disjoint boxes covering exactly r[0..m) (one family, sorted), appended to out. */
static int norm_family(const struct npplan_elem *r, size_t m, struct evec *out)
{
	struct norm nm = { .out = out };
	int ret = -ENOMEM;

	if (m == 1)
		return evec_push(out, r);
	nm.ev = mem_alloc(2 * m * sizeof(*nm.ev));
	nm.pt = mem_alloc(2 * m * sizeof(*nm.pt));
	nm.sa = mem_alloc(m * sizeof(*nm.sa));
	nm.sb = mem_alloc(m * sizeof(*nm.sb));
	nm.t.mn = mem_alloc(8 * m * sizeof(int));
	nm.t.mx = mem_alloc(8 * m * sizeof(int));
	nm.t.lz = mem_alloc(8 * m * sizeof(int));
	nm.dirty = mem_alloc(2 * m * sizeof(*nm.dirty));
	nm.old = mem_alloc(2 * m * sizeof(*nm.old));
	nm.plo = mem_alloc(2 * m * sizeof(*nm.plo));
	if (nm.ev && nm.pt && nm.sa && nm.sb && nm.t.mn && nm.t.mx && nm.t.lz && nm.dirty &&
	    nm.old && nm.plo)
		ret = norm_runs(&nm, r, m);
	mem_free(nm.ev);
	mem_free(nm.pt);
	mem_free(nm.sa);
	mem_free(nm.sb);
	mem_free(nm.t.mn);
	mem_free(nm.t.mx);
	mem_free(nm.t.lz);
	mem_free(nm.dirty);
	mem_free(nm.old);
	mem_free(nm.plo);
	mem_free(nm.flat.v);
	mem_free(nm.open3.v);
	mem_free(nm.next3.v);
	return ret;
}

/* Replace the RANGE tail of the sorted v by each family's disjoint boxes, sorted again. */
static int disjoin(struct evec *v)
{
	struct evec res = { 0 };
	size_t rs, s, e;
	int r = 0;

	for (rs = 0; rs < v->n && v->v[rs].shape != NPPLAN_RANGE; rs++)
		;
	for (s = rs; !r && s < v->n; s = e) {
		for (e = s + 1; e < v->n && v->v[e].lo.family == v->v[s].lo.family; e++)
			;
		r = norm_family(v->v + s, e - s, &res);
	}
	if (!r)
		v->n = rs;
	for (s = 0; !r && s < res.n; s++)
		r = evec_push(v, &res.v[s]);
	if (!r)
		sort_vec(v->v + rs, v->n - rs, sizeof(*v->v), elem_qcmp);
	mem_free(res.v);
	return r;
}

/*
 * Malformed elements (an unknown shape or family, an end before its start, mixed families)
 * cover nothing.
 */
static bool elem_valid(const struct npplan_elem *e)
{
	if (e->shape >= NPPLAN_NSHAPES || !ipaddr_len(e->lo.family))
		return false;
	if (e->shape == NPPLAN_PORTS)
		return e->plo <= e->phi;
	if (e->shape != NPPLAN_RANGE)
		return true;
	return e->lo.family == e->hi.family && ipaddr_cmp(&e->lo, &e->hi) <= 0 &&
	       e->prlo <= e->prhi && e->plo <= e->phi;
}

int npplan_normalize(struct npplan_elem **elems, size_t *n)
{
	struct evec v = { 0 };
	size_t i, k = 0;
	int r;

	if (*n == 0)
		return 0;
	v.v = mem_alloc(*n * sizeof(*v.v));
	if (!v.v)
		return -ENOMEM;
	v.cap = *n;
	memcpy(v.v, *elems, *n * sizeof(*v.v));
	sort_vec(v.v, *n, sizeof(*v.v), elem_qcmp);
	for (i = 0; i < *n; i++)
		if (elem_valid(&v.v[i]) && (k == 0 || npplan_elem_cmp(&v.v[k - 1], &v.v[i])))
			v.v[k++] = v.v[i];
	v.n = k;
	r = disjoin(&v);
	if (r) {
		mem_free(v.v);
		return r;
	}
	mem_free(*elems);
	*elems = v.v;
	*n = v.n;
	return 0;
}
