/* cluster.c, the parts that need no network: the server host, matching it
 * against fqdn/privateFQDN, providerID and azureProfile.json parsing (with
 * its byte-order mark), ARM ids, the managed cluster model, and the
 * on-disk cache (modes, replacement, corrupt files). Resolution itself is
 * covered end to end against the simulator (tests/e2e/test_pools.py). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "arm.h"
#include "cluster.h"
#include "error.h"
#include "testutil.h"

static void assert_host(const char *server, const char *want)
{
	struct strbuf host = STRBUF_INIT;

	assert_int_equal(azl_cluster_server_host(server, &host), 0);
	assert_string_equal(host.buf, want);
	strbuf_release(&host);
}

static void test_server_host(void **state)
{
	struct strbuf host = STRBUF_INIT;

	(void)state;
	assert_host("https://MyAks-RG-1a2b3c-4d5e6f7a.hcp.eastus.azmk8s.io:443",
		    "MyAks-RG-1a2b3c-4d5e6f7a.hcp.eastus.azmk8s.io");
	assert_host("https://127.0.0.7:6443", "127.0.0.7");
	assert_host("https://[::1]:6443/base", "::1");
	assert_host("https://user@host.example/path?q=1", "host.example");
	assert_host("https://aks.privatelink.eastus.azmk8s.io", "aks.privatelink.eastus.azmk8s.io");
	assert_int_equal(azl_cluster_server_host("https://", &host), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "has no host"));
	assert_int_equal(azl_cluster_server_host("https://[::1", &host), AZL_EINVALID);
	strbuf_release(&host);
}

static void test_host_matches(void **state)
{
	(void)state;
	assert_true(azl_cluster_host_matches("AKS-1.HCP.eastus.azmk8s.io", "aks-1.hcp.EASTUS.azmk8s.io"));
	assert_true(azl_cluster_host_matches("aks-1.hcp.eastus.azmk8s.io.", "aks-1.hcp.eastus.azmk8s.io"));
	assert_false(azl_cluster_host_matches("aks-1.hcp.eastus.azmk8s.io", "aks-1.hcp.eastus.azmk8s"));
	assert_false(azl_cluster_host_matches("ks-1.hcp.eastus.azmk8s.io", "aks-1.hcp.eastus.azmk8s.io"));
	assert_false(azl_cluster_host_matches("127.0.0.1", "127.0.0.10"));
	assert_false(azl_cluster_host_matches("", ""));
	assert_false(azl_cluster_host_matches("x", NULL));
}

static void test_json_matches_private_fqdn(void **state)
{
	cJSON *mc = cJSON_Parse("{\"properties\":{\"fqdn\":\"pub-1.hcp.eastus.azmk8s.io\","
				"\"privateFQDN\":\"priv-1.privatelink.eastus.azmk8s.io\"}}");

	(void)state;
	assert_true(azl_cluster_json_matches(mc, "PUB-1.hcp.eastus.azmk8s.io"));
	assert_true(azl_cluster_json_matches(mc, "priv-1.privatelink.eastus.azmk8s.io"));
	assert_false(azl_cluster_json_matches(mc, "other.hcp.eastus.azmk8s.io"));
	cJSON_Delete(mc);
}

static void test_provider_id(void **state)
{
	struct strbuf sub = STRBUF_INIT;

	(void)state;
	assert_int_equal(azl_provider_id_subscription(
		"azure:///subscriptions/0bd50fdf-1111-2222-3333-444455556666/resourceGroups/mc_rg_aks_eastus/"
		"providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-19213364-vmss/virtualMachines/0",
		&sub), 0);
	assert_string_equal(sub.buf, "0bd50fdf-1111-2222-3333-444455556666");
	assert_int_equal(azl_provider_id_subscription("AZURE:///Subscriptions/abc/x", &sub), 0);
	assert_string_equal(sub.buf, "abc");
	assert_int_equal(azl_provider_id_subscription("kind://docker/kind/kind-control-plane", &sub),
			 AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "not an Azure one"));
	assert_int_equal(azl_provider_id_subscription("azure:///subscriptions//x", &sub), AZL_EINVALID);
	assert_int_equal(azl_provider_id_subscription(NULL, &sub), AZL_EINVALID);
	strbuf_release(&sub);
}

#define PROFILE \
	"\xEF\xBB\xBF{\"installationId\": \"i\", \"subscriptions\": [" \
	"{\"id\": \"11111111-aaaa\", \"name\": \"dev\", \"state\": \"Enabled\", \"isDefault\": false," \
	" \"environmentName\": \"AzureCloud\"}," \
	"{\"id\": \"22222222-bbbb\", \"name\": \"china\", \"isDefault\": true," \
	" \"environmentName\": \"AzureChinaCloud\"}," \
	"{\"id\": \"33333333-cccc\", \"name\": \"prod\", \"isDefault\": true," \
	" \"environmentName\": \"AzureCloud\"}]}"

static void test_azure_profile(void **state)
{
	struct strbuf sub = STRBUF_INIT;
	const char *no_default = "{\"subscriptions\": [{\"id\": \"x\", \"isDefault\": false}]}";

	(void)state;
	assert_int_equal(azl_azure_profile_default(PROFILE, strlen(PROFILE), "AzureCloud", &sub), 0);
	assert_string_equal(sub.buf, "33333333-cccc");
	assert_int_equal(azl_azure_profile_default(PROFILE, strlen(PROFILE), "AzureChinaCloud", &sub), 0);
	assert_string_equal(sub.buf, "22222222-bbbb");
	/* any cloud: the first default */
	assert_int_equal(azl_azure_profile_default(PROFILE, strlen(PROFILE), NULL, &sub), 0);
	assert_string_equal(sub.buf, "22222222-bbbb");
	/* without the BOM too */
	assert_int_equal(azl_azure_profile_default(PROFILE + 3, strlen(PROFILE) - 3, "AzureCloud", &sub), 0);
	assert_string_equal(sub.buf, "33333333-cccc");
	assert_int_equal(azl_azure_profile_default(PROFILE, strlen(PROFILE), "AzureUSGovernment", &sub),
			 AZL_ENOTFOUND);
	assert_int_equal(azl_azure_profile_default(no_default, strlen(no_default), NULL, &sub), AZL_ENOTFOUND);
	assert_non_null(strstr(azl_error_message(), "no default subscription"));
	assert_int_equal(azl_azure_profile_default("\xEF\xBB\xBF{", 4, NULL, &sub), AZL_EINVALID);
	strbuf_release(&sub);
}

