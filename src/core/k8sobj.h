/* SPDX-License-Identifier: MIT */
/*
 * k8sobj.h: the node agent's compact view of Kubernetes objects. Decodes a JSON DOM
 * (codec/json.h) of a Node, Pod, Namespace, EndpointSlice or NetworkPolicy, a watch event
 * line or a List page into structs that own their data. Each object is ONE allocation holding
 * the struct, its arrays and its strings, sized exactly, so the DOM can be freed right after
 * decoding and the cache pays a few hundred bytes per pod. Pure: no I/O, no globals, re-entrant.
 *
 * Decoding rules:
 * - Unknown fields are ignored. null means absent everywhere (Go writes nil slices and
 *   pointers as null, and "items": null is a legal empty list).
 * - A field we use with the wrong JSON type is -EINVAL (a NetworkPolicy's spec: see
 *   struct k8sobj_netpol), and the ebuf names its path:
 *   "spec.containers[0].ports[1].containerPort: expected an integer, got a string". Strings
 *   with an embedded NUL are rejected the same way. A "kind" member, when present, must match.
 * - A value of the right type that we cannot use (an address or CIDR that does not parse, a
 *   port outside 1..65535, a second pod CIDR or pod IP of one family, an address of the other
 *   family in an EndpointSlice) is left out and K8SOBJ_F_SKIPPED is set: one odd value never
 *   hides a whole object. The API server's validation makes this rare; the agent may log it.
 *
 * Lifetime: every pointer inside an object (strings, arrays) lives exactly as long as the
 * object, until k8sobj_free(). Strings are NUL-terminated and never NULL ("" when absent).
 */
#ifndef VIRGIL_K8SOBJ_H
#define VIRGIL_K8SOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "cidr.h"

struct ebuf;
struct json;
struct json_limits;

enum k8sobj_kind {
	K8SOBJ_NODE,
	K8SOBJ_POD,
	K8SOBJ_NAMESPACE,
	K8SOBJ_ENDPOINTSLICE,
	K8SOBJ_NETPOL,		/* networking.k8s.io/v1 NetworkPolicy */
	K8SOBJ_OTHER,		/* any kind: common metadata only, "kind" not checked */
	K8SOBJ_NKINDS,
};

enum k8sobj_flag {
	K8SOBJ_F_DELETING = 1,	/* metadata.deletionTimestamp is set */
	K8SOBJ_F_SKIPPED = 2,	/* an unusable value was left out (see above) */
};

/* Index of the per-family slots below: [K8SOBJ_V4] and [K8SOBJ_V6]. */
enum { K8SOBJ_V4, K8SOBJ_V6 };

struct k8sobj_kv {
	const char *key;
	const char *val;
};

/* Common metadata; the first member of every kind's struct. */
struct k8sobj {
	const char *name;
	const char *ns;			/* "" for cluster-scoped kinds */
	const char *uid;
	const char *rv;			/* resourceVersion: opaque, compare for equality only */
	const struct k8sobj_kv *labels;	/* sorted by key (strcmp) */
	uint32_t nlabels;
	uint32_t size;			/* bytes in the object's one allocation */
	uint8_t kind;			/* enum k8sobj_kind */
	uint8_t flags;			/* enum k8sobj_flag */
};

/* An absent slot has addr.family == 0. */
struct k8sobj_node {
	struct k8sobj obj;
	struct cidr pod_cidr[2];	/* spec.podCIDRs, else spec.podCIDR */
	struct ipaddr internal_ip[2];	/* first status.addresses InternalIP per family */
	struct ipaddr external_ip[2];	/* first ExternalIP per family */
	const struct k8sobj_kv *annotations;	/* keys under K8SOBJ_ANNOTATION_PREFIX only */
	uint32_t nannotations;
};

#define K8SOBJ_ANNOTATION_PREFIX "virgil.dev/"

enum k8sobj_proto {
	K8SOBJ_TCP,			/* also when "protocol" is absent, as the API defaults it */
	K8SOBJ_UDP,
	K8SOBJ_SCTP,
	K8SOBJ_PROTO_OTHER,
};

struct k8sobj_port {
	const char *name;		/* "" when unnamed */
	uint16_t port;			/* 1..65535; 0 only for an EndpointSlice port left nil */
	uint8_t proto;			/* enum k8sobj_proto */
};

