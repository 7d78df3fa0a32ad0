/* findings.c: each finding from ARM-shaped agent pools and clusters (parsed
 * by azl_pool_from_json / azl_cluster_from_json), its severity, code and
 * the next-step command in its message; migration blockers; ordering;
 * version helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "findings.h"
#include "pool.h"
#include "testpool.h"

#define AZL3 "AKSAzureLinux-V3gen2-202607.09.0"
#define AZL2 "AKSAzureLinux-V2gen2-202512.06.0"
#define MARINER "AKSCBLMariner-V2gen2-202512.06.0"
#define UBUNTU "AKSUbuntu-2204gen2containerd-202607.09.0"

struct fixture {
	struct azl_cluster cluster;
	struct azl_pool pool;
	struct azl_finding_list findings;
};

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
}

static void add_upgrade(char ***items, size_t *nr, const char *v)
{
	*items = realloc(*items, (*nr + 1) * sizeof(**items));
	(*items)[(*nr)++] = strdup(v);
}

static void evaluate(struct fixture *f)
{
	azl_finding_list_release(&f->findings);
	azl_findings_evaluate(&f->cluster, &f->pool, &f->findings);
}

static const struct azl_finding *find(const struct fixture *f, const char *code)
{
	for (size_t i = 0; i < f->findings.nr; i++)
		if (!strcmp(f->findings.items[i].code, code))
			return &f->findings.items[i];
	return NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	make_cluster(&f->cluster, "1.32.6", "1.32.6", "None");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	azl_cluster_release(&f->cluster);
	azl_pool_release(&f->pool);
	azl_finding_list_release(&f->findings);
	free(f);
	return 0;
}

static void test_azure_linux2_retired_upgrade(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;

	make_pool(&f->pool, "mariner", "\"osType\":\"Linux\",\"osSKU\":\"AzureLinux\","
		  "\"orchestratorVersion\":\"1.31.9\",\"nodeImageVersion\":\"" AZL2 "\","
		  "\"count\":2,\"vmSize\":\"Standard_D4ds_v5\",\"provisioningState\":\"Succeeded\"");
	add_upgrade(&f->pool.upgrades, &f->pool.nr_upgrades, "1.32.6");
	set_str(&f->pool.latest_node_image_version, "AKSAzureLinux-V2gen2-202512.06.0");
	evaluate(f);
	x = find(f, AZL_FINDING_AZURE_LINUX2_RETIRED);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_ERROR);
	assert_non_null(strstr(x->message, "2026-03-31"));
	assert_non_null(strstr(x->message, "cannot scale"));
	assert_non_null(strstr(x->message,
		"kubectl azlinux upgrade mariner --kubernetes-version 1.32.6"));
	/* the upgrade is the fix: not repeated as a second finding */
	assert_null(find(f, AZL_FINDING_KUBERNETES_UPGRADE));
	assert_int_equal(azl_findings_worst(&f->findings), AZL_SEVERITY_ERROR);
}

static void test_mariner_on_old_cluster_moves_to_azl3_sku(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;

	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.31.9", "1.31.9", "None");
	make_pool(&f->pool, "cbl", "\"osSKU\":\"CBLMariner\",\"orchestratorVersion\":\"1.31.9\","
		  "\"nodeImageVersion\":\"" MARINER "\",\"count\":1,\"provisioningState\":\"Succeeded\"");
	evaluate(f);
	x = find(f, AZL_FINDING_AZURE_LINUX2_RETIRED);
	assert_non_null(x);
	assert_non_null(strstr(x->message,
		"kubectl azlinux migrate cbl --to AzureLinux3"));
}

