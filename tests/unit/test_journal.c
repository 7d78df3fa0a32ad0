/* Unit tests for core/journal: the operation file as each call leaves it on
 * disk, the pool lock between two processes (fork), an operation whose
 * process died, unusable files, modes, and that no secret is written. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "journal.h"
#include "json.h"
#include "testutil.h"

static const char *const steps[] = { "switch the OS SKU", "wait for the reimage" };

static const struct azl_journal_target target = {
	"prod", "sub-1", "rg1", "aks1", "nodepool1"
};

static struct azl_journal *create(const struct azl_journal_target *t)
{
	struct azl_journal *j = NULL;

	if (azl_journal_create(&j, "migrate", t, steps, 2))
		fail_msg("%s", azl_error_message());
	assert_non_null(j);
	return j;
}

/* The file as it is on disk now. */
static cJSON *on_disk(const struct azl_journal *j)
{
	struct strbuf text = STRBUF_INIT;
	cJSON *doc;

	assert_int_equal(strbuf_read_file(&text, azl_journal_path(j)), 0);
	doc = cJSON_Parse(text.buf);
	assert_non_null(doc);
	strbuf_release(&text);
	return doc;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_create_writes_the_plan(void **state)
{
	struct azl_journal *j;
	struct strbuf dir = STRBUF_INIT;
	cJSON *doc;

	(void)state;
	j = create(&target);
	assert_int_equal(azl_journal_dir(&dir), 0);
	assert_int_equal(strncmp(azl_journal_path(j), dir.buf, dir.len), 0);
	assert_int_equal(mode_of(dir.buf), 0700);
	assert_int_equal(mode_of(azl_journal_path(j)), 0600);
	/* 20261201T225000Z-1a2b3c4d */
	assert_int_equal(strlen(azl_journal_id(j)), 25);
	assert_int_equal(azl_journal_id(j)[8], 'T');
	assert_int_equal(azl_journal_id(j)[16], '-');
	doc = on_disk(j);
	assert_int_equal(azl_json_int(doc, "version", 0), 1);
	assert_string_equal(azl_json_str(doc, "id", ""), azl_journal_id(j));
	assert_string_equal(azl_json_str(doc, "kind", ""), "migrate");
	assert_string_equal(azl_json_str(doc, "state", ""), "Planned");
	assert_string_equal(azl_json_str(doc, "context", ""), "prod");
	assert_string_equal(azl_json_str(doc, "cluster.subscription", ""), "sub-1");
	assert_string_equal(azl_json_str(doc, "cluster.resourceGroup", ""), "rg1");
	assert_string_equal(azl_json_str(doc, "cluster.name", ""), "aks1");
	assert_string_equal(azl_json_str(doc, "pool", ""), "nodepool1");
	assert_int_equal(azl_json_int(doc, "pid", 0), getpid());
	assert_true(*azl_json_str(doc, "created", ""));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "steps")), 2);
	assert_string_equal(azl_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "steps"), 1),
					 "state", ""), "pending");
	assert_true(azl_journal_created(j) > 0);
	cJSON_Delete(doc);
	azl_journal_free(j);
	strbuf_release(&dir);
}

