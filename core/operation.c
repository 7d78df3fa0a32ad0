/* The shared runner of mutating operations: steps journaled before and
 * after, ARM operations re-attached from the journal, cancellation, and
 * progress from a node watch. See operation.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "num.h"
#include "operation.h"
#include "pdb.h"
#include "pod.h"
#include "strbuf.h"
#include "watch.h"
#include "wrapper.h"

#define DAY_MS (24L * 3600 * 1000)
#define LIST_SLICE_MS 2000      /* between lists when no watch runs */
#define VIEW_SLICE_MS 100       /* between looks at the cancel flag */
/* How often the node watch's thread reads PDBs while a node it watches is
 * cordoned: Kubernetes records no event for an eviction's 429, so what a
 * drain waits on is derived from the PDBs' status, never in a tight loop. */
#define PDB_CHECK_MS 3000L

/* ---- preflight ---- */

const char *azl_preflight_severity_name(enum azl_severity s)
{
	switch (s) {
	case AZL_SEVERITY_ERROR:
		return "blocker";
	case AZL_SEVERITY_WARNING:
		return "warning";
	default:
		return "ok";
	}
}

enum azl_severity azl_preflight_worst(const struct azl_finding_list *list)
{
	enum azl_severity worst = AZL_SEVERITY_INFO;

	for (size_t i = 0; i < list->nr; i++)
		if (list->items[i].severity > worst)
			worst = list->items[i].severity;
	return worst;
}

cJSON *azl_preflight_to_json(const struct azl_finding_list *list)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < list->nr; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "check", list->items[i].code);
		cJSON_AddStringToObject(o, "severity",
					azl_preflight_severity_name(list->items[i].severity));
		cJSON_AddStringToObject(o, "message", list->items[i].message);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* ---- the operation ---- */

/* The nodes as the node watch last saw them, for steps that wait on them
 * (azl_operation_nodes) without asking the API server again. */
struct node_view {
	pthread_mutex_t lock;
	pthread_cond_t changed;      /* on each change, and when the watch ends */
	cJSON *nodes;                /* name -> Node object */
	unsigned long gen;           /* moves on with each change */
	int synced;                  /* nodes is the whole collection */
	int ended;                   /* no watch runs: waiters list */
};

static void view_init(struct node_view *v)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&v->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v->changed, &ca);
	pthread_condattr_destroy(&ca);
	v->nodes = cJSON_CreateObject();
	v->ended = 1;
}

static void view_release(struct node_view *v)
{
	cJSON_Delete(v->nodes);
	pthread_cond_destroy(&v->changed);
	pthread_mutex_destroy(&v->lock);
}

struct azl_operation {
	const struct azl_operation_kind *kind;
	struct azl_journal *journal;
	cJSON *data;
	const struct azl_operation_env *env;
	struct azl_retry *retry;
	size_t step;                 /* the running step */
	/* abort's rollback runs: the part whose ARM operations it sends now
	 * (their handles live in the record, not on a step); NULL otherwise */
	const char *rollback_part;
	cJSON *result;
	int began_lro;
	int begin_only;              /* a phase's start: journal the handle, do not follow */
	struct azl_lro *begun;       /* and the operation it began (its Retry-After), for the phase */
	pthread_mutex_t lock;        /* serialises events */
	struct azl_watch *watch;
	pthread_t watch_thread;
	int watching;
	long deadline_ms;            /* of this run, on the retry policy's clock */
	struct node_view view;
	/* the watch thread's own: the watched nodes that are cordoned, each
	 * with the PDB wait last said of it */
	struct cordoned {
		char *name;
		struct strbuf said;
	} *cordoned;
	size_t nr_cordoned;
	long next_pdb_ms;
};

static const struct azl_operation_step *find_step(const struct azl_operation_kind *k,
						  const char *name)
{
	for (size_t i = 0; i < k->nr_steps; i++)
		if (!strcmp(k->steps[i].name, name))
			return &k->steps[i];
	return NULL;
}

static struct azl_operation *op_new(const struct azl_operation_kind *kind, struct azl_journal *j)
{
	struct azl_operation *op = xcalloc(1, sizeof(*op));
	const cJSON *data = azl_journal_data(j);

	op->kind = kind;
	op->journal = j;
	op->data = data ? cJSON_Duplicate(data, 1) : cJSON_CreateObject();
	pthread_mutex_init(&op->lock, NULL);
	view_init(&op->view);
	return op;
}

int azl_operation_create(struct azl_operation **out, const struct azl_operation_kind *kind,
			 const struct azl_journal_target *t, const char *const *steps,
			 size_t nr_steps, const cJSON *data)
{
	struct azl_journal *j = NULL;
	int rc;

	*out = NULL;
	for (size_t i = 0; i < nr_steps; i++)
		if (!find_step(kind, steps[i]))
			return azl_error_set(AZL_EINVALID, "operation %s has no step named %s",
					     kind->kind, steps[i]);
	rc = azl_journal_create(&j, kind->kind, t, steps, nr_steps);
	if (!rc && data)
		rc = azl_journal_set_data(j, data);
	if (rc) {
		azl_journal_free(j);
		return rc;
	}
	*out = op_new(kind, j);
	return 0;
}

