/* SPDX-License-Identifier: MIT */
/*
 * labserve.h: the pod server of `virgil lab` (`virgil lab serve`), the thing every probe of
 * the reachability matrix talks to. It answers on every port a pod's containers declare, on TCP
 * and UDP, IPv4 and IPv6, so a probe measures the network and policy, never the server.
 *
 *   TCP: accept, write "virgil\n", close.    UDP: echo each datagram to its sender, from the
 *   address it was sent to (so a client's connected socket accepts the reply).
 *
 * One thread, one poll() loop; no client can hold it up (accepted sockets are written once
 * without blocking and closed at once).
 */
#ifndef VIRGIL_LABSERVE_H
#define VIRGIL_LABSERVE_H

#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct ebuf;

#define LABSERVE_MAX_PORTS 64
#define LABSERVE_GREETING "virgil\n"

/*
 * Serve ports[0..nports) in the calling process's current network namespace: for each port
 * one socket per protocol and family (0.0.0.0 and :: with IPV6_V6ONLY, SO_REUSEADDR), IPv6
 * skipped when the kernel has none. Repeated ports count once; nports 0 serves nothing (and
 * still waits). Once everything listens, one byte is written to ready_fd; ready_fd (if >= 0)
 * is closed on every path, so a parent reading it sees EOF without the byte on failure.
 *
 * Never returns on success. On a fatal error (a port that cannot be bound, poll failing) it
 * closes its sockets and returns -errno with the reason in eb: -EINVAL for a port 0, -E2BIG
 * for more than LABSERVE_MAX_PORTS distinct ports, -EADDRINUSE and friends from bind(). The
 * caller exits. Clients never raise SIGPIPE; the one write to ready_fd does if its reader is
 * gone, which ends a server nobody waits for.
 */
int labserve_run(const uint16_t *ports, size_t nports, int ready_fd, struct ebuf *eb)
	__must_check;

#endif
