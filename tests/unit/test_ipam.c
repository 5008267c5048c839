// SPDX-License-Identifier: MIT
/* deps: core/ipam.c core/cidr.c base/err.c */
/*
 * test_ipam.c: range set-up (reserved addresses, refused subnets) and the round-robin picker:
 * first pick, gateway and broadcast never handed out, wrap-around, exhaustion, used lists
 * with foreign entries, a /64 with 10,000 leases, and a randomized comparison with a
 * brute-force picker.
 */
#include <errno.h>
#include <time.h>

#include "tap.h"
#include "base/err.h"
#include "core/ipam.h"

static struct ipaddr A(const char *s)
{
	struct ipaddr a = { 0 };

	if (ipaddr_parse(s, strlen(s), &a))
		diag("bad test address %s", s);
	return a;
}

static struct ipam_range R(const char *s)
{
	struct ipam_range r;
	struct cidr c = { 0 };

	memset(&r, 0, sizeof(r));
	if (cidr_parse(s, strlen(s), &c) || ipam_range_init(&r, &c, NULL))
		diag("bad test range %s", s);
	return r;
}

static const char *fmt(const struct ipaddr *a)
{
	static char out[4][IPADDR_STRLEN];
	static int k;

	k = (k + 1) % 4;
	if (ipaddr_format(a, out[k], sizeof(out[k])))
		strcpy(out[k], "(bad)");
	return out[k];
}

/* Build a sorted used list from text. */
static size_t used_of(struct ipaddr *v, const char *const *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = A(s[i]);
	ipam_sort(v, n);
	return n;
}

static void expect_pick(const struct ipam_range *r, const char *last, const struct ipaddr *used,
			size_t n, const char *want, const char *what)
{
	struct ipaddr l, out;
	int rc;

	if (last)
		l = A(last);
	rc = ipam_pick(r, last ? &l : NULL, used, n, &out);
	if (!want) {
		is_int(rc, -ENOSPC, what);
		return;
	}
	is_int(rc, 0, what);
	is_str(rc ? "(none)" : fmt(&out), want, what);
}

struct init_case {
	const char *subnet;
	int rc;
	const char *start, *end, *gw, *reason;
};

static const struct init_case inits[] = {
	{ "10.244.1.0/24", 0, "10.244.1.2", "10.244.1.254", "10.244.1.1", NULL },
	{ "10.244.0.0/16", 0, "10.244.0.2", "10.244.255.254", "10.244.0.1", NULL },
	{ "10.0.0.0/30", 0, "10.0.0.2", "10.0.0.2", "10.0.0.1", NULL },
	{ "10.0.0.0/29", 0, "10.0.0.2", "10.0.0.6", "10.0.0.1", NULL },
	{ "fd00:10:244:1::/64", 0, "fd00:10:244:1::2", "fd00:10:244:1:ffff:ffff:ffff:ffff",
	  "fd00:10:244:1::1", NULL },
	{ "fd00::/126", 0, "fd00::2", "fd00::3", "fd00::1", NULL },
	{ "10.0.0.0/31", -EINVAL, NULL, NULL, NULL, "network 10.0.0.0/31 too small" },
	{ "10.0.0.1/32", -EINVAL, NULL, NULL, NULL, "network 10.0.0.1/32 too small" },
	{ "fd00::/127", -EINVAL, NULL, NULL, NULL, "network fd00::/127 too small" },
	{ "fd00::/128", -EINVAL, NULL, NULL, NULL, "network fd00::/128 too small" },
	{ "10.244.1.5/24", -EINVAL, NULL, NULL, NULL, "subnet 10.244.1.5/24 has host bits set" },
	{ "fd00::1/64", -EINVAL, NULL, NULL, NULL, "subnet fd00::1/64 has host bits set" },
};

static void test_init(void)
{
	struct ipam_range r;
	struct ebuf eb;
	struct cidr c;
	char what[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(inits); i++) {
		const struct init_case *t = &inits[i];

		ebuf_clear(&eb);
		if (cidr_parse(t->subnet, strlen(t->subnet), &c)) {
			ok(0, t->subnet);
			continue;
		}
		snprintf(what, sizeof(what), "init %s", t->subnet);
		is_int(ipam_range_init(&r, &c, &eb), t->rc, what);
		if (t->rc) {
			ok(strncmp(eb.msg, t->reason, strlen(t->reason)) == 0, what);
			diag("%s", eb.msg);
			continue;
		}
		is_str(fmt(&r.start), t->start, what);
		is_str(fmt(&r.end), t->end, what);
		is_str(fmt(&r.gateway), t->gw, what);
	}
	c = (struct cidr){ .addr = { .family = 0 }, .prefix = 8 };
	is_int(ipam_range_init(&r, &c, NULL), -EINVAL, "unknown family refused, NULL ebuf ok");
	c = (struct cidr){ .addr = { .family = AF_INET }, .prefix = 33 };
	is_int(ipam_range_init(&r, &c, NULL), -EINVAL, "prefix 33 refused");
}

