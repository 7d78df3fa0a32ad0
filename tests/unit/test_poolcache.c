/* Unit tests for core/poolcache: the on-disk pool-name cache and its
 * node-label fallback. The Kubernetes side is mocked here (azl_kube_new,
 * azl_node_list); the real one is exercised by tests/e2e/test_completion.py. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "kube.h"
#include "node.h"
#include "poolcache.h"

/* --- mocks: the static library's kube.o and node.o are never linked --- */

int azl_kube_new(struct azl_kube **out, const struct azl_rest_config *cfg)
{
	(void)cfg;
	*out = (struct azl_kube *)(uintptr_t)1;
	function_called();
	return 0;
}

void azl_kube_free(struct azl_kube *kube)
{
	(void)kube;
}

int azl_node_list(struct azl_kube *kube, const char *label_selector,
		  const char *pool, struct azl_node_list *out)
{
	static const char *const pools[] = { "userpool", "nodepool1", NULL, "userpool", "" };
	int rc = mock_type(int);
	(void)kube;
	assert_null(label_selector);
	assert_null(pool);
	if (rc)
		return azl_error_set(rc, "nodes: connection refused");
	out->nr = sizeof(pools) / sizeof(pools[0]);
	out->items = calloc(out->nr, sizeof(*out->items));
	for (size_t i = 0; i < out->nr; i++)
		out->items[i].pool = pools[i] ? strdup(pools[i]) : NULL;
	return 0;
}

void azl_node_list_release(struct azl_node_list *list)
{
	for (size_t i = 0; i < list->nr; i++)
		free(list->items[i].pool);
	free(list->items);
	list->items = NULL;
	list->nr = 0;
}

/* --- fixtures --- */

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_poolcache.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	setenv("HOME", tmpdir, 1);
	unsetenv("XDG_CACHE_HOME");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

