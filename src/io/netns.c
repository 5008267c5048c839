// SPDX-License-Identifier: MIT
/*
 * netns.c: open, check and enter network namespaces. The type check matters: CNI_NETNS comes
 * from the runtime, and setns() on a handle of another namespace type (or a plain file) must
 * become a clear error before anything is created.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "../base/err.h"
#include "netns.h"

int netns_open(const char *path, int *fd, struct ebuf *eb)
{
	int f, t;

	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0) {
		int e = errno;

		ebuf_set(eb, "cannot open network namespace %s: %s", path, strerror(e));
		return -e;
	}
	t = ioctl(f, NS_GET_NSTYPE);
	if (t != CLONE_NEWNET) {
		ebuf_set(eb, "%s is not a network namespace", path);
		close(f);
		return -EINVAL;
	}
	*fd = f;
	return 0;
}

int netns_self(int *fd)
{
	int f = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (f < 0)
		return -errno;
	*fd = f;
	return 0;
}

int netns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}
