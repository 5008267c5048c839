// SPDX-License-Identifier: MIT
/* deps: core/npcompile.c core/npcompile_util.c core/npcompile_rec.c core/npcompile_peer.c core/npcompile_pol.c core/npcompile_group.c core/npcompile_elem.c core/npcompile_build.c core/npplan.c core/npplan_share.c core/npplan_norm.c core/cache.c core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c core/selector.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c base/sort.c */
/*
 * test_npcompile.c: the NetworkPolicy compiler's semantics, one small cluster per case and
 * the exact plan it must give (the text form of npc_world.h): empty vs absent selectors,
 * AND vs OR peers, the four expression operators, [] vs [{}] rule lists, policyTypes
 * defaults, every port shape with named ports resolved per target (ingress) and per
 * destination (egress), ipBlock with except, SCTP and UDP kept apart, dual-stack,
 * hostNetwork, finished and address-less pods, invalid policies failing closed, the
 * namespace boundary, CNI-reported addresses. Every case is also compiled from scratch and
 * must give the same plan. Then: group sharing and names, pointer reuse across compiles,
 * and allocation failures at every point of a compile and of a note.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "npc_world.h"

#define TCP_HTTP "{'name':'http','containerPort':%d}"

/*
 * The base cluster. Node n1 runs a/web1, a/web2, a/db and b/local; the others run on n2.
 * Namespaces: a {team: x, env: prod}, b {team: y, env: prod}, c {team: z}.
 */
static void base(struct world *w)
{
	w_init(w, "n1");
	w_ns(w, "a", "'team':'x','env':'prod'");
	w_ns(w, "b", "'team':'y','env':'prod'");
	w_ns(w, "c", "'team':'z'");
	w_pod(w, (struct podspec){ "a", "web1", "n1", "'app':'web','tier':'fe'", "10.0.1.1",
				   "{'name':'http','containerPort':8080}" });
	w_pod(w, (struct podspec){ "a", "web2", "n1", "'app':'web'", "10.0.1.2 fd00::1:2",
				   "{'name':'http','containerPort':9090}" });
	w_pod(w, (struct podspec){ "a", "db", "n1", "'app':'db','tier':''", "10.0.1.3",
				   "{'name':'pg','containerPort':5432},"
				   "{'name':'http','containerPort':8053,'protocol':'UDP'}" });
	w_pod(w, (struct podspec){ "a", "cli", "n2", "'app':'client'", "10.0.2.1" });
	w_pod(w, (struct podspec){ "b", "cli", "n2", "'app':'client'", "10.0.2.2 fd00::2:2" });
	w_pod(w, (struct podspec){ "b", "api", "n2", "'app':'api'", "10.0.2.3",
				   "{'name':'http','containerPort':8000}" });
	w_pod(w, (struct podspec){ "b", "local", "n1", "'app':'client'", "10.0.1.4" });
	w_pod(w, (struct podspec){ "c", "cli", "n2", "'app':'client'", "10.0.3.1" });
	w_pod(w, (struct podspec){ "c", "host", "n2", "'app':'client'", "192.168.0.10", NULL,
				   "'hostNetwork':true," });
	w_pod(w, (struct podspec){ "c", "done", "n2", "'app':'client'", "10.0.3.9", NULL, NULL,
				   "Succeeded" });
	w_pod(w, (struct podspec){ "c", "noip", "n2", "'app':'client'", NULL });
}

/* Compile incrementally and from scratch; both must give want. */
static void check(struct world *w, const char *want, const char *what)
{
	struct npplan p, f;
	char *t;

	w_compile(w, &p);
	w_fresh(w, &f);
	t = plan_text(&p);
	is_str(t, want, what);
	if (!plan_same(&p, &f))
		diag("%s: incremental and fresh plans differ", what);
	ok(plan_same(&p, &f), "... same from scratch");
	free(t);
	npplan_free(&p);
	npplan_free(&f);
}

