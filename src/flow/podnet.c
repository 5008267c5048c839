// SPDX-License-Identifier: MIT
/*
 * podnet.c: CNI ADD and DEL. ADD is on every pod's start path, so it is written as a short
 * straight line of kernel requests: one RTM_NEWLINK creates the veth with its peer already in
 * the pod namespace, named, addressed with our MACs and up; one batch configures the pod side;
 * one batch adds the host routes and neighbours. Addresses are reserved first, under the
 * store's lock (podnet_ipam.c), and the lock is dropped before any netlink work so parallel
 * ADDs overlap.
 *
 * Failure at any step undoes the steps before it in reverse (veth, then leases), so a failed
 * ADD leaves nothing behind; a SIGKILL between steps leaves at most a lease and a veth, both
 * named after the attachment, which DEL or GC remove.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_addr.h>

#include "../base/err.h"
#include "../base/log.h"
#include "../core/cidr.h"
#include "../core/cniconf.h"
#include "../core/podmsg.h"
#include "../core/vethname.h"
#include "../io/agentcall.h"
#include "../io/leases.h"
#include "../io/netns.h"
#include "../nl/nlmsg.h"
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "podnet.h"
#include "podnet_int.h"

void podnet_gateway(int family, struct ipaddr *gw)
{
	const char *s = family == AF_INET ? PODNET_GW4 : PODNET_GW6;

	if (ipaddr_parse(s, strlen(s), gw))
		memset(gw, 0, sizeof(*gw));
}

void podnet_kerr(struct cni_error *err, int rc, const struct ebuf *eb, const char *what)
{
	cni_error_set(err, CNI_ERR_KERNEL, what, "%s%s%s", strerror(-rc),
		      ebuf_empty(eb) ? "" : ": ", ebuf_empty(eb) ? "" : eb->msg);
}

/* ---- links and routes ----------------------------------------------------------------- */

static int uplink_cb(const struct rtnl_route *r, void *ctx)
{
	int *oif = ctx;

	if (r->dst.prefix == 0 && r->oif > 0 && *oif == 0)
		*oif = r->oif;
	return 0;
}

/* The MTU of the interface holding the node's default route (IPv4 first); 1500 if none. */
static uint32_t uplink_mtu(struct nlsock *s)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct rtnl_link link;
	size_t i;
	int oif = 0;

	for (i = 0; i < ARRAY_SIZE(families) && oif == 0; i++)
		if (rtnl_route_dump(s, families[i], RT_TABLE_MAIN, uplink_cb, NULL, &oif, NULL))
			oif = 0;
	if (oif > 0 && rtnl_link_get_index(s, oif, &link, NULL) == 0 && link.mtu >= 576)
		return link.mtu;
	return 1500;
}

static int random_macs(struct podnet_add_state *a)
{
	uint8_t r[12];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -errno;
	/* locally administered, unicast */
	r[0] = (uint8_t)((r[0] & 0xfe) | 0x02);
	r[6] = (uint8_t)((r[6] & 0xfe) | 0x02);
	memcpy(a->host_mac, r, 6);
	memcpy(a->pod_mac, a->conf->has_mac ? a->conf->mac : r + 6, 6);
	return 0;
}

static int make_veth(struct podnet_add_state *a, struct cni_error *err)
{
	struct rtnl_veth v = {
		.name = a->host,
		.peer = a->env->ifname,
		.peer_netns_fd = a->pod_fd,
		.mtu = a->mtu,
		.mac = a->host_mac,
		.peer_mac = a->pod_mac,
		.up = true,
		.queues = 1,
	};
	struct rtnl_link old, echo;
	int rc;

	rc = rtnl_veth_add_link(&a->hs, &v, &echo, &a->eb);
	if (rc == -EEXIST) {
		if (rtnl_link_get(&a->hs, a->host, &old, NULL) == 0)
			cni_error_set(err, CNI_ERR_IFACE_EXISTS, "attachment already exists",
				      "host interface %s of container %s ifname %s exists: "
				      "ADD repeated without DEL", a->host, a->env->containerid,
				      a->env->ifname);
		else
			cni_error_set(err, CNI_ERR_IFACE_EXISTS, "interface already exists",
				      "%s already exists in %s", a->env->ifname, a->env->netns);
		return rc;
	}
	if (rc) {
		podnet_kerr(err, rc, &a->eb, "cannot create the veth pair");
		return rc;
	}
	a->veth_made = true;
	a->host_ifindex = echo.ifindex;
	/* the echo names the peer's ifindex in the pod namespace: no lookup needed there */
	a->pod_ifindex = echo.link;
	return 0;
}

