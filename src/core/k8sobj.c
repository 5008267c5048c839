// SPDX-License-Identifier: MIT
/*
 * k8sobj.c: JSON DOM → compact owned structs for Nodes, Pods, Namespaces and EndpointSlices,
 * plus watch events and List pages (see k8sobj.h).
 *
 * One allocation per object: each decode runs twice over the DOM with the same code. The
 * sizing pass (d->mem NULL) validates everything and counts bytes; the filling pass writes
 * into one block of exactly that size: the kind's struct, then its arrays, then its strings.
 * Only the pk_* helpers know which pass runs, so the two layouts cannot drift apart, and the
 * filling pass cannot fail because the sizing pass already accepted the same input. Elements
 * of one array are put one after another with nothing else put in between, which keeps them
 * contiguous; EndpointSlices put their address arrays in a second loop for that reason.
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
#include "cidr.h"
#include "k8sobj.h"

#define PATH_CAP 192
#define LABEL_NAME "kubernetes.io/metadata.name"

struct dec {
	char *mem;		/* NULL in the sizing pass */
	size_t arr;		/* next offset for arrays, right after the kind's struct */
	size_t str;		/* next offset for strings, after all arrays */
	uint8_t flags;		/* K8SOBJ_F_* found while decoding */
	bool cut;		/* the path lost its outer segments */
	size_t pos;		/* the path is path[pos..], built right to left */
	char path[PATH_CAP];
	char why[96];
};

static void dec_init(struct dec *d)
{
	d->cut = false;
	d->pos = PATH_CAP - 1;
	d->path[d->pos] = '\0';
	d->why[0] = '\0';
}

/* ---- packing --------------------------------------------------------------------------- */

static const char *pk_strn(struct dec *d, const char *s, size_t n)
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

static const char *pk_str(struct dec *d, const struct json *s)
{
	return s ? pk_strn(d, s->str, s->len) : "";
}

/* Append one array element; returns where it went (NULL in the sizing pass). */
static void *pk_put(struct dec *d, const void *src, size_t size, size_t align)
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

