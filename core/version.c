#include "version.h"

#include <curl/curl.h>
#include <libsecret/secret.h>

/* The Makefile passes AZL_VERSION from git describe; a build outside a
 * git checkout still needs a value. */
#ifndef AZL_VERSION
#define AZL_VERSION "v0.0.0-dev"
#endif

const char *azl_version_string(void)
{
	return AZL_VERSION;
}

const char *azl_version_libcurl(void)
{
	return curl_version_info(CURLVERSION_NOW)->version;
}

void azl_version_libsecret(struct strbuf *out)
{
	strbuf_addf(out, "%d.%d.%d", SECRET_MAJOR_VERSION, SECRET_MINOR_VERSION,
		    SECRET_MICRO_VERSION);
}
