// SPDX-License-Identifier: MIT
/* deps: nl/rtnl.c nl/rtnl_link.c nl/nlsock.c nl/nlmsg.c core/cidr.c base/err.c base/mem.c */
/*
 * fuzz_rtnl.c: the input is a dump as the kernel would send it (messages back to back); each
 * message goes through all three rtnetlink parsers, and what they accept must hold up: names
 * terminated and short, prefixes within their family, addresses of a known family.
 * Seeds are recorded link, address and route dumps from a private namespace.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nl/nlmsg.h"
#include "nl/rtnl.h"

static void check_link(const struct rtnl_link *l)
{
	if (l->ifindex <= 0 || l->link < 0 || !memchr(l->name, 0, sizeof(l->name)) ||
	    !l->name[0] || !memchr(l->kind, 0, sizeof(l->kind)))
		__builtin_trap();
}

static void check_cidr(const struct cidr *c)
{
	size_t n = ipaddr_len(c->addr.family);

	if (!n || c->prefix > 8 * n)
		__builtin_trap();
}

static void check_route(const struct rtnl_route *r)
{
	check_cidr(&r->dst);
	if (r->oif < 0 || (r->has_gw && r->gw.family != r->dst.addr.family))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh;
	struct rtnl_link l;
	struct rtnl_addr a;
	struct rtnl_route r;
	size_t left;
	/* a receive buffer is aligned; libFuzzer's copy usually is too, but do not rely on it */
	void *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for_each_nlmsg(nlh, buf, size, left) {
		if (rtnl_parse_link(nlh, &l) == 0)
			check_link(&l);
		if (rtnl_parse_addr(nlh, &a) == 0) {
			check_cidr(&a.addr);
			if (a.ifindex <= 0)
				__builtin_trap();
		}
		if (rtnl_parse_route(nlh, &r) == 0)
			check_route(&r);
	}
	free(buf);
	return 0;
}
