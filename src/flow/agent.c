// SPDX-License-Identifier: MIT
/*
 * agent.c: virgild's wiring. Discovery picks an API server; one reflector per resource keeps
 * a cache; changes to Nodes schedule a reconcile pass (debounced) that programs routes, writes
 * the node state the CNI plugin reads, then, once, the conflist and the Node's
 * NetworkUnavailable=False. Connection failures that persist across reflectors re-run
 * discovery, so the agent fails over through the candidates (and the endpoints it cached).
 *
 * This file holds set-up, teardown and agent_run(): signals, the caches, the local object
 * source, the policy engine and the plugin's socket. agent_int.h says where the rest lives.
 *
 * Everything runs on one thread in one poll loop; no callback blocks except for the brief
 * file writes of node state and conflist.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../codec/kubeconfig.h"
#include "../core/backoff.h"
#include "../core/cache.h"
#include "../core/k8sobj.h"
#include "../io/ev.h"
#include "../io/k8s.h"
#include "agent.h"
#include "agent_int.h"
#include "discover.h"
#include "localsrc.h"
#include "noderoutes.h"
#include "podsock.h"
#include "policy.h"
#include "watch.h"

#define STATUS_NAME "status.json"
#define METRICS_NAME "metrics.prom"

const struct watch_res agent_resources[AGENT_R_COUNT] = {
	[AGENT_R_NODES] = { "nodes", K8SOBJ_NODE, "/api/v1/nodes", NULL, NULL },
	[AGENT_R_PODS] = { "pods", K8SOBJ_POD, "/api/v1/pods", NULL, NULL },
	[AGENT_R_NAMESPACES] = { "namespaces", K8SOBJ_NAMESPACE, "/api/v1/namespaces", NULL,
				 NULL },
	[AGENT_R_NETPOLS] = { "networkpolicies", K8SOBJ_NETPOL,
			      "/apis/networking.k8s.io/v1/networkpolicies", NULL, NULL },
	[AGENT_R_APISERVER] = { "apiserver-endpoints", K8SOBJ_ENDPOINTSLICE,
				"/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
				"metadata.name=kubernetes", NULL },
};

uint32_t agent_rand(void *ctx)
{
	struct agent *a = ctx;

	/* xorshift64*: jitter only, seeded from getrandom() */
	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	return (uint32_t)((a->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

/* ---- local object source (virgild --source DIR) ---------------------------------------------- */

static void src_synced(void *ctx)
{
	struct agent *a = ctx;

	agent_schedule_reconcile(a, 0);
	policy_ready(a->pol);
}

static void src_changed(void *ctx, enum k8sobj_kind kind)
{
	struct agent *a = ctx;

	if (kind == K8SOBJ_NODE)
		agent_schedule_reconcile(a, AGENT_DEBOUNCE_MS);
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

	caches[K8SOBJ_NODE] = a->cache[AGENT_R_NODES];
	caches[K8SOBJ_POD] = a->cache[AGENT_R_PODS];
	caches[K8SOBJ_NAMESPACE] = a->cache[AGENT_R_NAMESPACES];
	caches[K8SOBJ_NETPOL] = a->cache[AGENT_R_NETPOLS];
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

	for (i = 0; i < AGENT_R_COUNT; i++) {
		bool pol = i == AGENT_R_PODS || i == AGENT_R_NAMESPACES || i == AGENT_R_NETPOLS;

		a->cache[i] = cache_new(agent_resources[i].kind, pol ? &policy_cache_ops : NULL, a,
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
		.nodes = a->cache[AGENT_R_NODES],
		.pods = a->cache[AGENT_R_PODS],
		.namespaces = a->cache[AGENT_R_NAMESPACES],
		.policies = a->cache[AGENT_R_NETPOLS],
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

/* ---- set-up and teardown ----------------------------------------------------------------- */

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
	if (a->cfg->kubeconfig && (r = agent_load_kubeconfig(a, &auth, &eb))) {
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
	for (i = 0; i < AGENT_R_COUNT; i++) {
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
			agent_start_discovery(&a);
		if (r == 0)
			r = ev_run(a.ev);
		if (r == 0)
			r = a.exit_code;
	}
	agent_teardown(&a);
	return r;
}
