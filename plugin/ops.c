/* The front end of mutating operations: see ops.h. */
#include "ops.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "json.h"
#include "upgrade.h"
#include "log.h"
#include "num.h"
#include "print.h"
#include "progress.h"
#include "strbuf.h"
#include "wrapper.h"

/* ---- clients ---- */

static int open_arm(struct cli_op_session *s, const struct cli_global_flags *g,
		    const struct cli_op_flags *f)
{
	long timeout_ms;
	int rc = cli_global_flags_arm_timeout(g, &timeout_ms);

	return rc ? rc : cli_arm_open(&f->az, timeout_ms, &s->auth, &s->cred, &s->arm);
}

/* Resolves the cluster and loads its pools. */
static int load_pools(struct cli_op_session *s, const struct cli_op_flags *f)
{
	struct azl_cluster_query q = {
		.server = s->ks.config->server, .context = s->ks.config->context_name,
		.subscription = f->subscription, .resource_group = f->resource_group,
		.name = f->name, .cloud = azl_auth_cloud(s->auth),
	};

	if (s->loaded) {
		azl_pool_list_release(&s->pools);
		azl_cluster_release(&s->cluster);
	}
	memset(&s->cluster, 0, sizeof(s->cluster));
	memset(&s->pools, 0, sizeof(s->pools));
	s->loaded = 1;
	return azl_pool_inspect(s->arm, s->ks.kube, &q, NULL, 0, &s->cluster, &s->pools);
}

int cli_op_open(struct cli_op_session *s, const struct cli_global_flags *g,
		const struct cli_op_flags *f, int load)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = cli_kube_session_open(&s->ks, g);
	if (!rc)
		rc = azl_kube_new(&s->watch_kube, s->ks.config);
	if (!rc)
		rc = open_arm(s, g, f);
	if (!rc && load)
		rc = load_pools(s, f);
	return rc;
}

void cli_op_close(struct cli_op_session *s)
{
	if (s->loaded) {
		azl_pool_list_release(&s->pools);
		azl_cluster_release(&s->cluster);
	}
	azl_arm_free(s->arm);
	azl_arm_credential_free(s->cred);
	azl_auth_free(s->auth);
	azl_kube_free(s->watch_kube);
	cli_kube_session_release(&s->ks);
	memset(s, 0, sizeof(*s));
}

int cli_op_probe(const struct cli_op_session *s, const char *pool)
{
	struct azl_journal_target t = {
		.context = s->ks.config->context_name, .subscription = s->cluster.subscription,
		.resource_group = s->cluster.resource_group, .cluster = s->cluster.name,
		.pool = pool,
	};

	return azl_journal_probe(&t);
}

const struct azl_operation_kind *const *cli_op_kinds(size_t *nr)
{
	static const struct azl_operation_kind *const kinds[] = {
		&azl_migrate_kind, &azl_add_pool_kind, &azl_upgrade_node_image_kind,
		&azl_upgrade_kubernetes_kind, &azl_upgrade_node_os_channel_kind
	};

	*nr = sizeof(kinds) / sizeof(*kinds);
	return kinds;
}

/* ---- signals ---- */

/* The one piece of process state here: a signal handler can reach
 * nothing else. */
static volatile sig_atomic_t cancel_flag;

static void on_signal(int sig)
{
	cancel_flag = 1;
	signal(sig, SIG_DFL);
}

const volatile sig_atomic_t *cli_op_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return &cancel_flag;
}

/* ---- live progress ---- */

struct node_state {
	char *name;
	char *summary;
	int on_target;
};

struct cli_op_view {
	struct cli_progress *progress;
	int live;
	char *pool;
	char *target_os;
	struct node_state *nodes;
	size_t nr;
	time_t start;
	char status[32];
	double percent;
	char step[32];
};

struct cli_op_view *cli_op_view_new(const char *pool, const char *target_os)
{
	struct cli_op_view *v = xcalloc(1, sizeof(*v));

	cli_progress_new(&v->progress, stderr);
	v->live = isatty(STDERR_FILENO);
	v->pool = xstrdup(pool);
	v->target_os = xstrdup(target_os ? target_os : "");
	v->start = time(NULL);
	v->percent = -1;
	return v;
}

