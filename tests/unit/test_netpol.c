// SPDX-License-Identifier: MIT
/* deps: core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c core/selector.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * test_netpol.c: decoding of NetworkPolicies (k8sobj_netpol.c): the upstream fixture, the
 * policy shapes real clusters and the upstream e2e suite use (default deny, namespace and pod
 * peers, ipBlock with except, named ports, endPort, policyTypes defaulting, [] vs [{}]), the
 * exact reason recorded for specs Virgil cannot enforce, packing, and allocation failures.
 * JSON is written with ' for " to stay readable; every input sits against a guard page.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "core/cidr.h"
#include "core/k8sobj.h"
#include "core/selector.h"
#include "tap.h"

#define FIXTURE "../../../shared/fixtures/k8s-api-testdata/networking.k8s.io.v1.NetworkPolicy.json"
#define HEAD "{'kind':'NetworkPolicy','metadata':{'name':'p','namespace':'x'},"

static char *dq(const char *s, size_t *n)
{
	char *d = strdup(s), *p;

	if (!d)
		abort();
	for (p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	*n = strlen(d);
	return d;
}

static int parse_raw(const char *s, size_t n, struct k8sobj **o, struct ebuf *eb)
{
	char *g = guard_copy(s, n);
	int r;

	ebuf_clear(eb);
	r = k8sobj_parse(g, n, K8SOBJ_NETPOL, o, eb);
	guard_free(g, n);
	return r;
}

/* Parse HEAD + spec_sq + "}"; returns the policy or NULL (a failure is reported). */
static struct k8sobj *np_q(const char *spec_sq)
{
	char buf[4096];
	struct k8sobj *o = NULL;
	struct ebuf eb = { "" };
	char *s;
	size_t n;

	snprintf(buf, sizeof(buf), HEAD "%s}", spec_sq);
	s = dq(buf, &n);
	if (parse_raw(s, n, &o, &eb))
		diag("%s: %s", spec_sq, eb.msg);
	free(s);
	return o;
}

/* An array pointer: NULL or within the object's one allocation. */
static bool inside(const struct k8sobj *o, const void *p)
{
	const char *b = (const char *)o, *q = p;

	return q == NULL || (q >= b && q < b + o->size);
}

/* A string: never NULL; "" may be a literal outside the allocation. */
static bool inside_str(const struct k8sobj *o, const char *s)
{
	return s && (*s == '\0' || inside(o, s));
}

static bool sel_packed(const struct k8sobj *o, const struct k8sobj_selector *s)
{
	bool good = inside(o, s->labels) && inside(o, s->exprs);
	uint32_t i, j;

	for (i = 0; i < s->nlabels; i++)
		good &= inside_str(o, s->labels[i].key) && inside_str(o, s->labels[i].val);
	for (i = 0; i < s->nexprs; i++) {
		good &= inside_str(o, s->exprs[i].key) && inside(o, s->exprs[i].values);
		for (j = 0; j < s->exprs[i].nvalues; j++)
			good &= inside_str(o, s->exprs[i].values[j]);
	}
	return good;
}

static bool rules_packed(const struct k8sobj *o, const struct k8sobj_rule *r, uint32_t n)
{
	bool good = inside(o, r);
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		good &= inside(o, r[i].ports) && inside(o, r[i].peers);
		for (j = 0; j < r[i].nports; j++)
			good &= inside_str(o, r[i].ports[j].name);
		for (j = 0; j < r[i].npeers; j++)
			good &= sel_packed(o, &r[i].peers[j].pods) &&
				sel_packed(o, &r[i].peers[j].ns) &&
				inside(o, r[i].peers[j].ipblock.except);
	}
	return good;
}

static bool packed(const struct k8sobj_netpol *np)
{
	const struct k8sobj *o = &np->obj;

	return inside_str(o, np->invalid) && sel_packed(o, &np->pod_selector) &&
	       rules_packed(o, np->ingress, np->ningress) &&
	       rules_packed(o, np->egress, np->negress);
}

