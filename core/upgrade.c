/* Upgrade plans and their ARM requests (upgrade.h). */
#include "upgrade.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "error.h"
#include "json.h"
#include "migrate.h"
#include "node.h"
#include "num.h"
#include "operation.h"
#include "osinfo.h"
#include "plan.h"
#include "strbuf.h"
#include "version.h"
#include "wrapper.h"

/* AKS lets the control plane run up to this many minors ahead of a pool
 * since 1.28 (aks-api.md §1.7; version-skew-policy, migrate-upgrade.md C4). */
#define SKEW_MINORS 3

const char *azl_upgrade_mode_name(enum azl_upgrade_mode mode)
{
	switch (mode) {
	case AZL_UPGRADE_NODE_IMAGE: return "upgrade-node-image";
	case AZL_UPGRADE_KUBERNETES: return "upgrade-kubernetes";
	case AZL_UPGRADE_NODE_OS_CHANNEL: return "upgrade-node-os-channel";
	}
	return "upgrade";
}

static int has_patch(const char *version)
{
	const char *dot = strchr(version, '.');

	return dot && strchr(dot + 1, '.') != NULL;
}

static const struct azl_pool *find_pool(const struct azl_pool_list *pools, const char *name);

/* ---- settings ---- */

int azl_upgrade_settings_given(const struct azl_upgrade_settings *s)
{
	return s->max_surge || s->max_unavailable || s->drain_timeout_minutes >= 0 ||
	       s->node_soak_minutes >= 0 || s->undrainable_node_behavior;
}

/* "N" or "N%" (1-100 for a percentage). */
static int count_or_percent(const char *v)
{
	char *end;
	long n;

	if (!v || !*v || *v == '-' || *v == '+')
		return 0;
	n = strtol(v, &end, 10);
	if (end == v)
		return 0;
	if (*end == '%')
		return end[1] == '\0' && n >= 1 && n <= 100;
	return *end == '\0' && n >= 0;
}

int azl_upgrade_settings_check(const struct azl_upgrade_settings *s)
{
	if (s->max_surge && !count_or_percent(s->max_surge))
		return azl_error_set(AZL_EINVALID, "--max-surge '%s' is not a node count or a percentage (like 1 or 33%%)",
				     s->max_surge);
	if (s->max_unavailable && !count_or_percent(s->max_unavailable))
		return azl_error_set(AZL_EINVALID, "--max-unavailable '%s' is not a node count or a percentage (like 0 or 10%%)",
				     s->max_unavailable);
	if (s->drain_timeout_minutes >= 0 &&
	    (s->drain_timeout_minutes < 1 || s->drain_timeout_minutes > 1440))
		return azl_error_set(AZL_EINVALID, "--drain-timeout %ld: AKS takes 1 to 1440 minutes",
				     s->drain_timeout_minutes);
	if (s->node_soak_minutes > 30)
		return azl_error_set(AZL_EINVALID, "--node-soak %ld: AKS takes 0 to 30 minutes",
				     s->node_soak_minutes);
	if (s->undrainable_node_behavior && strcmp(s->undrainable_node_behavior, "Cordon") &&
	    strcmp(s->undrainable_node_behavior, "Schedule"))
		return azl_error_set(AZL_EINVALID, "--undrainable-node-behavior '%s': use Cordon or Schedule",
				     s->undrainable_node_behavior);
	return 0;
}

/* ---- the plan ---- */

static void note(struct azl_upgrade_plan *plan, enum azl_severity sev, const char *code,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void note(struct azl_upgrade_plan *plan, enum azl_severity sev, const char *code,
		 const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	azl_finding_add(&plan->preflight, sev, code, &msg);
}

static void add_step(struct azl_upgrade_plan *plan, enum azl_upgrade_op_kind kind,
		     const char *pool, const char *from, const char *to)
{
	static const char *const what[] = { "control-plane", "pool", "node-image", "node-os-channel" };
	struct azl_upgrade_op *s;
	struct strbuf name = STRBUF_INIT;

	plan->steps = xrealloc(plan->steps, (plan->nr_steps + 1) * sizeof(*plan->steps));
	s = &plan->steps[plan->nr_steps++];
	s->kind = kind;
	s->pool = xstrdup(pool ? pool : "");
	s->from = xstrdup(from ? from : "");
	s->to = xstrdup(to);
	strbuf_addstr(&name, what[kind]);
	if (pool)
		strbuf_addf(&name, " %s", pool);
	strbuf_addf(&name, " %s", to);
	s->name = strbuf_detach(&name, NULL);
}

static void add_skip(struct azl_upgrade_plan *plan, const char *pool, struct strbuf *reason)
{
	plan->skipped = xrealloc(plan->skipped, (plan->nr_skipped + 1) * sizeof(*plan->skipped));
	plan->skipped[plan->nr_skipped].pool = xstrdup(pool);
	plan->skipped[plan->nr_skipped].reason = strbuf_detach(reason, NULL);
	plan->nr_skipped++;
}

static int is_system(const struct azl_pool *p)
{
	return !strcasecmp(p->mode, "System");
}

static int named(const struct azl_pool *p, const char *const *names, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(p->name, names[i]))
			return 1;
	return !nr;
}

/* The pools named, System pools first, then the rest, each in the list's
 * (name) order; their number. */
static size_t ordered(const struct azl_pool_list *pools, const char *const *names, size_t nr,
		      const struct azl_pool **out)
{
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < pools->nr; i++)
			if (is_system(&pools->items[i]) == !pass && named(&pools->items[i], names, nr))
				out[n++] = &pools->items[i];
	return n;
}

static int unknown_pool(const struct azl_pool_list *pools, const char *const *names, size_t nr)
{
	for (size_t k = 0; k < nr; k++) {
		size_t i = 0;

		while (i < pools->nr && strcmp(pools->items[i].name, names[k]))
			i++;
		if (i == pools->nr)
			return azl_error_set(AZL_ENOTFOUND, "node pool '%s' not found in the cluster: 'kubectl azlinux pools' lists them",
					     names[k]);
	}
	return 0;
}

static void check_succeeded(struct azl_upgrade_plan *plan, const struct azl_pool *p)
{
	if (*p->provisioning_state && strcasecmp(p->provisioning_state, "Succeeded"))
		note(plan, AZL_SEVERITY_ERROR, AZL_UPGRADE_CHECK_NOT_SUCCEEDED,
		     "pool %s is %s, not Succeeded: wait for its operation to end (kubectl azlinux status) or fix it first",
		     p->name, p->provisioning_state);
}

static void plan_node_image(const struct azl_cluster *c, const struct azl_pool **order,
			    size_t n, struct azl_upgrade_plan *plan)
{
	for (size_t i = 0; i < n; i++) {
		const struct azl_pool *p = order[i];
		struct azl_plan pp;
		struct strbuf why = STRBUF_INIT;

		azl_plan_node_image(c, p, &pp);
		if (pp.kind == AZL_PLAN_NODE_IMAGE_UPGRADE) {
			check_succeeded(plan, p);
			add_step(plan, AZL_UPGRADE_STEP_NODE_IMAGE, p->name, p->node_image_version,
				 pp.node_image_version);
			plan->steps[plan->nr_steps - 1].system = is_system(p);
		} else if (*p->latest_node_image_version) {
			strbuf_addf(&why, "already on the latest node image %s", p->node_image_version);
			add_skip(plan, p->name, &why);
		} else {
			strbuf_addstr(&why, "its upgrade profile names no latest node image");
			add_skip(plan, p->name, &why);
		}
		azl_plan_release(&pp);
	}
	if (!strcasecmp(c->node_os_upgrade_channel, "NodeImage") && plan->nr_steps)
		note(plan, AZL_SEVERITY_INFO, AZL_UPGRADE_CHECK_NODE_OS_CHANNEL,
		     "the cluster's node OS channel NodeImage would apply these images in its next maintenance window; this does it now");
}

