// SPDX-License-Identifier: MIT
/* deps: core/npcompile.c core/npcompile_util.c core/npcompile_rec.c core/npcompile_peer.c core/npcompile_pol.c core/npcompile_group.c core/npcompile_elem.c core/npcompile_build.c core/npplan.c core/npplan_share.c core/npplan_norm.c core/cache.c core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c core/selector.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c base/sort.c */
/*
 * test_npcompile_prop.c: the policy compiler at random and at scale.
 *
 * Property: thousands of random changes to a small cluster (pods added, removed,
 * relabelled, readdressed, finished; namespaces relabelled, added, removed; policies of
 * random shape added, edited, removed, some invalid; CNI-reported addresses, colliding on
 * purpose) are noted one burst at a time, and after each burst the incremental plan must
 * equal a compile from scratch, and any group whose name and content did not change must
 * be the same object as in the previous plan.
 *
 * Scale: 10,000 pods in 100 namespaces over 100 nodes, 1,000 policies of realistic shapes;
 * the full compile and single changes are timed (reported with diag, built with ASan here,
 * so the release binary is faster) and the end state is checked against a fresh compile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/npcompile_int.h"
#include "tap.h"
#include "npc_world.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *pick(const char *const *v, size_t n)
{
	return v[rnd((uint32_t)n)];
}

#define PICK(v) pick(v, ARRAY_SIZE(v))

/* ---- random objects ------------------------------------------------------------------- */

#define NNS 5
#define NPODS 60
#define NPOLS 16

static const char *const podlabels[] = {
	"", "'app':'a'", "'app':'b'", "'app':'c'", "'app':'a','tier':'fe'", "'app':'b','tier':'be'",
	"'tier':'fe'", "'app':'c','tier':''",
};
static const char *const nslabels[] = {
	"", "'team':'x'", "'team':'y'", "'team':'x','env':'prod'", "'env':'prod'",
};
static const char *const ports[] = {
	"", "{'name':'http','containerPort':80}", "{'name':'http','containerPort':8080}",
	"{'name':'http','containerPort':53,'protocol':'UDP'}",
	"{'name':'http','containerPort':80},{'name':'m','containerPort':9090,'protocol':'SCTP'}",
};

static void rand_ip(char *out, size_t n)
{
	/* a small pool, so addresses collide and ipBlocks cut through it */
	switch (rnd(5)) {
	case 0:
		snprintf(out, n, "10.0.%u.%u fd00::%u", rnd(3), rnd(4), rnd(6));
		break;
	case 1:
		snprintf(out, n, "fd00::%u", rnd(6));
		break;
	case 2:
		out[0] = '\0';
		break;
	default:
		snprintf(out, n, "10.0.%u.%u", rnd(3), rnd(6));
		break;
	}
}

static void rand_pod(struct world *w)
{
	char ns[8], name[8], ip[64];
	const char *phase = rnd(12) ? NULL : rnd(2) ? "Succeeded" : "Pending";
	const char *extra = rnd(15) ? NULL : "'hostNetwork':true,";

	snprintf(ns, sizeof(ns), "ns%u", rnd(NNS));
	snprintf(name, sizeof(name), "p%u", rnd(NPODS / NNS));
	rand_ip(ip, sizeof(ip));
	w_pod(w, (struct podspec){ ns, name, rnd(2) ? "n1" : "n2", PICK(podlabels), ip,
				   PICK(ports), extra, phase });
}

static const char *const selectors[] = {
	"{}", "{'matchLabels':{'app':'a'}}", "{'matchLabels':{'app':'b'}}",
	"{'matchExpressions':[{'key':'tier','operator':'In','values':['fe','be']}]}",
	"{'matchExpressions':[{'key':'tier','operator':'NotIn','values':['fe']}]}",
	"{'matchExpressions':[{'key':'tier','operator':'Exists'}]}",
	"{'matchExpressions':[{'key':'app','operator':'DoesNotExist'}]}",
};
static const char *const nsselectors[] = {
	"{}", "{'matchLabels':{'team':'x'}}", "{'matchLabels':{'env':'prod'}}",
	"{'matchExpressions':[{'key':'team','operator':'NotIn','values':['y']}]}",
};
static const char *const polports[] = {
	"{'protocol':'UDP'}", "{'port':80}", "{'port':80,'protocol':'SCTP'}",
	"{'port':70,'endPort':90}", "{'port':'http'}", "{'port':'http','protocol':'UDP'}",
	"{'port':'m','protocol':'SCTP'}", "{}",
};
static const char *const blocks[] = {
	"{'ipBlock':{'cidr':'10.0.0.0/16','except':['10.0.1.0/24']}}",
	"{'ipBlock':{'cidr':'10.0.1.0/30'}}", "{'ipBlock':{'cidr':'fd00::/125'}}",
	"{'ipBlock':{'cidr':'0.0.0.0/0','except':['10.0.0.0/8']}}",
};

