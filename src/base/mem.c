// SPDX-License-Identifier: MIT
/* mem.c: allocation with optional fault injection (see mem.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#ifdef VIRGIL_FAULT
static unsigned long fault_calls, fault_nth;
static bool fault_env_read;

bool fault_fail_now(void)
{
	const char *e;

	if (!fault_env_read) {
		fault_env_read = true;
		e = getenv("VIRGIL_FAIL_NTH");
		if (e)
			fault_nth = strtoul(e, NULL, 10);
	}
	return fault_nth && ++fault_calls == fault_nth;
}

unsigned long fault_reset(unsigned long n)
{
	unsigned long calls = fault_calls;

	fault_env_read = true;
	fault_calls = 0;
	fault_nth = n;
	return calls;
}
#endif

void *mem_alloc(size_t n)
{
	if (fault_fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return malloc(n ? n : 1);
}

void *mem_calloc(size_t nmemb, size_t size)
{
	if (fault_fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *mem_realloc(void *p, size_t n)
{
	if (fault_fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n ? n : 1);
}

char *mem_strndup(const char *s, size_t n)
{
	char *d = mem_alloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}
