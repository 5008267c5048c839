// SPDX-License-Identifier: MIT
/* deps: flow/localsrc.c flow/localsrc_decode.c io/ev.c core/cache.c core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/log.c base/mem.c base/util.c */
/*
 * test_localsrc.c: the agent's folder source against a real temporary folder and inotify,
 * the event loop driven here. Each step writes files the way `virgil lab` does (temporary
 * file + rename) or in place, bumps .generation and runs the loop until the source reports
 * that generation; then the caches and the callbacks are checked: files added, replaced,
 * deleted and renamed, Lists (with kinds we skip), bad files kept, a key held by two files,
 * the generation alone, a missing folder, and every allocation failing in turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "core/cache.h"
#include "flow/localsrc.h"
#include "io/ev.h"

struct world {
	char dir[64];
	struct ev *ev;
	struct cache *c[K8SOBJ_NKINDS];
	struct localsrc *src;
	int synced;
	int changed[K8SOBJ_NKINDS];
	uint64_t want_gen;	/* stop the loop once the source reports this */
	uint64_t gen;		/* the last value written */
	uint64_t timer;
	bool timed_out;
};

static void on_synced(void *ctx)
{
	struct world *w = ctx;

	w->synced++;
	if (w->src && localsrc_generation(w->src) >= w->want_gen)
		ev_stop(w->ev);
}

static void on_changed(void *ctx, enum k8sobj_kind kind)
{
	struct world *w = ctx;

	w->changed[kind]++;
	if (w->synced && localsrc_generation(w->src) >= w->want_gen)
		ev_stop(w->ev);
}

static const struct localsrc_ops ops = { .synced = on_synced, .changed = on_changed };

static void on_timeout(struct ev *ev, uint64_t id, void *ctx)
{
	struct world *w = ctx;

	w->timer = 0;
	w->timed_out = true;
	ev_stop(ev);
}

/* Write DIR/name: atomically (temporary file, rename) or in place. */
static void put_file(struct world *w, const char *name, const char *text, bool atomic)
{
	char path[256], tmp[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", w->dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.tmp.%s", w->dir, name);
	fd = open(atomic ? tmp : path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	if (atomic && rename(tmp, path))
		abort();
}

static void put(struct world *w, const char *name, const char *text)
{
	put_file(w, name, text, true);
}

static void rm(struct world *w, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", w->dir, name);
	if (unlink(path))
		abort();
}

static void mv(struct world *w, const char *from, const char *to)
{
	char a[256], b[256];

	snprintf(a, sizeof(a), "%s/%s", w->dir, from);
	snprintf(b, sizeof(b), "%s/%s", w->dir, to);
	if (rename(a, b))
		abort();
}

static void bump(struct world *w)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)++w->gen);
	put(w, ".generation", text);
}

/* Run the loop until the source reports gen (or 3 s pass: a failure). */
static bool run_until(struct world *w, uint64_t gen)
{
	w->want_gen = gen;
	w->timed_out = false;
	if (w->synced && localsrc_generation(w->src) >= gen)
		return true;
	if (ev_timer_add(w->ev, 3000, on_timeout, w, &w->timer))
		abort();
	if (ev_run(w->ev))
		abort();
	if (w->timer)
		ev_timer_cancel(w->ev, w->timer);
	w->timer = 0;
	return !w->timed_out && localsrc_generation(w->src) >= gen;
}

/* Bump the generation and wait for it: one complete change. */
static bool step(struct world *w)
{
	memset(w->changed, 0, sizeof(w->changed));
	bump(w);
	return run_until(w, w->gen);
}

static void world_init(struct world *w)
{
	static const enum k8sobj_kind kinds[] = { K8SOBJ_NODE, K8SOBJ_POD, K8SOBJ_NAMESPACE,
						  K8SOBJ_NETPOL };
	size_t i;

	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "/tmp/test_localsrc.XXXXXX");
	if (!mkdtemp(w->dir))
		abort();
	w->ev = ev_new();
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		w->c[kinds[i]] = cache_new(kinds[i], NULL, NULL, 1);
	if (!w->ev)
		abort();
}

static void world_free(struct world *w)
{
	char cmd[128];
	int k;

	localsrc_free(w->src);
	for (k = 0; k < K8SOBJ_NKINDS; k++)
		cache_free(w->c[k]);
	ev_free(w->ev);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	if (system(cmd))
		abort();
}

