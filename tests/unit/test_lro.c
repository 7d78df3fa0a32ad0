/* lro.c's state machine against an in-process HTTPS server, on a fake
 * clock: Azure-AsyncOperation first, else Location, else provisioningState;
 * done at once on a terminal 200 or a 204; Succeeded, Failed and Canceled
 * (the error as one line); percentComplete through the progress callback;
 * Retry-After honoured and never polled faster, the default and its
 * ceiling; the budget and cancellation; the final resource per
 * final-state-via; abort; a token that expires mid-wait; the state to
 * resume from, to JSON and back, picked up by another client. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arm.h"
#include "azlinux.h"
#include "error.h"
#include "json.h"
#include "lro.h"
#include "retry.h"
#include "testclock.h"
#include "testserver.h"

#define MC "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c"
#define POOL MC "/agentPools/np1"
#define OP "/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operations/op1"
#define LOC "/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operationresults/op1"
#define HOUR_MS (3600L * 1000L)

static struct ts_server srv;
static struct ts_script script;
static struct tc_clock clk;

/* Tokens: "tok-<hour of the fake clock>". With strict, the server refuses
 * any other with 401, as Entra's tokens expire; with cached, the token
 * source keeps its first token until asked to force. */
static int strict, cached, unauthorized;
static struct strbuf held = STRBUF_INIT;

static void current_token(struct strbuf *sb)
{
	strbuf_addf(sb, "tok-%ld", clk.now / HOUR_MS);
}

static int token_fn(void *data, int force, struct strbuf *token)
{
	(void)data;
	if (!cached || force || !held.len) {
		strbuf_reset(&held);
		current_token(&held);
	}
	strbuf_addbuf(token, &held);
	return 0;
}

static void handler(void *data, const struct ts_request *req, struct ts_response *resp)
{
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;

	ts_header(req, "Authorization", &got);
	strbuf_addstr(&want, "Bearer ");
	current_token(&want);
	if (strict && strcmp(got.buf, want.buf)) {
		unauthorized++;
		resp->status = 401;
		strbuf_addstr(&resp->body, "{\"error\":{\"code\":\"ExpiredAuthenticationToken\","
			      "\"message\":\"The access token expiry UTC time is earlier than current UTC time.\"}}");
	} else {
		ts_script_handler(data, req, resp);
	}
	strbuf_release(&got);
	strbuf_release(&want);
}

struct fixture {
	struct azl_arm *arm;
	struct azl_retry *retry;
	struct strbuf ao, loc, both;   /* header lines naming the server */
	long seen_at[16];              /* the clock at each progress report */
	double seen_pct[16];
	int seen;
};

static struct fixture fx;

static void progress(void *data, const struct azl_lro *lro)
{
	struct fixture *f = data;

	if (f->seen < 16) {
		f->seen_at[f->seen] = clk.now;
		f->seen_pct[f->seen] = azl_lro_percent(lro);
	}
	f->seen++;
}

static void new_client(struct azl_arm **arm, struct azl_retry *retry)
{
	struct azl_arm_options o = { 0 };
	struct strbuf ep = STRBUF_INIT;

	ts_url(&srv, "", &ep);
	o.token = token_fn;
	o.endpoint = ep.buf;
	o.ca_file = srv.ca_file;
	o.retry = retry;
	assert_int_equal(azl_arm_new(arm, &o), 0);
	strbuf_release(&ep);
}

