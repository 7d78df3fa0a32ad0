/* kubectl azlinux drain (NODE... | --pool POOL | -l SELECTOR): cordon the
 * nodes, then evict their pods through core/drain, with kubectl drain's
 * flags, lines and exit codes; before evicting, the plan on stderr; while
 * waiting, progress. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "cordon.h"
#include "drain.h"
#include "error.h"
#include "kubeconfig.h"
#include "progress.h"
#include "strbuf.h"
#include "wrapper.h"

struct drain_args {
	struct cli_global_flags g;
	const char *pool;
	const char *selector;
	const char *dry_run;
	const char *pod_selector;
	const char *timeout;
	int ignore_daemonsets;
	int delete_emptydir_data;
	int delete_local_data;
	int force;
	int disable_eviction;
	int grace_period;
	int skip_wait;
	int chunk_size;
};

static const struct cli_option drain_options[] = {
	OPT_STRING(0, "pool", struct drain_args, pool, "POOL",
		   "Every node of this node pool (label kubernetes.azure.com/agentpool): all are "
		   "cordoned before any pod is evicted, and their pods are evicted together.",
		   CLI_COMPLETE_POOL),
	OPT_STRING('l', "selector", struct drain_args, selector, "SELECTOR",
		   "Selector (label query) to filter on.", CLI_COMPLETE_NONE),
	OPT_BOOL(0, "ignore-daemonsets", struct drain_args, ignore_daemonsets,
		 "Ignore DaemonSet-managed pods."),
	OPT_BOOL(0, "delete-emptydir-data", struct drain_args, delete_emptydir_data,
		 "Continue even if there are pods using emptyDir (local data that will be "
		 "deleted when the node is drained)."),
	OPT_HIDDEN_BOOL(0, "delete-local-data", struct drain_args, delete_local_data,
			"Deprecated: use --delete-emptydir-data."),
	OPT_BOOL(0, "force", struct drain_args, force,
		 "Continue even if there are pods that do not declare a controller."),
	OPT_INT(0, "grace-period", struct drain_args, grace_period, "SECONDS",
		"Period of time in seconds given to each pod to terminate gracefully. If "
		"negative, the default value specified in the pod will be used."),
	OPT_STRING_DEF(0, "timeout", struct drain_args, timeout, "DURATION",
		       "The length of time to wait before giving up, zero means infinite.",
		       CLI_COMPLETE_NONE, "0s"),
	OPT_STRING(0, "pod-selector", struct drain_args, pod_selector, "SELECTOR",
		   "Label selector to filter pods on the node.", CLI_COMPLETE_NONE),
	OPT_BOOL(0, "disable-eviction", struct drain_args, disable_eviction,
		 "Force drain to use delete, even if eviction is supported. This will bypass "
		 "checking PodDisruptionBudgets, use with caution."),
	OPT_INT(0, "skip-wait-for-delete-timeout", struct drain_args, skip_wait, "SECONDS",
		"If pod DeletionTimestamp older than N seconds, skip waiting for the pod.  "
		"Seconds must be greater than 0 to skip."),
	OPT_INT(0, "chunk-size", struct drain_args, chunk_size, "N",
		"Return large lists in chunks rather than all at once. Pass 0 to disable."),
	OPT_STRING_DEF(0, "dry-run", struct drain_args, dry_run, "STRATEGY",
		       "Must be \"none\", \"server\", or \"client\". If client strategy, only print "
		       "what would happen (the plan, and kubectl's lines), without sending it. If "
		       "server strategy, submit server-side requests without persisting anything.",
		       CLI_COMPLETE_NONE, "none"),
	CLI_OPT_GLOBAL_FLAGS(struct drain_args, g),
	OPT_END()
};

/* Progress shows once nothing else was printed for this long. */
#define WAIT_SHOWN_MS 1000

