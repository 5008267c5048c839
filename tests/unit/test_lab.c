// SPDX-License-Identifier: MIT
/* deps: flow/lab_obj.c flow/lab_scen.c flow/lab_state.c flow/lab_proc.c io/netns.c io/atomic.c core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/log.c base/mem.c base/util.c */
/*
 * test_lab.c: the parts of `virgil lab` that need no namespace: manifests in (the default
 * scenario, Lists, the checks an API server would make, with every allocation failing in
 * turn), api files out (patched as the API server would hold them, and decodable by the
 * agent's own decoder), long names, and lab.json written and read back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "codec/json.h"
#include "flow/lab_int.h"

static char dir[64];

static int load(struct lab_objs *o, const char *text, struct ebuf *eb)
{
	memset(o, 0, sizeof(*o));
	ebuf_clear(eb);
	return lab_objs_text(o, text, strlen(text), "t.json", eb);
}

static void test_scenario(void)
{
	struct buf b = BUF_INIT;
	struct lab_objs o;
	struct ebuf eb;
	uint16_t ports[LAB_MAX_PORTS];
	unsigned n = 0, npods = 0;
	size_t i;

	is_int(lab_scenario(&b), 0, "scenario: renders");
	is_int(load(&o, b.p, &eb), 0, "scenario: loads");
	is_int(o.n, 14, "scenario: 3 namespaces, 9 pods, 2 policies");
	for (i = 0; i < o.n; i++)
		npods += o.v[i].kind == K8SOBJ_POD;
	is_int(npods, 9, "scenario: 9 pods");
	is_str(o.v[3].ns, "x", "scenario: the first pod is x/a (namespace)");
	is_str(o.v[3].name, "a", "scenario: the first pod is x/a (name)");
	is_str(k8sobj_label(o.v[3].dec, "pod"), "a", "scenario: label pod=a");
	is_int(lab_obj_ports(&o.v[3], ports, &n, &eb), 0, "scenario: ports");
	ok(n == 2 && ports[0] == 80 && ports[1] == 81, "scenario: ports 80 and 81, once each");
	is_int(k8sobj_pod(o.v[3].dec)->nports, 4, "scenario: four containerPorts");
	is_str(o.v[12].name, "deny-all-ingress", "scenario: policy deny-all-ingress");
	is_str(k8sobj_netpol(o.v[13].dec)->invalid, "", "scenario: allow-from-y is valid");
	lab_objs_free(&o);
	buf_free(&b);
}

#define POD(ns, name, extra)                                                                   \
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{" ns "\"name\":\"" name "\"}," \
	"\"spec\":{" extra "\"containers\":[{\"name\":\"c\"}]}}"

static void test_checks(void)
{
	static const struct {
		const char *text, *why;
		int r;
	} cases[] = {
		{ POD("", "a", ""), NULL, 0 },
		{ "{\"kind\":\"List\",\"items\":[" POD("", "a", "") "," POD("", "b", "") "]}", NULL,
		  0 },
		{ "{\"kind\":\"List\",\"items\":null}", NULL, 0 },
		{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"}}", NULL, 0 },
		{ "{\"kind\":\"ServiceList\",\"items\":[{\"kind\":\"Service\"}]}", NULL, 0 },
		{ "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n9\"}}", "lab's own", -EINVAL },
		{ POD("", "a", "\"hostNetwork\":true,"), "hostNetwork", -EINVAL },
		{ POD("", "A_b", ""), "not a DNS subdomain", -EINVAL },
		{ POD("\"namespace\":\"x.y\",", "a", ""), "not a DNS label", -EINVAL },
		{ "{\"kind\":\"List\",\"items\":[" POD("", "a", "") "," POD("\"namespace\":"
		  "\"default\",", "a", "") "]}", "also in t.json", -EINVAL },
		{ "{\"kind\":\"List\",\"items\":[" POD("\"namespace\":\"a-b\",", "c", "") ","
		  POD("\"namespace\":\"a\",", "b-c", "") "]}", "would share", -EINVAL },
		{ "{\"metadata\":{\"name\":\"a\"}}", "no \"kind\"", -EINVAL },
		{ "{\"kind\":\"List\",\"items\":[7]}", "items[0]: no \"kind\"", -EINVAL },
		{ "{\"kind\":\"List\",\"items\":{}}", "expected an array", -EINVAL },
		{ "{\"kind\":\"Pod\",", "t.json", -EINVAL },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":7}}", "metadata.name", -EINVAL },
	};
	struct lab_objs o;
	struct ebuf eb;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char what[80];
		int r = load(&o, cases[i].text, &eb);

		snprintf(what, sizeof(what), "check %zu: %d", i, cases[i].r);
		is_int(r, cases[i].r, what);
		if (cases[i].why && !ok(strstr(eb.msg, cases[i].why) != NULL, "  ...and says why"))
			diag("got \"%s\", want \"%s\"", eb.msg, cases[i].why);
		lab_objs_free(&o);
	}
	is_int(load(&o, POD("", "a", ""), &eb), 0, "default namespace: loads");
	is_str(o.v[0].ns, "default", "default namespace: a pod without one is in default");
	is_str(o.v[0].file, "pod-default-a.json", "default namespace: its file");
	lab_objs_free(&o);
}

static void test_ports(void)
{
	struct buf b = BUF_INIT;
	struct lab_objs o;
	struct ebuf eb;
	int i, r;

	r = buf_adds(&b, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
		     "[{\"name\":\"c\",\"ports\":[");
	for (i = 1; i <= 65 && !r; i++)
		r = buf_printf(&b, "%s{\"containerPort\":%d}", i > 1 ? "," : "", i);
	if (r || buf_adds(&b, "]}]}}"))
		abort();
	is_int(load(&o, b.p, &eb), -E2BIG, "65 distinct ports: refused");
	ok(strstr(eb.msg, "more than 64") != NULL, "65 distinct ports: says why");
	lab_objs_free(&o);
	buf_free(&b);
}

static struct json_doc *read_json(const char *path)
{
	struct json_doc *doc = NULL;
	struct buf b = BUF_INIT;

	if (read_file(path, &b, 1 << 20) || json_parse(b.p, b.len, NULL, &doc, NULL))
		doc = NULL;
	buf_free(&b);
	return doc;
}

static void lab_at(struct lab *l, struct lab_opts *opts)
{
	struct ebuf eb = { "" };

	memset(opts, 0, sizeof(*opts));
	opts->dir = dir;
	opts->name = "t1";
	if (lab_init(l, opts, &eb))
		abort();
}

static void test_write(void)
{
	static const char text[] = "{\"kind\":\"List\",\"items\":["
		"{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\",\"labels\":{\"team\":\"a\","
		"\"kubernetes.io/metadata.name\":\"wrong\"}}},"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"labels\":{\"pod\":\"a\"}},"
		"\"spec\":{\"nodeName\":\"n9\",\"containers\":[{\"name\":\"c\",\"ports\":"
		"[{\"containerPort\":80}]}]},\"status\":{\"phase\":\"Failed\"}}]}";
	struct lab_pod p = { .node = "n2", .attached = true };
	const struct json *root;
	struct lab_opts opts;
	struct json_doc *doc;
	struct k8sobj *obj = NULL;
	struct buf b = BUF_INIT;
	struct lab_objs o;
	char path[PATH_MAX];
	struct ebuf eb;
	struct lab l;

	lab_at(&l, &opts);
	snprintf(path, sizeof(path), "%s/api", dir);
	if (mkdir(path, 0755))
		abort();
	is_int(load(&o, text, &eb), 0, "write: manifests load");
	if (ipaddr_parse("10.244.2.9", 10, &p.ip[0]) || ipaddr_parse("fd00::9", 7, &p.ip[1]))
		abort();
	is_int(lab_obj_write(&l, &o.v[0], NULL, &eb), 0, "write: the namespace");
	is_int(lab_obj_write(&l, &o.v[1], &p, &eb), 0, "write: the pod");
	doc = read_json(strcat(path, "/pod-default-a.json"));
	root = doc ? json_root(doc) : NULL;
	is_str(json_get(json_get(root, "metadata"), "namespace")->str, "default",
	       "write: the pod's namespace is filled in");
	is_str(json_get(json_get(root, "spec"), "nodeName")->str, "n2",
	       "write: spec.nodeName is the node it was placed on");
	is_str(json_get(json_get(root, "status"), "phase")->str, "Running", "write: Running");
	is_str(json_get(json_get(root, "status"), "podIP")->str, "10.244.2.9", "write: podIP");
	is_int(json_get(json_get(root, "status"), "podIPs")->count, 2, "write: two podIPs");
	json_doc_free(doc);
	snprintf(path, sizeof(path), "%s/api/pod-default-a.json", dir);
	if (read_file(path, &b, 1 << 20))
		abort();
	is_int(k8sobj_parse(b.p, b.len, K8SOBJ_POD, &obj, &eb), 0, "write: the agent decodes it");
	ok(obj && k8sobj_pod(obj)->phase == K8SOBJ_RUNNING && k8sobj_pod(obj)->ip[1].family,
	   "write: as running with both addresses");
	is_str(obj ? k8sobj_label(obj, "pod") : NULL, "a", "write: labels kept");
	k8sobj_free(obj);
	buf_free(&b);
	snprintf(path, sizeof(path), "%s/api/namespace-x.json", dir);
	doc = read_json(path);
	root = json_get(json_get(doc ? json_root(doc) : NULL, "metadata"), "labels");
	is_str(json_get(root, "kubernetes.io/metadata.name")->str, "x",
	       "write: a namespace's name label is its name");
	is_str(json_get(root, "team")->str, "a", "write: other labels kept");
	is_int(root ? root->count : 0, 2, "write: no duplicate label");
	json_doc_free(doc);
	lab_objs_free(&o);
	lab_release(&l);
}

static void test_long_name(void)
{
	char text[600], name[254];
	struct lab_objs o;
	struct ebuf eb;

	memset(name, 'a', 253);
	name[253] = '\0';
	snprintf(text, sizeof(text), "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"ns\","
		 "\"name\":\"%s\"}}", name);
	is_int(load(&o, text, &eb), 0, "long name: loads");
	ok(strlen(o.v[0].file) < 64 && !strncmp(o.v[0].file, "pod-ns-~", 8),
	   "long name: a hashed file name");
	lab_objs_free(&o);
}

static void test_state(void)
{
	struct lab_opts opts;
	struct ebuf eb = { "" };
	struct lab l, m;
	struct lab_pod *p;

	lab_at(&l, &opts);
	l.nnodes = 2;
	l.nodes[1] = (struct lab_node){ .idx = 2, .name = "n2", .netns = "t1-n2",
					.agent = { 42, 4242 } };
	l.gen = 7;
	l.next_pod = 3;
	l.rr = 5;
	l.wire = true;
	p = lab_pod_add(&l);
	snprintf(p->ns, sizeof(p->ns), "x");
	snprintf(p->name, sizeof(p->name), "a");
	snprintf(p->node, sizeof(p->node), "n2");
	p->id = 2;
	p->nports = 2;
	p->ports[0] = 80;
	p->ports[1] = 8080;
	if (ipaddr_parse("fd00::2", 7, &p->ip[K8SOBJ_V6]))
		abort();
	is_int(lab_key_add(&l.pols, &l.npols, &l.cappols, "x", "deny"), 0, "state: a policy");
	is_int(lab_key_add(&l.nss, &l.nnss, &l.capnss, "", "x"), 0, "state: a namespace");
	is_int(lab_save(&l, &eb), 0, "state: saved");
	lab_at(&m, &opts);
	is_int(lab_load(&m, &eb), 0, "state: loaded");
	ok(m.nnodes == 2 && m.nodes[1].agent.pid == 42 && m.nodes[1].agent.start == 4242 &&
	   !strcmp(m.nodes[1].netns, "t1-n2"), "state: nodes round-trip");
	ok(m.gen == 7 && m.next_pod == 3 && m.rr == 5 && m.wire, "state: counters round-trip");
	ok(m.npods == 1 && m.pods[0].nports == 2 && m.pods[0].ports[1] == 8080 &&
	   m.pods[0].ip[K8SOBJ_V6].family == AF_INET6 && !m.pods[0].ip[K8SOBJ_V4].family,
	   "state: pods round-trip");
	ok(lab_key_has(m.pols, m.npols, "x", "deny") && lab_key_has(m.nss, m.nnss, "", "x"),
	   "state: namespaces and policies round-trip");
	lab_release(&m);
	lab_release(&l);
}

/* Every allocation of a manifest load failing in turn: -ENOMEM, nothing leaked. */
static void test_faults(void)
{
	struct buf b = BUF_INIT;
	unsigned long n, calls;
	int bad = 0, runs = 0;

	if (lab_scenario(&b))
		abort();
	for (n = 1;; n++) {
		struct lab_objs o;
		struct ebuf eb;
		int r;

		fault_reset(n);
		r = load(&o, b.p, &eb);
		calls = fault_reset(0);
		if (r && r != -ENOMEM)
			bad++;
		if (!r && o.n != 14)
			bad++;
		lab_objs_free(&o);
		runs++;
		if (calls < n)
			break;
	}
	diag("fault injection: %d runs", runs);
	is_int(bad, 0, "faults: every failure is a clean -ENOMEM");
	buf_free(&b);
}

int main(void)
{
	char cmd[96];

	log_procinit("test_lab");
	snprintf(dir, sizeof(dir), "/tmp/test_lab.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	test_scenario();
	test_checks();
	test_ports();
	test_write();
	test_long_name();
	test_state();
	test_faults();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		abort();
	return tap_done();
}
