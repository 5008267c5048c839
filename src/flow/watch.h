/* SPDX-License-Identifier: MIT */
/*
 * watch.h: one reflector per resource, as client-go runs them: LIST (resourceVersion=0, pages
 * of 500 with continue) replaces the cache, then WATCH from the list's resourceVersion with
 * bookmarks and a random timeout; a watch that ends is resumed from the last resourceVersion;
 * 410 Gone (HTTP status or ERROR event) relists; failures back off (0.8 s doubling to 30 s,
 * jitter, reset after two healthy minutes), honouring Retry-After.
 *
 * Consumers see changes through the cache's callbacks (core/cache.h); synced() is called after
 * every completed LIST, so a consumer can act on a consistent view.
 */
#ifndef VIRGIL_WATCH_H
#define VIRGIL_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include "../base/compat.h"
#include "../core/k8sobj.h"

struct cache;
struct ev;
struct k8s_client;
struct watch;

struct watch_res {
	const char *name;           /* for log lines: "nodes" */
	enum k8sobj_kind kind;
	const char *path;           /* collection path: "/api/v1/nodes" */
	const char *field_selector; /* optional, raw ("metadata.name=kubernetes") */
	const char *label_selector; /* optional, raw */
};

struct watch_ops {
	void (*synced)(void *ctx, struct watch *w);   /* a LIST completed and was applied */
	void (*changed)(void *ctx, struct watch *w);  /* a watch event was applied */
	/* the API server could not be reached or refused us (err < 0): for failover decisions */
	void (*failed)(void *ctx, struct watch *w, int err, int status);
};

/* res must outlive the watch; rnd feeds the backoff's jitter. */
struct watch *watch_new(struct ev *ev, struct k8s_client *c, const struct watch_res *res,
			struct cache *cache, const struct watch_ops *ops, void *ctx,
			uint32_t (*rnd)(void *), void *rnd_ctx);
void watch_free(struct watch *w);
/* Begin (or, after watch_stop, resume with a fresh LIST). */
void watch_start(struct watch *w);
/* Abandon the current request and start over with a LIST right away (server changed). */
void watch_restart(struct watch *w);
bool watch_synced(const struct watch *w);
const char *watch_name(const struct watch *w);
/* LIST and WATCH requests this reflector has started. */
uint64_t watch_requests(const struct watch *w);

#endif
