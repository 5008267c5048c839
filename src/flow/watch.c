// SPDX-License-Identifier: MIT
/*
 * watch.c: the reflector (see watch.h). States: LIST (one page at a time, items gathered
 * until the last page, then one cache_replace so consumers see a single consistent diff),
 * WATCH (a streamed GET; each line one event), BACKOFF (a timer, then WATCH if the cache was
 * ever synced, else LIST). One backoff serves both LIST and WATCH (kubernetes#118129): a
 * crashing API server must not see list storms between failed watches.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../codec/http.h"
#include "../codec/jsonlist.h"
#include "../core/backoff.h"
#include "../core/cache.h"
#include "../core/k8sobj.h"
#include "../io/ev.h"
#include "../io/k8s.h"
#include "watch.h"

#define WATCH_PAGE "500"
/*
 * A LIST body is scanned item by item as it arrives (R2.5 of the client notes): servers may
 * ignore limit on resourceVersion=0 and send every pod at once (60 MB is realistic), so only
 * one item's text is ever held. These bound one item and the whole body.
 */
#define WATCH_ITEM_MAX (8u << 20)
#define WATCH_LIST_MAX ((size_t)1 << 30)
/* Real API servers send a bookmark about every minute; twice that silent means a dead link. */
#define WATCH_IDLE_MS (120 * 1000)
#define WATCH_LIST_IDLE_MS (60 * 1000)
/* A watch that ends this fast with no event is a failure in disguise: back off. */
#define WATCH_SHORT_MS 1000

enum wstate { W_IDLE, W_LIST, W_WATCH, W_BACKOFF };

struct watch {
	struct ev *ev;
	struct k8s_client *c;
	const struct watch_res *res;
	struct cache *cache;
	const struct watch_ops *ops;
	void *ctx;
	uint32_t (*rnd)(void *);
	void *rnd_ctx;
	struct backoff bo;
	enum wstate st;
	struct k8s_req *req;
	uint64_t timer;
	bool synced;
	bool consistent;        /* next LIST without resourceVersion=0 (after a 410) */
	bool expired;           /* this request met 410 Gone */
	int status;
	int64_t retry_after;
	/* LIST in progress */
	struct jsonlist jl;
	bool jl_on;
	size_t nbad;
	struct k8sobj **items;
	size_t nitems, cap;
	char *cont;
	char *list_rv;
	/* WATCH in progress */
	uint64_t started;
	unsigned events;
	/* failure reporting: once when it starts, once when it clears */
	unsigned fails;
	uint64_t nreq;
};

static void watch_list(struct watch *w);
static void watch_watch(struct watch *w);

const char *watch_name(const struct watch *w)
{
	return w->res->name;
}

bool watch_synced(const struct watch *w)
{
	return w->synced;
}

uint64_t watch_requests(const struct watch *w)
{
	return w->nreq;
}

static void drop_items(struct watch *w)
{
	size_t i;

	for (i = 0; i < w->nitems; i++)
		k8sobj_free(w->items[i]);
	w->nitems = 0;
	mem_free(w->cont);
	w->cont = NULL;
	mem_free(w->list_rv);
	w->list_rv = NULL;
}

static int add_selectors(struct watch *w, struct buf *b)
{
	const char *f = w->res->field_selector, *l = w->res->label_selector;
	int r = 0;

	if (f)
		r = http_query_add(b, "fieldSelector", f, strlen(f));
	if (!r && l)
		r = http_query_add(b, "labelSelector", l, strlen(l));
	return r;
}

static void on_timer(struct ev *ev, uint64_t id, void *ctx)
{
	struct watch *w = ctx;

	w->timer = 0;
	if (w->synced)
		watch_watch(w);
	else
		watch_list(w);
}

