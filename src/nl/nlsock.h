/* SPDX-License-Identifier: MIT */
/*
 * nlsock.h: a netlink socket and the request/reply loops over it.
 *
 * A socket belongs to the network namespace it was opened in. nlsock_open() sets
 * SOCK_CLOEXEC, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK (where the kernel has them) and a
 * large receive buffer, and binds to learn its portid.
 *
 * Every request gets NLM_F_ACK and the next seq. Replies are checked: sender port 0, our
 * portid, the seq we sent; anything else is dropped and counted in ->dropped. MSG_TRUNC is
 * -EMSGSIZE. NLMSG_ERROR becomes -errno, with the kernel's extended-ack text in the ebuf.
 * Not thread-safe; one socket per thread of control.
 */
#ifndef VIRGIL_NLSOCK_H
#define VIRGIL_NLSOCK_H

#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct nlmsghdr;
struct ebuf;

struct nlsock {
	int fd;
	int proto;
	uint32_t portid;
	uint32_t seq;
	unsigned long dropped;  /* replies ignored: wrong sender, portid or seq */
	char *rbuf;             /* receive buffer, NLSOCK_RBUF bytes, owned */
};

#define NLSOCK_RBUF (64 * 1024)
#define NLSOCK_DUMP_RETRIES 5

/* Called for each reply message that is not an ACK/error/DONE. Return 0 to go on, <0 to stop
 * (that value is returned by the talk/dump call once the exchange is drained). */
typedef int (*nlsock_cb)(const struct nlmsghdr *nlh, void *ctx);

/* Open a socket of protocol proto (NETLINK_ROUTE, NETLINK_NETFILTER) in the current netns. */
int nlsock_open(struct nlsock *s, int proto) __must_check;
void nlsock_close(struct nlsock *s);  /* accepts a zeroed or closed socket (fd -1 or 0 unset) */

/*
 * Send one request (NLM_F_ACK is added, seq assigned) and wait for its ACK. cb (may be NULL)
 * sees replies such as NLM_F_ECHO copies. Returns 0 or -errno from the kernel (text in eb).
 */
int nlsock_talk(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb, void *ctx,
		struct ebuf *eb) __must_check;

/*
 * Send a dump request (NLM_F_DUMP is added) and feed every message to cb until NLMSG_DONE.
 * A dump the kernel marks NLM_F_DUMP_INTR is thrown away and restarted up to
 * NLSOCK_DUMP_RETRIES times (cb must tolerate seeing entries again: reset is its caller's
 * job via the restart callback), then -EAGAIN. restart (may be NULL) is called before each
 * retry so the caller can drop what it collected.
 */
int nlsock_dump(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb, void (*restart)(void *ctx),
		void *ctx, struct ebuf *eb) __must_check;

/*
 * Send every message in buf[0..len) (a batch built with struct nlb) in one sendmsg, each
 * given its own seq and NLM_F_ACK, and collect all ACKs. On failure returns the first error
 * and sets *failed_index (may be NULL) to the index of the message that caused it; eb has
 * the kernel's text. The send buffer is raised to fit the batch. For nfnetlink batches.
 */
int nlsock_batch(struct nlsock *s, void *buf, size_t len, size_t *failed_index,
		 struct ebuf *eb) __must_check;

#endif
