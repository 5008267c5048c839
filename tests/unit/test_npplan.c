// SPDX-License-Identifier: MIT
/* deps: core/npplan.c core/npplan_share.c core/npplan_norm.c core/npplan_render.c core/cidr.c base/buf.c base/mem.c base/sort.c base/util.c */
/*
 * test_npplan.c: the plan's primitives and its nft renderer. Elements are written in a small
 * text form here ("r 10.0.0.0-10.0.0.9 6 80-90; x fd00::1 17 53"), parsed into elements and
 * printed back, so normalisation cases read as before/after. Cases: the element order;
 * normalisation (duplicates, nesting, partial overlaps in each dimension, adjacency, families,
 * the whole space, malformed boxes) and a randomized check against the input boxes point by
 * point, with canonicity (split or shuffled inputs normalise the same) and timings; ipBlock
 * ranges; group references; allocation failures everywhere; the render of a small plan as a
 * golden. Then, as root in a private network namespace (unshare(CLONE_NEWNET), gone with the
 * process), `nft -f` loads renders (the golden plan, and thousands of random normalised boxes,
 * which the kernel refuses if any two overlap) and `nft list ruleset` is compared with a golden.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "base/buf.h"
#include "base/mem.h"
#include "core/k8sobj.h"
#include "core/npplan.h"

static struct ipaddr A(const char *s)
{
	struct ipaddr a = { 0 };

	if (ipaddr_parse(s, strlen(s), &a))
		diag("bad test address %s", s);
	return a;
}

static struct cidr C(const char *s)
{
	struct cidr c = { 0 };

	if (cidr_parse(s, strlen(s), &c))
		diag("bad test prefix %s", s);
	return c;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- the element text form ----------------------------------------------------------------- */

static const char letters[] = "xpaqr";

/* "lo-hi" or "v" into *lo, *hi. */
static void num_range(const char *s, unsigned *lo, unsigned *hi)
{
	if (sscanf(s, "%u-%u", lo, hi) != 2)
		*hi = *lo;
}

static void addr_range(char *s, struct ipaddr *lo, struct ipaddr *hi)
{
	char *dash = strchr(s, '-');

	if (dash)
		*dash = 0;
	*lo = A(s);
	*hi = dash ? A(dash + 1) : *lo;
}

static struct npplan_elem parse_elem(char *s)
{
	struct npplan_elem e = { 0 };
	char shape, addr[100], pr[16] = "0", port[16] = "0";
	unsigned a = 0, b = 0;

	if (sscanf(s, " %c %99s %15s %15s", &shape, addr, pr, port) < 2)
		diag("bad test element %s", s);
	e.shape = (uint8_t)(strchr(letters, shape) - letters);
	addr_range(addr, &e.lo, &e.hi);
	num_range(pr, &a, &b);
	e.prlo = (uint8_t)a;
	e.prhi = (uint8_t)b;
	num_range(port, &a, &b);
	e.plo = (uint16_t)a;
	e.phi = (uint16_t)b;
	return e;
}

/* Elements separated by ';' into a new array (mem_alloc'd, the code under test frees it). */
static size_t parse_elems(const char *text, struct npplan_elem **out)
{
	char *copy = strdup(text), *save = NULL, *tok;
	size_t n = 0;

	*out = mem_alloc(256 * sizeof(**out));
	for (tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
		(*out)[n++] = parse_elem(tok);
	free(copy);
	return n;
}

static void print_range(char *out, size_t cap, const struct ipaddr *lo, const struct ipaddr *hi)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];

	if (ipaddr_format(lo, a, sizeof(a)) || ipaddr_format(hi, b, sizeof(b)))
		snprintf(a, sizeof(a), "?");
	if (ipaddr_eq(lo, hi))
		snprintf(out, cap, "%s", a);
	else
		snprintf(out, cap, "%s-%s", a, b);
}

static void print_num(char *out, size_t cap, unsigned lo, unsigned hi)
{
	if (lo == hi)
		snprintf(out, cap, "%u", lo);
	else
		snprintf(out, cap, "%u-%u", lo, hi);
}

static const char *print_elems(const struct npplan_elem *e, size_t n)
{
	static char text[1 << 14];
	size_t i, len = 0;

	text[0] = 0;
	for (i = 0; i < n && len < sizeof(text) - 200; i++) {
		char a[100], pr[16], port[16];

		print_range(a, sizeof(a), &e[i].lo, &e[i].hi);
		print_num(pr, sizeof(pr), e[i].prlo, e[i].prhi);
		print_num(port, sizeof(port), e[i].plo, e[i].phi);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%c %s", i ? "; " : "",
					e[i].shape < 5 ? letters[e[i].shape] : '?', a);
		if (e[i].shape != NPPLAN_ADDR)
			len += (size_t)snprintf(text + len, sizeof(text) - len, " %s", pr);
		if (e[i].shape == NPPLAN_EXACT || e[i].shape >= NPPLAN_PORTS)
			len += (size_t)snprintf(text + len, sizeof(text) - len, " %s", port);
	}
	return text;
}

/* ---- element order -------------------------------------------------------------------------- */

static void test_elem_cmp(void)
{
	/* ascending: shape first, then family, (PORTS: the range,) addresses, protocols, ports */
	static const char *order =
		"x 10.0.0.1 6 80; x 10.0.0.1 6 443; x 10.0.0.1 17 53; x 10.0.0.2 6 1;"
		"x ::1 6 80; p 10.0.0.1 6; p 10.0.0.1 17; a 9.255.255.255; a 10.0.0.1; a fd00::;"
		"q 10.0.0.9 6 80-90; q 10.0.0.1 17 100-110; q 10.0.0.2 6 100-110;"
		"q 10.0.0.1 6 100-120; q ::1 6 1-2;"
		"r 10.0.0.0-10.0.0.1 0-255 0-65535; r 10.0.0.0-10.0.0.2 0-255 0-65535;"
		"r 10.0.0.0-10.0.0.2 6 0-65535; r 10.0.0.0-10.0.0.2 6-17 0;"
		"r 10.0.0.0-10.0.0.2 6-17 0-1; r 10.0.0.0-10.0.0.2 6-17 1; r ::-::1 0 0";
	struct npplan_elem *e;
	size_t n = parse_elems(order, &e), i, j;
	int bad = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int c = npplan_elem_cmp(&e[i], &e[j]);
			int want = (i > j) - (i < j);

			if ((c > 0) - (c < 0) != want) {
				diag("cmp(%zu, %zu) = %d", i, j, c);
				bad++;
			}
		}
	ok(bad == 0 && n == 22, "npplan_elem_cmp: a total order, shape first");
	/* bytes past an IPv4 address do not count */
	e[1] = e[0];
	e[1].lo.a[9] = 7;
	is_int(npplan_elem_cmp(&e[0], &e[1]), 0, "IPv4: bytes 4-15 are ignored");
	mem_free(e);
}

/* ---- normalisation cases -------------------------------------------------------------------- */

