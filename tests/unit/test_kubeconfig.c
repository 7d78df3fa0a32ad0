#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"
#include "error.h"
#include "kubeconfig.h"
#include "testutil.h"

/* PEM-ish payloads; only their bytes matter here. */
#define CA_PEM "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
#define CERT_PEM "CERT PEM\n"
#define CERT_B64 "Q0VSVCBQRU0K"
#define KEY_PEM "KEY PEM\n"
#define KEY_B64 "S0VZIFBFTQo="

struct fx {
	char *dir;
	char *cwd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char buf[4096];
	f->dir = tu_mkdtemp();
	f->cwd = strdup(getcwd(buf, sizeof(buf)));
	setenv("HOME", f->dir, 1);
	unsetenv("KUBECONFIG");
	azl_error_clear();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (chdir(f->cwd) < 0)
		return -1;
	tu_rmrf(f->dir);
	free(f->dir);
	free(f->cwd);
	free(f);
	return 0;
}

/* Writes dir/name and returns its path (owned by a static ring, so tests
 * need not free it). */
static const char *put(struct fx *f, const char *name, const char *text)
{
	static char *ring[16];
	static unsigned next;
	char *p = tu_write(f->dir, name, text, 0600);
	free(ring[next % 16]);
	ring[next++ % 16] = p;
	return p;
}

static void mkdir_in(struct fx *f, const char *name)
{
	char *p = tu_path(f->dir, name);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
}

static struct azl_kubeconfig *load_ok(const char *path)
{
	struct azl_kubeconfig *kc = NULL;
	int rc = azl_kubeconfig_load(&kc, path);
	if (rc)
		fail_msg("load failed: %s", azl_error_message());
	return kc;
}

/* Loads text as the --kubeconfig file and resolves it. */
static int resolve_text(struct fx *f, const char *text, const struct azl_kube_overrides *ov,
			struct azl_rest_config **cfg)
{
	struct azl_kubeconfig *kc = NULL;
	int rc = azl_kubeconfig_load(&kc, put(f, "config", text));
	*cfg = NULL;
	if (!rc)
		rc = azl_kubeconfig_resolve(kc, ov, cfg);
	azl_kubeconfig_free(kc);
	return rc;
}

static struct azl_rest_config *resolve_ok(struct fx *f, const char *text, const struct azl_kube_overrides *ov)
{
	struct azl_rest_config *cfg = NULL;
	if (resolve_text(f, text, ov, &cfg))
		fail_msg("resolve failed: %s", azl_error_message());
	return cfg;
}

/* want with every "@" replaced by path. */
static void expand_at(struct strbuf *out, const char *want, const char *path)
{
	for (const char *p = want; *p; p++) {
		if (*p == '@')
			strbuf_addstr(out, path);
		else
			strbuf_addch(out, *p);
	}
}

/* Asserts that resolving text fails with code and exactly the message
 * (with "@" standing for the kubeconfig path). */
static void resolve_fails(struct fx *f, const char *text, const struct azl_kube_overrides *ov,
			  int code, const char *want)
{
	struct azl_rest_config *cfg = NULL;
	struct strbuf exp = STRBUF_INIT;
	char *path = tu_path(f->dir, "config");
	int rc = resolve_text(f, text, ov, &cfg);

	expand_at(&exp, want, path);
	assert_null(cfg);
	assert_int_equal(rc, code);
	assert_string_equal(azl_error_message(), exp.buf);
	strbuf_release(&exp);
	free(path);
}

#define CTX(name, cluster, user) \
	"- name: " name "\n  context: {cluster: " cluster ", user: " user "}\n"
/* a context without a user: anonymous */
#define CTX0(name, cluster) "- name: " name "\n  context: {cluster: " cluster "}\n"

static const char basic_cfg[] =
	"apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
	"clusters:\n- name: c1\n  cluster:\n    server: https://10.0.0.1:443\n"
	"    certificate-authority-data: " CA_B64 "\n"
	"users:\n- name: u1\n  user:\n    token: sekrit-token-value\n"
	"contexts:\n" CTX("dev", "c1", "u1");

/* ---------------- loading and merging ---------------- */

static void test_basic_resolve(void **state)
{
	struct azl_rest_config *cfg = resolve_ok(*state, basic_cfg, NULL);
	assert_string_equal(cfg->context_name, "dev");
	assert_string_equal(cfg->cluster_name, "c1");
	assert_string_equal(cfg->user_name, "u1");
	assert_string_equal(cfg->namespace_, "default");
	assert_string_equal(cfg->server, "https://10.0.0.1:443");
	assert_string_equal(cfg->ca_pem.buf, CA_PEM);
	assert_string_equal(cfg->token, "sekrit-token-value");
	assert_null(cfg->exec);
	assert_null(cfg->tls_server_name);
	assert_int_equal(cfg->insecure_skip_tls_verify, 0);
	assert_int_equal(cfg->timeout_ms, 0);
	assert_non_null(strstr(cfg->source_file, "/config"));
	azl_rest_config_free(cfg);
}

static void test_explicit_missing(void **state)
{
	struct fx *f = *state;
	struct azl_kubeconfig *kc = (void *)1;
	char *path = tu_path(f->dir, "nope");
	struct strbuf want = STRBUF_INIT;
	assert_int_equal(azl_kubeconfig_load(&kc, path), AZL_ENOTFOUND);
	assert_null(kc);
	strbuf_addf(&want, "kubeconfig %s does not exist; check the --kubeconfig path", path);
	assert_string_equal(azl_error_message(), want.buf);
	strbuf_release(&want);
	free(path);
}

static void test_explicit_ignores_env(void **state)
{
	struct fx *f = *state;
	const char *a = put(f, "a", "current-context: from-a\ncontexts:\n" CTX("from-a", "x", "y"));
	const char *b = put(f, "b", "current-context: from-b\ncontexts:\n" CTX("from-b", "x", "y"));
	struct azl_kubeconfig *kc;
	setenv("KUBECONFIG", a, 1);
	kc = load_ok(b);
	assert_string_equal(azl_kubeconfig_current_context(kc), "from-b");
	assert_int_equal(azl_kubeconfig_context_count(kc), 1);
	azl_kubeconfig_free(kc);
}

static void test_home_default(void **state)
{
	struct fx *f = *state;
	struct azl_kubeconfig *kc;
	mkdir_in(f, ".kube");
	put(f, ".kube/config", basic_cfg);
	kc = load_ok(NULL);
	assert_string_equal(azl_kubeconfig_current_context(kc), "dev");
	azl_kubeconfig_free(kc);
}

