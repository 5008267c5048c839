// SPDX-License-Identifier: MIT
/*
 * backoff.c: the reflector backoff sequence (see backoff.h). Delays are computed in doubles
 * exactly as client-go computes them in nanoseconds, then truncated, so the integer results
 * match its sequence scaled to milliseconds.
 */
#include <errno.h>
#include <stddef.h>

#include "backoff.h"

static const struct backoff_params defaults = {
	.init_ms = BACKOFF_INIT_MS,
	.cap_ms = BACKOFF_CAP_MS,
	.reset_ms = BACKOFF_RESET_MS,
	.factor = BACKOFF_FACTOR,
	.jitter = BACKOFF_JITTER,
};

static bool params_valid(const struct backoff_params *p, bool have_rnd)
{
	/* written so that NaN fails every test */
	if (!p->init_ms || p->cap_ms < p->init_ms)
		return false;
	if (!(p->factor >= 1.0 && p->factor <= 1e6) || !(p->jitter >= 0.0 && p->jitter <= 1e6))
		return false;
	return have_rnd || p->jitter == 0.0;
}

int backoff_init(struct backoff *b, const struct backoff_params *p, uint32_t (*rnd)(void *ctx),
		 void *rnd_ctx)
{
	if (!p)
		p = &defaults;
	if (!params_valid(p, rnd != NULL))
		return -EINVAL;
	b->p = *p;
	b->rnd = rnd;
	b->rnd_ctx = rnd_ctx;
	backoff_reset(b);
	return 0;
}

void backoff_reset(struct backoff *b)
{
	b->base_ms = b->p.init_ms;
	b->last_fail_ms = 0;
	b->failures = 0;
}

/* Quiet for longer than reset_ms since the last failure; a clock that went back is not. */
static bool quiet_long_enough(const struct backoff *b, uint64_t now_ms)
{
	return b->failures && now_ms > b->last_fail_ms &&
	       now_ms - b->last_fail_ms > b->p.reset_ms;
}

static uint32_t next_base(const struct backoff *b)
{
	double next = (double)b->base_ms * b->p.factor;

	return next >= (double)b->p.cap_ms ? b->p.cap_ms : (uint32_t)next;
}

uint64_t backoff_fail(struct backoff *b, uint64_t now_ms)
{
	uint64_t d;
	double u;

	if (quiet_long_enough(b, now_ms))
		backoff_reset(b);
	d = b->base_ms;
	b->base_ms = next_base(b);
	b->last_fail_ms = now_ms;
	if (b->failures < ~0u)
		b->failures++;
	if (b->p.jitter > 0.0) {
		u = (double)b->rnd(b->rnd_ctx) / 4294967296.0;
		d += (uint64_t)(u * b->p.jitter * (double)d);
	}
	return d;
}

bool backoff_ok(struct backoff *b, uint64_t now_ms)
{
	if (!quiet_long_enough(b, now_ms))
		return false;
	backoff_reset(b);
	return true;
}
