/* SPDX-License-Identifier: MIT */
/*
 * nftmsg.h: builders of nf_tables request messages into a struct nlb, for one nfnetlink batch
 * (BEGIN ... END, sent by nlsock_batch()). Pure: no I/O, no allocation.
 *
 * Every message carries NLM_F_REQUEST and an nfgenmsg (version NFNETLINK_V0, res_id 0) of
 * family NFPROTO_INET: we own one inet table. Integer attributes are written big-endian, as
 * nf_tables reads them; callers pass host-order numbers. Byte strings (keys, cmp data, masks)
 * go to the kernel as given: they are compared with packet bytes (network order) or with what
 * an expression stores in a register (ct state and meta values are host order there).
 * Strings are NUL-terminated. Errors are the nlb's: sticky, checked once with nlb_err().
 *
 * Rules: nftmsg_rule_begin() opens the message and its expression list, then one call per
 * expression, then nftmsg_rule_end(). Set elements: nftmsg_elems_begin(), nftmsg_elem() per
 * element, nftmsg_elems_end(). Registers are the uapi's: NFT_REG_VERDICT, NFT_REG_1..4 (16 bytes)
 * or NFT_REG32_00..15 (4 bytes, for concatenated keys). Set ids (NFTA_SET_ID) let later
 * messages of the same batch find a set by id as well as by name; 0 means "not given".
 *
 * Where nft 1.0.6 is the reference (a ruleset we build must list exactly as the same ruleset
 * loaded with `nft -f`), the builders can write what nft writes beyond what the kernel needs:
 * set userdata (key and data byte order, typeof) that nft reads back to print keys.
 */
#ifndef VIRGIL_NFTMSG_H
#define VIRGIL_NFTMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

struct nlb;
struct nlattr;
struct nlmsghdr;

/* nft's datatype ids (NFTA_SET_KEY_TYPE), informational for nft list; concat: 6 bits each. */
enum {
	NFTMSG_TYPE_VERDICT = 1,
	NFTMSG_TYPE_INTEGER = 4,
	NFTMSG_TYPE_IPV4 = 7,
	NFTMSG_TYPE_IPV6 = 8,
	NFTMSG_TYPE_INET_PROTO = 12,
	NFTMSG_TYPE_INET_SERVICE = 13,
};
#define NFTMSG_CONCAT_BITS 6
#define NFTMSG_MAX_FIELDS 8

void nftmsg_batch_begin(struct nlb *b);
/* BEGIN carrying NFNL_BATCH_GENID: the kernel refuses the whole batch with -ERESTART unless
 * genid is still the namespace's nf_tables generation (read with nftmsg_getgen()). */
void nftmsg_batch_begin_genid(struct nlb *b, uint32_t genid);
void nftmsg_batch_end(struct nlb *b);

/* NFT_MSG_GETGEN, sent alone (nlsock_talk, not in a batch); the kernel answers NFT_MSG_NEWGEN.
 * nftmsg_gen_parse() takes that answer: 0 and *genid, -ENOMSG for another message type,
 * -EINVAL when malformed. nlh must have passed nlmsg_ok(). */
void nftmsg_getgen(struct nlb *b);
int nftmsg_gen_parse(const struct nlmsghdr *nlh, uint32_t *genid);

/* NEWTABLE with NLM_F_CREATE (an existing table is left as it is); DELTABLE (ENOENT if absent). */
void nftmsg_newtable(struct nlb *b, const char *name);
void nftmsg_deltable(struct nlb *b, const char *name);

/* A base chain's hook: NF_INET_* hook, signed priority (NF_IP_PRI_FILTER = 0), NF_ACCEPT or
 * NF_DROP policy, chain type ("filter", "nat", "route"). */
struct nftmsg_hook {
	uint32_t hooknum;
	int32_t priority;
	uint32_t policy;
	const char *type;
};

/* NEWCHAIN with NLM_F_CREATE; hook NULL makes a regular chain (a jump/goto target). */
void nftmsg_newchain(struct nlb *b, const char *table, const char *name,
		     const struct nftmsg_hook *hook);
/* DELCHAIN: EBUSY while a rule or a verdict-map element still jumps to it (one removed earlier
 * in the same batch no longer counts); its own rules go with it. ENOENT if absent. */
void nftmsg_delchain(struct nlb *b, const char *table, const char *name);
/* DELRULE of one rule by handle; handle 0 flushes every rule of the chain. */
void nftmsg_delrule(struct nlb *b, const char *table, const char *chain, uint64_t handle);

struct nftmsg_set {
	const char *table;
	const char *name;
	uint32_t id;            /* NFTA_SET_ID: required by the kernel, unique in the batch */
	uint32_t flags;         /* NFT_SET_INTERVAL, NFT_SET_MAP, NFT_SET_CONCAT... */
	uint32_t key_type;      /* NFTMSG_TYPE_* (packed for concatenations) */
	uint32_t key_len;       /* bytes; for concatenations the sum of 4-byte-rounded fields */
	uint32_t data_type;     /* maps only: NFT_DATA_VERDICT or an NFTMSG_TYPE_* */
	uint32_t data_len;      /* maps with value data only (ignored for verdicts) */
	size_t nfields;         /* > 0: NFTA_SET_DESC_CONCAT with these field lengths */
	uint32_t fields[NFTMSG_MAX_FIELDS];
	/* NFTA_SET_USERDATA as nft 1.0.6 writes it for a set declared with `type`: the key's
	 * byte order (from key_type; none for a concatenation, which gets an empty typeof
	 * record instead) and, for maps, the data's (verdicts: none) and "data interval" 0. */
	bool nft_udata;
};

