/* Allocation that cannot fail (after git's wrapper.h): on exhaustion these
 * print "fatal: out of memory" and abort, since a CLI has no sensible
 * recovery and an unchecked NULL would crash later, far from the cause.
 * Callers never test their results. */
#ifndef AZL_WRAPPER_H
#define AZL_WRAPPER_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* realloc(); a size of 0 still returns a distinct, freeable block. */
void *xrealloc(void *ptr, size_t size);

/* A copy of s; NULL copies as "", so the result is always a string. */
char *xstrdup(const char *s);
/* A copy of s, or NULL when s is NULL or "" (optional fields). */
char *xstrdup_or_null(const char *s);
/* The len bytes at data as a NUL-terminated string. */
char *xmemdupz(const void *data, size_t len);

/* Writes all count bytes, resuming after short writes and EINTR. Returns
 * 0, or -1 with errno set. */
int write_in_full(int fd, const void *buf, size_t count);

#endif
