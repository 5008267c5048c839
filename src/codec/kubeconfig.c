// SPDX-License-Identifier: MIT
/*
 * kubeconfig.c: kubeconfig files (see kubeconfig.h) in two steps. First the text becomes a
 * tree (struct yaml_node: null, string, mapping, sequence), from YAML through codec/yaml or
 * from JSON through codec/json; then a table-driven walk copies the fields we know into
 * struct kubeconfig and skips the rest, so exec plugins and other extensions cost nothing.
 * This file owns that schema, the JSON-to-tree step, and choosing a cluster and user
 * (kubeconfig_resolve).
 *
 * Secrets: strings that reach the result are moved out of the tree, not copied; the tree
 * wipes the rest when freed (yaml_free), and the JSON DOM is wiped here before it is freed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "b64.h"
#include "json.h"
#include "kubeconfig.h"
#include "yaml.h"

/* The error path holds one segment per level; codec/yaml sizes it for YAML_MAX_DEPTH. */
_Static_assert(KUBECONFIG_MAX_DEPTH <= YAML_MAX_DEPTH, "kubeconfig nests deeper than yaml");

#define fail(c, off, ...) yaml_fail(c, -EINVAL, off, __VA_ARGS__)

/* ---- errors ---------------------------------------------------------------------------- */

/* Key names an error may show; any other key could be a misplaced secret and shows as "?". */
static const char *const kc_known_keys[] = {
	"apiVersion", "kind", "preferences", "clusters", "users", "contexts", "current-context",
	"extensions", "extension", "name", "cluster", "user", "context", "server",
	"certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
	"tls-server-name", "proxy-url", "disable-compression", "client-certificate",
	"client-certificate-data", "client-key", "client-key-data", "token", "tokenFile", "exec",
	"command", "args", "env", "value", "installHint", "provideClusterInfo",
	"interactiveMode", "auth-provider", "config", "username", "password", "as", "as-uid",
	"as-groups", "as-user-extra", "namespace", "colors",
};

static bool known_key(const char *k)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kc_known_keys); i++) {
		if (strcmp(k, kc_known_keys[i]) == 0)
			return true;
	}
	return false;
}

/* ---- text to tree ---------------------------------------------------------------------- */

static int parse_yaml(struct yaml_report *c, const char *p, size_t n, struct yaml_node **root)
{
	static const struct yaml_opts opts = { KUBECONFIG_MAX_DEPTH, KUBECONFIG_MAX_NODES,
					       known_key };

	/* schema errors then show line:column too; a failed JSON attempt may have gone first */
	c->p = p;
	c->n = n;
	c->npath = 0;
	return yaml_parse(p, n, &opts, root, c->eb);
}

/* No node limit here: json_parse() already bounds the DOM at KUBECONFIG_MAX_NODES values. */
static int json_node(struct yaml_report *c, enum yaml_type t, struct yaml_node **out)
{
	*out = yaml_node_new(t, YAML_NOPOS);
	return *out ? 0 : yaml_nomem(c);
}

static int json_scalar(struct yaml_report *c, const struct json *j, struct yaml_node **out)
{
	const char *s = j->type == JSON_TRUE ? "true" : j->type == JSON_FALSE ? "false" : j->str;
	size_t n = j->type == JSON_TRUE ? 4 : j->type == JSON_FALSE ? 5 : j->len;
	char *dup;
	int r;

	if (json_str_has_nul(j))
		return fail(c, YAML_NOPOS, "NUL character in a string");
	dup = mem_strndup(s, n);
	if (!dup)
		return yaml_nomem(c);
	r = json_node(c, YAML_STR, out);
	if (r) {
		yaml_wipe_free(dup, n);
		return r;
	}
	(*out)->s = dup;
	(*out)->n = n;
	(*out)->plain = j->type != JSON_STRING;
	return 0;
}

