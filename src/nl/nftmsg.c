// SPDX-License-Identifier: MIT
/*
 * nftmsg.c: nf_tables request messages built into a struct nlb: batch markers, tables,
 * chains, sets, set elements and rules with one put function per expression, each mirroring
 * the attribute nesting the kernel parses (net/netfilter/nf_tables_api.c, nft_*.c). Integer
 * attributes go through nlb_put_be32/be64 only: nf_tables reads every one with ntohl().
 */
#include <errno.h>
#include <string.h>
#include <linux/netfilter/nfnetlink.h>

#include "nftmsg.h"
#include "nlmsg.h"

static void put_nft(struct nlb *b, int msg, uint16_t flags)
{
	nlb_nfmsg(b, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | msg), flags, NFPROTO_INET, 0);
}

/* The markers name the subsystem in res_id; the kernel rejects a batch for another one. */
void nftmsg_batch_begin(struct nlb *b)
{
	nlb_nfmsg(b, NFNL_MSG_BATCH_BEGIN, 0, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
}

void nftmsg_batch_begin_genid(struct nlb *b, uint32_t genid)
{
	nftmsg_batch_begin(b);
	nlb_put_be32(b, NFNL_BATCH_GENID, genid);
}

void nftmsg_batch_end(struct nlb *b)
{
	nlb_nfmsg(b, NFNL_MSG_BATCH_END, 0, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
}

void nftmsg_getgen(struct nlb *b)
{
	nlb_nfmsg(b, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETGEN), 0, NFPROTO_UNSPEC, 0);
}

int nftmsg_gen_parse(const struct nlmsghdr *nlh, uint32_t *genid)
{
	const struct nlattr *tb[NFTA_GEN_MAX + 1];

	if (nlh->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN))
		return -ENOMSG;
	if (nlmsg_parse(tb, NFTA_GEN_MAX, nlh, sizeof(struct nfgenmsg)) ||
	    nla_get_be32(tb[NFTA_GEN_ID], genid))
		return -EINVAL;
	return 0;
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

void nftmsg_delchain(struct nlb *b, const char *table, const char *name)
{
	put_nft(b, NFT_MSG_DELCHAIN, 0);
	nlb_put_strz(b, NFTA_CHAIN_TABLE, table);
	nlb_put_strz(b, NFTA_CHAIN_NAME, name);
}

void nftmsg_delrule(struct nlb *b, const char *table, const char *chain, uint64_t handle)
{
	put_nft(b, NFT_MSG_DELRULE, 0);
	nlb_put_strz(b, NFTA_RULE_TABLE, table);
	nlb_put_strz(b, NFTA_RULE_CHAIN, chain);
	if (handle)
		nlb_put_be64(b, NFTA_RULE_HANDLE, handle);
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

/*
 * libnftnl's userdata records: u8 type, u8 length, value; u32 values in host order. The type
 * numbers are libnftnl's enum nftnl_udata_set_types; 13 is nft 1.0.6's expression type of a
 * concatenation, which nft records (with no fields) for a `type a . b` key.
 */
enum { UD_KEYBYTEORDER = 0, UD_DATABYTEORDER = 1, UD_KEY_TYPEOF = 3, UD_DATA_INTERVAL = 6 };
enum { UD_TYPEOF_EXPR = 0, UD_TYPEOF_DATA = 1, UD_EXPR_CONCAT = 13 };
enum { UD_BO_INVALID = 0, UD_BO_HOST = 1, UD_BO_BIG = 2 };

static size_t ud_u32(uint8_t *p, uint8_t type, uint32_t v)
{
	p[0] = type;
	p[1] = sizeof(v);
	memcpy(p + 2, &v, sizeof(v));
	return 2 + sizeof(v);
}

/* nft's datatype byte orders, for the key types we name. */
static uint32_t key_byteorder(uint32_t key_type)
{
	switch (key_type) {
	case NFTMSG_TYPE_IPV4:
	case NFTMSG_TYPE_IPV6:
	case NFTMSG_TYPE_INET_SERVICE:
		return UD_BO_BIG;
	case NFTMSG_TYPE_INTEGER:
		return UD_BO_HOST;
	default:
		return UD_BO_INVALID;
	}
}

static void put_set_udata(struct nlb *b, const struct nftmsg_set *s)
{
	bool concat = s->key_type >> NFTMSG_CONCAT_BITS != 0;
	uint8_t u[32];
	size_t n;

	n = ud_u32(u, UD_KEYBYTEORDER, concat ? UD_BO_INVALID : key_byteorder(s->key_type));
	if (s->flags & NFT_SET_MAP)
		n += ud_u32(u + n, UD_DATABYTEORDER, s->data_type == NFT_DATA_VERDICT ?
			    UD_BO_INVALID : key_byteorder(s->data_type));
	if (concat) {
		u[n++] = UD_KEY_TYPEOF;
		u[n++] = 8;
		n += ud_u32(u + n, UD_TYPEOF_EXPR, UD_EXPR_CONCAT);
		u[n++] = UD_TYPEOF_DATA;
		u[n++] = 0;
	}
	if (s->flags & NFT_SET_MAP)
		n += ud_u32(u + n, UD_DATA_INTERVAL, 0);
	nlb_put(b, NFTA_SET_USERDATA, u, n);
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
	if (s->nft_udata)
		put_set_udata(b, s);
}

void nftmsg_delset(struct nlb *b, const char *table, const char *name)
{
	put_nft(b, NFT_MSG_DELSET, 0);
	nlb_put_strz(b, NFTA_SET_TABLE, table);
	nlb_put_strz(b, NFTA_SET_NAME, name);
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

void nftmsg_flushset(struct nlb *b, const char *table, const char *set)
{
	put_nft(b, NFT_MSG_DELSETELEM, 0);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_TABLE, table);
	nlb_put_strz(b, NFTA_SET_ELEM_LIST_SET, set);
}

const struct nlattr *nftmsg_elem_at(const struct nlmsghdr *nlh, uint32_t off)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1], *a, *l;
	size_t left, at;

	if (nlmsg_parse(tb, NFTA_SET_ELEM_LIST_MAX, nlh, sizeof(struct nfgenmsg)) ||
	    !(l = tb[NFTA_SET_ELEM_LIST_ELEMENTS]))
		return NULL;
	for_each_nla(a, nla_data(l), nla_datalen(l), left) {
		at = (size_t)((const char *)a - (const char *)nlh);
		if (off >= at && off - at < a->nla_len)
			return a;
	}
	return NULL;
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

void nftmsg_range(struct nlb *b, uint32_t op, uint32_t sreg, const void *from, const void *to,
		  size_t len)
{
	struct expr x = expr_start(b, "range");

	nlb_put_be32(b, NFTA_RANGE_SREG, sreg);
	nlb_put_be32(b, NFTA_RANGE_OP, op);
	put_data(b, NFTA_RANGE_FROM_DATA, from, len);
	put_data(b, NFTA_RANGE_TO_DATA, to, len);
	expr_end(b, x);
}

void nftmsg_byteorder(struct nlb *b, uint32_t op, uint32_t sreg, uint32_t dreg, uint32_t len,
		      uint32_t size)
{
	struct expr x = expr_start(b, "byteorder");

	nlb_put_be32(b, NFTA_BYTEORDER_SREG, sreg);
	nlb_put_be32(b, NFTA_BYTEORDER_DREG, dreg);
	nlb_put_be32(b, NFTA_BYTEORDER_OP, op);
	nlb_put_be32(b, NFTA_BYTEORDER_LEN, len);
	nlb_put_be32(b, NFTA_BYTEORDER_SIZE, size);
	expr_end(b, x);
}

/* The ICMP code is the one u8 attribute of nf_tables' expressions. */
void nftmsg_reject(struct nlb *b, uint32_t type, uint8_t code)
{
	struct expr x = expr_start(b, "reject");

	nlb_put_be32(b, NFTA_REJECT_TYPE, type);
	nlb_put_u8(b, NFTA_REJECT_ICMP_CODE, code);
	expr_end(b, x);
}

void nftmsg_masq(struct nlb *b, uint32_t flags)
{
	struct expr x = expr_start(b, "masq");

	if (flags)
		nlb_put_be32(b, NFTA_MASQ_FLAGS, flags);
	expr_end(b, x);
}

static void put_reg(struct nlb *b, uint16_t attr, uint32_t reg)
{
	if (reg)
		nlb_put_be32(b, attr, reg);
}

void nftmsg_nat(struct nlb *b, const struct nftmsg_nat *n)
{
	struct expr x = expr_start(b, "nat");

	nlb_put_be32(b, NFTA_NAT_TYPE, n->type);
	nlb_put_be32(b, NFTA_NAT_FAMILY, n->family);
	put_reg(b, NFTA_NAT_REG_ADDR_MIN, n->reg_addr_min);
	put_reg(b, NFTA_NAT_REG_ADDR_MAX, n->reg_addr_max);
	put_reg(b, NFTA_NAT_REG_PROTO_MIN, n->reg_proto_min);
	put_reg(b, NFTA_NAT_REG_PROTO_MAX, n->reg_proto_max);
	put_reg(b, NFTA_NAT_FLAGS, n->flags);
	expr_end(b, x);
}
