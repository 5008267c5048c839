// SPDX-License-Identifier: MIT
/* deps: codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * test_json.c: the JSON parser and writer. Tables of valid documents (with the compact text the
 * writer must produce), malformed ones in the spirit of JSONTestSuite's y_/n_/i_ files, exact
 * error messages, every truncation of every valid document, integer conversion edges, limits,
 * writer misuse, allocation failure at every point, and the real Kubernetes objects in
 * shared/fixtures. Every parser input sits against a guard page.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "json_eq.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "codec/json.h"

#define S(lit) lit, sizeof(lit) - 1

static const char *fixture_dir = "../../../shared/fixtures/k8s-api-testdata";

static int parse_g(const char *s, size_t n, const struct json_limits *lim, struct json_doc **doc,
		   struct ebuf *eb)
{
	void *g = guard_copy(s, n);
	int r = json_parse(g, n, lim, doc, eb);

	/* the DOM must not borrow from the input: unmap it before anyone looks */
	guard_free(g, n);
	return r;
}

/* Structural invariants of a parsed tree: counts, NUL terminators, keys only in objects. */
static bool dom_sane(const struct json *v, bool in_obj)
{
	const struct json *c;
	size_t k = 0;

	if (in_obj != (v->key != NULL) || (v->key && v->key[v->keylen]))
		return false;
	if ((v->type == JSON_STRING || v->type == JSON_NUMBER) && (!v->str || v->str[v->len]))
		return false;
	json_for_each(c, v) {
		if (!dom_sane(c, v->type == JSON_OBJECT))
			return false;
		k++;
	}
	return k == v->count;
}

static int write_value(const struct json *v, struct buf *b)
{
	struct jw w;

	buf_reset(b);
	jw_init(&w, b);
	jw_value(&w, v);
	return jw_finish(&w);
}

/* parse → write → parse gives the same DOM, and writing again gives the same bytes. */
static bool round_trip(const struct json *root, struct buf *out)
{
	struct json_doc *d2 = NULL;
	struct buf again = BUF_INIT;
	bool good = false;

	if (write_value(root, out))
		goto out;
	if (parse_g(out->p, out->len, NULL, &d2, NULL))
		goto out;
	if (!dom_eq(root, json_root(d2)) || write_value(json_root(d2), &again))
		goto out;
	good = again.len == out->len && memcmp(again.p, out->p, out->len) == 0;
out:
	buf_free(&again);
	json_doc_free(d2);
	return good;
}

struct valid {
	const char *in;
	size_t n;
	const char *out;
};

static const struct valid valid[] = {
	{ S("[[]   ]"), "[[]]" },
	{ S("[\"\"]"), "[\"\"]" },
	{ S("[]"), "[]" },
	{ S("[false]"), "[false]" },
	{ S("[null, 1, \"1\", {}]"), "[null,1,\"1\",{}]" },
	{ S("[1\n]"), "[1]" },
	{ S(" [1]"), "[1]" },
	{ S("[1,null,null,null,2]"), "[1,null,null,null,2]" },
	{ S("[2] "), "[2]" },
	{ S("[123e65]"), "[123e65]" },
	{ S("[0e+1]"), "[0e+1]" },
	{ S("[0e1]"), "[0e1]" },
	{ S("[ 4]"), "[4]" },
	{ S("[-0.000000000000000000000000000000000000000000000000000000000000000000000000000001]"),
	  "[-0.000000000000000000000000000000000000000000000000000000000000000000000000000001]" },
	{ S("[20e1]"), "[20e1]" },
	{ S("[-0]"), "[-0]" },
	{ S("[-123]"), "[-123]" },
	{ S("[1E22]"), "[1E22]" },
	{ S("[1E-2]"), "[1E-2]" },
	{ S("[1E+2]"), "[1E+2]" },
	{ S("[123.456e78]"), "[123.456e78]" },
	{ S("[1e-2]"), "[1e-2]" },
	{ S("[123.456789]"), "[123.456789]" },
	{ S("[123.456e-789]"), "[123.456e-789]" },
	{ S("[0.4e006699999999999999999999999999999999999999999999999999999999999999999969]"),
	  "[0.4e006699999999999999999999999999999999999999999999999999999999999999999969]" },
	{ S("[-237462374673276894279832749832423479823246327846]"),
	  "[-237462374673276894279832749832423479823246327846]" },
	{ S("-0.0e-0"), "-0.0e-0" },
	{ S("1.0"), "1.0" },
	{ S("{\"asd\":\"sdf\", \"dfg\":\"fgh\"}"), "{\"asd\":\"sdf\",\"dfg\":\"fgh\"}" },
	{ S("{\"a\":\"b\",\"a\":\"c\"}"), "{\"a\":\"b\",\"a\":\"c\"}" },
	{ S("{}"), "{}" },
	{ S("{\"\":0}"), "{\"\":0}" },
	{ S("{\"foo\\u0000bar\": 42}"), "{\"foo\\u0000bar\":42}" },
	{ S("{ \"min\": -1.0e+28, \"max\": 1.0e+28 }"), "{\"min\":-1.0e+28,\"max\":1.0e+28}" },
	{ S("{\"a\":[]}"), "{\"a\":[]}" },
	{ S("{\n\"a\": \"b\"\n}"), "{\"a\":\"b\"}" },
	{ S("{\"\\n\":1}"), "{\"\\n\":1}" },
	{ S("{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":[[],[{}]]}"),
	  "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":[[],[{}]]}" },
	{ S("[\"\\u0060\\u012a\\u12AB\"]"), "[\"`\xc4\xaa\xe1\x8a\xab\"]" },
	{ S("[\"\\uD801\\udc37\"]"), "[\"\xf0\x90\x90\xb7\"]" },
	{ S("[\"\\ud83d\\ude39\\ud83d\\udc8d\"]"), "[\"\xf0\x9f\x98\xb9\xf0\x9f\x92\x8d\"]" },
	{ S("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"), "[\"\\\"\\\\/\\b\\f\\n\\r\\t\"]" },
	{ S("[\"\\\\u0000\"]"), "[\"\\\\u0000\"]" },
	{ S("[\"a/*b*/c/*d//e\"]"), "[\"a/*b*/c/*d//e\"]" },
	{ S("[\"\\\\a\"]"), "[\"\\\\a\"]" },
	{ S("[\"\\u0012\"]"), "[\"\\u0012\"]" },
	{ S("[\"\\uFFFF\"]"), "[\"\xef\xbf\xbf\"]" },
	{ S("[\"\\uDBFF\\uDFFF\"]"), "[\"\xf4\x8f\xbf\xbf\"]" },
	{ S("[\"new\\u00A0line\"]"), "[\"new\xc2\xa0line\"]" },
	{ S("[\"\xf4\x8f\xbf\xbf\"]"), "[\"\xf4\x8f\xbf\xbf\"]" },
	{ S("[\"\xef\xbf\xbf\"]"), "[\"\xef\xbf\xbf\"]" },
	{ S("[\"\\u0000\"]"), "[\"\\u0000\"]" },
	{ S("[\"\\u002c\"]"), "[\",\"]" },
	{ S("[\"\xcf\x80\"]"), "[\"\xcf\x80\"]" },
	{ S("[\"\xf0\x9b\xbf\xbf\"]"), "[\"\xf0\x9b\xbf\xbf\"]" },
	{ S("[\"\\uD834\\uDd1e\"]"), "[\"\xf0\x9d\x84\x9e\"]" },
	{ S("[\"\\u0821\"]"), "[\"\xe0\xa0\xa1\"]" },
	{ S("[\"\\u0123\"]"), "[\"\xc4\xa3\"]" },
	{ S("[\"\xe2\x80\xa8\"]"), "[\"\xe2\x80\xa8\"]" },
	{ S("[\"\\u005C\"]"), "[\"\\\\\"]" },
	{ S("[\"\\u0022\"]"), "[\"\\\"\"]" },
	{ S("[\"a\x7f" "a\"]"), "[\"a\x7f" "a\"]" },
	{ S("[\"\\u001f\\u0001\\u007f\"]"), "[\"\\u001f\\u0001\x7f\"]" },
	{ S("[\"\\u00e9\\u00E9\"]"), "[\"\xc3\xa9\xc3\xa9\"]" },
	{ S("[\"\xed\x9f\xbf\xee\x80\x80\"]"), "[\"\xed\x9f\xbf\xee\x80\x80\"]" },
	{ S("[\"\\uDBFF\\uDFFE\\uD83F\\uDFFE\\uFDD0\"]"),
	  "[\"\xf4\x8f\xbf\xbe\xf0\x9f\xbf\xbe\xef\xb7\x90\"]" },
	{ S("false"), "false" },
	{ S("42"), "42" },
	{ S("-0.1"), "-0.1" },
	{ S("null"), "null" },
	{ S("\"asd\""), "\"asd\"" },
	{ S("true"), "true" },
	{ S("\"\""), "\"\"" },
	{ S("\" \""), "\" \"" },
	{ S("[\"a\"]\n"), "[\"a\"]" },
	{ S(" [] "), "[]" },
	{ S("\t\r\n 1 \t\r\n"), "1" },
	{ S("[true,false , null ,\"x\" ]"), "[true,false,null,\"x\"]" },
};

