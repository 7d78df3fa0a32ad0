/* upgrade.c: the order of an upgrade's operations (control plane a minor
 * at a time, pools following one minor per step, System pools first,
 * current pools skipped), the preflight (not offered, skew, auto-upgrade,
 * pools not Succeeded, PDBs, the node OS channel's reimaging changes),
 * the flags' checks and the journal's record. */
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
#include "pool.h"
#include "testpool.h"
#include "upgrade.h"

#define AZL3 "AKSAzureLinux-V3gen2-202607.09.0"
#define AZL3_NEW "AKSAzureLinux-V3gen2-202608.14.0"
#define AZL2 "AKSAzureLinux-V2gen2-202512.06.0"

struct fixture {
	struct azl_cluster cluster;
	struct azl_pool_list pools;
	struct azl_upgrade_plan plan;
	struct azl_upgrade_options opts;
	struct strbuf names;
};

static void push(char ***items, size_t *nr, const char *v)
{
	*items = realloc(*items, (*nr + 1) * sizeof(**items));
	(*items)[(*nr)++] = strdup(v);
}

static void set_str(char **field, const char *v)
{
	free(*field);
	*field = strdup(v);
}

static void cluster(struct fixture *f, const char *version, const char *auto_channel)
{
	azl_cluster_release(&f->cluster);
	make_cluster(&f->cluster, version, version, "NodeImage");
	set_str(&f->cluster.upgrade_channel, auto_channel);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	cluster(f, "1.32.6", "none");
	f->opts.settings = (struct azl_upgrade_settings)AZL_UPGRADE_SETTINGS_INIT;
	strbuf_init(&f->names, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	azl_cluster_release(&f->cluster);
	azl_pool_list_release(&f->pools);
	azl_upgrade_plan_release(&f->plan);
	strbuf_release(&f->names);
	free(f);
	return 0;
}

static struct azl_pool *add_pool(struct fixture *f, const char *name, const char *mode,
				 const char *version, const char *image)
{
	char props[1024];
	struct azl_pool *p;

	snprintf(props, sizeof(props),
		 "\"mode\":\"%s\",\"osType\":\"Linux\",\"osSKU\":\"AzureLinux\",\"orchestratorVersion\":\"%s\","
		 "\"nodeImageVersion\":\"%s\",\"count\":2,\"provisioningState\":\"Succeeded\"",
		 mode, version, image);
	f->pools.items = realloc(f->pools.items, (f->pools.nr + 1) * sizeof(*f->pools.items));
	p = &f->pools.items[f->pools.nr++];
	memset(p, 0, sizeof(*p));
	make_pool(p, name, props);
	p->nodes = p->ready_nodes = 2;
	return p;
}

static int build(struct fixture *f, const char *const *names, size_t nr)
{
	azl_upgrade_plan_release(&f->plan);
	return azl_upgrade_plan_build(&f->cluster, &f->pools, names, nr, &f->opts, &f->plan);
}

/* The steps' names, ";"-separated. */
static const char *steps(struct fixture *f)
{
	strbuf_reset(&f->names);
	for (size_t i = 0; i < f->plan.nr_steps; i++)
		strbuf_addf(&f->names, "%s%s", i ? ";" : "", f->plan.steps[i].name);
	return f->names.buf;
}

static const struct azl_finding *check(struct fixture *f, const char *code)
{
	for (size_t i = 0; i < f->plan.preflight.nr; i++)
		if (!strcmp(f->plan.preflight.items[i].code, code))
			return &f->plan.preflight.items[i];
	return NULL;
}

static void test_node_image_system_first_current_skipped(void **state)
{
	struct fixture *f = *state;

	set_str(&add_pool(f, "apps", "User", "1.32.6", AZL3)->latest_node_image_version, AZL3_NEW);
	set_str(&add_pool(f, "current", "User", "1.32.6", AZL3_NEW)->latest_node_image_version, AZL3_NEW);
	set_str(&add_pool(f, "sys", "System", "1.32.6", AZL3)->latest_node_image_version, AZL3_NEW);
	f->opts.mode = AZL_UPGRADE_NODE_IMAGE;
	assert_int_equal(build(f, NULL, 0), 0);
	assert_string_equal(steps(f), "node-image sys " AZL3_NEW ";node-image apps " AZL3_NEW);
	assert_int_equal(f->plan.steps[0].kind, AZL_UPGRADE_STEP_NODE_IMAGE);
	assert_string_equal(f->plan.steps[0].from, AZL3);
	assert_int_equal(f->plan.nr_skipped, 1);
	assert_string_equal(f->plan.skipped[0].pool, "current");
	assert_string_equal(f->plan.skipped[0].reason, "already on the latest node image " AZL3_NEW);
	/* the NodeImage channel would do it later: said, not a warning */
	assert_non_null(check(f, AZL_UPGRADE_CHECK_NODE_OS_CHANNEL));
	assert_int_equal(azl_preflight_worst(&f->plan.preflight), AZL_SEVERITY_INFO);

	/* one named pool; an unknown name is refused */
	assert_int_equal(build(f, (const char *[]){ "apps" }, 1), 0);
	assert_string_equal(steps(f), "node-image apps " AZL3_NEW);
	assert_int_equal(build(f, (const char *[]){ "nope" }, 1), AZL_ENOTFOUND);
	assert_non_null(strstr(azl_error_message(), "node pool 'nope' not found"));
}

static void test_pool_not_succeeded_blocks(void **state)
{
	struct fixture *f = *state;
	struct azl_pool *p = add_pool(f, "apps", "User", "1.32.6", AZL3);

	set_str(&p->latest_node_image_version, AZL3_NEW);
	set_str(&p->provisioning_state, "Upgrading");
	f->opts.mode = AZL_UPGRADE_NODE_IMAGE;
	assert_int_equal(build(f, NULL, 0), 0);
	assert_non_null(check(f, AZL_UPGRADE_CHECK_NOT_SUCCEEDED));
	assert_int_equal(azl_preflight_worst(&f->plan.preflight), AZL_SEVERITY_ERROR);
}

static void test_two_minors_interleaved(void **state)
{
	struct fixture *f = *state;

	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.33.2");
	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.33.3");
	add_pool(f, "apps", "User", "1.32.6", AZL3);
	add_pool(f, "sys", "System", "1.32.6", AZL3);
	f->opts.mode = AZL_UPGRADE_KUBERNETES;
	f->opts.version = "1.34";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_string_equal(steps(f), "control-plane 1.33.3;pool sys 1.33.3;pool apps 1.33.3;"
				      "control-plane 1.34;pool sys 1.34;pool apps 1.34");
	assert_string_equal(f->plan.steps[3].from, "1.33.3");
	assert_string_equal(f->plan.steps[4].from, "1.33.3");
	assert_int_equal(azl_preflight_worst(&f->plan.preflight), AZL_SEVERITY_INFO);

	/* the control plane alone: no pool step, the pools' skew judged */
	f->opts.control_plane_only = 1;
	assert_int_equal(build(f, NULL, 0), 0);
	assert_string_equal(steps(f), "control-plane 1.33.3;control-plane 1.34");
}

static void test_pool_behind_catches_up_a_minor_at_a_time(void **state)
{
	struct fixture *f = *state;
	struct azl_pool *p = add_pool(f, "old", "User", "1.30.14", AZL3);

	push(&p->upgrades, &p->nr_upgrades, "1.31.9");
	push(&p->upgrades, &p->nr_upgrades, "1.31.10");
	push(&p->upgrades, &p->nr_upgrades, "1.32.6");
	f->opts.mode = AZL_UPGRADE_KUBERNETES;
	f->opts.version = "1.32";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_string_equal(steps(f), "pool old 1.31.10;pool old 1.32.6");
	assert_string_equal(f->plan.steps[0].from, "1.30.14");
	assert_string_equal(f->plan.steps[1].from, "1.31.10");
}

static void test_patch_of_the_control_plane_first(void **state)
{
	struct fixture *f = *state;

	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.32.7");
	add_pool(f, "apps", "User", "1.32.6", AZL3);
	f->opts.mode = AZL_UPGRADE_KUBERNETES;
	f->opts.version = "1.32.7";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_string_equal(steps(f), "control-plane 1.32.7;pool apps 1.32.7");
	/* a patch AKS does not offer */
	f->opts.version = "1.32.9";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_int_equal(f->plan.nr_steps, 0);
	assert_non_null(check(f, AZL_UPGRADE_CHECK_NOT_OFFERED));
	assert_int_equal(azl_preflight_worst(&f->plan.preflight), AZL_SEVERITY_ERROR);
}

static void test_not_offered_and_not_a_version(void **state)
{
	struct fixture *f = *state;

	add_pool(f, "apps", "User", "1.32.6", AZL3);
	f->opts.mode = AZL_UPGRADE_KUBERNETES;
	f->opts.version = "1.33";              /* no 1.33 in the cluster's upgrades */
	assert_int_equal(build(f, NULL, 0), 0);
	assert_int_equal(f->plan.nr_steps, 0);
	assert_non_null(strstr(check(f, AZL_UPGRADE_CHECK_NOT_OFFERED)->message,
			       "offers no upgrade to 1.33"));
	f->opts.version = "latest";
	assert_int_equal(build(f, NULL, 0), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "--kubernetes-version 'latest'"));
}

