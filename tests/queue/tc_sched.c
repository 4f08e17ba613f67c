/*
 * tc_sched.c — the retry policy as pure functions: exponential growth,
 * the cap, the jitter's bounds, and the dead-letter decision by attempts
 * and by age, driven with chosen random numbers and a fake clock.
 */
#include <string.h>

#include "queue_int.h"
#include "tests.h"

START_TEST(backoff_grows_and_caps)
{
	/* rnd = 0 gives the lower bound d - d/2, rnd = UINT32_MAX some value
	 * in range; with half+1 dividing nothing special, check both ends. */
	const int64_t base = 1000, max = 60000;
	int64_t d = base;
	unsigned n;

	for (n = 1; n <= 12; n++) {
		int64_t lo = queue__sched_backoff(base, max, n, 0);
		int64_t hi = queue__sched_backoff(base, max, n, (uint32_t)(d / 2));

		ck_assert_int_eq(lo, d - d / 2);
		ck_assert_int_eq(hi, d);
		d = d * 2 > max ? max : d * 2;
	}
	/* Attempt 1: [500, 1000]; attempt 4: [4000, 8000]; capped at 60 s. */
	ck_assert_int_eq(queue__sched_backoff(base, max, 1, 0), 500);
	ck_assert_int_eq(queue__sched_backoff(base, max, 4, 0), 4000);
	ck_assert_int_eq(queue__sched_backoff(base, max, 4, 4000), 8000);
	ck_assert_int_eq(queue__sched_backoff(base, max, 1000, 0), 30000);
	ck_assert_int_eq(queue__sched_backoff(base, max, UINT32_MAX, 30000), 60000);
}
END_TEST

START_TEST(backoff_jitter_spreads)
{
	/* Over many random draws the delays stay in [d/2, d] and are not all
	 * equal: the jitter spreads retries of messages that failed together. */
	int64_t first = -1;
	int differ = 0;
	uint32_t r = 12345;
	unsigned i;

	for (i = 0; i < 1000; i++) {
		int64_t v;

		r = r * 1103515245u + 12345u;
		v = queue__sched_backoff(60000, 4 * 3600000LL, 3, r);
		ck_assert_int_ge(v, 120000);
		ck_assert_int_le(v, 240000);
		if (first < 0)
			first = v;
		else if (v != first)
			differ = 1;
	}
	ck_assert(differ);
}
END_TEST

START_TEST(backoff_odd_inputs)
{
	/* A zero base still makes progress; max below base is raised to base. */
	ck_assert_int_ge(queue__sched_backoff(0, 0, 1, 0), 1);
	ck_assert_int_eq(queue__sched_backoff(5000, 10, 3, 0), 2500);
	ck_assert_int_eq(queue__sched_backoff(5000, 10, 3, 2500), 5000);
}
END_TEST

START_TEST(expiry)
{
	char why[128];
	const int64_t t0 = 1000000;

	ck_assert_int_eq(queue__sched_expired(5, 0, 4, t0, t0 + 999999999, why, sizeof(why)), 0);
	ck_assert_int_eq(queue__sched_expired(5, 0, 5, t0, t0, why, sizeof(why)), 1);
	ck_assert(strstr(why, "5 attempts") != NULL);
	ck_assert_int_eq(queue__sched_expired(0, 3600000, 100, t0, t0 + 3599999, why, sizeof(why)),
	                 0);
	ck_assert_int_eq(queue__sched_expired(0, 3600000, 1, t0, t0 + 3600000, why, sizeof(why)),
	                 1);
	ck_assert(strstr(why, "3600 s") != NULL);
	/* No limits at all: never. */
	ck_assert_int_eq(queue__sched_expired(0, 0, 1000000, 0, INT64_MAX / 2, why, sizeof(why)),
	                 0);
}
END_TEST

TCase *tc_sched(void)
{
	TCase *tc = tcase_create("sched");

	tcase_add_test(tc, backoff_grows_and_caps);
	tcase_add_test(tc, backoff_jitter_spreads);
	tcase_add_test(tc, backoff_odd_inputs);
	tcase_add_test(tc, expiry);
	return tc;
}
