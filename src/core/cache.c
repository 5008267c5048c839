// SPDX-License-Identifier: MIT
/*
 * cache.c: the object store behind each watched kind (see cache.h). Linear probing over a
 * power-of-two table, deletion by backward shift so no tombstones pile up under watch churn.
 * Every operation first makes all the room it can need (table growth, the resourceVersion
 * copy) and only then changes anything, so an -ENOMEM leaves the cache exactly as it was and
 * no callback has told a consumer about a change that did not happen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/mem.h"
#include "cache.h"
#include "k8sobj.h"

#define MIN_SLOTS 16
#define NONE ((size_t)-1)

struct cache_slot {
	struct k8sobj *obj;	/* NULL: empty */
	uint32_t hash;
	bool seen;		/* listed by the cache_replace in progress */
};

struct cache {
	struct cache_slot *slots;
	size_t cap;		/* 0 or a power of two */
	size_t count;
	size_t bytes;		/* sum of the objects' sizes */
	struct cache_ops ops;
	void *ctx;
	char *rv;
	size_t rv_cap;
	uint32_t seed;
	uint8_t kind;
};

/*
 * FNV-1a over "ns/name" (a namespace never contains '/'), started from the seed. FNV's low
 * bits mix poorly and the table masks them, so murmur3's finaliser spreads the high bits down.
 */
static uint32_t key_hash(const struct cache *c, const char *ns, const char *name)
{
	uint32_t h = 2166136261u ^ c->seed;
	const unsigned char *p;

	for (p = (const unsigned char *)ns; *p; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

static size_t find(const struct cache *c, uint32_t h, const char *ns, const char *name)
{
	const struct cache_slot *s;
	size_t mask = c->cap - 1, i;

	if (!c->cap)
		return NONE;
	for (i = h & mask; (s = &c->slots[i])->obj; i = (i + 1) & mask)
		if (s->hash == h && !strcmp(s->obj->name, name) && !strcmp(s->obj->ns, ns))
			return i;
	return NONE;
}

/* Place an object whose key is not in the table; room is already there. */
static void place(struct cache_slot *slots, size_t cap, struct k8sobj *obj, uint32_t h)
{
	size_t i;

	for (i = h & (cap - 1); slots[i].obj; i = (i + 1) & (cap - 1))
		;
	slots[i] = (struct cache_slot){ .obj = obj, .hash = h };
}

/* Grow so that n objects keep the table at most 3/4 full. */
static int reserve(struct cache *c, size_t n)
{
	size_t cap = c->cap ? c->cap : MIN_SLOTS, i;
	struct cache_slot *s;

	if (n > SIZE_MAX / 8 / sizeof(*s))
		return -ENOMEM;
	while (n * 4 > cap * 3)
		cap *= 2;
	if (cap == c->cap)
		return 0;
	s = mem_calloc(cap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < c->cap; i++)
		if (c->slots[i].obj)
			place(s, cap, c->slots[i].obj, c->slots[i].hash);
	mem_free(c->slots);
	c->slots = s;
	c->cap = cap;
	return 0;
}

/* Room for a resourceVersion of n bytes; the current one stays intact either way. */
static int rv_room(struct cache *c, size_t n)
{
	char *p;

	if (n < c->rv_cap)
		return 0;
	p = mem_realloc(c->rv, n + 1);
	if (!p)
		return -ENOMEM;
	if (!c->rv)
		p[0] = '\0';
	c->rv = p;
	c->rv_cap = n + 1;
	return 0;
}

/*
 * Empty slot i by shifting later members of its cluster back, so lookups never need
 * tombstones. An entry may fill the hole unless its home lies cyclically in (hole, entry].
 */
static void remove_at(struct cache *c, size_t i)
{
	size_t mask = c->cap - 1, j = i, home;

	c->bytes -= c->slots[i].obj->size;
	c->count--;
	for (;;) {
		j = (j + 1) & mask;
		if (!c->slots[j].obj)
			break;
		home = c->slots[j].hash & mask;
		if (j > i ? home <= i || home > j : home <= i && home > j) {
			c->slots[i] = c->slots[j];
			i = j;
		}
	}
	c->slots[i] = (struct cache_slot){ 0 };
}

static void drop(struct cache *c, size_t i)
{
	struct k8sobj *old = c->slots[i].obj;

	remove_at(c, i);
	if (c->ops.on_delete)
		c->ops.on_delete(c->ctx, old);
	k8sobj_free(old);
}

static bool unchanged(const struct k8sobj *a, const struct k8sobj *b)
{
	return *a->rv && !strcmp(a->rv, b->rv);
}

/* Insert or replace; room for one more is already there. */
static void put(struct cache *c, struct k8sobj *obj, bool resync)
{
	uint32_t h = key_hash(c, obj->ns, obj->name);
	size_t i = find(c, h, obj->ns, obj->name);
	struct k8sobj *old;

	c->bytes += obj->size;
	if (i == NONE) {
		place(c->slots, c->cap, obj, h);
		c->count++;
		if (c->ops.on_add)
			c->ops.on_add(c->ctx, obj);
		return;
	}
	old = c->slots[i].obj;
	c->slots[i].obj = obj;
	c->slots[i].seen = false;
	c->bytes -= old->size;
	if (c->ops.on_update && (!resync || c->ops.resync_unchanged || !unchanged(old, obj)))
		c->ops.on_update(c->ctx, old, obj);
	k8sobj_free(old);
}

struct cache *cache_new(enum k8sobj_kind kind, const struct cache_ops *ops, void *ctx,
			uint32_t seed)
{
	struct cache *c;

	if ((unsigned int)kind >= K8SOBJ_NKINDS) {
		errno = EINVAL;
		return NULL;
	}
	c = mem_calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (ops)
		c->ops = *ops;
	c->ctx = ctx;
	c->seed = seed;
	c->kind = (uint8_t)kind;
	return c;
}

void cache_free(struct cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->cap; i++)
		k8sobj_free(c->slots[i].obj);
	mem_free(c->slots);
	mem_free(c->rv);
	mem_free(c);
}

static void free_all(struct k8sobj **objs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		k8sobj_free(objs[i]);
		objs[i] = NULL;
	}
}

