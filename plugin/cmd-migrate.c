/* kubectl azlinux migrate POOL: move a node pool to Azure Linux, in place
 * or side by side, planned and checked first, watched, journaled and
 * resumable (core/migrate.h, core/operation.h). */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "ops.h"
#include "strbuf.h"

struct migrate_args {
	struct cli_global_flags g;
	struct cli_op_flags f;
	const char *to;
	const char *strategy;
	const char *new_pool;
	const char *max_surge;
	int drain_timeout;
	int node_soak;
	int canary;
	int dry_run;
	int yes;
	int no_wait;
	const char *output;
};

static const struct cli_option migrate_options[] = {
	OPT_STRING(0, "to", struct migrate_args, to, "SKU",
		   "Target osSKU: AzureLinux (default; AzureLinux3 below Kubernetes 1.32) or AzureLinux3.",
		   CLI_COMPLETE_NONE),
	OPT_STRING(0, "strategy", struct migrate_args, strategy, "STRATEGY",
		   "auto (default), in-place or side-by-side.", CLI_COMPLETE_NONE),
	OPT_STRING(0, "new-pool", struct migrate_args, new_pool, "NAME",
		   "Side by side: the new pool's name (default: derived from the old one).",
		   CLI_COMPLETE_NONE),
	OPT_STRING(0, "max-surge", struct migrate_args, max_surge, "N|N%",
		   "upgradeSettings.maxSurge for the move.", CLI_COMPLETE_NONE),
	OPT_INT(0, "drain-timeout", struct migrate_args, drain_timeout, "MINUTES",
		"upgradeSettings.drainTimeoutInMinutes (and our own drain's, side by side)."),
	OPT_INT(0, "node-soak", struct migrate_args, node_soak, "MINUTES",
		"upgradeSettings.nodeSoakDurationInMinutes."),
	OPT_BOOL(0, "canary", struct migrate_args, canary,
		 "Side by side: one new node first, verified, then the rest."),
	OPT_BOOL(0, "dry-run", struct migrate_args, dry_run,
		 "Print the plan and the preflight and stop (exit 0, 3 warnings, 4 blocker)."),
	OPT_BOOL('y', "yes", struct migrate_args, yes, "Proceed without asking."),
	OPT_BOOL(0, "no-wait", struct migrate_args, no_wait,
		 "Return once AKS accepted the change (resume or status follow it)."),
	OPT_STRING('o', "output", struct migrate_args, output, "FORMAT",
		   "json or yaml: the plan (--dry-run) or the report.", CLI_COMPLETE_OUTPUT_FORMAT),
	CLI_OPT_OP_CLUSTER_FLAGS(struct migrate_args, f),
	CLI_OPT_GLOBAL_FLAGS(struct migrate_args, g),
	OPT_END()
};

static void options_of(const struct migrate_args *a, struct azl_migrate_options *o)
{
	struct azl_migrate_options init = AZL_MIGRATE_OPTIONS_INIT;

	*o = init;
	o->to = a->to;
	o->strategy = a->strategy;
	o->new_pool = a->new_pool;
	o->max_surge = a->max_surge;
	o->drain_timeout_min = a->drain_timeout > 0 ? a->drain_timeout : -1;
	o->node_soak_min = a->node_soak >= 0 ? a->node_soak : -1;
	o->canary = a->canary;
}

/* The plan and its preflight, from the pools as loaded now. */
static int make_plan(struct cli_op_session *s, const char *pool,
		     const struct azl_migrate_options *o, struct azl_migrate_plan *plan)
{
	int rc = azl_migrate_plan_make(&s->cluster, &s->pools, pool, o, plan);

	if (!rc && plan->strategy != AZL_MIGRATE_NOTHING)
		rc = azl_migrate_preflight(s->arm, s->ks.kube, &s->cluster, &s->pools, plan);
	return rc;
}

/* The plan as JSON: the report's shape, in state (Planned; NothingToDo
 * when the pool runs the target already). */
static int print_plan_tree(const struct azl_migrate_plan *plan, const struct cli_op_session *s,
			   enum cli_output format, const char *state)
{
	cJSON *data = azl_migrate_plan_data(plan, &s->cluster);
	int rc = cli_op_print_operation(cli_op_plan_report(s, plan->kind, plan->pool, state, data,
							   plan->steps, plan->nr_steps), format);

	cJSON_Delete(data);
	return rc;
}