/* Open the pod-side socket inside the pod namespace, then come straight back. */
static int open_pod_socket(struct podnet_add_state *a, struct cni_error *err)
{
	int rc = netns_enter(a->pod_fd);

	if (rc) {
		cni_error_set(err, CNI_ERR_NETNS, "cannot enter the pod network namespace", "%s: %s",
			      a->env->netns, strerror(-rc));
		return rc;
	}
	rc = nlsock_open(&a->ps, NETLINK_ROUTE);
	if (netns_enter(a->host_fd)) {
		/* we cannot continue in the wrong namespace: everything after would land there */
		cni_error_set(err, CNI_ERR_NETNS, "cannot return to the node network namespace",
			      "%s", strerror(errno));
		return -EIO;
	}
	if (rc)
		podnet_kerr(err, rc, NULL, "cannot open a netlink socket in the pod");
	return rc;
}

static void put_default_route(struct nlb *b, int family, int oif)
{
	struct rtnl_route r = { .oif = oif, .onlink = true, .has_gw = true };

	r.dst.addr.family = (uint8_t)family;
	podnet_gateway(family, &r.gw);
	rtnl_put_route(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &r);
}

static int batch(struct nlsock *s, char *mem, struct nlb *b, struct ebuf *eb)
{
	size_t failed = 0;

	if (nlb_err(b))
		return nlb_err(b);
	return nlsock_batch(s, mem, b->len, &failed, eb);
}

/*
 * In the pod: link up, addresses, gateway neighbours, default routes, all in one round trip.
 * The peer cannot be created up (the kernel opens it before the pair is linked), hence the
 * explicit link-up at the head of the batch.
 */
static int plumb_pod(struct podnet_add_state *a, struct cni_error *err)
{
	char mem[2048];
	struct nlb b;
	struct ipaddr gw;
	size_t i;
	int rc;

	if (a->pod_ifindex <= 0) {
		podnet_kerr(err, -EPROTO, NULL, "the kernel did not report the pod interface");
		return -EPROTO;
	}
	nlb_init(&b, mem, sizeof(mem));
	rtnl_put_link_up(&b, a->pod_ifindex);
	for (i = 0; i < a->naddrs; i++) {
		int fam = a->addrs[i].addr.family;

		rtnl_put_addr(&b, RTM_NEWADDR, a->pod_ifindex, &a->addrs[i],
			      fam == AF_INET6 ? IFA_F_NODAD : 0);
		podnet_gateway(fam, &gw);
		rtnl_put_neigh(&b, a->pod_ifindex, &gw, a->host_mac);
		put_default_route(&b, fam, a->pod_ifindex);
	}
	rc = batch(&a->ps, mem, &b, &a->eb);
	if (rc)
		podnet_kerr(err, rc, &a->eb, "cannot configure the pod interface");
	return rc;
}

/* On the node: a host route and a neighbour entry per pod address (no ARP/NDP round trip). */
static int plumb_host(struct podnet_add_state *a, struct cni_error *err)
{
	char mem[2048];
	struct nlb b;
	size_t i;
	int rc;

	nlb_init(&b, mem, sizeof(mem));
	for (i = 0; i < a->naddrs; i++) {
		struct rtnl_route r = {
			.dst = a->addrs[i],
			.oif = a->host_ifindex,
			.scope = RT_SCOPE_LINK,
		};

		rtnl_put_neigh(&b, a->host_ifindex, &a->addrs[i].addr, a->pod_mac);
		rtnl_put_route(&b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &r);
	}
	rc = batch(&a->hs, mem, &b, &a->eb);
	if (rc)
		podnet_kerr(err, rc, &a->eb, "cannot add the host routes");
	return rc;
}

/* Routing between pods needs forwarding in the node namespace; write only when it is off. */
static int enable_forwarding(const char *path)
{
	char c = 0;
	int fd, rc = 0;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (read(fd, &c, 1) != 1 || c != '1')
		rc = pwrite(fd, "1\n", 2, 0) == 2 ? 0 : -errno;
	close(fd);
	return rc;
}

static int node_sysctls(struct podnet_add_state *a, struct cni_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < a->naddrs && rc == 0; i++) {
		const char *p = a->addrs[i].addr.family == AF_INET ?
					"/proc/sys/net/ipv4/ip_forward" :
					"/proc/sys/net/ipv6/conf/all/forwarding";

		rc = enable_forwarding(p);
		if (rc)
			cni_error_set(err, CNI_ERR_KERNEL, "cannot enable forwarding", "%s: %s", p,
				      strerror(-rc));
	}
	return rc;
}

