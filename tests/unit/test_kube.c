/* kube.c against a tiny in-process Kubernetes API (plain HTTP on
 * 127.0.0.1): paging with limit/continue, a list that changes while
 * paging, both patch types, create, one-line Status errors, and the bearer
 * token from the kubeconfig. TLS, client certificates and exec credentials
 * are covered end to end against the simulator (tests/e2e/test_nodes.py). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "azlinux.h"
#include "error.h"
#include "json.h"
#include "retry.h"
#include "kube.h"
#include "kubeconfig.h"
#include "testutil.h"

static int port;
static struct strbuf last_request = STRBUF_INIT; /* method, path, headers */
static struct strbuf extra_headers = STRBUF_INIT; /* of the answer being made */
static int flaky_calls;                           /* GETs of /api/v1/flaky */

static const char *status_body(int code, const char *reason, const char *message,
			       struct strbuf *sb)
{
	strbuf_addf(sb, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
		    "\"message\":\"%s\",\"reason\":\"%s\",\"code\":%d}", message, reason, code);
	return sb->buf;
}

/* The API: three nodes in pages of two; /api/v1/nodes/secret is forbidden;
 * PATCH and POST echo what they got. */
static int answer(const char *method, const char *target, const char *req_text,
		  const char *body, struct strbuf *out)
{
	const char *ctype;

	if (!strcmp(method, "GET") && !strcmp(target, "/api/v1/nodes?limit=2")) {
		strbuf_addstr(out, "{\"kind\":\"NodeList\",\"metadata\":{\"continue\":\"page2\",\"resourceVersion\":\"900\"},"
			      "\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\"}}]}");
		return 200;
	}
	if (!strcmp(method, "GET") && !strcmp(target, "/api/v1/nodes?limit=2&continue=page2")) {
		strbuf_addstr(out, "{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"900\"},"
			      "\"items\":[{\"metadata\":{\"name\":\"c\"}}]}");
		return 200;
	}
	if (!strcmp(method, "GET") && strstr(target, "/api/v1/pods?limit=1")) {
		if (!strstr(target, "continue=")) {
			strbuf_addstr(out, "{\"kind\":\"PodList\",\"metadata\":{\"continue\":\"old\"},"
				      "\"items\":[{}]}");
			return 200;
		}
		status_body(410, "Expired", "The provided continue parameter is too old", out);
		return 410;
	}
	/* throttled once, then fine; "busy" always throttled */
	if (!strcmp(target, "/api/v1/flaky") || !strcmp(target, "/api/v1/busy")) {
		if (!strcmp(target, "/api/v1/flaky") && flaky_calls++) {
			strbuf_addstr(out, "{\"kind\":\"Node\"}");
			return 200;
		}
		strbuf_addstr(&extra_headers, "Retry-After: 0\r\n");
		status_body(429, "TooManyRequests", "Too many requests, please try again later.", out);
		return 429;
	}
	if (!strcmp(target, "/api/v1/nodes/secret")) {
		status_body(403, "Forbidden", "nodes \\\"secret\\\" is forbidden: User \\\"u\\\" cannot "
			    "get resource \\\"nodes\\\" in API group \\\"\\\" at the cluster scope", out);
		return 403;
	}
	if (!strcmp(method, "PATCH") || !strcmp(method, "POST") || !strcmp(method, "DELETE")) {
		ctype = strstr(req_text, "\r\nContent-Type: ");
		strbuf_addf(out, "{\"method\":\"%s\",\"contentType\":\"", method);
		if (ctype)
			strbuf_add(out, ctype + 16, strcspn(ctype + 16, "\r"));
		strbuf_addf(out, "\",\"body\":%s}", body);
		return !strcmp(method, "POST") ? 201 : 200;
	}
	strbuf_addstr(out, "not json");
	return 500;
}

