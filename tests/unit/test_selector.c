// SPDX-License-Identifier: MIT
/* deps: core/selector.c */
/*
 * test_selector.c: label selector matching, as a table of selectors against label sets, with
 * the Kubernetes corner cases spelled out: {} matches all, NotIn and DoesNotExist match a
 * missing key, Exists matches an empty value, matchLabels and matchExpressions are ANDed.
 */
#include <stdio.h>
#include <string.h>

#include "core/k8sobj.h"
#include "core/selector.h"
#include "tap.h"

/* Label sets, each sorted by key. */
static const struct k8sobj_kv none[] = { { "", "" } };	/* used with n = 0 */
static const struct k8sobj_kv web[] = { { "app", "web" }, { "tier", "front" } };
static const struct k8sobj_kv db[] = { { "app", "db" }, { "env", "" }, { "tier", "back" } };
static const struct k8sobj_kv many[] = {
	{ "a", "1" }, { "b", "2" }, { "c", "3" }, { "d", "4" }, { "e", "5" }, { "f", "6" },
	{ "g", "7" },
};

struct lset {
	const char *name;
	const struct k8sobj_kv *kv;
	uint32_t n;
};

static const struct lset sets[] = {
	{ "none", none, 0 }, { "web", web, 2 }, { "db", db, 3 }, { "many", many, 7 },
};

static const char *const v_web[] = { "web" };
static const char *const v_web_db[] = { "web", "db" };
static const char *const v_x[] = { "x" };
static const char *const v_empty[] = { "" };
static const char *const v_7[] = { "0", "7" };

static const struct k8sobj_kv ml_app_web[] = { { "app", "web" } };
static const struct k8sobj_kv ml_web_front[] = { { "app", "web" }, { "tier", "front" } };
static const struct k8sobj_kv ml_env_empty[] = { { "env", "" } };
static const struct k8sobj_kv ml_g7[] = { { "g", "7" } };

#define EXPR(k, o, v) { k, v, sizeof(v) / sizeof(v[0]), K8SOBJ_OP_##o }
#define EXPR0(k, o) { k, NULL, 0, K8SOBJ_OP_##o }

static const struct k8sobj_expr e_in_web[] = { EXPR("app", IN, v_web) };
static const struct k8sobj_expr e_in_web_db[] = { EXPR("app", IN, v_web_db) };
static const struct k8sobj_expr e_notin_web[] = { EXPR("app", NOTIN, v_web) };
static const struct k8sobj_expr e_notin_x[] = { EXPR("app", NOTIN, v_x) };
static const struct k8sobj_expr e_exists_env[] = { EXPR0("env", EXISTS) };
static const struct k8sobj_expr e_notexist_env[] = { EXPR0("env", NOTEXIST) };
static const struct k8sobj_expr e_in_env_empty[] = { EXPR("env", IN, v_empty) };
static const struct k8sobj_expr e_two[] = { EXPR0("tier", EXISTS), EXPR("app", NOTIN, v_web) };
static const struct k8sobj_expr e_g[] = { EXPR("g", IN, v_7), EXPR0("z", NOTEXIST) };
static const struct k8sobj_expr e_bad[] = { { "app", NULL, 0, 99 } };

#define SEL(l, nl, e, ne) { l, e, nl, ne }

struct scase {
	const char *what;
	struct k8sobj_selector sel;
	const char *matches;	/* one letter per set: N(one) W(eb) D(b) M(any) */
};

static const struct scase cases[] = {
	{ "{} matches everything", SEL(NULL, 0, NULL, 0), "NWDM" },
	{ "matchLabels app=web", SEL(ml_app_web, 1, NULL, 0), "W" },
	{ "matchLabels two keys", SEL(ml_web_front, 2, NULL, 0), "W" },
	{ "matchLabels env=\"\" needs the key", SEL(ml_env_empty, 1, NULL, 0), "D" },
	{ "matchLabels last of many", SEL(ml_g7, 1, NULL, 0), "M" },
	{ "In (web)", SEL(NULL, 0, e_in_web, 1), "W" },
	{ "In (web, db)", SEL(NULL, 0, e_in_web_db, 1), "WD" },
	{ "NotIn (web): absent key matches", SEL(NULL, 0, e_notin_web, 1), "NDM" },
	{ "NotIn (x)", SEL(NULL, 0, e_notin_x, 1), "NWDM" },
	{ "Exists env: empty value counts", SEL(NULL, 0, e_exists_env, 1), "D" },
	{ "DoesNotExist env", SEL(NULL, 0, e_notexist_env, 1), "NWM" },
	{ "In (\"\")", SEL(NULL, 0, e_in_env_empty, 1), "D" },
	{ "two expressions ANDed", SEL(NULL, 0, e_two, 2), "D" },
	{ "In + DoesNotExist on many", SEL(NULL, 0, e_g, 2), "M" },
	{ "matchLabels AND expressions", SEL(ml_app_web, 1, e_notin_web, 1), "" },
	{ "matchLabels AND expressions (both hold)", SEL(ml_app_web, 1, e_two, 1), "W" },
	{ "unknown operator matches nothing", SEL(NULL, 0, e_bad, 1), "" },
};

static void test_table(void)
{
	static const char letters[] = "NWDM";
	char what[160];
	size_t c, s;
	bool want;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
			want = strchr(cases[c].matches, letters[s]) != NULL;
			snprintf(what, sizeof(what), "%s vs %s: %s", cases[c].what, sets[s].name,
				 want ? "match" : "no match");
			ok(selector_match(&cases[c].sel, sets[s].kv, sets[s].n) == want, what);
		}
	}
}

static void test_misc(void)
{
	struct k8sobj_selector empty = { 0 }, sel = SEL(ml_app_web, 1, NULL, 0);
	struct k8sobj o = { .labels = web, .nlabels = 2 };

	ok(!selector_match(NULL, web, 2), "NULL selector matches nothing");
	ok(!selector_match(NULL, none, 0), "NULL selector matches nothing, not even no labels");
	ok(selector_is_empty(&empty) && !selector_is_empty(&sel) && !selector_is_empty(NULL),
	   "selector_is_empty");
	ok(selector_match_obj(&sel, &o), "selector_match_obj: object labels");
	ok(!selector_match_obj(&empty, NULL), "selector_match_obj: NULL object");
}

int main(void)
{
	test_table();
	test_misc();
	return tap_done();
}