static void test_home_missing_is_empty(void **state)
{
	struct fx *f = *state;
	struct azl_kubeconfig *kc = load_ok(NULL);
	struct azl_rest_config *cfg = (void *)1;
	struct strbuf want = STRBUF_INIT;
	assert_int_equal(azl_kubeconfig_context_count(kc), 0);
	assert_null(azl_kubeconfig_current_context(kc));
	assert_int_equal(azl_kubeconfig_resolve(kc, NULL, &cfg), AZL_EINVALID);
	assert_null(cfg);
	strbuf_addf(&want, "no configuration has been provided: %s/.kube/config, which does not exist; "
		    "run az aks get-credentials or pass --kubeconfig", f->dir);
	assert_string_equal(azl_error_message(), want.buf);
	strbuf_release(&want);
	azl_kubeconfig_free(kc);
}

static void test_env_all_missing(void **state)
{
	struct fx *f = *state;
	struct azl_kubeconfig *kc;
	struct azl_rest_config *cfg;
	struct strbuf env = STRBUF_INIT, want = STRBUF_INIT;
	strbuf_addf(&env, "%s/m1::%s/m2", f->dir, f->dir);
	setenv("KUBECONFIG", env.buf, 1);
	kc = load_ok(NULL);
	assert_int_equal(azl_kubeconfig_resolve(kc, NULL, &cfg), AZL_EINVALID);
	strbuf_addf(&want, "no configuration has been provided: KUBECONFIG names %s/m1, %s/m2, which do not exist; "
		    "run az aks get-credentials or pass --kubeconfig", f->dir, f->dir);
	assert_string_equal(azl_error_message(), want.buf);
	azl_kubeconfig_free(kc);
	strbuf_release(&env);
	strbuf_release(&want);
}

static void test_merge_first_wins(void **state)
{
	struct fx *f = *state;
	const char *a = put(f, "a",
		"current-context: \"\"\n"
		"clusters:\n- name: cow\n  cluster:\n    server: https://a.example\n"
		"users:\n- name: u\n  user: {token: token-a}\n"
		"contexts:\n" CTX("ctx-a", "cow", "u"));
	const char *b = put(f, "b",
		"current-context: ctx-b\n"
		"clusters:\n- name: cow\n  cluster:\n    server: https://b.example\n"
		"    insecure-skip-tls-verify: true\n    disable-compression: true\n"
		"- name: pig\n  cluster: {server: 'https://pig.example'}\n"
		"users:\n- name: u\n  user: {token: token-b, tokenFile: /nonexistent}\n"
		"contexts:\n" CTX("ctx-b", "cow", "u") CTX("ctx-a", "pig", "u"));
	struct strbuf env = STRBUF_INIT;
	struct azl_kubeconfig *kc;
	struct azl_rest_config *cfg;

	strbuf_addf(&env, "%s:%s", a, b);
	setenv("KUBECONFIG", env.buf, 1);
	kc = load_ok(NULL);
	/* first non-empty current-context wins */
	assert_string_equal(azl_kubeconfig_current_context(kc), "ctx-b");
	assert_int_equal(azl_kubeconfig_context_count(kc), 2);
	assert_string_equal(azl_kubeconfig_context_name(kc, 0), "ctx-a");
	assert_string_equal(azl_kubeconfig_context_name(kc, 1), "ctx-b");
	assert_null(azl_kubeconfig_context_name(kc, 2));
	assert_int_equal(azl_kubeconfig_resolve(kc, NULL, &cfg), 0);
	/* the whole of a's "cow" wins: b's extra fields are dropped */
	assert_string_equal(cfg->server, "https://a.example");
	assert_int_equal(cfg->insecure_skip_tls_verify, 0);
	assert_int_equal(cfg->disable_compression, 0);
	assert_string_equal(cfg->token, "token-a");
	assert_null(cfg->token_file);
	assert_string_equal(cfg->source_file, b);
	azl_rest_config_free(cfg);
	/* ctx-a comes from a (cluster cow), not from b (cluster pig) */
	{
		struct azl_kube_overrides ov = { .context = "ctx-a" };
		assert_int_equal(azl_kubeconfig_resolve(kc, &ov, &cfg), 0);
		assert_string_equal(cfg->cluster_name, "cow");
		assert_string_equal(cfg->source_file, a);
		azl_rest_config_free(cfg);
	}
	azl_kubeconfig_free(kc);
	strbuf_release(&env);
}

static void test_env_three_files_missing_dup_empty(void **state)
{
	struct fx *f = *state;
	const char *a = put(f, "a", "contexts:\n" CTX("one", "c", "u"));
	const char *b = put(f, "b", "current-context: two\ncontexts:\n" CTX("two", "c", "u") CTX("one", "x", "y"));
	const char *c = put(f, "c", "current-context: three\ncontexts:\n" CTX("three", "c", "u"));
	struct strbuf env = STRBUF_INIT;
	struct azl_kubeconfig *kc;
	const char *cluster = NULL, *server = (void *)1;

	strbuf_addf(&env, ":%s::%s/missing:%s:%s:%s:", a, f->dir, a, b, c);
	setenv("KUBECONFIG", env.buf, 1);
	kc = load_ok(NULL);
	assert_string_equal(azl_kubeconfig_current_context(kc), "two");
	assert_int_equal(azl_kubeconfig_context_count(kc), 3);
	assert_string_equal(azl_kubeconfig_context_name(kc, 0), "one");
	assert_string_equal(azl_kubeconfig_context_name(kc, 1), "two");
	assert_string_equal(azl_kubeconfig_context_name(kc, 2), "three");
	assert_int_equal(azl_kubeconfig_context_info(kc, "one", &cluster, &server), 0);
	assert_string_equal(cluster, "c");
	assert_null(server);
	assert_int_equal(azl_kubeconfig_context_info(kc, "nope", &cluster, &server), AZL_ENOTFOUND);
	azl_kubeconfig_free(kc);
	strbuf_release(&env);
}

static void test_env_unreadable_file_is_error(void **state)
{
	struct fx *f = *state;
	struct azl_kubeconfig *kc = NULL;
	struct strbuf env = STRBUF_INIT, want = STRBUF_INIT;
	mkdir_in(f, "adir");
	strbuf_addf(&env, "%s/adir", f->dir);
	setenv("KUBECONFIG", env.buf, 1);
	assert_int_equal(azl_kubeconfig_load(&kc, NULL), AZL_EINVALID);
	strbuf_addf(&want, "cannot read kubeconfig %s/adir: Is a directory", f->dir);
	assert_string_equal(azl_error_message(), want.buf);
	strbuf_release(&env);
	strbuf_release(&want);
}

