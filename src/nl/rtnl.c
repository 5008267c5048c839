// SPDX-License-Identifier: MIT
/*
 * rtnl.c: addresses and routes over rtnetlink (see rtnl.h): the request builders, the
 * single-request conveniences, the dumps and their parsers. Links (veth, VXLAN) are in
 * rtnl_link.c, neighbours and fdb entries in rtnl_neigh.c; the helpers all three share
 * (rtnl_int.h) are defined here. Requests are built in on-stack buffers; nothing here
 * allocates.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "rtnl.h"
#include "rtnl_int.h"
#include "nlmsg.h"
#include "nlsock.h"
#include "../base/err.h"

/* The largest request here, an IPv6 route with every attribute, is ~110 bytes. */
#define REQ_WORDS 32

static bool cidr_ok(const struct cidr *c)
{
	return rtnl_family_ok(c->addr.family) && c->prefix <= 8 * ipaddr_len(c->addr.family);
}

void rtnl_put_addr(struct nlb *b, uint16_t type, int ifindex, const struct cidr *a,
		   uint32_t ifa_flags)
{
	uint16_t nlflags = type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE : 0;
	struct ifaddrmsg *ifa;

	if (!cidr_ok(a)) {
		rtnl_bad_arg(b);
		return;
	}
	if (!nlb_msg(b, type, NLM_F_REQUEST | nlflags))
		return;
	ifa = nlb_extra(b, sizeof(*ifa));
	if (!ifa)
		return;
	ifa->ifa_family = a->addr.family;
	ifa->ifa_prefixlen = a->prefix;
	ifa->ifa_flags = (uint8_t)ifa_flags;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* IPv4 reads the address from IFA_LOCAL, IPv6 from either; equal values mean no peer. */
	rtnl_put_ipaddr(b, IFA_LOCAL, &a->addr);
	rtnl_put_ipaddr(b, IFA_ADDRESS, &a->addr);
	if (ifa_flags > 0xff)
		nlb_put_u32(b, IFA_FLAGS, ifa_flags);
}

static uint8_t route_scope(uint16_t type, const struct rtnl_route *r)
{
	if (r->scope)
		return r->scope;
	/* The kernel matches a delete's scope exactly unless it is NOWHERE: a scope-link route
	 * would otherwise survive a delete that reports ESRCH, which we count as success. */
	return type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
}

void rtnl_put_route(struct nlb *b, uint16_t type, uint16_t nlflags, const struct rtnl_route *r)
{
	int family = r->dst.addr.family;
	struct rtmsg *rtm;

	if (!cidr_ok(&r->dst) || (r->has_gw && r->gw.family != family)) {
		rtnl_bad_arg(b);
		return;
	}
	if (!nlb_msg(b, type, NLM_F_REQUEST | nlflags))
		return;
	rtm = nlb_extra(b, sizeof(*rtm));
	if (!rtm)
		return;
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = r->dst.prefix;
	rtm->rtm_table = !r->table ? RT_TABLE_MAIN : r->table < 256 ? r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol ? r->protocol : RTNL_PROTO_VIRGIL;
	rtm->rtm_scope = route_scope(type, r);
	rtm->rtm_type = r->type ? r->type : type == RTM_DELROUTE ? RTN_UNSPEC : RTN_UNICAST;
	rtm->rtm_flags = r->onlink ? RTNH_F_ONLINK : 0;
	if (r->dst.prefix)
		rtnl_put_ipaddr(b, RTA_DST, &r->dst.addr);
	if (r->table > 255)
		nlb_put_u32(b, RTA_TABLE, r->table);
	if (r->has_gw)
		rtnl_put_ipaddr(b, RTA_GATEWAY, &r->gw);
	if (r->oif > 0)
		nlb_put_u32(b, RTA_OIF, (uint32_t)r->oif);
	if (r->priority)
		nlb_put_u32(b, RTA_PRIORITY, r->priority);
}

int rtnl_talk(struct nlsock *s, struct nlb *b, nlsock_cb cb, void *arg, const char *inval,
	      struct ebuf *eb)
{
	int err = nlb_err(b);

	if (err) {
		ebuf_set(eb, "%s", err == -EMSGSIZE ? "request does not fit its buffer" : inval);
		return err;
	}
	return nlsock_talk(s, b->nlh, cb, arg, eb);
}

static int talk(struct nlsock *s, struct nlb *b, struct ebuf *eb)
{
	return rtnl_talk(s, b, NULL, NULL, "invalid address family or prefix", eb);
}

static const char *cidr_text(const struct cidr *c, char *out, size_t cap)
{
	if (cidr_format(c, out, cap))
		return "(invalid)";
	return out;
}

int rtnl_addr_add(struct nlsock *s, int ifindex, const struct cidr *a, uint32_t ifa_flags,
		  struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	char txt[CIDR_STRLEN];
	struct nlb b;
	int err;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_addr(&b, RTM_NEWADDR, ifindex, a, ifa_flags);
	err = talk(s, &b, eb);
	if (err)
		ebuf_prefix(eb, "adding address %s to link %d", cidr_text(a, txt, sizeof(txt)),
			    ifindex);
	return err;
}