static const struct {
	const char *what, *in, *want;
} norm_cases[] = {
	{ "empty", "", "" },
	{ "non-RANGE: sorted, duplicates dropped, nothing merged",
	  "a 10.0.0.1; x 10.0.0.1 6 80; a 10.0.0.1; p 10.0.0.1 6; x 10.0.0.1 6 80; x 10.0.0.0 6 80;"
	  "r 10.0.0.1 0-255 0-65535",
	  "x 10.0.0.0 6 80; x 10.0.0.1 6 80; p 10.0.0.1 6; a 10.0.0.1; r 10.0.0.1 0-255 0-65535" },
	{ "duplicate boxes", "r 10.0.0.0-10.0.0.9 6 80; r 10.0.0.0-10.0.0.9 6 80",
	  "r 10.0.0.0-10.0.0.9 6 80" },
	{ "nested in every dimension",
	  "r 10.0.0.5-10.0.0.6 6 80; r 10.0.0.0-10.0.0.255 0-255 0-65535",
	  "r 10.0.0.0-10.0.0.255 0-255 0-65535" },
	{ "nested addresses", "r 10.0.0.0-10.0.0.255 6 80; r 10.0.0.5-10.0.0.6 6 80",
	  "r 10.0.0.0-10.0.0.255 6 80" },
	{ "overlapping addresses", "r 10.0.0.0-10.0.0.10 6 80; r 10.0.0.5-10.0.0.20 6 80",
	  "r 10.0.0.0-10.0.0.20 6 80" },
	{ "overlapping ports, same addresses",
	  "r 10.0.0.0-10.0.0.9 6 80-90; r 10.0.0.0-10.0.0.9 6 85-100",
	  "r 10.0.0.0-10.0.0.9 6 80-100" },
	{ "overlapping ports and addresses",
	  "r 10.0.0.0-10.0.0.9 6 80-90; r 10.0.0.5-10.0.0.20 6 85-100",
	  "r 10.0.0.0-10.0.0.9 6 80-84; r 10.0.0.0-10.0.0.20 6 85-90;"
	  " r 10.0.0.5-10.0.0.20 6 91-100" },
	{ "overlapping protocols, same addresses",
	  "r 10.0.0.0-10.0.0.9 6-17 80; r 10.0.0.0-10.0.0.9 10-20 80",
	  "r 10.0.0.0-10.0.0.9 6-20 80" },
	{ "overlapping protocols and addresses",
	  "r 10.0.0.0-10.0.0.9 6-17 80; r 10.0.0.5-10.0.0.20 10-20 80",
	  "r 10.0.0.0-10.0.0.9 6-9 80; r 10.0.0.0-10.0.0.20 10-17 80;"
	  " r 10.0.0.5-10.0.0.20 18-20 80" },
	{ "overlapping protocols, disjoint addresses: untouched",
	  "r 10.0.0.0-10.0.0.9 6-17 80; r 10.0.0.20-10.0.0.29 10-20 80",
	  "r 10.0.0.0-10.0.0.9 6-17 80; r 10.0.0.20-10.0.0.29 10-20 80" },
	{ "an any-port range cut by a port stays one element",
	  "r 10.0.0.0-10.0.0.255 6 0-65535; r 10.1.0.0-10.1.0.255 6 80;"
	  " r 10.1.0.0-10.1.0.255 17 53",
	  "r 10.0.0.0-10.0.0.255 6 0-65535; r 10.1.0.0-10.1.0.255 6 80;"
	  " r 10.1.0.0-10.1.0.255 17 53" },
	{ "overlap in all three dimensions",
	  "r 10.0.0.0-10.0.0.9 6-17 80-90; r 10.0.0.5-10.0.0.15 10-20 85-95",
	  "r 10.0.0.0-10.0.0.9 6-9 80-90; r 10.0.0.0-10.0.0.9 10-17 80-84;"
	  " r 10.0.0.0-10.0.0.15 10-17 85-90; r 10.0.0.5-10.0.0.15 10-17 91-95;"
	  " r 10.0.0.5-10.0.0.15 18-20 85-95" },
	{ "adjacent addresses merge", "r 10.0.0.128-10.0.0.255 6 80; r 10.0.0.0-10.0.0.127 6 80",
	  "r 10.0.0.0-10.0.0.255 6 80" },
	{ "adjacent ports merge", "r 10.0.0.0-10.0.0.9 6 90-99; r 10.0.0.0-10.0.0.9 6 80-89",
	  "r 10.0.0.0-10.0.0.9 6 80-99" },
	{ "adjacent protocols merge",
	  "r 10.0.0.0-10.0.0.9 6-255 0-65535; r 10.0.0.0-10.0.0.9 0-5 0-65535",
	  "r 10.0.0.0-10.0.0.9 0-255 0-65535" },
	{ "gaps do not merge",
	  "r 10.0.0.0-10.0.0.9 6 80; r 10.0.0.11 6 80; r 10.0.0.0-10.0.0.9 6 82",
	  "r 10.0.0.0-10.0.0.9 6 80; r 10.0.0.0-10.0.0.9 6 82; r 10.0.0.11 6 80" },
	{ "split pieces merge back",
	  "r 10.0.0.0-10.0.0.4 6 80-84; r 10.0.0.5-10.0.0.9 6 80-84; r 10.0.0.0-10.0.0.9 6 85-90",
	  "r 10.0.0.0-10.0.0.9 6 80-90" },
	{ "families are independent",
	  "r fd00::-fd00::ff 6 80; r 10.0.0.0-10.0.0.9 6 80; r fd00::80-fd00::1ff 6 80;"
	  " r 10.0.0.5-10.0.0.20 6 80",
	  "r 10.0.0.0-10.0.0.20 6 80; r fd00::-fd00::1ff 6 80" },
	{ "the whole space swallows the rest",
	  "r 10.0.0.0-10.0.0.9 6 80; r 0.0.0.0-255.255.255.255 0-255 0-65535; r 1.2.3.4 17 53",
	  "r 0.0.0.0-255.255.255.255 0-255 0-65535" },
	{ "the top of every field",
	  "r 255.255.255.0-255.255.255.255 255 65535; r 255.255.255.255 254-255 65534-65535",
	  "r 255.255.255.0-255.255.255.255 255 65535; r 255.255.255.255 254 65534-65535;"
	  " r 255.255.255.255 255 65534" },
	{ "whole IPv6 space",
	  "r ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 0-255 0-65535; r ::1 6 22",
	  "r ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 0-255 0-65535" },
	{ "malformed boxes cover nothing",
	  "r 10.0.0.9-10.0.0.0 6 80; r 10.0.0.0 17-6 80; r 10.0.0.0 6 90-80; r 10.0.0.1 6 80;"
	  " r 10.0.0.1-::1 6 80",
	  "r 10.0.0.1 6 80" },
};

static void test_normalize_cases(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(norm_cases); i++) {
		struct npplan_elem *e;
		size_t n = parse_elems(norm_cases[i].in, &e);
		int r = npplan_normalize(&e, &n);

		if (r)
			diag("%s: %d", norm_cases[i].what, r);
		is_str(print_elems(e, n), norm_cases[i].want, norm_cases[i].what);
		mem_free(e);
	}
	{
		struct npplan_elem *e;
		size_t n = parse_elems("a 10.0.0.1; a 10.0.0.2; x 10.0.0.3 6 80", &e);
		int r;

		e[0].shape = NPPLAN_NSHAPES;
		e[2].lo.family = e[2].hi.family = 0;
		r = npplan_normalize(&e, &n);
		is_str(r ? "failed" : print_elems(e, n), "a 10.0.0.2",
		       "unknown shapes and families are dropped");
		mem_free(e);
	}
}

/* ---- normalisation against the input, point by point ------------------------------------- */

static uint64_t seed = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed >> 11) % n;
}

/* 10.0.0.i or fd00::i: the small address space of the random boxes. */
static struct ipaddr small_addr(int family, unsigned i)
{
	struct ipaddr a = A(family == AF_INET ? "10.0.0.0" : "fd00::");

	a.a[ipaddr_len(family) - 1] = (uint8_t)i;
	return a;
}

static struct ipaddr top_addr(int family)
{
	struct ipaddr a = { .family = (uint8_t)family };

	memset(a.a, 0xff, ipaddr_len(family));
	return a;
}

/* lo <= hi below n, or (one time in eight) the whole field */
static void rand_span(unsigned n, unsigned top, unsigned *lo, unsigned *hi)
{
	if (rnd(8) == 0) {
		*lo = 0;
		*hi = top;
		return;
	}
	*lo = rnd(n);
	*hi = *lo + rnd(n - *lo);
}

