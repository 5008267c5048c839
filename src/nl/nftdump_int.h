/* SPDX-License-Identifier: MIT */
/*
 * nftdump_int.h: what nftdump.c (collector, kernel I/O), nftdump_msg.c (message decoding),
 * nftdump_expr.c (rule expressions) and nftdump_set.c (set lines and elements) share: the text
 * being written, with a sticky error so that each renderer reads as a straight sequence of
 * prints and checks.
 */
#ifndef VIRGIL_NFTDUMP_INT_H
#define VIRGIL_NFTDUMP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "nftdump.h"

struct nlattr;
struct nlmsghdr;
struct buf;
struct ebuf;

/* One object's text in the making. Once err is set every call is a no-op. */
struct nftdump_out {
	struct buf *b;
	const struct nlmsghdr *nlh;     /* the message read, for byte offsets in eb */
	struct ebuf *eb;
	unsigned flags;                 /* NFTDUMP_* */
	int err;                        /* 0, -EBADMSG or -ENOMEM */
};

void nftdump_printf(struct nftdump_out *o, const char *fmt, ...) __printf(2, 3);
/* A name from the kernel, control bytes replaced by '?'. */
void nftdump_name(struct nftdump_out *o, const char *s);
/* Mark the message malformed: -EBADMSG, with what and where (at points into the message). */
void nftdump_fail(struct nftdump_out *o, const void *at, const char *fmt, ...) __printf(3, 4);
/* A required be32 attribute (0 and failure when absent or not 4 bytes). */
uint32_t nftdump_be32(struct nftdump_out *o, const struct nlattr *a, const void *parent,
		      const char *what);
/* An optional be32: false when absent; a malformed one fails. */
bool nftdump_opt_be32(struct nftdump_out *o, const struct nlattr *a, uint32_t *v,
		      const char *what);

enum nftdump_style {
	NFTDUMP_WORDS,          /* " 0x0100000a": libnftnl's 32-bit words, little-endian */
	NFTDUMP_BYTES,          /* " 0a 00 00 01" */
};

/*
 * The payload of an NFTA_DATA_VALUE inside nest (NFTA_CMP_DATA, NFTA_SET_ELEM_KEY...): 1 to
 * NFT_DATA_VALUE_MAXLEN bytes. NULL (and failure) otherwise, or if it holds a verdict.
 */
const uint8_t *nftdump_value(struct nftdump_out *o, const struct nlattr *nest, size_t *len,
			     const char *what);
/* Print a data nest, value or verdict (" accept", " goto -> c"), each token after a space. */
void nftdump_data(struct nftdump_out *o, const struct nlattr *nest, enum nftdump_style style,
		  bool verdict_ok, const char *what);
void nftdump_hex(struct nftdump_out *o, const uint8_t *p, size_t n, enum nftdump_style style);

/* One expression (an NFTA_LIST_ELEM of NFTA_RULE_EXPRESSIONS) as "[ ... ]", no newline. */
void nftdump_expr(struct nftdump_out *o, const struct nlattr *elem);

/* How a set's keys are laid out, from its NEWSET message. */
struct nftdump_keyfmt {
	uint32_t key_len;
	size_t n;                               /* fields; 1 when not concatenated */
	uint32_t len[NFTDUMP_MAX_FIELDS];       /* bytes of each field that mean something */
	uint32_t span[NFTDUMP_MAX_FIELDS];      /* bytes each takes in the key (rounded up to 4) */
	uint8_t type[NFTDUMP_MAX_FIELDS];       /* nft datatype ids */
	bool values;                            /* every field a type we print as a value */
};

/* From a set's key (or data) type and length, and its concatenation fields if any. */
void nftdump_keyfmt(struct nftdump_keyfmt *k, uint32_t type, uint32_t len, size_t nfields,
		    const uint32_t *fields);
/* "set NAME flags ... key TYPES/LEN ..." without newline. */
void nftdump_set_line(struct nftdump_out *o, const struct nftdump_msg *set);
/* "  elem KEY (VALUES) ..." without newline. k and dk lay out the key and the map data; NULL
 * when the set was not seen (bytes only). */
void nftdump_elem(struct nftdump_out *o, const struct nlattr *elem,
		  const struct nftdump_keyfmt *k, const struct nftdump_keyfmt *dk);

#endif
