/* SPDX-License-Identifier: MIT */
/*
 * probe.h: the reachability prober of `virgil lab probe`: from every pod to every pod, can a
 * TCP connection be made (or a UDP datagram be echoed) on one port? Each source pod's row is
 * measured by a child process that enters the pod's network namespace, so packets leave from
 * the pod's own interface and address, through its node and its policy, as an application's
 * would. The pods run labserve (labserve.h) as their servers.
 *
 * Verdicts. TCP: true once connect() completes (the socket is then closed at once); a reset or
 * an ICMP error is false at once, silence is false at the timeout. UDP: "probe" is sent on a
 * connected socket (again every fifth of the timeout, at least 100 ms apart, in case one is
 * lost) and true once the echo arrives; ECONNREFUSED and other ICMP errors are false at once,
 * silence is false at the timeout. A reject rule therefore answers in milliseconds and a drop
 * rule costs one timeout; all of a row's destinations are probed at once (up to
 * PROBE_WINDOW at a time), and up to PROBE_PARALLEL rows at once.
 */
#ifndef VIRGIL_PROBE_H
#define VIRGIL_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "../core/cidr.h"

struct ebuf;

#define PROBE_MAX_PODS 1024	/* a row travels in one atomic pipe write */
#define PROBE_PARALLEL 32	/* source pods probed at once (child processes) */
#define PROBE_WINDOW 256	/* destinations in flight per source (sockets per child) */

struct probe_pod {
	const char *id;		/* "ns/name", for messages only */
	const char *netns_path;	/* "/run/netns/NAME" or any nsfs path, e.g. /proc/PID/ns/net */
	struct ipaddr addr;	/* the pod's address of the probed family; family 0: none */
};

/*
 * Probe pods[i] -> pods[j] for every i, j (self included) on port with proto (IPPROTO_TCP or
 * IPPROTO_UDP), each probe bounded by timeout_ms, and write matrix[i * n + j]. A pod without
 * an address (family 0) is false in its row and column and is not entered. Addresses of mixed
 * families are allowed: each probe uses its destination's.
 *
 * Needs CAP_SYS_ADMIN (for setns()). Forks and reaps its own children, so the caller must
 * not have SIGCHLD set to SIG_IGN or reap unknown children meanwhile. Takes about one
 * timeout_ms per PROBE_PARALLEL source pods when something drops, far less when everything
 * answers or is rejected (a 9 x 9 matrix: about 10 ms).
 *
 * Returns 0, or -errno with the reason in eb: -EINVAL (proto, port 0, timeout 0, more than
 * PROBE_MAX_PODS pods, a pod with an address but no netns_path; matrix untouched), and with
 * the matrix all false:
 * netns_open()'s errors for a source pod's namespace (eb names the pod), -ETIMEDOUT when a
 * child does not report well past its budget (it is killed), -EIO when a child dies, fork,
 * pipe and poll errors, -ENOMEM.
 */
int probe_matrix(const struct probe_pod *pods, size_t n, uint16_t port, int proto,
		 unsigned timeout_ms, bool *matrix, struct ebuf *eb) __must_check;

#endif
