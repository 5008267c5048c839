/* SPDX-License-Identifier: MIT */
/*
 * routes_int.h: private to the node route planner (src/core/routes*.c): the small helpers
 * its files share. The jobs the files split between them:
 *   routes.c       the planner: legs, direct or VXLAN, conflicts; VTEP MAC and gateway
 *   routes_diff.c  normalise a set; diff want against have into ordered operations
 *   routes_fmt.c   text in ip(8) words: operations, MACs, skip reasons
 */
#ifndef VIRGIL_ROUTES_INT_H
#define VIRGIL_ROUTES_INT_H

#include <stddef.h>
#include <stdlib.h>
#include "cidr.h"

/* qsort's arguments are declared nonnull even for an empty array */
static inline void routes_sort(void *v, size_t n, size_t size,
			       int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/* Address, then prefix length. */
static inline int routes_cidr_cmp(const struct cidr *a, const struct cidr *b)
{
	int c = ipaddr_cmp(&a->addr, &b->addr);

	return c ? c : (int)a->prefix - (int)b->prefix;
}

#endif
