/* Watching a Kubernetes collection, as client-go's Reflector does: list
 * (or start from a given resourceVersion), then GET
 * ?watch=1&allowWatchBookmarks=true&resourceVersion=RV and decode the
 * stream of ADDED / MODIFIED / DELETED / BOOKMARK / ERROR events as they
 * arrive. A dropped connection is picked up again from the last
 * resourceVersion seen; a 410 Gone (an HTTP answer or an ERROR event:
 * the server no longer has that version) lists again.
 *
 * The watch runs in the caller's thread until the caller stops it (from
 * its event callback with azl_watch_stop(), from any thread or a signal
 * handler with azl_watch_cancel()), its deadline passes, or an error no
 * reconnect cures (403, 404, a server that keeps failing). */
#ifndef AZL_WATCH_H
#define AZL_WATCH_H

#include <cjson/cJSON.h>

#include "kube.h"

struct azl_watch;

enum azl_watch_event_type {
	AZL_WATCH_ADDED,
	AZL_WATCH_MODIFIED,
	AZL_WATCH_DELETED,
	AZL_WATCH_BOOKMARK,      /* object carries only metadata.resourceVersion */
	/* A (re)list begins: the ADDED events up to the next SYNCED are the
	 * whole collection; forget any object not among them. object NULL. */
	AZL_WATCH_RELIST,
	AZL_WATCH_SYNCED         /* the list is over; object NULL */
};

struct azl_watch_event {
	enum azl_watch_event_type type;
	const cJSON *object;     /* borrowed for the call */
	const char *resource_version;  /* the object's, or the list's */
};

/* Returns 0 to go on; a negative code (having set the error) ends the
 * watch with it. */
typedef int (*azl_watch_fn)(struct azl_watch *w, const struct azl_watch_event *ev,
			    void *ctx);

struct azl_watch_options {
	const char *path;             /* a collection: "/api/v1/nodes" */
	const char *query;            /* "fieldSelector=..." or NULL */
	const char *resource_version; /* NULL or "": list first */
	long page_size;               /* of a list; 0: 500 */
	long timeout_ms;              /* the whole watch; 0: none (AZL_ETIMEOUT) */
	/* the server ends each watch request after this many seconds
	 * (timeoutSeconds) and the watch reconnects; 0: the server's choice */
	long server_timeout_s;
	/* The policy for attempts in a row that fail (a reconnect that sees
	 * an event starts counting afresh): how many, how long, the backoff,
	 * and cancellation (retry.h). Borrowed. NULL: the watch's own, of
	 * max_failures tries backing off from backoff_ms, which
	 * azl_watch_cancel() interrupts. */
	struct azl_retry *retry;
	int max_failures;             /* 0: 5 */
	long backoff_ms;              /* 0: 500 */
	azl_watch_fn fn;
	void *ctx;
};

/* Borrows kube; o's strings are copied. */
int azl_watch_new(struct azl_watch **out, struct azl_kube *kube,
		  const struct azl_watch_options *o);
void azl_watch_free(struct azl_watch *w);

/* Runs the watch: 0 after azl_watch_stop(), AZL_ECANCELED after
 * azl_watch_cancel(), AZL_ETIMEOUT at the deadline, or the error that
 * ended it. */
int azl_watch_run(struct azl_watch *w);

/* As azl_watch_run(), with a deadline ms from now instead of the
 * options' timeout (0: none): AZL_ETIMEOUT then. Another run goes on from
 * the last resourceVersion without listing, so a caller can watch in
 * slices and do other work between them on the same client. */
int azl_watch_run_for(struct azl_watch *w, long ms);

/* Ends azl_watch_run() once the current event is handled (call it from
 * the callback). */
void azl_watch_stop(struct azl_watch *w);
/* Ends azl_watch_run() within about a second (with a policy of the
 * caller's, once a wait between attempts is over: cancel through the
 * policy then); safe from another thread and from a signal handler. */
void azl_watch_cancel(struct azl_watch *w);

/* The last resourceVersion seen ("" before any): where another watch
 * would pick up. */
const char *azl_watch_resource_version(const struct azl_watch *w);

/* How often the watch connected again after its stream ended, and listed
 * again after a 410; for -v output and tests. */
struct azl_watch_stats {
	unsigned long lists, connects, reconnects, relists_gone, events, bookmarks;
};
void azl_watch_get_stats(const struct azl_watch *w, struct azl_watch_stats *out);

#endif