static void test_steps_handle_finish_on_disk(void **state)
{
	cJSON *handle = cJSON_Parse("{\"statusUrl\":\"https://management.azure.com/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operations/op1?api-version=2026-10-01\","
				    "\"resource\":\"/subscriptions/s/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1/agentPools/nodepool1\","
				    "\"eTag\":\"\\\"abc\\\"\"}");
	struct azl_journal *j, *ro;
	const cJSON *s0;
	cJSON *doc;

	(void)state;
	j = create(&target);
	/* a handle needs a running step */
	assert_int_equal(azl_journal_set_handle(j, handle), AZL_EINVALID);
	assert_int_equal(azl_journal_step_begin(j, 0), 0);
	doc = on_disk(j);
	assert_string_equal(azl_json_str(doc, "state", ""), "InProgress");
	s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "steps"), 0);
	assert_string_equal(azl_json_str(s0, "state", ""), "running");
	assert_true(*azl_json_str(s0, "started", ""));
	cJSON_Delete(doc);
	assert_int_equal(azl_journal_step_state(j, 0), AZL_STEP_RUNNING);
	assert_true(azl_journal_step_started(j, 0) > 0);
	assert_int_equal(azl_journal_step_ended(j, 0), 0);

	assert_int_equal(azl_journal_set_handle(j, handle), 0);
	doc = on_disk(j);
	s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "steps"), 0);
	assert_true(cJSON_Compare(cJSON_GetObjectItem(s0, "operation"), handle, 1));
	cJSON_Delete(doc);
	/* another process (a read-only load) sees the handle too */
	assert_int_equal(azl_journal_load(&ro, azl_journal_id(j), 0), 0);
	assert_true(cJSON_Compare(azl_journal_handle(ro), handle, 1));
	assert_int_equal(azl_journal_state(ro), AZL_OP_IN_PROGRESS); /* its lock is held */
	assert_int_equal(azl_journal_step_begin(ro, 1), AZL_EINVALID);  /* read-only */
	azl_journal_free(ro);

	assert_int_equal(azl_journal_step_end(j, 0, 0, NULL), 0);
	assert_null(azl_journal_handle(j));
	assert_int_equal(azl_journal_step_begin(j, 1), 0);
	assert_int_equal(azl_journal_step_end(j, 1, AZL_ESERVER, "ARM: the reimage failed (code X)"), 0);
	assert_int_equal(azl_journal_step_begin(j, 2), AZL_EINVALID); /* no such step */
	assert_int_equal(azl_journal_finish(j, AZL_OP_INTERRUPTED), AZL_EINVALID);
	assert_int_equal(azl_journal_finish(j, AZL_OP_FAILED), 0);
	doc = on_disk(j);
	assert_string_equal(azl_json_str(doc, "state", ""), "Failed");
	s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "steps"), 0);
	assert_string_equal(azl_json_str(s0, "state", ""), "done");
	assert_true(*azl_json_str(s0, "ended", ""));
	assert_null(cJSON_GetObjectItem(s0, "operation"));
	s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "steps"), 1);
	assert_string_equal(azl_json_str(s0, "state", ""), "failed");
	assert_string_equal(azl_json_str(s0, "error", ""), "ARM: the reimage failed (code X)");
	cJSON_Delete(doc);
	/* finished: the lock is free, a new operation on the pool may start */
	azl_journal_free(j);
	j = create(&target);
	azl_journal_free(j);
	cJSON_Delete(handle);
}

/* Steps of one phase run at once, each holding its own handle. */
static void test_two_running_steps_hold_a_handle_each(void **state)
{
	cJSON *h0 = cJSON_Parse("{\"statusUrl\":\"https://management.azure.com/op0\"}");
	cJSON *h1 = cJSON_Parse("{\"statusUrl\":\"https://management.azure.com/op1\"}");
	struct azl_journal *j, *ro;

	(void)state;
	j = create(&target);
	assert_int_equal(azl_journal_set_step_handle(j, 1, h1), AZL_EINVALID);   /* not running */
	assert_int_equal(azl_journal_step_begin(j, 0), 0);
	assert_int_equal(azl_journal_step_begin(j, 1), 0);
	assert_int_equal(azl_journal_set_step_handle(j, 1, h1), 0);
	assert_int_equal(azl_journal_set_step_handle(j, 0, h0), 0);
	assert_int_equal(azl_journal_load(&ro, azl_journal_id(j), 0), 0);
	assert_true(cJSON_Compare(azl_journal_step_handle(ro, 0), h0, 1));
	assert_true(cJSON_Compare(azl_journal_step_handle(ro, 1), h1, 1));
	azl_journal_free(ro);
	assert_int_equal(azl_journal_step_end(j, 0, 0, NULL), 0);
	assert_null(azl_journal_step_handle(j, 0));
	assert_true(cJSON_Compare(azl_journal_handle(j), h1, 1));    /* the running one's */
	assert_int_equal(azl_journal_set_step_handle(j, 1, NULL), 0);
	assert_null(azl_journal_step_handle(j, 1));
	assert_null(azl_journal_step_handle(j, 7));
	azl_journal_free(j);
	cJSON_Delete(h0);
	cJSON_Delete(h1);
}

/* A child process that runs an operation of kind on t, at its step 2,
 * until child_end(). */
struct child {
	pid_t pid;
	int ready[2], done[2];
	char id[64];
};

static void child_start(struct child *c, const char *kind, const struct azl_journal_target *t)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(pipe(c->ready), 0);
	assert_int_equal(pipe(c->done), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		struct azl_journal *mine;
		char x;

		alarm(60);  /* a parent whose assertion failed never says done */
		if (azl_journal_create(&mine, kind, t, steps, 2) || azl_journal_step_begin(mine, 1))
			_exit(1);
		if (write(c->ready[1], azl_journal_id(mine), strlen(azl_journal_id(mine))) < 0 ||
		    read(c->done[0], &x, 1) != 1)
			_exit(2);
		azl_journal_finish(mine, AZL_OP_SUCCEEDED);
		_exit(0);
	}
	assert_true(read(c->ready[0], c->id, sizeof(c->id) - 1) > 0);
}

