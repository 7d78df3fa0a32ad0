/* The program's version and the ARM API version it speaks; Kubernetes
 * version strings. */
#ifndef AZL_VERSION_H
#define AZL_VERSION_H

#include "strbuf.h"

/* Every ARM request for managedClusters and agentPools uses this. */
#define AZL_ARM_API_VERSION "2026-10-01"

/* "v0.1.0-3-gabcdef" from git describe at build time. */
const char *azl_version_string(void);

/* The versions of the network and keyring libraries core uses: libcurl's
 * as loaded at run time; libsecret's as built, since it has no run-time
 * call. */
const char *azl_version_libcurl(void);
void azl_version_libsecret(struct strbuf *out);   /* appends "0.20.5" */

/* "1.32.6", "v1.32" -> major and minor; 0, or -1 when not a version. */
int azl_version_minor(const char *version, int *major, int *minor);
/* The minor of a Kubernetes 1.x version; -1 when it is not one (treated as
 * "does not apply" by the rules that compare minors). */
int azl_version_kube_minor(const char *version);
/* strverscmp-like comparison of two Kubernetes versions. */
int azl_version_compare(const char *a, const char *b);

#endif
