// SPDX-License-Identifier: MIT
/* deps: codec/jsonlist.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * test_jsonlist.c: the incremental List scanner. Every valid document is checked against a
 * whole-document json_parse(): the items handed over parse to the same values in order and the
 * envelope parses to the document with the streamed array emptied. Each document is fed whole,
 * byte by byte and split at every point (larger ones at a stride), every chunk against a guard
 * page, and must give the same result each time. Then malformed documents with their exact
 * error offsets, limits, a callback that stops the scan, and allocation failure at every point.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "json_eq.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "codec/json.h"
#include "codec/jsonlist.h"

#define S(lit) lit, sizeof(lit) - 1

static const char *pod_path = "../../../shared/fixtures/k8s-api-testdata/core.v1.Pod.json";

struct res {
	int rc;
	char msg[EBUF_SIZE];
	size_t n;
	char *items[64];
	size_t lens[64];
	size_t more;         /* items past the 64 kept */
	char *env;
	size_t envn;
	size_t stop_at;      /* 1-based item at which the callback returns -ECANCELED; 0 never */
};

static int collect(void *ctx, const char *p, size_t n)
{
	struct res *r = ctx;

	if (r->n < ARRAY_SIZE(r->items)) {
		r->items[r->n] = malloc(n ? n : 1);
		memcpy(r->items[r->n], p, n);
		r->lens[r->n] = n;
	} else {
		r->more++;
	}
	r->n++;
	return r->stop_at && r->n == r->stop_at ? -ECANCELED : 0;
}

static void res_free(struct res *r)
{
	size_t i;

	for (i = 0; i < r->n && i < ARRAY_SIZE(r->items); i++)
		free(r->items[i]);
	free(r->env);
	memset(r, 0, sizeof(*r));
}

struct lim {
	size_t item, env;
	size_t stop_at;
};

/*
 * Scan doc in chunks: of size step when step > 0, else two chunks split at cut. guard puts
 * each chunk against a guard page (too slow for a megabyte fed byte by byte).
 */
static void run(const char *doc, size_t n, size_t step, size_t cut, const struct lim *lim,
		bool guard, struct res *r)
{
	struct jsonlist l;
	struct ebuf eb = { "" };
	const char *env;
	size_t off = 0, k, envn;
	char *g;

	memset(r, 0, sizeof(*r));
	r->stop_at = lim ? lim->stop_at : 0;
	r->rc = jsonlist_init(&l, lim ? lim->item : 0, lim ? lim->env : 0, collect, r);
	while (r->rc == 0 && off < n) {
		k = step ? MIN(step, n - off) : (off < cut ? cut - off : n - off);
		g = guard ? guard_copy(doc + off, k) : (char *)doc + off;
		r->rc = jsonlist_feed(&l, g, k, &eb);
		if (guard)
			guard_free(g, k);
		off += k;
	}
	if (r->rc == 0)
		r->rc = jsonlist_feed(&l, NULL, 0, &eb);
	if (r->rc == 0 && (r->rc = jsonlist_finish(&l, &env, &envn, &eb)) == 0) {
		r->env = malloc(envn + 1);
		memcpy(r->env, env, envn + 1);
		r->envn = envn;
	}
	snprintf(r->msg, sizeof(r->msg), "%s", eb.msg);
	jsonlist_free(&l);
}

static bool res_same(const struct res *a, const struct res *b)
{
	size_t i;

	if (a->rc != b->rc || strcmp(a->msg, b->msg) || a->n != b->n || a->envn != b->envn)
		return false;
	if (a->env && memcmp(a->env, b->env, a->envn))
		return false;
	for (i = 0; i < a->n && i < ARRAY_SIZE(a->items); i++)
		if (a->lens[i] != b->lens[i] || memcmp(a->items[i], b->items[i], a->lens[i]))
			return false;
	return true;
}

static struct json_doc *parse(const char *p, size_t n)
{
	static const struct json_limits big = { .max_bytes = 64u << 20 };
	struct json_doc *d = NULL;

