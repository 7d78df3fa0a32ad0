/* http.c against a tiny in-process HTTP/1.1 server (plain TCP on
 * 127.0.0.1, one thread per connection): connection reuse, methods and
 * bodies, header lookup, batches, transport errors, redacted traces.
 * TLS is covered end to end against the simulator. */
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
#include "http.h"
#include "log.h"
#include "testutil.h"

static struct {
	int fd;
	int port;
	pthread_mutex_t lock;
	int accepted, open, max_open;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void count_open(int delta)
{
	pthread_mutex_lock(&srv.lock);
	srv.open += delta;
	if (delta > 0)
		srv.accepted++;
	if (srv.open > srv.max_open)
		srv.max_open = srv.open;
	pthread_mutex_unlock(&srv.lock);
}

/* Answers each request with a JSON echo of method, path and body; the
 * path "/hang" gets no answer, "/slow/..." gets it after 100 ms,
 * "/status/N" gets status N. */
static void *serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct strbuf req = STRBUF_INIT, resp = STRBUF_INIT, body = STRBUF_INIT;
	size_t body_at, body_len;

	count_open(1);
	while (tu_read_request(fd, &req, &body_at, &body_len)) {
		char method[16] = "", path[256] = "";
		int status = 200;

		sscanf(req.buf, "%15s %255s", method, path);
		if (!strcmp(path, "/hang"))
			continue;
		if (!strncmp(path, "/slow/", 6))
			usleep(100 * 1000);
		if (!strncmp(path, "/status/", 8))
			status = atoi(path + 8);
		strbuf_reset(&body);
		strbuf_addf(&body, "{\"method\":\"%s\",\"path\":\"%s\",\"body\":\"%.*s\","
			    "\"access_token\":\"tok-SECRET\"}", method, path,
			    (int)body_len, req.buf + body_at);
		strbuf_reset(&resp);
		strbuf_addf(&resp, "HTTP/1.1 %d Whatever\r\nContent-Type: application/json\r\n"
			    "X-Echo-Auth:  %s \r\nContent-Length: %zu\r\n\r\n%s", status,
			    strstr(req.buf, "Authorization: ") ? "yes" : "no", body.len,
			    strcmp(method, "HEAD") ? body.buf : "");
		if (write(fd, resp.buf, resp.len) < 0)
			break;
	}
	count_open(-1);
	close(fd);
	strbuf_release(&req);
	strbuf_release(&resp);
	strbuf_release(&body);
	return NULL;
}

static void *accept_loop(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		int c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			return NULL;
		pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)c);
		pthread_detach(t);
	}
}

/* Binds 127.0.0.1 on a free port; returns the listening socket. */
static int listen_any(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 64), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

static int setup(void **state)
{
	pthread_t t;

	(void)state;
	srv.fd = listen_any(&srv.port);
	pthread_create(&t, NULL, accept_loop, NULL);
	pthread_detach(t);
	return 0;
}

static void url(struct strbuf *sb, const char *path)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "http://127.0.0.1:%d%s", srv.port, path);
}

static struct azl_http *client(long timeout_ms)
{
	struct azl_http_options o = { 0 };
	struct azl_http *http;

	o.no_proxy = 1;
	o.timeout_ms = timeout_ms;
	o.user_agent = "test/1";
	assert_int_equal(azl_http_new(&http, &o), 0);
	return http;
}

static void test_sequential_requests_reuse_one_connection(void **state)
{
	struct azl_http *http = client(5000);
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct strbuf u = STRBUF_INIT, v = STRBUF_INIT;
	int before;

	(void)state;
	before = srv.accepted;
	url(&u, "/api/v1/nodes");
	for (int i = 0; i < 3; i++) {
		struct azl_http_request req = { "GET", u.buf, NULL, NULL, 0 };
		assert_int_equal(azl_http_do(http, &req, &resp), 0);
		assert_int_equal(resp.status, 200);
		assert_non_null(strstr(resp.body.buf, "\"method\":\"GET\",\"path\":\"/api/v1/nodes\""));
	}
	assert_int_equal(srv.accepted - before, 1);
	assert_int_equal(azl_http_request_count(http), 3);
	assert_int_equal(azl_http_response_header(&resp, "x-echo-auth", &v), 1);
	assert_string_equal(v.buf, "no");
	assert_int_equal(azl_http_response_header(&resp, "content-type", &v), 1);
	assert_string_equal(v.buf, "application/json");
	assert_int_equal(azl_http_response_header(&resp, "x-missing", &v), 0);
	azl_http_response_release(&resp);
	strbuf_release(&u);
	strbuf_release(&v);
	azl_http_free(http);
}

