/* kubectl azlinux auth status: which Azure identity the commands use, from
 * which source, until when. Never prints a token. Also home of the Azure
 * flags helper (auth-flags.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "auth-flags.h"
#include "common.h"
#include "print.h"
#include "strbuf.h"

/* Device-code prompts go to stderr, as kubelogin does, so stdout stays
 * clean for -o json; progress is in the -v=4 log already. */
static void notify_stderr(enum azl_auth_event ev, const char *message, void *data)
{
	(void)data;
	if (ev == AZL_AUTH_EVENT_DEVICE_CODE) {
		fprintf(stderr, "%s\n", message);
		fflush(stderr);
	} else if (ev == AZL_AUTH_EVENT_WARNING) {
		cli_warning("%s", message);
	}
}

int cli_auth_open(struct azl_auth **out, const struct cli_azure_flags *f)
{
	struct azl_auth_options o = { 0 };

	o.mode = f->auth;
	o.cloud = f->cloud;
	o.tenant = f->tenant;
	o.client_id = f->client_id;
	o.notify = notify_stderr;
	return azl_auth_new(out, &o);
}

int cli_arm_open(const struct cli_azure_flags *f, long timeout_ms, struct azl_auth **auth,
		 struct azl_arm_credential **cred, struct azl_arm **arm)
{
	struct azl_arm_options o = { 0 };
	int rc = cli_auth_open(auth, f);

	if (rc)
		return rc;
	azl_arm_credential_new(cred, *auth);
	o.credential = *cred;
	o.timeout_ms = timeout_ms;
	return azl_arm_new(arm, &o);
}

struct auth_args {
	struct cli_global_flags g;
	struct cli_azure_flags az;
	const char *output;
};

static const struct cli_option auth_options[] = {
	OPT_STRING('o', "output", struct auth_args, output, "FORMAT",
		   "Output format. One of: (json, yaml).", CLI_COMPLETE_OUTPUT_FORMAT),
	CLI_OPT_AZURE_FLAGS(struct auth_args, az),
	CLI_OPT_GLOBAL_FLAGS(struct auth_args, g),
	OPT_END()
};

static void add_str(cJSON *o, const char *key, const char *value)
{
	cJSON_AddStringToObject(o, key, value ? value : "");
}

static cJSON *status_tree(const struct azl_auth_info *info)
{
	cJSON *o = cJSON_CreateObject();
	char when[32] = "";
	struct tm tm;

	if (info->expires_on && gmtime_r(&info->expires_on, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	add_str(o, "principal", info->principal);
	add_str(o, "source", info->source);
	add_str(o, "method", info->method);
	add_str(o, "tenant", info->tenant);
	add_str(o, "clientId", info->client_id);
	add_str(o, "cloud", info->cloud);
	add_str(o, "tokenCache", info->cache);
	add_str(o, "expiresOn", when);
	return o;
}

static void print_plain(const cJSON *tree, time_t expires_on)
{
	static const char *const labels[] = {
		"Signed in as:", "Source:", "Method:", "Tenant:", "Client ID:", "Cloud:",
		"Token cache:", "Token expires:",
	};
	struct strbuf left = STRBUF_INIT;
	const cJSON *item;
	size_t i = 0;

	if (expires_on)
		cli_format_age(&left, time(NULL), expires_on);
	for (item = tree->child; item && i < sizeof(labels) / sizeof(labels[0]); item = item->next) {
		printf("%-15s%s", labels[i], *item->valuestring ? item->valuestring : "<none>");
		if (!strcmp(item->string, "expiresOn") && left.len)
			printf(" (in %s)", left.buf);
		printf("\n");
		i++;
	}
	strbuf_release(&left);
}

static int run_auth(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct auth_args args = { 0 };
	struct azl_auth_info info = { 0 };
	struct azl_auth *auth = NULL;
	enum cli_output format;
	cJSON *tree;
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (n != 1 || strcmp(argv[0], "status") != 0)
		return cli_error_usage("auth takes one subcommand: status (see '%s auth --help')",
				       ctx->prog);
	if (cli_output_parse(args.output, CLI_OUTPUT_TABLE | CLI_OUTPUT_JSON | CLI_OUTPUT_YAML,
			     &format) < 0)
		return cli_error_report();
	rc = cli_auth_open(&auth, &args.az);
	if (rc == 0)
		rc = azl_auth_status(auth, &info);
	azl_auth_free(auth);
	if (rc < 0)
		return cli_error_report();
	tree = status_tree(&info);
	if (format == CLI_OUTPUT_TABLE)
		print_plain(tree, info.expires_on);
	else
		rc = cli_print_tree(tree, format);
	cJSON_Delete(tree);
	azl_auth_info_release(&info);
	return rc;
}

const struct cli_command cli_cmd_auth = {
	.name = "auth",
	.run = run_auth,
	.summary = "Show which Azure identity the commands use",
	.usage = "auth status [-o json|yaml] [flags]",
	.description =
		"Gets an Azure Resource Manager token the way every command does, and shows\n"
		"who it is for, which credential source gave it, the tenant, the cloud, where\n"
		"tokens are cached and when this one expires. It never shows a token.\n\n"
		"Credential sources, in order (--auth or AZLINUX_AUTH picks one):\n"
		"  env                AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET\n"
		"                     or AZURE_CLIENT_CERTIFICATE_PATH\n"
		"  workload-identity  AZURE_FEDERATED_TOKEN_FILE with tenant and client id\n"
		"  login              the account saved by 'kubectl azlinux login'\n"
		"  azure-cli          az account get-access-token\n"
		"  managed-identity   IDENTITY_ENDPOINT/IDENTITY_HEADER, else IMDS\n\n"
		"Tokens are cached in the system keyring (AZLINUX_TOKEN_CACHE=keyring|file|none).\n\n"
		"Environment: AZLINUX_CLOUD, AZLINUX_AUTH, AZLINUX_TOKEN_CACHE.\n"
		"AZURE_AUTHORITY_HOST and AZLINUX_ARM_ENDPOINT override the cloud's endpoints;\n"
		"SSL_CERT_FILE is the CA bundle for Azure; AZURE_POD_IDENTITY_AUTHORITY_HOST\n"
		"(or AZLINUX_IMDS_ENDPOINT) replaces http://169.254.169.254 for IMDS;\n"
		"AZLINUX_KEYRING_TIMEOUT and AZLINUX_AZ_TIMEOUT (seconds, default 5 and 30)\n"
		"bound keyring and az calls.",
	.examples =
		"  # Which identity will be used\n"
		"  kubectl azlinux auth status\n\n"
		"  # The same, as JSON, using only the Azure CLI\n"
		"  kubectl azlinux auth status -o json --auth azure-cli",
	.options = auth_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