static int check_loaded(const struct azl_journal *j, const struct azl_operation_kind *k)
{
	enum azl_op_state s = azl_journal_state(j);

	if (!k)
		return azl_error_set(AZL_EINVALID,
				     "operation %s is of kind '%s', which this version cannot run",
				     azl_journal_id(j), azl_journal_kind(j));
	/* a Failed one goes on from its failed step once the cause is fixed */
	if (s == AZL_OP_SUCCEEDED || s == AZL_OP_CANCELED)
		return azl_error_set(AZL_EINVALID,
				     "operation %s has ended (%s): nothing to resume or abort; start a new one",
				     azl_journal_id(j), azl_op_state_name(s));
	for (size_t i = 0; i < azl_journal_nr_steps(j); i++)
		if (!find_step(k, azl_journal_step_name(j, i)))
			return azl_error_set(AZL_EINVALID,
					     "operation %s: step %s is not one this version knows",
					     azl_journal_id(j), azl_journal_step_name(j, i));
	return 0;
}

int azl_operation_load(struct azl_operation **out, const struct azl_operation_kind *const *kinds,
		       size_t nr_kinds, const char *id)
{
	const struct azl_operation_kind *k = NULL;
	struct azl_journal *j = NULL;
	int rc = azl_journal_load(&j, id, 1);

	*out = NULL;
	if (rc)
		return rc;
	for (size_t i = 0; i < nr_kinds && !k; i++)
		if (!strcmp(kinds[i]->kind, azl_journal_kind(j)))
			k = kinds[i];
	rc = check_loaded(j, k);
	if (rc) {
		azl_journal_free(j);
		return rc;
	}
	*out = op_new(k, j);
	return 0;
}

void azl_operation_free(struct azl_operation *op)
{
	if (!op)
		return;
	azl_journal_free(op->journal);
	cJSON_Delete(op->data);
	cJSON_Delete(op->result);
	azl_retry_free(op->retry);
	pthread_mutex_destroy(&op->lock);
	view_release(&op->view);
	free(op);
}

struct azl_journal *azl_operation_journal(struct azl_operation *op)
{
	return op->journal;
}

const struct azl_operation_env *azl_operation_env(const struct azl_operation *op)
{
	return op->env;
}

cJSON *azl_operation_data(struct azl_operation *op)
{
	return op->data;
}

int azl_operation_save(struct azl_operation *op)
{
	return azl_journal_set_data(op->journal, op->data);
}

int azl_operation_cancelled(const struct azl_operation *op)
{
	return op->env && op->env->cancel && *op->env->cancel;
}

/* The record's member naming the step that last stopped on a stale copy. */
#define STALE_STEP "staleStep"

int azl_operation_replanning(const struct azl_operation *op)
{
	return !strcmp(azl_json_str(op->data, STALE_STEP, ""),
		       azl_journal_step_name(op->journal, op->step));
}

/* A step refused to send on a stale copy (AZL_ESTALE): not an end. The
 * record says which step, so that the next run of it reads afresh and
 * plans again; the line says how to get there. */
static int stop_stale(struct azl_operation *op, size_t i)
{
	struct strbuf err = STRBUF_INIT;
	const char *id = azl_journal_id(op->journal), *name = azl_journal_step_name(op->journal, i);

	strbuf_addstr(&err, azl_error_message());
	cJSON_DeleteItemFromObjectCaseSensitive(op->data, STALE_STEP);
	cJSON_AddStringToObject(op->data, STALE_STEP, name);
	if (azl_operation_save(op))
		azl_error_clear();      /* the step's own line matters more */
	azl_error_set(AZL_ESTALE, "%s; kubectl azlinux resume %s reads it afresh and plans step %s again",
		      err.buf, id, name);
	strbuf_release(&err);
	return AZL_ESTALE;
}

/* The step went through: a stale stop of it is over. */
static int clear_stale(struct azl_operation *op)
{
	if (!azl_operation_replanning(op))
		return 0;
	cJSON_DeleteItemFromObjectCaseSensitive(op->data, STALE_STEP);
	return azl_operation_save(op);
}

struct azl_retry *azl_operation_retry(struct azl_operation *op)
{
	return op->retry;
}

enum azl_step_state azl_operation_step_state(const struct azl_operation *op, const char *name)
{
	for (size_t i = 0; i < azl_journal_nr_steps(op->journal); i++)
		if (!strcmp(azl_journal_step_name(op->journal, i), name))
			return azl_journal_step_state(op->journal, i);
	return AZL_STEP_PENDING;
}

static void emit(struct azl_operation *op, struct azl_operation_event *ev)
{
	if (!op->env || !op->env->event)
		return;
	pthread_mutex_lock(&op->lock);
	ev->step = op->step;
	ev->step_name = op->step < azl_journal_nr_steps(op->journal)
			? azl_journal_step_name(op->journal, op->step) : "";
	op->env->event(op->env->event_data, ev);
	pthread_mutex_unlock(&op->lock);
}

