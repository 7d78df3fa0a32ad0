/* The system keyring (Secret Service, through libsecret), with a deadline on
 * every call: libsecret's _sync calls wait forever for an unlock prompt or
 * a hung daemon, so each call runs under a GCancellable that a timer
 * cancels (credentials.md §6.1).
 *
 * Items use the project's own schema, "io.github.kubectl_azlinux.Token",
 * with string attributes only; attributes are stored unencrypted, so they
 * never hold secrets. */
#ifndef AZL_KEYRING_H
#define AZL_KEYRING_H

#include "strbuf.h"

struct azl_keyring;

/* The schema's attribute names, in order; attrs arrays below give one value
 * per name (NULL: "any", for lookup/clear; "" for store). */
#define AZL_KEYRING_NATTRS 5
extern const char *const azl_keyring_attr_names[AZL_KEYRING_NATTRS];

/* Connects and checks that the default collection exists and is unlocked.
 * AZL_EUNAVAILABLE (no session bus, no Secret Service, locked or missing
 * collection) or AZL_ETIMEOUT, with a one-line reason. timeout_ms <= 0
 * means $AZLINUX_KEYRING_TIMEOUT seconds, else 5 s. */
int azl_keyring_open(struct azl_keyring **out, long timeout_ms);
void azl_keyring_free(struct azl_keyring *kr);

/* Creates or replaces the item with exactly these attributes. */
int azl_keyring_store(struct azl_keyring *kr, const char *const *attrs,
		      const char *label, const char *secret);

/* The most recently stored matching secret; AZL_ENOTFOUND when none. */
int azl_keyring_lookup(struct azl_keyring *kr, const char *const *attrs,
		       struct strbuf *secret);

/* Removes every matching item; *removed (may be NULL) gets the count. */
int azl_keyring_clear(struct azl_keyring *kr, const char *const *attrs,
		      int *removed);

#endif