static void test_valid(void)
{
	struct buf b = BUF_INIT;
	struct json_doc *doc;
	struct ebuf eb;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		const struct valid *c = &valid[i];
		bool good;

		eb.msg[0] = '\0';
		r = parse_g(c->in, c->n, NULL, &doc, &eb);
		good = r == 0 && doc && dom_sane(json_root(doc), false) &&
		       write_value(json_root(doc), &b) == 0 && strcmp(b.p, c->out) == 0 &&
		       round_trip(json_root(doc), &b);
		if (!ok(good, "valid document parses and writes back compact"))
			diag("case %zu: r=%d (%s) out=%s", i, r, eb.msg, b.p ? b.p : "-");
		json_doc_free(doc);
	}
	buf_free(&b);
}

struct bad {
	const char *in;
	size_t n;
};

/* Every entry must fail with -EINVAL; the i_ cases of JSONTestSuite we decide to reject too. */
static const struct bad malformed[] = {
	{ S("") }, { S(" ") }, { S("\n\t\r ") },
	{ S("[1 true]") }, { S("[a\xe5]") }, { S("[\"\": 1]") }, { S("[\"\"],") }, { S("[,1]") },
	{ S("[1,,2]") }, { S("[\"x\",,]") }, { S("[\"x\"]]") }, { S("[\"\",]") }, { S("[\"x\"") },
	{ S("[x") }, { S("[3[4]]") }, { S("[\xff]") }, { S("[1:2]") }, { S("[,]") }, { S("[-]") },
	{ S("[   , \"\"]") }, { S("[\"a\",\n4\n,1,") }, { S("[1,]") }, { S("[1,,]") },
	{ S("[\"\va\"\\f]") }, { S("[*]") }, { S("[\"\"") }, { S("[1,") }, { S("[1,\n1\n,1") },
	{ S("[{}") }, { S("[fals]") }, { S("[nul]") }, { S("[tru]") }, { S("123\0") },
	{ S("[++1234]") }, { S("[+1]") }, { S("[+Inf]") }, { S("[-01]") }, { S("[-1.0.]") },
	{ S("[-2.]") }, { S("[-NaN]") }, { S("[.-1]") }, { S("[.2e-3]") }, { S("[0.1.2]") },
	{ S("[0.3e+]") }, { S("[0.3e]") }, { S("[0.e1]") }, { S("[0E+]") }, { S("[0E]") },
	{ S("[0e+]") }, { S("[0e]") }, { S("[1.0e+]") }, { S("[1.0e-]") }, { S("[1.0e]") },
	{ S("[1 000.0]") }, { S("[1eE2]") }, { S("[2.e+3]") }, { S("[2.e-3]") }, { S("[2.e3]") },
	{ S("[9.e+]") }, { S("[Inf]") }, { S("[NaN]") }, { S("[\xef\xbc\x91]") }, { S("[1+2]") },
	{ S("[0x1]") }, { S("[0x42]") }, { S("[Infinity]") }, { S("[0e+-1]") },
	{ S("[-123.123foo]") }, { S("[123\xe5]") }, { S("[1e1\xe5]") }, { S("[0\xe5]") },
	{ S("[-Infinity]") }, { S("[-foo]") }, { S("[- 1]") }, { S("[-012]") }, { S("[-.123]") },
	{ S("[-1x]") }, { S("[1ea]") }, { S("[1e\xe5]") }, { S("[1.]") }, { S("[.123]") },
	{ S("[1.2a-3]") }, { S("[1.8011670033376514H-308]") }, { S("[012]") }, { S("01") },
	{ S("-") }, { S("1e") }, { S("1e+") }, { S("- 0") }, { S("00") }, { S("-00") },
	{ S("[\"x\", truth]") }, { S("{[: \"x\"}") }, { S("{\"x\", null}") },
	{ S("{\"x\"::\"b\"}") }, { S("{\xf0\x9f\x87\xa8\xf0\x9f\x87\xad}") },
	{ S("{\"a\":\"a\" 123}") }, { S("{key: 'value'}") }, { S("{\"\xb9\":\"0\",}") },
	{ S("{\"a\" b}") }, { S("{:\"b\"}") }, { S("{\"a\" \"b\"}") }, { S("{\"a\":") },
	{ S("{\"a\"") }, { S("{1:1}") }, { S("{9999E9999:1}") }, { S("{null:null,null:null}") },
	{ S("{\"id\":0,,,,,}") }, { S("{'a':0}") }, { S("{\"id\":0,}") },
	{ S("{\"a\":\"b\"}/**/") }, { S("{\"a\":\"b\"}/**//") }, { S("{\"a\":\"b\"}//") },
	{ S("{\"a\":\"b\"}/") }, { S("{\"a\":\"b\",,\"c\":\"d\"}") }, { S("{a: \"b\"}") },
	{ S("{\"a\":\"a") }, { S("{ \"foo\" : \"bar\", \"a\" }") }, { S("{\"a\":\"b\"}#") },
	{ S("[\"\\uD800\\\"]") }, { S("[\"\\uD800\\u\"]") }, { S("[\"\\uD800\\u1\"]") },
	{ S("[\"\\uD800\\u1x\"]") }, { S("[\xc3\xa9]") }, { S("[\"\\\0\"]") }, { S("[\"\\x00\"]") },
	{ S("[\"\\\\\\\"]") }, { S("[\"\\\t\"]") }, { S("[\"\\\xf0\x9f\x8c\x80\"]") },
	{ S("[\"\\\"]") }, { S("[\"\\u00A\"]") }, { S("[\"\\uD834\\uDd\"]") },
	{ S("[\"\\uD800\\uD800\\x\"]") }, { S("[\"\\u\xe5\"]") }, { S("[\"\\a\"]") },
	{ S("[\"\\uqqqq\"]") }, { S("[\"\\\xe5\"]") }, { S("[\\u0020\"asd\"]") }, { S("[\\n]") },
	{ S("\"") }, { S("['single quote']") }, { S("abc") }, { S("[\"\\") },
	{ S("[\"a\0a\"]") }, { S("[\"new\nline\"]") }, { S("[\"\t\"]") }, { S("\"\\UA66D\"") },
	{ S("\"\"x") }, { S("<.>") }, { S("[<null>]") }, { S("[1]x") }, { S("[1]]") },
	{ S("[\"asd]") }, { S("a\xc3\xa5") }, { S("[True]") }, { S("1]") },
	{ S("{\"x\": true,") }, { S("[][]") }, { S("]") }, { S("\xef\xbb{}") }, { S("\xe5") },
	{ S("[") }, { S("[\0]") }, { S("2@") }, { S("{}}") }, { S("{\"\":") },
	{ S("{\"a\":/*comment*/\"b\"}") }, { S("{\"a\": true} \"x\"") }, { S("['") }, { S("[,") },
	{ S("[{") }, { S("[\"a") }, { S("[\"a\"") }, { S("{") }, { S("{]") }, { S("{,") },
	{ S("{[") }, { S("{\"a") }, { S("{'a'") }, { S("[\"\\{[\"\\{[\"\\{[\"\\{") }, { S("\xe9") },
	{ S("*") }, { S("{\"a\":\"b\"}#{}") }, { S("[\xe2\x81\xa0]") }, { S("[\\u000A\"\"]") },
	{ S("[1") }, { S("[ false, nul") }, { S("[ true, fals") }, { S("[ false, tru") },
	{ S("{\"asd\":\"asd\"") }, { S("\xc3\xa5") }, { S("[\f]") }, { S("\xef\xbb\xbf") },
	{ S("\xef\xbb\xbf{}") }, { S("[\"\\uDFAA\"]") }, { S("[\"\\uDADA\"]") },
	{ S("[\"\\uD800\\uD800\\n\"]") }, { S("[\"\\ud800\"]") }, { S("[\"\\ud800abc\"]") },
	{ S("[\"\\uDd1e\\uD834\"]") }, { S("[\"\xf4\xbf\xbf\xbf\"]") }, { S("[\"\xc0\xaf\"]") },
	{ S("[\"\xfc\x83\xbf\xbf\xbf\xbf\"]") }, { S("[\"\xfc\x80\x80\x80\x80\x80\"]") },
	{ S("[\"\xe0\xff\"]") }, { S("[\"\xed\xa0\x80\"]") }, { S("[\"\xe9\"]") },
	{ S("[\"\x81\"]") }, { S("\xff\xfe[\0\"\0\xe9\0\"\0]\0") }, { S("\0[\0\"\0\xe9\0\"\0]") },
	{ S("[\"\xe0\x80\xaf\"]") }, { S("[\"\xf0\x80\x80\xaf\"]") },
	{ S("[\"\xf4\x90\x80\x80\"]") },
	{ S("[\"\xc1\xbf\"]") }, { S("[\"\xf5\x80\x80\x80\"]") }, { S("[\"\xf0\x9f\x98\"]") },
	{ S("\"\xe2\x82") }, { S("\"\xf0") }, { S("[\"\x7f\x80\"]") }, { S("\"\x1f\"") },
	{ S("\"\\u12") }, { S("\"\\uD83D\\uDE") }, { S("\"\\uD83D\\") }, { S("\"\\uD83D") },
	{ S("\"\\uD800\\uE000\"") }, { S("\"\\uD800\\uFFFF\"") }, { S("\"\\ud800\\u0041\"") },
	{ S("\"\\uDBFF\\uDBFF\\uDC00\"") }, { S("tru") }, { S("nul") }, { S("fals") },
	{ S("truE") }, { S("nulll") }, { S("[nulL]") },
	{ S("{\"a\":1}{\"a\":1}") }, { S("1 2") }, { S("\"a\" \"b\"") }, { S("[1]\v") },
};

