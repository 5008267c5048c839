/* SPDX-License-Identifier: MIT */
/*
 * backoff.h: capped exponential backoff with jitter, with the semantics of client-go's
 * reflector (tools/cache/reflector.go: NewExponentialBackoffManager(800ms, 30s, 2min, 2.0,
 * 1.0)). One instance is shared by the LIST and WATCH paths of a resource, as client-go does
 * since kubernetes/kubernetes#118132. Pure: the caller passes the monotonic clock in (now_ms
 * on every call) and a random source at init, so a test with a fixed source sees a fixed
 * sequence. No allocation, no state outside the struct; not thread-safe (one owner).
 *
 * The sequence, as wait.Backoff.Step() computes it:
 *   base_1 = init_ms;  base_{k+1} = min(trunc(base_k × factor), cap_ms)
 *   delay_k = base_k + trunc(u × jitter × base_k),  u = rnd(ctx) / 2^32 ∈ [0, 1)
 * This is wait.Jitter(d, jitter) = d + rand.Float64() × jitter × d with a 32-bit uniform
 * draw in place of Float64. The cap applies to the base, before jitter: with the defaults
 * the bases run 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, … ms and each delay lies
 * in [base, 2 × base), so a failing server is retried every [30 s, 60 s) at worst.
 *
 * Reset: a failure that comes more than reset_ms after the previous failure starts over at
 * init_ms (client-go compares now - lastBackoffStart > backoffResetDuration: strictly greater).
 * Like client-go, the healthy period is measured from the last failure, not from the last
 * success; backoff_ok() only lets the caller notice the reset early (to log "recovered").
 */
#ifndef VIRGIL_BACKOFF_H
#define VIRGIL_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>
#include "../base/compat.h"

#define BACKOFF_INIT_MS 800u
#define BACKOFF_CAP_MS 30000u
#define BACKOFF_RESET_MS 120000u
#define BACKOFF_FACTOR 2.0
#define BACKOFF_JITTER 1.0

struct backoff_params {
	uint32_t init_ms;       /* first base delay, > 0 */
	uint32_t cap_ms;        /* largest base delay, ≥ init_ms */
	uint32_t reset_ms;      /* quiet time after which the next failure starts over */
	double factor;          /* ≥ 1 */
	double jitter;          /* ≥ 0; 0 = no jitter (rnd may then be NULL) */
};

/* Fields are read-only for callers; failures is the count since the last reset. */
struct backoff {
	struct backoff_params p;
	uint32_t (*rnd)(void *ctx);
	void *rnd_ctx;
	uint32_t base_ms;       /* base of the next delay, before jitter */
	uint64_t last_fail_ms;  /* now_ms of the last backoff_fail() */
	unsigned failures;
};

/*
 * p NULL = the reflector defaults above. rnd returns uniformly distributed 32-bit values;
 * it is called once per backoff_fail() when jitter > 0. Returns 0, or -EINVAL for a
 * parameter out of range or a missing rnd while jitter > 0 (b is then untouched).
 */
int backoff_init(struct backoff *b, const struct backoff_params *p, uint32_t (*rnd)(void *ctx),
		 void *rnd_ctx) __must_check;

/* An attempt failed at now_ms: how long to wait before the next one, in ms (> 0). */
uint64_t backoff_fail(struct backoff *b, uint64_t now_ms);

/*
 * An attempt succeeded at now_ms. Resets (and returns true) when there were failures and
 * the last one is more than reset_ms old; otherwise changes nothing and returns false. A
 * caller that never calls it gets the same delays: backoff_fail() applies the same rule.
 */
bool backoff_ok(struct backoff *b, uint64_t now_ms);

/* Start over at init_ms now (e.g. the endpoint changed). Idempotent. */
void backoff_reset(struct backoff *b);

#endif
