/* plan.c: the plan for every pool shape the simulator's scenarios serve
 * (tests/sim/scenario.py: Ubuntu 22.04 and 24.04, Azure Linux 2.0 as
 * AzureLinux below 1.32 and as CBLMariner, AzureLinux3, Azure Linux 3.0,
 * Windows, Kata, GPU, confidential VM, System pools), built from ARM-shaped
 * JSON as azl_pool_from_json reads it: its kind, target, new pool spec,
 * upgrade path, blockers and risks, and the az command of its next step. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "error.h"
#include "json.h"
#include "plan.h"
#include "pool.h"
#include "testpool.h"

#define AZL3 "AKSAzureLinux-V3gen2-202607.09.0"
#define AZL2 "AKSAzureLinux-V2gen2-202512.06.0"
#define MARINER "AKSCBLMariner-V2gen2-202512.06.0"
#define UBUNTU "AKSUbuntu-2204gen2containerd-202607.09.0"
#define UBUNTU2404 "AKSUbuntu-2404gen2containerd-202607.09.0"
#define UBUNTU_GPU "AKSUbuntu-2204gen2gpucontainerd-202607.09.0"
#define WINDOWS "AKSWindows-2022-containerd-gen2-20348.3932.250709"

struct fixture {
	struct azl_cluster cluster;
	struct azl_pool pool;
	struct azl_plan plan;
	struct strbuf cmd;
};

static void push(char ***items, size_t *nr, const char *v)
{
	*items = realloc(*items, (*nr + 1) * sizeof(**items));
	(*items)[(*nr)++] = strdup(v);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	make_cluster(&f->cluster, "1.32.6", "1.32.6", "None");
	strbuf_init(&f->cmd, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	azl_cluster_release(&f->cluster);
	azl_pool_release(&f->pool);
	azl_plan_release(&f->plan);
	strbuf_release(&f->cmd);
	free(f);
	return 0;
}

static void pool(struct fixture *f, const char *name, const char *props)
{
	azl_pool_release(&f->pool);
	make_pool(&f->pool, name, props);
}

static const char *command(struct fixture *f)
{
	strbuf_reset(&f->cmd);
	azl_plan_az_command(&f->plan, &f->cluster, &f->cmd);
	return f->cmd.buf;
}

static void migrate(struct fixture *f, const struct azl_pool_names *taken)
{
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_migrate(&f->cluster, &f->pool, taken, &f->plan), 0);
	assert_string_equal(f->plan.pool, f->pool.name);
}

static void expect_codes(const struct azl_finding_list *list, const char *const *codes)
{
	size_t n = 0;

	for (; codes[n]; n++)
		if (!azl_plan_item(list, codes[n]))
			fail_msg("no item %s", codes[n]);
	assert_int_equal(list->nr, n);
}

static const char *const none[] = { NULL };

/* Every shape of scenario.py's mixed cluster and demo cluster, and what
 * moving it onto a supported Azure Linux is. */
