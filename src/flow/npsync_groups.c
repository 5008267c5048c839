// SPDX-License-Identifier: MIT
/*
 * npsync_groups.c: the group chains and their sets in a batch (npsync_int.h). A set holding
 * the same elements for several groups exists once, in its first group's name, and the
 * other groups' rules name it (npplan_share() decides, from the plan alone).
 *
 * Between two plans the kernel sets are matched by name. A set of both whose owner kept
 * its elements is left alone; one whose elements changed is edited in place (deletions,
 * then additions), or, for an interval set losing many, replaced; sets that came are made
 * and sets that went are deleted last, once no rule names them. A group's chain is written
 * again only when the names its rules use change (a set came, went, or moved to another
 * owner), when it becomes or stops being allow-all, or when a set it names is replaced:
 * flushed first, rules again after the sets exist, all in the one batch, so packets see
 * the old chain or the new one.
 */
#include <errno.h>
#include <string.h>

#include "../base/mem.h"
#include "../nl/nftmsg.h"
#include "npsync_int.h"

#define T NPPLAN_TABLE

/*
 * Deleting an element from an interval set costs the kernel a pass over the whole set
 * (nft_pipapo_remove; measured on Linux 6.18: 1,800 deletions from six sets of about 650
 * elements took 0.75 s, adding them back 38 ms). From this many deletions from one such set,
 * the set is replaced instead: deleted whole and made again with its new elements. Pod
 * peers never live in interval sets (npplan.h), so this is for ipBlock edits.
 */
#define NPSYNC_REPLACE_DELETES 4

static void make_kset(struct npsync_bat *t, const struct npplan_kset *ks)
{
	uint32_t flags = ks->s.shape == NPPLAN_RANGE ? NFT_SET_INTERVAL | NFT_SET_CONCAT : 0;
	uint8_t keys = npsync_shape_keys(ks->s.shape);
	struct npsync_elw w;
	uint32_t id;

	id = npsync_put_set(t, ks->name, keys, ks->s.v, flags);
	w = npsync_elw_init(t, NFT_MSG_NEWSETELEM, ks->name, id, keys, npsync_alen(ks->s.v));
	for (size_t i = ks->s.a; i < ks->s.b; i++)
		npsync_put_elem(&w, &ks->g->elems[i]);
	npsync_elw_close(&w);
}

static void del_kset(struct npsync_bat *t, const struct npplan_kset *ks)
{
	npsync_rec(t, NPSYNC_OP_DELSET, ks->name, 0, 0);
	nftmsg_delset(&t->b, T, ks->name);
}

void npsync_sets_full(struct npsync_bat *t, const struct npplan_shares *sh)
{
	for (size_t k = 0; k < sh->nsets; k++)
		make_kset(t, &sh->sets[k]);
}

void npsync_rules_full(struct npsync_bat *t, const struct npplan *p,
		       const struct npplan_shares *sh)
{
	for (size_t i = 0; i < p->ngroups; i++)
		npsync_group_rules(t, p, sh, i);
}

/* ---- the difference of two plans ---------------------------------------------------------- */

/* Elements in a but not in b (both sorted), into w when given; how many. */
static size_t elems_minus(struct npsync_elw *w, const struct npplan_elem *a, size_t na,
			  const struct npplan_elem *b, size_t nb)
{
	size_t i = 0, j = 0, k = 0;

	while (i < na) {
		int c = j == nb ? -1 : npplan_elem_cmp(&a[i], &b[j]);

		if (c < 0 && w)
			npsync_put_elem(w, &a[i]);
		k += c < 0;
		i += c <= 0;
		j += c >= 0;
	}
	if (w)
		npsync_elw_close(w);
	return k;
}

static const struct npplan_elem *kelems(const struct npplan_kset *ks, size_t *n)
{
	*n = ks->s.b - ks->s.a;
	return ks->g->elems + ks->s.a;
}

