/* SPDX-License-Identifier: MIT */
/*
 * netns.h: network namespace handles. A process enters a namespace to open a netlink socket
 * there (the socket then stays bound to it) and comes back; the plugin is single-threaded, so
 * setns() on the one thread is the whole story.
 */
#ifndef VIRGIL_NETNS_H
#define VIRGIL_NETNS_H

#include "../base/compat.h"

struct ebuf;

/* Open path and make sure it is a network namespace: 0, -ENOENT, -EINVAL (not a netns), -errno. */
int netns_open(const char *path, int *fd, struct ebuf *eb) __must_check;
/* The calling thread's current network namespace. */
int netns_self(int *fd) __must_check;
/* Switch the calling thread to the namespace fd refers to. */
int netns_enter(int fd) __must_check;

#endif