static int why(struct dec *d, const char *fmt, ...) __printf(2, 3);
static int why(struct dec *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Prepend one path segment ("spec", "ports[2]", "[\"app\"]") while an error unwinds. */
static int up(struct dec *d, int r, const char *fmt, ...) __printf(3, 4);
static int up(struct dec *d, int r, const char *fmt, ...)
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

static void report(const struct dec *d, int r, struct ebuf *eb)
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
static int check(struct dec *d, const struct json *v, enum json_type t)
{
	static const char *const want[] = {
		[JSON_TRUE] = "a boolean", [JSON_NUMBER] = "an integer",
		[JSON_STRING] = "a string", [JSON_ARRAY] = "an array", [JSON_OBJECT] = "an object",
	};

	if (t == JSON_TRUE ? !json_is_bool(v) : !json_is(v, t))
		return why(d, "expected %s, got %s", want[t], type_name(v));
	if (t == JSON_STRING && json_str_has_nul(v))
		return why(d, "string contains NUL");
	return 0;
}

/* *out = the member, or NULL when absent or null; -EINVAL when of another type. */
static int get(struct dec *d, const struct json *o, const char *key, enum json_type t,
	       const struct json **out)
{
	const struct json *v = json_get(o, key);
	int r;

	*out = NULL;
	if (!v || v->type == JSON_NULL)
		return 0;
	r = check(d, v, t);
	if (r && strpbrk(key, "./"))
		return up(d, r, "[\"%s\"]", key);
	if (r)
		return up(d, r, "%s", key);
	*out = v;
	return 0;
}

static int get_bool(struct dec *d, const struct json *o, const char *key, bool dflt, bool *out)
{
	const struct json *v;
	int r = get(d, o, key, JSON_TRUE, &v);

	*out = v ? v->type == JSON_TRUE : dflt;
	return r;
}

/* *port = 1..65535, or 0 when absent (*skip when out of range); -EINVAL unless an integer. */
static int get_port(struct dec *d, const struct json *o, const char *key, uint16_t *port,
		    bool *skip)
{
	const struct json *v;
	int64_t x;
	int r = get(d, o, key, JSON_NUMBER, &v);

	*port = 0;
	*skip = false;
	if (r || !v)
		return r;
	r = json_i64(v, &x);
	if (r == -EINVAL)
		return up(d, why(d, "expected an integer, got %.20s", v->str), "%s", key);
	if (r || x < 1 || x > 65535)
		*skip = true;
	else
		*port = (uint16_t)x;
	return 0;
}

static bool text_is(const struct json *s, const char *lit)
{
	return s && s->len == strlen(lit) && memcmp(s->str, lit, s->len) == 0;
}

/* Index of s in names[0..n), or n. */
static size_t lookup(const struct json *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (names[i] && text_is(s, names[i]))
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
static int dec_map(struct dec *d, const struct json *map, const char *prefix,
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
		r = check(d, it, JSON_STRING);
		if (!r && memchr(it->key, 0, it->keylen))
			r = why(d, "key contains NUL");
		if (r)
			return up(d, r, "[\"%.60s\"]", it->key);
		kv.key = pk_strn(d, it->key, it->keylen);
		kv.val = pk_str(d, it);
		p = pk_put(d, &kv, sizeof(kv), alignof(struct k8sobj_kv));
		first = k++ ? first : p;
	}
	if (extra) {
		p = pk_put(d, extra, sizeof(*extra), alignof(struct k8sobj_kv));
		first = k++ ? first : p;
	}
	if (first)
		qsort(first, k, sizeof(*first), kv_cmp);
	*arr = first;
	*n = k;
	return 0;
}

static int dec_meta(struct dec *d, const struct json *m, enum k8sobj_kind kind,
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
		r = get(d, m, keys[i], JSON_STRING, &v);
		if (r)
			return r;
		*dst[i] = pk_str(d, v);
	}
	r = get(d, m, "deletionTimestamp", JSON_STRING, &v);
	if (r)
		return r;
	if (v)
		d->flags |= K8SOBJ_F_DELETING;
	r = get(d, m, "labels", JSON_OBJECT, &labels);
	if (r)
		return r;
	/* the API server sets this label on every namespace; objects from elsewhere may lack it */
	v = json_get(m, "name");
	synth = kind == K8SOBJ_NAMESPACE && v && v->len && !json_get(labels, LABEL_NAME);
	extra.val = o->name;
	r = dec_map(d, labels, NULL, synth ? &extra : NULL, &o->labels, &o->nlabels);
	return r ? up(d, r, "labels") : 0;
}

/* ---- Node ------------------------------------------------------------------------------ */

static void add_cidr(struct dec *d, struct cidr *slots, const struct json *s)
{
	struct cidr c;
	int i;

	if (cidr_parse(s->str, s->len, &c)) {
		d->flags |= K8SOBJ_F_SKIPPED;
		return;
	}
	i = k8sobj_slot(c.addr.family);
	if (slots[i].addr.family)
		d->flags |= K8SOBJ_F_SKIPPED;
	else
		slots[i] = c;
}

/* Keep the first address of each family; a later one is skipped (flagged if dup_bad). */
static void add_ip(struct dec *d, struct ipaddr *slots, const struct json *s, bool dup_bad)
{
	struct ipaddr a;
	int i;

	if (ipaddr_parse(s->str, s->len, &a)) {
		d->flags |= K8SOBJ_F_SKIPPED;
		return;
	}
	i = k8sobj_slot(a.family);
	if (!slots[i].family)
		slots[i] = a;
	else if (dup_bad)
		d->flags |= K8SOBJ_F_SKIPPED;
}

static int dec_node_spec(struct dec *d, const struct json *spec, struct k8sobj_node *n)
{
	const struct json *arr, *one, *it;
	size_t i = 0;
	int r;

	r = get(d, spec, "podCIDRs", JSON_ARRAY, &arr);
	if (!r)
		r = get(d, spec, "podCIDR", JSON_STRING, &one);
	if (r)
		return r;
	json_for_each(it, arr) {
		r = check(d, it, JSON_STRING);
		if (r)
			return up(d, r, "podCIDRs[%zu]", i);
		add_cidr(d, n->pod_cidr, it);
		i++;
	}
	if (i == 0 && one)
		add_cidr(d, n->pod_cidr, one);
	return 0;
}