void cli_op_view_free(struct cli_op_view *v)
{
	if (!v)
		return;
	cli_progress_clear(v->progress);
	cli_progress_free(v->progress);
	for (size_t i = 0; i < v->nr; i++) {
		free(v->nodes[i].name);
		free(v->nodes[i].summary);
	}
	free(v->nodes);
	free(v->pool);
	free(v->target_os);
	free(v);
}

static struct node_state *node_slot(struct cli_op_view *v, const char *name)
{
	for (size_t i = 0; i < v->nr; i++)
		if (!strcmp(v->nodes[i].name, name))
			return &v->nodes[i];
	v->nodes = xrealloc(v->nodes, (v->nr + 1) * sizeof(*v->nodes));
	memset(&v->nodes[v->nr], 0, sizeof(*v->nodes));
	v->nodes[v->nr].name = xstrdup(name);
	return &v->nodes[v->nr++];
}

static void say(struct cli_op_view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct cli_op_view *v, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cli_progress_clear(v->progress);
	fprintf(stderr, "%s %s\n", when, sb.buf);
	fflush(stderr);
	strbuf_release(&sb);
}

static void show_line(struct cli_op_view *v)
{
	long elapsed = (long)(time(NULL) - v->start);
	size_t on = 0;
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < v->nr; i++)
		on += v->nodes[i].on_target;
	strbuf_addf(&sb, "%s: %s", v->pool, v->step);
	if (*v->status)
		strbuf_addf(&sb, ", AKS %s", v->status);
	if (v->percent >= 0)
		strbuf_addf(&sb, " %.0f%%", v->percent);
	strbuf_addf(&sb, ", %zu/%zu nodes on %s, %ldm%02lds elapsed", on, v->nr, v->target_os,
		    elapsed / 60, elapsed % 60);
	if (v->percent > 0 && v->percent < 100) {
		long left = (long)((double)elapsed * (100 - v->percent) / v->percent);

		strbuf_addf(&sb, ", about %ldm%02lds left", left / 60, left % 60);
	}
	cli_progress_update(v->progress, "%s", sb.buf);
	strbuf_release(&sb);
}

static void node_event(struct cli_op_view *v, const struct azl_node *n)
{
	struct node_state *ns = node_slot(v, n->name);
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s%s, %s %s", n->ready ? "Ready" : "NotReady",
		    n->schedulable ? "" : ",SchedulingDisabled", *n->os_name ? n->os_name : "unknown OS",
		    n->node_image_version);
	ns->on_target = n->ready && !strcmp(n->os_name, v->target_os);
	if (!ns->summary || strcmp(ns->summary, sb.buf)) {
		say(v, "node %s: %s%s", n->name, sb.buf, ns->summary ? "" : " (joined)");
		free(ns->summary);
		ns->summary = strbuf_detach(&sb, NULL);
	}
	strbuf_release(&sb);
}

void cli_op_event(void *data, const struct azl_operation_event *ev)
{
	struct cli_op_view *v = data;

	switch (ev->type) {
	case AZL_OPERATION_STEP_BEGIN:
		snprintf(v->step, sizeof(v->step), "%s", ev->step_name);
		say(v, "step %s: started", ev->step_name);
		break;
	case AZL_OPERATION_STEP_END:
		say(v, "step %s: %s", ev->step_name, ev->rc ? "failed" : "done");
		break;
	case AZL_OPERATION_LRO:
		if (strcmp(v->status, ev->status ? ev->status : ""))
			say(v, "AKS operation: %s", ev->status ? ev->status : "");
		snprintf(v->status, sizeof(v->status), "%s", ev->status ? ev->status : "");
		v->percent = ev->percent;
		break;
	case AZL_OPERATION_NODE:
		node_event(v, ev->node);
		break;
	case AZL_OPERATION_NODE_GONE:
		say(v, "node %s: removed", ev->node_name);
		for (size_t i = 0; i < v->nr; i++)
			if (!strcmp(v->nodes[i].name, ev->node_name)) {
				free(v->nodes[i].name);
				free(v->nodes[i].summary);
				v->nodes[i] = v->nodes[--v->nr];
				break;
			}
		break;
	case AZL_OPERATION_NOTE:
		say(v, "%s", ev->message);
		break;
	case AZL_OPERATION_PDB_WAIT:
		say(v, "node %s: %s", ev->node_name, ev->message);
		break;
	}
	/* timestamped lines say it all but on a terminal */
	if (v->live)
		show_line(v);
}

/* How many steps of a phase the operation runs at once (upgrade's
 * --parallel, in its record); 1 when it says nothing usable. */
