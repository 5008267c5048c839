// SPDX-License-Identifier: MIT
/* deps: codec/jsonlist.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * fuzz_jsonlist.c: libFuzzer target for the incremental List scanner. The input is fed in
 * chunks cut at a pseudo-random sequence of points derived from its bytes, each chunk in a block
 * of exactly its size, and compared with a whole-document json_parse(): when that accepts an
 * object, the scanner must accept too, hand over exactly the elements of json_get(root,
 * "items") in order (as DOMs), and give an envelope that parses to the document with that
 * array emptied; an items member that is neither array nor null must be refused; a top level
 * that is not an object must be refused. Whatever json_parse() says, feeding the document in
 * one piece must give the same items, envelope and error as the split feed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "codec/json.h"
#include "codec/jsonlist.h"
#include "../unit/json_eq.h"
#include "fuzz_util.h"

struct run {
	int rc;
	struct ebuf eb;
	struct buf items;     /* each item's length (size_t) then its bytes */
	size_t n;
	char *env;
	size_t envn;
};

static int collect(void *ctx, const char *p, size_t n)
{
	struct run *r = ctx;

	check(n > 0);
	check(buf_add(&r->items, &n, sizeof(n)) == 0 && buf_add(&r->items, p, n) == 0);
	r->n++;
	return 0;
}

/* Feed p whole, or in chunks whose sizes come from a xorshift seeded by the input. */
static void scan(const char *p, size_t size, bool split, struct run *r)
{
	uint32_t x = 2463534242u ^ (uint32_t)size;
	struct jsonlist l;
	size_t off = 0, k, envn, i;
	const char *env;
	char *c;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < size && i < 16; i++)
		x = x * 31 + (unsigned char)p[i];
	check(jsonlist_init(&l, size + 1, size + 16, collect, r) == 0);
	do {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		k = split ? MIN(size - off, x % 9 == 0 ? x % 200 : x % 4) : size;
		c = fuzz_dup(p + off, k);
		r->rc = jsonlist_feed(&l, c, k, &r->eb);
		free(c);
		off += k;
	} while (r->rc == 0 && off < size);
	if (r->rc == 0 && (r->rc = jsonlist_finish(&l, &env, &envn, &r->eb)) == 0) {
		r->env = fuzz_dup(env, envn);
		r->envn = envn;
	}
	check(r->rc == 0 || r->rc == -EINVAL || r->rc == -E2BIG);
	check(r->rc != -EINVAL || strncmp(r->eb.msg, "offset ", 7) == 0);
	check(jsonlist_count(&l) == r->n);
	jsonlist_free(&l);
}

static void run_free(struct run *r)
{
	buf_free(&r->items);
	free(r->env);
}

static bool same(const struct run *a, const struct run *b)
{
	if (a->rc != b->rc || a->n != b->n || a->envn != b->envn || strcmp(a->eb.msg, b->eb.msg))
		return false;
	if (a->items.len != b->items.len || (a->items.len &&
					     memcmp(a->items.p, b->items.p, a->items.len)))
		return false;
	return !a->envn || !memcmp(a->env, b->env, a->envn);
}

/* The envelope's members equal the document's, but the first "items" when it is an array. */
static void check_envelope(const struct json *root, const struct run *r)
{
	struct json_doc *e = NULL;
	const struct json *a, *b;
	bool first = true;

	check(json_parse(r->env, r->envn, NULL, &e, NULL) == 0);
	b = json_root(e);
	check(b->type == JSON_OBJECT && b->count == root->count);
	for (a = root->child, b = b->child; a; a = a->next, b = b->next) {
		check(a->keylen == b->keylen && !memcmp(a->key, b->key, a->keylen));
		if (first && !strcmp(a->key, "items") && a->keylen == 5) {
			first = false;
			if (a->type == JSON_ARRAY) {
				check(b->type == JSON_ARRAY && b->count == 0);
				continue;
			}
		}
		check(dom_eq(a, b));
	}
	json_doc_free(e);
}

static void check_items(const struct json *items, const struct run *r)
{
	const struct json *v;
	struct json_doc *d;
	size_t off = 0, n;

	json_for_each(v, items) {
		check(off + sizeof(n) <= r->items.len);
		memcpy(&n, r->items.p + off, sizeof(n));
		off += sizeof(n);
		d = NULL;
		check(json_parse(r->items.p + off, n, NULL, &d, NULL) == 0);
		check(dom_eq(v, json_root(d)));
		json_doc_free(d);
		off += n;
	}
	check(off == r->items.len);
}

static void compare(const struct json *root, const struct run *r)
{
	const struct json *items = json_get(root, "items");

	if (root->type != JSON_OBJECT) {
		check(r->rc == -EINVAL);
		return;
	}
	if (items && items->type != JSON_ARRAY && items->type != JSON_NULL) {
		check(r->rc == -EINVAL);
		return;
	}
	check(r->rc == 0);
	check(r->n == (items && items->type == JSON_ARRAY ? items->count : 0));
	if (items && items->type == JSON_ARRAY)
		check_items(items, r);
	check_envelope(root, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct json_doc *doc = NULL;
	struct run whole, split;

	scan(p, size, false, &whole);
	scan(p, size, true, &split);
	check(same(&whole, &split));
	if (json_parse(p, size, NULL, &doc, NULL) == 0)
		compare(json_root(doc), &split);
	json_doc_free(doc);
	run_free(&whole);
	run_free(&split);
	return 0;
}
