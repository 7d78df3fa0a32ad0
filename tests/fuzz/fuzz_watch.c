/* A Kubernetes watch (core/watch) against scripted answers (fuzz.h's HTTP
 * double, streams included): the first list (paged), the watch stream's
 * JSON lines (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR, 410 Gone and the
 * relist, lines split across reads), and the reconnects, until the script
 * ends and the watch gives up under a two-try, 3 ms policy. */
#include "fuzz.h"

#include <stdlib.h>

#include "kube.h"
#include "retry.h"
#include "watch.h"

static int on_event(struct azl_watch *w, const struct azl_watch_event *ev, void *ctx)
{
	size_t *n = ctx;

	(void)w;
	(void)ev->resource_version;
	if (ev->object)
		(void)cJSON_GetObjectItemCaseSensitive(ev->object, "metadata");
	return ++*n > 10000 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct azl_retry *retry;
	struct azl_watch_options o = { 0 };
	struct azl_kube *kube = NULL;
	struct azl_watch *w = NULL;
	size_t events = 0;

	if (!retry) {
		struct azl_retry_options ro = { .max_attempts = 2, .budget_ms = 3 };

		if (azl_retry_new(&retry, &ro) < 0)
			abort();
	}
	fuzz_kube_new(&kube);
	fuzz_http_script(data, size);
	o.path = "/api/v1/nodes";
	o.query = "labelSelector=kubernetes.azure.com%2Fagentpool%3Dp";
	o.page_size = 2;
	o.retry = retry;
	o.max_failures = 2;
	o.backoff_ms = 1;
	o.timeout_ms = 1000;
	o.fn = on_event;
	o.ctx = &events;
	if (azl_watch_new(&w, kube, &o) == 0) {
		azl_watch_run(w);
		(void)azl_watch_resource_version(w);
		azl_watch_free(w);
	}
	azl_kube_free(kube);
	return 0;
}
