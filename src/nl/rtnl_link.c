// SPDX-License-Identifier: MIT
/*
 * rtnl_link.c: links over rtnetlink (see rtnl.h): veth pairs created with one request and
 * their host side read back from the kernel's echo, the agent's VXLAN device (create, or find
 * and compare), lookups by name or index, deletion, dumps, and the RTM_NEWLINK parser with
 * its vxlan IFLA_INFO_DATA. Addresses and routes are in rtnl.c, neighbours and fdb entries in
 * rtnl_neigh.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/veth.h>

#include "rtnl.h"
#include "rtnl_int.h"
#include "nlmsg.h"
#include "nlsock.h"
#include "../base/err.h"

/* The largest request here, a veth pair with both names, MACs and a netns, is 140 bytes. */
#define REQ_WORDS 64

static bool name_ok(const char *name)
{
	size_t n = name ? strnlen(name, IFNAMSIZ) : 0;

	return n > 0 && n < IFNAMSIZ;
}

static void put_ifinfo(struct nlb *b, int ifindex, bool up)
{
	struct ifinfomsg *ifi = nlb_extra(b, sizeof(*ifi));

	if (!ifi)
		return;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
}

/* The attributes both ends of a veth take; the peer's sit inside VETH_INFO_PEER. */
static void put_end(struct nlb *b, const char *name, uint32_t mtu, uint32_t queues,
		    const uint8_t *mac, int nsfd)
{
	nlb_put_strz(b, IFLA_IFNAME, name);
	if (mtu)
		nlb_put_u32(b, IFLA_MTU, mtu);
	if (queues) {
		nlb_put_u32(b, IFLA_NUM_TX_QUEUES, queues);
		nlb_put_u32(b, IFLA_NUM_RX_QUEUES, queues);
	}
	if (mac)
		nlb_put(b, IFLA_ADDRESS, mac, 6);
	if (nsfd >= 0)
		nlb_put_u32(b, IFLA_NET_NS_FD, (uint32_t)nsfd);
}

void rtnl_put_veth(struct nlb *b, const struct rtnl_veth *v)
{
	struct nlattr *info, *data, *peer;

	/* NLM_F_ECHO: the kernel (>= 6.2) sends the new host link back to us, ifindex and peer
	 * ifindex included, which saves a lookup on each side. */
	if (!nlb_msg(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO))
		return;
	put_ifinfo(b, 0, v->up);
	put_end(b, v->name, v->mtu, v->queues, v->mac, -1);
	info = nlb_nest_start(b, IFLA_LINKINFO);
	nlb_put_strz(b, IFLA_INFO_KIND, "veth");
	data = nlb_nest_start(b, IFLA_INFO_DATA);
	/* VETH_INFO_PEER holds a whole ifinfomsg and then the peer's own IFLA attributes. The
	 * peer cannot be up yet: the kernel configures it before linking the pair, and
	 * veth_open() refuses a device without its peer (ENOTCONN). See rtnl_put_link_up(). */
	peer = nlb_nest_start(b, VETH_INFO_PEER);
	put_ifinfo(b, 0, false);
	put_end(b, v->peer, v->mtu, v->queues, v->peer_mac, v->peer_netns_fd);
	nlb_nest_end(b, peer);
	nlb_nest_end(b, data);
	nlb_nest_end(b, info);
}

static uint16_t vxlan_port(const struct rtnl_vxlan *v)
{
	return v->port ? v->port : RTNL_VXLAN_PORT;
}

static bool vxlan_ok(const struct rtnl_vxlan *v)
{
	return name_ok(v->name) && v->vni <= RTNL_VXLAN_VNI_MAX && v->link >= 0 &&
	       rtnl_family_ok(v->local.family);
}

