/* A finding: a stable code, a severity and one line of text. The items of
 * the findings of a pool (findings.h) and of a plan's blockers and risks
 * (plan.h); on its own so that the pool model (pool.h) can hold a list
 * without depending on the rules that fill it. */
#ifndef AZL_FINDING_H
#define AZL_FINDING_H

#include <stddef.h>

#include "strbuf.h"

enum azl_severity {
	AZL_SEVERITY_INFO,
	AZL_SEVERITY_WARNING,
	AZL_SEVERITY_ERROR
};

struct azl_finding {
	enum azl_severity severity;
	const char *code;            /* a static string, e.g. AZL_FINDING_* */
	char *message;
};

struct azl_finding_list {
	struct azl_finding *items;
	size_t nr;
};

/* "error", "warning", "info". */
const char *azl_severity_name(enum azl_severity s);

/* Appends a finding, taking msg's text (msg is left empty). */
void azl_finding_add(struct azl_finding_list *list, enum azl_severity sev, const char *code,
		     struct strbuf *msg);
void azl_finding_list_release(struct azl_finding_list *list);

#endif
