/* The token cache's file and none backends, the entry format, the
 * 5-minute margin, permissions re-checked on every open, and degradation
 * when the keyring cannot be reached. (The keyring itself is exercised end
 * to end against a real Secret Service in tests/e2e/test_keyring.py.) */
#define _XOPEN_SOURCE 700 /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "strbuf.h"
#include "tokencache.h"

static char root[] = "/tmp/azl-tokencache-XXXXXX";
static struct strbuf dir = STRBUF_INIT, file = STRBUF_INIT;

static int setup(void **state)
{
	static int n;
	struct strbuf cache = STRBUF_INIT;

	(void)state;
	strbuf_reset(&cache);
	strbuf_addf(&cache, "%s/cache%d", root, n++);
	setenv("XDG_CACHE_HOME", cache.buf, 1);
	unsetenv("AZLINUX_TOKEN_CACHE");
	strbuf_reset(&dir);
	strbuf_addf(&dir, "%s/kubectl-azlinux", cache.buf);
	strbuf_reset(&file);
	strbuf_addf(&file, "%s/tokens.json", dir.buf);
	strbuf_release(&cache);
	return 0;
}

static const struct azl_token_key key_a = {
	"AzureCloud", "tenant-a", "client-a", "access_token", "https://management.azure.com/.default"
};
static const struct azl_token_key key_b = {
	"AzureCloud", "tenant-b", "client-b", "access_token", "https://management.azure.com/.default"
};

static void put(struct azl_tokencache *c, const struct azl_token_key *k, const char *v, time_t exp)
{
	struct azl_token_entry e = AZL_TOKEN_ENTRY_INIT;

	strbuf_addstr(&e.value, v);
	e.expires_on = exp;
	assert_int_equal(azl_tokencache_put(c, k, &e), 0);
	azl_token_entry_release(&e);
}

static void expect(struct azl_tokencache *c, const struct azl_token_key *k, const char *v,
		   time_t exp)
{
	struct azl_token_entry e = AZL_TOKEN_ENTRY_INIT;

	assert_int_equal(azl_tokencache_get(c, k, &e), 0);
	assert_string_equal(e.value.buf, v);
	assert_int_equal(e.expires_on, exp);
	azl_token_entry_release(&e);
}

static void expect_absent(struct azl_tokencache *c, const struct azl_token_key *k)
{
	struct azl_token_entry e = AZL_TOKEN_ENTRY_INIT;

	assert_int_equal(azl_tokencache_get(c, k, &e), AZL_ENOTFOUND);
	azl_token_entry_release(&e);
}

static struct azl_tokencache *open_file_cache(void)
{
	struct azl_tokencache *c = NULL;
	struct strbuf warning = STRBUF_INIT;

	assert_int_equal(azl_tokencache_open(&c, "file", &warning), 0);
	assert_string_equal(warning.buf, "");
	assert_string_equal(azl_tokencache_backend(c), "file");
	strbuf_release(&warning);
	return c;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_fresh_margin(void **state)
{
	(void)state;
	assert_true(azl_token_is_fresh(1000 + 301, 1000));
	assert_false(azl_token_is_fresh(1000 + 300, 1000));
	assert_false(azl_token_is_fresh(1000 + 10, 1000));
	assert_false(azl_token_is_fresh(900, 1000));
	assert_true(azl_token_is_fresh(0, 1000)); /* never expires */
}

static void test_modes(void **state)
{
	struct azl_tokencache *c = NULL;

	(void)state;
	assert_int_equal(azl_tokencache_open(&c, "disk", NULL), AZL_EINVALID);
	assert_null(c);
	assert_non_null(strstr(azl_error_message(), "unknown token cache 'disk'"));
	setenv("AZLINUX_TOKEN_CACHE", "bogus", 1);
	assert_int_equal(azl_tokencache_open(&c, NULL, NULL), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "AZLINUX_TOKEN_CACHE"));
	setenv("AZLINUX_TOKEN_CACHE", "none", 1);
	assert_int_equal(azl_tokencache_open(&c, NULL, NULL), 0);
	assert_string_equal(azl_tokencache_backend(c), "none");
	put(c, &key_a, "t", 5000);
	expect_absent(c, &key_a);
	assert_int_equal(azl_tokencache_lock(c), 0);
	azl_tokencache_unlock(c);
	azl_tokencache_free(c);
	assert_int_equal(access(dir.buf, F_OK), -1); /* none writes nothing */
	unsetenv("AZLINUX_TOKEN_CACHE");
}

