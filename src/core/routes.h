/* SPDX-License-Identifier: MIT */
/*
 * routes.h: the node route planner. From our node and every other Node it computes the
 * routes to the other nodes' pod ranges (direct via their InternalIP when on-link, VXLAN
 * otherwise or by configuration), with the neighbour and fdb entries VXLAN needs; then it
 * diffs that desired set against what the kernel holds and returns an ordered list of
 * operations. Pure: the reconcile flow dumps the kernel (proto RTNL_PROTO_VIRGIL routes, our
 * VXLAN devices' permanent neighbour and fdb entries), converts to these value types,
 * and applies the operations over rtnetlink. No syscalls; memory only via base/mem.h.
 * Files: routes.c (the planner), routes_diff.c (normalise and diff), routes_fmt.c (text).
 *
 * Families are indexed ROUTES_V4 / ROUTES_V6 in every per-family array; an address or prefix
 * with family 0 is absent. Addresses are network order (struct ipaddr); ifindexes and
 * metrics are host order.
 *
 * VXLAN conventions (flannel's, so the two can be compared on the wire):
 * - The VTEP gateway of a podCIDR: for IPv4 its network address (10.244.3.0 for
 *   10.244.3.0/24); for IPv6 the link-local address made from the peer's VTEP MAC
 *   (fe80::c56:a3ff:febe:1f7a for 0e:56:a3:be:1f:7a), because the kernel refuses a global
 *   onlink IPv6 gateway that another route (an aggregate via eth0, say) also covers, and
 *   link-local gateways are exempt from that check. The route is "podCIDR via gateway dev
 *   vxlan onlink", the neighbour entry maps the gateway to the peer's VTEP MAC, the fdb entry
 *   maps that MAC to the peer's underlay IP.
 * - The VTEP MAC is derived from the underlay IP, so no node needs to publish it through the
 *   API server (flannel writes an annotation; we write nothing): 0e:56 followed by
 *     IPv4 a.b.c.d:  a, b, c, d                     e.g. 10.0.0.7  → 0e:56:0a:00:00:07
 *     IPv6:          the low 32 bits, most significant byte first, of the 64-bit FNV-1a
 *                    hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of the
 *                    16 address bytes               e.g. fd00::1   → 0e:56:b8:bf:5b:8b
 *   0x0e has the locally-administered bit set and the multicast bit clear; 0x56 is 'V'.
 *   Every node sets its own VXLAN device's MAC with routes_vtep_mac() of its own InternalIP
 *   of the device's family. IPv6 MACs can collide (2^-32 per pair): the planner detects it.
 * - The underlay family is the podCIDR's family: IPv4 pods travel over the IPv4 InternalIPs,
 *   IPv6 pods over the IPv6 ones; vxlan_ifindex[] names the device for each (may be one).
 */
#ifndef VIRGIL_ROUTES_H
#define VIRGIL_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "cidr.h"

enum { ROUTES_V4, ROUTES_V6, ROUTES_NFAM };

#define ROUTES_TABLE_MAIN 254u          /* RT_TABLE_MAIN */
#define ROUTES_V6_METRIC 1024u          /* what the kernel stores for an IPv6 metric of 0 */
#define ROUTES_MAC_STRLEN 18
#define ROUTES_OP_STRLEN 192            /* enough for routes_op_format() of any op */

enum routes_mode {
	ROUTES_AUTO,    /* direct when the peer's InternalIP is on-link, else VXLAN */
	ROUTES_DIRECT,  /* always direct; a peer that is not on-link is skipped */
	ROUTES_VXLAN,   /* always VXLAN */
};

/* A prefix configured on one of our interfaces (from our addresses: 192.168.1.10/24 → the
 * prefix 192.168.1.0/24 on that ifindex). */
struct routes_prefix {
	struct cidr net;
	int ifindex;
};

struct routes_local {
	const char *name;                       /* our Node's name */
	struct ipaddr ip[ROUTES_NFAM];          /* our InternalIP per family */
	struct cidr pod[ROUTES_NFAM];           /* ours, optional: see ROUTES_SKIP_OVERLAP */
	const struct routes_prefix *onlink;
	size_t nonlink;
	enum routes_mode mode;
	int vxlan_ifindex[ROUTES_NFAM];         /* VXLAN device per underlay family, 0 = none */
	uint32_t table;                         /* 0 = main */
	uint32_t metric;                        /* route priority, 0 = kernel default */
};