static void add(char *b, size_t n, const char *s)
{
	strncat(b, s, n - strlen(b) - 1);
}

static void rand_peer(char *b, size_t n)
{
	char t[256];

	switch (rnd(4)) {
	case 0:
		snprintf(t, sizeof(t), "{'podSelector':%s}", PICK(selectors));
		break;
	case 1:
		snprintf(t, sizeof(t), "{'namespaceSelector':%s}", PICK(nsselectors));
		break;
	case 2:
		snprintf(t, sizeof(t), "{'namespaceSelector':%s,'podSelector':%s}",
			 PICK(nsselectors), PICK(selectors));
		break;
	default:
		snprintf(t, sizeof(t), "%s", PICK(blocks));
		break;
	}
	add(b, n, t);
}

static void rand_rule(char *b, size_t n, const char *peers)
{
	uint32_t i, k;
	bool first = true;

	add(b, n, "{");
	k = rnd(4);
	if (k) {
		add(b, n, "'");
		add(b, n, peers);
		add(b, n, "':[");
		for (i = 0; i < k - 1; i++) {
			if (i)
				add(b, n, ",");
			rand_peer(b, n);
		}
		add(b, n, "]");
		first = false;
	}
	k = rnd(4);
	if (k) {
		add(b, n, first ? "'ports':[" : ",'ports':[");
		for (i = 0; i < k - 1; i++) {
			if (i)
				add(b, n, ",");
			add(b, n, PICK(polports));
		}
		add(b, n, "]");
	}
	add(b, n, "}");
}

static void rand_rules(char *b, size_t n, const char *field, const char *peers)
{
	uint32_t i, k = rnd(4);

	if (!k)
		return;
	add(b, n, ",'");
	add(b, n, field);
	add(b, n, "':[");
	for (i = 0; i < k - 1; i++) {
		if (i)
			add(b, n, ",");
		rand_rule(b, n, peers);
	}
	add(b, n, "]");
}

static void rand_pol(struct world *w)
{
	static const char *const types[] = {
		"", ",'policyTypes':['Ingress']", ",'policyTypes':['Egress']",
		",'policyTypes':['Ingress','Egress']", ",'policyTypes':[]",
	};
	char ns[8], name[8], spec[4096];

	snprintf(ns, sizeof(ns), "ns%u", rnd(NNS));
	snprintf(name, sizeof(name), "np%u", rnd(NPOLS / NNS + 1));
	snprintf(spec, sizeof(spec), "'podSelector':%s%s", PICK(selectors), PICK(types));
	if (rnd(25))
		rand_rules(spec, sizeof(spec), "ingress", "from");
	else
		add(spec, sizeof(spec), ",'ingress':[{'from':[{}]}]");	/* invalid */
	rand_rules(spec, sizeof(spec), "egress", "to");
	if (!rnd(40))
		snprintf(spec, sizeof(spec), "'podSelector':{'matchExpressions':[{'key':'a',"
			 "'operator':'Bad'}]}");
	w_pol(w, ns, name, spec);
}

