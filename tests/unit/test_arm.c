/* arm.c's request and response against an in-process HTTPS server: the
 * method, body and precondition headers sent; the status, headers and
 * empty bodies read; the retry rules per method (GET and If-Match writes
 * repeated on 5xx and resets, a POST not; 429 retried for all, after its
 * Retry-After); the status map (busy, stale, conflict); status URLs only
 * on the endpoint; cancellation through the caller's policy. */
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
#include "retry.h"
#include "testclock.h"
#include "testserver.h"

static struct ts_server srv;
static struct ts_script script;

static struct tc_clock clk;

static int tokens_given;

static int token_fn(void *data, int force, struct strbuf *token)
{
	(void)data;
	(void)force;
	tokens_given++;
	strbuf_addstr(token, "tok-secret");
	return 0;
}

struct fixture {
	struct azl_arm *arm;
	struct azl_retry *retry;
};

static int setup(void **state)
{
	static struct fixture f;
	struct azl_arm_options o = { 0 };
	struct strbuf ep = STRBUF_INIT;

	memset(&script, 0, sizeof(script));
	memset(&clk, 0, sizeof(clk));
	clk.now = 1000;
	ts_clear_log(&srv);
	f.retry = tc_policy(&clk, 4, 600000, 100);
	ts_url(&srv, "", &ep);
	o.token = token_fn;
	o.endpoint = ep.buf;
	o.ca_file = srv.ca_file;
	o.retry = f.retry;
	assert_int_equal(azl_arm_new(&f.arm, &o), 0);
	strbuf_release(&ep);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	azl_arm_free(f->arm);
	azl_retry_free(f->retry);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	azl_global_init();
	ts_start(&srv, 1, ts_script_handler, &script);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ts_stop(&srv);
	return 0;
}

#define POOL "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c/agentPools/np1"

static const struct ts_request *last_request(void)
{
	assert_true(srv.nr_log > 0);
	return &srv.log[srv.nr_log - 1];
}

static void test_put_sends_body_and_preconditions(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;
	struct strbuf h = STRBUF_INIT;
	cJSON *body = cJSON_Parse("{\"properties\":{\"osSKU\":\"AzureLinux\"}}");

	ts_script_add(&script, (struct ts_step){ "PUT", POOL, 201,
		"Azure-AsyncOperation: https://127.0.0.1/op/1?api-version=x\r\n"
		"Location: https://127.0.0.1/loc/1\r\nRetry-After: 7\r\nETag: \"e2\"\r\n"
		"x-ms-correlation-request-id: corr-1\r\nDate: Sun, 06 Dec 2026 07:00:00 GMT\r\n",
		"{\"name\":\"np1\",\"properties\":{\"provisioningState\":\"Updating\"}}", 1, 0 });
	req.method = "PUT";
	req.path = POOL;
	req.body = body;
	req.if_match = "\"e1\"";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), 0);
	assert_int_equal(res.status, 201);
	assert_string_equal(res.async_operation.buf, "https://127.0.0.1/op/1?api-version=x");
	assert_string_equal(res.location.buf, "https://127.0.0.1/loc/1");
	assert_int_equal(res.retry_after_ms, 7000);
	assert_string_equal(res.etag.buf, "\"e2\"");
	assert_string_equal(res.correlation_id.buf, "corr-1");
	assert_int_equal(res.date, 1796540400);  /* ARM's clock, for the maintenance window check */
	assert_string_equal(azl_json_str(res.json, "properties.provisioningState", ""), "Updating");

	assert_string_equal(last_request()->method, "PUT");
	assert_string_equal(last_request()->target, POOL "?api-version=" AZL_ARM_API_VERSION);
	assert_string_equal(last_request()->body.buf, "{\"properties\":{\"osSKU\":\"AzureLinux\"}}");
	assert_true(ts_header(last_request(), "Content-Type", &h));
	assert_string_equal(h.buf, "application/json");
	assert_true(ts_header(last_request(), "If-Match", &h));
	assert_string_equal(h.buf, "\"e1\"");
	assert_false(ts_header(last_request(), "If-None-Match", &h));
	assert_true(ts_header(last_request(), "Authorization", &h));
	assert_string_equal(h.buf, "Bearer tok-secret");
	azl_arm_result_release(&res);
	strbuf_release(&h);
	cJSON_Delete(body);
}