static void test_skew(void **state)
{
	struct fixture *f = *state;

	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.33.3");
	add_pool(f, "sys", "System", "1.32.6", AZL3);
	add_pool(f, "lag", "User", "1.30.14", AZL3);
	f->opts.mode = AZL_UPGRADE_KUBERNETES;
	f->opts.version = "1.33";
	f->opts.control_plane_only = 1;
	assert_int_equal(build(f, NULL, 0), 0);
	assert_int_equal(check(f, AZL_UPGRADE_CHECK_SKEW)->severity, AZL_SEVERITY_WARNING);
	assert_non_null(strstr(check(f, AZL_UPGRADE_CHECK_SKEW)->message, "speaks of two"));

	/* four behind: a blocker; upgrading that pool along clears it */
	set_str(&f->pools.items[1].kubernetes_version, "1.29.15");
	assert_int_equal(build(f, NULL, 0), 0);
	assert_int_equal(check(f, AZL_UPGRADE_CHECK_SKEW)->severity, AZL_SEVERITY_ERROR);
	f->opts.control_plane_only = 0;
	assert_int_equal(build(f, (const char *[]){ "sys" }, 1), 0);
	assert_int_equal(check(f, AZL_UPGRADE_CHECK_SKEW)->severity, AZL_SEVERITY_ERROR);
	assert_int_equal(build(f, NULL, 0), 0);
	assert_null(check(f, AZL_UPGRADE_CHECK_SKEW));
}

