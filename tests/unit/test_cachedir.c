/* Unit tests for core/cachedir: where the per-user cache directory is, how
 * it is created and kept private, and atomic replacement of a file in it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachedir.h"
#include "error.h"
#include "testutil.h"

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_path_xdg_home_and_neither(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(azl_cachedir_path(&sb), 0);
	assert_string_equal(sb.buf, "/x/cache/kubectl-azlinux");

	/* a relative XDG_CACHE_HOME is invalid: HOME's default is used */
	strbuf_reset(&sb);
	setenv("XDG_CACHE_HOME", "rel/cache", 1);
	assert_int_equal(azl_cachedir_path(&sb), 0);
	assert_string_equal(sb.buf, "/home/u/.cache/kubectl-azlinux");

	strbuf_reset(&sb);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(azl_cachedir_path(&sb), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "XDG_CACHE_HOME"));
	strbuf_release(&sb);
}

static void test_ensure_creates_and_narrows(void **state)
{
	char *root = tu_mkdtemp();
	char *parent = tu_path(root, "cache");
	char *dir = tu_path(parent, "kubectl-azlinux");

	(void)state;
	/* the parent is created too, both private */
	assert_int_equal(azl_cachedir_ensure(dir), 0);
	assert_int_equal(mode_of(parent), 0700);
	assert_int_equal(mode_of(dir), 0700);

	/* a widened mode is narrowed again */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(azl_cachedir_ensure(dir), 0);
	assert_int_equal(mode_of(dir), 0700);

	/* a symlink in place of the directory is refused, not followed */
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(symlink(root, dir), 0);
	assert_int_equal(azl_cachedir_ensure(dir), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "is not a directory"));
	assert_non_null(strstr(azl_error_message(), dir));
	unlink(dir);
	rmdir(parent);
	rmdir(root);
	free(dir);
	free(parent);
	free(root);
}

static void test_check_private_other_owner(void **state)
{
	struct stat st = { 0 };

	(void)state;
	st.st_uid = getuid() + 1;
	st.st_mode = S_IFREG | 0600;
	assert_int_equal(azl_cachedir_check_private("/x/tokens.json", &st, 0600, -1),
			 AZL_EFORBIDDEN);
	assert_non_null(strstr(azl_error_message(), "/x/tokens.json belongs to another user"));
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
	assert_int_equal(azl_cachedir_replace_file(path, "same", 4), 0);
	first = inode_of(path);
	assert_int_equal(azl_cachedir_replace_file(path, "same", 4), 0);
	assert_true(inode_of(path) == first);
	assert_int_equal(entries(root), 1);

	assert_int_equal(azl_cachedir_replace_file(path, "sane", 4), 0);
	assert_true(inode_of(path) != first);
	assert_int_equal(strbuf_read_file(&got, path), 0);
	assert_string_equal(got.buf, "sane");

	first = inode_of(path);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(azl_cachedir_replace_file(path, "sane", 4), 0);
	assert_true(inode_of(path) != first);
	assert_int_equal(mode_of(path), 0600);

	first = inode_of(path);
	assert_int_equal(azl_cachedir_replace_file(path, "sane!", 5), 0);
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
	assert_int_equal(azl_cachedir_replace_file(path, "new", 3), 0);
	assert_int_equal(strbuf_read_file(&got, path), 0);
	assert_string_equal(got.buf, "new");
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(entries(root), 1);  /* no temporary left beside it */

	/* a directory that does not exist: an error naming the file */
	assert_int_equal(azl_cachedir_replace_file(missing, "x", 1), AZL_ERROR);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_xdg_home_and_neither),
		cmocka_unit_test(test_ensure_creates_and_narrows),
		cmocka_unit_test(test_check_private_other_owner),
		cmocka_unit_test(test_replace_file),
		cmocka_unit_test(test_replace_file_unchanged_is_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
