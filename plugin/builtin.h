/* The command table (after git's builtin.h and git.c's cmd_struct).
 *
 * Each command lives in plugin/cmd-<name>.c and exports one const
 * struct cli_command describing it: name, entry point, one-line summary,
 * help text and its option descriptors (parse-options.h). To add a
 * command, declare it below with one line and list it with one line in
 * the table in main.c. Help, the command list and shell completion are
 * all built from these descriptors; there is no second list. */
#ifndef CLI_BUILTIN_H
#define CLI_BUILTIN_H

#include <stddef.h>
#include <stdio.h>

#include "parse-options.h"

struct cli_cmd_ctx {
	const char *prog;                /* "kubectl azlinux" or "kubectl-azlinux" */
	const struct cli_command *cmd;   /* the command being run */
};

/* argv[0] is the command's name. Returns the process exit status. */
typedef int (*cli_cmd_fn)(int argc, const char **argv,
			  const struct cli_cmd_ctx *ctx);

struct cli_command {
	const char *name;
	cli_cmd_fn run;
	const char *summary;       /* one line, no final period */
	const char *usage;         /* after "<prog> ": "nodes [--pool NAME] [flags]" */
	const char *description;   /* paragraphs for --help, or NULL */
	const char *examples;      /* "  # What\n  kubectl azlinux nodes\n...", or NULL */
	const struct cli_option *options;  /* ends with OPT_END() */
	enum cli_opt_complete args_complete; /* what positional args are */
	int hidden;                /* not listed in help or completion */
};

/* The table, in display order; main.c owns it. */
const struct cli_command *const *cli_command_table(size_t *nr);
/* The command called name, or NULL. */
const struct cli_command *cli_command_lookup(const char *name);
/* The top-level help: what the tool is, its commands, how to get more. */
void cli_help_top(FILE *out, const char *prog);
/* Prints kubectl's "unknown command" error with a hint; returns 1. */
int cli_unknown_command(const char *prog, const char *name);

extern const struct cli_command cli_cmd_help;
extern const struct cli_command cli_cmd_nodes;
extern const struct cli_command cli_cmd_pools;
extern const struct cli_command cli_cmd_check;
extern const struct cli_command cli_cmd_upgrade;
extern const struct cli_command cli_cmd_cordon;
extern const struct cli_command cli_cmd_uncordon;
extern const struct cli_command cli_cmd_drain;
extern const struct cli_command cli_cmd_version;
extern const struct cli_command cli_cmd_login;
extern const struct cli_command cli_cmd_logout;
extern const struct cli_command cli_cmd_auth;
extern const struct cli_command cli_cmd_completion;
extern const struct cli_command cli_cmd_complete;
extern const struct cli_command cli_cmd_arm;
extern const struct cli_command cli_cmd_debug_watch;
extern const struct cli_command cli_cmd_migrate;
extern const struct cli_command cli_cmd_add_pool;
extern const struct cli_command cli_cmd_status;
extern const struct cli_command cli_cmd_resume;
extern const struct cli_command cli_cmd_abort;
extern const struct cli_command cli_cmd_debug_pods;
extern const struct cli_command cli_cmd_debug_evict;

#endif
