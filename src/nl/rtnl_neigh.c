// SPDX-License-Identifier: MIT
/*
 * rtnl_neigh.c: neighbours (ARP, IPv6 ND) and VXLAN fdb entries over rtnetlink (see rtnl.h).
 * Both are RTM_*NEIGH messages with a struct ndmsg: the family tells them apart (AF_INET,
 * AF_INET6 for neighbours; AF_BRIDGE with NTF_SELF for the VXLAN device's own fdb). Owns their
 * builders, set and delete requests, filtered dumps and parsers. Nothing here allocates.
 *
 * The agent's VXLAN mode needs three entries per remote node, all on our own device: a route
 * to its pod range via its VTEP address (onlink), a neighbour from that address to its VTEP
 * MAC, and an fdb entry from that MAC to its underlay address. The kernel then never floods
 * or learns: learning is off and there is no default remote.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/neighbour.h>

#include "rtnl.h"
#include "rtnl_int.h"
#include "nlmsg.h"
#include "nlsock.h"
#include "../base/err.h"

/* The largest request here, an fdb entry with an IPv6 remote, is 68 bytes. */
#define REQ_WORDS 16

static struct ndmsg *put_ndmsg(struct nlb *b, uint16_t type, uint16_t nlflags, int family,
			       int ifindex)
{
	struct ndmsg *nd;

	if (!nlb_msg(b, type, NLM_F_REQUEST | nlflags))
		return NULL;
	nd = nlb_extra(b, sizeof(*nd));
	if (!nd)
		return NULL;
	nd->ndm_family = (uint8_t)family;
	nd->ndm_ifindex = ifindex;
	return nd;
}

void rtnl_put_neigh(struct nlb *b, int ifindex, const struct ipaddr *a, const uint8_t mac[6])
{
	struct ndmsg *nd;

	if (!rtnl_family_ok(a->family)) {
		rtnl_bad_arg(b);
		return;
	}
	nd = put_ndmsg(b, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, a->family, ifindex);
	if (!nd)
		return;
	nd->ndm_state = NUD_PERMANENT;
	rtnl_put_ipaddr(b, NDA_DST, a);
	nlb_put(b, NDA_LLADDR, mac, 6);
}

void rtnl_put_neigh_del(struct nlb *b, int ifindex, const struct ipaddr *a)
{
	if (!rtnl_family_ok(a->family)) {
		rtnl_bad_arg(b);
		return;
	}
	if (put_ndmsg(b, RTM_DELNEIGH, 0, a->family, ifindex))
		rtnl_put_ipaddr(b, NDA_DST, a);
}

void rtnl_put_fdb(struct nlb *b, uint16_t type, int ifindex, const uint8_t mac[6],
		  const struct ipaddr *dst)
{
	bool add = type == RTM_NEWNEIGH;
	struct ndmsg *nd;

	if ((add && !dst) || (dst && !rtnl_family_ok(dst->family)) || ifindex <= 0) {
		rtnl_bad_arg(b);
		return;
	}
	nd = put_ndmsg(b, type, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, AF_BRIDGE, ifindex);
	if (!nd)
		return;
	nd->ndm_flags = NTF_SELF;
	if (add)
		nd->ndm_state = NUD_PERMANENT;
	nlb_put(b, NDA_LLADDR, mac, 6);
	if (dst)
		rtnl_put_ipaddr(b, NDA_DST, dst);
}

void rtnl_put_neigh_dump(struct nlb *b, int family, int ifindex)
{
	/* Strict checking wants ndm_ifindex 0 here: the filter is an attribute. */
	if (put_ndmsg(b, RTM_GETNEIGH, 0, family, 0) && ifindex > 0)
		nlb_put_u32(b, NDA_IFINDEX, (uint32_t)ifindex);
}

void rtnl_put_fdb_dump(struct nlb *b, int ifindex)
{
	/* ...and for AF_BRIDGE it is the header field, read as the bridge port to dump. */
	put_ndmsg(b, RTM_GETNEIGH, 0, AF_BRIDGE, ifindex > 0 ? ifindex : 0);
}

/* ---- single requests -------------------------------------------------------------------- */

static int talk(struct nlsock *s, struct nlb *b, struct ebuf *eb)
{
	return rtnl_talk(s, b, NULL, NULL, "invalid address family or link index", eb);
}

