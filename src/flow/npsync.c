// SPDX-License-Identifier: MIT
/*
 * npsync.c: the nf_tables reconciler (npsync.h). Owns the netfilter socket, the last plan
 * the kernel accepted, the batch buffer, and the exchange: the generation read and retry of a
 * full resync, one sendmsg per batch, and the translation of a kernel error (a message index
 * and, with extended acks, the offending attribute) into what we were doing ("adding element
 * 10.0.0.1 . tcp . 80 to set in-...-x4: File exists"). The batches are npsync_batch.c's.
 *
 * A batch is built into one buffer that grows (and the batch is rebuilt) when it does not
 * fit; the buffer is kept for the next apply. Element lists are split across messages (a
 * nested attribute holds 64 KiB), never batches: nfnetlink applies one datagram atomically,
 * and nlsock_batch raises the socket's send buffer to fit it (SO_SNDBUFFORCE: this needs
 * CAP_NET_ADMIN, which nf_tables needs anyway). Measured on Linux 6.18: a 62 MiB batch (4
 * million elements) goes as one datagram, so a full resync is never split; past
 * NPSYNC_BATCH_MAX we refuse with -E2BIG. The time of a large resync is the kernel's: it
 * finds sets by name along a list, so each set created or named costs a walk over all of
 * them, so each set costs every later set operation a step: only sets with elements exist
 * (npplan_gset_next()); 1,000 groups of 8 sets took about 3 s, as `nft -f` does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/mem.h"
#include "../nl/nftdump.h"
#include "../nl/nftmsg.h"
#include "../nl/nlsock.h"
#include "npsync.h"
#include "npsync_int.h"

/* ERESTART (another writer committed between our generation read and our batch): retries */
#define NPSYNC_RETRIES 3
/* A batch larger than this is refused rather than grown further. */
#define NPSYNC_BATCH_MAX ((size_t)1 << 30)

struct npsync {
	struct nlsock nl;
	struct npplan cur;	/* what the kernel holds when synced */
	/* cur's kernel sets, kept from the diff that made cur so the next one need not work
	 * them out again; sh.first NULL: not known. next: the plan being applied's. */
	struct npplan_shares cur_sh, next_sh;
	bool synced;
	char *buf;
	size_t cap;
	struct npsync_bat bat;	/* the batch in buf, with its records */
};

