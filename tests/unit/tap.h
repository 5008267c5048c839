/* SPDX-License-Identifier: MIT */
/*
 * tap.h: the whole unit-test framework. TAP lines on stdout, and a closing
 * "N passed, N failed" line from tap_done(), whose value is main's exit code.
 * Include it in exactly one file per test program.
 *
 *   ok(cond, "what")       is_int(got, want, "what")      is_str(got, want, "what")
 *   is_mem(got, want, n, "what")    diag("fmt", ...)
 *
 * guard_copy() places input so its last byte sits right before an inaccessible page: a parser
 * that reads one byte too far crashes instead of passing by luck.
 */
#ifndef VIRGIL_TAP_H
#define VIRGIL_TAP_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int tap_n, tap_fail;

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static int tap_ok(int cond, const char *file, int line, const char *what)
{
	tap_n++;
	if (!cond)
		tap_fail++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, what);
	if (!cond)
		printf("#   failed at %s:%d\n", file, line);
	return cond;
}

#define ok(cond, what) tap_ok(!!(cond), __FILE__, __LINE__, what)
#define is_int(got, want, what)                                                      \
	do {                                                                         \
		long long g_ = (long long)(got), w_ = (long long)(want);             \
		if (!tap_ok(g_ == w_, __FILE__, __LINE__, what))                     \
			printf("#   got %lld, want %lld\n", g_, w_);                 \
	} while (0)
#define is_str(got, want, what)                                                      \
	do {                                                                         \
		const char *g_ = (got), *w_ = (want);                                \
		int c_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                \
		if (!tap_ok(c_, __FILE__, __LINE__, what))                           \
			printf("#   got  \"%s\"\n#   want \"%s\"\n", g_ ? g_ : "(null)", \
			       w_ ? w_ : "(null)");                                  \
	} while (0)
#define is_mem(got, want, n, what) \
	ok(memcmp((got), (want), (n)) == 0, what)

static int tap_done(void)
{
	printf("%d passed, %d failed\n", tap_n - tap_fail, tap_fail);
	return tap_fail ? 1 : 0;
}

/* Copy n bytes to the end of a page followed by a PROT_NONE page. Free with guard_free(). */
static __attribute__((unused)) void *guard_copy(const void *src, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = ((n + pg - 1) / pg) * pg;
	char *base;

	if (span == 0)
		span = pg;
	base = mmap(NULL, span + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		abort();
	if (mprotect(base + span, pg, PROT_NONE))
		abort();
	memcpy(base + span - n, src, n);
	return base + span - n;
}

static __attribute__((unused)) void guard_free(void *p, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = ((n + pg - 1) / pg) * pg;

	if (span == 0)
		span = pg;
	munmap((char *)p + n - span, span + pg);
}

#endif
