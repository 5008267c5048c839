// SPDX-License-Identifier: MIT
/*
 * rtnl_link.c: links over rtnetlink (see rtnl.h): veth pairs created with one request and
 * their host side read back from the kernel's echo, lookups by name or index, deletion,
 * dumps, and the RTM_NEWLINK parser. Addresses, routes and neighbours are in rtnl.c.
 */
#include <errno.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/veth.h>

#include "rtnl.h"
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
static void put_end(struct nlb *b, const char *name, uint32_t mtu, const uint8_t *mac, int nsfd)
{
	nlb_put_strz(b, IFLA_IFNAME, name);
	if (mtu)
		nlb_put_u32(b, IFLA_MTU, mtu);
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
	put_end(b, v->name, v->mtu, v->mac, -1);
	info = nlb_nest_start(b, IFLA_LINKINFO);
	nlb_put_strz(b, IFLA_INFO_KIND, "veth");
	data = nlb_nest_start(b, IFLA_INFO_DATA);
	/* VETH_INFO_PEER holds a whole ifinfomsg and then the peer's own IFLA attributes. The
	 * peer cannot be up yet: the kernel configures it before linking the pair, and
	 * veth_open() refuses a device without its peer (ENOTCONN). See rtnl_put_link_up(). */
	peer = nlb_nest_start(b, VETH_INFO_PEER);
	put_ifinfo(b, 0, false);
	put_end(b, v->peer, v->mtu, v->peer_mac, v->peer_netns_fd);
	nlb_nest_end(b, peer);
	nlb_nest_end(b, data);
	nlb_nest_end(b, info);
}

static void put_link_name(struct nlb *b, uint16_t type, const char *name)
{
	if (!nlb_msg(b, type, NLM_F_REQUEST))
		return;
	put_ifinfo(b, 0, false);
	nlb_put_strz(b, IFLA_IFNAME, name);
	/* Counters are most of a link message and nobody here reads them. */
	if (type == RTM_GETLINK)
		nlb_put_u32(b, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
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

static int parse_kind(const struct nlattr *linkinfo, char kind[16])
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
	if (strlen(k) < 16)
		strcpy(kind, k);
	return 0;
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
	if (tb[IFLA_LINKINFO] && parse_kind(tb[IFLA_LINKINFO], l.kind))
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
	int err = nlb_err(b);

	if (err) {
		ebuf_set(eb, "request does not fit its buffer");
		return err;
	}
	return nlsock_talk(s, b->nlh, r ? link_reply_cb : NULL, r, eb);
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

int rtnl_link_get(struct nlsock *s, const char *name, struct rtnl_link *out, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct nlb b;
	int err;

	if (!name_ok(name)) {
		ebuf_set(eb, "link \"%s\": no such device", name ? name : "");
		return -ENODEV;
	}
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_link_getname(&b, name);
	err = link_get(s, &b, out, eb);
	if (err)
		ebuf_prefix(eb, "link %s", name);
	return err;
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
	if (nlb_msg(&b, RTM_GETLINK, NLM_F_REQUEST)) {
		put_ifinfo(&b, ifindex, false);
		nlb_put_u32(&b, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	}
	err = link_get(s, &b, out, eb);
	if (err)
		ebuf_prefix(eb, "link index %d", ifindex);
	return err;
}

int rtnl_link_del(struct nlsock *s, const char *name, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct nlb b;
	int err;

	if (!name_ok(name)) {
		ebuf_set(eb, "link \"%s\": no such device", name ? name : "");
		return -ENODEV;
	}
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_link_delname(&b, name);
	err = link_talk(s, &b, NULL, eb);
	if (err)
		ebuf_prefix(eb, "deleting link %s", name);
	return err;
}

struct link_dump {
	int (*cb)(const struct rtnl_link *l, void *ctx);
	void (*restart)(void *ctx);
	void *ctx;
	struct ebuf *eb;
};

static int link_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct link_dump *d = arg;
	struct rtnl_link l;
	int err = rtnl_parse_link(nlh, &l);

	if (err == -ENOENT)
		return 0;
	if (err) {
		ebuf_set(d->eb, "malformed RTM_NEWLINK (%u bytes) in link dump", nlh->nlmsg_len);
		return -EBADMSG;
	}
	return d->cb(&l, d->ctx);
}

static void link_dump_restart(void *arg)
{
	struct link_dump *d = arg;

	if (d->restart)
		d->restart(d->ctx);
}

int rtnl_link_dump(struct nlsock *s, int (*cb)(const struct rtnl_link *l, void *ctx),
		   void (*restart)(void *ctx), void *ctx, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct nlb b;
	struct link_dump d = { .cb = cb, .restart = restart, .ctx = ctx, .eb = eb };

	nlb_init(&b, buf, sizeof(buf));
	if (nlb_msg(&b, RTM_GETLINK, NLM_F_REQUEST)) {
		put_ifinfo(&b, 0, false);
		nlb_put_u32(&b, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	}
	if (nlb_err(&b))
		return nlb_err(&b);
	return nlsock_dump(s, b.nlh, link_dump_cb, link_dump_restart, &d, eb);
}
