// SPDX-License-Identifier: MIT
/*
 * cniresult_enc.c: CNI Result values -> JSON in every spec version (see cniresult.h), and the
 * field-by-field comparison of two results. Encoding follows the Go types field by field, so
 * our output is byte-compatible with what libcni itself would print for the same result.
 * Decoding, version names and the MAC and DNS helpers live in cniresult.c.
 */
#include <errno.h>
#include <string.h>

#include "../base/buf.h"
#include "../codec/json.h"
#include "cniresult.h"

/* ---- encoding -------------------------------------------------------------------------- */

static bool family_ok(int family, uint8_t prefix)
{
	return (family == AF_INET && prefix <= 32) || (family == AF_INET6 && prefix <= 128);
}

static bool ip_ok(const struct cni_ip *ip, size_t nifaces)
{
	if (!family_ok(ip->addr.addr.family, ip->addr.prefix))
		return false;
	if (ip->has_gw && ip->gw.family != ip->addr.addr.family)
		return false;
	return ip->iface >= -1 && (ip->iface < 0 || (size_t)ip->iface < nifaces);
}

static bool result_ok(const struct cni_result *r)
{
	const struct cni_route *rt;
	size_t i;

	if (r->nifaces > CNI_MAX_IFACES || r->nips > CNI_MAX_IPS || r->nroutes > CNI_MAX_ROUTES)
		return false;
	for (i = 0; i < r->nifaces; i++) {
		const struct cni_iface *f = &r->ifaces[i];

		if (!f->name[0] || !memchr(f->name, 0, sizeof(f->name)) ||
		    !memchr(f->sandbox, 0, sizeof(f->sandbox)))
			return false;
	}
	for (i = 0; i < r->nips; i++) {
		if (!ip_ok(&r->ips[i], r->nifaces))
			return false;
	}
	for (i = 0; i < r->nroutes; i++) {
		rt = &r->routes[i];
		if (!family_ok(rt->dst.addr.family, rt->dst.prefix) ||
		    (rt->has_gw && rt->gw.family != rt->dst.addr.family))
			return false;
	}
	return true;
}

/* Formatting cannot fail after result_ok(); if it does, poison the writer. */
static void put_addr(struct jw *w, const char *key, const struct ipaddr *a)
{
	char s[IPADDR_STRLEN];

	if (ipaddr_format(a, s, sizeof(s)))
		w->err = w->err ? w->err : -EINVAL;
	jw_kstr(w, key, s);
}

static void put_cidr(struct jw *w, const char *key, const struct cidr *c)
{
	char s[CIDR_STRLEN];

	if (cidr_format(c, s, sizeof(s)))
		w->err = w->err ? w->err : -EINVAL;
	jw_kstr(w, key, s);
}

static void enc_iface(struct jw *w, const struct cni_iface *f, enum cni_ver v)
{
	char mac[18];

	jw_obj_begin(w);
	jw_kstr(w, "name", f->name);
	if (f->has_mac) {
		cni_mac_format(f->mac, mac);
		jw_kstr(w, "mac", mac);
	}
	if (v >= CNI_V110 && f->mtu)
		jw_ku64(w, "mtu", f->mtu);
	if (f->sandbox[0])
		jw_kstr(w, "sandbox", f->sandbox);
	jw_obj_end(w);
}

static void enc_ip(struct jw *w, const struct cni_ip *ip, enum cni_ver v)
{
	jw_obj_begin(w);
	if (v < CNI_V100)
		jw_kstr(w, "version", ip->addr.addr.family == AF_INET ? "4" : "6");
	if (ip->iface >= 0)
		jw_ku64(w, "interface", (uint64_t)ip->iface);
	put_cidr(w, "address", &ip->addr);
	if (ip->has_gw)
		put_addr(w, "gateway", &ip->gw);
	jw_obj_end(w);
}

static void enc_route(struct jw *w, const struct cni_route *rt)
{
	jw_obj_begin(w);
	put_cidr(w, "dst", &rt->dst);
	if (rt->has_gw)
		put_addr(w, "gw", &rt->gw);
	jw_obj_end(w);
}

static void enc_modern(struct jw *w, const struct cni_result *r, enum cni_ver v)
{
	size_t i;

	if (r->nifaces) {
		jw_key(w, "interfaces");
		jw_arr_begin(w);
		for (i = 0; i < r->nifaces; i++)
			enc_iface(w, &r->ifaces[i], v);
		jw_arr_end(w);
	}
	if (r->nips) {
		jw_key(w, "ips");
		jw_arr_begin(w);
		for (i = 0; i < r->nips; i++)
			enc_ip(w, &r->ips[i], v);
		jw_arr_end(w);
	}
	if (r->nroutes) {
		jw_key(w, "routes");
		jw_arr_begin(w);
		for (i = 0; i < r->nroutes; i++)
			enc_route(w, &r->routes[i]);
		jw_arr_end(w);
	}
}