static void child_end(struct child *c)
{
	int status;

	assert_int_equal(write(c->done[1], "x", 1), 1);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 2; i++) {
		close(c->ready[i]);
		close(c->done[i]);
	}
}

/* The error names the child's operation: its id, kind, step, pid. */
static void assert_names(const struct child *c, const char *kind)
{
	char text[96];

	assert_non_null(strstr(azl_error_message(), c->id));
	snprintf(text, sizeof(text), "(%s, step 2 of 2: wait for the reimage)", kind);
	assert_non_null(strstr(azl_error_message(), text));
	snprintf(text, sizeof(text), "(pid %ld on ", (long)c->pid);
	assert_non_null(strstr(azl_error_message(), text));
	assert_non_null(strstr(azl_error_message(), "has run since 20"));
	assert_null(strchr(azl_error_message(), '\n'));
}

/* A child runs an operation on the pool; meanwhile the parent is refused
 * with a line naming it, on any spelling of the pool, but not on another
 * pool. */
static void test_second_process_refused(void **state)
{
	struct azl_journal_target upper = { "p", "SUB-1", "RG1", "AKS1", "NodePool1" };
	struct azl_journal_target other = target;
	struct azl_journal *j = NULL;
	struct child c;

	(void)state;
	other.pool = "userpool";
	child_start(&c, "migrate", &target);
	assert_int_equal(azl_journal_create(&j, "upgrade", &target, steps, 2), AZL_EBUSY);
	assert_null(j);
	assert_non_null(strstr(azl_error_message(), "node pool nodepool1 of cluster aks1 is busy"));
	assert_names(&c, "migrate");
	/* asked without taking the lock: the same line; no lock file yet: free */
	assert_int_equal(azl_journal_probe(&other), 0);
	assert_int_equal(azl_journal_probe(&upper), AZL_EBUSY);
	assert_names(&c, "migrate");
	assert_int_equal(azl_journal_create(&j, "upgrade", &upper, steps, 2), AZL_EBUSY);
	/* resuming it while it runs is refused the same way */
	assert_int_equal(azl_journal_load(&j, c.id, 1), AZL_EBUSY);
	assert_int_equal(azl_journal_create(&j, "upgrade", &other, steps, 2), 0);
	azl_journal_free(j);

	child_end(&c);
	assert_int_equal(azl_journal_probe(&target), 0);
	assert_int_equal(azl_journal_load(&j, c.id, 0), 0);
	assert_int_equal(azl_journal_state(j), AZL_OP_SUCCEEDED);
	azl_journal_free(j);
}

/* An operation on the whole cluster keeps every pool's out, and one on a
 * pool keeps the whole cluster's out (not another pool's, nor another
 * cluster's), each refused naming the other. */
static void test_cluster_and_pool_operations_exclude_each_other(void **state)
{
	struct azl_journal_target whole = target, other = target, elsewhere = target;
	struct azl_journal *j = NULL, *k = NULL;
	struct child c;

	(void)state;
	whole.pool = AZL_JOURNAL_CLUSTER;
	whole.cluster = "AKS1";
	other.pool = "userpool";
	elsewhere.cluster = "aks2";
	child_start(&c, "upgrade-node-image", &whole);
	assert_int_equal(azl_journal_probe(&target), AZL_EBUSY);
	assert_names(&c, "upgrade-node-image");
	assert_non_null(strstr(azl_error_message(), "node pool nodepool1 of cluster aks1 is busy"));
	assert_non_null(strstr(azl_error_message(), ") on the whole cluster has run since"));
	assert_int_equal(azl_journal_create(&j, "migrate", &other, steps, 2), AZL_EBUSY);
	assert_names(&c, "upgrade-node-image");
	assert_int_equal(azl_journal_create(&j, "migrate", &elsewhere, steps, 2), 0);
	azl_journal_free(j);
	child_end(&c);

	child_start(&c, "migrate", &target);
	assert_int_equal(azl_journal_probe(&whole), AZL_EBUSY);
	assert_non_null(strstr(azl_error_message(), "cluster AKS1 is busy: operation"));
	assert_non_null(strstr(azl_error_message(), ") on node pool nodepool1 has run since"));
	assert_names(&c, "migrate");
	assert_int_equal(azl_journal_create(&j, "upgrade-kubernetes", &whole, steps, 2), AZL_EBUSY);
	assert_null(j);
	assert_names(&c, "migrate");
	/* pools' operations share the cluster */
	assert_int_equal(azl_journal_create(&j, "migrate", &other, steps, 2), 0);
	assert_int_equal(azl_journal_create(&k, "upgrade-kubernetes", &whole, steps, 2), AZL_EBUSY);
	azl_journal_free(j);
	child_end(&c);
	assert_int_equal(azl_journal_probe(&whole), 0);
	assert_int_equal(azl_journal_create(&k, "upgrade-kubernetes", &whole, steps, 2), 0);
	azl_journal_free(k);
}

