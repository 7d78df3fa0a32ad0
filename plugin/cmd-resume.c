/* kubectl azlinux resume [ID]: go on with a journaled operation from the
 * step where it stopped; a running AKS operation is re-attached, not sent
 * again (core/operation.h). */
#include "ops.h"

static const struct cli_option resume_options[] = {
	OPT_BOOL(0, "no-wait", struct cli_op_continue_args, no_wait,
		 "Return once AKS accepted the next change."),
	OPT_STRING('o', "output", struct cli_op_continue_args, output, "FORMAT",
		   "json or yaml: the report.", CLI_COMPLETE_OUTPUT_FORMAT),
	CLI_OPT_OP_CLUSTER_FLAGS(struct cli_op_continue_args, f),
	CLI_OPT_GLOBAL_FLAGS(struct cli_op_continue_args, g),
	OPT_END()
};

static int run_resume(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	return cli_op_continue(argc, argv, ctx, 0);
}

const struct cli_command cli_cmd_resume = {
	.name = "resume",
	.run = run_resume,
	.summary = "Go on with an interrupted migration from the step where it stopped",
	.usage = "resume [ID] [--no-wait] [-o json|yaml] [flags]",
	.description = "Continue operation ID (default: the newest that did not succeed or was not\n"
		       "aborted) from the step its journal records; a Failed one from the step that\n"
		       "failed, once its cause is fixed. An AKS operation still running is followed again, not\n"
		       "sent twice; a pool already created is not created again; a pool is deleted\n"
		       "only when the journal shows its replacement Ready and the drain finished.\n"
		       "The operation's own context is used unless --context names another.",
	.examples = "  # After Ctrl-C or a crash\n"
		    "  kubectl azlinux resume\n"
		    "\n"
		    "  # A given operation\n"
		    "  kubectl azlinux resume 20261201T225000Z-1a2b3c4d\n",
	.options = resume_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
