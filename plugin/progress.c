#include "progress.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "strbuf.h"
#include "wrapper.h"

struct cli_progress {
	FILE *out;
	int live;               /* rewrite one line in place */
	struct strbuf last;     /* what is showing, to skip repeats */
	/* delayed mode: a timer thread shows the pending update once due */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t timer;
	int has_timer, stopping, due;
	long delay_ms;
	struct strbuf pending;  /* the latest update not yet shown */
};

static int progress_new(struct cli_progress **out, FILE *stream, int live)
{
	struct cli_progress *p = xcalloc(1, sizeof(*p));

	p->out = stream;
	p->live = live;
	p->due = 1;
	strbuf_init(&p->last, 0);
	strbuf_init(&p->pending, 0);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	*out = p;
	return 0;
}

static int stream_is_live(FILE *stream)
{
	const char *term = getenv("TERM");

	/* A dumb terminal cannot erase a line. */
	return isatty(fileno(stream)) && !(term && !strcmp(term, "dumb"));
}

int cli_progress_new(struct cli_progress **out, FILE *stream)
{
	return progress_new(out, stream, stream_is_live(stream));
}

static void stop_timer(struct cli_progress *p)
{
	if (!p->has_timer)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->timer, NULL);
	p->has_timer = 0;
}

void cli_progress_free(struct cli_progress *p)
{
	if (!p)
		return;
	stop_timer(p);
	if (p->live && p->last.len)
		fputs("\n", p->out);  /* leave the cursor on a fresh line */
	strbuf_release(&p->last);
	strbuf_release(&p->pending);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Writes msg: in place on a terminal; else once, with a UTC timestamp. */
static void show(struct cli_progress *p, const struct strbuf *msg, int final)
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

static void showv(struct cli_progress *p, int final, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void showv(struct cli_progress *p, int final, const char *fmt, va_list ap)
{
	struct strbuf msg = STRBUF_INIT;

	strbuf_vaddf(&msg, fmt, ap);
	pthread_mutex_lock(&p->lock);
	if (p->due) {
		show(p, &msg, final);
	} else {
		strbuf_reset(&p->pending);
		strbuf_addbuf(&p->pending, &msg);
	}
	pthread_mutex_unlock(&p->lock);
	strbuf_release(&msg);
}

void cli_progress_update(struct cli_progress *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	showv(p, 0, fmt, ap);
	va_end(ap);
}

void cli_progress_done(struct cli_progress *p, const char *fmt, ...)
{
	va_list ap;

	stop_timer(p);
	va_start(ap, fmt);
	showv(p, 1, fmt, ap);
	va_end(ap);
}

void cli_progress_clear(struct cli_progress *p)
{
	stop_timer(p);
	if (p->live && p->last.len) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
	}
	strbuf_reset(&p->last);
}

/* Sleeps until the delay is over (or the wait ends first), then shows the
 * latest update; later updates show as they come. */
static void *timer_main(void *arg)
{
	struct cli_progress *p = arg;
	struct timespec until;

	realtime_after_ms(&until, p->delay_ms);
	pthread_mutex_lock(&p->lock);
	while (!p->stopping &&
	       pthread_cond_timedwait(&p->wake, &p->lock, &until) == 0)
		;
	if (!p->stopping) {
		p->due = 1;
		if (p->pending.len)
			show(p, &p->pending, 0);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int cli_progress_new_delayed(struct cli_progress **out, FILE *stream, long delay_ms)
{
	struct cli_progress *p;
	int rc = progress_new(&p, stream, stream_is_live(stream));

	if (rc)
		return rc;
	p->due = 0;
	p->delay_ms = delay_ms;
	if (pthread_create(&p->timer, NULL, timer_main, p)) {
		p->due = 1;  /* no timer: show updates at once rather than never */
	} else {
		p->has_timer = 1;
	}
	*out = p;
	return 0;
}