static int start(struct world *w, struct ebuf *eb)
{
	return localsrc_new(w->ev, w->dir, w->c, &ops, w, &w->src, eb);
}

static const char *label(struct world *w, enum k8sobj_kind kind, const char *ns,
			 const char *name, const char *key)
{
	const struct k8sobj *o = cache_get(w->c[kind], ns, name);

	return o ? k8sobj_label(o, key) : "(absent)";
}

static bool has(struct world *w, enum k8sobj_kind kind, const char *ns, const char *name)
{
	return cache_get(w->c[kind], ns, name) != NULL;
}

#define NS(n) "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" n "\"}}"
#define POD(ns, n, l)                                                                          \
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"namespace\":\"" ns           \
	"\",\"name\":\"" n "\",\"labels\":{\"pod\":\"" l "\"}},\"spec\":{\"nodeName\":\"n1\"}}"
#define NETPOL(ns, n)                                                                          \
	"{\"kind\":\"NetworkPolicy\",\"apiVersion\":\"networking.k8s.io/v1\",\"metadata\":"   \
	"{\"namespace\":\"" ns "\",\"name\":\"" n "\"},\"spec\":{\"podSelector\":{}}}"
#define NODE(n)                                                                                \
	"{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" n "\"},"         \
	"\"spec\":{\"podCIDRs\":[\"10.244.1.0/24\"]}}"

static void test_start(void)
{
	struct world w;
	struct ebuf eb = { "" };

	world_init(&w);
	put(&w, "namespace--x.json", NS("x"));
	put_file(&w, "pod-x-a.json", POD("x", "a", "one"), false);
	put(&w, "node--n1.json", NODE("n1"));
	put(&w, "notes.txt", "not json at all");
	put(&w, ".hidden.json", POD("x", "hidden", "h"));
	put(&w, ".generation", "7\n");
	w.gen = 7;
	is_int(start(&w, &eb), 0, "start: localsrc_new");
	is_int(localsrc_generation(w.src), 0, "start: no generation before the first scan");
	ok(run_until(&w, 7), "start: the first scan reports generation 7");
	is_int(w.synced, 1, "start: synced once");
	is_int(w.changed[K8SOBJ_POD], 0, "start: no changed before synced");
	ok(has(&w, K8SOBJ_NAMESPACE, "", "x"), "start: namespace x");
	is_str(label(&w, K8SOBJ_NAMESPACE, "", "x", "kubernetes.io/metadata.name"), "x",
	       "start: namespace x has its name label");
	is_str(label(&w, K8SOBJ_POD, "x", "a", "pod"), "one", "start: pod x/a (written in place)");
	ok(has(&w, K8SOBJ_NODE, "", "n1"), "start: node n1");
	ok(!has(&w, K8SOBJ_POD, "x", "hidden"), "start: dot files are ignored");
	is_int(cache_count(w.c[K8SOBJ_POD]), 1, "start: one pod");

	/* added */
	put(&w, "pod-x-b.json", POD("x", "b", "two"));
	ok(step(&w), "add: generation 8");
	is_str(label(&w, K8SOBJ_POD, "x", "b", "pod"), "two", "add: pod x/b");
	is_int(w.changed[K8SOBJ_POD], 1, "add: one changed(Pod) for the burst");
	is_int(w.changed[K8SOBJ_NAMESPACE], 0, "add: no changed(Namespace)");
	is_int(w.changed[K8SOBJ_OTHER], 0, "add: no kind-less kick when a kind changed");

	/* replaced: new labels, in place (IN_CLOSE_WRITE) */
	put_file(&w, "pod-x-b.json", POD("x", "b", "three"), false);
	put(&w, "pod-x-a.json", POD("x", "a", "four"));
	ok(step(&w), "replace: generation 9");
	is_str(label(&w, K8SOBJ_POD, "x", "b", "pod"), "three", "replace: x/b relabelled");
	is_str(label(&w, K8SOBJ_POD, "x", "a", "pod"), "four", "replace: x/a relabelled");
	is_int(w.changed[K8SOBJ_POD], 1, "replace: two files, one changed(Pod)");

	/* a file now holds another object: the old one goes */
	put(&w, "pod-x-a.json", POD("x", "a2", "five"));
	ok(step(&w), "rekey: generation 10");
	ok(!has(&w, K8SOBJ_POD, "x", "a"), "rekey: x/a is gone");
	is_str(label(&w, K8SOBJ_POD, "x", "a2", "pod"), "five", "rekey: x/a2 is there");

	/* renamed within the folder: same objects */
	mv(&w, "pod-x-a.json", "renamed.json");
	ok(step(&w), "rename: generation 11");
	is_str(label(&w, K8SOBJ_POD, "x", "a2", "pod"), "five", "rename: x/a2 stays");
	is_int(cache_count(w.c[K8SOBJ_POD]), 2, "rename: two pods");

	/* renamed away (not .json): gone */
	mv(&w, "renamed.json", "renamed.json.bak");
	ok(step(&w), "rename away: generation 12");
	ok(!has(&w, K8SOBJ_POD, "x", "a2"), "rename away: x/a2 is gone");

	/* deleted */
	rm(&w, "pod-x-b.json");
	ok(step(&w), "delete: generation 13");
	is_int(cache_count(w.c[K8SOBJ_POD]), 0, "delete: no pod left");
	is_int(w.changed[K8SOBJ_POD], 1, "delete: changed(Pod)");

	/* the generation alone */
	ok(step(&w), "generation alone: 14");
	is_int(w.changed[K8SOBJ_OTHER], 1, "generation alone: one kind-less changed");
	is_int(w.changed[K8SOBJ_POD], 0, "generation alone: no changed(Pod)");

	world_free(&w);
}