static size_t op_parallel(const cJSON *data)
{
	long n = 1;

	if (azl_num_json_member(data, "parallel", 1, AZL_OPERATION_MAX_PARALLEL, 1, &n))
		n = 1;
	return (size_t)n;
}

void cli_op_env(struct azl_operation_env *env, struct cli_op_session *s,
		struct cli_op_view *view, const struct azl_journal *j, const cJSON *data,
		int no_wait, struct strbuf *selector)
{
	memset(env, 0, sizeof(*env));
	env->arm = s->arm;
	env->kube = s->ks.kube;
	env->watch_kube = view ? s->watch_kube : NULL;
	strbuf_reset(selector);
	/* a kind whose nodes are not one pool's names them in its record */
	if (*azl_json_str(data, "watchSelector", ""))
		strbuf_addstr(selector, azl_json_str(data, "watchSelector", ""));
	else
		azl_migrate_node_selector(azl_journal_target_field(j, "pool"), data, selector);
	env->watch_selector = selector->buf;
	env->cancel = cli_op_signals();
	env->no_wait = no_wait;
	env->parallel = op_parallel(data);
	env->event = view ? cli_op_event : NULL;
	env->event_data = view;
}

/* ---- the plan ---- */

static const char *step_text(const char *name, const struct azl_migrate_plan *p)
{
	static const struct { const char *name, *text; } texts[] = {
		{ "update-pool", "PUT the pool with the new osSKU (If-Match its eTag) and follow AKS's rolling operation: surge nodes, then each node cordoned, drained, reimaged" },
		{ "create-pool", "PUT the new pool (If-None-Match: *) with the old one's spec, the new osSKU and an azlinux-operation tag" },
		{ "wait-ready", "wait until every node of the new pool is Ready on the new OS" },
		{ "stop-autoscaler", "stop the old pool's autoscaler so it adds no node (journaled; abort starts it again)" },
		{ "cordon", "cordon every node of the old pool before evicting anything" },
		{ "drain", "evict the old nodes' pods (DaemonSets left, emptyDir data lost), one node at a time, the next once the moved workloads are Ready" },
		{ "delete-pool", "DELETE the old pool, now empty" },
		{ "verify", "check the pool's osSKU and state and every node on the new OS and Ready" },
	};

	(void)p;
	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++)
		if (!strcmp(texts[i].name, name))
			return texts[i].text;
	return "";
}

/* One side of a move, as the plan and the before/after show it. */
static void print_os_line(const char *label, const char *os_name, const char *sku,
			  const char *image, const char *k8s)
{
	printf("  %-9s %s (osSKU %s), node image %s, Kubernetes %s\n", label,
	       *os_name ? os_name : "unknown OS", *sku ? sku : "(none)", image, k8s);
}

static void print_side(const char *label, const struct azl_migrate_side *s, const char *image)
{
	print_os_line(label, s->os_name, s->os_sku, image, s->kubernetes_version);
}

void cli_op_print_plan(const struct azl_migrate_plan *plan, const struct azl_cluster *c)
{
	struct strbuf line = STRBUF_INIT;
	const char *cmd = plan->commands.buf, *nl;

	printf("Plan: %s %s in cluster %s (resource group %s, %s)\n", plan->kind, plan->pool,
	       c->name, c->resource_group, c->location);
	print_side("from:", &plan->from, plan->from.node_image_version);
	print_side("to:", &plan->to, "the latest AKS offers");
	printf("  strategy: %s\n", plan->why);
	if (plan->new_pool.name)
		printf("  new pool: %s (%s, %s, %ld nodes%s)\n", plan->new_pool.name, plan->new_pool.mode,
		       plan->new_pool.vm_size, plan->new_pool.count,
		       plan->opts.canary ? ", one canary node first" : "");
	if (plan->nr_steps)
		printf("Steps:\n");
	for (size_t i = 0; i < plan->nr_steps; i++)
		printf("  %zu. %-15s %s\n", i + 1, plan->steps[i], step_text(plan->steps[i], plan));
	if (plan->commands.len)
		printf("Equivalent commands:\n");
	while (*cmd) {
		nl = strchr(cmd, '\n');
		if (!nl)
			nl = cmd + strlen(cmd);
		printf("  %.*s\n", (int)(nl - cmd), cmd);
		cmd = *nl ? nl + 1 : nl;
	}
	if (plan->terraform.len)
		printf("Terraform: %s\n", plan->terraform.buf);
	for (size_t i = 0; i < plan->notes.nr; i++)
		printf("Note: %s\n", plan->notes.items[i].message);
	if (plan->preflight.nr)
		printf("Preflight:\n");
	for (size_t i = 0; i < plan->preflight.nr; i++) {
		const struct azl_finding *f = &plan->preflight.items[i];

		printf("  %-8s %s: %s\n", azl_preflight_severity_name(f->severity), f->code, f->message);
	}
	fflush(stdout);
	strbuf_release(&line);
}

