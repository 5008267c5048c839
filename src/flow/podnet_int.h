/* SPDX-License-Identifier: MIT */
/*
 * podnet_int.h: what the podnet files (ADD/DEL, CHECK, GC/STATUS) share: where the pod ranges
 * come from, opening the lease store, and the fixed gateway of the routed datapath.
 */
#ifndef VIRGIL_PODNET_INT_H
#define VIRGIL_PODNET_INT_H

#include <stddef.h>
#include <stdint.h>

struct cni_conf;
struct cni_env;
struct cni_error;
struct ebuf;
struct ipam_range;
struct ipaddr;
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

#endif
