/* SPDX-License-Identifier: MIT */
/*
 * npcompile_int.h: the policy compiler's internal state, shared by its files only.
 *
 * Records mirror the caches: one per pod, namespace and policy the compiler has seen,
 * keyed like the cache (ns, name). A record holds a borrowed pointer to the object in the
 * cache, refreshed with cache_get() at the start of every compile for the keys npc_note()
 * reported; the caller's promise to note every change is what keeps the other pointers
 * valid. Peers are the distinct (namespace, podSelector, namespaceSelector) pod sets the
 * policies use, with their own copies of the selectors and their member pods; a pod keeps
 * the list of peers it belongs to, each with its position in the peer's member array, so
 * joining and leaving are O(1); a peer also lists this compile's joins, leaves and data
 * changes (with the pod's former state kept until the compile ends), from which groups edit
 * their counted elements instead of rebuilding. Groups are the distinct (direction,
 * isolating policies, named-port resolution) keys of the local targets, each holding its
 * last built plan group.
 *
 * Files: npcompile.c (API, the compile pass, plan assembly), npcompile_util.c (hashes, map,
 * vectors), npcompile_rec.c (records, notes, reset, garbage), npcompile_peer.c (peers and
 * membership), npcompile_pol.c (a policy's rules in compiled form), npcompile_group.c
 * (targets, group keys and names), npcompile_elem.c (what a group's rules contribute),
 * npcompile_build.c (plan groups from contributions, in full or by counted deltas).
 */
#ifndef VIRGIL_NPCOMPILE_INT_H
#define VIRGIL_NPCOMPILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "k8sobj.h"
#include "npcompile.h"
#include "npplan.h"

/* ---- npcompile_util.c ------------------------------------------------------------------ */

#define NPC_FNV_INIT 0xcbf29ce484222325ull

uint64_t npc_fnv(uint64_t h, const void *p, size_t n);
uint64_t npc_fnv_str(uint64_t h, const char *s);	/* the NUL included */

/*
 * A hash set of record pointers keyed by the caller's hash; lookups compare candidates with
 * an equality callback, so keys never need to be built into one string. Linear probing,
 * deletion by backward shift.
 */
struct npc_slot {
	uint64_t h;
	void *v;		/* NULL: empty */
};

struct npc_map {
	struct npc_slot *s;
	uint32_t cap, n;
	uint64_t seed;			/* kept by npc_map_free */
};

typedef bool (*npc_eq_fn)(const void *rec, const void *key);

void *npc_map_get(const struct npc_map *m, uint64_t h, npc_eq_fn eq, const void *key);
int npc_map_put(struct npc_map *m, uint64_t h, void *v) __must_check;
void npc_map_del(struct npc_map *m, uint64_t h, const void *v);
void npc_map_free(struct npc_map *m);

/* A vector of pointers; order matters only where its owner says so. */
struct npc_vec {
	void **v;
	uint32_t n, cap;
};

int npc_vec_push(struct npc_vec *v, void *p) __must_check;
int npc_vec_insert(struct npc_vec *v, uint32_t at, void *p) __must_check;
/* Remove the first p (order kept when keep_order); false when absent. */
bool npc_vec_remove(struct npc_vec *v, const void *p, bool keep_order);
void npc_vec_free(struct npc_vec *v);
/* Grow an array of elements of size sz so that n + 1 fit. */
int npc_grow(void **arr, uint32_t *cap, uint32_t n, size_t sz) __must_check;

struct npc;

/*
 * The key being built in c->kbuf (NUL-terminated). Strings go in length-prefixed, so no
 * content can make two different keys read alike. Errors stick until npc_kb_reset.
 */
void npc_kb_reset(struct npc *c);
void npc_kb_str(struct npc *c, const char *s);
void npc_kb_num(struct npc *c, unsigned long long v);
/* 0, or -ENOMEM when an append since the reset failed. */
int npc_kb_done(struct npc *c) __must_check;

/* ---- records ---------------------------------------------------------------------------- */

