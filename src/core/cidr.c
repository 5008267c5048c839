// SPDX-License-Identifier: MIT
/*
 * cidr.c: address and prefix parsing, formatting and arithmetic (see cidr.h). The parsers are
 * hand-written rather than inet_pton() because inet_pton's strictness differs between libcs
 * (glibc and musl disagree on leading zeros and "::" for one group) and it needs a NUL.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "../base/util.h"
#include "cidr.h"

/* 1-3 decimal digits, no leading zero, value ≤ max. */
static int dec_parse(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int v4_parse(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0, j;
	unsigned v;
	int k;

	for (k = 0; k < 4; k++) {
		for (j = i; j < n && s[j] != '.'; j++)
			;
		if (dec_parse(s + i, j - i, 255, &v))
			return -EINVAL;
		out[k] = (uint8_t)v;
		if (k == 3)
			return j == n ? 0 : -EINVAL;
		if (j == n)
			return -EINVAL;
		i = j + 1;
	}
	return -EINVAL;
}

/* One IPv6 group: 1-4 hex digits (leading zeros are legal in RFC 4291 text). */
static int group_parse(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 4)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (unsigned)d;
	}
	*out = (uint16_t)v;
	return 0;
}

static void v6_expand(const uint16_t *w, int nw, int gap, uint8_t out[16])
{
	int i, k = 0;

	if (gap < 0)
		gap = nw;
	memset(out, 0, 16);
	for (i = 0; i < nw; i++) {
		k = i < gap ? i : i + 8 - nw;
		out[2 * k] = (uint8_t)(w[i] >> 8);
		out[2 * k + 1] = (uint8_t)w[i];
	}
}

/*
 * Groups are read left to right; "::" records where the zero run goes. The dotted tail is
 * recognised by meeting '.' before ':' and must run to the end of the input.
 */
static int v6_parse(const char *s, size_t n, uint8_t out[16])
{
	uint16_t w[8];
	int nw = 0, gap = -1;
	size_t i = 0, j;
	uint8_t q[4];

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	}
	while (i < n) {
		for (j = i; j < n && s[j] != ':' && s[j] != '.'; j++)
			;
		if (j < n && s[j] == '.') {
			if (nw > 6 || v4_parse(s + i, n - i, q))
				return -EINVAL;
			w[nw++] = (uint16_t)(q[0] << 8 | q[1]);
			w[nw++] = (uint16_t)(q[2] << 8 | q[3]);
			break;
		}
		if (nw == 8 || group_parse(s + i, j - i, &w[nw]))
			return -EINVAL;
		nw++;
		if (j == n)
			break;
		if (j + 1 < n && s[j + 1] == ':') {
			if (gap >= 0)
				return -EINVAL;
			gap = nw;
			i = j + 2;
		} else if (j + 1 == n) {
			return -EINVAL;
		} else {
			i = j + 1;
		}
	}
	/* "::" stands for one or more zero groups, so with it at most 7 are written out. */
	if (gap < 0 ? nw != 8 : nw > 7)
		return -EINVAL;
	v6_expand(w, nw, gap, out);
	return 0;
}

int ipaddr_parse(const char *s, size_t n, struct ipaddr *out)
{
	struct ipaddr a = { 0 };
	int r;

	if (!s || n == 0)
		return -EINVAL;
	if (memchr(s, ':', n)) {
		a.family = AF_INET6;
		r = v6_parse(s, n, a.a);
	} else {
		a.family = AF_INET;
		r = v4_parse(s, n, a.a);
	}
	if (r)
		return r;
	*out = a;
	return 0;
}

int cidr_parse(const char *s, size_t n, struct cidr *out)
{
	const char *slash;
	struct ipaddr a;
	unsigned p;
	size_t an;

	if (!s || n == 0)
		return -EINVAL;
	slash = memchr(s, '/', n);
	if (!slash)
		return -EINVAL;
	an = (size_t)(slash - s);
	if (ipaddr_parse(s, an, &a))
		return -EINVAL;
	if (dec_parse(slash + 1, n - an - 1, (unsigned)ipaddr_len(a.family) * 8, &p))
		return -EINVAL;
	out->addr = a;
	out->prefix = (uint8_t)p;
	return 0;
}

static char *put_dec(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *put_v4(char *p, const uint8_t *b)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = put_dec(p, b[i]);
	}
	return p;
}

static char *put_hex(char *p, unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	int shift = 12;

	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = digits[(v >> shift) & 0xf];
	return p;
}

static bool v4_mapped(const uint8_t *b)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(b, pfx, sizeof(pfx)) == 0;
}

/* Longest run of two or more zero groups, the first one on a tie; *len = 0 when none. */
static void zero_run(const uint16_t *w, int *start, int *len)
{
	int i, run = 0;

	*start = -1;
	*len = 0;
	for (i = 0; i < 8; i++) {
		run = w[i] ? 0 : run + 1;
		if (run > *len && run >= 2) {
			*len = run;
			*start = i - run + 1;
		}
	}
}

