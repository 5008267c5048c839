/* SPDX-License-Identifier: MIT */
/*
 * buf.h: a growable byte buffer. The contents are always NUL-terminated (the NUL is not
 * counted in len), so a buf holding text can be passed as a C string. Every append returns 0
 * or -ENOMEM and leaves the buffer unchanged on failure. buf_free() accepts a zeroed buf.
 * A buf may be given a hard size limit (max, 0 = none): appends past it fail with -EMSGSIZE.
 */
#ifndef VIRGIL_BUF_H
#define VIRGIL_BUF_H

#include <stddef.h>
#include "compat.h"

struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT { 0 }

int buf_reserve(struct buf *b, size_t extra) __must_check;
int buf_add(struct buf *b, const void *data, size_t n) __must_check;
int buf_addc(struct buf *b, char c) __must_check;
int buf_adds(struct buf *b, const char *s) __must_check;
int buf_printf(struct buf *b, const char *fmt, ...) __printf(2, 3) __must_check;
/* Drop contents, keep memory. */
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Hand the bytes to the caller (must free); the buf is left empty. NULL if nothing held. */
char *buf_steal(struct buf *b);

#endif