static void test_duplicate_name_in_one_file(void **state)
{
	struct fx *f = *state;
	struct azl_kubeconfig *kc = NULL;
	const char *p = put(f, "dup", "clusters:\n- name: a\n  cluster: {server: https://x}\n"
			    "- name: b\n- name: a\n  cluster: {server: https://y}\n");
	struct strbuf want = STRBUF_INIT;
	assert_int_equal(azl_kubeconfig_load(&kc, p), AZL_EINVALID);
	strbuf_addf(&want, "error loading %s: duplicate name \"a\" in clusters (clusters[0] and clusters[2])", p);
	assert_string_equal(azl_error_message(), want.buf);
	strbuf_release(&want);
}

static void test_context_info(void **state)
{
	struct fx *f = *state;
	struct azl_kubeconfig *kc = load_ok(put(f, "config", basic_cfg));
	const char *cluster = NULL, *server = NULL;
	assert_int_equal(azl_kubeconfig_context_info(kc, "dev", &cluster, &server), 0);
	assert_string_equal(cluster, "c1");
	assert_string_equal(server, "https://10.0.0.1:443");
	azl_kubeconfig_free(kc);
}

/* ---------------- context selection ---------------- */

static void test_no_current_context(void **state)
{
	resolve_fails(*state, "clusters:\n- name: c\n  cluster: {server: https://x}\ncontexts:\n" CTX("a", "c", "u"),
		      NULL, AZL_EINVALID,
		      "current-context is not set in @; pass --context or run kubectl config use-context");
}

static void test_context_flag_not_found(void **state)
{
	struct azl_kube_overrides ov = { .context = "prod" };
	resolve_fails(*state, basic_cfg, &ov, AZL_ENOTFOUND,
		      "context \"prod\" (--context) not found in @; run kubectl config get-contexts to list them");
}

static void test_current_context_not_found(void **state)
{
	resolve_fails(*state, "current-context: gone\ncontexts:\n" CTX("a", "c", "u"), NULL, AZL_ENOTFOUND,
		      "current-context \"gone\" set in @ not found in @; pass --context or run kubectl config use-context");
}

static void test_cluster_and_user_not_found(void **state)
{
	struct azl_kube_overrides ov = { .cluster = "other" };
	resolve_fails(*state, "current-context: a\ncontexts:\n" CTX("a", "nocluster", "u"), NULL, AZL_ENOTFOUND,
		      "context \"a\" in @ refers to cluster \"nocluster\", which is not defined in @");
	resolve_fails(*state, basic_cfg, &ov, AZL_ENOTFOUND, "cluster \"other\" (--cluster) not found in @");
	ov.cluster = NULL;
	ov.user = "nobody";
	resolve_fails(*state, basic_cfg, &ov, AZL_ENOTFOUND, "user \"nobody\" (--user) not found in @");
}

static void test_cluster_user_flags(void **state)
{
	static const char text[] =
		"current-context: dev\n"
		"clusters:\n- name: c1\n  cluster: {server: https://one}\n- name: c2\n  cluster: {server: https://two}\n"
		"users:\n- name: u1\n  user: {token: t1}\n- name: u2\n  user: {token: t2}\n"
		"contexts:\n" CTX("dev", "c1", "u1");
	struct azl_kube_overrides ov = { .cluster = "c2", .user = "u2", .request_timeout_ms = 1500 };
	struct azl_rest_config *cfg = resolve_ok(*state, text, &ov);
	assert_string_equal(cfg->server, "https://two");
	assert_string_equal(cfg->cluster_name, "c2");
	assert_string_equal(cfg->user_name, "u2");
	assert_string_equal(cfg->token, "t2");
	assert_int_equal(cfg->timeout_ms, 1500);
	azl_rest_config_free(cfg);
}

static void test_namespace_precedence(void **state)
{
	static const char text[] =
		"current-context: a\n"
		"clusters:\n- name: c\n  cluster: {server: https://x}\n"
		"contexts:\n- name: a\n  context: {cluster: c, namespace: team}\n"
		"- name: b\n  context: {cluster: c}\n";
	struct azl_kube_overrides ov = { 0 };
	struct azl_rest_config *cfg = resolve_ok(*state, text, &ov);
	assert_string_equal(cfg->namespace_, "team");
	/* no user: anonymous */
	assert_string_equal(cfg->user_name, "");
	assert_null(cfg->token);
	azl_rest_config_free(cfg);
	ov.namespace_ = "flag";
	cfg = resolve_ok(*state, text, &ov);
	assert_string_equal(cfg->namespace_, "flag");
	azl_rest_config_free(cfg);
	ov.namespace_ = NULL;
	ov.context = "b";
	cfg = resolve_ok(*state, text, &ov);
	assert_string_equal(cfg->namespace_, "default");
	azl_rest_config_free(cfg);
}

static void test_server_flag_without_config(void **state)
{
	struct azl_kube_overrides ov = { .server = "https://flag.example", .token = "tok" };
	struct azl_rest_config *cfg = resolve_ok(*state, "", &ov);
	assert_string_equal(cfg->server, "https://flag.example");
	assert_string_equal(cfg->token, "tok");
	assert_string_equal(cfg->namespace_, "default");
	azl_rest_config_free(cfg);
}

/* ---------------- cluster fields ---------------- */

static void test_cluster_fields(void **state)
{
	static const char text[] =
		"current-context: a\n"
		"clusters:\n- name: c\n  cluster:\n"
		"    server: http://127.0.0.1:8080/prefix\n"
		"    tls-server-name: api.example\n"
		"    proxy-url: socks5://127.0.0.1:1080\n"
		"    insecure-skip-tls-verify: yes\n"
		"    disable-compression: True\n"
		"contexts:\n" CTX0("a", "c");
	struct azl_rest_config *cfg = resolve_ok(*state, text, NULL);
	assert_string_equal(cfg->server, "http://127.0.0.1:8080/prefix");
	assert_string_equal(cfg->tls_server_name, "api.example");
	assert_string_equal(cfg->proxy_url, "socks5://127.0.0.1:1080");
	assert_int_equal(cfg->insecure_skip_tls_verify, 1);
	assert_int_equal(cfg->disable_compression, 1);
	assert_int_equal(cfg->ca_pem.len, 0);
	azl_rest_config_free(cfg);
}

static void test_server_required_and_scheme(void **state)
{
	resolve_fails(*state, "current-context: a\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n" CTX0("a", "c"),
		      NULL, AZL_EINVALID, "cluster \"c\" in @ has no server; set clusters[0].cluster.server");
	resolve_fails(*state, "current-context: a\nclusters:\n- name: c\n  cluster: {server: 10.0.0.1:443}\ncontexts:\n"
		      CTX0("a", "c"), NULL, AZL_EINVALID,
		      "server \"10.0.0.1:443\" of cluster \"c\" must start with https:// or http://");
}