/* NEWSET with NLM_F_CREATE. nfields > NFTMSG_MAX_FIELDS is -EINVAL in the nlb. */
void nftmsg_newset(struct nlb *b, const struct nftmsg_set *s);
/* DELSET: EBUSY while a rule looks it up (a rule removed earlier in the batch no longer does). */
void nftmsg_delset(struct nlb *b, const char *table, const char *name);

/* One set element. key_end: the inclusive end of a concatenated range (pipapo), else NULL.
 * flags: NFT_SET_ELEM_INTERVAL_END for the exclusive end of a 1-D range (rbtree). Map data:
 * data (value maps) or, when data is NULL and verdict is set, a verdict: NF_ACCEPT, NF_DROP,
 * NFT_JUMP or NFT_GOTO with chain, NFT_RETURN. */
struct nftmsg_elem {
	const void *key;
	size_t key_len;
	const void *key_end;
	size_t key_end_len;
	uint32_t flags;
	const void *data;
	size_t data_len;
	bool has_verdict;
	int32_t verdict;
	const char *chain;
};

/* msg is NFT_MSG_NEWSETELEM (NLM_F_CREATE) or NFT_MSG_DELSETELEM. Returns the open element
 * list for nftmsg_elems_end(), NULL on error. */
struct nlattr *nftmsg_elems_begin(struct nlb *b, int msg, const char *table, const char *set,
				  uint32_t set_id);
void nftmsg_elem(struct nlb *b, const struct nftmsg_elem *e);
void nftmsg_elems_end(struct nlb *b, struct nlattr *list);
/* DELSETELEM without an element list: empties the set (in the batch's transaction). */
void nftmsg_flushset(struct nlb *b, const char *table, const char *set);
/* In an element message (as built here), the NFTA_LIST_ELEM holding byte off, counted from
 * the netlink header (where an extended ack points); NULL if none. nlh passed nlmsg_ok(). */
const struct nlattr *nftmsg_elem_at(const struct nlmsghdr *nlh, uint32_t off);

/* NEWRULE appended to chain (NLM_F_CREATE | NLM_F_APPEND). Returns the open expression list
 * for nftmsg_rule_end(), NULL on error. */
struct nlattr *nftmsg_rule_begin(struct nlb *b, const char *table, const char *chain);
void nftmsg_rule_end(struct nlb *b, struct nlattr *exprs);

/* Expressions, in a rule between begin and end. */
void nftmsg_meta(struct nlb *b, uint32_t key, uint32_t dreg);       /* NFT_META_IIFNAME... */
void nftmsg_payload(struct nlb *b, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg);
void nftmsg_cmp(struct nlb *b, uint32_t op, uint32_t sreg, const void *data, size_t len);
/* dreg = (sreg & mask) ^ xor over len bytes; mask and xor are len bytes each. */
void nftmsg_bitwise(struct nlb *b, uint32_t sreg, uint32_t dreg, const void *mask,
		    const void *xor, size_t len);
/* dreg < 0: a set membership test (flags NFT_LOOKUP_F_INV inverts it); else a map lookup
 * whose data goes to dreg (NFT_REG_VERDICT for a verdict map). set_id 0 is left out. */
void nftmsg_lookup(struct nlb *b, const char *set, uint32_t set_id, uint32_t sreg, int dreg,
		   uint32_t flags);
void nftmsg_ct(struct nlb *b, uint32_t key, uint32_t dreg);         /* NFT_CT_STATE... */
/* Verdict: NF_ACCEPT, NF_DROP, NFT_RETURN, or NFT_JUMP/NFT_GOTO with chain (else NULL). */
void nftmsg_verdict(struct nlb *b, int32_t verdict, const char *chain);
void nftmsg_immediate(struct nlb *b, uint32_t dreg, const void *data, size_t len);
void nftmsg_counter(struct nlb *b);
/* from <= sreg <= to (NFT_RANGE_EQ) or outside (NFT_RANGE_NEQ); from and to are len bytes. */
void nftmsg_range(struct nlb *b, uint32_t op, uint32_t sreg, const void *from, const void *to,
		  size_t len);
/* Byte order conversion in place or between registers: op NFT_BYTEORDER_NTOH/HTON, len bytes
 * in units of size (2, 4, 8). nft emits hton(reg, 2, 1) for `meta l4proto` in a concatenated
 * interval key, a no-op the kernel accepts; we copy it so nft lists our rule as its own. */
void nftmsg_byteorder(struct nlb *b, uint32_t op, uint32_t sreg, uint32_t dreg, uint32_t len,
		      uint32_t size);
/* reject: NFT_REJECT_ICMP_UNREACH / TCP_RST / ICMPX_UNREACH with an ICMP(X) code (0 for RST). */
void nftmsg_reject(struct nlb *b, uint32_t type, uint8_t code);
/* masquerade in a nat chain; flags NF_NAT_RANGE_* (0: the attribute is left out, as nft does). */
void nftmsg_masq(struct nlb *b, uint32_t flags);
/* snat/dnat: addresses and ports from registers (0: that attribute is left out). */
struct nftmsg_nat {
	uint32_t type;          /* NFT_NAT_SNAT, NFT_NAT_DNAT */
	uint32_t family;        /* NFPROTO_IPV4, NFPROTO_IPV6 */
	uint32_t reg_addr_min, reg_addr_max;
	uint32_t reg_proto_min, reg_proto_max;
	uint32_t flags;         /* NF_NAT_RANGE_*; 0 left out */
};
void nftmsg_nat(struct nlb *b, const struct nftmsg_nat *n);

#endif