/* The newest version of minor among versions, or NULL. */
static const char *newest_of(char *const *versions, size_t nr, int minor)
{
	const char *best = NULL;

	for (size_t i = 0; i < nr; i++)
		if (azl_version_kube_minor(versions[i]) == minor &&
		    (!best || azl_version_compare(versions[i], best) > 0))
			best = versions[i];
	return best;
}

/* The control plane's steps to target, from plan.h's rule (one minor at a
 * time, each through the newest patch offered), read off a pool that runs
 * the control plane's version. */
static int control_plane_path(const struct azl_cluster *c, const char *target,
			      struct azl_plan *out)
{
	struct azl_pool cp = { 0 };
	int rc;

	cp.name = (char *)"control-plane";
	cp.mode = cp.os_type = cp.os_sku = (char *)"";
	cp.kubernetes_version = (char *)azl_plan_control_plane_version(c);
	rc = azl_plan_kubernetes(c, &cp, target, out);
	if (!rc && out->nr_path) {      /* the last step is the pool's own */
		free(out->path[out->nr_path - 1].version);
		out->nr_path--;
	}
	/* a newer patch of the control plane's own minor: one step, offered or not */
	if (!rc && !out->nr_path && has_patch(target) &&
	    azl_version_kube_minor(target) == azl_version_kube_minor(cp.kubernetes_version) &&
	    azl_version_compare(target, cp.kubernetes_version) > 0) {
		struct strbuf msg = STRBUF_INIT;
		size_t i = 0;

		while (i < c->nr_upgrades && strcmp(c->upgrades[i], target))
			i++;
		if (i == c->nr_upgrades) {
			strbuf_addf(&msg, "the control plane offers no upgrade to %s; see 'az aks get-upgrades'",
				    target);
			azl_finding_add(&out->blockers, AZL_SEVERITY_ERROR, AZL_PLAN_BLOCK_NO_VERSION, &msg);
		}
		out->path = xrealloc(out->path, sizeof(*out->path));
		out->path[0].control_plane = 1;
		out->path[0].version = xstrdup(target);
		out->nr_path = 1;
	}
	return rc;
}

/* The version a pool goes to for minor m: the control plane's when it runs
 * that minor, else the newest the pool is offered, else the minor alone
 * (AKS picks its newest patch). */
static void pool_version_for(const struct azl_pool *p, const char *cp_version, int m,
			     struct strbuf *out)
{
	const char *v = newest_of(p->upgrades, p->nr_upgrades, m);

	strbuf_reset(out);
	if (azl_version_kube_minor(cp_version) == m)
		strbuf_addstr(out, cp_version);
	else if (v)
		strbuf_addstr(out, v);
	else
		strbuf_addf(out, "1.%d", m);
}

/* plan.h's items for one pool (or the control plane), in the preflight. */
static void copy_items(struct azl_upgrade_plan *plan, const struct azl_finding_list *list,
		       const char *pool)
{
	for (size_t i = 0; i < list->nr; i++) {
		const struct azl_finding *f = &list->items[i];
		int pin = !strcmp(f->code, AZL_PLAN_BLOCK_AZL3_PIN);

		note(plan, f->severity,
		     pin || f->severity != AZL_SEVERITY_ERROR ? AZL_UPGRADE_CHECK_OS
		     : AZL_UPGRADE_CHECK_NOT_OFFERED, "%s%s%s%s%s%s", pool ? "pool " : "",
		     pool ? pool : "", pool ? ": " : "", f->message,
		     pin ? " (kubectl azlinux migrate " : "", pin && pool ? pool : "");
		if (pin) {
			struct azl_finding *last = &plan->preflight.items[plan->preflight.nr - 1];
			struct strbuf msg = STRBUF_INIT;

			strbuf_addf(&msg, "%s --to AzureLinux)", last->message);
			free(last->message);
			last->message = strbuf_detach(&msg, NULL);
		}
	}
}

/* A pool that stays on its version while the control plane reaches target. */
static void check_skew(struct azl_upgrade_plan *plan, const struct azl_pool *p, int target)
{
	int behind = target - azl_version_kube_minor(p->kubernetes_version);

	if (behind > SKEW_MINORS)
		note(plan, AZL_SEVERITY_ERROR, AZL_UPGRADE_CHECK_SKEW,
		     "pool %s on %s would fall %d minors behind the control plane's 1.%d (AKS allows %d): upgrade the pool first",
		     p->name, p->kubernetes_version, behind, target, SKEW_MINORS);
	else if (behind == SKEW_MINORS)
		note(plan, AZL_SEVERITY_WARNING, AZL_UPGRADE_CHECK_SKEW,
		     "pool %s on %s would be %d minors behind the control plane's 1.%d: the most AKS allows since 1.28 (its own error text still speaks of two)",
		     p->name, p->kubernetes_version, behind, target);
}

static int in_list(const struct azl_pool *p, const struct azl_pool *const *order, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (order[i] == p)
			return 1;
	return 0;
}

static void check_auto_upgrade(const struct azl_cluster *c, const struct azl_upgrade_options *o,
			       struct azl_upgrade_plan *plan)
{
	if (!*c->upgrade_channel || !strcasecmp(c->upgrade_channel, "none"))
		return;
	if (o->control_plane_only)
		note(plan, AZL_SEVERITY_ERROR, AZL_UPGRADE_CHECK_AUTO_UPGRADE,
		     "cluster auto-upgrade (channel %s) forbids a control-plane-only upgrade: set it to none first (az aks update --auto-upgrade-channel none)",
		     c->upgrade_channel);
	else
		note(plan, AZL_SEVERITY_WARNING, AZL_UPGRADE_CHECK_AUTO_UPGRADE,
		     "cluster auto-upgrade (channel %s) may start its own upgrade in a maintenance window and race this one",
		     c->upgrade_channel);
}

/* Where pool p ends: the control plane's last version when it moves (or
 * when target names its minor), target itself when it names a patch, else
 * the newest of target's minor the pool is offered (or the minor alone). */
static void final_version(const struct azl_pool *p, const char *target, const char *cp_end,
			  int moved, struct strbuf *out)
{
	int t = azl_version_kube_minor(target);

	strbuf_reset(out);
	if (moved || (!has_patch(target) && azl_version_kube_minor(cp_end) == t))
		strbuf_addstr(out, cp_end);
	else if (has_patch(target))
		strbuf_addstr(out, target);
	else
		pool_version_for(p, cp_end, t, out);
}

/* Pool i up to minor limit, a minor at a time, behind the control plane at
 * cp; at the last state (final != NULL) up to final. */
