/* SPDX-License-Identifier: MIT */
/*
 * rtnl_int.h: private to the rtnl module (rtnl.c, rtnl_link.c, rtnl_neigh.c); nothing outside
 * src/nl/rtnl*.c may include it. The helpers the three files share: argument checks and
 * address attributes for the builders and parsers, sending one built request, and the dump
 * context with its restart and error paths. The tiny ones are inline here, the rest live in
 * rtnl.c.
 */
#ifndef VIRGIL_RTNL_INT_H
#define VIRGIL_RTNL_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nlmsg.h"
#include "nlsock.h"
#include "rtnl.h"

/* The families struct ipaddr holds: AF_INET and AF_INET6. */
static inline bool rtnl_family_ok(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* An argument no request can express: sticky, like an overflow, and checked at the same place. */
static inline void rtnl_bad_arg(struct nlb *b)
{
	if (!b->err)
		b->err = -EINVAL;
}

/* An address attribute holds exactly the address's bytes, in network order. */
static inline void rtnl_put_ipaddr(struct nlb *b, uint16_t type, const struct ipaddr *a)
{
	nlb_put(b, type, a->a, ipaddr_len(a->family));
}

/*
 * Read address attribute a (may be NULL) of family into *out. -EINVAL when a is missing, the
 * family has no addresses or the attribute is not exactly as long as its addresses.
 */
int rtnl_get_ipaddr(const struct nlattr *a, int family, struct ipaddr *out) __must_check;

/*
 * Send the one request built in b and wait for its answer, replies going to cb (may be NULL).
 * A sticky builder error is not sent: -EMSGSIZE is reported as a request too large for its
 * buffer, -EINVAL with the text inval (what the builder refused).
 */
int rtnl_talk(struct nlsock *s, struct nlb *b, nlsock_cb cb, void *arg, const char *inval,
	      struct ebuf *eb) __must_check;

/*
 * The part of every dump's context the shared paths need; each kind's context starts with one
 * and adds its callback and filters. family is the kind's family filter where it has one.
 */
struct rtnl_dump_ctx {
	void (*restart)(void *ctx);
	void *ctx;
	struct ebuf *eb;
	int family;
	int cb_err;     /* what the caller's callback returned to stop, 0 if it did not */
};

/* A dumped message the kind's parser calls malformed: fills d->eb, returns -EBADMSG. */
int rtnl_dump_bad(struct rtnl_dump_ctx *d, const struct nlmsghdr *nlh);

/*
 * Run the dump request built in b; cb gets each message with d as its context, which is why
 * d must be the first member of the kind's context. 0 or -errno, the reason in d->eb.
 */
int rtnl_dump_send(struct nlsock *s, struct nlb *b, nlsock_cb cb,
		   struct rtnl_dump_ctx *d) __must_check;

#endif
