/* Durations, times and versions from outside: client-go timeouts, RFC 3339
 * timestamps, whole numbers in a range, Kubernetes versions. The input is
 * split at its first NUL into two strings. */
#include "fuzz.h"

#include <limits.h>
#include <string.h>
#include <time.h>

#include "findings.h"
#include "json.h"
#include "kubeconfig.h"
#include "num.h"
#include "version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf s = STRBUF_INIT;
	const char *second;
	time_t t;
	long v;
	int major, minor;

	fuzz_str(&s, data, size);
	second = s.buf + strlen(s.buf) + (strlen(s.buf) < s.len);
	(void)azl_parse_duration_ms(s.buf);
	azl_parse_rfc3339(s.buf, &t);
	azl_num_scan(s.buf, LONG_MIN, LONG_MAX, &v);
	azl_num_scan(s.buf, -3, 600, &v);
	azl_num_parse(s.buf, 0, 86400, "fuzz", &v);
	azl_version_minor(s.buf, &major, &minor);
	(void)azl_version_compare(s.buf, second);
	strbuf_release(&s);
	return 0;
}