static void test_azure_linux3_has_no_retirement(void **state)
{
	struct fixture *f = *state;

	make_pool(&f->pool, "system", "\"mode\":\"System\",\"osSKU\":\"AzureLinux\","
		  "\"orchestratorVersion\":\"1.32.6\",\"nodeImageVersion\":\"" AZL3 "\",\"count\":3,"
		  "\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = f->pool.ready_nodes = 3;
	evaluate(f);
	assert_int_equal(f->findings.nr, 0);
	assert_int_equal(azl_findings_worst(&f->findings), -1);
}

static void test_node_image_upgrade(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;

	make_pool(&f->pool, "np1", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"" AZL3 "\",\"count\":3,\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = f->pool.ready_nodes = 3;
	set_str(&f->pool.latest_node_image_version, "AKSAzureLinux-V3gen2-202608.14.0");
	evaluate(f);
	x = find(f, AZL_FINDING_NODE_IMAGE_UPGRADE);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_WARNING);
	assert_non_null(strstr(x->message, "AKSAzureLinux-V3gen2-202608.14.0"));
	assert_non_null(strstr(x->message,
		"kubectl azlinux upgrade np1 --node-image"));

	/* with the NodeImage channel AKS applies it: only informational */
	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.32.6", "1.32.6", "NodeImage");
	evaluate(f);
	x = find(f, AZL_FINDING_NODE_IMAGE_UPGRADE);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_INFO);

	/* up to date: nothing */
	set_str(&f->pool.latest_node_image_version, AZL3);
	evaluate(f);
	assert_null(find(f, AZL_FINDING_NODE_IMAGE_UPGRADE));
}

static void test_kubernetes_upgrade(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;

	make_pool(&f->pool, "np1", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"" AZL3 "\",\"count\":1,\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = f->pool.ready_nodes = 1;
	add_upgrade(&f->pool.upgrades, &f->pool.nr_upgrades, "1.32.7");
	add_upgrade(&f->pool.upgrades, &f->pool.nr_upgrades, "1.33.2");
	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.33.2", "1.33.2", "None");
	evaluate(f);
	x = find(f, AZL_FINDING_KUBERNETES_UPGRADE);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_WARNING);
	assert_non_null(strstr(x->message, "behind the control plane"));
	assert_non_null(strstr(x->message, "kubectl azlinux upgrade np1 --kubernetes-version 1.33.2"));

	/* level with the control plane: informational */
	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.32.6", "1.32.6", "None");
	evaluate(f);
	x = find(f, AZL_FINDING_KUBERNETES_UPGRADE);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_INFO);
}

static void test_ubuntu_in_place(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;
	struct strbuf why = STRBUF_INIT;

	make_pool(&f->pool, "ubuntu", "\"osSKU\":\"Ubuntu\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"" UBUNTU "\",\"count\":3,\"vmSize\":\"Standard_D4ds_v5\","
		  "\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = f->pool.ready_nodes = 3;
	assert_string_equal(f->pool.os.name, "Ubuntu 22.04");
	assert_int_equal(azl_findings_migration_blockers(&f->pool, &why), 0);
	evaluate(f);
	x = find(f, AZL_FINDING_UBUNTU_CAN_MIGRATE);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_INFO);
	assert_non_null(strstr(x->message, "in place"));
	assert_non_null(strstr(x->message,
		"kubectl azlinux migrate ubuntu --to AzureLinux"));
	strbuf_release(&why);
}

