// SPDX-License-Identifier: MIT
/*
 * log.c: the only global state in the program: where log lines go and how verbose they are.
 * Lines are formatted into one buffer and written with a single write() per sink, so lines
 * from concurrent plugin processes appending to one log file never interleave mid-line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int log_debug_on;
static int log_fd = -1;
static int log_stderr_on = 1;
static const char *log_name = "virgil";

void log_init(int debug)
{
	log_debug_on = debug;
}

void log_procinit(const char *name)
{
	if (name)
		log_name = name;
}

void log_setfd(int fd)
{
	log_fd = fd;
}

void log_setstderr(int on)
{
	log_stderr_on = on;
}

static void log_emit(const char *fmt, va_list ap, int with_errno, int err)
{
	char line[1024];
	int n, m;

	n = snprintf(line, sizeof(line), "%s: ", log_name);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m > 0)
		n = (size_t)(n + m) >= sizeof(line) ? (int)sizeof(line) - 1 : n + m;
	if (with_errno) {
		m = snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(err));
		if (m > 0)
			n = (size_t)(n + m) >= sizeof(line) ? (int)sizeof(line) - 1 : n + m;
	}
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (log_stderr_on && write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
	if (log_fd >= 0 && write(log_fd, line, (size_t)n) < 0) {
		/* same */
	}
}

#define LOG_BODY(with_errno)                      \
	do {                                      \
		int saved = errno;                \
		va_list ap;                       \
		va_start(ap, fmt);                \
		log_emit(fmt, ap, with_errno, saved); \
		va_end(ap);                       \
		errno = saved;                    \
	} while (0)

void log_warn(const char *fmt, ...)
{
	LOG_BODY(1);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(0);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(0);
}

void log_debug(const char *fmt, ...)
{
	if (!log_debug_on)
		return;
	LOG_BODY(0);
}

void fatal(const char *fmt, ...)
{
	LOG_BODY(1);
	exit(111);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(0);
	exit(111);
}