static int setup(void **state)
{
	struct fixture *f = &fx;
	struct strbuf u = STRBUF_INIT;

	memset(&script, 0, sizeof(script));
	memset(&clk, 0, sizeof(clk));
	strict = cached = unauthorized = 0;
	strbuf_reset(&held);
	ts_clear_log(&srv);
	memset(f, 0, sizeof(*f));
	f->retry = tc_policy(&clk, 4, 48L * HOUR_MS, 100);
	new_client(&f->arm, f->retry);
	strbuf_init(&f->ao, 0);
	strbuf_init(&f->loc, 0);
	strbuf_init(&f->both, 0);
	ts_url(&srv, OP "?api-version=2026-10-01", &u);
	strbuf_addf(&f->ao, "Azure-AsyncOperation: %s\r\nRetry-After: 5\r\n"
		    "x-ms-correlation-request-id: corr-begin\r\n", u.buf);
	strbuf_addf(&f->both, "Azure-AsyncOperation: %s\r\n", u.buf);
	strbuf_reset(&u);
	ts_url(&srv, LOC "?api-version=2026-10-01", &u);
	strbuf_addf(&f->loc, "Location: %s\r\nRetry-After: 2\r\n", u.buf);
	strbuf_addf(&f->both, "Location: %s\r\n", u.buf);
	strbuf_release(&u);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	azl_arm_free(f->arm);
	azl_retry_free(f->retry);
	strbuf_release(&f->ao);
	strbuf_release(&f->loc);
	strbuf_release(&f->both);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	azl_global_init();
	ts_start(&srv, 1, handler, &script);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ts_stop(&srv);
	strbuf_release(&held);
	return 0;
}

static void step(const char *method, const char *prefix, int status, const char *headers,
		 const char *body, int times)
{
	ts_script_add(&script, (struct ts_step){ method, prefix, status, headers, body, times, 0 });
}

static struct azl_lro *begin(struct fixture *f, const char *method, const char *path,
			     enum azl_lro_final final_via)
{
	struct azl_arm_request req = { 0 };
	struct azl_lro *lro;
	cJSON *body = cJSON_Parse("{\"properties\":{\"count\":3}}");

	req.method = method;
	req.path = path;
	req.body = strcmp(method, "PUT") ? NULL : body;
	req.if_match = "\"e1\"";
	assert_int_equal(azl_lro_begin(&lro, f->arm, &req, "test.op", final_via), 0);
	cJSON_Delete(body);
	return lro;
}

static int wait_for(struct fixture *f, struct azl_lro *lro, long default_ms, long ceiling_ms)
{
	struct azl_lro_wait_options o = { 0 };

	o.retry = f->retry;
	o.default_interval_ms = default_ms;
	o.max_interval_ms = ceiling_ms;
	o.progress = progress;
	o.progress_data = f;
	return azl_lro_wait(lro, f->arm, &o);
}