static void rand_change(struct world *w)
{
	char ns[8], name[8], ip[64];
	uint32_t k = rnd(100);

	if (k < 35) {
		rand_pod(w);
	} else if (k < 50) {
		snprintf(ns, sizeof(ns), "ns%u", rnd(NNS));
		snprintf(name, sizeof(name), "p%u", rnd(NPODS / NNS));
		w_rm(w, K8SOBJ_POD, ns, name);
	} else if (k < 60) {
		snprintf(ns, sizeof(ns), "ns%u", rnd(NNS));
		if (rnd(8))
			w_ns(w, ns, PICK(nslabels));
		else
			w_rm(w, K8SOBJ_NAMESPACE, "", ns);
	} else if (k < 85) {
		rand_pol(w);
	} else if (k < 92) {
		snprintf(ns, sizeof(ns), "ns%u", rnd(NNS));
		snprintf(name, sizeof(name), "np%u", rnd(NPOLS / NNS + 1));
		w_rm(w, K8SOBJ_NETPOL, ns, name);
	} else {
		snprintf(ns, sizeof(ns), "ns%u", rnd(NNS));
		snprintf(name, sizeof(name), "p%u", rnd(NPODS / NNS));
		rand_ip(ip, sizeof(ip));
		w_local(w, ns, name, rnd(3) && ip[0] ? ip : NULL);
	}
}

static const struct npplan_group *by_name(const struct npplan *p, const char *name)
{
	return npplan_group_find(p, name);
}

/* Unchanged groups (same name, same content) keep their object across compiles. */
static bool reused(const struct npplan *prev, const struct npplan *cur)
{
	size_t i;

	for (i = 0; i < cur->ngroups; i++) {
		const struct npplan_group *o = by_name(prev, cur->groups[i]->name);

		if (o && npplan_group_same(o, cur->groups[i]) && o != cur->groups[i])
			return false;
	}
	return true;
}

static void test_property(void)
{
	struct npplan prev = { 0 }, cur, ref;
	struct npc *fresh;
	struct world w;
	int i, bad = 0, notreused = 0, groups = 0, disp = 0;

	w_init(&w, "n1");
	if (npc_new(&fresh))
		abort();
	for (i = 0; i < 40; i++)
		rand_change(&w);
	for (i = 0; i < 2000 && !bad; i++) {
		uint32_t k, burst = rnd(4) ? 1 : 1 + rnd(5);
		struct npc_input in;

		for (k = 0; k < burst; k++)
			rand_change(&w);
		in = w_input(&w);
		w_compile(&w, &cur);
		if (getenv("W_TRACE"))
			printf("# compile %d\n", i);
		npc_note_all(fresh);
		if (npc_compile(fresh, &in, &ref, NULL))
			abort();
		if (!plan_same(&cur, &ref)) {
			char *a = plan_text(&cur), *b = plan_text(&ref);

			diag("step %d: incremental\n%s# fresh\n%s", i, a, b);
			free(a);
			free(b);
			bad++;
		}
		notreused += !reused(&prev, &cur);
		groups += (int)cur.ngroups;
		disp += (int)cur.ndisp;
		npplan_free(&prev);
		npplan_free(&ref);
		prev = cur;
	}
	diag("property: %d steps, %d groups and %d dispatch entries seen", i, groups, disp);
	diag("  groups built %lu, edited %lu (%lu unchanged), fallbacks %lu", w.npc->stats.full,
	     w.npc->stats.delta, w.npc->stats.kept, w.npc->stats.fallback);
	ok(w.npc->stats.delta > 1000 && !w.npc->stats.fallback,
	   "member changes edit groups by counts, never inconsistent");
	ok(!bad, "2,000 random change bursts: incremental plan == plan from scratch");
	ok(!notreused, "unchanged groups keep their object");
	ok(groups > 2000 && disp > 4000, "the walk exercised non-trivial plans");
	npplan_free(&prev);
	npc_free(fresh);
	w_fini(&w);
}

/* ---- scale ---------------------------------------------------------------------------- */

#define BNS 100
#define BPODS 100	/* per namespace */
#define BNODES 100

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct k8sobj *bench_pod(int i, int j, int app)
{
	char ns[16], name[16], node[16], labels[64], ip[64], port[128];

	snprintf(ns, sizeof(ns), "ns-%d", i);
	snprintf(name, sizeof(name), "pod-%d", j);
	snprintf(node, sizeof(node), "node-%d", (i + j) % BNODES);
	snprintf(labels, sizeof(labels), "'app':'a%d','tier':'%s'", app, j % 3 ? "be" : "fe");
	if (j % 2)
		snprintf(ip, sizeof(ip), "10.%d.0.%d", i, j + 1);
	else
		snprintf(ip, sizeof(ip), "10.%d.0.%d fd00::%x:%x", i, j + 1, i, j + 1);
	snprintf(port, sizeof(port), "{'name':'http','containerPort':%d},"
		 "{'name':'metrics','containerPort':9090}", j % 4 == 3 ? 8081 : 8080);
	return w_podobj(&(struct podspec){ ns, name, node, labels, ip, port });
}

