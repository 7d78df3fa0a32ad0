/* kubectl azlinux pools: every node pool of the AKS cluster behind the
 * context (or of every context), with its OS, versions, nodes and findings. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "fleet.h"
#include "print.h"
#include "strbuf.h"

struct pools_args {
	struct cli_global_flags g;
	struct cli_cluster_flags c;
	const char *output;
	int no_headers;
};

static const struct cli_option pools_options[] = {
	OPT_STRING('o', "output", struct pools_args, output, "FORMAT",
		   "Output format. One of: (json, yaml, name, wide).", CLI_COMPLETE_OUTPUT_FORMAT),
	OPT_BOOL(0, "no-headers", struct pools_args, no_headers,
		 "When using the default or wide output format, don't print headers (nor the "
		 "cluster line and fleet summary)."),
	CLI_OPT_CLUSTER_FLAGS(struct pools_args, c),
	CLI_OPT_GLOBAL_FLAGS(struct pools_args, g),
	OPT_END()
};

#define NR_COLUMNS 18

/* The first column is only shown for a fleet: two tables, one array. */
static const struct cli_column fleet_columns[NR_COLUMNS + 1] = {
	{ "context", 0 },
	{ "name", 0 }, { "mode", 0 }, { "os", 0 }, { "k8s", 0 }, { "node-image", 0 },
	{ "nodes", 0 }, { "vm-size", 0 }, { "state", 0 }, { "findings", 0 },
	{ "autoscaler", 1 }, { "zones", 1 }, { "max-surge", 1 }, { "gpu", 1 },
	{ "latest-node-image", 1 }, { "k8s-upgrades", 1 },
	{ "node-os-channel", 1 }, { "auto-upgrade", 1 },   /* the cluster's */
	{ NULL, 0 }
};

struct row {
	struct strbuf nodes, state, findings, autoscaler, upgrades;
	const char *cells[NR_COLUMNS];
};

static void row_init(struct row *r)
{
	strbuf_init(&r->nodes, 0);
	strbuf_init(&r->state, 0);
	strbuf_init(&r->findings, 0);
	strbuf_init(&r->autoscaler, 0);
	strbuf_init(&r->upgrades, 0);
}

static void row_release(struct row *r)
{
	strbuf_release(&r->nodes);
	strbuf_release(&r->state);
	strbuf_release(&r->findings);
	strbuf_release(&r->autoscaler);
	strbuf_release(&r->upgrades);
}

static void fill_row(struct row *r, const char *context, const struct azl_cluster *c,
		     const struct azl_pool *p)
{
	strbuf_addf(&r->nodes, "%ld/%ld", p->ready_nodes, p->nodes);
	strbuf_addstr(&r->state, strcmp(p->power_state, "Stopped") ? p->provisioning_state : "Stopped");
	cli_pool_finding_codes(p, &r->findings);
	if (p->autoscaling)
		strbuf_addf(&r->autoscaler, "%ld-%ld", p->min_count, p->max_count);
	else
		strbuf_addstr(&r->autoscaler, "off");
	for (size_t i = 0; i < p->nr_upgrades; i++)
		strbuf_addf(&r->upgrades, "%s%s", i ? "," : "", p->upgrades[i]);
	r->cells[0] = context;
	r->cells[1] = p->name;
	r->cells[2] = p->mode;
	r->cells[3] = p->os.name;
	r->cells[4] = p->kubernetes_version;
	r->cells[5] = p->node_image_version;
	r->cells[6] = r->nodes.buf;
	r->cells[7] = p->vm_size;
	r->cells[8] = r->state.buf;
	r->cells[9] = r->findings.buf;
	r->cells[10] = r->autoscaler.buf;
	r->cells[11] = p->zones;
	r->cells[12] = p->max_surge;
	r->cells[13] = p->gpu ? "yes" : "no";
	r->cells[14] = p->latest_node_image_version;
	r->cells[15] = r->upgrades.buf;
	r->cells[16] = c->node_os_upgrade_channel;
	r->cells[17] = c->upgrade_channel;
}

static void add_pool_row(struct cli_table *t, int multi, const char *context,
			 const struct azl_cluster *c, const struct azl_pool *p)
{
	struct row r;

	row_init(&r);
	fill_row(&r, context, c, p);
	cli_table_add_row(t, multi ? r.cells : r.cells + 1);
	row_release(&r);
}

/* A context that failed: its error on its row, in the FINDINGS column. */
static void add_error_row(struct cli_table *t, const struct azl_inspection *ins)
{
	const char *cells[NR_COLUMNS];

	for (size_t i = 0; i < NR_COLUMNS; i++)
		cells[i] = "-";
	cells[0] = ins->context;
	cells[8] = "Error";
	cells[9] = ins->error.buf;
	cli_table_add_row(t, cells);
}