static void test_usable(void)
{
	struct ipam_range r = R("10.244.1.0/24");
	struct ipaddr a;

	a = A("10.244.1.0");
	ok(!ipam_usable(&r, &a), "network unusable");
	a = A("10.244.1.1");
	ok(!ipam_usable(&r, &a), "gateway unusable");
	a = A("10.244.1.2");
	ok(ipam_usable(&r, &a), ".2 usable");
	a = A("10.244.1.254");
	ok(ipam_usable(&r, &a), ".254 usable");
	a = A("10.244.1.255");
	ok(!ipam_usable(&r, &a), "broadcast unusable");
	a = A("10.244.2.7");
	ok(!ipam_usable(&r, &a), "outside unusable");
	a = A("::2");
	ok(!ipam_usable(&r, &a), "other family unusable");
	r.start = A("10.244.1.1");
	a = A("10.244.1.1");
	ok(!ipam_usable(&r, &a), "gateway unusable inside a widened range");
}

static void test_pick_v4(void)
{
	static const char *const some[] = { "10.244.1.2", "10.244.1.3" };
	static const char *const after_release[] = { "10.244.1.3", "10.244.1.4" };
	static const char *const foreign[] = { "10.244.1.0", "10.244.1.1", "10.244.1.2",
					       "10.244.1.2", "10.244.1.255", "10.244.0.9",
					       "10.245.0.0", "0.0.0.0", "10.244.1.3" };
	struct ipam_range r = R("10.244.1.0/24");
	struct ipaddr used[300];
	size_t n;
	int i;

	expect_pick(&r, NULL, NULL, 0, "10.244.1.2", "/24 first pick is .2");
	n = used_of(used, some, ARRAY_SIZE(some));
	expect_pick(&r, "10.244.1.3", used, n, "10.244.1.4", "next after last");
	n = used_of(used, after_release, ARRAY_SIZE(after_release));
	expect_pick(&r, "10.244.1.4", used, n, "10.244.1.5", "round robin: .2 released, .5 next");
	expect_pick(&r, "10.244.1.254", used, n, "10.244.1.2", "wrap after the end");
	expect_pick(&r, "10.244.1.255", used, n, "10.244.1.2", "last outside range: start");
	expect_pick(&r, "10.244.7.7", used, n, "10.244.1.2", "last in another net: start");
	expect_pick(&r, "fd00::5", used, n, "10.244.1.2", "last of another family: start");
	expect_pick(&r, "10.244.1.1", used, n, "10.244.1.2", "last = gateway: start");
	n = used_of(used, foreign, ARRAY_SIZE(foreign));
	expect_pick(&r, NULL, used, n, "10.244.1.4", "used with duplicates and foreign entries");
	/* everything but the broadcast neighbour is taken */
	for (i = 2, n = 0; i <= 253; i++)
		used[n++] = (struct ipaddr){ AF_INET, { 10, 244, 1, (uint8_t)i } };
	expect_pick(&r, "10.244.1.100", used, n, "10.244.1.254", "only .254 left");
	used[n++] = A("10.244.1.254");
	expect_pick(&r, "10.244.1.100", used, n, NULL, "full /24: -ENOSPC, never .255 or .1");
	r.start = A("10.244.1.1");
	expect_pick(&r, NULL, NULL, 0, "10.244.1.2", "gateway skipped when inside the span");
}