	return json_parse(p, n, &big, &d, NULL) ? NULL : d;
}

/* The envelope is the document with the first top-level "items" array emptied. */
static bool env_matches(const struct json *orig, const struct json *env)
{
	const struct json *a, *b;
	bool streamed = false;

	if (!json_is(env, JSON_OBJECT) || env->count != orig->count)
		return false;
	for (a = orig->child, b = env->child; a && b; a = a->next, b = b->next) {
		if (a->keylen != b->keylen || memcmp(a->key, b->key, a->keylen))
			return false;
		if (!streamed && !strcmp(a->key, "items") && a->type == JSON_ARRAY) {
			streamed = true;
			if (!json_is(b, JSON_ARRAY) || b->count)
				return false;
		} else if (!streamed && !strcmp(a->key, "items")) {
			/* json_get()'s member is null: later duplicates are plain members */
			streamed = true;
			if (!dom_eq(a, b))
				return false;
		} else if (!dom_eq(a, b)) {
			return false;
		}
	}
	return true;
}

/* Items and envelope agree with a whole-document parse. */
static bool res_matches_dom(const struct res *r, const char *doc, size_t n)
{
	struct json_doc *d = parse(doc, n), *e = NULL, *it;
	const struct json *items, *v;
	bool good = d && r->rc == 0 && (e = parse(r->env, r->envn));
	size_t i = 0;

	items = good ? json_get(json_root(d), "items") : NULL;
	good = good && env_matches(json_root(d), json_root(e));
	good = good && r->n == (json_is(items, JSON_ARRAY) ? items->count : 0);
	if (good && json_is(items, JSON_ARRAY)) {
		json_for_each(v, items) {
			if (i >= ARRAY_SIZE(r->items))
				break;
			it = parse(r->items[i], r->lens[i]);
			good = good && it && dom_eq(v, json_root(it));
			json_doc_free(it);
			i++;
		}
	}
	json_doc_free(d);
	json_doc_free(e);
	return good;
}

/* Whole, byte by byte, and split at every stride-th point: all the same, all matching. */
static void check_valid(const char *doc, size_t n, size_t want_items, size_t stride,
			const char *what)
{
	struct res whole, other;
	char name[200];
	size_t cut, bad = 0;

	run(doc, n, n ? n : 1, 0, NULL, true, &whole);
	snprintf(name, sizeof(name), "%s: whole", what);
	ok(whole.rc == 0 && whole.n == want_items && res_matches_dom(&whole, doc, n), name);
	if (whole.rc)
		diag("rc %d: %s", whole.rc, whole.msg);
	run(doc, n, 1, 0, NULL, n < 100000, &other);
	snprintf(name, sizeof(name), "%s: byte by byte", what);
	ok(res_same(&whole, &other), name);
	res_free(&other);
	for (cut = 0; cut <= n; cut += stride) {
		run(doc, n, 0, cut, NULL, true, &other);
		bad += !res_same(&whole, &other);
		res_free(&other);
	}
	snprintf(name, sizeof(name), "%s: every split", what);
	ok(bad == 0, name);
	res_free(&whole);
}

struct valid {
	const char *doc;
	size_t items;
	const char *env;     /* exact envelope, or NULL */
	const char *first;   /* exact text of the first item, or NULL */
};

