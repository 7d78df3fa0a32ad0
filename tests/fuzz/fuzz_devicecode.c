/* Entra ID's answer to a device code request (RFC 8628 §3.2): code,
 * interval, lifetime, the message to show. First byte: 200 or an error. */
#include "fuzz.h"

#include "auth_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400 };
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct azl_device_code dc = AZL_DEVICE_CODE_INIT;

	if (fuzz_response(&resp, data, size, statuses, 2) < 0)
		return 0;
	azl_devicecode_parse(&resp, &dc);
	azl_device_code_release(&dc);
	azl_http_response_release(&resp);
	return 0;
}