/* Another Node as the API server describes it. At most one podCIDR per family (the API
 * server enforces it for spec.podCIDRs). */
struct routes_node {
	const char *name;
	struct cidr pod[ROUTES_NFAM];
	struct ipaddr ip[ROUTES_NFAM];          /* InternalIP per family */
};

/*
 * Kernel objects. Identity (what the diff matches on) and payload:
 *   route: (table, dst) — gw, oif, onlink, metric. An IPv4 route's kernel key also holds the
 *          metric, so a metric change is a replace plus a delete of the old metric's route.
 *   neigh: (ifindex, ip) — mac.
 *   fdb:   (ifindex, mac, dst) — nothing: a MAC may have several remotes in a VXLAN fdb
 *          (NLM_F_APPEND), so a changed remote is the add of the new one and the delete of
 *          the old one, never a replace.
 * Observed neighbour and fdb entries whose MAC lacks the 0e:56 prefix are not ours (the
 * all-zero default-destination entries, anything an operator added) and are never deleted.
 */
struct routes_route {
	struct cidr dst;
	struct ipaddr gw;                       /* family 0 = no gateway */
	int oif;
	uint32_t table;                         /* 0 is read as ROUTES_TABLE_MAIN */
	uint32_t metric;                        /* IPv6: 0 is read as ROUTES_V6_METRIC */
	bool onlink;
};

struct routes_neigh {
	int ifindex;
	struct ipaddr ip;
	uint8_t mac[6];
};

struct routes_fdb {
	int ifindex;
	uint8_t mac[6];
	struct ipaddr dst;
};

/* Three arrays from mem_alloc(), owned by the set; routes_set_free() frees them. */
struct routes_set {
	struct routes_route *route;
	size_t nroute;
	struct routes_neigh *neigh;
	size_t nneigh;
	struct routes_fdb *fdb;
	size_t nfdb;
};

enum routes_skip_reason {
	ROUTES_SKIP_NO_PODCIDR,         /* the node has no podCIDR (yet): node-wide, family 0 */
	ROUTES_SKIP_NO_INTERNAL_IP,     /* no InternalIP (family 0) or none of this family */
	ROUTES_SKIP_NO_LOCAL_IP,        /* we have no InternalIP of this family */
	ROUTES_SKIP_NOT_ONLINK,         /* mode DIRECT, and the peer is on none of our prefixes */
	ROUTES_SKIP_NO_VXLAN,           /* VXLAN needed, and no device for this family */
	ROUTES_SKIP_OVERLAP,            /* the podCIDR overlaps one of ours */
	ROUTES_SKIP_DUP_PODCIDR,        /* an earlier node (by name) has the same podCIDR */
	ROUTES_SKIP_VTEP_CLASH,         /* same VTEP MAC as an earlier node or ours, or our IP */
	ROUTES_SKIP_N
};

struct routes_skip {
	const char *node;               /* borrowed from the routes_node */
	uint8_t family;                 /* AF_INET, AF_INET6, or 0 for the whole node */
	enum routes_skip_reason why;
};

struct routes_plan {
	struct routes_set want;         /* normalised and sorted, as routes_diff() leaves it */
	struct routes_skip *skip;       /* ordered by node name */
	size_t nskip;
	size_t nskip_by[ROUTES_SKIP_N];
	size_t ndirect, nvxlan;         /* podCIDRs routed each way */
};

/*
 * Plan the routes to every node in nodes[0..n) except our own (matched by name): for each
 * podCIDR of a family we and the peer both have an InternalIP of, either
 *   direct: dst podCIDR via peer-IP dev <ifindex of the longest on-link prefix holding it>
 *   vxlan:  dst podCIDR via <VTEP gateway> dev vxlan_ifindex[fam] onlink, plus the neigh
 *           (VTEP gateway → VTEP MAC) and fdb (VTEP MAC → peer IP) entries on that device.
 * Anything not planned is in skip[]. Duplicate podCIDRs and VTEP MAC clashes keep the node
 * whose name sorts first, so the result does not depend on the order of nodes[]. The work is
 * O(n log n). Returns 0, -EINVAL (a node or self without a name), -ENOMEM. *out is
 * overwritten; free it with routes_plan_free() whatever the result. Node names are borrowed
 * and must outlive the plan.
 */