/* The JSON DOM as a tree; depth is bounded by the parser's limit. */
static int from_json(struct yaml_report *c, const struct json *j, struct yaml_node **out)
{
	const struct json *it;
	struct yaml_node *y = NULL, *v, **tail;
	int r;

	if (j->type == JSON_NULL)
		return json_node(c, YAML_NULL, out);
	if (j->type != JSON_ARRAY && j->type != JSON_OBJECT)
		return json_scalar(c, j, out);
	r = json_node(c, j->type == JSON_ARRAY ? YAML_SEQ : YAML_MAP, &y);
	tail = y ? &y->child : NULL;
	for (it = r ? NULL : j->child; it; it = it->next) {
		if (it->key && strlen(it->key) != it->keylen) {
			r = fail(c, YAML_NOPOS, "NUL character in a key");
			break;
		}
		if (it->key)
			yaml_push_key(c, it->key);
		else
			yaml_push_idx(c, y->count);
		r = from_json(c, it, &v);
		yaml_pop(c);
		if (r)
			break;
		if (it->key && !(v->key = mem_strndup(it->key, it->keylen))) {
			yaml_free(v);
			r = yaml_nomem(c);
			break;
		}
		yaml_append(y, &tail, v);
	}
	if (r)
		yaml_free(y);
	else
		*out = y;
	return r;
}

/* json_doc_free() does not wipe; the DOM is one heap block, so its strings are ours to clear. */
static void json_wipe(const struct json *j)
{
	const struct json *it;

	if (j->type == JSON_STRING && j->len)
		explicit_bzero((char *)j->str, j->len);
	json_for_each(it, j)
		json_wipe(it);
}

static int parse_json(struct yaml_report *c, const char *p, size_t n, size_t off,
		      struct yaml_node **root)
{
	struct json_limits lim = { KUBECONFIG_MAX_DEPTH, KUBECONFIG_MAX_BYTES, KUBECONFIG_MAX_NODES };
	struct json_doc *doc = NULL;
	struct ebuf jeb = { "" };
	size_t at, line, col;
	char *rest;
	int r;

	r = json_parse(p + off, n - off, &lim, &doc, &jeb);
	if (r) {
		/* restate "offset N: why" as line:column, like the YAML errors */
		at = strncmp(jeb.msg, "offset ", 7) ? YAML_NOPOS : strtoul(jeb.msg + 7, &rest, 10);
		if (at == YAML_NOPOS || strncmp(rest, ": ", 2)) {
			ebuf_set(c->eb, "%s", jeb.msg);
			return r;
		}
		yaml_line_col(p, n, off + at, &line, &col);
		ebuf_set(c->eb, "line %zu:%zu: %s", line, col, rest + 2);
		return r;
	}
	c->p = NULL;            /* the tree has no offsets: errors show the key path only */
	r = from_json(c, json_root(doc), root);
	json_wipe(json_root(doc));
	json_doc_free(doc);
	return r;
}

/* ---- schema ---------------------------------------------------------------------------- */

enum ftype { F_STR, F_DATA, F_BOOL, F_PLUGIN, F_OBJ, F_LIST };

struct field {
	const char *key;
	enum ftype type;
	size_t off, len_off;             /* into the struct being filled */
	const struct field *sub;         /* F_OBJ: fields of the same struct; F_LIST: entry */
	size_t nsub, size;               /* F_LIST: entry struct size */
};

#define FIELD(k, t, T, m) { k, t, offsetof(T, m), 0, NULL, 0, 0 }
#define DATA(k, T, m, l) { k, F_DATA, offsetof(T, m), offsetof(T, l), NULL, 0, 0 }
#define OBJ(k, f) { k, F_OBJ, 0, 0, f, ARRAY_SIZE(f), 0 }
#define LIST(k, T, a, n, f)                                                          \
	{ k, F_LIST, offsetof(struct kubeconfig, a), offsetof(struct kubeconfig, n), f, \
	  ARRAY_SIZE(f), sizeof(T) }

#define CL struct kubeconfig_cluster
#define US struct kubeconfig_user
#define CX struct kubeconfig_context

static const struct field cluster_fields[] = {
	FIELD("server", F_STR, CL, server),
	FIELD("certificate-authority", F_STR, CL, ca_file),
	DATA("certificate-authority-data", CL, ca_data, ca_len),
	FIELD("insecure-skip-tls-verify", F_BOOL, CL, insecure),
	FIELD("tls-server-name", F_STR, CL, tls_server_name),
	FIELD("proxy-url", F_STR, CL, proxy_url),
};

