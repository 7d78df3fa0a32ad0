/* kubectl azlinux __arm: a hidden debug command that sends one ARM request
 * through core/arm and, with --wait, follows the operation it begins
 * through core/lro to its end. It exists so the write path can be driven
 * end to end (tests/e2e/test_write_path.py) before migrate and upgrade use
 * it; it is not listed in help or completion.
 *
 *     __arm [--body JSON] [--if-match ETAG] [--if-none-match *] [--query Q]
 *           [--wait] [--final-state-via location] [--save-state FILE] METHOD PATH
 *     __arm --resume FILE [--abort] [--wait]
 *
 * stdout: {"operation": <the resumable state>, "result": <the final
 * resource or null>}; progress goes to stderr, one line per poll. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arm.h"
#include "auth-flags.h"
#include "common.h"
#include "error.h"
#include "lro.h"
#include "print.h"
#include "strbuf.h"

struct arm_args {
	struct cli_global_flags g;
	struct cli_azure_flags az;
	const char *body;
	const char *if_match;
	const char *if_none_match;
	const char *query;
	const char *final_state_via;
	const char *save_state;
	const char *resume;
	int wait;
	int abort_op;
	int timeout_s;
};

static const struct cli_option arm_options[] = {
	OPT_STRING(0, "body", struct arm_args, body, "JSON", "Request body.", CLI_COMPLETE_NONE),
	OPT_STRING(0, "if-match", struct arm_args, if_match, "ETAG", "If-Match header.",
		   CLI_COMPLETE_NONE),
	OPT_STRING(0, "if-none-match", struct arm_args, if_none_match, "VALUE",
		   "If-None-Match header.", CLI_COMPLETE_NONE),
	OPT_STRING(0, "query", struct arm_args, query, "QUERY", "More query parameters.",
		   CLI_COMPLETE_NONE),
	OPT_BOOL(0, "wait", struct arm_args, wait, "Follow the operation to its end."),
	OPT_STRING(0, "final-state-via", struct arm_args, final_state_via, "VIA",
		   "azure-async-operation (default) or location.", CLI_COMPLETE_NONE),
	OPT_STRING(0, "save-state", struct arm_args, save_state, "FILE",
		   "Write the operation's state (JSON) after it begins.", CLI_COMPLETE_FILE),
	OPT_STRING(0, "resume", struct arm_args, resume, "FILE",
		   "Follow the operation saved in FILE instead of sending a request.",
		   CLI_COMPLETE_FILE),
	OPT_BOOL(0, "abort", struct arm_args, abort_op, "Abort the operation (with --resume)."),
	OPT_INT(0, "timeout", struct arm_args, timeout_s, "SECONDS",
		"Give up waiting after this long (default 3600)."),
	CLI_OPT_AZURE_FLAGS(struct arm_args, az),
	CLI_OPT_GLOBAL_FLAGS(struct arm_args, g),
	OPT_END()
};

static void show_progress(void *data, const struct azl_lro *lro)
{
	(void)data;
	if (azl_lro_percent(lro) >= 0)
		fprintf(stderr, "operation %s %.0f%%\n", azl_lro_status(lro), azl_lro_percent(lro));
	else
		fprintf(stderr, "operation %s\n", azl_lro_status(lro));
	fflush(stderr);
}

static int save_state(const char *path, const struct azl_lro *lro)
{
	cJSON *json = azl_lro_to_json(lro);
	char *text = cJSON_Print(json);
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (!f || fputs(text, f) < 0)
		rc = azl_error_set(AZL_ERROR, "%s: cannot write the operation state", path);
	if (f && fclose(f) && !rc)
		rc = azl_error_set(AZL_ERROR, "%s: cannot write the operation state", path);
	free(text);
	cJSON_Delete(json);
	return rc;
}

static int load_state(const char *path, struct azl_lro **out)
{
	struct strbuf sb = STRBUF_INIT;
	cJSON *json;
	int rc;

	if (strbuf_read_file(&sb, path) < 0) {
		strbuf_release(&sb);
		return azl_error_set(AZL_ENOTFOUND, "%s: cannot read the operation state", path);
	}
	json = cJSON_ParseWithLength(sb.buf, sb.len);
	strbuf_release(&sb);
	rc = azl_lro_from_json(out, json);
	cJSON_Delete(json);
	if (rc)
		azl_error_prefix("%s", path);
	return rc;
}

static int begin(struct azl_arm *arm, const struct arm_args *a, const char *method,
		 const char *path, struct azl_lro **lro)
{
	struct azl_arm_request req = { 0 };
	cJSON *body = NULL;
	int rc;

	if (a->body && !(body = cJSON_Parse(a->body)))
		return azl_error_set(AZL_EINVALID, "--body is not JSON");
	req.method = method;
	req.path = path;
	req.query = a->query;
	req.body = body;
	req.if_match = a->if_match;
	req.if_none_match = a->if_none_match;
	rc = azl_lro_begin(lro, arm, &req, method,
			   a->final_state_via && !strcmp(a->final_state_via, "location")
			   ? AZL_LRO_FINAL_LOCATION : AZL_LRO_FINAL_ASYNC_OPERATION);
	cJSON_Delete(body);
	if (!rc && a->save_state)
		rc = save_state(a->save_state, *lro);
	return rc;
}

static int follow(struct azl_arm *arm, const struct arm_args *a, struct azl_lro *lro)
{
	struct azl_lro_wait_options wo = { 0 };
	struct azl_retry_options ro = { 0 };
	int rc;

	if (a->abort_op && (rc = azl_lro_abort(lro, arm)))
		return rc;
	if (!a->wait)
		return 0;
	ro.budget_ms = (a->timeout_s > 0 ? a->timeout_s : 3600) * 1000L;
	azl_retry_new(&wo.retry, &ro);
	wo.progress = show_progress;
	rc = azl_lro_wait(lro, arm, &wo);
	azl_retry_free(wo.retry);
	return rc;
}

static void print_outcome(const struct azl_lro *lro)
{
	cJSON *tree = cJSON_CreateObject();
	const cJSON *result = azl_lro_result(lro);

	cJSON_AddItemToObject(tree, "operation", azl_lro_to_json(lro));
	cJSON_AddItemToObject(tree, "result", result ? cJSON_Duplicate(result, 1) : cJSON_CreateNull());
	cli_print_tree(tree, CLI_OUTPUT_JSON);
	cJSON_Delete(tree);
}

static int open_arm(const struct arm_args *a, struct azl_auth **auth,
		    struct azl_arm_credential **cred, struct azl_arm **arm)
{
	long timeout_ms;
	int rc = cli_global_flags_arm_timeout(&a->g, &timeout_ms);

	return rc ? rc : cli_arm_open(&a->az, timeout_ms, auth, cred, arm);
}

static int run_arm(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct arm_args args = { 0 };
	struct azl_auth *auth = NULL;
	struct azl_arm_credential *cred = NULL;
	struct azl_arm *arm = NULL;
	struct azl_lro *lro = NULL;
	int n, rc;

	n = cli_cmd_parse(argc, argv, ctx, &args, &args.g);
	if (n < 0)
		return cli_parse_exit_code(n);
	if (args.resume ? n != 0 : n != 2)
		return cli_error_usage("usage: %s %s", ctx->prog, ctx->cmd->usage);
	rc = open_arm(&args, &auth, &cred, &arm);
	if (!rc && args.resume)
		rc = load_state(args.resume, &lro);
	else if (!rc)
		rc = begin(arm, &args, argv[0], argv[1], &lro);
	if (!rc)
		rc = follow(arm, &args, lro);
	if (lro)
		print_outcome(lro);
	azl_lro_free(lro);
	azl_arm_free(arm);
	azl_arm_credential_free(cred);
	azl_auth_free(auth);
	return rc ? cli_error_report() : 0;
}

const struct cli_command cli_cmd_arm = {
	.name = "__arm",
	.run = run_arm,
	.summary = "Send one ARM request and follow its operation (debugging)",
	.usage = "__arm [--wait] [--body JSON] [--if-match ETAG] METHOD PATH | __arm --resume FILE",
	.description = "Sends METHOD PATH to Azure Resource Manager and, with --wait, follows the\n"
		       "long-running operation it begins to its end. For tests of the write path.",
	.examples = NULL,
	.options = arm_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 1,
};
