/* SPDX-License-Identifier: MIT */
/*
 * rtnl.h: the rtnetlink adapter: veth and VXLAN links, addresses, routes, neighbours and VXLAN
 * fdb entries, as plain value structs over nlmsg.h (building, parsing) and nlsock.h (I/O).
 * Used by the CNI plugin on the pod start path and by the agent's route reconciler.
 * Code: links in rtnl_link.c, neighbours and fdb entries in rtnl_neigh.c, the rest in rtnl.c.
 *
 * Three kinds of function:
 * - rtnl_put_*: append one complete request to a struct nlb. Pure, no I/O; errors are sticky
 *   in the nlb (-EMSGSIZE, or -EINVAL for an argument no request can express). Several puts in
 *   one buffer make a batch for nlsock_batch(): one sendmsg, one ACK per message.
 * - single requests and dumps over a struct nlsock: 0 or -errno, the kernel's text in eb.
 *   The socket decides the namespace: open it inside the namespace to be configured.
 * - rtnl_parse_*: decode one reply message (which must have passed nlmsg_ok()). Replies are
 *   untrusted: every length is checked. 0, -EINVAL when malformed, -ENOENT for a message the
 *   structs do not model, which dumps skip silently.
 *
 * Byte order: addresses are raw network-order bytes (struct ipaddr); every other number is
 * host order, as rtnetlink wants (the VXLAN UDP ports, big-endian on the wire, are converted
 * by the builders and parsers). Including this header also gives the caller the uapi
 * constants its arguments take (RTM_*, NLM_F_*, IFA_F_*, RT_SCOPE_*, RTN_*, RT_TABLE_*).
 */
#ifndef VIRGIL_RTNL_H
#define VIRGIL_RTNL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/rtnetlink.h>
#include "../base/compat.h"
#include "../core/cidr.h"

struct nlb;
struct nlsock;
struct ebuf;

/* Our rtm_protocol ('V'), free in iproute2's rt_protos table. Every route we add carries it,
 * and route deletes match on it, so a route someone else installed is never removed. */
#define RTNL_PROTO_VIRGIL 86

/* IANA's VXLAN port; the kernel's own default (8472) predates the assignment. */
#define RTNL_VXLAN_PORT 4789
#define RTNL_VXLAN_VNI_MAX 0xffffffu

/* The IFLA_INFO_DATA of a vxlan link, as far as we set and compare it. */
struct rtnl_vxlan_info {
	uint32_t vni;
	struct ipaddr local;    /* underlay source; family 0 when unset */
	int link;               /* underlay ifindex (IFLA_VXLAN_LINK), 0 if none */
	uint16_t port;          /* UDP destination port, host order; 0 if absent */
	bool learning;
};

struct rtnl_link {
	int ifindex;
	char name[16];
	uint8_t mac[6];         /* zero unless the link has a 6-byte hardware address */
	uint32_t mtu;
	unsigned flags;         /* IFF_* (ifi_flags) */
	char kind[16];          /* IFLA_INFO_KIND ("veth", "vxlan"); "" if none or too long */
	int link;               /* IFLA_LINK (a veth's peer ifindex, in its netns), 0 if none */
	bool has_vxlan;         /* kind "vxlan" with IFLA_INFO_DATA: vxlan below is filled */
	struct rtnl_vxlan_info vxlan;
};

/* A VXLAN device as the agent wants it: learning off, up. */
struct rtnl_vxlan {
	const char *name;       /* 1..15 bytes */
	uint32_t vni;           /* 0..RTNL_VXLAN_VNI_MAX */
	struct ipaddr local;    /* underlay source address, AF_INET or AF_INET6 (required: it
				 * also decides whether the device speaks IPv4 or IPv6 outside) */
	int link;               /* underlay ifindex; 0 = none, routing picks the way out */
	uint16_t port;          /* UDP destination port, host order; 0 = RTNL_VXLAN_PORT */
	const uint8_t *mac;     /* 6 bytes; NULL = kernel picks (and any MAC matches) */
	uint32_t mtu;           /* 0 = kernel default (and any MTU matches) */
};