static void test_malformed(void)
{
	struct json_doc *doc;
	struct ebuf eb;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		eb.msg[0] = '\0';
		doc = (struct json_doc *)&eb; /* must be reset to NULL */
		r = parse_g(malformed[i].in, malformed[i].n, NULL, &doc, &eb);
		if (!ok(r == -EINVAL && !doc && strncmp(eb.msg, "offset ", 7) == 0,
			"malformed document is rejected with a located reason"))
			diag("case %zu: r=%d msg=%s", i, r, eb.msg);
		if (r == 0)
			json_doc_free(doc);
	}
}

struct msg_case {
	const char *in;
	size_t n;
	struct json_limits lim;
	int err;
	const char *msg;
};

static const struct msg_case msgs[] = {
	{ S(""), { 0 }, -EINVAL, "offset 0: empty input" },
	{ S("   "), { 0 }, -EINVAL, "offset 3: unexpected end of input, expected a value" },
	{ S("[1,]"), { 0 }, -EINVAL, "offset 3: unexpected ']', expected a value" },
	{ S("{\"a\" 1}"), { 0 }, -EINVAL, "offset 5: unexpected '1', expected ':'" },
	{ S("{1:2}"), { 0 }, -EINVAL, "offset 1: unexpected '1', expected a member name" },
	{ S("{\"a\":1,}"), { 0 }, -EINVAL, "offset 7: unexpected '}', expected a member name" },
	{ S("[\"\\q\"]"), { 0 }, -EINVAL, "offset 2: invalid escape \\q" },
	{ S("[\"\\uD800\"]"), { 0 }, -EINVAL, "offset 2: lone high surrogate \\ud800" },
	{ S("\"\\uDC00\""), { 0 }, -EINVAL, "offset 1: lone low surrogate \\udc00" },
	{ S("\"\\u12G4\""), { 0 }, -EINVAL, "offset 1: \\u needs four hex digits" },
	{ S("[01]"), { 0 }, -EINVAL, "offset 2: invalid number" },
	{ S("[1.]"), { 0 }, -EINVAL, "offset 3: invalid number" },
	{ S("[-]"), { 0 }, -EINVAL, "offset 2: invalid number" },
	{ S("1e+x"), { 0 }, -EINVAL, "offset 3: invalid number" },
	{ S("[1] x"), { 0 }, -EINVAL,
	  "offset 4: unexpected 'x', expected the end of input after the value" },
	{ S("\"a\x01\""), { 0 }, -EINVAL, "offset 2: unescaped control character 0x01 in string" },
	{ S("\"\x1f\""), { 0 }, -EINVAL, "offset 1: unescaped control character 0x1f in string" },
	{ S("\"\\uD800\\uE000\""), { 0 }, -EINVAL, "offset 1: lone high surrogate \\ud800" },
	{ S("\"\xc0\xaf\""), { 0 }, -EINVAL, "offset 1: invalid UTF-8 byte 0xc0" },
	{ S("[1"), { 0 }, -EINVAL, "offset 2: unexpected end of input, expected ',' or ']'" },
	{ S("{\"a\":1"), { 0 }, -EINVAL, "offset 6: unexpected end of input, expected ',' or '}'" },
	{ S("[1}"), { 0 }, -EINVAL, "offset 2: unexpected '}', expected ',' or ']'" },
	{ S("\"abc"), { 0 }, -EINVAL, "offset 4: unexpected end of input in string" },
	{ S("tru"), { 0 }, -EINVAL, "offset 0: invalid literal, expected true" },
	{ S("\xef\xbb\xbf{}"), { 0 }, -EINVAL, "offset 0: unexpected byte 0xef, expected a value" },
	{ S("[\"\\\x01\"]"), { 0 }, -EINVAL, "offset 2: invalid escape: byte 0x01 after \\" },
	{ S("[[[1]]]"), { .max_depth = 2 }, -E2BIG, "offset 2: nesting deeper than 2" },
	{ S("[1,2]"), { .max_nodes = 2 }, -E2BIG, "offset 3: more than 2 values" },
	{ S("[1,2]"), { .max_bytes = 4 }, -E2BIG, "offset 4: input of 5 bytes is over the limit" },
};