static void *serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct strbuf req = STRBUF_INIT, body = STRBUF_INIT, resp = STRBUF_INIT;
	size_t at, len;

	while (tu_read_request(fd, &req, &at, &len)) {
		char method[16] = "", target[512] = "";
		int status;

		sscanf(req.buf, "%15s %511s", method, target);
		strbuf_reset(&last_request);
		strbuf_add(&last_request, req.buf, at);
		strbuf_reset(&body);
		strbuf_add(&body, req.buf + at, len);
		strbuf_reset(&resp);
		strbuf_reset(&extra_headers);
		status = answer(method, target, req.buf, body.buf, &resp);
		dprintf(fd, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s"
			"Content-Length: %zu\r\n\r\n%s", status, extra_headers.buf, resp.len, resp.buf);
	}
	close(fd);
	strbuf_release(&req);
	strbuf_release(&body);
	strbuf_release(&resp);
	return NULL;
}

static void *accept_loop(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		pthread_t t;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			return NULL;
		if (!pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd))
			pthread_detach(t);
	}
}

static int setup(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	pthread_t t;

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl))
		return -1;
	port = ntohs(sa.sin_port);
	azl_global_init();
	return pthread_create(&t, NULL, accept_loop, (void *)(intptr_t)fd);
}

/* A client for the in-process API, from a real kubeconfig with a token. */
struct fixture {
	char *dir;
	struct azl_kubeconfig *kc;
	struct azl_rest_config *cfg;
	struct azl_kube *kube;
};

static void open_client(struct fixture *f)
{
	struct azl_kube_overrides ov = { 0 };
	struct strbuf text = STRBUF_INIT;
	char *path;

	f->dir = tu_mkdtemp();
	strbuf_addf(&text, "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
		    "clusters:\n- name: t\n  cluster:\n    server: http://127.0.0.1:%d\n"
		    "users:\n- name: t\n  user:\n    token: tok-123\n"
		    "contexts:\n- name: t\n  context: {cluster: t, user: t}\n", port);
	path = tu_write(f->dir, "config", text.buf, 0600);
	assert_int_equal(azl_kubeconfig_load(&f->kc, path), 0);
	assert_int_equal(azl_kubeconfig_resolve(f->kc, &ov, &f->cfg), 0);
	assert_int_equal(azl_kube_new(&f->kube, f->cfg), 0);
	strbuf_release(&text);
	free(path);
}

static void close_client(struct fixture *f)
{
	azl_kube_free(f->kube);
	azl_rest_config_free(f->cfg);
	azl_kubeconfig_free(f->kc);
	tu_rmrf(f->dir);
	free(f->dir);
}

static void test_list_follows_continue(void **state)
{
	struct fixture f;
	cJSON *items = NULL;

	(void)state;
	open_client(&f);
	assert_int_equal(azl_kube_list(f.kube, "/api/v1/nodes", NULL, 2, &items), 0);
	assert_int_equal(cJSON_GetArraySize(items), 3);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 2),
		"metadata"), "name")->valuestring, "c");
	assert_non_null(strstr(last_request.buf, "\r\nAuthorization: Bearer tok-123\r\n"));
	cJSON_Delete(items);
	close_client(&f);
}

static void test_list_changed_while_paging(void **state)
{
	struct fixture f;
	cJSON *items = NULL;

	(void)state;
	open_client(&f);
	assert_int_equal(azl_kube_list(f.kube, "/api/v1/pods", NULL, 1, &items), AZL_ECONFLICT);
	assert_null(items);
	assert_non_null(strstr(azl_error_message(), "changed while paging; run the command again"));
	close_client(&f);
}

