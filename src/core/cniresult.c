// SPDX-License-Identifier: MIT
/*
 * cniresult.c: JSON -> CNI Result values in every spec version (see cniresult.h), plus the
 * version names, MAC parse/format and the "dns" check. Decoding accepts both shapes, because
 * prevResult arrives in whatever version the config names and runtimes cache results across
 * upgrades. Encoding and comparison live in cniresult_enc.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../codec/json.h"
#include "cniconf.h"
#include "../base/util.h"
#include "cniresult.h"

static const char *const ver_names[CNI_VER_COUNT] = {
	[CNI_V010] = "0.1.0", [CNI_V020] = "0.2.0", [CNI_V030] = "0.3.0", [CNI_V031] = "0.3.1",
	[CNI_V040] = "0.4.0", [CNI_V100] = "1.0.0", [CNI_V110] = "1.1.0",
};

const char *cni_ver_str(enum cni_ver v)
{
	return (unsigned)v < CNI_VER_COUNT ? ver_names[v] : NULL;
}

int cni_ver_parse(const char *s, enum cni_ver *out)
{
	unsigned i;

	for (i = 0; s && i < CNI_VER_COUNT; i++) {
		if (strcmp(s, ver_names[i]) == 0) {
			*out = (enum cni_ver)i;
			return 0;
		}
	}
	return -EINVAL;
}

int cni_mac_parse(const char *s, size_t n, uint8_t mac[6])
{
	uint8_t m[6];
	size_t i;

	if (n != 17 || (s[2] != ':' && s[2] != '-'))
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != s[2]))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, sizeof(m));
	return 0;
}

void cni_mac_format(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

static int strs_check(const struct json *v, const char *key, char *why, size_t cap)
{
	const struct json *it;
	size_t i = 0;

	if (!v || json_is(v, JSON_NULL))
		return 0;
	if (!json_is(v, JSON_ARRAY)) {
		snprintf(why, cap, "%s: not an array", key);
		return -EINVAL;
	}
	json_for_each(it, v) {
		if (!json_is(it, JSON_STRING)) {
			snprintf(why, cap, "%s[%zu]: not a string", key, i);
			return -EINVAL;
		}
		i++;
	}
	return 0;
}

int cni_dns_check(const struct json *dns, char *why, size_t cap)
{
	const struct json *d;

	if (!json_is(dns, JSON_OBJECT)) {
		snprintf(why, cap, "not an object");
		return -EINVAL;
	}
	d = json_get(dns, "domain");
	if (d && !json_is(d, JSON_NULL) && !json_is(d, JSON_STRING)) {
		snprintf(why, cap, "domain: not a string");
		return -EINVAL;
	}
	if (strs_check(json_get(dns, "nameservers"), "nameservers", why, cap) ||
	    strs_check(json_get(dns, "search"), "search", why, cap) ||
	    strs_check(json_get(dns, "options"), "options", why, cap))
		return -EINVAL;
	return 0;
}

/* ---- decoding -------------------------------------------------------------------------- */

struct rdec {
	struct cni_error *err;
	const char *name;       /* names the decoded value in messages: "result", "prevResult" */
};

/* sub starts with the path below the value (".ips[0].address") or ":" for the value itself. */
static int rfail(const struct rdec *d, const char *fmt, ...) __printf(2, 3);
static int rfail(const struct rdec *d, const char *fmt, ...)
{
	char msg[64], sub[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sub, sizeof(sub), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "failed to decode %s", d->name);
	cni_error_set(d->err, CNI_ERR_DECODE, msg, "%s%s", d->name, sub);
	return -EINVAL;
}

/* A member, with null folded into absent as Go's decoder does. */
static const struct json *member(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return json_is(v, JSON_NULL) ? NULL : v;
}

static bool is_cstr(const struct json *v)
{
	return json_is(v, JSON_STRING) && !json_str_has_nul(v);
}

/* An optional address: absent or "" leaves *has false (Go's net.IP reads "" as nil). */
static int opt_addr(const struct json *v, int family, struct ipaddr *a, bool *has)
{
	*has = false;
	if (!v)
		return 0;
	if (!json_is(v, JSON_STRING))
		return -EINVAL;
	if (v->len == 0)
		return 0;
	if (ipaddr_parse(v->str, v->len, a) || a->family != family)
		return -EINVAL;
	*has = true;
	return 0;
}