static void test_messages(void)
{
	struct json_doc *doc;
	struct ebuf eb;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(msgs); i++) {
		eb.msg[0] = '\0';
		r = parse_g(msgs[i].in, msgs[i].n, &msgs[i].lim, &doc, &eb);
		is_int(r, msgs[i].err, "error code");
		is_str(eb.msg, msgs[i].msg, "error message names the offset and the reason");
		if (!r)
			json_doc_free(doc);
	}
	eb.msg[0] = 'x';
	eb.msg[1] = '\0';
	r = parse_g(S("[1]"), NULL, &doc, &eb);
	ok(r == 0 && strcmp(eb.msg, "x") == 0, "success leaves the ebuf alone");
	json_doc_free(doc);
	ok(json_parse(S("1"), NULL, NULL, NULL) == -EINVAL, "NULL out is -EINVAL");
	ok(json_parse(NULL, 3, NULL, &doc, NULL) == -EINVAL && !doc, "NULL input is -EINVAL");
	ok(json_parse(S("1"), NULL, &doc, NULL) == 0, "NULL ebuf is fine");
	json_doc_free(doc);
	json_doc_free(NULL);
	ok(json_root(NULL) == NULL, "json_root(NULL) is NULL");
}

/*
 * Every proper prefix of a document that is not a bare number must fail (a number's prefix
 * can itself be a number); prefixes ending in the trailing whitespace succeed. Each prefix
 * ends against the guard page.
 */
