/* pod.c and pdb.c: a Pod's JSON into the model a drain filters on; a
 * PodDisruptionBudget's spec and status; which PDBs select a pod. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "kubeserver.h"
#include "pdb.h"
#include "pod.h"

static const char *pod_json =
	"{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\",\"uid\":\"u1\","
	"\"resourceVersion\":\"77\",\"deletionTimestamp\":\"2026-12-01T10:00:00Z\","
	"\"labels\":{\"app\":\"web\",\"tier\":\"front\"},"
	"\"annotations\":{\"kubernetes.io/config.mirror\":\"abc\"},"
	"\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\"},"
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-5d\",\"uid\":\"rs\","
	"\"controller\":true}]},"
	"\"spec\":{\"nodeName\":\"n1\",\"terminationGracePeriodSeconds\":45,\"volumes\":["
	"{\"name\":\"cache\",\"emptyDir\":{}},{\"name\":\"logs\",\"hostPath\":{\"path\":\"/var\"}},"
	"{\"name\":\"cfg\",\"configMap\":{\"name\":\"c\"}},{\"name\":\"x\",\"csi\":{}}]},"
	"\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"PodScheduled\","
	"\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"True\"}]}}";

static void test_pod_parses_what_a_drain_needs(void **state)
{
	cJSON *obj = cJSON_Parse(pod_json);
	struct azl_pod p;
	const struct azl_owner_ref *ctl;

	(void)state;
	assert_int_equal(azl_pod_parse(obj, &p), 0);
	assert_string_equal(p.name, "web-1");
	assert_string_equal(p.namespace_, "shop");
	assert_string_equal(p.uid, "u1");
	assert_string_equal(p.node, "n1");
	assert_string_equal(p.phase, "Running");
	assert_true(p.ready);
	assert_false(azl_pod_is_terminal(&p));
	assert_int_equal(p.deletion_timestamp, 1796119200);
	assert_int_equal(p.termination_grace_period_s, 45);
	assert_int_equal(p.nr_owners, 2);
	ctl = azl_pod_controller(&p);
	assert_non_null(ctl);
	assert_string_equal(ctl->kind, "ReplicaSet");
	assert_string_equal(ctl->name, "web-5d");
	assert_int_equal(p.nr_volumes, 4);
	assert_true(azl_pod_has_volume(&p, AZL_VOLUME_EMPTY_DIR));
	assert_true(azl_pod_has_volume(&p, AZL_VOLUME_HOST_PATH));
	assert_int_equal(p.volumes[3].kind, AZL_VOLUME_OTHER);
	assert_false(azl_pod_has_volume(&p, AZL_VOLUME_PVC));
	assert_true(azl_pod_is_mirror(&p));
	assert_string_equal(azl_pod_label(&p, "tier"), "front");
	assert_null(azl_pod_label(&p, "missing"));
	azl_pod_release(&p);
	cJSON_Delete(obj);
}

static void test_pod_defaults_and_errors(void **state)
{
	cJSON *bare = cJSON_Parse("{\"metadata\":{\"name\":\"p\"},\"status\":{\"phase\":\"Succeeded\","
				  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}");
	cJSON *bad = cJSON_Parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\","
				 "\"deletionTimestamp\":\"yesterday\"}}");
	cJSON *noname = cJSON_Parse("{\"metadata\":{}}");
	struct azl_pod p;

	(void)state;
	assert_int_equal(azl_pod_parse(bare, &p), 0);
	assert_false(p.ready);
	assert_true(azl_pod_is_terminal(&p));
	assert_int_equal(p.termination_grace_period_s, -1);
	assert_int_equal(p.deletion_timestamp, 0);
	assert_null(azl_pod_controller(&p));
	assert_false(azl_pod_is_mirror(&p));
	azl_pod_release(&p);
	assert_int_equal(azl_pod_parse(bad, &p), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "pod n/p: metadata.deletionTimestamp"));
	assert_int_equal(azl_pod_parse(noname, &p), AZL_EINVALID);
	cJSON_Delete(bare);
	cJSON_Delete(bad);
	cJSON_Delete(noname);
}

static void test_node_selector_and_tolerations(void **state)
{
	cJSON *obj = cJSON_Parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeSelector\":"
		"{\"gpu\":\"yes\"},\"tolerations\":[{\"key\":\"sku\",\"operator\":\"Equal\","
		"\"value\":\"gpu\",\"effect\":\"NoSchedule\"},{\"key\":\"CriticalAddonsOnly\","
		"\"operator\":\"Exists\"}]}}");
	cJSON *all = cJSON_Parse("{\"metadata\":{\"name\":\"q\"},\"spec\":{\"tolerations\":"
		"[{\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]}}");
	struct azl_pod p, q;

	(void)state;
	assert_int_equal(azl_pod_parse(obj, &p), 0);
	assert_int_equal(p.nr_node_selector, 1);
	assert_string_equal(p.node_selector[0].key, "gpu");
	assert_int_equal(p.nr_tolerations, 2);
	assert_true(azl_pod_tolerates(&p, "sku", "gpu", "NoSchedule"));
	assert_false(azl_pod_tolerates(&p, "sku", "cpu", "NoSchedule"));   /* value differs */
	assert_false(azl_pod_tolerates(&p, "sku", "gpu", "NoExecute"));    /* effect differs */
	assert_true(azl_pod_tolerates(&p, "CriticalAddonsOnly", "true", "NoExecute")); /* any */
	assert_false(azl_pod_tolerates(&p, "other", "", "NoSchedule"));
	assert_int_equal(azl_pod_parse(all, &q), 0);
	assert_true(azl_pod_tolerates(&q, "anything", "x", "NoExecute"));   /* empty key, Exists */
	assert_false(azl_pod_tolerates(&q, "anything", "x", "NoSchedule"));
	azl_pod_release(&p);
	azl_pod_release(&q);
	cJSON_Delete(obj);
	cJSON_Delete(all);
}