/* ---- the upstream fixture -------------------------------------------------------------- */

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
		free(p);
		p = NULL;
	}
	if (p)
		p[len] = '\0';
	fclose(f);
	*n = (size_t)len;
	return p;
}

static void replace_all(char *s, const char *from, const char *to)
{
	size_t lf = strlen(from), lt = strlen(to);
	char *p;

	/* only same-or-shorter replacements, padded with spaces to keep the length */
	while ((p = strstr(s, from))) {
		memcpy(p, to, lt);
		memset(p + lt, ' ', lf - lt);
	}
}

static void test_fixture(void)
{
	struct k8sobj *o = NULL;
	const struct k8sobj_netpol *np;
	struct ebuf eb = { "" };
	size_t n;
	char *p = slurp(FIXTURE, &n);

	if (!p) {
		/* as test_json and test_k8sobj: the fixtures live in shared/ beside the checkout */
		diag("skip: %s not found (no shared/ beside the repository)", FIXTURE);
		return;
	}
	is_int(parse_raw(p, n, &o, &eb), 0, "fixture decodes");
	np = k8sobj_netpol(o);
	ok(np && !strcmp(o->name, "nameValue") && !strcmp(o->ns, "namespaceValue") &&
	   (o->flags & K8SOBJ_F_DELETING) && !strcmp(k8sobj_label(o, "labelsKey"), "labelsValue"),
	   "fixture: metadata");
	if (np) {
		is_str(np->invalid, "spec.podSelector.matchExpressions[0].operator: "
		       "unknown operator \"operatorValue\"", "fixture: placeholder operator kept as reason");
		ok(!np->target_ok && packed(np), "fixture: target unusable, packed");
		is_int(k8sobj_netpol_check(np, &eb), -EINVAL, "fixture: check fails");
		is_str(eb.msg, np->invalid, "fixture: check reason");
	}
	k8sobj_free(o);
	o = NULL;
	/* placeholders made real: the peer still mixes ipBlock with selectors */
	replace_all(p, "\"operatorValue\"", "\"In\"");
	replace_all(p, "\"protocolValue\"", "\"UDP\"");
	replace_all(p, "\"portValue\"", "1");
	replace_all(p, "\"cidrValue\"", "\"1.0.0.0/8\"");
	replace_all(p, "\"exceptValue\"", "\"1.9.0.0/16\"");
	replace_all(p, "\"policyTypesValue\"", "\"Egress\"");
	is_int(parse_raw(p, n, &o, &eb), 0, "patched fixture decodes");
	np = k8sobj_netpol(o);
	if (np) {
		is_str(np->invalid, "spec.ingress[0].from[0]: ipBlock cannot be combined with a "
		       "selector", "patched fixture: mixed peer refused");
		ok(np->target_ok && np->pod_selector.nlabels == 1 && np->pod_selector.nexprs == 1 &&
		   np->pod_selector.exprs[0].op == K8SOBJ_OP_IN && np->types == K8SOBJ_NP_EGRESS &&
		   np->ningress == 0 && !np->ingress && packed(np),
		   "patched fixture: target and types kept, failed list left empty");
	}
	k8sobj_free(o);
	o = NULL;
	/* an unknown member is ignored: now every peer is pods AND namespaces */
	replace_all(p, "\"ipBlock\"", "\"ipBlocX\"");
	is_int(parse_raw(p, n, &o, &eb), 0, "fixture without ipBlock decodes");
	np = k8sobj_netpol(o);
	ok(np && !strcmp(np->invalid, "") && np->ningress == 1 && np->negress == 1 &&
	   np->ingress[0].nports == 1 && np->ingress[0].ports[0].proto == K8SOBJ_UDP &&
	   np->ingress[0].ports[0].port == 1 && np->ingress[0].ports[0].end_port == 3 &&
	   np->egress[0].npeers == 1 &&
	   np->egress[0].peers[0].has == (K8SOBJ_PEER_PODS | K8SOBJ_PEER_NS) &&
	   !strcmp(np->egress[0].peers[0].ns.exprs[0].values[0], "valuesValue") &&
	   k8sobj_netpol_types(np) == K8SOBJ_NP_EGRESS && packed(np),
	   "fixture without ipBlock: every field");
	k8sobj_free(o);
	free(p);
}

