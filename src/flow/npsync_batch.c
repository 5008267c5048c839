// SPDX-License-Identifier: MIT
/*
 * npsync_batch.c: the three batches of npsync (npsync_int.h): the whole `table inet virgil`
 * of a plan, the difference between two plans, and the table's removal.
 *
 * The full batch creates objects in the order `nft -f` of npplan_render() does (every chain,
 * then every set with its elements, then every rule): `nft list ruleset` prints sets and
 * chains in kernel order, and objects get their handles in creation order, so a full resync
 * lists exactly as that script does, handles included. A difference touches elements and the
 * groups that came, changed shape or went, in the order npsync.h gives.
 */
#include <stdio.h>
#include <string.h>

#include "../base/mem.h"
#include "../nl/nftmsg.h"
#include "npsync_int.h"

#define T NPPLAN_TABLE

/* One set of a group made, with its elements. */
static void make_set(struct npsync_bat *t, const struct npplan_group *g,
		     const struct npplan_gset *s)
{
	uint32_t flags = s->shape == NPPLAN_RANGE ? NFT_SET_INTERVAL | NFT_SET_CONCAT : 0;
	uint8_t keys = npsync_shape_keys(s->shape);
	char name[NPSYNC_NAMELEN];
	struct npsync_elw w;
	uint32_t id;

	npplan_gset_name(name, g->name, s);
	id = npsync_put_set(t, name, keys, s->v, flags);
	w = npsync_elw_init(t, NFT_MSG_NEWSETELEM, name, id, keys, npsync_alen(s->v));
	for (size_t i = s->a; i < s->b; i++)
		npsync_put_elem(&w, &g->elems[i]);
	npsync_elw_close(&w);
}

/* Every set of a group with its elements (none for allow_all). */
static void group_sets(struct npsync_bat *t, const struct npplan_group *g)
{
	struct npplan_gsit it = { 0 };
	struct npplan_gset s;

	while (npplan_gset_next(g, &it, &s))
		make_set(t, g, &s);
}

/* A set deleted; its rule went earlier in the batch. */
static void del_set(struct npsync_bat *t, const struct npplan_group *g,
		    const struct npplan_gset *s)
{
	char name[NPSYNC_NAMELEN];

	npplan_gset_name(name, g->name, s);
	npsync_rec(t, NPSYNC_OP_DELSET, name, 0, 0);
	nftmsg_delset(&t->b, T, name);
}

static void new_chain(struct npsync_bat *t, const char *name, const struct nftmsg_hook *h)
{
	npsync_rec(t, NPSYNC_OP_NEWCHAIN, name, 0, 0);
	nftmsg_newchain(&t->b, T, name, h);
}

static void flush_chain(struct npsync_bat *t, const char *name)
{
	npsync_rec(t, NPSYNC_OP_FLUSHCHAIN, name, 0, 0);
	nftmsg_delrule(&t->b, T, name, 0);
}

/* Elements in a but not in b (both sorted, one set's run), into w. */
static void elems_minus(struct npsync_elw *w, const struct npplan_elem *a, size_t na,
			const struct npplan_elem *b, size_t nb)
{
	size_t i = 0, j = 0;

	while (i < na) {
		int c = j == nb ? -1 : npplan_elem_cmp(&a[i], &b[j]);

		if (c < 0)
			npsync_put_elem(w, &a[i++]);
		else if (c > 0)
			j++;
		else
			i++, j++;
	}
	npsync_elw_close(w);
}

/* One set in both groups: the old elements that went, then the new ones that came. */
static void diff_set(struct npsync_bat *t, const struct npplan_group *o,
		     const struct npplan_group *n, const struct npplan_gset *so,
		     const struct npplan_gset *sn)
{
	const struct npplan_elem *a = o->elems + so->a, *b = n->elems + sn->a;
	size_t na = so->b - so->a, nb = sn->b - sn->a;
	uint8_t keys = npsync_shape_keys(sn->shape), alen = npsync_alen(sn->v);
	char name[NPSYNC_NAMELEN];
	struct npsync_elw w;

	npplan_gset_name(name, n->name, sn);
	w = npsync_elw_init(t, NFT_MSG_DELSETELEM, name, 0, keys, alen);
	elems_minus(&w, a, na, b, nb);
	w = npsync_elw_init(t, NFT_MSG_NEWSETELEM, name, 0, keys, alen);
	elems_minus(&w, b, nb, a, na);
}

