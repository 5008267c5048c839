// SPDX-License-Identifier: MIT
/* deps: core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * test_k8sobj.c: decoding of Nodes, Pods, Namespaces, EndpointSlices, watch events and List
 * pages. The upstream fixtures (every field populated, placeholder values) must decode; the
 * hand-written objects are what real clusters send. JSON is written with ' for " to stay
 * readable. Every input is placed against a guard page.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "codec/json.h"
#include "core/cidr.h"
#include "core/k8sobj.h"
#include "tap.h"

#define FIXTURES "../../../shared/fixtures/k8s-api-testdata/"

/* ' → " so the JSON below reads naturally; the result is the caller's to free(). */
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

static int obj_q(const char *sq, enum k8sobj_kind kind, struct k8sobj **o, struct ebuf *eb)
{
	size_t n;
	char *s = dq(sq, &n), *g = guard_copy(s, n);
	int r;

	ebuf_clear(eb);
	r = k8sobj_parse(g, n, kind, o, eb);
	guard_free(g, n);
	free(s);
	return r;
}

static int ev_q(const char *sq, enum k8sobj_kind kind, struct k8sobj_event *ev, struct ebuf *eb)
{
	size_t n;
	char *s = dq(sq, &n), *g = guard_copy(s, n);
	int r;

	ebuf_clear(eb);
	r = k8sobj_event_parse(g, n, kind, ev, eb);
	guard_free(g, n);
	free(s);
	return r;
}

static int list_q(const char *sq, enum k8sobj_kind kind, struct k8sobj_list *l, struct ebuf *eb)
{
	size_t n;
	char *s = dq(sq, &n), *g = guard_copy(s, n);
	int r;

	ebuf_clear(eb);
	r = k8sobj_list_parse(g, n, NULL, kind, l, eb);
	guard_free(g, n);
	free(s);
	return r;
}

static char *fmt_ip(const struct ipaddr *a)
{
	static char buf[4][IPADDR_STRLEN];
	static int k;
	char *b = buf[k++ & 3];

	if (!a->family || ipaddr_format(a, b, IPADDR_STRLEN))
		strcpy(b, "-");
	return b;
}

static char *fmt_cidr(const struct cidr *c)
{
	static char buf[4][CIDR_STRLEN];
	static int k;
	char *b = buf[k++ & 3];

	if (!c->addr.family || cidr_format(c, b, CIDR_STRLEN))
		strcpy(b, "-");
	return b;
}

/* Every string of an object lies inside its one allocation, or is a static "". */
static bool inside(const struct k8sobj *o, const char *s)
{
	const char *lo = (const char *)o, *hi = lo + o->size;

	if (s >= lo && s < hi)
		return memchr(s, 0, (size_t)(hi - s)) != NULL;
	return s && (*s == '\0' || strcmp(s, "kubernetes.io/metadata.name") == 0);
}

static bool packed(const struct k8sobj *o)
{
	bool good = inside(o, o->name) && inside(o, o->ns) && inside(o, o->uid) &&
		    inside(o, o->rv);
	uint32_t i;

	for (i = 0; i < o->nlabels; i++) {
		good = good && inside(o, o->labels[i].key) && inside(o, o->labels[i].val);
		if (i)
			good = good && strcmp(o->labels[i - 1].key, o->labels[i].key) <= 0;
	}
	return good;
}

/* ---- upstream fixtures ----------------------------------------------------------------- */

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)len + 1);
		if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
			free(p);
			p = NULL;
		}
		*n = (size_t)len;
	}
	fclose(f);
	return p;
}

static enum k8sobj_kind fixture_kind(const char *file)
{
	if (strstr(file, ".Node."))
		return K8SOBJ_NODE;
	if (strstr(file, ".Pod."))
		return K8SOBJ_POD;
	if (strstr(file, ".Namespace."))
		return K8SOBJ_NAMESPACE;
	if (strstr(file, ".EndpointSlice."))
		return K8SOBJ_ENDPOINTSLICE;
	return K8SOBJ_OTHER;
}

static void fixture_fields(const struct k8sobj *o)
{
	const struct k8sobj_node *n = k8sobj_node(o);
	const struct k8sobj_pod *p = k8sobj_pod(o);
	const struct k8sobj_eps *e = k8sobj_eps(o);

	if (n) {
		ok(!n->pod_cidr[0].addr.family && !n->pod_cidr[1].addr.family &&
		   !n->internal_ip[0].family && n->nannotations == 0 &&
		   (o->flags & K8SOBJ_F_SKIPPED), "Node fixture: placeholders skipped, flagged");
	}
	if (p) {
		is_str(p->node_name, "nodeNameValue", "Pod fixture: nodeName");
		ok(p->host_network && p->phase == K8SOBJ_PHASE_UNKNOWN && !p->ip[0].family,
		   "Pod fixture: hostNetwork, unknown phase, no usable IP");
		/* the init container's restartPolicy is not Always: only the container's port */
		ok(p->nports == 1 && p->ports[0].port == 3 && !strcmp(p->ports[0].name, "nameValue")
		   && p->ports[0].proto == K8SOBJ_PROTO_OTHER, "Pod fixture: one port");
	}
	if (e) {
		ok(e->addr_type == K8SOBJ_ADDR_OTHER && e->nendpoints == 1 &&
		   e->endpoints[0].naddrs == 0 &&
		   e->endpoints[0].cond == (K8SOBJ_EP_READY | K8SOBJ_EP_SERVING |
					    K8SOBJ_EP_TERMINATING) &&
		   e->nports == 1 && e->ports[0].port == 3, "EndpointSlice fixture: fields");
	}
	if (o->kind == K8SOBJ_NAMESPACE)
		is_str(k8sobj_label(o, "kubernetes.io/metadata.name"), "nameValue",
		       "Namespace fixture: metadata.name label synthesised");
}