/* ---- valid policies -------------------------------------------------------------------- */

static void test_default_deny(void)
{
	struct k8sobj *o = np_q("'spec':{'podSelector':{},'policyTypes':['Ingress']}");
	const struct k8sobj_netpol *np = k8sobj_netpol(o);
	struct ebuf eb = { "" };

	ok(np && !strcmp(np->invalid, "") && np->target_ok && k8sobj_netpol_check(np, &eb) == 0,
	   "default deny: decodes cleanly");
	ok(np && selector_is_empty(&np->pod_selector) && np->has_types &&
	   np->types == K8SOBJ_NP_INGRESS && !np->has_ingress && np->ningress == 0 &&
	   !np->has_egress && k8sobj_netpol_types(np) == K8SOBJ_NP_INGRESS,
	   "default deny: all pods, Ingress, no rules");
	ok(np && o->kind == K8SOBJ_NETPOL && !k8sobj_pod(o) && packed(np), "default deny: kind");
	is_str(k8sobj_kind_name(K8SOBJ_NETPOL), "NetworkPolicy", "kind name");
	k8sobj_free(o);

	o = np_q("'spec':{'podSelector':{},'policyTypes':['Ingress','Egress']}");
	np = k8sobj_netpol(o);
	ok(np && k8sobj_netpol_types(np) == (K8SOBJ_NP_INGRESS | K8SOBJ_NP_EGRESS) &&
	   !np->has_egress, "default deny both ways");
	k8sobj_free(o);

	o = np_q("'spec':null");
	np = k8sobj_netpol(o);
	ok(np && !strcmp(np->invalid, "") && selector_is_empty(&np->pod_selector) &&
	   k8sobj_netpol_types(np) == K8SOBJ_NP_INGRESS, "null spec: zero spec, Ingress");
	k8sobj_free(o);
}

static void test_ns_peer(void)
{
	static const struct k8sobj_kv ns_a[] = { { "kubernetes.io/metadata.name", "a" },
						 { "team", "blue" } };
	static const struct k8sobj_kv ns_b[] = { { "team", "red" } };
	struct k8sobj *o = np_q("'spec':{'podSelector':{'matchLabels':{'pod':'a','app':'web'}},"
				"'ingress':[{'from':[{'namespaceSelector':{'matchLabels':"
				"{'team':'blue'}}}]}]}");
	const struct k8sobj_netpol *np = k8sobj_netpol(o);
	const struct k8sobj_peer *p;

	if (!ok(np && !strcmp(np->invalid, "") && np->ningress == 1 &&
		np->ingress[0].npeers == 1, "ns peer: decodes"))
		goto out;
	ok(np->pod_selector.nlabels == 2 && !strcmp(np->pod_selector.labels[0].key, "app") &&
	   !strcmp(np->pod_selector.labels[1].val, "a"), "ns peer: target labels sorted");
	p = &np->ingress[0].peers[0];
	ok(p->has == K8SOBJ_PEER_NS && p->ns.nlabels == 1 && !strcmp(p->ns.labels[0].key, "team"),
	   "ns peer: namespaceSelector only");
	ok(selector_match(&p->ns, ns_a, 2) && !selector_match(&p->ns, ns_b, 1),
	   "ns peer: selects by label");
	ok(!np->ingress[0].has_ports && np->ingress[0].has_peers && !np->has_types &&
	   k8sobj_netpol_types(np) == K8SOBJ_NP_INGRESS && packed(np), "ns peer: rest");
out:
	k8sobj_free(o);
}

