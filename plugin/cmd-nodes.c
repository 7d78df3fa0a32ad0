/* kubectl azlinux nodes: every node with its pool, OS and image. */
#include <time.h>

#include "common.h"
#include "json.h"
#include "node.h"
#include "print.h"
#include "strbuf.h"

struct nodes_args {
	struct cli_global_flags g;
	const char *pool;
	const char *selector;
	const char *output;
	int no_headers;
};

static const struct cli_option nodes_options[] = {
	OPT_STRING(0, "pool", struct nodes_args, pool, "NAME",
		   "Only the nodes of this node pool.", CLI_COMPLETE_POOL),
	OPT_STRING('l', "selector", struct nodes_args, selector, "SELECTOR",
		   "Selector (label query) to filter on, supports '=', '==', '!=', 'in', "
		   "'notin' (e.g. -l key1=value1,key2=value2).", CLI_COMPLETE_NONE),
	OPT_STRING('o', "output", struct nodes_args, output, "FORMAT",
		   "Output format. One of: (json, yaml, name, wide).", CLI_COMPLETE_OUTPUT_FORMAT),
	OPT_BOOL(0, "no-headers", struct nodes_args, no_headers,
		 "When using the default or wide output format, don't print headers."),
	CLI_OPT_GLOBAL_FLAGS(struct nodes_args, g),
	OPT_END()
};

static const struct cli_column node_columns[] = {
	{ "name", 0 }, { "pool", 0 }, { "os-sku", 0 }, { "os", 0 },
	{ "node-image", 0 }, { "version", 0 }, { "status", 0 }, { "age", 0 },
	{ "kernel", 1 }, { "container-runtime", 1 }, { "zone", 1 }, { "vm-size", 1 },
	{ NULL, 0 }
};

static void add_node_row(struct cli_table *t, const struct azl_node *n, time_t now)
{
	struct strbuf status = STRBUF_INIT, age = STRBUF_INIT;
	const char *cells[12];

	strbuf_addstr(&status, n->ready ? "Ready" : "NotReady");
	if (!n->schedulable)
		strbuf_addstr(&status, ",SchedulingDisabled");
	cli_format_age(&age, n->created, now);
	cells[0] = n->name;
	cells[1] = n->pool;
	cells[2] = n->os_sku;
	cells[3] = n->os_name;
	cells[4] = n->node_image_version;
	cells[5] = n->kubelet_version;
	cells[6] = status.buf;
	cells[7] = age.buf;
	cells[8] = n->kernel_version;
	cells[9] = n->container_runtime;
	cells[10] = n->zone;
	cells[11] = n->vm_size;
	cli_table_add_row(t, cells);
	strbuf_release(&status);
	strbuf_release(&age);
}

static int print_table(const struct azl_node_list *list, int wide, int headers)
{
	struct cli_table *t;
	time_t now = time(NULL);
	size_t i;

	if (cli_table_new(&t, node_columns) < 0)
		return cli_error_report();
	for (i = 0; i < list->nr; i++)
		add_node_row(t, &list->items[i], now);
	cli_table_print(t, stdout, wide, headers);
	cli_table_free(t);
	return 0;
}

/* The documented -o json shape (README): stable, add keys only. */
static cJSON *node_json(const struct azl_node *n)
{
	cJSON *o = cJSON_CreateObject();

	azl_json_add_str_or_null(o, "name", n->name);
	azl_json_add_str_or_null(o, "pool", n->pool);
	azl_json_add_str_or_null(o, "osSku", n->os_sku);
	azl_json_add_str_or_null(o, "os", n->os_name);
	azl_json_add_str_or_null(o, "osVersion", n->os_version);
	azl_json_add_str_or_null(o, "nodeImageVersion", n->node_image_version);
	azl_json_add_str_or_null(o, "kubeletVersion", n->kubelet_version);
	cJSON_AddBoolToObject(o, "ready", n->ready);
	cJSON_AddBoolToObject(o, "schedulable", n->schedulable);
	azl_json_add_str_or_null(o, "kernelVersion", n->kernel_version);
	azl_json_add_str_or_null(o, "osImage", n->os_image);
	azl_json_add_str_or_null(o, "containerRuntime", n->container_runtime);
	azl_json_add_str_or_null(o, "zone", n->zone);
	azl_json_add_str_or_null(o, "vmSize", n->vm_size);
	return o;
}

static int print_tree(const struct azl_node_list *list, enum cli_output format)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *items = cJSON_AddArrayToObject(root, "items");
	size_t i;
	int rc;

	for (i = 0; i < list->nr; i++)
		cJSON_AddItemToArray(items, node_json(&list->items[i]));
	rc = cli_print_tree(root, format);
	cJSON_Delete(root);
	return rc;
}

static int print_nodes(const struct azl_node_list *list, enum cli_output format,
		       int no_headers)
{
	size_t i;

	if (format == CLI_OUTPUT_JSON || format == CLI_OUTPUT_YAML)
		return print_tree(list, format);
	if (!list->nr) {
		fputs("No resources found\n", stderr);
		return 0;
	}
	if (format != CLI_OUTPUT_NAME)
		return print_table(list, format == CLI_OUTPUT_WIDE, !no_headers);
	for (i = 0; i < list->nr; i++)
		cli_print_name(stdout, "node", list->items[i].name);
	return 0;
}

static int run_nodes(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct nodes_args args = { 0 };
	struct cli_kube_session s = CLI_KUBE_SESSION_INIT;
	struct azl_node_list list = { NULL, 0 };
	enum cli_output format;
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (n > 0)
		return cli_error_usage("unexpected argument \"%s\": to pick nodes use --pool or -l",
				       argv[0]);
	if (cli_output_parse(args.output, CLI_OUTPUT_TABLE | CLI_OUTPUT_WIDE | CLI_OUTPUT_JSON |
			     CLI_OUTPUT_YAML | CLI_OUTPUT_NAME, &format) < 0)
		return cli_error_report();
	if (cli_kube_session_open(&s, &args.g) < 0)
		return cli_error_report();
	rc = azl_node_list(s.kube, args.selector, args.pool, &list);
	if (!rc)
		rc = print_nodes(&list, format, args.no_headers);
	else
		rc = cli_error_report();
	azl_node_list_release(&list);
	cli_kube_session_release(&s);
	return rc;
}

const struct cli_command cli_cmd_nodes = {
	.name = "nodes",
	.run = run_nodes,
	.summary = "List the cluster's nodes with their pool, OS and node image",
	.usage = "nodes [--pool NAME] [-l SELECTOR] [-o table|wide|json|yaml|name] [--no-headers] [flags]",
	.description = "List the nodes of the cluster in the current kubeconfig context, with the node\n"
		       "pool each belongs to, its OS SKU and OS (\"Azure Linux 3.0\", \"Ubuntu 22.04\"...),\n"
		       "node image, kubelet version, status and age. The OS is read from the node\n"
		       "image, the OS image and the kernel, so Azure Linux 2.0 nodes that must move\n"
		       "stand out.",
	.examples = "  # List every node\n"
		    "  kubectl azlinux nodes\n"
		    "\n"
		    "  # The nodes of one pool, with kernel, runtime, zone and VM size\n"
		    "  kubectl azlinux nodes --pool nodepool1 -o wide\n"
		    "\n"
		    "  # Nodes matching a label, as JSON\n"
		    "  kubectl azlinux nodes -l kubernetes.azure.com/os-sku=AzureLinux -o json\n"
		    "\n"
		    "  # Just the names, for scripts\n"
		    "  kubectl azlinux nodes -o name --context prod\n",
	.options = nodes_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
