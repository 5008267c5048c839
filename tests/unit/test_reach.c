// SPDX-License-Identifier: MIT
/* deps: core/reach.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * test_reach.c: the reachability matrix. Goldens of the grid and the JSON, the JSON read back
 * (round trip, any member order), every prefix and a table of malformed documents rejected with
 * a reason, the size limits, rendering errors, the diff, and every allocation failing in turn.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "core/reach.h"

static const char *ids3[] = { "x/a", "x/bb", "long-ns/c" };
static const bool cells3[] = {
	true, false, true,
	false, true, false,
	true, true, true,
};

static struct reach three(void)
{
	return (struct reach){ .port = 80, .proto = IPPROTO_TCP, .family = AF_INET,
			       .n = 3, .ids = ids3, .matrix = cells3 };
}

static const char json3[] =
	"{\"port\":80,\"protocol\":\"TCP\",\"family\":4,\"pods\":[\"x/a\",\"x/bb\",\"long-ns/c\"],"
	"\"matrix\":{\"x/a\":{\"x/a\":true,\"x/bb\":false,\"long-ns/c\":true},"
	"\"x/bb\":{\"x/a\":false,\"x/bb\":true,\"long-ns/c\":false},"
	"\"long-ns/c\":{\"x/a\":true,\"x/bb\":true,\"long-ns/c\":true}}}";

static void goldens(void)
{
	struct reach r = three();
	struct buf b = BUF_INIT;

	is_int(reach_render_grid(&r, &b), 0, "grid renders");
	is_str(b.p,
	       "TCP/80 (IPv4)\n"
	       "from\\to   x/a x/bb long-ns/c\n"
	       "x/a       .   X    .\n"
	       "x/bb      X   .    X\n"
	       "long-ns/c .   .    .\n",
	       "grid golden: columns as wide as ids, no trailing blanks");
	buf_reset(&b);
	r.proto = IPPROTO_UDP;
	r.family = AF_INET6;
	r.port = 65535;
	r.n = 0;
	is_int(reach_render_grid(&r, &b), 0, "empty grid renders");
	is_str(b.p, "UDP/65535 (IPv6)\nfrom\\to\n", "empty grid golden");
	buf_reset(&b);
	r = three();
	is_int(reach_render_json(&r, &b), 0, "json renders");
	is_str(b.p, json3, "json golden");
	buf_reset(&b);
	r.n = 0;
	r.family = AF_INET6;
	is_int(reach_render_json(&r, &b), 0, "empty json renders");
	is_str(b.p, "{\"port\":80,\"protocol\":\"TCP\",\"family\":6,\"pods\":[],\"matrix\":{}}",
	       "empty json golden");
	buf_free(&b);
}

static void round_trip(void)
{
	struct reach r = three(), back;
	struct buf b = BUF_INIT, g1 = BUF_INIT, g2 = BUF_INIT;
	struct ebuf eb = { "" };
	int e;

	e = reach_render_json(&r, &b);
	if (!e)
		e = reach_parse_json(b.p, b.len, &back, &eb);
	is_int(e, 0, "rendered json parses back");
	if (e) {
		diag("%s", eb.msg);
		buf_free(&b);
		return;
	}
	ok(reach_eq(&r, &back), "round trip: same header, pods and cells");
	ok(back.owned != NULL, "the parsed matrix owns its memory");
	is_int(reach_render_grid(&r, &g1) || reach_render_grid(&back, &g2), 0, "grids render");
	is_str(g2.p, g1.p, "round trip: same grid");
	reach_release(&back);
	ok(back.owned == NULL && back.n == 0, "release zeroes");
	reach_release(&back);
	reach_release(NULL);
	buf_free(&b);
	buf_free(&g1);
	buf_free(&g2);
}

/* Rows and columns in another order than the pod list, plus an unknown member: same matrix. */
static void any_order(void)
{
	static const char doc[] =
		"{\"matrix\":{\"long-ns/c\":{\"long-ns/c\":true,\"x/bb\":true,\"x/a\":true},"
		"\"x/bb\":{\"long-ns/c\":false,\"x/a\":false,\"x/bb\":true},"
		"\"x/a\":{\"x/bb\":false,\"long-ns/c\":true,\"x/a\":true}},"
		"\"extra\":[1,2],\"pods\":[\"x/a\",\"x/bb\",\"long-ns/c\"],\"family\":4,"
		"\"protocol\":\"TCP\",\"port\":80}";
	struct reach r = three(), back;
	struct ebuf eb = { "" };

	is_int(reach_parse_json(doc, strlen(doc), &back, &eb), 0, "members in any order parse");
	ok(reach_eq(&r, &back), "members in any order: the same matrix");
	reach_release(&back);
}

