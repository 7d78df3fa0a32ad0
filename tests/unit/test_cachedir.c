/* Unit tests for core/cachedir: where the per-user cache directory is, how
 * it is created and kept private (replacing its files is test_statefile's). */
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

/* XDG_STATE_HOME, else ~/.local/state; its ancestors are created. */
static void test_state_path_and_deep_ensure(void **state)
{
	char *root = tu_mkdtemp();
	struct strbuf sb = STRBUF_INIT, local = STRBUF_INIT;

	(void)state;
	setenv("HOME", root, 1);
	unsetenv("XDG_STATE_HOME");
	assert_int_equal(azl_cachedir_state_path(&sb), 0);
	strbuf_addf(&local, "%s/.local", root);
	assert_int_equal(strncmp(sb.buf, local.buf, local.len), 0);
	assert_string_equal(sb.buf + local.len, "/state/kubectl-azlinux");
	assert_int_equal(azl_cachedir_ensure(sb.buf), 0);
	assert_int_equal(mode_of(local.buf), 0700);
	assert_int_equal(mode_of(sb.buf), 0700);
	strbuf_reset(&sb);
	setenv("XDG_STATE_HOME", "/x/state", 1);
	assert_int_equal(azl_cachedir_state_path(&sb), 0);
	assert_string_equal(sb.buf, "/x/state/kubectl-azlinux");
	unsetenv("XDG_STATE_HOME");
	tu_rmrf(root);
	strbuf_release(&sb);
	strbuf_release(&local);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_xdg_home_and_neither),
		cmocka_unit_test(test_ensure_creates_and_narrows),
		cmocka_unit_test(test_check_private_other_owner),
		cmocka_unit_test(test_state_path_and_deep_ensure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