static void test_auto_upgrade(void **state)
{
	struct fixture *f = *state;

	cluster(f, "1.32.6", "stable");
	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.33.3");
	add_pool(f, "sys", "System", "1.32.6", AZL3);
	f->opts.mode = AZL_UPGRADE_KUBERNETES;
	f->opts.version = "1.33";
	f->opts.control_plane_only = 1;
	assert_int_equal(build(f, NULL, 0), 0);
	assert_int_equal(check(f, AZL_UPGRADE_CHECK_AUTO_UPGRADE)->severity, AZL_SEVERITY_ERROR);
	f->opts.control_plane_only = 0;
	assert_int_equal(build(f, NULL, 0), 0);
	assert_int_equal(check(f, AZL_UPGRADE_CHECK_AUTO_UPGRADE)->severity, AZL_SEVERITY_WARNING);
}

static void test_os_notes(void **state)
{
	struct fixture *f = *state;
	struct azl_pool *pin;

	cluster(f, "1.31.10", "none");
	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.32.7");
	add_pool(f, "old", "User", "1.31.10", AZL2);
	f->opts.mode = AZL_UPGRADE_KUBERNETES;
	f->opts.version = "1.32";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_non_null(strstr(check(f, AZL_UPGRADE_CHECK_OS)->message, "Azure Linux 2.0 to 3.0"));

	/* AzureLinux3 stops at 1.36 */
	azl_pool_list_release(&f->pools);
	cluster(f, "1.36.2", "none");
	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.37.1");
	pin = add_pool(f, "pin", "User", "1.36.2", AZL3);
	set_str(&pin->os_sku, "AzureLinux3");
	f->opts.version = "1.37";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_int_equal(check(f, AZL_UPGRADE_CHECK_OS)->severity, AZL_SEVERITY_ERROR);
	assert_non_null(strstr(check(f, AZL_UPGRADE_CHECK_OS)->message,
			       "(kubectl azlinux migrate pin --to AzureLinux)"));
}

