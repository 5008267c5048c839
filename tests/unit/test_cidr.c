// SPDX-License-Identifier: MIT
/* deps: core/cidr.c */
/*
 * test_cidr.c: strict address and prefix parsing (valid, malformed, every prefix of the valid
 * inputs against a guard page), canonical formatting and round trips, containment, overlap,
 * first/last and +1/-1 with wrap-around.
 */
#include <errno.h>

#include "tap.h"
#include "core/cidr.h"

struct canon_case {
	const char *in;
	const char *canon;
};

static const struct canon_case valid_addrs[] = {
	{ "0.0.0.0", "0.0.0.0" },
	{ "255.255.255.255", "255.255.255.255" },
	{ "10.0.0.1", "10.0.0.1" },
	{ "192.168.100.200", "192.168.100.200" },
	{ "1.20.100.0", "1.20.100.0" },
	{ "::", "::" },
	{ "::1", "::1" },
	{ "1::", "1::" },
	{ "0:0:0:0:0:0:0:0", "::" },
	{ "2001:DB8::1", "2001:db8::1" },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
	{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
	{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
	{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
	{ "a:0:0:b:0:0:c:d", "a::b:0:0:c:d" },
	{ "0:0:1::", "0:0:1::" },
	{ "1:0:0:0:0:0:0:0", "1::" },
	{ "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0" },
	{ "::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8" },
	{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
	{ "FFFF:ffff:ffff:ffff:ffff:ffff:ffff:fFfF", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "fe80::1", "fe80::1" },
	{ "fd00:10:244:1::a", "fd00:10:244:1::a" },
	{ "::ffff:1.2.3.4", "::ffff:1.2.3.4" },
	{ "::FFFF:102:304", "::ffff:1.2.3.4" },
	{ "::1.2.3.4", "::102:304" },
	{ "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304" },
	{ "1::0.0.0.0", "1::" },
	{ "0000:0000::00", "::" },
};

static const char *const bad_addrs[] = {
	"", "1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.02.3.4", "00.0.0.0",
	"256.1.1.1", "1.2.3.256", "1234.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1..2.3", "1.2.3.",
	".1.2.3", "1.2.3.-1", "+1.2.3.4", "1.2.3.4/24", "1.2.3.0x1", "1,2,3,4", "a.b.c.d",
	"1::2::3", ":::", ":", ":1::", "1:", "1::2:", "::1:", "12345::", "1:2:3:4:5:6:7:8:9",
	"1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8",
	"fe80::1%eth0", "fe80::1%1", "::g", "1.2.3.4::", "::1.2.3", "::1.2.3.4.5", "::01.2.3.4",
	"1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5", "::1.2.3.4::", " ::1", "::1 ", "[::1]",
	"::ffff:1.2.3.256", "::-1", "::+1", "1:2:3:4:5:6:7:8:", ":1:2:3:4:5:6:7:8", "::1.2.3.",
	"::.1.2.3", "1:2:3:4:5:6:1.2.3.4:1", "0x1::", "::1/128",
};

static const char *const valid_cidrs[] = {
	"10.0.0.0/8", "10.0.0.1/32", "0.0.0.0/0", "10.244.1.0/24", "fd00::/8", "2001:db8::/128",
	"::/0", "10.0.0.5/30",
};

static const char *const bad_cidrs[] = {
	"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/ 8",
	"10.0.0.0/8 ", "fd00::/129", "/8", "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/1000",
	"10.0.0/8", "fe80::1%eth0/64", "", "/", "::/", "::/0x8",
};

static int parse_guarded(const char *s, size_t n, struct ipaddr *a)
{
	char *g = guard_copy(s, n);
	int r = ipaddr_parse(g, n, a);

	guard_free(g, n);
	return r;
}

static int cparse_guarded(const char *s, size_t n, struct cidr *c)
{
	char *g = guard_copy(s, n);
	int r = cidr_parse(g, n, c);

	guard_free(g, n);
	return r;
}

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

static void test_valid(void)
{
	char out[IPADDR_STRLEN], what[160];
	struct ipaddr a, b;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid_addrs); i++) {
		const struct canon_case *t = &valid_addrs[i];

		snprintf(what, sizeof(what), "parse %s", t->in);
		is_int(parse_guarded(t->in, strlen(t->in), &a), 0, what);
		snprintf(what, sizeof(what), "format %s", t->in);
		is_int(ipaddr_format(&a, out, sizeof(out)), 0, what);
		is_str(out, t->canon, what);
		snprintf(what, sizeof(what), "round trip %s", t->canon);
		ok(ipaddr_parse(out, strlen(out), &b) == 0 && ipaddr_eq(&a, &b), what);
	}
}

static void test_invalid(void)
{
	struct ipaddr a = { .family = 99 };
	char what[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_addrs); i++) {
		snprintf(what, sizeof(what), "reject \"%s\"", bad_addrs[i]);
		is_int(parse_guarded(bad_addrs[i], strlen(bad_addrs[i]), &a), -EINVAL, what);
	}
	ok(a.family == 99, "failed parses leave *out alone");
	is_int(parse_guarded("1.2.3.4\0", 8, &a), -EINVAL, "reject embedded NUL");
	is_int(parse_guarded("::1\0", 4, &a), -EINVAL, "reject embedded NUL v6");
	is_int(ipaddr_parse(NULL, 0, &a), -EINVAL, "reject NULL");
	is_int(parse_guarded("1.2.3.45", 7, &a), 0, "only n bytes are read");
	ok(ipaddr_eq(&a, &(struct ipaddr){ AF_INET, { 1, 2, 3, 4 } }), "n bytes give 1.2.3.4");
}

/* Every prefix of every input, ending at a guard page: no crash, no read past n. */
static void test_partial(void)
{
	struct ipaddr a;
	struct cidr c;
	size_t i, k, fails = 0;

	for (i = 0; i < ARRAY_SIZE(valid_addrs); i++) {
		const char *s = valid_addrs[i].in;

		for (k = 0; k < strlen(s); k++)
			if (parse_guarded(s, k, &a) != 0)
				fails++;
	}
	for (i = 0; i < ARRAY_SIZE(valid_cidrs); i++)
		for (k = 0; k < strlen(valid_cidrs[i]); k++)
			if (cparse_guarded(valid_cidrs[i], k, &c) != 0)
				fails++;
	ok(fails > 0, "prefixes of valid inputs parse or fail cleanly");
	is_int(parse_guarded("1.2.3.4", 5, &a), -EINVAL, "\"1.2.3\" prefix rejected");
	is_int(parse_guarded("1.2.3.45", 7, &a), 0, "\"1.2.3.4\" prefix accepted");
	is_int(parse_guarded("2001:db8::1", 9, &a), -EINVAL, "\"2001:db8:\" prefix rejected");
	is_int(parse_guarded("2001:db8::1", 10, &a), 0, "\"2001:db8::\" prefix accepted");
}

static void test_cidr_parse(void)
{
	char out[CIDR_STRLEN], what[160];
	struct cidr c, d;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid_cidrs); i++) {
		const char *s = valid_cidrs[i];

		snprintf(what, sizeof(what), "cidr parse %s", s);
		is_int(cparse_guarded(s, strlen(s), &c), 0, what);
		snprintf(what, sizeof(what), "cidr format %s", s);
		is_int(cidr_format(&c, out, sizeof(out)), 0, what);
		is_str(out, s, what);
		ok(cidr_parse(out, strlen(out), &d) == 0 && ipaddr_eq(&c.addr, &d.addr) &&
			   c.prefix == d.prefix, what);
	}
	for (i = 0; i < ARRAY_SIZE(bad_cidrs); i++) {
		snprintf(what, sizeof(what), "cidr reject \"%s\"", bad_cidrs[i]);
		is_int(cparse_guarded(bad_cidrs[i], strlen(bad_cidrs[i]), &c), -EINVAL, what);
	}
	c = C("10.0.0.1/32");
	is_int(c.prefix, 32, "prefix 32");
	ok(ipaddr_eq(&c.addr, &(struct ipaddr){ AF_INET, { 10, 0, 0, 1 } }), "address kept");
	c = C("2001:DB8:0::0/0");
	ok(cidr_format(&c, out, sizeof(out)) == 0 && strcmp(out, "2001:db8::/0") == 0,
	   "cidr format is canonical");
}