/* The child dies in the middle of a step: its lock goes with it. The
 * operation reads as Interrupted, can be resumed, and the next operation on
 * the pool records the interruption in its file. */
static void test_dead_process_is_recognised(void **state)
{
	struct azl_journal *j, *next;
	int fds[2];
	char id[64] = "";
	pid_t pid;
	int status;
	cJSON *doc;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct azl_journal *mine;

		if (azl_journal_create(&mine, "migrate", &target, steps, 2) ||
		    azl_journal_step_begin(mine, 0) ||
		    write(fds[1], azl_journal_id(mine), strlen(azl_journal_id(mine))) < 0)
			_exit(1);
		_exit(0); /* no finish, no free: as if killed */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(read(fds[0], id, sizeof(id) - 1) > 0);

	assert_int_equal(azl_journal_load(&j, id, 0), 0);
	assert_int_equal(azl_journal_state(j), AZL_OP_INTERRUPTED);
	assert_int_equal(azl_journal_step_state(j, 0), AZL_STEP_RUNNING);
	azl_journal_free(j);

	/* resumed: the lock is ours, the file still says where it stopped */
	assert_int_equal(azl_journal_load(&j, id, 1), 0);
	assert_int_equal(azl_journal_state(j), AZL_OP_IN_PROGRESS);
	assert_int_equal(azl_journal_step_end(j, 0, 0, NULL), 0);
	azl_journal_free(j);  /* dropped again, unfinished */

	next = create(&target);
	assert_string_not_equal(azl_journal_id(next), id);
	assert_int_equal(azl_journal_load(&j, id, 0), 0);
	doc = on_disk(j);
	assert_string_equal(azl_json_str(doc, "state", ""), "Interrupted");
	cJSON_Delete(doc);
	azl_journal_free(j);
	azl_journal_free(next);
	close(fds[0]);
	close(fds[1]);
}

static void expect_load_error(const char *id, int code, const char *path, const char *what)
{
	struct azl_journal *j = NULL;

	assert_int_equal(azl_journal_load(&j, id, 0), code);
	assert_null(j);
	if (path)
		assert_non_null(strstr(azl_error_message(), path));
	if (!strstr(azl_error_message(), what))
		fail_msg("'%s' does not say '%s'", azl_error_message(), what);
	assert_null(strchr(azl_error_message(), '\n'));
}

static void rewrite(const char *path, const char *text)
{
	char *dir = strdup(path);

	*strrchr(dir, '/') = '\0';
	free(tu_write(dir, strrchr(path, '/') + 1, text, 0600));
	free(dir);
}

static void test_unusable_files(void **state)
{
	struct azl_journal *j = create(&target), *k;
	struct strbuf good = STRBUF_INIT, errors = STRBUF_INIT, text = STRBUF_INIT;
	struct azl_journal_list list;
	char *id = strdup(azl_journal_id(j)), *path = strdup(azl_journal_path(j));

	(void)state;
	assert_int_equal(azl_journal_finish(j, AZL_OP_SUCCEEDED), 0);
	azl_journal_free(j);
	assert_int_equal(strbuf_read_file(&good, path), 0);

	strbuf_add(&text, good.buf, good.len / 2);
	rewrite(path, text.buf);
	expect_load_error(id, AZL_EINVALID, path, "is truncated or corrupt");
	rewrite(path, "");
	expect_load_error(id, AZL_EINVALID, path, "truncated or corrupt");
	rewrite(path, "{\"version\":2,\"id\":\"x\"}");
	expect_load_error(id, AZL_EINVALID, path, "newer kubectl-azlinux");
	rewrite(path, "{\"version\":1,\"id\":\"x\"}");
	expect_load_error(id, AZL_EINVALID, path, "field kind is missing");
	strbuf_reset(&text);
	strbuf_addbuf(&text, &good);
	memcpy(strstr(text.buf, "Succeeded"), "Succeedxx", 9);
	rewrite(path, text.buf);
	expect_load_error(id, AZL_EINVALID, path, "field state is not one of");
	strbuf_reset(&text);
	strbuf_addbuf(&text, &good);
	memcpy(strstr(text.buf, "\"pending\""), "\"pendinx\"", 9);
	rewrite(path, text.buf);
	expect_load_error(id, AZL_EINVALID, path, "field steps[0]");

	/* one bad file does not hide the others from a listing */
	k = create(&target);
	assert_int_equal(azl_journal_list(&list, &errors), 0);
	assert_int_equal(list.nr, 1);
	assert_string_equal(azl_journal_id(list.items[0]), azl_journal_id(k));
	assert_non_null(strstr(errors.buf, path));
	azl_journal_list_release(&list);
	azl_journal_free(k);

	assert_int_equal(unlink(path), 0);
	expect_load_error(id, AZL_ENOTFOUND, NULL, id);
	expect_load_error("../../etc/passwd", AZL_EINVALID, NULL, "is not one");
	strbuf_release(&good);
	strbuf_release(&errors);
	strbuf_release(&text);
	free(id);
	free(path);
}

