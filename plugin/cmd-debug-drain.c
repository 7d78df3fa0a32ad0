/* kubectl azlinux __pods NODE and __evict NAMESPACE/NAME: hidden debugging
 * commands over core/pod, core/pdb and core/eviction, so the end-to-end
 * tests can check them against the simulator's API server. Not in help or
 * completion.
 *
 * __pods prints a line per pod on NODE: "NAMESPACE/NAME CONTROLLER-KIND
 * PHASE READY|NOTREADY MIRROR? EMPTYDIR? pdbs=NAME,..". __evict prints the
 * eviction's outcome: "OUTCOME STATUS REASON CAUSE-TYPE,..". */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "eviction.h"
#include "pdb.h"
#include "pod.h"
#include "strbuf.h"

struct drain_args {
	struct cli_global_flags g;
	int dry_run;
	int grace_period;
};

static const struct cli_option pods_options[] = {
	CLI_OPT_GLOBAL_FLAGS(struct drain_args, g),
	OPT_END()
};

static const struct cli_option evict_options[] = {
	OPT_BOOL(0, "dry-run", struct drain_args, dry_run,
		 "Ask the server to check the eviction without doing it."),
	OPT_INT(0, "grace-period", struct drain_args, grace_period, "SECONDS",
		"deleteOptions.gracePeriodSeconds (-1: the pod's own)."),
	CLI_OPT_GLOBAL_FLAGS(struct drain_args, g),
	OPT_END()
};

struct pods_ctx {
	const struct azl_pdb_list *pdbs;
};

static int print_pod(const struct azl_pod *pod, void *data)
{
	const struct pods_ctx *c = data;
	const struct azl_owner_ref *ctl = azl_pod_controller(pod);
	struct strbuf pdbs = STRBUF_INIT;

	for (size_t i = 0; i < c->pdbs->nr; i++)
		if (azl_pdb_selects(&c->pdbs->items[i], pod))
			strbuf_addf(&pdbs, "%s%s", pdbs.len ? "," : "", c->pdbs->items[i].name);
	printf("%s/%s %s %s %s%s%s pdbs=%s\n", pod->namespace_, pod->name, ctl ? ctl->kind : "-",
	       pod->phase, pod->ready ? "READY" : "NOTREADY",
	       azl_pod_is_mirror(pod) ? " MIRROR" : "",
	       azl_pod_has_volume(pod, AZL_VOLUME_EMPTY_DIR) ? " EMPTYDIR" : "", pdbs.buf);
	strbuf_release(&pdbs);
	return 0;
}

static int run_pods(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct drain_args args = { 0 };
	struct cli_kube_session s = CLI_KUBE_SESSION_INIT;
	struct azl_pdb_list pdbs = { NULL, 0 };
	struct pods_ctx c = { &pdbs };
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (n != 1)
		return cli_error_usage("__pods takes one node name");
	if (cli_kube_session_open(&s, &args.g) < 0)
		return cli_error_report();
	rc = azl_pdb_list(s.kube, NULL, &pdbs);
	if (!rc)
		rc = azl_pod_list_on_node(s.kube, argv[0], NULL, 0, print_pod, &c);
	if (rc)
		rc = cli_error_report();
	azl_pdb_list_release(&pdbs);
	cli_kube_session_release(&s);
	return rc;
}

static int run_evict(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct drain_args args = { .grace_period = -1 };
	struct cli_kube_session s = CLI_KUBE_SESSION_INIT;
	struct azl_eviction_options o = AZL_EVICTION_OPTIONS_INIT;
	struct azl_eviction_result r = AZL_EVICTION_RESULT_INIT;
	struct strbuf gv = STRBUF_INIT, ns = STRBUF_INIT;
	const char *slash;
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	slash = n == 1 ? strchr(argv[0], '/') : NULL;
	if (!slash)
		return cli_error_usage("__evict takes one NAMESPACE/NAME");
	strbuf_add(&ns, argv[0], (size_t)(slash - argv[0]));
	o.delete_options.dry_run = args.dry_run;
	o.delete_options.grace_period_s = args.grace_period;
	if (cli_kube_session_open(&s, &args.g) < 0)
		return cli_error_report();
	rc = azl_eviction_discover(s.kube, &gv);
	if (!rc) {
		o.group_version = gv.len ? gv.buf : NULL;
		rc = azl_eviction_create(s.kube, ns.buf, slash + 1, &o, &r);
		printf("%s %ld %s", azl_eviction_outcome_name(r.outcome), r.res.status,
		       r.res.reason.len ? r.res.reason.buf : "-");
		for (size_t i = 0; i < r.res.nr_causes; i++)
			printf("%c%s", i ? ',' : ' ', r.res.causes[i].type);
		printf("\n");
	}
	if (rc)
		rc = cli_error_report();
	azl_eviction_result_release(&r);
	strbuf_release(&gv);
	strbuf_release(&ns);
	cli_kube_session_release(&s);
	return rc;
}

const struct cli_command cli_cmd_debug_pods = {
	.name = "__pods",
	.run = run_pods,
	.summary = "List the pods of a node with their PDBs (debugging)",
	.usage = "__pods NODE [flags]",
	.options = pods_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 1,
};

const struct cli_command cli_cmd_debug_evict = {
	.name = "__evict",
	.run = run_evict,
	.summary = "Evict one pod and print the outcome (debugging)",
	.usage = "__evict NAMESPACE/NAME [--dry-run] [--grace-period SECONDS] [flags]",
	.options = evict_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 1,
};
