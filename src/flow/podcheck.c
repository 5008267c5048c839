// SPDX-License-Identifier: MIT
/*
 * podcheck.c: CNI CHECK. Compares the kernel and the lease store with prevResult, not with
 * what ADD would build today: a plugin chained after us (tuning) may have changed the MAC, and
 * prevResult is the contract. Every difference found is named in the error, so an operator
 * sees "route ::/0 via fe80::1 missing in /run/netns/x", not just "check failed".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../core/cidr.h"
#include "../core/cniconf.h"
#include "../core/vethname.h"
#include "../io/leases.h"
#include "../io/netns.h"
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "podnet.h"
#include "podnet_int.h"

#define CHECK_MAX_SEEN 256

/* What a dump collected: addresses or routes, bounded. */
struct seen {
	int ifindex;
	size_t n;
	struct rtnl_addr addrs[CHECK_MAX_SEEN];
	struct rtnl_route routes[CHECK_MAX_SEEN];
};

static void seen_reset(void *ctx)
{
	((struct seen *)ctx)->n = 0;
}

static int addr_cb(const struct rtnl_addr *a, void *ctx)
{
	struct seen *s = ctx;

	if (a->ifindex == s->ifindex && s->n < CHECK_MAX_SEEN)
		s->addrs[s->n++] = *a;
	return 0;
}

static int route_cb(const struct rtnl_route *r, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < CHECK_MAX_SEEN)
		s->routes[s->n++] = *r;
	return 0;
}

static void fmt_cidr(const struct cidr *c, char *out, size_t cap)
{
	if (cidr_format(c, out, cap))
		snprintf(out, cap, "?");
}

static void fmt_addr(const struct ipaddr *a, char *out, size_t cap)
{
	if (ipaddr_format(a, out, cap))
		snprintf(out, cap, "?");
}

static bool route_has(const struct seen *s, const struct cidr *dst, const struct ipaddr *gw,
		      int oif)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct rtnl_route *r = &s->routes[i];

		if (r->dst.prefix != dst->prefix || !ipaddr_eq(&r->dst.addr, &dst->addr))
			continue;
		if (gw && (!r->has_gw || !ipaddr_eq(&r->gw, gw)))
			continue;
		if (oif && r->oif != oif)
			continue;
		return true;
	}
	return false;
}

static int drift(struct cni_error *err, const char *fmt, ...) __printf(2, 3);
static int drift(struct cni_error *err, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cni_error_set(err, CNI_ERR_CHECK, "attachment differs from prevResult", "%s", msg);
	return -1;
}

/* The pod side: interface, MAC, addresses, routes. Runs with a socket opened in the pod. */
static int check_pod(struct nlsock *ps, const struct cni_env *env, const struct cni_result *prev,
		     size_t idx, struct seen *s, struct cni_error *err)
{
	const struct cni_iface *want = &prev->ifaces[idx];
	struct rtnl_link link;
	struct ebuf eb = { "" };
	char t[CIDR_STRLEN], g[IPADDR_STRLEN];
	size_t i, j;

	if (rtnl_link_get(ps, env->ifname, &link, &eb))
		return drift(err, "interface %s missing in %s", env->ifname, env->netns);
	if (strcmp(link.kind, "veth") != 0)
		return drift(err, "interface %s in %s is not a veth", env->ifname, env->netns);
	if (want->has_mac && memcmp(link.mac, want->mac, 6) != 0)
		return drift(err, "interface %s in %s has another MAC", env->ifname, env->netns);
	s->ifindex = link.ifindex;
	s->n = 0;
	if (rtnl_addr_dump(ps, AF_UNSPEC, addr_cb, seen_reset, s, &eb)) {
		podnet_kerr(err, -EIO, &eb, "cannot list pod addresses");
		return -1;
	}
	for (i = 0; i < prev->nips; i++) {
		if (prev->ips[i].iface != (int)idx)
			continue;
		for (j = 0; j < s->n; j++)
			if (ipaddr_eq(&s->addrs[j].addr.addr, &prev->ips[i].addr.addr) &&
			    s->addrs[j].addr.prefix == prev->ips[i].addr.prefix)
				break;
		if (j == s->n) {
			fmt_cidr(&prev->ips[i].addr, t, sizeof(t));
			return drift(err, "address %s missing in %s", t, env->netns);
		}
	}
	s->n = 0;
	if (rtnl_route_dump(ps, AF_UNSPEC, RT_TABLE_MAIN, route_cb, seen_reset, s, &eb)) {
		podnet_kerr(err, -EIO, &eb, "cannot list pod routes");
		return -1;
	}
	for (i = 0; i < prev->nroutes; i++) {
		const struct cni_route *r = &prev->routes[i];

		if (route_has(s, &r->dst, r->has_gw ? &r->gw : NULL, 0))
			continue;
		fmt_cidr(&r->dst, t, sizeof(t));
		if (r->has_gw)
			fmt_addr(&r->gw, g, sizeof(g));
		else
			snprintf(g, sizeof(g), "(none)");
		cni_error_set(err, CNI_ERR_CHECK, "attachment differs from prevResult",
			      "route %s via %s missing in %s", t, g, env->netns);
		return -1;
	}
	return 0;
}

