// SPDX-License-Identifier: MIT
/* deps: core/cache.c core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * test_cache.c: the informer-style store. Replace-all diffs, watch event application,
 * callbacks with old and new objects, resourceVersion tracking, 20,000 objects, a random
 * insert/delete walk checked against a plain array, and clean -ENOMEM at every allocation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "core/cache.h"
#include "core/k8sobj.h"
#include "tap.h"

/* What the callbacks saw, one line per call: "+ns/name@rv", "~ns/name@old>new", "-ns/name@rv". */
struct rec {
	struct cache *c;
	char log[4096];
	size_t n;
	int bad;		/* callbacks that saw the cache in the wrong state */
	unsigned long adds, updates, deletes;
};

static void rec_line(struct rec *r, char tag, const struct k8sobj *a, const struct k8sobj *b)
{
	int k;

	if (r->n >= sizeof(r->log) - 128)
		return;
	k = snprintf(r->log + r->n, sizeof(r->log) - r->n, "%c%s/%s@%s%s%s ", tag, a->ns,
		     a->name, a->rv, b ? ">" : "", b ? b->rv : "");
	r->n += (size_t)k;
}

static void on_add(void *ctx, const struct k8sobj *o)
{
	struct rec *r = ctx;

	r->adds++;
	r->bad += cache_get(r->c, o->ns, o->name) != o;
	rec_line(r, '+', o, NULL);
}

static void on_update(void *ctx, const struct k8sobj *old, const struct k8sobj *o)
{
	struct rec *r = ctx;

	r->updates++;
	/* the new object is in the table; the old one is still readable (ASan would tell) */
	r->bad += cache_get(r->c, o->ns, o->name) != o || !k8sobj_same_key(old, o);
	rec_line(r, '~', old, o);
}

static void on_delete(void *ctx, const struct k8sobj *o)
{
	struct rec *r = ctx;

	r->deletes++;
	r->bad += cache_get(r->c, o->ns, o->name) != NULL;
	rec_line(r, '-', o, NULL);
}

static const struct cache_ops rec_ops = {
	.on_add = on_add, .on_update = on_update, .on_delete = on_delete,
};

static const struct cache_ops resync_ops = {
	.on_add = on_add, .on_update = on_update, .on_delete = on_delete,
	.resync_unchanged = true,
};

static int tok_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The log with the tokens of its leading run of deletes sorted: deletions come in table
 * order, which is unspecified; adds and updates follow in list order.
 */
static const char *norm(const char *log)
{
	static char out[4096];
	char tmp[4096], *tok[256], *save = NULL, *t;
	size_t n = 0, i, d;

	snprintf(tmp, sizeof(tmp), "%s", log);
	for (t = strtok_r(tmp, " ", &save); t && n < 256; t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	for (d = 0; d < n && tok[d][0] == '-'; d++)
		;
	qsort(tok, d, sizeof(*tok), tok_cmp);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(out, tok[i]);
		strcat(out, " ");
	}
	return out;
}

static void rec_reset(struct rec *r)
{
	r->n = 0;
	r->log[0] = '\0';
	r->bad = 0;
	r->adds = r->updates = r->deletes = 0;
}

static struct k8sobj *mk(enum k8sobj_kind kind, const char *ns, const char *name,
			 const char *rv)
{
	char json[512], *g;
	struct k8sobj *o = NULL;
	int n, r;

	n = snprintf(json, sizeof(json),
		     "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
		     "\"resourceVersion\":\"%s\","
		     "\"labels\":{\"app\":\"%s\"}},\"spec\":{\"nodeName\":\"w1\"},"
		     "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.0.1\"}}",
		     name, ns, rv, name);
	g = guard_copy(json, (size_t)n);
	r = k8sobj_parse(g, (size_t)n, kind, &o, NULL);
	guard_free(g, (size_t)n);
	if (r)
		abort();
	return o;
}

static struct k8sobj *pod(const char *ns, const char *name, const char *rv)
{
	return mk(K8SOBJ_POD, ns, name, rv);
}

static struct k8sobj_event event(enum k8sobj_evtype type, struct k8sobj *o, const char *rv)
{
	struct k8sobj_event ev = { .type = type, .obj = o };

	if (rv)
		ev.rv = strdup(rv);
	return ev;
}