/* The step the main thread works on (the watch thread's events read it). */
static void set_step(struct azl_operation *op, size_t i)
{
	pthread_mutex_lock(&op->lock);
	op->step = i;
	pthread_mutex_unlock(&op->lock);
}

size_t azl_operation_step_index(const struct azl_operation *op)
{
	return op->step;
}

/* The record's member holding the rollback's handles, one per part. */
#define ROLLBACK_HANDLES "rollbackOperations"

const cJSON *azl_operation_handle(const struct azl_operation *op)
{
	if (op->rollback_part)
		return cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(op->data, ROLLBACK_HANDLES), op->rollback_part);
	return azl_journal_step_handle(op->journal, op->step);
}

/* Journals handle (NULL: none) where azl_operation_handle() reads it. A
 * rollback's go to the record under its part, so that neither a resume
 * of the step that was running nor another part re-attaches to them. */
static int keep_handle(struct azl_operation *op, const cJSON *handle)
{
	cJSON *all;

	if (!op->rollback_part)
		return azl_journal_set_step_handle(op->journal, op->step, handle);
	all = cJSON_GetObjectItemCaseSensitive(op->data, ROLLBACK_HANDLES);
	if (!all)
		all = cJSON_AddObjectToObject(op->data, ROLLBACK_HANDLES);
	cJSON_DeleteItemFromObjectCaseSensitive(all, op->rollback_part);
	if (handle)
		cJSON_AddItemToObject(all, op->rollback_part, cJSON_Duplicate(handle, 1));
	return azl_operation_save(op);
}

void azl_operation_rollback_part(struct azl_operation *op, const char *part)
{
	op->rollback_part = part;
}

void azl_operation_note(struct azl_operation *op, const char *fmt, ...)
{
	struct azl_operation_event ev = { .type = AZL_OPERATION_NOTE, .percent = -1 };
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ev.message = sb.buf;
	emit(op, &ev);
	strbuf_release(&sb);
}

/* ---- the node watch ---- */

/* The watch's news into the view; waiters are woken on each change. */
static void view_update(struct node_view *v, const struct azl_watch_event *wev)
{
	const char *name = azl_json_str(wev->object, "metadata.name", "");

	if (wev->type == AZL_WATCH_BOOKMARK)
		return;
	pthread_mutex_lock(&v->lock);
	switch (wev->type) {
	case AZL_WATCH_RELIST:
		cJSON_Delete(v->nodes);
		v->nodes = cJSON_CreateObject();
		v->synced = 0;
		break;
	case AZL_WATCH_SYNCED:
		v->synced = 1;
		break;
	case AZL_WATCH_DELETED:
		cJSON_DeleteItemFromObjectCaseSensitive(v->nodes, name);
		break;
	default:
		cJSON_DeleteItemFromObjectCaseSensitive(v->nodes, name);
		cJSON_AddItemToObject(v->nodes, name, cJSON_Duplicate(wev->object, 1));
		break;
	}
	v->gen++;
	pthread_cond_broadcast(&v->changed);
	pthread_mutex_unlock(&v->lock);
}

static void view_set_ended(struct node_view *v, int ended)
{
	pthread_mutex_lock(&v->lock);
	v->ended = ended;
	pthread_cond_broadcast(&v->changed);
	pthread_mutex_unlock(&v->lock);
}

static size_t cordoned_find(const struct azl_operation *op, const char *name)
{
	size_t i;

	for (i = 0; i < op->nr_cordoned; i++)
		if (!strcmp(op->cordoned[i].name, name))
			break;
	return i;
}

static void cordoned_drop(struct azl_operation *op, const char *name)
{
	size_t i = cordoned_find(op, name);

	if (i == op->nr_cordoned)
		return;
	free(op->cordoned[i].name);
	strbuf_release(&op->cordoned[i].said);
	op->cordoned[i] = op->cordoned[--op->nr_cordoned];
}

/* Keeps the set of cordoned nodes; 1 when it was empty and name joined it
 * (a drain may have begun: time to look at PDBs). */
static int cordoned_track(struct azl_operation *op, const char *name, int cordoned)
{
	int was_empty = !op->nr_cordoned;

	if (!cordoned) {
		cordoned_drop(op, name);
		return 0;
	}
	if (cordoned_find(op, name) < op->nr_cordoned)
		return 0;
	op->cordoned = xrealloc(op->cordoned, (op->nr_cordoned + 1) * sizeof(*op->cordoned));
	op->cordoned[op->nr_cordoned].name = xstrdup(name);
	strbuf_init(&op->cordoned[op->nr_cordoned].said, 0);
	op->nr_cordoned++;
	return was_empty;
}