static struct npplan_elem rand_box(void)
{
	int family = rnd(4) ? AF_INET : AF_INET6;
	struct npplan_elem e = { .shape = NPPLAN_RANGE };
	unsigned lo, hi;

	rand_span(32, 1000, &lo, &hi);
	e.lo = small_addr(family, lo);
	e.hi = hi == 1000 ? top_addr(family) : small_addr(family, hi);
	if (hi == 1000)
		memset(e.lo.a, 0, sizeof(e.lo.a));
	rand_span(8, 255, &lo, &hi);
	e.prlo = (uint8_t)lo;
	e.prhi = (uint8_t)hi;
	rand_span(16, 65535, &lo, &hi);
	e.plo = (uint16_t)lo;
	e.phi = (uint16_t)hi;
	return e;
}

static bool covers(const struct npplan_elem *e, const struct ipaddr *a, unsigned pr, unsigned port)
{
	return e->lo.family == a->family && ipaddr_cmp(&e->lo, a) <= 0 &&
	       ipaddr_cmp(a, &e->hi) <= 0 && e->prlo <= pr && pr <= e->prhi && e->plo <= port &&
	       port <= e->phi;
}

static unsigned count_covers(const struct npplan_elem *e, size_t n, const struct ipaddr *a,
			     unsigned pr, unsigned port)
{
	unsigned c = 0;

	for (size_t i = 0; i < n; i++)
		c += covers(&e[i], a, pr, port);
	return c;
}

static bool overlap(const struct npplan_elem *x, const struct npplan_elem *y)
{
	return x->lo.family == y->lo.family && ipaddr_cmp(&x->lo, &y->hi) <= 0 &&
	       ipaddr_cmp(&y->lo, &x->hi) <= 0 && x->prlo <= y->prhi && y->prlo <= x->prhi &&
	       x->plo <= y->phi && y->plo <= x->phi;
}

static int pairwise_overlaps(const struct npplan_elem *e, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			bad += overlap(&e[i], &e[j]);
	return bad;
}

/* A probe point must be covered by the output exactly once if the input covers it, else never. */
static int point_error(const struct npplan_elem *in, size_t nin, const struct npplan_elem *out,
		       size_t nout, const struct ipaddr *a, unsigned pr, unsigned port)
{
	unsigned want = count_covers(in, nin, a, pr, port) > 0;

	return count_covers(out, nout, a, pr, port) != want;
}

/* The probe points: the small space, its edges and the tops of the fields, both families. */
static int point_errors(const struct npplan_elem *in, size_t nin, const struct npplan_elem *out,
			size_t nout)
{
	static const unsigned prs[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 254, 255 };
	static const unsigned ports[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					  65534, 65535 };
	int bad = 0;

	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;

		for (unsigned ai = 0; ai < 36; ai++) {
			struct ipaddr a = ai < 33 ? small_addr(family, ai) : top_addr(family);

			if (ai == 34)
				memset(a.a, 0, sizeof(a.a));
			if (ai == 35)
				a.a[0] = 0x0a;
			for (size_t p = 0; p < ARRAY_SIZE(prs); p++)
				for (size_t q = 0; q < ARRAY_SIZE(ports); q++)
					bad += point_error(in, nin, out, nout, &a, prs[p],
							   ports[q]);
		}
	}
	return bad;
}

/* A random box of v cut in two along a random field, the halves appended to v. */
static size_t split_one(struct npplan_elem *v, size_t n)
{
	size_t i = rnd((uint32_t)n);
	struct npplan_elem a = v[i], b = v[i];

	if (a.plo < a.phi) {
		a.phi = (uint16_t)(a.plo + rnd((unsigned)(a.phi - a.plo)));
		b.plo = (uint16_t)(a.phi + 1);
	} else if (a.prlo < a.prhi) {
		a.prhi = (uint8_t)(a.prlo + rnd((unsigned)(a.prhi - a.prlo)));
		b.prlo = (uint8_t)(a.prhi + 1);
	} else if (ipaddr_cmp(&a.lo, &a.hi) < 0) {
		a.hi = a.lo;
		b.lo = a.lo;
		ipaddr_inc(&b.lo);
	} else {
		return n;
	}
	v[i] = a;
	v[n] = b;
	return n + 1;
}

static void shuffle(struct npplan_elem *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd((uint32_t)i);
		struct npplan_elem t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

static void test_normalize_random(void)
{
	int cover = 0, disjoint = 0, idem = 0, canon = 0, fails = 0;
	size_t max = 0;

	for (int round = 0; round < 300; round++) {
		size_t n = 1 + rnd(40), m, k;
		struct npplan_elem *in = mem_alloc(n * sizeof(*in)), *out, *again, *alt;
		char *text;

		for (size_t i = 0; i < n; i++)
			in[i] = rand_box();
		out = mem_alloc(n * sizeof(*out));
		memcpy(out, in, n * sizeof(*in));
		m = n;
		fails += npplan_normalize(&out, &m) != 0;
		max = m > max ? m : max;
		cover += point_errors(in, n, out, m);
		disjoint += pairwise_overlaps(out, m);
		text = strdup(print_elems(out, m));
		again = mem_alloc(m * sizeof(*again) + 1);
		memcpy(again, out, m * sizeof(*out));
		k = m;
		fails += npplan_normalize(&again, &k) != 0;
		idem += strcmp(text, print_elems(again, k)) != 0;
		/* the same union, cut differently and shuffled */
		alt = mem_alloc(3 * n * sizeof(*alt));
		memcpy(alt, in, n * sizeof(*in));
		k = n;
		for (size_t j = 0; j < n; j++)
			k = split_one(alt, k);
		shuffle(alt, k);
		fails += npplan_normalize(&alt, &k) != 0;
		canon += strcmp(text, print_elems(alt, k)) != 0;
		free(text);
		mem_free(in);
		mem_free(out);
		mem_free(again);
		mem_free(alt);
	}
	diag("random: up to %zu disjoint boxes", max);
	is_int(fails, 0, "random boxes: normalise");
	is_int(cover, 0, "random boxes: each point covered once iff some input box covers it");
	is_int(disjoint, 0, "random boxes: output pairwise disjoint");
	is_int(idem, 0, "random boxes: normalising again changes nothing");
	is_int(canon, 0, "random boxes: the same union cut differently gives the same elements");
}

/* Realistic: ipBlock-like ranges in 10/8 over a few ports and protocols. */
static size_t realistic(struct npplan_elem *v, size_t n)
{
	static const uint16_t plo[] = { 0, 80, 443, 8080, 53, 5432, 9000, 30000, 22, 6379 };
	static const uint16_t phi[] = { 65535, 80, 443, 8090, 53, 5432, 9100, 32767, 22, 6379 };
	static const uint8_t prlo[] = { 6, 17, 6, 132 }, prhi[] = { 6, 17, 6, 132 };

	for (size_t i = 0; i < n; i++) {
		struct npplan_elem *e = &v[i];
		unsigned len = 12 + rnd(21), p = rnd(ARRAY_SIZE(plo)), q = rnd(ARRAY_SIZE(prlo));
		uint32_t base = 0x0a000000u | (rnd(1u << 24) & ~((1u << (32 - len)) - 1));
		uint32_t top = base | ((1u << (32 - len)) - 1);

		memset(e, 0, sizeof(*e));
		e->shape = NPPLAN_RANGE;
		e->lo.family = e->hi.family = AF_INET;
		for (int b = 0; b < 4; b++) {
			e->lo.a[b] = (uint8_t)(base >> (24 - 8 * b));
			e->hi.a[b] = (uint8_t)(top >> (24 - 8 * b));
		}
		e->prlo = prlo[q];
		e->prhi = prhi[q];
		e->plo = plo[p];
		e->phi = phi[p];
	}
	return n;
}

/* The IPv4 box e moved into fd00::/96. */
static void to_v6(struct npplan_elem *e)
{
	struct ipaddr *a[2] = { &e->lo, &e->hi };

	for (int i = 0; i < 2; i++) {
		uint8_t v4[4];

		memcpy(v4, a[i]->a, 4);
		*a[i] = A("fd00::");
		memcpy(a[i]->a + 12, v4, 4);
	}
}

/* Many /32 peers each on its own port: as many cells as boxes. */
static size_t scattered(struct npplan_elem *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].shape = NPPLAN_RANGE;
		v[i].lo = small_addr(AF_INET, 0);
		v[i].lo.a[2] = (uint8_t)rnd(256);
		v[i].lo.a[3] = (uint8_t)rnd(256);
		v[i].hi = v[i].lo;
		v[i].prlo = v[i].prhi = 6;
		v[i].plo = v[i].phi = (uint16_t)(1 + rnd(60000));
	}
	return n;
}

