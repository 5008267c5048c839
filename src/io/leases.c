// SPDX-License-Identifier: MIT
/*
 * leases.c: the file-per-address lease store (see leases.h for the layout and guarantees).
 *
 * The ADD path is open → used → last → reserve → set_last → close, and every syscall there is
 * paid on each pod start, so: the directory is read once with raw getdents64 (no opendir
 * fstat/fcntl), names only; all later calls are *at() relative to one kept directory fd; the
 * address list is cached and updated by our own reserve/release.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "leases.h"

#define TMP_PREFIX ".tmp."
/* Longest valid content is 255 + 1 + 15 + 1 bytes; anything reaching this size is garbage. */
#define LEASE_FILE_MAX 512

struct leases {
	int dfd;		/* the store directory */
	int lockfd;		/* holds the flock for our lifetime */
	long pid;		/* for temporary file names */
	int recfd;		/* prepared record (O_TMPFILE), -1 if none */
	char rec_id[LEASES_ID_MAX + 1];
	char rec_ifname[LEASES_IFNAME_MAX + 1];
	struct ipaddr *v;	/* every lease address, sorted by ipaddr_cmp */
	size_t n, cap;
};

/* The layout of a getdents64 record (struct linux_dirent64), which libcs do not all export. */
struct dent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	size_t n = strlen(dir), i;

	if (n == 0)
		return -ENOENT;
	if (n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			return -errno;
		p[i] = dir[i];
	}
	return 0;
}

/*
 * Open first: the directory exists on every ADD but the first, so mkdir is rarely paid.
 * openat(AT_FDCWD) rather than open(): musl's open() follows O_CLOEXEC with an fcntl for
 * kernels older than 2.6.23, one more syscall per pod start.
 */
static int dir_open(const char *dir)
{
	return openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int open_dir(const char *dir, struct ebuf *eb)
{
	int fd = dir_open(dir);
	int r;

	if (fd < 0 && errno == ENOENT) {
		r = mkdir_p(dir);
		if (r) {
			ebuf_set(eb, "creating lease directory %s: %s", dir, strerror(-r));
			return r;
		}
		fd = dir_open(dir);
	}
	if (fd < 0) {
		r = -errno;
		ebuf_set(eb, "opening lease directory %s: %s", dir, strerror(-r));
		return r;
	}
	return fd;
}

static int lock_dir(int dfd)
{
	int fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
	}
	return fd;
}

static bool leases_id_ok(const char *s, size_t n);
static bool ifname_valid(const char *s, size_t n);

static int record_body(char *body, size_t cap, const char *id, const char *ifname)
{
	return snprintf(body, cap, "%s\n%s\n", id, ifname);
}

/*
 * Write the attachment's record into an unnamed file (O_TMPFILE) and make it durable, so that
 * reserving an address under the lock is a single linkat(). A crash leaves nothing behind: an
 * unnamed file vanishes with its last descriptor. Failure is not an error: reserve then
 * falls back to writing a named temporary file under the lock.
 */