/* A base cluster plus the given policies in namespace a ("name|spec" pairs, NULL-ended). */
static void case_a(const char *what, const char *want, ...)
{
	struct world w;
	const char *s;
	va_list ap;
	int i = 0;

	base(&w);
	va_start(ap, want);
	while ((s = va_arg(ap, const char *))) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", i++);
		w_pol(&w, "a", name, s);
	}
	va_end(ap);
	check(&w, want, what);
	w_fini(&w);
}

#define A_TARGETS(g) "I 10.0.1.1:" g "\nI 10.0.1.2:" g "\nI 10.0.1.3:" g "\nI fd00::1:2:" g "\n"
#define WEB(g) "I 10.0.1.1:" g "\nI 10.0.1.2:" g "\nI fd00::1:2:" g "\n"
#define SEL_WEB "'podSelector':{'matchLabels':{'app':'web'}},"

static void test_rule_lists(void)
{
	case_a("no policy: nothing isolated", "", NULL);
	case_a("ingress absent, types [Ingress]: deny all", A_TARGETS(" none"),
	       "'podSelector':{},'policyTypes':['Ingress']", NULL);
	case_a("ingress []: deny all", A_TARGETS(" none"), "'podSelector':{},'ingress':[]", NULL);
	case_a("ingress [{}]: allow all", A_TARGETS(" all"), "'podSelector':{},'ingress':[{}]",
	       NULL);
	case_a("from [] and ports []: allow all", A_TARGETS(" all"),
	       "'podSelector':{},'ingress':[{'from':[],'ports':[]}]", NULL);
	case_a("egress [] without policyTypes: ingress only", A_TARGETS(" none"),
	       "'podSelector':{},'egress':[]", NULL);
	case_a("egress [] with policyTypes [Egress]: egress deny only",
	       "E 10.0.1.1: none\nE 10.0.1.2: none\nE 10.0.1.3: none\nE fd00::1:2: none\n",
	       "'podSelector':{},'egress':[],'policyTypes':['Egress']", NULL);
	case_a("egress [{}] isolates ingress by default too",
	       "I 10.0.1.1: none\nI 10.0.1.2: none\nI 10.0.1.3: none\nI fd00::1:2: none\n"
	       "E 10.0.1.1: all\nE 10.0.1.2: all\nE 10.0.1.3: all\nE fd00::1:2: all\n",
	       "'podSelector':{},'egress':[{}]", NULL);
	case_a("isolation is additive: a deny and an allow give the allow", WEB(" all"),
	       SEL_WEB "'ingress':[]", SEL_WEB "'ingress':[{}]", NULL);
}

