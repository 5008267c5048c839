/* SPDX-License-Identifier: MIT */
/*
 * mem.h: the allocation functions library code uses, so tests can make the nth one fail.
 *
 * Built with -DVIRGIL_FAULT (unit tests only), mem_alloc() and friends fail with ENOMEM on the
 * nth call when the environment has VIRGIL_FAIL_NTH=n, and count calls otherwise; test loops
 * run a case with every n until no failure was injected. In the release binary they are
 * plain malloc/calloc/realloc. Never exits: NULL with errno = ENOMEM is the contract.
 */
#ifndef VIRGIL_MEM_H
#define VIRGIL_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#ifdef VIRGIL_FAULT
bool fault_fail_now(void);
/* Reset the counter and set n (0 = never fail); returns how many calls ran since last reset. */
unsigned long fault_reset(unsigned long n);
#else
static inline bool fault_fail_now(void)
{
	return false;
}
#endif

void *mem_alloc(size_t n);
void *mem_calloc(size_t nmemb, size_t size);
void *mem_realloc(void *p, size_t n);
char *mem_strndup(const char *s, size_t n);
static inline void mem_free(void *p)
{
	free(p);
}

#endif