/* An fdb entry of a VXLAN device: frames for mac go to the VTEP at dst. */
struct rtnl_fdb {
	int ifindex;            /* the VXLAN device */
	uint8_t mac[6];
	struct ipaddr dst;      /* remote VTEP (NDA_DST); family 0 if the entry has none */
	uint32_t vni;           /* NDA_VNI when it differs from the device's, else 0 */
	uint16_t port;          /* NDA_PORT (host order) if it differs from the device's, else 0 */
	uint16_t state;         /* NUD_* */
	uint8_t flags;          /* NTF_* */
};

/* An IPv4 ARP or IPv6 neighbour discovery entry. */
struct rtnl_neigh {
	int ifindex;
	struct ipaddr ip;
	uint8_t mac[6];         /* zero while the entry has no link-layer address */
	uint16_t state;         /* NUD_* */
	uint8_t flags;          /* NTF_* */
};

/* What a route dump returns; zero fields match everything. */
struct rtnl_route_filter {
	int family;             /* AF_INET, AF_INET6, or AF_UNSPEC for both */
	uint32_t table;         /* 0 = every table; a table that does not exist dumps as empty */
	uint8_t protocol;       /* rtm_protocol, e.g. RTNL_PROTO_VIRGIL; 0 = any */
};

struct rtnl_veth {
	const char *name, *peer;        /* both 1..15 bytes */
	int peer_netns_fd;              /* create the peer right in this netns; -1 = same netns */
	uint32_t mtu;                   /* 0 = kernel default; applied to both ends */
	const uint8_t *mac, *peer_mac;  /* 6 bytes each; NULL = kernel picks */
	bool up;                        /* IFF_UP on the host end at creation (see below) */
	uint32_t queues;                /* tx and rx queues per end; 0 = kernel default (one per
					 * CPU). 1 makes creation ~35% cheaper under the global
					 * RTNL lock, and a routed veth without XDP gains nothing
					 * from more. */
};

struct rtnl_route {
	struct cidr dst;
	struct ipaddr gw;       /* same family as dst */
	bool has_gw;
	int oif;                /* 0 = none */
	uint8_t scope;          /* RT_SCOPE_UNIVERSE (0), RT_SCOPE_LINK, RT_SCOPE_HOST */
	uint8_t protocol;       /* adding or deleting: 0 means RTNL_PROTO_VIRGIL */
	uint8_t type;           /* adding: 0 means RTN_UNICAST; deleting: 0 matches any type */
	uint32_t table;         /* 0 means RT_TABLE_MAIN; > 255 goes in RTA_TABLE */
	uint32_t priority;      /* RTA_PRIORITY (metric), 0 = none; IPv6 stores 0 as 1024 */
	bool onlink;            /* RTNH_F_ONLINK: the gateway needs no covering route */
};

struct rtnl_addr {
	struct cidr addr;       /* IFA_LOCAL, else IFA_ADDRESS; prefix is ifa_prefixlen */
	int ifindex;
	uint8_t scope;
	uint32_t flags;         /* IFA_FLAGS when present (all 32 bits), else ifa_flags */
};

