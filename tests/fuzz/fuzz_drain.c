/* The drain engine (drain.h) against scripted answers (fuzz.h's HTTP
 * double): discovery, the PDB and node lists, each node's pods (pod.c),
 * DaemonSet lookups, then a run of evictions, re-reads and polls, with
 * kubectl's grouped warnings and errors built from whatever came back. */
#include "fuzz.h"

#include <stdlib.h>

#include "drain.h"
#include "kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const nodes[] = { "n1", "n2" };
	struct azl_drain_options o = AZL_DRAIN_OPTIONS_INIT;
	struct azl_drain_plan *plan = NULL;
	struct azl_drain *d = NULL;
	struct azl_kube *kube = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	fuzz_kube_new(&kube);
	fuzz_http_script(data, size);
	o.ignore_daemonsets = size & 1;
	o.delete_emptydir_data = o.force = 1;
	o.skip_wait_for_delete_timeout_s = 5;
	o.retry_delay_ms = o.poll_ms = 1;
	o.timeout_ms = 5;
	if (azl_drain_new(&d, kube, &o) < 0)
		abort();
	if (!azl_drain_plan(d, nodes, 2, &plan)) {
		azl_drain_run(d, plan);
		for (i = 0; i < plan->nr_nodes; i++) {
			azl_drain_node_warnings(&plan->nodes[i], &sb);
			azl_drain_node_errors(&plan->nodes[i], &sb);
		}
		azl_drain_plan_errors(plan, &sb);
	}
	azl_drain_plan_free(plan);
	azl_drain_free(d);
	azl_kube_free(kube);
	strbuf_release(&sb);
	return 0;
}