static int run_migrate(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct migrate_args args = { 0 };
	struct azl_migrate_options o;
	struct azl_migrate_plan plan = { 0 };
	struct cli_op_session s;
	struct azl_operation *op = NULL;
	enum cli_output format;
	int n, rc;

	args.node_soak = -1;
	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (n != 1)
		return cli_error_usage("usage: %s %s", ctx->prog, ctx->cmd->usage);
	if (cli_output_parse(args.output, CLI_OUTPUT_TABLE | CLI_OUTPUT_JSON | CLI_OUTPUT_YAML,
			     &format) < 0)
		return cli_error_report();
	options_of(&args, &o);
	if (cli_op_open(&s, &args.g, &args.f, 1)) {
		cli_op_close(&s);
		return cli_error_report();
	}
	/* a pool another operation holds: that one named, not its effects */
	rc = args.dry_run ? 0 : cli_op_probe(&s, argv[0]);
	if (!rc)
		rc = make_plan(&s, argv[0], &o, &plan);
	if (rc) {
		rc = cli_error_report();
	} else if (plan.strategy == AZL_MIGRATE_NOTHING && format != CLI_OUTPUT_TABLE) {
		print_plan_tree(&plan, &s, format, "NothingToDo");
	} else if (plan.strategy == AZL_MIGRATE_NOTHING) {
		printf("Pool %s runs %s (osSKU %s) already: nothing to do.\n", plan.pool,
		       plan.from.os_name, plan.from.os_sku);
	} else if (args.dry_run) {
		if (format == CLI_OUTPUT_TABLE)
			cli_op_print_plan(&plan, &s.cluster);
		else
			print_plan_tree(&plan, &s, format, "Planned");
		rc = cli_op_preflight_exit(&plan.preflight);
	} else {
		if (format == CLI_OUTPUT_TABLE)
			cli_op_print_plan(&plan, &s.cluster);
		rc = cli_op_confirm(&plan.preflight, args.yes);
		/* a pool changed under it stops it, resumable (operation.h) */
		if (!rc)
			rc = cli_op_start(&s, &plan, format, args.no_wait, &op);
	}
	azl_operation_free(op);
	azl_migrate_plan_release(&plan);
	cli_op_close(&s);
	return rc;
}

const struct cli_command cli_cmd_migrate = {
	.name = "migrate",
	.run = run_migrate,
	.summary = "Move a node pool to Azure Linux, in place or side by side, planned and resumable",
	.usage = "migrate POOL [--to AzureLinux|AzureLinux3] [--strategy auto|in-place|side-by-side] "
		 "[--new-pool NAME] [--max-surge N|N%] [--drain-timeout MINUTES] [--node-soak MINUTES] "
		 "[--canary] [--dry-run] [--yes] [--no-wait] [-o json|yaml] [flags]",
	.description = "Move node pool POOL of the AKS cluster behind the current context to Azure\n"
		       "Linux: Ubuntu to Azure Linux, or Azure Linux 2.0 to 3.0. It prints the plan\n"
		       "first (from and to, the strategy and why, every step, the equivalent az and\n"
		       "kubectl commands and the Terraform attribute) and the preflight, each item\n"
		       "ok, warning or blocker. A blocker stops it before any change. The preflight\n"
		       "covers state, maintenance windows opening during the move (by ARM's clock),\n"
		       "PDBs, workloads, vCPU quota, subnet IPs by network mode, and the pool's and\n"
		       "cluster's node limits (1,000 a Free cluster, 5,000 Standard).\n"
		       "\n"
		       "In place (the default when AKS allows it), the pool's osSKU changes and AKS\n"
		       "reimages every node with surge. Side by side (Windows, Kata, confidential VM,\n"
		       "GPU dedicated VHD pools, or --strategy side-by-side), a new pool with the old\n"
		       "one's spec is created, the old nodes are cordoned and drained, and the old\n"
		       "pool is deleted once nothing is left on it.\n"
		       "\n"
		       "Every step is journaled: after Ctrl-C (exit 130) or a crash, `kubectl azlinux\n"
		       "resume` goes on where it stopped, `status` shows it and `abort` stops it.\n"
		       "A pool someone else changes after the plan gets nothing sent: the run stops\n"
		       "naming `kubectl azlinux resume ID`, which plans that step again from a fresh\n"
		       "read. A pool another operation holds is refused, naming that operation.\n"
		       "\n"
		       "Exit status: 0 done; with --dry-run 0 clean, 3 warnings, 4 a blocker; 4 when\n"
		       "a blocker stopped it; 1 on failure; 130 when interrupted.",
	.examples = "  # See what would happen\n"
		    "  kubectl azlinux migrate nodepool1 --dry-run\n"
		    "\n"
		    "  # Move an Azure Linux 2.0 pool to 3.0 without a Kubernetes upgrade\n"
		    "  kubectl azlinux migrate nodepool1 --to AzureLinux3 --yes\n"
		    "\n"
		    "  # Replace a GPU pool side by side, one canary node first\n"
		    "  kubectl azlinux migrate gpu --strategy side-by-side --canary --yes\n",
	.options = migrate_options,
	.args_complete = CLI_COMPLETE_POOL,
	.hidden = 0,
};