/*
 * Builders. Every message gets NLM_F_REQUEST; nlsock adds NLM_F_ACK and the seq.
 * rtnl_put_veth: RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL|NLM_F_ECHO (see rtnl_veth_add).
 * rtnl_put_addr: RTM_NEWADDR gets NLM_F_CREATE|NLM_F_REPLACE (a repeat is a no-op); both
 *   IFA_LOCAL and IFA_ADDRESS carry the address; ifa_flags holds the low 8 bits and IFA_FLAGS
 *   is added when a higher bit is set. Scope is RT_SCOPE_UNIVERSE.
 * rtnl_put_route: nlflags are the caller's (NLM_F_CREATE|NLM_F_REPLACE to add idempotently).
 *   RTM_DELROUTE with scope 0 matches any scope (RT_SCOPE_NOWHERE). -EINVAL in the nlb when
 *   dst is not AF_INET/AF_INET6 or gw has another family.
 * rtnl_put_neigh: RTM_NEWNEIGH NUD_PERMANENT with NLM_F_CREATE|NLM_F_REPLACE.
 * rtnl_put_neigh_del: RTM_DELNEIGH of a's entry on ifindex.
 * rtnl_put_vxlan: RTM_NEWLINK kind vxlan with NLM_F_CREATE|NLM_F_EXCL|NLM_F_ECHO, IFF_UP,
 *   IFLA_VXLAN_LEARNING 0 and the port big-endian; -EINVAL in the nlb for a bad name, a VNI
 *   over RTNL_VXLAN_VNI_MAX, a local address of no known family or a negative link.
 * rtnl_put_fdb: AF_BRIDGE, NTF_SELF (the VXLAN device's own table, not a bridge's).
 *   RTM_NEWNEIGH: NUD_PERMANENT, NDA_LLADDR mac, NDA_DST dst (required), with
 *   NLM_F_CREATE|NLM_F_REPLACE so a repeat, or a new dst for the same mac, replaces the one
 *   remote the entry has (only all-zero and multicast MACs, which we never use, take several
 *   remotes and need NLM_F_APPEND). RTM_DELNEIGH: dst NULL removes the entry whole.
 * rtnl_put_route_dump, rtnl_put_neigh_dump, rtnl_put_fdb_dump: the dump requests (nlsock adds
 *   NLM_F_DUMP), shaped for strict checking: family headers zero but for the filters, and only
 *   attributes the kernel accepts there. Route: rtm_family, rtm_table and RTA_TABLE,
 *   rtm_protocol. Neighbours: ndm_family and NDA_IFINDEX (ndm_ifindex must stay 0). Fdb:
 *   AF_BRIDGE with the device in ndm_ifindex (the bridge-port filter). ifindex 0 = all links.
 * rtnl_put_link_up: RTM_NEWLINK setting IFF_UP on an existing link (ip link set up).
 * rtnl_put_link_getname: RTM_GETLINK by IFLA_IFNAME, without statistics.
 * rtnl_put_link_delname: RTM_DELLINK by IFLA_IFNAME (a veth takes its peer with it).
 */
void rtnl_put_veth(struct nlb *b, const struct rtnl_veth *v);
void rtnl_put_addr(struct nlb *b, uint16_t type, int ifindex, const struct cidr *a,
		   uint32_t ifa_flags);
void rtnl_put_route(struct nlb *b, uint16_t type, uint16_t nlflags, const struct rtnl_route *r);
void rtnl_put_neigh(struct nlb *b, int ifindex, const struct ipaddr *a, const uint8_t mac[6]);
void rtnl_put_neigh_del(struct nlb *b, int ifindex, const struct ipaddr *a);
void rtnl_put_vxlan(struct nlb *b, const struct rtnl_vxlan *v);
void rtnl_put_fdb(struct nlb *b, uint16_t type, int ifindex, const uint8_t mac[6],
		  const struct ipaddr *dst);
void rtnl_put_route_dump(struct nlb *b, const struct rtnl_route_filter *f);
void rtnl_put_neigh_dump(struct nlb *b, int family, int ifindex);
void rtnl_put_fdb_dump(struct nlb *b, int ifindex);
void rtnl_put_link_up(struct nlb *b, int ifindex);
void rtnl_put_link_getname(struct nlb *b, const char *name);
void rtnl_put_link_delname(struct nlb *b, const char *name);

/*
 * Create a veth pair with one request. *ifindex (may be NULL) is the host side's, read from
 * the kernel's echo (NLM_F_ECHO, kernel >= 6.2; older kernels cost one RTM_GETLINK more).
 * -EEXIST when either name is taken in its namespace, -EINVAL for a bad name.
 * rtnl_veth_add_link() returns the whole echoed host link instead: host->link is the peer's
 * ifindex in the peer's namespace, which spares the pod side a lookup of its own eth0.
 * v->up brings up the host end only: the kernel configures the peer before it links the pair
 * and a veth without its peer refuses to open (ENOTCONN), so the peer starts down. Put
 * rtnl_put_link_up(b, host->link) first in the pod's batch: no extra round trip.
 */