static void write_raw(const char *key, const char *content)
{
	struct strbuf path = STRBUF_INIT;
	const char *unrelated[] = { "x" };
	FILE *f;

	/* creates the cache directory */
	assert_int_equal(azl_poolcache_write("unrelated", unrelated, 1), 0);
	assert_int_equal(azl_poolcache_path(&path, key), 0);
	f = fopen(path.buf, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	strbuf_release(&path);
}

/* --- tests --- */

static void test_roundtrip_sorted_unique(void **state)
{
	const char *names[] = { "userpool", "azl2pool", "nodepool1", "azl2pool" };
	struct azl_poolcache_list l;
	(void)state;

	assert_int_equal(azl_poolcache_write("ctx\nhttps://h", names, 4), 0);
	assert_int_equal(azl_poolcache_read("ctx\nhttps://h", &l), 0);
	assert_int_equal(l.nr, 3);
	assert_string_equal(l.items[0], "azl2pool");
	assert_string_equal(l.items[1], "nodepool1");
	assert_string_equal(l.items[2], "userpool");
	azl_poolcache_list_release(&l);
}

static void test_write_replaces(void **state)
{
	const char *a[] = { "one", "two" }, *b[] = { "three" };
	struct azl_poolcache_list l;
	(void)state;

	assert_int_equal(azl_poolcache_write("k", a, 2), 0);
	assert_int_equal(azl_poolcache_write("k", b, 1), 0);
	assert_int_equal(azl_poolcache_read("k", &l), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.items[0], "three");
	azl_poolcache_list_release(&l);
}

static void test_missing_is_notfound(void **state)
{
	struct azl_poolcache_list l;
	(void)state;

	assert_int_equal(azl_poolcache_read("nothing", &l), AZL_ENOTFOUND);
	assert_int_equal(l.nr, 0);
	assert_non_null(strstr(azl_error_message(), "kubectl azlinux pools"));
}

static void test_modes_and_location(void **state)
{
	const char *names[] = { "p" };
	struct strbuf path = STRBUF_INIT, dir = STRBUF_INIT;
	struct stat st;
	(void)state;

	assert_int_equal(azl_poolcache_write("k", names, 1), 0);
	assert_int_equal(azl_poolcache_path(&path, "k"), 0);
	strbuf_addf(&dir, "%s/.cache/kubectl-azlinux/", tmpdir);
	assert_true(strbuf_starts_with(&path, dir.buf));
	assert_int_equal(stat(path.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	strbuf_setlen(&dir, dir.len - 1);
	assert_int_equal(stat(dir.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	strbuf_release(&path);
	strbuf_release(&dir);
}

static void test_xdg_cache_home(void **state)
{
	struct strbuf path = STRBUF_INIT, want = STRBUF_INIT;
	(void)state;

	setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
	assert_int_equal(azl_poolcache_path(&path, "k"), 0);
	assert_true(strbuf_starts_with(&path, "/xdg/cache/kubectl-azlinux/pools-"));
	/* a relative value is invalid under XDG and ignored */
	setenv("XDG_CACHE_HOME", "relative", 1);
	strbuf_reset(&path);
	assert_int_equal(azl_poolcache_path(&path, "k"), 0);
	strbuf_addf(&want, "%s/.cache/kubectl-azlinux/", tmpdir);
	assert_true(strbuf_starts_with(&path, want.buf));
	unsetenv("XDG_CACHE_HOME");
	strbuf_release(&path);
	strbuf_release(&want);
}

static void test_bad_names_rejected(void **state)
{
	const char *nl[] = { "ok", "bad\nname" }, *empty[] = { "" }, *sp[] = { "a b" };
	struct azl_poolcache_list l;
	(void)state;

	assert_int_equal(azl_poolcache_write("k", nl, 2), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "#2"));
	assert_int_equal(azl_poolcache_write("k", empty, 1), AZL_EINVALID);
	assert_int_equal(azl_poolcache_write("k", sp, 1), AZL_EINVALID);
	/* nothing was written by the failed calls */
	assert_int_equal(azl_poolcache_read("k", &l), AZL_ENOTFOUND);
}

static void test_other_key_is_a_miss(void **state)
{
	const char *names[] = { "p" };
	struct azl_poolcache_list l;
	(void)state;

	assert_int_equal(azl_poolcache_write("ctx\nhttps://a", names, 1), 0);
	/* same file name, different key inside: a hash collision */
	write_raw("ctx\nhttps://b", "{\"version\":2,\"key\":\"ctx\\nhttps://a\",\"pools\":[\"p\"]}");
	assert_int_equal(azl_poolcache_read("ctx\nhttps://b", &l), AZL_ENOTFOUND);
	assert_int_equal(azl_poolcache_read("ctx\nhttps://a", &l), 0);
	azl_poolcache_list_release(&l);
}

static void test_corrupt_is_a_miss(void **state)
{
	struct azl_poolcache_list l;
	(void)state;

	write_raw("k", "garbage\n");
	assert_int_equal(azl_poolcache_read("k", &l), AZL_ENOTFOUND);
	write_raw("k", "{\"version\":2,\"key\":\"k\",\"pools\":[\"ok\",\"not ok\"]}");
	assert_int_equal(azl_poolcache_read("k", &l), AZL_ENOTFOUND);
	/* the text format of release 1 */
	write_raw("k", "# kubectl-azlinux pool names v1\nkey k\nok\n");
	assert_int_equal(azl_poolcache_read("k", &l), AZL_ENOTFOUND);
	assert_int_equal(l.nr, 0);
	write_raw("k", "");
	assert_int_equal(azl_poolcache_read("k", &l), AZL_ENOTFOUND);
}

static void test_key_from_config(void **state)
{
	struct azl_rest_config cfg = { 0 };
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	(void)state;

	cfg.context_name = "prod";
	cfg.server = "https://a.hcp.eastus.azmk8s.io:443";
	azl_poolcache_key(&a, &cfg);
	cfg.server = "https://b.hcp.eastus.azmk8s.io:443";
	azl_poolcache_key(&b, &cfg);
	assert_string_not_equal(a.buf, b.buf);
	assert_non_null(strstr(a.buf, "prod"));
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_lookup_prefers_cache(void **state)
{
	struct azl_rest_config cfg = { 0 };
	struct strbuf key = STRBUF_INIT;
	const char *names[] = { "cached" };
	struct azl_poolcache_list l;
	(void)state;

	cfg.context_name = "c";
	cfg.server = "https://s";
	azl_poolcache_key(&key, &cfg);
	assert_int_equal(azl_poolcache_write(key.buf, names, 1), 0);
	/* no expect_function_call: the cluster must not be contacted */
	assert_int_equal(azl_poolcache_lookup(&cfg, &l), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.items[0], "cached");
	azl_poolcache_list_release(&l);
	strbuf_release(&key);
}

static void test_lookup_falls_back_to_nodes(void **state)
{
	struct azl_rest_config cfg = { 0 };
	struct azl_poolcache_list l;
	(void)state;

	cfg.context_name = "c";
	cfg.server = "https://s";
	expect_function_call(azl_kube_new);
	will_return(azl_node_list, 0);
	assert_int_equal(azl_poolcache_lookup(&cfg, &l), 0);
	assert_int_equal(l.nr, 2);
	assert_string_equal(l.items[0], "nodepool1");
	assert_string_equal(l.items[1], "userpool");
	azl_poolcache_list_release(&l);
}

static void test_lookup_reports_cluster_error(void **state)
{
	struct azl_rest_config cfg = { 0 };
	struct azl_poolcache_list l = { NULL, 0 };
	(void)state;

	cfg.context_name = "c";
	cfg.server = "https://s";
	expect_function_call(azl_kube_new);
	will_return(azl_node_list, AZL_ENETWORK);
	assert_int_equal(azl_poolcache_lookup(&cfg, &l), AZL_ENETWORK);
	assert_int_equal(l.nr, 0);
}

static void test_lookup_never_runs_interactive_exec(void **state)
{
	struct azl_exec_config exec = { 0 };
	struct azl_rest_config cfg = { 0 };
	struct azl_poolcache_list l = { NULL, 0 };
	(void)state;

	exec.interactive = AZL_EXEC_INTERACTIVE_ALWAYS;
	cfg.context_name = "c";
	cfg.server = "https://s";
	cfg.user_name = "aad-user";
	cfg.exec = &exec;
	assert_int_equal(azl_poolcache_lookup(&cfg, &l), AZL_EUNAVAILABLE);
	assert_non_null(strstr(azl_error_message(), "aad-user"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_sorted_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_is_notfound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes_and_location, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xdg_cache_home, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_key_is_a_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_is_a_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_from_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_prefers_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_falls_back_to_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_reports_cluster_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_never_runs_interactive_exec, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
