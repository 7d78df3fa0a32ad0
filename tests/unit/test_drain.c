/* drain.c against an in-process API server (kubeserver.h): kubectl's
 * filters in its order with its messages and grouping; the blocking PDBs
 * of the plan and whether the drain can finish; a webhook's refusal
 * re-read before the retry and given up once the pod has moved; the
 * capacity first-fit of the replacements; a 404 eviction is done; the
 * cancel flag; Go's duration format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drain.h"
#include "error.h"
#include "kubeserver.h"

static int port;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int hook_evictions, hook_moved, evictions_sent, with_nodes;

#define POD(name, extra) \
	"{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"t\",\"uid\":\"u-" name "\"" extra \
	"},\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}"
#define RS ",\"labels\":{\"app\":\"web\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\"," \
	"\"kind\":\"ReplicaSet\",\"name\":\"web-1\",\"uid\":\"r\",\"controller\":true}]"
#define DS ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\"," \
	"\"name\":\"proxy\",\"uid\":\"d\",\"controller\":true}]"

static const char pods_full[] =
	"{\"kind\":\"PodList\",\"metadata\":{},\"items\":["
	POD("proxy-a", DS) ","
	POD("static", ",\"annotations\":{\"kubernetes.io/config.mirror\":\"x\"}") ","
	"{\"metadata\":{\"name\":\"cache\",\"namespace\":\"t\",\"uid\":\"u-cache\"" RS "},"
	"\"spec\":{\"nodeName\":\"n1\",\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]},"
	"\"status\":{\"phase\":\"Running\"}},"
	POD("bare", "") ","
	POD("web", RS) "]}";

static const char pdbs[] =
	"{\"kind\":\"PodDisruptionBudgetList\",\"metadata\":{},\"items\":[{\"metadata\":"
	"{\"name\":\"web\",\"namespace\":\"t\",\"generation\":1},\"spec\":{\"minAvailable\":2,"
	"\"selector\":{\"matchLabels\":{\"app\":\"web\"}}},\"status\":{\"observedGeneration\":1,"
	"\"currentHealthy\":2,\"desiredHealthy\":2,\"expectedPods\":2,\"disruptionsAllowed\":0}}]}";

/* For the capacity check: n1 is drained; n2 has cpu 2, memory 4Gi, of
 * which "other" takes 500m, 1Gi; n3 cpu 1500m, memory 8Gi, empty. */
#define NODE(name, cpu, mem) \
	"{\"metadata\":{\"name\":\"" name "\"},\"spec\":{},\"status\":{\"allocatable\":" \
	"{\"cpu\":\"" cpu "\",\"memory\":\"" mem "\",\"pods\":\"110\"},\"conditions\":" \
	"[{\"type\":\"Ready\",\"status\":\"True\"}]}}"
static const char nodes[] = "{\"kind\":\"NodeList\",\"metadata\":{},\"items\":["
	NODE("n1", "4", "16Gi") "," NODE("n2", "2", "4Gi") "," NODE("n3", "1500m", "8Gi") "]}";
#define REQ(cpu, mem) "{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"" cpu \
	"\",\"memory\":\"" mem "\"}}}"
#define BIG(name, node, containers, init) \
	"{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"t\",\"uid\":\"u-" name "\"" RS \
	"},\"spec\":{\"nodeName\":\"" node "\",\"containers\":[" containers "]," \
	"\"initContainers\":[" init "]},\"status\":{\"phase\":\"Running\"}}"
/* effective requests: big-a 1200m (its init container), 2Gi; big-b 1,
 * 2Gi (two containers); big-c 1, 6Gi */
static const char pods_big[] = "{\"kind\":\"PodList\",\"metadata\":{},\"items\":["
	BIG("big-a", "n1", REQ("1", "2Gi"), REQ("1200m", "1Gi")) ","
	BIG("big-b", "n1", REQ("500m", "1Gi") "," REQ("0.5", "1024Mi"), "") ","
	BIG("big-c", "n1", REQ("1", "6Gi"), "") "]}";
