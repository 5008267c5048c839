/* SPDX-License-Identifier: MIT */
/*
 * podnet.h: the CNI verbs as operations on the node: leases, the veth pair, addresses,
 * neighbours and routes. Each returns 0, or -1 with err filled (code, message, details) for
 * the applet to print. Nothing here prints to stdout.
 *
 * ADD undoes everything it made before it reports a failure; DEL is best effort and
 * idempotent; GC releases what no valid attachment owns.
 *
 * ADD and DEL live in podnet.c (address reservation in podnet_ipam.c), CHECK in podcheck.c,
 * GC and STATUS in podgc.c.
 */
#ifndef VIRGIL_PODNET_H
#define VIRGIL_PODNET_H

struct cni_env;
struct cni_conf;
struct cni_result;
struct cni_error;

int podnet_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_result *res,
	       struct cni_error *err);
int podnet_del(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *err);
int podnet_check(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *err);
int podnet_status(const struct cni_conf *conf, struct cni_error *err);
int podnet_gc(const struct cni_conf *conf, struct cni_error *err);

#endif