static void follow(struct azl_upgrade_plan *plan, const struct azl_pool *p, struct strbuf *cur,
		   const char *cp, int limit, const char *final)
{
	struct strbuf v = STRBUF_INIT;

	for (;;) {
		int m = azl_version_kube_minor(cur->buf);
		int k = m < limit ? m + 1 : limit;

		if (m > limit || (m == limit && (!final || azl_version_compare(cur->buf, final) >= 0)))
			break;
		if (final && k == limit)
			strbuf_addstr(&v, final);
		else
			pool_version_for(p, cp, k, &v);
		add_step(plan, AZL_UPGRADE_STEP_POOL_VERSION, p->name, cur->buf, v.buf);
		plan->steps[plan->nr_steps - 1].system = is_system(p);
		strbuf_reset(cur);
		strbuf_addbuf(cur, &v);
		strbuf_reset(&v);
	}
	strbuf_release(&v);
}

static void pool_checks(const struct azl_cluster *c, const struct azl_pool *p,
			const struct azl_upgrade_options *o, struct azl_upgrade_plan *plan)
{
	struct azl_plan pp;

	check_succeeded(plan, p);
	if (!azl_plan_kubernetes(c, p, o->version, &pp)) {
		copy_items(plan, &pp.blockers, p->name);
		copy_items(plan, &pp.risks, p->name);
	}
	azl_plan_release(&pp);
	if (!strcasecmp(p->os_type, "Windows"))
		note(plan, AZL_SEVERITY_INFO, AZL_UPGRADE_CHECK_OS,
		     "pool %s runs Windows: upgraded, its OS is not judged here", p->name);
}

/* The control plane's states (now, then each step), each followed by the
 * pools one minor at a time up to it; at the last state up to target. */
static void sequence(const struct azl_cluster *c, const struct azl_pool **order, size_t n,
		     const struct azl_plan *path, const struct azl_upgrade_options *o,
		     struct azl_upgrade_plan *plan)
{
	const char *cp = azl_plan_control_plane_version(c);
	const char *cp_end = path->nr_path ? path->path[path->nr_path - 1].version : cp;
	int t = azl_version_kube_minor(o->version);
	struct strbuf *cur = xcalloc(n ? n : 1, sizeof(*cur));
	struct strbuf *fin = xcalloc(n ? n : 1, sizeof(*fin));

	for (size_t i = 0; i < n; i++) {
		strbuf_init(&cur[i], 0);
		strbuf_addstr(&cur[i], order[i]->kubernetes_version);
		strbuf_init(&fin[i], 0);
		final_version(order[i], o->version, cp_end, path->nr_path > 0, &fin[i]);
	}
	for (size_t s = 0; s <= path->nr_path; s++) {
		const char *now = s ? path->path[s - 1].version : cp;
		int last = s == path->nr_path;

		if (s)
			add_step(plan, AZL_UPGRADE_STEP_CONTROL_PLANE, NULL,
				 s == 1 ? cp : path->path[s - 2].version, now);
		for (size_t i = 0; i < n && !o->control_plane_only; i++)
			follow(plan, order[i], &cur[i], now,
			       last ? t : azl_version_kube_minor(now), last ? fin[i].buf : NULL);
	}
	for (size_t i = 0; i < n && !o->control_plane_only; i++) {
		if (!strcmp(cur[i].buf, order[i]->kubernetes_version)) {
			struct strbuf why = STRBUF_INIT;

			strbuf_addf(&why, "already on Kubernetes %s", order[i]->kubernetes_version);
			add_skip(plan, order[i]->name, &why);
		} else {
			pool_checks(c, order[i], o, plan);
		}
		strbuf_release(&cur[i]);
		strbuf_release(&fin[i]);
	}
	free(cur);
	free(fin);
}

static int plan_kubernetes(const struct azl_cluster *c, const struct azl_pool **order, size_t n,
			   const struct azl_pool_list *all, const struct azl_upgrade_options *o,
			   struct azl_upgrade_plan *plan)
{
	const char *cp = azl_plan_control_plane_version(c);
	struct azl_plan path;
	int major, minor, rc, cp_minor = azl_version_kube_minor(cp);

	if (!o->version || azl_version_minor(o->version, &major, &minor))
		return azl_error_set(AZL_EINVALID, "--kubernetes-version '%s' is not a version (like 1.33 or 1.33.2)",
				     o->version ? o->version : "");
	rc = control_plane_path(c, o->version, &path);
	if (rc)
		return rc;
	copy_items(plan, &path.blockers, NULL);
	if (path.nr_path && !path.blockers.nr)
		check_auto_upgrade(c, o, plan);
	for (size_t i = 0; i < all->nr; i++)
		if (o->control_plane_only || !in_list(&all->items[i], order, n))
			check_skew(plan, &all->items[i], minor > cp_minor ? minor : cp_minor);
	if (!path.blockers.nr)
		sequence(c, order, n, &path, o, plan);
	if (!plan->nr_steps && !path.blockers.nr)
		note(plan, AZL_SEVERITY_INFO, AZL_UPGRADE_CHECK_NOTHING,
		     o->control_plane_only ? "nothing to upgrade: the control plane runs %s already"
		     : "nothing to upgrade: the control plane and the pools run %s or newer",
		     o->control_plane_only ? cp : o->version);
	azl_plan_release(&path);
	return 0;
}

