/* SPDX-License-Identifier: MIT */
/*
 * npsync_int.h: what npsync.c (the exchange with the kernel: generation, retries, error
 * reports) shares with npsync_batch.c (the batches: the whole table, or the difference of two
 * plans) and npsync_put.c (their pieces, one object at a time). A batch is built into one
 * growing buffer together with one record per message, so a kernel error, reported by
 * message index, can be told as "adding element ... to set X".
 */
#ifndef VIRGIL_NPSYNC_INT_H
#define VIRGIL_NPSYNC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../core/npplan.h"
#include "../nl/nlmsg.h"

/* What one message of the batch does, for error reports. */
enum npsync_op {
	NPSYNC_OP_MARKER,	/* BEGIN, END */
	NPSYNC_OP_NEWTABLE,
	NPSYNC_OP_DELTABLE,
	NPSYNC_OP_NEWCHAIN,
	NPSYNC_OP_DELCHAIN,
	NPSYNC_OP_FLUSHCHAIN,
	NPSYNC_OP_NEWRULE,
	NPSYNC_OP_NEWSET,
	NPSYNC_OP_DELSET,
	NPSYNC_OP_FLUSHSET,
	NPSYNC_OP_NEWELEM,
	NPSYNC_OP_DELELEM,
};

/* Element layout of a set, to print a key back: address (+ protocol (+ port)), ranges. */
enum npsync_keys {
	NPSYNC_KEYS_ADDR,	/* dispatch maps, masquerade sets, G-a sets */
	NPSYNC_KEYS_PROTO,	/* addr . proto */
	NPSYNC_KEYS_PORT,	/* addr . proto . port (with KEY_END for G-r sets) */
	NPSYNC_KEYS_SELF,	/* addr . addr: self4/self6 */
};
#define NPSYNC_HAS_PROTO(keys) ((keys) == NPSYNC_KEYS_PROTO || (keys) == NPSYNC_KEYS_PORT)

/* Chain and set names: "<group>-x4", "<group>-q4-8080-8090" (npplan_gset_name()). */
#define NPSYNC_NAMELEN NPPLAN_SETNAMELEN

struct npsync_rec {
	uint8_t op;		/* enum npsync_op */
	uint8_t keys;		/* enum npsync_keys, for element messages */
	uint8_t alen;		/* address bytes in a key: 4 or 16 */
	char name[NPSYNC_NAMELEN];	/* the chain or set */
};

struct nftmsg_elem;

/* One batch being built. Errors stick: -EMSGSIZE (the buffer is too small: grow, rebuild) or
 * -ENOMEM (records). */
struct npsync_bat {
	struct nlb b;
	struct npsync_rec *recs;
	size_t nrecs, rcap;
	int err;
	uint32_t set_id;		/* the last NFTA_SET_ID given */
	size_t inner;			/* messages other than the markers */
	size_t elems_added, elems_deleted, groups_added, groups_deleted, sets_replaced;
};

/* ---- npsync_put.c: one object at a time ---- */

/* Record the message about to be built (name: its chain or set). */
void npsync_rec(struct npsync_bat *t, enum npsync_op op, const char *name, uint8_t keys,
		uint8_t alen);
void npsync_begin(struct npsync_bat *t, uint32_t genid);	/* genid 0: no NFNL_BATCH_GENID */
void npsync_end(struct npsync_bat *t);

/* One set's elements being written: the message opens with the first element (none for no
 * element) and continues in a new message when the list nears the 64 KiB of a nest. */
struct npsync_elw {
	struct npsync_bat *t;
	int msg;		/* NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM */
	const char *set;	/* borrowed until npsync_elw_close() */
	uint32_t id;		/* the set's NFTA_SET_ID when created in this batch, else 0 */
	uint8_t keys, alen;
	struct nlattr *list;
	size_t start;
};

struct npsync_elw npsync_elw_init(struct npsync_bat *t, int msg, const char *set, uint32_t id,
				  uint8_t keys, uint8_t alen);
void npsync_elw_put(struct npsync_elw *w, const struct nftmsg_elem *e);
void npsync_elw_close(struct npsync_elw *w);

struct nftmsg_hook;
/* A chain made (h: its hook, NULL for a regular chain); a chain's rules all deleted. */
void npsync_new_chain(struct npsync_bat *t, const char *name, const struct nftmsg_hook *h);
void npsync_flush_chain(struct npsync_bat *t, const char *name);

/* v is 4 or 6: its address family and address length. */
int npsync_fam(int v);
uint8_t npsync_alen(int v);
/* enum npsync_keys of a group set of shape (enum npplan_shape). */
uint8_t npsync_shape_keys(int shape);
/* NEWSET of one of our sets (flags NFT_SET_MAP: a verdict map); returns its NFTA_SET_ID. */
uint32_t npsync_put_set(struct npsync_bat *t, const char *name, uint8_t keys, int v,
			uint32_t flags);
