/* SPDX-License-Identifier: MIT */
/*
 * nlmsg.h: netlink message and attribute building and parsing, over caller memory. Pure: no
 * syscalls. The libmnl-shaped API we need, bounds-checked everywhere.
 *
 * Building. A struct nlb wraps a caller buffer (usually on the stack) that may hold several
 * messages back to back (nfnetlink batches). nlb_msg() starts a message; puts append to the
 * current one, each aligned to NLA_ALIGNTO. Errors are sticky: a put that does not fit sets
 * b->err = -EMSGSIZE, writes nothing, and every later call is a no-op; check nlb_err() once
 * at the end. Nothing is ever truncated. Integer puts take host-order values: the _be
 * variants convert to network order (nf_tables); the plain ones store host order (rtnetlink).
 * A failed call leaves b->len, b->nlh and every byte already written as they were, so the
 * bytes before it stay well-formed (a nest still open keeps its provisional length).
 * Misuse is sticky too, as -EINVAL: a buf not aligned to NLMSG_ALIGNTO (4) bytes, a put
 * before the first nlb_msg(), a NULL string, a nest pointer outside the current message.
 *
 * Parsing. Replies are untrusted input. nlmsg_ok()/for_each_nlmsg check nlmsg_len against
 * the bytes left; nla_parse() rejects any attribute whose nla_len is short or runs past its
 * container; typed getters check the payload length before reading. Parsed pointers point
 * into the caller's buffer and live as long as it does. The buffer must start 4-byte aligned
 * (malloc, the stack buffers of nlsock, libFuzzer all are): a misaligned message or attribute
 * is treated as malformed rather than read through a misaligned pointer.
 */
#ifndef VIRGIL_NLMSG_H
#define VIRGIL_NLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include "../base/compat.h"

struct ebuf;

struct nlb {
	char *buf;
	size_t cap;
	size_t len;              /* bytes used by all messages so far */
	struct nlmsghdr *nlh;    /* current message, NULL before the first nlb_msg() */
	int err;                 /* 0 or -EMSGSIZE, sticky */
};

void nlb_init(struct nlb *b, void *buf, size_t cap);
/* Start a new message (zeroed header; len covers the header). seq and pid stay 0: the socket
 * layer assigns seq when sending. Returns NULL on overflow. */
struct nlmsghdr *nlb_msg(struct nlb *b, uint16_t type, uint16_t flags);
/* Append len zeroed bytes (padded to 4) of family header (ifinfomsg, rtmsg, nfgenmsg...); NULL
 * on overflow. Inside an open nest it appends to the nest, for the nests that carry a struct
 * before their attributes (VETH_INFO_PEER holds an ifinfomsg). */
void *nlb_extra(struct nlb *b, size_t len);
/* Start an nfnetlink message (nf_tables, ctnetlink, batch markers): type is subsys << 8 | msg,
 * flags get NLM_F_REQUEST, and its nfgenmsg carries family, version NFNETLINK_V0 and res_id
 * (written big-endian, as nfnetlink reads it). NULL on overflow. */
struct nlmsghdr *nlb_nfmsg(struct nlb *b, uint16_t type, uint16_t flags, uint8_t family,
			   uint16_t res_id);
void nlb_put(struct nlb *b, uint16_t type, const void *data, size_t len);
void nlb_put_flag(struct nlb *b, uint16_t type);
void nlb_put_u8(struct nlb *b, uint16_t type, uint8_t v);
void nlb_put_u16(struct nlb *b, uint16_t type, uint16_t v);
void nlb_put_u32(struct nlb *b, uint16_t type, uint32_t v);
void nlb_put_u64(struct nlb *b, uint16_t type, uint64_t v);
void nlb_put_be16(struct nlb *b, uint16_t type, uint16_t v);
void nlb_put_be32(struct nlb *b, uint16_t type, uint32_t v);
void nlb_put_be64(struct nlb *b, uint16_t type, uint64_t v);
/* NUL-terminated string attribute (the NUL is included, as the kernel expects). */
void nlb_put_strz(struct nlb *b, uint16_t type, const char *s);
/* Open a nested attribute (NLA_F_NESTED is set); NULL on overflow. nlb_nest_end() fixes its
 * length; a nest that grew past 65535 bytes is removed whole and the error is -EMSGSIZE. */
struct nlattr *nlb_nest_start(struct nlb *b, uint16_t type);
void nlb_nest_end(struct nlb *b, struct nlattr *nest);
/* Drop a nest opened last when it turned out empty or not wanted. */
void nlb_nest_cancel(struct nlb *b, struct nlattr *nest);
static inline int nlb_err(const struct nlb *b)
{
	return b->err;
}

