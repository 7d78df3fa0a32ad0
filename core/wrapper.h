/* Thin wrappers of libc and POSIX calls (after git's wrapper.h).
 *
 * Allocation cannot fail: on exhaustion these print "fatal: out of memory"
 * and abort, since a CLI has no sensible recovery and an unchecked NULL
 * would crash later, far from the cause. Callers never test the results. */
#ifndef AZL_WRAPPER_H
#define AZL_WRAPPER_H

#include <stddef.h>
#include <time.h>

/* p, or the out-of-memory death when an allocator beyond these returned NULL. */
void *xcheck_alloc(void *p);
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* realloc(); a size of 0 still returns a distinct, freeable block. */
void *xrealloc(void *ptr, size_t size);

/* NULL or "": an unset optional string. */
static inline int str_empty(const char *s)
{
	return !s || !*s;
}

/* A copy of s; NULL copies as "", so the result is always a string. */
char *xstrdup(const char *s);
/* A copy of s, or NULL when s is NULL or "" (optional fields). */
char *xstrdup_or_null(const char *s);
/* The len bytes at data as a NUL-terminated string. */
char *xmemdupz(const void *data, size_t len);

/* Writes all count bytes, resuming after short writes and EINTR. Returns
 * 0, or -1 with errno set. */
int write_in_full(int fd, const void *buf, size_t count);

/* Milliseconds on the monotonic clock, for deadlines and elapsed times:
 * unlike time(), it never jumps when the wall clock is set. */
long monotonic_ms(void);
/* Sleeps ms milliseconds in full, resuming after a signal; returns at once
 * when ms <= 0. */
void sleep_millisec(long ms);

/* The CLOCK_REALTIME instant ms (at least 0) milliseconds from now, as
 * pthread_cond_timedwait() takes its deadline. */
void realtime_after_ms(struct timespec *out, long ms);

/* Lowers the calling thread's scheduling priority by steps nice levels (at
 * most to 19), and so that of the threads it starts after. Linux only,
 * where a nice value is per thread; elsewhere it does nothing. A thread
 * cannot raise it back without privilege. */
void thread_lower_priority(int steps);

#endif
