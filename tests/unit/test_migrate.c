/* migrate.c and operation.c's pure parts: the target rules (AzureLinux,
 * AzureLinux3 below 1.32, a 2.0 landing refused), the strategy (Kata side
 * by side, a forced in-place that AKS refuses, Windows), the plan's steps
 * and commands, AKS's drain failure parsed, the preflight severities, and
 * the journal's data record refusing a secret. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "error.h"
#include "journal.h"
#include "json.h"
#include "migrate.h"
#include "operation.h"
#include "pool.h"
#include "testpool.h"

#define AZL2 "AKSAzureLinux-V2gen2-202512.06.0"
#define MARINER "AKSCBLMariner-V2gen2-202512.06.0"
#define AZL3 "AKSAzureLinux-V3gen2-202607.09.0"
#define UBUNTU "AKSUbuntu-2204gen2containerd-202607.09.0"

struct fixture {
	struct azl_cluster cluster;
	struct azl_pool pools[2];
	struct azl_pool_list list;
	struct azl_migrate_plan plan;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	make_cluster(&f->cluster, "1.32.6", "1.32.6", "NodeImage");
	f->list.items = f->pools;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->list.nr; i++)
		azl_pool_release(&f->pools[i]);
	azl_migrate_plan_release(&f->plan);
	azl_cluster_release(&f->cluster);
	free(f);
	return 0;
}

/* Pool "work" (and "system", an Azure Linux 3.0 System pool). */
static void pool(struct fixture *f, const char *sku, const char *image, const char *version,
		 const char *more)
{
	char props[2048];

	snprintf(props, sizeof(props),
		 "\"mode\":\"System\",\"osType\":\"Linux\",\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"1.32.6\","
		 "\"nodeImageVersion\":\"%s\",\"vmSize\":\"Standard_D4ds_v5\",\"count\":3,\"eTag\":\"e0\"",
		 AZL3);
	make_pool(&f->pools[0], "system", props);
	snprintf(props, sizeof(props),
		 "\"mode\":\"User\",\"osType\":\"Linux\",\"osSKU\":\"%s\",\"orchestratorVersion\":\"%s\","
		 "\"nodeImageVersion\":\"%s\",\"vmSize\":\"Standard_D4ds_v5\",\"count\":4,\"eTag\":\"e1\",\"provisioningState\":\"Succeeded\"%s",
		 sku, version, image, more ? more : "");
	make_pool(&f->pools[1], "work", props);
	f->list.nr = 2;
}

static int plan(struct fixture *f, const char *to, const char *strategy)
{
	struct azl_migrate_options o = AZL_MIGRATE_OPTIONS_INIT;

	o.to = to;
	o.strategy = strategy;
	azl_migrate_plan_release(&f->plan);
	return azl_migrate_plan_make(&f->cluster, &f->list, "work", &o, &f->plan);
}

static void test_ubuntu_in_place(void **state)
{
	struct fixture *f = *state;

	pool(f, "Ubuntu", UBUNTU, "1.32.6", NULL);
	assert_int_equal(plan(f, NULL, NULL), 0);
	assert_int_equal(f->plan.strategy, AZL_MIGRATE_IN_PLACE);
	assert_string_equal(f->plan.to.os_sku, "AzureLinux");
	assert_string_equal(f->plan.to.os_version, "3.0");
	assert_string_equal(f->plan.etag, "e1");
	assert_int_equal(f->plan.nr_steps, 2);
	assert_string_equal(f->plan.steps[0], "update-pool");
	assert_non_null(strstr(f->plan.commands.buf,
			       "az aks nodepool update --resource-group rg1 --cluster-name aks1 --name work --os-sku AzureLinux"));
	assert_non_null(strstr(f->plan.terraform.buf, "os_sku = \"AzureLinux\""));
}

static void test_ubuntu_below_1_32_gets_azurelinux3(void **state)
{
	struct fixture *f = *state;

	pool(f, "Ubuntu", UBUNTU, "1.31.9", NULL);
	assert_int_equal(plan(f, NULL, NULL), 0);
	assert_string_equal(f->plan.to.os_sku, "AzureLinux3");
	assert_int_equal(plan(f, "AzureLinux", NULL), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "Azure Linux 2.0, which is retired"));
}

/* The expected duration the maintenance window is held against: batches
 * of surge nodes in place, the new pool and a drain per node side by side. */