void rtnl_put_vxlan(struct nlb *b, const struct rtnl_vxlan *v)
{
	bool v4 = v->local.family == AF_INET;
	struct nlattr *info, *data;

	if (!vxlan_ok(v)) {
		rtnl_bad_arg(b);
		return;
	}
	if (!nlb_msg(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO))
		return;
	put_ifinfo(b, 0, true);
	put_end(b, v->name, v->mtu, 0, v->mac, -1);
	info = nlb_nest_start(b, IFLA_LINKINFO);
	nlb_put_strz(b, IFLA_INFO_KIND, "vxlan");
	data = nlb_nest_start(b, IFLA_INFO_DATA);
	nlb_put_u32(b, IFLA_VXLAN_ID, v->vni);
	rtnl_put_ipaddr(b, v4 ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, &v->local);
	if (v->link)
		nlb_put_u32(b, IFLA_VXLAN_LINK, (uint32_t)v->link);
	/* one of the few big-endian rtnetlink integers */
	nlb_put_be16(b, IFLA_VXLAN_PORT, vxlan_port(v));
	/* every remote is programmed: learning would only let a spoofed source move one */
	nlb_put_u8(b, IFLA_VXLAN_LEARNING, 0);
	nlb_nest_end(b, data);
	nlb_nest_end(b, info);
}

/* Counters are most of a link message and nobody here reads them. */
static void put_skip_stats(struct nlb *b)
{
	nlb_put_u32(b, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
}

static void put_link_name(struct nlb *b, uint16_t type, const char *name)
{
	if (!nlb_msg(b, type, NLM_F_REQUEST))
		return;
	put_ifinfo(b, 0, false);
	nlb_put_strz(b, IFLA_IFNAME, name);
	if (type == RTM_GETLINK)
		put_skip_stats(b);
}

/* One link by index, or all of them (a dump) with ifindex 0. */
static void put_getlink(struct nlb *b, int ifindex)
{
	if (!nlb_msg(b, RTM_GETLINK, NLM_F_REQUEST))
		return;
	put_ifinfo(b, ifindex, false);
	put_skip_stats(b);
}

void rtnl_put_link_up(struct nlb *b, int ifindex)
{
	if (nlb_msg(b, RTM_NEWLINK, NLM_F_REQUEST))
		put_ifinfo(b, ifindex, true);
}

void rtnl_put_link_getname(struct nlb *b, const char *name)
{
	put_link_name(b, RTM_GETLINK, name);
}

void rtnl_put_link_delname(struct nlb *b, const char *name)
{
	put_link_name(b, RTM_DELLINK, name);
}

static int parse_vxlan(const struct nlattr *data, struct rtnl_vxlan_info *x)
{
	const struct nlattr *tb[IFLA_VXLAN_MAX + 1];
	uint32_t link = 0;
	uint8_t learning = 0;

	if (nla_parse_nested(tb, IFLA_VXLAN_MAX, data))
		return -EINVAL;
	if (tb[IFLA_VXLAN_ID] &&
	    (nla_get_u32(tb[IFLA_VXLAN_ID], &x->vni) || x->vni > RTNL_VXLAN_VNI_MAX))
		return -EINVAL;
	/* the kernel sends one of the two, for the family the device speaks */
	if (tb[IFLA_VXLAN_LOCAL] && tb[IFLA_VXLAN_LOCAL6])
		return -EINVAL;
	if (tb[IFLA_VXLAN_LOCAL] && rtnl_get_ipaddr(tb[IFLA_VXLAN_LOCAL], AF_INET, &x->local))
		return -EINVAL;
	if (tb[IFLA_VXLAN_LOCAL6] && rtnl_get_ipaddr(tb[IFLA_VXLAN_LOCAL6], AF_INET6, &x->local))
		return -EINVAL;
	if (tb[IFLA_VXLAN_LINK] && (nla_get_u32(tb[IFLA_VXLAN_LINK], &link) || link > INT32_MAX))
		return -EINVAL;
	x->link = (int)link;
	if (tb[IFLA_VXLAN_PORT] && nla_get_be16(tb[IFLA_VXLAN_PORT], &x->port))
		return -EINVAL;
	if (tb[IFLA_VXLAN_LEARNING] && nla_get_u8(tb[IFLA_VXLAN_LEARNING], &learning))
		return -EINVAL;
	x->learning = learning;
	return 0;
}

static int parse_linkinfo(const struct nlattr *linkinfo, struct rtnl_link *l)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1];
	const char *k;

	if (nla_parse_nested(tb, IFLA_INFO_MAX, linkinfo))
		return -EINVAL;
	if (!tb[IFLA_INFO_KIND])
		return 0;
	k = nla_get_strz(tb[IFLA_INFO_KIND]);
	if (!k)
		return -EINVAL;
	/* A kind name we cannot hold is some link type we do not manage: leave it empty. */
	if (strlen(k) < sizeof(l->kind))
		strcpy(l->kind, k);
	if (strcmp(l->kind, "vxlan") != 0 || !tb[IFLA_INFO_DATA])
		return 0;
	l->has_vxlan = true;
	return parse_vxlan(tb[IFLA_INFO_DATA], &l->vxlan);
}

