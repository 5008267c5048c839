// SPDX-License-Identifier: MIT
/*
 * agent_node.c: the node's own outputs. A reconcile pass (debounced, backed off on failure)
 * programs routes, writes the node state the CNI plugin reads, then, once, the conflist and
 * the Node's NetworkUnavailable=False. No callback blocks except for the brief file writes of
 * node state and conflist.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../codec/http.h"
#include "../codec/json.h"
#include "../core/backoff.h"
#include "../core/cache.h"
#include "../core/cidr.h"
#include "../core/k8sobj.h"
#include "../io/atomic.h"
#include "../io/ev.h"
#include "../io/k8s.h"
#include "agent.h"
#include "agent_int.h"
#include "noderoutes.h"
#include "watch.h"

#define CONFLIST_NAME "10-virgil.conflist"
#define NETWORK_NAME "virgil"

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
	if (!a->src && !watch_synced(a->w[AGENT_R_NODES]))
		return;
	self = k8sobj_node(cache_get(a->cache[AGENT_R_NODES], NULL, a->cfg->node_name));
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
	r = noderoutes_sync(a->nr, a->cfg->node_name, a->cache[AGENT_R_NODES], &st, &eb);
	if (r) {
		agent_schedule_reconcile(a, backoff_fail(&a->sync_bo, ev_now()));
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

void agent_schedule_reconcile(struct agent *a, uint64_t delay)
{
	if (a->reconcile_timer)
		return;
	if (ev_timer_add(a->ev, delay, reconcile, a, &a->reconcile_timer))
		a->reconcile_timer = 0;
}