static void test_every_scenario_shape(void **state)
{
	static const struct {
		const char *name, *props;
		enum azl_plan_kind kind;
		const char *target;
		const char *command;
	} shapes[] = {
		{ "azl3", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\",\"nodeImageVersion\":\"" AZL3 "\"",
		  AZL_PLAN_NONE, NULL, "" },
		{ "ubuntu", "\"osSKU\":\"Ubuntu\",\"orchestratorVersion\":\"1.32.6\",\"nodeImageVersion\":\"" UBUNTU "\"",
		  AZL_PLAN_OS_SKU_CHANGE, "AzureLinux",
		  "az aks nodepool update --resource-group rg1 --cluster-name aks1 --name ubuntu --os-sku AzureLinux" },
		{ "mariner", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.31.9\",\"nodeImageVersion\":\"" AZL2 "\"",
		  AZL_PLAN_KUBERNETES_UPGRADE, NULL,
		  "az aks nodepool upgrade --resource-group rg1 --cluster-name aks1 --name mariner --kubernetes-version 1.32.6" },
		{ "cbl", "\"osSKU\":\"CBLMariner\",\"orchestratorVersion\":\"1.31.9\",\"nodeImageVersion\":\"" MARINER "\"",
		  AZL_PLAN_OS_SKU_CHANGE, "AzureLinux3",
		  "az aks nodepool update --resource-group rg1 --cluster-name aks1 --name cbl --os-sku AzureLinux3" },
		{ "u2404", "\"osSKU\":\"Ubuntu2404\",\"orchestratorVersion\":\"1.32.6\",\"nodeImageVersion\":\"" UBUNTU2404 "\"",
		  AZL_PLAN_OS_SKU_CHANGE, "AzureLinux",
		  "az aks nodepool update --resource-group rg1 --cluster-name aks1 --name u2404 --os-sku AzureLinux" },
		{ "gpu", "\"osSKU\":\"AzureLinux\",\"vmSize\":\"Standard_NC6s_v3\",\"orchestratorVersion\":\"1.32.6\","
			 "\"nodeImageVersion\":\"" AZL3 "\"",
		  AZL_PLAN_NONE, NULL, "" },
		{ "win", "\"osType\":\"Windows\",\"osSKU\":\"Windows2022\",\"orchestratorVersion\":\"1.32.6\","
			 "\"nodeImageVersion\":\"" WINDOWS "\"",
		  AZL_PLAN_NONE, NULL, "" },
		{ "system", "\"mode\":\"System\",\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\","
			    "\"nodeImageVersion\":\"" AZL3 "\"",
		  AZL_PLAN_NONE, NULL, "" },
		{ "azl3pin", "\"osSKU\":\"AzureLinux3\",\"orchestratorVersion\":\"1.31.10\",\"nodeImageVersion\":\"" AZL3 "\"",
		  AZL_PLAN_NONE, NULL, "" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		pool(f, shapes[i].name, shapes[i].props);
		migrate(f, NULL);
		if (f->plan.kind != shapes[i].kind)
			fail_msg("%s: %s, not %s", shapes[i].name, azl_plan_kind_name(f->plan.kind),
				 azl_plan_kind_name(shapes[i].kind));
		if (shapes[i].target)
			assert_string_equal(f->plan.target_sku, shapes[i].target);
		assert_string_equal(command(f), shapes[i].command);
	}
	/* Windows cannot move at all, and the plan says why */
	pool(f, "win", shapes[6].props);
	migrate(f, NULL);
	assert_non_null(azl_plan_item(&f->plan.blockers, AZL_PLAN_BLOCK_WINDOWS));
}

/* Azure Linux 2.0 as AzureLinux: with the control plane on 1.32+ the pool
 * follows it to 3.0; on 1.31 the SKU changes to AzureLinux3. */
static void test_azure_linux2(void **state)
{
	static const char *const os_risk[] = { AZL_PLAN_RISK_OS_CHANGES, NULL };
	struct fixture *f = *state;

	pool(f, "mariner", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.31.9\",\"nodeImageVersion\":\"" AZL2 "\"");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_KUBERNETES_UPGRADE);
	assert_string_equal(f->plan.from_version, "1.31.9");
	assert_string_equal(f->plan.to_version, "1.32.6");
	assert_true(f->plan.behind_control_plane);
	assert_int_equal(f->plan.nr_path, 1);
	assert_false(f->plan.path[0].control_plane);
	assert_string_equal(f->plan.path[0].version, "1.32.6");
	expect_codes(&f->plan.risks, os_risk);
	expect_codes(&f->plan.blockers, none);

	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.31.9", "1.31.9", "None");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_OS_SKU_CHANGE);
	assert_string_equal(f->plan.target_sku, "AzureLinux3");

	/* AzureLinux3 starts at 1.28: older is blocked */
	pool(f, "old", "\"osSKU\":\"CBLMariner\",\"orchestratorVersion\":\"1.27.9\",\"nodeImageVersion\":\"" MARINER "\"");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_OS_SKU_CHANGE);
	assert_non_null(azl_plan_item(&f->plan.blockers, AZL_PLAN_BLOCK_OLD_KUBERNETES));
}

/* AzureLinux3 is fine until the cluster can reach 1.37: then the pool must
 * switch to the default SKU, urgently once the cluster is there. */
