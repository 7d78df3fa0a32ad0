/* kubectl azlinux abort [ID]: stop a journaled operation: abort the AKS
 * operation it waits on and, for a side-by-side move before the old pool
 * is deleted, roll back (core/operation.h). */
#include "ops.h"

static const struct cli_option abort_options[] = {
	OPT_STRING('o', "output", struct cli_op_continue_args, output, "FORMAT",
		   "json or yaml: the report.", CLI_COMPLETE_OUTPUT_FORMAT),
	CLI_OPT_OP_CLUSTER_FLAGS(struct cli_op_continue_args, f),
	CLI_OPT_GLOBAL_FLAGS(struct cli_op_continue_args, g),
	OPT_END()
};

static int run_abort(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	return cli_op_continue(argc, argv, ctx, 1);
}

const struct cli_command cli_cmd_abort = {
	.name = "abort",
	.run = run_abort,
	.summary = "Stop a journaled operation, and roll a side-by-side move back",
	.usage = "abort [ID] [-o json|yaml] [flags]",
	.description = "Abort operation ID (default: the newest that did not end): the AKS operation\n"
		       "it waits on is aborted (POST .../abort) and waited for. For a side-by-side\n"
		       "move whose old pool still exists, the old nodes are uncordoned, the old\n"
		       "pool's autoscaler is started again as it was (if the move stopped it) and\n"
		       "the new pool is deleted. If the drain began, the workloads go back first:\n"
		       "the new pool is cordoned and drained (PDBs honoured) once the old nodes are\n"
		       "Ready, and deleted only then. A pool of the new pool's name that this\n"
		       "operation did not create (no azlinux-operation tag with its id) is never\n"
		       "deleted. The journal ends Canceled.",
	.examples = "  kubectl azlinux abort\n",
	.options = abort_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