static const char pods_active[] = "{\"kind\":\"PodList\",\"metadata\":{},\"items\":["
	BIG("other", "n2", REQ("500m", "1Gi"), "") "]}";

static int handle(int fd, const struct ks_request *r)
{
	struct strbuf sb = STRBUF_INIT;
	const char *t = r->target;

	pthread_mutex_lock(&lock);
	if (!strcmp(t, "/api/v1")) {
		ks_reply(fd, 200, NULL, "{\"kind\":\"APIResourceList\",\"resources\":[{\"name\":"
			 "\"pods/eviction\",\"kind\":\"Eviction\",\"group\":\"policy\",\"version\":\"v1\"}]}");
	} else if (!strncmp(t, "/apis/policy/v1/poddisruptionbudgets", 36)) {
		ks_reply(fd, 200, NULL, pdbs);
	} else if (strstr(t, "/daemonsets/proxy")) {
		ks_reply(fd, 200, NULL, "{\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"proxy\"}}");
	} else if (with_nodes && !strncmp(t, "/api/v1/nodes", 13)) {
		ks_reply(fd, 200, NULL, nodes);
	} else if (with_nodes && !strncmp(t, "/api/v1/pods?", 13) && strstr(t, "status.phase")) {
		ks_reply(fd, 200, NULL, pods_active);
	} else if (!strncmp(t, "/api/v1/pods?", 13) && strstr(t, "app%3Dbig")) {
		ks_reply(fd, 200, NULL, pods_big);
	} else if (!strncmp(t, "/api/v1/pods?", 13) && strstr(t, "app%3Dhook")) {
		ks_reply(fd, 200, NULL, hook_moved ? "{\"kind\":\"PodList\",\"metadata\":{},\"items\":[]}"
				   : "{\"kind\":\"PodList\",\"metadata\":{},\"items\":[" POD("hook",
				     ",\"labels\":{\"app\":\"hook\"},\"ownerReferences\":[{\"kind\":"
				     "\"ReplicaSet\",\"name\":\"h\",\"uid\":\"h\",\"controller\":true}]") "]}");
	} else if (!strncmp(t, "/api/v1/pods?", 13)) {
		ks_reply(fd, 200, NULL, pods_full);
	} else if (strstr(t, "/pods/hook/eviction")) {
		hook_evictions++;
		/* the webhook moves the pod itself, then refuses */
		hook_moved = 1;
		ks_reply(fd, 403, NULL, ks_status(&sb, 403, "Forbidden", "admission webhook "
			 "\\\"drain.strimzi.io\\\" denied the request: moving it myself", NULL));
	} else if (!strcmp(t, "/api/v1/namespaces/t/pods/hook")) {
		ks_reply(fd, 200, NULL, "{\"metadata\":{\"name\":\"hook\",\"namespace\":\"t\","
			 "\"uid\":\"u-hook-2\"},\"spec\":{\"nodeName\":\"n2\"}}");
	} else if (strstr(t, "/eviction")) {
		evictions_sent++;
		ks_reply(fd, 404, NULL, ks_status(&sb, 404, "NotFound", "gone", NULL));
	} else {
		ks_reply(fd, 404, NULL, ks_status(&sb, 404, "NotFound", "no such thing", NULL));
	}
	pthread_mutex_unlock(&lock);
	strbuf_release(&sb);
	return 1;
}

static int setup(void **state)
{
	(void)state;
	port = ks_start(handle);
	return port < 0;
}

static const char *const n1[] = { "n1" };

static struct azl_drain_plan *plan_with(struct ks_client *c, const struct azl_drain_options *o,
				       struct azl_drain **d)
{
	struct azl_drain_plan *plan = NULL;

	ks_open(c, port);
	assert_int_equal(azl_drain_new(d, c->kube, o), 0);
	assert_int_equal(azl_drain_plan(*d, n1, 1, &plan), 0);
	return plan;
}

