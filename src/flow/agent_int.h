/* SPDX-License-Identifier: MIT */
/*
 * agent_int.h: private to virgild's wiring (src/flow/agent*.c). The agent context, the table of
 * watched resources, and the jobs the files split between them:
 *   agent.c           set-up, teardown and agent_run(); signals; the caches, the local object
 *                     source and the policy engine with the plugin's socket
 *   agent_node.c      the node's own outputs: node state, conflist, NetworkUnavailable=False;
 *                     the debounced reconcile pass that produces them
 *   agent_discover.c  kubeconfig, discovery and its retries, the reflectors and the failover
 *                     that re-runs discovery when they cannot reach the API server
 * Everything runs on one thread in one poll loop (ev).
 */
#ifndef VIRGIL_AGENT_INT_H
#define VIRGIL_AGENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "../core/backoff.h"
#include "watch.h"

struct agent_cfg;
struct cache;
struct discover;
struct discover_cand;
struct ebuf;
struct ev;
struct k8s_auth;
struct k8s_client;
struct k8s_req;
struct kubeconfig;
struct localsrc;
struct noderoutes;
struct podsock;
struct policy;

#define AGENT_DEBOUNCE_MS 50
#define AGENT_SOCKET "agent.sock"

enum agent_res {
	AGENT_R_NODES,
	AGENT_R_PODS,
	AGENT_R_NAMESPACES,
	AGENT_R_NETPOLS,
	AGENT_R_APISERVER,
	AGENT_R_COUNT
};

/* One reflector and one cache per entry (agent.c). */
extern const struct watch_res agent_resources[AGENT_R_COUNT];

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
	struct cache *cache[AGENT_R_COUNT];
	struct watch *w[AGENT_R_COUNT];
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

/* agent.c: the jitter source for backoffs and caches; ctx is the struct agent. */
uint32_t agent_rand(void *ctx);

/* agent_node.c: run a reconcile pass after delay ms, unless one is already scheduled. */
void agent_schedule_reconcile(struct agent *a, uint64_t delay);

/* agent_discover.c: (re)pick an API server; the reflectors start once one answers. */
void agent_start_discovery(struct agent *a);
/* agent_discover.c: read cfg->kubeconfig into a->kc and auth (which points into a->kc). */
int agent_load_kubeconfig(struct agent *a, struct k8s_auth *auth, struct ebuf *eb) __must_check;

#endif