static void test_if_none_match_and_query(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;
	struct strbuf h = STRBUF_INIT;

	ts_script_add(&script, (struct ts_step){ "DELETE", POOL, 202,
		"Location: https://127.0.0.1/loc/2\r\n", NULL, 1, 0 });
	ts_script_add(&script, (struct ts_step){ "PUT", POOL, 200, NULL,
		"{\"properties\":{\"eTag\":\"from-body\"}}", 1, 0 });
	req.method = "DELETE";
	req.path = POOL;
	req.query = "ignore-pod-disruption-budget=true";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), 0);
	assert_string_equal(last_request()->target,
			    POOL "?ignore-pod-disruption-budget=true&api-version=" AZL_ARM_API_VERSION);
	assert_false(ts_header(last_request(), "Content-Type", &h));
	azl_arm_result_release(&res);

	req = (struct azl_arm_request){ 0 };
	req.method = "PUT";
	req.path = POOL;
	req.if_none_match = "*";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), 0);
	assert_true(ts_header(last_request(), "If-None-Match", &h));
	assert_string_equal(h.buf, "*");
	assert_false(ts_header(last_request(), "If-Match", &h));
	/* no ETag header: the agent pool's properties.eTag */
	assert_string_equal(res.etag.buf, "from-body");
	azl_arm_result_release(&res);
	strbuf_release(&h);
}

static void test_202_and_204_without_body_succeed(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;
	cJSON *out = (cJSON *)1;

	ts_script_add(&script, (struct ts_step){ "POST", POOL "/upgradeNodeImageVersion", 202,
		"Location: https://127.0.0.1/loc/3\r\n", NULL, 1, 0 });
	ts_script_add(&script, (struct ts_step){ "DELETE", POOL, 204, NULL, NULL, 1, 0 });
	ts_script_add(&script, (struct ts_step){ "GET", POOL, 200, NULL, "", 1, 0 });
	req.method = "POST";
	req.path = POOL "/upgradeNodeImageVersion";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), 0);
	assert_int_equal(res.status, 202);
	assert_null(res.json);
	assert_int_equal(res.retry_after_ms, -1);
	assert_string_equal(res.location.buf, "https://127.0.0.1/loc/3");
	azl_arm_result_release(&res);

	req.method = "DELETE";
	req.path = POOL;
	assert_int_equal(azl_arm_do(f->arm, &req, &res), 0);
	assert_int_equal(res.status, 204);
	assert_null(res.json);
	assert_int_equal(res.code, 0);
	azl_arm_result_release(&res);

	/* a GET of a resource still needs one */
	assert_int_equal(azl_arm_get(f->arm, POOL, &out), AZL_EINVALID);
	assert_null(out);
	assert_non_null(strstr(azl_error_message(), "not JSON"));
}

static void test_get_retried_on_5xx_and_resets(void **state)
{
	struct fixture *f = *state;
	cJSON *out;

	ts_script_add(&script, (struct ts_step){ "GET", POOL, 503, NULL, "{}", 1, 0 });
	ts_script_add(&script, (struct ts_step){ "GET", POOL, 0, NULL, NULL, 1, 1 });
	ts_script_add(&script, (struct ts_step){ "GET", POOL, 500, NULL, "{}", 1, 0 });
	ts_script_add(&script, (struct ts_step){ "GET", POOL, 200, NULL, "{\"name\":\"np1\"}", 1, 0 });
	assert_int_equal(azl_arm_get(f->arm, POOL, &out), 0);
	assert_string_equal(azl_json_str(out, "name", ""), "np1");
	assert_int_equal(ts_count(&srv, "GET", POOL), 4);
	/* backed off between them, on the policy's clock */
	assert_true(clk.slept > 0);
	cJSON_Delete(out);
}

