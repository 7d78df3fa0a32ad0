/* A fake clock for retry policies (retry.h): it moves only when slept on,
 * so tests of retries and polling cost no real time and can assert how
 * long was waited. It can raise a cancellation flag on its first sleep. */
#ifndef AZL_TESTCLOCK_H
#define AZL_TESTCLOCK_H

#include <signal.h>
#include <stdlib.h>

#include "retry.h"

struct tc_clock {
	long now;
	long slept;                  /* in all */
	int sleeps;
	volatile sig_atomic_t cancel;
	int cancel_on_sleep;
};

static inline long tc_now(void *data)
{
	return ((struct tc_clock *)data)->now;
}

static inline void tc_sleep(void *data, long ms)
{
	struct tc_clock *c = data;

	c->now += ms;
	c->slept += ms;
	c->sleeps++;
	if (c->cancel_on_sleep)
		c->cancel = 1;
}

/* A policy on clock c, cancelled by c->cancel. */
static inline struct azl_retry *tc_policy(struct tc_clock *c, int attempts, long budget_ms,
					  long base_ms)
{
	struct azl_retry_options o = { 0 };
	struct azl_retry *r;

	o.max_attempts = attempts;
	o.budget_ms = budget_ms;
	o.base_ms = base_ms;
	o.max_backoff_ms = 1000;
	o.cancel_flag = &c->cancel;
	o.now_ms = tc_now;
	o.sleep_ms = tc_sleep;
	o.clock_data = c;
	if (azl_retry_new(&r, &o))
		abort();
	return r;
}

#endif
