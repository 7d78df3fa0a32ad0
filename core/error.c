#include "error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static _Thread_local struct strbuf last_message = STRBUF_INIT;
static _Thread_local int last_code;

int azl_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	struct strbuf msg = STRBUF_INIT;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	strbuf_release(&last_message);
	last_message = msg;
	last_code = code;
	return code;
}

int azl_error_prefix(const char *fmt, ...)
{
	va_list ap;
	struct strbuf msg = STRBUF_INIT;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (last_message.len) {
		strbuf_addstr(&msg, ": ");
		strbuf_addbuf(&msg, &last_message);
	}
	strbuf_release(&last_message);
	last_message = msg;
	if (!last_code)
		last_code = AZL_ERROR;
	return last_code;
}

const char *azl_error_message(void)
{
	return last_message.buf;
}

int azl_error_code(void)
{
	return last_code;
}

void azl_error_clear(void)
{
	strbuf_release(&last_message);
	last_code = AZL_OK;
}

void azl_error_save(struct azl_error_state *st)
{
	st->code = last_code;
	st->message = strbuf_detach(&last_message, NULL);
	last_code = AZL_OK;
}

void azl_error_restore(struct azl_error_state *st)
{
	strbuf_release(&last_message);
	strbuf_addstr(&last_message, st->message);
	last_code = st->code;
	free(st->message);
	st->message = NULL;
}
