// SPDX-License-Identifier: MIT
/*
 * npsync_put.c: the pieces of npsync's batches (npsync_int.h), one nf_tables object at a time:
 * message records, element lists split across messages, the sets with their keys, and every
 * rule of the ruleset in npplan.h.
 *
 * The bytecode is nft 1.0.6's for the same ruleset, expression for expression (the
 * `meta nfproto` guard before each network-header load of an inet table, its register
 * choices, the no-op byteorder before a concatenated interval lookup, the set userdata), so
 * that `nft list ruleset` prints our table as it prints the one `nft -f` builds from
 * npplan_render(). Interval sets of CIDRs are encoded as nft's intervals.c does: a start
 * element, an INTERVAL_END element one past the end (none when the range reaches the top),
 * and a leading INTERVAL_END at 0 when the first range does not start there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/mem.h"
#include "../nl/nftmsg.h"
#include "npsync_int.h"

#define T NPPLAN_TABLE
/* An element list is one nested attribute, at most 65535 bytes: a message closes past this
 * and the list goes on in the next one (an element is at most about 100 bytes). */
#define ELEMS_MSG_MAX 60000

void npsync_rec(struct npsync_bat *t, enum npsync_op op, const char *name, uint8_t keys,
		uint8_t alen)
{
	struct npsync_rec *r;

	if (t->err || nlb_err(&t->b))
		return;
	if (t->nrecs == t->rcap) {
		size_t ncap = t->rcap ? 2 * t->rcap : 256;
		void *v = mem_realloc(t->recs, ncap * sizeof(*t->recs));

		if (!v) {
			t->err = -ENOMEM;
			return;
		}
		t->recs = v;
		t->rcap = ncap;
	}
	r = &t->recs[t->nrecs++];
	r->op = (uint8_t)op;
	r->keys = keys;
	r->alen = alen;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	if (op != NPSYNC_OP_MARKER)
		t->inner++;
}

static void elw_open(struct npsync_elw *w)
{
	struct npsync_bat *t = w->t;

	npsync_rec(t, w->msg == NFT_MSG_NEWSETELEM ? NPSYNC_OP_NEWELEM : NPSYNC_OP_DELELEM, w->set,
		   w->keys, w->alen);
	w->start = t->b.len;
	w->list = nftmsg_elems_begin(&t->b, w->msg, T, w->set, w->id);
}

void npsync_elw_close(struct npsync_elw *w)
{
	if (w->list)
		nftmsg_elems_end(&w->t->b, w->list);
	w->list = NULL;
}

void npsync_elw_put(struct npsync_elw *w, const struct nftmsg_elem *e)
{
	struct npsync_bat *t = w->t;

	if (w->list && t->b.len - w->start > ELEMS_MSG_MAX)
		npsync_elw_close(w);
	if (!w->list)
		elw_open(w);
	if (!w->list)
		return;
	nftmsg_elem(&t->b, e);
	if (w->msg == NFT_MSG_NEWSETELEM)
		t->elems_added++;
	else
		t->elems_deleted++;
}

struct npsync_elw npsync_elw_init(struct npsync_bat *t, int msg, const char *set, uint32_t id,
				  uint8_t keys, uint8_t alen)
{
	return (struct npsync_elw){ .t = t, .msg = msg, .set = set, .id = id, .keys = keys,
				    .alen = alen };
}

static const uint8_t shape_keys[NPPLAN_NSHAPES] = {
	[NPPLAN_EXACT] = NPSYNC_KEYS_PORT,
	[NPPLAN_PROTO] = NPSYNC_KEYS_PROTO,
	[NPPLAN_ADDR] = NPSYNC_KEYS_ADDR,
	[NPPLAN_PORTS] = NPSYNC_KEYS_PROTO,
	[NPPLAN_RANGE] = NPSYNC_KEYS_PORT,
};

int npsync_fam(int v)
{
	return v == 4 ? AF_INET : AF_INET6;
}

uint8_t npsync_alen(int v)
{
	return v == 4 ? 4 : 16;
}