static bool truncations_fail(const char *in, size_t n, size_t step)
{
	struct json_doc *doc;
	size_t end = n, k;
	bool number, good = true;
	int r;

	while (end && strchr(" \t\r\n", in[end - 1]))
		end--;
	r = parse_g(in, n, NULL, &doc, NULL);
	if (r)
		return false;
	number = json_root(doc)->type == JSON_NUMBER;
	json_doc_free(doc);
	/* with a stride, still try each of the last bytes: that is where closers are */
	for (k = 0; k < n; k += k + step < n ? step : 1) {
		r = parse_g(in, k, NULL, &doc, NULL);
		json_doc_free(doc);
		if (k >= end ? r != 0 : r != -EINVAL && !(number && r == 0)) {
			diag("prefix of %zu bytes: r=%d", k, r);
			good = false;
		}
	}
	return good;
}

static void test_truncation(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid); i++)
		if (!ok(truncations_fail(valid[i].in, valid[i].n, 1),
			"every truncation fails cleanly"))
			diag("case %zu", i);
}

static void test_absent_null_empty(void)
{
	static const char in[] = "{\"n\":null,\"s\":\"\",\"a\":[],\"o\":{},\"z\":\"a\\u0000b\","
				 "\"d\":1,\"d\":2,\"t\":true,\"f\":false}";
	const struct json *root, *v, *it;
	struct json_doc *doc;
	size_t k = 0;

	if (!ok(parse_g(in, sizeof(in) - 1, NULL, &doc, NULL) == 0, "parse absent/null/empty doc"))
		return;
	root = json_root(doc);
	ok(json_get(root, "missing") == NULL, "absent key is NULL");
	ok(json_is(json_get(root, "n"), JSON_NULL), "null is a JSON_NULL node");
	v = json_get(root, "s");
	ok(json_is(v, JSON_STRING) && v->len == 0 && v->str && v->str[0] == '\0',
	   "empty string is a string node of len 0");
	ok(json_is(json_get(root, "a"), JSON_ARRAY) && json_get(root, "a")->count == 0 &&
		   !json_get(root, "a")->child, "empty array");
	ok(json_is(json_get(root, "o"), JSON_OBJECT) && json_get(root, "o")->count == 0,
	   "empty object");
	v = json_get(root, "z");
	ok(v && v->len == 3 && json_str_has_nul(v) && !json_str_has_nul(json_get(root, "s")),
	   "embedded NUL is kept and reported");
	ok(json_is(json_get(root, "t"), JSON_TRUE) && json_is_bool(json_get(root, "f")) &&
		   !json_is_bool(json_get(root, "n")), "booleans");
	ok(json_get(root, "d") && strcmp(json_get(root, "d")->str, "1") == 0,
	   "duplicate key: json_get returns the first");
	ok(root->count == 9, "object count includes duplicates");
	json_for_each(it, root)
		k++;
	ok(k == 9, "json_for_each visits every member");
	ok(json_get(json_get(root, "a"), "x") == NULL && json_get(NULL, "x") == NULL &&
		   json_get(root, NULL) == NULL, "json_get on non-objects and NULL");
	ok(json_at(root, 0) == NULL && json_at(NULL, 0) == NULL, "json_at on non-arrays");
	json_doc_free(doc);

	if (!ok(parse_g(S("[10,[20],{\"k\":30}]"), NULL, &doc, NULL) == 0, "parse array"))
		return;
	root = json_root(doc);
	ok(root->count == 3 && json_at(root, 3) == NULL && json_at(root, (size_t)-1) == NULL,
	   "json_at out of range");
	ok(strcmp(json_at(root, 0)->str, "10") == 0 && json_at(root, 1)->count == 1 &&
		   json_at(root, 0)->key == NULL, "json_at in range; array elements have no key");
	v = json_get(json_at(root, 2), "k");
	ok(v && v->keylen == 1 && strcmp(v->key, "k") == 0 && strcmp(v->str, "30") == 0,
	   "member key and value");
	json_doc_free(doc);
}

struct int_case {
	const char *in;
	int ru;
	uint64_t u;
	int ri;
	int64_t i;
};

static const struct int_case ints[] = {
	{ "0", 0, 0, 0, 0 },
	{ "-0", 0, 0, 0, 0 },
	{ "7", 0, 7, 0, 7 },
	{ "-1", -ERANGE, 0, 0, -1 },
	{ "18446744073709551615", 0, UINT64_MAX, -ERANGE, 0 },
	{ "18446744073709551616", -ERANGE, 0, -ERANGE, 0 },
	{ "99999999999999999999999", -ERANGE, 0, -ERANGE, 0 },
	{ "9223372036854775807", 0, INT64_MAX, 0, INT64_MAX },
	{ "9223372036854775808", 0, (uint64_t)INT64_MAX + 1, -ERANGE, 0 },
	{ "-9223372036854775808", -ERANGE, 0, 0, INT64_MIN },
	{ "-9223372036854775809", -ERANGE, 0, -ERANGE, 0 },
	{ "-18446744073709551616", -ERANGE, 0, -ERANGE, 0 },
	{ "1.0", -EINVAL, 0, -EINVAL, 0 },
	{ "1e3", -EINVAL, 0, -EINVAL, 0 },
	{ "1E0", -EINVAL, 0, -EINVAL, 0 },
	{ "-0.0", -EINVAL, 0, -EINVAL, 0 },
	{ "99999999999999999999999.5", -EINVAL, 0, -EINVAL, 0 },
	{ "\"5\"", -EINVAL, 0, -EINVAL, 0 },
	{ "null", -EINVAL, 0, -EINVAL, 0 },
	{ "[5]", -EINVAL, 0, -EINVAL, 0 },
};