static int dec_node_addrs(struct dec *d, const struct json *status, struct k8sobj_node *n)
{
	const struct json *arr, *it, *type, *addr;
	size_t i = 0;
	int r;

	r = get(d, status, "addresses", JSON_ARRAY, &arr);
	if (r)
		return r;
	json_for_each(it, arr) {
		r = check(d, it, JSON_OBJECT);
		if (!r)
			r = get(d, it, "type", JSON_STRING, &type);
		if (!r)
			r = get(d, it, "address", JSON_STRING, &addr);
		if (r)
			return up(d, r, "addresses[%zu]", i);
		if (addr && text_is(type, "InternalIP"))
			add_ip(d, n->internal_ip, addr, false);
		else if (addr && text_is(type, "ExternalIP"))
			add_ip(d, n->external_ip, addr, false);
		i++;
	}
	return 0;
}

static int dec_node(struct dec *d, const struct json *v, struct k8sobj_node *n)
{
	const struct json *spec, *status, *meta, *ann;
	int r;

	r = get(d, v, "spec", JSON_OBJECT, &spec);
	if (!r)
		r = get(d, v, "status", JSON_OBJECT, &status);
	if (r)
		return r;
	r = dec_node_spec(d, spec, n);
	if (r)
		return up(d, r, "spec");
	r = dec_node_addrs(d, status, n);
	if (r)
		return up(d, r, "status");
	meta = json_get(v, "metadata");	/* dec_meta checked its type */
	r = get(d, meta, "annotations", JSON_OBJECT, &ann);
	if (!r && (r = dec_map(d, ann, K8SOBJ_ANNOTATION_PREFIX, NULL, &n->annotations,
			       &n->nannotations)))
		up(d, r, "annotations");
	return r ? up(d, r, "metadata") : 0;
}

/* ---- Pod ------------------------------------------------------------------------------- */

/* Unknown names map to ARRAY_SIZE(protos), which is K8SOBJ_PROTO_OTHER. */
static const char *const protos[] = {
	[K8SOBJ_TCP] = "TCP", [K8SOBJ_UDP] = "UDP", [K8SOBJ_SCTP] = "SCTP",
};

/*
 * One {name, port or containerPort, protocol} entry; p->port is 0 when absent. The name is
 * packed by the caller, only for entries it keeps.
 */
static int dec_port(struct dec *d, const struct json *it, const char *portkey,
		    struct k8sobj_port *p, const struct json **name, bool *skip)
{
	const struct json *proto;
	int r;

	r = check(d, it, JSON_OBJECT);
	if (!r)
		r = get(d, it, "name", JSON_STRING, name);
	if (!r)
		r = get(d, it, "protocol", JSON_STRING, &proto);
	if (!r)
		r = get_port(d, it, portkey, &p->port, skip);
	if (r)
		return r;
	p->proto = proto ? (uint8_t)lookup(proto, protos, ARRAY_SIZE(protos)) : K8SOBJ_TCP;
	return 0;
}

static int dec_container(struct dec *d, const struct json *c, bool sidecars_only,
			 struct k8sobj_pod *pod, void **first)
{
	const struct json *policy, *ports, *it, *name;
	struct k8sobj_port p;
	size_t i = 0;
	void *at;
	bool skip;
	int r;

	r = check(d, c, JSON_OBJECT);
	if (!r)
		r = get(d, c, "restartPolicy", JSON_STRING, &policy);
	if (!r)
		r = get(d, c, "ports", JSON_ARRAY, &ports);
	if (r || (sidecars_only && !text_is(policy, "Always")))
		return r;
	json_for_each(it, ports) {
		r = dec_port(d, it, "containerPort", &p, &name, &skip);
		if (r)
			return up(d, r, "ports[%zu]", i);
		i++;
		if (skip || !p.port) {
			d->flags |= K8SOBJ_F_SKIPPED;
			continue;
		}
		p.name = pk_str(d, name);
		at = pk_put(d, &p, sizeof(p), alignof(struct k8sobj_port));
		if (pod->nports++ == 0)
			*first = at;
	}
	return 0;
}

