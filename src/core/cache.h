/* SPDX-License-Identifier: MIT */
/*
 * cache.h: an informer-style store of decoded objects (k8sobj.h) of one kind, keyed by
 * namespace/name in an open-addressing hash table (O(1) average; 16 bytes a slot, at most
 * 3/4 full, so 10,000 objects take a 256 KiB table). Fed by a LIST (cache_replace) and by
 * WATCH events (cache_apply); consumers learn what changed through callbacks, as with a
 * client-go informer. Tracks the last resourceVersion, an opaque string that is only ever
 * copied, never compared for order. Pure: no I/O, no globals; one cache per watched kind.
 *
 * Ownership: the cache owns every object it holds and frees it when it is replaced, deleted
 * or the cache is freed. Objects handed to cache_replace, cache_upsert and cache_apply are
 * consumed on every outcome, success or error, so callers never free them afterwards.
 *
 * Callbacks run after the table reflects the change: on_add sees the object in the cache,
 * on_update sees the new object in the cache while the old one is still valid (it is freed
 * when the callback returns), on_delete sees an object already out of the table but still
 * valid. Callbacks may look things up but must not modify the cache. Each may be NULL.
 */
#ifndef VIRGIL_CACHE_H
#define VIRGIL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "k8sobj.h"

struct cache;

struct cache_ops {
	void (*on_add)(void *ctx, const struct k8sobj *obj);
	void (*on_update)(void *ctx, const struct k8sobj *old, const struct k8sobj *obj);
	void (*on_delete)(void *ctx, const struct k8sobj *obj);
	/*
	 * cache_replace normally reports only differences: an object whose resourceVersion is
	 * unchanged (and not "") gets no on_update. Set this to get on_update for every object
	 * present before and after, like client-go's periodic resync.
	 */
	bool resync_unchanged;
};

/*
 * A new empty cache for objects of one kind; ops (copied, may be NULL) and ctx drive the
 * callbacks. seed perturbs the hash so that names chosen by cluster users cannot be made to
 * collide on purpose; any value works, a random one is best. NULL with errno EINVAL (bad
 * kind) or ENOMEM.
 */
struct cache *cache_new(enum k8sobj_kind kind, const struct cache_ops *ops, void *ctx,
			uint32_t seed);
/* Free the cache and every object in it, without callbacks. NULL is fine. */
void cache_free(struct cache *c);

/*
 * Replace the whole content with objs[0..n) (one LIST, all pages), then set the
 * resourceVersion to rv (kept as it was when rv is NULL). Keys no longer listed are deleted
 * first (on_delete), then listed keys are added (on_add) or updated (on_update, see
 * resync_unchanged). A key listed twice counts as an update by the later object. Every
 * objs[i] is consumed and set to NULL. Returns 0, or -EINVAL (an object is NULL or of another
 * kind) / -ENOMEM, in which case the cache is unchanged and no callback ran.
 */
int cache_replace(struct cache *c, struct k8sobj **objs, size_t n, const char *rv) __must_check;

/*
 * Apply one watch event and record its resourceVersion (when not ""). ADDED and MODIFIED
 * insert or replace (a MODIFIED for an unknown key is an add); DELETED removes (an unknown
 * key is not an error and calls nothing); BOOKMARK only records ev->rv. ev->obj is consumed
 * and set to NULL; the event's other fields stay the caller's (k8sobj_event_clear). Returns
 * 0, -EINVAL (ERROR events, a missing object, another kind) or -ENOMEM; on error the cache
 * and its resourceVersion are unchanged and no callback ran.
 */
int cache_apply(struct cache *c, struct k8sobj_event *ev) __must_check;

/* Insert or replace one object (consumed). 0, -EINVAL (NULL or another kind) or -ENOMEM. */
int cache_upsert(struct cache *c, struct k8sobj *obj) __must_check;
/* Remove by key (ns NULL or "" for cluster-scoped); on_delete runs. false if absent. */
bool cache_remove(struct cache *c, const char *ns, const char *name);

/* Borrowed until the object is replaced or removed. ns NULL means "". */
const struct k8sobj *cache_get(const struct cache *c, const char *ns, const char *name);
size_t cache_count(const struct cache *c);
/* The last resourceVersion recorded, "" before any. Borrowed until the next change. */
const char *cache_rv(const struct cache *c);
/* Record a resourceVersion (a copy is kept). 0 or -ENOMEM (the old one is then kept). */
int cache_set_rv(struct cache *c, const char *rv) __must_check;
/* Bytes held: the cache, its table and every object. */
size_t cache_bytes(const struct cache *c);

/*
 * Iteration in table order (unspecified, but stable while the cache is not modified): start
 * with *pos = 0; returns NULL at the end. The cache must not change during a walk.
 */
const struct k8sobj *cache_next(const struct cache *c, size_t *pos);
#define cache_for_each(c, pos, obj) for ((pos) = 0; ((obj) = cache_next((c), &(pos)));)

#endif