static void test_integers(void)
{
	struct json_doc *doc;
	size_t i;
	uint64_t u;
	int64_t s;
	int r;

	for (i = 0; i < ARRAY_SIZE(ints); i++) {
		const struct int_case *c = &ints[i];

		if (!ok(parse_g(c->in, strlen(c->in), NULL, &doc, NULL) == 0, c->in))
			continue;
		u = 12345;
		r = json_u64(json_root(doc), &u);
		is_int(r, c->ru, "json_u64 result");
		ok(r ? u == 12345 : u == c->u, "json_u64 value (untouched on error)");
		s = 12345;
		r = json_i64(json_root(doc), &s);
		is_int(r, c->ri, "json_i64 result");
		ok(r ? s == 12345 : s == c->i, "json_i64 value (untouched on error)");
		json_doc_free(doc);
	}
	ok(json_u64(NULL, &u) == -EINVAL && json_i64(NULL, &s) == -EINVAL, "absent is -EINVAL");
}

static int parse_lim(const char *s, size_t n, size_t depth, size_t bytes, size_t nodes)
{
	struct json_limits lim = { .max_depth = depth, .max_bytes = bytes, .max_nodes = nodes };
	struct json_doc *doc = NULL;
	int r = parse_g(s, n, &lim, &doc, NULL);

	json_doc_free(doc);
	return r;
}

