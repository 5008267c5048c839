/* SPDX-License-Identifier: MIT */
/*
 * npc_world.h: a small cluster for the policy compiler's tests: caches of pods, namespaces
 * and policies whose callbacks feed npc_note(), as the agent's reflectors do, objects
 * written as JSON with ' for ", the CNI-reported local addresses, and a compact text form
 * of a plan for golden comparisons and failure messages. Include after tap.h.
 *
 * Plan text: one line per dispatch entry, "I <addr>: <group>" or "E <addr>: <group>", the
 * group as "all", "none" or its elements: a:ADDR, p:ADDR/PROTO, x:ADDR/PROTO/PORT,
 * r:LO-HI/PROTO/PORTS (a range of protocols or ports as lo-hi, "*" for all of them); then
 * "! ns/name: why" per problem.
 */
#ifndef VIRGIL_NPC_WORLD_H
#define VIRGIL_NPC_WORLD_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "core/cache.h"
#include "core/cidr.h"
#include "core/k8sobj.h"
#include "core/npcompile.h"
#include "core/npplan.h"

/* Pods are written as positional compound literals whose trailing members default to NULL. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define W_MAXLOCAL 256

struct world {
	struct cache *pods, *nss, *pols;
	struct npc *npc;
	struct npc_local local[W_MAXLOCAL];
	char lkey[W_MAXLOCAL][2][128];
	size_t nlocal;
	const char *node;
};

static void w_add(void *ctx, const struct k8sobj *o)
{
	struct world *w = ctx;

	npc_note(w->npc, NULL, o);
}

static void w_upd(void *ctx, const struct k8sobj *old, const struct k8sobj *o)
{
	struct world *w = ctx;

	npc_note(w->npc, old, o);
}

static void w_del(void *ctx, const struct k8sobj *o)
{
	struct world *w = ctx;

	npc_note(w->npc, o, NULL);
}

static const struct cache_ops w_ops = { w_add, w_upd, w_del, false };

static __attribute__((unused)) void w_init(struct world *w, const char *node)
{
	memset(w, 0, sizeof(*w));
	w->node = node;
	if (npc_new(&w->npc))
		abort();
	w->pods = cache_new(K8SOBJ_POD, &w_ops, w, 1);
	w->nss = cache_new(K8SOBJ_NAMESPACE, &w_ops, w, 2);
	w->pols = cache_new(K8SOBJ_NETPOL, &w_ops, w, 3);
	if (!w->pods || !w->nss || !w->pols)
		abort();
}

static __attribute__((unused)) void w_fini(struct world *w)
{
	cache_free(w->pods);
	cache_free(w->nss);
	cache_free(w->pols);
	npc_free(w->npc);
}

static __attribute__((unused)) struct npc_input w_input(const struct world *w)
{
	return (struct npc_input){ w->pods, w->nss, w->pols, w->node, w->local, w->nlocal };
}

/* Parse printf-formatted JSON (with ' for ") into an object; aborts on a bad test input. */
static __attribute__((format(printf, 2, 3))) struct k8sobj *w_obj(enum k8sobj_kind kind,
								 const char *fmt, ...)
{
	struct ebuf eb = { "" };
	struct k8sobj *o = NULL;
	char *s, *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	if (getenv("W_TRACE"))
		printf("# put %s\n", s);
	if (k8sobj_parse(s, (size_t)n, kind, &o, &eb)) {
		printf("# bad test object: %s\n#   %s\n", eb.msg, s);
		abort();
	}
	free(s);
	return o;
}

static void w_put(struct world *w, struct k8sobj *o)
{
	struct cache *c = o->kind == K8SOBJ_POD ? w->pods : o->kind == K8SOBJ_NAMESPACE ? w->nss :
			  w->pols;

	if (cache_upsert(c, o))
		abort();
}

struct podspec {
	const char *ns, *name, *node;
	const char *labels;	/* "'k':'v',..." */
	const char *ips;	/* "10.0.0.1 fd00::1" */
	const char *ports;	/* "{'name':'http','containerPort':80},..." */
	const char *extra;	/* more spec members, ending with ',' */
	const char *phase;	/* NULL: Running */
};

