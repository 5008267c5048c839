/* SPDX-License-Identifier: MIT */
/*
 * npcompile.h: the NetworkPolicy compiler. Pure: caches of Pods, Namespaces and
 * NetworkPolicies in, the node's plan (npplan.h) out; no I/O, no globals, deterministic (the
 * same input always gives the same plan, group names included, so an agent restart
 * changes nothing in the kernel).
 *
 * Incremental: the compiler keeps what it built (peer memberships, groups) between calls.
 * The caller reports every object change with npc_note() (old and new versions) and the
 * next npc_compile() rebuilds only the groups those changes can affect; the others are the
 * same group objects (same pointers) as in the previous plan. A single pod, label or policy
 * change at 10,000 pods and 1,000 policies must compile in well under a millisecond or two.
 * The result is always equal to a compile from scratch (npc_note_all()).
 *
 * Semantics are networking.k8s.io/v1 as the API reference states them (see docs/policy.md):
 * - Targets: pods of this node (spec.nodeName == node), not hostNetwork, not Succeeded or
 *   Failed, with an address (from `local` when the CNI plugin reported one, else
 *   status.podIPs). A target is isolated for ingress (egress) when a policy of its namespace
 *   whose podSelector matches it has Ingress (Egress) in k8sobj_netpol_types().
 * - Allowed = union over those policies' rules of peers x ports. Peers: from/to absent or []
 *   = any address; podSelector alone = pods of the policy's namespace; namespaceSelector
 *   alone = every pod of the matching namespaces; both in one peer = AND; ipBlock = cidr
 *   minus except (pod addresses included). Peer pods are pods with addresses that are not
 *   hostNetwork and not finished, on any node. Ports: absent or [] = every protocol and port
 *   (ICMP too); protocol only = every port of it; numeric; numeric with endPort (inclusive
 *   range); named = resolved against the destination pod's containerPorts by name AND
 *   protocol (ingress: the target itself, so pods resolving differently get different
 *   groups; egress: each peer pod; a name resolves nowhere -> nothing allowed, the pod
 *   stays isolated; ipBlock and any-peer destinations match a named port only on pods that
 *   have it).
 * - A policy whose spec did not decode (k8sobj_netpol.invalid) allows nothing and isolates
 *   the pods its podSelector selects in both directions, or, when even the podSelector is
 *   unusable, every target of its namespace; it is listed in plan->problems.
 */
#ifndef VIRGIL_NPCOMPILE_H
#define VIRGIL_NPCOMPILE_H

#include <stddef.h>
#include "../base/compat.h"
#include "cidr.h"
#include "k8sobj.h"
#include "npplan.h"

struct cache;
struct ebuf;

/* A local pod's addresses as its CNI ADD reported them (the API learns them later). */
struct npc_local {
	const char *ns;
	const char *name;
	struct ipaddr ip[2];	/* [K8SOBJ_V4], [K8SOBJ_V6]; family 0 when absent */
};

struct npc_input {
	const struct cache *pods;	/* K8SOBJ_POD */
	const struct cache *namespaces;	/* K8SOBJ_NAMESPACE */
	const struct cache *policies;	/* K8SOBJ_NETPOL */
	const char *node;		/* this node's name */
	const struct npc_local *local;	/* may be NULL when nlocal is 0 */
	size_t nlocal;
};

struct npc;

/* 0 or -ENOMEM. A new compiler has everything dirty. */
int npc_new(struct npc **out) __must_check;
void npc_free(struct npc *c);

/*
 * An object changed: old is the version before (NULL: added), new the version after (NULL:
 * deleted); both NULL is ignored. Both must stay valid until this call returns only. Kinds
 * other than Pod, Namespace and NetworkPolicy are ignored. Never fails: when it cannot
 * record the detail (no memory) it marks everything dirty.
 */
void npc_note(struct npc *c, const struct k8sobj *old, const struct k8sobj *new);
/* A local pod's CNI-reported addresses were added, changed or removed. */
void npc_note_local(struct npc *c, const char *ns, const char *name);
/* Everything is dirty: the next compile starts from scratch. */
void npc_note_all(struct npc *c);

/*
 * Compile the input as it is now. On success *out holds a new plan (groups referenced;
 * masquerade fields zero: the caller fills them) and the noted changes are consumed.
 * 0, -ENOMEM (out zeroed; the notes are kept for the next try), -EINVAL for a NULL cache
 * or node (eb says which).
 */
int npc_compile(struct npc *c, const struct npc_input *in, struct npplan *out,
		struct ebuf *eb) __must_check;

#endif