static const struct valid valid[] = {
	{ "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\","
	  "\"continue\":\"x\"},\"items\":[{\"a\":1},{\"b\":[1,2,{\"items\":[3]}]}]}",
	  2, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\","
	  "\"continue\":\"x\"},\"items\":[]}", "{\"a\":1}" },
	{ "{\"items\":[{\"metadata\":{\"name\":\"a\"}},\"str\",12.5e3,-1,true,false,null,[],{},[[]],"
	  "\"esc\\\"\\\\\\u00e9\\/\"],\"metadata\":{\"resourceVersion\":\"7\"}}",
	  11, "{\"items\":[],\"metadata\":{\"resourceVersion\":\"7\"}}", NULL },
	{ "{\"items\":null,\"metadata\":{}}", 0, "{\"items\":null,\"metadata\":{}}", NULL },
	{ "{\"items\":[]}", 0, "{\"items\":[]}", NULL },
	{ "{}", 0, "{}", NULL },
	{ "{\"metadata\":{\"items\":[1,2]},\"x\":[{\"items\":[4]}],\"items\":[3]}", 1,
	  "{\"metadata\":{\"items\":[1,2]},\"x\":[{\"items\":[4]}],\"items\":[]}", "3" },
	{ "{\"kind\":\"List\"}", 0, NULL, NULL },
	{ " \n{ \"items\" : [ 1 , { \"a\" : \"b c\" }\t] , \"x\" : [ ] ,\"y\":\"  \"} \r\n", 2,
	  "{\"items\":[],\"x\":[],\"y\":\"  \"}", "1" },
	{ "{\"\\u0069tems\":[1,2]}", 2, "{\"\\u0069tems\":[]}", "1" },
	{ "{\"items\":[1],\"items\":[2,3]}", 1, "{\"items\":[],\"items\":[2,3]}", "1" },
	{ "{\"items\":null,\"items\":[2,3]}", 0, "{\"items\":null,\"items\":[2,3]}", NULL },
	{ "{\"item\":[1],\"itemss\":[2],\"it\\u0065m\":[5],\"items\":[{\"x\":\"]}\\\"[{\"}]}", 1,
	  NULL, "{\"x\":\"]}\\\"[{\"}" },
	{ "{\"items\":[\"h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x98\x80\"]}", 1, NULL, NULL },
	{ "{\"itemsX\":1,\"items\":[ \"a\" ,\"b\"],\"z\":-0.5e-3}", 2, NULL, "\"a\"" },
	{ "{\"items\":[[[[[[[[[[1]]]]]]]]]],\"a\":[[{\"b\":{}}]]}", 1, NULL, "[[[[[[[[[1]]]]]]]]]" },
	{ "{\"items\":[0,-0,1E+2,1e-2,true ,false\n,null]}", 7, NULL, "0" },
};

static void test_valid(void)
{
	char name[96];
	struct res r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		const struct valid *v = &valid[i];
		size_t n = strlen(v->doc);

		snprintf(name, sizeof(name), "valid %zu", i);
		check_valid(v->doc, n, v->items, 1, name);
		run(v->doc, n, n, 0, NULL, true, &r);
		if (v->env) {
			snprintf(name, sizeof(name), "valid %zu: envelope", i);
			is_str(r.env, v->env, name);
		}
		if (v->first) {
			snprintf(name, sizeof(name), "valid %zu: first item text", i);
			ok(r.n && r.lens[0] == strlen(v->first) &&
			   !memcmp(r.items[0], v->first, r.lens[0]), name);
		}
		res_free(&r);
	}
}

static char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)sz + 1);
		if (p && fread(p, 1, (size_t)sz, f) != (size_t)sz) {
			free(p);
			p = NULL;
		}
		*n = (size_t)sz;
	}
	fclose(f);
	return p;
}

/* A realistic PodList: the pretty-printed fixture Pod three times, metadata after items. */
static char *pod_list(size_t *n)
{
	struct buf b = BUF_INIT;
	size_t podn, i;
	char *pod = read_file(pod_path, &podn);
	int r = 0;

	if (!pod)
		return NULL;
	r |= buf_adds(&b, "{\n  \"kind\": \"PodList\",\n  \"apiVersion\": \"v1\",\n  \"items\": [\n");
	for (i = 0; i < 3; i++) {
		r |= buf_add(&b, pod, podn);
		r |= buf_adds(&b, i < 2 ? ",\n" : "\n");
	}
	r |= buf_adds(&b, "  ],\n  \"metadata\": {\"resourceVersion\": \"12345\", "
			  "\"continue\": \"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ\"}\n}\n");
	free(pod);
	if (r) {
		buf_free(&b);
		return NULL;
	}
	*n = b.len;
	return buf_steal(&b);
}