/* Channel changes that reimage every node (aks-api.md §1.7). */
static int forces_reimage(const char *from, const char *to)
{
	static const char *const pairs[][2] = {
		{ "Unmanaged", "None" }, { "", "Unmanaged" }, { "Unspecified", "Unmanaged" },
		{ "SecurityPatch", "Unmanaged" }, { "NodeImage", "Unmanaged" }, { "None", "Unmanaged" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (!strcasecmp(from, pairs[i][0]) && !strcasecmp(to, pairs[i][1]))
			return 1;
	return 0;
}

const char *azl_upgrade_node_os_channel_name(size_t i)
{
	static const char *const channels[] = { "None", "Unmanaged", "SecurityPatch", "NodeImage" };

	return i < sizeof(channels) / sizeof(*channels) ? channels[i] : NULL;
}

static int plan_channel(const struct azl_cluster *c, const struct azl_upgrade_options *o,
			struct azl_upgrade_plan *plan)
{
	const char *to = NULL, *from = c->node_os_upgrade_channel, *name;

	for (size_t i = 0; (name = azl_upgrade_node_os_channel_name(i)); i++)
		if (o->node_os_channel && !strcasecmp(o->node_os_channel, name))
			to = name;
	if (!to)
		return azl_error_set(AZL_EINVALID, "--node-os-channel '%s': use None, Unmanaged, SecurityPatch or NodeImage",
				     o->node_os_channel ? o->node_os_channel : "");
	free(plan->target);
	plan->target = xstrdup(to);
	if (!strcasecmp(from, to)) {
		note(plan, AZL_SEVERITY_INFO, AZL_UPGRADE_CHECK_NOTHING,
		     "the cluster's node OS upgrade channel is %s already", to);
		return 0;
	}
	if (!strcasecmp(c->upgrade_channel, "node-image") && strcmp(to, "NodeImage"))
		note(plan, AZL_SEVERITY_ERROR, AZL_UPGRADE_CHECK_AUTO_UPGRADE,
		     "cluster auto-upgrade channel node-image forces the node OS channel to NodeImage: change the auto-upgrade channel first");
	if (forces_reimage(from, to))
		note(plan, AZL_SEVERITY_WARNING, AZL_UPGRADE_CHECK_REIMAGE,
		     "changing the node OS channel from %s to %s reimages every node of the cluster",
		     *from ? from : "Unspecified", to);
	add_step(plan, AZL_UPGRADE_STEP_NODE_OS_CHANNEL, NULL, from, to);
	return 0;
}

int azl_upgrade_plan_build(const struct azl_cluster *c, const struct azl_pool_list *pools,
			   const char *const *names, size_t nr_names,
			   const struct azl_upgrade_options *opts, struct azl_upgrade_plan *out)
{
	const struct azl_pool **order;
	size_t n;
	int rc = unknown_pool(pools, names, nr_names);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	order = xcalloc(pools->nr ? pools->nr : 1, sizeof(*order));
	out->mode = opts->mode;
	out->target = xstrdup(opts->mode == AZL_UPGRADE_KUBERNETES && opts->version ? opts->version
			      : "latest");
	n = opts->control_plane_only ? 0 : ordered(pools, names, nr_names, order);
	if (opts->mode == AZL_UPGRADE_NODE_IMAGE)
		plan_node_image(c, order, n, out);
	else if (opts->mode == AZL_UPGRADE_KUBERNETES)
		rc = plan_kubernetes(c, order, n, pools, opts, out);
	else
		rc = plan_channel(c, opts, out);
	if (!rc && azl_upgrade_settings_given(&opts->settings) &&
	    opts->mode == AZL_UPGRADE_KUBERNETES && !opts->control_plane_only)
		note(out, AZL_SEVERITY_INFO, AZL_UPGRADE_CHECK_SETTINGS,
		     "the upgrade settings given are written into each upgraded pool's upgradeSettings and persist");
	free(order);
	if (rc)
		azl_upgrade_plan_release(out);
	return rc;
}

void azl_upgrade_check_pdbs(struct azl_upgrade_plan *plan, const struct azl_pdb_list *pdbs)
{
	if (!plan->nr_steps || plan->mode == AZL_UPGRADE_NODE_OS_CHANNEL)
		return;
	for (size_t i = 0; i < pdbs->nr; i++) {
		const struct azl_pdb *b = &pdbs->items[i];

		if (b->expected_pods > 0 && b->disruptions_allowed <= 0)
			note(plan, AZL_SEVERITY_WARNING, AZL_UPGRADE_CHECK_PDB,
			     "PodDisruptionBudget %s/%s allows no disruption now (%ld of %ld pods healthy, %ld needed): a drain of a node running its pods waits on it, then fails after the drain timeout",
			     b->namespace_, b->name, b->current_healthy, b->expected_pods,
			     b->desired_healthy);
	}
}

/* The publish date of an AKS node image, from the YYYYMM.DD that ends
 * its name ("AKSUbuntu-2204gen2containerd-202607.09.0"); 0 when the name
 * has none (Windows images carry a build number instead). */
time_t azl_upgrade_node_image_date(const char *image)
{
	const char *v = image ? strrchr(image, '-') : NULL;
	char ym[7] = "", day[3] = "";
	long y, d;
	struct tm tm = { 0 };

	if (!v || strlen(v + 1) < 9 || v[7] != '.')
		return 0;
	memcpy(ym, v + 1, 6);
	memcpy(day, v + 8, 2);
	if (azl_num_scan(ym, 201001, 209912, &y) != AZL_NUM_OK || y % 100 < 1 || y % 100 > 12 ||
	    azl_num_scan(day, 1, 31, &d) != AZL_NUM_OK)
		return 0;
	tm.tm_year = (int)(y / 100) - 1900;
	tm.tm_mon = (int)(y % 100) - 1;
	tm.tm_mday = (int)d;
	return timegm(&tm);
}

/* migrate-upgrade.md §A5 22: "Microsoft does not support node images
 * that are older than 90 days" (aks-docs support-policies.md), and a
 * Fleet update run "might fail" on them. A pool the plan upgrades gets
 * its latest image with it; one it skips as current stays on it. */
void azl_upgrade_check_image_age(struct azl_upgrade_plan *plan, const struct azl_pool_list *pools,
				 time_t now)
{
	for (size_t i = 0; i < pools->nr; i++) {
		const struct azl_pool *p = &pools->items[i];
		time_t published = azl_upgrade_node_image_date(p->node_image_version);
		long days = published && now > published ? (long)((now - published) / 86400) : 0;
		int upgraded = 0, skipped = 0;

		if (days <= AZL_UPGRADE_IMAGE_SUPPORT_DAYS)
			continue;
		for (size_t k = 0; k < plan->nr_steps; k++)
			upgraded |= !strcmp(plan->steps[k].pool, p->name);
		for (size_t k = 0; k < plan->nr_skipped; k++)
			skipped |= !strcmp(plan->skipped[k].pool, p->name);
		if (upgraded)
			note(plan, AZL_SEVERITY_INFO, AZL_UPGRADE_CHECK_IMAGE_AGE,
			     "pool %s runs node image %s, %ld days old: AKS does not support node images older than %d days; this upgrade replaces it",
			     p->name, p->node_image_version, days, AZL_UPGRADE_IMAGE_SUPPORT_DAYS);
		else if (skipped && *p->latest_node_image_version &&
			 strcmp(p->latest_node_image_version, p->node_image_version))
			note(plan, AZL_SEVERITY_WARNING, AZL_UPGRADE_CHECK_IMAGE_AGE,
			     "pool %s stays on node image %s, %ld days old, which AKS no longer supports (older than %d days): kubectl azlinux upgrade %s --node-image",
			     p->name, p->node_image_version, days, AZL_UPGRADE_IMAGE_SUPPORT_DAYS, p->name);
		else if (skipped)
			note(plan, AZL_SEVERITY_WARNING, AZL_UPGRADE_CHECK_IMAGE_AGE,
			     "pool %s stays on node image %s, %ld days old, which AKS no longer supports (older than %d days), and AKS offers nothing newer for it: kubectl azlinux check names the next step",
			     p->name, p->node_image_version, days, AZL_UPGRADE_IMAGE_SUPPORT_DAYS);
	}
}

void azl_upgrade_plan_release(struct azl_upgrade_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nr_steps; i++) {
		free(plan->steps[i].name);
		free(plan->steps[i].pool);
		free(plan->steps[i].from);
		free(plan->steps[i].to);
	}
	for (size_t i = 0; i < plan->nr_skipped; i++) {
		free(plan->skipped[i].pool);
		free(plan->skipped[i].reason);
	}
	free(plan->steps);
	free(plan->skipped);
	free(plan->target);
	azl_finding_list_release(&plan->preflight);
	memset(plan, 0, sizeof(*plan));
}

/* ---- capacity ---- */

static void plan_phases(const struct azl_upgrade_plan *plan, size_t *phases);

static void add_findings(struct azl_upgrade_plan *plan, const struct azl_finding_list *found)
{
	for (size_t i = 0; i < found->nr; i++) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addstr(&msg, found->items[i].message);
		azl_finding_add(&plan->preflight, found->items[i].severity, found->items[i].code, &msg);
	}
}

/* One at a time: per VM size, the largest pool needs the most surge at
 * once. */
static void capacity_one_at_a_time(struct azl_upgrade_plan *plan, struct azl_arm *arm,
				   const struct azl_cluster *c, const struct azl_pool_list *pools,
				   const char *max_surge, struct azl_finding_list *found)
{
	const struct azl_pool **worst = xcalloc(pools->nr ? pools->nr : 1, sizeof(*worst));
	size_t n = 0;

	for (size_t i = 0; i < plan->nr_steps; i++) {
		const struct azl_pool *p = *plan->steps[i].pool
					   ? find_pool(pools, plan->steps[i].pool) : NULL;
		size_t k = 0;

		if (!p || plan->steps[i].kind == AZL_UPGRADE_STEP_CONTROL_PLANE)
			continue;
		while (k < n && strcasecmp(worst[k]->vm_size, p->vm_size))
			k++;
		if (k == n)
			worst[n++] = p;
		else if (p->count > worst[k]->count)
			worst[k] = p;
	}
	for (size_t k = 0; k < n; k++)
		azl_preflight_surge_capacity(arm, c, worst[k], max_surge, found);
	free(worst);
}

