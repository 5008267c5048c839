// SPDX-License-Identifier: MIT
/*
 * netns.c: open, check and enter network namespaces; create and delete named ones. The type
 * check matters: CNI_NETNS comes from the runtime, and setns() on a handle of another
 * namespace type (or a plain file) must become a clear error before anything is created.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "../base/err.h"
#include "../base/util.h"
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

static bool name_ok(const char *name, struct ebuf *eb)
{
	size_t n = strnlen(name, 65);

	if (n && n <= 64 && safe_name(name, n))
		return true;
	ebuf_set(eb, "bad network namespace name \"%.64s\"", name);
	return false;
}

/*
 * iproute2's recipe: a mount on /run/netns/NAME must propagate to every mount namespace, so
 * the directory becomes a shared mount point, bound onto itself first when it is not a mount
 * point yet (MS_SHARED on a plain directory is EINVAL).
 */
static int run_dir_shared(struct ebuf *eb)
{
	bool bound = false;

	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		goto fail;
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || bound)
			goto fail;
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			goto fail;
		bound = true;
	}
	return 0;
fail:
	ebuf_set(eb, "cannot prepare %s: %s", NETNS_RUN_DIR, strerror(errno));
	return -errno;
}

/* The child: a new namespace for itself, pinned by a bind mount of its own handle. Only
 * async-signal-safe calls: the parent may have threads. */
static __noreturn void make_child(const char *path)
{
	if (unshare(CLONE_NEWNET) < 0)
		_exit(errno);
	if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
		_exit(errno);
	_exit(0);
}

int netns_create(const char *name, struct ebuf *eb)
{
	char path[sizeof(NETNS_RUN_DIR) + 72];
	int fd, r, status;
	pid_t pid;

	if (!name_ok(name, eb))
		return -EINVAL;
	r = run_dir_shared(eb);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		ebuf_set(eb, r == -EEXIST ? "network namespace %s exists already" :
			 "cannot create %s: %s", r == -EEXIST ? name : path, strerror(-r));
		return r;
	}
	close(fd);
	pid = fork();
	if (pid == 0)
		make_child(path);
	if (pid < 0)
		r = -errno;
	while (pid > 0 && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			r = -errno;
			break;
		}
	if (!r && pid > 0)
		r = WIFEXITED(status) ? -WEXITSTATUS(status) : -ECHILD;
	if (r) {
		ebuf_set(eb, "cannot create network namespace %s: %s", name, strerror(-r));
		unlink(path);
	}
	return r;
}

int netns_delete(const char *name, struct ebuf *eb)
{
	char path[sizeof(NETNS_RUN_DIR) + 72];
	int r = 0;

	if (!name_ok(name, eb))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	/* EINVAL: not a mount point (a half-made one); ENOENT: nothing there */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		r = -errno;
	else if (unlink(path) < 0)
		r = -errno;
	if (r && r != -ENOENT)
		ebuf_set(eb, "cannot delete network namespace %s: %s", name, strerror(-r));
	return r;
}
