/* Errors, after libgit2: every fallible function returns an int (0 on
 * success, a negative AZL_E* code on failure) and leaves a one-line,
 * user-facing message that names the file, field or resource at fault and,
 * where there is one, what to do about it.
 *
 * The last error is per thread, so concurrent workers never clobber each
 * other's message. */
#ifndef AZL_ERROR_H
#define AZL_ERROR_H

enum azl_error_code {
	AZL_OK = 0,
	AZL_ERROR = -1,       /* anything not below */
	AZL_ENOTFOUND = -2,   /* a named thing does not exist (HTTP 404) */
	AZL_EINVALID = -3,    /* bad input: flag, file, field, response */
	AZL_EAUTH = -4,       /* not authenticated (HTTP 401, token failure) */
	AZL_EFORBIDDEN = -5,  /* authenticated, not allowed (HTTP 403) */
	AZL_ENETWORK = -6,    /* could not connect, TLS failure, reset */
	AZL_ETIMEOUT = -7,    /* a deadline passed */
	AZL_ECONFLICT = -8,   /* HTTP 409 that is not "busy" (an object exists) */
	AZL_ETHROTTLED = -9,  /* HTTP 429 after retries */
	AZL_ESERVER = -10,    /* HTTP 5xx after retries */
	AZL_EUNAVAILABLE = -11, /* an optional facility is absent (keyring...) */
	AZL_EBUSY = -12,      /* HTTP 409 OperationNotAllowed, or a lock another
	                       * process holds: something else is in progress */
	AZL_ESTALE = -13,     /* HTTP 412: our copy is older than the server's */
	AZL_ECANCELED = -14,  /* the caller cancelled (a signal, a policy) */
	AZL_EGONE = -15       /* HTTP 410: a watch's resourceVersion is too old */
};

/* Sets the message and returns code, so `return azl_error_set(...)` works. */
int azl_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepends "<context>: " to the current message; returns the current code. */
int azl_error_prefix(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* The last message ("" when none) and code (AZL_OK when none). */
const char *azl_error_message(void);
int azl_error_code(void);
void azl_error_clear(void);

/* Saves and restores the current error around cleanup code that may fail. */
struct azl_error_state {
	int code;
	char *message;
};
void azl_error_save(struct azl_error_state *st);
void azl_error_restore(struct azl_error_state *st);

#endif