static __attribute__((unused)) struct k8sobj *w_podobj(const struct podspec *s)
{
	char ips[256] = "", one[64];
	const char *p = s->ips ? s->ips : "";
	int n;

	while (sscanf(p, "%63s%n", one, &n) == 1) {
		snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s{'ip':'%s'}",
			 ips[0] ? "," : "", one);
		p += n;
	}
	return w_obj(K8SOBJ_POD,
		     "{'metadata':{'name':'%s','namespace':'%s','labels':{%s}},"
		     "'spec':{%s'nodeName':'%s','containers':[{'name':'c','ports':[%s]}]},"
		     "'status':{'phase':'%s','podIPs':[%s]}}",
		     s->name, s->ns, s->labels ? s->labels : "", s->extra ? s->extra : "",
		     s->node ? s->node : "", s->ports ? s->ports : "",
		     s->phase ? s->phase : "Running", ips);
}

static __attribute__((unused)) void w_pod(struct world *w, struct podspec s)
{
	w_put(w, w_podobj(&s));
}

static __attribute__((unused)) void w_ns(struct world *w, const char *name, const char *labels)
{
	w_put(w, w_obj(K8SOBJ_NAMESPACE, "{'metadata':{'name':'%s','labels':{%s}}}", name,
		       labels));
}

/* spec: the members of spec, "'podSelector':{},..." */
static __attribute__((unused)) void w_pol(struct world *w, const char *ns, const char *name,
					  const char *spec)
{
	w_put(w, w_obj(K8SOBJ_NETPOL,
		       "{'metadata':{'name':'%s','namespace':'%s'},'spec':{%s}}", name, ns, spec));
}

static __attribute__((unused)) void w_rm(struct world *w, enum k8sobj_kind kind, const char *ns,
					 const char *name)
{
	struct cache *c = kind == K8SOBJ_POD	     ? w->pods :
			  kind == K8SOBJ_NAMESPACE ? w->nss : w->pols;

	if (getenv("W_TRACE"))
		printf("# rm %d %s/%s\n", kind, ns, name);
	cache_remove(c, ns, name);
}

/* Set (ips non-NULL) or drop the CNI-reported addresses of a local pod. */
static __attribute__((unused)) void w_local(struct world *w, const char *ns, const char *name,
					    const char *ips)
{
	struct npc_local *l = NULL;
	char one[64];
	size_t i;
	int n, f;

	if (getenv("W_TRACE"))
		printf("# local %s/%s %s\n", ns, name, ips ? ips : "-");
	for (i = 0; i < w->nlocal && !l; i++)
		if (!strcmp(w->local[i].ns, ns) && !strcmp(w->local[i].name, name))
			l = &w->local[i];
	if (!ips && l) {
		i = (size_t)(l - w->local);
		memmove(&w->local[i], &w->local[i + 1], (w->nlocal - i - 1) * sizeof(*l));
		memmove(&w->lkey[i], &w->lkey[i + 1], (w->nlocal - i - 1) * sizeof(w->lkey[0]));
		w->nlocal--;
		for (i = 0; i < w->nlocal; i++) {
			w->local[i].ns = w->lkey[i][0];
			w->local[i].name = w->lkey[i][1];
		}
	} else if (ips) {
		if (!l) {
			i = w->nlocal++;
			l = &w->local[i];
			snprintf(w->lkey[i][0], sizeof(w->lkey[i][0]), "%s", ns);
			snprintf(w->lkey[i][1], sizeof(w->lkey[i][1]), "%s", name);
			l->ns = w->lkey[i][0];
			l->name = w->lkey[i][1];
		}
		memset(l->ip, 0, sizeof(l->ip));
		while (sscanf(ips, "%63s%n", one, &n) == 1) {
			struct ipaddr a;

			if (ipaddr_parse(one, strlen(one), &a))
				abort();
			f = k8sobj_slot(a.family);
			l->ip[f] = a;
			ips += n;
		}
	}
	npc_note_local(w->npc, ns, name);
}

/* ---- plan text ------------------------------------------------------------------------- */

