/* SPDX-License-Identifier: MIT */
/*
 * cidr.h: IPv4 and IPv6 addresses and prefixes as plain values. Strict text parsing (the
 * input comes from CNI configs, the API server and lease file names), canonical formatting,
 * containment and overlap tests, and +1/-1 stepping for the IPAM picker. Pure: no syscalls,
 * no allocation, no state; every function is re-entrant.
 *
 * Addresses are stored in network byte order. For AF_INET only a[0..3] is meaningful; the
 * parsers and the arithmetic keep a[4..15] zero, and the comparisons ignore them anyway.
 */
#ifndef VIRGIL_CIDR_H
#define VIRGIL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "../base/compat.h"

struct ipaddr {
	uint8_t family;	/* AF_INET or AF_INET6 */
	uint8_t a[16];	/* network order */
};

struct cidr {
	struct ipaddr addr;
	uint8_t prefix;	/* ≤ 32 for AF_INET, ≤ 128 for AF_INET6 */
};

/* Buffer sizes that always suffice for the text forms, NUL included. */
#define IPADDR_STRLEN 46
#define CIDR_STRLEN 50

/*
 * Parse exactly s[0..n) (no NUL needed, nothing read past n).
 * IPv4: dotted quad, four decimal octets ≤ 255, no leading zeros ("01"), no spaces.
 * IPv6: RFC 4291 text: eight groups of 1-4 hex digits, one "::" standing for at least one
 * zero group, an optional dotted-quad tail for the last 32 bits. Zone ids ("%eth0") are
 * rejected. Returns 0 or -EINVAL; *out is written only on success.
 */
int ipaddr_parse(const char *s, size_t n, struct ipaddr *out) __must_check;

/*
 * "addr/prefix" with a required prefix in strict decimal (no sign, no leading zero), ≤ 32 or
 * ≤ 128 by family. Host bits are allowed here: callers that need a network check
 * cidr_has_host_bits(). 0 or -EINVAL.
 */
int cidr_parse(const char *s, size_t n, struct cidr *out) __must_check;

/*
 * Canonical text into out (NUL-terminated): dotted quad, or RFC 5952 for IPv6 (lowercase, no
 * leading zeros, the longest run of two or more zero groups becomes "::", the first on a tie;
 * IPv4-mapped addresses as ::ffff:a.b.c.d). Parsing the text gives the same address back.
 * Returns 0, -ENOSPC when cap is too small (out then holds ""), -EINVAL for a bad family.
 */
int ipaddr_format(const struct ipaddr *a, char *out, size_t cap) __must_check;
int cidr_format(const struct cidr *c, char *out, size_t cap) __must_check;

/* 4 for AF_INET, 16 for AF_INET6, 0 otherwise. */
size_t ipaddr_len(int family);

bool ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b);
/* Total order: by family first, then by address bytes. <0, 0 or >0 like memcmp. */
int ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b);
/* All zero (0.0.0.0 or ::). */
bool ipaddr_is_unspecified(const struct ipaddr *a);

/* Same family and the first c->prefix bits equal. */
bool cidr_contains(const struct cidr *c, const struct ipaddr *a);
/* Same family and one contains the other's network. */
bool cidr_overlaps(const struct cidr *a, const struct cidr *b);
/* Any bit after the prefix is set in c->addr. */
bool cidr_has_host_bits(const struct cidr *c);
/* The network address (host bits cleared) and the last address (host bits set). */
void cidr_first(const struct cidr *c, struct ipaddr *out);
void cidr_last(const struct cidr *c, struct ipaddr *out);

/*
 * Step the address by one within its family's space. Returns false when it wrapped around
 * (255.255.255.255 + 1 became 0.0.0.0, 0.0.0.0 - 1 became 255.255.255.255).
 */
bool ipaddr_inc(struct ipaddr *a);
bool ipaddr_dec(struct ipaddr *a);

#endif
