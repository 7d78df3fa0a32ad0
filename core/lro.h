/* Long-running ARM operations: begin, poll, wait, abort, after the ARM
 * asynchronous-operation contract (shared/reference/aks-api.md §3.1, and
 * each operation's final-state-via in §2.2).
 *
 * azl_lro_begin() sends the PUT, POST or DELETE and reads how to follow
 * it: the Azure-AsyncOperation URL first (its body's "status" and
 * "percentComplete"), else the Location URL (202 while running, 200 or 204
 * when done, an error status when it failed), else, for a 201/202 that
 * names neither, the resource's own properties.provisioningState (a
 * DELETE is done when the resource is gone). A 200 whose resource is in a
 * terminal state, and a 204, are done at once.
 *
 * azl_lro_wait() polls until Succeeded, Failed or Canceled. It waits
 * between polls what the last Retry-After said, never less (and at least
 * a second); without one, the default interval (10 s), capped by the
 * ceiling (60 s). Each poll asks the client's token source afresh, so a
 * credential that refreshes itself (azl_arm_credential) keeps a wait of
 * hours going past the hour a token lasts; a 401 gets a fresh token once
 * (arm.h). The wait's retry policy (retry.h) bounds it in time, can cancel
 * it, and retries each poll's transient failures.
 *
 * When the operation succeeds, the final resource is fetched as its
 * final-state-via says: for a PUT/PATCH followed through
 * Azure-AsyncOperation or provisioningState, a GET of the resource; with
 * final-state-via location, the Location URL's answer.
 *
 * A Failed or Canceled operation returns AZL_ERROR or AZL_ECANCELED with
 * one line: the kind, the resource, the state, the error's code and
 * message and the correlation id of the request that began it.
 *
 * What another process needs to pick the poll up again (the status URL and
 * how to read it, the resource, its eTag, the method, the kind, the
 * correlation id) serialises to a small JSON object, for the journal. It
 * holds no secret: status URLs carry no token. */
#ifndef AZL_LRO_H
#define AZL_LRO_H

#include <cjson/cJSON.h>

#include "arm.h"
#include "retry.h"

/* Where the final resource comes from (final-state-via). */
enum azl_lro_final {
	AZL_LRO_FINAL_ASYNC_OPERATION,   /* "azure-async-operation" */
	AZL_LRO_FINAL_LOCATION           /* "location" */
};

struct azl_lro;

/* Sends req (a PUT, POST, PATCH or DELETE) and returns in *out the
 * operation it began, possibly done already. kind is the caller's label
 * for messages and the journal ("agentPools.createOrUpdate"). A refused
 * request (409 busy, 412 stale eTag, 400...) returns its error and sets
 * *out to NULL. */
int azl_lro_begin(struct azl_lro **out, struct azl_arm *arm, const struct azl_arm_request *req,
		  const char *kind, enum azl_lro_final final_via);
void azl_lro_free(struct azl_lro *lro);

/* One poll of the status (retried on transient failures under retry, or
 * the client's policy when NULL). Returns 0 with the state updated, or the
 * error of a status URL that could not be read. A terminal state is not an
 * error here; azl_lro_wait() turns it into the result. */
int azl_lro_poll(struct azl_lro *lro, struct azl_arm *arm, struct azl_retry *retry);

/* Called after every poll (and once before the first wait). */
typedef void (*azl_lro_progress_fn)(void *data, const struct azl_lro *lro);

struct azl_lro_wait_options {
	/* Bounds the wait (its budget), cancels it, and retries each poll;
	 * NULL: 24 hours, not cancellable. */
	struct azl_retry *retry;
	long default_interval_ms;    /* without Retry-After; 0: 10000 */
	long max_interval_ms;        /* ceiling of that; 0: 60000 */
	azl_lro_progress_fn progress;
	void *progress_data;
};

/* Polls until the operation ends, then fetches the final resource.
 * Returns 0 when it Succeeded; AZL_ERROR (Failed) or AZL_ECANCELED
 * (Canceled, or the policy cancelled the wait); AZL_ETIMEOUT when the
 * budget would pass first (the operation goes on in Azure: the message
 * says so); or a poll's error. */
int azl_lro_wait(struct azl_lro *lro, struct azl_arm *arm, const struct azl_lro_wait_options *opts);

/* Follows n operations at once, each polled when its own interval (as
 * azl_lro_wait's) is over, until one ends: *which is its index and the
 * return azl_lro_wait's for it; the others go on (call again to follow
 * them). A poll's error or the policy's cancellation names *which too.
 * o->retry is required. */
int azl_lro_wait_any(struct azl_lro *const *lros, size_t n, struct azl_arm *arm,
		     const struct azl_lro_wait_options *o, size_t *which);

/* Asks ARM to cancel the operation: POST <resource>/abort (aks-api.md
 * §2.2). The operation then goes Canceling and Canceled; wait for it with
 * azl_lro_wait(). A 409 (whatever its code: AKS answers OperationNotAllowed
 * when nothing runs) means it ended before it could be aborted:
 * AZL_ECONFLICT. */
int azl_lro_abort(struct azl_lro *lro, struct azl_arm *arm);

/* The state. status is "InProgress", "Succeeded", "Failed", "Canceled",
 * "Canceling" or whatever the status resource said; percent is -1 when
 * ARM gave none. */
int azl_lro_done(const struct azl_lro *lro);
const char *azl_lro_status(const struct azl_lro *lro);
double azl_lro_percent(const struct azl_lro *lro);
const char *azl_lro_kind(const struct azl_lro *lro);
const char *azl_lro_resource(const struct azl_lro *lro);
const char *azl_lro_status_url(const struct azl_lro *lro);
const char *azl_lro_etag(const struct azl_lro *lro);  /* "" when none */
/* The one-line error of a Failed or Canceled operation; "" otherwise. */
const char *azl_lro_error(const struct azl_lro *lro);
/* The final resource once Succeeded (NULL when it has none, such as a
 * DELETE's); owned by lro. */
const cJSON *azl_lro_result(const struct azl_lro *lro);

/* The state to resume from, as a new JSON object (caller owns):
 * {"kind","method","resource","statusUrl","statusVia","location",
 *  "finalStateVia","eTag","correlationId","status","percentComplete"}. */
cJSON *azl_lro_to_json(const struct azl_lro *lro);
/* Rebuilds an operation from azl_lro_to_json()'s object; a missing or
 * wrong field is AZL_EINVALID naming it. */
int azl_lro_from_json(struct azl_lro **out, const cJSON *json);

#endif
