// SPDX-License-Identifier: MIT
/* deps: flow/noderoutes.c flow/noderoutes_read.c flow/noderoutes_apply.c flow/noderoutes_flush.c core/routes.c core/routes_diff.c core/routes_fmt.c core/cache.c core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c nl/rtnl.c nl/rtnl_link.c nl/rtnl_neigh.c nl/nlsock.c nl/nlmsg.c base/buf.c base/err.c base/log.c base/mem.c */
/*
 * test_noderoutes.c: the agent's route reconciler against a real kernel, in a private network
 * namespace standing for the node (this process, unshared first thing in main), with the
 * veth's other end in a second one so the uplink has carrier:
 *
 *   node (this process)                                   peer namespace
 *   uplink 10.1.0.1/24 fd00:1::1/64 mtu 9000 <-- veth --> eth0 10.1.0.2/24 fd00:1::2/64
 *   10.99.0.0/24 via 10.1.0.254 proto static              (a route that is not ours)
 *   10.244.1.5/32, fd00:244:1::5/128 dev uplink proto 86  (pod host routes, the CNI's)
 *
 *   Nodes:  self  10.1.0.1     fd00:1::1    10.244.1.0/24 fd00:244:1::/64
 *           near  10.1.0.2     fd00:1::2    10.244.2.0/24 fd00:244:2::/64  (direct)
 *           far   192.168.50.7 fd00:50::7   10.244.3.0/24 fd00:244:3::/64  (VXLAN)
 *           bare  10.1.0.9     -            no podCIDRs                    (skipped)
 *
 * Every assertion on the kernel reads it back with dumps: the exact set of our routes, the
 * permanent neighbours and the fdb entries of the VXLAN devices. Then modes, a changed
 * VXLAN parameter, a VNI held by a foreign device, every allocation failing in turn, and
 * 1,000 off-link peers (pass times as diag lines).
 */
#include <errno.h>
#include <time.h>
#include <sys/mman.h>
#include <linux/if.h>
#include <linux/neighbour.h>

#include "tap.h"
#include "netns_util.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "core/cache.h"
#include "core/cidr.h"
#include "core/k8sobj.h"
#include "core/routes.h"
#include "flow/noderoutes.h"
#include "nl/nlmsg.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"

static int ns_node = -1, ns_peer = -1;
static struct nlsock S;         /* the test's own socket, in the node namespace */
static int UL;                  /* uplink ifindex */
static int logfd = -1;
static off_t logoff;

/* The VTEP MAC of an address, as text. */
static const char *vtep(const char *addr)
{
	static char buf[4][ROUTES_MAC_STRLEN];
	static int k;
	struct ipaddr a = ip(addr);
	uint8_t m[6];
	char *out = buf[k++ % 4];

	if (routes_vtep_mac(&a, m) || routes_mac_format(m, out, ROUTES_MAC_STRLEN))
		abort();
	return out;
}

/* The IPv6 VXLAN gateway (fe80:: + EUI-64 of the VTEP MAC) of the peer at addr. */
static const char *vtep_gw6(const char *addr)
{
	static char buf[4][IPADDR_STRLEN];
	static int k;
	struct ipaddr a = ip(addr), gw;
	struct cidr any = { .addr = { .family = AF_INET6 } };
	uint8_t m[6];
	char *out = buf[k++ % 4];

	if (routes_vtep_mac(&a, m))
		abort();
	routes_vtep_gw(&any, m, &gw);
	if (ipaddr_format(&gw, out, IPADDR_STRLEN))
		abort();
	return out;
}

