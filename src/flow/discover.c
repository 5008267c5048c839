// SPDX-License-Identifier: MIT
/*
 * discover.c: API server candidates and their parallel probe (see discover.h). The kubelet's
 * kubeconfig is read for its server address only: the kubelet's own credentials may read
 * nodes and pods but not namespaces or NetworkPolicies, and borrowing them would make Virgil
 * act as the kubelet. Credentials always stay the agent's own.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../codec/http.h"
#include "../codec/json.h"
#include "../codec/kubeconfig.h"
#include "../core/apiurl.h"
#include "../core/cidr.h"
#include "../core/k8sobj.h"
#include "../io/atomic.h"
#include "../io/ev.h"
#include "../io/k8s.h"
#include "discover.h"

#define DISCOVER_MAX 16
#define DISCOVER_FILE "apiserver.json"
#define DISCOVER_FILE_MAX (64 * 1024)

static const char *const kubelet_paths[] = {
	"/etc/kubernetes/kubelet.conf",                     /* kubeadm */
	"/var/lib/rancher/k3s/agent/kubelet.kubeconfig",    /* k3s */
	"/var/lib/rancher/rke2/agent/kubelet.kubeconfig",   /* RKE2 */
	"/etc/kubernetes/kubeconfig-kubelet",               /* Talos */
};

static const struct {
	const char *host;
	uint16_t port;
	const char *what;
} local_balancers[] = {
	{ "127.0.0.1", 7445, "Talos KubePrism" },
	{ "127.0.0.1", 6444, "k3s/RKE2 local balancer" },
};

const char *discover_source_name(enum discover_source s)
{
	static const char *const names[] = { "explicit setting", "cached endpoints",
					     "kubelet kubeconfig", "node-local balancer",
					     "service environment" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

struct list {
	struct discover_cand *v;
	size_t n;
};

static void add(struct list *l, const struct apiurl *u, const char *tls_name,
		enum discover_source src, const char *origin)
{
	struct discover_cand *c;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].srv.port == u->port && strcmp(l->v[i].srv.host, u->host) == 0)
			return; /* the more preferred source already named it */
	if (l->n == DISCOVER_MAX)
		return;
	c = &l->v[l->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->srv.host, sizeof(c->srv.host), "%s", u->host);
	c->srv.port = u->port;
	snprintf(c->srv.tls_name, sizeof(c->srv.tls_name), "%s",
		 tls_name && *tls_name ? tls_name : u->host);
	c->source = src;
	snprintf(c->origin, sizeof(c->origin), "%s", origin);
}

static void from_cache(const struct discover_cfg *cfg, struct list *l)
{
	char path[PATH_MAX], origin[PATH_MAX + 32];
	struct buf b = BUF_INIT;
	struct json_doc *doc = NULL;
	const struct json *e;
	struct apiurl u;

	if (!cfg->state_dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, DISCOVER_FILE);
	if (read_file(path, &b, DISCOVER_FILE_MAX) || json_parse(b.p, b.len, NULL, &doc, NULL))
		goto out;
	snprintf(origin, sizeof(origin), "cached endpoints %s", path);
	json_for_each(e, json_get(json_root(doc), "endpoints"))
		if (json_is(e, JSON_STRING) && apiurl_parse_hostport(e->str, &u, NULL) == 0)
			add(l, &u, NULL, DISCOVER_CACHED, origin);
out:
	json_doc_free(doc);
	buf_free(&b);
}

static void from_kubelet(const struct discover_cfg *cfg, struct list *l)
{
	const char *root = cfg->host_root && strcmp(cfg->host_root, "/") ? cfg->host_root : "";
	char path[PATH_MAX], origin[PATH_MAX + 32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kubelet_paths); i++) {
		const struct kubeconfig_cluster *cl = NULL;
		const struct kubeconfig_user *user = NULL;
		struct kubeconfig *kc = NULL;
		struct buf b = BUF_INIT;
		struct ebuf eb = { "" };
		struct apiurl u;

		snprintf(path, sizeof(path), "%s%s", root, kubelet_paths[i]);
		if (read_file(path, &b, 1 << 20) == 0 &&
		    kubeconfig_parse(b.p, b.len, &kc, &eb) == 0 &&
		    kubeconfig_resolve(kc, NULL, &cl, &user, &eb) == 0 && cl && cl->server &&
		    apiurl_parse(cl->server, &u, &eb) == 0) {
			snprintf(origin, sizeof(origin), "kubelet kubeconfig %s", path);
			add(l, &u, cl->tls_server_name, DISCOVER_KUBELET, origin);
		} else if (!ebuf_empty(&eb)) {
			log_warnx("discovery: ignoring %s: %s", path, eb.msg);
		}
		kubeconfig_free(kc);
		buf_free(&b);
	}
}

int discover_candidates(const struct discover_cfg *cfg, struct discover_cand **out, size_t *n,
			struct ebuf *eb)
{
	struct list l = { .v = mem_calloc(DISCOVER_MAX, sizeof(*l.v)) };
	struct apiurl u;
	char hp[APIURL_HOST_MAX + 16];
	size_t i;