int routes_plan(const struct routes_local *self, const struct routes_node *nodes, size_t n,
		struct routes_plan *out) __must_check;
void routes_plan_free(struct routes_plan *p);

enum routes_op_kind { ROUTES_OP_ADD, ROUTES_OP_REPLACE, ROUTES_OP_DEL };
enum routes_obj { ROUTES_OBJ_ROUTE, ROUTES_OBJ_NEIGH, ROUTES_OBJ_FDB };

union routes_item {
	struct routes_route route;
	struct routes_neigh neigh;
	struct routes_fdb fdb;
};

/*
 * One netlink request. ADD and REPLACE both mean NLM_F_CREATE|NLM_F_REPLACE with item (so a
 * repeat is harmless); REPLACE says an entry with the same identity was there, old holds it.
 * DEL deletes item, as observed; ENOENT/ESRCH from the kernel count as success.
 */
struct routes_op {
	enum routes_op_kind kind;
	enum routes_obj obj;
	union routes_item item;
	union routes_item old;
};

/*
 * Operation order, and why:
 *   1. fdb adds  2. neigh adds/replaces  3. route adds/replaces
 *   4. route deletes  5. neigh deletes  6. fdb deletes
 * Everything new goes in before anything stale comes out, so a live node never loses its
 * route, not even while it moves between direct and VXLAN (the route is replaced in place,
 * and the old neigh/fdb entries go only after). Within the adds, the fdb and neighbour
 * entries precede the route that uses them, so the first packet routed into the tunnel
 * already finds its destination; the deletes undo in reverse. Within a step, ops are in
 * identity order.
 */
struct routes_ops {
	struct routes_op *v;
	size_t n;
	size_t nadd, nreplace, ndel;
};

/*
 * Diff want (the plan) against have (the kernel). Normalises (table 0 → main, IPv6 metric
 * 0 → 1024, host bits of dst cleared) and sorts both sets in place, so passing the same
 * set twice is fine, and diff(x, x) is empty. Duplicate identities in want: the first (in
 * sorted order) counts. Routes in have with the same (table, dst) but another metric than
 * the wanted one are deleted. O((n + m) log(n + m)). Returns 0 or -ENOMEM; *out is
 * overwritten; free it with routes_ops_free() whatever the result.
 */
int routes_diff(struct routes_set *want, struct routes_set *have,
		struct routes_ops *out) __must_check;
void routes_ops_free(struct routes_ops *o);

/* Sort and normalise one set as routes_diff() does. */
void routes_set_normalise(struct routes_set *s);
void routes_set_free(struct routes_set *s);

/* The VTEP gateway for a podCIDR (host bits cleared) behind the VTEP MAC mac (see above). */
void routes_vtep_gw(const struct cidr *pod, const uint8_t mac[6], struct ipaddr *gw);

/* The VTEP MAC for an underlay address (see above). 0, or -EINVAL for another family. */
int routes_vtep_mac(const struct ipaddr *underlay, uint8_t mac[6]) __must_check;
/* Has the 0e:56 prefix: an entry we manage. */
bool routes_is_vtep_mac(const uint8_t mac[6]);

/*
 * Text in ip(8) words, for logs and golden tests, e.g.
 *   "add route 10.244.1.0/24 via 192.168.1.2 dev 2"
 *   "replace route 10.244.2.0/24 via 10.244.2.0 dev 7 onlink table 100 metric 5"
 *   "add neigh 10.244.2.0 lladdr 0e:56:ac:10:00:02 dev 7"
 *   "del fdb 0e:56:ac:10:00:02 dst 172.16.0.2 dev 7"
 * (table and metric only when not the default). 0, or -ENOSPC when cap is too small.
 */
int routes_op_format(const struct routes_op *op, char *out, size_t cap) __must_check;
int routes_mac_format(const uint8_t mac[6], char *out, size_t cap) __must_check;
const char *routes_skip_str(enum routes_skip_reason why);

#endif
