/* SPDX-License-Identifier: MIT */
/*
 * json.h: a small, strict JSON (RFC 8259) parser into a DOM, and a streaming writer. The
 * parser is json.c, the DOM getters json_dom.c, the writer jsonw.c.
 *
 * Parsing. json_parse() copies nothing it does not have to: the whole DOM (nodes and decoded
 * strings) lives in one allocation owned by the returned struct json_doc, and every pointer
 * obtained from it stays valid until json_doc_free(). Input need not be NUL-terminated.
 * Limits (depth, input size, node count) are enforced while parsing; exceeding one is an
 * error (-E2BIG), never a truncation. Errors fill the ebuf with the reason and the byte offset
 * ("offset 17: invalid escape \q"). Rejected: trailing garbage, leading zeros, lone surrogates
 * in \u escapes, raw control characters in strings, invalid UTF-8, duplicate keys are KEPT
 * (json_get returns the first; documents we consume must not rely on duplicates).
 *
 * Absent vs null vs empty: json_get() returns NULL when a key is absent, a node of type
 * JSON_NULL when the value is null, and a string node with len 0 for "". Arrays and objects
 * report their element count in ->count.
 *
 * Numbers keep their exact source text (->str/->len) so big integers and exact decimals
 * round-trip through the writer; json_u64()/json_i64() convert exactly or fail with -ERANGE /
 * -EINVAL (not an integer, e.g. "1.5" or "1e3").
 *
 * Strings are decoded (escapes resolved, UTF-8) and NUL-terminated; ->len counts bytes and a
 * decoded string may contain "\u0000", so use ->len when that matters (json_str_has_nul()).
 */
#ifndef VIRGIL_JSON_H
#define VIRGIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct ebuf;
struct buf;

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type type;
	struct json *next;   /* next sibling in the parent array/object, NULL at the end */
	struct json *child;  /* first element or member (arrays, objects) */
	const char *key;     /* member name, decoded and NUL-terminated; NULL outside objects */
	size_t keylen;
	const char *str;     /* string: decoded text; number: source text; NUL-terminated */
	size_t len;
	size_t count;        /* number of elements or members (arrays, objects) */
};

/* A zero field means its default, so callers set only the limits they care about. */
struct json_limits {
	size_t max_depth;    /* nesting of arrays/objects; default 64 */
	size_t max_bytes;    /* input size; default 4 MiB */
	size_t max_nodes;    /* values in the document; default 1,000,000 */
};

#define JSON_DEFAULT_DEPTH 64
#define JSON_DEFAULT_BYTES (4u << 20)
#define JSON_DEFAULT_NODES 1000000u

struct json_doc;

/*
 * Parse p[0..n) into a new document; lim may be NULL for the defaults. Returns 0 and sets
 * *out, or -EINVAL (syntax; ebuf says where), -E2BIG (a limit), -ENOMEM. *out is NULL on error.
 * The document copies what it needs: p may be freed right after the call. The ebuf is only
 * written on error. Memory is about 64 bytes per value plus the decoded strings. Deep nesting
 * is tracked on the heap, not the C stack, so any max_depth is safe.
 */
int json_parse(const char *p, size_t n, const struct json_limits *lim, struct json_doc **out,
	       struct ebuf *eb) __must_check;
const struct json *json_root(const struct json_doc *doc);
void json_doc_free(struct json_doc *doc);

/* Object member lookup by name (first match); NULL if obj is NULL, not an object, or absent. */
const struct json *json_get(const struct json *obj, const char *key);
/* Array element by index; NULL if out of range or not an array. O(i): loop with json_for_each. */
const struct json *json_at(const struct json *arr, size_t i);

#define json_for_each(it, parent) \
	for ((it) = ((parent) ? (parent)->child : NULL); (it); (it) = (it)->next)

static inline bool json_is(const struct json *v, enum json_type t)
{
	return v && v->type == t;
}
static inline bool json_is_bool(const struct json *v)
{
	return v && (v->type == JSON_TRUE || v->type == JSON_FALSE);
}
bool json_str_has_nul(const struct json *v);

/*
 * Exact integer conversion of a JSON_NUMBER: 0, -EINVAL (v NULL, not a number, or not written
 * as an integer: "1.0", "1e3"), -ERANGE (does not fit; negative for json_u64). "-0" is 0 for
 * both. *out is written only on success.
 */
int json_u64(const struct json *v, uint64_t *out) __must_check;
int json_i64(const struct json *v, int64_t *out) __must_check;

/*
 * Writer. Appends compact JSON to a struct buf. Errors are sticky: the first failure (-ENOMEM,
 * -EMSGSIZE from a bounded buf, -EINVAL for misuse such as a value where a key is due or
 * nesting deeper than JW_MAX_DEPTH) stops all later output and is returned by jw_finish().
 * Strings are escaped per RFC 8259 (", \, control characters as \uXXXX or the short forms);
 * invalid UTF-8 in input strings is an error (-EILSEQ), so output is always valid JSON.
 * A NULL string or key, a second top-level value, and jw_value() of a number whose text is not
 * a JSON number are -EINVAL. Keys and values after an error append nothing; on error the buf
 * holds a partial document the caller should discard.
 */
#define JW_MAX_DEPTH 64

struct jw {
	struct buf *b;
	int err;
	unsigned depth;
	bool first[JW_MAX_DEPTH + 1]; /* no element written yet at this level */
	bool want_value;             /* a key was written; its value is due */
	bool in_obj[JW_MAX_DEPTH + 1];
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_u64(struct jw *w, uint64_t v);
void jw_i64(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Write a parsed value (and everything under it) as compact JSON; numbers keep their text. */
void jw_value(struct jw *w, const struct json *v);
/* Shorthands for "key": value. */
void jw_kstr(struct jw *w, const char *key, const char *s);
void jw_ku64(struct jw *w, const char *key, uint64_t v);
/*
 * 0 when exactly one top-level value was written and every container closed; else the first
 * error, or -EINVAL (nothing written, container open, key without value).
 */
int jw_finish(const struct jw *w) __must_check;

#endif