static void test_one_fixture(const char *file)
{
	char path[512], what[160], *p, *ev;
	enum k8sobj_kind kind = fixture_kind(file);
	struct k8sobj *o = NULL;
	struct k8sobj_event e;
	struct ebuf eb = { "" };
	size_t n, en;
	int r;

	snprintf(path, sizeof(path), FIXTURES "%s", file);
	p = slurp(path, &n);
	if (!ok(p != NULL, file))
		return;
	r = k8sobj_parse(p, n, kind, &o, &eb);
	snprintf(what, sizeof(what), "%s decodes as %s", file,
		 kind == K8SOBJ_OTHER ? "metadata only" : k8sobj_kind_name(kind));
	is_int(r, 0, what);
	if (r)
		diag("%s", eb.msg);
	if (o) {
		is_str(o->name, "nameValue", "fixture: name");
		is_str(o->ns, "namespaceValue", "fixture: namespace");
		ok(!strcmp(o->uid, "uidValue") && !strcmp(o->rv, "resourceVersionValue") &&
		   !strcmp(k8sobj_label(o, "labelsKey"), "labelsValue") &&
		   (o->flags & K8SOBJ_F_DELETING) && packed(o), "fixture: metadata");
		fixture_fields(o);
	}
	k8sobj_free(o);
	/* the same object inside a watch event */
	en = n + 40;
	ev = malloc(en);
	en = (size_t)snprintf(ev, en, "{\"object\":%.*s,\"type\":\"MODIFIED\"}", (int)n, p);
	r = k8sobj_event_parse(ev, en, kind, &e, &eb);
	ok(r == 0 && e.type == K8SOBJ_MODIFIED && e.obj && !strcmp(e.obj->name, "nameValue"),
	   "fixture: as a MODIFIED event, object first");
	k8sobj_event_clear(&e);
	free(ev);
	if (kind == K8SOBJ_POD) {
		is_int(k8sobj_parse(p, n, K8SOBJ_NODE, &o, &eb), -EINVAL, "Pod fixture as a Node");
		is_str(eb.msg, "kind: expected Node, got \"Pod\"", "kind mismatch message");
	}
	free(p);
}

static void test_fixtures(void)
{
	static const char *const files[] = {
		"core.v1.Node.json", "core.v1.Pod.json", "core.v1.Namespace.json",
		"discovery.k8s.io.v1.EndpointSlice.json", "core.v1.Service.json",
		"networking.k8s.io.v1.NetworkPolicy.json",
	};
	DIR *dir = opendir(FIXTURES);
	size_t i;

	if (!dir) {
		diag("skip: no fixtures at %s", FIXTURES);
		return;
	}
	closedir(dir);
	for (i = 0; i < ARRAY_SIZE(files); i++)
		test_one_fixture(files[i]);
}

/* ---- realistic objects ----------------------------------------------------------------- */

static const char NODE_KUBEADM[] =
	"{'kind':'Node','apiVersion':'v1','metadata':{'name':'worker-1',"
	"'uid':'1f0e7c1a-5b7e-4f44-9a34-6f0b9c3c2d11','resourceVersion':'918273',"
	"'creationTimestamp':'2026-01-10T08:00:00Z',"
	"'labels':{'beta.kubernetes.io/arch':'amd64','beta.kubernetes.io/os':'linux',"
	"'kubernetes.io/arch':'amd64','kubernetes.io/hostname':'worker-1',"
	"'kubernetes.io/os':'linux','node.kubernetes.io/instance-type':'m5.large',"
	"'topology.kubernetes.io/region':'eu-west-1','topology.kubernetes.io/zone':'eu-west-1a'},"
	"'annotations':{"
	"'kubeadm.alpha.kubernetes.io/cri-socket':'unix:///run/containerd/containerd.sock',"
	"'node.alpha.kubernetes.io/ttl':'0',"
	"'volumes.kubernetes.io/controller-managed-attach-detach':'true',"
	"'virgil.dev/vtep-mac':'5e:2f:11:aa:01:02','virgil.dev/mtu':'8951'},"
	"'managedFields':[{'manager':'kubelet','operation':'Update','fieldsType':'FieldsV1',"
	"'fieldsV1':{'f:status':{'f:conditions':{}}}}]},"
	"'spec':{'podCIDR':'10.244.1.0/24','podCIDRs':['10.244.1.0/24','fd00:10:244:1::/64'],"
	"'taints':[{'key':'node.kubernetes.io/not-ready','effect':'NoSchedule'}]},"
	"'status':{'capacity':{'cpu':'2','memory':'8022148Ki','pods':'110'},"
	"'conditions':[{'type':'Ready','status':'True','reason':'KubeletReady'}],"
	"'addresses':[{'type':'InternalIP','address':'192.168.10.11'},"
	"{'type':'InternalIP','address':'fd00:192:168:10::11'},"
	"{'type':'InternalIP','address':'192.168.20.11'},"
	"{'type':'ExternalIP','address':'203.0.113.7'},{'type':'Hostname','address':'worker-1'}],"
	"'daemonEndpoints':{'kubeletEndpoint':{'Port':10250}},"
	"'nodeInfo':{'kubeletVersion':'v1.31.2','containerRuntimeVersion':'containerd://1.7.22'},"
	"'images':[{'names':['registry.k8s.io/pause:3.10'],'sizeBytes':320368}]}}";

