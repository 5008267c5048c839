// SPDX-License-Identifier: MIT
/* deps: nl/nftdump.c nl/nftdump_msg.c nl/nftdump_expr.c nl/nftdump_set.c nl/nlsock.c nl/nlmsg.c core/cidr.c base/err.c base/mem.c base/buf.c */
/*
 * fuzz_nftdump.c: the input is what the kernel would answer to the table, chain, set, element
 * and rule dumps, messages back to back. Each goes through nftdump_parse() and nftdump_add()
 * (into one collector keeping every table, and one keeping only "vgtest"), then both are
 * rendered. What must hold: the two calls agree on what is malformed, a failure says why and
 * leaves the rendering as it was, and the text is NUL-free, newline-terminated lines with no
 * control bytes in them. The
 * first input byte chooses NFTDUMP_VOLATILE. Seeds: recorded dumps of the table
 * test_nftdump builds (all, sets and elements, rules) and that test's own batch.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "nl/nftdump.h"
#include "nl/nlmsg.h"
#include "fuzz_util.h"

static void check_text(const struct buf *b)
{
	if (!b->len)
		return;
	check(b->p && strlen(b->p) == b->len && b->p[b->len - 1] == '\n');
	for (size_t i = 0; i < b->len; i++)
		check((unsigned char)b->p[i] >= 0x20 || b->p[i] == '\n');
}

static void render(struct nftdump *d, struct buf *out)
{
	buf_reset(out);
	check(nftdump_render(d, out) == 0);
	check_text(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = size && data[0] & 1 ? NFTDUMP_VOLATILE : 0;
	struct nftdump *all = nftdump_new(NULL, flags), *one = nftdump_new("vgtest", flags);
	struct buf before = BUF_INIT, after = BUF_INIT;
	const struct nlmsghdr *nlh;
	struct nftdump_msg m;
	size_t left;
	/* a receive buffer is aligned; libFuzzer's copy usually is too, but do not rely on it */
	void *buf = fuzz_dup(data, size);

	check(all && one);
	for_each_nlmsg(nlh, buf, size, left) {
		struct ebuf eb = { "" }, eb2 = { "" };
		int p = nftdump_parse(nlh, &m, &eb), r;

		render(all, &before);
		r = nftdump_add(all, nlh, &eb2);
		if (r) {
			/* a message refused leaves nothing of itself behind */
			render(all, &after);
			check(before.len == after.len &&
			      (!before.len || !memcmp(before.p, after.p, before.len)));
		}

		check(p == 0 || p == -ENOENT || p == -EBADMSG);
		check(p != -EBADMSG || (r == -EBADMSG && eb.msg[0] && !strcmp(eb.msg, eb2.msg)));
		check(r == 0 || r == -EBADMSG);
		check(r != -EBADMSG || eb2.msg[0]);
		check(p != 0 || (m.table && m.name));
		r = nftdump_add(one, nlh, NULL);
		check(r == 0 || r == -EBADMSG);
	}
	render(all, &before);
	render(one, &after);
	buf_free(&before);
	buf_free(&after);
	nftdump_free(all);
	nftdump_free(one);
	free(buf);
	return 0;
}