#define NPC_NONE UINT32_MAX

struct npc_peer;
struct npc_group;

struct npc_memb {
	struct npc_peer *peer;
	uint32_t pos;			/* index in peer->members */
};

struct npc_ns {
	char *name;
	uint64_t h;
	const struct k8sobj *obj;	/* NULL: not in the cache */
	struct npc_vec pods;		/* struct npc_pod *, in any order (pod->nspos) */
	struct npc_vec pols;		/* struct npc_pol *, sorted by name */
	struct npc_vec lpeers;		/* peers without namespaceSelector, of this namespace */
	struct npc_vec nsmatch;		/* namespaceSelector peers matching this namespace */
	bool dirty;			/* in c->dns: obj to refresh, nsmatch to recompute */
	bool poldirty;			/* a policy of it changed: targets to re-key */
};

/* A named container port; unnamed ones never resolve a named policy port. */
struct npc_pport {
	const char *name;
	uint16_t port;
	uint8_t kproto;			/* enum k8sobj_proto */
};

/* What a pod contributes to groups: its effective addresses and named ports (owned copy). */
struct npc_pstate {
	struct ipaddr ip[2];		/* family 0 when absent */
	struct npc_pport *ports;	/* one allocation with the names */
	uint32_t nports;
};

struct npc_pod {
	char *full;			/* "ns/name" */
	const char *name;		/* inside full's allocation */
	uint64_t h;
	struct npc_ns *nsr;
	uint32_t nspos;
	uint32_t tpos;			/* index in c->targets, NPC_NONE */
	const struct k8sobj_pod *obj;	/* NULL: not in the cache */
	struct npc_pstate cur;		/* as of this compile */
	struct npc_pstate old;		/* as of the last one, while dirty (else see cur) */
	uint64_t data;			/* hash of cur */
	bool eligible;			/* present, addressed, not hostNetwork, not finished */
	bool local;			/* ip[] came from npc_input.local */
	bool dirty;			/* in c->dpods */
	bool reeval;			/* in c->rpods */
	bool datachg;			/* data differs from the last compile */
	uint64_t stamp;
	struct npc_memb *memb;
	uint32_t nmemb, capmemb;
	struct npc_group *grp[2];	/* [NPPLAN_IN], [NPPLAN_EG] */
};

enum npc_pkind { NPC_P_ALL, NPC_P_PROTO, NPC_P_NUM, NPC_P_RANGE, NPC_P_NAMED };

/* One ports[] entry of a rule. */
struct npc_iport {
	const char *name;		/* NAMED: borrowed from the policy object */
	uint16_t lo, hi;		/* NUM: lo == hi; RANGE */
	uint8_t kproto;			/* enum k8sobj_proto */
	uint8_t proto;			/* IP protocol number */
	uint8_t kind;			/* enum npc_pkind */
	struct npc_peer *named;		/* egress, any or ipBlock peer: the pods having the name */
};

/* One from[]/to[] entry: a pod set or an ipBlock's ranges. */
struct npc_ipeer {
	struct npc_peer *peer;		/* NULL: ipBlock */
	uint32_t roff, nr;		/* ranges in pol->ranges */
};

struct npc_irule {
	uint32_t poff, np;		/* np == 0: any peer */
	uint32_t qoff, nq;		/* nq == 0: every protocol and port */
};

struct npc_pol {
	char *full;			/* "ns/name" */
	const char *name;
	uint64_t h;
	struct npc_ns *nsr;
	const struct k8sobj_netpol *obj;	/* NULL: not in the cache */
	bool dirty;			/* in c->dpols */
	bool invalid;
	bool listed;			/* in nsr->pols */
	bool touched[2];		/* per direction: a peer or named port of it changed
					 * in this pass (npc_pols_touched()) */
	struct npc_irule *rules;	/* ingress [0, nrules[0]), then egress */
	uint32_t nrules[2];
	struct npc_ipeer *ipeers;
	uint32_t nipeers;
	struct npc_iport *iports;
	uint32_t niports;
	struct ipaddr (*ranges)[2];
	size_t nranges, capranges;
};