/* Set by SIGINT/SIGTERM: the engine stops between requests. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct printer {
	enum azl_drain_dry_run dry_run;
	long skip_wait_s;
	struct cli_progress *progress;
	const struct azl_drain_plan *plan;
	long quiet_since_ms;         /* the last line printed: waits count from it */
};

/* Before one of kubectl's lines: the progress line goes, the wait restarts. */
static void line_ahead(struct printer *pr)
{
	cli_progress_clear(pr->progress);
	pr->quiet_since_ms = monotonic_ms();
}

static void print_node_done(struct printer *pr, const struct azl_drain_node *n)
{
	size_t i;

	line_ahead(pr);
	if (n->state == AZL_DRAIN_NODE_DRAINED) {
		printf("node/%s drained%s\n", n->name, cli_cordon_dry_run_suffix(pr->dry_run));
		fflush(stdout);
		return;
	}
	if (n->nr_pending) {
		fprintf(stderr, "There are pending pods in node \"%s\" when an error occurred: %s\n",
			n->name, n->error.buf);
		for (i = 0; i < n->nr_pending; i++)
			fprintf(stderr, "pod/%s\n", n->pending[i]);
	}
	fprintf(stderr, "error: unable to drain node \"%s\" due to error: %s, continuing command...\n",
		n->name, n->error.buf);
}

static void print_waiting(const struct printer *pr, const struct azl_drain_event *ev)
{
	struct strbuf line = STRBUF_INIT, waited = STRBUF_INIT;
	size_t i, j;
	int first = 1;

	azl_drain_format_duration(&waited, ev->waited_ms / 1000 * 1000);
	strbuf_addf(&line, "waiting for %zu pod%s to go (", ev->pods_left,
		    ev->pods_left == 1 ? "" : "s");
	for (i = 0; i < pr->plan->nr_nodes; i++) {
		const struct azl_drain_node *n = &pr->plan->nodes[i];
		size_t left = 0;

		if (n->state != AZL_DRAIN_NODE_PENDING)
			continue;
		for (j = 0; j < n->nr_pods; j++)
			left += n->pods[j].action == AZL_DRAIN_EVICT &&
				(n->pods[j].state == AZL_DRAIN_POD_PENDING ||
				 n->pods[j].state == AZL_DRAIN_POD_TERMINATING);
		if (left) {
			strbuf_addf(&line, "%s%s: %zu", first ? "" : ", ", n->name, left);
			first = 0;
		}
	}
	strbuf_addch(&line, ')');
	if (ev->pdb)
		strbuf_addf(&line, "; PodDisruptionBudget %s allows no disruption now", ev->pdb);
	cli_progress_update(pr->progress, "%s; waited %s", line.buf, waited.buf);
	strbuf_release(&line);
	strbuf_release(&waited);
}

static void on_event(const struct azl_drain_event *ev, void *ctx)
{
	struct printer *pr = ctx;
	const struct azl_drain_pod *p = ev->pod;

	switch (ev->type) {
	case AZL_DRAIN_EV_EVICTING:
		if (p->attempts)
			break;
		line_ahead(pr);
		printf("evicting pod %s/%s%s\n", p->namespace_, p->name,
		       pr->dry_run == AZL_DRAIN_DRY_RUN_SERVER ? " (server dry run)" : "");
		fflush(stdout);
		break;
	case AZL_DRAIN_EV_RETRY:
		if (p->attempts > 1)
			break;
		line_ahead(pr);
		fprintf(stderr, "%s\n", ev->message);
		break;
	case AZL_DRAIN_EV_GONE:
		line_ahead(pr);
		printf("pod/%s %s\n", p->name, ev->deleted ? "deleted" : "evicted");
		fflush(stdout);
		break;
	case AZL_DRAIN_EV_NOT_WAITED:
		line_ahead(pr);
		printf("pod \"%s\" has DeletionTimestamp older than %ld seconds, skipping\n", p->name,
		       pr->skip_wait_s);
		break;
	case AZL_DRAIN_EV_NODE_DONE:
		print_node_done(pr, ev->node);
		break;
	case AZL_DRAIN_EV_WAITING:
		if (monotonic_ms() - pr->quiet_since_ms >= WAIT_SHOWN_MS)
			print_waiting(pr, ev);
		break;
	case AZL_DRAIN_EV_POD_FAILED:
	default:
		break;
	}
}

