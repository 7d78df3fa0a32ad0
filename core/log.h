/* Diagnostics at kubectl's verbosity levels (-v=N). core/ never writes to a
 * terminal itself: the front end installs a sink once at start-up.
 *
 * Levels, as kubectl uses them: 4 debug, 6 request URLs and status,
 * 7 request headers, 8 response bodies (truncated), 9 full bodies.
 * Secrets never reach a sink: callers pass headers and bodies through
 * azl_redact_*() (see redact.h) before logging them. */
#ifndef AZL_LOG_H
#define AZL_LOG_H

typedef void (*azl_log_sink)(int level, const char *message, void *data);

/* Library init: set once, before any other thread starts. */
void azl_log_init(int verbosity, azl_log_sink sink, void *data);

int azl_log_enabled(int level);
void azl_logf(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
