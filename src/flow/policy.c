// SPDX-License-Identifier: MIT
/*
 * policy.c: the agent's NetworkPolicy controller (policy.h): cache notes in, one sync per
 * loop round out, plugin requests answered after the sync that covers them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../codec/json.h"
#include "../core/backoff.h"
#include "../core/cache.h"
#include "../core/npcompile.h"
#include "../core/npmetrics.h"
#include "../core/npplan.h"
#include "../core/podmsg.h"
#include "../io/atomic.h"
#include "../io/ev.h"
#include "npsync.h"
#include "podsock.h"
#include "policy.h"

/* A pod this node's plugin reported (its addresses win over status.podIPs, which lag). */
struct local {
	char ns[254], name[254], id[256];
	struct ipaddr ip[2];
};

/* A plugin request waiting for a sync. */
struct pending {
	struct pending *next;
	struct policy *p;
	struct podsock_conn *conn;
	enum podmsg_op op;
	char ns[254], name[254];
	uint64_t timer;
};

struct policy {
	struct ev *ev;
	struct policy_cfg cfg;
	/* our copies: cfg's may live on the caller's stack */
	char status_path[PATH_MAX], metrics_path[PATH_MAX];
	struct cidr *cluster;
	struct policy_caches c;
	struct npc *npc;
	struct npsync *sync;
	struct local *local;
	size_t nlocal, caplocal;
	struct pending *pending;
	bool ready;
	uint64_t sync_timer;
	struct backoff bo;
	/* what the kernel holds, for status.json and for logging problems once */
	size_t groups, isolated, elems;
	char **problems;
	size_t nproblems;
	uint64_t syncs, sync_errors;
	/* the last programming pass, for status.json: benchmarks and operators time it */
	bool last_full;
	uint64_t last_us, last_at_us;
	char error[256];
};

/* ---- plugin requests ----------------------------------------------------------------- */

static void pending_done(struct pending *q, bool ok, const char *why)
{
	struct pending **pp;

	for (pp = &q->p->pending; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	if (q->timer)
		ev_timer_cancel(q->p->ev, q->timer);
	podsock_reply(q->conn, ok, why);
	mem_free(q);
}

static void pending_timeout(struct ev *ev, uint64_t id, void *ctx)
{
	struct pending *q = ctx;
	struct policy *p = q->p;
	char why[600];

	q->timer = 0;
	if (!p->ready)
		snprintf(why, sizeof(why), "the agent has not finished reading the cluster yet");
	else if (q->op == PODMSG_ADD && !cache_get(p->c.pods, q->ns, q->name))
		snprintf(why, sizeof(why), "pod %s/%s is not known to the agent (yet)", q->ns,
			 q->name);
	else
		snprintf(why, sizeof(why), "cannot program the pod's network policy: %s",
			 p->error[0] ? p->error : "timed out");
	log_warnx("%s %s/%s: %s", q->op == PODMSG_ADD ? "ADD" : "DEL", q->ns, q->name, why);
	pending_done(q, false, why);
}

static struct local *local_find(struct policy *p, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < p->nlocal; i++)
		if (!strcmp(p->local[i].ns, ns) && !strcmp(p->local[i].name, name))
			return &p->local[i];
	return NULL;
}

