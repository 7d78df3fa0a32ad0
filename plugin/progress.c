#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "strbuf.h"

struct azl_progress {
	FILE *out;
	int live;               /* rewrite one line in place */
	struct strbuf last;     /* what is showing, to skip repeats */
};

static int progress_new(struct azl_progress **out, FILE *stream, int live)
{
	struct azl_progress *p = calloc(1, sizeof(*p));

	if (!p)
		return azl_error_set(AZL_ERROR, "out of memory");
	p->out = stream;
	p->live = live;
	strbuf_init(&p->last, 0);
	*out = p;
	return 0;
}

int azl_progress_new(struct azl_progress **out, FILE *stream)
{
	const char *term = getenv("TERM");

	/* A dumb terminal cannot erase a line. */
	return progress_new(out, stream, isatty(fileno(stream)) &&
			    !(term && !strcmp(term, "dumb")));
}

int azl_progress_new_plain(struct azl_progress **out, FILE *stream)
{
	return progress_new(out, stream, 0);
}

void azl_progress_free(struct azl_progress *p)
{
	if (!p)
		return;
	if (p->live && p->last.len)
		fputs("\n", p->out);  /* leave the cursor on a fresh line */
	strbuf_release(&p->last);
	free(p);
}

/* Writes msg: in place on a terminal; else once, with a UTC timestamp. */
static void show(struct azl_progress *p, const struct strbuf *msg, int final)
{
	struct strbuf line = STRBUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!final && !strcmp(msg->buf, p->last.buf))
		return;
	if (p->live) {
		strbuf_addf(&line, "\r\033[K%s", msg->buf);
		if (final)
			strbuf_addch(&line, '\n');
	} else {
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		strbuf_addf(&line, "%s %s\n", stamp, msg->buf);
	}
	fwrite(line.buf, 1, line.len, p->out);
	fflush(p->out);
	strbuf_release(&line);
	strbuf_reset(&p->last);
	if (!final)
		strbuf_addbuf(&p->last, msg);
}

static void showv(struct azl_progress *p, int final, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void showv(struct azl_progress *p, int final, const char *fmt, va_list ap)
{
	struct strbuf msg = STRBUF_INIT;

	strbuf_vaddf(&msg, fmt, ap);
	show(p, &msg, final);
	strbuf_release(&msg);
}

void azl_progress_update(struct azl_progress *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	showv(p, 0, fmt, ap);
	va_end(ap);
}

void azl_progress_done(struct azl_progress *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	showv(p, 1, fmt, ap);
	va_end(ap);
}