/* Every prefix of a valid document ends against a guard page and is rejected. */
static void prefixes(void)
{
	size_t n = strlen(json3), bad = 0;

	for (size_t i = 0; i < n; i++) {
		char *g = guard_copy(json3, i);
		struct ebuf eb = { "" };
		struct reach r;
		int e = reach_parse_json(g, i, &r, &eb);

		bad += e != -EINVAL || !eb.msg[0] || r.owned;
		guard_free(g, i);
	}
	is_int(bad, 0, "every prefix is -EINVAL with a reason");
}

struct bad_case {
	const char *what;
	const char *doc;
	int want;
	const char *why;	/* a substring of the reason */
};

#define HDR "\"port\":80,\"protocol\":\"TCP\",\"family\":4,"
#define P2 "\"pods\":[\"a/a\",\"a/b\"],"
#define ROWA "\"a/a\":{\"a/a\":true,\"a/b\":false}"
#define ROWB "\"a/b\":{\"a/a\":true,\"a/b\":false}"

static const struct bad_case bad_cases[] = {
	{ "not json", "{", -EINVAL, "offset" },
	{ "not an object", "[]", -EINVAL, "expected an object" },
	{ "no port", "{\"protocol\":\"TCP\",\"family\":4,\"pods\":[],\"matrix\":{}}", -EINVAL,
	  "port" },
	{ "port 0", "{\"port\":0,\"protocol\":\"TCP\",\"family\":4,\"pods\":[],\"matrix\":{}}",
	  -EINVAL, "port" },
	{ "port too big",
	  "{\"port\":65536,\"protocol\":\"TCP\",\"family\":4,\"pods\":[],\"matrix\":{}}", -EINVAL,
	  "port" },
	{ "port as string",
	  "{\"port\":\"80\",\"protocol\":\"TCP\",\"family\":4,\"pods\":[],\"matrix\":{}}", -EINVAL,
	  "port" },
	{ "port fraction",
	  "{\"port\":80.5,\"protocol\":\"TCP\",\"family\":4,\"pods\":[],\"matrix\":{}}", -EINVAL,
	  "port" },
	{ "protocol lower case",
	  "{\"port\":80,\"protocol\":\"tcp\",\"family\":4,\"pods\":[],\"matrix\":{}}", -EINVAL,
	  "protocol" },
	{ "protocol with NUL",
	  "{\"port\":80,\"protocol\":\"TCP\\u0000\",\"family\":4,\"pods\":[],\"matrix\":{}}",
	  -EINVAL, "protocol" },
	{ "family 5", "{\"port\":80,\"protocol\":\"UDP\",\"family\":5,\"pods\":[],\"matrix\":{}}",
	  -EINVAL, "family" },
	{ "no pods", "{" HDR "\"matrix\":{}}", -EINVAL, "pods: expected an array" },
	{ "pod not a string", "{" HDR "\"pods\":[1],\"matrix\":{}}", -EINVAL, "pods[0]" },
	{ "empty pod id", "{" HDR "\"pods\":[\"a/a\",\"\"],\"matrix\":{}}", -EINVAL, "pods[1]" },
	{ "pod id with NUL", "{" HDR "\"pods\":[\"a\\u0000b\"],\"matrix\":{}}", -EINVAL,
	  "pods[0]" },
	{ "pod twice", "{" HDR "\"pods\":[\"a/a\",\"a/b\",\"a/a\"],\"matrix\":{}}", -EINVAL,
	  "listed twice" },
	{ "no matrix", "{" HDR P2 "\"x\":1}", -EINVAL, "matrix: expected an object" },
	{ "matrix short a row", "{" HDR P2 "\"matrix\":{" ROWA "}}", -EINVAL,
	  "one member per pod" },
	{ "matrix row twice", "{" HDR P2 "\"matrix\":{" ROWA "," ROWA "}}", -EINVAL,
	  "matrix.a/a: given twice" },
	{ "matrix unknown row", "{" HDR P2 "\"matrix\":{" ROWA ",\"a/c\":{}}}", -EINVAL,
	  "matrix.a/c: not one of the pods" },
	{ "row not an object", "{" HDR P2 "\"matrix\":{" ROWA ",\"a/b\":[true,false]}}", -EINVAL,
	  "matrix.a/b: expected an object" },
	{ "row short", "{" HDR P2 "\"matrix\":{" ROWA ",\"a/b\":{\"a/a\":true}}}", -EINVAL,
	  "matrix.a/b: expected an object" },
	{ "cell twice", "{" HDR P2 "\"matrix\":{" ROWA ",\"a/b\":{\"a/a\":true,\"a/a\":true}}}",
	  -EINVAL, "matrix.a/b.a/a: given twice" },
	{ "cell unknown", "{" HDR P2 "\"matrix\":{" ROWA ",\"a/b\":{\"a/a\":true,\"zz\":true}}}",
	  -EINVAL, "matrix.a/b.zz: not one of the pods" },
	{ "cell not a bool", "{" HDR P2 "\"matrix\":{" ROWA ",\"a/b\":{\"a/a\":true,\"a/b\":1}}}",
	  -EINVAL, "matrix.a/b.a/b: expected true or false" },
	{ "cell null", "{" HDR P2 "\"matrix\":{" ROWA ",\"a/b\":{\"a/a\":null,\"a/b\":true}}}",
	  -EINVAL, "matrix.a/b.a/a: expected true or false" },
	{ "key with NUL", "{" HDR P2 "\"matrix\":{" ROWA ",\"a/b\":{\"a/a\\u0000\":true,"
	  "\"a/b\":true}}}", -EINVAL, "not one of the pods" },
	{ "too deep", "{" HDR P2 "\"matrix\":{" ROWA ",\"a/b\":{\"a/a\":[[[1]]],\"a/b\":true}}}",
	  -E2BIG, "" },
	{ "trailing garbage", "{" HDR P2 "\"matrix\":{" ROWA "," ROWB "}} x", -EINVAL, "offset" },
};