static void test_filters_in_kubectls_order_and_words(void **state)
{
	struct azl_drain_options o = AZL_DRAIN_OPTIONS_INIT;
	struct ks_client c;
	struct azl_drain *d;
	struct azl_drain_plan *plan;
	struct strbuf sb = STRBUF_INIT;
	const struct azl_drain_node *n;

	(void)state;
	plan = plan_with(&c, &o, &d);
	n = &plan->nodes[0];
	assert_int_equal(n->nr_pods, 5);
	assert_true(n->refused);
	assert_int_equal(n->pods[0].action, AZL_DRAIN_REFUSE);     /* DaemonSet */
	assert_int_equal(n->pods[1].action, AZL_DRAIN_SKIP);       /* mirror, silent */
	assert_null(n->pods[1].filter_message);
	assert_int_equal(n->pods[2].action, AZL_DRAIN_REFUSE);     /* emptyDir */
	assert_int_equal(n->pods[3].action, AZL_DRAIN_REFUSE);     /* no controller */
	assert_int_equal(n->pods[4].action, AZL_DRAIN_EVICT);
	assert_string_equal(n->pods[4].pdb, "t/web");
	azl_drain_node_errors(n, &sb);
	assert_string_equal(sb.buf,
		"[cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): t/proxy-a, "
		"cannot delete Pods with local storage (use --delete-emptydir-data to override): t/cache, "
		"cannot delete cannot delete Pods that declare no controller (use --force to override): "
		"t/bare]");
	/* the PDB that allows nothing, and can never: minAvailable 2 of its 2 pods */
	assert_int_equal(plan->nr_blocking, 1);
	assert_string_equal(plan->blocking[0].name, "web");
	assert_int_equal(plan->blocking[0].nr_pods, 1);
	assert_string_equal(plan->blocking[0].pods[0], "t/web");
	assert_non_null(plan->blocking[0].never);
	azl_drain_plan_free(plan);
	azl_drain_free(d);
	ks_close(&c);

	o.ignore_daemonsets = o.delete_emptydir_data = o.force = 1;
	plan = plan_with(&c, &o, &d);
	n = &plan->nodes[0];
	assert_false(n->refused);
	strbuf_reset(&sb);
	azl_drain_node_warnings(n, &sb);
	/* the emptyDir warning is lost to the last filter, as in kubectl */
	assert_string_equal(sb.buf, "ignoring DaemonSet-managed Pods: t/proxy-a; "
			    "deleting Pods that declare no controller: t/bare");
	assert_string_equal(n->pods[2].why, "its emptyDir data is deleted");
	/* a client dry run sends nothing and drains */
	azl_drain_free(d);
	o.dry_run = AZL_DRAIN_DRY_RUN_CLIENT;
	assert_int_equal(azl_drain_new(&d, c.kube, &o), 0);
	evictions_sent = 0;
	assert_int_equal(azl_drain_run(d, plan), 0);
	assert_int_equal(evictions_sent, 0);
	assert_int_equal(n->state, AZL_DRAIN_NODE_DRAINED);
	azl_drain_plan_free(plan);
	azl_drain_free(d);
	ks_close(&c);
	strbuf_release(&sb);
}

struct seen {
	int gone, retries, node_done;
};

static void note(const struct azl_drain_event *ev, void *ctx)
{
	struct seen *s = ctx;

	s->gone += ev->type == AZL_DRAIN_EV_GONE;
	s->retries += ev->type == AZL_DRAIN_EV_RETRY;
	s->node_done += ev->type == AZL_DRAIN_EV_NODE_DONE;
}

