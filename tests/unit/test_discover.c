// SPDX-License-Identifier: MIT
/* deps: flow/discover.c io/k8s.c io/k8s_req.c io/k8s_pool.c io/tls.c io/ev.c io/atomic.c codec/http.c codec/http_body.c codec/json.c codec/json_dom.c codec/jsonw.c codec/kubeconfig.c codec/yaml.c codec/yaml_tree.c codec/b64.c core/apiurl.c core/cidr.c core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c base/buf.c base/err.c base/log.c base/mem.c base/util.c */
/* libs: -lmbedtls -lmbedx509 -lmbedcrypto */
/*
 * test_discover.c: the API server candidate list, built from files below a private host root
 * in a mkdtemp directory: preference order, kubelet kubeconfigs of each distribution (server
 * only), the cached endpoints file and its writer, dedupe, and broken sources skipped.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "base/err.h"
#include "base/mem.h"
#include "core/k8sobj.h"
#include "flow/discover.h"

static char top[64];

static void put(const char *rel, const char *text)
{
	char p[512], *s;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	for (s = strchr(p + strlen(top) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	if (!f || fputs(text, f) < 0)
		diag("cannot write %s", p);
	if (f)
		fclose(f);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static const char kubeadm[] =
	"apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
	"    certificate-authority-data: TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ==\n"
	"    server: https://10.0.0.10:6443\n  name: kubernetes\ncontexts:\n- context:\n"
	"    cluster: kubernetes\n    user: system:node:n1\n  name: ctx\ncurrent-context: ctx\n"
	"users:\n- name: system:node:n1\n  user:\n"
	"    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n"
	"    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n";

static const char k3s[] =
	"apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n"
	"    tls-server-name: kubernetes\n  name: local\ncontexts:\n- context:\n"
	"    cluster: local\n    user: node\n  name: local\ncurrent-context: local\nusers:\n"
	"- name: node\n  user:\n    client-certificate: /var/lib/rancher/k3s/agent/client.crt\n";

int main(void)
{
	struct discover_cfg cfg = { 0 };
	struct discover_cand *c = NULL;
	struct ebuf eb = { "" };
	char root[128], state[128];
	size_t n = 0;

	strcpy(top, "/tmp/virgil-discover-XXXXXX");
	if (!mkdtemp(top))
		return 1;
	snprintf(root, sizeof(root), "%s/host", top);
	snprintf(state, sizeof(state), "%s/state", top);
	mkdir(root, 0755);
	mkdir(state, 0755);
	cfg.host_root = root;
	cfg.state_dir = state;

	is_int(discover_candidates(&cfg, &c, &n, &eb), 0, "no sources: ok");
	is_int(n, 2, "only the two node-local balancers");
	if (n == 2) {
		is_str(c[0].origin, "Talos KubePrism", "KubePrism first");
		is_int(c[0].srv.port, 7445, "port 7445");
		is_int(c[1].srv.port, 6444, "then k3s/RKE2 6444");
		ok(c[0].source == DISCOVER_LOCAL, "source local");
	}
	mem_free(c);

	cfg.no_local = true;
	cfg.svc_host = "fd00::1";
	cfg.svc_port = "443";
	put("host/etc/kubernetes/kubelet.conf", kubeadm);
	put("host/var/lib/rancher/k3s/agent/kubelet.kubeconfig", k3s);
	put("host/var/lib/rancher/rke2/agent/kubelet.kubeconfig", "clusters: [this is not yaml\n");
	put("state/apiserver.json", "{\"endpoints\":[\"10.0.0.11:6443\",\"[fd00::11]:6443\","
				    "\"10.0.0.10:6443\",\"bad host!\",7]}\n");
	cfg.server = "https://api.example.com:8443";
	is_int(discover_candidates(&cfg, &c, &n, &eb), 0, "all sources");
	is_int(n, 6, "explicit, 2 cached (one duplicate merged), 2 kubelet, service");
	if (n == 6) {
		is_str(c[0].srv.host, "api.example.com", "explicit first");
		is_int(c[0].srv.port, 8443, "explicit port");
		ok(c[0].source == DISCOVER_EXPLICIT, "explicit source");
		is_str(c[1].srv.host, "10.0.0.11", "cached next");
		is_str(c[2].srv.host, "fd00::11", "cached v6, brackets stripped");
		is_str(c[3].srv.host, "10.0.0.10", "kubelet's server (cached duplicate merged there)");
		ok(c[3].source == DISCOVER_CACHED, "the duplicate keeps the more preferred source");
		is_str(c[4].srv.host, "127.0.0.1", "k3s kubelet server");
		is_str(c[4].srv.tls_name, "kubernetes", "tls-server-name honoured");
		ok(strstr(c[4].origin, "k3s/agent/kubelet.kubeconfig") != NULL, "origin names the file");
		is_str(c[5].srv.host, "fd00::1", "service env last");
		is_str(c[5].srv.tls_name, "fd00::1", "verified as the IP");
	}
	mem_free(c);
	cfg.server = "http://insecure:80";
	is_int(discover_candidates(&cfg, &c, &n, &eb), -EINVAL, "explicit plain http refused");
	ok(strstr(eb.msg, "https") != NULL, "with a reason");

	{
		struct k8sobj *o = NULL;
		static const char eps[] =
			"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"kubernetes\","
			"\"namespace\":\"default\"},\"addressType\":\"IPv4\",\"endpoints\":["
			"{\"addresses\":[\"10.0.0.21\"],\"conditions\":{\"ready\":true}},"
			"{\"addresses\":[\"10.0.0.22\"],\"conditions\":{\"ready\":false}},"
			"{\"addresses\":[\"10.0.0.23\"]}],"
			"\"ports\":[{\"name\":\"https\",\"port\":6443,\"protocol\":\"TCP\"}]}";

		is_int(k8sobj_parse(eps, strlen(eps), K8SOBJ_ENDPOINTSLICE, &o, &eb), 0, "slice");
		if (o) {
			is_int(discover_save(state, k8sobj_eps(o), &eb), 1, "saved");
			is_int(discover_save(state, k8sobj_eps(o), &eb), 0, "unchanged: not rewritten");
		}
		k8sobj_free(o);
		cfg.server = NULL;
		cfg.svc_host = NULL;
		{
			char kl[256];

			snprintf(kl, sizeof(kl), "%s/etc/kubernetes/kubelet.conf", root);
			unlink(kl);
		}
		is_int(discover_candidates(&cfg, &c, &n, &eb), 0, "after save");
		ok(n >= 2 && strcmp(c[0].srv.host, "10.0.0.21") == 0 &&
			   strcmp(c[1].srv.host, "10.0.0.23") == 0,
		   "ready endpoints cached in order, not-ready left out");
		mem_free(c);
	}
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ok(access(top, F_OK) != 0, "temp dir removed");
	return tap_done();
}
