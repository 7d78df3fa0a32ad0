/* watch.c against an in-process API server (kubeserver.h): events decoded
 * as they arrive, split anywhere; bookmarks; a reconnect after a dropped
 * connection from the last resourceVersion; a relist after 410 (an ERROR
 * event, or the HTTP status); giving up; cancellation and the deadline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "kubeserver.h"
#include "watch.h"
#include "wrapper.h"

static int port;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct strbuf seen = STRBUF_INIT;   /* request targets, one a line */

static void note(const char *target)
{
	pthread_mutex_lock(&lock);
	strbuf_addf(&seen, "%s\n", target);
	pthread_mutex_unlock(&lock);
}

static int seen_has(const char *s)
{
	int found;

	pthread_mutex_lock(&lock);
	found = strstr(seen.buf, s) != NULL;
	pthread_mutex_unlock(&lock);
	return found;
}

/* Holds the stream open until the client goes away. */
static void hold(int fd)
{
	char c;

	while (read(fd, &c, 1) > 0)
		;
}

static int handle(int fd, const struct ks_request *r)
{
	const char *t = r->target;
	struct strbuf sb = STRBUF_INIT;

	note(t);
	/* nodes: list, then a stream whose first event is split mid-object */
	if (!strncmp(t, "/api/v1/nodes?limit=500", 23)) {
		ks_reply(fd, 200, NULL, "{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"10\"},"
			 "\"items\":[{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"3\"}},"
			 "{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"4\"}}]}");
		return 1;
	}
	if (strstr(t, "/api/v1/nodes?watch=1&allowWatchBookmarks=true&resourceVersion=10")) {
		ks_stream_start(fd);
		ks_chunk(fd, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"c{\\\"}\",");
		sleep_millisec(20);
		ks_chunk(fd, "\"resourceVersion\":\"11\"}}}\n{\"type\":\"MODIFIED\",\"object\":"
			 "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"12\"}}}\n");
		ks_chunk(fd, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Node\",\"metadata\":"
			 "{\"resourceVersion\":\"13\"}}}\n{\"type\":\"DELETED\",\"object\":{\"metadata\":"
			 "{\"name\":\"b\",\"resourceVersion\":\"14\"}}}\n");
		hold(fd);
		return 0;
	}
	/* pods: the first stream drops after one event */
	if (strstr(t, "/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=5&")) {
		ks_stream_start(fd);
		ks_chunk(fd, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"p1\","
			 "\"resourceVersion\":\"6\"}}}\n");
		sleep_millisec(20);
		shutdown(fd, SHUT_RDWR);
		return 0;
	}
	if (strstr(t, "/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=6&")) {
		ks_stream_start(fd);
		ks_chunk(fd, "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"p1\","
			 "\"resourceVersion\":\"7\"}}}\n");
		hold(fd);
		return 0;
	}
	/* services: an ERROR 410 event, then the relist's version */
	if (strstr(t, "/api/v1/services?watch=1&allowWatchBookmarks=true&resourceVersion=1")) {
		ks_stream_start(fd);
		ks_chunk(fd, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"status\":\"Failure\","
			 "\"message\":\"too old resource version: 1 (40)\",\"reason\":\"Expired\","
			 "\"code\":410}}\n");
		ks_stream_end(fd);
		return 1;
	}
	if (!strncmp(t, "/api/v1/services?limit=500", 26) || !strncmp(t, "/api/v1/endpoints?limit=500", 27)) {
		ks_reply(fd, 200, NULL, "{\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"50\"},"
			 "\"items\":[{\"metadata\":{\"name\":\"s1\",\"resourceVersion\":\"45\"}}]}");
		return 1;
	}
	if (strstr(t, "resourceVersion=50")) {
		ks_stream_start(fd);
		ks_chunk(fd, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"s2\","
			 "\"resourceVersion\":\"51\"}}}\n");
		hold(fd);
		return 0;
	}
	/* endpoints: the HTTP status says 410 */
	if (strstr(t, "/api/v1/endpoints?watch=1") && strstr(t, "resourceVersion=2")) {
		ks_reply(fd, 410, NULL, ks_status(&sb, 410, "Expired", "too old resource version", NULL));
		strbuf_release(&sb);
		return 1;
	}
	/* expired: every watch is gone at once, however fresh the list */
	if (strstr(t, "/api/v1/expired?watch=1")) {
		ks_stream_start(fd);
		ks_chunk(fd, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
			 "\"reason\":\"Expired\",\"message\":\"too old resource version\"}}\n");
		ks_stream_end(fd);
		return 1;
	}
	if (!strncmp(t, "/api/v1/expired?limit=500", 25)) {
		ks_reply(fd, 200, NULL, "{\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"60\"},"
			 "\"items\":[]}");
		return 1;
	}
	/* quiet: a stream where nothing happens */
	if (strstr(t, "/api/v1/quiet?watch=1")) {
		ks_stream_start(fd);
		hold(fd);
		return 0;
	}
	/* broken: every connection drops before an answer */
	if (strstr(t, "/api/v1/broken"))
		return 0;
	ks_reply(fd, 403, NULL, ks_status(&sb, 403, "Forbidden", "configmaps is forbidden", NULL));
	strbuf_release(&sb);
	return 1;
}

