/* SPDX-License-Identifier: MIT */
/*
 * podmsg.h: the messages between the CNI plugin and the node agent on the agent's unix
 * socket (<dataDir>/agent.sock). One request per connection, one JSON object per line:
 *
 *   plugin -> agent  {"op":"add","namespace":"x","name":"a","containerID":"c1",
 *                     "ips":["10.244.1.5","fd00:10:244:1::5"]}
 *                    {"op":"del","namespace":"x","name":"a","containerID":"c1"}
 *   agent -> plugin  {"ok":true}   or   {"ok":false,"error":"why"}
 *
 * "add" is answered only once the pod's policy is in the kernel: the plugin's ADD returns
 * after that, so the pod's first packet already meets its policy. Pure: no I/O.
 */
#ifndef VIRGIL_PODMSG_H
#define VIRGIL_PODMSG_H

#include <stdbool.h>
#include <stddef.h>
#include "../base/compat.h"
#include "cidr.h"

struct buf;
struct ebuf;

#define PODMSG_MAX 4096		/* a request or reply line, newline included */

enum podmsg_op {
	PODMSG_ADD = 1,
	PODMSG_DEL,
};

struct podmsg_req {
	enum podmsg_op op;
	char ns[254];		/* DNS-1123 label: 63; kept generous, checked non-empty */
	char name[254];
	char id[256];		/* container ID */
	struct ipaddr ip[2];	/* [0] IPv4, [1] IPv6; family 0 when absent (add only) */
};

/* Appends the request line. 0, -EINVAL (empty ns, name or id; a bad op), -ENOMEM. */
int podmsg_req_encode(const struct podmsg_req *r, struct buf *b) __must_check;
/* Decodes one line (without or with its newline). 0 or -EINVAL/-E2BIG/-ENOMEM, reason in eb. */
int podmsg_req_decode(const char *p, size_t n, struct podmsg_req *r, struct ebuf *eb)
	__must_check;

/* Appends {"ok":true} or {"ok":false,"error":why} and a newline. 0 or -ENOMEM. */
int podmsg_reply_encode(bool ok, const char *why, struct buf *b) __must_check;
/*
 * Decodes a reply: 0 and *ok; when !ok, the agent's reason is copied into why (truncated).
 * -EINVAL/-E2BIG/-ENOMEM for a malformed reply (reason in eb).
 */
int podmsg_reply_decode(const char *p, size_t n, bool *ok, char *why, size_t cap,
			struct ebuf *eb) __must_check;

#endif
