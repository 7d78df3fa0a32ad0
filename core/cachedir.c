#include "cachedir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"

/* $env/kubectl-azlinux, else $HOME/fallback/kubectl-azlinux. */
static int xdg_dir(struct strbuf *out, const char *env, const char *fallback)
{
	const char *xdg = getenv(env);
	const char *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		strbuf_addstr(out, xdg);
	else if (home && *home)
		strbuf_addf(out, "%s/%s", home, fallback);
	else
		return azl_error_set(AZL_EINVALID,
				     "neither %s nor HOME is set; set one of them", env);
	strbuf_addstr(out, "/kubectl-azlinux");
	return 0;
}

int azl_cachedir_path(struct strbuf *out)
{
	return xdg_dir(out, "XDG_CACHE_HOME", ".cache");
}

int azl_cachedir_state_path(struct strbuf *out)
{
	return xdg_dir(out, "XDG_STATE_HOME", ".local/state");
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return azl_error_set(AZL_ERROR, "cannot create %s: %s", path, strerror(errno));
}

int azl_cachedir_check_private(const char *path, const struct stat *st,
			       mode_t want, int fd)
{
	if (st->st_uid != getuid())
		return azl_error_set(AZL_EFORBIDDEN,
				     "%s belongs to another user; remove it", path);
	if ((st->st_mode & 07777) == want)
		return 0;
	azl_logf(1, "%s had mode %04o; setting %04o", path,
		 (unsigned)(st->st_mode & 07777), (unsigned)want);
	if ((fd >= 0 ? fchmod(fd, want) : chmod(path, want)) < 0)
		return azl_error_set(AZL_EFORBIDDEN, "cannot chmod %s: %s",
				     path, strerror(errno));
	return 0;
}

/* mkdir -p with mode 0700 for what it creates; existing ancestors are
 * left as they are (HOME is not ours to narrow). */
static int make_dirs(const char *dir)
{
	struct strbuf prefix = STRBUF_INIT;
	int rc = 0;

	for (const char *p = strchr(dir + 1, '/'); !rc && p; p = strchr(p + 1, '/')) {
		strbuf_reset(&prefix);
		strbuf_add(&prefix, dir, (size_t)(p - dir));
		if (access(prefix.buf, F_OK))
			rc = make_dir(prefix.buf);
	}
	strbuf_release(&prefix);
	return rc ? rc : make_dir(dir);
}

int azl_cachedir_ensure(const char *dir)
{
	struct stat st;
	int rc = make_dirs(dir);

	if (rc)
		return rc;
	/* lstat: a symlink planted in place of the directory is refused. */
	if (lstat(dir, &st) < 0)
		return azl_error_set(AZL_ERROR, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return azl_error_set(AZL_EINVALID, "%s is not a directory; remove it", dir);
	return azl_cachedir_check_private(dir, &st, 0700, -1);
}