/* Log lines written since the last call. */
static const char *log_new(void)
{
	static char buf[8192];
	ssize_t n = pread(logfd, buf, sizeof(buf) - 1, logoff);

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	logoff += n;
	return buf;
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* ---- Nodes ------------------------------------------------------------------------------ */

static struct k8sobj *mknode(const char *name, const char *ip4, const char *ip6,
			     const char *pod4, const char *pod6)
{
	static unsigned rv;
	char addrs[256] = "", pods[160] = "", js[768];
	struct k8sobj *o = NULL;
	int n;

	if (ip4)
		snprintf(addrs, sizeof(addrs), "{\"type\":\"InternalIP\",\"address\":\"%s\"}", ip4);
	if (ip6)
		snprintf(addrs + strlen(addrs), sizeof(addrs) - strlen(addrs),
			 "%s{\"type\":\"InternalIP\",\"address\":\"%s\"}", ip4 ? "," : "", ip6);
	if (pod4)
		snprintf(pods, sizeof(pods), "\"%s\"", pod4);
	if (pod6)
		snprintf(pods + strlen(pods), sizeof(pods) - strlen(pods), "%s\"%s\"",
			 pod4 ? "," : "", pod6);
	n = snprintf(js, sizeof(js),
		     "{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"%u\"},"
		     "\"spec\":{\"podCIDRs\":[%s]},\"status\":{\"addresses\":[%s]}}",
		     name, ++rv, pods, addrs);
	if (n < 0 || (size_t)n >= sizeof(js) || k8sobj_parse(js, (size_t)n, K8SOBJ_NODE, &o, NULL))
		abort();
	return o;
}

static void put(struct cache *c, struct k8sobj *o)
{
	if (cache_upsert(c, o))
		abort();
}

static void base_nodes(struct cache *c)
{
	put(c, mknode("self", "10.1.0.1", "fd00:1::1", "10.244.1.0/24", "fd00:244:1::/64"));
	put(c, mknode("near", "10.1.0.2", "fd00:1::2", "10.244.2.0/24", "fd00:244:2::/64"));
	put(c, mknode("far", "192.168.50.7", "fd00:50::7", "10.244.3.0/24", "fd00:244:3::/64"));
	put(c, mknode("bare", "10.1.0.9", NULL, NULL, NULL));
}

/* ---- namespaces and topology ------------------------------------------------------------ */

static int peer_side(int peer_ul)
{
	struct nlsock p;
	int r = netns_socket(ns_peer, ns_node, &p);

	if (r)
		return r;
	r = link_addrs(&p, peer_ul, true, "10.1.0.2/24", "fd00:1::2/64", "peer side");
	nlsock_close(&p);
	return r;
}

static int topology(void)
{
	struct rtnl_veth v = { .name = "uplink", .peer = "eth0", .peer_netns_fd = ns_peer,
			       .mtu = 9000, .up = true };
	struct rtnl_route foreign = { .dst = net("10.99.0.0/24"), .gw = ip("10.1.0.254"),
				      .has_gw = true, .oif = 0, .protocol = RTPROT_STATIC };
	struct rtnl_route pod4 = { .dst = net("10.244.1.5/32"), .scope = RT_SCOPE_LINK };
	struct rtnl_route pod6 = { .dst = net("fd00:244:1::5/128") };
	struct ebuf eb = { "" };
	struct rtnl_link l;
	int r;

	r = nlsock_open(&S, NETLINK_ROUTE);
	if (!r)
		r = rtnl_veth_add_link(&S, &v, &l, &eb);
	if (r) {
		diag("topology: %d %s", r, eb.msg);
		return r;
	}
	UL = l.ifindex;
	r = link_addrs(&S, UL, false, "10.1.0.1/24", "fd00:1::1/64", "node side");
	if (!r)
		r = peer_side(l.link);
	pod4.oif = pod6.oif = UL;
	if (!r)
		r = rtnl_route_add(&S, &foreign, NLM_F_CREATE | NLM_F_EXCL, &eb);
	if (!r)
		r = rtnl_route_add(&S, &pod4, NLM_F_CREATE | NLM_F_EXCL, &eb);
	if (!r)
		r = rtnl_route_add(&S, &pod6, NLM_F_CREATE | NLM_F_EXCL, &eb);
	if (r)
		diag("topology: %d %s", r, eb.msg);
	return r;
}

/* ---- reading the kernel back ------------------------------------------------------------ */

enum { MAXSEEN = 4096 };

struct seen {
	struct rtnl_route r[MAXSEEN];
	struct rtnl_neigh n[MAXSEEN];
	struct rtnl_fdb f[MAXSEEN];
	size_t nr, nn, nf;
	bool over;
};

static struct seen seen;

static void seen_routes_reset(void *ctx)
{
	((struct seen *)ctx)->nr = 0;
}

static int seen_route(const struct rtnl_route *r, void *ctx)
{
	struct seen *s = ctx;

	if (s->nr == MAXSEEN)
		s->over = true;
	else
		s->r[s->nr++] = *r;
	return 0;
}

static int seen_neigh(const struct rtnl_neigh *n, void *ctx)
{
	struct seen *s = ctx;

	if (!(n->state & NUD_PERMANENT))
		return 0;
	if (s->nn == MAXSEEN)
		s->over = true;
	else
		s->n[s->nn++] = *n;
	return 0;
}

static int seen_fdb(const struct rtnl_fdb *f, void *ctx)
{
	struct seen *s = ctx;

	if (!routes_is_vtep_mac(f->mac))
		return 0;
	if (s->nf == MAXSEEN)
		s->over = true;
	else
		s->f[s->nf++] = *f;
	return 0;
}

static int vx_index(const char *name)
{
	struct rtnl_link l;

	return rtnl_link_get(&S, name, &l, NULL) ? 0 : l.ifindex;
}

/* Our routes (protocol 86, main table), and the neighbours and fdb of both VXLAN devices. */
static int read_kernel(uint8_t proto)
{
	struct rtnl_route_filter rf = { .family = AF_UNSPEC, .table = RT_TABLE_MAIN,
					.protocol = proto };
	const char *names[] = { NODEROUTES_VXLAN4, NODEROUTES_VXLAN6 };
	struct ebuf eb = { "" };
	size_t i;
	int r, vx;

	memset(&seen, 0, sizeof(seen));
	r = rtnl_route_dump_filter(&S, &rf, seen_route, seen_routes_reset, &seen, &eb);
	for (i = 0; i < ARRAY_SIZE(names) && !r; i++) {
		vx = vx_index(names[i]);
		if (!vx)
			continue;
		r = rtnl_neigh_dump(&S, AF_UNSPEC, vx, seen_neigh, NULL, &seen, &eb);
		if (!r)
			r = rtnl_fdb_dump(&S, vx, seen_fdb, NULL, &seen, &eb);
	}
	if (r || seen.over)
		diag("read_kernel: %d %s", r, seen.over ? "too many" : eb.msg);
	return r || seen.over ? -1 : 0;
}

static const char *ifname(int ifindex)
{
	static char buf[8][IFNAMSIZ + 8];
	static int k;
	char *out = buf[k++ % 8];
	struct rtnl_link l;

	if (rtnl_link_get_index(&S, ifindex, &l, NULL))
		snprintf(out, IFNAMSIZ + 8, "#%d", ifindex);
	else
		snprintf(out, IFNAMSIZ + 8, "%s", l.name);
	return out;
}

static const char *atxt(const struct ipaddr *a)
{
	static char buf[4][IPADDR_STRLEN];
	static int k;
	char *out = buf[k++ % 4];

	if (ipaddr_format(a, out, IPADDR_STRLEN))
		strcpy(out, "?");
	return out;
}

struct text {
	char *line[64];
	size_t n;
};

static void __printf(2, 3) add(struct text *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (t->n < ARRAY_SIZE(t->line))
		t->line[t->n++] = strdup(buf);
}

static int strpcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted lines joined by newlines; frees the lines. */
static char *join(struct text *t)
{
	static char out[2][4096];
	static int k;
	char *o = out[k++ % 2];
	size_t i;

	o[0] = '\0';
	qsort(t->line, t->n, sizeof(t->line[0]), strpcmp);
	for (i = 0; i < t->n; i++) {
		strncat(o, t->line[i], 4096 - strlen(o) - 2);
		strcat(o, "\n");
		free(t->line[i]);
	}
	t->n = 0;
	return o;
}

static const char *kernel_text(void)
{
	struct text t = { .n = 0 };
	char d[CIDR_STRLEN], m[ROUTES_MAC_STRLEN];
	size_t i;

	if (read_kernel(RTNL_PROTO_VIRGIL))
		return "(cannot read the kernel)";
	for (i = 0; i < seen.nr; i++) {
		const struct rtnl_route *r = &seen.r[i];

		if (cidr_format(&r->dst, d, sizeof(d)))
			abort();
		if (r->has_gw)
			add(&t, "route %s via %s dev %s%s", d, atxt(&r->gw), ifname(r->oif),
			    r->onlink ? " onlink" : "");
		else
			add(&t, "route %s dev %s", d, ifname(r->oif));
	}
	for (i = 0; i < seen.nn; i++) {
		if (routes_mac_format(seen.n[i].mac, m, sizeof(m)))
			abort();
		add(&t, "neigh %s %s dev %s", atxt(&seen.n[i].ip), m, ifname(seen.n[i].ifindex));
	}
	for (i = 0; i < seen.nf; i++) {
		if (routes_mac_format(seen.f[i].mac, m, sizeof(m)))
			abort();
		add(&t, "fdb %s %s dev %s", m, atxt(&seen.f[i].dst), ifname(seen.f[i].ifindex));
	}
	return join(&t);
}

#define VX4 "dev " NODEROUTES_VXLAN4
#define VX6 "dev " NODEROUTES_VXLAN6

static void pod_routes(struct text *t)
{
	add(t, "route 10.244.1.5/32 dev uplink");
	add(t, "route fd00:244:1::5/128 dev uplink");
}

static void direct(struct text *t, const char *pod4, const char *gw4, const char *pod6,
		   const char *gw6)
{
	add(t, "route %s via %s dev uplink", pod4, gw4);
	add(t, "route %s via %s dev uplink", pod6, gw6);
}

/* podCIDRs 10.244.N.0/24 and fd00:244:N::/64 over VXLAN to ip4 / ip6. */
static void tunnel(struct text *t, int n, const char *ip4, const char *ip6)
{
	add(t, "route 10.244.%d.0/24 via 10.244.%d.0 " VX4 " onlink", n, n);
	add(t, "route fd00:244:%d::/64 via %s " VX6 " onlink", n, vtep_gw6(ip6));
	add(t, "neigh 10.244.%d.0 %s " VX4, n, vtep(ip4));
	add(t, "neigh %s %s " VX6, vtep_gw6(ip6), vtep(ip6));
	add(t, "fdb %s %s " VX4, vtep(ip4), ip4);
	add(t, "fdb %s %s " VX6, vtep(ip6), ip6);
}

static void expect_kernel(struct text *want, const char *what)
{
	const char *got = kernel_text();

	is_str(got, join(want), what);
}

static bool foreign_intact(void)
{
	struct ipaddr gw = ip("10.1.0.254");

	return !read_kernel(RTPROT_STATIC) && seen.nr == 1 && seen.r[0].has_gw &&
	       ipaddr_eq(&seen.r[0].gw, &gw) && seen.r[0].dst.prefix == 24;
}

/* ---- helpers around the reconciler ------------------------------------------------------ */

static struct noderoutes *mk(enum noderoutes_mode mode, uint32_t vni)
{
	struct noderoutes_cfg cfg = { .mode = mode, .vni = vni };
	struct noderoutes *nr = NULL;
	struct ebuf eb = { "" };

	if (noderoutes_new(&cfg, &nr, &eb)) {
		diag("noderoutes_new: %s", eb.msg);
		abort();
	}
	return nr;
}

static int sync_(struct noderoutes *nr, struct cache *c, struct noderoutes_stats *st)
{
	struct ebuf eb = { "" };
	int r = noderoutes_sync(nr, "self", c, st, &eb);

	if (r)
		diag("sync: %d %s", r, eb.msg);
	return r;
}

static void expect_stats(const struct noderoutes_stats *st, unsigned add_, unsigned rep,
			 unsigned del, const char *what)
{
	char w[160];

	snprintf(w, sizeof(w), "%s: %u added, %u replaced, %u deleted", what, add_, rep, del);
	ok(st->added == add_ && st->replaced == rep && st->deleted == del && !st->failed, w);
	if (st->added != add_ || st->replaced != rep || st->deleted != del || st->failed)
		diag("got %u added, %u replaced, %u deleted, %u failed", st->added, st->replaced,
		     st->deleted, st->failed);
}

static void expect_vxlan(const char *name, uint32_t vni, const char *local, uint32_t mtu,
			 const char *what)
{
	struct ipaddr a = ip(local);
	struct rtnl_link l;
	uint8_t mac[6];

	if (routes_vtep_mac(&a, mac))
		abort();
	ok(!rtnl_link_get(&S, name, &l, NULL) && l.has_vxlan && l.vxlan.vni == vni &&
	   ipaddr_eq(&l.vxlan.local, &a) && l.vxlan.link == UL && l.vxlan.port == 4789 &&
	   !l.vxlan.learning && !memcmp(l.mac, mac, 6) && l.mtu == mtu && (l.flags & IFF_UP),
	   what);
}

/* ---- cases ------------------------------------------------------------------------------ */

static void test_cfg(void)
{
	struct noderoutes_cfg bad[] = {
		{ .vni = 1u << 24 },
		{ .mode = (enum noderoutes_mode)7 },
		{ .vxlan4 = "" },
		{ .vxlan6 = "a-name-too-long!" },
		{ .vxlan4 = "same", .vxlan6 = "same" },
		{ .vxlan4 = "a/b" },
	};
	struct noderoutes *nr = (struct noderoutes *)&nr;
	struct ebuf eb = { "" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		is_int(noderoutes_new(&bad[i], &nr, &eb), -EINVAL, "cfg: refused");
		ok(nr == NULL && !ebuf_empty(&eb), "cfg: NULL out, a reason");
	}
	is_int(noderoutes_new(NULL, &nr, &eb), 0, "cfg: NULL means defaults");
	noderoutes_free(nr);
	noderoutes_free(NULL);
}

static void test_auto(struct cache *c)
{
	struct noderoutes *nr = mk(NODEROUTES_AUTO, 0);
	struct noderoutes_stats st;
	struct text t = { .n = 0 };
	const char *lg;

	log_new();
	is_int(sync_(nr, c, &st), 0, "auto: first pass");
	expect_stats(&st, 8, 0, 0, "auto: first pass");
	ok(st.nodes == 3 && st.skipped == 1 && st.direct == 2 && st.vxlan == 2 &&
	   st.vxlan_nodes == 1, "auto: 3 peers, 1 skipped, 2 podCIDRs direct, 2 over VXLAN");
	ok(st.vxlan_used && st.pod_mtu == 8930, "auto: VXLAN in use, pod MTU 9000 - 70");
	pod_routes(&t);
	direct(&t, "10.244.2.0/24", "10.1.0.2", "fd00:244:2::/64", "fd00:1::2");
	tunnel(&t, 3, "192.168.50.7", "fd00:50::7");
	expect_kernel(&t, "auto: exact kernel state");
	expect_vxlan(NODEROUTES_VXLAN4, 86, "10.1.0.1", 8950, "auto: vxlan4 as configured");
	expect_vxlan(NODEROUTES_VXLAN6, 86, "fd00:1::1", 8930, "auto: vxlan6 as configured");
	lg = log_new();
	is_int(count_lines(lg, "routes: 8 added, 0 replaced, 0 deleted; 1 node via vxlan\n"), 1,
	       "auto: one info line for the changes");
	is_int(count_lines(lg, "vxlan device"), 2, "auto: one line per device made");

	is_int(sync_(nr, c, &st), 0, "auto: second pass");
	expect_stats(&st, 0, 0, 0, "auto: second pass changes nothing");
	ok(st.nodes == 3 && st.skipped == 1 && st.pod_mtu == 8930, "auto: same counts");
	is_str(log_new(), "", "auto: an unchanged pass logs nothing");
	ok(foreign_intact(), "auto: the static route is untouched");

	/* a peer moves: direct gateway replaced; VXLAN neigh replaced, fdb remote swapped */
	put(c, mknode("near", "10.1.0.3", "fd00:1::2", "10.244.2.0/24", "fd00:244:2::/64"));
	put(c, mknode("far", "192.168.50.8", "fd00:50::7", "10.244.3.0/24", "fd00:244:3::/64"));
	is_int(sync_(nr, c, &st), 0, "move: pass");
	expect_stats(&st, 1, 2, 1, "move");
	pod_routes(&t);
	direct(&t, "10.244.2.0/24", "10.1.0.3", "fd00:244:2::/64", "fd00:1::2");
	tunnel(&t, 3, "192.168.50.8", "fd00:50::7");
	expect_kernel(&t, "move: exact kernel state");
	is_int(sync_(nr, c, &st), 0, "move: again");
	expect_stats(&st, 0, 0, 0, "move: again changes nothing");

	/* a peer leaves */
	ok(cache_remove(c, NULL, "far"), "leave: far removed from the cache");
	is_int(sync_(nr, c, &st), 0, "leave: pass");
	expect_stats(&st, 0, 0, 6, "leave: route, neigh and fdb per family");
	ok(!st.vxlan_used && st.pod_mtu == 9000, "leave: no VXLAN in use, full MTU");
	pod_routes(&t);
	direct(&t, "10.244.2.0/24", "10.1.0.3", "fd00:244:2::/64", "fd00:1::2");
	expect_kernel(&t, "leave: the others intact");
	ok(vx_index(NODEROUTES_VXLAN4) && vx_index(NODEROUTES_VXLAN6),
	   "leave: the devices stay (a pass never deletes them)");
	ok(foreign_intact(), "leave: the static route is untouched");

	base_nodes(c);
	is_int(sync_(nr, c, &st), 0, "back: pass");
	expect_stats(&st, 6, 1, 0, "back: far added, near's IPv4 gateway replaced");
	noderoutes_free(nr);
}

static void test_modes(struct cache *c)
{
	struct noderoutes *nr = mk(NODEROUTES_DIRECT, 0);
	struct noderoutes_stats st;
	struct text t = { .n = 0 };

	is_int(sync_(nr, c, &st), 0, "direct: pass");
	expect_stats(&st, 0, 0, 6, "direct: far's VXLAN entries go");
	ok(st.skipped == 3 && st.vxlan == 0 && !st.vxlan_used && st.pod_mtu == 9000,
	   "direct: far skipped per family, no VXLAN, full MTU");
	pod_routes(&t);
	direct(&t, "10.244.2.0/24", "10.1.0.2", "fd00:244:2::/64", "fd00:1::2");
	expect_kernel(&t, "direct: exact kernel state");
	noderoutes_free(nr);

	nr = mk(NODEROUTES_VXLAN, 0);
	is_int(sync_(nr, c, &st), 0, "vxlan: pass");
	expect_stats(&st, 10, 2, 0, "vxlan: near moves into the tunnel, far comes back");
	ok(st.vxlan == 4 && st.direct == 0 && st.vxlan_nodes == 2 && st.pod_mtu == 8930,
	   "vxlan: every podCIDR over VXLAN");
	pod_routes(&t);
	tunnel(&t, 2, "10.1.0.2", "fd00:1::2");
	tunnel(&t, 3, "192.168.50.7", "fd00:50::7");
	expect_kernel(&t, "vxlan: exact kernel state");
	is_int(sync_(nr, c, &st), 0, "vxlan: again");
	expect_stats(&st, 0, 0, 0, "vxlan: again changes nothing");
	noderoutes_free(nr);

	log_new();
	nr = mk(NODEROUTES_VXLAN, 87);
	is_int(sync_(nr, c, &st), 0, "vni: pass with another VNI");
	expect_stats(&st, 12, 0, 0, "vni: devices made again, every entry added back");
	expect_vxlan(NODEROUTES_VXLAN4, 87, "10.1.0.1", 8950, "vni: vxlan4 has VNI 87");
	expect_vxlan(NODEROUTES_VXLAN6, 87, "fd00:1::1", 8930, "vni: vxlan6 has VNI 87");
	is_int(count_lines(log_new(), "recreating vxlan device"), 2, "vni: the reason is logged");
	pod_routes(&t);
	tunnel(&t, 2, "10.1.0.2", "fd00:1::2");
	tunnel(&t, 3, "192.168.50.7", "fd00:50::7");
	expect_kernel(&t, "vni: exact kernel state");
	noderoutes_free(nr);

	nr = mk(NODEROUTES_AUTO, 0);
	is_int(sync_(nr, c, &st), 0, "auto again: pass");
	pod_routes(&t);
	direct(&t, "10.244.2.0/24", "10.1.0.2", "fd00:244:2::/64", "fd00:1::2");
	tunnel(&t, 3, "192.168.50.7", "fd00:50::7");
	expect_kernel(&t, "auto again: exact kernel state");
	noderoutes_free(nr);
}

static void test_flush(struct cache *c)
{
	struct noderoutes *nr = mk(NODEROUTES_AUTO, 0);
	struct text t = { .n = 0 };
	struct ebuf eb = { "" };
	unsigned n = 0;

	is_int(noderoutes_flush(nr, c, &n, &eb), 0, "flush: done");
	is_int(n, 4, "flush: two devices and the two direct routes");
	pod_routes(&t);
	expect_kernel(&t, "flush: only the pod host routes are left");
	ok(!vx_index(NODEROUTES_VXLAN4) && !vx_index(NODEROUTES_VXLAN6), "flush: no devices");
	ok(foreign_intact(), "flush: the static route is untouched");
	is_int(noderoutes_flush(nr, c, &n, &eb), 0, "flush: again");
	is_int(n, 0, "flush: nothing left to delete");
	noderoutes_free(nr);
}

/* Another device holds our VNI and port: the IPv4 tunnel cannot be made, the rest can. */
static void test_conflict(struct cache *c)
{
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 9 };
	struct rtnl_vxlan other = { .name = "other", .vni = 86, .local = ip("10.1.0.1"),
				    .mac = mac };
	struct noderoutes *nr = mk(NODEROUTES_AUTO, 0);
	struct noderoutes_stats st;
	struct text t = { .n = 0 };
	struct ebuf eb = { "" };
	const char *lg;

	is_int(rtnl_vxlan_ensure(&S, &other, NULL, &eb), 0, "conflict: a foreign device");
	log_new();
	is_int(noderoutes_sync(nr, "self", c, &st, &eb), -EEXIST, "conflict: the pass fails");
	ok(strstr(eb.msg, NODEROUTES_VXLAN4) && strstr(eb.msg, "kernel:"),
	   "conflict: eb names the device and has the kernel's text");
	diag("%s", eb.msg);
	expect_stats(&st, 5, 0, 0, "conflict: direct routes and the IPv6 tunnel made anyway");
	ok(st.skipped == 2 && st.pod_mtu == 8930, "conflict: far's IPv4 skipped, MTU as planned");
	lg = log_new();
	ok(count_lines(lg, "routes: 5 added, 0 replaced, 0 deleted; 1 node via vxlan\n") == 1 &&
	   count_lines(lg, "routes: vxlan " NODEROUTES_VXLAN4 ": kernel: ") == 1,
	   "conflict: the changes and the failure logged");
	is_int(noderoutes_sync(nr, "self", c, &st, &eb), -EEXIST, "conflict: again");
	is_str(log_new(), "", "conflict: a repeated failure is not logged again");
	is_int(noderoutes_sync(nr, "self", c, &st, &eb), -EEXIST, "conflict: and again");
	is_int(rtnl_link_del(&S, "other", &eb), 0, "conflict: the foreign device goes");
	is_int(sync_(nr, c, &st), 0, "conflict: now the pass works");
	expect_stats(&st, 3, 0, 0, "conflict: the IPv4 tunnel made");
	lg = log_new();
	is_int(count_lines(lg, "programmed again after 3 failed passes"), 1,
	       "conflict: recovery logged with the count");
	pod_routes(&t);
	direct(&t, "10.244.2.0/24", "10.1.0.2", "fd00:244:2::/64", "fd00:1::2");
	tunnel(&t, 3, "192.168.50.7", "fd00:50::7");
	expect_kernel(&t, "conflict: exact kernel state at the end");
	is_int(noderoutes_sync(nr, "nobody", c, &st, &eb), -ENOENT, "missing self: -ENOENT");
	is_str(eb.msg, "node nobody is not in the Node cache", "missing self: reason");
	noderoutes_free(nr);
}