int rtnl_parse_link(const struct nlmsghdr *nlh, struct rtnl_link *out)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;
	struct rtnl_link l = { 0 };
	const char *name;
	uint32_t link = 0;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return -ENOENT;
	if (nlmsg_parse(tb, IFLA_MAX, nlh, sizeof(*ifi)))
		return -EINVAL;
	ifi = nlmsg_data(nlh);
	name = nla_get_strz(tb[IFLA_IFNAME]);
	if (ifi->ifi_index <= 0 || !name || !name_ok(name) || strlen(name) >= sizeof(l.name))
		return -EINVAL;
	l.ifindex = ifi->ifi_index;
	l.flags = ifi->ifi_flags;
	strcpy(l.name, name);
	if (tb[IFLA_ADDRESS] && nla_datalen(tb[IFLA_ADDRESS]) == sizeof(l.mac))
		memcpy(l.mac, nla_data(tb[IFLA_ADDRESS]), sizeof(l.mac));
	if (tb[IFLA_MTU] && nla_get_u32(tb[IFLA_MTU], &l.mtu))
		return -EINVAL;
	if (tb[IFLA_LINK] && (nla_get_u32(tb[IFLA_LINK], &link) || link > INT32_MAX))
		return -EINVAL;
	l.link = (int)link;
	if (tb[IFLA_LINKINFO] && parse_linkinfo(tb[IFLA_LINKINFO], &l))
		return -EINVAL;
	*out = l;
	return 0;
}

struct link_reply {
	const char *name;       /* NULL: take the first link */
	struct rtnl_link *out;
	bool found;
};

/* A reply we cannot parse counts as none: the echo then falls back to a lookup, and a
 * lookup reports -EBADMSG. */
static int link_reply_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct link_reply *r = arg;
	struct rtnl_link l;

	if (r->found || rtnl_parse_link(nlh, &l) || (r->name && strcmp(l.name, r->name) != 0))
		return 0;
	*r->out = l;
	r->found = true;
	return 0;
}

static int link_talk(struct nlsock *s, struct nlb *b, struct link_reply *r, struct ebuf *eb)
{
	return rtnl_talk(s, b, r ? link_reply_cb : NULL, r, "invalid link name or parameters", eb);
}

int rtnl_veth_add_link(struct nlsock *s, const struct rtnl_veth *v, struct rtnl_link *host,
		       struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct nlb b;
	struct link_reply r = { .name = v->name, .out = host };
	int err;

	if (!name_ok(v->name) || !name_ok(v->peer)) {
		ebuf_set(eb, "veth: interface names must have 1 to %d bytes", IFNAMSIZ - 1);
		return -EINVAL;
	}
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_veth(&b, v);
	err = link_talk(s, &b, &r, eb);
	/* Kernels before 6.2 ignore NLM_F_ECHO on RTM_NEWLINK: ask. */
	if (!err && !r.found)
		err = rtnl_link_get(s, v->name, host, eb);
	if (err)
		ebuf_prefix(eb, "creating veth %s (peer %s)", v->name, v->peer);
	return err;
}

