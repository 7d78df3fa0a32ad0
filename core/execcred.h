/* The client-go exec credential plugin protocol (kubelogin on AAD-enabled
 * AKS): run the kubeconfig's exec command with KUBERNETES_EXEC_INFO set,
 * read an ExecCredential from its stdout (shared/reference/
 * kubectl-plugin.md §4). Caching is the caller's business: client-go keeps
 * a credential in memory until its expiry or a 401. */
#ifndef AZL_EXECCRED_H
#define AZL_EXECCRED_H

#include <time.h>

#include "kubeconfig.h"
#include "strbuf.h"

struct azl_credential {
	char *token;                    /* secret: never log; NULL if none */
	struct strbuf client_cert_pem;
	struct strbuf client_key_pem;   /* secret: never log */
	time_t expiry;                  /* 0: none given */
};

/* Runs cfg->exec (which must be set). The plugin's stderr goes to ours;
 * stdin is passed only when the plugin runs interactively: interactiveMode
 * Always, or IfAvailable with stdin_is_tty. *out is filled on success and
 * must be released with azl_credential_release(); on failure it is left
 * empty. No message ever contains the credential. */
int azl_execcred_run(const struct azl_rest_config *cfg, int stdin_is_tty,
		     struct azl_credential *out);

/* The plugin's stdout (text) as x's ExecCredential, into *out (to be
 * released either way): exposed for tests and fuzzing. */
int azl_execcred_parse(const struct azl_exec_config *x, const struct strbuf *text,
		       struct azl_credential *out);

/* 1 when c holds a token or certificate that has not expired at now. */
int azl_credential_valid(const struct azl_credential *c, time_t now);

/* Clears and frees the secrets; c can be reused afterwards. */
void azl_credential_release(struct azl_credential *c);

#endif