static void test_selectors(void)
{
	case_a("podSelector peer: the policy's namespace only", WEB(" a:10.0.2.1"),
	       SEL_WEB "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'client'}}}]}]",
	       NULL);
	case_a("namespaceSelector peer: every pod of the namespaces",
	       WEB(" a:10.0.1.4 a:10.0.2.2 a:10.0.2.3 a:fd00::2:2"),
	       SEL_WEB "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'team':'y'}}}]}]",
	       NULL);
	case_a("both in one peer: AND (hostNetwork, finished, no-IP pods never members)",
	       WEB(" a:10.0.1.4 a:10.0.2.2 a:10.0.3.1 a:fd00::2:2"),
	       SEL_WEB "'ingress':[{'from':[{'namespaceSelector':{'matchExpressions':[{'key':"
	       "'team','operator':'In','values':['y','z']}]},'podSelector':{'matchLabels':{'app':"
	       "'client'}}}]}]", NULL);
	case_a("two peers: OR",
	       WEB(" a:10.0.1.4 a:10.0.2.1 a:10.0.2.2 a:10.0.2.3 a:10.0.3.1 a:fd00::2:2"),
	       SEL_WEB "'ingress':[{'from':[{'namespaceSelector':{'matchExpressions':[{'key':"
	       "'team','operator':'In','values':['y','z']}]}},{'podSelector':{'matchLabels':{"
	       "'app':'client'}}}]}]", NULL);
	case_a("namespaceSelector {} with a podSelector: every namespace",
	       WEB(" a:10.0.2.3"),
	       SEL_WEB "'ingress':[{'from':[{'namespaceSelector':{},'podSelector':{'matchLabels':"
	       "{'app':'api'}}}]}]", NULL);
	case_a("namespaceSelector {} alone: every pod anywhere",
	       WEB(" a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.1.4 a:10.0.2.1 a:10.0.2.2"
		   " a:10.0.2.3 a:10.0.3.1 a:fd00::1:2 a:fd00::2:2"),
	       SEL_WEB "'ingress':[{'from':[{'namespaceSelector':{}}]}]", NULL);
	case_a("podSelector {} peer: every pod of the policy's namespace",
	       WEB(" a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2"),
	       SEL_WEB "'ingress':[{'from':[{'podSelector':{}}]}]", NULL);
	case_a("matchLabels {} is {}",
	       WEB(" a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2"),
	       SEL_WEB "'ingress':[{'from':[{'podSelector':{'matchLabels':{}}}]}]", NULL);
	case_a("NotIn matches pods without the key", WEB(" a:10.0.1.2 a:10.0.2.1 a:fd00::1:2"),
	       SEL_WEB "'ingress':[{'from':[{'podSelector':{'matchExpressions':[{'key':'tier',"
	       "'operator':'NotIn','values':['fe','']}]}}]}]", NULL);
	case_a("Exists matches an empty value", WEB(" a:10.0.1.1 a:10.0.1.3"),
	       SEL_WEB "'ingress':[{'from':[{'podSelector':{'matchExpressions':[{'key':'tier',"
	       "'operator':'Exists'}]}}]}]", NULL);
	case_a("DoesNotExist", WEB(" a:10.0.1.2 a:10.0.2.1 a:fd00::1:2"),
	       SEL_WEB "'ingress':[{'from':[{'podSelector':{'matchExpressions':[{'key':'tier',"
	       "'operator':'DoesNotExist'}]}}]}]", NULL);
	case_a("In and matchLabels AND together", WEB(" a:10.0.1.3"),
	       SEL_WEB "'ingress':[{'from':[{'podSelector':{'matchLabels':{'tier':''},"
	       "'matchExpressions':[{'key':'app','operator':'In','values':['db','web']}]}}]}]",
	       NULL);
	case_a("namespaceSelector on a label no namespace has: nothing", WEB(" none"),
	       SEL_WEB "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'x':'y'}}}]}]",
	       NULL);
}

/* A pod whose Namespace object is absent: no namespaceSelector matches it, its own
 * namespace's podSelector peers do. */
static void test_no_namespace(void)
{
	struct world w;

	base(&w);
	w_pod(&w, (struct podspec){ "d", "x", "n2", "'app':'client'", "10.0.4.1" });
	w_pod(&w, (struct podspec){ "d", "t", "n1", "'app':'web'", "10.0.4.2" });
	w_pol(&w, "d", "p", SEL_WEB "'ingress':[{'from':[{'podSelector':{'matchLabels':"
	      "{'app':'client'}}}]}]");
	w_pol(&w, "a", "p", SEL_WEB "'ingress':[{'from':[{'namespaceSelector':{},'podSelector':"
	      "{'matchLabels':{'app':'client'}}}]}]");
	check(&w, "I 10.0.1.1: a:10.0.1.4 a:10.0.2.1 a:10.0.2.2 a:10.0.3.1 a:fd00::2:2\n"
	      "I 10.0.1.2: a:10.0.1.4 a:10.0.2.1 a:10.0.2.2 a:10.0.3.1 a:fd00::2:2\n"
	      "I 10.0.4.2: a:10.0.4.1\n"
	      "I fd00::1:2: a:10.0.1.4 a:10.0.2.1 a:10.0.2.2 a:10.0.3.1 a:fd00::2:2\n",
	      "namespace object absent: podSelector peers only");
	w_ns(&w, "d", "");
	check(&w, "I 10.0.1.1: a:10.0.1.4 a:10.0.2.1 a:10.0.2.2 a:10.0.3.1 a:10.0.4.1 a:fd00::2:2\n"
	      "I 10.0.1.2: a:10.0.1.4 a:10.0.2.1 a:10.0.2.2 a:10.0.3.1 a:10.0.4.1 a:fd00::2:2\n"
	      "I 10.0.4.2: a:10.0.4.1\n"
	      "I fd00::1:2: a:10.0.1.4 a:10.0.2.1 a:10.0.2.2 a:10.0.3.1 a:10.0.4.1 a:fd00::2:2\n",
	      "... and once it appears, namespaceSelector {} matches it");
	w_rm(&w, K8SOBJ_NAMESPACE, "", "d");
	w_rm(&w, K8SOBJ_POD, "b", "cli");
	check(&w, "I 10.0.1.1: a:10.0.1.4 a:10.0.2.1 a:10.0.3.1\n"
	      "I 10.0.1.2: a:10.0.1.4 a:10.0.2.1 a:10.0.3.1\n"
	      "I 10.0.4.2: a:10.0.4.1\n"
	      "I fd00::1:2: a:10.0.1.4 a:10.0.2.1 a:10.0.3.1\n",
	      "... and leaves it when deleted; a deleted pod leaves every peer");
	w_fini(&w);
}