static void test_arm_id(void **state)
{
	struct azl_arm_id id;
	struct strbuf path = STRBUF_INIT;

	(void)state;
	assert_int_equal(azl_arm_id_parse("/subscriptions/s1/resourcegroups/My-RG/providers/"
					  "Microsoft.ContainerService/managedClusters/aks1/agentPools/np1", &id), 0);
	assert_string_equal(id.subscription, "s1");
	assert_string_equal(id.resource_group, "My-RG");
	assert_string_equal(id.provider, "Microsoft.ContainerService");
	assert_string_equal(id.type, "managedClusters");
	assert_string_equal(id.name, "aks1");
	azl_arm_id_release(&id);
	assert_int_equal(azl_arm_id_parse("/subscriptions/s1/resourceGroups/rg", &id), AZL_EINVALID);
	assert_int_equal(azl_arm_id_parse("subscriptions/s1", &id), AZL_EINVALID);
	azl_arm_cluster_path(&path, "s1", "rg 1", "aks1");
	assert_string_equal(path.buf,
		"/subscriptions/s1/resourceGroups/rg%201/providers/Microsoft.ContainerService/managedClusters/aks1");
	strbuf_release(&path);
}

static void test_cluster_from_json(void **state)
{
	struct azl_cluster c;
	cJSON *mc = cJSON_Parse(
		"{\"id\":\"/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1\","
		"\"name\":\"aks1\",\"location\":\"westeurope\",\"properties\":{\"kubernetesVersion\":\"1.33.2\","
		"\"currentKubernetesVersion\":\"1.32.6\",\"fqdn\":\"f\",\"nodeResourceGroup\":\"MC_rg1_aks1_westeurope\","
		"\"provisioningState\":\"Upgrading\",\"powerState\":{\"code\":\"Running\"}}}");

	(void)state;
	assert_int_equal(azl_cluster_from_json(mc, &c), 0);
	assert_string_equal(c.name, "aks1");
	assert_string_equal(c.resource_group, "rg1");
	assert_string_equal(c.subscription, "s1");
	assert_string_equal(c.location, "westeurope");
	assert_string_equal(c.kubernetes_version, "1.33.2");
	assert_string_equal(c.current_kubernetes_version, "1.32.6");
	assert_string_equal(c.node_resource_group, "MC_rg1_aks1_westeurope");
	assert_string_equal(c.power_state, "Running");
	/* channels absent: none / unknown */
	assert_string_equal(c.upgrade_channel, "none");
	assert_string_equal(c.node_os_upgrade_channel, "");
	assert_string_equal(c.private_fqdn, "");
	azl_cluster_release(&c);
	cJSON_Delete(mc);

	mc = cJSON_Parse("{\"name\":\"x\",\"id\":\"bogus\"}");
	assert_int_equal(azl_cluster_from_json(mc, &c), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "managed cluster 'x'"));
	cJSON_Delete(mc);
}

