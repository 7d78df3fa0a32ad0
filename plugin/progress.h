/* Progress for waits longer than a second: a live line rewritten in
 * place on a terminal; otherwise a timestamped line on stderr each time
 * the message changes, so logs of CI runs read well. */
#ifndef AZL_PROGRESS_H
#define AZL_PROGRESS_H

#include <stdio.h>

struct azl_progress;

/* out is usually stderr; whether it is a terminal decides the mode. */
int azl_progress_new(struct azl_progress **out, FILE *stream);
/* For waits that are usually short: shows nothing until delay_ms have
 * passed, then the latest update, so a command that ends sooner prints no
 * progress at all. */
int azl_progress_new_delayed(struct azl_progress **out, FILE *stream, long delay_ms);
void azl_progress_free(struct azl_progress *p);

/* Shows the current state ("pool np1: 2/5 nodes upgraded"). */
void azl_progress_update(struct azl_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Ends the live line with a final message that stays on screen. */
void azl_progress_done(struct azl_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Ends without a final message: erases the live line, if one shows. */
void azl_progress_clear(struct azl_progress *p);

#endif
