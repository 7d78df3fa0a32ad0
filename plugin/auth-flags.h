/* The Azure identity flags (--auth, --cloud, --tenant, --client-id) and
 * making an azl_auth from them with a notifier that prints device-code
 * prompts and warnings on stderr. Used by login, logout and auth status;
 * any command that calls Azure can embed the same flags. Implemented in
 * cmd-auth.c. */
#ifndef CLI_PLUGIN_AUTH_FLAGS_H
#define CLI_PLUGIN_AUTH_FLAGS_H

#include "arm.h"
#include "auth.h"
#include "parse-options.h"

struct cli_azure_flags {
	const char *auth;       /* NULL: $AZLINUX_AUTH, else the chain */
	const char *cloud;      /* NULL: $AZLINUX_CLOUD, else AzureCloud */
	const char *tenant;
	const char *client_id;
};

/* --cloud, --tenant, --client-id: who to sign in as (login, logout). */
#define CLI_OPT_AZURE_ID_FLAGS(T, m) \
	OPT_STRING(0, "cloud", T, m.cloud, "NAME", \
		   "Azure cloud: AzureCloud, AzureChinaCloud or AzureUSGovernment " \
		   "(default: $AZLINUX_CLOUD, else AzureCloud).", CLI_COMPLETE_CLOUD), \
	OPT_STRING(0, "tenant", T, m.tenant, "ID", \
		   "Microsoft Entra tenant ID or domain.", CLI_COMPLETE_NONE), \
	OPT_STRING(0, "client-id", T, m.client_id, "ID", \
		   "Application (client) ID, or the client ID of a user-assigned managed identity.", \
		   CLI_COMPLETE_NONE)

/* The above and --auth: for every command that calls Azure. */
#define CLI_OPT_AZURE_FLAGS(T, m) \
	OPT_GROUP("Azure flags"), \
	OPT_STRING(0, "auth", T, m.auth, "SOURCE", \
		   "Use only this credential source: env, workload-identity, login, azure-cli " \
		   "or managed-identity (default: $AZLINUX_AUTH, else each in that order).", \
		   CLI_COMPLETE_AUTH), \
	CLI_OPT_AZURE_ID_FLAGS(T, m)

/* azl_auth_new() with these flags; on failure the error is set. */
int cli_auth_open(struct azl_auth **out, const struct cli_azure_flags *f);

/* An ARM client signed in with these flags: its auth, its credential and
 * the client, each for the caller to free (arm first), also on failure.
 * timeout_ms as azl_arm_options' (cli_global_flags_arm_timeout()). */
int cli_arm_open(const struct cli_azure_flags *f, long timeout_ms, struct azl_auth **auth,
		 struct azl_arm_credential **cred, struct azl_arm **arm);

#endif
