/* The operation journal: what a mutating operation (migrate, upgrade) has
 * done, so that it can be shown, resumed or reported after its process is
 * gone, and the lock that keeps two processes off the same pool.
 *
 * Files (statefile.h, fsync'd on every change) live in
 * $XDG_STATE_HOME/kubectl-azlinux/operations/ (~/.local/state/...), one
 * per operation, named <id>.json; the id sorts by time and is unique:
 * "20261201T225000Z-1a2b3c4d" (UTC start, then 32 random bits). Version 1:
 *
 *   {"version": 1, "id": "...", "kind": "migrate",
 *    "state": "InProgress",          Planned|InProgress|Succeeded|Failed|
 *                                    Canceled|Interrupted
 *    "created": "<RFC 3339 UTC>", "updated": "...",
 *    "pid": 1234, "host": "build-1", the process that runs it
 *    "context": "prod",
 *    "cluster": {"subscription": "...", "resourceGroup": "...", "name": "..."},
 *    "pool": "nodepool1",
 *    "steps": [{"name": "...", "state": "pending|running|done|failed",
 *               "started": "...", "ended": "...", "error": "one line",
 *               "operation": {...}}],   the LRO handle while it runs
 *                                    (several steps may run at once, each
 *                                    with its own)
 *    "data": {...}}                  the kind's own record (set_data)
 *
 * Timestamps are absent until they happen. "operation" is opaque JSON (the
 * ARM long-running operation's handle, core/lro's) and must hold no secret:
 * members named like one (token, secret, assertion, password...), bearer
 * values and URLs with secret parameters are refused. Nothing else in the
 * file comes from a credential.
 *
 * Locking. An operation holds its pool's lock (an flock on
 * operations/locks/pool-<hash of subscription/group/cluster/pool, lower
 * case>.lock, which holds the id of the last operation to take it) from
 * create to finish or free. The pool AZL_JOURNAL_CLUSTER is the cluster
 * itself: an operation on the whole cluster holds that lock exclusive,
 * one on a pool holds it shared beside its pool's, so neither starts
 * while the other runs. A second process is refused with AZL_EBUSY and
 * one line naming the first: its id, kind, step and since when. The kernel
 * drops an flock when its process dies, so a lock is never stale; an
 * operation whose file says Planned or InProgress but whose lock is free
 * was interrupted: load() and list() report it as Interrupted, and the
 * next operation on the pool records that in its file.
 *
 * An azl_journal is used by one thread at a time. */
#ifndef AZL_JOURNAL_H
#define AZL_JOURNAL_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "strbuf.h"

#define AZL_JOURNAL_VERSION 1

enum azl_op_state {
	AZL_OP_PLANNED,
	AZL_OP_IN_PROGRESS,
	AZL_OP_SUCCEEDED,
	AZL_OP_FAILED,
	AZL_OP_CANCELED,
	AZL_OP_INTERRUPTED
};

enum azl_step_state {
	AZL_STEP_PENDING,
	AZL_STEP_RUNNING,
	AZL_STEP_DONE,
	AZL_STEP_FAILED
};

/* "Planned" ... "Interrupted"; "pending" ... "failed". */
const char *azl_op_state_name(enum azl_op_state s);
const char *azl_step_state_name(enum azl_step_state s);

/* The pool of an operation on the whole cluster (several pools, or the
 * control plane): it holds the cluster's lock alone. */
#define AZL_JOURNAL_CLUSTER "(cluster)"

/* What an operation acts on. All but context are required. */
struct azl_journal_target {
	const char *context;
	const char *subscription;
	const char *resource_group;
	const char *cluster;
	const char *pool;
};

struct azl_journal;

/* Where the journal lives: <state dir>/operations (nothing is created). */
int azl_journal_dir(struct strbuf *out);

/* Starts an operation of kind on t with these steps (names, in order):
 * takes t's pool lock and the cluster's shared, or the cluster's alone for
 * AZL_JOURNAL_CLUSTER (AZL_EBUSY, naming the holder, when another process
 * has one; any operation it finds interrupted is marked so), then writes the
 * file, state Planned, every step pending. */
int azl_journal_create(struct azl_journal **out, const char *kind,
		       const struct azl_journal_target *t, const char *const *steps,
		       size_t nr_steps);