enum npc_peerkind { NPC_PEER_SEL, NPC_PEER_NAMED };

/* A member that joined (!was), left (!is) or changed its data (both). */
struct npc_pdelta {
	struct npc_pod *pod;
	bool was, is;
};

struct npc_peer {
	char *key;			/* canonical form, the dedup key */
	uint64_t h;
	uint8_t kind;			/* enum npc_peerkind */
	uint8_t kproto;			/* NAMED */
	bool changed;			/* members or their data changed in this compile */
	bool fresh;			/* made in this compile: its users build in full */
	struct npc_ns *nsr;		/* SEL without namespaceSelector: the policy's namespace */
	struct k8sobj_selector *pods;	/* NULL: every pod */
	struct k8sobj_selector *ns;	/* NULL: nsr only */
	const char *pname;		/* NAMED: inside key */
	uint32_t refs;
	uint64_t mark;
	struct npc_pod **members;
	uint32_t nmembers, capmembers;
	struct npc_pdelta *delta;	/* this compile's changes (while changed) */
	uint32_t ndelta, capdelta;
};

struct npc_group {
	char *key;
	uint32_t kn;
	uint64_t h;
	uint64_t nh;			/* the name's hash (h unless perturbed) */
	uint8_t dir;
	struct npc_pol **pols;
	uint32_t npols;
	uint32_t ntargets;
	size_t index;			/* in the plan being assembled */
	struct npplan_group *g;		/* last built, NULL before the first build */
	uint64_t built_nh;		/* nh when g was built (its name's hash) */
	/*
	 * How often each element is contributed, so a member joining or leaving edits the
	 * group instead of rebuilding it. Pods contribute hash-set elements only (g's
	 * elements up to nfix, counts in cnt); the static RANGE boxes of ipBlocks and
	 * any-peer rules (srng) are kept as collected, normalised into g's tail.
	 * Unused while g is allow_all.
	 */
	uint32_t *cnt;
	size_t nfix;
	struct npplan_elem *srng;
	size_t nsrng;
};

struct npc_lref {
	const struct npc_local *l;
	size_t i;
};

/* What the compiles did, for tests and debugging. */
struct npc_stats {
	unsigned long full;		/* groups built from their rules */
	unsigned long delta;		/* groups edited by member changes */
	unsigned long kept;		/* ... of which the content came out unchanged */
	unsigned long fallback;		/* edits that found counts inconsistent: rebuilt */
};

struct npc {
	bool all_dirty;
	char *node;
	uint64_t epoch;
	struct npc_stats stats;
	struct npc_map pods, nss, pols, peers, groups;
	struct npc_vec nslist;		/* every namespace record */
	struct npc_vec nspeers;		/* SEL peers with a namespaceSelector */
	struct npc_vec named;		/* NAMED peers */
	struct npc_vec grplist;		/* every group */
	struct npc_vec targets;		/* local target pods */
	struct npc_vec dpods, rpods, dns, dpols, chpeers;
	bool pols_touched;		/* some npc_pol.touched[] is set */
	struct npc_vec pool;		/* built groups kept across a reset, for pointer reuse */
	/* scratch */
	const struct npc_input *in;
	struct npc_lref *lidx;		/* in->local sorted by (ns, name), then index */
	size_t nlidx;
	char *kbuf;
	uint32_t kbn, kbcap;
	bool kberr;
	struct npc_vec kpols;		/* the isolating policies of the key being built */
	struct npc_vec knamed;		/* struct npc_iport *: their ingress named ports */
};

/* ---- npcompile_rec.c -------------------------------------------------------------------- */

