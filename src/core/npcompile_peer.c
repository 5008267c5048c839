// SPDX-License-Identifier: MIT
/*
 * npcompile_peer.c: peers, the pod sets policy rules name, and their members. A peer is
 * either a selector pair (podSelector, namespaceSelector; no namespaceSelector means the
 * policy's namespace) or NAMED, the pods having a container port of a given name and
 * protocol (egress named ports towards any address or an ipBlock). Equal peers of different
 * policies are one object, found by a canonical key, holding its own copy of the selectors
 * so it outlives the policy that created it.
 *
 * Indexes keep re-evaluation local: a namespace lists the selector-only peers of its own
 * policies and the namespaceSelector peers its labels match, so a changed pod is tested
 * against those (and the few NAMED peers) only, never against every policy.
 */
#include <errno.h>
#include <string.h>

#include "../base/mem.h"
#include "npcompile_int.h"
#include "selector.h"

enum { KEY_SEL = 1, KEY_NAMED, KEY_NSSEL, KEY_LOCAL, KEY_PODS, KEY_ALLPODS };

/* ---- selectors ------------------------------------------------------------------------ */

static size_t sel_size(const struct k8sobj_selector *s)
{
	size_t n = sizeof(*s) + s->nlabels * sizeof(*s->labels) + s->nexprs * sizeof(*s->exprs);
	uint32_t i, j;

	for (i = 0; i < s->nlabels; i++)
		n += strlen(s->labels[i].key) + strlen(s->labels[i].val) + 2;
	for (i = 0; i < s->nexprs; i++) {
		n += strlen(s->exprs[i].key) + 1 + s->exprs[i].nvalues * sizeof(char *);
		for (j = 0; j < s->exprs[i].nvalues; j++)
			n += strlen(s->exprs[i].values[j]) + 1;
	}
	return n;
}

/* Copy string s to the text area *t. */
static const char *put_str(char **t, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = *t;

	memcpy(d, s, n);
	*t += n;
	return d;
}

/*
 * A deep copy in one allocation: the struct, the label and expression arrays, the value
 * pointer arrays (all pointer-sized multiples, so alignment holds), then the text.
 */
static struct k8sobj_selector *sel_dup(const struct k8sobj_selector *s)
{
	struct k8sobj_selector *d = mem_alloc(sel_size(s));
	struct k8sobj_kv *kv;
	struct k8sobj_expr *ex;
	const char **vals;
	char *t;
	uint32_t i, j, nv = 0;

	if (!d)
		return NULL;
	kv = (struct k8sobj_kv *)(d + 1);
	ex = (struct k8sobj_expr *)(kv + s->nlabels);
	vals = (const char **)(ex + s->nexprs);
	for (i = 0; i < s->nexprs; i++)
		nv += s->exprs[i].nvalues;
	t = (char *)(vals + nv);
	for (i = 0; i < s->nlabels; i++) {
		kv[i].key = put_str(&t, s->labels[i].key);
		kv[i].val = put_str(&t, s->labels[i].val);
	}
	for (i = 0; i < s->nexprs; i++) {
		ex[i] = s->exprs[i];
		ex[i].key = put_str(&t, s->exprs[i].key);
		ex[i].values = vals;
		for (j = 0; j < s->exprs[i].nvalues; j++)
			*vals++ = put_str(&t, s->exprs[i].values[j]);
	}
	*d = (struct k8sobj_selector){ kv, ex, s->nlabels, s->nexprs };
	return d;
}

static void key_sel(struct npc *c, const struct k8sobj_selector *s)
{
	uint32_t i, j;

	npc_kb_num(c, s->nlabels);
	for (i = 0; i < s->nlabels; i++) {
		npc_kb_str(c, s->labels[i].key);
		npc_kb_str(c, s->labels[i].val);
	}
	npc_kb_num(c, s->nexprs);
	for (i = 0; i < s->nexprs; i++) {
		npc_kb_num(c, s->exprs[i].op);
		npc_kb_str(c, s->exprs[i].key);
		npc_kb_num(c, s->exprs[i].nvalues);
		for (j = 0; j < s->exprs[i].nvalues; j++)
			npc_kb_str(c, s->exprs[i].values[j]);
	}
}

/* ---- membership ----------------------------------------------------------------------- */

int npc_peer_mark(struct npc *c, struct npc_peer *p)
{
	int r = 0;

	if (!p->changed && !(r = npc_vec_push(&c->chpeers, p)))
		p->changed = true;
	return r;
}

/* Record a member change for the groups that edit themselves by it. */
static int delta(struct npc *c, struct npc_peer *pe, struct npc_pod *p, bool was, bool is)
{
	int r = npc_peer_mark(c, pe);

	if (pe->fresh)
		return r;
	if (!r)
		r = npc_grow((void **)&pe->delta, &pe->capdelta, pe->ndelta, sizeof(*pe->delta));
	if (!r)
		pe->delta[pe->ndelta++] = (struct npc_pdelta){ p, was, is };
	return r;
}