static void test_azure_linux3_pin(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *pin;

	pool(f, "azl3", "\"osSKU\":\"AzureLinux3\",\"orchestratorVersion\":\"1.36.2\",\"nodeImageVersion\":\"" AZL3 "\"");
	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.36.2", "1.36.2", "None");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_NONE);

	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.37.1");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_OS_SKU_CHANGE);
	assert_string_equal(f->plan.target_sku, "AzureLinux");
	pin = azl_plan_item(&f->plan.risks, AZL_PLAN_RISK_AZL3_PIN);
	assert_non_null(pin);
	assert_int_equal(pin->severity, AZL_SEVERITY_WARNING);
	assert_non_null(strstr(pin->message, "can upgrade to 1.37.1"));
	assert_string_equal(command(f),
			    "az aks nodepool update --resource-group rg1 --cluster-name aks1 --name azl3 --os-sku AzureLinux");

	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.37.1", "1.37.1", "None");
	migrate(f, NULL);
	pin = azl_plan_item(&f->plan.risks, AZL_PLAN_RISK_AZL3_PIN);
	assert_int_equal(pin->severity, AZL_SEVERITY_ERROR);
	assert_non_null(strstr(pin->message, "is on or upgrading to 1.37.1"));
}

/* Ubuntu below 1.32 must ask for AzureLinux3 in place: the default SKU
 * would land it on the retired 2.0. */
static void test_ubuntu_in_place_target(void **state)
{
	static const char *const gpu_risk[] = { AZL_PLAN_RISK_GPU, NULL };
	struct fixture *f = *state;

	pool(f, "u31", "\"osSKU\":\"Ubuntu\",\"orchestratorVersion\":\"1.31.9\",\"nodeImageVersion\":\"" UBUNTU "\"");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_OS_SKU_CHANGE);
	assert_string_equal(f->plan.target_sku, "AzureLinux3");
	expect_codes(&f->plan.blockers, none);
	expect_codes(&f->plan.risks, none);
	/* a GPU pool (not the dedicated VHD) moves in place, with a check */
	pool(f, "ugpu", "\"osSKU\":\"Ubuntu\",\"vmSize\":\"Standard_NC6s_v3\",\"orchestratorVersion\":\"1.32.6\","
		"\"nodeImageVersion\":\"" UBUNTU "\"");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_OS_SKU_CHANGE);
	expect_codes(&f->plan.risks, gpu_risk);
}

/* Kata cannot change OS in place: a new pool beside it carries the old
 * one's spec, Kata as Azure Linux runs it, and none of its own state. */