int rtnl_veth_add(struct nlsock *s, const struct rtnl_veth *v, int *ifindex, struct ebuf *eb)
{
	struct rtnl_link host;
	int err = rtnl_veth_add_link(s, v, &host, eb);

	if (!err && ifindex)
		*ifindex = host.ifindex;
	return err;
}

static int link_get(struct nlsock *s, struct nlb *b, struct rtnl_link *out, struct ebuf *eb)
{
	struct link_reply r = { .out = out };
	int err = link_talk(s, b, &r, eb);

	if (!err && !r.found) {
		ebuf_set(eb, "no well-formed link in the kernel's reply");
		err = -EBADMSG;
	}
	return err;
}

/* RTM_GETLINK (into out) or RTM_DELLINK the link called name; no link has a bad name. */
static int link_by_name(struct nlsock *s, uint16_t type, const char *name, struct rtnl_link *out,
			struct ebuf *eb)
{
	bool get = type == RTM_GETLINK;
	uint64_t buf[REQ_WORDS];
	struct nlb b;
	int err;

	if (!name_ok(name)) {
		ebuf_set(eb, "link \"%s\": no such device", name ? name : "");
		return -ENODEV;
	}
	nlb_init(&b, buf, sizeof(buf));
	put_link_name(&b, type, name);
	err = get ? link_get(s, &b, out, eb) : link_talk(s, &b, NULL, eb);
	if (err)
		ebuf_prefix(eb, "%slink %s", get ? "" : "deleting ", name);
	return err;
}

int rtnl_link_get(struct nlsock *s, const char *name, struct rtnl_link *out, struct ebuf *eb)
{
	return link_by_name(s, RTM_GETLINK, name, out, eb);
}

int rtnl_link_get_index(struct nlsock *s, int ifindex, struct rtnl_link *out, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct nlb b;
	int err;

	if (ifindex <= 0) {
		ebuf_set(eb, "link index %d: no such device", ifindex);
		return -ENODEV;
	}
	nlb_init(&b, buf, sizeof(buf));
	put_getlink(&b, ifindex);
	err = link_get(s, &b, out, eb);
	if (err)
		ebuf_prefix(eb, "link index %d", ifindex);
	return err;
}

int rtnl_link_del(struct nlsock *s, const char *name, struct ebuf *eb)
{
	return link_by_name(s, RTM_DELLINK, name, NULL, eb);
}

/* Appends "what have (want %s)" to a comma-separated list; snprintf truncates safely. */
struct diff {
	char text[256];
	size_t len;
};

static void diff_add(struct diff *d, const char *what, const char *have, const char *want)
{
	int n;

	if (d->len >= sizeof(d->text))
		return;
	n = snprintf(d->text + d->len, sizeof(d->text) - d->len, "%s%s %s (want %s)",
		     d->len ? ", " : "", what, have, want);
	d->len = n < 0 ? sizeof(d->text) : d->len + (size_t)n;
}

static void diff_u32(struct diff *d, const char *what, uint32_t have, uint32_t want)
{
	char h[12], w[12];

	if (have == want)
		return;
	snprintf(h, sizeof(h), "%u", have);
	snprintf(w, sizeof(w), "%u", want);
	diff_add(d, what, h, w);
}

static void diff_ip(struct diff *d, const char *what, const struct ipaddr *have,
		    const struct ipaddr *want)
{
	char h[IPADDR_STRLEN], w[IPADDR_STRLEN];

	if (ipaddr_eq(have, want))
		return;
	if (ipaddr_format(have, h, sizeof(h)))
		strcpy(h, "none");
	if (ipaddr_format(want, w, sizeof(w)))
		strcpy(w, "none");
	diff_add(d, what, h, w);
}

static void diff_mac(struct diff *d, const uint8_t have[6], const uint8_t want[6])
{
	char h[18], w[18];

	if (!memcmp(have, want, 6))
		return;
	snprintf(h, sizeof(h), "%02x:%02x:%02x:%02x:%02x:%02x", have[0], have[1], have[2],
		 have[3], have[4], have[5]);
	snprintf(w, sizeof(w), "%02x:%02x:%02x:%02x:%02x:%02x", want[0], want[1], want[2],
		 want[3], want[4], want[5]);
	diff_add(d, "mac", h, w);
}

