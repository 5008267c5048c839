// SPDX-License-Identifier: MIT
/*
 * agent.c: virgild's wiring. Discovery picks an API server; one reflector per resource keeps
 * a cache; changes to Nodes schedule a reconcile pass (debounced) that programs routes, writes
 * the node state the CNI plugin reads, then, once, the conflist and the Node's
 * NetworkUnavailable=False. Connection failures that persist across reflectors re-run
 * discovery, so the agent fails over through the candidates (and the endpoints it cached).
 *
 * Everything runs on one thread in one poll loop; no callback blocks except for the brief
 * file writes of node state and conflist.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../codec/http.h"
#include "../codec/json.h"
#include "../codec/kubeconfig.h"
#include "../core/backoff.h"
#include "../core/cache.h"
#include "../core/cidr.h"
#include "../core/k8sobj.h"
#include "../io/atomic.h"
#include "../io/ev.h"
#include "../io/k8s.h"
#include "agent.h"
#include "discover.h"
#include "localsrc.h"
#include "noderoutes.h"
#include "podsock.h"
#include "policy.h"
#include "watch.h"

#define AGENT_PROBE_MS 3000
#define AGENT_DEBOUNCE_MS 50
/* consecutive connection failures (any reflector) before discovery runs again */
#define AGENT_FAILOVER_AFTER 3
#define CONFLIST_NAME "10-virgil.conflist"
#define NETWORK_NAME "virgil"
#define AGENT_SOCKET "agent.sock"
#define STATUS_NAME "status.json"
#define METRICS_NAME "metrics.prom"

enum { R_NODES, R_PODS, R_NAMESPACES, R_NETPOLS, R_APISERVER, R_COUNT };

static const struct watch_res resources[R_COUNT] = {
	[R_NODES] = { "nodes", K8SOBJ_NODE, "/api/v1/nodes", NULL, NULL },
	[R_PODS] = { "pods", K8SOBJ_POD, "/api/v1/pods", NULL, NULL },
	[R_NAMESPACES] = { "namespaces", K8SOBJ_NAMESPACE, "/api/v1/namespaces", NULL, NULL },
	[R_NETPOLS] = { "networkpolicies", K8SOBJ_NETPOL,
			"/apis/networking.k8s.io/v1/networkpolicies", NULL, NULL },
	[R_APISERVER] = { "apiserver-endpoints", K8SOBJ_ENDPOINTSLICE,
			  "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
			  "metadata.name=kubernetes", NULL },
};

struct agent {
	const struct agent_cfg *cfg;
	struct ev *ev;
	struct k8s_client *client;
	struct kubeconfig *kc;
	struct discover_cand *cands;
	size_t ncands;
	struct discover *disc;
	struct backoff disc_bo;
	uint64_t disc_timer;
	bool connected;
	unsigned conn_fails;
	struct cache *cache[R_COUNT];
	struct watch *w[R_COUNT];
	struct noderoutes *nr;
	struct policy *pol;
	struct podsock *sock;
	struct localsrc *src;
	uint64_t reconcile_timer;
	struct backoff sync_bo;
	bool conflist_written;
	bool status_patched;
	struct k8s_req *patch;
	uint64_t patch_timer;
	struct backoff patch_bo;
	bool warned_no_node, warned_no_cidrs;
	char self_uid[64];      /* our Node's uid: a change means it was deleted and re-created */
	uint64_t rng;
	int exit_code;
};

