/* SPDX-License-Identifier: MIT */
/*
 * netns.h: network namespace handles. A process enters a namespace to open a netlink socket
 * there (the socket then stays bound to it) and comes back; the plugin is single-threaded, so
 * setns() on the one thread is the whole story. Named namespaces (`virgil lab`) are made and
 * removed the way iproute2 does, so `ip netns` lists and enters them, without running `ip`.
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

/* Where named namespaces live, as iproute2 keeps them. */
#define NETNS_RUN_DIR "/run/netns"

/*
 * A new, empty network namespace kept alive by a bind mount on NETNS_RUN_DIR/name, as `ip
 * netns add` makes it: the directory is created and made a shared mount point if needed (so
 * the mount propagates to other mount namespaces), the namespace is made by a short-lived
 * child (unshare), so the calling thread never changes namespace. name: 1..64 bytes of
 * [A-Za-z0-9_.-] starting with a letter or digit. 0, -EINVAL (name), -EEXIST (taken), or
 * -errno (mount: needs CAP_SYS_ADMIN), with the reason in eb. Nothing is left on failure.
 */
int netns_create(const char *name, struct ebuf *eb) __must_check;
/*
 * Unmount (lazily: processes still inside keep it until they leave) and remove
 * NETNS_RUN_DIR/name. 0, -ENOENT when there is no such namespace, -EINVAL for a bad name, or
 * -errno with the reason in eb. Idempotent in effect.
 */
int netns_delete(const char *name, struct ebuf *eb) __must_check;

#endif
