// SPDX-License-Identifier: MIT
/*
 * localsrc_decode.c: one file of the local source's folder into decoded objects (see
 * localsrc_int.h). A file holds one object or a List, as `kubectl get -o json` writes them;
 * objects of kinds the agent does not cache are skipped, so a folder of ordinary manifests
 * (Deployments, Services and all) can be pointed at as it is.
 */
#include <errno.h>
#include <string.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../codec/json.h"
#include "localsrc_int.h"

void localsrc_objs_clear(struct localsrc_objs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		k8sobj_free(o->v[i]);
	mem_free(o->v);
	memset(o, 0, sizeof(*o));
}

static int objs_push(struct localsrc_objs *o, struct k8sobj *obj)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		struct k8sobj **v = mem_realloc(o->v, cap * sizeof(*v));

		if (!v) {
			k8sobj_free(obj);
			return -ENOMEM;
		}
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = obj;
	return 0;
}

/* The kind named by s[0..n), or -1. */
static int kind_of(const char *s, size_t n)
{
	int k;

	for (k = 0; k < K8SOBJ_OTHER; k++) {
		const char *name = k8sobj_kind_name(k);

		if (strlen(name) == n && memcmp(name, s, n) == 0)
			return k;
	}
	return -1;
}

struct dec {
	struct cache *const *caches;
	struct localsrc_objs *o;
	struct ebuf *eb;
};

/* Decode v (of kind, or of its own "kind" member when kind < 0) when its kind is cached. */
static int decode_one(struct dec *d, const struct json *v, int kind)
{
	const struct json *k = json_get(v, "kind");
	struct k8sobj *obj;
	int r;

	if (kind < 0) {
		if (!json_is(k, JSON_STRING)) {
			ebuf_set(d->eb, "kind: %s", k ? "expected a string" : "missing");
			return -EINVAL;
		}
		kind = kind_of(k->str, k->len);
	}
	/* kinds the agent does not use (Services, Deployments) are simply not its business */
	if (kind < 0 || !d->caches[kind])
		return 0;
	r = k8sobj_decode(v, kind, &obj, d->eb);
	if (r)
		return r;
	if (!obj->name[0]) {
		k8sobj_free(obj);
		ebuf_set(d->eb, "metadata.name: missing");
		return -EINVAL;
	}
	return objs_push(d->o, obj);
}

static int decode_list(struct dec *d, const struct json *root, int kind)
{
	const struct json *items = json_get(root, "items"), *it;
	size_t i = 0;
	int r;

	if (!items || json_is(items, JSON_NULL))
		return 0;
	if (!json_is(items, JSON_ARRAY)) {
		ebuf_set(d->eb, "items: expected an array");
		return -EINVAL;
	}
	json_for_each(it, items) {
		r = decode_one(d, it, kind);
		if (r) {
			ebuf_prefix(d->eb, "items[%zu]", i);
			return r;
		}
		i++;
	}
	return 0;
}

static int decode_doc(struct dec *d, const struct json *root)
{
	const struct json *k = json_get(root, "kind");
	int item;

	if (!json_is(root, JSON_OBJECT)) {
		ebuf_set(d->eb, "expected an object");
		return -EINVAL;
	}
	if (!json_is(k, JSON_STRING) || k->len < 4 || strcmp(k->str + k->len - 4, "List") != 0)
		return decode_one(d, root, -1);
	/* "List" holds any kinds; "PodList" pods; "ServiceList" nothing for us */
	item = kind_of(k->str, k->len - 4);
	if (item < 0 && k->len > 4)
		return 0;
	return decode_list(d, root, item);
}

int localsrc_read(const char *path, struct cache *const caches[K8SOBJ_NKINDS],
		  struct localsrc_objs *o, struct ebuf *eb)
{
	struct json_limits lim = { .max_bytes = LOCALSRC_MAX_FILE };
	struct dec d = { .caches = caches, .o = o, .eb = eb };
	struct json_doc *doc = NULL;
	char *data = NULL;
	size_t len;
	int r;

	memset(o, 0, sizeof(*o));
	r = read_file_alloc(path, LOCALSRC_MAX_FILE, &data, &len);
	if (r == -EINVAL)
		r = -ENOENT;	/* a folder called x.json holds no objects */
	else if (r == -EFBIG)
		ebuf_set(eb, "larger than %u bytes", LOCALSRC_MAX_FILE);
	if (r)
		return r;
	r = json_parse(data, len, &lim, &doc, eb);
	mem_free(data);
	if (!r)
		r = decode_doc(&d, json_root(doc));
	json_doc_free(doc);
	if (r)
		localsrc_objs_clear(o);
	return r;
}
