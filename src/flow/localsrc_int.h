/* SPDX-License-Identifier: MIT */
/*
 * localsrc_int.h: private to the local object source (localsrc.c, localsrc_decode.c). Reading
 * one file of the folder into decoded objects, kept apart from the folder watching so each
 * file does one job.
 */
#ifndef VIRGIL_LOCALSRC_INT_H
#define VIRGIL_LOCALSRC_INT_H

#include <stddef.h>
#include "../base/compat.h"
#include "../core/k8sobj.h"

struct cache;
struct ebuf;

/* The objects of one file, owned. */
struct localsrc_objs {
	struct k8sobj **v;
	size_t n, cap;
};

#define LOCALSRC_MAX_FILE (16u << 20)	/* bytes in one file: a List of thousands of pods */

/* Free every object and the array; o is left empty and reusable. */
void localsrc_objs_clear(struct localsrc_objs *o);

/*
 * Read the file at path and decode its object, or each item of a List ("List": every item by
 * its own kind; "PodList" and the like: items may omit kind), keeping only kinds that have a
 * cache (others, Services say, are skipped). Every kept object has a name. Returns 0 with o
 * filled; -ENOENT when the file is gone or is not a regular file; -EINVAL (syntax, a bad
 * object: eb says where, "items[2].metadata.name: missing"), -E2BIG or -EFBIG (too big), all
 * three meaning "this version is unusable"; -ENOMEM or another read error (try again). o is
 * empty on error.
 */
int localsrc_read(const char *path, struct cache *const caches[K8SOBJ_NKINDS],
		  struct localsrc_objs *o, struct ebuf *eb) __must_check;

#endif