/* Whether another process runs an operation on t's pool now (or on the
 * whole cluster; for AZL_JOURNAL_CLUSTER, on any of its pools), asked
 * without taking a lock: 0 when none does, else AZL_EBUSY with the line
 * that create() would give (the holder's id, kind, step, pid and host).
 * A command asks before its own checks of the pool, which would see the
 * other operation's work and refuse without naming it. */
int azl_journal_probe(const struct azl_journal_target *t);

/* Reads operation id. With lock, takes its pool lock too (to resume it:
 * AZL_EBUSY when its process still runs), else a read-only copy whose
 * state says Interrupted when nobody holds the lock of a Planned or
 * InProgress operation. AZL_ENOTFOUND when there is no such operation;
 * AZL_EINVALID (naming the file and field) when its file is unusable. */
int azl_journal_load(struct azl_journal **out, const char *id, int lock);

/* Every operation, oldest first. A file that cannot be read does not hide
 * the others: its one-line error is appended to errors (may be NULL). */
struct azl_journal_list {
	struct azl_journal **items;
	size_t nr;
};
int azl_journal_list(struct azl_journal_list *out, struct strbuf *errors);
void azl_journal_list_release(struct azl_journal_list *list);

/* Step i (0-based) starts: running, started now; the operation is
 * InProgress. Journaled (fsync'd) before the step's work begins. Needs the
 * lock (create, or load with lock). */
int azl_journal_step_begin(struct azl_journal *j, size_t i);
/* Step i ends: done when rc is 0, else failed with error (one line; may be
 * NULL). Its handle is dropped. Journaled after the step's work. */
int azl_journal_step_end(struct azl_journal *j, size_t i, int rc, const char *error);
/* Stores handle (copied) on the running step; NULL clears it. AZL_EINVALID
 * when no step runs, or when the handle looks like it holds a secret. */
int azl_journal_set_handle(struct azl_journal *j, const cJSON *handle);
/* The running step's handle, or NULL (owned by j). */
const cJSON *azl_journal_handle(const struct azl_journal *j);
/* The same for step i, which must be running: steps of one phase run at
 * once (operation.h), each with its own ARM operation's handle. */
int azl_journal_set_step_handle(struct azl_journal *j, size_t i, const cJSON *handle);
const cJSON *azl_journal_step_handle(const struct azl_journal *j, size_t i);

/* The kind's own record of the operation (its plan, preflight, nodes,
 * error...): one JSON object stored as "data", copied; NULL removes it.
 * Refused like a handle when it holds a secret. Needs the lock. */
int azl_journal_set_data(struct azl_journal *j, const cJSON *data);
/* The stored data object, or NULL (owned by j). */
const cJSON *azl_journal_data(const struct azl_journal *j);

/* Ends the operation as Succeeded, Failed or Canceled (AZL_EINVALID for
 * another state) and releases the pool lock. */
int azl_journal_finish(struct azl_journal *j, enum azl_op_state state);

/* Releases the lock, if held; an unfinished operation stays as it is on
 * disk and reads as Interrupted from then on. NULL is fine. */
void azl_journal_free(struct azl_journal *j);

/* Accessors. Strings are owned by j; "" when absent. */
const char *azl_journal_id(const struct azl_journal *j);
const char *azl_journal_kind(const struct azl_journal *j);
const char *azl_journal_path(const struct azl_journal *j);
enum azl_op_state azl_journal_state(const struct azl_journal *j);
const char *azl_journal_context(const struct azl_journal *j);
/* "subscription", "resourceGroup", "name" of the cluster; "pool". */
const char *azl_journal_target_field(const struct azl_journal *j, const char *field);
time_t azl_journal_created(const struct azl_journal *j);
size_t azl_journal_nr_steps(const struct azl_journal *j);
const char *azl_journal_step_name(const struct azl_journal *j, size_t i);
enum azl_step_state azl_journal_step_state(const struct azl_journal *j, size_t i);
/* 0 when it has not started / ended. */
time_t azl_journal_step_started(const struct azl_journal *j, size_t i);
time_t azl_journal_step_ended(const struct azl_journal *j, size_t i);

#endif
