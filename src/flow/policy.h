/* SPDX-License-Identifier: MIT */
/*
 * policy.h: the agent's NetworkPolicy controller. Object changes (cache callbacks) go to the
 * incremental compiler (core/npcompile.h); a sync, scheduled for the next loop round so a
 * burst of changes costs one pass, compiles and hands the plan to the nf_tables reconciler
 * (npsync.h). The CNI plugin's ADD (podsock.h) registers the pod's addresses and is answered
 * only after a sync that put the pod's policy in the kernel: a pod meets its policy from its
 * first packet. A DEL is answered after the sync that removed the address, so a reused
 * address never inherits the old pod's permissions.
 *
 * Until every object source has synced once, nothing is programmed (a partial view would
 * open or close the wrong things); the kernel keeps what the previous agent left, and ADDs
 * wait. After each sync <dataDir>/status.json tells what is programmed and which policies
 * cannot be enforced as written (those also go to the log, once each).
 */
#ifndef VIRGIL_POLICY_H
#define VIRGIL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "../core/cidr.h"
#include "../core/k8sobj.h"

struct cache;
struct ebuf;
struct ev;
struct podmsg_req;
struct podsock_conn;
struct policy;

/* How long an ADD may wait for its pod to show up in the cache and be programmed. */
#define POLICY_ADD_WAIT_MS 8000

struct policy_cfg {
	const char *node;		/* this node's name */
	const char *status_path;	/* status.json, or NULL */
	const char *metrics_path;	/* metrics.prom (core/npmetrics.h), or NULL */
	bool masquerade;		/* masquerade pod traffic leaving the cluster ranges */
	const struct cidr *cluster;	/* extra destinations never masqueraded (copied) */
	size_t ncluster;
	/* the local object source's generation for status.json (lab), or NULL */
	uint64_t (*generation)(void *ctx);
	void *gen_ctx;
};

struct policy_caches {
	struct cache *nodes, *pods, *namespaces, *policies;
};

int policy_new(struct ev *ev, const struct policy_cfg *cfg, const struct policy_caches *c,
	       struct policy **out, struct ebuf *eb) __must_check;
/* Answers every waiting plugin request with an error; leaves the kernel as it is. */
void policy_free(struct policy *p);

/* Cache callback glue: an object of any kind changed (old NULL: added; new NULL: deleted). */
void policy_note(struct policy *p, const struct k8sobj *old, const struct k8sobj *new);
/* Every source has synced: programming may start. Idempotent. */
void policy_ready(struct policy *p);
/* Something else changed (Nodes, the source generation): sync soon. */
void policy_kick(struct policy *p);

/* A plugin request (podsock callback): answered with podsock_reply() later. */
void policy_request(struct policy *p, struct podsock_conn *c, const struct podmsg_req *r);

#endif
