#include "log.h"

#include <stdarg.h>

#include "strbuf.h"

static int log_verbosity;
static azl_log_sink log_sink;
static void *log_data;

void azl_log_init(int verbosity, azl_log_sink sink, void *data)
{
	log_verbosity = verbosity;
	log_sink = sink;
	log_data = data;
}

int azl_log_enabled(int level)
{
	return log_sink && level <= log_verbosity;
}

void azl_logf(int level, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	if (!azl_log_enabled(level))
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	log_sink(level, msg.buf, log_data);
	strbuf_release(&msg);
}
