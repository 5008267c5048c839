// SPDX-License-Identifier: MIT
/*
 * shim.c: the glibc-only symbols that Debian's mbedtls 2.28 static archives reference, so they
 * link into our static musl binary. Debian builds mbedtls against glibc with
 * -D_FORTIFY_SOURCE=2, which turns some memcpy/memset/snprintf/printf/FD_SET calls into calls
 * of glibc's checking variants. musl has none of them. Each one here keeps glibc's contract:
 * the compiler passed the size of the destination object it could see, and a call that would
 * write past it is a memory-safety violation, so we trap exactly where glibc's __chk_fail()
 * would abort, and otherwise do what the unchecked function does.
 *
 * Verified list (see third_party/README.md for how): __memcpy_chk, __memset_chk,
 * __snprintf_chk, __vsnprintf_chk, __printf_chk, __fdelt_chk. __sysv_signal is referenced too
 * (only by net_sockets.c, which we never link) but musl already defines it as an alias of
 * signal(), so it is deliberately absent here: a second definition would only shadow libc.
 *
 * Library code may not abort; these traps are the allowed exception (STYLE.md §3), because
 * continuing after a detected overflow would corrupt memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>

/* The prototypes glibc declares for them; gcc knows most of them as builtins too. */
void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t len, size_t dstlen);
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
int __printf_chk(int flag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long int __fdelt_chk(long int fd);

/* glibc's __chk_fail(): a detected overflow is fatal, without touching more memory. */
static __attribute__((noreturn)) void shim_chk_fail(void)
{
	__builtin_trap();
}

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen)
{
	if (dstlen < len)
		shim_chk_fail();
	return memcpy(dst, src, len);
}

void *__memset_chk(void *dst, int c, size_t len, size_t dstlen)
{
	if (dstlen < len)
		shim_chk_fail();
	return memset(dst, c, len);
}

/*
 * flag > 0 asks glibc to refuse "%n" in a format held in writable memory; there is no portable
 * way to tell that here, and mbedtls's formats are all literals without %n. Being stricter than
 * glibc would trap where glibc does not, so only the size contract is enforced.
 */
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
{
	if (slen < maxlen)
		shim_chk_fail();
	return vsnprintf(s, maxlen, fmt, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
	va_end(ap);
	return r;
}

/* Only mbedtls's self-tests print; there is no buffer, so nothing to check (see above). */
int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vprintf(fmt, ap);
	va_end(ap);
	return r;
}

/*
 * FD_SET/FD_CLR/FD_ISSET under fortify: index of the word holding fd's bit. An fd outside
 * 0..FD_SETSIZE-1 would index past the fd_set. musl's fd_set has glibc's layout (1024 bits in
 * longs), so the word index is the same.
 */
long int __fdelt_chk(long int fd)
{
	const long int bits = 8 * (long int)sizeof(long int);

	if (fd < 0 || fd >= FD_SETSIZE)
		shim_chk_fail();
	return fd / bits;
}
