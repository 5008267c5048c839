/* SPDX-License-Identifier: MIT */
/*
 * nftdump.h: what nf_tables holds for one table, read back over netlink and rendered as stable
 * text, for golden tests of the ruleset Virgil programs and for operators (`virgil lab
 * ruleset NODE`). Owns the decoding of NEWTABLE/NEWCHAIN/NEWSET/NEWSETELEM/NEWRULE replies and
 * of every expression our builders emit, and the text format below.
 *
 * Format (one object per line, rules as blocks; deterministic for a given ruleset):
 *
 *   table inet virgil
 *   chain forward hook forward prio 0 policy accept type filter
 *   chain in-0123456789abcdef
 *   set ing4 flags map key ipv4_addr/4 data verdict
 *     elem 0a f4 01 05 (10.244.1.5) : goto -> in-0123456789abcdef
 *   set x4 flags interval,concat key ipv4_addr . inet_proto . inet_service/12 fields 4,1,2
 *     elem 0a f4 02 07 . 06 00 00 00 . 00 50 00 00 (10.244.2.7 . 6 . 80) - ... (... . 90)
 *   set r4 flags interval key ipv4_addr/4
 *     elem 0a 02 00 00 (10.2.0.0) interval-end
 *   set snat4 flags map key ipv4_addr/4 data ipv4_addr/4
 *     elem 0a 00 00 05 (10.0.0.5) : c0 a8 00 05 (192.168.0.5)
 *   rule forward
 *     [ ct load state => reg 1 ]
 *     [ cmp neq reg 1 0x00000000 ]
 *
 * Tables, then chains sorted by name, then sets sorted by name with their elements sorted by
 * key bytes, then rules grouped by chain name in the kernel's order within each chain.
 * Expression lines are libnftnl's (`nft --debug=netlink`): data as 32-bit words read
 * little-endian, as nft prints them on x86, whatever the host. An expression we do not decode
 * is `[ NAME TYPE=HEX ... ]`, its attributes raw. Element keys are hex bytes, one group per
 * field of a concatenation (each field padded to 4 bytes, as the kernel stores it), and also
 * values when the set's key type (NFTA_SET_KEY_TYPE) is ipv4_addr, ipv6_addr, inet_proto or
 * inet_service field by field; map data likewise, or a verdict. A catch-all element's key is
 * `*`. Handles, use counts and counter values are left out unless NFTDUMP_VOLATILE. Names
 * from the kernel are printed with spaces and control bytes replaced by '?'.
 */
#ifndef VIRGIL_NFTDUMP_H
#define VIRGIL_NFTDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct nlmsghdr;
struct nlattr;
struct nlb;
struct nlsock;
struct buf;
struct ebuf;

enum nftdump_flags {
	NFTDUMP_VOLATILE = 1,   /* handles, use counts, counter values */
};

/* Fields of a concatenated set key the kernel can describe (NFT_REG32_COUNT). */
#define NFTDUMP_MAX_FIELDS 16

/*
 * One reply message, decoded. Strings and list point into the message and live as long as
 * it does. Integers are host order. Only what the message carried is set; the rest is 0.
 */
struct nftdump_msg {
	int type;               /* NFT_MSG_NEWTABLE, _NEWCHAIN, _NEWSET, _NEWSETELEM, _NEWRULE */
	uint8_t family;         /* nfgen_family: NFPROTO_INET for ours */
	uint16_t gen;           /* res_id: the low 16 bits of the ruleset generation */
	const char *table;
	const char *name;       /* table, chain or set; a rule's chain; the set of elements */
	uint64_t handle;
	uint32_t use;
	uint32_t flags;         /* NFT_TABLE_F_*, NFT_CHAIN_*, NFT_SET_* */
	/* chains */
	bool has_hook;
	uint32_t hooknum;
	int32_t priority;
	uint32_t policy;
	const char *chain_type; /* "filter", "nat"... */
	const char *dev;
	/* sets */
	uint32_t key_type, key_len;
	uint32_t data_type, data_len;
	uint32_t size, set_policy, gc_interval;
	uint64_t timeout;
	size_t nfields;
	uint32_t fields[NFTDUMP_MAX_FIELDS];
	/* elements (NFTA_SET_ELEM_LIST_ELEMENTS), rules (NFTA_RULE_EXPRESSIONS), or NULL: a list
	 * of NFTA_LIST_ELEM nests, its framing checked, each expression named */
	const struct nlattr *list;
};

