/* A response's header block as http.c keeps it, a header looked up in it
 * (azl_http_response_header), and Retry-After, from the block and raw. */
#include "fuzz.h"

#include <time.h>

#include "http.h"
#include "retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct strbuf v = STRBUF_INIT;

	fuzz_str(&resp.headers, data, size);
	if (azl_http_response_header(&resp, "Retry-After", &v))
		(void)azl_retry_after_parse(v.buf, time(NULL));
	azl_http_response_header(&resp, "x-ms-correlation-request-id", &v);
	azl_http_response_header(&resp, "", &v);
	(void)azl_retry_after_parse(resp.headers.buf, time(NULL));
	azl_http_response_release(&resp);
	strbuf_release(&v);
	return 0;
}