static void test_expected_minutes(void **state)
{
	struct fixture *f = *state;

	pool(f, "Ubuntu", UBUNTU, "1.32.6",
	     ",\"upgradeSettings\":{\"maxSurge\":\"50%\",\"nodeSoakDurationInMinutes\":5}");
	assert_int_equal(plan(f, NULL, NULL), 0);
	/* 4 nodes, 2 at a time: 2 batches of 15 + 5 soak */
	assert_int_equal(azl_migrate_expected_minutes(&f->plan, &f->pools[1]), 40);
	f->plan.opts.max_surge = "1";
	f->plan.opts.node_soak_min = 0;
	assert_int_equal(azl_migrate_expected_minutes(&f->plan, &f->pools[1]), 60);
	assert_int_equal(plan(f, NULL, "side-by-side"), 0);
	/* the new pool, then 4 drains of 5 + 5 soak */
	assert_int_equal(azl_migrate_expected_minutes(&f->plan, &f->pools[1]), 15 + 4 * 10);
}

static const struct azl_finding *limit_item(struct fixture *f, const char *code)
{
	azl_finding_list_release(&f->plan.preflight);
	azl_migrate_check_cluster_limits(&f->cluster, &f->list, &f->plan, &f->plan.preflight);
	return azl_plan_item(&f->plan.preflight, code);
}

/* AKS's node limits: 1,000 a Free cluster, 5,000 a Standard one; near is
 * above 90%; pools are counted by ARM's count. */
static void test_cluster_node_limit(void **state)
{
	struct fixture *f = *state;
	const struct azl_finding *it;

	pool(f, "Ubuntu", UBUNTU, "1.32.6", NULL);
	f->pools[0].count = 990;                        /* + work's 4 = 994 */
	assert_int_equal(plan(f, NULL, NULL), 0);
	it = limit_item(f, "ClusterNodeLimit");         /* surge 1: 995 of 1000 */
	assert_non_null(it);
	assert_int_equal(it->severity, AZL_SEVERITY_WARNING);
	assert_non_null(strstr(it->message, "995 nodes during the move, near AKS's 1000"));
	assert_int_equal(plan(f, NULL, "side-by-side"), 0);
	f->pools[0].count = 997;                        /* 1001 side by side */
	it = limit_item(f, "ClusterNodeLimit");
	assert_int_equal(it->severity, AZL_SEVERITY_ERROR);
	assert_non_null(strstr(it->message, "1005 nodes during the move (1001 now and 4 new), past AKS's 1000 a cluster on the Free tier"));
	assert_non_null(strstr(it->message, "Standard tier"));
	free(f->cluster.sku_tier);
	f->cluster.sku_tier = strdup("Standard");
	it = limit_item(f, "ClusterNodeLimit");
	assert_int_equal(it->severity, AZL_SEVERITY_INFO);
	f->pools[0].count = 996;                        /* 1000 now, 1004 at the peak */
	it = limit_item(f, "ClusterNodeLimit");
	assert_int_equal(it->severity, AZL_SEVERITY_WARNING);
	assert_non_null(strstr(it->message, "node limit raised past 1000"));
	f->pools[0].count = 4497;                       /* 4501 + 4 of 5000: near */
	assert_int_equal(limit_item(f, "ClusterNodeLimit")->severity, AZL_SEVERITY_WARNING);
	f->pools[0].count = 3;
	assert_int_equal(limit_item(f, "ClusterNodeLimit")->severity, AZL_SEVERITY_INFO);
	assert_null(azl_plan_item(&f->plan.preflight, "PoolLimit"));
	f->cluster.max_agent_pools = 2;                 /* a third pool is one too many */
	it = limit_item(f, "PoolLimit");
	assert_non_null(it);
	assert_int_equal(it->severity, AZL_SEVERITY_ERROR);
	assert_non_null(strstr(it->message, "has 2 node pools and AKS allows 2"));
}

