// SPDX-License-Identifier: MIT
/*
 * npcompile.c: the NetworkPolicy compiler's API (see npcompile.h): notes, and the compile
 * pass that turns them into a plan. The pass runs in a fixed order so every step sees the
 * state the earlier ones left: namespace objects, pod objects, policies (their peers start
 * with the members that no later step revisits), namespaceSelector matches of changed
 * namespaces, pod memberships, target groups, group names, groups built (a policy changed)
 * or edited (members changed), plan.
 *
 * A compile from scratch is the same pass over records freshly loaded from the caches with
 * everything dirty, so incremental and full compiles cannot drift apart. Any failure
 * leaves the state half-updated; the compiler then forgets it all and starts from scratch
 * on the next try, reusing the plan groups it built before when their content is equal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../base/sort.h"
#include "cache.h"
#include "npcompile_int.h"

int npc_new(struct npc **out)
{
	struct npc *c = mem_calloc(1, sizeof(*c));
	uint64_t seed;

	*out = c;
	if (!c)
		return -ENOMEM;
	c->all_dirty = true;
	/* table order never reaches the plan, so an address-derived seed costs no determinism */
	seed = npc_fnv(NPC_FNV_INIT, &c, sizeof(c));
	c->pods.seed = seed;
	c->nss.seed = seed ^ 1;
	c->pols.seed = seed ^ 2;
	c->peers.seed = seed ^ 3;
	c->groups.seed = seed ^ 4;
	return 0;
}

static void pool_drop(struct npc *c)
{
	uint32_t i;

	for (i = 0; i < c->pool.n; i++)
		npplan_group_unref(c->pool.v[i]);
	c->pool.n = 0;
}

void npc_free(struct npc *c)
{
	if (!c)
		return;
	npc_clear(c);
	pool_drop(c);
	npc_vec_free(&c->pool);
	npc_vec_free(&c->kpols);
	npc_vec_free(&c->knamed);
	mem_free(c->node);
	mem_free(c->lidx);
	mem_free(c->kbuf);
	mem_free(c);
}

/* ---- notes -------------------------------------------------------------------------------- */

static void note_key(struct npc *c, const struct k8sobj *o)
{
	struct npc_pod *pod;
	struct npc_ns *ns;
	struct npc_pol *pol;

	switch (o->kind) {
	case K8SOBJ_POD:
		pod = npc_pod_get(c, o->ns, o->name, true);
		c->all_dirty |= !pod || npc_mark_pod(c, pod);
		break;
	case K8SOBJ_NAMESPACE:
		ns = npc_ns_get(c, o->name, true);
		c->all_dirty |= !ns || npc_mark_ns(c, ns);
		break;
	case K8SOBJ_NETPOL:
		pol = npc_pol_get(c, o->ns, o->name, true);
		c->all_dirty |= !pol || npc_mark_pol(c, pol);
		break;
	default:
		break;
	}
}

void npc_note(struct npc *c, const struct k8sobj *old, const struct k8sobj *new)
{
	if (c->all_dirty)
		return;	/* the next compile reloads everything */
	if (new)
		note_key(c, new);
	if (old && (!new || !k8sobj_same_key(old, new)))
		note_key(c, old);
}

void npc_note_local(struct npc *c, const char *ns, const char *name)
{
	struct npc_pod *pod;

	if (c->all_dirty)
		return;
	pod = npc_pod_get(c, ns, name, true);
	c->all_dirty |= !pod || npc_mark_pod(c, pod);
}

void npc_note_all(struct npc *c)
{
	c->all_dirty = true;
}

/* ---- local addresses ---------------------------------------------------------------------- */