static void test_proxy_url_scheme(void **state)
{
	resolve_fails(*state, "current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x, "
		      "proxy-url: 'ftp://proxy:21'}\ncontexts:\n" CTX0("a", "c"), NULL, AZL_EINVALID,
		      "cluster \"c\" in @: invalid proxy-url \"ftp://proxy:21\": the scheme must be http, https, or socks5");
}

static void test_ca_relative_path(void **state)
{
	struct fx *f = *state;
	struct azl_rest_config *cfg;
	mkdir_in(f, "certs");
	put(f, "certs/ca.pem", CA_PEM);
	/* relative to the kubeconfig, not to the working directory */
	assert_int_equal(chdir("/"), 0);
	cfg = resolve_ok(f, "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: https://x\n"
			 "    certificate-authority: certs/ca.pem\ncontexts:\n" CTX0("a", "c"), NULL);
	assert_string_equal(cfg->ca_pem.buf, CA_PEM);
	azl_rest_config_free(cfg);
}

static void test_ca_relative_to_relative_kubeconfig(void **state)
{
	struct fx *f = *state;
	struct azl_kubeconfig *kc;
	struct azl_rest_config *cfg;
	mkdir_in(f, "sub");
	put(f, "sub/ca.pem", CA_PEM);
	put(f, "sub/kc", "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: https://x\n"
	    "    certificate-authority: ca.pem\ncontexts:\n" CTX0("a", "c"));
	assert_int_equal(chdir(f->dir), 0);
	kc = load_ok("sub/kc");
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(azl_kubeconfig_resolve(kc, NULL, &cfg), 0);
	assert_string_equal(cfg->ca_pem.buf, CA_PEM);
	azl_rest_config_free(cfg);
	azl_kubeconfig_free(kc);
}

static void test_ca_file_missing(void **state)
{
	struct fx *f = *state;
	struct strbuf want = STRBUF_INIT;
	strbuf_addf(&want, "cluster \"c\" in @: unable to read certificate-authority %s/nope.pem: No such file or directory",
		    f->dir);
	resolve_fails(f, "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: https://x\n"
		      "    certificate-authority: nope.pem\ncontexts:\n" CTX0("a", "c"), NULL, AZL_EINVALID, want.buf);
	strbuf_release(&want);
}

static void test_ca_insecure_conflict(void **state)
{
	resolve_fails(*state, "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: https://x\n"
		      "    insecure-skip-tls-verify: true\n    certificate-authority-data: " CA_B64 "\ncontexts:\n"
		      CTX0("a", "c"), NULL, AZL_EINVALID,
		      "cluster \"c\" in @: specifying a root certificates file with the insecure flag is not allowed");
}

static void test_ca_both_forms(void **state)
{
	resolve_fails(*state, "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: https://x\n"
		      "    certificate-authority: /etc/hostname\n    certificate-authority-data: " CA_B64 "\ncontexts:\n"
		      CTX0("a", "c"), NULL, AZL_EINVALID,
		      "cluster \"c\" in @: certificate-authority-data and certificate-authority are both specified; "
		      "remove one");
}

static void test_bad_base64(void **state)
{
	struct fx *f = *state;
	struct azl_kubeconfig *kc = NULL;
	const char *p = put(f, "config", "clusters:\n- name: ok\n  cluster: {server: https://x}\n"
			    "- name: broken\n  cluster:\n    server: https://x\n"
			    "    certificate-authority-data: LS0t*LS1\n");
	struct strbuf want = STRBUF_INIT;
	assert_int_equal(azl_kubeconfig_load(&kc, p), AZL_EINVALID);
	strbuf_addf(&want, "error loading %s: clusters[1].cluster.certificate-authority-data of \"broken\": "
		    "invalid base64 data: unexpected character at offset 4", p);
	assert_string_equal(azl_error_message(), want.buf);
	strbuf_release(&want);
}

/* ---------------- user fields ---------------- */

static const char user_head[] =
	"current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x}\n"
	"contexts:\n" CTX("a", "c", "u") "users:\n- name: u\n  user:\n";

static char *with_user(const char *user_yaml)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s%s", user_head, user_yaml);
	return strbuf_detach(&sb, NULL);
}

static void user_fails(void **state, const char *user_yaml, const struct azl_kube_overrides *ov,
		       const char *want)
{
	char *text = with_user(user_yaml);
	resolve_fails(*state, text, ov, AZL_EINVALID, want);
	free(text);
}

static struct azl_rest_config *user_ok(void **state, const char *user_yaml, const struct azl_kube_overrides *ov)
{
	char *text = with_user(user_yaml);
	struct azl_rest_config *cfg = resolve_ok(*state, text, ov);
	free(text);
	return cfg;
}

static void test_client_cert_data(void **state)
{
	struct azl_rest_config *cfg = user_ok(state, "    client-certificate-data: " CERT_B64 "\n"
					      "    client-key-data: " KEY_B64 "\n", NULL);
	assert_string_equal(cfg->client_cert_pem.buf, CERT_PEM);
	assert_string_equal(cfg->client_key_pem.buf, KEY_PEM);
	assert_null(cfg->token);
	azl_rest_config_free(cfg);
}

static void test_client_cert_relative_files(void **state)
{
	struct fx *f = *state;
	struct azl_rest_config *cfg;
	mkdir_in(f, "pki");
	put(f, "pki/c.crt", CERT_PEM);
	put(f, "pki/c.key", KEY_PEM);
	assert_int_equal(chdir("/"), 0);
	cfg = user_ok(state, "    client-certificate: pki/c.crt\n    client-key: ./pki/c.key\n", NULL);
	assert_string_equal(cfg->client_cert_pem.buf, CERT_PEM);
	assert_string_equal(cfg->client_key_pem.buf, KEY_PEM);
	azl_rest_config_free(cfg);
}

static void test_client_key_missing_file(void **state)
{
	struct fx *f = *state;
	struct strbuf want = STRBUF_INIT;
	put(f, "c.crt", CERT_PEM);
	strbuf_addf(&want, "user \"u\" in @: unable to read client-key %s/k.key: No such file or directory", f->dir);
	user_fails(state, "    client-certificate: c.crt\n    client-key: k.key\n", NULL, want.buf);
	strbuf_release(&want);
}