/* A delete of something already gone has done its job. */
static int talk_del(struct nlsock *s, struct nlb *b, struct ebuf *eb)
{
	int err = talk(s, b, eb);

	if (err == -ENOENT) {
		ebuf_clear(eb);
		return 0;
	}
	return err;
}

static const char *ip_text(const struct ipaddr *a, char *out, size_t cap)
{
	return ipaddr_format(a, out, cap) ? "(invalid)" : out;
}

static const char *mac_text(const uint8_t mac[6], char out[18])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 6; i++) {
		out[3 * i] = hex[mac[i] >> 4];
		out[3 * i + 1] = hex[mac[i] & 15];
		out[3 * i + 2] = i < 5 ? ':' : '\0';
	}
	return out;
}

int rtnl_neigh_set(struct nlsock *s, int ifindex, const struct ipaddr *a, const uint8_t mac[6],
		   struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	char txt[IPADDR_STRLEN];
	struct nlb b;
	int err;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh(&b, ifindex, a, mac);
	err = talk(s, &b, eb);
	if (err)
		ebuf_prefix(eb, "setting neighbour %s on link %d", ip_text(a, txt, sizeof(txt)),
			    ifindex);
	return err;
}

int rtnl_neigh_del(struct nlsock *s, int ifindex, const struct ipaddr *a, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	char txt[IPADDR_STRLEN];
	struct nlb b;
	int err;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh_del(&b, ifindex, a);
	err = talk_del(s, &b, eb);
	if (err)
		ebuf_prefix(eb, "deleting neighbour %s on link %d", ip_text(a, txt, sizeof(txt)),
			    ifindex);
	return err;
}

int rtnl_fdb_set(struct nlsock *s, int ifindex, const uint8_t mac[6], const struct ipaddr *dst,
		 struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	char txt[IPADDR_STRLEN], m[18];
	struct nlb b;
	int err;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_NEWNEIGH, ifindex, mac, dst);
	err = talk(s, &b, eb);
	if (err)
		ebuf_prefix(eb, "setting fdb entry %s dst %s on link %d", mac_text(mac, m),
			    dst ? ip_text(dst, txt, sizeof(txt)) : "(none)", ifindex);
	return err;
}

int rtnl_fdb_del(struct nlsock *s, int ifindex, const uint8_t mac[6], struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	char m[18];
	struct nlb b;
	int err;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb(&b, RTM_DELNEIGH, ifindex, mac, NULL);
	err = talk_del(s, &b, eb);
	if (err)
		ebuf_prefix(eb, "deleting fdb entry %s on link %d", mac_text(mac, m), ifindex);
	return err;
}

/* ---- parsers ---------------------------------------------------------------------------- */

/* The part both kinds share: the header, its family (bridge: AF_BRIDGE, else AF_INET or
 * AF_INET6) and its index. NULL and *err (-ENOENT: not ours, -EINVAL: malformed) otherwise. */
static const struct ndmsg *parse_ndmsg(const struct nlmsghdr *nlh, const struct nlattr **tb,
				       bool bridge, int *err)
{
	const struct ndmsg *nd;

	*err = -ENOENT;
	if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH)
		return NULL;
	*err = -EINVAL;
	if (nlmsg_datalen(nlh) < sizeof(*nd))
		return NULL;
	nd = nlmsg_data(nlh);
	*err = -ENOENT;
	if (bridge ? nd->ndm_family != AF_BRIDGE : !rtnl_family_ok(nd->ndm_family))
		return NULL;
	*err = -EINVAL;
	if (nlmsg_parse(tb, NDA_MAX, nlh, sizeof(*nd)) || nd->ndm_ifindex <= 0)
		return NULL;
	*err = 0;
	return nd;
}

int rtnl_parse_neigh(const struct nlmsghdr *nlh, struct rtnl_neigh *out)
{
	const struct nlattr *tb[NDA_MAX + 1];
	struct rtnl_neigh n = { 0 };
	const struct ndmsg *nd;
	int err;

	nd = parse_ndmsg(nlh, tb, false, &err);
	if (!nd)
		return err;
	if (rtnl_get_ipaddr(tb[NDA_DST], nd->ndm_family, &n.ip))
		return -EINVAL;
	if (tb[NDA_LLADDR] && nla_datalen(tb[NDA_LLADDR]) != sizeof(n.mac))
		return -ENOENT;
	if (tb[NDA_LLADDR])
		memcpy(n.mac, nla_data(tb[NDA_LLADDR]), sizeof(n.mac));
	n.ifindex = nd->ndm_ifindex;
	n.state = nd->ndm_state;
	n.flags = nd->ndm_flags;
	*out = n;
	return 0;
}

