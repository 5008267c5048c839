/* SPDX-License-Identifier: MIT */
/*
 * noderoutes_int.h: what noderoutes.c (set-up, planning, the VXLAN devices, the pass driver)
 * shares with noderoutes_read.c (the kernel's view: our devices, the uplinks, the routes,
 * neighbour and fdb entries we own), noderoutes_apply.c (sending the diff in batches) and
 * noderoutes_flush.c (the clean-up for tests). A pass lives in one struct noderoutes_pass,
 * allocated per noderoutes_sync() call and freed at its end.
 */
#ifndef VIRGIL_NODEROUTES_INT_H
#define VIRGIL_NODEROUTES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/if.h>

#include "../base/compat.h"
#include "../base/err.h"
#include "../core/routes.h"
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "noderoutes.h"

#define NODEROUTES_BATCH_OPS 512           /* messages per sendmsg */
#define NODEROUTES_OP_MAX_BYTES 192        /* an IPv6 route with every attribute is ~110 bytes */
#define NODEROUTES_BATCH_BYTES (NODEROUTES_BATCH_OPS * NODEROUTES_OP_MAX_BYTES)

struct noderoutes {
	enum noderoutes_mode mode;
	char name[ROUTES_NFAM][IFNAMSIZ];
	uint32_t vni;
	uint16_t port;
	struct nlsock s;
	char *batch;                    /* NODEROUTES_BATCH_BYTES */
	size_t idx[NODEROUTES_BATCH_OPS];          /* batch message → op index */
	char fail[EBUF_SIZE];           /* the failure last logged, "" while healthy */
	unsigned nfail;                 /* failed passes since the last success */
};

struct noderoutes_pass {
	struct noderoutes *nr;
	const struct k8sobj_node *self;
	struct noderoutes_stats *st;
	struct ebuf eb;                 /* the first failure */
	int err;
	struct rtnl_link link[ROUTES_NFAM];
	int vx[ROUTES_NFAM];            /* our VXLAN devices, 0 = absent */
	int planned[ROUTES_NFAM];       /* the vx[] the current plan was made with */
	int uplink[ROUTES_NFAM];
	uint32_t mtu[ROUTES_NFAM];      /* the uplinks' MTU, 0 = unknown */
	bool need[ROUTES_NFAM];
	struct routes_prefix *pfx;
	size_t npfx, cap_pfx;
	struct routes_node *nodes;
	size_t nnodes;
	struct routes_plan plan;
	struct routes_set have;
	size_t cap_route, cap_neigh, cap_fdb, mark;
	struct routes_ops ops;
};

/* ---- noderoutes.c ----------------------------------------------------------------------- */

/* Room for element n of an array of cap elements: the array (maybe moved), or NULL. */
void *noderoutes_grow(void *v, size_t *cap, size_t n, size_t size);
/* Record a best-effort failure: the first one is what the pass returns. */
void noderoutes_fail(struct noderoutes_pass *p, int err, const struct ebuf *why);

/* ---- noderoutes_read.c ------------------------------------------------------------------ */

/*
 * Each fills its part of p from the kernel; on failure it is recorded with noderoutes_fail()
 * and returned (-errno), and the pass must stop: it never acts on a partial view.
 */
/* Our VXLAN devices as they are (p->link, p->vx); another kind of link with our name: -EEXIST. */
int noderoutes_read_links(struct noderoutes_pass *p) __must_check;
/* On-link prefixes (p->pfx), the uplinks holding our InternalIPs and their MTUs. */
int noderoutes_read_uplinks(struct noderoutes_pass *p) __must_check;
/* What the kernel holds of ours (p->have): routes, neighbour and fdb entries on p->vx. */
int noderoutes_observe(struct noderoutes_pass *p) __must_check;

/* ---- noderoutes_apply.c ----------------------------------------------------------------- */

/* Send p->ops in batches, best effort; counts into p->st, failures via noderoutes_fail(). */
int noderoutes_apply(struct noderoutes_pass *p) __must_check;

#endif
