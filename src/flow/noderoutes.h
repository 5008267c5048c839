/* SPDX-License-Identifier: MIT */
/*
 * noderoutes.h: the agent's route reconciler. One pass reads the desired state from the Node
 * cache (core/routes.h plans it), the observed state from the kernel of the node namespace,
 * and applies the difference over rtnetlink; see docs/agent.md, "Routes between nodes".
 *
 * What a pass owns in the kernel, and so may change or delete:
 * - routes of protocol RTNL_PROTO_VIRGIL in the main table that have a gateway and lie outside
 *   our own podCIDRs. The CNI plugin's per-pod host routes carry the same protocol but have no
 *   gateway and lie inside our podCIDRs: a pass never touches them. Other protocols, never.
 * - the VXLAN devices named in the config (created on demand, recreated when their
 *   parameters are wrong, never deleted by a pass), and the neighbour and fdb entries with a
 *   VTEP MAC (0e:56:...) on them.
 *
 * The local view comes from the kernel each pass: the interfaces holding our InternalIPs are
 * the uplinks (VXLAN underlay, pod MTU), and every global-scope address outside lo and our
 * VXLAN devices gives an on-link prefix (a peer inside one is routed directly).
 *
 * The code: noderoutes.c (set-up, planning, the VXLAN devices, the pass), noderoutes_read.c
 * (the kernel's view), noderoutes_apply.c (the batches), noderoutes_flush.c.
 */
#ifndef VIRGIL_NODEROUTES_H
#define VIRGIL_NODEROUTES_H

#include <stdbool.h>
#include <stdint.h>
#include "../base/compat.h"

struct cache;
struct ebuf;

enum noderoutes_mode { NODEROUTES_AUTO, NODEROUTES_DIRECT, NODEROUTES_VXLAN };

/* Zero fields take the defaults; the struct is copied (names too) by noderoutes_new(). */
struct noderoutes_cfg {
	enum noderoutes_mode mode;
	const char *vxlan4;     /* device names, 1..15 bytes, default "virgil.vxlan" / */
	const char *vxlan6;     /* "virgil.vxlan6"; must differ */
	uint32_t vni;           /* 1..0xffffff, default 86 (0 means the default) */
	uint16_t port;          /* UDP port, host order, default 4789 */
};

#define NODEROUTES_VXLAN4 "virgil.vxlan"
#define NODEROUTES_VXLAN6 "virgil.vxlan6"
#define NODEROUTES_VNI 86u
#define NODEROUTES_MTU_DEFAULT 1500u    /* when the uplink is unknown */
#define NODEROUTES_VXLAN_OVERHEAD4 50u  /* outer IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14 */
#define NODEROUTES_VXLAN_OVERHEAD6 70u  /* outer IPv6 40 instead */

/*
 * What one pass did. added/replaced/deleted count kernel objects (routes, neighbour and fdb
 * entries) changed with success; failed those the kernel refused. A pass that found the
 * kernel as wanted leaves those four zero. The rest describes the input and the plan.
 */
struct noderoutes_stats {
	unsigned added, replaced, deleted;
	unsigned skipped;       /* (node, family) pairs the planner left out (routes_plan) */
	unsigned nodes;         /* Nodes in the cache besides our own */
	uint32_t pod_mtu;       /* MTU for pod interfaces: the least over our families of the
				 * uplink's MTU (1500 if unknown), less the VXLAN overhead
				 * for a family whose device is in use */
	bool vxlan_used;        /* a VXLAN device is in use (a peer needs it, or mode VXLAN) */
	unsigned failed;        /* changes the kernel refused (the first one's text is in eb) */
	unsigned direct, vxlan; /* podCIDRs routed each way */
	unsigned vxlan_nodes;   /* peers with at least one podCIDR over VXLAN */
};

struct noderoutes;

/*
 * Opens its rtnetlink socket in the current network namespace (the agent runs in the node's).
 * cfg may be NULL (all defaults). 0, -EINVAL (bad mode, name, VNI; reason in eb), -ENOMEM or
 * the socket's -errno. *out is NULL on failure.
 */
int noderoutes_new(const struct noderoutes_cfg *cfg, struct noderoutes **out,
		   struct ebuf *eb) __must_check;
/* NULL-safe. Leaves everything in the kernel as it is: routes survive an agent restart. */
void noderoutes_free(struct noderoutes *nr);

/*
 * One reconcile pass for node `self` from the Node cache. Idempotent: a second pass with the
 * same input applies nothing (stats all zero except the counts of the input). Never leaves a
 * live node without a route: adds and replaces go before deletes, as routes_diff orders them.
 *
 * Best effort once it has a complete view: a VXLAN device that cannot be made, or a change
 * the kernel refuses, is recorded and the pass goes on with the rest; the first such failure
 * is returned, its text (with the kernel's) in eb. Failures before that (our Node not in the
 * cache: -ENOENT; a dump that keeps being interrupted: -EAGAIN; -ENOMEM) change nothing in
 * the kernel beyond a VXLAN device. st (may be NULL) is filled once the plan is made, also
 * when the pass fails later. Logs one info line per pass that changed something, and a
 * failure once while it repeats (and a line with the count when it clears); an unchanged
 * pass logs nothing.
 */
int noderoutes_sync(struct noderoutes *nr, const char *self, const struct cache *nodes,
		    struct noderoutes_stats *st, struct ebuf *eb) __must_check;

/*
 * For tests and manual clean-up; the agent never calls it (routes must survive a restart).
 * Deletes our VXLAN devices (their routes, neighbour and fdb entries go with them), then
 * every route of our protocol in the main table whose destination is the podCIDR of a Node
 * in nodes. Best effort: returns the first failure, text in eb. *deleted (may be NULL)
 * counts the devices and routes removed.
 */
int noderoutes_flush(struct noderoutes *nr, const struct cache *nodes, unsigned *deleted,
		     struct ebuf *eb) __must_check;

#endif
