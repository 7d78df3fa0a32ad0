/* kubectl azlinux status [ID]: the journaled operations, with the live
 * state of the AKS operation each running step waits on (several at once
 * after upgrade --parallel). */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "lro.h"
#include "ops.h"
#include "print.h"
#include "strbuf.h"

struct status_args {
	struct cli_global_flags g;
	struct cli_op_flags f;
	const char *output;
	int live;
};

static const struct cli_option status_options[] = {
	OPT_STRING('o', "output", struct status_args, output, "FORMAT",
		   "json or yaml: {\"operations\": [...]}, or {\"operation\": ...} with ID.",
		   CLI_COMPLETE_OUTPUT_FORMAT),
	OPT_BOOL(0, "live", struct status_args, live,
		 "Ask Azure for the state of the AKS operation each running step waits on "
		 "(the AKS column; each running step's \"live\" with -o json)."),
	CLI_OPT_OP_CLUSTER_FLAGS(struct status_args, f),
	CLI_OPT_GLOBAL_FLAGS(struct status_args, g),
	OPT_END()
};

/* The step running (or the first not done), "" when all are. */
static const char *current_step(const struct azl_journal *j)
{
	for (size_t i = 0; i < azl_journal_nr_steps(j); i++)
		if (azl_journal_step_state(j, i) != AZL_STEP_DONE)
			return azl_journal_step_name(j, i);
	return "";
}

/* One poll of running step i's AKS operation: "InProgress 40%" into out,
 * and the same into its report (step) as "live": {status, percentComplete}.
 * Nothing when it cannot be polled. */
static void live_step(struct azl_arm *arm, const struct azl_journal *j, size_t i, cJSON *step,
		      struct strbuf *out)
{
	const cJSON *h = azl_journal_step_handle(j, i);
	struct azl_lro *lro = NULL;
	cJSON *live;

	if (!arm || !h || azl_lro_from_json(&lro, h) || azl_lro_poll(lro, arm, NULL)) {
		azl_lro_free(lro);
		azl_error_clear();
		return;
	}
	strbuf_addstr(out, azl_lro_status(lro));
	if (azl_lro_percent(lro) >= 0)
		strbuf_addf(out, " %.0f%%", azl_lro_percent(lro));
	live = cJSON_AddObjectToObject(step, "live");
	cJSON_AddStringToObject(live, "status", azl_lro_status(lro));
	if (azl_lro_percent(lro) >= 0)
		cJSON_AddNumberToObject(live, "percentComplete", azl_lro_percent(lro));
	azl_lro_free(lro);
}

/* j's report with every running step's AKS operation polled (several run
 * at once with --parallel); their names and live states, in the same
 * order, joined into steps and states. */
static cJSON *live_report(struct azl_arm *arm, const struct azl_journal *j, struct strbuf *steps,
			  struct strbuf *states)
{
	cJSON *rep = cli_op_report(j);
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(rep, "steps");
	struct strbuf one = STRBUF_INIT;

	for (size_t i = 0; i < azl_journal_nr_steps(j); i++) {
		cJSON *step = cJSON_GetArrayItem(arr, (int)i);

		if (azl_journal_step_state(j, i) != AZL_STEP_RUNNING || !step)
			continue;
		strbuf_reset(&one);
		live_step(arm, j, i, step, &one);
		strbuf_addf(steps, "%s%s", steps->len ? ", " : "", azl_json_str(step, "name", ""));
		if (arm)
			strbuf_addf(states, "%s%s", states->len ? ", " : "", one.len ? one.buf : "-");
	}
	strbuf_release(&one);
	return rep;
}

static const struct cli_column status_columns[] = {
	{ "id", 0 }, { "kind", 0 }, { "context", 0 }, { "cluster", 0 }, { "pool", 0 },
	{ "state", 0 }, { "step", 0 }, { "aks", 0 }, { NULL, 0 }
};