static void test_and_or_peers(void)
{
	struct k8sobj *o = np_q("'spec':{'ingress':[{'from':[{'podSelector':{'matchLabels':"
				"{'pod':'b'}},'namespaceSelector':{}}]},{'from':[{'podSelector':"
				"{'matchExpressions':[{'key':'pod','operator':'In','values':['b',"
				"'c']}]}},{'namespaceSelector':{'matchExpressions':[{'key':'ns',"
				"'operator':'DoesNotExist'}]}}]}]}");
	const struct k8sobj_netpol *np = k8sobj_netpol(o);
	const struct k8sobj_peer *p;
	const struct k8sobj_expr *e;

	if (!ok(np && !strcmp(np->invalid, "") && np->ningress == 2 &&
		np->ingress[0].npeers == 1 && np->ingress[1].npeers == 2, "and/or peers: decode"))
		goto out;
	p = np->ingress[0].peers;
	ok(p->has == (K8SOBJ_PEER_PODS | K8SOBJ_PEER_NS) && p->pods.nlabels == 1 &&
	   selector_is_empty(&p->ns), "one peer: podSelector AND namespaceSelector {}");
	p = np->ingress[1].peers;
	e = p[0].pods.exprs;
	ok(p[0].has == K8SOBJ_PEER_PODS && p[0].pods.nexprs == 1 && !strcmp(e->key, "pod") &&
	   e->op == K8SOBJ_OP_IN && e->nvalues == 2 && !strcmp(e->values[0], "b") &&
	   !strcmp(e->values[1], "c"), "two peers: first podSelector only, In (b, c)");
	e = p[1].ns.exprs;
	ok(p[1].has == K8SOBJ_PEER_NS && p[1].ns.nexprs == 1 && e->op == K8SOBJ_OP_NOTEXIST &&
	   e->nvalues == 0, "two peers: second namespaceSelector only, DoesNotExist");
	ok(packed(np), "and/or peers: packed");
out:
	k8sobj_free(o);
}

static void test_ipblock(void)
{
	struct k8sobj *o = np_q("'spec':{'policyTypes':['Egress'],'egress':[{'to':[{'ipBlock':"
				"{'cidr':'10.1.2.3/8','except':['10.1.0.0/16','10.2.3.0/24']}},"
				"{'ipBlock':{'cidr':'fd00::/64'}}]}]}");
	const struct k8sobj_netpol *np = k8sobj_netpol(o);
	const struct k8sobj_ipblock *b;
	char txt[CIDR_STRLEN] = "";

	if (!ok(np && !strcmp(np->invalid, "") && np->negress == 1 && np->egress[0].npeers == 2,
		"ipBlock: decodes"))
		goto out;
	b = &np->egress[0].peers[0].ipblock;
	ok(np->egress[0].peers[0].has == K8SOBJ_PEER_IPBLOCK && b->nexcept == 2,
	   "ipBlock: two excepts");
	ok(!cidr_format(&b->cidr, txt, sizeof(txt)) && !strcmp(txt, "10.0.0.0/8"),
	   "ipBlock: host bits cleared");
	ok(!cidr_format(&b->except[1], txt, sizeof(txt)) && !strcmp(txt, "10.2.3.0/24"),
	   "ipBlock: except kept");
	b = &np->egress[0].peers[1].ipblock;
	ok(b->cidr.addr.family == AF_INET6 && b->cidr.prefix == 64 && b->nexcept == 0 &&
	   !b->except, "ipBlock: IPv6 without except");
	ok(np->types == K8SOBJ_NP_EGRESS && k8sobj_netpol_types(np) == K8SOBJ_NP_EGRESS &&
	   packed(np), "ipBlock: Egress only");
out:
	k8sobj_free(o);
}