/* The pools of phase, the largest first, at most max of them: those that
 * may roll at once; their number. */
static size_t phase_pools(const struct azl_upgrade_plan *plan, const size_t *phases, size_t phase,
			  const struct azl_pool_list *pools, size_t max, const struct azl_pool **out)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->nr_steps; i++) {
		const struct azl_pool *p = phases[i] == phase ? find_pool(pools, plan->steps[i].pool) : NULL;
		size_t k;

		if (!p)
			continue;
		out[n++] = p;
		for (k = n - 1; k > 0 && out[k - 1]->count < out[k]->count; k--) {
			const struct azl_pool *t = out[k];

			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	}
	return n < max ? n : max;
}

void azl_upgrade_check_capacity(struct azl_upgrade_plan *plan, struct azl_arm *arm,
				const struct azl_cluster *c, const struct azl_pool_list *pools,
				const char *max_surge, size_t parallel)
{
	struct azl_finding_list found = { 0 };
	size_t *phases = xcalloc(plan->nr_steps + 1, sizeof(*phases));
	const struct azl_pool **at_once = xcalloc(plan->nr_steps + 1, sizeof(*at_once));
	size_t last = 0;

	if (plan->mode != AZL_UPGRADE_KUBERNETES)
		max_surge = NULL;
	plan_phases(plan, phases);
	if (parallel < 2)
		capacity_one_at_a_time(plan, arm, c, pools, max_surge, &found);
	/* each phase's pools rolling together, each phase on its own: the
	 * quota a phase's surge takes is back before the next one starts */
	for (size_t i = 0; parallel >= 2 && i < plan->nr_steps; i++) {
		size_t n;

		if (!phases[i] || phases[i] == last)
			continue;
		last = phases[i];
		n = phase_pools(plan, phases, last, pools, parallel, at_once);
		azl_preflight_surge_capacity_many(arm, c, at_once, n, max_surge, &found);
	}
	add_findings(plan, &found);
	azl_finding_list_release(&found);
	free(at_once);
	free(phases);
}

/* ---- deprecated APIs (migrate-upgrade.md C1, C2) ---- */

#define DEPRECATED_METRIC "apiserver_requested_deprecated_apis"
#define METRICS_MAX (8u << 20)      /* a /metrics larger than this is cut there */

/* One label value, unescaped (\\, \", \n), from *p to its closing quote;
 * 0 when the line ends first. */
static int label_value(const char **p, const char *end, struct strbuf *out)
{
	const char *s = *p;

	for (; s < end && *s != '"'; s++) {
		if (*s == '\\' && s + 1 < end) {
			s++;
			strbuf_addch(out, *s == 'n' ? '\n' : *s);
		} else {
			strbuf_addch(out, *s);
		}
	}
	if (s >= end)
		return 0;
	*p = s + 1;
	return 1;
}

static char **label_slot(struct azl_deprecated_api *d, const char *name, size_t len)
{
	static const char *const names[] = { "group", "version", "resource", "subresource",
					     "removed_release" };
	char **slots[] = { &d->group, &d->version, &d->resource, &d->subresource,
			   &d->removed_release };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && !memcmp(names[i], name, len))
			return slots[i];
	return NULL;
}

/* The labels of one series, {a="x",b="y"}, into d; 0 when malformed. */
static int parse_labels(const char **p, const char *end, struct azl_deprecated_api *d)
{
	const char *s = *p;

	while (s < end && *s != '}') {
		const char *name = s;
		struct strbuf v = STRBUF_INIT;
		char **slot;

		while (s < end && *s != '=' && *s != '}' && *s != ',')
			s++;
		if (s + 1 >= end || *s != '=' || s[1] != '"')
			return 0;
		slot = label_slot(d, name, (size_t)(s - name));
		s += 2;
		if (!label_value(&s, end, &v)) {
			strbuf_release(&v);
			return 0;
		}
		if (slot) {
			free(*slot);
			*slot = strbuf_detach(&v, NULL);
		}
		strbuf_release(&v);
		if (s < end && *s == ',')
			s++;
	}
	if (s >= end)
		return 0;
	*p = s + 1;
	return 1;
}

static void api_release(struct azl_deprecated_api *d)
{
	free(d->group);
	free(d->version);
	free(d->resource);
	free(d->subresource);
	free(d->removed_release);
}

/* One line; a series of the gauge with a value other than 0 is appended. */
static void parse_line(const char *s, const char *end, struct azl_deprecated_api_list *out)
{
	size_t n = strlen(DEPRECATED_METRIC);
	struct azl_deprecated_api d = { 0 };

	if ((size_t)(end - s) <= n || memcmp(s, DEPRECATED_METRIC, n) || s[n] != '{')
		return;
	s += n + 1;
	if (parse_labels(&s, end, &d)) {
		char num[64], *e;
		size_t k = 0;
		double v;

		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (s < end && k < sizeof(num) - 1 && *s != ' ' && *s != '\t' && *s != '\r')
			num[k++] = *s++;
		num[k] = '\0';
		v = strtod(num, &e);
		/* the value: anything but a zero ("0", "0.0", "0e0") counts */
		if (e != num && (v > 0 || v < 0)) {
			struct azl_deprecated_api *slot;

			out->items = xrealloc(out->items, (out->nr + 1) * sizeof(*out->items));
			slot = &out->items[out->nr++];
			slot->group = xstrdup(d.group ? d.group : "");
			slot->version = xstrdup(d.version ? d.version : "");
			slot->resource = xstrdup(d.resource ? d.resource : "");
			slot->subresource = xstrdup(d.subresource ? d.subresource : "");
			slot->removed_release = xstrdup(d.removed_release ? d.removed_release : "");
		}
	}
	api_release(&d);
}

void azl_deprecated_apis_parse(const char *text, size_t len, struct azl_deprecated_api_list *out)
{
	const char *s = text, *end = text + len;

	out->items = NULL;
	out->nr = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;

		if (*s != '#')
			parse_line(s, eol, out);
		s = nl ? nl + 1 : end;
	}
}

void azl_deprecated_api_list_release(struct azl_deprecated_api_list *list)
{
	for (size_t i = 0; list && i < list->nr; i++)
		api_release(&list->items[i]);
	if (list) {
		free(list->items);
		list->items = NULL;
		list->nr = 0;
	}
}

static int metrics_chunk(const char *data, size_t len, void *ctx)
{
	struct strbuf *sb = ctx;

	if (sb->len + len > METRICS_MAX)
		len = METRICS_MAX - sb->len;
	strbuf_add(sb, data, len);
	return 0;
}

/* "; objects: ns/a, ns/b" for up to three objects stored under the API, if
 * it is still served. */