static const struct cni_ip *first_ip(const struct cni_result *r, int family)
{
	size_t i;

	for (i = 0; i < r->nips; i++) {
		if (r->ips[i].addr.addr.family == family)
			return &r->ips[i];
	}
	return NULL;
}

/* libcni's 1.0 → 0.2.0 conversion: first IP of the family, that family's routes. */
static void enc_legacy_ip(struct jw *w, const char *key, const struct cni_result *r, int family)
{
	const struct cni_ip *ip = first_ip(r, family);
	size_t i, n = 0;

	if (!ip)
		return;
	jw_key(w, key);
	jw_obj_begin(w);
	put_cidr(w, "ip", &ip->addr);
	if (ip->has_gw)
		put_addr(w, "gateway", &ip->gw);
	for (i = 0; i < r->nroutes; i++) {
		if (r->routes[i].dst.addr.family != family)
			continue;
		if (n++ == 0) {
			jw_key(w, "routes");
			jw_arr_begin(w);
		}
		enc_route(w, &r->routes[i]);
	}
	if (n)
		jw_arr_end(w);
	jw_obj_end(w);
}

static void enc_strs(struct jw *w, const char *key, const struct json *arr)
{
	const struct json *it;
	size_t n = 0;

	json_for_each(it, json_is(arr, JSON_ARRAY) ? arr : NULL) {
		if (!json_is(it, JSON_STRING))
			continue;
		if (n++ == 0) {
			jw_key(w, key);
			jw_arr_begin(w);
		}
		jw_strn(w, it->str, it->len);
	}
	if (n)
		jw_arr_end(w);
}

static void enc_dns(struct jw *w, const struct json *dns)
{
	const struct json *dom = json_get(dns, "domain");

	jw_key(w, "dns");
	jw_obj_begin(w);
	enc_strs(w, "nameservers", json_get(dns, "nameservers"));
	if (json_is(dom, JSON_STRING) && dom->len) {
		jw_key(w, "domain");
		jw_strn(w, dom->str, dom->len);
	}
	enc_strs(w, "search", json_get(dns, "search"));
	enc_strs(w, "options", json_get(dns, "options"));
	jw_obj_end(w);
}

int cni_result_encode(const struct cni_result *r, enum cni_ver v, struct buf *b)
{
	size_t len0 = b->len;
	struct jw w;
	int e;

	if (!cni_ver_str(v) || !result_ok(r))
		return -EINVAL;
	if (v < CNI_V030 && r->nips == 0)
		return -EINVAL;
	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_kstr(&w, "cniVersion", cni_ver_str(v));
	if (v >= CNI_V030) {
		enc_modern(&w, r, v);
	} else {
		enc_legacy_ip(&w, "ip4", r, AF_INET);
		enc_legacy_ip(&w, "ip6", r, AF_INET6);
	}
	enc_dns(&w, r->dns);
	jw_obj_end(&w);
	e = jw_finish(&w);
	if (e && b->p) {
		b->len = len0;
		b->p[len0] = '\0';
	}
	return e;
}

/* ---- comparison ------------------------------------------------------------------------ */

static bool cidr_same(const struct cidr *a, const struct cidr *b)
{
	return a->prefix == b->prefix && ipaddr_eq(&a->addr, &b->addr);
}

static bool gw_same(bool ha, const struct ipaddr *a, bool hb, const struct ipaddr *b)
{
	return ha == hb && (!ha || ipaddr_eq(a, b));
}

static bool iface_same(const struct cni_iface *a, const struct cni_iface *b)
{
	return strncmp(a->name, b->name, sizeof(a->name)) == 0 && a->has_mac == b->has_mac &&
	       (!a->has_mac || memcmp(a->mac, b->mac, 6) == 0) &&
	       strncmp(a->sandbox, b->sandbox, sizeof(a->sandbox)) == 0 && a->mtu == b->mtu;
}

bool cni_result_eq(const struct cni_result *a, const struct cni_result *b)
{
	size_t i;

	if (a->nifaces != b->nifaces || a->nips != b->nips || a->nroutes != b->nroutes)
		return false;
	for (i = 0; i < a->nifaces && i < CNI_MAX_IFACES; i++) {
		if (!iface_same(&a->ifaces[i], &b->ifaces[i]))
			return false;
	}
	for (i = 0; i < a->nips && i < CNI_MAX_IPS; i++) {
		const struct cni_ip *x = &a->ips[i], *y = &b->ips[i];

		if (!cidr_same(&x->addr, &y->addr) || x->iface != y->iface ||
		    !gw_same(x->has_gw, &x->gw, y->has_gw, &y->gw))
			return false;
	}
	for (i = 0; i < a->nroutes && i < CNI_MAX_ROUTES; i++) {
		if (!cidr_same(&a->routes[i].dst, &b->routes[i].dst) ||
		    !gw_same(a->routes[i].has_gw, &a->routes[i].gw, b->routes[i].has_gw,
			     &b->routes[i].gw))
			return false;
	}
	return true;
}