static void test_patch_types_and_create(void **state)
{
	struct fixture f;
	cJSON *out = NULL, *body = cJSON_Parse("{\"kind\":\"Eviction\"}");

	(void)state;
	open_client(&f);
	assert_int_equal(azl_kube_patch(f.kube, "/api/v1/nodes/a", AZL_PATCH_STRATEGIC,
					"{\"spec\":{\"unschedulable\":true}}", &out), 0);
	assert_string_equal(cJSON_GetObjectItem(out, "contentType")->valuestring,
			    "application/strategic-merge-patch+json");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(out, "body"), "spec"), "unschedulable")));
	cJSON_Delete(out);
	assert_int_equal(azl_kube_patch(f.kube, "/api/v1/nodes/a", AZL_PATCH_MERGE,
					"{\"metadata\":{\"labels\":{\"x\":null}}}", &out), 0);
	assert_string_equal(cJSON_GetObjectItem(out, "contentType")->valuestring,
			    "application/merge-patch+json");
	cJSON_Delete(out);
	assert_int_equal(azl_kube_create(f.kube, "/api/v1/namespaces/n/pods/p/eviction", body, &out), 0);
	assert_string_equal(cJSON_GetObjectItem(out, "method")->valuestring, "POST");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "body"), "kind")->valuestring,
			    "Eviction");
	cJSON_Delete(out);
	cJSON_Delete(body);
	close_client(&f);
}

static int count_page(cJSON *items, void *ctx)
{
	*(int *)ctx += cJSON_GetArraySize(items);
	return 0;
}

static void test_list_keeps_resource_version(void **state)
{
	struct fixture f;
	struct strbuf rv = STRBUF_INIT;
	int n = 0;

	(void)state;
	open_client(&f);
	assert_int_equal(azl_kube_list_pages_rv(f.kube, "/api/v1/nodes", NULL, 2, count_page, &n,
						&rv), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rv.buf, "900");
	strbuf_release(&rv);
	close_client(&f);
}

static void test_delete_sends_delete_options(void **state)
{
	struct fixture f;
	struct azl_kube_result res = AZL_KUBE_RESULT_INIT;
	struct azl_kube_delete_options o = AZL_KUBE_DELETE_OPTIONS_INIT;
	const cJSON *body;

	(void)state;
	open_client(&f);
	o.grace_period_s = 30;
	o.uid = "uid-9";
	o.dry_run = 1;
	assert_int_equal(azl_kube_delete(f.kube, "/api/v1/namespaces/n/pods/p", &o, &res), 0);
	assert_int_equal(res.status, 200);
	assert_string_equal(azl_json_str(res.body, "method", ""), "DELETE");
	assert_string_equal(azl_json_str(res.body, "contentType", ""), "application/json");
	body = cJSON_GetObjectItem(res.body, "body");
	assert_string_equal(azl_json_str(body, "kind", ""), "DeleteOptions");
	assert_int_equal(azl_json_int(body, "gracePeriodSeconds", -1), 30);
	assert_string_equal(azl_json_str(body, "preconditions.uid", ""), "uid-9");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(body, "dryRun"), 0)->valuestring,
			    "All");
	/* the default: the pod's own grace period, no preconditions */
	assert_int_equal(azl_kube_delete(f.kube, "/api/v1/namespaces/n/pods/p", NULL, &res), 0);
	body = cJSON_GetObjectItem(res.body, "body");
	assert_null(cJSON_GetObjectItem(body, "gracePeriodSeconds"));
	assert_null(cJSON_GetObjectItem(body, "preconditions"));
	azl_kube_result_release(&res);
	close_client(&f);
}

static void test_result_keeps_status_and_reason(void **state)
{
	struct fixture f;
	struct azl_kube_result res = AZL_KUBE_RESULT_INIT;
	struct azl_kube_request req = { "GET", "/api/v1/nodes/secret", NULL, NULL, 0, NULL, NULL };

	(void)state;
	open_client(&f);
	assert_int_equal(azl_kube_do(f.kube, &req, &res), AZL_EFORBIDDEN);
	assert_int_equal(res.status, 403);
	assert_string_equal(res.reason.buf, "Forbidden");
	assert_non_null(strstr(res.message.buf, "cannot get resource"));
	assert_null(res.body);
	azl_kube_result_release(&res);
	close_client(&f);
}

