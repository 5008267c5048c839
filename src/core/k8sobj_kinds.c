// SPDX-License-Identifier: MIT
/*
 * k8sobj_kinds.c: the kind-specific part of a decode: Node (pod CIDRs, addresses, our
 * annotations), Pod (node, ports of containers and sidecars, phase, IPs) and EndpointSlice
 * (endpoints with their conditions and addresses, ports). A Namespace is metadata only and
 * needs nothing here. Every function runs in both passes of k8sobj.c and packs through the
 * k8sobj_pk_* helpers only.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "../codec/json.h"
#include "cidr.h"
#include "k8sobj.h"
#include "k8sobj_int.h"

/* ---- typed access ---------------------------------------------------------------------- */

static int get_bool(struct k8sobj_dec *d, const struct json *o, const char *key, bool dflt,
		    bool *out)
{
	const struct json *v;
	int r = k8sobj_get(d, o, key, JSON_TRUE, &v);

	*out = v ? v->type == JSON_TRUE : dflt;
	return r;
}

/* *port = 1..65535, or 0 when absent (*skip when out of range); -EINVAL unless an integer. */
static int get_port(struct k8sobj_dec *d, const struct json *o, const char *key, uint16_t *port,
		    bool *skip)
{
	const struct json *v;
	int64_t x;
	int r = k8sobj_get(d, o, key, JSON_NUMBER, &v);

	*port = 0;
	*skip = false;
	if (r || !v)
		return r;
	r = json_i64(v, &x);
	if (r == -EINVAL)
		return k8sobj_up(d, k8sobj_why(d, "expected an integer, got %.20s", v->str), "%s",
				 key);
	if (r || x < 1 || x > 65535)
		*skip = true;
	else
		*port = (uint16_t)x;
	return 0;
}

/* Decodes one part (spec or status) of a Node or Pod into the kind's struct. */
typedef int dec_part_fn(struct k8sobj_dec *d, const struct json *part, void *obj);

/* The spec and status of a Node or Pod, each an object or absent; a failure is reported
 * under the part's key. */
static int dec_spec_status(struct k8sobj_dec *d, const struct json *v, dec_part_fn *dec_spec,
			   dec_part_fn *dec_status, void *obj)
{
	const struct json *spec, *status;
	int r;

	r = k8sobj_get(d, v, "spec", JSON_OBJECT, &spec);
	if (!r)
		r = k8sobj_get(d, v, "status", JSON_OBJECT, &status);
	if (r)
		return r;
	r = dec_spec(d, spec, obj);
	if (r)
		return k8sobj_up(d, r, "spec");
	r = dec_status(d, status, obj);
	return r ? k8sobj_up(d, r, "status") : 0;
}

/* ---- Node ------------------------------------------------------------------------------ */

static void add_cidr(struct k8sobj_dec *d, struct cidr *slots, const struct json *s)
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
static void add_ip(struct k8sobj_dec *d, struct ipaddr *slots, const struct json *s, bool dup_bad)
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

static int dec_node_spec(struct k8sobj_dec *d, const struct json *spec, void *obj)
{
	struct k8sobj_node *n = obj;
	const struct json *arr, *one, *it;
	size_t i = 0;
	int r;

	r = k8sobj_get(d, spec, "podCIDRs", JSON_ARRAY, &arr);
	if (!r)
		r = k8sobj_get(d, spec, "podCIDR", JSON_STRING, &one);
	if (r)
		return r;
	json_for_each(it, arr) {
		r = k8sobj_check(d, it, JSON_STRING);
		if (r)
			return k8sobj_up(d, r, "podCIDRs[%zu]", i);
		add_cidr(d, n->pod_cidr, it);
		i++;
	}
	if (i == 0 && one)
		add_cidr(d, n->pod_cidr, one);
	return 0;
}

static int dec_node_addrs(struct k8sobj_dec *d, const struct json *status, void *obj)
{
	struct k8sobj_node *n = obj;
	const struct json *arr, *it, *type, *addr;
	size_t i = 0;
	int r;

	r = k8sobj_get(d, status, "addresses", JSON_ARRAY, &arr);
	if (r)
		return r;
	json_for_each(it, arr) {
		r = k8sobj_check(d, it, JSON_OBJECT);
		if (!r)
			r = k8sobj_get(d, it, "type", JSON_STRING, &type);
		if (!r)
			r = k8sobj_get(d, it, "address", JSON_STRING, &addr);
		if (r)
			return k8sobj_up(d, r, "addresses[%zu]", i);
		if (addr && k8sobj_text_is(type, "InternalIP"))
			add_ip(d, n->internal_ip, addr, false);
		else if (addr && k8sobj_text_is(type, "ExternalIP"))
			add_ip(d, n->external_ip, addr, false);
		i++;
	}
	return 0;
}