/*
 * Hostile: half any-port /24s, half /32s each on its own port, all tied into one address
 * run by a whole-space box on one port, so thousands of port boundaries cross thousands of
 * live boxes. A per-boundary union of the live boxes would be quadratic here.
 */
static size_t tangled(struct npplan_elem *v, size_t n)
{
	scattered(v, n);
	for (size_t i = 0; i < n; i++)
		v[i].lo.a[1] = v[i].hi.a[1] = (uint8_t)rnd(256);
	for (size_t i = 1; i < n; i += 2) {
		v[i].lo.a[3] = 0;
		v[i].hi = v[i].lo;
		v[i].hi.a[3] = 255;
		v[i].plo = 0;
		v[i].phi = 65535;
	}
	memset(v[0].lo.a, 0, 4);
	memset(v[0].hi.a, 0xff, 4);
	v[0].plo = v[0].phi = 0;
	return n;
}

/* The same, the whole-space box on every port: everything is one element. */
static size_t swallowed(struct npplan_elem *v, size_t n)
{
	tangled(v, n);
	v[0].phi = 65535;
	return n;
}

static void test_normalize_speed(void)
{
	static const struct {
		const char *what;
		size_t (*mk)(struct npplan_elem *v, size_t n);
	} kinds[] = {
		{ "ipBlock ranges x ports", realistic },
		{ "scattered /32 x port", scattered },
		{ "tangled", tangled },
		{ "swallowed", swallowed },
	};

	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t n = 10000, m = n;
		struct npplan_elem *v = mem_alloc(n * sizeof(*v)), *in = mem_alloc(n * sizeof(*v));
		double t0, ms;
		int r;

		kinds[k].mk(in, n);
		memcpy(v, in, n * sizeof(*v));
		t0 = now_ms();
		r = npplan_normalize(&v, &m);
		ms = now_ms() - t0;
		diag("%s: %zu boxes -> %zu disjoint in %.2f ms (ASan build)", kinds[k].what, n, m,
		     ms);
		is_int(r, 0, "10,000 boxes normalise");
		/* the release build (-Os, no sanitizers) is about three times faster */
		ok(ms < 150, "10,000 boxes in under 150 ms under ASan");
		mem_free(v);
		mem_free(in);
	}
}

/* ---- ipBlock ranges ----------------------------------------------------------------------- */

static const struct {
	const char *cidr, *except, *want;
} ipb_cases[] = {
	{ "10.0.0.0/24", "", "10.0.0.0-10.0.0.255" },
	{ "10.0.0.0/24", "10.0.0.0/25", "10.0.0.128-10.0.0.255" },
	{ "10.0.0.0/24", "10.0.0.128/25", "10.0.0.0-10.0.0.127" },
	{ "10.0.0.0/24", "10.0.0.64/26", "10.0.0.0-10.0.0.63, 10.0.0.128-10.0.0.255" },
	{ "10.0.0.0/24", "10.0.0.96/27 10.0.0.64/26 10.0.0.64/27 10.0.0.0/28",
	  "10.0.0.16-10.0.0.63, 10.0.0.128-10.0.0.255" },
	{ "10.0.0.0/24", "10.0.0.200/32 10.0.0.10/31 10.0.0.12/31",
	  "10.0.0.0-10.0.0.9, 10.0.0.14-10.0.0.199, 10.0.0.201-10.0.0.255" },
	{ "10.0.0.0/24", "10.0.0.0/24", "" },
	{ "10.0.0.0/24", "10.0.0.0/8", "" },
	{ "10.0.0.0/24", "192.168.0.0/16 10.0.1.0/24 fd00::/8 0.0.0.0/32", "10.0.0.0-10.0.0.255" },
	{ "10.0.0.7/32", "10.0.0.7/32", "" },
	{ "10.0.0.7/32", "", "10.0.0.7" },
	{ "0.0.0.0/0", "10.0.0.0/8", "0.0.0.0-9.255.255.255, 11.0.0.0-255.255.255.255" },
	{ "0.0.0.0/0", "0.0.0.0/1 255.255.255.255/32", "128.0.0.0-255.255.255.254" },
	{ "fd00::/64", "fd00::/65", "fd00::8000:0:0:0-fd00::ffff:ffff:ffff:ffff" },
	{ "::/0", "::/1 ffff::/16", "8000::-fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "fd00::/120", "fd00::10/124 10.0.0.0/8", "fd00::-fd00::f, fd00::20-fd00::ff" },
};

static const char *print_ranges(struct ipaddr (*v)[2], size_t from, size_t n)
{
	static char text[1024];
	size_t len = 0;

	text[0] = 0;
	for (size_t i = from; i < n; i++) {
		char r[100];

		print_range(r, sizeof(r), &v[i][0], &v[i][1]);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
					i > from ? ", " : "", r);
	}
	return text;
}

static void ipblock_of(size_t i, struct k8sobj_ipblock *b, struct cidr *ex)
{
	char copy[256], *save = NULL, *tok;

	b->cidr = C(ipb_cases[i].cidr);
	b->except = ex;
	b->nexcept = 0;
	snprintf(copy, sizeof(copy), "%s", ipb_cases[i].except);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		ex[b->nexcept++] = C(tok);
}

static void test_ipblock(void)
{
	struct ipaddr (*v)[2] = NULL;
	size_t n = 0, cap = 0, before;
	struct k8sobj_ipblock b;
	struct cidr ex[8];

	for (size_t i = 0; i < ARRAY_SIZE(ipb_cases); i++) {
		char what[160];

		ipblock_of(i, &b, ex);
		before = n;
		snprintf(what, sizeof(what), "%s except [%s]", ipb_cases[i].cidr,
			 ipb_cases[i].except);
		if (npplan_ipblock_ranges(&b, &v, &n, &cap))
			diag("%s: failed", what);
		/* each case appends to what the previous ones left */
		is_str(print_ranges(v, before, n), ipb_cases[i].want, what);
	}
	ok(n == 19 && cap >= n, "ranges accumulate in one array");
	mem_free(v);
}

/* ---- groups and plans --------------------------------------------------------------------- */

static struct npplan_group *group_of(const char *name, enum npplan_dir dir, const char *elems)
{
	struct npplan_group *g = npplan_group_new(name, dir);

	if (elems && !strcmp(elems, "all"))
		g->allow_all = true;
	else if (elems && *elems)
		g->nelems = parse_elems(elems, &g->elems);
	if (npplan_normalize(&g->elems, &g->nelems))
		diag("normalize failed for %s", name);
	return g;
}

