/* SPDX-License-Identifier: MIT */
/*
 * err.h: struct ebuf, the reason buffer that parsers and adapters fill at trust boundaries.
 *
 * The innermost failure writes the cause with ebuf_set(); callers on the way out add context
 * with ebuf_prefix() ("reading /x: line 3: bad number"). A NULL ebuf is accepted everywhere and
 * ignored, so callers that only want the errno can pass NULL. Text is always NUL-terminated and
 * silently truncated to EBUF_SIZE: it is a message for humans, never parsed back.
 */
#ifndef VIRGIL_ERR_H
#define VIRGIL_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include "compat.h"

#define EBUF_SIZE 512

struct ebuf {
	char msg[EBUF_SIZE];
};

/* Replace the message. */
void ebuf_set(struct ebuf *eb, const char *fmt, ...) __printf(2, 3);
/* The same with a va_list, for reporters that add their own context afterwards. */
void ebuf_vset(struct ebuf *eb, const char *fmt, va_list ap) __printf(2, 0);
/* Prepend "context: " to the message (or set it when empty). */
void ebuf_prefix(struct ebuf *eb, const char *fmt, ...) __printf(2, 3);
/* Set only when no message is there yet: keeps the innermost cause. */
void ebuf_setdef(struct ebuf *eb, const char *fmt, ...) __printf(2, 3);
void ebuf_clear(struct ebuf *eb);

static inline bool ebuf_empty(const struct ebuf *eb)
{
	return !eb || eb->msg[0] == '\0';
}

#endif
