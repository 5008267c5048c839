/* SPDX-License-Identifier: MIT */
/*
 * json_int.h: private to the JSON module (json.c, json_dom.c, jsonw.c); nothing outside
 * src/codec/json*.c may include it. It declares the grammar helpers that the parser and the
 * writer share, so both sides accept and emit exactly the same language; they live in json.c.
 * It also holds the layout of struct json_doc, which json.c builds and json_dom.c reads.
 */
#ifndef VIRGIL_JSON_INT_H
#define VIRGIL_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

/*
 * One allocation (mem_alloc) sized exactly by the parser's first pass and filled by its second;
 * json_doc_free() releases it whole.
 */
struct json_doc {
	size_t nnodes;
	struct json nodes[]; /* pre-order, root first; decoded strings follow the last node */
};

/*
 * Length of the RFC 8259 number at the start of p[0..n), or 0 with *bad set to the offset of
 * the first byte that breaks the grammar. A valid number may be followed by anything: the
 * caller decides whether that byte is allowed there.
 */
size_t json_num_scan(const char *p, size_t n, size_t *bad);

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) whose lead byte is >= 0x80, or 0. The
 * ranges are Unicode's Table 3-7: no overlongs, no UTF-16 surrogates, nothing past U+10FFFF.
 */
size_t json_utf8_seq(const unsigned char *s, size_t n);

/* A byte that stands for itself inside a JSON string: printable ASCII other than " and \. */
bool json_plain(unsigned char c);

#endif
