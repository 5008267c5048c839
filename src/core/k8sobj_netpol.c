// SPDX-License-Identifier: MIT
/*
 * k8sobj_netpol.c: the spec of a networking.k8s.io/v1 NetworkPolicy (see struct k8sobj_netpol
 * in k8sobj.h): the target selector, policyTypes, and the ingress and egress rules with their
 * ports and peers, keeping "absent" apart from "empty" wherever the API gives them different
 * meanings. Runs in both passes of k8sobj.c and packs through the k8sobj_pk_* helpers only.
 *
 * Arrays nest four deep here (rules, peers, expressions, values), and every array must stay
 * contiguous. dec_list therefore reserves all slots of a list first and fills each slot after
 * its element, together with that element's own arrays, has been decoded into scratch.
 *
 * Unlike the other kinds, a bad spec does not fail the decode: a policy dropped from the cache
 * would stop isolating its pods, the one failure that must never be silent. The reason is kept
 * in the object instead, and the policy compiler fails closed on it.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../base/err.h"
#include "../codec/json.h"
#include "cidr.h"
#include "k8sobj.h"
#include "k8sobj_int.h"

/* Scratch for one element of any list in a policy; also the zeroes that reserve slots. */
union elem {
	struct k8sobj_rule rule;
	struct k8sobj_npport port;
	struct k8sobj_peer peer;
	struct k8sobj_expr expr;
};

typedef int dec_elem_fn(struct k8sobj_dec *d, const struct json *it, union elem *out,
			const char *arg);

/*
 * Decode arr (checked to be an array, or NULL) element by element; a failure is reported
 * under "key[i]". *first and *n describe the packed array, NULL and 0 after a failure.
 */
static int dec_list(struct k8sobj_dec *d, const struct json *arr, const char *key, size_t size,
		    size_t align, dec_elem_fn *fn, const char *arg, const void **first, uint32_t *n)
{
	union elem tmp;
	const struct json *it;
	char *slots = NULL, *at;
	size_t i;
	int r;

	*first = NULL;
	*n = 0;
	memset(&tmp, 0, sizeof(tmp));
	for (i = 0; arr && i < arr->count; i++) {
		at = k8sobj_pk_put(d, &tmp, size, align);
		slots = i ? slots : at;
	}
	i = 0;
	json_for_each(it, arr) {
		memset(&tmp, 0, sizeof(tmp));
		r = fn(d, it, &tmp, arg);
		if (r)
			return k8sobj_up(d, r, "%s[%zu]", key, i);
		if (slots)
			memcpy(slots + i * size, &tmp, size);
		i++;
	}
	*first = slots;
	*n = (uint32_t)i;
	return 0;
}

/* ---- selectors ------------------------------------------------------------------------- */

static const char *const ops[] = {
	[K8SOBJ_OP_IN] = "In", [K8SOBJ_OP_NOTIN] = "NotIn", [K8SOBJ_OP_EXISTS] = "Exists",
	[K8SOBJ_OP_NOTEXIST] = "DoesNotExist",
};

static int dec_op(struct k8sobj_dec *d, const struct json *op, const struct json *vals,
		  uint8_t *out)
{
	size_t k = k8sobj_lookup(op, ops, ARRAY_SIZE(ops));
	bool want_values = k == K8SOBJ_OP_IN || k == K8SOBJ_OP_NOTIN;

	if (!op)
		return k8sobj_up(d, k8sobj_why(d, "missing"), "operator");
	if (k == ARRAY_SIZE(ops))
		return k8sobj_up(d, k8sobj_why(d, "unknown operator \"%.40s\"", op->str),
				 "operator");
	/* In with no values would match nothing and NotIn everything: the API rejects both */
	if (want_values != (vals && vals->count > 0))
		return k8sobj_up(d, k8sobj_why(d, want_values ? "must not be empty for %s"
						       : "must be empty for %s", ops[k]), "values");
	*out = (uint8_t)k;
	return 0;
}