/* The scheduler's effective request: containers summed, the largest init
 * container when larger, overhead on top; a bad quantity counts 0. */
static void test_effective_requests(void **state)
{
	cJSON *obj = cJSON_Parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":["
		"{\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"1Gi\"}}},"
		"{\"resources\":{\"requests\":{\"cpu\":\"0.5\",\"memory\":\"512Mi\"}}},"
		"{\"resources\":{}}],\"initContainers\":[{\"resources\":{\"requests\":"
		"{\"cpu\":\"2\",\"memory\":\"1Mi\"}}},{\"resources\":{\"requests\":"
		"{\"cpu\":\"lots\"}}}],\"overhead\":{\"cpu\":\"100m\",\"memory\":\"1Ki\"}}}");
	struct azl_pod p;

	(void)state;
	assert_int_equal(azl_pod_parse(obj, &p), 0);
	assert_int_equal(p.cpu_request_m, 2100);                  /* init 2 + overhead */
	assert_int_equal(p.memory_request, 1610612736L + 1024);   /* 1.5Gi + overhead */
	azl_pod_release(&p);
	cJSON_Delete(obj);
}

static void test_pdb_spec_status_and_selection(void **state)
{
	cJSON *obj = cJSON_Parse(
		"{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"generation\":3},"
		"\"spec\":{\"minAvailable\":\"80%\",\"selector\":{\"matchLabels\":{\"app\":\"web\"},"
		"\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"front\","
		"\"edge\"]},{\"key\":\"canary\",\"operator\":\"DoesNotExist\"}]}},"
		"\"status\":{\"observedGeneration\":2,\"currentHealthy\":4,\"desiredHealthy\":4,"
		"\"disruptionsAllowed\":0,\"expectedPods\":5}}");
	cJSON *podj = cJSON_Parse(pod_json);
	struct azl_pdb pdb;
	struct azl_pod pod;

	(void)state;
	assert_int_equal(azl_pdb_parse(obj, &pdb), 0);
	assert_int_equal(azl_pod_parse(podj, &pod), 0);
	assert_true(pdb.min_available.set);
	assert_true(pdb.min_available.percent);
	assert_int_equal(pdb.min_available.value, 80);
	assert_false(pdb.max_unavailable.set);
	assert_int_equal(pdb.current_healthy, 4);
	assert_int_equal(pdb.desired_healthy, 4);
	assert_int_equal(pdb.disruptions_allowed, 0);
	assert_int_equal(pdb.expected_pods, 5);
	assert_false(azl_pdb_status_current(&pdb));
	assert_true(azl_pdb_selects(&pdb, &pod));
	/* no disruption allowed: a Ready pod waits; an unready one too while the
	 * budget is short (IfHealthyBudget), not under AlwaysAllow */
	pod.deletion_timestamp = 0;
	pod.ready = 1;
	assert_true(azl_pdb_blocks(&pdb, &pod));
	pod.ready = 0;
	assert_false(azl_pdb_blocks(&pdb, &pod));          /* 4 healthy of 4 desired */
	pdb.current_healthy = 3;
	assert_true(azl_pdb_blocks(&pdb, &pod));
	free(pdb.unhealthy_pod_eviction_policy);
	pdb.unhealthy_pod_eviction_policy = strdup("AlwaysAllow");
	assert_false(azl_pdb_blocks(&pdb, &pod));
	pod.ready = 1;
	pod.deletion_timestamp = 1;                        /* going already */
	assert_false(azl_pdb_blocks(&pdb, &pod));
	pod.deletion_timestamp = 0;
	pdb.disruptions_allowed = 1;
	assert_false(azl_pdb_blocks(&pdb, &pod));
	free(pod.namespace_);
	pod.namespace_ = strdup("other");
	assert_false(azl_pdb_selects(&pdb, &pod));
	azl_pod_release(&pod);
	azl_pdb_release(&pdb);
	cJSON_Delete(obj);
	cJSON_Delete(podj);
}

