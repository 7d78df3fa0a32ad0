#include "watch.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "retry.h"
#include "strbuf.h"
#include "wrapper.h"

#define DEFAULT_MAX_FAILURES 5
#define DEFAULT_BACKOFF_MS 500L
/* client-go's reflector backs off up to 30 s */
#define MAX_BACKOFF_MS 30000L
/* a stream the server ends sooner than this with no event is a failure
 * (client-go: "very short watch"), or a server closing at once would be
 * asked again in a tight loop */
#define SHORT_WATCH_MS 1000L
/* the watch's own policy: failures in a row may take this long */
#define OWN_BUDGET_MS (10L * 60L * 1000L)

struct azl_watch {
	struct azl_kube *kube;
	struct strbuf path, query, rv;
	long page_size, server_timeout_s;
	long deadline;               /* monotonic ms; 0: none */
	long timeout_ms;
	long run_ms;                 /* this run's deadline, from its start */
	struct azl_retry *own_retry, *retry;
	azl_watch_fn fn;
	void *ctx;
	atomic_int cancelled;
	int stopped;
	/* the stream being decoded */
	struct strbuf buf;           /* bytes not yet part of a whole event */
	size_t scanned;              /* of buf, already looked at */
	int depth, in_string, escaped;
	int progressed;              /* an event arrived on this connection */
	long retry_after_ms;         /* what the last failed answer asked; -1 */
	struct azl_watch_stats stats;
};

static int own_cancelled(void *data)
{
	struct azl_watch *w = data;

	return atomic_load(&w->cancelled);
}

static int own_retry(struct azl_watch *w, const struct azl_watch_options *o)
{
	struct azl_retry_options ro = { 0 };

	ro.max_attempts = o->max_failures > 0 ? o->max_failures : DEFAULT_MAX_FAILURES;
	ro.base_ms = o->backoff_ms > 0 ? o->backoff_ms : DEFAULT_BACKOFF_MS;
	ro.max_backoff_ms = MAX_BACKOFF_MS;
	ro.budget_ms = OWN_BUDGET_MS;
	ro.cancelled = own_cancelled;
	ro.cancel_data = w;
	return azl_retry_new(&w->own_retry, &ro);
}