enum k8sobj_phase {
	K8SOBJ_PHASE_NONE,		/* status.phase absent */
	K8SOBJ_PENDING,
	K8SOBJ_RUNNING,
	K8SOBJ_SUCCEEDED,
	K8SOBJ_FAILED,
	K8SOBJ_PHASE_UNKNOWN,		/* "Unknown", or a value this build does not know */
};

struct k8sobj_pod {
	struct k8sobj obj;
	const char *node_name;		/* "" until scheduled */
	/* spec.containers[].ports[], then those of initContainers with restartPolicy Always */
	const struct k8sobj_port *ports;
	uint32_t nports;
	uint8_t phase;			/* enum k8sobj_phase */
	bool host_network;
	struct ipaddr ip[2];		/* status.podIPs, else status.podIP */
};

enum k8sobj_addrtype {
	K8SOBJ_ADDR_OTHER,
	K8SOBJ_ADDR_IPV4,
	K8SOBJ_ADDR_IPV6,
	K8SOBJ_ADDR_FQDN,
};

enum k8sobj_cond {
	K8SOBJ_EP_READY = 1,		/* nil means true */
	K8SOBJ_EP_SERVING = 2,		/* nil means true */
	K8SOBJ_EP_TERMINATING = 4,	/* nil means false */
};

struct k8sobj_endpoint {
	const struct ipaddr *addrs;	/* only for IPv4/IPv6 slices; FQDN names are not kept */
	uint32_t naddrs;
	uint8_t cond;			/* enum k8sobj_cond bits */
};

struct k8sobj_eps {
	struct k8sobj obj;
	const struct k8sobj_endpoint *endpoints;
	const struct k8sobj_port *ports;
	uint32_t nendpoints;
	uint32_t nports;
	uint8_t addr_type;		/* enum k8sobj_addrtype */
};

/* ---- NetworkPolicy (spec decoded by k8sobj_netpol.c) ------------------------------------ */

enum k8sobj_selop {
	K8SOBJ_OP_IN,
	K8SOBJ_OP_NOTIN,
	K8SOBJ_OP_EXISTS,
	K8SOBJ_OP_NOTEXIST,		/* "DoesNotExist" */
};

struct k8sobj_expr {
	const char *key;		/* never "" */
	const char *const *values;	/* In/NotIn: ≥ 1; Exists/DoesNotExist: none */
	uint32_t nvalues;
	uint8_t op;			/* enum k8sobj_selop */
};

/* A LabelSelector; all zero = {} = matches everything (see selector.h). */
struct k8sobj_selector {
	const struct k8sobj_kv *labels;	/* matchLabels, sorted by key */
	const struct k8sobj_expr *exprs;	/* matchExpressions, in input order */
	uint32_t nlabels;
	uint32_t nexprs;
};

struct k8sobj_ipblock {
	struct cidr cidr;		/* host bits cleared, as older API servers sent them */
	const struct cidr *except;	/* as given (host bits cleared) */
	uint32_t nexcept;
};

enum k8sobj_peerhas {
	K8SOBJ_PEER_PODS = 1,		/* podSelector given ({} included) */
	K8SOBJ_PEER_NS = 2,		/* namespaceSelector given ({} = all namespaces) */
	K8SOBJ_PEER_IPBLOCK = 4,	/* ipBlock given; never together with the other two */
};

/* One from[]/to[] entry; a member is meaningful only when its bit is in has (never 0). */
struct k8sobj_peer {
	struct k8sobj_selector pods;
	struct k8sobj_selector ns;
	struct k8sobj_ipblock ipblock;
	uint8_t has;			/* enum k8sobj_peerhas bits */
};

/* One ports[] entry. port == 0 and name == "" means every port of the protocol. */
struct k8sobj_npport {
	const char *name;		/* named port (IANA_SVC_NAME), "" for a number or none */
	uint16_t port;			/* 1..65535, 0 when named or absent */
	uint16_t end_port;		/* inclusive range end ≥ port, 0 when absent */
	uint8_t proto;			/* TCP, UDP or SCTP: never K8SOBJ_PROTO_OTHER */
};

