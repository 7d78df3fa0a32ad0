/* Shared by the libFuzzer targets in tests/fuzz/ (one file per target,
 * fuzz_<name>.c; corpus in corpus/<name>/, crashes kept in regress/<name>/).
 * See README.md "Fuzzing". */
#ifndef AZL_FUZZ_H
#define AZL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a NUL-terminated string (it may hold NULs of its own). */
void fuzz_str(struct strbuf *sb, const uint8_t *data, size_t size);

/* Sets HOME, XDG_CACHE_HOME and XDG_CONFIG_HOME to a fresh private
 * directory (once per process) and returns it, so targets that read or
 * write the caches never touch the user's. */
const char *fuzz_home(void);

/* Writes the input to path (0600), replacing it. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* A response: status statuses[data[0] % n], the rest of the input as its
 * body. 0, or -1 for an empty input. */
struct azl_http_response;
int fuzz_response(struct azl_http_response *resp, const uint8_t *data, size_t size,
		  const long *statuses, size_t n);

/* An ARM client (arm.h) with a fixed token, two retries and a retry budget
 * of 3 ms, so that a Retry-After or backoff longer than that gives up. */
struct azl_arm;
void fuzz_arm_new(struct azl_arm **out);

/* A Kubernetes client (kube.h) for https://127.0.0.1:6443 with a bearer
 * token, from a kubeconfig written once under fuzz_home(). */
struct azl_kube;
void fuzz_kube_new(struct azl_kube **out);

/* ---- the test double of http.h (util.c) ----
 *
 * Every target is linked with azl_http_new/free/do/do_many/preconnect
 * replaced (ld --wrap) by a double that answers requests, in the order they
 * are made, from a script: the input split at lines "%%". A part that
 * starts "HTTP <status>\n" has header lines up to an empty line, then the
 * body; any other part is a 200 body; "NETERR" is a transport failure.
 * Past the script every request fails with AZL_ENETWORK. The parsing of
 * responses (azl_http_response_header) is the real one. libc's sleep()
 * (kube.c's Retry-After) returns at once. */
void fuzz_http_script(const uint8_t *data, size_t size);
/* How many requests the double answered since the last script. */
size_t fuzz_http_requests(void);

#endif
