// SPDX-License-Identifier: MIT
/* deps: codec/kubeconfig.c codec/yaml.c codec/yaml_tree.c codec/b64.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * test_kubeconfig.c: the kubeconfig reader. Real files in each distribution's layout (kubeadm
 * kubelet.conf and admin.conf, k3s.yaml and its agent kubelet.kubeconfig, RKE2, Talos, a
 * hand-edited kubectl config with several contexts, a token, exec and auth-provider users, a
 * JSON kubeconfig, Rancher's wrapped data), each also with CRLF line ends; the YAML features one
 * by one; malformed files with the exact message and position; context resolution; every
 * truncation of every fixture; single-byte mutations that must never put a secret into an
 * error; limits; and allocation failure at every point. Inputs sit against a guard page.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "base/err.h"
#include "base/mem.h"
#include "codec/kubeconfig.h"

#define CA_B64                                                                            \
	"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFR" \
	"REFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnlkbVZ5Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
#define CA_PEM                                                                  \
	"-----BEGIN CERTIFICATE-----\n"                                         \
	"MIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mtc2VydmVy\n" \
	"-----END CERTIFICATE-----\n"
#define CERT_B64                                                                          \
	"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lJT0paMUR6NUlibXN3Q2dZ" \
	"SUtvWkl6ajBFQXdJd0l6RWhNQjhHQTFVRUF3d1lhek56Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
#define CERT_PEM                                                                \
	"-----BEGIN CERTIFICATE-----\n"                                         \
	"MIIBkTCCATegAwIBAgIIOJZ1Dz5IbmswCgYIKoZIzj0EAwIwIzEhMB8GA1UEAwwYazNz\n" \
	"-----END CERTIFICATE-----\n"
#define KEY_B64                                                                           \
	"LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSURzM2NyM3RLRVltYXRlcmlhbERvTm90" \
	"TGVha0FBQUFBQUFBb0FvR0NDcUdTTTQ5QXdFSG9VUURRZ0FFCi0tLS0tRU5EIEVDIFBSSVZBVEUgS0VZLS0t" \
	"LS0K"
#define KEY_PEM                                                                 \
	"-----BEGIN EC PRIVATE KEY-----\n"                                      \
	"MHcCAQEEIDs3cr3tKEYmaterialDoNotLeakAAAAAAAAoAoGCCqGSM49AwEHoUQDQgAE\n" \
	"-----END EC PRIVATE KEY-----\n"
#define TOKEN "s3cr3t-T0KEN-9f8e7d6c5b4a"

/* What must never reach an error message: the token, the key, and the key's base64. */
static const char *const secrets[] = { "s3cr3t", "3cr3t-T0K", "M3RLRVltYXRlcmlh",
				       "materialDoNot" };

/* ---- fixtures: the files under tests/fuzz/seeds/kubeconfig ----------------------------- */