/* Something went wrong: tell the owner, back off, try again. */
static void watch_fail(struct watch *w, int err, const char *why)
{
	uint64_t delay = backoff_fail(&w->bo, ev_now());

	if (w->retry_after >= 0 && (uint64_t)w->retry_after * 1000 > delay)
		delay = (uint64_t)w->retry_after * 1000;
	if (w->fails++ == 0)
		log_warnx("%s: %s; retrying (backoff, first delay %llu ms)", w->res->name, why,
			  (unsigned long long)delay);
	else
		log_debug("%s: %s; retry in %llu ms (failure %u)", w->res->name, why,
			  (unsigned long long)delay, w->fails);
	if (w->status == 401)
		k8s_token_stale(w->c);
	w->st = W_BACKOFF;
	if (ev_timer_add(w->ev, delay, on_timer, w, &w->timer))
		w->timer = 0;
	if (w->ops->failed)
		w->ops->failed(w->ctx, w, err, w->status);
}

static void watch_ok(struct watch *w)
{
	if (w->fails) {
		log_info("%s: recovered after %u failure(s)", w->res->name, w->fails);
		w->fails = 0;
	}
	backoff_ok(&w->bo, ev_now());
}

static int on_head(void *ctx, const struct http_response *r)
{
	struct watch *w = ctx;

	w->status = r->status;
	w->retry_after = r->retry_after;
	if (r->status == 410)
		w->expired = true;
	return 0;
}