static void test_get_retried_under_the_callers_policy(void **state)
{
	struct fixture f;
	struct azl_retry *once = NULL, *cancelled = NULL, *twice = NULL;
	struct azl_retry_options ro = { 0 };
	static volatile sig_atomic_t cancel = 1;
	struct azl_kube_result res = AZL_KUBE_RESULT_INIT;
	struct azl_kube_request post = { "POST", "/api/v1/flaky", "application/json", "{}", 2,
					 NULL, NULL };
	cJSON *out = NULL;

	(void)state;
	open_client(&f);
	/* the client's own policy: a 429 with Retry-After is asked again */
	flaky_calls = 0;
	assert_int_equal(azl_kube_get(f.kube, "/api/v1/flaky", &out), 0);
	assert_int_equal(flaky_calls, 2);
	cJSON_Delete(out);
	/* the caller's: one try only */
	ro.max_attempts = 1;
	assert_int_equal(azl_retry_new(&once, &ro), 0);
	azl_kube_set_retry(f.kube, once);
	flaky_calls = 0;
	assert_int_equal(azl_kube_get(f.kube, "/api/v1/flaky", &out), AZL_ETHROTTLED);
	assert_int_equal(flaky_calls, 1);
	/* cancelled: no wait, and says so */
	ro.max_attempts = 5;
	ro.cancel_flag = &cancel;
	assert_int_equal(azl_retry_new(&cancelled, &ro), 0);
	azl_kube_set_retry(f.kube, cancelled);
	assert_int_equal(azl_kube_get(f.kube, "/api/v1/busy", &out), AZL_ECANCELED);
	assert_string_equal(azl_error_message(),
			    "GET /api/v1/busy: cancelled while the server asked to wait (HTTP 429)");
	/* a POST is not asked again unless it names a policy */
	azl_kube_set_retry(f.kube, NULL);
	flaky_calls = 0;
	assert_int_equal(azl_kube_do(f.kube, &post, &res), AZL_ETHROTTLED);
	assert_int_equal(flaky_calls, 1);
	assert_int_equal(res.status, 429);
	assert_int_equal(res.retry_after_ms, 0);
	ro.cancel_flag = NULL;
	assert_int_equal(azl_retry_new(&twice, &ro), 0);
	post.retry = twice;
	flaky_calls = 0;
	assert_int_equal(azl_kube_do(f.kube, &post, &res), 0);
	assert_int_equal(flaky_calls, 2);
	assert_int_equal(res.status, 200);
	azl_kube_result_release(&res);
	azl_retry_free(once);
	azl_retry_free(cancelled);
	azl_retry_free(twice);
	close_client(&f);
}

static void test_status_errors_are_one_line(void **state)
{
	struct fixture f;
	cJSON *out = NULL;

	(void)state;
	open_client(&f);
	assert_int_equal(azl_kube_get(f.kube, "/api/v1/nodes/secret", &out), AZL_EFORBIDDEN);
	assert_null(out);
	assert_string_equal(azl_error_message(), "nodes \"secret\" is forbidden: User \"u\" cannot "
			    "get resource \"nodes\" in API group \"\" at the cluster scope");
	assert_int_equal(azl_kube_get(f.kube, "/api/v1/other", &out), AZL_ESERVER);
	assert_null(strchr(azl_error_message(), '\n'));
	assert_non_null(strstr(azl_error_message(), "HTTP 500"));
	close_client(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_follows_continue),
		cmocka_unit_test(test_list_changed_while_paging),
		cmocka_unit_test(test_patch_types_and_create),
		cmocka_unit_test(test_status_errors_are_one_line),
		cmocka_unit_test(test_list_keeps_resource_version),
		cmocka_unit_test(test_delete_sends_delete_options),
		cmocka_unit_test(test_result_keeps_status_and_reason),
		cmocka_unit_test(test_get_retried_under_the_callers_policy),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
