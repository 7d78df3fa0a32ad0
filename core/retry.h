/* What the ARM and Kubernetes clients share about a failed HTTP answer: the
 * one Retry-After parser, the one HTTP-status-to-AZL_E* map, and the one
 * retry policy. A client never decides on its own how long to keep trying
 * or sleeps outside a policy: the caller owns the policy (how many tries,
 * until when, how to back off, when to give up because it was cancelled)
 * and hands it to the client, which asks it after each failure whether and
 * when to try again, and waits through azl_retry_wait().
 *
 * Status map (both APIs):
 *   400, 422            AZL_EINVALID   (the request was refused as invalid;
 *                                       Kubernetes' "Invalid" is 422)
 *   401                 AZL_EAUTH
 *   403                 AZL_EFORBIDDEN
 *   404                 AZL_ENOTFOUND
 *   408                 AZL_ETIMEOUT
 *   409 busy            AZL_EBUSY      (ARM OperationNotAllowed or
 *                                       AnotherOperationInProgress: another
 *                                       operation runs; wait or abort it)
 *   409 other           AZL_ECONFLICT  (the object exists, or is in a state
 *                                       that refuses the request)
 *   410                 AZL_EGONE      (a watch's resourceVersion or a list's
 *                                       continue token is too old: relist)
 *   412                 AZL_ESTALE     (If-Match failed: our eTag or
 *                                       resourceVersion is older than the
 *                                       server's; GET again)
 *   429                 AZL_ETHROTTLED
 *   5xx                 AZL_ESERVER
 *   anything else       AZL_ERROR
 */
#ifndef AZL_RETRY_H
#define AZL_RETRY_H

#include <signal.h>
#include <time.h>

/* The longest wait a Retry-After can ask for: 2^31 s, as RFC 9111 §1.2.2
 * reads a delta-seconds too large to hold. A bigger value (or a date
 * further away) is taken as this, never overflowing; a policy's deadline
 * then decides whether to wait that long (it will not). */
#define AZL_RETRY_AFTER_MAX_S 2147483648L
#define AZL_RETRY_AFTER_MAX_MS (AZL_RETRY_AFTER_MAX_S * 1000L)

/* Parses a Retry-After value, delta-seconds ("120") or an HTTP-date
 * (RFC 9110 IMF-fixdate, "Wed, 21 Oct 2026 07:28:00 GMT", compared with
 * now), into milliseconds, saturating at AZL_RETRY_AFTER_MAX_MS. A date in
 * the past is 0. Returns -1 when value is NULL, empty or not one of the
 * two forms. */
long azl_retry_after_parse(const char *value, time_t now);

/* An HTTP-date (IMF-fixdate) as a time: 0 and *out set, or AZL_EINVALID
 * (no message) when value is NULL or not one. A server's Date header says
 * what time it is there. */
int azl_retry_http_date(const char *value, time_t *out);

/* The AZL_E* code for a non-2xx HTTP status, from the table above. reason
 * is the error body's code (ARM's error.code, Kubernetes' Status reason),
 * or NULL; it only tells a busy 409 from another. */
int azl_retry_status_code(long status, const char *reason);

/* 1 when a 409 with this error code means "another operation is in
 * progress" (AZL_EBUSY). */
int azl_retry_is_busy(const char *reason);

/* 1 for the statuses worth trying again when the request may be repeated
 * safely: 408, 429, 500, 502, 503, 504. */
int azl_retry_status_is_transient(long status);

/* A retry policy. The fields are read-only once azl_retry_new() returns;
 * a policy may be shared by any number of requests on any number of
 * threads (its jitter is drawn under a lock). */
struct azl_retry;

struct azl_retry_options {
	int max_attempts;            /* tries in all, the first included; 0: 5 */
	long budget_ms;              /* time for all tries and waits; 0: 60000 */
	long base_ms;                /* first backoff; 0: 500; doubles */
	long max_backoff_ms;         /* backoff ceiling; 0: 30000 */
	/* Cancellation: either, both or neither. The flag (set by a signal
	 * handler, say) or the callback returning nonzero stops the next
	 * wait at once with AZL_ECANCELED. */
	const volatile sig_atomic_t *cancel_flag;
	int (*cancelled)(void *data);
	void *cancel_data;
	/* The clock and the sleep, for tests that must not wait: NULL means
	 * monotonic_ms() and a sleep in slices of at most 100 ms between
	 * which cancellation is checked. A sleep_ms must move now_ms on by
	 * about the time it was asked to sleep. */
	long (*now_ms)(void *data);
	void (*sleep_ms)(void *data, long ms);
	void *clock_data;
};

int azl_retry_new(struct azl_retry **out, const struct azl_retry_options *opts);
void azl_retry_free(struct azl_retry *retry);

/* The state of one request's tries, on the caller's stack. */
struct azl_retry_state {
	int attempts;                /* tries made so far */
	long started_ms;
	long deadline_ms;            /* started_ms + budget (saturated) */
};

/* Starts counting the tries of one request. */
void azl_retry_begin(const struct azl_retry *retry, struct azl_retry_state *st);

/* Counts a failed try and decides: returns 0 with *wait_ms set (the
 * server's retry_after_ms when >= 0, honoured even above the backoff,
 * else a jittered exponential backoff) when another try fits in both the
 * attempts and the deadline; AZL_ETIMEOUT when the tries are used up or
 * waiting would pass the deadline; AZL_ECANCELED when cancelled. Sets no
 * error message: the caller words it (it knows the request). */
int azl_retry_next(struct azl_retry *retry, struct azl_retry_state *st,
		   long retry_after_ms, long *wait_ms);

/* Waits ms through the policy's sleep; returns 0, or AZL_ECANCELED (with
 * a message) as soon as cancellation is seen. */
int azl_retry_wait(const struct azl_retry *retry, long ms);

/* 1 when the policy's cancellation has been requested. */
int azl_retry_cancelled(const struct azl_retry *retry);

/* The policy's clock, in milliseconds (monotonic unless replaced). */
long azl_retry_now_ms(const struct azl_retry *retry);

/* The budget and attempts it was made with, for messages. */
long azl_retry_budget_ms(const struct azl_retry *retry);
int azl_retry_max_attempts(const struct azl_retry *retry);

#endif