static void test_format_limits(void)
{
	struct ipaddr a = A("255.255.255.255"), bad = { .family = 7 };
	struct cidr c = C("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128");
	char out[CIDR_STRLEN];

	is_int(ipaddr_format(&a, out, 15), -ENOSPC, "v4 needs 16 bytes");
	is_str(out, "", "ENOSPC leaves empty string");
	is_int(ipaddr_format(&a, out, 16), 0, "v4 fits in 16");
	is_int(ipaddr_format(&a, out, 0), -ENOSPC, "cap 0");
	is_int(ipaddr_format(&bad, out, sizeof(out)), -EINVAL, "unknown family");
	is_int(cidr_format(&c, out, sizeof(out)), 0, "longest cidr fits CIDR_STRLEN");
	is_int((int)strlen(out), 43, "longest hex form");
	a = A("0:0:0:0:0:ffff:255.255.255.255");
	is_int(ipaddr_format(&a, out, IPADDR_STRLEN), 0, "mapped fits IPADDR_STRLEN");
	is_str(out, "::ffff:255.255.255.255", "mapped text");
	a = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	is_int(ipaddr_format(&a, out, 39), -ENOSPC, "v6 needs 40 bytes");
	is_int(ipaddr_format(&a, out, 40), 0, "v6 fits in 40");
}

