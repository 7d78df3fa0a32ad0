/* eviction.c against an in-process API server (kubeserver.h): each answer
 * the real API server gives an eviction (EvictionREST, the namespace
 * lifecycle admission, RBAC, a webhook's ToStatusErr) is told apart by
 * status and Status causes; the body sent; discovery of the group/version;
 * results that carry reason, message, causes and Retry-After. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "eviction.h"
#include "json.h"
#include "kubeserver.h"

static int port;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct strbuf last_body = STRBUF_INIT, last_target = STRBUF_INIT;

static int handle(int fd, const struct ks_request *r)
{
	struct strbuf sb = STRBUF_INIT;
	const char *t = r->target;

	pthread_mutex_lock(&lock);
	strbuf_reset(&last_body);
	strbuf_addstr(&last_body, r->body);
	strbuf_reset(&last_target);
	strbuf_addstr(&last_target, t);
	pthread_mutex_unlock(&lock);
	if (!strcmp(t, "/api/v1")) {
		ks_reply(fd, 200, NULL, "{\"kind\":\"APIResourceList\",\"resources\":[{\"name\":\"pods\","
			 "\"kind\":\"Pod\"},{\"name\":\"pods/eviction\",\"kind\":\"Eviction\","
			 "\"group\":\"policy\",\"version\":\"v1beta1\"}]}");
	} else if (strstr(t, "/pods/ok/eviction")) {
		ks_reply(fd, 201, NULL, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Success\"}");
	} else if (strstr(t, "/pods/gone/eviction")) {
		ks_reply(fd, 404, NULL, ks_status(&sb, 404, "NotFound", "pods \\\"gone\\\" not found", NULL));
	} else if (strstr(t, "/pods/pdb/eviction")) {
		ks_reply(fd, 429, NULL, ks_status(&sb, 429, "TooManyRequests",
			 "Cannot evict pod as it would violate the pod's disruption budget.",
			 "[{\"reason\":\"DisruptionBudget\",\"message\":\"The disruption budget web "
			 "needs 2 healthy pods and has 2 currently\"}]"));
	} else if (strstr(t, "/pods/busy/eviction")) {
		ks_reply(fd, 429, "Retry-After: 3\r\n", ks_status(&sb, 429, "TooManyRequests",
			 "Too many requests, please try again later.", NULL));
	} else if (strstr(t, "/pods/two/eviction")) {
		ks_reply(fd, 500, NULL, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
			 "\"message\":\"This pod has more than one PodDisruptionBudget, which the "
			 "eviction subresource does not support.\",\"code\":500}");
	} else if (strstr(t, "/pods/ns/eviction")) {
		ks_reply(fd, 403, NULL, ks_status(&sb, 403, "Forbidden", "pods \\\"ns\\\" is forbidden: "
			 "unable to create new content in namespace t because it is being terminated",
			 "[{\"reason\":\"NamespaceTerminating\",\"message\":\"namespace t is being "
			 "terminated\",\"field\":\"metadata.namespace\"}]"));
	} else if (strstr(t, "/pods/rbac/eviction")) {
		ks_reply(fd, 403, NULL, ks_status(&sb, 403, "Forbidden", "pods \\\"rbac\\\" is forbidden: "
			 "User \\\"u\\\" cannot create resource \\\"pods/eviction\\\"", NULL));
	} else if (strstr(t, "/pods/hook/eviction")) {
		ks_reply(fd, 403, NULL, ks_status(&sb, 403, "Forbidden", "pods/eviction \\\"hook\\\" is "
			 "forbidden: admission webhook \\\"drain.strimzi.io\\\" denied the request: "
			 "restarting the broker instead", NULL));
	} else {
		ks_reply(fd, 400, NULL, ks_status(&sb, 400, "BadRequest", "unexpected", NULL));
	}
	strbuf_release(&sb);
	return 1;
}

static int setup(void **state)
{
	(void)state;
	port = ks_start(handle);
	return port < 0;
}

static int evict(const char *name, const struct azl_eviction_options *o,
		 struct azl_eviction_result *out)
{
	struct ks_client c;
	int rc;

	ks_open(&c, port);
	rc = azl_eviction_create(c.kube, "t", name, o, out);
	ks_close(&c);
	return rc;
}

static void test_evicted_sends_policy_v1_with_delete_options(void **state)
{
	struct azl_eviction_result r = AZL_EVICTION_RESULT_INIT;
	struct azl_eviction_options o = AZL_EVICTION_OPTIONS_INIT;
	cJSON *body;

	(void)state;
	o.delete_options.grace_period_s = 0;
	o.delete_options.uid = "u-1";
	o.delete_options.dry_run = 1;
	assert_int_equal(evict("ok", &o, &r), 0);
	assert_int_equal(r.outcome, AZL_EVICTION_EVICTED);
	assert_int_equal(r.res.status, 201);
	assert_string_equal(last_target.buf, "/api/v1/namespaces/t/pods/ok/eviction?dryRun=All");
	body = cJSON_Parse(last_body.buf);
	assert_string_equal(azl_json_str(body, "apiVersion", ""), "policy/v1");
	assert_string_equal(azl_json_str(body, "kind", ""), "Eviction");
	assert_string_equal(azl_json_str(body, "metadata.name", ""), "ok");
	assert_int_equal(azl_json_int(body, "deleteOptions.gracePeriodSeconds", -1), 0);
	assert_string_equal(azl_json_str(body, "deleteOptions.preconditions.uid", ""), "u-1");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(body,
		"deleteOptions"), "dryRun"), 0)->valuestring, "All");
	cJSON_Delete(body);
	azl_eviction_result_release(&r);
}

static void test_not_found_is_done(void **state)
{
	struct azl_eviction_result r = AZL_EVICTION_RESULT_INIT;

	(void)state;
	assert_int_equal(evict("gone", NULL, &r), 0);
	assert_int_equal(r.outcome, AZL_EVICTION_GONE);
	assert_string_equal(r.res.reason.buf, "NotFound");
	azl_eviction_result_release(&r);
}

static void test_pdb_429_is_told_from_throttling_by_its_cause(void **state)
{
	struct azl_eviction_result r = AZL_EVICTION_RESULT_INIT;

	(void)state;
	assert_int_equal(evict("pdb", NULL, &r), AZL_ETHROTTLED);
	assert_int_equal(r.outcome, AZL_EVICTION_BLOCKED);
	assert_string_equal(r.res.reason.buf, "TooManyRequests");
	assert_int_equal(r.res.nr_causes, 1);
	assert_string_equal(r.res.causes[0].type, "DisruptionBudget");
	assert_string_equal(r.res.causes[0].message,
			    "The disruption budget web needs 2 healthy pods and has 2 currently");
	assert_string_equal(azl_error_message(),
			    "Cannot evict pod as it would violate the pod's disruption budget.");
	/* a POST is not retried by the client: the drain decides */
	assert_int_equal(evict("busy", NULL, &r), AZL_ETHROTTLED);
	assert_int_equal(r.outcome, AZL_EVICTION_THROTTLED);
	assert_int_equal(r.res.retry_after_ms, 3000);
	assert_int_equal(r.res.nr_causes, 0);
	azl_eviction_result_release(&r);
}