static int on_node(struct azl_watch *w, const struct azl_watch_event *wev, void *ctx)
{
	struct azl_operation *op = ctx;
	struct azl_operation_event ev = { .percent = -1 };
	struct azl_node node;

	view_update(&op->view, wev);
	if (wev->type == AZL_WATCH_DELETED) {
		ev.type = AZL_OPERATION_NODE_GONE;
		ev.node_name = azl_json_str(wev->object, "metadata.name", "");
		cordoned_drop(op, ev.node_name);
		emit(op, &ev);
		return 0;
	}
	if ((wev->type != AZL_WATCH_ADDED && wev->type != AZL_WATCH_MODIFIED) ||
	    azl_node_from_json(wev->object, &node))
		return 0;
	ev.type = AZL_OPERATION_NODE;
	ev.node = &node;
	ev.node_name = node.name;
	emit(op, &ev);
	/* ends this slice of the watch so that the thread reads the PDBs */
	if (cordoned_track(op, node.name, !node.schedulable))
		azl_watch_stop(w);
	azl_node_release(&node);
	return 0;
}

/* What the pods of one cordoned node wait on. */
struct pdb_wait {
	const struct azl_pdb_list *pdbs;
	const struct azl_pdb **blocking;
	size_t nr;
};

static int pod_blocked(const struct azl_pod *pod, void *ctx)
{
	struct pdb_wait *pw = ctx;
	const struct azl_owner_ref *owner = azl_pod_controller(pod);

	/* AKS's drain leaves these (kubectl drain --ignore-daemonsets) */
	if ((owner && !strcmp(owner->kind, "DaemonSet")) || azl_pod_is_mirror(pod) ||
	    azl_pod_is_terminal(pod))
		return 0;
	for (size_t i = 0; i < pw->pdbs->nr; i++) {
		const struct azl_pdb *b = &pw->pdbs->items[i];
		size_t k = 0;

		if (!azl_pdb_blocks(b, pod))
			continue;
		while (k < pw->nr && pw->blocking[k] != b)
			k++;
		if (k == pw->nr)
			pw->blocking[pw->nr++] = b;
	}
	return 0;
}

/* "waiting on PDB ns/name (healthy x/desired y), ..." for one node's
 * pods; empty when none waits. */
static void node_pdb_wait(struct azl_operation *op, const struct azl_pdb_list *pdbs,
			  const char *node, struct strbuf *out)
{
	struct pdb_wait pw = { pdbs, xcalloc(pdbs->nr + 1, sizeof(*pw.blocking)), 0 };

	if (azl_pod_list_on_node(op->env->watch_kube, node, NULL, 0, pod_blocked, &pw))
		azl_logf(2, "reading the pods of node %s: %s", node, azl_error_message());
	for (size_t i = 0; i < pw.nr; i++)
		strbuf_addf(out, "%s PDB %s/%s (healthy %ld/desired %ld)",
			    i ? "," : "waiting on", pw.blocking[i]->namespace_, pw.blocking[i]->name,
			    pw.blocking[i]->current_healthy, pw.blocking[i]->desired_healthy);
	free(pw.blocking);
}

/* For each cordoned node: the PDBs allowing no disruption that select
 * its pods, said when that changed. */
static void check_pdbs(struct azl_operation *op)
{
	struct azl_operation_event ev = { .type = AZL_OPERATION_PDB_WAIT, .percent = -1 };
	struct azl_pdb_list pdbs = { 0 };
	struct strbuf msg = STRBUF_INIT;

	if (azl_pdb_list(op->env->watch_kube, NULL, &pdbs)) {
		azl_logf(2, "reading the PodDisruptionBudgets: %s", azl_error_message());
		return;
	}
	for (size_t i = 0; pdbs.nr && i < op->nr_cordoned; i++) {
		struct cordoned *c = &op->cordoned[i];

		strbuf_reset(&msg);
		node_pdb_wait(op, &pdbs, c->name, &msg);
		if (!strcmp(msg.buf, c->said.buf))
			continue;
		strbuf_reset(&c->said);
		strbuf_addbuf(&c->said, &msg);
		if (!msg.len)
			continue;
		ev.node_name = c->name;
		ev.message = msg.buf;
		emit(op, &ev);
	}
	strbuf_release(&msg);
	azl_pdb_list_release(&pdbs);
}

/* The watch in slices: unbounded while no watched node is cordoned, else
 * until the next PDB check is due. */
static void *watch_main(void *arg)
{
	struct azl_operation *op = arg;
	int rc;

	for (;;) {
		long slice = 0, now = monotonic_ms();

		if (op->nr_cordoned && now >= op->next_pdb_ms) {
			check_pdbs(op);
			op->next_pdb_ms = monotonic_ms() + PDB_CHECK_MS;
		}
		if (op->nr_cordoned)
			slice = op->next_pdb_ms - monotonic_ms() > 0 ? op->next_pdb_ms - monotonic_ms() : 1;
		rc = azl_watch_run_for(op->watch, slice);
		if (rc && rc != AZL_ETIMEOUT)
			break;
	}
	if (rc != AZL_ECANCELED)
		azl_logf(2, "node watch ended: %s", azl_error_message());
	/* those who wait on nodes list them from now on */
	view_set_ended(&op->view, 1);
	return NULL;
}

