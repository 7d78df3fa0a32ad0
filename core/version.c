#include "version.h"

#include <stdlib.h>
#include <string.h>

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

int azl_version_minor(const char *version, int *major, int *minor)
{
	char *end;
	long ma, mi;

	if (!version)
		return -1;
	if (*version == 'v' || *version == 'V')
		version++;
	ma = strtol(version, &end, 10);
	if (end == version || *end != '.')
		return -1;
	version = end + 1;
	mi = strtol(version, &end, 10);
	if (end == version || ma < 0 || mi < 0 || ma > 1000 || mi > 1000)
		return -1;
	*major = (int)ma;
	*minor = (int)mi;
	return 0;
}

int azl_version_compare(const char *a, const char *b)
{
	if (*a == 'v')
		a++;
	if (*b == 'v')
		b++;
	for (;;) {
		char *ea, *eb;
		long na = strtol(a, &ea, 10), nb = strtol(b, &eb, 10);
		int c;

		if (na != nb)
			return na < nb ? -1 : 1;
		if (*ea == '.' && *eb == '.') {
			a = ea + 1;
			b = eb + 1;
			continue;
		}
		/* "1.32" < "1.32.1"; then any suffix, as text */
		if (*ea == '.' || *eb == '.')
			return *ea == '.' ? 1 : -1;
		c = strcmp(ea, eb);
		return c < 0 ? -1 : c > 0;
	}
}

int azl_version_kube_minor(const char *version)
{
	int major, minor;

	return azl_version_minor(version, &major, &minor) || major != 1 ? -1 : minor;
}
