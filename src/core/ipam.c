// SPDX-License-Identifier: MIT
/*
 * ipam.c: pod range set-up and the round-robin address picker (see ipam.h). The picker walks
 * the candidate addresses and the sorted used list together, so each step either returns a
 * free address or consumes one used entry: the loop is bounded by the lease count, not by
 * the 2^64 addresses of an IPv6 range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/err.h"
#include "ipam.h"

int ipam_range_init(struct ipam_range *r, const struct cidr *subnet, struct ebuf *eb)
{
	size_t bits = 8 * ipaddr_len(subnet->addr.family);
	char txt[CIDR_STRLEN];

	if (!bits || subnet->prefix > bits) {
		ebuf_set(eb, "subnet: not an IPv4 or IPv6 prefix");
		return -EINVAL;
	}
	if (cidr_format(subnet, txt, sizeof(txt)))
		strcpy(txt, "?");
	if (cidr_has_host_bits(subnet)) {
		ebuf_set(eb, "subnet %s has host bits set", txt);
		return -EINVAL;
	}
	/* network, gateway and (IPv4) broadcast leave nothing in a /31 or /127 */
	if (subnet->prefix > bits - 2) {
		ebuf_set(eb, "network %s too small to allocate from", txt);
		return -EINVAL;
	}
	r->subnet = *subnet;
	cidr_first(subnet, &r->gateway);
	ipaddr_inc(&r->gateway);
	r->start = r->gateway;
	ipaddr_inc(&r->start);
	cidr_last(subnet, &r->end);
	if (subnet->addr.family == AF_INET)
		ipaddr_dec(&r->end);
	return 0;
}

static bool in_span(const struct ipam_range *r, const struct ipaddr *a)
{
	return ipaddr_cmp(a, &r->start) >= 0 && ipaddr_cmp(a, &r->end) <= 0;
}

bool ipam_usable(const struct ipam_range *r, const struct ipaddr *a)
{
	return a->family == r->start.family && in_span(r, a) && !ipaddr_eq(a, &r->gateway);
}

/* Index of the first entry ≥ a. */
static size_t lower_bound(const struct ipaddr *v, size_t n, const struct ipaddr *a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ipaddr_cmp(&v[mid], a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * First address in [c, hi] that is neither the gateway nor in used[]. Every blocked
 * candidate is the gateway or matches used[i], which the next step moves past, so this runs
 * at most nused + 2 times.
 */
static bool scan(const struct ipam_range *r, struct ipaddr c, const struct ipaddr *hi,
		 const struct ipaddr *used, size_t nused, struct ipaddr *out)
{
	size_t i = lower_bound(used, nused, &c);

	while (ipaddr_cmp(&c, hi) <= 0) {
		while (i < nused && ipaddr_cmp(&used[i], &c) < 0)
			i++;
		if (!ipaddr_eq(&c, &r->gateway) && (i == nused || !ipaddr_eq(&used[i], &c))) {
			*out = c;
			return true;
		}
		if (!ipaddr_inc(&c))
			return false;
	}
	return false;
}

int ipam_pick(const struct ipam_range *r, const struct ipaddr *last, const struct ipaddr *used,
	      size_t nused, struct ipaddr *out)
{
	struct ipaddr first = r->start, hi;

	if (!ipaddr_len(r->start.family) || r->end.family != r->start.family ||
	    ipaddr_cmp(&r->start, &r->end) > 0)
		return -EINVAL;
	if (last && last->family == r->start.family && in_span(r, last) &&
	    ipaddr_cmp(last, &r->end) < 0) {
		first = *last;
		ipaddr_inc(&first);
	}
	if (scan(r, first, &r->end, used, nused, out))
		return 0;
	if (ipaddr_cmp(&first, &r->start) > 0) {
		hi = first;
		ipaddr_dec(&hi);
		if (scan(r, r->start, &hi, used, nused, out))
			return 0;
	}
	return -ENOSPC;
}

static int cmp_qsort(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

void ipam_sort(struct ipaddr *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_qsort);
}