/* p: e, a, b, c by name; e, a and b hold the same set (e for egress), c another. */
static void test_share(const struct npplan *p)
{
	struct npplan_shares sh;
	unsigned long nth, calls;
	int bad = 0, r;

	is_int(npplan_share(p, &sh), 0, "share: computed");
	ok(sh.nsets == 2 && sh.first[4] == 4, "share: two kernel sets for four groups");
	is_str(sh.nsets ? sh.sets[0].name : "", "eg-00000000000000e5-x4",
	       "share: named after the first group holding it (either direction)");
	ok(sh.nsets == 2 && sh.sets[0].g == p->groups[0] && sh.ref[0] == 0 && sh.ref[1] == 0 &&
	   sh.ref[2] == 0 && sh.ref[3] == 1, "share: a and b name e's set, c its own");
	is_str(sh.nsets == 2 ? sh.sets[1].name : "", "in-00000000000000c3-x4", "share: c's set");
	npplan_shares_free(&sh);
	is_int(npplan_share(p, &sh), 0, "share: again, from the groups' caches");
	ok(sh.nsets == 2 && sh.ref[2] == 0, "share: the same answer");
	npplan_shares_free(&sh);
	for (nth = 1;; nth++) {
		for (size_t i = 0; i < p->ngroups; i++)
			npplan_group_cache_free(p->groups[i]);
		fault_reset(nth);
		r = npplan_share(p, &sh);
		calls = fault_reset(0);
		bad += r ? r != -ENOMEM || sh.sets || sh.nsets : sh.nsets != 2;
		npplan_shares_free(&sh);
		if (calls < nth)
			break;
	}
	ok(bad == 0 && nth > 3, "share: every allocation failure: -ENOMEM, nothing kept");
}

static void test_groups(void)
{
	struct npplan_group *a = group_of("in-00000000000000a1", NPPLAN_IN, "x 10.0.0.1 6 80");
	struct npplan_group *b = group_of("in-00000000000000b2", NPPLAN_IN, "x 10.0.0.1 6 80");
	struct npplan_group *c = group_of("in-00000000000000c3", NPPLAN_IN, "x 10.0.0.1 6 81");
	struct npplan_group *d = group_of("in-00000000000000d4", NPPLAN_IN, "all");
	struct npplan_group *e = group_of("eg-00000000000000e5", NPPLAN_EG, "x 10.0.0.1 6 80");
	struct npplan_group *f = group_of("in-00000000000000f6", NPPLAN_IN, "");
	struct npplan p = { 0 }, q = { 0 };

	is_str(a->name, "in-00000000000000a1", "new: name");
	ok(a->refs == 1 && a->dir == NPPLAN_IN && !a->allow_all, "new: one reference, direction");
	ok(npplan_group_same(a, b), "same elements: same");
	ok(npplan_group_same(a, a), "a group is the same as itself");
	ok(!npplan_group_same(a, c), "a different element: not the same");
	ok(!npplan_group_same(a, f) && !npplan_group_same(f, a), "a missing element: not the same");
	ok(!npplan_group_same(f, d), "allow_all differs: not the same");
	ok(!npplan_group_same(a, e), "the other direction: not the same");
	b->elems[0].lo.a[12] = 9; /* past an IPv4 address */
	ok(npplan_group_same(a, b), "bytes outside the address do not count");

	ok(npplan_group_ref(a) == a && a->refs == 2, "ref counts up");
	npplan_group_unref(a);
	is_int(a->refs, 1, "unref counts down");
	ok(npplan_group_ref(NULL) == NULL, "ref(NULL) is NULL");
	npplan_group_unref(NULL);

	/* two plans share groups; each free drops its references */
	p.groups = mem_alloc(4 * sizeof(*p.groups));
	p.groups[0] = e;
	p.groups[1] = a;
	p.groups[2] = b;
	p.groups[3] = c;
	p.ngroups = 4;
	q.groups = mem_alloc(2 * sizeof(*q.groups));
	q.groups[0] = npplan_group_ref(a);
	q.groups[1] = d;
	q.ngroups = 2;
	p.problems = mem_calloc(1, sizeof(*p.problems));
	p.problems[0].policy = mem_strndup("ns/p", 4);
	p.problems[0].why = mem_strndup("bad", 3);
	p.nproblems = 1;
	p.src_cidrs = mem_alloc(sizeof(struct cidr));
	p.nsrc = 1;
	p.disp = mem_calloc(1, sizeof(*p.disp));
	p.ndisp = 1;

	ok(npplan_group_find(&p, "in-00000000000000b2") == b, "find: middle");
	ok(npplan_group_find(&p, "eg-00000000000000e5") == e, "find: first");
	ok(npplan_group_find(&p, "in-00000000000000c3") == c, "find: last");
	ok(!npplan_group_find(&p, "in-00000000000000a0"), "find: absent");
	ok(!npplan_group_find(&p, "zz"), "find: past the end");
	ok(!npplan_group_find(&q, "") && !npplan_group_find(&(struct npplan){ 0 }, "x"),
	   "find: empty name, empty plan");
	test_share(&p);

	npplan_free(&p);
	ok(!p.groups && !p.ngroups && !p.problems && !p.src_cidrs && !p.disp,
	   "free zeroes the plan");
	is_int(a->refs, 1, "a shared group survives the other plan's free");
	npplan_free(&q);
	npplan_free(&q);
	npplan_free(NULL);
	npplan_group_unref(f);
	ok(1, "free: twice, NULL (ASan checks the leaks)");
}

/* ---- the golden plan and its render -------------------------------------------------------- */

static void golden_plan(struct npplan *p)
{
	static const char *src[] = { "10.244.1.0/24", "fd00:244:1::/64" };
	static const char *cluster[] = { "10.244.0.0/16", "10.244.1.0/24", "10.96.0.0/12",
					 "fd00:244::/48", "10.97.0.1/32" };
	static const struct {
		const char *addr;
		enum npplan_dir dir;
		size_t group;
	} disp[] = {
		{ "10.244.1.5", NPPLAN_IN, 2 },
		{ "fd00:244:1::5", NPPLAN_IN, 2 },
		{ "10.244.1.5", NPPLAN_EG, 0 },
		{ "10.244.1.6", NPPLAN_EG, 1 },
	};

	memset(p, 0, sizeof(*p));
	p->groups = mem_alloc(3 * sizeof(*p->groups));
	p->groups[0] = group_of("eg-00000000000000aa", NPPLAN_EG,
				"x fd00:96::a 17 53; a 10.96.0.10;"
				"r 0.0.0.0-9.255.255.255 0-255 0-65535;"
				"r 11.0.0.0-255.255.255.255 0-255 0-65535");
	p->groups[1] = group_of("eg-ffffffffffffffff", NPPLAN_EG, "all");
	p->groups[2] = group_of("in-0123456789abcdef", NPPLAN_IN,
				"x 10.0.0.1 6 80; x 10.0.0.1 132 9; x fd00::1 17 53; p 10.0.0.2 17;"
				"a 10.0.0.3; a 10.0.0.4; q 10.0.0.5 6 8000-8080; q 10.0.0.6 17 8000-8080;"
				"q 10.0.0.5 132 100-200; q fd00::5 6 9000-9001;"
				"r 10.1.0.0-10.1.0.255 0-255 0-65535;"
				"r 10.2.0.0-10.2.0.9 6 8000-8080; r 10.2.0.0-10.2.0.9 17 53;"
				"r fd00:1::-fd00:1::ffff 6 443");
	p->ngroups = 3;
	p->disp = mem_calloc(ARRAY_SIZE(disp), sizeof(*p->disp));
	for (size_t i = 0; i < ARRAY_SIZE(disp); i++) {
		p->disp[i].addr = A(disp[i].addr);
		p->disp[i].dir = (uint8_t)disp[i].dir;
		p->disp[i].group = disp[i].group;
	}
	p->ndisp = ARRAY_SIZE(disp);
	p->masquerade = true;
	p->src_cidrs = mem_alloc(ARRAY_SIZE(src) * sizeof(struct cidr));
	for (size_t i = 0; i < ARRAY_SIZE(src); i++)
		p->src_cidrs[i] = C(src[i]);
	p->nsrc = ARRAY_SIZE(src);
	p->cluster_cidrs = mem_alloc(ARRAY_SIZE(cluster) * sizeof(struct cidr));
	for (size_t i = 0; i < ARRAY_SIZE(cluster); i++)
		p->cluster_cidrs[i] = C(cluster[i]);
	p->ncluster = ARRAY_SIZE(cluster);
}

