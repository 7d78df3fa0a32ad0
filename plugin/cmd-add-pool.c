/* kubectl azlinux add-pool NAME --like POOL: an Azure Linux pool with an
 * existing pool's spec, created and waited for (the first half of a
 * side-by-side move; core/migrate.h). */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ops.h"

struct add_pool_args {
	struct cli_global_flags g;
	struct cli_op_flags f;
	const char *like;
	const char *os_sku;
	int count;
	const char *mode;
	int dry_run;
	int yes;
	int no_wait;
	const char *output;
};

static const struct cli_option add_pool_options[] = {
	OPT_STRING(0, "like", struct add_pool_args, like, "POOL",
		   "The pool whose spec the new one copies (required).", CLI_COMPLETE_POOL),
	OPT_STRING(0, "os-sku", struct add_pool_args, os_sku, "SKU",
		   "AzureLinux (default; AzureLinux3 below Kubernetes 1.32) or AzureLinux3.",
		   CLI_COMPLETE_NONE),
	OPT_INT(0, "count", struct add_pool_args, count, "N", "Nodes (default: the --like pool's)."),
	OPT_STRING(0, "mode", struct add_pool_args, mode, "MODE",
		   "System or User (default: the --like pool's).", CLI_COMPLETE_NONE),
	OPT_BOOL(0, "dry-run", struct add_pool_args, dry_run,
		 "Print the plan and the preflight and stop."),
	OPT_BOOL('y', "yes", struct add_pool_args, yes, "Proceed without asking."),
	OPT_BOOL(0, "no-wait", struct add_pool_args, no_wait,
		 "Return once AKS accepted the new pool."),
	OPT_STRING('o', "output", struct add_pool_args, output, "FORMAT",
		   "json or yaml: the report.", CLI_COMPLETE_OUTPUT_FORMAT),
	CLI_OPT_OP_CLUSTER_FLAGS(struct add_pool_args, f),
	CLI_OPT_GLOBAL_FLAGS(struct add_pool_args, g),
	OPT_END()
};

static int run_add_pool(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct add_pool_args args = { 0 };
	struct azl_migrate_options o = AZL_MIGRATE_OPTIONS_INIT;
	struct azl_migrate_plan plan = { 0 };
	struct azl_operation *op = NULL;
	struct cli_op_session s;
	enum cli_output format;
	int n, rc;

	args.count = -1;
	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (n != 1 || !args.like)
		return cli_error_usage("usage: %s %s", ctx->prog, ctx->cmd->usage);
	if (args.mode && strcmp(args.mode, "System") && strcmp(args.mode, "User"))
		return cli_error_usage("--mode %s: use System or User", args.mode);
	if (cli_output_parse(args.output, CLI_OUTPUT_TABLE | CLI_OUTPUT_JSON | CLI_OUTPUT_YAML,
			     &format) < 0)
		return cli_error_report();
	o.count = args.count;
	o.mode = args.mode;
	if (cli_op_open(&s, &args.g, &args.f, 1)) {
		cli_op_close(&s);
		return cli_error_report();
	}
	rc = args.dry_run ? 0 : cli_op_probe(&s, argv[0]);
	if (!rc)
		rc = azl_migrate_plan_add_pool(&s.cluster, &s.pools, argv[0], args.like, args.os_sku,
					       &o, &plan);
	if (!rc)
		rc = azl_migrate_preflight(s.arm, s.ks.kube, &s.cluster, &s.pools, &plan);
	if (rc) {
		rc = cli_error_report();
	} else {
		if (format == CLI_OUTPUT_TABLE)
			cli_op_print_plan(&plan, &s.cluster);
		rc = args.dry_run ? cli_op_preflight_exit(&plan.preflight)
				  : cli_op_confirm(&plan.preflight, args.yes);
		if (!rc && !args.dry_run)
			rc = cli_op_start(&s, &plan, format, args.no_wait, &op);
	}
	azl_operation_free(op);
	azl_migrate_plan_release(&plan);
	cli_op_close(&s);
	return rc;
}

const struct cli_command cli_cmd_add_pool = {
	.name = "add-pool",
	.run = run_add_pool,
	.summary = "Add an Azure Linux node pool like an existing one",
	.usage = "add-pool NAME --like POOL [--os-sku AzureLinux|AzureLinux3] [--count N] "
		 "[--mode System|User] [--dry-run] [--yes] [--no-wait] [-o json|yaml] [flags]",
	.description = "Create node pool NAME with everything that makes POOL what it is (VM size,\n"
		       "count or autoscaler bounds, zones, mode, labels, taints, max pods, Kubernetes\n"
		       "version, subnets, OS disk, kubelet and OS config, upgrade settings, tags...)\n"
		       "and the Azure Linux osSKU, then wait until all its nodes are Ready. It is the\n"
		       "first half of `migrate --strategy side-by-side`, journaled the same way.",
	.examples = "  kubectl azlinux add-pool azlpool --like nodepool1 --yes\n",
	.options = add_pool_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
