/* Standard base64 (RFC 4648 §4), as kubeconfig *-data fields and the exec
 * credential protocol use it. */
#ifndef AZL_BASE64_H
#define AZL_BASE64_H

#include <stddef.h>

#include "strbuf.h"

/* Appends the decoded bytes of in[0..len) to out. Padding is optional and
 * whitespace (as in wrapped PEM-style blocks) is ignored; any other
 * character outside the alphabet is AZL_EINVALID, with a message giving
 * its offset, and out is left as it was. */
int azl_base64_decode(struct strbuf *out, const char *in, size_t len);

/* Appends the padded encoding of data[0..len) to out, on one line. */
void azl_base64_encode(struct strbuf *out, const void *data, size_t len);

#endif
