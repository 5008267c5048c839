/* SPDX-License-Identifier: MIT */
/*
 * fuzz_util.h: what every libFuzzer target here would otherwise repeat: the entry point's
 * prototype (the warnings want one before its definition); check(), whose abort is the crash
 * libFuzzer records; fuzz_dup(), a copy of some input bytes in a heap block of exactly their
 * size, so that ASan sees a read past their end (a slice of the input has more input after
 * it) and the copy is aligned like a receive buffer.
 */
#ifndef VIRGIL_FUZZ_UTIL_H
#define VIRGIL_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

/* n bytes of p in a block of exactly n bytes (1 when n is 0). Never NULL: that aborts. */
static inline char *fuzz_dup(const void *p, size_t n)
{
	char *d = malloc(n ? n : 1);

	check(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

#endif
