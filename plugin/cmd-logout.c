/* kubectl azlinux logout: remove what login saved. */
#include <stdio.h>

#include "auth-flags.h"
#include "common.h"

struct logout_args {
	struct cli_global_flags g;
	struct cli_azure_flags az;
};

static const struct cli_option logout_options[] = {
	OPT_GROUP("Azure flags"),
	CLI_OPT_AZURE_ID_FLAGS(struct logout_args, az),
	CLI_OPT_GLOBAL_FLAGS(struct logout_args, g),
	OPT_END()
};

static int run_logout(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct logout_args args = { 0 };
	struct azl_auth *auth = NULL;
	int n, rc, removed = 0;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (n > 0)
		return cli_error_usage("unexpected argument \"%s\": logout takes none", argv[0]);
	rc = cli_auth_open(&auth, &args.az);
	if (rc == 0)
		rc = azl_auth_logout(auth, args.az.tenant, &removed);
	azl_auth_free(auth);
	if (rc < 0)
		return cli_error_report();
	if (removed)
		printf("Logged out: removed %d saved credential%s%s%s.\n", removed,
		       removed == 1 ? "" : "s", args.az.tenant ? " for tenant " : "",
		       args.az.tenant ? args.az.tenant : "");
	else
		printf("Nothing to remove: no saved credentials%s%s.\n",
		       args.az.tenant ? " for tenant " : "", args.az.tenant ? args.az.tenant : "");
	return 0;
}

const struct cli_command cli_cmd_logout = {
	.name = "logout",
	.run = run_logout,
	.summary = "Remove the saved Azure account and its tokens",
	.usage = "logout [--tenant ID] [flags]",
	.description =
		"Removes everything 'kubectl azlinux login' saved (the account, tokens,\n"
		"refresh tokens and a service principal's secret) from the token cache, for\n"
		"every tenant or only --tenant's. The Azure CLI's own sign-in is not touched.",
	.examples =
		"  # Forget every saved sign-in\n"
		"  kubectl azlinux logout",
	.options = logout_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