#define CLIENT_A "'from':[{'podSelector':{'matchLabels':{'app':'client'}}}]"

static void test_ports(void)
{
	/* a pod peer's port range is a hash-set element (q), never an interval; a range of
	 * one port is a plain port */
	case_a("ports: protocol only (UDP does not open TCP), number, range, SCTP",
	       WEB(" x:10.0.2.1/6/80 x:10.0.2.1/6/9000 x:10.0.2.1/132/80 p:10.0.2.1/17"
		   " q:10.0.2.1/6/8000-8080"),
	       SEL_WEB "'ingress':[{" CLIENT_A ",'ports':[{'protocol':'UDP'},{'port':80},"
	       "{'port':80,'protocol':'SCTP'},{'port':8000,'endPort':8080},"
	       "{'port':9000,'endPort':9000}]}]", NULL);
	case_a("ports [{}] is every TCP port", WEB(" p:10.0.2.1/6"),
	       SEL_WEB "'ingress':[{" CLIENT_A ",'ports':[{}]}]", NULL);
	case_a("named ingress port: resolved on each target, name and protocol",
	       "I 10.0.1.1: x:10.0.2.1/6/8080\nI 10.0.1.2: x:10.0.2.1/6/9090\n"
	       "I 10.0.1.3: none\nI fd00::1:2: x:10.0.2.1/6/9090\n",
	       "'podSelector':{},'ingress':[{" CLIENT_A ",'ports':[{'port':'http'}]}]", NULL);
	case_a("named ingress port, UDP", "I 10.0.1.1: none\nI 10.0.1.2: none\n"
	       "I 10.0.1.3: x:10.0.2.1/17/8053\nI fd00::1:2: none\n",
	       "'podSelector':{},'ingress':[{" CLIENT_A ",'ports':[{'port':'http',"
	       "'protocol':'UDP'}]}]", NULL);
	case_a("named ingress port from anywhere (both families) and from a v4 ipBlock",
	       "I 10.0.1.1: r:0.0.0.0-255.255.255.255/6/8080 r:::-ffff:ffff:ffff:ffff:ffff:ffff:"
	       "ffff:ffff/6/8080\n"
	       "I 10.0.1.2: r:10.0.0.0-10.255.255.255/6/9090\n"
	       "I fd00::1:2: r:10.0.0.0-10.255.255.255/6/9090\n",
	       "'podSelector':{'matchLabels':{'tier':'fe'}},"
	       "'ingress':[{'ports':[{'port':'http'}]}]",
	       "'podSelector':{'matchLabels':{'app':'web'}},'ingress':[{'from':[{'ipBlock':{"
	       "'cidr':'10.0.0.0/8'}}],'ports':[{'port':'http'}]}]", NULL);
	case_a("any peer with ports: the whole of both families",
	       WEB(" r:0.0.0.0-255.255.255.255/6/443 r:::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
		   "/6/443"),
	       SEL_WEB "'ingress':[{'ports':[{'port':443}]}]", NULL);
}