/*
 * The kernel refuses one change: far's IPv4 VXLAN gateway (10.244.3.0) is also a local address
 * of the node, and a local address cannot be a gateway. The rest is applied; the failure is
 * returned, logged once, and logged again when it clears. A foreign, more specific IPv6 route
 * covering far's podCIDR stays in place throughout: the link-local IPv6 VXLAN gateway is
 * exempt from the on-link check that a global gateway would fail.
 */
static void test_refused(struct cache *c)
{
	struct rtnl_route cover = { .dst = net("fd00:244:3::/100"), .gw = ip("fd00:1::2"),
				    .has_gw = true, .oif = UL, .protocol = RTPROT_STATIC };
	struct cidr local = net("10.244.3.0/32");
	struct noderoutes *nr = mk(NODEROUTES_AUTO, 0);
	struct noderoutes_stats st;
	struct text t = { .n = 0 };
	struct ebuf eb = { "" };
	const char *lg;
	char want[256];

	is_int(noderoutes_flush(nr, c, NULL, &eb), 0, "refused: start empty");
	is_int(rtnl_route_add(&S, &cover, NLM_F_CREATE | NLM_F_EXCL, &eb), 0,
	       "refused: a static route covering far's IPv6 podCIDR");
	is_int(rtnl_addr_add(&S, 1, &local, 0, &eb), 0,
	       "refused: far's IPv4 gateway as a local address");
	log_new();
	is_int(noderoutes_sync(nr, "self", c, &st, &eb), -EINVAL, "refused: the pass fails");
	snprintf(want, sizeof(want), "add route 10.244.3.0/24 via 10.244.3.0 dev %d onlink: kernel:",
		 vx_index(NODEROUTES_VXLAN4));
	ok(strncmp(eb.msg, want, strlen(want)) == 0, "refused: which change, and the kernel's why");
	if (strncmp(eb.msg, want, strlen(want)) != 0)
		diag("got: %s", eb.msg);
	ok(st.added == 7 && st.failed == 1, "refused: the other seven changes made (IPv6 too)");
	lg = log_new();
	ok(count_lines(lg, "routes: 7 added, 0 replaced, 0 deleted, 1 failed; 1 node via vxlan\n")
	   == 1 && count_lines(lg, "routes: add route 10.244.3.0/24") == 1,
	   "refused: one info line, one warning");
	is_int(noderoutes_sync(nr, "self", c, &st, &eb), -EINVAL, "refused: again");
	ok(st.added == 0 && st.failed == 1, "refused: nothing else to do, same failure");
	is_str(log_new(), "", "refused: a repeated failure logs nothing");
	is_int(rtnl_route_del(&S, &cover, &eb), 0, "refused: the static route goes");
	{
		char mem[256];
		struct nlb b;
		size_t failed;

		nlb_init(&b, mem, sizeof(mem));
		rtnl_put_addr(&b, RTM_DELADDR, 1, &local, 0);
		is_int(nlsock_batch(&S, mem, b.len, &failed, &eb), 0, "refused: the address goes");
	}
	is_int(sync_(nr, c, &st), 0, "refused: now the pass works");
	expect_stats(&st, 1, 0, 0, "refused: the route made");
	lg = log_new();
	is_int(count_lines(lg, "routes: programmed again after 2 failed passes\n"), 1,
	       "refused: recovery logged");
	pod_routes(&t);
	direct(&t, "10.244.2.0/24", "10.1.0.2", "fd00:244:2::/64", "fd00:1::2");
	tunnel(&t, 3, "192.168.50.7", "fd00:50::7");
	expect_kernel(&t, "refused: exact kernel state at the end");
	noderoutes_free(nr);
}