static void test_cert_without_key(void **state)
{
	user_fails(state, "    client-certificate-data: " CERT_B64 "\n", NULL,
		   "user \"u\" in @: client-key-data or client-key must be specified to use the clientCert "
		   "authentication method");
	user_fails(state, "    client-key-data: " KEY_B64 "\n", NULL,
		   "user \"u\" in @: client-certificate-data or client-certificate must be specified to use the "
		   "clientCert authentication method");
	user_fails(state, "    client-certificate-data: " CERT_B64 "\n    client-certificate: /etc/hostname\n"
		   "    client-key-data: " KEY_B64 "\n", NULL,
		   "user \"u\" in @: client-certificate-data and client-certificate are both specified; remove one");
}

static void test_token_file_relative_and_precedence(void **state)
{
	struct fx *f = *state;
	struct azl_rest_config *cfg;
	put(f, "tok", "  file-token\n");
	assert_int_equal(chdir("/"), 0);
	cfg = user_ok(state, "    token: inline\n    tokenFile: tok\n", NULL);
	/* the file's content wins over token, as in client-go */
	assert_string_equal(cfg->token, "file-token");
	assert_non_null(strstr(cfg->token_file, "/tok"));
	assert_int_equal(cfg->token_file[0], '/');
	azl_rest_config_free(cfg);
}

static void test_token_file_errors(void **state)
{
	struct fx *f = *state;
	struct strbuf want = STRBUF_INIT;
	strbuf_addf(&want, "user \"u\" in @: unable to read tokenFile %s/missing-token: No such file or directory", f->dir);
	user_fails(state, "    tokenFile: missing-token\n", NULL, want.buf);
	strbuf_reset(&want);
	put(f, "empty-token", " \n");
	strbuf_addf(&want, "user \"u\" in @: tokenFile %s/empty-token is empty", f->dir);
	user_fails(state, "    tokenFile: empty-token\n", NULL, want.buf);
	strbuf_release(&want);
}

static void test_exec_fields(void **state)
{
	struct fx *f = *state;
	struct azl_rest_config *cfg;
	struct strbuf want = STRBUF_INIT;
	cfg = user_ok(state,
		      "    exec:\n"
		      "      apiVersion: client.authentication.k8s.io/v1\n"
		      "      command: ./bin/kubelogin\n"
		      "      args: [get-token, --login, azurecli, '', 42]\n"
		      "      env:\n      - {name: AAD_LOGIN_METHOD, value: azurecli}\n      - name: EMPTY\n"
		      "      installHint: |\n        install kubelogin\n        from https://aka.ms/kubelogin\n"
		      "      provideClusterInfo: true\n"
		      "      interactiveMode: Never\n", NULL);
	assert_non_null(cfg->exec);
	strbuf_addf(&want, "%s/./bin/kubelogin", f->dir);
	assert_string_equal(cfg->exec->command, want.buf);
	assert_string_equal(cfg->exec->api_version, "client.authentication.k8s.io/v1");
	assert_string_equal(cfg->exec->args[0], "get-token");
	assert_string_equal(cfg->exec->args[2], "azurecli");
	assert_string_equal(cfg->exec->args[3], "");
	assert_string_equal(cfg->exec->args[4], "42");
	assert_null(cfg->exec->args[5]);
	assert_string_equal(cfg->exec->env[0], "AAD_LOGIN_METHOD=azurecli");
	assert_string_equal(cfg->exec->env[1], "EMPTY=");
	assert_null(cfg->exec->env[2]);
	assert_string_equal(cfg->exec->install_hint, "install kubelogin\nfrom https://aka.ms/kubelogin\n");
	assert_int_equal(cfg->exec->provide_cluster_info, 1);
	assert_int_equal(cfg->exec->interactive, AZL_EXEC_INTERACTIVE_NEVER);
	azl_rest_config_free(cfg);
	strbuf_release(&want);
}

static void test_exec_bare_command_and_v1beta1_default(void **state)
{
	struct azl_rest_config *cfg = user_ok(state,
		"    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin}\n", NULL);
	assert_string_equal(cfg->exec->command, "kubelogin");
	assert_null(cfg->exec->args[0]);
	assert_null(cfg->exec->env[0]);
	assert_null(cfg->exec->install_hint);
	assert_int_equal(cfg->exec->provide_cluster_info, 0);
	assert_int_equal(cfg->exec->interactive, AZL_EXEC_INTERACTIVE_IF_AVAILABLE);
	azl_rest_config_free(cfg);
	cfg = user_ok(state, "    exec: {apiVersion: client.authentication.k8s.io/v1, command: /abs/kubelogin, "
		      "interactiveMode: Always}\n", NULL);
	assert_string_equal(cfg->exec->command, "/abs/kubelogin");
	assert_int_equal(cfg->exec->interactive, AZL_EXEC_INTERACTIVE_ALWAYS);
	azl_rest_config_free(cfg);
}

static void test_exec_validation(void **state)
{
	user_fails(state, "    exec: {apiVersion: client.authentication.k8s.io/v1, command: k}\n", NULL,
		   "user \"u\" in @: interactiveMode must be specified to use the exec authentication plugin with "
		   "client.authentication.k8s.io/v1; set users[0].user.exec.interactiveMode to Never, IfAvailable or Always");
	user_fails(state, "    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: k}\n", NULL,
		   "user \"u\" in @: exec plugin: invalid apiVersion \"client.authentication.k8s.io/v1alpha1\"; use "
		   "client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1");
	user_fails(state, "    exec: {apiVersion: client.authentication.k8s.io/v1, command: k, interactiveMode: Sometimes}\n",
		   NULL, "user \"u\" in @: invalid interactiveMode \"Sometimes\"; use Never, IfAvailable or Always");
	user_fails(state, "    exec: {apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}\n", NULL,
		   "user \"u\" in @: command must be specified to use the exec authentication plugin "
		   "(users[0].user.exec.command)");
	user_fails(state, "    exec: {command: k}\n", NULL,
		   "user \"u\" in @: apiVersion must be specified to use the exec authentication plugin "
		   "(users[0].user.exec.apiVersion)");
	user_fails(state, "    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: k, env: [{value: x}]}\n",
		   NULL, "user \"u\" in @: env variable name must be specified to use the exec authentication plugin "
		   "(users[0].user.exec.env)");
}

static void test_exec_skipped_with_token(void **state)
{
	struct azl_kube_overrides ov = { .token = "flag-token" };
	struct azl_rest_config *cfg = user_ok(state,
		"    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin}\n", &ov);
	assert_null(cfg->exec);
	assert_string_equal(cfg->token, "flag-token");
	azl_rest_config_free(cfg);
}