uint32_t npsync_put_set(struct npsync_bat *t, const char *name, uint8_t keys, int v,
			uint32_t flags)
{
	uint32_t at = v == 4 ? NFTMSG_TYPE_IPV4 : NFTMSG_TYPE_IPV6;
	struct nftmsg_set s = { .table = T, .name = name, .id = ++t->set_id, .flags = flags,
				.key_type = at, .key_len = npsync_alen(v), .nft_udata = true };

	if (flags & NFT_SET_MAP)
		s.data_type = NFT_DATA_VERDICT;
	if (keys == NPSYNC_KEYS_SELF) {
		s.key_type = s.key_type << NFTMSG_CONCAT_BITS | at;
		s.key_len += npsync_alen(v);
	}
	if (NPSYNC_HAS_PROTO(keys)) {
		s.key_type = s.key_type << NFTMSG_CONCAT_BITS | NFTMSG_TYPE_INET_PROTO;
		s.key_len += 4;
	}
	if (keys == NPSYNC_KEYS_PORT) {
		s.key_type = s.key_type << NFTMSG_CONCAT_BITS | NFTMSG_TYPE_INET_SERVICE;
		s.key_len += 4;
	}
	if (flags & NFT_SET_CONCAT) {
		s.nfields = 3;
		s.fields[0] = npsync_alen(v);
		s.fields[1] = 1;
		s.fields[2] = 2;
	}
	npsync_rec(t, NPSYNC_OP_NEWSET, name, keys, npsync_alen(v));
	nftmsg_newset(&t->b, &s);
	return s.id;
}

/* Each concatenated field fills whole 4-byte registers; the port is big-endian. */
static size_t key_of(uint8_t *k, const struct ipaddr *a, uint8_t keys, uint8_t proto,
		     uint16_t port)
{
	size_t n = ipaddr_len(a->family);

	memcpy(k, a->a, n);
	if (keys == NPSYNC_KEYS_SELF) {
		memcpy(k + n, a->a, n);
		n *= 2;
	}
	if (NPSYNC_HAS_PROTO(keys)) {
		memset(k + n, 0, 4);
		k[n] = proto;
		n += 4;
	}
	if (keys == NPSYNC_KEYS_PORT) {
		memset(k + n, 0, 4);
		k[n] = (uint8_t)(port >> 8);
		k[n + 1] = (uint8_t)port;
		n += 4;
	}
	return n;
}

void npsync_put_elem(struct npsync_elw *w, const struct npplan_elem *e)
{
	uint8_t k[24], ke[24];
	struct nftmsg_elem x = { .key = k };

	x.key_len = key_of(k, &e->lo, w->keys, e->prlo, e->plo);
	if (e->shape == NPPLAN_RANGE) {
		x.key_end = ke;
		x.key_end_len = key_of(ke, &e->hi, w->keys, e->prhi, e->phi);
	}
	npsync_elw_put(w, &x);
}

const char *npsync_self_name(int v)
{
	return v == 4 ? "self4" : "self6";
}

void npsync_put_self(struct npsync_elw *w, const struct ipaddr *a)
{
	uint8_t k[32];
	struct nftmsg_elem x = { .key = k };

	x.key_len = key_of(k, a, NPSYNC_KEYS_SELF, 0, 0);
	npsync_elw_put(w, &x);
}

void npsync_new_chain(struct npsync_bat *t, const char *name, const struct nftmsg_hook *h)
{
	npsync_rec(t, NPSYNC_OP_NEWCHAIN, name, 0, 0);
	nftmsg_newchain(&t->b, T, name, h);
}

void npsync_flush_chain(struct npsync_bat *t, const char *name)
{
	npsync_rec(t, NPSYNC_OP_FLUSHCHAIN, name, 0, 0);
	nftmsg_delrule(&t->b, T, name, 0);
}

static struct nlattr *rule_begin(struct npsync_bat *t, const char *chain)
{
	npsync_rec(t, NPSYNC_OP_NEWRULE, chain, 0, 0);
	return nftmsg_rule_begin(&t->b, T, chain);
}

/* meta nfproto ipvN (the dependency nft adds in an inet table), then the address to reg 1. */
static void load_addr(struct nlb *b, int v, bool src)
{
	uint8_t p = v == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint32_t off = v == 4 ? (src ? 12 : 16) : (src ? 8 : 24);

	nftmsg_meta(b, NFT_META_NFPROTO, NFT_REG_1);
	nftmsg_cmp(b, NFT_CMP_EQ, NFT_REG_1, &p, 1);
	nftmsg_payload(b, NFT_PAYLOAD_NETWORK_HEADER, off, npsync_alen(v), NFT_REG_1);
}

static void rule_verdict(struct npsync_bat *t, const char *chain, int32_t verdict)
{
	struct nlattr *r = rule_begin(t, chain);

	nftmsg_verdict(&t->b, verdict, NULL);
	nftmsg_rule_end(&t->b, r);
}

/* ip P . meta l4proto . th dport @set V: the next registers after the address, as nft picks
 * them (an IPv6 address fills reg 1, so the protocol goes to the 16-byte reg 2). A PORTS set
 * is followed by the port range, which nft 1.0.6 writes as two comparisons. The set is named
 * only: the kernel finds a set made earlier in the same batch by its name. */