static int lref_cmp(const void *a, const void *b)
{
	const struct npc_lref *x = a, *y = b;
	int r = strcmp(x->l->ns, y->l->ns);

	if (!r)
		r = strcmp(x->l->name, y->l->name);
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

static int local_index(struct npc *c)
{
	const struct npc_input *in = c->in;
	struct npc_lref *v = NULL;
	size_t i;

	if (in->nlocal && !(v = mem_alloc(in->nlocal * sizeof(*v))))
		return -ENOMEM;
	for (i = 0; i < in->nlocal; i++)
		v[i] = (struct npc_lref){ &in->local[i], i };
	if (v)
		sort_vec(v, in->nlocal, sizeof(*v), lref_cmp);
	mem_free(c->lidx);
	c->lidx = v;
	c->nlidx = in->nlocal;
	return 0;
}

/* The first local entry for (ns, name), NULL when none. */
static const struct npc_local *local_find(const struct npc *c, const char *ns, const char *name)
{
	size_t lo = 0, hi = c->nlidx, mid;
	const struct npc_local *found = NULL;

	while (lo < hi) {
		int r;

		mid = lo + (hi - lo) / 2;
		r = strcmp(c->lidx[mid].l->ns, ns);
		if (!r)
			r = strcmp(c->lidx[mid].l->name, name);
		if (!r)
			found = c->lidx[mid].l;
		if (r >= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return found;
}

/* ---- the pass ----------------------------------------------------------------------------- */

static int mark_reeval(struct npc *c, struct npc_pod *p)
{
	int r = 0;

	if (!p->reeval && !(r = npc_vec_push(&c->rpods, p)))
		p->reeval = true;
	return r;
}

static int refresh_ns(struct npc *c)
{
	uint32_t i, j;
	int r = 0;

	for (i = 0; !r && i < c->dns.n; i++) {
		struct npc_ns *n = c->dns.v[i];

		n->obj = cache_get(c->in->namespaces, NULL, n->name);
		for (j = 0; !r && j < n->pods.n; j++)
			r = mark_reeval(c, n->pods.v[j]);
	}
	return r;
}

static uint64_t pod_data(const struct npc_pod *p)
{
	uint64_t h = npc_fnv(NPC_FNV_INIT, &p->eligible, sizeof(p->eligible));
	const struct npc_pstate *s = &p->cur;
	uint32_t i;

	h = npc_fnv(h, s->ip, sizeof(s->ip));
	for (i = 0; i < s->nports; i++) {
		h = npc_fnv_str(h, s->ports[i].name);
		h = npc_fnv(h, &s->ports[i].port, sizeof(s->ports[i].port));
		h = npc_fnv(h, &s->ports[i].kproto, sizeof(s->ports[i].kproto));
	}
	return h;
}

/* The named ports of o, copied (array and names in one allocation). */
static int ports_copy(const struct k8sobj_pod *o, struct npc_pstate *s)
{
	size_t sz = 0;
	uint32_t i, n = 0;
	char *t;

	for (i = 0; o && i < o->nports; i++)
		if (o->ports[i].name[0]) {
			sz += strlen(o->ports[i].name) + 1;
			n++;
		}
	if (!n)
		return 0;
	s->ports = mem_alloc(n * sizeof(*s->ports) + sz);
	if (!s->ports)
		return -ENOMEM;
	t = (char *)(s->ports + n);
	for (i = 0; i < o->nports; i++) {
		const struct k8sobj_port *kp = &o->ports[i];

		if (!kp->name[0])
			continue;
		s->ports[s->nports++] = (struct npc_pport){ t, kp->port, kp->proto };
		t = stpcpy(t, kp->name) + 1;
	}
	return 0;
}

/* cur becomes old (what the groups were built from), and cur is read afresh. */
static int pod_refresh(struct npc *c, struct npc_pod *p)
{
	const struct k8sobj_pod *o = k8sobj_pod(cache_get(c->in->pods, p->nsr->name, p->name));
	const struct npc_local *l = o ? local_find(c, p->nsr->name, p->name) : NULL;
	struct npc_pstate *s = &p->cur;
	uint64_t data;

	mem_free(p->old.ports);
	p->old = p->cur;
	memset(s, 0, sizeof(*s));
	p->obj = o;
	p->local = l != NULL;
	if (l)
		memcpy(s->ip, l->ip, sizeof(s->ip));
	else if (o)
		memcpy(s->ip, o->ip, sizeof(s->ip));
	p->eligible = o && !o->host_network && o->phase != K8SOBJ_SUCCEEDED &&
		      o->phase != K8SOBJ_FAILED && (s->ip[0].family || s->ip[1].family);
	if (ports_copy(o, s))
		return -ENOMEM;
	data = pod_data(p);
	p->datachg = data != p->data;
	p->data = data;
	return 0;
}

static int refresh(struct npc *c)
{
	uint32_t i;
	int r = refresh_ns(c);

	for (i = 0; !r && i < c->dpods.n; i++) {
		r = pod_refresh(c, c->dpods.v[i]);
		if (!r)
			r = mark_reeval(c, c->dpods.v[i]);
	}
	for (i = 0; !r && i < c->dpols.n; i++)
		r = npc_pol_refresh(c, c->dpols.v[i]);
	for (i = 0; !r && i < c->dns.n; i++)
		r = npc_ns_rematch(c, c->dns.v[i]);
	for (i = 0; !r && i < c->rpods.n; i++)
		r = npc_pod_reeval(c, c->rpods.v[i]);
	return r;
}

/* Changed pods, and the targets of namespaces whose policies changed, get their groups. */
static int regroup(struct npc *c)
{
	uint32_t i;
	int r = 0;

	for (i = 0; !r && i < c->dpods.n; i++)
		r = npc_retarget(c, c->dpods.v[i]);
	for (i = 0; !r && i < c->targets.n; i++) {
		struct npc_pod *p = c->targets.v[i];

		if (p->nsr->poldirty && !p->dirty)
			r = npc_retarget(c, p);
	}
	if (!r)
		r = npc_groups_settle(c);
	if (!r)
		npc_pols_touched(c);
	for (i = 0; !r && i < c->grplist.n; i++)
		r = npc_group_build(c, c->grplist.v[i]);
	return r;
}

/* ---- the plan ----------------------------------------------------------------------------- */

static int gname_cmp(const void *a, const void *b)
{
	const struct npc_group *x = *(const struct npc_group *const *)a;
	const struct npc_group *y = *(const struct npc_group *const *)b;

	return strcmp(x->g->name, y->g->name);
}

static int plan_groups(struct npc *c, struct npplan *out)
{
	struct npc_group **v = (struct npc_group **)c->grplist.v;
	uint32_t i;

	out->groups = mem_alloc((c->grplist.n + 1) * sizeof(*out->groups));
	if (!out->groups)
		return -ENOMEM;
	if (v)
		sort_vec(v, c->grplist.n, sizeof(*v), gname_cmp);
	for (i = 0; i < c->grplist.n; i++) {
		v[i]->index = i;
		out->groups[i] = npplan_group_ref(v[i]->g);
	}
	out->ngroups = c->grplist.n;
	return 0;
}

struct claim {
	const struct ipaddr *addr;
	const struct npc_pod *pod;
};

/* Per address, the owner first: a CNI-reported address, then the smaller "ns/name". */
static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int r = ipaddr_cmp(x->addr, y->addr);

	if (r)
		return r;
	if (x->pod->local != y->pod->local)
		return x->pod->local ? -1 : 1;
	return strcmp(x->pod->full, y->pod->full);
}

/* claims are sorted by address: one pass per direction keeps disp sorted, no sort needed */
static void disp_fill(struct npplan *out, const struct claim *cl, size_t n)
{
	size_t i;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		for (i = 0; i < n; i++) {
			const struct npc_group *g = cl[i].pod->grp[dir];

			if (g && (i == 0 || !ipaddr_eq(cl[i].addr, cl[i - 1].addr)))
				out->disp[out->ndisp++] = (struct npplan_disp){ *cl[i].addr,
					(uint8_t)dir, g->index };
		}
	}
}

static const struct ipaddr *first_ip(const struct npc_pod *p)
{
	return p->cur.ip[0].family ? &p->cur.ip[0] : &p->cur.ip[1];
}

static int target_cmp(const void *a, const void *b)
{
	return ipaddr_cmp(first_ip(*(struct npc_pod *const *)a),
			  first_ip(*(struct npc_pod *const *)b));
}

/*
 * Targets are kept in address order, so the claims come sorted, each family in turn, but
 * for the pods that came or went since the last pass, and both sorts are a linear pass over
 * input that is in order (sort_vec()) instead of n log n comparisons every pass.
 */
static int plan_disp(struct npc *c, struct npplan *out)
{
	struct claim *cl = mem_alloc((2 * (size_t)c->targets.n + 1) * sizeof(*cl));
	size_t n = 0;
	uint32_t i, f;

	out->disp = mem_alloc((4 * (size_t)c->targets.n + 1) * sizeof(*out->disp));
	if (!cl || !out->disp) {
		mem_free(cl);
		return -ENOMEM;
	}
	sort_vec(c->targets.v, c->targets.n, sizeof(*c->targets.v), target_cmp);
	for (i = 0; i < c->targets.n; i++)
		((struct npc_pod *)c->targets.v[i])->tpos = i;
	for (f = 0; f < 2; f++) {
		for (i = 0; i < c->targets.n; i++) {
			const struct npc_pod *p = c->targets.v[i];

			if (p->cur.ip[f].family)
				cl[n++] = (struct claim){ &p->cur.ip[f], p };
		}
	}
	sort_vec(cl, n, sizeof(*cl), claim_cmp);
	disp_fill(out, cl, n);
	mem_free(cl);
	return 0;
}

static int problem_cmp(const void *a, const void *b)
{
	return strcmp(((const struct npplan_problem *)a)->policy,
		      ((const struct npplan_problem *)b)->policy);
}

static int plan_problems(struct npc *c, struct npplan *out)
{
	uint32_t i, n = 0;

	for (i = 0; i < c->pols.cap; i++) {
		const struct npc_pol *p = c->pols.s[i].v;

		n += p && p->obj && p->invalid;
	}
	if (!n)
		return 0;
	out->problems = mem_calloc(n, sizeof(*out->problems));
	if (!out->problems)
		return -ENOMEM;
	for (i = 0; i < c->pols.cap; i++) {
		const struct npc_pol *p = c->pols.s[i].v;
		struct npplan_problem *pr = &out->problems[out->nproblems];

		if (!p || !p->obj || !p->invalid)
			continue;
		out->nproblems++;
		pr->policy = mem_strndup(p->full, strlen(p->full));
		pr->why = mem_strndup(p->obj->invalid, strlen(p->obj->invalid));
		if (!pr->policy || !pr->why)
			return -ENOMEM;
	}
	sort_vec(out->problems, out->nproblems, sizeof(*out->problems), problem_cmp);
	return 0;
}

static int check_input(const struct npc_input *in, struct ebuf *eb)
{
	if (!in || !in->pods || !in->namespaces || !in->policies || !in->node) {
		ebuf_set(eb, "policy compile: %s", !in ? "no input" :
			 !in->node ? "no node name" : "a cache is missing");
		return -EINVAL;
	}
	return 0;
}

static int node_check(struct npc *c, const char *node)
{
	if (c->node && strcmp(c->node, node) == 0)
		return 0;
	mem_free(c->node);
	c->node = mem_strndup(node, strlen(node));
	c->all_dirty = true;
	return c->node ? 0 : -ENOMEM;
}

static int pass(struct npc *c, struct npplan *out)
{
	int r = node_check(c, c->in->node);

	if (!r)
		r = local_index(c);
	if (!r && c->all_dirty) {
		npc_clear(c);
		c->all_dirty = false;
		r = npc_load(c);
	}
	if (!r)
		r = refresh(c);
	if (!r)
		r = regroup(c);
	if (!r)
		r = plan_groups(c, out);
	if (!r)
		r = plan_disp(c, out);
	if (!r)
		r = plan_problems(c, out);
	return r;
}

int npc_compile(struct npc *c, const struct npc_input *in, struct npplan *out, struct ebuf *eb)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_input(in, eb)))
		return r;
	c->in = in;
	r = pass(c, out);
	c->in = NULL;
	if (r) {
		npplan_free(out);
		c->all_dirty = true;
		ebuf_set(eb, "policy compile: out of memory");
		return r;
	}
	npc_collect(c);
	pool_drop(c);
	return 0;
}