/* A group element into its set's list. */
void npsync_put_elem(struct npsync_elw *w, const struct npplan_elem *e);
/* A dispatch entry into its map's list: addr : goto|jump <group>. */
void npsync_put_disp(struct npsync_elw *w, const struct npplan *p, const struct npplan_disp *d);
/* "ing4", "egr6". */
void npsync_map_name(char out[8], int dir, int v);

/* The rules of group i's chain (naming the sets sh says), of forward, and the masquerade
 * rule of family v. */
void npsync_group_rules(struct npsync_bat *t, const struct npplan *p,
			const struct npplan_shares *sh, size_t i);

void npsync_forward_rules(struct npsync_bat *t);
/* "self4", "self6"; and an element a . a of the self set of a's family. */
const char *npsync_self_name(int v);
void npsync_put_self(struct npsync_elw *w, const struct ipaddr *a);
void npsync_rule_masq(struct npsync_bat *t, int v);

/*
 * The CIDRs of family v as sorted [first, last] ranges, those inside another left out, as
 * npplan_render() writes them. *out is the caller's to free (also on error). 0 or -ENOMEM.
 */
int npsync_cidr_ranges(const struct cidr *c, size_t n, int v, struct ipaddr (**out)[2],
		       size_t *m);
/* Those ranges as interval-set elements, the list closed. */
void npsync_put_cidrs(struct npsync_elw *w, struct ipaddr (*r)[2], size_t m);

/* ---- npsync_groups.c: group chains and their shared sets ---- */

/* Every kernel set of a plan with its elements; every group's rules (the full batch). */
void npsync_sets_full(struct npsync_bat *t, const struct npplan_shares *sh);
void npsync_rules_full(struct npsync_bat *t, const struct npplan *p,
		       const struct npplan_shares *sh);

/* What becomes of each kernel set of the new plan. */
enum npsync_kstate {
	NPSYNC_K_SAME,		/* in both, the same elements */
	NPSYNC_K_DIFF,		/* in both, edited in place */
	NPSYNC_K_REDO,		/* in both, replaced (deleted and made again) */
	NPSYNC_K_NEW,		/* new: made */
};

/* What becomes of each group chain of the new plan. */
enum npsync_gstate {
	NPSYNC_G_KEPT,		/* in both, its rules name the same sets: untouched */
	NPSYNC_G_NEW,		/* new: chain made, rules written */
	NPSYNC_G_REWRITE,	/* in both: flushed, rules written again */
};

/* The group and set difference of two plans, worked out before the batch is written. */
struct npsync_gdiff {
	const struct npplan *o, *n;
	struct npplan_shares so, sn;
	bool so_borrowed;		/* so is the caller's */
	bool *gone;			/* per old kernel set: no new one has its name */
	uint8_t *st_n;			/* enum npsync_kstate per new kernel set */
	uint32_t *pair;			/* new set k in both: its old index */
	uint8_t *gst;			/* enum npsync_gstate per new group */
};

/* osh: o's kernel sets when known (borrowed), else NULL or unknown (first NULL). */
int npsync_gdiff_init(struct npsync_gdiff *d, const struct npplan *o,
		      const struct npplan_shares *osh, const struct npplan *n) __must_check;
void npsync_gdiff_free(struct npsync_gdiff *d);
/* Before the dispatch changes, and after them. */
void npsync_gdiff_apply(struct npsync_bat *t, const struct npsync_gdiff *d);
void npsync_gdiff_finish(struct npsync_bat *t, const struct npsync_gdiff *d);

/* ---- npsync_batch.c: whole batches ---- */

/* The whole table replaced: NEWTABLE, DELTABLE, NEWTABLE, then everything of p. genid 0 sends
 * no NFNL_BATCH_GENID. */
void npsync_build_full(struct npsync_bat *t, const struct npplan *p, uint32_t genid);
/*
 * From what the kernel holds (old) to p; no message at all when they are equal (inner 0).
 * osh: old's kernel sets when known (first non-NULL), else worked out; p's are left in *nsh
 * (freed first) for the next diff.
 */
void npsync_build_diff(struct npsync_bat *t, const struct npplan *old,
		       const struct npplan_shares *osh, const struct npplan *p,
		       struct npplan_shares *nsh);
/* Our table removed if present: NEWTABLE, DELTABLE. */
void npsync_build_remove(struct npsync_bat *t);

/* "10.0.0.1 . tcp . 80" or "10.0.0.0-10.0.0.255 . tcp . 80-90" from a LIST_ELEM of a message
 * recorded as r; "?" when it cannot be read. */
void npsync_elem_text(const struct npsync_rec *r, const struct nlattr *elem, char *out,
		      size_t cap);

#endif