static void test_async_operation_to_succeeded(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("PUT", POOL, 201, f->ao.buf, "{\"properties\":{\"provisioningState\":\"Updating\"}}", 1);
	step("GET", OP, 200, "Retry-After: 5\r\n",
	     "{\"status\":\"InProgress\",\"percentComplete\":30}", 1);
	step("GET", OP, 200, NULL, "{\"status\":\"InProgress\",\"percentComplete\":70}", 1);
	step("GET", OP, 200, NULL, "{\"status\":\"Succeeded\",\"percentComplete\":100}", 1);
	step("GET", POOL, 200, "ETag: \"e2\"\r\n",
	     "{\"name\":\"np1\",\"properties\":{\"provisioningState\":\"Succeeded\",\"count\":3}}", 1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_false(azl_lro_done(lro));
	assert_string_equal(azl_lro_status(lro), "InProgress");
	assert_string_equal(azl_lro_resource(lro), POOL);
	assert_non_null(strstr(azl_lro_status_url(lro), OP));
	assert_int_equal(wait_for(f, lro, 10000, 60000), 0);
	assert_string_equal(azl_lro_status(lro), "Succeeded");
	assert_int_equal(azl_json_int(azl_lro_result(lro), "properties.count", 0), 3);
	assert_string_equal(azl_lro_etag(lro), "\"e2\"");
	assert_string_equal(azl_lro_error(lro), "");
	/* Retry-After 5 (begin), 5 (first poll), then the 10 s default */
	assert_int_equal(f->seen, 4);
	assert_int_equal(f->seen_at[1] - f->seen_at[0], 5000);
	assert_int_equal(f->seen_at[2] - f->seen_at[1], 5000);
	assert_int_equal(f->seen_at[3] - f->seen_at[2], 10000);
	assert_true(f->seen_pct[0] < 0);
	assert_true(f->seen_pct[1] == 30.0 && f->seen_pct[2] == 70.0 && f->seen_pct[3] == 100.0);
	assert_int_equal(ts_count(&srv, "GET", OP), 3);
	assert_int_equal(ts_count(&srv, "GET", POOL), 1);
	azl_lro_free(lro);
}

/* Two at once: each polled at its own Retry-After; the first to end is
 * named, the other goes on in the next call. */
static void test_wait_any_follows_each_at_its_own_pace(void **state)
{
	struct fixture *f = *state;
	struct azl_lro_wait_options o = { 0 };
	struct strbuf h2 = STRBUF_INIT, u = STRBUF_INIT;
	struct azl_lro *lros[2];
	size_t which = 9;

	ts_url(&srv, OP "2?api-version=2026-10-01", &u);
	strbuf_addf(&h2, "Azure-AsyncOperation: %s\r\nRetry-After: 2\r\n", u.buf);
	step("PUT", POOL, 201, f->ao.buf, NULL, 1);
	step("PUT", MC "/agentPools/np2", 201, h2.buf, NULL, 1);
	step("GET", OP "2", 200, "Retry-After: 2\r\n", "{\"status\":\"InProgress\"}", 1);
	step("GET", OP "2", 200, NULL, "{\"status\":\"Failed\",\"error\":{\"code\":\"X\",\"message\":\"no\"}}", 1);
	step("GET", OP, 200, NULL, "{\"status\":\"Succeeded\"}", 1);
	step("GET", POOL, 200, NULL, "{\"name\":\"np1\",\"properties\":{\"count\":3}}", 1);
	lros[0] = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	lros[1] = begin(f, "PUT", MC "/agentPools/np2", AZL_LRO_FINAL_ASYNC_OPERATION);
	o.retry = f->retry;
	o.progress = progress;
	o.progress_data = f;
	/* np2 at 2 s (InProgress) and 4 s (Failed), before np1's first at 5 s */
	assert_int_equal(azl_lro_wait_any(lros, 2, f->arm, &o, &which), AZL_ERROR);
	assert_int_equal(which, 1);
	assert_int_equal(clk.now, 4000);
	assert_int_equal(ts_count(&srv, "GET", OP "2"), 2);
	assert_int_equal(azl_lro_wait_any(lros, 1, f->arm, &o, &which), 0);
	assert_int_equal(which, 0);
	assert_int_equal(clk.now, 5000);
	assert_int_equal(azl_json_int(azl_lro_result(lros[0]), "properties.count", 0), 3);
	azl_lro_free(lros[0]);
	azl_lro_free(lros[1]);
	strbuf_release(&h2);
	strbuf_release(&u);
}

static void test_location_only(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("POST", POOL "/upgradeNodeImageVersion", 202, f->loc.buf, NULL, 1);
	step("GET", LOC, 202, "Retry-After: 3\r\n", NULL, 2);
	step("GET", LOC, 200, NULL, "{\"name\":\"np1\",\"properties\":{\"nodeImageVersion\":\"new\"}}", 1);
	lro = begin(f, "POST", POOL "/upgradeNodeImageVersion", AZL_LRO_FINAL_LOCATION);
	/* the POST's resource is the pool, not the action */
	assert_string_equal(azl_lro_resource(lro), POOL);
	assert_int_equal(wait_for(f, lro, 0, 0), 0);
	assert_string_equal(azl_lro_status(lro), "Succeeded");
	assert_string_equal(azl_json_str(azl_lro_result(lro), "properties.nodeImageVersion", ""), "new");
	assert_int_equal(clk.slept, 2000 + 3000 + 3000);
	assert_int_equal(ts_count(&srv, "GET", POOL), 0);
	azl_lro_free(lro);
}

static void test_async_operation_first_final_via_location(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("POST", MC "/abort", 202, f->both.buf, NULL, 1);
	step("GET", OP, 200, NULL, "{\"status\":\"Succeeded\"}", 1);
	step("GET", LOC, 204, NULL, NULL, 1);
	lro = begin(f, "POST", MC "/abort", AZL_LRO_FINAL_LOCATION);
	assert_non_null(strstr(azl_lro_status_url(lro), OP));
	assert_int_equal(wait_for(f, lro, 0, 0), 0);
	assert_int_equal(ts_count(&srv, "GET", OP), 1);
	assert_int_equal(ts_count(&srv, "GET", LOC), 1);
	assert_null(azl_lro_result(lro));
	azl_lro_free(lro);
}

static void test_failed_is_one_line(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("PUT", POOL, 201, f->ao.buf, NULL, 1);
	step("GET", OP, 200, NULL, "{\"status\":\"Failed\",\"error\":{\"code\":\"ReconcileVMSSAgentPoolFailed\","
	     "\"message\":\"Code=\\\"OperationNotAllowed\\\"\\nquota exceeded\"}}", 1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_int_equal(wait_for(f, lro, 0, 0), AZL_ERROR);
	assert_string_equal(azl_error_message(),
			    "test.op " POOL ": the operation failed: ReconcileVMSSAgentPoolFailed: "
			    "Code=\"OperationNotAllowed\" quota exceeded (correlation id corr-begin)");
	assert_string_equal(azl_lro_error(lro), azl_error_message());
	assert_string_equal(azl_lro_status(lro), "Failed");
	/* no final GET of a failed operation */
	assert_int_equal(ts_count(&srv, "GET", POOL), 0);
	azl_lro_free(lro);
}

static void test_canceled(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("DELETE", POOL, 202, f->ao.buf, NULL, 1);
	step("GET", OP, 200, NULL, "{\"status\":\"Canceling\"}", 1);
	step("GET", OP, 200, NULL, "{\"status\":\"Canceled\",\"error\":{\"code\":\"OperationCanceled\","
	     "\"message\":\"aborted by the user\"}}", 1);
	lro = begin(f, "DELETE", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_int_equal(wait_for(f, lro, 0, 0), AZL_ECANCELED);
	assert_string_equal(azl_error_message(),
			    "test.op " POOL ": the operation was canceled: OperationCanceled: aborted by "
			    "the user (correlation id corr-begin)");
	azl_lro_free(lro);
}

static void test_status_without_status_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("PUT", POOL, 201, f->ao.buf, NULL, 1);
	step("GET", OP, 200, NULL, "{\"percentComplete\":10}", -1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_int_equal(wait_for(f, lro, 0, 0), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "following test.op " POOL ": the status resource "));
	assert_non_null(strstr(azl_error_message(), "has no \"status\""));
	/* one poll, not a wait until the budget */
	assert_int_equal(ts_count(&srv, "GET", OP), 1);
	azl_lro_free(lro);
}

static void test_location_error_fails_the_operation(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("POST", POOL "/upgradeNodeImageVersion", 202, f->loc.buf, NULL, 1);
	step("GET", LOC, 400, NULL, "{\"error\":{\"code\":\"UpgradeFailed\",\"message\":\"drain timed out\"}}", 1);
	lro = begin(f, "POST", POOL "/upgradeNodeImageVersion", AZL_LRO_FINAL_LOCATION);
	assert_int_equal(wait_for(f, lro, 0, 0), AZL_ERROR);
	assert_non_null(strstr(azl_error_message(), "the operation failed: GET " LOC
			       ": UpgradeFailed: drain timed out (HTTP 400)"));
	azl_lro_free(lro);
}

static void test_done_at_once(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("PUT", POOL, 200, NULL, "{\"properties\":{\"provisioningState\":\"Succeeded\",\"eTag\":\"e9\"}}", 1);
	step("DELETE", POOL, 204, NULL, NULL, 1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_true(azl_lro_done(lro));
	assert_string_equal(azl_lro_etag(lro), "e9");
	assert_int_equal(wait_for(f, lro, 0, 0), 0);
	assert_non_null(azl_lro_result(lro));
	azl_lro_free(lro);
	lro = begin(f, "DELETE", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_true(azl_lro_done(lro));
	assert_int_equal(wait_for(f, lro, 0, 0), 0);
	assert_null(azl_lro_result(lro));
	azl_lro_free(lro);
	assert_int_equal(clk.slept, 0);
	assert_int_equal(ts_count(&srv, "GET", ""), 0);
}

static void test_provisioning_state_and_delete_until_gone(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("PUT", POOL, 201, NULL, "{\"properties\":{\"provisioningState\":\"Creating\"}}", 1);
	step("GET", POOL, 200, NULL, "{\"properties\":{\"provisioningState\":\"Creating\"}}", 1);
	step("GET", POOL, 200, NULL, "{\"properties\":{\"provisioningState\":\"Succeeded\",\"count\":3}}", 1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_string_equal(azl_lro_status_url(lro), POOL);
	assert_int_equal(wait_for(f, lro, 0, 0), 0);
	assert_int_equal(azl_json_int(azl_lro_result(lro), "properties.count", 0), 3);
	assert_int_equal(ts_count(&srv, "GET", POOL), 2);
	azl_lro_free(lro);

	ts_clear_log(&srv);
	memset(&script, 0, sizeof(script));
	step("DELETE", POOL, 202, NULL, NULL, 1);
	step("GET", POOL, 200, NULL, "{\"properties\":{\"provisioningState\":\"Deleting\"}}", 1);
	lro = begin(f, "DELETE", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	/* then the script's 404: gone */
	assert_int_equal(wait_for(f, lro, 0, 0), 0);
	assert_string_equal(azl_lro_status(lro), "Succeeded");
	assert_int_equal(ts_count(&srv, "GET", POOL), 2);
	azl_lro_free(lro);
}

static void test_poll_intervals_floor_default_and_ceiling(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("PUT", POOL, 201, f->both.buf, NULL, 1);
	/* Retry-After 0 is polled after the 1 s floor, never at once */
	step("GET", OP, 200, "Retry-After: 0\r\n", "{\"status\":\"InProgress\"}", 1);
	/* above the ceiling, Retry-After is still honoured */
	step("GET", OP, 200, "Retry-After: 120\r\n", "{\"status\":\"InProgress\"}", 1);
	step("GET", OP, 200, NULL, "{\"status\":\"InProgress\"}", 1);
	step("GET", OP, 200, NULL, "{\"status\":\"Succeeded\"}", 1);
	step("GET", POOL, 200, NULL, "{\"name\":\"np1\"}", 1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	/* a 90 s default is cut to the 30 s ceiling */
	assert_int_equal(wait_for(f, lro, 90000, 30000), 0);
	assert_int_equal(f->seen, 5);
	assert_int_equal(f->seen_at[1] - f->seen_at[0], 30000);  /* none at begin */
	assert_int_equal(f->seen_at[2] - f->seen_at[1], 1000);
	assert_int_equal(f->seen_at[3] - f->seen_at[2], 120000);
	assert_int_equal(f->seen_at[4] - f->seen_at[3], 30000);
	azl_lro_free(lro);
}

static void test_budget_and_cancellation(void **state)
{
	struct fixture *f = *state;
	struct azl_retry *shortp = tc_policy(&clk, 4, 60000, 100);
	struct azl_lro_wait_options o = { 0 };
	struct azl_lro *lro;

	step("PUT", POOL, 201, f->ao.buf, NULL, 1);
	step("GET", OP, 200, "Retry-After: 40\r\n", "{\"status\":\"InProgress\"}", -1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	o.retry = shortp;
	assert_int_equal(azl_lro_wait(lro, f->arm, &o), AZL_ETIMEOUT);
	assert_non_null(strstr(azl_error_message(), "still InProgress after 45 s"));
	assert_non_null(strstr(azl_error_message(), "goes on in Azure"));
	assert_int_equal(ts_count(&srv, "GET", OP), 2);

	clk.cancel_on_sleep = 1;
	assert_int_equal(azl_lro_wait(lro, f->arm, &o), AZL_ECANCELED);
	assert_false(azl_lro_done(lro));
	assert_int_equal(ts_count(&srv, "GET", OP), 2);
	azl_lro_free(lro);
	azl_retry_free(shortp);
}

static void test_token_expiring_mid_wait_is_refreshed(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	/* a 2 h operation polled every 25 min: three tokens' lifetimes */
	strict = 1;
	step("PUT", POOL, 201, f->ao.buf, NULL, 1);
	step("GET", OP, 200, "Retry-After: 1500\r\n", "{\"status\":\"InProgress\"}", 5);
	step("GET", OP, 200, NULL, "{\"status\":\"Succeeded\"}", 1);
	step("GET", POOL, 200, NULL, "{\"name\":\"np1\"}", 1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_int_equal(wait_for(f, lro, 0, 0), 0);
	assert_true(clk.now >= 2 * HOUR_MS);
	/* a source that refreshes by expiry: never refused */
	assert_int_equal(unauthorized, 0);
	azl_lro_free(lro);

	/* a source that holds its token until refused: refreshed on the
	 * 401, and the wait goes on */
	memset(&script, 0, sizeof(script));
	ts_clear_log(&srv);
	clk.now = 0;
	cached = 1;
	strbuf_reset(&held);
	step("PUT", POOL, 201, f->ao.buf, NULL, 1);
	step("GET", OP, 200, "Retry-After: 1500\r\n", "{\"status\":\"InProgress\"}", 5);
	step("GET", OP, 200, NULL, "{\"status\":\"Succeeded\"}", 1);
	step("GET", POOL, 200, NULL, "{\"name\":\"np1\"}", 1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_int_equal(wait_for(f, lro, 0, 0), 0);
	assert_int_equal(unauthorized, 2);
	assert_string_equal(azl_lro_status(lro), "Succeeded");
	/* six polls, two of them refused and sent again */
	assert_int_equal(ts_count(&srv, "GET", OP), 8);
	azl_lro_free(lro);
}

static void test_resume_in_another_client(void **state)
{
	struct fixture *f = *state;
	struct azl_lro_wait_options o = { 0 };
	struct azl_lro *lro, *again;
	struct azl_arm *other;
	cJSON *json;
	char *text;

	step("PUT", POOL, 201, f->ao.buf, "{}", 1);
	step("GET", OP, 200, NULL, "{\"status\":\"InProgress\",\"percentComplete\":40}", 1);
	step("GET", OP, 200, NULL, "{\"status\":\"Succeeded\"}", 1);
	step("GET", POOL, 200, "ETag: \"e3\"\r\n", "{\"name\":\"np1\"}", 1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_int_equal(azl_lro_poll(lro, f->arm, NULL), 0);
	json = azl_lro_to_json(lro);
	text = azl_json_print(json, 0);
	assert_null(strstr(text, "tok-"));
	cJSON_Delete(json);
	azl_lro_free(lro);

	/* "another process": the JSON text and a new client */
	json = cJSON_Parse(text);
	free(text);
	assert_string_equal(azl_json_str(json, "statusVia", ""), "azure-async-operation");
	assert_string_equal(azl_json_str(json, "resource", ""), POOL);
	assert_string_equal(azl_json_str(json, "method", ""), "PUT");
	assert_string_equal(azl_json_str(json, "status", ""), "InProgress");
	assert_int_equal(azl_json_int(json, "percentComplete", 0), 40);
	assert_int_equal(azl_lro_from_json(&again, json), 0);
	cJSON_Delete(json);
	new_client(&other, f->retry);
	assert_string_equal(azl_lro_kind(again), "test.op");
	assert_true(azl_lro_percent(again) == 40.0);
	o.retry = f->retry;
	assert_int_equal(azl_lro_wait(again, other, &o), 0);
	assert_string_equal(azl_lro_etag(again), "\"e3\"");
	azl_lro_free(again);
	azl_arm_free(other);
}

static void test_from_json_names_the_field(void **state)
{
	static const struct { const char *json, *field; } bad[] = {
		{ "[]", "not a JSON object" },
		{ "{\"kind\":\"k\",\"method\":\"PUT\",\"resource\":\"/r\",\"statusVia\":\"location\","
		  "\"finalStateVia\":\"location\",\"status\":\"InProgress\"}", "\"statusUrl\" is missing" },
		{ "{\"kind\":\"k\",\"method\":\"PUT\",\"resource\":\"/r\",\"statusVia\":\"carrier-pigeon\","
		  "\"statusUrl\":\"/s\",\"finalStateVia\":\"location\",\"status\":\"InProgress\"}",
		  "\"statusVia\" is 'carrier-pigeon'" },
		{ "{\"kind\":\"k\",\"method\":\"PUT\",\"statusVia\":\"location\",\"statusUrl\":\"/s\","
		  "\"finalStateVia\":\"location\",\"status\":\"InProgress\"}", "\"resource\" is missing" },
		{ "{\"kind\":\"k\",\"method\":1,\"resource\":\"/r\",\"statusVia\":\"location\","
		  "\"statusUrl\":\"/s\",\"finalStateVia\":\"location\",\"status\":\"InProgress\"}",
		  "\"method\" is not a string" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *json = cJSON_Parse(bad[i].json);
		struct azl_lro *lro = (struct azl_lro *)1;

		assert_int_equal(azl_lro_from_json(&lro, json), AZL_EINVALID);
		assert_null(lro);
		assert_non_null(strstr(azl_error_message(), bad[i].field));
		assert_non_null(strstr(azl_error_message(), "operation state"));
		cJSON_Delete(json);
	}
}

static void test_abort(void **state)
{
	struct fixture *f = *state;
	struct azl_lro *lro;

	step("PUT", POOL, 201, f->ao.buf, NULL, 1);
	step("POST", POOL "/abort", 204, NULL, NULL, 1);
	step("POST", POOL "/abort", 409, NULL,
	     "{\"error\":{\"code\":\"Conflict\",\"message\":\"the operation has completed\"}}", 1);
	step("POST", POOL "/abort", 409, NULL,
	     "{\"error\":{\"code\":\"OperationNotAllowed\",\"message\":\"no operation in progress\"}}", 1);
	step("GET", OP, 200, NULL, "{\"status\":\"Canceled\"}", 1);
	lro = begin(f, "PUT", POOL, AZL_LRO_FINAL_ASYNC_OPERATION);
	assert_int_equal(azl_lro_abort(lro, f->arm), 0);
	assert_string_equal(azl_lro_status(lro), "Canceling");
	assert_int_equal(ts_count(&srv, "POST", POOL "/abort"), 1);
	assert_int_equal(wait_for(f, lro, 0, 0), AZL_ECANCELED);
	assert_non_null(strstr(azl_error_message(), "was canceled"));
	assert_int_equal(azl_lro_abort(lro, f->arm), AZL_ECONFLICT);
	assert_non_null(strstr(azl_error_message(), "ended before it could be aborted"));
	assert_int_equal(azl_lro_abort(lro, f->arm), AZL_ECONFLICT);
	assert_string_equal(azl_error_message(), "test.op " POOL ": the operation ended before it "
			    "could be aborted (HTTP 409 OperationNotAllowed)");
	azl_lro_free(lro);
}

static void test_begin_refused(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_lro *lro = (struct azl_lro *)1;

	step("PUT", POOL, 409, NULL, "{\"error\":{\"code\":\"OperationNotAllowed\",\"message\":"
	     "\"Another agentpool operation (Scaling) is in progress\"}}", 1);
	req.method = "PUT";
	req.path = POOL;
	assert_int_equal(azl_lro_begin(&lro, f->arm, &req, "test.op", AZL_LRO_FINAL_ASYNC_OPERATION),
			 AZL_EBUSY);
	assert_null(lro);
	assert_non_null(strstr(azl_error_message(), "(Scaling) is in progress"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_async_operation_to_succeeded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_any_follows_each_at_its_own_pace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_location_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_operation_first_final_via_location, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_is_one_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canceled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_without_status_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_location_error_fails_the_operation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provisioning_state_and_delete_until_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_intervals_floor_default_and_ceiling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_and_cancellation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_expiring_mid_wait_is_refreshed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_in_another_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_json_names_the_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_begin_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