static void test_multiple_pdbs_namespace_rbac_webhook(void **state)
{
	struct azl_eviction_result r = AZL_EVICTION_RESULT_INIT;

	(void)state;
	assert_int_equal(evict("two", NULL, &r), AZL_ESERVER);
	assert_int_equal(r.outcome, AZL_EVICTION_MULTIPLE_PDBS);
	assert_int_equal(evict("ns", NULL, &r), AZL_EFORBIDDEN);
	assert_int_equal(r.outcome, AZL_EVICTION_NAMESPACE_TERMINATING);
	assert_string_equal(r.res.causes[0].field, "metadata.namespace");
	assert_int_equal(evict("rbac", NULL, &r), AZL_EFORBIDDEN);
	assert_int_equal(r.outcome, AZL_EVICTION_FORBIDDEN);
	assert_int_equal(evict("hook", NULL, &r), AZL_EFORBIDDEN);
	assert_int_equal(r.outcome, AZL_EVICTION_WEBHOOK_DENIED);
	assert_string_equal(azl_eviction_outcome_name(r.outcome), "denied by an admission webhook");
	azl_eviction_result_release(&r);
}

static void test_discovery_gives_the_group_version(void **state)
{
	struct ks_client c;
	struct strbuf gv = STRBUF_INIT;
	struct azl_eviction_result r = AZL_EVICTION_RESULT_INIT;
	struct azl_eviction_options o = AZL_EVICTION_OPTIONS_INIT;
	cJSON *body;

	(void)state;
	ks_open(&c, port);
	assert_int_equal(azl_eviction_discover(c.kube, &gv), 0);
	assert_string_equal(gv.buf, "policy/v1beta1");
	o.group_version = gv.buf;
	assert_int_equal(azl_eviction_create(c.kube, "t", "ok", &o, &r), 0);
	body = cJSON_Parse(last_body.buf);
	assert_string_equal(azl_json_str(body, "apiVersion", ""), "policy/v1beta1");
	cJSON_Delete(body);
	azl_eviction_result_release(&r);
	strbuf_release(&gv);
	ks_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evicted_sends_policy_v1_with_delete_options),
		cmocka_unit_test(test_not_found_is_done),
		cmocka_unit_test(test_pdb_429_is_told_from_throttling_by_its_cause),
		cmocka_unit_test(test_multiple_pdbs_namespace_rbac_webhook),
		cmocka_unit_test(test_discovery_gives_the_group_version),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
