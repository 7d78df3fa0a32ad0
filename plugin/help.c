/* The top-level help and the help command. */
#include <string.h>

#include "builtin.h"
#include "common.h"

void cli_help_top(FILE *out, const char *prog)
{
	const struct cli_command *const *cmds;
	size_t i, nr, width = 0;

	cmds = cli_command_table(&nr);
	for (i = 0; i < nr; i++)
		if (!cmds[i]->hidden && strlen(cmds[i]->name) > width)
			width = strlen(cmds[i]->name);
	fprintf(out, "Inspect AKS node pools and plan their move to Azure Linux.\n\n"
		"Available Commands:\n");
	for (i = 0; i < nr; i++)
		if (!cmds[i]->hidden)
			fprintf(out, "  %-*s   %s\n", (int)width, cmds[i]->name, cmds[i]->summary);
	fprintf(out, "\nUsage:\n  %s <command> [flags] [options]\n\n"
		"Use \"%s <command> --help\" for more information about a given command.\n",
		prog, prog);
}

/* Edit distance, for suggestions; command names are short. */
static size_t distance(const char *a, const char *b)
{
	size_t row[32], i, j, la = strlen(a), lb = strlen(b);

	if (lb >= sizeof(row) / sizeof(row[0]))
		return lb;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* cobra's "Did you mean this?": a visible command within two edits of
 * what was typed, or one that starts with it. */
static const struct cli_command *suggest(const char *typed)
{
	const struct cli_command *const *cmds;
	size_t i, nr, n = strlen(typed);

	cmds = cli_command_table(&nr);
	for (i = 0; i < nr; i++) {
		if (cmds[i]->hidden)
			continue;
		if (distance(typed, cmds[i]->name) <= 2 ||
		    (n && !strncmp(cmds[i]->name, typed, n)))
			return cmds[i];
	}
	return NULL;
}

int cli_unknown_command(const char *prog, const char *name)
{
	const struct cli_command *hint = suggest(name);

	fprintf(stderr, "error: unknown command \"%s\" for \"%s\"\n", name, prog);
	if (hint)
		fprintf(stderr, "\nDid you mean this?\n\t%s\n\n", hint->name);
	fprintf(stderr, "See '%s --help' for usage.\n", prog);
	return 1;
}

/* The global flags only, as kubectl's help takes its persistent ones
 * anywhere ("kubectl -v=6 help get"): parsed and applied, never needed. */
struct help_args {
	struct cli_global_flags g;
};

static const struct cli_option help_options[] = {
	CLI_OPT_GLOBAL_FLAGS(struct help_args, g),
	OPT_END()
};

static int run_help(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct help_args args = { 0 };
	const struct cli_command *cmd;
	int n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);

	if (n < 0)
		return cli_parse_exit_code(n);
	if (!n) {
		cli_help_top(stdout, ctx->prog);
		return 0;
	}
	cmd = cli_command_lookup(argv[0]);
	if (!cmd)
		return cli_unknown_command(ctx->prog, argv[0]);
	cli_usage_with_options(stdout, ctx->prog, cmd);
	return 0;
}

const struct cli_command cli_cmd_help = {
	.name = "help",
	.run = run_help,
	.summary = "Help about any command",
	.usage = "help [command]",
	.description = "Help provides help for any command in the application.\n"
		       "Simply type kubectl azlinux help [command] for full details.",
	.examples = "  # Show what the nodes command does\n"
		    "  kubectl azlinux help nodes\n",
	.options = help_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