/* One ingress[]/egress[] rule. An absent or empty list of ports or peers allows all. */
struct k8sobj_rule {
	const struct k8sobj_npport *ports;
	const struct k8sobj_peer *peers;	/* from[] or to[] */
	uint32_t nports;
	uint32_t npeers;
	bool has_ports;			/* "ports" given (not absent or null), maybe [] */
	bool has_peers;			/* "from"/"to" given, maybe [] */
};

enum k8sobj_nptype {
	K8SOBJ_NP_INGRESS = 1,
	K8SOBJ_NP_EGRESS = 2,
};

/*
 * A NetworkPolicy. The API server validates policies, but a policy that Virgil cannot
 * enforce must fail closed rather than vanish, so once the metadata decodes the object is
 * always kept: any problem in spec (a wrong JSON type, an unknown operator, protocol or policy
 * type, In without values, a bad CIDR, port or port name, endPort without a numeric port, a
 * peer with nothing or with ipBlock next to a selector) stops the spec decode and is recorded
 * in invalid as "spec.ingress[0].from[1].podSelector.matchExpressions[0].operator: ...".
 * When invalid is not "", only obj, invalid and (when target_ok) pod_selector may be used.
 */
struct k8sobj_netpol {
	struct k8sobj obj;
	struct k8sobj_selector pod_selector;	/* absent = {} = every pod of the namespace */
	const struct k8sobj_rule *ingress;
	const struct k8sobj_rule *egress;
	uint32_t ningress;
	uint32_t negress;
	bool has_ingress;		/* "ingress" given (maybe []): absent and [] deny alike */
	bool has_egress;
	bool has_types;			/* "policyTypes" given (maybe []) */
	uint8_t types;			/* enum k8sobj_nptype bits as given; see k8sobj_netpol_types */
	bool target_ok;			/* pod_selector decoded, even when invalid is set */
	const char *invalid;		/* "" when the whole spec decoded */
};

/*
 * The directions the policy isolates (enum k8sobj_nptype bits), with the API's default for
 * an absent or empty policyTypes: Ingress always, Egress iff egress has at least one rule
 * (so "egress": [] alone does not isolate egress).
 */
uint8_t k8sobj_netpol_types(const struct k8sobj_netpol *np);
/* 0 when np->invalid is "", else -EINVAL with the reason in eb. */
int k8sobj_netpol_check(const struct k8sobj_netpol *np, struct ebuf *eb) __must_check;

/* Downcasts: NULL when o is NULL or of another kind. A Namespace is a plain struct k8sobj. */
static inline const struct k8sobj_node *k8sobj_node(const struct k8sobj *o)
{
	return o && o->kind == K8SOBJ_NODE ? container_of(o, struct k8sobj_node, obj) : NULL;
}

static inline const struct k8sobj_pod *k8sobj_pod(const struct k8sobj *o)
{
	return o && o->kind == K8SOBJ_POD ? container_of(o, struct k8sobj_pod, obj) : NULL;
}

static inline const struct k8sobj_eps *k8sobj_eps(const struct k8sobj *o)
{
	return o && o->kind == K8SOBJ_ENDPOINTSLICE ? container_of(o, struct k8sobj_eps, obj)
						     : NULL;
}

static inline const struct k8sobj_netpol *k8sobj_netpol(const struct k8sobj *o)
{
	return o && o->kind == K8SOBJ_NETPOL ? container_of(o, struct k8sobj_netpol, obj) : NULL;
}

/* 0 for AF_INET, 1 for AF_INET6, -1 otherwise. */
static inline int k8sobj_slot(int family)
{
	return family == AF_INET ? K8SOBJ_V4 : family == AF_INET6 ? K8SOBJ_V6 : -1;
}

/*
 * Decode one object of the given kind from a DOM value. Returns 0 and sets *out (free with
 * k8sobj_free), -EINVAL (wrong type; ebuf has path and reason), -E2BIG (over 4 GiB),
 * -ENOMEM. *out is NULL on error. Nothing from the DOM is referenced afterwards. For a
 * Namespace without the label kubernetes.io/metadata.name, it is added with the name as
 * value, as the API server always sets it.
 */
