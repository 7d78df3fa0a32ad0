/* What every command shares: kubectl's global flags, turning them into a
 * Kubernetes client, the -o flag, the log sink and error printing.
 *
 * A command embeds struct cli_global_flags in its arguments struct and
 * lists CLI_OPT_GLOBAL_FLAGS(T, member) in its option array:
 *
 *     struct nodes_args { struct cli_global_flags g; const char *output; };
 *     static const struct cli_option opts[] = {
 *         OPT_STRING('o', "output", struct nodes_args, output, ...),
 *         CLI_OPT_GLOBAL_FLAGS(struct nodes_args, g),
 *         OPT_END()
 *     };
 *     n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
 */
#ifndef CLI_PLUGIN_COMMON_H
#define CLI_PLUGIN_COMMON_H

#include <stdio.h>

#include "builtin.h"
#include "kube.h"
#include "kubeconfig.h"
#include "parse-options.h"

/* kubectl's global flags (shared/reference/kubectl-plugin.md §3.1, §8). */
struct cli_global_flags {
	const char *kubeconfig;
	const char *context;
	const char *cluster;
	const char *user;
	const char *namespace_;
	const char *server;
	const char *token;            /* the user's choice to put it on argv; never echoed */
	const char *certificate_authority;
	const char *client_certificate;
	const char *client_key;
	const char *tls_server_name;
	const char *request_timeout;
	int insecure_skip_tls_verify;
	int verbosity;                /* -v/--v */
};

#define CLI_OPT_GLOBAL_FLAGS(T, m) \
	OPT_GROUP("Kubernetes flags"), \
	OPT_STRING(0, "kubeconfig", T, m.kubeconfig, "FILE", \
		   "Path to the kubeconfig file to use for CLI requests.", CLI_COMPLETE_FILE), \
	OPT_STRING(0, "context", T, m.context, "NAME", \
		   "The name of the kubeconfig context to use.", CLI_COMPLETE_CONTEXT), \
	OPT_STRING(0, "cluster", T, m.cluster, "NAME", \
		   "The name of the kubeconfig cluster to use.", CLI_COMPLETE_CLUSTER), \
	OPT_STRING(0, "user", T, m.user, "NAME", \
		   "The name of the kubeconfig user to use.", CLI_COMPLETE_USER), \
	OPT_STRING('n', "namespace", T, m.namespace_, "NAME", \
		   "If present, the namespace scope for this CLI request.", CLI_COMPLETE_NAMESPACE), \
	OPT_STRING('s', "server", T, m.server, "URL", \
		   "The address and port of the Kubernetes API server.", CLI_COMPLETE_NONE), \
	OPT_STRING(0, "token", T, m.token, "TOKEN", \
		   "Bearer token for authentication to the API server.", CLI_COMPLETE_NONE), \
	OPT_STRING(0, "certificate-authority", T, m.certificate_authority, "FILE", \
		   "Path to a cert file for the certificate authority.", CLI_COMPLETE_FILE), \
	OPT_STRING(0, "client-certificate", T, m.client_certificate, "FILE", \
		   "Path to a client certificate file for TLS.", CLI_COMPLETE_FILE), \
	OPT_STRING(0, "client-key", T, m.client_key, "FILE", \
		   "Path to a client key file for TLS.", CLI_COMPLETE_FILE), \
	OPT_BOOL(0, "insecure-skip-tls-verify", T, m.insecure_skip_tls_verify, \
		 "If true, the server's certificate will not be checked for validity. " \
		 "This will make your HTTPS connections insecure."), \
	OPT_STRING(0, "tls-server-name", T, m.tls_server_name, "NAME", \
		   "Server name to use for server certificate validation. If it is not " \
		   "provided, the hostname used to contact the server is used.", CLI_COMPLETE_NONE), \
	OPT_STRING_DEF(0, "request-timeout", T, m.request_timeout, "DURATION", \
		       "The length of time to wait before giving up on a single server request. " \
		       "Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). " \
		       "A value of zero means don't timeout requests. It applies to Azure Resource " \
		       "Manager requests too, which without it give up after 5m (as az does).", \
		       CLI_COMPLETE_NONE, "0"), \
	OPT_INT('v', "v", T, m.verbosity, "LEVEL", \
		"Number for the log level verbosity (6: requests, 8: bodies).")

/* Parses the command line (cli_parse_options) and applies the global
 * flags that take effect at once (-v installs the log sink). Returns the
 * positional count or a negative CLI_PARSE_* code. */
int cli_cmd_parse(int argc, const char **argv, const struct cli_cmd_ctx *ctx,
		  void *values, const struct cli_global_flags *g);

/* A Kubernetes client made from the kubeconfig and the global flags. */
struct cli_kube_session {
	struct azl_kubeconfig *kubeconfig;
	struct azl_rest_config *config;
	struct azl_kube *kube;
};
#define CLI_KUBE_SESSION_INIT { NULL, NULL, NULL }

/* Loads the kubeconfig, resolves context/cluster/user with the flag
 * overrides and makes the client. On failure the session is released. */
int cli_kube_session_open(struct cli_kube_session *s, const struct cli_global_flags *g);
void cli_kube_session_release(struct cli_kube_session *s);

/* The overrides the flags ask for; 0, or AZL_EINVALID (bad --request-timeout). */
int cli_global_flags_overrides(const struct cli_global_flags *g,
			       struct azl_kube_overrides *ov);
/* The ARM client's timeout_ms (arm.h) from --request-timeout: 0 (ARM's
 * default) without the flag, -1 (none) for 0, else the flag's; 0, or
 * AZL_EINVALID as above. */
int cli_global_flags_arm_timeout(const struct cli_global_flags *g, long *timeout_ms);

/* -o: which formats a command accepts, as a bit set. */
enum cli_output {
	CLI_OUTPUT_TABLE = 1 << 0,   /* the default, when -o is absent or "" */
	CLI_OUTPUT_WIDE = 1 << 1,
	CLI_OUTPUT_JSON = 1 << 2,
	CLI_OUTPUT_YAML = 1 << 3,
	CLI_OUTPUT_NAME = 1 << 4
};
/* Maps -o's value to one of allowed; else sets kubectl's message
 * ("unable to match a printer suitable for the output format ...") and
 * returns AZL_EINVALID. */
int cli_output_parse(const char *value, unsigned allowed, enum cli_output *out);
/* The -o format names, for completion: i = 0, 1, ... until NULL. */
const char *cli_output_name(size_t i, enum cli_output *format);

struct cJSON;
/* -o json or -o yaml (format CLI_OUTPUT_YAML) of tree on stdout. Returns
 * the exit status: 0, or 1 with the error printed. */
int cli_print_tree(const struct cJSON *tree, enum cli_output format);

/* Prints "error: <azl_error_message()>" to stderr; returns 1, the exit code. */
int cli_error_report(void);
/* Prints "error: <fmt...>" to stderr; returns 1. */
int cli_error_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "Warning: <fmt...>" to stderr ("Warning:" yellow on a colour TTY). */
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The log sink cli_cmd_parse() installs: klog-style lines on stderr,
 * "I1127 20:30:00.123456   12345 azlinux] message". */
void cli_log_to_stderr(int level, const char *message, void *data);

#endif
