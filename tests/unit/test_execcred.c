#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "execcred.h"
#include "kubeconfig.h"
#include "testutil.h"

#define V1 "client.authentication.k8s.io/v1"
#define V1BETA1 "client.authentication.k8s.io/v1beta1"
#define CA_PEM "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp();
	azl_error_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmrf(dir);
	free(dir);
	return 0;
}

/* A plugin script in the scratch directory; body runs under /bin/sh and
 * the script also saves its KUBERNETES_EXEC_INFO and arguments. */
static void plugin(const char *body)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "#!/bin/sh\nprintf '%%s' \"$KUBERNETES_EXEC_INFO\" > '%s/exec-info'\n%s\n", dir, body);
	free(tu_write(dir, "plugin", sb.buf, 0755));
	strbuf_release(&sb);
}

/* A plugin that prints json on stdout. */
static void plugin_prints(const char *json)
{
	struct strbuf sb = STRBUF_INIT;
	free(tu_write(dir, "out.json", json, 0644));
	strbuf_addf(&sb, "cat '%s/out.json'", dir);
	plugin(sb.buf);
	strbuf_release(&sb);
}

/* A resolved config whose user runs ./plugin (relative to the kubeconfig,
 * which lives in the scratch directory). */
static struct azl_rest_config *config(const char *api_version, const char *exec_extra, const char *cluster_extra)
{
	struct strbuf sb = STRBUF_INIT;
	struct azl_kubeconfig *kc = NULL;
	struct azl_rest_config *cfg = NULL;
	char *path;

	strbuf_addf(&sb, "current-context: a\n"
		    "clusters:\n- name: c\n  cluster:\n    server: https://10.1.2.3:443\n%s"
		    "users:\n- name: u\n  user:\n    exec:\n      command: ./plugin\n      apiVersion: %s\n%s"
		    "contexts:\n- name: a\n  context: {cluster: c, user: u}\n",
		    cluster_extra ? cluster_extra : "", api_version, exec_extra ? exec_extra : "");
	path = tu_write(dir, "kubeconfig", sb.buf, 0600);
	if (azl_kubeconfig_load(&kc, path) || azl_kubeconfig_resolve(kc, NULL, &cfg))
		fail_msg("kubeconfig: %s", azl_error_message());
	assert_non_null(cfg->exec);
	azl_kubeconfig_free(kc);
	strbuf_release(&sb);
	free(path);
	return cfg;
}

static char *exec_info(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *p = tu_path(dir, "exec-info");
	assert_int_equal(strbuf_read_file(&sb, p), 0);
	free(p);
	return strbuf_detach(&sb, NULL);
}

static void run_fails(struct azl_rest_config *cfg, int tty, int code, const char *want)
{
	struct azl_credential c;
	struct strbuf exp = STRBUF_INIT;
	/* "@" stands for the plugin's path */
	for (const char *p = want; *p; p++) {
		if (*p == '@')
			strbuf_addf(&exp, "%s/./plugin", dir);
		else
			strbuf_addch(&exp, *p);
	}
	assert_int_equal(azl_execcred_run(cfg, tty, &c), code);
	assert_string_equal(azl_error_message(), exp.buf);
	assert_null(c.token);
	assert_int_equal(c.client_cert_pem.len, 0);
	/* no secret the plugins below print ever reaches a message */
	assert_null(strstr(azl_error_message(), "SECRET"));
	strbuf_release(&exp);
	azl_credential_release(&c);
}

static void test_v1_token_with_offset_expiry(void **state)
{
	struct azl_rest_config *cfg = config(V1, "      interactiveMode: Never\n", NULL);
	struct azl_credential c;
	char *info;
	(void)state;
	plugin_prints("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"tok-123\","
		      "\"expirationTimestamp\":\"2018-03-05T17:30:20-08:00\"}}");
	assert_int_equal(azl_execcred_run(cfg, 0, &c), 0);
	assert_string_equal(c.token, "tok-123");
	assert_int_equal(c.expiry, 1520299820); /* 2018-03-06T01:30:20Z */
	assert_int_equal(c.client_cert_pem.len, 0);
	info = exec_info();
	assert_string_equal(info, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}");
	free(info);
	assert_true(azl_credential_valid(&c, 1520299819));
	assert_false(azl_credential_valid(&c, 1520299820));
	azl_credential_release(&c);
	assert_null(c.token);
	assert_false(azl_credential_valid(&c, 0));
	azl_rest_config_free(cfg);
}

static void test_v1beta1_fraction_expiry_and_default_mode(void **state)
{
	struct azl_rest_config *cfg = config(V1BETA1, NULL, NULL);
	struct azl_credential c;
	char *info;
	(void)state;
	plugin_prints("{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"b\","
		      "\"expirationTimestamp\":\"2030-01-01T00:00:00.123456789Z\"}}");
	/* IfAvailable without a terminal: not interactive */
	assert_int_equal(azl_execcred_run(cfg, 0, &c), 0);
	assert_string_equal(c.token, "b");
	assert_int_equal(c.expiry, 1893456000);
	info = exec_info();
	assert_string_equal(info, "{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}");
	free(info);
	azl_credential_release(&c);
	azl_rest_config_free(cfg);
}