/* ---- result ---------------------------------------------------------------------------- */

static int fill_result(struct podnet_add_state *a, struct cni_result *res, struct cni_error *err)
{
	const struct cni_conf *c = a->conf;
	size_t base, i;
	struct cni_iface *h, *p;

	memset(res, 0, sizeof(*res));
	if (c->has_prev)
		*res = c->prev; /* chained after another plugin: keep what it reported */
	base = res->nifaces;
	if (base + 2 > CNI_MAX_IFACES || res->nips + a->naddrs > CNI_MAX_IPS ||
	    res->nroutes + a->naddrs > CNI_MAX_ROUTES) {
		cni_error_set(err, CNI_ERR_CONFIG, "prevResult too large to extend", NULL);
		return -E2BIG;
	}
	h = &res->ifaces[base];
	p = &res->ifaces[base + 1];
	snprintf(h->name, sizeof(h->name), "%s", a->host);
	memcpy(h->mac, a->host_mac, 6);
	h->has_mac = true;
	snprintf(p->name, sizeof(p->name), "%s", a->env->ifname);
	memcpy(p->mac, a->pod_mac, 6);
	p->has_mac = true;
	snprintf(p->sandbox, sizeof(p->sandbox), "%s", a->env->netns);
	p->mtu = a->mtu;
	res->nifaces = base + 2;
	for (i = 0; i < a->naddrs; i++) {
		struct cni_ip *ip = &res->ips[res->nips++];
		struct cni_route *rt = &res->routes[res->nroutes++];

		ip->addr = a->addrs[i];
		podnet_gateway(a->addrs[i].addr.family, &ip->gw);
		ip->has_gw = true;
		ip->iface = (int)base + 1;
		memset(&rt->dst, 0, sizeof(rt->dst));
		rt->dst.addr.family = a->addrs[i].addr.family;
		rt->gw = ip->gw;
		rt->has_gw = true;
	}
	if (c->dns)
		res->dns = c->dns;
	return 0;
}

static void agent_forget(const struct cni_env *env, const struct cni_conf *c);

static void undo(struct podnet_add_state *a)
{
	struct ebuf eb = { "" };

	if (a->agent_told)
		agent_forget(a->env, a->conf);
	if (a->veth_made && rtnl_link_del(&a->hs, a->host, &eb) && !ebuf_empty(&eb))
		log_warnx("undo: cannot delete %s: %s", a->host, eb.msg);
	podnet_release(a);
}

/* ---- the node agent: policy before the first packet ------------------------------------ */

#define PODNET_AGENT_ADD_MS 10000
#define PODNET_AGENT_DEL_MS 3000

/* false when the agent is not asked: no agentSocket, or not a Kubernetes pod (no K8S_POD_*
 * args: nothing can select it). */
static bool agent_req(const struct cni_env *env, const struct cni_conf *c, enum podmsg_op op,
		      struct podmsg_req *r)
{
	if (!c->agent_socket || !c->pod_namespace || !c->pod_name)
		return false;
	memset(r, 0, sizeof(*r));
	r->op = op;
	snprintf(r->ns, sizeof(r->ns), "%s", c->pod_namespace);
	snprintf(r->name, sizeof(r->name), "%s", c->pod_name);
	snprintf(r->id, sizeof(r->id), "%s", env->containerid);
	return true;
}

static void agent_forget(const struct cni_env *env, const struct cni_conf *c)
{
	struct podmsg_req r;
	struct ebuf eb = { "" };

	if (agent_req(env, c, PODMSG_DEL, &r) &&
	    agentcall(c->agent_socket, &r, PODNET_AGENT_DEL_MS, &eb))
		log_debug("agent: %s", eb.msg);
}

static int confirm_policy(struct podnet_add_state *a, struct cni_error *err)
{
	struct podmsg_req r;
	struct ebuf eb = { "" };
	size_t i;
	int rc;

	if (!agent_req(a->env, a->conf, PODMSG_ADD, &r))
		return 0;
	for (i = 0; i < a->naddrs; i++)
		r.ip[a->addrs[i].addr.family == AF_INET ? 0 : 1] = a->addrs[i].addr;
	rc = agentcall(a->conf->agent_socket, &r, PODNET_AGENT_ADD_MS, &eb);
	if (!rc) {
		a->agent_told = true;
		return 0;
	}
	cni_error_set(err, CNI_ERR_TRY_AGAIN,
		      "the node agent did not confirm the pod's network policy", "%s: %s",
		      a->conf->agent_socket, eb.msg);
	/* it may have registered the addresses before failing */
	agent_forget(a->env, a->conf);
	return rc;
}