static void test_file_roundtrip(void **state)
{
	struct azl_tokencache *c;
	const struct azl_token_key any_tenant = { "AzureCloud", NULL, NULL, "access_token", NULL };

	(void)state;
	c = open_file_cache();
	expect_absent(c, &key_a);
	put(c, &key_a, "token-a1", 5000);
	put(c, &key_b, "token-b", 6000);
	expect(c, &key_a, "token-a1", 5000);
	put(c, &key_a, "token-a2", 7000);   /* replaces */
	expect(c, &key_a, "token-a2", 7000);
	expect(c, &key_b, "token-b", 6000);
	expect(c, &any_tenant, "token-a2", 7000); /* the most recent match */
	azl_tokencache_free(c);
	/* another process (a new open) sees the same */
	c = open_file_cache();
	expect(c, &key_b, "token-b", 6000);
	azl_tokencache_free(c);
	assert_int_equal(mode_of(dir.buf), 0700);
	assert_int_equal(mode_of(file.buf), 0600);
}

static void test_file_remove(void **state)
{
	const struct azl_token_key tenant_a = { NULL, "tenant-a", NULL, NULL, NULL };
	const struct azl_token_key everything = { NULL, NULL, NULL, NULL, NULL };
	struct azl_token_key rt = key_a;
	struct azl_tokencache *c;
	int removed = -1;

	(void)state;
	rt.kind = "refresh_token";
	rt.scope = "";
	c = open_file_cache();
	put(c, &key_a, "a", 5000);
	put(c, &rt, "rt", 0);
	put(c, &key_b, "b", 5000);
	assert_int_equal(azl_tokencache_remove(c, &tenant_a, &removed), 0);
	assert_int_equal(removed, 2);
	expect_absent(c, &key_a);
	expect_absent(c, &rt);
	expect(c, &key_b, "b", 5000);
	assert_int_equal(azl_tokencache_remove(c, &everything, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(azl_tokencache_remove(c, &everything, &removed), 0);
	assert_int_equal(removed, 0);
	azl_tokencache_free(c);
}

static void test_permissions_rechecked(void **state)
{
	struct azl_tokencache *c;

	(void)state;
	c = open_file_cache();
	put(c, &key_a, "a", 5000);
	assert_int_equal(chmod(dir.buf, 0755), 0);
	assert_int_equal(chmod(file.buf, 0644), 0);
	/* the same open cache: every access checks again */
	expect(c, &key_a, "a", 5000);
	assert_int_equal(mode_of(dir.buf), 0700);
	assert_int_equal(mode_of(file.buf), 0600);
	azl_tokencache_free(c);
}

static void test_symlink_refused(void **state)
{
	struct strbuf target = STRBUF_INIT;
	struct azl_tokencache *c;
	struct azl_token_entry e = AZL_TOKEN_ENTRY_INIT;

	(void)state;
	c = open_file_cache();
	strbuf_addf(&target, "%s.target", file.buf);
	write_file(target.buf, "{\"version\":1,\"entries\":[]}");
	assert_int_equal(symlink(target.buf, file.buf), 0);
	strbuf_addstr(&e.value, "x");
	assert_true(azl_tokencache_put(c, &key_a, &e) < 0);
	assert_non_null(strstr(azl_error_message(), "tokens.json"));
	assert_true(azl_tokencache_get(c, &key_a, &e) < 0);
	azl_token_entry_release(&e);
	azl_tokencache_free(c);
	unlink(file.buf);
	unlink(target.buf);
	strbuf_release(&target);
}

static void test_corrupt_entries_ignored(void **state)
{
	static const char *const bad[] = {
		"not json at all",
		"{\"version\":2,\"entries\":[]}",
		"{\"version\":1,\"entries\":[{\"cloud\":\"AzureCloud\",\"tenant\":\"tenant-a\","
		"\"client_id\":\"client-a\",\"kind\":\"access_token\","
		"\"scope\":\"https://management.azure.com/.default\","
		"\"payload\":{\"version\":3,\"value\":\"x\",\"expires_on\":1}}]}",
		"{\"version\":1,\"entries\":[{\"cloud\":\"AzureCloud\",\"tenant\":\"tenant-a\","
		"\"client_id\":\"client-a\",\"kind\":\"access_token\","
		"\"scope\":\"https://management.azure.com/.default\",\"payload\":\"junk\"}]}",
		/* an expiry no time_t holds: casting it was undefined (issue 17) */
		"{\"version\":1,\"entries\":[{\"cloud\":\"AzureCloud\",\"tenant\":\"tenant-a\","
		"\"client_id\":\"client-a\",\"kind\":\"access_token\","
		"\"scope\":\"https://management.azure.com/.default\","
		"\"payload\":{\"version\":1,\"value\":\"x\",\"expires_on\":3E59}}]}",
	};
	struct azl_tokencache *c;
	size_t i;

	(void)state;
	c = open_file_cache();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(file.buf, bad[i]);
		expect_absent(c, &key_a);
		put(c, &key_a, "fresh", 5000);   /* and the file is usable again */
		expect(c, &key_a, "fresh", 5000);
	}
	azl_tokencache_free(c);
}

static void test_lock_excludes_other_processes(void **state)
{
	struct strbuf lock = STRBUF_INIT;
	struct azl_tokencache *c;
	pid_t pid;
	int status = 0;

	(void)state;
	c = open_file_cache();
	assert_int_equal(azl_tokencache_lock(c), 0);
	assert_int_equal(azl_tokencache_lock(c), 0); /* already held: no deadlock */
	strbuf_addf(&lock, "%s/lock", dir.buf);
	assert_int_equal(mode_of(lock.buf), 0600);
	pid = fork();
	if (pid == 0) {
		int fd = open(lock.buf, O_RDWR);

		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	azl_tokencache_unlock(c);
	pid = fork();
	if (pid == 0) {
		int fd = open(lock.buf, O_RDWR);

		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	azl_tokencache_free(c);
	strbuf_release(&lock);
}

static void test_keyring_unreachable_degrades(void **state)
{
	struct azl_tokencache *c = NULL;
	struct strbuf warning = STRBUF_INIT;

	(void)state;
	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/azl-test-bus", 1);
	assert_int_equal(azl_tokencache_open(&c, "keyring", &warning), 0);
	assert_string_equal(azl_tokencache_backend(c), "none");
	assert_non_null(strstr(warning.buf, "system keyring"));
	assert_non_null(strstr(warning.buf, "continuing without a persistent token cache"));
	assert_null(strchr(warning.buf, '\n'));
	put(c, &key_a, "t", 5000);
	expect_absent(c, &key_a);
	azl_tokencache_free(c);
	strbuf_release(&warning);
}

static void test_file_unusable_degrades(void **state)
{
	struct azl_tokencache *c = NULL;
	struct strbuf warning = STRBUF_INIT, parent = STRBUF_INIT;

	(void)state;
	/* the cache directory's place is taken by a file */
	strbuf_addstr(&parent, dir.buf);
	strbuf_setlen(&parent, parent.len - strlen("/kubectl-azlinux"));
	assert_int_equal(mkdir(parent.buf, 0700), 0);
	write_file(dir.buf, "");
	assert_int_equal(azl_tokencache_open(&c, "file", &warning), 0);
	assert_string_equal(azl_tokencache_backend(c), "none");
	assert_non_null(strstr(warning.buf, "is not a directory"));
	azl_tokencache_free(c);
	unlink(dir.buf);
	strbuf_release(&warning);
	strbuf_release(&parent);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fresh_margin, setup),
		cmocka_unit_test_setup(test_modes, setup),
		cmocka_unit_test_setup(test_file_roundtrip, setup),
		cmocka_unit_test_setup(test_file_remove, setup),
		cmocka_unit_test_setup(test_permissions_rechecked, setup),
		cmocka_unit_test_setup(test_symlink_refused, setup),
		cmocka_unit_test_setup(test_corrupt_entries_ignored, setup),
		cmocka_unit_test_setup(test_lock_excludes_other_processes, setup),
		cmocka_unit_test_setup(test_keyring_unreachable_degrades, setup),
		cmocka_unit_test_setup(test_file_unusable_degrades, setup),
	};
	int rc;

	if (!mkdtemp(root))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	strbuf_release(&dir);
	strbuf_release(&file);
	return rc;
}