static void stored_objects(struct azl_kube *kube, const struct azl_deprecated_api *d,
			   struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;
	cJSON *list = NULL;
	const cJSON *items;
	int n = 0;

	strbuf_addf(&path, "%s%s/%s/%s?limit=3", *d->group ? "/apis/" : "/api", d->group,
		    d->version, d->resource);
	if (!azl_kube_get(kube, path.buf, &list)) {
		items = cJSON_GetObjectItemCaseSensitive(list, "items");
		for (const cJSON *it = items ? items->child : NULL; it; it = it->next, n++) {
			const char *ns = azl_json_str(it, "metadata.namespace", "");

			strbuf_addf(out, "%s%s%s%s", n ? ", " : "; objects stored under it: ", ns,
				    *ns ? "/" : "", azl_json_str(it, "metadata.name", ""));
		}
	}
	cJSON_Delete(list);
	strbuf_release(&path);
}

void azl_upgrade_check_deprecated_apis(struct azl_upgrade_plan *plan, const struct azl_cluster *c,
				       struct azl_kube *kube)
{
	int from = azl_version_kube_minor(azl_plan_control_plane_version(c)), to = from;
	struct azl_kube_result res = AZL_KUBE_RESULT_INIT;
	struct azl_http_stream stream = { metrics_chunk, NULL, NULL };
	struct azl_deprecated_api_list apis = { 0 };
	struct strbuf text = STRBUF_INIT;

	for (size_t i = 0; i < plan->nr_steps; i++)
		if (plan->steps[i].kind == AZL_UPGRADE_STEP_CONTROL_PLANE &&
		    azl_version_kube_minor(plan->steps[i].to) > to)
			to = azl_version_kube_minor(plan->steps[i].to);
	if (to <= from)
		return;
	stream.ctx = &text;
	if (azl_kube_stream(kube, "/metrics", &stream, &res)) {
		note(plan, AZL_SEVERITY_INFO, AZL_UPGRADE_CHECK_DEPRECATED_API,
		     "cannot read the API server's /metrics (%s): deprecated API usage is not judged here; AKS checks it before the control plane upgrade",
		     azl_error_message());
		goto out;
	}
	azl_deprecated_apis_parse(text.buf, text.len, &apis);
	for (size_t i = 0; i < apis.nr; i++) {
		const struct azl_deprecated_api *d = &apis.items[i];
		int removed = azl_version_kube_minor(d->removed_release);
		struct strbuf uses = STRBUF_INIT;

		if (removed <= from || removed > to)
			continue;
		stored_objects(kube, d, &uses);
		note(plan, AZL_SEVERITY_ERROR, AZL_UPGRADE_CHECK_DEPRECATED_API,
		     "API %s%s%s %s%s%s, removed in %s, was requested since the API server started (apiserver_requested_deprecated_apis): AKS blocks this control plane upgrade (UpgradeBlockedOnDeprecatedAPIUsage); move its clients to a supported version first%s",
		     d->group, *d->group ? "/" : "", d->version, d->resource, *d->subresource ? "/" : "",
		     d->subresource, d->removed_release, uses.buf);
		strbuf_release(&uses);
	}
out:
	azl_deprecated_api_list_release(&apis);
	azl_kube_result_release(&res);
	strbuf_release(&text);
}

/* ---- the journal's record ---- */

static const char *const op_kinds[] = { "control-plane", "pool-version", "node-image",
					"node-os-channel" };

static cJSON *settings_json(const struct azl_upgrade_settings *s)
{
	cJSON *o = cJSON_CreateObject();

	if (s->max_surge)
		cJSON_AddStringToObject(o, "maxSurge", s->max_surge);
	if (s->max_unavailable)
		cJSON_AddStringToObject(o, "maxUnavailable", s->max_unavailable);
	if (s->drain_timeout_minutes >= 0)
		cJSON_AddNumberToObject(o, "drainTimeoutInMinutes", (double)s->drain_timeout_minutes);
	if (s->node_soak_minutes >= 0)
		cJSON_AddNumberToObject(o, "nodeSoakDurationInMinutes", (double)s->node_soak_minutes);
	if (s->undrainable_node_behavior)
		cJSON_AddStringToObject(o, "undrainableNodeBehavior", s->undrainable_node_behavior);
	return o;
}

/* {"kubernetesVersion","nodeImageVersion","nodeOSUpgradeChannel"}: the
 * cluster's now (from) or after the plan (to; the last step of each). */
static cJSON *side_json(const struct azl_upgrade_plan *plan, const struct azl_cluster *c, int to)
{
	const char *k8s = azl_plan_control_plane_version(c), *image = NULL;
	const char *channel = c->node_os_upgrade_channel;
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; to && i < plan->nr_steps; i++) {
		const struct azl_upgrade_op *s = &plan->steps[i];

		if (s->kind == AZL_UPGRADE_STEP_CONTROL_PLANE || s->kind == AZL_UPGRADE_STEP_POOL_VERSION)
			k8s = s->to;
		else if (s->kind == AZL_UPGRADE_STEP_NODE_IMAGE)
			image = s->to;
		else
			channel = s->to;
	}
	azl_json_add_str_or_null(o, "kubernetesVersion", k8s);
	azl_json_add_str_or_null(o, "nodeImageVersion", image);
	azl_json_add_str_or_null(o, "nodeOSUpgradeChannel", channel);
	return o;
}

/* Each step's phase: pool steps after the same control-plane step and of
 * one mode (System pools' first) share one, since AKS runs operations on
 * different pools at once; a second step of a pool begins the next. The
 * cluster's own steps are 0: they run alone. */
static void plan_phases(const struct azl_upgrade_plan *plan, size_t *phases)
{
	size_t phase = 0, begin = 0;

	for (size_t i = 0; i < plan->nr_steps; i++) {
		const struct azl_upgrade_op *s = &plan->steps[i];
		int fresh = !i || !*plan->steps[i - 1].pool || plan->steps[i - 1].system != s->system;

		phases[i] = 0;
		if (!*s->pool)
			continue;
		for (size_t k = begin; !fresh && k < i; k++)
			fresh = !strcmp(plan->steps[k].pool, s->pool);
		if (fresh) {
			phase++;
			begin = i;
		}
		phases[i] = phase;
	}
}

cJSON *azl_upgrade_plan_data(const struct azl_upgrade_plan *plan,
			     const struct azl_upgrade_options *opts, const struct azl_cluster *c)
{
	cJSON *d = cJSON_CreateObject(), *steps = cJSON_AddArrayToObject(d, "plan");
	cJSON *skipped;
	size_t *phases = xcalloc(plan->nr_steps + 1, sizeof(*phases));

	plan_phases(plan, phases);
	cJSON_AddStringToObject(d, "target", plan->target);
	for (size_t i = 0; i < plan->nr_steps; i++) {
		const struct azl_upgrade_op *s = &plan->steps[i];
		cJSON *o = cJSON_CreateObject();

		if (phases[i])
			cJSON_AddNumberToObject(o, "phase", (double)phases[i]);

		cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddStringToObject(o, "kind", op_kinds[s->kind]);
		cJSON_AddStringToObject(o, "pool", s->pool);
		cJSON_AddStringToObject(o, "from", s->from);
		cJSON_AddStringToObject(o, "to", s->to);
		cJSON_AddItemToArray(steps, o);
	}
	free(phases);
	skipped = cJSON_AddArrayToObject(d, "skipped");
	for (size_t i = 0; i < plan->nr_skipped; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "pool", plan->skipped[i].pool);
		cJSON_AddStringToObject(o, "reason", plan->skipped[i].reason);
		cJSON_AddItemToArray(skipped, o);
	}
	cJSON_AddItemToObject(d, "settings", settings_json(&opts->settings));
	cJSON_AddItemToObject(d, "from", side_json(plan, c, 0));
	cJSON_AddItemToObject(d, "to", side_json(plan, c, 1));
	cJSON_AddStringToObject(d, "location", c->location ? c->location : "");
	cJSON_AddItemToObject(d, "preflight", azl_preflight_to_json(&plan->preflight));
	return d;
}

