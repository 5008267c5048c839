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
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/mem.h"
#include "../nl/nftmsg.h"
#include "npsync_int.h"

#define T NPPLAN_TABLE

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
	struct npplan_shares sh;
	size_t i;

	if (npplan_share(p, &sh)) {
		t->err = -ENOMEM;
		return;
	}
	npsync_begin(t, genid);
	npsync_rec(t, NPSYNC_OP_NEWTABLE, T, 0, 0);
	nftmsg_newtable(&t->b, T);
	npsync_rec(t, NPSYNC_OP_DELTABLE, T, 0, 0);
	nftmsg_deltable(&t->b, T);
	npsync_rec(t, NPSYNC_OP_NEWTABLE, T, 0, 0);
	nftmsg_newtable(&t->b, T);
	npsync_new_chain(t, "forward", &hook_forward);
	npsync_new_chain(t, "postrouting", &hook_post);
	for (i = 0; i < p->ngroups; i++)
		npsync_new_chain(t, p->groups[i]->name, NULL);
	for (int dir = NPPLAN_IN; dir <= NPPLAN_EG; dir++)
		for (int v = 4; v <= 6; v += 2)
			map_full(t, p, dir, v);
	for (int which = 0; which < 2; which++)
		for (int v = 4; v <= 6; v += 2)
			cidr_set(t, NULL, p, which, v);
	for (int v = 4; v <= 6; v += 2)
		self_full(t, p, v);
	/* every set before any rule, as nft -f: objects get handles in creation order */
	npsync_sets_full(t, &sh);
	npsync_forward_rules(t);
	for (int v = 4; p->masquerade && v <= 6; v += 2)
		npsync_rule_masq(t, v);
	npsync_rules_full(t, p, &sh);
	t->groups_added = p->ngroups;
	npsync_end(t);
	npplan_shares_free(&sh);
}

static void masq_diff(struct npsync_bat *t, const struct npplan *o, const struct npplan *n)
{
	for (int which = 0; which < 2; which++)
		for (int v = 4; v <= 6; v += 2)
			cidr_set(t, o, n, which, v);
	if (o->masquerade == n->masquerade)
		return;
	npsync_flush_chain(t, "postrouting");
	for (int v = 4; n->masquerade && v <= 6; v += 2)
		npsync_rule_masq(t, v);
}

void npsync_build_diff(struct npsync_bat *t, const struct npplan *o,
		       const struct npplan_shares *osh, const struct npplan *n,
		       struct npplan_shares *nsh)
{
	struct npsync_gdiff d;
	bool moved[2] = { false, false };

	if (npsync_gdiff_init(&d, o, osh, n)) {
		t->err = -ENOMEM;
		return;
	}
	npsync_begin(t, 0);
	npsync_gdiff_apply(t, &d);
	disp_diff(t, o, n, moved);
	self_diff(t, o, n, moved);
	masq_diff(t, o, n);
	npsync_gdiff_finish(t, &d);
	npsync_end(t);
	if (nsh) {
		npplan_shares_free(nsh);
		*nsh = d.sn;
		memset(&d.sn, 0, sizeof(d.sn));
	}
	npsync_gdiff_free(&d);
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