static void test_no_expiry_is_valid_until_dropped(void **state)
{
	struct azl_rest_config *cfg = config(V1BETA1, NULL, NULL);
	struct azl_credential c;
	(void)state;
	plugin_prints("{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}");
	assert_int_equal(azl_execcred_run(cfg, 0, &c), 0);
	assert_int_equal(c.expiry, 0);
	assert_true(azl_credential_valid(&c, time(NULL) + 1000000));
	azl_credential_release(&c);
	azl_rest_config_free(cfg);
}

static void test_cert_output(void **state)
{
	struct azl_rest_config *cfg = config(V1, "      interactiveMode: IfAvailable\n", NULL);
	struct azl_credential c;
	(void)state;
	plugin_prints("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{"
		      "\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\nX\\n\","
		      "\"clientKeyData\":\"-----BEGIN PRIVATE KEY-----\\nY\\n\"}}");
	assert_int_equal(azl_execcred_run(cfg, 0, &c), 0);
	assert_null(c.token);
	assert_string_equal(c.client_cert_pem.buf, "-----BEGIN CERTIFICATE-----\nX\n");
	assert_string_equal(c.client_key_pem.buf, "-----BEGIN PRIVATE KEY-----\nY\n");
	assert_true(azl_credential_valid(&c, time(NULL)));
	azl_credential_release(&c);
	azl_rest_config_free(cfg);
}

/* The script itself refuses to answer unless KUBERNETES_EXEC_INFO, args
 * and env are exactly what client-go would pass. */
static void test_cluster_info_args_env(void **state)
{
	struct azl_rest_config *cfg = config(V1,
		"      interactiveMode: Never\n      provideClusterInfo: true\n"
		"      args: [get-token, --server-id, 6dae42f8]\n"
		"      env: [{name: AAD_LOGIN_METHOD, value: azurecli}, {name: HOME, value: /elsewhere}]\n",
		"    certificate-authority-data: " CA_B64 "\n    tls-server-name: api.example\n"
		"    proxy-url: http://proxy:3128\n    disable-compression: true\n");
	const char *want = "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"spec\":{\"cluster\":{"
			   "\"server\":\"https://10.1.2.3:443\",\"tls-server-name\":\"api.example\","
			   "\"certificate-authority-data\":\"" CA_B64 "\",\"proxy-url\":\"http://proxy:3128\","
			   "\"disable-compression\":true},\"interactive\":false}}";
	struct strbuf body = STRBUF_INIT;
	struct azl_credential c;
	(void)state;
	free(tu_write(dir, "want-info", want, 0644));
	free(tu_write(dir, "out.json", "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		      "\"status\":{\"token\":\"checked\"}}", 0644));
	strbuf_addf(&body,
		    "[ \"$KUBERNETES_EXEC_INFO\" = \"$(cat '%s/want-info')\" ] || exit 3\n"
		    "[ \"$*\" = 'get-token --server-id 6dae42f8' ] || exit 4\n"
		    "[ \"$AAD_LOGIN_METHOD\" = azurecli ] && [ \"$HOME\" = /elsewhere ] || exit 5\n"
		    "[ -n \"$PATH\" ] || exit 6\n"
		    "cat '%s/out.json'", dir, dir);
	plugin(body.buf);
	assert_int_equal(azl_execcred_run(cfg, 0, &c), 0);
	assert_string_equal(c.token, "checked");
	azl_credential_release(&c);
	strbuf_release(&body);
	azl_rest_config_free(cfg);
}

static void test_cluster_info_insecure(void **state)
{
	struct azl_rest_config *cfg = config(V1BETA1, "      provideClusterInfo: true\n",
					     "    insecure-skip-tls-verify: true\n");
	struct azl_credential c;
	cJSON *info;
	char *text;
	(void)state;
	plugin_prints("{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}");
	assert_int_equal(azl_execcred_run(cfg, 0, &c), 0);
	text = exec_info();
	info = cJSON_Parse(text);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(info, "spec"), "cluster"),
						     "insecure-skip-tls-verify")));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(info, "spec"), "cluster"),
					"certificate-authority-data"));
	cJSON_Delete(info);
	free(text);
	azl_credential_release(&c);
	azl_rest_config_free(cfg);
}

/* Runs a plugin for a user with mode and checks spec.interactive. */
static void check_interactive(const char *mode_yaml, int tty, const char *want)
{
	struct azl_rest_config *cfg = config(V1, mode_yaml, NULL);
	struct azl_credential c;
	char *info;
	assert_int_equal(azl_execcred_run(cfg, tty, &c), 0);
	info = exec_info();
	assert_non_null(strstr(info, want));
	free(info);
	azl_credential_release(&c);
	azl_rest_config_free(cfg);
}