static int apply(struct cache *c, enum k8sobj_evtype type, struct k8sobj *o)
{
	struct k8sobj_event ev = event(type, o, NULL);
	int r = cache_apply(c, &ev);

	k8sobj_event_clear(&ev);
	return r;
}

/* ---- replace-all ----------------------------------------------------------------------- */

static void test_replace(void)
{
	struct rec r = { 0 };
	struct cache *c = cache_new(K8SOBJ_POD, &rec_ops, &r, 1);
	struct k8sobj *l1[] = { pod("n", "a", "1"), pod("n", "b", "2"), pod("m", "c", "3") };
	struct k8sobj *l2[] = { pod("n", "a", "1"), pod("n", "b", "5"), pod("m", "d", "6") };
	struct k8sobj *l3[] = { pod("n", "a", "7"), pod("n", "a", "8") };

	r.c = c;
	is_str(cache_rv(c), "", "no resourceVersion yet");
	is_int(cache_replace(c, l1, 3, "100"), 0, "first LIST");
	is_str(r.log, "+n/a@1 +n/b@2 +m/c@3 ", "three adds in list order");
	ok(cache_count(c) == 3 && !strcmp(cache_rv(c), "100") && !l1[0] && !l1[2],
	   "count, rv, objects consumed");
	rec_reset(&r);
	is_int(cache_replace(c, l2, 3, "200"), 0, "relist");
	is_str(norm(r.log), "-m/c@3 ~n/b@2>5 +m/d@6 ",
	       "diff: gone deleted, changed updated, new added");
	ok(cache_count(c) == 3 && !strcmp(cache_rv(c), "200") && !r.bad, "after relist");
	ok(cache_get(c, "n", "a") && !strcmp(cache_get(c, "n", "a")->rv, "1"), "unchanged kept");
	rec_reset(&r);
	is_int(cache_replace(c, l3, 2, NULL), 0, "relist with a key twice, no rv");
	is_str(norm(r.log), "-m/d@6 -n/b@5 ~n/a@1>7 ~n/a@7>8 ",
	       "deletes first; a later duplicate wins as an update");
	ok(cache_count(c) == 1 && !strcmp(cache_rv(c), "200") && !r.bad, "rv kept when NULL");
	rec_reset(&r);
	is_int(cache_replace(c, NULL, 0, "300"), 0, "empty relist");
	is_str(r.log, "-n/a@8 ", "everything deleted");
	ok(cache_count(c) == 0 && !strcmp(cache_rv(c), "300"), "empty");
	cache_free(c);
}

static void test_resync(void)
{
	struct rec r = { 0 };
	struct cache *c = cache_new(K8SOBJ_POD, &resync_ops, &r, 2);
	struct k8sobj *l1[] = { pod("n", "a", "1"), pod("n", "b", "") };
	struct k8sobj *l2[] = { pod("n", "a", "1"), pod("n", "b", "") };
	struct cache *q = cache_new(K8SOBJ_POD, &rec_ops, &r, 2);
	struct k8sobj *l3[] = { pod("n", "b", "") };
	struct k8sobj *l4[] = { pod("n", "b", "") };

	r.c = c;
	is_int(cache_replace(c, l1, 2, "1"), 0, "resync cache: list");
	rec_reset(&r);
	is_int(cache_replace(c, l2, 2, "1"), 0, "resync cache: same list");
	is_str(r.log, "~n/a@1>1 ~n/b@> ", "resync_unchanged: an update for every object");
	r.c = q;
	is_int(cache_replace(q, l3, 1, "1"), 0, "diff cache: list without rv");
	rec_reset(&r);
	is_int(cache_replace(q, l4, 1, "1"), 0, "diff cache: same list");
	is_str(r.log, "~n/b@> ", "an empty resourceVersion always counts as a change");
	cache_free(c);
	cache_free(q);
}

/* ---- watch events ---------------------------------------------------------------------- */