static void rule_group_set(struct npsync_bat *t, const struct npplan_group *g,
			   const struct npplan_gset *s, const char *set)
{
	uint32_t rproto = s->v == 4 ? NFT_REG32_01 : NFT_REG_2;
	uint32_t rport = s->v == 4 ? NFT_REG32_02 : NFT_REG32_05;
	uint8_t keys = shape_keys[s->shape];
	struct nlattr *r = rule_begin(t, g->name);
	struct nlb *b = &t->b;

	load_addr(b, s->v, g->dir == NPPLAN_IN);
	if (NPSYNC_HAS_PROTO(keys))
		nftmsg_meta(b, NFT_META_L4PROTO, rproto);
	if (s->shape == NPPLAN_RANGE)
		nftmsg_byteorder(b, NFT_BYTEORDER_HTON, rproto, rproto, 1, 2);
	if (keys == NPSYNC_KEYS_PORT)
		nftmsg_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, rport);
	nftmsg_lookup(b, set, 0, NFT_REG_1, -1, 0);
	if (s->shape == NPPLAN_PORTS) {
		uint8_t lo[2] = { s->plo >> 8, s->plo & 0xff }, hi[2] = { s->phi >> 8, s->phi & 0xff };

		nftmsg_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
		nftmsg_cmp(b, NFT_CMP_GTE, NFT_REG_1, lo, 2);
		nftmsg_cmp(b, NFT_CMP_LTE, NFT_REG_1, hi, 2);
	}
	nftmsg_verdict(b, g->dir == NPPLAN_IN ? NF_ACCEPT : NFT_RETURN, NULL);
	nftmsg_rule_end(b, r);
}

