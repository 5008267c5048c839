// SPDX-License-Identifier: MIT
/*
 * routes_fmt.c: the route planner's text forms (see routes.h): operations in ip(8) words,
 * VTEP MACs, skip reasons; for logs and golden tests.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "routes.h"

struct sbuf {
	char *p;
	size_t cap, n;
	bool over;
};

static void __printf(2, 3) sb_put(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (s->over)
		return;
	va_start(ap, fmt);
	r = vsnprintf(s->p + s->n, s->cap - s->n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= s->cap - s->n)
		s->over = true;
	else
		s->n += (size_t)r;
}

static const char *addr_txt(const struct ipaddr *a, char *buf)
{
	return ipaddr_format(a, buf, IPADDR_STRLEN) ? "?" : buf;
}

int routes_mac_format(const uint8_t m[6], char *out, size_t cap)
{
	int r = snprintf(out, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
			 m[5]);

	if (r < 0 || (size_t)r >= cap) {
		if (cap)
			out[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

static void fmt_route(struct sbuf *s, const struct routes_route *r)
{
	char a[IPADDR_STRLEN], d[CIDR_STRLEN];
	uint32_t def = r->dst.addr.family == AF_INET6 ? ROUTES_V6_METRIC : 0;

	sb_put(s, "route %s", cidr_format(&r->dst, d, sizeof(d)) ? "?" : d);
	if (r->gw.family)
		sb_put(s, " via %s", addr_txt(&r->gw, a));
	if (r->oif)
		sb_put(s, " dev %d", r->oif);
	if (r->onlink)
		sb_put(s, " onlink");
	if (r->table && r->table != ROUTES_TABLE_MAIN)
		sb_put(s, " table %u", (unsigned)r->table);
	if (r->metric && r->metric != def)
		sb_put(s, " metric %u", (unsigned)r->metric);
}

int routes_op_format(const struct routes_op *op, char *out, size_t cap)
{
	static const char *const verb[] = { "add", "replace", "del" };
	struct sbuf s = { .p = out, .cap = cap };
	char a[IPADDR_STRLEN], m[ROUTES_MAC_STRLEN];

	sb_put(&s, "%s ", verb[op->kind]);
	if (op->obj == ROUTES_OBJ_ROUTE) {
		fmt_route(&s, &op->item.route);
	} else if (op->obj == ROUTES_OBJ_NEIGH) {
		if (routes_mac_format(op->item.neigh.mac, m, sizeof(m)))
			m[0] = '\0';
		sb_put(&s, "neigh %s lladdr %s dev %d", addr_txt(&op->item.neigh.ip, a), m,
		       op->item.neigh.ifindex);
	} else {
		if (routes_mac_format(op->item.fdb.mac, m, sizeof(m)))
			m[0] = '\0';
		sb_put(&s, "fdb %s dst %s dev %d", m, addr_txt(&op->item.fdb.dst, a),
		       op->item.fdb.ifindex);
	}
	if (s.over) {
		if (cap)
			out[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

const char *routes_skip_str(enum routes_skip_reason why)
{
	static const char *const txt[ROUTES_SKIP_N] = {
		[ROUTES_SKIP_NO_PODCIDR] = "no podCIDR",
		[ROUTES_SKIP_NO_INTERNAL_IP] = "no InternalIP of this family",
		[ROUTES_SKIP_NO_LOCAL_IP] = "this node has no InternalIP of this family",
		[ROUTES_SKIP_NOT_ONLINK] = "direct mode, InternalIP not on-link",
		[ROUTES_SKIP_NO_VXLAN] = "needs VXLAN, no VXLAN device for this family",
		[ROUTES_SKIP_OVERLAP] = "podCIDR overlaps this node's",
		[ROUTES_SKIP_DUP_PODCIDR] = "podCIDR taken by another node",
		[ROUTES_SKIP_VTEP_CLASH] = "VTEP MAC or InternalIP clashes with another node's",
	};

	return (unsigned)why < ROUTES_SKIP_N ? txt[why] : "unknown";
}
