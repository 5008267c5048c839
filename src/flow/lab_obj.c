// SPDX-License-Identifier: MIT
/*
 * lab_obj.c: objects in and out of a lab (see lab_int.h). In: operators' manifests, one
 * object or a List per *.json file, checked as an API server would before anything is made
 * (kinds, names, duplicates, ports). Out: the api folder the agents read (flow/localsrc.c),
 * one file per object written atomically, each object as the API server would hold it:
 * namespaced objects get their namespace ("default" when the manifest had none), namespaces
 * their kubernetes.io/metadata.name label, pods the node they were placed on and, once
 * attached, status Running with their addresses. Then the generation is bumped and the
 * command waits until every agent reports it has applied it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../codec/json.h"
#include "../io/atomic.h"
#include "lab_int.h"

#define LABEL_NAME "kubernetes.io/metadata.name"
#define MANIFEST_MAX (16u << 20)

/* ---- loading ----------------------------------------------------------------------------- */

void lab_objs_free(struct lab_objs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		k8sobj_free(o->v[i].dec);
	for (i = 0; i < o->ndocs; i++)
		json_doc_free(o->docs[i]);
	mem_free(o->v);
	mem_free(o->docs);
	memset(o, 0, sizeof(*o));
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return 0;
	p = mem_realloc(*v, c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/* A DNS label (namespaces) or subdomain (other names), which also makes a safe file name. */
static bool dns_name(const char *s, bool label)
{
	size_t i, n = strlen(s);

	if (!n || n > (label ? LAB_NS_MAX : LAB_NAME_MAX) || s[0] == '-' || s[0] == '.' ||
	    s[n - 1] == '-' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      (s[i] == '.' && !label)))
			return false;
	return true;
}

static const char *kind_file(enum k8sobj_kind k)
{
	return k == K8SOBJ_POD ? "pod" : k == K8SOBJ_NAMESPACE ? "namespace" :
	       k == K8SOBJ_NODE ? "node" : "networkpolicy";
}

/* FNV-1a: a long name's stand-in in its file name. */
static uint64_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/*
 * <kind>-<ns>-<name>.json; a name that would make it longer than FILE_MAX (a file name has
 * 255 bytes, and atomic_write's temporary name adds ".tmp.<pid>.") is replaced by its hash.
 */
#define FILE_MAX 200

static int file_name(enum k8sobj_kind kind, const char *ns, const char *name, char *p, size_t n)
{
	char h[24];
	int k = snprintf(p, n, "%s%s%s-%s.json", kind_file(kind), *ns ? "-" : "", ns, name);

	if (k > FILE_MAX && (size_t)k < n) {
		snprintf(h, sizeof(h), "~%016llx", (unsigned long long)fnv(name));
		k = snprintf(p, n, "%s%s%s-%s.json", kind_file(kind), *ns ? "-" : "", ns, h);
	}
	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

int lab_api_path(const struct lab *l, enum k8sobj_kind kind, const char *ns, const char *name,
		 char *p, size_t n)
{
	char f[LAB_NS_MAX + LAB_NAME_MAX + 32];

	return file_name(kind, ns, name, f, sizeof(f)) ?: lab_path(l, p, n, "api/%s", f);
}

/* The rules an API server would apply before accepting the object. */
static int check_obj(struct lab_obj *ob, struct ebuf *eb)
{
	const struct k8sobj_pod *pod = k8sobj_pod(ob->dec);
	uint16_t ports[LAB_MAX_PORTS];
	unsigned n;
	int r;

	if (*ob->ns && !dns_name(ob->ns, true)) {
		ebuf_set(eb, "namespace \"%.64s\": not a DNS label", ob->ns);
		return -EINVAL;
	}
	if (!dns_name(ob->name, ob->kind == K8SOBJ_NAMESPACE)) {
		ebuf_set(eb, "name \"%.64s\": not a DNS %s", ob->name,
			 ob->kind == K8SOBJ_NAMESPACE ? "label" : "subdomain");
		return -EINVAL;
	}
	if (pod && pod->host_network) {
		ebuf_set(eb, "pod %s/%s: hostNetwork pods are not simulated", ob->ns, ob->name);
		return -EINVAL;
	}
	if (ob->kind == K8SOBJ_NETPOL && k8sobj_netpol(ob->dec)->invalid[0])
		log_warnx("%s: policy %s/%s is not valid (%s): the agents will enforce it as "
			  "deny-all", ob->where, ob->ns, ob->name, k8sobj_netpol(ob->dec)->invalid);
	if (pod && (r = lab_obj_ports(ob, ports, &n, eb)))
		return r;
	return file_name(ob->kind, ob->ns, ob->name, ob->file, sizeof(ob->file));
}

/* An object already loaded with the same api file: a duplicate, or (names with dashes) a
 * different object the file scheme cannot tell apart. */
static int check_dup(const struct lab_objs *o, const struct lab_obj *ob, struct ebuf *eb)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		const struct lab_obj *x = &o->v[i];

		if (strcmp(x->file, ob->file) != 0)
			continue;
		if (!strcmp(x->ns, ob->ns) && !strcmp(x->name, ob->name))
			ebuf_set(eb, "%s %s%s%s is also in %s", kind_file(ob->kind), ob->ns,
				 *ob->ns ? "/" : "", ob->name, x->where);
		else
			ebuf_set(eb, "%s %s/%s and %s/%s (%s) would share the api file %s: rename "
				 "one", kind_file(ob->kind), ob->ns, ob->name, x->ns, x->name,
				 x->where, ob->file);
		return -EINVAL;
	}
	return 0;
}