static void record_prepare(struct leases *l, const char *id, const char *ifname)
{
	char body[LEASES_ID_MAX + LEASES_IFNAME_MAX + 3];
	int fd, len;

	if (!id || !ifname || !leases_id_ok(id, strlen(id)) || !ifname_valid(ifname, strlen(ifname)))
		return;
	fd = openat(l->dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	len = record_body(body, sizeof(body), id, ifname);
	if (write_all(fd, body, (size_t)len) || fsync(fd)) {
		close(fd);
		return;
	}
	l->recfd = fd;
	memcpy(l->rec_id, id, strlen(id) + 1);
	memcpy(l->rec_ifname, ifname, strlen(ifname) + 1);
}

/* Give the prepared record a name; AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, /proc does not. */
static int record_link(struct leases *l, const char *name)
{
	char path[32];

	if (linkat(l->recfd, "", l->dfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", l->recfd);
	return linkat(AT_FDCWD, path, l->dfd, name, AT_SYMLINK_FOLLOW) ? -errno : 0;
}

/* Room for one more address, so an insert after a successful link() cannot fail. */
static int cache_grow(struct leases *l)
{
	size_t cap = l->cap ? 2 * l->cap : 64;
	struct ipaddr *v;

	if (l->n < l->cap)
		return 0;
	v = mem_realloc(l->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
}

/* Index of the first cached address ≥ a. */
static size_t cache_pos(const struct leases *l, const struct ipaddr *a)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ipaddr_cmp(&l->v[mid], a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool cache_has(const struct leases *l, const struct ipaddr *a, size_t *pos)
{
	*pos = cache_pos(l, a);
	return *pos < l->n && ipaddr_eq(&l->v[*pos], a);
}

static void cache_insert(struct leases *l, size_t pos, const struct ipaddr *a)
{
	memmove(&l->v[pos + 1], &l->v[pos], (l->n - pos) * sizeof(*l->v));
	l->v[pos] = *a;
	l->n++;
}

static void cache_remove(struct leases *l, size_t pos)
{
	memmove(&l->v[pos], &l->v[pos + 1], (l->n - pos - 1) * sizeof(*l->v));
	l->n--;
}

static int cmp_addr(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

/* A lease name is the canonical text of an address; anything else is not ours to count. */
static bool lease_name(const char *name, struct ipaddr *a)
{
	char txt[IPADDR_STRLEN];
	size_t n = strlen(name);

	return n < sizeof(txt) && ipaddr_parse(name, n, a) == 0 &&
	       ipaddr_format(a, txt, sizeof(txt)) == 0 && strcmp(txt, name) == 0;
}

static int scan_entry(struct leases *l, const char *name)
{
	struct ipaddr a;
	int r;

	if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
		/* we hold the lock, so its writer is gone; a failure only leaves litter */
		unlinkat(l->dfd, name, 0);
		return 0;
	}
	if (!lease_name(name, &a))
		return 0;
	r = cache_grow(l);
	if (r)
		return r;
	l->v[l->n++] = a;
	return 0;
}

static int scan_dir(struct leases *l)
{
	char buf[16384] __attribute__((aligned(8)));
	long got;
	size_t off;
	int r;

	for (;;) {
		got = syscall(SYS_getdents64, l->dfd, buf, sizeof(buf));
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		for (off = 0; off < (size_t)got;) {
			const struct dent64 *d = (const void *)(buf + off);

			r = scan_entry(l, d->name);
			if (r)
				return r;
			off += d->reclen;
		}
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_addr);
	return 0;
}

static int open_store(const char *dir, const char *id, const char *ifname,
		      struct leases **out, struct ebuf *eb)
{
	struct leases *l = mem_calloc(1, sizeof(*l));
	int r;

	if (!l) {
		ebuf_set(eb, "lease store %s: out of memory", dir);
		return -ENOMEM;
	}
	l->lockfd = -1;
	l->recfd = -1;
	l->dfd = open_dir(dir, eb);
	if (l->dfd < 0) {
		r = l->dfd;
		goto fail;
	}
	/* before the lock: the fsync this costs is then never paid while others wait */
	if (id)
		record_prepare(l, id, ifname);
	l->lockfd = lock_dir(l->dfd);
	if (l->lockfd < 0) {
		r = l->lockfd;
		ebuf_set(eb, "locking %s/lock: %s", dir, strerror(-r));
		goto fail;
	}
	l->pid = (long)getpid();
	r = scan_dir(l);
	if (r) {
		ebuf_set(eb, "reading lease directory %s: %s", dir, strerror(-r));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	leases_close(l);
	return r;
}

int leases_open(const char *dir, struct leases **out, struct ebuf *eb)
{
	return open_store(dir, NULL, NULL, out, eb);
}

int leases_open_for(const char *dir, const char *id, const char *ifname, struct leases **out,
		    struct ebuf *eb)
{
	return open_store(dir, id, ifname, out, eb);
}

void leases_close(struct leases *l)
{
	if (!l)
		return;
	/*
	 * close() alone would release the flock only if no forked child still shares the open
	 * file description; an explicit unlock does not depend on that.
	 */
	if (l->lockfd >= 0) {
		flock(l->lockfd, LOCK_UN);
		close(l->lockfd);
	}
	if (l->dfd >= 0)
		close(l->dfd);
	if (l->recfd >= 0)
		close(l->recfd);
	mem_free(l->v);
	mem_free(l);
}

int leases_used(struct leases *l, int family, struct ipaddr **out, size_t *n)
{
	struct ipaddr key = { .family = (uint8_t)family };
	size_t lo, hi;

	*out = NULL;
	*n = 0;
	if (!ipaddr_len(family))
		return -EINVAL;
	/* the cache is ordered by family first: the family is one contiguous run */
	lo = cache_pos(l, &key);
	for (hi = lo; hi < l->n && l->v[hi].family == family; hi++)
		;
	if (hi == lo)
		return 0;
	*out = mem_alloc((hi - lo) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, &l->v[lo], (hi - lo) * sizeof(**out));
	*n = hi - lo;
	return 0;
}

/* A container ID as the CNI spec defines it (one rule for the whole program), bounded. */
static bool leases_id_ok(const char *s, size_t n)
{
	return n <= LEASES_ID_MAX && safe_name(s, n);
}

/* What the kernel and the CNI spec accept as an interface name. */
static bool ifname_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > LEASES_IFNAME_MAX)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '/' || s[i] == ':')
			return false;
	return true;
}

static int create_excl(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	/* a leftover of ours from an earlier failed call */
	if (fd < 0 && errno == EEXIST && unlinkat(dfd, name, 0) == 0)
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

/* Write the complete content to tmp and make it durable before it gets its real name. */
static int write_tmp(struct leases *l, const char *tmp, const char *id, const char *ifname)
{
	char body[LEASES_ID_MAX + LEASES_IFNAME_MAX + 3];
	int len = record_body(body, sizeof(body), id, ifname);
	int fd = create_excl(l->dfd, tmp);
	int r;

	if (fd < 0)
		return fd;
	r = write_all(fd, body, (size_t)len);
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (r)
		unlinkat(l->dfd, tmp, 0);
	return r;
}

int leases_reserve(struct leases *l, const struct ipaddr *a, const char *id, const char *ifname)
{
	char name[IPADDR_STRLEN], tmp[sizeof(TMP_PREFIX) + 24 + IPADDR_STRLEN];
	size_t pos;
	int r;

	if (!id || !ifname || !leases_id_ok(id, strlen(id)) || !ifname_valid(ifname, strlen(ifname)))
		return -EINVAL;
	r = ipaddr_format(a, name, sizeof(name));
	if (r)
		return r;
	if (cache_has(l, a, &pos))
		return -EEXIST;
	r = cache_grow(l);
	if (r)
		return r;
	/*
	 * link, not rename: it fails on an existing name, which is what makes a lease exclusive.
	 * No directory fsync here, on purpose (it costs ~0.2 ms on the pod start path): the
	 * content is durable before the name exists, so a crash can only lose the whole new
	 * lease, never leave a half-written one, and losing it is harmless, since after a power
	 * loss the pod holding it is gone too. Releases do sync the directory: a release undone
	 * by a crash would leak the address until GC.
	 */
	if (l->recfd >= 0 && strcmp(id, l->rec_id) == 0 && strcmp(ifname, l->rec_ifname) == 0) {
		r = record_link(l, name);
	} else {
		snprintf(tmp, sizeof(tmp), TMP_PREFIX "%ld.%s", l->pid, name);
		r = write_tmp(l, tmp, id, ifname);
		if (r)
			return r;
		if (linkat(l->dfd, tmp, l->dfd, name, 0))
			r = -errno;
		unlinkat(l->dfd, tmp, 0);
	}
	/* on EEXIST someone wrote the file without the lock: it is taken all the same */
	if (!r || r == -EEXIST)
		cache_insert(l, pos, a);
	return r;
}

int leases_release(struct leases *l, const struct ipaddr *a)
{
	char name[IPADDR_STRLEN];
	size_t pos;
	int r;

	r = ipaddr_format(a, name, sizeof(name));
	if (r)
		return r;
	r = unlinkat(l->dfd, name, 0) ? -errno : 0;
	if (r && r != -ENOENT)
		return r;
	if (cache_has(l, a, &pos))
		cache_remove(l, pos);
	if (r)
		return 0;
	return fsync(l->dfd) ? -errno : 0;
}

/* Content must be exactly "<id>\n<ifname>\n"; on any deviation out->id stays "". */
static void parse_content(const char *buf, size_t len, struct lease *out)
{
	const char *nl = memchr(buf, '\n', len);
	size_t idn, ifn;

	if (!nl || buf[len - 1] != '\n')
		return;
	idn = (size_t)(nl - buf);
	if (idn + 1 == len)
		return;
	ifn = len - idn - 2;
	if (memchr(nl + 1, '\n', ifn))
		return;
	if (!leases_id_ok(buf, idn) || !ifname_valid(nl + 1, ifn))
		return;
	memcpy(out->id, buf, idn);
	out->id[idn] = '\0';
	memcpy(out->ifname, nl + 1, ifn);
	out->ifname[ifn] = '\0';
}

/* Errors that mean "this name is not a readable lease file", not "the disk failed". */
static bool not_a_file(int e)
{
	return e == ELOOP || e == ENXIO || e == ENOENT || e == EISDIR || e == EAGAIN ||
	       e == EINVAL;
}

/* 0 with out filled (id "" when the content is bad), or -errno when the disk failed. */
static int read_lease(struct leases *l, const struct ipaddr *a, struct lease *out)
{
	char name[IPADDR_STRLEN], buf[LEASE_FILE_MAX];
	size_t len;
	int fd, r;

	memset(out, 0, sizeof(*out));
	out->addr = *a;
	r = ipaddr_format(a, name, sizeof(name));
	if (r)
		return r;
	/* O_NONBLOCK: a FIFO under an address name must not hang the plugin */
	fd = openat(l->dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return not_a_file(errno) ? 0 : -errno;
	r = read_full(fd, buf, sizeof(buf), &len);
	close(fd);
	if (r)
		return not_a_file(-r) ? 0 : r;
	if (len > 0 && len < sizeof(buf))
		parse_content(buf, len, out);
	return 0;
}

int leases_list(struct leases *l, struct lease **out, size_t *n)
{
	struct lease *v;
	size_t i;
	int r;

	*out = NULL;
	*n = 0;
	if (l->n == 0)
		return 0;
	v = mem_alloc(l->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		r = read_lease(l, &l->v[i], &v[i]);
		if (r) {
			mem_free(v);
			return r;
		}
	}
	*out = v;
	*n = l->n;
	return 0;
}

int leases_release_owner(struct leases *l, const char *id, const char *ifname)
{
	char name[IPADDR_STRLEN];
	struct lease le;
	size_t i = 0;
	int r = 0, count = 0;

	while (i < l->n) {
		r = read_lease(l, &l->v[i], &le);
		if (r)
			break;
		if (!le.id[0] || strcmp(le.id, id) || (ifname && strcmp(le.ifname, ifname))) {
			i++;
			continue;
		}
		if (ipaddr_format(&l->v[i], name, sizeof(name)) == 0 &&
		    unlinkat(l->dfd, name, 0) && errno != ENOENT) {
			r = -errno;
			break;
		}
		cache_remove(l, i);
		count++;
	}
	/* one directory sync covers every unlink above, including those before an error */
	if (count && fsync(l->dfd) && !r)
		r = -errno;
	return r ? r : count;
}

static const char *last_name(int family)
{
	return family == AF_INET ? "last.4" : "last.6";
}

int leases_last(struct leases *l, int family, struct ipaddr *out)
{
	char buf[IPADDR_STRLEN];
	struct ipaddr a;
	ssize_t n;

	if (!ipaddr_len(family))
		return -EINVAL;
	n = readlinkat(l->dfd, last_name(family), buf, sizeof(buf));
	if (n < 0)
		return errno == ENOENT || errno == EINVAL ? -ENOENT : -errno;
	/* n == sizeof(buf) may be truncated: too long to be an address anyway */
	if ((size_t)n >= sizeof(buf) || ipaddr_parse(buf, (size_t)n, &a) || a.family != family)
		return -ENOENT;
	*out = a;
	return 0;
}

int leases_set_last(struct leases *l, const struct ipaddr *a)
{
	char txt[IPADDR_STRLEN], tmp[sizeof(TMP_PREFIX) + 24 + 8];
	const char *name;
	int r;

	r = ipaddr_format(a, txt, sizeof(txt));
	if (r)
		return r;
	name = last_name(a->family);
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%ld.%s", l->pid, name);
	r = symlinkat(txt, l->dfd, tmp);
	if (r && errno == EEXIST && unlinkat(l->dfd, tmp, 0) == 0)
		r = symlinkat(txt, l->dfd, tmp);
	if (r)
		return -errno;
	if (renameat(l->dfd, tmp, l->dfd, name)) {
		r = -errno;
		unlinkat(l->dfd, tmp, 0);
	}
	return r;
}
