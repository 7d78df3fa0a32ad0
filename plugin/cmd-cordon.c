/* kubectl azlinux cordon (NODE... | --pool POOL | -l SELECTOR): mark nodes
 * unschedulable, as kubectl cordon does; and what uncordon and drain
 * share with it (cordon.h). */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "cordon.h"
#include "error.h"
#include "wrapper.h"

int azl_cordon_dry_run(const char *value, enum azl_drain_dry_run *out)
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

const char *azl_cordon_dry_run_suffix(enum azl_drain_dry_run dry_run)
{
	if (dry_run == AZL_DRAIN_DRY_RUN_CLIENT)
		return " (dry run)";
	if (dry_run == AZL_DRAIN_DRY_RUN_SERVER)
		return " (server dry run)";
	return "";
}

int azl_cordon_check_args(const char *prog, const char *cmd, int argc, const char *selector,
			  const char *pool)
{
	int by_label = (selector && *selector) || (pool && *pool);

	if (!argc && !by_label)
		return azl_error_usage("USAGE: %s (NODE... | --pool POOL | -l SELECTOR) [flags]\n"
				       "See '%s %s -h' for help and examples", cmd, prog, cmd);
	if (argc && by_label)
		return azl_error_usage("cannot specify both a node name and a --selector option\n"
				       "See '%s %s -h' for help and examples", prog, cmd);
	return 0;
}

/* kubectl's way of printing an API error: "Error from server (NotFound): ...". */
static int report_server_error(int rc)
{
	const char *reason = rc == AZL_ENOTFOUND ? "NotFound"
			     : rc == AZL_EFORBIDDEN ? "Forbidden" : NULL;

	if (!reason)
		return azl_error_report();
	fprintf(stderr, "Error from server (%s): %s\n", reason, azl_error_message());
	return 1;
}

int azl_cordon_select(struct azl_kube *kube, const char *cmd, int argc, const char **argv,
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

int azl_cordon_nodes(struct azl_kube *kube, const struct azl_node_list *nodes, int desired,
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
		       azl_cordon_dry_run_suffix(dry_run));
	}
	fflush(stdout);
	return failed;
}


const struct azl_option azl_cordon_options[] = {
	OPT_STRING(0, "pool", struct cordon_args, pool, "POOL",
		   "Every node of this node pool (label kubernetes.azure.com/agentpool).",
		   AZL_COMPLETE_POOL),
	OPT_STRING('l', "selector", struct cordon_args, selector, "SELECTOR",
		   "Selector (label query) to filter on.", AZL_COMPLETE_NONE),
	OPT_STRING_DEF(0, "dry-run", struct cordon_args, dry_run, "STRATEGY",
		       "Must be \"none\", \"server\", or \"client\". If client strategy, only print "
		       "the object that would be sent, without sending it. If server strategy, "
		       "submit server-side request without persisting the resource.",
		       AZL_COMPLETE_NONE, "none"),
	AZL_OPT_GLOBAL_FLAGS(struct cordon_args, g),
	OPT_END()
};

int azl_cordon_command(int argc, const char **argv, const struct azl_cmd_ctx *ctx, int desired)
{
	struct cordon_args args = { 0 };
	struct azl_kube_session s = AZL_KUBE_SESSION_INIT;
	struct azl_node_list nodes = { NULL, 0 };
	enum azl_drain_dry_run dry_run = AZL_DRAIN_DRY_RUN_NONE;
	int n, rc;

	n = azl_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return azl_parse_exit_code(n);
	if (azl_cordon_check_args(ctx->prog, ctx->cmd->name, n, args.selector, args.pool))
		return 1;
	if (azl_cordon_dry_run(args.dry_run, &dry_run))
		return azl_error_report();
	if (azl_kube_session_open(&s, &args.g) < 0)
		return azl_error_report();
	rc = azl_cordon_select(s.kube, ctx->cmd->name, n, argv, args.selector, args.pool, &nodes);
	if (!rc)
		rc = azl_cordon_nodes(s.kube, &nodes, desired, dry_run) ? 1 : 0;
	azl_node_list_release(&nodes);
	azl_kube_session_release(&s);
	return rc;
}

static int run_cordon(int argc, const char **argv, const struct azl_cmd_ctx *ctx)
{
	return azl_cordon_command(argc, argv, ctx, 1);
}

const struct azl_command azl_cmd_cordon = {
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
	.options = azl_cordon_options,
	.args_complete = AZL_COMPLETE_NODE,
	.hidden = 0,
};

