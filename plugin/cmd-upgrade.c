/* kubectl azlinux upgrade: node images, Kubernetes versions (control plane
 * and pools) and the cluster's node OS upgrade channel. The plan and its
 * preflight are core's (upgrade.h); this parses the flags, shows the
 * plan, asks, runs the operations and verifies them. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth-flags.h"
#include "common.h"
#include "error.h"
#include "fleet.h"
#include "ops.h"
#include "json.h"
#include "lro.h"
#include "node.h"
#include "operation.h"
#include "plan.h"
#include "print.h"
#include "progress.h"
#include "retry.h"
#include "strbuf.h"
#include "upgrade.h"
#include "wrapper.h"


struct upgrade_args {
	struct cli_global_flags g;
	struct cli_op_flags c;
	int all, node_image, control_plane_only, dry_run, yes, no_wait;
	const char *kubernetes_version;
	const char *node_os_channel;
	const char *max_surge, *max_unavailable, *undrainable;
	int drain_timeout, node_soak, parallel;
	const char *output;
};

static const struct cli_option upgrade_options[] = {
	OPT_GROUP("What to upgrade"),
	OPT_BOOL(0, "all", struct upgrade_args, all, "Every node pool of the cluster."),
	OPT_BOOL(0, "node-image", struct upgrade_args, node_image,
		 "Upgrade the pools' node images to the latest (skipping pools on it)."),
	OPT_STRING(0, "kubernetes-version", struct upgrade_args, kubernetes_version, "VERSION",
		   "Upgrade Kubernetes to VERSION (1.33: the newest patch AKS offers); the control "
		   "plane first, a minor at a time.", CLI_COMPLETE_NONE),
	OPT_BOOL(0, "control-plane-only", struct upgrade_args, control_plane_only,
		 "With --kubernetes-version: the control plane only."),
	OPT_STRING(0, "node-os-channel", struct upgrade_args, node_os_channel, "CHANNEL",
		   "Set the cluster's node OS upgrade channel: None, Unmanaged, SecurityPatch or "
		   "NodeImage.", CLI_COMPLETE_NODE_OS_CHANNEL),
	OPT_GROUP("Upgrade settings (written into each upgraded pool: they persist)"),
	OPT_STRING(0, "max-surge", struct upgrade_args, max_surge, "N|N%",
		   "Extra nodes during the upgrade.", CLI_COMPLETE_NONE),
	OPT_STRING(0, "max-unavailable", struct upgrade_args, max_unavailable, "N|N%",
		   "Nodes that may be unavailable during the upgrade.", CLI_COMPLETE_NONE),
	OPT_INT(0, "drain-timeout", struct upgrade_args, drain_timeout, "MINUTES",
		"How long AKS waits for a node's pods to be evicted (1-1440)."),
	OPT_INT(0, "node-soak", struct upgrade_args, node_soak, "MINUTES",
		"Wait after each node is drained, before it is reimaged (0-30)."),
	OPT_STRING(0, "undrainable-node-behavior", struct upgrade_args, undrainable, "BEHAVIOR",
		   "Cordon or Schedule a node that cannot be drained.", CLI_COMPLETE_NONE),
	OPT_GROUP("Running"),
	OPT_BOOL(0, "dry-run", struct upgrade_args, dry_run,
		 "Show the plan and the preflight; change nothing."),
	OPT_BOOL('y', "yes", struct upgrade_args, yes, "Do not ask before changing anything."),
	OPT_BOOL(0, "no-wait", struct upgrade_args, no_wait,
		 "Return once AKS has accepted every change it can take now (with --parallel, a "
		 "phase's); say which remain ('kubectl azlinux resume' sends them)."),
	OPT_INT(0, "parallel", struct upgrade_args, parallel, "N",
		"Upgrade up to N pools of a phase at once (System pools, then User pools, after "
		"each control-plane step; 1-100, default 1). The preflight's quota counts their "
		"surge nodes together; a failed pool starts no more."),
	OPT_STRING('o', "output", struct upgrade_args, output, "FORMAT",
		   "Output format. One of: (json, yaml). Default: text.", CLI_COMPLETE_OUTPUT_FORMAT),
	CLI_OPT_OP_CLUSTER_FLAGS(struct upgrade_args, c),
	CLI_OPT_GLOBAL_FLAGS(struct upgrade_args, g),
	OPT_END()
};

/* Everything one run holds. */
struct upgrade_run {
	struct upgrade_args *a;
	struct azl_upgrade_options opts;
	struct cli_op_session s;
	const volatile sig_atomic_t *cancel;
	struct azl_upgrade_plan plan;
	const char *const *names;
	size_t nr_names;
	enum cli_output format;
	cJSON *record;               /* the journal's data (the plan) */
	struct azl_operation *op;
	struct cli_progress *progress;
	cJSON *node_lines;           /* node name -> the last line shown */
	const char *outcome;         /* before a journal: Planned, or Succeeded with nothing to do */
};