static int kind_known(const struct json *k, enum k8sobj_kind *kind)
{
	static const enum k8sobj_kind kinds[] = { K8SOBJ_NAMESPACE, K8SOBJ_POD, K8SOBJ_NETPOL,
						  K8SOBJ_NODE };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(k->str, k8sobj_kind_name(kinds[i]))) {
			*kind = kinds[i];
			return 0;
		}
	return -ENOENT;
}

static int load_one(struct lab_objs *o, const struct json *v, const char *where,
		    struct ebuf *eb)
{
	const struct json *k = json_get(v, "kind");
	struct lab_obj ob = { .v = v };
	int r;

	snprintf(ob.where, sizeof(ob.where), "%s", where);
	if (!json_is(k, JSON_STRING)) {
		ebuf_set(eb, "%s: no \"kind\"", where);
		return -EINVAL;
	}
	if (kind_known(k, &ob.kind)) {
		log_warnx("%s: skipping a %.40s (the lab runs Namespaces, Pods and "
			  "NetworkPolicies)", where, k->str);
		return 0;
	}
	if (ob.kind == K8SOBJ_NODE) {
		ebuf_set(eb, "%s: Node objects are the lab's own (use --nodes)", where);
		return -EINVAL;
	}
	r = k8sobj_decode(v, ob.kind, &ob.dec, eb);
	if (!r) {
		ob.name = ob.dec->name;
		ob.ns = ob.kind == K8SOBJ_NAMESPACE ? "" : *ob.dec->ns ? ob.dec->ns : "default";
		r = check_obj(&ob, eb);
	}
	if (!r)
		r = check_dup(o, &ob, eb);
	if (!r && (r = grow((void **)&o->v, &o->cap, o->n, sizeof(ob))))
		ebuf_set(eb, "out of memory");
	if (r) {
		ebuf_prefix(eb, "%s", where);
		k8sobj_free(ob.dec);
		return r;
	}
	o->v[o->n++] = ob;
	return 0;
}

static int load_doc(struct lab_objs *o, const char *text, size_t len, const char *what,
		    struct ebuf *eb)
{
	struct json_limits lim = { .max_bytes = MANIFEST_MAX };
	const struct json *root, *k, *items, *it;
	struct json_doc *doc = NULL;
	char where[96];
	size_t i = 0;
	int r;

	r = grow((void **)&o->docs, &o->capdocs, o->ndocs, sizeof(*o->docs));
	if (!r)
		r = json_parse(text, len, &lim, &doc, eb);
	if (r) {
		ebuf_prefix(eb, "%s", what);
		return r;
	}
	o->docs[o->ndocs++] = doc;
	root = json_root(doc);
	k = json_get(root, "kind");
	if (!json_is(k, JSON_STRING) || k->len < 4 || strcmp(k->str + k->len - 4, "List"))
		return load_one(o, root, what, eb);
	items = json_get(root, "items");
	if (items && !json_is(items, JSON_ARRAY) && !json_is(items, JSON_NULL)) {
		ebuf_set(eb, "%s: items: expected an array", what);
		return -EINVAL;
	}
	json_for_each(it, items) {
		snprintf(where, sizeof(where), "%.60s items[%zu]", what, i++);
		r = load_one(o, it, where, eb);
		if (r)
			return r;
	}
	return 0;
}

int lab_objs_text(struct lab_objs *o, const char *text, size_t len, const char *what,
		  struct ebuf *eb)
{
	return load_doc(o, text, len, what, eb);
}