static void test_ports(void)
{
	struct k8sobj *o = np_q("'spec':{'ingress':[{'ports':[{'port':'http'},{'protocol':'UDP',"
				"'port':'dns-udp'},{'protocol':'SCTP','port':32000,'endPort':32768},"
				"{},{'protocol':'UDP'},{'port':80,'endPort':80}]}]}");
	const struct k8sobj_netpol *np = k8sobj_netpol(o);
	const struct k8sobj_npport *p;

	if (!ok(np && !strcmp(np->invalid, "") && np->ningress == 1 &&
		np->ingress[0].nports == 6, "ports: decode"))
		goto out;
	p = np->ingress[0].ports;
	ok(p[0].proto == K8SOBJ_TCP && !strcmp(p[0].name, "http") && !p[0].port && !p[0].end_port,
	   "named port, protocol defaults to TCP");
	ok(p[1].proto == K8SOBJ_UDP && !strcmp(p[1].name, "dns-udp"), "named UDP port");
	ok(p[2].proto == K8SOBJ_SCTP && p[2].port == 32000 && p[2].end_port == 32768 &&
	   !strcmp(p[2].name, ""), "endPort range");
	ok(p[3].proto == K8SOBJ_TCP && !p[3].port && !strcmp(p[3].name, ""),
	   "{}: every TCP port, TCP only");
	ok(p[4].proto == K8SOBJ_UDP && !p[4].port, "protocol only: every UDP port");
	ok(p[5].port == 80 && p[5].end_port == 80, "endPort equal to port");
	ok(np->ingress[0].has_ports && !np->ingress[0].has_peers && packed(np), "ports: rest");
out:
	k8sobj_free(o);
}

static void test_types_default(void)
{
	static const struct {
		const char *spec;
		uint8_t want;
		bool has_egress;
		uint32_t negress;
	} c[] = {
		{ "{'egress':[{'to':[{'podSelector':{}}]}]}",
		  K8SOBJ_NP_INGRESS | K8SOBJ_NP_EGRESS, true, 1 },
		{ "{'egress':[{}]}", K8SOBJ_NP_INGRESS | K8SOBJ_NP_EGRESS, true, 1 },
		{ "{'egress':[]}", K8SOBJ_NP_INGRESS, true, 0 },
		{ "{'egress':null}", K8SOBJ_NP_INGRESS, false, 0 },
		{ "{'egress':[{}],'policyTypes':[]}", K8SOBJ_NP_INGRESS | K8SOBJ_NP_EGRESS, true, 1 },
		{ "{'egress':[{}],'policyTypes':['Egress']}", K8SOBJ_NP_EGRESS, true, 1 },
		{ "{'egress':[],'policyTypes':['Egress']}", K8SOBJ_NP_EGRESS, true, 0 },
		{ "{'policyTypes':['Egress','Egress']}", K8SOBJ_NP_EGRESS, false, 0 },
	};
	char spec[256], what[300];
	struct k8sobj *o;
	const struct k8sobj_netpol *np;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(spec, sizeof(spec), "'spec':%s", c[i].spec);
		o = np_q(spec);
		np = k8sobj_netpol(o);
		snprintf(what, sizeof(what), "policyTypes: %s", c[i].spec);
		ok(np && !strcmp(np->invalid, "") && k8sobj_netpol_types(np) == c[i].want &&
		   np->has_egress == c[i].has_egress && np->negress == c[i].negress, what);
		k8sobj_free(o);
	}
}