static void test_node(void)
{
	const struct k8sobj_node *n;
	struct k8sobj *o = NULL;
	struct ebuf eb;

	is_int(obj_q(NODE_KUBEADM, K8SOBJ_NODE, &o, &eb), 0, "kubeadm node decodes");
	n = k8sobj_node(o);
	if (!ok(n != NULL, "downcast to node"))
		return;
	is_str(o->name, "worker-1", "node name");
	is_str(o->ns, "", "node is cluster-scoped");
	is_str(o->rv, "918273", "node resourceVersion");
	is_int(o->flags, 0, "node: nothing skipped, not deleting");
	is_str(fmt_cidr(&n->pod_cidr[K8SOBJ_V4]), "10.244.1.0/24", "node v4 podCIDR");
	is_str(fmt_cidr(&n->pod_cidr[K8SOBJ_V6]), "fd00:10:244:1::/64", "node v6 podCIDR");
	is_str(fmt_ip(&n->internal_ip[K8SOBJ_V4]), "192.168.10.11", "first InternalIP v4 kept");
	is_str(fmt_ip(&n->internal_ip[K8SOBJ_V6]), "fd00:192:168:10::11", "InternalIP v6");
	is_str(fmt_ip(&n->external_ip[K8SOBJ_V4]), "203.0.113.7", "ExternalIP v4");
	is_str(fmt_ip(&n->external_ip[K8SOBJ_V6]), "-", "no ExternalIP v6");
	is_int(n->nannotations, 2, "only virgil.dev/ annotations kept");
	is_str(n->annotations[0].key, "virgil.dev/mtu", "annotations sorted");
	is_str(k8sobj_annotation(n, "virgil.dev/vtep-mac"), "5e:2f:11:aa:01:02", "annotation");
	ok(!k8sobj_annotation(n, "node.alpha.kubernetes.io/ttl"), "foreign annotation dropped");
	is_int(o->nlabels, 8, "all labels kept");
	is_str(k8sobj_label(o, "kubernetes.io/hostname"), "worker-1", "label lookup");
	ok(!k8sobj_label(o, "kubernetes.io/hostnam"), "label lookup miss");
	ok(packed(o), "node strings packed, labels sorted");
	ok(!k8sobj_pod(o) && !k8sobj_eps(o), "wrong downcasts are NULL");
	diag("typical Node (8 labels, 2 kept annotations, dual-stack): %u bytes", o->size);
	ok(o->size < 768, "node fits in 768 bytes");
	k8sobj_free(o);
}

static void test_node_variants(void)
{
	const struct k8sobj_node *n;
	struct k8sobj *o = NULL;
	struct ebuf eb;

	is_int(obj_q("{'metadata':{'name':'n2'},'spec':{'podCIDR':'10.244.2.0/24'}}",
		     K8SOBJ_NODE, &o, &eb), 0, "node with podCIDR only");
	n = k8sobj_node(o);
	ok(n && !strcmp(fmt_cidr(&n->pod_cidr[0]), "10.244.2.0/24") && !n->pod_cidr[1].addr.family
	   && o->flags == 0, "podCIDR fallback");
	k8sobj_free(o);
	is_int(obj_q("{'spec':{'podCIDRs':['10.244.3.0/24','10.245.3.0/24','bogus'],"
		     "'podCIDR':null},'status':{'addresses':null}}", K8SOBJ_NODE, &o, &eb), 0,
	       "node with two v4 podCIDRs");
	n = k8sobj_node(o);
	ok(n && !strcmp(fmt_cidr(&n->pod_cidr[0]), "10.244.3.0/24") &&
	   (o->flags & K8SOBJ_F_SKIPPED), "second v4 podCIDR skipped and flagged");
	k8sobj_free(o);
	is_int(obj_q("{'spec':{'podCIDRs':[]}}", K8SOBJ_NODE, &o, &eb), 0, "empty podCIDRs");
	n = k8sobj_node(o);
	ok(n && !n->pod_cidr[0].addr.family && !strcmp(o->name, "") && !o->nlabels &&
	   !o->labels, "empty node: all absent");
	k8sobj_free(o);
}

static const char POD_WEB[] =
	"{'metadata':{'name':'web-7d4b9c8f6d-x2k4p','generateName':'web-7d4b9c8f6d-',"
	"'namespace':'production','uid':'8a5f4c2e-0b1d-4e6f-9a7b-3c2d1e0f9a8b',"
	"'resourceVersion':'48213377','labels':{'app':'web','pod-template-hash':'7d4b9c8f6d'},"
	"'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet','name':'web-7d4b9c8f6d',"
	"'uid':'0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f','controller':true}]},"
	"'spec':{'containers':[{'name':'web','image':'nginx:1.27','ports':[{'name':'http',"
	"'containerPort':8080,'protocol':'TCP'}]}],"
	"'nodeName':'ip-10-0-1-23.eu-west-1.compute.internal'},"
	"'status':{'phase':'Running','podIP':'10.244.1.17','podIPs':[{'ip':'10.244.1.17'}],"
	"'hostIP':'10.0.1.23'}}";

static const char POD_PORTS[] =
	"{'kind':'Pod','metadata':{'name':'api-0','namespace':'shop','labels':{'app':'api'}},"
	"'spec':{'nodeName':'worker-2','initContainers':["
	"{'name':'migrate','ports':[{'containerPort':1}]},"
	"{'name':'mesh','restartPolicy':'Always','ports':[{'name':'proxy','containerPort':15001},"
	"{'name':'admin','containerPort':15000,'protocol':'TCP'}]}],"
	"'containers':[{'name':'api','ports':[{'name':'http','containerPort':8080},"
	"{'name':'dns','containerPort':53,'protocol':'UDP'},"
	"{'name':'sig','containerPort':7777,'protocol':'SCTP'}]},"
	"{'name':'metrics','ports':[{'containerPort':9090},{'name':'bad','containerPort':70000}]},"
	"{'name':'noports'}]},"
	"'status':{'phase':'Pending','podIPs':[{'ip':'10.244.2.5'},{'ip':'fd00:10:244:2::5'}]}}";

