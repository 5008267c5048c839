/* SPDX-License-Identifier: MIT */
/*
 * util.h: strict number parsing and EINTR/short-I/O-safe whole reads and writes, including
 * whole files read in one allocation for secrets.
 */
#ifndef VIRGIL_UTIL_H
#define VIRGIL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "compat.h"

struct buf;

/*
 * Parse an unsigned decimal number occupying exactly s[0..n): no sign, no spaces, no leading
 * zeros unless the number is "0". Returns 0, -EINVAL (syntax) or -ERANGE (> max).
 */
int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out) __must_check;

/*
 * Does s[0..n) match ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ? The CNI rule for container IDs and network
 * names, and a name that is safe as one path component (no '/', never "." or "..").
 */
bool safe_name(const char *s, size_t n);

/* Microseconds on clk (CLOCK_MONOTONIC for durations and deadlines, CLOCK_REALTIME for
 * timestamps another process compares); never fails with a valid clock. */
static inline uint64_t clock_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Milliseconds on the monotonic clock. */
static inline uint64_t mono_ms(void)
{
	return clock_us(CLOCK_MONOTONIC) / 1000;
}

/* Value of one hex digit (either case), or -1. */
static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* write() all of p, retrying EINTR and short writes. 0 or -errno. */
int write_all(int fd, const void *p, size_t n) __must_check;
/*
 * read() up to n bytes into p, retrying EINTR and short reads; *got is how many arrived, fewer
 * than n only at EOF. 0 or -errno (*got then counts what came before the error).
 */
int read_full(int fd, void *p, size_t n, size_t *got) __must_check;
/* Read until EOF into b; fails with -EMSGSIZE past max bytes (0 = no limit). */
int read_all(int fd, struct buf *b, size_t max) __must_check;
/* Read a whole small file (at most max bytes) into b. */
int read_file(const char *path, struct buf *b, size_t max) __must_check;
/*
 * Read a whole regular file of at most max bytes into one new allocation (mem_alloc) of its
 * size plus a NUL: nothing is reallocated, so no stray copy of a secret is left behind. On
 * success *out is the caller's to free, after wiping *len + 1 bytes if it is a secret (past
 * them nothing was written); *len is short of the size if the file shrank while we read it.
 * 0, -EINVAL (not a regular file), -EFBIG (over max), -ENOMEM or open/read's -errno, with
 * *out NULL, *len 0 and what was read wiped.
 */
int read_file_alloc(const char *path, size_t max, char **out, size_t *len) __must_check;

#endif