static struct k8sobj *bench_ns(int i, int team)
{
	return w_obj(K8SOBJ_NAMESPACE, "{'metadata':{'name':'ns-%d','labels':{'team':'t%d',"
		     "'env':'%s'}}}", i, team, i % 2 ? "prod" : "dev");
}

static struct k8sobj *bench_pol(int i, int k, int port)
{
	char spec[1024];

	switch (k) {
	case 0:
		snprintf(spec, sizeof(spec), "'ingress':[{'from':[{'podSelector':{'matchLabels':"
			 "{'app':'a1'}}}],'ports':[{'port':%d},{'port':443}]}]", port);
		break;
	case 1:
		snprintf(spec, sizeof(spec), "'ingress':[{'from':[{'namespaceSelector':{"
			 "'matchLabels':{'team':'t%d'}}}],'ports':[{'port':%d}]}]", (i + 1) % 10,
			 port);
		break;
	case 2:
		snprintf(spec, sizeof(spec), "'ingress':[{'from':[{'namespaceSelector':{"
			 "'matchLabels':{'env':'prod'}},"
			 "'podSelector':{'matchLabels':{'app':'a2'}}}],"
			 "'ports':[{'port':443}]}],'egress':[{'to':[{'podSelector':{'matchLabels':"
			 "{'app':'a3'}}}],'ports':[{'port':%d,'protocol':'UDP'}]}]", port);
		break;
	case 3:
		snprintf(spec, sizeof(spec), "'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/8',"
			 "'except':['10.5.0.0/16']}}],'ports':[{'port':%d}]}]", port);
		break;
	case 4:
		snprintf(spec, sizeof(spec), "'ingress':[{'from':[{'podSelector':{'matchLabels':"
			 "{'app':'a5'}}}],'ports':[{'port':'http'},{'port':%d}]}]", port);
		break;
	case 5:
		snprintf(spec, sizeof(spec), "'egress':[{'to':[{'namespaceSelector':{}}],"
			 "'ports':[{'port':53,'protocol':'UDP'}]},{'to':[{'ipBlock':{'cidr':"
			 "'0.0.0.0/0','except':['10.0.0.0/8']}}],'ports':[{'port':%d}]}],"
			 "'policyTypes':['Egress']", port);
		break;
	case 6:
		snprintf(spec, sizeof(spec), "'ingress':[{'from':[{'podSelector':{"
			 "'matchExpressions':[{'key':'tier','operator':'In','values':['fe']}]}}],"
			 "'ports':[{'port':%d,'endPort':8090}]}]", port);
		break;
	case 7:
		snprintf(spec, sizeof(spec), "'policyTypes':['Ingress','Egress']%s",
			 port == 80 ? "" : ",'ingress':[]");
		break;
	case 8:
		snprintf(spec, sizeof(spec), "'ingress':[{}],'egress':[{'to':[{'podSelector':{"
			 "'matchLabels':{'app':'a9'}}}],'ports':[{'port':'metrics'},{'port':%d}]}]",
			 port);
		break;
	default:
		snprintf(spec, sizeof(spec), "'ingress':[{'from':[{'namespaceSelector':{"
			 "'matchLabels':{'team':'t%d'}},"
			 "'podSelector':{'matchLabels':{'app':'a0'}}}],"
			 "'ports':[{'port':%d}]}]", i % 10, port);
		break;
	}
	return w_obj(K8SOBJ_NETPOL, "{'metadata':{'name':'pol-%d','namespace':'ns-%d'},"
		     "'spec':{'podSelector':{'matchLabels':{'app':'a%d'}},%s}}", k, i, k, spec);
}