int cli_op_preflight_exit(const struct azl_finding_list *preflight)
{
	switch (azl_preflight_worst(preflight)) {
	case AZL_SEVERITY_ERROR:
		return CLI_OP_EXIT_BLOCKED;
	case AZL_SEVERITY_WARNING:
		return CLI_OP_EXIT_WARNINGS;
	default:
		return CLI_OP_EXIT_OK;
	}
}

int cli_op_confirm(const struct azl_finding_list *preflight, int yes)
{
	char answer[16];
	size_t blockers = 0;

	for (size_t i = 0; i < preflight->nr; i++)
		blockers += preflight->items[i].severity == AZL_SEVERITY_ERROR;
	if (blockers) {
		cli_error_usage("the preflight found %zu %s: nothing was changed", blockers,
				blockers == 1 ? "blocker" : "blockers");
		return CLI_OP_EXIT_BLOCKED;
	}
	if (yes)
		return 0;
	if (!isatty(STDIN_FILENO))
		return cli_error_usage("no terminal to ask on: run with --yes to proceed (nothing was changed)");
	fprintf(stderr, "Proceed? [y/N] ");
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin) || (strcasecmp(answer, "y\n") && strcasecmp(answer, "yes\n")))
		return cli_error_usage("not confirmed: nothing was changed");
	return 0;
}

/* ---- the report ---- */

static void add_time(cJSON *o, const char *key, time_t t)
{
	char buf[32];
	struct tm tm;

	if (!t) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, key, buf);
}

static void copy_member(cJSON *to, const cJSON *from, const char *key, int array)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);

	if (v)
		cJSON_AddItemToObject(to, key, cJSON_Duplicate(v, 1));
	else if (array)
		cJSON_AddItemToObject(to, key, cJSON_CreateArray());
	else
		cJSON_AddNullToObject(to, key);
}

/* What a report is made of: a journal's, or a plan not journaled yet. */
struct report_src {
	const struct azl_journal *j;       /* NULL: the plan alone */
	const char *id, *kind, *context, *subscription, *resource_group, *name, *pool, *state;
	const cJSON *data;
	const char *const *steps;          /* without j */
	size_t nr_steps;
};

/* Each step's state and times; a record with a "plan" array (upgrade's)
 * describes its steps by index: their names, pools, from and to. */
static cJSON *steps_json(const struct report_src *r)
{
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(r->data, "plan");
	size_t nr = r->j ? azl_journal_nr_steps(r->j) : r->nr_steps;
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < nr; i++) {
		const cJSON *p = cJSON_GetArrayItem(plan, (int)i);
		const char *name = r->j ? azl_journal_step_name(r->j, i) : r->steps[i];
		cJSON *s = cJSON_CreateObject();

		cJSON_AddStringToObject(s, "name", azl_json_str(p, "name", name));
		if (plan) {
			azl_json_add_str_or_null(s, "pool", azl_json_str(p, "pool", NULL));
			azl_json_add_str_or_null(s, "from", azl_json_str(p, "from", NULL));
			azl_json_add_str_or_null(s, "to", azl_json_str(p, "to", NULL));
		}
		cJSON_AddStringToObject(s, "state", r->j ? azl_step_state_name(azl_journal_step_state(r->j, i))
					: "pending");
		add_time(s, "startTime", r->j ? azl_journal_step_started(r->j, i) : 0);
		add_time(s, "endTime", r->j ? azl_journal_step_ended(r->j, i) : 0);
		cJSON_AddItemToArray(a, s);
	}
	return a;
}