int rtnl_route_add(struct nlsock *s, const struct rtnl_route *r, uint16_t nlflags, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	char txt[CIDR_STRLEN];
	struct nlb b;
	int err;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route(&b, RTM_NEWROUTE, nlflags, r);
	err = talk(s, &b, eb);
	if (err)
		ebuf_prefix(eb, "adding route %s", cidr_text(&r->dst, txt, sizeof(txt)));
	return err;
}

int rtnl_route_del(struct nlsock *s, const struct rtnl_route *r, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	char txt[CIDR_STRLEN];
	struct nlb b;
	int err;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route(&b, RTM_DELROUTE, 0, r);
	err = talk(s, &b, eb);
	if (err == -ENOENT || err == -ESRCH) {
		ebuf_clear(eb);
		return 0;
	}
	if (err)
		ebuf_prefix(eb, "deleting route %s", cidr_text(&r->dst, txt, sizeof(txt)));
	return err;
}

int rtnl_get_ipaddr(const struct nlattr *a, int family, struct ipaddr *out)
{
	size_t n = ipaddr_len(family);

	if (!a || !n || nla_datalen(a) != n)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	memcpy(out->a, nla_data(a), n);
	return 0;
}

int rtnl_parse_addr(const struct nlmsghdr *nlh, struct rtnl_addr *out)
{
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa;
	struct rtnl_addr a = { 0 };

	if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
		return -ENOENT;
	if (nlmsg_parse(tb, IFA_MAX, nlh, sizeof(*ifa)))
		return -EINVAL;
	ifa = nlmsg_data(nlh);
	if (!rtnl_family_ok(ifa->ifa_family))
		return -ENOENT;
	/* With a peer (point-to-point), IFA_LOCAL is ours and IFA_ADDRESS the other end. */
	if (rtnl_get_ipaddr(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], ifa->ifa_family,
		       &a.addr.addr))
		return -EINVAL;
	a.addr.prefix = ifa->ifa_prefixlen;
	if (!cidr_ok(&a.addr) || ifa->ifa_index == 0 || ifa->ifa_index > INT32_MAX)
		return -EINVAL;
	a.ifindex = (int)ifa->ifa_index;
	a.scope = ifa->ifa_scope;
	a.flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && nla_get_u32(tb[IFA_FLAGS], &a.flags))
		return -EINVAL;
	*out = a;
	return 0;
}

/* Route shapes struct rtnl_route cannot express (see rtnl.h); dumps skip them. */
static bool route_modelled(const struct rtmsg *rtm, const struct nlattr **tb)
{
	return rtnl_family_ok(rtm->rtm_family) && !rtm->rtm_src_len &&
	       !(rtm->rtm_flags & RTM_F_CLONED) && !tb[RTA_MULTIPATH] && !tb[RTA_NH_ID] &&
	       !tb[RTA_VIA] && !tb[RTA_ENCAP];
}

static int parse_route_attrs(const struct nlattr **tb, struct rtnl_route *r)
{
	uint32_t oif = 0;

	if (tb[RTA_DST] && rtnl_get_ipaddr(tb[RTA_DST], r->dst.addr.family, &r->dst.addr))
		return -EINVAL;
	if (tb[RTA_GATEWAY]) {
		if (rtnl_get_ipaddr(tb[RTA_GATEWAY], r->dst.addr.family, &r->gw))
			return -EINVAL;
		r->has_gw = true;
	}
	if (tb[RTA_OIF] && (nla_get_u32(tb[RTA_OIF], &oif) || oif > INT32_MAX))
		return -EINVAL;
	r->oif = (int)oif;
	if (tb[RTA_TABLE] && nla_get_u32(tb[RTA_TABLE], &r->table))
		return -EINVAL;
	if (tb[RTA_PRIORITY] && nla_get_u32(tb[RTA_PRIORITY], &r->priority))
		return -EINVAL;
	return 0;
}

int rtnl_parse_route(const struct nlmsghdr *nlh, struct rtnl_route *out)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm;
	struct rtnl_route r = { 0 };

	if (nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE)
		return -ENOENT;
	if (nlmsg_parse(tb, RTA_MAX, nlh, sizeof(*rtm)))
		return -EINVAL;
	rtm = nlmsg_data(nlh);
	if (!route_modelled(rtm, tb))
		return -ENOENT;
	r.dst.addr.family = rtm->rtm_family;
	r.dst.prefix = rtm->rtm_dst_len;
	if (!cidr_ok(&r.dst))
		return -EINVAL;
	r.scope = rtm->rtm_scope;
	r.protocol = rtm->rtm_protocol;
	r.type = rtm->rtm_type;
	r.table = rtm->rtm_table;
	r.onlink = rtm->rtm_flags & RTNH_F_ONLINK;
	if (parse_route_attrs(tb, &r))
		return -EINVAL;
	*out = r;
	return 0;
}

/*
 * Dumps, for all three files. Each kind wraps the caller's callback in a context whose first
 * member is the part the shared restart and error paths need (rtnl_int.h).
 */
