/* The exec credential protocol after client-go's
 * plugin/pkg/client/auth/exec/exec.go. The plugin's stdout carries the
 * credential, so it is wiped before its memory is freed, and no message
 * quotes it. */
#include "execcred.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base64.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "proc.h"
#include "redact.h"
#include "wrapper.h"

void azl_credential_release(struct azl_credential *c)
{
	if (!c)
		return;
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	c->token = NULL;
	strbuf_release(&c->client_cert_pem);
	azl_secret_wipe(&c->client_key_pem);
	c->expiry = 0;
}

int azl_credential_valid(const struct azl_credential *c, time_t now)
{
	if (!c || (!c->token && !c->client_cert_pem.len))
		return 0;
	return !c->expiry || now < c->expiry;
}

/* Whether the plugin gets our stdin (exec.go: isInteractive). */
static int interactive(const struct azl_exec_config *x, int stdin_is_tty, int *out)
{
	switch (x->interactive) {
	case AZL_EXEC_INTERACTIVE_NEVER:
		*out = 0;
		return 0;
	case AZL_EXEC_INTERACTIVE_IF_AVAILABLE:
		*out = stdin_is_tty;
		return 0;
	case AZL_EXEC_INTERACTIVE_ALWAYS:
		break;
	}
	if (!stdin_is_tty)
		return azl_error_set(AZL_EINVALID, "exec plugin %s is configured to be interactive but standard "
				     "input is not a terminal", x->command);
	*out = 1;
	return 0;
}

static void add_str(cJSON *obj, const char *key, const char *value)
{
	if (value && *value)
		cJSON_AddStringToObject(obj, key, value);
}

/* spec.cluster, with the field names of clientauthentication's Cluster. */
static cJSON *cluster_info(const struct azl_rest_config *cfg)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "server", cfg->server ? cfg->server : "");
	add_str(c, "tls-server-name", cfg->tls_server_name);
	if (cfg->insecure_skip_tls_verify)
		cJSON_AddTrueToObject(c, "insecure-skip-tls-verify");
	if (cfg->ca_pem.len) {
		struct strbuf b64 = STRBUF_INIT;
		azl_base64_encode(&b64, cfg->ca_pem.buf, cfg->ca_pem.len);
		cJSON_AddStringToObject(c, "certificate-authority-data", b64.buf);
		strbuf_release(&b64);
	}
	add_str(c, "proxy-url", cfg->proxy_url);
	if (cfg->disable_compression)
		cJSON_AddTrueToObject(c, "disable-compression");
	return c;
}

/* "KUBERNETES_EXEC_INFO=<ExecCredential JSON>" */
static char *exec_info(const struct azl_rest_config *cfg, int is_interactive)
{
	cJSON *root = cJSON_CreateObject(), *spec;
	struct strbuf sb = STRBUF_INIT;
	char *json;

	cJSON_AddStringToObject(root, "apiVersion", cfg->exec->api_version);
	cJSON_AddStringToObject(root, "kind", "ExecCredential");
	spec = cJSON_AddObjectToObject(root, "spec");
	if (cfg->exec->provide_cluster_info)
		cJSON_AddItemToObject(spec, "cluster", cluster_info(cfg));
	cJSON_AddBoolToObject(spec, "interactive", is_interactive);
	json = azl_json_print(root, 0);
	strbuf_addf(&sb, "KUBERNETES_EXEC_INFO=%s", json);
	free(json);
	cJSON_Delete(root);
	return strbuf_detach(&sb, NULL);
}

/* The install hint may span lines; messages are one line. */
static void add_one_line(struct strbuf *sb, const char *text)
{
	struct strbuf hint = STRBUF_INIT;
	strbuf_addstr(&hint, text);
	strbuf_trim(&hint);
	for (size_t i = 0; i < hint.len; i++)
		if (hint.buf[i] == '\n' || hint.buf[i] == '\r' || hint.buf[i] == '\t')
			hint.buf[i] = ' ';
	strbuf_addbuf(sb, &hint);
	strbuf_release(&hint);
}

static int not_found(const struct azl_exec_config *x)
{
	struct strbuf msg = STRBUF_INIT;
	int rc;
	strbuf_addf(&msg, "exec: executable %s not found", x->command);
	if (x->install_hint && *x->install_hint) {
		strbuf_addstr(&msg, "; ");
		add_one_line(&msg, x->install_hint);
	}
	rc = azl_error_set(AZL_ENOTFOUND, "%s", msg.buf);
	strbuf_release(&msg);
	return rc;
}

/* A string member of obj, or NULL; *bad is set when it has another type. */
static const char *member_str(const cJSON *obj, const char *key, const char **bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (cJSON_IsString(v))
		return v->valuestring;
	*bad = key;
	return NULL;
}

static int check_header(const struct azl_exec_config *x, const cJSON *root)
{
	const char *bad = NULL;
	const char *version = member_str(root, "apiVersion", &bad);
	const char *kind = member_str(root, "kind", &bad);

	if (!version || strcmp(version, x->api_version))
		return azl_error_set(AZL_EINVALID, "exec plugin is configured to use API version %s, "
				     "plugin returned version %s", x->api_version, version ? version : "(none)");
	if (!kind || strcmp(kind, "ExecCredential"))
		return azl_error_set(AZL_EINVALID, "exec plugin %s returned kind \"%s\", expected ExecCredential",
				     x->command, kind ? kind : "");
	return 0;
}