static void test_pods(void)
{
	struct json_doc *env;
	const struct json *md;
	struct res r;
	size_t n;
	char *doc = pod_list(&n);

	if (!doc) {
		diag("skipping PodList cases: %s not readable", pod_path);
		return;
	}
	check_valid(doc, n, 3, 997, "PodList");
	run(doc, n, 4096, 0, NULL, true, &r);
	env = r.rc == 0 ? parse(r.env, r.envn) : NULL;
	md = env ? json_get(json_root(env), "metadata") : NULL;
	ok(json_is(json_get(md, "resourceVersion"), JSON_STRING) &&
	   json_is(json_get(md, "continue"), JSON_STRING), "PodList: envelope has metadata");
	ok(json_is(json_get(json_root(env), "items"), JSON_ARRAY) &&
	   json_get(json_root(env), "items")->count == 0, "PodList: envelope items empty");
	is_int(r.n, 3, "PodList: 4 KiB chunks give 3 items");
	json_doc_free(env);
	res_free(&r);
	free(doc);
}

struct bad {
	const char *doc;
	int rc;
	const char *msg;
};

static const struct bad malformed[] = {
	{ "[1,2]", -EINVAL, "offset 0: top level is not an object" },
	{ "\"str\"", -EINVAL, "offset 0: top level is not an object" },
	{ "", -EINVAL, "offset 0: document truncated" },
	{ "  ", -EINVAL, "offset 2: document truncated" },
	{ "{\"items\":[1,2}", -EINVAL, "offset 13: mismatched closing bracket" },
	{ "{\"items\":[1,2]", -EINVAL, "offset 14: document truncated" },
	{ "{\"items\":[1,\"ab", -EINVAL, "offset 15: document truncated" },
	{ "{\"a\":1}}", -EINVAL, "offset 7: data after the document" },
	{ "{\"a\":1} x", -EINVAL, "offset 8: data after the document" },
	{ "{\"a\":1}{}", -EINVAL, "offset 7: data after the document" },
	{ "{\"items\":{}}", -EINVAL, "offset 9: \"items\" is neither an array nor null" },
	{ "{\"items\":\"x\"}", -EINVAL, "offset 9: \"items\" is neither an array nor null" },
	{ "{\"items\":1}", -EINVAL, "offset 9: \"items\" is neither an array nor null" },
	{ "{\"items\":true}", -EINVAL, "offset 9: \"items\" is neither an array nor null" },
	{ "{\"items\":nul}", -EINVAL, "offset 12: \"items\" is neither an array nor null" },
	{ "{\"items\":nulll}", -EINVAL, "offset 14: \"items\" is neither an array nor null" },
	{ "{\"\\u0069tems\":5}", -EINVAL, "offset 14: \"items\" is neither an array nor null" },
	{ "{\"a\" 1}", -EINVAL, "offset 5: expected ':'" },
	{ "{\"a\"::1}", -EINVAL, "offset 5: expected a value" },
	{ "{\"a\":1,}", -EINVAL, "offset 7: expected an object key" },
	{ "{,}", -EINVAL, "offset 1: expected an object key" },
	{ "{1:2}", -EINVAL, "offset 1: expected an object key" },
	{ "{\"items\":[1,]}", -EINVAL, "offset 12: expected a value" },
	{ "{\"items\":[,1]}", -EINVAL, "offset 10: expected a value" },
	{ "{\"a\":[}", -EINVAL, "offset 6: expected a value" },
	{ "{\"a\":]", -EINVAL, "offset 5: expected a value" },
	{ "{\"a\":@}", -EINVAL, "offset 5: expected a value" },
	{ "{\"a\":1 2}", -EINVAL, "offset 7: expected ',' or a closing bracket" },
	{ "{\"items\":[1]]", -EINVAL, "offset 12: mismatched closing bracket" },
	{ "{\"items\":[{\"a\":1]]}", -EINVAL, "offset 16: mismatched closing bracket" },
	{ "{\"a\":\"\\q\"}", -EINVAL, "offset 7: invalid escape" },
	{ "{\"a\":\"\\u12g4\"}", -EINVAL, "offset 10: invalid \\u escape" },
	{ "{\"a\":\"x\ny\"}", -EINVAL, "offset 7: control character in string" },
	{ "{\"items\":[\"x\ty\"]}", -EINVAL, "offset 12: control character in string" },
};