static const struct field user_fields[] = {
	FIELD("token", F_STR, US, token),
	FIELD("tokenFile", F_STR, US, token_file),
	FIELD("client-certificate", F_STR, US, cert_file),
	FIELD("client-key", F_STR, US, key_file),
	DATA("client-certificate-data", US, cert_data, cert_len),
	DATA("client-key-data", US, key_data, key_len),
	FIELD("exec", F_PLUGIN, US, has_exec),
	FIELD("auth-provider", F_PLUGIN, US, has_exec),
};

static const struct field context_fields[] = {
	FIELD("cluster", F_STR, CX, cluster),
	FIELD("user", F_STR, CX, user),
	FIELD("namespace", F_STR, CX, ns),
};

/* Every entry struct starts with its name, which the duplicate check and resolve rely on. */
_Static_assert(offsetof(CL, name) == 0 && offsetof(US, name) == 0 && offsetof(CX, name) == 0,
	       "name first");

static const struct field cluster_entry[] = { FIELD("name", F_STR, CL, name),
					      OBJ("cluster", cluster_fields) };
static const struct field user_entry[] = { FIELD("name", F_STR, US, name),
					   OBJ("user", user_fields) };
static const struct field context_entry[] = { FIELD("name", F_STR, CX, name),
					      OBJ("context", context_fields) };

static const struct field top_fields[] = {
	LIST("clusters", CL, clusters, nclusters, cluster_entry),
	LIST("users", US, users, nusers, user_entry),
	LIST("contexts", CX, contexts, ncontexts, context_entry),
	FIELD("current-context", F_STR, struct kubeconfig, current_context),
};

static int fill(struct yaml_report *c, struct yaml_node *map, const struct field *f, size_t nf,
		char *obj);

static int get_str(struct yaml_report *c, struct yaml_node *v, char **dst)
{
	if (v->type == YAML_NULL)
		return 0;
	if (v->type != YAML_STR)
		return fail(c, v->off, "expected a string");
	if (v->n) {
		*dst = v->s;
		v->s = NULL;
	}
	return 0;
}

static int get_bool(struct yaml_report *c, struct yaml_node *v, bool *dst)
{
	static const char *const words[] = { "false", "False", "FALSE", "no", "No", "NO", "off",
					     "Off", "OFF", "true", "True", "TRUE", "yes", "Yes",
					     "YES", "on", "On", "ON" };
	size_t i;

	if (v->type == YAML_NULL)
		return 0;
	for (i = 0; v->type == YAML_STR && v->plain && i < ARRAY_SIZE(words); i++) {
		if (!strcmp(v->s, words[i])) {
			*dst = i >= ARRAY_SIZE(words) / 2;
			return 0;
		}
	}
	return fail(c, v->off, "expected true or false");
}

static int get_data(struct yaml_report *c, struct yaml_node *v, unsigned char **dst, size_t *len)
{
	size_t max, got = 0, bad = 0;
	unsigned char *d;

	if (v->type == YAML_NULL)
		return 0;
	if (v->type != YAML_STR)
		return fail(c, v->off, "expected a base64 string");
	max = B64_DECODED_MAX(v->n);
	d = mem_alloc(max + 1);
	if (!d)
		return yaml_nomem(c);
	if (b64_decode(v->s, v->n, d, max, &got, &bad)) {
		yaml_wipe_free(d, max + 1);
		return fail(c, v->off, "invalid base64 at character %zu of the value", bad + 1);
	}
	if (!got) {
		mem_free(d);
		return 0;
	}
	d[got] = '\0';
	*dst = d;
	*len = got;
	return 0;
}

static int walk_list(struct yaml_report *c, struct yaml_node *seq, const struct field *f, char *obj)
{
	char **names, *entry;
	struct yaml_node *it;
	size_t i = 0, j;
	int r;

	if (seq->type == YAML_NULL)
		return 0;
	if (seq->type != YAML_SEQ)
		return fail(c, seq->off, "expected a sequence");
	if (seq->count > KUBECONFIG_MAX_ENTRIES)
		return yaml_fail(c, -E2BIG, seq->off, "more than %u entries",
				 KUBECONFIG_MAX_ENTRIES);
	if (!seq->count)
		return 0;
	entry = mem_calloc(seq->count, f->size);
	if (!entry)
		return yaml_nomem(c);
	/* owned by the result at once, so its free cleans up half-filled entries too */
	*(char **)(obj + f->off) = entry;
	*(size_t *)(obj + f->len_off) = seq->count;
	for (it = seq->child; it; it = it->next, i++, entry += f->size) {
		yaml_push_idx(c, i);
		r = it->type == YAML_MAP ? fill(c, it, f->sub, f->nsub, entry) :
					fail(c, it->off, "expected a mapping");
		names = (char **)(void *)entry;
		if (!r && !*names)
			r = fail(c, it->off, "no name");
		for (j = 0; !r && j < i; j++) {
			if (!strcmp(*names, *(char **)(void *)(entry - (i - j) * f->size)))
				r = fail(c, it->off, "same name as entry %zu", j);
		}
		yaml_pop(c);
		if (r)
			return r;
	}
	return 0;
}