/* Fail the nth allocation or netlink send, for every n, from an empty kernel each time. */
static void test_faults(struct cache *c)
{
	struct noderoutes *nr = NULL, *flusher = mk(NODEROUTES_AUTO, 0);
	struct noderoutes_stats st;
	struct text t = { .n = 0 };
	struct ebuf eb;
	unsigned long n, calls;
	int r, bad = 0, failed = 0;

	log_setstderr(0);
	for (n = 1; n < 1000; n++) {
		if (noderoutes_flush(flusher, c, NULL, &eb))
			bad++;
		fault_reset(n);
		r = noderoutes_new(NULL, &nr, &eb);
		if (!r) {
			r = noderoutes_sync(nr, "self", c, &st, &eb);
			noderoutes_free(nr);
		}
		calls = fault_reset(0);
		if (r > 0 || (r && calls < n))
			bad++;
		if (calls < n)
			break;
		failed += r != 0;
	}
	log_setstderr(1);
	noderoutes_free(flusher);
	ok(n > 5 && n < 1000, "faults: every allocation and send failed once");
	is_int(bad, 0, "faults: each pass failed cleanly or succeeded");
	diag("faults: %lu points, %d passes failed", n - 1, failed);
	nr = mk(NODEROUTES_AUTO, 0);
	is_int(sync_(nr, c, &st), 0, "faults: a clean pass after all that");
	pod_routes(&t);
	direct(&t, "10.244.2.0/24", "10.1.0.2", "fd00:244:2::/64", "fd00:1::2");
	tunnel(&t, 3, "192.168.50.7", "fd00:50::7");
	expect_kernel(&t, "faults: exact kernel state");
	noderoutes_free(nr);
}

