/* kubectl azlinux login: sign in once, so that later commands find the
 * account (and its tokens) in the system keyring. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth-flags.h"
#include "common.h"
#include "error.h"
#include "strbuf.h"

struct login_args {
	struct cli_global_flags g;
	struct cli_azure_flags az;
	int device_code;
	int service_principal;
	int managed_identity;
	int use_azure_cli;
	const char *certificate;
	const char *object_id;
	const char *resource_id;
};

static const struct cli_option login_options[] = {
	OPT_BOOL(0, "device-code", struct login_args, device_code,
		 "Sign in as a user with a code entered in a browser (the default)."),
	OPT_BOOL(0, "service-principal", struct login_args, service_principal,
		 "Sign in as an application (--tenant and --client-id); the client secret is "
		 "read from stdin, or give --certificate."),
	OPT_BOOL(0, "managed-identity", struct login_args, managed_identity,
		 "Use this machine's managed identity (--client-id, --object-id or "
		 "--resource-id pick a user-assigned one)."),
	OPT_BOOL(0, "use-azure-cli", struct login_args, use_azure_cli,
		 "Use the Azure CLI's sign-in (az login); its tokens are not copied."),
	OPT_STRING(0, "certificate", struct login_args, certificate, "FILE",
		   "PEM file with the service principal's certificate and private key.",
		   CLI_COMPLETE_FILE),
	OPT_STRING(0, "object-id", struct login_args, object_id, "ID",
		   "Object ID of a user-assigned managed identity.", CLI_COMPLETE_NONE),
	OPT_STRING(0, "resource-id", struct login_args, resource_id, "ID",
		   "Azure resource ID of a user-assigned managed identity.", CLI_COMPLETE_NONE),
	OPT_GROUP("Azure flags"),
	CLI_OPT_AZURE_ID_FLAGS(struct login_args, az),
	CLI_OPT_GLOBAL_FLAGS(struct login_args, g),
	OPT_END()
};

static int pick_kind(const struct login_args *a, enum azl_login_kind *kind)
{
	int n = a->device_code + a->service_principal + a->managed_identity + a->use_azure_cli;

	if (n > 1)
		return azl_error_set(AZL_EINVALID,
			"--device-code, --service-principal, --managed-identity and --use-azure-cli are mutually exclusive");
	*kind = a->service_principal ? AZL_LOGIN_SERVICE_PRINCIPAL
		: a->managed_identity ? AZL_LOGIN_MANAGED_IDENTITY
		: a->use_azure_cli ? AZL_LOGIN_AZURE_CLI : AZL_LOGIN_DEVICE_CODE;
	if ((a->certificate && *kind != AZL_LOGIN_SERVICE_PRINCIPAL) ||
	    ((a->object_id || a->resource_id) && *kind != AZL_LOGIN_MANAGED_IDENTITY))
		return azl_error_set(AZL_EINVALID,
			"--certificate goes with --service-principal; --object-id and --resource-id with --managed-identity");
	return 0;
}

/* A terminal gets a prompt with echo off; otherwise stdin is the secret
 * (one trailing newline dropped). Secrets never come from argv. */
static int read_secret(struct strbuf *out)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	int rc;

	if (tty) {
		fprintf(stderr, "Client secret: ");
		fflush(stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	rc = strbuf_read_fd(out, STDIN_FILENO);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	while (out->len && (out->buf[out->len - 1] == '\n' || out->buf[out->len - 1] == '\r'))
		strbuf_setlen(out, out->len - 1);
	if (rc < 0 || !out->len)
		return azl_error_set(AZL_EINVALID,
			"--service-principal: no client secret on stdin; pipe it in (printf %%s \"$SECRET\" | kubectl azlinux login --service-principal ...) or use --certificate");
	return 0;
}

static void wipe(struct strbuf *sb)
{
	OPENSSL_cleanse(sb->buf, sb->len);
	strbuf_release(sb);
}

static void print_result(const struct azl_auth_info *info)
{
	printf("Logged in to %s as %s", info->cloud, info->principal ? info->principal : "?");
	if (info->tenant && *info->tenant)
		printf(" (tenant %s)", info->tenant);
	printf(" with %s; saved in the token cache: %s.\n", info->method, info->cache);
}

static int run_login(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct login_args args = { 0 };
	struct azl_login_options lo = { 0 };
	struct azl_auth_info info = { 0 };
	struct strbuf secret = STRBUF_INIT;
	struct azl_auth *auth = NULL;
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (n > 0)
		return cli_error_usage("unexpected argument \"%s\": login takes none", argv[0]);
	rc = pick_kind(&args, &lo.kind);
	if (rc == 0 && lo.kind == AZL_LOGIN_SERVICE_PRINCIPAL && !args.certificate)
		rc = read_secret(&secret);
	lo.client_secret = secret.len ? secret.buf : NULL;
	lo.certificate_path = args.certificate;
	lo.mi_client_id = args.az.client_id;
	lo.mi_object_id = args.object_id;
	lo.mi_resource_id = args.resource_id;
	if (rc == 0)
		rc = cli_auth_open(&auth, &args.az);
	if (rc == 0)
		rc = azl_auth_login(auth, &lo, &info);
	wipe(&secret);
	azl_auth_free(auth);
	if (rc < 0)
		return cli_error_report();
	print_result(&info);
	azl_auth_info_release(&info);
	return 0;
}

const struct cli_command cli_cmd_login = {
	.name = "login",
	.run = run_login,
	.summary = "Sign in to Azure and save the account in the system keyring",
	.usage = "login [--device-code | --service-principal | ...] [flags]",
	.description =
		"Signs in once; later commands use the saved account (the 'login' credential\n"
		"source) without signing in again. Tokens, refresh tokens and a service\n"
		"principal's secret are kept in the system keyring (Secret Service), or where\n"
		"AZLINUX_TOKEN_CACHE says (keyring, file or none).\n\n"
		"With --device-code (the default) the sign-in URL and code are printed on\n"
		"stderr. With --service-principal the client secret is read from stdin (a\n"
		"prompt without echo on a terminal); it is never taken from the command line.",
	.examples =
		"  # Sign in as yourself, in a browser on any device\n"
		"  kubectl azlinux login --tenant contoso.onmicrosoft.com\n\n"
		"  # Sign in as a service principal, the secret from a file\n"
		"  kubectl azlinux login --service-principal --tenant T --client-id C <secret\n\n"
		"  # Use the machine's managed identity\n"
		"  kubectl azlinux login --managed-identity",
	.options = login_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