static char *nest(size_t depth, const char *open, const char *inner, const char *close)
{
	size_t lo = strlen(open), li = strlen(inner), lc = strlen(close), i;
	char *s = malloc(depth * (lo + lc) + li + 1), *p = s;

	for (i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, inner, li);
	p += li;
	for (i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static void test_limits(void)
{
	struct json_limits huge = { .max_depth = SIZE_MAX };
	struct json_doc *doc = NULL;
	struct buf b = BUF_INIT;
	char *s;
	int r;

	is_int(parse_lim(S("[[[1]]]"), 3, 0, 0), 0, "depth 3 within max_depth 3");
	is_int(parse_lim(S("[[[[1]]]]"), 3, 0, 0), -E2BIG, "depth 4 over max_depth 3");
	is_int(parse_lim(S("{\"a\":{\"b\":{\"c\":{}}}}"), 3, 0, 0), -E2BIG, "objects count too");
	is_int(parse_lim(S("[[],[],[1]]"), 2, 0, 0), 0, "siblings do not add depth");
	is_int(parse_lim(S("1"), 1, 0, 0), 0, "scalar at depth 0");
	is_int(parse_lim(S("[1,2]"), 0, 5, 0), 0, "input exactly max_bytes");
	is_int(parse_lim(S("[1,2] "), 0, 5, 0), -E2BIG, "input one byte over max_bytes");
	is_int(parse_lim(S("[1,2]"), 0, 0, 3), 0, "exactly max_nodes values");
	is_int(parse_lim(S("[1,[]]"), 0, 0, 2), -E2BIG, "one value over max_nodes");
	is_int(parse_lim(S("{\"a\":1}"), 0, 0, 2), 0, "keys are not values");

	s = nest(JSON_DEFAULT_DEPTH, "[", "", "]");
	is_int(parse_lim(s, strlen(s), 0, 0, 0), 0, "default depth: 64 levels");
	r = parse_g(s, strlen(s), NULL, &doc, NULL);
	ok(r == 0 && write_value(json_root(doc), &b) == 0 && strcmp(b.p, s) == 0,
	   "writer takes 64 levels (JW_MAX_DEPTH)");
	json_doc_free(doc);
	free(s);
	s = nest(JSON_DEFAULT_DEPTH + 1, "{\"k\":", "1", "}");
	is_int(parse_lim(s, strlen(s), 0, 0, 0), -E2BIG, "default depth: 65 levels rejected");
	r = parse_g(s, strlen(s), &huge, &doc, NULL);
	is_int(r, 0, "65 levels with a larger max_depth");
	is_int(write_value(json_root(doc), &b), -EINVAL, "writer refuses 65 levels");
	json_doc_free(doc);
	free(s);

	/* nesting lives on the heap: a huge limit and a deep document cannot blow the C stack */
	s = nest(200000, "[", "", "]");
	r = parse_g(s, strlen(s), &huge, &doc, NULL);
	is_int(r, 0, "200000 levels with max_depth SIZE_MAX");
	json_doc_free(doc);
	s[200000] = '\0';
	is_int(parse_lim(s, 200000, SIZE_MAX, 0, 0), -EINVAL, "200000 unclosed levels");
	is_int(parse_lim(s, 200000, 0, 0, 0), -E2BIG, "200000 levels, default depth");
	free(s);
	buf_free(&b);
}

static void test_big(void)
{
	const size_t n = 300000;
	const struct json *root;
	struct json_doc *doc;
	struct buf in = BUF_INIT, out = BUF_INIT;
	size_t i;
	int r = 0;

	r |= buf_addc(&in, '[');
	for (i = 0; i < n; i++)
		r |= buf_add(&in, i ? ",7" : "7", i ? 2 : 1);
	r |= buf_add(&in, "]", 1);
	ok(r == 0 && parse_g(in.p, in.len, NULL, &doc, NULL) == 0, "300000-element array");
	root = json_root(doc);
	ok(root->count == n && strcmp(json_at(root, n - 1)->str, "7") == 0, "count and last");
	ok(write_value(root, &out) == 0 && out.len == in.len && !memcmp(out.p, in.p, in.len),
	   "written back identically");
	json_doc_free(doc);
	is_int(parse_lim(in.p, in.len, 0, 0, n), -E2BIG, "max_nodes counts the container");

	/* a long string of escapes: decoded size differs from source size */
	buf_reset(&in);
	r = buf_addc(&in, '"');
	for (i = 0; i < 50000; i++)
		r |= buf_adds(&in, "\\u00e9\\n\\ud83d\\ude00x");
	r |= buf_addc(&in, '"');
	ok(r == 0 && parse_g(in.p, in.len, NULL, &doc, NULL) == 0, "long escaped string");
	ok(json_root(doc)->len == 50000 * 8 && round_trip(json_root(doc), &out),
	   "long string round-trips");
	json_doc_free(doc);
	buf_free(&in);
	buf_free(&out);
}

/* Writer scripts: one character per call; the output must match even after an error. */
static void run_script(struct jw *w, const char *ops)
{
	for (; *ops; ops++) {
		if (*ops == '{')
			jw_obj_begin(w);
		else if (*ops == '}')
			jw_obj_end(w);
		else if (*ops == '[')
			jw_arr_begin(w);
		else if (*ops == ']')
			jw_arr_end(w);
		else if (*ops == 'k' || *ops == 'K')
			jw_key(w, *ops == 'k' ? "k" : NULL);
		else if (*ops == 's' || *ops == 'S')
			jw_str(w, *ops == 's' ? "s" : NULL);
		else if (*ops == 'u')
			jw_u64(w, 1);
		else if (*ops == 'i')
			jw_i64(w, -2);
		else if (*ops == 'n')
			jw_null(w);
		else if (*ops == 't')
			jw_bool(w, true);
		else if (*ops == 'V')
			jw_value(w, NULL);
	}
}

static const struct {
	const char *ops;
	int err;
	const char *out;
} scripts[] = {
	{ "[]", 0, "[]" },
	{ "{}", 0, "{}" },
	{ "u", 0, "1" },
	{ "{ku}", 0, "{\"k\":1}" },
	{ "[uis{}[]nt]", 0, "[1,-2,\"s\",{},[],null,true]" },
	{ "{k[]k{}kskn}", 0, "{\"k\":[],\"k\":{},\"k\":\"s\",\"k\":null}" },
	{ "[[[{k[u]}]]]", 0, "[[[{\"k\":[1]}]]]" },
	{ "", -EINVAL, "" },
	{ "uu", -EINVAL, "1" },
	{ "k", -EINVAL, "" },
	{ "{u}", -EINVAL, "{" },
	{ "{kk", -EINVAL, "{\"k\":" },
	{ "{k}", -EINVAL, "{\"k\":" },
	{ "{]", -EINVAL, "{" },
	{ "[}", -EINVAL, "[" },
	{ "[", -EINVAL, "[" },
	{ "{k", -EINVAL, "{\"k\":" },
	{ "]", -EINVAL, "" },
	{ "[]]", -EINVAL, "[]" },
	{ "[k]", -EINVAL, "[" },
	{ "S", -EINVAL, "" },
	{ "{K}", -EINVAL, "{" },
	{ "[V]", -EINVAL, "[" },
	{ "[u}u]", -EINVAL, "[1" },
};

static void test_writer_scripts(void)
{
	struct buf b = BUF_INIT;
	struct jw w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(scripts); i++) {
		buf_reset(&b);
		jw_init(&w, &b);
		run_script(&w, scripts[i].ops);
		is_int(jw_finish(&w), scripts[i].err, scripts[i].ops);
		is_str(b.p ? b.p : "", scripts[i].out, "writer output (sticky after an error)");
	}
	buf_free(&b);
}

static void test_writer(void)
{
	static const char raw[] = "\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\"\\/\x7f\xc3\xa9";
	static const char *const ill[] = { "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe0\x80\x80", "\xff", "a\x80", "\xf0\x9f\x98", "\xc3", "ok\xf8\x88\x80\x80\x80" };
	struct json_doc *doc;
	struct buf b = BUF_INIT;
	struct jw w;
	unsigned char c;
	size_t i;
	int r, bad = 0;

	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "name", "x");
	jw_ku64(&w, "n", 7);
	jw_key(&w, "arr");
	jw_arr_begin(&w);
	jw_i64(&w, INT64_MIN);
	jw_i64(&w, INT64_MAX);
	jw_u64(&w, UINT64_MAX);
	jw_u64(&w, 0);
	jw_i64(&w, 0);
	jw_bool(&w, true);
	jw_bool(&w, false);
	jw_null(&w);
	jw_str(&w, "");
	jw_arr_end(&w);
	jw_key(&w, "e\"\n");
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	is_int(jw_finish(&w), 0, "writer: full document");
	is_str(b.p, "{\"name\":\"x\",\"n\":7,\"arr\":[-9223372036854775808,9223372036854775807,"
		    "18446744073709551615,0,0,true,false,null,\"\"],\"e\\\"\\n\":{}}",
	       "writer: compact text");

	buf_reset(&b);
	jw_init(&w, &b);
	jw_strn(&w, raw, sizeof(raw) - 1);
	is_int(jw_finish(&w), 0, "writer: control characters");
	is_str(b.p, "\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\\\"\\\\/\x7f\xc3\xa9\"",
	       "writer: short escapes where they exist, \\u00XX otherwise");
	r = parse_g(b.p, b.len, NULL, &doc, NULL);
	ok(r == 0 && json_root(doc)->len == sizeof(raw) - 1 &&
		   memcmp(json_root(doc)->str, raw, sizeof(raw) - 1) == 0,
	   "escaped string parses back to the same bytes");
	json_doc_free(doc);

	for (i = 0; i < 256; i++) {
		c = (unsigned char)i;
		buf_reset(&b);
		jw_init(&w, &b);
		jw_strn(&w, (char *)&c, 1);
		r = jw_finish(&w);
		if (r != (c < 0x80 ? 0 : -EILSEQ))
			bad++;
		if (!r && parse_g(b.p, b.len, NULL, &doc, NULL) == 0) {
			bad += json_root(doc)->len != 1 ||
			       (unsigned char)json_root(doc)->str[0] != c;
			json_doc_free(doc);
		} else if (!r) {
			bad++;
		}
	}
	is_int(bad, 0, "writer: every single byte escapes or is refused as -EILSEQ");
	for (i = 0; i < ARRAY_SIZE(ill); i++) {
		buf_reset(&b);
		jw_init(&w, &b);
		jw_arr_begin(&w);
		jw_str(&w, ill[i]);
		jw_arr_end(&w);
		is_int(jw_finish(&w), -EILSEQ, "writer: invalid UTF-8 is -EILSEQ");
	}
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "\xc0\x80");
	is_int(jw_finish(&w), -EILSEQ, "writer: invalid UTF-8 in a key is -EILSEQ");

	buf_free(&b);
	b.max = 5;
	jw_init(&w, &b);
	jw_arr_begin(&w);
	for (i = 0; i < 10; i++)
		jw_u64(&w, i);
	jw_arr_end(&w);
	is_int(jw_finish(&w), -EMSGSIZE, "writer: a bounded buf gives -EMSGSIZE");
	ok(b.len <= 5, "writer: never past the bound");
	buf_free(&b);
	jw_init(&w, NULL);
	jw_null(&w);
	is_int(jw_finish(&w), -EINVAL, "writer: NULL buf");
}