static void test_post_not_repeated_after_5xx_or_reset(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;

	ts_script_add(&script, (struct ts_step){ "POST", POOL "/abort", 500, NULL,
		"{\"error\":{\"code\":\"InternalError\",\"message\":\"boom\"}}", 1, 0 });
	ts_script_add(&script, (struct ts_step){ "POST", POOL "/upgradeNodeImageVersion", 0, NULL,
		NULL, 1, 1 });
	/* first, on a fresh connection: libcurl itself resends a request
	 * whose reused connection turns out dead */
	req.method = "POST";
	req.path = POOL "/upgradeNodeImageVersion";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_ENETWORK);
	assert_int_equal(ts_count(&srv, "POST", POOL "/upgradeNodeImageVersion"), 1);
	azl_arm_result_release(&res);

	req.path = POOL "/abort";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_ESERVER);
	assert_int_equal(ts_count(&srv, "POST", POOL "/abort"), 1);
	assert_string_equal(azl_error_message(),
			    "POST " POOL "/abort: InternalError: boom (HTTP 500)");
	assert_int_equal(clk.slept, 0);
	azl_arm_result_release(&res);
}

static void test_put_repeated_only_with_if_match(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;

	ts_script_add(&script, (struct ts_step){ "PUT", POOL, 503, NULL, "{}", 1, 0 });
	ts_script_add(&script, (struct ts_step){ "PUT", POOL, 200, NULL, "{}", 1, 0 });
	req.method = "PUT";
	req.path = POOL;
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_ESERVER);
	assert_int_equal(ts_count(&srv, "PUT", POOL), 1);
	azl_arm_result_release(&res);

	ts_script_add(&script, (struct ts_step){ "DELETE", POOL, 502, NULL, "{}", 1, 0 });
	ts_script_add(&script, (struct ts_step){ "DELETE", POOL, 202, NULL, NULL, 1, 0 });
	req.method = "DELETE";
	req.if_match = "\"e1\"";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), 0);
	assert_int_equal(ts_count(&srv, "DELETE", POOL), 2);
	azl_arm_result_release(&res);

	/* a PUT with If-Match is repeated */
	memset(&script, 0, sizeof(script));
	ts_script_add(&script, (struct ts_step){ "PUT", POOL, 504, NULL, "{}", 1, 0 });
	ts_script_add(&script, (struct ts_step){ "PUT", POOL, 200, NULL, "{}", 1, 0 });
	req.method = "PUT";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), 0);
	assert_int_equal(ts_count(&srv, "PUT", POOL), 3);
	azl_arm_result_release(&res);
}

static void test_429_retried_for_any_method_after_retry_after(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;

	ts_script_add(&script, (struct ts_step){ "POST", POOL "/upgradeNodeImageVersion", 429,
		"Retry-After: 42\r\n",
		"{\"error\":{\"code\":\"Throttled\",\"message\":\"slow down\"}}", 1, 0 });
	ts_script_add(&script, (struct ts_step){ "POST", POOL "/upgradeNodeImageVersion", 202,
		NULL, NULL, 1, 0 });
	req.method = "POST";
	req.path = POOL "/upgradeNodeImageVersion";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), 0);
	assert_int_equal(ts_count(&srv, "POST", POOL), 2);
	/* what the server said, not the 100 ms backoff */
	assert_int_equal(clk.slept, 42000);
	azl_arm_result_release(&res);
}

static void test_retries_bounded_by_attempts_and_deadline(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;

	ts_script_add(&script, (struct ts_step){ "GET", POOL, 503, NULL,
		"{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"later\"}}", -1, 0 });
	req.path = POOL;
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_ESERVER);
	assert_int_equal(ts_count(&srv, "GET", POOL), 4);
	assert_non_null(strstr(azl_error_message(), "(HTTP 503) after 4 attempts"));
	azl_arm_result_release(&res);

	/* a Retry-After beyond the 600 s budget: one try, and why */
	ts_clear_log(&srv);
	script.steps[0].headers = "Retry-After: 3000\r\n";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_ESERVER);
	assert_int_equal(ts_count(&srv, "GET", POOL), 1);
	assert_non_null(strstr(azl_error_message(), "gave up: retrying would take longer than 600s"));
	azl_arm_result_release(&res);
}

