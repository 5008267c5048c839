// SPDX-License-Identifier: MIT
/*
 * k8sobj_watch.c: the envelopes around objects: watch event lines (ADDED, MODIFIED, DELETED
 * carry an object; BOOKMARK a resourceVersion; ERROR a Status) and List pages (resourceVersion,
 * continue token, items, with a bad item counted rather than failing the page). Objects
 * themselves are decoded by k8sobj.c; what the envelope owns beside them is plain heap strings.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "../base/mem.h"
#include "../codec/json.h"
#include "k8sobj.h"
#include "k8sobj_int.h"

/* ---- watch events ---------------------------------------------------------------------- */

static int dup_str(const struct json *s, char **out)
{
	*out = s ? mem_strndup(s->str, s->len) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

static int dec_bookmark(struct k8sobj_dec *d, const struct json *obj, struct k8sobj_event *ev)
{
	const struct json *m, *rv, *ann, *end = NULL;
	int r;

	r = k8sobj_get(d, obj, "metadata", JSON_OBJECT, &m);
	if (r)
		return r;
	r = k8sobj_get(d, m, "resourceVersion", JSON_STRING, &rv);
	if (!r && !rv)
		r = k8sobj_up(d, k8sobj_why(d, "missing"), "resourceVersion");
	if (!r)
		r = k8sobj_get(d, m, "annotations", JSON_OBJECT, &ann);
	if (!r && (r = k8sobj_get(d, ann, "k8s.io/initial-events-end", JSON_STRING, &end)))
		k8sobj_up(d, r, "annotations");
	if (r)
		return k8sobj_up(d, r, "metadata");
	ev->initial_end = k8sobj_text_is(end, "true");
	return dup_str(rv, &ev->rv);
}

static int dec_status(struct k8sobj_dec *d, const struct json *obj, struct k8sobj_event *ev)
{
	const struct json *code, *reason, *msg;
	int64_t x = 0;
	int r;

	r = k8sobj_get(d, obj, "code", JSON_NUMBER, &code);
	if (!r && code && (json_i64(code, &x) || x < INT32_MIN || x > INT32_MAX))
		r = k8sobj_up(d, k8sobj_why(d, "expected an integer, got %.20s", code->str),
			      "code");
	if (!r)
		r = k8sobj_get(d, obj, "reason", JSON_STRING, &reason);
	if (!r)
		r = k8sobj_get(d, obj, "message", JSON_STRING, &msg);
	if (r)
		return r;
	ev->code = (int)x;
	r = dup_str(reason, &ev->reason);
	return r ? r : dup_str(msg, &ev->message);
}

static int event_decode(struct k8sobj_dec *d, const struct json *v, enum k8sobj_kind kind,
			struct k8sobj_event *ev)
{
	static const char *const types[] = {
		[K8SOBJ_ADDED] = "ADDED", [K8SOBJ_MODIFIED] = "MODIFIED",
		[K8SOBJ_DELETED] = "DELETED", [K8SOBJ_BOOKMARK] = "BOOKMARK",
		[K8SOBJ_ERROR] = "ERROR",
	};
	const struct json *type, *obj;
	size_t t;
	int r;

	r = k8sobj_check(d, v, JSON_OBJECT);
	if (!r)
		r = k8sobj_get(d, v, "type", JSON_STRING, &type);
	if (!r)
		r = k8sobj_get(d, v, "object", JSON_OBJECT, &obj);
	if (r)
		return r;
	t = k8sobj_lookup(type, types, ARRAY_SIZE(types));
	if (!type)
		return k8sobj_up(d, k8sobj_why(d, "missing"), "type");
	if (t == ARRAY_SIZE(types))
		return k8sobj_up(d, k8sobj_why(d, "unknown event type \"%.32s\"", type->str),
				 "type");
	if (!obj)
		return k8sobj_up(d, k8sobj_why(d, "missing"), "object");
	ev->type = (enum k8sobj_evtype)t;
	if (t == K8SOBJ_BOOKMARK)
		r = dec_bookmark(d, obj, ev);
	else if (t == K8SOBJ_ERROR)
		r = dec_status(d, obj, ev);
	else
		r = k8sobj_dec_object(d, obj, kind, &ev->obj);
	return r == -EINVAL ? k8sobj_up(d, r, "object") : r;
}

int k8sobj_event_decode(const struct json *v, enum k8sobj_kind kind, struct k8sobj_event *ev,
			struct ebuf *eb)
{
	struct k8sobj_dec d;
	int r;

	memset(ev, 0, sizeof(*ev));
	k8sobj_dec_init(&d);
	r = event_decode(&d, v, kind, ev);
	if (r) {
		k8sobj_event_clear(ev);
		k8sobj_report(&d, r, eb);
	}
	return r;
}

int k8sobj_event_parse(const char *p, size_t n, enum k8sobj_kind kind,
		       struct k8sobj_event *ev, struct ebuf *eb)
{
	struct json_doc *doc = NULL;
	int r;

	memset(ev, 0, sizeof(*ev));
	r = k8sobj_parse_doc(p, n, NULL, &doc, eb);
	if (!r)
		r = k8sobj_event_decode(json_root(doc), kind, ev, eb);
	json_doc_free(doc);
	return r;
}

void k8sobj_event_clear(struct k8sobj_event *ev)
{
	k8sobj_free(ev->obj);
	mem_free(ev->rv);
	mem_free(ev->reason);
	mem_free(ev->message);
	memset(ev, 0, sizeof(*ev));
}

bool k8sobj_event_expired(const struct k8sobj_event *ev)
{
	const char *r = ev->reason;

	return ev->type == K8SOBJ_ERROR &&
	       (ev->code == 410 || (r && (!strcmp(r, "Expired") || !strcmp(r, "Gone"))));
}

/* ---- List pages ------------------------------------------------------------------------ */

static int list_items(const struct json *items, enum k8sobj_kind kind, struct k8sobj_list *l,
		      struct ebuf *eb)
{
	const struct json *it;
	struct k8sobj_dec d;
	size_t i = 0;
	int r;

	if (!items || !items->count)
		return 0;
	l->items = mem_calloc(items->count, sizeof(*l->items));
	if (!l->items)
		return -ENOMEM;
	json_for_each(it, items) {
		k8sobj_dec_init(&d);
		r = k8sobj_dec_object(&d, it, kind, &l->items[l->nitems]);
		if (r == -ENOMEM)
			return r;
		if (r && l->nbad++ == 0)
			k8sobj_report(&d, k8sobj_up(&d, r, "items[%zu]", i), eb);
		l->nitems += !r;
		i++;
	}
	return 0;
}

static int list_decode(struct k8sobj_dec *d, const struct json *v, enum k8sobj_kind kind,
		       struct k8sobj_list *l, struct ebuf *eb)
{
	const struct json *m, *items, *rv, *cont;
	int r;

	r = k8sobj_check(d, v, JSON_OBJECT);
	if (!r)
		r = k8sobj_get(d, v, "metadata", JSON_OBJECT, &m);
	if (!r)
		r = k8sobj_get(d, v, "items", JSON_ARRAY, &items);
	if (r)
		return r;
	r = k8sobj_get(d, m, "resourceVersion", JSON_STRING, &rv);
	if (!r)
		r = k8sobj_get(d, m, "continue", JSON_STRING, &cont);
	if (r)
		return k8sobj_up(d, r, "metadata");
	r = dup_str(rv, &l->rv);
	if (!r && cont && cont->len)
		r = dup_str(cont, &l->cont);
	return r ? r : list_items(items, kind, l, eb);
}

int k8sobj_list_decode(const struct json *v, enum k8sobj_kind kind, struct k8sobj_list *l,
		       struct ebuf *eb)
{
	struct k8sobj_dec d;
	int r;

	memset(l, 0, sizeof(*l));
	k8sobj_dec_init(&d);
	r = list_decode(&d, v, kind, l, eb);
	if (r) {
		k8sobj_list_clear(l);
		k8sobj_report(&d, r, eb);
	}
	return r;
}

int k8sobj_list_parse(const char *p, size_t n, const struct json_limits *lim,
		      enum k8sobj_kind kind, struct k8sobj_list *l, struct ebuf *eb)
{
	struct json_doc *doc = NULL;
	int r;

	memset(l, 0, sizeof(*l));
	r = k8sobj_parse_doc(p, n, lim, &doc, eb);
	if (!r)
		r = k8sobj_list_decode(json_root(doc), kind, l, eb);
	json_doc_free(doc);
	return r;
}

void k8sobj_list_clear(struct k8sobj_list *l)
{
	size_t i;

	for (i = 0; i < l->nitems; i++)
		k8sobj_free(l->items[i]);
	mem_free(l->items);
	mem_free(l->rv);
	mem_free(l->cont);
	memset(l, 0, sizeof(*l));
}