static void malformed(void)
{
	char what[160];

	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct ebuf eb = { "" };
		struct reach r;
		int e = reach_parse_json(c->doc, strlen(c->doc), &r, &eb);

		snprintf(what, sizeof(what), "malformed: %s", c->what);
		is_int(e, c->want, what);
		if (!ok(eb.msg[0] && strstr(eb.msg, c->why) && r.owned == NULL && r.n == 0,
			"  with the reason, nothing kept"))
			diag("reason: %s", eb.msg);
	}
	{
		static const char good[] = "{" HDR P2 "\"matrix\":{" ROWA "," ROWB "}}";
		struct ebuf eb = { "" };
		struct reach r;

		is_int(reach_parse_json(good, strlen(good), &r, &eb), 0, "the table's base parses");
		ok(r.n == 2 && reach_cell(&r, 1, 0) && !reach_cell(&r, 1, 1), "  and reads right");
		reach_release(&r);
	}
}

/* A document with n pods named p0.., ids padded to idlen bytes, all cells true. */
static void big_doc(struct buf *b, size_t n, size_t idlen)
{
	char (*ids)[REACH_MAX_ID + 2] = calloc(n, sizeof(*ids));
	const char **pp = calloc(n, sizeof(*pp));
	bool *cells = calloc(n * n + 1, 1);
	struct reach r = { .port = 81, .proto = IPPROTO_UDP, .family = AF_INET6, .n = n };

	if (!ids || !pp || !cells)
		abort();
	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "p%zu", i);
		memset(ids[i] + strlen(ids[i]), 'z', idlen - strlen(ids[i]));
		pp[i] = ids[i];
	}
	memset(cells, 1, n * n);
	r.ids = pp;
	r.matrix = cells;
	if (reach_render_json(&r, b))
		abort();
	free(ids);
	free(pp);
	free(cells);
}

static void limits(void)
{
	struct buf b = BUF_INIT;
	struct ebuf eb = { "" };
	struct reach r;

	big_doc(&b, REACH_MAX_PODS, 8);
	is_int(reach_parse_json(b.p, b.len, &r, &eb), 0, "REACH_MAX_PODS pods parse");
	ok(r.n == REACH_MAX_PODS && reach_cell(&r, REACH_MAX_PODS - 1, 0), "  all of them");
	reach_release(&r);
	buf_reset(&b);
	big_doc(&b, REACH_MAX_PODS + 1, 8);
	is_int(reach_parse_json(b.p, b.len, &r, &eb), -E2BIG, "one pod more is -E2BIG");
	ok(eb.msg[0] != 0, "  with the reason");
	buf_reset(&b);
	big_doc(&b, 3, REACH_MAX_ID);
	is_int(reach_parse_json(b.p, b.len, &r, &eb), 0, "ids of REACH_MAX_ID bytes parse");
	reach_release(&r);
	buf_reset(&b);
	big_doc(&b, 3, REACH_MAX_ID + 1);
	is_int(reach_parse_json(b.p, b.len, &r, &eb), -E2BIG, "one byte more is -E2BIG");
	buf_free(&b);
}

