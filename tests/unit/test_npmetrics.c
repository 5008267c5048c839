// SPDX-License-Identifier: MIT
/* deps: core/npmetrics.c base/buf.c base/err.c base/mem.c */
/*
 * test_npmetrics.c: the policy metrics text: exactly the exposition format (HELP and TYPE
 * before each sample, counters named _total, seconds with a fraction), values as given,
 * appended after what the buffer held, and on every allocation failure -ENOMEM with the
 * buffer as it was.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "base/buf.h"
#include "base/mem.h"
#include "core/npmetrics.h"

static const struct npmetrics sample = {
	.ok = true, .syncs = 42, .sync_errors = 3, .problems = 1, .groups = 7, .isolated = 12,
	.elements = 345, .last_sync_us = 2001234,
};

static void test_text(void)
{
	struct buf b = BUF_INIT;
	const char *s;

	is_int(npmetrics_render(&sample, &b), 0, "render");
	s = b.p ? b.p : "";
	ok(strstr(s, "# HELP virgil_policy_ok ") == s, "starts with the first HELP line");
	ok(strstr(s, "# TYPE virgil_policy_ok gauge\nvirgil_policy_ok 1\n") != NULL, "ok: 1");
	ok(strstr(s, "# TYPE virgil_policy_problems gauge\nvirgil_policy_problems 1\n") != NULL,
	   "problems: 1");
	ok(strstr(s, "# TYPE virgil_policy_syncs_total counter\nvirgil_policy_syncs_total 42\n"),
	   "syncs: a counter");
	ok(strstr(s, "virgil_policy_sync_errors_total 3\n") != NULL, "sync errors: 3");
	ok(strstr(s, "virgil_policy_groups 7\n") != NULL, "groups: 7");
	ok(strstr(s, "virgil_policy_isolated_addresses 12\n") != NULL, "isolated: 12");
	ok(strstr(s, "virgil_policy_set_elements 345\n") != NULL, "elements: 345");
	ok(strstr(s, "virgil_policy_last_sync_seconds 2.001234\n") != NULL,
	   "last sync: seconds with microseconds");
	{
		size_t help = 0, type = 0, samples = 0;
		const char *l;

		for (l = s; *l; l = strchr(l, '\n') + 1) {
			help += !strncmp(l, "# HELP ", 7);
			type += !strncmp(l, "# TYPE ", 7);
			samples += *l != '#';
			if (!strchr(l, '\n'))
				break;
		}
		ok(help == 8 && type == 8 && samples == 8, "8 metrics, each with HELP and TYPE");
	}
	ok(b.len && s[b.len - 1] == '\n', "ends with a newline");
	buf_free(&b);
	is_int(npmetrics_render(&(struct npmetrics){ 0 }, &b), 0, "render zeros");
	ok(b.p && strstr(b.p, "virgil_policy_ok 0\n") &&
	   strstr(b.p, "virgil_policy_last_sync_seconds 0.000000\n"), "zeros: ok 0, 0.000000 s");
	buf_free(&b);
}

static void test_faults(void)
{
	struct buf b = BUF_INIT;
	unsigned long nth, calls;
	int bad = 0, r;

	if (buf_adds(&b, "keep\n"))
		bad++;
	for (nth = 1;; nth++) {
		fault_reset(nth);
		r = npmetrics_render(&sample, &b);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0 || strncmp(b.p, "keep\n# HELP", 11) != 0;
			break;
		}
		bad += r != -ENOMEM || strcmp(b.p, "keep\n") != 0;
	}
	ok(bad == 0 && nth > 1, "every allocation failure: -ENOMEM, the buffer as it was");
	buf_free(&b);
}

int main(void)
{
	test_text();
	test_faults();
	return tap_done();
}