void azl_upgrade_step_names(const struct azl_upgrade_plan *plan, const char **names)
{
	for (size_t i = 0; i < plan->nr_steps; i++)
		names[i] = op_kinds[plan->steps[i].kind];
	names[plan->nr_steps] = "verify";
}

/* The record's operation of the running step. */
static const cJSON *running_op(struct azl_operation *op)
{
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(azl_operation_data(op), "plan");

	return cJSON_GetArrayItem(plan, (int)azl_operation_step_index(op));
}

/* The record's phase of step i (0 for the control plane's, the channel's
 * and verify: they run alone). */
static int step_phase(struct azl_operation *op, size_t i)
{
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(azl_operation_data(op), "plan");
	long phase = 0;

	if (azl_num_json_member(cJSON_GetArrayItem(plan, (int)i), "phase", 0, 100000, 0, &phase))
		return 0;
	return (int)phase;
}

/* ---- the steps ---- */

static void cluster_path(struct azl_operation *op, struct strbuf *out)
{
	struct azl_journal *j = azl_operation_journal(op);

	azl_arm_cluster_path(out, azl_journal_target_field(j, "subscription"),
			     azl_journal_target_field(j, "resourceGroup"),
			     azl_journal_target_field(j, "name"));
}

static void set_str(cJSON *obj, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddStringToObject(obj, key, value);
}

static cJSON *object_of(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (!cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
		o = cJSON_AddObjectToObject(parent, key);
	}
	return o;
}

/* The command line's settings over the pool's upgradeSettings. */
static void apply_settings(cJSON *props, const cJSON *settings)
{
	cJSON *us;

	if (!cJSON_GetArraySize(settings))
		return;
	us = object_of(props, "upgradeSettings");
	for (const cJSON *it = settings->child; it; it = it->next) {
		cJSON_DeleteItemFromObjectCaseSensitive(us, it->string);
		cJSON_AddItemToObject(us, it->string, cJSON_Duplicate(it, 1));
	}
}

/* What a fresh GET says of the step's resource. */
enum look { LOOK_TODO, LOOK_DONE, LOOK_RUNNING };

static const char *prop(const cJSON *res, const char *key)
{
	return azl_json_str(cJSON_GetObjectItemCaseSensitive(res, "properties"), key, "");
}

/* Whether version has reached to: its patch when to names one, else its minor. */
static int reached(const char *version, const char *to)
{
	if (has_patch(to))
		return azl_version_compare(version, to) >= 0;
	return azl_version_kube_minor(version) >= azl_version_kube_minor(to);
}

static enum look look_at(const cJSON *res, const char *kind, const char *to)
{
	const char *state = prop(res, "provisioningState");
	int done;

	if (!strcmp(kind, "control-plane"))
		done = reached(*prop(res, "currentKubernetesVersion")
			       ? prop(res, "currentKubernetesVersion") : prop(res, "kubernetesVersion"), to);
	else if (!strcmp(kind, "pool-version"))
		done = reached(*prop(res, "currentOrchestratorVersion")
			       ? prop(res, "currentOrchestratorVersion")
			       : prop(res, "orchestratorVersion"), to);
	else if (!strcmp(kind, "node-image"))
		done = !strcmp(prop(res, "nodeImageVersion"), to);
	else
		done = !strcasecmp(azl_json_str(res, "properties.autoUpgradeProfile.nodeOSUpgradeChannel",
						 ""), to);
	if (*state && strcasecmp(state, "Succeeded") && strcasecmp(state, "Failed") &&
	    strcasecmp(state, "Canceled"))
		return LOOK_RUNNING;
	return done ? LOOK_DONE : LOOK_TODO;
}

/* The body of the step's write, from the fresh resource: the cluster with
 * kubernetesVersion or the node OS channel set and no overrideSettings
 * (forceUpgrade is never ours to set, migrate-upgrade.md C1); the pool
 * with orchestratorVersion and the settings, without nodeImageVersion
 * (writable and constrained since 2026-04-01, aks-api.md §2.9) and the
 * read-only members. */
static cJSON *write_body(const cJSON *res, const char *kind, const char *to, const cJSON *settings)
{
	static const char *const drop[] = { "nodeImageVersion", "provisioningState",
					    "currentOrchestratorVersion", "powerState" };
	cJSON *body = cJSON_Duplicate(res, 1), *props = object_of(body, "properties");

	if (!strcmp(kind, "control-plane"))
		set_str(props, "kubernetesVersion", to);
	else if (!strcmp(kind, "node-os-channel"))
		set_str(object_of(props, "autoUpgradeProfile"), "nodeOSUpgradeChannel", to);
	if (strcmp(kind, "pool-version")) {
		cJSON_DeleteItemFromObjectCaseSensitive(object_of(props, "upgradeSettings"),
							"overrideSettings");
		return body;
	}
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(props, drop[i]);
	set_str(props, "orchestratorVersion", to);
	apply_settings(props, settings);
	return body;
}

/* One try: a fresh GET, then nothing (done already), a follow of what
 * runs there (begun by a process that died before journaling it), or the
 * write. */
static int step_try(struct azl_operation *op, const cJSON *o, const char *path)
{
	const char *kind = azl_json_str(o, "kind", ""), *to = azl_json_str(o, "to", "");
	const char *lro_kind = !strcmp(kind, "node-image") ? "agentPools.upgradeNodeImageVersion"
			       : *azl_json_str(o, "pool", "") ? "agentPools.createOrUpdate"
			       : "managedClusters.createOrUpdate";
	struct azl_arm_request req = { 0 };
	struct strbuf post = STRBUF_INIT;
	cJSON *res = NULL, *body = NULL;
	int rc = azl_arm_get(azl_operation_env(op)->arm, path, &res);
	enum look look = rc ? LOOK_TODO : look_at(res, kind, to);

	if (!rc && look == LOOK_DONE)
		azl_operation_note(op, "%s: done already", azl_json_str(o, "name", ""));
	else if (!rc && look == LOOK_RUNNING)
		rc = azl_operation_follow_resource(op, path, "PUT", lro_kind, NULL);
	else if (!rc && !strcmp(kind, "node-image")) {
		strbuf_addf(&post, "%s/upgradeNodeImageVersion", path);
		req.method = "POST";
		req.path = post.buf;
		rc = azl_operation_lro(op, &req, lro_kind, AZL_LRO_FINAL_LOCATION, NULL);
	} else if (!rc) {
		body = write_body(res, kind, to, cJSON_GetObjectItemCaseSensitive(
					  azl_operation_data(op), "settings"));
		req.method = "PUT";
		req.path = path;
		req.body = body;
		req.if_match = *azl_json_str(res, "properties.eTag", azl_json_str(res, "eTag", ""))
			       ? azl_json_str(res, "properties.eTag", azl_json_str(res, "eTag", ""))
			       : NULL;
		rc = azl_operation_lro(op, &req, lro_kind, AZL_LRO_FINAL_ASYNC_OPERATION, NULL);
	}
	cJSON_Delete(body);
	cJSON_Delete(res);
	strbuf_release(&post);
	return rc;
}

