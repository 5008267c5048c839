// SPDX-License-Identifier: MIT
/*
 * k8sobj.c: the core of the Kubernetes object decoder (see k8sobj.h): packing an object into
 * one allocation, the error path, typed access to DOM members, metadata, and the public
 * object API. The kinds live in k8sobj_kinds.c and k8sobj_netpol.c, watch events and List
 * pages in k8sobj_watch.c; k8sobj_int.h is what they share.
 *
 * One allocation per object: each decode runs twice over the DOM with the same code. The
 * sizing pass (d->mem NULL) validates everything and counts bytes; the filling pass writes
 * into one block of exactly that size: the kind's struct, then its arrays, then its strings.
 * Only the k8sobj_pk_* helpers know which pass runs, so the two layouts cannot drift apart, and
 * the filling pass cannot fail because the sizing pass already accepted the same input.
 * Elements of one array are put one after another with nothing else put in between, which
 * keeps them contiguous; EndpointSlices put their address arrays in a second loop for that
 * reason.
 *
 * Error paths are built while unwinding: the innermost check writes the reason, and every
 * level on the way out prepends its segment, so the happy path never formats anything.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../codec/json.h"
#include "k8sobj.h"
#include "k8sobj_int.h"

#define LABEL_NAME "kubernetes.io/metadata.name"

void k8sobj_dec_init(struct k8sobj_dec *d)
{
	d->cut = false;
	d->pos = K8SOBJ_PATH_CAP - 1;
	d->path[d->pos] = '\0';
	d->why[0] = '\0';
}

/* ---- packing --------------------------------------------------------------------------- */

const char *k8sobj_pk_strn(struct k8sobj_dec *d, const char *s, size_t n)
{
	char *p;

	if (n == 0)
		return "";
	p = d->mem ? d->mem + d->str : NULL;
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	d->str += n + 1;
	return p;
}

const char *k8sobj_pk_str(struct k8sobj_dec *d, const struct json *s)
{
	return s ? k8sobj_pk_strn(d, s->str, s->len) : "";
}

/* Append one array element; returns where it went (NULL in the sizing pass). */
void *k8sobj_pk_put(struct k8sobj_dec *d, const void *src, size_t size, size_t align)
{
	void *p;

	d->arr = (d->arr + align - 1) & ~(align - 1);
	p = d->mem ? d->mem + d->arr : NULL;
	if (p)
		memcpy(p, src, size);
	d->arr += size;
	return p;
}

/* ---- errors ---------------------------------------------------------------------------- */

static const char *type_name(const struct json *v)
{
	static const char *const names[] = {
		[JSON_NULL] = "null", [JSON_FALSE] = "a boolean", [JSON_TRUE] = "a boolean",
		[JSON_NUMBER] = "a number", [JSON_STRING] = "a string",
		[JSON_ARRAY] = "an array", [JSON_OBJECT] = "an object",
	};

	return v ? names[v->type] : "nothing";
}

int k8sobj_why(struct k8sobj_dec *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Prepend one path segment ("spec", "ports[2]", "[\"app\"]") while an error unwinds. */
int k8sobj_up(struct k8sobj_dec *d, int r, const char *fmt, ...)
{
	char seg[96];
	bool dot = d->path[d->pos] != '\0' && d->path[d->pos] != '[';
	size_t n;
	va_list ap;

	if (d->cut)
		return r;
	va_start(ap, fmt);
	vsnprintf(seg, sizeof(seg), fmt, ap);
	va_end(ap);
	n = strlen(seg);
	if (n + dot > d->pos) {
		d->cut = true;
		return r;
	}
	if (dot)
		d->path[--d->pos] = '.';
	d->pos -= n;
	memcpy(d->path + d->pos, seg, n);
	return r;
}

void k8sobj_report(const struct k8sobj_dec *d, int r, struct ebuf *eb)
{
	if (r == -ENOMEM)
		ebuf_set(eb, "out of memory");
	else if (r == -E2BIG)
		ebuf_set(eb, "object too large");
	else if (d->path[d->pos])
		ebuf_set(eb, "%s%s: %s", d->cut ? "..." : "", d->path + d->pos, d->why);
	else
		ebuf_set(eb, "%s", d->why);
}

/* ---- typed access ---------------------------------------------------------------------- */

/* JSON_TRUE stands for "a boolean", JSON_NUMBER for "an integer" (checked on conversion). */
int k8sobj_check(struct k8sobj_dec *d, const struct json *v, enum json_type t)
{
	static const char *const want[] = {
		[JSON_TRUE] = "a boolean", [JSON_NUMBER] = "an integer",
		[JSON_STRING] = "a string", [JSON_ARRAY] = "an array", [JSON_OBJECT] = "an object",
	};

	if (t == JSON_TRUE ? !json_is_bool(v) : !json_is(v, t))
		return k8sobj_why(d, "expected %s, got %s", want[t], type_name(v));
	if (t == JSON_STRING && json_str_has_nul(v))
		return k8sobj_why(d, "string contains NUL");
	return 0;
}

/* *out = the member, or NULL when absent or null; -EINVAL when of another type. */
int k8sobj_get(struct k8sobj_dec *d, const struct json *o, const char *key, enum json_type t,
	       const struct json **out)
{
	const struct json *v = json_get(o, key);
	int r;

	*out = NULL;
	if (!v || v->type == JSON_NULL)
		return 0;
	r = k8sobj_check(d, v, t);
	if (r && strpbrk(key, "./"))
		return k8sobj_up(d, r, "[\"%s\"]", key);
	if (r)
		return k8sobj_up(d, r, "%s", key);
	*out = v;
	return 0;
}


bool k8sobj_text_is(const struct json *s, const char *lit)
{
	return s && s->len == strlen(lit) && memcmp(s->str, lit, s->len) == 0;
}

/* Index of s in names[0..n), or n. */
size_t k8sobj_lookup(const struct json *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (names[i] && k8sobj_text_is(s, names[i]))
			return i;
	return n;
}

/* ---- metadata -------------------------------------------------------------------------- */

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct k8sobj_kv *)a)->key, ((const struct k8sobj_kv *)b)->key);
}