static void watch_start(struct azl_operation *op)
{
	struct azl_watch_options o = { .path = "/api/v1/nodes", .fn = on_node, .ctx = op };
	struct strbuf q = STRBUF_INIT;

	/* steps wait on it as well as the progress shows it */
	if (!op->env->watch_kube)
		return;
	if (op->env->watch_selector && *op->env->watch_selector) {
		strbuf_addstr(&q, "labelSelector=");
		strbuf_addurlenc(&q, op->env->watch_selector);
		o.query = q.buf;
	}
	o.max_failures = 1000;
	view_set_ended(&op->view, 0);
	if (!azl_watch_new(&op->watch, op->env->watch_kube, &o) &&
	    !pthread_create(&op->watch_thread, NULL, watch_main, op))
		op->watching = 1;
	else
		view_set_ended(&op->view, 1);
	strbuf_release(&q);
}

static void watch_stop(struct azl_operation *op)
{
	if (op->watching) {
		azl_watch_cancel(op->watch);
		pthread_join(op->watch_thread, NULL);
		op->watching = 0;
	}
	azl_watch_free(op->watch);
	op->watch = NULL;
	while (op->nr_cordoned)
		cordoned_drop(op, op->cordoned[0].name);
	free(op->cordoned);
	op->cordoned = NULL;
	view_set_ended(&op->view, 1);
}

/* ---- waiting on nodes ---- */

static int past_deadline(const struct azl_operation *op)
{
	return azl_retry_now_ms(op->retry) >= op->deadline_ms;
}

/* One slice of waiting for the view to change (the lock held). */
static int view_sleep(struct azl_operation *op)
{
	struct timespec ts;

	if (azl_retry_cancelled(op->retry))
		return azl_error_set(AZL_ECANCELED, "cancelled while waiting for nodes");
	if (past_deadline(op))
		return azl_error_set(AZL_ETIMEOUT, "the operation's time ran out waiting for nodes");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += VIEW_SLICE_MS * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&op->view.changed, &op->view.lock, &ts);
	return 0;
}

/* 0 with out filled from the watch's view once it changed past the
 * cursor; AZL_EUNAVAILABLE when no watch runs. */
static int view_wait(struct azl_operation *op, const char *pool, struct azl_operation_cursor *c,
		     struct azl_node_list *out)
{
	struct node_view *v = &op->view;
	int rc = 0;

	pthread_mutex_lock(&v->lock);
	while (!rc && !v->ended && (!v->synced || v->gen == c->seen))
		rc = view_sleep(op);
	if (!rc && v->ended)
		rc = AZL_EUNAVAILABLE;
	if (!rc) {
		c->seen = v->gen;
		rc = azl_node_list_from_json(v->nodes, pool, out);
	}
	pthread_mutex_unlock(&v->lock);
	return rc;
}

/* Without a watch (none, or it gave up): a list, every LIST_SLICE_MS. */
static int list_nodes(struct azl_operation *op, const char *pool, struct azl_operation_cursor *c,
		      struct azl_node_list *out)
{
	int rc = 0;

	if (c->listed && past_deadline(op))
		rc = azl_error_set(AZL_ETIMEOUT, "the operation's time ran out waiting for nodes");
	else if (c->listed)
		rc = azl_retry_wait(op->retry, LIST_SLICE_MS);
	c->listed = 1;
	return rc ? rc : azl_node_list(op->env->kube, NULL, pool, out);
}

int azl_operation_nodes(struct azl_operation *op, const char *pool,
			struct azl_operation_cursor *c, struct azl_node_list *out)
{
	int rc = view_wait(op, pool, c, out);

	if (rc == AZL_EUNAVAILABLE)
		rc = list_nodes(op, pool, c, out);
	return rc;
}

/* ---- ARM operations ---- */

static void on_poll(void *data, const struct azl_lro *lro)
{
	struct azl_operation *op = data;
	struct azl_operation_event ev = { .type = AZL_OPERATION_LRO };
	cJSON *handle = azl_lro_to_json(lro);

	/* the newest state is what a resume starts from */
	if (keep_handle(op, handle))
		azl_logf(2, "%s", azl_error_message());
	cJSON_Delete(handle);
	ev.status = azl_lro_status(lro);
	ev.percent = azl_lro_percent(lro);
	emit(op, &ev);
}

static int follow(struct azl_operation *op, struct azl_lro *lro, const cJSON **result)
{
	struct azl_lro_wait_options wo = { 0 };
	const cJSON *res;
	int rc;

	op->began_lro = 1;
	if (op->env->no_wait || op->begin_only)
		return 0;
	wo.retry = op->retry;
	wo.default_interval_ms = op->env->poll_interval_ms;
	wo.progress = on_poll;
	wo.progress_data = op;
	rc = azl_lro_wait(lro, op->env->arm, &wo);
	/* ended: a later write of the same step must not re-attach to it */
	if (!rc && keep_handle(op, NULL))
		rc = AZL_ERROR;
	res = azl_lro_result(lro);
	cJSON_Delete(op->result);
	op->result = res ? cJSON_Duplicate(res, 1) : NULL;
	if (result)
		*result = op->result;
	return rc;
}