static int dec_pod_spec(struct dec *d, const struct json *spec, struct k8sobj_pod *pod)
{
	static const char *const lists[] = { "containers", "initContainers" };
	const struct json *arr, *v, *it;
	void *first = NULL;
	size_t l, i;
	int r;

	r = get(d, spec, "nodeName", JSON_STRING, &v);
	if (!r)
		r = get_bool(d, spec, "hostNetwork", false, &pod->host_network);
	if (r)
		return r;
	pod->node_name = pk_str(d, v);
	for (l = 0; l < ARRAY_SIZE(lists); l++) {
		r = get(d, spec, lists[l], JSON_ARRAY, &arr);
		if (r)
			return r;
		i = 0;
		json_for_each(it, arr) {
			r = dec_container(d, it, l == 1, pod, &first);
			if (r)
				return up(d, r, "%s[%zu]", lists[l], i);
			i++;
		}
	}
	pod->ports = first;
	return 0;
}

static int dec_pod_status(struct dec *d, const struct json *status, struct k8sobj_pod *pod)
{
	static const char *const phases[] = {
		[K8SOBJ_PENDING] = "Pending", [K8SOBJ_RUNNING] = "Running",
		[K8SOBJ_SUCCEEDED] = "Succeeded", [K8SOBJ_FAILED] = "Failed",
		[K8SOBJ_PHASE_UNKNOWN] = "Unknown",
	};
	const struct json *phase, *arr, *one, *it, *ip;
	size_t i = 0;
	int r;

	r = get(d, status, "phase", JSON_STRING, &phase);
	if (!r)
		r = get(d, status, "podIPs", JSON_ARRAY, &arr);
	if (!r)
		r = get(d, status, "podIP", JSON_STRING, &one);
	if (r)
		return r;
	i = lookup(phase, phases, ARRAY_SIZE(phases));
	pod->phase = !phase ? K8SOBJ_PHASE_NONE
		   : i < ARRAY_SIZE(phases) ? (uint8_t)i : K8SOBJ_PHASE_UNKNOWN;
	i = 0;
	json_for_each(it, arr) {
		r = check(d, it, JSON_OBJECT);
		if (!r)
			r = get(d, it, "ip", JSON_STRING, &ip);
		if (r)
			return up(d, r, "podIPs[%zu]", i);
		if (ip)
			add_ip(d, pod->ip, ip, true);
		i++;
	}
	if (i == 0 && one)
		add_ip(d, pod->ip, one, true);
	return 0;
}

static int dec_pod(struct dec *d, const struct json *v, struct k8sobj_pod *pod)
{
	const struct json *spec, *status;
	int r;

	r = get(d, v, "spec", JSON_OBJECT, &spec);
	if (!r)
		r = get(d, v, "status", JSON_OBJECT, &status);
	if (r)
		return r;
	r = dec_pod_spec(d, spec, pod);
	if (r)
		return up(d, r, "spec");
	r = dec_pod_status(d, status, pod);
	return r ? up(d, r, "status") : 0;
}

/* ---- EndpointSlice --------------------------------------------------------------------- */

static int dec_conditions(struct dec *d, const struct json *ep, uint8_t *cond)
{
	const struct json *c;
	bool ready, serving, term;
	int r;

	r = get(d, ep, "conditions", JSON_OBJECT, &c);
	if (r)
		return r;
	r = get_bool(d, c, "ready", true, &ready);
	if (!r)
		r = get_bool(d, c, "serving", true, &serving);
	if (!r)
		r = get_bool(d, c, "terminating", false, &term);
	if (r)
		return up(d, r, "conditions");
	*cond = (ready ? K8SOBJ_EP_READY : 0) | (serving ? K8SOBJ_EP_SERVING : 0) |
		(term ? K8SOBJ_EP_TERMINATING : 0);
	return 0;
}

