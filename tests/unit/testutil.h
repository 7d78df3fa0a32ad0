/* Small helpers shared by the unit tests: scratch directories and files. */
#ifndef AZL_TESTUTIL_H
#define AZL_TESTUTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

/* A fresh directory under $TMPDIR (or /tmp); abort()s on failure. */
static inline char *tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/azl-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(sb.buf))
		abort();
	return strbuf_detach(&sb, NULL);
}

/* dir/name, malloc()ed. */
static inline char *tu_path(const char *dir, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", dir, name);
	return strbuf_detach(&sb, NULL);
}

/* Writes len bytes to dir/name with mode (creating it); returns the path,
 * malloc()ed. */
static inline char *tu_write_bytes(const char *dir, const char *name,
				   const void *data, size_t len, mode_t mode)
{
	char *path = tu_path(dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) < 0)
		abort();
	close(fd);
	return path;
}

static inline char *tu_write(const char *dir, const char *name,
			     const char *text, mode_t mode)
{
	return tu_write_bytes(dir, name, text, strlen(text), mode);
}

/* Like tu_write but only the path is wanted by nobody: frees it. */
static inline void tu_put(const char *dir, const char *name, const char *text)
{
	free(tu_write(dir, name, text, 0644));
}

/* Removes path and everything under it. */
static inline void tu_rmrf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char *sub;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = tu_path(path, e->d_name);
		tu_rmrf(sub);
		free(sub);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

/* cmocka setup/teardown: a fresh XDG_STATE_HOME (the journal's home) for
 * each test, *state its path. */
static inline int tu_state_setup(void **state)
{
	char *root = tu_mkdtemp();

	setenv("XDG_STATE_HOME", root, 1);
	*state = root;
	return 0;
}

static inline int tu_state_teardown(void **state)
{
	tu_rmrf(*state);
	free(*state);
	return 0;
}

/* Reads one HTTP/1.1 request (headers and a Content-Length body) from fd
 * into req, for the tests' small servers: 1, or 0 at EOF. */
static inline int tu_read_request(int fd, struct strbuf *req, size_t *body_at, size_t *body_len)
{
	char buf[4096], *end, *cl;

	strbuf_reset(req);
	while (!(end = strstr(req->buf, "\r\n\r\n"))) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return 0;
		strbuf_add(req, buf, (size_t)n);
	}
	*body_at = (size_t)(end - req->buf) + 4;
	cl = strstr(req->buf, "\r\nContent-Length:");
	*body_len = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	while (req->len < *body_at + *body_len) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return 0;
		strbuf_add(req, buf, (size_t)n);
	}
	return 1;
}

#endif