static void test_pod(void)
{
	const struct k8sobj_pod *p;
	struct k8sobj *o = NULL;
	struct ebuf eb;

	is_int(obj_q(POD_WEB, K8SOBJ_POD, &o, &eb), 0, "deployment pod decodes");
	p = k8sobj_pod(o);
	if (p) {
		ok(!strcmp(o->ns, "production") && !strcmp(o->name, "web-7d4b9c8f6d-x2k4p") &&
		   !strcmp(p->node_name, "ip-10-0-1-23.eu-west-1.compute.internal") &&
		   p->phase == K8SOBJ_RUNNING && !p->host_network && o->flags == 0, "pod fields");
		is_str(fmt_ip(&p->ip[K8SOBJ_V4]), "10.244.1.17", "pod v4 IP");
		ok(p->nports == 1 && !strcmp(p->ports[0].name, "http") && p->ports[0].port == 8080,
		   "pod port");
		ok(packed(o), "pod strings packed");
		diag("typical Pod (2 labels, 1 named port, 1 IP): %u bytes", o->size);
		ok(o->size < 400, "typical pod fits in 400 bytes");
	}
	k8sobj_free(o);

	is_int(obj_q(POD_PORTS, K8SOBJ_POD, &o, &eb), 0, "pod with named ports decodes");
	p = k8sobj_pod(o);
	if (!ok(p && p->nports == 6, "containers' ports then sidecar ports"))
		return;
	ok(!strcmp(p->ports[0].name, "http") && p->ports[0].port == 8080 &&
	   p->ports[0].proto == K8SOBJ_TCP, "http/8080/TCP (protocol defaulted)");
	ok(!strcmp(p->ports[1].name, "dns") && p->ports[1].proto == K8SOBJ_UDP, "dns/UDP");
	ok(p->ports[2].proto == K8SOBJ_SCTP, "SCTP");
	ok(!strcmp(p->ports[3].name, "") && p->ports[3].port == 9090, "unnamed port");
	ok(!strcmp(p->ports[4].name, "proxy") && p->ports[4].port == 15001, "sidecar port");
	ok(!strcmp(p->ports[5].name, "admin"), "second sidecar port; plain init skipped");
	ok(o->flags & K8SOBJ_F_SKIPPED, "port 70000 skipped and flagged");
	is_str(fmt_ip(&p->ip[K8SOBJ_V6]), "fd00:10:244:2::5", "pod v6 IP");
	ok(p->phase == K8SOBJ_PENDING && packed(o), "pending, packed");
	k8sobj_free(o);
}

static void test_pod_variants(void)
{
	const struct k8sobj_pod *p;
	struct k8sobj *o = NULL;
	struct ebuf eb;

	is_int(obj_q("{'metadata':{'name':'kube-proxy-abcde','namespace':'kube-system'},"
		     "'spec':{'hostNetwork':true,'nodeName':'worker-1',"
		     "'containers':[{'name':'kp'}]},"
		     "'status':{'phase':'Running','podIP':'192.168.10.11',"
		     "'podIPs':[{'ip':'192.168.10.11'}]}}", K8SOBJ_POD, &o, &eb), 0,
	       "hostNetwork pod decodes");
	p = k8sobj_pod(o);
	ok(p && p->host_network && !strcmp(fmt_ip(&p->ip[0]), "192.168.10.11") && !p->nports &&
	   !p->ports, "hostNetwork pod: node IP, no ports");
	k8sobj_free(o);

	is_int(obj_q("{'metadata':{'name':'job-x','namespace':'batch'},'spec':{'nodeName':'w'},"
		     "'status':{'phase':'Succeeded','podIP':'10.244.1.9'}}", K8SOBJ_POD, &o, &eb),
	       0, "succeeded pod decodes");
	p = k8sobj_pod(o);
	ok(p && p->phase == K8SOBJ_SUCCEEDED && !strcmp(fmt_ip(&p->ip[0]), "10.244.1.9"),
	   "succeeded pod: phase, podIP fallback");
	k8sobj_free(o);

	is_int(obj_q("{'metadata':{'name':'x','deletionTimestamp':'2026-01-01T00:00:00Z'},"
		     "'status':{'phase':'Failed','podIPs':[{'ip':'10.0.0.1'},{'ip':'10.0.0.2'},"
		     "{'ip':'nope'},{}]}}", K8SOBJ_POD, &o, &eb), 0, "odd pod decodes");
	p = k8sobj_pod(o);
	ok(p && p->phase == K8SOBJ_FAILED && !strcmp(fmt_ip(&p->ip[0]), "10.0.0.1") &&
	   o->flags == (K8SOBJ_F_DELETING | K8SOBJ_F_SKIPPED), "deleting; extra IPs flagged");
	k8sobj_free(o);

	is_int(obj_q("{'status':{'phase':'Evicted'}}", K8SOBJ_POD, &o, &eb), 0, "odd phase");
	p = k8sobj_pod(o);
	ok(p && p->phase == K8SOBJ_PHASE_UNKNOWN, "unrecognised phase is Unknown");
	k8sobj_free(o);
	is_int(obj_q("{}", K8SOBJ_POD, &o, &eb), 0, "empty pod");
	p = k8sobj_pod(o);
	ok(p && p->phase == K8SOBJ_PHASE_NONE && !strcmp(p->node_name, ""), "absent phase");
	k8sobj_free(o);
}

static void test_namespace(void)
{
	struct k8sobj *o = NULL;
	struct ebuf eb;

	is_int(obj_q("{'kind':'Namespace','metadata':{'name':'shop','labels':{'team':'a'}}}",
		     K8SOBJ_NAMESPACE, &o, &eb), 0, "namespace decodes");
	ok(o && o->nlabels == 2 && !strcmp(o->labels[0].key, "kubernetes.io/metadata.name") &&
	   !strcmp(o->labels[0].val, "shop") && !strcmp(o->labels[1].key, "team") && packed(o),
	   "metadata.name label synthesised, sorted in");
	k8sobj_free(o);
	is_int(obj_q("{'metadata':{'name':'shop','labels':{'kubernetes.io/metadata.name':'shop'}}}",
		     K8SOBJ_NAMESPACE, &o, &eb), 0, "namespace with the label");
	ok(o && o->nlabels == 1, "label not duplicated");
	k8sobj_free(o);
	is_int(obj_q("{'metadata':{'name':'shop'}}", K8SOBJ_OTHER, &o, &eb), 0, "other kind");
	ok(o && o->nlabels == 0 && o->kind == K8SOBJ_OTHER, "no label synthesised for others");
	k8sobj_free(o);
}

