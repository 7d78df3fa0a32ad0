/* kubeconfig loading, merging and resolution after client-go's
 * tools/clientcmd (loader.go, client_config.go, validation.go).
 *
 * Loading parses each file with libyaml into a small node tree, checks the
 * types of every field (naming file and field path on error, as kubectl
 * fails on a malformed file even when it is not the one in use), resolves
 * relative paths against the defining file and decodes the -data fields.
 * Resolution only looks at the chosen context, cluster and user. */
#include "kubeconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "base64.h"
#include "error.h"
#include "log.h"
#include "num.h"
#include "redact.h"
#include "wrapper.h"

/* A kubeconfig is a few KiB; the caps only stop /dev/zero or a hostile
 * file from exhausting memory or time. */
#define MAX_FILE_BYTES (32L << 20)
#define MAX_DEPTH 256
#define MAX_VISITS 1000000L

#define GROW(arr, nr, alloc) do { \
		if ((nr) >= (alloc)) { \
			(alloc) = (alloc) ? (alloc) * 2 : 8; \
			(arr) = xrealloc((arr), (alloc) * sizeof(*(arr))); \
		} \
	} while (0)

/* Reads a whole file, refusing anything over MAX_FILE_BYTES; -1 with errno
 * set on failure. Works on pipes too (--kubeconfig <(...)). */
static int read_file_capped(struct strbuf *sb, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;
	ssize_t n = 1;

	if (fd < 0)
		return -1;
	while (n > 0) {
		if (sb->len > (size_t)MAX_FILE_BYTES) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		strbuf_grow(sb, 65536);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n > 0)
			strbuf_setlen(sb, sb->len + (size_t)n);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

/* ---- a minimal YAML node tree ---- */

enum ytype { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ytype type;
	int plain;              /* untagged plain scalar: null/bool resolution */
	int open;               /* still being built: an alias to it is a cycle */
	char *value;            /* scalars */
	size_t len;
	size_t line, col;       /* 1-based */
	struct ynode **kids;    /* items, or key, value, key, value ... */
	size_t n, alloc;
};

struct yanchor {
	char *name;
	struct ynode *node;
};

struct ydoc {
	const char *file;
	struct ynode *root;
	struct ynode **nodes;   /* every node, for freeing; aliases share */
	size_t nnodes, anodes;
	struct yanchor *anchors;
	size_t nanchors, aanchors;
	struct ynode *stack[MAX_DEPTH];
	size_t depth;
};

static void ydoc_release(struct ydoc *d)
{
	for (size_t i = 0; i < d->nnodes; i++) {
		free(d->nodes[i]->value);
		free(d->nodes[i]->kids);
		free(d->nodes[i]);
	}
	for (size_t i = 0; i < d->nanchors; i++)
		free(d->anchors[i].name);
	free(d->nodes);
	free(d->anchors);
}

static int at_mark(const struct ydoc *d, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int at_mark(const struct ydoc *d, yaml_mark_t m, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;
	int rc;
	strbuf_addf(&msg, "error loading %s: line %zu, column %zu: ", d->file, m.line + 1, m.column + 1);
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	rc = azl_error_set(AZL_EINVALID, "%s", msg.buf);
	strbuf_release(&msg);
	return rc;
}

static int attach(struct ydoc *d, struct ynode *node, const yaml_char_t *anchor)
{
	if (anchor) {
		GROW(d->anchors, d->nanchors, d->aanchors);
		d->anchors[d->nanchors].name = xstrdup((const char *)anchor);
		d->anchors[d->nanchors++].node = node;
	}
	if (!d->depth) {
		if (!d->root)
			d->root = node;
		return 0;
	}
	struct ynode *parent = d->stack[d->depth - 1];
	GROW(parent->kids, parent->n, parent->alloc);
	parent->kids[parent->n++] = node;
	return 0;
}

static struct ynode *new_node(struct ydoc *d, enum ytype type, yaml_mark_t m)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	n->type = type;
	n->line = m.line + 1;
	n->col = m.column + 1;
	GROW(d->nodes, d->nnodes, d->anodes);
	d->nodes[d->nnodes++] = n;
	return n;
}

static int on_alias(struct ydoc *d, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	/* the latest definition of a name wins, as in YAML */
	for (size_t i = d->nanchors; i-- > 0;) {
		if (strcmp(d->anchors[i].name, name))
			continue;
		if (d->anchors[i].node->open)
			return at_mark(d, ev->start_mark, "alias *%s refers to a node that contains it", name);
		return attach(d, d->anchors[i].node, NULL);
	}
	return at_mark(d, ev->start_mark, "alias *%s has no anchor", name);
}

static int on_start(struct ydoc *d, const yaml_event_t *ev, enum ytype type)
{
	struct ynode *n = new_node(d, type, ev->start_mark);
	const yaml_char_t *anchor = type == Y_SEQ ? ev->data.sequence_start.anchor
						  : ev->data.mapping_start.anchor;
	if (d->depth == MAX_DEPTH)
		return at_mark(d, ev->start_mark, "%s", "nesting is too deep");
	attach(d, n, anchor);
	n->open = 1;
	d->stack[d->depth++] = n;
	return 0;
}

static int on_event(struct ydoc *d, const yaml_event_t *ev)
{
	struct ynode *n;
	const char *tag;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = new_node(d, Y_SCALAR, ev->start_mark);
		n->len = ev->data.scalar.length;
		n->value = xmalloc(n->len + 1);
		memcpy(n->value, ev->data.scalar.value, n->len);
		n->value[n->len] = '\0';
		tag = (const char *)ev->data.scalar.tag;
		/* !!bool and !!null keep their meaning; !!str "true" is a string */
		n->plain = tag ? !strcmp(tag, YAML_BOOL_TAG) || !strcmp(tag, YAML_NULL_TAG)
			       : ev->data.scalar.plain_implicit;
		return attach(d, n, ev->data.scalar.anchor);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(d, ev, Y_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(d, ev, Y_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (d->depth)
			d->stack[--d->depth]->open = 0;
		return 0;
	case YAML_ALIAS_EVENT:
		return on_alias(d, ev);
	default:
		return 0;
	}
}

static int yaml_failed(const struct ydoc *d, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	if (p->error == YAML_READER_ERROR)
		return azl_error_set(AZL_EINVALID, "error loading %s: byte %zu: %s",
				     d->file, p->problem_offset, problem);
	return at_mark(d, p->problem_mark, "%s", problem);
}

/* Builds the tree of the first document (as client-go reads only that). */
static int ydoc_parse(struct ydoc *d, const struct strbuf *text)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0, done = 0;

	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)text->buf, text->len);
	while (!rc && !done) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_failed(d, &p);
			break;
		}
		rc = on_event(d, &ev);
		done = ev.type == YAML_DOCUMENT_END_EVENT || ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* ---- the merged configuration ---- */