static void dump_restart(void *arg)
{
	struct rtnl_dump_ctx *d = arg;

	if (d->restart)
		d->restart(d->ctx);
}

int rtnl_dump_bad(struct rtnl_dump_ctx *d, const struct nlmsghdr *nlh)
{
	ebuf_set(d->eb, "malformed message (type %u, %u bytes) in dump", nlh->nlmsg_type,
		 nlh->nlmsg_len);
	return -EBADMSG;
}

static int dump_ret(struct rtnl_dump_ctx *d, int err)
{
	if (err < 0)
		d->cb_err = err;
	return err;
}

int rtnl_dump_send(struct nlsock *s, struct nlb *b, nlsock_cb cb, struct rtnl_dump_ctx *d)
{
	if (nlb_err(b)) {
		ebuf_set(d->eb, "request does not fit its buffer");
		return nlb_err(b);
	}
	return nlsock_dump(s, b->nlh, cb, dump_restart, d, d->eb);
}

struct addr_dump {
	struct rtnl_dump_ctx d;
	int (*cb)(const struct rtnl_addr *a, void *ctx);
};

static int addr_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct addr_dump *ad = arg;
	struct rtnl_addr a;
	int err = rtnl_parse_addr(nlh, &a);

	if (err == -ENOENT)
		return 0;
	if (err)
		return rtnl_dump_bad(&ad->d, nlh);
	/* Kernels without strict dump checking ignore the request's family. */
	if (ad->d.family != AF_UNSPEC && a.addr.addr.family != ad->d.family)
		return 0;
	return dump_ret(&ad->d, ad->cb(&a, ad->d.ctx));
}

int rtnl_addr_dump(struct nlsock *s, int family, int (*cb)(const struct rtnl_addr *a, void *ctx),
		   void (*restart)(void *ctx), void *ctx, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct addr_dump ad = { { restart, ctx, eb, family, 0 }, cb };
	struct ifaddrmsg *ifa;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	if (nlb_msg(&b, RTM_GETADDR, NLM_F_REQUEST)) {
		ifa = nlb_extra(&b, sizeof(*ifa));
		if (ifa)
			ifa->ifa_family = (uint8_t)family;
	}
	return rtnl_dump_send(s, &b, addr_dump_cb, &ad.d);
}

struct route_dump {
	struct rtnl_dump_ctx d;
	int (*cb)(const struct rtnl_route *r, void *ctx);
	struct rtnl_route_filter f;
};

static int route_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct route_dump *rd = arg;
	struct rtnl_route r;
	int err = rtnl_parse_route(nlh, &r);

	if (err == -ENOENT)
		return 0;
	if (err)
		return rtnl_dump_bad(&rd->d, nlh);
	/* Kernels without strict dump checking ignore the request's filters. */
	if ((rd->f.family != AF_UNSPEC && r.dst.addr.family != rd->f.family) ||
	    (rd->f.table && r.table != rd->f.table) ||
	    (rd->f.protocol && r.protocol != rd->f.protocol))
		return 0;
	return dump_ret(&rd->d, rd->cb(&r, rd->d.ctx));
}

void rtnl_put_route_dump(struct nlb *b, const struct rtnl_route_filter *f)
{
	struct rtmsg *rtm;

	if (!nlb_msg(b, RTM_GETROUTE, NLM_F_REQUEST))
		return;
	rtm = nlb_extra(b, sizeof(*rtm));
	if (!rtm)
		return;
	/* The kernel filters on rtm_protocol (and rtm_type, rtm_flags) from the header; of the
	 * attributes it takes only RTA_TABLE and RTA_OIF, and refuses any other. */
	rtm->rtm_family = (uint8_t)f->family;
	rtm->rtm_protocol = f->protocol;
	/* Table filter: rtm_table holds 8 bits, RTA_TABLE all 32 and wins. */
	if (f->table) {
		rtm->rtm_table = f->table < 256 ? (uint8_t)f->table : RT_TABLE_UNSPEC;
		nlb_put_u32(b, RTA_TABLE, f->table);
	}
}

int rtnl_route_dump_filter(struct nlsock *s, const struct rtnl_route_filter *f,
			   int (*cb)(const struct rtnl_route *r, void *ctx),
			   void (*restart)(void *ctx), void *ctx, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct route_dump rd = { { restart, ctx, eb, f->family, 0 }, cb, *f };
	struct nlb b;
	int err;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_route_dump(&b, f);
	err = rtnl_dump_send(s, &b, route_dump_cb, &rd.d);
	/* A single-family dump of a table that does not exist fails with ENOENT: it is empty. */
	if (err == -ENOENT && f->table && !rd.d.cb_err) {
		ebuf_clear(eb);
		err = 0;
	}
	return err;
}

int rtnl_route_dump(struct nlsock *s, int family, uint32_t table,
		    int (*cb)(const struct rtnl_route *r, void *ctx), void (*restart)(void *ctx),
		    void *ctx, struct ebuf *eb)
{
	struct rtnl_route_filter f = { .family = family, .table = table };

	return rtnl_route_dump_filter(s, &f, cb, restart, ctx, eb);
}