/*
 * Put the string members of a map whose key starts with prefix (NULL: all), plus *extra when
 * given, as one sorted kv array.
 */
int k8sobj_dec_map(struct k8sobj_dec *d, const struct json *map, const char *prefix,
		   const struct k8sobj_kv *extra, const struct k8sobj_kv **arr, uint32_t *n)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	const struct json *it;
	struct k8sobj_kv kv, *first = NULL, *p;
	uint32_t k = 0;
	int r;

	json_for_each(it, map) {
		if (plen && (it->keylen < plen || memcmp(it->key, prefix, plen)))
			continue;
		r = k8sobj_check(d, it, JSON_STRING);
		if (!r && memchr(it->key, 0, it->keylen))
			r = k8sobj_why(d, "key contains NUL");
		if (r)
			return k8sobj_up(d, r, "[\"%.60s\"]", it->key);
		kv.key = k8sobj_pk_strn(d, it->key, it->keylen);
		kv.val = k8sobj_pk_str(d, it);
		p = k8sobj_pk_put(d, &kv, sizeof(kv), alignof(struct k8sobj_kv));
		first = k++ ? first : p;
	}
	if (extra) {
		p = k8sobj_pk_put(d, extra, sizeof(*extra), alignof(struct k8sobj_kv));
		first = k++ ? first : p;
	}
	if (first)
		qsort(first, k, sizeof(*first), kv_cmp);
	*arr = first;
	*n = k;
	return 0;
}

static int dec_meta(struct k8sobj_dec *d, const struct json *m, enum k8sobj_kind kind,
		    struct k8sobj *o)
{
	static const char *const keys[] = { "name", "namespace", "uid", "resourceVersion" };
	const char **dst[] = { &o->name, &o->ns, &o->uid, &o->rv };
	const struct json *v, *labels;
	struct k8sobj_kv extra = { LABEL_NAME, NULL };
	bool synth;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		r = k8sobj_get(d, m, keys[i], JSON_STRING, &v);
		if (r)
			return r;
		*dst[i] = k8sobj_pk_str(d, v);
	}
	r = k8sobj_get(d, m, "deletionTimestamp", JSON_STRING, &v);
	if (r)
		return r;
	if (v)
		d->flags |= K8SOBJ_F_DELETING;
	r = k8sobj_get(d, m, "labels", JSON_OBJECT, &labels);
	if (r)
		return r;
	/* the API server sets this label on every namespace; objects from elsewhere may lack it */
	v = json_get(m, "name");
	synth = kind == K8SOBJ_NAMESPACE && v && v->len && !json_get(labels, LABEL_NAME);
	extra.val = o->name;
	r = k8sobj_dec_map(d, labels, NULL, synth ? &extra : NULL, &o->labels, &o->nlabels);
	return r ? k8sobj_up(d, r, "labels") : 0;
}

/* ---- objects --------------------------------------------------------------------------- */

static const char *const kind_names[] = {
	[K8SOBJ_NODE] = "Node", [K8SOBJ_POD] = "Pod", [K8SOBJ_NAMESPACE] = "Namespace",
	[K8SOBJ_ENDPOINTSLICE] = "EndpointSlice", [K8SOBJ_NETPOL] = "NetworkPolicy",
};

static const size_t kind_sizes[] = {
	[K8SOBJ_NODE] = sizeof(struct k8sobj_node), [K8SOBJ_POD] = sizeof(struct k8sobj_pod),
	[K8SOBJ_NAMESPACE] = sizeof(struct k8sobj), [K8SOBJ_OTHER] = sizeof(struct k8sobj),
	[K8SOBJ_ENDPOINTSLICE] = sizeof(struct k8sobj_eps),
	[K8SOBJ_NETPOL] = sizeof(struct k8sobj_netpol),
};

static int dec_kind(struct k8sobj_dec *d, const struct json *v, enum k8sobj_kind kind,
		    struct k8sobj *o)
{
	const struct json *k, *m;
	int r;