/* The cache keeps the 256 entries stored last; older ones go. */
static void test_cache_is_bounded(void **state)
{
	char *dir = tu_mkdtemp();
	char *xdg = tu_path(dir, "cache");
	struct strbuf id = STRBUF_INIT, server = STRBUF_INIT;

	(void)state;
	setenv("XDG_CACHE_HOME", xdg, 1);
	for (int i = 0; i < 300; i++) {
		strbuf_reset(&server);
		strbuf_addf(&server, "https://c%d:443", i);
		assert_int_equal(azl_cluster_cache_store(server.buf, "ctx", "/subscriptions/s/x"), 0);
	}
	/* storing an old entry again makes it the newest */
	assert_int_equal(azl_cluster_cache_store("https://c44:443", "ctx", "/subscriptions/s/y"), 0);
	assert_int_equal(azl_cluster_cache_store("https://c300:443", "ctx", "/subscriptions/s/z"), 0);
	assert_int_equal(azl_cluster_cache_lookup("https://c44:443", "ctx", &id), 0);
	assert_string_equal(id.buf, "/subscriptions/s/y");
	/* c0..c43 went when c256..c299 came; c45 was the oldest when c300 came */
	assert_int_equal(azl_cluster_cache_lookup("https://c43:443", "ctx", &id), AZL_ENOTFOUND);
	assert_int_equal(azl_cluster_cache_lookup("https://c45:443", "ctx", &id), AZL_ENOTFOUND);
	assert_int_equal(azl_cluster_cache_lookup("https://c46:443", "ctx", &id), 0);
	assert_int_equal(azl_cluster_cache_lookup("https://c299:443", "ctx", &id), 0);
	assert_int_equal(azl_cluster_cache_lookup("https://c300:443", "ctx", &id), 0);
	strbuf_release(&id);
	strbuf_release(&server);
	unsetenv("XDG_CACHE_HOME");
	tu_rmrf(dir);
	free(xdg);
	free(dir);
}