static void test_malformed(void)
{
	struct res whole, bytes;
	char name[96];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		size_t n = strlen(malformed[i].doc);

		run(malformed[i].doc, n, n ? n : 1, 0, NULL, true, &whole);
		run(malformed[i].doc, n, 1, 0, NULL, true, &bytes);
		snprintf(name, sizeof(name), "malformed %zu: %s", i, malformed[i].msg);
		ok(whole.rc == malformed[i].rc && !strcmp(whole.msg, malformed[i].msg), name);
		if (whole.rc != malformed[i].rc || strcmp(whole.msg, malformed[i].msg))
			diag("got %d \"%s\"", whole.rc, whole.msg);
		snprintf(name, sizeof(name), "malformed %zu: same byte by byte", i);
		ok(res_same(&whole, &bytes), name);
		res_free(&whole);
		res_free(&bytes);
	}
}

static void nested(struct buf *b, size_t k)
{
	size_t i;
	int r = buf_adds(b, "{\"items\":[");

	for (i = 0; i < k; i++)
		r |= buf_addc(b, '[');
	for (i = 0; i < k; i++)
		r |= buf_addc(b, ']');
	r |= buf_adds(b, "]}");
	if (r)
		abort();
}

static void test_limits(void)
{
	static const char doc[] = "{\"items\":[12345,\"abcdef\",{\"x\":1}]}";
	struct lim lim = { .item = 7 };
	struct buf b = BUF_INIT;
	struct res r, r1;

	run(S(doc), sizeof(doc) - 1, 0, &lim, true, &r);
	run(S(doc), 1, 0, &lim, true, &r1);
	ok(r.rc == -E2BIG && !strcmp(r.msg, "offset 16: item longer than 7 bytes"),
	   "max_item: in-place item too long");
	ok(res_same(&r, &r1), "max_item: same when carried byte by byte");
	is_int(r.n, 1, "max_item: the item before it was handed over");
	res_free(&r);
	res_free(&r1);
	lim.item = 8;
	run(S(doc), 1, 0, &lim, true, &r);
	ok(r.rc == 0 && r.n == 3, "max_item: exactly the longest item fits");
	res_free(&r);

	lim = (struct lim){ .env = 12 };
	run(S(doc), 3, 0, &lim, true, &r);
	is_str(r.env, "{\"items\":[]}", "max_envelope: exactly the envelope fits");
	res_free(&r);
	lim.env = 11;
	run(S(doc), 3, 0, &lim, true, &r);
	ok(r.rc == -E2BIG && !strcmp(r.msg, "offset 33: envelope longer than 11 bytes"),
	   "max_envelope: one byte over");
	if (r.rc != -E2BIG || strcmp(r.msg, "offset 33: envelope longer than 11 bytes"))
		diag("%d %s", r.rc, r.msg);
	res_free(&r);

	nested(&b, JSONLIST_MAX_DEPTH - 2);
	run(b.p, b.len, 5, 0, NULL, false, &r);
	ok(r.rc == 0 && r.n == 1 && r.lens[0] == 2 * (JSONLIST_MAX_DEPTH - 2),
	   "depth: JSONLIST_MAX_DEPTH levels");
	res_free(&r);
	buf_reset(&b);
	nested(&b, JSONLIST_MAX_DEPTH - 1);
	run(b.p, b.len, b.len, 0, NULL, false, &r);
	ok(r.rc == -E2BIG && !strcmp(r.msg, "offset 1032: nesting too deep"), "depth: one more");
	if (r.rc != -E2BIG)
		diag("%d %s", r.rc, r.msg);
	res_free(&r);
	buf_free(&b);
}

