/*
 * sched.c — the queue's retry policy: exponential back-off with jitter, and
 * the dead-letter decision. Pure functions of their arguments (no clock, no
 * random source, no store), so tests drive them with a fake clock and chosen
 * random numbers; the store keeps the state they decide on.
 *
 * Functions:
 *   queue__sched_backoff()  delay before the next attempt.
 *   queue__sched_expired()  has a message run out of attempts or age?
 *
 * Formula (docs/queue.md "Retries"): after n failed attempts,
 *   d = min(max, base * 2^(n-1)),  delay = d - d/2 + rnd mod (d/2 + 1)
 * ("equal jitter": never less than half the exponential delay, so back-off
 * still grows, but spread over [d/2, d] so that messages that failed
 * together, e.g. when a peer went down, do not all retry at the same
 * instant). No overflow: doubling stops at max.
 */
#include "queue_int.h"

#include <stdio.h>

/* queue__sched_backoff: exponential delay with equal jitter. */
int64_t queue__sched_backoff(int64_t base_ms, int64_t max_ms, unsigned attempts, uint32_t rnd)
{
	int64_t d = base_ms > 0 ? base_ms : 1;
	int64_t half;
	unsigned i;

	if (max_ms < d)
		max_ms = d;
	for (i = 1; i < attempts && d < max_ms; i++)
		d = d > max_ms / 2 ? max_ms : d * 2;
	if (d > max_ms)
		d = max_ms;
	half = d / 2;
	return d - half + (int64_t)(rnd % (uint64_t)(half + 1));
}

/* queue__sched_expired: the dead-letter decision. */
int queue__sched_expired(unsigned max_attempts, int64_t max_age_ms, unsigned attempts,
                         int64_t created, int64_t now, char *why, size_t whylen)
{
	if (max_attempts > 0 && attempts >= max_attempts) {
		secmx_errf(why, whylen, "gave up after %u attempts", attempts);
		return 1;
	}
	if (max_age_ms > 0 && now - created >= max_age_ms) {
		secmx_errf(why, whylen, "gave up after %lld s in the queue",
		           (long long)((now - created) / 1000));
		return 1;
	}
	return 0;
}
