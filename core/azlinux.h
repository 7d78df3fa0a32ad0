/* Library-wide initialisation for programs using core/.
 *
 * main() calls azl_global_init() once, before starting any thread or
 * creating any client, and azl_global_cleanup() once at exit. They wrap
 * curl_global_init()/curl_global_cleanup(), which are not thread-safe. */
#ifndef AZL_AZLINUX_H
#define AZL_AZLINUX_H

/* Returns 0, or AZL_ERROR when libcurl cannot be initialised. */
int azl_global_init(void);
void azl_global_cleanup(void);

#endif