static void test_empty_rules(void)
{
	struct k8sobj *o = np_q("'spec':{'ingress':[],'egress':[{}],'policyTypes':['Ingress',"
				"'Egress']}");
	const struct k8sobj_netpol *np = k8sobj_netpol(o);

	ok(np && np->has_ingress && np->ningress == 0 && !np->ingress,
	   "ingress []: given, no rules (deny all)");
	ok(np && np->has_egress && np->negress == 1 && !np->egress[0].has_ports &&
	   !np->egress[0].has_peers && np->egress[0].nports == 0 && np->egress[0].npeers == 0,
	   "egress [{}]: one rule without ports or peers (allow all)");
	k8sobj_free(o);
	o = np_q("'spec':{'ingress':[{'ports':[],'from':[]}]}");
	np = k8sobj_netpol(o);
	ok(np && np->ningress == 1 && np->ingress[0].has_ports && np->ingress[0].has_peers &&
	   !np->ingress[0].nports && !np->ingress[0].npeers, "ports [] and from []: given, empty");
	k8sobj_free(o);
	o = np_q("'spec':{'ingress':[{'from':[{'podSelector':null,'namespaceSelector':{}}]}]}");
	np = k8sobj_netpol(o);
	ok(np && np->ningress == 1 && np->ingress[0].npeers == 1 &&
	   np->ingress[0].peers[0].has == K8SOBJ_PEER_NS, "null podSelector is absent");
	k8sobj_free(o);
}

/* ---- specs Virgil refuses -------------------------------------------------------------- */