static int memb_add(struct npc *c, struct npc_peer *pe, struct npc_pod *p)
{
	if (npc_grow((void **)&pe->members, &pe->capmembers, pe->nmembers, sizeof(*pe->members)) ||
	    npc_grow((void **)&p->memb, &p->capmemb, p->nmemb, sizeof(*p->memb)))
		return -ENOMEM;
	p->memb[p->nmemb++] = (struct npc_memb){ pe, pe->nmembers };
	pe->members[pe->nmembers++] = p;
	return delta(c, pe, p, false, true);
}

static struct npc_memb *memb_find(struct npc_pod *p, const struct npc_peer *pe)
{
	uint32_t i;

	for (i = 0; i < p->nmemb; i++)
		if (p->memb[i].peer == pe)
			return &p->memb[i];
	return NULL;
}

/* Take pe->members[pos] out, moving the last member into its place. */
static void members_cut(struct npc_peer *pe, uint32_t pos)
{
	struct npc_pod *last = pe->members[--pe->nmembers];

	if (pos == pe->nmembers)
		return;
	pe->members[pos] = last;
	memb_find(last, pe)->pos = pos;
}

static int memb_del(struct npc *c, struct npc_pod *p, uint32_t i)
{
	struct npc_peer *pe = p->memb[i].peer;

	members_cut(pe, p->memb[i].pos);
	p->memb[i] = p->memb[--p->nmemb];
	return delta(c, pe, p, true, false);
}

uint16_t npc_pod_port(const struct npc_pstate *s, const char *name, uint8_t kproto)
{
	uint32_t i;

	for (i = 0; i < s->nports; i++)
		if (s->ports[i].kproto == kproto && strcmp(s->ports[i].name, name) == 0)
			return s->ports[i].port;
	return 0;
}

/* The pod part of the test; the namespace part is the caller's index. */
static bool pod_fits(const struct npc_peer *pe, const struct npc_pod *p)
{
	if (!p->eligible)
		return false;
	if (pe->kind == NPC_PEER_NAMED)
		return npc_pod_port(&p->cur, pe->pname, pe->kproto) != 0;
	return !pe->pods || selector_match_obj(pe->pods, &p->obj->obj);
}

/* Peer marks: old = a membership before this pass, seen = confirmed or added in it. */
static int visit(struct npc *c, struct npc_peer *pe, struct npc_pod *p, uint64_t old)
{
	if (pe->mark == old + 1)
		return 0;
	if (pe->mark == old) {
		pe->mark = old + 1;
		return p->datachg ? delta(c, pe, p, true, true) : 0;
	}
	pe->mark = old + 1;
	return memb_add(c, pe, p);
}

static int visit_all(struct npc *c, const struct npc_vec *v, struct npc_pod *p, uint64_t old)
{
	uint32_t i;
	int r = 0;

	for (i = 0; !r && i < v->n; i++)
		if (pod_fits(v->v[i], p))
			r = visit(c, v->v[i], p, old);
	return r;
}

int npc_pod_reeval(struct npc *c, struct npc_pod *p)
{
	uint64_t old = c->epoch + 1;
	uint32_t i;
	int r = 0;

	c->epoch += 2;
	for (i = 0; i < p->nmemb; i++)
		p->memb[i].peer->mark = old;
	if (p->eligible) {
		r = visit_all(c, &p->nsr->lpeers, p, old);
		if (!r)
			r = visit_all(c, &p->nsr->nsmatch, p, old);
		if (!r)
			r = visit_all(c, &c->named, p, old);
	}
	for (i = p->nmemb; !r && i-- > 0;)
		if (p->memb[i].peer->mark == old)
			r = memb_del(c, p, i);
	return r;
}

int npc_ns_rematch(struct npc *c, struct npc_ns *n)
{
	uint32_t i;
	int r = 0;

	n->nsmatch.n = 0;
	for (i = 0; !r && n->obj && i < c->nspeers.n; i++) {
		struct npc_peer *pe = c->nspeers.v[i];

		if (selector_match_obj(pe->ns, n->obj))
			r = npc_vec_push(&n->nsmatch, pe);
	}
	return r;
}

/* ---- peers ---------------------------------------------------------------------------- */

static bool peer_eq(const void *rec, const void *key)
{
	return strcmp(((const struct npc_peer *)rec)->key, key) == 0;
}

void npc_peer_free(struct npc_peer *p)
{
	if (!p)
		return;
	mem_free(p->key);
	mem_free(p->pods);
	mem_free(p->ns);
	mem_free((char *)p->pname);
	mem_free(p->members);
	mem_free(p->delta);
	mem_free(p);
}

/*
 * A new peer's members among the pods that will not be re-evaluated in this compile anyway
 * (pods marked reeval get all peers, this one included, in that pass; dirty namespaces get
 * their namespaceSelector matches recomputed).
 */
static int fill_ns(struct npc *c, struct npc_peer *pe, struct npc_ns *n)
{
	uint32_t i;
	int r = 0;

	for (i = 0; !r && i < n->pods.n; i++) {
		struct npc_pod *p = n->pods.v[i];

		if (!p->reeval && pod_fits(pe, p))
			r = memb_add(c, pe, p);
	}
	return r;
}