struct contain_case {
	const char *net, *addr;
	bool in;
};

static const struct contain_case contains[] = {
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.244.1.0/24", "10.244.1.0", true },
	{ "10.244.1.0/25", "10.244.1.128", false },
	{ "10.244.1.0/25", "10.244.1.127", true },
	{ "0.0.0.0/0", "1.2.3.4", true },
	{ "0.0.0.0/0", "::", false },
	{ "10.0.0.1/32", "10.0.0.1", true },
	{ "10.0.0.1/32", "10.0.0.2", false },
	{ "10.0.0.0/13", "10.7.255.255", true },
	{ "10.0.0.0/13", "10.8.0.0", false },
	{ "fd00::/8", "fdff::1", true },
	{ "fd00::/8", "fe00::", false },
	{ "fd00:1::/64", "fd00:1::ffff:ffff:ffff:ffff", true },
	{ "fd00:1::/64", "fd00:1:0:1::", false },
	{ "::/0", "1.2.3.4", false },
	{ "2001:db8::1/128", "2001:db8::1", true },
	{ "2001:db8::1/127", "2001:db8::", true },
	{ "2001:db8::1/127", "2001:db8::2", false },
};

struct overlap_case {
	const char *a, *b;
	bool overlap;
};

static const struct overlap_case overlaps[] = {
	{ "10.0.0.0/8", "10.1.0.0/16", true },
	{ "10.1.0.0/16", "10.0.0.0/8", true },
	{ "10.1.0.0/16", "10.2.0.0/16", false },
	{ "10.0.0.0/24", "10.0.0.255/32", true },
	{ "10.0.0.0/25", "10.0.0.128/25", false },
	{ "0.0.0.0/0", "192.168.0.0/16", true },
	{ "10.0.0.0/8", "fd00::/8", false },
	{ "fd00::/8", "fd12:3456::/32", true },
	{ "fd00::/64", "fd00:0:0:1::/64", false },
	{ "::/0", "0.0.0.0/0", false },
};

static void test_contains(void)
{
	struct ipaddr a;
	struct cidr c, d;
	char what[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(contains); i++) {
		c = C(contains[i].net);
		a = A(contains[i].addr);
		snprintf(what, sizeof(what), "%s %s %s", contains[i].net,
			 contains[i].in ? "contains" : "does not contain", contains[i].addr);
		ok(cidr_contains(&c, &a) == contains[i].in, what);
	}
	for (i = 0; i < ARRAY_SIZE(overlaps); i++) {
		c = C(overlaps[i].a);
		d = C(overlaps[i].b);
		snprintf(what, sizeof(what), "%s %s %s", overlaps[i].a,
			 overlaps[i].overlap ? "overlaps" : "does not overlap", overlaps[i].b);
		ok(cidr_overlaps(&c, &d) == overlaps[i].overlap, what);
	}
}

static void expect_addr(const struct ipaddr *a, const char *want, const char *what)
{
	char out[IPADDR_STRLEN];

	if (ipaddr_format(a, out, sizeof(out)))
		strcpy(out, "(bad)");
	is_str(out, want, what);
}

