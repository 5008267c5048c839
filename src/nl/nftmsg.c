// SPDX-License-Identifier: MIT
/*
 * nftmsg.c: nf_tables request messages built into a struct nlb: batch markers, tables,
 * chains, sets, set elements and rules with one put function per expression, each mirroring
 * the attribute nesting the kernel parses (net/netfilter/nf_tables_api.c, nft_*.c). Integer
 * attributes go through nlb_put_be32/be64 only: nf_tables reads every one with ntohl().
 */
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>

#include "nftmsg.h"
#include "nlmsg.h"

/* A message of type (subsys << 8 | msg) with its nfgenmsg; res_id is big-endian. */
static void put_msg(struct nlb *b, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id)
{
	struct nfgenmsg *g;

	if (!nlb_msg(b, type, NLM_F_REQUEST | flags))
		return;
	g = nlb_extra(b, sizeof(*g));
	if (!g)
		return;
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	((uint8_t *)&g->res_id)[0] = (uint8_t)(res_id >> 8);
	((uint8_t *)&g->res_id)[1] = (uint8_t)res_id;
}

static void put_nft(struct nlb *b, int msg, uint16_t flags)
{
	put_msg(b, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | msg), flags, NFPROTO_INET, 0);
}

/* The markers name the subsystem in res_id; the kernel rejects a batch for another one. */
void nftmsg_batch_begin(struct nlb *b)
{
	put_msg(b, NFNL_MSG_BATCH_BEGIN, 0, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
}

void nftmsg_batch_end(struct nlb *b)
{
	put_msg(b, NFNL_MSG_BATCH_END, 0, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
}

void nftmsg_newtable(struct nlb *b, const char *name)
{
	put_nft(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nlb_put_strz(b, NFTA_TABLE_NAME, name);
}

void nftmsg_deltable(struct nlb *b, const char *name)
{
	put_nft(b, NFT_MSG_DELTABLE, 0);
	nlb_put_strz(b, NFTA_TABLE_NAME, name);
}

void nftmsg_newchain(struct nlb *b, const char *table, const char *name,
		     const struct nftmsg_hook *hook)
{
	struct nlattr *h;

	put_nft(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nlb_put_strz(b, NFTA_CHAIN_TABLE, table);
	nlb_put_strz(b, NFTA_CHAIN_NAME, name);
	if (!hook)
		return;
	h = nlb_nest_start(b, NFTA_CHAIN_HOOK);
	nlb_put_be32(b, NFTA_HOOK_HOOKNUM, hook->hooknum);
	/* signed: the kernel reads it back as (s32)ntohl(), so -100 travels as 0xffffff9c */
	nlb_put_be32(b, NFTA_HOOK_PRIORITY, (uint32_t)hook->priority);
	nlb_nest_end(b, h);
	nlb_put_be32(b, NFTA_CHAIN_POLICY, hook->policy);
	nlb_put_strz(b, NFTA_CHAIN_TYPE, hook->type);
}

static void put_set_desc(struct nlb *b, const struct nftmsg_set *s)
{
	struct nlattr *desc, *concat, *f;

	desc = nlb_nest_start(b, NFTA_SET_DESC);
	concat = nlb_nest_start(b, NFTA_SET_DESC_CONCAT);
	for (size_t i = 0; i < s->nfields; i++) {
		f = nlb_nest_start(b, NFTA_LIST_ELEM);
		nlb_put_be32(b, NFTA_SET_FIELD_LEN, s->fields[i]);
		nlb_nest_end(b, f);
	}
	nlb_nest_end(b, concat);
	nlb_nest_end(b, desc);
}

void nftmsg_newset(struct nlb *b, const struct nftmsg_set *s)
{
	if (s->nfields > NFTMSG_MAX_FIELDS) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	put_nft(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	nlb_put_strz(b, NFTA_SET_TABLE, s->table);
	nlb_put_strz(b, NFTA_SET_NAME, s->name);
	nlb_put_be32(b, NFTA_SET_FLAGS, s->flags);
	nlb_put_be32(b, NFTA_SET_KEY_TYPE, s->key_type);
	nlb_put_be32(b, NFTA_SET_KEY_LEN, s->key_len);
	if (s->flags & NFT_SET_MAP) {
		nlb_put_be32(b, NFTA_SET_DATA_TYPE, s->data_type);
		/* the kernel sizes verdict data itself and wants DATA_LEN only for values */
		if (s->data_type != NFT_DATA_VERDICT)
			nlb_put_be32(b, NFTA_SET_DATA_LEN, s->data_len);
	}
	if (s->nfields)
		put_set_desc(b, s);
	nlb_put_be32(b, NFTA_SET_ID, s->id);
}

/* attr { NFTA_DATA_VALUE bytes } */
static void put_data(struct nlb *b, uint16_t attr, const void *data, size_t len)
{
	struct nlattr *n = nlb_nest_start(b, attr);

	nlb_put(b, NFTA_DATA_VALUE, data, len);
	nlb_nest_end(b, n);
}

/* attr { NFTA_DATA_VERDICT { CODE, [CHAIN] } } */
static void put_verdict_data(struct nlb *b, uint16_t attr, int32_t verdict, const char *chain)
{
	struct nlattr *n, *v;

	n = nlb_nest_start(b, attr);
	v = nlb_nest_start(b, NFTA_DATA_VERDICT);
	nlb_put_be32(b, NFTA_VERDICT_CODE, (uint32_t)verdict);
	if (chain)
		nlb_put_strz(b, NFTA_VERDICT_CHAIN, chain);
	nlb_nest_end(b, v);
	nlb_nest_end(b, n);
}

struct nlattr *nftmsg_elems_begin(struct nlb *b, int msg, const char *table, const char *set,
				  uint32_t set_id)
{
	put_nft(b, msg, msg == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_TABLE, table);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_SET, set);
	if (set_id)
		nlb_put_be32(b, NFTA_SET_ELEM_LIST_SET_ID, set_id);
	return nlb_nest_start(b, NFTA_SET_ELEM_LIST_ELEMENTS);
}

void nftmsg_elem(struct nlb *b, const struct nftmsg_elem *e)
{
	struct nlattr *n = nlb_nest_start(b, NFTA_LIST_ELEM);

	put_data(b, NFTA_SET_ELEM_KEY, e->key, e->key_len);
	if (e->key_end)
		put_data(b, NFTA_SET_ELEM_KEY_END, e->key_end, e->key_end_len);
	if (e->flags)
		nlb_put_be32(b, NFTA_SET_ELEM_FLAGS, e->flags);
	if (e->data)
		put_data(b, NFTA_SET_ELEM_DATA, e->data, e->data_len);
	else if (e->has_verdict)
		put_verdict_data(b, NFTA_SET_ELEM_DATA, e->verdict, e->chain);
	nlb_nest_end(b, n);
}

void nftmsg_elems_end(struct nlb *b, struct nlattr *list)
{
	nlb_nest_end(b, list);
}

struct nlattr *nftmsg_rule_begin(struct nlb *b, const char *table, const char *chain)
{
	put_nft(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	nlb_put_strz(b, NFTA_RULE_TABLE, table);
	nlb_put_strz(b, NFTA_RULE_CHAIN, chain);
	return nlb_nest_start(b, NFTA_RULE_EXPRESSIONS);
}

void nftmsg_rule_end(struct nlb *b, struct nlattr *exprs)
{
	nlb_nest_end(b, exprs);
}

/* NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA { ... } }: returns both nests in one go. */
struct expr {
	struct nlattr *elem, *data;
};

static struct expr expr_start(struct nlb *b, const char *name)
{
	struct expr x;

	x.elem = nlb_nest_start(b, NFTA_LIST_ELEM);
	nlb_put_strz(b, NFTA_EXPR_NAME, name);
	x.data = nlb_nest_start(b, NFTA_EXPR_DATA);
	return x;
}

static void expr_end(struct nlb *b, struct expr x)
{
	nlb_nest_end(b, x.data);
	nlb_nest_end(b, x.elem);
}

void nftmsg_meta(struct nlb *b, uint32_t key, uint32_t dreg)
{
	struct expr x = expr_start(b, "meta");

	nlb_put_be32(b, NFTA_META_DREG, dreg);
	nlb_put_be32(b, NFTA_META_KEY, key);
	expr_end(b, x);
}

void nftmsg_payload(struct nlb *b, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg)
{
	struct expr x = expr_start(b, "payload");

	nlb_put_be32(b, NFTA_PAYLOAD_DREG, dreg);
	nlb_put_be32(b, NFTA_PAYLOAD_BASE, base);
	nlb_put_be32(b, NFTA_PAYLOAD_OFFSET, offset);
	nlb_put_be32(b, NFTA_PAYLOAD_LEN, len);
	expr_end(b, x);
}

void nftmsg_cmp(struct nlb *b, uint32_t op, uint32_t sreg, const void *data, size_t len)
{
	struct expr x = expr_start(b, "cmp");

	nlb_put_be32(b, NFTA_CMP_SREG, sreg);
	nlb_put_be32(b, NFTA_CMP_OP, op);
	put_data(b, NFTA_CMP_DATA, data, len);
	expr_end(b, x);
}

void nftmsg_bitwise(struct nlb *b, uint32_t sreg, uint32_t dreg, const void *mask,
		    const void *xor, size_t len)
{
	struct expr x = expr_start(b, "bitwise");

	nlb_put_be32(b, NFTA_BITWISE_SREG, sreg);
	nlb_put_be32(b, NFTA_BITWISE_DREG, dreg);
	nlb_put_be32(b, NFTA_BITWISE_LEN, (uint32_t)len);
	put_data(b, NFTA_BITWISE_MASK, mask, len);
	put_data(b, NFTA_BITWISE_XOR, xor, len);
	expr_end(b, x);
}

void nftmsg_lookup(struct nlb *b, const char *set, uint32_t set_id, uint32_t sreg, int dreg,
		   uint32_t flags)
{
	struct expr x = expr_start(b, "lookup");

	nlb_put_strz(b, NFTA_LOOKUP_SET, set);
	if (set_id)
		nlb_put_be32(b, NFTA_LOOKUP_SET_ID, set_id);
	nlb_put_be32(b, NFTA_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nlb_put_be32(b, NFTA_LOOKUP_DREG, (uint32_t)dreg);
	if (flags)
		nlb_put_be32(b, NFTA_LOOKUP_FLAGS, flags);
	expr_end(b, x);
}

void nftmsg_ct(struct nlb *b, uint32_t key, uint32_t dreg)
{
	struct expr x = expr_start(b, "ct");

	nlb_put_be32(b, NFTA_CT_DREG, dreg);
	nlb_put_be32(b, NFTA_CT_KEY, key);
	expr_end(b, x);
}

void nftmsg_verdict(struct nlb *b, int32_t verdict, const char *chain)
{
	struct expr x = expr_start(b, "immediate");

	nlb_put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	put_verdict_data(b, NFTA_IMMEDIATE_DATA, verdict, chain);
	expr_end(b, x);
}

void nftmsg_immediate(struct nlb *b, uint32_t dreg, const void *data, size_t len)
{
	struct expr x = expr_start(b, "immediate");

	nlb_put_be32(b, NFTA_IMMEDIATE_DREG, dreg);
	put_data(b, NFTA_IMMEDIATE_DATA, data, len);
	expr_end(b, x);
}

/* No initial values: the kernel starts the counter at zero. */
void nftmsg_counter(struct nlb *b)
{
	struct expr x = expr_start(b, "counter");

	expr_end(b, x);
}