static void test_events(void)
{
	struct rec r = { 0 };
	struct cache *c = cache_new(K8SOBJ_POD, &rec_ops, &r, 3);
	struct k8sobj_event ev;

	r.c = c;
	is_int(apply(c, K8SOBJ_ADDED, pod("n", "a", "10")), 0, "ADDED");
	is_int(apply(c, K8SOBJ_ADDED, pod("n", "a", "11")), 0, "ADDED again");
	is_int(apply(c, K8SOBJ_MODIFIED, pod("n", "b", "12")), 0, "MODIFIED unknown key");
	is_int(apply(c, K8SOBJ_MODIFIED, pod("n", "b", "13")), 0, "MODIFIED");
	is_int(apply(c, K8SOBJ_DELETED, pod("n", "zz", "14")), 0, "DELETED unknown key");
	is_str(cache_rv(c), "14", "rv from the unknown DELETED");
	is_int(apply(c, K8SOBJ_DELETED, pod("n", "a", "15")), 0, "DELETED");
	is_str(r.log, "+n/a@10 ~n/a@10>11 +n/b@12 ~n/b@12>13 -n/a@11 ",
	       "add, update, add, update, delete");
	ok(!r.bad && cache_count(c) == 1 && !strcmp(cache_rv(c), "15"), "state after events");
	is_int(apply(c, K8SOBJ_MODIFIED, pod("n", "b", "")), 0, "object without rv");
	is_str(cache_rv(c), "15", "an empty rv is not recorded");
	rec_reset(&r);

	ev = event(K8SOBJ_BOOKMARK, NULL, "99");
	is_int(cache_apply(c, &ev), 0, "BOOKMARK");
	k8sobj_event_clear(&ev);
	ok(!strcmp(cache_rv(c), "99") && r.n == 0, "BOOKMARK moves rv only");
	ev = event(K8SOBJ_BOOKMARK, NULL, NULL);
	is_int(cache_apply(c, &ev), -EINVAL, "BOOKMARK without rv");
	ev = event(K8SOBJ_ERROR, NULL, NULL);
	ev.code = 410;
	is_int(cache_apply(c, &ev), -EINVAL, "ERROR is not applied");
	is_int(apply(c, K8SOBJ_ADDED, NULL), -EINVAL, "ADDED without object");
	is_int(apply(c, K8SOBJ_ADDED, mk(K8SOBJ_NODE, "", "node", "100")), -EINVAL,
	       "object of another kind");
	is_int(cache_upsert(c, mk(K8SOBJ_NODE, "", "node", "100")), -EINVAL, "upsert other kind");
	is_int(cache_upsert(c, NULL), -EINVAL, "upsert NULL");
	ok(!strcmp(cache_rv(c), "99") && r.n == 0 && cache_count(c) == 1, "errors change nothing");
	is_int(cache_set_rv(c, "abc-not-a-number"), 0, "rv is opaque");
	is_str(cache_rv(c), "abc-not-a-number", "rv kept verbatim");
	ok(cache_remove(c, "n", "b") && !cache_remove(c, "n", "b") && cache_count(c) == 0,
	   "remove by key");
	is_str(r.log, "-n/b@ ", "remove calls on_delete");
	cache_free(c);
}

static void test_cluster_scoped(void)
{
	struct cache *c = cache_new(K8SOBJ_NODE, NULL, NULL, 4);
	const struct k8sobj *o;
	size_t pos, n = 0;

	is_int(cache_upsert(c, mk(K8SOBJ_NODE, "", "w1", "1")), 0, "node upsert, no callbacks");
	is_int(cache_upsert(c, mk(K8SOBJ_NODE, "", "w2", "2")), 0, "second node");
	ok(cache_get(c, NULL, "w1") && cache_get(c, "", "w2") && !cache_get(c, "x", "w1"),
	   "cluster-scoped lookup with NULL or \"\"");
	cache_for_each(c, pos, o)
		n++;
	is_int(n, 2, "iteration visits each once");
	ok(cache_remove(c, NULL, "w1") && cache_count(c) == 1, "remove cluster-scoped");
	cache_free(c);
	errno = 0;
	ok(!cache_new(K8SOBJ_NKINDS, NULL, NULL, 0) && errno == EINVAL, "bad kind rejected");
	cache_free(NULL);
}

/* ---- scale ----------------------------------------------------------------------------- */

#define BIG 20000