static void test_ubuntu_below_132_targets_azurelinux3(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;

	make_pool(&f->pool, "old", "\"osSKU\":\"Ubuntu\",\"orchestratorVersion\":\"1.31.9\","
		  "\"nodeImageVersion\":\"" UBUNTU "\",\"count\":1,\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = f->pool.ready_nodes = 1;
	evaluate(f);
	x = find(f, AZL_FINDING_UBUNTU_CAN_MIGRATE);
	assert_non_null(x);
	/* the default SKU would land on the retired 2.0 */
	assert_non_null(strstr(x->message, "--to AzureLinux3"));
}

static void test_ubuntu_kata_blocked(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;
	struct strbuf why = STRBUF_INIT;

	make_pool(&f->pool, "katapool", "\"osSKU\":\"Ubuntu\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"" UBUNTU "\",\"count\":2,\"vmSize\":\"Standard_D4s_v3\","
		  "\"mode\":\"System\",\"workloadRuntime\":\"KataMshvVmIsolation\","
		  "\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = f->pool.ready_nodes = 2;
	assert_int_equal(azl_findings_migration_blockers(&f->pool, &why), 1);
	assert_string_equal(why.buf, "Kata workload runtime");
	evaluate(f);
	x = find(f, AZL_FINDING_UBUNTU_CAN_MIGRATE);
	assert_non_null(x);
	assert_non_null(strstr(x->message, "cannot move to Azure Linux in place (Kata workload runtime)"));
	assert_non_null(strstr(x->message,
		"kubectl azlinux migrate katapool --to AzureLinux --new-pool katapoolazl"));
	strbuf_release(&why);
}

static void test_blockers_cvm_gpu_vhd_windows(void **state)
{
	struct fixture *f = *state;
	struct strbuf why = STRBUF_INIT;

	make_pool(&f->pool, "cvm", "\"osSKU\":\"Ubuntu\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"" UBUNTU "\",\"vmSize\":\"Standard_DC4as_v5\"");
	assert_int_equal(azl_findings_migration_blockers(&f->pool, &why), 1);
	assert_string_equal(why.buf, "confidential VM");
	azl_pool_release(&f->pool);

	make_pool(&f->pool, "gpuvhd", "\"osSKU\":\"Ubuntu\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"AKSUbuntu-2204gen2gpucontainerd-202607.09.0\","
		  "\"vmSize\":\"Standard_NC6s_v3\"");
	assert_true(f->pool.gpu);
	assert_true(f->pool.gpu_dedicated_vhd);
	assert_int_equal(azl_findings_migration_blockers(&f->pool, &why), 1);
	assert_string_equal(why.buf, "GPU dedicated VHD");
	azl_pool_release(&f->pool);

	make_pool(&f->pool, "win", "\"osType\":\"Windows\",\"osSKU\":\"Windows2022\","
		  "\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"AKSWindows-2022-containerd-gen2-20348.3932.250709\"");
	assert_int_equal(azl_findings_migration_blockers(&f->pool, &why), 1);
	assert_non_null(strstr(why.buf, "Windows"));
	evaluate(f);
	/* Windows is not Ubuntu: no migration advice */
	assert_null(find(f, AZL_FINDING_UBUNTU_CAN_MIGRATE));
	azl_pool_release(&f->pool);

	/* an ordinary D-series is not confidential */
	make_pool(&f->pool, "plain", "\"osSKU\":\"Ubuntu\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"" UBUNTU "\",\"vmSize\":\"Standard_D4ads_v5\"");
	assert_int_equal(azl_findings_migration_blockers(&f->pool, &why), 0);
	strbuf_release(&why);
}

static void test_azurelinux3_pin(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;

	make_pool(&f->pool, "pinned", "\"osSKU\":\"AzureLinux3\",\"orchestratorVersion\":\"1.36.2\","
		  "\"nodeImageVersion\":\"" AZL3 "\",\"count\":1,\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = f->pool.ready_nodes = 1;
	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.36.2", "1.36.2", "None");
	evaluate(f);
	assert_null(find(f, AZL_FINDING_AZURE_LINUX3_PIN));

	/* 1.37 is available: warn */
	add_upgrade(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.37.1");
	evaluate(f);
	x = find(f, AZL_FINDING_AZURE_LINUX3_PIN);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_WARNING);
	assert_non_null(strstr(x->message,
		"kubectl azlinux migrate pinned --to AzureLinux"));

	/* upgrading to 1.37: error */
	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.37.1", "1.36.2", "None");
	evaluate(f);
	x = find(f, AZL_FINDING_AZURE_LINUX3_PIN);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_ERROR);
	assert_non_null(strstr(x->message, "1.37.1"));
}

static void test_provisioning_failed(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;

	make_pool(&f->pool, "broken", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"" AZL3 "\",\"count\":1,\"provisioningState\":\"Failed\","
		  "\"status\":{\"provisioningError\":{\"code\":\"VMExtensionError\",\"message\":\"vmssCSE failed\"}}");
	evaluate(f);
	x = find(f, AZL_FINDING_PROVISIONING_FAILED);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_ERROR);
	assert_non_null(strstr(x->message, "vmssCSE failed"));
	assert_non_null(strstr(x->message,
		"az aks nodepool update --resource-group rg1 --cluster-name aks1 --name broken"));
	/* a failed pool is not also reported for its nodes */
	assert_null(find(f, AZL_FINDING_NODES_NOT_READY));
}

static void test_nodes_not_ready(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *x;

	make_pool(&f->pool, "np1", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"" AZL3 "\",\"count\":3,\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = 3;
	f->pool.ready_nodes = 2;
	add_upgrade(&f->pool.not_ready, &f->pool.nr_not_ready, "aks-np1-12345678-vmss000001");
	evaluate(f);
	x = find(f, AZL_FINDING_NODES_NOT_READY);
	assert_non_null(x);
	assert_int_equal(x->severity, AZL_SEVERITY_WARNING);
	assert_non_null(strstr(x->message, "1 of 3 nodes is not Ready (aks-np1-12345678-vmss000001)"));
	assert_non_null(strstr(x->message, "kubectl describe node aks-np1-12345678-vmss000001"));

	/* VMs that never registered count too */
	azl_pool_release(&f->pool);
	make_pool(&f->pool, "np2", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\","
		  "\"nodeImageVersion\":\"" AZL3 "\",\"count\":3,\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = f->pool.ready_nodes = 2;
	evaluate(f);
	x = find(f, AZL_FINDING_NODES_NOT_READY);
	assert_non_null(x);
	assert_non_null(strstr(x->message, "1 of 3 VMs is not registered"));

	/* a stopped pool has no nodes on purpose */
	set_str(&f->pool.power_state, "Stopped");
	f->pool.nodes = f->pool.ready_nodes = 0;
	evaluate(f);
	assert_null(find(f, AZL_FINDING_NODES_NOT_READY));
}

static void test_gpu_noted_and_order(void **state)
{
	struct fixture *f = *state;

	make_pool(&f->pool, "gpu", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.31.9\","
		  "\"nodeImageVersion\":\"" AZL2 "\",\"count\":1,\"vmSize\":\"Standard_NC6s_v3\","
		  "\"provisioningState\":\"Succeeded\"");
	f->pool.nodes = 1;
	f->pool.ready_nodes = 0;
	add_upgrade(&f->pool.not_ready, &f->pool.nr_not_ready, "aks-gpu-1");
	evaluate(f);
	assert_true(f->pool.gpu);
	assert_int_equal(f->findings.nr, 3);
	/* most severe first */
	assert_string_equal(f->findings.items[0].code, AZL_FINDING_AZURE_LINUX2_RETIRED);
	assert_string_equal(f->findings.items[1].code, AZL_FINDING_NODES_NOT_READY);
	assert_string_equal(f->findings.items[2].code, AZL_FINDING_GPU_POOL);
	assert_int_equal(f->findings.items[2].severity, AZL_SEVERITY_INFO);
	assert_non_null(strstr(f->findings.items[2].message, "Standard_NC6s_v3"));
	assert_string_equal(azl_severity_name(AZL_SEVERITY_WARNING), "warning");
}

static void test_versions(void **state)
{
	int major, minor;

	(void)state;
	assert_int_equal(azl_version_minor("1.32.6", &major, &minor), 0);
	assert_int_equal(minor, 32);
	assert_int_equal(azl_version_minor("v1.37", &major, &minor), 0);
	assert_int_equal(major, 1);
	assert_int_equal(minor, 37);
	assert_int_equal(azl_version_minor("latest", &major, &minor), -1);
	assert_true(azl_version_compare("1.32.10", "1.32.9") > 0);
	assert_true(azl_version_compare("1.9.0", "1.32.0") < 0);
	assert_true(azl_version_compare("v1.32.6", "1.32.6") == 0);
	assert_true(azl_version_compare("1.32", "1.32.1") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_azure_linux2_retired_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mariner_on_old_cluster_moves_to_azl3_sku, setup, teardown),
		cmocka_unit_test_setup_teardown(test_azure_linux3_has_no_retirement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_image_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubernetes_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ubuntu_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ubuntu_below_132_targets_azurelinux3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ubuntu_kata_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blockers_cvm_gpu_vhd_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_azurelinux3_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provisioning_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_not_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpu_noted_and_order, setup, teardown),
		cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