int k8sobj_dec_node(struct k8sobj_dec *d, const struct json *v, struct k8sobj_node *n)
{
	const struct json *meta, *ann;
	int r;

	r = dec_spec_status(d, v, dec_node_spec, dec_node_addrs, n);
	if (r)
		return r;
	meta = json_get(v, "metadata");	/* dec_meta checked its type */
	r = k8sobj_get(d, meta, "annotations", JSON_OBJECT, &ann);
	if (!r && (r = k8sobj_dec_map(d, ann, K8SOBJ_ANNOTATION_PREFIX, NULL, &n->annotations,
				      &n->nannotations)))
		k8sobj_up(d, r, "annotations");
	return r ? k8sobj_up(d, r, "metadata") : 0;
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
static int dec_port(struct k8sobj_dec *d, const struct json *it, const char *portkey,
		    struct k8sobj_port *p, const struct json **name, bool *skip)
{
	const struct json *proto;
	int r;

	r = k8sobj_check(d, it, JSON_OBJECT);
	if (!r)
		r = k8sobj_get(d, it, "name", JSON_STRING, name);
	if (!r)
		r = k8sobj_get(d, it, "protocol", JSON_STRING, &proto);
	if (!r)
		r = get_port(d, it, portkey, &p->port, skip);
	if (r)
		return r;
	p->proto = proto ? (uint8_t)k8sobj_lookup(proto, protos, ARRAY_SIZE(protos)) : K8SOBJ_TCP;
	return 0;
}

static int dec_container(struct k8sobj_dec *d, const struct json *c, bool sidecars_only,
			 struct k8sobj_pod *pod, void **first)
{
	const struct json *policy, *ports, *it, *name;
	struct k8sobj_port p;
	size_t i = 0;
	void *at;
	bool skip;
	int r;

	r = k8sobj_check(d, c, JSON_OBJECT);
	if (!r)
		r = k8sobj_get(d, c, "restartPolicy", JSON_STRING, &policy);
	if (!r)
		r = k8sobj_get(d, c, "ports", JSON_ARRAY, &ports);
	if (r || (sidecars_only && !k8sobj_text_is(policy, "Always")))
		return r;
	json_for_each(it, ports) {
		r = dec_port(d, it, "containerPort", &p, &name, &skip);
		if (r)
			return k8sobj_up(d, r, "ports[%zu]", i);
		i++;
		if (skip || !p.port) {
			d->flags |= K8SOBJ_F_SKIPPED;
			continue;
		}
		p.name = k8sobj_pk_str(d, name);
		at = k8sobj_pk_put(d, &p, sizeof(p), alignof(struct k8sobj_port));
		if (pod->nports++ == 0)
			*first = at;
	}
	return 0;
}

static int dec_pod_spec(struct k8sobj_dec *d, const struct json *spec, void *obj)
{
	static const char *const lists[] = { "containers", "initContainers" };
	struct k8sobj_pod *pod = obj;
	const struct json *arr, *v, *it;
	void *first = NULL;
	size_t l, i;
	int r;

	r = k8sobj_get(d, spec, "nodeName", JSON_STRING, &v);
	if (!r)
		r = get_bool(d, spec, "hostNetwork", false, &pod->host_network);
	if (r)
		return r;
	pod->node_name = k8sobj_pk_str(d, v);
	for (l = 0; l < ARRAY_SIZE(lists); l++) {
		r = k8sobj_get(d, spec, lists[l], JSON_ARRAY, &arr);
		if (r)
			return r;
		i = 0;
		json_for_each(it, arr) {
			r = dec_container(d, it, l == 1, pod, &first);
			if (r)
				return k8sobj_up(d, r, "%s[%zu]", lists[l], i);
			i++;
		}
	}
	pod->ports = first;
	return 0;
}

static int dec_pod_status(struct k8sobj_dec *d, const struct json *status, void *obj)
{
	static const char *const phases[] = {
		[K8SOBJ_PENDING] = "Pending", [K8SOBJ_RUNNING] = "Running",
		[K8SOBJ_SUCCEEDED] = "Succeeded", [K8SOBJ_FAILED] = "Failed",
		[K8SOBJ_PHASE_UNKNOWN] = "Unknown",
	};
	struct k8sobj_pod *pod = obj;
	const struct json *phase, *arr, *one, *it, *ip;
	size_t i = 0;
	int r;

	r = k8sobj_get(d, status, "phase", JSON_STRING, &phase);
	if (!r)
		r = k8sobj_get(d, status, "podIPs", JSON_ARRAY, &arr);
	if (!r)
		r = k8sobj_get(d, status, "podIP", JSON_STRING, &one);
	if (r)
		return r;
	i = k8sobj_lookup(phase, phases, ARRAY_SIZE(phases));
	pod->phase = !phase ? K8SOBJ_PHASE_NONE
		   : i < ARRAY_SIZE(phases) ? (uint8_t)i : K8SOBJ_PHASE_UNKNOWN;
	i = 0;
	json_for_each(it, arr) {
		r = k8sobj_check(d, it, JSON_OBJECT);
		if (!r)
			r = k8sobj_get(d, it, "ip", JSON_STRING, &ip);
		if (r)
			return k8sobj_up(d, r, "podIPs[%zu]", i);
		if (ip)
			add_ip(d, pod->ip, ip, true);
		i++;
	}
	if (i == 0 && one)
		add_ip(d, pod->ip, one, true);
	return 0;
}

int k8sobj_dec_pod(struct k8sobj_dec *d, const struct json *v, struct k8sobj_pod *pod)
{
	return dec_spec_status(d, v, dec_pod_spec, dec_pod_status, pod);
}

/* ---- EndpointSlice --------------------------------------------------------------------- */

static int dec_conditions(struct k8sobj_dec *d, const struct json *ep, uint8_t *cond)
{
	const struct json *c;
	bool ready, serving, term;
	int r;

	r = k8sobj_get(d, ep, "conditions", JSON_OBJECT, &c);
	if (r)
		return r;
	r = get_bool(d, c, "ready", true, &ready);
	if (!r)
		r = get_bool(d, c, "serving", true, &serving);
	if (!r)
		r = get_bool(d, c, "terminating", false, &term);
	if (r)
		return k8sobj_up(d, r, "conditions");
	*cond = (ready ? K8SOBJ_EP_READY : 0) | (serving ? K8SOBJ_EP_SERVING : 0) |
		(term ? K8SOBJ_EP_TERMINATING : 0);
	return 0;
}

static int dec_endpoint(struct k8sobj_dec *d, const struct json *ep, struct k8sobj_endpoint *out)
{
	const struct json *addrs = NULL, *a;
	size_t j = 0;
	int r;

	r = k8sobj_check(d, ep, JSON_OBJECT);
	if (!r)
		r = k8sobj_get(d, ep, "addresses", JSON_ARRAY, &addrs);
	if (!r)
		r = dec_conditions(d, ep, &out->cond);
	json_for_each(a, addrs) {
		if (r)
			break;
		r = k8sobj_check(d, a, JSON_STRING);
		if (r)
			r = k8sobj_up(d, r, "addresses[%zu]", j);
		j++;
	}
	return r;
}

/* Addresses of an endpoint checked by dec_endpoint, as one contiguous array. */
static void dec_ep_addrs(struct k8sobj_dec *d, const struct json *ep, uint8_t type,
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
		at = k8sobj_pk_put(d, &ip, sizeof(ip), alignof(struct ipaddr));
		first = n++ ? first : at;
	}
	if (out) {
		out->addrs = first;
		out->naddrs = n;
	}
}

