/* SPDX-License-Identifier: MIT */
/*
 * ipam.h: which address a new pod gets. Given a pod range and the addresses already leased,
 * pick the next free one round-robin, the way the reference host-local plugin does, so a
 * crash-looping pod does not get the address it just released. Pure: the lease store
 * (io/leases.h) supplies the used list and the last-reserved hint, and records the choice.
 */
#ifndef VIRGIL_IPAM_H
#define VIRGIL_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include "../base/compat.h"
#include "cidr.h"

struct ebuf;

/*
 * One pod range: the subnet, the first and last address handed out, and the gateway, which
 * is never handed out. Callers may narrow start/end or move the gateway after
 * ipam_range_init(); ipam_pick() only needs start ≤ end and one family throughout.
 */
struct ipam_range {
	struct cidr subnet;
	struct ipaddr start, end, gateway;
};

/*
 * Reserve the network address, the gateway (network+1) and, for IPv4, the broadcast
 * address: start = network+2, end = last-1 (IPv4) or last (IPv6). Fails with -EINVAL and a
 * reason in eb when the subnet has host bits set, is of no known family, or is too small to
 * hold one pod address (IPv4 prefix > 30, IPv6 prefix > 126).
 */
int ipam_range_init(struct ipam_range *r, const struct cidr *subnet, struct ebuf *eb) __must_check;

/* start ≤ a ≤ end, same family, and a is not the gateway. */
bool ipam_usable(const struct ipam_range *r, const struct ipaddr *a);

/*
 * Pick the next free address. The first candidate is last+1 when last (may be NULL) lies in
 * [start, end], otherwise start; the search runs to end, wraps to start once, and skips the
 * gateway and everything in used[]. used must be sorted ascending by ipaddr_cmp (see
 * ipam_sort) and may hold duplicates and addresses outside the range. The work is
 * O(log nused + nused), never proportional to the size of the range, so a /64 with
 * thousands of leases is as quick as a /24. Returns 0 with *out set, -ENOSPC when every
 * usable address is in used[], or -EINVAL when start/end are not one family with start ≤ end.
 */
int ipam_pick(const struct ipam_range *r, const struct ipaddr *last, const struct ipaddr *used,
	      size_t nused, struct ipaddr *out) __must_check;

/* Sort ascending by ipaddr_cmp, the order ipam_pick() needs. */
void ipam_sort(struct ipaddr *v, size_t n);

#endif