static int dec_endpoint(struct dec *d, const struct json *ep, struct k8sobj_endpoint *out)
{
	const struct json *addrs = NULL, *a;
	size_t j = 0;
	int r;

	r = check(d, ep, JSON_OBJECT);
	if (!r)
		r = get(d, ep, "addresses", JSON_ARRAY, &addrs);
	if (!r)
		r = dec_conditions(d, ep, &out->cond);
	json_for_each(a, addrs) {
		if (r)
			break;
		r = check(d, a, JSON_STRING);
		if (r)
			r = up(d, r, "addresses[%zu]", j);
		j++;
	}
	return r;
}

/* Addresses of an endpoint checked by dec_endpoint, as one contiguous array. */
static void dec_ep_addrs(struct dec *d, const struct json *ep, uint8_t type,
			 struct k8sobj_endpoint *out)
{
	int want = type == K8SOBJ_ADDR_IPV4 ? AF_INET : type == K8SOBJ_ADDR_IPV6 ? AF_INET6 : 0;
	const struct json *a;
	struct ipaddr ip;
	void *at, *first = NULL;
	uint32_t n = 0;

	json_for_each(a, json_get(ep, "addresses")) {
		if (!want)
			break;
		if (ipaddr_parse(a->str, a->len, &ip) || ip.family != want) {
			d->flags |= K8SOBJ_F_SKIPPED;
			continue;
		}
		at = pk_put(d, &ip, sizeof(ip), alignof(struct ipaddr));
		first = n++ ? first : at;
	}
	if (out) {
		out->addrs = first;
		out->naddrs = n;
	}
}

static int dec_eps_ports(struct dec *d, const struct json *ports, struct k8sobj_eps *e)
{
	const struct json *it, *name;
	struct k8sobj_port p;
	void *at;
	size_t i = 0;
	bool skip;
	int r;

	json_for_each(it, ports) {
		r = dec_port(d, it, "port", &p, &name, &skip);
		if (r)
			return up(d, r, "ports[%zu]", i);
		i++;
		if (skip) {
			d->flags |= K8SOBJ_F_SKIPPED;
			continue;
		}
		p.name = pk_str(d, name);
		at = pk_put(d, &p, sizeof(p), alignof(struct k8sobj_port));
		e->ports = e->nports++ ? e->ports : at;
	}
	return 0;
}

static int dec_eps(struct dec *d, const struct json *v, struct k8sobj_eps *e)
{
	static const char *const types[] = {
		[K8SOBJ_ADDR_IPV4] = "IPv4", [K8SOBJ_ADDR_IPV6] = "IPv6",
		[K8SOBJ_ADDR_FQDN] = "FQDN",
	};
	const struct json *type, *eps, *ports, *it;
	struct k8sobj_endpoint ep = { 0 }, *first = NULL, *at;
	size_t i = 0;
	int r;

	r = get(d, v, "addressType", JSON_STRING, &type);
	if (!r)
		r = get(d, v, "endpoints", JSON_ARRAY, &eps);
	if (!r)
		r = get(d, v, "ports", JSON_ARRAY, &ports);
	if (r)
		return r;
	i = lookup(type, types, ARRAY_SIZE(types));
	e->addr_type = i < ARRAY_SIZE(types) ? (uint8_t)i : K8SOBJ_ADDR_OTHER;
	i = 0;
	json_for_each(it, eps) {
		r = dec_endpoint(d, it, &ep);
		if (r)
			return up(d, r, "endpoints[%zu]", i);
		at = pk_put(d, &ep, sizeof(ep), alignof(struct k8sobj_endpoint));
		first = i++ ? first : at;
	}
	e->endpoints = first;
	e->nendpoints = (uint32_t)i;
	i = 0;
	json_for_each(it, eps) {
		dec_ep_addrs(d, it, e->addr_type, first ? first + i : NULL);
		i++;
	}
	return dec_eps_ports(d, ports, e);
}

/* ---- objects --------------------------------------------------------------------------- */

static const char *const kind_names[] = {
	[K8SOBJ_NODE] = "Node", [K8SOBJ_POD] = "Pod", [K8SOBJ_NAMESPACE] = "Namespace",
	[K8SOBJ_ENDPOINTSLICE] = "EndpointSlice",
};

