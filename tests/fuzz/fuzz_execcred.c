/* An exec credential plugin's stdout (ExecCredential JSON, v1 and
 * v1beta1). */
#include "fuzz.h"

#include "execcred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char command[] = "fuzz-plugin";
	static char v1[] = "client.authentication.k8s.io/v1";
	static char v1beta1[] = "client.authentication.k8s.io/v1beta1";
	struct azl_exec_config x = { 0 };
	struct azl_credential cred = { NULL, STRBUF_INIT, STRBUF_INIT, 0 };
	struct strbuf text = STRBUF_INIT;

	x.command = command;
	x.api_version = size && (data[0] & 1) ? v1beta1 : v1;
	fuzz_str(&text, data, size);
	if (azl_execcred_parse(&x, &text, &cred) == 0)
		(void)azl_credential_valid(&cred, 1700000000);
	azl_credential_release(&cred);
	strbuf_release(&text);
	return 0;
}
