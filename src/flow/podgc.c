// SPDX-License-Identifier: MIT
/*
 * podgc.c: CNI GC and STATUS. GC is the safety net behind DEL: the runtime lists the
 * attachments it still knows, and every lease owned by anything else is released together
 * with its host veth (named after the attachment, so no other state is needed). It keeps
 * going past errors and reports the first with a count, as the spec asks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../core/cidr.h"
#include "../core/cniconf.h"
#include "../core/ipam.h"
#include "../core/vethname.h"
#include "../io/leases.h"
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "podnet.h"
#include "podnet_int.h"

static bool is_valid(const struct cni_conf *conf, const struct lease *l)
{
	size_t i;

	for (i = 0; i < conf->nvalid; i++)
		if (strcmp(conf->valid[i].id, l->id) == 0 &&
		    strcmp(conf->valid[i].ifname, l->ifname) == 0)
			return true;
	return false;
}

struct gc_tally {
	unsigned released, links, errors;
	char first[1024];
};

static void gc_fail(struct gc_tally *t, const char *what, const char *name, int rc,
		    const struct ebuf *eb)
{
	if (t->errors++ == 0)
		snprintf(t->first, sizeof(t->first), "%s %s: %s%s%.400s", what, name,
			 strerror(-rc), ebuf_empty(eb) ? "" : ": ", ebuf_empty(eb) ? "" : eb->msg);
}

/* Veth first, lease second: an address is free for reuse only once nothing routes to it. */
static void gc_one(struct nlsock *s, struct leases *l, const struct lease *ls,
		   struct gc_tally *t)
{
	char host[VETHNAME_LEN + 1], a[IPADDR_STRLEN];
	struct ebuf eb = { "" };
	int rc;

	if (ipaddr_format(&ls->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	vethname(ls->id, ls->ifname, host);
	rc = rtnl_link_del(s, host, &eb);
	if (rc == 0)
		t->links++;
	if (rc && rc != -ENODEV) {
		gc_fail(t, "cannot delete veth", host, rc, &eb);
		return;
	}
	rc = leases_release(l, &ls->addr);
	if (rc) {
		gc_fail(t, "cannot release lease", a, rc, NULL);
		return;
	}
	t->released++;
	log_info("GC: released %s of container %s ifname %s", a, ls->id, ls->ifname);
}

int podnet_gc(const struct cni_conf *conf, struct cni_error *err)
{
	struct nlsock s = { .fd = -1 };
	struct leases *l = NULL;
	struct lease *all = NULL;
	struct gc_tally t = { 0 };
	size_t n = 0, i;
	int rc;

	rc = nlsock_open(&s, NETLINK_ROUTE);
	if (rc) {
		podnet_kerr(err, rc, NULL, "cannot open a netlink socket");
		return -1;
	}
	if (podnet_store(conf, NULL, &l, err)) {
		nlsock_close(&s);
		return -1;
	}
	rc = leases_list(l, &all, &n);
	for (i = 0; rc == 0 && i < n; i++) {
		if (all[i].id[0] == '\0') {
			log_warnx("GC: leaving a malformed lease record alone");
			continue;
		}
		if (!is_valid(conf, &all[i]))
			gc_one(&s, l, &all[i], &t);
	}
	leases_close(l);
	nlsock_close(&s);
	mem_free(all);
	if (rc) {
		cni_error_set(err, CNI_ERR_STORE, "cannot read the lease store", "%s", strerror(-rc));
		return -1;
	}
	if (t.errors) {
		cni_error_set(err, CNI_ERR_KERNEL, "GC could not remove everything",
			      "%u error(s), first: %s; %u lease(s) released", t.errors, t.first,
			      t.released);
		return -1;
	}
	log_debug("GC: %u lease(s) released, %u veth(s) deleted", t.released, t.links);
	return 0;
}

/* Ready when the ranges are known, the store opens, and every range has a free address. */
int podnet_status(const struct cni_conf *conf, struct cni_error *err)
{
	struct ipam_range r[2];
	struct leases *l = NULL;
	uint32_t mtu;
	size_t n = 0, i;
	int rc = 0;

	if (podnet_ranges(conf, r, &n, &mtu, err) || podnet_store(conf, NULL, &l, err)) {
		err->code = CNI_ERR_NOT_AVAILABLE;
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		struct ipaddr *used = NULL, last, pick;
		size_t nused = 0;
		char s[CIDR_STRLEN];

		rc = leases_used(l, r[i].subnet.addr.family, &used, &nused);
		if (rc == 0) {
			int lr = leases_last(l, r[i].subnet.addr.family, &last);

			rc = ipam_pick(&r[i], lr ? NULL : &last, used, nused, &pick);
		}
		mem_free(used);
		if (rc) {
			if (cidr_format(&r[i].subnet, s, sizeof(s)))
				snprintf(s, sizeof(s), "?");
			cni_error_set(err, CNI_ERR_NOT_AVAILABLE,
				      rc == -ENOSPC ? "no free address" : "lease store unreadable",
				      "%s: %s", s, rc == -ENOSPC ? "every address is leased" :
								    strerror(-rc));
		}
	}
	leases_close(l);
	return rc ? -1 : 0;
}