static void add_group(struct npsync_bat *t, const struct npplan_group *g)
{
	new_chain(t, g->name, NULL);
	group_sets(t, g);
	npsync_group_rules(t, g);
	t->groups_added++;
}

/*
 * Deleting an element from an interval set costs the kernel a pass over the whole set
 * (nft_pipapo_remove; measured on Linux 6.18: 1,800 deletions from six sets of about 650
 * elements took 0.75 s, adding them back 38 ms). From this many deletions from one such set,
 * the set is replaced instead: deleted whole and made again with its new elements (in the
 * benchmark's namespace relabels, 4 gave a p99 of about 50 ms where 16 gave 100-140 ms).
 * Pod peers never live in interval sets (npplan.h), so this is for ipBlock edits.
 */
#define NPSYNC_REPLACE_DELETES 4

static size_t count_minus(const struct npplan_elem *a, size_t na, const struct npplan_elem *b,
			  size_t nb)
{
	size_t i = 0, j = 0, k = 0;

	while (i < na) {
		int c = j == nb ? -1 : npplan_elem_cmp(&a[i], &b[j]);

		k += c < 0;
		i += c <= 0;
		j += c >= 0;
	}
	return k;
}

/* An interval set in both groups that loses too many elements to delete them one by one. */
static bool churned(const struct npplan_group *o, const struct npplan_group *n,
		    const struct npplan_gset *so, const struct npplan_gset *sn)
{
	return sn->shape == NPPLAN_RANGE &&
	       count_minus(o->elems + so->a, so->b - so->a, n->elems + sn->a, sn->b - sn->a) >=
		       NPSYNC_REPLACE_DELETES;
}

/* The passes of a change over the merged sets of the old and the new group. */
enum pass { P_COUNT, P_DEL, P_NEW, P_DIFF };

struct walk {
	struct npsync_bat *t;
	const struct npplan_group *o, *n;
	enum pass pass;
	size_t moved, redo;	/* P_COUNT: sets that came or went; sets to replace */
};

/* so, sn: the set in the old group, the new one, or both (the same set). */
static void step(struct walk *w, const struct npplan_gset *so, const struct npplan_gset *sn)
{
	bool redo = so && sn && churned(w->o, w->n, so, sn);

	switch (w->pass) {
	case P_COUNT:
		w->moved += !so || !sn;
		w->redo += redo;
		break;
	case P_DEL:
		if (so && (!sn || redo))
			del_set(w->t, w->o, so);
		break;
	case P_NEW:
		if (sn && (!so || redo))
			make_set(w->t, w->n, sn);
		break;
	case P_DIFF:
		if (so && sn && !redo)
			diff_set(w->t, w->o, w->n, so, sn);
		break;
	}
}

static void walk_sets(struct walk *w, enum pass pass)
{
	struct npplan_gsit io = { 0 }, in = { 0 };
	struct npplan_gset so, sn;
	bool ho = npplan_gset_next(w->o, &io, &so), hn = npplan_gset_next(w->n, &in, &sn);

	w->pass = pass;
	while (ho || hn) {
		int c = !ho ? 1 : !hn ? -1 : npplan_gset_cmp(&so, &sn);

		step(w, c <= 0 ? &so : NULL, c >= 0 ? &sn : NULL);
		if (c <= 0)
			ho = npplan_gset_next(w->o, &io, &so);
		if (c >= 0)
			hn = npplan_gset_next(w->n, &in, &sn);
	}
}

/*
 * Same chain, new contents. While the same sets exist, elements change in place. When
 * allow_all toggles or a set empties or fills, the chain is flushed, the sets that went are
 * deleted, the ones that came are made, the rest change in place and the rules are written
 * again: all in the one batch, so packets see the old chain or the new one.
 */