static cJSON *report(const struct report_src *r)
{
	const cJSON *d = r->data;
	cJSON *o = cJSON_CreateObject(), *c = cJSON_CreateObject();
	const char *np = azl_json_str(d, "newPool", NULL);

	azl_json_add_str_or_null(o, "id", r->id);
	cJSON_AddStringToObject(o, "kind", r->kind);
	cJSON_AddStringToObject(o, "context", r->context);
	cJSON_AddStringToObject(c, "subscription", r->subscription);
	cJSON_AddStringToObject(c, "resourceGroup", r->resource_group);
	cJSON_AddStringToObject(c, "name", r->name);
	cJSON_AddStringToObject(c, "location", azl_json_str(d, "location", ""));
	cJSON_AddItemToObject(o, "cluster", c);
	/* an upgrade of several pools or none holds the cluster's lock */
	azl_json_add_str_or_null(o, "pool", strcmp(r->pool, AZL_UPGRADE_CLUSTER_POOL) ? r->pool : NULL);
	azl_json_add_str_or_null(o, "strategy", azl_json_str(d, "strategy", NULL));
	azl_json_add_str_or_null(o, "newPool", np);
	copy_member(o, d, "from", 0);
	copy_member(o, d, "to", 0);
	if (cJSON_GetObjectItemCaseSensitive(d, "target"))
		copy_member(o, d, "target", 0);
	cJSON_AddStringToObject(o, "state", r->state);
	copy_member(o, d, "preflight", 1);
	cJSON_AddItemToObject(o, "steps", steps_json(r));
	if (cJSON_GetObjectItemCaseSensitive(d, "skipped"))
		copy_member(o, d, "skipped", 1);
	copy_member(o, d, "nodes", 1);
	copy_member(o, d, "error", 0);
	return o;
}

/* The journal's state; one this process stopped waiting for after a
 * signal reads Interrupted, as it will once the process (its lock) is
 * gone. */
static enum azl_op_state report_state(const struct azl_journal *j)
{
	enum azl_op_state st = azl_journal_state(j);

	if (cancel_flag && (st == AZL_OP_PLANNED || st == AZL_OP_IN_PROGRESS))
		return AZL_OP_INTERRUPTED;
	return st;
}

cJSON *cli_op_report(const struct azl_journal *j)
{
	struct report_src r = {
		.j = j, .id = azl_journal_id(j), .kind = azl_journal_kind(j),
		.context = azl_journal_context(j),
		.subscription = azl_journal_target_field(j, "subscription"),
		.resource_group = azl_journal_target_field(j, "resourceGroup"),
		.name = azl_journal_target_field(j, "name"), .pool = azl_journal_target_field(j, "pool"),
		.state = azl_op_state_name(report_state(j)), .data = azl_journal_data(j),
	};

	return report(&r);
}

cJSON *cli_op_plan_report(const struct cli_op_session *s, const char *kind, const char *pool,
			  const char *state, const cJSON *data, const char *const *steps,
			  size_t nr_steps)
{
	struct report_src r = {
		.kind = kind, .context = s->ks.config->context_name,
		.subscription = s->cluster.subscription, .resource_group = s->cluster.resource_group,
		.name = s->cluster.name, .pool = pool, .state = state, .data = data,
		.steps = steps, .nr_steps = nr_steps,
	};

	return report(&r);
}

int cli_op_print_operation(cJSON *report, enum cli_output format)
{
	cJSON *tree = cJSON_CreateObject();
	int rc;

	cJSON_AddItemToObject(tree, "operation", report);
	rc = cli_print_tree(tree, format);
	cJSON_Delete(tree);
	return rc;
}

int cli_op_print_report(const struct azl_journal *j, enum cli_output format)
{
	return cli_op_print_operation(cli_op_report(j), format);
}

int cli_op_parse_id(int argc, const char **argv, const struct cli_cmd_ctx *ctx, void *values,
		    const struct cli_global_flags *g, const char *const *output,
		    enum cli_output *format, int *exit_code)
{
	int n = cli_cmd_parse(argc, argv, ctx, values, g);

	if (n < 0)
		*exit_code = cli_parse_exit_code(n);
	else if (n > 1)
		*exit_code = cli_error_usage("usage: %s %s", ctx->prog, ctx->cmd->usage);
	else if (cli_output_parse(*output, CLI_OUTPUT_TABLE | CLI_OUTPUT_JSON | CLI_OUTPUT_YAML,
				  format) < 0)
		*exit_code = cli_error_report();
	else
		return n;
	return -1;
}