static int dec_eps_ports(struct k8sobj_dec *d, const struct json *ports, struct k8sobj_eps *e)
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
			return k8sobj_up(d, r, "ports[%zu]", i);
		i++;
		if (skip) {
			d->flags |= K8SOBJ_F_SKIPPED;
			continue;
		}
		p.name = k8sobj_pk_str(d, name);
		at = k8sobj_pk_put(d, &p, sizeof(p), alignof(struct k8sobj_port));
		e->ports = e->nports++ ? e->ports : at;
	}
	return 0;
}

int k8sobj_dec_eps(struct k8sobj_dec *d, const struct json *v, struct k8sobj_eps *e)
{
	static const char *const types[] = {
		[K8SOBJ_ADDR_IPV4] = "IPv4", [K8SOBJ_ADDR_IPV6] = "IPv6",
		[K8SOBJ_ADDR_FQDN] = "FQDN",
	};
	const struct json *type, *eps, *ports, *it;
	struct k8sobj_endpoint ep = { 0 }, *first = NULL, *at;
	size_t i = 0;
	int r;

	r = k8sobj_get(d, v, "addressType", JSON_STRING, &type);
	if (!r)
		r = k8sobj_get(d, v, "endpoints", JSON_ARRAY, &eps);
	if (!r)
		r = k8sobj_get(d, v, "ports", JSON_ARRAY, &ports);
	if (r)
		return r;
	i = k8sobj_lookup(type, types, ARRAY_SIZE(types));
	e->addr_type = i < ARRAY_SIZE(types) ? (uint8_t)i : K8SOBJ_ADDR_OTHER;
	i = 0;
	json_for_each(it, eps) {
		r = dec_endpoint(d, it, &ep);
		if (r)
			return k8sobj_up(d, r, "endpoints[%zu]", i);
		at = k8sobj_pk_put(d, &ep, sizeof(ep), alignof(struct k8sobj_endpoint));
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
