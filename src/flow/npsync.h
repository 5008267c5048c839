/* SPDX-License-Identifier: MIT */
/*
 * npsync.h: keeps the kernel's `table inet virgil` equal to a plan (core/npplan.h) through
 * our own nf_tables netlink (nl/nftmsg.h). The first apply (and the first after any failure)
 * is a full resync: one batch that replaces the whole table (NEWTABLE, DELTABLE, NEWTABLE,
 * then everything), guarded by the generation id read just before (ERESTART: read it again
 * and retry, a few times). Every later apply sends only the difference from the last plan
 * the kernel accepted, in ONE batch: new groups' sets, elements and chains first, then
 * element deletions before additions (a reused address never inherits old permissions),
 * dispatch changes as DELSETELEM + NEWSETELEM of the same key in the same batch (no packet
 * sees the pod unmapped), and removed groups last. The hooked table is never deleted in
 * steady state.
 */
#ifndef VIRGIL_NPSYNC_H
#define VIRGIL_NPSYNC_H

#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct ebuf;
struct npplan;
struct npsync;

struct npsync_stats {
	int full;		/* 1 when this apply was a full resync */
	int adopted;		/* full, and the kernel already held exactly the plan: nothing sent */
	size_t msgs;		/* netlink messages in the batch (0: nothing to do) */
	size_t bytes;		/* batch size */
	size_t elems_added, elems_deleted;
	size_t groups_added, groups_deleted;
	size_t sets_replaced;	/* interval sets made again rather than pruned */
};

/* Open the netfilter socket (in the caller's network namespace). 0, -errno. */
int npsync_new(struct npsync **out, struct ebuf *eb) __must_check;
void npsync_free(struct npsync *s);

/*
 * Make the kernel hold *plan. The first apply (and the first after a failure or
 * npsync_invalidate) is a full resync: when the kernel's table already reads back exactly as
 * the plan's would (an agent restart), it is adopted as it is, handles and all; otherwise the
 * whole table is replaced in one batch checked against the ruleset generation. On success the plan's contents move into s (it becomes "what
 * the kernel holds"; *plan is zeroed) and 0 is returned. On failure -errno with the
 * kernel's reason, naming the message that caused it, in eb; *plan is untouched and the next
 * apply is a full resync. st may be NULL.
 */
int npsync_apply(struct npsync *s, struct npplan *plan, struct npsync_stats *st,
		 struct ebuf *eb) __must_check;

/* Forget what the kernel holds: the next apply is a full resync (after the table may have
 * been changed behind our back, e.g. by hand with nft). */
void npsync_invalidate(struct npsync *s);

/* Remove our table (agent uninstall, lab down): 0, or -errno; absent is 0. */
int npsync_remove(struct npsync *s, struct ebuf *eb) __must_check;

#endif
