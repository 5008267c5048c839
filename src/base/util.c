// SPDX-License-Identifier: MIT
/* util.c: strict number parsing and whole-buffer and whole-file I/O (see util.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "util.h"

int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int read_all(int fd, struct buf *b, size_t max)
{
	for (;;) {
		ssize_t r;
		int e = buf_reserve(b, 4096);

		if (e)
			return e;
		r = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return 0;
		b->len += (size_t)r;
		b->p[b->len] = '\0';
		if (max && b->len > max)
			return -EMSGSIZE;
	}
}

int read_file(const char *path, struct buf *b, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = read_all(fd, b, max);
	close(fd);
	return r;
}

int read_full(int fd, void *p, size_t n, size_t *got)
{
	char *c = p;

	*got = 0;
	while (*got < n) {
		ssize_t r = read(fd, c + *got, n - *got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

int read_file_alloc(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	size_t got = 0, want = 0;
	char *p = NULL;
	int fd, r = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		r = -EFBIG;
	else if (!(p = mem_alloc((want = (size_t)st.st_size) + 1)))
		r = -ENOMEM;
	if (!r)
		r = read_full(fd, p, want, &got);
	close(fd);
	if (r) {
		if (p)
			explicit_bzero(p, got);
		mem_free(p);
		return r;
	}
	p[got] = '\0';
	*out = p;
	*len = got;
	return 0;
}

bool safe_name(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return n > 0;
}
