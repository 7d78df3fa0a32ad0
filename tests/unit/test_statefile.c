/* Unit tests for core/statefile: the versioned JSON file under a lock,
 * replaced atomically, private, and every way it can be unusable named
 * with its file and field; the bare lock between two processes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "json.h"
#include "statefile.h"
#include "testutil.h"

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_ino;
}

/* The same bytes in a private file are left in place; any difference in
 * content or mode replaces the file. */
static void test_replace_file_unchanged_is_left_alone(void **state)
{
	char *root = tu_mkdtemp();
	char *path = tu_path(root, "f");
	struct strbuf got = STRBUF_INIT;
	ino_t first;

	(void)state;
	assert_int_equal(azl_statefile_replace(path, "same", 4, 0), 0);
	first = inode_of(path);
	assert_int_equal(azl_statefile_replace(path, "same", 4, 0), 0);
	assert_true(inode_of(path) == first);
	assert_int_equal(entries(root), 1);

	assert_int_equal(azl_statefile_replace(path, "sane", 4, 0), 0);
	assert_true(inode_of(path) != first);
	assert_int_equal(strbuf_read_file(&got, path), 0);
	assert_string_equal(got.buf, "sane");

	first = inode_of(path);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(azl_statefile_replace(path, "sane", 4, 0), 0);
	assert_true(inode_of(path) != first);
	assert_int_equal(mode_of(path), 0600);

	first = inode_of(path);
	assert_int_equal(azl_statefile_replace(path, "sane!", 5, 0), 0);
	assert_true(inode_of(path) != first);
	assert_int_equal(entries(root), 1);

	unlink(path);
	rmdir(root);
	strbuf_release(&got);
	free(path);
	free(root);
}

static void test_replace_file(void **state)
{
	char *root = tu_mkdtemp();
	char *path = tu_write(root, "f", "old content", 0644);
	struct strbuf got = STRBUF_INIT;
	char *missing = tu_path(root, "no/such/f");

	(void)state;
	assert_int_equal(azl_statefile_replace(path, "new", 3, 0), 0);
	assert_int_equal(strbuf_read_file(&got, path), 0);
	assert_string_equal(got.buf, "new");
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(entries(root), 1);  /* no temporary left beside it */

	/* a directory that does not exist: an error naming the file */
	assert_int_equal(azl_statefile_replace(missing, "x", 1, 0), AZL_ERROR);
	assert_non_null(strstr(azl_error_message(), "cannot create"));
	assert_non_null(strstr(azl_error_message(), missing));
	assert_int_equal(entries(root), 1);

	unlink(path);
	rmdir(root);
	strbuf_release(&got);
	free(missing);
	free(path);
	free(root);
}

struct scratch {
	char *root;
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	s->root = tu_mkdtemp();
	s->dir = tu_path(s->root, "state/kubectl-azlinux");
	s->path = tu_path(s->dir, "f.json");
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scratch *s = *state;

	tu_rmrf(s->root);
	free(s->root);
	free(s->dir);
	free(s->path);
	free(s);
	return 0;
}

static void save_text(const char *path, long version, const char *text)
{
	struct azl_statefile *sf;
	cJSON *doc;

	assert_int_equal(azl_statefile_open(&sf, path, version, AZL_STATEFILE_WRITE), 0);
	doc = cJSON_Parse(text);
	assert_non_null(doc);
	assert_int_equal(azl_statefile_save(sf, doc), 0);
	cJSON_Delete(doc);
	azl_statefile_close(sf);
}

/* Saved with its version, 0600 in a 0700 directory (created), loaded back. */
static void test_round_trip_and_modes(void **state)
{
	struct scratch *s = *state;
	struct azl_statefile *sf;
	cJSON *doc;

	save_text(s->path, 3, "{\"a\":\"b\"}");
	assert_int_equal(mode_of(s->dir), 0700);
	assert_int_equal(mode_of(s->path), 0600);
	assert_int_equal(azl_statefile_open(&sf, s->path, 3, 0), 0);
	assert_string_equal(azl_statefile_path(sf), s->path);
	assert_int_equal(azl_statefile_load(sf, &doc), 0);
	assert_int_equal(cJSON_GetObjectItem(doc, "version")->valueint, 3);
	assert_string_equal(cJSON_GetObjectItem(doc, "a")->valuestring, "b");
	cJSON_Delete(doc);
	/* a reader cannot write */
	doc = azl_statefile_doc(sf);
	assert_int_equal(azl_statefile_save(sf, doc), AZL_EINVALID);
	cJSON_Delete(doc);
	azl_statefile_close(sf);

	/* a widened mode is narrowed on the next read */
	assert_int_equal(chmod(s->path, 0644), 0);
	assert_int_equal(azl_statefile_open(&sf, s->path, 3, 0), 0);
	assert_int_equal(azl_statefile_load(sf, &doc), 0);
	assert_int_equal(mode_of(s->path), 0600);
	cJSON_Delete(doc);
	azl_statefile_close(sf);
}