static void change_group(struct npsync_bat *t, const struct npplan_group *o,
			 const struct npplan_group *n)
{
	struct walk w = { .t = t, .o = o, .n = n };

	walk_sets(&w, P_COUNT);
	/* an allow_all group has no set: a toggle is sets coming or going, and the rules */
	w.moved += o->allow_all != n->allow_all || o->dir != n->dir;
	if (!w.moved && !w.redo) {
		walk_sets(&w, P_DIFF);
		return;
	}
	flush_chain(t, n->name);
	walk_sets(&w, P_DEL);
	walk_sets(&w, P_NEW);
	walk_sets(&w, P_DIFF);
	npsync_group_rules(t, n);
	t->sets_replaced += w.redo;
}

/* After its dispatch elements went earlier in the batch, nothing refers to the chain. */
static void remove_group(struct npsync_bat *t, const struct npplan_group *g)
{
	struct npplan_gsit it = { 0 };
	struct npplan_gset s;

	flush_chain(t, g->name);
	npsync_rec(t, NPSYNC_OP_DELCHAIN, g->name, 0, 0);
	nftmsg_delchain(&t->b, T, g->name);
	while (npplan_gset_next(g, &it, &s))
		del_set(t, g, &s);
	t->groups_deleted++;
}

static bool disp_in(const struct npplan_disp *d, const struct npplan *p, int dir, int v)
{
	return d->dir == dir && d->addr.family == npsync_fam(v) && d->group < p->ngroups;
}

static void map_full(struct npsync_bat *t, const struct npplan *p, int dir, int v)
{
	char name[8];
	uint32_t id;
	struct npsync_elw w;

	npsync_map_name(name, dir, v);
	id = npsync_put_set(t, name, NPSYNC_KEYS_ADDR, v, NFT_SET_MAP);
	w = npsync_elw_init(t, NFT_MSG_NEWSETELEM, name, id, NPSYNC_KEYS_ADDR, npsync_alen(v));
	for (size_t i = 0; i < p->ndisp; i++)
		if (disp_in(&p->disp[i], p, dir, v))
			npsync_put_disp(&w, p, &p->disp[i]);
	npsync_elw_close(&w);
}

/*
 * Entries of a's map (dir, v) that b lacks or sends elsewhere, into w. A changed entry is
 * deleted by the first pass (a = old) and added by the second (a = new): a map element's
 * verdict cannot be changed in place. Only the two runs of (dir, v) are merged, and a group
 * kept by the compiler is the same pointer, so most entries cost one address comparison.
 * Returns how many of a's addresses b lacks altogether.
 */
static size_t disp_minus(struct npsync_elw *w, const struct npplan *a, const struct npplan *b,
			 int dir, int v)
{
	size_t i, ie, j, je, absent = 0;

	npplan_disp_run(a, dir, npsync_fam(v), &i, &ie);
	npplan_disp_run(b, dir, npsync_fam(v), &j, &je);
	for (; i < ie; i++) {
		const struct npplan_disp *d = &a->disp[i], *e;
		int c = 1;

		if (d->group >= a->ngroups)
			continue;
		while (j < je && (c = ipaddr_cmp(&b->disp[j].addr, &d->addr)) < 0)
			j++;
		e = j < je && c == 0 ? &b->disp[j] : NULL;
		absent += !e;
		if (e && e->group < b->ngroups &&
		    (a->groups[d->group] == b->groups[e->group] ||
		     !strcmp(a->groups[d->group]->name, b->groups[e->group]->name)))
			continue;
		npsync_put_disp(w, a, d);
	}
	npsync_elw_close(w);
	return absent;
}

/* moved[f]: whether any address of family f (0: IPv4) came or went in either map. */
static void disp_diff(struct npsync_bat *t, const struct npplan *o, const struct npplan *n,
		      bool moved[2])
{
	char name[8];
	struct npsync_elw w;

	for (int dir = NPPLAN_IN; dir <= NPPLAN_EG; dir++) {
		for (int v = 4; v <= 6; v += 2) {
			npsync_map_name(name, dir, v);
			w = npsync_elw_init(t, NFT_MSG_DELSETELEM, name, 0, NPSYNC_KEYS_ADDR,
					    npsync_alen(v));
			moved[v == 6] |= disp_minus(&w, o, n, dir, v) > 0;
			w = npsync_elw_init(t, NFT_MSG_NEWSETELEM, name, 0, NPSYNC_KEYS_ADDR,
					    npsync_alen(v));
			moved[v == 6] |= disp_minus(&w, n, o, dir, v) > 0;
		}
	}
}

