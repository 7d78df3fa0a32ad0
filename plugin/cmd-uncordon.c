/* kubectl azlinux uncordon (NODE... | --pool POOL | -l SELECTOR): mark
 * nodes schedulable again, as kubectl uncordon does (cmd-cordon.c). */
#include "cordon.h"

static int run_uncordon(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	return cli_cordon_command(argc, argv, ctx, 0);
}

const struct cli_command cli_cmd_uncordon = {
	.name = "uncordon",
	.run = run_uncordon,
	.summary = "Mark nodes, or a whole node pool, as schedulable",
	.usage = "uncordon (NODE... | --pool POOL | -l SELECTOR) [--dry-run=none|client|server] [flags]",
	.description = "Mark nodes as schedulable again, as kubectl uncordon does. --pool names a\n"
		       "node pool and uncordons every node in it.",
	.examples = "  # Mark one node as schedulable\n"
		    "  kubectl azlinux uncordon aks-nodepool1-12345678-vmss000000\n"
		    "\n"
		    "  # Every node of a pool\n"
		    "  kubectl azlinux uncordon --pool nodepool1\n",
	.options = cli_cordon_options,
	.args_complete = CLI_COMPLETE_NODE,
	.hidden = 0,
};
