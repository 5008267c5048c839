// SPDX-License-Identifier: MIT
/*
 * noderoutes_apply.c: sends a pass's operations (routes_diff's order: adds and replaces
 * before deletes) over rtnetlink in batches of NODEROUTES_BATCH_OPS messages, and counts what
 * the kernel did and refused (noderoutes_int.h). Best effort: a refused change is counted
 * and the rest goes on; the first failure is kept for the pass to return.
 */
#include <errno.h>
#include <string.h>

#include "../base/err.h"
#include "../core/routes.h"
#include "../nl/nlmsg.h"
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "noderoutes_int.h"

/* ---- applying --------------------------------------------------------------------------- */

static void put_route(struct nlb *b, const struct routes_route *x, bool del)
{
	struct rtnl_route r = { .dst = x->dst, .gw = x->gw, .has_gw = x->gw.family != 0,
				.oif = x->oif, .table = x->table, .priority = x->metric,
				.onlink = x->onlink };

	if (del)
		rtnl_put_route(b, RTM_DELROUTE, 0, &r);
	else
		rtnl_put_route(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &r);
}

/*
 * One request per op. Every replace is done in place: the IPv6 VXLAN gateway is link-local
 * (core/routes.h), so a podCIDR's own direct route never blocks its move to the tunnel.
 */
static void put_op(struct nlb *b, const struct routes_op *op)
{
	const struct routes_neigh *n = &op->item.neigh;
	const struct routes_fdb *e = &op->item.fdb;
	bool del = op->kind == ROUTES_OP_DEL;

	if (op->obj == ROUTES_OBJ_ROUTE)
		put_route(b, &op->item.route, del);
	else if (op->obj == ROUTES_OBJ_NEIGH && del)
		rtnl_put_neigh_del(b, n->ifindex, &n->ip);
	else if (op->obj == ROUTES_OBJ_NEIGH)
		rtnl_put_neigh(b, n->ifindex, &n->ip, n->mac);
	else
		rtnl_put_fdb(b, del ? RTM_DELNEIGH : RTM_NEWNEIGH, e->ifindex, e->mac, &e->dst);
}

/* The kernel refused an op (err, its text in why): count it, keep the first reason. */
static void op_failed(struct noderoutes_pass *p, const struct routes_op *op, int err,
		      const struct ebuf *why)
{
	char txt[ROUTES_OP_STRLEN];
	struct ebuf e;

	if (op->kind == ROUTES_OP_DEL && (err == -ENOENT || err == -ESRCH))
		return; /* already gone: what we wanted */
	if (op->kind == ROUTES_OP_ADD)
		p->st->added--;
	else if (op->kind == ROUTES_OP_REPLACE)
		p->st->replaced--;
	else
		p->st->deleted--;
	p->st->failed++;
	if (routes_op_format(op, txt, sizeof(txt)))
		strcpy(txt, "?");
	ebuf_set(&e, "%s: %s", txt, ebuf_empty(why) ? strerror(-err) : why->msg);
	noderoutes_fail(p, err, &e);
}

/*
 * Send ops from `from` on, as many as one batch holds; returns where to go on. rtnetlink
 * processes every message of a batch whatever happens to the others, but reports only the
 * first error: the messages after it are sent again (every request here is idempotent, and a
 * repeated delete is an ENOENT we ignore), so each failure is seen and counted.
 */
static size_t apply_batch(struct noderoutes_pass *p, size_t from)
{
	struct noderoutes *nr = p->nr;
	const struct routes_op *v = p->ops.v;
	size_t i, k = 0, len = 0, bad, n = p->ops.n;
	uint64_t one[NODEROUTES_OP_MAX_BYTES / 8];
	struct ebuf why = { "" };
	struct nlb b;
	int r;

	for (i = from; i < n && k < NODEROUTES_BATCH_OPS; i++) {
		nlb_init(&b, one, sizeof(one));
		put_op(&b, &v[i]);
		if (nlb_err(&b)) {
			ebuf_set(&why, "cannot encode the request");
			op_failed(p, &v[i], nlb_err(&b), &why);
			continue;
		}
		memcpy(nr->batch + len, one, b.len);
		len += b.len;
		nr->idx[k++] = i;
	}
	r = nlsock_batch(&nr->s, nr->batch, len, &bad, &why);
	if (!r)
		return i;
	if (bad >= k) { /* not one message's fault (send, timeout): the rest waits a pass */
		noderoutes_fail(p, r, &why);
		return n;
	}
	op_failed(p, &v[nr->idx[bad]], r, &why);
	return nr->idx[bad] + 1;
}

int noderoutes_apply(struct noderoutes_pass *p)
{
	size_t i;

	p->st->added = (unsigned)p->ops.nadd;
	p->st->replaced = (unsigned)p->ops.nreplace;
	p->st->deleted = (unsigned)p->ops.ndel;
	for (i = 0; i < p->ops.n;)
		i = apply_batch(p, i);
	return 0;
}