/* Addresses of a that b lacks, into w (b NULL: all of a). */
static void self_minus(struct npsync_elw *w, struct npplan_self a, struct npplan_self *b)
{
	const struct ipaddr *x, *y;
	int c;

	while ((x = npplan_self_peek(&a))) {
		c = -1;
		while (b && (y = npplan_self_peek(b)) && (c = ipaddr_cmp(y, x)) < 0)
			npplan_self_skip(b, y);
		if (c != 0)
			npsync_put_self(w, x);
		npplan_self_skip(&a, x);
	}
	npsync_elw_close(w);
}

static void self_full(struct npsync_bat *t, const struct npplan *p, int v)
{
	struct npsync_elw w;
	const char *name = npsync_self_name(v);
	uint32_t id;

	id = npsync_put_set(t, name, NPSYNC_KEYS_SELF, v, 0);
	w = npsync_elw_init(t, NFT_MSG_NEWSETELEM, name, id, NPSYNC_KEYS_SELF, npsync_alen(v));
	self_minus(&w, npplan_self_begin(p, npsync_fam(v)), NULL);
}

/* The self sets of the families whose dispatch addresses moved (the keys of self). */
static void self_diff(struct npsync_bat *t, const struct npplan *o, const struct npplan *n,
		      const bool moved[2])
{
	for (int v = 4; v <= 6; v += 2) {
		struct npplan_self on = npplan_self_begin(n, npsync_fam(v));
		struct npplan_self oo = npplan_self_begin(o, npsync_fam(v));
		const char *name = npsync_self_name(v);
		struct npsync_elw w;

		if (!moved[v == 6])
			continue;
		w = npsync_elw_init(t, NFT_MSG_DELSETELEM, name, 0, NPSYNC_KEYS_SELF,
				    npsync_alen(v));
		self_minus(&w, oo, &on);
		on = npplan_self_begin(n, npsync_fam(v));
		w = npsync_elw_init(t, NFT_MSG_NEWSETELEM, name, 0, NPSYNC_KEYS_SELF,
				    npsync_alen(v));
		self_minus(&w, on, &oo);
	}
}

static bool ranges_eq(struct ipaddr (*a)[2], size_t na, struct ipaddr (*b)[2], size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (ipaddr_cmp(&a[i][0], &b[i][0]) || ipaddr_cmp(&a[i][1], &b[i][1]))
			return false;
	return true;
}

static const char *const cidr_sets[2] = { "masq-src", "cluster" };

static void cidr_list(const struct npplan *p, int which, const struct cidr **c, size_t *n)
{
	*c = which ? p->cluster_cidrs : p->src_cidrs;
	*n = which ? p->ncluster : p->nsrc;
}

/* One CIDR set: created (full) or, when its ranges changed, flushed and refilled (diff). */
static void cidr_set(struct npsync_bat *t, const struct npplan *o, const struct npplan *n,
		     int which, int v)
{
	struct ipaddr (*a)[2] = NULL, (*b)[2] = NULL;
	const struct cidr *c;
	size_t na = 0, nb, k;
	char name[16];
	struct npsync_elw w;
	uint32_t id = 0;
	int r;

	snprintf(name, sizeof(name), "%s%d", cidr_sets[which], v);
	cidr_list(n, which, &c, &k);
	r = npsync_cidr_ranges(c, k, v, &b, &nb);
	if (!r && o) {
		cidr_list(o, which, &c, &k);
		r = npsync_cidr_ranges(c, k, v, &a, &na);
	}
	if (r) {
		t->err = r;
	} else if (!o) {
		id = npsync_put_set(t, name, NPSYNC_KEYS_ADDR, v, NFT_SET_INTERVAL);
	} else if (ranges_eq(a, na, b, nb)) {
		nb = 0;
	} else {
		npsync_rec(t, NPSYNC_OP_FLUSHSET, name, 0, 0);
		nftmsg_flushset(&t->b, T, name);
	}
	w = npsync_elw_init(t, NFT_MSG_NEWSETELEM, name, id, NPSYNC_KEYS_ADDR, npsync_alen(v));
	if (!r)
		npsync_put_cidrs(&w, b, nb);
	mem_free(a);
	mem_free(b);
}