static void test_scale(void)
{
	struct rec r = { 0 };
	struct cache *c = cache_new(K8SOBJ_POD, &rec_ops, &r, 0x9e3779b9u);
	struct k8sobj **list = calloc(BIG, sizeof(*list));
	const struct k8sobj *o;
	char ns[32], name[64];
	size_t i, k, pos, seen = 0, changed = 0;
	int miss = 0, wrong = 0;

	r.c = c;
	for (i = 0; i < BIG; i++) {
		snprintf(ns, sizeof(ns), "ns-%zu", i % 37);
		snprintf(name, sizeof(name), "deploy-%zu-7d4b9c8f6d-%05zu", i % 101, i);
		if (cache_upsert(c, pod(ns, name, "1")))
			miss++;
	}
	ok(miss == 0 && cache_count(c) == BIG && r.adds == BIG, "20,000 inserted");
	for (i = 0; i < BIG; i++) {
		snprintf(ns, sizeof(ns), "ns-%zu", i % 37);
		snprintf(name, sizeof(name), "deploy-%zu-7d4b9c8f6d-%05zu", i % 101, i);
		o = cache_get(c, ns, name);
		miss += !o;
		wrong += o && (strcmp(o->name, name) || strcmp(o->ns, ns));
		snprintf(ns, sizeof(ns), "ns-%zu", (i + 1) % 37);
		wrong += cache_get(c, ns, name) != NULL;
	}
	ok(miss == 0 && wrong == 0, "every object found under its key only");
	diag("20,000 pods: %zu bytes held, %.0f per pod", cache_bytes(c),
	     (double)cache_bytes(c) / BIG);
	for (i = 0; i < BIG; i += 2) {
		snprintf(ns, sizeof(ns), "ns-%zu", i % 37);
		snprintf(name, sizeof(name), "deploy-%zu-7d4b9c8f6d-%05zu", i % 101, i);
		miss += !cache_remove(c, ns, name);
	}
	for (i = 0; i < BIG; i++) {
		snprintf(ns, sizeof(ns), "ns-%zu", i % 37);
		snprintf(name, sizeof(name), "deploy-%zu-7d4b9c8f6d-%05zu", i % 101, i);
		wrong += (cache_get(c, ns, name) != NULL) != (i % 2 == 1);
	}
	ok(miss == 0 && wrong == 0 && cache_count(c) == BIG / 2, "half deleted, rest intact");
	/* a list with a NULL in it is refused whole */
	rec_reset(&r);
	for (i = 0; i < BIG / 4; i++)
		list[i] = i == 2500 ? NULL : pod("x", "y", "1");
	is_int(cache_replace(c, list, BIG / 4, "777"), -EINVAL, "a NULL in the list is refused");
	ok(cache_count(c) == BIG / 2 && r.n == 0 && !list[0] && !list[BIG / 4 - 1],
	   "refused relist consumed its objects, changed nothing");
	/* relist: the 10,000 odd ones (every third changed) plus 5,000 new */
	for (i = 0; i < BIG + BIG / 2; i += 2) {
		k = i < BIG ? i + 1 : i;
		snprintf(ns, sizeof(ns), "ns-%zu", k % 37);
		snprintf(name, sizeof(name), "deploy-%zu-7d4b9c8f6d-%05zu", k % 101, k);
		list[i / 2] = pod(ns, name, k % 3 ? "1" : "2");
		changed += i < BIG && k % 3 == 0;
	}
	is_int(cache_replace(c, list, BIG / 2 + BIG / 4, "778"), 0, "relist of 15,000");
	ok(r.deletes == 0 && r.adds == BIG / 4 && r.updates == changed && !r.bad,
	   "5,000 adds, an update for each changed resourceVersion only");
	diag("relist: %lu adds, %lu updates, %lu deletes", r.adds, r.updates, r.deletes);
	/* relist: only the 5,000 new ones */
	rec_reset(&r);
	for (i = BIG; i < BIG + BIG / 2; i += 2) {
		snprintf(ns, sizeof(ns), "ns-%zu", i % 37);
		snprintf(name, sizeof(name), "deploy-%zu-7d4b9c8f6d-%05zu", i % 101, i);
		list[(i - BIG) / 2] = pod(ns, name, i % 3 ? "1" : "2");
	}
	is_int(cache_replace(c, list, BIG / 4, "779"), 0, "relist of the 5,000 new names");
	ok(r.deletes == BIG / 2 && r.adds == 0 && r.updates == 0 && !r.bad,
	   "10,000 deletes, nothing else");
	is_str(cache_rv(c), "779", "rv of the last relist");
	cache_for_each(c, pos, o)
		seen++;
	ok(seen == BIG / 4 && cache_count(c) == BIG / 4, "iteration matches count");
	free(list);
	cache_free(c);
}

