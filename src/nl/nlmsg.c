// SPDX-License-Identifier: MIT
/*
 * nlmsg.c: netlink message and attribute building and parsing over caller memory (see
 * nlmsg.h). Owns the bounds of every put, the validation of every length read from a reply,
 * the decoding of NLMSG_ERROR / NLMSG_DONE with their extended-ack TLVs, and byte order: the
 * _be puts and getters here are the only place a value is swapped. Pure: no syscalls.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>

#include "../base/err.h"
#include "nlmsg.h"

/*
 * NLMSG_ALIGN()/NLA_ALIGN() mask with an unsigned int, which truncates a size_t above 4 GiB;
 * every length that reaches this macro has been checked against a buffer size first.
 */
#define NL_ALIGN(n) (((size_t)(n) + 3) & ~(size_t)3)
#define NL_ALIGNED(p) (((uintptr_t)(p) & 3) == 0)

/* ---- building --------------------------------------------------------------------------- */

static void nlb_fail(struct nlb *b, int err)
{
	if (!b->err)
		b->err = err;
}

void nlb_init(struct nlb *b, void *buf, size_t cap)
{
	*b = (struct nlb){ .buf = buf, .cap = buf ? cap : 0 };
	if (!NL_ALIGNED(buf))
		b->err = -EINVAL;
}

struct nlmsghdr *nlb_msg(struct nlb *b, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	if (b->err)
		return NULL;
	if (b->cap - b->len < NLMSG_HDRLEN) {
		nlb_fail(b, -EMSGSIZE);
		return NULL;
	}
	nlh = (struct nlmsghdr *)(void *)(b->buf + b->len);
	memset(nlh, 0, NLMSG_HDRLEN);
	nlh->nlmsg_len = NLMSG_HDRLEN;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	b->len += NLMSG_HDRLEN;
	b->nlh = nlh;
	return nlh;
}

/* Grow the current message by n bytes plus padding, all zeroed; NULL (and b->err) if no room. */
static void *nlb_reserve(struct nlb *b, size_t n)
{
	size_t room = b->cap - b->len;
	char *p;

	if (b->err)
		return NULL;
	if (!b->nlh) {
		nlb_fail(b, -EINVAL);
		return NULL;
	}
	/* nlmsg_len is 32 bits even where size_t is wider */
	if (n > room || NL_ALIGN(n) > room || NL_ALIGN(n) > UINT32_MAX - b->nlh->nlmsg_len) {
		nlb_fail(b, -EMSGSIZE);
		return NULL;
	}
	n = NL_ALIGN(n);
	p = b->buf + b->len;
	memset(p, 0, n);
	b->len += n;
	b->nlh->nlmsg_len += (uint32_t)n;
	return p;
}

void *nlb_extra(struct nlb *b, size_t len)
{
	return nlb_reserve(b, len);
}

struct nlmsghdr *nlb_nfmsg(struct nlb *b, uint16_t type, uint16_t flags, uint8_t family,
			   uint16_t res_id)
{
	struct nlmsghdr *nlh = nlb_msg(b, type, NLM_F_REQUEST | flags);
	struct nfgenmsg *g = nlh ? nlb_extra(b, sizeof(*g)) : NULL;

	if (!g)
		return NULL;
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htobe16(res_id);
	return nlh;
}

/* An attribute header plus len payload bytes (zeroed, padded); NULL on failure. */
static struct nlattr *nlb_attr(struct nlb *b, uint16_t type, size_t len)
{
	struct nlattr *a;

	if (len > UINT16_MAX - NLA_HDRLEN) {
		nlb_fail(b, -EMSGSIZE);
		return NULL;
	}
	a = nlb_reserve(b, NLA_HDRLEN + len);
	if (!a)
		return NULL;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	a->nla_type = type;
	return a;
}

