// SPDX-License-Identifier: MIT
/*
 * nftdump_set.c: sets as nftdump prints them: the set line (flags, key and data types,
 * concatenation fields) and one line per element, its key in hex bytes grouped by field and,
 * where nft's datatype ids say what the bytes are, as values too. The ids are nft's
 * (src/datatype.h), which it stores in NFTA_SET_KEY_TYPE for its own listing; a concatenation
 * packs one id per field, 6 bits each, the first field highest.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter/nf_tables.h>

#include "../core/cidr.h"
#include "nftdump_int.h"
#include "nlmsg.h"

#define TYPE_BITS 6
/* 32 bits of type ids hold at most this many 6-bit fields */
#define MAX_TYPES ((32 + TYPE_BITS - 1) / TYPE_BITS)

enum {
	T_VERDICT = 1,
	T_INTEGER = 4,
	T_IPV4 = 7,
	T_IPV6 = 8,
	T_ETHER = 9,
	T_INET_PROTO = 12,
	T_INET_SERVICE = 13,
	T_MARK = 19,
};

static const struct {
	uint8_t id;
	uint8_t len;            /* natural length in bytes, 0 for variable */
	bool value;             /* printed as a value */
	const char *name;
} types[] = {
	{ T_VERDICT, 0, false, "verdict" },
	{ T_INTEGER, 0, false, "integer" },
	{ T_IPV4, 4, true, "ipv4_addr" },
	{ T_IPV6, 16, true, "ipv6_addr" },
	{ T_ETHER, 6, false, "ether_addr" },
	{ T_INET_PROTO, 1, true, "inet_proto" },
	{ T_INET_SERVICE, 2, true, "inet_service" },
	{ T_MARK, 4, false, "mark" },
};

static int type_index(uint8_t id)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if (types[i].id == id)
			return (int)i;
	}
	return -1;
}

/* The ids of a (packed) key type, first field first; 0 ids for an absent type. */
static size_t split_types(uint32_t t, uint8_t *out)
{
	uint8_t rev[MAX_TYPES];
	size_t n = 0;

	for (; t && n < MAX_TYPES; t >>= TYPE_BITS)
		rev[n++] = t & ((1u << TYPE_BITS) - 1);
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	return n;
}

static void put_types(struct nftdump_out *o, uint32_t t, uint32_t len)
{
	uint8_t id[MAX_TYPES];
	size_t n = split_types(t, id);
	int k;

	if (!n)
		nftdump_printf(o, "?");
	for (size_t i = 0; i < n; i++) {
		k = type_index(id[i]);
		if (k >= 0)
			nftdump_printf(o, "%s%s", i ? " . " : "", types[k].name);
		else
			nftdump_printf(o, "%stype%u", i ? " . " : "", id[i]);
	}
	nftdump_printf(o, "/%u", len);
}

static void put_flags(struct nftdump_out *o, uint32_t flags)
{
	static const char *const names[] = {
		"anonymous", "constant", "interval", "map", "timeout", "eval", "object", "concat",
		"expr",
	};
	const char *sep = " flags ";

	if (!flags)
		return;
	for (size_t i = 0; i < 32; i++) {
		if (!(flags & (1u << i)))
			continue;
		if (i < ARRAY_SIZE(names))
			nftdump_printf(o, "%s%s", sep, names[i]);
		else
			nftdump_printf(o, "%s0x%x", sep, 1u << i);
		sep = ",";
	}
}

void nftdump_set_line(struct nftdump_out *o, const struct nftdump_msg *s)
{
	nftdump_printf(o, "set ");
	nftdump_name(o, s->name);
	put_flags(o, s->flags);
	nftdump_printf(o, " key ");
	put_types(o, s->key_type, s->key_len);
	for (size_t i = 0; i < s->nfields; i++)
		nftdump_printf(o, "%s%u", i ? "," : " fields ", s->fields[i]);
	if (s->flags & NFT_SET_MAP && s->data_type == NFT_DATA_VERDICT) {
		nftdump_printf(o, " data verdict");
	} else if (s->flags & NFT_SET_MAP) {
		nftdump_printf(o, " data ");
		put_types(o, s->data_type, s->data_len);
	}
	if (s->size)
		nftdump_printf(o, " size %u", s->size);
	if (s->set_policy)
		nftdump_printf(o, " policy %s", s->set_policy == NFT_SET_POL_MEMORY ? "memory" : "?");
	if (s->timeout)
		nftdump_printf(o, " timeout %llums", (unsigned long long)s->timeout);
	if (s->gc_interval)
		nftdump_printf(o, " gc-interval %ums", s->gc_interval);
	if (o->flags & NFTDUMP_VOLATILE)
		nftdump_printf(o, " handle %llu", (unsigned long long)s->handle);
}

/* Lay out n fields: spans rounded to 4 when concatenated; false if they do not fill the key. */
static bool layout(struct nftdump_keyfmt *k)
{
	uint64_t sum = 0;

	if (k->n == 1) {
		k->span[0] = k->key_len;
		return k->len[0] == k->key_len;
	}
	for (size_t i = 0; i < k->n; i++) {
		if (!k->len[i] || k->len[i] > NFT_DATA_VALUE_MAXLEN)
			return false;
		k->span[i] = (k->len[i] + 3) & ~3u;
		sum += k->span[i];
	}
	return sum == k->key_len;
}

