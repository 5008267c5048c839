// SPDX-License-Identifier: MIT
/*
 * npcompile_util.c: the policy compiler's containers: FNV-1a hashing, a hash set of record
 * pointers (the caller supplies hash and equality, so a pod is found by (ns, name) without
 * building a key string), and pointer vectors. Only the compiler's files use them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/mem.h"
#include "npcompile_int.h"

#define MAP_MIN 16

uint64_t npc_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

uint64_t npc_fnv_str(uint64_t h, const char *s)
{
	return npc_fnv(h, s, strlen(s) + 1);
}

/*
 * FNV's low bits mix poorly and the table masks them: spread the high bits down. The seed
 * keeps names chosen by cluster users from piling up in one run of the table on purpose.
 */
static uint32_t slot_of(const struct npc_map *m, uint64_t h, uint32_t cap)
{
	h ^= m->seed;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h & (cap - 1);
}

void *npc_map_get(const struct npc_map *m, uint64_t h, npc_eq_fn eq, const void *key)
{
	uint32_t i;

	if (!m->cap)
		return NULL;
	for (i = slot_of(m, h, m->cap); m->s[i].v; i = (i + 1) & (m->cap - 1))
		if (m->s[i].h == h && eq(m->s[i].v, key))
			return m->s[i].v;
	return NULL;
}

static void place(const struct npc_map *m, struct npc_slot *s, uint32_t cap, uint64_t h, void *v)
{
	uint32_t i = slot_of(m, h, cap);

	while (s[i].v)
		i = (i + 1) & (cap - 1);
	s[i].h = h;
	s[i].v = v;
}

int npc_map_put(struct npc_map *m, uint64_t h, void *v)
{
	if ((m->n + 1) * 4 > m->cap * 3) {
		uint32_t ncap = m->cap ? m->cap * 2 : MAP_MIN, i;
		struct npc_slot *s = mem_calloc(ncap, sizeof(*s));

		if (!s)
			return -ENOMEM;
		for (i = 0; i < m->cap; i++)
			if (m->s[i].v)
				place(m, s, ncap, m->s[i].h, m->s[i].v);
		mem_free(m->s);
		m->s = s;
		m->cap = ncap;
	}
	place(m, m->s, m->cap, h, v);
	m->n++;
	return 0;
}

void npc_map_del(struct npc_map *m, uint64_t h, const void *v)
{
	uint32_t i, j, home;

	if (!m->cap)
		return;
	for (i = slot_of(m, h, m->cap); m->s[i].v != v; i = (i + 1) & (m->cap - 1))
		if (!m->s[i].v)
			return;
	/* backward shift: pull later entries of the run into the hole when their home allows */
	for (j = (i + 1) & (m->cap - 1); m->s[j].v; j = (j + 1) & (m->cap - 1)) {
		home = slot_of(m, m->s[j].h, m->cap);
		if (((j - home) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
			m->s[i] = m->s[j];
			i = j;
		}
	}
	m->s[i].v = NULL;
	m->n--;
}

void npc_map_free(struct npc_map *m)
{
	mem_free(m->s);
	m->s = NULL;
	m->cap = m->n = 0;
}

int npc_grow(void **arr, uint32_t *cap, uint32_t n, size_t sz)
{
	uint32_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	p = mem_realloc(*arr, (size_t)ncap * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int npc_vec_push(struct npc_vec *v, void *p)
{
	int r = npc_grow((void **)&v->v, &v->cap, v->n, sizeof(*v->v));

	if (r)
		return r;
	v->v[v->n++] = p;
	return 0;
}

int npc_vec_insert(struct npc_vec *v, uint32_t at, void *p)
{
	int r = npc_grow((void **)&v->v, &v->cap, v->n, sizeof(*v->v));

	if (r)
		return r;
	memmove(v->v + at + 1, v->v + at, (v->n - at) * sizeof(*v->v));
	v->v[at] = p;
	v->n++;
	return 0;
}

bool npc_vec_remove(struct npc_vec *v, const void *p, bool keep_order)
{
	uint32_t i;

	for (i = 0; i < v->n; i++) {
		if (v->v[i] != p)
			continue;
		if (keep_order)
			memmove(v->v + i, v->v + i + 1, (v->n - i - 1) * sizeof(*v->v));
		else
			v->v[i] = v->v[v->n - 1];
		v->n--;
		return true;
	}
	return false;
}

void npc_vec_free(struct npc_vec *v)
{
	mem_free(v->v);
	memset(v, 0, sizeof(*v));
}

void npc_kb_reset(struct npc *c)
{
	c->kbn = 0;
	c->kberr = false;
	if (c->kbuf)
		c->kbuf[0] = '\0';
}

static void kb_add(struct npc *c, const char *s, size_t n)
{
	uint32_t need;
	char *p;

	if (c->kberr)
		return;
	if (n > UINT32_MAX / 2 - c->kbn) {
		c->kberr = true;
		return;
	}
	need = c->kbn + (uint32_t)n + 1;
	if (need > c->kbcap) {
		uint32_t ncap = c->kbcap ? c->kbcap : 256;

		while (ncap < need)
			ncap *= 2;
		p = mem_realloc(c->kbuf, ncap);
		if (!p) {
			c->kberr = true;
			return;
		}
		c->kbuf = p;
		c->kbcap = ncap;
	}
	memcpy(c->kbuf + c->kbn, s, n);
	c->kbn += (uint32_t)n;
	c->kbuf[c->kbn] = '\0';
}

void npc_kb_num(struct npc *c, unsigned long long v)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "%llu;", v);

	kb_add(c, t, (size_t)n);
}

void npc_kb_str(struct npc *c, const char *s)
{
	size_t n = strlen(s);
	char t[24];
	int k = snprintf(t, sizeof(t), "%zu:", n);

	kb_add(c, t, (size_t)k);
	kb_add(c, s, n);
}

int npc_kb_done(struct npc *c)
{
	if (!c->kbuf)
		kb_add(c, "", 0);
	return c->kberr ? -ENOMEM : 0;
}