int lab_objs_file(struct lab_objs *o, const char *path, struct ebuf *eb)
{
	const char *base = strrchr(path, '/');
	char *text = NULL;
	size_t len;
	int r;

	r = read_file_alloc(path, MANIFEST_MAX, &text, &len);
	if (r) {
		ebuf_set(eb, "%s: %s", path, r == -EFBIG ? "larger than 16 MiB" :
			 r == -EINVAL ? "not a regular file" : strerror(-r));
		return r;
	}
	r = load_doc(o, text, len, base && base[1] ? base + 1 : path, eb);
	mem_free(text);
	return r;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int json_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

int lab_objs_dir(struct lab_objs *o, const char *dir, struct ebuf *eb)
{
	struct dirent **list = NULL;
	char path[PATH_MAX];
	int n, i, r = 0;

	n = scandir(dir, &list, json_file, by_name);
	if (n < 0) {
		ebuf_set(eb, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (n == 0) {
		ebuf_set(eb, "%s holds no *.json manifest", dir);
		r = -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!r && (size_t)snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) >=
			  sizeof(path))
			r = -ENAMETOOLONG;
		if (!r)
			r = lab_objs_file(o, path, eb);
		free(list[i]);
	}
	free(list);
	return r;
}

const char *lab_obj_node(const struct lab_obj *o)
{
	const struct k8sobj_pod *p = k8sobj_pod(o->dec);

	return p ? p->node_name : "";
}

static int u16_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int lab_obj_ports(const struct lab_obj *o, uint16_t *ports, unsigned *n, struct ebuf *eb)
{
	const struct k8sobj_pod *p = k8sobj_pod(o->dec);
	uint32_t i;
	unsigned k = 0;

	for (i = 0; p && i < p->nports; i++) {
		unsigned j;

		for (j = 0; j < k && ports[j] != p->ports[i].port; j++)
			;
		if (j < k)
			continue;
		if (k == LAB_MAX_PORTS) {
			ebuf_set(eb, "pod %s/%s: more than %d distinct containerPorts", o->ns,
				 o->name, LAB_MAX_PORTS);
			return -E2BIG;
		}
		ports[k++] = p->ports[i].port;
	}
	qsort(ports, k, sizeof(*ports), u16_cmp);
	*n = k;
	return 0;
}

/* ---- writing ----------------------------------------------------------------------------- */

struct patch {
	const char *ns;			/* metadata.namespace to set, or NULL */
	const char *label;		/* a Namespace: its name for LABEL_NAME, or NULL */
	const struct lab_pod *pod;	/* a Pod: node and status */
};

static void emit_labels(struct jw *w, const struct json *labels, const char *name)
{
	const struct json *m;

	jw_obj_begin(w);
	json_for_each(m, json_is(labels, JSON_OBJECT) ? labels : NULL)
		if (strcmp(m->key, LABEL_NAME) != 0) {
			jw_key(w, m->key);
			jw_value(w, m);
		}
	jw_kstr(w, LABEL_NAME, name);
	jw_obj_end(w);
}

static void emit_meta(struct jw *w, const struct json *meta, const struct patch *p)
{
	const struct json *m;

	jw_obj_begin(w);
	json_for_each(m, meta) {
		if ((p->ns && !strcmp(m->key, "namespace")) ||
		    (p->label && !strcmp(m->key, "labels")))
			continue;
		jw_key(w, m->key);
		jw_value(w, m);
	}
	if (p->ns)
		jw_kstr(w, "namespace", p->ns);
	if (p->label) {
		jw_key(w, "labels");
		emit_labels(w, json_get(meta, "labels"), p->label);
	}
	jw_obj_end(w);
}

static void emit_spec(struct jw *w, const struct json *spec, const struct lab_pod *pod)
{
	const struct json *m;

	jw_obj_begin(w);
	json_for_each(m, json_is(spec, JSON_OBJECT) ? spec : NULL)
		if (strcmp(m->key, "nodeName") != 0) {
			jw_key(w, m->key);
			jw_value(w, m);
		}
	jw_kstr(w, "nodeName", pod->node);
	jw_obj_end(w);
}

static void emit_status(struct jw *w, const struct lab_pod *pod)
{
	char a[IPADDR_STRLEN];
	bool first = true;
	int i;

	jw_obj_begin(w);
	jw_kstr(w, "phase", pod->attached ? "Running" : "Pending");
	for (i = 0; i < 2 && pod->attached; i++) {
		if (!pod->ip[i].family || ipaddr_format(&pod->ip[i], a, sizeof(a)))
			continue;
		if (first) {
			jw_kstr(w, "podIP", a);
			jw_key(w, "podIPs");
			jw_arr_begin(w);
		}
		first = false;
		jw_obj_begin(w);
		jw_kstr(w, "ip", a);
		jw_obj_end(w);
	}
	if (!first)
		jw_arr_end(w);
	jw_obj_end(w);
}

static void emit_obj(struct jw *w, const struct json *v, const struct patch *p)
{
	const struct json *m;

	jw_obj_begin(w);
	json_for_each(m, v) {
		if (p->pod && (!strcmp(m->key, "spec") || !strcmp(m->key, "status")))
			continue;
		jw_key(w, m->key);
		if (!strcmp(m->key, "metadata"))
			emit_meta(w, m, p);
		else
			jw_value(w, m);
	}
	if (p->pod) {
		jw_key(w, "spec");
		emit_spec(w, json_get(v, "spec"), p->pod);
		jw_key(w, "status");
		emit_status(w, p->pod);
	}
	jw_obj_end(w);
}

static int write_api(struct lab *l, enum k8sobj_kind kind, const char *ns, const char *name,
		     struct jw *w, struct ebuf *eb)
{
	char path[PATH_MAX];
	int r = jw_finish(w);

	if (!r)
		r = buf_addc(w->b, '\n');
	if (!r)
		r = lab_api_path(l, kind, ns, name, path, sizeof(path));
	if (!r && (r = atomic_write(path, w->b->p, w->b->len, 0644)))
		ebuf_set(eb, "cannot write %s: %s", path, strerror(-r));
	else if (r)
		ebuf_set(eb, "%s %s/%s: cannot encode: %s", kind_file(kind), ns, name,
			 strerror(-r));
	buf_free(w->b);
	return r;
}

int lab_obj_write(struct lab *l, const struct lab_obj *o, const struct lab_pod *p,
		  struct ebuf *eb)
{
	struct patch pt = { .ns = *o->ns ? o->ns : NULL, .pod = p };
	struct buf b = BUF_INIT;
	struct jw w;

	if (o->kind == K8SOBJ_NAMESPACE)
		pt.label = o->name;
	jw_init(&w, &b);
	emit_obj(&w, o->v, &pt);
	return write_api(l, o->kind, o->ns, o->name, &w, eb);
}

int lab_ns_write(struct lab *l, const char *ns, struct ebuf *eb)
{
	struct buf b = BUF_INIT;
	struct jw w;

	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "kind", "Namespace");
	jw_kstr(&w, "apiVersion", "v1");
	jw_key(&w, "metadata");
	jw_obj_begin(&w);
	jw_kstr(&w, "name", ns);
	jw_key(&w, "labels");
	emit_labels(&w, NULL, ns);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return write_api(l, K8SOBJ_NAMESPACE, "", ns, &w, eb);
}

