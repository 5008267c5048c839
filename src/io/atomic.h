/* SPDX-License-Identifier: MIT */
/*
 * atomic.h: replace a whole file so that readers, and the file system after a crash, see
 * either the old contents or the new, never a mix or an empty file.
 */
#ifndef VIRGIL_ATOMIC_H
#define VIRGIL_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>
#include "../base/compat.h"

/*
 * Write data to a temporary file ".tmp.<pid>.<name>" in path's directory (created with
 * O_EXCL and mode, which the umask narrows as for open(2)), fsync it, rename it over path,
 * then fsync the directory so the rename itself survives a crash. On failure the temporary
 * file is removed and path is untouched. The directory must exist. Not safe against a
 * concurrent writer of the same path in the same process (same tmp name): callers serialise.
 * Returns 0 or -errno (-ENAMETOOLONG for a path over PATH_MAX).
 */
int atomic_write(const char *path, const void *data, size_t n, mode_t mode) __must_check;
/*
 * The same without the two fsyncs: readers still see the old contents or the new, but a power
 * cut may leave either or an empty file. For reports rewritten on every change (status.json,
 * metrics), where two disk flushes per change would cost more than the change.
 */
int atomic_publish(const char *path, const void *data, size_t n, mode_t mode) __must_check;
/*
 * atomic_write() only when the file does not already hold exactly these bytes, so restarts
 * and repeated passes leave state files (and their mtimes) alone. 1 when written, 0 when
 * unchanged, or -errno.
 */
int atomic_update(const char *path, const void *data, size_t n, mode_t mode) __must_check;

#endif
