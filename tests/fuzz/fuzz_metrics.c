/* The API server's /metrics text (Prometheus exposition format), as
 * upgrade's preflight reads it for apiserver_requested_deprecated_apis
 * (upgrade.h): the input is the body, as a server would send it. */
#include "fuzz.h"

#include <string.h>

#include "upgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct azl_deprecated_api_list l;

	azl_deprecated_apis_parse((const char *)data, size, &l);
	for (size_t i = 0; i < l.nr; i++)
		(void)strlen(l.items[i].group);
	azl_deprecated_api_list_release(&l);
	return 0;
}
