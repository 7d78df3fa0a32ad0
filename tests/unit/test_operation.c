/* Unit tests for core/operation: the runner's stop on a stale copy (a step
 * returning AZL_ESTALE) as the journal and the error line leave it, and
 * the step run again by resume, which is told to plan itself again; the
 * rollback's handles, kept apart from the steps'. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "operation.h"
#include "testutil.h"

static int step_ok(struct azl_operation *op, void *data)
{
	(void)op;
	(void)data;
	return 0;
}

/* Refuses the change it sees unless told to plan again; counts its runs
 * and the runs it was told so in the record. */
static int step_write(struct azl_operation *op, void *data)
{
	cJSON *d = azl_operation_data(op);
	long runs = azl_json_int(d, "runs", 0) + 1, replans = azl_json_int(d, "replans", 0);

	(void)data;
	replans += azl_operation_replanning(op);
	cJSON_DeleteItemFromObjectCaseSensitive(d, "runs");
	cJSON_AddNumberToObject(d, "runs", (double)runs);
	cJSON_DeleteItemFromObjectCaseSensitive(d, "replans");
	cJSON_AddNumberToObject(d, "replans", (double)replans);
	if (!azl_operation_replanning(op))
		return azl_error_set(AZL_ESTALE, "pool p changed since the plan was made: nothing was sent");
	return 0;
}

static const struct azl_operation_step test_steps[] = {
	{ "read", step_ok }, { "write", step_write }, { "verify", step_ok },
};

static const struct azl_operation_kind test_kind = { "test", test_steps, 3, NULL, NULL };

static const struct azl_journal_target target = { "ctx", "sub", "rg", "aks", "p" };

static void test_stale_stop_then_resume_plans_again(void **state)
{
	static const char *const names[] = { "read", "write", "verify" };
	const struct azl_operation_kind *kinds[] = { &test_kind };
	struct azl_operation_env env = { 0 };
	struct azl_operation *op = NULL;
	struct strbuf want = STRBUF_INIT, id = STRBUF_INIT;
	struct azl_journal *j;

	(void)state;
	assert_int_equal(azl_operation_create(&op, &test_kind, &target, names, 3, NULL), 0);
	strbuf_addstr(&id, azl_journal_id(azl_operation_journal(op)));
	assert_int_equal(azl_operation_run(op, &env, NULL), AZL_ESTALE);
	/* one line: the step's reason and how to go on */
	strbuf_addf(&want, "pool p changed since the plan was made: nothing was sent; kubectl azlinux resume %s reads it afresh and plans step write again",
		    id.buf);
	assert_string_equal(azl_error_message(), want.buf);
	j = azl_operation_journal(op);
	assert_int_equal(azl_journal_state(j), AZL_OP_FAILED);
	assert_int_equal(azl_journal_step_state(j, 0), AZL_STEP_DONE);
	assert_int_equal(azl_journal_step_state(j, 1), AZL_STEP_FAILED);
	assert_int_equal(azl_journal_step_state(j, 2), AZL_STEP_PENDING);
	assert_string_equal(azl_json_str(azl_journal_data(j), "staleStep", ""), "write");
	assert_int_equal(azl_json_int(azl_journal_data(j), "replans", -1), 0);
	azl_operation_free(op);

	/* resume: the failed step again, told to plan itself again, then the rest */
	assert_int_equal(azl_operation_load(&op, kinds, 1, id.buf), 0);
	assert_int_equal(azl_operation_run(op, &env, NULL), 0);
	j = azl_operation_journal(op);
	assert_int_equal(azl_journal_state(j), AZL_OP_SUCCEEDED);
	assert_int_equal(azl_json_int(azl_journal_data(j), "runs", 0), 2);
	assert_int_equal(azl_json_int(azl_journal_data(j), "replans", 0), 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(azl_journal_data(j), "staleStep"));
	azl_operation_free(op);
	strbuf_release(&want);
	strbuf_release(&id);
}

/* Another failure is not a stale stop: no mark, and the step run again is
 * not told to plan itself again. */
static int step_fails(struct azl_operation *op, void *data)
{
	(void)data;
	if (azl_operation_replanning(op))
		return azl_error_set(AZL_EINVALID, "told to plan again after a plain failure");
	return azl_error_set(AZL_ESERVER, "AKS said no");
}