/* meta l4proto tcp reject with tcp reset; reject with icmpx admin-prohibited */
static void rule_rejects(struct npsync_bat *t, const char *chain)
{
	static const uint8_t tcp = 6;
	struct nlattr *r = rule_begin(t, chain);

	nftmsg_meta(&t->b, NFT_META_L4PROTO, NFT_REG_1);
	nftmsg_cmp(&t->b, NFT_CMP_EQ, NFT_REG_1, &tcp, 1);
	nftmsg_reject(&t->b, NFT_REJECT_TCP_RST, 0);
	nftmsg_rule_end(&t->b, r);
	r = rule_begin(t, chain);
	nftmsg_reject(&t->b, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
	nftmsg_rule_end(&t->b, r);
}

void npsync_group_rules(struct npsync_bat *t, const struct npplan *p,
			const struct npplan_shares *sh, size_t i)
{
	const struct npplan_group *g = p->groups[i];

	if (g->allow_all) {
		rule_verdict(t, g->name, g->dir == NPPLAN_IN ? NF_ACCEPT : NFT_RETURN);
		return;
	}
	for (size_t k = sh->first[i]; k < sh->first[i + 1]; k++) {
		const struct npplan_kset *ks = &sh->sets[sh->ref[k]];

		rule_group_set(t, g, &ks->s, ks->name);
	}
	rule_rejects(t, g->name);
}

void npsync_map_name(char out[8], int dir, int v)
{
	snprintf(out, 8, "%s%d", dir == NPPLAN_IN ? "ing" : "egr", v);
}

void npsync_put_disp(struct npsync_elw *w, const struct npplan *p, const struct npplan_disp *d)
{
	struct nftmsg_elem x = { .key = d->addr.a, .key_len = w->alen, .has_verdict = true };

	x.verdict = d->dir == NPPLAN_IN ? NFT_GOTO : NFT_JUMP;
	x.chain = p->groups[d->group]->name;
	npsync_elw_put(w, &x);
}

static int cidr_qcmp(const void *a, const void *b)
{
	const struct cidr *x = a, *y = b;
	int r = ipaddr_cmp(&x->addr, &y->addr);

	return r ? r : (x->prefix > y->prefix) - (x->prefix < y->prefix);
}

/*
 * The CIDRs of one family as sorted [first, last] ranges, those inside another left out, as
 * npplan_render() writes them (two CIDRs overlap only when one holds the other; adjacent ones
 * stay apart, as nft keeps them without auto-merge). *out is the caller's to free.
 */
int npsync_cidr_ranges(const struct cidr *c, size_t n, int v, struct ipaddr (**out)[2],
		       size_t *m)
{
	struct cidr *s = mem_alloc((n ? n : 1) * sizeof(*s));
	size_t i, k = 0;

	*m = 0;
	*out = mem_alloc((n ? n : 1) * sizeof(**out));
	if (!s || !*out) {
		mem_free(s);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (c[i].addr.family != npsync_fam(v))
			continue;
		s[k] = c[i];
		cidr_first(&c[i], &s[k++].addr);
	}
	qsort(s, k, sizeof(*s), cidr_qcmp);
	for (i = 0; i < k; i++) {
		if (*m && ipaddr_cmp(&s[i].addr, &(*out)[*m - 1][1]) <= 0)
			continue;
		cidr_first(&s[i], &(*out)[*m][0]);
		cidr_last(&s[i], &(*out)[*m][1]);
		(*m)++;
	}
	mem_free(s);
	return 0;
}

void npsync_put_cidrs(struct npsync_elw *w, struct ipaddr (*r)[2], size_t m)
{
	struct nftmsg_elem x = { .key_len = w->alen };
	struct ipaddr end;

	if (m && !ipaddr_is_unspecified(&r[0][0])) {
		memset(&end, 0, sizeof(end));
		x.key = end.a;
		x.flags = NFT_SET_ELEM_INTERVAL_END;
		npsync_elw_put(w, &x);
	}
	for (size_t i = 0; i < m; i++) {
		x.key = r[i][0].a;
		x.flags = 0;
		npsync_elw_put(w, &x);
		end = r[i][1];
		if (!ipaddr_inc(&end))
			continue;	/* up to the last address: an open interval */
		x.key = end.a;
		x.flags = NFT_SET_ELEM_INTERVAL_END;
		npsync_elw_put(w, &x);
	}
	npsync_elw_close(w);
}

/* ip saddr @masq-src4 ip daddr != @cluster4 masquerade */
void npsync_rule_masq(struct npsync_bat *t, int v)
{
	char src[16], dst[16];
	struct nlattr *r;

	snprintf(src, sizeof(src), "masq-src%d", v);
	snprintf(dst, sizeof(dst), "cluster%d", v);
	r = rule_begin(t, "postrouting");
	load_addr(&t->b, v, true);
	nftmsg_lookup(&t->b, src, 0, NFT_REG_1, -1, 0);
	nftmsg_payload(&t->b, NFT_PAYLOAD_NETWORK_HEADER, v == 4 ? 16 : 24, npsync_alen(v),
		       NFT_REG_1);
	nftmsg_lookup(&t->b, dst, 0, NFT_REG_1, -1, NFT_LOOKUP_F_INV);
	nftmsg_masq(&t->b, 0);
	nftmsg_rule_end(&t->b, r);
}

void npsync_begin(struct npsync_bat *t, uint32_t genid)
{
	npsync_rec(t, NPSYNC_OP_MARKER, NULL, 0, 0);
	if (genid)
		nftmsg_batch_begin_genid(&t->b, genid);
	else
		nftmsg_batch_begin(&t->b);
}

void npsync_end(struct npsync_bat *t)
{
	npsync_rec(t, NPSYNC_OP_MARKER, NULL, 0, 0);
	nftmsg_batch_end(&t->b);
}

void npsync_forward_rules(struct npsync_bat *t)
{
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;
	struct nlattr *r = rule_begin(t, "forward");
	char name[8];

	/* ct state established,related accept: the state is a host-order u32 in the register */
	nftmsg_ct(&t->b, NFT_CT_STATE, NFT_REG_1);
	nftmsg_bitwise(&t->b, NFT_REG_1, NFT_REG_1, &mask, &zero, 4);
	nftmsg_cmp(&t->b, NFT_CMP_NEQ, NFT_REG_1, &zero, 4);
	nftmsg_verdict(&t->b, NF_ACCEPT, NULL);
	nftmsg_rule_end(&t->b, r);
	/*
	 * ip saddr . ip daddr @self4 accept: a pod always reaches itself, also through its own
	 * Service (the hairpin comes back through forward with the pod as source and destination)
	 */
	for (int v = 4; v <= 6; v += 2) {
		r = rule_begin(t, "forward");
		load_addr(&t->b, v, true);
		nftmsg_payload(&t->b, NFT_PAYLOAD_NETWORK_HEADER, v == 4 ? 16 : 24, npsync_alen(v),
			       v == 4 ? NFT_REG32_01 : NFT_REG_2);
		nftmsg_lookup(&t->b, npsync_self_name(v), 0, NFT_REG_1, -1, 0);
		nftmsg_verdict(&t->b, NF_ACCEPT, NULL);
		nftmsg_rule_end(&t->b, r);
	}
	/* egress of the source first: its chain returns on allow, then the destination's */
	for (int dir = NPPLAN_EG; dir >= NPPLAN_IN; dir--) {
		for (int v = 4; v <= 6; v += 2) {
			npsync_map_name(name, dir, v);
			r = rule_begin(t, "forward");
			load_addr(&t->b, v, dir == NPPLAN_EG);
			nftmsg_lookup(&t->b, name, 0, NFT_REG_1, NFT_REG_VERDICT, 0);
			nftmsg_rule_end(&t->b, r);
		}
	}
}

uint8_t npsync_shape_keys(int shape)
{
	return shape_keys[shape];
}
