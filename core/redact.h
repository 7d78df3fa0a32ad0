/* Secret redaction for traces (-v=6..9).
 *
 * Every header, URL and body that reaches a log sink goes through these
 * first. Secret values become "<redacted>"; everything else is kept byte for
 * byte so a trace still shows the shape of the exchange. */
#ifndef AZL_REDACT_H
#define AZL_REDACT_H

#include <stddef.h>

#include "strbuf.h"

#define AZL_REDACTED "<redacted>"

/* 1 when a JSON member or form field of this name carries a secret
 * (access_token, refresh_token, id_token, client_secret, client_assertion,
 * token, password, clientKeyData, ...); case-insensitive. */
int azl_redact_is_secret_name(const char *name, size_t len);

/* Appends one "Name: value" header line. Credentials headers keep their
 * scheme: "Authorization: Bearer <redacted>". */
void azl_redact_header(struct strbuf *out, const char *line);

/* Appends a URL with the values of secret query parameters redacted. */
void azl_redact_url(struct strbuf *out, const char *url);

/* Appends a request or response body. JSON bodies (first non-blank
 * character '{' or '[') have the values of secret members redacted at any
 * depth, even when the JSON is truncated or malformed; other bodies are
 * treated as form-encoded (a=b&c=d). */
void azl_redact_body(struct strbuf *out, const char *body, size_t len);

/* Zeroes a strbuf that held a secret (token, key), then releases it. */
void azl_secret_wipe(struct strbuf *sb);

#endif
