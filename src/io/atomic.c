// SPDX-License-Identifier: MIT
/*
 * atomic.c: whole-file replacement by temporary file and rename (see atomic.h). The rename
 * is atomic for readers; the two fsyncs make it atomic across a power cut too: the data
 * before the rename (or the new name may point at an empty file on ext4/xfs), the directory
 * after it (or the rename may be lost).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/util.h"
#include "atomic.h"

/* Directory part of path into dir ("." when there is none); *base points into path. */
static int split_path(const char *path, char *dir, size_t cap, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		strcpy(dir, ".");
		*base = path;
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= cap)
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
		*base = slash + 1;
	}
	return **base ? 0 : -EINVAL;
}

/* A leftover with our name is from an earlier run of this pid: ours to replace. */
static int create_excl(int dfd, const char *name, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd < 0 && errno == EEXIST && unlinkat(dfd, name, 0) == 0)
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

static int write_sync_close(int fd, const void *data, size_t n, bool sync)
{
	int r = write_all(fd, data, n);

	if (!r && sync && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	return r;
}

static int replace(const char *path, const void *data, size_t n, mode_t mode, bool sync)
{
	char dir[PATH_MAX], tmp[NAME_MAX + 1];
	const char *base;
	int dfd, fd, r;

	r = split_path(path, dir, sizeof(dir), &base);
	if (r)
		return r;
	if ((size_t)snprintf(tmp, sizeof(tmp), ".tmp.%ld.%s", (long)getpid(), base) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* openat: musl's open() adds an fcntl after O_CLOEXEC */
	dfd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = create_excl(dfd, tmp, mode);
	r = fd < 0 ? fd : write_sync_close(fd, data, n, sync);
	if (!r && renameat(dfd, tmp, dfd, base))
		r = -errno;
	if (r) {
		if (fd >= 0)
			unlinkat(dfd, tmp, 0);
		goto out;
	}
	if (sync && fsync(dfd))
		r = -errno;
out:
	close(dfd);
	return r;
}

int atomic_write(const char *path, const void *data, size_t n, mode_t mode)
{
	return replace(path, data, n, mode, true);
}

int atomic_publish(const char *path, const void *data, size_t n, mode_t mode)
{
	return replace(path, data, n, mode, false);
}

int atomic_update(const char *path, const void *data, size_t n, mode_t mode)
{
	struct buf old = BUF_INIT;
	int r;

	/* one byte more than n: a longer file must not compare equal */
	r = read_file(path, &old, n + 1);
	if (r == 0 && old.len == n && memcmp(old.p, data, n) == 0) {
		buf_free(&old);
		return 0;
	}
	buf_free(&old);
	r = atomic_write(path, data, n, mode);
	return r ? r : 1;
}