static void test_writer_numbers(void)
{
	static const struct {
		const char *text;
		int err;
	} nums[] = { { "1.5e3", 0 }, { "-0", 0 }, { "01", -EINVAL }, { "", -EINVAL },
		     { "1.", -EINVAL }, { "1 ", -EINVAL }, { "+1", -EINVAL }, { "NaN", -EINVAL } };
	struct json v = { .type = JSON_NUMBER };
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nums); i++) {
		v.str = nums[i].text;
		v.len = strlen(nums[i].text);
		is_int(write_value(&v, &b), nums[i].err, "jw_value re-checks number text");
	}
	v.str = NULL;
	v.len = 0;
	is_int(write_value(&v, &b), -EINVAL, "jw_value: number without text");
	v.type = (enum json_type)99;
	is_int(write_value(&v, &b), -EINVAL, "jw_value: unknown type");
	buf_free(&b);
}

/* Fail the nth allocation for every n: -ENOMEM, nothing leaked, then success. */
static void fault_parse(const char *in, size_t n, const char *what)
{
	struct json_doc *doc;
	unsigned long nth, calls;
	int r, bad = 0;

	for (nth = 1;; nth++) {
		fault_reset(nth);
		r = parse_g(in, n, NULL, &doc, NULL);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0;
			json_doc_free(doc);
			break;
		}
		bad += r != -ENOMEM || doc != NULL;
	}
	ok(bad == 0 && nth > 1, what);
	if (bad)
		diag("%d bad results over %lu runs", bad, nth);
}

static void fault_write(const char *in, size_t n, const char *what)
{
	struct json_doc *doc;
	struct buf b = BUF_INIT;
	unsigned long nth, calls;
	int r, bad = 0;

	if (parse_g(in, n, NULL, &doc, NULL)) {
		ok(0, what);
		return;
	}
	for (nth = 1;; nth++) {
		buf_free(&b);
		fault_reset(nth);
		r = write_value(json_root(doc), &b);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0;
			break;
		}
		bad += r != -ENOMEM;
	}
	ok(bad == 0 && nth > 1, what);
	buf_free(&b);
	json_doc_free(doc);
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

static void check_fixture(const char *name, const char *p, size_t n)
{
	const struct json *root, *md;
	struct json_doc *doc;
	struct buf b = BUF_INIT;
	struct ebuf eb = { "" };
	uint64_t gen = 0;
	char what[300];
	int r;

	snprintf(what, sizeof(what), "fixture %s", name);
	r = parse_g(p, n, NULL, &doc, &eb);
	if (!ok(r == 0, what)) {
		diag("%s", eb.msg);
		return;
	}
	root = json_root(doc);
	md = json_get(root, "metadata");
	ok(json_is(json_get(root, "kind"), JSON_STRING) && json_is(md, JSON_OBJECT) &&
		   dom_sane(root, false), "fixture: kind and metadata present, tree sane");
	ok(json_u64(json_get(md, "generation"), &gen) == 0 && gen == 7,
	   "fixture: metadata.generation is 7");
	ok(round_trip(root, &b), "fixture round-trips through the writer");
	ok(truncations_fail(p, n, n / 1500 + 1), "fixture: truncations fail cleanly");
	if (n > 20000) {
		fault_parse(p, n, "fixture: allocation failure at every point of the parse");
		fault_write(p, n, "fixture: allocation failure at every point of the write");
	}
	buf_free(&b);
	json_doc_free(doc);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_fixtures(void)
{
	char *names[64], path[512], *p;
	struct dirent *de;
	size_t i, k = 0, n, len;
	DIR *d = opendir(fixture_dir);

	if (!d) {
		diag("skip: %s not found (no shared/ beside the repository)", fixture_dir);
		return;
	}
	while ((de = readdir(d)) && k < ARRAY_SIZE(names)) {
		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
			names[k++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, k, sizeof(names[0]), name_cmp);
	ok(k >= 6, "fixture directory holds the Kubernetes objects");
	for (i = 0; i < k; i++) {
		snprintf(path, sizeof(path), "%s/%s", fixture_dir, names[i]);
		p = read_file(path, &n);
		if (ok(p != NULL, "fixture readable"))
			check_fixture(names[i], p, n);
		free(p);
		free(names[i]);
	}
}

static void test_faults(void)
{
	static const char doc[] = "{\"a\":[1,2,{\"b\":\"\\u00e9\"}],\"c\":\"xyz\",\"d\":null}";
	char *deep = nest(30, "{\"k\":[", "1", "]}");

	fault_parse(S(doc), "allocation failure at every point of the parse");
	fault_write(S(doc), "allocation failure at every point of the write");
	/* deep nesting moves the parser's stack to the heap and grows it: fail those too */
	fault_parse(deep, strlen(deep), "allocation failure while the nesting stack grows");
	free(deep);
	deep = nest(30, "[", "1", "]");
	fault_write(deep, strlen(deep), "allocation failure writing a deep document");
	free(deep);
}

int main(void)
{
	test_valid();
	test_malformed();
	test_messages();
	test_truncation();
	test_absent_null_empty();
	test_integers();
	test_limits();
	test_big();
	test_writer_scripts();
	test_writer();
	test_writer_numbers();
	test_faults();
	test_fixtures();
	return tap_done();
}