static void bench_world(struct world *w)
{
	int i, j, k;

	w_init(w, "node-0");
	for (i = 0; i < BNS; i++) {
		w_put(w, bench_ns(i, i % 10));
		for (j = 0; j < BPODS; j++) {
			w_put(w, bench_pod(i, j, j % 10));
			if ((i + j) % BNODES == 0) {
				char ns[16], name[16], ip[64];

				snprintf(ns, sizeof(ns), "ns-%d", i);
				snprintf(name, sizeof(name), "pod-%d", j);
				snprintf(ip, sizeof(ip), "10.%d.0.%d", i, j + 1);
				w_local(w, ns, name, ip);
			}
		}
		for (k = 0; k < 10; k++)
			w_put(w, bench_pol(i, k, 80));
	}
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct samples {
	double v[400];
	int n;
};

/* Apply o (NULL: remove ns/name of kind), compile, and time both. */
static void timed(struct world *w, struct npplan *plan, struct samples *s, struct k8sobj *o,
		  enum k8sobj_kind kind, const char *ns, const char *name)
{
	struct npplan next;
	double t0 = now_ms();

	if (o)
		w_put(w, o);
	else
		w_rm(w, kind, ns, name);
	w_compile(w, &next);
	s->v[s->n++] = now_ms() - t0;
	npplan_free(plan);
	*plan = next;
}

static void report(const char *what, struct samples *s)
{
	qsort(s->v, (size_t)s->n, sizeof(s->v[0]), dcmp);
	diag("  %-22s p50 %.3f ms  p99 %.3f ms  max %.3f ms (%d samples)", what,
	     s->v[s->n / 2], s->v[(s->n * 99) / 100], s->v[s->n - 1], s->n);
}

static size_t nelems(const struct npplan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->ngroups; i++)
		n += p->groups[i]->nelems;
	return n;
}

static void test_scale(void)
{
	static struct samples lab, addel, nsl, pol;
	struct npplan plan, ref;
	struct world w;
	double t0, full;
	char ns[16], name[16];
	int n, i, j;

	bench_world(&w);
	t0 = now_ms();
	w_compile(&w, &plan);
	full = now_ms() - t0;
	diag("scale: %zu pods, %zu policies, %zu groups, %zu elements, %zu dispatch entries",
	     cache_count(w.pods), cache_count(w.pols), plan.ngroups, nelems(&plan), plan.ndisp);
	diag("  full compile %.1f ms", full);
	for (n = 0; n < 200; n++) {
		i = (int)rnd(BNS);
		j = (int)rnd(BPODS);
		timed(&w, &plan, &lab, bench_pod(i, j, (int)rnd(10)), K8SOBJ_POD, NULL, NULL);
		snprintf(ns, sizeof(ns), "ns-%d", i);
		snprintf(name, sizeof(name), "pod-%d", j);
		if (n < 100) {
			timed(&w, &plan, &addel, NULL, K8SOBJ_POD, ns, name);
			timed(&w, &plan, &addel, bench_pod(i, j, j % 10), K8SOBJ_POD, NULL, NULL);
		}
		i = (int)rnd(BNS);
		if (n < 100)
			timed(&w, &plan, &nsl, bench_ns(i, (int)rnd(10)), K8SOBJ_NAMESPACE, NULL,
			      NULL);
		timed(&w, &plan, &pol, bench_pol(i, (int)rnd(10), 80 + (int)rnd(2)), K8SOBJ_NETPOL,
		      NULL, NULL);
	}
	diag("  groups built %lu, edited %lu (%lu unchanged), fallbacks %lu", w.npc->stats.full,
	     w.npc->stats.delta, w.npc->stats.kept, w.npc->stats.fallback);
	report("pod label change", &lab);
	report("pod delete/add", &addel);
	report("namespace label change", &nsl);
	report("policy edit", &pol);
	ok(full < 300 * 3, "full compile well within budget (ASan build)");
	w_fresh(&w, &ref);
	ok(plan_same(&plan, &ref), "after 900 single changes: incremental plan == fresh");
	npplan_free(&plan);
	npplan_free(&ref);
	w_fini(&w);
}

int main(void)
{
	if (!getenv("NPC_SCALE_ONLY"))
		test_property();
	test_scale();
	return tap_done();
}