static const char list_doc[] =
	"{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":[" NS("y") "," POD("y", "a", "a") ","
	POD("y", "b", "b") "," NETPOL("y", "deny") ",{\"kind\":\"Service\",\"apiVersion\":\"v1\","
	"\"metadata\":{\"namespace\":\"y\",\"name\":\"svc\"}}]}";
static const char list_doc2[] =
	"{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":[" NS("y") "," POD("y", "b", "b2") "]}";
static const char podlist_doc[] =
	"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
	"\"items\":[{\"metadata\":{\"namespace\":\"z\",\"name\":\"p\"}},"
	"{\"metadata\":{\"namespace\":\"z\",\"name\":\"q\"}}]}";

static void test_lists(void)
{
	struct world w;
	struct ebuf eb = { "" };

	world_init(&w);
	is_int(start(&w, &eb), 0, "list: start on an empty folder");
	ok(run_until(&w, 0) && w.synced == 1, "list: synced with nothing");
	put(&w, "all.json", list_doc);
	ok(step(&w), "list: generation 1");
	ok(has(&w, K8SOBJ_NAMESPACE, "", "y"), "list: namespace y");
	is_int(cache_count(w.c[K8SOBJ_POD]), 2, "list: two pods");
	ok(has(&w, K8SOBJ_NETPOL, "y", "deny"), "list: policy y/deny");
	is_int(w.changed[K8SOBJ_POD], 1, "list: changed(Pod) once");
	is_int(w.changed[K8SOBJ_NETPOL], 1, "list: changed(NetworkPolicy) once");
	is_int(w.changed[K8SOBJ_NAMESPACE], 1, "list: changed(Namespace) once");

	put(&w, "all.json", list_doc2);
	ok(step(&w), "list shrinks: generation 2");
	ok(!has(&w, K8SOBJ_POD, "y", "a"), "list shrinks: y/a is gone");
	is_str(label(&w, K8SOBJ_POD, "y", "b", "pod"), "b2", "list shrinks: y/b relabelled");
	ok(!has(&w, K8SOBJ_NETPOL, "y", "deny"), "list shrinks: the policy is gone");

	put(&w, "pods.json", podlist_doc);
	ok(step(&w), "PodList: generation 3");
	ok(has(&w, K8SOBJ_POD, "z", "p") && has(&w, K8SOBJ_POD, "z", "q"),
	   "PodList: items without kind are pods");
	put(&w, "svc.json", "{\"kind\":\"ServiceList\",\"items\":[{\"kind\":\"Service\"}]}");
	ok(step(&w), "ServiceList: generation 4 (nothing for us, not an error)");

	/* two files hold y/b: it stays until both let go, and the survivor's version wins */
	put(&w, "dup.json", POD("y", "b", "dup"));
	ok(step(&w), "shared: generation 5");
	is_str(label(&w, K8SOBJ_POD, "y", "b", "pod"), "dup", "shared: the later write wins");
	rm(&w, "dup.json");
	ok(step(&w), "shared: generation 6");
	is_str(label(&w, K8SOBJ_POD, "y", "b", "pod"), "b2",
	       "shared: one holder gone, the other's version is back");
	rm(&w, "all.json");
	ok(step(&w), "shared: generation 7");
	ok(!has(&w, K8SOBJ_POD, "y", "b"), "shared: both gone, y/b is gone");
	ok(!has(&w, K8SOBJ_NAMESPACE, "", "y"), "shared: namespace y is gone");
	world_free(&w);
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"{\"kind\":\"Pod\",",						/* syntax */
		"[1,2]",							/* not an object */
		"{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\"}}",	/* no kind */
		"{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\"}}",	/* no name */
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":7}}",			/* wrong type */
		"{\"kind\":\"List\",\"items\":[" POD("x", "a", "l") ",{\"kind\":\"Pod\"}]}",
		"{\"kind\":\"List\",\"items\":{}}",
	};
	struct world w;
	struct ebuf eb = { "" };
	size_t i;

	world_init(&w);
	put(&w, "a.json", POD("x", "a", "good"));
	is_int(start(&w, &eb), 0, "bad: start");
	ok(run_until(&w, 0), "bad: synced");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char what[64];

		put(&w, "a.json", bad[i]);
		snprintf(what, sizeof(what), "bad %zu: previous object kept", i);
		ok(step(&w) && !strcmp(label(&w, K8SOBJ_POD, "x", "a", "pod"), "good"), what);
	}
	put(&w, "a.json", POD("x", "a", "fixed"));
	ok(step(&w), "bad: fixed file");
	is_str(label(&w, K8SOBJ_POD, "x", "a", "pod"), "fixed", "bad: the fixed version applies");
	put(&w, ".generation", "junk");
	put(&w, "b.json", POD("x", "b", "b"));
	bump(&w);
	ok(run_until(&w, w.gen), "bad: an unreadable generation is skipped, the next one counts");
	world_free(&w);
}