/* Descriptors connected to the test server: the client's connections. */
static int client_connections(int *cloexec)
{
	int n = 0;

	*cloexec = 0;
	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);

		if (getpeername(fd, (struct sockaddr *)&peer, &len) || peer.sin_family != AF_INET ||
		    ntohs(peer.sin_port) != srv.port)
			continue;
		n++;
		if (fcntl(fd, F_GETFD) & FD_CLOEXEC)
			(*cloexec)++;
	}
	return n;
}

/* A child another thread starts (a credential plugin, the Azure CLI) must
 * not inherit them. */
static void test_connections_are_close_on_exec(void **state)
{
	struct azl_http *http = client(5000);
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct strbuf u = STRBUF_INIT;
	struct azl_http_request req = { "GET", NULL, NULL, NULL, 0 };
	int cloexec;

	(void)state;
	url(&u, "/api/v1/nodes");
	req.url = u.buf;
	assert_int_equal(azl_http_do(http, &req, &resp), 0);
	assert_int_equal(client_connections(&cloexec), 1);
	assert_int_equal(cloexec, 1);
	azl_http_response_release(&resp);
	strbuf_release(&u);
	azl_http_free(http);
}

static void test_methods_bodies_and_statuses(void **state)
{
	struct azl_http *http = client(5000);
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	const char *headers[] = { "Content-Type: application/merge-patch+json",
				  "Authorization: Bearer x", NULL };
	const char *patch = "{\"spec\":{\"unschedulable\":true}}";
	struct strbuf u = STRBUF_INIT, v = STRBUF_INIT;

	(void)state;
	url(&u, "/api/v1/nodes/n1");
	struct azl_http_request req = { "PATCH", u.buf, headers, patch, 9 };
	assert_int_equal(azl_http_do(http, &req, &resp), 0);
	assert_non_null(strstr(resp.body.buf, "\"method\":\"PATCH\""));
	/* body_len counts, not strlen */
	assert_non_null(strstr(resp.body.buf, "\"body\":\"{\"spec\":{\","));
	azl_http_response_header(&resp, "X-Echo-Auth", &v);
	assert_string_equal(v.buf, "yes");

	struct azl_http_request post = { "POST", u.buf, NULL, NULL, 0 };
	assert_int_equal(azl_http_do(http, &post, &resp), 0);
	assert_non_null(strstr(resp.body.buf, "\"method\":\"POST\""));

	/* an HTTP error status is a response, not a failure */
	url(&u, "/status/404");
	struct azl_http_request get = { "GET", u.buf, NULL, NULL, 0 };
	assert_int_equal(azl_http_do(http, &get, &resp), 0);
	assert_int_equal(resp.status, 404);
	url(&u, "/status/503");
	assert_int_equal(azl_http_do(http, &get, &resp), 0);
	assert_int_equal(resp.status, 503);
	azl_http_response_release(&resp);
	strbuf_release(&u);
	strbuf_release(&v);
	azl_http_free(http);
}