static void test_settings_persist_and_checks(void **state)
{
	struct fixture *f = *state;
	struct azl_upgrade_settings s = AZL_UPGRADE_SETTINGS_INIT;
	cJSON *data;

	push(&f->cluster.upgrades, &f->cluster.nr_upgrades, "1.33.3");
	add_pool(f, "sys", "System", "1.32.6", AZL3);
	f->opts.mode = AZL_UPGRADE_KUBERNETES;
	f->opts.version = "1.33";
	f->opts.settings.max_surge = "33%";
	f->opts.settings.drain_timeout_minutes = 5;
	assert_int_equal(build(f, NULL, 0), 0);
	assert_non_null(check(f, AZL_UPGRADE_CHECK_SETTINGS));
	data = azl_upgrade_plan_data(&f->plan, &f->opts, &f->cluster);
	assert_string_equal(azl_json_str(data, "from.kubernetesVersion", ""), "1.32.6");
	assert_string_equal(azl_json_str(data, "to.kubernetesVersion", ""), "1.33.3");
	assert_string_equal(azl_json_str(data, "settings.maxSurge", ""), "33%");
	assert_int_equal(azl_json_int(data, "settings.drainTimeoutInMinutes", 0), 5);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(data, "plan")), 2);
	assert_string_equal(azl_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(data, "plan"), 1),
					 "kind", ""), "pool-version");
	cJSON_Delete(data);

	assert_int_equal(azl_upgrade_settings_check(&s), 0);
	assert_int_equal(azl_upgrade_settings_given(&s), 0);
	s.max_surge = "0%";
	assert_int_equal(azl_upgrade_settings_check(&s), AZL_EINVALID);
	s.max_surge = "3";
	s.max_unavailable = "-1";
	assert_int_equal(azl_upgrade_settings_check(&s), AZL_EINVALID);
	s.max_unavailable = "10%";
	s.node_soak_minutes = 31;
	assert_int_equal(azl_upgrade_settings_check(&s), AZL_EINVALID);
	s.node_soak_minutes = 30;
	s.undrainable_node_behavior = "Evict";
	assert_int_equal(azl_upgrade_settings_check(&s), AZL_EINVALID);
	s.undrainable_node_behavior = "Cordon";
	assert_int_equal(azl_upgrade_settings_check(&s), 0);
}

static void test_node_os_channel(void **state)
{
	struct fixture *f = *state;
	const char *names[2];

	f->opts.mode = AZL_UPGRADE_NODE_OS_CHANNEL;
	f->opts.node_os_channel = "unmanaged";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_string_equal(steps(f), "node-os-channel Unmanaged");
	assert_string_equal(f->plan.steps[0].from, "NodeImage");
	assert_int_equal(check(f, AZL_UPGRADE_CHECK_REIMAGE)->severity, AZL_SEVERITY_WARNING);
	azl_upgrade_step_names(&f->plan, names);
	assert_string_equal(names[0], "node-os-channel");
	assert_string_equal(names[1], "verify");

	f->opts.node_os_channel = "SecurityPatch";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_null(check(f, AZL_UPGRADE_CHECK_REIMAGE));
	f->opts.node_os_channel = "NodeImage";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_int_equal(f->plan.nr_steps, 0);
	assert_non_null(check(f, AZL_UPGRADE_CHECK_NOTHING));

	/* the node-image auto-upgrade channel forces NodeImage */
	cluster(f, "1.32.6", "node-image");
	f->opts.node_os_channel = "None";
	assert_int_equal(build(f, NULL, 0), 0);
	assert_int_equal(check(f, AZL_UPGRADE_CHECK_AUTO_UPGRADE)->severity, AZL_SEVERITY_ERROR);
	f->opts.node_os_channel = "Weekly";
	assert_int_equal(build(f, NULL, 0), AZL_EINVALID);
}

