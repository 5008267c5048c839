// SPDX-License-Identifier: MIT
/*
 * podnet_ipam.c: address reservation for CNI ADD. Where the pod ranges come from (the network
 * config or the agent's node state), the lease store, and one address per range: the one the
 * runtime requested if it is usable and free, else the next free one after the last reserved.
 * Reservation happens under the store's lock, which is dropped before ADD does any netlink
 * work; a failed ADD releases what was reserved here.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../core/cidr.h"
#include "../core/cniconf.h"
#include "../core/ipam.h"
#include "../io/leases.h"
#include "podnet_int.h"

#define NODE_STATE_MAX (64 * 1024)

int podnet_ranges(const struct cni_conf *conf, struct ipam_range *r, size_t *n, uint32_t *mtu,
		  struct cni_error *err)
{
	struct cidr from_file[2];
	const struct cidr *src = conf->ranges;
	size_t i, cnt = conf->nranges;
	char path[PATH_MAX];
	struct buf b = BUF_INIT;
	struct ebuf eb = { "" };
	int rc = 0;

	*mtu = 0;
	if (cnt == 0) {
		snprintf(path, sizeof(path), "%s/node.json", conf->data_dir);
		rc = read_file(path, &b, NODE_STATE_MAX);
		if (rc) {
			cni_error_set(err, CNI_ERR_CONFIG, "no pod ranges",
				      "podCIDRs is not in the network config and %s cannot be read: %s",
				      path, strerror(-rc));
			goto out;
		}
		rc = cni_nodestate_parse(b.p, b.len, from_file, &cnt, mtu, &eb);
		if (rc || cnt == 0) {
			cni_error_set(err, CNI_ERR_CONFIG, "invalid node state", "%s: %s", path,
				      rc ? eb.msg : "no podCIDRs");
			rc = rc ? rc : -EINVAL;
			goto out;
		}
		src = from_file;
	}
	for (i = 0; i < cnt; i++) {
		rc = ipam_range_init(&r[i], &src[i], &eb);
		if (rc) {
			cni_error_set(err, CNI_ERR_CONFIG, "invalid pod range", "%s", eb.msg);
			goto out;
		}
	}
	*n = cnt;
out:
	buf_free(&b);
	return rc;
}

int podnet_store(const struct cni_conf *conf, const struct cni_env *owner, struct leases **l,
		 struct cni_error *err)
{
	char dir[PATH_MAX];
	struct ebuf eb = { "" };
	int rc;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/networks/%s", conf->data_dir, conf->name) >=
	    sizeof(dir)) {
		cni_error_set(err, CNI_ERR_CONFIG, "dataDir is too long", "%s", conf->data_dir);
		return -ENAMETOOLONG;
	}
	rc = owner ? leases_open_for(dir, owner->containerid, owner->ifname, l, &eb) :
		     leases_open(dir, l, &eb);
	if (rc)
		cni_error_set(err, CNI_ERR_STORE, "cannot open the lease store", "%s: %s", dir,
			      ebuf_empty(&eb) ? strerror(-rc) : eb.msg);
	return rc;
}

/* ---- addresses ------------------------------------------------------------------------ */

static const struct ipaddr *requested(const struct cni_conf *conf, int family)
{
	size_t i;

	for (i = 0; i < conf->nreq_ips; i++)
		if (conf->req_ips[i].family == family)
			return &conf->req_ips[i];
	return NULL;
}

static int pick_one(struct podnet_add_state *a, struct leases *l, const struct ipam_range *r,
		    struct ipaddr *out, struct cni_error *err)
{
	const struct ipaddr *want = requested(a->conf, r->subnet.addr.family);
	struct ipaddr *used = NULL, last;
	size_t nused = 0, i;
	char s[CIDR_STRLEN] = "";
	int rc;