void nlb_put(struct nlb *b, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = nlb_attr(b, type, len);

	if (a && data && len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
}

void nlb_put_flag(struct nlb *b, uint16_t type)
{
	nlb_put(b, type, NULL, 0);
}

void nlb_put_u8(struct nlb *b, uint16_t type, uint8_t v)
{
	nlb_put(b, type, &v, sizeof(v));
}

void nlb_put_u16(struct nlb *b, uint16_t type, uint16_t v)
{
	nlb_put(b, type, &v, sizeof(v));
}

void nlb_put_u32(struct nlb *b, uint16_t type, uint32_t v)
{
	nlb_put(b, type, &v, sizeof(v));
}

void nlb_put_u64(struct nlb *b, uint16_t type, uint64_t v)
{
	nlb_put(b, type, &v, sizeof(v));
}

void nlb_put_be16(struct nlb *b, uint16_t type, uint16_t v)
{
	uint16_t be = htobe16(v);

	nlb_put(b, type, &be, sizeof(be));
}

void nlb_put_be32(struct nlb *b, uint16_t type, uint32_t v)
{
	uint32_t be = htobe32(v);

	nlb_put(b, type, &be, sizeof(be));
}

void nlb_put_be64(struct nlb *b, uint16_t type, uint64_t v)
{
	uint64_t be = htobe64(v);

	nlb_put(b, type, &be, sizeof(be));
}

void nlb_put_strz(struct nlb *b, uint16_t type, const char *s)
{
	if (!s) {
		nlb_fail(b, -EINVAL);
		return;
	}
	nlb_put(b, type, s, strlen(s) + 1);
}

struct nlattr *nlb_nest_start(struct nlb *b, uint16_t type)
{
	return nlb_attr(b, type | NLA_F_NESTED, 0);
}

/* Bytes from nest to the end of the message, or 0 when nest is not an attribute inside it. */
static size_t nlb_nest_span(struct nlb *b, const struct nlattr *nest)
{
	uintptr_t p = (uintptr_t)nest, lo, end;

	if (b->err || !nest)
		return 0;
	if (!b->nlh) {
		nlb_fail(b, -EINVAL);
		return 0;
	}
	lo = (uintptr_t)b->nlh + NLMSG_HDRLEN;
	end = (uintptr_t)b->buf + b->len;
	if (p < lo || p > end - NLA_HDRLEN || !NL_ALIGNED(p)) {
		nlb_fail(b, -EINVAL);
		return 0;
	}
	return end - p;
}

static void nlb_truncate(struct nlb *b, size_t n)
{
	b->len -= n;
	b->nlh->nlmsg_len -= (uint32_t)n;
}

void nlb_nest_end(struct nlb *b, struct nlattr *nest)
{
	size_t span = nlb_nest_span(b, nest);

	if (!span)
		return;
	if (span > UINT16_MAX) {
		nlb_truncate(b, span);
		nlb_fail(b, -EMSGSIZE);
		return;
	}
	nest->nla_len = (uint16_t)span;
}

void nlb_nest_cancel(struct nlb *b, struct nlattr *nest)
{
	size_t span = nlb_nest_span(b, nest);

	if (span)
		nlb_truncate(b, span);
}

/* ---- parsing ---------------------------------------------------------------------------- */

bool nlmsg_ok(const struct nlmsghdr *nlh, size_t left)
{
	return left >= NLMSG_HDRLEN && NL_ALIGNED(nlh) && nlh->nlmsg_len >= NLMSG_HDRLEN &&
	       nlh->nlmsg_len <= left;
}

const struct nlmsghdr *nlmsg_next(const struct nlmsghdr *nlh, size_t *left)
{
	size_t step = NL_ALIGN(nlh->nlmsg_len);

	/* the kernel may leave out the padding of the last message */
	if (step > *left)
		step = *left;
	*left -= step;
	return (const struct nlmsghdr *)(const void *)((const char *)nlh + step);
}

bool nla_ok(const struct nlattr *a, size_t left)
{
	return left >= NLA_HDRLEN && NL_ALIGNED(a) && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= left;
}

const struct nlattr *nla_next(const struct nlattr *a, size_t *left)
{
	size_t step = NL_ALIGN(a->nla_len);

	if (step > *left)
		step = *left;
	*left -= step;
	return (const struct nlattr *)(const void *)((const char *)a + step);
}

static int nla_clear(const struct nlattr **tb, unsigned maxtype, int ret)
{
	memset(tb, 0, ((size_t)maxtype + 1) * sizeof(*tb));
	return ret;
}

int nla_parse(const struct nlattr **tb, unsigned maxtype, const void *data, size_t len)
{
	const struct nlattr *a;
	size_t left;

	nla_clear(tb, maxtype, 0);
	if (!data && len)
		return -EINVAL;
	for_each_nla(a, data, len, left) {
		if (nla_type(a) <= maxtype)
			tb[nla_type(a)] = a;
	}
	return left ? nla_clear(tb, maxtype, -EINVAL) : 0;
}

int nlmsg_parse(const struct nlattr **tb, unsigned maxtype, const struct nlmsghdr *nlh,
		size_t hdrlen)
{
	size_t datalen, off;

	if (!nlh || nlh->nlmsg_len < NLMSG_HDRLEN || nlmsg_datalen(nlh) < hdrlen)
		return nla_clear(tb, maxtype, -EINVAL);
	datalen = nlmsg_datalen(nlh);
	/* a header shorter than 4 bytes (rtgenmsg) is padded before the attributes */
	off = NL_ALIGN(hdrlen);
	if (off >= datalen)
		return nla_clear(tb, maxtype, 0);
	return nla_parse(tb, maxtype, (const char *)nlmsg_data(nlh) + off, datalen - off);
}

int nla_parse_nested(const struct nlattr **tb, unsigned maxtype, const struct nlattr *nest)
{
	if (!nest || nest->nla_len < NLA_HDRLEN)
		return nla_clear(tb, maxtype, -EINVAL);
	return nla_parse(tb, maxtype, nla_data(nest), nla_datalen(nest));
}

/* Attribute payloads are only 4-byte aligned: copy rather than dereference a u64. */
static int nla_get(const struct nlattr *a, void *v, size_t n)
{
	if (!a || a->nla_len != NLA_HDRLEN + n)
		return -EINVAL;
	memcpy(v, nla_data(a), n);
	return 0;
}

int nla_get_u8(const struct nlattr *a, uint8_t *v)
{
	return nla_get(a, v, sizeof(*v));
}

int nla_get_u16(const struct nlattr *a, uint16_t *v)
{
	return nla_get(a, v, sizeof(*v));
}

int nla_get_u32(const struct nlattr *a, uint32_t *v)
{
	return nla_get(a, v, sizeof(*v));
}

int nla_get_u64(const struct nlattr *a, uint64_t *v)
{
	return nla_get(a, v, sizeof(*v));
}

int nla_get_be16(const struct nlattr *a, uint16_t *v)
{
	uint16_t be;
	int r = nla_get(a, &be, sizeof(be));

	if (!r)
		*v = be16toh(be);
	return r;
}

int nla_get_be32(const struct nlattr *a, uint32_t *v)
{
	uint32_t be;
	int r = nla_get(a, &be, sizeof(be));

	if (!r)
		*v = be32toh(be);
	return r;
}

int nla_get_be64(const struct nlattr *a, uint64_t *v)
{
	uint64_t be;
	int r = nla_get(a, &be, sizeof(be));

	if (!r)
		*v = be64toh(be);
	return r;
}

const char *nla_get_strz(const struct nlattr *a)
{
	if (!a || a->nla_len < NLA_HDRLEN || !memchr(nla_data(a), '\0', nla_datalen(a)))
		return NULL;
	return nla_data(a);
}

/* ---- errors ----------------------------------------------------------------------------- */

/* The text goes to a log line: keep it on one line whatever the kernel (or a fuzzer) sent. */
static void nlmsg_scrub(struct ebuf *eb)
{
	unsigned char *c;

	for (c = (unsigned char *)eb->msg; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			*c = '?';
	}
}

/* Describe where the kernel pointed: "offending attribute at byte N, missing attribute type M". */
static void nlmsg_ext_where(char *w, size_t n, const struct nlattr *offs, const struct nlattr *miss)
{
	uint32_t v;
	int used = 0;

	w[0] = '\0';
	if (!nla_get_u32(offs, &v))
		used = snprintf(w, n, "offending attribute at byte %u", v);
	if (used >= 0 && (size_t)used < n && !nla_get_u32(miss, &v))
		snprintf(w + used, n - used, "%smissing attribute type %u", used ? ", " : "", v);
}

/* Parse the extended-ack TLVs that follow an error; err is returned unless they are malformed. */
static int nlmsg_ext_ack(const void *tlv, size_t len, int err, struct ebuf *eb)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MISS_TYPE + 1];
	const char *msg = NULL;
	uint32_t v;
	char where[96];

	if (nla_parse(tb, NLMSGERR_ATTR_MISS_TYPE, tlv, len))
		return -EBADMSG;
	if (tb[NLMSGERR_ATTR_MSG] && !(msg = nla_get_strz(tb[NLMSGERR_ATTR_MSG])))
		return -EBADMSG;
	if ((tb[NLMSGERR_ATTR_OFFS] && nla_get_u32(tb[NLMSGERR_ATTR_OFFS], &v)) ||
	    (tb[NLMSGERR_ATTR_MISS_TYPE] && nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE], &v)))
		return -EBADMSG;
	nlmsg_ext_where(where, sizeof(where), tb[NLMSGERR_ATTR_OFFS], tb[NLMSGERR_ATTR_MISS_TYPE]);
	if (!eb || (!msg && !where[0]))
		return err;
	if (msg && where[0])
		ebuf_set(eb, "kernel: %s (%s)", msg, where);
	else
		ebuf_set(eb, "kernel: %s", msg ? msg : where);
	nlmsg_scrub(eb);
	return err;
}