static int read_status(const struct azl_exec_config *x, const cJSON *status, struct azl_credential *out)
{
	const char *bad = NULL;
	const char *token = member_str(status, "token", &bad);
	const char *cert = member_str(status, "clientCertificateData", &bad);
	const char *key = member_str(status, "clientKeyData", &bad);
	const char *exp = member_str(status, "expirationTimestamp", &bad);

	if (bad)
		return azl_error_set(AZL_EINVALID, "exec plugin %s returned a status.%s that is not a string",
				     x->command, bad);
	if (str_empty(token) && str_empty(cert) && str_empty(key))
		return azl_error_set(AZL_EINVALID, "exec plugin %s didn't return a token or cert/key pair", x->command);
	if (str_empty(cert) != str_empty(key))
		return azl_error_set(AZL_EINVALID, "exec plugin %s returned only certificate or key, not both",
				     x->command);
	if (!str_empty(exp) && azl_parse_rfc3339(exp, &out->expiry) < 0)
		return azl_error_prefix("exec plugin %s returned an invalid status.expirationTimestamp", x->command);
	if (!str_empty(token))
		out->token = xstrdup(token);
	if (!str_empty(cert)) {
		strbuf_addstr(&out->client_cert_pem, cert);
		strbuf_addstr(&out->client_key_pem, key);
	}
	return 0;
}

int azl_execcred_parse(const struct azl_exec_config *x, const struct strbuf *text,
		       struct azl_credential *out)
{
	cJSON *root = cJSON_ParseWithLength(text->buf, text->len);
	const cJSON *status;
	int rc;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return azl_error_set(AZL_EINVALID, "exec plugin %s returned output that is not an ExecCredential "
				     "JSON object (%zu bytes on stdout)", x->command, text->len);
	}
	rc = check_header(x, root);
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!rc && !cJSON_IsObject(status))
		rc = azl_error_set(AZL_EINVALID, "exec plugin %s didn't return a status field", x->command);
	if (!rc)
		rc = read_status(x, status, out);
	/* cJSON copies strings: clear its copy of the secrets too */
	for (cJSON *v = status && cJSON_IsObject(status) ? status->child : NULL; v; v = v->next)
		if (cJSON_IsString(v))
			explicit_bzero(v->valuestring, strlen(v->valuestring));
	cJSON_Delete(root);
	return rc;
}

/* command, args..., NULL */
static const char **make_argv(const struct azl_exec_config *x)
{
	size_t n = 0;
	const char **argv;
	while (x->args && x->args[n])
		n++;
	argv = xcalloc(n + 2, sizeof(*argv));
	argv[0] = x->command;
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = x->args[i];
	return argv;
}

/* exec env, then KUBERNETES_EXEC_INFO, NULL */
static const char **make_env(const struct azl_exec_config *x, const char *info)
{
	size_t n = 0;
	const char **env;
	while (x->env && x->env[n])
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (size_t i = 0; i < n; i++)
		env[i] = x->env[i];
	env[n] = info;
	return env;
}

static int run_plugin(const struct azl_exec_config *x, const char *info, int is_interactive,
		      struct strbuf *out)
{
	const char **argv = make_argv(x), **env = make_env(x, info);
	struct azl_proc_options o = { argv, env, is_interactive, 1, 0 };
	int status = 0, rc;

	azl_logf(4, "running exec credential plugin %s (interactive: %s)", x->command,
		 is_interactive ? "yes" : "no");
	rc = azl_proc_run(&o, out, NULL, &status);
	free(argv);
	free(env);
	if (rc == AZL_ENOTFOUND)
		return not_found(x);
	if (rc)
		return azl_error_prefix("exec");
	if (status)
		return azl_error_set(AZL_ERROR, "exec: executable %s failed with exit code %d", x->command, status);
	return 0;
}

int azl_execcred_run(const struct azl_rest_config *cfg, int stdin_is_tty,
		     struct azl_credential *out)
{
	const struct azl_exec_config *x = cfg ? cfg->exec : NULL;
	struct strbuf text = STRBUF_INIT;
	int is_interactive = 0, rc;
	char *info;

	memset(out, 0, sizeof(*out));
	strbuf_init(&out->client_cert_pem, 0);
	strbuf_init(&out->client_key_pem, 0);
	if (!x)
		return azl_error_set(AZL_EINVALID, "user \"%s\" has no exec credential plugin",
				     cfg && cfg->user_name ? cfg->user_name : "");
	rc = interactive(x, stdin_is_tty, &is_interactive);
	if (rc)
		return rc;
	info = exec_info(cfg, is_interactive);
	rc = run_plugin(x, info, is_interactive, &text);
	free(info);
	if (!rc)
		rc = azl_execcred_parse(x, &text, out);
	azl_secret_wipe(&text);
	if (rc)
		azl_credential_release(out);
	return rc;
}
