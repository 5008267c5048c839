// SPDX-License-Identifier: MIT
/*
 * agent_discover.c: finding and keeping an API server. The kubeconfig, discovery over the
 * candidates (retried with backoff), the reflectors started once one answers, and their
 * failures: connection failures that persist across reflectors re-run discovery, so the agent
 * fails over through the candidates (and the endpoints it cached).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../codec/kubeconfig.h"
#include "../core/backoff.h"
#include "../core/cache.h"
#include "../core/k8sobj.h"
#include "../io/ev.h"
#include "../io/k8s.h"
#include "agent.h"
#include "agent_int.h"
#include "discover.h"
#include "policy.h"
#include "watch.h"

#define AGENT_PROBE_MS 3000
/* consecutive connection failures (any reflector) before discovery runs again */
#define AGENT_FAILOVER_AFTER 3

/* ---- reflector callbacks --------------------------------------------------------------- */

static void save_endpoints(struct agent *a)
{
	const struct k8sobj *o;
	struct ebuf eb = { "" };
	size_t pos;

	cache_for_each(a->cache[AGENT_R_APISERVER], pos, o) {
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
	return watch_synced(a->w[AGENT_R_PODS]) && watch_synced(a->w[AGENT_R_NAMESPACES]) &&
	       watch_synced(a->w[AGENT_R_NETPOLS]);
}

static void on_changed(void *ctx, struct watch *w)
{
	struct agent *a = ctx;

	a->conn_fails = 0;
	if (w == a->w[AGENT_R_NODES]) {
		agent_schedule_reconcile(a, AGENT_DEBOUNCE_MS);
		policy_kick(a->pol);
	} else if (w == a->w[AGENT_R_APISERVER]) {
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
	agent_start_discovery(a);
}

static const struct watch_ops watch_ops = {
	.synced = on_changed,
	.changed = on_changed,
	.failed = on_failed,
};

static int start_watches(struct agent *a)
{
	int i;

	for (i = 0; i < AGENT_R_COUNT; i++) {
		if (a->w[i]) {
			watch_restart(a->w[i]);
			continue;
		}
		a->w[i] = watch_new(a->ev, a->client, &agent_resources[i], a->cache[i], &watch_ops,
				    a, agent_rand, a);
		if (!a->w[i])
			return -ENOMEM;
		watch_start(a->w[i]);
	}
	return 0;
}

/* ---- discovery ------------------------------------------------------------------------- */

static void discovery_retry(struct ev *ev, uint64_t id, void *ctx)
{
	struct agent *a = ctx;

	a->disc_timer = 0;
	agent_start_discovery(a);
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

void agent_start_discovery(struct agent *a)
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

/* ---- kubeconfig ------------------------------------------------------------------------ */

int agent_load_kubeconfig(struct agent *a, struct k8s_auth *auth, struct ebuf *eb)
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
