/* SPDX-License-Identifier: MIT */
/*
 * podnet_int.h: what the podnet files (podnet.c ADD/DEL, podnet_ipam.c address reservation,
 * podcheck.c CHECK, podgc.c GC/STATUS) share: where the pod ranges come from, opening the lease
 * store, the fixed gateway of the routed datapath, and the state of one ADD.
 */
#ifndef VIRGIL_PODNET_INT_H
#define VIRGIL_PODNET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "../base/err.h"
#include "../core/cidr.h"
#include "../core/ipam.h"
#include "../core/vethname.h"
#include "../nl/nlsock.h"

struct cni_conf;
struct cni_env;
struct cni_error;
struct leases;

/* The pod sees its gateway at these link-local addresses; the host veth answers for them
 * through permanent neighbour entries in the pod, so the host owns no address there. */
#define PODNET_GW4 "169.254.1.1"
#define PODNET_GW6 "fe80::1"

/*
 * Pod ranges from the config, else from <dataDir>/node.json (the agent writes it). mtu gets
 * the node state's MTU (0 when unknown). Error 7 when neither source has a range.
 */
int podnet_ranges(const struct cni_conf *conf, struct ipam_range *r, size_t *n, uint32_t *mtu,
		  struct cni_error *err);
/*
 * Open and lock <dataDir>/networks/<name>; error 104 on failure. With an owner (ADD), its
 * lease record is prepared before the lock is taken (see leases_open_for).
 */
int podnet_store(const struct cni_conf *conf, const struct cni_env *owner, struct leases **l,
		 struct cni_error *err);
/* Fill err with code 103 for a kernel refusal: "<what>: <strerror>", details = kernel text. */
void podnet_kerr(struct cni_error *err, int rc, const struct ebuf *eb, const char *what);
void podnet_gateway(int family, struct ipaddr *gw);

/* One ADD in progress (podnet.c): what it has made so far, for undo. */
struct podnet_add_state {
	const struct cni_env *env;
	const struct cni_conf *conf;
	struct ipam_range ranges[2];
	size_t nranges;
	struct cidr addrs[2];        /* reserved pod addresses, /32 and /128 */
	size_t naddrs;
	char host[VETHNAME_LEN + 1];
	uint8_t host_mac[6], pod_mac[6];
	uint32_t mtu;
	int host_ifindex, pod_ifindex;
	int host_fd, pod_fd;
	struct nlsock hs, ps;
	bool veth_made;
	bool agent_told;	/* the agent holds the pod's addresses: a failure tells it to forget */
	struct ebuf eb;
};

/* ---- podnet_ipam.c --------------------------------------------------------------------- */

/*
 * Reserve one address per range of a->ranges into a->addrs (the requested one of its family,
 * else the next free) under the store lock; the lock is dropped on return. On failure err is
 * filled and nothing stays reserved.
 */
int podnet_reserve(struct podnet_add_state *a, struct cni_error *err) __must_check;
/* Release a->addrs and set naddrs to 0; failures are logged. A no-op when none are held. */
void podnet_release(struct podnet_add_state *a);

#endif