/* The node images the nodes report, each once: "A" or "A, B". */
static void node_images(const cJSON *nodes, struct strbuf *out)
{
	struct strbuf seen = STRBUF_INIT, key = STRBUF_INIT;
	const cJSON *n;

	strbuf_addch(&seen, '\n');
	cJSON_ArrayForEach(n, nodes) {
		const char *img = azl_json_str(n, "nodeImageVersion", "");

		strbuf_reset(&key);
		strbuf_addf(&key, "\n%s\n", img);
		if (!*img || strstr(seen.buf, key.buf))
			continue;
		strbuf_addf(&seen, "%s\n", img);
		strbuf_addf(out, "%s%s", out->len ? ", " : "", img);
	}
	strbuf_release(&seen);
	strbuf_release(&key);
}

/* What a migration verified, beside what it started from:
 *   before:   Ubuntu 22.04 (osSKU Ubuntu), node image ..., Kubernetes 1.32.6
 *   after:    Azure Linux 3.0 (osSKU AzureLinux), node image ..., Kubernetes 1.32.6
 *   nodes:    4/4 Ready on Azure Linux 3.0 */
static void print_before_after(const struct azl_journal *j)
{
	const cJSON *d = azl_journal_data(j), *n, *nodes;
	const char *pool = azl_json_str(d, "newPool", NULL);
	struct strbuf images = STRBUF_INIT;
	size_t nr = 0, good = 0;

	if (azl_journal_state(j) != AZL_OP_SUCCEEDED || !d || !azl_json_str(d, "to.osSku", NULL))
		return;         /* an upgrade's record has no OS move to show */
	nodes = cJSON_GetObjectItemCaseSensitive(d, "nodes");
	cJSON_ArrayForEach(n, nodes) {
		nr++;
		good += azl_json_bool(n, "ready", 0) &&
			!strcmp(azl_json_str(n, "osVersion", ""), azl_json_str(d, "to.osVersion", ""));
	}
	node_images(nodes, &images);
	printf("Verified: pool %s%s%s\n", azl_journal_target_field(j, "pool"),
	       pool ? " moved to pool " : "", pool ? pool : "");
	print_os_line("before:", azl_json_str(d, "from.osName", ""), azl_json_str(d, "from.osSku", ""),
		      azl_json_str(d, "from.nodeImageVersion", ""),
		      azl_json_str(d, "from.kubernetesVersion", ""));
	print_os_line("after:", azl_json_str(d, "to.osName", ""), azl_json_str(d, "to.osSku", ""),
		      images.len ? images.buf : "unknown", azl_json_str(d, "to.kubernetesVersion", ""));
	printf("  %-9s %zu/%zu Ready on %s\n", "nodes:", good, nr, azl_json_str(d, "to.osName", ""));
	strbuf_release(&images);
}

void cli_op_print_outcome(const struct azl_journal *j, int rc)
{
	const char *id = azl_journal_id(j);

	if (rc == AZL_ECANCELED) {
		const char *step = "";

		for (size_t i = 0; i < azl_journal_nr_steps(j) && !*step; i++)
			if (azl_journal_step_state(j, i) != AZL_STEP_DONE)
				step = azl_journal_step_name(j, i);
		fprintf(stderr,
			"Interrupted: operation %s stopped waiting; an AKS operation already sent goes on in Azure.\n"
			"  kubectl azlinux status %s    its state\n"
			"  kubectl azlinux resume %s    go on from step %s\n"
			"  kubectl azlinux abort %s     stop it (and roll a side-by-side move back)\n",
			id, id, id, step, id);
		return;
	}
	if (rc) {
		fprintf(stderr, "Operation %s failed; the journal says where (kubectl azlinux status %s).\n",
			id, id);
		return;
	}
	fprintf(stderr, "Operation %s: %s.\n", id, azl_op_state_name(azl_journal_state(j)));
}

/* ---- running ---- */

int cli_op_drive(struct azl_operation *op, struct cli_op_session *s, const char *target_os,
		 enum cli_output format, int no_wait, int abort_it)
{
	struct azl_journal *j = azl_operation_journal(op);
	struct cli_op_view *view = cli_op_view_new(azl_journal_target_field(j, "pool"), target_os);
	struct azl_operation_env env;
	struct strbuf selector = STRBUF_INIT;
	int rc;