int npsync_new(struct npsync **out, struct ebuf *eb)
{
	struct npsync *s = mem_calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (!s) {
		ebuf_set(eb, "npsync: out of memory");
		return -ENOMEM;
	}
	r = nlsock_open(&s->nl, NETLINK_NETFILTER);
	if (r) {
		ebuf_set(eb, "npsync: netfilter socket: %s", strerror(-r));
		mem_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void npsync_free(struct npsync *s)
{
	if (!s)
		return;
	nlsock_close(&s->nl);
	npplan_free(&s->cur);
	npplan_shares_free(&s->cur_sh);
	npplan_shares_free(&s->next_sh);
	mem_free(s->buf);
	mem_free(s->bat.recs);
	mem_free(s);
}

void npsync_invalidate(struct npsync *s)
{
	s->synced = false;
}

/* ---- building ----------------------------------------------------------------------------- */

enum kind { FULL, DIFF, REMOVE };

/* A first guess of a full batch's size, so a large plan is built once, not doubled into. */
static size_t estimate(const struct npplan *p)
{
	size_t n = 16384 + p->ndisp * 72 + (p->nsrc + p->ncluster) * 64;

	for (size_t i = 0; i < p->ngroups; i++)
		n += 4096 + p->groups[i]->nelems * 80;
	return n;
}

static int build_once(struct npsync *s, enum kind k, const struct npplan *o,
		      const struct npplan *p, uint32_t genid)
{
	struct npsync_bat *t = &s->bat;

	*t = (struct npsync_bat){ .recs = t->recs, .rcap = t->rcap };
	nlb_init(&t->b, s->buf, s->cap);
	if (k == FULL)
		npsync_build_full(t, p, genid);
	else if (k == DIFF)
		npsync_build_diff(t, o, &s->cur_sh, p, &s->next_sh);
	else
		npsync_build_remove(t);
	return t->err ? t->err : nlb_err(&t->b);
}

static int build(struct npsync *s, enum kind k, const struct npplan *o, const struct npplan *p,
		 uint32_t genid)
{
	size_t want = k == FULL ? estimate(p) : 65536;
	int r;

	for (;;) {
		if (want > s->cap) {
			char *nb = mem_alloc(want);

			if (!nb)
				return -ENOMEM;
			mem_free(s->buf);
			s->buf = nb;
			s->cap = want;
		}
		r = build_once(s, k, o, p, genid);
		if (r != -EMSGSIZE)
			return r;
		if (s->cap >= NPSYNC_BATCH_MAX)
			return -E2BIG;
		want = 2 * s->cap;
	}
}

/* ---- error reports ------------------------------------------------------------------------ */

static const char *proto_name(unsigned p, char out[8])
{
	if (p == 6 || p == 17 || p == 132)
		return p == 6 ? "tcp" : p == 17 ? "udp" : "sctp";
	snprintf(out, 8, "%u", p);
	return out;
}

/* One key's fields; with end, each field as "lo-hi" where they differ. */
static void key_text(const struct npsync_rec *r, const uint8_t *k, const uint8_t *e, char *out,
		     size_t cap)
{
	struct ipaddr a = { .family = r->alen == 4 ? AF_INET : AF_INET6 }, b = a;
	char t1[IPADDR_STRLEN] = "?", t2[IPADDR_STRLEN] = "?", p1[8], p2[8];
	size_t n = r->alen;
	int used;

	memcpy(a.a, k, n);
	memcpy(b.a, e ? e : k, n);
	(void)!ipaddr_format(&a, t1, sizeof(t1));
	(void)!ipaddr_format(&b, t2, sizeof(t2));
	used = snprintf(out, cap, e && memcmp(k, e, n) ? "%s-%s" : "%s", t1, t2);
	if (r->keys == NPSYNC_KEYS_SELF && used >= 0 && (size_t)used < cap) {
		memcpy(b.a, k + n, n);
		(void)!ipaddr_format(&b, t2, sizeof(t2));
		snprintf(out + used, cap - used, " . %s", t2);
	}
	if (NPSYNC_HAS_PROTO(r->keys) && used >= 0 && (size_t)used < cap)
		used += snprintf(out + used, cap - used, e && k[n] != e[n] ? " . %s-%s" : " . %s",
				 proto_name(k[n], p1), proto_name(e ? e[n] : k[n], p2));
	if (r->keys == NPSYNC_KEYS_PORT && used >= 0 && (size_t)used < cap) {
		const uint8_t *h = e ? e : k;
		unsigned lo = (unsigned)k[n + 4] << 8 | k[n + 5];
		unsigned hi = (unsigned)h[n + 4] << 8 | h[n + 5];

		snprintf(out + used, cap - used, lo != hi ? " . %u-%u" : " . %u", lo, hi);
	}
}

/* NFTA_SET_ELEM_KEY (or _KEY_END) { NFTA_DATA_VALUE }: the bytes, if they are a whole key. */
static const uint8_t *elem_key(const struct nlattr *a, size_t want)
{
	const struct nlattr *tb[NFTA_DATA_MAX + 1];

	if (!a || nla_parse_nested(tb, NFTA_DATA_MAX, a) || !tb[NFTA_DATA_VALUE] ||
	    nla_datalen(tb[NFTA_DATA_VALUE]) != want)
		return NULL;
	return nla_data(tb[NFTA_DATA_VALUE]);
}

void npsync_elem_text(const struct npsync_rec *r, const struct nlattr *elem, char *out,
		      size_t cap)
{
	const struct nlattr *tb[NFTA_SET_ELEM_MAX + 1];
	size_t want = r->alen * (r->keys == NPSYNC_KEYS_SELF ? 2 : 1) +
		      (NPSYNC_HAS_PROTO(r->keys) ? 4 : 0) + (r->keys == NPSYNC_KEYS_PORT ? 4 : 0);
	const uint8_t *k, *e = NULL;
	uint32_t flags = 0;

	snprintf(out, cap, "?");
	if (nla_parse_nested(tb, NFTA_SET_ELEM_MAX, elem) ||
	    !(k = elem_key(tb[NFTA_SET_ELEM_KEY], want)))
		return;
	if (tb[NFTA_SET_ELEM_KEY_END] && !(e = elem_key(tb[NFTA_SET_ELEM_KEY_END], want)))
		return;
	if (tb[NFTA_SET_ELEM_FLAGS] && nla_get_be32(tb[NFTA_SET_ELEM_FLAGS], &flags))
		return;
	key_text(r, k, e, out, cap);
	if (flags & NFT_SET_ELEM_INTERVAL_END && strlen(out) + 16 < cap)
		strcat(out, " (interval end)");
}

/* The element of message idx that the kernel's extended ack pointed at, as text. */
static void failed_elem(const struct npsync *s, size_t idx, char *out, size_t cap)
{
	const struct nlmsghdr *nlh;
	const struct nlattr *a = NULL;
	size_t left, i = 0;

	for_each_nlmsg(nlh, s->buf, s->bat.b.len, left)
		if (i++ == idx)
			break;
	if (nlmsg_ok(nlh, left) && s->nl.err_offset)
		a = nftmsg_elem_at(nlh, s->nl.err_offset);
	if (a)
		npsync_elem_text(&s->bat.recs[idx], a, out, cap);
	else
		snprintf(out, cap, "?");
}

/* What each kind of message was doing, before its object's name. */
static const char *const doing[] = {
	[NPSYNC_OP_NEWTABLE] = "creating table inet",
	[NPSYNC_OP_DELTABLE] = "deleting table inet",
	[NPSYNC_OP_NEWCHAIN] = "creating chain",
	[NPSYNC_OP_DELCHAIN] = "deleting chain",
	[NPSYNC_OP_FLUSHCHAIN] = "flushing chain",
	[NPSYNC_OP_NEWRULE] = "adding a rule to chain",
	[NPSYNC_OP_NEWSET] = "creating set",
	[NPSYNC_OP_DELSET] = "deleting set",
	[NPSYNC_OP_FLUSHSET] = "flushing set",
};

static void what_failed(const struct npsync *s, size_t idx, int err, char *w, size_t cap)
{
	const struct npsync_rec *r = &s->bat.recs[idx];
	char e[2 * IPADDR_STRLEN + 48];

	if (r->op == NPSYNC_OP_MARKER) {
		/* a batch-wide failure is reported against BEGIN */
		snprintf(w, cap, "%s", err == -ERESTART ? "nf_tables changed since we read its "
			 "generation" : "committing the batch");
	} else if (r->op == NPSYNC_OP_NEWELEM || r->op == NPSYNC_OP_DELELEM) {
		failed_elem(s, idx, e, sizeof(e));
		snprintf(w, cap, r->op == NPSYNC_OP_NEWELEM ? "adding element %s to set %s"
							 : "deleting element %s from set %s",
			 e, r->name);
	} else {
		snprintf(w, cap, "%s %s", doing[r->op], r->name);
	}
}

/* "<what we did>: <strerror>", then the kernel's own words when it said more. */
static void explain(const struct npsync *s, size_t idx, int err, struct ebuf *eb)
{
	char what[160], plain[96];
	struct ebuf k;

	if (!eb || idx >= s->bat.nrecs)
		return;
	k = *eb;
	what_failed(s, idx, err, what, sizeof(what));
	snprintf(plain, sizeof(plain), "kernel: %s", strerror(-err));
	if (ebuf_empty(&k) || !strcmp(k.msg, plain))
		ebuf_set(eb, "%s: %s", what, strerror(-err));
	else
		ebuf_set(eb, "%s: %s (%s)", what, strerror(-err), k.msg);
}

/* ---- the exchange ------------------------------------------------------------------------- */

struct gen {
	uint32_t id;
	bool got;
};

static int gen_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct gen *g = ctx;
	int r = nftmsg_gen_parse(nlh, &g->id);

	if (r == -ENOMSG)
		return 0;
	g->got = r == 0;
	return r;
}

static int getgen(struct npsync *s, uint32_t *genid, struct ebuf *eb)
{
	uint64_t buf[8];
	struct gen g = { 0 };
	struct nlb b;
	int r;

	nlb_init(&b, buf, sizeof(buf));
	nftmsg_getgen(&b);
	r = nlb_err(&b);
	if (!r)
		r = nlsock_talk(&s->nl, b.nlh, gen_cb, &g, eb);
	if (!r && !g.got) {
		ebuf_set(eb, "no NFT_MSG_NEWGEN in the answer");
		r = -EPROTO;
	}
	if (r)
		ebuf_prefix(eb, "reading the nf_tables generation");
	*genid = g.id;
	return r;
}

static int send_batch(struct npsync *s, struct npsync_stats *st, struct ebuf *eb)
{
	size_t failed;
	int r;

	st->msgs = s->bat.nrecs;
	st->bytes = s->bat.b.len;
	st->elems_added = s->bat.elems_added;
	st->elems_deleted = s->bat.elems_deleted;
	st->groups_added = s->bat.groups_added;
	st->groups_deleted = s->bat.groups_deleted;
	st->sets_replaced = s->bat.sets_replaced;
	r = nlsock_batch(&s->nl, s->buf, s->bat.b.len, &failed, eb);
	if (r && failed != SIZE_MAX)
		explain(s, failed, r, eb);
	return r;
}

static int built(int r, struct ebuf *eb)
{
	if (r)
		ebuf_set(eb, "building the nf_tables batch: %s", strerror(-r));
	return r;
}

/*
 * Whether the kernel's table reads back as the full batch just built would make it: then the
 * batch need not be sent (an agent restart changes nothing, not even handles). Any doubt (no
 * table, a read or decode failure) is false, and the batch replaces the table.
 */
static bool kernel_has(struct npsync *s)
{
	struct buf have = BUF_INIT, want = BUF_INIT;
	struct ebuf eb;
	bool same;

	same = !nftdump_table(&s->nl, NPPLAN_TABLE, 0, &have, &eb) &&
	       !nftdump_batch(s->buf, s->bat.b.len, NPPLAN_TABLE, 0, &want, &eb) && have.len == want.len &&
	       !memcmp(have.p, want.p, have.len);
	buf_free(&have);
	buf_free(&want);
	return same;
}

static int apply_full(struct npsync *s, const struct npplan *p, struct npsync_stats *st,
		      struct ebuf *eb)
{
	uint32_t genid;
	int r, try;

	st->full = 1;
	for (try = 0;; try++) {
		r = getgen(s, &genid, eb);
		if (r)
			return r;
		r = built(build(s, FULL, NULL, p, genid), eb);
		if (!r && try == 0 && kernel_has(s)) {
			st->adopted = 1;
			return 0;
		}
		if (!r)
			r = send_batch(s, st, eb);
		if (r != -ERESTART || try == NPSYNC_RETRIES)
			return r;
	}
}

static int apply_diff(struct npsync *s, const struct npplan *p, struct npsync_stats *st,
		      struct ebuf *eb)
{
	int r = built(build(s, DIFF, &s->cur, p, 0), eb);

	if (r || s->bat.inner == 0)
		return r;
	return send_batch(s, st, eb);
}

int npsync_apply(struct npsync *s, struct npplan *plan, struct npsync_stats *st,
		 struct ebuf *eb)
{
	struct npsync_stats dummy;
	int r;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	ebuf_clear(eb);
	r = s->synced ? apply_diff(s, plan, st, eb) : apply_full(s, plan, st, eb);
	/* a full batch leaves no shares behind: the next diff works cur's out itself */
	npplan_shares_free(&s->cur_sh);
	if (r) {
		npplan_shares_free(&s->next_sh);
		s->synced = false;
		return r;
	}
	s->cur_sh = s->next_sh;
	memset(&s->next_sh, 0, sizeof(s->next_sh));
	npplan_free(&s->cur);
	s->cur = *plan;
	memset(plan, 0, sizeof(*plan));
	s->synced = true;
	return 0;
}

int npsync_remove(struct npsync *s, struct ebuf *eb)
{
	struct npsync_stats st;
	int r;

	ebuf_clear(eb);
	s->synced = false;
	npplan_free(&s->cur);
	npplan_shares_free(&s->cur_sh);
	r = built(build(s, REMOVE, NULL, NULL, 0), eb);
	return r ? r : send_batch(s, &st, eb);
}