static const size_t kind_sizes[] = {
	[K8SOBJ_NODE] = sizeof(struct k8sobj_node), [K8SOBJ_POD] = sizeof(struct k8sobj_pod),
	[K8SOBJ_NAMESPACE] = sizeof(struct k8sobj), [K8SOBJ_OTHER] = sizeof(struct k8sobj),
	[K8SOBJ_ENDPOINTSLICE] = sizeof(struct k8sobj_eps),
};

static int dec_kind(struct dec *d, const struct json *v, enum k8sobj_kind kind,
		    struct k8sobj *o)
{
	const struct json *k, *m;
	int r;

	r = check(d, v, JSON_OBJECT);
	if (!r)
		r = get(d, v, "kind", JSON_STRING, &k);
	if (!r && k && kind < K8SOBJ_OTHER && !text_is(k, kind_names[kind]))
		r = up(d, why(d, "expected %s, got \"%.40s\"", kind_names[kind], k->str), "kind");
	if (!r)
		r = get(d, v, "metadata", JSON_OBJECT, &m);
	if (!r && (r = dec_meta(d, m, kind, o)))
		up(d, r, "metadata");
	if (r)
		return r;
	switch (kind) {
	case K8SOBJ_NODE:
		return dec_node(d, v, container_of(o, struct k8sobj_node, obj));
	case K8SOBJ_POD:
		return dec_pod(d, v, container_of(o, struct k8sobj_pod, obj));
	case K8SOBJ_ENDPOINTSLICE:
		return dec_eps(d, v, container_of(o, struct k8sobj_eps, obj));
	default:
		return 0;
	}
}

static int decode(struct dec *d, const struct json *v, enum k8sobj_kind kind,
		  struct k8sobj **out)
{
	union {
		struct k8sobj_node n;
		struct k8sobj_pod p;
		struct k8sobj_eps e;
	} scratch;
	size_t base, arr_end, total;
	struct k8sobj *o;
	int r;

	*out = NULL;
	if ((unsigned int)kind >= K8SOBJ_NKINDS)
		return why(d, "unknown kind %d", (int)kind);
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
	struct dec d;
	int r;

	dec_init(&d);
	r = decode(&d, v, kind, out);
	if (r)
		report(&d, r, eb);
	return r;
}