static const char golden_render[] =
	"table inet virgil {\n"
	"\tmap ing4 {\n"
	"\t\ttype ipv4_addr : verdict\n"
	"\t\telements = { 10.244.1.5 : goto in-0123456789abcdef }\n"
	"\t}\n"
	"\n"
	"\tmap ing6 {\n"
	"\t\ttype ipv6_addr : verdict\n"
	"\t\telements = { fd00:244:1::5 : goto in-0123456789abcdef }\n"
	"\t}\n"
	"\n"
	"\tmap egr4 {\n"
	"\t\ttype ipv4_addr : verdict\n"
	"\t\telements = { 10.244.1.5 : jump eg-00000000000000aa,\n"
	"\t\t\t     10.244.1.6 : jump eg-ffffffffffffffff }\n"
	"\t}\n"
	"\n"
	"\tmap egr6 {\n"
	"\t\ttype ipv6_addr : verdict\n"
	"\t}\n"
	"\n"
	"\tset masq-src4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { 10.244.1.0/24 }\n"
	"\t}\n"
	"\n"
	"\tset masq-src6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { fd00:244:1::/64 }\n"
	"\t}\n"
	"\n"
	"\tset cluster4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { 10.96.0.0/12,\n"
	"\t\t\t     10.244.0.0/16 }\n"
	"\t}\n"
	"\n"
	"\tset cluster6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { fd00:244::/48 }\n"
	"\t}\n"
	"\n"
	"\tset self4 {\n"
	"\t\ttype ipv4_addr . ipv4_addr\n"
	"\t\telements = { 10.244.1.5 . 10.244.1.5,\n"
	"\t\t\t     10.244.1.6 . 10.244.1.6 }\n"
	"\t}\n"
	"\n"
	"\tset self6 {\n"
	"\t\ttype ipv6_addr . ipv6_addr\n"
	"\t\telements = { fd00:244:1::5 . fd00:244:1::5 }\n"
	"\t}\n"
	"\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tip saddr . ip daddr @self4 accept\n"
	"\t\tip6 saddr . ip6 daddr @self6 accept\n"
	"\t\tip saddr vmap @egr4\n"
	"\t\tip6 saddr vmap @egr6\n"
	"\t\tip daddr vmap @ing4\n"
	"\t\tip6 daddr vmap @ing6\n"
	"\t}\n"
	"\n"
	"\tchain postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\tip saddr @masq-src4 ip daddr != @cluster4 masquerade\n"
	"\t\tip6 saddr @masq-src6 ip6 daddr != @cluster6 masquerade\n"
	"\t}\n"
	"\n"
	"\tset eg-00000000000000aa-a4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\telements = { 10.96.0.10 }\n"
	"\t}\n"
	"\n"
	"\tset eg-00000000000000aa-r4 {\n"
	"\t\ttype ipv4_addr . inet_proto . inet_service\n"
	"\t\tflags interval\n"
	"\t\telements = { 0.0.0.0-9.255.255.255 . 0-255 . 0-65535,\n"
	"\t\t\t     11.0.0.0-255.255.255.255 . 0-255 . 0-65535 }\n"
	"\t}\n"
	"\n"
	"\tset eg-00000000000000aa-x6 {\n"
	"\t\ttype ipv6_addr . inet_proto . inet_service\n"
	"\t\telements = { fd00:96::a . udp . 53 }\n"
	"\t}\n"
	"\n"
	"\tchain eg-00000000000000aa {\n"
	"\t\tip daddr @eg-00000000000000aa-a4 return\n"
	"\t\tip daddr . meta l4proto . th dport @eg-00000000000000aa-r4 return\n"
	"\t\tip6 daddr . meta l4proto . th dport @eg-00000000000000aa-x6 return\n"
	"\t\tmeta l4proto tcp reject with tcp reset\n"
	"\t\treject with icmpx admin-prohibited\n"
	"\t}\n"
	"\n"
	"\tchain eg-ffffffffffffffff {\n"
	"\t\treturn\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-x4 {\n"
	"\t\ttype ipv4_addr . inet_proto . inet_service\n"
	"\t\telements = { 10.0.0.1 . tcp . 80,\n"
	"\t\t\t     10.0.0.1 . sctp . 9 }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-p4 {\n"
	"\t\ttype ipv4_addr . inet_proto\n"
	"\t\telements = { 10.0.0.2 . udp }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-a4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\telements = { 10.0.0.3,\n"
	"\t\t\t     10.0.0.4 }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-q4-100-200 {\n"
	"\t\ttype ipv4_addr . inet_proto\n"
	"\t\telements = { 10.0.0.5 . sctp }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-q4-8000-8080 {\n"
	"\t\ttype ipv4_addr . inet_proto\n"
	"\t\telements = { 10.0.0.5 . tcp,\n"
	"\t\t\t     10.0.0.6 . udp }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-r4 {\n"
	"\t\ttype ipv4_addr . inet_proto . inet_service\n"
	"\t\tflags interval\n"
	"\t\telements = { 10.1.0.0-10.1.0.255 . 0-255 . 0-65535,\n"
	"\t\t\t     10.2.0.0-10.2.0.9 . tcp . 8000-8080,\n"
	"\t\t\t     10.2.0.0-10.2.0.9 . udp . 53 }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-x6 {\n"
	"\t\ttype ipv6_addr . inet_proto . inet_service\n"
	"\t\telements = { fd00::1 . udp . 53 }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-q6-9000-9001 {\n"
	"\t\ttype ipv6_addr . inet_proto\n"
	"\t\telements = { fd00::5 . tcp }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-r6 {\n"
	"\t\ttype ipv6_addr . inet_proto . inet_service\n"
	"\t\tflags interval\n"
	"\t\telements = { fd00:1::-fd00:1::ffff . tcp . 443 }\n"
	"\t}\n"
	"\n"
	"\tchain in-0123456789abcdef {\n"
	"\t\tip saddr . meta l4proto . th dport @in-0123456789abcdef-x4 accept\n"
	"\t\tip saddr . meta l4proto @in-0123456789abcdef-p4 accept\n"
	"\t\tip saddr @in-0123456789abcdef-a4 accept\n"
	"\t\tip saddr . meta l4proto @in-0123456789abcdef-q4-100-200 th dport 100-200 accept\n"
	"\t\tip saddr . meta l4proto @in-0123456789abcdef-q4-8000-8080 th dport 8000-8080 accept\n"
	"\t\tip saddr . meta l4proto . th dport @in-0123456789abcdef-r4 accept\n"
	"\t\tip6 saddr . meta l4proto . th dport @in-0123456789abcdef-x6 accept\n"
	"\t\tip6 saddr . meta l4proto @in-0123456789abcdef-q6-9000-9001 th dport 9000-9001 accept\n"
	"\t\tip6 saddr . meta l4proto . th dport @in-0123456789abcdef-r6 accept\n"
	"\t\tmeta l4proto tcp reject with tcp reset\n"
	"\t\treject with icmpx admin-prohibited\n"
	"\t}\n"
	"}\n";

static void test_render(void)
{
	struct buf b = BUF_INIT;
	struct npplan p;

	golden_plan(&p);
	is_int(npplan_render(&p, &b), 0, "render the golden plan");
	if (!ok(b.p && !strcmp(b.p, golden_render), "render: golden"))
		printf("%s", b.p ? b.p : "(null)");
	npplan_free(&p);
	buf_free(&b);
}