static void test_azure_linux_2(void **state)
{
	struct fixture *f = *state;

	pool(f, "CBLMariner", MARINER, "1.31.9", NULL);
	assert_int_equal(plan(f, NULL, NULL), 0);
	assert_string_equal(f->plan.to.os_sku, "AzureLinux3");
	assert_string_equal(f->plan.from.os_version, "2.0");
	assert_non_null(azl_plan_item(&f->plan.notes, "OtherWay"));
	assert_non_null(azl_plan_item(&f->plan.notes, "AzureLinux3Pin"));
	teardown(state);
	setup(state);
	f = *state;
	pool(f, "AzureLinux", AZL2, "1.31.9", NULL);
	assert_int_equal(plan(f, NULL, NULL), 0);
	assert_string_equal(f->plan.to.os_sku, "AzureLinux3");
}

static void test_azurelinux3_range(void **state)
{
	struct fixture *f = *state;

	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, "1.37.1", "1.37.1", "NodeImage");
	pool(f, "Ubuntu", UBUNTU, "1.37.1", NULL);
	assert_int_equal(plan(f, "AzureLinux3", NULL), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "1.28 to 1.36"));
	assert_int_equal(plan(f, "Mariner", NULL), AZL_EINVALID);
}

static void test_already_there(void **state)
{
	struct fixture *f = *state;

	pool(f, "AzureLinux", AZL3, "1.32.6", NULL);
	assert_int_equal(plan(f, NULL, NULL), 0);
	assert_int_equal(f->plan.strategy, AZL_MIGRATE_NOTHING);
}

static void test_kata_side_by_side(void **state)
{
	struct fixture *f = *state;

	pool(f, "Ubuntu", UBUNTU, "1.32.6", ",\"workloadRuntime\":\"KataVmIsolation\"");
	assert_int_equal(plan(f, NULL, NULL), 0);
	assert_int_equal(f->plan.strategy, AZL_MIGRATE_SIDE_BY_SIDE);
	assert_non_null(strstr(f->plan.why, "Kata"));
	assert_string_equal(f->plan.new_pool.name, "workazl");
	assert_string_equal(f->plan.new_pool.os_sku, "AzureLinux");
	assert_string_equal(azl_json_str(f->plan.new_pool.properties, "workloadRuntime", ""),
			    "KataVmIsolation");
	assert_int_equal(f->plan.nr_steps, 7);
	assert_string_equal(f->plan.steps[5], "delete-pool");
	assert_int_equal(plan(f, NULL, "in-place"), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "cannot change OS in place"));
	assert_int_equal(plan(f, NULL, "sideways"), AZL_EINVALID);
}

static void test_new_pool_name_checked(void **state)
{
	struct fixture *f = *state;
	struct azl_migrate_options o = AZL_MIGRATE_OPTIONS_INIT;

	pool(f, "Ubuntu", UBUNTU, "1.32.6", NULL);
	o.strategy = "side-by-side";
	o.new_pool = "system";
	assert_int_equal(azl_migrate_plan_make(&f->cluster, &f->list, "work", &o, &f->plan),
			 AZL_EINVALID);
	azl_migrate_plan_release(&f->plan);
	o.new_pool = "Bad-Name";
	assert_int_equal(azl_migrate_plan_make(&f->cluster, &f->list, "work", &o, &f->plan),
			 AZL_EINVALID);
}

static void test_windows_refused(void **state)
{
	struct fixture *f = *state;

	pool(f, "Windows2022", "AKSWindows-2022-containerd-gen2-20348.3932.250709", "1.32.6",
	     ",\"osType\":\"Windows\"");
	assert_int_equal(plan(f, NULL, NULL), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "Windows"));
}

static void test_drain_failure_parsed(void **state)
{
	static const char *const msgs[] = {
		"Drain node aks-work-1-vmss000000 failed when evicting pod web-7d8 failed with Too Many Requests error. This is often caused by a restrictive Pod Disruption Budget (PDB) policy. See https://aka.ms/aks/debugdrainfailures. Original error: Cannot evict pod as it would violate the pod's disruption budget.. PDB debug info: shop/web-7d8 blocked by pdb web-pdb with 0 unready pods.",
		"Cordoned nodes have used all surge nodes but there are more nodes to be upgraded. Please fix your PDBs blocking node drain and kindly retry upgrade operation.Drain node aks-work-1-vmss000000 failed when evicting pod web-7d8 failed with Too Many Requests error. blocked by pdb web-pdb with 0 unready pods.",
	};
	struct azl_drain_failure d;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		azl_migrate_parse_drain_failure(msgs[i], &d);
		assert_string_equal(d.node.buf, "aks-work-1-vmss000000");
		assert_string_equal(d.pod.buf, "web-7d8");
		assert_string_equal(d.pdb.buf, "web-pdb");
		azl_drain_failure_release(&d);
	}
	azl_migrate_parse_drain_failure("Error: Drain of aks-infra-1-vmss00000y did not complete", &d);
	assert_string_equal(d.node.buf, "aks-infra-1-vmss00000y");
	assert_int_equal(d.pdb.len, 0);
	azl_drain_failure_release(&d);
}

