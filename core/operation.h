/* The runner that every mutating operation shares (migrate, add-pool,
 * upgrade): an operation is a kind, a target (context, cluster, pool) and
 * an ordered list of named steps, journaled (journal.h) before and after
 * each step runs, so that `status` can show it, `resume` can go on from
 * the recorded step and `abort` can stop it after its process is gone.
 *
 * A kind (struct azl_operation_kind) names every step it knows with the
 * function that does it; an operation lists the names it needs, in order
 * (an in-place migration and a side-by-side one are the same kind with
 * other steps). A step runs to its end or fails; it must be safe to run
 * again from its start after a crash (look before writing: a fresh GET,
 * a pool that already exists). A step that begins an ARM long-running
 * operation does it through azl_operation_lro(), which stores the
 * operation's handle (azl_lro_to_json) in the journal as soon as ARM has
 * accepted the request and, when the step runs again, re-attaches to it
 * instead of sending the request twice.
 *
 * Cancellation: the environment's flag (set by a SIGINT/SIGTERM handler)
 * is looked at between requests and ends every wait within about a
 * second; a request already sent is never cut. The cancelled step stays
 * running in the journal with its handle, so the operation reads as
 * Interrupted and `resume` picks it up; the ARM operation goes on.
 *
 * Progress: events (step begun/ended, the ARM operation's status and
 * percent, a node of the watched pools changed) go to one callback,
 * never from two threads at once. The node events come from a node
 * watch (watch.h) on a thread of its own with its own Kubernetes client,
 * not from polling ARM faster. While a watched node is cordoned (a drain,
 * AKS's or ours) the same thread reads the PDBs every few seconds and says
 * which of them hold that node's pods (AZL_OPERATION_PDB_WAIT).
 *
 * The preflight is a list of findings (finding.h) whose code names the
 * check; severity info is "ok", warning "warning", error "blocker". */
#ifndef AZL_OPERATION_H
#define AZL_OPERATION_H

#include <signal.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "arm.h"
#include "finding.h"
#include "journal.h"
#include "kube.h"
#include "lro.h"
#include "node.h"

/* ---- preflight ---- */

/* "ok", "warning", "blocker". */
const char *azl_preflight_severity_name(enum azl_severity s);
/* The worst severity in list (INFO when empty). */
enum azl_severity azl_preflight_worst(const struct azl_finding_list *list);
/* [{"check","severity","message"}] (caller owns). */
cJSON *azl_preflight_to_json(const struct azl_finding_list *list);

/* ---- the runner ---- */

struct azl_operation;

/* One step of a kind. run returns 0 or a negative AZL_E* with the error
 * set (one line: what failed, on what, and what to do). */
struct azl_operation_step {
	const char *name;
	int (*run)(struct azl_operation *op, void *data);
};

struct azl_operation_kind {
	const char *kind;                    /* "migrate", "upgrade-node-image"... */
	const struct azl_operation_step *steps;
	size_t nr_steps;
	/* abort's part after the ARM operation in flight (if any) was
	 * cancelled: undo what can be undone (a side-by-side move's new
	 * pool); NULL: nothing. */
	int (*rollback)(struct azl_operation *op, void *data);
	/* NULL, or the phase of step i: consecutive steps of one phase other
	 * than 0 may run at once (env->parallel of them), each one ARM
	 * operation that its run begins through azl_operation_lro() and
	 * nothing after it; 0 runs alone. */
	int (*phase)(struct azl_operation *op, size_t i);
};

/* The most steps of a phase in flight at once. */
#define AZL_OPERATION_MAX_PARALLEL 100

enum azl_operation_event_type {
	AZL_OPERATION_STEP_BEGIN,
	AZL_OPERATION_STEP_END,              /* rc, error */
	AZL_OPERATION_LRO,                   /* status, percent (-1: none) */
	AZL_OPERATION_NODE,                  /* node changed (or was added) */
	AZL_OPERATION_NODE_GONE,             /* node_name was deleted */
	AZL_OPERATION_NOTE,                  /* message: a step's own news */
	/* node_name, cordoned, holds pods whose eviction PDBs refuse now;
	 * message: "waiting on PDB ns/name (healthy x/desired y)", more
	 * PDBs after commas. Said when it changes (the PDBs are read every
	 * few seconds while a watched node is cordoned). */
	AZL_OPERATION_PDB_WAIT
};

struct azl_operation_event {
	enum azl_operation_event_type type;
	size_t step;
	const char *step_name;
	int rc;
	const char *error;
	const char *status;
	double percent;
	const struct azl_node *node;         /* borrowed */
	const char *node_name;
	const char *message;
};

typedef void (*azl_operation_event_fn)(void *data, const struct azl_operation_event *ev);

/* What the steps talk to; borrowed for the run. */
struct azl_operation_env {
	struct azl_arm *arm;
	struct azl_kube *kube;               /* the steps' client; may be NULL */
	/* A client of its own for the node watch (used on its thread only);
	 * NULL: no node events. */
	struct azl_kube *watch_kube;
	const char *watch_selector;          /* label selector of the nodes to watch */
	const volatile sig_atomic_t *cancel; /* may be NULL */
	long poll_interval_ms;               /* ARM polls without Retry-After; 0: 10000 */
	long budget_ms;                      /* the whole run; 0: 24 hours */
	int no_wait;                         /* end once ARM accepted the change */
	/* Steps of one phase (the kind's) at once; 0 or 1: one at a time.
	 * With no_wait, every step of the phase it may start now is sent. */
	size_t parallel;
	azl_operation_event_fn event;
	void *event_data;
};