struct kc_entry {
	char *name;
	const char *file;       /* owned by azl_kubeconfig.files */
	size_t index;           /* position in the file's list, for messages */
	int shadowed;           /* an earlier file defined the name: unused */
};

struct kc_cluster {
	struct kc_entry e;
	char *server, *tls_server_name, *proxy_url, *ca_file;
	struct strbuf ca_data;
	int insecure, disable_compression;
};

struct kc_exec {
	char *command, *api_version, *install_hint, *interactive_mode;
	char **args, **env;     /* NULL-terminated; env as NAME=value */
	size_t nargs, nenv;
	int provide_cluster_info;
	int unnamed_env;        /* an env entry without a name */
};

struct kc_user {
	struct kc_entry e;
	char *cert_file, *key_file, *token, *token_file, *username, *password;
	struct strbuf cert_data, key_data;
	int has_auth_provider;
	char *auth_provider;
	struct kc_exec *exec;
};

struct kc_context {
	struct kc_entry e;
	char *cluster, *user, *namespace_;
};

struct lctx;

/* clusters, users and contexts load alike: an array of elements that each
 * start with a kc_entry, filled from the <inner> mapping of each item. */
struct kc_list {
	const char *key, *inner;        /* "clusters", "cluster" */
	size_t size;                    /* of one element */
	int (*fill)(struct lctx *lc, const struct ynode *body, void *elem);
	void (*release)(void *elem);
	char *items;
	size_t n, alloc;
};

#define AT(list, i) ((void *)((list)->items + (i) * (list)->size))

struct azl_kubeconfig {
	char **files;           /* loaded, in merge order */
	size_t nfiles, afiles;
	struct strbuf origin;   /* where we looked, for "no configuration" */
	char *current_context;
	const char *current_context_file;
	struct kc_list clusters, users, contexts;
};

/* Reading one file: where we are, for messages and relative paths. */
struct lctx {
	struct azl_kubeconfig *kc;
	const char *file;
	char *dir;              /* absolute directory of file */
	struct strbuf path;     /* field path of the current mapping */
	long visits;            /* bounds alias fan-out */
};

static const char *type_name(const struct ynode *n)
{
	return n->type == Y_SCALAR ? "a string" : n->type == Y_SEQ ? "a list" : "a mapping";
}

static int field_error(struct lctx *lc, const char *key, const struct ynode *n, const char *want)
{
	return azl_error_set(AZL_EINVALID, "error loading %s: %s%s%s must be %s, not %s (line %zu, column %zu)",
			     lc->file, lc->path.buf, lc->path.len && key ? "." : "", key ? key : "",
			     want, type_name(n), n->line, n->col);
}

static int is_null(const struct ynode *n)
{
	if (!n)
		return 1;
	if (n->type != Y_SCALAR || !n->plain)
		return 0;
	return !n->len || !strcmp(n->value, "~") || !strcmp(n->value, "null") ||
	       !strcmp(n->value, "Null") || !strcmp(n->value, "NULL");
}

static const struct ynode *map_get(const struct ynode *map, const char *key)
{
	if (!map || map->type != Y_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->kids[i];
		if (k->type == Y_SCALAR && !strcmp(k->value, key))
			return map->kids[i + 1];
	}
	return NULL;
}

static int scalar_value(struct lctx *lc, const char *key, const struct ynode *n, char **out)
{
	if (is_null(n))
		return 0;
	if (n->type != Y_SCALAR)
		return field_error(lc, key, n, "a string");
	if (memchr(n->value, '\0', n->len))
		return azl_error_set(AZL_EINVALID, "error loading %s: %s%s%s contains a NUL character (line %zu)",
				     lc->file, lc->path.buf, key ? "." : "", key ? key : "", n->line);
	*out = xstrdup(n->value);
	return 0;
}

static int get_str(struct lctx *lc, const struct ynode *map, const char *key, char **out)
{
	return scalar_value(lc, key, map_get(map, key), out);
}

/* YAML 1.1 booleans, as sigs.k8s.io/yaml reads them. */
static int get_bool(struct lctx *lc, const struct ynode *map, const char *key, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N" };
	const struct ynode *n = map_get(map, key);

	if (is_null(n))
		return 0;
	for (size_t i = 0; n->plain && i < sizeof(yes) / sizeof(*yes); i++) {
		if (!strcmp(n->value, yes[i]))
			return *out = 1, 0;
		if (!strcmp(n->value, no[i]))
			return *out = 0, 0;
	}
	return field_error(lc, key, n, "true or false");
}

/* A base64 []byte field; name is the entry's, for the message. */
static int get_data(struct lctx *lc, const struct ynode *map, const char *key,
		    const char *name, struct strbuf *out)
{
	char *text = NULL;
	int rc = get_str(lc, map, key, &text);

	if (!rc && text && azl_base64_decode(out, text, strlen(text)) < 0)
		rc = azl_error_prefix("error loading %s: %s.%s of \"%s\"", lc->file, lc->path.buf, key, name);
	free(text);
	return rc;
}

/* A file path, made absolute against the kubeconfig's directory as
 * client-go's ResolveLocalPaths does. */
static void resolve_path(struct lctx *lc, char **path)
{
	struct strbuf sb = STRBUF_INIT;
	if (!*path || !**path || **path == '/')
		return;
	strbuf_addf(&sb, "%s/%s", lc->dir, *path);
	free(*path);
	*path = strbuf_detach(&sb, NULL);
}

static int get_path(struct lctx *lc, const struct ynode *map, const char *key, char **out)
{
	int rc = get_str(lc, map, key, out);
	if (!rc)
		resolve_path(lc, out);
	return rc;
}

static int visit(struct lctx *lc)
{
	if (++lc->visits <= MAX_VISITS)
		return 0;
	return azl_error_set(AZL_EINVALID, "error loading %s: too many aliased nodes; write the file without YAML aliases",
			     lc->file);
}

/* Sets lc->path to "<base>.<key>" or "<base>[i]"; returns the old length. */
static size_t path_push(struct lctx *lc, const char *key, size_t index)
{
	size_t old = lc->path.len;
	if (key)
		strbuf_addf(&lc->path, "%s%s", old ? "." : "", key);
	else
		strbuf_addf(&lc->path, "[%zu]", index);
	return old;
}

static void path_pop(struct lctx *lc, size_t old)
{
	strbuf_setlen(&lc->path, old);
}