/* A handle that holds or names a secret is refused and never reaches the
 * file; an ordinary one does. */
static void test_no_secret_in_the_journal(void **state)
{
	static const char *const bad[] = {
		"{\"statusUrl\":\"https://x/op\",\"accessToken\":\"opaque-value-1\"}",
		"{\"headers\":{\"Authorization\":\"Bearer opaque-value-2\"}}",
		"{\"nested\":[{\"client_secret\":\"opaque-value-3\"}]}",
		"{\"value\":\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.opaque-value-4\"}",
		"{\"statusUrl\":\"https://x/op?sig=opaque-value-5&api-version=1\"}",
	};
	struct azl_journal *j = create(&target);
	struct strbuf text = STRBUF_INIT;

	(void)state;
	assert_int_equal(azl_journal_step_begin(j, 0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *h = cJSON_Parse(bad[i]);

		assert_non_null(h);
		assert_int_equal(azl_journal_set_handle(j, h), AZL_EINVALID);
		assert_non_null(strstr(azl_error_message(), "holds a secret"));
		assert_null(strstr(azl_error_message(), "opaque-value"));
		cJSON_Delete(h);
	}
	assert_null(azl_journal_handle(j));
	assert_int_equal(azl_journal_step_end(j, 0, 0, NULL), 0);
	assert_int_equal(strbuf_read_file(&text, azl_journal_path(j)), 0);
	assert_null(strstr(text.buf, "opaque-value"));
	assert_null(strstr(text.buf, "Bearer"));
	strbuf_release(&text);
	azl_journal_free(j);
}

static void test_list_oldest_first(void **state)
{
	struct azl_journal *a, *b;
	struct azl_journal_target t2 = target;
	struct azl_journal_list list;

	(void)state;
	assert_int_equal(azl_journal_list(&list, NULL), 0); /* no directory yet */
	assert_int_equal(list.nr, 0);
	a = create(&target);
	t2.pool = "other";
	b = create(&t2);
	assert_int_equal(azl_journal_list(&list, NULL), 0);
	assert_int_equal(list.nr, 2);
	assert_true(strcmp(azl_journal_id(list.items[0]), azl_journal_id(list.items[1])) < 0);
	assert_string_equal(azl_journal_target_field(list.items[0], "pool"),
			    strcmp(azl_journal_id(a), azl_journal_id(b)) < 0 ? "nodepool1" : "other");
	assert_string_equal(azl_journal_kind(list.items[1]), "migrate");
	assert_string_equal(azl_journal_context(list.items[1]), "prod");
	assert_int_equal(azl_journal_nr_steps(list.items[1]), 2);
	assert_string_equal(azl_journal_step_name(list.items[1], 1), "wait for the reimage");
	azl_journal_list_release(&list);
	azl_journal_free(a);
	azl_journal_free(b);
}

static void test_bad_input(void **state)
{
	struct azl_journal_target t = target;
	struct azl_journal *j;

	(void)state;
	t.pool = "";
	assert_int_equal(azl_journal_create(&j, "migrate", &t, steps, 2), AZL_EINVALID);
	assert_int_equal(azl_journal_create(&j, "migrate", &target, steps, 0), AZL_EINVALID);
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_int_equal(azl_journal_create(&j, "migrate", &target, steps, 2), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "XDG_STATE_HOME"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_writes_the_plan, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_steps_handle_finish_on_disk, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_two_running_steps_hold_a_handle_each, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_second_process_refused, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_cluster_and_pool_operations_exclude_each_other,
						tu_state_setup, tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_dead_process_is_recognised, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_unusable_files, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_no_secret_in_the_journal, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_list_oldest_first, tu_state_setup,
						tu_state_teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, tu_state_setup,
						tu_state_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