static int set_field(struct yaml_report *c, struct yaml_node *v, const struct field *f, char *obj)
{
	switch (f->type) {
	case F_STR:
		return get_str(c, v, (char **)(void *)(obj + f->off));
	case F_DATA:
		return get_data(c, v, (unsigned char **)(void *)(obj + f->off),
				(size_t *)(void *)(obj + f->len_off));
	case F_BOOL:
		return get_bool(c, v, (bool *)(obj + f->off));
	case F_PLUGIN:
		*(bool *)(obj + f->off) |= v->type != YAML_NULL;
		return 0;
	case F_OBJ:
		return fill(c, v, f->sub, f->nsub, obj);
	case F_LIST:
		return walk_list(c, v, f, obj);
	}
	return 0;
}

/* Copy the known members of a mapping into obj; unknown ones are skipped whatever they hold. */
static int fill(struct yaml_report *c, struct yaml_node *map, const struct field *f, size_t nf,
		char *obj)
{
	uint32_t seen = 0;
	struct yaml_node *m;
	size_t i;
	int r;

	if (map->type == YAML_NULL)
		return 0;
	if (map->type != YAML_MAP)
		return fail(c, map->off, "expected a mapping");
	for (m = map->child; m; m = m->next) {
		for (i = 0; i < nf && strcmp(m->key, f[i].key); i++)
			;
		if (i == nf)
			continue;
		yaml_push_key(c, f[i].key);
		if (seen & (1u << i))
			r = fail(c, m->koff, "duplicate key");
		else
			r = set_field(c, m, &f[i], obj);
		yaml_pop(c);
		if (r)
			return r;
		seen |= 1u << i;
	}
	return 0;
}

/* ---- API ------------------------------------------------------------------------------- */

int kubeconfig_parse(const char *p, size_t n, struct kubeconfig **out, struct ebuf *eb)
{
	struct yaml_report c = { .key_shown = known_key, .eb = eb };
	struct kubeconfig *kc = NULL;
	struct yaml_node *root = NULL;
	struct ebuf jeb;
	size_t i = 0;
	bool json;
	int r;

	*out = NULL;
	if (n > KUBECONFIG_MAX_BYTES)
		return yaml_fail(&c, -E2BIG, YAML_NOPOS,
				 "input of %zu bytes is over the limit of %u", n, KUBECONFIG_MAX_BYTES);
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {
		p += 3;
		n -= 3;
	}
	while (i < n && p[i] && strchr(" \t\r\n", p[i]))
		i++;
	json = i < n && p[i] == '{';
	r = json ? parse_json(&c, p, n, i, &root) : parse_yaml(&c, p, n, &root);
	if (r == -EINVAL && json) {
		/* "{current-context: x}" is YAML too; if that fails as well, JSON's reason stands */
		if (eb)
			jeb = *eb;
		r = parse_yaml(&c, p, n, &root);
		if (r && eb)
			*eb = jeb;
	}
	if (r)
		goto out;
	kc = mem_calloc(1, sizeof(*kc));
	if (!kc) {
		r = yaml_nomem(&c);
		goto out;
	}
	r = fill(&c, root, top_fields, ARRAY_SIZE(top_fields), (char *)kc);
	if (r)
		goto out;
	*out = kc;
	kc = NULL;
out:
	kubeconfig_free(kc);
	yaml_free(root);
	return r;
}

