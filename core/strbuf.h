/* A growable, always NUL-terminated byte buffer (after git's strbuf.h).
 *
 * Ownership: the struct owns buf; strbuf_release() frees it, strbuf_detach()
 * hands it to the caller. An initialised strbuf never has buf == NULL.
 * Allocation failure aborts: there is no sensible recovery for a CLI. */
#ifndef AZL_STRBUF_H
#define AZL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
static inline void strbuf_reset(struct strbuf *sb) { strbuf_setlen(sb, 0); }

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addchars(struct strbuf *sb, int c, size_t n);
void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Appends s with URL percent-encoding (RFC 3986 unreserved kept). */
void strbuf_addurlenc(struct strbuf *sb, const char *s);

void strbuf_trim(struct strbuf *sb);
int strbuf_starts_with(const struct strbuf *sb, const char *prefix);

/* Reads the whole file; returns 0, or -1 with errno set. */
int strbuf_read_file(struct strbuf *sb, const char *path);
/* Reads all of fd until EOF; returns 0, or -1 with errno set. */
int strbuf_read_fd(struct strbuf *sb, int fd);

#endif
