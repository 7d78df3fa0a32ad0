/* Progress for waits longer than a second: a live line rewritten in
 * place on a terminal; otherwise a timestamped line on stderr each time
 * the message changes, so logs of CI runs read well. */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdio.h>

struct cli_progress;

/* out is usually stderr; whether it is a terminal decides the mode. */
int cli_progress_new(struct cli_progress **out, FILE *stream);
/* For waits that are usually short: shows nothing until delay_ms have
 * passed, then the latest update, so a command that ends sooner prints no
 * progress at all. */
int cli_progress_new_delayed(struct cli_progress **out, FILE *stream, long delay_ms);
void cli_progress_free(struct cli_progress *p);

/* Shows the current state ("pool np1: 2/5 nodes upgraded"). */
void cli_progress_update(struct cli_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Ends the live line with a final message that stays on screen. */
void cli_progress_done(struct cli_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Ends without a final message: erases the live line, if one shows. */
void cli_progress_clear(struct cli_progress *p);

#endif
