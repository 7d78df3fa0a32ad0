#include "error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "wrapper.h"

/* One slot per thread, freed by the key's destructor when a worker thread
 * exits, so concurrent workers never clobber each other's message and never
 * leak it. */
struct error_slot {
	int code;
	struct strbuf message;
};

static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

static void slot_free(void *p)
{
	struct error_slot *slot = p;
	strbuf_release(&slot->message);
	free(slot);
}

static void slot_key_create(void)
{
	if (pthread_key_create(&slot_key, slot_free))
		abort();
}

static struct error_slot *current_slot(void)
{
	struct error_slot *slot;

	pthread_once(&slot_once, slot_key_create);
	slot = pthread_getspecific(slot_key);
	if (slot)
		return slot;
	slot = xcalloc(1, sizeof(*slot));
	if (pthread_setspecific(slot_key, slot))
		abort();
	strbuf_init(&slot->message, 0);
	return slot;
}

static void slot_replace(int code, struct strbuf *msg)
{
	struct error_slot *slot = current_slot();
	strbuf_release(&slot->message);
	slot->message = *msg;
	slot->code = code;
}

int azl_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	struct strbuf msg = STRBUF_INIT;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	slot_replace(code, &msg);
	return code;
}

int azl_error_prefix(const char *fmt, ...)
{
	va_list ap;
	struct strbuf msg = STRBUF_INIT;
	struct error_slot *slot = current_slot();
	int code = slot->code ? slot->code : AZL_ERROR;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (slot->message.len) {
		strbuf_addstr(&msg, ": ");
		strbuf_addbuf(&msg, &slot->message);
	}
	slot_replace(code, &msg);
	return code;
}

const char *azl_error_message(void)
{
	return current_slot()->message.buf;
}

int azl_error_code(void)
{
	return current_slot()->code;
}

void azl_error_clear(void)
{
	struct error_slot *slot = current_slot();
	strbuf_release(&slot->message);
	slot->code = AZL_OK;
}

void azl_error_save(struct azl_error_state *st)
{
	struct error_slot *slot = current_slot();
	st->code = slot->code;
	st->message = strbuf_detach(&slot->message, NULL);
	slot->code = AZL_OK;
}

void azl_error_restore(struct azl_error_state *st)
{
	struct strbuf msg = STRBUF_INIT;
	strbuf_addstr(&msg, st->message);
	slot_replace(st->code, &msg);
	free(st->message);
	st->message = NULL;
}
