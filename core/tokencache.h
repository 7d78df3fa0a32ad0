/* Where tokens, refresh tokens, saved service-principal secrets and the
 * saved login account persist between invocations.
 *
 * Backends (AZLINUX_TOKEN_CACHE): keyring (default; the Secret Service via
 * keyring.h), file (opt-in: $XDG_CACHE_HOME/kubectl-azlinux/tokens.json,
 * directory 0700 and file 0600, re-checked on every open, flock'ed for
 * read-modify-write), none. An unusable keyring or file degrades to none
 * with a one-line warning; it is never fatal.
 *
 * Every entry is a JSON payload with a "version" field; an entry that is
 * corrupt or of another version reads as absent. */
#ifndef AZL_TOKENCACHE_H
#define AZL_TOKENCACHE_H

#include <time.h>

#include "strbuf.h"

struct azl_tokencache;

/* Tokens are reused until this many seconds before they expire. */
#define AZL_TOKEN_REFRESH_MARGIN 300

/* Identifies an entry. For get and remove, NULL fields match anything;
 * put stores NULL as "". */
struct azl_token_key {
	const char *cloud;
	const char *tenant;
	const char *client_id;
	const char *kind;   /* access_token, refresh_token, client_secret, account */
	const char *scope;
};

struct azl_token_entry {
	struct strbuf value;  /* the token, secret, or account JSON */
	time_t expires_on;    /* 0: does not expire */
};
#define AZL_TOKEN_ENTRY_INIT { STRBUF_INIT, 0 }
void azl_token_entry_release(struct azl_token_entry *e);

/* 1 when a token expiring at expires_on is still usable at now, i.e. more
 * than AZL_TOKEN_REFRESH_MARGIN seconds remain (0 never expires). */
int azl_token_is_fresh(time_t expires_on, time_t now);

/* mode: keyring, file or none; NULL means $AZLINUX_TOKEN_CACHE, else
 * keyring. AZL_EINVALID for an unknown mode. When the chosen backend is
 * unusable the cache works as none and warning (may be NULL) gets one line
 * saying why; otherwise warning is left empty. */
int azl_tokencache_open(struct azl_tokencache **out, const char *mode,
			struct strbuf *warning);
void azl_tokencache_free(struct azl_tokencache *c);

/* keyring, file or none: what is in effect after any degradation. */
const char *azl_tokencache_backend(const struct azl_tokencache *c);

/* AZL_ENOTFOUND when absent or unreadable; the most recent match wins. */
int azl_tokencache_get(struct azl_tokencache *c, const struct azl_token_key *key,
		       struct azl_token_entry *out);
/* Creates or replaces. With backend none, does nothing and returns 0. */
int azl_tokencache_put(struct azl_tokencache *c, const struct azl_token_key *key,
		       const struct azl_token_entry *e);
int azl_tokencache_remove(struct azl_tokencache *c,
			  const struct azl_token_key *match, int *removed);

/* Serialises token acquisition across parallel invocations (an flock on
 * $XDG_CACHE_HOME/kubectl-azlinux/lock), so that one of them fetches and
 * the others find the fresh token in the cache. No-op for backend none. */
int azl_tokencache_lock(struct azl_tokencache *c);
void azl_tokencache_unlock(struct azl_tokencache *c);

#endif