	rc = leases_used(l, r->subnet.addr.family, &used, &nused);
	if (rc) {
		cni_error_set(err, CNI_ERR_STORE, "cannot read the lease store", "%s", strerror(-rc));
		goto out;
	}
	if (want) {
		if (ipaddr_format(want, s, sizeof(s)))
			s[0] = '\0';
		rc = -EADDRNOTAVAIL;
		if (!ipam_usable(r, want))
			cni_error_set(err, CNI_ERR_ADDR_UNAVAILABLE, "requested address not usable",
				      "%s is outside the pod range or reserved", s);
		for (i = 0; i < nused && ipam_usable(r, want); i++)
			if (ipaddr_eq(&used[i], want))
				break;
		if (!ipam_usable(r, want))
			goto out;
		if (i < nused) {
			cni_error_set(err, CNI_ERR_ADDR_UNAVAILABLE, "requested address not available",
				      "%s is already leased", s);
			goto out;
		}
		*out = *want;
		rc = 0;
		goto out;
	}
	rc = leases_last(l, r->subnet.addr.family, &last);
	rc = ipam_pick(r, rc ? NULL : &last, used, nused, out);
	if (rc == -ENOSPC) {
		if (cidr_format(&r->subnet, s, sizeof(s)))
			s[0] = '\0';
		cni_error_set(err, CNI_ERR_EXHAUSTED, "no free address in the pod range",
			      "every usable address of %s is leased", s);
	} else if (rc) {
		cni_error_set(err, CNI_ERR_STORE, "address selection failed", "%s", strerror(-rc));
	}
out:
	mem_free(used);
	return rc;
}

static int check_requests(struct podnet_add_state *a, struct cni_error *err)
{
	size_t i, j;
	char s[IPADDR_STRLEN];

	for (i = 0; i < a->conf->nreq_ips; i++) {
		for (j = 0; j < a->nranges; j++)
			if (a->ranges[j].subnet.addr.family == a->conf->req_ips[i].family)
				break;
		if (j == a->nranges) {
			if (ipaddr_format(&a->conf->req_ips[i], s, sizeof(s)))
				s[0] = '\0';
			cni_error_set(err, CNI_ERR_ADDR_UNAVAILABLE, "requested address not usable",
				      "%s: no pod range of its family", s);
			return -EADDRNOTAVAIL;
		}
	}
	return 0;
}

void podnet_release(struct podnet_add_state *a)
{
	struct leases *l = NULL;
	struct cni_error e;
	size_t i;

	if (a->naddrs == 0)
		return;
	if (podnet_store(a->conf, NULL, &l, &e)) {
		log_warnx("cannot release leases of %s: %s", a->env->containerid, e.details);
		return;
	}
	for (i = 0; i < a->naddrs; i++)
		if (leases_release(l, &a->addrs[i].addr))
			log_warnx("cannot release a lease of %s", a->env->containerid);
	leases_close(l);
	a->naddrs = 0;
}

int podnet_reserve(struct podnet_add_state *a, struct cni_error *err)
{
	struct leases *l = NULL;
	size_t i;
	int rc;

	rc = check_requests(a, err);
	if (rc)
		return rc;
	rc = podnet_store(a->conf, a->env, &l, err);
	if (rc)
		return rc;
	for (i = 0; i < a->nranges; i++) {
		struct cidr *c = &a->addrs[a->naddrs];

		rc = pick_one(a, l, &a->ranges[i], &c->addr, err);
		if (rc)
			break;
		rc = leases_reserve(l, &c->addr, a->env->containerid, a->env->ifname);
		if (rc) {
			cni_error_set(err, CNI_ERR_STORE, "cannot write a lease", "%s",
				      strerror(-rc));
			break;
		}
		c->prefix = c->addr.family == AF_INET ? 32 : 128;
		a->naddrs++;
		if (!requested(a->conf, c->addr.family) && leases_set_last(l, &c->addr))
			log_debug("cannot record the last reserved address");
	}
	leases_close(l);
	if (rc)
		podnet_release(a);
	return rc;
}