static char *put_v6(char *p, const uint8_t *b)
{
	uint16_t w[8];
	int i, zs, zn;

	if (v4_mapped(b)) {
		memcpy(p, "::ffff:", 7);
		return put_v4(p + 7, b + 12);
	}
	for (i = 0; i < 8; i++)
		w[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
	zero_run(w, &zs, &zn);
	for (i = 0; i < 8; i++) {
		if (i == zs) {
			*p++ = ':';
			*p++ = ':';
			i += zn - 1;
			continue;
		}
		if (i && i != zs + zn)
			*p++ = ':';
		p = put_hex(p, w[i]);
	}
	return p;
}

/* Copy the n bytes of tmp and a NUL, or leave "" and fail when they do not fit. */
static int emit(const char *tmp, size_t n, char *out, size_t cap)
{
	if (n + 1 > cap) {
		if (cap)
			out[0] = '\0';
		return -ENOSPC;
	}
	memcpy(out, tmp, n);
	out[n] = '\0';
	return 0;
}

static char *put_addr(char *p, const struct ipaddr *a)
{
	if (a->family == AF_INET)
		return put_v4(p, a->a);
	if (a->family == AF_INET6)
		return put_v6(p, a->a);
	return NULL;
}

int ipaddr_format(const struct ipaddr *a, char *out, size_t cap)
{
	char tmp[IPADDR_STRLEN];
	char *e = put_addr(tmp, a);

	if (!e) {
		if (cap)
			out[0] = '\0';
		return -EINVAL;
	}
	return emit(tmp, (size_t)(e - tmp), out, cap);
}

int cidr_format(const struct cidr *c, char *out, size_t cap)
{
	char tmp[CIDR_STRLEN];
	char *e = put_addr(tmp, &c->addr);

	if (!e) {
		if (cap)
			out[0] = '\0';
		return -EINVAL;
	}
	*e++ = '/';
	e = put_dec(e, c->prefix);
	return emit(tmp, (size_t)(e - tmp), out, cap);
}

size_t ipaddr_len(int family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

bool ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b)
{
	return ipaddr_cmp(a, b) == 0;
}

/* Word by word, most significant first: the policy compiler sorts and merges millions of
 * addresses per pass, and memcmp with a variable length is a call into musl every time. */
int ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	size_t i, n;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	n = ipaddr_len(a->family);
	for (i = 0; i < n; i += 4) {
		uint32_t x, y;

		memcpy(&x, a->a + i, 4);
		memcpy(&y, b->a + i, 4);
		if (x != y)
			return be32toh(x) < be32toh(y) ? -1 : 1;
	}
	return 0;
}

bool ipaddr_is_unspecified(const struct ipaddr *a)
{
	size_t i, n = ipaddr_len(a->family);

	for (i = 0; i < n; i++)
		if (a->a[i])
			return false;
	return true;
}

/* The prefix bits that fall in byte i. */
static uint8_t mask_byte(unsigned prefix, size_t i)
{
	if (prefix >= 8 * (i + 1))
		return 0xff;
	if (prefix <= 8 * i)
		return 0;
	return (uint8_t)(0xff << (8 - (prefix - 8 * i)));
}

static bool same_net(const struct ipaddr *a, const struct ipaddr *b, unsigned prefix)
{
	size_t i, n = ipaddr_len(a->family);

	if (a->family != b->family || n == 0)
		return false;
	for (i = 0; i < n; i++)
		if ((a->a[i] ^ b->a[i]) & mask_byte(prefix, i))
			return false;
	return true;
}

bool cidr_contains(const struct cidr *c, const struct ipaddr *a)
{
	return same_net(&c->addr, a, c->prefix);
}

bool cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	return same_net(&a->addr, &b->addr, MIN(a->prefix, b->prefix));
}

bool cidr_has_host_bits(const struct cidr *c)
{
	size_t i, n = ipaddr_len(c->addr.family);

	for (i = 0; i < n; i++)
		if (c->addr.a[i] & (uint8_t)~mask_byte(c->prefix, i))
			return true;
	return false;
}

void cidr_first(const struct cidr *c, struct ipaddr *out)
{
	size_t i, n = ipaddr_len(c->addr.family);

	*out = c->addr;
	for (i = 0; i < n; i++)
		out->a[i] &= mask_byte(c->prefix, i);
}

void cidr_last(const struct cidr *c, struct ipaddr *out)
{
	size_t i, n = ipaddr_len(c->addr.family);

	*out = c->addr;
	for (i = 0; i < n; i++)
		out->a[i] |= (uint8_t)~mask_byte(c->prefix, i);
}

bool ipaddr_inc(struct ipaddr *a)
{
	size_t i = ipaddr_len(a->family);

	while (i--)
		if (++a->a[i])
			return true;
	return false;
}

bool ipaddr_dec(struct ipaddr *a)
{
	size_t i = ipaddr_len(a->family);

	while (i--)
		if (a->a[i]--)
			return true;
	return false;
}