static void test_cache(void **state)
{
	char *dir = tu_mkdtemp();
	char *xdg = tu_path(dir, "cache");
	struct strbuf id = STRBUF_INIT, path = STRBUF_INIT;
	struct stat st;

	(void)state;
	setenv("XDG_CACHE_HOME", xdg, 1);
	assert_int_equal(azl_cluster_cache_lookup("https://a:443", "ctx", &id), AZL_ENOTFOUND);
	assert_int_equal(azl_cluster_cache_store("https://a:443", "ctx", "/subscriptions/s/x/1"), 0);
	assert_int_equal(azl_cluster_cache_store("https://a:443", "other", "/subscriptions/s/x/2"), 0);
	assert_int_equal(azl_cluster_cache_store("https://b:443", "ctx", "/subscriptions/s/x/3"), 0);
	assert_int_equal(azl_cluster_cache_lookup("https://a:443", "ctx", &id), 0);
	assert_string_equal(id.buf, "/subscriptions/s/x/1");
	assert_int_equal(azl_cluster_cache_lookup("https://a:443", "other", &id), 0);
	assert_string_equal(id.buf, "/subscriptions/s/x/2");
	assert_int_equal(azl_cluster_cache_lookup("https://b:443", "ctx", &id), 0);
	assert_string_equal(id.buf, "/subscriptions/s/x/3");

	/* replace, then forget */
	assert_int_equal(azl_cluster_cache_store("https://a:443", "ctx", "/subscriptions/s/x/9"), 0);
	assert_int_equal(azl_cluster_cache_lookup("https://a:443", "ctx", &id), 0);
	assert_string_equal(id.buf, "/subscriptions/s/x/9");
	assert_int_equal(azl_cluster_cache_forget("https://a:443", "ctx"), 0);
	assert_int_equal(azl_cluster_cache_lookup("https://a:443", "ctx", &id), AZL_ENOTFOUND);
	assert_int_equal(azl_cluster_cache_lookup("https://a:443", "other", &id), 0);

	/* private: 0700 directory, 0600 file */
	assert_int_equal(azl_cluster_cache_path(&path), 0);
	assert_int_equal(stat(path.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	strbuf_setlen(&path, (size_t)(strrchr(path.buf, '/') - path.buf));
	assert_int_equal(stat(path.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* a corrupt cache is a miss, and is replaced by the next store */
	assert_int_equal(azl_cluster_cache_path(&path), 0);
	free(tu_write(dir, "cache/kubectl-azlinux/clusters.json", "{not json", 0600));
	assert_int_equal(azl_cluster_cache_lookup("https://a:443", "other", &id), AZL_ENOTFOUND);
	assert_int_equal(azl_cluster_cache_store("https://a:443", "other", "/subscriptions/s/x/5"), 0);
	assert_int_equal(azl_cluster_cache_lookup("https://a:443", "other", &id), 0);
	assert_string_equal(id.buf, "/subscriptions/s/x/5");

	unsetenv("XDG_CACHE_HOME");
	tu_rmrf(dir);
	free(dir);
	free(xdg);
	strbuf_release(&id);
	strbuf_release(&path);
}

static void test_subscription_sources(void **state)
{
	char *dir = tu_mkdtemp();
	struct azl_cluster_query q = { .server = "https://h", .context = "ctx" };
	struct strbuf sub = STRBUF_INIT;
	const char *from;
	int azure_nodes;

	(void)state;
	setenv("AZURE_CONFIG_DIR", dir, 1);
	unsetenv("AZURE_SUBSCRIPTION_ID");
	/* nothing anywhere */
	assert_int_equal(azl_cluster_subscription(&q, NULL, &sub, &from, &azure_nodes), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "pass --subscription"));
	/* the CLI profile */
	free(tu_write(dir, "azureProfile.json", PROFILE, 0600));
	assert_int_equal(azl_cluster_subscription(&q, NULL, &sub, &from, &azure_nodes), 0);
	assert_string_equal(sub.buf, "22222222-bbbb");
	assert_string_equal(from, "the Azure CLI's default subscription");
	/* the environment beats it */
	setenv("AZURE_SUBSCRIPTION_ID", "env-sub", 1);
	assert_int_equal(azl_cluster_subscription(&q, NULL, &sub, &from, &azure_nodes), 0);
	assert_string_equal(sub.buf, "env-sub");
	assert_string_equal(from, "AZURE_SUBSCRIPTION_ID");
	/* and the flag beats everything */
	q.subscription = "flag-sub";
	assert_int_equal(azl_cluster_subscription(&q, NULL, &sub, &from, &azure_nodes), 0);
	assert_string_equal(sub.buf, "flag-sub");
	assert_string_equal(from, "--subscription");
	unsetenv("AZURE_SUBSCRIPTION_ID");
	unsetenv("AZURE_CONFIG_DIR");
	tu_rmrf(dir);
	free(dir);
	strbuf_release(&sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_host),
		cmocka_unit_test(test_host_matches),
		cmocka_unit_test(test_json_matches_private_fqdn),
		cmocka_unit_test(test_provider_id),
		cmocka_unit_test(test_azure_profile),
		cmocka_unit_test(test_arm_id),
		cmocka_unit_test(test_cluster_from_json),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_is_bounded),
		cmocka_unit_test(test_subscription_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
