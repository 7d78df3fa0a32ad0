/* What the commands of mutating operations share (migrate, add-pool,
 * status, resume, abort; upgrade next): the flags, the clients, the
 * kinds resume and abort know, the signal flag, live progress, the plan
 * print, the confirmation and the documented JSON report. */
#ifndef CLI_PLUGIN_OPS_H
#define CLI_PLUGIN_OPS_H

#include <signal.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "auth-flags.h"
#include "fleet.h"
#include "cluster.h"
#include "common.h"
#include "journal.h"
#include "migrate.h"
#include "operation.h"
#include "pool.h"

/* Exit statuses, as check's; 130 after Ctrl-C. */
#define CLI_OP_EXIT_OK 0
#define CLI_OP_EXIT_FAILED 1
#define CLI_OP_EXIT_WARNINGS 3
#define CLI_OP_EXIT_BLOCKED 4
#define CLI_OP_EXIT_INTERRUPTED 130

/* Which cluster, and as whom to ask Azure. */
struct cli_op_flags {
	struct cli_azure_flags az;
	const char *subscription;
	const char *resource_group;
	const char *name;
};

#define CLI_OPT_OP_CLUSTER_FLAGS(T, m) \
	CLI_OPT_AKS_CLUSTER_FLAGS(T, m), \
	CLI_OPT_AZURE_FLAGS(T, m.az)

/* The clients of one run. */
struct cli_op_session {
	struct cli_kube_session ks;
	struct azl_kube *watch_kube;  /* the node watch's own client */
	struct azl_auth *auth;
	struct azl_arm_credential *cred;
	struct azl_arm *arm;
	struct azl_cluster cluster;
	struct azl_pool_list pools;
	int loaded;
};

/* Opens Kubernetes and ARM clients for the context the flags name and,
 * with load, resolves its cluster and loads every pool. */
int cli_op_open(struct cli_op_session *s, const struct cli_global_flags *g,
		const struct cli_op_flags *f, int load);
void cli_op_close(struct cli_op_session *s);

/* AZL_EBUSY, naming it, when an operation of another process holds
 * pool's lock (journal.h): asked before the plan and its preflight, which
 * would only see that pool busy in Azure. */
int cli_op_probe(const struct cli_op_session *s, const char *pool);

/* The kinds `resume` and `abort` can run. */
const struct azl_operation_kind *const *cli_op_kinds(size_t *nr);

/* Installs SIGINT/SIGTERM handlers that set the returned flag (the
 * second signal restores the default, so it kills). */
const volatile sig_atomic_t *cli_op_signals(void);

/* Live progress on stderr: a block rewritten on a terminal, timestamped
 * lines otherwise. */
struct cli_op_view;
struct cli_op_view *cli_op_view_new(const char *pool, const char *target_os);
void cli_op_view_free(struct cli_op_view *v);
void cli_op_event(void *data, const struct azl_operation_event *ev);

/* The env for running op with the session's clients. */
void cli_op_env(struct azl_operation_env *env, struct cli_op_session *s,
		struct cli_op_view *view, const struct azl_journal *j, const cJSON *data,
		int no_wait, struct strbuf *selector);

/* Runs (or, with abort_it, aborts) op with live progress, prints the
 * report (-o json/yaml) and the outcome; returns the exit status (130
 * after a signal). */
int cli_op_drive(struct azl_operation *op, struct cli_op_session *s, const char *target_os,
		 enum cli_output format, int no_wait, int abort_it);

/* The plan in words (stdout). */
void cli_op_print_plan(const struct azl_migrate_plan *plan, const struct azl_cluster *c);
/* The preflight's exit status: 0, 3 with warnings, 4 with a blocker. */
int cli_op_preflight_exit(const struct azl_finding_list *preflight);

/* 0 to go on; prints why not and returns the exit status: a blocker (4),
 * no terminal without --yes (1), an answer other than y (1). */
int cli_op_confirm(const struct azl_finding_list *preflight, int yes);

/* {"id","kind","context","cluster","pool","strategy","newPool","from","to",
 *  "state","preflight","steps","nodes","error"} of a journal; a record
 * with "target" and "skipped" (upgrade's) adds them, one with a "plan"
 * array names each step from it, with its pool, from and to. */
cJSON *cli_op_report(const struct azl_journal *j);
/* The same report of a plan not journaled (id null, every step pending):
 * the session's context and cluster, the kind's record as data. */
cJSON *cli_op_plan_report(const struct cli_op_session *s, const char *kind, const char *pool,
			  const char *state, const cJSON *data, const char *const *steps,
			  size_t nr_steps);
/* Prints {"operation": cli_op_report(j)} as JSON or YAML. */
int cli_op_print_report(const struct azl_journal *j, enum cli_output format);
/* Prints {"operation": report} as JSON or YAML, and frees report; the
 * exit status. */
int cli_op_print_operation(cJSON *report, enum cli_output format);

/* cli_cmd_parse() for a command of at most one argument (an operation ID)
 * and -o table, json or yaml (*output, the member the parse fills): 0 or 1,
 * the count, with *format set; or -1 with *exit_code, the message printed. */
int cli_op_parse_id(int argc, const char **argv, const struct cli_cmd_ctx *ctx, void *values,
		    const struct cli_global_flags *g, const char *const *output,
		    enum cli_output *format, int *exit_code);
/* The one-line ending: what happened and how to go on. */
void cli_op_print_outcome(const struct azl_journal *j, int rc);

/* Journals plan as a new operation and drives it; the exit status. */
int cli_op_start(struct cli_op_session *s, const struct azl_migrate_plan *plan,
		 enum cli_output format, int no_wait, struct azl_operation **op);

/* resume [ID] and abort [ID]: the operation (the newest unfinished one
 * without ID) loaded with its lock, its context's clients, then run or
 * aborted. */
struct cli_op_continue_args {
	struct cli_global_flags g;
	struct cli_op_flags f;
	int no_wait;
	const char *output;
};
int cli_op_continue(int argc, const char **argv, const struct cli_cmd_ctx *ctx, int abort_it);

#endif