static void test_auth_provider(void **state)
{
	user_fails(state, "    auth-provider:\n      name: azure\n      config: {apiserver-id: x}\n", NULL,
		   "user \"u\" in @ uses the removed azure auth-provider; convert it with "
		   "`kubelogin convert-kubeconfig -l azurecli`");
	user_fails(state, "    auth-provider: {name: gcp}\n", NULL,
		   "user \"u\" in @ uses the \"gcp\" auth-provider, which is not supported; use an exec credential "
		   "plugin instead");
	user_fails(state, "    auth-provider: {name: azure}\n    exec: {apiVersion: client.authentication.k8s.io/v1beta1, "
		   "command: k}\n", NULL,
		   "user \"u\" in @: auth-provider cannot be provided in combination with an exec plugin; remove one");
}

static void test_basic_auth(void **state)
{
	user_fails(state, "    username: admin\n    password: hunter2\n", NULL,
		   "user \"u\" in @ uses username/password (basic) authentication, which is not supported; "
		   "use a token, a client certificate or an exec credential plugin");
	/* client-go's wording; the token itself never appears */
	user_fails(state, "    username: admin\n    token: very-secret\n", NULL,
		   "user \"u\" in @: more than one authentication method found for u; found [token basicAuth], "
		   "only one is allowed");
}

/* ---------------- overrides ---------------- */

static void test_override_server_clears_tls_server_name(void **state)
{
	static const char text[] =
		"current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x, tls-server-name: kc.example}\n"
		"contexts:\n" CTX0("a", "c");
	struct azl_kube_overrides ov = { .server = "https://flag:6443" };
	struct azl_rest_config *cfg = resolve_ok(*state, text, &ov);
	assert_string_equal(cfg->server, "https://flag:6443");
	assert_null(cfg->tls_server_name);
	azl_rest_config_free(cfg);
	ov.tls_server_name = "flag.example";
	cfg = resolve_ok(*state, text, &ov);
	assert_string_equal(cfg->tls_server_name, "flag.example");
	azl_rest_config_free(cfg);
}

static void test_override_ca_and_insecure(void **state)
{
	struct fx *f = *state;
	char *ca = tu_write(f->dir, "flag-ca.pem", "FLAG CA\n", 0600);
	static const char text[] =
		"current-context: a\nclusters:\n- name: c\n  cluster:\n    server: https://x\n"
		"    certificate-authority-data: " CA_B64 "\n    certificate-authority: /nonexistent\n"
		"contexts:\n" CTX0("a", "c");
	struct azl_kube_overrides ov = { .certificate_authority = ca };
	struct azl_rest_config *cfg = resolve_ok(f, text, &ov);
	/* the flag replaces both kubeconfig forms, so no "both specified" */
	assert_string_equal(cfg->ca_pem.buf, "FLAG CA\n");
	assert_int_equal(cfg->insecure_skip_tls_verify, 0);
	azl_rest_config_free(cfg);
	ov.certificate_authority = NULL;
	ov.insecure_skip_tls_verify = 1;
	cfg = resolve_ok(f, text, &ov);
	assert_int_equal(cfg->ca_pem.len, 0);
	assert_int_equal(cfg->insecure_skip_tls_verify, 1);
	azl_rest_config_free(cfg);
	ov.certificate_authority = "/nonexistent/flag-ca";
	resolve_fails(f, text, &ov, AZL_EINVALID,
		      "cluster \"c\": specifying a root certificates file with the insecure flag is not allowed");
	ov.insecure_skip_tls_verify = 0;
	resolve_fails(f, text, &ov, AZL_EINVALID,
		      "unable to read --certificate-authority /nonexistent/flag-ca: No such file or directory");
	free(ca);
}

static void test_override_client_cert_and_token(void **state)
{
	struct fx *f = *state;
	char *crt = tu_write(f->dir, "flag.crt", "FLAG CERT\n", 0600);
	char *key = tu_write(f->dir, "flag.key", "FLAG KEY\n", 0600);
	struct azl_kube_overrides ov = { .client_certificate = crt, .client_key = key, .token = "flag-token" };
	struct azl_rest_config *cfg = user_ok(state,
		"    client-certificate-data: " CERT_B64 "\n    client-key-data: " KEY_B64 "\n"
		"    tokenFile: /nonexistent/token\n", &ov);
	assert_string_equal(cfg->client_cert_pem.buf, "FLAG CERT\n");
	assert_string_equal(cfg->client_key_pem.buf, "FLAG KEY\n");
	/* --token clears tokenFile, so the missing file is never read */
	assert_string_equal(cfg->token, "flag-token");
	assert_null(cfg->token_file);
	azl_rest_config_free(cfg);
	/* a context without a user still takes credentials from flags */
	ov.token = NULL;
	cfg = resolve_ok(f, "current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x}\n"
			 "contexts:\n" CTX0("a", "c"), &ov);
	assert_string_equal(cfg->client_cert_pem.buf, "FLAG CERT\n");
	assert_string_equal(cfg->client_key_pem.buf, "FLAG KEY\n");
	azl_rest_config_free(cfg);
	ov.client_key = NULL;
	resolve_fails(f, "current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x}\n"
		      "contexts:\n" CTX0("a", "c"), &ov, AZL_EINVALID,
		      "user \"(none)\" in the command-line flags: client-key-data or client-key must be specified "
		      "to use the clientCert authentication method");
	free(crt);
	free(key);
}

/* ---------------- malformed input ---------------- */

static void load_fails(struct fx *f, const char *text, const char *want)
{
	struct azl_kubeconfig *kc = (void *)1;
	const char *p = put(f, "bad", text);
	struct strbuf exp = STRBUF_INIT;
	expand_at(&exp, want, p);
	assert_int_equal(azl_kubeconfig_load(&kc, p), AZL_EINVALID);
	assert_null(kc);
	assert_string_equal(azl_error_message(), exp.buf);
	strbuf_release(&exp);
}

static void test_malformed_yaml(void **state)
{
	load_fails(*state, "clusters:\n- name: a\n  cluster: {server: https://x\nusers: []\n",
		   "error loading @: line 4, column 6: did not find expected ',' or '}'");
	load_fails(*state, "apiVersion: v1\nkind: Config\n  bad: indent\n",
		   "error loading @: line 3, column 6: mapping values are not allowed in this context");
	load_fails(*state, "a: \"\x01\"\n", "error loading @: byte 4: control characters are not allowed");
	load_fails(*state, "a: \xff\xfe\xfd\n", "error loading @: byte 3: invalid leading UTF-8 octet");
}

