/* kubectl azlinux cordon (NODE... | --pool POOL | -l SELECTOR): mark nodes
 * unschedulable, as kubectl cordon does; and what uncordon and drain
 * share with it (cordon.h). */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "cordon.h"
#include "error.h"
#include "wrapper.h"

int cli_cordon_dry_run(const char *value, enum azl_drain_dry_run *out)
{
	if (!value || !strcmp(value, "none") || !*value)
		*out = AZL_DRAIN_DRY_RUN_NONE;
	else if (!strcmp(value, "client"))
		*out = AZL_DRAIN_DRY_RUN_CLIENT;
	else if (!strcmp(value, "server"))
		*out = AZL_DRAIN_DRY_RUN_SERVER;
	else
		return azl_error_set(AZL_EINVALID, "Invalid dry-run value (%s). Must be \"none\", "
				     "\"server\", or \"client\".", value);
	return 0;
}

const char *cli_cordon_dry_run_suffix(enum azl_drain_dry_run dry_run)
{
	if (dry_run == AZL_DRAIN_DRY_RUN_CLIENT)
		return " (dry run)";
	if (dry_run == AZL_DRAIN_DRY_RUN_SERVER)
		return " (server dry run)";
	return "";
}

int cli_cordon_check_args(const char *prog, const char *cmd, int argc, const char *selector,
			  const char *pool)
{
	int by_label = (selector && *selector) || (pool && *pool);

	if (!argc && !by_label)
		return cli_error_usage("USAGE: %s (NODE... | --pool POOL | -l SELECTOR) [flags]\n"
				       "See '%s %s -h' for help and examples", cmd, prog, cmd);
	if (argc && by_label)
		return cli_error_usage("cannot specify both a node name and a --selector option\n"
				       "See '%s %s -h' for help and examples", prog, cmd);
	return 0;
}

/* kubectl's way of printing an API error: "Error from server (NotFound): ...". */
static int report_server_error(int rc)
{
	const char *reason = rc == AZL_ENOTFOUND ? "NotFound"
			     : rc == AZL_EFORBIDDEN ? "Forbidden" : NULL;

	if (!reason)
		return cli_error_report();
	fprintf(stderr, "Error from server (%s): %s\n", reason, azl_error_message());
	return 1;
}

int cli_cordon_select(struct azl_kube *kube, const char *cmd, int argc, const char **argv,
		      const char *selector, const char *pool, struct azl_node_list *out)
{
	int rc = azl_drain_select_nodes(kube, argv, (size_t)argc, selector, pool, out);

	(void)cmd;
	if (rc)
		return report_server_error(rc);
	if (!out->nr) {
		fputs("No resources found\n", stderr);
		return 0;
	}
	return 0;
}

int cli_cordon_nodes(struct azl_kube *kube, const struct azl_node_list *nodes, int desired,
		     enum azl_drain_dry_run dry_run)
{
	const char *verb = desired ? "cordon" : "uncordon";
	size_t i;
	int failed = 0;

	for (i = 0; i < nodes->nr; i++) {
		const struct azl_node *n = &nodes->items[i];
		int changed;

		if (azl_drain_cordon(kube, n, desired, dry_run, &changed)) {
			fprintf(stderr, "error: unable to %s node \"%s\": %s\n", verb, n->name,
				azl_error_message());
			failed++;
			continue;
		}
		printf("node/%s %s%sed%s\n", n->name, changed ? "" : "already ", verb,
		       cli_cordon_dry_run_suffix(dry_run));
	}
	fflush(stdout);
	return failed;
}


const struct cli_option cli_cordon_options[] = {
	OPT_STRING(0, "pool", struct cordon_args, pool, "POOL",
		   "Every node of this node pool (label kubernetes.azure.com/agentpool).",
		   CLI_COMPLETE_POOL),
	OPT_STRING('l', "selector", struct cordon_args, selector, "SELECTOR",
		   "Selector (label query) to filter on.", CLI_COMPLETE_NONE),
	OPT_STRING_DEF(0, "dry-run", struct cordon_args, dry_run, "STRATEGY",
		       "Must be \"none\", \"server\", or \"client\". If client strategy, only print "
		       "the object that would be sent, without sending it. If server strategy, "
		       "submit server-side request without persisting the resource.",
		       CLI_COMPLETE_NONE, "none"),
	CLI_OPT_GLOBAL_FLAGS(struct cordon_args, g),
	OPT_END()
};

int cli_cordon_command(int argc, const char **argv, const struct cli_cmd_ctx *ctx, int desired)
{
	struct cordon_args args = { 0 };
	struct cli_kube_session s = CLI_KUBE_SESSION_INIT;
	struct azl_node_list nodes = { NULL, 0 };
	enum azl_drain_dry_run dry_run = AZL_DRAIN_DRY_RUN_NONE;
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (cli_cordon_check_args(ctx->prog, ctx->cmd->name, n, args.selector, args.pool))
		return 1;
	if (cli_cordon_dry_run(args.dry_run, &dry_run))
		return cli_error_report();
	if (cli_kube_session_open(&s, &args.g) < 0)
		return cli_error_report();
	rc = cli_cordon_select(s.kube, ctx->cmd->name, n, argv, args.selector, args.pool, &nodes);
	if (!rc)
		rc = cli_cordon_nodes(s.kube, &nodes, desired, dry_run) ? 1 : 0;
	azl_node_list_release(&nodes);
	cli_kube_session_release(&s);
	return rc;
}

static int run_cordon(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	return cli_cordon_command(argc, argv, ctx, 1);
}

const struct cli_command cli_cmd_cordon = {
	.name = "cordon",
	.run = run_cordon,
	.summary = "Mark nodes, or a whole node pool, as unschedulable",
	.usage = "cordon (NODE... | --pool POOL | -l SELECTOR) [--dry-run=none|client|server] [flags]",
	.description = "Mark nodes as unschedulable, as kubectl cordon does: new pods are no longer\n"
		       "placed on them; pods already there keep running. --pool names a node pool\n"
		       "and cordons every node in it.",
	.examples = "  # Mark one node as unschedulable\n"
		    "  kubectl azlinux cordon aks-nodepool1-12345678-vmss000000\n"
		    "\n"
		    "  # Every node of a pool\n"
		    "  kubectl azlinux cordon --pool nodepool1\n",
	.options = cli_cordon_options,
	.args_complete = CLI_COMPLETE_NODE,
	.hidden = 0,
};