/* Egress from b/local (the one local pod of namespace b). */
static void case_b(const char *what, const char *want, const char *spec)
{
	struct world w;

	base(&w);
	w_pol(&w, "b", "eg", spec);
	check(&w, want, what);
	w_fini(&w);
}

#define SEL_LOCAL "'podSelector':{'matchLabels':{'app':'client'}},'policyTypes':['Egress'],"

static void test_egress_named(void)
{
	case_b("named egress port: per destination pod", "E 10.0.1.4: x:10.0.2.3/6/8000\n",
	       SEL_LOCAL "'egress':[{'to':[{'podSelector':{'matchLabels':{'app':'api'}}}],"
	       "'ports':[{'port':'http'}]}]");
	case_b("named egress port, any peer: every pod having it (name and protocol)",
	       "E 10.0.1.4: x:10.0.1.1/6/8080 x:10.0.1.2/6/9090 x:10.0.2.3/6/8000"
	       " x:fd00::1:2/6/9090\n",
	       SEL_LOCAL "'egress':[{'ports':[{'port':'http'}]}]");
	case_b("named egress port, ipBlock: pods inside it having it, family by family",
	       "E 10.0.1.4: x:10.0.1.1/6/8080 x:10.0.1.2/6/9090\n",
	       SEL_LOCAL "'egress':[{'to':[{'ipBlock':{'cidr':'10.0.1.0/24'}}],"
	       "'ports':[{'port':'http'}]}]");
	case_b("named egress port nobody has: isolated, nothing allowed", "E 10.0.1.4: none\n",
	       SEL_LOCAL "'egress':[{'ports':[{'port':'nope'}]}]");
	case_b("policies of another namespace never select (a's pods stay open)",
	       "E 10.0.1.4: none\n", "'podSelector':{},'policyTypes':['Egress']");
}

static void test_ipblock(void)
{
	case_a("ipBlock except, re-allowed by another peer; v4 never opens v6",
	       WEB(" r:10.0.0.0-10.1.0.255/*/* r:10.2.0.0-10.255.255.255/*/*"),
	       SEL_WEB "'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/8','except':"
	       "['10.1.0.0/16']}},{'ipBlock':{'cidr':'10.1.0.0/24'}}]}]", NULL);
	case_a("ipBlock with ports, host bits cleared; v6 block",
	       WEB(" r:10.0.0.0-10.0.0.255/6/80 r:10.0.0.0-10.0.0.255/17/53"
		   " r:fd00::-fd00::ffff:ffff:ffff:ffff/6/80"
		   " r:fd00::-fd00::ffff:ffff:ffff:ffff/17/53"),
	       SEL_WEB "'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.7/24'}},{'ipBlock':"
	       "{'cidr':'fd00::/64'}}],'ports':[{'port':80},{'port':53,'protocol':'UDP'}]}]",
	       NULL);
	case_a("ipBlock protocol only and range",
	       WEB(" r:10.0.0.0-10.0.0.255/6/1000-2000 r:10.0.0.0-10.0.0.255/132/*"),
	       SEL_WEB "'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/24'}}],'ports':["
	       "{'protocol':'SCTP'},{'port':1000,'endPort':2000}]}]", NULL);
}