static void test_kata_side_by_side_spec(void **state)
{
	static const char *const kata[] = { AZL_PLAN_BLOCK_KATA, NULL };
	static const char *const autoscaler[] = { AZL_PLAN_RISK_AUTOSCALER, NULL };
	struct fixture *f = *state;
	const struct azl_pool_spec *s = &f->plan.new_pool;
	const cJSON *props;

	pool(f, "kata", "\"osSKU\":\"Ubuntu\",\"vmSize\":\"Standard_D4s_v3\",\"count\":2,"
		"\"orchestratorVersion\":\"1.32.6\",\"currentOrchestratorVersion\":\"1.32.6\","
		"\"nodeImageVersion\":\"" UBUNTU "\",\"workloadRuntime\":\"KataMshvVmIsolation\","
		"\"enableAutoScaling\":true,\"minCount\":1,\"maxCount\":5,\"availabilityZones\":[\"1\",\"2\"],"
		"\"maxPods\":50,\"osDiskSizeGB\":64,\"osDiskType\":\"Ephemeral\","
		"\"vnetSubnetID\":\"/subscriptions/sub1/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/s\","
		"\"nodeLabels\":{\"team\":\"a\"},\"nodeTaints\":[\"sandbox=true:NoSchedule\"],"
		"\"tags\":{\"owner\":\"x\"},\"kubeletConfig\":{\"cpuManagerPolicy\":\"static\"},"
		"\"linuxOSConfig\":{\"swapFileSizeMB\":1500},\"upgradeSettings\":{\"maxSurge\":\"33%\"},"
		"\"provisioningState\":\"Succeeded\",\"powerState\":{\"code\":\"Running\"},"
		"\"eTag\":\"abc\",\"creationData\":{\"sourceResourceId\":\"/snap\"}");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_SIDE_BY_SIDE);
	expect_codes(&f->plan.blockers, kata);
	expect_codes(&f->plan.risks, autoscaler);
	assert_string_equal(s->name, "kataazl");
	assert_string_equal(s->os_sku, "AzureLinux");
	assert_string_equal(f->plan.target_sku, "AzureLinux");
	assert_string_equal(s->vm_size, "Standard_D4s_v3");
	assert_int_equal(s->count, 2);
	assert_true(s->autoscaling);
	assert_int_equal(s->min_count, 1);
	assert_int_equal(s->max_count, 5);
	assert_string_equal(s->zones, "1,2");
	assert_string_equal(s->mode, "User");
	assert_string_equal(s->workload_runtime, "KataVmIsolation");
	assert_string_equal(s->kubernetes_version, "1.32.6");
	assert_string_equal(s->max_surge, "33%");
	props = s->properties;
	assert_string_equal(azl_json_str(props, "osSKU", ""), "AzureLinux");
	assert_string_equal(azl_json_str(props, "workloadRuntime", ""), "KataVmIsolation");
	assert_string_equal(azl_json_str(props, "orchestratorVersion", ""), "1.32.6");
	assert_int_equal(azl_json_int(props, "count", 0), 2);
	assert_int_equal(azl_json_int(props, "maxCount", 0), 5);
	assert_int_equal(azl_json_int(props, "maxPods", 0), 50);
	assert_int_equal(azl_json_int(props, "osDiskSizeGB", 0), 64);
	assert_string_equal(azl_json_str(props, "osDiskType", ""), "Ephemeral");
	assert_true(strstr(azl_json_str(props, "vnetSubnetID", ""), "/subnets/s") != NULL);
	assert_string_equal(azl_json_str(props, "nodeLabels.team", ""), "a");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(props, "nodeTaints"), 0)->valuestring,
			    "sandbox=true:NoSchedule");
	assert_string_equal(azl_json_str(props, "tags.owner", ""), "x");
	assert_string_equal(azl_json_str(props, "kubeletConfig.cpuManagerPolicy", ""), "static");
	assert_int_equal(azl_json_int(props, "linuxOSConfig.swapFileSizeMB", 0), 1500);
	assert_string_equal(azl_json_str(props, "upgradeSettings.maxSurge", ""), "33%");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(props, "availabilityZones")), 2);
	assert_null(cJSON_GetObjectItem(props, "nodeImageVersion"));
	assert_null(cJSON_GetObjectItem(props, "currentOrchestratorVersion"));
	assert_null(cJSON_GetObjectItem(props, "provisioningState"));
	assert_null(cJSON_GetObjectItem(props, "powerState"));
	assert_null(cJSON_GetObjectItem(props, "eTag"));
	assert_null(cJSON_GetObjectItem(props, "creationData"));
	assert_string_equal(command(f),
			    "az aks nodepool add --resource-group rg1 --cluster-name aks1 --name kataazl "
			    "--os-sku AzureLinux --node-vm-size Standard_D4s_v3 --node-count 2 "
			    "--workload-runtime KataVmIsolation");
}

/* A confidential System pool moves side by side as a System pool. */
static void test_confidential_system_pool(void **state)
{
	static const char *const cvm[] = { AZL_PLAN_BLOCK_CONFIDENTIAL, NULL };
	static const char *const system[] = { AZL_PLAN_RISK_SYSTEM_POOL, NULL };
	struct fixture *f = *state;

	pool(f, "cvm", "\"mode\":\"System\",\"osSKU\":\"Ubuntu\",\"vmSize\":\"Standard_DC4as_v5\",\"count\":0,"
		"\"orchestratorVersion\":\"1.32.6\",\"nodeImageVersion\":\"" UBUNTU "\"");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_SIDE_BY_SIDE);
	expect_codes(&f->plan.blockers, cvm);
	expect_codes(&f->plan.risks, system);
	assert_string_equal(f->plan.new_pool.mode, "System");
	assert_int_equal(f->plan.new_pool.count, 1);  /* never an empty pool */
	assert_string_equal(f->plan.new_pool.workload_runtime, "");
	assert_string_equal(command(f),
			    "az aks nodepool add --resource-group rg1 --cluster-name aks1 --name cvmazl "
			    "--os-sku AzureLinux --node-vm-size Standard_DC4as_v5 --node-count 1 --mode System");
	/* by security type too */
	pool(f, "cvm2", "\"osSKU\":\"Ubuntu\",\"vmSize\":\"Standard_D4s_v5\",\"orchestratorVersion\":\"1.32.6\","
		"\"nodeImageVersion\":\"" UBUNTU "\",\"securityProfile\":{\"securityType\":\"ConfidentialVM\"}");
	migrate(f, NULL);
	expect_codes(&f->plan.blockers, cvm);
}

