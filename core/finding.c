#include "finding.h"

#include <stdlib.h>

#include "wrapper.h"

const char *azl_severity_name(enum azl_severity s)
{
	switch (s) {
	case AZL_SEVERITY_ERROR: return "error";
	case AZL_SEVERITY_WARNING: return "warning";
	default: return "info";
	}
}

void azl_finding_add(struct azl_finding_list *list, enum azl_severity sev, const char *code,
		     struct strbuf *msg)
{
	struct azl_finding *items = xrealloc(list->items, (list->nr + 1) * sizeof(*items));

	list->items = items;
	items[list->nr].severity = sev;
	items[list->nr].code = code;
	items[list->nr].message = strbuf_detach(msg, NULL);
	list->nr++;
}

void azl_finding_list_release(struct azl_finding_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		free(list->items[i].message);
	free(list->items);
	list->items = NULL;
	list->nr = 0;
}
