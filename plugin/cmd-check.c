/* kubectl azlinux check: the findings of every node pool, pool by pool, with
 * the command that fixes each, and an exit status for scripts and CI. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "fleet.h"
#include "print.h"
#include "strbuf.h"

/* Documented exit statuses. */
#define EXIT_CLEAN 0
#define EXIT_FAILED 1
#define EXIT_WARNINGS 3
#define EXIT_ERRORS 4

struct check_args {
	struct cli_global_flags g;
	struct cli_cluster_flags c;
	const char *output;
};

static const struct cli_option check_options[] = {
	OPT_STRING('o', "output", struct check_args, output, "FORMAT",
		   "Output format. One of: (json, yaml). Default: findings as text.",
		   CLI_COMPLETE_OUTPUT_FORMAT),
	CLI_OPT_CLUSTER_FLAGS(struct check_args, c),
	CLI_OPT_GLOBAL_FLAGS(struct check_args, g),
	OPT_END()
};

struct counts {
	size_t by_severity[3];
	size_t pools;
};

static void print_finding(const struct azl_finding *f, int color)
{
	static const enum cli_color colors[] = { CLI_COLOR_BOLD, CLI_COLOR_YELLOW, CLI_COLOR_RED };
	const char *name = azl_severity_name(f->severity);
	struct strbuf line = STRBUF_INIT;

	strbuf_addstr(&line, "  ");
	cli_color_add(&line, color && f->severity != AZL_SEVERITY_INFO, colors[f->severity], name);
	strbuf_addchars(&line, ' ', 9 - strlen(name));
	strbuf_addf(&line, "%s: %s\n", f->code, f->message);
	fwrite(line.buf, 1, line.len, stdout);
	strbuf_release(&line);
}

static void print_pool(const struct azl_pool *p, int color, struct counts *c)
{
	printf("%s: %s, %s, Kubernetes %s, %ld/%ld nodes Ready\n", p->name, p->os.name, p->mode,
	       p->kubernetes_version, p->ready_nodes, p->nodes);
	if (!p->findings.nr)
		printf("  no findings\n");
	for (size_t i = 0; i < p->findings.nr; i++) {
		print_finding(&p->findings.items[i], color);
		c->by_severity[p->findings.items[i].severity]++;
	}
	c->pools++;
}

static void print_inspection(const struct cli_fleet *f, const struct azl_inspection *ins,
			     struct counts *c)
{
	struct strbuf line = STRBUF_INIT;
	int color = cli_color_enabled(stdout);

	if (f->multi)
		printf("Context %s: ", ins->context);
	if (ins->rc) {
		printf("error: %s\n", ins->error.buf);
		return;
	}
	cli_cluster_line(&ins->cluster, &line);
	printf("%s\n", line.buf);
	for (size_t i = 0; i < ins->pools.nr; i++)
		print_pool(&ins->pools.items[i], color, c);
	strbuf_release(&line);
}

static void print_text(const struct cli_fleet *f, struct counts *c)
{
	struct strbuf summary = STRBUF_INIT;

	for (size_t i = 0; i < f->nr; i++) {
		if (i)
			putchar('\n');
		print_inspection(f, &f->items[i], c);
	}
	printf("\n%zu %s, %zu %s, %zu info in %zu %s\n",
	       c->by_severity[AZL_SEVERITY_ERROR],
	       cli_plural(c->by_severity[AZL_SEVERITY_ERROR], "error", "errors"),
	       c->by_severity[AZL_SEVERITY_WARNING],
	       cli_plural(c->by_severity[AZL_SEVERITY_WARNING], "warning", "warnings"),
	       c->by_severity[AZL_SEVERITY_INFO], c->pools, cli_plural(c->pools, "pool", "pools"));
	if (f->multi) {
		cli_fleet_summary(f, &summary);
		printf("%s\n", summary.buf);
	}
	strbuf_release(&summary);
}

static void tally(const struct cli_fleet *f, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < f->nr; i++)
		for (size_t k = 0; k < f->items[i].pools.nr; k++) {
			const struct azl_finding_list *l = &f->items[i].pools.items[k].findings;

			for (size_t j = 0; j < l->nr; j++)
				c->by_severity[l->items[j].severity]++;
			c->pools++;
		}
}

/* A check that could not look everywhere has not passed. */
static int exit_status(const struct cli_fleet *f, const struct counts *c)
{
	if (cli_fleet_failures(f))
		return EXIT_FAILED;
	if (c->by_severity[AZL_SEVERITY_ERROR])
		return EXIT_ERRORS;
	if (c->by_severity[AZL_SEVERITY_WARNING])
		return EXIT_WARNINGS;
	return EXIT_CLEAN;
}

static int run_check(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct check_args args = { 0 };
	struct cli_fleet fleet;
	struct counts counts;
	enum cli_output format;
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (cli_output_parse(args.output, CLI_OUTPUT_TABLE | CLI_OUTPUT_JSON | CLI_OUTPUT_YAML,
			     &format) < 0)
		return cli_error_report();
	rc = cli_fleet_inspect_or_report(&args.g, &args.c, argv, (size_t)n, &fleet);
	if (rc)
		return rc;
	if (format == CLI_OUTPUT_TABLE) {
		memset(&counts, 0, sizeof(counts));
		print_text(&fleet, &counts);
		rc = exit_status(&fleet, &counts);
	} else {
		tally(&fleet, &counts);
		rc = cli_fleet_print_tree(&fleet, format);
		if (!rc)
			rc = exit_status(&fleet, &counts);
	}
	cli_fleet_release(&fleet);
	return rc;
}

const struct cli_command cli_cmd_check = {
	.name = "check",
	.run = run_check,
	.summary = "Check the AKS cluster's node pools and say what to do about each finding",
	.usage = "check [POOL...] [-o json|yaml] [--all-contexts | --contexts A,B] [flags]",
	.description = "Print the findings of each node pool of the AKS cluster behind the current\n"
		       "context (or of every context with --all-contexts), each with its severity,\n"
		       "a stable code and the command that fixes it:\n"
		       "\n"
		       "  AzureLinux2Retired           error    Azure Linux 2.0 is retired; the pool cannot scale\n"
		       "  AzureLinux3PinBlocksUpgrade  error    osSku AzureLinux3 with Kubernetes 1.37+\n"
		       "                               warning  ... when 1.37+ is available\n"
		       "  ProvisioningFailed           error    the pool's last operation failed\n"
		       "  NodesNotReady                warning  nodes not Ready or not registered\n"
		       "  NodeImageUpgradeAvailable    warning  a newer node image (info with the NodeImage channel)\n"
		       "  KubernetesUpgradeAvailable   warning  pool behind the control plane (else info)\n"
		       "  UbuntuCanMigrate             info     in-place migration, or what blocks it\n"
		       "  GPUPool                      info     GPU pools: check the GPUs after changes\n"
		       "\n"
		       "Exit status: 0 when nothing is at warning or above, 3 with warnings, 4 with\n"
		       "errors, 1 when the check itself failed (including any context of a fleet).",
	.examples = "  # Check the current context's cluster\n"
		    "  kubectl azlinux check\n"
		    "\n"
		    "  # Check two pools only\n"
		    "  kubectl azlinux check nodepool1 nodepool2\n"
		    "\n"
		    "  # Gate a pipeline on every cluster in the kubeconfig\n"
		    "  kubectl azlinux check --all-contexts || echo \"exit $?\"\n",
	.options = check_options,
	.args_complete = CLI_COMPLETE_POOL,
	.hidden = 0,
};
