/* What cordon, uncordon and drain share (plugin/cmd-cordon.c): picking
 * the nodes (NODE..., --pool, -l), the --dry-run flag, and cordoning them
 * with kubectl's lines ("node/x cordoned", "node/x already uncordoned"). */
#ifndef CLI_PLUGIN_CORDON_H
#define CLI_PLUGIN_CORDON_H

#include "builtin.h"
#include "common.h"
#include "drain.h"
#include "node.h"

/* --dry-run: "none" (or NULL), "client", "server"; else kubectl's error. */
int cli_cordon_dry_run(const char *value, enum azl_drain_dry_run *out);
/* kubectl's name-printer suffix: "", " (dry run)", " (server dry run)". */
const char *cli_cordon_dry_run_suffix(enum azl_drain_dry_run dry_run);

/* Checks the node arguments as kubectl does and selects the nodes;
 * prints the error (kubectl's "Error from server (NotFound): ...") and
 * returns 1 on failure. */
int cli_cordon_select(struct azl_kube *kube, const char *cmd, int argc, const char **argv,
		      const char *selector, const char *pool, struct azl_node_list *out);
/* Cordons (desired 1) or uncordons each node, printing kubectl's lines;
 * a node that fails is reported and skipped. Returns how many failed. */
int cli_cordon_nodes(struct azl_kube *kube, const struct azl_node_list *nodes, int desired,
		     enum azl_drain_dry_run dry_run);

/* The usage checks kubectl makes before any request: 0, or 1 printed. */
int cli_cordon_check_args(const char *prog, const char *cmd, int argc, const char *selector,
			  const char *pool);

/* cordon and uncordon: one command but for the value they set. */
struct cordon_args {
	struct cli_global_flags g;
	const char *pool;
	const char *selector;
	const char *dry_run;
};
extern const struct cli_option cli_cordon_options[];
int cli_cordon_command(int argc, const char **argv, const struct cli_cmd_ctx *ctx, int desired);

#endif