static void test_interactive_modes(void **state)
{
	struct azl_rest_config *cfg = config(V1, "      interactiveMode: Always\n", NULL);
	(void)state;
	plugin_prints("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}");
	run_fails(cfg, 0, AZL_EINVALID,
		  "exec plugin @ is configured to be interactive but standard input is not a terminal");
	azl_rest_config_free(cfg);
	/* with a terminal, Always runs and says so; IfAvailable follows the
	 * terminal; Never ignores it */
	check_interactive("      interactiveMode: Always\n", 1, "\"interactive\":true");
	check_interactive("      interactiveMode: IfAvailable\n", 1, "\"interactive\":true");
	check_interactive("      interactiveMode: IfAvailable\n", 0, "\"interactive\":false");
	check_interactive("      interactiveMode: Never\n", 1, "\"interactive\":false");
}

/* Not interactive: stdin is /dev/null, so a plugin that reads it sees EOF
 * at once instead of hanging on ours. */
static void test_stdin_closed_when_not_interactive(void **state)
{
	struct azl_rest_config *cfg = config(V1, "      interactiveMode: Never\n", NULL);
	struct azl_credential c;
	(void)state;
	plugin("input=$(cat)\nprintf '{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
	       "\"status\":{\"token\":\"read-%s\"}}' \"${#input}\"");
	assert_int_equal(azl_execcred_run(cfg, 0, &c), 0);
	assert_string_equal(c.token, "read-0");
	azl_credential_release(&c);
	azl_rest_config_free(cfg);
}

static void test_version_mismatch(void **state)
{
	struct azl_rest_config *cfg = config(V1, "      interactiveMode: Never\n", NULL);
	(void)state;
	plugin_prints("{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"SECRET\"}}");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin is configured to use API version " V1
		  ", plugin returned version " V1BETA1);
	plugin_prints("{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"SECRET\"}}");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin is configured to use API version " V1
		  ", plugin returned version (none)");
	azl_rest_config_free(cfg);
}

static void test_bad_outputs(void **state)
{
	struct azl_rest_config *cfg = config(V1, "      interactiveMode: Never\n", NULL);
	(void)state;
	plugin_prints("token: SECRET\n");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin @ returned output that is not an ExecCredential JSON object "
		  "(14 bytes on stdout)");
	plugin_prints("");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin @ returned output that is not an ExecCredential JSON object "
		  "(0 bytes on stdout)");
	plugin_prints("{\"apiVersion\":\"" V1 "\",\"kind\":\"Secret\",\"status\":{\"token\":\"SECRET\"}}");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin @ returned kind \"Secret\", expected ExecCredential");
	plugin_prints("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\"}");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin @ didn't return a status field");
	plugin_prints("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{}}");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin @ didn't return a token or cert/key pair");
	plugin_prints("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"c\"}}");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin @ returned only certificate or key, not both");
	plugin_prints("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":12345}}");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin @ returned a status.token that is not a string");
	plugin_prints("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"SECRET\","
		      "\"expirationTimestamp\":\"tomorrow\"}}");
	run_fails(cfg, 0, AZL_EINVALID, "exec plugin @ returned an invalid status.expirationTimestamp: invalid "
		  "timestamp \"tomorrow\": expected RFC 3339, e.g. 2024-05-01T10:00:00Z");
	azl_rest_config_free(cfg);
}

static void test_failing_plugin(void **state)
{
	struct azl_rest_config *cfg = config(V1, "      interactiveMode: Never\n", NULL);
	(void)state;
	plugin("echo 'the plugin explains itself on stderr' >&2\necho SECRET\nexit 7");
	run_fails(cfg, 0, AZL_ERROR, "exec: executable @ failed with exit code 7");
	azl_rest_config_free(cfg);
}

static void test_not_found_with_hint(void **state)
{
	struct azl_rest_config *cfg = config(V1, "      interactiveMode: Never\n"
					     "      installHint: |\n        kubelogin is required.\n"
					     "        See https://aka.ms/kubelogin\n", NULL);
	struct azl_rest_config *bare = config(V1, "      interactiveMode: Never\n", NULL);
	(void)state;
	/* no ./plugin was written */
	run_fails(cfg, 0, AZL_ENOTFOUND, "exec: executable @ not found; kubelogin is required. See https://aka.ms/kubelogin");
	run_fails(bare, 0, AZL_ENOTFOUND, "exec: executable @ not found");
	azl_rest_config_free(cfg);
	azl_rest_config_free(bare);
}

static void test_no_exec_config(void **state)
{
	struct azl_rest_config cfg;
	struct azl_credential c;
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.user_name = (char *)"alice";
	assert_int_equal(azl_execcred_run(&cfg, 0, &c), AZL_EINVALID);
	assert_string_equal(azl_error_message(), "user \"alice\" has no exec credential plugin");
	azl_credential_release(&c);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_v1_token_with_offset_expiry),
		T(test_v1beta1_fraction_expiry_and_default_mode),
		T(test_no_expiry_is_valid_until_dropped),
		T(test_cert_output),
		T(test_cluster_info_args_env),
		T(test_cluster_info_insecure),
		T(test_interactive_modes),
		T(test_stdin_closed_when_not_interactive),
		T(test_version_mismatch),
		T(test_bad_outputs),
		T(test_failing_plugin),
		T(test_not_found_with_hint),
		T(test_no_exec_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