static int get_cidr(const struct json *v, struct cidr *c)
{
	if (!json_is(v, JSON_STRING) || cidr_parse(v->str, v->len, c))
		return -EINVAL;
	return 0;
}

static int dec_str(const struct json *v, char *out, size_t cap)
{
	if (!is_cstr(v) || v->len >= cap)
		return -EINVAL;
	memcpy(out, v->str, v->len + 1);
	return 0;
}

static int dec_iface(const struct rdec *d, const struct json *v, size_t i, struct cni_iface *f)
{
	const struct json *m;
	uint64_t mtu = 0;

	memset(f, 0, sizeof(*f));
	if (!json_is(v, JSON_OBJECT))
		return rfail(d, ".interfaces[%zu]: not an object", i);
	m = member(v, "name");
	if (!m || m->len == 0 || dec_str(m, f->name, sizeof(f->name)))
		return rfail(d, ".interfaces[%zu].name: want a string of 1-15 bytes", i);
	m = member(v, "mac");
	if (m && (!json_is(m, JSON_STRING) || (m->len && cni_mac_parse(m->str, m->len, f->mac))))
		return rfail(d, ".interfaces[%zu].mac: not a MAC address", i);
	f->has_mac = m && m->len;
	m = member(v, "sandbox");
	if (m && dec_str(m, f->sandbox, sizeof(f->sandbox)))
		return rfail(d, ".interfaces[%zu].sandbox: want a string under 512 bytes", i);
	m = member(v, "mtu");
	if (m && (json_u64(m, &mtu) || mtu > UINT32_MAX))
		return rfail(d, ".interfaces[%zu].mtu: want an integer 0..4294967295", i);
	f->mtu = (uint32_t)mtu;
	return 0;
}

static int dec_ip(const struct rdec *d, const struct json *v, size_t i, size_t nifaces,
		  struct cni_ip *ip)
{
	const struct json *m;
	uint64_t idx;

	memset(ip, 0, sizeof(*ip));
	if (!json_is(v, JSON_OBJECT))
		return rfail(d, ".ips[%zu]: not an object", i);
	if (get_cidr(member(v, "address"), &ip->addr))
		return rfail(d, ".ips[%zu].address: want an address with a prefix", i);
	m = member(v, "version");
	if (m && !(is_cstr(m) && strcmp(m->str, ip->addr.addr.family == AF_INET ? "4" : "6") == 0))
		return rfail(d, ".ips[%zu].version: want \"4\" or \"6\" matching the address", i);
	if (opt_addr(member(v, "gateway"), ip->addr.addr.family, &ip->gw, &ip->has_gw))
		return rfail(d, ".ips[%zu].gateway: not an address of the address's family", i);
	ip->iface = -1;
	m = member(v, "interface");
	if (m && (json_u64(m, &idx) || idx >= nifaces))
		return rfail(d, ".ips[%zu].interface: not an index into interfaces", i);
	if (m)
		ip->iface = (int)idx;
	return 0;
}

/* where is the array's path (".routes", ".ip4.routes"). */
static int dec_route(const struct rdec *d, const struct json *v, const char *where, size_t i,
		     struct cni_route *rt)
{
	struct cidr dst;

	memset(rt, 0, sizeof(*rt));
	if (!json_is(v, JSON_OBJECT))
		return rfail(d, "%s[%zu]: not an object", where, i);
	if (get_cidr(member(v, "dst"), &dst))
		return rfail(d, "%s[%zu].dst: want an address with a prefix", where, i);
	cidr_first(&dst, &rt->dst.addr);
	rt->dst.prefix = dst.prefix;
	if (opt_addr(member(v, "gw"), dst.addr.family, &rt->gw, &rt->has_gw))
		return rfail(d, "%s[%zu].gw: not an address of dst's family", where, i);
	return 0;
}

static int dec_routes(const struct rdec *d, const struct json *arr, const char *where,
		      struct cni_result *r)
{
	const struct json *it;
	size_t i = 0;
	int e;

