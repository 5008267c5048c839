/* SPDX-License-Identifier: MIT */
/*
 * reach.h: the reachability matrix `virgil lab probe` prints, as a truth-table grid for people
 * and as JSON for programs, and that JSON read back so tests and the lab can compare matrices.
 * Pure: no I/O, no state; every function is re-entrant.
 *
 * Grid (every line ends in '\n'; columns are as wide as their pod id, one space apart; no
 * trailing blanks):
 *
 *   TCP/80 (IPv4)
 *   from\to x/a x/b
 *   x/a     .   X
 *   x/b     .   .
 *
 * Rows are sources, columns destinations; '.' connected, 'X' blocked.
 *
 * JSON (compact, no newline):
 *   {"port":80,"protocol":"TCP","family":4,"pods":["x/a","x/b"],
 *    "matrix":{"x/a":{"x/a":true,"x/b":false},"x/b":{"x/a":true,"x/b":true}}}
 *
 * Pods are rendered in the order given; the lab sorts them by "ns/name" first.
 */
#ifndef VIRGIL_REACH_H
#define VIRGIL_REACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct buf;
struct ebuf;

#define REACH_MAX_PODS 512	/* pods in a matrix read back (262,144 cells) */
#define REACH_MAX_ID 320	/* bytes in a pod id, NUL excluded: namespace 63 + "/" + name 253 */

/*
 * One probe's result. A caller that renders fills it with borrowed pointers and owned == NULL;
 * reach_parse_json() fills every field and points them into one allocation in owned, which
 * reach_release() frees.
 */
struct reach {
	uint16_t port;
	int proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	int family;			/* AF_INET or AF_INET6 */
	size_t n;			/* pods */
	const char *const *ids;		/* n pod ids, "ns/name" */
	const bool *matrix;		/* n * n cells, [from * n + to] */
	void *owned;
};

/* The cell from -> to; from and to must be < r->n. */
static inline bool reach_cell(const struct reach *r, size_t from, size_t to)
{
	return r->matrix[from * r->n + to];
}

/*
 * Append the grid to b. 0, -EINVAL (protocol or family not one of the above, a NULL id) or
 * -ENOMEM; on error b may hold part of the grid.
 */
int reach_render_grid(const struct reach *r, struct buf *b) __must_check;

/*
 * Append the JSON document to b. 0, -EINVAL (as above, or two pods with one id, which the JSON
 * object form cannot hold), -EILSEQ (an id that is not UTF-8) or -ENOMEM; on error b may hold
 * part of the document.
 */
int reach_render_json(const struct reach *r, struct buf *b) __must_check;

/*
 * Read the JSON above from p[0..n) into *out (zeroed first; released on error). Strict: port
 * 1..65535, protocol "TCP" or "UDP", family 4 or 6, pods a list of distinct non-empty ids of at
 * most REACH_MAX_ID bytes without NUL, at most REACH_MAX_PODS of them; matrix an object with
 * exactly one member per pod, each an object with exactly one boolean per pod (members in any
 * order). Unknown top-level members are ignored. 0, -EINVAL (ebuf says what and where, e.g.
 * "matrix.x/a.x/b: expected true or false"), -E2BIG (a limit) or -ENOMEM.
 */
int reach_parse_json(const char *p, size_t n, struct reach *out, struct ebuf *eb) __must_check;

/* Free what reach_parse_json() allocated and zero *r. NULL-safe; a no-op for borrowed ones. */
void reach_release(struct reach *r);

/* Same port, protocol, family, pods (in order) and cells. */
bool reach_eq(const struct reach *a, const struct reach *b);

/*
 * Append one line per cell where got differs from want, "x/a -> x/b: want ., got X\n", and
 * set *ndiff to their count. Both must have the same pods in the same order (else -EINVAL);
 * port, protocol and family are not compared. 0, -EINVAL or -ENOMEM.
 */
int reach_diff(const struct reach *got, const struct reach *want, struct buf *b,
	       size_t *ndiff) __must_check;

#endif