/* ---- scale ------------------------------------------------------------------------------ */

enum { NPEERS = 1000 };

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void count_kernel(size_t *routes, size_t *neigh, size_t *fdb)
{
	size_t i;

	*routes = *neigh = *fdb = 0;
	if (read_kernel(RTNL_PROTO_VIRGIL))
		return;
	for (i = 0; i < seen.nr; i++)
		*routes += seen.r[i].has_gw && seen.r[i].onlink;
	*neigh = seen.nn;
	*fdb = seen.nf;
}

static void test_scale(void)
{
	struct cache *c = cache_new(K8SOBJ_NODE, NULL, NULL, 7);
	struct noderoutes *nr = mk(NODEROUTES_AUTO, 0);
	struct noderoutes_stats st;
	struct timespec t0;
	size_t nroute, nneigh, nfdb;
	char name[16], a4[32], a6[48], p4[32], p6[48];
	struct ebuf eb = { "" };
	unsigned n;
	double ms;
	int i;

	if (!c)
		abort();
	put(c, mknode("self", "10.1.0.1", "fd00:1::1", "10.244.1.0/24", "fd00:244:1::/64"));
	for (i = 0; i < NPEERS; i++) {
		snprintf(name, sizeof(name), "p%04d", i);
		snprintf(a4, sizeof(a4), "172.16.%d.%d", i / 250, i % 250 + 1);
		snprintf(a6, sizeof(a6), "fd00:60::%x", i + 1);
		snprintf(p4, sizeof(p4), "10.%d.%d.0/24", 100 + i / 256, i % 256);
		snprintf(p6, sizeof(p6), "fd00:245:%x::/64", i + 1);
		put(c, mknode(name, a4, a6, p4, p6));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(sync_(nr, c, &st), 0, "scale: first pass");
	ms = ms_since(&t0);
	diag("scale: first pass with %d peers (%u changes): %.1f ms", NPEERS, st.added, ms);
	expect_stats(&st, 6 * NPEERS, 0, 0, "scale: first pass");
	ok(st.nodes == NPEERS && st.vxlan == 2 * NPEERS && st.vxlan_nodes == NPEERS &&
	   st.skipped == 0, "scale: every peer over VXLAN, both families");
	count_kernel(&nroute, &nneigh, &nfdb);
	is_int(nroute, 2 * NPEERS, "scale: 1,000 routes per family in the kernel");
	is_int(nneigh, 2 * NPEERS, "scale: 1,000 neighbours per device");
	is_int(nfdb, 2 * NPEERS, "scale: 1,000 fdb entries per device");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(sync_(nr, c, &st), 0, "scale: second pass");
	ms = ms_since(&t0);
	diag("scale: second pass with %d peers (no change): %.1f ms", NPEERS, ms);
	expect_stats(&st, 0, 0, 0, "scale: second pass changes nothing");

	ok(cache_remove(c, NULL, "p0500"), "scale: one peer leaves");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(sync_(nr, c, &st), 0, "scale: pass after one left");
	diag("scale: pass removing one of %d peers: %.1f ms", NPEERS, ms_since(&t0));
	expect_stats(&st, 0, 0, 6, "scale: its six entries go");
	count_kernel(&nroute, &nneigh, &nfdb);
	ok(nroute == 2 * NPEERS - 2 && nneigh == 2 * NPEERS - 2 && nfdb == 2 * NPEERS - 2,
	   "scale: exact counts after one left");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(noderoutes_flush(nr, c, &n, &eb), 0, "scale: flush");
	diag("scale: flush: %.1f ms", ms_since(&t0));
	count_kernel(&nroute, &nneigh, &nfdb);
	ok(nroute == 0 && nneigh == 0 && nfdb == 0, "scale: nothing left after the flush");
	ok(foreign_intact(), "scale: the static route is untouched");
	noderoutes_free(nr);
	cache_free(c);
}

int main(void)
{
	struct cache *c;
	int r;

	/* first of all: never touch the machine's own namespace */
	r = netns_pair(&ns_node, &ns_peer);
	if (r) {
		printf("# cannot create network namespaces (%s): needs root\n", strerror(-r));
		ok(0, "netns setup");
		return tap_done();
	}
	log_procinit("test_noderoutes");
	logfd = memfd_create("log", MFD_CLOEXEC);
	log_setfd(logfd);
	test_cfg();
	c = cache_new(K8SOBJ_NODE, NULL, NULL, 1);
	if (!c || topology()) {
		ok(0, "topology");
		return tap_done();
	}
	base_nodes(c);
	test_auto(c);
	test_modes(c);
	test_flush(c);
	test_conflict(c);
	test_refused(c);
	test_faults(c);
	test_flush(c);
	test_scale();
	cache_free(c);
	nlsock_close(&S);
	close(logfd);
	close(ns_node);
	close(ns_peer);
	return tap_done();
}