void nftdump_keyfmt(struct nftdump_keyfmt *k, uint32_t type, uint32_t len, size_t nfields,
		    const uint32_t *fields)
{
	uint8_t id[MAX_TYPES];
	size_t nt = split_types(type, id);
	int t;

	memset(k, 0, sizeof(*k));
	k->key_len = len;
	k->values = nt > 0;
	for (size_t i = 0; i < nt; i++) {
		t = type_index(id[i]);
		k->type[i] = id[i];
		k->len[i] = t >= 0 ? types[t].len : 0;
		k->values = k->values && t >= 0 && types[t].value;
	}
	k->n = nt;
	if (nfields > 1 && nfields <= NFTDUMP_MAX_FIELDS) {
		/* the kernel's own account of the fields wins over the types' natural lengths */
		k->values = k->values && nt == nfields;
		k->n = nfields;
		for (size_t i = 0; i < k->n; i++) {
			k->values = k->values && k->len[i] == fields[i];
			k->len[i] = fields[i];
		}
	}
	if (k->n == 0 || (k->n == 1 && !k->len[0])) {
		k->n = 1;
		k->len[0] = k->key_len;
		k->values = false;
	}
	if (!layout(k)) {
		k->n = 1;
		k->len[0] = k->span[0] = k->key_len;
		k->values = false;
	}
}

static void put_value(struct nftdump_out *o, uint8_t type, const uint8_t *p)
{
	struct ipaddr a = { .family = type == T_IPV4 ? AF_INET : AF_INET6 };
	char txt[IPADDR_STRLEN];

	switch (type) {
	case T_INET_PROTO:
		nftdump_printf(o, "%u", p[0]);
		break;
	case T_INET_SERVICE:
		nftdump_printf(o, "%u", (unsigned)p[0] << 8 | p[1]);
		break;
	default:
		memcpy(a.a, p, type == T_IPV4 ? 4 : 16);
		if (ipaddr_format(&a, txt, sizeof(txt)))
			txt[0] = '\0';
		nftdump_printf(o, "%s", txt);
	}
}

/* A key: bytes grouped by field, then " (values)" when its type says what they are. */
static void put_key(struct nftdump_out *o, const struct nlattr *nest,
		    const struct nftdump_keyfmt *k, const char *what)
{
	size_t n, off = 0;
	const uint8_t *p = nftdump_value(o, nest, &n, what);
	bool fits = k && n == k->key_len;

	if (!p)
		return;
	if (!fits) {
		nftdump_hex(o, p, n, NFTDUMP_BYTES);
		return;
	}
	for (size_t i = 0; i < k->n; off += k->span[i++]) {
		if (i)
			nftdump_printf(o, " .");
		nftdump_hex(o, p + off, k->span[i], NFTDUMP_BYTES);
	}
	if (!k->values)
		return;
	nftdump_printf(o, " (");
	off = 0;
	for (size_t i = 0; i < k->n; off += k->span[i++]) {
		nftdump_printf(o, "%s", i ? " . " : "");
		put_value(o, k->type[i], p + off);
	}
	nftdump_printf(o, ")");
}

/* Map data: a verdict, or a value shown like a key. */
static void put_data(struct nftdump_out *o, const struct nlattr *nest,
		     const struct nftdump_keyfmt *dk)
{
	const struct nlattr *tb[NFTA_DATA_MAX + 1];

	if (nla_parse_nested(tb, NFTA_DATA_MAX, nest))
		nftdump_fail(o, nest, "element data: malformed attributes");
	else if (tb[NFTA_DATA_VERDICT])
		nftdump_data(o, nest, NFTDUMP_BYTES, true, "element data");
	else
		put_key(o, nest, dk, "element data");
}

void nftdump_elem(struct nftdump_out *o, const struct nlattr *elem,
		  const struct nftdump_keyfmt *k, const struct nftdump_keyfmt *dk)
{
	const struct nlattr *tb[NFTA_SET_ELEM_MAX + 1];
	uint32_t flags = 0;
	uint64_t timeout = 0;

	if (nla_parse_nested(tb, NFTA_SET_ELEM_MAX, elem)) {
		nftdump_fail(o, elem, "element: malformed attributes");
		return;
	}
	nftdump_opt_be32(o, tb[NFTA_SET_ELEM_FLAGS], &flags, "element flags");
	if (tb[NFTA_SET_ELEM_TIMEOUT] && nla_get_be64(tb[NFTA_SET_ELEM_TIMEOUT], &timeout))
		nftdump_fail(o, tb[NFTA_SET_ELEM_TIMEOUT], "element timeout is not 8 bytes");
	nftdump_printf(o, "  elem");
	if (!tb[NFTA_SET_ELEM_KEY] && flags & NFT_SET_ELEM_CATCHALL)
		nftdump_printf(o, " *");
	else if (!tb[NFTA_SET_ELEM_KEY])
		nftdump_fail(o, elem, "element without a key");
	else
		put_key(o, tb[NFTA_SET_ELEM_KEY], k, "element key");
	if (tb[NFTA_SET_ELEM_KEY_END]) {
		nftdump_printf(o, " -");
		put_key(o, tb[NFTA_SET_ELEM_KEY_END], k, "element key end");
	}
	if (flags & NFT_SET_ELEM_INTERVAL_END)
		nftdump_printf(o, " interval-end");
	flags &= ~(uint32_t)(NFT_SET_ELEM_INTERVAL_END | NFT_SET_ELEM_CATCHALL);
	if (flags)
		nftdump_printf(o, " flags 0x%x", flags);
	if (timeout)
		nftdump_printf(o, " timeout %llums", (unsigned long long)timeout);
	if (tb[NFTA_SET_ELEM_DATA]) {
		nftdump_printf(o, " :");
		put_data(o, tb[NFTA_SET_ELEM_DATA], dk);
	}
}