	if (!l.v)
		return -ENOMEM;
	if (cfg->server) {
		if (apiurl_parse(cfg->server, &u, eb)) {
			mem_free(l.v);
			return -EINVAL;
		}
		add(&l, &u, cfg->tls_name, DISCOVER_EXPLICIT, "explicit setting");
	}
	from_cache(cfg, &l);
	from_kubelet(cfg, &l);
	for (i = 0; !cfg->no_local && i < ARRAY_SIZE(local_balancers); i++) {
		snprintf(u.host, sizeof(u.host), "%s", local_balancers[i].host);
		u.port = local_balancers[i].port;
		add(&l, &u, NULL, DISCOVER_LOCAL, local_balancers[i].what);
	}
	if (cfg->svc_host && *cfg->svc_host) {
		snprintf(hp, sizeof(hp), strchr(cfg->svc_host, ':') ? "[%s]:%s" : "%s:%s",
			 cfg->svc_host, cfg->svc_port && *cfg->svc_port ? cfg->svc_port : "443");
		if (apiurl_parse_hostport(hp, &u, NULL) == 0)
			add(&l, &u, NULL, DISCOVER_SERVICE, "KUBERNETES_SERVICE_HOST");
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

/* ---- probing ------------------------------------------------------------------------- */

enum probe_state { P_PENDING, P_OK, P_FAILED };

struct discover;

struct probe {
	struct discover *d;
	struct k8s_req *req;
	enum probe_state st;
	bool answered;
};

struct discover {
	const struct discover_cand *cands;
	size_t n;
	struct probe p[DISCOVER_MAX];
	void (*done)(void *ctx, int winner);
	void *ctx;
	bool finished;
};

/* Report and go: the prober frees itself once its owner knows the outcome. */
static void finish(struct discover *d, int winner)
{
	size_t i;

	d->finished = true;
	for (i = 0; i < d->n; i++) {
		k8s_cancel(d->p[i].req);
		d->p[i].req = NULL;
	}
	d->done(d->ctx, winner);
	mem_free(d);
}

/* The most preferred candidate decides: answered → it wins; still pending → wait. */
static void evaluate(struct discover *d)
{
	size_t i;

	for (i = 0; i < d->n && !d->finished; i++) {
		if (d->p[i].st == P_PENDING)
			return;
		if (d->p[i].st == P_OK) {
			finish(d, (int)i);
			return;
		}
	}
	if (!d->finished)
		finish(d, -1);
}

static int probe_head(void *ctx, const struct http_response *r)
{
	((struct probe *)ctx)->answered = true;
	return 0;
}

static int probe_body(void *ctx, const char *p, size_t n)
{
	return 0;
}

static void probe_done(void *ctx, int err, const char *why)
{
	struct probe *p = ctx;
	struct discover *d = p->d;
	const struct discover_cand *c = &d->cands[p - d->p];

	p->req = NULL;
	p->st = p->answered ? P_OK : P_FAILED;
	if (!p->answered)
		log_debug("discovery: %s:%u (%s) did not answer: %s", c->srv.host, c->srv.port,
			  c->origin, why ? why : strerror(-err));
	evaluate(d);
}

static const struct k8s_req_ops probe_ops = {
	.head = probe_head,
	.body = probe_body,
	.done = probe_done,
};

struct discover *discover_probe(struct ev *ev, struct k8s_client *c,
				const struct discover_cand *cands, size_t n, uint32_t timeout_ms,
				void (*done)(void *ctx, int winner), void *ctx)
{
	struct discover *d = mem_calloc(1, sizeof(*d));
	size_t i, pending = 0;

	if (!d)
		return NULL;
	d->cands = cands;
	d->n = MIN(n, (size_t)DISCOVER_MAX);
	d->done = done;
	d->ctx = ctx;
	for (i = 0; i < d->n; i++) {
		struct k8s_req_opts o = {
			.method = "GET",
			.path = "/version",
			.connect_ms = timeout_ms,
			.idle_ms = timeout_ms,
			.max_body = 64 * 1024,
			.server = &cands[i].srv,
		};

		d->p[i].d = d;
		if (k8s_request(c, &o, &probe_ops, &d->p[i], &d->p[i].req))
			d->p[i].st = P_FAILED;
		else
			pending++;
	}
	/* nothing to wait for: say so now, rather than never */
	if (!pending) {
		mem_free(d);
		errno = EHOSTUNREACH;
		return NULL;
	}
	return d;
}

void discover_cancel(struct discover *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		k8s_cancel(d->p[i].req);
	mem_free(d);
}

/* ---- persisting the real endpoints --------------------------------------------------- */

static uint16_t https_port(const struct k8sobj_eps *eps)
{
	uint32_t i;

	for (i = 0; i < eps->nports; i++)
		if (strcmp(eps->ports[i].name, "https") == 0 && eps->ports[i].port)
			return eps->ports[i].port;
	return eps->nports && eps->ports[0].port ? eps->ports[0].port : 0;
}

static int render(const struct k8sobj_eps *eps, struct buf *b)
{
	struct jw w;
	struct apiurl u;
	char s[APIURL_HOST_MAX + 16];
	uint16_t port = https_port(eps);
	uint32_t i, j;

	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_key(&w, "endpoints");
	jw_arr_begin(&w);
	for (i = 0; port && i < eps->nendpoints; i++) {
		const struct k8sobj_endpoint *e = &eps->endpoints[i];

		if (!(e->cond & K8SOBJ_EP_READY))
			continue;
		for (j = 0; j < e->naddrs; j++) {
			if (ipaddr_format(&e->addrs[j], u.host, sizeof(u.host)))
				continue;
			u.port = port;
			if (apiurl_format(&u, s, sizeof(s)) == 0)
				jw_str(&w, s);
		}
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w) ? -ENOMEM : buf_addc(b, '\n');
}

int discover_save(const char *state_dir, const struct k8sobj_eps *eps, struct ebuf *eb)
{
	char path[PATH_MAX];
	struct buf now = BUF_INIT;
	int r;

	snprintf(path, sizeof(path), "%s/%s", state_dir, DISCOVER_FILE);
	r = render(eps, &now);
	if (!r)
		r = atomic_update(path, now.p, now.len, 0644);
	if (r < 0)
		ebuf_set(eb, "cannot write %s: %s", path, strerror(-r));
	buf_free(&now);
	return r;
}