static const char kubeadm_kubelet[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: " CA_B64 "\n"
	"    server: https://10.0.0.10:6443\n"
	"  name: kubernetes\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: kubernetes\n"
	"    user: system:node:node-1\n"
	"  name: system:node:node-1@kubernetes\n"
	"current-context: system:node:node-1@kubernetes\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: system:node:node-1\n"
	"  user:\n"
	"    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n"
	"    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n";

static const char kubeadm_admin[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: " CA_B64 "\n"
	"    server: https://cp.example.com:6443\n"
	"  name: kubernetes\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: kubernetes\n"
	"    user: kubernetes-admin\n"
	"  name: kubernetes-admin@kubernetes\n"
	"current-context: kubernetes-admin@kubernetes\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: kubernetes-admin\n"
	"  user:\n"
	"    client-certificate-data: " CERT_B64 "\n"
	"    client-key-data: " KEY_B64 "\n";

static const char k3s_yaml[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: " CA_B64 "\n"
	"    server: https://127.0.0.1:6443\n"
	"  name: default\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: default\n"
	"    user: default\n"
	"  name: default\n"
	"current-context: default\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: default\n"
	"  user:\n"
	"    client-certificate-data: " CERT_B64 "\n"
	"    client-key-data: " KEY_B64 "\n";

static const char k3s_kubelet[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    server: https://127.0.0.1:6444\n"
	"    certificate-authority: /var/lib/rancher/k3s/agent/server-ca.crt\n"
	"  name: local\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: local\n"
	"    namespace: default\n"
	"    user: user\n"
	"  name: Default\n"
	"current-context: Default\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: user\n"
	"  user:\n"
	"    client-certificate: /var/lib/rancher/k3s/agent/client-kubelet.crt\n"
	"    client-key: /var/lib/rancher/k3s/agent/client-kubelet.key\n";

static const char rke2_kubelet[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    server: https://127.0.0.1:6444\n"
	"    certificate-authority: /var/lib/rancher/rke2/agent/server-ca.crt\n"
	"  name: local\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: local\n"
	"    namespace: default\n"
	"    user: user\n"
	"  name: Default\n"
	"current-context: Default\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: user\n"
	"  user:\n"
	"    client-certificate: /var/lib/rancher/rke2/agent/client-kubelet.crt\n"
	"    client-key: /var/lib/rancher/rke2/agent/client-kubelet.key\n";

static const char talos_kubelet[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"clusters:\n"
	"    - name: local\n"
	"      cluster:\n"
	"        server: https://localhost:7445\n"
	"        certificate-authority-data: " CA_B64 "\n"
	"users:\n"
	"    - name: kubelet\n"
	"      user:\n"
	"        client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n"
	"        client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n"
	"contexts:\n"
	"    - context:\n"
	"        cluster: local\n"
	"        user: kubelet\n"
	"      name: kubelet@local\n"
	"current-context: kubelet@local\n";

static const char kubectl_multi[] =
	"# ~/.kube/config, edited by hand after kubectl wrote it\n"
	"apiVersion: v1\n"
	"kind: Config\n"
	"preferences:\n"
	"  colors: true\n"
	"current-context: \"prod\"   # what kubectl uses\n"
	"clusters:\n"
	"- name: prod\n"
	"  cluster:\n"
	"    server: \"https://[fd00::10]:6443\"\n"
	"    certificate-authority: ca/prod.crt\n"
	"    tls-server-name: api.prod.internal\n"
	"    proxy-url: socks5://127.0.0.1:1080\n"
	"    extensions:\n"
	"    - name: client.authentication.k8s.io/exec\n"
	"      extension:\n"
	"        audience: 'it''s fine'\n"
	"- name: 'lab'\n"
	"  cluster:\n"
	"    server: https://192.168.56.10:6443\n"
	"    insecure-skip-tls-verify: true\n"
	"- name: eks\n"
	"  cluster: {server: \"https://ABC.gr7.eu-west-1.eks.amazonaws.com\", certificate-authori"
	"ty: /etc/eks.crt}\n"
	"contexts:\n"
	"- name: prod\n"
	"  context:\n"
	"    cluster: prod\n"
	"    user: \"ci-bot\"\n"
	"    namespace: kube-system\n"
	"- name: lab\n"
	"  context: {cluster: lab, user: lab-admin}\n"
	"- name: eks\n"
	"  context:\n"
	"    cluster: eks\n"
	"    user: eks-user\n"
	"- name: anonymous\n"
	"  context:\n"
	"    cluster: lab\n"
	"users:\n"
	"- name: ci-bot\n"
	"  user:\n"
	"    token: s3cr3t-T0KEN-9f8e7d6c5b4a\n"
	"- name: lab-admin\n"
	"  user:\n"
	"    tokenFile: /var/run/secrets/lab/token\n"
	"    username: admin     # ignored\n"
	"    password: hunter2   # ignored\n"
	"- name: eks-user\n"
	"  user:\n"
	"    exec:\n"
	"      apiVersion: client.authentication.k8s.io/v1beta1\n"
	"      command: aws\n"
	"      args: [\"eks\", \"get-token\", \"--cluster-name\", ABC]\n"
	"      env:\n"
	"      - name: AWS_PROFILE\n"
	"        value: prod\n"
	"      interactiveMode: IfAvailable\n"
	"      provideClusterInfo: false\n"
	"- name: oidc\n"
	"  user:\n"
	"    auth-provider:\n"
	"      name: oidc\n"
	"      config:\n"
	"        idp-issuer-url: https://dex.example.com\n"
	"        refresh-token: \"abc\"\n";

static const char json_config[] =
	"{\n"
	"  \"apiVersion\": \"v1\",\n"
	"  \"kind\": \"Config\",\n"
	"  \"clusters\": [\n"
	"    {\"name\": \"json\", \"cluster\": {\"server\": \"https://10.1.2.3:6443\", \"certific"
	"ate-authority\": \"/etc/ca.pem\", \"insecure-skip-tls-verify\": false}}\n"
	"  ],\n"
	"  \"users\": [\n"
	"    {\"name\": \"json\", \"user\": {\"token\": \"s3cr3t-T0KEN-9f8e7d6c5b4a\", \"exec\": "
	"null}}\n"
	"  ],\n"
	"  \"contexts\": [\n"
	"    {\"name\": \"json\", \"context\": {\"cluster\": \"json\", \"user\": \"json\", \"name"
	"space\": \"kube-\\u0073ystem\"}}\n"
	"  ],\n"
	"  \"current-context\": \"json\",\n"
	"  \"preferences\": {}\n"
	"}\n";

static const char rancher_wrapped[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"clusters:\n"
	"- name: \"downstream\"\n"
	"  cluster:\n"
	"    server: \"https://rancher.example.com/k8s/clusters/c-m-abcdef\"\n"
	"    certificate-authority-data: \"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0"
	"F3SUJBZ0lC\\\n"
	"      QURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnlkbVZ5Ci0t\\\n"
	"      LS0tRU5EIENFUlRJRklDQVRFLS0tLS0K\"\n"
	"- name: folded\n"
	"  cluster:\n"
	"    server: https://folded.example.com\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3"
	"SUJBZ0lC\n"
	"      QURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnlkbVZ5Ci0t\n"
	"      LS0tRU5EIENFUlRJRklDQVRFLS0tLS0K\n"
	"- name: literal\n"
	"  cluster:\n"
	"    server: https://literal.example.com\n"
	"    certificate-authority-data: |\n"
	"      LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lC\n"
	"      QURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnlkbVZ5Ci0t\n"
	"      LS0tRU5EIENFUlRJRklDQVRFLS0tLS0K\n"
	"users:\n"
	"- name: \"u\"\n"
	"  user:\n"
	"    token: >-\n"
	"      s3cr3t-T0KEN-9f8e7d6c5b4a\n"
	"contexts:\n"
	"- name: downstream\n"
	"  context:\n"
	"    user: u\n"
	"    cluster: downstream\n"
	"current-context: downstream\n";

static const struct {
	const char *name, *text;
	bool secret;             /* holds the token or the client key */
} fixtures[] = {
	{ "kubeadm kubelet.conf", kubeadm_kubelet, false },
	{ "kubeadm admin.conf", kubeadm_admin, true },
	{ "k3s.yaml", k3s_yaml, true },
	{ "k3s agent kubelet.kubeconfig", k3s_kubelet, false },
	{ "RKE2 agent kubelet.kubeconfig", rke2_kubelet, false },
	{ "Talos kubeconfig-kubelet", talos_kubelet, false },
	{ "kubectl config, several contexts", kubectl_multi, true },
	{ "JSON kubeconfig", json_config, true },
	{ "Rancher wrapped data", rancher_wrapped, true },
};

/* ---- helpers --------------------------------------------------------------------------- */

static int parse_g(const char *s, size_t n, struct kubeconfig **kc, struct ebuf *eb)
{
	void *g = guard_copy(s, n);
	int r;

	if (eb)
		ebuf_clear(eb);
	r = kubeconfig_parse(g, n, kc, eb);
	guard_free(g, n);
	return r;
}

static struct kubeconfig *parse_ok(const char *s, const char *what)
{
	struct kubeconfig *kc = NULL;
	struct ebuf eb;
	int r = parse_g(s, strlen(s), &kc, &eb);

	if (!ok(r == 0 && kc, what))
		diag("%d: %s", r, eb.msg);
	return kc;
}

/* The same text with every "\n" turned into "\r\n". */
static char *to_crlf(const char *s)
{
	size_t n = strlen(s), i, k = 0;
	char *d = malloc(2 * n + 1);

	if (!d)
		abort();
	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			d[k++] = '\r';
		d[k++] = s[i];
	}
	d[k] = '\0';
	return d;
}

static bool data_is(const unsigned char *d, size_t n, const char *pem)
{
	if (!pem)
		return !d && !n;
	return d && n == strlen(pem) && !memcmp(d, pem, n) && d[n] == '\0';
}

static bool has_secret(const char *msg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(secrets); i++) {
		if (strstr(msg, secrets[i]))
			return true;
	}
	return false;
}

/* ---- real files ------------------------------------------------------------------------ */

struct expect {
	const char *context;     /* resolve this one (NULL: the default) */
	size_t nclusters, nusers, ncontexts;
	const char *current;
	const char *cluster, *server, *ca_file, *ca_pem, *tls_name, *proxy;
	bool insecure;
	const char *user, *token, *token_file, *cert_file, *key_file, *cert_pem, *key_pem;
	bool exec;
};

#define KUBELET_PEM "/var/lib/kubelet/pki/kubelet-client-current.pem"

static const struct expect expects[] = {
	{ NULL, 1, 1, 1, "system:node:node-1@kubernetes", "kubernetes", "https://10.0.0.10:6443",
	  NULL, CA_PEM, NULL, NULL, false, "system:node:node-1", NULL, NULL, KUBELET_PEM,
	  KUBELET_PEM, NULL, NULL, false },
	{ NULL, 1, 1, 1, "kubernetes-admin@kubernetes", "kubernetes", "https://cp.example.com:6443",
	  NULL, CA_PEM, NULL, NULL, false, "kubernetes-admin", NULL, NULL, NULL, NULL, CERT_PEM,
	  KEY_PEM, false },
	{ NULL, 1, 1, 1, "default", "default", "https://127.0.0.1:6443", NULL, CA_PEM, NULL, NULL,
	  false, "default", NULL, NULL, NULL, NULL, CERT_PEM, KEY_PEM, false },
	{ NULL, 1, 1, 1, "Default", "local", "https://127.0.0.1:6444",
	  "/var/lib/rancher/k3s/agent/server-ca.crt", NULL, NULL, NULL, false, "user", NULL, NULL,
	  "/var/lib/rancher/k3s/agent/client-kubelet.crt",
	  "/var/lib/rancher/k3s/agent/client-kubelet.key", NULL, NULL, false },
	{ NULL, 1, 1, 1, "Default", "local", "https://127.0.0.1:6444",
	  "/var/lib/rancher/rke2/agent/server-ca.crt", NULL, NULL, NULL, false, "user", NULL, NULL,
	  "/var/lib/rancher/rke2/agent/client-kubelet.crt",
	  "/var/lib/rancher/rke2/agent/client-kubelet.key", NULL, NULL, false },
	{ NULL, 1, 1, 1, "kubelet@local", "local", "https://localhost:7445", NULL, CA_PEM, NULL,
	  NULL, false, "kubelet", NULL, NULL, KUBELET_PEM, KUBELET_PEM, NULL, NULL, false },
	{ NULL, 3, 4, 4, "prod", "prod", "https://[fd00::10]:6443", "ca/prod.crt", NULL,
	  "api.prod.internal", "socks5://127.0.0.1:1080", false, "ci-bot", TOKEN, NULL, NULL, NULL,
	  NULL, NULL, false },
	{ NULL, 1, 1, 1, "json", "json", "https://10.1.2.3:6443", "/etc/ca.pem", NULL, NULL, NULL,
	  false, "json", TOKEN, NULL, NULL, NULL, NULL, NULL, false },
	{ NULL, 3, 1, 1, "downstream", "downstream",
	  "https://rancher.example.com/k8s/clusters/c-m-abcdef", NULL, CA_PEM, NULL, NULL, false,
	  "u", TOKEN, NULL, NULL, NULL, NULL, NULL, false },
	/* more contexts of the kubectl config (index 6) */
	{ "lab", 3, 4, 4, "prod", "lab", "https://192.168.56.10:6443", NULL, NULL, NULL, NULL, true,
	  "lab-admin", NULL, "/var/run/secrets/lab/token", NULL, NULL, NULL, NULL, false },
	{ "eks", 3, 4, 4, "prod", "eks", "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
	  "/etc/eks.crt", NULL, NULL, NULL, false, "eks-user", NULL, NULL, NULL, NULL, NULL, NULL,
	  true },
	{ "anonymous", 3, 4, 4, "prod", "lab", "https://192.168.56.10:6443", NULL, NULL, NULL, NULL,
	  true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false },
};

static void check_expect(const struct kubeconfig *kc, const struct expect *e)
{
	const struct kubeconfig_cluster *cl = NULL;
	const struct kubeconfig_user *u = NULL;
	struct ebuf eb;
	int r;

	ok(kc->nclusters == e->nclusters && kc->nusers == e->nusers &&
		   kc->ncontexts == e->ncontexts,
	   "entry counts");
	is_str(kc->current_context, e->current, "current-context");
	r = kubeconfig_resolve(kc, e->context, &cl, &u, &eb);
	if (!ok(r == 0 && cl, "resolves")) {
		diag("%d: %s", r, eb.msg);
		return;
	}
	is_str(cl->name, e->cluster, "cluster name");
	is_str(cl->server, e->server, "server");
	is_str(cl->ca_file, e->ca_file, "certificate-authority");
	ok(data_is(cl->ca_data, cl->ca_len, e->ca_pem), "certificate-authority-data decoded");
	is_str(cl->tls_server_name, e->tls_name, "tls-server-name");
	is_str(cl->proxy_url, e->proxy, "proxy-url");
	is_int(cl->insecure, e->insecure, "insecure-skip-tls-verify");
	is_str(u ? u->name : NULL, e->user, "user name");
	if (!u)
		return;
	is_str(u->token, e->token, "token");
	is_str(u->token_file, e->token_file, "tokenFile");
	is_str(u->cert_file, e->cert_file, "client-certificate");
	is_str(u->key_file, e->key_file, "client-key");
	ok(data_is(u->cert_data, u->cert_len, e->cert_pem), "client-certificate-data decoded");
	ok(data_is(u->key_data, u->key_len, e->key_pem), "client-key-data decoded");
	is_int(u->has_exec, e->exec, "exec plugin reported");
}

static void test_fixtures(void)
{
	struct kubeconfig *kc;
	char *crlf;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(expects); i++) {
		const char *text = fixtures[i < ARRAY_SIZE(fixtures) ? i : 6].text;

		diag("fixture %s %s", fixtures[i < ARRAY_SIZE(fixtures) ? i : 6].name,
		     expects[i].context ? expects[i].context : "");
		kc = parse_ok(text, "parses");
		if (kc)
			check_expect(kc, &expects[i]);
		kubeconfig_free(kc);
		crlf = to_crlf(text);
		kc = parse_ok(crlf, "parses with CRLF line ends");
		if (kc)
			check_expect(kc, &expects[i]);
		kubeconfig_free(kc);
		free(crlf);
	}
}

static void test_kubectl_details(void)
{
	struct kubeconfig *kc = parse_ok(kubectl_multi, "kubectl config");

	if (!kc)
		return;
	is_str(kc->contexts[0].ns, "kube-system", "context namespace");
	is_str(kc->contexts[3].user, NULL, "context without a user");
	ok(kc->users[3].has_exec && !kc->users[3].token, "auth-provider counts as a plugin");
	is_str(kc->clusters[1].name, "lab", "single-quoted name");
	kubeconfig_free(kc);
	kc = parse_ok(json_config, "JSON config");
	if (kc)
		is_str(kc->contexts[0].ns, "kube-system", "JSON \\u escape");
	kubeconfig_free(kc);
}

/* ---- YAML features, seen through current-context --------------------------------------- */

static const struct {
	const char *doc, *want; /* want NULL: unset */
} scalars[] = {
	{ "current-context: plain value\n", "plain value" },
	{ "current-context: x", "x" },
	{ "current-context:\tx\n", "x" },
	{ "current-context  : x\n", "x" },
	{ "\"current-context\": x\n", "x" },
	{ "'current-context' : x\n", "x" },
	{ "current-context: abc # comment\n", "abc" },
	{ "current-context: a#b\n", "a#b" },
	{ "current-context: https://x:6443/a?b=c#frag\n", "https://x:6443/a?b=c#frag" },
	{ "current-context: system:node:n1\n", "system:node:n1" },
	{ "current-context: -x\n", "-x" },
	{ "current-context: 0123\n", "0123" },
	{ "current-context: true\n", "true" },
	{ "current-context: ctx-\xc3\xbc\n", "ctx-\xc3\xbc" },
	{ "current-context: 'it''s # not a comment'\n", "it's # not a comment" },
	{ "current-context: \"a\\\"b\\\\c\\/d\\ e\\te\"\n", "a\"b\\c/d e\te" },
	{ "current-context: \"\\u00e9\\x41\\U0001F600\\N\\_\\L\\P\\e\\a\\b\\v\\f\\r\\n\"\n",
	  "\xc3\xa9" "A\xf0\x9f\x98\x80\xc2\x85\xc2\xa0\xe2\x80\xa8\xe2\x80\xa9\x1b\a\b\v\f\r\n" },
	{ "current-context: \"C:\\\\Users\\\\k\"\n", "C:\\Users\\k" },
	{ "current-context: \"a: b\"\n", "a: b" },
	{ "current-context: one\n  two\n\n  three\n", "one two\nthree" },
	{ "current-context: \"one \n  two\n\n  three\"\n", "one two\nthree" },
	{ "current-context: \"ab\\\n   cd\"\n", "abcd" },
	{ "current-context: \"ab \\\n   cd\"\n", "ab cd" },
	{ "current-context: 'a\n  b'\n", "a b" },
	{ "current-context: \"a\r\n  b\"\r\n", "a b" },
	{ "current-context: |\n  line1\n  line2\n\n", "line1\nline2\n" },
	{ "current-context: |-\n  a\n   b\n", "a\n b" },
	{ "current-context: |+\n  a\n\n\nkind: Config\n", "a\n\n\n" },
	{ "current-context: >\n  a\n  b\n\n  c\n", "a b\nc\n" },
	{ "current-context: >-\n  a\n    b\n  c\n", "a\n  b\nc" },
	{ "current-context: |2-\n    x\n", "  x" },
	{ "current-context: | # c\n  x\n", "x\n" },
	{ "current-context: |\n\n  x\n", "\nx\n" },
	{ "current-context: |\nkind: Config\n", NULL },
	{ "current-context: ~\n", NULL },
	{ "current-context: null\n", NULL },
	{ "current-context: NULL\n", NULL },
	{ "current-context:\n", NULL },
	{ "current-context: ''\n", NULL },
	{ "current-context: \"null\"\n", "null" },
	{ "\xef\xbb\xbf" "current-context: x\n", "x" },
	{ "---\ncurrent-context: x\n...\n# trailing\n", "x" },
	{ "# c\n--- # c\ncurrent-context: x\n", "x" },
	{ "  current-context: x\n  kind: Config\n", "x" },
	{ "# c\n\t# tab before a comment is fine\ncurrent-context: x # c\n   # c\n \t\n", "x" },
	{ "extensions:\n  - a: [1, {b: c}]\n    d: |\n      x\n    e:\n    - f\ncurrent-context: x\n",
	  "x" },
	{ "preferences: {}\nclusters: []\nusers: null\ncontexts:\ncurrent-context: x\n", "x" },
	{ "current-context:\n  x\n", "x" },
	{ "current-context:\n  # comment\n  x\n", "x" },
	{ "{\"current-context\": \"x\\u00e9\"}", "x\xc3\xa9" },
	{ "\n  {\"current-context\": \"x\"}\n", "x" },
	{ "{current-context: x, kind: Config}", "x" },
	{ "{\"kind\": \"x\",\n \"current-context\": tru}\n", "tru" },
	{ "{\"current-context\": null}", NULL },
	{ "", NULL },
	{ "# only a comment\n", NULL },
	{ "---\n", NULL },
	{ "~\n", NULL },
};

static void test_scalars(void)
{
	struct kubeconfig *kc;
	struct ebuf eb;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(scalars); i++) {
		kc = NULL;
		r = parse_g(scalars[i].doc, strlen(scalars[i].doc), &kc, &eb);
		if (!ok(r == 0, "scalar document parses"))
			diag("case %zu: %s", i, eb.msg);
		else
			is_str(kc->current_context, scalars[i].want, "scalar value");
		kubeconfig_free(kc);
	}
}

/* ---- malformed ------------------------------------------------------------------------- */

static const struct {
	const char *doc;
	int rc;
	const char *msg;
} errors[] = {
	{ "clusters:\n\t- name: a\n", -EINVAL,
	  "line 2:1: clusters: tab in indentation (YAML indents with spaces only)" },
	{ "clusters:\n- name: a\n  cluster:\n  \tserver: x\n", -EINVAL,
	  "line 4:3: clusters[0].cluster: tab in indentation (YAML indents with spaces only)" },
	{ "current-context: a: b\n", -EINVAL,
	  "line 1:18: current-context: a mapping cannot start on the line of its key" },
	{ "clusters: - a\n", -EINVAL,
	  "line 1:11: clusters: a sequence cannot start on the line of its key" },
	{ "current-context: \"abc\n", -EINVAL, "line 1:18: current-context: quoted string not closed" },
	{ "current-context: 'abc\n  def\nkind: x\n", -EINVAL,
	  "line 1:18: current-context: quoted string not closed before a less indented line" },
	{ "clusters:\n- name: a\n   cluster: {}\n", -EINVAL,
	  "line 3:11: clusters[0].name: ': ' inside a plain value (bad indentation, or quote it)" },
	{ "current-context: one\n  two # c\n  kind: x\n", -EINVAL, "line 3:3: bad indentation" },
	{ "clusters:\n- name: a\n  cluster:\n   server: x\n  bad\n", -EINVAL,
	  "line 5:3: clusters[0]: expected 'key: value'" },
	{ "clusters:\n  - name: a\n  - name: b\n   x: y\n", -EINVAL,
	  "line 4:4: clusters: bad indentation" },
	{ "kind: a\n b: c\n", -EINVAL,
	  "line 2:3: kind: ': ' inside a plain value (bad indentation, or quote it)" },
	{ "kind:\n  b: c\n d: e\n", -EINVAL, "line 3:2: bad indentation" },
	{ "- a\nb: c\n", -EINVAL, "line 2:1: expected the end of the document" },
	{ "kind: [b, c\nd: e\n", -EINVAL, "line 1:7: kind: flow collection not closed" },
	{ "kind: [b, c", -EINVAL, "line 1:7: kind: flow collection not closed" },
	{ "kind: [b c: d]\n", -EINVAL, "line 1:11: kind: expected ',' or ']'" },
	{ "kind: [b,, c]\n", -EINVAL, "line 1:10: kind[1]: unexpected ','" },
	{ "kind: {[a]: b}\n", -EINVAL, "line 1:8: kind: complex mapping keys are not supported" },
	{ "kind: \"b\\qc\"\n", -EINVAL, "line 1:9: kind: invalid escape in a double-quoted string" },
	{ "kind: \"\\x4\"\n", -EINVAL, "line 1:8: kind: invalid escape in a double-quoted string" },
	{ "kind: \"\\0\"\n", -EINVAL, "line 1:8: kind: invalid escape in a double-quoted string" },
	{ "kind: \"\\x00\"\n", -EINVAL,
	  "line 1:8: kind: escape for a character that is not allowed" },
	{ "kind: \"\\ud800\"\n", -EINVAL,
	  "line 1:8: kind: escape for a character that is not allowed" },
	{ "kind: 'it''s' x\n", -EINVAL, "line 1:15: kind: unexpected text after the value" },
	{ "current-context: \"x\"y\n", -EINVAL,
	  "line 1:21: current-context: unexpected text after the value" },
	{ "kind: |x\n", -EINVAL, "line 1:8: kind: invalid block scalar header" },
	{ "kind: &x b\n", -EINVAL, "line 1:7: kind: anchors, aliases and tags are not supported" },
	{ "kind: *x\n", -EINVAL, "line 1:7: kind: anchors, aliases and tags are not supported" },
	{ "kind: !!str b\n", -EINVAL, "line 1:7: kind: anchors, aliases and tags are not supported" },
	{ "? kind\n", -EINVAL, "line 1:1: unexpected '?'" },
	{ "kind: @x\n", -EINVAL, "line 1:7: kind: unexpected '@'" },
	{ "secret-looking-key: &a b\n", -EINVAL,
	  "line 1:21: ?: anchors, aliases and tags are not supported" },
	{ "kind: a\n---\nkind: b\n", -EINVAL, "line 2:1: a second document ('---') is not supported" },
	{ "--- kind: a\n", -EINVAL, "line 1:5: content on a document marker line is not supported" },
	{ "kind: a\n...\nkind: b\n", -EINVAL, "line 3:1: content after the document end marker" },
	{ "kind: \xff\n", -EINVAL, "line 1:7: invalid UTF-8" },
	{ "kind: \xc0\xaf\n", -EINVAL, "line 1:7: invalid UTF-8" },
	{ "kind: \xed\xa0\x80\n", -EINVAL, "line 1:7: invalid UTF-8" },
	{ "kind: \xe2\x82\n", -EINVAL, "line 1:7: invalid UTF-8" },
	{ "kind: b\x01\n", -EINVAL, "line 1:8: control character 0x01" },
	{ "kind: b\x7f\n", -EINVAL, "line 1:8: control character 0x7f" },
	{ "kind: b\0\n", -EINVAL, NULL },
	{ "kind: b\rc\n", -EINVAL, "line 1:8: carriage return without a line feed" },
	{ "{\"clusters\": [}", -EINVAL, "line 1:15: unexpected '}', expected a value" },
	{ "{\n  \"kind\": \"x\",\n  \"a\": [1,}\n}", -EINVAL,
	  "line 3:11: unexpected '}', expected a value" },
	{ "{\"users\": 5}", -EINVAL, "users: expected a sequence" },
	{ "{\"current-context\": \"a\\u0000b\"}", -EINVAL,
	  "current-context: NUL character in a string" },
	{ "[a, b]\n", -EINVAL, "line 1:1: expected a mapping" },
	{ "\"a\"\n", -EINVAL, "line 1:1: expected a mapping" },
	/* schema */
	{ "clusters: abc\n", -EINVAL, "line 1:11: clusters: expected a sequence" },
	{ "clusters: {}\n", -EINVAL, "line 1:11: clusters: expected a sequence" },
	{ "clusters:\n- a\n", -EINVAL, "line 2:3: clusters[0]: expected a mapping" },
	{ "clusters:\n- name: a\n  cluster: [x]\n", -EINVAL,
	  "line 3:12: clusters[0].cluster: expected a mapping" },
	{ "clusters:\n- name: {a: b}\n", -EINVAL, "line 2:9: clusters[0].name: expected a string" },
	{ "users:\n- name: u\n  user:\n    token: [a]\n", -EINVAL,
	  "line 4:12: users[0].user.token: expected a string" },
	{ "users:\n- name: u\n  user:\n    client-key-data: abc\n", -EINVAL,
	  "line 4:22: users[0].user.client-key-data: invalid base64 at character 4 of the value" },
	{ "users:\n- name: u\n  user:\n    client-certificate-data: \"Zm9v!\"\n", -EINVAL,
	  "line 4:30: users[0].user.client-certificate-data: invalid base64 at character 5 of the "
	  "value" },
	{ "users:\n- name: u\n  user:\n    client-key-data: {a: b}\n", -EINVAL,
	  "line 4:22: users[0].user.client-key-data: expected a base64 string" },
	{ "current-context: a\ncurrent-context: b\n", -EINVAL,
	  "line 2:1: current-context: duplicate key" },
	{ "clusters:\n- name: a\n  name: b\n", -EINVAL, "line 3:3: clusters[0].name: duplicate key" },
	{ "clusters:\n- name: a\n- name: a\n", -EINVAL, "line 3:3: clusters[1]: same name as entry 0" },
	{ "contexts:\n- context: {}\n", -EINVAL, "line 2:3: contexts[0]: no name" },
	{ "contexts:\n- name: ''\n", -EINVAL, "line 2:3: contexts[0]: no name" },
	{ "clusters:\n- name: a\n  cluster:\n    insecure-skip-tls-verify: \"true\"\n", -EINVAL,
	  "line 4:31: clusters[0].cluster.insecure-skip-tls-verify: expected true or false" },
	{ "clusters:\n- name: a\n  cluster:\n    insecure-skip-tls-verify: 1\n", -EINVAL,
	  "line 4:31: clusters[0].cluster.insecure-skip-tls-verify: expected true or false" },
	{ "users:\n- name: u\n  user:\n    token: x\n    s3cr3t: [\n", -EINVAL,
	  "line 5:13: users[0].user.?: flow collection not closed" },
};

static void test_errors(void)
{
	struct kubeconfig *kc;
	struct ebuf eb;
	size_t i, n;
	int r;

	for (i = 0; i < ARRAY_SIZE(errors); i++) {
		kc = (struct kubeconfig *)&eb;
		n = strlen(errors[i].doc);
		if (!errors[i].msg)
			n += strlen(errors[i].doc + n + 1) + 1; /* a NUL inside */
		r = parse_g(errors[i].doc, n, &kc, &eb);
		if (r != errors[i].rc)
			diag("case %zu: %s", i, errors[i].doc);
		is_int(r, errors[i].rc, "refused");
		ok(kc == NULL, "no result on error");
		if (errors[i].msg)
			is_str(eb.msg, errors[i].msg, "exact message");
		else
			is_str(eb.msg, "line 1:8: control character 0x00", "NUL in the input");
		kubeconfig_free(kc);
	}
}

/* ---- resolve --------------------------------------------------------------------------- */

static void resolve_case(const char *doc, const char *context, int rc, const char *want,
			 const char *what)
{
	const struct kubeconfig_cluster *cl = (void *)1;
	const struct kubeconfig_user *u = (void *)1;
	struct kubeconfig *kc = parse_ok(doc, "resolve input parses");
	struct ebuf eb = { "" };
	char got[EBUF_SIZE];
	int r;

	if (!kc)
		return;
	r = kubeconfig_resolve(kc, context, &cl, &u, &eb);
	if (r == 0)
		snprintf(got, sizeof(got), "%s/%s", cl->name, u ? u->name : "-");
	else
		snprintf(got, sizeof(got), "%s", eb.msg);
	is_int(r, rc, what);
	is_str(got, want, what);
	if (r)
		ok(cl == (void *)1 && u == (void *)1, "outputs untouched on error");
	kubeconfig_free(kc);
}

#define TWO_CTX                                                                          \
	"clusters:\n- name: c1\n  cluster: {server: https://a}\n"                        \
	"- name: c2\n  cluster: {server: https://b}\n- name: noserver\n  cluster: {}\n" \
	"users:\n- name: u1\n  user: {token: t}\n"                                       \
	"contexts:\n- name: x1\n  context: {cluster: c1, user: u1}\n"                   \
	"- name: x2\n  context: {cluster: c2}\n"                                         \
	"- name: nocluster\n  context: {user: u1}\n"                                     \
	"- name: badcluster\n  context: {cluster: zz, user: u1}\n"                       \
	"- name: baduser\n  context: {cluster: c1, user: zz}\n"                          \
	"- name: ns\n  context: {cluster: noserver}\n"

static void test_resolve(void)
{
	const struct kubeconfig_cluster *cl;
	const struct kubeconfig_user *u;
	struct ebuf eb;

	resolve_case(TWO_CTX "current-context: x2\n", NULL, 0, "c2/-", "current-context");
	resolve_case(TWO_CTX "current-context: x2\n", "x1", 0, "c1/u1", "named context wins");
	resolve_case(TWO_CTX "current-context: x2\n", "", 0, "c2/-", "empty name: the default");
	resolve_case(TWO_CTX, NULL, -ENOENT, "no current-context, and 6 contexts to choose from",
		     "no current-context, several contexts");
	resolve_case(TWO_CTX "current-context: gone\n", NULL, -ENOENT,
		     "context \"gone\" not found", "current-context names nothing");
	resolve_case(TWO_CTX, "nope", -ENOENT, "context \"nope\" not found", "unknown context");
	resolve_case(TWO_CTX, "nocluster", -ENOENT, "context \"nocluster\" names no cluster",
		     "context without a cluster");
	resolve_case(TWO_CTX, "badcluster", -ENOENT,
		     "cluster \"zz\" of context \"badcluster\" not found", "missing cluster");
	resolve_case(TWO_CTX, "baduser", -ENOENT, "user \"zz\" of context \"baduser\" not found",
		     "missing user");
	resolve_case(TWO_CTX, "ns", -ENOENT, "cluster \"noserver\" has no server",
		     "cluster without a server");
	resolve_case(TWO_CTX, "bad\x01name\"", -ENOENT, "context \"bad?name\"\" not found",
		     "names are shown printable");
	resolve_case(TWO_CTX,
		     "0123456789012345678901234567890123456789012345678901234567890123456789",
		     -ENOENT,
		     "context \"012345678901234567890123456789012345678901234567890123456789"
		     "0123...\" not found",
		     "long names are cut");
	resolve_case("contexts:\n- name: only\n  context: {cluster: c}\n"
		     "clusters:\n- name: c\n  cluster: {server: https://c}\n",
		     NULL, 0, "c/-", "the only context");
	resolve_case("clusters:\n- name: c\n  cluster: {server: https://c}\n", NULL, 0, "c/-",
		     "no contexts: the only cluster, no user");
	resolve_case("clusters:\n- name: c\n  cluster: {server: https://c}\n", "c", -ENOENT,
		     "context \"c\" not found", "a named context must exist");
	resolve_case("clusters:\n- name: c\n  cluster: {server: https://c}\n"
		     "- name: d\n  cluster: {server: https://d}\n",
		     NULL, -ENOENT, "no contexts, and 2 clusters to choose from", "two clusters");
	resolve_case("", NULL, -ENOENT, "no contexts, and 0 clusters to choose from",
		     "empty kubeconfig");
	resolve_case("clusters:\n- name: c\n  cluster: {}\n", NULL, -ENOENT,
		     "cluster \"c\" has no server", "the only cluster has no server");
	is_int(kubeconfig_resolve(NULL, NULL, &cl, &u, &eb), -EINVAL, "NULL kubeconfig");
	kubeconfig_free(NULL);
	ok(1, "kubeconfig_free(NULL)");
}

/* ---- robustness ------------------------------------------------------------------------ */

/* Parse, and when that works resolve every context: nothing may crash or leak. */
static bool exercise(const char *p, size_t n, bool guard, struct ebuf *msgs, size_t *nmsgs)
{
	const struct kubeconfig_cluster *cl;
	const struct kubeconfig_user *u;
	struct kubeconfig *kc = NULL;
	size_t i;
	int r;

	*nmsgs = 0;
	if (guard) {
		r = parse_g(p, n, &kc, &msgs[0]);
	} else {
		ebuf_clear(&msgs[0]);
		r = kubeconfig_parse(p, n, &kc, &msgs[0]);
	}
	if (r) {
		*nmsgs = 1;
		return kc == NULL && !ebuf_empty(&msgs[0]) && (r == -EINVAL || r == -E2BIG);
	}
	if (kubeconfig_resolve(kc, NULL, &cl, &u, &msgs[0]))
		*nmsgs = 1;
	for (i = 0; i < kc->ncontexts && i < 8; i++) {
		if (kubeconfig_resolve(kc, kc->contexts[i].name, &cl, &u, &msgs[*nmsgs]))
			++*nmsgs;
	}
	kubeconfig_free(kc);
	return true;
}

static void test_truncation(void)
{
	struct ebuf msgs[9];
	size_t f, n, k, nm, bad, leaks;
	const char *text;
	char *crlf;
	int pass;

	for (f = 0; f < ARRAY_SIZE(fixtures); f++) {
		for (pass = 0; pass < 2; pass++) {
			crlf = pass ? to_crlf(fixtures[f].text) : NULL;
			text = pass ? crlf : fixtures[f].text;
			bad = leaks = 0;
			for (n = 0; n <= strlen(text); n++) {
				bad += !exercise(text, n, true, msgs, &nm);
				for (k = 0; k < nm; k++)
					leaks += has_secret(msgs[k].msg);
			}
			ok(bad == 0, pass ? "every CRLF truncation: a result or an error" :
					    "every truncation: a result or an error");
			ok(leaks == 0, "no truncation puts a secret in a message");
			free(crlf);
		}
	}
}

/* Every byte replaced by each character that changes YAML structure. */
static void test_mutations(void)
{
	static const char subst[] = ":\"'\t\n[{#-\\&\xff";
	struct ebuf msgs[9];
	size_t f, i, k, m, nm, bad, leaks, n;
	char *copy;

	for (f = 0; f < ARRAY_SIZE(fixtures); f++) {
		if (!fixtures[f].secret)
			continue;
		n = strlen(fixtures[f].text);
		copy = malloc(n);
		if (!copy)
			abort();
		bad = leaks = 0;
		for (i = 0; i < n; i++) {
			for (k = 0; k < sizeof(subst) - 1; k++) {
				memcpy(copy, fixtures[f].text, n);
				copy[i] = subst[k];
				bad += !exercise(copy, n, false, msgs, &nm);
				for (m = 0; m < nm; m++) {
					if (has_secret(msgs[m].msg) && leaks++ == 0)
						diag("leak at %zu/%zu: %s", i, k, msgs[m].msg);
				}
			}
		}
		diag("%s", fixtures[f].name);
		ok(bad == 0, "every one-byte mutation: a result or an error");
		ok(leaks == 0, "no mutation puts a secret in a message");
		free(copy);
	}
}

static void fault_case(const char *in, const char *what)
{
	struct kubeconfig *kc;
	unsigned long nth, calls;
	int bad = 0, r;

	for (nth = 1;; nth++) {
		kc = NULL;
		fault_reset(nth);
		r = parse_g(in, strlen(in), &kc, NULL);
		calls = fault_reset(0);
		kubeconfig_free(kc);
		if (calls < nth) {
			bad += r != 0;
			break;
		}
		bad += r != -ENOMEM || kc != NULL;
	}
	ok(bad == 0 && nth > 1, what);
	if (bad)
		diag("%d bad results over %lu runs", bad, nth);
}

static void test_faults(void)
{
	size_t f;

	for (f = 0; f < ARRAY_SIZE(fixtures); f++)
		fault_case(fixtures[f].text, "allocation failure at every point: -ENOMEM, no leak");
	fault_case("{current-context: x, clusters: [{name: a, cluster: {server: \"s\"}}]}",
		   "allocation failure with the YAML retry after JSON");
}

/* ---- limits ---------------------------------------------------------------------------- */

static char *repeat(const char *head, const char *unit, size_t times, const char *tail)
{
	size_t hn = strlen(head), un = strlen(unit), tn = strlen(tail), i;
	char *s = malloc(hn + un * times + tn + 1), *p;

	if (!s)
		abort();
	memcpy(s, head, hn);
	for (i = 0, p = s + hn; i < times; i++, p += un)
		memcpy(p, unit, un);
	memcpy(p, tail, tn + 1);
	return s;
}

static void limit_case(char *doc, int rc, const char *msg, const char *what)
{
	struct kubeconfig *kc = NULL;
	struct ebuf eb;
	int r = parse_g(doc, strlen(doc), &kc, &eb);

	is_int(r, rc, what);
	if (msg)
		is_str(eb.msg, msg, what);
	kubeconfig_free(kc);
	free(doc);
}

static void test_limits(void)
{
	char *s, *t;
	size_t n;

	/* the root mapping is one level, so 63 flow levels fit and 64 do not */
	s = repeat("kind: ", "[", 63, "");
	t = repeat(s, "]", 63, "\n");
	free(s);
	limit_case(t, 0, NULL, "nesting of 64");
	s = repeat("kind: ", "[", 64, "");
	t = repeat(s, "]", 64, "\n");
	free(s);
	limit_case(t, -E2BIG, "line 1:70: kind[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
		     "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
		     "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nesting deeper "
		     "than 64", "nesting of 65");
	s = malloc(70 * 80);
	for (n = 0, *s = '\0'; n < 70; n++)
		sprintf(s + strlen(s), "%*sk:\n", (int)n, "");
	limit_case(s, -E2BIG, NULL, "block nesting of 70");
	s = repeat("", "{\"a\":", 70, "1");
	t = repeat(s, "}", 70, "");
	free(s);
	limit_case(t, -E2BIG, NULL, "JSON nesting of 70");
	limit_case(repeat("clusters:\n", "- name: c\n  cluster: {}\n", 4096, ""), -EINVAL,
		   "line 4:3: clusters[1]: same name as entry 0", "4096 entries with one name");
	s = malloc(4097 * 32 + 16);
	strcpy(s, "clusters:\n");
	for (n = 0; n < 4097; n++)
		sprintf(s + strlen(s), "- name: c%zu\n", n);
	limit_case(s, -E2BIG, "line 2:1: clusters: more than 4096 entries", "4097 entries");
	s = malloc(4096 * 32 + 16);
	strcpy(s, "clusters:\n");
	for (n = 0; n < 4096; n++)
		sprintf(s + strlen(s), "- name: c%zu\n", n);
	limit_case(s, 0, NULL, "4096 entries");
	limit_case(repeat("kind: [", "1,", KUBECONFIG_MAX_NODES, "1]\n"), -E2BIG, NULL,
		   "more values than the limit");
	s = repeat("", " ", KUBECONFIG_MAX_BYTES + 1, "");
	limit_case(s, -E2BIG, "input of 4194305 bytes is over the limit of 4194304",
		   "input over the size limit");
	limit_case(repeat("", " ", KUBECONFIG_MAX_BYTES, ""), 0, NULL, "input at the size limit");
}

int main(void)
{
	test_fixtures();
	test_kubectl_details();
	test_scalars();
	test_errors();
	test_resolve();
	test_limits();
	test_truncation();
	test_mutations();
	test_faults();
	return tap_done();
}