static size_t add_rows(struct cli_table *t, const struct cli_fleet *f)
{
	size_t pools = 0;

	for (size_t i = 0; i < f->nr; i++) {
		const struct azl_inspection *ins = &f->items[i];

		if (ins->rc) {
			add_error_row(t, ins);
			continue;
		}
		for (size_t k = 0; k < ins->pools.nr; k++, pools++)
			add_pool_row(t, f->multi, ins->context, &ins->cluster, &ins->pools.items[k]);
	}
	return pools;
}

static int print_table(const struct cli_fleet *f, int wide, int headers)
{
	struct strbuf line = STRBUF_INIT;
	struct cli_table *t;

	if (cli_table_new(&t, f->multi ? fleet_columns : fleet_columns + 1) < 0)
		return cli_error_report();
	if (!add_rows(t, f) && !f->multi) {
		fputs("No resources found\n", stderr);
		cli_table_free(t);
		return 0;
	}
	if (headers && !f->multi) {
		cli_cluster_line(&f->items[0].cluster, &line);
		printf("%s\n", line.buf);
	}
	cli_table_print(t, stdout, wide, headers);
	if (headers && f->multi) {
		strbuf_reset(&line);
		cli_fleet_summary(f, &line);
		printf("\n%s\n", line.buf);
	}
	cli_table_free(t);
	strbuf_release(&line);
	return 0;
}

static void print_names(const struct cli_fleet *f)
{
	for (size_t i = 0; i < f->nr; i++)
		for (size_t k = 0; k < f->items[i].pools.nr; k++)
			cli_print_name(stdout, "agentpool", f->items[i].pools.items[k].name);
}

static int print_pools(const struct cli_fleet *f, enum cli_output format, int no_headers)
{
	if (format == CLI_OUTPUT_JSON || format == CLI_OUTPUT_YAML)
		return cli_fleet_print_tree(f, format);
	if (format == CLI_OUTPUT_NAME) {
		print_names(f);
		return 0;
	}
	return print_table(f, format == CLI_OUTPUT_WIDE, !no_headers);
}

static int run_pools(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct pools_args args = { 0 };
	struct cli_fleet fleet;
	enum cli_output format;
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (cli_output_parse(args.output, CLI_OUTPUT_TABLE | CLI_OUTPUT_WIDE | CLI_OUTPUT_JSON |
			     CLI_OUTPUT_YAML | CLI_OUTPUT_NAME, &format) < 0)
		return cli_error_report();
	rc = cli_fleet_inspect_or_report(&args.g, &args.c, argv, (size_t)n, &fleet);
	if (rc)
		return rc;
	rc = print_pools(&fleet, format, args.no_headers);
	/* partial results were printed; the exit status still tells */
	if (!rc && cli_fleet_failures(&fleet))
		rc = 1;
	cli_fleet_release(&fleet);
	return rc;
}

const struct cli_command cli_cmd_pools = {
	.name = "pools",
	.run = run_pools,
	.summary = "List the AKS cluster's node pools with their OS, versions and findings",
	.usage = "pools [NAME...] [-o table|wide|json|yaml|name] [--no-headers] [--all-contexts | --contexts A,B] [flags]",
	.description = "List the node pools of the AKS cluster behind the current kubeconfig context:\n"
		       "mode, OS (\"Azure Linux 3.0\", \"Azure Linux 2.0\", \"Ubuntu 22.04\"...), Kubernetes\n"
		       "version, node image, Ready/total nodes, VM size, state and findings. The\n"
		       "cluster is found by matching the context's API server with the fqdn of the\n"
		       "managed clusters in the subscription (--subscription, AZURE_SUBSCRIPTION_ID,\n"
		       "the nodes' providerID or the Azure CLI's default), or named with\n"
		       "--resource-group and --name. Names given as arguments limit the list.\n"
		       "\n"
		       "With --all-contexts (or --contexts a,b) every context is inspected in\n"
		       "parallel, a CONTEXT column is added, a context that fails shows its error on\n"
		       "its row (an Azure sign-in that fails, which all share, is one error), and a\n"
		       "summary line counts the pools by OS. Run `kubectl azlinux check` for\n"
		       "what each finding means and the command that fixes it.",
	.examples = "  # The pools of the current context's cluster\n"
		    "  kubectl azlinux pools\n"
		    "\n"
		    "  # With autoscaler, zones, surge, GPU, latest image, available upgrades and\n"
		    "  # the cluster's node OS and auto-upgrade channels\n"
		    "  kubectl azlinux pools -o wide\n"
		    "\n"
		    "  # Every Azure Linux 2.0 pool in every cluster of the kubeconfig\n"
		    "  kubectl azlinux pools --all-contexts\n"
		    "\n"
		    "  # One pool, as JSON\n"
		    "  kubectl azlinux pools nodepool1 -o json\n",
	.options = pools_options,
	.args_complete = CLI_COMPLETE_POOL,
	.hidden = 0,
};