/* Runs fn on each item of the list under key of map. */
static int each_item(struct lctx *lc, const struct ynode *map, const char *key,
		     int (*fn)(struct lctx *, const struct ynode *, size_t, void *), void *data)
{
	const struct ynode *list = map_get(map, key);
	size_t old;
	int rc = 0;

	if (is_null(list))
		return 0;
	if (list->type != Y_SEQ)
		return field_error(lc, key, list, "a list");
	old = path_push(lc, key, 0);
	for (size_t i = 0; !rc && i < list->n; i++) {
		size_t at = path_push(lc, NULL, i);
		rc = visit(lc);
		if (!rc)
			rc = fn(lc, list->kids[i], i, data);
		path_pop(lc, at);
	}
	path_pop(lc, old);
	return rc;
}

static int entry_is_mapping(struct lctx *lc, const struct ynode *item)
{
	if (item->type == Y_MAP)
		return 0;
	return field_error(lc, NULL, item, "a mapping with name and a body");
}

/* ---- exec ---- */

static int exec_arg(struct lctx *lc, const struct ynode *item, size_t i, void *data)
{
	struct kc_exec *x = data;
	char *s = NULL;
	(void)i;
	if (scalar_value(lc, NULL, item, &s) < 0)
		return AZL_EINVALID;
	x->args = xrealloc(x->args, (x->nargs + 2) * sizeof(*x->args));
	x->args[x->nargs++] = s ? s : xstrdup("");
	x->args[x->nargs] = NULL;
	return 0;
}

static int exec_env(struct lctx *lc, const struct ynode *item, size_t i, void *data)
{
	struct kc_exec *x = data;
	char *name = NULL, *value = NULL;
	struct strbuf sb = STRBUF_INIT;
	int rc;
	(void)i;

	if (item->type != Y_MAP)
		return field_error(lc, NULL, item, "a mapping with name and value");
	rc = get_str(lc, item, "name", &name);
	if (!rc)
		rc = get_str(lc, item, "value", &value);
	if (!rc && (!name || !*name))
		x->unnamed_env = 1;
	if (!rc && name && *name) {
		strbuf_addf(&sb, "%s=%s", name, value ? value : "");
		x->env = xrealloc(x->env, (x->nenv + 2) * sizeof(*x->env));
		x->env[x->nenv++] = strbuf_detach(&sb, NULL);
		x->env[x->nenv] = NULL;
	}
	free(name);
	free(value);
	return rc;
}

static void kc_exec_free(struct kc_exec *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nargs; i++)
		free(x->args[i]);
	for (size_t i = 0; i < x->nenv; i++)
		free(x->env[i]);
	free(x->args);
	free(x->env);
	free(x->command);
	free(x->api_version);
	free(x->install_hint);
	free(x->interactive_mode);
	free(x);
}

static int read_exec(struct lctx *lc, const struct ynode *n, struct kc_exec **out)
{
	struct kc_exec *x;
	int rc;

	if (is_null(n))
		return 0;
	if (n->type != Y_MAP)
		return field_error(lc, "exec", n, "a mapping");
	x = xcalloc(1, sizeof(*x));
	*out = x;
	size_t old = path_push(lc, "exec", 0);
	rc = get_str(lc, n, "command", &x->command);
	if (!rc)
		rc = get_str(lc, n, "apiVersion", &x->api_version);
	if (!rc)
		rc = get_str(lc, n, "installHint", &x->install_hint);
	if (!rc)
		rc = get_str(lc, n, "interactiveMode", &x->interactive_mode);
	if (!rc)
		rc = get_bool(lc, n, "provideClusterInfo", &x->provide_cluster_info);
	if (!rc)
		rc = each_item(lc, n, "args", exec_arg, x);
	if (!rc)
		rc = each_item(lc, n, "env", exec_env, x);
	path_pop(lc, old);
	/* only a command naming a path is relative to the kubeconfig; a bare
	 * name is looked up on PATH */
	if (!rc && x->command && strchr(x->command, '/'))
		resolve_path(lc, &x->command);
	return rc;
}

/* ---- named entries ---- */

/* The first entry of l named name; with file set, only one from that file
 * (duplicate detection). */
static struct kc_entry *find_entry(const struct kc_list *l, const char *name, const char *file)
{
	for (size_t i = 0; name && i < l->n; i++) {
		struct kc_entry *e = AT(l, i);
		if (strcmp(e->name, name))
			continue;
		if (!file || e->file == file)
			return e;
	}
	return NULL;
}

/* The name and body of a {name, <inner>: {...}} list item. */
static int entry_parts(struct lctx *lc, const struct ynode *item, const char *inner,
		       char **name, const struct ynode **body)
{
	int rc = entry_is_mapping(lc, item);
	if (!rc)
		rc = get_str(lc, item, "name", name);
	if (rc)
		return rc;
	if (!*name)
		*name = xstrdup("");
	*body = map_get(item, inner);
	if (is_null(*body)) {
		*body = NULL;
		return 0;
	}
	return (*body)->type == Y_MAP ? 0 : field_error(lc, inner, *body, "a mapping");
}

/* Adds one item of a named list. The first file to define a name wins (a
 * later entry is kept only to be skipped), and a name twice in one file is
 * an error, as in client-go's v1 conversion. */
static int read_item(struct lctx *lc, const struct ynode *item, size_t index, void *data)
{
	struct kc_list *l = data;
	const struct ynode *body = NULL;
	const struct kc_entry *dup;
	struct kc_entry *e;
	char *name = NULL;
	size_t old;
	int rc = entry_parts(lc, item, l->inner, &name, &body);

	if (!rc && (dup = find_entry(l, name, lc->file)))
		rc = azl_error_set(AZL_EINVALID, "error loading %s: duplicate name \"%s\" in %s (%s[%zu] and %s[%zu])",
				   lc->file, name, l->key, l->key, dup->index, l->key, index);
	if (rc) {
		free(name);
		return rc;
	}
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 8;
		l->items = xrealloc(l->items, l->alloc * l->size);
	}
	e = memset(AT(l, l->n++), 0, l->size);
	e->name = name;
	e->file = lc->file;
	e->index = index;
	e->shadowed = find_entry(l, name, NULL) != e;
	old = path_push(lc, l->inner, 0);
	rc = l->fill(lc, body, e);
	path_pop(lc, old);
	return rc;
}

static int fill_cluster(struct lctx *lc, const struct ynode *b, void *elem)
{
	struct kc_cluster *c = elem;
	int rc;

	strbuf_init(&c->ca_data, 0);
	rc = get_str(lc, b, "server", &c->server);
	if (!rc)
		rc = get_str(lc, b, "tls-server-name", &c->tls_server_name);
	if (!rc)
		rc = get_str(lc, b, "proxy-url", &c->proxy_url);
	if (!rc)
		rc = get_path(lc, b, "certificate-authority", &c->ca_file);
	if (!rc)
		rc = get_data(lc, b, "certificate-authority-data", c->e.name, &c->ca_data);
	if (!rc)
		rc = get_bool(lc, b, "insecure-skip-tls-verify", &c->insecure);
	if (!rc)
		rc = get_bool(lc, b, "disable-compression", &c->disable_compression);
	return rc;
}