static void test_type_errors(void **state)
{
	load_fails(*state, "clusters:\n  c1:\n    server: https://x\n",
		   "error loading @: clusters must be a list, not a mapping (line 2, column 3)");
	load_fails(*state, "clusters:\n- name: a\n  cluster: {server: https://x}\n- name: b\n  cluster:\n"
		   "    server: [https://x]\n",
		   "error loading @: clusters[1].cluster.server must be a string, not a list (line 6, column 13)");
	load_fails(*state, "users:\n- name: u\n  user:\n    exec:\n      args: {a: b}\n",
		   "error loading @: users[0].user.exec.args must be a list, not a mapping (line 5, column 13)");
	load_fails(*state, "users:\n- name: u\n  user:\n    exec:\n      args: [a, [b]]\n",
		   "error loading @: users[0].user.exec.args[1] must be a string, not a list (line 5, column 17)");
	load_fails(*state, "contexts:\n- just-a-string\n",
		   "error loading @: contexts[0] must be a mapping with name and a body, not a string (line 2, column 3)");
	load_fails(*state, "clusters:\n- name: a\n  cluster: {insecure-skip-tls-verify: \"true\"}\n",
		   "error loading @: clusters[0].cluster.insecure-skip-tls-verify must be true or false, not a string "
		   "(line 3, column 39)");
	load_fails(*state, "- a\n- b\n",
		   "error loading @: the top level must be a mapping (clusters, users, contexts), not a list "
		   "(line 1, column 1)");
	load_fails(*state, "just text\n",
		   "error loading @: the top level must be a mapping (clusters, users, contexts), not a string "
		   "(line 1, column 1)");
}

static void test_empty_and_comment_files(void **state)
{
	struct fx *f = *state;
	const char *texts[] = { "", "# only a comment\n", "---\n", "~\n", "clusters:\nusers: null\ncontexts: ~\n" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		struct azl_kubeconfig *kc = load_ok(put(f, "empty", texts[i]));
		assert_int_equal(azl_kubeconfig_context_count(kc), 0);
		azl_kubeconfig_free(kc);
	}
}

static void test_anchors_aliases_tags(void **state)
{
	static const char text[] =
		"current-context: b\n"
		"clusters:\n- name: a\n  cluster: &c {server: !!str https://shared, disable-compression: !!bool true}\n"
		"- name: b\n  cluster: *c\n"
		"contexts:\n- name: b\n  context: {cluster: b}\n"
		"---\nsecond: document is ignored\n";
	struct azl_rest_config *cfg = resolve_ok(*state, text, NULL);
	assert_string_equal(cfg->server, "https://shared");
	azl_rest_config_free(cfg);
	load_fails(*state, "a: &x [1, *x]\n", "error loading @: line 1, column 11: alias *x refers to a node that contains it");
	load_fails(*state, "a: *nope\n", "error loading @: line 1, column 4: alias *nope has no anchor");
}

static void test_huge_scalar(void **state)
{
	struct fx *f = *state;
	size_t n = 4 << 20;
	struct strbuf text = STRBUF_INIT;
	struct azl_rest_config *cfg;
	strbuf_addstr(&text, user_head);
	strbuf_addstr(&text, "    token: ");
	strbuf_addchars(&text, 'x', n);
	strbuf_addch(&text, '\n');
	cfg = resolve_ok(f, text.buf, NULL);
	assert_int_equal(strlen(cfg->token), n);
	azl_rest_config_free(cfg);
	strbuf_release(&text);
}

static void test_deep_nesting(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct azl_kubeconfig *kc = NULL;
	struct fx *f = *state;
	strbuf_addstr(&text, "a: ");
	strbuf_addchars(&text, '[', 5000);
	strbuf_addchars(&text, ']', 5000);
	assert_true(azl_kubeconfig_load(&kc, put(f, "deep", text.buf)) < 0);
	assert_null(kc);
	assert_non_null(strstr(azl_error_message(), "error loading "));
	strbuf_release(&text);
}

/* Loads len bytes of text and resolves them if that worked: either outcome
 * is fine, a crash or a silent failure is not. Counts the outcomes. */
static void try_load(struct fx *f, const char *text, size_t len, size_t *ok, size_t *failed)
{
	struct azl_kubeconfig *kc = NULL;
	struct azl_rest_config *cfg = NULL;
	char *p = tu_write_bytes(f->dir, "fuzz", text, len, 0600);

	if (azl_kubeconfig_load(&kc, p) == 0) {
		(*ok)++;
		if (azl_kubeconfig_resolve(kc, NULL, &cfg) == 0)
			azl_rest_config_free(cfg);
		azl_kubeconfig_free(kc);
	} else {
		(*failed)++;
		assert_true(strlen(azl_error_message()) > 0);
	}
	free(p);
}

/* Truncations and byte mutations of a full kubeconfig must load or fail
 * cleanly, never crash (ASan and valgrind runs check the memory side). */
static void test_fuzz_never_crashes(void **state)
{
	struct fx *f = *state;
	struct strbuf full = STRBUF_INIT;
	static const char junk[] = "[]{}:-&*!|>'\"#%@`,?\n \t\x00\xff";
	unsigned seed = 12345;
	size_t ok = 0, failed = 0;

	strbuf_addstr(&full, basic_cfg);
	strbuf_addstr(&full, "- name: e\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
		      "      command: k\n      args: [a, b]\n      env: [{name: A, value: B}]\n"
		      "      interactiveMode: Never\n    token: t\nextra: &a {x: *a}\n");
	for (size_t cut = 0; cut <= full.len; cut++)
		try_load(f, full.buf, cut, &ok, &failed);
	for (int round = 0; round < 3000; round++) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addbuf(&m, &full);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			m.buf[(seed >> 8) % m.len] = junk[(seed >> 20) % (sizeof(junk) - 1)];
		}
		try_load(f, m.buf, m.len, &ok, &failed);
		strbuf_release(&m);
	}
	/* both outcomes must really have been exercised */
	assert_true(ok > 100);
	assert_true(failed > 100);
	strbuf_release(&full);
}

static void test_random_garbage(void **state)
{
	struct fx *f = *state;
	unsigned seed = 99;
	for (int round = 0; round < 500; round++) {
		unsigned char buf[512];
		struct azl_kubeconfig *kc = NULL;
		size_t n = (size_t)(round % 512);
		char *p;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (unsigned char)(seed >> 16);
		}
		p = tu_write_bytes(f->dir, "garbage", buf, n, 0600);
		if (azl_kubeconfig_load(&kc, p) == 0)
			azl_kubeconfig_free(kc);
		free(p);
	}
}

/* ---------------- durations ---------------- */