static void test_pods(void)
{
	struct world w;

	base(&w);
	/* local pods that can never be targets */
	w_pod(&w, (struct podspec){ "a", "h", "n1", "'app':'web'", "10.0.1.9", NULL,
				    "'hostNetwork':true," });
	w_pod(&w, (struct podspec){ "a", "f", "n1", "'app':'web'", "10.0.1.8", NULL, NULL,
				    "Failed" });
	w_pod(&w, (struct podspec){ "a", "n", "n1", "'app':'web'", NULL });
	w_pol(&w, "a", "p", SEL_WEB "'ingress':[]");
	check(&w, WEB(" none"), "hostNetwork, failed and address-less pods are never targets");
	/* the CNI-reported address wins, for targets and peers; unknown pods are skipped */
	w_local(&w, "a", "web1", "10.0.9.1");
	w_local(&w, "a", "n", "10.0.9.2");
	w_local(&w, "a", "ghost", "10.0.9.3");
	w_pol(&w, "a", "p", SEL_WEB "'ingress':[{'from':[{'podSelector':{}}]}]");
	check(&w, "I 10.0.1.2: a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:10.0.9.1 a:10.0.9.2 a:fd00::1:2\n"
	      "I 10.0.9.1: a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:10.0.9.1 a:10.0.9.2 a:fd00::1:2\n"
	      "I 10.0.9.2: a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:10.0.9.1 a:10.0.9.2 a:fd00::1:2\n"
	      "I fd00::1:2: a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:10.0.9.1 a:10.0.9.2 a:fd00::1:2\n",
	      "local addresses win; a pod the cache lacks is skipped");
	/* two local pods claim 10.0.1.1: the CNI-reported one owns it */
	w_local(&w, "a", "n", "10.0.1.1");
	w_pol(&w, "a", "q", "'podSelector':{'matchLabels':{'tier':'fe'}},'ingress':[{}]");
	w_local(&w, "a", "web1", NULL);
	check(&w, "I 10.0.1.1: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "I 10.0.1.2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "I fd00::1:2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n",
	      "an address claimed twice belongs to the CNI-reported pod");
	w_local(&w, "a", "n", NULL);
	w_local(&w, "b", "local", "10.0.1.1");
	check(&w, "I 10.0.1.2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "I fd00::1:2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n",
	      "... whichever namespace it is in (b/local, not isolated, owns 10.0.1.1)");
	w_local(&w, "b", "local", NULL);
	w_pod(&w, (struct podspec){ "a", "aaa", "n1", "'app':'x'", "10.0.1.1" });
	check(&w, "I 10.0.1.2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "I fd00::1:2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n",
	      "else the smaller ns/name owns it (a/aaa, not isolated)");
	w_fini(&w);
}

static void test_invalid(void)
{
	struct world w;

	base(&w);
	w_pol(&w, "a", "bad", SEL_WEB "'ingress':[{'from':[{}]}]");
	w_pol(&w, "a", "ok", SEL_WEB "'ingress':[{'from':[{'podSelector':{}}]}]");
	w_pol(&w, "c", "worse", "'podSelector':{'matchExpressions':[{'key':'a','operator':'Is'}]}");
	check(&w, "I 10.0.1.1: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "I 10.0.1.2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "I fd00::1:2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "E 10.0.1.1: none\nE 10.0.1.2: none\nE fd00::1:2: none\n"
	      "! a/bad: spec.ingress[0].from[0]: needs podSelector, namespaceSelector or "
	      "ipBlock\n"
	      "! c/worse: spec.podSelector.matchExpressions[0].operator: unknown operator \"Is\"\n",
	      "invalid policy: isolates its pods both ways, allows nothing, is reported");
	w_pol(&w, "a", "worse", "'podSelector':{'matchExpressions':[{'key':'a','operator':'Is'}]}");
	w_rm(&w, K8SOBJ_NETPOL, "a", "bad");
	w_rm(&w, K8SOBJ_NETPOL, "c", "worse");
	check(&w, "I 10.0.1.1: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "I 10.0.1.2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "I 10.0.1.3: none\n"
	      "I fd00::1:2: a:10.0.1.1 a:10.0.1.2 a:10.0.1.3 a:10.0.2.1 a:fd00::1:2\n"
	      "E 10.0.1.1: none\nE 10.0.1.2: none\nE 10.0.1.3: none\nE fd00::1:2: none\n"
	      "! a/worse: spec.podSelector.matchExpressions[0].operator: unknown operator \"Is\"\n",
	      "unusable podSelector: every target of the namespace isolated both ways");
	w_fini(&w);
}

/* Group of the dispatch entry for (dir, addr), or NULL. */
static const struct npplan_group *disp_group(const struct npplan *p, int dir, const char *addr)
{
	struct ipaddr a;
	size_t i;

	if (ipaddr_parse(addr, strlen(addr), &a))
		abort();
	for (i = 0; i < p->ndisp; i++)
		if (p->disp[i].dir == dir && ipaddr_eq(&p->disp[i].addr, &a))
			return p->groups[p->disp[i].group];
	return NULL;
}