static int dec_expr(struct k8sobj_dec *d, const struct json *it, union elem *out,
		    const char *arg)
{
	struct k8sobj_expr *e = &out->expr;
	const struct json *key = NULL, *op = NULL, *vals = NULL, *v;
	const char *s;
	void *at;
	size_t i = 0;
	int r;

	r = k8sobj_check(d, it, JSON_OBJECT);
	if (!r)
		r = k8sobj_get(d, it, "key", JSON_STRING, &key);
	if (!r)
		r = k8sobj_get(d, it, "operator", JSON_STRING, &op);
	if (!r)
		r = k8sobj_get(d, it, "values", JSON_ARRAY, &vals);
	if (!r && (!key || !key->len))
		r = k8sobj_up(d, k8sobj_why(d, "must not be empty"), "key");
	if (!r)
		r = dec_op(d, op, vals, &e->op);
	json_for_each(v, vals) {
		if (r)
			return r;
		r = k8sobj_check(d, v, JSON_STRING);
		if (r)
			return k8sobj_up(d, r, "values[%zu]", i);
		i++;
	}
	if (r)
		return r;
	e->key = k8sobj_pk_str(d, key);
	json_for_each(v, vals) {
		s = k8sobj_pk_str(d, v);	/* strings go elsewhere: the pointers stay contiguous */
		at = k8sobj_pk_put(d, &s, sizeof(s), alignof(const char *));
		e->values = e->nvalues++ ? e->values : at;
	}
	return 0;
}

/* o[key] as a selector; *has |= bit when it is given (an object, {} included). */
static int dec_selector(struct k8sobj_dec *d, const struct json *o, const char *key,
			struct k8sobj_selector *sel, uint8_t *has, uint8_t bit)
{
	const struct json *s, *labels, *exprs;
	const void *first;
	int r;

	r = k8sobj_get(d, o, key, JSON_OBJECT, &s);
	if (r || !s)
		return r;
	*has |= bit;
	r = k8sobj_get(d, s, "matchLabels", JSON_OBJECT, &labels);
	if (!r)
		r = k8sobj_get(d, s, "matchExpressions", JSON_ARRAY, &exprs);
	if (!r && (r = k8sobj_dec_map(d, labels, NULL, NULL, &sel->labels, &sel->nlabels)))
		k8sobj_up(d, r, "matchLabels");
	if (!r) {
		r = dec_list(d, exprs, "matchExpressions", sizeof(struct k8sobj_expr),
			     alignof(struct k8sobj_expr), dec_expr, NULL, &first, &sel->nexprs);
		sel->exprs = first;
	}
	return r ? k8sobj_up(d, r, "%s", key) : 0;
}

/* ---- peers ----------------------------------------------------------------------------- */

static int dec_cidr(struct k8sobj_dec *d, const struct json *s, struct cidr *c)
{
	struct ipaddr net;

	if (!s)
		return k8sobj_why(d, "missing");
	if (cidr_parse(s->str, s->len, c))
		return k8sobj_why(d, "not a CIDR: \"%.50s\"", s->str);
	cidr_first(c, &net);
	c->addr = net;
	return 0;
}

static int dec_ipblock(struct k8sobj_dec *d, const struct json *b, struct k8sobj_ipblock *ib)
{
	const struct json *cidr, *except = NULL, *it;
	struct cidr e;
	void *at;
	int r;

	r = k8sobj_get(d, b, "cidr", JSON_STRING, &cidr);
	if (!r && (r = dec_cidr(d, cidr, &ib->cidr)))
		k8sobj_up(d, r, "cidr");
	if (!r)
		r = k8sobj_get(d, b, "except", JSON_ARRAY, &except);
	json_for_each(it, except) {
		if (r)
			break;
		r = k8sobj_check(d, it, JSON_STRING);
		if (!r)
			r = dec_cidr(d, it, &e);
		/* the API demands a strict subset; anything else is not what the author meant */
		if (!r && (!cidr_contains(&ib->cidr, &e.addr) || e.prefix <= ib->cidr.prefix))
			r = k8sobj_why(d, "not inside cidr");
		if (r)
			return k8sobj_up(d, r, "except[%u]", ib->nexcept);
		at = k8sobj_pk_put(d, &e, sizeof(e), alignof(struct cidr));
		ib->except = ib->nexcept++ ? ib->except : at;
	}
	return r;
}