static void test_pdb_int_empty_selector_and_bad_value(void **state)
{
	cJSON *empty = cJSON_Parse("{\"metadata\":{\"name\":\"all\",\"namespace\":\"shop\"},"
				   "\"spec\":{\"maxUnavailable\":1,\"selector\":{}}}");
	cJSON *bad = cJSON_Parse("{\"metadata\":{\"name\":\"b\",\"namespace\":\"shop\"},"
				 "\"spec\":{\"maxUnavailable\":\"one\"}}");
	cJSON *podj = cJSON_Parse(pod_json);
	struct azl_pdb pdb;
	struct azl_pod pod;

	(void)state;
	assert_int_equal(azl_pdb_parse(empty, &pdb), 0);
	assert_int_equal(azl_pod_parse(podj, &pod), 0);
	assert_true(pdb.max_unavailable.set);
	assert_false(pdb.max_unavailable.percent);
	assert_int_equal(pdb.max_unavailable.value, 1);
	/* as EvictionREST: an empty selector covers nothing */
	assert_false(azl_pdb_selects(&pdb, &pod));
	azl_pdb_release(&pdb);
	assert_int_equal(azl_pdb_parse(bad, &pdb), AZL_EINVALID);
	assert_string_equal(azl_error_message(), "PodDisruptionBudget shop/b: spec.maxUnavailable "
			    "is neither a number nor a percentage");
	azl_pod_release(&pod);
	cJSON_Delete(empty);
	cJSON_Delete(bad);
	cJSON_Delete(podj);
}

/* Pods of node n1 in two pages; PDBs of namespace shop. */
static int handle(int fd, const struct ks_request *r)
{
	const char *t = r->target;

	if (!strcmp(t, "/api/v1/pods?limit=500&fieldSelector=spec.nodeName%3Dn1&labelSelector=app%3Dweb")) {
		ks_reply(fd, 200, NULL, "{\"kind\":\"PodList\",\"metadata\":{\"continue\":\"c2\"},"
			 "\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"shop\"}}]}");
	} else if (strstr(t, "/api/v1/pods?limit=500&continue=c2&fieldSelector=spec.nodeName%3Dn1")) {
		ks_reply(fd, 200, NULL, "{\"kind\":\"PodList\",\"metadata\":{},\"items\":["
			 "{\"metadata\":{\"name\":\"b\",\"namespace\":\"kube-system\"}}]}");
	} else if (!strcmp(t, "/apis/policy/v1/namespaces/shop/poddisruptionbudgets?limit=500")) {
		ks_reply(fd, 200, NULL, "{\"kind\":\"PodDisruptionBudgetList\",\"metadata\":{},"
			 "\"items\":[{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},"
			 "\"spec\":{\"maxUnavailable\":\"25%\"},\"status\":{\"disruptionsAllowed\":1}}]}");
	} else {
		ks_reply(fd, 404, NULL, "{}");
	}
	return 1;
}

static int collect(const struct azl_pod *pod, void *ctx)
{
	strbuf_addf(ctx, "%s/%s\n", pod->namespace_, pod->name);
	return 0;
}

static void test_pods_on_a_node_and_pdbs_of_a_namespace(void **state)
{
	struct ks_client c;
	struct strbuf names = STRBUF_INIT;
	struct azl_pdb_list pdbs;
	int port = ks_start(handle);

	(void)state;
	assert_true(port > 0);
	ks_open(&c, port);
	assert_int_equal(azl_pod_list_on_node(c.kube, "n1", "app=web", 0, collect, &names), 0);
	assert_string_equal(names.buf, "shop/a\nkube-system/b\n");
	assert_int_equal(azl_pod_list_on_node(c.kube, "n2", NULL, 0, collect, &names),
			 AZL_ENOTFOUND);
	assert_non_null(strstr(azl_error_message(), "pods on node n2: "));
	assert_int_equal(azl_pdb_list(c.kube, "shop", &pdbs), 0);
	assert_int_equal(pdbs.nr, 1);
	assert_string_equal(pdbs.items[0].name, "web");
	assert_true(pdbs.items[0].max_unavailable.percent);
	assert_int_equal(pdbs.items[0].max_unavailable.value, 25);
	assert_int_equal(pdbs.items[0].disruptions_allowed, 1);
	azl_pdb_list_release(&pdbs);
	strbuf_release(&names);
	ks_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_parses_what_a_drain_needs),
		cmocka_unit_test(test_pod_defaults_and_errors),
		cmocka_unit_test(test_node_selector_and_tolerations),
		cmocka_unit_test(test_effective_requests),
		cmocka_unit_test(test_pdb_spec_status_and_selection),
		cmocka_unit_test(test_pdb_int_empty_selector_and_bad_value),
		cmocka_unit_test(test_pods_on_a_node_and_pdbs_of_a_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
