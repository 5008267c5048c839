// SPDX-License-Identifier: MIT
/*
 * npcompile_rec.c: the compiler's records of pods, namespaces and policies: lookup and
 * creation by key, the dirty lists npc_note() feeds, loading everything from the caches
 * after a reset, and forgetting what the caches no longer hold once a compile succeeded.
 * A record is freed only when nothing points at it any more: a pod once it left every peer
 * and group, a namespace once it has no pods, policies or peers and no object.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/mem.h"
#include "cache.h"
#include "npcompile_int.h"

struct nskey {
	const char *ns, *name;
};

static bool ns_eq(const void *rec, const void *key)
{
	return strcmp(((const struct npc_ns *)rec)->name, key) == 0;
}

static bool pod_eq(const void *rec, const void *key)
{
	const struct npc_pod *p = rec;
	const struct nskey *k = key;

	return strcmp(p->name, k->name) == 0 && strcmp(p->nsr->name, k->ns) == 0;
}

static bool pol_eq(const void *rec, const void *key)
{
	const struct npc_pol *p = rec;
	const struct nskey *k = key;

	return strcmp(p->name, k->name) == 0 && strcmp(p->nsr->name, k->ns) == 0;
}

static uint64_t key_hash(const char *ns, const char *name)
{
	return npc_fnv_str(npc_fnv_str(NPC_FNV_INIT, ns), name);
}

static void ns_free(struct npc_ns *n)
{
	if (!n)
		return;
	npc_vec_free(&n->pods);
	npc_vec_free(&n->pols);
	npc_vec_free(&n->lpeers);
	npc_vec_free(&n->nsmatch);
	mem_free(n->name);
	mem_free(n);
}

int npc_mark_ns(struct npc *c, struct npc_ns *n)
{
	int r = 0;

	if (!n->dirty && !(r = npc_vec_push(&c->dns, n)))
		n->dirty = true;
	return r;
}

int npc_mark_pod(struct npc *c, struct npc_pod *p)
{
	int r = 0;

	if (!p->dirty && !(r = npc_vec_push(&c->dpods, p)))
		p->dirty = true;
	return r;
}

int npc_mark_pol(struct npc *c, struct npc_pol *p)
{
	int r = 0;

	if (!p->dirty && !(r = npc_vec_push(&c->dpols, p)))
		p->dirty = true;
	return r;
}

/* A record made here is dirty, so the next compile reads its object from the cache. */
struct npc_ns *npc_ns_get(struct npc *c, const char *name, bool create)
{
	uint64_t h = npc_fnv_str(NPC_FNV_INIT, name);
	struct npc_ns *n = npc_map_get(&c->nss, h, ns_eq, name);

	if (n || !create)
		return n;
	n = mem_calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->h = h;
	n->name = mem_strndup(name, strlen(name));
	if (!n->name || npc_vec_push(&c->nslist, n))
		goto fail;
	if (npc_map_put(&c->nss, h, n)) {
		c->nslist.n--;
		goto fail;
	}
	if (npc_mark_ns(c, n) == 0)
		return n;
	npc_map_del(&c->nss, h, n);
	c->nslist.n--;
fail:
	ns_free(n);
	return NULL;
}

static char *join(const char *ns, const char *name, const char **namep)
{
	size_t a = strlen(ns), b = strlen(name);
	char *s = mem_alloc(a + b + 2);

	if (!s)
		return NULL;
	memcpy(s, ns, a);
	s[a] = '/';
	memcpy(s + a + 1, name, b + 1);
	*namep = s + a + 1;
	return s;
}

void npc_pod_free(struct npc_pod *p)
{
	if (!p)
		return;
	mem_free(p->memb);
	mem_free(p->cur.ports);
	mem_free(p->old.ports);
	mem_free(p->full);
	mem_free(p);
}

struct npc_pod *npc_pod_get(struct npc *c, const char *ns, const char *name, bool create)
{
	struct nskey k = { ns, name };
	uint64_t h = key_hash(ns, name);
	struct npc_pod *p = npc_map_get(&c->pods, h, pod_eq, &k);

	if (p || !create)
		return p;
	p = mem_calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->h = h;
	p->tpos = NPC_NONE;
	p->nsr = npc_ns_get(c, ns, true);
	p->full = join(ns, name, &p->name);
	if (!p->nsr || !p->full)
		goto fail;
	p->nspos = p->nsr->pods.n;
	if (npc_vec_push(&p->nsr->pods, p))
		goto fail;
	if (npc_map_put(&c->pods, h, p)) {
		p->nsr->pods.n--;
		goto fail;
	}
	if (npc_mark_pod(c, p) == 0)
		return p;
	npc_map_del(&c->pods, h, p);
	p->nsr->pods.n--;
fail:
	npc_pod_free(p);
	return NULL;
}

static void pol_free(struct npc_pol *p)
{
	if (!p)
		return;
	mem_free(p->rules);
	mem_free(p->ipeers);
	mem_free(p->iports);
	mem_free(p->ranges);
	mem_free(p->full);
	mem_free(p);
}