static void test_batch_keeps_order_and_bound(void **state)
{
	enum { N = 7 };
	struct azl_http *http = client(5000);
	struct azl_http_request reqs[N];
	struct azl_http_response resps[N];
	struct strbuf urls[N], errors[N];
	int results[N];

	(void)state;
	int before = srv.accepted;

	for (int i = 0; i < N; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/item/%d", i);
		strbuf_init(&urls[i], 0);
		url(&urls[i], path);
		reqs[i] = (struct azl_http_request){ "GET", urls[i].buf, NULL, NULL, 0 };
		resps[i] = (struct azl_http_response)AZL_HTTP_RESPONSE_INIT;
		strbuf_init(&errors[i], 0);
	}
	reqs[3].url = "::not a url";
	reqs[5].url = "http://127.0.0.1:1/refused";
	assert_int_equal(azl_http_do_many(http, reqs, resps, results, errors, N, 2), 0);
	for (int i = 0; i < N; i++) {
		char want[48];
		if (i == 3) {
			assert_int_equal(results[i], AZL_EINVALID);
			assert_string_equal(errors[i].buf, "invalid URL \"::not a url\"");
			continue;
		}
		if (i == 5) {
			assert_int_equal(results[i], AZL_ENETWORK);
			assert_string_equal(errors[i].buf,
					    "cannot connect to http://127.0.0.1:1: Connection refused");
			continue;
		}
		assert_string_equal(errors[i].buf, "");
		snprintf(want, sizeof(want), "\"path\":\"/item/%d\"", i);
		assert_int_equal(results[i], 0);
		assert_int_equal(resps[i].status, 200);
		assert_non_null(strstr(resps[i].body.buf, want));
	}
	/* two slots: at most two connections, each reused */
	assert_true(srv.accepted - before <= 2);
	assert_int_equal(azl_http_request_count(http), N - 1);
	for (int i = 0; i < N; i++) {
		azl_http_response_release(&resps[i]);
		strbuf_release(&urls[i]);
		strbuf_release(&errors[i]);
	}
	azl_http_free(http);
}

/* One caller of a concurrent client: a batch of its own slow GETs, then
 * one more by itself; each answer must be its own. */
struct caller {
	struct azl_http *http;
	int id;
	int ok;
	pthread_t thread;
};

enum { CALLERS = 20, CALLER_BATCH = 3 };

static int answered(const struct azl_http_response *resp, const char *path)
{
	struct strbuf want = STRBUF_INIT;
	int ok;

	strbuf_addf(&want, "\"path\":\"%s\"", path);
	ok = resp->status == 200 && strstr(resp->body.buf, want.buf);
	strbuf_release(&want);
	return ok;
}

static void *call(void *arg)
{
	struct caller *c = arg;
	struct azl_http_request reqs[CALLER_BATCH];
	struct azl_http_response resps[CALLER_BATCH + 1];
	struct strbuf urls[CALLER_BATCH + 1], paths[CALLER_BATCH + 1];
	int results[CALLER_BATCH];

	for (int i = 0; i <= CALLER_BATCH; i++) {
		strbuf_init(&paths[i], 0);
		strbuf_addf(&paths[i], "/slow/%d/%d", c->id, i);
		strbuf_init(&urls[i], 0);
		url(&urls[i], paths[i].buf);
		resps[i] = (struct azl_http_response)AZL_HTTP_RESPONSE_INIT;
		if (i < CALLER_BATCH)
			reqs[i] = (struct azl_http_request){ "GET", urls[i].buf, NULL, NULL, 0 };
	}
	/* two at a time each: 40 connections, were they not shared */
	azl_http_do_many(c->http, reqs, resps, results, NULL, CALLER_BATCH, 2);
	c->ok = 1;
	for (int i = 0; i < CALLER_BATCH; i++)
		c->ok &= !results[i] && answered(&resps[i], paths[i].buf);
	struct azl_http_request last = { "GET", urls[CALLER_BATCH].buf, NULL, NULL, 0 };
	c->ok &= !azl_http_do(c->http, &last, &resps[CALLER_BATCH]) &&
		 answered(&resps[CALLER_BATCH], paths[CALLER_BATCH].buf);
	for (int i = 0; i <= CALLER_BATCH; i++) {
		azl_http_response_release(&resps[i]);
		strbuf_release(&urls[i]);
		strbuf_release(&paths[i]);
	}
	return NULL;
}

static struct azl_http *concurrent_client(void)
{
	struct azl_http_options o = { 0 };
	struct azl_http *http;

	o.no_proxy = 1;
	o.timeout_ms = 5000;
	o.concurrent = 1;
	assert_int_equal(azl_http_new(&http, &o), 0);
	return http;
}