static int dec_peer(struct k8sobj_dec *d, const struct json *it, union elem *out,
		    const char *arg)
{
	struct k8sobj_peer *p = &out->peer;
	const struct json *ipb;
	int r;

	r = k8sobj_check(d, it, JSON_OBJECT);
	if (!r)
		r = dec_selector(d, it, "podSelector", &p->pods, &p->has, K8SOBJ_PEER_PODS);
	if (!r)
		r = dec_selector(d, it, "namespaceSelector", &p->ns, &p->has, K8SOBJ_PEER_NS);
	if (!r)
		r = k8sobj_get(d, it, "ipBlock", JSON_OBJECT, &ipb);
	if (r)
		return r;
	if (ipb && p->has)
		return k8sobj_why(d, "ipBlock cannot be combined with a selector");
	if (!ipb && !p->has)
		return k8sobj_why(d, "needs podSelector, namespaceSelector or ipBlock");
	if (!ipb)
		return 0;
	p->has |= K8SOBJ_PEER_IPBLOCK;
	r = dec_ipblock(d, ipb, &p->ipblock);
	return r ? k8sobj_up(d, r, "ipBlock") : 0;
}

/* ---- ports ----------------------------------------------------------------------------- */

/* IANA_SVC_NAME as the API validates container port names: what a named port can refer to. */
static bool svc_name_ok(const char *s, size_t n)
{
	bool letter = false;
	size_t i;

	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (s[i] == '-' && s[i + 1] == '-')
			return false;
		else if (s[i] != '-' && (s[i] < '0' || s[i] > '9'))
			return false;
	}
	return letter;
}

/* A number in lo..hi; *out untouched when absent. */
static int get_u16(struct k8sobj_dec *d, const struct json *v, unsigned int lo, uint16_t *out)
{
	int64_t x;
	int r = json_i64(v, &x);

	if (r == -EINVAL)
		return k8sobj_why(d, "expected an integer, got %.20s", v->str);
	if (r || x < lo || x > 65535)
		return k8sobj_why(d, "out of range %u..65535", lo);
	*out = (uint16_t)x;
	return 0;
}

static int dec_port_num(struct k8sobj_dec *d, const struct json *it, struct k8sobj_npport *p)
{
	const struct json *port = json_get(it, "port"), *end;
	int r;

	r = 0;
	if (json_is(port, JSON_NUMBER))
		r = get_u16(d, port, 1, &p->port);
	else if (json_is(port, JSON_STRING))
		r = k8sobj_check(d, port, JSON_STRING);
	else if (port && port->type != JSON_NULL)
		r = k8sobj_why(d, "expected an integer or a string");
	if (!r && json_is(port, JSON_STRING) && !svc_name_ok(port->str, port->len))
		r = k8sobj_why(d, "not a port name: \"%.20s\"", port->str);
	if (r)
		return k8sobj_up(d, r, "port");
	r = k8sobj_get(d, it, "endPort", JSON_NUMBER, &end);
	if (r || !end)
		return r;
	if (!p->port)
		r = k8sobj_why(d, "needs a numeric port");
	else
		r = get_u16(d, end, p->port, &p->end_port);
	return r ? k8sobj_up(d, r, "endPort") : 0;
}

static int dec_port(struct k8sobj_dec *d, const struct json *it, union elem *out,
		    const char *arg)
{
	static const char *const protos[] = {
		[K8SOBJ_TCP] = "TCP", [K8SOBJ_UDP] = "UDP", [K8SOBJ_SCTP] = "SCTP",
	};
	struct k8sobj_npport *p = &out->port;
	const struct json *proto, *port;
	size_t k;
	int r;

	r = k8sobj_check(d, it, JSON_OBJECT);
	if (!r)
		r = k8sobj_get(d, it, "protocol", JSON_STRING, &proto);
	if (r)
		return r;
	k = proto ? k8sobj_lookup(proto, protos, ARRAY_SIZE(protos)) : K8SOBJ_TCP;
	/* an unknown protocol must not widen to "any": refuse the policy instead */
	if (k == ARRAY_SIZE(protos))
		return k8sobj_up(d, k8sobj_why(d, "unknown protocol \"%.40s\"", proto->str),
				 "protocol");
	p->proto = (uint8_t)k;
	r = dec_port_num(d, it, p);
	if (r)
		return r;
	port = json_get(it, "port");
	p->name = json_is(port, JSON_STRING) ? k8sobj_pk_str(d, port) : "";
	return 0;
}

/* ---- rules and spec -------------------------------------------------------------------- */