/* Validating message iteration over a receive buffer. */
bool nlmsg_ok(const struct nlmsghdr *nlh, size_t left);
const struct nlmsghdr *nlmsg_next(const struct nlmsghdr *nlh, size_t *left);
#define for_each_nlmsg(nlh, buf, len, left)                                   \
	for ((left) = (len), (nlh) = (const struct nlmsghdr *)(const void *)(buf); \
	     nlmsg_ok((nlh), (left)); (nlh) = nlmsg_next((nlh), &(left)))

/* Payload after the netlink header, and its length; the family header comes first. */
static inline const void *nlmsg_data(const struct nlmsghdr *nlh)
{
	return (const char *)nlh + NLMSG_HDRLEN;
}
static inline size_t nlmsg_datalen(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_len - NLMSG_HDRLEN;
}

/* Validating attribute iteration: stops at the first malformed attribute. */
bool nla_ok(const struct nlattr *a, size_t left);
const struct nlattr *nla_next(const struct nlattr *a, size_t *left);
#define for_each_nla(a, data, len, left)                                     \
	for ((left) = (len), (a) = (const struct nlattr *)(const void *)(data); \
	     nla_ok((a), (left)); (a) = nla_next((a), &(left)))

static inline uint16_t nla_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}
static inline const void *nla_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}
static inline size_t nla_datalen(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/*
 * Index the attributes in data[0..len) by type into tb[0..maxtype] (zeroed first; a later
 * duplicate wins, as in the kernel). Types above maxtype are skipped. Returns 0, or -EINVAL
 * when an attribute is malformed or bytes are left over that do not form an attribute (tb is
 * all NULL then). The last attribute may lack its alignment padding, as the kernel allows.
 */
int nla_parse(const struct nlattr **tb, unsigned maxtype, const void *data, size_t len) __must_check;
/* Same over a message's attributes after a family header of hdrlen bytes (padded to 4);
 * -EINVAL if short. nlh must have passed nlmsg_ok(). */
int nlmsg_parse(const struct nlattr **tb, unsigned maxtype, const struct nlmsghdr *nlh,
		size_t hdrlen) __must_check;
/* Same over the payload of a nested attribute. */
int nla_parse_nested(const struct nlattr **tb, unsigned maxtype, const struct nlattr *nest) __must_check;

/* Typed getters: -EINVAL when a is NULL or its payload length is not exactly the type's. */
int nla_get_u8(const struct nlattr *a, uint8_t *v) __must_check;
int nla_get_u16(const struct nlattr *a, uint16_t *v) __must_check;
int nla_get_u32(const struct nlattr *a, uint32_t *v) __must_check;
int nla_get_u64(const struct nlattr *a, uint64_t *v) __must_check;
int nla_get_be16(const struct nlattr *a, uint16_t *v) __must_check;
int nla_get_be32(const struct nlattr *a, uint32_t *v) __must_check;
int nla_get_be64(const struct nlattr *a, uint64_t *v) __must_check;
/* A string attribute must hold a NUL within its payload; returns the string or NULL. */
const char *nla_get_strz(const struct nlattr *a);

/*
 * Decode an NLMSG_ERROR message: returns its error (0 for an ACK, else -errno) and, when the
 * kernel sent extended-ack TLVs (NLMSGERR_ATTR_MSG, _OFFS, _MISS_TYPE) with an error, writes
 * "kernel: <msg> (offending attribute at byte N)" into eb; N counts from the start of the
 * request's netlink header. Honours NLM_F_CAPPED (request not echoed) as well as a full echo.
 * eb is left alone for an ACK (even one carrying a warning) and for an error without TLVs.
 * -EBADMSG when the message itself is malformed; nlh must have passed nlmsg_ok().
 */
int nlmsg_decode_error(const struct nlmsghdr *nlh, struct ebuf *eb);
/*
 * Where the kernel's extended ack of an error points: 0 and *off, the byte offset from the
 * start of the request's netlink header of the attribute it blamed (NLMSGERR_ATTR_OFFS);
 * -ENOENT for an ACK or an error that names no attribute; -EBADMSG when malformed.
 */
int nlmsg_error_offset(const struct nlmsghdr *nlh, uint32_t *off) __must_check;
/*
 * Decode an NLMSG_DONE message: returns 0, or the negative error a failed dump puts in its
 * payload (with the extended-ack text in eb, as above). A DONE without payload is 0.
 */
int nlmsg_decode_done(const struct nlmsghdr *nlh, struct ebuf *eb);

#endif