static bool name_ok(const char *n, const char *prefix)
{
	size_t i;

	if (strncmp(n, prefix, 3) || strlen(n) != 19)
		return false;
	for (i = 3; i < 19; i++)
		if (!strchr("0123456789abcdef", n[i]))
			return false;
	return true;
}

static void test_groups(void)
{
	const struct npplan_group *g2, *g3;
	struct npplan_group *g1, *e1;
	struct npplan p, q;
	struct world w;
	size_t i;

	base(&w);
	w_pol(&w, "a", "p", SEL_WEB "'ingress':[{" CLIENT_A "}],'egress':[{}]");
	w_compile(&w, &p);
	/* held across the compiles below, which may drop the compiler's references */
	g1 = npplan_group_ref((struct npplan_group *)disp_group(&p, NPPLAN_IN, "10.0.1.1"));
	e1 = npplan_group_ref((struct npplan_group *)disp_group(&p, NPPLAN_EG, "10.0.1.1"));
	g2 = disp_group(&p, NPPLAN_IN, "10.0.1.2");
	g3 = disp_group(&p, NPPLAN_IN, "fd00::1:2");
	ok(g1 && g1 == g2 && g2 == g3, "pods with the same policies share the ingress group");
	ok(g1 && e1 && name_ok(g1->name, "in-") && name_ok(e1->name, "eg-"),
	   "names: in-/eg- and 16 hex digits");
	is_int(p.ngroups, 2, "one group per direction");
	for (i = 1; i < p.ngroups; i++)
		ok(strcmp(p.groups[i - 1]->name, p.groups[i]->name) < 0, "groups sorted by name");
	/* an unrelated change keeps every group object */
	w_pod(&w, (struct podspec){ "c", "other", "n2", "'app':'other'", "10.0.3.7" });
	w_compile(&w, &q);
	ok(q.ngroups == 2 && q.groups[0] == p.groups[0] && q.groups[1] == p.groups[1],
	   "unrelated pod: same group pointers");
	npplan_free(&p);
	/* a member joining changes the ingress group only; its name stays */
	w_pod(&w, (struct podspec){ "a", "cli2", "n2", "'app':'client'", "10.0.2.9" });
	w_compile(&w, &p);
	g2 = disp_group(&p, NPPLAN_IN, "10.0.1.1");
	ok(g2 && g2 != g1 && !strcmp(g2->name, g1->name), "new member: ingress group rebuilt, "
	   "same name");
	ok(disp_group(&p, NPPLAN_EG, "10.0.1.1") == e1, "... egress group untouched");
	npplan_free(&q);
	/* editing the policy keeps the names (the chains are reused) */
	w_pol(&w, "a", "p",
	      SEL_WEB "'ingress':[{" CLIENT_A ",'ports':[{'port':1}]}],'egress':[{}]");
	w_compile(&w, &q);
	g3 = disp_group(&q, NPPLAN_IN, "10.0.1.1");
	ok(g3 && !strcmp(g3->name, g1->name) && g3->nelems == 2, "policy edit: same name, new "
	   "content");
	ok(disp_group(&q, NPPLAN_EG, "10.0.1.1") == e1, "... unchanged egress group same object");
	npplan_free(&p);
	npplan_free(&q);
	npplan_group_unref(g1);
	npplan_group_unref(e1);
	w_fini(&w);
}

/* ---- allocation failures -------------------------------------------------------------- */

static void mutate(struct world *w, int step)
{
	switch (step) {
	case 0:
		w_pol(w, "a", "p", SEL_WEB "'ingress':[{" CLIENT_A ",'ports':[{'port':'http'}]},"
		      "{'from':[{'ipBlock':{'cidr':'10.0.0.0/8','except':['10.0.2.0/24']}},"
		      "{'namespaceSelector':{'matchLabels':{'team':'y'}}}]}],"
		      "'egress':[{'ports':[{'port':'http'}]}]");
		w_pol(w, "a", "bad", "'podSelector':{},'ingress':[{'from':[{}]}]");
		break;
	case 1:
		w_pod(w, (struct podspec){ "b", "cli", "n2", "'app':'gone'", "10.0.2.2" });
		w_ns(w, "c", "'team':'y'");
		break;
	case 2:
		w_rm(w, K8SOBJ_NETPOL, "a", "bad");
		w_local(w, "a", "web1", "10.0.9.1");
		break;
	default:
		w_rm(w, K8SOBJ_POD, "a", "web2");
		w_rm(w, K8SOBJ_NAMESPACE, "", "b");
		break;
	}
}