/* Absent: no directory at all is no error for a reader, only absence. */
static void test_absent(void **state)
{
	struct scratch *s = *state;
	struct azl_statefile *sf;
	cJSON *doc;

	assert_int_equal(azl_statefile_open(&sf, s->path, 1, 0), 0);
	assert_int_equal(azl_statefile_load(sf, &doc), AZL_ENOTFOUND);
	assert_null(doc);
	assert_int_equal(azl_statefile_load_array(sf, "items", &doc), 0);
	{
		char *text = azl_json_print(doc, 0);

		assert_string_equal(text, "{\"version\":1,\"items\":[]}");
		free(text);
	}
	cJSON_Delete(doc);
	azl_statefile_close(sf);
	assert_int_equal(access(s->dir, F_OK), -1); /* the reader created nothing */
}

static void expect_invalid(const char *path, long version, const char *what)
{
	struct azl_statefile *sf;
	cJSON *doc;

	assert_int_equal(azl_statefile_open(&sf, path, version, 0), 0);
	assert_int_equal(azl_statefile_load(sf, &doc), AZL_EINVALID);
	assert_null(doc);
	assert_non_null(strstr(azl_error_message(), path));
	if (!strstr(azl_error_message(), what))
		fail_msg("'%s' does not say '%s'", azl_error_message(), what);
	assert_null(strchr(azl_error_message(), '\n'));
	azl_statefile_close(sf);
}

static void put_raw(const char *path, const char *text)
{
	char *dir = strdup(path);

	*strrchr(dir, '/') = '\0';
	free(tu_write(dir, strrchr(path, '/') + 1, text, 0600));
	free(dir);
}

/* Every unusable content is AZL_EINVALID with one line naming the file
 * (and the field) and what to do. */
static void test_unusable_content(void **state)
{
	struct scratch *s = *state;

	save_text(s->path, 2, "{\"items\":[1,2,3]}");
	{
		/* truncated: the first half of a good file */
		struct strbuf text = STRBUF_INIT;

		assert_int_equal(strbuf_read_file(&text, s->path), 0);
		strbuf_setlen(&text, text.len / 2);
		put_raw(s->path, text.buf);
		strbuf_release(&text);
	}
	expect_invalid(s->path, 2, "truncated or corrupt");
	put_raw(s->path, "");
	expect_invalid(s->path, 2, "truncated or corrupt");
	put_raw(s->path, "\x01garbage");
	expect_invalid(s->path, 2, "remove the file");
	put_raw(s->path, "[1,2]");
	expect_invalid(s->path, 2, "not a JSON object");
	put_raw(s->path, "{\"items\":[]}");
	expect_invalid(s->path, 2, "field version is missing");
	put_raw(s->path, "{\"version\":\"2\"}");
	expect_invalid(s->path, 2, "field version is missing or not a number");
	put_raw(s->path, "{\"version\":3}");
	expect_invalid(s->path, 2, "newer kubectl-azlinux (this one reads 2); upgrade kubectl-azlinux");
	put_raw(s->path, "{\"version\":1}");
	expect_invalid(s->path, 2, "older format");
}

/* For a cache, unusable content is empty; a wrong-typed array too. */
static void test_load_array_ignores_bad_content(void **state)
{
	struct scratch *s = *state;
	static const char *const bad[] = {
		"not json", "{\"version\":2,\"entries\":{}}", "{\"version\":\"2\",\"entries\":[]}",
		"[1,2]", "{\"version\":1,\"entries\":[{\"k\":1}]}", "{\"version\":9,\"entries\":[]}",
	};
	struct azl_statefile *sf;
	cJSON *doc;
	char *text;

	save_text(s->path, 2, "{}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_raw(s->path, bad[i]);
		assert_int_equal(azl_statefile_open(&sf, s->path, 2, 0), 0);
		assert_int_equal(azl_statefile_load_array(sf, "entries", &doc), 0);
		text = azl_json_print(doc, 0);
		assert_string_equal(text, "{\"version\":2,\"entries\":[]}");
		free(text);
		cJSON_Delete(doc);
		azl_statefile_close(sf);
	}
	put_raw(s->path, "{\"version\":2,\"entries\":[{\"k\":1}]}");
	assert_int_equal(azl_statefile_open(&sf, s->path, 2, 0), 0);
	assert_int_equal(azl_statefile_load_array(sf, "entries", &doc), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "entries")), 1);
	cJSON_Delete(doc);
	azl_statefile_close(sf);
}

/* A symlink or a directory in the file's place is refused, not followed;
 * so is one in the lock's place. */