/* The owner name, then the set's identity: the order of npplan_shares.sets. */
static int kset_cmp(const struct npplan_kset *a, const struct npplan_kset *b)
{
	return strcmp(a->g->name, b->g->name) ?: npplan_gset_cmp(&a->s, &b->s);
}

/* Match the kernel sets of both plans by name: st_n[k] for new set k, gone[i] for old ones. */
static void match_sets(struct npsync_gdiff *d)
{
	const struct npplan_shares *so = &d->so, *sn = &d->sn;
	size_t i = 0, j = 0;

	while (i < so->nsets || j < sn->nsets) {
		int c = i == so->nsets ? 1 : j == sn->nsets ? -1 :
			kset_cmp(&so->sets[i], &sn->sets[j]);

		if (c < 0) {
			d->gone[i++] = true;
		} else if (c > 0) {
			d->st_n[j++] = NPSYNC_K_NEW;
		} else {
			const struct npplan_kset *a = &so->sets[i], *b = &sn->sets[j];
			size_t na, nb;
			const struct npplan_elem *ea = kelems(a, &na), *eb = kelems(b, &nb);

			if (npplan_kset_same(a, b))
				d->st_n[j] = NPSYNC_K_SAME;
			else if (b->s.shape == NPPLAN_RANGE &&
				 elems_minus(NULL, ea, na, eb, nb) >= NPSYNC_REPLACE_DELETES)
				d->st_n[j] = NPSYNC_K_REDO;
			else
				d->st_n[j] = NPSYNC_K_DIFF;
			d->pair[j] = (uint32_t)i;
			i++, j++;
		}
	}
}

/* Group j of the new plan and i of the old, same name: must its chain be written again? */
static bool rewrite(const struct npsync_gdiff *d, size_t i, size_t j)
{
	const struct npplan_group *o = d->o->groups[i], *n = d->n->groups[j];
	size_t a = d->so.first[i], b = d->sn.first[j];

	if (o->allow_all != n->allow_all || o->dir != n->dir ||
	    d->so.first[i + 1] - a != d->sn.first[j + 1] - b)
		return true;
	for (size_t k = 0; k < d->sn.first[j + 1] - b; k++) {
		uint32_t rn = d->sn.ref[b + k];

		if (d->st_n[rn] == NPSYNC_K_REDO ||
		    strcmp(d->so.sets[d->so.ref[a + k]].name, d->sn.sets[rn].name))
			return true;
	}
	return false;
}

static int group_step(const struct npplan *o, const struct npplan *n, size_t i, size_t j)
{
	if (i == o->ngroups)
		return 1;
	if (j == n->ngroups)
		return -1;
	return strcmp(o->groups[i]->name, n->groups[j]->name);
}

/* Which groups of the new plan are new or written again. */
static void match_groups(struct npsync_gdiff *d)
{
	size_t i = 0, j = 0;

	while (i < d->o->ngroups || j < d->n->ngroups) {
		int c = group_step(d->o, d->n, i, j);

		if (c > 0)
			d->gst[j] = NPSYNC_G_NEW;
		else if (c == 0)
			d->gst[j] = rewrite(d, i, j) ? NPSYNC_G_REWRITE : NPSYNC_G_KEPT;
		i += c <= 0;
		j += c >= 0;
	}
}

int npsync_gdiff_init(struct npsync_gdiff *d, const struct npplan *o,
		      const struct npplan_shares *osh, const struct npplan *n)
{
	memset(d, 0, sizeof(*d));
	d->o = o;
	d->n = n;
	if (osh && osh->first) {
		d->so = *osh;
		d->so_borrowed = true;
	} else if (npplan_share(o, &d->so)) {
		goto nomem;
	}
	if (npplan_share(n, &d->sn))
		goto nomem;
	d->gone = mem_calloc(d->so.nsets + 1, sizeof(*d->gone));
	d->st_n = mem_calloc(d->sn.nsets + 1, 1);
	d->pair = mem_calloc(d->sn.nsets + 1, sizeof(*d->pair));
	d->gst = mem_calloc(n->ngroups + 1, 1);
	if (!d->gone || !d->st_n || !d->pair || !d->gst)
		goto nomem;
	match_sets(d);
	match_groups(d);
	return 0;
nomem:
	npsync_gdiff_free(d);
	return -ENOMEM;
}