/* Starts an operation of kind on t with these steps (each a name kind
 * knows; AZL_EINVALID otherwise) and data (the kind's record, copied;
 * may be NULL): the journal's create (the pool lock: AZL_EBUSY naming the
 * process that holds it). */
int azl_operation_create(struct azl_operation **out, const struct azl_operation_kind *kind,
			 const struct azl_journal_target *t, const char *const *steps,
			 size_t nr_steps, const cJSON *data);

/* Loads operation id with its lock, to resume or abort it, picking its
 * kind among kinds by name. A Failed operation may be: it goes on from the
 * step that failed. AZL_ENOTFOUND, AZL_EBUSY (its process still runs),
 * AZL_EINVALID (an unknown kind or step; a Succeeded or Canceled
 * operation, for which there is nothing to do). */
int azl_operation_load(struct azl_operation **out, const struct azl_operation_kind *const *kinds,
		       size_t nr_kinds, const char *id);

/* Runs the steps from the first that is not done (a running one again).
 * 0: every step done and the journal says Succeeded. AZL_ECANCELED: the
 * flag was set; the journal is left as it stands (Interrupted once this
 * process lets go). Another error: the step failed, the journal says
 * Failed with its message on the step (in a phase: the first failure,
 * once the steps in flight beside it ended). With env->no_wait, stops (0,
 * journal InProgress) after the first step that began an ARM operation,
 * or a phase's once every step it may start now was accepted. */
int azl_operation_run(struct azl_operation *op, const struct azl_operation_env *env, void *data);

/* Aborts: the ARM operation of the running step, if any (POST abort,
 * then waits for it to end), then the kind's rollback; the journal ends
 * Canceled. */
int azl_operation_abort(struct azl_operation *op, const struct azl_operation_env *env, void *data);

void azl_operation_free(struct azl_operation *op);

/* ---- for steps ---- */

struct azl_journal *azl_operation_journal(struct azl_operation *op);
const struct azl_operation_env *azl_operation_env(const struct azl_operation *op);
/* The kind's record: a mutable object (never NULL); azl_operation_save()
 * journals it. */
cJSON *azl_operation_data(struct azl_operation *op);
int azl_operation_save(struct azl_operation *op);
/* 1 when the cancel flag is set. */
int azl_operation_cancelled(const struct azl_operation *op);
/* The state of step name in the journal; AZL_STEP_PENDING when the
 * operation has no such step. */
enum azl_step_state azl_operation_step_state(const struct azl_operation *op, const char *name);
/* 1 when the running step stopped on a stale copy the last time it ran
 * (it returned AZL_ESTALE: the resource changed under it and it sent
 * nothing). The runner records that stop in the record ("staleStep"),
 * the operation ends Failed with a line naming `resume`, and the step run
 * again reads afresh and plans itself again from what it reads instead of
 * refusing the change it sees; once it succeeds the mark goes. */
int azl_operation_replanning(const struct azl_operation *op);
/* The index of the step whose run was called. */
size_t azl_operation_step_index(const struct azl_operation *op);
/* That step's ARM operation's handle in the journal, or NULL. */
const cJSON *azl_operation_handle(const struct azl_operation *op);
/* In abort's rollback: the ARM operations sent from now on belong to part
 * (a static name, e.g. "delete-pool"), whose handle the record keeps apart
 * from every step's and every other part's; azl_operation_handle() and
 * azl_operation_lro() use it. The rollback starts in part "rollback". */
void azl_operation_rollback_part(struct azl_operation *op, const char *part);
/* Sends a note event (printf-style). */
void azl_operation_note(struct azl_operation *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The step's ARM operation: re-attached from the journal's handle when the
 * step already began one, else req sent (azl_lro_begin) and its handle
 * journaled at once; then followed to its end (LRO events on the way)
 * unless env->no_wait. *result (may be NULL) is the final resource, owned
 * by op until the next call. The journal's handle is replaced by any
 * later poll state, so a resume starts from the newest. */
int azl_operation_lro(struct azl_operation *op, const struct azl_arm_request *req,
		      const char *kind, enum azl_lro_final via, const cJSON **result);
/* Re-attaches the step to an ARM operation that was begun but whose handle
 * never reached the journal (the process died between the two): follows
 * resource (a path) by its provisioningState; method "DELETE" ends when
 * the resource is gone. */
int azl_operation_follow_resource(struct azl_operation *op, const char *resource,
				  const char *method, const char *kind, const cJSON **result);
/* Where a caller of azl_operation_nodes() is; zeroed before the first call. */
struct azl_operation_cursor {
	unsigned long seen;
	int listed;
};
/* The nodes of pool (one the watch selector covers), sorted by name: the
 * first call as soon as they are known, each later one once they changed.
 * From the node watch while it runs (no request: it wakes at the change);
 * else, or once the watch gave up, listed at once and then every 2 s.
 * AZL_ECANCELED (the flag), AZL_ETIMEOUT (the run's budget) or a list's
 * error; out is the caller's to release after 0. */
int azl_operation_nodes(struct azl_operation *op, const char *pool,
			struct azl_operation_cursor *c, struct azl_node_list *out);
/* The policy that bounds and cancels this run's waits (owned by op). */
struct azl_retry *azl_operation_retry(struct azl_operation *op);

#endif
