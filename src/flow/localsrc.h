/* SPDX-License-Identifier: MIT */
/*
 * localsrc.h: the agent's object source when it has no API server (`virgild --source DIR`,
 * used by `virgil lab`): a folder of JSON objects, watched for changes, feeding the very
 * caches (core/cache.h) the reflectors feed, so everything downstream is the same code.
 *
 * Folder layout: every regular file DIR/<anything>.json holds one object (Node, Pod,
 * Namespace, NetworkPolicy; the "kind" member says which) or a "List" of them. Files whose
 * names start with "." are ignored, except DIR/.generation: a decimal counter the writer
 * bumps after each complete change, which localsrc_generation() reports once everything
 * written before it has been applied. Writers replace files atomically (rename).
 *
 * Changes are picked up through inotify (IN_CLOSE_WRITE, IN_MOVED_TO, IN_DELETE,
 * IN_MOVED_FROM) on DIR, with a rescan of the whole folder on IN_Q_OVERFLOW. A file that
 * changes is decoded again; objects it held before and no longer holds are deleted from
 * their caches. A file that does not decode is logged once and its previous objects stay.
 */
#ifndef VIRGIL_LOCALSRC_H
#define VIRGIL_LOCALSRC_H

#include <stdint.h>
#include "../base/compat.h"
#include "../core/k8sobj.h"

struct cache;
struct ev;
struct localsrc;

struct localsrc_ops {
	/* The first full scan is done: every cache reflects the folder. */
	void (*synced)(void *ctx);
	/* Objects of this kind changed (one call per kind per burst of events). */
	void (*changed)(void *ctx, enum k8sobj_kind kind);
};

/*
 * caches[kind] is the cache for each kind it should fill (NULL: objects of that kind are
 * ignored). The first scan runs from the event loop right after localsrc_new returns.
 * 0, -errno (eb says why: missing folder, inotify limits).
 */
int localsrc_new(struct ev *ev, const char *dir, struct cache *const caches[K8SOBJ_NKINDS],
		 const struct localsrc_ops *ops, void *ctx, struct localsrc **out,
		 struct ebuf *eb) __must_check;
void localsrc_free(struct localsrc *s);
/* The last DIR/.generation value seen with everything before it applied (0: none yet). */
uint64_t localsrc_generation(const struct localsrc *s);

#endif
