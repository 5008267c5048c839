/* SPDX-License-Identifier: MIT */
/*
 * str.h: borrowed string views. A struct str never owns its bytes: the producer's header says
 * how long they live. p may be NULL only when n is 0.
 */
#ifndef VIRGIL_STR_H
#define VIRGIL_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct str {
	const char *p;
	size_t n;
};

#define STR_LIT(s) ((struct str){ .p = (s), .n = sizeof(s) - 1 })

static inline struct str str_c(const char *s)
{
	return (struct str){ .p = s, .n = s ? strlen(s) : 0 };
}

static inline bool str_eq(struct str a, struct str b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool str_eqc(struct str a, const char *c)
{
	return str_eq(a, str_c(c));
}

#endif