static int add_steps(struct podnet_add_state *a, struct cni_result *res, struct cni_error *err)
{
	uint32_t state_mtu = 0;
	int rc;

	rc = podnet_ranges(a->conf, a->ranges, &a->nranges, &state_mtu, err);
	if (rc)
		return rc;
	rc = netns_open(a->env->netns, &a->pod_fd, &a->eb);
	if (rc) {
		cni_error_set(err, CNI_ERR_NETNS, "invalid CNI_NETNS", "%s", a->eb.msg);
		return rc;
	}
	rc = netns_self(&a->host_fd);
	if (rc) {
		cni_error_set(err, CNI_ERR_NETNS, "cannot open the node namespace", "%s",
			      strerror(-rc));
		return rc;
	}
	rc = nlsock_open(&a->hs, NETLINK_ROUTE);
	if (rc) {
		podnet_kerr(err, rc, NULL, "cannot open a netlink socket");
		return rc;
	}
	a->mtu = a->conf->mtu ? a->conf->mtu : state_mtu ? state_mtu : uplink_mtu(&a->hs);
	if (a->mtu < 1280 && (a->nranges == 2 || a->ranges[0].subnet.addr.family == AF_INET6)) {
		cni_error_set(err, CNI_ERR_CONFIG, "MTU too small for IPv6",
			      "mtu %u is below the IPv6 minimum of 1280", a->mtu);
		return -EINVAL;
	}
	rc = random_macs(a);
	if (rc) {
		cni_error_set(err, CNI_ERR_KERNEL, "getrandom failed", "%s", strerror(-rc));
		return rc;
	}
	rc = podnet_reserve(a, err);
	if (rc)
		return rc;
	/*
	 * The agent programs the pod's policy before the host routes exist: until then nothing
	 * can reach the pod, so not even a packet in flight during the ADD gets past its policy
	 * (nor leaves a conntrack entry that a later `ct state established` would let through).
	 */
	if ((rc = make_veth(a, err)) || (rc = open_pod_socket(a, err)) ||
	    (rc = plumb_pod(a, err)) || (rc = confirm_policy(a, err)) ||
	    (rc = plumb_host(a, err)) || (rc = node_sysctls(a, err)))
		return rc;
	return fill_result(a, res, err);
}

int podnet_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_result *res,
	       struct cni_error *err)
{
	struct podnet_add_state a = {
		.env = env,
		.conf = conf,
		.host_fd = -1,
		.pod_fd = -1,
		.hs = { .fd = -1 },
		.ps = { .fd = -1 },
	};
	int rc;

	vethname(env->containerid, env->ifname, a.host);
	rc = add_steps(&a, res, err);
	if (rc)
		undo(&a);
	nlsock_close(&a.ps);
	nlsock_close(&a.hs);
	if (a.pod_fd >= 0)
		close(a.pod_fd);
	if (a.host_fd >= 0)
		close(a.host_fd);
	return rc ? -1 : 0;
}

/* ---- DEL ------------------------------------------------------------------------------- */

int podnet_del(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *err)
{
	struct nlsock s = { .fd = -1 };
	struct leases *l = NULL;
	struct ebuf eb = { "" };
	char host[VETHNAME_LEN + 1];
	int rc, n;

	vethname(env->containerid, env->ifname, host);
	rc = nlsock_open(&s, NETLINK_ROUTE);
	if (rc) {
		podnet_kerr(err, rc, NULL, "cannot open a netlink socket");
		return -1;
	}
	/* the pod end goes with it, and so do the host routes and neighbours on it */
	rc = rtnl_link_del(&s, host, &eb);
	nlsock_close(&s);
	if (rc && rc != -ENODEV) {
		/* keep the leases: their addresses are still routed to a live veth */
		podnet_kerr(err, rc, &eb, "cannot delete the host veth");
		return -1;
	}
	/* before the addresses can go to another pod, the agent drops their permissions */
	agent_forget(env, conf);
	if (podnet_store(conf, NULL, &l, err))
		return -1;
	n = leases_release_owner(l, env->containerid, env->ifname);
	leases_close(l);
	if (n < 0) {
		cni_error_set(err, CNI_ERR_STORE, "cannot release leases", "%s", strerror(-n));
		return -1;
	}
	log_debug("DEL %s %s: %s%s, %d lease(s) released", env->containerid, env->ifname, host,
		  rc ? " was already gone" : " deleted", n);
	return 0;
}
