/* SPDX-License-Identifier: MIT */
/*
 * log.h: OpenBSD-style logging. One line per event on stderr:
 *   "<applet>: what happened: why key=value..."
 * log_warn() appends ": strerror(errno)". Every function preserves errno. log_debug() prints
 * only after log_init(1). A process may also mirror lines to an append-only file (the CNI
 * plugin's "logFile"); stdout is never written. fatal/fatalx are for applets only.
 * Never pass a token, key, certificate body or Authorization header to these functions.
 */
#ifndef VIRGIL_LOG_H
#define VIRGIL_LOG_H

#include "compat.h"

void log_init(int debug);
void log_procinit(const char *name);
/* Mirror every line to fd too (-1 to stop). The fd stays the caller's. */
void log_setfd(int fd);
/* Silence stderr (the CNI plugin when a log file is configured keeps stderr quiet). */
void log_setstderr(int on);

void log_warn(const char *fmt, ...) __printf(1, 2);
void log_warnx(const char *fmt, ...) __printf(1, 2);
void log_info(const char *fmt, ...) __printf(1, 2);
void log_debug(const char *fmt, ...) __printf(1, 2);
__noreturn void fatal(const char *fmt, ...) __printf(1, 2);
__noreturn void fatalx(const char *fmt, ...) __printf(1, 2);

#endif