void kubeconfig_free(struct kubeconfig *kc)
{
	struct kubeconfig_cluster *cl;
	struct kubeconfig_user *u;
	struct kubeconfig_context *x;

	if (!kc)
		return;
	for (cl = kc->clusters; cl && cl < kc->clusters + kc->nclusters; cl++) {
		mem_free(cl->name);
		mem_free(cl->server);
		mem_free(cl->ca_file);
		mem_free(cl->tls_server_name);
		mem_free(cl->proxy_url);
		mem_free(cl->ca_data);
	}
	for (u = kc->users; u && u < kc->users + kc->nusers; u++) {
		mem_free(u->name);
		yaml_wipe_free(u->token, u->token ? strlen(u->token) : 0);
		mem_free(u->token_file);
		mem_free(u->cert_file);
		mem_free(u->key_file);
		mem_free(u->cert_data);
		yaml_wipe_free(u->key_data, u->key_len);
	}
	for (x = kc->contexts; x && x < kc->contexts + kc->ncontexts; x++) {
		mem_free(x->name);
		mem_free(x->cluster);
		mem_free(x->user);
		mem_free(x->ns);
	}
	mem_free(kc->clusters);
	mem_free(kc->users);
	mem_free(kc->contexts);
	mem_free(kc->current_context);
	mem_free(kc);
}

/* A name as an error shows it: printable ASCII, at most 64 bytes. */
static const char *shown(const char *s, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i < 64 && i + 4 < cap; i++)
		buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

static const void *find_named(const void *arr, size_t n, size_t size, const char *name)
{
	const char *e = arr;
	size_t i;

	for (i = 0; i < n; i++, e += size) {
		if (!strcmp(*(char *const *)(const void *)e, name))
			return e;
	}
	return NULL;
}

static int pick_context(const struct kubeconfig *kc, const char *name,
			const struct kubeconfig_context **ctx, struct ebuf *eb)
{
	char b[72];

	if (!name && kc->current_context)
		name = kc->current_context;
	if (name) {
		*ctx = find_named(kc->contexts, kc->ncontexts, sizeof(**ctx), name);
		if (!*ctx)
			ebuf_set(eb, "context \"%s\" not found", shown(name, b, sizeof(b)));
	} else if (kc->ncontexts == 1) {
		*ctx = kc->contexts;
	} else if (kc->ncontexts > 1) {
		ebuf_set(eb, "no current-context, and %zu contexts to choose from", kc->ncontexts);
	} else if (kc->nclusters != 1) {
		ebuf_set(eb, "no contexts, and %zu clusters to choose from", kc->nclusters);
	}
	return *ctx || (!name && !kc->ncontexts && kc->nclusters == 1) ? 0 : -ENOENT;
}

int kubeconfig_resolve(const struct kubeconfig *kc, const char *context,
		       const struct kubeconfig_cluster **cluster,
		       const struct kubeconfig_user **user, struct ebuf *eb)
{
	const struct kubeconfig_context *ctx = NULL;
	const struct kubeconfig_cluster *cl = NULL;
	const struct kubeconfig_user *u = NULL;
	char b1[72], b2[72];

	if (!kc) {
		ebuf_set(eb, "no kubeconfig");
		return -EINVAL;
	}
	if (pick_context(kc, context && *context ? context : NULL, &ctx, eb))
		return -ENOENT;
	if (!ctx) {
		cl = kc->clusters;
	} else if (!ctx->cluster) {
		ebuf_set(eb, "context \"%s\" names no cluster", shown(ctx->name, b1, sizeof(b1)));
		return -ENOENT;
	} else if (!(cl = find_named(kc->clusters, kc->nclusters, sizeof(*cl), ctx->cluster))) {
		ebuf_set(eb, "cluster \"%s\" of context \"%s\" not found",
			 shown(ctx->cluster, b1, sizeof(b1)), shown(ctx->name, b2, sizeof(b2)));
		return -ENOENT;
	}
	if (ctx && ctx->user && !(u = find_named(kc->users, kc->nusers, sizeof(*u), ctx->user))) {
		ebuf_set(eb, "user \"%s\" of context \"%s\" not found",
			 shown(ctx->user, b1, sizeof(b1)), shown(ctx->name, b2, sizeof(b2)));
		return -ENOENT;
	}
	if (!cl->server) {
		ebuf_set(eb, "cluster \"%s\" has no server", shown(cl->name, b1, sizeof(b1)));
		return -ENOENT;
	}
	*cluster = cl;
	*user = u;
	return 0;
}