static void test_parse_duration(void **state)
{
	(void)state;
	assert_int_equal(azl_parse_duration_ms("0"), 0);
	assert_int_equal(azl_parse_duration_ms("30"), 30000);
	assert_int_equal(azl_parse_duration_ms("+5"), 5000);
	assert_int_equal(azl_parse_duration_ms("1m30s"), 90000);
	assert_int_equal(azl_parse_duration_ms("500ms"), 500);
	assert_int_equal(azl_parse_duration_ms("1h"), 3600000);
	assert_int_equal(azl_parse_duration_ms("1.5s"), 1500);
	assert_int_equal(azl_parse_duration_ms(".5m"), 30000);
	assert_int_equal(azl_parse_duration_ms("2h45m0.5s"), 9900500);
	assert_int_equal(azl_parse_duration_ms("1500us"), 2);
	assert_int_equal(azl_parse_duration_ms("1500\xc2\xb5s"), 2);
	assert_int_equal(azl_parse_duration_ms("1ns"), 1);
	assert_int_equal(azl_parse_duration_ms("0s"), 0);
	assert_int_equal(azl_parse_duration_ms("-1"), -1);
	assert_int_equal(azl_parse_duration_ms("-1s"), -1);
	assert_int_equal(azl_parse_duration_ms(""), -1);
	assert_int_equal(azl_parse_duration_ms(NULL), -1);
	assert_int_equal(azl_parse_duration_ms("1x"), -1);
	assert_int_equal(azl_parse_duration_ms("1"), 1000);
	assert_int_equal(azl_parse_duration_ms("s"), -1);
	assert_int_equal(azl_parse_duration_ms("."), -1);
	assert_int_equal(azl_parse_duration_ms(".s"), -1);
	assert_int_equal(azl_parse_duration_ms("1 s"), -1);
	assert_int_equal(azl_parse_duration_ms("1s "), -1);
	assert_int_equal(azl_parse_duration_ms("10d"), -1);
	assert_int_equal(azl_parse_duration_ms("99999999999999999999"), -1);
	assert_int_equal(azl_parse_duration_ms("99999999999999999h"), -1);
}

/* ---------------- base64 ---------------- */

static void b64_ok(const char *in, const char *want)
{
	struct strbuf out = STRBUF_INIT;
	assert_int_equal(azl_base64_decode(&out, in, strlen(in)), 0);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.buf, want, out.len);
	strbuf_release(&out);
}

static void b64_bad(const char *in)
{
	struct strbuf out = STRBUF_INIT;
	strbuf_addstr(&out, "keep");
	assert_int_equal(azl_base64_decode(&out, in, strlen(in)), AZL_EINVALID);
	assert_string_equal(out.buf, "keep");
	assert_non_null(strstr(azl_error_message(), "invalid base64 data"));
	strbuf_release(&out);
}

static void test_base64(void **state)
{
	struct strbuf enc = STRBUF_INIT;
	(void)state;
	b64_ok("", "");
	b64_ok("QQ==", "A");
	b64_ok("QQ", "A");
	b64_ok("QUI=", "AB");
	b64_ok("QUI", "AB");
	b64_ok("QUJD", "ABC");
	b64_ok("QUJD\nREVG\r\n", "ABCDEF");
	b64_ok(" Q U J D ", "ABC");
	b64_ok("+/+/", "\xfb\xff\xbf");
	b64_bad("QUJD*");
	b64_bad("Q");
	b64_bad("QUJDR");
	b64_bad("QQ=");
	b64_bad("QQ===");
	b64_bad("Q===");
	b64_bad("QQ==QQ==");
	b64_bad("-_-_");
	b64_bad("=QQ=");
	azl_base64_encode(&enc, "ABCDEF\xff", 7);
	assert_string_equal(enc.buf, "QUJDREVG/w==");
	strbuf_reset(&enc);
	azl_base64_encode(&enc, "AB", 2);
	assert_string_equal(enc.buf, "QUI=");
	strbuf_reset(&enc);
	azl_base64_encode(&enc, "", 0);
	assert_string_equal(enc.buf, "");
	/* round trip over every byte value and every tail length */
	for (size_t n = 0; n < 260; n++) {
		unsigned char raw[260];
		struct strbuf dec = STRBUF_INIT;
		for (size_t i = 0; i < n; i++)
			raw[i] = (unsigned char)(i * 7 + n);
		strbuf_reset(&enc);
		azl_base64_encode(&enc, raw, n);
		assert_int_equal(azl_base64_decode(&dec, enc.buf, enc.len), 0);
		assert_int_equal(dec.len, n);
		if (n)
			assert_memory_equal(dec.buf, raw, n);
		strbuf_release(&dec);
	}
	strbuf_release(&enc);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_basic_resolve),
		T(test_explicit_missing),
		T(test_explicit_ignores_env),
		T(test_home_default),
		T(test_home_missing_is_empty),
		T(test_env_all_missing),
		T(test_merge_first_wins),
		T(test_env_three_files_missing_dup_empty),
		T(test_env_unreadable_file_is_error),
		T(test_duplicate_name_in_one_file),
		T(test_context_info),
		T(test_no_current_context),
		T(test_context_flag_not_found),
		T(test_current_context_not_found),
		T(test_cluster_and_user_not_found),
		T(test_cluster_user_flags),
		T(test_namespace_precedence),
		T(test_server_flag_without_config),
		T(test_cluster_fields),
		T(test_server_required_and_scheme),
		T(test_proxy_url_scheme),
		T(test_ca_relative_path),
		T(test_ca_relative_to_relative_kubeconfig),
		T(test_ca_file_missing),
		T(test_ca_insecure_conflict),
		T(test_ca_both_forms),
		T(test_bad_base64),
		T(test_client_cert_data),
		T(test_client_cert_relative_files),
		T(test_client_key_missing_file),
		T(test_cert_without_key),
		T(test_token_file_relative_and_precedence),
		T(test_token_file_errors),
		T(test_exec_fields),
		T(test_exec_bare_command_and_v1beta1_default),
		T(test_exec_validation),
		T(test_exec_skipped_with_token),
		T(test_auth_provider),
		T(test_basic_auth),
		T(test_override_server_clears_tls_server_name),
		T(test_override_ca_and_insecure),
		T(test_override_client_cert_and_token),
		T(test_malformed_yaml),
		T(test_type_errors),
		T(test_empty_and_comment_files),
		T(test_anchors_aliases_tags),
		T(test_huge_scalar),
		T(test_deep_nesting),
		T(test_fuzz_never_crashes),
		T(test_random_garbage),
		T(test_parse_duration),
		T(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