/* Random inserts and deletes over few keys (long clusters, wrap-around) against an array. */
static void test_random_walk(void)
{
	struct cache *c = cache_new(K8SOBJ_POD, NULL, NULL, 5);
	static bool in[600];
	char name[16];
	unsigned long x = 12345;
	size_t i, k, count = 0;
	int wrong = 0;

	for (i = 0; i < 200000; i++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		k = (x >> 33) % 600;
		snprintf(name, sizeof(name), "p%zu", k);
		if ((x >> 20) & 1) {
			wrong += cache_upsert(c, pod("n", name, "1")) != 0;
			count += !in[k];
			in[k] = true;
		} else {
			wrong += cache_remove(c, "n", name) != in[k];
			count -= in[k];
			in[k] = false;
		}
		if (i % 997 == 0)
			for (k = 0; k < 600; k++) {
				snprintf(name, sizeof(name), "p%zu", k);
				wrong += (cache_get(c, "n", name) != NULL) != in[k];
			}
	}
	ok(wrong == 0 && cache_count(c) == count, "200,000 random operations agree with an array");
	cache_free(c);
}

/* ---- allocation failures --------------------------------------------------------------- */

/* A cache of 12 pods (its table full to the 3/4 mark) with resourceVersion "5". */
static struct cache *setup(struct rec *r)
{
	struct cache *c = cache_new(K8SOBJ_POD, &rec_ops, r, 6);
	char name[16];
	int i;

	r->c = c;
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "%d", i);
		if (!c || cache_upsert(c, pod("n", name, "1")))
			abort();
	}
	if (cache_set_rv(c, "5"))
		abort();
	return c;
}

/*
 * Run one operation with the nth allocation failing, for every n. A long resourceVersion and
 * more objects than the table holds make both the rv copy and the table growth allocate.
 */
static void fault_loop(int op, const char *what)
{
	struct rec r = { 0 };
	struct k8sobj *objs[20];
	struct k8sobj_event ev;
	struct cache *c;
	unsigned long nth, calls;
	char rv[256], name[16];
	int bad = 0, res;
	size_t i;

	memset(rv, '7', sizeof(rv) - 1);
	rv[sizeof(rv) - 1] = '\0';
	for (nth = 1;; nth++) {
		c = setup(&r);
		for (i = 0; i < ARRAY_SIZE(objs); i++) {
			snprintf(name, sizeof(name), "%zu", i * 2);
			objs[i] = pod("n", name, rv);
		}
		ev = event(op == 1 ? K8SOBJ_ADDED : K8SOBJ_BOOKMARK, NULL, rv);
		if (op == 1)
			ev.obj = pod("n", "x", rv);
		rec_reset(&r);
		fault_reset(nth);
		res = op == 0 ? cache_replace(c, objs, ARRAY_SIZE(objs), rv) : cache_apply(c, &ev);
		calls = fault_reset(0);
		bad += ev.obj != NULL;
		k8sobj_event_clear(&ev);
		for (i = 0; i < ARRAY_SIZE(objs); i++) {
			bad += op == 0 && objs[i];
			k8sobj_free(objs[i]);
		}
		if (calls < nth) {
			bad += res != 0 || !!strcmp(cache_rv(c), rv) || r.bad;
			cache_free(c);
			break;
		}
		bad += res != -ENOMEM || r.n != 0 || r.bad || cache_count(c) != 12 ||
		       strcmp(cache_rv(c), "5") != 0;
		cache_free(c);
	}
	ok(bad == 0 && nth > 2, what);
	if (bad)
		diag("%d bad results over %lu runs", bad, nth);
}

static void test_faults(void)
{
	unsigned long calls;
	struct cache *c;

	fault_loop(0, "replace: clean -ENOMEM at each allocation, cache unchanged, no callback");
	fault_loop(1, "ADDED: clean -ENOMEM at each allocation, cache unchanged, no callback");
	fault_reset(1);
	c = cache_new(K8SOBJ_POD, NULL, NULL, 0);
	calls = fault_reset(0);
	ok(!c && errno == ENOMEM && calls == 1, "cache_new: NULL with ENOMEM");
}

int main(void)
{
	test_replace();
	test_resync();
	test_events();
	test_cluster_scoped();
	test_scale();
	test_random_walk();
	test_faults();
	return tap_done();
}