static void test_other_failure_is_not_stale(void **state)
{
	static const struct azl_operation_step fail_steps[] = { { "write", step_fails } };
	static const struct azl_operation_kind fail_kind = { "test", fail_steps, 1, NULL, NULL };
	static const char *const names[] = { "write" };
	const struct azl_operation_kind *kinds[] = { &fail_kind };
	struct azl_operation_env env = { 0 };
	struct azl_operation *op = NULL;
	struct strbuf id = STRBUF_INIT;

	(void)state;
	assert_int_equal(azl_operation_create(&op, &fail_kind, &target, names, 1, NULL), 0);
	strbuf_addstr(&id, azl_journal_id(azl_operation_journal(op)));
	assert_int_equal(azl_operation_run(op, &env, NULL), AZL_ESERVER);
	assert_string_equal(azl_error_message(), "AKS said no");
	assert_null(cJSON_GetObjectItemCaseSensitive(azl_journal_data(azl_operation_journal(op)),
						     "staleStep"));
	azl_operation_free(op);
	assert_int_equal(azl_operation_load(&op, kinds, 1, id.buf), 0);
	assert_int_equal(azl_operation_run(op, &env, NULL), AZL_ESERVER);
	azl_operation_free(op);
	strbuf_release(&id);
}

/* What azl_operation_handle() gives, as "seen.<where>" in the record:
 * the handle's kind, or "none". */
static void record_handle(struct azl_operation *op, const char *where)
{
	const cJSON *h = azl_operation_handle(op);
	cJSON *d = azl_operation_data(op), *seen = cJSON_GetObjectItemCaseSensitive(d, "seen");

	if (!seen)
		seen = cJSON_AddObjectToObject(d, "seen");
	cJSON_AddStringToObject(seen, where, h ? azl_json_str(h, "kind", "?") : "none");
}

static int step_looks(struct azl_operation *op, void *data)
{
	(void)data;
	record_handle(op, "resume");
	return azl_error_set(AZL_ESERVER, "AKS said no");
}

static int rollback_looks(struct azl_operation *op, void *data)
{
	(void)data;
	record_handle(op, "rollback");
	azl_operation_rollback_part(op, "delete-pool");
	record_handle(op, "delete-pool");
	azl_operation_rollback_part(op, "restore-autoscaler");
	record_handle(op, "restore-autoscaler");
	return azl_operation_save(op);
}

/* A rollback's handles live in the record, one per part: a part finds its
 * own (an abort run again re-attaches to it), no other part does, and
 * neither does a step run by resume. */
static void test_rollback_handles_are_kept_apart(void **state)
{
	static const struct azl_operation_step look_steps[] = { { "write", step_looks } };
	static const struct azl_operation_kind look_kind = { "test", look_steps, 1, rollback_looks,
							     NULL };
	static const char *const names[] = { "write" };
	const struct azl_operation_kind *kinds[] = { &look_kind };
	struct azl_operation_env env = { 0 };
	struct azl_operation *op = NULL;
	struct azl_journal *j = NULL;
	struct strbuf id = STRBUF_INIT;
	cJSON *data = cJSON_Parse("{\"rollbackOperations\":{\"delete-pool\":{\"kind\":\"agentPools.delete\"}}}");

	(void)state;
	assert_int_equal(azl_operation_create(&op, &look_kind, &target, names, 1, data), 0);
	strbuf_addstr(&id, azl_journal_id(azl_operation_journal(op)));
	assert_int_equal(azl_operation_run(op, &env, NULL), AZL_ESERVER);
	azl_operation_free(op);
	assert_int_equal(azl_operation_load(&op, kinds, 1, id.buf), 0);
	assert_int_equal(azl_operation_abort(op, &env, NULL), 0);
	azl_operation_free(op);
	assert_int_equal(azl_journal_load(&j, id.buf, 0), 0);
	assert_int_equal(azl_journal_state(j), AZL_OP_CANCELED);
	assert_string_equal(azl_json_str(azl_journal_data(j), "seen.resume", ""), "none");
	assert_string_equal(azl_json_str(azl_journal_data(j), "seen.rollback", ""), "none");
	assert_string_equal(azl_json_str(azl_journal_data(j), "seen.delete-pool", ""),
			    "agentPools.delete");
	assert_string_equal(azl_json_str(azl_journal_data(j), "seen.restore-autoscaler", ""),
			    "none");
	azl_journal_free(j);
	cJSON_Delete(data);
	strbuf_release(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stale_stop_then_resume_plans_again, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_other_failure_is_not_stale, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_rollback_handles_are_kept_apart, tu_state_setup,
						tu_state_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