static void test_pdbs(void **state)
{
	struct fixture *f = *state;
	struct azl_pdb items[2] = { { 0 } };
	struct azl_pdb_list pdbs = { items, 2 };

	set_str(&add_pool(f, "apps", "User", "1.32.6", AZL3)->latest_node_image_version, AZL3_NEW);
	f->opts.mode = AZL_UPGRADE_NODE_IMAGE;
	assert_int_equal(build(f, NULL, 0), 0);
	items[0].name = "ledger";
	items[0].namespace_ = "pay";
	items[0].expected_pods = 2;
	items[0].current_healthy = 2;
	items[0].desired_healthy = 2;
	items[0].disruptions_allowed = 0;
	items[1].name = "web";
	items[1].namespace_ = "shop";
	items[1].expected_pods = 3;
	items[1].disruptions_allowed = 1;
	azl_upgrade_check_pdbs(&f->plan, &pdbs);
	assert_int_equal(check(f, AZL_UPGRADE_CHECK_PDB)->severity, AZL_SEVERITY_WARNING);
	assert_non_null(strstr(check(f, AZL_UPGRADE_CHECK_PDB)->message, "pay/ledger"));
	assert_null(strstr(check(f, AZL_UPGRADE_CHECK_PDB)->message, "shop/web"));
}

static void test_deprecated_apis_parse(void **state)
{
	static const char text[] =
		"# HELP apiserver_requested_deprecated_apis [STABLE] Gauge\n"
		"# TYPE apiserver_requested_deprecated_apis gauge\n"
		"apiserver_requested_deprecated_apis{group=\"flowcontrol.apiserver.k8s.io\",removed_release=\"1.32\","
		"resource=\"flowschemas\",subresource=\"\",version=\"v1beta3\"} 1\n"
		"apiserver_requested_deprecated_apis{group=\"batch\",removed_release=\"1.25\",resource=\"cronjobs\","
		"subresource=\"\",version=\"v1beta1\"} 0\n"
		"apiserver_requested_deprecated_apis_total{group=\"x\"} 5\n"
		"apiserver_request_total{code=\"200\",verb=\"GET\"} 42\n"
		"apiserver_requested_deprecated_apis{group=\"a\\\"b\",version=\"v1\",removed_release=\"1.40\"} 1e0\r\n"
		"apiserver_requested_deprecated_apis{group=\"broken} 1\n"
		"apiserver_requested_deprecated_apis{group=\"nan\",version=\"v1\"} NaN\n"
		"apiserver_requested_deprecated_apis{group=\"last\",version=\"v2\"} 1";
	struct azl_deprecated_api_list l;

	(void)state;
	azl_deprecated_apis_parse(text, sizeof(text) - 1, &l);
	assert_int_equal(l.nr, 3);
	assert_string_equal(l.items[0].group, "flowcontrol.apiserver.k8s.io");
	assert_string_equal(l.items[0].version, "v1beta3");
	assert_string_equal(l.items[0].resource, "flowschemas");
	assert_string_equal(l.items[0].subresource, "");
	assert_string_equal(l.items[0].removed_release, "1.32");
	/* escaped quotes unescaped; absent labels empty */
	assert_string_equal(l.items[1].group, "a\"b");
	assert_string_equal(l.items[1].resource, "");
	assert_string_equal(l.items[2].group, "last");
	azl_deprecated_api_list_release(&l);

	azl_deprecated_apis_parse("", 0, &l);
	assert_int_equal(l.nr, 0);
	azl_deprecated_api_list_release(&l);
	/* cut anywhere: never read past the end */
	for (size_t n = 0; n < sizeof(text) - 1; n += 7) {
		azl_deprecated_apis_parse(text, n, &l);
		assert_true(l.nr <= 3);
		azl_deprecated_api_list_release(&l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_image_system_first_current_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_not_succeeded_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_minors_interleaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_behind_catches_up_a_minor_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch_of_the_control_plane_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_offered_and_not_a_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_os_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_persist_and_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_os_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pdbs, setup, teardown),
		cmocka_unit_test(test_deprecated_apis_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