/* --- the plan, on stderr, before anything is evicted -------------------- */

static const char *action_name(const struct azl_drain_pod *p)
{
	switch (p->action) {
	case AZL_DRAIN_EVICT:
		return "evict";
	case AZL_DRAIN_SKIP:
		return "skip";
	case AZL_DRAIN_REFUSE:
	default:
		return "refuse";
	}
}

static void print_plan_node(const struct azl_drain_node *n, int deleting)
{
	size_t i;

	fprintf(stderr, "Plan: node %s: %s\n", n->name,
		n->refused ? "refused, nothing will be evicted"
			   : !n->nr_pods ? "no pods" : deleting ? "pods will be deleted"
							   : "pods will be evicted");
	for (i = 0; i < n->nr_pods; i++) {
		const struct azl_drain_pod *p = &n->pods[i];
		struct strbuf notes = STRBUF_INIT;

		if (p->why)
			strbuf_addstr(&notes, p->why);
		if (p->no_room)
			strbuf_addf(&notes, "%sno other node has room for its replacement (%s)%s",
				    notes.len ? "; " : "", p->no_room,
				    p->pdb ? "" : ": it will stay Pending");
		else if (p->nowhere)
			strbuf_addf(&notes, "%sno other node would take its replacement (node "
				    "selector, taints, cordoned or NotReady nodes)", notes.len ? "; " : "");
		if (p->nr_pdbs > 1)
			strbuf_addf(&notes, "%sunder %d PodDisruptionBudgets (%s): no eviction can "
				    "succeed", notes.len ? "; " : "", p->nr_pdbs, p->pdb);
		else if (p->pdb)
			strbuf_addf(&notes, "%sPodDisruptionBudget %s", notes.len ? "; " : "", p->pdb);
		fprintf(stderr, "Plan:   %-6s %s/%s%s%s\n", action_name(p), p->namespace_, p->name,
			notes.len ? "  " : "", notes.buf);
		strbuf_release(&notes);
	}
}

static void print_plan(const struct azl_drain_plan *plan)
{
	size_t i, j;

	for (i = 0; i < plan->nr_nodes; i++)
		print_plan_node(&plan->nodes[i], !*plan->eviction_version);
	for (i = 0; i < plan->nr_blocking; i++) {
		const struct azl_drain_pdb *b = &plan->blocking[i];

		fprintf(stderr, "Plan: PodDisruptionBudget %s/%s allows ", b->namespace_, b->name);
		if (b->disruptions_allowed)
			fprintf(stderr, "%ld disruption%s", b->disruptions_allowed,
				b->disruptions_allowed == 1 ? "" : "s");
		else
			fputs("no disruption", stderr);
		fprintf(stderr, " now (%ld healthy, %ld desired, %ld expected): ",
			b->current_healthy, b->desired_healthy, b->expected_pods);
		if (b->never)
			fprintf(stderr, "the drain cannot finish (%s)", b->never);
		else
			fputs("the drain waits until replacements are Ready", stderr);
		fputs("; it guards", stderr);
		for (j = 0; j < b->nr_pods; j++)
			fprintf(stderr, "%s %s", j ? "," : "", b->pods[j]);
		fputc('\n', stderr);
	}
}

static void print_warnings(const struct azl_drain_plan *plan)
{
	struct strbuf w = STRBUF_INIT;
	size_t i;

	for (i = 0; i < plan->nr_nodes; i++) {
		if (plan->nodes[i].refused)
			continue;
		strbuf_reset(&w);
		azl_drain_node_warnings(&plan->nodes[i], &w);
		if (w.len)
			cli_warning("%s", w.buf);
	}
	strbuf_release(&w);
}