static void render_errors(void)
{
	static const char *dup[] = { "x/a", "x/a" }, *empty[] = { "x/a", "" };
	static const char *utf[] = { "x/\xff" }, *null[] = { NULL };
	static const bool cells[4];
	struct reach r = three();
	struct buf b = BUF_INIT;

	r.proto = 1;
	is_int(reach_render_grid(&r, &b), -EINVAL, "grid: unknown protocol");
	is_int(reach_render_json(&r, &b), -EINVAL, "json: unknown protocol");
	r = three();
	r.family = 7;
	is_int(reach_render_grid(&r, &b), -EINVAL, "grid: unknown family");
	r = (struct reach){ .port = 1, .proto = IPPROTO_TCP, .family = AF_INET, .n = 2,
			    .ids = dup, .matrix = cells };
	is_int(reach_render_json(&r, &b), -EINVAL, "json: two pods with one id");
	r.ids = empty;
	is_int(reach_render_json(&r, &b), -EINVAL, "json: empty id");
	r.n = 1;
	r.ids = utf;
	is_int(reach_render_json(&r, &b), -EILSEQ, "json: id not UTF-8");
	r.ids = null;
	is_int(reach_render_grid(&r, &b), -EINVAL, "grid: NULL id");
	buf_free(&b);
}

static void diff(void)
{
	static const bool other[] = {
		true, true, true,
		false, true, false,
		true, true, false,
	};
	static const char *ids2[] = { "x/a", "x/bb" };
	struct reach a = three(), b = three();
	struct buf out = BUF_INIT;
	size_t nd = 9;

	is_int(reach_diff(&a, &b, &out, &nd), 0, "diff of equal matrices");
	ok(nd == 0 && out.len == 0 && reach_eq(&a, &b), "  nothing differs");
	b.matrix = other;
	is_int(reach_diff(&a, &b, &out, &nd), 0, "diff of two matrices");
	is_int(nd, 2, "  two cells differ");
	is_str(out.p, "x/a -> x/bb: want ., got X\nlong-ns/c -> long-ns/c: want X, got .\n",
	       "  one line each");
	ok(!reach_eq(&a, &b), "  not equal");
	b = three();
	b.port = 81;
	ok(!reach_eq(&a, &b), "another port is not equal");
	b = three();
	b.ids = (const char *const[]){ "x/a", "x/bb", "other" };
	ok(!reach_eq(&a, &b), "other pods are not equal");
	is_int(reach_diff(&a, &b, &out, &nd), -EINVAL, "diff of other pods is -EINVAL");
	b.n = 2;
	b.ids = ids2;
	is_int(reach_diff(&a, &b, &out, &nd), -EINVAL, "diff of fewer pods is -EINVAL");
	buf_free(&out);
}

/* Render and parse back with the nth allocation failing, for every n. */
static void faults(void)
{
	unsigned long n;
	int e = 0;

	for (n = 1; n < 1000; n++) {
		struct reach r = three(), back = { 0 };
		struct buf b = BUF_INIT, g = BUF_INIT;
		struct ebuf eb = { "" };

		fault_reset(n);
		e = reach_render_grid(&r, &g);
		if (!e)
			e = reach_render_json(&r, &b);
		if (!e)
			e = reach_parse_json(b.p, b.len, &back, &eb);
		if (!e)
			e = reach_diff(&r, &back, &g, &(size_t){ 0 });
		fault_reset(0);
		reach_release(&back);
		buf_free(&b);
		buf_free(&g);
		if (!e)
			break;
		if (e != -ENOMEM) {
			diag("n=%lu: %d %s", n, e, eb.msg);
			break;
		}
	}
	ok(e == 0 && n > 4, "every allocation failure gives -ENOMEM and no leak");
}

int main(void)
{
	goldens();
	round_trip();
	any_order();
	prefixes();
	malformed();
	limits();
	render_errors();
	diff();
	faults();
	return tap_done();
}
