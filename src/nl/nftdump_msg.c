// SPDX-License-Identifier: MIT
/*
 * nftdump_msg.c: nftdump_parse(), the decoding of the five kinds of nf_tables reply message
 * (NEWTABLE, NEWCHAIN, NEWSET, NEWSETELEM, NEWRULE) into struct nftdump_msg. Plain attributes
 * are read from one table per kind; the nests (chain hook, set description, the element and
 * expression lists) by hand. Replies are untrusted: every length is checked before a read,
 * and a list is accepted only when every byte of it is a well-formed NFTA_LIST_ELEM.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "nftdump.h"
#include "nftdump_int.h"
#include "nlmsg.h"

/* Large enough for every NFTA_*_MAX we index (NFTA_SET_MAX is the largest, 18 or so). */
#define TB_MAX 31

enum { F_STR, F_BE32, F_BE64 };

/* One top-level attribute of a message and where it goes in struct nftdump_msg. */
struct field {
	uint16_t type;
	uint8_t kind;
	bool required;
	size_t off;
	const char *what;
};

struct kind {
	int type;
	unsigned maxtype;
	const struct field *fields;
	size_t nfields;
	const char *name;
};

_Static_assert(NFTA_SET_MAX <= TB_MAX && NFTA_CHAIN_MAX <= TB_MAX && NFTA_RULE_MAX <= TB_MAX,
	       "attribute table too small");

#define FLD(t, k, req, m) { t, k, req, offsetof(struct nftdump_msg, m), #m }

static const struct field table_fields[] = {
	FLD(NFTA_TABLE_NAME, F_STR, true, name),
	FLD(NFTA_TABLE_FLAGS, F_BE32, false, flags),
	FLD(NFTA_TABLE_USE, F_BE32, false, use),
	FLD(NFTA_TABLE_HANDLE, F_BE64, false, handle),
};

static const struct field chain_fields[] = {
	FLD(NFTA_CHAIN_TABLE, F_STR, true, table),
	FLD(NFTA_CHAIN_NAME, F_STR, true, name),
	FLD(NFTA_CHAIN_HANDLE, F_BE64, false, handle),
	FLD(NFTA_CHAIN_USE, F_BE32, false, use),
	FLD(NFTA_CHAIN_POLICY, F_BE32, false, policy),
	FLD(NFTA_CHAIN_TYPE, F_STR, false, chain_type),
	FLD(NFTA_CHAIN_FLAGS, F_BE32, false, flags),
};

static const struct field set_fields[] = {
	FLD(NFTA_SET_TABLE, F_STR, true, table),
	FLD(NFTA_SET_NAME, F_STR, true, name),
	FLD(NFTA_SET_FLAGS, F_BE32, false, flags),
	FLD(NFTA_SET_KEY_TYPE, F_BE32, false, key_type),
	FLD(NFTA_SET_KEY_LEN, F_BE32, true, key_len),
	FLD(NFTA_SET_DATA_TYPE, F_BE32, false, data_type),
	FLD(NFTA_SET_DATA_LEN, F_BE32, false, data_len),
	FLD(NFTA_SET_POLICY, F_BE32, false, set_policy),
	FLD(NFTA_SET_HANDLE, F_BE64, false, handle),
	FLD(NFTA_SET_TIMEOUT, F_BE64, false, timeout),
	FLD(NFTA_SET_GC_INTERVAL, F_BE32, false, gc_interval),
};

static const struct field elem_fields[] = {
	FLD(NFTA_SET_ELEM_LIST_TABLE, F_STR, true, table),
	FLD(NFTA_SET_ELEM_LIST_SET, F_STR, true, name),
};

static const struct field rule_fields[] = {
	FLD(NFTA_RULE_TABLE, F_STR, true, table),
	FLD(NFTA_RULE_CHAIN, F_STR, true, name),
	FLD(NFTA_RULE_HANDLE, F_BE64, false, handle),
};

static void get_field(struct nftdump_out *o, const struct nlattr *a, const struct field *f,
		      const char *kind, struct nftdump_msg *m)
{
	void *dst = (char *)m + f->off;
	const char *s;
	int r = 0;

	if (f->kind == F_STR) {
		s = nla_get_strz(a);
		r = s ? 0 : -EINVAL;
		memcpy(dst, &s, sizeof(s));
	} else if (f->kind == F_BE32) {
		r = nla_get_be32(a, dst);
	} else {
		r = nla_get_be64(a, dst);
	}
	if (r)
		nftdump_fail(o, a, "%s %s: attribute %u is not a %s", kind, f->what, f->type,
			     f->kind == F_STR ? "string" : f->kind == F_BE32 ? "be32" : "be64");
}

static void get_fields(struct nftdump_out *o, const struct nlattr **tb, const struct kind *k,
		       struct nftdump_msg *m)
{
	const struct field *f = k->fields;

	for (size_t i = 0; i < k->nfields && !o->err; i++) {
		if (tb[f[i].type])
			get_field(o, tb[f[i].type], &f[i], k->name, m);
		else if (f[i].required)
			nftdump_fail(o, o->nlh, "%s %s (attribute %u) missing", k->name, f[i].what,
				     f[i].type);
	}
}

static void get_hook(struct nftdump_out *o, const struct nlattr *hook, struct nftdump_msg *m)
{
	const struct nlattr *tb[NFTA_HOOK_MAX + 1];

	if (nla_parse_nested(tb, NFTA_HOOK_MAX, hook)) {
		nftdump_fail(o, hook, "chain hook: malformed attributes");
		return;
	}
	m->has_hook = true;
	m->hooknum = nftdump_be32(o, tb[NFTA_HOOK_HOOKNUM], hook, "hook number");
	m->priority = (int32_t)nftdump_be32(o, tb[NFTA_HOOK_PRIORITY], hook, "hook priority");
	if (tb[NFTA_HOOK_DEV] && !(m->dev = nla_get_strz(tb[NFTA_HOOK_DEV])))
		nftdump_fail(o, tb[NFTA_HOOK_DEV], "hook device is not a string");
}