static uint32_t agent_rand(void *ctx)
{
	struct agent *a = ctx;

	/* xorshift64*: jitter only, seeded from getrandom() */
	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	return (uint32_t)((a->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static void start_discovery(struct agent *a);
static void schedule_reconcile(struct agent *a, uint64_t delay);

/* ---- node state, conflist, Node status ---------------------------------------------- */

static int write_node_state(struct agent *a, const struct k8sobj_node *n, uint32_t mtu)
{
	char path[PATH_MAX], s[CIDR_STRLEN];
	struct buf b = BUF_INIT;
	struct jw w;
	int i, r;

	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "podCIDRs");
	jw_arr_begin(&w);
	for (i = 0; i < 2; i++)
		if (n->pod_cidr[i].addr.family && cidr_format(&n->pod_cidr[i], s, sizeof(s)) == 0)
			jw_str(&w, s);
	jw_arr_end(&w);
	if (mtu)
		jw_ku64(&w, "mtu", mtu);
	jw_obj_end(&w);
	r = jw_finish(&w) ? -ENOMEM : buf_addc(&b, '\n');
	snprintf(path, sizeof(path), "%s/node.json", a->cfg->data_dir);
	if (!r)
		r = atomic_update(path, b.p, b.len, 0644);
	if (r < 0)
		log_warnx("cannot write %s: %s", path, strerror(-r));
	else if (r == 1)
		log_info("node state: %.*s -> %s", (int)(b.len - 1), b.p, path);
	buf_free(&b);
	return r < 0 ? r : 0;
}

static int write_conflist(struct agent *a)
{
	char path[PATH_MAX];
	struct buf b = BUF_INIT;
	struct jw w;
	int r;

	jw_init(&w, &b);
	jw_obj_begin(&w);
	/* 1.0.0 for today's runtimes; libcni >= 1.2 picks 1.1.0 from cniVersions */
	jw_kstr(&w, "cniVersion", "1.0.0");
	jw_key(&w, "cniVersions");
	jw_arr_begin(&w);
	jw_str(&w, "1.0.0");
	jw_str(&w, "1.1.0");
	jw_arr_end(&w);
	jw_kstr(&w, "name", NETWORK_NAME);
	jw_key(&w, "plugins");
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_kstr(&w, "type", "virgil");
	jw_kstr(&w, "dataDir", a->cfg->data_dir);
	if (a->sock) {
		char sock[PATH_MAX];

		snprintf(sock, sizeof(sock), "%s/%s", a->cfg->data_dir, AGENT_SOCKET);
		jw_kstr(&w, "agentSocket", sock);
	}
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	r = jw_finish(&w) ? -ENOMEM : buf_addc(&b, '\n');
	snprintf(path, sizeof(path), "%s/%s", a->cfg->cni_conf_dir, CONFLIST_NAME);
	if (!r)
		r = atomic_update(path, b.p, b.len, 0644);
	buf_free(&b);
	if (r < 0) {
		log_warnx("cannot write the CNI config %s: %s", path, strerror(-r));
		return r;
	}
	log_info("ready: %s %s", r ? "wrote" : "kept", path);
	a->conflist_written = true;
	return 0;
}

static void patch_status(struct agent *a);

static void patch_retry(struct ev *ev, uint64_t id, void *ctx)
{
	struct agent *a = ctx;

	a->patch_timer = 0;
	patch_status(a);
}

static int patch_head(void *ctx, const struct http_response *r)
{
	if (r->status / 100 != 2) {
		log_warnx("NetworkUnavailable=False: the API server answered HTTP %d", r->status);
		return -EPROTO;
	}
	return 0;
}

static int patch_body(void *ctx, const char *p, size_t n)
{
	return 0;
}

static void patch_done(void *ctx, int err, const char *why)
{
	struct agent *a = ctx;
	uint64_t delay;

	a->patch = NULL;
	if (err == 0) {
		a->status_patched = true;
		log_info("node %s: NetworkUnavailable=False", a->cfg->node_name);
		return;
	}
	delay = backoff_fail(&a->patch_bo, ev_now());
	log_debug("status patch failed (%s); retry in %llu ms", why ? why : strerror(-err),
		  (unsigned long long)delay);
	if (ev_timer_add(a->ev, delay, patch_retry, a, &a->patch_timer))
		a->patch_timer = 0;
}

static const struct k8s_req_ops patch_ops = {
	.head = patch_head,
	.body = patch_body,
	.done = patch_done,
};

/* Strategic merge keyed on "type": a merge patch would replace the whole conditions list. */
static void patch_status(struct agent *a)
{
	char now[32], path[512], body[512];
	struct k8s_req_opts o = {
		.method = "PATCH",
		.path = path,
		.content_type = "application/strategic-merge-patch+json",
		.body = body,
	};
	time_t t = time(NULL);
	struct tm tm;
	int n;

	if (a->status_patched || a->patch || !a->connected)
		return;
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", a->cfg->node_name);
	n = snprintf(body, sizeof(body),
		     "{\"status\":{\"conditions\":[{\"type\":\"NetworkUnavailable\","
		     "\"status\":\"False\",\"reason\":\"VirgilIsUp\",\"message\":\"Virgil is "
		     "running on this node\",\"lastTransitionTime\":\"%s\","
		     "\"lastHeartbeatTime\":\"%s\"}]}}",
		     now, now);
	o.body_len = (size_t)n;
	if (k8s_request(a->client, &o, &patch_ops, a, &a->patch))
		patch_done(a, -ENOMEM, "cannot start the request");
}

/* ---- reconcile ------------------------------------------------------------------------- */

static void reconcile(struct ev *ev, uint64_t id, void *ctx)
{
	struct agent *a = ctx;
	const struct k8sobj_node *self;
	struct noderoutes_stats st = { 0 };
	struct ebuf eb = { "" };
	int r;

	a->reconcile_timer = 0;
	if (!a->src && !watch_synced(a->w[R_NODES]))
		return;
	self = k8sobj_node(cache_get(a->cache[R_NODES], NULL, a->cfg->node_name));
	if (!self) {
		if (!a->warned_no_node && a->self_uid[0])
			log_warnx("node %s was deleted from the API; waiting for it to come back",
				  a->cfg->node_name);
		else if (!a->warned_no_node)
			log_warnx("node %s is not in the API (yet): set NODE_NAME to the Node's name",
				  a->cfg->node_name);
		a->warned_no_node = true;
		return;
	}
	a->warned_no_node = false;
	/* a re-registered Node starts without our condition: mark it again */
	if (strcmp(a->self_uid, self->obj.uid) != 0) {
		if (a->self_uid[0])
			log_info("node %s was re-created (uid %s)", a->cfg->node_name, self->obj.uid);
		snprintf(a->self_uid, sizeof(a->self_uid), "%s", self->obj.uid);
		a->status_patched = false;
	}
	/* noderoutes logs its own failures, once and again when they clear */
	r = noderoutes_sync(a->nr, a->cfg->node_name, a->cache[R_NODES], &st, &eb);
	if (r) {
		schedule_reconcile(a, backoff_fail(&a->sync_bo, ev_now()));
		log_debug("routes: %s; pass scheduled again", eb.msg[0] ? eb.msg : strerror(-r));
		/* no plan at all (a dump failed): nothing below can be trusted yet */
		if (!st.pod_mtu)
			return;
	} else {
		backoff_ok(&a->sync_bo, ev_now());
	}
	if (!self->pod_cidr[0].addr.family && !self->pod_cidr[1].addr.family) {
		if (!a->warned_no_cidrs)
			log_warnx("node %s has no spec.podCIDRs: is the controller-manager allocating "
				  "node CIDRs (--allocate-node-cidrs)?", a->cfg->node_name);
		a->warned_no_cidrs = true;
		return;
	}
	if (write_node_state(a, self, st.pod_mtu))
		return;
	if (!a->conflist_written && write_conflist(a))
		return;
	/* with a local source there is no API server to tell */
	if (!a->src)
		patch_status(a);
}

static void schedule_reconcile(struct agent *a, uint64_t delay)
{
	if (a->reconcile_timer)
		return;
	if (ev_timer_add(a->ev, delay, reconcile, a, &a->reconcile_timer))
		a->reconcile_timer = 0;
}

/* ---- reflector callbacks --------------------------------------------------------------- */

static void save_endpoints(struct agent *a)
{
	const struct k8sobj *o;
	struct ebuf eb = { "" };
	size_t pos;

	cache_for_each(a->cache[R_APISERVER], pos, o) {
		const struct k8sobj_eps *e = k8sobj_eps(o);

		if (!e || strcmp(o->ns, "default") != 0)
			continue;
		if (discover_save(a->cfg->data_dir, e, &eb) == 1)
			log_info("API server endpoints cached for the next start");
		else if (!ebuf_empty(&eb))
			log_warnx("%s", eb.msg);
	}
}

static bool policy_sources_synced(struct agent *a)
{
	return watch_synced(a->w[R_PODS]) && watch_synced(a->w[R_NAMESPACES]) &&
	       watch_synced(a->w[R_NETPOLS]);
}

static void on_changed(void *ctx, struct watch *w)
{
	struct agent *a = ctx;

	a->conn_fails = 0;
	if (w == a->w[R_NODES]) {
		schedule_reconcile(a, AGENT_DEBOUNCE_MS);
		policy_kick(a->pol);
	} else if (w == a->w[R_APISERVER]) {
		save_endpoints(a);
	}
	if (policy_sources_synced(a))
		policy_ready(a->pol);
}

static void on_failed(void *ctx, struct watch *w, int err, int status)
{
	struct agent *a = ctx;

	/* HTTP answers are the server's opinion; only unreachability is a reason to move */
	if (status || ++a->conn_fails < AGENT_FAILOVER_AFTER || a->disc)
		return;
	log_warnx("API server %s unreachable; looking for another",
		  k8s_client_server(a->client)->host);
	a->conn_fails = 0;
	start_discovery(a);
}

static const struct watch_ops watch_ops = {
	.synced = on_changed,
	.changed = on_changed,
	.failed = on_failed,
};

static int start_watches(struct agent *a)
{
	int i;

	for (i = 0; i < R_COUNT; i++) {
		if (a->w[i]) {
			watch_restart(a->w[i]);
			continue;
		}
		a->w[i] = watch_new(a->ev, a->client, &resources[i], a->cache[i], &watch_ops, a,
				    agent_rand, a);
		if (!a->w[i])
			return -ENOMEM;
		watch_start(a->w[i]);
	}
	return 0;
}

/* ---- local object source (virgild --source DIR) ---------------------------------------------- */

static void src_synced(void *ctx)
{
	struct agent *a = ctx;

	schedule_reconcile(a, 0);
	policy_ready(a->pol);
}

static void src_changed(void *ctx, enum k8sobj_kind kind)
{
	struct agent *a = ctx;

	if (kind == K8SOBJ_NODE)
		schedule_reconcile(a, AGENT_DEBOUNCE_MS);
	/* also for the generation alone: status.json reports it after the next sync */
	policy_kick(a->pol);
}

static uint64_t src_generation(void *ctx)
{
	struct agent *a = ctx;

	return a->src ? localsrc_generation(a->src) : 0;
}

static int start_source(struct agent *a)
{
	static const struct localsrc_ops ops = { .synced = src_synced, .changed = src_changed };
	struct cache *caches[K8SOBJ_NKINDS] = { 0 };
	struct ebuf eb = { "" };
	int r;

	caches[K8SOBJ_NODE] = a->cache[R_NODES];
	caches[K8SOBJ_POD] = a->cache[R_PODS];
	caches[K8SOBJ_NAMESPACE] = a->cache[R_NAMESPACES];
	caches[K8SOBJ_NETPOL] = a->cache[R_NETPOLS];
	r = localsrc_new(a->ev, a->cfg->source_dir, caches, &ops, a, &a->src, &eb);
	if (r)
		log_warnx("local source %s: %s", a->cfg->source_dir, eb.msg);
	else
		log_info("objects from the local source %s (no API server)", a->cfg->source_dir);
	return r;
}

/* ---- policy: cache callbacks and the plugin's socket ------------------------------------ */

static void obj_added(void *ctx, const struct k8sobj *o)
{
	struct agent *a = ctx;

	policy_note(a->pol, NULL, o);
}

static void obj_updated(void *ctx, const struct k8sobj *old, const struct k8sobj *o)
{
	struct agent *a = ctx;

	policy_note(a->pol, old, o);
}

static void obj_deleted(void *ctx, const struct k8sobj *o)
{
	struct agent *a = ctx;

	policy_note(a->pol, o, NULL);
}

static const struct cache_ops policy_cache_ops = {
	.on_add = obj_added,
	.on_update = obj_updated,
	.on_delete = obj_deleted,
};

static void on_request(void *ctx, struct podsock_conn *c, const struct podmsg_req *r)
{
	struct agent *a = ctx;

	policy_request(a->pol, c, r);
}

static int make_caches(struct agent *a)
{
	int i;

	for (i = 0; i < R_COUNT; i++) {
		bool pol = i == R_PODS || i == R_NAMESPACES || i == R_NETPOLS;

		a->cache[i] = cache_new(resources[i].kind, pol ? &policy_cache_ops : NULL, a,
					agent_rand(a));
		if (!a->cache[i])
			return -ENOMEM;
	}
	return 0;
}

static int start_policy(struct agent *a)
{
	char status[PATH_MAX], metrics[PATH_MAX], sock[PATH_MAX];
	struct policy_cfg pc = {
		.node = a->cfg->node_name,
		.status_path = status,
		.metrics_path = metrics,
		.masquerade = a->cfg->masquerade,
		.cluster = a->cfg->cluster,
		.ncluster = a->cfg->ncluster,
		.generation = a->cfg->source_dir ? src_generation : NULL,
		.gen_ctx = a,
	};
	struct policy_caches pcs = {
		.nodes = a->cache[R_NODES],
		.pods = a->cache[R_PODS],
		.namespaces = a->cache[R_NAMESPACES],
		.policies = a->cache[R_NETPOLS],
	};
	struct ebuf eb = { "" };
	int r;

	snprintf(status, sizeof(status), "%s/%s", a->cfg->data_dir, STATUS_NAME);
	snprintf(metrics, sizeof(metrics), "%s/%s", a->cfg->data_dir, METRICS_NAME);
	snprintf(sock, sizeof(sock), "%s/%s", a->cfg->data_dir, AGENT_SOCKET);
	r = policy_new(a->ev, &pc, &pcs, &a->pol, &eb);
	if (r) {
		log_warnx("network policy: %s", eb.msg);
		return r;
	}
	r = podsock_new(a->ev, sock, on_request, a, &a->sock, &eb);
	if (r)
		log_warnx("agent socket: %s", eb.msg);
	return r;
}

/* ---- discovery ------------------------------------------------------------------------- */

static void discovery_retry(struct ev *ev, uint64_t id, void *ctx)
{
	struct agent *a = ctx;

	a->disc_timer = 0;
	start_discovery(a);
}

static void discovered(void *ctx, int winner)
{
	struct agent *a = ctx;
	const struct discover_cand *c;
	uint64_t delay;

	a->disc = NULL;
	if (winner < 0) {
		delay = backoff_fail(&a->disc_bo, ev_now());
		log_warnx("no API server answered (%zu candidate(s)); trying again in %llu ms",
			  a->ncands, (unsigned long long)delay);
		if (ev_timer_add(a->ev, delay, discovery_retry, a, &a->disc_timer))
			a->disc_timer = 0;
		return;
	}
	c = &a->cands[winner];
	backoff_ok(&a->disc_bo, ev_now());
	log_info("API server %s:%u (from %s)", c->srv.host, c->srv.port, c->origin);
	k8s_client_set_server(a->client, &c->srv);
	a->connected = true;
	if (start_watches(a)) {
		log_warnx("cannot start the reflectors: out of memory");
		ev_stop(a->ev);
		a->exit_code = -ENOMEM;
		return;
	}
}

static void start_discovery(struct agent *a)
{
	const struct agent_cfg *cfg = a->cfg;
	struct discover_cfg dc = {
		.server = cfg->server,
		.tls_name = cfg->tls_name,
		.host_root = cfg->host_root,
		.state_dir = cfg->data_dir,
		.svc_host = cfg->svc_host,
		.svc_port = cfg->svc_port,
		.no_local = cfg->no_local,
	};
	struct ebuf eb = { "" };
	size_t i;

	mem_free(a->cands);
	a->cands = NULL;
	if (!dc.server && a->kc) {
		const struct kubeconfig_cluster *cl = NULL;
		const struct kubeconfig_user *u = NULL;

		if (kubeconfig_resolve(a->kc, NULL, &cl, &u, NULL) == 0 && cl) {
			dc.server = cl->server;
			dc.tls_name = cl->tls_server_name;
		}
	}
	if (discover_candidates(&dc, &a->cands, &a->ncands, &eb)) {
		log_warnx("discovery: %s", eb.msg);
		a->ncands = 0;
	}
	for (i = 0; i < a->ncands; i++)
		log_debug("discovery: candidate %s:%u (%s)", a->cands[i].srv.host,
			  a->cands[i].srv.port, a->cands[i].origin);
	a->disc = discover_probe(a->ev, a->client, a->cands, a->ncands, AGENT_PROBE_MS,
				 discovered, a);
	if (!a->disc)
		discovered(a, -1);
}

/* ---- set-up and teardown ----------------------------------------------------------------- */

static int load_kubeconfig(struct agent *a, struct k8s_auth *auth, struct ebuf *eb)
{
	const struct kubeconfig_cluster *cl = NULL;
	const struct kubeconfig_user *u = NULL;
	struct buf b = BUF_INIT;
	int r;

	r = read_file(a->cfg->kubeconfig, &b, 1 << 20);
	if (r) {
		ebuf_set(eb, "cannot read %s: %s", a->cfg->kubeconfig, strerror(-r));
		return r;
	}
	r = kubeconfig_parse(b.p, b.len, &a->kc, eb);
	explicit_bzero(b.p, b.len);
	buf_free(&b);
	if (!r)
		r = kubeconfig_resolve(a->kc, NULL, &cl, &u, eb);
	if (r) {
		ebuf_prefix(eb, "%s", a->cfg->kubeconfig);
		return r;
	}
	if (u && u->has_exec)
		log_warnx("%s: exec credential plugins are not supported; using what else is set",
			  a->cfg->kubeconfig);
	auth->ca = (struct tls_source){ .path = cl->ca_file, .data = cl->ca_data,
					.len = cl->ca_len };
	if (u) {
		auth->token = u->token;
		auth->token_file = u->token_file;
		auth->cert = (struct tls_source){ .path = u->cert_file, .data = u->cert_data,
						  .len = u->cert_len };
		auth->key = (struct tls_source){ .path = u->key_file, .data = u->key_data,
						 .len = u->key_len };
	}
	return 0;
}

static void on_signal(struct ev *ev, int signo, void *ctx)
{
	log_info("signal %d: shutting down (routes and CNI config stay in place)", signo);
	ev_stop(ev);
}

static int agent_setup(struct agent *a)
{
	struct k8s_auth auth = { .token_file = a->cfg->token_file,
				 .ca = { .path = a->cfg->ca_file } };
	struct noderoutes_cfg nc = { .mode = a->cfg->mode };
	struct ebuf eb = { "" };
	int r;

	a->ev = ev_new();
	if (!a->ev)
		return -ENOMEM;
	r = ev_signal(a->ev, SIGTERM, on_signal, a);
	if (!r)
		r = ev_signal(a->ev, SIGINT, on_signal, a);
	if (r)
		return r;
	if ((r = make_caches(a)) || (r = start_policy(a)))
		return r;
	if (a->cfg->source_dir)
		goto routes;
	if (a->cfg->kubeconfig && (r = load_kubeconfig(a, &auth, &eb))) {
		log_warnx("%s", eb.msg);
		return r;
	}
	r = k8s_client_new(a->ev, &auth, &a->client, &eb);
	if (r) {
		log_warnx("API client: %s", eb.msg);
		return r;
	}
routes:
	r = noderoutes_new(&nc, &a->nr, &eb);
	if (r)
		log_warnx("routes: %s", eb.msg);
	if (!r && (r = backoff_init(&a->disc_bo, NULL, agent_rand, a)) == 0 &&
	    (r = backoff_init(&a->sync_bo, NULL, agent_rand, a)) == 0)
		r = backoff_init(&a->patch_bo, NULL, agent_rand, a);
	return r;
}

static void agent_teardown(struct agent *a)
{
	int i;

	discover_cancel(a->disc);
	k8s_cancel(a->patch);
	localsrc_free(a->src);
	podsock_free(a->sock);
	policy_free(a->pol);
	for (i = 0; i < R_COUNT; i++) {
		watch_free(a->w[i]);
		cache_free(a->cache[i]);
	}
	noderoutes_free(a->nr);
	k8s_client_free(a->client);
	kubeconfig_free(a->kc);
	mem_free(a->cands);
	ev_free(a->ev);
}

int agent_run(const struct agent_cfg *cfg)
{
	struct agent a = { .cfg = cfg };
	int r;

	if (getrandom(&a.rng, sizeof(a.rng), 0) != (ssize_t)sizeof(a.rng) || !a.rng)
		a.rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL | 1;
	log_info("starting on node %s (data %s, CNI config %s)", cfg->node_name, cfg->data_dir,
		 cfg->cni_conf_dir);
	r = agent_setup(&a);
	if (r == 0) {
		if (cfg->source_dir)
			r = start_source(&a);
		else
			start_discovery(&a);
		if (r == 0)
			r = ev_run(a.ev);
		if (r == 0)
			r = a.exit_code;
	}
	agent_teardown(&a);
	return r;
}