static int print_table(const struct azl_journal_list *list, struct azl_arm *arm)
{
	struct cli_table *t = NULL;

	if (cli_table_new(&t, status_columns) < 0)
		return cli_error_report();

	for (size_t i = 0; i < list->nr; i++) {
		const struct azl_journal *j = list->items[i];
		struct strbuf running = STRBUF_INIT, live = STRBUF_INIT;
		const char *cells[8];

		cJSON_Delete(live_report(arm, j, &running, &live));
		cells[0] = azl_journal_id(j);
		cells[1] = azl_journal_kind(j);
		cells[2] = azl_journal_context(j);
		cells[3] = azl_journal_target_field(j, "name");
		cells[4] = azl_journal_target_field(j, "pool");
		cells[5] = azl_op_state_name(azl_journal_state(j));
		cells[6] = running.len ? running.buf : *current_step(j) ? current_step(j) : "-";
		cells[7] = live.len ? live.buf : "-";
		cli_table_add_row(t, cells);
		strbuf_release(&running);
		strbuf_release(&live);
	}
	if (!list->nr)
		fprintf(stderr, "No operations in the journal.\n");
	else
		cli_table_print(t, stdout, 0, 1);
	cli_table_free(t);
	return 0;
}

static int print_tree(const struct azl_journal_list *list, struct azl_arm *arm,
		      enum cli_output format)
{
	cJSON *tree = cJSON_CreateObject(), *ops = cJSON_AddArrayToObject(tree, "operations");
	struct strbuf steps = STRBUF_INIT, states = STRBUF_INIT;
	int rc;

	for (size_t i = 0; i < list->nr; i++) {
		cJSON_AddItemToArray(ops, live_report(arm, list->items[i], &steps, &states));
		strbuf_reset(&steps);
		strbuf_reset(&states);
	}
	strbuf_release(&steps);
	strbuf_release(&states);
	rc = cli_print_tree(tree, format);
	cJSON_Delete(tree);
	return rc;
}

static int show_one(const char *id, enum cli_output format)
{
	struct azl_journal *j = NULL;
	int rc = azl_journal_load(&j, id, 0);

	if (rc)
		return cli_error_report();
	/* one operation in a table is its report, as YAML */
	rc = cli_op_print_report(j, format == CLI_OUTPUT_TABLE ? CLI_OUTPUT_YAML : format);
	azl_journal_free(j);
	return rc;
}

static int run_status(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct status_args args = { 0 };
	struct azl_journal_list list = { 0 };
	struct strbuf errors = STRBUF_INIT;
	struct cli_op_session s;
	enum cli_output format;
	int n, rc;

	n = cli_op_parse_id(argc, argv, ctx, &args, &args.g, &args.output, &format, &rc);
	if (n < 0)
		return rc;
	if (n == 1)
		return show_one(argv[0], format);
	if (azl_journal_list(&list, &errors) < 0)
		return cli_error_report();
	if (errors.len)
		cli_warning("%s", errors.buf);
	memset(&s, 0, sizeof(s));
	if (args.live && cli_op_open(&s, &args.g, &args.f, 0))
		cli_warning("the AKS operations' live state is not shown: %s", azl_error_message());
	rc = format == CLI_OUTPUT_TABLE ? print_table(&list, s.arm) : print_tree(&list, s.arm, format);
	cli_op_close(&s);
	azl_journal_list_release(&list);
	strbuf_release(&errors);
	return rc;
}

const struct cli_command cli_cmd_status = {
	.name = "status",
	.run = run_status,
	.summary = "List the journaled migrations and their state",
	.usage = "status [ID] [--live] [-o json|yaml] [flags]",
	.description = "List every operation in the journal ($XDG_STATE_HOME/kubectl-azlinux/operations):\n"
		       "its id, kind, context, cluster, pool, state (Planned, InProgress, Succeeded,\n"
		       "Failed, Canceled, Interrupted) and the step it is at (every step running, as\n"
		       "after upgrade --parallel); with --live, the state of the AKS operation each\n"
		       "running step waits on, in the same order (-o json: each running step's\n"
		       "\"live\", {status, percentComplete}). With ID, that operation in full.",
	.examples = "  kubectl azlinux status\n"
		    "  kubectl azlinux status -o json\n",
	.options = status_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 0,
};