static const struct nftmsg_hook hook_forward = { NF_INET_FORWARD, 0, NF_ACCEPT, "filter" };

static const struct nftmsg_hook hook_post = { NF_INET_POST_ROUTING, 100, NF_ACCEPT, "nat" };

void npsync_build_full(struct npsync_bat *t, const struct npplan *p, uint32_t genid)
{
	size_t i;

	npsync_begin(t, genid);
	npsync_rec(t, NPSYNC_OP_NEWTABLE, T, 0, 0);
	nftmsg_newtable(&t->b, T);
	npsync_rec(t, NPSYNC_OP_DELTABLE, T, 0, 0);
	nftmsg_deltable(&t->b, T);
	npsync_rec(t, NPSYNC_OP_NEWTABLE, T, 0, 0);
	nftmsg_newtable(&t->b, T);
	new_chain(t, "forward", &hook_forward);
	new_chain(t, "postrouting", &hook_post);
	for (i = 0; i < p->ngroups; i++)
		new_chain(t, p->groups[i]->name, NULL);
	for (int dir = NPPLAN_IN; dir <= NPPLAN_EG; dir++)
		for (int v = 4; v <= 6; v += 2)
			map_full(t, p, dir, v);
	for (int which = 0; which < 2; which++)
		for (int v = 4; v <= 6; v += 2)
			cidr_set(t, NULL, p, which, v);
	for (int v = 4; v <= 6; v += 2)
		self_full(t, p, v);
	/* every set before any rule, as nft -f: objects get handles in creation order */
	for (i = 0; i < p->ngroups; i++)
		group_sets(t, p->groups[i]);
	npsync_forward_rules(t);
	for (int v = 4; p->masquerade && v <= 6; v += 2)
		npsync_rule_masq(t, v);
	for (i = 0; i < p->ngroups; i++)
		npsync_group_rules(t, p->groups[i]);
	t->groups_added = p->ngroups;
	npsync_end(t);
}

static void masq_diff(struct npsync_bat *t, const struct npplan *o, const struct npplan *n)
{
	for (int which = 0; which < 2; which++)
		for (int v = 4; v <= 6; v += 2)
			cidr_set(t, o, n, which, v);
	if (o->masquerade == n->masquerade)
		return;
	flush_chain(t, "postrouting");
	for (int v = 4; n->masquerade && v <= 6; v += 2)
		npsync_rule_masq(t, v);
}

/* Groups by name: -1 only in o, 1 only in n, 0 both (a merge step of the sorted arrays). */
static int group_step(const struct npplan *o, const struct npplan *n, size_t i, size_t j)
{
	if (i == o->ngroups)
		return 1;
	if (j == n->ngroups)
		return -1;
	return strcmp(o->groups[i]->name, n->groups[j]->name);
}

void npsync_build_diff(struct npsync_bat *t, const struct npplan *o, const struct npplan *n)
{
	size_t i = 0, j = 0;
	int c;

	npsync_begin(t, 0);
	while (i < o->ngroups || j < n->ngroups) {
		c = group_step(o, n, i, j);
		if (c > 0)
			add_group(t, n->groups[j++]);
		else if (c < 0)
			i++;
		else if (o->groups[i] != n->groups[j] &&
			 !npplan_group_same(o->groups[i], n->groups[j]))
			change_group(t, o->groups[i++], n->groups[j++]);
		else
			i++, j++;
	}
	bool moved[2] = { false, false };

	disp_diff(t, o, n, moved);
	self_diff(t, o, n, moved);
	masq_diff(t, o, n);
	for (i = j = 0; i < o->ngroups || j < n->ngroups;) {
		c = group_step(o, n, i, j);
		if (c < 0)
			remove_group(t, o->groups[i]);
		i += c <= 0;
		j += c >= 0;
	}
	npsync_end(t);
}

void npsync_build_remove(struct npsync_bat *t)
{
	npsync_begin(t, 0);
	npsync_rec(t, NPSYNC_OP_NEWTABLE, T, 0, 0);
	nftmsg_newtable(&t->b, T);
	npsync_rec(t, NPSYNC_OP_DELTABLE, T, 0, 0);
	nftmsg_deltable(&t->b, T);
	npsync_end(t);
}