/* ---- flags ---- */

static int check_flags(struct upgrade_args *a, size_t nr_pools, struct azl_upgrade_options *o)
{
	int modes = !!a->node_image + !!a->kubernetes_version + !!a->node_os_channel;

	if (modes != 1)
		return cli_error_usage("name one of --node-image, --kubernetes-version VERSION or --node-os-channel CHANNEL");
	if (a->control_plane_only && !a->kubernetes_version)
		return cli_error_usage("--control-plane-only goes with --kubernetes-version");
	if (a->node_os_channel || a->control_plane_only) {
		if (nr_pools || a->all)
			return cli_error_usage("%s acts on the cluster: name no pool and no --all",
					       a->node_os_channel ? "--node-os-channel" : "--control-plane-only");
	} else if (!nr_pools == !a->all) {
		return cli_error_usage("name the pools to upgrade, or --all (not both)");
	}
	o->mode = a->node_image ? AZL_UPGRADE_NODE_IMAGE : a->kubernetes_version
		  ? AZL_UPGRADE_KUBERNETES : AZL_UPGRADE_NODE_OS_CHANNEL;
	o->version = a->kubernetes_version;
	o->control_plane_only = a->control_plane_only;
	o->node_os_channel = a->node_os_channel;
	o->settings.max_surge = a->max_surge;
	o->settings.max_unavailable = a->max_unavailable;
	o->settings.drain_timeout_minutes = a->drain_timeout;
	o->settings.node_soak_minutes = a->node_soak;
	o->settings.undrainable_node_behavior = a->undrainable;
	if (azl_upgrade_settings_given(&o->settings) &&
	    (o->mode != AZL_UPGRADE_KUBERNETES || o->control_plane_only))
		return cli_error_usage("upgrade settings go with a pool's Kubernetes upgrade (a node image upgrade uses the pool's own; set them with 'az aks nodepool update')");
	if (azl_upgrade_settings_check(&o->settings))
		return cli_error_report();
	if (a->parallel < 1 || a->parallel > AZL_OPERATION_MAX_PARALLEL)
		return cli_error_usage("--parallel %d: upgrade 1 to %d pools at once", a->parallel,
				       AZL_OPERATION_MAX_PARALLEL);
	return 0;
}

/* ---- the plan ---- */

/* The journal's pool: the one pool named, when the plan touches no more,
 * else the cluster's own lock, which keeps every pool's operation out
 * (several pools at once, or the control plane, which AKS upgrades alone). */
static const char *lock_pool(const struct upgrade_run *r)
{
	if (r->nr_names != 1)
		return AZL_UPGRADE_CLUSTER_POOL;
	for (size_t i = 0; i < r->plan.nr_steps; i++)
		if (!*r->plan.steps[i].pool)
			return AZL_UPGRADE_CLUSTER_POOL;
	return r->names[0];
}