struct npc_pol *npc_pol_get(struct npc *c, const char *ns, const char *name, bool create)
{
	struct nskey k = { ns, name };
	uint64_t h = key_hash(ns, name);
	struct npc_pol *p = npc_map_get(&c->pols, h, pol_eq, &k);

	if (p || !create)
		return p;
	p = mem_calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->h = h;
	p->nsr = npc_ns_get(c, ns, true);
	p->full = join(ns, name, &p->name);
	if (!p->nsr || !p->full || npc_map_put(&c->pols, h, p))
		goto fail;
	if (npc_mark_pol(c, p) == 0)
		return p;
	npc_map_del(&c->pols, h, p);
fail:
	pol_free(p);
	return NULL;
}

/* Everything goes; the built plan groups wait in the pool for the rebuild to reuse them. */
void npc_clear(struct npc *c)
{
	uint32_t i;

	for (i = 0; i < c->grplist.n; i++) {
		struct npc_group *g = c->grplist.v[i];

		if (g->g && npc_vec_push(&c->pool, g->g))
			npplan_group_unref(g->g);
		g->g = NULL;
		npc_group_free(g);
	}
	for (i = 0; i < c->peers.cap; i++)
		npc_peer_free(c->peers.s[i].v);
	for (i = 0; i < c->pods.cap; i++)
		npc_pod_free(c->pods.s[i].v);
	for (i = 0; i < c->pols.cap; i++)
		pol_free(c->pols.s[i].v);
	for (i = 0; i < c->nslist.n; i++)
		ns_free(c->nslist.v[i]);
	npc_map_free(&c->pods);
	npc_map_free(&c->nss);
	npc_map_free(&c->pols);
	npc_map_free(&c->peers);
	npc_map_free(&c->groups);
	npc_vec_free(&c->nslist);
	npc_vec_free(&c->nspeers);
	npc_vec_free(&c->named);
	npc_vec_free(&c->grplist);
	npc_vec_free(&c->targets);
	npc_vec_free(&c->dpods);
	npc_vec_free(&c->rpods);
	npc_vec_free(&c->dns);
	npc_vec_free(&c->dpols);
	npc_vec_free(&c->chpeers);
}

int npc_load(struct npc *c)
{
	const struct npc_input *in = c->in;
	const struct k8sobj *o;
	size_t pos;

	cache_for_each(in->namespaces, pos, o)
		if (!npc_ns_get(c, o->name, true))
			return -ENOMEM;
	cache_for_each(in->pods, pos, o)
		if (!npc_pod_get(c, o->ns, o->name, true))
			return -ENOMEM;
	cache_for_each(in->policies, pos, o)
		if (!npc_pol_get(c, o->ns, o->name, true))
			return -ENOMEM;
	return 0;
}

static bool ns_unused(const struct npc_ns *n)
{
	return !n->dirty && !n->poldirty && !n->obj && !n->pods.n && !n->pols.n && !n->lpeers.n;
}

static void pod_forget(struct npc *c, struct npc_pod *p)
{
	struct npc_ns *n = p->nsr;
	struct npc_pod *last = n->pods.v[n->pods.n - 1];

	n->pods.v[p->nspos] = last;
	last->nspos = p->nspos;
	n->pods.n--;
	npc_map_del(&c->pods, p->h, p);
	npc_pod_free(p);
}

/* Namespaces are freed last, in one sweep, so no loop above meets a freed one. */
void npc_collect(struct npc *c)
{
	bool sweep = c->dns.n > 0;
	uint32_t i;

	for (i = 0; i < c->rpods.n; i++)
		((struct npc_pod *)c->rpods.v[i])->reeval = false;
	for (i = 0; i < c->dpods.n; i++) {
		struct npc_pod *p = c->dpods.v[i];

		p->dirty = false;
		mem_free(p->old.ports);
		memset(&p->old, 0, sizeof(p->old));
		if (!p->obj && !p->nmemb && p->tpos == NPC_NONE && !p->grp[0] && !p->grp[1]) {
			pod_forget(c, p);
			sweep = true;
		}
	}
	for (i = 0; i < c->dpols.n; i++) {
		struct npc_pol *p = c->dpols.v[i];

		p->dirty = false;
		p->nsr->poldirty = false;
		if (p->obj)
			continue;
		npc_map_del(&c->pols, p->h, p);
		pol_free(p);
		sweep = true;
	}
	for (i = 0; i < c->chpeers.n; i++) {
		struct npc_peer *pe = c->chpeers.v[i];

		pe->changed = pe->fresh = false;
		pe->ndelta = 0;
	}
	for (i = 0; i < c->dns.n; i++)
		((struct npc_ns *)c->dns.v[i])->dirty = false;
	for (i = c->nslist.n; sweep && i-- > 0;) {
		struct npc_ns *n = c->nslist.v[i];

		if (!ns_unused(n))
			continue;
		npc_map_del(&c->nss, n->h, n);
		c->nslist.v[i] = c->nslist.v[--c->nslist.n];
		ns_free(n);
	}
	c->dpods.n = c->rpods.n = c->dpols.n = c->chpeers.n = c->dns.n = 0;
}