static void run_callers(struct azl_http *http)
{
	struct caller callers[CALLERS];

	for (int i = 0; i < CALLERS; i++) {
		callers[i] = (struct caller){ .http = http, .id = i };
		assert_int_equal(pthread_create(&callers[i].thread, NULL, call, &callers[i]), 0);
	}
	for (int i = 0; i < CALLERS; i++) {
		pthread_join(callers[i].thread, NULL);
		assert_true(callers[i].ok);
	}
}

/* Threads calling one concurrent client at once each get their own
 * answers, over connections they share: over HTTP/1.1 at most 32 to a
 * host in all, kept for whoever calls next. */
static void test_concurrent_callers_share_connections(void **state)
{
	struct azl_http *http = concurrent_client();
	int before, first;

	(void)state;
	before = srv.accepted;
	run_callers(http);
	first = srv.accepted - before;
	assert_true(first >= 1);
	assert_true(first <= 32);
	run_callers(http);
	assert_int_equal(srv.accepted - before, first);
	assert_int_equal(azl_http_request_count(http), 2 * CALLERS * (CALLER_BATCH + 1));
	azl_http_free(http);
}

/* The client's own thread runs the requests; the message of a failure
 * still reaches the thread that asked. */
static void test_concurrent_failure_message_reaches_caller(void **state)
{
	struct azl_http *http = concurrent_client();
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct azl_http_request req = { "GET", "http://127.0.0.1:1/refused", NULL, NULL, 0 };
	int result;

	(void)state;
	azl_error_clear();
	assert_int_equal(azl_http_do(http, &req, &resp), AZL_ENETWORK);
	assert_string_equal(azl_error_message(),
			    "cannot connect to http://127.0.0.1:1: Connection refused");
	azl_error_clear();
	assert_int_equal(azl_http_do_many(http, &req, &resp, &result, NULL, 1, 1), 0);
	assert_int_equal(result, AZL_ENETWORK);
	assert_string_equal(azl_error_message(),
			    "cannot connect to http://127.0.0.1:1: Connection refused");
	azl_http_response_release(&resp);
	azl_http_free(http);
}

