/* Helper programs run without a shell: the path is looked up and the
 * environment built in the parent, so that the child, forked from a
 * possibly multi-threaded process, only calls async-signal-safe functions
 * between fork() and execve(). */
#define _GNU_SOURCE /* pipe2(): close-on-exec pipes without a race against other threads' fork() */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "wrapper.h"

extern char **environ;

/* How long a child gets to exit after SIGTERM before SIGKILL. */
#define TERM_GRACE_MS 1000L

static int is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* execvp's search, done before fork: the first executable regular file on
 * PATH (an empty entry is the current directory). */
static int find_program(const char *name, struct strbuf *path)
{
	const char *dirs = getenv("PATH"), *p;

	if (strchr(name, '/')) {
		strbuf_addstr(path, name);
		return 0;
	}
	if (!dirs)
		dirs = "/usr/local/bin:/usr/bin:/bin";
	for (p = dirs;; p++) {
		const char *end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		strbuf_reset(path);
		if (end == p)
			strbuf_addch(path, '.');
		else
			strbuf_add(path, p, (size_t)(end - p));
		strbuf_addf(path, "/%s", name);
		if (is_executable_file(path->buf))
			return 0;
		if (!*end)
			break;
		p = end;
	}
	return azl_error_set(AZL_ENOTFOUND, "executable %s not found", name);
}

static size_t name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');
	return eq ? (size_t)(eq - entry) : strlen(entry);
}

static int overridden(const char *entry, const char *const *extra)
{
	size_t n = name_len(entry);
	for (; extra && *extra; extra++)
		if (name_len(*extra) == n && !strncmp(*extra, entry, n))
			return 1;
	return 0;
}

/* environ plus env_extra, an extra entry replacing a same-named one. The
 * strings are borrowed; only the array is allocated. */
static char **build_env(const char *const *extra)
{
	size_t n = 0, k = 0, i;
	char **env;

	while (environ && environ[n])
		n++;
	for (i = 0; extra && extra[i]; i++)
		;
	env = xcalloc(n + i + 1, sizeof(*env));
	for (i = 0; i < n; i++)
		if (!overridden(environ[i], extra))
			env[k++] = environ[i];
	for (i = 0; extra && extra[i]; i++)
		env[k++] = (char *)extra[i];
	return env;
}

struct child_io {
	int in;          /* /dev/null, or -1 to inherit */
	int out[2];
	int err[2];      /* {-1, -1} to inherit */
	int status[2];   /* exec failure reports errno here */
};

/* dup2() onto itself keeps close-on-exec set; clear it by hand then. */
static int move_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

static void child_exec(const char *path, char *const argv[], char *const env[],
		       const struct child_io *io)
{
	struct sigaction sa;
	sigset_t none;
	int e;

	/* ignored signals survive exec: give the program default SIGPIPE etc. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if ((io->in >= 0 && move_fd(io->in, 0) < 0) ||
	    move_fd(io->out[1], 1) < 0 ||
	    (io->err[1] >= 0 && move_fd(io->err[1], 2) < 0))
		goto fail;
	execve(path, argv, env);
fail:
	e = errno;
	if (write(io->status[1], &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_io(struct child_io *io)
{
	close_fd(&io->in);
	close_fd(&io->out[0]);
	close_fd(&io->out[1]);
	close_fd(&io->err[0]);
	close_fd(&io->err[1]);
	close_fd(&io->status[0]);
	close_fd(&io->status[1]);
}

static int open_io(struct child_io *io, const struct azl_proc_options *opts)
{
	if (!opts->inherit_stdin &&
	    (io->in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (pipe2(io->out, O_CLOEXEC) < 0 || pipe2(io->status, O_CLOEXEC) < 0)
		return -1;
	if (!opts->inherit_stderr && pipe2(io->err, O_CLOEXEC) < 0)
		return -1;
	return 0;
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* SIGTERM, a grace period, then SIGKILL; always reaps. */
static void kill_child(pid_t pid)
{
	long until = monotonic_ms() + TERM_GRACE_MS;
	int status;

	kill(pid, SIGTERM);
	while (monotonic_ms() < until) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return;
		sleep_millisec(10);
	}
	kill(pid, SIGKILL);
	wait_child(pid, &status);
}