static void test_invalid(void)
{
	static const struct {
		const char *spec;
		const char *why;
		bool target_ok;
	} c[] = {
		{ "[]", "spec: expected an object, got an array", false },
		{ "{'podSelector':[]}", "spec.podSelector: expected an object, got an array", false },
		{ "{'podSelector':{'matchLabels':{'a':1}}}",
		  "spec.podSelector.matchLabels[\"a\"]: expected a string, got a number", false },
		{ "{'podSelector':{'matchExpressions':[{'key':'a','operator':'in','values':['x']}]}}",
		  "spec.podSelector.matchExpressions[0].operator: unknown operator \"in\"", false },
		{ "{'ingress':[{},{'from':[{'podSelector':{}},{'podSelector':{'matchExpressions':"
		  "[{'key':'a','operator':'Foo'}]}}]}]}",
		  "spec.ingress[1].from[1].podSelector.matchExpressions[0].operator: unknown "
		  "operator \"Foo\"", true },
		{ "{'egress':[{'to':[{'namespaceSelector':{'matchExpressions':[{'key':'a',"
		  "'operator':'In','values':[]}]}}]}]}",
		  "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values: must not be "
		  "empty for In", true },
		{ "{'podSelector':{'matchExpressions':[{'key':'a','operator':'NotIn'}]}}",
		  "spec.podSelector.matchExpressions[0].values: must not be empty for NotIn", false },
		{ "{'podSelector':{'matchExpressions':[{'key':'a','operator':'Exists','values':['x']}]}}",
		  "spec.podSelector.matchExpressions[0].values: must be empty for Exists", false },
		{ "{'podSelector':{'matchExpressions':[{'key':'a'}]}}",
		  "spec.podSelector.matchExpressions[0].operator: missing", false },
		{ "{'podSelector':{'matchExpressions':[{'key':'','operator':'Exists'}]}}",
		  "spec.podSelector.matchExpressions[0].key: must not be empty", false },
		{ "{'podSelector':{'matchExpressions':[{'key':'a','operator':'In','values':['x',1]}]}}",
		  "spec.podSelector.matchExpressions[0].values[1]: expected a string, got a number",
		  false },
		{ "{'podSelector':{'matchExpressions':[{}]}}",
		  "spec.podSelector.matchExpressions[0].key: must not be empty", false },
		{ "{'podSelector':{'matchExpressions':{}}}",
		  "spec.podSelector.matchExpressions: expected an array, got an object", false },
		{ "{'policyTypes':['Ingress','Both']}",
		  "spec.policyTypes[1]: unknown policy type \"Both\"", true },
		{ "{'policyTypes':'Ingress'}", "spec.policyTypes: expected an array, got a string",
		  true },
		{ "{'ingress':{}}", "spec.ingress: expected an array, got an object", true },
		{ "{'ingress':[1]}", "spec.ingress[0]: expected an object, got a number", true },
		{ "{'ingress':[{'from':{}}]}", "spec.ingress[0].from: expected an array, got an object",
		  true },
		{ "{'egress':[{'from':[{}],'to':[{}]}]}",
		  "spec.egress[0].to[0]: needs podSelector, namespaceSelector or ipBlock", true },
		{ "{'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/8'},'namespaceSelector':{}}]}]}",
		  "spec.ingress[0].from[0]: ipBlock cannot be combined with a selector", true },
		{ "{'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0'}}]}]}",
		  "spec.ingress[0].from[0].ipBlock.cidr: not a CIDR: \"10.0.0.0\"", true },
		{ "{'ingress':[{'from':[{'ipBlock':{}}]}]}",
		  "spec.ingress[0].from[0].ipBlock.cidr: missing", true },
		{ "{'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/8','except':['11.0.0.0/16']}}]}]}",
		  "spec.ingress[0].from[0].ipBlock.except[0]: not inside cidr", true },
		{ "{'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/8','except':['10.0.0.0/8']}}]}]}",
		  "spec.ingress[0].from[0].ipBlock.except[0]: not inside cidr", true },
		{ "{'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/8','except':['fd00::/64']}}]}]}",
		  "spec.ingress[0].from[0].ipBlock.except[0]: not inside cidr", true },
		{ "{'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/8','except':[7]}}]}]}",
		  "spec.ingress[0].from[0].ipBlock.except[0]: expected a string, got a number", true },
		{ "{'egress':[{'ports':[{'protocol':'ICMP'}]}]}",
		  "spec.egress[0].ports[0].protocol: unknown protocol \"ICMP\"", true },
		{ "{'egress':[{'ports':[{'protocol':'tcp'}]}]}",
		  "spec.egress[0].ports[0].protocol: unknown protocol \"tcp\"", true },
		{ "{'egress':[{'ports':[{'port':0}]}]}",
		  "spec.egress[0].ports[0].port: out of range 1..65535", true },
		{ "{'egress':[{'ports':[{'port':65536}]}]}",
		  "spec.egress[0].ports[0].port: out of range 1..65535", true },
		{ "{'egress':[{'ports':[{'port':1.5}]}]}",
		  "spec.egress[0].ports[0].port: expected an integer, got 1.5", true },
		{ "{'egress':[{'ports':[{'port':true}]}]}",
		  "spec.egress[0].ports[0].port: expected an integer or a string", true },
		{ "{'egress':[{'ports':[{'port':'HTTP'}]}]}",
		  "spec.egress[0].ports[0].port: not a port name: \"HTTP\"", true },
		{ "{'egress':[{'ports':[{'port':'80'}]}]}",
		  "spec.egress[0].ports[0].port: not a port name: \"80\"", true },
		{ "{'egress':[{'ports':[{'port':'a--b'}]}]}",
		  "spec.egress[0].ports[0].port: not a port name: \"a--b\"", true },
		{ "{'egress':[{'ports':[{'port':'-ab'}]}]}",
		  "spec.egress[0].ports[0].port: not a port name: \"-ab\"", true },
		{ "{'egress':[{'ports':[{'port':'abcdefghijklmnop'}]}]}",
		  "spec.egress[0].ports[0].port: not a port name: \"abcdefghijklmnop\"", true },
		{ "{'egress':[{'ports':[{'port':''}]}]}",
		  "spec.egress[0].ports[0].port: not a port name: \"\"", true },
		{ "{'egress':[{'ports':[{'port':'http','endPort':90}]}]}",
		  "spec.egress[0].ports[0].endPort: needs a numeric port", true },
		{ "{'egress':[{'ports':[{'endPort':90}]}]}",
		  "spec.egress[0].ports[0].endPort: needs a numeric port", true },
		{ "{'egress':[{'ports':[{'port':80,'endPort':79}]}]}",
		  "spec.egress[0].ports[0].endPort: out of range 80..65535", true },
		{ "{'egress':[{'ports':[{'port':80,'endPort':'90'}]}]}",
		  "spec.egress[0].ports[0].endPort: expected an integer, got a string", true },
	};
	char spec[512], what[600];
	struct k8sobj *o;
	const struct k8sobj_netpol *np;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(spec, sizeof(spec), "'spec':%s", c[i].spec);
		o = np_q(spec);
		np = k8sobj_netpol(o);
		snprintf(what, sizeof(what), "refused: %s", c[i].spec);
		if (ok(np != NULL, what)) {
			is_str(np->invalid, c[i].why, "  reason");
			ok(np->target_ok == c[i].target_ok && packed(np), "  target_ok, packed");
		}
		k8sobj_free(o);
	}
}

