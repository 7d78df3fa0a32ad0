#include "retry.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "num.h"
#include "wrapper.h"

#define DEFAULT_ATTEMPTS 5
#define DEFAULT_BUDGET_MS 60000L
#define DEFAULT_BASE_MS 500L
#define DEFAULT_MAX_BACKOFF_MS 30000L
/* how often a default sleep looks at the cancellation */
#define SLEEP_SLICE_MS 100L

struct azl_retry {
	struct azl_retry_options o;  /* with the defaults filled in */
	pthread_mutex_t seed_lock;
	unsigned int seed;           /* jitter */
};

/* Delta-seconds: 1*DIGIT, saturating rather than overflowing. */
static long parse_delta(const char *value)
{
	long secs;

	if (value[strspn(value, "0123456789")])
		return -1;
	azl_num_scan(value, 0, AZL_RETRY_AFTER_MAX_S, &secs);
	return azl_num_mul(secs, 1000L);
}

static int month_index(const char *mon)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (!strncmp(months + 3 * i, mon, 3))
			return i;
	return -1;
}

/* IMF-fixdate; the widths keep every field in range of an int, and the
 * checks keep timegm() away from years it cannot represent. */
int azl_retry_http_date(const char *value, time_t *out)
{
	struct tm tm = { 0 };
	char mon[4] = "", gmt[4] = "";
	int end = 0;

	if (!value || sscanf(value, "%*3[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n", &tm.tm_mday, mon,
			     &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, gmt, &end) != 7 ||
	    value[end] || strcmp(gmt, "GMT"))
		return AZL_EINVALID;
	tm.tm_mon = month_index(mon);
	if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 1970 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_hour < 0 ||
	    tm.tm_min < 0 || tm.tm_sec < 0)
		return AZL_EINVALID;
	tm.tm_year -= 1900;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? AZL_EINVALID : 0;
}

static long parse_date(const char *value, time_t now)
{
	time_t when;

	if (azl_retry_http_date(value, &when))
		return -1;
	if (when <= now)
		return 0;
	if (when - now >= AZL_RETRY_AFTER_MAX_S)
		return AZL_RETRY_AFTER_MAX_MS;
	return azl_num_mul((long)(when - now), 1000L);
}

long azl_retry_after_parse(const char *value, time_t now)
{
	if (!value || !*value)
		return -1;
	if (*value >= '0' && *value <= '9')
		return parse_delta(value);
	return parse_date(value, now);
}

int azl_retry_is_busy(const char *reason)
{
	return reason && (!strcmp(reason, "OperationNotAllowed") ||
			  !strcmp(reason, "AnotherOperationInProgress"));
}

int azl_retry_status_code(long status, const char *reason)
{
	switch (status) {
	case 400: case 422: return AZL_EINVALID;
	case 401: return AZL_EAUTH;
	case 403: return AZL_EFORBIDDEN;
	case 404: return AZL_ENOTFOUND;
	case 408: return AZL_ETIMEOUT;
	case 409: return azl_retry_is_busy(reason) ? AZL_EBUSY : AZL_ECONFLICT;
	case 410: return AZL_EGONE;
	case 412: return AZL_ESTALE;
	case 429: return AZL_ETHROTTLED;
	default: return status >= 500 && status < 600 ? AZL_ESERVER : AZL_ERROR;
	}
}

int azl_retry_status_is_transient(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 ||
	       status == 503 || status == 504;
}

int azl_retry_new(struct azl_retry **out, const struct azl_retry_options *opts)
{
	static const struct azl_retry_options none;
	struct azl_retry *r = xcalloc(1, sizeof(*r));

	if (!opts)
		opts = &none;
	r->o = *opts;
	if (r->o.max_attempts <= 0)
		r->o.max_attempts = DEFAULT_ATTEMPTS;
	if (r->o.budget_ms <= 0)
		r->o.budget_ms = DEFAULT_BUDGET_MS;
	if (r->o.base_ms <= 0)
		r->o.base_ms = DEFAULT_BASE_MS;
	if (r->o.max_backoff_ms <= 0)
		r->o.max_backoff_ms = DEFAULT_MAX_BACKOFF_MS;
	pthread_mutex_init(&r->seed_lock, NULL);
	/* per policy, so processes throttled together do not jitter alike */
	r->seed = (unsigned int)monotonic_ms() ^ (unsigned int)getpid() ^ (unsigned int)(uintptr_t)r;
	*out = r;
	return 0;
}

void azl_retry_free(struct azl_retry *retry)
{
	if (!retry)
		return;
	pthread_mutex_destroy(&retry->seed_lock);
	free(retry);
}

long azl_retry_now_ms(const struct azl_retry *retry)
{
	return retry->o.now_ms ? retry->o.now_ms(retry->o.clock_data) : monotonic_ms();
}

long azl_retry_budget_ms(const struct azl_retry *retry)
{
	return retry->o.budget_ms;
}

int azl_retry_max_attempts(const struct azl_retry *retry)
{
	return retry->o.max_attempts;
}

int azl_retry_cancelled(const struct azl_retry *retry)
{
	return (retry->o.cancel_flag && *retry->o.cancel_flag) ||
	       (retry->o.cancelled && retry->o.cancelled(retry->o.cancel_data));
}

void azl_retry_begin(const struct azl_retry *retry, struct azl_retry_state *st)
{
	st->attempts = 0;
	st->started_ms = azl_retry_now_ms(retry);
	st->deadline_ms = azl_num_add(st->started_ms, retry->o.budget_ms);
}

static long backoff_ms(struct azl_retry *retry, int attempt)
{
	long base = retry->o.base_ms, half;
	unsigned long r;

	for (int i = 0; i < attempt && base < retry->o.max_backoff_ms; i++)
		base *= 2;
	if (base > retry->o.max_backoff_ms)
		base = retry->o.max_backoff_ms;
	/* "equal jitter": half fixed, half random, so clients throttled
	 * together do not come back together */
	half = base / 2;
	if (!half)
		return base;
	pthread_mutex_lock(&retry->seed_lock);
	r = (unsigned long)rand_r(&retry->seed);
	pthread_mutex_unlock(&retry->seed_lock);
	return half + (long)(r % (unsigned long)(half + 1));
}

int azl_retry_next(struct azl_retry *retry, struct azl_retry_state *st,
		   long retry_after_ms, long *wait_ms)
{
	long wait, now;

	*wait_ms = 0;
	st->attempts++;
	if (azl_retry_cancelled(retry))
		return AZL_ECANCELED;
	if (st->attempts >= retry->o.max_attempts)
		return AZL_ETIMEOUT;
	wait = retry_after_ms >= 0 ? retry_after_ms : backoff_ms(retry, st->attempts - 1);
	now = azl_retry_now_ms(retry);
	/* compared as a difference: now + wait could overflow */
	if (now > st->deadline_ms || wait > st->deadline_ms - now)
		return AZL_ETIMEOUT;
	*wait_ms = wait;
	return 0;
}

int azl_retry_wait(const struct azl_retry *retry, long ms)
{
	long end = azl_retry_now_ms(retry);

	end = azl_num_add(end, ms);
	for (;;) {
		long left;

		if (azl_retry_cancelled(retry))
			return azl_error_set(AZL_ECANCELED, "cancelled while waiting to try again");
		left = end - azl_retry_now_ms(retry);
		if (left <= 0)
			return 0;
		if (retry->o.sleep_ms) {
			retry->o.sleep_ms(retry->o.clock_data, left);
			continue;
		}
		sleep_millisec(left < SLEEP_SLICE_MS ? left : SLEEP_SLICE_MS);
	}
}