static void test_eps(void)
{
	const struct k8sobj_eps *e;
	struct k8sobj *o = NULL;
	struct ebuf eb;

	is_int(obj_q("{'kind':'EndpointSlice','apiVersion':'discovery.k8s.io/v1',"
		     "'metadata':{'name':'kubernetes','namespace':'default',"
		     "'labels':{'kubernetes.io/service-name':'kubernetes'}},'addressType':'IPv4',"
		     "'endpoints':[{'addresses':['192.168.10.2'],'conditions':{'ready':true}},"
		     "{'addresses':['192.168.10.3'],'conditions':{}},"
		     "{'addresses':['192.168.10.4'],'conditions':{'ready':false,'serving':true,"
		     "'terminating':true},'nodeName':'cp-3'},"
		     "{'addresses':['fd00::4']}],"
		     "'ports':[{'name':'https','port':6443,'protocol':'TCP'},{'name':'all'}]}",
		     K8SOBJ_ENDPOINTSLICE, &o, &eb), 0, "kubernetes EndpointSlice decodes");
	e = k8sobj_eps(o);
	if (!ok(e && e->addr_type == K8SOBJ_ADDR_IPV4 && e->nendpoints == 4, "4 endpoints"))
		return;
	ok(e->endpoints[0].naddrs == 1 &&
	   !strcmp(fmt_ip(&e->endpoints[0].addrs[0]), "192.168.10.2") &&
	   e->endpoints[0].cond == (K8SOBJ_EP_READY | K8SOBJ_EP_SERVING), "ready endpoint");
	ok(e->endpoints[1].cond == (K8SOBJ_EP_READY | K8SOBJ_EP_SERVING), "nil ready is true");
	ok(e->endpoints[2].cond == (K8SOBJ_EP_SERVING | K8SOBJ_EP_TERMINATING) &&
	   !strcmp(fmt_ip(&e->endpoints[2].addrs[0]), "192.168.10.4"), "terminating endpoint");
	ok(e->endpoints[3].naddrs == 0 && (o->flags & K8SOBJ_F_SKIPPED), "v6 in v4 slice skipped");
	ok(e->nports == 2 && e->ports[0].port == 6443 && !strcmp(e->ports[0].name, "https") &&
	   e->ports[1].port == 0, "ports, nil port kept as 0");
	ok(packed(o), "slice packed");
	k8sobj_free(o);

	is_int(obj_q("{'addressType':'FQDN','endpoints':[{'addresses':['db.example.com']}]}",
		     K8SOBJ_ENDPOINTSLICE, &o, &eb), 0, "FQDN slice decodes");
	e = k8sobj_eps(o);
	ok(e && e->addr_type == K8SOBJ_ADDR_FQDN && e->nendpoints == 1 &&
	   e->endpoints[0].naddrs == 0 && o->flags == 0, "FQDN names are not kept");
	k8sobj_free(o);
	is_int(obj_q("{'addressType':'IPv6','endpoints':[{'addresses':['fd00::1','fd00::2']},"
		     "{'addresses':['fd00::3']}]}", K8SOBJ_ENDPOINTSLICE, &o, &eb), 0, "v6 slice");
	e = k8sobj_eps(o);
	ok(e && e->endpoints[0].naddrs == 2 && e->endpoints[1].naddrs == 1 &&
	   !strcmp(fmt_ip(&e->endpoints[0].addrs[1]), "fd00::2") &&
	   !strcmp(fmt_ip(&e->endpoints[1].addrs[0]), "fd00::3"), "address arrays per endpoint");
	k8sobj_free(o);
}

/* ---- watch events ---------------------------------------------------------------------- */

static void test_events(void)
{
	struct k8sobj_event ev;
	struct ebuf eb;

	is_int(ev_q("{'type':'ADDED','object':{'kind':'Pod','metadata':{'name':'a',"
		    "'namespace':'n','resourceVersion':'101'}}}", K8SOBJ_POD, &ev, &eb), 0,
	       "ADDED");
	ok(ev.type == K8SOBJ_ADDED && ev.obj && !strcmp(ev.obj->rv, "101") &&
	   k8sobj_pod(ev.obj), "ADDED carries the pod");
	k8sobj_event_clear(&ev);
	is_int(ev_q("{'object':{'metadata':{'name':'a','namespace':'n','resourceVersion':'102'}},"
		    "'type':'MODIFIED'}", K8SOBJ_POD, &ev, &eb), 0, "MODIFIED, object first");
	ok(ev.type == K8SOBJ_MODIFIED && ev.obj, "MODIFIED carries the pod");
	k8sobj_event_clear(&ev);
	is_int(ev_q("{'type':'DELETED','object':{'metadata':{'name':'a','namespace':'n',"
		    "'resourceVersion':'103','deletionTimestamp':'2026-01-01T00:00:00Z'}}}",
		    K8SOBJ_POD, &ev, &eb), 0, "DELETED");
	ok(ev.type == K8SOBJ_DELETED && ev.obj && (ev.obj->flags & K8SOBJ_F_DELETING),
	   "DELETED carries the last state");
	k8sobj_event_clear(&ev);
	is_int(ev_q("{'type':'BOOKMARK','object':{'kind':'Pod','apiVersion':'v1',"
		    "'metadata':{'resourceVersion':'12746','creationTimestamp':null},"
		    "'spec':{'containers':null},'status':{}}}", K8SOBJ_POD, &ev, &eb), 0,
	       "BOOKMARK");
	ok(ev.type == K8SOBJ_BOOKMARK && !ev.obj && ev.rv && !strcmp(ev.rv, "12746") &&
	   !ev.initial_end, "BOOKMARK gives only the resourceVersion");
	k8sobj_event_clear(&ev);
	is_int(ev_q("{'type':'BOOKMARK','object':{'metadata':{'resourceVersion':'9',"
		    "'annotations':{'k8s.io/initial-events-end':'true'}}}}", K8SOBJ_POD, &ev, &eb),
	       0, "initial-events-end BOOKMARK");
	ok(ev.initial_end && !strcmp(ev.rv, "9"), "initial events end seen");
	k8sobj_event_clear(&ev);
	is_int(ev_q("{'type':'ERROR','object':{'kind':'Status','apiVersion':'v1','metadata':{},"
		    "'status':'Failure','message':'too old resource version: 1 (4127)',"
		    "'reason':'Expired','code':410}}", K8SOBJ_POD, &ev, &eb), 0, "ERROR 410");
	ok(ev.type == K8SOBJ_ERROR && ev.code == 410 && !strcmp(ev.reason, "Expired") &&
	   !strcmp(ev.message, "too old resource version: 1 (4127)") && k8sobj_event_expired(&ev),
	   "ERROR 410: code, reason, message; expired");
	k8sobj_event_clear(&ev);
	is_int(ev_q("{'type':'ERROR','object':{'reason':'Gone'}}", K8SOBJ_POD, &ev, &eb), 0,
	       "ERROR Gone without code");
	ok(k8sobj_event_expired(&ev) && ev.code == 0 && !ev.message, "Gone is expired too");
	k8sobj_event_clear(&ev);
	is_int(ev_q("{'type':'ERROR','object':{'code':500,'reason':'InternalError'}}",
		    K8SOBJ_POD, &ev, &eb), 0, "ERROR 500");
	ok(!k8sobj_event_expired(&ev) && ev.code == 500, "500 is not expired");
	k8sobj_event_clear(&ev);
}