static void test_errors(void)
{
	struct localsrc *src = (void *)1;
	struct cache *c[K8SOBJ_NKINDS] = { 0 };
	struct ebuf eb = { "" };
	struct ev *ev = ev_new();

	is_int(localsrc_new(ev, "/nonexistent/virgil-lab/api", c, &ops, NULL, &src, &eb), -ENOENT,
	       "missing folder: -ENOENT");
	ok(src == NULL, "missing folder: no source");
	ok(strstr(eb.msg, "/nonexistent/virgil-lab/api") != NULL, "missing folder: eb names it");
	localsrc_free(NULL);
	ev_free(ev);
}

/* Every allocation failing in turn: during the first scan, then during an update. The source
 * must fail cleanly (localsrc_new) or recover by itself (retries), and leak nothing. */
static void test_faults(void)
{
	unsigned long n, calls;
	int bad = 0, runs = 0;

	for (n = 1;; n++) {
		struct world w;
		struct ebuf eb = { "" };
		int r;

		world_init(&w);
		put(&w, "all.json", list_doc);
		put(&w, "n.json", NODE("n1"));
		put(&w, ".generation", "1");
		w.gen = 1;
		fault_reset(n);
		r = start(&w, &eb);
		if (r == 0 && run_until(&w, 1)) {
			put(&w, "all.json", list_doc2);
			rm(&w, "n.json");
			if (!step(&w))
				bad++;
			else if (has(&w, K8SOBJ_POD, "y", "a") || !has(&w, K8SOBJ_POD, "y", "b") ||
				 has(&w, K8SOBJ_NODE, "", "n1"))
				bad++;
		} else if (r == 0 || r != -ENOMEM) {
			bad++;
		}
		calls = fault_reset(0);
		world_free(&w);
		runs++;
		if (calls < n)
			break;
	}
	diag("fault injection: %d runs", runs);
	is_int(bad, 0, "faults: every failure is clean or recovered");
}

int main(void)
{
	log_procinit("test_localsrc");
	test_start();
	test_lists();
	test_bad();
	test_errors();
	test_faults();
	return tap_done();
}