static int make_plan(struct upgrade_run *r)
{
	struct azl_pdb_list pdbs = { 0 };
	int rc;

	azl_upgrade_plan_release(&r->plan);
	rc = azl_upgrade_plan_build(&r->s.cluster, &r->s.pools, r->names, r->nr_names, &r->opts,
				    &r->plan);
	/* the lock create_operation() takes, asked before the preflight, which
	 * would see the other operation's work (a pool Upgrading) and not name it */
	if (!rc && !r->a->dry_run)
		rc = cli_op_probe(&r->s, lock_pool(r));
	if (rc)
		return rc;
	if (r->opts.mode == AZL_UPGRADE_NODE_OS_CHANNEL)
		return 0;
	azl_upgrade_check_image_age(&r->plan, &r->s.pools, time(NULL));
	if (!r->plan.nr_steps)
		return 0;
	if (r->opts.mode == AZL_UPGRADE_KUBERNETES)
		azl_upgrade_check_deprecated_apis(&r->plan, &r->s.cluster, r->s.ks.kube);
	azl_upgrade_check_capacity(&r->plan, r->s.arm, &r->s.cluster, &r->s.pools,
				   r->opts.settings.max_surge, (size_t)r->a->parallel);
	if (azl_pdb_list(r->s.ks.kube, NULL, &pdbs))
		cli_warning("cannot read the PodDisruptionBudgets, so the preflight does not judge them: %s",
			    azl_error_message());
	else
		azl_upgrade_check_pdbs(&r->plan, &pdbs);
	azl_pdb_list_release(&pdbs);
	return 0;
}

/* ---- text ---- */

static void print_plan(const struct upgrade_run *r)
{
	const struct azl_upgrade_plan *p = &r->plan;
	struct strbuf line = STRBUF_INIT;

	cli_cluster_line(&r->s.cluster, &line);
	printf("%s\n", line.buf);
	printf("Plan (%s, %s):\n", azl_upgrade_mode_name(p->mode), p->target);
	for (size_t i = 0; i < p->nr_steps; i++)
		printf("  %zu. %s%s%s\n", i + 1, p->steps[i].name, *p->steps[i].from ? " from " : "",
		       p->steps[i].from);
	if (!p->nr_steps)
		printf("  nothing to do\n");
	for (size_t i = 0; i < p->nr_skipped; i++)
		printf("  skipped: pool %s, %s\n", p->skipped[i].pool, p->skipped[i].reason);
	if (p->preflight.nr)
		printf("Preflight:\n");
	for (size_t i = 0; i < p->preflight.nr; i++)
		printf("  %-8s %s: %s\n", azl_preflight_severity_name(p->preflight.items[i].severity),
		       p->preflight.items[i].code, p->preflight.items[i].message);
	strbuf_release(&line);
}

/* ---- json ---- */

/* ops.h's report: the journal's once there is one, else the plan's. */
static int print_report(struct upgrade_run *r)
{
	const char **names;
	cJSON *op;

	if (!r->record)
		r->record = azl_upgrade_plan_data(&r->plan, &r->opts, &r->s.cluster);
	if (r->op) {
		op = cli_op_report(azl_operation_journal(r->op));
	} else {
		names = xcalloc(r->plan.nr_steps + 1, sizeof(*names));
		azl_upgrade_step_names(&r->plan, names);
		op = cli_op_plan_report(&r->s, azl_upgrade_mode_name(r->plan.mode),
					lock_pool(r),
					r->outcome, r->record, names, r->plan.nr_steps);
		free(names);
	}
	return cli_op_print_operation(op, r->format);
}

/* ---- running ---- */

/* "node aks-work-1: AKSAzureLinux-V3gen2-202608.14.0, v1.33.3, Ready, cordoned" */
static void show_node(struct upgrade_run *r, const struct azl_node *n)
{
	struct strbuf line = STRBUF_INIT;
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(r->node_lines, n->name);

	strbuf_addf(&line, "node %s (pool %s): %s, %s, %s%s", n->name, n->pool, n->node_image_version,
		    n->kubelet_version, n->ready ? "Ready" : "NotReady",
		    n->schedulable ? "" : ", cordoned");
	if (!cJSON_IsString(last) || strcmp(last->valuestring, line.buf)) {
		cJSON_DeleteItemFromObjectCaseSensitive(r->node_lines, n->name);
		cJSON_AddStringToObject(r->node_lines, n->name, line.buf);
		cli_progress_done(r->progress, "%s", line.buf);
	}
	strbuf_release(&line);
}