static void emit_node_status(struct jw *w, const struct lab_node *n)
{
	char a[2][32];
	int i;

	snprintf(a[0], sizeof(a[0]), "192.168.86.%u", n->idx);
	snprintf(a[1], sizeof(a[1]), "fd86::%x", n->idx);
	jw_obj_begin(w);
	jw_key(w, "addresses");
	jw_arr_begin(w);
	for (i = 0; i < 2; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "type", "InternalIP");
		jw_kstr(w, "address", a[i]);
		jw_obj_end(w);
	}
	jw_obj_begin(w);
	jw_kstr(w, "type", "Hostname");
	jw_kstr(w, "address", n->name);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
}

int lab_node_write(struct lab *l, const struct lab_node *n, struct ebuf *eb)
{
	struct buf b = BUF_INIT;
	char c[2][32];
	struct jw w;

	snprintf(c[0], sizeof(c[0]), "10.244.%u.0/24", n->idx);
	snprintf(c[1], sizeof(c[1]), "fd00:10:244:%x::/64", n->idx);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "kind", "Node");
	jw_kstr(&w, "apiVersion", "v1");
	jw_key(&w, "metadata");
	jw_obj_begin(&w);
	jw_kstr(&w, "name", n->name);
	jw_key(&w, "labels");
	jw_obj_begin(&w);
	jw_kstr(&w, "kubernetes.io/hostname", n->name);
	jw_kstr(&w, "kubernetes.io/os", "linux");
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_key(&w, "spec");
	jw_obj_begin(&w);
	jw_kstr(&w, "podCIDR", c[0]);
	jw_key(&w, "podCIDRs");
	jw_arr_begin(&w);
	jw_str(&w, c[0]);
	jw_str(&w, c[1]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_key(&w, "status");
	emit_node_status(&w, n);
	jw_obj_end(&w);
	return write_api(l, K8SOBJ_NODE, "", n->name, &w, eb);
}

int lab_api_remove(struct lab *l, enum k8sobj_kind kind, const char *ns, const char *name,
		   struct ebuf *eb)
{
	char path[PATH_MAX];
	int r = lab_api_path(l, kind, ns, name, path, sizeof(path));

	if (!r && unlink(path) < 0 && errno != ENOENT) {
		r = -errno;
		ebuf_set(eb, "cannot remove %s: %s", path, strerror(-r));
	}
	return r;
}