/* The GPU dedicated VHD and Kubernetes below 1.28 block the in-place way,
 * each a blocker of its own. */
static void test_gpu_vhd_and_old_kubernetes(void **state)
{
	static const char *const both[] = { AZL_PLAN_BLOCK_GPU_VHD, AZL_PLAN_BLOCK_OLD_KUBERNETES, NULL };
	struct fixture *f = *state;
	struct strbuf text = STRBUF_INIT;

	pool(f, "gpuvhd", "\"osSKU\":\"Ubuntu\",\"vmSize\":\"Standard_NC24ads_A100_v4\",\"orchestratorVersion\":\"1.27.3\","
		"\"nodeImageVersion\":\"" UBUNTU_GPU "\"");
	migrate(f, NULL);
	assert_int_equal(f->plan.kind, AZL_PLAN_SIDE_BY_SIDE);
	expect_codes(&f->plan.blockers, both);
	assert_non_null(azl_plan_item(&f->plan.risks, AZL_PLAN_RISK_GPU));
	azl_plan_blocker_text(&f->plan, &text);
	assert_string_equal(text.buf, "GPU dedicated VHD, Kubernetes older than 1.28");
	strbuf_release(&text);
}

/* The new pool's name fits in 12 characters and is none of its siblings'. */
static void test_new_pool_name_unique(void **state)
{
	struct fixture *f = *state;
	char *names[] = { "ubuntupool12", "UbuntuPooAzl", "ubuntupoazl2" };
	struct azl_pool_names taken = { names, 3 };

	pool(f, "ubuntupool12", "\"osSKU\":\"Ubuntu\",\"orchestratorVersion\":\"1.32.6\","
		"\"nodeImageVersion\":\"" UBUNTU "\",\"workloadRuntime\":\"KataVmIsolation\"");
	migrate(f, NULL);
	assert_string_equal(f->plan.new_pool.name, "ubuntupooazl");
	migrate(f, &taken);
	assert_string_equal(f->plan.new_pool.name, "ubuntupoazl3");
	assert_true(strlen(f->plan.new_pool.name) <= 12);
}

static void test_node_image(void **state)
{
	static const char *const automatic[] = { AZL_PLAN_RISK_AUTOMATIC, NULL };
	struct fixture *f = *state;

	pool(f, "azl3", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\",\"nodeImageVersion\":\"" AZL3 "\"");
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_node_image(&f->cluster, &f->pool, &f->plan), 0);
	assert_int_equal(f->plan.kind, AZL_PLAN_NONE);  /* latest unknown */
	free(f->pool.latest_node_image_version);
	f->pool.latest_node_image_version = strdup("AKSAzureLinux-V3gen2-202608.01.0");
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_node_image(&f->cluster, &f->pool, &f->plan), 0);
	assert_int_equal(f->plan.kind, AZL_PLAN_NODE_IMAGE_UPGRADE);
	assert_string_equal(f->plan.node_image_version, "AKSAzureLinux-V3gen2-202608.01.0");
	expect_codes(&f->plan.risks, none);
	assert_string_equal(command(f),
			    "az aks nodepool upgrade --resource-group rg1 --cluster-name aks1 --name azl3 --node-image-only");
	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.32.6", "1.32.6", "NodeImage");
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_node_image(&f->cluster, &f->pool, &f->plan), 0);
	expect_codes(&f->plan.risks, automatic);
}

/* A pool's own upgrade: the newest its profile offers, never past the
 * control plane. */