void npsync_gdiff_free(struct npsync_gdiff *d)
{
	if (!d->so_borrowed)
		npplan_shares_free(&d->so);
	npplan_shares_free(&d->sn);
	mem_free(d->gone);
	mem_free(d->st_n);
	mem_free(d->pair);
	mem_free(d->gst);
	memset(d, 0, sizeof(*d));
}

static void diff_kset(struct npsync_bat *t, const struct npplan_kset *a,
		      const struct npplan_kset *b)
{
	uint8_t keys = npsync_shape_keys(b->s.shape), alen = npsync_alen(b->s.v);
	size_t na, nb;
	const struct npplan_elem *ea = kelems(a, &na), *eb = kelems(b, &nb);
	struct npsync_elw w;

	w = npsync_elw_init(t, NFT_MSG_DELSETELEM, b->name, 0, keys, alen);
	elems_minus(&w, ea, na, eb, nb);
	w = npsync_elw_init(t, NFT_MSG_NEWSETELEM, b->name, 0, keys, alen);
	elems_minus(&w, eb, nb, ea, na);
}

/*
 * Before dispatch: the chains to write again and those that go are flushed (no rule may
 * name a set when it is deleted), sets replaced, made and edited, new chains, rules.
 */
void npsync_gdiff_apply(struct npsync_bat *t, const struct npsync_gdiff *d)
{
	const struct npplan *o = d->o, *n = d->n;
	size_t i, j, k;

	for (i = j = 0; i < o->ngroups || j < n->ngroups;) {
		int c = group_step(o, n, i, j);

		if (c < 0 || (c == 0 && d->gst[j] == NPSYNC_G_REWRITE))
			npsync_flush_chain(t, o->groups[i]->name);
		i += c <= 0;
		j += c >= 0;
	}
	for (k = 0; k < d->sn.nsets; k++)
		if (d->st_n[k] == NPSYNC_K_REDO)
			del_kset(t, &d->so.sets[d->pair[k]]);
	for (k = 0; k < d->sn.nsets; k++) {
		if (d->st_n[k] == NPSYNC_K_NEW || d->st_n[k] == NPSYNC_K_REDO)
			make_kset(t, &d->sn.sets[k]);
		else if (d->st_n[k] == NPSYNC_K_DIFF)
			diff_kset(t, &d->so.sets[d->pair[k]], &d->sn.sets[k]);
		t->sets_replaced += d->st_n[k] == NPSYNC_K_REDO;
	}
	for (j = 0; j < n->ngroups; j++) {
		if (d->gst[j] == NPSYNC_G_NEW) {
			npsync_new_chain(t, n->groups[j]->name, NULL);
			t->groups_added++;
		}
		if (d->gst[j] != NPSYNC_G_KEPT)
			npsync_group_rules(t, n, &d->sn, j);
	}
}

/* After dispatch (nothing jumps to them now): the chains of groups that went, then the sets
 * nothing names any more. */
void npsync_gdiff_finish(struct npsync_bat *t, const struct npsync_gdiff *d)
{
	const struct npplan *o = d->o, *n = d->n;
	size_t i, j;

	for (i = j = 0; i < o->ngroups || j < n->ngroups;) {
		int c = group_step(o, n, i, j);

		if (c < 0) {
			npsync_rec(t, NPSYNC_OP_DELCHAIN, o->groups[i]->name, 0, 0);
			nftmsg_delchain(&t->b, T, o->groups[i]->name);
			t->groups_deleted++;
		}
		i += c <= 0;
		j += c >= 0;
	}
	for (i = 0; i < d->so.nsets; i++)
		if (d->gone[i])
			del_kset(t, &d->so.sets[i]);
}