/* Metadata problems still fail the decode: without a name there is nothing to fail closed. */
static void test_rejected(void)
{
	static const struct {
		const char *json;
		const char *why;
	} c[] = {
		{ "{'metadata':{'name':5}}", "metadata.name: expected a string, got a number" },
		{ "{'kind':'Pod','metadata':{}}", "kind: expected NetworkPolicy, got \"Pod\"" },
		{ "[]", "expected an object, got an array" },
	};
	struct k8sobj *o = NULL;
	struct ebuf eb = { "" };
	char *s;
	size_t i, n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		s = dq(c[i].json, &n);
		is_int(parse_raw(s, n, &o, &eb), -EINVAL, c[i].json);
		ok(!o, "  no object");
		is_str(eb.msg, c[i].why, "  reason");
		free(s);
	}
}

static void test_list(void)
{
	static const char page[] =
		"{'metadata':{'resourceVersion':'7'},'items':[" HEAD "'spec':{}}," HEAD
		"'spec':{'ingress':[{'ports':[{'protocol':'ICMP'}]}]}}]}";
	struct k8sobj_list l = { 0 };
	struct ebuf eb = { "" };
	const struct k8sobj_netpol *np;
	size_t n;
	char *s = dq(page, &n);

	is_int(k8sobj_list_parse(s, n, NULL, K8SOBJ_NETPOL, &l, &eb), 0, "list page decodes");
	np = l.nitems == 2 ? k8sobj_netpol(l.items[1]) : NULL;
	ok(l.nbad == 0 && np && np->invalid[0], "list: a policy with a bad spec is kept");
	k8sobj_list_clear(&l);
	free(s);
}

/* ---- allocation failures --------------------------------------------------------------- */

static void test_faults(void)
{
	static const char big[] = HEAD "'spec':{'podSelector':{'matchLabels':{'a':'b'}},"
		"'ingress':[{'ports':[{'port':'http'}],'from':[{'podSelector':{'matchExpressions':"
		"[{'key':'k','operator':'In','values':['x','y']}]},'namespaceSelector':{}}]}],"
		"'egress':[{'to':[{'ipBlock':{'cidr':'10.0.0.0/8','except':['10.1.0.0/16']}}]}]}}";
	struct k8sobj *o = NULL;
	struct ebuf eb = { "" };
	unsigned long nth, calls;
	int r, bad = 0;
	size_t n;
	char *s = dq(big, &n), what[96];

	for (nth = 1;; nth++) {
		fault_reset(nth);
		r = parse_raw(s, n, &o, &eb);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0;
			break;
		}
		bad += r != -ENOMEM || o || strcmp(eb.msg, "out of memory") != 0;
	}
	snprintf(what, sizeof(what), "clean -ENOMEM at each of %lu allocations", nth - 1);
	ok(bad == 0 && nth > 1, what);
	ok(o && !strcmp(k8sobj_netpol(o)->invalid, "") && packed(k8sobj_netpol(o)),
	   "decodes once allocations succeed");
	k8sobj_free(o);
	free(s);
}

int main(void)
{
	test_fixture();
	test_default_deny();
	test_ns_peer();
	test_and_or_peers();
	test_ipblock();
	test_ports();
	test_types_default();
	test_empty_rules();
	test_invalid();
	test_rejected();
	test_list();
	test_faults();
	return tap_done();
}