static int drain_options_from(const struct drain_args *a, enum azl_drain_dry_run dry_run,
			      struct azl_drain_options *o)
{
	long timeout = a->timeout ? azl_parse_duration_ms(a->timeout) : 0;

	if (timeout < 0)
		return azl_error_set(AZL_EINVALID, "invalid argument \"%s\" for \"--timeout\" flag: "
				     "give a duration such as 30s, 5m or 1h", a->timeout);
	o->ignore_daemonsets = a->ignore_daemonsets;
	o->delete_emptydir_data = a->delete_emptydir_data || a->delete_local_data;
	o->force = a->force;
	o->disable_eviction = a->disable_eviction;
	o->grace_period_s = a->grace_period;
	o->timeout_ms = timeout;
	o->skip_wait_for_delete_timeout_s = a->skip_wait;
	o->pod_selector = a->pod_selector;
	o->dry_run = dry_run;
	o->page_size = a->chunk_size;
	o->cancel = &interrupted;
	return 0;
}

static int final_status(const struct azl_drain_plan *plan, int rc)
{
	struct strbuf all = STRBUF_INIT;
	size_t i;

	if (rc == AZL_ECANCELED)
		return cli_error_report();
	if (!rc)
		return 0;
	fputs("There are pending nodes to be drained:\n", stderr);
	for (i = 0; i < plan->nr_nodes; i++)
		if (plan->nodes[i].state != AZL_DRAIN_NODE_DRAINED)
			fprintf(stderr, " %s\n", plan->nodes[i].name);
	/* kubectl's aggregate: a line per error, without "error: " */
	azl_drain_plan_errors(plan, &all);
	fputs(all.buf, stderr);
	strbuf_release(&all);
	return 1;
}

static int drain(struct azl_kube *kube, const struct azl_node_list *nodes,
		 const struct azl_drain_options *o)
{
	const char **names = xcalloc(nodes->nr ? nodes->nr : 1, sizeof(*names));
	struct printer pr = { o->dry_run, o->skip_wait_for_delete_timeout_s, NULL, NULL, 0 };
	struct azl_drain_options eo = *o;
	struct azl_drain_plan *plan = NULL;
	struct azl_drain *d = NULL;
	size_t i;
	int rc;

	for (i = 0; i < nodes->nr; i++)
		names[i] = nodes->items[i].name;
	eo.on_event = on_event;
	eo.ctx = &pr;
	rc = azl_drain_new(&d, kube, &eo);
	if (!rc)
		rc = azl_drain_plan(d, names, nodes->nr, &plan);
	if (rc) {
		rc = cli_error_report();
		goto out;
	}
	print_plan(plan);
	print_warnings(plan);
	if (o->dry_run == AZL_DRAIN_DRY_RUN_CLIENT)
		for (i = 0; i < plan->nr_nodes; i++) {
			size_t j;

			for (j = 0; j < plan->nodes[i].nr_pods && !plan->nodes[i].refused; j++)
				if (plan->nodes[i].pods[j].action == AZL_DRAIN_EVICT)
					printf("evicting pod %s/%s (dry run)\n",
					       plan->nodes[i].pods[j].namespace_,
					       plan->nodes[i].pods[j].name);
		}
	pr.plan = plan;
	pr.quiet_since_ms = monotonic_ms();
	cli_progress_new(&pr.progress, stderr);
	rc = azl_drain_run(d, plan);
	cli_progress_clear(pr.progress);
	rc = final_status(plan, rc);
	cli_progress_free(pr.progress);
out:
	azl_drain_plan_free(plan);
	azl_drain_free(d);
	free(names);
	return rc;
}