/*
 * Decode one message; pure. nlh must have passed nlmsg_ok(). Returns 0; -ENOENT for a message
 * that is not one of the five kinds (another subsystem, NEWGEN, NLMSG_DONE...); -EBADMSG when
 * it is malformed (an attribute of the wrong size, a string without NUL, a required attribute
 * missing, a list that is not a list), with the reason and byte offset in eb.
 */
int nftdump_parse(const struct nlmsghdr *nlh, struct nftdump_msg *m, struct ebuf *eb) __must_check;

/*
 * A collector: messages go in one at a time (nftdump_add), the text comes out once the dumps
 * are done (nftdump_render). table NULL keeps every table's objects; else only those of the
 * inet table of that name. Owned; nftdump_free() accepts NULL.
 */
struct nftdump;
struct nftdump *nftdump_new(const char *table, unsigned flags);
void nftdump_free(struct nftdump *d);
/* Drop everything collected (a dump to be redone). */
void nftdump_reset(struct nftdump *d);
/*
 * Decode and render one reply message into d: 0 (also for messages of other kinds or other
 * tables, which are skipped), -EBADMSG with the reason in eb (nothing of the message is
 * kept), -ENOMEM. Elements are rendered with what their set's message said: dump sets first.
 */
int nftdump_add(struct nftdump *d, const struct nlmsghdr *nlh, struct ebuf *eb) __must_check;
/* True when the messages added came from more than one ruleset generation. */
bool nftdump_mixed(const struct nftdump *d);
/* Append the text to out: 0 or -ENOMEM (out as it was). Sorts d's contents in place. */
int nftdump_render(struct nftdump *d, struct buf *out) __must_check;

/*
 * Render what a full-replace request batch (buf, len: a BATCH_BEGIN ... BATCH_END sequence as
 * sent) creates: its messages after the last NFT_MSG_DELTABLE, decoded as replies are, into
 * out, so it compares with nftdump_table()'s text of the same flags. 0, -EINVAL (no
 * DELTABLE, or a truncated message), -EBADMSG, -ENOMEM; eb says why, out is as it was.
 */
int nftdump_batch(const void *buf, size_t len, const char *table, unsigned flags,
		  struct buf *out, struct ebuf *eb) __must_check;

/*
 * A GET request (msg NFT_MSG_GETTABLE, _GETCHAIN, _GETSET, _GETSETELEM, _GETRULE) of family
 * inet for table, and for GETSETELEM the set. nlsock_dump()/nlsock_talk() add the flags.
 */
void nftdump_put_request(struct nlb *b, int msg, const char *table, const char *set);

/*
 * Read table (inet) in the namespace s was opened in (a NETLINK_NETFILTER socket) and append
 * its text to out. The table, its chains, sets, each set's elements and the rules are read
 * by separate requests: when they straddle a commit (their generations differ, or the kernel
 * flags a dump as interrupted) all is read again, up to NLSOCK_DUMP_RETRIES times, then
 * -EAGAIN. Returns 0, -ENOENT when the table does not exist, -EBADMSG for a reply we cannot
 * decode, -ENOMEM or the kernel's -errno; the reason is in eb, and out is as it was.
 */
int nftdump_table(struct nlsock *s, const char *table, unsigned flags, struct buf *out,
		  struct ebuf *eb) __must_check;

#endif
