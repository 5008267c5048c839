// SPDX-License-Identifier: MIT
/*
 * lab_scen.c: the scenario `virgil lab up` runs without a folder of manifests, as one JSON
 * List: namespaces x, y and z, pods a, b and c in each (label pod=<name>) serving 80 and 81
 * on TCP and UDP, and in x a default-deny of ingress plus a rule letting y in on TCP/80. The
 * matrix it gives (docs/lab.md): into x, TCP/80 only from y; TCP/81 and UDP/80 from nobody
 * (a pod still reaches itself over lo); everything else open.
 */
#include "../base/buf.h"
#include "lab_int.h"

static const char *const namespaces[] = { "x", "y", "z" };
static const char *const pods[] = { "a", "b", "c" };

static int add_pod(struct buf *b, const char *ns, const char *name)
{
	static const char port[] =
		"{\"name\":\"serve-%d-%s\",\"containerPort\":%d,\"protocol\":\"%s\"}";
	int r, p;

	r = buf_printf(b, ",{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"namespace\":"
		       "\"%s\",\"name\":\"%s\",\"labels\":{\"pod\":\"%s\"}},\"spec\":{"
		       "\"containers\":[{\"name\":\"serve\",\"image\":\"virgil\",\"ports\":[",
		       ns, name, name);
	for (p = 80; p <= 81 && !r; p++) {
		r = buf_printf(b, port, p, "tcp", p, "TCP");
		if (!r)
			r = buf_addc(b, ',');
		if (!r)
			r = buf_printf(b, port, p, "udp", p, "UDP");
		if (!r && p == 80)
			r = buf_addc(b, ',');
	}
	return r ? r : buf_adds(b, "]}]}}");
}

static const char policies[] =
	",{\"kind\":\"NetworkPolicy\",\"apiVersion\":\"networking.k8s.io/v1\",\"metadata\":"
	"{\"namespace\":\"x\",\"name\":\"deny-all-ingress\"},\"spec\":{\"podSelector\":{},"
	"\"policyTypes\":[\"Ingress\"]}}"
	",{\"kind\":\"NetworkPolicy\",\"apiVersion\":\"networking.k8s.io/v1\",\"metadata\":"
	"{\"namespace\":\"x\",\"name\":\"allow-from-y\"},\"spec\":{\"podSelector\":{},"
	"\"policyTypes\":[\"Ingress\"],\"ingress\":[{\"from\":[{\"namespaceSelector\":"
	"{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"y\"}}}],\"ports\":[{\"protocol\":"
	"\"TCP\",\"port\":80}]}]}}";

int lab_scenario(struct buf *b)
{
	size_t i, j;
	int r;

	r = buf_adds(b, "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":[");
	for (i = 0; i < ARRAY_SIZE(namespaces) && !r; i++)
		r = buf_printf(b, "%s{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":"
			       "{\"name\":\"%s\"}}", i ? "," : "", namespaces[i]);
	for (i = 0; i < ARRAY_SIZE(namespaces) && !r; i++)
		for (j = 0; j < ARRAY_SIZE(pods) && !r; j++)
			r = add_pod(b, namespaces[i], pods[j]);
	if (!r)
		r = buf_adds(b, policies);
	return r ? r : buf_adds(b, "]}");
}