/* json_parse, with the message it leaves out for -ENOMEM. */
static int parse_doc(const char *p, size_t n, const struct json_limits *lim,
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
	r = parse_doc(p, n, NULL, &doc, eb);
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

/* ---- watch events ---------------------------------------------------------------------- */

static int dup_str(const struct json *s, char **out)
{
	*out = s ? mem_strndup(s->str, s->len) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

static int dec_bookmark(struct dec *d, const struct json *obj, struct k8sobj_event *ev)
{
	const struct json *m, *rv, *ann, *end = NULL;
	int r;

	r = get(d, obj, "metadata", JSON_OBJECT, &m);
	if (r)
		return r;
	r = get(d, m, "resourceVersion", JSON_STRING, &rv);
	if (!r && !rv)
		r = up(d, why(d, "missing"), "resourceVersion");
	if (!r)
		r = get(d, m, "annotations", JSON_OBJECT, &ann);
	if (!r && (r = get(d, ann, "k8s.io/initial-events-end", JSON_STRING, &end)))
		up(d, r, "annotations");
	if (r)
		return up(d, r, "metadata");
	ev->initial_end = text_is(end, "true");
	return dup_str(rv, &ev->rv);
}

static int dec_status(struct dec *d, const struct json *obj, struct k8sobj_event *ev)
{
	const struct json *code, *reason, *msg;
	int64_t x = 0;
	int r;

	r = get(d, obj, "code", JSON_NUMBER, &code);
	if (!r && code && (json_i64(code, &x) || x < INT32_MIN || x > INT32_MAX))
		r = up(d, why(d, "expected an integer, got %.20s", code->str), "code");
	if (!r)
		r = get(d, obj, "reason", JSON_STRING, &reason);
	if (!r)
		r = get(d, obj, "message", JSON_STRING, &msg);
	if (r)
		return r;
	ev->code = (int)x;
	r = dup_str(reason, &ev->reason);
	return r ? r : dup_str(msg, &ev->message);
}

static int event_decode(struct dec *d, const struct json *v, enum k8sobj_kind kind,
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

	r = check(d, v, JSON_OBJECT);
	if (!r)
		r = get(d, v, "type", JSON_STRING, &type);
	if (!r)
		r = get(d, v, "object", JSON_OBJECT, &obj);
	if (r)
		return r;
	t = lookup(type, types, ARRAY_SIZE(types));
	if (!type)
		return up(d, why(d, "missing"), "type");
	if (t == ARRAY_SIZE(types))
		return up(d, why(d, "unknown event type \"%.32s\"", type->str), "type");
	if (!obj)
		return up(d, why(d, "missing"), "object");
	ev->type = (enum k8sobj_evtype)t;
	if (t == K8SOBJ_BOOKMARK)
		r = dec_bookmark(d, obj, ev);
	else if (t == K8SOBJ_ERROR)
		r = dec_status(d, obj, ev);
	else
		r = decode(d, obj, kind, &ev->obj);
	return r == -EINVAL ? up(d, r, "object") : r;
}

int k8sobj_event_decode(const struct json *v, enum k8sobj_kind kind, struct k8sobj_event *ev,
			struct ebuf *eb)
{
	struct dec d;
	int r;

	memset(ev, 0, sizeof(*ev));
	dec_init(&d);
	r = event_decode(&d, v, kind, ev);
	if (r) {
		k8sobj_event_clear(ev);
		report(&d, r, eb);
	}
	return r;
}

int k8sobj_event_parse(const char *p, size_t n, enum k8sobj_kind kind,
		       struct k8sobj_event *ev, struct ebuf *eb)
{
	struct json_doc *doc = NULL;
	int r;

	memset(ev, 0, sizeof(*ev));
	r = parse_doc(p, n, NULL, &doc, eb);
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
	struct dec d;
	size_t i = 0;
	int r;

	if (!items || !items->count)
		return 0;
	l->items = mem_calloc(items->count, sizeof(*l->items));
	if (!l->items)
		return -ENOMEM;
	json_for_each(it, items) {
		dec_init(&d);
		r = decode(&d, it, kind, &l->items[l->nitems]);
		if (r == -ENOMEM)
			return r;
		if (r && l->nbad++ == 0)
			report(&d, up(&d, r, "items[%zu]", i), eb);
		l->nitems += !r;
		i++;
	}
	return 0;
}

static int list_decode(struct dec *d, const struct json *v, enum k8sobj_kind kind,
		       struct k8sobj_list *l, struct ebuf *eb)
{
	const struct json *m, *items, *rv, *cont;
	int r;

	r = check(d, v, JSON_OBJECT);
	if (!r)
		r = get(d, v, "metadata", JSON_OBJECT, &m);
	if (!r)
		r = get(d, v, "items", JSON_ARRAY, &items);
	if (r)
		return r;
	r = get(d, m, "resourceVersion", JSON_STRING, &rv);
	if (!r)
		r = get(d, m, "continue", JSON_STRING, &cont);
	if (r)
		return up(d, r, "metadata");
	r = dup_str(rv, &l->rv);
	if (!r && cont && cont->len)
		r = dup_str(cont, &l->cont);
	return r ? r : list_items(items, kind, l, eb);
}

int k8sobj_list_decode(const struct json *v, enum k8sobj_kind kind, struct k8sobj_list *l,
		       struct ebuf *eb)
{
	struct dec d;
	int r;

	memset(l, 0, sizeof(*l));
	dec_init(&d);
	r = list_decode(&d, v, kind, l, eb);
	if (r) {
		k8sobj_list_clear(l);
		report(&d, r, eb);
	}
	return r;
}

int k8sobj_list_parse(const char *p, size_t n, const struct json_limits *lim,
		      enum k8sobj_kind kind, struct k8sobj_list *l, struct ebuf *eb)
{
	struct json_doc *doc = NULL;
	int r;

	memset(l, 0, sizeof(*l));
	r = parse_doc(p, n, lim, &doc, eb);
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