static int dec_rule(struct k8sobj_dec *d, const struct json *it, union elem *out,
		    const char *peers_key)
{
	struct k8sobj_rule *rule = &out->rule;
	const struct json *ports, *peers;
	const void *first;
	int r;

	r = k8sobj_check(d, it, JSON_OBJECT);
	if (!r)
		r = k8sobj_get(d, it, "ports", JSON_ARRAY, &ports);
	if (!r)
		r = k8sobj_get(d, it, peers_key, JSON_ARRAY, &peers);
	if (r)
		return r;
	rule->has_ports = ports != NULL;
	rule->has_peers = peers != NULL;
	r = dec_list(d, ports, "ports", sizeof(struct k8sobj_npport),
		     alignof(struct k8sobj_npport), dec_port, NULL, &first, &rule->nports);
	rule->ports = first;
	if (r)
		return r;
	r = dec_list(d, peers, peers_key, sizeof(struct k8sobj_peer), alignof(struct k8sobj_peer),
		     dec_peer, NULL, &first, &rule->npeers);
	rule->peers = first;
	return r;
}

static int dec_types(struct k8sobj_dec *d, const struct json *spec, struct k8sobj_netpol *np)
{
	static const char *const types[] = { "Ingress", "Egress" };
	const struct json *arr, *it;
	size_t i = 0, k;
	int r;

	r = k8sobj_get(d, spec, "policyTypes", JSON_ARRAY, &arr);
	if (r)
		return r;
	np->has_types = arr != NULL;
	json_for_each(it, arr) {
		r = k8sobj_check(d, it, JSON_STRING);
		k = r ? 0 : k8sobj_lookup(it, types, ARRAY_SIZE(types));
		if (!r && k == ARRAY_SIZE(types))
			r = k8sobj_why(d, "unknown policy type \"%.40s\"", it->str);
		if (r)
			return k8sobj_up(d, r, "policyTypes[%zu]", i);
		np->types |= (uint8_t)(1u << k);
		i++;
	}
	return 0;
}

static int dec_spec(struct k8sobj_dec *d, const struct json *spec, struct k8sobj_netpol *np)
{
	const struct json *ingress, *egress;
	const void *first;
	uint8_t has = 0;
	int r;

	r = dec_selector(d, spec, "podSelector", &np->pod_selector, &has, 1);
	if (r)
		return r;
	np->target_ok = true;
	r = dec_types(d, spec, np);
	if (!r)
		r = k8sobj_get(d, spec, "ingress", JSON_ARRAY, &ingress);
	if (!r)
		r = k8sobj_get(d, spec, "egress", JSON_ARRAY, &egress);
	if (r)
		return r;
	np->has_ingress = ingress != NULL;
	np->has_egress = egress != NULL;
	r = dec_list(d, ingress, "ingress", sizeof(struct k8sobj_rule),
		     alignof(struct k8sobj_rule), dec_rule, "from", &first, &np->ningress);
	np->ingress = first;
	if (r)
		return r;
	r = dec_list(d, egress, "egress", sizeof(struct k8sobj_rule), alignof(struct k8sobj_rule),
		     dec_rule, "to", &first, &np->negress);
	np->egress = first;
	return r;
}

int k8sobj_dec_netpol(struct k8sobj_dec *d, const struct json *v, struct k8sobj_netpol *np)
{
	char msg[K8SOBJ_PATH_CAP + sizeof(d->why) + 8];
	const struct json *spec;
	int r;

	r = k8sobj_get(d, v, "spec", JSON_OBJECT, &spec);
	if (!r && (r = dec_spec(d, spec, np)))
		k8sobj_up(d, r, "spec");
	np->invalid = "";
	if (!r)
		return 0;
	/* both passes see the same DOM, so they pack the same message */
	snprintf(msg, sizeof(msg), "%s%s: %s", d->cut ? "..." : "", d->path + d->pos, d->why);
	np->invalid = k8sobj_pk_strn(d, msg, strlen(msg));
	k8sobj_dec_init(d);
	return 0;
}

uint8_t k8sobj_netpol_types(const struct k8sobj_netpol *np)
{
	/* networking/v1 defaults.go: an empty list counts as absent */
	if (np->types)
		return np->types;
	return K8SOBJ_NP_INGRESS | (np->negress ? K8SOBJ_NP_EGRESS : 0);
}

int k8sobj_netpol_check(const struct k8sobj_netpol *np, struct ebuf *eb)
{
	if (!np->invalid || !np->invalid[0])
		return 0;
	ebuf_set(eb, "%s", np->invalid);
	return -EINVAL;
}
