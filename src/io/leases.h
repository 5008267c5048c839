/* SPDX-License-Identifier: MIT */
/*
 * leases.h: the IPAM lease store of one network, a directory the caller names (for example
 * /var/lib/virgil/networks/<network>). Crash-safe without a journal: a lease is one file,
 * and creating it is the reservation.
 *
 *   lock             flock(LOCK_EX) target; every operation runs with it held
 *   10.244.1.7       one file per leased address, named by ipaddr_format() text (IPv6 names
 *   fd00::7          contain ':'), content exactly "<containerID>\n<ifname>\n", mode 0600
 *   last.4, last.6   symlinks whose target text is the last address reserved: a round-robin
 *                    hint only, replaced atomically, never fsynced
 *   .tmp.<pid>.*     files being written; any found by leases_open() belong to a dead writer
 *
 * A reservation is linked into place from a complete, fsynced temporary file, so after a
 * crash an address file is either absent or whole. link() refuses an existing name, so two
 * writers can never both own one address even if one ignored the lock.
 *
 * Names that are not the canonical text of an address (other files, "010.0.0.1",
 * "FD00::1") are not leases and are ignored. The store reads the directory once, in
 * leases_open(), and keeps the address list current through its own reserve and release
 * calls: the lock guarantees no one else changes it meanwhile.
 *
 * Not thread-safe; one struct leases per process at a time per directory (a second open of
 * the same directory in the same process would wait for itself). A child forked while a
 * store is open shares its lock until leases_close() in the parent; the descriptors are
 * O_CLOEXEC, so an exec'd child does not.
 */
#ifndef VIRGIL_LEASES_H
#define VIRGIL_LEASES_H

#include <stddef.h>
#include "../base/compat.h"
#include "../core/cidr.h"

struct ebuf;
struct leases;

#define LEASES_ID_MAX 255	/* container ID length limit */
#define LEASES_IFNAME_MAX 15	/* IFNAMSIZ - 1 */

struct lease {
	struct ipaddr addr;
	char id[LEASES_ID_MAX + 1];		/* "" when the file content is malformed */
	char ifname[LEASES_IFNAME_MAX + 1];
};

/*
 * Create dir (and missing parents, mode 0700) if needed, open and flock(LOCK_EX) its `lock`
 * file, waiting for other holders (EINTR is retried), remove stale .tmp.* files and read the
 * lease names. Returns 0 with *out set (free with leases_close) or -errno with a reason in eb.
 */
int leases_open(const char *dir, struct leases **out, struct ebuf *eb) __must_check;
/*
 * leases_open() for a caller about to reserve for (id, ifname): the record is written and
 * fsynced into an unnamed file before the lock is taken, and each leases_reserve() for that
 * owner links it under the lock, so the lock is never held across an fsync (parallel ADDs
 * would queue behind it) and a dual-stack ADD pays one fsync, not two.
 */
int leases_open_for(const char *dir, const char *id, const char *ifname, struct leases **out,
		    struct ebuf *eb) __must_check;

/* Unlock, close and free. NULL is accepted. */
void leases_close(struct leases *l);

/*
 * Addresses of every lease of one family, sorted by ipaddr_cmp (ready for ipam_pick). No
 * file is read and no syscall is made. *out is the caller's to mem_free; NULL when *n is 0.
 * 0, -EINVAL (family) or -ENOMEM.
 */
int leases_used(struct leases *l, int family, struct ipaddr **out, size_t *n) __must_check;

/*
 * Lease address a to (id, ifname). id must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$ (at most 255
 * bytes) and ifname be 1-15 bytes without '/', ':' or whitespace and not "." or "..", or the
 * result is -EINVAL. -EEXIST when the address is already leased (to anyone). On success the
 * record's content is durable before its name appears (the file is fsynced, the directory is
 * not: a crash may lose a new lease whole, never leave half of one; see leases.c). Any
 * failure leaves no file behind.
 */
int leases_reserve(struct leases *l, const struct ipaddr *a, const char *id,
		   const char *ifname) __must_check;

/*
 * Remove the lease on a, whoever holds it. A missing lease is success (DEL is repeated).
 * The directory is fsynced after an unlink so a release is not resurrected by a crash.
 */
int leases_release(struct leases *l, const struct ipaddr *a) __must_check;

/*
 * Every lease with its content, sorted by address; *out is the caller's to mem_free (NULL
 * when *n is 0). A file whose content is not exactly "<id>\n<ifname>\n" with valid fields
 * (garbage, oversized, a directory or a symlink under an address name) comes back with
 * id[0] == '\0': callers skip it, and it stays reserved so the address is not reused.
 * 0 or -errno.
 */
int leases_list(struct leases *l, struct lease **out, size_t *n) __must_check;

/*
 * Release every lease whose content is (id, ifname); ifname NULL matches any ifname.
 * Returns the number released (0 when none) or -errno; on error some may have been released.
 */
int leases_release_owner(struct leases *l, const char *id, const char *ifname) __must_check;

/*
 * The last address reserved in this family, from the last.4/last.6 hint. -ENOENT when there
 * is no hint or it does not hold an address of that family (a hint never causes a failure).
 */
int leases_last(struct leases *l, int family, struct ipaddr *out) __must_check;

/* Point the family's hint at a: symlink to a temporary name, rename over. 0 or -errno. */
int leases_set_last(struct leases *l, const struct ipaddr *a) __must_check;

#endif