static int peer_fill(struct npc *c, struct npc_peer *pe)
{
	uint32_t i;
	int r = 0;

	if (pe->kind == NPC_PEER_SEL && !pe->ns)
		return fill_ns(c, pe, pe->nsr);
	for (i = 0; !r && i < c->nslist.n; i++) {
		struct npc_ns *n = c->nslist.v[i];

		if (pe->kind == NPC_PEER_NAMED)
			r = fill_ns(c, pe, n);
		else if (!n->dirty && selector_match_obj(pe->ns, n->obj))
			r = npc_vec_push(&n->nsmatch, pe) ?: fill_ns(c, pe, n);
	}
	return r;
}

/* Where the indexes list pe. */
static struct npc_vec *peer_list(struct npc *c, struct npc_peer *pe)
{
	if (pe->kind == NPC_PEER_NAMED)
		return &c->named;
	return pe->ns ? &c->nspeers : &pe->nsr->lpeers;
}

/* The peer with c->kbuf's key, made from proto when new (proto is consumed either way). */
static struct npc_peer *peer_take(struct npc *c, struct npc_peer *proto)
{
	uint64_t h = npc_fnv_str(NPC_FNV_INIT, c->kbuf);
	struct npc_peer *pe = npc_map_get(&c->peers, h, peer_eq, c->kbuf);

	if (pe) {
		pe->refs++;
		npc_peer_free(proto);
		return pe;
	}
	proto->h = h;
	proto->refs = 1;
	proto->fresh = true;
	proto->key = mem_strndup(c->kbuf, c->kbn);
	if (!proto->key || npc_vec_push(peer_list(c, proto), proto))
		goto fail;
	if (npc_map_put(&c->peers, h, proto)) {
		peer_list(c, proto)->n--;
		goto fail;
	}
	/* a failure from here leaves a half-filled peer: the compile fails and resets */
	if (npc_peer_mark(c, proto) || peer_fill(c, proto))
		return NULL;
	return proto;
fail:
	npc_peer_free(proto);
	return NULL;
}

struct npc_peer *npc_peer_sel(struct npc *c, struct npc_ns *polns, const struct k8sobj_peer *kp)
{
	struct npc_peer *pe = mem_calloc(1, sizeof(*pe));
	bool pods = (kp->has & K8SOBJ_PEER_PODS) && !selector_is_empty(&kp->pods);

	if (!pe)
		return NULL;
	pe->kind = NPC_PEER_SEL;
	npc_kb_reset(c);
	npc_kb_num(c, KEY_SEL);
	if (kp->has & K8SOBJ_PEER_NS) {
		npc_kb_num(c, KEY_NSSEL);
		key_sel(c, &kp->ns);
		pe->ns = sel_dup(&kp->ns);
	} else {
		npc_kb_num(c, KEY_LOCAL);
		npc_kb_str(c, polns->name);
		pe->nsr = polns;
	}
	npc_kb_num(c, pods ? KEY_PODS : KEY_ALLPODS);
	if (pods) {
		key_sel(c, &kp->pods);
		pe->pods = sel_dup(&kp->pods);
	}
	if (npc_kb_done(c) || (pods && !pe->pods) || ((kp->has & K8SOBJ_PEER_NS) && !pe->ns)) {
		npc_peer_free(pe);
		return NULL;
	}
	return peer_take(c, pe);
}

struct npc_peer *npc_peer_named(struct npc *c, const char *name, uint8_t kproto)
{
	struct npc_peer *pe = mem_calloc(1, sizeof(*pe));

	if (!pe)
		return NULL;
	pe->kind = NPC_PEER_NAMED;
	pe->kproto = kproto;
	pe->pname = mem_strndup(name, strlen(name));
	npc_kb_reset(c);
	npc_kb_num(c, KEY_NAMED);
	npc_kb_num(c, kproto);
	npc_kb_str(c, name);
	if (!pe->pname || npc_kb_done(c)) {
		npc_peer_free(pe);
		return NULL;
	}
	return peer_take(c, pe);
}

void npc_peer_unref(struct npc *c, struct npc_peer *pe)
{
	uint32_t i;

	if (!pe || --pe->refs > 0)
		return;
	for (i = 0; i < pe->nmembers; i++) {
		struct npc_pod *p = pe->members[i];
		struct npc_memb *m = memb_find(p, pe);

		*m = p->memb[--p->nmemb];
	}
	npc_vec_remove(peer_list(c, pe), pe, false);
	if (pe->kind == NPC_PEER_SEL && pe->ns)
		for (i = 0; i < c->nslist.n; i++)
			npc_vec_remove(&((struct npc_ns *)c->nslist.v[i])->nsmatch, pe, false);
	if (pe->changed)
		npc_vec_remove(&c->chpeers, pe, false);
	npc_map_del(&c->peers, pe->h, pe);
	npc_peer_free(pe);
}