int k8sobj_decode(const struct json *v, enum k8sobj_kind kind, struct k8sobj **out,
		  struct ebuf *eb) __must_check;
/* json_parse (default limits) + k8sobj_decode; syntax errors come back as -EINVAL/-E2BIG. */
int k8sobj_parse(const char *p, size_t n, enum k8sobj_kind kind, struct k8sobj **out,
		 struct ebuf *eb) __must_check;
void k8sobj_free(struct k8sobj *o);

/* "Node", "Pod", "Namespace", "EndpointSlice", "NetworkPolicy"; "" for K8SOBJ_OTHER and unknown
 * values. */
const char *k8sobj_kind_name(enum k8sobj_kind kind);
/* Label value by key, or NULL. O(log n). */
const char *k8sobj_label(const struct k8sobj *o, const char *key);
/* Kept annotation value by its full key ("virgil.dev/..."), or NULL. */
const char *k8sobj_annotation(const struct k8sobj_node *n, const char *key);
/* Same namespace and name: the identity the cache keys on. */
bool k8sobj_same_key(const struct k8sobj *a, const struct k8sobj *b);

/* ---- watch events ---------------------------------------------------------------------- */

enum k8sobj_evtype {
	K8SOBJ_ADDED,
	K8SOBJ_MODIFIED,
	K8SOBJ_DELETED,
	K8SOBJ_BOOKMARK,
	K8SOBJ_ERROR,
};

/* Everything here is owned by the event; k8sobj_event_clear() frees what is left. */
struct k8sobj_event {
	enum k8sobj_evtype type;
	struct k8sobj *obj;	/* ADDED, MODIFIED, DELETED: the object; take it by setting NULL */
	char *rv;		/* BOOKMARK: resourceVersion to resume from */
	bool initial_end;	/* BOOKMARK annotated k8s.io/initial-events-end: "true" */
	int code;		/* ERROR: Status code, 0 when absent */
	char *reason;		/* ERROR: Status reason or NULL */
	char *message;		/* ERROR: Status message or NULL */
};

/*
 * Decode {"type": ..., "object": {...}} (members in any order). An ERROR's object is read as
 * a Status; a BOOKMARK's as metadata.resourceVersion (required). Returns 0, -EINVAL (unknown
 * type, missing object, wrong types; the path starts at "type" or "object"), -E2BIG or
 * -ENOMEM; on error *ev is cleared and holds nothing.
 */
int k8sobj_event_decode(const struct json *v, enum k8sobj_kind kind, struct k8sobj_event *ev,
			struct ebuf *eb) __must_check;
int k8sobj_event_parse(const char *p, size_t n, enum k8sobj_kind kind,
		       struct k8sobj_event *ev, struct ebuf *eb) __must_check;
void k8sobj_event_clear(struct k8sobj_event *ev);
/* An ERROR saying the resourceVersion is too old: 410, or reason Expired/Gone. Relist. */
bool k8sobj_event_expired(const struct k8sobj_event *ev);

/* ---- List pages ------------------------------------------------------------------------ */

struct k8sobj_list {
	char *rv;		/* metadata.resourceVersion, NULL when absent */
	char *cont;		/* metadata.continue, NULL on the last page (absent or "") */
	struct k8sobj **items;	/* owned, as is each item; take one by setting it NULL */
	size_t nitems;
	size_t nbad;		/* items left out because they did not decode */
};

/*
 * Decode a List page. An item that fails to decode with -EINVAL is left out and counted in
 * nbad, and the first such reason ("items[3].spec...: ...") is written to eb even though the
 * call returns 0, so one malformed object cannot block a relist forever. Errors: -EINVAL for
 * the envelope (not an object, metadata or items of the wrong type), -E2BIG, -ENOMEM; *l
 * is then cleared. lim (NULL for defaults) is passed to json_parse: pages are large.
 */
int k8sobj_list_decode(const struct json *v, enum k8sobj_kind kind, struct k8sobj_list *l,
		       struct ebuf *eb) __must_check;
int k8sobj_list_parse(const char *p, size_t n, const struct json_limits *lim,
		      enum k8sobj_kind kind, struct k8sobj_list *l, struct ebuf *eb) __must_check;
void k8sobj_list_clear(struct k8sobj_list *l);

#endif
