/* The node model from Node objects shaped like AKS's, and the json.h
 * helpers it is built on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "json.h"
#include "node.h"

/* An Azure Linux 3.0 node as AKS 1.32 labels it (trimmed). */
static const char azl3_node[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{"
	"\"name\":\"aks-azl3pool-31721111-vmss000002\","
	"\"creationTimestamp\":\"2026-11-20T08:15:30Z\","
	"\"labels\":{\"agentpool\":\"azl3pool\",\"beta.kubernetes.io/instance-type\":\"Standard_D2s_v3\","
	"\"kubernetes.azure.com/agentpool\":\"azl3pool\","
	"\"kubernetes.azure.com/node-image-version\":\"AKSAzureLinux-V3gen2-202602.13.5\","
	"\"kubernetes.azure.com/os-sku\":\"AzureLinux\","
	"\"node.kubernetes.io/instance-type\":\"Standard_D4ds_v5\","
	"\"topology.kubernetes.io/zone\":\"eastus-2\"}},"
	"\"spec\":{\"providerID\":\"azure:///subscriptions/0000/resourceGroups/mc_rg_aks_eastus/providers/"
	"Microsoft.Compute/virtualMachineScaleSets/aks-azl3pool-31721111-vmss/virtualMachines/2\"},"
	"\"status\":{\"conditions\":["
	"{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
	"{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}],"
	"\"nodeInfo\":{\"kubeletVersion\":\"v1.32.4\",\"kernelVersion\":\"6.6.64.2-9.azl3\","
	"\"osImage\":\"Microsoft Azure Linux 3.0\",\"containerRuntimeVersion\":\"containerd://2.0.0\"}}}";

/* An older Mariner node: only the plain agentpool label, only the beta
 * instance-type label, no zone, cordoned and NotReady, fractional
 * timestamp with an offset. */
static const char mariner_node[] =
	"{\"metadata\":{\"name\":\"aks-legacy-12345678-vmss00000a\","
	"\"creationTimestamp\":\"2025-03-01T10:00:00.5+02:00\","
	"\"labels\":{\"agentpool\":\"legacy\",\"kubernetes.azure.com/os-sku\":\"CBLMariner\","
	"\"beta.kubernetes.io/instance-type\":\"Standard_DS2_v2\"}},"
	"\"spec\":{\"unschedulable\":true},"
	"\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],"
	"\"nodeInfo\":{\"kubeletVersion\":\"v1.30.10\",\"kernelVersion\":\"5.15.173.1-2.cm2\","
	"\"osImage\":\"CBL-Mariner/Linux\",\"containerRuntimeVersion\":\"containerd://1.6.26\"}}}";

/* A node whose OS is only known from the SKU and Kubernetes version. */
static const char sku_only_node[] =
	"{\"metadata\":{\"name\":\"n1\",\"creationTimestamp\":\"yesterday\","
	"\"labels\":{\"kubernetes.azure.com/agentpool\":\"pool1\",\"agentpool\":\"other\","
	"\"kubernetes.azure.com/os-sku\":\"Ubuntu\"}},"
	"\"status\":{\"nodeInfo\":{\"kubeletVersion\":\"v1.35.1\"}}}";

/* Only the SKU labels: the effective one (with the version) decides. */
static const char effective_sku_node[] =
	"{\"metadata\":{\"name\":\"n2\",\"labels\":{"
	"\"kubernetes.azure.com/os-sku\":\"AzureLinux\","
	"\"kubernetes.azure.com/os-sku-effective\":\"AzureLinux3\"}},"
	"\"status\":{\"nodeInfo\":{\"kubeletVersion\":\"v1.31.5\"}}}";

static void parse_node(const char *text, struct azl_node *node)
{
	cJSON *obj = cJSON_Parse(text);

	assert_non_null(obj);
	assert_int_equal(azl_node_from_json(obj, node), 0);
	cJSON_Delete(obj);
}

static void test_azure_linux_3_node(void **state)
{
	struct azl_node n;

	(void)state;
	parse_node(azl3_node, &n);
	assert_string_equal(n.name, "aks-azl3pool-31721111-vmss000002");
	assert_string_equal(n.pool, "azl3pool");
	assert_string_equal(n.os_sku, "AzureLinux");
	assert_string_equal(n.os_name, "Azure Linux 3.0");
	assert_string_equal(n.os_version, "3.0");
	assert_string_equal(n.node_image_version, "AKSAzureLinux-V3gen2-202602.13.5");
	assert_string_equal(n.kubelet_version, "v1.32.4");
	assert_string_equal(n.kernel_version, "6.6.64.2-9.azl3");
	assert_string_equal(n.os_image, "Microsoft Azure Linux 3.0");
	assert_string_equal(n.container_runtime, "containerd://2.0.0");
	assert_string_equal(n.zone, "eastus-2");
	/* the GA label wins over the beta one */
	assert_string_equal(n.vm_size, "Standard_D4ds_v5");
	assert_non_null(strstr(n.provider_id, "/virtualMachines/2"));
	assert_true(n.ready);
	assert_true(n.schedulable);
	assert_int_equal(n.created, 1795162530);  /* date -u -d 2026-11-20T08:15:30Z +%s */
	azl_node_release(&n);
	assert_null(n.name);
}

static void test_legacy_mariner_node(void **state)
{
	struct azl_node n;

	(void)state;
	parse_node(mariner_node, &n);
	assert_string_equal(n.pool, "legacy");
	assert_string_equal(n.os_sku, "CBLMariner");
	assert_string_equal(n.os_name, "Azure Linux 2.0");
	assert_string_equal(n.node_image_version, "");
	assert_string_equal(n.zone, "");
	assert_string_equal(n.vm_size, "Standard_DS2_v2");
	assert_string_equal(n.provider_id, "");
	assert_false(n.ready);
	assert_false(n.schedulable);
	assert_int_equal(n.created, 1740816000);  /* 2025-03-01T08:00:00Z */
	azl_node_release(&n);
}

static void test_sku_only_node(void **state)
{
	struct azl_node n;

	(void)state;
	azl_error_clear();
	parse_node(sku_only_node, &n);
	/* kubernetes.azure.com/agentpool wins over agentpool */
	assert_string_equal(n.pool, "pool1");
	assert_string_equal(n.os_name, "Ubuntu 24.04");
	/* no Ready condition: not ready; a bad timestamp is unknown, not an error */
	assert_false(n.ready);
	assert_int_equal(n.created, 0);
	assert_int_equal(azl_error_code(), AZL_OK);
	assert_string_equal(n.os_image, "");
	azl_node_release(&n);
}

static void test_effective_sku_wins(void **state)
{
	struct azl_node n;

	(void)state;
	parse_node(effective_sku_node, &n);
	/* AzureLinux on 1.31 alone would say 2.0 */
	assert_string_equal(n.os_name, "Azure Linux 3.0");
	assert_string_equal(n.os_sku, "AzureLinux");
	assert_string_equal(n.pool, "");
	assert_string_equal(n.vm_size, "");
	azl_node_release(&n);
}

static void test_node_without_name(void **state)
{
	cJSON *obj = cJSON_Parse("{\"metadata\":{\"labels\":{}}}");
	struct azl_node n;

	(void)state;
	assert_int_equal(azl_node_from_json(obj, &n), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "metadata.name"));
	azl_node_release(&n);
	cJSON_Delete(obj);
}

static void test_json_paths(void **state)
{
	cJSON *obj = cJSON_Parse("{\"a\":{\"b\":{\"c\":\"x\",\"n\":42,\"f\":1.5,\"t\":true},"
				 "\"k.with.dots\":\"y\"},\"ab\":\"z\"}");

	(void)state;
	assert_string_equal(azl_json_str(obj, "a.b.c", "d"), "x");
	assert_string_equal(azl_json_str(obj, "a.b.n", "d"), "d");
	assert_string_equal(azl_json_str(obj, "a.b.missing", "d"), "d");
	assert_string_equal(azl_json_str(obj, "a.b.c.deeper", "d"), "d");
	assert_string_equal(azl_json_str(obj, "ab", "d"), "z");
	assert_null(azl_json_str(NULL, "a", NULL));
	assert_int_equal(azl_json_int(obj, "a.b.n", -1), 42);
	assert_int_equal(azl_json_int(obj, "a.b.f", -1), -1);
	assert_int_equal(azl_json_int(obj, "a.b.c", -1), -1);
	assert_int_equal(azl_json_bool(obj, "a.b.t", 0), 1);
	assert_int_equal(azl_json_bool(obj, "a.b.n", 7), 7);
	assert_string_equal(azl_json_member_str(azl_json_path(obj, "a"), "k.with.dots", ""), "y");
	assert_string_equal(azl_json_str(azl_json_path(obj, "a"), "k.with.dots", "none"), "none");
	cJSON_Delete(obj);
}

static void test_rfc3339(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(azl_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(azl_parse_rfc3339("2018-03-05T17:30:20-08:00", &t), 0);
	assert_int_equal(t, 1520299820);
	assert_int_equal(azl_parse_rfc3339("2024-02-29T23:59:59.999999999Z", &t), 0);
	assert_int_equal(t, 1709251199);
	assert_int_equal(azl_parse_rfc3339("2024-13-01T00:00:00Z", &t), AZL_EINVALID);
	assert_int_equal(azl_parse_rfc3339("2024-01-01T00:00:00", &t), AZL_EINVALID);
	assert_int_equal(azl_parse_rfc3339("2024-01-01T00:00:00Zjunk", &t), AZL_EINVALID);
	assert_int_equal(azl_parse_rfc3339("", &t), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "RFC 3339"));
}

/* What a watch saw, keyed by name as the operation keeps it: one pool's,
 * sorted by name; another pool's left out. */
static void test_list_from_json(void **state)
{
	cJSON *seen = cJSON_CreateObject();
	struct azl_node_list l = { 0 };

	(void)state;
	cJSON_AddItemToObject(seen, "n2", cJSON_Parse(effective_sku_node));
	cJSON_AddItemToObject(seen, "b", cJSON_Parse(azl3_node));
	cJSON_AddItemToObject(seen, "n1", cJSON_Parse(sku_only_node));
	assert_int_equal(azl_node_list_from_json(seen, "azl3pool", &l), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.items[0].name, "aks-azl3pool-31721111-vmss000002");
	azl_node_list_release(&l);
	assert_int_equal(azl_node_list_from_json(seen, NULL, &l), 0);
	assert_int_equal(l.nr, 3);
	assert_string_equal(l.items[0].name, "aks-azl3pool-31721111-vmss000002");
	assert_string_equal(l.items[1].name, "n1");
	assert_string_equal(l.items[2].name, "n2");
	azl_node_list_release(&l);
	cJSON_Delete(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_azure_linux_3_node),
		cmocka_unit_test(test_legacy_mariner_node),
		cmocka_unit_test(test_sku_only_node),
		cmocka_unit_test(test_effective_sku_wins),
		cmocka_unit_test(test_node_without_name),
		cmocka_unit_test(test_json_paths),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_list_from_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