static int step_write(struct azl_operation *op, void *data)
{
	const cJSON *o = running_op(op);
	struct strbuf path = STRBUF_INIT;
	int rc;

	(void)data;
	if (!o)
		return azl_error_set(AZL_EINVALID, "operation %s: its record has no plan for this step",
				     azl_journal_id(azl_operation_journal(op)));
	cluster_path(op, &path);
	if (*azl_json_str(o, "pool", "")) {
		strbuf_addstr(&path, "/agentPools/");
		strbuf_addurlenc(&path, azl_json_str(o, "pool", ""));
	}
	if (azl_operation_handle(op))     /* re-attached: nothing sent */
		rc = azl_operation_lro(op, &(struct azl_arm_request){ 0 }, "",
				       AZL_LRO_FINAL_ASYNC_OPERATION, NULL);
	else
		rc = step_try(op, o, path.buf);
	/* 412: the resource changed between our GET and our PUT, which was
	 * not accepted; look again from a fresh GET, once */
	if (rc == AZL_ESTALE)
		rc = step_try(op, o, path.buf);
	if (rc)
		azl_error_prefix("%s", azl_json_str(o, "name", ""));
	strbuf_release(&path);
	return rc;
}

/* ---- verification ---- */

static const struct azl_pool *find_pool(const struct azl_pool_list *pools, const char *name)
{
	for (size_t i = 0; i < pools->nr; i++)
		if (!strcmp(pools->items[i].name, name))
			return &pools->items[i];
	return NULL;
}

static void verify_op(const cJSON *o, const struct azl_cluster *c, const struct azl_pool_list *pools,
		      int last_cp, struct strbuf *bad)
{
	const char *cp = azl_plan_control_plane_version(c), *kind = azl_json_str(o, "kind", "");
	const char *to = azl_json_str(o, "to", ""), *pool = azl_json_str(o, "pool", "");
	const struct azl_pool *p = find_pool(pools, pool);

	if (!strcmp(kind, "control-plane") && last_cp &&
	    azl_version_kube_minor(cp) < azl_version_kube_minor(to))
		strbuf_addf(bad, "; the control plane runs %s, not %s", cp, to);
	if (!strcmp(kind, "node-os-channel") && strcasecmp(c->node_os_upgrade_channel, to))
		strbuf_addf(bad, "; the node OS channel is %s, not %s", c->node_os_upgrade_channel, to);
	if (!*pool)
		return;
	if (!p) {
		strbuf_addf(bad, "; pool %s is gone", pool);
		return;
	}
	if (!strcmp(kind, "node-image") && strcmp(p->node_image_version, to))
		strbuf_addf(bad, "; pool %s runs node image %s, not %s", p->name,
			    p->node_image_version, to);
	if (p->ready_nodes < p->nodes)
		strbuf_addf(bad, "; pool %s has %ld of %ld nodes Ready", p->name, p->ready_nodes,
			    p->nodes);
	if (strcmp(kind, "pool-version"))
		return;
	if (azl_version_kube_minor(p->kubernetes_version) < azl_version_kube_minor(to))
		strbuf_addf(bad, "; pool %s runs Kubernetes %s, not %s", p->name,
			    p->kubernetes_version, to);
	if (!strcasecmp(p->os_sku, "AzureLinux") && azl_os_retired(&p->os) &&
	    azl_version_kube_minor(to) >= AZL_PLAN_AZL3_DEFAULT_MINOR)
		strbuf_addf(bad, "; pool %s still runs %s", p->name, p->os.name);
}

/* The nodes of the upgraded pools, into the record. */
static void record_nodes(struct azl_operation *op, const cJSON *plan)
{
	struct azl_node_list nodes = { 0 };
	cJSON *arr = cJSON_CreateArray();

	if (!azl_node_list(azl_operation_env(op)->kube, NULL, NULL, &nodes))
		for (size_t i = 0; i < nodes.nr; i++)
			for (const cJSON *o = plan ? plan->child : NULL; o; o = o->next)
				if (!strcmp(azl_json_str(o, "pool", ""), nodes.items[i].pool)) {
					cJSON_AddItemToArray(arr, azl_node_report_json(&nodes.items[i]));
					break;
				}
	azl_node_list_release(&nodes);
	cJSON_DeleteItemFromObjectCaseSensitive(azl_operation_data(op), "nodes");
	cJSON_AddItemToObject(azl_operation_data(op), "nodes", arr);
}

static int verify(struct azl_operation *op, const struct azl_cluster *c,
		  const struct azl_pool_list *pools)
{
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(azl_operation_data(op), "plan");
	const cJSON *last_cp = NULL;
	struct strbuf bad = STRBUF_INIT;
	int rc = 0;

	for (const cJSON *o = plan ? plan->child : NULL; o; o = o->next)
		if (!strcmp(azl_json_str(o, "kind", ""), "control-plane"))
			last_cp = o;
	for (const cJSON *o = plan ? plan->child : NULL; o; o = o->next)
		verify_op(o, c, pools, o == last_cp, &bad);
	if (azl_operation_env(op)->kube)
		record_nodes(op, plan);
	if (bad.len)
		rc = azl_error_set(AZL_ERROR, "verification failed%s", bad.buf);
	strbuf_release(&bad);
	return rc;
}

static int step_verify(struct azl_operation *op, void *data)
{
	const struct azl_operation_env *env = azl_operation_env(op);
	struct azl_cluster c = { 0 };
	struct azl_pool_list pools = { 0 };
	struct strbuf path = STRBUF_INIT;
	cJSON *mc = NULL;
	int rc;

	(void)data;
	cluster_path(op, &path);
	rc = azl_arm_get(env->arm, path.buf, &mc);
	if (!rc)
		rc = azl_cluster_from_json(mc, &c);
	if (!rc)
		rc = azl_pool_load(env->arm, env->kube, &c, NULL, 0, &pools);
	if (!rc)
		rc = verify(op, &c, &pools);
	if (!rc || rc == AZL_ERROR)
		azl_operation_save(op);
	cJSON_Delete(mc);
	azl_pool_list_release(&pools);
	azl_cluster_release(&c);
	strbuf_release(&path);
	return rc;
}

static const struct azl_operation_step upgrade_steps[] = {
	{ "control-plane", step_write },
	{ "pool-version", step_write },
	{ "node-image", step_write },
	{ "node-os-channel", step_write },
	{ "verify", step_verify },
};

#define NR_UPGRADE_STEPS (sizeof(upgrade_steps) / sizeof(*upgrade_steps))

const struct azl_operation_kind azl_upgrade_node_image_kind = {
	"upgrade-node-image", upgrade_steps, NR_UPGRADE_STEPS, NULL, step_phase
};
const struct azl_operation_kind azl_upgrade_kubernetes_kind = {
	"upgrade-kubernetes", upgrade_steps, NR_UPGRADE_STEPS, NULL, step_phase
};
const struct azl_operation_kind azl_upgrade_node_os_channel_kind = {
	"upgrade-node-os-channel", upgrade_steps, NR_UPGRADE_STEPS, NULL, step_phase
};

const struct azl_operation_kind *azl_upgrade_kind(enum azl_upgrade_mode mode)
{
	return mode == AZL_UPGRADE_NODE_IMAGE ? &azl_upgrade_node_image_kind
	       : mode == AZL_UPGRADE_KUBERNETES ? &azl_upgrade_kubernetes_kind
	       : &azl_upgrade_node_os_channel_kind;
}