/* The base cluster, compiled, then changed by steps 0..step (-1: nothing compiled yet). */
static void fault_world(struct world *w, int step)
{
	struct npplan p;
	int i;

	base(w);
	if (step < 0)
		return;
	for (i = 0; i < step; i++)
		mutate(w, i);
	w_compile(w, &p);
	npplan_free(&p);
	mutate(w, step);
}

static void fault_compile(int step)
{
	struct npplan p, f;
	struct world w;
	unsigned long n, calls;
	int bad = 0, r;

	for (n = 1;; n++) {
		struct npc_input in;

		fault_world(&w, step);
		in = w_input(&w);
		fault_reset(n);
		r = npc_compile(w.npc, &in, &p, NULL);
		calls = fault_reset(0);
		if (calls < n) {
			bad += r != 0;
			npplan_free(&p);
			w_fini(&w);
			break;
		}
		bad += r != -ENOMEM || p.ngroups || p.groups || p.ndisp || p.nproblems;
		/* the retry gives the plan of a compile from scratch */
		w_compile(&w, &p);
		w_fresh(&w, &f);
		bad += !plan_same(&p, &f);
		npplan_free(&p);
		npplan_free(&f);
		w_fini(&w);
	}
	diag("step %d: %lu allocations in the compile", step, n - 1);
	ok(!bad, "compile: clean -ENOMEM at every allocation, retry gives the right plan");
}

/* A note that cannot allocate marks everything dirty; the next compile still gets it right. */
static void fault_note(void)
{
	struct npplan p, f;
	struct world w;
	unsigned long n, calls;
	int bad = 0, failed = 0;

	base(&w);
	w_compile(&w, &p);
	npplan_free(&p);
	for (n = 1; n < 8; n++) {
		struct k8sobj *o = w_obj(K8SOBJ_NETPOL, "{'metadata':{'name':'n%lu','namespace':"
					 "'n%lu'},'spec':{'podSelector':{}}}", n, n);
		char ns[16], ip[16];

		snprintf(ns, sizeof(ns), "n%lu", n);
		snprintf(ip, sizeof(ip), "10.1.0.%lu", n);

		fault_reset(n);
		npc_note(w.npc, NULL, o);
		calls = fault_reset(0);
		failed += calls >= n;
		w_put(&w, o);
		w_pod(&w, (struct podspec){ ns, "x", "n1", "", ip });
		w_compile(&w, &p);
		w_fresh(&w, &f);
		bad += !plan_same(&p, &f) || p.ndisp != n;
		npplan_free(&p);
		npplan_free(&f);
	}
	ok(!bad && failed >= 3, "note without memory: the next compile is still right");
	w_fini(&w);
}

static void test_faults(void)
{
	int s;

	for (s = -1; s < 4; s++)
		fault_compile(s);
	fault_note();
}

static void test_input(void)
{
	struct npc_input in = { 0 };
	struct ebuf eb = { "" };
	struct npplan p;
	struct npc *c;

	if (npc_new(&c))
		abort();
	is_int(npc_compile(c, &in, &p, &eb), -EINVAL, "no caches: -EINVAL");
	ok(eb.msg[0] != '\0', "... with a reason");
	npc_free(c);
	npc_free(NULL);
	fault_reset(1);
	is_int(npc_new(&c), -ENOMEM, "npc_new: -ENOMEM");
	fault_reset(0);
}

int main(void)
{
	test_rule_lists();
	test_selectors();
	test_no_namespace();
	test_ports();
	test_egress_named();
	test_ipblock();
	test_pods();
	test_invalid();
	test_groups();
	test_faults();
	test_input();
	return tap_done();
}