static void release_cluster(void *elem)
{
	struct kc_cluster *c = elem;
	free(c->server);
	free(c->tls_server_name);
	free(c->proxy_url);
	free(c->ca_file);
	strbuf_release(&c->ca_data);
}

static int read_auth_provider(struct lctx *lc, const struct ynode *b, struct kc_user *u)
{
	const struct ynode *ap = map_get(b, "auth-provider");
	size_t old;
	int rc;

	if (is_null(ap))
		return 0;
	if (ap->type != Y_MAP)
		return field_error(lc, "auth-provider", ap, "a mapping");
	u->has_auth_provider = 1;
	old = path_push(lc, "auth-provider", 0);
	rc = get_str(lc, ap, "name", &u->auth_provider);
	path_pop(lc, old);
	return rc;
}

static int read_user_fields(struct lctx *lc, const struct ynode *b, struct kc_user *u)
{
	int rc = get_path(lc, b, "client-certificate", &u->cert_file);
	if (!rc)
		rc = get_path(lc, b, "client-key", &u->key_file);
	if (!rc)
		rc = get_data(lc, b, "client-certificate-data", u->e.name, &u->cert_data);
	if (!rc)
		rc = get_data(lc, b, "client-key-data", u->e.name, &u->key_data);
	if (!rc)
		rc = get_str(lc, b, "token", &u->token);
	if (!rc)
		rc = get_path(lc, b, "tokenFile", &u->token_file);
	if (!rc)
		rc = get_str(lc, b, "username", &u->username);
	if (!rc)
		rc = get_str(lc, b, "password", &u->password);
	if (!rc)
		rc = read_auth_provider(lc, b, u);
	if (!rc)
		rc = read_exec(lc, map_get(b, "exec"), &u->exec);
	return rc;
}

static int fill_user(struct lctx *lc, const struct ynode *b, void *elem)
{
	struct kc_user *u = elem;
	strbuf_init(&u->cert_data, 0);
	strbuf_init(&u->key_data, 0);
	return read_user_fields(lc, b, u);
}

static void release_user(void *elem)
{
	struct kc_user *u = elem;
	free(u->cert_file);
	free(u->key_file);
	free(u->token);
	free(u->token_file);
	free(u->username);
	free(u->password);
	free(u->auth_provider);
	strbuf_release(&u->cert_data);
	strbuf_release(&u->key_data);
	kc_exec_free(u->exec);
}

static int fill_context(struct lctx *lc, const struct ynode *b, void *elem)
{
	struct kc_context *c = elem;
	int rc = get_str(lc, b, "cluster", &c->cluster);
	if (!rc)
		rc = get_str(lc, b, "user", &c->user);
	if (!rc)
		rc = get_str(lc, b, "namespace", &c->namespace_);
	return rc;
}

static void release_context(void *elem)
{
	struct kc_context *c = elem;
	free(c->cluster);
	free(c->user);
	free(c->namespace_);
}

static void list_init(struct kc_list *l, const char *key, const char *inner, size_t size,
		      int (*fill)(struct lctx *, const struct ynode *, void *), void (*release)(void *))
{
	memset(l, 0, sizeof(*l));
	l->key = key;
	l->inner = inner;
	l->size = size;
	l->fill = fill;
	l->release = release;
}

static void list_release(struct kc_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct kc_entry *e = AT(l, i);
		free(e->name);
		l->release(e);
	}
	free(l->items);
}

static int read_root(struct lctx *lc, const struct ynode *root)
{
	struct azl_kubeconfig *kc = lc->kc;
	char *current = NULL;
	int rc;

	if (is_null(root))
		return 0;
	if (root->type != Y_MAP)
		return azl_error_set(AZL_EINVALID, "error loading %s: the top level must be a mapping "
				     "(clusters, users, contexts), not %s (line %zu, column %zu)",
				     lc->file, type_name(root), root->line, root->col);
	rc = get_str(lc, root, "current-context", &current);
	if (!rc && current && *current && !kc->current_context) {
		kc->current_context = current;
		kc->current_context_file = lc->file;
		current = NULL;
	}
	free(current);
	if (!rc)
		rc = each_item(lc, root, "clusters", read_item, &kc->clusters);
	if (!rc)
		rc = each_item(lc, root, "users", read_item, &kc->users);
	if (!rc)
		rc = each_item(lc, root, "contexts", read_item, &kc->contexts);
	return rc;
}

/* ---- loading ---- */

static char *absolute_dir(const char *file)
{
	struct strbuf sb = STRBUF_INIT;
	const char *slash = strrchr(file, '/');
	char cwd[PATH_MAX];

	if (file[0] != '/') {
		strbuf_addstr(&sb, getcwd(cwd, sizeof(cwd)) ? cwd : ".");
		if (slash)
			strbuf_addch(&sb, '/');
	}
	if (slash)
		strbuf_add(&sb, file, slash == file ? 1 : (size_t)(slash - file));
	return strbuf_detach(&sb, NULL);
}

static int parse_text(struct azl_kubeconfig *kc, const char *file, const struct strbuf *text)
{
	struct ydoc doc;
	struct lctx lc = { kc, file, absolute_dir(file), STRBUF_INIT, 0 };
	int rc;

	memset(&doc, 0, sizeof(doc));
	doc.file = file;
	rc = ydoc_parse(&doc, text);
	if (!rc)
		rc = read_root(&lc, doc.root);
	ydoc_release(&doc);
	strbuf_release(&lc.path);
	free(lc.dir);
	return rc;
}

/* Returns 1 when the file does not exist and may be skipped. */
static int load_file(struct azl_kubeconfig *kc, const char *path, int must_exist)
{
	struct strbuf text = STRBUF_INIT;
	char *file;
	int rc;

	if (read_file_capped(&text, path) < 0) {
		int e = errno;
		strbuf_release(&text);
		if (e == ENOENT && !must_exist)
			return 1;
		if (e == ENOENT)
			return azl_error_set(AZL_ENOTFOUND, "kubeconfig %s does not exist; check the --kubeconfig path", path);
		return azl_error_set(AZL_EINVALID, "cannot read kubeconfig %s: %s", path, strerror(e));
	}
	file = xstrdup(path);
	GROW(kc->files, kc->nfiles, kc->afiles);
	kc->files[kc->nfiles++] = file;
	azl_logf(6, "loading kubeconfig %s", file);
	rc = parse_text(kc, file, &text);
	strbuf_release(&text);
	return rc;
}

static int already_listed(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}

/* $KUBECONFIG: ':'-separated, duplicates and empty entries dropped,
 * missing files skipped. */
