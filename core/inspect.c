#include "inspect.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "error.h"
#include "findings.h"
#include "kube.h"
#include "log.h"
#include "poolcache.h"
#include "wrapper.h"

/* Contexts inspected at once. The workers share one ARM client, so a
 * worker costs a thread and its contexts' API-server connections, which
 * each context needs anyway. On the 25-context bench fleet (2 cores), 8,
 * 16, 25 and 32 workers took 0.41, 0.36, 0.35 and 0.35 s: with one worker
 * per context, no context waits for another's round trips. The ARM reads of
 * a run (throttling counts them) are the same for any number. */
#define MAX_WORKERS 32

struct inspect_run {
	const struct azl_inspect_options *opts;
	struct azl_arm_credential *cred;
	struct azl_arm *arm;         /* every worker's: one ARM connection */
	const struct azl_cloud *cloud;
	struct azl_inspection *items;
	size_t nr;
	pthread_mutex_t lock;
	size_t next;
	size_t done;
};

void azl_inspection_init(struct azl_inspection *ins, const char *context, size_t len)
{
	memset(ins, 0, sizeof(*ins));
	strbuf_init(&ins->error, 0);
	if (context)
		ins->context = xmemdupz(context, len);
}

void azl_inspection_release(struct azl_inspection *ins)
{
	if (!ins)
		return;
	free(ins->context);
	strbuf_release(&ins->error);
	azl_cluster_release(&ins->cluster);
	azl_pool_list_release(&ins->pools);
	memset(ins, 0, sizeof(*ins));
}

/* Completion reads these back without touching the network. */
static void remember_pools(const struct azl_rest_config *cfg, const struct azl_pool_list *pools)
{
	struct strbuf key = STRBUF_INIT;
	const char **names = xcalloc(pools->nr + 1, sizeof(*names));

	for (size_t i = 0; i < pools->nr; i++)
		names[i] = pools->items[i].name;
	azl_poolcache_key(&key, cfg);
	if (azl_poolcache_write(key.buf, names, pools->nr))
		azl_logf(4, "%s", azl_error_message());
	free(names);
	strbuf_release(&key);
}

static int inspect_cluster(struct inspect_run *run, const struct azl_rest_config *cfg,
			   struct azl_kube *kube, struct azl_inspection *ins)
{
	const struct azl_inspect_options *o = run->opts;
	struct azl_cluster_query q = {
		.server = cfg->server, .context = cfg->context_name,
		.subscription = o->subscription, .resource_group = o->resource_group,
		.name = o->name, .cloud = run->cloud,
	};
	int rc = azl_pool_inspect(run->arm, kube, &q, o->pools, o->nr_pools, &ins->cluster,
				  &ins->pools);

	if (!rc)
		azl_findings_evaluate_pools(&ins->cluster, &ins->pools);
	if (!rc && !o->nr_pools)
		remember_pools(cfg, &ins->pools);
	return rc;
}

static void inspect_one(struct inspect_run *run, struct azl_inspection *ins)
{
	struct azl_kube_overrides ov = *run->opts->overrides;
	struct azl_rest_config *cfg = NULL;
	struct azl_kube *kube = NULL;
	int rc;

	if (ins->context)
		ov.context = ins->context;
	rc = azl_kubeconfig_resolve(run->opts->kubeconfig, &ov, &cfg);
	if (!rc && !ins->context)
		ins->context = xstrdup(cfg->context_name);
	if (!rc)
		rc = azl_kube_new(&kube, cfg);
	if (!rc)
		rc = inspect_cluster(run, cfg, kube, ins);
	if (rc) {
		ins->rc = rc;
		strbuf_addstr(&ins->error, azl_error_message());
	}
	azl_kube_free(kube);
	azl_rest_config_free(cfg);
}

static void report(struct inspect_run *run, const struct azl_inspection *ins)
{
	const struct azl_inspect_options *o = run->opts;

	pthread_mutex_lock(&run->lock);
	run->done++;
	if (o->progress)
		o->progress(run->done, run->nr, ins, o->progress_data);
	pthread_mutex_unlock(&run->lock);
}

static void *worker(void *arg)
{
	struct inspect_run *run = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&run->lock);
		i = run->next++;
		pthread_mutex_unlock(&run->lock);
		if (i >= run->nr)
			break;
		inspect_one(run, &run->items[i]);
		report(run, &run->items[i]);
	}
	return NULL;
}

/* A context's own work (its kubeconfig, its API server's TLS handshake,
 * its answers) runs below the threads that every context waits on: the
 * token's and the shared ARM connection's, started before the workers. On
 * equal terms 25 workers left the token's thread 1/26 of the CPU while it
 * set up its connection: the token arrived ~30 ms later than alone, and
 * every context's ARM reads with it. On the bench fleet (2 cores, 30
 * interleaved runs twice) 10 steps took 0.296 and 0.249 s against 0.315
 * and 0.270 s on equal terms. */
#define WORKER_NICE_STEPS 10

static void *background_worker(void *run)
{
	thread_lower_priority(WORKER_NICE_STEPS);
	return worker(run);
}

/* One context is inspected on this thread; several on up to MAX_WORKERS
 * others, or on this one if none can be started. */
static void run_workers(struct inspect_run *run)
{
	pthread_t threads[MAX_WORKERS];
	size_t n = run->nr < MAX_WORKERS ? run->nr : MAX_WORKERS;
	size_t started = 0;

	for (; n > 1 && started < n; started++)
		if (pthread_create(&threads[started], NULL, background_worker, run))
			break;
	if (!started)
		worker(run);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

int azl_inspect_contexts(const struct azl_inspect_options *opts,
			 struct azl_inspection *items, size_t n)
{
	struct inspect_run run = { opts, NULL, NULL, azl_auth_cloud(opts->auth), items, n,
				   PTHREAD_MUTEX_INITIALIZER, 0, 0 };
	/* concurrent even for one context: its own thread opens the ARM
	 * connection beside the rest (azl_arm_preconnect) */
	struct azl_arm_options ao = { .concurrent = 1, .timeout_ms = opts->arm_timeout_ms };
	int rc = azl_arm_credential_new(&run.cred, opts->auth);

	ao.credential = run.cred;
	if (!rc)
		rc = azl_arm_new(&run.arm, &ao);
	/* Several contexts all need the one token: fetched from the start,
	 * beside the API servers' connections, it is tried once, and a failure
	 * is one error for the run, where each context would try in turn
	 * (waiting out any timeout) and fill its row with the same message.
	 * One context asks for it when it needs it, after its kubeconfig is
	 * found good. Either way the connection to ARM is opened meanwhile: its
	 * handshake came after the token, and held back the first ARM requests
	 * (in a fleet, behind the API servers' handshakes on the CPU). */
	if (!rc && n > 1)
		azl_arm_credential_prefetch(run.cred);
	if (!rc)
		azl_arm_preconnect(run.arm);
	if (!rc)
		run_workers(&run);
	if (!rc && n > 1)
		rc = azl_arm_credential_wait(run.cred);
	azl_arm_free(run.arm);
	azl_arm_credential_free(run.cred);
	return rc;
}