/* errno values the kernel can send fit in MAX_ERRNO (4095); anything else is not an error. */
static bool nlmsg_errno_ok(int err)
{
	return err <= 0 && err >= -4095;
}

/* The extended-ack TLVs of an error message: 1 and *tlv, *len when there are some, 0 for an
 * ACK or an error without them, -EBADMSG when malformed. */
static int nlmsg_err_tlvs(const struct nlmsghdr *nlh, const void **tlv, size_t *len)
{
	const struct nlmsgerr *e;
	size_t datalen, off;

	if (!nlh || nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nlmsgerr))
		return -EBADMSG;
	e = nlmsg_data(nlh);
	if (!nlmsg_errno_ok(e->error))
		return -EBADMSG;
	if (!e->error || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	datalen = nlmsg_datalen(nlh);
	if (nlh->nlmsg_flags & NLM_F_CAPPED) {
		off = sizeof(*e);
	} else {
		/* the whole request is echoed: its payload follows the copied header, padded */
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return -EBADMSG;
		off = sizeof(e->error) + NL_ALIGN(e->msg.nlmsg_len);
	}
	if (off > datalen)
		return -EBADMSG;
	*tlv = (const char *)e + off;
	*len = datalen - off;
	return 1;
}

int nlmsg_decode_error(const struct nlmsghdr *nlh, struct ebuf *eb)
{
	const void *tlv;
	size_t len;
	int r = nlmsg_err_tlvs(nlh, &tlv, &len);

	if (r < 0)
		return r;
	if (r == 0)
		return ((const struct nlmsgerr *)nlmsg_data(nlh))->error;
	return nlmsg_ext_ack(tlv, len, ((const struct nlmsgerr *)nlmsg_data(nlh))->error, eb);
}

