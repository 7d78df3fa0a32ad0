#include "wrapper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

void *xcheck_alloc(void *p)
{
	if (!p) {
		fputs("fatal: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xmalloc(size_t size)
{
	return xcheck_alloc(malloc(size ? size : 1));
}

void *xcalloc(size_t nmemb, size_t size)
{
	/* calloc(0, ...) may return NULL, which must not read as failure. */
	if (!nmemb || !size)
		nmemb = size = 1;
	return xcheck_alloc(calloc(nmemb, size));
}

void *xrealloc(void *ptr, size_t size)
{
	return xcheck_alloc(realloc(ptr, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return xcheck_alloc(strdup(s ? s : ""));
}

char *xstrdup_or_null(const char *s)
{
	return str_empty(s) ? NULL : xstrdup(s);
}

char *xmemdupz(const void *data, size_t len)
{
	char *r = xmalloc(len + 1);

	memcpy(r, data, len);
	r[len] = '\0';
	return r;
}

int write_in_full(int fd, const void *buf, size_t count)
{
	const char *p = buf;

	while (count) {
		ssize_t w = write(fd, p, count);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		count -= (size_t)w;
	}
	return 0;
}

long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void realtime_after_ms(struct timespec *out, long ms)
{
	if (ms < 0)
		ms = 0;
	clock_gettime(CLOCK_REALTIME, out);
	out->tv_sec += ms / 1000L;
	out->tv_nsec += (ms % 1000L) * 1000000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

void sleep_millisec(long ms)
{
	struct timespec ts;

	/* nanosleep() fails with EINVAL on a negative time: retrying that spins */
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000L;
	ts.tv_nsec = (ms % 1000L) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void thread_lower_priority(int steps)
{
#ifdef __linux__
	id_t tid = (id_t)syscall(SYS_gettid);
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, tid);
	if (nice == -1 && errno)
		return;
	nice = nice + steps > 19 ? 19 : nice + steps;
	setpriority(PRIO_PROCESS, tid, nice);
#else
	(void)steps;
#endif
}
