// SPDX-License-Identifier: MIT
/* deps: core/backoff.c */
/*
 * test_backoff.c: the reflector sequence with fixed random sources (no jitter, maximal jitter,
 * half), the cap, reset after a quiet period (and not before), backoff_ok(), parameter
 * validation, and jitter bounds and spread over 10,000 draws of a pseudo-random source.
 */
#include <errno.h>

#include "tap.h"
#include "core/backoff.h"

static uint32_t fixed(void *ctx)
{
	return *(uint32_t *)ctx;
}

/* xorshift32: deterministic, good enough to spread draws over [0, 2^32) */
static uint32_t xorshift(void *ctx)
{
	uint32_t *s = ctx, x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void seq_case(uint32_t r, const uint64_t *want, size_t n, const char *what)
{
	struct backoff b;
	char msg[128];
	uint64_t now = 1000;
	size_t i;

	is_int(backoff_init(&b, NULL, fixed, &r), 0, "init with defaults");
	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "%s: delay %zu", what, i + 1);
		is_int(backoff_fail(&b, now), want[i], msg);
		now += 1000;    /* failures a second apart: never a reset */
	}
	is_int(b.failures, n, "failure count");
}

static void test_sequences(void)
{
	static const uint64_t plain[] = { 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000 };
	static const uint64_t most[] = { 1599, 3199, 6399, 12799, 25599, 51199, 59999, 59999 };
	static const uint64_t half[] = { 1200, 2400, 4800, 9600, 19200, 38400, 45000, 45000 };

	seq_case(0, plain, ARRAY_SIZE(plain), "u = 0");
	seq_case(UINT32_MAX, most, ARRAY_SIZE(most), "u = 1 - 2^-32");
	seq_case(UINT32_C(1) << 31, half, ARRAY_SIZE(half), "u = 1/2");
}

static void test_custom(void)
{
	struct backoff_params p = { .init_ms = 100, .cap_ms = 1000, .reset_ms = 5000,
				    .factor = 3.0, .jitter = 0.0 };
	static const uint64_t want[] = { 100, 300, 900, 1000, 1000 };
	struct backoff b;
	size_t i;

	is_int(backoff_init(&b, &p, NULL, NULL), 0, "no jitter needs no random source");
	for (i = 0; i < ARRAY_SIZE(want); i++)
		is_int(backoff_fail(&b, 10 + i), want[i], "factor 3, cap 1000");
	p.factor = 1.5;
	p.init_ms = 3;
	is_int(backoff_init(&b, &p, NULL, NULL), 0, "factor 1.5");
	is_int(backoff_fail(&b, 0), 3, "1.5: 3");
	is_int(backoff_fail(&b, 0), 4, "1.5: trunc(4.5)");
	is_int(backoff_fail(&b, 0), 6, "1.5: 6");
	is_int(backoff_fail(&b, 0), 9, "1.5: 9");
}

static void test_reset(void)
{
	uint32_t r = 0;
	struct backoff b;

	is_int(backoff_init(&b, NULL, fixed, &r), 0, "init");
	is_int(backoff_fail(&b, 5000), 800, "first");
	is_int(backoff_fail(&b, 6000), 1600, "second");
	is_int(backoff_fail(&b, 7000), 3200, "third");
	/* exactly reset_ms later is not "more than": client-go uses > */
	is_int(backoff_fail(&b, 7000 + BACKOFF_RESET_MS), 6400, "reset_ms later: no reset yet");
	is_int(backoff_fail(&b, 7000 + 2 * BACKOFF_RESET_MS + 1), 800, "reset_ms + 1 later: reset");
	is_int(b.failures, 1, "count restarted");
	is_int(backoff_fail(&b, 7000 + 2 * BACKOFF_RESET_MS + 2), 1600, "then grows again");

	ok(!backoff_ok(&b, 7000 + 2 * BACKOFF_RESET_MS + 10), "ok soon after a failure: no reset");
	is_int(b.failures, 2, "count kept");
	ok(backoff_ok(&b, 7000 + 3 * BACKOFF_RESET_MS + 3), "ok after a quiet period: reset");
	is_int(b.failures, 0, "count cleared");
	ok(!backoff_ok(&b, 7000 + 4 * BACKOFF_RESET_MS), "ok with no failures: nothing to reset");
	is_int(backoff_fail(&b, 7000 + 4 * BACKOFF_RESET_MS + 1), 800, "starts at init");

	is_int(backoff_fail(&b, 100), 1600, "clock going back: no reset");
	backoff_reset(&b);
	is_int(backoff_fail(&b, 101), 800, "backoff_reset");
	backoff_reset(&b);
	backoff_reset(&b);
	is_int(b.failures, 0, "reset is idempotent");
}

static void test_invalid(void)
{
	static const struct backoff_params bad[] = {
		{ .init_ms = 0, .cap_ms = 10, .factor = 2, .jitter = 0 },
		{ .init_ms = 10, .cap_ms = 9, .factor = 2, .jitter = 0 },
		{ .init_ms = 10, .cap_ms = 10, .factor = 0.5, .jitter = 0 },
		{ .init_ms = 10, .cap_ms = 10, .factor = 2, .jitter = -1 },
		{ .init_ms = 10, .cap_ms = 10, .factor = __builtin_nan(""), .jitter = 0 },
		{ .init_ms = 10, .cap_ms = 10, .factor = 2, .jitter = __builtin_nan("") },
	};
	struct backoff b = { .failures = 7 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(backoff_init(&b, &bad[i], fixed, NULL), -EINVAL, "bad parameters");
	is_int(backoff_init(&b, NULL, NULL, NULL), -EINVAL, "jitter without random source");
	is_int(b.failures, 7, "untouched on error");
}

/* Every delay within [base, 2 base); the draws spread over the interval. */
static void test_jitter_bounds(void)
{
	uint64_t base = BACKOFF_INIT_MS, d, lo = UINT64_MAX, hi = 0, sum = 0;
	uint32_t seed = 12345;
	unsigned bad = 0, i, n = 10000;
	struct backoff b;

	is_int(backoff_init(&b, NULL, xorshift, &seed), 0, "init");
	for (i = 0; i < n; i++) {
		backoff_reset(&b);
		d = backoff_fail(&b, i);
		if (d < base || d >= 2 * base)
			bad++;
		lo = MIN(lo, d);
		hi = MAX(hi, d);
		sum += d - base;
	}
	is_int(bad, 0, "10,000 first delays in [800, 1600)");
	ok(lo < base + 8 && hi > 2 * base - 8, "draws reach both ends of the interval");
	ok(sum / n > base / 2 - 20 && sum / n < base / 2 + 20, "mean jitter near base/2");
	diag("jitter over %u draws: min %llu max %llu mean +%llu ms", n, (unsigned long long)lo,
	     (unsigned long long)hi, (unsigned long long)(sum / n));

	bad = 0;
	for (i = 0; i < n; i++) {
		d = backoff_fail(&b, i);
		if (i >= 6 && (d < BACKOFF_CAP_MS || d >= 2 * BACKOFF_CAP_MS))
			bad++;
	}
	is_int(bad, 0, "capped delays in [30000, 60000)");
}

int main(void)
{
	/* tap.h's guard helpers are for parser tests; this one has no text input */
	(void)guard_copy;
	(void)guard_free;
	test_sequences();
	test_custom();
	test_reset();
	test_invalid();
	test_jitter_bounds();
	return tap_done();
}
