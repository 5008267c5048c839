// SPDX-License-Identifier: MIT
/* deps: core/cidr.c */
/*
 * fuzz_cidr.c: address and prefix parsing on arbitrary bytes. Whatever parses must format,
 * and the formatted text must parse back to the same value and format to the same text
 * (canonical). The arithmetic runs on every parsed value for the sanitizers' sake.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"
#include "fuzz_util.h"

static void check_addr(const struct ipaddr *a)
{
	char t1[IPADDR_STRLEN], t2[IPADDR_STRLEN];
	struct ipaddr b, c = *a;

	if (ipaddr_format(a, t1, sizeof(t1)))
		abort();
	if (ipaddr_parse(t1, strlen(t1), &b) || !ipaddr_eq(a, &b))
		abort();
	if (ipaddr_format(&b, t2, sizeof(t2)) || strcmp(t1, t2))
		abort();
	if (ipaddr_inc(&c) && (!ipaddr_dec(&c) || !ipaddr_eq(&c, a)))
		abort();
}

static void check_cidr(const struct cidr *c)
{
	char t[CIDR_STRLEN];
	struct cidr d;
	struct ipaddr first, last;

	if (cidr_format(c, t, sizeof(t)))
		abort();
	if (cidr_parse(t, strlen(t), &d) || !ipaddr_eq(&c->addr, &d.addr) || c->prefix != d.prefix)
		abort();
	cidr_first(c, &first);
	cidr_last(c, &last);
	if (!cidr_contains(c, &first) || !cidr_contains(c, &last) || !cidr_contains(c, &c->addr))
		abort();
	if (ipaddr_cmp(&first, &last) > 0 || !cidr_overlaps(c, &d))
		abort();
	if (cidr_has_host_bits(c) != !ipaddr_eq(&first, &c->addr))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_dup(data, size);
	struct ipaddr a;
	struct cidr c;

	if (ipaddr_parse(s, size, &a) == 0)
		check_addr(&a);
	if (cidr_parse(s, size, &c) == 0)
		check_cidr(&c);
	free(s);
	return 0;
}