	r = k8sobj_check(d, v, JSON_OBJECT);
	if (!r)
		r = k8sobj_get(d, v, "kind", JSON_STRING, &k);
	if (!r && k && kind < K8SOBJ_OTHER && !k8sobj_text_is(k, kind_names[kind]))
		r = k8sobj_up(d, k8sobj_why(d, "expected %s, got \"%.40s\"", kind_names[kind],
					    k->str), "kind");
	if (!r)
		r = k8sobj_get(d, v, "metadata", JSON_OBJECT, &m);
	if (!r && (r = dec_meta(d, m, kind, o)))
		k8sobj_up(d, r, "metadata");
	if (r)
		return r;
	switch (kind) {
	case K8SOBJ_NODE:
		return k8sobj_dec_node(d, v, container_of(o, struct k8sobj_node, obj));
	case K8SOBJ_POD:
		return k8sobj_dec_pod(d, v, container_of(o, struct k8sobj_pod, obj));
	case K8SOBJ_ENDPOINTSLICE:
		return k8sobj_dec_eps(d, v, container_of(o, struct k8sobj_eps, obj));
	case K8SOBJ_NETPOL:
		return k8sobj_dec_netpol(d, v, container_of(o, struct k8sobj_netpol, obj));
	default:
		return 0;
	}
}

int k8sobj_dec_object(struct k8sobj_dec *d, const struct json *v, enum k8sobj_kind kind,
		      struct k8sobj **out)
{
	union {
		struct k8sobj_node n;
		struct k8sobj_pod p;
		struct k8sobj_eps e;
		struct k8sobj_netpol np;
	} scratch;
	size_t base, arr_end, total;
	struct k8sobj *o;
	int r;

	*out = NULL;
	if ((unsigned int)kind >= K8SOBJ_NKINDS)
		return k8sobj_why(d, "unknown kind %d", (int)kind);
	base = kind_sizes[kind];
	memset(&scratch, 0, sizeof(scratch));
	d->mem = NULL;
	d->arr = base;
	d->str = 0;
	d->flags = 0;
	r = dec_kind(d, v, kind, &scratch.n.obj);
	if (r)
		return r;
	arr_end = d->arr;
	total = arr_end + d->str;
	if (total > UINT32_MAX)
		return -E2BIG;
	d->mem = mem_alloc(total);
	if (!d->mem)
		return -ENOMEM;
	memset(d->mem, 0, base);
	d->arr = base;
	d->str = arr_end;
	d->flags = 0;
	o = (struct k8sobj *)(void *)d->mem;
	r = dec_kind(d, v, kind, o);
	/* the same code accepted the same DOM a moment ago; anything else overran the block */
	if (r || d->arr != arr_end || d->str != total)
		abort();
	o->kind = (uint8_t)kind;
	o->flags = d->flags;
	o->size = (uint32_t)total;
	d->mem = NULL;
	*out = o;
	return 0;
}

int k8sobj_decode(const struct json *v, enum k8sobj_kind kind, struct k8sobj **out,
		  struct ebuf *eb)
{
	struct k8sobj_dec d;
	int r;

	k8sobj_dec_init(&d);
	r = k8sobj_dec_object(&d, v, kind, out);
	if (r)
		k8sobj_report(&d, r, eb);
	return r;
}

/* json_parse, with the message it leaves out for -ENOMEM. */
int k8sobj_parse_doc(const char *p, size_t n, const struct json_limits *lim,
		     struct json_doc **doc, struct ebuf *eb)
{
	int r = json_parse(p, n, lim, doc, eb);

	if (r == -ENOMEM)
		ebuf_set(eb, "out of memory");
	return r;
}

int k8sobj_parse(const char *p, size_t n, enum k8sobj_kind kind, struct k8sobj **out,
		 struct ebuf *eb)
{
	struct json_doc *doc = NULL;
	int r;

	*out = NULL;
	r = k8sobj_parse_doc(p, n, NULL, &doc, eb);
	if (!r)
		r = k8sobj_decode(json_root(doc), kind, out, eb);
	json_doc_free(doc);
	return r;
}

void k8sobj_free(struct k8sobj *o)
{
	mem_free(o);
}

const char *k8sobj_kind_name(enum k8sobj_kind kind)
{
	return (unsigned int)kind < K8SOBJ_OTHER ? kind_names[kind] : "";
}

static const char *kv_find(const struct k8sobj_kv *kv, uint32_t n, const char *key)
{
	struct k8sobj_kv want = { key, NULL };
	const struct k8sobj_kv *hit;

	if (!n || !key)
		return NULL;
	hit = bsearch(&want, kv, n, sizeof(*kv), kv_cmp);
	return hit ? hit->val : NULL;
}

const char *k8sobj_label(const struct k8sobj *o, const char *key)
{
	return o ? kv_find(o->labels, o->nlabels, key) : NULL;
}

const char *k8sobj_annotation(const struct k8sobj_node *n, const char *key)
{
	return n ? kv_find(n->annotations, n->nannotations, key) : NULL;
}

bool k8sobj_same_key(const struct k8sobj *a, const struct k8sobj *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->ns, b->ns) == 0;
}