/* The node side: host veth up, a host route per pod address of ours. */
static int check_host(const struct cni_env *env, const struct cni_result *prev, size_t idx,
		      struct seen *s, struct cni_error *err)
{
	struct nlsock hs = { .fd = -1 };
	struct rtnl_link link;
	struct ebuf eb = { "" };
	char host[VETHNAME_LEN + 1], t[CIDR_STRLEN];
	size_t i;
	int rc = -1;

	vethname(env->containerid, env->ifname, host);
	if (nlsock_open(&hs, NETLINK_ROUTE)) {
		podnet_kerr(err, -EIO, NULL, "cannot open a netlink socket");
		return -1;
	}
	if (rtnl_link_get(&hs, host, &link, &eb)) {
		drift(err, "host interface %s of %s missing", host, env->containerid);
		goto out;
	}
	if (!(link.flags & IFF_UP)) {
		drift(err, "host interface %s of %s is down", host, env->containerid);
		goto out;
	}
	s->n = 0;
	if (rtnl_route_dump(&hs, AF_UNSPEC, RT_TABLE_MAIN, route_cb, seen_reset, s, &eb)) {
		podnet_kerr(err, -EIO, &eb, "cannot list host routes");
		goto out;
	}
	for (i = 0; i < prev->nips; i++) {
		if (prev->ips[i].iface != (int)idx)
			continue;
		if (!route_has(s, &prev->ips[i].addr, NULL, link.ifindex)) {
			fmt_cidr(&prev->ips[i].addr, t, sizeof(t));
			drift(err, "host route to %s via %s missing", t, host);
			goto out;
		}
	}
	rc = 0;
out:
	nlsock_close(&hs);
	return rc;
}

/* Every address of ours in prevResult is leased to this attachment. */
static int check_leases(const struct cni_env *env, const struct cni_conf *conf,
			const struct cni_result *prev, size_t idx, struct cni_error *err)
{
	struct leases *l = NULL;
	struct lease *all = NULL;
	size_t n = 0, i, j;
	char t[IPADDR_STRLEN];
	int rc;

	if (podnet_store(conf, NULL, &l, err))
		return -1;
	rc = leases_list(l, &all, &n);
	leases_close(l);
	if (rc) {
		cni_error_set(err, CNI_ERR_STORE, "cannot read the lease store", "%s", strerror(-rc));
		return -1;
	}
	for (i = 0, rc = 0; i < prev->nips && rc == 0; i++) {
		if (prev->ips[i].iface != (int)idx)
			continue;
		for (j = 0; j < n; j++)
			if (ipaddr_eq(&all[j].addr, &prev->ips[i].addr.addr) &&
			    strcmp(all[j].id, env->containerid) == 0 &&
			    strcmp(all[j].ifname, env->ifname) == 0)
				break;
		if (j == n) {
			fmt_addr(&prev->ips[i].addr.addr, t, sizeof(t));
			rc = drift(err, "no lease of %s for container %s", t, env->containerid);
		}
	}
	mem_free(all);
	return rc;
}

static int find_iface(const struct cni_env *env, const struct cni_result *prev, size_t *idx,
		      struct cni_error *err)
{
	size_t i;

	for (i = 0; i < prev->nifaces; i++) {
		if (strcmp(prev->ifaces[i].name, env->ifname) != 0 || !prev->ifaces[i].sandbox[0])
			continue;
		if (strcmp(prev->ifaces[i].sandbox, env->netns) != 0)
			return drift(err, "prevResult places %s in %s", env->ifname,
				     prev->ifaces[i].sandbox);
		*idx = i;
		return 0;
	}
	cni_error_set(err, CNI_ERR_CHECK, "attachment differs from prevResult",
		      "prevResult lists no interface %s with a sandbox", env->ifname);
	return -1;
}

int podnet_check(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *err)
{
	struct nlsock ps = { .fd = -1 };
	struct seen *s = NULL;
	struct ebuf eb = { "" };
	int pod_fd = -1, host_fd = -1, rc = -1;
	size_t idx = 0;

	if (!conf->has_prev) {
		cni_error_set(err, CNI_ERR_CONFIG, "Required prevResult missing", NULL);
		return -1;
	}
	if (find_iface(env, &conf->prev, &idx, err))
		return -1;
	s = mem_alloc(sizeof(*s));
	if (!s) {
		cni_error_set(err, CNI_ERR_IO, "out of memory", NULL);
		return -1;
	}
	if (netns_open(env->netns, &pod_fd, &eb) || netns_self(&host_fd)) {
		cni_error_set(err, CNI_ERR_NETNS, "invalid CNI_NETNS", "%s", eb.msg);
		goto out;
	}
	if (netns_enter(pod_fd) == 0) {
		rc = nlsock_open(&ps, NETLINK_ROUTE);
		if (netns_enter(host_fd)) {
			cni_error_set(err, CNI_ERR_NETNS, "cannot return to the node namespace", NULL);
			rc = -1;
			goto out;
		}
	}
	if (rc) {
		podnet_kerr(err, -EIO, NULL, "cannot open a netlink socket in the pod");
		rc = -1;
		goto out;
	}
	rc = check_pod(&ps, env, &conf->prev, idx, s, err);
	if (rc == 0)
		rc = check_host(env, &conf->prev, idx, s, err);
	if (rc == 0)
		rc = check_leases(env, conf, &conf->prev, idx, err);
out:
	nlsock_close(&ps);
	if (pod_fd >= 0)
		close(pod_fd);
	if (host_fd >= 0)
		close(host_fd);
	mem_free(s);
	return rc ? -1 : 0;
}