struct npc_ns *npc_ns_get(struct npc *c, const char *name, bool create);
struct npc_pod *npc_pod_get(struct npc *c, const char *ns, const char *name, bool create);
struct npc_pol *npc_pol_get(struct npc *c, const char *ns, const char *name, bool create);
int npc_mark_pod(struct npc *c, struct npc_pod *p) __must_check;
int npc_mark_ns(struct npc *c, struct npc_ns *n) __must_check;
int npc_mark_pol(struct npc *c, struct npc_pol *p) __must_check;
/* Free every record, peer and group (built groups go to the pool). */
void npc_clear(struct npc *c);
/* Records for everything in the caches, all dirty. */
int npc_load(struct npc *c) __must_check;
/* After a successful compile: forget deleted objects, clear the dirty state. */
void npc_collect(struct npc *c);
void npc_pod_free(struct npc_pod *p);

/* ---- npcompile_peer.c ------------------------------------------------------------------- */

struct npc_peer *npc_peer_sel(struct npc *c, struct npc_ns *polns,
			      const struct k8sobj_peer *kp);
struct npc_peer *npc_peer_named(struct npc *c, const char *name, uint8_t kproto);
void npc_peer_unref(struct npc *c, struct npc_peer *p);
void npc_peer_free(struct npc_peer *p);
/* The namespaceSelector peers matching n's labels, recomputed. */
int npc_ns_rematch(struct npc *c, struct npc_ns *n) __must_check;
/* Bring p's memberships in line with its state and the peers' selectors. */
int npc_pod_reeval(struct npc *c, struct npc_pod *p) __must_check;
int npc_peer_mark(struct npc *c, struct npc_peer *p) __must_check;
/* The port a pod state gives (name, protocol), 0 when none. */
uint16_t npc_pod_port(const struct npc_pstate *s, const char *name, uint8_t kproto);
/* A pod's state before this compile: old when it was refreshed, else cur. */
static inline const struct npc_pstate *npc_pod_was(const struct npc_pod *p)
{
	return p->dirty ? &p->old : &p->cur;
}

/* ---- npcompile_pol.c -------------------------------------------------------------------- */

/* Re-read the policy from its cache: release the old compiled rules, build the new. */
int npc_pol_refresh(struct npc *c, struct npc_pol *p) __must_check;
void npc_pol_release(struct npc *c, struct npc_pol *p);
/* Whether p isolates pod in dir (invalid policies: both directions). */
bool npc_pol_isolates(const struct npc_pol *p, const struct npc_pod *pod, int dir);

/* ---- npcompile_group.c ------------------------------------------------------------------ */

int npc_retarget(struct npc *c, struct npc_pod *p) __must_check;
/* Free the groups left without targets; name the others (collisions perturbed). */
int npc_groups_settle(struct npc *c) __must_check;
void npc_group_free(struct npc_group *g);
/* Whether g must be built from its rules: never built, renamed, or a policy changed. */
bool npc_group_stale(const struct npc_group *g);
void npc_group_name(const struct npc_group *g, char *out);

/* ---- npcompile_elem.c: contributions ---------------------------------------------------- */

/* A contribution: an element counted d times (negative: withdrawn). */
struct npc_selem {
	struct npplan_elem e;
	int32_t d;
};

struct npc_ebld {
	struct npc *c;
	const struct npc_group *g;
	const struct npc_pod *rep;	/* a target of g, found when first needed */
	struct npc_selem *v;		/* from pods */
	uint32_t n, cap;
	struct npplan_elem *s;		/* static RANGE boxes (full builds only) */
	uint32_t ns, scap;
	bool all;			/* a rule allows everything */
};

/* Every contribution of g's rules (full build). */
int npc_contrib_all(struct npc_ebld *b) __must_check;
/* The contributions that changed with the members of changed peers (g not allow_all). */
int npc_contrib_delta(struct npc_ebld *b) __must_check;
/* Whether a rule of g reads a peer whose members changed in this compile. */
/* Each policy's touched[] for this pass, once, so each group asks its policies only. */
void npc_pols_touched(struct npc *c);
bool npc_group_touched(const struct npc_group *g);

/* ---- npcompile_build.c: groups from contributions ------------------------------------- */

/* Build g from its rules, or edit it by member changes when it allows that. */
int npc_group_build(struct npc *c, struct npc_group *g) __must_check;

#endif