static void test_small(void)
{
	struct ipam_range r = R("10.0.0.0/30");
	struct ipaddr used[8], out;
	size_t n = 0;
	int i, rc;

	expect_pick(&r, NULL, NULL, 0, "10.0.0.2", "/30 gives .2");
	used[0] = A("10.0.0.2");
	expect_pick(&r, "10.0.0.2", used, 1, NULL, "/30 gives exactly one");
	r = R("10.0.0.0/29");
	for (i = 0; i < 5; i++) {
		rc = ipam_pick(&r, n ? &used[n - 1] : NULL, used, n, &out);
		if (rc)
			break;
		used[n++] = out;
		ipam_sort(used, n);
		used[7] = out;
	}
	is_int(n, 5, "/29 yields five");
	is_str(fmt(&used[0]), "10.0.0.2", "/29 lowest .2");
	is_str(fmt(&used[4]), "10.0.0.6", "/29 highest .6");
	is_int(ipam_pick(&r, &used[7], used, n, &out), -ENOSPC, "/29 sixth: -ENOSPC");
	r = R("fd00::/126");
	expect_pick(&r, "fd00::2", NULL, 0, "fd00::3", "v6 end is the last address");
	used[0] = A("fd00::2");
	used[1] = A("fd00::3");
	expect_pick(&r, NULL, used, 2, NULL, "v6 /126 full");
	is_int(ipam_pick(&(struct ipam_range){ 0 }, NULL, NULL, 0, &out), -EINVAL, "empty range");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_v6_large(void)
{
	struct ipam_range r = R("fd00:10:244:1::/64");
	struct ipaddr *used = calloc(10001, sizeof(*used)), a, last, out;
	double t0, dt;
	size_t i;
	int rc;

	a = r.start;
	for (i = 0; i < 10000; i++) {
		used[i] = a;
		ipaddr_inc(&a);
	}
	t0 = now();
	rc = ipam_pick(&r, NULL, used, 10000, &out);
	dt = now() - t0;
	is_int(rc, 0, "/64 with 10,000 used");
	is_str(fmt(&out), "fd00:10:244:1::2712", "first free after 10,000 (0x2712)");
	ok(dt < 0.05, "/64 pick is fast");
	diag("pick with 10,000 used: %.3f ms", dt * 1e3);
	last = r.end;
	expect_pick(&r, "fd00:10:244:1:ffff:ffff:ffff:ffff", used, 10000, "fd00:10:244:1::2712",
		    "/64 wrap from the very end");
	/* the last address is used: inc past it wraps the whole family space */
	used[10000] = last;
	ipaddr_dec(&last);
	expect_pick(&r, "fd00:10:244:1:ffff:ffff:ffff:fffe", used, 10001, "fd00:10:244:1::2712",
		    "/64 end used, wrap to start");
	r = R("ffff:ffff:ffff:ffff::/64");
	used[0] = r.end;
	expect_pick(&r, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", used, 1, "ffff:ffff:ffff:ffff::2",
		    "range ending at the top of the space");
	free(used);
}

/* Reference picker: walk the whole range. */
static int brute_pick(const struct ipam_range *r, const struct ipaddr *last,
		      const struct ipaddr *used, size_t n, struct ipaddr *out)
{
	struct ipaddr c = r->start;
	size_t span = 0, k, i;

	for (c = r->start; ipaddr_cmp(&c, &r->end) <= 0; ipaddr_inc(&c))
		span++;
	c = r->start;
	if (last && last->family == r->start.family && ipaddr_cmp(last, &r->start) >= 0 &&
	    ipaddr_cmp(last, &r->end) < 0) {
		c = *last;
		ipaddr_inc(&c);
	}
	for (k = 0; k < span; k++) {
		bool taken = ipaddr_eq(&c, &r->gateway);

		for (i = 0; i < n && !taken; i++)
			taken = ipaddr_eq(&used[i], &c);
		if (!taken) {
			*out = c;
			return 0;
		}
		if (ipaddr_eq(&c, &r->end))
			c = r->start;
		else
			ipaddr_inc(&c);
	}
	return -ENOSPC;
}

static void test_random(void)
{
	struct ipam_range r = R("10.9.8.0/27");
	struct ipaddr used[40], last, a, b;
	unsigned seed = 12345;
	int it, bad = 0, i, n, ra, rb;

	for (it = 0; it < 20000; it++) {
		n = rand_r(&seed) % 40;
		for (i = 0; i < n; i++)
			used[i] = (struct ipaddr){ AF_INET, { 10, 9, 8, (uint8_t)(rand_r(&seed) % 40) } };
		ipam_sort(used, (size_t)n);
		last = (struct ipaddr){ AF_INET, { 10, 9, 8, (uint8_t)(rand_r(&seed) % 40) } };
		r.start.a[3] = (uint8_t)(rand_r(&seed) % 4);
		ra = ipam_pick(&r, it % 7 ? &last : NULL, used, (size_t)n, &a);
		rb = brute_pick(&r, it % 7 ? &last : NULL, used, (size_t)n, &b);
		if (ra != rb || (ra == 0 && !ipaddr_eq(&a, &b)))
			bad++;
	}
	is_int(bad, 0, "20,000 random picks agree with brute force");
}

static void test_sort(void)
{
	struct ipaddr v[5] = { A("fd00::1"), A("10.0.0.2"), A("::"), A("10.0.0.1"),
			       A("255.255.255.255") };

	ipam_sort(v, 5);
	is_str(fmt(&v[0]), "10.0.0.1", "sorted 0");
	is_str(fmt(&v[1]), "10.0.0.2", "sorted 1");
	is_str(fmt(&v[2]), "255.255.255.255", "sorted 2");
	is_str(fmt(&v[3]), "::", "sorted 3");
	is_str(fmt(&v[4]), "fd00::1", "sorted 4");
	ipam_sort(v, 0);
	ok(1, "sort of nothing");
}

int main(void)
{
	/* tap.h's guard helpers are for parser tests; this one has no text input */
	(void)guard_copy;
	(void)guard_free;
	test_init();
	test_usable();
	test_pick_v4();
	test_small();
	test_v6_large();
	test_random();
	test_sort();
	return tap_done();
}