static void test_kubernetes_pool_upgrade(void **state)
{
	struct fixture *f = *state;

	pool(f, "p", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.31.9\",\"nodeImageVersion\":\"" AZL3 "\"");
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_kubernetes(&f->cluster, &f->pool, NULL, &f->plan), 0);
	assert_int_equal(f->plan.kind, AZL_PLAN_NONE);  /* nothing offered */
	push(&f->pool.upgrades, &f->pool.nr_upgrades, "1.32.1");
	push(&f->pool.upgrades, &f->pool.nr_upgrades, "1.32.6");
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_kubernetes(&f->cluster, &f->pool, NULL, &f->plan), 0);
	assert_int_equal(f->plan.kind, AZL_PLAN_KUBERNETES_UPGRADE);
	assert_string_equal(f->plan.to_version, "1.32.6");
	assert_true(f->plan.behind_control_plane);
	assert_int_equal(f->plan.nr_path, 1);
	assert_false(f->plan.path[0].control_plane);
	assert_string_equal(command(f),
			    "az aks nodepool upgrade --resource-group rg1 --cluster-name aks1 --name p --kubernetes-version 1.32.6");
	/* the version it runs: nothing to do; not a version: an error */
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_kubernetes(&f->cluster, &f->pool, "1.31.9", &f->plan), 0);
	assert_int_equal(f->plan.kind, AZL_PLAN_NONE);
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_kubernetes(&f->cluster, &f->pool, "latest", &f->plan), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "latest"));
}

/* Past the control plane: the control plane first, one minor at a time,
 * then the pool. */
static void test_kubernetes_path(void **state)
{
	struct fixture *f = *state;

	pool(f, "p", "\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\",\"nodeImageVersion\":\"" AZL3 "\"");
	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.33.1");
	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.33.3");
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_kubernetes(&f->cluster, &f->pool, "1.35.2", &f->plan), 0);
	assert_int_equal(f->plan.kind, AZL_PLAN_KUBERNETES_UPGRADE);
	expect_codes(&f->plan.blockers, none);
	assert_false(f->plan.behind_control_plane);
	assert_int_equal(f->plan.nr_path, 4);
	assert_true(f->plan.path[0].control_plane);
	assert_string_equal(f->plan.path[0].version, "1.33.3");
	assert_true(f->plan.path[1].control_plane);
	assert_string_equal(f->plan.path[1].version, "1.34");
	assert_true(f->plan.path[2].control_plane);
	assert_string_equal(f->plan.path[2].version, "1.35.2");
	assert_false(f->plan.path[3].control_plane);
	assert_string_equal(f->plan.path[3].version, "1.35.2");
	assert_string_equal(command(f),
			    "az aks upgrade --resource-group rg1 --name aks1 --kubernetes-version 1.33.3 --control-plane-only");

	/* the next minor, by name or exact version */
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_kubernetes(&f->cluster, &f->pool, "1.33.1", &f->plan), 0);
	assert_int_equal(f->plan.nr_path, 2);
	assert_string_equal(f->plan.path[0].version, "1.33.1");
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_kubernetes(&f->cluster, &f->pool, "1.33.2", &f->plan), 0);
	assert_non_null(azl_plan_item(&f->plan.blockers, AZL_PLAN_BLOCK_NO_VERSION));
	assert_non_null(strstr(f->plan.blockers.items[0].message, "no upgrade to 1.33.2"));
}

/* No upgrade offered for the next minor blocks the path; AzureLinux3 past
 * 1.36 is blocked too. */
static void test_kubernetes_blockers(void **state)
{
	struct fixture *f = *state;

	pool(f, "p", "\"osSKU\":\"AzureLinux3\",\"orchestratorVersion\":\"1.36.2\",\"nodeImageVersion\":\"" AZL3 "\"");
	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.36.2", "1.36.2", "None");
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_kubernetes(&f->cluster, &f->pool, "1.37", &f->plan), 0);
	assert_non_null(azl_plan_item(&f->plan.blockers, AZL_PLAN_BLOCK_NO_VERSION));
	assert_non_null(azl_plan_item(&f->plan.blockers, AZL_PLAN_BLOCK_AZL3_PIN));
	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.37.0");
	azl_plan_release(&f->plan);
	assert_int_equal(azl_plan_kubernetes(&f->cluster, &f->pool, "1.37", &f->plan), 0);
	assert_null(azl_plan_item(&f->plan.blockers, AZL_PLAN_BLOCK_NO_VERSION));
	assert_non_null(azl_plan_item(&f->plan.blockers, AZL_PLAN_BLOCK_AZL3_PIN));
	assert_string_equal(f->plan.path[0].version, "1.37.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_scenario_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_azure_linux2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_azure_linux3_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ubuntu_in_place_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kata_side_by_side_spec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confidential_system_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpu_vhd_and_old_kubernetes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_pool_name_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubernetes_pool_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubernetes_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubernetes_blockers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
