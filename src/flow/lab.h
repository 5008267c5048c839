/* SPDX-License-Identifier: MIT */
/*
 * lab.h: `virgil lab`, a simulated cluster on one machine (docs/lab.md): nodes and pods in
 * network namespaces, the real agent (virgild --source) on every node, the real CNI plugin
 * for every pod, a server in every pod, and the reachability matrix between them.
 *
 * Every command takes the lab's lock (<state dir>/lock) for its whole run, so two lab
 * commands never interleave; readers (status, probe) share it. Returns 0 or -errno with a
 * one-line reason in eb: -EINVAL (bad manifest or argument), -EEXIST (already up), -ENOENT
 * (no lab is up), -ETIMEDOUT (an agent or process did not answer in time), -EINTR (stopped
 * by a signal: what was made is undone), anything else from the system.
 */
#ifndef VIRGIL_LAB_H
#define VIRGIL_LAB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct buf;
struct ebuf;

#define LAB_DEFAULT_DIR "/run/virgil-lab"
#define LAB_DEFAULT_NAME "vl"

struct lab_opts {
	const char *dir;		/* state dir; NULL: $VIRGIL_LAB_DIR, else LAB_DEFAULT_DIR */
	const char *name;		/* namespace prefix; NULL: $VIRGIL_LAB_NAME, else "vl" */
	volatile sig_atomic_t *stop;	/* set by the caller's signal handler; may be NULL */
};

/* N nodes (1..16) and the objects of the *.json in manifests (NULL: the default scenario).
 * Returns once every pod runs and every agent has applied everything; on failure, what was
 * made is taken down again. */
int lab_up(const struct lab_opts *o, unsigned nodes, const char *manifests,
	   struct ebuf *eb) __must_check;
/* Create/replace (del false) or delete the objects in files[0..n), live. */
int lab_apply(const struct lab_opts *o, char *const *files, size_t n, bool del,
	      struct ebuf *eb) __must_check;
/* Take everything down. 0 also when nothing was up (*was_up false). */
int lab_down(const struct lab_opts *o, bool *was_up, struct ebuf *eb) __must_check;
/* Nodes and pods, as text or JSON (docs/lab.md), appended to out. */
int lab_status(const struct lab_opts *o, bool json, struct buf *out,
	       struct ebuf *eb) __must_check;

struct lab_probe_opts {
	uint16_t port;
	int proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	int family;			/* AF_INET or AF_INET6 */
	unsigned timeout_ms;
	bool json;
};

/* Every pod to every pod; the grid or the JSON appended to out. */
int lab_probe(const struct lab_opts *o, const struct lab_probe_opts *p, struct buf *out,
	      struct ebuf *eb) __must_check;
/* A node's nf_tables table inet virgil as text. */
int lab_ruleset(const struct lab_opts *o, const char *node, struct buf *out,
		struct ebuf *eb) __must_check;

#endif