/* ---- List pages ------------------------------------------------------------------------ */

static void test_lists(void)
{
	struct k8sobj_list l;
	struct ebuf eb;

	is_int(list_q("{'kind':'PodList','apiVersion':'v1','metadata':{'resourceVersion':'5000',"
		      "'continue':'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NTAwMH0',"
		      "'remainingItemCount':3},"
		      "'items':[{'metadata':{'name':'a','namespace':'n'}},"
		      "{'metadata':{'name':'b','namespace':'n'},'spec':{'nodeName':'w'}}]}",
		      K8SOBJ_POD, &l, &eb), 0, "List page with continue");
	ok(l.nitems == 2 && !strcmp(l.rv, "5000") && l.cont && !strncmp(l.cont, "eyJ2", 4) &&
	   !strcmp(l.items[1]->name, "b") && l.nbad == 0, "items, rv, continue");
	k8sobj_list_clear(&l);
	is_int(list_q("{'metadata':{'resourceVersion':'7'},'items':null}", K8SOBJ_POD, &l, &eb),
	       0, "items: null");
	ok(l.nitems == 0 && !l.items && !l.cont && !strcmp(l.rv, "7"), "null items is empty");
	k8sobj_list_clear(&l);
	is_int(list_q("{'metadata':{'continue':''}}", K8SOBJ_NODE, &l, &eb), 0, "no items");
	ok(l.nitems == 0 && !l.cont && !l.rv, "empty continue is the last page");
	k8sobj_list_clear(&l);
	is_int(list_q("{'metadata':{},'items':[{'metadata':{'name':'a'}},"
		      "{'metadata':{'name':'b'},'spec':{'nodeName':7}},{'metadata':{'name':'c'}},"
		      "[]]}", K8SOBJ_POD, &l, &eb), 0, "list with bad items");
	ok(l.nitems == 2 && l.nbad == 2 && !strcmp(l.items[1]->name, "c"), "bad items left out");
	is_str(eb.msg, "items[1].spec.nodeName: expected a string, got a number",
	       "first bad item's reason");
	k8sobj_list_clear(&l);
	is_int(list_q("{'metadata':{'resourceVersion':5},'items':[]}", K8SOBJ_POD, &l, &eb),
	       -EINVAL, "list rv of wrong type");
	is_str(eb.msg, "metadata.resourceVersion: expected a string, got a number", "list path");
	ok(!l.rv && !l.items, "list cleared on error");
	is_int(list_q("{'items':{}}", K8SOBJ_POD, &l, &eb), -EINVAL, "items an object");
	is_str(eb.msg, "items: expected an array, got an object", "items path");
	is_int(list_q("{'items':[", K8SOBJ_POD, &l, &eb), -EINVAL, "list syntax error");
	ok(!strncmp(eb.msg, "offset ", 7), "syntax error has the offset");
}

/* ---- malformed input: exact paths ------------------------------------------------------ */

struct bad_case {
	enum k8sobj_kind kind;
	const char *json;
	const char *msg;
};