static void to_stderr(int level, const char *message, void *data)
{
	(void)level, (void)data;
	fprintf(stderr, "%s\n", message);
}

static int setup(void **state)
{
	(void)state;
	if (getenv("WATCH_DEBUG"))
		azl_log_init(9, to_stderr, NULL);
	port = ks_start(handle);
	return port < 0;
}

/* What the callback saw: "TYPE name rv" lines; stops at stop_after. */
struct log {
	struct strbuf lines;
	int stop_after;
	int n;
};

static const char *type_name(enum azl_watch_event_type t)
{
	static const char *names[] = { "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "RELIST",
				       "SYNCED" };
	return names[t];
}

static int record(struct azl_watch *w, const struct azl_watch_event *ev, void *ctx)
{
	struct log *l = ctx;

	strbuf_addf(&l->lines, "%s %s %s\n", type_name(ev->type),
		    ev->object ? azl_json_str(ev->object, "metadata.name", "-") : "-",
		    ev->resource_version);
	if (++l->n == l->stop_after)
		azl_watch_stop(w);
	return 0;
}

static int run_watch(const char *path, const char *rv, int stop_after, struct log *l,
		     struct azl_watch_stats *stats, long timeout_ms)
{
	struct ks_client c;
	struct azl_watch *w;
	struct azl_watch_options o = { 0 };
	int rc;

	strbuf_init(&l->lines, 0);
	l->stop_after = stop_after;
	l->n = 0;
	o.path = path;
	o.resource_version = rv;
	o.query = "labelSelector=x%3Dy";
	o.fn = record;
	o.ctx = l;
	o.timeout_ms = timeout_ms;
	o.max_failures = 3;
	o.backoff_ms = 10;
	ks_open(&c, port);
	assert_int_equal(azl_watch_new(&w, c.kube, &o), 0);
	rc = azl_watch_run(w);
	azl_watch_get_stats(w, stats);
	azl_watch_free(w);
	ks_close(&c);
	return rc;
}

static void test_lists_then_decodes_events_and_bookmarks(void **state)
{
	struct log l;
	struct azl_watch_stats st;

	(void)state;
	assert_int_equal(run_watch("/api/v1/nodes", NULL, 8, &l, &st, 0), 0);
	assert_string_equal(l.lines.buf,
			    "RELIST - \n"
			    "ADDED a 3\n"
			    "ADDED b 4\n"
			    "SYNCED - 10\n"
			    "ADDED c{\"} 11\n"
			    "MODIFIED a 12\n"
			    "BOOKMARK - 13\n"
			    "DELETED b 14\n");
	assert_int_equal(st.lists, 1);
	assert_int_equal(st.bookmarks, 1);
	assert_int_equal(st.reconnects, 0);
	strbuf_release(&l.lines);
}

static void test_reconnects_from_last_version_after_a_drop(void **state)
{
	struct log l;
	struct azl_watch_stats st;

	(void)state;
	assert_int_equal(run_watch("/api/v1/pods", "5", 2, &l, &st, 0), 0);
	assert_string_equal(l.lines.buf, "ADDED p1 6\nMODIFIED p1 7\n");
	assert_int_equal(st.lists, 0);
	assert_int_equal(st.reconnects, 1);
	assert_true(seen_has("resourceVersion=6&labelSelector=x%3Dy"));
	strbuf_release(&l.lines);
}

static void test_relists_after_a_gone_event(void **state)
{
	struct log l;
	struct azl_watch_stats st;

	(void)state;
	assert_int_equal(run_watch("/api/v1/services", "1", 4, &l, &st, 0), 0);
	assert_string_equal(l.lines.buf, "RELIST - 1\nADDED s1 45\nSYNCED - 50\nADDED s2 51\n");
	assert_int_equal(st.relists_gone, 1);
	assert_int_equal(st.lists, 1);
	strbuf_release(&l.lines);
}

static void test_relists_after_http_410(void **state)
{
	struct log l;
	struct azl_watch_stats st;

	(void)state;
	assert_int_equal(run_watch("/api/v1/endpoints", "2", 3, &l, &st, 0), 0);
	assert_string_equal(l.lines.buf, "RELIST - 2\nADDED s1 45\nSYNCED - 50\n");
	assert_int_equal(st.relists_gone, 1);
	strbuf_release(&l.lines);
}

