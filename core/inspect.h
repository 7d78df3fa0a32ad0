/* Inspecting the AKS clusters behind kubeconfig contexts: for each context,
 * which cluster it is (cluster.h) and its node pools with their findings
 * (pool.h), several contexts in parallel over shared ARM connections and one
 * ARM credential. A context that fails keeps its one-line error; the others
 * carry on. */
#ifndef AZL_INSPECT_H
#define AZL_INSPECT_H

#include <stddef.h>

#include "auth.h"
#include "cluster.h"
#include "kubeconfig.h"
#include "pool.h"
#include "strbuf.h"

/* One context's outcome. */
struct azl_inspection {
	char *context;               /* NULL before the run: the current context */
	int rc;                      /* 0, or the AZL_E* of the failure */
	struct strbuf error;         /* one line when rc != 0 */
	struct azl_cluster cluster;
	struct azl_pool_list pools;
};

struct azl_inspect_options {
	const struct azl_kubeconfig *kubeconfig;
	const struct azl_kube_overrides *overrides; /* .context is replaced per inspection */
	const char *subscription;    /* or NULL: found per context (cluster.h) */
	const char *resource_group;
	const char *name;            /* the cluster, with resource_group: no search */
	struct azl_auth *auth;
	long arm_timeout_ms;         /* azl_arm_options' timeout_ms */
	const char *const *pools;    /* only these pools; all when nr_pools is 0 */
	size_t nr_pools;
	/* Called after each context, one call at a time, from any thread. */
	void (*progress)(size_t done, size_t total, const struct azl_inspection *last,
			 void *data);
	void *progress_data;
};

/* context may be NULL (the current context); len is strlen-like. */
void azl_inspection_init(struct azl_inspection *ins, const char *context, size_t len);
void azl_inspection_release(struct azl_inspection *ins);

/* Inspects items[0..n). Returns 0 when every context was attempted (each
 * one's outcome is in items[i].rc), or an error when none could be: no ARM
 * client or token (the contexts share one of each). After a full listing
 * (nr_pools 0), each context's pool names are written to the pool-name
 * cache, so completion never needs the network. */
int azl_inspect_contexts(const struct azl_inspect_options *opts,
			 struct azl_inspection *items, size_t n);

#endif
