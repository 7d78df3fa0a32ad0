/* The cloud table: lookup (case-insensitive), AZLINUX_CLOUD, the AKS
 * API-server suffixes, and what an unknown name says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloud.h"
#include "error.h"

static void test_lookup_each_cloud(void **state)
{
	static const struct {
		const char *name, *authority, *arm, *scope;
	} want[] = {
		{ "AzureCloud", "https://login.microsoftonline.com",
		  "https://management.azure.com", "https://management.azure.com/.default" },
		{ "AzureChinaCloud", "https://login.chinacloudapi.cn",
		  "https://management.chinacloudapi.cn",
		  "https://management.chinacloudapi.cn/.default" },
		{ "AzureUSGovernment", "https://login.microsoftonline.us",
		  "https://management.usgovcloudapi.net",
		  "https://management.usgovcloudapi.net/.default" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct azl_cloud *c = NULL;

		assert_int_equal(azl_cloud_lookup(want[i].name, &c), 0);
		assert_string_equal(c->name, want[i].name);
		assert_string_equal(c->authority_host, want[i].authority);
		assert_string_equal(c->arm_endpoint, want[i].arm);
		assert_string_equal(c->arm_scope, want[i].scope);
		assert_non_null(c->aks_fqdn_suffixes[0]);
	}
}

static void test_lookup_is_case_insensitive(void **state)
{
	const struct azl_cloud *c = NULL;

	(void)state;
	assert_int_equal(azl_cloud_lookup("azurechinacloud", &c), 0);
	assert_string_equal(c->name, "AzureChinaCloud");
	assert_int_equal(azl_cloud_lookup("AZUREUSGOVERNMENT", &c), 0);
	assert_string_equal(c->name, "AzureUSGovernment");
}

static void test_unknown_cloud(void **state)
{
	const struct azl_cloud *c = (const struct azl_cloud *)1;

	(void)state;
	assert_int_equal(azl_cloud_lookup("AzureGermanCloud", &c), AZL_ENOTFOUND);
	assert_null(c);
	assert_non_null(strstr(azl_error_message(), "unknown cloud 'AzureGermanCloud'"));
	assert_non_null(strstr(azl_error_message(), "AzureUSGovernment"));
	assert_int_equal(azl_cloud_lookup(NULL, &c), AZL_ENOTFOUND);
}

static void test_from_env(void **state)
{
	const struct azl_cloud *c = NULL;

	(void)state;
	unsetenv("AZLINUX_CLOUD");
	assert_int_equal(azl_cloud_from_env(NULL, &c), 0);
	assert_string_equal(c->name, "AzureCloud");
	setenv("AZLINUX_CLOUD", "", 1);
	assert_int_equal(azl_cloud_from_env(NULL, &c), 0);
	assert_string_equal(c->name, "AzureCloud");
	setenv("AZLINUX_CLOUD", "azureusgovernment", 1);
	assert_int_equal(azl_cloud_from_env(NULL, &c), 0);
	assert_string_equal(c->name, "AzureUSGovernment");
	/* an explicit name (the flag) wins over the variable */
	assert_int_equal(azl_cloud_from_env("AzureChinaCloud", &c), 0);
	assert_string_equal(c->name, "AzureChinaCloud");
	setenv("AZLINUX_CLOUD", "Mars", 1);
	assert_int_equal(azl_cloud_from_env(NULL, &c), AZL_ENOTFOUND);
	assert_non_null(strstr(azl_error_message(), "AZLINUX_CLOUD: unknown cloud 'Mars'"));
	unsetenv("AZLINUX_CLOUD");
}

static void test_aks_hosts(void **state)
{
	const struct azl_cloud *pub, *cn, *gov;

	(void)state;
	assert_int_equal(azl_cloud_lookup("AzureCloud", &pub), 0);
	assert_int_equal(azl_cloud_lookup("AzureChinaCloud", &cn), 0);
	assert_int_equal(azl_cloud_lookup("AzureUSGovernment", &gov), 0);
	assert_true(azl_cloud_is_aks_host(pub, "prod-dns-1a2b3c4d.hcp.westeurope.azmk8s.io"));
	assert_true(azl_cloud_is_aks_host(pub, "x.privatelink.eastus.AZMK8S.IO"));
	assert_false(azl_cloud_is_aks_host(pub, "azmk8s.io"));
	assert_false(azl_cloud_is_aks_host(pub, "evil-azmk8s.io"));
	assert_false(azl_cloud_is_aks_host(pub, "x.hcp.chinaeast2.cx.prod.service.azk8s.cn"));
	assert_true(azl_cloud_is_aks_host(cn, "x.hcp.chinaeast2.cx.prod.service.azk8s.cn"));
	assert_true(azl_cloud_is_aks_host(gov, "x.hcp.usgovvirginia.cx.aks.containerservice.azure.us"));
	assert_false(azl_cloud_is_aks_host(gov, "x.hcp.eastus.azmk8s.io"));
	assert_false(azl_cloud_is_aks_host(pub, NULL));
	assert_false(azl_cloud_is_aks_host(NULL, "x.azmk8s.io"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_each_cloud),
		cmocka_unit_test(test_lookup_is_case_insensitive),
		cmocka_unit_test(test_unknown_cloud),
		cmocka_unit_test(test_from_env),
		cmocka_unit_test(test_aks_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