static void test_gives_up_when_every_attempt_fails(void **state)
{
	struct log l;
	struct azl_watch_stats st;

	(void)state;
	assert_int_equal(run_watch("/api/v1/broken", "9", 0, &l, &st, 0), AZL_ENETWORK);
	assert_non_null(strstr(azl_error_message(), "watch of broken gave up after 3 failed attempts"));
	assert_int_equal(st.connects, 3);
	strbuf_release(&l.lines);
}

static void test_gone_again_and_again_is_a_failure(void **state)
{
	struct log l;
	struct azl_watch_stats st;

	(void)state;
	assert_int_equal(run_watch("/api/v1/expired", "9", 0, &l, &st, 0), AZL_EGONE);
	assert_non_null(strstr(azl_error_message(), "watch of expired gave up after 3 failed "
			       "attempts in a row: watch of expired: too old resource version"));
	assert_int_equal(st.lists, 3);
	strbuf_release(&l.lines);
}

static void test_forbidden_ends_the_watch(void **state)
{
	struct log l;
	struct azl_watch_stats st;

	(void)state;
	assert_int_equal(run_watch("/api/v1/configmaps", "9", 0, &l, &st, 0), AZL_EFORBIDDEN);
	assert_string_equal(azl_error_message(), "configmaps is forbidden");
	assert_int_equal(st.connects, 1);
	strbuf_release(&l.lines);
}

static void test_deadline_ends_a_quiet_watch(void **state)
{
	struct log l;
	struct azl_watch_stats st;

	(void)state;
	assert_int_equal(run_watch("/api/v1/quiet", "9", 0, &l, &st, 300), AZL_ETIMEOUT);
	assert_non_null(strstr(azl_error_message(), "watch of quiet"));
	strbuf_release(&l.lines);
}

/* A watch of a collection that never changes, from resourceVersion 9. */
static struct azl_watch *quiet_watch(struct ks_client *c, struct log *l)
{
	struct azl_watch_options o = { 0 };
	struct azl_watch *w;

	o.path = "/api/v1/quiet";
	o.resource_version = "9";
	o.fn = record;
	o.ctx = l;
	ks_open(c, port);
	assert_int_equal(azl_watch_new(&w, c->kube, &o), 0);
	return w;
}

/* In slices: each ends at its own deadline, and the next goes on from the
 * same resourceVersion without listing (the node watch reads PDBs between). */
static void test_run_for_slices_without_listing(void **state)
{
	struct azl_watch_stats st;
	struct ks_client c;
	struct log l = { STRBUF_INIT, 0, 0 };
	struct azl_watch *w = quiet_watch(&c, &l);

	(void)state;
	assert_int_equal(azl_watch_run_for(w, 200), AZL_ETIMEOUT);
	assert_non_null(strstr(azl_error_message(), "no end within 200 ms"));
	assert_int_equal(azl_watch_run_for(w, 150), AZL_ETIMEOUT);
	assert_non_null(strstr(azl_error_message(), "no end within 150 ms"));
	azl_watch_get_stats(w, &st);
	assert_int_equal(st.lists, 0);
	assert_int_equal(st.connects, 2);
	assert_string_equal(azl_watch_resource_version(w), "9");
	azl_watch_free(w);
	ks_close(&c);
	strbuf_release(&l.lines);
}

static void *cancel_later(void *arg)
{
	sleep_millisec(200);
	azl_watch_cancel(arg);
	return NULL;
}

static void test_cancel_from_another_thread(void **state)
{
	struct ks_client c;
	struct log l = { STRBUF_INIT, 0, 0 };
	struct azl_watch *w = quiet_watch(&c, &l);
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, cancel_later, w), 0);
	assert_int_equal(azl_watch_run(w), AZL_ECANCELED);
	assert_string_equal(azl_error_message(), "watch of quiet cancelled");
	pthread_join(t, NULL);
	azl_watch_free(w);
	ks_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_then_decodes_events_and_bookmarks),
		cmocka_unit_test(test_reconnects_from_last_version_after_a_drop),
		cmocka_unit_test(test_relists_after_a_gone_event),
		cmocka_unit_test(test_relists_after_http_410),
		cmocka_unit_test(test_gives_up_when_every_attempt_fails),
		cmocka_unit_test(test_gone_again_and_again_is_a_failure),
		cmocka_unit_test(test_forbidden_ends_the_watch),
		cmocka_unit_test(test_deadline_ends_a_quiet_watch),
		cmocka_unit_test(test_run_for_slices_without_listing),
		cmocka_unit_test(test_cancel_from_another_thread),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
