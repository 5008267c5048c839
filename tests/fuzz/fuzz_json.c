// SPDX-License-Identifier: MIT
/* deps: codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * fuzz_json.c: libFuzzer target for the JSON codec. Every accepted document must survive
 * write → parse with an identical DOM and write again to the same bytes; the getters must agree
 * with the tree; integer conversion must agree with the number's text; tighter limits may only
 * turn success into -E2BIG. The same bytes are also written as one string and read back.
 * Any disagreement aborts, which is what libFuzzer reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "codec/json.h"
#include "../unit/json_eq.h"
#include "fuzz_util.h"

/* A converted integer printed back must be the number's text ("-0" aside). */
static void check_number(const struct json *v)
{
	char txt[32];
	uint64_t u;
	int64_t s;

	check(v->str && v->str[v->len] == '\0');
	if (json_u64(v, &u) == 0) {
		snprintf(txt, sizeof(txt), "%" PRIu64, u);
		check(strcmp(txt, v->str) == 0 || (u == 0 && strcmp(v->str, "-0") == 0));
	}
	if (json_i64(v, &s) == 0) {
		snprintf(txt, sizeof(txt), "%" PRId64, s);
		check(strcmp(txt, v->str) == 0 || (s == 0 && strcmp(v->str, "-0") == 0));
	}
}

static void poke(const struct json *v)
{
	const struct json *c, *hit;
	size_t k = 0;

	if (v->type == JSON_NUMBER)
		check_number(v);
	if (v->type == JSON_STRING)
		check(json_str_has_nul(v) == (memchr(v->str, 0, v->len) != NULL));
	json_for_each(c, v) {
		if (v->type == JSON_OBJECT && !memchr(c->key, 0, c->keylen)) {
			hit = json_get(v, c->key);
			check(hit && hit->keylen == c->keylen &&
			      !memcmp(hit->key, c->key, c->keylen));
		}
		if (v->type == JSON_ARRAY && (k == 0 || !c->next))
			check(json_at(v, k) == c);
		poke(c);
		k++;
	}
	check(k == v->count);
	check(json_at(v, k) == NULL);
}

static void write_all(const struct json *v, struct buf *b)
{
	struct jw w;

	buf_reset(b);
	jw_init(&w, b);
	jw_value(&w, v);
	/* default parse limits equal the writer's depth, so every parsed document is writable */
	check(jw_finish(&w) == 0);
}

static void round_trip(const struct json *root)
{
	struct buf b1 = BUF_INIT, b2 = BUF_INIT;
	struct json_doc *d2 = NULL;

	write_all(root, &b1);
	check(json_parse(b1.p, b1.len, NULL, &d2, NULL) == 0);
	check(dom_eq(root, json_root(d2)));
	write_all(json_root(d2), &b2);
	check(b1.len == b2.len && memcmp(b1.p, b2.p, b1.len) == 0);
	json_doc_free(d2);
	buf_free(&b1);
	buf_free(&b2);
}

/* The raw bytes as one string value: written only if valid UTF-8, read back exactly. */
static void string_trip(const char *p, size_t n)
{
	struct buf b = BUF_INIT;
	struct json_doc *d = NULL;
	struct jw w;
	int r;

	jw_init(&w, &b);
	jw_strn(&w, p, n);
	r = jw_finish(&w);
	check(r == 0 || r == -EILSEQ);
	if (r == 0) {
		check(json_parse(b.p, b.len, NULL, &d, NULL) == 0);
		check(json_root(d)->type == JSON_STRING && json_root(d)->len == n);
		check(memcmp(json_root(d)->str, p, n) == 0);
		json_doc_free(d);
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct json_limits tight = { .max_depth = 3, .max_nodes = 40 };
	const char *p = (const char *)data;
	struct json_doc *doc = NULL, *d2 = NULL;
	struct ebuf eb = { "" };
	int r, r2;

	r = json_parse(p, size, NULL, &doc, &eb);
	check(r == 0 || r == -EINVAL || r == -E2BIG);
	check(r == 0 ? doc != NULL : doc == NULL && strncmp(eb.msg, "offset ", 7) == 0);
	r2 = json_parse(p, size, &tight, &d2, NULL);
	check(r2 == r || (r2 == -E2BIG && r == 0) || (r2 == -E2BIG && r == -EINVAL));
	json_doc_free(d2);
	if (r == 0) {
		poke(json_root(doc));
		round_trip(json_root(doc));
	}
	json_doc_free(doc);
	string_trip(p, size);
	return 0;
}