static void on_event(void *data, const struct azl_operation_event *ev)
{
	struct upgrade_run *r = data;
	const char *name = ev->step < r->plan.nr_steps ? r->plan.steps[ev->step].name : "verify";

	if (r->format != CLI_OUTPUT_TABLE)
		return;
	switch (ev->type) {
	case AZL_OPERATION_STEP_BEGIN:
		cli_progress_update(r->progress, "%s: started", name);
		break;
	case AZL_OPERATION_STEP_END:
		if (ev->rc)
			cli_progress_done(r->progress, "%s: failed", name);
		else
			cli_progress_done(r->progress, "%s: done", name);
		break;
	case AZL_OPERATION_LRO:
		if (ev->percent >= 0)
			cli_progress_update(r->progress, "%s: %s, %.0f%%", name, ev->status, ev->percent);
		else
			cli_progress_update(r->progress, "%s: %s", name, ev->status);
		break;
	case AZL_OPERATION_NODE:
		show_node(r, ev->node);
		break;
	case AZL_OPERATION_NODE_GONE:
		cli_progress_done(r->progress, "node %s: removed", ev->node_name);
		break;
	case AZL_OPERATION_NOTE:
		cli_progress_done(r->progress, "%s: %s", name, ev->message);
		break;
	case AZL_OPERATION_PDB_WAIT:
		cli_progress_done(r->progress, "%s: node %s %s", name, ev->node_name, ev->message);
		break;
	}
}

/* "kubernetes.azure.com/agentpool in (a,b)" for the pools the plan touches. */
static void watch_selector(const struct upgrade_run *r, struct strbuf *out)
{
	for (size_t i = 0; i < r->plan.nr_steps; i++) {
		const char *p = r->plan.steps[i].pool;

		if (!*p || strstr(out->buf, p))
			continue;
		strbuf_addstr(out, out->len ? "," : "kubernetes.azure.com/agentpool in (");
		strbuf_addstr(out, p);
	}
	if (out->len)
		strbuf_addch(out, ')');
}

static int create_operation(struct upgrade_run *r)
{
	const char **names = calloc(r->plan.nr_steps + 1, sizeof(*names));
	struct azl_journal_target t = {
		.context = r->s.ks.config->context_name, .subscription = r->s.cluster.subscription,
		.resource_group = r->s.cluster.resource_group, .cluster = r->s.cluster.name,
		.pool = lock_pool(r),
	};
	int rc;

	if (!names)
		return azl_error_set(AZL_ERROR, "out of memory");
	azl_upgrade_step_names(&r->plan, names);
	rc = azl_operation_create(&r->op, azl_upgrade_kind(r->plan.mode), &t, names,
				  r->plan.nr_steps + 1, r->record);
	free(names);
	return rc;
}

static int run_operation(struct upgrade_run *r)
{
	struct azl_operation_env env = { 0 };
	struct strbuf sel = STRBUF_INIT;
	int rc;

	watch_selector(r, &sel);
	env.arm = r->s.arm;
	env.kube = r->s.ks.kube;
	if (sel.len && !r->a->no_wait) {
		env.watch_kube = r->s.watch_kube;
		env.watch_selector = sel.buf;
	}
	env.cancel = r->cancel;
	env.no_wait = r->a->no_wait;
	env.parallel = (size_t)r->a->parallel;
	env.event = on_event;
	env.event_data = r;
	r->node_lines = cJSON_CreateObject();
	cli_progress_new(&r->progress, stderr);
	rc = azl_operation_run(r->op, &env, r);
	cli_progress_clear(r->progress);
	strbuf_release(&sel);
	return rc;
}

static void print_verified(const struct upgrade_run *r)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(azl_operation_data(r->op), "nodes");

	printf("Verified: %d nodes of the upgraded pools on their targets\n", cJSON_GetArraySize(nodes));
	for (const cJSON *n = nodes ? nodes->child : NULL; n; n = n->next)
		printf("  %s (pool %s): %s, %s, %s\n", azl_json_str(n, "name", ""),
		       azl_json_str(n, "pool", ""), azl_json_str(n, "os", ""),
		       azl_json_str(n, "kubeletVersion", ""), azl_json_str(n, "nodeImageVersion", ""));
}

/* The steps in state st, by their plan names, after label. */
static void print_steps_in(const struct upgrade_run *r, enum azl_step_state st, const char *label)
{
	const struct azl_journal *j = azl_operation_journal(r->op);
	const char *sep = "";

	for (size_t i = 0; i < azl_journal_nr_steps(j); i++) {
		if (azl_journal_step_state(j, i) != st)
			continue;
		printf("%s%s", *sep ? sep : label, i < r->plan.nr_steps ? r->plan.steps[i].name : "verify");
		sep = ", ";
	}
	if (*sep)
		printf("\n");
}

