/* SPDX-License-Identifier: MIT */
/*
 * npplan.h: the compiled NetworkPolicy state of one node, as the kernel should hold it: a
 * value produced by the policy compiler (npcompile.h) and consumed by the nf_tables
 * reconciler (flow/npsync.h), the nft text renderer and the tests. Pure data: no I/O.
 *
 * Model. Every local, non-hostNetwork, non-finished pod selected by at least one policy with
 * a direction is "isolated" in that direction. Pods whose isolating policies and named-port
 * resolutions are identical share one GROUP per direction. A group is one nf_tables chain
 * plus sets per family, one per match shape (and per endPort range for pod peers), holding
 * every (peer, protocol, port) the union of its policies allows. Dispatch maps send a packet
 * to the group of its local pod: per packet, one conntrack test, one map lookup per direction
 * and at most four set lookups plus one per distinct endPort range of the group's pod peers,
 * whatever the number of pods and policies.
 *
 * The ruleset, in nft syntax (the renderer writes exactly this; npsync's bytecode must read
 * back through `nft list ruleset` as the same text):
 *
 *   table inet virgil {
 *     map ing4 { type ipv4_addr : verdict; }   # local pod address -> goto <ingress group>
 *     map ing6 { type ipv6_addr : verdict; }
 *     map egr4 { type ipv4_addr : verdict; }   # local pod address -> jump <egress group>
 *     map egr6 { type ipv6_addr : verdict; }
 *     set masq-src4 { type ipv4_addr; flags interval; }   # this node's pod CIDRs
 *     set masq-src6 { type ipv6_addr; flags interval; }
 *     set cluster4 { type ipv4_addr; flags interval; }    # destinations never masqueraded
 *     set cluster6 { type ipv6_addr; flags interval; }
 *     set self4 { type ipv4_addr . ipv4_addr; }   # a . a for each address in ing4/egr4
 *     set self6 { type ipv6_addr . ipv6_addr; }
 *     chain forward { type filter hook forward priority filter; policy accept;
 *       ct state established,related accept
 *       ip saddr . ip daddr @self4 accept        # a pod to itself (via its own Service)
 *       ip6 saddr . ip6 daddr @self6 accept
 *       ip saddr vmap @egr4
 *       ip6 saddr vmap @egr6
 *       ip daddr vmap @ing4
 *       ip6 daddr vmap @ing6
 *     }
 *     chain postrouting { type nat hook postrouting priority srcnat; policy accept;
 *       ip saddr @masq-src4 ip daddr != @cluster4 masquerade     (only when masquerade)
 *       ip6 saddr @masq-src6 ip6 daddr != @cluster6 masquerade
 *     }
 *     # one per group; G is the group's name, "in-<16 hex>" or "eg-<16 hex>"; P is the peer
 *     # field: saddr for ingress groups, daddr for egress groups; V is the allow verdict:
 *     # accept for ingress (goto: the packet is done), return for egress (jump: the
 *     # destination's ingress dispatch still runs).
 *     set G-x4 { type ipv4_addr . inet_proto . inet_service; }              NPPLAN_EXACT
 *     set G-p4 { type ipv4_addr . inet_proto; }                             NPPLAN_PROTO
 *     set G-a4 { type ipv4_addr; }                                          NPPLAN_ADDR
 *     set G-q4-L-H { type ipv4_addr . inet_proto; }  NPPLAN_PORTS, one per port range L-H
 *     set G-r4 { type ipv4_addr . inet_proto . inet_service; flags interval; }  NPPLAN_RANGE
 *     set G-x6, G-p6, G-a6, G-q6-L-H, G-r6 likewise with ipv6_addr
 *     # only the sets with elements exist, each with its rule below (npplan_gset_next()):
 *     # the kernel finds sets by name along a list, so every empty set would slow every
 *     # later set operation of a full sync; and a set equal to one of an earlier group (by
 *     # name) is not made again: the rule names that group's set (npplan_share())
 *     chain G {
 *       ip P . meta l4proto . th dport @G-x4 V
 *       ip P . meta l4proto @G-p4 V
 *       ip P @G-a4 V
 *       ip P . meta l4proto @G-q4-L-H th dport L-H V      (each port range, ascending)
 *       ip P . meta l4proto . th dport @G-r4 V
 *       ip6 P . meta l4proto . th dport @G-x6 V
 *       ip6 P . meta l4proto @G-p6 V
 *       ip6 P @G-a6 V
 *       ip6 P . meta l4proto @G-q6-L-H th dport L-H V
 *       ip6 P . meta l4proto . th dport @G-r6 V
 *       meta l4proto tcp reject with tcp reset
 *       reject with icmpx admin-prohibited
 *     }
 *     # an allow_all group has no sets and one rule: V
 *   }
 *
 * Elements are values, kept normalised (npplan_normalize): sorted by npplan_elem_cmp,
 * unique, and RANGE elements of one family pairwise disjoint (the kernel refuses overlapping
 * intervals), so two plans diff element by element.
 */
#ifndef VIRGIL_NPPLAN_H
#define VIRGIL_NPPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "cidr.h"

