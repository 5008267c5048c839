/* SPDX-License-Identifier: MIT */
/*
 * cniresult.h: the CNI Result object (the ADD output and the shape of prevResult) as plain
 * values, the spec versions it is written in, and its JSON encoding and decoding in every
 * version from 0.1.0 to 1.1.0. Pure: no I/O, no globals. Split from cniconf.h, which includes
 * this header, so callers normally include only cniconf.h. Decoding, version names, MAC and
 * DNS helpers are in cniresult.c; encoding and cni_result_eq in cniresult_enc.c.
 *
 * Shapes (CNI SPEC.md, libcni types020/types040/types100):
 *   >= 1.0.0      interfaces[], ips[] {interface, address, gateway}, routes[], dns
 *   0.3.x, 0.4.0  the same, each ips[] entry also carries "version": "4" or "6"
 *   0.1.0, 0.2.0  ip4/ip6 objects {ip, gateway, routes[]}, dns; no interfaces
 */
#ifndef VIRGIL_CNIRESULT_H
#define VIRGIL_CNIRESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "cidr.h"

struct buf;
struct json;
struct cni_error;

enum cni_ver { CNI_V010, CNI_V020, CNI_V030, CNI_V031, CNI_V040, CNI_V100, CNI_V110 };
#define CNI_VER_LATEST CNI_V110
#define CNI_VER_COUNT (CNI_VER_LATEST + 1)

/* "0.1.0" ... "1.1.0"; NULL for a value outside the enum. Static storage. */
const char *cni_ver_str(enum cni_ver v);
/* Exact match against the seven version strings (no "1.0", no "v1.0.0"); 0 or -EINVAL. */
int cni_ver_parse(const char *s, enum cni_ver *out) __must_check;

#define CNI_MAX_IFACES 16
#define CNI_MAX_IPS 16
#define CNI_MAX_ROUTES 32

struct cni_iface {
	char name[16];          /* NUL-terminated, 1-15 bytes */
	uint8_t mac[6];
	bool has_mac;
	char sandbox[512];      /* netns path; "" = host side (the key is then omitted) */
	uint32_t mtu;           /* 0 = not reported; written only in 1.1.0 */
};

struct cni_ip {
	struct cidr addr;       /* the address with its prefix; host bits are the point */
	struct ipaddr gw;
	bool has_gw;
	int iface;              /* index into ifaces[], -1 = none (the key is then omitted) */
};

struct cni_route {
	struct cidr dst;        /* decode clears host bits, as Go's net.ParseCIDR does */
	struct ipaddr gw;
	bool has_gw;
};

struct cni_result {
	struct cni_iface ifaces[CNI_MAX_IFACES];
	size_t nifaces;
	struct cni_ip ips[CNI_MAX_IPS];
	size_t nips;
	struct cni_route routes[CNI_MAX_ROUTES];
	size_t nroutes;
	/*
	 * Borrowed DNS object (its owner must outlive every encode). Encoding writes only the
	 * four spec members (nameservers, domain, search, options), each only when non-empty and
	 * of the right type, in that order, exactly as the Go types print; NULL or an empty object
	 * is written as "dns":{} in every version, as the reference plugins do. Decoding stores a
	 * pointer into the decoded document, or NULL when the object has no non-empty member.
	 */
	const struct json *dns;
};

/*
 * Decode a Result object of any shape. The 1.x/0.3.x/0.4.0 shape is used when any of
 * "interfaces", "ips" or "routes" is present, else the 0.1.0/0.2.0 ip4/ip6 shape; the
 * object's own "cniVersion" is ignored (prevResult is always in the config's version).
 * Rules: interface names 1-15 bytes; "mac" a 6-byte MAC with ':' or '-' (any case), "" =
 * none; "sandbox" < 512 bytes; "mtu" 0..2^32-1; "address" a CIDR; "gateway"/"gw" an address
 * of the same family, "" = none; "interface" an index into interfaces; "version", when
 * present, "4"/"6" matching the address; route "dst" required; the 1.1.0 route extras,
 * socketPath and pciID are ignored; "dns" an object whose known members have the spec's
 * types; counts within CNI_MAX_*. A null member counts as absent. Legacy routes follow ip4
 * then ip6, IPs have iface -1. Errors: -EINVAL with err code CNI_ERR_DECODE (6), msg
 * "failed to decode result", details "<json path>: <reason>". *out is fully rewritten.
 * out->dns borrows from v.
 */
int cni_result_decode(const struct json *v, struct cni_result *out,
		      struct cni_error *err) __must_check;
/* The same, naming v in the error ("failed to decode prevResult", "prevResult.ips[0]..."). */
int cni_result_decode_named(const struct json *v, const char *name, struct cni_result *out,
			    struct cni_error *err) __must_check;

/*
 * Encode r as a Result in version v and append it to b (compact JSON, keys in Go's field
 * order): >= 1.0.0 shape (1.1.0 adds interfaces[].mtu when non-zero), 0.3.x/0.4.0 with
 * ips[].version, 0.1.0/0.2.0 ip4/ip6 built from the first IP of each family with the routes
 * of that family nested (routes of a family without an IP are dropped, as libcni does).
 * Empty interfaces/ips/routes arrays are omitted (Go omitempty). MACs are lowercase
 * aa:bb:cc:dd:ee:ff. Returns 0; -EINVAL for an inconsistent r (counts over the limits, an
 * unterminated name or sandbox, an iface index out of range, a bad family) and, for
 * 0.1.0/0.2.0, when r holds no IP ("cannot convert: no valid IP addresses" in libcni);
 * -ENOMEM or -EMSGSIZE from b. On error b is restored to its previous length.
 */
int cni_result_encode(const struct cni_result *r, enum cni_ver v, struct buf *b) __must_check;

/* Same interfaces, IPs and routes, field by field and in order; dns is not compared. */
bool cni_result_eq(const struct cni_result *a, const struct cni_result *b);

/* "aa:bb:cc:dd:ee:ff" or with '-', either case, exactly s[0..n); 0 or -EINVAL. */
int cni_mac_parse(const char *s, size_t n, uint8_t mac[6]) __must_check;
/* Lowercase colon form into out[18], NUL-terminated. */
void cni_mac_format(const uint8_t mac[6], char out[18]);

/*
 * Check a "dns" object: nameservers/search/options arrays of strings, domain a string
 * (null members count as absent; unknown members are ignored). 0, or -EINVAL with the
 * offending member ("search[2]: not a string") in why.
 */
int cni_dns_check(const struct json *dns, char *why, size_t cap) __must_check;

#endif