static void test_status_map_and_messages(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;

	ts_script_add(&script, (struct ts_step){ "PUT", POOL, 409,
		"x-ms-correlation-request-id: corr-9\r\n",
		"{\"error\":{\"code\":\"OperationNotAllowed\",\"message\":\"Operation is not allowed: "
		"Another operation (Upgrading) is in progress, please wait\\nfor it.\"}}", 1, 0 });
	ts_script_add(&script, (struct ts_step){ "PUT", POOL, 412, NULL,
		"{\"error\":{\"code\":\"PreconditionFailed\",\"message\":\"eTag mismatch\"}}", 1, 0 });
	ts_script_add(&script, (struct ts_step){ "PUT", POOL, 409, NULL,
		"{\"error\":{\"code\":\"Conflict\",\"message\":\"exists\"}}", 1, 0 });
	req.method = "PUT";
	req.path = POOL;
	req.if_match = "\"old\"";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_EBUSY);
	assert_string_equal(res.error_code.buf, "OperationNotAllowed");
	assert_int_equal(res.date, 0);           /* no Date header */
	assert_string_equal(azl_error_message(),
			    "PUT " POOL ": OperationNotAllowed: Operation is not allowed: Another operation "
			    "(Upgrading) is in progress, please wait for it. (HTTP 409, correlation id "
			    "corr-9): another operation is in progress; wait for it to finish or abort it");
	azl_arm_result_release(&res);
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_ESTALE);
	assert_non_null(strstr(azl_error_message(), "read it again"));
	azl_arm_result_release(&res);
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_ECONFLICT);
	azl_arm_result_release(&res);
	/* none of them was repeated */
	assert_int_equal(ts_count(&srv, "PUT", POOL), 3);
}

static void test_status_urls_stay_on_the_endpoint(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;
	struct strbuf url = STRBUF_INIT;

	req.path = "https://elsewhere.example/op/1";
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "refusing to send the token there"));
	assert_int_equal(res.code, AZL_EINVALID);
	assert_int_equal(srv.nr_log, 0);
	azl_arm_result_release(&res);

	/* a status URL with its own api-version keeps it */
	ts_script_add(&script, (struct ts_step){ "GET", "/op/1", 200, NULL,
		"{\"status\":\"InProgress\"}", 1, 0 });
	ts_url(&srv, "/op/1?api-version=2017-08-31", &url);
	req.path = url.buf;
	assert_int_equal(azl_arm_do(f->arm, &req, &res), 0);
	assert_string_equal(last_request()->target, "/op/1?api-version=2017-08-31");
	azl_arm_result_release(&res);
	strbuf_release(&url);
}

static void test_cancel_stops_the_retry_wait(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;

	ts_script_add(&script, (struct ts_step){ "GET", POOL, 503, "Retry-After: 30\r\n", "{}", -1, 0 });
	clk.cancel_on_sleep = 1;
	req.path = POOL;
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_ECANCELED);
	assert_int_equal(ts_count(&srv, "GET", POOL), 1);
	assert_non_null(strstr(azl_error_message(), "(cancelled)"));
	azl_arm_result_release(&res);
}

static void test_token_never_in_messages(void **state)
{
	struct fixture *f = *state;
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;

	ts_script_add(&script, (struct ts_step){ "GET", POOL, 401, NULL,
		"{\"error\":{\"code\":\"InvalidAuthenticationToken\",\"message\":\"expired\"}}", -1, 0 });
	tokens_given = 0;
	req.path = POOL;
	assert_int_equal(azl_arm_do(f->arm, &req, &res), AZL_EAUTH);
	/* refreshed once, then given up */
	assert_int_equal(ts_count(&srv, "GET", POOL), 2);
	assert_int_equal(tokens_given, 2);
	assert_null(strstr(azl_error_message(), "tok-secret"));
	assert_null(strstr(res.error.buf, "tok-secret"));
	azl_arm_result_release(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_sends_body_and_preconditions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_if_none_match_and_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_202_and_204_without_body_succeed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_retried_on_5xx_and_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_not_repeated_after_5xx_or_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_repeated_only_with_if_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_429_retried_for_any_method_after_retry_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retries_bounded_by_attempts_and_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_map_and_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_urls_stay_on_the_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_stops_the_retry_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_never_in_messages, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