int cache_replace(struct cache *c, struct k8sobj **objs, size_t n, const char *rv)
{
	const struct k8sobj *o;
	size_t i, j;
	int r = 0;

	for (i = 0; i < n && !r; i++)
		r = objs[i] && objs[i]->kind == c->kind ? 0 : -EINVAL;
	if (!r)
		r = reserve(c, n);
	if (!r && rv)
		r = rv_room(c, strlen(rv));
	if (r) {
		free_all(objs, n);
		return r;
	}
	for (i = 0; i < n; i++) {
		o = objs[i];
		j = find(c, key_hash(c, o->ns, o->name), o->ns, o->name);
		if (j != NONE)
			c->slots[j].seen = true;
	}
	/* a removal shifts a later entry into slot i, so look at slot i again */
	for (i = 0; i < c->cap;) {
		if (c->slots[i].obj && !c->slots[i].seen)
			drop(c, i);
		else
			i++;
	}
	for (i = 0; i < n; i++) {
		put(c, objs[i], true);
		objs[i] = NULL;
	}
	if (rv)
		strcpy(c->rv, rv);
	return 0;
}

int cache_apply(struct cache *c, struct k8sobj_event *ev)
{
	struct k8sobj *obj = ev->obj;
	size_t i;
	int r = 0;

	ev->obj = NULL;
	if (ev->type == K8SOBJ_BOOKMARK && !obj)
		return ev->rv ? cache_set_rv(c, ev->rv) : -EINVAL;
	if (ev->type > K8SOBJ_DELETED || !obj || obj->kind != c->kind)
		r = -EINVAL;
	if (!r)
		r = rv_room(c, strlen(obj->rv));
	if (!r && ev->type != K8SOBJ_DELETED)
		r = reserve(c, c->count + 1);
	if (r) {
		k8sobj_free(obj);
		return r;
	}
	if (*obj->rv)
		strcpy(c->rv, obj->rv);
	if (ev->type != K8SOBJ_DELETED) {
		put(c, obj, false);
		return 0;
	}
	i = find(c, key_hash(c, obj->ns, obj->name), obj->ns, obj->name);
	if (i != NONE)
		drop(c, i);
	k8sobj_free(obj);
	return 0;
}

int cache_upsert(struct cache *c, struct k8sobj *obj)
{
	int r = obj && obj->kind == c->kind ? 0 : -EINVAL;

	if (!r)
		r = reserve(c, c->count + 1);
	if (r) {
		k8sobj_free(obj);
		return r;
	}
	put(c, obj, false);
	return 0;
}

bool cache_remove(struct cache *c, const char *ns, const char *name)
{
	size_t i;

	ns = ns ? ns : "";
	i = find(c, key_hash(c, ns, name), ns, name);
	if (i == NONE)
		return false;
	drop(c, i);
	return true;
}

const struct k8sobj *cache_get(const struct cache *c, const char *ns, const char *name)
{
	size_t i;

	ns = ns ? ns : "";
	i = find(c, key_hash(c, ns, name), ns, name);
	return i == NONE ? NULL : c->slots[i].obj;
}

size_t cache_count(const struct cache *c)
{
	return c->count;
}

const char *cache_rv(const struct cache *c)
{
	return c->rv ? c->rv : "";
}

int cache_set_rv(struct cache *c, const char *rv)
{
	int r = rv_room(c, strlen(rv));

	if (!r)
		strcpy(c->rv, rv);
	return r;
}

size_t cache_bytes(const struct cache *c)
{
	return sizeof(*c) + c->cap * sizeof(*c->slots) + c->bytes + c->rv_cap;
}

const struct k8sobj *cache_next(const struct cache *c, size_t *pos)
{
	size_t i;

	for (i = *pos; i < c->cap; i++) {
		if (c->slots[i].obj) {
			*pos = i + 1;
			return c->slots[i].obj;
		}
	}
	*pos = c->cap;
	return NULL;
}