/* ---- allocation failures ------------------------------------------------------------------- */

static void test_faults(void)
{
	static const char *in =
		"r fd00::-fd00::ff 6 80; r 10.0.0.0-10.0.0.9 6-17 80-90; a 10.0.0.1;"
		"r 10.0.0.5-10.0.0.15 10-20 85-95; r fd00::80-fd00::1ff 6-7 80; x 10.0.0.1 6 1;"
		"r 10.0.0.0-10.0.0.9 6-17 80-90; r 10.9.0.0 0-255 0-65535";
	struct npplan_elem *e = NULL;
	struct buf b = BUF_INIT;
	unsigned long nth, calls;
	char want[4096], orig[4096];
	int bad = 0, r;
	struct npplan p;
	size_t n;

	n = parse_elems(in, &e);
	snprintf(orig, sizeof(orig), "%s", print_elems(e, n));
	if (npplan_normalize(&e, &n))
		bad++;
	snprintf(want, sizeof(want), "%s", print_elems(e, n));
	mem_free(e);
	for (nth = 1;; nth++) {
		n = parse_elems(in, &e);
		fault_reset(nth);
		r = npplan_normalize(&e, &n);
		calls = fault_reset(0);
		bad += strcmp(print_elems(e, n), r ? orig : want) != 0;
		mem_free(e);
		if (calls < nth) {
			bad += r != 0;
			break;
		}
		bad += r != -ENOMEM;
	}
	ok(bad == 0 && nth > 5, "normalize: every allocation failure: -ENOMEM, input untouched");

	golden_plan(&p);
	bad = buf_adds(&b, "keep;") != 0;
	for (nth = 1;; nth++) {
		fault_reset(nth);
		r = npplan_render(&p, &b);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0 || strncmp(b.p, "keep;table inet virgil {", 24) != 0;
			break;
		}
		bad += r != -ENOMEM || strcmp(b.p, "keep;") != 0;
	}
	ok(bad == 0 && nth > 5, "render: every allocation failure: -ENOMEM, buffer as it was");
	npplan_free(&p);
	buf_free(&b);
}

static void test_ipblock_faults(void)
{
	struct ipaddr (*v)[2] = NULL;
	struct k8sobj_ipblock b;
	unsigned long nth, calls;
	struct cidr ex[8];
	size_t n = 0, cap = 0;
	int bad = 0, r;

	ipblock_of(5, &b, ex);
	for (nth = 1;; nth++) {
		fault_reset(nth);
		r = npplan_ipblock_ranges(&b, &v, &n, &cap);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0 || n != 3;
			break;
		}
		bad += r != -ENOMEM || n != 0;
	}
	ok(bad == 0 && nth > 2, "ipblock ranges: every allocation failure: -ENOMEM, n unchanged");
	mem_free(v);
}

/* ---- nft, in a private network namespace ---------------------------------------------------- */

static int run(const char *cmd, char *out, size_t cap)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	return pclose(f) == 0 ? 0 : -EIO;
}

/* nft -f on the script; nft's messages in out. */
static int nft_load(const char *script, char *out, size_t cap)
{
	char path[] = "/tmp/vgnpplanXXXXXX", cmd[128];
	int fd = mkstemp(path), r = -EIO;
	size_t len = strlen(script);

	if (fd < 0)
		return -errno;
	if (write(fd, script, len) == (ssize_t)len) {
		snprintf(cmd, sizeof(cmd), "/usr/sbin/nft -f %s 2>&1", path);
		r = run(cmd, out, cap);
	}
	close(fd);
	unlink(path);
	return r;
}

/* What the reconciler's netlink batch must also read back as. */
static const char golden_listing[] =
	"table inet virgil {\n"
	"\tmap ing4 {\n"
	"\t\ttype ipv4_addr : verdict\n"
	"\t\telements = { 10.244.1.5 : goto in-0123456789abcdef }\n"
	"\t}\n"
	"\n"
	"\tmap ing6 {\n"
	"\t\ttype ipv6_addr : verdict\n"
	"\t\telements = { fd00:244:1::5 : goto in-0123456789abcdef }\n"
	"\t}\n"
	"\n"
	"\tmap egr4 {\n"
	"\t\ttype ipv4_addr : verdict\n"
	"\t\telements = { 10.244.1.5 : jump eg-00000000000000aa, 10.244.1.6 : jump eg-ffffffffffffffff }\n"
	"\t}\n"
	"\n"
	"\tmap egr6 {\n"
	"\t\ttype ipv6_addr : verdict\n"
	"\t}\n"
	"\n"
	"\tset masq-src4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { 10.244.1.0/24 }\n"
	"\t}\n"
	"\n"
	"\tset masq-src6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { fd00:244:1::/64 }\n"
	"\t}\n"
	"\n"
	"\tset cluster4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { 10.96.0.0/12, 10.244.0.0/16 }\n"
	"\t}\n"
	"\n"
	"\tset cluster6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { fd00:244::/48 }\n"
	"\t}\n"
	"\n"
	"\tset self4 {\n"
	"\t\ttype ipv4_addr . ipv4_addr\n"
	"\t\telements = { 10.244.1.5 . 10.244.1.5,\n"
	"\t\t\t     10.244.1.6 . 10.244.1.6 }\n"
	"\t}\n"
	"\n"
	"\tset self6 {\n"
	"\t\ttype ipv6_addr . ipv6_addr\n"
	"\t\telements = { fd00:244:1::5 . fd00:244:1::5 }\n"
	"\t}\n"
	"\n"
	"\tset eg-00000000000000aa-a4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\telements = { 10.96.0.10 }\n"
	"\t}\n"
	"\n"
	"\tset eg-00000000000000aa-r4 {\n"
	"\t\ttype ipv4_addr . inet_proto . inet_service\n"
	"\t\tflags interval\n"
	"\t\telements = { 0.0.0.0-9.255.255.255 . 0-255 . 0-65535,\n"
	"\t\t\t     11.0.0.0-255.255.255.255 . 0-255 . 0-65535 }\n"
	"\t}\n"
	"\n"
	"\tset eg-00000000000000aa-x6 {\n"
	"\t\ttype ipv6_addr . inet_proto . inet_service\n"
	"\t\telements = { fd00:96::a . udp . 53 }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-x4 {\n"
	"\t\ttype ipv4_addr . inet_proto . inet_service\n"
	"\t\telements = { 10.0.0.1 . sctp . 9,\n"
	"\t\t\t     10.0.0.1 . tcp . 80 }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-p4 {\n"
	"\t\ttype ipv4_addr . inet_proto\n"
	"\t\telements = { 10.0.0.2 . udp }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-a4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\telements = { 10.0.0.3, 10.0.0.4 }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-q4-100-200 {\n"
	"\t\ttype ipv4_addr . inet_proto\n"
	"\t\telements = { 10.0.0.5 . sctp }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-q4-8000-8080 {\n"
	"\t\ttype ipv4_addr . inet_proto\n"
	"\t\telements = { 10.0.0.5 . tcp,\n"
	"\t\t\t     10.0.0.6 . udp }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-r4 {\n"
	"\t\ttype ipv4_addr . inet_proto . inet_service\n"
	"\t\tflags interval\n"
	"\t\telements = { 10.1.0.0/24 . 0-255 . 0-65535,\n"
	"\t\t\t     10.2.0.0-10.2.0.9 . tcp . 8000-8080,\n"
	"\t\t\t     10.2.0.0-10.2.0.9 . udp . 53 }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-x6 {\n"
	"\t\ttype ipv6_addr . inet_proto . inet_service\n"
	"\t\telements = { fd00::1 . udp . 53 }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-q6-9000-9001 {\n"
	"\t\ttype ipv6_addr . inet_proto\n"
	"\t\telements = { fd00::5 . tcp }\n"
	"\t}\n"
	"\n"
	"\tset in-0123456789abcdef-r6 {\n"
	"\t\ttype ipv6_addr . inet_proto . inet_service\n"
	"\t\tflags interval\n"
	"\t\telements = { fd00:1::/112 . tcp . 443 }\n"
	"\t}\n"
	"\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tip saddr . ip daddr @self4 accept\n"
	"\t\tip6 saddr . ip6 daddr @self6 accept\n"
	"\t\tip saddr vmap @egr4\n"
	"\t\tip6 saddr vmap @egr6\n"
	"\t\tip daddr vmap @ing4\n"
	"\t\tip6 daddr vmap @ing6\n"
	"\t}\n"
	"\n"
	"\tchain postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\tip saddr @masq-src4 ip daddr != @cluster4 masquerade\n"
	"\t\tip6 saddr @masq-src6 ip6 daddr != @cluster6 masquerade\n"
	"\t}\n"
	"\n"
	"\tchain eg-00000000000000aa {\n"
	"\t\tip daddr @eg-00000000000000aa-a4 return\n"
	"\t\tip daddr . meta l4proto . th dport @eg-00000000000000aa-r4 return\n"
	"\t\tip6 daddr . meta l4proto . th dport @eg-00000000000000aa-x6 return\n"
	"\t\tmeta l4proto tcp reject with tcp reset\n"
	"\t\treject with icmpx admin-prohibited\n"
	"\t}\n"
	"\n"
	"\tchain eg-ffffffffffffffff {\n"
	"\t\treturn\n"
	"\t}\n"
	"\n"
	"\tchain in-0123456789abcdef {\n"
	"\t\tip saddr . meta l4proto . th dport @in-0123456789abcdef-x4 accept\n"
	"\t\tip saddr . meta l4proto @in-0123456789abcdef-p4 accept\n"
	"\t\tip saddr @in-0123456789abcdef-a4 accept\n"
	"\t\tip saddr . meta l4proto @in-0123456789abcdef-q4-100-200 th dport 100-200 accept\n"
	"\t\tip saddr . meta l4proto @in-0123456789abcdef-q4-8000-8080 th dport 8000-8080 accept\n"
	"\t\tip saddr . meta l4proto . th dport @in-0123456789abcdef-r4 accept\n"
	"\t\tip6 saddr . meta l4proto . th dport @in-0123456789abcdef-x6 accept\n"
	"\t\tip6 saddr . meta l4proto @in-0123456789abcdef-q6-9000-9001 th dport 9000-9001 accept\n"
	"\t\tip6 saddr . meta l4proto . th dport @in-0123456789abcdef-r6 accept\n"
	"\t\tmeta l4proto tcp reject with tcp reset\n"
	"\t\treject with icmpx admin-prohibited\n"
	"\t}\n"
	"}\n";

