#include "version.h"

/* The Makefile passes AZL_VERSION from git describe; a build outside a
 * git checkout still needs a value. */
#ifndef AZL_VERSION
#define AZL_VERSION "v0.0.0-dev"
#endif

const char *azl_version_string(void)
{
	return AZL_VERSION;
}