int rtnl_veth_add(struct nlsock *s, const struct rtnl_veth *v, int *ifindex,
		  struct ebuf *eb) __must_check;
int rtnl_veth_add_link(struct nlsock *s, const struct rtnl_veth *v, struct rtnl_link *host,
		       struct ebuf *eb) __must_check;

/* -ENODEV if absent (also for a name no link can have). */
int rtnl_link_get(struct nlsock *s, const char *name, struct rtnl_link *out,
		  struct ebuf *eb) __must_check;
int rtnl_link_get_index(struct nlsock *s, int ifindex, struct rtnl_link *out,
			struct ebuf *eb) __must_check;
int rtnl_link_del(struct nlsock *s, const char *name, struct ebuf *eb) __must_check;

/*
 * Make sure the VXLAN device v exists, as described, and is up: one RTM_NEWLINK when it is
 * missing. *out (may be NULL) receives the link (ifindex, parsed vxlan info). Returns 0 when it
 * was created, or was already there with the same parameters (a device that is merely down is
 * brought up). -EEXIST with eb saying what differs ("vni 7 (want 42), port 8472 (want 4789)")
 * when a link of that name exists with other parameters or of another kind; it is left alone:
 * replacing it (rtnl_link_del, then this again) drops its fdb, so that is the caller's call.
 * -EEXIST also when another device already has this VNI and port (the kernel's text in eb).
 * -EINVAL for arguments rtnl_put_vxlan refuses.
 */
int rtnl_vxlan_ensure(struct nlsock *s, const struct rtnl_vxlan *v, struct rtnl_link *out,
		      struct ebuf *eb) __must_check;
/* Does link l have every parameter v asks for (learning off; a NULL mac or 0 mtu matches any)?
 * If not, and why is not NULL, say which differ, have vs want, in why. The up flag is not a
 * parameter. Pure. */
bool rtnl_vxlan_matches(const struct rtnl_link *l, const struct rtnl_vxlan *v, struct ebuf *why);

/*
 * Dumps. cb sees each parsed object (skipped kinds never reach it) and returns <0 to stop:
 * the dump then returns that value. restart (may be NULL) runs before a dump interrupted by a
 * concurrent change (NLM_F_DUMP_INTR) is retried, so the caller drops what it collected;
 * -EAGAIN after NLSOCK_DUMP_RETRIES. A malformed message ends the dump with -EBADMSG.
 * family: AF_INET, AF_INET6 or AF_UNSPEC (both). table: 0 = every table; a table that does
 * not exist dumps as empty.
 */
int rtnl_link_dump(struct nlsock *s, int (*cb)(const struct rtnl_link *l, void *ctx),
		   void (*restart)(void *ctx), void *ctx, struct ebuf *eb) __must_check;
int rtnl_addr_dump(struct nlsock *s, int family, int (*cb)(const struct rtnl_addr *a, void *ctx),
		   void (*restart)(void *ctx), void *ctx, struct ebuf *eb) __must_check;
int rtnl_route_dump(struct nlsock *s, int family, uint32_t table,
		    int (*cb)(const struct rtnl_route *r, void *ctx), void (*restart)(void *ctx),
		    void *ctx, struct ebuf *eb) __must_check;
/*
 * Route dump with a protocol filter as well. The kernel applies the filter (strict checking,
 * 4.20+), so routes of other protocols are never serialised, copied or parsed. Measured by
 * tests/unit/test_rtnl_vxlan.c (kernel 6.18, ASan build, median of 31): 2,000 of ours among
 * 2,000 others in the main table, 0.50 ms filtered in the kernel against 0.96 ms dumping all
 * and filtering here; 2,000 of ours alone, 0.48 ms either way. The kernel walks every route
 * in both cases; what it saves is the messages for the others. Every filter is checked again
 * in userspace, for kernels that ignore them.
 */