bool rtnl_vxlan_matches(const struct rtnl_link *l, const struct rtnl_vxlan *v, struct ebuf *why)
{
	const struct rtnl_vxlan_info *x = &l->vxlan;
	struct diff d = { .len = 0 };

	if (strcmp(l->kind, "vxlan") != 0 || !l->has_vxlan) {
		diff_add(&d, "kind", l->kind[0] ? l->kind : "none", "vxlan");
	} else {
		diff_u32(&d, "vni", x->vni, v->vni);
		diff_ip(&d, "local", &x->local, &v->local);
		diff_u32(&d, "link", (uint32_t)x->link, (uint32_t)v->link);
		diff_u32(&d, "port", x->port, vxlan_port(v));
		diff_u32(&d, "learning", x->learning, 0);
	}
	if (v->mac)
		diff_mac(&d, l->mac, v->mac);
	if (v->mtu)
		diff_u32(&d, "mtu", l->mtu, v->mtu);
	if (d.len && why)
		ebuf_set(why, "%s", d.text);
	return d.len == 0;
}

/*
 * The create failed with EEXIST: look at what has the name. Nothing (another device holds
 * this VNI and port) keeps the kernel's text, which says so.
 */
static int vxlan_existing(struct nlsock *s, const struct rtnl_vxlan *v, struct rtnl_link *l,
			  struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct ebuf why;
	struct nlb b;
	int err;

	ebuf_clear(&why);
	err = rtnl_link_get(s, v->name, l, &why);
	if (err == -ENODEV)
		return -EEXIST;
	if (!err && !rtnl_vxlan_matches(l, v, &why)) {
		ebuf_prefix(&why, "exists with other parameters");
		err = -EEXIST;
	}
	if (!err && !(l->flags & IFF_UP)) {
		nlb_init(&b, buf, sizeof(buf));
		rtnl_put_link_up(&b, l->ifindex);
		err = link_talk(s, &b, NULL, &why);
		l->flags |= IFF_UP;
	}
	if (eb)
		*eb = why;
	return err;
}

int rtnl_vxlan_ensure(struct nlsock *s, const struct rtnl_vxlan *v, struct rtnl_link *out,
		      struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct rtnl_link l;
	struct link_reply r = { .name = v->name, .out = &l };
	struct nlb b;
	int err;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_vxlan(&b, v);
	if (nlb_err(&b) == -EINVAL) {
		ebuf_set(eb, "vxlan: bad name, VNI over %u, local address or link",
			 RTNL_VXLAN_VNI_MAX);
		return -EINVAL;
	}
	err = link_talk(s, &b, &r, eb);
	if (err == -EEXIST)
		err = vxlan_existing(s, v, &l, eb);
	else if (!err && !r.found)
		err = rtnl_link_get(s, v->name, &l, eb);
	if (err) {
		ebuf_prefix(eb, "vxlan %s", v->name);
		return err;
	}
	if (out)
		*out = l;
	return 0;
}

struct link_dump {
	struct rtnl_dump_ctx d;
	int (*cb)(const struct rtnl_link *l, void *ctx);
};

static int link_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct link_dump *ld = arg;
	struct rtnl_link l;
	int err = rtnl_parse_link(nlh, &l);

	if (err == -ENOENT)
		return 0;
	if (err)
		return rtnl_dump_bad(&ld->d, nlh);
	return ld->cb(&l, ld->d.ctx);
}

int rtnl_link_dump(struct nlsock *s, int (*cb)(const struct rtnl_link *l, void *ctx),
		   void (*restart)(void *ctx), void *ctx, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct nlb b;
	struct link_dump ld = { .d = { .restart = restart, .ctx = ctx, .eb = eb }, .cb = cb };

	nlb_init(&b, buf, sizeof(buf));
	put_getlink(&b, 0);
	return rtnl_dump_send(s, &b, link_dump_cb, &ld.d);
}