static int store_and_follow(struct azl_operation *op, struct azl_lro *lro, const cJSON **result)
{
	cJSON *handle = azl_lro_to_json(lro);
	int rc = keep_handle(op, handle);

	cJSON_Delete(handle);
	if (!rc)
		rc = follow(op, lro, result);
	/* An AKS operation that ended Failed or Canceled cannot be followed
	 * again: the next try of the step starts from a fresh read. */
	if (rc && azl_lro_done(lro) && (!strcmp(azl_lro_status(lro), "Failed") ||
					!strcmp(azl_lro_status(lro), "Canceled")))
		keep_handle(op, NULL);
	if (!rc && op->begin_only && !op->begun)
		op->begun = lro;        /* the phase follows it from here */
	else
		azl_lro_free(lro);
	return rc;
}

static void note_reattached(struct azl_operation *op, const struct azl_lro *lro)
{
	azl_operation_note(op, "re-attached to the running ARM operation %s", azl_lro_kind(lro));
}

int azl_operation_lro(struct azl_operation *op, const struct azl_arm_request *req,
		      const char *kind, enum azl_lro_final via, const cJSON **result)
{
	const cJSON *handle = azl_operation_handle(op);
	struct azl_lro *lro = NULL;
	int rc;

	if (result)
		*result = NULL;
	if (handle) {
		rc = azl_lro_from_json(&lro, handle);
		if (rc)
			return azl_error_prefix("operation %s, step %s",
						azl_journal_id(op->journal),
						azl_journal_step_name(op->journal, op->step));
		note_reattached(op, lro);
		return store_and_follow(op, lro, result);
	}
	if (!req)
		return azl_error_set(AZL_EINVALID, "%s: no request to send and no ARM operation to re-attach to",
				     kind);
	if (azl_operation_cancelled(op))
		return azl_error_set(AZL_ECANCELED, "cancelled before %s was sent", kind);
	rc = azl_lro_begin(&lro, op->env->arm, req, kind, via);
	if (rc)
		return rc;
	return store_and_follow(op, lro, result);
}

int azl_operation_follow_resource(struct azl_operation *op, const char *resource,
				  const char *method, const char *kind, const cJSON **result)
{
	cJSON *h = cJSON_CreateObject();
	struct azl_lro *lro = NULL;
	int rc;

	cJSON_AddStringToObject(h, "kind", kind);
	cJSON_AddStringToObject(h, "method", method);
	cJSON_AddStringToObject(h, "resource", resource);
	cJSON_AddStringToObject(h, "statusUrl", resource);
	cJSON_AddStringToObject(h, "statusVia", "provisioning-state");
	cJSON_AddStringToObject(h, "finalStateVia", "azure-async-operation");
	cJSON_AddStringToObject(h, "status", "InProgress");
	rc = azl_lro_from_json(&lro, h);
	cJSON_Delete(h);
	if (rc)
		return rc;
	return store_and_follow(op, lro, result);
}

/* ---- running ---- */

static int make_retry(struct azl_operation *op)
{
	struct azl_retry_options ro = { 0 };
	int rc;

	azl_retry_free(op->retry);
	op->retry = NULL;
	ro.max_attempts = 1000;
	ro.budget_ms = op->env->budget_ms > 0 ? op->env->budget_ms : DAY_MS;
	ro.cancel_flag = op->env->cancel;
	rc = azl_retry_new(&op->retry, &ro);
	if (!rc)
		op->deadline_ms = azl_num_add(azl_retry_now_ms(op->retry), ro.budget_ms);
	return rc;
}

/* Step i ended with rc: journaled, said; rc with its message. */
static int end_step(struct azl_operation *op, size_t i, int rc)
{
	struct azl_operation_event ev = { .type = AZL_OPERATION_STEP_END, .percent = -1 };
	struct strbuf err = STRBUF_INIT;

	set_step(op, i);
	if (rc == AZL_ESTALE)
		rc = stop_stale(op, i);
	else if (!rc)
		rc = clear_stale(op);
	if (rc)
		strbuf_addstr(&err, azl_error_message());
	ev.rc = rc;
	ev.error = err.buf;
	if (azl_journal_step_end(op->journal, i, rc, err.buf) && !rc)
		rc = AZL_ERROR;
	emit(op, &ev);
	if (rc)
		azl_error_set(rc, "%s", err.len ? err.buf : azl_error_message());
	strbuf_release(&err);
	return rc;
}

static int begin_step(struct azl_operation *op, size_t i)
{
	struct azl_operation_event ev = { .type = AZL_OPERATION_STEP_BEGIN, .percent = -1 };
	int rc = 0;

	set_step(op, i);
	if (azl_journal_step_state(op->journal, i) != AZL_STEP_RUNNING)
		rc = azl_journal_step_begin(op->journal, i);
	if (!rc)
		emit(op, &ev);
	return rc;
}

