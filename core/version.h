/* The program's version and the ARM API version it speaks. */
#ifndef AZL_VERSION_H
#define AZL_VERSION_H

/* Every ARM request for managedClusters and agentPools uses this. */
#define AZL_ARM_API_VERSION "2026-10-01"

/* "v0.1.0-3-gabcdef" from git describe at build time. */
const char *azl_version_string(void);

#endif