static void test_stop(void)
{
	static const char doc[] = "{\"items\":[1,2,3]}";
	struct jsonlist l;
	struct res r = { .stop_at = 2 };
	struct ebuf eb = { "" };
	const char *env;
	size_t envn;

	ok(jsonlist_init(&l, 0, 0, NULL, NULL) == -EINVAL, "init without a callback");
	jsonlist_free(&l);
	jsonlist_free(NULL);
	if (jsonlist_init(&l, 0, 0, collect, &r))
		abort();
	is_int(jsonlist_feed(&l, S(doc), &eb), -ECANCELED, "callback's error stops the feed");
	is_int(r.n, 2, "no item after the stop");
	is_int(jsonlist_count(&l), 2, "count includes the refused item");
	is_int(jsonlist_feed(&l, S("   "), &eb), -ECANCELED, "error is sticky for feed");
	is_int(jsonlist_finish(&l, &env, &envn, &eb), -ECANCELED, "error is sticky for finish");
	is_str(eb.msg, "", "a callback's stop leaves the ebuf alone");
	jsonlist_free(&l);
	res_free(&r);

	if (jsonlist_init(&l, 0, 0, collect, &r))
		abort();
	ok(jsonlist_feed(&l, S(doc), &eb) == 0 && jsonlist_finish(&l, &env, &envn, &eb) == 0 &&
	   jsonlist_finish(&l, &env, &envn, &eb) == 0 && envn == 12, "finish is idempotent");
	is_int(jsonlist_feed(&l, S("{}"), &eb), -EINVAL, "feed after finish");
	jsonlist_free(&l);
	res_free(&r);
}

/* A megabyte item fed a byte at a time: the carry buffer grows geometrically, no rescans. */
static void test_big_item(void)
{
	size_t n = 2u << 20, i;
	char *doc = malloc(n);
	struct res r;

	memcpy(doc, "{\"items\":[\"", 11);
	for (i = 11; i < n - 4; i++)
		doc[i] = (char)('a' + i % 26);
	memcpy(doc + n - 4, "\"]}\n", 4);
	run(doc, n, 1, 0, NULL, false, &r);
	ok(r.rc == 0 && r.n == 1 && r.lens[0] == n - 13, "2 MiB string item, byte by byte");
	res_free(&r);
	free(doc);
}

static void fault_case(const char *doc, size_t n, size_t step, const char *what)
{
	unsigned long nth, calls;
	struct res r;
	int bad = 0;

	for (nth = 1;; nth++) {
		fault_reset(nth);
		run(doc, n, step, 0, NULL, false, &r);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r.rc != 0;
			res_free(&r);
			break;
		}
		bad += r.rc != -ENOMEM || strstr(r.msg, "out of memory") == NULL;
		res_free(&r);
	}
	ok(bad == 0 && nth > 1, what);
	if (bad)
		diag("%d bad results over %lu runs", bad, nth);
}

static void test_faults(void)
{
	size_t n;
	char *doc = pod_list(&n);

	fault_case(valid[0].doc, strlen(valid[0].doc), 1, "allocation failure: small, bytewise");
	fault_case(valid[1].doc, strlen(valid[1].doc), 7, "allocation failure: small, 7-byte");
	if (!doc) {
		diag("skipping PodList fault case: %s not readable", pod_path);
		return;
	}
	fault_case(doc, n, 1000, "allocation failure: PodList, 1000-byte chunks");
	free(doc);
}

int main(void)
{
	test_valid();
	test_pods();
	test_malformed();
	test_limits();
	test_stop();
	test_big_item();
	test_faults();
	return tap_done();
}