struct buf;
struct k8sobj_ipblock;

#define NPPLAN_TABLE "virgil"
/* "in-" or "eg-", 16 hex digits, NUL */
#define NPPLAN_NAMELEN 20

enum npplan_dir {
	NPPLAN_IN,	/* ingress: the local pod is the destination, the peer the source */
	NPPLAN_EG,	/* egress: the local pod is the source, the peer the destination */
};

/*
 * Pod peers (addresses that come and go with pods) live in hash sets only: the kernel adds
 * and removes a hash element in constant time, where removing one from an interval set
 * (pipapo) rewrites the whole set. So a pod peer with a port range (endPort) is a PORTS
 * element, in the set of its group, family and range, which the rule matches on the port;
 * RANGE holds the static boxes (ipBlocks, any peer).
 */
enum npplan_shape {
	NPPLAN_EXACT,	/* peer address . protocol . port       hash  set G-x4 / G-x6 */
	NPPLAN_PROTO,	/* peer address . protocol              hash  set G-p4 / G-p6 */
	NPPLAN_ADDR,	/* peer address (any protocol and port) hash  set G-a4 / G-a6 */
	NPPLAN_PORTS,	/* peer address . protocol, ports plo-phi: hash set G-q4-plo-phi */
	NPPLAN_RANGE,	/* [addr lo-hi] . [proto lo-hi] . [port lo-hi] interval set G-r4 / G-r6 */
	NPPLAN_NSHAPES,
};

/*
 * One allowed (peer, protocol, port) box. The family is lo.family (hi has the same).
 * EXACT: lo == hi, prlo == prhi, plo == phi. PROTO: lo == hi, prlo == prhi, ports 0.
 * ADDR: lo == hi, protocols and ports 0. PORTS: lo == hi, prlo == prhi, plo <= phi. RANGE: inclusive ranges in every field; "any
 * protocol" is 0-255 and "any port" 0-65535. Protocols are IP protocol numbers (TCP 6,
 * UDP 17, SCTP 132).
 */
struct npplan_elem {
	struct ipaddr lo, hi;
	uint16_t plo, phi;
	uint8_t prlo, prhi;
	uint8_t shape;		/* enum npplan_shape */
};

/*
 * Groups are immutable once built and shared by reference count: the compiler hands the
 * same pointer to every plan while a group's content is unchanged, so the reconciler skips
 * an unchanged group by comparing pointers, whatever its size.
 */
struct npplan_gcache;

struct npplan_group {
	char name[NPPLAN_NAMELEN];	/* chain name, also the prefix of its set names */
	uint8_t dir;			/* enum npplan_dir */
	bool allow_all;			/* some rule allows any peer on any port: elems empty */
	struct npplan_elem *elems;	/* normalised; owned */
	size_t nelems;
	uint32_t refs;
	uint64_t serial;		/* unique among the groups of this process */
	struct npplan_gcache *cache;	/* npplan_share()'s, filled on first use */
	size_t ncache;
};

/* A local pod address sent to a group: an element of ing4/ing6 or egr4/egr6. */
struct npplan_disp {
	struct ipaddr addr;
	uint8_t dir;			/* enum npplan_dir */
	size_t group;			/* index in npplan.groups */
};

/*
 * A policy that Virgil cannot enforce as written: the pods it selects (or, when even its
 * podSelector is unusable, every local pod of its namespace) stay isolated in the policy's
 * directions and get no allowance from it. Reported once per policy.
 */
struct npplan_problem {
	char *policy;			/* "ns/name" */
	char *why;
};

struct npplan {
	struct npplan_group **groups;	/* sorted by name (strcmp); one reference each */
	size_t ngroups;
	struct npplan_disp *disp;	/* sorted by (dir, addr family, addr); unique (dir, addr) */
	size_t ndisp;
	struct npplan_problem *problems;
	size_t nproblems;
	/* Masquerade: pod traffic from src_cidrs to anything outside cluster_cidrs. */
	bool masquerade;
	struct cidr *src_cidrs;		/* this node's pod CIDRs */
	size_t nsrc;
	struct cidr *cluster_cidrs;	/* every node's pod CIDRs plus configured ranges */
	size_t ncluster;
};

/* Frees everything the plan owns (dropping its group references) and zeroes it. NULL ok. */
void npplan_free(struct npplan *p);

/* A new group with refs 1, elems NULL; NULL on -ENOMEM. */
struct npplan_group *npplan_group_new(const char *name, enum npplan_dir dir);
struct npplan_group *npplan_group_ref(struct npplan_group *g);
/* Drop one reference; the last frees the group and its elements. NULL is fine. */
void npplan_group_unref(struct npplan_group *g);
/* Elements in both groups' order are equal (allow_all included). */
bool npplan_group_same(const struct npplan_group *a, const struct npplan_group *b);

/*
 * The local pod addresses of one family in the dispatch maps (either direction), ascending,
 * each once: the keys of self4/self6. disp is sorted by (direction, family, address), so they
 * are two sorted runs merged on the fly, with no allocation:
 *   for (it = npplan_self_begin(p, AF_INET); (a = npplan_self_peek(&it)); )
 *           use(a), npplan_self_skip(&it, a);
 */
