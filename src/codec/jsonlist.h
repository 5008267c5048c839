/* SPDX-License-Identifier: MIT */
/*
 * jsonlist.h: an incremental scanner for Kubernetes List responses ({"kind":"PodList",
 * "metadata":{...},"items":[...]}), so a LIST body of tens of megabytes is never held or
 * parsed whole (k8s-client.md R2.5). It owns the byte-level framing only: where each element of
 * the top-level "items" array starts and ends, and the envelope (everything else). Decoding an
 * item or the envelope is the caller's json_parse(). Pure codec: no I/O, no globals.
 *
 * Feeding. jsonlist_feed() takes the body in chunks split anywhere (mid-string, mid-escape,
 * mid-number, mid-UTF-8). Each byte is looked at once; only the current item's bytes that
 * straddle a chunk boundary are copied (an item wholly inside one chunk is handed over in
 * place), plus the envelope. Memory is bounded by max_item + max_envelope.
 *
 * What counts as "items". Only a member of the top-level object whose key, after JSON
 * unescaping, is exactly "items" ("\u0069tems" matches, as json_get() would); keys of nested
 * objects never do. If the key occurs more than once, only the first is streamed, the same
 * member json_get() returns; later ones stay in the envelope as ordinary members. Its value
 * must be an array (streamed) or null (kept in the envelope as null); anything else is -EINVAL.
 * A document without "items" is valid and yields no items.
 *
 * Validation is structural: the top level is an object; brackets balance and match; commas,
 * colons and keys are where JSON puts them; strings have valid escapes and no raw control
 * characters; nothing but whitespace follows the document. Scalars are only checked to be runs
 * of [A-Za-z0-9+-.] starting like a JSON scalar, and UTF-8 is not checked: an item or envelope
 * that passes here can still fail json_parse(), which the caller runs anyway. Every document
 * json_parse() accepts with its default limits is accepted here with the same items, as long
 * as its items and envelope fit max_item and max_envelope.
 *
 * Errors (return values of feed and finish): -EINVAL malformed ("offset N: reason", N counted
 * from the first byte ever fed), -E2BIG an item longer than max_item, an envelope longer than
 * max_envelope, or nesting deeper than JSONLIST_MAX_DEPTH; -ENOMEM; or the item callback's own
 * negative value (the ebuf is left alone then). Errors are sticky: later feed and finish calls
 * return the same value without looking at their input.
 */
#ifndef VIRGIL_JSONLIST_H
#define VIRGIL_JSONLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/buf.h"
#include "../base/compat.h"

struct ebuf;

#define JSONLIST_MAX_DEPTH 1024
#define JSONLIST_DEFAULT_ITEM (4u << 20)      /* json_parse()'s default input size */
#define JSONLIST_DEFAULT_ENVELOPE (64u << 10)

/*
 * item(ctx, p, n): the exact source text of one element of "items", without the whitespace
 * around it, a complete JSON value (not NUL-terminated). p is valid only during the call.
 * Return 0 to go on, or a negative value to stop: feed returns it and the scan is over.
 */
typedef int (*jsonlist_item_fn)(void *ctx, const char *p, size_t n);

/* Caller-embedded so it can live on the stack; fields are private to jsonlist.c. */
struct jsonlist {
	jsonlist_item_fn item;
	void *ctx;
	size_t max_item;
	size_t max_env;
	struct buf env;        /* envelope so far */
	struct buf ibuf;       /* the current item's bytes from earlier chunks */
	uint64_t off;          /* bytes fed before the current chunk */
	uint64_t item_off;     /* where the current item started */
	size_t ist;            /* where the current item starts in the current chunk */
	size_t kstart;         /* env offset of the current top-level key's text */
	size_t nitems;         /* items emitted so far */
	unsigned depth;        /* open containers */
	unsigned items_depth;  /* depth inside the streamed array; 0 before it opens */
	int err;               /* sticky */
	unsigned char state;
	unsigned char region;  /* envelope, between items, inside an item */
	unsigned char esc;     /* string escape progress */
	unsigned char null_idx;
	bool empty_ok;         /* a closing bracket may come now: the container is empty */
	bool str_key;          /* the open string is an object key */
	bool items_seen;       /* the top-level "items" key was met */
	bool items_next;       /* the next value is the items member's */
	bool items_null;       /* scanning the items member's scalar: must be null */
	bool finished;
	unsigned char stack[JSONLIST_MAX_DEPTH / 8]; /* bit set: that level is an object */
};

/*
 * Set l up for one document. max_item and max_envelope are in bytes, 0 for the defaults above.
 * Returns 0, or -EINVAL when item is NULL. Allocates nothing; pair with jsonlist_free().
 */
int jsonlist_init(struct jsonlist *l, size_t max_item, size_t max_envelope, jsonlist_item_fn item,
		  void *ctx) __must_check;

/*
 * Scan the next n bytes of the document (n may be 0), calling item() for each element that
 * ends inside them, in document order. Returns 0 or an error (see above); the ebuf is only
 * written on error.
 */
int jsonlist_feed(struct jsonlist *l, const char *p, size_t n, struct ebuf *eb) __must_check;

/*
 * Call after the last byte. 0 when the document was complete: *envelope (NUL-terminated,
 * *n bytes, borrowed, valid until jsonlist_free()) is the document with the streamed array's
 * elements and all whitespace outside strings removed, e.g.
 * {"kind":"PodList","metadata":{"resourceVersion":"5"},"items":[]}; "items":null stays null.
 * -EINVAL "offset N: document truncated" otherwise, or the sticky error. Idempotent.
 */
int jsonlist_finish(struct jsonlist *l, const char **envelope, size_t *n,
		    struct ebuf *eb) __must_check;

/* Number of items handed to the callback so far (including one that returned an error). */
size_t jsonlist_count(const struct jsonlist *l);

/* Release the buffers; l may then be initialised again. NULL-safe. */
void jsonlist_free(struct jsonlist *l);

#endif