int azl_watch_new(struct azl_watch **out, struct azl_kube *kube,
		  const struct azl_watch_options *o)
{
	struct azl_watch *w;
	int rc;

	*out = NULL;
	if (!o->path || *o->path != '/' || !o->fn)
		return azl_error_set(AZL_EINVALID, "a watch needs a collection path and a callback");
	w = xcalloc(1, sizeof(*w));
	w->kube = kube;
	strbuf_init(&w->path, 0);
	strbuf_init(&w->query, 0);
	strbuf_init(&w->rv, 0);
	strbuf_init(&w->buf, 0);
	strbuf_addstr(&w->path, o->path);
	strbuf_addstr(&w->query, o->query ? o->query : "");
	strbuf_addstr(&w->rv, o->resource_version ? o->resource_version : "");
	w->page_size = o->page_size;
	w->server_timeout_s = o->server_timeout_s;
	w->timeout_ms = o->timeout_ms;
	w->fn = o->fn;
	w->ctx = o->ctx;
	atomic_init(&w->cancelled, 0);
	rc = o->retry ? 0 : own_retry(w, o);
	w->retry = o->retry ? o->retry : w->own_retry;
	if (rc) {
		azl_watch_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void azl_watch_free(struct azl_watch *w)
{
	if (!w)
		return;
	strbuf_release(&w->path);
	strbuf_release(&w->query);
	strbuf_release(&w->rv);
	strbuf_release(&w->buf);
	azl_retry_free(w->own_retry);
	free(w);
}

void azl_watch_stop(struct azl_watch *w)
{
	w->stopped = 1;
}

void azl_watch_cancel(struct azl_watch *w)
{
	atomic_store(&w->cancelled, 1);
}

const char *azl_watch_resource_version(const struct azl_watch *w)
{
	return w->rv.buf;
}

void azl_watch_get_stats(const struct azl_watch *w, struct azl_watch_stats *out)
{
	*out = w->stats;
}

/* The resource a watch is of, for messages ("/api/v1/nodes" -> "nodes"). */
static const char *what(const struct azl_watch *w)
{
	const char *slash = strrchr(w->path.buf, '/');

	return slash && slash[1] ? slash + 1 : w->path.buf;
}

/* AZL_ECANCELED or AZL_ETIMEOUT (with the error set) once the caller
 * cancelled or the deadline passed; else 0. */
static int check_stop(const struct azl_watch *w)
{
	if (atomic_load(&w->cancelled) || azl_retry_cancelled(w->retry))
		return azl_error_set(AZL_ECANCELED, "watch of %s cancelled", what(w));
	if (w->deadline && monotonic_ms() >= w->deadline)
		return azl_error_set(AZL_ETIMEOUT, "watch of %s: no end within %ld ms", what(w),
				     w->run_ms);
	return 0;
}

static int should_stop(void *ctx)
{
	return check_stop(ctx);
}

static void set_rv(struct azl_watch *w, const char *rv)
{
	if (!rv || !*rv)
		return;
	strbuf_reset(&w->rv);
	strbuf_addstr(&w->rv, rv);
}

static int deliver(struct azl_watch *w, enum azl_watch_event_type type, const cJSON *obj,
		   const char *rv)
{
	struct azl_watch_event ev = { type, obj, rv };

	w->stats.events++;
	return w->fn(w, &ev, w->ctx);
}

/* An ERROR event's Status: 410 lists again, a 429/5xx reconnects, the
 * rest ends the watch. */
static int error_event(const struct azl_watch *w, const cJSON *st)
{
	long code = azl_json_int(st, "code", 0);
	const char *msg = azl_json_str(st, "message", "");

	if (code == 410)
		return azl_error_set(AZL_EGONE, "watch of %s: %s", what(w), msg);
	if (code == 429)
		return azl_error_set(AZL_ETHROTTLED, "watch of %s: %s", what(w), msg);
	if (code >= 500)
		return azl_error_set(AZL_ESERVER, "watch of %s: %s", what(w), msg);
	return azl_error_set(AZL_ERROR, "watch of %s: the server sent an error event (%ld %s): %s",
			     what(w), code, azl_json_str(st, "reason", ""), msg);
}

static const struct {
	const char *name;
	enum azl_watch_event_type type;
} event_types[] = {
	{ "ADDED", AZL_WATCH_ADDED },
	{ "MODIFIED", AZL_WATCH_MODIFIED },
	{ "DELETED", AZL_WATCH_DELETED },
	{ "BOOKMARK", AZL_WATCH_BOOKMARK },
};

/* One decoded event: {"type": ..., "object": {...}}. */
static int handle_event(struct azl_watch *w, const cJSON *ev)
{
	const char *type = azl_json_str(ev, "type", "");
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
	size_t i;

	if (!strcmp(type, "ERROR"))
		return error_event(w, obj);
	w->progressed = 1;
	for (i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
		if (!strcmp(type, event_types[i].name))
			break;
	if (i == sizeof(event_types) / sizeof(event_types[0]) || !cJSON_IsObject(obj)) {
		azl_logf(4, "watch of %s: ignoring an event of type \"%s\"", what(w), type);
		return 0;
	}
	set_rv(w, azl_json_str(obj, "metadata.resourceVersion", NULL));
	if (event_types[i].type == AZL_WATCH_BOOKMARK)
		w->stats.bookmarks++;
	return deliver(w, event_types[i].type, obj, w->rv.buf);
}

/* Finds where the JSON object starting buf ends, carrying the scan's
 * state across pieces; the length of the object, or 0 while incomplete. */
static size_t object_end(struct azl_watch *w)
{
	for (; w->scanned < w->buf.len; w->scanned++) {
		char ch = w->buf.buf[w->scanned];

		if (w->in_string) {
			if (w->escaped)
				w->escaped = 0;
			else if (ch == '\\')
				w->escaped = 1;
			else if (ch == '"')
				w->in_string = 0;
		} else if (ch == '"') {
			w->in_string = 1;
		} else if (ch == '{') {
			w->depth++;
		} else if (ch == '}' && --w->depth == 0) {
			return ++w->scanned;
		}
	}
	return 0;
}

static void decoder_reset(struct azl_watch *w)
{
	strbuf_reset(&w->buf);
	w->scanned = 0;
	w->depth = w->in_string = w->escaped = 0;
}

/* Decodes the events whole in buf and keeps the rest. */
static int decode(struct azl_watch *w)
{
	for (;;) {
		size_t skip = 0, len;
		cJSON *ev;
		int rc;

		while (skip < w->buf.len && strchr(" \t\r\n", w->buf.buf[skip]))
			skip++;
		if (skip) {
			memmove(w->buf.buf, w->buf.buf + skip, w->buf.len - skip);
			strbuf_setlen(&w->buf, w->buf.len - skip);
			w->scanned = w->scanned > skip ? w->scanned - skip : 0;
		}
		if (!w->buf.len)
			return 0;
		if (w->buf.buf[0] != '{')
			return azl_error_set(AZL_EINVALID, "watch of %s: the server sent something "
					     "other than JSON events", what(w));
		len = object_end(w);
		if (!len)
			return 0;
		ev = cJSON_ParseWithLength(w->buf.buf, len);
		if (!ev)
			return azl_error_set(AZL_EINVALID, "watch of %s: the server sent an event "
					     "that is not valid JSON", what(w));
		memmove(w->buf.buf, w->buf.buf + len, w->buf.len - len);
		strbuf_setlen(&w->buf, w->buf.len - len);
		w->scanned = 0;
		rc = handle_event(w, ev);
		cJSON_Delete(ev);
		if (!rc && w->stopped)
			rc = AZL_ECANCELED;   /* ends the transfer; run() returns 0 */
		if (rc)
			return rc;
	}
}

static int on_data(const char *data, size_t len, void *ctx)
{
	struct azl_watch *w = ctx;

	strbuf_add(&w->buf, data, len);
	return decode(w);
}

/* One watch request, from w->rv, until its stream ends. */
static int stream(struct azl_watch *w)
{
	struct azl_kube_result res = AZL_KUBE_RESULT_INIT;
	struct azl_http_stream s = { on_data, should_stop, w };
	struct strbuf url = STRBUF_INIT;
	long started = monotonic_ms();
	int rc;

	strbuf_addf(&url, "%s%cwatch=1&allowWatchBookmarks=true&resourceVersion=", w->path.buf,
		    strchr(w->path.buf, '?') ? '&' : '?');
	strbuf_addurlenc(&url, w->rv.buf);
	if (w->server_timeout_s > 0)
		strbuf_addf(&url, "&timeoutSeconds=%ld", w->server_timeout_s);
	if (w->query.len)
		strbuf_addf(&url, "&%s", w->query.buf);
	decoder_reset(w);
	w->progressed = 0;
	if (w->stats.connects++)
		w->stats.reconnects++;
	azl_logf(5, "watch of %s from resourceVersion %s", what(w), w->rv.buf);
	rc = azl_kube_stream(w->kube, url.buf, &s, &res);
	w->retry_after_ms = res.retry_after_ms;
	if (!rc && !w->progressed && monotonic_ms() - started < SHORT_WATCH_MS)
		rc = azl_error_set(AZL_ENETWORK, "watch of %s: the server ended the stream at once",
				   what(w));
	azl_kube_result_release(&res);
	strbuf_release(&url);
	return rc;
}

static int list_page(cJSON *items, void *ctx)
{
	struct azl_watch *w = ctx;
	const cJSON *item;
	int rc;

	cJSON_ArrayForEach(item, items) {
		rc = deliver(w, AZL_WATCH_ADDED, item,
			     azl_json_str(item, "metadata.resourceVersion", ""));
		if (rc)
			return rc;
		if (w->stopped)
			return AZL_ECANCELED;
	}
	return check_stop(w);
}

/* Lists the collection afresh: RELIST, an ADDED per object, SYNCED. */
static int relist(struct azl_watch *w)
{
	struct strbuf rv = STRBUF_INIT;
	int rc;

	w->stats.lists++;
	w->progressed = 0;
	w->retry_after_ms = -1;
	rc = deliver(w, AZL_WATCH_RELIST, NULL, w->rv.buf);
	if (!rc)
		rc = azl_kube_list_pages_rv(w->kube, w->path.buf, w->query.len ? w->query.buf : NULL,
					    w->page_size, list_page, w, &rv);
	if (!rc) {
		set_rv(w, rv.buf);
		rc = deliver(w, AZL_WATCH_SYNCED, NULL, w->rv.buf);
	}
	strbuf_release(&rv);
	return rc;
}

/* Failures a reconnect may cure. */
static int transient(int rc)
{
	return rc == AZL_ENETWORK || rc == AZL_ETIMEOUT || rc == AZL_ESERVER ||
	       rc == AZL_ETHROTTLED || rc == AZL_ECONFLICT;
}

/* After a failed attempt: 0 once it is time for another (a wait under the
 * policy, never past the deadline), or the error that ends the watch. */
static int after_failure(struct azl_watch *w, struct azl_retry_state *st)
{
	long wait;

	if (w->progressed)
		azl_retry_begin(w->retry, st);
	switch (azl_retry_next(w->retry, st, w->retry_after_ms, &wait)) {
	case 0:
		break;
	case AZL_ECANCELED:
		return check_stop(w);
	default:
		return azl_error_prefix("watch of %s gave up after %d failed attempts in a row",
					what(w), st->attempts);
	}
	if (w->deadline && monotonic_ms() + wait > w->deadline)
		wait = w->deadline - monotonic_ms();
	azl_logf(4, "%s; trying again in %ld ms", azl_error_message(), wait);
	if (wait > 0 && azl_retry_wait(w->retry, wait))
		return check_stop(w);
	return 0;
}

int azl_watch_run(struct azl_watch *w)
{
	return azl_watch_run_for(w, w->timeout_ms);
}

int azl_watch_run_for(struct azl_watch *w, long ms)
{
	struct azl_retry_state st;
	int need_list = !w->rv.len, gone = 0, rc;

	w->stopped = 0;
	w->run_ms = ms;
	w->deadline = ms > 0 ? monotonic_ms() + ms : 0;
	azl_retry_begin(w->retry, &st);
	for (;;) {
		rc = check_stop(w);
		if (rc)
			return rc;
		rc = need_list ? relist(w) : stream(w);
		if (w->stopped)
			return 0;
		if (!rc) {
			/* a stream that ran counts as progress; a list alone does not */
			if (!need_list)
				azl_retry_begin(w->retry, &st);
			need_list = 0;
			continue;
		}
		if (check_stop(w))
			return azl_error_code();
		if (rc == AZL_EGONE) {
			azl_logf(4, "%s; listing again", azl_error_message());
			w->stats.relists_gone++;
			need_list = 1;
			/* a server that is gone again at once is failing, not moving on */
			gone = w->progressed ? 1 : gone + 1;
			if (gone > 1 && (rc = after_failure(w, &st)))
				return rc;
			continue;
		}
		if (!transient(rc))
			return rc;
		rc = after_failure(w, &st);
		if (rc)
			return rc;
	}
}