	if (!arr)
		return 0;
	if (!json_is(arr, JSON_ARRAY))
		return rfail(d, "%s: not an array", where);
	if (arr->count > CNI_MAX_ROUTES - r->nroutes)
		return rfail(d, "%s: more than %d routes", where, CNI_MAX_ROUTES);
	json_for_each(it, arr) {
		e = dec_route(d, it, where, i++, &r->routes[r->nroutes]);
		if (e)
			return e;
		r->nroutes++;
	}
	return 0;
}

static int dec_modern(const struct rdec *d, const struct json *v, struct cni_result *r)
{
	const struct json *ifs = member(v, "interfaces"), *ips = member(v, "ips"), *it;
	int e;

	if (ifs && !json_is(ifs, JSON_ARRAY))
		return rfail(d, ".interfaces: not an array");
	if (ifs && ifs->count > CNI_MAX_IFACES)
		return rfail(d, ".interfaces: more than %d entries", CNI_MAX_IFACES);
	json_for_each(it, ifs) {
		e = dec_iface(d, it, r->nifaces, &r->ifaces[r->nifaces]);
		if (e)
			return e;
		r->nifaces++;
	}
	if (ips && !json_is(ips, JSON_ARRAY))
		return rfail(d, ".ips: not an array");
	if (ips && ips->count > CNI_MAX_IPS)
		return rfail(d, ".ips: more than %d entries", CNI_MAX_IPS);
	json_for_each(it, ips) {
		e = dec_ip(d, it, r->nips, r->nifaces, &r->ips[r->nips]);
		if (e)
			return e;
		r->nips++;
	}
	return dec_routes(d, member(v, "routes"), ".routes", r);
}

static int dec_legacy(const struct rdec *d, const struct json *v, const char *key, int family,
		      struct cni_result *r)
{
	const struct json *o = member(v, key);
	struct cni_ip *ip = &r->ips[r->nips];
	char where[16];

	if (!o)
		return 0;
	if (!json_is(o, JSON_OBJECT))
		return rfail(d, ".%s: not an object", key);
	memset(ip, 0, sizeof(*ip));
	ip->iface = -1;
	if (get_cidr(member(o, "ip"), &ip->addr) || ip->addr.addr.family != family)
		return rfail(d, ".%s.ip: want an IPv%c address with a prefix", key, key[2]);
	if (opt_addr(member(o, "gateway"), family, &ip->gw, &ip->has_gw))
		return rfail(d, ".%s.gateway: not an IPv%c address", key, key[2]);
	r->nips++;
	snprintf(where, sizeof(where), ".%s.routes", key);
	return dec_routes(d, member(o, "routes"), where, r);
}

static bool dns_empty(const struct json *dns)
{
	static const char *const keys[] = { "nameservers", "domain", "search", "options" };
	const struct json *m;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		m = json_get(dns, keys[i]);
		if ((json_is(m, JSON_ARRAY) && m->count) || (json_is(m, JSON_STRING) && m->len))
			return false;
	}
	return true;
}

static int dec_result(const struct rdec *d, const struct json *v, struct cni_result *r)
{
	const struct json *dns;
	char why[128];
	int e;

	memset(r, 0, sizeof(*r));
	if (!json_is(v, JSON_OBJECT))
		return rfail(d, ": not an object");
	if (member(v, "interfaces") || member(v, "ips") || member(v, "routes")) {
		e = dec_modern(d, v, r);
	} else {
		e = dec_legacy(d, v, "ip4", AF_INET, r);
		if (!e)
			e = dec_legacy(d, v, "ip6", AF_INET6, r);
	}
	if (e)
		return e;
	dns = member(v, "dns");
	if (dns && !json_is(dns, JSON_OBJECT))
		return rfail(d, ".dns: not an object");
	if (dns && cni_dns_check(dns, why, sizeof(why)))
		return rfail(d, ".dns.%s", why);
	r->dns = dns && !dns_empty(dns) ? dns : NULL;
	return 0;
}

int cni_result_decode_named(const struct json *v, const char *name, struct cni_result *out,
			    struct cni_error *err)
{
	struct rdec d = { .err = err, .name = name ? name : "result" };
	int e = dec_result(&d, v, out);

	if (e)
		memset(out, 0, sizeof(*out));
	return e;
}

int cni_result_decode(const struct json *v, struct cni_result *out, struct cni_error *err)
{
	return cni_result_decode_named(v, "result", out, err);
}