static const struct azl_operation_step *step_of(const struct azl_operation *op, size_t i)
{
	return find_step(op->kind, azl_journal_step_name(op->journal, i));
}

static int run_step(struct azl_operation *op, size_t i, void *data)
{
	int rc = begin_step(op, i);

	if (rc)
		return rc;
	rc = step_of(op, i)->run(op, data);
	if (rc == AZL_ECANCELED && azl_operation_cancelled(op))
		return rc;              /* stays running: resume picks it up */
	if (op->env->no_wait && op->began_lro && !rc)
		return 0;               /* the ARM operation goes on; so does the step */
	return end_step(op, i, rc);
}

/* ---- a phase: steps that run at once ---- */

/* The steps of one phase in flight: each one's ARM operation. */
struct phase {
	struct azl_operation *op;
	size_t steps[AZL_OPERATION_MAX_PARALLEL];
	struct azl_lro *lros[AZL_OPERATION_MAX_PARALLEL];
	size_t nr;
	int rc;                      /* the first failure; no step starts after it */
	struct strbuf err;
};

static void phase_drop(struct phase *ph, size_t k)
{
	azl_lro_free(ph->lros[k]);
	ph->nr--;
	ph->steps[k] = ph->steps[ph->nr];
	ph->lros[k] = ph->lros[ph->nr];
}

static void phase_failed(struct phase *ph, int rc)
{
	if (ph->rc)
		return;
	ph->rc = rc;
	strbuf_addstr(&ph->err, azl_error_message());
}

/* Starts step i: its write sent and its handle journaled (or the journal's
 * handle taken up again), then in flight; a step with nothing to send ends
 * at once. AZL_ECANCELED when the flag ended it (left running). */
static int phase_start(struct phase *ph, size_t i, void *data)
{
	struct azl_operation *op = ph->op;
	const cJSON *handle;
	int rc = begin_step(op, i), resumed = !rc && azl_operation_handle(op);

	if (!rc && !resumed) {
		op->begin_only = 1;
		rc = step_of(op, i)->run(op, data);
		op->begin_only = 0;
	}
	if (rc == AZL_ECANCELED && azl_operation_cancelled(op))
		return rc;
	handle = rc ? NULL : azl_operation_handle(op);
	/* the operation just begun knows the Retry-After of its answer */
	if (handle && op->begun)
		ph->lros[ph->nr] = op->begun;
	else if (handle)
		rc = azl_lro_from_json(&ph->lros[ph->nr], handle);
	if (!handle)
		azl_lro_free(op->begun);
	op->begun = NULL;
	if (!rc && handle) {
		if (resumed)
			note_reattached(op, ph->lros[ph->nr]);
		op->began_lro = 1;
		ph->steps[ph->nr++] = i;
		return 0;
	}
	if (end_step(op, i, rc))
		phase_failed(ph, rc);
	return 0;
}

static void phase_poll(void *data, const struct azl_lro *lro)
{
	struct phase *ph = data;

	for (size_t k = 0; k < ph->nr; k++)
		if (ph->lros[k] == lro) {
			set_step(ph->op, ph->steps[k]);
			on_poll(ph->op, lro);
		}
}

/* One operation of the phase ended: its step ends as a step that followed
 * it would have. */
static void phase_ended(struct phase *ph, size_t k, int rc)
{
	struct azl_operation *op = ph->op;
	struct azl_lro *lro = ph->lros[k];
	size_t i = ph->steps[k];
	int ended = azl_lro_done(lro) && (!strcmp(azl_lro_status(lro), "Failed") ||
					  !strcmp(azl_lro_status(lro), "Canceled"));
	struct strbuf err = STRBUF_INIT;

	set_step(op, i);
	strbuf_addstr(&err, rc ? azl_error_message() : "");
	if (!rc || ended)
		azl_journal_set_step_handle(op->journal, i, NULL);
	if (rc)
		azl_error_set(rc, "%s: %s", azl_journal_step_name(op->journal, i), err.buf);
	if (end_step(op, i, rc))
		phase_failed(ph, rc);
	phase_drop(ph, k);
	strbuf_release(&err);
}

/* Steps [first, end): up to env->parallel at once; a failure starts no
 * more and lets those in flight end. With no_wait, ends once every step
 * it may start now was accepted. */