/* --no-wait: what AKS took (every change it could take now) and what
 * waits for those to end. */
static void print_accepted(const struct upgrade_run *r, const char *id)
{
	printf("operation %s: AKS accepted the change; 'kubectl azlinux resume %s' follows it and runs the rest\n",
	       id, id);
	print_steps_in(r, AZL_STEP_RUNNING, "  AKS accepted: ");
	print_steps_in(r, AZL_STEP_PENDING, "  remaining: ");
}

static int finish(struct upgrade_run *r, int rc)
{
	const char *id = azl_journal_id(azl_operation_journal(r->op));

	/* the report's state is the journal's */
	if (rc == AZL_ECANCELED && r->cancel && *r->cancel)
		fprintf(stderr, "interrupted: operation %s stopped waiting; the AKS operation in flight goes on in Azure. 'kubectl azlinux status %s' shows it, 'kubectl azlinux resume %s' goes on\n",
			id, id, id);
	if (r->format != CLI_OUTPUT_TABLE)
		print_report(r);
	if (rc == AZL_ECANCELED && r->cancel && *r->cancel)
		return CLI_OP_EXIT_INTERRUPTED;
	if (rc) {
		cli_error_report();
		fprintf(stderr, "operation %s: 'kubectl azlinux status %s' shows where it stopped\n", id, id);
		return CLI_OP_EXIT_FAILED;
	}
	if (r->format == CLI_OUTPUT_TABLE && !r->a->no_wait)
		print_verified(r);
	if (r->format == CLI_OUTPUT_TABLE && r->a->no_wait)
		print_accepted(r, id);
	return CLI_OP_EXIT_OK;
}

static int execute(struct upgrade_run *r)
{
	enum azl_severity worst = azl_preflight_worst(&r->plan.preflight);
	struct strbuf sel = STRBUF_INIT;
	int rc;

	if (r->format == CLI_OUTPUT_TABLE)
		print_plan(r);
	if (r->a->dry_run) {
		if (r->format != CLI_OUTPUT_TABLE)
			print_report(r);
		return cli_op_preflight_exit(&r->plan.preflight);
	}
	if (worst == AZL_SEVERITY_ERROR) {
		if (r->format != CLI_OUTPUT_TABLE)
			print_report(r);
		return cli_op_confirm(&r->plan.preflight, r->a->yes);
	}
	if (!r->plan.nr_steps) {
		r->outcome = "Succeeded";
		if (r->format != CLI_OUTPUT_TABLE)
			print_report(r);
		return CLI_OP_EXIT_OK;
	}
	if ((rc = cli_op_confirm(&r->plan.preflight, r->a->yes)))
		return rc;
	if (!r->record)
		r->record = azl_upgrade_plan_data(&r->plan, &r->opts, &r->s.cluster);
	watch_selector(r, &sel);
	/* resume's node watch (ops.c) reads it from the record */
	cJSON_AddStringToObject(r->record, "watchSelector", sel.buf);
	/* and resume runs as many at once */
	cJSON_AddNumberToObject(r->record, "parallel", r->a->parallel);
	strbuf_release(&sel);
	if (create_operation(r))
		return cli_error_report();
	r->cancel = cli_op_signals();
	return finish(r, run_operation(r));
}

static void release(struct upgrade_run *r)
{
	azl_upgrade_plan_release(&r->plan);
	/* the operation (its journal's lock) before the clients it used */
	azl_operation_free(r->op);
	cli_op_close(&r->s);
	cli_progress_free(r->progress);
	cJSON_Delete(r->record);
	cJSON_Delete(r->node_lines);
}

static int run_upgrade(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct upgrade_args args = { 0 };
	struct upgrade_run r = { 0 };
	int n, rc;

	args.drain_timeout = args.node_soak = -1;
	args.parallel = 1;
	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	r.a = &args;
	r.names = argv;                 /* the positionals, moved to the front */
	r.nr_names = (size_t)n;
	r.outcome = "Planned";
	if ((rc = check_flags(&args, r.nr_names, &r.opts)))
		return rc;
	if (cli_output_parse(args.output, CLI_OUTPUT_TABLE | CLI_OUTPUT_JSON | CLI_OUTPUT_YAML,
			     &r.format) < 0)
		return cli_error_report();
	rc = cli_op_open(&r.s, &args.g, &args.c, 1);
	if (!rc)
		rc = make_plan(&r);
	rc = rc ? cli_error_report() : execute(&r);
	release(&r);
	return rc;
}

