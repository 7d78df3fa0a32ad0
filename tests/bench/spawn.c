/*
 * spawn: run a command and report its wall time, CPU and peak RSS.
 *
 *     spawn REPORT-FILE COMMAND [ARG...]
 *
 * Writes "<wall s> <user s> <sys s> <peak RSS KiB> <exit status>" to
 * REPORT-FILE; stdin, stdout and stderr pass through.
 *
 * Why not measure from Python directly: Linux keeps the RSS high-water mark
 * of the process image a child replaces at exec, and Python's subprocess
 * uses vfork, so every child forked by the benchmark would report at least
 * the simulator's RSS (hundreds of MB with 5,000 nodes). Forked from this
 * small program, a child's peak RSS is its own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *report;

	if (argc < 3) {
		fprintf(stderr, "usage: spawn REPORT-FILE COMMAND [ARG...]\n");
		return 125;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "spawn: fork: %s\n", strerror(errno));
		return 125;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "spawn: cannot run %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		fprintf(stderr, "spawn: wait4: %s\n", strerror(errno));
		return 125;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report = fopen(argv[1], "w");
	if (!report) {
		fprintf(stderr, "spawn: cannot write %s: %s\n", argv[1], strerror(errno));
		return 125;
	}
	fprintf(report, "%.6f %.6f %.6f %ld %d\n", elapsed(&t0, &t1), seconds(ru.ru_utime),
		seconds(ru.ru_stime), ru.ru_maxrss, exit_status(status));
	return fclose(report) ? 125 : 0;
}