static int grow_items(struct watch *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 64;
	struct k8sobj **v;

	if (w->nitems + more <= w->cap)
		return 0;
	while (cap < w->nitems + more)
		cap *= 2;
	v = mem_realloc(w->items, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->items = v;
	w->cap = cap;
	return 0;
}

/* One complete item of the LIST page being scanned: decode it and keep it. */
static int on_item(void *ctx, const char *p, size_t n)
{
	struct watch *w = ctx;
	struct k8sobj *o = NULL;
	struct ebuf eb = { "" };
	int r;

	r = k8sobj_parse(p, n, w->res->kind, &o, &eb);
	if (r == -ENOMEM)
		return r;
	if (r) {
		/* one bad object must not block every relist: count it, keep going */
		if (w->nbad++ == 0)
			log_warnx("%s: a listed object does not decode and is ignored: %s",
				  w->res->name, eb.msg);
		return 0;
	}
	r = grow_items(w, 1);
	if (r) {
		k8sobj_free(o);
		return r;
	}
	w->items[w->nitems++] = o;
	return 0;
}

static int on_list_chunk(void *ctx, const char *p, size_t n)
{
	struct watch *w = ctx;
	struct ebuf eb = { "" };
	int r;

	if (w->status != 200)
		return 0; /* an error's Status body: the status says enough */
	if (!w->jl_on) {
		r = jsonlist_init(&w->jl, WATCH_ITEM_MAX, 0, on_item, w);
		if (r)
			return r;
		w->jl_on = true;
	}
	r = jsonlist_feed(&w->jl, p, n, &eb);
	if (r && !ebuf_empty(&eb))
		log_warnx("%s: cannot read a list page: %s", w->res->name, eb.msg);
	return r;
}

/* The page ended: its envelope gives the continue token and the resourceVersion. */
static int finish_page(struct watch *w)
{
	struct k8sobj_list l = { 0 };
	struct ebuf eb = { "" };
	const char *env;
	size_t n;
	int r;

	if (!w->jl_on)
		return -EPROTO; /* a 200 with no body */
	r = jsonlist_finish(&w->jl, &env, &n, &eb);
	if (!r)
		r = k8sobj_list_parse(env, n, NULL, w->res->kind, &l, &eb);
	if (r) {
		log_warnx("%s: cannot decode a list page: %s", w->res->name, eb.msg);
		return r;
	}
	mem_free(w->cont);
	w->cont = l.cont;
	l.cont = NULL;
	mem_free(w->list_rv);
	w->list_rv = l.rv;
	l.rv = NULL;
	k8sobj_list_clear(&l);
	return 0;
}

static void page_end(struct watch *w)
{
	if (w->jl_on)
		jsonlist_free(&w->jl);
	w->jl_on = false;
}

static void list_done(void *ctx, int err, const char *why)
{
	struct watch *w = ctx;
	char msg[256];
	int r;

	w->req = NULL;
	if (!err && w->status == 200)
		err = finish_page(w);
	page_end(w);
	if (err) {
		drop_items(w);
		watch_fail(w, err, why && *why ? why : "list failed");
		return;
	}
	if (w->status == 410) {
		/* an expired continue token restarts the list; a 410 on the list itself
		 * asks for a consistent read */
		if (!w->cont)
			w->consistent = true;
		log_info("%s: list expired (410), listing again", w->res->name);
		drop_items(w);
		w->expired = false;
		watch_list(w);
		return;
	}
	if (w->status != 200) {
		drop_items(w);
		snprintf(msg, sizeof(msg), "list answered HTTP %d", w->status);
		watch_fail(w, -EPROTO, msg);
		return;
	}
	if (w->cont) {
		watch_list(w);
		return;
	}
	if (w->nbad)
		log_warnx("%s: %zu listed object(s) did not decode and are ignored", w->res->name,
			  w->nbad);
	w->nbad = 0;
	r = cache_replace(w->cache, w->items, w->nitems, w->list_rv);
	log_debug("%s: listed %zu object(s) at resourceVersion %s", w->res->name, w->nitems,
		  w->list_rv ? w->list_rv : "?");
	w->nitems = 0;
	drop_items(w);
	if (r) {
		watch_fail(w, r, "cannot store the list");
		return;
	}
	w->consistent = false;
	watch_ok(w);
	if (!w->synced)
		log_info("%s: synced, %zu object(s)", w->res->name, cache_count(w->cache));
	w->synced = true;
	if (w->ops->synced)
		w->ops->synced(w->ctx, w);
	watch_watch(w);
}

static const struct k8s_req_ops list_ops = {
	.head = on_head,
	.chunk = on_list_chunk,
	.done = list_done,
};

static int start(struct watch *w, struct buf *path, bool stream, const struct k8s_req_ops *ops)
{
	struct k8s_req_opts o = {
		.method = "GET",
		.path = path->p,
		.stream = stream,
		.idle_ms = stream ? WATCH_IDLE_MS : WATCH_LIST_IDLE_MS,
		.max_body = stream ? WATCH_ITEM_MAX : WATCH_LIST_MAX,
	};

	w->status = 0;
	w->retry_after = -1;
	w->expired = false;
	w->nreq++;
	return k8s_request(w->c, &o, ops, w, &w->req);
}

static void watch_list(struct watch *w)
{
	struct buf path = BUF_INIT;
	int r;

	w->st = W_LIST;
	r = buf_adds(&path, w->res->path);
	if (!r)
		r = http_query_add(&path, "limit", WATCH_PAGE, strlen(WATCH_PAGE));
	if (!r && w->cont)
		r = http_query_add(&path, "continue", w->cont, strlen(w->cont));
	else if (!r && !w->consistent)
		r = http_query_add(&path, "resourceVersion", "0", 1);
	if (!r)
		r = add_selectors(w, &path);
	if (!r)
		r = start(w, &path, false, &list_ops);
	buf_free(&path);
	if (r) {
		drop_items(w);
		watch_fail(w, r, "cannot start a list");
	}
}

static int on_event(void *ctx, const char *p, size_t n)
{
	struct watch *w = ctx;
	struct k8sobj_event e = { 0 };
	struct ebuf eb = { "" };
	int r;

	r = k8sobj_event_parse(p, n, w->res->kind, &e, &eb);
	if (r) {
		log_warnx("%s: undecodable watch event ignored: %s", w->res->name, eb.msg);
		return 0;
	}
	if (e.type == K8SOBJ_ERROR) {
		if (k8sobj_event_expired(&e))
			w->expired = true;
		else
			log_warnx("%s: watch error %d %s: %s", w->res->name, e.code,
				  e.reason ? e.reason : "", e.message ? e.message : "");
		k8sobj_event_clear(&e);
		return -ECANCELED; /* the server ends the stream after an ERROR anyway */
	}
	r = cache_apply(w->cache, &e);
	k8sobj_event_clear(&e);
	if (r) {
		log_warnx("%s: cannot apply a watch event: %s", w->res->name, strerror(-r));
		return r;
	}
	w->events++;
	if (w->ops->changed)
		w->ops->changed(w->ctx, w);
	return 0;
}

static void watch_done(void *ctx, int err, const char *why)
{
	struct watch *w = ctx;
	char msg[256];

	w->req = NULL;
	if (w->expired) {
		log_info("%s: resourceVersion expired (410), relisting", w->res->name);
		w->consistent = true;
		watch_list(w);
		return;
	}
	if (w->status && w->status != 200) {
		snprintf(msg, sizeof(msg), "watch answered HTTP %d", w->status);
		watch_fail(w, -EPROTO, msg);
		return;
	}
	if (err && err != -ECANCELED) {
		watch_fail(w, err, why ? why : "watch failed");
		return;
	}
	if (w->events == 0 && ev_now() - w->started < WATCH_SHORT_MS) {
		watch_fail(w, -EPIPE, "watch ended at once");
		return;
	}
	watch_ok(w);
	log_debug("%s: watch ended after %u event(s); resuming", w->res->name, w->events);
	watch_watch(w);
}

static const struct k8s_req_ops watch_ops = {
	.head = on_head,
	.line = on_event,
	.done = watch_done,
};

static void watch_watch(struct watch *w)
{
	struct buf path = BUF_INIT;
	char tmo[16];
	const char *rv = cache_rv(w->cache);
	int r;

	w->st = W_WATCH;
	w->events = 0;
	w->started = ev_now();
	/* spread reconnects of many nodes over five minutes, as client-go does */
	snprintf(tmo, sizeof(tmo), "%u", 300 + w->rnd(w->rnd_ctx) % 301);
	r = buf_adds(&path, w->res->path);
	if (!r)
		r = http_query_add(&path, "watch", "1", 1);
	if (!r)
		r = http_query_add(&path, "resourceVersion", rv, strlen(rv));
	if (!r)
		r = http_query_add(&path, "allowWatchBookmarks", "true", 4);
	if (!r)
		r = http_query_add(&path, "timeoutSeconds", tmo, strlen(tmo));
	if (!r)
		r = add_selectors(w, &path);
	if (!r)
		r = start(w, &path, true, &watch_ops);
	buf_free(&path);
	if (r)
		watch_fail(w, r, "cannot start a watch");
}

struct watch *watch_new(struct ev *ev, struct k8s_client *c, const struct watch_res *res,
			struct cache *cache, const struct watch_ops *ops, void *ctx,
			uint32_t (*rnd)(void *), void *rnd_ctx)
{
	struct watch *w = mem_calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	*w = (struct watch){
		.ev = ev, .c = c, .res = res, .cache = cache, .ops = ops, .ctx = ctx,
		.rnd = rnd, .rnd_ctx = rnd_ctx, .st = W_IDLE, .retry_after = -1,
	};
	if (backoff_init(&w->bo, NULL, rnd, rnd_ctx)) {
		mem_free(w);
		errno = EINVAL;
		return NULL;
	}
	return w;
}

static void watch_stop(struct watch *w)
{
	k8s_cancel(w->req);
	w->req = NULL;
	page_end(w);
	w->nbad = 0;
	if (w->timer)
		ev_timer_cancel(w->ev, w->timer);
	w->timer = 0;
	drop_items(w);
	w->st = W_IDLE;
}

void watch_start(struct watch *w)
{
	if (w->st == W_IDLE)
		watch_list(w);
}

void watch_restart(struct watch *w)
{
	watch_stop(w);
	w->synced = false;
	watch_list(w);
}

void watch_free(struct watch *w)
{
	if (!w)
		return;
	watch_stop(w);
	mem_free(w->items);
	mem_free(w);
}
