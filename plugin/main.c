/* kubectl-azlinux: the command table and dispatch (after git.c).
 *
 * kubectl runs us as kubectl-azlinux with argv[0] the full path; kubectl's
 * completion runs kubectl_complete-azlinux (a hard link to us), which
 * answers through the __complete command. */
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "azlinux.h"
#include "common.h"

static const struct cli_command *const commands[] = {
	&cli_cmd_nodes,
	&cli_cmd_pools,
	&cli_cmd_check,
	&cli_cmd_migrate,
	&cli_cmd_add_pool,
	&cli_cmd_status,
	&cli_cmd_resume,
	&cli_cmd_abort,
	&cli_cmd_cordon,
	&cli_cmd_uncordon,
	&cli_cmd_drain,
	&cli_cmd_upgrade,
	&cli_cmd_login,
	&cli_cmd_logout,
	&cli_cmd_auth,
	&cli_cmd_version,
	&cli_cmd_help,
	&cli_cmd_completion,
	&cli_cmd_complete,
	&cli_cmd_arm,
	&cli_cmd_debug_watch,
	&cli_cmd_debug_pods,
	&cli_cmd_debug_evict,
};

const struct cli_command *const *cli_command_table(size_t *nr)
{
	*nr = sizeof(commands) / sizeof(commands[0]);
	return commands;
}

const struct cli_command *cli_command_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* krew's advice: when kubectl ran us, speak of "kubectl azlinux". */
static const char *program_name(const char *argv0)
{
	return strncmp(basename_of(argv0), "kubectl", 7) ? "kubectl-azlinux"
							  : "kubectl azlinux";
}

static int run_command(const struct cli_command *cmd, int argc, const char **argv,
		       const char *prog)
{
	struct cli_cmd_ctx ctx = { prog, cmd };
	int rc;

	if (azl_global_init() < 0)
		return cli_error_report();
	rc = cmd->run(argc, argv, &ctx);
	azl_global_cleanup();
	return rc;
}

/* Called as kubectl_complete-azlinux: every argument is for __complete. */
static int complete_main(int argc, const char **argv)
{
	const struct cli_command *cmd = cli_command_lookup("__complete");

	if (!cmd)
		return 1;
	argv[0] = cmd->name;
	return run_command(cmd, argc, argv, "kubectl azlinux");
}

/* Flags that may come before the command word ("kubectl azlinux
 * --context x nodes"): the global ones and --help. */
struct top_args {
	struct cli_global_flags g;
	int help;
};
static const struct cli_option top_options[] = {
	OPT_BOOL('h', "help", struct top_args, help, "Help for kubectl azlinux."),
	CLI_OPT_GLOBAL_FLAGS(struct top_args, g),
	OPT_END()
};

static const struct cli_option *top_option(const char *arg)
{
	const char *eq;

	if (arg[1] != '-')
		return cli_option_find_short(top_options, arg[1]);
	eq = strchr(arg, '=');
	return cli_option_find_long(top_options, arg + 2,
				    eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
}

#define WORD_NONE (-1)
#define WORD_HELP (-2)
#define WORD_BAD_FLAG (-3)

/* The index of the command word in argv, skipping global flags and their
 * values before it. */
static int command_word(int argc, const char **argv, const char *prog)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_option *opt;

		if (!strcmp(a, "--"))
			return i + 1 < argc ? i + 1 : WORD_NONE;
		if (a[0] != '-' || !a[1])
			return i;
		opt = top_option(a);
		if (!opt) {
			/* name only: a mistyped --token=... must not echo the value */
			fprintf(stderr, "error: unknown flag: %.*s\nSee '%s --help' for usage.\n",
				(int)strcspn(a, "="), a, prog);
			return WORD_BAD_FLAG;
		}
		if (opt->short_name == 'h')
			return WORD_HELP;
		if (cli_option_takes_value(opt) && !strchr(a, '=') &&
		    (a[1] == '-' || !a[2]))
			i++;
	}
	return WORD_NONE;
}

/* Moves argv[word] to argv[1], keeping the order of what came before. */
static void command_word_first(const char **argv, int word)
{
	const char *cmd = argv[word];

	for (; word > 1; word--)
		argv[word] = argv[word - 1];
	argv[1] = cmd;
}

int main(int argc, const char **argv)
{
	const char *prog;
	const struct cli_command *cmd;
	int word;

	if (!strcmp(basename_of(argv[0]), "kubectl_complete-azlinux"))
		return complete_main(argc, argv);

	prog = program_name(argv[0]);
	word = command_word(argc, argv, prog);
	if (word == WORD_BAD_FLAG)
		return 1;
	if (word < 0) {
		cli_help_top(stdout, prog);
		return 0;
	}
	cmd = cli_command_lookup(argv[word]);
	if (!cmd)
		return cli_unknown_command(prog, argv[word]);
	command_word_first(argv, word);
	return run_command(cmd, argc - 1, argv + 1, prog);
}