static void test_webhook_refusal_reread_and_given_up_once_moved(void **state)
{
	struct azl_drain_options o = AZL_DRAIN_OPTIONS_INIT;
	struct seen s = { 0, 0, 0 };
	struct ks_client c;
	struct azl_drain *d;
	struct azl_drain_plan *plan;

	(void)state;
	o.pod_selector = "app=hook";
	o.retry_delay_ms = 10;
	o.poll_ms = 10;
	o.on_event = note;
	o.ctx = &s;
	hook_moved = hook_evictions = 0;
	plan = plan_with(&c, &o, &d);
	assert_int_equal(plan->nodes[0].nr_pods, 1);
	assert_int_equal(azl_drain_run(d, plan), 0);
	assert_int_equal(hook_evictions, 1);           /* not asked again once it moved */
	assert_int_equal(s.retries, 1);
	assert_int_equal(s.gone, 1);
	assert_int_equal(s.node_done, 1);
	assert_int_equal(plan->nodes[0].pods[0].state, AZL_DRAIN_POD_DONE);
	assert_int_equal(plan->nodes[0].state, AZL_DRAIN_NODE_DRAINED);
	azl_drain_plan_free(plan);
	azl_drain_free(d);
	ks_close(&c);
}

/* First-fit over the nodes outside the drain, counting the pods already
 * there and the replacements placed before: big-a takes n2 (1500m, 3Gi
 * free), big-b then only fits on n3, and big-c finds no room left. */
static void test_capacity_first_fit_flags_what_fits_nowhere(void **state)
{
	struct azl_drain_options o = AZL_DRAIN_OPTIONS_INIT;
	struct ks_client c;
	struct azl_drain *d;
	struct azl_drain_plan *plan;
	const struct azl_drain_node *n;

	(void)state;
	o.pod_selector = "app=big";
	with_nodes = 1;
	plan = plan_with(&c, &o, &d);
	with_nodes = 0;
	n = &plan->nodes[0];
	assert_int_equal(n->nr_pods, 3);
	assert_false(n->pods[0].nowhere);
	assert_null(n->pods[0].no_room);
	assert_false(n->pods[1].nowhere);
	assert_true(n->pods[2].nowhere);
	assert_string_equal(n->pods[2].no_room,
			    "needs cpu 1, memory 6Gi; largest free: cpu 500m, memory 6Gi");
	azl_drain_plan_free(plan);
	azl_drain_free(d);
	ks_close(&c);
}

static void test_not_found_eviction_is_done_and_cancel_stops(void **state)
{
	struct azl_drain_options o = AZL_DRAIN_OPTIONS_INIT;
	volatile sig_atomic_t cancel = 1;
	struct ks_client c;
	struct azl_drain *d;
	struct azl_drain_plan *plan;

	(void)state;
	o.ignore_daemonsets = o.delete_emptydir_data = o.force = 1;
	o.cancel = &cancel;
	plan = plan_with(&c, &o, &d);
	assert_int_equal(azl_drain_run(d, plan), AZL_ECANCELED);
	assert_int_equal(plan->nodes[0].state, AZL_DRAIN_NODE_PENDING);
	cancel = 0;
	evictions_sent = 0;
	assert_int_equal(azl_drain_run(d, plan), 0);  /* every eviction answers 404 */
	assert_int_equal(evictions_sent, 3);
	assert_int_equal(plan->nodes[0].state, AZL_DRAIN_NODE_DRAINED);
	azl_drain_plan_free(plan);
	azl_drain_free(d);
	ks_close(&c);
}

static void test_go_durations(void **state)
{
	static const struct { long ms; const char *s; } cases[] = {
		{ 0, "0s" }, { 500, "500ms" }, { 5000, "5s" }, { 60000, "1m0s" },
		{ 90500, "1m30.5s" }, { 3600000, "1h0m0s" }, { 3723000, "1h2m3s" },
	};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&sb);
		azl_drain_format_duration(&sb, cases[i].ms);
		assert_string_equal(sb.buf, cases[i].s);
	}
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filters_in_kubectls_order_and_words),
		cmocka_unit_test(test_webhook_refusal_reread_and_given_up_once_moved),
		cmocka_unit_test(test_capacity_first_fit_flags_what_fits_nowhere),
		cmocka_unit_test(test_not_found_eviction_is_done_and_cancel_stops),
		cmocka_unit_test(test_go_durations),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
