/* kubectl azlinux version: this program's version and its libraries'. */
#include <cjson/cJSON.h>
#include <yaml.h>

#include "common.h"
#include "print.h"
#include "strbuf.h"
#include "version.h"

struct version_args {
	struct cli_global_flags g;
	const char *output;
};

static const struct cli_option version_options[] = {
	OPT_STRING('o', "output", struct version_args, output, "FORMAT",
		   "One of 'yaml' or 'json'.", CLI_COMPLETE_OUTPUT_FORMAT),
	CLI_OPT_GLOBAL_FLAGS(struct version_args, g),
	OPT_END()
};

/* Key order is the order shown. */
static cJSON *version_tree(void)
{
	struct strbuf secret = STRBUF_INIT;
	cJSON *v = cJSON_CreateObject();

	azl_version_libsecret(&secret);
	cJSON_AddStringToObject(v, "version", azl_version_string());
	cJSON_AddStringToObject(v, "armApiVersion", AZL_ARM_API_VERSION);
	cJSON_AddStringToObject(v, "libcurl", azl_version_libcurl());
	cJSON_AddStringToObject(v, "cJSON", cJSON_Version());
	cJSON_AddStringToObject(v, "libyaml", yaml_get_version_string());
	cJSON_AddStringToObject(v, "libsecret", secret.buf);
	strbuf_release(&secret);
	return v;
}

static void print_plain(const cJSON *v)
{
	static const char *const labels[] = {
		"kubectl-azlinux", "ARM API version", "libcurl", "cJSON", "libyaml", "libsecret",
	};
	const cJSON *item;
	size_t i = 0;

	for (item = v->child; item && i < sizeof(labels) / sizeof(labels[0]); item = item->next)
		printf("%s: %s\n", labels[i++], item->valuestring);
}

static int run_version(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct version_args args = { 0 };
	enum cli_output format;
	cJSON *tree;
	int n, rc = 0;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (n > 0)
		return cli_error_usage("unexpected argument \"%s\": version takes none", argv[0]);
	if (cli_output_parse(args.output, CLI_OUTPUT_TABLE | CLI_OUTPUT_JSON | CLI_OUTPUT_YAML,
			     &format) < 0)
		return cli_error_report();
	tree = version_tree();
	if (format == CLI_OUTPUT_TABLE)
		print_plain(tree);
	else
		rc = cli_print_tree(tree, format);
	cJSON_Delete(tree);
	return rc;
}

const struct cli_command cli_cmd_version = {
	.name = "version",
	.run = run_version,
	.summary = "Print the version of kubectl-azlinux and its libraries",
	.usage = "version [-o json|yaml] [flags]",
	.description = "Print the version of kubectl-azlinux, the ARM API version it speaks, and the\n"
		       "versions of the libraries it uses (libcurl, cJSON, libyaml, libsecret).",
	.examples = "  # Print the version\n"
		    "  kubectl azlinux version\n"
		    "\n"
		    "  # Print it as JSON, for scripts\n"
		    "  kubectl azlinux version -o json\n",
	.options = version_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
