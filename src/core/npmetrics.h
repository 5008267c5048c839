/* SPDX-License-Identifier: MIT */
/*
 * npmetrics.h: the agent's NetworkPolicy figures in the Prometheus text exposition format
 * (version 0.0.4), for `<dataDir>/metrics.prom`: node-exporter's textfile collector (or any
 * scraper of files) picks it up, so a policy that fails closed or a ruleset that cannot be
 * programmed shows on a dashboard and can raise an alert, with no port to open on the node.
 * Pure: values in, text out.
 */
#ifndef VIRGIL_NPMETRICS_H
#define VIRGIL_NPMETRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct buf;

struct npmetrics {
	bool ok;			/* the last programming pass succeeded */
	uint64_t syncs;			/* programming passes that succeeded */
	uint64_t sync_errors;		/* ... and that failed */
	size_t problems;		/* policies that cannot be enforced as written */
	size_t groups;			/* policy groups (chains) in the kernel */
	size_t isolated;		/* local pod addresses under some policy */
	size_t elements;		/* set elements of the groups */
	uint64_t last_sync_us;		/* how long the last pass that changed something took */
};

/* Append the exposition text to out: 0, or -ENOMEM (out as it was). */
int npmetrics_render(const struct npmetrics *m, struct buf *out) __must_check;

#endif