	cli_op_env(&env, s, view, j, azl_operation_data(op), no_wait, &selector);
	fprintf(stderr, "Operation %s (%s of pool %s)\n", azl_journal_id(j), azl_journal_kind(j),
		azl_journal_target_field(j, "pool"));
	rc = abort_it ? azl_operation_abort(op, &env, NULL) : azl_operation_run(op, &env, NULL);
	cli_op_view_free(view);
	strbuf_release(&selector);
	if (rc && rc != AZL_ECANCELED)
		cli_error_report();
	if (format == CLI_OUTPUT_JSON || format == CLI_OUTPUT_YAML)
		cli_op_print_report(j, format);
	else
		print_before_after(j);
	cli_op_print_outcome(j, rc);
	if (rc == AZL_ECANCELED && *env.cancel)
		return CLI_OP_EXIT_INTERRUPTED;
	return rc ? CLI_OP_EXIT_FAILED : CLI_OP_EXIT_OK;
}

/* ---- resume and abort ---- */

/* The newest operation that did not end, when no id was given. */
static int latest_unfinished(struct strbuf *id)
{
	struct azl_journal_list list = { 0 };
	struct strbuf errors = STRBUF_INIT;
	int rc = azl_journal_list(&list, &errors);

	for (size_t i = list.nr; !rc && i-- > 0;) {
		enum azl_op_state st = azl_journal_state(list.items[i]);

		if (st != AZL_OP_SUCCEEDED && st != AZL_OP_CANCELED) {
			strbuf_addstr(id, azl_journal_id(list.items[i]));
			break;
		}
	}
	azl_journal_list_release(&list);
	/* an unreadable journal may be the operation that was meant: say so */
	strbuf_trim(&errors);
	if (!rc && !id->len && errors.len)
		rc = azl_error_set(AZL_EINVALID, "%.*s; no other operation to go on with",
				   (int)strcspn(errors.buf, "\n"), errors.buf);
	else if (!rc && !id->len)
		rc = azl_error_set(AZL_ENOTFOUND,
				   "no operation to go on with: every journaled one has ended (kubectl azlinux status)");
	strbuf_release(&errors);
	return rc;
}

int cli_op_continue(int argc, const char **argv, const struct cli_cmd_ctx *ctx, int abort_it)
{
	struct cli_op_continue_args args = { 0 };
	const struct azl_operation_kind *const *kinds;
	struct azl_operation *op = NULL;
	struct strbuf id = STRBUF_INIT;
	struct cli_op_session s;
	enum cli_output format;
	size_t nr_kinds;
	int n, rc;

	n = cli_op_parse_id(argc, argv, ctx, &args, &args.g, &args.output, &format, &rc);
	if (n < 0)
		return rc;
	kinds = cli_op_kinds(&nr_kinds);
	rc = n ? (strbuf_addstr(&id, argv[0]), 0) : latest_unfinished(&id);
	if (!rc)
		rc = azl_operation_load(&op, kinds, nr_kinds, id.buf);
	strbuf_release(&id);
	if (rc)
		return cli_error_report();
	if (!args.g.context && *azl_journal_context(azl_operation_journal(op)))
		args.g.context = azl_journal_context(azl_operation_journal(op));
	memset(&s, 0, sizeof(s));
	if (cli_op_open(&s, &args.g, &args.f, 0))
		rc = cli_error_report();
	else
		rc = cli_op_drive(op, &s, azl_json_str(azl_operation_data(op), "to.osName", ""),
				  format, args.no_wait, abort_it);
	azl_operation_free(op);
	cli_op_close(&s);
	return rc;
}

int cli_op_start(struct cli_op_session *s, const struct azl_migrate_plan *plan,
		 enum cli_output format, int no_wait, struct azl_operation **op)
{
	struct azl_journal_target t = {
		.context = s->ks.config->context_name, .subscription = s->cluster.subscription,
		.resource_group = s->cluster.resource_group, .cluster = s->cluster.name,
		.pool = plan->pool,
	};
	cJSON *data = azl_migrate_plan_data(plan, &s->cluster);
	const struct azl_operation_kind *kind = !strcmp(plan->kind, AZL_ADD_POOL_KIND)
						? &azl_add_pool_kind : &azl_migrate_kind;
	int rc = azl_operation_create(op, kind, &t, plan->steps, plan->nr_steps, data);

	cJSON_Delete(data);
	if (rc)
		return cli_error_report();
	return cli_op_drive(*op, s, plan->to.os_name, format, no_wait, 0);
}