int nlmsg_error_offset(const struct nlmsghdr *nlh, uint32_t *off)
{
	const struct nlattr *tb[NLMSGERR_ATTR_OFFS + 1];
	const void *tlv;
	size_t len;
	int r = nlmsg_err_tlvs(nlh, &tlv, &len);

	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	if (nla_parse(tb, NLMSGERR_ATTR_OFFS, tlv, len))
		return -EBADMSG;
	if (!tb[NLMSGERR_ATTR_OFFS])
		return -ENOENT;
	return nla_get_u32(tb[NLMSGERR_ATTR_OFFS], off) ? -EBADMSG : 0;
}

int nlmsg_decode_done(const struct nlmsghdr *nlh, struct ebuf *eb)
{
	int err;

	if (!nlh || nlh->nlmsg_type != NLMSG_DONE || nlh->nlmsg_len < NLMSG_HDRLEN)
		return -EBADMSG;
	if (nlmsg_datalen(nlh) < sizeof(err))
		return 0;
	memcpy(&err, nlmsg_data(nlh), sizeof(err));
	if (!nlmsg_errno_ok(err))
		return -EBADMSG;
	if (!err || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return err;
	return nlmsg_ext_ack((const char *)nlmsg_data(nlh) + sizeof(err),
			     nlmsg_datalen(nlh) - sizeof(err), err, eb);
}