static void test_first_last(void)
{
	struct cidr c;
	struct ipaddr a;

	c = C("10.244.1.77/24");
	ok(cidr_has_host_bits(&c), "10.244.1.77/24 has host bits");
	cidr_first(&c, &a);
	expect_addr(&a, "10.244.1.0", "first of /24");
	cidr_last(&c, &a);
	expect_addr(&a, "10.244.1.255", "last of /24");
	c = C("10.244.1.0/24");
	ok(!cidr_has_host_bits(&c), "10.244.1.0/24 is a network");
	c = C("10.0.0.1/32");
	ok(!cidr_has_host_bits(&c), "/32 never has host bits");
	c = C("10.0.0.0/0");
	ok(cidr_has_host_bits(&c), "10.0.0.0/0 has host bits");
	cidr_last(&c, &a);
	expect_addr(&a, "255.255.255.255", "last of /0");
	c = C("172.16.5.4/12");
	cidr_first(&c, &a);
	expect_addr(&a, "172.16.0.0", "first of /12");
	cidr_last(&c, &a);
	expect_addr(&a, "172.31.255.255", "last of /12");
	c = C("fd00:10:244:1:2::/64");
	ok(cidr_has_host_bits(&c), "v6 /64 with host bits");
	cidr_first(&c, &a);
	expect_addr(&a, "fd00:10:244:1::", "first of v6 /64");
	cidr_last(&c, &a);
	expect_addr(&a, "fd00:10:244:1:ffff:ffff:ffff:ffff", "last of v6 /64");
	c = C("fd00::/61");
	cidr_last(&c, &a);
	expect_addr(&a, "fd00::7:ffff:ffff:ffff:ffff", "last of v6 /61");
}

static void test_step(void)
{
	struct ipaddr a;

	a = A("10.0.0.255");
	ok(ipaddr_inc(&a), "inc carries");
	expect_addr(&a, "10.0.1.0", "10.0.0.255 + 1");
	a = A("255.255.255.255");
	ok(!ipaddr_inc(&a), "v4 inc wraps");
	expect_addr(&a, "0.0.0.0", "wrapped to 0.0.0.0");
	ok(!ipaddr_dec(&a), "v4 dec wraps");
	expect_addr(&a, "255.255.255.255", "wrapped to broadcast");
	a = A("10.0.1.0");
	ok(ipaddr_dec(&a), "dec borrows");
	expect_addr(&a, "10.0.0.255", "10.0.1.0 - 1");
	a = A("fd00::ffff:ffff");
	ok(ipaddr_inc(&a), "v6 inc carries");
	expect_addr(&a, "fd00::1:0:0", "v6 carry");
	a = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ok(!ipaddr_inc(&a), "v6 inc wraps");
	ok(ipaddr_is_unspecified(&a), "v6 wrapped to ::");
	ok(!ipaddr_dec(&a), "v6 dec wraps");
	expect_addr(&a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "v6 wrapped to all ones");
	a = A("0.0.0.0");
	ok(ipaddr_is_unspecified(&a), "0.0.0.0 unspecified");
	a = A("0.0.0.1");
	ok(!ipaddr_is_unspecified(&a), "0.0.0.1 specified");
}

static void test_compare(void)
{
	struct ipaddr a = A("255.255.255.255"), b = A("::"), c = A("10.0.0.1");
	struct ipaddr d = A("10.0.0.2");

	ok(ipaddr_cmp(&a, &b) < 0, "every v4 sorts before every v6");
	ok(ipaddr_cmp(&c, &d) < 0 && ipaddr_cmp(&d, &c) > 0, "byte order");
	ok(ipaddr_cmp(&c, &c) == 0 && ipaddr_eq(&c, &c), "equal");
	ok(!ipaddr_eq(&a, &b), "different families differ");
	d = c;
	d.a[9] = 1;
	ok(ipaddr_eq(&c, &d), "v4 comparison ignores bytes 4..15");
	is_int((int)ipaddr_len(AF_INET), 4, "v4 len");
	is_int((int)ipaddr_len(AF_INET6), 16, "v6 len");
	is_int((int)ipaddr_len(0), 0, "unknown len");
}

int main(void)
{
	test_valid();
	test_invalid();
	test_partial();
	test_cidr_parse();
	test_format_limits();
	test_contains();
	test_first_last();
	test_step();
	test_compare();
	return tap_done();
}