int rtnl_route_dump_filter(struct nlsock *s, const struct rtnl_route_filter *f,
			   int (*cb)(const struct rtnl_route *r, void *ctx),
			   void (*restart)(void *ctx), void *ctx, struct ebuf *eb) __must_check;
/* Neighbours of family (AF_INET, AF_INET6, AF_UNSPEC = both) on ifindex (0 = every link). */
int rtnl_neigh_dump(struct nlsock *s, int family, int ifindex,
		    int (*cb)(const struct rtnl_neigh *n, void *ctx), void (*restart)(void *ctx),
		    void *ctx, struct ebuf *eb) __must_check;
/* The fdb of one VXLAN device (ifindex > 0): one entry per (mac, remote). */
int rtnl_fdb_dump(struct nlsock *s, int ifindex, int (*cb)(const struct rtnl_fdb *f, void *ctx),
		  void (*restart)(void *ctx), void *ctx, struct ebuf *eb) __must_check;

/*
 * Single requests with ACK. rtnl_addr_add and rtnl_neigh_set replace what is there, so a
 * repeat is a no-op. rtnl_route_del: a route that is not there (ENOENT/ESRCH) is success.
 */
int rtnl_addr_add(struct nlsock *s, int ifindex, const struct cidr *a, uint32_t ifa_flags,
		  struct ebuf *eb) __must_check;
int rtnl_route_add(struct nlsock *s, const struct rtnl_route *r, uint16_t nlflags,
		   struct ebuf *eb) __must_check;
int rtnl_route_del(struct nlsock *s, const struct rtnl_route *r, struct ebuf *eb) __must_check;
int rtnl_neigh_set(struct nlsock *s, int ifindex, const struct ipaddr *a, const uint8_t mac[6],
		   struct ebuf *eb) __must_check;
/*
 * rtnl_fdb_set replaces what is there, so a repeat is a no-op. The deletes treat an entry that
 * is not there (ENOENT) as success; rtnl_fdb_del removes mac's entry with every remote.
 */
int rtnl_neigh_del(struct nlsock *s, int ifindex, const struct ipaddr *a,
		   struct ebuf *eb) __must_check;
int rtnl_fdb_set(struct nlsock *s, int ifindex, const uint8_t mac[6], const struct ipaddr *dst,
		 struct ebuf *eb) __must_check;
int rtnl_fdb_del(struct nlsock *s, int ifindex, const uint8_t mac[6],
		 struct ebuf *eb) __must_check;

/*
 * Parsers. Messages of another type give -ENOENT, as do:
 * - links: nothing (every RTM_NEWLINK/RTM_DELLINK with an ifindex and a name parses); the
 *   IFLA_INFO_DATA of kind "vxlan" fills ->vxlan, and must be well-formed;
 * - neighbours: families other than AF_INET/AF_INET6 (AF_BRIDGE is rtnl_parse_fdb's), and
 *   link-layer addresses that are not 6 bytes long (tunnels, InfiniBand);
 * - fdb entries: families other than AF_BRIDGE;
 * - addresses: families other than AF_INET/AF_INET6;
 * - routes: families other than AF_INET/AF_INET6, multipath (RTA_MULTIPATH), nexthop objects
 *   (RTA_NH_ID), gateways of another family (RTA_VIA), source-specific routes (rtm_src_len),
 *   cached exceptions (RTM_F_CLONED) and lightweight-tunnel encapsulation (RTA_ENCAP).
 * *out is fully written on success only.
 */
int rtnl_parse_link(const struct nlmsghdr *nlh, struct rtnl_link *out) __must_check;
int rtnl_parse_addr(const struct nlmsghdr *nlh, struct rtnl_addr *out) __must_check;
int rtnl_parse_route(const struct nlmsghdr *nlh, struct rtnl_route *out) __must_check;
int rtnl_parse_neigh(const struct nlmsghdr *nlh, struct rtnl_neigh *out) __must_check;
int rtnl_parse_fdb(const struct nlmsghdr *nlh, struct rtnl_fdb *out) __must_check;

#endif
