// SPDX-License-Identifier: MIT
/* err.c: the ebuf reason buffer (see err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

void ebuf_vset(struct ebuf *eb, const char *fmt, va_list ap)
{
	if (eb)
		vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
}

void ebuf_set(struct ebuf *eb, const char *fmt, ...)
{
	va_list ap;

	if (!eb)
		return;
	va_start(ap, fmt);
	ebuf_vset(eb, fmt, ap);
	va_end(ap);
}

void ebuf_setdef(struct ebuf *eb, const char *fmt, ...)
{
	va_list ap;

	if (!eb || eb->msg[0])
		return;
	va_start(ap, fmt);
	ebuf_vset(eb, fmt, ap);
	va_end(ap);
}

void ebuf_prefix(struct ebuf *eb, const char *fmt, ...)
{
	char old[EBUF_SIZE];
	size_t n;
	va_list ap;

	if (!eb)
		return;
	memcpy(old, eb->msg, sizeof(old));
	va_start(ap, fmt);
	ebuf_vset(eb, fmt, ap);
	va_end(ap);
	if (!old[0])
		return;
	n = strlen(eb->msg);
	snprintf(eb->msg + n, sizeof(eb->msg) - n, ": %s", old);
}

void ebuf_clear(struct ebuf *eb)
{
	if (eb)
		eb->msg[0] = '\0';
}
