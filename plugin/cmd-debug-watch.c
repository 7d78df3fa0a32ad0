/* kubectl azlinux __watch RESOURCE: a hidden debugging command that
 * watches a core/v1 collection through core/watch and prints each event
 * as "TYPE NAME RESOURCEVERSION", then how often it listed and
 * reconnected; the end-to-end tests drive the watch's reconnect and
 * relist with it. Not in help or completion. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "strbuf.h"
#include "watch.h"

struct watch_args {
	struct cli_global_flags g;
	int stop_after;
	int server_timeout;
};

static const struct cli_option watch_options[] = {
	OPT_INT(0, "stop-after", struct watch_args, stop_after, "N",
		"Stop after N MODIFIED events (0: run until interrupted)."),
	OPT_INT(0, "server-timeout", struct watch_args, server_timeout, "SECONDS",
		"Ask the server to end each watch request after this long."),
	CLI_OPT_GLOBAL_FLAGS(struct watch_args, g),
	OPT_END()
};

static const char *const type_names[] = {
	"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "RELIST", "SYNCED",
};

struct printer {
	int stop_after, modified;
};

static int print_event(struct azl_watch *w, const struct azl_watch_event *ev, void *ctx)
{
	struct printer *p = ctx;

	printf("%s %s %s\n", type_names[ev->type],
	       ev->object ? azl_json_str(ev->object, "metadata.name", "-") : "-",
	       ev->resource_version);
	fflush(stdout);
	if (ev->type == AZL_WATCH_MODIFIED && ++p->modified == p->stop_after)
		azl_watch_stop(w);
	return 0;
}

static int run_watch(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct watch_args args = { 0 };
	struct cli_kube_session s = CLI_KUBE_SESSION_INIT;
	struct azl_watch_options o = { 0 };
	struct azl_watch_stats st;
	struct azl_watch *w = NULL;
	struct printer p = { 0, 0 };
	struct strbuf path = STRBUF_INIT;
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (n != 1)
		return cli_error_usage("__watch takes one resource of core/v1 (nodes, pods)");
	if (cli_kube_session_open(&s, &args.g) < 0)
		return cli_error_report();
	strbuf_addf(&path, "/api/v1/%s", argv[0]);
	p.stop_after = args.stop_after;
	o.path = path.buf;
	o.server_timeout_s = args.server_timeout;
	o.fn = print_event;
	o.ctx = &p;
	rc = azl_watch_new(&w, s.kube, &o);
	if (!rc)
		rc = azl_watch_run(w);
	if (w) {
		azl_watch_get_stats(w, &st);
		printf("STATS lists=%lu connects=%lu reconnects=%lu relists=%lu bookmarks=%lu\n",
		       st.lists, st.connects, st.reconnects, st.relists_gone, st.bookmarks);
	}
	if (rc)
		rc = cli_error_report();
	azl_watch_free(w);
	strbuf_release(&path);
	cli_kube_session_release(&s);
	return rc;
}

const struct cli_command cli_cmd_debug_watch = {
	.name = "__watch",
	.run = run_watch,
	.summary = "Watch a core/v1 collection (debugging)",
	.usage = "__watch RESOURCE [--stop-after N] [--server-timeout SECONDS] [flags]",
	.options = watch_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 1,
};