static const struct bad_case bad_objs[] = {
	{ K8SOBJ_POD, "[]", "expected an object, got an array" },
	{ K8SOBJ_POD, "{'metadata':'x'}", "metadata: expected an object, got a string" },
	{ K8SOBJ_POD, "{'metadata':{'name':5}}", "metadata.name: expected a string, got a number" },
	{ K8SOBJ_POD, "{'metadata':{'name':'a\\u0000b'}}", "metadata.name: string contains NUL" },
	{ K8SOBJ_POD, "{'metadata':{'labels':{'app':1}}}",
	  "metadata.labels[\"app\"]: expected a string, got a number" },
	{ K8SOBJ_POD, "{'metadata':{'labels':[]}}",
	  "metadata.labels: expected an object, got an array" },
	{ K8SOBJ_POD, "{'metadata':{'deletionTimestamp':true}}",
	  "metadata.deletionTimestamp: expected a string, got a boolean" },
	{ K8SOBJ_POD, "{'kind':'Node'}", "kind: expected Pod, got \"Node\"" },
	{ K8SOBJ_POD, "{'kind':1}", "kind: expected a string, got a number" },
	{ K8SOBJ_POD, "{'spec':[]}", "spec: expected an object, got an array" },
	{ K8SOBJ_POD, "{'spec':{'hostNetwork':'true'}}",
	  "spec.hostNetwork: expected a boolean, got a string" },
	{ K8SOBJ_POD, "{'spec':{'containers':[{'ports':[{'containerPort':'80'}]}]}}",
	  "spec.containers[0].ports[0].containerPort: expected an integer, got a string" },
	{ K8SOBJ_POD, "{'spec':{'containers':[{},{'ports':[{'containerPort':80},"
	  "{'containerPort':80.5}]}]}}",
	  "spec.containers[1].ports[1].containerPort: expected an integer, got 80.5" },
	{ K8SOBJ_POD, "{'spec':{'containers':[{'ports':[{'containerPort':80,'protocol':6}]}]}}",
	  "spec.containers[0].ports[0].protocol: expected a string, got a number" },
	{ K8SOBJ_POD, "{'spec':{'containers':[{'ports':[{'name':['x'],'containerPort':1}]}]}}",
	  "spec.containers[0].ports[0].name: expected a string, got an array" },
	{ K8SOBJ_POD, "{'spec':{'containers':['c']}}",
	  "spec.containers[0]: expected an object, got a string" },
	{ K8SOBJ_POD, "{'spec':{'initContainers':[{'restartPolicy':1}]}}",
	  "spec.initContainers[0].restartPolicy: expected a string, got a number" },
	{ K8SOBJ_POD, "{'spec':{'initContainers':[{'restartPolicy':'Always','ports':{}}]}}",
	  "spec.initContainers[0].ports: expected an array, got an object" },
	{ K8SOBJ_POD, "{'spec':{'nodeName':false}}",
	  "spec.nodeName: expected a string, got a boolean" },
	{ K8SOBJ_POD, "{'status':{'phase':1}}", "status.phase: expected a string, got a number" },
	{ K8SOBJ_POD, "{'status':{'podIPs':[{'ip':'10.0.0.1'},{'ip':1}]}}",
	  "status.podIPs[1].ip: expected a string, got a number" },
	{ K8SOBJ_POD, "{'status':{'podIPs':['10.0.0.1']}}",
	  "status.podIPs[0]: expected an object, got a string" },
	{ K8SOBJ_POD, "{'status':{'podIP':{}}}", "status.podIP: expected a string, got an object" },
	{ K8SOBJ_NODE, "{'spec':{'podCIDRs':['10.0.0.0/24',5]}}",
	  "spec.podCIDRs[1]: expected a string, got a number" },
	{ K8SOBJ_NODE, "{'spec':{'podCIDR':['10.0.0.0/24']}}",
	  "spec.podCIDR: expected a string, got an array" },
	{ K8SOBJ_NODE, "{'status':{'addresses':[null]}}",
	  "status.addresses[0]: expected an object, got null" },
	{ K8SOBJ_NODE, "{'status':{'addresses':[{'type':'InternalIP','address':1}]}}",
	  "status.addresses[0].address: expected a string, got a number" },
	{ K8SOBJ_NODE, "{'metadata':{'annotations':{'other':1,'virgil.dev/x':2}}}",
	  "metadata.annotations[\"virgil.dev/x\"]: expected a string, got a number" },
	{ K8SOBJ_NODE, "{'metadata':{'annotations':'x'}}",
	  "metadata.annotations: expected an object, got a string" },
	{ K8SOBJ_ENDPOINTSLICE, "{'addressType':4}",
	  "addressType: expected a string, got a number" },
	{ K8SOBJ_ENDPOINTSLICE, "{'endpoints':[{'conditions':{'ready':'yes'}}]}",
	  "endpoints[0].conditions.ready: expected a boolean, got a string" },
	{ K8SOBJ_ENDPOINTSLICE, "{'endpoints':[{},{'addresses':['10.0.0.1',null]}]}",
	  "endpoints[1].addresses[1]: expected a string, got null" },
	{ K8SOBJ_ENDPOINTSLICE, "{'ports':[{'port':'https'}]}",
	  "ports[0].port: expected an integer, got a string" },
	{ K8SOBJ_ENDPOINTSLICE, "{'ports':[{'port':443,'protocol':null,'name':1}]}",
	  "ports[0].name: expected a string, got a number" },
};

static const struct bad_case bad_events[] = {
	{ K8SOBJ_POD, "[]", "expected an object, got an array" },
	{ K8SOBJ_POD, "{'object':{}}", "type: missing" },
	{ K8SOBJ_POD, "{'type':5,'object':{}}", "type: expected a string, got a number" },
	{ K8SOBJ_POD, "{'type':'SYNC','object':{}}", "type: unknown event type \"SYNC\"" },
	{ K8SOBJ_POD, "{'type':'ADDED'}", "object: missing" },
	{ K8SOBJ_POD, "{'type':'ADDED','object':null}", "object: missing" },
	{ K8SOBJ_POD, "{'type':'ADDED','object':[]}", "object: expected an object, got an array" },
	{ K8SOBJ_POD, "{'type':'MODIFIED','object':{'spec':{'nodeName':1}}}",
	  "object.spec.nodeName: expected a string, got a number" },
	{ K8SOBJ_NODE, "{'type':'ADDED','object':{'kind':'Pod'}}",
	  "object.kind: expected Node, got \"Pod\"" },
	{ K8SOBJ_POD, "{'type':'BOOKMARK','object':{}}",
	  "object.metadata.resourceVersion: missing" },
	{ K8SOBJ_POD, "{'type':'BOOKMARK','object':{'metadata':{'resourceVersion':1}}}",
	  "object.metadata.resourceVersion: expected a string, got a number" },
	{ K8SOBJ_POD, "{'type':'BOOKMARK','object':{'metadata':{'resourceVersion':'1',"
	  "'annotations':{'k8s.io/initial-events-end':true}}}}",
	  "object.metadata.annotations[\"k8s.io/initial-events-end\"]: "
	  "expected a string, got a boolean" },
	{ K8SOBJ_POD, "{'type':'ERROR','object':{'code':'410'}}",
	  "object.code: expected an integer, got a string" },
	{ K8SOBJ_POD, "{'type':'ERROR','object':{'code':4100000000}}",
	  "object.code: expected an integer, got 4100000000" },
	{ K8SOBJ_POD, "{'type':'ERROR','object':{'message':{}}}",
	  "object.message: expected a string, got an object" },
};