const struct cli_command cli_cmd_upgrade = {
	.name = "upgrade",
	.run = run_upgrade,
	.summary = "Upgrade node images, Kubernetes (control plane and pools) or the node OS channel",
	.usage = "upgrade (POOL... | --all) (--node-image | --kubernetes-version V) [--control-plane-only] "
		 "[--max-surge N|N%] [--max-unavailable N|N%] [--drain-timeout MINUTES] [--node-soak MINUTES] "
		 "[--undrainable-node-behavior Cordon|Schedule] [--parallel N] [--dry-run] [--yes] [--no-wait] [-o json|yaml] [flags]\n"
		 "  kubectl azlinux upgrade --node-os-channel None|Unmanaged|SecurityPatch|NodeImage [--dry-run] [--yes] [flags]",
	.description =
		"Upgrade the AKS cluster behind the current context, checked first and in the\n"
		"right order:\n"
		"\n"
		"  --node-image             POST upgradeNodeImageVersion for each pool (or --all);\n"
		"                           pools already on their latest image are skipped.\n"
		"  --kubernetes-version V   the control plane first when V is above it, one minor\n"
		"                           at a time (1.33 means the newest 1.33 patch AKS offers),\n"
		"                           each followed by the pools, System pools first, one\n"
		"                           minor at a time. --control-plane-only stops there.\n"
		"  --node-os-channel C      the cluster's node OS upgrade channel (None, Unmanaged,\n"
		"                           SecurityPatch, NodeImage); the plan says when a change\n"
		"                           reimages every node.\n"
		"\n"
		"Pools go one at a time by default; --parallel N runs up to N pools of a phase at\n"
		"once (System pools, then User pools, after each control-plane step: AKS runs\n"
		"operations on different pools at once, never one on the cluster beside them).\n"
		"While AKS drains a node, the progress names the PDB it waits on.\n"
		"\n"
		"Every write is a fresh GET then a PUT with If-Match, so nothing is sent on a stale\n"
		"copy. Upgrade settings given here are written into each upgraded pool and persist.\n"
		"forceUpgrade is never set. Azure Linux 2.0 pools (osSku AzureLinux) taken past\n"
		"1.31 come back on Azure Linux 3.0, and the verification checks it; pools pinned to\n"
		"AzureLinux3 are refused for 1.37+ (kubectl azlinux migrate POOL --to AzureLinux).\n"
		"\n"
		"The preflight blocks on: a version AKS does not offer, a pool left more than three\n"
		"minors behind the control plane, cluster auto-upgrade with --control-plane-only, pools\n"
		"not Succeeded; it warns on PDBs that allow no disruption, three minors of skew,\n"
		"cluster auto-upgrade racing the upgrade and a pool left on a node image more than\n"
		"90 days old (AKS supports none older).\n"
		"\n"
		"Exit status: with --dry-run 0 (no finding at warning or above), 3 (warnings) or 4\n"
		"(blockers); otherwise 0 when done and verified, 4 when the preflight blocked it\n"
		"(nothing changed), 1 on failure, 130 when interrupted (the AKS operation goes on).",
	.examples = "  # See what a node image upgrade of every pool would do\n"
		    "  kubectl azlinux upgrade --all --node-image --dry-run\n"
		    "\n"
		    "  # Kubernetes 1.33 everywhere, control plane first\n"
		    "  kubectl azlinux upgrade --all --kubernetes-version 1.33 --yes\n"
		    "\n"
		    "  # The control plane alone\n"
		    "  kubectl azlinux upgrade --kubernetes-version 1.33 --control-plane-only --yes\n"
		    "\n"
		    "  # Weekly node images applied by AKS itself\n"
		    "  kubectl azlinux upgrade --node-os-channel NodeImage --yes\n",
	.options = upgrade_options,
	.args_complete = CLI_COMPLETE_POOL,
	.hidden = 0,
};