static int accepted(void)
{
	int n;

	pthread_mutex_lock(&srv.lock);
	n = srv.accepted;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

static void wait_accepted(int n)
{
	for (int i = 0; i < 500 && accepted() < n; i++)
		usleep(10 * 1000);
	assert_int_equal(accepted(), n);
}

/* A pre-connection's HEAD opens the connection; the requests after it use
 * that one. */
static void test_preconnect_opens_the_connection_used_next(void **state)
{
	struct azl_http *http = concurrent_client();
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct strbuf u = STRBUF_INIT;
	int before = accepted();

	(void)state;
	url(&u, "/");
	azl_http_preconnect(http, u.buf);
	wait_accepted(before + 1);
	url(&u, "/after");
	struct azl_http_request req = { "GET", u.buf, NULL, NULL, 0 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(azl_http_do(http, &req, &resp), 0);
		assert_true(answered(&resp, "/after"));
		azl_http_response_release(&resp);
	}
	assert_int_equal(accepted(), before + 1);
	assert_int_equal(azl_http_request_count(http), 4);
	strbuf_release(&u);
	azl_http_free(http);
}

/* An unanswered pre-connection is given up when the client is freed:
 * azl_http_free returns though it has no timeout (else the alarm ends the
 * test), and nothing of it is left (else make asan's leak checker fails
 * the test). A client without a background thread does not pre-connect. */
static void test_preconnect_unanswered_is_abandoned(void **state)
{
	struct azl_http_options o = { .no_proxy = 1, .concurrent = 1 };
	struct azl_http *http;
	struct strbuf u = STRBUF_INIT;
	int before = accepted();

	(void)state;
	assert_int_equal(azl_http_new(&http, &o), 0);
	url(&u, "/hang");
	azl_http_preconnect(http, u.buf);
	wait_accepted(before + 1);
	alarm(60);
	azl_http_free(http);
	alarm(0);

	http = client(5000);
	azl_http_preconnect(http, u.buf);
	assert_int_equal(azl_http_request_count(http), 0);
	azl_http_free(http);
	assert_int_equal(accepted(), before + 1);
	strbuf_release(&u);
}

static void test_connection_refused_names_server(void **state)
{
	struct azl_http *http = client(5000);
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct strbuf u = STRBUF_INIT, want = STRBUF_INIT;
	int port, fd = listen_any(&port);

	(void)state;
	close(fd);  /* nothing listens on port now */
	strbuf_addf(&u, "http://127.0.0.1:%d/api", port);
	strbuf_addf(&want, "cannot connect to http://127.0.0.1:%d: Connection refused", port);
	struct azl_http_request req = { "GET", u.buf, NULL, NULL, 0 };
	assert_int_equal(azl_http_do(http, &req, &resp), AZL_ENETWORK);
	assert_string_equal(azl_error_message(), want.buf);
	assert_int_equal(resp.status, 0);
	azl_http_response_release(&resp);
	strbuf_release(&u);
	strbuf_release(&want);
	azl_http_free(http);
}

static void test_timeout(void **state)
{
	struct azl_http *http = client(300);
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct strbuf u = STRBUF_INIT;

	(void)state;
	url(&u, "/hang");
	struct azl_http_request req = { "GET", u.buf, NULL, NULL, 0 };
	assert_int_equal(azl_http_do(http, &req, &resp), AZL_ETIMEOUT);
	assert_non_null(strstr(azl_error_message(), "request to http://127.0.0.1:"));
	assert_non_null(strstr(azl_error_message(), "timed out"));
	azl_http_response_release(&resp);
	strbuf_release(&u);
	azl_http_free(http);
}

static void capture(int level, const char *message, void *data)
{
	struct strbuf *sb = data;

	strbuf_addf(sb, "%d %s\n", level, message);
}

static void test_traces_are_redacted(void **state)
{
	struct strbuf log = STRBUF_INIT, u = STRBUF_INIT;
	struct azl_http *http;
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	const char *headers[] = { "Authorization: Bearer eyJ-SECRET", NULL };
	const char *form = "grant_type=refresh_token&refresh_token=rt-SECRET";

	(void)state;
	azl_log_init(9, capture, &log);
	http = client(5000);
	url(&u, "/token");
	struct azl_http_request req = { "POST", u.buf, headers, form, strlen(form) };
	assert_int_equal(azl_http_do(http, &req, &resp), 0);
	azl_log_init(0, NULL, NULL);
	/* the server saw the secrets; the log did not */
	assert_non_null(strstr(resp.body.buf, "rt-SECRET"));
	assert_null(strstr(log.buf, "SECRET"));
	assert_non_null(strstr(log.buf, "7     Authorization: Bearer <redacted>\n"));
	assert_non_null(strstr(log.buf, "8 Request Body: grant_type=refresh_token&refresh_token=<redacted>\n"));
	assert_non_null(strstr(log.buf, "\"access_token\":\"<redacted>\""));
	assert_non_null(strstr(log.buf, "6 POST http://127.0.0.1:"));
	assert_non_null(strstr(log.buf, "/token 200 OK in "));
	azl_http_response_release(&resp);
	strbuf_release(&log);
	strbuf_release(&u);
	azl_http_free(http);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequential_requests_reuse_one_connection),
		cmocka_unit_test(test_connections_are_close_on_exec),
		cmocka_unit_test(test_methods_bodies_and_statuses),
		cmocka_unit_test(test_batch_keeps_order_and_bound),
		cmocka_unit_test(test_concurrent_callers_share_connections),
		cmocka_unit_test(test_concurrent_failure_message_reaches_caller),
		cmocka_unit_test(test_preconnect_opens_the_connection_used_next),
		cmocka_unit_test(test_preconnect_unanswered_is_abandoned),
		cmocka_unit_test(test_connection_refused_names_server),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_traces_are_redacted),
	};
	int rc;

	if (azl_global_init())
		return 1;
	rc = cmocka_run_group_tests(tests, setup, NULL);
	azl_global_cleanup();
	return rc;
}