static void test_malformed(void)
{
	struct k8sobj *o = (struct k8sobj *)1;
	struct k8sobj_event ev;
	struct ebuf eb;
	char what[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_objs); i++) {
		snprintf(what, sizeof(what), "bad object %zu: %s", i, bad_objs[i].msg);
		is_int(obj_q(bad_objs[i].json, bad_objs[i].kind, &o, &eb), -EINVAL, what);
		is_str(eb.msg, bad_objs[i].msg, "  message");
		ok(o == NULL, "  no object");
	}
	for (i = 0; i < ARRAY_SIZE(bad_events); i++) {
		snprintf(what, sizeof(what), "bad event %zu: %s", i, bad_events[i].msg);
		is_int(ev_q(bad_events[i].json, bad_events[i].kind, &ev, &eb), -EINVAL, what);
		is_str(eb.msg, bad_events[i].msg, "  message");
		ok(!ev.obj && !ev.rv && !ev.reason && !ev.message, "  event cleared");
	}
	is_int(obj_q("{'metadata':", K8SOBJ_POD, &o, &eb), -EINVAL, "syntax error");
	ok(!strncmp(eb.msg, "offset ", 7), "syntax error reports the offset");
	is_int(k8sobj_decode(NULL, K8SOBJ_POD, &o, &eb), -EINVAL, "NULL value");
	is_int(obj_q("{}", K8SOBJ_NKINDS, &o, &eb), -EINVAL, "bad kind");
}

/* ---- limits and partial input ---------------------------------------------------------- */

static void test_limits(void)
{
	static const char *const ports[] = { "0", "-1", "65536", "1e3", "99999999999999999999" };
	struct k8sobj *o = NULL;
	struct ebuf eb;
	char json[256], *big, *p;
	bool good = true;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		snprintf(json, sizeof(json),
			 "{'spec':{'containers':[{'ports':[{'containerPort':%s},"
			 "{'containerPort':65535}]}]}}", ports[i]);
		r = obj_q(json, K8SOBJ_POD, &o, &eb);
		if (i == 3) {
			is_int(r, -EINVAL, "1e3 is not an integer");
			continue;
		}
		ok(r == 0 && k8sobj_pod(o)->nports == 1 && k8sobj_pod(o)->ports[0].port == 65535 &&
		   (o->flags & K8SOBJ_F_SKIPPED), ports[i]);
		k8sobj_free(o);
	}
	/* 2000 labels: sorted, each found */
	big = malloc(2000 * 40 + 64);
	p = big + sprintf(big, "{'metadata':{'labels':{");
	for (i = 0; i < 2000; i++)
		p += sprintf(p, "%s'k%zu':'v%zu'", i ? "," : "", (i * 7919) % 2000, i);
	strcpy(p, "}}}");
	r = obj_q(big, K8SOBJ_POD, &o, &eb);
	ok(r == 0 && o->nlabels == 2000 && packed(o), "2000 labels decode sorted");
	for (i = 0; r == 0 && i < 2000; i++) {
		snprintf(json, sizeof(json), "k%zu", i);
		good = good && k8sobj_label(o, json) != NULL;
	}
	ok(good && !k8sobj_label(o, "k2000") && !k8sobj_label(o, NULL), "every label found");
	k8sobj_free(o);
	free(big);
}

/* Every strict prefix of a valid object fails cleanly; the whole succeeds. */
static void test_partial(void)
{
	struct k8sobj *o = NULL;
	struct ebuf eb;
	size_t n, i;
	char *s = dq(POD_PORTS, &n), *g;
	int bad = 0;

	for (i = 0; i < n; i++) {
		g = guard_copy(s, i);
		bad += k8sobj_parse(g, i, K8SOBJ_POD, &o, &eb) != -EINVAL || o != NULL;
		guard_free(g, i);
	}
	ok(bad == 0, "every prefix is rejected");
	g = guard_copy(s, n);
	ok(k8sobj_parse(g, n, K8SOBJ_POD, &o, &eb) == 0, "the whole pod decodes");
	k8sobj_free(o);
	guard_free(g, n);
	free(s);
}

/* ---- allocation failures --------------------------------------------------------------- */

static int run_case(int which, struct k8sobj **o, struct k8sobj_event *ev,
		    struct k8sobj_list *l, struct ebuf *eb)
{
	switch (which) {
	case 0:
		return obj_q(POD_PORTS, K8SOBJ_POD, o, eb);
	case 1:
		return ev_q("{'type':'ERROR','object':{'code':410,'reason':'Expired',"
			    "'message':'too old'}}", K8SOBJ_POD, ev, eb);
	case 2:
		return ev_q("{'type':'BOOKMARK','object':{'metadata':{'resourceVersion':'1'}}}",
			    K8SOBJ_POD, ev, eb);
	case 3:
		return ev_q("{'type':'ADDED','object':{'metadata':{'name':'a'}}}", K8SOBJ_POD, ev,
			    eb);
	default:
		return list_q("{'metadata':{'resourceVersion':'1','continue':'c'},'items':["
			      "{'metadata':{'name':'a'}},{'metadata':{'name':'b'}}]}", K8SOBJ_POD,
			      l, eb);
	}
}

static void test_faults(void)
{
	struct k8sobj *o = NULL;
	struct k8sobj_event ev;
	struct k8sobj_list l;
	struct ebuf eb;
	unsigned long nth, calls;
	char what[128];
	int which, r, bad;

	memset(&ev, 0, sizeof(ev));
	memset(&l, 0, sizeof(l));
	for (which = 0; which < 5; which++) {
		bad = 0;
		for (nth = 1;; nth++) {
			fault_reset(nth);
			r = run_case(which, &o, &ev, &l, &eb);
			calls = fault_reset(0);
			if (calls < nth) {
				bad += r != 0;
				break;
			}
			bad += r != -ENOMEM || o || ev.obj || ev.rv || ev.reason || ev.message ||
			       l.items || l.rv || l.cont || strcmp(eb.msg, "out of memory") != 0;
		}
		snprintf(what, sizeof(what), "case %d: clean -ENOMEM at each of %lu allocations",
			 which, nth - 1);
		ok(bad == 0 && nth > 1, what);
		k8sobj_free(o);
		o = NULL;
		if (which >= 1 && which <= 3)
			k8sobj_event_clear(&ev);
		if (which == 4)
			k8sobj_list_clear(&l);
	}
}

int main(void)
{
	test_fixtures();
	test_node();
	test_node_variants();
	test_pod();
	test_pod_variants();
	test_namespace();
	test_eps();
	test_events();
	test_lists();
	test_malformed();
	test_limits();
	test_partial();
	test_faults();
	return tap_done();
}