static void test_nft_golden(void)
{
	static char text[1 << 16];
	struct buf b = BUF_INIT;
	struct npplan p;

	golden_plan(&p);
	if (npplan_render(&p, &b))
		abort();
	if (!ok(nft_load(b.p, text, sizeof(text)) == 0, "nft -f loads the golden render"))
		diag("%s", text);
	is_int(run("/usr/sbin/nft list ruleset 2>&1", text, sizeof(text)), 0, "nft list ruleset");
	if (!ok(!strcmp(text, golden_listing), "nft list ruleset: golden"))
		printf("%s", text);
	is_int(run("/usr/sbin/nft delete table inet virgil 2>&1", text, sizeof(text)), 0,
	       "delete the table");
	npplan_free(&p);
	buf_free(&b);
}

/* No masquerade, one allow-all ingress group, nothing else: every set empty. */
static void test_nft_minimal(void)
{
	static char text[1 << 14];
	struct buf b = BUF_INIT;
	struct npplan p = { 0 };

	p.groups = mem_alloc(sizeof(*p.groups));
	p.groups[0] = group_of("in-aaaaaaaaaaaaaaaa", NPPLAN_IN, "all");
	p.ngroups = 1;
	p.disp = mem_calloc(1, sizeof(*p.disp));
	p.disp[0].addr = A("fd00::5");
	p.ndisp = 1;
	if (npplan_render(&p, &b))
		abort();
	if (!ok(nft_load(b.p, text, sizeof(text)) == 0, "nft -f loads a minimal plan"))
		diag("%s", text);
	is_int(run("/usr/sbin/nft list ruleset 2>&1", text, sizeof(text)), 0, "nft list ruleset");
	ok(strstr(text, "\tchain in-aaaaaaaaaaaaaaaa {\n\t\taccept\n\t}\n") &&
	   strstr(text, "elements = { fd00::5 : goto in-aaaaaaaaaaaaaaaa }") &&
	   strstr(text, "srcnat; policy accept;\n\t}\n") && !strstr(text, "masquerade") &&
	   !strstr(text, "set in-"), "allow-all group: one accept, no sets; no masquerade rules");
	is_int(run("/usr/sbin/nft delete table inet virgil 2>&1", text, sizeof(text)), 0,
	       "delete the table");
	npplan_free(&p);
	buf_free(&b);
}

/* Thousands of normalised random boxes: nft and the kernel take them only if no two overlap. */
static void test_nft_big(void)
{
	static char text[1 << 16];
	size_t n = 4000, m = 0, i;
	struct buf b = BUF_INIT;
	struct npplan_group *g;
	struct npplan p = { 0 };
	double t0;

	g = npplan_group_new("in-00000000000000b1", NPPLAN_IN);
	g->elems = mem_alloc(n * sizeof(*g->elems));
	realistic(g->elems, n);
	for (i = n / 2; i < n; i++)
		to_v6(&g->elems[i]);
	g->nelems = n;
	is_int(npplan_normalize(&g->elems, &g->nelems), 0, "normalise 4,000 random boxes");
	for (i = 0; i < g->nelems; i++)
		m += g->elems[i].lo.family == AF_INET6;
	diag("%zu disjoint boxes (%zu IPv6)", g->nelems, m);
	p.groups = mem_alloc(sizeof(*p.groups));
	p.groups[0] = g;
	p.ngroups = 1;
	if (npplan_render(&p, &b))
		abort();
	t0 = now_ms();
	if (!ok(nft_load(b.p, text, sizeof(text)) == 0, "nft -f loads them (no overlap)"))
		diag("%s", text);
	diag("nft -f: %.0f ms", now_ms() - t0);
	is_int(run("/usr/sbin/nft delete table inet virgil 2>&1", text, sizeof(text)), 0,
	       "delete the table");

	/* the same with two overlapping boxes: refused, so the check above has teeth */
	g->elems[1] = g->elems[0];
	g->elems[1].lo = g->elems[0].hi;
	g->elems[1].hi = g->elems[0].hi;
	buf_reset(&b);
	if (npplan_render(&p, &b))
		abort();
	ok(nft_load(b.p, text, sizeof(text)) != 0, "an overlapping element is refused");
	npplan_free(&p);
	buf_free(&b);
}

int main(void)
{
	test_elem_cmp();
	test_normalize_cases();
	test_normalize_random();
	test_normalize_speed();
	test_ipblock();
	test_groups();
	test_faults();
	test_ipblock_faults();
	test_render();
	if (access("/usr/sbin/nft", X_OK) != 0) {
		printf("ok %d - # SKIP nft is not installed\n", ++tap_n);
		return tap_done();
	}
	if (unshare(CLONE_NEWNET)) {
		printf("ok %d - # SKIP no private network namespace (needs root)\n", ++tap_n);
		return tap_done();
	}
	test_nft_golden();
	test_nft_minimal();
	test_nft_big();
	return tap_done();
}
