/* SPDX-License-Identifier: MIT */
/*
 * podsock.h: the agent's end of the plugin <-> agent socket (core/podmsg.h): a unix stream
 * socket, mode 0600, one request per connection. A request that does not arrive whole within
 * PODSOCK_READ_MS, or does not decode, is answered with an error and closed; a decoded one
 * goes to the callback, which answers later with podsock_reply() (the agent answers an ADD
 * once the pod's policy is in the kernel).
 */
#ifndef VIRGIL_PODSOCK_H
#define VIRGIL_PODSOCK_H

#include <stdbool.h>
#include "../base/compat.h"

struct ebuf;
struct ev;
struct podmsg_req;
struct podsock;
struct podsock_conn;

#define PODSOCK_READ_MS 2000

/* Exactly one podsock_reply() per call, now or later; c stays valid until then. */
typedef void podsock_fn(void *ctx, struct podsock_conn *c, const struct podmsg_req *r);

/* Binds path (a stale socket there is replaced). 0 or -errno with the reason in eb. */
int podsock_new(struct ev *ev, const char *path, podsock_fn *fn, void *ctx,
		struct podsock **out, struct ebuf *eb) __must_check;
/* Closes the listener and every connection (unanswered ones get no reply), unlinks path. */
void podsock_free(struct podsock *s);
/* Answer and close. A peer that went away is not an error. */
void podsock_reply(struct podsock_conn *c, bool ok, const char *why);

#endif