static void add_addr(struct buf *b, const struct ipaddr *a)
{
	char s[IPADDR_STRLEN];

	if (ipaddr_format(a, s, sizeof(s)) || buf_adds(b, s))
		abort();
}

static void add_span(struct buf *b, unsigned lo, unsigned hi, unsigned max)
{
	int r;

	if (lo == 0 && hi == max)
		r = buf_adds(b, "*");
	else if (lo == hi)
		r = buf_printf(b, "%u", lo);
	else
		r = buf_printf(b, "%u-%u", lo, hi);
	if (r)
		abort();
}

static void add_elem(struct buf *b, const struct npplan_elem *e)
{
	static const char tag[] = "xpaqr";

	if (buf_printf(b, " %c:", tag[e->shape]))
		abort();
	add_addr(b, &e->lo);
	if (e->shape == NPPLAN_RANGE) {
		if (buf_addc(b, '-'))
			abort();
		add_addr(b, &e->hi);
	}
	if (e->shape == NPPLAN_ADDR)
		return;
	if (buf_addc(b, '/'))
		abort();
	add_span(b, e->prlo, e->prhi, 255);
	if (e->shape == NPPLAN_PROTO)
		return;
	if (buf_addc(b, '/'))
		abort();
	add_span(b, e->plo, e->phi, 65535);
}

static __attribute__((unused)) char *plan_text(const struct npplan *p)
{
	struct buf b = BUF_INIT;
	size_t i, j;

	if (buf_adds(&b, ""))
		abort();
	for (i = 0; i < p->ndisp; i++) {
		const struct npplan_group *g = p->groups[p->disp[i].group];

		if (buf_printf(&b, "%s ", p->disp[i].dir == NPPLAN_IN ? "I" : "E"))
			abort();
		add_addr(&b, &p->disp[i].addr);
		if (buf_adds(&b, ":"))
			abort();
		if (g->allow_all || !g->nelems)
			if (buf_adds(&b, g->allow_all ? " all" : " none"))
				abort();
		for (j = 0; !g->allow_all && j < g->nelems; j++)
			add_elem(&b, &g->elems[j]);
		if (buf_addc(&b, '\n'))
			abort();
	}
	for (i = 0; i < p->nproblems; i++)
		if (buf_printf(&b, "! %s: %s\n", p->problems[i].policy, p->problems[i].why))
			abort();
	return buf_steal(&b);
}

/* Same groups (names, content), dispatch and problems. */
static __attribute__((unused)) bool plan_same(const struct npplan *a, const struct npplan *b)
{
	size_t i;

	if (a->ngroups != b->ngroups || a->ndisp != b->ndisp || a->nproblems != b->nproblems)
		return false;
	for (i = 0; i < a->ngroups; i++)
		if (strcmp(a->groups[i]->name, b->groups[i]->name) ||
		    !npplan_group_same(a->groups[i], b->groups[i]))
			return false;
	for (i = 0; i < a->ndisp; i++)
		if (!ipaddr_eq(&a->disp[i].addr, &b->disp[i].addr) ||
		    a->disp[i].dir != b->disp[i].dir || a->disp[i].group != b->disp[i].group)
			return false;
	for (i = 0; i < a->nproblems; i++)
		if (strcmp(a->problems[i].policy, b->problems[i].policy) ||
		    strcmp(a->problems[i].why, b->problems[i].why))
			return false;
	return true;
}

/* Compile w as it is; aborts on failure (tests that expect one call npc_compile). */
static __attribute__((unused)) void w_compile(struct world *w, struct npplan *out)
{
	struct npc_input in = w_input(w);
	struct ebuf eb = { "" };

	if (npc_compile(w->npc, &in, out, &eb)) {
		printf("# npc_compile: %s\n", eb.msg);
		abort();
	}
}

/* A fresh compiler's plan of w's caches, as text. */
static __attribute__((unused)) void w_fresh(struct world *w, struct npplan *out)
{
	struct npc_input in = w_input(w);
	struct npc *c;

	if (npc_new(&c) || npc_compile(c, &in, out, NULL))
		abort();
	npc_free(c);
}

#endif