static void test_preflight_severities(void **state)
{
	struct azl_finding_list l = { 0 };
	struct strbuf m = STRBUF_INIT;
	cJSON *json;

	(void)state;
	assert_int_equal(azl_preflight_worst(&l), AZL_SEVERITY_INFO);
	strbuf_addstr(&m, "fine");
	azl_finding_add(&l, AZL_SEVERITY_INFO, "PoolState", &m);
	strbuf_addstr(&m, "held");
	azl_finding_add(&l, AZL_SEVERITY_ERROR, "PDBBlocksDrain", &m);
	strbuf_addstr(&m, "channel");
	azl_finding_add(&l, AZL_SEVERITY_WARNING, "AutoUpgrade", &m);
	assert_int_equal(azl_preflight_worst(&l), AZL_SEVERITY_ERROR);
	json = azl_preflight_to_json(&l);
	assert_int_equal(cJSON_GetArraySize(json), 3);
	assert_string_equal(azl_json_str(cJSON_GetArrayItem(json, 0), "severity", ""), "ok");
	assert_string_equal(azl_json_str(cJSON_GetArrayItem(json, 1), "severity", ""), "blocker");
	assert_string_equal(azl_json_str(cJSON_GetArrayItem(json, 1), "check", ""), "PDBBlocksDrain");
	assert_string_equal(azl_json_str(cJSON_GetArrayItem(json, 2), "severity", ""), "warning");
	cJSON_Delete(json);
	azl_finding_list_release(&l);
	strbuf_release(&m);
}

static void test_plan_data_and_journal(void **state)
{
	struct fixture *f = *state;
	struct azl_journal_target t = { "ctx", "sub1", "rg1", "aks1", "work" };
	struct azl_operation *op = NULL;
	char root[] = "/tmp/test_migrate.XXXXXX";
	cJSON *data, *bad;

	assert_non_null(mkdtemp(root));
	setenv("XDG_STATE_HOME", root, 1);
	pool(f, "Ubuntu", UBUNTU, "1.32.6", NULL);
	assert_int_equal(plan(f, NULL, NULL), 0);
	data = azl_migrate_plan_data(&f->plan, &f->cluster);
	assert_string_equal(azl_json_str(data, "strategy", ""), "in-place");
	assert_string_equal(azl_json_str(data, "to.osSku", ""), "AzureLinux");
	assert_string_equal(azl_json_str(data, "planETag", ""), "e1");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(data, "newPool")));
	assert_int_equal(azl_operation_create(&op, &azl_migrate_kind, &t,
					      f->plan.steps, f->plan.nr_steps, data), 0);
	assert_string_equal(azl_json_str(azl_journal_data(azl_operation_journal(op)), "to.osSku", ""),
			    "AzureLinux");
	bad = cJSON_Duplicate(data, 1);
	cJSON_AddStringToObject(bad, "accessToken", "x");
	assert_int_equal(azl_journal_set_data(azl_operation_journal(op), bad), AZL_EINVALID);
	cJSON_Delete(bad);
	azl_operation_free(op);
	/* a step the kind does not know is refused */
	{
		const char *steps[] = { "update-pool", "explode" };

		assert_int_equal(azl_operation_create(&op, &azl_migrate_kind, &t, steps, 2, data),
				 AZL_EINVALID);
	}
	cJSON_Delete(data);
	unsetenv("XDG_STATE_HOME");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ubuntu_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ubuntu_below_1_32_gets_azurelinux3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expected_minutes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_node_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_azure_linux_2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_azurelinux3_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_already_there, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kata_side_by_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_pool_name_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_windows_refused, setup, teardown),
		cmocka_unit_test(test_drain_failure_parsed),
		cmocka_unit_test(test_preflight_severities),
		cmocka_unit_test_setup_teardown(test_plan_data_and_journal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