static int local_set(struct policy *p, const struct podmsg_req *r)
{
	struct local *l = local_find(p, r->ns, r->name);

	if (!l) {
		if (p->nlocal == p->caplocal) {
			size_t cap = p->caplocal ? p->caplocal * 2 : 16;
			struct local *n = mem_realloc(p->local, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			p->local = n;
			p->caplocal = cap;
		}
		l = &p->local[p->nlocal++];
	}
	snprintf(l->ns, sizeof(l->ns), "%s", r->ns);
	snprintf(l->name, sizeof(l->name), "%s", r->name);
	snprintf(l->id, sizeof(l->id), "%s", r->id);
	l->ip[0] = r->ip[0];
	l->ip[1] = r->ip[1];
	return 0;
}

/* Only the attachment that registered the addresses may remove them: a DEL for an old
 * sandbox of the same pod must not unprotect the new one. */
static void local_drop(struct policy *p, const struct podmsg_req *r)
{
	struct local *l = local_find(p, r->ns, r->name);

	if (!l || strcmp(l->id, r->id) != 0)
		return;
	*l = p->local[--p->nlocal];
}

static void schedule_sync(struct policy *p, uint64_t delay);

void policy_request(struct policy *p, struct podsock_conn *c, const struct podmsg_req *r)
{
	struct pending *q = mem_calloc(1, sizeof(*q));

	if (!q) {
		podsock_reply(c, false, "agent out of memory");
		return;
	}
	if (r->op == PODMSG_ADD && local_set(p, r)) {
		mem_free(q);
		podsock_reply(c, false, "agent out of memory");
		return;
	}
	if (r->op == PODMSG_DEL)
		local_drop(p, r);
	npc_note_local(p->npc, r->ns, r->name);
	q->p = p;
	q->conn = c;
	q->op = r->op;
	snprintf(q->ns, sizeof(q->ns), "%s", r->ns);
	snprintf(q->name, sizeof(q->name), "%s", r->name);
	q->next = p->pending;
	p->pending = q;
	if (ev_timer_add(p->ev, POLICY_ADD_WAIT_MS, pending_timeout, q, &q->timer)) {
		pending_done(q, false, "agent event loop full");
		return;
	}
	log_debug("%s %s/%s (%s)", r->op == PODMSG_ADD ? "ADD" : "DEL", r->ns, r->name, r->id);
	schedule_sync(p, 0);
}

/* After a successful sync: everything registered so far is in the kernel. An ADD whose pod
 * the cache does not hold yet was compiled without its labels (not at all): it waits. */
static void pending_complete(struct policy *p)
{
	struct pending *q, *next;

	for (q = p->pending; q; q = next) {
		next = q->next;
		if (q->op == PODMSG_ADD && !cache_get(p->c.pods, q->ns, q->name))
			continue;
		pending_done(q, true, NULL);
	}
}

/* ---- status ------------------------------------------------------------------------------ */

static void write_metrics(struct policy *p)
{
	struct npmetrics m = {
		.ok = !p->error[0], .syncs = p->syncs, .sync_errors = p->sync_errors,
		.problems = p->nproblems, .groups = p->groups, .isolated = p->isolated,
		.elements = p->elems, .last_sync_us = p->last_us,
	};
	struct buf b = BUF_INIT;
	int r;

	if (!p->cfg.metrics_path)
		return;
	r = npmetrics_render(&m, &b);
	if (!r)
		r = atomic_publish(p->cfg.metrics_path, b.p, b.len, 0644);
	if (r < 0)
		log_debug("cannot write %s: %s", p->cfg.metrics_path, strerror(-r));
	buf_free(&b);
}

static void write_status(struct policy *p)
{
	struct buf b = BUF_INIT;
	struct jw w;
	size_t i;
	int r;

	if (!p->cfg.status_path)
		return;
	jw_init(&w, &b);
	jw_obj_begin(&w);
	/* which agent wrote it: after a restart the file changes even when nothing else did */
	jw_ku64(&w, "pid", (uint64_t)getpid());
	if (p->cfg.generation)
		jw_ku64(&w, "sourceGeneration", p->cfg.generation(p->cfg.gen_ctx));
	jw_key(&w, "policy");
	jw_obj_begin(&w);
	jw_key(&w, "ok");
	jw_bool(&w, !p->error[0]);
	jw_ku64(&w, "syncs", p->syncs);
	jw_ku64(&w, "groups", p->groups);
	jw_ku64(&w, "isolated", p->isolated);
	jw_ku64(&w, "elements", p->elems);
	jw_key(&w, "problems");
	jw_arr_begin(&w);
	for (i = 0; i < p->nproblems; i++)
		jw_str(&w, p->problems[i]);
	jw_arr_end(&w);
	jw_kstr(&w, "error", p->error);
	jw_key(&w, "lastSync");
	jw_obj_begin(&w);
	jw_key(&w, "full");
	jw_bool(&w, p->last_full);
	jw_ku64(&w, "micros", p->last_us);
	jw_ku64(&w, "doneAtMicros", p->last_at_us);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	r = jw_finish(&w) ? -ENOMEM : buf_addc(&b, '\n');
	if (!r)
		r = atomic_publish(p->cfg.status_path, b.p, b.len, 0644);
	if (r < 0)
		log_debug("cannot write %s: %s", p->cfg.status_path, strerror(-r));
	buf_free(&b);
	write_metrics(p);
}

static void free_problems(char **v, size_t n)
{
	while (n)
		mem_free(v[--n]);
	mem_free(v);
}

static bool had_problem(struct policy *p, const char *s)
{
	size_t i;

	for (i = 0; i < p->nproblems; i++)
		if (!strcmp(p->problems[i], s))
			return true;
	return false;
}

/* Log each unenforceable policy once (and again only after it was fixed and broke again). */
static void note_problems(struct policy *p, const struct npplan *plan)
{
	char **v = plan->nproblems ? mem_calloc(plan->nproblems, sizeof(*v)) : NULL;
	size_t i, n = 0;

	for (i = 0; i < plan->nproblems; i++) {
		struct buf b = BUF_INIT;

		if (buf_printf(&b, "%s: %s", plan->problems[i].policy, plan->problems[i].why) ||
		    buf_addc(&b, 0)) {
			buf_free(&b);
			continue;
		}
		if (!had_problem(p, b.p))
			log_warnx("policy %s cannot be enforced as written; the pods it selects "
				  "are isolated: %s", plan->problems[i].policy,
				  plan->problems[i].why);
		if (v)
			v[n++] = b.p;
		else
			buf_free(&b);
	}
	free_problems(p->problems, p->nproblems);
	p->problems = v;
	p->nproblems = n;
}

/* ---- sync ---------------------------------------------------------------------------------- */

static int add_cidr(struct cidr **v, size_t *n, const struct cidr *c)
{
	struct cidr *nv = mem_realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = *c;
	*v = nv;
	return 0;
}

/* Masquerade: from our pod CIDRs to anything outside every node's pod CIDRs and the
 * configured cluster ranges. */
static int fill_masquerade(struct policy *p, struct npplan *plan)
{
	const struct k8sobj *o;
	size_t pos, i;
	int e = 0;

	plan->masquerade = p->cfg.masquerade;
	if (!plan->masquerade)
		return 0;
	for (i = 0; i < p->cfg.ncluster && !e; i++)
		e = add_cidr(&plan->cluster_cidrs, &plan->ncluster, &p->cluster[i]);
	cache_for_each(p->c.nodes, pos, o) {
		const struct k8sobj_node *n = k8sobj_node(o);

		for (i = 0; n && i < 2 && !e; i++) {
			if (!n->pod_cidr[i].addr.family)
				continue;
			e = add_cidr(&plan->cluster_cidrs, &plan->ncluster, &n->pod_cidr[i]);
			if (!e && !strcmp(o->name, p->cfg.node))
				e = add_cidr(&plan->src_cidrs, &plan->nsrc, &n->pod_cidr[i]);
		}
	}
	return e;
}

static void count_plan(struct policy *p, const struct npplan *plan)
{
	size_t i;

	p->groups = plan->ngroups;
	p->isolated = plan->ndisp;
	p->elems = 0;
	for (i = 0; i < plan->ngroups; i++)
		p->elems += plan->groups[i]->nelems;
}

static int compile(struct policy *p, struct npplan *plan, struct ebuf *eb)
{
	struct npc_local *loc = NULL;
	struct npc_input in = {
		.pods = p->c.pods,
		.namespaces = p->c.namespaces,
		.policies = p->c.policies,
		.node = p->cfg.node,
	};
	size_t i;
	int e;

	if (p->nlocal && !(loc = mem_calloc(p->nlocal, sizeof(*loc))))
		return -ENOMEM;
	for (i = 0; i < p->nlocal; i++)
		loc[i] = (struct npc_local){ p->local[i].ns, p->local[i].name,
					     { p->local[i].ip[0], p->local[i].ip[1] } };
	in.local = loc;
	in.nlocal = p->nlocal;
	e = npc_compile(p->npc, &in, plan, eb);
	mem_free(loc);
	if (!e && (e = fill_masquerade(p, plan)))
		npplan_free(plan);
	return e;
}

static void sync_fail(struct policy *p, int e, const char *why)
{
	uint64_t delay = backoff_fail(&p->bo, ev_now());

	p->sync_errors++;
	if (strcmp(p->error, why) != 0)
		log_warnx("network policy: %s; retrying in %llu ms", why,
			  (unsigned long long)delay);
	snprintf(p->error, sizeof(p->error), "%s", why);
	write_status(p);
	schedule_sync(p, delay);
}

static void sync_pass(struct ev *ev, uint64_t id, void *ctx)
{
	struct policy *p = ctx;
	struct npsync_stats st = { 0 };
	struct npplan plan = { 0 };
	struct ebuf eb = { "" };
	uint64_t u0 = clock_us(CLOCK_MONOTONIC), u1;
	int e;

	p->sync_timer = 0;
	if (!p->ready)
		return;
	e = compile(p, &plan, &eb);
	if (e) {
		sync_fail(p, e, eb.msg[0] ? eb.msg : strerror(-e));
		return;
	}
	u1 = clock_us(CLOCK_MONOTONIC);
	note_problems(p, &plan);
	count_plan(p, &plan);
	e = npsync_apply(p->sync, &plan, &st, &eb);
	npplan_free(&plan);
	if (e) {
		sync_fail(p, e, eb.msg[0] ? eb.msg : strerror(-e));
		return;
	}
	if (p->error[0])
		log_info("network policy: programmed again");
	if (st.adopted)
		log_info("network policy: the kernel already holds this ruleset; kept as it is");
	p->error[0] = 0;
	p->syncs++;
	if (st.msgs) {
		p->last_full = st.full;
		p->last_us = clock_us(CLOCK_MONOTONIC) - u0;
		p->last_at_us = clock_us(CLOCK_REALTIME);
	}
	backoff_reset(&p->bo);
	if (st.msgs)
		log_debug("policy sync%s: %zu messages, %zu bytes, +%zu/-%zu elements, "
			  "+%zu/-%zu groups, %zu sets replaced; compile %.1f ms, in the kernel "
			  "after %.1f ms", st.full ? " (full)" : "", st.msgs, st.bytes,
			  st.elems_added, st.elems_deleted, st.groups_added, st.groups_deleted,
			  st.sets_replaced,
			  (double)(u1 - u0) / 1000, (double)p->last_us / 1000);
	pending_complete(p);
	write_status(p);
}

static void schedule_sync(struct policy *p, uint64_t delay)
{
	if (p->sync_timer)
		return;
	if (ev_timer_add(p->ev, delay, sync_pass, p, &p->sync_timer))
		p->sync_timer = 0;
}

/* ---- notes ------------------------------------------------------------------------------ */

void policy_note(struct policy *p, const struct k8sobj *old, const struct k8sobj *new)
{
	npc_note(p->npc, old, new);
	/* a pod an ADD waits for may just have arrived: the sync completes it */
	schedule_sync(p, 0);
}

void policy_ready(struct policy *p)
{
	if (p->ready)
		return;
	p->ready = true;
	log_info("network policy: every source synced; programming");
	schedule_sync(p, 0);
}

void policy_kick(struct policy *p)
{
	schedule_sync(p, 0);
}

/* ---- life cycle ------------------------------------------------------------------------ */

/* *path into own (PATH_MAX bytes), and *path pointed at it; NULL stays NULL. */
static int copy_path(char *own, const char **path)
{
	if (!*path)
		return 0;
	if (strlen(*path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(own, *path);
	*path = own;
	return 0;
}

int policy_new(struct ev *ev, const struct policy_cfg *cfg, const struct policy_caches *c,
	       struct policy **out, struct ebuf *eb)
{
	struct policy *p;
	int e;

	*out = NULL;
	p = mem_calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ev = ev;
	p->cfg = *cfg;
	p->c = *c;
	if (copy_path(p->status_path, &p->cfg.status_path) ||
	    copy_path(p->metrics_path, &p->cfg.metrics_path)) {
		ebuf_set(eb, "policy: a status path is too long");
		mem_free(p);
		return -ENAMETOOLONG;
	}
	e = backoff_init(&p->bo, &(struct backoff_params){ .init_ms = 200, .cap_ms = 10000,
							    .reset_ms = 60000, .factor = 2 },
			 NULL, NULL);
	if (!e && cfg->ncluster) {
		p->cluster = mem_calloc(cfg->ncluster, sizeof(*p->cluster));
		if (p->cluster)
			memcpy(p->cluster, cfg->cluster, cfg->ncluster * sizeof(*p->cluster));
		else
			e = -ENOMEM;
	}
	if (!e)
		e = npc_new(&p->npc);
	if (!e)
		e = npsync_new(&p->sync, eb);
	if (e) {
		if (ebuf_empty(eb))
			ebuf_set(eb, "%s", strerror(-e));
		policy_free(p);
		return e;
	}
	*out = p;
	return 0;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	while (p->pending)
		pending_done(p->pending, false, "the agent is shutting down");
	if (p->sync_timer)
		ev_timer_cancel(p->ev, p->sync_timer);
	npsync_free(p->sync);
	npc_free(p->npc);
	free_problems(p->problems, p->nproblems);
	mem_free(p->local);
	mem_free(p->cluster);
	mem_free(p);
}