static int run_drain(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct drain_args args = { 0 };
	struct cli_kube_session s = CLI_KUBE_SESSION_INIT;
	struct azl_node_list nodes = { NULL, 0 };
	struct azl_drain_options o = AZL_DRAIN_OPTIONS_INIT;
	enum azl_drain_dry_run dry_run = AZL_DRAIN_DRY_RUN_NONE;
	int n, rc;

	args.grace_period = -1;
	args.chunk_size = 500;
	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (cli_cordon_check_args(ctx->prog, ctx->cmd->name, n, args.selector, args.pool))
		return 1;
	if (cli_cordon_dry_run(args.dry_run, &dry_run) || drain_options_from(&args, dry_run, &o))
		return cli_error_report();
	if (cli_kube_session_open(&s, &args.g) < 0)
		return cli_error_report();
	rc = cli_cordon_select(s.kube, ctx->cmd->name, n, argv, args.selector, args.pool, &nodes);
	if (!rc && nodes.nr) {
		catch_signals();
		/* A node left schedulable takes back the pods evicted from it:
		 * evict nothing unless every node is cordoned. */
		if (cli_cordon_nodes(s.kube, &nodes, 1, dry_run)) {
			fputs("error: not draining: every node must be cordoned first; "
			      "run the command again\n", stderr);
			rc = 1;
		} else {
			rc = drain(s.kube, &nodes, &o);
		}
	}
	azl_node_list_release(&nodes);
	cli_kube_session_release(&s);
	return rc;
}

const struct cli_command cli_cmd_drain = {
	.name = "drain",
	.run = run_drain,
	.summary = "Drain nodes, or a whole node pool, in preparation for maintenance",
	.usage = "drain (NODE... | --pool POOL | -l SELECTOR) [--ignore-daemonsets] "
		 "[--delete-emptydir-data] [--force] [--grace-period N] [--timeout D] "
		 "[--disable-eviction] [--pod-selector S] [--skip-wait-for-delete-timeout N] "
		 "[--dry-run=none|client|server] [flags]",
	.description =
		"Drain nodes as kubectl drain does: cordon them, then evict their pods through\n"
		"the Eviction API, which honours PodDisruptionBudgets, and wait for each to go.\n"
		"The same filters refuse the same pods: DaemonSet-managed pods need\n"
		"--ignore-daemonsets, pods with emptyDir data --delete-emptydir-data, and pods\n"
		"that no controller will recreate --force; mirror pods are left alone.\n"
		"\n"
		"Beyond kubectl: before evicting, the plan goes to stderr (per node the pods to\n"
		"evict, skip and refuse and why, including pods whose replacements no other\n"
		"node would take: node selector, taints, or no room for their CPU and memory\n"
		"requests, by a first-fit that names what they need and the largest free;\n"
		"every PodDisruptionBudget that allows no disruption now, and whether the drain\n"
		"can finish at all); waits over a second show progress. All the nodes (--pool: every node of the pool) are cordoned\n"
		"before any eviction, and their pods are evicted together, paced only by the\n"
		"PodDisruptionBudgets: a pod refused for now is asked again as soon as its budget\n"
		"allows. A pod under two PodDisruptionBudgets is refused at once, naming them.\n"		"A pod an admission webhook refuses to evict is read again before each retry\n"
		"and left alone once it is gone or was recreated elsewhere.\n"
		"Interrupted (Ctrl-C), drain stops between requests; run it again to finish.",
	.examples = "  # Drain one node, leaving DaemonSet pods and deleting emptyDir data\n"
		    "  kubectl azlinux drain aks-nodepool1-12345678-vmss000000 --ignore-daemonsets "
		    "--delete-emptydir-data\n"
		    "\n"
		    "  # Drain a whole pool, giving up after 10 minutes\n"
		    "  kubectl azlinux drain --pool nodepool1 --ignore-daemonsets --timeout 10m\n"
		    "\n"
		    "  # See what would happen\n"
		    "  kubectl azlinux drain --pool nodepool1 --ignore-daemonsets --dry-run=client\n",
	.options = drain_options,
	.args_complete = CLI_COMPLETE_NODE,
	.hidden = 0,
};
