/* SPDX-License-Identifier: MIT */
/*
 * nlsock.h: a netlink socket and the request/reply loops over it.
 *
 * A socket belongs to the network namespace it was opened in. nlsock_open() sets
 * SOCK_CLOEXEC, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK (where the kernel has them) and a
 * large receive buffer, and binds to learn its portid.
 *
 * Every request gets NLM_F_REQUEST, NLM_F_ACK and the next seq (written into the caller's
 * message). Replies are checked: sender port 0, our portid, the seq we sent; anything else is
 * dropped and counted in ->dropped. MSG_TRUNC is -EMSGSIZE. NLMSG_ERROR becomes -errno. Every
 * call clears eb first and, on failure, leaves the reason there: the kernel's extended-ack
 * text ("kernel: <msg> (offending attribute at byte N)"), else "kernel: <strerror>", or the
 * local cause ("netlink: ..."). A failed exchange is still read to its end, so the socket
 * stays usable. No reply within NLSOCK_TIMEOUT_MS is -ETIMEDOUT.
 *
 * With NETLINK_GET_STRICT_CHK on, rtnetlink dump requests must carry the full family header
 * (struct ifinfomsg, ifaddrmsg, rtmsg...) zeroed except for the filters meant, not rtgenmsg.
 * Not thread-safe; one socket per thread of control; callbacks must not use the same socket.
 */
#ifndef VIRGIL_NLSOCK_H
#define VIRGIL_NLSOCK_H

#include <stdbool.h>
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
	bool big;               /* receive buffer raised (first dump or large batch) */
	/* after nlsock_batch() failed at a message: the byte offset in that message of the
	 * attribute the kernel's extended ack blamed (an element in a list, say), else 0 */
	uint32_t err_offset;
};

#define NLSOCK_RBUF (64 * 1024)
#define NLSOCK_DUMP_RETRIES 5
#define NLSOCK_TIMEOUT_MS 5000

/* Called for each reply message that is not an ACK/error/DONE/NOOP; nlh points into s->rbuf
 * and is valid only during the call. Return 0 to go on, <0 to stop (that value is returned by
 * the talk/dump call once the exchange is drained; later replies no longer reach cb). */
typedef int (*nlsock_cb)(const struct nlmsghdr *nlh, void *ctx);

/* Open a socket of protocol proto (NETLINK_ROUTE, NETLINK_NETFILTER) in the current netns.
 * 0 or -errno; on failure s is left closed. */
int nlsock_open(struct nlsock *s, int proto) __must_check;
void nlsock_close(struct nlsock *s);  /* accepts a zeroed or closed socket (fd -1 or 0 unset) */

/*
 * Send one request (NLM_F_ACK is added, seq assigned) and wait for its ACK. cb (may be NULL)
 * sees every other reply carrying our seq before the ACK: the answer to a GET, and the
 * NLM_F_ECHO copy of what a NEW/DEL request did (the kernel sends those before the ACK).
 * Returns 0 or -errno from the kernel (text in eb) or from cb.
 */
int nlsock_talk(struct nlsock *s, struct nlmsghdr *req, nlsock_cb cb, void *ctx,
		struct ebuf *eb) __must_check;

/*
 * Send a dump request (NLM_F_DUMP and NLM_F_ACK are added) and feed every message to cb until
 * NLMSG_DONE, whose error payload (a dump that failed midway) is returned. The kernel does
 * not ack a dump it started; an NLMSG_ERROR for our seq (a refused request) also ends it.
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
 *
 * On a NETLINK_NETFILTER socket a batch is NFNL_MSG_BATCH_BEGIN ... NFNL_MSG_BATCH_END: the
 * two markers must be first and last (else -EINVAL before sending) and get a seq but no
 * NLM_F_ACK, as the kernel does not answer them. A batch-wide failure (no nf_tables, commit
 * refused) is reported against the BEGIN marker, index 0. Elsewhere (rtnetlink) the messages
 * are simply processed in order, each acked; there is no atomicity. "The first error" is the
 * one of the lowest message index; *failed_index is SIZE_MAX when the failure is not one
 * message's (send, timeout, lost answers). Replies other than ACK/error are ignored. An
 * empty batch (len 0) sends nothing and returns 0.
 */
int nlsock_batch(struct nlsock *s, void *buf, size_t len, size_t *failed_index,
		 struct ebuf *eb) __must_check;

#endif