struct npplan_self {
	const struct npplan_disp *d;
	size_t i, iend, j, jend;	/* the ingress run, the egress run */
};
/* [*from, *to): the dispatch entries of direction dir and address family, by binary search. */
void npplan_disp_run(const struct npplan *p, int dir, int family, size_t *from, size_t *to);

struct npplan_self npplan_self_begin(const struct npplan *p, int family);
/* The next address, or NULL at the end. */
const struct ipaddr *npplan_self_peek(const struct npplan_self *it);
/* Step past a, the address peek returned. */
void npplan_self_skip(struct npplan_self *it, const struct ipaddr *a);

/*
 * The sets a group has: one per run of its sorted elements with the same shape, family and
 * (PORTS only) port range, in the ruleset's order: IPv4 first, then by shape, PORTS sets by
 * range. None for an allow_all group. Walk them with
 *   struct npplan_gsit it = { 0 }; struct npplan_gset s;
 *   while (npplan_gset_next(g, &it, &s)) use(g->elems + s.a, s.b - s.a);
 */
struct npplan_gset {
	uint8_t shape;		/* enum npplan_shape */
	uint8_t v;		/* 4 or 6 */
	uint16_t plo, phi;	/* PORTS: the range the rule matches; else 0 */
	size_t a, b;		/* the elements g->elems[a..b) */
};
struct npplan_gsit {
	int f;			/* 0: IPv4, 1: IPv6, 2: done */
	size_t i;
};
bool npplan_gset_next(const struct npplan_group *g, struct npplan_gsit *it,
		      struct npplan_gset *s);
/* Set names: "<group>-x4", "<group>-q6-8080-8090" (the letter is the shape's). */
#define NPPLAN_SETNAMELEN (NPPLAN_NAMELEN + 16)
void npplan_gset_name(char out[NPPLAN_SETNAMELEN], const char *group,
		      const struct npplan_gset *s);
/* The order of npplan_gset_next() on the identity (v, shape, plo, phi); elements ignored. */
int npplan_gset_cmp(const struct npplan_gset *a, const struct npplan_gset *b);

/*
 * Sets shared between groups (npplan_share.c). A set is created once, in the first group
 * (by name) that holds it, and named after that group (npplan_gset_name()); every group
 * holding the same elements in a set of the same identity names that one in its rule.
 */
struct npplan_kset {
	struct npplan_group *g;		/* the owner */
	struct npplan_gset s;		/* the owner's set */
	uint64_t hash;
	const char *name;		/* kept in the owner (its cache) */
};

struct npplan_shares {
	struct npplan_kset *sets;	/* in creation order: by owner, then npplan_gset_next() */
	size_t nsets;
	/* group i's k-th set (npplan_gset_next() order) is sets[ref[first[i] + k]] */
	size_t *first;			/* ngroups + 1 */
	uint32_t *ref;
};

/* The kernel sets of p and who names which. 0 or -ENOMEM (out zeroed). The groups' caches
 * are filled on the way (groups never change once built, so the caches stay true). */
int npplan_share(const struct npplan *p, struct npplan_shares *out) __must_check;
void npplan_shares_free(struct npplan_shares *sh);
/* The same identity and elements (their groups may differ). */
bool npplan_kset_same(const struct npplan_kset *a, const struct npplan_kset *b);
/* Drops a group's cache (npplan_group_unref() does, with the group). */
void npplan_group_cache_free(struct npplan_group *g);

/* Total order: shape, family, (PORTS: plo, phi,) lo, hi, prlo, prhi, plo, phi. Each set of
 * a group is one run of its sorted elements. */
int npplan_elem_cmp(const struct npplan_elem *a, const struct npplan_elem *b);

/*
 * Sort, drop duplicates and make the RANGE elements of each family pairwise disjoint while
 * covering exactly the same boxes (split at every boundary, union, merge what can be
 * merged). *elems may be reallocated. 0 or -ENOMEM (the array is then unchanged).
 */
int npplan_normalize(struct npplan_elem **elems, size_t *n) __must_check;

/*
 * cidr minus every except, as disjoint inclusive [lo, hi] address ranges in ascending
 * order, appended to *out (*n entries, *cap capacity; mem_realloc'd). Excepts of the other
 * family or outside cidr are ignored. 0 or -ENOMEM.
 */
int npplan_ipblock_ranges(const struct k8sobj_ipblock *b, struct ipaddr (**out)[2], size_t *n,
			  size_t *cap) __must_check;

/* The group a dispatch entry or name refers to; NULL when absent. Binary search. */
const struct npplan_group *npplan_group_find(const struct npplan *p, const char *name);

/*
 * The whole plan as an nft script (`nft -f` input) that builds exactly the ruleset above:
 * "table inet virgil { ... }" with every set's elements and every map's entries, in a
 * deterministic order. For golden tests, the nft baseline of the benchmark and
 * `virgil lab`. 0 or -ENOMEM.
 */
int npplan_render(const struct npplan *p, struct buf *out) __must_check;

#endif