static int load_env(struct azl_kubeconfig *kc, const char *list)
{
	char **seen = NULL;
	size_t nseen = 0, aseen = 0;
	const char *p = list;
	int rc = 0;

	strbuf_addstr(&kc->origin, "KUBECONFIG names");
	while (!rc && *p) {
		size_t len = strcspn(p, ":");
		struct strbuf one = STRBUF_INIT;
		strbuf_add(&one, p, len);
		p += len + (p[len] == ':');
		if (!one.len || already_listed(seen, nseen, one.buf)) {
			strbuf_release(&one);
			continue;
		}
		GROW(seen, nseen, aseen);
		seen[nseen++] = strbuf_detach(&one, NULL);
		strbuf_addf(&kc->origin, "%s %s", nseen > 1 ? "," : "", seen[nseen - 1]);
		rc = load_file(kc, seen[nseen - 1], 0);
		if (rc > 0)
			rc = 0;
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	if (!nseen)
		strbuf_addstr(&kc->origin, " no files");
	return rc;
}

static int load_home(struct azl_kubeconfig *kc)
{
	const char *home = getenv("HOME");
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (!home || !*home) {
		strbuf_addstr(&kc->origin, "HOME is not set, so there is no ~/.kube/config");
		return 0;
	}
	strbuf_addf(&path, "%s/.kube/config", home);
	strbuf_addf(&kc->origin, "%s", path.buf);
	rc = load_file(kc, path.buf, 0);
	strbuf_release(&path);
	return rc > 0 ? 0 : rc;
}

int azl_kubeconfig_load(struct azl_kubeconfig **out, const char *explicit_path)
{
	struct azl_kubeconfig *kc = xcalloc(1, sizeof(*kc));
	const char *env = getenv("KUBECONFIG");
	int rc;

	strbuf_init(&kc->origin, 0);
	list_init(&kc->clusters, "clusters", "cluster", sizeof(struct kc_cluster), fill_cluster, release_cluster);
	list_init(&kc->users, "users", "user", sizeof(struct kc_user), fill_user, release_user);
	list_init(&kc->contexts, "contexts", "context", sizeof(struct kc_context), fill_context, release_context);
	*out = NULL;
	if (explicit_path && *explicit_path) {
		strbuf_addstr(&kc->origin, explicit_path);
		rc = load_file(kc, explicit_path, 1);
	} else if (env && *env) {
		rc = load_env(kc, env);
	} else {
		rc = load_home(kc);
	}
	if (rc) {
		azl_kubeconfig_free(kc);
		return rc;
	}
	*out = kc;
	return 0;
}

void azl_kubeconfig_free(struct azl_kubeconfig *kc)
{
	if (!kc)
		return;
	list_release(&kc->clusters);
	list_release(&kc->users);
	list_release(&kc->contexts);
	for (size_t i = 0; i < kc->nfiles; i++)
		free(kc->files[i]);
	free(kc->files);
	free(kc->current_context);
	strbuf_release(&kc->origin);
	free(kc);
}

/* ---- queries ---- */

const char *azl_kubeconfig_current_context(const struct azl_kubeconfig *kc)
{
	return kc ? kc->current_context : NULL;
}

size_t azl_kubeconfig_context_count(const struct azl_kubeconfig *kc)
{
	size_t n = 0;
	for (size_t i = 0; kc && i < kc->contexts.n; i++)
		n += !((const struct kc_entry *)AT(&kc->contexts, i))->shadowed;
	return n;
}

const char *azl_kubeconfig_context_name(const struct azl_kubeconfig *kc, size_t i)
{
	for (size_t k = 0; kc && k < kc->contexts.n; k++) {
		const struct kc_entry *e = AT(&kc->contexts, k);
		if (!e->shadowed && !i--)
			return e->name;
	}
	return NULL;
}

static const struct kc_context *find_context(const struct azl_kubeconfig *kc, const char *name)
{
	return (const struct kc_context *)find_entry(&kc->contexts, name, NULL);
}

static const struct kc_cluster *find_cluster(const struct azl_kubeconfig *kc, const char *name)
{
	return (const struct kc_cluster *)find_entry(&kc->clusters, name, NULL);
}

static const struct kc_user *find_user(const struct azl_kubeconfig *kc, const char *name)
{
	return (const struct kc_user *)find_entry(&kc->users, name, NULL);
}

int azl_kubeconfig_context_info(const struct azl_kubeconfig *kc, const char *ctx,
				const char **cluster_name, const char **server)
{
	const struct kc_context *c = find_context(kc, ctx);
	const struct kc_cluster *cl;

	if (!c)
		return azl_error_set(AZL_ENOTFOUND, "context \"%s\" not found in the kubeconfig", ctx ? ctx : "");
	cl = find_cluster(kc, c->cluster);
	if (cluster_name)
		*cluster_name = c->cluster ? c->cluster : "";
	if (server)
		*server = cl ? cl->server : NULL;
	return 0;
}

/* ---- resolution ---- */

static void files_list(const struct azl_kubeconfig *kc, struct strbuf *sb)
{
	for (size_t i = 0; i < kc->nfiles; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", kc->files[i]);
}

/* "<kind> "<name>" in <file>" followed by the caller's text. */
static int entry_error(const struct kc_entry *e, const char *kind, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int entry_error(const struct kc_entry *e, const char *kind, int code, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;
	int rc;

	strbuf_addf(&msg, "%s \"%s\" in %s", kind, e->name, e->file);
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	rc = azl_error_set(code, "%s", msg.buf);
	strbuf_release(&msg);
	return rc;
}

static int no_configuration(const struct azl_kubeconfig *kc)
{
	if (kc->nfiles)
		return azl_error_set(AZL_EINVALID, "no configuration has been provided: %s defines no contexts; "
				     "run az aks get-credentials or pass --kubeconfig", kc->origin.buf);
	return azl_error_set(AZL_EINVALID, "no configuration has been provided: %s, which do%s not exist; "
			     "run az aks get-credentials or pass --kubeconfig",
			     kc->origin.buf, strchr(kc->origin.buf, ',') ? "" : "es");
}

int azl_kubeconfig_require_contexts(const struct azl_kubeconfig *kc)
{
	return kc->contexts.n ? 0 : no_configuration(kc);
}

static int pick_context(const struct azl_kubeconfig *kc, const struct azl_kube_overrides *ov,
			const struct kc_context **out)
{
	const char *name = !str_empty(ov->context) ? ov->context : kc->current_context;
	struct strbuf files = STRBUF_INIT;
	int rc;

	*out = find_context(kc, name);
	if (*out || (str_empty(name) && !str_empty(ov->server)))
		return 0;
	if (!kc->clusters.n && !kc->users.n && !kc->contexts.n && str_empty(name))
		return no_configuration(kc);
	files_list(kc, &files);
	if (str_empty(name))
		rc = azl_error_set(AZL_EINVALID, "current-context is not set in %s; "
				   "pass --context or run kubectl config use-context", files.buf);
	else if (!str_empty(ov->context))
		rc = azl_error_set(AZL_ENOTFOUND, "context \"%s\" (--context) not found in %s; "
				   "run kubectl config get-contexts to list them", name, files.buf);
	else
		rc = azl_error_set(AZL_ENOTFOUND, "current-context \"%s\" set in %s not found in %s; "
				   "pass --context or run kubectl config use-context",
				   name, kc->current_context_file, files.buf);
	strbuf_release(&files);
	return rc;
}

/* The cluster or user a context names (or the flag overrides): missing is
 * an error, an unnamed user means anonymous. */
static int pick_named(const struct azl_kubeconfig *kc, const struct kc_context *ctx,
		      const char *flag_value, const char *ctx_value, const char *kind,
		      const void *found, const char **name)
{
	struct strbuf files = STRBUF_INIT;
	int rc;

	*name = !str_empty(flag_value) ? flag_value : ctx_value;
	if (found || str_empty(*name))
		return 0;
	files_list(kc, &files);
	if (!str_empty(flag_value))
		rc = azl_error_set(AZL_ENOTFOUND, "%s \"%s\" (--%s) not found in %s", kind, *name, kind, files.buf);
	else
		rc = entry_error(&ctx->e, "context", AZL_ENOTFOUND, " refers to %s \"%s\", which is not defined in %s",
				 kind, *name, files.buf);
	strbuf_release(&files);
	return rc;
}

static int read_into(struct strbuf *dst, const char *path, const struct kc_entry *e,
		     const char *kind, const char *field)
{
	if (read_file_capped(dst, path) == 0)
		return 0;
	if (!e)
		return azl_error_set(AZL_EINVALID, "unable to read %s %s: %s", field, path, strerror(errno));
	return entry_error(e, kind, AZL_EINVALID, ": unable to read %s %s: %s", field, path, strerror(errno));
}

static int has_scheme(const char *url, const char *const *schemes)
{
	for (; *schemes; schemes++) {
		size_t n = strlen(*schemes);
		if (!strncasecmp(url, *schemes, n) && url[n])
			return 1;
	}
	return 0;
}

static int check_cluster(const struct kc_cluster *cl, const struct kc_entry *e, int ca_override,
			 const struct azl_rest_config *cfg)
{
	static const char *const web[] = { "https://", "http://", NULL };
	static const char *const proxies[] = { "http://", "https://", "socks5://", NULL };

	if (str_empty(cfg->server) && e)
		return entry_error(e, "cluster", AZL_EINVALID, " has no server; set clusters[%zu].cluster.server",
				   e->index);
	if (str_empty(cfg->server))
		return azl_error_set(AZL_EINVALID, "no server found for cluster \"%s\"; pass --server",
				     cfg->cluster_name);
	if (!has_scheme(cfg->server, web))
		return azl_error_set(AZL_EINVALID, "server \"%s\" of cluster \"%s\" must start with https:// or http://",
				     cfg->server, cfg->cluster_name);
	if (cl && cl->proxy_url && !has_scheme(cl->proxy_url, proxies))
		return entry_error(e, "cluster", AZL_EINVALID, ": invalid proxy-url \"%s\": the scheme must be "
				   "http, https, or socks5", cl->proxy_url);
	if (cl && !ca_override && cl->ca_file && cl->ca_data.len)
		return entry_error(e, "cluster", AZL_EINVALID, ": certificate-authority-data and certificate-authority "
				   "are both specified; remove one");
	return 0;
}

/* Cluster fields, after client-go's getCluster(): --server replaces the
 * server and tls-server-name, any CA/insecure flag replaces all three. */
static int resolve_cluster(const struct azl_kubeconfig *kc, const struct kc_context *ctx,
			   const struct azl_kube_overrides *ov, struct azl_rest_config *cfg)
{
	const char *ctx_cluster = ctx ? ctx->cluster : NULL;
	const struct kc_cluster *cl = find_cluster(kc, !str_empty(ov->cluster) ? ov->cluster : ctx_cluster);
	const struct kc_entry *e = cl ? &cl->e : NULL;
	int ca_override = ov->insecure_skip_tls_verify || !str_empty(ov->certificate_authority);
	const char *ca_file = cl ? cl->ca_file : NULL, *name;
	int rc = pick_named(kc, ctx, ov->cluster, ctx_cluster, "cluster", cl, &name);

	if (rc)
		return rc;
	cfg->cluster_name = xstrdup(name ? name : "");
	if (cl) {
		cfg->server = xstrdup_or_null(cl->server);
		cfg->tls_server_name = xstrdup_or_null(cl->tls_server_name);
		cfg->proxy_url = xstrdup_or_null(cl->proxy_url);
		cfg->insecure_skip_tls_verify = cl->insecure;
		cfg->disable_compression = cl->disable_compression;
		strbuf_addbuf(&cfg->ca_pem, &cl->ca_data);
	}
	if (!str_empty(ov->server)) {
		free(cfg->server);
		free(cfg->tls_server_name);
		cfg->server = xstrdup(ov->server);
		cfg->tls_server_name = NULL;
	}
	if (!str_empty(ov->tls_server_name)) {
		free(cfg->tls_server_name);
		cfg->tls_server_name = xstrdup(ov->tls_server_name);
	}
	rc = check_cluster(cl, e, ca_override, cfg);
	if (rc)
		return rc;
	if (ca_override) {
		strbuf_reset(&cfg->ca_pem);
		cfg->insecure_skip_tls_verify = ov->insecure_skip_tls_verify;
		ca_file = ov->certificate_authority;
	}
	if ((cfg->ca_pem.len || !str_empty(ca_file)) && cfg->insecure_skip_tls_verify)
		return azl_error_set(AZL_EINVALID, "cluster \"%s\"%s%s: specifying a root certificates file with the "
				     "insecure flag is not allowed", cfg->cluster_name,
				     e && !ca_override ? " in " : "", e && !ca_override ? e->file : "");
	if (cfg->ca_pem.len || str_empty(ca_file))
		return 0;
	if (ca_override)
		return read_into(&cfg->ca_pem, ca_file, NULL, NULL, "--certificate-authority");
	return read_into(&cfg->ca_pem, ca_file, e, "cluster", "certificate-authority");
}

/* ---- users ---- */

/* What a user entry asks for that we reject outright. */
static int check_unsupported(const struct kc_user *u, const char *token)
{
	const struct kc_entry *e = &u->e;

	if (u->has_auth_provider && u->exec)
		return entry_error(e, "user", AZL_EINVALID, ": auth-provider cannot be provided in combination "
				   "with an exec plugin; remove one");
	if (u->has_auth_provider && u->auth_provider && !strcmp(u->auth_provider, "azure"))
		return entry_error(e, "user", AZL_EINVALID, " uses the removed azure auth-provider; "
				   "convert it with `kubelogin convert-kubeconfig -l azurecli`");
	if (u->has_auth_provider)
		return entry_error(e, "user", AZL_EINVALID, " uses the \"%s\" auth-provider, which is not supported; "
				   "use an exec credential plugin instead",
				   u->auth_provider ? u->auth_provider : "");
	if (!str_empty(token) && (!str_empty(u->username) || !str_empty(u->password)))
		return entry_error(e, "user", AZL_EINVALID, ": more than one authentication method found for %s; "
				   "found [token basicAuth], only one is allowed", e->name);
	if (!str_empty(u->username) || !str_empty(u->password))
		return entry_error(e, "user", AZL_EINVALID, " uses username/password (basic) authentication, which is "
				   "not supported; use a token, a client certificate or an exec credential plugin");
	return 0;
}

static const char *const exec_versions[] = {
	"client.authentication.k8s.io/v1",
	"client.authentication.k8s.io/v1beta1",
	NULL
};

static int check_exec(const struct kc_exec *x, const struct kc_entry *e)
{
	const char *mode = x->interactive_mode;
	size_t i;

	if (str_empty(x->command))
		return entry_error(e, "user", AZL_EINVALID, ": command must be specified to use the exec "
				   "authentication plugin (users[%zu].user.exec.command)", e->index);
	if (str_empty(x->api_version))
		return entry_error(e, "user", AZL_EINVALID, ": apiVersion must be specified to use the exec "
				   "authentication plugin (users[%zu].user.exec.apiVersion)", e->index);
	for (i = 0; exec_versions[i] && strcmp(exec_versions[i], x->api_version); i++)
		;
	if (!exec_versions[i])
		return entry_error(e, "user", AZL_EINVALID, ": exec plugin: invalid apiVersion \"%s\"; use %s or %s",
				   x->api_version, exec_versions[0], exec_versions[1]);
	if (x->unnamed_env)
		return entry_error(e, "user", AZL_EINVALID, ": env variable name must be specified to use the exec "
				   "authentication plugin (users[%zu].user.exec.env)", e->index);
	if (str_empty(mode) && i == 0)
		return entry_error(e, "user", AZL_EINVALID, ": interactiveMode must be specified to use the exec "
				   "authentication plugin with %s; set users[%zu].user.exec.interactiveMode to Never, "
				   "IfAvailable or Always", x->api_version, e->index);
	if (!str_empty(mode) && strcmp(mode, "Never") && strcmp(mode, "IfAvailable") && strcmp(mode, "Always"))
		return entry_error(e, "user", AZL_EINVALID, ": invalid interactiveMode \"%s\"; use Never, "
				   "IfAvailable or Always", mode);
	return 0;
}

static char **copy_list(char **list, size_t n)
{
	char **out = xmalloc((n + 1) * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(list[i]);
	out[n] = NULL;
	return out;
}

static struct azl_exec_config *exec_config(const struct kc_exec *x)
{
	struct azl_exec_config *ec = xcalloc(1, sizeof(*ec));
	const char *mode = x->interactive_mode;

	ec->command = xstrdup(x->command);
	ec->args = copy_list(x->args, x->nargs);
	ec->env = copy_list(x->env, x->nenv);
	ec->api_version = xstrdup(x->api_version);
	ec->install_hint = xstrdup_or_null(x->install_hint);
	ec->provide_cluster_info = x->provide_cluster_info;
	/* v1beta1 defaults to IfAvailable (client-go SetDefaults_ExecConfig) */
	ec->interactive = str_empty(mode) || !strcmp(mode, "IfAvailable") ? AZL_EXEC_INTERACTIVE_IF_AVAILABLE
			  : !strcmp(mode, "Never") ? AZL_EXEC_INTERACTIVE_NEVER
			  : AZL_EXEC_INTERACTIVE_ALWAYS;
	return ec;
}

static void exec_config_free(struct azl_exec_config *ec)
{
	if (!ec)
		return;
	for (size_t i = 0; ec->args && ec->args[i]; i++)
		free(ec->args[i]);
	for (size_t i = 0; ec->env && ec->env[i]; i++)
		free(ec->env[i]);
	free(ec->args);
	free(ec->env);
	free(ec->command);
	free(ec->api_version);
	free(ec->install_hint);
	free(ec);
}

/* One half of the client certificate pair: the flag replaces both forms;
 * otherwise the -data form and the file form must not both be set. */
struct tls_half {
	const char *file;
	const struct strbuf *data;
	const char *field;      /* kubeconfig field or flag, for messages */
};

static int pick_half(const struct kc_entry *e, const char *flag_value, const char *flag,
		     const char *file, const struct strbuf *data, const char *field,
		     struct tls_half *out)
{
	static const struct strbuf none = STRBUF_INIT;

	out->file = file;
	out->data = data ? data : &none;
	out->field = field;
	if (!str_empty(flag_value)) {
		out->file = flag_value;
		out->data = &none;
		out->field = flag;
		return 0;
	}
	if (!str_empty(file) && out->data->len)
		return entry_error(e, "user", AZL_EINVALID, ": %s-data and %s are both specified; remove one",
				   field, field);
	return 0;
}

static int load_half(const struct tls_half *h, const struct kc_entry *e, struct strbuf *dst)
{
	if (h->data->len) {
		strbuf_addbuf(dst, h->data);
		return 0;
	}
	if (str_empty(h->file))
		return 0;
	return read_into(dst, h->file, e, "user", h->field);
}

static int resolve_client_cert(const struct kc_user *u, const struct kc_entry *e,
			       const struct azl_kube_overrides *ov, struct azl_rest_config *cfg)
{
	struct tls_half cert, key;
	int has_cert, has_key;
	int rc = pick_half(e, ov->client_certificate, "--client-certificate", u ? u->cert_file : NULL,
			   u ? &u->cert_data : NULL, "client-certificate", &cert);

	if (!rc)
		rc = pick_half(e, ov->client_key, "--client-key", u ? u->key_file : NULL,
			       u ? &u->key_data : NULL, "client-key", &key);
	if (rc)
		return rc;
	has_cert = !str_empty(cert.file) || cert.data->len;
	has_key = !str_empty(key.file) || key.data->len;
	if (has_cert && !has_key)
		return entry_error(e, "user", AZL_EINVALID, ": client-key-data or client-key must be specified "
				   "to use the clientCert authentication method");
	if (has_key && !has_cert)
		return entry_error(e, "user", AZL_EINVALID, ": client-certificate-data or client-certificate must "
				   "be specified to use the clientCert authentication method");
	rc = load_half(&cert, e, &cfg->client_cert_pem);
	if (!rc)
		rc = load_half(&key, e, &cfg->client_key_pem);
	return rc;
}

/* A tokenFile is read now so a bad path fails early; as in client-go its
 * content wins over token. The kube client re-reads it per request. */
static int resolve_token(const struct kc_user *u, const struct kc_entry *e,
			 const struct azl_kube_overrides *ov, struct azl_rest_config *cfg)
{
	struct strbuf sb = STRBUF_INIT;
	const char *token = !str_empty(ov->token) ? ov->token : u ? u->token : NULL;
	const char *file = !str_empty(ov->token) ? NULL : u ? u->token_file : NULL;

	cfg->token = xstrdup_or_null(token);
	if (str_empty(file))
		return 0;
	cfg->token_file = xstrdup(file);
	if (read_into(&sb, file, e, "user", "tokenFile")) {
		strbuf_release(&sb);
		return AZL_EINVALID;
	}
	strbuf_trim(&sb);
	if (!sb.len) {
		strbuf_release(&sb);
		return entry_error(e, "user", AZL_EINVALID, ": tokenFile %s is empty", file);
	}
	free(cfg->token);
	cfg->token = strbuf_detach(&sb, NULL);
	return 0;
}

static int resolve_user(const struct azl_kubeconfig *kc, const struct kc_context *ctx,
			const struct azl_kube_overrides *ov, struct azl_rest_config *cfg)
{
	const char *ctx_user = ctx ? ctx->user : NULL, *name;
	const struct kc_user *u = find_user(kc, !str_empty(ov->user) ? ov->user : ctx_user);
	/* credentials given only by flags, for a context without a user */
	struct kc_entry flags = { (char *)"(none)", "the command-line flags", 0, 0 };
	const struct kc_entry *e = u ? &u->e : &flags;
	int rc = pick_named(kc, ctx, ov->user, ctx_user, "user", u, &name);

	if (rc)
		return rc;
	cfg->user_name = xstrdup(name ? name : "");
	if (u)
		rc = check_unsupported(u, !str_empty(ov->token) ? ov->token : u->token);
	if (!rc && u && u->exec)
		rc = check_exec(u->exec, e);
	if (!rc)
		rc = resolve_client_cert(u, e, ov, cfg);
	if (!rc)
		rc = resolve_token(u, e, ov, cfg);
	/* client-go never runs the plugin when a token or certificate is
	 * already there (exec.Authenticator.UpdateTransportConfig) */
	if (!rc && u && u->exec && !cfg->token && !cfg->client_cert_pem.len)
		cfg->exec = exec_config(u->exec);
	return rc;
}

static struct azl_rest_config *rest_config_new(void)
{
	struct azl_rest_config *cfg = xcalloc(1, sizeof(*cfg));
	strbuf_init(&cfg->ca_pem, 0);
	strbuf_init(&cfg->client_cert_pem, 0);
	strbuf_init(&cfg->client_key_pem, 0);
	return cfg;
}

int azl_kubeconfig_resolve(const struct azl_kubeconfig *kc,
			   const struct azl_kube_overrides *ov,
			   struct azl_rest_config **out)
{
	static const struct azl_kube_overrides none;
	const struct kc_context *ctx = NULL;
	struct azl_rest_config *cfg;
	int rc;

	*out = NULL;
	if (!ov)
		ov = &none;
	rc = pick_context(kc, ov, &ctx);
	if (rc)
		return rc;
	cfg = rest_config_new();
	cfg->context_name = xstrdup(ctx ? ctx->e.name : "");
	cfg->source_file = xstrdup(ctx ? ctx->e.file : kc->nfiles ? kc->files[0] : "");
	cfg->namespace_ = xstrdup(!str_empty(ov->namespace_) ? ov->namespace_
				  : ctx && !str_empty(ctx->namespace_) ? ctx->namespace_ : "default");
	cfg->timeout_ms = ov->request_timeout_ms;
	cfg->stdin_is_terminal = ov->stdin_is_terminal;
	rc = resolve_cluster(kc, ctx, ov, cfg);
	if (!rc)
		rc = resolve_user(kc, ctx, ov, cfg);
	if (rc) {
		azl_rest_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

void azl_rest_config_free(struct azl_rest_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->source_file);
	free(cfg->context_name);
	free(cfg->cluster_name);
	free(cfg->user_name);
	free(cfg->namespace_);
	free(cfg->server);
	free(cfg->tls_server_name);
	free(cfg->proxy_url);
	strbuf_release(&cfg->ca_pem);
	strbuf_release(&cfg->client_cert_pem);
	/* secrets: clear before the memory goes back to the allocator */
	azl_secret_wipe(&cfg->client_key_pem);
	if (cfg->token)
		explicit_bzero(cfg->token, strlen(cfg->token));
	free(cfg->token);
	free(cfg->token_file);
	exec_config_free(cfg->exec);
	free(cfg);
}

/* ---- durations ---- */

/* One Go duration unit; its length in *len, its size in nanoseconds. */
static double unit_ns(const char *s, size_t *len)
{
	static const struct { const char *name; double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 },
		{ "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
		*len = strlen(units[i].name);
		if (!strncmp(s, units[i].name, *len))
			return units[i].ns;
	}
	return 0;
}

/* time.ParseDuration for non-negative values, in nanoseconds; -1 if bad. */
static double go_duration_ns(const char *s)
{
	double total = 0;

	if (*s == '+')
		s++;
	if (!strcmp(s, "0"))
		return 0;
	if (!*s)
		return -1;
	while (*s) {
		const char *start = s;
		double v = 0, scale = 1, ns;
		size_t ulen;
		int digits = 0;
		for (; isdigit((unsigned char)*s); s++, digits++)
			v = v * 10 + (*s - '0');
		if (*s == '.')
			for (s++; isdigit((unsigned char)*s); s++, digits++)
				v += (*s - '0') * (scale /= 10);
		if (!digits || s == start)
			return -1;
		ns = unit_ns(s, &ulen);
		if (ns <= 0)
			return -1;
		total += v * ns;
		s += ulen;
	}
	return total;
}

long azl_parse_duration_ms(const char *s)
{
	double ns, ms;

	if (!s || !*s)
		return -1;
	/* ParseTimeout: a bare non-negative integer is seconds */
	if (isdigit((unsigned char)*s) || (*s == '+' && isdigit((unsigned char)s[1]))) {
		long secs;
		int r = azl_num_scan(s, 0, LONG_MAX / 1000, &secs);

		if (r != AZL_NUM_NAN)
			return r == AZL_NUM_OK ? secs * 1000 : -1;
	}
	ns = go_duration_ns(s);
	if (ns < 0 || ns / 1e6 >= AZL_NUM_TWO63)
		return -1;
	/* rounded up: a positive sub-millisecond timeout must not become "none" */
	ms = ns / 1e6;
	return (double)(long)ms < ms ? (long)ms + 1 : (long)ms;
}
