/* kubeconfig loading, merging and resolution, as client-go does it
 * (shared/reference/kubectl-plugin.md §3).
 *
 * azl_kubeconfig_load() reads --kubeconfig, or every file of $KUBECONFIG
 * (first file to set a map key or scalar wins), or ~/.kube/config.
 * azl_kubeconfig_resolve() picks context, cluster and user (honouring the
 * command-line overrides), reads referenced files (relative paths resolve
 * against the file that defined them), decodes the -data fields, and
 * validates the result into an azl_rest_config. */
#ifndef AZL_KUBECONFIG_H
#define AZL_KUBECONFIG_H

#include <stddef.h>

#include "strbuf.h"

struct azl_kubeconfig;

/* Command-line overrides; NULL / 0 means "not given". */
struct azl_kube_overrides {
	const char *context;
	const char *cluster;
	const char *user;
	const char *namespace_;
	const char *server;
	const char *token;
	const char *certificate_authority;
	const char *client_certificate;
	const char *client_key;
	const char *tls_server_name;
	int insecure_skip_tls_verify;
	long request_timeout_ms;
	/* Not a flag but what the front end knows of the process: stdin is a
	 * terminal, so an exec plugin may have it (client-go's rule) */
	int stdin_is_terminal;
};

enum azl_exec_interactive {
	AZL_EXEC_INTERACTIVE_NEVER,
	AZL_EXEC_INTERACTIVE_IF_AVAILABLE,
	AZL_EXEC_INTERACTIVE_ALWAYS
};

struct azl_exec_config {
	char *command;          /* absolute when it contained a '/' */
	char **args;            /* NULL-terminated */
	char **env;             /* NULL-terminated "NAME=value" */
	char *api_version;      /* client.authentication.k8s.io/v1 or v1beta1 */
	char *install_hint;
	int provide_cluster_info;
	enum azl_exec_interactive interactive;
};

/* Everything needed to talk to one API server as one user. */
struct azl_rest_config {
	char *source_file;      /* file that defined the context, for messages */
	char *context_name;
	char *cluster_name;
	char *user_name;
	char *namespace_;       /* -n, else the context's, else "default" */
	char *server;           /* https://host[:port][/path] */
	char *tls_server_name;
	char *proxy_url;
	int insecure_skip_tls_verify;
	int disable_compression;
	struct strbuf ca_pem;   /* empty: the system trust store */
	struct strbuf client_cert_pem;
	struct strbuf client_key_pem;  /* secret: never log */
	char *token;            /* secret: never log; tokenFile's content when set */
	char *token_file;
	/* NULL unless the user has exec and neither a token nor a client
	 * certificate (client-go does not run the plugin then) */
	struct azl_exec_config *exec;
	long timeout_ms;        /* 0: none */
	int stdin_is_terminal;  /* from the overrides: an exec plugin may prompt */
};

int azl_kubeconfig_load(struct azl_kubeconfig **out, const char *explicit_path);
void azl_kubeconfig_free(struct azl_kubeconfig *kc);

const char *azl_kubeconfig_current_context(const struct azl_kubeconfig *kc);
size_t azl_kubeconfig_context_count(const struct azl_kubeconfig *kc);
/* Contexts in merge order (first file first, file order within a file). */
const char *azl_kubeconfig_context_name(const struct azl_kubeconfig *kc, size_t i);
/* 0 when the merged configuration has a context; otherwise the error that
 * names the files read (or missing) and how to get a kubeconfig. */
int azl_kubeconfig_require_contexts(const struct azl_kubeconfig *kc);

/* The cluster a context names and that cluster's server, without resolving
 * anything (for completion and fleet listings). *server is NULL when the
 * cluster is not defined. AZL_ENOTFOUND when the context does not exist.
 * The strings belong to kc. */
int azl_kubeconfig_context_info(const struct azl_kubeconfig *kc, const char *ctx,
				const char **cluster_name, const char **server);

int azl_kubeconfig_resolve(const struct azl_kubeconfig *kc,
			   const struct azl_kube_overrides *ov,
			   struct azl_rest_config **out);
void azl_rest_config_free(struct azl_rest_config *cfg);

/* Parses a client-go timeout ("0", "30", "1m30s", "500ms"); -1 if invalid. */
long azl_parse_duration_ms(const char *s);

#endif