/* Reads the child's pipes until both reach EOF or the deadline passes.
 * Returns 0, AZL_ETIMEOUT, or -1 with errno set. */
static int pump(struct child_io *io, struct strbuf *out, struct strbuf *err, long deadline)
{
	struct pollfd pfd[2];
	struct strbuf *dst[2] = { out, err };
	char buf[16384];

	pfd[0].fd = io->out[0];
	pfd[1].fd = io->err[0];
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		int timeout = -1, r;
		if (deadline) {
			long left = deadline - monotonic_ms();
			if (left <= 0)
				return AZL_ETIMEOUT;
			timeout = left > 60000 ? 60000 : (int)left;
		}
		pfd[0].events = pfd[1].events = POLLIN;
		r = poll(pfd, 2, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				pfd[i].fd = -1;
				continue;
			}
			if (dst[i])
				strbuf_add(dst[i], buf, (size_t)n);
		}
	}
	return 0;
}

/* The errno the child sent if execve() failed, else 0 (the pipe closed on
 * exec). */
static int exec_errno(int fd)
{
	int e = 0;
	ssize_t n;
	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	/* as a shell reports a signalled child */
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

static int spawn_failed(const char *name, int e)
{
	if (e == ENOENT)
		return azl_error_set(AZL_ENOTFOUND, "executable %s not found", name);
	return azl_error_set(AZL_ERROR, "cannot run %s: %s", name, strerror(e));
}

static int run(const struct azl_proc_options *opts, const char *path,
	       struct child_io *io, struct strbuf *out, struct strbuf *err_out,
	       int *exit_status)
{
	const char *name = opts->argv[0];
	long deadline = opts->timeout_ms > 0 ? monotonic_ms() + opts->timeout_ms : 0;
	char **env = build_env(opts->env_extra);
	int status, rc, e;
	pid_t pid = fork();

	if (pid == 0)
		child_exec(path, (char *const *)opts->argv, env, io);
	free(env);
	if (pid < 0)
		return azl_error_set(AZL_ERROR, "cannot run %s: fork: %s", name, strerror(errno));
	close_fd(&io->in);
	close_fd(&io->out[1]);
	close_fd(&io->err[1]);
	close_fd(&io->status[1]);

	e = exec_errno(io->status[0]);
	if (e) {
		wait_child(pid, &status);
		return spawn_failed(name, e);
	}
	rc = pump(io, out, err_out, deadline);
	if (rc) {
		e = errno;
		kill_child(pid);
		if (rc == AZL_ETIMEOUT)
			return azl_error_set(AZL_ETIMEOUT, "%s did not finish within %ld ms and was stopped",
					     name, opts->timeout_ms);
		return azl_error_set(AZL_ERROR, "cannot read the output of %s: %s", name, strerror(e));
	}
	if (wait_child(pid, &status) < 0)
		return azl_error_set(AZL_ERROR, "cannot wait for %s: %s", name, strerror(errno));
	if (exit_status)
		*exit_status = exit_code(status);
	return 0;
}

int azl_proc_run(const struct azl_proc_options *opts, struct strbuf *out,
		 struct strbuf *err_out, int *exit_status)
{
	struct child_io io = { -1, { -1, -1 }, { -1, -1 }, { -1, -1 } };
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (!opts || !opts->argv || !opts->argv[0] || !*opts->argv[0])
		return azl_error_set(AZL_EINVALID, "no program given to run");
	rc = find_program(opts->argv[0], &path);
	if (rc) {
		strbuf_release(&path);
		return rc;
	}
	if (open_io(&io, opts) < 0) {
		rc = azl_error_set(AZL_ERROR, "cannot run %s: %s", opts->argv[0], strerror(errno));
	} else {
		azl_logf(6, "running %s", path.buf);
		rc = run(opts, path.buf, &io, out, err_out, exit_status);
	}
	close_io(&io);
	strbuf_release(&path);
	return rc;
}