static void test_unsafe_files_refused(void **state)
{
	struct scratch *s = *state;
	struct azl_statefile *sf;
	char *target = tu_path(s->root, "elsewhere.json");
	char *lock = tu_path(s->dir, "f.json.lock");
	cJSON *doc;

	save_text(s->path, 1, "{}");
	free(tu_write(s->root, "elsewhere.json", "{\"version\":1}", 0600));
	assert_int_equal(unlink(s->path), 0);
	assert_int_equal(symlink(target, s->path), 0);
	assert_int_equal(azl_statefile_open(&sf, s->path, 1, 0), 0);
	assert_int_equal(azl_statefile_load(sf, &doc), AZL_EFORBIDDEN);
	assert_non_null(strstr(azl_error_message(), s->path));
	assert_int_equal(azl_statefile_load_array(sf, "x", &doc), AZL_EFORBIDDEN);
	azl_statefile_close(sf);
	assert_int_equal(unlink(s->path), 0);
	assert_int_equal(mkdir(s->path, 0700), 0);
	assert_int_equal(azl_statefile_open(&sf, s->path, 1, 0), 0);
	assert_int_equal(azl_statefile_load(sf, &doc), AZL_EFORBIDDEN);
	assert_non_null(strstr(azl_error_message(), "not a regular file"));
	azl_statefile_close(sf);
	assert_int_equal(rmdir(s->path), 0);

	assert_int_equal(unlink(lock), 0);
	assert_int_equal(symlink(target, lock), 0);
	assert_int_equal(azl_statefile_open(&sf, s->path, 1, AZL_STATEFILE_WRITE), AZL_EFORBIDDEN);
	assert_null(sf);
	assert_non_null(strstr(azl_error_message(), lock));
	free(target);
	free(lock);
}

/* Someone else's file is not read (root can make one). */
static void test_other_owner_refused(void **state)
{
	struct scratch *s = *state;
	struct azl_statefile *sf;
	cJSON *doc;

	if (geteuid() != 0)
		skip();
	save_text(s->path, 1, "{}");
	assert_int_equal(chown(s->path, 65534, 65534), 0);
	assert_int_equal(azl_statefile_open(&sf, s->path, 1, 0), 0);
	assert_int_equal(azl_statefile_load(sf, &doc), AZL_EFORBIDDEN);
	assert_non_null(strstr(azl_error_message(), s->path));
	assert_non_null(strstr(azl_error_message(), "belongs to another user; remove it"));
	azl_statefile_close(sf);
}

/* Saved durably and removed. */
static void test_durable_save_and_remove(void **state)
{
	struct scratch *s = *state;
	struct azl_statefile *sf;
	cJSON *doc;

	assert_int_equal(azl_statefile_open(&sf, s->path, 1,
					    AZL_STATEFILE_WRITE | AZL_STATEFILE_DURABLE), 0);
	doc = azl_statefile_doc(sf);
	cJSON_AddStringToObject(doc, "k", "v");
	assert_int_equal(azl_statefile_save(sf, doc), 0);
	cJSON_Delete(doc);
	assert_int_equal(azl_statefile_load(sf, &doc), 0);
	assert_string_equal(cJSON_GetObjectItem(doc, "k")->valuestring, "v");
	cJSON_Delete(doc);
	assert_int_equal(azl_statefile_remove(sf), 0);
	assert_int_equal(azl_statefile_load(sf, &doc), AZL_ENOTFOUND);
	assert_int_equal(azl_statefile_remove(sf), 0); /* already gone: fine */
	azl_statefile_close(sf);
}

/* Another process holding the file's lock: a writer with NOWAIT is
 * refused with AZL_EBUSY, a reader too; once it exits, both succeed. */
static void test_lock_between_processes(void **state)
{
	struct scratch *s = *state;
	struct azl_statefile *sf;
	int ready[2], done[2];
	char c;
	pid_t pid;

	save_text(s->path, 1, "{}");
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(done), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct azl_statefile *held;

		if (azl_statefile_open(&held, s->path, 1, AZL_STATEFILE_WRITE))
			_exit(1);
		if (write(ready[1], "x", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(azl_statefile_open(&sf, s->path, 1,
					    AZL_STATEFILE_WRITE | AZL_STATEFILE_NOWAIT), AZL_EBUSY);
	assert_null(sf);
	assert_int_equal(azl_statefile_open(&sf, s->path, 1, AZL_STATEFILE_NOWAIT), AZL_EBUSY);
	assert_int_equal(write(done[1], "x", 1), 1);
	{
		int status;

		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* the lock died with its process */
	assert_int_equal(azl_statefile_open(&sf, s->path, 1,
					    AZL_STATEFILE_WRITE | AZL_STATEFILE_NOWAIT), 0);
	azl_statefile_close(sf);
	close(ready[0]);
	close(ready[1]);
	close(done[0]);
	close(done[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_file),
		cmocka_unit_test(test_replace_file_unchanged_is_left_alone),
		cmocka_unit_test_setup_teardown(test_round_trip_and_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_array_ignores_bad_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_owner_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_save_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_between_processes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