static int run_phase(struct azl_operation *op, size_t first, size_t end, void *data)
{
	struct phase ph = { .op = op };
	struct azl_lro_wait_options wo = { .retry = op->retry, .progress = phase_poll,
					   .progress_data = &ph };
	size_t max = op->env->parallel < AZL_OPERATION_MAX_PARALLEL ? op->env->parallel
		     : AZL_OPERATION_MAX_PARALLEL;
	size_t next = first, k;
	int rc = 0;

	strbuf_init(&ph.err, 0);
	wo.default_interval_ms = op->env->poll_interval_ms;
	for (;;) {
		/* in order: a step left running (by a process that died) is taken
		 * up by its handle, not sent again; steps start in order, so those
		 * come before any still pending */
		while (!rc && !ph.rc && ph.nr < max && next < end) {
			if (azl_journal_step_state(op->journal, next) != AZL_STEP_DONE)
				rc = azl_operation_cancelled(op)
				     ? azl_error_set(AZL_ECANCELED, "cancelled before step %s",
						     azl_journal_step_name(op->journal, next))
				     : phase_start(&ph, next, data);
			next++;
		}
		if (rc || !ph.nr || op->env->no_wait)
			break;
		rc = azl_lro_wait_any(ph.lros, ph.nr, op->env->arm, &wo, &k);
		if (rc == AZL_ECANCELED && azl_operation_cancelled(op))
			break;
		phase_ended(&ph, k, rc);
		rc = 0;
	}
	while (ph.nr)
		phase_drop(&ph, 0);
	if (!rc && ph.rc)
		rc = azl_error_set(ph.rc, "%s", ph.err.buf);
	strbuf_release(&ph.err);
	return rc;
}

/* The end of the phase step i begins (i + 1 when it runs alone). */
static size_t phase_end(struct azl_operation *op, size_t i)
{
	size_t n = azl_journal_nr_steps(op->journal), e = i + 1;
	int phase;

	if (!op->kind->phase || op->env->parallel < 2 || !(phase = op->kind->phase(op, i)))
		return e;
	while (e < n && op->kind->phase(op, e) == phase)
		e++;
	return e;
}

static int finish_failed(struct azl_operation *op, int rc)
{
	struct strbuf err = STRBUF_INIT;

	strbuf_addstr(&err, azl_error_message());
	cJSON_DeleteItemFromObjectCaseSensitive(op->data, "error");
	cJSON_AddStringToObject(op->data, "error", err.buf);
	azl_operation_save(op);
	azl_journal_finish(op->journal, AZL_OP_FAILED);
	azl_error_set(rc, "%s", err.buf);
	strbuf_release(&err);
	return rc;
}

int azl_operation_run(struct azl_operation *op, const struct azl_operation_env *env, void *data)
{
	int rc;

	op->env = env;
	op->began_lro = 0;
	rc = make_retry(op);
	if (rc)
		return rc;
	watch_start(op);
	for (size_t i = 0; !rc && i < azl_journal_nr_steps(op->journal); i++) {
		size_t e = phase_end(op, i);

		if (e > i + 1) {
			rc = run_phase(op, i, e, data);
			i = e - 1;
		} else if (azl_journal_step_state(op->journal, i) == AZL_STEP_DONE) {
			continue;
		} else if (azl_operation_cancelled(op)) {
			rc = azl_error_set(AZL_ECANCELED, "cancelled before step %s",
					   azl_journal_step_name(op->journal, i));
		} else {
			rc = run_step(op, i, data);
		}
		if (!rc && env->no_wait && op->began_lro)
			break;
	}
	watch_stop(op);
	if (rc == AZL_ECANCELED && azl_operation_cancelled(op))
		return rc;
	if (rc)
		return finish_failed(op, rc);
	if (env->no_wait && op->began_lro)
		return 0;
	return azl_journal_finish(op->journal, AZL_OP_SUCCEEDED);
}

/* Aborts the ARM operation of step i (running, with a handle). */
static int abort_step(struct azl_operation *op, size_t i)
{
	const cJSON *handle = azl_journal_step_handle(op->journal, i);
	struct azl_lro *lro = NULL;
	int rc = azl_lro_from_json(&lro, handle);

	if (!rc)
		rc = azl_lro_abort(lro, op->env->arm);
	if (rc == AZL_ECONFLICT) {
		rc = 0;         /* it ended before it could be aborted */
	} else if (!rc) {
		struct azl_lro_wait_options wo = { .retry = op->retry,
						   .default_interval_ms = op->env->poll_interval_ms };

		rc = azl_lro_wait(lro, op->env->arm, &wo);
		if (rc == AZL_ECANCELED && !azl_operation_cancelled(op))
			rc = 0; /* Canceled is what was asked for */
	}
	azl_lro_free(lro);
	/* what the rollback sends is its own: it must not re-attach to that */
	if (!rc)
		rc = azl_journal_set_step_handle(op->journal, i, NULL);
	return rc;
}

int azl_operation_abort(struct azl_operation *op, const struct azl_operation_env *env, void *data)
{
	int rc;

	op->env = env;
	rc = make_retry(op);
	if (rc)
		return rc;
	/* a rollback waits on nodes too */
	watch_start(op);
	/* every step running: a phase's run at once */
	for (size_t i = 0; !rc && i < azl_journal_nr_steps(op->journal); i++)
		if (azl_journal_step_handle(op->journal, i))
			rc = abort_step(op, i);
	if (!rc && op->kind->rollback) {
		op->rollback_part = "rollback";
		rc = op->kind->rollback(op, data);
		op->rollback_part = NULL;
	}
	watch_stop(op);
	if (rc)
		return rc;
	return azl_journal_finish(op->journal, AZL_OP_CANCELED);
}
