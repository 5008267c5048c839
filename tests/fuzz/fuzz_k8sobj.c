// SPDX-License-Identifier: MIT
/* deps: core/k8sobj.c core/k8sobj_kinds.c core/k8sobj_netpol.c core/k8sobj_watch.c core/cache.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * fuzz_k8sobj.c: libFuzzer target for the Kubernetes object decoder. The first byte picks
 * what the rest is: (byte % 3) 0 = one object, 1 = a watch event, 2 = a List page; (byte / 3
 * % 5) the kind. Every decoded object must be packed correctly: each string and array inside
 * its one allocation (or a static ""), labels sorted, per-family slots of the right family.
 * Events and lists are then fed to a cache, whose count must match. Leaks are ASan's job.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "core/cache.h"
#include "core/k8sobj.h"
#include "fuzz_util.h"

static bool in(const struct k8sobj *o, const void *p, size_t n)
{
	const char *lo = (const char *)o, *q = p;

	return q >= lo + sizeof(*o) && q + n <= lo + o->size;
}

static void check_str(const struct k8sobj *o, const char *s)
{
	const char *lo = (const char *)o;

	check(s);
	if (*s == '\0' || !strcmp(s, "kubernetes.io/metadata.name"))
		return;
	check(in(o, s, 1) && memchr(s, 0, (size_t)(lo + o->size - s)));
}

static void check_kvs(const struct k8sobj *o, const struct k8sobj_kv *kv, uint32_t n)
{
	uint32_t i;

	check(n == 0 || in(o, kv, n * sizeof(*kv)));
	for (i = 0; i < n; i++) {
		check_str(o, kv[i].key);
		check_str(o, kv[i].val);
		check(i == 0 || strcmp(kv[i - 1].key, kv[i].key) <= 0);
	}
}

static void check_ports(const struct k8sobj *o, const struct k8sobj_port *p, uint32_t n,
			bool pod)
{
	uint32_t i;

	check(n == 0 || in(o, p, n * sizeof(*p)));
	for (i = 0; i < n; i++) {
		check_str(o, p[i].name);
		check(p[i].proto <= K8SOBJ_PROTO_OTHER && (!pod || p[i].port));
	}
}

static void check_slots(const struct ipaddr *a)
{
	check(!a[0].family || a[0].family == AF_INET);
	check(!a[1].family || a[1].family == AF_INET6);
}

static void check_obj(const struct k8sobj *o, enum k8sobj_kind kind)
{
	const struct k8sobj_node *n = k8sobj_node(o);
	const struct k8sobj_pod *p = k8sobj_pod(o);
	const struct k8sobj_eps *e = k8sobj_eps(o);
	uint32_t i;

	check(o->kind == kind && o->flags <= 3);
	check_str(o, o->name);
	check_str(o, o->ns);
	check_str(o, o->uid);
	check_str(o, o->rv);
	check_kvs(o, o->labels, o->nlabels);
	if (kind == K8SOBJ_NAMESPACE && *o->name)
		check(k8sobj_label(o, "kubernetes.io/metadata.name"));
	if (n) {
		check_kvs(o, n->annotations, n->nannotations);
		for (i = 0; i < n->nannotations; i++)
			check(!strncmp(n->annotations[i].key, K8SOBJ_ANNOTATION_PREFIX, 11));
		check(!n->pod_cidr[0].addr.family || n->pod_cidr[0].addr.family == AF_INET);
		check(!n->pod_cidr[1].addr.family || n->pod_cidr[1].addr.family == AF_INET6);
		check_slots(n->internal_ip);
		check_slots(n->external_ip);
	}
	if (p) {
		check_str(o, p->node_name);
		check_ports(o, p->ports, p->nports, true);
		check_slots(p->ip);
		check(p->phase <= K8SOBJ_PHASE_UNKNOWN);
	}
	if (e) {
		check_ports(o, e->ports, e->nports, false);
		check(e->nendpoints == 0 ||
		      in(o, e->endpoints, e->nendpoints * sizeof(*e->endpoints)));
		for (i = 0; i < e->nendpoints; i++)
			check(e->endpoints[i].naddrs == 0 ||
			      in(o, e->endpoints[i].addrs,
				 e->endpoints[i].naddrs * sizeof(struct ipaddr)));
	}
}

static void one_event(const char *p, size_t n, enum k8sobj_kind kind, struct cache *c)
{
	struct k8sobj_event ev;
	struct ebuf eb = { "" };
	int r = k8sobj_event_parse(p, n, kind, &ev, &eb);

	check(r == 0 || r == -EINVAL || r == -E2BIG);
	if (r) {
		check(!ev.obj && !ev.rv && eb.msg[0]);
		return;
	}
	check((ev.obj != NULL) == (ev.type <= K8SOBJ_DELETED));
	check((ev.rv != NULL) == (ev.type == K8SOBJ_BOOKMARK));
	if (ev.obj)
		check_obj(ev.obj, kind);
	r = cache_apply(c, &ev);
	check(r == 0 || (r == -EINVAL && ev.type == K8SOBJ_ERROR));
	check(cache_count(c) == (ev.type <= K8SOBJ_MODIFIED));
	k8sobj_event_clear(&ev);
}

static void one_list(const char *p, size_t n, enum k8sobj_kind kind, struct cache *c)
{
	struct k8sobj_list l;
	struct ebuf eb = { "" };
	const struct k8sobj *o;
	size_t i, pos, count = 0;
	int r = k8sobj_list_parse(p, n, NULL, kind, &l, &eb);

	check(r == 0 || r == -EINVAL || r == -E2BIG);
	if (r) {
		check(!l.items && !l.rv && !l.cont && eb.msg[0]);
		return;
	}
	check(!l.nbad == !eb.msg[0]);
	for (i = 0; i < l.nitems; i++)
		check_obj(l.items[i], kind);
	check(cache_replace(c, l.items, l.nitems, l.rv) == 0);
	cache_for_each(c, pos, o) {
		check(cache_get(c, o->ns, o->name) == o);
		count++;
	}
	check(count == cache_count(c) && count <= l.nitems);
	check(!strcmp(cache_rv(c), l.rv ? l.rv : ""));
	k8sobj_list_clear(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum k8sobj_kind kind;
	struct k8sobj *o = NULL;
	struct ebuf eb = { "" };
	struct cache *c;
	const char *p;
	int r;

	if (size < 1)
		return 0;
	kind = (enum k8sobj_kind)(data[0] / 3 % K8SOBJ_NKINDS);
	p = (const char *)data + 1;
	size--;
	if (data[0] % 3 == 0) {
		r = k8sobj_parse(p, size, kind, &o, &eb);
		check(r == 0 || r == -EINVAL || r == -E2BIG);
		check((r == 0) == (o != NULL) && (r == 0 || eb.msg[0]));
		if (o)
			check_obj(o, kind);
		k8sobj_free(o);
		return 0;
	}
	c = cache_new(kind, NULL, NULL, 7);
	check(c);
	if (data[0] % 3 == 1)
		one_event(p, size, kind, c);
	else
		one_list(p, size, kind, c);
	cache_free(c);
	return 0;
}