static int parse_fdb_dst(const struct nlattr *a, struct ipaddr *dst)
{
	if (!a)
		return 0;
	return rtnl_get_ipaddr(a, nla_datalen(a) == 4 ? AF_INET : AF_INET6, dst);
}

int rtnl_parse_fdb(const struct nlmsghdr *nlh, struct rtnl_fdb *out)
{
	const struct nlattr *tb[NDA_MAX + 1];
	struct rtnl_fdb f = { 0 };
	const struct ndmsg *nd;
	int err;

	nd = parse_ndmsg(nlh, tb, true, &err);
	if (!nd)
		return err;
	if (!tb[NDA_LLADDR] || nla_datalen(tb[NDA_LLADDR]) != sizeof(f.mac))
		return -EINVAL;
	memcpy(f.mac, nla_data(tb[NDA_LLADDR]), sizeof(f.mac));
	if (parse_fdb_dst(tb[NDA_DST], &f.dst))
		return -EINVAL;
	if (tb[NDA_VNI] && nla_get_u32(tb[NDA_VNI], &f.vni))
		return -EINVAL;
	if (tb[NDA_PORT] && nla_get_be16(tb[NDA_PORT], &f.port))
		return -EINVAL;
	f.ifindex = nd->ndm_ifindex;
	f.state = nd->ndm_state;
	f.flags = nd->ndm_flags;
	*out = f;
	return 0;
}

/* ---- dumps ------------------------------------------------------------------------------ */

struct nd_dump {
	struct rtnl_dump_ctx d;
	int (*neigh_cb)(const struct rtnl_neigh *n, void *ctx);
	int (*fdb_cb)(const struct rtnl_fdb *f, void *ctx);
	int ifindex;
};

static int neigh_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nd_dump *d = arg;
	struct rtnl_neigh n;
	int err = rtnl_parse_neigh(nlh, &n);

	if (err == -ENOENT)
		return 0;
	if (err)
		return rtnl_dump_bad(&d->d, nlh);
	/* Filters again: kernels before 4.20 dump every family. */
	if ((d->d.family != AF_UNSPEC && n.ip.family != d->d.family) ||
	    (d->ifindex && n.ifindex != d->ifindex))
		return 0;
	return d->neigh_cb(&n, d->d.ctx);
}

static int fdb_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nd_dump *d = arg;
	struct rtnl_fdb f;
	int err = rtnl_parse_fdb(nlh, &f);

	if (err == -ENOENT)
		return 0;
	if (err)
		return rtnl_dump_bad(&d->d, nlh);
	/* Without strict checking the kernel reads the header differently and may dump all. */
	if (f.ifindex != d->ifindex)
		return 0;
	return d->fdb_cb(&f, d->d.ctx);
}

int rtnl_neigh_dump(struct nlsock *s, int family, int ifindex,
		    int (*cb)(const struct rtnl_neigh *n, void *ctx), void (*restart)(void *ctx),
		    void *ctx, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct nd_dump d = { .d = { .restart = restart, .ctx = ctx, .eb = eb, .family = family },
			     .neigh_cb = cb, .ifindex = ifindex > 0 ? ifindex : 0 };
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_neigh_dump(&b, family, ifindex);
	return rtnl_dump_send(s, &b, neigh_dump_cb, &d.d);
}

int rtnl_fdb_dump(struct nlsock *s, int ifindex, int (*cb)(const struct rtnl_fdb *f, void *ctx),
		  void (*restart)(void *ctx), void *ctx, struct ebuf *eb)
{
	uint64_t buf[REQ_WORDS];
	struct nd_dump d = { .d = { .restart = restart, .ctx = ctx, .eb = eb, .family = AF_BRIDGE },
			     .fdb_cb = cb, .ifindex = ifindex };
	struct nlb b;

	if (ifindex <= 0) {
		ebuf_set(eb, "fdb dump: link index %d", ifindex);
		return -EINVAL;
	}
	nlb_init(&b, buf, sizeof(buf));
	rtnl_put_fdb_dump(&b, ifindex);
	return rtnl_dump_send(s, &b, fdb_dump_cb, &d.d);
}