static void get_concat(struct nftdump_out *o, const struct nlattr *concat, struct nftdump_msg *m)
{
	const struct nlattr *tb[NFTA_SET_FIELD_MAX + 1], *a;
	size_t left;

	for_each_nla(a, nla_data(concat), nla_datalen(concat), left) {
		if (nla_type(a) != NFTA_LIST_ELEM || m->nfields == NFTDUMP_MAX_FIELDS ||
		    nla_parse_nested(tb, NFTA_SET_FIELD_MAX, a)) {
			nftdump_fail(o, a, "set field list: bad entry");
			return;
		}
		m->fields[m->nfields++] = nftdump_be32(o, tb[NFTA_SET_FIELD_LEN], a, "field length");
	}
	if (left)
		nftdump_fail(o, concat, "set field list: malformed");
}

static void get_desc(struct nftdump_out *o, const struct nlattr *desc, struct nftdump_msg *m)
{
	const struct nlattr *tb[NFTA_SET_DESC_MAX + 1];

	if (nla_parse_nested(tb, NFTA_SET_DESC_MAX, desc)) {
		nftdump_fail(o, desc, "set description: malformed attributes");
		return;
	}
	nftdump_opt_be32(o, tb[NFTA_SET_DESC_SIZE], &m->size, "set size");
	if (tb[NFTA_SET_DESC_CONCAT])
		get_concat(o, tb[NFTA_SET_DESC_CONCAT], m);
}

/* A list of NFTA_LIST_ELEM nests; for rules each must name its expression. */
static void get_list(struct nftdump_out *o, const struct nlattr *list, bool exprs,
		     struct nftdump_msg *m)
{
	const struct nlattr *tb[NFTA_EXPR_MAX + 1], *a;
	size_t left;

	for_each_nla(a, nla_data(list), nla_datalen(list), left) {
		if (nla_type(a) != NFTA_LIST_ELEM || nla_parse_nested(tb, NFTA_EXPR_MAX, a) ||
		    (exprs && !nla_get_strz(tb[NFTA_EXPR_NAME]))) {
			nftdump_fail(o, a, "%s list: bad entry", exprs ? "expression" : "element");
			return;
		}
	}
	if (left)
		nftdump_fail(o, list, "%s list: malformed", exprs ? "expression" : "element");
	m->list = list;
}

static const struct kind kinds[] = {
	{ NFT_MSG_NEWTABLE, NFTA_TABLE_MAX, table_fields, ARRAY_SIZE(table_fields), "table" },
	{ NFT_MSG_NEWCHAIN, NFTA_CHAIN_MAX, chain_fields, ARRAY_SIZE(chain_fields), "chain" },
	{ NFT_MSG_NEWSET, NFTA_SET_MAX, set_fields, ARRAY_SIZE(set_fields), "set" },
	{ NFT_MSG_NEWSETELEM, NFTA_SET_ELEM_LIST_MAX, elem_fields, ARRAY_SIZE(elem_fields),
	  "elements" },
	{ NFT_MSG_NEWRULE, NFTA_RULE_MAX, rule_fields, ARRAY_SIZE(rule_fields), "rule" },
};

static const struct kind *kind_of(const struct nlmsghdr *nlh)
{
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (kinds[i].type == NFNL_MSG_TYPE(nlh->nlmsg_type))
			return &kinds[i];
	}
	return NULL;
}

/* The parts that are not plain fields: nests, by kind. */
static void get_nests(struct nftdump_out *o, const struct nlattr **tb, struct nftdump_msg *m)
{
	if (m->type == NFT_MSG_NEWCHAIN && tb[NFTA_CHAIN_HOOK])
		get_hook(o, tb[NFTA_CHAIN_HOOK], m);
	if (m->type == NFT_MSG_NEWSET && tb[NFTA_SET_DESC])
		get_desc(o, tb[NFTA_SET_DESC], m);
	if (m->type == NFT_MSG_NEWSETELEM && tb[NFTA_SET_ELEM_LIST_ELEMENTS])
		get_list(o, tb[NFTA_SET_ELEM_LIST_ELEMENTS], false, m);
	if (m->type == NFT_MSG_NEWRULE && tb[NFTA_RULE_EXPRESSIONS])
		get_list(o, tb[NFTA_RULE_EXPRESSIONS], true, m);
}

int nftdump_parse(const struct nlmsghdr *nlh, struct nftdump_msg *m, struct ebuf *eb)
{
	const struct kind *k = kind_of(nlh);
	const struct nlattr *tb[TB_MAX + 1];
	struct nftdump_out o = { .nlh = nlh, .eb = eb };
	const uint8_t *g;

	memset(m, 0, sizeof(*m));
	if (!k)
		return -ENOENT;
	if (nlmsg_parse(tb, k->maxtype, nlh, sizeof(struct nfgenmsg))) {
		nftdump_fail(&o, nlh, "%s message: malformed header or attributes", k->name);
		return o.err;
	}
	g = nlmsg_data(nlh);
	m->type = k->type;
	m->family = g[0];
	/* res_id: big-endian, as nfnetlink puts it */
	m->gen = (uint16_t)(g[2] << 8 | g[3]);
	get_fields(&o, tb, k, m);
	if (m->type == NFT_MSG_NEWTABLE)
		m->table = m->name;
	if (!o.err)
		get_nests(&o, tb, m);
	return o.err;
}
