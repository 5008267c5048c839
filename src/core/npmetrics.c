// SPDX-License-Identifier: MIT
/*
 * npmetrics.c: the Prometheus text of the policy figures (npmetrics.h). Every metric gets its
 * HELP and TYPE lines; names follow the Prometheus conventions (base units: seconds; counters
 * end in _total).
 */
#include <errno.h>
#include <inttypes.h>

#include "../base/buf.h"
#include "npmetrics.h"

static int metric(struct buf *b, const char *name, const char *type, const char *help,
		  uint64_t v)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name,
			  type, name, v);
}

int npmetrics_render(const struct npmetrics *m, struct buf *out)
{
	size_t len = out->len;
	int r;

	r = metric(out, "virgil_policy_ok", "gauge",
		   "1 when the node's NetworkPolicy ruleset is in the kernel as compiled, 0 while "
		   "programming it fails (see status.json).", m->ok);
	r = r ? r : metric(out, "virgil_policy_problems", "gauge",
			   "NetworkPolicies that cannot be enforced as written: the pods they "
			   "select fail closed (isolated, no allowance from them).", m->problems);
	r = r ? r : metric(out, "virgil_policy_syncs_total", "counter",
			   "Programming passes that succeeded.", m->syncs);
	r = r ? r : metric(out, "virgil_policy_sync_errors_total", "counter",
			   "Programming passes that failed (retried with backoff).",
			   m->sync_errors);
	r = r ? r : metric(out, "virgil_policy_groups", "gauge",
			   "Policy groups (one nftables chain each) on this node.", m->groups);
	r = r ? r : metric(out, "virgil_policy_isolated_addresses", "gauge",
			   "Addresses of this node's pods that some policy isolates.", m->isolated);
	r = r ? r : metric(out, "virgil_policy_set_elements", "gauge",
			   "Elements of the groups' sets (a set shared by groups counts per group).",
			   m->elements);
	if (!r)
		r = buf_printf(out, "# HELP virgil_policy_last_sync_seconds How long the last "
			       "programming pass that changed the kernel took.\n"
			       "# TYPE virgil_policy_last_sync_seconds gauge\n"
			       "virgil_policy_last_sync_seconds %" PRIu64 ".%06" PRIu64 "\n",
			       m->last_sync_us / 1000000, m->last_sync_us % 1000000);
	if (r) {
		out->len = len;
		if (out->p)
			out->p[len] = '\0';
		return -ENOMEM;
	}
	return 0;
}
